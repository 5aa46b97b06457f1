"""The kernels of the tables step (pair tests, coefficients) give the numpy twins' values.

Each comparison runs the same call on the numpy path and on the kernel path
(``paths.both`` of ``test_kernels``) on one fitted panel and requires the same bits:
the kernels repeat the twins' operations in the same order.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from oilimpact.eventstudy.models import fit_panel, scale_spanning_returns
from oilimpact.eventstudy.multitest import adjust_pvalues
from oilimpact.eventstudy.result import _coefficients_numpy, estimation_coefficients
from oilimpact.eventstudy.single import ar_tests, car_tests, pair_tests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_kernels import (  # noqa: E402, F401
    WINDOWS_11,
    Paths,
    _kernels_importable,
    market_data,
    paths,
    quiet,
)

DAYS = np.arange(-5, 6)


def _panel(seed: int, holes: float = 0.05, spanning: bool = False, n: int = 90):
    """A fitted market-model panel (numpy fit) with missing days; ``spanning``: some
    event-window returns span two sessions (scaled as the engine scales them)."""
    y_est, y_evt, x_est, x_evt = market_data(n=n, seed=seed)
    rng = np.random.default_rng(seed + 1)
    y_est[rng.random(y_est.shape) < holes] = np.nan
    with np.errstate(all="ignore"):
        panel = fit_panel(y_est, y_evt, x_est, x_evt, event_days=DAYS)
        if spanning:
            k = np.ones(y_evt.shape, dtype=np.int64)
            k[rng.random(k.shape) < 0.1] = 2
            panel = dataclasses.replace(panel, event_sessions=k)
            panel = scale_spanning_returns(panel, y_est, x_est)
    return panel, y_est, x_est


@pytest.mark.parametrize("x_dims", [2, 3])
@pytest.mark.parametrize("holes", [0.0, 0.05, 0.3])
def test_coefficients_kernel(paths, holes, x_dims):  # noqa: F811 (the fixture)
    """market_coefficients gives numpy's alpha, b0 and m0 bit for bit."""
    panel, y_est, x_est = _panel(3, holes)
    x = x_est if x_dims == 2 else x_est[:, :, None]
    ref, got = paths.both(lambda: estimation_coefficients(panel, y_est, x), "market_coefficients")
    assert list(got.columns) == ["alpha", "b0", "m0"]
    assert got.index.equals(panel.ids)
    for col in ref.columns:
        np.testing.assert_array_equal(got[col].to_numpy(), ref[col].to_numpy(), err_msg=col)
    assert np.isfinite(ref.to_numpy()).all()


def test_coefficients_are_the_ols_fit():
    """Independent check of the twin: numpy's least squares on each pair's own days."""
    panel, y_est, x_est = _panel(4, 0.05, n=12)
    got = _coefficients_numpy(panel, y_est, x_est)
    for i in range(panel.n_pairs):
        ok = ~np.isnan(panel.est_resid[i])
        design = np.column_stack([np.ones(ok.sum()), x_est[i, ok]])
        coef = np.linalg.lstsq(design, y_est[i, ok], rcond=None)[0]
        np.testing.assert_allclose([got["alpha"][i], got["b0"][i]], coef, rtol=1e-9, atol=1e-12)
        assert got["m0"][i] == pytest.approx(x_est[i, ok].mean(), rel=1e-12)


@pytest.mark.parametrize("holes", [0.0, 0.05, 0.3])
@pytest.mark.parametrize("spanning", [False, True])
def test_pair_tests_kernel(paths, holes, spanning):  # noqa: F811 (the fixture)
    """pair_tests on both paths (one fused SQ pass on the kernel path) gives the same
    values as each other and as ar_tests and car_tests, bit for bit."""
    panel, _, _ = _panel(5, holes, spanning)
    ref, got = paths.both(quiet(lambda: pair_tests(panel, WINDOWS_11)), "sq_counts")
    sep = paths.numpy(quiet(lambda: (ar_tests(panel), car_tests(panel, WINDOWS_11))))
    for ours in (ref, got):
        for key, value in sep[0].items():
            np.testing.assert_array_equal(ours[0][key], value, err_msg=key)
        for key, value in ours[1].items():
            col = sep[1][key].to_numpy().reshape(value.shape)
            np.testing.assert_array_equal(value, col, err_msg=key)
    assert np.isfinite(ref[0]["sq_pvalue"]).mean() > 0.5
    assert (ref[1]["sq_n"] > 0).mean() > 0.5


def test_pair_tests_needs_a_window():
    panel, _, _ = _panel(6, 0.0, n=10)
    with pytest.raises(ValueError, match="at least one window"):
        pair_tests(panel, [])


@pytest.mark.parametrize("spanning", [False, True])
def test_window_sums_kernel(paths, spanning):  # noqa: F811 (the fixture)
    """window_sums on both paths: the same bits, and the sums of a loop over the days."""
    panel, _, _ = _panel(7, 0.05, spanning)
    windows = [(0, 0), (-5, 5), (-5, 4), (1, 3), (5, 5)]

    def run():
        fresh = dataclasses.replace(panel)  # a new panel: nothing cached from the other path
        return fresh.window_sums(windows)

    ref, got = paths.both(run, "window_sums")
    for name in ("ar", "design", "design_seq", "sessions", "missing"):
        a, b = getattr(ref, name), getattr(got, name)
        assert (a is None) == (b is None) == (name == "sessions" and not spanning)
        if a is not None:
            np.testing.assert_array_equal(b, a, err_msg=name)
    for j, (lo, hi) in enumerate(windows):  # independent: a loop in day order
        cols = np.flatnonzero((DAYS >= lo) & (DAYS <= hi))
        loop = np.zeros(panel.n_pairs)
        for c in cols:
            loop = loop + panel.event_ar[:, c]
        np.testing.assert_allclose(ref.ar[:, j], loop, rtol=1e-13, atol=1e-16)
        np.testing.assert_array_equal(ref.missing[:, j], np.isnan(loop))
        seq = np.zeros(panel.n_pairs)
        for c in cols:
            seq = seq + panel.design_evt[:, c, 0]
        np.testing.assert_array_equal(ref.design_seq[:, j], seq)  # day order, exactly
        np.testing.assert_allclose(ref.design[:, j], seq, rtol=1e-12, atol=1e-17)
    assert ref.missing.any() and not ref.missing.all()


@pytest.mark.parametrize("method", ["fdr_bh", "holm"])
@pytest.mark.parametrize(("nan", "ties"), [(0.0, False), (0.02, False), (0.1, True)])
def test_adjust_sorted_kernel(paths, method, nan, ties):  # noqa: F811 (the fixture)
    """adjust_pvalues on both paths: the same bits, and statsmodels' values."""
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(8)
    p = rng.random(3000) ** 3
    if ties:
        p = np.round(p * 100) / 100  # many equal p-values, as SQ p-values are
    p[rng.random(p.size) < nan] = np.nan
    ref, got = paths.both(lambda: adjust_pvalues(p.reshape(100, 30), method), "adjust_sorted")
    np.testing.assert_array_equal(got, ref)
    ok = ~np.isnan(p)
    np.testing.assert_array_equal(np.isnan(got.ravel()), ~ok)
    np.testing.assert_allclose(got.ravel()[ok], multipletests(p[ok], method=method)[1], rtol=1e-15)
