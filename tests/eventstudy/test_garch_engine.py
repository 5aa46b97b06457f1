"""The GARCH models through fit_panel and event_study, against direct ``arch`` fits."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from numpy.testing import assert_allclose
from scipy import special

from oilimpact.errors import EstimationError
from oilimpact.eventstudy import inputs
from oilimpact.eventstudy.eventvol import volatility_tests
from oilimpact.eventstudy.garch import fit_garch_panel
from oilimpact.eventstudy.garch_engine import GarchConvergenceWarning, _warn_unconverged
from oilimpact.eventstudy.models import GarchModel, fit_panel, n_params
from oilimpact.eventstudy.single import ar_tests, car_tests
from oilimpact.eventstudy.spec import study_options
from oilimpact.eventstudy.volatility import abnormal_volatility, rank_pvalue

WINDOWS = [(0, 0), (0, 1), (-1, 1), (0, 5)]
pytestmark = pytest.mark.filterwarnings("ignore:model=.market_g:UserWarning")


def _garch_draw(rng, n, t, a=0.08, b=0.9):
    """Market returns and market-model returns with GARCH(1,1) errors, shape (n, t)."""
    m = rng.normal(0.0002, 0.01, (n, t))
    omega = 0.015**2 * (1 - a - b)
    var = np.full(n, 0.015**2)
    eps = np.empty((n, t + 300))
    z = rng.standard_normal((n, t + 300))
    for s in range(t + 300):
        eps[:, s] = np.sqrt(var) * z[:, s]
        var = omega + a * eps[:, s] ** 2 + b * var
    return m, 0.0003 + 0.9 * m + eps[:, 300:]


def _direct(y, x, vol="garch"):
    """An ``arch`` fit written out here (percent returns, as the module fits)."""
    mod = arch_model(100 * y, x=100 * x[:, None], mean="LS", vol="GARCH", p=1,
                     o=1 if vol == "gjr" else 0, q=1, dist="normal", rescale=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mod.fit(disp="off", show_warning=False)


@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(20261207)
    m, y = _garch_draw(rng, 2, 257)
    y_est, m_est = y[:, :240].copy(), m[:, :240].copy()
    y_evt, m_evt = y[:, 250:].copy(), m[:, 250:].copy()  # relative days -1 .. 5
    y_est[0, [30, 31, 200]] = np.nan
    m_est[1, 77] = np.nan
    y_evt[1, 4] = np.nan  # day 3 missing: CARs through it are NaN
    return y_est, y_evt, m_est, m_evt


def _direct_tests(y_est, y_evt, m_est, m_evt, i, days, vol="garch"):
    """AR, its variance (forecast + mean-parameter term) and the standardised residuals
    of pair ``i`` from a direct arch fit and arch's own forecast."""
    ok = np.isfinite(y_est[i]) & np.isfinite(m_est[i])
    res = _direct(y_est[i, ok], m_est[i, ok], vol)
    p = res.params.to_numpy()
    last = np.arange(-250, -10)[np.flatnonzero(ok)[-1]]
    h = days - last
    fc = res.forecast(horizon=int(h.max()), x=np.zeros((1, 1, int(h.max()))), reindex=False)
    var_f = fc.variance.to_numpy()[-1, h - 1] / 1e4
    cov = res.param_cov.to_numpy()[:2, :2] / np.array([[1e4, 1e2], [1e2, 1.0]])
    d = np.column_stack([np.ones(days.size), m_evt[i]])
    ar = y_evt[i] - d @ np.array([p[0] / 100, p[1]])
    var_p = np.einsum("ta,ab,tb->t", d, cov, d)
    return res, ar, var_f, var_p, np.asarray(res.std_resid)


