"""EventStudyResult: frozen value, tables, text/HTML (escaped), conf_int, JSON, plot."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from oilimpact.events import Event
from oilimpact.eventstudy import event_study

EVIL = "<script>alert('x')</script> & co"


@pytest.fixture(scope="module")
def result():
    idx = pd.bdate_range("2024-06-03", "2025-12-31")
    rng = np.random.default_rng(3)
    m = rng.normal(0, 0.01, len(idx))
    df = pd.DataFrame(
        {"mkt": 100 * np.exp(np.cumsum(m)),
         "a": 50 * np.exp(np.cumsum(0.9 * m + rng.normal(0, 0.015, len(idx))))},
        index=idx,
    )  # fmt: skip
    ev = Event.on_date("evil", EVIL, "political", "2025-10-15")
    return event_study(df, [ev], market="mkt", catalog={})


def test_frozen_and_repr_without_panel(result):
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.car = None  # type: ignore[misc]
    assert "panel=" not in repr(result)


def test_to_frame_is_a_copy(result):
    df = result.to_frame()
    df.loc[0, "car"] = 99.0
    assert result.car.loc[0, "car"] != 99.0
    assert list(df.columns[:3]) == ["event", "series", "window"]


def test_summary_and_html_escape_titles(result):
    text = result.summary()
    assert str(result) == text and EVIL in text and "[+0,+10]" in text
    html = result._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "&amp; co" in html


def test_conf_int_matches_t_quantile(result):
    for alpha in (0.05, 0.1):
        ci = result.conf_int(alpha)
        q = stats.t.ppf(1 - alpha / 2, result.car["dof"].to_numpy())
        np.testing.assert_allclose(
            ci["lower"], result.car["car"] - q * result.car["se"], rtol=1e-12
        )
        np.testing.assert_allclose(
            ci["upper"], result.car["car"] + q * result.car["se"], rtol=1e-12
        )
    with pytest.raises(ValueError, match="alpha"):
        result.conf_int(1.5)


def test_to_dict_is_json(result):
    d = result.to_dict()
    text = json.dumps(d)
    assert json.loads(text)["spec"]["model"] == "market"
    assert d["car"][0]["window"] == [0, 0]
    assert d["tests"] == []  # one pair: no cross-sectional tests


def test_plot_has_car_and_band(result):
    go = pytest.importorskip("plotly.graph_objects")
    fig = result.plot(alpha=0.1)
    assert isinstance(fig, go.Figure)
    names = [t.name for t in fig.data]
    assert names == ["90% prediction-error band", "90% prediction-error band", "CAR"]
    assert [t.name for t in fig.data if t.showlegend] == ["90% prediction-error band", "CAR"]
    assert not any("lower" in n or "upper" in n for n in names)
    path = result.car_path(alpha=0.1)
    np.testing.assert_allclose(fig.data[2].y, path["car"])
    np.testing.assert_allclose(np.cumsum(result.panel.event_ar[0]), path["car"])
    # the band at the last day is the CAR confidence interval of the whole union window
    lo, hi = int(result.panel.event_days[0]), int(result.panel.event_days[-1])
    assert np.all(np.asarray(fig.data[0].y) >= np.asarray(fig.data[1].y))
    assert lo == -1 and hi == 10
    # axes: what they measure, percent ticks; a dotted day-0 line and a zero line
    assert fig.layout.yaxis.title.text == "CAR, %" and fig.layout.yaxis.tickformat == ".1%"
    assert fig.layout.xaxis.title.text == "trading days from day 0"
    day0 = [s for s in fig.layout.shapes if s.x0 == 0 and s.x1 == 0 and s.yref == "y domain"]
    assert len(day0) == 1 and day0[0].line.dash == "dot"
    assert any(s.y0 == 0 and s.y1 == 0 and s.xref == "x domain" for s in fig.layout.shapes)
    assert "&lt;script&gt;" not in (fig.layout.title.text or "")  # titles use the id
    with pytest.raises(KeyError):
        result.plot(event="nope")


def test_plot_uses_registry_labels():
    idx = pd.bdate_range("2024-06-03", "2025-12-31")
    rng = np.random.default_rng(5)
    m = rng.normal(0, 0.01, len(idx))
    cols = {"mkt": m, "us_exports_ve_value": 0.8 * m + rng.normal(0, 0.01, len(idx))}
    df = pd.DataFrame({k: 100 * np.exp(np.cumsum(v)) for k, v in cols.items()}, index=idx)
    ev = Event.on_date("e1", "title", "political", "2025-10-15")
    fig = event_study(df, [ev], market="mkt", catalog={}).plot()
    assert "US exports to Venezuela, value (FOB)" in fig.layout.title.text
    assert "us_exports_ve_value" not in fig.layout.title.text


@pytest.fixture(scope="module")
def multi():
    """Three series, two events: six pairs."""
    idx = pd.bdate_range("2024-01-02", "2025-12-31")
    rng = np.random.default_rng(11)
    m = rng.normal(0, 0.01, len(idx))
    cols = {"mkt": m}
    for j, name in enumerate(("brent", "wti", "xyz")):
        cols[name] = (0.5 + 0.2 * j) * m + rng.normal(0, 0.015, len(idx))
    df = pd.DataFrame({k: 100 * np.exp(np.cumsum(v)) for k, v in cols.items()}, index=idx)
    evs = [Event.on_date("e1", "first", "political", "2025-06-16"),
           Event.on_date("e2", "second", "political", "2025-10-15")]  # fmt: skip
    return event_study(df, evs, market="mkt", catalog={})


def test_plot_small_multiples_and_overlay(multi):
    fig = multi.plot()  # all six pairs, one panel each
    cars = [t for t in fig.data if t.name == "CAR"]
    assert len(cars) == 6 and sum(bool(t.showlegend) for t in cars) == 1
    titles = [a.text for a in fig.layout.annotations]
    assert "Brent, e1" in titles and "WTI, e2" in titles and "xyz, e2" in titles
    assert len([s for s in fig.layout.shapes if s.yref and s.yref.endswith("domain")]) == 6
    sub = multi.plot(event="e2", series=["brent", "wti"])
    assert [a.text for a in sub.layout.annotations] == ["Brent", "WTI"]
    np.testing.assert_allclose(
        [t for t in sub.data if t.name == "CAR"][1].y, multi.car_path("e2", "wti")["car"]
    )
    over = multi.plot(overlay=True)  # one panel per event, a line per series
    assert [a.text for a in over.layout.annotations] == ["around e1", "around e2"]
    assert [t.name for t in over.data if t.showlegend] == ["Brent", "WTI", "xyz"]
    assert not any(t.fill for t in over.data)  # no bands when overlaid


def test_to_frame_windows_and_units(result):
    df = result.to_frame()
    assert df["window"].tolist()[:3] == ["[+0,+0]", "[+0,+1]", "[-1,+1]"]
    assert not any(isinstance(w, tuple) for w in df["window"])
    assert df[["start", "end"]].dtypes.map(lambda d: d.kind).tolist() == ["i", "i"]
    assert (df["unit"] == "fraction").all() and df.attrs["unit"] == "fraction"
    np.testing.assert_array_equal(df["car"], result.car["car"])  # fractions, not percent
    assert result.to_dict()["units"]["car"] == "fraction"


def test_summary_is_an_object_with_html_tables(result):
    from oilimpact.summary import Summary

    s = result.summary()
    assert isinstance(s, Summary) and not isinstance(s, str)
    html = s._repr_html_()
    assert html.count("<table") == len(s.tables) >= 2 and "<caption>" in html
    assert s.as_html() == html and s.as_text() == str(s)
    car = s.tables[1]
    assert "CAR, %" in car.columns and car["window"].iloc[0] == "[+0,+0]"
    # percent points in human output: 100 x the fraction, two decimals
    assert car["CAR, %"].iloc[0] == f"{100 * result.car['car'].iloc[0]:.2f}"


def _long_decimals(text):
    import re

    return re.findall(r"\d\.\d{9,}", text)


def test_html_has_no_long_decimals(result, multi):
    for res in (result, multi):
        html = res._repr_html_()
        assert _long_decimals(html) == []
        assert _long_decimals(str(res.summary())) == []
    assert _long_decimals("x 0.123456789 y") == ["0.123456789"]  # the scan itself works


def test_params_without_coefficients(result):
    prm = result.params  # built by the engine without the coefficients kept
    assert {"sigma", "n_est", "est_start", "est_end"} <= set(prm.columns)
    np.testing.assert_allclose(prm["sigma"] ** 2, result.panel.sigma2, rtol=1e-14)
    assert prm["n_est"].tolist() == result.panel.n_est.tolist()
    assert prm.index.names == ["event", "series"] and prm.attrs["unit"] == "fraction"
    r = result.resid
    assert list(r.columns) == ["event", "series", "date", "resid"]
    assert len(r) == int(result.panel.n_est.sum())
    np.testing.assert_allclose(
        r["resid"], result.panel.est_resid[~np.isnan(result.panel.est_resid)], rtol=0
    )
    assert r["date"].min() == prm["est_start"].iloc[0] and r["date"].max() == prm["est_end"].iloc[0]


def test_params_multifactor_equal_statsmodels():
    """Two factors, one pair with missing days: alpha, betas, se, t, p, R2 by statsmodels."""
    sm = pytest.importorskip("statsmodels.api")
    from oilimpact.eventstudy.engine import build_result
    from oilimpact.eventstudy.models import fit_panel
    from oilimpact.eventstudy.result import StudySpec, with_coefficients

    rng = np.random.default_rng(7)
    n, l1, l2 = 3, 200, 11
    x = rng.normal(0, 0.01, (n, l1 + l2, 2))
    y = 0.0004 + x @ np.array([0.8, -0.3]) + rng.normal(0, 0.012, (n, l1 + l2))
    y[1, [5, 17, 80]] = np.nan
    ids = pd.MultiIndex.from_tuples([("e", f"s{i}") for i in range(n)], names=["event", "asset"])
    panel = fit_panel(y[:, :l1], y[:, l1:], x[:, :l1], x[:, l1:], model="multifactor",
                      event_days=np.arange(-1, l2 - 1), ids=ids)  # fmt: skip
    spec = StudySpec(model="multifactor", market="mkt", factors=("smb",),
                     estimation_window=(-250, -11), event_windows=((0, 1),), returns="log",
                     input="returns", min_estimation=100, conventions="textbook")  # fmt: skip
    res = with_coefficients(build_result(panel, [(0, 1)], spec), y[:, :l1], x[:, :l1])
    prm, bse, tv, pv = res.params, res.bse, res.tvalues, res.pvalues
    assert list(prm.columns[:3]) == ["alpha", "beta_mkt", "beta_smb"]
    for i in range(n):
        ok = ~np.isnan(y[i, :l1])
        fit = sm.OLS(y[i, :l1][ok], sm.add_constant(x[i, :l1][ok])).fit()
        np.testing.assert_allclose(prm.iloc[i, :3], fit.params, rtol=1e-10)
        np.testing.assert_allclose(bse.iloc[i], fit.bse, rtol=1e-10)
        np.testing.assert_allclose(tv.iloc[i], fit.tvalues, rtol=1e-10)
        np.testing.assert_allclose(pv.iloc[i], fit.pvalues, rtol=1e-8)
        np.testing.assert_allclose(prm["rsquared"].iloc[i], fit.rsquared, rtol=1e-10)
        np.testing.assert_allclose(prm["sigma"].iloc[i], np.sqrt(fit.scale), rtol=1e-10)
        assert prm["n_est"].iloc[i] == fit.nobs


REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


@pytest.mark.skipif(
    not (REAL / "fred_SP500.csv").exists(), reason=f"real data folder absent: {REAL}"
)
def test_params_equal_statsmodels_on_real_data():
    """Brent and WTI around two events, market model on the S&P 500: per pair, alpha,
    beta, their se, R-squared, sigma and n_est equal statsmodels OLS on the same
    estimation days (rtol 1e-10); the returns are rebuilt from the files on the dates
    the engine reports for each residual, and statsmodels' residuals equal the
    engine's (atol 1e-15)."""
    sm = pytest.importorskip("statsmodels.api")
    from oilimpact.eventstudy.result import with_coefficients

    def read(name, col, date_col):
        df = pd.read_csv(REAL / name, parse_dates=[date_col], index_col=date_col)
        return df[col].astype("float64")

    series = {"brent": read("eia_brent_spot_daily.csv", "Price", "Date"),
              "wti": read("eia_wti_spot_daily.csv", "Price", "Date")}  # fmt: skip
    sp = read("fred_SP500.csv", "SP500", "observation_date").rename("sp500")
    res = event_study(pd.DataFrame(series), ["blockade", "fto_announced"], market=sp,
                      exclude_confounders=False)  # fmt: skip
    p = res.panel
    y = np.full(p.est_resid.shape, np.nan)
    x = np.full(p.est_resid.shape, np.nan)
    for i, (_, name) in enumerate(p.ids):
        pair = pd.concat([series[name], sp], axis=1, join="inner").dropna()
        with np.errstate(invalid="ignore"):
            r = np.log(pair / pair.shift(1))
        ok = ~np.isnat(p.est_dates[i])
        days = pd.DatetimeIndex(p.est_dates[i][ok])
        y[i, ok] = r.iloc[:, 0].reindex(days).to_numpy()
        x[i, ok] = r.iloc[:, 1].reindex(days).to_numpy()
    full = with_coefficients(res, y, x)
    prm, bse = full.params, full.bse
    assert len(prm) == 4
    for i in range(p.n_pairs):
        ok = ~np.isnan(p.est_resid[i])
        fit = sm.OLS(y[i, ok], sm.add_constant(x[i, ok])).fit()
        np.testing.assert_allclose(fit.resid, p.est_resid[i, ok], rtol=0, atol=1e-15)
        np.testing.assert_allclose(prm[["alpha", "beta"]].iloc[i], fit.params, rtol=1e-10)
        np.testing.assert_allclose(bse.iloc[i], fit.bse, rtol=1e-10)
        np.testing.assert_allclose(prm["rsquared"].iloc[i], fit.rsquared, rtol=1e-10)
        np.testing.assert_allclose(prm["sigma"].iloc[i], np.sqrt(fit.scale), rtol=1e-10)
        assert prm["n_est"].iloc[i] == fit.nobs
    text = str(full.summary())
    assert "beta" in text and "R2" in text and _long_decimals(full._repr_html_()) == []
    # the numbers of the study are those of the result without coefficients
    pd.testing.assert_frame_equal(full.car, res.car)


