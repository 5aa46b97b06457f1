"""Parametric pooled tests: cross-sectional t, Brown-Warner, Patell, BMP and the
Kolari-Pynnonen adjustments, each as a daily form (one value per event-window day) and a
window form (one value per CAR window).

Every function returns ``{test: (statistic, pvalue, n)}``; the daily forms hold arrays of
length ``L2``, the window forms scalars. ``p`` is the panel's
:class:`~oilimpact.eventstudy.crosssection._parts._Parts`; ``d`` (daily) the day's pairs
and AAR, ``w`` (window) the window's complete pairs and CARs
(:class:`~oilimpact.eventstudy.crosssection.windows.Window`).

References
----------
Brown, S. J., Warner, J. B. (1980). Measuring security price performance. JFE 8,
205-258; (1985) Using daily stock returns. JFE 14, 3-31.
Patell, J. M. (1976). Corporate forecasts of earnings per share and stock price
behavior. Journal of Accounting Research 14, 246-276.
Boehmer, E., Musumeci, J., Poulsen, A. B. (1991). Event-study methodology under
conditions of event-induced variance. JFE 30, 253-272.
Kolari, J. W., Pynnonen, S. (2010). Event study testing with cross-sectional correlation
of abnormal returns. Review of Financial Studies 23, 3996-4025.
MacKinlay, A. C. (1997). Event studies in economics and finance. JEL 35, 13-39.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..panel import AbnormalPanel
from ._arrays import _col_mean, _col_sd, _div, _pvalue_normal, _pvalue_t
from ._parts import _Parts
from .rbar import _kp_factors

Rows = dict[str, tuple[Any, Any, Any]]


# ---- daily forms ---------------------------------------------------------------------


def daily_t(p: _Parts, d: Any) -> Rows:
    """Cross-sectional t: :math:`\\bar A_t / (s_t / \\sqrt{n_t})`, :math:`s_t` the
    cross-sectional sd (ddof 1) of the day's ARs; t(n_t - 1)."""
    sd = _col_sd(p.ar, d.ok)
    stat = _div(d.mean_ar * np.sqrt(d.n_ar), sd)
    return {"cross_sectional_t": (stat, _pvalue_t(stat, d.n_ar - 1), d.n_ar)}


def daily_brown_warner(p: _Parts, d: Any) -> Rows:
    """Brown-Warner (1985) crude dependence adjustment: :math:`\\bar A_t / S_t(\\bar A)`,
    :math:`S_t(\\bar A)` the sd (ddof 1) of the estimation-window daily AAR series of
    the day's own :math:`n_t` pairs (:meth:`_Parts.bw_scales`); t(T - 1), T the
    estimation days with one of them. estudy2 (``brown_warner_1985``): one scale from
    all N pairs."""
    if p.estudy2:
        bw_sd, t_est = p.bw_sd
    else:
        bw_sd, t_est = p.bw_scales(d.ok)
    stat = _div(d.mean_ar, bw_sd)
    return {"brown_warner": (stat, _pvalue_t(stat, t_est - 1), d.n_ar)}


def daily_brown_warner_indep(p: _Parts, d: Any) -> Rows:
    """Brown-Warner (1980) under independence: :math:`\\bar A_t / (\\sqrt{\\sum_i
    s_i^2}/n_t)` over the day's pairs with a variance (estudy2 ``brown_warner_1980``:
    all N pairs' residual variances, over N); N(0, 1)."""
    var_ok = d.ok & np.isfinite(p.bw_var)[:, None]
    if p.estudy2:
        den = np.sqrt(np.nansum(p.bw_var)) / p.n_pairs
        stat = _div(d.mean_ar, den)
        n_used = d.n_ar
    else:
        m, n_used = _col_mean(p.ar, var_ok)
        den = _div(np.sqrt(np.where(var_ok, p.bw_var[:, None], 0.0).sum(axis=0)), n_used)
        stat = _div(m, den)
    return {"brown_warner_indep": (stat, _pvalue_normal(stat), n_used)}


