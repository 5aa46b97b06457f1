"""Baselines that the public :func:`oilimpact.event_study` call is measured against.

The issue's workload (issue 15) is 5,000 assets x 600 business days x 2 events
(10,000 (event, asset) pairs), market model on the estimation window (-250, -11), CARs
over the five default windows ``(0,0), (0,1), (-1,1), (0,5), (0,10)`` with the
prediction-error (PE) corrected standard error and a t test, with 1% of the prices
missing. This module builds that workload and computes the same numbers three ways
that do not use oilimpact:

* :func:`careful_loop` -- a careful per-pair loop: numpy slices of one log-return
  array and one ``statsmodels.OLS`` fit per pair, PE-corrected CAR variance from the
  fit's ``normalized_cov_params``;
* :func:`naive_loop` -- what a first tutorial shows: per pair, pandas Series
  operations (``np.log(...).diff()``, ``.loc`` date slices, ``concat(...).dropna()``),
  ``statsmodels`` OLS and ``predict``; too slow to run on all pairs, so time it on a
  subset and scale linearly (:func:`time_per_pair` does, and says so);
* :func:`vectorised_numpy` -- a bare vectorised numpy market model + CAR + PE t for all
  assets of an event at once (closed-form OLS on masked sums): no exchange calendars,
  no confounding events, no spanning returns.

All three take the frames of :func:`make_panel` (or any prices frame on one calendar
with the market as a separate Series) and return one row per (event, series, window):
``event, series, start, end, n_days, car, se, tstat, pvalue, n_est``.

Conventions shared by the three (and, on a clean panel, by ``oi.event_study``):

* returns are log returns of the prices, :math:`r_t = \\ln P_t - \\ln P_{t-1}`, NaN when
  either price is missing; the market return likewise;
* day 0 is the first date of the index on or after the event date; relative day
  :math:`\\tau` is the return dated :math:`\\tau` rows after day 0;
* the estimation sample is the days of the estimation window whose return is observed;
  an event-window day whose return is missing is left out of the CAR and of its
  variance.

Notes
-----
Market model on the :math:`n` observed estimation days: :math:`r_t = \\alpha + \\beta
m_t + \\varepsilon_t`, :math:`\\hat\\sigma^2 = \\mathrm{SSR}/(n - 2)`. For a window with
indicator vector :math:`g` over the :math:`L` observed event days with regressors
:math:`X^*` (rows :math:`(1, m_t)`),

.. math::

    \\mathrm{CAR} = g'(r^* - X^*\\hat\\theta), \\qquad
    \\widehat{\\mathrm{Var}}(\\mathrm{CAR}) = \\hat\\sigma^2\\,\\bigl(g'g
        + g'X^*(X'X)^{-1}X^{*\\prime}g\\bigr)
      = \\hat\\sigma^2\\Bigl(L + \\frac{L^2}{n}
        + \\frac{(\\sum_{t\\in w} m_t - L\\bar m)^2}{\\sum_{t\\in E}(m_t-\\bar m)^2}\\Bigr),

:math:`t = \\mathrm{CAR}/\\widehat{\\mathrm{se}}`, two-sided p from Student's t with
:math:`n - 2` degrees of freedom (MacKinlay 1997, eqs. 7-8 and 15-16; Campbell, Lo and
MacKinlay 1997, sec. 4.4). The naive loop uses the textbook shortcut
:math:`\\hat\\sigma^2 L` (no estimation-error term), as tutorials do: its CARs equal the
others', its standard errors are slightly smaller.

References
----------
MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic
Literature* 35(1), 13-39.

Examples
--------
>>> prices, market, events = make_panel(20, 300, 1, missing=0.01, seed=1)
>>> careful = careful_loop(prices, market, events)
>>> fast = vectorised_numpy(prices, market, events)
>>> bool(np.allclose(careful["tstat"], fast["tstat"], rtol=1e-8))
True
>>> len(careful)  # 20 assets x 1 event x 5 windows
100
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

ESTIMATION_WINDOW: tuple[int, int] = (-250, -11)
EVENT_WINDOWS: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (-1, 1), (0, 5), (0, 10))
COLUMNS = ("event", "series", "start", "end", "n_days", "car", "se", "tstat", "pvalue",
           "n_est")  # fmt: skip
Events = Mapping[str, dt.date]
_BLOCK = 1_000  # assets generated at a time by make_panel

__all__ = [
    "COLUMNS",
    "ESTIMATION_WINDOW",
    "EVENT_WINDOWS",
    "careful_loop",
    "event_positions",
    "make_panel",
    "naive_loop",
    "time_per_pair",
    "vectorised_numpy",
]


# ---- the workload ----------------------------------------------------------------------
def make_panel(
    n_assets: int = 5_000,
    n_days: int = 600,
    n_events: int = 2,
    missing: float = 0.01,
    seed: int = 0,
    *,
    start: str = "2015-01-01",
) -> tuple[pd.DataFrame, pd.Series, dict[str, dt.date]]:
    """Synthetic prices, a market index and events: the issue's workload by default.

    Parameters
    ----------
    n_assets, n_days, n_events : int
        Columns ``a00000, a00001, ...``; business days from ``start``
        (``pandas.bdate_range``); events ``e00, e01, ...``.
    missing : float
        Share of the asset prices set to NaN, at random (the market is complete).
        The first price of a column may be missing too.
    seed : int
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    prices : pandas.DataFrame
        ``n_days`` x ``n_assets`` float64 prices, index named ``date``.
    market : pandas.Series
        The market index level, named ``market``, same index.
    events : dict of str to datetime.date
        Event dates, spread evenly from day 260 (an estimation window of 250 returns
        before the first) to 21 days before the end (room for the (0, 10) window).

    Notes
    -----
    Market log return :math:`m_t \\sim N(0.0003, 0.01^2)`; asset log return
    :math:`r_{it} = 0.0002 + \\beta_i m_t + 0.012\\,u_{it}` with :math:`\\beta_i \\sim
    U(0.3, 1.5)` and :math:`u_{it}` Student-t(4) (fat tails, as daily returns have);
    prices are :math:`100 e^{\\sum r}` (assets) and :math:`1000 e^{\\sum m}` (market).
    No abnormal return is injected. The prices are drawn in blocks of 1,000 assets,
    so building 50,000 x 1,000 prices needs little more memory than the frame itself.
    """
    first, last = 260, n_days - 21
    if last < first:
        raise ValueError(f"n_days must be at least 281 to hold one event, got {n_days}")
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range(start, periods=n_days, name="date")
    m = rng.normal(0.0003, 0.01, n_days)
    m[0] = 0.0
    beta = rng.uniform(0.3, 1.5, n_assets)
    p = np.empty((n_days, n_assets))
    for lo in range(0, n_assets, _BLOCK):  # in blocks: no full-size temporaries
        hi = min(lo + _BLOCK, n_assets)
        r = 0.0002 + np.outer(m, beta[lo:hi]) + 0.012 * rng.standard_t(4, (n_days, hi - lo))
        r[0] = 0.0
        block = 100.0 * np.exp(np.cumsum(r, axis=0))
        if missing > 0:
            block[rng.random(block.shape) < missing] = np.nan
        p[:, lo:hi] = block
    prices = pd.DataFrame(p, index=idx, columns=[f"a{j:05d}" for j in range(n_assets)], copy=False)
    market = pd.Series(1000.0 * np.exp(np.cumsum(m)), index=idx, name="market")
    pos = np.linspace(first, last, n_events).round().astype(int) if n_events > 1 else [first]
    events = {f"e{k:02d}": idx[p_].date() for k, p_ in enumerate(pos)}
    return prices, market, events


def event_positions(index: pd.DatetimeIndex, events: Events) -> dict[str, int]:
    """Day 0 of each event as a row of the *returns* array (``index[1:]``): the first
    date on or after the event date."""
    out = {}
    for name, when in events.items():
        pos = int(index.searchsorted(pd.Timestamp(when)))
        if pos >= len(index):
            raise ValueError(f"event {name} on {when} is after the last date {index[-1]}")
        out[name] = pos - 1
    return out


def _log_returns(prices: pd.DataFrame, market: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    lp = np.log(prices.to_numpy(dtype=float))
    lm = np.log(market.reindex(prices.index).to_numpy(dtype=float))
    return np.diff(lp, axis=0), np.diff(lm)


def _check_room(name: str, d0: int, n_ret: int, est: tuple[int, int], lo: int, hi: int) -> None:
    if d0 + est[0] < 0 or d0 + hi >= n_ret:
        raise ValueError(
            f"event {name}: day 0 is return {d0} of {n_ret}; the estimation window "
            f"{est} and event windows up to {hi} do not fit"
        )


def _frame(rows: Mapping[str, object]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _t_p(car: np.ndarray, se: np.ndarray, dof: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        t = car / se
    return t, 2.0 * stats.t.sf(np.abs(t), dof)


# ---- (b) the careful per-pair loop -----------------------------------------------------
def careful_loop(
    prices: pd.DataFrame,
    market: pd.Series,
    events: Events,
    *,
    estimation_window: tuple[int, int] = ESTIMATION_WINDOW,
    event_windows: Sequence[tuple[int, int]] = EVENT_WINDOWS,
    assets: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per (event, asset) pair: numpy slices, one ``statsmodels.OLS`` market model and
    the PE-corrected CAR standard error and t test of each window.

    Parameters
    ----------
    prices : pandas.DataFrame
        Prices, one column per asset, on one calendar (NaN = missing).
    market : pandas.Series
        Market index level on the same dates.
    events : mapping of str to date
        Event dates.
    estimation_window, event_windows
        Relative days, inclusive.
    assets : sequence of str, optional
        Only these columns (default all).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`, rows event-major, then asset, then window.

    Notes
    -----
    See the module Notes: :math:`\\widehat{\\mathrm{Var}}(\\mathrm{CAR}) =
    \\hat\\sigma^2 (g'g + g'X^*(X'X)^{-1}X^{*\\prime}g)` with :math:`(X'X)^{-1}`
    = ``fit.normalized_cov_params`` and :math:`\\hat\\sigma^2` = ``fit.scale``.
    """
    cols = list(prices.columns) if assets is None else list(assets)
    r_all, m = _log_returns(prices[cols], market)
    lo = min(w[0] for w in event_windows)
    hi = max(w[1] for w in event_windows)
    days = np.arange(lo, hi + 1)
    g_all = np.array([(days >= a) & (days <= b) for a, b in event_windows], dtype=float)
    pos = event_positions(prices.index, events)
    n_pairs, k = len(pos) * len(cols), len(event_windows)
    car, var, n_days = np.empty((n_pairs, k)), np.empty((n_pairs, k)), np.empty((n_pairs, k))
    n_est = np.empty(n_pairs, dtype=int)
    i = 0
    for name, d0 in pos.items():
        _check_room(name, d0, len(m), estimation_window, lo, hi)
        est = slice(d0 + estimation_window[0], d0 + estimation_window[1] + 1)
        evt = slice(d0 + lo, d0 + hi + 1)
        x_evt = np.column_stack([np.ones(days.size), m[evt]])
        for j in range(len(cols)):
            y = r_all[est, j]
            ok = ~np.isnan(y)
            fit = sm.OLS(y[ok], sm.add_constant(m[est][ok], has_constant="add")).fit()
            ar = r_all[evt, j] - x_evt @ fit.params
            seen = ~np.isnan(ar)
            g = g_all * seen  # windows x days, observed days only
            gx = g @ x_evt
            car[i] = g @ np.where(seen, ar, 0.0)
            var[i] = fit.scale * (
                g.sum(axis=1) + np.einsum("wk,kl,wl->w", gx, fit.normalized_cov_params, gx)
            )
            n_days[i] = g.sum(axis=1)
            n_est[i] = int(fit.nobs)
            i += 1
    empty = n_days == 0  # a window with no observed day has no CAR
    car[empty] = np.nan
    se = np.where(empty, np.nan, np.sqrt(var))
    t, p = _t_p(car, se, (n_est - 2)[:, None])
    return _frame(
        {
            "event": np.repeat(list(pos), len(cols) * k),
            "series": np.tile(np.repeat(cols, k), len(pos)),
            "start": np.tile([a for a, _ in event_windows], n_pairs),
            "end": np.tile([b for _, b in event_windows], n_pairs),
            "n_days": n_days.ravel().astype(int),
            "car": car.ravel(),
            "se": se.ravel(),
            "tstat": t.ravel(),
            "pvalue": p.ravel(),
            "n_est": np.repeat(n_est, k),
        }
    )


