"""Array helpers of the cross-sectional tests against the library calls they stand for."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from oilimpact.eventstudy.crosssection._arrays import _pvalue_normal, _pvalue_t

EDGES = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, 40.0, -40.0, 1e6]


def test_pvalues_are_scipy_stats_bit_for_bit():
    """The two-sided p-values equal 2 * scipy.stats.{norm,t}.sf(|z|) exactly (the same
    scipy.special calls without the distribution's argument handling), with NaN where
    the degrees of freedom are not positive."""
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.standard_normal(20_000) * 5, EDGES])
    df = np.concatenate([rng.uniform(-3, 400, 20_000), [1, 2, np.inf, 5, np.nan, 0, -1, 3, 0.5]])
    np.testing.assert_array_equal(_pvalue_normal(z), 2.0 * stats.norm.sf(np.abs(z)))
    want = 2.0 * stats.t.sf(np.abs(z), np.where(df > 0, df, np.nan))
    np.testing.assert_array_equal(_pvalue_t(z, df), want)
    assert np.isnan(_pvalue_t(z, df)[df <= 0]).all()
    assert _pvalue_t(1.5, 10.0) == 2.0 * stats.t.sf(1.5, 10.0)
    assert _pvalue_normal(-1.96) == 2.0 * stats.norm.sf(1.96)
    assert _pvalue_normal(1.959963984540054) == pytest.approx(0.05, rel=1e-12)


def test_small_and_large_products_agree(monkeypatch):
    """r-bar's ``a @ b.T``: numpy's loops for small products, BLAS for large ones, the
    same numbers to rounding (2-D and stacked)."""
    from oilimpact.eventstudy.crosssection import rbar

    rng = np.random.default_rng(1)
    for shape_a, shape_b in (((12, 30), (4, 30)), ((3, 12, 30), (3, 4, 30))):
        a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
        want = np.matmul(a, np.swapaxes(b, -1, -2))
        small = rbar._times_transpose(a, b)
        monkeypatch.setattr(rbar, "_SMALL_PRODUCT", 0)
        large = rbar._times_transpose(a, b)
        monkeypatch.undo()
        np.testing.assert_allclose(small, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(large, want, rtol=1e-12, atol=1e-12)
        assert small.shape == large.shape == want.shape
