"""Conformal inference for synthetic control (Chernozhukov, Wuthrich and Zhu 2021).

Under the null H0: theta_t = theta0_t for the post-event periods, the treated outcome
without treatment is ``y_t - theta0_t`` after the event. The synthetic control (outcome
weights on the simplex, :func:`~oilimpact.synth.weights.solve_w`) is refitted on *all*
periods with the adjusted outcome, giving residuals u_1..u_T. The statistic is

    S(u) = T*^{-1/2} * sum_{t post} |u_t|          (q = 1, the paper's default)

and the p-value compares it with its values under the T moving-block (cyclic)
permutations pi_j(t) = (t + j) mod T:

    p(theta0) = T^{-1} * sum_{j=0}^{T-1} 1{ S(u_{pi_j}) >= S(u) }.

It is exact when the residuals are exchangeable and approximately valid under weak
dependence (CWZ 2021, Theorems 1-2). The smallest p-value is 1/T, so a (1 - alpha)
interval is bounded only when 1/T <= alpha.

Per-period effects use the pre-event periods plus that one period (T = T0 + 1); the
average effect tests a constant theta0 over all post periods (T = T0 + T1). Intervals
invert the test over a grid: 101 points on ``estimate +- h`` with h = 4 * max(pre-event
RMSPE, |estimate|, 1e-8); the half-width doubles (up to 8 times) while an end point is
accepted, and each end of the accepted set is refined by 30 bisection steps between the
last rejected and first accepted grid point. The interval reported is the hull of the
accepted set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .weights import solve_w

__all__ = ["conformal_interval", "conformal_pvalue", "conformal_table"]

GRID_POINTS = 101
GRID_DOUBLINGS = 8
BISECTIONS = 30


def _residuals(Y: np.ndarray, n_pre: int, theta: np.ndarray | float) -> np.ndarray:
    y = Y[:, 0].astype(float).copy()
    y[n_pre:] -= theta
    w = solve_w(Y[:, 1:], y)
    return y - Y[:, 1:] @ w


def conformal_pvalue(Y: np.ndarray, n_pre: int, theta: np.ndarray | float = 0.0) -> float:
    """CWZ moving-block conformal p-value of H0: effect = ``theta`` after ``n_pre``.

    Parameters
    ----------
    Y : ndarray, shape (T, 1 + J)
        Outcomes, treated first; rows ``n_pre:`` are post-event.
    n_pre : int
        Number of pre-event periods.
    theta : float or ndarray of shape (T - n_pre,)
        Hypothesised effect path.

    Notes
    -----
    See the module docstring; Chernozhukov, Wuthrich and Zhu (2021), Algorithm 1 with
    moving-block permutations and q = 1.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> Y = rng.normal(size=(20, 5))
    >>> p = conformal_pvalue(Y, 16)
    >>> 0.0 < p <= 1.0 and (p * 20) % 1 == 0
    True
    """
    u = np.abs(_residuals(Y, n_pre, theta))
    T = len(u)
    n_post = T - n_pre
    # S for each cyclic shift j: the post block of the shifted series is u[(t+j) mod T]
    csum = np.concatenate([[0.0], np.cumsum(np.concatenate([u, u]))])
    starts = (np.arange(T) + n_pre) % T
    stats = csum[starts + n_post] - csum[starts]
    observed = stats[0]
    return float(np.mean(stats >= observed - 1e-12 * max(1.0, abs(observed))))


def conformal_interval(pfun, estimate: float, scale: float, alpha: float) -> tuple[float, float]:
    """Invert ``pfun(theta) > alpha`` over the grid of the module docstring.

    Examples
    --------
    >>> lo, hi = conformal_interval(lambda t: 1.0 if abs(t - 2) <= 1 else 0.0, 2.0, 1.0, 0.05)
    >>> round(lo, 6), round(hi, 6)
    (1.0, 3.0)
    """
    h = 4.0 * max(scale, abs(estimate), 1e-8)
    for _ in range(GRID_DOUBLINGS + 1):
        grid = np.linspace(estimate - h, estimate + h, GRID_POINTS)
        ok = np.array([pfun(t) > alpha for t in grid])
        if not ok.any():
            return (float("nan"), float("nan"))
        if not (ok[0] or ok[-1]):
            break
        h *= 2.0
    else:
        lo = -np.inf if ok[0] else None
        hi = np.inf if ok[-1] else None
        if lo is not None and hi is not None:
            return (lo, hi)
    first, last = np.flatnonzero(ok)[[0, -1]]

    def refine(inside: float, outside: float) -> float:
        for _ in range(BISECTIONS):
            mid = 0.5 * (inside + outside)
            if pfun(mid) > alpha:
                inside = mid
            else:
                outside = mid
        return inside

    lo_v = -np.inf if ok[0] else refine(grid[first], grid[first - 1])
    hi_v = np.inf if ok[-1] else refine(grid[last], grid[last + 1])
    return (float(lo_v), float(hi_v))


def conformal_table(
    Y: np.ndarray, n_pre: int, dates: pd.DatetimeIndex, gap: np.ndarray, alpha: float
) -> pd.DataFrame:
    """Per-period and average-effect p-values (H0: no effect) and (1 - alpha) intervals.

    Returns
    -------
    DataFrame
        Index: the post-event dates and ``"average"``; columns ``effect, pvalue,
        ci_lower, ci_upper, n_periods`` (n_periods = T of the permutation test). An
        interval is (-inf, inf) when 1/T > alpha: the test cannot reject at that level.
    """
    pre_rmspe = float(np.sqrt(np.mean(gap[:n_pre] ** 2)))
    rows, index = [], []
    for t in range(n_pre, Y.shape[0]):
        Yt = Y[list(range(n_pre)) + [t]]
        est = float(gap[t])
        p = conformal_pvalue(Yt, n_pre, 0.0)
        if 1.0 / (n_pre + 1) > alpha:
            ci = (-np.inf, np.inf)
        else:
            ci = conformal_interval(lambda th, Yt=Yt: conformal_pvalue(Yt, n_pre, th), est, pre_rmspe, alpha)
        rows.append((est, p, *ci, n_pre + 1))
        index.append(dates[t].strftime("%Y-%m-%d"))
    est = float(np.mean(gap[n_pre:]))
    p = conformal_pvalue(Y, n_pre, 0.0)
    if 1.0 / Y.shape[0] > alpha:
        ci = (-np.inf, np.inf)
    else:
        ci = conformal_interval(lambda th: conformal_pvalue(Y, n_pre, th), est, pre_rmspe, alpha)
    rows.append((est, p, *ci, Y.shape[0]))
    index.append("average")
    return pd.DataFrame(rows, index=pd.Index(index, name="period"),
                        columns=["effect", "pvalue", "ci_lower", "ci_upper", "n_periods"])
