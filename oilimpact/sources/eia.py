"""EIA API v2 (``https://api.eia.gov/v2/<route>/data/``), key from ``EIA_API_KEY``.

The :class:`~oilimpact.series.SourceRef` options carry the request: ``route``
(``"petroleum/pri/spt"``, ``"international"``, ...), ``frequency`` and any extra facets
(``countryRegionId``, ``activityId``, ``unit`` for ``international``). ``ref.id`` is the
value of the ``series`` facet, or of ``productId`` for the ``international`` route
(override with the ``id_facet`` option).

Replies hold at most 5000 rows; :class:`EiaSource` pages with ``offset``/``length``
until it has ``int(response.total)`` rows (``total`` is a string), carrying on through
the ``"incomplete return"`` warning. Values may be strings, numbers, ``null`` or one of
the missing markers of :data:`oilimpact.frames.MISSING_MARKERS` (``"--"``, ``"NA"``,
``"W"`` withheld, ...): those become NaN, never 0; any other text raises
:class:`~oilimpact.errors.SourceError` naming the series and period. Periods ``YYYY-MM-DD``
(daily, weekly: the week-ending date), ``YYYY-MM`` (monthly: first of the month),
``YYYY`` (annual) and ``YYYY-Qn`` (quarterly) become dates; ``start``/``end`` are sent
in the same format for the series' frequency (:func:`~oilimpact.sources.base.format_date`).

The reply echoes the key in ``request.params.api_key``: :func:`scrub_response` removes it
before a reply is stored as a test fixture.
"""

from __future__ import annotations

import copy
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import requests

from ..errors import AuthError, ConfigError, OilImpactError, RateLimitError, SourceError, scrub
from ..frames import to_series_frame
from ..logs import get_logger, register_secret
from ..series import SourceRef
from . import http
from .base import (
    DateLike,
    HttpRequest,
    Source,
    as_date,
    clip_to_range,
    format_date,
    parse_float,
    require_observations,
)

__all__ = [
    "BASE_URL",
    "EiaPage",
    "EiaSource",
    "PAGE_LENGTH",
    "SCRUBBED_KEY",
    "parse_eia_page",
    "parse_eia_rows",
    "parse_period",
    "scrub_response",
]

logger = get_logger(__name__)

BASE_URL = "https://api.eia.gov"
#: The most rows EIA returns per JSON call.
PAGE_LENGTH = 5000
#: What :func:`scrub_response` puts in place of the key.
SCRUBBED_KEY = "MOCK_API_KEY"
_KEY_HINT = (
    "set the EIA_API_KEY environment variable (free key: https://www.eia.gov/opendata/register.php) "
    f"or {http.OFFLINE_HINT}"
)
_RESERVED_OPTIONS = frozenset({"route", "frequency", "id_facet", "data_column"})
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class EiaPage:
    """One page of an EIA v2 ``data`` reply.

    Attributes
    ----------
    total : int
        ``response.total``: rows matching the query over all pages.
    rows : list of dict
        ``response.data`` of this page.
    warnings : tuple of str
        ``warnings[].warning`` texts (``"incomplete return"`` when more pages follow).
    """

    total: int
    rows: list[dict[str, Any]]
    warnings: tuple[str, ...] = ()


