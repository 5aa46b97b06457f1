"""The one HTTP helper every network source uses.

:func:`get` wraps :mod:`requests` with the policy oilimpact wants for every provider:

* connect and read timeouts (:data:`DEFAULT_TIMEOUT`, overridable with the
  ``OILIMPACT_HTTP_TIMEOUT`` environment variable, in seconds, for the read timeout);
* bounded retries (:data:`DEFAULT_RETRIES`, or ``OILIMPACT_HTTP_RETRIES``) with
  exponential backoff on HTTP 429 and 5xx and on connection errors, honouring a
  ``Retry-After`` header up to :data:`MAX_RETRY_AFTER` seconds;
* a retry budget (:data:`RETRY_BUDGET`): no retry is started, and no connection attempt
  waits, beyond it, so a machine without a network fails within about 20 seconds
  (a DNS lookup is not bounded by the connect timeout; an offline resolver normally
  fails at once);
* typed errors from :mod:`oilimpact.errors`: :class:`~oilimpact.errors.RateLimitError`
  for a final 429, :class:`~oilimpact.errors.AuthError` for 401/403 and
  :class:`~oilimpact.errors.SourceError` for everything else. Messages name the source
  and say what to do (``--offline`` or ``oilimpact import FILE``).

API keys never reach a message or a log line: every message goes through
:func:`oilimpact.errors.scrub` with the caller's ``secrets``, and only scrubbed URLs
are logged (at DEBUG). Exceptions are raised ``from None`` because the text of a
:mod:`requests` exception contains the full URL, key included.
"""

from __future__ import annotations

import email.utils
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from ..errors import AuthError, OilImpactError, RateLimitError, SourceError, scrub

__all__ = [
    "BACKOFF_BASE",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "MAX_RETRY_AFTER",
    "OFFLINE_HINT",
    "RETRY_BUDGET",
    "Params",
    "backoff_delay",
    "build_url",
    "get",
    "make_session",
]

logger = logging.getLogger(__name__)

#: ``(connect, read)`` timeouts in seconds.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
#: Retries after the first attempt (so at most ``DEFAULT_RETRIES + 1`` requests).
DEFAULT_RETRIES = 3
#: Backoff before retry ``n`` (0-based) is ``BACKOFF_BASE * 2**n`` seconds.
BACKOFF_BASE = 0.5
#: Longest ``Retry-After`` honoured, in seconds; a longer one ends the retries.
MAX_RETRY_AFTER = 10.0
#: Seconds after which no further attempt is started and connect timeouts are cut short.
RETRY_BUDGET = 18.0
#: What a user can do when a provider cannot be used.
OFFLINE_HINT = (
    "use --offline to work from the local store, or load the data from a file "
    "with `oilimpact import FILE`"
)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Query parameters: a mapping or a sequence of ``(name, value)`` pairs (repeated names).
Params = Mapping[str, Any] | Sequence[tuple[str, Any]]
#: A provider hook that turns a final non-2xx response into a specific error (or None).
ErrorHook = Callable[[requests.Response], OilImpactError | None]


class _ScrubFilter(logging.Filter):
    """Rewrites records of a third-party logger through :func:`scrub`.

    urllib3 logs each request line, query string included, at DEBUG: with this filter
    an ``api_key=`` parameter shows as ``api_key=***``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - a malformed record is left alone
            return True
        record.msg, record.args = scrub(message), ()
        return True


_SCRUBBED_LOGGERS = ("urllib3.connectionpool",)


def _install_log_scrubber() -> None:
    for name in _SCRUBBED_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, _ScrubFilter) for f in target.filters):
            target.addFilter(_ScrubFilter())


# Indirection so tests can make backoff instantaneous.
_sleep = time.sleep
_clock = time.monotonic


def make_session(user_agent: str | None = None) -> requests.Session:
    """Return a :class:`requests.Session` with oilimpact's User-Agent.

    Retries are done by :func:`get`, not by the session's adapters.

    Examples
    --------
    >>> s = make_session()
    >>> s.headers["User-Agent"].startswith("oilimpact/")
    True
    """
    from .. import __version__ as version  # local: avoid a cycle at package import

    session = requests.Session()
    session.headers["User-Agent"] = user_agent or f"oilimpact/{version} (python-requests)"
    return session


def build_url(url: str, params: Params | None = None) -> str:
    """Return the full URL ``requests`` would send (not scrubbed: never log it as is).

    Examples
    --------
    >>> build_url("https://x.test/a", {"id": "SP500", "cosd": "2024-01-02"})
    'https://x.test/a?id=SP500&cosd=2024-01-02'
    """
    prepared = requests.Request("GET", url, params=_as_pairs(params)).prepare()
    return str(prepared.url)


def backoff_delay(attempt: int, response: requests.Response | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based).

    A ``Retry-After`` header (seconds or an HTTP date) wins over the exponential
    backoff; it may exceed :data:`MAX_RETRY_AFTER`, in which case :func:`get` stops.

    Examples
    --------
    >>> [backoff_delay(n) for n in range(3)]
    [0.5, 1.0, 2.0]
    """
    if response is not None:
        retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
        if retry_after is not None:
            return retry_after
    return BACKOFF_BASE * 2**attempt


