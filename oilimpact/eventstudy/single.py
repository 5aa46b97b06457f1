r"""Inference for one asset around one event: PE-corrected t test and the SQ test.

Everything here reads an :class:`~oilimpact.eventstudy.panel.AbnormalPanel` and is
vectorised over its N pairs (each pair is tested on its own: no cross-sectional
averaging). The cross-sectional (CAAR) tests live in :mod:`oilimpact.eventstudy.crosssection`.

Two tests are reported side by side for every abnormal return (AR) and every
cumulative abnormal return (CAR):

* the parametric t test with the prediction-error-corrected variance (MacKinlay 1997),
  exact under normal i.i.d. disturbances;
* the SQ (sample-quantile) test of Gelbach, Helland and Klick (2013), studentised: the event-window AR (or
  L-day CAR), divided by the square root of its exact prediction-error variance factor,
  is ranked against the empirical distribution of the estimation-window residuals (or
  of their L-day rolling sums), each divided by the square root of its exact residual
  variance factor (see :func:`sq_reference`). It does not assume normality, which
  matters with one asset and one event: the t test then rests on the normality of a
  single draw, and with fat-tailed daily returns it over-rejects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from . import kernels, threads
from .garch_engine import garch_info
from .panel import AbnormalPanel

# Re-exported under their former names for code written when the row-block helpers
# lived here; they now live in :mod:`oilimpact.eventstudy.threads`.
from .threads import by_blocks as _by_blocks  # noqa: F401
from .threads import by_rows as _by_rows  # noqa: F401
from .threads import n_threads as _n_threads  # noqa: F401
from .threads import pool as _pool  # noqa: F401

__all__ = [
    "ar_tests",
    "car_frame",
    "car_tests",
    "min_sq_pvalue",
    "pair_tests",
    "rolling_sums",
    "sq_pvalues",
    "sq_reference",
]

CAR_TEST_COLUMNS: tuple[str, ...] = (
    "event",
    "asset",
    "window",
    "start",
    "end",
    "n_days",
    "car",
    "se",
    "tstat",
    "pvalue",
    "sq_pvalue",
    "sq_n",
    "sq_min_pvalue",
    "dof",
    "n_est",
)


def min_sq_pvalue(n_reference: int | np.ndarray) -> np.ndarray | float:
    """Smallest two-sided SQ p-value attainable with ``n_reference`` reference values.

    ``2 / (n + 1)``: with fewer than ``2 / alpha - 1`` estimation residuals (39 at
    ``alpha=0.05``, 199 at ``alpha=0.01``) the SQ test can never reject at ``alpha``.
    For an L-day CAR the reference values are the ``L1 - L + 1`` overlapping L-day
    rolling sums of the estimation residuals.

    Examples
    --------
    >>> float(min_sq_pvalue(239))
    0.008333333333333333
    """
    n = np.asarray(n_reference, dtype="float64")
    out = np.minimum(1.0, 2.0 / (n + 1.0))
    return float(out) if out.ndim == 0 else out


def rolling_sums(resid: np.ndarray, length: int) -> np.ndarray:
    """Sums of ``length`` consecutive estimation days, NaN where any day is missing.

    Parameters
    ----------
    resid : ndarray, shape (N, L1)
        Estimation residuals on the estimation-day grid (NaN = missing day).
    length : int
        Window length ``L``.

    Returns
    -------
    ndarray, shape (N, L1 - L + 1)

    Examples
    --------
    >>> import numpy as np
    >>> rolling_sums(np.array([[1.0, 2.0, np.nan, 4.0, 5.0]]), 2).tolist()
    [[3.0, nan, nan, 9.0]]
    """
    resid = np.asarray(resid, dtype="float64")
    if length == 1:
        return resid.copy()
    return _rolling_from(_cumsums(resid), length)


def _cumsums(resid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, l1 = resid.shape
    ok = ~np.isnan(resid)
    cs = np.zeros((n, l1 + 1))
    np.cumsum(np.where(ok, resid, 0.0), axis=1, out=cs[:, 1:])
    cnt = np.zeros((n, l1 + 1), dtype=np.int32)
    np.cumsum(ok, axis=1, out=cnt[:, 1:])
    return cs, cnt


def _rolling_from(sums: tuple[np.ndarray, np.ndarray], length: int) -> np.ndarray:
    cs, cnt = sums
    n, l1p = cs.shape
    if length < 1 or length > l1p - 1:
        return np.full((n, 0), np.nan)
    total = cs[:, length:] - cs[:, :-length]
    full = (cnt[:, length:] - cnt[:, :-length]) == length
    return np.where(full, total, np.nan)


def sq_pvalues(reference: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Two-sided SQ p-values of ``x`` against each row's reference distribution.

    Parameters
    ----------
    reference : ndarray, shape (N, n)
        Reference values per pair (the standardised estimation residuals or L-day
        rolling sums of :func:`sq_reference`), NaN = absent.
    x : ndarray, shape (N,) or (N, M)
        Statistic(s) to rank (the standardised event AR or CAR); NaN gives NaN.

    Returns
    -------
    pvalue : ndarray, shape of ``x``
    n : ndarray of int, shape (N,)
        Number of reference values used per pair.

    Notes
    -----
    With :math:`s_1..s_n` the reference values of the pair,

    .. math::

        p_{lo} = \frac{1 + \#\{s_j \le x\}}{n + 1}, \quad
        p_{hi} = \frac{1 + \#\{s_j \ge x\}}{n + 1}, \quad
        p = \min(1, 2\min(p_{lo}, p_{hi})).

    This is the rank (Monte Carlo) p-value of the quantile test of Gelbach, Helland and
    Klick (2013). It is exact when ``x`` and the references are exchangeable:
    ``P(p_lo <= a) = floor(a (n+1)) / (n+1) <= a``, whatever the distribution. That holds
    for single days (``L = 1``: the standardised event AR among the standardised
    residuals, with no event effect and i.i.d. disturbances, up to the ``O(1/L1)``
    correlation of OLS residuals). For an L-day CAR with ``L > 1`` the overlapping
    L-day reference sums share ``L - 1`` days with their neighbours and are *not*
    exchangeable with the event CAR (about ``n / L`` independent blocks): the p-value is
    approximate and over-rejects, more at 1% than at 5% and more with fat tails (t(3)
    errors, ``L1 = 239``, [0, 10]: 6.0% at 5%, 3.2% at 1%, against attainable 4.35% and
    0.87%; ``benchmarks/bench_sq_size.py``, docs/methods.md). The smallest attainable
    value is ``2 / (n + 1)`` (see :func:`min_sq_pvalue`). :func:`ar_tests` and
    :func:`car_tests` pass standardised values (:func:`sq_reference`), which makes the
    references and the statistic identically scaled.

    The counts are exact. With one or a few statistics per pair they are direct
    comparisons; with many (the per-day AR tests) each row of ``reference`` is sorted
    once and the statistics are located by a vectorised binary search over all rows at
    once (no loop over pairs).

    References
    ----------
    Gelbach, J. B., Helland, E. and Klick, J. (2013). Valid inference in single-firm,
    single-event studies. *American Law and Economics Review* 15(2), 495-541.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.arange(1.0, 240.0)[None, :]          # 239 reference values
    >>> p, n = sq_pvalues(ref, np.array([[1000.0, 120.0]]))
    >>> p.round(4).tolist(), n.tolist()
    ([[0.0083, 1.0]], [239])
    """
    ref = np.asarray(reference, dtype="float64")
    xx = np.asarray(x, dtype="float64")
    squeeze = xx.ndim == 1
    if squeeze:
        xx = xx[:, None]
    n = ref.shape[1] - _row_count(np.isnan(ref))
    m = xx.shape[1]
    if m <= 4 or ref.shape[1] == 0:
        le = np.empty(xx.shape, dtype=np.int64)
        lt = np.empty(xx.shape, dtype=np.int64)
        for j in range(m):  # loop over statistics per pair (a handful), not over pairs
            q = xx[:, j : j + 1]
            with np.errstate(invalid="ignore"):
                le[:, j] = _row_count(ref <= q)
                lt[:, j] = _row_count(ref < q)
    else:
        le, lt = _sorted_counts(ref, n, xx)  # sorts each row once
    p = _rank_pvalues(le, lt, n[:, None], xx)[0]
    return (p[:, 0] if squeeze else p), n


