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
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from ..errors import ConfigError, EmptyDataError
from ..series import SourceRef

__all__ = ["HttpRequest", "Source", "clip_to_range", "require_observations"]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A GET request built by a provider: the endpoint and its query parameters.

    ``params`` is a sequence of ``(name, value)`` pairs so that a name may repeat and
    the order is kept (EIA's ``facets[...][]``). It may hold an API key: never log it.
    """

    url: str
    params: Sequence[tuple[str, Any]] = field(default_factory=tuple)

    def param(self, name: str) -> Any:
        """The first value of parameter ``name`` (``KeyError`` if absent).

        Examples
        --------
        >>> HttpRequest("https://x.test", (("id", "SP500"),)).param("id")
        'SP500'
        """
        for key, value in self.params:
            if key == name:
                return value
        raise KeyError(name)


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


def clip_to_range(series: pd.Series, start: date | None, end: date | None) -> pd.Series:
    """Keep the rows of ``series`` with ``start <= date <= end`` (bounds optional).

    Examples
    --------
    >>> from oilimpact.frames import to_series_frame
    >>> s = to_series_frame([1, 2, 3], ["2024-01-01", "2024-01-02", "2024-01-03"], "x")
    >>> clip_to_range(s, date(2024, 1, 2), None).tolist()
    [2.0, 3.0]
    """
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
    start: date | None,
    end: date | None,
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


def _describe_range(start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return "any date"
    return f"{start.isoformat() if start else '...'} to {end.isoformat() if end else '...'}"


def options_without(options: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """A copy of ``options`` without ``names``.

    Examples
    --------
    >>> options_without({"route": "x", "unit": "TBPD"}, "route")
    {'unit': 'TBPD'}
    """
    return {k: v for k, v in options.items() if k not in names}
