"""The compiled SQ reference counts (twin: :meth:`oilimpact.eventstudy.single._SQPrep._window_counts`)."""

from __future__ import annotations

import numpy as np

from ._base import njit as _jit

__all__ = ["TWINS", "sq_counts"]

TWINS = {
    "sq_counts": ("single._SQPrep._window_counts", "SQ reference counts of every window"),
}


@_jit
def sq_counts(resid, d_est, s_inv, bases, lengths, q, q_len, le, lt, n_bad):  # noqa: ANN001, ANN201
    """Counts of the studentised SQ references at or below / below each statistic.

    For each row and each length ``L = lengths[j]`` the references are the L-day sums
    of the residuals over ``sqrt(bases[i, j] - (L-day sum of d_est)^2 * s_inv[i])``
    (NaN when a day of the window is missing or the factor is negative); ``n_bad[i, j]``
    counts the NaN references and, for every statistic ``q[i, c]`` of length index
    ``q_len[c]``, ``le[i, c] = #{ref <= q}`` and ``lt[i, c] = #{ref < q}``. The sums are
    differences of running sums, as ``numpy.cumsum`` forms them.
    """
    n, l1 = resid.shape
    n_len = lengths.shape[0]
    m = q.shape[1]
    cs = np.empty(l1 + 1)
    xcs = np.empty(l1 + 1)
    mcs = np.empty(l1 + 1, dtype=np.int64)
    ref = np.empty(l1)
    sums = False  # running sums are needed for L > 1 only
    for j in range(n_len):
        sums = sums or lengths[j] > 1
    for i in range(n):
        cs[0] = 0.0
        xcs[0] = 0.0
        mcs[0] = 0
        for t in range(l1 if sums else 0):
            r = resid[i, t]
            if r == r:
                cs[t + 1] = cs[t] + r
                mcs[t + 1] = mcs[t]
            else:
                cs[t + 1] = cs[t] + 0.0
                mcs[t + 1] = mcs[t] + 1
            xcs[t + 1] = xcs[t] + d_est[i, t]
        si = s_inv[i]
        for j in range(n_len):
            length = lengths[j]
            width = l1 - length + 1
            base = bases[i, j]
            # branch-free loops (they vectorise); a NaN factor makes the reference NaN
            if length == 1:
                for u in range(width):
                    xd = d_est[i, u]
                    ref[u] = resid[i, u] / np.sqrt(base - xd * xd * si)
            else:
                for u in range(width):
                    xd = xcs[u + length] - xcs[u]
                    f = base - xd * xd * si
                    f = np.nan if mcs[u + length] - mcs[u] > 0 else f
                    ref[u] = (cs[u + length] - cs[u]) / np.sqrt(f)
            bad = 0
            for u in range(width):
                bad += ref[u] != ref[u]
            n_bad[i, j] = bad
            for c in range(m):
                if q_len[c] != j:
                    continue
                x = q[i, c]
                a = 0
                b = 0
                for u in range(width):
                    a += ref[u] <= x
                    b += ref[u] < x
                le[i, c] = a
                lt[i, c] = b
