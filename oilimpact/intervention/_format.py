"""Formatting helpers of the intervention results: ISO dates, numbers, JSON-able values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["fmt", "fmt_p", "iso", "jsonable", "period", "records"]


def iso(value: Any) -> str:
    """``YYYY-MM-DD`` of a date-like value.

    Examples
    --------
    >>> iso("2025-12-16 13:00")
    '2025-12-16'
    """
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def period(value: pd.Timestamp, frequency: str) -> str:
    """A period label: ``YYYY-MM`` for monthly series, the period date for weekly ones.

    Examples
    --------
    >>> period(pd.Timestamp("2025-12-01"), "monthly"), period(pd.Timestamp("2025-12-05"), "weekly")
    ('2025-12', '2025-12-05')
    """
    return pd.Timestamp(value).strftime("%Y-%m" if frequency == "monthly" else "%Y-%m-%d")


def fmt(value: Any, digits: int = 3) -> str:
    """A number with ``digits`` decimals and thousands separators, ``-`` when not finite.

    Examples
    --------
    >>> fmt(1234.5678), fmt(float("nan")), fmt(0.0001234), fmt(2.5e6)
    ('1,234.568', '-', '0.000123', '2,500,000')
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "-"
    if abs(x) >= 1e5 or (x != 0 and abs(x) < 10 ** (-digits)):
        return f"{x:.{digits}g}" if abs(x) < 1e5 else f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def fmt_p(value: Any) -> str:
    """A p-value with three decimals, ``<0.001`` below that, ``-`` when missing.

    Examples
    --------
    >>> fmt_p(0.04321), fmt_p(1e-5), fmt_p(None)
    ('0.043', '<0.001', 'None')
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "-"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def jsonable(value: Any) -> Any:
    """``value`` with timestamps as ISO dates, numpy scalars as Python ones, NaN as None.

    Examples
    --------
    >>> jsonable((np.int64(3), float("nan"), pd.Timestamp("2026-01-03")))
    [3, None, '2026-01-03']
    """
    if isinstance(value, pd.Timestamp):
        return iso(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        x = float(value)
        return x if math.isfinite(x) else None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as JSON-able dicts.

    Examples
    --------
    >>> records(pd.DataFrame({"a": [1.0, np.nan]}))
    [{'a': 1.0}, {'a': None}]
    """
    return [{str(k): jsonable(v) for k, v in row.items()} for row in frame.to_dict("records")]
