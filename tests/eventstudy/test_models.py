"""fit_panel: batched least squares equals per-pair statsmodels OLS, for every model."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from oilimpact.errors import EstimationError
from oilimpact.eventstudy.models import fit_panel, n_params

RTOL = 1e-10


def _data(n=6, l1=240, l2=12, f=1, seed=0, holes=True):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0003, 0.011, size=(n, l1 + l2, f))
    beta = rng.uniform(0.3, 1.5, size=(n, f))
    y = 0.0004 + np.einsum("ntf,nf->nt", x, beta) + rng.standard_t(4, size=(n, l1 + l2)) * 0.012
    if holes:  # per-pair missing days in y and in x
        for i in range(n):
            y[i, rng.choice(l1, size=i * 3, replace=False)] = np.nan
            x[i, rng.choice(l1, size=i, replace=False), 0] = np.nan
    return y[:, :l1], y[:, l1:], x[:, :l1], x[:, l1:]


def _reference(y_est, y_evt, x_est, x_evt, const=True):
    """Per-pair statsmodels OLS: AR, resid, s2 and I + X*(X'X)^-1 X*'."""
    out = []
    for i in range(y_est.shape[0]):
        xi = x_est[i] if x_est is not None else np.zeros((y_est.shape[1], 0))
        ok = ~np.isnan(y_est[i]) & ~np.isnan(xi).any(axis=1)
        X = sm.add_constant(xi[ok], has_constant="add") if const else xi[ok]
        fit = sm.OLS(y_est[i][ok], X).fit()
        xv = x_evt[i] if x_evt is not None else np.zeros((y_evt.shape[1], 0))
        Xs = sm.add_constant(xv, has_constant="add") if const else xv
        ar = y_evt[i] - Xs @ fit.params
        pe = np.eye(len(ar)) + Xs @ np.linalg.inv(X.T @ X) @ Xs.T
        out.append((ar, fit.resid, fit.scale, pe, ok, fit))
    return out


@pytest.mark.parametrize("f", [1, 3])
def test_market_and_multifactor_equal_statsmodels(f):
    y_est, y_evt, x_est, x_evt = _data(f=f)
    model = "market" if f == 1 else "multifactor"
    panel = fit_panel(y_est, y_evt, x_est, x_evt, model=model, event_days=np.arange(-1, 11))
    assert panel.n_params == 1 + f == n_params(model, f)
    for i, (ar, resid, s2, pe, ok, fit) in enumerate(_reference(y_est, y_evt, x_est, x_evt)):
        np.testing.assert_allclose(panel.event_ar[i], ar, rtol=RTOL)
        np.testing.assert_allclose(panel.est_resid[i][ok], resid, rtol=RTOL, atol=1e-15)
        assert np.isnan(panel.est_resid[i][~ok]).all()
        assert panel.n_est[i] == ok.sum() == fit.nobs
        np.testing.assert_allclose(panel.sigma2[i], s2, rtol=RTOL)
        np.testing.assert_allclose(panel.pe_cov[i], pe, rtol=RTOL)


def test_constant_mean_equals_statsmodels():
    y_est, y_evt, _, _ = _data()
    panel = fit_panel(y_est, y_evt, model="constant_mean", event_days=np.arange(12))
    for i in range(y_est.shape[0]):
        ok = ~np.isnan(y_est[i])
        fit = sm.OLS(y_est[i][ok], np.ones(ok.sum())).fit()
        np.testing.assert_allclose(panel.event_ar[i], y_evt[i] - fit.params[0], rtol=RTOL)
        np.testing.assert_allclose(panel.sigma2[i], fit.scale, rtol=RTOL)
        np.testing.assert_allclose(
            panel.pe_cov[i], np.eye(12) + np.full((12, 12), 1.0 / ok.sum()), rtol=RTOL
        )


def test_zero_mean_and_market_adjusted():
    y_est, y_evt, x_est, x_evt = _data()
    z = fit_panel(y_est, y_evt, model="zero_mean", event_days=np.arange(12))
    np.testing.assert_array_equal(z.event_ar, y_evt)
    np.testing.assert_allclose(z.sigma2, np.nanmean(y_est**2, axis=1), rtol=RTOL)
    ma = fit_panel(y_est, y_evt, x_est, x_evt, model="market_adjusted", event_days=np.arange(12))
    np.testing.assert_allclose(ma.event_ar, y_evt - x_evt[:, :, 0], rtol=RTOL)
    assert ma.n_params == 0
    np.testing.assert_array_equal(ma.pe_cov[0], np.eye(12))


def test_alt_conventions_sd_divisor_and_all_index_days():
    y_est, y_evt, x_est, x_evt = _data(n=3)
    p = fit_panel(
        y_est, y_evt, x_est, x_evt, model="market", event_days=np.arange(12), conventions="estudy2"
    )
    for i, (_, resid, _, _, _, _) in enumerate(_reference(y_est, y_evt, x_est, x_evt)):
        np.testing.assert_allclose(p.sigma2[i], np.var(resid, ddof=1), rtol=RTOL)
        m = x_est[i, :, 0]
        m = m[~np.isnan(m)]  # all market days, whether or not the asset has a return
        d = x_evt[i, :, 0] - m.mean()
        expected = np.eye(12) + 1.0 / p.n_est[i] + np.outer(d, d) / ((m - m.mean()) ** 2).sum()
        np.testing.assert_allclose(p.pe_cov[i], expected, rtol=RTOL)
    assert p.conventions == "estudy2"


def test_missing_event_day_is_nan():
    y_est, y_evt, x_est, x_evt = _data(n=2, holes=False)
    y_evt[1, 3] = np.nan
    p = fit_panel(y_est, y_evt, x_est, x_evt, event_days=np.arange(12))
    assert np.isnan(p.event_ar[1, 3]) and np.isfinite(p.event_ar[0]).all()
    assert np.isnan(p.pe_cov[1, 3]).all() and np.isnan(p.pe_cov[1, :, 3]).all()


def test_errors():
    y_est, y_evt, x_est, x_evt = _data(n=2, holes=False)
    with pytest.raises(EstimationError, match="needs regressor"):
        fit_panel(y_est, y_evt, model="market", event_days=np.arange(12))
    y_short = y_est.copy()
    y_short[1, 5:] = np.nan
    with pytest.raises(EstimationError, match=r"needs 50 usable days, got 5 \(event=e1"):
        fit_panel(y_short, y_evt, x_est, x_evt, event_days=np.arange(12), min_estimation=50)
    x_flat = x_est.copy()
    x_flat[0] = 0.01
    with pytest.raises(EstimationError, match="constant"):
        fit_panel(y_est, y_evt, x_flat, x_evt, event_days=np.arange(12))
    with pytest.raises(EstimationError, match="event_days"):
        fit_panel(y_est, y_evt, x_est, x_evt, event_days=np.arange(3))
    with pytest.raises(EstimationError, match="event_days must be increasing"):
        fit_panel(y_est, y_evt, x_est, x_evt, event_days=np.arange(12)[::-1])
    with pytest.raises(EstimationError, match="model must be"):
        fit_panel(y_est, y_evt, x_est, x_evt, model="capm", event_days=np.arange(12))  # type: ignore[arg-type]


def test_flatness_is_judged_per_factor():
    """A factor in levels (~1e12) beside a returns factor: the returns factor is not
    "constant" (the tolerance is per factor, relative to each one's own size); a
    constant factor still is."""
    y_est, y_evt, x_est, x_evt = _data(n=3, f=2, holes=False, seed=5)
    rng = np.random.default_rng(6)
    x_est[:, :, 1] = 1e12 * (1 + rng.normal(0, 0.01, x_est.shape[:2]))
    x_evt[:, :, 1] = 1e12 * (1 + rng.normal(0, 0.01, x_evt.shape[:2]))
    panel = fit_panel(y_est, y_evt, x_est, x_evt, model="multifactor", event_days=np.arange(12))
    assert np.isfinite(panel.sigma2).all()
    x_est[1, :, 0] = 0.02  # a constant factor for pair 1
    with pytest.raises(EstimationError, match=r"constant .*event=e1"):
        fit_panel(y_est, y_evt, x_est, x_evt, model="multifactor", event_days=np.arange(12))


def test_exact_fit_zeroing_spares_infinite_and_unestimated_residuals():
    """Only estimated models' exact fits are zeroed: an infinite return (s^2 = inf) and
    a constant market-adjusted residual under estudy2 (demeaned s^2 ~ 1e-37) keep
    their residuals and ARs; an asset that is the market is zeroed."""
    y_est, y_evt, x_est, x_evt = _data(n=3, holes=False, seed=9)
    y_inf = y_est.copy()
    y_inf[0, 5] = np.inf
    panel = fit_panel(y_inf, y_evt, model="zero_mean", event_days=np.arange(12))
    assert panel.sigma2[0] == np.inf
    np.testing.assert_array_equal(panel.event_ar[0], y_evt[0])
    m_est, m_evt = x_est[:, :, 0], x_evt[:, :, 0]
    panel = fit_panel(  # the asset is the market minus a fixed fee
        m_est - 2e-4, m_evt - 2e-4, m_est, m_evt, model="market_adjusted",
        event_days=np.arange(12), conventions="estudy2",
    )  # fmt: skip
    np.testing.assert_allclose(panel.est_resid, -2e-4, rtol=1e-9)
    np.testing.assert_allclose(panel.event_ar, -2e-4, rtol=1e-9)
    same = fit_panel(m_est, m_evt, m_est, m_evt, event_days=np.arange(12))  # y = market
    assert (same.sigma2 == 0).all() and (same.est_resid == 0).all() and (same.event_ar == 0).all()


def _spanning_case(seed: int = 3):
    """A fitted market-model panel whose event windows have returns spanning 2 sessions."""
    import dataclasses

    rng = np.random.default_rng(seed)
    m = rng.normal(0, 0.01, (6, 251))
    y = 0.001 + 0.8 * m + rng.normal(0, 0.01, (6, 251))
    y[1, 20:25] = np.nan
    k = np.ones((6, 11), dtype=np.int64)
    k[0, 1], k[2, 4], k[2, 5] = 2, 2, 3
    panel = fit_panel(y[:, :240], y[:, 240:], m[:, :240], m[:, 240:], event_days=np.arange(11))
    return dataclasses.replace(panel, event_sessions=k), y, m, k


def test_scale_spanning_returns_copy_and_in_place():
    """copy=True leaves the input panel as it was; copy=False writes the same values
    into the panel's own arrays; both match the textbook formulas (statsmodels OLS)."""
    from oilimpact.eventstudy.models import scale_spanning_returns

    panel, y, m, k = _spanning_case()
    before = {f: np.array(getattr(panel, f)) for f in ("event_ar", "pe_cov", "design_evt")}
    out = scale_spanning_returns(panel, y[:, :240], m[:, :240])
    for f, value in before.items():
        np.testing.assert_array_equal(getattr(panel, f), value, err_msg=f)
    other, _, _, _ = _spanning_case()
    inplace = scale_spanning_returns(other, y[:, :240], m[:, :240], copy=False)
    assert inplace.pe_cov is other.pe_cov and inplace.event_ar is other.event_ar
    for f in ("event_ar", "pe_cov", "design_evt"):
        np.testing.assert_array_equal(getattr(inplace, f), getattr(out, f), err_msg=f)
    for i in (0, 2):  # independent: the OLS coefficients and the exact PE variance
        ok = ~np.isnan(y[i, :240])
        fit = sm.OLS(y[i, :240][ok], sm.add_constant(m[i, :240][ok])).fit()
        alpha, beta = fit.params
        expect = y[i, 240:] - k[i] * alpha - beta * m[i, 240:]
        np.testing.assert_allclose(out.event_ar[i], expect, rtol=1e-9, atol=1e-14)
        xbar = m[i, :240][ok].mean()
        d = m[i, 240:] - k[i] * xbar
        sxx = ((m[i, :240][ok] - xbar) ** 2).sum()
        pe = np.diag(k[i].astype(float)) + np.outer(k[i], k[i]) / ok.sum() + np.outer(d, d) / sxx
        np.testing.assert_allclose(out.pe_cov[i], pe, rtol=1e-10)
    np.testing.assert_array_equal(out.event_ar[1], panel.event_ar[1])  # no spanning return
