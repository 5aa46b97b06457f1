"""The post-event rule: post_event_periods, and intervention refusing exactly when it is 0."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from oilimpact.errors import EstimationError
from oilimpact.intervention import intervention
from oilimpact.intervention.sample import post_event_periods
from oilimpact.series import period_end


def _direct(series: pd.Series, date: str, start: str, freq: str) -> int:
    """Count by hand: observed periods whose span ends on/after the date (containing) or
    starts after it (next)."""
    day = pd.Timestamp(date)
    n = 0
    for label, value in series.items():
        if freq == "monthly":
            first, last = label, label + pd.offsets.MonthEnd(0)
        else:  # week ending on the label
            first, last = label - pd.Timedelta(days=6), label
        treated = last >= day if start == "containing" else first > day
        n += bool(treated and np.isfinite(value))
    return n


def _monthly(n=30, missing=()):
    idx = pd.date_range("2024-01-01", periods=n, freq="MS", name="date")
    y = np.linspace(100, 130, n)
    y[list(missing)] = np.nan
    return pd.Series(y, index=idx, name="s")


def _weekly(n=60, missing=()):
    idx = pd.date_range("2025-01-03", periods=n, freq="7D", name="date")  # Fridays
    y = np.linspace(10, 20, n)
    y[list(missing)] = np.nan
    return pd.Series(y, index=idx, name="w")


DATES = ["2023-06-15", "2024-01-01", "2025-03-31", "2025-04-01", "2025-12-16", "2026-05-31",
         "2026-06-01", "2026-07-02"]  # fmt: skip


@pytest.mark.parametrize("start", ["containing", "next"])
def test_monthly_count_matches_a_direct_count(start):
    s = _monthly(missing=(3, 27, 28))
    for d in DATES:
        assert post_event_periods(s, d, start=start) == _direct(s, d, start, "monthly"), d


@pytest.mark.parametrize("start", ["containing", "next"])
def test_weekly_count_matches_a_direct_count(start):
    s = _weekly(missing=(0, 58))
    days = pd.date_range("2024-12-20", "2026-03-10", freq="5D")
    for d in days:
        got = post_event_periods(s, d, start=start)
        assert got == _direct(s, str(d.date()), start, "weekly"), d


def test_partial_month_counts_with_containing_only():
    s = _monthly(24)  # 2024-01 .. 2025-12
    assert post_event_periods(s, "2025-12-16") == 1
    assert post_event_periods(s, "2025-12-16", start="next") == 0
    assert post_event_periods(s, "2026-01-03") == 0
    s.iloc[-1] = np.nan  # December not published yet
    assert post_event_periods(s, "2025-12-16") == 0


def test_events_as_objects_mappings_pairs_and_aware_times():
    s = _monthly(36)  # 2024-01 .. 2026-12
    ev = SimpleNamespace(
        id="blockade", timestamp=pd.Timestamp("2025-12-16 20:00", tz="America/New_York")
    )
    a = post_event_periods(s, ev)  # an Event-like object, 2025-12
    assert a == post_event_periods(s, {"x": "2025-12-10"}) == 13
    assert a == post_event_periods(s, [("x", "2025-12-10")])
    late = pd.Timestamp("2026-01-01 02:00", tz="UTC")  # still 2025-12-31 in New York
    assert post_event_periods(s, late) == 13


def test_bad_arguments_are_refused():
    s = _monthly()
    with pytest.raises(EstimationError, match="one event"):
        post_event_periods(s, ["2025-01-01", "2025-02-01"])
    with pytest.raises(EstimationError, match="start must be"):
        post_event_periods(s, "2025-01-01", start="after")


@pytest.mark.parametrize("start", ["containing", "next"])
def test_intervention_refuses_exactly_when_the_rule_says_zero(start):
    rng = np.random.default_rng(1)
    idx = pd.date_range("2019-01-01", "2026-03-01", freq="MS", name="date")
    base = pd.Series(500 + rng.normal(0, 5, len(idx)), index=idx, name="s")
    for n_missing in range(0, 5):  # publish 2026-03, then hide the last months one by one
        s = base.copy()
        if n_missing:
            s.iloc[-n_missing:] = np.nan
        n_post = post_event_periods(s, "2025-12-16", start=start)
        if n_post:
            res = intervention(s, {"e": "2025-12-16"}, start=start, placebo=False)
            assert int(res.path["actual"].iloc[res.spec.pre_periods :].notna().sum()) == n_post
        else:
            with pytest.raises(EstimationError, match="needed at least one observed period"):
                intervention(s, {"e": "2025-12-16"}, start=start, placebo=False)


def test_containing_rule_equals_the_period_end_comparison():
    """With start='containing' the rule is: the event is on or before the end of the last
    observed period (what the command line checks with series.period_end)."""
    rng = np.random.default_rng(2)
    for s, freq in ((_monthly(missing=(29,)), "monthly"), (_weekly(missing=(59,)), "weekly")):
        last_end = period_end(s.dropna().index[-1:], freq)[0]
        for day in pd.date_range(s.index[0], s.index[-1] + pd.Timedelta(days=60), freq="D"):
            if rng.random() > 0.1:
                continue
            has = post_event_periods(s, day) >= 1
            assert has == (day <= last_end), day
