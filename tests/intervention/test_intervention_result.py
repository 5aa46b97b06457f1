"""InterventionResult as statsmodels shows results: Summary, params/bse/pvalues, the
prediction band, units, the figure in the shared style."""

from __future__ import annotations

import importlib.util
import re
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from oilimpact.intervention.analysis import intervention
from oilimpact.summary import Summary


def _monthly(n: int = 96, seed: int = 4, name: str = "ve_crude_production") -> pd.Series:
    idx = pd.date_range("2018-01-01", periods=n, freq="MS", name="date")
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    for t in range(1, n):  # AR(1) errors: HAC matters
        e[t] = 0.4 * e[t - 1] + rng.normal(0, 12)
    y = 800 + 0.5 * np.arange(n) + e - 90 * (idx >= "2025-06-01")
    return pd.Series(y, index=idx, name=name)


@pytest.fixture(scope="module")
def res():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return intervention(_monthly(), {"blockade": "2025-06-10"}, unit="kb/d", placebo=False)


def _long_decimals(text: str) -> list[str]:
    return re.findall(r"\d\.\d{9,}", text)


def test_summary_is_an_object_with_html_tables(res):
    s = res.summary()
    assert isinstance(s, Summary) and str(s) == str(res)
    html = res._repr_html_()
    assert html.count("<table") == len(s.tables) >= 3
    for caption in ("Effects", "Parameters", "Effect forms"):
        assert caption in html
    effects = s.tables[1]
    assert effects["term"].tolist() == res.effects["term"].tolist()
    assert "estimate, kb/d" in effects.columns
    assert _long_decimals(html) == [] and _long_decimals(str(s)) == []
    assert "<pre>" not in html  # tables, not preformatted text


def test_params_bse_pvalues_agree_with_the_effect_table(res):
    mi = res.model_info
    np.testing.assert_allclose(res.params, mi.params, rtol=0)
    np.testing.assert_allclose(res.bse**2, np.diag(mi.cov_params.loc[res.params.index,
                                                                      res.params.index]),
                               rtol=1e-12)  # fmt: skip
    level = res.effects.set_index("term").loc["level"]
    col = "blockade|level"  # the design column of the event's level shift
    np.testing.assert_allclose(res.params[col], level["estimate"], rtol=1e-12)
    np.testing.assert_allclose(res.bse[col], level["se"], rtol=1e-12)
    np.testing.assert_allclose(res.pvalues[col], level["pvalue"], rtol=1e-10)
    t = res.params_table()
    assert list(t.columns) == ["coef", "std err", "t", "P>|t|", "[0.025", "0.975]"]
    q = stats.t.ppf(0.975, mi.df_resid)
    np.testing.assert_allclose(t.loc[col, "[0.025"], level["ci_lower"], rtol=1e-10)
    np.testing.assert_allclose(t["0.975]"], res.params + q * res.bse, rtol=1e-12)


def test_prediction_band_adds_the_residual_variance(res):
    """Half-width^2 = q^2 (se_mean^2 + s^2), s^2 from the residuals by a loop."""
    p = res.path
    mi = res.model_info
    ssr = 0.0
    for a, f in zip(p["actual"], p["fitted"], strict=True):
        if np.isfinite(a) and np.isfinite(f):
            ssr += (a - f) ** 2
    s2 = ssr / (mi.nobs - mi.n_params)
    q = stats.t.ppf(1 - res.spec.alpha / 2, mi.df_resid)
    mean_half = (p["cf_upper"] - p["cf_lower"]).to_numpy() / 2
    band = res.prediction_band()
    half = (band["upper"] - band["lower"]).to_numpy() / 2
    np.testing.assert_allclose(half**2, mean_half**2 + q**2 * s2, rtol=1e-10)
    assert (half > mean_half).all()
    assert len(res.resid) == mi.nobs


def test_units_are_explicit(res):
    frame = res.to_frame()
    assert frame.attrs["units"]["estimate"] == "kb/d"
    assert frame.attrs["units"]["pct_of_pre_mean"] == "percent of the pre-event mean"
    assert list(frame.columns) == list(res.effects.columns)


def test_plot_names_both_bands_and_the_unit(res):
    fig = res.plot()
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert "95% confidence band for the mean of the counterfactual" in legend
    pred = [t for t in fig.data if t.fill == "toself"]
    assert len(pred) == 1 and "prediction band for a single period" in pred[0].name
    assert "residual variance" in pred[0].name
    assert len([t for t in fig.data if t.fill == "tonexty"]) == 1
    assert fig.layout.yaxis.title.text == "Venezuela crude production, kb/d"
    assert fig.layout.xaxis.title.text == "date"
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == 1 and pd.Timestamp(lines[0].x0) == pd.Timestamp("2025-06-10")
    # the prediction polygon is the prediction band, closed
    band = res.prediction_band()
    ok = band["upper"].notna()
    np.testing.assert_allclose(pred[0].y[: ok.sum()], band["upper"][ok])
    assert "band lower" not in " ".join(t.name for t in fig.data)
    bare = res.plot(prediction_band=False)
    assert not any(t.fill == "toself" for t in bare.data)


def test_sarimax_band_is_a_prediction_interval():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = intervention(_monthly(72), {"blockade": "2023-06-10"}, model="sarimax",
                         placebo=False)  # fmt: skip
    fig = r.plot()
    names = [t.name for t in fig.data if t.showlegend is not False]
    assert "95% prediction interval of the counterfactual" in names
    assert not any(t.fill == "toself" for t in fig.data)
    band = r.prediction_band()
    np.testing.assert_array_equal(band["lower"], r.path["cf_lower"])
    assert isinstance(r.summary(), Summary) and _long_decimals(r._repr_html_()) == []
    np.testing.assert_allclose(r.bse**2, np.diag(r.model_info.cov_params), rtol=1e-12)


@pytest.mark.skipif(
    importlib.util.find_spec("kaleido") is None
    or not (shutil.which("chromium") or shutil.which("google-chrome")),
    reason="static export needs kaleido and a Chrome/Chromium",
)
def test_static_export(res, tmp_path):
    out = tmp_path / "cf.png"
    res.plot().write_image(out, width=700, height=380)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
