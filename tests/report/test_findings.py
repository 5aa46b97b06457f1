"""Key findings, q-values and shared day-0 rows of the brief (oilimpact.report.findings)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oilimpact.report.findings import (
    adjust_pvalues,
    key_findings,
    merge_shared_day0,
    price_verdict,
    volume_verdict,
)

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"


def _bh_by_hand(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg by its definition: q_(i) = min_{j >= i} m p_(j) / j, capped at 1."""
    m = p.size
    order = np.argsort(p)
    q_sorted = np.empty(m)
    running = 1.0
    for rank in range(m, 0, -1):  # from the largest p down
        running = min(running, m * p[order[rank - 1]] / rank)
        q_sorted[rank - 1] = running
    out = np.empty(m)
    out[order] = q_sorted
    return out


def _holm_by_hand(p: np.ndarray) -> np.ndarray:
    m = p.size
    order = np.argsort(p)
    out = np.empty(m)
    running = 0.0
    for i, idx in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[idx]))
        out[idx] = running
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_qvalues_match_the_definitions(seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(size=40), rng.uniform(0, 0.01, size=8)])
    np.testing.assert_allclose(adjust_pvalues(p), _bh_by_hand(p), rtol=0, atol=1e-14)
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), _holm_by_hand(p), rtol=0, atol=1e-14)


def test_qvalues_leave_missing_tests_out_of_the_family():
    p = np.array([0.01, np.nan, 0.02, 0.5])
    q = adjust_pvalues(p)
    assert np.isnan(q[1])
    np.testing.assert_allclose(q[[0, 2, 3]], _bh_by_hand(p[[0, 2, 3]]))
    with pytest.raises(ValueError, match="fdr_bh"):
        adjust_pvalues(p, "bonferonni")  # type: ignore[arg-type]


def test_shared_day0_is_listed_once_with_both_events():
    d = pd.DataFrame(
        {
            "event": ["maduro_offer", "maduro_captured", "maduro_captured", "blockade"],
            "series": ["henry_hub", "henry_hub", "brent", "henry_hub"],
            "date": pd.to_datetime(["2026-01-05", "2026-01-05", "2026-01-05", "2025-12-17"]),
            "ar": [-0.35, -0.35, 0.015, 0.02],
        }
    )
    out = merge_shared_day0(d)
    assert len(out) == 3
    hh = out[(out["series"] == "henry_hub") & (out["date"] == "2026-01-05")].iloc[0]
    assert hh["event"] == "maduro_offer + maduro_captured" and hh["events"] == 2
    assert bool(hh["confounded"]) and "maduro_offer" in hh["confounded_with"]
    assert not out.loc[out["series"] == "brent", "confounded"].iloc[0]


def test_shared_day0_keeps_the_car_tables_confounded_flag():
    d = pd.DataFrame(
        {"event": ["a"], "series": ["brent"], "date": pd.to_datetime(["2026-01-05"]), "ar": [0.1]}
    )
    car = pd.DataFrame(
        {"event": ["a", "a"], "series": ["brent"] * 2, "start": [0, 0], "end": [0, 1],
         "confounded": [True, False]}  # fmt: skip
    )
    assert bool(merge_shared_day0(d, car)["confounded"].iloc[0])


def test_price_verdicts_follow_the_numbers():
    base = {"label": "Brent", "estimate": 0.016, "n_tests": 80}
    calm = price_verdict({**base, "pvalue": 0.57, "sq_pvalue": 0.37, "qvalue": 0.9})
    assert "within the range of ordinary days (SQ p 0.370)" in calm and "+1.6%" in calm
    nominal = price_verdict({**base, "pvalue": 0.03, "sq_pvalue": 0.04, "qvalue": 0.41})
    assert "nominally significant" in nominal and "80 tests" in nominal and "q 0.410" in nominal
    strong = price_verdict({**base, "pvalue": 0.0001, "sq_pvalue": 0.004, "qvalue": 0.01})
    assert "larger than ordinary days" in strong and "significant after adjusting" in strong
    t_only = price_verdict({**base, "pvalue": 0.001, "sq_pvalue": 0.2, "qvalue": 0.02})
    assert "SQ test" in t_only and "does not" in t_only
    conf = price_verdict(
        {**base, "pvalue": 0.5, "sq_pvalue": 0.5, "qvalue": 0.9, "confounded": True,
         "confounded_with": "maduro_offer, maduro_captured"}  # fmt: skip
    )
    assert "Confounded: maduro_offer, maduro_captured" in conf
    assert "no day-0 estimate" in price_verdict({"label": "WTI", "estimate": float("nan")})