def daily_patell_bmp(p: _Parts, d: Any, adjusted: bool) -> Rows:
    """Patell, BMP and (with ``adjusted``) their Kolari-Pynnonen adjustments.

    Notes
    -----
    With :math:`SAR_{it} = A_{it} / (s_i \\sqrt{C_{it}})` and :math:`d_i` the residual
    degrees of freedom :math:`L_{1i} - k`:

    * Patell: :math:`\\sum_i SAR_{it} / \\sqrt{\\sum_i d_i/(d_i-2)}`; N(0, 1). estudy2:
      :math:`d_i = L_{1i} - 2`, sums over all N pairs, a missing SAR replaced by the
      day's mean.
    * BMP: :math:`\\overline{SAR}_t / (s(SAR_t)/\\sqrt{n_t})`; t(n_t - 1).
    * KP (2010): Patell times :math:`1/\\sqrt{1 + \\bar r M/n}` and BMP times
      :math:`\\sqrt{(1 - \\bar r M/(n(n-1)))/(1 + \\bar r M/n)}`, M the ordered pairs of
      the day's pairs that share an event date, :math:`\\bar r` the same-date r-bar
      (one cluster: KP's :math:`\\sqrt{(1-\\bar r)/(1+(n-1)\\bar r)}`).
    """
    w_ok = d.sar_ok & np.isfinite(p.patell_w)[:, None]
    if p.estudy2:
        sar_mean, _ = _col_mean(p.sar, d.sar_ok)
        num = sar_mean * p.n_pairs
        den = np.sqrt(np.nansum(p.patell_w))
        n_pat = d.n_sar
    else:
        num = np.where(w_ok, p.sar, 0.0).sum(axis=0)
        den = np.sqrt(np.where(w_ok, p.patell_w[:, None], 0.0).sum(axis=0))
        n_pat = w_ok.sum(axis=0)
    patell = _div(num, den)
    sar_mean, _ = _col_mean(p.sar, d.sar_ok)
    bmp = _div(sar_mean * np.sqrt(d.n_sar), _col_sd(p.sar, d.sar_ok))
    out: Rows = {
        "patell": (patell, _pvalue_normal(patell), n_pat),
        "bmp": (bmp, _pvalue_t(bmp, d.n_sar - 1), d.n_sar),
    }
    if adjusted:
        f_pat, f_bmp = _kp_factors(p.rbar, p.cluster_pairs(d.sar_ok), d.n_sar)
        stat = patell * f_pat
        out["adjusted_patell"] = (stat, _pvalue_normal(stat), n_pat)
        stat = bmp * f_bmp
        out["adjusted_bmp"] = (stat, _pvalue_t(stat, d.n_sar - 1), d.n_sar)
    return out


# ---- window forms --------------------------------------------------------------------


def window_t(p: _Parts, w: Any) -> Rows:
    """Cross-sectional t of the CAAR: :math:`\\overline{CAR}/(s(CAR)/\\sqrt n)`;
    t(n-1)."""
    sd = float(np.std(w.car[w.has], ddof=1)) if w.n > 1 else np.nan
    stat = float(_div(w.caar * np.sqrt(w.n), sd))
    return {"cross_sectional_t": (stat, float(_pvalue_t(stat, w.n - 1)), w.n)}


def window_brown_warner(p: _Parts, w: Any) -> tuple[Rows, dict[str, str]]:
    """Brown-Warner CDA over a window of :math:`\\tau` days:
    :math:`\\overline{CAR} / (\\sqrt{\\tau} S(\\bar A))`, :math:`S(\\bar A)` from the
    estimation-window AAR of the window's n pairs (``w.bw_sd``; estudy2: of all N
    pairs); t(T-1), T = ``w.bw_t`` estimation days."""
    stat = float(_div(w.caar, np.sqrt(w.tau) * w.bw_sd))
    rows: Rows = {"brown_warner": (stat, float(_pvalue_t(stat, w.bw_t - 1)), w.n)}
    if w.n and w.bw_t < 2:
        why = f"Brown-Warner needs 2 estimation days with these pairs, got {int(w.bw_t)}"
        return rows, {"brown_warner": why}
    return rows, {}


def window_brown_warner_indep(p: _Parts, w: Any) -> Rows:
    """Brown-Warner under independence: :math:`\\overline{CAR} / (\\sqrt{\\tau
    \\sum_i s_i^2}/n)` over the window's pairs with a variance; N(0, 1)."""
    if p.estudy2:
        den = np.sqrt(w.tau * np.nansum(p.bw_var)) / p.n_pairs
        stat = float(_div(w.caar, den))
        n_used = w.n
    else:
        use = w.has & np.isfinite(p.bw_var)
        n_used = int(use.sum())
        den = np.sqrt(w.tau * p.bw_var[use].sum()) / n_used if n_used else np.nan
        stat = float(_div(w.car[use].mean(), den)) if n_used else np.nan
    return {"brown_warner_indep": (stat, float(_pvalue_normal(stat)), n_used)}


def window_patell_bmp(p: _Parts, w: Any) -> tuple[Rows, dict[str, str]]:
    """Patell and BMP on the standardized CAR :math:`SCAR_i = CAR_i / (s_i \\sqrt{1'
    C_i 1})` (``C_i`` the window block of ``pe_cov``, MacKinlay 1997 eq. 9):
    :math:`\\sum_i SCAR_i / \\sqrt{\\sum_i d_i/(d_i-2)}`, N(0, 1), and
    :math:`\\overline{SCAR}/(s(SCAR)/\\sqrt n)`, t(n-1)."""
    scar, sc_ok, n_sc = w.scar, w.sc_ok, w.n_sc
    w_ok = sc_ok & np.isfinite(p.patell_w)
    if p.estudy2:
        num = scar[sc_ok].mean() * p.n_pairs if n_sc else np.nan
        patell = float(_div(num, np.sqrt(np.nansum(p.patell_w))))
        n_pat = n_sc
    else:
        patell = float(_div(scar[w_ok].sum(), np.sqrt(p.patell_w[w_ok].sum())))
        n_pat = int(w_ok.sum())
    sd = float(np.std(scar[sc_ok], ddof=1)) if n_sc > 1 else np.nan
    mean_sc = float(scar[sc_ok].mean()) if n_sc else np.nan
    bmp = float(_div(mean_sc * np.sqrt(n_sc), sd))
    rows: Rows = {
        "patell": (patell, float(_pvalue_normal(patell)), n_pat),
        "bmp": (bmp, float(_pvalue_t(bmp, n_sc - 1)), n_sc),
    }
    why = {"patell": "pairs with 2 or fewer residual degrees of freedom left out"}
    return rows, (why if n_pat < n_sc else {})