@pytest.mark.parametrize("model", ["market_garch", "market_gjr"])
def test_fit_panel_tests_equal_garch_panel_and_direct_arch(arrays, model):
    y_est, y_evt, m_est, m_evt = arrays
    days = np.arange(-1, 6)
    panel = fit_panel(y_est, y_evt, m_est, m_evt, model=model, event_days=days,
                      est_days=np.arange(-250, -10))  # fmt: skip
    vol = "gjr" if model == "market_gjr" else "garch"
    gp = fit_garch_panel(y_est, y_evt, m_est, m_evt, event_days=days,
                         est_days=np.arange(-250, -10), vol=vol)  # fmt: skip
    mine = car_tests(panel, WINDOWS)
    ref = gp.car_tests(WINDOWS)
    # the engine's CAR t is the GarchPanel's t to 1e-10; p from Student t, n_est - k dof
    assert_allclose(mine["car"], ref["car"], rtol=1e-12, equal_nan=True)
    assert_allclose(mine["tstat"], ref["tstat"], rtol=1e-10, atol=1e-12, equal_nan=True)
    ok = ref["car"].notna().to_numpy()  # the engine's se is NaN where the CAR is
    assert_allclose(mine["se"][ok], ref["se"][ok], rtol=1e-10)
    assert mine["se"][~ok].isna().all()
    dof = (gp.n_est - n_params(model)).repeat(len(WINDOWS))
    assert_allclose(mine["pvalue"], 2 * special.stdtr(dof, -np.abs(ref["tstat"])),
                    rtol=1e-12, equal_nan=True)  # fmt: skip
    assert (mine["dof"] == dof).all() and mine["tstat"].isna().sum() == 1
    for i in range(2):  # and the ingredients against a direct arch fit
        res, ar, var_f, var_p, z = _direct_tests(y_est, y_evt, m_est, m_evt, i, days, vol)
        assert_allclose(panel.event_ar[i], ar, rtol=1e-7, atol=1e-12)
        full = np.where(np.isfinite(ar), var_f + var_p, np.nan)
        assert_allclose(panel.sigma2[i] * np.diagonal(panel.pe_cov[i]), full, rtol=1e-7)
        est = panel.est_resid[i][np.isfinite(panel.est_resid[i])] / np.sqrt(panel.sigma2[i])
        assert_allclose(est, z, rtol=1e-7, atol=1e-10)
    assert panel.n_params == n_params(model) == (6 if vol == "gjr" else 5)


def test_sq_is_the_garch_t_ranked_among_standardised_residual_sums(arrays):
    y_est, y_evt, m_est, m_evt = arrays
    days = np.arange(-1, 6)
    panel = fit_panel(y_est, y_evt, m_est, m_evt, model="market_garch", event_days=days,
                      est_days=np.arange(-250, -10))  # fmt: skip
    gp = fit_garch_panel(y_est, y_evt, m_est, m_evt, event_days=days,
                         est_days=np.arange(-250, -10))  # fmt: skip
    mine = car_tests(panel, WINDOWS)
    ref = gp.car_tests(WINDOWS)
    for r, row in ref.iterrows():  # a loop over rows: rank among rolling sums / sqrt(L)
        i, length = r // len(WINDOWS), row["n_days"]
        zz = gp.est_z[i]
        sums = np.array([zz[u : u + length].sum() for u in range(zz.size - length + 1)])
        sums = sums[np.isfinite(sums)] / np.sqrt(length)
        t = row["tstat"]
        if np.isnan(t):
            assert np.isnan(mine.loc[r, "sq_pvalue"])
            continue
        p = min(1.0, 2 * min(1 + (sums <= t).sum(), 1 + (sums >= t).sum()) / (sums.size + 1))
        assert mine.loc[r, "sq_pvalue"] == pytest.approx(p, abs=1e-12)
        assert mine.loc[r, "sq_n"] == sums.size
    day = ar_tests(panel)  # single days: the AR over its sd among the est z
    z_day = gp.ar / np.sqrt(np.diagonal(panel.pe_cov, axis1=1, axis2=2) * panel.sigma2[:, None])
    for i in range(2):
        for j in range(days.size):
            if np.isnan(z_day[i, j]):
                continue
            want = rank_pvalue(gp.est_z[i], z_day[i, j], "two-sided")
            assert day["sq_pvalue"][i, j] == pytest.approx(want, abs=1e-12)


def test_garch_model_name_carries_the_window_and_pickles():
    opts, _ = study_options(
        model="market_garch", estimation_window=(-200, -21), event_windows=[(0, 1)],
        returns="log", input="auto", min_estimation=120, conventions="textbook",
        exclude_confounders=True, exclusion_band=(-10, 10), multitest="fdr_bh",
        pooled="auto", independence_tests=False)  # fmt: skip
    assert opts.model == "market_garch" and opts.model.estimation_window == (-200, -21)
    back = pickle.loads(pickle.dumps(opts))
    assert back.model.estimation_window == (-200, -21) and back.model == "market_garch"
    with pytest.raises(EstimationError, match="GARCH model"):
        GarchModel("market", (-250, -11))