# ---- (c) the naive tutorial loop -------------------------------------------------------
def naive_loop(
    prices: pd.DataFrame,
    market: pd.Series,
    events: Events,
    *,
    estimation_window: tuple[int, int] = ESTIMATION_WINDOW,
    event_windows: Sequence[tuple[int, int]] = EVENT_WINDOWS,
    assets: Sequence[str] | None = None,
) -> pd.DataFrame:
    """What a first event-study tutorial shows: per pair, pandas Series operations and
    a statsmodels fit, CAR standard error :math:`\\hat\\sigma\\sqrt{L}`.

    Same parameters and columns as :func:`careful_loop`. Per pair: the asset's log
    returns ``np.log(prices[col]).diff()``, the estimation and event windows cut by
    ``.loc`` on dates, a ``concat(...).dropna()`` with the market return, ``sm.OLS``
    on a ``DataFrame``, ``predict`` on the event window and one ``.loc`` sum per CAR
    window. The standard error leaves out the estimation-error term (as tutorials
    do), so ``se`` is slightly below the PE-corrected one; ``car`` is the same.
    """
    cols = list(prices.columns) if assets is None else list(assets)
    rows: dict[str, list] = {c: [] for c in COLUMNS}
    dates = prices.index[1:]
    lo = min(w[0] for w in event_windows)
    hi = max(w[1] for w in event_windows)
    for name, d0 in event_positions(prices.index, events).items():
        _check_room(name, d0, len(dates), estimation_window, lo, hi)
        for col in cols:
            ret = np.log(prices[col]).diff()
            mret = np.log(market).diff()
            est_dates = dates[d0 + estimation_window[0]], dates[d0 + estimation_window[1]]
            df = pd.concat(
                [ret.loc[est_dates[0] : est_dates[1]], mret.loc[est_dates[0] : est_dates[1]]],
                axis=1,
                keys=["y", "m"],
            ).dropna()
            fit = sm.OLS(df["y"], sm.add_constant(df["m"])).fit()
            window = pd.concat(
                [
                    ret.loc[dates[d0 + lo] : dates[d0 + hi]],
                    mret.loc[dates[d0 + lo] : dates[d0 + hi]],
                ],
                axis=1,
                keys=["y", "m"],
            )
            expected = fit.predict(sm.add_constant(window["m"], has_constant="add"))
            ar = (window["y"] - expected).dropna()
            rel = pd.Series(np.arange(lo, hi + 1), index=window.index)
            for a, b in event_windows:
                sel = ar.loc[rel.loc[ar.index].between(a, b).to_numpy()]
                n_days = len(sel)
                car = float(sel.sum()) if n_days else np.nan
                se = float(np.sqrt(fit.scale * n_days)) if n_days else np.nan
                t = car / se
                vals = (name, col, a, b, n_days, car, se, t,
                        2.0 * stats.t.sf(abs(t), fit.df_resid), int(fit.nobs))  # fmt: skip
                for key, val in zip(COLUMNS, vals, strict=True):
                    rows[key].append(val)
    return _frame(rows)


