"""Single-pair inference: PE-corrected CAR variance, t test, SQ test, dummy regression."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from oilimpact.eventstudy.models import fit_panel
from oilimpact.eventstudy.single import (
    ar_tests,
    car_tests,
    min_sq_pvalue,
    rolling_sums,
    sq_pvalues,
    sq_reference,
)

RTOL = 1e-10
WINDOWS = [(0, 0), (0, 1), (-1, 1), (0, 5), (0, 10)]


def _panel(n=4, l1=239, seed=3):
    rng = np.random.default_rng(seed)
    days = np.arange(-1, 11)
    m = rng.normal(0.0, 0.01, size=(n, l1 + days.size))
    y = 0.0003 + 0.9 * m + rng.normal(0, 0.015, size=m.shape)
    y[1, 10] = np.nan  # one missing estimation day
    p = fit_panel(y[:, :l1], y[:, l1:], m[:, :l1], m[:, l1:], event_days=days)
    return p, y, m, l1


def test_car_variance_is_mackinlay_closed_form():
    p, y, m, l1 = _panel()
    out = car_tests(p, WINDOWS)
    for i in range(p.n_pairs):
        ok = ~np.isnan(y[i, :l1])
        me = m[i, :l1][ok]
        mbar = me.mean()
        smm = ((me - mbar) ** 2).sum()
        n1 = ok.sum()
        for lo, hi in WINDOWS:
            cols = (p.event_days >= lo) & (p.event_days <= hi)
            L = cols.sum()
            mw = m[i, l1:][cols]
            var = p.sigma2[i] * (L + L**2 / n1 + ((mw - mbar).sum()) ** 2 / smm)
            row = out[(out["asset"] == p.ids[i][1]) & (out["start"] == lo) & (out["end"] == hi)]
            np.testing.assert_allclose(row["se"].iloc[0] ** 2, var, rtol=RTOL)
            car = p.event_ar[i][cols].sum()
            np.testing.assert_allclose(row["car"].iloc[0], car, rtol=RTOL)
            t = car / np.sqrt(var)
            np.testing.assert_allclose(row["tstat"].iloc[0], t, rtol=RTOL)
            np.testing.assert_allclose(
                row["pvalue"].iloc[0], 2 * stats.t.sf(abs(t), n1 - 2), rtol=1e-8
            )
            assert row["dof"].iloc[0] == n1 - 2


def test_ar_tests_diagonal():
    p, *_ = _panel()
    a = ar_tests(p)
    se = np.sqrt(p.sigma2[:, None] * np.einsum("ntt->nt", p.pe_cov))
    np.testing.assert_allclose(a["se"], se, rtol=RTOL)
    np.testing.assert_allclose(a["tstat"], p.event_ar / se, rtol=RTOL)


def test_sq_pvalue_definition_and_minimum():
    ref = np.arange(1.0, 240.0)[None, :]
    x = np.array([[0.0, 1.0, 6.0, 120.0, 239.0, 1000.0, np.nan]])
    p, n = sq_pvalues(ref, x)
    assert n.tolist() == [239]
    # p_lo = (1 + #{s <= x}) / 240, p_hi = (1 + #{s >= x}) / 240, p = min(1, 2 min)
    expected = [2 / 240, 2 * 2 / 240, 2 * 7 / 240, 1.0, 2 * 2 / 240, 2 / 240]
    np.testing.assert_allclose(p[0, :6], expected, rtol=1e-14)
    assert np.isnan(p[0, 6])
    assert min_sq_pvalue(239) == pytest.approx(2 / 240)
    # 38 residuals cannot reach p < 0.05
    assert min_sq_pvalue(38) > 0.05 >= min_sq_pvalue(39)


def test_sq_ignores_missing_references():
    ref = np.array([[1.0, np.nan, 3.0, 2.0]])
    p, n = sq_pvalues(ref, np.array([10.0]))
    assert n.tolist() == [3]
    np.testing.assert_allclose(p, [2 / 4])


def test_rolling_sums_skip_gaps():
    r = np.array([[1.0, 2.0, 3.0, np.nan, 5.0, 6.0]])
    np.testing.assert_array_equal(rolling_sums(r, 2), [[3.0, 5.0, np.nan, np.nan, 11.0]])
    np.testing.assert_array_equal(rolling_sums(r, 1), r)
    assert rolling_sums(r, 7).shape == (1, 0)


def test_car_sq_uses_studentised_rolling_sums():
    """SQ on [0,5]: CAR / sqrt(g'(I + X*(X'X)^-1 X*')g) ranked among the rolling sums
    over sqrt(g_u'(I - H)g_u), both computed here from an explicit hat matrix."""
    p, y, m, l1 = _panel()
    out = car_tests(p, [(0, 5)])
    L = 6
    ref = np.full((p.n_pairs, l1 - L + 1), np.nan)
    stat = np.empty(p.n_pairs)
    for i in range(p.n_pairs):
        ok = ~np.isnan(y[i, :l1])
        X = np.column_stack([np.ones(l1), m[i, :l1]])[ok]
        xtx_inv = np.linalg.inv(X.T @ X)
        H = X @ xtx_inv @ X.T
        resid = np.full(l1, np.nan)
        resid[ok] = y[i, :l1][ok] - X @ (xtx_inv @ X.T @ y[i, :l1][ok])
        pos = np.flatnonzero(ok)
        for u in range(l1 - L + 1):
            days = np.arange(u, u + L)
            if not ok[days].all():
                continue
            g = np.isin(pos, days).astype(float)
            ref[i, u] = resid[days].sum() / np.sqrt(g @ (np.eye(ok.sum()) - H) @ g)
        cols = (p.event_days >= 0) & (p.event_days <= 5)
        Xs = np.column_stack([np.ones(cols.sum()), m[i, l1:][cols]])
        g = np.ones(cols.sum())
        pe = np.eye(cols.sum()) + Xs @ xtx_inv @ Xs.T
        stat[i] = p.event_ar[i][cols].sum() / np.sqrt(g @ pe @ g)
    np.testing.assert_allclose(sq_reference(p, L), ref, rtol=1e-9)
    expected, n = sq_pvalues(ref, stat)
    np.testing.assert_allclose(out["sq_pvalue"], expected)
    assert out["sq_n"].tolist() == n.tolist()
    assert out["sq_n"].iloc[0] == 239 - 6 + 1
    assert out["sq_n"].iloc[1] == 239 - 6 + 1 - 6  # the missing day removes 6 sums


def test_ar_sq_is_studentised_by_leverage():
    p, y, m, l1 = _panel()
    a = ar_tests(p)
    i = 0
    X = np.column_stack([np.ones(l1), m[i, :l1]])
    xtx_inv = np.linalg.inv(X.T @ X)
    h = np.einsum("ti,ij,tj->t", X, xtx_inv, X)
    ref = p.est_resid[i] / np.sqrt(1 - h)
    Xs = np.column_stack([np.ones(p.event_days.size), m[i, l1:]])
    hs = np.einsum("ti,ij,tj->t", Xs, xtx_inv, Xs)
    stat = p.event_ar[i] / np.sqrt(1 + hs)
    expected, _ = sq_pvalues(ref[None, :], stat[None, :])
    np.testing.assert_allclose(a["sq_pvalue"][i], expected[0])
    # day 0 of the AR tests is the [0, 0] CAR window
    car = car_tests(p, [(0, 0)])
    np.testing.assert_allclose(car["sq_pvalue"], a["sq_pvalue"][:, 1])


def test_sq_pvalues_sorted_search_equals_direct_counts():
    rng = np.random.default_rng(11)
    for width in (1, 2, 7, 64, 239, 300):
        ref = np.round(rng.normal(size=(40, width)), 1)  # ties on purpose
        ref[rng.random(ref.shape) < 0.1] = np.nan
        x = np.round(rng.normal(size=(40, 21)), 1)
        x[0, 0] = np.nan
        p_many, n = sq_pvalues(ref, x)  # sorted binary search (many statistics)
        for j in range(21):
            p_one, _ = sq_pvalues(ref, x[:, j])  # direct comparisons
            np.testing.assert_array_equal(p_many[:, j], p_one)
        le = (ref[:, :, None] <= x[:, None, :]).sum(axis=1)
        ge = (ref[:, :, None] >= x[:, None, :]).sum(axis=1)
        brute = np.minimum(1, 2 * np.minimum(1 + le, 1 + ge) / (n[:, None] + 1.0))
        brute[np.isnan(x) | (n[:, None] == 0)] = np.nan
        np.testing.assert_array_equal(p_many, brute)


def test_sq_multifactor_and_constant_mean_references():
    rng = np.random.default_rng(4)
    n, l1, l2 = 3, 120, 6
    f = rng.normal(0, 0.01, size=(n, l1 + l2, 2))
    y = 0.5 * f[:, :, 0] + rng.normal(0, 0.01, size=(n, l1 + l2))
    p = fit_panel(
        y[:, :l1], y[:, l1:], f[:, :l1], f[:, l1:], model="multifactor", event_days=np.arange(l2)
    )
    L = 3
    for i in range(n):
        X = np.column_stack([np.ones(l1), f[i, :l1]])
        H = X @ np.linalg.inv(X.T @ X) @ X.T
        for u in (0, 50, l1 - L):
            g = np.zeros(l1)
            g[u : u + L] = 1
            want = p.est_resid[i, u : u + L].sum() / np.sqrt(g @ (np.eye(l1) - H) @ g)
            np.testing.assert_allclose(sq_reference(p, L)[i, u], want, rtol=1e-9)
    c = fit_panel(y[:, :l1], y[:, l1:], model="constant_mean", event_days=np.arange(l2))
    want = rolling_sums(c.est_resid, L) / np.sqrt(L - L**2 / l1)
    np.testing.assert_allclose(sq_reference(c, L), want, rtol=1e-12)


def test_window_with_missing_ar_gives_nan_car():
    p, y, m, l1 = _panel()
    ar = p.event_ar.copy()
    ar[2, 4] = np.nan
    from dataclasses import replace

    q = replace(p, event_ar=ar)
    out = car_tests(q, [(0, 5), (0, 1)])
    row = out[out["asset"] == p.ids[2][1]]
    assert np.isnan(row["car"].iloc[0]) and np.isfinite(row["car"].iloc[1])


def _dummy_design(m_est, m_evt):
    l1, l2 = m_est.size, m_evt.size
    x = np.concatenate([m_est, m_evt])
    d = np.zeros((l1 + l2, l2))
    d[l1:, :] = np.eye(l2)
    return np.column_stack([np.ones(l1 + l2), x, d])


def test_event_dummy_regression_equals_two_step():
    """One dummy per event day over estimation + event sample: coefficients = AR."""
    p, y, m, l1 = _panel(n=2)
    for i in range(2):
        ok = ~np.isnan(y[i, :l1])
        m_est, y_est = m[i, :l1][ok], y[i, :l1][ok]
        z = _dummy_design(m_est, m[i, l1:])
        yy = np.concatenate([y_est, y[i, l1:]])
        hac = sm.OLS(yy, z).fit(cov_type="HAC", cov_kwds={"maxlags": 5})
        np.testing.assert_allclose(hac.params[2:], p.event_ar[i], rtol=RTOL)
        ols = sm.OLS(yy, z).fit()
        # non-HAC OLS variance of the dummy block = s^2 (I + X*(X'X)^-1 X*')
        np.testing.assert_allclose(ols.scale, p.sigma2[i], rtol=RTOL)
        np.testing.assert_allclose(
            ols.cov_params()[2:, 2:], p.sigma2[i] * p.pe_cov[i], rtol=1e-9, atol=1e-18
        )
        np.testing.assert_allclose(ols.bse[2:], ar_tests(p)["se"][i], rtol=RTOL)


def test_market_window_pe_sums_closed_form_equals_the_matrix_sums():
    """A textbook market-model panel: L + L^2/L1 + (sum d)^2/Sxx equals the block sums
    of pe_cov, NaN exactly where a window has a missing event day; a copy with another
    pe_cov, and other conventions, use the matrix."""
    import dataclasses

    from oilimpact.eventstudy.panel import MARKET_PE, panel_store

    rng = np.random.default_rng(8)
    m = rng.normal(0, 0.01, (30, 261))
    y = 0.5 * m + rng.normal(0, 0.02, (30, 261))
    y[rng.random((30, 261)) < 0.03] = np.nan  # missing estimation and event days
    panel = fit_panel(y[:, :240], y[:, 240:], m[:, :240], m[:, 240:], event_days=np.arange(-10, 11))
    assert panel_store(panel).get(MARKET_PE)
    windows = [(-10, 10), (0, 0), (-1, 1), (0, 5), (3, 7)]
    closed = panel.window_pe_sums(windows)
    copy = dataclasses.replace(panel)
    assert not panel_store(copy).get(MARKET_PE)
    dense = copy.window_pe_sums(windows)
    np.testing.assert_array_equal(np.isnan(closed), np.isnan(dense))
    assert np.isnan(closed).any() and np.isfinite(closed).any()
    np.testing.assert_allclose(closed, dense, rtol=1e-13)
    eye = np.broadcast_to(np.eye(21), panel.pe_cov.shape)
    other = dataclasses.replace(panel, pe_cov=eye).window_pe_sums(windows)
    np.testing.assert_array_equal(other[0], [21.0, 1.0, 3.0, 6.0, 5.0])
    estudy2 = fit_panel(
        y[:, :240], y[:, 240:], m[:, :240], m[:, 240:], event_days=np.arange(-10, 11),
        conventions="estudy2",
    )  # fmt: skip
    assert not panel_store(estudy2).get(MARKET_PE)


def test_window_pe_sums_with_an_infinite_entry_outside_the_window():
    """inf * 0 must not turn every window of the pair into NaN (block sums there)."""
    import dataclasses

    panel = _panel(n=3, l1=120)[0]
    pe = np.array(panel.pe_cov, dtype=float)
    pe[1, -1, -1] = np.inf  # the last event day only
    bad = dataclasses.replace(panel, pe_cov=pe)
    days = panel.event_days
    w_in, w_out = (int(days[0]), int(days[1])), (int(days[-2]), int(days[-1]))
    got = bad.window_pe_sums([w_in, w_out])
    ref = dataclasses.replace(panel).window_pe_sums([w_in, w_out])
    assert got[1, 0] == pytest.approx(ref[1, 0], rel=1e-13)  # window without the inf
    assert got[1, 1] == np.inf
    np.testing.assert_allclose(got[[0, 2]], ref[[0, 2]], rtol=1e-13)


def test_event_days_must_be_increasing():
    import dataclasses

    panel = _panel(n=2)[0]
    shuffled = dataclasses.replace(panel, event_days=panel.event_days[::-1].copy())
    with pytest.raises(ValueError, match="increasing"):
        shuffled.window_index((0, 0))
