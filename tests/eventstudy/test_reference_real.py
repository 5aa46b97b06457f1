"""Reference: the engine on the real Brent/WTI/S&P 500 files equals statsmodels OLS.

Brent and WTI around ``blockade`` and ``fto_announced``, market model on the S&P 500,
estimation window [-250, -11], event window [-1, +10]. The reference is computed here
independently with plain pandas and ``statsmodels.OLS`` (rtol 1e-10).
"""

from __future__ import annotations

from pathlib import Path

import exchange_calendars as xc
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from oilimpact.events import load_catalog
from oilimpact.eventstudy import event_study
from oilimpact.eventstudy.alignment import align_event
from oilimpact.series import default_registry

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
RTOL = 1e-10
WINDOWS = ((0, 0), (0, 1), (-1, 1), (0, 5), (0, 10))
DAY0 = {"blockade": "2025-12-17", "fto_announced": "2025-11-17"}

pytestmark = pytest.mark.skipif(
    not (REAL / "fred_SP500.csv").exists(), reason=f"real data folder absent: {REAL}"
)


def _read(name: str, col: str, date_col: str, rename: str) -> pd.Series:
    df = pd.read_csv(REAL / name, parse_dates=[date_col], index_col=date_col)
    return df[col].astype("float64").rename(rename)


@pytest.fixture(scope="module")
def data() -> dict[str, pd.Series]:
    return {
        "brent": _read("eia_brent_spot_daily.csv", "Price", "Date", "brent"),
        "wti": _read("eia_wti_spot_daily.csv", "Price", "Date", "wti"),
        "sp500": _read("fred_SP500.csv", "SP500", "observation_date", "sp500"),
    }


def _spanned(asset: pd.Series, pair_index: pd.DatetimeIndex, dates: pd.DatetimeIndex):
    """Sessions of the asset's exchange calendar (or dates with an asset price) in
    (previous pair date, date], by exchange_calendars and plain pandas."""
    code = default_registry().spec_or_default(str(asset.name)).calendar
    cal = xc.get_calendar(code)
    own = asset.dropna().index
    out = []
    for d in dates:
        prev = pair_index[pair_index.get_loc(d) - 1]
        sess = pd.DatetimeIndex(cal.sessions_in_range(prev, d)).tz_localize(None)
        span = sess.union(own[(own >= prev) & (own <= d)])
        out.append(int(((span > prev) & (span <= d)).sum()))
    return np.array(out, dtype=float)


def _reference(asset: pd.Series, market: pd.Series, day0: str, drop: set[int] = frozenset()):
    """Two-step market model by statsmodels on the common-date grid of asset and market.

    An event-window return spanning ``k`` sessions of the asset's calendar has the
    design row ``(k, R_m)`` and variance ``s^2 (k + x*(X'X)^-1 x*')``.
    """
    pair = pd.concat([asset, market], axis=1, join="inner").dropna()
    with np.errstate(invalid="ignore"):  # WTI -36.98 (2020) is far outside the windows
        r = np.log(pair / pair.shift(1))
    k = pair.index.get_loc(pd.Timestamp(day0))
    est_pos = [p for p in range(k - 250, k - 10) if p not in drop]
    est = r.iloc[est_pos].dropna()
    evt = r.iloc[k - 1 : k + 11]
    X = sm.add_constant(est.iloc[:, 1].to_numpy())
    fit = sm.OLS(est.iloc[:, 0].to_numpy(), X).fit()
    span = _spanned(asset, pair.index, evt.index)
    Xs = np.column_stack([span, evt.iloc[:, 1].to_numpy()])
    ar = evt.iloc[:, 0].to_numpy() - fit.predict(Xs)
    cov = fit.scale * (np.diag(span) + Xs @ fit.normalized_cov_params @ Xs.T)
    ar_var = np.diag(cov).copy()
    days = np.arange(-1, 11)
    cars = {}
    for lo, hi in WINDOWS:
        g = ((days >= lo) & (days <= hi)).astype(float)
        car = g @ ar
        se = np.sqrt(g @ cov @ g)
        cars[(lo, hi)] = (car, se, car / se)
    return ar, ar_var, cars, fit, evt.index, span


@pytest.mark.parametrize("series", ["brent", "wti"])
@pytest.mark.parametrize("event", ["blockade", "fto_announced"])
def test_engine_equals_statsmodels(data, series, event):
    res = event_study(
        data[series].to_frame(), [event], market=data["sp500"], exclude_confounders=False
    )
    al = res.alignment.iloc[0]
    assert al["day0"] == pd.Timestamp(DAY0[event])  # engine's alignment = fixed day 0
    ar, ar_var, cars, fit, evt_dates, span = _reference(data[series], data["sp500"], DAY0[event])
    ab = res.abnormal
    np.testing.assert_allclose(ab["ar"].to_numpy(), ar, rtol=RTOL)
    np.testing.assert_allclose(ab["se"].to_numpy() ** 2, ar_var, rtol=RTOL)
    np.testing.assert_allclose(ab["tstat"].to_numpy(), ar / np.sqrt(ar_var), rtol=RTOL)
    assert list(ab["date"]) == list(evt_dates)
    np.testing.assert_array_equal(ab["sessions"].to_numpy(), span)
    assert int(al["n_est"]) == int(fit.nobs) == res.car["n_est"].iloc[0]
    for _, row in res.car.iterrows():
        car, se, t = cars[row["window"]]
        np.testing.assert_allclose([row["car"], row["se"], row["tstat"]], [car, se, t], rtol=RTOL)
        assert row["dof"] == fit.df_resid


def test_engine_with_catalog_exclusion_equals_statsmodels(data):
    """Estimation window minus other catalog events' [-10, +10] bands, by hand."""
    series, event = "brent", "blockade"
    pair = pd.concat([data[series], data["sp500"]], axis=1, join="inner").dropna()
    spec = default_registry().spec_or_default(series)
    drop: set[int] = set()
    for eid, ev in load_catalog().items():
        if eid == event:
            continue
        k = pair.index.get_loc(align_event(ev, pair.index, spec).day0)
        drop |= set(range(k - 10, k + 11))
    res = event_study(data[series].to_frame(), [event], market=data["sp500"])
    ar, _, cars, fit, _, _ = _reference(data[series], data["sp500"], DAY0[event], drop)
    np.testing.assert_allclose(res.abnormal["ar"].to_numpy(), ar, rtol=RTOL)
    k0 = pair.index.get_loc(pd.Timestamp(DAY0[event]))
    expected_dropped = len(drop & set(range(k0 - 250, k0 - 10)))
    assert res.alignment["dropped_est_days"].iloc[0] == expected_dropped > 0
    assert res.alignment["n_est"].iloc[0] == fit.nobs
    for _, row in res.car.iterrows():
        np.testing.assert_allclose([row["car"], row["se"]], cars[row["window"]][:2], rtol=RTOL)


def test_both_series_both_events_in_one_call(data):
    df = pd.concat([data["brent"], data["wti"]], axis=1, sort=True)
    res = event_study(
        df, ["blockade", "fto_announced"], market=data["sp500"], exclude_confounders=False
    )
    assert res.panel.n_pairs == 4
    for (event, series), grp in res.car.groupby(["event", "series"]):
        _, _, cars, _, _, _ = _reference(data[series], data["sp500"], DAY0[event])
        for _, row in grp.iterrows():
            np.testing.assert_allclose(row["car"], cars[row["window"]][0], rtol=RTOL)
