"""Tests for many assets or events: daily AAR and multi-day CAAR statistics.

Every function here reads an :class:`~oilimpact.study.panel.AbnormalPanel` and returns a
tidy :class:`pandas.DataFrame`; nothing is re-estimated, so the functions are pure numpy
and vectorised over pairs (no Python loop over pairs; loops run over event-window days
or windows only).

Tests (the ``test`` column; formulas in ``docs/methods-crosssection.md``), each with its
reference law for the two-sided p-value:

- ``cross_sectional_t``: AAR over its cross-sectional standard error, t(n-1).
- ``brown_warner``: Brown-Warner crude dependence adjustment (sd of the
  estimation-window AAR series; estudy2's ``brown_warner_1985``), t(T-1).
- ``brown_warner_indep``: Brown-Warner under independence (estudy2's
  ``brown_warner_1980``), N(0, 1).
- ``patell``: Patell (1976) standardized residuals, PE-corrected, N(0, 1).
- ``bmp``: Boehmer-Musumeci-Poulsen (1991) standardized cross-sectional test, t(n-1).
- ``adjusted_patell``, ``adjusted_bmp``: Kolari-Pynnonen (2010) same-date clustering
  adjustments, N(0, 1) and t(n-1).
- ``sign``: sign test with p = 1/2, N(0, 1).
- ``generalized_sign``: Cowan (1992), N(0, 1).
- ``rank``: Corrado (1989); Cowan (1992) over windows, N(0, 1).
- ``modified_rank``: Corrado-Zivney (1992) standardized ranks, N(0, 1).
- ``grank``: Kolari-Pynnonen (2011) generalized rank test, t(T-2).

``panel.conventions`` selects ``"textbook"`` (the papers) or ``"estudy2"`` (the R package
estudy2 0.10) where the two disagree at test level; the model-level differences (residual
variance divisor, prediction-error correction) are already in the panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Final

import numpy as np
import pandas as pd
from scipy import sparse, stats

from .panel import AbnormalPanel

__all__ = [
    "DAILY_TESTS",
    "WINDOW_TESTS",
    "cross_sectional_tests",
    "daily_tests",
    "residual_correlation",
]

#: Every test :func:`daily_tests` knows, in output order.
DAILY_TESTS: Final[tuple[str, ...]] = (
    "cross_sectional_t",
    "brown_warner",
    "brown_warner_indep",
    "patell",
    "bmp",
    "adjusted_patell",
    "adjusted_bmp",
    "sign",
    "generalized_sign",
    "rank",
    "modified_rank",
    "grank",
)

#: Every test :func:`cross_sectional_tests` knows (the same names, multi-day versions).
WINDOW_TESTS: Final[tuple[str, ...]] = DAILY_TESTS

_DAILY_COLUMNS = ["day", "date", "test", "statistic", "pvalue", "n", "mean_ar"]
_WINDOW_COLUMNS = ["window", "lo", "hi", "test", "statistic", "pvalue", "n", "caar"]


# --------------------------------------------------------------------------------------
# small numpy helpers
# --------------------------------------------------------------------------------------


def _div(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray:
    """``num / den`` with NaN (not inf or a warning) where ``den`` is 0 or NaN."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    ok = np.isfinite(den) & (den != 0)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=ok)
    return out


