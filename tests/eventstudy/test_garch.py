"""The GARCH normal-return model against direct ``arch`` fits and closed forms."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from numpy.testing import assert_allclose
from scipy import stats

from oilimpact.errors import EstimationError
from oilimpact.eventstudy.garch import SCALE, fit_garch_panel, garch_study

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


def _garch_draw(rng: np.random.Generator, n: int, t: int, a: float = 0.08, b: float = 0.9):
    """Market returns and GARCH(1,1) market-model asset returns, shape (n, t)."""
    m = rng.normal(0.0002, 0.01, (n, t))
    sd = 0.015
    omega = sd**2 * (1 - a - b)
    var = np.full(n, sd**2)
    eps = np.empty((n, t + 500))
    z = rng.standard_normal((n, t + 500))
    for s in range(t + 500):
        eps[:, s] = np.sqrt(var) * z[:, s]
        var = omega + a * eps[:, s] ** 2 + b * var
    return m, 0.0003 + 0.9 * m + eps[:, 500:]


def _direct(y, x, vol, dist):
    o = 1 if vol == "gjr" else 0
    mod = arch_model(100 * y, x=None if x is None else 100 * x[:, None],
                     mean="LS" if x is not None else "Constant", vol="GARCH", p=1, o=o, q=1,
                     dist=dist, rescale=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mod.fit(disp="off", show_warning=False)


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(20261206)
    m, y = _garch_draw(rng, 2, 256)
    y_est, y_evt = y[:, :240].copy(), y[:, 250:]
    m_est, m_evt = m[:, :240].copy(), m[:, 250:]
    y_est[0, [17, 18, 100]] = np.nan  # gaps: dropped from the recursion
    m_est[1, 50] = np.nan  # a missing market day drops the day
    y_est[1, -3:] = np.nan  # the last usable estimation day is relative day -14
    return y_est, y_evt, m_est, m_evt


@pytest.mark.parametrize(("vol", "dist"), [("garch", "normal"), ("gjr", "t")])
def test_panel_matches_direct_arch_fit(sample, vol, dist):
    y_est, y_evt, m_est, m_evt = sample
    est_days = np.arange(-250, -10)
    days = np.arange(0, 6)
    panel = fit_garch_panel(y_est, y_evt, m_est, m_evt, event_days=days, est_days=est_days,
                            vol=vol, dist=dist)  # fmt: skip
    for i in range(2):
        ok = np.isfinite(y_est[i]) & np.isfinite(m_est[i])
        res = _direct(y_est[i, ok], m_est[i, ok], vol, dist)
        p = res.params
        row = panel.params.iloc[i]
        # parameters, in decimal units, to 1e-8
        assert_allclose(row["const"], p["Const"] / 100, rtol=1e-8)
        assert_allclose(row["slope"], p["x0"], rtol=1e-8)
        assert_allclose(row["omega"], p["omega"] / 1e4, rtol=1e-8)
        assert_allclose(row["alpha"], p["alpha[1]"], rtol=1e-8, atol=1e-12)
        assert_allclose(row["beta"], p["beta[1]"], rtol=1e-8)
        assert_allclose(row["gamma"], p["gamma[1]"] if vol == "gjr" else 0.0, atol=1e-12)
        if dist == "t":
            assert_allclose(row["nu"], p["nu"], rtol=1e-8)
        assert row["n_est"] == ok.sum()
        # forecasts from the last usable day: h = day - relative day of that day
        last = est_days[np.flatnonzero(ok)[-1]]
        h = days - last
        assert_allclose(panel.horizon[i], h)
        fc = res.forecast(horizon=int(h.max()), x=np.zeros((1, 1, int(h.max()))), reindex=False)
        assert_allclose(panel.sigma2[i], fc.variance.to_numpy()[-1][h - 1] / 1e4, rtol=1e-8)
        # abnormal returns from the fitted mean
        assert_allclose(panel.ar[i], y_evt[i] - p["Const"] / 100 - p["x0"] * m_evt[i], rtol=1e-8)
        assert_allclose(panel.z[i], panel.ar[i] / np.sqrt(panel.sigma2[i]), rtol=1e-12)
        assert_allclose(panel.est_z[i, ok], res.std_resid, rtol=1e-8)
        assert np.isnan(panel.est_z[i, ~ok]).all()


def test_forecast_path_is_the_garch_recursion(sample):
    """Independent check of the forecast: the GJR-GARCH recursion written out."""
    y_est, y_evt, m_est, m_evt = sample
    panel = fit_garch_panel(y_est[:1], y_evt[:1], m_est[:1], m_evt[:1], event_days=range(6),
                            est_days=np.arange(-250, -10), vol="gjr")  # fmt: skip
    ok = np.isfinite(y_est[0])
    res = _direct(y_est[0, ok], m_est[0, ok], "gjr", "normal")
    pr = panel.params.iloc[0]
    eps_t = res.resid[-1] / SCALE
    s2_t = (res.conditional_volatility[-1] / SCALE) ** 2
    s2 = pr["omega"] + (pr["alpha"] + pr["gamma"] * (eps_t < 0)) * eps_t**2 + pr["beta"] * s2_t
    path = [s2]
    for _ in range(int(panel.horizon[0].max()) - 1):
        path.append(pr["omega"] + pr["persistence"] * path[-1])
    assert_allclose(panel.sigma2[0], np.array(path)[panel.horizon[0] - 1], rtol=1e-10)
    assert_allclose(pr["persistence"], pr["alpha"] + pr["gamma"] / 2 + pr["beta"])
    assert_allclose(pr["uncond_var"], pr["omega"] / (1 - pr["persistence"]))


def test_update_through_filters_pre_event_returns(sample):
    """update_through=-1: same parameters, variance filtered through days -10..-1 by the
    GARCH recursion written out (day -4 missing: skipped by the recursion)."""
    y_est, _, m_est, _ = sample
    rng = np.random.default_rng(3)
    m_evt = rng.normal(0, 0.01, (1, 16))
    y_evt = 0.9 * m_evt + rng.normal(0, 0.02, (1, 16))
    y_evt[0, 6] = np.nan  # relative day -4
    days = np.arange(-10, 6)
    base = fit_garch_panel(y_est[:1], y_evt, m_est[:1], m_evt, event_days=days)
    upd = fit_garch_panel(y_est[:1], y_evt, m_est[:1], m_evt, event_days=days, update_through=-1)
    assert_allclose(upd.params["omega"], base.params["omega"], rtol=1e-10)
    assert_allclose(upd.ar, base.ar, rtol=1e-12)
    assert_allclose(upd.est_z, base.est_z, rtol=1e-12, equal_nan=True)
    ok = np.isfinite(y_est[0])
    res = _direct(y_est[0, ok], m_est[0, ok], "garch", "normal")
    pr = base.params.iloc[0]
    om, a, b = pr["omega"], pr["alpha"], pr["beta"]
    eps = res.resid[-1] / SCALE
    s2 = (res.conditional_volatility[-1] / SCALE) ** 2
    want, h_want = [], []
    last_d = -11  # relative day of the last observation (the end of the estimation window)
    for j, d in enumerate(days):
        observed = d <= -1 and np.isfinite(y_evt[0, j])
        h = 1 if observed else d - last_d
        f = om + a * eps**2 + b * s2  # one step from the last observation
        for _ in range(h - 1):
            f = om + (a + b) * f
        want.append(f)
        h_want.append(h)
        if observed:  # the recursion moves on; a missing day is skipped
            eps, s2, last_d = upd.ar[0, j], f, d
    assert_allclose(upd.sigma2[0], want, rtol=1e-9)
    assert upd.horizon[0].tolist() == h_want
    assert upd.horizon[0, 10] == 1 and base.horizon[0, 10] == 11


def test_car_tests_against_a_loop(sample):
    y_est, y_evt, m_est, m_evt = sample
    panel = fit_garch_panel(y_est, y_evt, m_est, m_evt, event_days=np.arange(0, 6))
    windows = [(0, 0), (0, 1), (2, 5)]
    car = panel.car_tests(windows)
    assert list(car["asset"]) == ["a0"] * 3 + ["a1"] * 3
    k = 0
    for i in range(2):
        ok = np.isfinite(y_est[i]) & np.isfinite(m_est[i])
        res = _direct(y_est[i, ok], m_est[i, ok], "garch", "normal")
        v = res.param_cov.to_numpy()[:2, :2] * np.array([[1e-4, 1e-2], [1e-2, 1.0]])
        for lo, hi in windows:
            sel = slice(lo, hi + 1)
            c = panel.ar[i, sel].sum()
            g = np.array([hi - lo + 1, m_evt[i, sel].sum()])
            var = panel.sigma2[i, sel].sum() + g @ v @ g
            row = car.iloc[k]
            assert row["window"] == (lo, hi)
            assert_allclose(row["car"], c, rtol=1e-12)
            assert_allclose(row["se"] ** 2, var, rtol=1e-8)
            assert_allclose(row["pvalue"], 2 * stats.norm.sf(abs(c / np.sqrt(var))), rtol=1e-8)
            k += 1


def test_missing_event_day_gives_nan_car_but_a_variance(sample):
    y_est, y_evt, m_est, m_evt = sample
    y_evt = y_evt[:1].copy()
    y_evt[0, 1] = np.nan
    panel = fit_garch_panel(y_est[:1], y_evt, m_est[:1], m_evt[:1], event_days=range(6))
    car = panel.car_tests([(0, 0), (0, 1)])
    assert np.isfinite(car["car"].iloc[0]) and np.isnan(car["car"].iloc[1])
    assert np.isfinite(panel.sigma2[0]).all()


def test_constant_mean_without_market(sample):
    y_est, y_evt, _, _ = sample
    panel = fit_garch_panel(y_est[:1], y_evt[:1], event_days=range(6))
    ok = np.isfinite(y_est[0])
    res = _direct(y_est[0, ok], None, "garch", "normal")
    assert "slope" not in panel.params.columns
    assert_allclose(panel.params["const"].iloc[0], res.params["mu"] / 100, rtol=1e-8)
    assert_allclose(panel.ar[0], y_evt[0] - res.params["mu"] / 100, rtol=1e-8)


def test_errors_name_the_pair(sample):
    y_est, y_evt, m_est, m_evt = sample
    ids = pd.MultiIndex.from_tuples([("blockade", "brent")], names=["event", "asset"])
    short = y_est[:1].copy()
    short[0, :200] = np.nan
    with pytest.raises(
        EstimationError, match=r"100 usable .* got 40 \(event=blockade, series=brent\)"
    ):
        fit_garch_panel(short, y_evt[:1], m_est[:1], m_evt[:1], event_days=range(6), ids=ids)
    with pytest.raises(EstimationError, match="after the last estimation day"):
        fit_garch_panel(y_est[:1], y_evt[:1], m_est[:1], m_evt[:1], event_days=range(-20, -14),
                        est_days=np.arange(-250, -10))  # fmt: skip
    with pytest.raises(EstimationError, match="x_est"):
        fit_garch_panel(y_est, y_evt, m_est[:1], m_evt, event_days=range(6))


def test_garch_test_detects_a_shock_and_scales_with_volatility():
    """A 6-sd shock on day 0 is found; a turbulent end of the estimation window widens se."""
    rng = np.random.default_rng(7)
    m, y = _garch_draw(rng, 1, 246, a=0.1, b=0.88)
    y_evt = y[:, 240:].copy()
    y_evt[0, 0] += 0.09
    panel = fit_garch_panel(y[:, :240], y_evt, m[:, :240], m[:, 240:], event_days=range(6))
    assert panel.car_tests([(0, 0)])["pvalue"].iloc[0] < 0.01
    calm, wild = y[:, :240].copy(), y[:, :240].copy()
    wild[0, -5:] *= 4  # a burst of volatility just before the event window
    pc = fit_garch_panel(calm, y_evt, m[:, :240], m[:, 240:], event_days=range(6))
    pw = fit_garch_panel(wild, y_evt, m[:, :240], m[:, 240:], event_days=range(6))
    assert pw.sigma2[0, 0] > 2 * pc.sigma2[0, 0]


def _prices(rng, n=330, gap_dates=()):
    idx = pd.bdate_range("2024-06-03", periods=n, name="date")
    mr = rng.normal(0.0002, 0.01, n)
    mkt = pd.Series(4000 * np.exp(np.cumsum(mr)), idx, name="mkt")
    oil = pd.Series(70 * np.exp(np.cumsum(0.6 * mr + rng.normal(0, 0.018, n))), idx, name="oil")
    oil.loc[list(gap_dates)] = np.nan
    return oil, mkt


def test_garch_study_aligns_on_common_dates_and_matches_direct_fit():
    rng = np.random.default_rng(11)
    oil, mkt = _prices(rng)
    gap = oil.index[100]
    oil[gap] = np.nan  # no oil price: the next return of both spans the gap
    mkt[oil.index[150]] = np.nan  # no market price: same
    event = oil.index[300]
    res = garch_study(oil, mkt, event, event_windows=[(0, 0), (0, 2)])
    # independent computation with pandas: log returns on the common dates
    common = pd.concat([oil, mkt], axis=1, sort=True).dropna()
    r = np.log(common).diff().iloc[1:]
    pos0 = r.index.get_loc(event)
    est = r.iloc[max(pos0 - 250, 0) : pos0 - 10]
    fit = _direct(est["oil"].to_numpy(), est["mkt"].to_numpy(), "garch", "normal")
    assert_allclose(res.params.loc["oil", "slope"], fit.params["x0"], rtol=1e-8)
    assert res.params.loc["oil", "n_est"] == len(est)
    assert res.alignment.loc["oil", "n_common"] == len(common)
    assert res.alignment.loc["oil", "last_est"] == r.index[pos0 - 11]
    ev = r.iloc[pos0 : pos0 + 3]
    ar = ev["oil"] - fit.params["Const"] / 100 - fit.params["x0"] * ev["mkt"]
    got = res.abnormal.set_index("day").loc[[0, 1, 2]]
    assert_allclose(got["ar"], ar.to_numpy(), rtol=1e-8)
    assert list(got["date"]) == list(ev.index)
    text = str(res.summary())
    for section in ("Day 0", "GARCH parameters", "CAR (t test", "Abnormal volatility", "Notes"):
        assert section in text
    assert res.summary()._repr_html_().startswith("<pre>")


def test_garch_study_returns_input_equals_prices():
    rng = np.random.default_rng(12)
    oil, mkt = _prices(rng)
    a = garch_study(oil, mkt, oil.index[300])
    common = pd.concat([oil, mkt], axis=1, sort=True).dropna()
    r = np.log(common).diff()
    b = garch_study(r["oil"], r["mkt"], oil.index[300], input="returns")
    assert_allclose(a.car["car"], b.car["car"], rtol=1e-10)
    assert_allclose(a.params["omega"], b.params["omega"], rtol=1e-8)


def test_garch_study_errors():
    rng = np.random.default_rng(13)
    oil, mkt = _prices(rng, n=150)
    with pytest.raises(EstimationError, match="100 usable"):
        garch_study(oil, mkt, oil.index[100])
    with pytest.raises(EstimationError, match="after the last session"):
        garch_study(oil, mkt, "2030-01-01")
    with pytest.raises(EstimationError, match="must end before"):
        garch_study(oil, mkt, oil.index[120], estimation_window=(-100, 0))


needs_real = pytest.mark.skipif(
    not (REAL / "fred_SP500.csv").exists(), reason=f"real data folder absent: {REAL}"
)


@needs_real
def test_brent_blockade_real_snapshot():
    """Brent on the blockade: day 0 by the catalog's time rule, fit equal to a direct fit."""
    from oilimpact.events import load_catalog

    brent = pd.read_csv(REAL / "eia_brent_spot_daily.csv", parse_dates=["Date"],
                        index_col="Date")["Price"].rename("brent")  # fmt: skip
    sp = pd.read_csv(REAL / "fred_SP500.csv", parse_dates=["observation_date"],
                     index_col="observation_date")["SP500"].rename("sp500")  # fmt: skip
    brent = brent.loc[:"2026-02-11"]
    event = load_catalog()["blockade"]
    res = garch_study(brent, sp, event)
    assert res.alignment.loc["brent", "day0"] == pd.Timestamp("2025-12-17")
    common = pd.concat([brent, sp], axis=1, sort=True).dropna()
    r = np.log(common).diff().iloc[1:]
    pos0 = r.index.get_loc(pd.Timestamp("2025-12-17"))
    est = r.iloc[pos0 - 250 : pos0 - 10]
    fit = _direct(est["brent"].to_numpy(), est["sp500"].to_numpy(), "garch", "normal")
    assert_allclose(res.params.loc["brent", "beta"], fit.params["beta[1]"], rtol=1e-8)
    assert_allclose(res.params.loc["brent", "omega"], fit.params["omega"] / 1e4, rtol=1e-8)
    assert res.car["pvalue"].between(0, 1).all()
    assert res.volatility["pvalue"].between(0, 1).all()


def test_non_positive_price_only_matters_inside_the_windows():
    """WTI settled at -36.98 on 2020-04-20: a study far from it runs, one across it fails."""
    rng = np.random.default_rng(14)
    oil, mkt = _prices(rng, n=600)
    oil.iloc[20] = -5.0
    res = garch_study(oil, mkt, oil.index[560])
    assert res.params.loc["oil", "n_est"] == 240
    with pytest.raises(EstimationError, match=r"non-positive price on .* \(series=oil\)"):
        garch_study(oil, mkt, oil.index[200])
