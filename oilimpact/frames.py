"""The one shape every layer exchanges: a float Series on a tz-naive daily DatetimeIndex.

See ``docs/architecture.md``. :func:`to_series_frame` normalises parser output to it.
:func:`parse_float` reads one provider or file value with the single list of missing
markers, :data:`MISSING_MARKERS`, shared by every source and the file reader.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = [
    "INDEX_NAME",
    "MAX_DATE",
    "MIN_DATE",
    "MISSING_MARKERS",
    "parse_float",
    "to_series_frame",
]

INDEX_NAME = "date"
#: First and last whole days a ``datetime64[ns]`` index can hold (1677-09-22, 2262-04-11).
MIN_DATE = pd.Timestamp.min.date() + pd.Timedelta(days=1).to_pytimedelta()
MAX_DATE = pd.Timestamp.max.date()

#: Texts read as a missing observation (compared case-insensitively after stripping):
#: empty, ``.`` (FRED), ``NA``/``N/A``/``#N/A``, ``-``/``--`` (EIA "not applicable",
#: JODI), ``x``, ``W`` (EIA "withheld"), ``NM`` (EIA "not meaningful"), ``(s)`` (EIA
#: "less than half the unit shown"), ``null``, ``nan``, ``none``. Every other non-numeric
#: text is an error, never a silent NaN or 0.
MISSING_MARKERS: frozenset[str] = frozenset(
    {"", ".", "na", "n/a", "#n/a", "-", "--", "x", "w", "nm", "(s)", "null", "nan", "none"}
)

#: A plain decimal number: no thousands separator, no currency sign, no ``inf``.
NUMBER_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def parse_float(raw: Any) -> float:
    """One value as float: a missing marker (or None) is NaN, other text must be a number.

    Raises
    ------
    ValueError
        ``raw`` is neither a finite number nor one of :data:`MISSING_MARKERS` (``"1,234"``,
        ``"n.a."``, ``"inf"``, a bool). Callers add the series, date or line.

    Examples
    --------
    >>> parse_float("70.38"), parse_float(71), parse_float(" -36.98 ")
    (70.38, 71.0, -36.98)
    >>> [parse_float(m) for m in (None, "", ".", "NA", "--", "W")]
    [nan, nan, nan, nan, nan, nan]
    >>> parse_float("1,234")
    Traceback (most recent call last):
    ...
    ValueError: not a number: '1,234'
    """
    if raw is None:
        return math.nan
    if isinstance(raw, (bool, np.bool_)):
        raise ValueError(f"not a number: {raw!r}")
    if isinstance(raw, (int, float, np.integer, np.floating)):
        value = float(raw)
        if math.isinf(value):
            raise ValueError(f"not a finite number: {raw!r}")
        return value
    text = str(raw).strip()
    if text.lower() in MISSING_MARKERS:
        return math.nan
    if NUMBER_RE.fullmatch(text):
        return float(text)
    raise ValueError(f"not a number: {text!r}")


def to_series_frame(values: Iterable[Any], index: Iterable[Any], name: str) -> pd.Series:
    """Return ``values`` as a float64 Series on a normalised ``DatetimeIndex``.

    The index is converted to ``datetime64[ns]``, made tz-naive (a tz-aware index is
    converted to its own wall-clock date first), normalised to midnight and named
    ``"date"``. Values are coerced to float64 (non-numeric raises ``ValueError``).
    Order and duplicates are left alone: schemas report them.

    Raises
    ------
    InputError
        A date is outside the range pandas can hold in nanoseconds (about 1677-09-22 to
        2262-04-11); the message quotes the first such value. ``InputError`` is a
        ``ValueError``.

    Examples
    --------
    >>> s = to_series_frame(["70.1", None], ["2025-12-16", "2025-12-17"], "brent")
    >>> s.index.dtype, s.dtype, s.isna().tolist()
    (dtype('<M8[ns]'), dtype('float64'), [False, True])
    >>> to_series_frame([1.0], ["2999-01-02"], "brent")
    Traceback (most recent call last):
    ...
    oilimpact.errors.InputError: series 'brent': date '2999-01-02' is outside the supported range 1677-09-22 to 2262-04-11
    """
    raw = index if isinstance(index, pd.Index) else list(index)
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(raw))
        if idx.tz is not None:
            idx = idx.tz_localize(None)
        idx = idx.normalize().as_unit("ns")
    except (pd.errors.OutOfBoundsDatetime, OverflowError) as exc:
        bad = _first_out_of_bounds(raw)
        shown = repr(bad) if bad is not None else f"({exc})"
        raise InputError(
            f"series {name!r}: date {shown} is outside the supported range {MIN_DATE} to {MAX_DATE}"
        ) from None
    idx.name = INDEX_NAME
    arr = pd.to_numeric(
        pd.Series(list(values) if not isinstance(values, (pd.Series, np.ndarray)) else values),
        errors="raise",
    )
    return pd.Series(np.asarray(arr, dtype="float64"), index=idx, name=name)


def _first_out_of_bounds(raw: Any) -> Any:
    """The first element of ``raw`` that does not fit ``datetime64[ns]`` (None if none)."""
    for value in raw:
        try:
            ts = pd.Timestamp(value)
            if ts is not pd.NaT:
                ts.as_unit("ns")
        except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError):
            return str(value)
    return None
