"""The one HTTP helper every network source uses.

:func:`get` wraps :mod:`requests` with the policy oilimpact wants for every provider:

* connect and read timeouts (:data:`DEFAULT_TIMEOUT`, overridable with the
  ``OILIMPACT_HTTP_TIMEOUT`` environment variable, in seconds, for the read timeout);
* bounded retries (:data:`DEFAULT_RETRIES`, or ``OILIMPACT_HTTP_RETRIES``) with
  exponential backoff on HTTP 429 and 5xx and on connection errors, honouring a
  ``Retry-After`` header up to :data:`MAX_RETRY_AFTER` seconds;
* a retry budget (:data:`RETRY_BUDGET`): no retry is started beyond it, and each
  attempt's connect **and read** timeouts are cut to what is left of it (never below
  :data:`MIN_ATTEMPT_TIMEOUT`), so a machine without a network, or a server that accepts
  the connection and never answers, fails within about 20 seconds (a DNS lookup is not
  bounded by the connect timeout; an offline resolver normally fails at once);
* no retry of a DNS failure (``NameResolutionError``, "Name or service not known"): a
  name that does not resolve will not resolve a second later;
* a process-level record of unreachable hosts: a host that failed at the connection
  level (DNS failure, connection refused, connect timeout) is not tried again for
  :data:`UNREACHABLE_TTL` seconds; later requests to it fail at once with the same
  advice, so a run over many series pays the timeouts once. :func:`mark_unreachable`
  lets a client library's adapter (yfinance) share the record;
  :func:`reset_unreachable_hosts` clears it (tests, or a long-lived process that knows
  the network is back);
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
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from .. import logs
from ..errors import AuthError, OilImpactError, RateLimitError, SourceError, scrub

__all__ = [
    "BACKOFF_BASE",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "MAX_RETRY_AFTER",
    "MIN_ATTEMPT_TIMEOUT",
    "OFFLINE_HINT",
    "RETRY_BUDGET",
    "UNREACHABLE_TTL",
    "Params",
    "backoff_delay",
    "build_url",
    "get",
    "make_session",
    "mark_unreachable",
    "reset_unreachable_hosts",
    "unreachable_error",
]

logger = logs.get_logger(__name__)

#: ``(connect, read)`` timeouts in seconds.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
#: Retries after the first attempt (so at most ``DEFAULT_RETRIES + 1`` requests).
DEFAULT_RETRIES = 3
#: Backoff before retry ``n`` (0-based) is ``BACKOFF_BASE * 2**n`` seconds.
BACKOFF_BASE = 0.5
#: Longest ``Retry-After`` honoured, in seconds; a longer one ends the retries.
MAX_RETRY_AFTER = 10.0
#: Seconds after which no further attempt is started; each attempt's connect and read
#: timeouts are cut to what remains of it.
RETRY_BUDGET = 18.0
#: Shortest connect or read timeout the budget cuts an attempt to (a smaller explicit
#: ``timeout=`` is kept).
MIN_ATTEMPT_TIMEOUT = 1.0
#: Seconds during which a host that failed at the connection level is not tried again.
UNREACHABLE_TTL = 300.0
#: What a user can do when a provider cannot be used.
OFFLINE_HINT = (
    "use --offline to work from the local store, or load the data from a file "
    "with `oilimpact import FILE`"
)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Texts of a DNS failure in an exception chain (urllib3 ``NameResolutionError`` wraps
#: the resolver's ``socket.gaierror``; curl says "Could not resolve host").
DNS_FAILURE_MARKERS = (
    "NameResolutionError",
    "Failed to resolve",
    "Name or service not known",
    "nodename nor servname",
    "Temporary failure in name resolution",
    "No address associated with hostname",
    "getaddrinfo failed",
    "Could not resolve host",
)
#: urllib3 reasons that mean the host could not be reached at all (no HTTP exchange).
_CONNECT_LEVEL_CAUSES = frozenset(
    {"NameResolutionError", "NewConnectionError", "ConnectTimeoutError", "ConnectionRefusedError"}
)

#: Query parameters: a mapping or a sequence of ``(name, value)`` pairs (repeated names).
Params = Mapping[str, Any] | Sequence[tuple[str, Any]]
#: A provider hook that turns a final non-2xx response into a specific error (or None).
ErrorHook = Callable[[requests.Response], OilImpactError | None]


def _install_log_scrubber() -> None:
    """Scrub the HTTP stack's log records (urllib3 logs request lines with their query
    strings at DEBUG); see :mod:`oilimpact.logs`."""
    logs.install()


# Indirection so tests can make backoff instantaneous.
_sleep = time.sleep
_clock = time.monotonic

# Hosts that failed at the connection level: host -> (monotonic time, reason).
_unreachable: dict[str, tuple[float, str]] = {}
_unreachable_lock = threading.Lock()


def mark_unreachable(host: str, reason: str) -> None:
    """Record that ``host`` could not be reached (``reason`` is shown to later callers).

    Requests to ``host`` through :func:`get` then fail at once for
    :data:`UNREACHABLE_TTL` seconds. ``host`` is a URL's ``netloc`` (``"api.eia.gov"``,
    ``"127.0.0.1:8080"``) or a client library's own key (``"finance.yahoo.com"``).
    """
    with _unreachable_lock:
        _unreachable[host.lower()] = (_clock(), reason)


def reset_unreachable_hosts(host: str | None = None) -> None:
    """Forget the unreachable record of ``host``, or of every host when None.

    Examples
    --------
    >>> mark_unreachable("x.test", "connection failed")
    >>> unreachable_error("x.test", source="fred") is None
    False
    >>> reset_unreachable_hosts()
    >>> unreachable_error("x.test", source="fred") is None
    True
    """
    with _unreachable_lock:
        if host is None:
            _unreachable.clear()
        else:
            _unreachable.pop(host.lower(), None)


def unreachable_error(host: str, *, source: str, what: str = "") -> SourceError | None:
    """The error to raise at once for ``host`` if it failed recently, else None."""
    key = host.lower()
    with _unreachable_lock:
        record = _unreachable.get(key)
        if record is None:
            return None
        age = _clock() - record[0]
        if age >= UNREACHABLE_TTL or age < 0:
            del _unreachable[key]
            return None
    subject = f" for {what}" if what else ""
    return SourceError(
        scrub(
            f"{source}: could not get data from {host}{subject}: the host was unreachable "
            f"{age:.0f} s ago ({record[1]}), not trying again for "
            f"{UNREACHABLE_TTL - age:.0f} s. Check the network connection, or {OFFLINE_HINT}."
        )
    )


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
    known_down = unreachable_error(host, source=source, what=what)
    if known_down is not None:
        logger.debug("%s: GET %s skipped: host recently unreachable", source, safe_url)
        raise known_down
    started = _clock()
    attempt = 0
    while True:
        remaining = max(MIN_ATTEMPT_TIMEOUT, RETRY_BUDGET - (_clock() - started))
        this_timeout = (min(connect, remaining), min(read, remaining))
        logger.debug("%s: GET %s (attempt %d)", source, safe_url, attempt + 1)
        try:
            response = session.get(url, params=pairs, timeout=this_timeout)
        except requests.exceptions.RequestException as exc:
            reason = _describe_exception(exc, secret_list)
            logger.debug("%s: GET %s failed: %s", source, safe_url, reason)
            delay = backoff_delay(attempt)
            if _retryable_exception(exc) and _can_retry(attempt, retries, started, delay):
                _sleep(delay)
                attempt += 1
                continue
            elapsed = _clock() - started
            if _connection_level(exc):
                mark_unreachable(host, reason)
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
            reset_unreachable_hosts(host)
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
    """Connection errors and timeouts are retried, except a DNS failure."""
    if _is_dns_failure(exc):
        return False
    return isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout))


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """``exc``, the urllib3 reasons it wraps, and their causes (at most 8 deep)."""
    chain: list[BaseException] = []
    node: object = exc
    while isinstance(node, BaseException) and node not in chain and len(chain) < 8:
        chain.append(node)
        nxt = getattr(node, "reason", None)
        if not isinstance(nxt, BaseException) and node.args:
            nxt = node.args[0]
        if not isinstance(nxt, BaseException):
            nxt = node.__cause__ or node.__context__
        node = nxt
    return chain


def _is_dns_failure(exc: BaseException) -> bool:
    """True when the host name could not be resolved (not a transient failure).

    Examples
    --------
    >>> import socket
    >>> _is_dns_failure(requests.exceptions.ConnectionError(
    ...     socket.gaierror(-2, "Name or service not known")))
    True
    >>> _is_dns_failure(requests.exceptions.ConnectionError(ConnectionRefusedError(111, "refused")))
    False
    """
    for node in _exception_chain(exc):
        if type(node).__name__ == "NameResolutionError" or isinstance(node, socket.gaierror):
            return True
        text = str(node)
        if any(marker in text for marker in DNS_FAILURE_MARKERS):
            return True
    return False


def _connection_level(exc: BaseException) -> bool:
    """True when no HTTP exchange took place: DNS failure, refused, connect timeout."""
    if isinstance(exc, requests.exceptions.ConnectTimeout) or _is_dns_failure(exc):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError) or isinstance(
        exc, requests.exceptions.ReadTimeout
    ):
        return False
    return any(
        type(node).__name__ in _CONNECT_LEVEL_CAUSES or isinstance(node, ConnectionRefusedError)
        for node in _exception_chain(exc)
    )


def _describe_exception(exc: BaseException, secrets: Sequence[str]) -> str:
    if _is_dns_failure(exc):
        kind = "host name not resolved"
    elif isinstance(exc, requests.exceptions.ConnectTimeout):
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