def test_car_path_band_equals_window_ci(result):
    path = result.car_path(alpha=0.05)
    row = result.car[result.car["window"] == (0, 10)].iloc[0]
    # path from day -1: the CAR over [-1, +10]; check the se formula on a known window
    p = result.panel
    g = np.ones(p.event_days.size)
    se = np.sqrt(p.sigma2[0] * g @ p.pe_cov[0] @ g)
    np.testing.assert_allclose(path["se"].iloc[-1], se, rtol=1e-12)
    assert np.isfinite(row["se"])


def _two_series(n_assets: int = 2) -> pd.DataFrame:
    idx = pd.bdate_range("2024-06-03", "2025-12-31")
    rng = np.random.default_rng(8)
    m = rng.normal(0, 0.01, len(idx))
    common = rng.normal(0, 0.012, len(idx))
    cols = {"mkt": 100 * np.exp(np.cumsum(m))}
    for j in range(n_assets):
        r = 0.9 * m + common + rng.normal(0, 0.006, len(idx))
        cols[f"s{j}"] = 50 * np.exp(np.cumsum(r))
    return pd.DataFrame(cols, index=idx)


def test_pooled_tests_shown_only_as_the_policy_returns_them():
    ev = {"news": "2025-10-15"}
    res = event_study(_two_series(), ev, market="mkt", catalog={}, event_windows=[(0, 1)])
    assert res.tests.empty  # two pairs on one date: no pooled test by default
    text = res.summary()
    assert "Pooled (cross-sectional) tests:" in text and "pooled tests not run" in text
    assert "cross_sectional_t" not in text and "cross_sectional_t" not in res._repr_html_()
    info = res.to_dict()["pooled"]
    assert info["run"] is False and info["n_pairs"] == 2 and info["notes"]
    json.dumps(res.to_dict())

    forced = event_study(_two_series(), ev, market="mkt", catalog={}, event_windows=[(0, 1)],
                         pooled=True, independence_tests=True)  # fmt: skip
    t = forced.tests
    assert t["assumes_independence"].any() and not t["assumes_independence"].all()
    text = forced.summary()
    flagged = t.loc[t["assumes_independence"], "test"]
    lines = {ln.split()[1]: ln for ln in text.splitlines() if ln.startswith("[+0,+1]")}
    for name in t["test"]:
        assert name in lines
    ref = next(
        ln.split("]", 1)[0].split("- ", 1)[1] + "]" for ln in text.splitlines()
        if ln.strip().startswith("- [") and "assumes independent pairs" in ln
    ).strip()  # fmt: skip
    for name in flagged:
        assert ref in lines[name]
    for name in set(t["test"]) - set(flagged):
        assert ref not in lines[name]
    assert forced.to_dict()["pooled"]["run"] is True
    assert [r["test"] for r in forced.to_dict()["tests"]] == list(t["test"])


def test_single_pair_has_no_pooled_section(result):
    assert result.tests.empty and "Pooled" not in result.summary()
