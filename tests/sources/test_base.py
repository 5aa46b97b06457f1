"""Shared helpers of the sources: date normalisation, float parsing, the frame shape."""

from __future__ import annotations

import io
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from oilimpact.errors import InputError
from oilimpact.frames import MISSING_MARKERS, parse_float, to_series_frame
from oilimpact.sources import base
from oilimpact.sources.base import as_date, clip_to_range, format_date
from oilimpact.sources.files import read_series_file


@pytest.mark.parametrize(
    "value",
    [
        date(2026, 1, 28),
        datetime(2026, 1, 28, 0, 0),
        datetime(2026, 1, 28, 23, 59),
        pd.Timestamp("2026-01-28"),  # what Store.refresh_start returns
        pd.Timestamp("2026-01-28 09:30", tz="America/New_York"),
        np.datetime64("2026-01-28"),
        "2026-01-28",
        "2026-01-28T00:00:00",
    ],
)
def test_format_date_is_plain_yyyy_mm_dd(value: object) -> None:
    assert format_date(value) == "2026-01-28"  # type: ignore[arg-type]
    assert format_date(value, "weekly") == "2026-01-28"  # type: ignore[arg-type]
    assert format_date(value, "monthly") == "2026-01"  # type: ignore[arg-type]
    assert format_date(value, "annual") == "2026"  # type: ignore[arg-type]
    assert format_date(value, "quarterly") == "2026-Q1"  # type: ignore[arg-type]
    assert as_date(value) == date(2026, 1, 28)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", pd.NaT])
def test_as_date_refuses_non_dates(bad: object) -> None:
    with pytest.raises(InputError, match="start"):
        as_date(bad, "start")  # type: ignore[arg-type]


def test_clip_to_range_accepts_timestamps_and_strings() -> None:
    s = to_series_frame([1, 2, 3], ["2024-01-01", "2024-01-02", "2024-01-03"], "x")
    assert clip_to_range(s, pd.Timestamp("2024-01-02 15:00"), "2024-01-02T23:00").tolist() == [2.0]


def test_dead_helpers_are_gone() -> None:
    assert not hasattr(base, "options_without")
    assert not hasattr(base.HttpRequest, "param")


@pytest.mark.parametrize("marker", sorted(MISSING_MARKERS) + ["NA", " W ", "N/A", None])
def test_parse_float_markers(marker: object) -> None:
    assert np.isnan(parse_float(marker))


@pytest.mark.parametrize(
    "bad", ["1,234", "1 234", "$5", "inf", "-inf", "1e", "abc", True, float("inf")]
)
def test_parse_float_refuses(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_float(bad)


@pytest.mark.parametrize("text", ["1", "-36.98", "+2.5", ".5", "5.", "1e3", "1.5E-2", " 7 "])
def test_parse_float_and_the_file_reader_agree(text: str) -> None:
    got = read_series_file(io.StringIO(f"Date,Price\n2024-01-02,{text}\n"), name="x")
    assert got.series.iloc[0] == parse_float(text) == float(text)


@pytest.mark.parametrize("value", ["2999-01-02", "1500-01-02", pd.Timestamp("2999-01-02")])
def test_to_series_frame_out_of_range_date_is_input_error(value: object) -> None:
    with pytest.raises(InputError) as info:
        to_series_frame([1.0, 2.0], ["2024-01-02", value], "brent")
    message = str(info.value)
    assert "'brent'" in message and str(value)[:10] in message
    assert isinstance(info.value, ValueError)