def test_forecast_steps_follow_the_estimation_window(arrays):
    y_est, y_evt, m_est, m_evt = arrays
    days = np.arange(-1, 6)
    a = fit_panel(y_est, y_evt, m_est, m_evt, event_days=days,
                  model=GarchModel("market_garch", (-250, -11)))  # fmt: skip
    b = fit_panel(y_est, y_evt, m_est, m_evt, event_days=days, model="market_garch",
                  est_days=np.arange(-250, -10))  # fmt: skip
    assert_allclose(a.pe_cov, b.pe_cov, rtol=1e-14, equal_nan=True)
    c = fit_panel(y_est, y_evt, m_est, m_evt, event_days=days, model="market_garch")
    assert not np.allclose(np.diagonal(a.pe_cov[0]), np.diagonal(c.pe_cov[0]))
    with pytest.raises(EstimationError, match="estudy2"):
        fit_panel(y_est, y_evt, m_est, m_evt, event_days=days, model="market_garch",
                  conventions="estudy2")  # fmt: skip
    with pytest.raises(EstimationError, match="needs 100 usable"):
        fit_panel(y_est[:, :90], y_evt, m_est[:, :90], m_evt, event_days=days,
                  model="market_garch")  # fmt: skip


def test_unconverged_fits_are_named():
    ids = pd.MultiIndex.from_tuples([("e", "brent"), ("e", "wti")], names=["event", "asset"])
    params = pd.DataFrame({"converged": [True, False]}, index=ids)
    with pytest.warns(GarchConvergenceWarning, match=r"1 pair\(s\): \(event=e, series=wti\)"):
        _warn_unconverged(params, ids)


# ---- through the public engine -----------------------------------------------------------


@pytest.fixture
def engine(monkeypatch):
    """event_study, with the GARCH models routed to the market like ``"market"`` when the
    engine's input step does not do it yet (a change requested from its owner)."""
    from oilimpact.eventstudy.engine import event_study

    orig = inputs._used_regressors
    try:
        routed = orig("market_garch", "mkt", [], ["mkt"]) == ["mkt"]
    except EstimationError:
        routed = False
    if not routed:

        def patched(model, market_name, factor_names, regressors):
            name = "market" if model in ("market_garch", "market_gjr") else model
            return orig(name, market_name, factor_names, regressors)

        monkeypatch.setattr(inputs, "_used_regressors", patched)
    return event_study


def _prices(seed, n_assets=2, missing=None):
    rng = np.random.default_rng(seed)
    m, y = _garch_draw(rng, n_assets, 330)
    days = pd.bdate_range("2024-01-01", periods=330)
    data = pd.DataFrame({f"s{i}": 50 * np.exp(np.cumsum(y[i])) for i in range(n_assets)},
                        index=days)  # fmt: skip
    data["mkt"] = 3000 * np.exp(np.cumsum(m[0]))
    if missing is not None:
        data.iloc[missing[0], missing[1]] = np.nan
    return data, days


def test_event_study_market_garch_equals_direct_fit(engine):
    data, days = _prices(5)
    ret = np.log(data).diff()  # returns in: the ML fits see the very same numbers
    res = engine(ret, {"news": days[300].date()}, market="mkt", catalog={}, input="returns",
                 model="market_garch", pooled=True, event_windows=WINDOWS,
                 estimation_window=(-250, -11))  # fmt: skip
    d0 = 300
    y = ret[["s0", "s1"]].to_numpy().T
    m = np.tile(ret["mkt"].to_numpy(), (2, 1))
    est = slice(d0 - 250, d0 - 10)
    evt = slice(d0 - 1, d0 + 6)
    gp = fit_garch_panel(y[:, est], y[:, evt], m[:, est], m[:, evt], event_days=np.arange(-1, 6),
                         est_days=np.arange(-250, -10))  # fmt: skip
    ref = gp.car_tests(WINDOWS)
    assert_allclose(res.car["tstat"], ref["tstat"], rtol=1e-10)
    assert_allclose(res.car["car"], ref["car"], rtol=1e-10)
    prm = res.params
    assert_allclose(prm["garch_beta"], gp.params["beta"], rtol=1e-10)
    assert_allclose(prm["persistence"], gp.params["persistence"], rtol=1e-10)
    assert_allclose(prm["beta"], gp.params["slope"], rtol=1e-10)
    assert prm["converged"].all() and prm["rsquared"].isna().all()
    assert {"garch_omega", "garch_alpha", "garch_gamma", "loglik"} <= set(prm.columns)
    assert len(res.tests) and res.tests["pvalue"].notna().any()  # pooled tests run
    assert "GARCH(1,1) errors" in str(res.summary())


