"""Effect forms (level, pulse, decay, compare) and joint events of the intervention analysis.

Every number is checked against a computation done here another way: statsmodels OLS
on a design built in the test, a brute-force loop over the decay rate, a refit of the
placebo sample by the public function.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from oilimpact.errors import EstimationError
from oilimpact.intervention.analysis import CloseEventsWarning, PlaceboWarning, intervention

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
IMPORTS = REAL / "eia_us_imports_from_venezuela_monthly.csv"
EVENT = "2025-12-16"


def _series(effect: np.ndarray | None = None, seed: int = 3, n: int = 96) -> pd.Series:
    """Monthly 2018-05 .. with iid N(0, 10^2) noise, trend, and ``effect`` from 2025-12."""
    idx = pd.date_range("2018-05-01", periods=n, freq="MS", name="date")
    rng = np.random.default_rng(seed)
    y = 900 + 0.3 * np.arange(n) + rng.normal(0, 10, n)
    if effect is not None:
        t0 = int(np.flatnonzero(idx == pd.Timestamp("2025-12-01"))[0])
        y[t0 : t0 + len(effect)] += effect[: n - t0]
    return pd.Series(y, index=idx, name="x")


def _base_design(s: pd.Series) -> tuple[pd.DataFrame, int]:
    """Const, trend, 11 month dummies over the default sample (60 months before 2025-12)."""
    t0 = int(np.flatnonzero(s.index == pd.Timestamp("2025-12-01"))[0])
    sample = s.iloc[t0 - 60 :]
    t = np.arange(len(sample), dtype=float)
    cols = {"const": np.ones(len(sample)), "trend": t}
    for m in range(2, 13):
        cols[f"m{m}"] = (sample.index.month == m).astype(float)
    return pd.DataFrame(cols, index=sample.index), 60


def _event_column(n: int, t0: int, form: str, rate: float = 0.0) -> np.ndarray:
    t = np.arange(n, dtype=float)
    if form == "level":
        return (t >= t0).astype(float)
    if form == "slope":
        return np.where(t >= t0, t - t0, 0.0)
    if form == "pulse":
        return (t == t0).astype(float)
    return np.where(t >= t0, rate ** np.maximum(t - t0, 0), 0.0)


DECAY = -200.0 * 0.6 ** np.arange(12)


def test_form_table_equals_statsmodels_likelihoods():
    s = _series(DECAY)
    res = intervention(s, {"ev": EVENT}, placebo=False)
    forms = res.forms.set_index("form")
    X0, t0 = _base_design(s)
    y = s.loc[X0.index].to_numpy()
    n = len(y)
    rate = float(forms.loc["decay", "rate"])
    designs = {
        "level": ["level"],
        "level+slope": ["level", "slope"],
        "pulse": ["pulse"],
        "decay": ["decay"],
    }
    for form, terms in designs.items():
        X = X0.copy()
        for term in terms:
            X[term] = _event_column(n, t0, term, rate)
        ref = sm.OLS(y, X.to_numpy()).fit()
        extra = 1 + (form == "decay")  # the variance (+ the profiled rate) as parameters
        assert forms.loc[form, "loglik"] == pytest.approx(ref.llf, rel=1e-10), form
        assert forms.loc[form, "n_params"] == X.shape[1] + extra
        assert forms.loc[form, "aic"] == pytest.approx(ref.aic + 2 * extra, rel=1e-10)
        assert forms.loc[form, "bic"] == pytest.approx(ref.bic + extra * math.log(n), rel=1e-10)
    assert forms["delta"].min() == 0.0 and forms.loc["decay", "best"]
    assert res.best_form == "decay"
    assert forms.loc["pulse", "delta"] > 10 and forms.loc["level", "delta"] > 10


def test_decay_rate_is_the_least_squares_rate():
    s = _series(DECAY)
    res = intervention(s, {"ev": EVENT}, form="decay", placebo=False)
    rate = res.model_info.decay_rate
    X0, t0 = _base_design(s)
    y = s.loc[X0.index].to_numpy()

    def ssr(r: float) -> float:
        X = np.column_stack([X0.to_numpy(), _event_column(len(y), t0, "decay", r)])
        return float(sm.OLS(y, X).fit().ssr)

    grid = np.linspace(0.0, 0.999, 1999)  # brute force, step 0.0005
    vals = np.array([ssr(r) for r in grid])
    assert abs(rate - grid[np.argmin(vals)]) < 1e-3
    assert ssr(rate) <= vals.min() + 1e-9 * vals.min()
    # the reported impact is the OLS coefficient at the profiled rate
    X = np.column_stack([X0.to_numpy(), _event_column(len(y), t0, "decay", rate)])
    ref = sm.OLS(y, X).fit()
    row = res.effects.set_index("term").loc["decay"]
    assert row.estimate == pytest.approx(ref.params[-1], rel=1e-8)
    assert row.ci_lower < -200 < row.ci_upper and abs(rate - 0.6) < 0.1
    assert res.model_info.form == "decay" and res.spec.form == "decay"
    avg = res.effects.set_index("event").loc["all"]
    np.testing.assert_allclose(avg.estimate, ref.params[-1] * X[t0:, -1].mean(), rtol=1e-8)


def test_compare_reports_the_best_form_and_level_series_keep_level():
    dec = intervention(_series(DECAY), {"ev": EVENT}, form="compare", placebo=False)
    assert dec.spec.form == "compare" and dec.model_info.form == "decay"
    assert set(dec.effects["term"]) == {"decay", "average"}
    lvl = intervention(_series(np.full(12, -200.0)), {"ev": EVENT}, form="compare", placebo=False)
    forms = lvl.forms.set_index("form")
    assert forms.loc["pulse", "delta"] > 10
    assert lvl.model_info.form in {"level", "decay"}
    assert "Effect forms (same sample" in lvl.summary() and "best by BIC" in lvl.summary()


def test_pulse_form_equals_ols_and_statsmodels_hac():
    s = _series(np.array([-150.0]))
    res = intervention(s, {"ev": EVENT}, form="pulse", cov="hac", placebo=False)
    X0, t0 = _base_design(s)
    y = s.loc[X0.index].to_numpy()
    X = np.column_stack([X0.to_numpy(), _event_column(len(y), t0, "pulse")])
    lags = math.floor(4 * (len(y) / 100) ** (2 / 9))
    ref = sm.OLS(y, X).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True
    )
    row = res.effects.set_index("term").loc["pulse"]
    assert row.estimate == pytest.approx(ref.params[-1], rel=1e-8)
    assert row.se == pytest.approx(ref.bse[-1], rel=1e-8)
    assert row.ci_lower < -150 < row.ci_upper


def test_sarimax_pulse_form_equals_ols_with_white_noise_errors():
    s = _series(np.array([-150.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = intervention(
            s, {"ev": EVENT}, model="sarimax", form="pulse", max_order=(0, 0, 0), placebo=False
        )
    X0, t0 = _base_design(s)
    y = s.loc[X0.index].to_numpy()
    X = np.column_stack([X0.to_numpy(), _event_column(len(y), t0, "pulse")])
    ref = sm.OLS(y, X).fit()  # Gaussian ML of a regression with iid errors = OLS
    row = res.effects.set_index("term").loc["pulse"]
    assert row.estimate == pytest.approx(ref.params[-1], rel=1e-4)
    assert res.forms is None and res.model_info.form == "pulse"


def test_decay_placebo_reprofiles_the_rate():
    s = _series(DECAY)
    with pytest.warns(PlaceboWarning, match="only 3 placebo dates"):
        res = intervention(s, {"ev": EVENT}, form="decay", max_placebos=3)
    plac = res.placebo[res.placebo["term"] == "decay"].reset_index(drop=True)
    assert len(plac) == 3
    # the first placebo refit, done again by the public function on its own sample
    tau = plac.loc[0, "pseudo_date"]
    pos = int(np.flatnonzero(s.index == tau)[0])
    post = res.spec.post_periods
    window = s.iloc[max(pos - 60, 0) : pos + post]
    again = intervention(
        window,
        {"ev": tau},
        form="decay",
        pre_periods="all",
        seasonal=res.spec.seasonal,
        placebo=False,
    )
    want = again.effects.set_index("term").loc["decay"]
    assert plac.loc[0, "estimate"] == pytest.approx(want.estimate, rel=1e-6)
    assert plac.loc[0, "stat"] == pytest.approx(want.estimate / want.se, rel=1e-6)


def test_form_errors_name_the_conflict():
    s = _series()
    with pytest.raises(EstimationError, match="form='decay' needs model='segmented'"):
        intervention(s, {"ev": EVENT}, model="sarimax", form="decay")
    with pytest.raises(EstimationError, match="slope=True needs form='level'"):
        intervention(s, {"ev": EVENT}, form="pulse", slope=True)
    with pytest.raises(EstimationError, match="form must be one of"):
        intervention(s, {"ev": EVENT}, form="ramp")  # type: ignore[arg-type]


# -- joint events on the real US crude imports from Venezuela ---------------------------------
def _imports() -> pd.Series:
    raw = pd.read_csv(IMPORTS)
    raw = raw[raw["eia_series_id"] == "MCRIMUSVE2"]
    idx = pd.DatetimeIndex(pd.to_datetime(raw["month"] + "-01"), name="date")
    return pd.Series(raw["value"].to_numpy(float), index=idx, name="us_crude_imports_ve")


@pytest.mark.skipif(not IMPORTS.exists(), reason=f"real file not found: {IMPORTS}")
def test_blockade_and_capture_jointly_on_us_crude_imports():
    s = _imports()  # months without a row (2019-06 .. 2022-12) are missing, not zero
    with pytest.warns(CloseEventsWarning, match="adjacent monthly periods 2025-12 and 2026-01"):
        res = intervention(s, {"blockade": "2025-12-16", "maduro_captured": "2026-01-03"})
    mi = res.model_info
    assert {"blockade|level", "maduro_captured|level"} <= set(mi.columns)
    assert any("adjacent" in w and "blockade" in w for w in res.warnings)
    kinds = dict(zip(res.warnings, res.warning_classes, strict=True))
    assert [k for w, k in kinds.items() if "adjacent" in w] == ["CloseEventsWarning"]
    # default sample: 60 calendar months before 2025-12, of which only 2023-01 on observed
    assert res.spec.sample_start == pd.Timestamp("2020-12-01")
    sample = s.loc["2020-12-01":]
    assert mi.nobs == len(sample) and res.path["actual"].isna().sum() == 25
    # independent OLS: const, trend counted in calendar months, two level shifts
    grid = pd.date_range("2020-12-01", sample.index[-1], freq="MS")
    t = np.arange(len(grid), dtype=float)
    pos = grid.get_indexer(sample.index)
    X = np.column_stack(
        [np.ones(len(grid)), t, (grid >= "2025-12-01").astype(float), (grid >= "2026-01-01")]
    )[pos]
    ref = sm.OLS(sample.to_numpy(), X.astype(float)).fit()
    eff = res.effects.set_index(["event", "term"])
    assert eff.loc[("blockade", "level"), "estimate"] == pytest.approx(ref.params[2], rel=1e-8)
    assert eff.loc[("maduro_captured", "level"), "estimate"] == pytest.approx(
        ref.params[3], rel=1e-8
    )
    # finite, sensible intervals: floored df at worst, on the scale of the series
    q = stats.t.ppf(0.975, mi.df_resid)
    for key in (("blockade", "level"), ("maduro_captured", "level"), ("all", "average")):
        row = eff.loc[key]
        assert np.isfinite([row.ci_lower, row.ci_upper]).all()
        assert row.ci_upper - row.ci_lower < 2000
        assert row.ci_upper - row.estimate == pytest.approx(q * row.se, rel=1e-10)
        assert 0 < row.placebo_pvalue <= 1 and row.n_placebo > 20
    assert mi.df_resid == 2.0 and mi.df_satterthwaite < 2.0  # residual AR(1) near 0.9
    assert any("raised to the floor 2" in w for w in res.warnings)
    assert res.forms is not None and res.best_form in set(res.forms["form"])


def test_temporary_forms_list_events_in_time_order():
    s = _series(np.array([-150.0, -40.0]))
    res = intervention(
        s, {"blockade": EVENT, "maduro_captured": "2026-01-03"}, form="pulse", placebo=False
    )
    assert list(res.effects["event"]) == ["blockade", "maduro_captured", "all"]
    X0, t0 = _base_design(s)
    y = s.loc[X0.index].to_numpy()
    X = np.column_stack(
        [X0.to_numpy(), _event_column(len(y), t0, "pulse"), _event_column(len(y), t0 + 1, "pulse")]
    )
    ref = sm.OLS(y, X).fit()
    np.testing.assert_allclose(res.effects["estimate"].iloc[:2], ref.params[-2:], rtol=1e-8)
