r"""Power and minimum detectable effect (MDE) of the single-pair CAR t test.

For a pair of a finished :class:`~oilimpact.eventstudy.result.EventStudyResult`, a
window and the model it was fitted with, how large must an abnormal return be for the
PE-corrected t test to detect it, at level ``alpha`` (two-sided), with probability
``power``? The answer is simulated from the pair's own estimation residuals, so a
fat-tailed series gets the MDE its tails imply, and reported in return units with a
sentence a reader can quote: "an effect under 3.1% on day 0 could not have been told
from noise".

Only the public tables of the result are read (``res.car``: CAR, ``se``, ``dof``;
``res.params``: ``sigma``; ``res.resid``). Formulas in ``docs/methods-resampling.md``.
On the command line ``oilimpact study brent --event blockade --mde`` prints the MDE of
every CAR window (seed 0 unless ``--seed``); the weekly brief shows the day-0 MDE of each
price finding in its Key findings box.

Examples
--------
>>> import oilimpact as oi
>>> from oilimpact.demo import demo_dataset
>>> from oilimpact.eventstudy.power import minimum_detectable_effect
>>> prices = demo_dataset().prices[["brent", "sp500"]]
>>> res = oi.event_study(prices, ["blockade"], market="sp500")
>>> mde = minimum_detectable_effect(res, window=(0, 0), seed=1)
>>> print(mde.loc[0, "sentence"])
an effect under 4.7% on day 0 could not have been told from noise (two-sided 5% t test, 80% power)
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..errors import InputError
from .resampling import _check_window, _names, _Pair, _pairs
from .result import window_label

if TYPE_CHECKING:  # pragma: no cover
    from .result import EventStudyResult

__all__ = [
    "DEFAULT_N_SIM",
    "mde_normal",
    "mde_sentence",
    "minimum_detectable_effect",
    "power_curve",
    "power_normal",
]

#: Default simulated studies per pair: the Monte Carlo s.e. of a power near 80% is
#: sqrt(0.8 * 0.2 / 4000) = 0.6 points, which moves the MDE by about 1% of itself.
DEFAULT_N_SIM = 4000


def _check_level(alpha: float, power: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be in (0, 1), got {alpha}")
    if not alpha < power < 1.0:
        raise InputError(f"power must be in (alpha, 1) = ({alpha}, 1), got {power}")


def _check_n_sim(n_sim: int) -> int:
    if isinstance(n_sim, bool) or not isinstance(n_sim, int | np.integer) or n_sim < 200:
        raise InputError(f"n_sim must be an integer of at least 200, got {n_sim!r}")
    return int(n_sim)


def power_normal(
    delta: float | np.ndarray, se: float, dof: float, alpha: float = 0.05
) -> np.ndarray:
    r"""Power of the two-sided t test under normal disturbances (noncentral t).

    :math:`P(|T| > t_{dof,1-\alpha/2})` with :math:`T` noncentral t, ``dof`` degrees of
    freedom and noncentrality :math:`\delta/se` (``se`` the CAR's standard error).

    Examples
    --------
    >>> round(float(power_normal(0.0, se=0.01, dof=238)), 12)        # the size
    0.05
    >>> round(float(power_normal(0.028, se=0.01, dof=238)), 2)
    0.8
    """
    q = stats.t.ppf(1.0 - alpha / 2.0, dof)
    nc = np.asarray(delta, dtype="float64") / se
    # scipy's nct returns NaN for tail probabilities below ~1e-300: those are 0
    lower = np.nan_to_num(stats.nct.cdf(-q, dof, nc), nan=0.0)
    upper = np.nan_to_num(stats.nct.sf(q, dof, nc), nan=0.0)
    return np.asarray(upper + lower)


def mde_normal(se: float, dof: float, alpha: float = 0.05, power: float = 0.8) -> float:
    r"""MDE under normal disturbances: the ``delta`` with :func:`power_normal` = ``power``.

    Close to the textbook :math:`(z_{1-\alpha/2} + z_{power})\,se` (2.80 se at 5% and
    80%) for large ``dof``.

    Examples
    --------
    >>> round(mde_normal(se=0.01, dof=10_000), 4), round(2.8016 * 0.01, 4)
    (0.028, 0.028)
    """
    _check_level(alpha, power)
    hi = 8.0 * se  # power at 8 se exceeds 1 - 1e-9 for dof >= 3 at alpha >= 1e-6
    return float(optimize.brentq(lambda d: float(power_normal(d, se, dof, alpha)) - power, 0.0, hi))


def mde_sentence(mde: float, start: int, end: int, alpha: float = 0.05, power: float = 0.8) -> str:
    """The quotable sentence for an MDE (a fraction) on window ``[start, end]``.

    Examples
    --------
    >>> mde_sentence(0.031, 0, 0)
    'an effect under 3.1% on day 0 could not have been told from noise (two-sided 5% t test, 80% power)'
    >>> mde_sentence(0.0423, 0, 1, alpha=0.01, power=0.9)
    'a cumulative effect under 4.2% over days 0 to +1 could not have been told from noise (two-sided 1% t test, 90% power)'
    """
    pct = 100.0 * mde
    size = f"{pct:.1f}%" if pct >= 0.1 else f"{pct:.2f}%"

    def day(d: int) -> str:
        return "0" if d == 0 else f"{d:+d}"

    if start == end:
        what = f"an effect under {size} on day {day(start)}"
    else:
        what = f"a cumulative effect under {size} over days {day(start)} to {day(end)}"
    return (
        f"{what} could not have been told from noise (two-sided {100 * alpha:g}% t test, "
        f"{100 * power:g}% power)"
    )


def _pair_rng(seed: int | None, p: _Pair) -> np.random.Generator:
    """One generator per pair, keyed on (seed, event, series): a pair's draws do not
    depend on which other pairs the study holds."""
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([int(seed), zlib.crc32(f"{p.event}/{p.series}".encode())])


def _simulate(
    p: _Pair, length: int, n_sim: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Null CAR noise (n_sim,) and the t test's standard errors (n_sim,) of simulated studies.

    Estimation disturbances and event-window disturbances are resampled (with
    replacement) from the pair's residuals scaled by sqrt(n / (n - k)).
    """
    e = p.resid.to_numpy()
    n = e.size
    u = e * np.sqrt(n / max(n - p.n_params, 1))
    s_star = np.empty(n_sim)
    step = max(1, 2_000_000 // n)
    for i in range(0, n_sim, step):  # blocks keep memory under ~16 MB
        m = min(step, n_sim - i)
        d = u[rng.integers(0, n, size=(m, n))]
        s_star[i : i + m] = np.sqrt(np.mean(d * d, axis=1))
    noise = u[rng.integers(0, n, size=(n_sim, length))].sum(axis=1) * np.sqrt(p.pe_factor / length)
    return noise, s_star * np.sqrt(p.pe_factor)


def _power_at(delta: np.ndarray, noise: np.ndarray, se_star: np.ndarray, q: float) -> np.ndarray:
    """Share of simulated studies whose |t| = |noise + delta| / se* exceeds q, per delta."""
    a = np.sort(q * se_star - noise)  # rejects upward when delta > a
    b = np.sort(-q * se_star - noise)  # rejects downward when delta < b
    n = noise.size
    d = np.asarray(delta, dtype="float64")
    return (np.searchsorted(a, d, side="left") + (n - np.searchsorted(b, d, side="right"))) / n


def _mde_direction(noise: np.ndarray, se_star: np.ndarray, q: float, power: float) -> float:
    """Smallest delta >= 0 with simulated power >= ``power`` (exact on the draws)."""
    cand = np.sort(q * se_star - noise)
    cand = cand[cand >= 0.0]
    pw = _power_at(np.nextafter(cand, np.inf), noise, se_star, q)
    ok = np.nonzero(pw >= power)[0]
    return float(np.nextafter(cand[ok[0]], np.inf)) if ok.size else float("nan")


def _select(
    pairs: list[_Pair], event: str | Sequence[str] | None, series: str | Sequence[str] | None
) -> list[_Pair]:
    events, names = _names(event), _names(series)
    out = [
        p
        for p in pairs
        if (events is None or p.event in events) and (names is None or p.series in names)
    ]
    if not out:
        raise InputError(f"no pair with event={event!r} and series={series!r} in the result")
    return out


def _car_row(res: EventStudyResult, p: _Pair, win: tuple[int, int]) -> pd.Series:
    c = res.car
    m = (
        (c["event"] == p.event)
        & (c["series"] == p.series)
        & (c["start"] == win[0])
        & (c["end"] == win[1])
    )
    return c[m].iloc[0]


def minimum_detectable_effect(
    res: EventStudyResult,
    window: Sequence[int] = (0, 0),
    alpha: float = 0.05,
    power: float = 0.8,
    n_sim: int = DEFAULT_N_SIM,
    seed: int | None = None,
    event: str | Sequence[str] | None = None,
    series: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""Smallest CAR the single-pair t test detects with probability ``power``.

    Parameters
    ----------
    res : EventStudyResult
        A finished study; ``window`` must be one of its event windows.
    window : (int, int)
        Event window (relative days, inclusive); default day 0.
    alpha : float
        Level of the two-sided test (default 5%).
    power : float
        Target probability of rejecting (default 80%).
    n_sim : int
        Simulated studies per pair (default :data:`DEFAULT_N_SIM`, at least 200).
    seed : int or None
        Seed; with a seed a pair's MDE does not depend on the other pairs.
    event, series : str or sequence of str, optional
        Restrict to these pairs (a name or names); the others are not simulated.

    Returns
    -------
    pandas.DataFrame
        One row per (event, series): ``event, series, window, start, end, mde`` (the
        larger of the two directions, a fraction in the result's return units),
        ``mde_up, mde_down`` (positive and negative effects, as magnitudes),
        ``mde_normal`` (the closed form under normal disturbances, :func:`mde_normal`),
        ``se, dof, car, detected`` (``|car| >= mde``), ``alpha, power, n_sim`` and
        ``sentence`` (:func:`mde_sentence`).

    Notes
    -----
    The engine's test is :math:`t = CAR/(s\sqrt c)`, :math:`c = g'(I +
    X^*(X'X)^{-1}X^{*\prime})g` (``res.car.se`` = :math:`s\sqrt c`), rejecting when
    :math:`|t| > t_{dof,1-\alpha/2}`. A simulated study ``j`` draws, with replacement
    from the pair's residuals scaled to variance :math:`s^2` (:math:`u = e\sqrt{n/(n-k)}`),
    ``n`` estimation disturbances, giving :math:`s^*_j`, and ``L`` event-window
    disturbances, giving the null CAR :math:`\eta_j = \sqrt{c/L}\sum_{l=1}^{L}
    u^*_{jl}` (variance :math:`c\,s^2`, as the PE-corrected CAR). With an effect
    :math:`\delta` added to the window, :math:`t_j(\delta) = (\eta_j + \delta)/(s^*_j
    \sqrt c)` and the power is :math:`\hat\pi(\delta) = n_{sim}^{-1}\sum_j 1\{|t_j(\delta)|
    > t_{dof,1-\alpha/2}\}`. The same draws serve every :math:`\delta` (common random
    numbers), and the MDE is the smallest :math:`\delta \ge 0` with :math:`\hat\pi(\delta)
    \ge` ``power``, found exactly among the draws' jump points; ``mde_down`` does the same
    for :math:`-\delta`. Under normal disturbances it tends to the noncentral-t value
    (:func:`mde_normal`), :math:`\approx (z_{1-\alpha/2} + z_{power})\,se` = 2.80 se
    at 5% and 80% (Cohen 1988; MacKinlay 1997, section 8 on power).

    References
    ----------
    Brown, S. J. and Warner, J. B. (1985). Using daily stock returns: the case of event
    studies. *Journal of Financial Economics* 14, 3-31.
    Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed.
    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of
    Economic Literature* 35, 13-39.

    Examples
    --------
    >>> import oilimpact as oi
    >>> from oilimpact.demo import demo_dataset
    >>> prices = demo_dataset().prices[["brent", "wti", "sp500"]]
    >>> res = oi.event_study(prices, ["blockade"], market="sp500")
    >>> m = minimum_detectable_effect(res, window=(0, 1), seed=1)
    >>> m["series"].tolist(), m["window"].tolist()
    (['brent', 'wti'], ['[+0,+1]', '[+0,+1]'])
    >>> bool(((m["mde"] / m["se"]).between(2.4, 3.4)).all())
    True
    """
    _check_level(alpha, power)
    n_sim = _check_n_sim(n_sim)
    win = _check_window(res, window)  # type: ignore[arg-type]
    length = win[1] - win[0] + 1
    rows = []
    for p in _select(_pairs(res, win, event, series), event, series):
        row = _car_row(res, p, win)
        dof = float(row["dof"])
        q = float(stats.t.ppf(1.0 - alpha / 2.0, dof))
        noise, se_star = _simulate(p, length, n_sim, _pair_rng(seed, p))
        up = _mde_direction(noise, se_star, q, power)
        down = _mde_direction(-noise, se_star, q, power)
        mde = max(up, down)
        rows.append(
            {
                "event": p.event,
                "series": p.series,
                "window": window_label(*win),
                "start": win[0],
                "end": win[1],
                "mde": mde,
                "mde_up": up,
                "mde_down": down,
                "mde_normal": mde_normal(float(row["se"]), dof, alpha, power),
                "se": float(row["se"]),
                "dof": dof,
                "car": p.car,
                "detected": bool(abs(p.car) >= mde),
                "alpha": alpha,
                "power": power,
                "n_sim": n_sim,
                "sentence": mde_sentence(mde, *win, alpha=alpha, power=power),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["unit"] = "fraction"
    out.attrs["seed"] = seed
    return out


def power_curve(
    res: EventStudyResult,
    window: Sequence[int] = (0, 0),
    deltas: Sequence[float] | np.ndarray | None = None,
    alpha: float = 0.05,
    n_sim: int = DEFAULT_N_SIM,
    seed: int | None = None,
    event: str | None = None,
    series: str | None = None,
) -> pd.DataFrame:
    r"""Simulated power of the CAR t test against effects ``deltas``, per pair.

    Same simulation as :func:`minimum_detectable_effect` (same seed, same draws).

    Parameters
    ----------
    deltas : sequence of float, optional
        Effects (fractions, signed) added to the window's CAR; default 41 points from
        -5 to +5 standard errors of the pair's CAR.

    Returns
    -------
    pandas.DataFrame
        Long: ``event, series, window, delta, power, mc_se`` (:math:`\sqrt{\hat\pi(1 -
        \hat\pi)/n_{sim}}`) and ``power_normal`` (:func:`power_normal`).

    Examples
    --------
    >>> import oilimpact as oi
    >>> from oilimpact.demo import demo_dataset
    >>> prices = demo_dataset().prices[["brent", "sp500"]]
    >>> res = oi.event_study(prices, ["blockade"], market="sp500")
    >>> pc = power_curve(res, window=(0, 0), deltas=[0.0, 0.1], seed=1)
    >>> pc["power"].round(2).tolist()
    [0.05, 1.0]
    """
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be in (0, 1), got {alpha}")
    n_sim = _check_n_sim(n_sim)
    win = _check_window(res, window)  # type: ignore[arg-type]
    length = win[1] - win[0] + 1
    frames = []
    for p in _select(_pairs(res, win, event, series), event, series):
        row = _car_row(res, p, win)
        se, dof = float(row["se"]), float(row["dof"])
        d = (
            np.linspace(-5.0, 5.0, 41) * se
            if deltas is None
            else np.asarray(deltas, dtype="float64")
        )
        q = float(stats.t.ppf(1.0 - alpha / 2.0, dof))
        noise, se_star = _simulate(p, length, n_sim, _pair_rng(seed, p))
        pw = _power_at(d, noise, se_star, q)
        frames.append(
            pd.DataFrame(
                {
                    "event": p.event,
                    "series": p.series,
                    "window": window_label(*win),
                    "delta": d,
                    "power": pw,
                    "mc_se": np.sqrt(pw * (1.0 - pw) / n_sim),
                    "power_normal": power_normal(d, se, dof, alpha),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out.attrs["unit"] = "fraction"
    return out
