"""Inner problem against SLSQP and the KKT conditions; outer search determinism."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import LinearConstraint, minimize

from oilimpact.synth.weights import fit_weights, solve_w


def _slsqp(A, b):
    J = A.shape[1]
    res = minimize(lambda w: np.sum((A @ w - b) ** 2), np.full(J, 1 / J),
                   jac=lambda w: 2 * A.T @ (A @ w - b), method="SLSQP",
                   bounds=[(0, 1)] * J, constraints=[LinearConstraint(np.ones((1, J)), 1, 1)],
                   options={"ftol": 1e-15, "maxiter": 10_000})
    return res.x


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("shape", [(5, 12), (14, 50), (30, 6)])
def test_solve_w_matches_slsqp_and_kkt(seed, shape):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=shape) * rng.uniform(0.1, 100)
    b = rng.normal(size=shape[0]) * np.abs(A).mean()
    w = solve_w(A, b)
    assert w.min() >= 0 and abs(w.sum() - 1) < 1e-12
    ref = _slsqp(A, b)
    ref = np.clip(ref, 0, None) / np.clip(ref, 0, None).sum()  # SLSQP meets sum=1 only to ~1e-7
    f = lambda x: np.sum((A @ x - b) ** 2)  # noqa: E731
    assert f(w) <= f(ref) * (1 + 1e-10) + 1e-12  # never worse than a tight SLSQP, made feasible
    # KKT: gradient equal on the support, not smaller off it (tolerance 1e-6 of its scale)
    g = 2 * A.T @ (A @ w - b)
    on = w > 1e-9
    mu = -g[on].mean()
    scale = np.abs(g).max() + 1
    assert_allclose(g[on], -mu, atol=1e-6 * scale)
    assert (g[~on] >= -mu - 1e-6 * scale).all()


def test_solve_w_exact_convex_combination():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(8, 6))
    truth = np.array([0.2, 0.0, 0.5, 0.0, 0.3, 0.0])
    assert_allclose(solve_w(A, A @ truth), truth, atol=1e-10)


def test_outer_search_is_deterministic_and_not_worse_than_equal_v():
    rng = np.random.default_rng(5)
    Z = rng.normal(size=(10, 9)).cumsum(axis=0)
    X = np.vstack([Z[[2, 5, 9]], rng.normal(size=(3, 9))])
    a, b = fit_weights(X, Z), fit_weights(X, Z)
    assert_allclose(a.w, b.w, rtol=0, atol=0)
    assert_allclose(a.v, b.v, rtol=0, atol=0)
    assert abs(a.v.sum() - 1) < 1e-12 and a.v.min() >= 0
    sd = X.std(axis=1, ddof=1, keepdims=True)
    Xs = X / sd
    w_eq = solve_w(Xs[:, 1:] / np.sqrt(6), Xs[:, 0] / np.sqrt(6))
    loss_eq = np.mean((Z[:, 0] - Z[:, 1:] @ w_eq) ** 2)
    assert a.loss <= loss_eq * (1 + 1e-9)
    assert_allclose(a.loss, np.mean((Z[:, 0] - Z[:, 1:] @ a.w) ** 2), rtol=1e-12)
