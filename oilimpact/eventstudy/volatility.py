"""Did the event raise volatility? Abnormal-volatility tests for a single series.

Two questions, two tests:

* :func:`abnormal_volatility`: did the series' *realised* volatility over the event
  window exceed what its GARCH model forecast? The statistic is the mean squared
  standardised abnormal return of a :class:`~oilimpact.eventstudy.garch.GarchPanel`
  (Hilliard and Savickas 2002; Savickas 2003), ranked against the same statistic over
  every L-day stretch of the estimation window (a sample-quantile p-value in the manner
  of Gelbach, Helland and Klick 2013), with a chi-square p-value beside it.
  :func:`oilimpact.eventstudy.eventvol.volatility_tests` runs it on an
  ``EventStudyResult`` (GARCH or OLS models).
* :func:`implied_vol_jump`: did an implied-volatility index (VIX; OVX where stored) jump?
  Its log change over the event window is ranked against its own L-day changes over the
  estimation window, with a z-score beside it.

Formulas, references and measured size: docs/methods-garch.md.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats

from oilimpact.errors import EstimationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from oilimpact.events import Event
    from oilimpact.series import SeriesSpec

__all__ = [
    "Alternative",
    "VolJump",
    "abnormal_volatility",
    "day_zero",
    "implied_vol_jump",
    "rank_pvalue",
]

#: ``"greater"``: volatility rose (the question asked of a supply shock);
#: ``"two-sided"``: it changed.
Alternative = Literal["greater", "two-sided"]


def rank_pvalue(reference: np.ndarray, x: float, alternative: Alternative = "greater") -> float:
    """Rank (Monte Carlo) p-value of ``x`` among the finite values of ``reference``.

    ``p_hi = (1 + #{s >= x}) / (n + 1)``; two-sided ``min(1, 2 min(p_lo, p_hi))`` with
    ``p_lo = (1 + #{s <= x}) / (n + 1)``. NaN when ``x`` is NaN or there is no reference.

    Examples
    --------
    >>> rank_pvalue(np.arange(19.0), 18.5)
    0.05
    >>> rank_pvalue(np.arange(19.0), 18.5, "two-sided")
    0.1
    """
    ref = np.asarray(reference, dtype="float64")
    ref = ref[np.isfinite(ref)]
    if not np.isfinite(x) or ref.size == 0:
        return float("nan")
    n = ref.size
    p_hi = (1 + np.count_nonzero(ref >= x)) / (n + 1)
    if alternative == "greater":
        return float(p_hi)
    p_lo = (1 + np.count_nonzero(ref <= x)) / (n + 1)
    return float(min(1.0, 2 * min(p_lo, p_hi)))


def _rolling_means(values: np.ndarray, length: int) -> np.ndarray:
    """Means of ``length`` consecutive finite values (NaN dropped first)."""
    v = values[np.isfinite(values)]
    if v.size < length:
        return np.empty(0)
    return sliding_window_view(v, length).mean(axis=1)


def abnormal_volatility(
    panel: Any, windows: Sequence[tuple[int, int]], alternative: Alternative = "greater"
) -> pd.DataFrame:
    r"""Abnormal-volatility test of every pair of a GARCH panel over every window.

    Parameters
    ----------
    panel : GarchPanel
        From :func:`oilimpact.eventstudy.garch.fit_garch_panel` (any object with
        ``ids``, ``z``, ``est_z`` and ``window_index``).
    windows : sequence of (int, int)
        Inclusive relative-day windows.
    alternative : {"greater", "two-sided"}
        ``"greater"`` (default) asks whether volatility rose.

    Returns
    -------
    pandas.DataFrame
        One row per (pair, window), pair-major: ``event, asset, window, start, end,
        n_days, avr, pvalue, n_ref, min_pvalue, chi2_pvalue``. ``avr`` (abnormal
        variance ratio) is the realised over the forecast variance; NaN when a day of
        the window has no return.

    Notes
    -----
    With :math:`z_t = AR_t / \sqrt{E_T \sigma_t^2}` the standardised abnormal returns
    of the event window :math:`w` (:math:`L` days) and :math:`\hat z_s = \hat
    \varepsilon_s / \hat\sigma_s` the standardised residuals of the estimation window
    (one-step conditional variances),

    .. math::

        AVR_w = \frac{1}{L}\sum_{t \in w} z_t^2, \qquad
        S_u = \frac{1}{L}\sum_{s=u}^{u+L-1} \hat z_s^2, \quad u = 1, \dots, n,

    (:math:`n = L_1 - L + 1`, over consecutive usable estimation days). Under no event
    effect on volatility :math:`E[z_t^2] = 1` and :math:`AVR` is near 1; a ratio of 3
    means the event-window variance was three times the GARCH forecast (Hilliard and
    Savickas 2002 build their cross-sectional test on the same squared standardised
    abnormal returns; Savickas 2003 standardises by the GARCH conditional variance).
    The p-value ranks :math:`AVR` among the :math:`S_u`:
    :math:`p = (1 + \#\{S_u \ge AVR\}) / (n + 1)` (``"greater"``), so it needs no
    assumption on the law of :math:`z` (Gelbach, Helland and Klick 2013's sample-quantile
    idea applied to squares); the smallest attainable value is ``min_pvalue =
    1/(n + 1)`` (two-sided: ``2/(n + 1)``). ``chi2_pvalue`` is the parametric
    alternative, exact for normal innovations with known variance:
    :math:`L \cdot AVR \sim \chi^2_L`. It over-rejects with fat tails (the size table
    in docs/methods-garch.md).

    Caveats: for a window far from the estimation window the forecast
    :math:`E_T\sigma_t^2` is closer to the unconditional variance, and
    :math:`z_t` (a multi-step standardisation) has fatter tails than the one-step
    :math:`\hat z_s`; the size table measures the effect at the brief's ten-day gap.

    References
    ----------
    Hilliard, J. E. and Savickas, R. (2002). On the statistical significance of event
    effects on unsystematic volatility. *Journal of Financial Research* 25(4), 447-462.

    Savickas, R. (2003). Event-induced volatility and tests for abnormal performance.
    *Journal of Financial Research* 26(2), 165-178.

    Gelbach, J. B., Helland, E. and Klick, J. (2013). Valid inference in single-firm,
    single-event studies. *American Law and Economics Review* 15(2), 495-541.

    Examples
    --------
    >>> from oilimpact.eventstudy.garch import fit_garch_panel
    >>> rng = np.random.default_rng(0)
    >>> m = rng.normal(0, 0.01, (1, 246))
    >>> y = 0.8 * m + rng.normal(0, 0.012, (1, 246))
    >>> y[0, 240] = 0.06                       # a five-sd move on day 0
    >>> panel = fit_garch_panel(y[:, :240], y[:, 240:], m[:, :240], m[:, 240:],
    ...                         event_days=range(6))
    >>> row = abnormal_volatility(panel, [(0, 0)]).iloc[0]
    >>> bool(row.avr > 10), float(row.pvalue), int(row.n_ref)
    (True, 0.004149377593360996, 240)
    """
    if alternative not in ("greater", "two-sided"):
        raise ValueError(f"alternative must be 'greater' or 'two-sided', got {alternative!r}")
    rows = []
    z = np.asarray(panel.z, dtype="float64")
    est_z = np.asarray(panel.est_z, dtype="float64")
    for i in range(z.shape[0]):
        for w in windows:
            idx = panel.window_index(w)
            length = idx.size
            avr = float(np.mean(z[i, idx] ** 2))  # NaN if a day is missing
            ref = _rolling_means(est_z[i] ** 2, length)
            n_ref = ref.size
            p = rank_pvalue(ref, avr, alternative)
            if np.isfinite(avr):
                sf = float(stats.chi2.sf(length * avr, length))
                cdf = float(stats.chi2.cdf(length * avr, length))
                chi2_p = sf if alternative == "greater" else min(1.0, 2 * min(sf, cdf))
            else:
                chi2_p = float("nan")
            rows.append({
                "event": panel.ids[i][0], "asset": panel.ids[i][1],
                "window": tuple(int(v) for v in w), "start": int(w[0]), "end": int(w[1]),
                "n_days": length, "avr": avr, "pvalue": p, "n_ref": n_ref,
                "min_pvalue": (1 if alternative == "greater" else 2) / (n_ref + 1),
                "chi2_pvalue": chi2_p,
            })  # fmt: skip
    return pd.DataFrame(rows)


def day_zero(
    event: Event | _dt.date | str | pd.Timestamp,
    sessions: pd.DatetimeIndex,
    name: str,
    spec: SeriesSpec | None = None,
) -> tuple[pd.Timestamp, str, str]:
    """Day 0 of ``event`` on ``sessions``: ``(day0, event_id, reason)``.

    An :class:`~oilimpact.events.Event` is aligned by
    :func:`oilimpact.eventstudy.alignment.align_event` with ``spec`` (default: the
    registry's spec of ``name``; a time-known event belongs to the first session whose
    close is after it). A plain date: the first session on or after it.
    """
    from oilimpact.events import Event

    if isinstance(event, Event):
        from oilimpact.eventstudy.alignment import align_event
        from oilimpact.series import default_registry

        spec = spec if spec is not None else default_registry().spec_or_default(name)
        al = align_event(event, sessions, spec)
        return pd.Timestamp(al.day0), event.id, al.reason
    day = pd.Timestamp(event).normalize()
    pos = int(sessions.searchsorted(day))
    if pos >= sessions.size:
        raise EstimationError(
            f"event date {day.date()} is after the last session {sessions[-1].date()} "
            f"(series={name})"
        )
    d0 = sessions[pos]
    return d0, str(day.date()), f"date {day.date()} -> first session on or after: {d0.date()}"


@dataclass(frozen=True, slots=True)
class VolJump:
    """Result of :func:`implied_vol_jump`; ``str()`` prints a short report.

    Attributes
    ----------
    series, event : str
    day0 : pandas.Timestamp
    window : tuple of int
    level_before, level_after : float
        Index level at the close of the session before the window and at its last day.
    change : float
        ``level_after - level_before`` (index points).
    log_change : float
        ``ln(level_after / level_before)`` (``measure="log"``), or ``change``
        (``measure="diff"``): the tested statistic.
    mean, sd : float
        Mean and standard deviation of the one-session changes over the estimation window.
    zstat, z_pvalue : float
        ``(log_change - L mean) / (sd sqrt(L))`` and its normal p-value.
    pvalue : float
        Rank p-value among the estimation window's L-session changes.
    n_ref : int
        Number of reference changes; ``min_pvalue`` the smallest attainable p-value.
    percentile : float
        Share of reference changes below the event's (0-100).
    alternative, measure : str
    reason : str
        How day 0 was chosen.
    """

    series: str
    event: str
    day0: pd.Timestamp
    window: tuple[int, int]
    level_before: float
    level_after: float
    change: float
    log_change: float
    mean: float
    sd: float
    zstat: float
    z_pvalue: float
    pvalue: float
    n_ref: int
    min_pvalue: float
    percentile: float
    alternative: str
    measure: str
    reason: str

    def __str__(self) -> str:
        stat = "log change" if self.measure == "log" else "change"
        lo, hi = self.window
        return "\n".join([
            f"Implied-volatility jump: {self.series} around {self.event} "
            f"(day 0 {self.day0.date()}, window [{lo},{hi}], alternative {self.alternative})",
            f"  level {self.level_before:.2f} -> {self.level_after:.2f} "
            f"({self.change:+.2f} points, {stat} {self.log_change:+.4f})",
            f"  rank p-value {self.pvalue:.4f} (among {self.n_ref} estimation-window "
            f"changes, percentile {self.percentile:.1f}, min p {self.min_pvalue:.4f})",
            f"  z = {self.zstat:.2f} (normal p {self.z_pvalue:.4f}; daily mean "
            f"{self.mean:+.4f}, sd {self.sd:.4f})",
        ])  # fmt: skip


def _changes(
    levels: np.ndarray, measure: str, pos0: int, window: tuple[int, int], est: tuple[int, int]
) -> tuple[float, np.ndarray, np.ndarray]:
    """Event-window change, estimation-window one-session changes and their L-session
    rolling sums (the reference) of :func:`implied_vol_jump`."""
    (lo, hi), (e0, e1) = window, est
    v = np.log(levels) if measure == "log" else levels
    d = np.diff(v, prepend=np.nan)  # d[t] = v[t] - v[t-1]
    stat = float(v[pos0 + hi] - v[pos0 + lo - 1])
    length = hi - lo + 1
    est_d = d[max(pos0 + e0, 1) : pos0 + e1 + 1]
    ref = sliding_window_view(est_d, length).sum(axis=1) if est_d.size >= length else np.empty(0)
    return stat, est_d, ref


def implied_vol_jump(
    series: pd.Series,
    event: Event | _dt.date | str | pd.Timestamp,
    *,
    window: tuple[int, int] = (0, 1),
    estimation_window: tuple[int, int] = (-250, -11),
    measure: Literal["log", "diff"] = "log",
    alternative: Alternative = "greater",
    spec: SeriesSpec | None = None,
) -> VolJump:
    r"""Did an implied-volatility index (VIX, OVX) jump around an event?

    Parameters
    ----------
    series : pandas.Series
        Index levels by date (the store's series frame; NaN rows are dropped, the
        remaining dates are the sessions).
    event : Event or date-like
        An :class:`~oilimpact.events.Event` (aligned with the series' spec: VIX closes
        16:15 New York) or a date (day 0 = first session on or after it).
    window : (int, int)
        Event window in sessions relative to day 0 (inclusive), default ``(0, 1)``.
    estimation_window : (int, int)
        Sessions whose one-session changes form the reference, default ``(-250, -11)``.
    measure : {"log", "diff"}
        Test log changes (default; the VIX moves in proportion to its level) or changes
        in index points.
    alternative : {"greater", "two-sided"}
    spec : SeriesSpec, optional
        For aligning an Event (default: the registry's spec of ``series.name``).

    Returns
    -------
    VolJump

    Raises
    ------
    EstimationError
        Day 0 after the data, a window past the end of the data, or fewer than 40
        reference changes.

    Notes
    -----
    With :math:`v_t` the level (log level for ``measure="log"``) on session
    :math:`t`, :math:`d_t = v_t - v_{t-1}` and the window :math:`[a, b]` of
    :math:`L = b - a + 1` sessions,

    .. math::

        C = v_b - v_{a-1} = \sum_{t=a}^{b} d_t, \qquad
        C_u = \sum_{s=u}^{u+L-1} d_s \ \text{(estimation window)},

    ``pvalue`` ranks :math:`C` among the :math:`C_u` (``"greater"``: :math:`(1 +
    \#\{C_u \ge C\})/(n + 1)`), the sample-quantile test of Gelbach, Helland and
    Klick (2013) applied to the index's own changes: no normal-return model, since an
    implied-volatility index is a level that mean-reverts, not a return with a market
    beta. ``zstat`` = :math:`(C - L\bar d) / (s_d\sqrt L)` with a normal p-value, for
    comparison (VIX changes are right-skewed and fat-tailed, so the rank p-value is
    the one to read).

    References
    ----------
    Gelbach, J. B., Helland, E. and Klick, J. (2013). Valid inference in single-firm,
    single-event studies. *American Law and Economics Review* 15(2), 495-541.

    Whaley, R. E. (2000). The investor fear gauge. *Journal of Portfolio Management*
    26(3), 12-17.

    Examples
    --------
    >>> idx = pd.bdate_range("2024-01-01", periods=300, name="date")
    >>> rng = np.random.default_rng(1)
    >>> vix = pd.Series(15 * np.exp(np.cumsum(rng.normal(0, 0.05, 300))), idx, name="vix")
    >>> vix.iloc[280:] *= 1.5                     # a 50% jump on day 0
    >>> res = implied_vol_jump(vix, idx[280], window=(0, 0))
    >>> round(res.log_change, 3), res.pvalue, res.n_ref
    (0.448, 0.004149377593360996, 240)
    """
    if measure not in ("log", "diff"):
        raise ValueError(f"measure must be 'log' or 'diff', got {measure!r}")
    name = str(series.name) if series.name is not None else "series"
    s = series.dropna().sort_index()
    s.index = pd.DatetimeIndex(s.index)
    if measure == "log" and (s <= 0).any():
        raise EstimationError(f"log changes need positive levels ({name})")
    d0, event_id, reason = day_zero(event, s.index, name, spec)
    pos0 = int(s.index.get_loc(d0))
    lo, hi = window
    if hi < lo or estimation_window[1] >= lo:
        raise EstimationError(f"estimation window {estimation_window} must end before {window}")
    if pos0 + hi >= s.size or pos0 + lo - 1 < 0:
        raise EstimationError(
            f"window {window} around day 0 {d0.date()} runs outside the data of {name} "
            f"({s.index[0].date()} .. {s.index[-1].date()})"
        )
    stat, est, ref = _changes(s.to_numpy(), measure, pos0, window, estimation_window)
    length = hi - lo + 1
    if ref.size < 40:
        raise EstimationError(
            f"implied_vol_jump needs at least 40 reference changes, got {ref.size} "
            f"(series={name}, day 0 {d0.date()})"
        )
    mean, sd = float(est.mean()), float(est.std(ddof=1))
    zstat = (stat - length * mean) / (sd * np.sqrt(length))
    z_p = (
        float(stats.norm.sf(zstat))
        if alternative == "greater"
        else float(2 * stats.norm.sf(abs(zstat)))
    )
    level = s.to_numpy()
    return VolJump(
        series=name, event=event_id, day0=d0, window=(int(lo), int(hi)),
        level_before=float(level[pos0 + lo - 1]), level_after=float(level[pos0 + hi]),
        change=float(level[pos0 + hi] - level[pos0 + lo - 1]), log_change=stat,
        mean=mean, sd=sd, zstat=float(zstat), z_pvalue=z_p,
        pvalue=rank_pvalue(ref, stat, alternative), n_ref=int(ref.size),
        min_pvalue=(1 if alternative == "greater" else 2) / (ref.size + 1),
        percentile=float(100 * np.mean(ref < stat)), alternative=alternative,
        measure=measure, reason=reason,
    )  # fmt: skip
