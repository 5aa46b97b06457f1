"""pandera series schemas: failures collected lazily, soft problems as warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oilimpact.errors import ValidationError
from oilimpact.schemas import series_schema, validate_series
from oilimpact.series import SeriesSpec, default_registry

REG = default_registry()


def _s(values, dates, name="brent"):
    return pd.Series(values, index=pd.to_datetime(dates), name=name)


def test_clean_series_passes_and_is_normalised():
    s = _s([70.0, 71.5, np.nan], ["2025-12-15", "2025-12-16", "2025-12-17"])
    s.index = s.index.as_unit("us")  # pandas 3 parses strings to microseconds
    report = validate_series(s, REG["brent"])
    assert report.series.index.dtype == "datetime64[ns]"
    assert report.series.index.name == "date"
    assert report.series.dtype == "float64"
    assert report.series.isna().sum() == 1  # missing stays missing, never zero
    assert report.warnings == ()


def test_all_failures_collected_in_one_error():
    s = _s([70.0, 71.0, -5.0, 800.0], ["2020-01-02", "2020-01-01", "2020-01-01", "2020-01-03"])
    with pytest.raises(ValidationError) as info:
        validate_series(s, REG["brent"], origin="prices.csv")
    msg = str(info.value)
    assert "prices.csv" in msg and "brent" in msg
    assert "duplicate dates: 2020-01-01" in msg
    assert "dates sorted ascending" in msg
    assert "2020-01-01=-5.0" in msg and "2020-01-03=800.0" in msg
    checks = set(info.value.failures["check"])
    assert {"duplicate dates", "dates sorted ascending"} <= checks
    assert len(checks) == 4


def test_non_numeric_value_named_with_its_date():
    s = _s(["70.1", "abc"], ["2025-12-16", "2025-12-17"])
    with pytest.raises(ValidationError, match=r"numeric values: 2025-12-17=abc"):
        validate_series(s, REG["brent"])


def test_negative_wti_passes_with_warning_but_brent_fails():
    dates = ["2020-04-17", "2020-04-20", "2020-04-21"]
    report = validate_series(_s([18.27, -36.98, 8.91], dates, "wti"), REG["wti"])
    assert any("negative" in w and "2020-04-20=-36.98" in w for w in report.warnings)
    with pytest.raises(ValidationError, match="2020-04-20=-36.98"):
        validate_series(_s([18.27, -36.98, 8.91], dates), REG["brent"])


def test_gap_and_jump_warnings():
    s = _s([60.0, 61.0, 90.0], ["2025-01-02", "2025-02-03", "2025-02-04"])
    report = validate_series(s, REG["brent"])
    text = " ".join(report.warnings)
    assert "gap(s) longer than 7 days" in text
    assert "above 0.25 in log terms" in text and "2025-02-04" in text


def test_all_missing_fails():
    with pytest.raises(ValidationError, match="at least one non-missing value"):
        validate_series(_s([np.nan, np.nan], ["2025-01-02", "2025-01-03"]), REG["brent"])


def test_tz_aware_index_refused():
    s = _s([1.0], ["2025-01-02"]).tz_localize("UTC")
    with pytest.raises(ValidationError, match="tz-naive"):
        validate_series(s, REG["brent"])


def test_volume_cannot_be_negative():
    s = _s([500.0, -1.0], ["2025-11-01", "2025-12-01"], "ve_crude_production")
    with pytest.raises(ValidationError, match="value >= 0"):
        validate_series(s, REG["ve_crude_production"])


def test_schema_has_strict_value_column():
    schema = series_schema(REG["sp500"])
    assert schema.strict and list(schema.columns) == ["value"]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(min_value=1.0, max_value=400.0), st.just(float("nan"))),
        min_size=1,
        max_size=40,
    )
)
def test_any_plausible_sorted_series_validates(values):
    if all(np.isnan(values)):
        values[0] = 50.0
    spec = SeriesSpec(name="x", description="", unit="", frequency="daily", kind="price",
                      plausible_min=1.0, plausible_max=500.0)  # fmt: skip
    s = _s(values, pd.bdate_range("2025-01-01", periods=len(values)), "x")
    out = validate_series(s, spec).series
    np.testing.assert_array_equal(out.to_numpy(), np.asarray(values, dtype=float))
