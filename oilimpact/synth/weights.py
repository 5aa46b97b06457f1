"""Donor weights W given predictor weights V (inner problem) and the search for V (outer).

Inner problem (Abadie, Diamond and Hainmueller 2010, eq. 2): for a diagonal V >= 0,

    W*(V) = argmin_W (X1 - X0 W)' V (X1 - X0 W)   s.t.  W >= 0,  sum(W) = 1,

solved exactly as a non-negative least-squares problem (:func:`scipy.optimize.nnls` on
the nearest-point form of :func:`solve_w`), then polished:
on the support S found by NNLS the equality-constrained least-squares problem is solved
from its KKT system, and kept when all its weights are positive (else the NNLS weights,
renormalised, are kept). Both steps are deterministic.

Outer problem: V is chosen to minimise the pre-event mean squared prediction error of
the outcome, MSPE(V) = |Z1 - Z0 W*(V)|^2 / T0, with Nelder-Mead on the parameterisation
v = |x| / sum|x| from fixed starting points (equal weights, and the regression-based
start of Synth: the squared coefficients of the pre-period outcomes regressed on the
standardised predictors across units); the best end point wins, ties to the first.
Predictor rows are standardised by their standard deviation across all units first.

When the predictors are the pre-event outcomes themselves (the default), V is the
identity and no search is run: W*(I) minimises the pre-event MSPE directly, which is the
global optimum of the outer problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize, nnls

__all__ = ["OUTER_OPTIONS", "WeightFit", "fit_weights", "solve_w"]

#: Nelder-Mead options of the outer search (``maxiter`` is per predictor).
OUTER_OPTIONS: dict[str, float] = {"maxiter_per_predictor": 150, "xatol": 1e-7, "fatol": 1e-12}


@dataclass(frozen=True, slots=True)
class WeightFit:
    """Weights of one fit: donor weights ``w``, predictor weights ``v`` (sum 1), the
    pre-event MSPE ``loss``, the start that won and whether the search converged."""

    w: np.ndarray
    v: np.ndarray
    loss: float
    start: str
    converged: bool


def solve_w(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Weights on the simplex minimising ``|A w - b|^2``.

    Parameters
    ----------
    A : ndarray, shape (k, J)
        Predictors of the donors, already multiplied by ``sqrt(V)``.
    b : ndarray, shape (k,)
        Predictors of the treated unit, multiplied by ``sqrt(V)``.

    Returns
    -------
    ndarray, shape (J,)
        Non-negative weights summing to one.

    Notes
    -----
    On the simplex ``A w - b = C w`` with ``C = A - b 1'``, so W is the point of the
    convex hull of C's columns nearest the origin. NNLS on ``[C; 1'] u = [0; 1]``,
    ``u >= 0``, solves it exactly: for ``s = 1'u`` the objective is
    ``s^2 d^2 + (s - 1)^2`` with d the hull distance, minimised at ``s = 1/(1 + d^2) > 0``,
    so ``w = u / 1'u`` (Lawson and Hanson 1974, ch. 23, least-distance programming).
    The KKT system ``[2A_S'A_S 1; 1' 0][w; mu] = [2A_S'b; 1]`` then gives the exact
    constrained solution on that support (Lawson and Hanson 1974, ch. 20-23).

    Examples
    --------
    >>> A = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 2.0]])
    >>> solve_w(A, np.array([0.5, 0.5])).round(6).tolist()
    [0.5, 0.5, 0.0]
    """
    J = A.shape[1]
    C = A - b[:, None]  # on the simplex A w - b = (A - b 1') w
    u, _ = nnls(np.vstack([C, np.ones((1, J))]), np.append(np.zeros(len(b)), 1.0), maxiter=50 * J)
    w = np.clip(u, 0.0, None)
    w = w / w.sum() if w.sum() > 0 else np.full(J, 1.0 / J)
    exact = _polish(A, b, w)
    f = lambda x: float(np.sum((A @ x - b) ** 2))  # noqa: E731
    return exact if exact is not None and f(exact) <= f(w) else w


def _kkt_solve(A: np.ndarray, b: np.ndarray, support: np.ndarray) -> np.ndarray:
    As, n = A[:, support], len(support)
    kkt = np.zeros((n + 1, n + 1))
    kkt[:n, :n] = 2.0 * As.T @ As
    kkt[:n, n] = kkt[n, :n] = 1.0
    return np.linalg.lstsq(kkt, np.append(2.0 * As.T @ b, 1.0), rcond=None)[0]


