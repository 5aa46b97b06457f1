"""The engine's array-wide day 0, windows and spanning counts against a per-pair loop.

The engine aligns each event once per close rule and maps day 0 to every pair with a
count of the pair's sessions (oilimpact.eventstudy.dayzero); the reference below calls
``align_event`` on each pair's own sessions and counts windows by hand, pair by pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oilimpact.events import Event
from oilimpact.eventstudy import event_study
from oilimpact.eventstudy.alignment import align_event, sessions_spanned
from oilimpact.series import default_registry

ASSETS = ("brent", "wti", "henry_hub", "xle", "unlisted")


def _data(seed=5, miss=0.06):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2024-09-02", "2026-02-27")
    n = len(idx)
    m = rng.normal(0, 0.01, n)
    out = {"sp500": 5000 * np.exp(np.cumsum(m))}
    for a in ASSETS:
        out[a] = 70 * np.exp(np.cumsum(0.7 * m + rng.normal(0, 0.015, n)))
    df = pd.DataFrame(out, index=idx)
    holes = rng.random((n, len(ASSETS))) < miss
    holes[idx.get_loc(pd.Timestamp("2025-12-17")), 1] = True  # wti lacks a day 0
    holes[idx.get_loc(pd.Timestamp("2025-12-16")), 0] = True  # brent lacks the event date
    df.loc[:, list(ASSETS)] = df[list(ASSETS)].mask(holes)
    df.iloc[rng.random(n) < 0.01, 0] = np.nan  # a few market holes: not sessions of any pair
    return df


EVENTS = [
    Event("late", "after the NY close", "political",
          pd.Timestamp("2025-12-16 18:00", tz="America/New_York"), True),
    Event("midday", "before every close", "political",
          pd.Timestamp("2025-10-07 11:00", tz="America/New_York"), True),
    Event.on_date("sunday", "a Sunday", "political", "2025-11-16"),
    Event.on_date("plain", "a weekday", "political", "2025-09-03"),
]  # fmt: skip


@pytest.fixture(scope="module")
def study():
    df = _data()
    res = event_study(df, EVENTS, market="sp500", catalog={}, exclude_confounders=True,
                      min_estimation=100)  # fmt: skip
    return df, res


def _pair_sessions(df, asset):
    ok = df[asset].notna() & df["sp500"].notna()
    return df.index[ok.to_numpy()]


def test_day0_and_reason_equal_align_event_on_each_pair(study):
    df, res = study
    reg = default_registry()
    checked = 0
    for row in res.alignment.itertuples():
        ev = next(e for e in EVENTS if e.id == row.event)
        sessions = _pair_sessions(df, row.series)
        al = align_event(ev, sessions, reg.spec_or_default(row.series))
        assert pd.Timestamp(row.day0) == al.day0, (row.event, row.series)
        assert row.reason == al.reason, (row.event, row.series)
        checked += 1
    assert checked == len(EVENTS) * len(ASSETS)


def test_estimation_sample_equals_a_count_on_each_pair(study):
    df, res = study
    e0, e1 = res.spec.estimation_window
    lo, hi = res.spec.exclusion_band
    for row in res.alignment.itertuples():
        sessions = _pair_sessions(df, row.series)
        k = sessions.get_loc(pd.Timestamp(row.day0))
        others = [sessions.get_loc(pd.Timestamp(d))
                  for d in res.alignment.loc[(res.alignment["series"] == row.series)
                                             & (res.alignment["event"] != row.event), "day0"]]  # fmt: skip
        window = [p for p in range(k + e0, k + e1 + 1) if 0 <= p < len(sessions)]
        kept = [p for p in window if not any(o + lo <= p <= o + hi for o in others)]
        # a pair's first session has no return (prices), so it is not an estimation day
        expected = sum(1 for p in kept if p > 0)
        assert row.n_est == expected, (row.event, row.series)
        assert row.dropped_est_days == len(window) - len(kept)


def test_event_sessions_equal_sessions_spanned_on_each_pair(study):
    df, res = study
    reg = default_registry()
    ab = res.abnormal
    for (_event, series), rows in ab.groupby(["event", "series"], sort=False):
        sessions = _pair_sessions(df, series)
        own = df.index[df[series].notna().to_numpy()]
        spanned = sessions_spanned(sessions, own, reg.spec_or_default(series))
        dates = pd.DatetimeIndex(rows["date"])
        inside = ~dates.isna()
        expected = np.zeros(len(rows), dtype=np.int64)
        expected[inside] = spanned[sessions.get_indexer(dates[inside])]
        np.testing.assert_array_equal(rows["sessions"].to_numpy(), expected)


def test_price_returns_span_the_pairs_own_gaps(study):
    df, res = study
    day = pd.Timestamp("2025-12-17")
    wti = res.abnormal.query("event == 'late' and series == 'wti'")
    first = wti.loc[wti["day"] == 0].iloc[0]
    assert first["date"] == pd.Timestamp("2025-12-18") and first["sessions"] == 2
    # the return of day 0 runs from the pair's previous session, over the missing day
    sessions = _pair_sessions(df, "wti")
    prev = sessions[sessions.get_loc(pd.Timestamp(first["date"])) - 1]
    assert prev < day
