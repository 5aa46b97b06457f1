"""The column formatters of the summary give the strings of the per-value formatters.

:mod:`oilimpact.eventstudy._format` formats whole columns at once (integer arithmetic
and lookup tables instead of one ``format`` call per value); the per-value formatters
of :mod:`oilimpact.summary` and :mod:`oilimpact.eventstudy.result` are the reference,
compared string for string on values chosen to break a careless implementation: ties
at every decimal (2.675, 0.125, 1.005), values a hair from a tie, -0.0 and negatives
that round to zero, thousands, powers of ten, tiny and huge magnitudes, NaN and
infinities, and random draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oilimpact.eventstudy import _format
from oilimpact.eventstudy.result import _day, _fmt, window_label
from oilimpact.summary import fmt_num, fmt_p, fmt_pct


def nasty(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    special = [0.0, -0.0, np.nan, np.inf, -np.inf, 0.0005, 0.001, 0.00099999, 0.0015,
               2.675, 1.005, 0.125, 0.375, -0.005, -0.0049, 999.995, 999.9949, 1000.0,
               1e-6, 9.9995, 1e15, 1e16 + 2, -1e-300, 5e-324, 12345.678, 0.5, 1.5, 2.5]  # fmt: skip
    ticks = np.arange(-3000, 3000)
    near = np.array([0.125, 2.675, 1.005, 0.0015])
    return np.concatenate([
        special,
        np.nextafter(near, 0), np.nextafter(near, 1),
        ticks / 1000, ticks / 200, ticks / 8,
        rng.normal(0, 0.02, 3000), rng.standard_t(1, 3000), rng.uniform(0, 1, 3000),
        10.0 ** rng.uniform(-9, 17, 3000) * rng.choice([-1.0, 1.0], 3000),
    ])  # fmt: skip


@pytest.mark.parametrize("decimals", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("commas", [False, True])
def test_fixed_point_is_format(decimals, commas):
    x = nasty(decimals)
    spec = f"{',' if commas else ''}.{decimals}f"
    assert _format.fixed_point(x, decimals, commas) == [format(v, spec) for v in x.tolist()]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=50),
       st.integers(0, 4), st.booleans())  # fmt: skip
def test_fixed_point_property(values, decimals, commas):
    x = np.array(values, dtype="float64")
    spec = f"{',' if commas else ''}.{decimals}f"
    assert _format.fixed_point(x, decimals, commas) == [format(v, spec) for v in x.tolist()]


def test_columns_are_the_per_value_strings():
    s = pd.Series(nasty(7))
    assert _format.pct_strings(s) == [fmt_pct(v) for v in s]
    assert _format.pct_strings(s, 3) == [fmt_pct(v, 3) for v in s]
    assert _format.p_strings(s) == [fmt_p(v) for v in s]
    assert _format.fixed_strings(s, ".2f", _fmt) == [_fmt(v, ".2f") for v in s]
    assert _format.fixed_strings(s, ".3f", _fmt) == [_fmt(v, ".3f") for v in s]
    assert _format.num_strings(s) == [fmt_num(v) for v in s]


def test_other_dtypes_go_through_the_reference():
    obj = pd.Series([0.5, None, "x", 3], dtype=object)
    ints = pd.Series([1, 0, -12345], dtype="int64")
    for col in (obj, ints):
        assert _format.pct_strings(col) == [fmt_pct(v) for v in col]
        assert _format.p_strings(col) == [fmt_p(v) for v in col]
        assert _format.num_strings(col) == [fmt_num(v) for v in col]
        assert _format.fixed_strings(col, ".2f", _fmt) == [_fmt(v, ".2f") for v in col]


def test_days_and_windows():
    d = pd.Series([pd.Timestamp("2024-03-01"), pd.NaT, pd.Timestamp("1999-12-31 13:45")])
    assert _format.day_strings(d, _day) == [_day(v) for v in d] == ["2024-03-01", "-",
                                                                      "1999-12-31"]  # fmt: skip
    tz = d.dt.tz_localize("America/New_York")
    assert _format.day_strings(tz, _day) == [_day(v) for v in tz]
    lo = pd.Series([0, -1, 0, -10, 0])
    hi = pd.Series([0, 1, 10, 10, 0])
    want = [window_label(a, b) for a, b in zip(lo, hi, strict=True)]
    assert _format.window_labels(lo, hi, window_label) == want
    assert _format.window_labels(lo.astype(object), hi.astype(object), window_label) == want