def test_event_study_garch_spanning_return(engine):
    data, days = _prices(6, missing=(301, 0))  # s0 has no price on days[301]
    res = engine(data, {"news": days[300].date()}, market="mkt", catalog={},
                 model="market_garch", event_windows=[(0, 0), (0, 3)],
                 estimation_window=(-250, -11))  # fmt: skip
    ab = res.abnormal[res.abnormal["series"] == "s0"].set_index("day")
    assert ab.loc[1, "sessions"] == 2  # day 1 of s0 is days[302], spanning days[301]
    lp, lm = np.log(data["s0"]).to_numpy(), np.log(data["mkt"]).to_numpy()
    y, m = np.diff(lp), np.diff(lm)  # y[i] is the return of day i + 1
    y_evt = np.array([[lp[300] - lp[299], lp[302] - lp[300]]])
    m_evt = np.array([[lm[300] - lm[299], lm[302] - lm[300]]])
    _, _, var_f, _, _ = _direct_tests(y[None, 49:289], y_evt, m[None, 49:289], m_evt, 0,
                                      np.arange(2))  # fmt: skip
    res_a = _direct(y[49:289], m[49:289])
    p = res_a.params.to_numpy()
    cov = res_a.param_cov.to_numpy()[:2, :2] / np.array([[1e4, 1e2], [1e2, 1.0]])
    d = np.array([2.0, m_evt[0, 1]])  # the spanning return's design row (k_t, x_t)
    assert ab.loc[1, "ar"] == pytest.approx(y_evt[0, 1] - 2 * p[0] / 100 - p[1] * m_evt[0, 1],
                                            rel=1e-7)  # fmt: skip
    assert ab.loc[1, "se"] ** 2 == pytest.approx(2 * var_f[1] + d @ cov @ d, rel=1e-7)
    d0 = np.array([1.0, m_evt[0, 0]])
    assert ab.loc[0, "se"] ** 2 == pytest.approx(var_f[0] + d0 @ cov @ d0, rel=1e-7)


def test_volatility_tests_from_a_garch_result_against_direct_arch(engine):
    data, days = _prices(8, n_assets=1)
    ret = np.log(data).diff()
    res = engine(ret, {"news": days[300].date()}, market="mkt", catalog={}, input="returns",
                 model="market_garch", event_windows=[(0, 0), (0, 5)],
                 estimation_window=(-250, -11))  # fmt: skip
    table = volatility_tests(res)
    y, m = ret["s0"].to_numpy(), ret["mkt"].to_numpy()
    res_a, ar, var_f, var_p, z_est = _direct_tests(
        y[None, 50:290], y[None, 300:306], m[None, 50:290], m[None, 300:306], 0, np.arange(6)
    )
    z = ar / np.sqrt(var_f + var_p)
    for w, row in zip([(0, 0), (0, 5)], table.itertuples(), strict=True):
        length = w[1] - w[0] + 1
        avr = np.mean(z[:length] ** 2)
        ref = np.array([np.mean(z_est[u : u + length] ** 2) for u in range(240 - length + 1)])
        assert row.avr == pytest.approx(avr, rel=1e-7)
        assert row.pvalue == pytest.approx(rank_pvalue(ref, avr), abs=1e-12)
        assert row.series == "s0" and row.model == "market_garch" and row.n_ref == ref.size


