r"""Resampling inference for event studies: a wild bootstrap and a permutation test.

Both functions take a finished :class:`~oilimpact.eventstudy.result.EventStudyResult`
and use only its public tables (``res.car``, ``res.resid``, ``res.params``,
``res.alignment``): the CAR of a window, its PE-corrected t statistic and standard error,
and each pair's estimation-window residuals on their calendar dates. They add a
p-value that does not rest on normal disturbances, with its Monte Carlo standard error.

* :func:`wild_bootstrap`: the null imposed, the event window's disturbances are drawn
  from the estimation residuals (whole calendar dates) and multiplied by wild weights
  (Rademacher or Mammen); per pair (the CAR t test) and pooled (the CAAR of all pairs,
  the same dates and the same weight for every pair that shares an event date).
* :func:`permutation_test`: the CAR at the actual date against the CARs at pseudo-event
  dates inside the estimation period, per pair and pooled (pseudo-dates shared by the
  pairs of one event date).

Formulas, defaults and the measured size are in ``docs/methods-resampling.md``. On the
command line, ``oilimpact study brent wti --event blockade --bootstrap 999 --permutation
all`` runs both over every CAR window of the study (``--weights mammen``; ``--seed``,
default 0 there).

Examples
--------
On the seeded demo prices (offline):

>>> import oilimpact as oi
>>> from oilimpact.demo import demo_dataset
>>> from oilimpact.eventstudy.resampling import wild_bootstrap, permutation_test
>>> prices = demo_dataset().prices[["brent", "wti", "sp500"]]
>>> res = oi.event_study(prices, ["blockade"], market="sp500")
>>> wb = wild_bootstrap(res, window=(0, 1), B=999, seed=1)
>>> wb[["scope", "series", "window", "B"]].to_string(index=False)
' scope    series  window   B\n  pair     brent [+0,+1] 999\n  pair       wti [+0,+1] 999\npooled brent,wti [+0,+1] 999'
>>> bool((wb["pvalue"] > 0).all() and (wb["pvalue"] <= 1).all())
True
>>> pt = permutation_test(res, window=(0, 1), seed=1)
>>> pt["exhaustive"].tolist()       # every pseudo-date of the estimation period was used
[True, True, True]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from ..errors import EstimationError, InputError
from .result import window_label

if TYPE_CHECKING:  # pragma: no cover
    from .result import EventStudyResult

__all__ = [
    "DEFAULT_B",
    "MIN_B",
    "WeightKind",
    "mammen_weights",
    "permutation_test",
    "rademacher_weights",
    "wild_bootstrap",
]

WeightKind = Literal["rademacher", "mammen"]

#: Default number of bootstrap draws: ``alpha (B + 1)`` is an integer for alpha = 5% and
#: 1%, so the rank p-value can attain them exactly (Davidson and MacKinnon 2000), and the
#: Monte Carlo standard error at p = 0.05 is 0.0069.
DEFAULT_B = 999

#: Fewest draws accepted: with fewer than 99 the smallest p-value, 2 / (B + 1), is
#: above 2% and a 1% test can never reject.
MIN_B = 99

#: Fewest reference dates (estimation residuals) a pair or an event date needs.
MIN_REFERENCE_DATES = 20

_SQRT5 = np.sqrt(5.0)


def rademacher_weights(size: int | tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Rademacher weights: +1 or -1 with probability 1/2 each (mean 0, variance 1).

    Examples
    --------
    >>> w = rademacher_weights(100_000, np.random.default_rng(0))
    >>> sorted(set(w.tolist())), abs(float(w.mean())) < 0.01
    ([-1.0, 1.0], True)
    """
    return rng.integers(0, 2, size=size).astype("float64") * 2.0 - 1.0


