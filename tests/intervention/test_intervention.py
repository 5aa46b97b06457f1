"""Tests of oilimpact.intervention.analysis: real data, bad inputs, warnings, result methods."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, stats
from scipy.linalg import toeplitz

from oilimpact.errors import EstimationError
from oilimpact.intervention.analysis import (
    CloseEventsWarning,
    InterventionResult,
    InterventionWarning,
    PlaceboWarning,
    intervention,
    newey_west_lags,
)
from oilimpact.intervention.inference import (
    expected_r1 as _expected_r1,
)
from oilimpact.intervention.inference import (
    fast_ols as _fast_ols,
)
from oilimpact.intervention.inference import (
    prewhitened_cov as _prewhitened_cov,
)
from oilimpact.intervention.inference import (
    r1_moments as _r1_moments,
)

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
PROD = REAL / "eia_venezuela_liquids_production_monthly.csv"
IMTS = REAL / "imf_imts_us_trade_with_venezuela_monthly.csv"
needs_real = pytest.mark.skipif(
    not (PROD.exists() and IMTS.exists()),
    reason=f"real monthly files not found under {REAL} (only present in the project checkout)",
)


def monthly(
    n: int = 100,
    start: str = "2018-01-01",
    seed: int = 0,
    shift: float = -100.0,
    at: str = "2025-12-01",
    name: str = "ve_crude_production",
) -> pd.Series:
    idx = pd.date_range(start, periods=n, freq="MS", name="date")
    rng = np.random.default_rng(seed)
    y = 900 + rng.normal(0, 10, n) + shift * (idx >= at)
    return pd.Series(y, index=idx, name=name)


# -- real data ------------------------------------------------------------------------
def _production() -> pd.Series:
    raw = pd.read_csv(PROD)
    raw = raw[raw["eia_product_id"] == 57]
    idx = pd.DatetimeIndex(pd.to_datetime(raw["month"] + "-01"), name="date")
    return pd.Series(raw["value"].to_numpy(float), index=idx, name="ve_crude_production")


def _imports_value() -> pd.Series:
    raw = pd.read_csv(IMTS)
    raw = raw[raw["imf_key"] == "USA.MG_CIF_USD.VEN.M"]
    idx = pd.DatetimeIndex(pd.to_datetime(raw["month"] + "-01"), name="date")
    return pd.Series(raw["value"].to_numpy(float), index=idx, name="us_imports_ve_value")


def _reference_prewhitened(
    X: np.ndarray, u: np.ndarray, lags: int | None = None
) -> tuple[np.ndarray, float, int, float]:
    """The default covariance ("hac-prewhiten") computed another way.

    Explicit n x n matrices for the bias-corrected AR(1) coefficient (root of
    tr(MJMR)/tr(MR) = r1 by bisection), recolouring by numerical integration of the
    spectral density f_v(w) / |1 - rho e^{-iw}|^2 on a fine grid (not the closed-form
    autocovariance sum of the package), explicit (X'X)^-1 X' Omega X (X'X)^-1.
    Returns (cov, df, lags, rho).
    """
    n, k = X.shape
    M = np.eye(n) - X @ np.linalg.solve(X.T @ X, X.T)
    J = np.eye(n, k=1)
    h = np.arange(n)

    def expected(r: float) -> float:
        R = toeplitz(r**h)
        return np.trace(M @ J @ M @ R) / np.trace(M @ R)

    r1 = (u[1:] @ u[:-1]) / (u @ u)
    if expected(0.97) <= r1:  # the root lies beyond the bound: rho is the bound
        rho = 0.97
    else:
        rho = optimize.brentq(lambda r: expected(r) - r1, -0.97, 0.97, xtol=1e-14)
    v = u[1:] - rho * u[:-1]
    m = n - 1
    if lags is None:
        rv = (v[1:] @ v[:-1]) / (v[:-1] @ v[:-1])
        alpha = 4 * rv**2 / ((1 - rv) ** 2 * (1 + rv) ** 2)
        lags = math.floor(1.1447 * (alpha * m) ** (1 / 3))
    grid = 2 * np.pi * np.arange(2**14) / 2**14
    f_v = np.zeros_like(grid)
    for lag in range(-lags, lags + 1):
        g = (v[abs(lag) :] @ v[: m - abs(lag)]) / m
        f_v += (1 - abs(lag) / (lags + 1)) * g * np.cos(grid * lag)
    f_u = f_v / np.abs(1 - rho * np.exp(-1j * grid)) ** 2
    gamma = np.array([np.mean(f_u * np.cos(grid * j)) for j in h])
    omega = toeplitz(gamma)
    omega *= (u @ u) / np.trace(M @ omega)
    H = np.linalg.inv(X.T @ X)
    df = 1 / (1 / (n - k) + 2 * (1 + rho) / ((1 - rho) * (n - 1)))
    return H @ X.T @ omega @ X @ H, df, lags, rho


def _direct_design(s: pd.Series, event_month: str, seasonal: bool) -> pd.DataFrame:
    """The segmented design built independently of the package."""
    t = np.arange(len(s), dtype=float)
    t0 = int(np.flatnonzero(s.index == pd.Timestamp(event_month))[0])
    cols = {"const": np.ones(len(s)), "trend": t}
    if seasonal:
        for m in range(2, 13):
            cols[f"m{m}"] = (s.index.month == m).astype(float)
    cols["level"] = (t >= t0).astype(float)
    cols["slope"] = np.where(t >= t0, t - t0, 0.0)
    return pd.DataFrame(cols, index=s.index)


@needs_real
@pytest.mark.parametrize("loader,unit", [(_production, "kb/d"), (_imports_value, "million USD")])
def test_real_blockade_matches_direct_statsmodels_fit(loader, unit):
    s = loader().loc["2019-01-01":]
    res = intervention(s, {"blockade": "2025-12-16"}, pre_periods=60, slope=True, max_placebos=None)
    assert isinstance(res, InterventionResult)
    assert res.spec.unit == unit and res.spec.frequency == "monthly"
    assert res.spec.seasonal == "dummies" and res.spec.events[0][2] == pd.Timestamp("2025-12-01")
    eff = res.effects.set_index("term")
    assert set(eff.index) == {"level", "slope", "average"}
    assert list(res.path.columns) == [
        "date",
        "actual",
        "fitted",
        "counterfactual",
        "cf_lower",
        "cf_upper",
    ]
    # independent fit of the same design: 60 months before 2025-12 to the end
    sample = s.loc["2020-12-01":]
    X = _direct_design(sample, "2025-12-01", seasonal=True)
    ref = sm.OLS(sample.to_numpy(), X.to_numpy()).fit()
    np.testing.assert_allclose(eff.loc["level", "estimate"], ref.params[-2], rtol=1e-8)
    np.testing.assert_allclose(eff.loc["slope", "estimate"], ref.params[-1], rtol=1e-8)
    # default standard errors: prewhitened HAC computed independently (see helper)
    V, df, lags, rho = _reference_prewhitened(X.to_numpy(), ref.resid)
    assert res.spec.cov == "hac-prewhiten" and res.model_info.cov_type == "hac-prewhiten"
    assert res.model_info.hac_lags == lags and "Andrews (1991)" in res.model_info.hac_rule
    np.testing.assert_allclose(res.model_info.prewhiten_rho, rho, rtol=1e-8)
    np.testing.assert_allclose(res.model_info.df_satterthwaite, df, rtol=1e-8)
    df = max(df, 2.0)  # the default floor of the Satterthwaite df
    np.testing.assert_allclose(res.model_info.df_resid, df, rtol=1e-8)
    se = np.sqrt(np.diag(V))
    np.testing.assert_allclose(eff.loc["level", "se"], se[-2], rtol=1e-7)
    np.testing.assert_allclose(eff.loc["slope", "se"], se[-1], rtol=1e-7)
    p_ref = 2 * stats.t.sf(abs(ref.params[-2] / se[-2]), df)
    np.testing.assert_allclose(eff.loc["level", "pvalue"], p_ref, rtol=1e-6)
    # plain Newey-West (cov="hac") equals statsmodels' HAC fit, SEs, p-values and band
    nw = intervention(
        s, {"blockade": "2025-12-16"}, pre_periods=60, slope=True, cov="hac", placebo=False
    )
    nw_lags = math.floor(4 * (len(sample) / 100) ** (2 / 9))
    assert nw.model_info.hac_lags == nw_lags and "Newey-West (1994)" in nw.model_info.hac_rule
    ref_nw = sm.OLS(sample.to_numpy(), X.to_numpy()).fit(
        cov_type="HAC", cov_kwds={"maxlags": nw_lags, "use_correction": True}, use_t=True
    )
    eff_nw = nw.effects.set_index("term")
    np.testing.assert_allclose(eff_nw.loc["level", "se"], ref_nw.bse[-2], rtol=1e-8)
    np.testing.assert_allclose(eff_nw.loc["level", "pvalue"], ref_nw.pvalues[-2], rtol=1e-8)
    np.testing.assert_allclose(eff_nw.loc["level", "estimate"], ref.params[-2], rtol=1e-8)
    Xcf0 = X.copy()
    Xcf0[["level", "slope"]] = 0.0
    band = ref_nw.get_prediction(Xcf0.to_numpy()).summary_frame(alpha=0.05)
    np.testing.assert_allclose(nw.path["cf_lower"], band["mean_ci_lower"], rtol=1e-8)
    pre_mean = sample.loc[:"2025-11-01"].mean()
    np.testing.assert_allclose(
        eff.loc["level", "pct_of_pre_mean"], 100 * ref.params[-2] / pre_mean, rtol=1e-8
    )
    # counterfactual: design with event terms zeroed
    Xcf = X.copy()
    Xcf[["level", "slope"]] = 0.0
    np.testing.assert_allclose(res.path["counterfactual"], Xcf.to_numpy() @ ref.params, rtol=1e-8)
    assert eff.loc["level", "n_placebo"] > 0
    assert 0 < eff.loc["level", "placebo_pvalue"] <= 1


@needs_real
def test_real_production_three_events_jointly():
    s = _production().loc["2019-01-01":]
    with pytest.warns(CloseEventsWarning):
        res = intervention(
            s,
            {
                "fto_announced": "2025-11-16",
                "fto_effective": "2025-11-24",
                "blockade": "2025-12-16",
                "maduro_captured": "2026-01-03",
            },
            pre_periods=60,
        )
    assert [e[0] for e in res.spec.events] == [
        "fto_announced+fto_effective",
        "blockade",
        "maduro_captured",
    ]
    assert any("same monthly period" in w for w in res.warnings)
    assert any("adjacent" in w for w in res.warnings)
    assert "all" in set(res.effects["event"])


# -- reference pieces -----------------------------------------------------------------
def test_newey_west_rule():
    assert [newey_west_lags(n) for n in (24, 60, 100, 300)] == [2, 3, 4, 5]


def test_prewhitened_cov_matches_independent_computation():
    rng = np.random.default_rng(11)
    n = 90
    t = np.arange(n, dtype=float)
    X = np.column_stack([np.ones(n), t, (t >= 78).astype(float), np.where(t >= 78, t - 78, 0)])
    e = rng.normal(size=n)
    u = np.empty(n)
    u[0] = e[0]
    for i in range(1, n):
        u[i] = 0.6 * u[i - 1] + e[i]
    resid = u - X @ np.linalg.lstsq(X, u, rcond=None)[0]
    for lags in (None, 3):
        est = _prewhitened_cov(X, resid, lags)
        V, df, ref_lags, rho = _reference_prewhitened(X, resid, lags)
        assert est.lags == ref_lags
        np.testing.assert_allclose(est.rho, rho, rtol=1e-9)
        np.testing.assert_allclose(est.cov, V, rtol=1e-8)
        np.testing.assert_allclose(est.df, df, rtol=1e-10)
    # expected lag-one residual autocorrelation at rho = 0: tr(MJ) / (n - k)
    Q = np.linalg.qr(X)[0]
    M = np.eye(n) - Q @ Q.T
    np.testing.assert_allclose(
        _expected_r1(0.0, _r1_moments(Q)), np.trace(M @ np.eye(n, k=1)) / (n - 4), rtol=1e-10
    )


def test_cov_options_and_lag_rule_reported():
    s = monthly()
    res = intervention(s, {"blockade": "2025-12-16"}, placebo=False)
    mi = res.model_info
    assert mi.cov_type == "hac-prewhiten" and mi.prewhiten_rho is not None
    assert mi.df_resid < mi.nobs - mi.n_params  # Satterthwaite df below T - k
    text = res.summary()
    assert "AR(1)-prewhitened" in text and f"lags={mi.hac_lags}" in text
    assert "Andrews (1991) AR(1) plug-in" in text
    d = json.loads(json.dumps(res.to_dict()))
    assert d["model_info"]["cov_type"] == "hac-prewhiten" and d["spec"]["cov"] == "hac-prewhiten"
    # point estimates do not depend on the covariance choice
    nw = intervention(s, {"blockade": "2025-12-16"}, placebo=False, cov="hac", hac_lags=2)
    np.testing.assert_allclose(nw.effects["estimate"], res.effects["estimate"], rtol=1e-10)
    assert nw.model_info.hac_lags == 2 and nw.model_info.hac_rule == "set by hac_lags"
    assert nw.model_info.df_resid == nw.model_info.nobs - nw.model_info.n_params
    assert "Newey-West, Bartlett lags=2 (set by hac_lags)" in nw.summary()
    fixed = intervention(s, {"blockade": "2025-12-16"}, placebo=False, hac_lags=3)
    assert fixed.model_info.hac_lags == 3
    with pytest.raises(
        EstimationError, match="cov must be one of 'hac-prewhiten', 'hac', got 'nw'"
    ):
        intervention(s, {"blockade": "2025-12-16"}, cov="nw")  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match="hac_lags must be a non-negative integer"):
        intervention(s, {"blockade": "2025-12-16"}, hac_lags=-1)
    sar = intervention(
        s.iloc[40:], {"b": "2025-12-16"}, model="sarimax", max_order=(0, 0, 0), placebo=False
    )
    assert sar.spec.cov is None and sar.model_info.cov_type is None


def test_fast_hac_equals_statsmodels():
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(80), np.arange(80.0), (np.arange(80) >= 60).astype(float)])
    y = X @ [1.0, 0.1, -2.0] + rng.normal(size=80).cumsum() * 0.3
    beta, cov = _fast_ols(y, X, 3)
    ref = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": 3, "use_correction": True})
    np.testing.assert_allclose(beta, ref.params, rtol=1e-10)
    np.testing.assert_allclose(cov, ref.cov_params(), rtol=1e-10)


def test_missing_values_are_dropped_not_zero():
    s = monthly(n=100)
    s.iloc[[5, 40, 97]] = np.nan
    res = intervention(s, {"blockade": "2025-12-16"}, pre_periods="all", placebo=False)
    assert res.model_info.nobs == len(s) - 3
    assert res.path["actual"].isna().sum() == 3
    assert res.path["fitted"].notna().all()


def test_weekly_with_gaps():
    idx = pd.date_range("2022-01-07", "2026-03-27", freq="W-FRI", name="date")
    rng = np.random.default_rng(1)
    y = pd.Series(
        200 + rng.normal(0, 20, len(idx)) - 80 * (idx >= "2025-12-19"),
        index=idx,
        name="us_imports_ve_weekly",
    )
    y = y.drop(y.index[[3, 50, 100]])  # absent weeks
    res = intervention(y, {"blockade": "2025-12-16"}, pre_periods="all")
    assert res.spec.frequency == "weekly" and res.spec.unit == "kb/d"
    # week ending 2025-12-19 contains 2025-12-16
    assert res.spec.events[0][2] == pd.Timestamp("2025-12-19")
    assert res.spec.seasonal == "fourier"
    lvl = res.effects.query("term == 'level'").iloc[0]
    assert lvl.ci_lower < -80 < lvl.ci_upper


def test_start_next_moves_the_first_treated_period():
    res = intervention(monthly(), {"blockade": "2025-12-16"}, start="next", placebo=False)
    assert res.spec.events[0][2] == pd.Timestamp("2026-01-01")


def test_event_objects_and_catalog_ids_duck_typed(monkeypatch):
    class Ev:
        def __init__(self, id, ts):
            self.id, self.timestamp = id, pd.Timestamp(ts)

    ev = Ev("blockade", "2025-12-17 01:30:00+00:00")  # evening of 12-16 in New York
    res = intervention(monthly(), ev, placebo=False)
    assert res.spec.events[0][:2] == ("blockade", pd.Timestamp("2025-12-16"))

    import sys
    import types

    fake = types.ModuleType("oilimpact.events")
    fake.load_catalog = lambda path=None: {"blockade": ev}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "oilimpact.events", fake)
    res2 = intervention(monthly(), ["blockade"], placebo=False)
    assert res2.spec.events == res.spec.events
    with pytest.raises(EstimationError, match="unknown event id 'nope'"):
        intervention(monthly(), "nope", placebo=False)


# -- bad inputs -------------------------------------------------------------------------
def test_too_short_before_event():
    s = monthly(n=20, start="2024-06-01")
    with pytest.raises(
        EstimationError,
        match=r"needs at least 24 observed monthly periods "
        r"before 2025-12 \(event=blockade.*got 18",
    ):
        intervention(s, {"blockade": "2025-12-16"})


def test_event_outside_data():
    with pytest.raises(
        EstimationError,
        match=r"event late on 2027-02-01 falls outside the data"
        r".*2018-01 \.\. 2026-04",
    ):
        intervention(monthly(), {"late": "2027-02-01"})


def test_all_missing_after_event():
    s = monthly()
    s.loc["2025-12-01":] = np.nan
    with pytest.raises(
        EstimationError,
        match=r"all values .* missing from 2025-12.*needed at "
        r"least one observed period after the event, got 0",
    ):
        intervention(s, {"blockade": "2025-12-16"})


def test_unknown_frequency():
    idx = pd.date_range("2025-01-01", periods=200, freq="D", name="date")
    s = pd.Series(np.ones(200), index=idx, name="brent")
    with pytest.raises(
        EstimationError, match="cannot infer the frequency of brent.*median spacing of 1 days"
    ):
        intervention(s, {"x": "2025-06-01"})


def test_same_period_events_refused_when_asked():
    with pytest.raises(EstimationError, match="same monthly period 2025-11"):
        intervention(monthly(), {"a": "2025-11-16", "b": "2025-11-24"}, close_events="raise")


# -- warnings ---------------------------------------------------------------------------
def test_adjacent_events_warn_and_are_recorded():
    with pytest.warns(CloseEventsWarning, match="adjacent monthly periods 2025-12 and 2026-01"):
        res = intervention(
            monthly(),
            {"blockade": "2025-12-16", "maduro_captured": "2026-01-03"},
            slope=True,
            placebo=False,
        )
    assert any("adjacent" in w for w in res.warnings)
    # the blockade's one-period segment cannot carry a slope
    assert "blockade|slope" in res.model_info.dropped
    assert set(res.effects["event"]) == {"blockade", "maduro_captured", "all"}


def test_placebo_warning_when_too_few_dates():
    with pytest.warns(PlaceboWarning, match="smallest attainable placebo p-value"):
        res = intervention(
            monthly(n=40, start="2022-09-01"), {"blockade": "2025-12-16"}, max_placebos=5
        )
    assert (res.effects["n_placebo"] == 5).all()
    assert res.effects["placebo_pvalue"].min() >= 1 / 6


# -- SARIMAX -----------------------------------------------------------------------------
def test_sarimax_order_within_bounds_and_effect_recovered():
    s = monthly(n=60, start="2021-05-01", shift=-100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlaceboWarning)
        res = intervention(
            s,
            {"blockade": "2025-12-16"},
            model="sarimax",
            slope=False,
            seasonal="none",
            max_order=(1, 1, 1),
            placebo=False,
        )
    p, d, q = res.model_info.order
    assert 0 <= p <= 1 and 0 <= d <= 1 and 0 <= q <= 1
    cand = res.model_info.candidates
    assert len(cand) == 8 and cand["chosen"].sum() == 1
    best = cand.loc[cand["chosen"]].iloc[0]
    assert best["aic"] == pytest.approx(cand.loc[cand["converged"], "aic"].min())
    lvl = res.effects.query("term == 'level'").iloc[0]
    assert lvl.ci_lower < -100 < lvl.ci_upper
    assert res.path["counterfactual"].iloc[-1] > res.path["actual"].iloc[-1]
    with pytest.raises(EstimationError, match="max_order bounds"):
        intervention(s, {"b": "2025-12-16"}, model="sarimax", max_order=(3, 1, 1))


# -- result methods ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def result() -> InterventionResult:
    s = monthly(name="<script>alert(1)</script>")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return intervention(s, {"<b>blockade</b>": "2025-12-16"}, unit="kb/d")


def test_result_is_frozen_and_tidy(result):
    with pytest.raises(AttributeError):
        result.spec = None  # type: ignore[misc]
    frame = result.to_frame()
    assert list(frame.columns) == [
        "event",
        "term",
        "estimate",
        "se",
        "stat",
        "pvalue",
        "ci_lower",
        "ci_upper",
        "pct_of_pre_mean",
        "pct_ci_lower",
        "pct_ci_upper",
        "placebo_pvalue",
        "n_placebo",
    ]
    frame.loc[0, "estimate"] = 0.0
    assert result.effects.loc[0, "estimate"] != 0.0


def test_conf_int_matches_effects_at_alpha(result):
    ci = result.conf_int(0.05)
    np.testing.assert_allclose(ci["ci_lower"], result.effects["ci_lower"], rtol=1e-12)
    wide = result.conf_int(0.01)
    assert (wide["ci_upper"] - wide["ci_lower"] > ci["ci_upper"] - ci["ci_lower"]).all()


def test_summary_and_html_escape(result):
    text = result.summary()
    assert "Intervention analysis" in text and "level" in text and str(result) == text
    html = result._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>blockade" not in html


def test_to_dict_is_json(result):
    d = json.loads(json.dumps(result.to_dict()))
    assert d["spec"]["events"][0]["first_treated_period"] == "2025-12-01"
    assert d["effects"][0]["term"] == "level"


def test_plot_has_band_and_event_lines(result):
    fig = result.plot()
    names = [t.name for t in fig.data]
    assert "counterfactual" in names and "actual" in names
    band = [t for t in fig.data if t.fill == "tonexty"]
    assert len(band) == 1
    lines = [sh for sh in fig.layout.shapes if sh.type == "line"]
    assert len(lines) == len(result.spec.events)
    assert pd.Timestamp(lines[0].x0) == pd.Timestamp("2025-12-16")


# -- the default specification ------------------------------------------------------------
def test_default_spec_is_the_one_default():
    from oilimpact.intervention.analysis import DEFAULT_OPTIONS

    s = monthly(n=100)
    res = intervention(s, {"blockade": "2025-12-16"}, placebo=False)
    sp = res.spec
    assert (sp.model, sp.form, sp.start, sp.slope, sp.step, sp.pulse) == (
        "segmented",
        "level",
        "containing",
        False,
        True,
        False,
    )
    assert sp.pre_periods == DEFAULT_OPTIONS.pre_periods_for("monthly") == 60
    assert sp.pre_rule == "default 60 monthly periods" and sp.sample_start == s.index[95 - 60]
    assert sp.cov == "hac-prewhiten" and sp.df_floor == 2.0 and sp.form_ic == "bic"
    # same numbers as the explicit spelling of the defaults
    explicit = intervention(
        s,
        {"blockade": "2025-12-16"},
        pre_periods=60,
        slope=False,
        start="containing",
        placebo=False,
    )
    pd.testing.assert_frame_equal(res.effects, explicit.effects)
    text = res.summary()
    assert "Spec: segmented OLS, form=level, start=containing, pre 60 monthly periods" in text
    d = json.loads(json.dumps(res.to_dict()))
    assert d["spec"]["pre_rule"] == "default 60 monthly periods" and d["spec"]["form"] == "level"
    assert d["spec"]["df_floor"] == 2.0 and d["best_form"] in {"level", "level+slope", "decay"}
    assert DEFAULT_OPTIONS.to_dict()["pre_periods"] == {"monthly": 60, "weekly": 156}
    # fewer periods than the default: clipped to what is available, and said so
    short = intervention(monthly(n=40, start="2022-09-01"), {"b": "2025-12-16"}, placebo=False)
    assert short.spec.pre_periods == 39
    assert short.spec.pre_rule == "default 60 monthly periods, clipped to the 39 available"
    every = intervention(s, {"blockade": "2025-12-16"}, pre_periods="all", placebo=False)
    assert every.spec.pre_periods == 95 and every.spec.pre_rule == "all history"
    with pytest.raises(EstimationError, match="pre_periods must be an int, 'default', 'all'"):
        intervention(s, {"blockade": "2025-12-16"}, pre_periods="five")  # type: ignore[arg-type]


def test_default_weekly_pre_period_is_156_weeks():
    idx = pd.date_range("2020-01-03", "2026-03-27", freq="W-FRI", name="date")
    y = pd.Series(np.random.default_rng(5).normal(100, 5, len(idx)), index=idx, name="w")
    res = intervention(y, {"blockade": "2025-12-16"}, placebo=False)
    assert res.spec.pre_periods == 156 and res.spec.seasonal == "fourier"
    first = int(np.flatnonzero(idx == pd.Timestamp("2025-12-19"))[0])
    assert res.spec.sample_start == idx[first - 156]


# -- inference that cannot collapse --------------------------------------------------------
def _short_persistent() -> pd.Series:
    """31 months, AR(1) 0.67 errors (seed 0): the short persistent series of issue 17."""
    idx = pd.date_range("2023-07-01", periods=31, freq="MS", name="date")
    rng = np.random.default_rng(0)
    e = rng.normal(0, 10, 31)
    u = np.zeros(31)
    for t in range(31):
        u[t] = (0.67 * u[t - 1] if t else 0.0) + e[t]
    return pd.Series(800 + u, index=idx, name="x")


def test_df_floor_keeps_a_short_persistent_series_finite():
    s = _short_persistent()
    kw = dict(slope=True, min_pre_periods=24, placebo=False, unit="")
    # without the floor: the collapse reported in issue 17 (df 0.23, interval +-1e6)
    with pytest.warns(InterventionWarning):
        raw = intervention(s, {"ev": "2025-12-16"}, df_floor=0, **kw)
    assert raw.model_info.prewhiten_rho == pytest.approx(0.97)
    assert raw.model_info.df_resid == pytest.approx(0.2265, abs=5e-4)
    lvl_raw = raw.effects.iloc[0]
    assert lvl_raw.ci_upper - lvl_raw.ci_lower > 1e6
    # default: df floored at 2, a finite interval of +-t(0.975, 2) standard errors, a warning
    with pytest.warns(InterventionWarning, match="raised to the floor 2"):
        res = intervention(s, {"ev": "2025-12-16"}, **kw)
    mi = res.model_info
    assert mi.df_resid == 2.0 and mi.df_satterthwaite == pytest.approx(raw.model_info.df_resid)
    lvl = res.effects.iloc[0]
    assert lvl.se == pytest.approx(lvl_raw.se, rel=1e-12)  # the floor changes only the df
    half = stats.t.ppf(0.975, 2) * lvl.se
    np.testing.assert_allclose(
        [lvl.ci_lower, lvl.ci_upper], [lvl.estimate - half, lvl.estimate + half], rtol=1e-12
    )
    assert half < 500  # finite and on the scale of the series (sd of u about 13)
    assert lvl.pvalue == pytest.approx(2 * stats.t.sf(abs(lvl.estimate / lvl.se), 2), rel=1e-12)
    assert any("close to a random walk" in w for w in res.warnings)
    assert "floored from 0.23" in res.summary()


@needs_real
def test_df_floor_on_venezuela_2017_sanctions():
    s = _production()
    with pytest.warns(InterventionWarning, match="Satterthwaite degrees of freedom 1.24"):
        res = intervention(s, {"sanctions": "2017-08-25"}, pre_periods=60, slope=True)
    mi = res.model_info
    # the bias-corrected AR(1) reaches its bound; raw Satterthwaite df 1.24 (issue 17)
    assert mi.prewhiten_rho == pytest.approx(0.97) and mi.df_satterthwaite == pytest.approx(
        1.238, abs=1e-3
    )
    assert mi.df_resid == 2.0
    # independent covariance on a design built here (2012-08 .. 2026-04, month dummies)
    sample = s.loc["2012-08-01":]
    X = _direct_design(sample, "2017-08-01", seasonal=True)
    ref = sm.OLS(sample.to_numpy(), X.to_numpy()).fit()
    V, df, _, rho = _reference_prewhitened(X.to_numpy(), ref.resid)
    assert df == pytest.approx(mi.df_satterthwaite, rel=1e-8) and rho == pytest.approx(0.97)
    lvl = res.effects.set_index("term").loc["level"]
    se = math.sqrt(V[-2, -2])
    assert lvl.estimate == pytest.approx(ref.params[-2], rel=1e-8)
    assert lvl.se == pytest.approx(se, rel=1e-7)
    q = stats.t.ppf(0.975, 2.0)
    np.testing.assert_allclose(
        [lvl.ci_lower, lvl.ci_upper], [ref.params[-2] - q * se, ref.params[-2] + q * se], rtol=1e-7
    )
    # issue 17 quoted [-5050, +3013] kb/d for the unfloored interval
    with pytest.warns(InterventionWarning, match="reached its bound 0.97"):
        raw = intervention(
            s, {"sanctions": "2017-08-25"}, pre_periods=60, slope=True, df_floor=0, placebo=False
        )
    r = raw.effects.set_index("term").loc["level"]
    assert round(r.ci_lower) == -5050 and round(r.ci_upper) == 3013
    assert -3200 < lvl.ci_lower < -3100 and 1050 < lvl.ci_upper < 1150
