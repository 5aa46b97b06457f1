"""FRED (Federal Reserve Bank of St. Louis): keyless CSV, or the JSON API with a key.

Without a key the source downloads ``fredgraph.csv``; with ``FRED_API_KEY`` set in the
environment (or ``api_key=`` given) it uses ``fred/series/observations``. Both parsers
are pure functions tested on recorded bytes:

* :func:`parse_fred_csv`: header ``observation_date,<ID>`` (current) or ``DATE,<ID>``
  (before Dec 2024); a day without a value is an empty field (current) or ``.``
  (legacy), both NaN, never 0. Weekend rows are absent; holidays are rows with NaN.
* :func:`parse_fred_json`: ``observations[].date/value`` with ``value`` a string and
  ``"."`` for missing; an ``error_code``/``error_message`` payload raises.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd
import requests

from ..errors import AuthError, OilImpactError, SourceError, scrub
from ..frames import to_series_frame
from ..logs import register_secret
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
    "API_BASE_URL",
    "CSV_BASE_URL",
    "FredSource",
    "fred_error",
    "parse_fred_csv",
    "parse_fred_json",
]

CSV_BASE_URL = "https://fred.stlouisfed.org"
API_BASE_URL = "https://api.stlouisfed.org"
_DATE_HEADERS = ("observation_date", "date")


class FredSource(Source):
    """FRED observations, keyless CSV by default, JSON API when a key is available.

    Parameters
    ----------
    api_key : str, optional
        FRED API key; defaults to the ``FRED_API_KEY`` environment variable. Pass ``""``
        to force the keyless CSV.
    base_url : str, optional
        Root of the CSV download (default :data:`CSV_BASE_URL`); tests point it at
        ``http://127.0.0.1:PORT``.
    api_base_url : str, optional
        Root of the JSON API (default :data:`API_BASE_URL`).
    session : requests.Session, optional
        HTTP session; one from :func:`oilimpact.sources.http.make_session` by default.

    Examples
    --------
    >>> from oilimpact.series import SourceRef
    >>> src = FredSource(api_key="")
    >>> req = src.build_request(SourceRef("fred", "SP500"), date(2024, 1, 2), None)
    >>> req.url, list(req.params)
    ('https://fred.stlouisfed.org/graph/fredgraph.csv', [('id', 'SP500'), ('cosd', '2024-01-02')])
    """

    name = "fred"

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = CSV_BASE_URL,
        api_base_url: str = API_BASE_URL,
        session: requests.Session | None = None,
    ) -> None:
        self._api_key = os.environ.get("FRED_API_KEY", "") if api_key is None else api_key
        register_secret(self._api_key)
        self.base_url = base_url.rstrip("/")
        self.api_base_url = api_base_url.rstrip("/")
        self._session = session

    @property
    def uses_api(self) -> bool:
        """Whether requests go to the JSON API (a key is set) rather than the CSV."""
        return bool(self._api_key)

    def __repr__(self) -> str:
        mode = "api" if self.uses_api else "csv"
        return f"FredSource(mode={mode!r}, base_url={self.base_url!r})"

    def build_request(
        self, ref: SourceRef, start: DateLike | None, end: DateLike | None
    ) -> HttpRequest:
        """The CSV or API request for ``ref`` between ``start`` and ``end``.

        Dates are sent as ``YYYY-MM-DD`` whatever their type (:func:`~.base.format_date`).
        """
        if self.uses_api:
            params: list[tuple[str, Any]] = [
                ("series_id", ref.id),
                ("api_key", self._api_key),
                ("file_type", "json"),
            ]
            if start is not None:
                params.append(("observation_start", format_date(start)))
            if end is not None:
                params.append(("observation_end", format_date(end)))
            return HttpRequest(f"{self.api_base_url}/fred/series/observations", tuple(params))
        params = [("id", ref.id)]
        if start is not None:
            params.append(("cosd", format_date(start)))
        if end is not None:
            params.append(("coed", format_date(end)))
        return HttpRequest(f"{self.base_url}/graph/fredgraph.csv", tuple(params))

    def fetch(
        self, ref: SourceRef, start: date | None = None, end: date | None = None
    ) -> pd.Series:
        """Download ``ref.id`` from FRED; see :meth:`Source.fetch`.

        Raises
        ------
        AuthError
            The API key is not registered or invalid.
        SourceError
            The series does not exist, the network failed, or the reply is unreadable.
        EmptyDataError
            No observation in the range.
        """
        self.check_ref(ref)
        start, end = as_date(start, "start"), as_date(end, "end")
        request = self.build_request(ref, start, end)
        what = f"series {ref.id!r}"
        response = http.get(
            request.url,
            request.params,
            source=self.name,
            secrets=[self._api_key],
            session=self._session,
            on_error=lambda r: self._error_from_response(r, ref.id),
            what=what,
        )
        if self.uses_api:
            try:
                payload = response.json()
            except ValueError:
                raise SourceError(
                    f"fred: the API returned non-JSON for {what}: "
                    f"{scrub(response.text[:200], self._api_key)!r}"
                ) from None
            series = parse_fred_json(payload, ref.id)
        else:
            series = parse_fred_csv(response.content, ref.id)
        series = clip_to_range(series, start, end)
        return require_observations(series, source=self.name, what=what, start=start, end=end)

    def _error_from_response(
        self, response: requests.Response, series_id: str
    ) -> OilImpactError | None:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, Mapping) and "error_message" in payload:
            return fred_error(payload, series_id)
        if response.status_code in (400, 404) and not self.uses_api:
            return SourceError(
                f"fred: no CSV for series {series_id!r} (HTTP {response.status_code}); "
                "check the id at https://fred.stlouisfed.org/"
            )
        return None


def fred_error(payload: Mapping[str, Any], series_id: str) -> OilImpactError:
    """The error for a FRED API error payload ``{"error_code": ..., "error_message": ...}``.

    Examples
    --------
    >>> e = fred_error({"error_code": 400, "error_message": "Bad Request.  The series does not exist."}, "NOPE")
    >>> type(e).__name__, "NOPE" in str(e)
    ('SourceError', True)
    >>> type(fred_error({"error_code": 400, "error_message": "Bad Request.  The value for variable api_key is not registered."}, "X")).__name__
    'AuthError'
    """
    message = " ".join(str(payload.get("error_message", "")).split())
    code = payload.get("error_code", "?")
    lowered = message.lower()
    if "api_key" in lowered or "not registered" in lowered or "api key" in lowered:
        return AuthError(
            f"fred: the FRED API rejected the key (error {code}: {message}). Check "
            "FRED_API_KEY, or unset it to use the keyless CSV download"
        )
    if "does not exist" in lowered:
        return SourceError(
            f"fred: series {series_id!r} does not exist (error {code}: {message}); "
            "check the id at https://fred.stlouisfed.org/"
        )
    return SourceError(f"fred: the FRED API refused series {series_id!r} (error {code}: {message})")


def parse_fred_csv(content: bytes | str, series_id: str) -> pd.Series:
    """Parse FRED's ``fredgraph.csv`` bytes into a series named ``series_id``.

    Accepts the current ``observation_date`` and the legacy ``DATE`` header; ``.`` and
    empty fields are NaN. With several value columns, the one named ``series_id`` is used.

    Parameters
    ----------
    content : bytes or str
        The response body.
    series_id : str
        The FRED id, also the name of the returned series.

    Returns
    -------
    pandas.Series
        float64 on a ``DatetimeIndex`` named ``"date"``, sorted.

    Raises
    ------
    SourceError
        The body is not a FRED CSV (an HTML error page, say) or a value is not numeric.

    Examples
    --------
    >>> body = b"observation_date,SP500\\n2024-01-01,\\n2024-01-02,4742.83\\n"
    >>> s = parse_fred_csv(body, "SP500")
    >>> s.name, s.index.name, s.tolist()
    ('SP500', 'date', [nan, 4742.83])
    >>> parse_fred_csv(b"DATE,DCOILWTICO\\n2020-04-20,-36.98\\n2020-04-21,.\\n", "DCOILWTICO").tolist()
    [-36.98, nan]
    """
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"fred: reply for {series_id!r} is not a CSV: {_head(text)!r}") from exc
    columns = [str(c).strip() for c in frame.columns]
    frame.columns = columns
    date_col = next((c for c in columns if c.lower() in _DATE_HEADERS), None)
    if date_col is None:
        raise SourceError(
            f"fred: reply for {series_id!r} has no observation_date/DATE column "
            f"(columns {columns[:5]}, starts {_head(text)!r})"
        )
    value_cols = [c for c in columns if c != date_col]
    if series_id in value_cols:
        value_col = series_id
    elif len(value_cols) == 1:
        value_col = value_cols[0]
    else:
        raise SourceError(f"fred: reply has no column {series_id!r} (columns {columns})")
    values = [
        _to_float(v, series_id, f"line {i + 2} ({d})")
        for i, (v, d) in enumerate(zip(frame[value_col], frame[date_col], strict=True))
    ]
    dates = _parse_dates(frame[date_col], series_id)
    return to_series_frame(values, dates, series_id).sort_index(kind="stable")


def parse_fred_json(payload: Mapping[str, Any] | str | bytes, series_id: str) -> pd.Series:
    """Parse a ``fred/series/observations`` JSON reply into a series named ``series_id``.

    Raises the error of :func:`fred_error` for an error payload.

    Examples
    --------
    >>> payload = {"observations": [
    ...     {"realtime_start": "2026-09-20", "realtime_end": "2026-09-20", "date": "2024-01-01", "value": "."},
    ...     {"realtime_start": "2026-09-20", "realtime_end": "2026-09-20", "date": "2024-01-02", "value": "70.38"}]}
    >>> parse_fred_json(payload, "DCOILWTICO").tolist()
    [nan, 70.38]
    """
    if isinstance(payload, (str, bytes)):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise SourceError(f"fred: reply for {series_id!r} is not JSON") from exc
    if not isinstance(payload, Mapping):
        raise SourceError(f"fred: reply for {series_id!r} is not a JSON object")
    if "error_message" in payload or "error_code" in payload:
        raise fred_error(payload, series_id)
    observations = payload.get("observations")
    if not isinstance(observations, list):
        raise SourceError(f"fred: reply for {series_id!r} has no 'observations' list")
    try:
        dates = [obs["date"] for obs in observations]
        values = [
            _to_float(obs.get("value"), series_id, f"observation {n + 1} ({obs.get('date')})")
            for n, obs in enumerate(observations)
        ]
    except (KeyError, TypeError, AttributeError) as exc:
        raise SourceError(f"fred: malformed observation in reply for {series_id!r}: {exc}") from exc
    return to_series_frame(
        values, _parse_dates(pd.Series(dates, dtype=object), series_id), series_id
    ).sort_index(kind="stable")


def _to_float(raw: Any, series_id: str, where: str) -> float:
    """:func:`~oilimpact.frames.parse_float`, with the series and row in the error."""
    try:
        return parse_float(raw)
    except ValueError:
        raise SourceError(
            f"fred: value {raw!r} of {series_id!r} at {where} is not a number nor a missing marker"
        ) from None


def _parse_dates(raw: pd.Series, series_id: str) -> pd.DatetimeIndex:
    try:
        return pd.DatetimeIndex(pd.to_datetime(raw.astype(str).str.strip(), format="%Y-%m-%d"))
    except (ValueError, TypeError) as exc:
        raise SourceError(f"fred: unreadable date in reply for {series_id!r}: {exc}") from None


def _head(text: str, n: int = 80) -> str:
    return " ".join(text[:n].split())
