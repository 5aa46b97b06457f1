r"""Inference of the segmented regression: HAC covariances and the Satterthwaite t.

``cov="hac-prewhiten"`` (default): :math:`V = (X'X)^{-1} X' \hat\Omega X (X'X)^{-1}`
with :math:`\hat\Omega` the Toeplitz matrix of the error autocovariances estimated from
all :math:`T` residuals: (i) AR(1) prewhitening :math:`\hat v_t = \hat e_t - \tilde\rho
\hat e_{t-1}` (Andrews and Monahan 1992), :math:`\tilde\rho` the AR(1) coefficient whose
expected residual lag-one autocorrelation :math:`\mathrm{tr}(M R_\rho M J) /
\mathrm{tr}(M R_\rho)` equals the observed one (:func:`solve_rho`), bounded by
:data:`PREWHITEN_RHO_MAX`; (ii) Bartlett weights on the autocovariances of
:math:`\hat v_t` with the Andrews (1991) AR(1) plug-in lag; (iii) recolouring;
(iv) scaling so that :math:`\mathrm{tr}(M \hat\Omega) = \sum_t \hat e_t^2`. Tests use
Student t with the Satterthwaite degrees of freedom :math:`\nu = [1/(T-k) +
2(1+\tilde\rho)/((1-\tilde\rho)(T-1))]^{-1}`, floored at ``df_floor``
(:func:`segmented_cov`). ``cov="hac"``: the Newey-West (1987) sandwich with the
Newey-West (1994) lag rule and a t(T - k) reference (:func:`nw_cov`). The full
statement is in the Notes of :func:`~oilimpact.intervention.analysis.intervention` and
in ``docs/methods-intervention.md``.

References
----------
Andrews, D. W. K. (1991), Econometrica 59(3), 817-858; Andrews, D. W. K. and Monahan,
J. C. (1992), Econometrica 60(4), 953-966; Newey, W. K. and West, K. D. (1987),
Econometrica 55(3), 703-708; (1994), Rev. Econ. Stud. 61(4), 631-653.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "ANDREWS_RULE",
    "NW_RULE",
    "PREWHITEN_RHO_MAX",
    "USER_RULE",
    "CovEst",
    "expected_r1",
    "fast_ols",
    "newey_west_lags",
    "nw_cov",
    "prewhitened_cov",
    "r1_moments",
    "segmented_cov",
    "solve_rho",
]

#: Bound on the prewhitening AR(1) coefficient (Andrews and Monahan 1992 use 0.97).
PREWHITEN_RHO_MAX = 0.97

NW_RULE = "Newey-West (1994) floor(4 (T/100)^(2/9))"
ANDREWS_RULE = "Andrews (1991) AR(1) plug-in on the prewhitened residuals"
USER_RULE = "set by hac_lags"


def newey_west_lags(nobs: int) -> int:
    """Newey-West (1994) plug-in lag rule ``floor(4 * (T / 100) ** (2 / 9))``.

    Examples
    --------
    >>> newey_west_lags(100), newey_west_lags(300), newey_west_lags(24)
    (4, 5, 2)
    """
    return int(math.floor(4.0 * (max(nobs, 1) / 100.0) ** (2.0 / 9.0)))


@dataclass(frozen=True, slots=True)
class CovEst:
    """A covariance estimate: matrix, df of the t reference (floored), lags, lag rule,
    prewhitening AR(1) and the df before the floor."""

    cov: np.ndarray
    df: float
    lags: int
    rule: str
    rho: float | None
    df_raw: float | None = None


def segmented_cov(
    X: np.ndarray, u: np.ndarray, cov: str, hac_lags: int | None, df_floor: float = 0.0
) -> CovEst:
    """Covariance of the OLS coefficients and the df of the t reference (see Notes)."""
    n, k = X.shape
    if cov == "hac":
        lags = int(hac_lags) if hac_lags is not None else newey_west_lags(n)
        rule = USER_RULE if hac_lags is not None else NW_RULE
        return CovEst(nw_cov(X, u, lags), float(n - k), lags, rule, None, float(n - k))
    est = prewhitened_cov(X, u, hac_lags)
    return replace(est, df=max(est.df, float(df_floor)), df_raw=est.df)


def nw_cov(X: np.ndarray, u: np.ndarray, lags: int) -> np.ndarray:
    """Newey-West sandwich with Bartlett weights ``1 - l/(lags+1)`` and factor n/(n-k)."""
    xu = X * u[:, None]
    S = xu.T @ xu
    for lag in range(1, min(lags, len(u) - 1) + 1):
        w = 1.0 - lag / (lags + 1.0)
        G = xu[lag:].T @ xu[:-lag]
        S += w * (G + G.T)
    H = np.linalg.pinv(X.T @ X)
    n, k = X.shape
    return H @ S @ H * (n / (n - k))


def r1_moments(Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polynomial coefficients of ``E[sum e_t e_(t-1)]`` and ``E[sum e_t^2]`` in rho.

    For OLS residuals ``e = M u`` with AR(1) errors of unit variance,
    ``E[e'Je] = tr(M J M R)`` and ``E[e'e] = tr(M R)``, where ``M = I - QQ'``, ``J``
    is the lag-one shift and ``R = [rho^|s-t|]``. Both are Frobenius products
    ``<W, R>``, so the coefficient of ``rho^h`` is the sum of ``W`` over the cells with
    ``|s - t| = h``.
    """
    n = Q.shape[0]
    G = Q @ Q.T
    A = np.zeros((n, n))
    A[:, 1:] = -G[:, :-1]  # -G J
    A[:-1] -= G[1:]  # -J G
    A += (Q @ (Q[:-1].T @ Q[1:])) @ Q.T  # G J G
    A[np.arange(n - 1), np.arange(1, n)] += 1.0  # J
    ij = np.arange(n)
    lag = np.abs(ij[:, None] - ij[None, :]).ravel()
    c_num = np.bincount(lag, weights=((A + A.T) / 2.0).ravel(), minlength=n)
    c_den = -np.bincount(lag, weights=G.ravel(), minlength=n)
    c_den[0] += n
    return c_num, c_den