# ---- (d) the bare vectorised numpy baseline --------------------------------------------
def vectorised_numpy(
    prices: pd.DataFrame,
    market: pd.Series,
    events: Events,
    *,
    estimation_window: tuple[int, int] = ESTIMATION_WINDOW,
    event_windows: Sequence[tuple[int, int]] = EVENT_WINDOWS,
) -> pd.DataFrame:
    """A bare vectorised numpy market model, CAR and PE-corrected t for all assets of
    each event at once: no exchange calendars, no confounding events, no spanning
    returns (a missing return is simply left out).

    Same parameters (all assets) and columns as :func:`careful_loop`.

    Notes
    -----
    Closed-form OLS on masked sums per asset: :math:`n`, :math:`\\bar m`, :math:`\\bar
    r`, :math:`S_{mm} = \\sum (m_t - \\bar m)^2`, :math:`\\hat\\beta = S_{mr}/S_{mm}`,
    :math:`\\hat\\alpha = \\bar r - \\hat\\beta\\bar m`, :math:`\\hat\\sigma^2 =
    \\sum \\hat\\varepsilon_t^2/(n-2)`; the CAR variance is the closed form in the module
    Notes (equal to the matrix form of :func:`careful_loop`).
    """
    r_all, m = _log_returns(prices, market)
    n_assets = r_all.shape[1]
    lo = min(w[0] for w in event_windows)
    hi = max(w[1] for w in event_windows)
    days = np.arange(lo, hi + 1)
    g = np.array([(days >= a) & (days <= b) for a, b in event_windows], dtype=float)
    parts = []
    for name, d0 in event_positions(prices.index, events).items():
        _check_room(name, d0, len(m), estimation_window, lo, hi)
        y = r_all[d0 + estimation_window[0] : d0 + estimation_window[1] + 1]
        x = m[d0 + estimation_window[0] : d0 + estimation_window[1] + 1, None]
        w = ~np.isnan(y)
        n = w.sum(axis=0)
        y0 = np.where(w, y, 0.0)
        xw = np.where(w, x, 0.0)
        mbar = xw.sum(axis=0) / n
        ybar = y0.sum(axis=0) / n
        dx = np.where(w, x - mbar, 0.0)
        sxx = (dx * dx).sum(axis=0)
        beta = (dx * (y0 - ybar)).sum(axis=0) / sxx
        alpha = ybar - beta * mbar
        resid = np.where(w, y0 - alpha - beta * x, 0.0)
        sigma2 = (resid * resid).sum(axis=0) / (n - 2)
        me = m[d0 + lo : d0 + hi + 1, None]
        ar = r_all[d0 + lo : d0 + hi + 1] - alpha - beta * me
        seen = ~np.isnan(ar)
        gs = g[:, :, None] * seen[None]  # window x day x asset
        big_l = gs.sum(axis=1)
        car = np.einsum("wda,da->wa", gs, np.where(seen, ar, 0.0))
        sm_w = np.einsum("wda,d->wa", gs, me[:, 0])
        var = sigma2 * (big_l + big_l**2 / n + (sm_w - big_l * mbar) ** 2 / sxx)
        empty = big_l == 0  # a window with no observed day has no CAR
        car[empty] = np.nan
        se = np.where(empty, np.nan, np.sqrt(var))
        t, p = _t_p(car, se, (n - 2)[None, :])
        k = len(event_windows)
        parts.append(
            pd.DataFrame(
                {
                    "event": name,
                    "series": np.repeat(prices.columns.to_numpy(), k),
                    "start": np.tile([a for a, _ in event_windows], n_assets),
                    "end": np.tile([b for _, b in event_windows], n_assets),
                    "n_days": big_l.T.ravel().astype(int),
                    "car": car.T.ravel(),
                    "se": se.T.ravel(),
                    "tstat": t.T.ravel(),
                    "pvalue": p.T.ravel(),
                    "n_est": np.repeat(n, k),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


# ---- timing ------------------------------------------------------------------------------
def time_per_pair(
    fn: Callable[..., pd.DataFrame],
    prices: pd.DataFrame,
    market: pd.Series,
    events: Events,
    n_assets: int,
    **kwargs: object,
) -> tuple[float, pd.DataFrame, str]:
    """Time ``fn`` (:func:`careful_loop` or :func:`naive_loop`) on the first
    ``n_assets`` columns and return seconds per (event, asset) pair, the result and a
    note saying the full time is a linear extrapolation.

    The loops do a fixed amount of work per pair, so their cost is linear in pairs;
    the extrapolated full time is ``seconds_per_pair * n_pairs``.
    """
    cols = list(prices.columns[:n_assets])
    t0 = time.perf_counter()
    out = fn(prices, market, events, assets=cols, **kwargs)
    elapsed = time.perf_counter() - t0
    n_pairs = len(cols) * len(events)
    total = prices.shape[1] * len(events)
    note = (
        f"{fn.__name__} timed on {n_pairs:,} of {total:,} pairs ({elapsed:.2f} s) and "
        f"scaled linearly to {total:,} pairs"
    )
    return elapsed / n_pairs, out, note


if __name__ == "__main__":  # a quick look at the workload
    prices, market, events = make_panel()
    n_pairs = prices.shape[1] * len(events)
    t0 = time.perf_counter()
    fast = vectorised_numpy(prices, market, events)
    print(f"vectorised_numpy: {time.perf_counter() - t0:.3f} s for {n_pairs:,} pairs")
    per, careful, note = time_per_pair(careful_loop, prices, market, events, 500)
    print(f"careful_loop: {per * 1e3:.3f} ms/pair -> {per * n_pairs:.2f} s ({note})")
    per, naive, note = time_per_pair(naive_loop, prices, market, events, 50)
    print(f"naive_loop: {per * 1e3:.3f} ms/pair -> {per * n_pairs:.2f} s ({note})")
    keys = ["event", "series", "start", "end"]
    both = careful.merge(fast, on=keys, suffixes=("_loop", "_vec"))
    diff = np.max(np.abs(both["tstat_loop"] - both["tstat_vec"]))
    print(f"vectorised vs careful on {len(both):,} rows: max |t difference| {diff:.1e}")