class EiaSource(Source):
    """EIA API v2 series, paged.

    Parameters
    ----------
    api_key : str, optional
        EIA key; defaults to ``EIA_API_KEY``. Missing at fetch time -> ``AuthError``.
    base_url : str, optional
        API root (default :data:`BASE_URL`); tests point it at ``http://127.0.0.1:PORT``.
    session : requests.Session, optional
        HTTP session.
    page_length : int, optional
        Rows per request (at most :data:`PAGE_LENGTH`).

    Examples
    --------
    >>> from oilimpact.series import SourceRef
    >>> ref = SourceRef("eia", "RBRTE", {"route": "petroleum/pri/spt", "frequency": "daily"})
    >>> req = EiaSource(api_key="k").build_request(ref, date(2025, 10, 1), None)
    >>> req.url
    'https://api.eia.gov/v2/petroleum/pri/spt/data/'
    >>> [p for p in req.params if p[0] != "api_key"][:4]
    [('frequency', 'daily'), ('data[0]', 'value'), ('facets[series][]', 'RBRTE'), ('start', '2025-10-01')]
    """

    name = "eia"

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = BASE_URL,
        session: requests.Session | None = None,
        page_length: int = PAGE_LENGTH,
    ) -> None:
        self._api_key = os.environ.get("EIA_API_KEY", "") if api_key is None else api_key
        register_secret(self._api_key)
        self.base_url = base_url.rstrip("/")
        self._session = session
        if not 1 <= page_length <= PAGE_LENGTH:
            raise ConfigError(f"eia: page_length must be in 1..{PAGE_LENGTH}, got {page_length}")
        self.page_length = page_length

    def __repr__(self) -> str:
        return f"EiaSource(base_url={self.base_url!r}, key={'set' if self._api_key else 'missing'})"

    def build_request(
        self, ref: SourceRef, start: DateLike | None, end: DateLike | None, offset: int = 0
    ) -> HttpRequest:
        """The request for one page of ``ref`` (``offset`` is the first row)."""
        options = dict(ref.options)
        route = str(options.get("route", "")).strip("/")
        if not route:
            raise ConfigError(
                f"eia: source {ref} needs a 'route' option (e.g. route = \"petroleum/pri/spt\")"
            )
        frequency = str(options.get("frequency", "daily"))
        id_facet = str(
            options.get("id_facet", "productId" if route == "international" else "series")
        )
        params: list[tuple[str, Any]] = [
            ("api_key", self._api_key),
            ("frequency", frequency),
            ("data[0]", str(options.get("data_column", "value"))),
            (f"facets[{id_facet}][]", ref.id),
        ]
        for facet, value in options.items():
            if facet in _RESERVED_OPTIONS:
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            params.extend((f"facets[{facet}][]", str(v)) for v in values)
        if start is not None:
            params.append(("start", format_date(start, frequency)))
        if end is not None:
            params.append(("end", format_date(end, frequency)))
        params += [
            ("sort[0][column]", "period"),
            ("sort[0][direction]", "asc"),
            ("offset", offset),
            ("length", self.page_length),
        ]
        return HttpRequest(f"{self.base_url}/v2/{route}/data/", tuple(params))

    def fetch(
        self, ref: SourceRef, start: date | None = None, end: date | None = None
    ) -> pd.Series:
        """Download all pages of ``ref`` and parse them; see :meth:`Source.fetch`.

        Raises
        ------
        AuthError
            No key, or EIA rejected it (``API_KEY_INVALID``).
        RateLimitError
            ``OVER_RATE_LIMIT`` (HTTP 429) after the retries.
        SourceError
            Network failure, an error reply, or pages that stop before ``total``.
        EmptyDataError
            No observation in the range.
        """
        self.check_ref(ref)
        if not self._api_key:
            raise AuthError(f"eia: no API key for {ref}; {_KEY_HINT}")
        start, end = as_date(start, "start"), as_date(end, "end")
        rows = self.fetch_rows(ref, start, end)
        what = f"{ref.id!r} ({ref.options.get('route', '?')})"
        series = parse_eia_rows(
            rows, ref.id, value_column=str(ref.options.get("data_column", "value"))
        )
        series = clip_to_range(series, start, end)
        return require_observations(series, source=self.name, what=what, start=start, end=end)

    def fetch_rows(
        self, ref: SourceRef, start: DateLike | None, end: DateLike | None
    ) -> list[dict[str, Any]]:
        """All ``response.data`` rows of ``ref``, paging with ``offset``/``length``."""
        rows: list[dict[str, Any]] = []
        total: int | None = None
        max_pages = None
        page_no = 0
        while total is None or len(rows) < total:
            request = self.build_request(ref, start, end, offset=len(rows))
            page = self._get_page(request, ref)
            page_no += 1
            if total is None:
                total = page.total
                max_pages = math.ceil(total / self.page_length) + 5
            for warning in page.warnings:  # EIA may echo the request, key included
                logger.debug(
                    "eia: %s page %d: warning %r", ref, page_no, scrub(warning, self._api_key)
                )
            if not page.rows:
                if len(rows) < total:
                    raise SourceError(
                        f"eia: {ref} stopped returning rows at offset {len(rows)} of "
                        f"{total} (page {page_no}); try again later, or {http.OFFLINE_HINT}"
                    )
                break
            rows.extend(page.rows)
            if max_pages is not None and page_no >= max_pages:
                raise SourceError(
                    f"eia: {ref} still incomplete after {page_no} pages "
                    f"({len(rows)} of {total} rows)"
                )
        logger.debug("eia: %s: %d rows in %d page(s)", ref, len(rows), page_no)
        return rows

    def _get_page(self, request: HttpRequest, ref: SourceRef) -> EiaPage:
        response = http.get(
            request.url,
            request.params,
            source=self.name,
            secrets=[self._api_key],
            session=self._session,
            on_error=lambda r: _error_from_response(r, ref, self._api_key),
            what=str(ref),
        )
        try:
            payload = response.json()
        except ValueError:
            raise SourceError(
                f"eia: non-JSON reply for {ref}: {scrub(response.text[:200], self._api_key)!r}"
            ) from None
        return parse_eia_page(payload, what=str(ref))