def _col_mean(x: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means of ``x`` over ``mask`` and the counts (NaN mean where count is 0)."""
    cnt = mask.sum(axis=0)
    tot = np.where(mask, x, 0.0).sum(axis=0)
    return _div(tot, cnt), cnt


def _col_sd(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Column sample standard deviations (ddof 1) over ``mask``."""
    mean, cnt = _col_mean(x, mask)
    dev = np.where(mask, x - mean, 0.0)
    return np.sqrt(_div((dev**2).sum(axis=0), cnt - 1))


def _pvalue_normal(z: np.ndarray) -> np.ndarray:
    return 2.0 * stats.norm.sf(np.abs(z))


def _pvalue_t(z: np.ndarray, df: np.ndarray | float) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    df = np.where(df > 0, df, np.nan)
    return 2.0 * stats.t.sf(np.abs(z), df)


def _rank_rows(x: np.ndarray) -> np.ndarray:
    """Ranks within each row (average ties), NaN kept as NaN (R's ``na.last='keep'``).

    Sort-based and vectorised over rows; equals ``scipy.stats.rankdata(x, axis=1,
    nan_policy="omit")`` with NaN restored, at a fraction of its cost.
    """
    n, width = x.shape
    if width == 0 or n == 0:
        return x.astype(float, copy=True)
    order = np.argsort(x, axis=1, kind="stable")  # NaN sort last
    xs = np.take_along_axis(x, order, axis=1)
    ordinal = np.broadcast_to(np.arange(1.0, width + 1.0), (n, width))
    new = np.empty((n, width), dtype=bool)
    new[:, 0] = True
    np.not_equal(xs[:, 1:], xs[:, :-1], out=new[:, 1:])
    if new.all():
        ranks_sorted = ordinal
    else:  # average the ordinal ranks within each run of equal values
        gid = np.cumsum(new.ravel()) - 1
        avg = np.bincount(gid, weights=ordinal.ravel()) / np.bincount(gid)
        ranks_sorted = avg[gid].reshape(n, width)
    ranks = np.empty((n, width))
    np.put_along_axis(ranks, order, ranks_sorted, axis=1)
    ranks[np.isnan(x)] = np.nan
    return ranks


def _one_hot(inv: np.ndarray, n_groups: int) -> sparse.csr_matrix:
    """Sparse ``(G, N)`` group-membership matrix."""
    n = inv.size
    return sparse.csr_matrix((np.ones(n), (inv, np.arange(n))), shape=(n_groups, n))


# --------------------------------------------------------------------------------------
# the pieces every test needs, computed lazily once per panel
# --------------------------------------------------------------------------------------


class _Parts:
    """Arrays derived from the panel on first use and shared by all tests (internal)."""

    def __init__(self, panel: AbnormalPanel) -> None:
        self.panel = panel
        self.estudy2 = panel.conventions == "estudy2"
        self.ar = np.asarray(panel.event_ar, dtype=float)
        self.est = np.asarray(panel.est_resid, dtype=float)
        self.n_pairs = self.ar.shape[0]
        self.l1 = self.est.shape[1]
        s2 = np.asarray(panel.sigma2, dtype=float)
        self.valid = np.isfinite(s2) & (s2 > 0)  # pairs with a usable variance
        self.s2 = np.where(self.valid, s2, np.nan)
        self.ar_ok = np.isfinite(self.ar)
        self._grank_all: tuple[np.ndarray, ...] | None = None

    @cached_property
    def est_ok(self) -> np.ndarray:
        return np.isfinite(self.est)

    @cached_property
    def pe_diag(self) -> np.ndarray:
        return np.diagonal(np.asarray(self.panel.pe_cov, dtype=float), axis1=1, axis2=2)

    @cached_property
    def sar(self) -> np.ndarray:
        return self.ar / np.sqrt(self.s2[:, None] * self.pe_diag)

    @cached_property
    def sar_ok(self) -> np.ndarray:
        return np.isfinite(self.sar)

    @cached_property
    def patell_w(self) -> np.ndarray:
        """``Var(SAR_i) = d_i / (d_i - 2)`` for a t(d_i) variable; NaN where d_i <= 2."""
        n_est = np.asarray(self.panel.n_est, dtype=float)
        df = n_est - (2 if self.estudy2 else self.panel.n_params)
        return np.where(df > 2, _div(df, df - 2), np.nan)

    @cached_property
    def bw_var(self) -> np.ndarray:
        """Per-pair AR variance of the Brown-Warner independence test."""
        if not self.estudy2:  # textbook: the model's residual variance
            return self.s2
        # estudy2: colVars of the estimation residuals (demeaned, divisor n - 1)
        ok = self.est_ok
        cnt = ok.sum(axis=1)
        mean = _div(np.where(ok, self.est, 0.0).sum(axis=1), cnt)
        dev = np.where(ok, self.est - mean[:, None], 0.0)
        return _div((dev**2).sum(axis=1), cnt - 1)

    @cached_property
    def bw_sd(self) -> tuple[float, int]:
        """sd (ddof 1) of the estimation-window daily AAR series and its length T."""
        est_aar, est_cnt = _col_mean(self.est, self.est_ok)
        has = est_cnt > 0
        t_est = int(has.sum())
        sd = float(np.std(est_aar[has], ddof=1)) if t_est > 1 else np.nan
        return sd, t_est

    @cached_property
    def p_hat(self) -> float:
        """Generalized-sign p-hat: estimation-window fraction of positive residuals."""
        ok = self.est_ok
        pos = (self.est > 0) & ok
        if self.estudy2:  # pooled over all security-days
            tot = ok.sum()
            return float(pos.sum() / tot) if tot else np.nan
        cnt = ok.sum(axis=1)
        frac = _div(pos.sum(axis=1), cnt)[cnt > 0]
        return float(frac.mean()) if frac.size else np.nan

    @cached_property
    def rank_days(self) -> tuple[np.ndarray, np.ndarray, float, float, np.ndarray]:
        """Daily rank-test ingredients on the combined (L1 + L2) grid.

        Returns ``(kbar, ubar, s_k, s_u, n_t)``: the day statistics of the Corrado and
        Corrado-Zivney tests (convention applied), their time-series scales and the
        number of ranked pairs per day.
        """
        full = np.concatenate([self.est, self.ar], axis=1)
        full[~self.valid] = np.nan
        k = _rank_rows(full)
        ok = np.isfinite(k)
        okf = ok.astype(float)
        li = okf.sum(axis=1)
        n_t = okf.sum(axis=0)
        kf = np.where(ok, k, 0.0)
        # sum_i (K_it - (L_i+1)/2) and sum_i (K_it/(L_i+1) - 1/2) as matrix products
        inv = _div(1.0, li + 1.0)
        inv[~np.isfinite(inv)] = 0.0
        kbar = _div(kf.sum(axis=0) - ((li + 1.0) / 2.0) @ okf, n_t)
        umean = _div(inv @ kf, n_t) - 0.5
        umean[n_t == 0] = np.nan
        t_len = float(li[li > 0].mean()) if (li > 0).any() else np.nan
        if self.estudy2:  # a missing rank replaced by the row mean: sum = mean * N
            kbar = kbar * _div(self.n_pairs, n_t)
            ubar = umean * _div(self.n_pairs, np.sqrt(n_t))
        else:
            ubar = umean * np.sqrt(n_t)
        s_k = float(np.sqrt(np.nansum(kbar**2) / t_len))
        s_u = float(np.sqrt(np.nansum(ubar**2) / t_len))
        return kbar, ubar, s_k, s_u, n_t

    @cached_property
    def groups(self) -> sparse.csr_matrix:
        """One-hot ``(G, N)`` membership of same-event-date clusters."""
        dates = np.asarray(self.panel.event_dates).astype("datetime64[ns]").ravel()
        _, inv = np.unique(dates, return_inverse=True)
        inv = inv.ravel()
        return _one_hot(inv, int(inv.max()) + 1 if inv.size else 0)

    @cached_property
    def rbar(self) -> float:
        return _pooled_rbar(self.est, self.groups)

    def cluster_pairs(self, mask: np.ndarray) -> np.ndarray:
        """``M = sum_g n_g (n_g - 1)`` (ordered same-date pairs) per column of ``mask``."""
        counts = np.asarray(self.groups @ mask.astype(float))
        return (counts * (counts - 1.0)).sum(axis=0)

    @cached_property
    def _grank_est(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Estimation SARs ``e_it / s_i``, their row ranks (0 where missing), ``L_i``,
        and the finite mask."""
        est_sar = self.est / np.sqrt(self.s2)[:, None]
        ok = np.isfinite(est_sar)
        ranks = np.where(ok, _rank_rows(est_sar), 0.0)
        li = ok.sum(axis=1).astype(float)
        return est_sar, ranks, li, ok

    def grank_base(
        self, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """GRANK ingredients restricted to ``rows``: ``(est_sar, sum_i K_it/(L_i+2),
        1/(L_i+2), n_t, L_i)``; cached for the all-rows case."""
        if rows.all() and self._grank_all is not None:
            return self._grank_all
        est_sar, ranks, li, ok = self._grank_est
        if not rows.all():
            est_sar, ranks, li, ok = est_sar[rows], ranks[rows], li[rows], ok[rows]
        inv = 1.0 / (li + 2.0)  # L_i estimation values + the event value, + 1
        out = (est_sar, inv @ ranks, inv, ok.sum(axis=0).astype(float), li)
        if rows.all():
            self._grank_all = out
        return out


def _pooled_rbar(est: np.ndarray, groups: sparse.csr_matrix) -> float:
    """Average pairwise correlation of estimation residuals among same-date pairs."""
    ok = np.isfinite(est)
    cnt = ok.sum(axis=1)
    mean = _div(np.where(ok, est, 0.0).sum(axis=1), cnt)
    dev = np.where(ok, est - mean[:, None], 0.0)
    sd = np.sqrt(_div((dev**2).sum(axis=1), cnt - 1))
    use = np.isfinite(sd) & (sd > 0)
    z = np.where(use[:, None], dev / np.where(use, sd, 1.0)[:, None], 0.0)
    okf = (ok & use[:, None]).astype(float)
    gz = np.asarray(groups @ z)
    gm = np.asarray(groups @ okf)
    num = float((gz**2).sum() - (z**2).sum())
    n_g = np.asarray(groups @ use.astype(float)).ravel()
    pairs = float((n_g * (n_g - 1.0)).sum())
    den = float((gm**2 - gm).sum()) - pairs  # sum over ordered pairs of (T_ij - 1)
    if pairs == 0 or den <= 0:
        return 0.0
    return num / den


def _kp_factors(rbar: float, m_pairs: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kolari-Pynnonen (2010) factors for Patell and BMP, generalised to partial clusters.

    With ``M`` ordered same-date pairs among ``n``: ``Var(sum SAR) = n + rbar M`` and
    ``E[s^2] = 1 - rbar M / (n (n-1))``. One cluster (``M = n(n-1)``) gives KP's
    ``sqrt((1 - rbar) / (1 + (n-1) rbar))``; no shared dates (``M = 0``) gives 1.
    """
    infl = 1.0 + rbar * _div(m_pairs, n)
    shrink = 1.0 - rbar * _div(m_pairs, n * (n - 1.0))
    f_patell = _div(1.0, np.sqrt(infl))
    f_bmp = np.sqrt(_div(shrink, infl))
    return f_patell, f_bmp


def _grank(parts: _Parts, event_sar: np.ndarray) -> tuple[float, float, int]:
    """Kolari-Pynnonen (2011) GRANK for one event "day" carrying ``event_sar`` (N,).

    The event observation (re-standardized by its cross-sectional sd) is ranked against
    each pair's estimation SARs. Estimation ranks are cached once per panel and updated
    with one comparison per day (an estimation value above the event value moves up one
    rank, a tie half a rank), so nothing is re-sorted per day.
    """
    ok0 = np.isfinite(event_sar)
    n0 = int(ok0.sum())
    if n0 < 2:
        return np.nan, np.nan, n0
    sd = float(np.std(event_sar[ok0], ddof=1))
    if not sd > 0:
        return np.nan, np.nan, n0
    est_sar, base_sum, inv, n_t, li = parts.grank_base(ok0)
    x = (event_sar[ok0] / sd)[:, None]
    shift: np.ndarray = x < est_sar  # event value below: that estimation rank moves up
    ties = x == est_sar
    if ties.any():
        shift = shift + 0.5 * ties
    ubar_est = _div(base_sum + inv @ shift, n_t) - 0.5  # column means of U, est days
    above = np.count_nonzero(shift, axis=1) if shift.dtype == bool else shift.sum(axis=1)
    k_ev = 1.0 + li - above  # rank of the event value among its L_i + 1 values
    ubar_ev = float((k_ev * inv).mean() - 0.5)
    t_len = parts.l1 + 1.0
    ss = np.nansum((n_t / n0) * ubar_est**2) + ubar_ev**2
    s_u = float(np.sqrt(ss / t_len))
    z = float(ubar_ev / s_u) if s_u > 0 else np.nan  # KP 2011 eq. (12); |z| <= sqrt(T)
    rest = t_len - 1.0 - z**2
    t_stat = z * np.sqrt((t_len - 2.0) / rest) if rest > 0 else float(np.copysign(np.inf, z))
    return float(t_stat), float(_pvalue_t(np.asarray(t_stat), t_len - 2.0)), n0


def _put(res: dict[str, tuple[float, float, int]], name: str, *row: float) -> None:
    stat, pval, n_used = row
    res[name] = (float(stat), float(pval), int(n_used))


def _check_tests(tests: Sequence[str] | str, known: tuple[str, ...]) -> list[str]:
    if isinstance(tests, str):
        tests = [tests]
    tests = list(tests)
    bad = [t for t in tests if t not in known]
    if bad:
        raise ValueError(f"unknown test(s) {bad}; known: {', '.join(known)}")
    return tests


# --------------------------------------------------------------------------------------
# daily tests
# --------------------------------------------------------------------------------------


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
    :math:`SAR_{it} = A_{it} / (s_i \\sqrt{C_{it}})`:

    * cross-sectional t: :math:`\\bar A_t / (s_t / \\sqrt{n_t})`, :math:`s_t` the
      cross-sectional sd of :math:`A_{it}`; t(n_t - 1).
    * Brown-Warner (crude dependence adjustment):
      :math:`\\bar A_t / S(\\bar A)`, :math:`S(\\bar A)` the sd (ddof 1) of the
      estimation-window daily AAR series; t(T - 1) with T estimation days.
    * Brown-Warner under independence: :math:`\\bar A_t / (\\sqrt{\\sum_i s_i^2}/n_t)`
      (estudy2: all N pairs' ``var`` of residuals over N); N(0, 1).
    * Patell: :math:`\\sum_i SAR_{it} / \\sqrt{\\sum_i d_i/(d_i-2)}`, :math:`d_i` the
      residual degrees of freedom :math:`L_{1i} - k` (estudy2: :math:`L_{1i} - 2`, sums
      over all N pairs, a missing SAR replaced by the day's mean); N(0, 1).
    * BMP: :math:`\\overline{SAR}_t / (s(SAR_t)/\\sqrt{n_t})`; t(n_t - 1).
    * Kolari-Pynnonen: BMP times :math:`\\sqrt{(1-\\bar r)/(1+(n-1)\\bar r)}` and Patell
      over :math:`\\sqrt{1+(n-1)\\bar r}`, :math:`\\bar r` the average correlation of
      estimation residuals of pairs that share an event date (see
      :func:`residual_correlation`); pairs on different dates are treated as
      uncorrelated, so without shared dates the adjusted tests equal the plain ones.
    * sign: :math:`(w - n/2)/\\sqrt{n/4}`, w the number of positive ARs.
    * generalized sign: :math:`(w - n\\hat p)/\\sqrt{n \\hat p (1-\\hat p)}`,
      :math:`\\hat p` the mean over pairs of the fraction of positive estimation
      residuals (estudy2: pooled over all pair-days).
    * rank: ranks :math:`K_{it}` over the estimation and event windows,
      :math:`\\bar K_t = n_t^{-1}\\sum_i (K_{it} - (L_i+1)/2)`,
      :math:`S_K = \\sqrt{T^{-1}\\sum_t \\bar K_t^2}`, statistic
      :math:`\\bar K_0 / S_K`; T is the mean number of observations per pair
      (:math:`L_1 + L_2` with complete data). estudy2 replaces a missing rank by the
      day's mean rank (``rowMeans(na.rm=TRUE) * ncol``), scaling :math:`\\bar K_t` by
      :math:`N / n_t`.
    * modified rank: :math:`U_{it} = K_{it}/(L_i+1) - 1/2`,
      :math:`\\bar U_t = n_t^{-1/2}\\sum_i U_{it}`, statistic
      :math:`\\bar U_0 / \\sqrt{T^{-1}\\sum_t \\bar U_t^2}` (estudy2: row-mean
      imputation as above).
    * GRANK: ranks of generalized SARs (estimation :math:`e_{it}/s_i`, event day
      :math:`SAR_{i0}` re-standardized by its cross-sectional sd), uniform scores
      :math:`U_{it} = K_{it}/(L_i+1) - 1/2` on the :math:`T = L_1 + 1` points,
      :math:`Z = \\bar U_0 / S_{\\bar U}` with
      :math:`S_{\\bar U}^2 = T^{-1}\\sum_t (n_t/n) \\bar U_t^2`, reported as
      :math:`Z\\sqrt{(T-2)/(T-1-Z^2)}` ~ t(T-2).

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
    >>> from oilimpact.study.panel import AbnormalPanel
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
    l2 = days.size
    date_col = _date_column(panel, dates, l2)

    ok = p.ar_ok
    mean_ar, n_ar = _col_mean(p.ar, ok)
    sar_ok = p.sar_ok
    n_sar = sar_ok.sum(axis=0)
    results: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def need(*names: str) -> bool:
        return any(t in tests for t in names)

    if need("cross_sectional_t"):
        sd = _col_sd(p.ar, ok)
        stat = _div(mean_ar * np.sqrt(n_ar), sd)
        results["cross_sectional_t"] = (stat, _pvalue_t(stat, n_ar - 1), n_ar)

    if need("brown_warner"):
        bw_sd, t_est = p.bw_sd
        stat = _div(mean_ar, bw_sd)
        results["brown_warner"] = (stat, _pvalue_t(stat, t_est - 1), n_ar)

    if need("brown_warner_indep"):
        var_ok = ok & np.isfinite(p.bw_var)[:, None]
        if p.estudy2:
            den = np.sqrt(np.nansum(p.bw_var)) / p.n_pairs
            stat = _div(mean_ar, den)
            n_used = n_ar
        else:
            m, n_used = _col_mean(p.ar, var_ok)
            den = _div(np.sqrt(np.where(var_ok, p.bw_var[:, None], 0.0).sum(axis=0)), n_used)
            stat = _div(m, den)
        results["brown_warner_indep"] = (stat, _pvalue_normal(stat), n_used)

    if need("patell", "adjusted_patell", "bmp", "adjusted_bmp"):
        w_ok = sar_ok & np.isfinite(p.patell_w)[:, None]
        if p.estudy2:
            sar_mean, _ = _col_mean(p.sar, sar_ok)
            num = sar_mean * p.n_pairs
            den = np.sqrt(np.nansum(p.patell_w))
            n_pat = n_sar
        else:
            num = np.where(w_ok, p.sar, 0.0).sum(axis=0)
            den = np.sqrt(np.where(w_ok, p.patell_w[:, None], 0.0).sum(axis=0))
            n_pat = w_ok.sum(axis=0)
        patell = _div(num, den)
        sar_mean, _ = _col_mean(p.sar, sar_ok)
        bmp = _div(sar_mean * np.sqrt(n_sar), _col_sd(p.sar, sar_ok))
        results["patell"] = (patell, _pvalue_normal(patell), n_pat)
        results["bmp"] = (bmp, _pvalue_t(bmp, n_sar - 1), n_sar)
        if need("adjusted_patell", "adjusted_bmp"):
            f_pat, f_bmp = _kp_factors(p.rbar, p.cluster_pairs(sar_ok), n_sar)
            stat = patell * f_pat
            results["adjusted_patell"] = (stat, _pvalue_normal(stat), n_pat)
            stat = bmp * f_bmp
            results["adjusted_bmp"] = (stat, _pvalue_t(stat, n_sar - 1), n_sar)

    if need("sign", "generalized_sign"):
        pos = (p.ar > 0) & ok
        w = _col_mean(pos.astype(float), ok)[0] * p.n_pairs if p.estudy2 else pos.sum(0)
        stat = _div(w - 0.5 * n_ar, np.sqrt(0.25 * n_ar))
        results["sign"] = (stat, _pvalue_normal(stat), n_ar)
        ph = p.p_hat
        stat = _div(w - n_ar * ph, np.sqrt(n_ar * ph * (1.0 - ph)))
        results["generalized_sign"] = (stat, _pvalue_normal(stat), n_ar)

    if need("rank", "modified_rank"):
        kbar, ubar, s_k, s_u, n_t = p.rank_days
        ev = slice(p.l1, None)
        stat = _div(kbar[ev], s_k)
        results["rank"] = (stat, _pvalue_normal(stat), n_t[ev])
        stat = _div(ubar[ev], s_u)
        results["modified_rank"] = (stat, _pvalue_normal(stat), n_t[ev])

    if need("grank"):
        out = np.array([_grank(p, p.sar[:, j]) for j in range(l2)]).reshape(l2, 3)
        results["grank"] = (out[:, 0], out[:, 1], out[:, 2])

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


# --------------------------------------------------------------------------------------
# multi-day windows
# --------------------------------------------------------------------------------------


def _window_label(lo: int, hi: int) -> str:
    def fmt(d: int) -> str:
        return f"+{d}" if d > 0 else str(d)

    return f"[{fmt(lo)},{fmt(hi)}]"


def cross_sectional_tests(
    panel: AbnormalPanel,
    windows: Sequence[tuple[int, int]],
    tests: Sequence[str] = WINDOW_TESTS,
) -> pd.DataFrame:
    """Cross-sectional tests of the cumulative average abnormal return over windows.

    Parameters
    ----------
    panel : AbnormalPanel
        Abnormal returns and variance ingredients of N (event, asset) pairs.
    windows : sequence of (int, int)
        Inclusive relative-day windows, e.g. ``[(0, 0), (0, 5), (-1, 1)]``.
    tests : sequence of str, default :data:`WINDOW_TESTS`
        Names of the tests to run.

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per (window, test): ``window`` (``"[0,+5]"``), ``lo``, ``hi``,
        ``test``, ``statistic``, ``pvalue`` (two-sided), ``n`` (pairs used) and ``caar``
        (mean CAR over pairs with at least one AR in the window).

    Raises
    ------
    ValueError
        For an unknown test or a window outside the panel's event days.

    Notes
    -----
    A pair enters a window when it has at least one AR there; its
    :math:`CAR_i = \\sum_t A_{it}` runs over its available days :math:`m_i` (a 0/1
    vector over the window), with variance :math:`s_i^2\\, m_i' C_i m_i`, ``C_i`` the
    window block of ``pe_cov`` (MacKinlay 1997, eq. 9), so
    :math:`SCAR_i = CAR_i / (s_i \\sqrt{m_i' C_i m_i})`. With :math:`\\tau` window days:

    * cross-sectional t: :math:`\\overline{CAR}/(s(CAR)/\\sqrt n)`; t(n-1).
    * Brown-Warner CDA: :math:`\\sum_t \\bar A_t / (\\sqrt{\\tau} S(\\bar A))`; t(T-1).
    * Brown-Warner independence: :math:`\\overline{CAR} / (\\sqrt{\\sum_i \\tau_i
      s_i^2}/n)`; N(0, 1).
    * Patell: :math:`\\sum_i SCAR_i / \\sqrt{\\sum_i d_i/(d_i-2)}`; N(0, 1).
    * BMP: :math:`\\overline{SCAR}/(s(SCAR)/\\sqrt n)`; t(n-1); Kolari-Pynnonen adjusted
      versions as in :func:`daily_tests`.
    * sign and generalized sign on the signs of :math:`CAR_i` (:math:`\\hat p` from
      daily estimation residuals, Cowan 1992).
    * rank (Cowan 1992): :math:`\\sum_{t\\in w}\\bar K_t / (\\sqrt{\\tau} S_K)`;
      modified rank likewise with :math:`\\bar U_t`.
    * GRANK on the cumulative SAR: :math:`SCAR_i` re-standardized by its cross-sectional
      sd is ranked as one extra observation against the estimation SARs (Kolari-Pynnonen
      2011, section 2.2).

    estudy2 conventions change the same test-level details as in :func:`daily_tests`
    (Patell denominator over all pairs, pooled :math:`\\hat p`, row-mean imputation of
    missing signs and ranks); estudy2's own CAR tests (``car_brown_warner_1985``,
    ``car_lamb``, ``car_rank_test``) are different statistics and are not reproduced.

    References
    ----------
    .. [1] MacKinlay, A. C. (1997). Event studies in economics and finance. Journal of
       Economic Literature 35, 13-39.
    .. [2] Cowan, A. R. (1992). Nonparametric event study tests. Review of Quantitative
       Finance and Accounting 2, 343-358.
    .. [3] Kolari, J. W., Pynnonen, S. (2010, 2011); Boehmer, Musumeci, Poulsen (1991);
       Patell (1976); Brown and Warner (1980, 1985): see :func:`daily_tests`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from oilimpact.study.panel import AbnormalPanel
    >>> rng = np.random.default_rng(1)
    >>> n, l1, l2 = 30, 120, 5
    >>> panel = AbnormalPanel(
    ...     ids=pd.MultiIndex.from_product([["e"], range(n)], names=["event", "asset"]),
    ...     est_resid=rng.normal(0, 0.01, (n, l1)), n_est=np.full(n, l1), n_params=0,
    ...     sigma2=np.full(n, 1e-4), event_days=np.arange(-2, 3),
    ...     event_ar=rng.normal(0.01, 0.01, (n, l2)),
    ...     pe_cov=np.broadcast_to(np.eye(l2), (n, l2, l2)),
    ...     event_dates=np.full(n, np.datetime64("2025-12-17", "ns")))
    >>> out = cross_sectional_tests(panel, [(0, 0), (0, 2)], ["cross_sectional_t", "bmp"])
    >>> print(out[["window", "test", "statistic", "n"]].round(2).to_string(index=False))
    window              test  statistic  n
     [0,0] cross_sectional_t       3.87 30
     [0,0]               bmp       3.87 30
    [0,+2] cross_sectional_t       9.07 30
    [0,+2]               bmp       9.07 30
    >>> bool((out["pvalue"] < 0.001).all())
    True
    """
    tests = _check_tests(tests, WINDOW_TESTS)
    p = _Parts(panel)
    pe = np.asarray(panel.pe_cov, dtype=float)
    rows: list[dict[str, object]] = []
    need_rank = any(t in tests for t in ("rank", "modified_rank"))
    if need_rank:
        kbar, ubar, s_k, s_u, n_t = p.rank_days
        kbar_ev, ubar_ev, nt_ev = kbar[p.l1 :], ubar[p.l1 :], n_t[p.l1 :]

    aar, _ = _col_mean(p.ar, p.ar_ok)

    for lo, hi in windows:
        lo, hi = int(lo), int(hi)
        cols = panel.window_index((lo, hi))
        tau = cols.size
        a = p.ar[:, cols]
        m = p.ar_ok[:, cols]
        has = m.any(axis=1)
        n = int(has.sum())
        car = np.where(has, np.where(m, a, 0.0).sum(axis=1), np.nan)
        mf = m.astype(float)
        block = pe[:, cols][:, :, cols]
        quad = np.einsum("ni,nij,nj->n", mf, block, mf)
        scar = car / np.sqrt(p.s2 * quad)
        sc_ok = np.isfinite(scar)
        n_sc = int(sc_ok.sum())
        caar = float(car[has].mean()) if n else np.nan
        res: dict[str, tuple[float, float, int]] = {}

        if "cross_sectional_t" in tests:
            sd = float(np.std(car[has], ddof=1)) if n > 1 else np.nan
            stat = float(_div(caar * np.sqrt(n), sd))
            _put(res, "cross_sectional_t", stat, float(_pvalue_t(stat, n - 1)), n)
        if "brown_warner" in tests:
            bw_sd, t_est = p.bw_sd
            stat = float(_div(np.nansum(aar[cols]), np.sqrt(tau) * bw_sd))
            _put(res, "brown_warner", stat, float(_pvalue_t(stat, t_est - 1)), n)
        if "brown_warner_indep" in tests:
            if p.estudy2:
                den = np.sqrt(tau * np.nansum(p.bw_var)) / p.n_pairs
                stat = float(_div(np.nansum(aar[cols]), den))
                n_used = n
            else:
                use = has & np.isfinite(p.bw_var)
                n_used = int(use.sum())
                den = np.sqrt((m[use].sum(axis=1) * p.bw_var[use]).sum()) / n_used
                stat = float(_div(car[use].mean(), den)) if n_used else np.nan
            _put(res, "brown_warner_indep", stat, float(_pvalue_normal(stat)), n_used)
        if any(t in tests for t in ("patell", "bmp", "adjusted_patell", "adjusted_bmp")):
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
            _put(res, "patell", patell, float(_pvalue_normal(patell)), n_pat)
            _put(res, "bmp", bmp, float(_pvalue_t(bmp, n_sc - 1)), n_sc)
            if "adjusted_patell" in tests or "adjusted_bmp" in tests:
                mp = p.cluster_pairs(sc_ok[:, None])
                f_pat, f_bmp = _kp_factors(p.rbar, mp, np.array([float(n_sc)]))
                stat = patell * float(f_pat[0])
                _put(res, "adjusted_patell", stat, float(_pvalue_normal(stat)), n_pat)
                stat = bmp * float(f_bmp[0])
                _put(res, "adjusted_bmp", stat, float(_pvalue_t(stat, n_sc - 1)), n_sc)
        if "sign" in tests or "generalized_sign" in tests:
            pos = (car > 0) & has
            w = pos.sum() / n * p.n_pairs if (p.estudy2 and n) else float(pos.sum())
            stat = float(_div(w - 0.5 * n, np.sqrt(0.25 * n)))
            _put(res, "sign", stat, float(_pvalue_normal(stat)), n)
            ph = p.p_hat
            stat = float(_div(w - n * ph, np.sqrt(n * ph * (1.0 - ph))))
            _put(res, "generalized_sign", stat, float(_pvalue_normal(stat)), n)
        if need_rank:
            n_days = int(np.isfinite(kbar_ev[cols]).sum())
            stat = float(_div(np.nansum(kbar_ev[cols]), np.sqrt(n_days) * s_k))
            _put(res, "rank", stat, float(_pvalue_normal(stat)), int(nt_ev[cols].max()))
            stat = float(_div(np.nansum(ubar_ev[cols]), np.sqrt(n_days) * s_u))
            _put(res, "modified_rank", stat, float(_pvalue_normal(stat)), int(nt_ev[cols].max()))
        if "grank" in tests:
            _put(res, "grank", *_grank(p, scar))

        label = _window_label(lo, hi)
        for name in tests:
            stat, pval, n_used = res[name]
            rows.append(
                {
                    "window": label,
                    "lo": lo,
                    "hi": hi,
                    "test": name,
                    "statistic": stat,
                    "pvalue": pval,
                    "n": n_used,
                    "caar": caar,
                }
            )
    return pd.DataFrame(rows, columns=_WINDOW_COLUMNS)


# --------------------------------------------------------------------------------------
# cross-correlation of residuals
# --------------------------------------------------------------------------------------


def residual_correlation(panel: AbnormalPanel) -> float:
    """Average pairwise correlation of estimation residuals among same-date pairs.

    The :math:`\\bar r` of Kolari and Pynnonen (2010), used by the ``adjusted_patell``
    and ``adjusted_bmp`` tests.

    Parameters
    ----------
    panel : AbnormalPanel

    Returns
    -------
    float
        :math:`\\bar r`; 0.0 when no two pairs share an event date.

    Notes
    -----
    Each residual series is standardized on its own observations,
    :math:`z_{it} = (e_{it} - \\bar e_i)/s_i`; within a group ``g`` of pairs with the
    same event date,

    .. math::
        \\bar r = \\frac{\\sum_g \\sum_t [(\\sum_{i\\in g} z_{it})^2 -
                  \\sum_{i\\in g} z_{it}^2]}{\\sum_{g}\\sum_{i \\ne j \\in g} (T_{ij} - 1)},

    :math:`T_{ij}` the days both series are observed. With complete data this is
    exactly the mean of the pairwise Pearson correlations, in O(N L1) time instead of
    O(N^2 L1); with missing days it is a pooled approximation.

    References
    ----------
    .. [1] Kolari, J. W., Pynnonen, S. (2010). Event study testing with cross-sectional
       correlation of abnormal returns. Review of Financial Studies 23, 3996-4025.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from oilimpact.study.panel import AbnormalPanel
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
    p = _Parts(panel)
    return float(p.rbar)
