"""event_study: inputs, windows, errors, confounding and catalog exclusion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oilimpact.errors import ConfigError, EstimationError, OilImpactError
from oilimpact.events import Event, load_catalog
from oilimpact.study import EventStudyResult, StudySpec, event_study
from oilimpact.study.models import fit_panel

US_HOLIDAYS = ["2025-01-01", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26",
               "2025-06-19", "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25",
               "2026-01-01", "2026-01-19", "2026-02-16"]  # fmt: skip


def _sessions(start="2024-09-02", end="2026-02-27") -> pd.DatetimeIndex:
    days = pd.bdate_range(start, end)
    return days[~days.isin(pd.DatetimeIndex(US_HOLIDAYS))]


def _prices(seed=11, sessions=None, assets=("brent", "wti")) -> pd.DataFrame:
    idx = _sessions() if sessions is None else sessions
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0003, 0.01, len(idx))
    out = {"sp500": 5000 * np.exp(np.cumsum(m))}
    for j, a in enumerate(assets):
        r = 0.0001 + (0.5 + 0.2 * j) * m + rng.normal(0, 0.018, len(idx))
        out[a] = 70 * np.exp(np.cumsum(r))
    return pd.DataFrame(out, index=idx)


def test_basic_shapes_and_spec():
    df = _prices()
    res = event_study(df, ["blockade", "fto_announced"], market="sp500")
    assert isinstance(res, EventStudyResult) and isinstance(res.spec, StudySpec)
    assert res.spec.input == "prices" and res.spec.series == ("brent", "wti")
    assert res.spec.market == "sp500" and res.spec.min_estimation == 120
    assert len(res.car) == 2 * 2 * 5 and len(res.abnormal) == 4 * 12
    assert set(res.alignment["day0"].astype(str)) == {"2025-12-17", "2025-11-17"}
    assert not res.tests.empty or res.tests.columns.tolist()[:2] == ["window", "test"]


def test_returns_input_equals_price_input():
    df = _prices()
    rets = np.log(df / df.shift(1)).iloc[1:]
    a = event_study(df, ["blockade"], market="sp500", input="prices")
    b = event_study(rets, ["blockade"], market="sp500")  # auto -> returns
    assert b.spec.input == "returns"
    np.testing.assert_allclose(a.car["car"], b.car["car"], rtol=1e-12)
    np.testing.assert_allclose(a.car["se"], b.car["se"], rtol=1e-12)


def test_series_input_market_series_and_mapping_events():
    df = _prices()
    res = event_study(
        df["wti"], {"late": pd.Timestamp("2025-06-10 20:00", tz="America/New_York"),
                    "dated": "2025-06-14"},
        market=df["sp500"], catalog={},
    )  # fmt: skip
    day0 = dict(zip(res.alignment["event"], res.alignment["day0"].astype(str), strict=True))
    assert day0 == {"late": "2025-06-11", "dated": "2025-06-16"}  # after close; Saturday


def test_event_objects_and_simple_returns():
    df = _prices()
    ev = Event.on_date("my_event", "A title", "political", "2025-10-01")
    res = event_study(df[["brent", "sp500"]], [ev], market="sp500", returns="simple", catalog={})
    assert res.spec.returns == "simple" and res.alignment["title"].iloc[0] == "A title"


def test_engine_ar_equals_fit_panel_on_the_same_arrays():
    df = _prices()
    res = event_study(df, ["blockade"], market="sp500", exclude_confounders=False,
                      event_windows=[(-2, 3)])  # fmt: skip
    r = np.log(df / df.shift(1))
    k = df.index.get_loc(pd.Timestamp("2025-12-17"))
    est = r.iloc[k - 250 : k - 10]
    evt = r.iloc[k - 2 : k + 4]
    p = fit_panel(est[["wti"]].T.to_numpy(), evt[["wti"]].T.to_numpy(),
                  est[["sp500"]].T.to_numpy(), evt[["sp500"]].T.to_numpy(),
                  event_days=np.arange(-2, 4))  # fmt: skip
    got = res.abnormal[res.abnormal["series"] == "wti"]["ar"].to_numpy()
    np.testing.assert_allclose(got, p.event_ar[0], rtol=1e-12)


def test_multifactor_and_other_models_run():
    df = _prices()
    rng = np.random.default_rng(5)
    df["usd"] = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, len(df))))
    mf = event_study(df, ["blockade"], market="sp500", factors=["usd"], model="multifactor")
    assert mf.panel.n_params == 3 and mf.spec.factors == ("usd",)
    assert set(mf.car["series"]) == {"brent", "wti"}
    for model in ("zero_mean", "constant_mean", "market_adjusted"):
        res = event_study(df[["brent", "sp500"]], ["blockade"], market="sp500", model=model)
        assert res.car["car"].notna().all()


def test_too_short_estimation_message():
    df = _prices().loc["2025-06-01":]
    with pytest.raises(EstimationError) as err:
        event_study(
            df,
            ["fto_announced"],
            market="sp500",
            catalog={"fto_announced": load_catalog()["fto_announced"]},
        )
    msg = str(err.value)
    assert "needs 120 trading days before 2025-11-17, got " in msg
    assert "event=fto_announced, series=brent" in msg
    got = int(msg.split("got ")[1].split(" ")[0])
    assert 0 < got < 120


def test_event_outside_data():
    df = _prices()
    with pytest.raises(EstimationError, match="outside the data"):
        event_study(df, {"late": "2027-03-01"}, market="sp500", catalog={})
    with pytest.raises(EstimationError, match="outside the data"):
        event_study(df, {"early": "2020-03-01"}, market="sp500", catalog={})


def test_non_positive_price_with_log_returns_names_date():
    df = _prices()
    df.loc["2025-10-20", "wti"] = -5.0
    with pytest.raises(EstimationError, match=r"'wti'.*2025-10-20"):
        event_study(df, ["blockade"], market="sp500")
    # simple returns are fine, and a non-positive price outside every window is ignored
    event_study(df, ["blockade"], market="sp500", returns="simple")
    event_study(df, {"x": "2026-02-10"}, market="sp500", catalog={}, estimation_window=(-60, -11))


def test_unknown_event_id():
    with pytest.raises(ConfigError, match="unknown event 'no_such_event'"):
        event_study(_prices(), ["no_such_event"], market="sp500")


def test_bad_arguments():
    df = _prices()
    with pytest.raises(EstimationError, match="needs a market"):
        event_study(df, ["blockade"])
    with pytest.raises(EstimationError, match="must end before"):
        event_study(df, ["blockade"], market="sp500", estimation_window=(-250, 0))
    with pytest.raises(EstimationError, match="not a column"):
        event_study(df, ["blockade"], market="spx")
    with pytest.raises(OilImpactError, match="model must be"):
        event_study(df, ["blockade"], market="sp500", model="capm")  # type: ignore[arg-type]


def test_confounded_window_flagged_with_default_catalog():
    res = event_study(_prices(), ["tanker_seizure_2"], market="sp500")
    al = res.alignment[res.alignment["series"] == "brent"].iloc[0]
    assert al["day0"] == pd.Timestamp("2025-12-22")
    assert "maduro_offer" in al["confounded_by"]  # day 0 2026-01-02 = day +7
    car = res.car[res.car["series"] == "brent"].set_index("window")["confounded"]
    assert bool(car[(0, 10)]) and not bool(car[(0, 5)]) and not bool(car[(0, 0)])


def test_estimation_window_excludes_other_events_windows():
    df = _prices()
    sessions = df.index
    res = event_study(df, ["maduro_captured"], market="sp500")
    al = res.alignment.iloc[0]
    assert al["day0"] == pd.Timestamp("2026-01-05")
    k = sessions.get_loc(al["day0"])
    kb = sessions.get_loc(pd.Timestamp("2025-12-17"))  # blockade day 0
    e0 = res.spec.estimation_window[0]
    panel = res.panel
    # blockade window [-1, +10] overlaps the estimation window [-250, -11]
    for pos in range(kb - 1, kb + 11):
        rel = pos - k
        if e0 <= rel <= -11:
            assert np.isnan(panel.est_resid[0, rel - e0])
    assert al["dropped_est_days"] >= 4
    assert al["n_est"] == 240 - al["dropped_est_days"]
    keep = event_study(df, ["maduro_captured"], market="sp500", exclude_confounders=False)
    assert keep.alignment["dropped_est_days"].iloc[0] == 0
    assert keep.alignment["n_est"].iloc[0] == 240


def test_event_window_past_the_end_gives_nan_car():
    df = _prices()
    res = event_study(df, {"x": "2026-02-20"}, market="sp500", catalog={})
    car = res.car[res.car["series"] == "brent"].set_index("window")["car"]
    assert np.isfinite(car[(0, 1)]) and np.isnan(car[(0, 10)])
    assert res.alignment["event_days_observed"].iloc[0] < 12


def test_missing_price_day_spans_synchronously():
    df = _prices()
    df.loc["2025-12-19", "brent"] = np.nan  # brent has no price on a market session
    res = event_study(df, ["blockade"], market="sp500", exclude_confounders=False)
    al = res.alignment.set_index("series")
    assert al.loc["brent", "spanning_returns"] == 1 and al.loc["wti", "spanning_returns"] == 0
    b = res.abnormal[res.abnormal["series"] == "brent"]
    assert pd.Timestamp("2025-12-19") not in set(b["date"])
    assert b["ar"].notna().all()
