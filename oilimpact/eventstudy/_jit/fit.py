"""The compiled market-model fit (twin: :func:`oilimpact.eventstudy.models._fit_market_numpy`)
and its coefficients (twin: :func:`oilimpact.eventstudy.result._coefficients_numpy`)."""

from __future__ import annotations

import numpy as np

from ._base import njit as _jit

__all__ = ["TWINS", "fit_market", "market_coefficients"]

TWINS = {
    "fit_market": ("models._fit_market_numpy", "market-model OLS, residuals, AR, PE matrix"),
    "market_coefficients": ("result._coefficients_numpy", "market-model alpha, beta, mean x"),
}

#: numpy's block size of pairwise summation (``PW_BLOCKSIZE``)
_PW_BLOCK = 128


@_jit
def _block_sum(a, lo, n):  # noqa: ANN001, ANN201
    """numpy's sum of at most 128 values ``a[lo:lo + n]``: eight running sums combined
    pairwise, then the remainder added in order (fewer than eight: in order)."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        b = lo + i
        r0 += a[b]
        r1 += a[b + 1]
        r2 += a[b + 2]
        r3 += a[b + 3]
        r4 += a[b + 4]
        r5 += a[b + 5]
        r6 += a[b + 6]
        r7 += a[b + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@_jit
def _pairwise_sum(a, n, seg_lo, seg_n, left, state):  # noqa: ANN001, ANN201
    """``a[:n].sum()`` as numpy forms it along a contiguous axis (pairwise summation:
    halve at a multiple of eight until at most 128 values, :func:`_block_sum` each block,
    add the halves), so the same bits. Iterative (a cached recursive kernel crashes
    numba): ``seg_lo``, ``seg_n``, ``left``, ``state`` are a stack of the open halvings."""
    if n <= _PW_BLOCK:
        return _block_sum(a, 0, n)
    sp = 0
    seg_lo[0] = 0
    seg_n[0] = n
    state[0] = 0
    while True:
        m = seg_n[sp]
        if m > _PW_BLOCK:  # open this node: its left half first
            m2 = m // 2
            m2 -= m2 % 8
            seg_lo[sp + 1] = seg_lo[sp]
            seg_n[sp + 1] = m2
            state[sp + 1] = 0
            sp += 1
            continue
        v = _block_sum(a, seg_lo[sp], m)
        sp -= 1
        while sp >= 0 and state[sp] == 1:  # a right half: close its parent
            v = left[sp] + v
            sp -= 1
        if sp < 0:
            return v
        left[sp] = v  # a left half: keep it, then the right half
        state[sp] = 1
        m2 = seg_n[sp] // 2
        m2 -= m2 % 8
        seg_lo[sp + 1] = seg_lo[sp] + m2
        seg_n[sp + 1] = seg_n[sp] - m2
        state[sp + 1] = 0
        sp += 1


@_jit
def market_coefficients(y_est, x_est, resid, d_est, s_inv, alpha, beta, xbar):  # noqa: ANN001, ANN201
    """Market-model coefficients of each row on its estimation sample (the days where
    ``resid`` is not NaN): ``xbar`` and ``alpha = ybar - beta xbar`` from numpy's
    pairwise sums, ``beta = sum_t (s_inv d_t) y_t`` accumulated in day order as
    ``numpy.einsum`` does; the same operations as the twin, so the same bits."""
    n, l1 = y_est.shape
    y0 = np.empty(l1)
    x0 = np.empty(l1)
    seg_lo = np.empty(64, dtype=np.int64)  # the halvings' stack (depth < log2(l1))
    seg_n = np.empty(64, dtype=np.int64)
    left = np.empty(64)
    state = np.empty(64, dtype=np.int64)
    for i in range(n):
        cnt = 0
        for t in range(l1):
            ok = resid[i, t] == resid[i, t]
            cnt += ok
            y0[t] = y_est[i, t] if ok else 0.0
            x0[t] = x_est[i, t] if ok else 0.0
        nf = float(cnt)
        ybar = _pairwise_sum(y0, l1, seg_lo, seg_n, left, state) / nf
        xb = _pairwise_sum(x0, l1, seg_lo, seg_n, left, state) / nf
        s = s_inv[i]
        b = 0.0
        for t in range(l1):
            b += (s * d_est[i, t]) * y0[t]
        beta[i] = b
        xbar[i] = xb
        alpha[i] = ybar - b * xb


@_jit
def fit_market(  # noqa: ANN201
    y_est,
    x_est,
    y_evt,
    x_evt,
    k,
    resid,
    d_est,
    ar,
    d_evt,
    pe,
    n_est,
    sigma2,
    sxx,
    scale,
    y_ms,  # noqa: ANN001
):
    """Market model of each row: OLS on the rows' own non-missing days (textbook s^2).

    Writes the residuals (NaN off-sample), the centred design (0 off-sample), the event
    ARs and centred event regressors (NaN / 0 on missing event days), the PE matrix
    ``I + 1/n + d d' / Sxx`` (NaN rows and columns for missing event days), ``n``,
    ``s^2 = SSR / (n - k)``, ``Sxx``, the largest ``|x|`` of the sample (``scale``) and
    the mean square of ``y`` (``y_ms``).
    """
    n, l1 = y_est.shape
    l2 = y_evt.shape[1]
    for i in range(n):
        cnt = 0
        sx = 0.0
        sy = 0.0
        big = 0.0
        syy = 0.0
        for t in range(l1):
            y = y_est[i, t]
            x = x_est[i, t]
            if y == y and x == x:
                cnt += 1
                sx += x
                sy += y
                syy += y * y
                big = max(big, abs(x))
        scale[i] = big
        inv_n = 1.0 / cnt
        y_ms[i] = syy * inv_n
        xbar = sx * inv_n
        ybar = sy * inv_n
        s_xx = 0.0
        s_xy = 0.0
        for t in range(l1):
            y = y_est[i, t]
            x = x_est[i, t]
            if y == y and x == x:
                xc = x - xbar
                d_est[i, t] = xc
                s_xx += xc * xc
                s_xy += xc * y
            else:
                d_est[i, t] = 0.0
        beta = s_xy / s_xx
        ssr = 0.0
        for t in range(l1):
            y = y_est[i, t]
            if y == y and x_est[i, t] == x_est[i, t]:
                r = y - ybar - d_est[i, t] * beta
                resid[i, t] = r
                ssr += r * r
            else:
                resid[i, t] = np.nan
        n_est[i] = cnt
        sigma2[i] = ssr / (cnt - k)
        sxx[i] = s_xx
        for s in range(l2):
            xcv = x_evt[i, s] - xbar
            y = y_evt[i, s]
            if y == y and xcv == xcv:
                ar[i, s] = y - ybar - xcv * beta
                d_evt[i, s] = xcv
            else:
                ar[i, s] = np.nan
                d_evt[i, s] = np.nan  # marks the missing day until the PE matrix is built
        for s in range(l2):
            ds = d_evt[i, s]
            for t in range(l2):
                dt = d_evt[i, t]
                if ds == ds and dt == dt:
                    v = ds * (dt / s_xx) + inv_n
                    if s == t:
                        v += 1.0
                    pe[i, s, t] = v
                else:
                    pe[i, s, t] = np.nan
        for s in range(l2):
            if d_evt[i, s] != d_evt[i, s]:
                d_evt[i, s] = 0.0
