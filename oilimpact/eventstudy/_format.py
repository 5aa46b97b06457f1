"""Whole columns formatted for display, the strings of the per-value formatters.

A result's summary shows one row per (event, series, window): 50,000 rows for 10,000
pairs and five windows. Formatting them value by value through
:func:`~oilimpact.summary.fmt_pct`, :func:`~oilimpact.summary.fmt_p` and a
``try``/``except`` per value costs seconds; here a float column is converted once
(``ndarray.tolist``: Python floats, the values the per-value formatters receive when
they iterate a pandas Series), formatted by one f-string per value, and the missing
values are patched by position. Each function returns exactly the strings of its
per-value reference (``tests/eventstudy/test_result.py`` compares them on NaN, +-inf,
-0.0, tiny and huge values); a column that is not float (object, nullable, strings)
goes through the reference itself.

Examples
--------
>>> import numpy as np
>>> pct_strings(np.array([0.012345, np.nan, 12.5])), p_strings(np.array([0.04567, 1e-7]))
(['1.23', '-', '1,250.00'], ['0.046', '<0.001'])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..summary import fmt_num, fmt_p, fmt_pct

__all__ = [
    "day_strings",
    "fixed_point",
    "fixed_strings",
    "num_strings",
    "p_strings",
    "pct_strings",
    "window_labels",
]


def _floats(values: Any) -> np.ndarray | None:
    """The values as a float64 array when they are a float column, else None."""
    arr = values.to_numpy() if isinstance(values, pd.Series | pd.Index) else np.asarray(values)
    return arr if arr.dtype.kind == "f" else None


def _each(values: Iterable[Any], fn: Callable[[Any], str]) -> list[str]:
    """The per-value reference over an iterable (Python scalars, as pandas iterates)."""
    return [fn(v) for v in values]


#: Strings of the integer parts 0..999 (thousands separated parts go the slow way) and of
#: the fractional parts of each number of decimals, built on first use.
_INTEGERS = np.array([str(i) for i in range(1000)], dtype=object)
_FRACTIONS: dict[int, np.ndarray] = {}


def _fraction_strings(decimals: int) -> np.ndarray:
    if decimals not in _FRACTIONS:
        digits = [str(j).zfill(decimals) for j in range(10**decimals)]
        _FRACTIONS[decimals] = np.array(["." + d if decimals else "" for d in digits], dtype=object)
    return _FRACTIONS[decimals]


def fixed_point(arr: np.ndarray, decimals: int, commas: bool = False) -> list[str]:
    r"""``format(v, ".{decimals}f")`` (``",.{decimals}f"`` with ``commas``) of every value.

    Python rounds the exact binary value of ``v`` to ``decimals`` decimals (ties to
    even). Here :math:`x = |v| 10^d` is computed in floating point (one rounding, so
    within one ulp of the exact product) and rounded to the nearest integer ``k``; when
    the fractional part of ``x`` is more than 8 ulp away from 1/2, the exact product
    rounds to the same ``k``, and the string is the integer part's and the fractional
    part's strings from two lookup tables, with a ``-`` where ``v`` has its sign bit set
    (as Python, which prints ``-0.00`` for -0.001). Values within 8 ulp of a tie, of
    1,000 or more (thousands separators) and not finite go through ``format`` itself, as
    do more than 4 decimals. Same strings, a few times faster on long columns.

    Examples
    --------
    >>> fixed_point(np.array([2.675, -0.001, 1234.5, np.nan]), 2, commas=True)
    ['2.67', '-0.00', '1,234.50', 'nan']
    """
    spec = f"{',' if commas else ''}.{decimals}f"
    arr = np.asarray(arr, dtype="float64")
    if decimals > 4 or arr.ndim != 1:
        return [format(v, spec) for v in arr.ravel().tolist()]
    scale = 10**decimals
    with np.errstate(invalid="ignore", over="ignore"):
        ax = np.abs(arr) * float(scale)
        ok = (ax < 1000.0 * scale - 1.0) & (np.abs(ax - np.floor(ax) - 0.5) > 8 * np.spacing(ax))
    k = np.rint(np.where(ok, ax, 0.0)).astype(np.int64)
    text = _INTEGERS[k // scale] + _fraction_strings(decimals)[k % scale]
    neg = np.signbit(arr) & ok
    if neg.any():
        text[neg] = "-" + text[neg]
    out: list[str] = text.tolist()
    for i in np.flatnonzero(~ok).tolist():
        out[i] = format(float(arr[i]), spec)
    return out


def _patch(out: list[str], where: np.ndarray, text: str) -> list[str]:
    for i in np.flatnonzero(where).tolist():
        out[i] = text
    return out


def pct_strings(values: Any, decimals: int = 2) -> list[str]:
    """:func:`~oilimpact.summary.fmt_pct` of every value: percent points, ``decimals``
    decimals, thousands separated, ``-`` for NaN and infinities."""
    arr = _floats(values)
    if arr is None:
        return _each(values, lambda v: fmt_pct(v, decimals))
    out = fixed_point(100 * arr.astype("float64"), decimals, commas=True)
    return _patch(out, ~np.isfinite(arr), "-")


def p_strings(values: Any) -> list[str]:
    """:func:`~oilimpact.summary.fmt_p` of every value: 3 decimals, ``<0.001`` below,
    ``-`` for NaN and infinities."""
    arr = _floats(values)
    if arr is None:
        return _each(values, fmt_p)
    arr = arr.astype("float64")
    out = fixed_point(arr, 3)
    finite = np.isfinite(arr)
    with np.errstate(invalid="ignore"):
        _patch(out, finite & (arr < 0.001), "<0.001")
    return _patch(out, ~finite, "-")


def fixed_strings(values: Any, spec: str, reference: Callable[[Any, str], str]) -> list[str]:
    """``reference(v, spec)`` of every value, where ``reference`` formats a float with
    ``format(v, spec)`` and shows NaN as ``-`` (infinities as ``inf``)."""
    arr = _floats(values)
    match = re.fullmatch(r"\.(\d)f", spec)
    if arr is None or match is None:
        return _each(values, lambda v: reference(v, spec))
    out = fixed_point(arr.astype("float64"), int(match.group(1)))
    return _patch(out, np.isnan(arr), "-")


def day_strings(values: Any, reference: Callable[[Any], str]) -> list[str]:
    """``reference(v)`` of every date, where ``reference`` gives ``YYYY-MM-DD`` and
    ``-`` for a missing date; tz-naive datetime64 columns without a per-value call."""
    arr = values.to_numpy() if isinstance(values, pd.Series | pd.Index) else np.asarray(values)
    if arr.dtype.kind != "M":
        return _each(values, reference)
    out = np.datetime_as_string(arr, unit="D").tolist()
    return _patch(out, np.isnat(arr), "-")


def num_strings(values: Any, reference: Callable[[Any], str] = fmt_num) -> list[str]:
    """:func:`~oilimpact.summary.fmt_num` (4 significant digits, at most 6 decimals,
    thousands separated) of every value.

    A float column is split by the number of decimals ``min(max(3 - m, 0), 6)`` with
    ``m = floor(log10|v|)`` and each group formatted by :func:`fixed_point`; zeros,
    values outside ``1e-6 <= |v| < 1e15`` (exponent notation), values within 1e-9 of a
    power of ten in ``log10`` (where ``numpy.log10`` and ``math.log10`` could floor
    differently), non-finite values and other dtypes go through ``reference``.
    """
    arr = _floats(values)
    if arr is None:
        return _each(values, reference)
    arr = arr.astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        lg = np.log10(np.abs(arr))
        mag = np.floor(lg)
        ok = np.isfinite(lg) & (mag >= -6) & (mag < 15) & (np.abs(lg - np.rint(lg)) > 1e-9)
    decimals = np.clip(3 - mag, 0, 6)
    out = [""] * arr.size
    for d in np.unique(decimals[ok]).tolist():
        rows = np.flatnonzero(ok & (decimals == d))
        for i, text in zip(rows.tolist(), fixed_point(arr[rows], int(d), commas=True), strict=True):
            out[i] = text
    for i in np.flatnonzero(~ok).tolist():
        out[i] = reference(float(arr[i]))
    return out


def window_labels(starts: Any, ends: Any, label: Callable[[int, int], str]) -> list[str]:
    """``label(start, end)`` of every row, computed once per distinct window."""
    lo, hi = np.asarray(starts), np.asarray(ends)
    if lo.dtype.kind in "iu" and hi.dtype.kind in "iu" and lo.size:
        lo64, hi64 = lo.astype(np.int64), hi.astype(np.int64)
        span = int(hi64.max()) - int(hi64.min()) + 1
        if (int(lo64.max()) - int(lo64.min()) + 1) * span < 2**62:  # one integer per window
            key = (lo64 - lo64.min()) * span + (hi64 - hi64.min())
            codes, distinct = pd.factorize(key)
            at = np.empty(len(distinct), dtype=np.intp)
            at[codes] = np.arange(len(codes))  # a row of each window (any: all alike)
            texts = np.array(
                [label(a, b) for a, b in zip(lo[at].tolist(), hi[at].tolist(), strict=True)],
                dtype=object,
            )
            return texts[codes].tolist()
    keys = list(zip(lo.tolist(), hi.tolist(), strict=True))
    cache = {key: label(*key) for key in set(keys)}
    return [cache[key] for key in keys]