def _row_count(mask: np.ndarray) -> np.ndarray:
    """Number of True values per row of a 2-D boolean array (faster than count_nonzero)."""
    return mask.view(np.uint8).sum(axis=1, dtype=np.int64)


def _sorted_counts(ref: np.ndarray, n: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``#{s <= q}`` and ``#{s < q}`` per row, by one binary search over all rows at once.

    Each row of ``ref`` is sorted once (NaN -> +inf, padded with +inf to a power of two
    ``P``); every statistic is then located by the branchless search
    ``pos += step if row[pos + step - 1] <= q`` for ``step = P/2, ..., 1``, all rows and
    statistics at once. Exact; ``q`` is (N, M).
    """
    rows, width = ref.shape
    pw = 1 << max(0, (width - 1).bit_length())
    srt = np.empty((rows, pw))
    srt[:, width:] = np.inf
    body = srt[:, :width]
    np.copyto(body, ref)
    body.sort(axis=1)  # in place; NaN last
    np.copyto(body, np.inf, where=np.isnan(body))
    flat = srt.ravel()
    start = np.arange(rows, dtype=np.intp)[:, None] * pw
    idx = np.broadcast_to(start, q.shape).copy()  # row start + pos (values <= q so far)
    with np.errstate(invalid="ignore"):
        step = pw // 2
        while step >= 1:  # compare row[pos + step - 1] (= flat[idx + step - 1]) with q
            idx += (flat[step - 1 :].take(idx) <= q) * step
            step //= 2
        idx += flat.take(np.minimum(idx, flat.size - 1)) <= q
        le = np.minimum(idx - start, n.astype(np.intp)[:, None])
        # ties: step back over values equal to q (rare outside constructed examples)
        lt = le.copy()
        while True:
            eq = (lt > 0) & (flat.take(start + np.maximum(lt, 1) - 1) == q)
            if not eq.any():
                break
            lt -= eq
    return le, lt


# ---- studentisation of the SQ test -------------------------------------------------------


def _design(
    panel: AbnormalPanel,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Centred estimation design, centred event regressors, ``S_xx^{-1}`` (or None).

    Read from the panel's design fields (set by :func:`~oilimpact.eventstudy.models.fit_panel`), or rebuilt from
    ``est_market``/``event_market`` for a market-model panel built by hand.
    """
    d_est = getattr(panel, "design_est", None)
    d_evt = getattr(panel, "design_evt", None)
    s_inv = getattr(panel, "sxx_inv", None)
    if d_est is not None and d_evt is not None and s_inv is not None:
        return d_est, d_evt, s_inv
    if panel.n_params == 2 and panel.est_market is not None and panel.event_market is not None:
        valid = ~np.isnan(panel.est_resid)
        x = np.asarray(panel.est_market, dtype="float64")
        nf = np.count_nonzero(valid, axis=1).astype("float64")
        xbar = np.where(valid, x, 0.0).sum(axis=1) / nf
        xc = np.where(valid, x - xbar[:, None], 0.0)
        sxx = np.einsum("ij,ij->i", xc, xc)
        xcv = np.asarray(panel.event_market, dtype="float64") - xbar[:, None]
        xcv = np.where(np.isnan(xcv), 0.0, xcv)
        with np.errstate(divide="ignore"):
            return xc[:, :, None], xcv[:, :, None], (1.0 / sxx)[:, None, None]
    return None


_POISON = 2.0**600

#: Rows per block of the fused SQ window counts (a block's work arrays stay in cache).
_BLOCK_ROWS = 512


@dataclass(frozen=True, slots=True)
class _WindowJob:
    """What the row blocks of :meth:`_SQPrep.window_pvalues` read (the window lengths,
    their intercept bases, the windows with a missing day, the statistics) and write
    (the counts ``#{s <= q}``, ``#{s < q}`` and of missing references), shape (N, J)."""

    lengths: list[int]
    bases: list[np.ndarray]
    bad: list[np.ndarray | None]
    poison: bool
    q: np.ndarray
    le: np.ndarray
    lt: np.ndarray
    nn: np.ndarray


@dataclass(frozen=True, slots=True)
class _BlockWork:
    """One thread's work arrays for blocks of :data:`_BLOCK_ROWS` rows (flat, viewed at
    each block's shape): totals, factors, a scratch array, the residual and design
    cumsums and the missing-day counts."""

    tot: np.ndarray
    fac: np.ndarray
    tmp: np.ndarray
    cs_b: np.ndarray
    xcs_b: np.ndarray
    ms_b: np.ndarray

    def cumsums(self, nr: int, l1: int) -> tuple[np.ndarray, np.ndarray]:
        """The residual and design cumsums of an ``nr``-row block, shape (nr, l1 + 1)."""
        shape = (nr, l1 + 1)
        return self.cs_b[: nr * (l1 + 1)].reshape(shape), self.xcs_b[: nr * (l1 + 1)].reshape(shape)


def _rank_pvalues(
    le: np.ndarray, lt: np.ndarray, n: np.ndarray, q: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided SQ p-values from the counts ``le = #{s <= q}``, ``lt = #{s < q}`` of
    ``n`` references (see :func:`sq_pvalues`); NaN where ``q`` is NaN or ``n = 0``."""
    p = np.add(le, 1.0)  # in place from here: the same operations, fewer temporaries
    ge = n - lt
    np.minimum(p, np.add(ge, 1.0), out=p)
    del ge
    p *= 2.0
    np.divide(p, n + 1.0, out=p)
    np.minimum(p, 1.0, out=p)
    p[np.isnan(q) | (n == 0)] = np.nan
    return p, n


class _SQPrep:
    """Per-panel ingredients of the studentised SQ test (computed once per call).

    One regressor (the market model) is kept 2-D throughout: ``(N, L, 1)`` arrays make
    numpy iterate an inner axis of length one, several times slower.
    """

    def __init__(self, panel: AbnormalPanel) -> None:
        resid = np.asarray(panel.est_resid, dtype="float64")
        self.resid = resid
        #: GARCH models: the standardised residuals are the references (factor L) and
        #: the event statistic is standardised by the panel's own AR covariance
        self.garch_pe = panel.pe_cov if garch_info(panel) is not None else None
        self.k = 0 if self.garch_pe is not None else int(panel.n_params)
        n_rows, l1 = resid.shape
        self.n = (l1 - _row_count(np.isnan(resid))).astype("float64")
        self._sums: tuple[np.ndarray, np.ndarray | None] | None = None
        self._missing: np.ndarray | None = None
        self._buffers: dict[int, np.ndarray] = {}
        design = _design(panel) if self.garch_pe is None else None
        self.one = design is not None and design[0].shape[2] == 1
        self.d_est: np.ndarray | None = None
        self.d_evt: np.ndarray | None = None
        self.s_inv: np.ndarray | None = None
        self.has_design = design is not None
        self._xcs: np.ndarray | None = None
        #: sessions spanned by each event-window return (None: one each)
        self.weights = getattr(panel, "session_weights", None)
        if design is not None:
            d_est, d_evt, s_inv = design
            if self.one:
                self.d_est, self.d_evt = d_est[:, :, 0], d_evt[:, :, 0]
                self.s_inv = np.ascontiguousarray(s_inv[:, 0, 0])
            else:
                self.d_est, self.d_evt, self.s_inv = d_est, d_evt, s_inv

    def _design_sums(self, length: int, out: np.ndarray | None = None) -> np.ndarray:
        """Rolling L-day sums of the centred design (into ``out`` when 2-D)."""
        assert self.d_est is not None
        if length == 1:
            if out is not None and self.one:
                np.copyto(out, self.d_est)
                return out
            return self.d_est.copy()
        if self._xcs is None:
            shape = (self.d_est.shape[0], self.d_est.shape[1] + 1) + self.d_est.shape[2:]
            xcs = np.zeros(shape)
            np.cumsum(self.d_est, axis=1, out=xcs[:, 1:])
            self._xcs = xcs
        if out is not None and self.one:
            return np.subtract(self._xcs[:, length:], self._xcs[:, :-length], out=out)
        return self._xcs[:, length:] - self._xcs[:, :-length]

    def _quad(self, s: np.ndarray) -> np.ndarray:
        """``s' S_xx^{-1} s`` row-wise: s (N, M) for one regressor, else (N, M, F).

        Overwrites ``s`` when it is 2-D (callers pass temporaries).
        """
        assert self.s_inv is not None
        if self.one:
            np.multiply(s, s, out=s)
            s *= self.s_inv[:, None]
            return s
        return np.einsum("nmf,nfg,nmg->nm", s, self.s_inv, s)

    def _base(self, length: int, sign: float) -> np.ndarray:
        """``L + sign L^2/n`` (intercept) and, without a design, the average slope
        leverage ``sign L (k - 1)/n``: shape (N,)."""
        out = np.full(self.n.shape, float(length))
        if self.k >= 1:
            out += sign * (length * length) / self.n
        if not self.has_design and self.k >= 2:
            # hand-built panel with k >= 2 and no regressor data: average leverage
            out += sign * length * (self.k - 1) / self.n
        return out

    def _buffer(self, slot: int, width: int) -> np.ndarray:
        """A reusable contiguous (N, width) work array (no fresh 20 MB allocations)."""
        rows, l1 = self.resid.shape
        buf = self._buffers.get(slot)
        if buf is None:
            buf = self._buffers[slot] = np.empty(rows * l1)
        return buf[: rows * width].reshape(rows, width)

    def reference(self, length: int) -> np.ndarray:
        """Standardised L-day rolling sums of the estimation residuals, (N, L1 - L + 1).

        Returns a work buffer that the next call overwrites.
        """
        rows, l1 = self.resid.shape
        width = l1 - length + 1
        if width <= 0:
            return np.full((rows, 0), np.nan)
        base = self._base(length, -1.0)[:, None]
        total = self._buffer(0, width)
        factor = self._buffer(1, width)
        if length == 1:
            np.copyto(total, self.resid)  # NaN on missing days already
        else:
            if self._sums is None:
                cs = np.zeros((rows, l1 + 1))
                resid0 = self._buffer(2, l1)
                np.copyto(resid0, self.resid)
                miss = self.missing
                resid0.ravel()[miss] = 0.0
                np.cumsum(resid0, axis=1, out=cs[:, 1:])
                ms = None
                if miss.size * 8 > resid0.size:
                    # many missing days: count them in units of 2**600 (exact), so any
                    # window with a missing day gets a hugely negative variance factor
                    ms = np.zeros((rows, l1 + 1))
                    poison = resid0
                    poison.fill(0.0)
                    poison.ravel()[miss] = _POISON
                    np.cumsum(poison, axis=1, out=ms[:, 1:])
                self._sums = (cs, ms)
            cs, ms = self._sums
            np.subtract(cs[:, length:], cs[:, :-length], out=total)
        if self.has_design and self.one:
            self._quad(self._design_sums(length, out=factor))  # in place
            np.subtract(base, factor, out=factor)
        elif self.has_design:
            np.subtract(base, self._quad(self._design_sums(length)), out=factor)
        else:
            np.copyto(factor, base)
        if length > 1 and ms is not None:
            tmp = self._buffer(2, width)
            np.subtract(ms[:, length:], ms[:, :-length], out=tmp)
            factor -= tmp
        elif length > 1:  # few missing days: NaN into the windows that contain one
            factor.ravel()[self._windows_with(self.missing, length, width)] = np.nan
        # a negative factor (a degenerate design, a window with a missing day) gives NaN
        with np.errstate(invalid="ignore", divide="ignore"):
            np.sqrt(factor, out=factor)
            np.divide(total, factor, out=total)
        return total

    def window_pvalues(
        self, lengths: Sequence[int], stat: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """SQ p-values and reference counts of ``stat[:, j]`` against the standardised
        ``lengths[j]``-day references, shape (N, J) each; None if not applicable.

        Equal, value for value, to ``sq_pvalues(self.reference(L), stat[:, j])``: the
        same operations on the same numbers, but fused over blocks of rows (a block's
        references are built, counted and dropped while in cache) and the blocks shared
        among a few threads (numpy releases the GIL). One-regressor designs only.
        """
        rows, l1 = self.resid.shape
        if not (self.has_design and self.one) or rows == 0:
            return None
        if any(length < 1 or length > l1 for length in lengths):
            return None
        nw = len(lengths)
        if kernels.enabled(rows):
            return self._compiled_pvalues(list(lengths), np.asarray(stat, dtype="float64"))
        miss = self.missing
        poison = miss.size * 8 > self.resid.size  # as in reference(): 2**600 counts
        job = _WindowJob(
            lengths=list(lengths),
            bases=[self._base(length, -1.0) for length in lengths],
            # flat positions of the windows holding a missing day (row-major by row, so
            # searchsorted at row bounds works); None where the 2**600 counts are used
            bad=[
                self._windows_with(miss, length, l1 - length + 1)
                if length > 1 and not poison
                else None
                for length in lengths
            ],
            poison=poison,
            q=np.asarray(stat, dtype="float64"),
            le=np.empty((rows, nw), dtype=np.int64),
            lt=np.empty((rows, nw), dtype=np.int64),
            nn=np.empty((rows, nw), dtype=np.int64),
        )
        workers = max(1, min(threads.n_threads(), rows // _BLOCK_ROWS))
        cuts = np.linspace(0, rows, workers + 1).astype(int).tolist()
        parts = [(cuts[i], cuts[i + 1]) for i in range(workers)]
        if workers == 1:
            self._window_counts(job, *parts[0])
        else:
            list(threads.pool().map(lambda part: self._window_counts(job, *part), parts))
        widths = np.array([l1 - length + 1 for length in lengths])
        return _rank_pvalues(job.le, job.lt, widths[None, :] - job.nn, job.q)

    def _window_counts(self, job: _WindowJob, lo_p: int, hi_p: int) -> None:
        """:meth:`window_pvalues`' counts for rows ``lo_p:hi_p``, in blocks of
        :data:`_BLOCK_ROWS` rows whose work arrays are allocated once."""
        l1 = self.resid.shape[1]
        size = _BLOCK_ROWS * (l1 + 1)
        work = _BlockWork(*(np.empty(size) for _ in range(3)), *(np.zeros(size) for _ in range(3)))
        multi = any(length > 1 for length in job.lengths)
        for r0 in range(lo_p, hi_p, _BLOCK_ROWS):
            r1 = min(r0 + _BLOCK_ROWS, hi_p)
            if multi:
                self._block_cumsums(job, work, r0, r1)
            for j in range(len(job.lengths)):
                self._count_block(job, work, j, r0, r1)

    def _block_cumsums(self, job: _WindowJob, work: _BlockWork, r0: int, r1: int) -> None:
        """Row cumsums of the block's residuals (missing days 0), centred design and,
        with many missing days, missing-day counts in units of 2**600 (equal to those of
        all rows)."""
        nr, l1 = r1 - r0, self.resid.shape[1]
        assert self.d_est is not None
        miss = self.missing
        cs, xcs = work.cumsums(nr, l1)
        r_0 = work.tmp[: nr * l1].reshape(nr, l1)
        np.copyto(r_0, self.resid[r0:r1])
        a, b = np.searchsorted(miss, (r0 * l1, r1 * l1))
        r_0.ravel()[miss[a:b] - r0 * l1] = 0.0
        np.cumsum(r_0, axis=1, out=cs[:, 1:])
        np.cumsum(self.d_est[r0:r1], axis=1, out=xcs[:, 1:])
        if job.poison:
            ms = work.ms_b[: nr * (l1 + 1)].reshape(nr, l1 + 1)
            r_0.fill(0.0)
            r_0.ravel()[miss[a:b] - r0 * l1] = _POISON
            np.cumsum(r_0, axis=1, out=ms[:, 1:])

    def _count_block(self, job: _WindowJob, work: _BlockWork, j: int, r0: int, r1: int) -> None:
        """Standardised ``lengths[j]``-day references of rows ``r0:r1`` (as
        :meth:`reference`) counted against the block's statistics ``q[:, j]``."""
        assert self.d_est is not None and self.s_inv is not None
        nr, l1 = r1 - r0, self.resid.shape[1]
        length = job.lengths[j]
        width = l1 - length + 1
        total = work.tot[: nr * width].reshape(nr, width)
        factor = work.fac[: nr * width].reshape(nr, width)
        if length == 1:
            np.copyto(total, self.resid[r0:r1])
            np.copyto(factor, self.d_est[r0:r1])
        else:
            cs, xcs = work.cumsums(nr, l1)
            np.subtract(cs[:, length:], cs[:, :-length], out=total)
            np.subtract(xcs[:, length:], xcs[:, :-length], out=factor)
        np.multiply(factor, factor, out=factor)
        factor *= self.s_inv[r0:r1, None]
        np.subtract(job.bases[j][r0:r1, None], factor, out=factor)
        if length > 1 and job.poison:
            ms = work.ms_b[: nr * (l1 + 1)].reshape(nr, l1 + 1)
            t = work.tmp[: nr * width].reshape(nr, width)
            np.subtract(ms[:, length:], ms[:, :-length], out=t)
            factor -= t
        elif length > 1:
            pos = job.bad[j]
            assert pos is not None
            a, b = np.searchsorted(pos, (r0 * width, r1 * width))
            factor.ravel()[pos[a:b] - r0 * width] = np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            np.sqrt(factor, out=factor)
            np.divide(total, factor, out=total)
            q = job.q[r0:r1, j : j + 1]
            job.nn[r0:r1, j] = _row_count(np.isnan(total))
            job.le[r0:r1, j] = _row_count(np.less_equal(total, q))
            job.lt[r0:r1, j] = _row_count(np.less(total, q))

    def day_pvalues(self, stat: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """SQ p-values of the single-day statistics ``stat`` (N, M) against the
        standardised residuals and the reference counts (N,); None if not applicable.

        Equal, value for value, to ``sq_pvalues(self.reference(1), stat)``, computed
        over blocks of rows shared among a few threads (see :meth:`window_pvalues`).
        """
        rows, l1 = self.resid.shape
        if not (self.has_design and self.one) or rows == 0 or l1 == 0:
            return None
        assert self.d_est is not None and self.s_inv is not None
        xx = np.asarray(stat, dtype="float64")
        m = xx.shape[1]
        if kernels.enabled(rows) and m > 0:
            p, n_all = self._compiled_pvalues([1] * m, xx)
            return p, n_all[:, 0]
        base = self._base(1, -1.0)
        le = np.empty((rows, m), dtype=np.int64)
        lt = np.empty((rows, m), dtype=np.int64)
        n = np.empty(rows, dtype=np.int64)
        workers = max(1, min(threads.n_threads(), rows // _BLOCK_ROWS))
        cuts = np.linspace(0, rows, workers + 1).astype(int)

        def run(part: int) -> None:
            lo_p, hi_p = int(cuts[part]), int(cuts[part + 1])
            tot, fac = np.empty(_BLOCK_ROWS * l1), np.empty(_BLOCK_ROWS * l1)
            for r0 in range(lo_p, hi_p, _BLOCK_ROWS):
                r1 = min(r0 + _BLOCK_ROWS, hi_p)
                nr = r1 - r0
                total = tot[: nr * l1].reshape(nr, l1)
                factor = fac[: nr * l1].reshape(nr, l1)
                np.copyto(total, self.resid[r0:r1])
                np.copyto(factor, self.d_est[r0:r1])
                np.multiply(factor, factor, out=factor)
                factor *= self.s_inv[r0:r1, None]
                np.subtract(base[r0:r1, None], factor, out=factor)
                with np.errstate(invalid="ignore", divide="ignore"):
                    np.sqrt(factor, out=factor)
                    np.divide(total, factor, out=total)
                n_b = l1 - _row_count(np.isnan(total))
                n[r0:r1] = n_b
                q = xx[r0:r1]
                if m <= 4:
                    with np.errstate(invalid="ignore"):
                        for j in range(m):
                            le[r0:r1, j] = _row_count(total <= q[:, j : j + 1])
                            lt[r0:r1, j] = _row_count(total < q[:, j : j + 1])
                else:
                    le[r0:r1], lt[r0:r1] = _sorted_counts(total, n_b, q)

        if workers == 1:
            run(0)
        else:
            list(threads.pool().map(run, range(workers)))
        return _rank_pvalues(le, lt, n[:, None], xx)[0], n

    def fused_pvalues(
        self, day_stat: np.ndarray, lengths: Sequence[int], win_stat: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """:meth:`day_pvalues` of ``day_stat`` (N, M) and :meth:`window_pvalues` of
        ``win_stat`` (N, J) in one compiled pass (large panels; None where either would
        not use the kernel): the single-day p-values, the window p-values and their
        reference counts, value for value those of the two calls (each statistic is
        counted against its own row's references; the one-day references, common to
        both, are built once per row)."""
        rows, l1 = self.resid.shape
        m = day_stat.shape[1]
        if not (self.has_design and self.one) or rows == 0 or l1 == 0 or m == 0:
            return None
        if not kernels.enabled(rows) or any(length < 1 or length > l1 for length in lengths):
            return None
        q = np.concatenate([np.asarray(day_stat, dtype="float64"),
                            np.asarray(win_stat, dtype="float64")], axis=1)  # fmt: skip
        p, n = self._compiled_pvalues([1] * m + [int(x) for x in lengths], q)
        return p[:, :m], p[:, m:], n[:, m:]

    def _compiled_pvalues(
        self, lengths: list[int], stat: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`window_pvalues` by the compiled kernel :func:`~oilimpact.eventstudy._jit.sq_counts`
        (large panels): the references of each distinct length are built once per row,
        counted against that row's statistics and dropped; same values."""
        jit = kernels.jit()
        assert jit is not None and self.d_est is not None and self.s_inv is not None
        rows, l1 = self.resid.shape
        distinct = sorted(set(lengths))
        lens = np.array(distinct, dtype=np.int64)
        q_len = np.array([distinct.index(length) for length in lengths], dtype=np.int64)
        bases = np.column_stack([self._base(length, -1.0) for length in distinct])
        resid = np.ascontiguousarray(self.resid)
        d_est = np.ascontiguousarray(self.d_est)
        s_inv = np.ascontiguousarray(self.s_inv, dtype="float64")
        q = np.ascontiguousarray(stat)
        m = q.shape[1]
        le = np.empty((rows, m), dtype=np.int64)
        lt = np.empty((rows, m), dtype=np.int64)
        bad = np.empty((rows, lens.size), dtype=np.int64)

        def run(a: int, b: int) -> None:
            jit.sq_counts(
                resid[a:b], d_est[a:b], s_inv[a:b], bases[a:b], lens, q[a:b], q_len,
                le[a:b], lt[a:b], bad[a:b],
            )  # fmt: skip

        kernels.by_blocks(rows, run)
        return _rank_pvalues(le, lt, (l1 - lens + 1)[None, q_len] - bad[:, q_len], q)

    @property
    def missing(self) -> np.ndarray:
        """Flat positions of the missing estimation days (computed once)."""
        if self._missing is None:
            self._missing = np.flatnonzero(np.isnan(self.resid).ravel())
        return self._missing

    def _windows_with(self, miss: np.ndarray, length: int, width: int) -> np.ndarray:
        """Flat positions in the (N, width) window grid of the windows holding a day of
        ``miss`` (flat positions in the (N, L1) grid); may repeat."""
        l1 = self.resid.shape[1]
        row, day = np.divmod(miss, l1)
        start = day[:, None] - np.arange(length)  # windows u = t - L + 1 .. t
        keep = (start >= 0) & (start < width)
        return (row[:, None] * width + start)[keep]

    def _event_base(self, sessions: np.ndarray) -> np.ndarray:
        """:meth:`_base` (sign +1) of windows spanning ``sessions`` sessions: ``K +
        K^2/n`` with ``K`` an array (the intercept row of a return spanning ``k`` sessions
        is ``k``; see :func:`~oilimpact.eventstudy.models.scale_spanning_returns`)."""
        n = self.n if sessions.ndim == 1 else self.n[:, None]
        out = sessions.astype("float64", copy=True)
        if self.k >= 1:
            out += sessions * sessions / n
        if not self.has_design and self.k >= 2:
            out += sessions * (self.k - 1) / n
        return out

    def event_factor(
        self,
        window: slice,
        length: int,
        sums: tuple[np.ndarray | None, np.ndarray | None] = (None, None),
    ) -> np.ndarray:
        """``g'(I + X*(X'X)^{-1}X*')g`` over the window's days, shape (N,) (with returns
        spanning several sessions, ``g'[diag(k) + kk'/n + D S^{-1} D']g``; GARCH models:
        ``g' pe_cov g``). ``sums``: the window's sums of the session weights and of the
        (one) centred event regressor when already at hand (:meth:`~oilimpact.
        eventstudy.panel.AbnormalPanel.window_sums`; the same values)."""
        if self.garch_pe is not None:
            return self.garch_pe[:, window, window].sum(axis=(1, 2))
        k_sum, d_sum = sums
        if self.weights is not None:
            k_sum = self.weights[:, window].sum(axis=1) if k_sum is None else k_sum
            factor = self._event_base(k_sum)
        else:
            factor = self._base(length, 1.0)
        if self.d_evt is not None:
            s = self.d_evt[:, window].sum(axis=1) if d_sum is None or not self.one else d_sum
            factor += self._quad(s[:, None].copy())[:, 0]
        return factor

    def event_day_factors(self) -> np.ndarray:
        """``1 + x_t*'(X'X)^{-1}x_t*`` of every event day, shape (N, L2) (``k_t + k_t^2/n
        + ...`` for a return spanning ``k_t`` sessions; GARCH models: the diagonal of
        ``pe_cov``)."""
        if self.garch_pe is not None:
            return np.diagonal(self.garch_pe, axis1=1, axis2=2).copy()
        if self.weights is not None:
            base = self._event_base(self.weights)
        else:
            base = self._base(1, 1.0)[:, None]
        if self.d_evt is not None:
            return base + self._quad(self.d_evt.copy())
        return base


def sq_reference(panel: AbnormalPanel, length: int) -> np.ndarray:
    r"""Standardised reference values of the studentised SQ test for L-day statistics.

    Parameters
    ----------
    panel : AbnormalPanel
    length : int
        Window length ``L`` (1 for single-day ARs).

    Returns
    -------
    ndarray, shape (N, L1 - L + 1)
        For every start day ``u`` the rolling sum of the estimation residuals over days
        ``u .. u + L - 1`` divided by :math:`\sqrt{g_u'(I - H)g_u}`; NaN where a day of
        the window is missing.

    Notes
    -----
    :math:`H = X(X'X)^{-1}X'` is the hat matrix of the pair's estimation design and
    :math:`g_u` the indicator of the window's days, so :math:`\sigma^2 g_u'(I - H)g_u`
    is the exact variance of the rolling sum of OLS residuals. With centred regressors
    :math:`\tilde x` it is :math:`L - L^2/L_1 - \tilde s_u' S_{xx}^{-1} \tilde s_u`,
    :math:`\tilde s_u = \sum_{t=u}^{u+L-1} \tilde x_t` (for ``L = 1``:
    :math:`1 - h_{tt}`). Models without parameters use ``L``; the constant-mean model
    ``L - L^2/L_1``. The event statistic is standardised the same way by its exact
    prediction-error factor :math:`g'(I + X^*(X'X)^{-1}X^{*\prime})g`
    (:func:`car_tests`). For a hand-built panel with ``k >= 2`` parameters and no
    regressor data the slope term is approximated by its average ``L (k - 1) / L_1``.

    Examples
    --------
    >>> import numpy as np
    >>> from oilimpact.eventstudy.models import fit_panel
    >>> rng = np.random.default_rng(1)
    >>> m = rng.normal(0, 0.01, (2, 250)); y = m + rng.normal(0, 0.01, (2, 250))
    >>> panel = fit_panel(y[:, :239], y[:, 239:], m[:, :239], m[:, 239:],
    ...                   event_days=np.arange(0, 11))
    >>> sq_reference(panel, 6).shape
    (2, 234)
    """
    return _SQPrep(panel).reference(int(length)).copy()


def _dof(panel: AbnormalPanel) -> np.ndarray:
    return (panel.n_est - panel.n_params).astype("float64")


#: Element count above which :func:`_t_pvalue` splits the work over threads.
_THREAD_MIN = 16_384


def _t_pvalue(t: np.ndarray, dof: np.ndarray) -> np.ndarray:
    """Two-sided Student-t p-value ``2 P(T_dof > |t|)``; NaN for NaN ``t``.

    ``scipy.special.stdtr`` (about 0.2 us a value, the costliest step of the per-pair
    tests) is a numpy ufunc that releases the GIL, so large inputs are split into row
    blocks evaluated on a few threads; the values are those of one call.
    """
    neg = np.abs(np.asarray(t, dtype="float64"))
    np.negative(neg, out=neg)
    dd = np.broadcast_to(np.asarray(dof, dtype="float64"), neg.shape)
    out = np.empty(neg.shape)
    rows = neg.shape[0] if neg.ndim else 0
    workers = min(threads.n_threads(), rows)
    if neg.size < _THREAD_MIN or workers < 2:
        special.stdtr(dd, neg, out=out)
    else:
        cuts = np.linspace(0, rows, workers + 1).astype(int)
        blocks = [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        list(threads.pool().map(lambda b: special.stdtr(dd[b], neg[b], out=out[b]), blocks))
    out *= 2.0
    return out


def ar_tests(panel: AbnormalPanel) -> dict[str, np.ndarray]:
    r"""Per-day tests of every event-window AR of every pair.

    Returns
    -------
    dict of ndarray, each shape (N, L2)
        ``ar``, ``se``, ``tstat``, ``pvalue`` (two-sided, Student t with
        ``L1 - k`` degrees of freedom) and ``sq_pvalue`` (studentised SQ test: the AR
        over :math:`\sqrt{1 + h^*_t}` ranked against the estimation residuals over
        :math:`\sqrt{1 - h_{tt}}`, see :func:`sq_reference` and :func:`sq_pvalues`).

    Notes
    -----
    :math:`\operatorname{se}(AR_{t}) = s\sqrt{1 + x_t^{*\prime}(X'X)^{-1}x^*_t}`,
    the square root of the diagonal of :math:`s^2(I + X^*(X'X)^{-1}X^{*\prime})`
    (MacKinlay 1997, eq. 9); :math:`t = AR_t / \operatorname{se}(AR_t)`.

    Examples
    --------
    >>> import numpy as np
    >>> from oilimpact.eventstudy.models import fit_panel
    >>> rng = np.random.default_rng(1)
    >>> m = rng.normal(0, 0.01, (2, 250)); y = m + rng.normal(0, 0.01, (2, 250))
    >>> panel = fit_panel(y[:, :239], y[:, 239:], m[:, :239], m[:, 239:],
    ...                   event_days=np.arange(0, 11))
    >>> out = ar_tests(panel)
    >>> out["tstat"].shape, bool((out["sq_pvalue"] >= 2 / 240).all())
    ((2, 11), True)
    """
    prep = _SQPrep(panel)
    ar, se, t, stat = _ar_values(panel, prep)
    p = _t_pvalue(t, _dof(panel)[:, None])
    return {"ar": ar, "se": se, "tstat": t, "pvalue": p, "sq_pvalue": _day_sq(prep, stat)}


def _ar_values(
    panel: AbnormalPanel, prep: _SQPrep
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ARs, their PE-corrected standard errors, t statistics and the standardised
    ARs the SQ test ranks (AR over the square root of its exact PE factor), (N, L2)."""
    var = panel.sigma2[:, None] * np.diagonal(panel.pe_cov, axis1=1, axis2=2)
    se = np.sqrt(var)
    ar = panel.event_ar
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ar / se
        stat = ar / np.sqrt(prep.event_day_factors())
    return ar, se, t, stat


def _day_sq(prep: _SQPrep, stat: np.ndarray) -> np.ndarray:
    """SQ p-values of the standardised single-day ARs ``stat`` (N, L2)."""
    fused = prep.day_pvalues(stat)
    return fused[0] if fused is not None else sq_pvalues(prep.reference(1), stat)[0]


def _repeat_level(ids: pd.MultiIndex, level: int, times: int) -> pd.Index | np.ndarray:
    """Each label of ``ids`` level ``level`` ``times`` times: string labels stay a string
    index (no per-label conversion), others become an object array as before."""
    labels = ids.get_level_values(level)
    if isinstance(labels.dtype, pd.StringDtype):
        return labels.repeat(times)
    return np.repeat(np.asarray(labels, dtype=object), times)


def car_tests(panel: AbnormalPanel, windows: Sequence[tuple[int, int]]) -> pd.DataFrame:
    r"""CAR of every pair over every window, with the PE-corrected t test and the SQ test.

    Parameters
    ----------
    panel : AbnormalPanel
    windows : sequence of (int, int)
        Inclusive relative-day windows, e.g. ``[(0, 0), (-1, 1), (0, 10)]``.

    Returns
    -------
    pandas.DataFrame
        One row per (pair, window), pair-major, columns ``event, asset, window, start,
        end, n_days, car, se, tstat, pvalue, sq_pvalue, sq_n, sq_min_pvalue, dof,
        n_est``. ``car`` is NaN when any AR of the window is missing. ``sq_n`` is the
        number of L-day reference sums and ``sq_min_pvalue = 2 / (sq_n + 1)`` the
        smallest p-value the SQ test can give.

    Notes
    -----
    With :math:`g` the indicator vector of the window's days,

    .. math::

        CAR = g'AR^*, \qquad
        \widehat{\operatorname{Var}}(CAR) = s^2\, g'(I + X^*(X'X)^{-1}X^{*\prime})g,

    which for the market model is :math:`s^2[L + L^2/L_1 + (\sum_{t \in w}
    (R_{m,t} - \bar R_m))^2 / S_{mm}]` with :math:`S_{mm} = \sum_{est}(R_{m,t} -
    \bar R_m)^2` (MacKinlay 1997, eqs. 11-13; Campbell, Lo and MacKinlay 1997,
    eq. 4.4.11). :math:`t = CAR/\widehat{se}`, two-sided p-value from Student's t with
    :math:`L_1 - k` degrees of freedom (exact under i.i.d. normal disturbances).

    The SQ p-value is the studentised variant of Gelbach, Helland and Klick (2013):
    the standardised CAR :math:`CAR / \sqrt{g'(I + X^*(X'X)^{-1}X^{*\prime})g}` is
    ranked among the :math:`L_1 - L + 1` overlapping L-day rolling sums of the
    estimation residuals, each divided by :math:`\sqrt{g_u'(I - H)g_u}` (its exact
    variance factor; :func:`sq_reference`). GHK rank the raw CAR among raw residual
    sums; those sums have variance :math:`\sigma^2 g_u'(I - H)g_u \approx \sigma^2(L -
    L^2/L_1 - \dots)` while the CAR has :math:`\sigma^2(L + L^2/L_1 + \dots)`, which
    makes the raw test over-reject as L grows (6-7% at 5% for an 11-day CAR with
    :math:`L_1 = 239`). Both factors are exact OLS quantities (textbook, whatever
    ``panel.conventions``), and :math:`\sigma` cancels. See :func:`sq_pvalues` for the
    rank p-value and its attainable minimum. Studentisation equalises the variances, not
    the dependence: for ``L > 1`` the overlapping reference sums are not exchangeable
    with the CAR, and the SQ p-value is approximate (it over-rejects, e.g. 6.0% at 5% and
    3.2% at 1% for an 11-day CAR with ``L1 = 239`` and t(3) errors; exact validity holds
    for single days; docs/methods.md).

    References
    ----------
    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of
    Economic Literature* 35(1), 13-39.

    Gelbach, J. B., Helland, E. and Klick, J. (2013). Valid inference in single-firm,
    single-event studies. *American Law and Economics Review* 15(2), 495-541.

    Examples
    --------
    >>> import numpy as np
    >>> from oilimpact.eventstudy.models import fit_panel
    >>> rng = np.random.default_rng(2)
    >>> m = rng.normal(0, 0.01, (1, 250)); y = m + rng.normal(0, 0.01, (1, 250))
    >>> panel = fit_panel(y[:, :239], y[:, 239:], m[:, :239], m[:, 239:],
    ...                   event_days=np.arange(0, 11))
    >>> car_tests(panel, [(0, 0), (0, 10)])[["n_days", "sq_n", "dof"]].values.tolist()
    [[1, 239, 237], [11, 229, 237]]
    """
    wins = [(int(w[0]), int(w[1])) for w in windows]
    if not wins:
        return pd.DataFrame({c: [] for c in CAR_TEST_COLUMNS})
    prep = _SQPrep(panel)
    car, se, t, stats = _car_values(panel, prep, wins)
    sq, sq_n = _window_sq_pvalues(prep, [hi - lo + 1 for lo, hi in wins], stats)
    p = _t_pvalue(t, _dof(panel)[:, None])
    return car_frame(panel, wins, {"car": car, "se": se, "tstat": t, "pvalue": p,
                                    "sq_pvalue": sq, "sq_n": sq_n})  # fmt: skip


def _car_values(
    panel: AbnormalPanel, prep: _SQPrep, wins: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The CARs, their PE-corrected standard errors, t statistics and standardised
    CARs (:func:`_window_cars`), (N, J) each."""
    se = np.sqrt(panel.sigma2[:, None] * panel.window_pe_sums(wins))
    car, stats = _window_cars(panel, prep, wins)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = car / se
    return car, se, t, stats


def pair_tests(
    panel: AbnormalPanel, windows: Sequence[tuple[int, int]]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    r"""The values of :func:`ar_tests` and of :func:`car_tests`, computed together.

    Parameters
    ----------
    panel : AbnormalPanel
    windows : sequence of (int, int)
        Inclusive relative-day windows (at least one).

    Returns
    -------
    ar : dict of ndarray, each (N, L2)
        ``ar, se, tstat, pvalue, sq_pvalue``: :func:`ar_tests` of ``panel``.
    car : dict of ndarray, each (N, J)
        ``car, se, tstat, pvalue, sq_pvalue, sq_n``: the columns of
        :func:`car_tests` of ``panel`` and ``windows``, pair-major.

    Notes
    -----
    The formulas are those of :func:`ar_tests` and :func:`car_tests` (MacKinlay 1997,
    eqs. 9-13; the studentised SQ test of Gelbach, Helland and Klick 2013), and so are
    the values, bit for bit: what the two share is computed once, not differently. The
    SQ ingredients of the panel are prepared once; on large panels the single-day and
    window SQ counts are one compiled pass over each pair's estimation residuals
    (:meth:`_SQPrep.fused_pvalues`); and the Student-t p-values of all ARs and CARs are
    one call of ``scipy.special.stdtr`` (the same degrees of freedom ``L1_i - k`` in a
    row; element-wise, so each value is the one a separate call gives).

    References
    ----------
    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of
    Economic Literature* 35(1), 13-39.

    Gelbach, J. B., Helland, E. and Klick, J. (2013). Valid inference in single-firm,
    single-event studies. *American Law and Economics Review* 15(2), 495-541.

    Examples
    --------
    >>> import numpy as np
    >>> from oilimpact.eventstudy.models import fit_panel
    >>> rng = np.random.default_rng(2)
    >>> m = rng.normal(0, 0.01, (2, 250)); y = m + rng.normal(0, 0.01, (2, 250))
    >>> panel = fit_panel(y[:, :239], y[:, 239:], m[:, :239], m[:, 239:],
    ...                   event_days=np.arange(0, 11))
    >>> ar, car = pair_tests(panel, [(0, 0), (0, 10)])
    >>> bool(np.array_equal(ar["pvalue"], ar_tests(panel)["pvalue"]))
    True
    >>> car["sq_n"].tolist()
    [[239, 229], [239, 229]]
    """
    wins = [(int(w[0]), int(w[1])) for w in windows]
    if not wins:
        raise ValueError("pair_tests needs at least one window")
    prep = _SQPrep(panel)
    ar, se, t, stat = _ar_values(panel, prep)
    car, car_se, car_t, stats = _car_values(panel, prep, wins)
    lengths = [hi - lo + 1 for lo, hi in wins]
    fused = prep.fused_pvalues(stat, lengths, stats)
    if fused is not None:
        sq, car_sq, sq_n = fused
    else:
        sq = _day_sq(prep, stat)
        car_sq, sq_n = _window_sq_pvalues(prep, lengths, stats)
    m = t.shape[1]
    p = _t_pvalue(np.concatenate([t, car_t], axis=1), _dof(panel)[:, None])
    return (
        {"ar": ar, "se": se, "tstat": t, "pvalue": p[:, :m], "sq_pvalue": sq},
        {"car": car, "se": car_se, "tstat": car_t, "pvalue": p[:, m:],
         "sq_pvalue": car_sq, "sq_n": sq_n},
    )  # fmt: skip


def _window_cars(
    panel: AbnormalPanel, prep: _SQPrep, wins: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """CAR of every pair over every window, (N, J) (NaN if any day is missing), and the
    standardised CAR the SQ test ranks: CAR over its exact prediction-error factor."""
    shape = (panel.n_pairs, len(wins))
    car = np.empty(shape)
    stats = np.empty(shape)
    sums = panel.window_sums(wins)  # shared with the closed-form CAR variances
    for j, (lo, hi) in enumerate(wins):
        idx = panel.window_index((lo, hi))
        sl = slice(int(idx[0]), int(idx[-1]) + 1)  # consecutive days: a view, no copy
        car[:, j] = sums.ar[:, j]  # NaN if any day missing
        parts = tuple(None if x is None else x[:, j] for x in (sums.sessions, sums.design))
        with np.errstate(invalid="ignore", divide="ignore"):
            stats[:, j] = car[:, j] / np.sqrt(prep.event_factor(sl, hi - lo + 1, parts))
    return car, stats


def _window_sq_pvalues(
    prep: _SQPrep, lengths: list[int], stats: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """SQ p-values and reference counts of the standardised CARs, (N, J) each: fused
    over row blocks where :meth:`_SQPrep.window_pvalues` applies, else window by window."""
    fused = prep.window_pvalues(lengths, stats)
    if fused is not None:
        return fused
    sq = np.empty(stats.shape)
    sq_n = np.empty(stats.shape, dtype=np.int64)
    for j, length in enumerate(lengths):
        sq[:, j], sq_n[:, j] = sq_pvalues(prep.reference(length), stats[:, j])
    return sq, sq_n


def car_frame(
    panel: AbnormalPanel, wins: list[tuple[int, int]], values: dict[str, np.ndarray]
) -> pd.DataFrame:
    """The CAR table, one row per (pair, window), pair-major: the labels, the windows'
    bounds and the (N, J) ``values`` (``car, se, tstat, pvalue, sq_pvalue, sq_n``, as
    :func:`pair_tests` gives them) flattened (columns :data:`CAR_TEST_COLUMNS`). The
    table takes the arrays without copying them where flattening is a view: pass
    arrays nothing else changes."""
    n, nw = panel.n_pairs, len(wins)
    car, se, t, p = values["car"], values["se"], values["tstat"], values["pvalue"]
    sq, sq_n = values["sq_pvalue"], values["sq_n"]
    dof = _dof(panel)
    wobj = np.empty(nw, dtype=object)
    wobj[:] = wins
    lo_a = np.array([w[0] for w in wins])
    hi_a = np.array([w[1] for w in wins])
    return pd.DataFrame(
        {
            "event": _repeat_level(panel.ids, 0, nw),
            "asset": _repeat_level(panel.ids, 1, nw),
            "window": np.tile(wobj, n),
            "start": np.tile(lo_a, n),
            "end": np.tile(hi_a, n),
            "n_days": np.tile(hi_a - lo_a + 1, n),
            "car": car.reshape(-1),
            "se": se.reshape(-1),
            "tstat": t.reshape(-1),
            "pvalue": p.reshape(-1),
            "sq_pvalue": sq.reshape(-1),
            "sq_n": sq_n.reshape(-1),
            "sq_min_pvalue": np.asarray(min_sq_pvalue(sq_n.reshape(-1)), dtype="float64"),
            "dof": np.repeat(dof.astype(np.int64), nw),
            "n_est": np.repeat(panel.n_est.astype(np.int64), nw),
        },
        copy=False,  # new arrays (reshaped results, repeats): no gathering copy
    )
