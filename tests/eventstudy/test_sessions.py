"""Returns that span missing sessions: panel dates, session counts, scaled variance."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import exchange_calendars as xc
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from oilimpact.eventstudy import event_study
from oilimpact.eventstudy.alignment import sessions_spanned
from oilimpact.series import default_registry


def _prices(seed: int = 11) -> pd.DataFrame:
    idx = pd.bdate_range("2024-09-02", "2026-02-27")
    idx = idx[~idx.isin(pd.DatetimeIndex(["2024-11-28", "2024-12-25", "2025-01-01",
                                          "2025-07-04", "2025-11-27", "2025-12-25",
                                          "2026-01-01"]))]  # fmt: skip
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0003, 0.01, len(idx))
    out = {"sp500": 5000 * np.exp(np.cumsum(m))}
    for j, a in enumerate(("brent", "wti")):
        r = 0.0001 + (0.5 + 0.2 * j) * m + rng.normal(0, 0.018, len(idx))
        out[a] = 70 * np.exp(np.cumsum(r))
    return pd.DataFrame(out, index=idx)


def _gap_study(**kw):
    """brent/wti/sp500 on US sessions; brent has no price on 2025-12-18 (day +1 of
    the blockade), so brent's day +1 return (to 2025-12-19) spans 2 sessions."""
    df = _prices()
    df.loc[pd.Timestamp("2025-12-18"), "brent"] = np.nan
    return df, event_study(df, {"blockade": "2025-12-17"}, market="sp500", catalog={}, **kw)


def test_panel_has_est_dates_and_event_sessions():
    df, res = _gap_study()
    p = res.panel
    assert p.est_dates is not None and p.est_dates.shape == p.est_resid.shape
    assert p.est_dates.dtype == np.dtype("datetime64[ns]")
    # NaT exactly where the residual is missing, otherwise a session of the pair
    np.testing.assert_array_equal(np.isnat(p.est_dates), np.isnan(p.est_resid))
    for i in range(p.n_pairs):
        d = p.est_dates[i][~np.isnat(p.est_dates[i])]
        asset = p.ids[i][1]
        sessions = df[[asset, "sp500"]].dropna().index
        assert pd.DatetimeIndex(d).isin(sessions).all()
        assert (np.diff(d.astype("int64")) > 0).all()
        # the last estimation day is the 11th pair session before day 0
        k0 = sessions.get_loc(pd.Timestamp("2025-12-17"))
        assert d[-1] == sessions[k0 - 11].to_datetime64()
    ev = dict(zip(p.ids.get_level_values(1), p.event_sessions, strict=True))
    days = p.event_days.tolist()
    assert ev["brent"][days.index(1)] == 2  # 2025-12-17 -> 2025-12-19 spans 12-18
    assert ev["brent"].sum() == len(days) + 1 and (ev["wti"] == 1).all()


def test_sessions_spanned_counts_calendar_and_own_dates():
    spec = default_registry().spec_or_default("henry_hub")  # XNYS
    s = pd.DatetimeIndex(["2025-12-23", "2025-12-24", "2025-12-26", "2025-12-31",
                          "2026-01-05"])  # fmt: skip
    # 12-25 is a holiday (not counted); 12-29, 12-30 and 01-02 are XNYS sessions missing
    assert sessions_spanned(s, s, spec).tolist() == [1, 1, 1, 3, 2]
    # a value of the series on a non-session (here a Saturday) counts too
    own = s.append(pd.DatetimeIndex(["2026-01-03"])).sort_values()
    assert sessions_spanned(s, own, spec).tolist() == [1, 1, 1, 3, 3]


# ---- the scaled variance against independent computations --------------------------------

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


def _statsmodels_pair(y: pd.Series, m: pd.Series, day0, span: np.ndarray, drop=()):
    """Market model by statsmodels on the pair's common dates; event rows (k, R_m)."""
    pair = pd.concat([y, m], axis=1, join="inner").dropna()
    r = np.log(pair / pair.shift(1))
    k0 = pair.index.get_loc(pd.Timestamp(day0))
    est = r.iloc[[p for p in range(k0 - 250, k0 - 10) if p not in drop]].dropna()
    evt = r.iloc[k0 - 1 : k0 + 11]
    fit = sm.OLS(est.iloc[:, 0].to_numpy(), sm.add_constant(est.iloc[:, 1].to_numpy())).fit()
    xs = np.column_stack([span, evt.iloc[:, 1].to_numpy()])
    ar = evt.iloc[:, 0].to_numpy() - xs @ fit.params
    cov = fit.scale * (np.diag(span) + xs @ fit.normalized_cov_params @ xs.T)
    return ar, cov, evt.index, fit


