"""The compiled market-model fit (twin: :func:`oilimpact.eventstudy.models._fit_market_numpy`)."""

from __future__ import annotations

import numpy as np

from ._base import njit as _jit

__all__ = ["TWINS", "fit_market"]

TWINS = {
    "fit_market": ("models._fit_market_numpy", "market-model OLS, residuals, AR, PE matrix"),
}


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