def expected_r1(rho: float, moments: tuple[np.ndarray, np.ndarray]) -> float:
    """Expected lag-one autocorrelation ``tr(M J M R) / tr(M R)`` of OLS residuals."""
    c_num, c_den = moments
    powers = rho ** np.arange(len(c_num), dtype="float64")
    return float(powers @ c_num) / float(powers @ c_den)


def solve_rho(r1: float, moments: tuple[np.ndarray, np.ndarray]) -> float:
    """The AR(1) coefficient whose expected residual autocorrelation is ``r1``.

    Secant iterations from ``r1`` (the map is close to a shift, so a few evaluations
    suffice), bounded by ``PREWHITEN_RHO_MAX``; bisection as a fallback.
    """
    lo, hi = -PREWHITEN_RHO_MAX, PREWHITEN_RHO_MAX

    def f(r: float) -> float:
        return expected_r1(r, moments) - r1

    tol = 1e-12
    x0 = min(max(r1, lo), hi)
    f0 = f(x0)
    if abs(f0) < tol:
        return x0
    x1 = min(max(x0 - f0, lo), hi)
    if x1 == x0:  # at a bound and the root lies beyond it
        return x0
    f1 = f(x1)
    for _ in range(50):
        if abs(f1) < tol:
            return x1
        if f1 == f0:
            break
        x2 = min(max(x1 - f1 * (x1 - x0) / (f1 - f0), lo), hi)
        if x2 == x1:
            return x1
        x0, f0, x1, f1 = x1, f1, x2, f(x2)
    from scipy.optimize import brentq

    if f(lo) >= 0:
        return lo
    if f(hi) <= 0:
        return hi
    return float(brentq(f, lo, hi, xtol=1e-14))


def prewhitened_cov(X: np.ndarray, u: np.ndarray, hac_lags: int | None) -> CovEst:
    """AR(1)-prewhitened Newey-West estimate of the error autocovariances (Notes)."""
    from scipy.linalg import toeplitz

    n, k = X.shape
    uu = float(u @ u)
    df_ols = float(n - k)
    if not uu > 0 or n < 3:
        lags = int(hac_lags) if hac_lags is not None else 0
        rule = USER_RULE if hac_lags is not None else ANDREWS_RULE
        return CovEst(np.zeros((k, k)), df_ols, lags, rule, 0.0)
    Q, Rx = np.linalg.qr(X)
    rho = solve_rho(float(u[1:] @ u[:-1]) / uu, r1_moments(Q))
    v = u[1:] - rho * u[:-1]
    m = len(v)
    if hac_lags is not None:
        lags, rule = min(int(hac_lags), m - 1), USER_RULE
    else:
        vv = float(v[:-1] @ v[:-1])
        r = float(v[1:] @ v[:-1]) / vv if vv > 0 else 0.0
        r = min(max(r, -PREWHITEN_RHO_MAX), PREWHITEN_RHO_MAX)
        a = 4.0 * r**2 / ((1.0 - r) ** 2 * (1.0 + r) ** 2)
        lags, rule = min(int(math.floor(1.1447 * (a * m) ** (1.0 / 3.0))), m - 1), ANDREWS_RULE
    gv = np.array([float(v[lag:] @ v[: m - lag]) / m for lag in range(lags + 1)])
    gv *= 1.0 - np.arange(lags + 1) / (lags + 1.0)
    h = np.arange(n, dtype="float64")
    gu = gv[0] * rho**h
    for lag in range(1, lags + 1):
        gu = gu + gv[lag] * (rho ** np.abs(h - lag) + rho ** (h + lag))
    omega_q = toeplitz(gu / (1.0 - rho**2)) @ Q
    qoq = Q.T @ omega_q
    tr_mo = float(gu[0] / (1.0 - rho**2)) * n - float(np.trace(qoq))
    if not tr_mo > 0:
        return CovEst(np.zeros((k, k)), df_ols, int(lags), rule, rho)
    # (X'X)^-1 X' Omega X (X'X)^-1 = R^-1 Q' Omega Q R^-T with X = QR
    r_inv = np.linalg.inv(Rx)
    cov = r_inv @ qoq @ r_inv.T * (uu / tr_mo)
    cov = (cov + cov.T) / 2.0
    df = 1.0 / (1.0 / df_ols + 2.0 * (1.0 + rho) / ((1.0 - rho) * (n - 1.0)))
    return CovEst(cov, float(df), int(lags), rule, rho)


def fast_ols(y: np.ndarray, X: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficients and their plain Newey-West HAC covariance, in numpy.

    Same estimator as ``statsmodels`` ``OLS.fit(cov_type="HAC", cov_kwds={"maxlags":
    lags, "use_correction": True})`` (Bartlett weights ``1 - l / (lags + 1)``, factor
    ``n / (n - k)``); ``cov="hac"``.
    """
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    return beta, nw_cov(X, y - X @ beta, lags)
