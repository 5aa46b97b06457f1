"""The arrays every cross-sectional test needs, derived from a panel once (internal).

:class:`_Parts` reads an :class:`~oilimpact.eventstudy.panel.AbnormalPanel` and derives,
on first use, the standardized abnormal returns, the moments of the estimation
residuals (one compiled pass on large panels, :func:`oilimpact.eventstudy._jit.est_row_stats`,
else numpy), the Brown-Warner scales, the generalized-sign p-hat, the row sort and ranks
shared by the rank tests and GRANK, the event-date clusters and r-bar. The pieces that
depend only on the panel are also kept in the panel's store
(:func:`oilimpact.eventstudy.panel.panel_store`), so :func:`daily_tests` and
:func:`cross_sectional_tests` on the same panel sort and rank the residuals once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

import numpy as np
from scipy import sparse

from .. import kernels
from ..panel import AbnormalPanel, panel_store
from ._arrays import (
    _by_rows,
    _div,
    _one_hot,
    _sort_rows,
    _sort_rows_compiled,
    _sorted_ranks,
    _unique_columns,
)
from .grank import _GrankPrep
from .rbar import RBar, _one_calendar, _overlap_clusters, calendar_rbar


# (:func:`oilimpact.eventstudy.panel.panel_store`, ``_STORES``): they depend only on
# ``est_resid``, ``event_ar``, ``sigma2``, ``event_dates`` and ``conventions``, so
# :func:`daily_tests` and :func:`cross_sectional_tests` on the same panel sort and rank
# the residuals once.
def rank_stats_from_sums(
    dev: np.ndarray, unif: np.ndarray, cnt: np.ndarray, li_sum: np.ndarray,
    n_set: np.ndarray, estudy2: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Rank-test day statistics of portfolios from sums over their pairs.

    ``dev``, ``unif``, ``cnt`` ``(J, R)``: per portfolio and day the sums of
    ``K - (L_i+1)/2`` and ``K/(L_i+1) - 1/2`` over its ranked pairs and their count;
    ``li_sum``, ``n_set`` ``(J,)``: the sum of the pairs' ranked counts ``L_i`` and the
    pairs. Returns ``(kbar, ubar, s_k, s_u)``: :math:`\\bar K_\\tau = dev/cnt`,
    :math:`\\bar U_\\tau = (unif/cnt) \\sqrt{cnt}` (estudy2: a missing rank imputed
    by the day's mean, :math:`\\bar K_\\tau n/cnt` and :math:`unif/cnt \\cdot
    n/\\sqrt{cnt}`), and :math:`S = \\sqrt{T^{-1}\\sum_\\tau \\bar K_\\tau^2}` with
    T = ``li_sum / n_set`` (Corrado 1989; Corrado and Zivney 1992).
    """
    kb = _div(dev, cnt)
    um = _div(unif, cnt)
    n_col = n_set[:, None]
    if estudy2:
        kb = kb * _div(n_col, cnt)
        ub = um * _div(n_col, np.sqrt(cnt))
    else:
        ub = um * np.sqrt(cnt)
    t_len = _div(li_sum, n_set)
    s_k = np.sqrt(_div(np.nansum(kb**2, axis=1), t_len))
    s_u = np.sqrt(_div(np.nansum(ub**2, axis=1), t_len))
    return kb, ub, s_k, s_u


_store_for = panel_store