def test_volume_verdicts_follow_the_numbers():
    row = {"label": "US crude imports", "event": "blockade", "estimate": -182.6, "unit": "kb/d",
           "ci_lower": -330.0, "ci_upper": -35.2}  # fmt: skip
    assert "distinguishable from zero" in volume_verdict(
        {**row, "pvalue": 0.019, "placebo_pvalue": 0.032}
    )
    assert "mixed evidence" in volume_verdict({**row, "pvalue": 0.019, "placebo_pvalue": 0.3})
    assert "not distinguishable" in volume_verdict({**row, "pvalue": 0.4, "placebo_pvalue": 0.5})
    none = volume_verdict({"label": "VE exports", "event": "blockade", "estimate": float("nan")})
    assert "no post-event data yet" in none


def test_key_findings_interval_is_the_t_interval_of_the_day0_row():
    car = pd.DataFrame(
        {
            "event": ["blockade"] * 2,
            "series": ["brent"] * 2,
            "label": ["Brent"] * 2,
            "start": [0, 0],
            "end": [0, 1],
            "car": [0.016, 0.02],
            "se": [0.02, 0.03],
            "dof": [232.0, 232.0],
            "tstat": [0.8, 0.67],
            "pvalue": [0.42, 0.5],
            "sq_pvalue": [0.37, 0.4],
            "qvalue": [0.8, 0.8],
            "n_est": [234, 234],
            "confounded": [False, False],
        }
    )
    f = key_findings(car, pd.DataFrame(), events=["blockade"], series=["brent", "wti"])
    assert len(f) == 1  # wti absent: skipped
    r = f.iloc[0]
    from scipy import stats

    half = stats.t.ppf(0.975, 232) * 0.02
    assert r["ci_lower"] == pytest.approx(0.016 - half, abs=1e-15)
    assert r["ci_upper"] == pytest.approx(0.016 + half, abs=1e-15)
    assert r["n_tests"] == 2 and r["n"] == 234 and r["estimate_shown"] == "+1.60%"


# ---- the brief ---------------------------------------------------------------------------
def test_demo_brief_has_key_findings_in_page_and_json(demo_brief):
    html = demo_brief.html
    assert 'id="findings"' in html and html.index('id="findings"') < html.index('id="headline"')
    payload = json.loads(demo_brief.paths.json.read_text(encoding="utf-8"))
    findings = payload["findings"]
    assert findings and all(f["verdict"] for f in findings)
    assert {"price", "volume"} <= {f["kind"] for f in findings}
    import html as htmllib

    text = htmllib.unescape(html)
    assert all(f["verdict"] in text for f in findings)


def test_brief_car_qvalues_cover_the_whole_family(demo_brief):
    car = demo_brief.data.tables["car"]
    p = car["pvalue"].to_numpy(dtype=float)
    ok = np.isfinite(p)
    assert ok.sum() > 50 and np.isnan(car["qvalue"].to_numpy()[~ok]).all()
    np.testing.assert_allclose(car["qvalue"].to_numpy()[ok], _bh_by_hand(p[ok]), atol=1e-14)


def test_headline_never_shows_a_stale_series_as_flat():
    from oilimpact.events import EventCatalog
    from oilimpact.report import compute_brief

    days = pd.bdate_range("2025-10-01", "2026-01-09")
    prices = pd.DataFrame({"brent": np.linspace(60, 70, days.size)}, index=days)
    prices.loc["2025-12-30":, "brent"] = np.nan  # nothing after 2025-12-29
    data = compute_brief(prices, {}, as_of=dt.date(2026, 1, 9), events=EventCatalog([]))
    row = data.tables["headline"].set_index("series").loc["brent"]
    assert np.isnan(row["change"]) and np.isnan(row["pct_change"])
    assert row["note"].startswith("stale since 2025-12-29")