def get(
    url: str,
    params: Params | None = None,
    *,
    source: str,
    secrets: Iterable[str | None] = (),
    session: requests.Session | None = None,
    timeout: tuple[float, float] | None = None,
    retries: int | None = None,
    on_error: ErrorHook | None = None,
    what: str = "",
) -> requests.Response:
    """GET ``url`` with timeouts, bounded retries and typed, key-free errors.

    Parameters
    ----------
    url : str
        Endpoint without query string.
    params : mapping or sequence of pairs, optional
        Query parameters; may hold an API key (it is never logged).
    source : str
        Provider name used in messages (``"fred"``, ``"eia"``).
    secrets : iterable of str, optional
        Extra strings (API keys) to remove from every message and log line.
    session : requests.Session, optional
        Session to use; a new one from :func:`make_session` by default.
    timeout : (float, float), optional
        ``(connect, read)`` seconds; :data:`DEFAULT_TIMEOUT` with the read part taken
        from ``OILIMPACT_HTTP_TIMEOUT`` when set.
    retries : int, optional
        Retries after the first attempt; :data:`DEFAULT_RETRIES` or
        ``OILIMPACT_HTTP_RETRIES``.
    on_error : callable, optional
        Called with the final non-2xx response; may return a provider-specific error
        to raise instead of the generic one.
    what : str, optional
        What was requested (``"series 'SP500'"``), added to messages.

    Returns
    -------
    requests.Response
        A response with a 2xx status.

    Raises
    ------
    RateLimitError
        HTTP 429 on the last attempt (or a ``Retry-After`` beyond the cap).
    AuthError
        HTTP 401 or 403.
    SourceError
        Any other failure: connection error, timeout, other non-2xx status.
    """
    secret_list = [s for s in secrets if s]
    _install_log_scrubber()
    session = session or make_session()
    connect, read = timeout or _default_timeout()
    retries = _default_retries() if retries is None else retries
    pairs = _as_pairs(params)
    safe_url = scrub(build_url(url, pairs), *secret_list)
    host = urlsplit(url).netloc or url
    subject = f" for {what}" if what else ""
    started = _clock()
    attempt = 0
    while True:
        remaining = RETRY_BUDGET - (_clock() - started)
        this_connect = max(0.5, min(connect, remaining))
        logger.debug("%s: GET %s (attempt %d)", source, safe_url, attempt + 1)
        try:
            response = session.get(url, params=pairs, timeout=(this_connect, read))
        except requests.exceptions.RequestException as exc:
            reason = _describe_exception(exc, secret_list)
            logger.debug("%s: GET %s failed: %s", source, safe_url, reason)
            delay = backoff_delay(attempt)
            if _retryable_exception(exc) and _can_retry(attempt, retries, started, delay):
                _sleep(delay)
                attempt += 1
                continue
            elapsed = _clock() - started
            raise SourceError(
                scrub(
                    f"{source}: could not get data from {host}{subject} after "
                    f"{attempt + 1} attempt(s) in {elapsed:.1f} s ({reason}). "
                    f"Check the network connection, or {OFFLINE_HINT}.",
                    *secret_list,
                )
            ) from None
        logger.debug("%s: GET %s -> HTTP %d", source, safe_url, response.status_code)
        if response.ok:
            return response
        delay = backoff_delay(attempt, response)
        if (
            response.status_code in RETRY_STATUSES
            and delay <= MAX_RETRY_AFTER
            and _can_retry(attempt, retries, started, delay)
        ):
            _sleep(delay)
            attempt += 1
            continue
        raise _status_error(response, source, host, subject, attempt + 1, secret_list, on_error)


