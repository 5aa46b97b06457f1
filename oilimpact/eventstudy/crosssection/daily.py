"""Daily pooled tests: the average abnormal return (AAR) of each event-window day.

:func:`daily_tests` is a short composition: the day's pairs and AAR (:class:`Day`), then
each test family's daily form, next to its formula and reference
(:mod:`.parametric`, :mod:`.sign`, :mod:`.rank`, :mod:`.grank`), then one tidy frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..panel import AbnormalPanel
from . import parametric, rank, sign
from ._arrays import _col_mean
from ._parts import _Parts
from .grank import _grank
from .policy import DAILY_TESTS, _check_tests

_DAILY_COLUMNS = ["day", "date", "test", "statistic", "pvalue", "n", "mean_ar"]


@dataclass(frozen=True)
class Day:
    """What every daily test reads: the pairs with an AR (``ok``, ``(N, L2)``) and with
    a standardized AR (``sar_ok``), their counts and the AAR of each day."""

    ok: np.ndarray
    mean_ar: np.ndarray
    n_ar: np.ndarray
    sar_ok: np.ndarray
    n_sar: np.ndarray

    @classmethod
    def of(cls, p: _Parts) -> Day:
        mean_ar, n_ar = _col_mean(p.ar, p.ar_ok)
        return cls(p.ar_ok, mean_ar, n_ar, p.sar_ok, p.sar_ok.sum(axis=0))


def _run_daily(p: _Parts, d: Day, tests: list[str]) -> dict[str, tuple[Any, Any, Any]]:
    """``{test: (statistic, pvalue, n)}`` (arrays over days) for the tests asked."""
    need = set(tests).intersection
    out: dict[str, tuple[Any, Any, Any]] = {}
    if need({"cross_sectional_t"}):
        out |= parametric.daily_t(p, d)
    if need({"brown_warner"}):
        out |= parametric.daily_brown_warner(p, d)
    if need({"brown_warner_indep"}):
        out |= parametric.daily_brown_warner_indep(p, d)
    if need({"patell", "adjusted_patell", "bmp", "adjusted_bmp"}):
        adjusted = bool(need({"adjusted_patell", "adjusted_bmp"}))
        out |= parametric.daily_patell_bmp(p, d, adjusted)
    if need({"sign", "generalized_sign"}):
        out |= sign.daily_sign(p, d)
    if need({"rank", "modified_rank"}):
        out |= rank.daily_rank(p, d)
    if need({"grank"}):
        g = np.array(_grank(p, p.sar), dtype=float).reshape(p.ar.shape[1], 3)
        out["grank"] = (g[:, 0], g[:, 1], g[:, 2])
    return out


def _daily_frame(
    days: np.ndarray, date_col: pd.DatetimeIndex, mean_ar: np.ndarray,
    tests: list[str], results: dict[str, tuple[Any, Any, Any]],
) -> pd.DataFrame:  # fmt: skip
    """One row per (day, test), sorted by day (tests in the order asked)."""
    frames = []
    for name in tests:
        stat, pval, n_used = results[name]
        frames.append(
            pd.DataFrame(
                {
                    "day": days.astype(int),
                    "date": date_col,
                    "test": name,
                    "statistic": np.asarray(stat, dtype=float),
                    "pvalue": np.asarray(pval, dtype=float),
                    "n": np.asarray(n_used).astype(int),
                    "mean_ar": mean_ar,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=_DAILY_COLUMNS)
    out_df = pd.concat(frames, ignore_index=True)
    return out_df.sort_values(["day"], kind="stable", ignore_index=True)[_DAILY_COLUMNS]


def daily_tests(
    panel: AbnormalPanel,
    tests: Sequence[str] = DAILY_TESTS,
    *,
    dates: Sequence[object] | pd.DatetimeIndex | None = None,
) -> pd.DataFrame:
    """Cross-sectional tests of the average abnormal return on each event-window day.

    Parameters
    ----------
    panel : AbnormalPanel
        Abnormal returns and variance ingredients of N (event, asset) pairs.
        ``panel.conventions`` selects textbook or estudy2 test formulas.
    tests : sequence of str, default :data:`DAILY_TESTS`
        Names of the tests to run (see the module docstring).
    dates : sequence of dates, optional
        Calendar dates of the event-window days (length ``L2``), for a panel whose pairs
        all share one event date and one calendar; fills the ``date`` column. Without
        it ``date`` is NaT.

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per (day, test): ``day`` (relative day), ``date``, ``test``,
        ``statistic``, ``pvalue`` (two-sided), ``n`` (pairs used that day) and
        ``mean_ar`` (the AAR over the pairs with an AR that day).

    Raises
    ------
    ValueError
        For an unknown test name, a ``dates`` of the wrong length, or ``dates`` given
        for pairs that do not share one event date.

    Notes
    -----
    For day ``t`` with ``n_t`` pairs, :math:`A_{it}` the AR, :math:`s_i^2` the residual
    variance, :math:`C_{it}` the diagonal of ``pe_cov`` and
    :math:`SAR_{it} = A_{it} / (s_i \\sqrt{C_{it}})`. Each formula is in the Notes of
    the function that computes it:

    * ``cross_sectional_t``, ``brown_warner``, ``brown_warner_indep``, ``patell``,
      ``bmp``, ``adjusted_patell``, ``adjusted_bmp``: :mod:`.parametric`
      (``daily_*``); the KP adjustments use r-bar of the pairs that share an event
      date, residuals matched by calendar date (:func:`residual_correlation`); pairs on
      different dates count as uncorrelated.
    * ``sign``, ``generalized_sign``: :func:`.sign.daily_sign`; exact binomial
      p-value below :data:`SIGN_EXACT_BELOW` pairs that day (textbook conventions).
    * ``rank``, ``modified_rank``: :mod:`.rank`; each day against the time series of
      the mean rank of the same pairs.
    * ``grank``: :func:`.grank._grank` (T = L1 + 1, t(T-2)); NaN (``n`` still the
      pairs available) below :data:`GRANK_MIN_PAIRS` (20) pairs with a SAR: null
      rejection at 5% is 29% with 2 pairs, 10% with 5, 7-8% with 10, 5.7-6.3% with 20.

    Sizes with missing data (20 pairs, 10 of them missing on each event day, 1,500
    null day-tests): brown_warner 5.0% and rank 4.7% (17.7% and 15.3% when the scale
    came from all N pairs), modified_rank 5.3%.

    References
    ----------
    .. [1] Brown, S. J., Warner, J. B. (1980). Measuring security price performance.
       Journal of Financial Economics 8, 205-258; (1985) Using daily stock returns,
       JFE 14, 3-31.
    .. [2] Patell, J. M. (1976). Corporate forecasts of earnings per share and stock
       price behavior. Journal of Accounting Research 14, 246-276.
    .. [3] Boehmer, E., Musumeci, J., Poulsen, A. B. (1991). Event-study methodology
       under conditions of event-induced variance. JFE 30, 253-272.
    .. [4] Kolari, J. W., Pynnonen, S. (2010). Event study testing with cross-sectional
       correlation of abnormal returns. Review of Financial Studies 23, 3996-4025.
    .. [5] Kolari, J. W., Pynnonen, S. (2011). Nonparametric rank tests for event
       studies. Journal of Empirical Finance 18, 953-971.
    .. [6] Corrado, C. J. (1989). A nonparametric test for abnormal security-price
       performance in event studies. JFE 23, 385-395.
    .. [7] Corrado, C. J., Zivney, T. L. (1992). The specification and power of the sign
       test in event study hypothesis tests using daily stock returns. JFQA 27, 465-478.
    .. [8] Cowan, A. R. (1992). Nonparametric event study tests. Review of Quantitative
       Finance and Accounting 2, 343-358.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from oilimpact.eventstudy.panel import AbnormalPanel
    >>> rng = np.random.default_rng(0)
    >>> n, l1, l2 = 20, 100, 3
    >>> panel = AbnormalPanel(
    ...     ids=pd.MultiIndex.from_product([["e"], range(n)], names=["event", "asset"]),
    ...     est_resid=rng.normal(0, 0.01, (n, l1)), n_est=np.full(n, l1), n_params=0,
    ...     sigma2=np.full(n, 1e-4), event_days=np.arange(-1, 2),
    ...     event_ar=rng.normal(0, 0.01, (n, l2)) + [0, 0.02, 0],
    ...     pe_cov=np.broadcast_to(np.eye(l2), (n, l2, l2)),
    ...     event_dates=np.full(n, np.datetime64("2025-12-17", "ns")))
    >>> out = daily_tests(panel, ["cross_sectional_t", "patell", "rank"])
    >>> print(out[out["day"] == 0][["test", "statistic", "n"]].round(2).to_string(index=False))
                 test  statistic  n
    cross_sectional_t      10.45 20
               patell       8.97 20
                 rank       5.44 20
    """
    tests = _check_tests(tests, DAILY_TESTS)
    p = _Parts(panel)
    days = np.asarray(panel.event_days)
    date_col = _date_column(panel, dates, days.size)
    d = Day.of(p)
    return _daily_frame(days, date_col, d.mean_ar, tests, _run_daily(p, d, tests))


def _date_column(
    panel: AbnormalPanel, dates: Sequence[object] | pd.DatetimeIndex | None, l2: int
) -> pd.DatetimeIndex:
    if dates is None:
        return pd.DatetimeIndex([pd.NaT] * l2, dtype="datetime64[ns]")
    idx = pd.DatetimeIndex(dates)
    if len(idx) != l2:
        raise ValueError(f"dates needs one date per event-window day ({l2}), got {len(idx)}")
    if np.unique(np.asarray(panel.event_dates).astype("datetime64[ns]")).size > 1:
        raise ValueError("dates given, but the pairs do not share one event date")
    return idx.as_unit("ns") if idx.tz is None else idx