def test_spanning_return_market_model_equals_statsmodels():
    df, res = _gap_study(exclude_confounders=False)
    row = res.abnormal[res.abnormal["series"] == "brent"]
    span = row["sessions"].to_numpy().astype(float)
    assert span.tolist().count(2.0) == 1
    ar, cov, dates, fit = _statsmodels_pair(df["brent"], df["sp500"], "2025-12-17", span)
    np.testing.assert_allclose(row["ar"].to_numpy(), ar, rtol=1e-10)
    np.testing.assert_allclose(row["se"].to_numpy() ** 2, np.diag(cov), rtol=1e-10)
    days = np.arange(-1, 11)
    car = res.car[res.car["series"] == "brent"]
    for _, c in car.iterrows():
        g = ((days >= c["start"]) & (days <= c["end"])).astype(float)
        np.testing.assert_allclose([c["car"], c["se"]], [g @ ar, np.sqrt(g @ cov @ g)],
                                   rtol=1e-10)  # fmt: skip
        assert c["sessions"] == g @ span


def test_closed_form_window_sums_equal_the_matrix_after_scaling():
    _, res = _gap_study()
    p = res.panel
    assert p.session_weights is not None
    wins = [(0, 0), (0, 1), (-1, 1), (0, 5), (0, 10)]
    unmarked = dataclasses.replace(p)  # not marked: sums the PE matrix
    np.testing.assert_allclose(p.window_pe_sums(wins), unmarked.window_pe_sums(wins),
                               rtol=1e-12)  # fmt: skip


def test_constant_mean_and_sq_statistic_follow_the_sessions():
    df, res = _gap_study(model="constant_mean", exclude_confounders=False)
    p = res.panel
    i = list(p.ids.get_level_values(1)).index("brent")
    j = list(p.event_days).index(1)
    y = np.log(df["brent"].dropna()).diff()
    pair_dates = df[["brent", "sp500"]].dropna().index
    k0 = pair_dates.get_loc(pd.Timestamp("2025-12-17"))
    est = y.reindex(pair_dates).iloc[k0 - 250 : k0 - 10].dropna()
    n, mu = len(est), est.mean()
    s2 = est.var(ddof=1)
    r = np.log(df["brent"]["2025-12-19"] / df["brent"]["2025-12-17"])
    assert p.event_ar[i, j] == pytest.approx(r - 2 * mu, rel=1e-10)
    assert p.sigma2[i] * p.pe_cov[i, j, j] == pytest.approx(s2 * (2 + 4 / n), rel=1e-10)
    # the SQ statistic is the AR over sqrt(2 + 4/n), ranked among (e / sqrt(1 - 1/n))
    ref = ((est - mu) / np.sqrt(1 - 1 / n)).to_numpy()
    x = p.event_ar[i, j] / np.sqrt(2 + 4 / n)
    lo, hi = (1 + (ref <= x).sum()) / (n + 1), (1 + (ref >= x).sum()) / (n + 1)
    got = res.abnormal.query("series == 'brent' and day == 1")["sq_pvalue"].iloc[0]
    assert got == pytest.approx(min(1.0, 2 * min(lo, hi)), rel=1e-12)


def test_no_spanning_return_leaves_the_panel_unchanged():
    df = _prices()
    res = event_study(df, {"blockade": "2025-12-17"}, market="sp500", catalog={})
    assert res.panel.session_weights is None
    assert (res.abnormal["sessions"] == 1).all()
    assert (res.car["sessions"] == res.car["n_days"]).all()


@pytest.mark.skipif(
    not (REAL / "eia_henry_hub_spot_daily.csv").exists() or not (REAL / "fred_SP500.csv").exists(),
    reason=f"real data folder absent: {REAL}",
)
def test_henry_hub_new_year_return_spans_two_sessions():
    """EIA has no Henry Hub price on 2026-01-02: the 2025-12-31 -> 2026-01-05 return."""
    hh = pd.read_csv(REAL / "eia_henry_hub_spot_daily.csv", parse_dates=["Date"],
                     index_col="Date")["Price"].rename("henry_hub")  # fmt: skip
    sp = pd.read_csv(REAL / "fred_SP500.csv", parse_dates=["observation_date"],
                     index_col="observation_date")["SP500"].rename("sp500")  # fmt: skip
    assert pd.Timestamp("2026-01-02") not in hh.index
    res = event_study(hh.to_frame(), ["maduro_captured"], market=sp, exclude_confounders=False)
    ab = res.abnormal
    day0 = ab[ab["day"] == 0].iloc[0]
    assert day0["date"] == pd.Timestamp("2026-01-05") and day0["sessions"] == 2
    assert (ab.loc[ab["day"] != 0, "sessions"] == 1).all()
    # independent: XNYS sessions in (2025-12-31, 2026-01-05] by exchange_calendars
    xnys = xc.get_calendar("XNYS").sessions_in_range("2026-01-01", "2026-01-05")
    span = np.where(ab["day"].to_numpy() == 0, float(len(xnys)), 1.0)
    ar, cov, dates, fit = _statsmodels_pair(hh, sp, "2026-01-05", span)
    assert list(ab["date"]) == list(dates)
    np.testing.assert_allclose(ab["ar"].to_numpy(), ar, rtol=1e-10)
    np.testing.assert_allclose(ab["se"].to_numpy() ** 2, np.diag(cov), rtol=1e-10)
    assert day0["ar"] < -0.3  # the -34.9% return, now tested with a 2-session variance
    # with a one-session variance the t test gave p = 0.00085; with two, about 0.018
    assert 0.005 < day0["pvalue"] < 0.05