def test_volatility_tests_from_an_ols_result_against_a_loop():
    from oilimpact.eventstudy.engine import event_study

    data, days = _prices(9, n_assets=1)
    res = event_study(data, {"news": days[300].date()}, market="mkt", catalog={},
                      event_windows=[(0, 0), (0, 2)])  # fmt: skip
    ret = np.log(data).diff()
    y, m = ret["s0"].to_numpy()[50:290], ret["mkt"].to_numpy()[50:290]
    X = np.column_stack([np.ones(240), m])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ beta
    s2 = e @ e / 238
    h = np.einsum("ti,ij,tj->t", X, np.linalg.inv(X.T @ X), X)
    z_est = e / np.sqrt(s2 * (1 - h))
    xs = np.column_stack([np.ones(3), ret["mkt"].to_numpy()[300:303]])
    hs = np.einsum("ti,ij,tj->t", xs, np.linalg.inv(X.T @ X), xs)
    z = (ret["s0"].to_numpy()[300:303] - xs @ beta) / np.sqrt(s2 * (1 + hs))
    table = volatility_tests(res, alternative="two-sided")
    for w, row in zip([(0, 0), (0, 2)], table.itertuples(), strict=True):
        length = w[1] - w[0] + 1
        avr = np.mean(z[:length] ** 2)
        ref = np.array([np.mean(z_est[u : u + length] ** 2) for u in range(240 - length + 1)])
        assert row.avr == pytest.approx(avr, rel=1e-9)
        assert row.pvalue == pytest.approx(rank_pvalue(ref, avr, "two-sided"), abs=1e-12)
    direct = abnormal_volatility(  # same numbers as the panel-level function
        type("P", (), {"ids": res.panel.ids, "z": z[None], "est_z": z_est[None],
                       "window_index": lambda self, w: np.arange(w[0], w[1] + 1)})(),
        [(0, 0), (0, 2)], "two-sided")  # fmt: skip
    assert_allclose(table["avr"], direct["avr"], rtol=1e-9)


def test_short_garch_window_warns_with_the_measured_size():
    from oilimpact.eventstudy.result import ShortEstimationWarning

    kwargs = dict(event_windows=[(0, 1)], returns="log", input="auto", min_estimation=None,
                  conventions="textbook", exclude_confounders=True, exclusion_band=(-10, 10),
                  multitest="fdr_bh", pooled="auto", independence_tests=False)  # fmt: skip
    with pytest.warns(ShortEstimationWarning, match=r"over-reject .*\(-760, -11\)"):
        _, notices = study_options(model="market_gjr", estimation_window=(-250, -11), **kwargs)
    assert len(notices) == 1 and "240-day" in notices[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, notices = study_options(model="market_garch", estimation_window=(-760, -11), **kwargs)
        _, plain = study_options(model="market", estimation_window=(-250, -11), **kwargs)
    assert notices == [] and plain == []


def test_garch_chunks_give_the_one_shot_result(engine):
    data, days = _prices(10, n_assets=3)
    ret = np.log(data).diff()
    kw = dict(market="mkt", catalog={}, input="returns", model="market_gjr",
              event_windows=[(0, 0), (0, 2)], pooled=True, estimation_window=(-250, -11))  # fmt: skip
    one = engine(ret, {"news": days[300].date()}, **kw)
    parts = engine(ret, {"news": days[300].date()}, chunk_size=1, **kw)
    cols = ["car", "se", "tstat", "pvalue", "sq_pvalue"]
    assert_allclose(parts.car[cols].to_numpy(), one.car[cols].to_numpy(), rtol=1e-12)
    assert_allclose(parts.tests["pvalue"], one.tests["pvalue"], rtol=1e-9, equal_nan=True)
    pd.testing.assert_frame_equal(parts.params, one.params)
    assert_allclose(volatility_tests(parts)["avr"], volatility_tests(one)["avr"], rtol=1e-12)


def test_the_default_estimation_window_depends_on_the_model():
    kwargs = dict(estimation_window=None, event_windows=[(0, 1)], returns="log",
                  input="auto", min_estimation=None, conventions="textbook",
                  exclude_confounders=True, exclusion_band=(-10, 10), multitest="fdr_bh",
                  pooled="auto", independence_tests=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no short-window warning for the GARCH default
        garch, notices = study_options(model="market_garch", **kwargs)
        ols, _ = study_options(model="market", **kwargs)
    assert garch.estimation_window == (-760, -11) and garch.min_estimation == 375
    assert garch.model.estimation_window == (-760, -11) and notices == []
    assert ols.estimation_window == (-250, -11) and ols.min_estimation == 120