def _polish(A: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray | None:
    """Active-set refinement from the NNLS support: drop non-positive weights, add the
    donor that most violates the KKT conditions, until they hold (at most 2J steps)."""
    J = len(w)
    support = np.flatnonzero(w > 1e-10 * w.max())
    for _ in range(2 * J):
        sol = _kkt_solve(A, b, support)
        x, mu = sol[:-1], sol[-1]
        if (x <= 0).any():
            support = support[x > 0]
            if not len(support):
                return None
            continue
        full = np.zeros(J)
        full[support] = x
        g = 2.0 * A.T @ (A @ full - b) + mu  # stationarity: g = 0 on support, >= 0 off it
        g[support] = np.inf
        j = int(np.argmin(g))
        if g[j] >= -1e-10 * (1.0 + np.abs(2.0 * A.T @ b).max()):
            return full
        support = np.sort(np.append(support, j))
    return None


def _scaled(X: np.ndarray) -> np.ndarray:
    sd = X.std(axis=1, ddof=1, keepdims=True)
    return X / np.where(sd > 0, sd, 1.0)


def _starts(Xs: np.ndarray, Z: np.ndarray) -> list[tuple[str, np.ndarray]]:
    k = Xs.shape[0]
    starts = [("equal", np.full(k, 1.0 / k))]
    design = np.column_stack([np.ones(Xs.shape[1]), Xs.T])
    beta = np.linalg.lstsq(design, Z.T, rcond=None)[0][1:]
    reg = np.sum(beta**2, axis=1)
    if np.isfinite(reg).all() and reg.sum() > 0:
        starts.append(("regression", reg / reg.sum()))
    return starts


def fit_weights(X: np.ndarray, Z: np.ndarray, *, outcome_only: bool = False) -> WeightFit:
    """Nested fit of V and W for the unit in column 0 against the other columns.

    Parameters
    ----------
    X : ndarray, shape (k, 1 + J)
        Predictors, treated first.
    Z : ndarray, shape (T0, 1 + J)
        Pre-event outcomes, treated first.
    outcome_only : bool
        The predictors are the pre-event outcomes: V = I, no search.

    Returns
    -------
    WeightFit

    Notes
    -----
    Outer loss ``MSPE(V) = |Z1 - Z0 W*(V)|^2 / T0`` minimised by Nelder-Mead over
    ``v = |x|/sum|x|`` from each start of :func:`_starts` (options
    :data:`OUTER_OPTIONS`); Abadie, Diamond and Hainmueller (2010), Section 2.3;
    Abadie and Gardeazabal (2003), Appendix B.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(12, 6)).cumsum(axis=0)
    >>> Z[:, 0] = 0.5 * Z[:, 1] + 0.5 * Z[:, 2]
    >>> fit = fit_weights(Z, Z, outcome_only=True)
    >>> fit.w.round(4).tolist()
    [0.5, 0.5, 0.0, 0.0, 0.0]
    """
    Z1, Z0 = Z[:, 0], Z[:, 1:]
    T0 = Z.shape[0]

    def mspe(w: np.ndarray) -> float:
        return float(np.sum((Z1 - Z0 @ w) ** 2) / T0)

    if outcome_only:
        w = solve_w(Z0, Z1)
        return WeightFit(w, np.full(Z.shape[0], 1.0 / Z.shape[0]), mspe(w), "identity", True)
    Xs = _scaled(X)
    X1, X0 = Xs[:, 0], Xs[:, 1:]
    scale = float(np.mean(Z1**2)) or 1.0

    def w_of(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = np.abs(x)
        v = v / v.sum() if v.sum() > 0 else np.full(len(x), 1.0 / len(x))
        root = np.sqrt(v)[:, None]
        return solve_w(root * X0, root[:, 0] * X1), v

    def loss(x: np.ndarray) -> float:
        return mspe(w_of(x)[0]) / scale

    best: WeightFit | None = None
    opts = {
        "maxiter": int(OUTER_OPTIONS["maxiter_per_predictor"] * len(X1)),
        "xatol": OUTER_OPTIONS["xatol"],
        "fatol": OUTER_OPTIONS["fatol"],
        "adaptive": True,
    }
    for name, x0 in _starts(Xs, Z):
        res = minimize(loss, x0, method="Nelder-Mead", options=opts)
        w, v = w_of(res.x)
        cand = WeightFit(w, v, mspe(w), name, bool(res.success))
        if best is None or cand.loss < best.loss - 1e-12 * scale:
            best = cand
    assert best is not None
    return best
