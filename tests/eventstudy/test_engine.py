"""event_study: inputs, windows, errors, confounding and catalog exclusion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oilimpact.errors import ConfigError, EstimationError, OilImpactError
from oilimpact.events import Event, load_catalog
from oilimpact.eventstudy import EventStudyResult, StudySpec, event_study
from oilimpact.eventstudy.models import fit_panel

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
    assert {"window", "test", "statistic", "pvalue"} <= set(res.tests.columns)


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
    # simple returns are not refused (though not meaningful across a sign change, see
    # test_non_positive_price_message_gives_sound_advice); a non-positive price outside
    # every window is ignored
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


# ---- returns input: non-session dates are carried, like the prices path (A1) -----------


def _thanksgiving_prices(seed=3) -> pd.DataFrame:
    """Brent trades every weekday; the US market misses 2020-07-03 and Thanksgiving
    2020-11-26 (NaN rows), and its data end a day before Brent's. Brent jumps 10% (log)
    on Thanksgiving."""
    days = pd.bdate_range("2019-09-02", "2021-01-29")
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0003, 0.01, len(days))
    y = 0.6 * m + rng.normal(0, 0.015, len(days))
    y[days.get_loc(pd.Timestamp("2020-11-26"))] += 0.10
    df = pd.DataFrame(
        {"brent": 60 * np.exp(np.cumsum(y)), "sp500": 3000 * np.exp(np.cumsum(m))}, index=days
    )
    df.loc[["2020-07-03", "2020-11-26", "2021-01-29"], "sp500"] = np.nan
    return df


def _own_date_returns(prices: pd.DataFrame, method: str) -> pd.DataFrame:
    """Each series' returns between its own consecutive observations."""
    if method == "log":
        return prices.apply(lambda c: np.log(c.dropna()).diff())
    return prices.apply(lambda c: c.dropna().pct_change())


