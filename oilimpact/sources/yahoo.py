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
empty or all-NaN frame instead of raising. The adapter captures those log records and
raises :class:`~oilimpact.errors.EmptyDataError` or, when Yahoo rate-limited the
request (``YFRateLimitError``), :class:`~oilimpact.errors.RateLimitError`, naming the
ticker. yfinance is imported lazily (it is slow to import) and its tz/cookie cache is
moved to a temporary directory at the first fetch so CI never writes to ``~/.cache``.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import EmptyDataError, RateLimitError, SourceError
from ..frames import to_series_frame
from ..series import SourceRef
from . import http
from .base import Source, clip_to_range

__all__ = ["YahooSource", "download_kwargs", "parse_yf_download"]

_CACHE_LOCK = threading.Lock()
_cache_dir_set: str | None = None
_RATE_LIMIT_MARKERS = ("YFRateLimitError", "Rate limited", "Too Many Requests")


def download_kwargs(symbol: str, start: date | None, end: date | None) -> dict[str, Any]:
    """The keyword arguments given to :func:`yfinance.download` (the request step).

    ``end`` is inclusive here and exclusive in yfinance, so one day is added.
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
    if start is None and end is None:
        kwargs["period"] = "max"
    if start is not None:
        kwargs["start"] = start.isoformat()
    if end is not None:
        kwargs["end"] = (end + timedelta(days=1)).isoformat()
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
        EmptyDataError
            No rows, or only NaN closes (unknown or delisted ticker, empty range).
        SourceError
            yfinance failed in another way or returned an unexpected shape.
        """
        self.check_ref(ref)
        symbol = ref.id
        download = self._download or _yf_download(self.cache_dir)
        kwargs = download_kwargs(symbol, start, end)
        kwargs["timeout"] = self.timeout
        with _capture_yf_log() as messages:
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
            extra = f"; yfinance said: {detail}" if detail else ""
            raise EmptyDataError(
                f"{exc}{extra}. Check the ticker and dates, or {http.OFFLINE_HINT}"
            ) from None
        return series


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