def window_kp(p: _Parts, w: Any, rows: Rows) -> tuple[Rows, dict[str, str], float]:
    """Kolari-Pynnonen (2010) adjusted Patell and BMP of a window, over the clusters of
    pairs whose windows share calendar days (event dates at most ``hi - lo`` business
    days apart), and the r-bar used.

    Notes
    -----
    With ``M`` the ordered same-cluster pairs among the n and :math:`\\bar r` from
    :func:`~oilimpact.eventstudy.crosssection.rbar.calendar_rbar`::

        f_patell = 1 / sqrt(1 + rbar * M / n)
        f_bmp = sqrt((1 - rbar * M / (n * (n - 1))) / (1 + rbar * M / n))
    """
    span = w.hi - w.lo
    rb = p.rbar_info(span)
    mp = p.cluster_pairs(w.sc_ok[:, None], span)
    return kp_rows(rb, mp, w.n_sc, rows)


def kp_rows(rb: Any, mp: np.ndarray, n_sc: int, rows: Rows) -> tuple[Rows, dict[str, str], float]:
    """The adjusted rows from r-bar ``rb`` (:class:`RBar`), ``M`` and the plain rows."""
    f_pat, f_bmp = _kp_factors(rb.value, mp, np.array([float(n_sc)]))
    patell, _, n_pat = rows["patell"]
    bmp = rows["bmp"][0]
    out: Rows = {}
    stat = patell * float(f_pat[0])
    out["adjusted_patell"] = (stat, float(_pvalue_normal(stat)), n_pat)
    stat = bmp * float(f_bmp[0])
    out["adjusted_bmp"] = (stat, float(_pvalue_t(stat, n_sc - 1)), n_sc)
    why: dict[str, str] = {}
    if rb.note and not np.isfinite(rb.value):
        why = {"adjusted_patell": rb.note, "adjusted_bmp": rb.note}
    elif rb.approximate:
        note = "r-bar pooled over a large cluster with missing dates (approximate)"
        why = {"adjusted_patell": note, "adjusted_bmp": note}
    return out, why, rb.value


def residual_correlation(panel: AbnormalPanel) -> float:
    """Average pairwise correlation of estimation residuals among same-date pairs.

    The :math:`\\bar r` of Kolari and Pynnonen (2010), used by the ``adjusted_patell``
    and ``adjusted_bmp`` daily tests, with residuals matched by calendar date.

    Parameters
    ----------
    panel : AbnormalPanel
        ``panel.est_dates`` (when present) gives the calendar date of each residual;
        without it the estimation columns are taken as common dates.

    Returns
    -------
    float
        :math:`\\bar r`; 0.0 when no two pairs share an event date; NaN when some do
        but no two of them observe :data:`RBAR_MIN_OVERLAP` common estimation dates.

    Notes
    -----
    :func:`calendar_rbar` over the same-event-date groups: the mean, over pairs
    ``i < j`` with the same event date, of the Pearson correlation of their residuals
    on the calendar dates both observe (as ``pandas.DataFrame.corr`` of the residual
    series keyed by date). Pairs that share fewer than :data:`RBAR_MIN_OVERLAP` dates
    are left out. Windows of several days use clusters of overlapping windows instead
    (:func:`cross_sectional_tests`, the ``rbar`` column).

    References
    ----------
    .. [1] Kolari, J. W., Pynnonen, S. (2010). Event study testing with cross-sectional
       correlation of abnormal returns. Review of Financial Studies 23, 3996-4025.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from oilimpact.eventstudy.panel import AbnormalPanel
    >>> rng = np.random.default_rng(2)
    >>> common = rng.normal(size=(1, 250))
    >>> e = 0.5 * common + rng.normal(size=(4, 250))
    >>> panel = AbnormalPanel(
    ...     ids=pd.MultiIndex.from_product([["e"], range(4)], names=["event", "asset"]),
    ...     est_resid=e, n_est=np.full(4, 250), n_params=0, sigma2=np.ones(4),
    ...     event_days=np.arange(1), event_ar=np.zeros((4, 1)),
    ...     pe_cov=np.ones((4, 1, 1)), event_dates=np.full(4, np.datetime64("2020-01-02")))
    >>> c = np.corrcoef(e)
    >>> bool(np.isclose(residual_correlation(panel), c[np.triu_indices(4, 1)].mean()))
    True
    """
    return float(_Parts(panel).rbar)
