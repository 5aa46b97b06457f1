"""Yahoo Finance through :func:`yfinance.download` (yfinance 1.x), adjusted close.

The adapter pins every option whose default changed across yfinance versions:
``auto_adjust=True`` (the ``Close`` column is the **split- and dividend-adjusted
close**; there is no ``Adj Close``), ``actions=False``, ``progress=False``,
``multi_level_index=True`` (columns are always ``(Price, Ticker)``) and
``threads=False``. It never passes a ``requests_cache`` session (yfinance rejects it).

Dates: a daily download has a tz-naive ``Date`` index holding the **exchange-local
session date**; it is kept as is. A tz-aware index (intraday, or a future yfinance)
is converted to the exchange timezone when given, then its wall-clock date is kept.

Failures: yfinance logs per-ticker errors ("1 Failed download: ...") and returns an
empty or all-NaN frame instead of raising, also when the network is down. The adapter
captures those log records and raises, naming the ticker:

* :class:`~oilimpact.errors.RateLimitError` when Yahoo rate-limited the request
  (``YFRateLimitError``, :data:`_RATE_LIMIT_MARKERS`);
* :class:`~oilimpact.errors.SourceError` when the log shows a network or HTTP failure
  (:data:`NETWORK_FAILURE_MARKERS`: curl's "Failed to perform", "Could not resolve
  host", ``DNSError``, timeouts, refused connections, HTTP errors). A connection-level
  failure (:data:`CONNECT_FAILURE_MARKERS`) is also recorded with
  :func:`oilimpact.sources.http.mark_unreachable` under :data:`YAHOO_HOST`, so the next
  Yahoo series of the run fails at once instead of waiting again;
* :class:`~oilimpact.errors.EmptyDataError` only for a download that worked and holds
  no rows in the range (unknown or delisted ticker, empty range).

Futures time spreads: a reference with a ``curve`` option (``SourceRef("yahoo", "BZ",
{"curve": "M1-M2"})``, the registry's ``brent_m1_m2``) is not one ticker but a spread of
single contracts: every contract month that is contract 1..k on some session of the range
is downloaded by its own symbol (``BZH26.NYM``, :func:`oilimpact.contracts.contract_symbol`)
and :func:`oilimpact.contracts.spread_from_contracts` takes near minus far from the two
contracts of each session, never from the rolled ``BZ=F``. A contract Yahoo no longer
lists (it drops expired contracts) leaves its sessions missing; the fetch fails only when
no contract has data. Without ``start`` the last :data:`CURVE_DEFAULT_DAYS` days are
fetched (the contracts of older sessions are usually gone from Yahoo).

yfinance's own pandas deprecation noise (``Pandas4Warning``, ``FutureWarning``,
``DeprecationWarning``) is silenced for the duration of the call. yfinance is imported
lazily (it is slow to import) and its tz/cookie cache is moved to a temporary directory
at the first fetch so CI never writes to ``~/.cache``.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from .. import contracts
from ..errors import EmptyDataError, RateLimitError, SourceError
from ..frames import to_series_frame
from ..series import SourceRef
from . import http
from .base import DateLike, Source, as_date, clip_to_range, format_date

__all__ = [
    "CONNECT_FAILURE_MARKERS",
    "CURVE_DEFAULT_DAYS",
    "NETWORK_FAILURE_MARKERS",
    "YAHOO_HOST",
    "YahooSource",
    "download_kwargs",
    "parse_yf_download",
]

_CACHE_LOCK = threading.Lock()
_cache_dir_set: str | None = None
_RATE_LIMIT_MARKERS = ("YFRateLimitError", "Rate limited", "Too Many Requests")
#: Texts in yfinance's log that mean the host could not be reached at all (DNS failure,
#: refused or timed-out connection; curl codes 5, 6, 7 and 28).
CONNECT_FAILURE_MARKERS = (
    "Could not resolve host",
    "Could not resolve proxy",
    "DNSError",
    "NameResolutionError",
    "Failed to resolve",
    "Name or service not known",
    "Temporary failure in name resolution",
    "curl: (5)",
    "curl: (6)",
    "curl: (7)",
    "curl: (28)",
    "Failed to connect",
    "Couldn't connect",
    "Connection refused",
    "ConnectTimeout",
    "Connection timed out",
)
#: Texts in yfinance's log that mean a network or HTTP failure rather than "no data":
#: the connect-level ones plus curl's generic "Failed to perform", other curl codes,
#: resets, TLS and HTTP 5xx errors (a 404 is an unknown ticker: "no data").
NETWORK_FAILURE_MARKERS = CONNECT_FAILURE_MARKERS + (
    "Failed to perform",
    "curl: (",
    "ConnectionError",
    "Connection reset",
    "Connection aborted",
    "Timeout",
    "timed out",
    "SSLError",
    "SSL certificate",
    "ProxyError",
    "HTTP Error 5",
    "Server Error",  # requests' "500 Server Error: ..." (a 404 is "Client Error": no data)
    "Service Unavailable",
    "Bad Gateway",
    "Gateway Time",
)
#: Days fetched for a ``curve`` reference without ``start``.
CURVE_DEFAULT_DAYS = 365
#: Key of Yahoo in :mod:`oilimpact.sources.http`'s unreachable-host record.
YAHOO_HOST = "finance.yahoo.com"
#: Warning categories of yfinance's pandas usage silenced during a download.
_NOISY_WARNINGS: tuple[type[Warning], ...] = (FutureWarning, DeprecationWarning)


def download_kwargs(symbol: str, start: DateLike | None, end: DateLike | None) -> dict[str, Any]:
    """The keyword arguments given to :func:`yfinance.download` (the request step).

    ``end`` is inclusive here and exclusive in yfinance, so one day is added. Dates of
    any type are sent as ``YYYY-MM-DD`` (:func:`~oilimpact.sources.base.format_date`).
    Without dates the whole history (``period="max"``) is requested.

    Examples
    --------
    >>> kw = download_kwargs("CL=F", date(2025, 12, 1), date(2025, 12, 19))
    >>> kw["start"], kw["end"], kw["auto_adjust"], kw["multi_level_index"]
    ('2025-12-01', '2025-12-20', True, True)
    >>> download_kwargs("XLE", None, None)["period"]
    'max'
    """
    kwargs: dict[str, Any] = {
        "tickers": symbol,
        "interval": "1d",
        "auto_adjust": True,
        "actions": False,
        "progress": False,
        "multi_level_index": True,
        "threads": False,
        "group_by": "column",
    }
    first, last = as_date(start, "start"), as_date(end, "end")
    if first is None and last is None:
        kwargs["period"] = "max"
    if first is not None:
        kwargs["start"] = format_date(first)
    if last is not None:
        kwargs["end"] = format_date(last + timedelta(days=1))
    return kwargs


class YahooSource(Source):
    """Daily adjusted closes from Yahoo Finance via yfinance.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Where yfinance keeps its tz/cookie caches; a directory under the system temp
        dir by default. Set once per process, at the first fetch.
    timeout : float, optional
        yfinance's per-request timeout in seconds.
    exchange_tz : str, optional
        Timezone to convert a tz-aware index to before taking the date.
    download : callable, optional
        Replacement for :func:`yfinance.download` (tests).

    Examples
    --------
    >>> YahooSource().name
    'yahoo'
    """

    name = "yahoo"

    def __init__(
        self,
        *,
        cache_dir: str | Path | None = None,
        timeout: float = 10.0,
        exchange_tz: str | None = None,
        download: Callable[..., pd.DataFrame] | None = None,
    ) -> None:
        self.cache_dir = (
            Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "oilimpact-yfinance"
        )
        self.timeout = timeout
        self.exchange_tz = exchange_tz
        self._download = download

    def fetch(
        self, ref: SourceRef, start: date | None = None, end: date | None = None
    ) -> pd.Series:
        """Download the adjusted close of ticker ``ref.id``; see :meth:`Source.fetch`.

        Raises
        ------
        RateLimitError
            Yahoo rate-limited the request (``YFRateLimitError``).
        SourceError
            yfinance logged a network or HTTP failure (no network, DNS failure, timeout,
            HTTP error), failed in another way or returned an unexpected shape; or Yahoo
            was found unreachable earlier in this process (fails at once).
        EmptyDataError
            The download worked but holds no rows, or only NaN closes, in the range
            (unknown or delisted ticker, empty range).
        """
        self.check_ref(ref)
        if ref.options.get("curve"):
            return self._fetch_curve(ref, as_date(start, "start"), as_date(end, "end"))
        symbol = ref.id
        start, end = as_date(start, "start"), as_date(end, "end")
        known_down = http.unreachable_error(YAHOO_HOST, source=self.name, what=repr(symbol))
        if known_down is not None:
            raise known_down
        download = self._download or _yf_download(self.cache_dir)
        kwargs = download_kwargs(symbol, start, end)
        kwargs["timeout"] = self.timeout
        with _capture_yf_log() as messages, warnings.catch_warnings():
            for category in _NOISY_WARNINGS:
                warnings.simplefilter("ignore", category)
            try:
                frame = download(**kwargs)
            except Exception as exc:  # yfinance raises few, and only its own types
                raise _error_from_exception(exc, symbol) from None
        detail = _summarise(messages)
        if any(marker in detail for marker in _RATE_LIMIT_MARKERS):
            raise RateLimitError(
                f"yahoo: rate limited while downloading {symbol!r} ({detail}); wait and try "
                f"again later, or {http.OFFLINE_HINT}"
            )
        try:
            series = parse_yf_download(frame, symbol, exchange_tz=self.exchange_tz)
            series = clip_to_range(series, start, end)
            if not series.notna().any():
                raise EmptyDataError(f"yahoo: no closes for {symbol!r} in the requested range")
        except EmptyDataError as exc:
            network = _network_failure(messages)
            if network is not None:
                raise _network_error(symbol, detail, connect_level=network) from None
            extra = f"; yfinance said: {detail}" if detail else ""
            raise EmptyDataError(
                f"{exc}{extra}. Check the ticker and dates, or {http.OFFLINE_HINT}"
            ) from None
        return series

    def _fetch_curve(self, ref: SourceRef, start: date | None, end: date | None) -> pd.Series:
        """A futures time spread from single-contract downloads (see the module docstring).

        Raises
        ------
        ConfigError
            Unknown root or a ``curve`` option not like ``"M1-M2"``.
        RateLimitError, SourceError
            As :meth:`fetch`, from any contract's download.
        EmptyDataError
            No contract of the range has a close.
        """
        near, far = contracts.parse_curve(str(ref.options["curve"]))
        last = end or date.today()
        first = start or (last - timedelta(days=CURVE_DEFAULT_DAYS))
        closes: dict[pd.Period, pd.Series] = {}
        missing: list[str] = []
        for month in contracts.contracts_needed(ref.id, first, last, far):
            symbol = contracts.contract_symbol(ref.id, month)
            try:
                closes[month] = self.fetch(SourceRef(self.name, symbol), first, last)
            except EmptyDataError:
                missing.append(symbol)
        spread = contracts.spread_from_contracts(closes, ref.id, near, far, name=ref.id)
        spread = clip_to_range(spread, first, last)
        if not spread.notna().any():
            raise EmptyDataError(
                f"yahoo: no {ref.id} {ref.options['curve']} spread from {first} to {last}: "
                f"no session has closes of both contracts (no data for "
                f"{', '.join(missing) or 'none'}); Yahoo drops expired contracts, so fetch "
                f"recent dates, or {http.OFFLINE_HINT}"
            )
        return spread


def parse_yf_download(
    frame: pd.DataFrame | None, symbol: str, *, exchange_tz: str | None = None
) -> pd.Series:
    """The ``Close`` of ``symbol`` from a :func:`yfinance.download` frame (pure).

    Parameters
    ----------
    frame : pandas.DataFrame
        yfinance 1.x output: columns a MultiIndex named ``['Price', 'Ticker']`` (flat
        price columns are accepted too), index ``Date``.
    symbol : str
        The ticker (matched case-insensitively: yfinance upper-cases tickers).
    exchange_tz : str, optional
        For a tz-aware index, the exchange timezone whose local date is kept.

    Returns
    -------
    pandas.Series
        Adjusted close, float64, on a tz-naive ``DatetimeIndex`` named ``"date"`` (the
        exchange-local session date), sorted, named ``symbol``.

    Raises
    ------
    EmptyDataError
        No rows, no column for ``symbol``, or all closes NaN.

    Examples
    --------
    >>> cols = pd.MultiIndex.from_product([["Close", "Open"], ["CL=F"]], names=["Price", "Ticker"])
    >>> idx = pd.DatetimeIndex(["2025-12-15", "2025-12-16"], name="Date")
    >>> df = pd.DataFrame([[56.8, 57.0], [55.9, 56.7]], index=idx, columns=cols)
    >>> s = parse_yf_download(df, "CL=F")
    >>> s.name, s.index.name, s.tolist()
    ('CL=F', 'date', [56.8, 55.9])
    """
    if frame is None or frame.empty:
        raise EmptyDataError(f"yahoo: no data for {symbol!r} (empty frame)")
    flat = _flatten(frame, symbol)
    close_col = next((c for c in flat.columns if str(c).lower() == "close"), None)
    if close_col is None:
        raise SourceError(f"yahoo: no Close column for {symbol!r} (columns {list(flat.columns)})")
    close = flat[close_col]
    if isinstance(close, pd.DataFrame):  # duplicated column labels
        close = close.iloc[:, 0]
    index = pd.DatetimeIndex(close.index)
    if index.tz is not None:
        if exchange_tz:
            index = index.tz_convert(exchange_tz)
        index = index.tz_localize(None)
    try:
        series = to_series_frame(close.to_numpy(), index, symbol)
    except (ValueError, TypeError) as exc:
        raise SourceError(f"yahoo: non-numeric Close for {symbol!r}: {exc}") from None
    series = series.sort_index(kind="stable")
    if not series.notna().any():
        raise EmptyDataError(f"yahoo: all closes are NaN for {symbol!r} (failed download)")
    return series


def _flatten(frame: pd.DataFrame, symbol: str) -> pd.DataFrame:
    if not isinstance(frame.columns, pd.MultiIndex):
        return frame
    names = list(frame.columns.names)
    level: Any = "Ticker" if "Ticker" in names else 1
    tickers = list(frame.columns.get_level_values(level).unique())
    match = next((t for t in tickers if str(t) == symbol), None)
    if match is None:
        match = next((t for t in tickers if str(t).upper() == symbol.upper()), None)
    if match is None:
        raise EmptyDataError(f"yahoo: no columns for {symbol!r} in the download (got {tickers})")
    return frame.xs(match, level=level, axis=1)


def _network_failure(messages: list[str]) -> bool | None:
    """None when the log shows no network failure; else whether it was connect-level."""
    text = " ".join(messages)
    if not any(marker in text for marker in NETWORK_FAILURE_MARKERS):
        return None
    return any(marker in text for marker in CONNECT_FAILURE_MARKERS)


def _network_error(symbol: str, detail: str, *, connect_level: bool) -> SourceError:
    """The error for a download yfinance turned into an empty frame after a network failure.

    A connect-level failure also marks :data:`YAHOO_HOST` unreachable for
    :data:`oilimpact.sources.http.UNREACHABLE_TTL` seconds.
    """
    if connect_level:
        http.mark_unreachable(YAHOO_HOST, "yfinance could not connect")
    return SourceError(
        f"yahoo: could not download {symbol!r}: network failure ({detail}). Check the "
        f"network connection, or {http.OFFLINE_HINT}"
    )


def _error_from_exception(exc: Exception, symbol: str) -> SourceError:
    name = type(exc).__name__
    text = str(exc)
    if name == "YFRateLimitError" or any(m in text for m in _RATE_LIMIT_MARKERS):
        return RateLimitError(
            f"yahoo: rate limited while downloading {symbol!r} ({text}); wait and try again "
            f"later, or {http.OFFLINE_HINT}"
        )
    if name in ("YFTickerMissingError", "YFPricesMissingError", "YFTzMissingError"):
        return EmptyDataError(f"yahoo: no data for {symbol!r} ({text}); check the ticker")
    return SourceError(
        f"yahoo: download of {symbol!r} failed ({name}: {text}); {http.OFFLINE_HINT}"
    )


def _yf_download(cache_dir: Path) -> Callable[..., pd.DataFrame]:
    """Import yfinance, point its caches at ``cache_dir`` (once), return ``download``."""
    global _cache_dir_set
    try:
        import yfinance as yf
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise SourceError(
            f"yahoo: yfinance is not installed ({exc}); pip install yfinance"
        ) from None
    with _CACHE_LOCK:
        if _cache_dir_set is None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            yf.set_tz_cache_location(str(cache_dir))
            _cache_dir_set = str(cache_dir)
    return yf.download


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # pragma: no cover - a malformed record
            pass


@contextmanager
def _capture_yf_log() -> Iterator[list[str]]:
    """Collect yfinance's WARNING+ log messages during the block."""
    yf_logger = logging.getLogger("yfinance")
    handler = _ListHandler()
    yf_logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        yf_logger.removeHandler(handler)


def _summarise(messages: list[str], limit: int = 300) -> str:
    text = " ".join(" ".join(m.split()) for m in messages if m.strip())
    return text[:limit] + ("..." if len(text) > limit else "")