def _status_error(
    response: requests.Response,
    source: str,
    host: str,
    subject: str,
    attempts: int,
    secrets: Sequence[str],
    on_error: ErrorHook | None,
) -> OilImpactError:
    """The typed error for a final non-2xx ``response`` (scrubbed)."""
    if on_error is not None:
        custom = on_error(response)
        if custom is not None:
            custom.args = (scrub(custom.args[0] if custom.args else "", *secrets),)
            return custom
    status = response.status_code
    body = _body_excerpt(response, secrets)
    detail = f": {body}" if body else ""
    if status == 429:
        wait = response.headers.get("Retry-After")
        hint = f" (server asks to wait {scrub(wait, *secrets)} s)" if wait else ""
        return RateLimitError(
            scrub(
                f"{source}: rate limited by {host}{subject} (HTTP 429 after {attempts} "
                f"attempt(s)){hint}{detail}. Wait and try again later, or {OFFLINE_HINT}.",
                *secrets,
            )
        )
    if status in (401, 403):
        return AuthError(
            scrub(
                f"{source}: {host} refused the request{subject} (HTTP {status}){detail}. "
                f"Check the API key, or {OFFLINE_HINT}.",
                *secrets,
            )
        )
    return SourceError(
        scrub(
            f"{source}: {host} answered HTTP {status}{subject} after {attempts} "
            f"attempt(s){detail}. If this persists, {OFFLINE_HINT}.",
            *secrets,
        )
    )


def _can_retry(attempt: int, retries: int, started: float, delay: float) -> bool:
    return attempt < retries and (_clock() - started) + delay < RETRY_BUDGET


def _retryable_exception(exc: requests.exceptions.RequestException) -> bool:
    return isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout))


def _describe_exception(exc: BaseException, secrets: Sequence[str]) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        kind = "connection timed out"
    elif isinstance(exc, requests.exceptions.ReadTimeout):
        kind = "read timed out"
    elif isinstance(exc, requests.exceptions.ConnectionError):
        kind = "connection failed"
    else:
        kind = type(exc).__name__
    cause = _root_cause_name(exc)
    return scrub(f"{kind}: {cause}", *secrets)


def _root_cause_name(exc: BaseException) -> str:
    """The class name of the innermost urllib3 reason (``NameResolutionError``, ...).

    Only class names are used: the texts of these exceptions contain the full URL.
    """
    name = type(exc).__name__
    node: object = exc.args[0] if exc.args else None
    for _ in range(4):
        reason = getattr(node, "reason", None)
        if not isinstance(reason, BaseException):
            break
        name, node = type(reason).__name__, reason
    return name


def _body_excerpt(response: requests.Response, secrets: Sequence[str], limit: int = 300) -> str:
    try:
        text = response.text
    except Exception:  # pragma: no cover - undecodable body
        return ""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit] + "..."
    return scrub(text, *secrets)


def _retry_after_seconds(value: str | None) -> float | None:
    """Parse a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/bad.

    Examples
    --------
    >>> _retry_after_seconds("3"), _retry_after_seconds(None), _retry_after_seconds("soon")
    (3.0, None, None)
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _as_pairs(params: Params | None) -> list[tuple[str, Any]]:
    if params is None:
        return []
    if isinstance(params, Mapping):
        return list(params.items())
    return list(params)


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        logger.warning("ignoring %s=%r: not a number", name, raw)
        return default
    return value if value >= 0 else default


def _default_timeout() -> tuple[float, float]:
    connect, read = DEFAULT_TIMEOUT
    return connect, _env_number("OILIMPACT_HTTP_TIMEOUT", read)


def _default_retries() -> int:
    return int(_env_number("OILIMPACT_HTTP_RETRIES", DEFAULT_RETRIES))
