"""EventStudyResult: frozen value, tables, text/HTML (escaped), conf_int, JSON, plot."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from oilimpact.events import Event
from oilimpact.study import event_study

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
    assert names == ["90% band upper", "90% band lower", "CAR"]
    path = result.car_path(alpha=0.1)
    np.testing.assert_allclose(fig.data[2].y, path["car"])
    np.testing.assert_allclose(np.cumsum(result.panel.event_ar[0]), path["car"])
    # the band at the last day is the CAR confidence interval of the whole union window
    lo, hi = int(result.panel.event_days[0]), int(result.panel.event_days[-1])
    assert np.all(np.asarray(fig.data[0].y) >= np.asarray(fig.data[1].y))
    assert lo == -1 and hi == 10
    assert "&lt;script&gt;" not in (fig.layout.title.text or "")  # titles use the id
    with pytest.raises(KeyError):
        result.plot(event="nope")


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
    lines = {ln.split()[1]: ln for ln in text.splitlines() if ln.startswith("[0,+1]")}
    for name in t["test"]:
        assert name in lines
    ref = next(
        ln.split("]", 1)[0] + "]" for ln in text.splitlines()
        if ln.strip().startswith("[") and "assumes independent pairs" in ln
    ).strip()  # fmt: skip
    for name in flagged:
        assert ref in lines[name]
    for name in set(t["test"]) - set(flagged):
        assert ref not in lines[name]
    assert forced.to_dict()["pooled"]["run"] is True
    assert [r["test"] for r in forced.to_dict()["tests"]] == list(t["test"])


def test_single_pair_has_no_pooled_section(result):
    assert result.tests.empty and "Pooled" not in result.summary()