class _shared:  # noqa: N801 - used like functools.cached_property
    """``cached_property`` whose value is also kept in the panel-level store."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __get__(self, obj: Any, cls: type | None = None) -> Any:
        if obj is None:
            return self
        store = obj.store
        if self.name not in store:
            store[self.name] = self.fn(obj)
        value = obj.__dict__[self.name] = store[self.name]
        return value


class _Parts:
    """Arrays derived from the panel on first use and shared by all tests (internal).

    Properties marked ``_shared`` are also kept across calls for the same panel object
    (see :data:`_STORES`); the others (SARs) are per call.
    """

    def __init__(self, panel: AbnormalPanel) -> None:
        self.panel = panel
        self.estudy2 = panel.conventions == "estudy2"
        self.ar = np.ascontiguousarray(panel.event_ar, dtype=float)
        self.est = np.ascontiguousarray(panel.est_resid, dtype=float)
        self.n_pairs = self.ar.shape[0]
        self.l1 = self.est.shape[1]
        s2 = np.asarray(panel.sigma2, dtype=float)
        self.valid = np.isfinite(s2) & (s2 > 0)  # pairs with a usable variance
        self.s2 = np.where(self.valid, s2, np.nan)
        self.ar_ok = np.isfinite(self.ar)

    @cached_property
    def store(self) -> dict[str, Any]:
        return _store_for(self.panel)

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
    def est0(self) -> np.ndarray:
        """Estimation residuals with 0 for missing values."""
        return np.where(self.est_ok, self.est, 0.0)

    @cached_property
    def est_dev(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Demeaned estimation residuals (0 where missing), their row sums of squares
        and the row counts."""
        ok = self.est_ok
        cnt = ok.sum(axis=1)
        mean = _div(self.est0.sum(axis=1), cnt)
        dev = self.est0 - mean[:, None]
        np.multiply(dev, ok, out=dev)
        return dev, np.einsum("ij,ij->i", dev, dev), cnt

    @_shared
    def group_index(self) -> tuple[np.ndarray, int]:
        """Same-event-date group of each pair and the number of groups."""
        dates = np.asarray(self.panel.event_dates).astype("datetime64[ns]").ravel()
        _, inv = np.unique(dates, return_inverse=True)
        inv = inv.ravel()
        return inv, int(inv.max()) + 1 if inv.size else 0

    @_shared
    def est_stats(self) -> dict[str, Any] | None:
        """Moments of the estimation residuals from one compiled pass (large panels;
        None otherwise): see :func:`oilimpact.eventstudy._jit.est_row_stats`, with the
        per-group sums of standardized residuals of :meth:`rbar_info`."""
        return self._est_pass(groups=True)

    @_shared
    def est_moments(self) -> dict[str, Any] | None:
        """:attr:`est_stats` without the per-group sums of standardized residuals
        (``z2``, ``gz``, ``gm``: the kernel skips that pass), for the tests that need
        only the counts, means, sums of squares, positive counts and column sums;
        :attr:`est_stats` itself when it is already known."""
        if "est_stats" in self.store:
            return self.est_stats
        return self._est_pass(groups=False)

    def _est_pass(self, groups: bool) -> dict[str, Any] | None:
        """One compiled pass of :func:`oilimpact.eventstudy._jit.est_row_stats` over
        row blocks (None below :data:`oilimpact.eventstudy.kernels.MIN_PAIRS` pairs)."""
        if not kernels.enabled(self.n_pairs):
            return None
        jit = kernels.jit()
        assert jit is not None
        n, l1 = self.est.shape
        group, n_groups = self.group_index if groups else (np.zeros(n, np.int64), 0)
        group = group.astype(np.int64)
        out = {
            name: np.empty(n, dtype=dt)
            for name, dt in (("cnt", np.int64), ("mean", float), ("ss", float), ("z2", float),
                             ("n_pos", np.int64), ("use", np.bool_))
        }  # fmt: skip

        def run(a: int, b: int) -> tuple[np.ndarray, ...]:
            col_cnt, col_sum = np.zeros(l1), np.zeros(l1)
            gz, gm = np.zeros((n_groups, l1)), np.zeros((n_groups, l1))
            rows = [out[k][a:b] for k in ("cnt", "mean", "ss", "z2", "n_pos", "use")]
            jit.est_row_stats(self.est[a:b], group[a:b], *rows, col_cnt, col_sum, gz, gm)
            return col_cnt, col_sum, gz, gm

        parts = kernels.by_blocks(n, run)
        for k, name in enumerate(("col_cnt", "col_sum", "gz", "gm")):
            out[name] = np.sum([part[k] for part in parts], axis=0)
        if not groups:
            for name in ("z2", "gz", "gm"):
                del out[name]
        return out

    @_shared
    def bw_var(self) -> np.ndarray:
        """Per-pair AR variance of the Brown-Warner independence test."""
        if not self.estudy2:  # textbook: the model's residual variance
            return self.s2
        # estudy2: colVars of the estimation residuals (demeaned, divisor n - 1)
        st = self.est_moments
        _, ss, cnt = self.est_dev if st is None else (None, st["ss"], st["cnt"])
        return _div(ss, cnt - 1)

    @_shared
    def bw_sd(self) -> tuple[float, int]:
        """sd (ddof 1) of the estimation-window daily AAR series of all N pairs and its
        length T (the estudy2 ``brown_warner_1985`` scale)."""
        st = self.est_moments
        if st is None:
            est_cnt = self.est_ok.sum(axis=0)
            est_aar = _div(self.est0.sum(axis=0), est_cnt)
        else:
            est_cnt, est_aar = st["col_cnt"], _div(st["col_sum"], st["col_cnt"])
        has = est_cnt > 0
        t_est = int(has.sum())
        sd = float(np.std(est_aar[has], ddof=1)) if t_est > 1 else np.nan
        return sd, t_est

    def bw_scales(self, sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Textbook Brown-Warner scales of the portfolios ``sets`` (a boolean ``(N, J)``
        mask, one column per portfolio): the sd (ddof 1) of the estimation-window daily
        AAR of the portfolio's own pairs, and T, the estimation days with at least one
        of them. A day tested on ``n_t`` pairs is thus scaled by the dispersion of an
        ``n_t``-pair average (about ``sqrt(N / n_t)`` times the full panel's under
        independence, and keeping the pairs' cross-correlation), and pairs that are
        not tested do not enter the scale."""
        uniq, inv = _unique_columns(sets)
        sd = np.full(uniq.shape[1], np.nan)
        t_est = np.zeros(uniq.shape[1], dtype=int)
        whole = uniq.all(axis=0)  # every pair: the shared full-panel scale
        if whole.any():
            sd[whole], t_est[whole] = self.bw_sd
        rest = np.flatnonzero(~whole)
        if rest.size:
            mf = uniq[:, rest].T.astype(float)
            cnt = mf @ self.est_ok.astype(float)
            aar = _div(mf @ self.est0, cnt)
            has = cnt > 0
            t_r = has.sum(axis=1)
            mean = _div(np.where(has, aar, 0.0).sum(axis=1), t_r)
            dev = np.where(has, aar - mean[:, None], 0.0)
            sd[rest] = np.sqrt(_div(np.einsum("ij,ij->i", dev, dev), t_r - 1))
            t_est[rest] = t_r
        return sd[inv], t_est[inv]

    @_shared
    def p_hat(self) -> float:
        """Generalized-sign p-hat: estimation-window fraction of positive residuals."""
        st = self.est_moments
        if st is not None:
            n_pos, cnt = st["n_pos"], st["cnt"]
            if self.estudy2:
                tot = cnt.sum()
                return float(n_pos.sum() / tot) if tot else np.nan
            frac = _div(n_pos, cnt)[cnt > 0]
            return float(frac.mean()) if frac.size else np.nan
        ok = self.est_ok
        pos = (self.est > 0) & ok
        if self.estudy2:  # pooled over all security-days
            tot = ok.sum()
            return float(pos.sum() / tot) if tot else np.nan
        cnt = ok.sum(axis=1)
        frac = _div(pos.sum(axis=1), cnt)[cnt > 0]
        return float(frac.mean()) if frac.size else np.nan

    @_shared
    def positive_fraction(self) -> tuple[np.ndarray, np.ndarray]:
        """Each pair's fraction of positive estimation residuals and whether it has
        any estimation residual."""
        st = self.est_moments
        if st is not None:
            n_pos, cnt = st["n_pos"], st["cnt"]
        else:
            ok = self.est_ok
            n_pos, cnt = ((self.est > 0) & ok).sum(axis=1), ok.sum(axis=1)
        return _div(n_pos, cnt), cnt > 0

    def p_hat_for(self, sets: np.ndarray) -> np.ndarray:
        """Generalized-sign p-hat of the portfolios ``sets`` (boolean ``(N, J)``): the
        mean over the portfolio's pairs of their fraction of positive estimation
        residuals (Cowan 1992; a pair without estimation residuals does not enter it),
        so a day or window tested on fewer pairs is judged against those pairs' own
        p-hat; NaN for an empty portfolio; under estudy2 conventions the pooled
        :attr:`p_hat` of all pairs for every portfolio."""
        if self.estudy2:
            return np.full(sets.shape[1], self.p_hat)
        frac, has = self.positive_fraction
        members = (sets & has[:, None]).astype(float)
        return _div(np.where(has, frac, 0.0) @ members, members.sum(axis=0))

    @cached_property
    def _full_sort(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One row sort of the combined (L1 + L2) grid, shared by the Corrado tests and
        GRANK: ``(order, sorted values, ranked count per row, ranked count per day)``
        (+-inf is ranked, NaN is not)."""
        if kernels.enabled(self.n_pairs) and self.l1 + self.ar.shape[1] > 1:
            return _sort_rows_compiled(self.est, self.ar, self.valid)
        full = np.concatenate([self.est, self.ar], axis=1)
        full[~self.valid] = np.nan
        nan = np.isnan(full)
        order, xs, _ = _sort_rows(full, nan, scratch=True, want_flat=False)
        width = full.shape[1]
        n_row = width - np.count_nonzero(nan, axis=1)
        n_col = self.n_pairs - np.count_nonzero(nan, axis=0)
        return order, xs, n_row, n_col

    @_shared
    def rank_days(self) -> tuple[np.ndarray, np.ndarray, float, float, np.ndarray]:
        """Daily rank-test ingredients on the combined (L1 + L2) grid.

        Returns ``(kbar, ubar, s_k, s_u, n_t)``: the day statistics of the Corrado and
        Corrado-Zivney tests (convention applied), their time-series scales and the
        number of ranked pairs per day. The column sums of ranks are accumulated in
        sorted coordinates (one ``bincount`` by column index each), so the rank matrix
        itself is never scattered back.
        """
        order, xs, li, n_t = self._full_sort
        width = xs.shape[1]
        n_t = n_t.astype(float)
        jit = kernels.jit() if kernels.enabled(xs.shape[0]) else None
        if jit is not None:  # one compiled pass per row block; block sums added in order
            li64 = li.astype(np.int64)

            def sums(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
                k_sum, u_sum = np.zeros(width), np.zeros(width)
                jit.rank_column_sums(order[a:b], xs[a:b], li64[a:b], k_sum, u_sum)
                return k_sum, u_sum

            parts = kernels.by_blocks(xs.shape[0], sums)
            k_sum = np.sum([part[0] for part in parts], axis=0)
            u_sum = np.sum([part[1] for part in parts], axis=0)
            return self._rank_day_stats(k_sum, u_sum, li, n_t)
        ranks, _, _ = _sorted_ranks(xs)
        inv = 1.0 / (li + 1.0)
        half = (li + 1.0) / 2.0
        idx = order.ravel()
        # sum_i (K_it - (L_i+1)/2) and sum_i (K_it/(L_i+1) - 1/2), by column
        buf = np.empty(xs.shape)
        unif = np.empty(xs.shape)
        pos = np.arange(width)

        def terms(a: int, b: int) -> None:  # row-wise, on a few threads
            used = pos < li[a:b, None]  # sorted positions holding a ranked value
            np.subtract(ranks[a:b], half[a:b, None], out=buf[a:b])
            buf[a:b] *= used
            np.multiply(ranks[a:b], inv[a:b, None], out=unif[a:b])
            unif[a:b] -= 0.5  # centred: no cancellation
            unif[a:b] *= used

        _by_rows(xs.shape[0], terms)
        k_sum = np.bincount(idx, weights=buf.ravel(), minlength=width)
        u_sum = np.bincount(idx, weights=unif.ravel(), minlength=width)
        return self._rank_day_stats(k_sum, u_sum, li, n_t)

    def _rank_day_stats(
        self, k_sum: np.ndarray, u_sum: np.ndarray, li: np.ndarray, n_t: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, float, float, np.ndarray]:
        """:attr:`rank_days` from the column sums of ``K - (L_i+1)/2`` and
        ``K/(L_i+1) - 1/2`` over the ranked pairs."""
        kbar = _div(k_sum, n_t)
        umean = _div(u_sum, n_t)
        t_len = float(li[li > 0].mean()) if (li > 0).any() else np.nan
        if self.estudy2:  # a missing rank replaced by the row mean: sum = mean * N
            kbar = kbar * _div(self.n_pairs, n_t)
            ubar = umean * _div(self.n_pairs, np.sqrt(n_t))
        else:
            ubar = umean * np.sqrt(n_t)
        s_k = float(np.sqrt(np.nansum(kbar**2) / t_len))
        s_u = float(np.sqrt(np.nansum(ubar**2) / t_len))
        return kbar, ubar, s_k, s_u, n_t

    @_shared
    def ranked_pairs(self) -> np.ndarray:
        """Pairs with at least one ranked value (the pairs of :attr:`rank_days`)."""
        return self._full_sort[2] > 0

    @cached_property
    def rank_grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Centred ranks ``K - (L_i+1)/2``, scores ``K/(L_i+1) - 1/2`` (0 where not
        ranked) and the ranked mask (0/1), each ``(N, L1 + L2)`` in column order.

        Only built when a test needs a portfolio other than all ranked pairs (missing
        event days); :attr:`rank_days` never scatters the ranks back."""
        order, xs, li, _ = self._full_sort
        n, width = xs.shape
        ranks, _, _ = _sorted_ranks(xs)
        dev = np.zeros(n * width)
        flat = (order + (np.arange(n) * width)[:, None]).ravel()
        vals = np.subtract(ranks, ((li + 1.0) / 2.0)[:, None])
        vals *= np.arange(width) < li[:, None]
        dev[flat] = vals.ravel()
        dev = dev.reshape(n, width)
        unif = dev * (1.0 / (li + 1.0))[:, None]  # = K/(L_i+1) - 1/2, 0 where unranked
        ranked = np.concatenate([self.est, self.ar], axis=1)
        ranked = (~np.isnan(ranked) & self.valid[:, None]).astype(float)
        return dev, unif, ranked

    def rank_sets(
        self, sets: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Rank-test ingredients of the portfolios ``sets`` (boolean ``(N, J)``, ranked
        pairs only): ``(kbar, ubar)`` of shape ``(J, L1 + L2)``, computed from the
        portfolio's own pairs on every day, their scales ``(s_k, s_u)`` and the
        portfolio sizes, each ``(J,)``. The day statistic of a portfolio is therefore
        scaled by the time-series dispersion of a mean over the same pairs; a
        portfolio of all ranked pairs is :attr:`rank_days`. Under estudy2 conventions
        a missing rank is imputed by the day's mean within the portfolio."""
        uniq, inv = _unique_columns(sets)
        n_j, width = uniq.shape[1], self.l1 + self.ar.shape[1]
        kbar = np.full((n_j, width), np.nan)
        ubar = np.full((n_j, width), np.nan)
        s_k = np.full(n_j, np.nan)
        s_u = np.full(n_j, np.nan)
        size = uniq.sum(axis=0).astype(float)
        full = self.ranked_pairs
        whole = (uniq == full[:, None]).all(axis=0)
        if self.estudy2 and not full.all():  # rank_days imputes over all N pairs
            whole[:] = False
        if whole.any():
            kb, ub, sk, su, _ = self.rank_days
            kbar[whole], ubar[whole], s_k[whole], s_u[whole] = kb, ub, sk, su
        rest = np.flatnonzero(~whole)
        if rest.size:
            dev, unif, ranked = self.rank_grid
            mf = uniq[:, rest].T.astype(float)
            li_sum = mf @ self._full_sort[2].astype(float)
            kb, ub, sk, su = rank_stats_from_sums(
                mf @ dev, mf @ unif, mf @ ranked, li_sum, size[rest], self.estudy2
            )
            kbar[rest], ubar[rest], s_k[rest], s_u[rest] = kb, ub, sk, su
        return kbar[inv], ubar[inv], s_k[inv], s_u[inv], size[inv]

    @_shared
    def groups(self) -> sparse.csr_matrix:
        """One-hot ``(G, N)`` membership of same-event-date clusters."""
        return _one_hot(*self.group_index)

    def cluster_index(self, span: int = 0) -> tuple[np.ndarray, int]:
        """Cluster of each pair and the number of clusters, for windows of ``span + 1``
        trading days: pairs whose event dates are at most ``span`` business days apart
        are chained into one cluster (their windows share calendar days); ``span = 0``
        gives the same-event-date groups. Pairs without an event date (NaT) form one
        cluster: unknown dates are not assumed apart."""
        if span <= 0:
            return self.group_index
        key = ("cluster_index", int(span))
        store = self.store
        if key not in store:
            store[key] = _overlap_clusters(self.panel.event_dates, int(span))
        return store[key]

    def cluster_matrix(self, span: int = 0) -> sparse.csr_matrix:
        """One-hot ``(G, N)`` membership of :meth:`cluster_index`."""
        if span <= 0:
            return self.groups
        key = ("cluster_matrix", int(span))
        if key not in self.store:
            self.store[key] = _one_hot(*self.cluster_index(span))
        return self.store[key]

    @_shared
    def rbar_use(self) -> np.ndarray:
        """Pairs whose estimation residuals enter r-bar: at least two values and a
        positive, finite sd (an exact fit has none). From the compiled moment pass on
        large panels (:attr:`est_stats`), else from :attr:`est_dev`."""
        st = self.est_moments
        if st is not None:
            return np.asarray(st["use"], dtype=bool)
        _, ss, cnt = self.est_dev
        sd = np.sqrt(_div(ss, cnt - 1))
        return np.isfinite(sd) & (sd > 0)

    def rbar_info(self, span: int = 0) -> RBar:
        """Kolari-Pynnonen r-bar of the clusters of :meth:`cluster_index` ``(span)``,
        residuals matched by calendar date (:func:`calendar_rbar`); cached per distinct
        clustering. Without ``est_dates`` the same-date r-bar for every span."""
        if span > 0 and getattr(self.panel, "est_dates", None) is None:
            # without calendar dates, residuals of pairs with different event dates
            # cannot be matched (column t is a different day for each): r-bar comes
            # from the same-date pairs, and the overlap clusters only set M
            return self.rbar_info(0)
        inv, n_groups = self.cluster_index(span)
        # spans that give the same clusters (one event date, say) share one computation
        key = ("rbar", n_groups, hash(np.asarray(inv, dtype=np.int64).tobytes()))
        store = self.store
        if key not in store:
            dates = getattr(self.panel, "est_dates", None)
            sums = None
            st = self.est_stats
            same = self.group_index[1] == n_groups and np.array_equal(self.group_index[0], inv)
            if st is not None and same and (dates is None or _one_calendar(dates, self.est_ok)):
                # the compiled pass summed z by same-date group and column (the pooled
                # form's numerator and denominator per group)
                gz, gm, use = st["gz"], st["gm"], st["use"]
                z2 = np.bincount(inv[use], weights=st["z2"][use], minlength=n_groups)
                n_g = np.bincount(inv[use], minlength=n_groups).astype(float)
                num = np.einsum("gt,gt->g", gz, gz) - z2
                den = (gm * gm - gm).sum(axis=1) - n_g * (n_g - 1.0)
                sums = (num, den, np.asarray(st["cnt"]))
            store[key] = calendar_rbar(
                self.est, dates, inv, n_groups, self.rbar_use, group_sums=sums
            )
        return store[key]

    @_shared
    def rbar(self) -> float:
        """r-bar of the same-event-date groups (the daily tests' adjustment); NaN when
        same-date pairs exist but no two of them share enough estimation dates."""
        return self.rbar_info(0).value

    def cluster_pairs(self, mask: np.ndarray, span: int = 0) -> np.ndarray:
        """``M = sum_g n_g (n_g - 1)`` (ordered pairs in one cluster) per column of
        ``mask``, clusters of :meth:`cluster_index` ``(span)``."""
        counts = np.asarray(self.cluster_matrix(span) @ mask.astype(float))
        return (counts * (counts - 1.0)).sum(axis=0)

    @_shared
    def grank_prep(self) -> _GrankPrep:
        return _GrankPrep(self)
