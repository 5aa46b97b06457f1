"""One logging filter that keeps API keys out of every log record of oilimpact.

:class:`ScrubFilter` rewrites a record's message (and its formatted traceback and stack)
through :func:`oilimpact.errors.scrub`, which removes ``api_key=...`` parameters,
``"api_key": "..."`` members, the values of ``EIA_API_KEY`` / ``FRED_API_KEY`` and every
key passed to :func:`register_secret` (the sources register a key given as an argument).

Why a record factory, not a filter on the ``oilimpact`` logger
---------------------------------------------------------------
A filter attached to a *logger* runs only for records logged on that very logger: a
record of ``oilimpact.sources.eia`` propagates to the handlers of ``oilimpact`` and of
the root logger, but never through their filters. A filter on a *handler* sees every
record that reaches the handler, but the handlers belong to the application (pytest's
``caplog``, ``logging.basicConfig``, a file handler), not to the library. So
:func:`install` wraps the process's log-record factory
(:func:`logging.setLogRecordFactory`): every record whose logger is ``oilimpact``, one
of its children, or one of the HTTP libraries in :data:`SCRUBBED_LOGGERS` is scrubbed
when it is created, before any filter or handler sees it. Records are only created
for enabled levels, so a quiet process pays nothing. ``import oilimpact`` installs it
once; the previous factory is kept and called first, so other factories still apply.

As a second line, :func:`get_logger` attaches the same filter to a module's own logger
(the package's modules use it), which still scrubs if an application later replaces
the record factory without chaining to ours.

Examples
--------
>>> import logging
>>> install()
>>> record = logging.getLogRecordFactory()(
...     "oilimpact.sources.eia", logging.DEBUG, __file__, 1,
...     "GET %s", ("https://api.eia.gov/v2/x?api_key=abc123&length=5",), None)
>>> record.getMessage()
'GET https://api.eia.gov/v2/x?api_key=***&length=5'
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from .errors import scrub

__all__ = ["SCRUBBED_LOGGERS", "ScrubFilter", "get_logger", "install", "register_secret"]

#: Loggers scrubbed besides ``oilimpact`` and its children: the HTTP stack logs request
#: lines with their query strings at DEBUG.
SCRUBBED_LOGGERS: tuple[str, ...] = ("urllib3", "requests", "yfinance", "peewee")

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register_secret(value: str | None) -> None:
    """Scrub ``value`` (an API key given as an argument, not in the environment) too.

    Values shorter than 4 characters are ignored (they would mangle ordinary text).
    """
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def _scrub(text: str) -> str:
    return scrub(text, *_secrets)


def _covered(name: str) -> bool:
    if name == "oilimpact" or name.startswith("oilimpact."):
        return True
    return any(name == n or name.startswith(n + ".") for n in SCRUBBED_LOGGERS)


class ScrubFilter(logging.Filter):
    """Rewrite a record so that it holds no API key; never drops a record.

    The message is formatted (``msg % args``) and scrubbed, ``args`` emptied; a
    traceback is formatted now and scrubbed into ``exc_text`` (which formatters use
    instead of formatting ``exc_info`` again), and ``stack_info`` is scrubbed.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_oilimpact_scrubbed", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: scrub its parts as they are
            message = f"{record.msg} {record.args}"
        record.msg, record.args = _scrub(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = _scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = _scrub(record.stack_info)
        record._oilimpact_scrubbed = True  # type: ignore[attr-defined]
        return True


_FILTER = ScrubFilter()


def install() -> None:
    """Wrap the log-record factory so every covered record is scrubbed (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _covered(record.name):
                _FILTER.filter(record)
            return record

        factory._oilimpact_scrub = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)
        for name in SCRUBBED_LOGGERS:
            _attach(logging.getLogger(name))
        _installed = True


def _attach(logger: logging.Logger) -> logging.Logger:
    if not any(isinstance(f, ScrubFilter) for f in logger.filters):
        logger.addFilter(_FILTER)
    return logger


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with :class:`ScrubFilter` attached (and :func:`install`).

    Use it for a module logger: ``logger = get_logger(__name__)``.
    """
    install()
    return _attach(logging.getLogger(name))