@pytest.mark.skipif(not REAL.is_dir(), reason="needs ../shared/data/real (the real snapshot)")
def test_real_brief_lists_henry_hub_maduro_day_once(tmp_path):
    from oilimpact.snapshot import main

    assert main([str(REAL), "--as-of", "2026-06-30", "--data-dir", str(tmp_path / "store"),
                 "--out", str(tmp_path / "out")]) == 0  # fmt: skip
    payload = json.loads(next((tmp_path / "out").rglob("results.json")).read_text())
    day0 = pd.DataFrame(payload["tables"]["abnormal0"])
    hh = day0[(day0["series"] == "henry_hub") & (day0["date"] == "2026-01-05")]
    assert len(hh) == 1
    assert hh.iloc[0]["event"] == "maduro_offer + maduro_captured" and hh.iloc[0]["confounded"]
    assert day0["qvalue"].notna().all()
    assert payload["findings"]
    iv = pd.DataFrame(payload["tables"]["interventions"]).set_index("series")
    assert (iv.loc[["us_imports_ve_value"], "kind"] == "value").all()  # money, not barrels
    assert (iv.loc[["ve_crude_production"], "kind"] == "volume").all()
    page = next((tmp_path / "out").rglob("brief.html")).read_text()
    assert "Trade values (million USD)" in page and "these are not volumes" in page


def test_demo_methods_state_the_coverage_of_this_draw(demo_brief):
    import re

    text = " ".join(demo_brief.data.methods)
    m = re.search(r"In this draw (\d+) of (\d+) CAR intervals", text)
    assert m, text
    car = demo_brief.data.tables["car"]
    assert int(m.group(2)) == int(car[["car", "se", "dof"]].notna().all(axis=1).sum())


# ---- minimum detectable effect -----------------------------------------------------------
def test_key_findings_carry_the_mde_of_their_own_pair():
    car = pd.DataFrame({
        "event": ["b", "b"], "series": ["brent", "wti"], "start": [0, 0], "end": [0, 0],
        "car": [0.016, -0.01], "se": [0.02, 0.02], "dof": [196, 196], "tstat": [0.8, -0.5],
        "pvalue": [0.42, 0.6], "sq_pvalue": [0.39, 0.5], "qvalue": [0.9, 0.9],
        "n_est": [198, 198],
    })  # fmt: skip
    mde = pd.DataFrame({"event": ["b", "b"], "series": ["wti", "brent"], "mde": [0.05, 0.06],
                        "sentence": ["wti sentence", "brent sentence"]})  # fmt: skip
    eff = pd.DataFrame({
        "series": ["ve"], "label": ["VE"], "unit": ["kb/d"], "event": ["b"], "term": ["level"],
        "estimate": [-40.0], "ci_lower": [-180.0], "ci_upper": [99.0], "pvalue": [0.5],
        "placebo_pvalue": [0.5],
    })  # fmt: skip
    f = key_findings(car, eff, events=["b"], series=["brent", "wti"], mde=mde)
    price = f[f["kind"] == "price"].set_index("series")
    assert price.loc["brent", "mde"] == 0.06 and price.loc["brent", "mde_sentence"] == "brent sentence"
    assert price.loc["wti", "mde"] == 0.05
    vol = f[f["kind"] == "volume"].iloc[0]
    assert np.isnan(vol["mde"]) and vol["mde_sentence"] == ""
    # without an MDE table the columns are there, empty
    g = key_findings(car, eff, events=["b"], series=["brent"])
    assert {"mde", "mde_sentence"} <= set(g.columns) and g["mde"].isna().all()


def test_demo_brief_mde_is_each_findings_own_simulation(demo_brief):
    """Each price finding's MDE is the power simulation of its own study's pair (seed 0,
    window [0,0]) and sits near the normal-theory value (about 2.8 se)."""
    from oilimpact.eventstudy.power import minimum_detectable_effect

    data = demo_brief.data
    f = data.tables["findings"]
    price = f[f["kind"] == "price"]
    assert len(price) >= 6 and price["mde"].notna().all()
    car0 = data.tables["car"].query("start == 0 and end == 0").set_index(["event", "series"])
    for row in price.itertuples(index=False):
        res = next(r for r in data.studies
                   if ((r.car["event"] == row.event) & (r.car["series"] == row.series)).any())
        own = minimum_detectable_effect(res, window=(0, 0), seed=data.options.mde_seed,
                                        n_sim=data.options.mde_n_sim, event=row.event,
                                        series=row.series).iloc[0]  # fmt: skip
        assert row.mde == own["mde"] and row.mde_sentence == own["sentence"]
        se = float(car0.loc[(row.event, row.series), "se"])
        assert 2.3 < row.mde / se < 3.4, (row.series, row.mde / se)
    assert (f.loc[f["kind"] == "volume", "mde_sentence"] == "").all()