@pytest.mark.parametrize("method", ["log", "simple"])
@pytest.mark.parametrize("input_kind", ["returns", "auto"])
def test_returns_input_carries_non_session_returns_like_prices(method, input_kind):
    prices = _thanksgiving_prices()
    rets = _own_date_returns(prices, method)
    ev = {"thanksgiving_jump": "2020-11-26"}
    kw = dict(market="sp500", catalog={}, returns=method)
    a = event_study(prices, ev, input="prices", **kw)
    b = event_study(rets, ev, input=input_kind, **kw)
    assert b.spec.input == "returns"
    np.testing.assert_allclose(b.abnormal["ar"], a.abnormal["ar"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(b.car["car"], a.car["car"], rtol=1e-12)
    np.testing.assert_allclose(b.car["se"], a.car["se"], rtol=1e-12)
    np.testing.assert_allclose(b.car["pvalue"], a.car["pvalue"], rtol=1e-9)
    car0 = b.car.set_index("window").loc[[(0, 0)]].iloc[0]
    # the jump is found (day 0 = 11-27); its return spans Thanksgiving (2 sessions of
    # the asset: it has a price that day), so its variance is doubled
    assert car0["car"] > 0.07 and car0["pvalue"] < 1e-3 and car0["sessions"] == 2
    cols = ["day0", "n_est", "spanning_returns", "uncarried_returns"]
    assert b.alignment[cols].to_dict("records") == a.alignment[cols].to_dict("records")
    al = b.alignment.iloc[0]
    assert al["day0"] == pd.Timestamp("2020-11-27")
    # 2020-07-03 (estimation window) and Thanksgiving (event window) are spanned
    assert al["spanning_returns"] == 2
    # Brent's 2021-01-29 value comes after the pair's last session: not usable
    assert al["uncarried_returns"] == 1


def test_returns_input_rows_with_no_value_are_ignored():
    prices = _thanksgiving_prices().dropna()
    rets = np.log(prices / prices.shift(1)).iloc[1:]
    padded = rets.reindex(pd.date_range(rets.index[0], rets.index[-1]))  # weekend NaN rows
    ev = {"x": "2020-11-25"}
    a = event_study(rets, ev, market="sp500", catalog={}, input="returns")
    b = event_study(padded, ev, market="sp500", catalog={}, input="returns")
    for res in (a, b):
        al = res.alignment.iloc[0]
        assert al["spanning_returns"] == 0 and al["uncarried_returns"] == 0
    np.testing.assert_array_equal(a.car["car"], b.car["car"])


# ---- catalog events just before the data start ------------------------------------------


@pytest.mark.parametrize(
    ("date", "covered"),
    [
        ("2024-08-28", 8),  # Wed; sessions Aug 28, 29, 30 before the Monday start -> day -3
        ("2024-09-01", 11),  # Sunday before the start: day 0 is the first session
        ("2024-08-01", 0),  # too early for its window [-1, +10] to reach the data
    ],
)
def test_catalog_event_before_data_start_leaves_estimation_window(date, covered):
    df = _prices()[["brent", "sp500"]]  # sessions start Monday 2024-09-02
    k_main = 200
    main_day = df.index[k_main]
    cat = {"early": Event.on_date("early", "Before the data", "political", date)}
    res = event_study(df, {"main": main_day.date()}, market="sp500", catalog=cat)
    al = res.alignment.iloc[0]
    assert al["day0"] == main_day
    # estimation window [-250, -11] starts before the data: positions 0 .. 189 are in it
    assert al["dropped_est_days"] == covered
    assert al["n_est"] == 190 - max(covered, 1)  # position 0 has no return (prices)
    est = res.panel.est_resid[0]
    first = 250 - k_main  # column of data position 0 in the estimation window
    assert np.isnan(est[first : first + covered]).all()
    assert not np.isnan(est[first + max(covered, 1) :]).any()


def test_non_positive_price_message_gives_sound_advice():
    df = _prices()
    df.loc["2025-10-20", "wti"] = -5.0
    with pytest.raises(EstimationError) as err:
        event_study(df, ["blockade"], market="sp500")
    msg = str(err.value)
    assert "'wti'" in msg and "2025-10-20" in msg
    assert "returns='simple'" not in msg
    assert "avoid that date" in msg and "price changes" in msg
    assert "input='returns'" in msg and "model='constant_mean'" in msg
    assert "not meaningful across a sign change" in msg


def test_price_changes_through_a_negative_price_as_returns_input():
    # the advised route: USD changes (additive), input='returns', constant mean
    df = _prices()[["wti"]]
    df.loc["2025-10-20", "wti"] = -5.0
    changes = df["wti"].diff().iloc[1:]
    res = event_study(
        changes, {"x": "2025-12-17"}, model="constant_mean", input="returns", catalog={}
    )
    assert res.car["car"].notna().all()


def test_returns_input_does_not_carry_into_the_first_session():
    # the asset starts later (a listing): the market's earlier returns are not its business
    prices = _thanksgiving_prices().dropna()
    rets = np.log(prices / prices.shift(1)).iloc[1:]
    late = rets.copy()
    late.loc[:"2019-10-31", "brent"] = np.nan
    ev = {"x": "2020-11-25"}
    kw = dict(market="sp500", catalog={}, input="returns", estimation_window=(-300, -11))
    full = event_study(rets.loc["2019-11-01":], ev, **kw)
    res = event_study(late, ev, **kw)
    np.testing.assert_array_equal(res.panel.est_resid, full.panel.est_resid)
    assert res.alignment["spanning_returns"].iloc[0] == 0


def test_pooled_options_reach_the_cross_sectional_tests(monkeypatch):
    import oilimpact.eventstudy.assemble as assemble
    import oilimpact.eventstudy.crosssection as cs

    seen = {}

    def fake(panel, windows, tests=None, *, pooled="auto", independence_tests=False):
        seen.update(pooled=pooled, independence_tests=independence_tests, n=panel.n_pairs)
        return pd.DataFrame({"window": [], "test": [], "statistic": [], "pvalue": [], "n": []})

    def fake_pieces(pieces, tests=None, *, pooled="auto", independence_tests=False):
        return fake(pieces, None, None, pooled=pooled, independence_tests=independence_tests)

    monkeypatch.setattr(cs, "cross_sectional_tests", fake)  # tests not to run: the plan
    monkeypatch.setattr(assemble, "tests_from_pieces", fake_pieces)  # from the chunks
    res = event_study(_prices(), ["blockade"], market="sp500", pooled=True,
                      independence_tests=True)  # fmt: skip
    assert seen == {"pooled": True, "independence_tests": True, "n": 2}
    assert res.spec.pooled is True and res.spec.independence_tests is True
    assert res.spec.to_dict()["pooled"] is True
    event_study(_prices(), ["blockade"], market="sp500")
    assert seen["pooled"] == "auto" and seen["independence_tests"] is False


def test_adding_a_window_changes_no_other_number():
    """The exclusion band does not depend on the windows asked for."""
    df = _prices()
    one = event_study(df, ["blockade"], market="sp500", event_windows=[(0, 1)])
    many = event_study(df, ["blockade"], market="sp500")
    wide = event_study(df, ["blockade"], market="sp500", event_windows=[(0, 1), (-5, 20)])
    assert one.alignment["dropped_est_days"].gt(0).all()  # the catalog's other events
    for other in (many, wide):
        cols = ["n_est", "dropped_est_days", "est_start", "est_end"]
        pd.testing.assert_frame_equal(one.alignment[cols], other.alignment[cols])
        a = one.car.set_index(["series", "window"])
        b = other.car.set_index(["series", "window"]).loc[a.index]
        for col in ("car", "se", "tstat", "pvalue", "sq_pvalue", "n_est"):
            np.testing.assert_array_equal(a[col].to_numpy(), b[col].to_numpy())
        ar = one.abnormal.query("day == 0").set_index("series")["ar"]
        ar2 = other.abnormal.query("day == 0").set_index("series")["ar"].loc[ar.index]
        np.testing.assert_array_equal(ar.to_numpy(), ar2.to_numpy())
    assert one.spec.exclusion_band == (-10, 10)


def test_exclusion_band_option_drops_those_days():
    df = _prices()[["brent", "sp500"]]
    ev = {"a": "2025-12-17", "b": "2025-11-03"}  # b is day -31 of a (US sessions)
    kw = dict(market="sp500", catalog={}, estimation_window=(-120, -11), min_estimation=50)
    narrow = event_study(df, ev, exclusion_band=(-2, 3), **kw).alignment.set_index("event")
    wide = event_study(df, ev, **kw).alignment.set_index("event")
    assert narrow.loc["a", "dropped_est_days"] == 6 and wide.loc["a", "dropped_est_days"] == 21
    assert (narrow["n_est"] - wide["n_est"]).loc["a"] == 15
    with pytest.raises(EstimationError, match="exclusion_band must contain day 0"):
        event_study(df, ev, exclusion_band=(1, 5), **kw)


def test_short_estimation_window_warns_and_says_so():
    from oilimpact.eventstudy.result import ShortEstimationWarning

    df = _prices()
    with pytest.warns(ShortEstimationWarning, match="from 120 to 10 days"):
        res = event_study(df, ["blockade"], market="sp500", estimation_window=(-30, -11),
                          exclude_confounders=False)  # fmt: skip
    assert res.spec.min_estimation == 10
    assert any("min_estimation=" in n for n in res.notices)
    assert "from 120 to 10 days" in res.summary()
    assert res.to_dict()["notices"] == list(res.notices)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an explicit minimum: no warning
        res = event_study(df, ["blockade"], market="sp500", estimation_window=(-30, -11),
                          min_estimation=15, exclude_confounders=False)  # fmt: skip
    assert res.spec.min_estimation == 15 and res.notices == ()