def mammen_weights(size: int | tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    r"""Mammen's (1993) two-point weights: mean 0, variance 1, third moment 1.

    :math:`v = -(\sqrt5 - 1)/2` with probability :math:`(\sqrt5 + 1)/(2\sqrt5)`, else
    :math:`(\sqrt5 + 1)/2`; a residual times ``v`` keeps the residual's skewness.

    Examples
    --------
    >>> w = mammen_weights(400_000, np.random.default_rng(0))
    >>> [round(float(np.mean(w**k)), 2) for k in (1, 2, 3)]
    [0.0, 1.0, 1.0]
    """
    low = -(_SQRT5 - 1.0) / 2.0
    high = (_SQRT5 + 1.0) / 2.0
    p_low = (_SQRT5 + 1.0) / (2.0 * _SQRT5)
    return np.where(rng.random(size) < p_low, low, high)


_WEIGHTS = {"rademacher": rademacher_weights, "mammen": mammen_weights}


# ---- reading the result --------------------------------------------------------------
@dataclass(frozen=True)
class _Pair:
    """What the resampling needs of one (event, series) pair for one window."""

    event: str
    series: str
    day0: pd.Timestamp
    car: float
    tstat: float
    pe_factor: float  # (se / sigma)^2 = g'(I + X*(X'X)^-1 X*')g
    n_params: int
    resid: pd.Series  # estimation residuals by date, sorted


def _check_window(res: EventStudyResult, window: tuple[int, int]) -> tuple[int, int]:
    """``window`` as ints, or an error listing the windows the result has."""
    try:
        a, b = (int(window[0]), int(window[1]))
    except (TypeError, ValueError, IndexError) as exc:
        raise InputError(
            f"window must be a pair of relative days like (0, 1), got {window!r}"
        ) from exc
    have = sorted({(int(s), int(e)) for s, e in zip(res.car["start"], res.car["end"], strict=True)})
    if (a, b) not in have:
        labels = ", ".join(window_label(*w) for w in have) or "none"
        raise InputError(
            f"window {window_label(a, b)} is not in the result (it has {labels}); "
            f"run event_study with event_windows including ({a}, {b})"
        )
    return a, b


def _names(value: str | Sequence[str] | None) -> list[str] | None:
    """A name or names as a list (``None`` stays ``None``: no restriction)."""
    return None if value is None else [value] if isinstance(value, str) else [str(v) for v in value]


def _pairs(
    res: EventStudyResult,
    window: tuple[int, int],
    event: str | Sequence[str] | None = None,
    series: str | Sequence[str] | None = None,
) -> list[_Pair]:
    """The pairs of ``window`` with a finite CAR, standard error and residuals.

    ``event`` and ``series`` (a name or names) restrict the pairs before any residual is
    read (a brief asks for a few pairs of a study of a hundred); none matching is an
    InputError.
    """
    a, b = _check_window(res, window)
    rows = res.car[(res.car["start"] == a) & (res.car["end"] == b)]
    resid = res.resid
    if event is not None or series is not None:
        keep = np.ones(len(rows), dtype=bool)
        keep_r = np.ones(len(resid), dtype=bool)
        for col, names in (("event", _names(event)), ("series", _names(series))):
            if names is not None:
                keep &= rows[col].isin(names).to_numpy()
                keep_r &= resid[col].isin(names).to_numpy()
        if not keep.any():
            raise InputError(f"no pair with event={event!r} and series={series!r} in the result")
        rows, resid = rows[keep], resid[keep_r]
    params = res.params  # a computed table: read it once
    sigma = dict(zip(params.index, params["sigma"], strict=True))
    al = res.alignment
    day0 = dict(zip(zip(al["event"], al["series"], strict=True), al["day0"], strict=True))
    groups = dict(iter(resid.groupby(["event", "series"], sort=False)))
    out = []
    for row in rows.itertuples(index=False):
        key = (row.event, row.series)
        s = float(sigma.get(key, np.nan))
        if not (np.isfinite(row.car) and np.isfinite(row.se) and np.isfinite(s) and s > 0):
            continue
        g = groups.get(key)
        if g is None or len(g) < MIN_REFERENCE_DATES:
            continue
        r = pd.Series(g["resid"].to_numpy(dtype="float64"), index=pd.DatetimeIndex(g["date"]))
        out.append(
            _Pair(
                event=str(row.event),
                series=str(row.series),
                day0=pd.Timestamp(day0.get(key, pd.NaT)),
                car=float(row.car),
                tstat=float(row.tstat),
                pe_factor=float((row.se / s) ** 2),
                n_params=int(row.n_est - row.dof),
                resid=r.sort_index(),
            )
        )
    if not out:
        raise EstimationError(
            f"no (event, series) pair has a finite CAR on {window_label(a, b)} and at least "
            f"{MIN_REFERENCE_DATES} estimation residuals"
        )
    return out


def _clusters(pairs: list[_Pair]) -> list[list[_Pair]]:
    """Pairs grouped by the calendar date of their day 0 (same-date clusters)."""
    by: dict[pd.Timestamp, list[_Pair]] = {}
    for p in pairs:
        by.setdefault(p.day0, []).append(p)
    return list(by.values())


def _common_resid(cluster: list[_Pair]) -> np.ndarray:
    """Residual matrix (dates, pairs) on the estimation dates every pair of the cluster has."""
    wide = pd.concat([p.resid for p in cluster], axis=1, join="inner")
    if len(wide) < MIN_REFERENCE_DATES:
        names = ", ".join(f"{p.event}/{p.series}" for p in cluster)
        raise EstimationError(
            f"the pairs {names} share {len(wide)} estimation dates; the pooled resampling "
            f"needs at least {MIN_REFERENCE_DATES}"
        )
    return wide.to_numpy(dtype="float64")


def _rank_pvalue(stat: float, draws: np.ndarray) -> float:
    """Equal-tailed two-sided Monte Carlo p-value, ``min(1, 2 min(p_lo, p_hi))``."""
    n = draws.size
    lo = (1.0 + np.count_nonzero(draws <= stat)) / (n + 1.0)
    hi = (1.0 + np.count_nonzero(draws >= stat)) / (n + 1.0)
    return float(min(1.0, 2.0 * min(lo, hi)))


def _mc_se(p: float, n: int) -> float:
    """Monte Carlo standard error of a p-value from ``n`` draws, sqrt(p(1-p)/n)."""
    return float(np.sqrt(p * (1.0 - p) / n))


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_draws(n: int, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise InputError(f"{name} must be an integer, got {n!r}")
    if n < MIN_B:
        raise InputError(
            f"{name} = {n} is too small: at least {MIN_B} draws are needed (the smallest "
            f"p-value is 2/({name} + 1)); {DEFAULT_B} is the default"
        )
    return int(n)


# ---- wild bootstrap ------------------------------------------------------------------
def _pair_boot(
    p: _Pair, length: int, B: int, weights: WeightKind, rng: np.random.Generator
) -> np.ndarray:
    """B bootstrap t statistics of one pair: L resampled residuals times wild weights."""
    e = p.resid.to_numpy()
    idx = rng.integers(0, e.size, size=(B, length))
    v = _WEIGHTS[weights]((B, length), rng)
    rms = np.sqrt(np.mean(e * e))
    return (e[idx] * v).sum(axis=1) / (rms * np.sqrt(length))


def _pooled_boot(
    clusters: list[list[_Pair]], length: int, B: int, weights: WeightKind, rng: np.random.Generator
) -> tuple[float, np.ndarray, int]:
    """Observed pooled statistic, its B bootstrap draws and the fewest shared dates.

    Within a cluster every pair gets the same L resampled dates and the same weights.
    """
    num, var_obs, var_boot = 0.0, 0.0, 0.0
    draws = np.zeros(B)
    n_dates = []
    for cl in clusters:
        E = _common_resid(cl)
        n, k = E.shape[0], max(p.n_params for p in cl)
        port = E.sum(axis=1)  # the cluster's summed residual per date
        s2 = float(np.mean(port * port))
        f = float(np.mean([p.pe_factor for p in cl])) / length
        num += sum(p.car for p in cl)
        var_obs += length * f * s2 * n / max(n - k, 1)
        var_boot += length * s2
        idx = rng.integers(0, n, size=(B, length))
        v = _WEIGHTS[weights]((B, length), rng)
        draws += (port[idx] * v).sum(axis=1)
        n_dates.append(n)
    return num / np.sqrt(var_obs), draws / np.sqrt(var_boot), min(n_dates)


def _row(
    scope: str,
    pairs: list[_Pair],
    window: tuple[int, int],
    estimate: float,
    stat: float,
    p: float,
    n: int,
    **extra: object,
) -> dict[str, object]:
    return {
        "scope": scope,
        "event": ",".join(dict.fromkeys(q.event for q in pairs)),
        "series": ",".join(dict.fromkeys(q.series for q in pairs)),
        "window": window_label(*window),
        "start": window[0],
        "end": window[1],
        "n_pairs": len(pairs),
        "estimate": estimate,
        "statistic": stat,
        "pvalue": p,
        "mc_se": _mc_se(p, n),
        **extra,
    }


def _wild_rows(
    pairs: list[_Pair],
    win: tuple[int, int],
    B: int,
    weights: WeightKind,
    rng: np.random.Generator,
    pooled: bool,
) -> list[dict[str, object]]:
    """The rows of :func:`wild_bootstrap`: one per pair, then the pooled one."""
    length = win[1] - win[0] + 1
    common = {"B": B, "weights": weights}
    rows = []
    for p in pairs:
        pv = _rank_pvalue(p.tstat, _pair_boot(p, length, B, weights, rng))
        rows.append(
            _row(
                "pair",
                [p],
                win,
                p.car,
                p.tstat,
                pv,
                B,
                **common,
                n_dates=p.resid.size,
                n_clusters=1,
            )
        )
    if pooled:
        clusters = _clusters(pairs)
        stat, draws, n_dates = _pooled_boot(clusters, length, B, weights, rng)
        caar = float(np.mean([p.car for p in pairs]))
        pv = _rank_pvalue(stat, draws)
        rows.append(
            _row(
                "pooled",
                pairs,
                win,
                caar,
                stat,
                pv,
                B,
                **common,
                n_dates=n_dates,
                n_clusters=len(clusters),
            )  # fmt: skip
        )
    return rows


def wild_bootstrap(
    res: EventStudyResult,
    window: Sequence[int] = (0, 1),
    B: int = DEFAULT_B,
    weights: WeightKind = "rademacher",
    seed: int | np.random.Generator | None = None,
    pooled: bool | None = None,
) -> pd.DataFrame:
    r"""Wild-bootstrap p-values of the CARs (per pair) and of the CAAR (all pairs).

    Parameters
    ----------
    res : EventStudyResult
        A finished study; ``window`` must be one of its event windows.
    window : (int, int)
        Event window (relative days, inclusive), e.g. ``(0, 1)``.
    B : int
        Bootstrap draws (default :data:`DEFAULT_B` = 999, see its note on the choice;
        at least :data:`MIN_B`).
    weights : {"rademacher", "mammen"}
        Rademacher (+/-1, symmetric) or Mammen (two-point, keeps the skewness).
    seed : int, Generator or None
        Seed of the draws (same seed, same p-values).
    pooled : bool or None
        Add the pooled (CAAR) row; default: when two or more pairs have a CAR.

    Returns
    -------
    pandas.DataFrame
        One row per pair (``scope="pair"``) and one pooled row (``scope="pooled"``):
        ``scope, event, series, window, start, end, n_pairs, estimate`` (CAR, or CAAR the
        mean CAR), ``statistic`` (the pair's PE-corrected t, or the pooled t below),
        ``pvalue`` (two-sided), ``mc_se`` (its Monte Carlo standard error
        :math:`\sqrt{p(1-p)/B}`), ``B, weights, n_dates`` (reference dates: the pair's
        estimation days, or the fewest shared by the pairs of one event date),
        ``n_clusters`` (event dates). ``attrs["seed"]`` holds the seed.

    Raises
    ------
    InputError
        ``B`` below :data:`MIN_B`, unknown ``weights``, or a window the result lacks.
    EstimationError
        No pair with a finite CAR and 20 estimation residuals, or pairs of one event
        date sharing fewer than 20 estimation dates.

    Notes
    -----
    **Null imposed, disturbances from the estimation window.** Under H0 (no abnormal
    return) an event-window AR is a disturbance like those of the estimation window.
    Draw ``b`` takes ``L`` estimation dates :math:`\tau_{b1..bL}` uniformly with
    replacement and wild weights :math:`v_{bj}` (mean 0, variance 1) and forms

    .. math::  t^*_b = \frac{\sum_{j=1}^{L} e_{\tau_{bj}} v_{bj}}{\hat s\sqrt{L}},
               \qquad \hat s^2 = \frac1{L_1}\sum_t e_t^2,

    which has bootstrap mean 0 and variance 1, against the pair's PE-corrected
    :math:`t = CAR/\widehat{se}` of ``res.car``. The p-value is equal-tailed,
    :math:`p = \min(1, 2\min(p_{lo}, p_{hi}))`, :math:`p_{lo} = (1 + \#\{t^*_b \le
    t\})/(B + 1)` (Davison and Hinkley 1997, ch. 4).

    The event window's own residuals are not the ones resampled: with one event the
    restricted wild bootstrap would flip the sign of the AR itself and give a p-value near
    1 whatever the data (MacKinnon and Webb 2018); drawing the window's disturbances from
    the estimation residuals under H0 follows Hein and Westfall (2004); the weights make
    them symmetric (Rademacher) or keep their skew (Mammen 1993; Davidson and Flachaire
    2008). Dates are drawn independently: volatility clustering is not reproduced.

    **Pooled (CAAR), cross-sectional correlation kept.** Pairs are grouped by the
    calendar date of their day 0. Within a group every pair gets the *same* dates
    :math:`\tau_{bj}` and the *same* weight :math:`v_{bj}` (whole dates are resampled
    jointly across pairs), on the estimation dates all the group's pairs have; groups
    are drawn independently. With :math:`S_g(t) = \sum_{i\in g} e_{it}` the group's
    summed residual,

    .. math::  T = \frac{\sum_i CAR_i}{\sqrt{\sum_g L\,\bar f_g\,\overline{S_g^2}\,
               n_g/(n_g - k)}}, \qquad
               T^*_b = \frac{\sum_g\sum_j S_g(\tau_{gbj})\,v_{gbj}}
               {\sqrt{\sum_g L\,\overline{S_g^2}}},

    :math:`\bar f_g` the group's mean PE factor per day :math:`(se_i/s_i)^2/L`,
    :math:`n_g` its shared dates and ``k`` the model's parameters: the Brown and Warner
    (1985) portfolio t, whose scale comes from the portfolio's own residuals and so
    already carries the same-date correlation.

    References
    ----------
    Davidson, R. and Flachaire, E. (2008). The wild bootstrap, tamed at last. *Journal
    of Econometrics* 146, 162-169.
    Davison, A. C. and Hinkley, D. V. (1997). *Bootstrap Methods and their
    Application*. Cambridge University Press.
    Hein, S. E. and Westfall, P. (2004). Improving tests of abnormal returns by
    bootstrapping the multivariate regression model with event parameters. *Journal of
    Financial Econometrics* 2, 451-471.
    MacKinnon, J. G. and Webb, M. D. (2018). The wild bootstrap for few (treated)
    clusters. *Econometrics Journal* 21, 114-135.
    Mammen, E. (1993). Bootstrap and wild bootstrap for high dimensional linear models.
    *Annals of Statistics* 21, 255-285.

    Examples
    --------
    >>> import oilimpact as oi
    >>> from oilimpact.demo import demo_dataset
    >>> prices = demo_dataset().prices[["brent", "sp500"]]
    >>> res = oi.event_study(prices, ["blockade"], market="sp500")
    >>> wb = wild_bootstrap(res, window=(0, 0), B=999, weights="mammen", seed=7)
    >>> row = wb.iloc[0]
    >>> row["scope"], row["weights"], int(row["B"]), bool(row["pvalue"] < 0.05)
    ('pair', 'mammen', 999, True)
    """
    if weights not in _WEIGHTS:
        raise InputError(f"weights must be 'rademacher' or 'mammen', got {weights!r}")
    B = _check_draws(B, "B")
    win = _check_window(res, window)  # type: ignore[arg-type]
    pairs = _pairs(res, win)
    use_pooled = len(pairs) >= 2 if pooled is None else pooled
    rows = _wild_rows(pairs, win, B, weights, _rng(seed), use_pooled)
    out = pd.DataFrame(rows)
    out.attrs["seed"] = seed if not isinstance(seed, np.random.Generator) else None
    out.attrs["method"] = "wild bootstrap (null imposed, estimation-window disturbances)"
    return out


# ---- permutation test ----------------------------------------------------------------
def _window_sums(E: np.ndarray, length: int) -> np.ndarray:
    """Sums of ``length`` consecutive rows of ``E`` (dates, ...) at every start."""
    c = np.concatenate([np.zeros((1, *E.shape[1:])), np.cumsum(E, axis=0)], axis=0)
    return c[length:] - c[:-length]


def _positions(n_pos: int, n_perm: int | None, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """Pseudo-event starts: all ``n_pos`` (exhaustive) or ``n_perm`` drawn without replacement."""
    if n_perm is None or n_perm >= n_pos:
        return np.arange(n_pos), True
    return np.sort(rng.choice(n_pos, size=n_perm, replace=False)), False


def permutation_test(
    res: EventStudyResult,
    window: Sequence[int] = (0, 1),
    n_perm: int | None = None,
    seed: int | np.random.Generator | None = None,
    pooled: bool | None = None,
) -> pd.DataFrame:
    r"""Permutation (pseudo-event date) test of the CARs and of the CAAR.

    Parameters
    ----------
    res : EventStudyResult
        A finished study; ``window`` must be one of its event windows.
    window : (int, int)
        Event window (relative days, inclusive).
    n_perm : int or None
        Pseudo-event dates to draw (at least :data:`MIN_B`). ``None`` (default) uses
        every start in the estimation period (an exact enumeration, ``mc_se`` 0); so
        does an ``n_perm`` at least that number. The pooled row with several event dates
        always draws (``n_perm`` or :data:`DEFAULT_B`).
    seed : int, Generator or None
        Seed of the draws.
    pooled : bool or None
        Add the pooled (CAAR) row; default: when two or more pairs have a CAR.

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`wild_bootstrap` (``statistic`` is the scaled CAR below) with
        ``n_perm`` (pseudo-dates used) and ``exhaustive`` instead of ``B`` and
        ``weights``.

    Notes
    -----
    A pseudo-event at estimation position ``u`` has the CAR :math:`\sum_{t=u}^{u+L-1}
    e_t` (consecutive estimation residuals of the pair; a pseudo-window may run across a
    day the estimation window excluded). Both sides are put on the scale of an L-day sum
    of disturbances: the actual CAR is divided by its PE factor,
    :math:`x = CAR\sqrt{L/c}`, :math:`c = (se/s)^2 = g'(I + X^*(X'X)^{-1}X^{*\prime})g`,
    and the residual sums are multiplied by :math:`\sqrt{L_1/(L_1-k)}` (the average OLS
    shrinkage). The p-value is the equal-tailed rank p-value of ``x`` among the ``m``
    pseudo-CARs, :math:`\min(1, 2\min(p_{lo}, p_{hi}))`, :math:`p_{lo} = (1 +
    \#\{s_u \le x\})/(m + 1)`, with Monte Carlo standard error :math:`\sqrt{p(1-p)/m}`
    when the dates were drawn (0 for the full enumeration).

    This is randomisation inference with the event date as the treatment (MacKinnon and
    Webb 2020): valid when the disturbances are exchangeable over time; neighbouring
    pseudo-windows overlap, so for ``L > 1`` it is approximate (the studentised SQ test
    of ``res.car`` uses the exact OLS factor per window instead of the average one).

    **Pooled.** The pairs of one event date share the pseudo-date (their residuals on
    the estimation dates all of them have), which keeps their correlation; the
    statistic is the mean of the pairs' scaled CARs. Event dates draw their
    pseudo-dates independently.

    References
    ----------
    Gelbach, J. B., Helland, E. and Klick, J. (2013). Valid inference in single-firm,
    single-event studies. *American Law and Economics Review* 15, 495-541.
    MacKinnon, J. G. and Webb, M. D. (2020). Randomization inference for
    difference-in-differences with few treated clusters. *Journal of Econometrics*
    218, 435-450.

    Examples
    --------
    >>> import oilimpact as oi
    >>> from oilimpact.demo import demo_dataset
    >>> prices = demo_dataset().prices[["brent", "sp500"]]
    >>> res = oi.event_study(prices, ["blockade"], market="sp500")
    >>> pt = permutation_test(res, window=(0, 0), n_perm=99, seed=3)
    >>> int(pt.loc[0, "n_perm"]), bool(pt.loc[0, "exhaustive"]), float(pt.loc[0, "pvalue"])
    (99, False, 0.04)
    """
    if n_perm is not None:
        n_perm = _check_draws(n_perm, "n_perm")
    win = _check_window(res, window)  # type: ignore[arg-type]
    pairs = _pairs(res, win)
    length = win[1] - win[0] + 1
    rng = _rng(seed)
    rows = []
    for p in pairs:
        e = p.resid.to_numpy()
        n = e.size
        sums = _window_sums(e, length) * np.sqrt(n / max(n - p.n_params, 1))
        pos, full = _positions(sums.size, n_perm, rng)
        x = p.car * np.sqrt(length / p.pe_factor)
        pv = _rank_pvalue(x, sums[pos])
        row = _row(
            "pair",
            [p],
            win,
            p.car,
            x,
            pv,
            pos.size,
            n_perm=pos.size,
            exhaustive=full,
            n_dates=n,
            n_clusters=1,
        )
        row["mc_se"] = 0.0 if full else row["mc_se"]
        rows.append(row)
    if pooled is None:
        pooled = len(pairs) >= 2
    if pooled:
        rows.append(_pooled_perm(pairs, win, length, n_perm, rng))
    out = pd.DataFrame(rows)
    out.attrs["seed"] = seed if not isinstance(seed, np.random.Generator) else None
    out.attrs["method"] = "permutation (pseudo-event dates in the estimation period)"
    return out


def _pooled_perm(
    pairs: list[_Pair],
    win: tuple[int, int],
    length: int,
    n_perm: int | None,
    rng: np.random.Generator,
) -> dict[str, object]:
    """The pooled row of :func:`permutation_test`."""
    clusters = _clusters(pairs)
    x = float(np.mean([p.car * np.sqrt(length / p.pe_factor) for p in pairs]))
    cl_sums, n_dates = [], []
    for cl in clusters:
        E = _common_resid(cl)
        n, k = E.shape[0], max(p.n_params for p in cl)
        cl_sums.append(_window_sums(E.sum(axis=1), length) * np.sqrt(n / max(n - k, 1)))
        n_dates.append(n)
    if len(clusters) == 1:
        pos, full = _positions(cl_sums[0].size, n_perm, rng)
        ref = cl_sums[0][pos] / len(pairs)
    else:
        m = n_perm or DEFAULT_B
        ref = sum(s[rng.integers(0, s.size, size=m)] for s in cl_sums) / len(pairs)
        full = False
    pv = _rank_pvalue(x, ref)
    row = _row(
        "pooled",
        pairs,
        win,
        float(np.mean([p.car for p in pairs])),
        x,
        pv,
        ref.size,
        n_perm=ref.size,
        exhaustive=full,
        n_dates=min(n_dates),
        n_clusters=len(clusters),
    )
    row["mc_se"] = 0.0 if full else row["mc_se"]
    return row