def parse_eia_page(payload: Mapping[str, Any], what: str = "request") -> EiaPage:
    """Read ``total``, ``data`` and ``warnings`` from one EIA v2 reply (pure).

    Raises
    ------
    AuthError
        An ``API_KEY_INVALID``/``API_KEY_MISSING`` error object.
    SourceError
        Any other error reply, or a reply without ``response.total``/``data``.

    Examples
    --------
    >>> page = parse_eia_page({"response": {"total": "7", "data": [{"period": "2025-01", "value": "1"}]},
    ...     "warnings": [{"warning": "incomplete return", "description": "..."}]})
    >>> page.total, len(page.rows), page.warnings
    (7, 1, ('incomplete return',))
    """
    if not isinstance(payload, Mapping):
        raise SourceError(f"eia: reply for {what} is not a JSON object")
    if "error" in payload:
        raise _error_from_payload(payload, what)
    body = payload.get("response")
    if not isinstance(body, Mapping):
        raise SourceError(f"eia: reply for {what} has no 'response' object")
    data = body.get("data")
    if not isinstance(data, list):
        raise SourceError(f"eia: reply for {what} has no 'response.data' list")
    raw_total = body.get("total", len(data))
    try:
        total = int(str(raw_total).strip())
    except ValueError:
        raise SourceError(f"eia: reply for {what} has a non-integer total {raw_total!r}") from None
    warnings = tuple(
        str(w.get("warning", w)) if isinstance(w, Mapping) else str(w)
        for w in payload.get("warnings") or ()
    )
    return EiaPage(total=total, rows=list(data), warnings=warnings)


def parse_eia_rows(
    rows: Sequence[Mapping[str, Any]], name: str, *, value_column: str = "value"
) -> pd.Series:
    """Turn EIA ``response.data`` rows into a series named ``name`` (pure).

    Parameters
    ----------
    rows : sequence of mapping
        Rows with ``period`` and ``value_column``, possibly from several pages.
    name : str
        Name of the returned series.
    value_column : str, optional
        The data column requested as ``data[0]``.

    Returns
    -------
    pandas.Series
        float64 on a sorted ``DatetimeIndex`` named ``"date"``; ``null`` and the
        missing markers of :data:`oilimpact.frames.MISSING_MARKERS` (``"--"``, ``"NA"``,
        ``"W"``, ...) are NaN.

    Raises
    ------
    SourceError
        A row has no ``period`` or an unknown period format, a value is neither a number
        nor a missing marker (``"1,234"``), or two rows share a period (the facets do not
        pin down one series: add ``unit`` or ``countryRegionId``).

    Examples
    --------
    >>> rows = [{"period": "2025-02", "value": "--"}, {"period": "2025-01", "value": "79.27"},
    ...         {"period": "2025-03", "value": None}, {"period": "2025-04", "value": 71.5}]
    >>> s = parse_eia_rows(rows, "RBRTE")
    >>> [d.strftime("%Y-%m-%d") for d in s.index], s.tolist()
    (['2025-01-01', '2025-02-01', '2025-03-01', '2025-04-01'], [79.27, nan, nan, 71.5])
    """
    periods: list[pd.Timestamp] = []
    values: list[float] = []
    for n, row in enumerate(rows):
        if not isinstance(row, Mapping) or "period" not in row:
            raise SourceError(f"eia: row {n} of {name!r} has no 'period': {row!r}")
        periods.append(parse_period(row["period"]))
        values.append(_to_float(row.get(value_column), name, row["period"]))
    series = to_series_frame(values, periods, name).sort_index(kind="stable")
    duplicated = series.index[series.index.duplicated()]
    if len(duplicated):
        raise SourceError(
            f"eia: {len(duplicated)} period(s) of {name!r} appear more than once "
            f"(first {duplicated[0].date()}); the source options must select one series "
            "(add facets such as unit, countryRegionId or duoarea)"
        )
    return series


