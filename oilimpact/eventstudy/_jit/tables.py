"""The compiled window sums of the pair tables (twin:
:meth:`oilimpact.eventstudy.panel.AbnormalPanel._window_sums_numpy`) and multiple-testing
adjustment of their p-values (twin: :func:`oilimpact.eventstudy.multitest._adjusted`)."""

from __future__ import annotations

import numpy as np

from ._base import njit as _jit
from .fit import _pairwise_sum

__all__ = ["TWINS", "adjust_sorted", "window_sums"]

TWINS = {
    "window_sums": (
        "panel.AbnormalPanel._window_sums_numpy",
        "window sums of the ARs, centred event regressor and session weights",
    ),
    "adjust_sorted": ("multitest._adjusted", "BH q-values and Holm p-values of sorted p"),
}


@_jit
def window_sums(ar, d, w, lo, hi, car, sw, sw_seq, ks, miss):  # noqa: ANN001, ANN201
    """Sums over each window ``lo[j] .. hi[j]`` (columns, inclusive) of each row.

    ``car[i, j]``: of ``ar``; ``sw[i, j]``: of ``d`` and ``ks[i, j]``: of ``w`` (when
    they have the rows of ``ar``, else left as they are); ``miss[i, j]``: whether an AR
    of the window is NaN. These sums are numpy's pairwise sums of the row's slice
    (:func:`~oilimpact.eventstudy._jit.fit._pairwise_sum`), so the same bits as
    ``x[:, lo:hi + 1].sum(axis=1)``; ``sw_seq[i, j]`` is the sum of ``d`` in day order
    (a running sum from the first day, as numpy sums the gathered ``d[:, idx]``).
    """
    n = ar.shape[0]
    nj = lo.shape[0]
    has_d = d.shape[0] == n
    has_w = w.shape[0] == n
    seg_lo = np.empty(64, dtype=np.int64)  # the pairwise halvings' stack
    seg_n = np.empty(64, dtype=np.int64)
    left = np.empty(64)
    state = np.empty(64, dtype=np.int64)
    for i in range(n):
        for j in range(nj):
            a = lo[j]
            b = hi[j] + 1
            m = b - a
            car[i, j] = _pairwise_sum(ar[i, a:b], m, seg_lo, seg_n, left, state)
            bad = False
            for t in range(a, b):
                bad = bad or ar[i, t] != ar[i, t]
            miss[i, j] = bad
            if has_d:
                sw[i, j] = _pairwise_sum(d[i, a:b], m, seg_lo, seg_n, left, state)
                acc = d[i, a]
                for t in range(a + 1, b):
                    acc += d[i, t]
                sw_seq[i, j] = acc
            if has_w:
                ks[i, j] = _pairwise_sum(w[i, a:b], m, seg_lo, seg_n, left, state)


@_jit
def adjust_sorted(p, order, m, holm, out):  # noqa: ANN001, ANN201
    """Benjamini-Hochberg q-values (``holm`` False) or Holm-adjusted p-values of the
    ``m`` p-values ``p[order[:m]]`` (``order`` sorts them ascending), written to
    ``out[order[:m]]``.

    The operations of :func:`oilimpact.eventstudy.multitest._adjusted`, in its order:
    BH ``p_(i) / (i / m)`` with ``i / m`` rounded first, then the running minimum from
    the largest; Holm ``p_(i) (m - i + 1)``, then the running maximum from the
    smallest; values above 1 set to 1. Same bits.
    """
    if holm:
        cur = 0.0
        for i in range(m):
            k = order[i]
            v = p[k] * float(m - i)
            cur = v if i == 0 else max(cur, v)
            out[k] = 1.0 if cur > 1.0 else cur
    else:
        cur = 0.0
        mf = float(m)
        for i in range(m - 1, -1, -1):
            k = order[i]
            v = p[k] / (float(i + 1) / mf)
            cur = v if i == m - 1 else min(cur, v)
            out[k] = 1.0 if cur > 1.0 else cur
