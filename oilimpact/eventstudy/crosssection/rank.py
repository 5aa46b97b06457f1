"""Rank tests: Corrado (1989) and Corrado-Zivney (1992) modified rank, daily and over
windows (Cowan 1992).

The ranks :math:`K_{it}` of each pair's residuals over its estimation and event windows
(ties averaged), the day means and their time-series scales are derived once per panel
(:meth:`~oilimpact.eventstudy.crosssection._parts._Parts.rank_days` for all ranked
pairs, :meth:`~oilimpact.eventstudy.crosssection._parts._Parts.rank_sets` for the pairs
of one day or window).

Notes
-----
* rank: :math:`\\bar K_\\tau = n_\\tau^{-1}\\sum_i (K_{i\\tau} - (L_i+1)/2)`,
  :math:`S_K = \\sqrt{T^{-1}\\sum_\\tau \\bar K_\\tau^2}`, statistic
  :math:`\\bar K_0 / S_K`, T the mean number of observations per pair (:math:`L_1 +
  L_2` with complete data); N(0, 1). The sums over i (and T) run over the pairs tested
  (the day's, or the window's complete pairs) on every day :math:`\\tau`, so
  :math:`S_K` is the dispersion of a mean rank of the same pairs. estudy2 replaces a
  missing rank by the day's mean rank (``rowMeans(na.rm=TRUE) * ncol``), scaling
  :math:`\\bar K_\\tau` by :math:`N / n_\\tau`, over all N pairs.
* modified rank: :math:`U_{it} = K_{it}/(L_i+1) - 1/2`, :math:`\\bar U_\\tau =
  n_\\tau^{-1/2}\\sum_i U_{i\\tau}`, statistic :math:`\\bar U_0 / \\sqrt{T^{-1}
  \\sum_\\tau \\bar U_\\tau^2}`.
* window of :math:`\\tau` days (Cowan 1992): :math:`\\sum_{t\\in w}\\bar K_t /
  (\\sqrt{\\tau} S_K)`, likewise with :math:`\\bar U_t`.

References
----------
Corrado, C. J. (1989). A nonparametric test for abnormal security-price performance in
event studies. JFE 23, 385-395.
Corrado, C. J., Zivney, T. L. (1992). JFQA 27, 465-478.
Cowan, A. R. (1992). Nonparametric event study tests. Review of Quantitative Finance and
Accounting 2, 343-358.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._arrays import _div, _pvalue_normal
from ._parts import _Parts

Rows = dict[str, tuple[Any, Any, Any]]


def daily_rank(p: _Parts, d: Any) -> Rows:
    """Rank and modified rank tests of each event-window day (see the module Notes)."""
    l2 = p.ar.shape[1]
    if p.estudy2:  # estudy2: missing ranks imputed, one scale from all N pairs
        kbar, ubar, s_k, s_u, n_t = p.rank_days
        ev: Any = slice(p.l1, None)
        k0, u0, n0 = kbar[ev], ubar[ev], n_t[ev]
    else:  # each day against the time series of its own pairs' mean rank
        kbar, ubar, s_k, s_u, n0 = p.rank_sets(p.valid[:, None] & ~np.isnan(p.ar))
        ev = (np.arange(l2), p.l1 + np.arange(l2))
        k0, u0 = kbar[ev], ubar[ev]
    stat = _div(k0, s_k)
    out: Rows = {"rank": (stat, _pvalue_normal(stat), n0)}
    stat = _div(u0, s_u)
    out["modified_rank"] = (stat, _pvalue_normal(stat), n0)
    return out


def window_rank(p: _Parts, w: Any) -> Rows:
    """Rank and modified rank tests of a window (Cowan 1992), from ``w.rank`` = the
    window's ``(kbar, ubar, s_k, s_u)`` over its complete pairs on every day."""
    n_rank = int((w.has & p.valid).sum())
    return rank_rows(*w.rank, p.l1 + w.cols, w.tau, n_rank)


def rank_rows(
    kbar: np.ndarray, ubar: np.ndarray, s_k: float, s_u: float, ev: np.ndarray, tau: int,
    n_rank: int,
) -> Rows:  # fmt: skip
    """:math:`\\sum_{t\\in w}\\bar K_t / (\\sqrt{\\tau} S_K)` and the same with
    :math:`\\bar U_t`, over the window's day columns ``ev``; N(0, 1)."""
    stat = float(_div(kbar[ev].sum(), np.sqrt(tau) * s_k))
    out: Rows = {"rank": (stat, float(_pvalue_normal(stat)), n_rank)}
    stat = float(_div(ubar[ev].sum(), np.sqrt(tau) * s_u))
    out["modified_rank"] = (stat, float(_pvalue_normal(stat)), n_rank)
    return out