def parse_period(raw: Any) -> pd.Timestamp:
    """An EIA period string as a date: monthly and annual periods map to their first day.

    Examples
    --------
    >>> [str(parse_period(p).date()) for p in ("2025-12-16", "2025-12", "2025", "2025-Q3")]
    ['2025-12-16', '2025-12-01', '2025-01-01', '2025-07-01']
    """
    text = str(raw).strip()
    if _DAY.match(text):
        return pd.Timestamp(text)
    if m := _MONTH.match(text):
        return pd.Timestamp(int(m.group(1)), int(m.group(2)), 1)
    if m := _YEAR.match(text):
        return pd.Timestamp(int(m.group(1)), 1, 1)
    if m := _QUARTER.match(text):
        return pd.Timestamp(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    raise SourceError(f"eia: unknown period format {text!r}")


def scrub_response(payload: Any, replacement: str = SCRUBBED_KEY) -> Any:
    """A deep copy of an EIA reply with every ``api_key`` value replaced.

    The key echoed in ``response["request"]["params"]["api_key"]`` (and any other
    ``api_key`` member or ``api_key=`` query text) is replaced, so that the reply can be
    stored as a test fixture.

    Examples
    --------
    >>> raw = {"response": {"total": "0", "data": []},
    ...        "request": {"command": "/v2/petroleum/pri/spt/data/", "params": {"api_key": "abcd1234"}}}
    >>> scrub_response(raw)["request"]["params"]["api_key"]
    'MOCK_API_KEY'
    >>> raw["request"]["params"]["api_key"]
    'abcd1234'
    """
    out = copy.deepcopy(payload)
    return _scrub_in_place(out, replacement)


def _scrub_in_place(node: Any, replacement: str) -> Any:
    if isinstance(node, dict):
        for key in list(node):
            if str(key).lower() in ("api_key", "apikey"):
                node[key] = replacement
            else:
                node[key] = _scrub_in_place(node[key], replacement)
        return node
    if isinstance(node, list):
        return [_scrub_in_place(item, replacement) for item in node]
    if isinstance(node, str) and "api_key" in node.lower():
        return scrub(node).replace("***", replacement)
    return node


def _to_float(raw: Any, name: str, period: Any) -> float:
    """:func:`~oilimpact.frames.parse_float` with the series and period in the error."""
    try:
        return parse_float(raw)
    except ValueError:
        raise SourceError(
            f"eia: value {raw!r} of {name!r} for period {period} is neither a number nor a "
            "missing marker (null, '--', 'NA', 'W', ...); the reply is not usable"
        ) from None


def _error_from_payload(payload: Mapping[str, Any], what: str) -> OilImpactError:
    """The error for an EIA/api.data.gov error object (pure)."""
    error = payload.get("error")
    if isinstance(error, Mapping):
        code = str(error.get("code", ""))
        message = str(error.get("message", ""))
    else:
        code = str(payload.get("code", ""))
        message = str(error)
    message = " ".join(message.split())
    if code.startswith("API_KEY") or "api_key" in message.lower():
        return AuthError(
            f"eia: EIA rejected the API key ({code or 'error'}: {message}); {_KEY_HINT}"
        )
    if code == "OVER_RATE_LIMIT":
        return RateLimitError(
            f"eia: rate limited ({code}: {message}); wait and try again later, or {http.OFFLINE_HINT}"
        )
    return SourceError(f"eia: EIA refused {what} ({code or 'error'}: {message})")


def _error_from_response(
    response: requests.Response, ref: SourceRef, api_key: str
) -> OilImpactError | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    if not isinstance(payload, Mapping) or "error" not in payload:
        return None
    error = _error_from_payload(payload, str(ref))
    error.args = (scrub(error.args[0], api_key),)
    return error
