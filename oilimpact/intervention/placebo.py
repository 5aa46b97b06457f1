r"""In-time placebo inference: pseudo event dates before the real one, refitted.

In the spirit of Abadie, Diamond and Hainmueller (2010, 2015): with :math:`L` the number
of sample periods from the first treated period on, every pseudo date :math:`\tau` with
at least ``min_pre_periods`` observed periods before it and :math:`\tau + L` at or
before the period containing the first real event is refitted with the whole event
configuration shifted to start at :math:`\tau` (same relative spacing, model, seasonal
terms; for SARIMAX the chosen order is reused). When ``pre_periods`` is set, each
placebo uses at most that many pre periods. No real post-event data enter a placebo
fit. The p-value of each term is

.. math:: p = \frac{1 + \#\{|\hat\theta_{placebo}| \ge |\hat\theta|\}}{1 + n_{placebo}} .

The refits are independent: :func:`run_placebo` runs them here or, given a
:class:`concurrent.futures.Executor` (a thread or process pool, a Dask client's
``get_executor()``), as self-contained chunks (:class:`PlaceboSetup` and a list of
dates, both picklable) submitted to it; the rows are gathered in date order, so the
result is the same either way.

References
----------
Abadie, A., Diamond, A. and Hainmueller, J. (2010), JASA 105(490), 493-505; (2015),
AJPS 59(2), 495-510.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import EstimationError
from .fit import effect_stats
from .forms import profile_decay
from .inference import segmented_cov
from .sarimax import fit_sarimax
from .segmented import DesignOptions, design_arrays, identified

__all__ = [
    "PLACEBO_CHUNK",
    "PLACEBO_COLUMNS",
    "PlaceboSetup",
    "placebo_dates",
    "placebo_pvalues",
    "run_placebo",
    "run_placebo_chunk",
]

#: Columns of the placebo distribution (``result.placebo``).
PLACEBO_COLUMNS = ["pseudo_date", "event", "term", "estimate", "stat"]
#: Placebo dates per task submitted to an executor, by model (a segmented refit takes
#: about a millisecond, a SARIMAX one a good fraction of a second).
PLACEBO_CHUNK: dict[str, int] = {"segmented": 32, "sarimax": 1}

Row = tuple[pd.Timestamp, str, str, float, float]


@dataclass(frozen=True, slots=True)
class PlaceboSetup:
    """Everything a placebo refit needs, picklable: the series on its complete grid, the
    event configuration relative to the first event, and the model of the real fit."""

    values: np.ndarray
    grid: pd.DatetimeIndex
    ids: tuple[str, ...]
    rel: tuple[int, ...]  # first treated period of each event minus that of the first
    post_len: int  # sample periods from the first treated period on
    pre_periods: int | None  # pre periods of each placebo sample (None: all before)
    opts: DesignOptions
    model: str
    hac_lags: int | None
    cov: str
    order: tuple[int, int, int] | None
    s_order: tuple[int, int, int, int] | None
    alpha: float


def placebo_dates(
    values: np.ndarray,
    containing: int,
    offset: int,
    post_len: int,
    pre_periods: int | None,
    min_pre: int,
    cap: int | None,
) -> list[int]:
    """Grid positions of the admissible pseudo first-treated periods, at most ``cap``
    (evenly spaced).

    A date ``tau`` is admissible when at least ``min_pre`` observed periods precede
    ``tau - offset`` (the pseudo event period; ``offset`` is 1 with ``start="next"``)
    within its sample, at least one of its ``post_len`` pseudo post periods is
    observed, and ``tau + post_len`` is at or before ``containing``, the period that
    contains the real first event.

    Examples
    --------
    >>> placebo_dates(np.ones(40), containing=30, offset=0, post_len=6, pre_periods=None,
    ...               min_pre=20, cap=None)
    [20, 21, 22, 23, 24]
    """
    cum = np.concatenate([[0], np.cumsum(np.isfinite(values))])
    taus = []
    for tau in range(1, containing - post_len + 1):
        ps0 = 0 if pre_periods is None else max(0, tau - pre_periods)
        if cum[tau - offset] - cum[ps0] < min_pre:
            continue
        if cum[tau + post_len] - cum[tau] == 0:
            continue
        taus.append(tau)
    if cap is not None and len(taus) > cap:
        pick = np.unique(np.round(np.linspace(0, len(taus) - 1, cap)).astype(int))
        taus = [taus[i] for i in pick]
    return taus


def run_placebo(
    setup: PlaceboSetup, taus: list[int], executor: Executor | None = None
) -> pd.DataFrame:
    """The placebo distribution: one row per pseudo date and event term.

    Without ``executor`` the refits run here, in date order; with one, the dates are cut
    into chunks of :data:`PLACEBO_CHUNK` ``[model]`` dates, each submitted as
    ``executor.submit(run_placebo_chunk, setup, chunk)``, and the rows are gathered in
    date order: the frame is the same as the local run's.
    """
    if executor is None:
        rows = run_placebo_chunk(setup, taus)
    else:
        size = PLACEBO_CHUNK.get(setup.model, 1)
        chunks = [taus[i : i + size] for i in range(0, len(taus), size)]
        futures = [executor.submit(run_placebo_chunk, setup, chunk) for chunk in chunks]
        rows = [row for fut in futures for row in fut.result()]
    return pd.DataFrame(rows, columns=PLACEBO_COLUMNS)


def run_placebo_chunk(setup: PlaceboSetup, taus: list[int]) -> list[Row]:
    """Rows ``(pseudo_date, event, term, estimate, stat)`` of the refits at ``taus``.

    A refit that fails (a singular design, too few observations) is skipped.
    """
    rows: list[Row] = []
    month_all = setup.grid.month.to_numpy()
    doy_all = setup.grid.day_of_year.to_numpy()
    for tau in taus:
        ps0 = 0 if setup.pre_periods is None else max(0, tau - setup.pre_periods)
        pe = tau + setup.post_len  # exclusive end
        y = setup.values[ps0:pe]
        starts = [tau - ps0 + r for r in setup.rel]
        post_mask = np.arange(pe - ps0) >= (tau - ps0)
        try:
            if setup.model == "segmented":
                stats_ = placebo_segmented(
                    y, month_all[ps0:pe], doy_all[ps0:pe], list(setup.ids), starts,
                    setup.opts, setup.hac_lags, setup.cov, post_mask,
                )  # fmt: skip
            else:
                stats_ = _placebo_sarimax(setup, y, setup.grid[ps0:pe], starts, post_mask)
        except (np.linalg.LinAlgError, ValueError, EstimationError):
            continue
        for ev, term, est, se in stats_:
            stat = est / se if se and se > 0 else np.nan
            rows.append((setup.grid[tau], ev, term, float(est), float(stat)))
    return rows


def _placebo_sarimax(
    setup: PlaceboSetup,
    y: np.ndarray,
    dates: pd.DatetimeIndex,
    starts: list[int],
    post_mask: np.ndarray,
) -> list[tuple[str, str, float, float]]:
    """SARIMAX refit at the chosen order: (event, term, estimate, se) rows."""
    assert setup.order is not None
    fit = fit_sarimax(
        y, dates, list(setup.ids), starts, setup.opts, setup.order, setup.s_order,
        setup.alpha, post_mask, cf_from=None,
    )  # fmt: skip
    return list(effect_stats(fit).itertuples(index=False, name=None))


def placebo_segmented(
    y: np.ndarray,
    month: np.ndarray,
    doy: np.ndarray,
    ids: list[str],
    starts: list[int],
    opts: DesignOptions,
    hac_lags: int | None,
    cov_type: str,
    post_mask: np.ndarray,
) -> list[tuple[str, str, float, float]]:
    """Placebo refit in numpy: (event, term, estimate, se) of the event terms and average.

    With ``form="decay"`` the decay rate is profiled again on the placebo sample.
    """
    if opts.profile:
        opts = replace(opts, decay=profile_decay(y, month, doy, ids, starts, opts))
    X_all, names, ev_all = design_arrays(month, doy, ids, starts, opts)
    obs = np.isfinite(y)
    kept = identified(X_all[obs], names)
    pos_all = {c: i for i, c in enumerate(names)}
    idx = [pos_all[c] for c in kept]
    Xk = X_all[:, idx]
    Xo = Xk[obs]
    nobs = Xo.shape[0]
    if nobs <= Xo.shape[1]:
        raise EstimationError("too few observations")
    beta, *_ = np.linalg.lstsq(Xo, y[obs], rcond=None)
    cov = segmented_cov(Xo, y[obs] - Xo @ beta, cov_type, hac_lags).cov
    rows: list[tuple[str, str, float, float]] = []
    pos = {c: i for i, c in enumerate(kept)}
    ev_kept = [c for c in ev_all if c in pos]
    for col in ev_kept:
        ev, term = col.split("|")
        i = pos[col]
        rows.append((ev, term, float(beta[i]), float(math.sqrt(max(cov[i, i], 0.0)))))
    rows_mask = post_mask & obs
    if ev_kept and rows_mask.any():
        c = np.zeros(len(kept))
        for col in ev_kept:
            c[pos[col]] = Xk[rows_mask, pos[col]].mean()
        rows.append(("all", "average", float(c @ beta), float(math.sqrt(max(c @ cov @ c, 0.0)))))
    return rows


def placebo_pvalues(
    real: pd.DataFrame, plac: pd.DataFrame, placebo_stat: str
) -> tuple[np.ndarray, np.ndarray]:
    """Placebo p-value and number of placebo fits of each row of ``real``.

    ``real`` has columns ``event, term, estimate, se``; ``placebo_stat`` is
    ``"estimate"`` or ``"tstat"`` (compare ``estimate / se``). Ties count as
    exceedances up to a relative ``1e-12``.

    Examples
    --------
    >>> real = pd.DataFrame({"event": ["e"], "term": ["level"], "estimate": [2.0], "se": [1.0]})
    >>> plac = pd.DataFrame({"event": ["e"] * 4, "term": ["level"] * 4,
    ...                      "estimate": [0.5, -3.0, 1.0, 2.0], "stat": [0.5, -3.0, 1.0, 2.0]})
    >>> placebo_pvalues(real, plac, "estimate")
    (array([0.6]), array([4]))
    """
    key = "estimate" if placebo_stat == "estimate" else "stat"
    est = real["estimate"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / real["se"].to_numpy(dtype="float64")
    pool = _placebo_pool(plac, key)
    pvals, counts = [], []
    for ev, term, e_i, t_i in zip(real["event"], real["term"], est, stat, strict=True):
        sel = pool.get((str(ev), str(term)), np.empty(0))
        real_v = e_i if key == "estimate" else t_i
        if len(sel) and np.isfinite(real_v):
            hits = int((np.abs(sel) >= abs(real_v) - 1e-12 * abs(real_v)).sum())
            pvals.append((1 + hits) / (1 + len(sel)))
        else:
            pvals.append(np.nan)
        counts.append(len(sel))
    return np.asarray(pvals, dtype="float64"), np.asarray(counts, dtype="int64")


def _placebo_pool(plac: pd.DataFrame, key: str) -> Mapping[tuple[str, str], np.ndarray]:
    """Finite placebo values of column ``key`` by (event, term)."""
    pool: dict[tuple[str, str], np.ndarray] = {}
    if len(plac):
        for (ev, term), grp in plac.groupby(["event", "term"], sort=False):
            vals = grp[key].to_numpy(dtype="float64")
            pool[(str(ev), str(term))] = vals[np.isfinite(vals)]
    return pool
