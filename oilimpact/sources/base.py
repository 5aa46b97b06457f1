"""The contract every data provider implements.

A provider follows OpenBB's TET split (transform query, extract, transform data):

1. a request-building step (``build_request``) that turns a
   :class:`~oilimpact.series.SourceRef` and a date range into a URL and parameters;
2. an I/O step (``fetch``) that performs the request through
   :func:`oilimpact.sources.http.get` (or a client library);
3. a **pure** ``parse_*`` function from the provider's bytes or JSON to a series in the
   frame convention of ``docs/architecture.md``. Tests call it directly on recorded
   wire-format bytes.

``fetch`` returns a series named ``ref.id``; the caller renames it to the registry name.

Shared helpers keep the providers consistent: :func:`as_date` / :func:`format_date`
turn any date-like ``start``/``end`` (``datetime.date``, ``datetime``, ``pandas.Timestamp``,
ISO string) into the plain ``YYYY-MM-DD`` (or ``YYYY-MM``, ...) a query string needs, and
:func:`~oilimpact.frames.parse_float` (re-exported here) reads provider values with the
one list of missing markers, :data:`~oilimpact.frames.MISSING_MARKERS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, EmptyDataError, InputError
from ..frames import MISSING_MARKERS, parse_float
from ..series import SourceRef

__all__ = [
    "MISSING_MARKERS",
    "DateLike",
    "HttpRequest",
    "Source",
    "as_date",
    "clip_to_range",
    "format_date",
    "parse_float",
    "require_observations",
]

#: What a source accepts for ``start``/``end``.
DateLike = date | datetime | pd.Timestamp | np.datetime64 | str


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A GET request built by a provider: the endpoint and its query parameters.

    ``params`` is a sequence of ``(name, value)`` pairs so that a name may repeat and
    the order is kept (EIA's ``facets[...][]``). It may hold an API key: never log it.
    """

    url: str
    params: Sequence[tuple[str, Any]] = field(default_factory=tuple)


class Source(ABC):
    """A data provider: ``fetch(ref, start, end)`` returns one series.

    Attributes
    ----------
    name : str
        The provider name used in :class:`~oilimpact.series.SourceRef` (``"fred"``).
    """

    name: str = ""

    @abstractmethod
    def fetch(
        self, ref: SourceRef, start: date | None = None, end: date | None = None
    ) -> pd.Series:
        """Return the observations of ``ref`` between ``start`` and ``end`` (inclusive).

        Parameters
        ----------
        ref : SourceRef
            The provider's id for the series and its options; ``ref.provider`` must be
            this source's :attr:`name`.
        start, end : datetime.date, optional
            Inclusive date range; open-ended when None.

        Returns
        -------
        pandas.Series
            float64 values on a tz-naive ``DatetimeIndex`` named ``"date"``, sorted,
            named ``ref.id``. Missing observations are NaN.

        Raises
        ------
        SourceError
            And its subclasses (``EmptyDataError``, ``RateLimitError``, ``AuthError``).
        """

    def check_ref(self, ref: SourceRef) -> None:
        """Raise :class:`~oilimpact.errors.ConfigError` if ``ref`` is for another provider."""
        if ref.provider != self.name:
            raise ConfigError(
                f"{self.name}: cannot fetch {ref} (provider {ref.provider!r}); "
                f"use the {ref.provider!r} source"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def as_date(value: DateLike | None, what: str = "date") -> date | None:
    """``value`` as a plain :class:`datetime.date` (None stays None).

    Accepts ``datetime.date``, ``datetime.datetime`` and ``pandas.Timestamp`` (the
    wall-clock date is kept, time and timezone dropped), ``numpy.datetime64`` and ISO
    strings (``"2026-01-28"``, ``"2026-01-28T00:00:00"``).

    Raises
    ------
    InputError
        ``value`` is not a date (``what`` names it in the message).

    Examples
    --------
    >>> as_date(pd.Timestamp("2026-01-28")), as_date("2026-01-28T15:30:00"), as_date(None)
    (datetime.date(2026, 1, 28), datetime.date(2026, 1, 28), None)
    """
    if value is None:
        return None
    if isinstance(value, datetime):  # also pandas.Timestamp (a datetime subclass)
        if value is pd.NaT:
            raise InputError(f"{what}: expected a date, got NaT")
        return value.date()
    if isinstance(value, date):
        return value
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"{what}: expected a date such as 2026-01-28, got {value!r}") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise InputError(f"{what}: expected a date such as 2026-01-28, got {value!r}")
    return ts.date()


def format_date(value: DateLike, frequency: str = "daily") -> str:
    """``value`` as the date text a provider's query string wants, never with a time.

    ``YYYY-MM-DD`` by default (daily, weekly); ``YYYY-MM`` for ``"monthly"``, ``YYYY``
    for ``"annual"`` and ``YYYY-Qn`` for ``"quarterly"`` (EIA period formats). Every
    source formats ``start``/``end`` through this one function.

    Examples
    --------
    >>> format_date(pd.Timestamp("2026-01-28 00:00:00"))
    '2026-01-28'
    >>> format_date("2026-01-28T00:00:00", "monthly"), format_date(date(2026, 8, 3), "quarterly")
    ('2026-01', '2026-Q3')
    """
    day = as_date(value)
    assert day is not None
    if frequency == "monthly":
        return f"{day.year:04d}-{day.month:02d}"
    if frequency == "annual":
        return f"{day.year:04d}"
    if frequency == "quarterly":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def clip_to_range(series: pd.Series, start: DateLike | None, end: DateLike | None) -> pd.Series:
    """Keep the rows of ``series`` with ``start <= date <= end`` (bounds optional).

    Examples
    --------
    >>> from oilimpact.frames import to_series_frame
    >>> s = to_series_frame([1, 2, 3], ["2024-01-01", "2024-01-02", "2024-01-03"], "x")
    >>> clip_to_range(s, date(2024, 1, 2), None).tolist()
    [2.0, 3.0]
    """
    start, end = as_date(start, "start"), as_date(end, "end")
    mask = pd.Series(True, index=series.index)
    if start is not None:
        mask &= series.index >= pd.Timestamp(start)
    if end is not None:
        mask &= series.index <= pd.Timestamp(end)
    out = series[mask.to_numpy()]
    out.index.freq = None  # a boolean mask may leave an inferred freq ("B"); keep it plain
    return out


def require_observations(
    series: pd.Series,
    *,
    source: str,
    what: str,
    start: DateLike | None,
    end: DateLike | None,
    detail: str = "",
) -> pd.Series:
    """Return ``series`` unchanged, or raise EmptyDataError if it has no non-NaN value.

    Examples
    --------
    >>> from oilimpact.frames import to_series_frame
    >>> s = to_series_frame([None], ["2024-01-01"], "x")
    >>> require_observations(s, source="fred", what="series 'X'", start=None, end=None)
    Traceback (most recent call last):
    ...
    oilimpact.errors.EmptyDataError: fred: no observations for series 'X' (any date)
    """
    if series.notna().any():
        return series
    span = _describe_range(start, end)
    extra = f"; {detail}" if detail else ""
    raise EmptyDataError(f"{source}: no observations for {what} ({span}){extra}")


def _describe_range(start: DateLike | None, end: DateLike | None) -> str:
    if start is None and end is None:
        return "any date"
    first = format_date(start) if start is not None else "..."
    last = format_date(end) if end is not None else "..."
    return f"{first} to {last}"