def test_demo_brief_shows_the_mde_in_page_json_and_methods(demo_brief):
    import html as htmllib

    payload = json.loads(demo_brief.paths.json.read_text(encoding="utf-8"))
    price = [r for r in payload["findings"] if r["kind"] == "price"]
    assert price and all(r["mde"] > 0 and "could not have been told from noise" in r["mde_sentence"]
                         for r in price)  # fmt: skip
    text = htmllib.unescape(demo_brief.html)
    first = price[0]["mde_sentence"]
    assert first[0].upper() + first[1:] + "." in text
    assert "MDE (%)" in text
    methods = " ".join(demo_brief.data.methods)
    assert "Minimum detectable effect" in methods and "4,000 studies (seed 0)" in methods
    assert payload["options"]["mde_n_sim"] == 4000 and payload["options"]["mde_seed"] == 0


# ---- the post-event rule of the volume section ----------------------------------------------
def test_brief_fits_a_monthly_series_whose_last_month_contains_the_event(demo_brief):
    """The brief asks intervention.sample.post_event_periods (the library's rule: the month
    containing the event is its first treated period), so a monthly series whose last
    published month holds the blockade (2025-12-16, December) is fitted, with one
    post-event period, and not listed as 'not estimable yet'."""
    from oilimpact.events import load_catalog
    from oilimpact.intervention.sample import post_event_periods
    from oilimpact.report import compute_brief

    months = pd.date_range("2019-01-01", "2025-12-01", freq="MS")
    rng = np.random.default_rng(3)
    ve = pd.Series(800 + rng.normal(0, 20, months.size), months, name="ve_crude_production")
    ve.iloc[-1] -= 200
    cat = load_catalog()
    assert post_event_periods(ve, cat["blockade"]) == 1  # December is treated
    assert post_event_periods(ve, cat["maduro_captured"]) == 0  # January not published
    prices = demo_brief.demo.known_on("2026-01-09").prices
    data = compute_brief(prices, {"ve_crude_production": ve}, as_of=dt.date(2026, 1, 9),
                         events=cat)  # fmt: skip
    res = data.interventions["ve_crude_production"]
    assert [e[0] for e in res.spec.events] == ["blockade"] and res.spec.post_periods == 1
    assert not any("not estimable" in n and "ve_crude_production" in n for n in data.notices)
    # one month earlier the series ends before the event month: no post-event data yet
    data = compute_brief(prices, {"ve_crude_production": ve.iloc[:-1]},
                         as_of=dt.date(2026, 1, 9), events=cat)  # fmt: skip
    assert "ve_crude_production" not in data.interventions
    assert any("not estimable yet" in n and "ve_crude_production" in n for n in data.notices)


def test_methods_describe_the_garch_model_when_the_brief_uses_it():
    """BriefOptions(model="market_garch"): the Methods say GARCH errors fitted by arch, not
    OLS, and the p(t) paragraph the conditional-variance forecast; the market model's text
    is unchanged."""
    from types import SimpleNamespace

    from oilimpact.report.brief import _study_methods

    base = dict(estimation_window=(-250, -11), event_windows=[(0, 0)], min_estimation=120,
                returns="log", input="prices", conventions="textbook",
                exclude_confounders=True, exclusion_band=(-10, 10), market="sp500")  # fmt: skip
    car, al = pd.DataFrame(), pd.DataFrame(columns=["event", "series", "reason"])
    from oilimpact.report import BriefOptions

    garch = " ".join(_study_methods(SimpleNamespace(model="market_garch", **base), car, al,
                                    BriefOptions()))  # fmt: skip
    assert "with GARCH(1,1) errors, fitted per pair by quasi-maximum likelihood" in garch
    assert "estimated by OLS" not in garch and "conditional-variance forecast" in garch
    gjr = " ".join(_study_methods(SimpleNamespace(model="market_gjr", **base), car, al,
                                  BriefOptions()))  # fmt: skip
    assert "GJR-GARCH(1,1,1) errors" in gjr
    ols = " ".join(_study_methods(SimpleNamespace(model="market", **base), car, al,
                                  BriefOptions()))  # fmt: skip
    assert "Event studies: market model (market: S&P 500), estimated by OLS over" in ols
    assert "prediction-error-corrected t test" in ols and "GARCH" not in ols
