"""The shared HTTP helper: timeouts, retries, typed errors, no key in text or logs."""

from __future__ import annotations

import logging
import socket
import time
import traceback
from collections.abc import Iterator

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from oilimpact.errors import AuthError, RateLimitError, SourceError
from oilimpact.sources import http

FAKE_KEY = "zq9xw8vu7ts6rq5po4nm3lk2ji1hg0fe"  # 32 lowercase alnum, like a FRED key


@pytest.fixture(autouse=True)
def _reset(server: HTTPServer) -> Iterator[None]:
    server.clear()
    yield
    server.clear()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record backoff sleeps instead of sleeping."""
    recorded: list[float] = []
    monkeypatch.setattr(http, "_sleep", recorded.append)
    return recorded


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _full_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc)


def test_success_returns_response(server: HTTPServer, sleeps: list[float]) -> None:
    server.expect_request("/ok", query_string={"id": "SP500"}).respond_with_data("hello")
    response = http.get(server.url_for("/ok"), {"id": "SP500"}, source="fred")
    assert response.status_code == 200 and response.text == "hello"
    assert sleeps == []


def test_connection_refused_fails_fast_and_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    # real backoff sleeps: the whole retry sequence must end well inside 20 s
    url = f"http://127.0.0.1:{_free_port()}/fred/series/observations"
    t0 = time.monotonic()
    with pytest.raises(SourceError) as info:
        http.get(
            url, {"series_id": "SP500", "api_key": FAKE_KEY}, source="fred", secrets=[FAKE_KEY]
        )
    elapsed = time.monotonic() - t0
    assert elapsed < 20
    message = str(info.value)
    assert message.startswith("fred: ")
    assert "--offline" in message and "oilimpact import FILE" in message
    assert "4 attempt(s)" in message
    assert FAKE_KEY not in _full_text(info.value)
    assert not isinstance(info.value, (RateLimitError, AuthError))


def test_retry_budget_bounds_a_blackholed_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connect timeouts that hang the full 5 s still end within the 20 s budget."""
    now = [0.0]
    timeouts: list[float] = []

    class HangingSession(requests.Session):
        def get(self, url, **kwargs):  # type: ignore[override]
            connect = kwargs["timeout"][0]
            timeouts.append(connect)
            now[0] += connect
            raise requests.exceptions.ConnectTimeout("timed out")

    monkeypatch.setattr(http, "_clock", lambda: now[0])
    monkeypatch.setattr(http, "_sleep", lambda s: now.__setitem__(0, now[0] + s))
    with pytest.raises(SourceError, match="connection timed out"):
        http.get("http://10.255.255.1/x", source="eia", session=HangingSession(), retries=10)
    assert now[0] < 20
    assert len(timeouts) >= 2


def test_read_timeout_is_retried_then_fails(server: HTTPServer, sleeps: list[float]) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return Response("late")

    server.expect_request("/slow").respond_with_handler(slow)
    t0 = time.monotonic()
    with pytest.raises(SourceError, match="read timed out") as info:
        http.get(server.url_for("/slow"), source="fred", timeout=(1.0, 0.1), retries=1)
    assert time.monotonic() - t0 < 5
    assert "2 attempt(s)" in str(info.value)
    assert sleeps == [0.5]


def test_429_then_success(server: HTTPServer, sleeps: list[float]) -> None:
    server.expect_ordered_request("/r").respond_with_data("slow down", status=429)
    server.expect_ordered_request("/r").respond_with_data("slow down", status=429)
    server.expect_ordered_request("/r").respond_with_data("ok")
    response = http.get(server.url_for("/r"), source="eia")
    assert response.text == "ok"
    assert sleeps == [0.5, 1.0]


def test_retry_after_is_honoured(server: HTTPServer, sleeps: list[float]) -> None:
    server.expect_ordered_request("/r").respond_with_data(
        "", status=429, headers={"Retry-After": "2"}
    )
    server.expect_ordered_request("/r").respond_with_data("ok")
    assert http.get(server.url_for("/r"), source="eia").text == "ok"
    assert sleeps == [2.0]


def test_retry_after_beyond_cap_stops_with_rate_limit(
    server: HTTPServer, sleeps: list[float]
) -> None:
    server.expect_request("/r").respond_with_data("", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitError, match="3600"):
        http.get(server.url_for("/r"), source="eia")
    assert sleeps == []


def test_429_forever_is_rate_limit_error(server: HTTPServer, sleeps: list[float]) -> None:
    server.expect_request("/r").respond_with_json(
        {"error": {"code": "OVER_RATE_LIMIT", "message": "You have exceeded your rate limit."}},
        status=429,
    )
    with pytest.raises(RateLimitError) as info:
        http.get(server.url_for("/r"), source="eia", retries=3)
    assert "eia: rate limited" in str(info.value)
    assert "4 attempt(s)" in str(info.value) and "OVER_RATE_LIMIT" in str(info.value)
    assert sleeps == [0.5, 1.0, 2.0]
    assert isinstance(info.value, SourceError)


def test_500_is_retried(server: HTTPServer, sleeps: list[float]) -> None:
    server.expect_ordered_request("/r").respond_with_data("oops", status=500)
    server.expect_ordered_request("/r").respond_with_data("oops", status=503)
    server.expect_ordered_request("/r").respond_with_data("fine")
    assert http.get(server.url_for("/r"), source="fred").text == "fine"
    assert len(sleeps) == 2


def test_500_forever_is_source_error(server: HTTPServer, sleeps: list[float]) -> None:
    server.expect_request("/r").respond_with_data("Internal Server Error", status=500)
    with pytest.raises(SourceError, match="HTTP 500") as info:
        http.get(server.url_for("/r"), source="fred", retries=2)
    assert not isinstance(info.value, RateLimitError)
    assert len(sleeps) == 2


def test_400_is_not_retried(server: HTTPServer, sleeps: list[float]) -> None:
    server.expect_request("/r").respond_with_data("bad", status=400)
    with pytest.raises(SourceError, match="HTTP 400"):
        http.get(server.url_for("/r"), source="fred")
    assert sleeps == []
    assert len(server.log) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_auth_statuses_are_auth_errors(
    server: HTTPServer, sleeps: list[float], status: int
) -> None:
    server.expect_request("/r").respond_with_data(f"denied key={FAKE_KEY}", status=status)
    with pytest.raises(AuthError) as info:
        http.get(server.url_for("/r"), {"api_key": FAKE_KEY}, source="eia", secrets=[FAKE_KEY])
    assert f"HTTP {status}" in str(info.value)
    assert FAKE_KEY not in _full_text(info.value)
    assert isinstance(info.value, PermissionError)


def test_on_error_hook_wins_and_is_scrubbed(server: HTTPServer, sleeps: list[float]) -> None:
    server.expect_request("/r").respond_with_data("nope", status=400)
    with pytest.raises(AuthError, match="custom") as info:
        http.get(
            server.url_for("/r"),
            source="fred",
            secrets=[FAKE_KEY],
            on_error=lambda r: AuthError(f"custom {FAKE_KEY}"),
        )
    assert FAKE_KEY not in str(info.value)


def test_key_never_logged(
    server: HTTPServer, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.expect_ordered_request("/r").respond_with_data("", status=503)
    server.expect_ordered_request("/r").respond_with_data("ok")
    http.get(
        server.url_for("/r"),
        {"series_id": "X", "api_key": FAKE_KEY},
        source="fred",
        secrets=[FAKE_KEY],
    )
    client_log = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")
    )  # werkzeug is the test server's own access log
    assert "api_key=***" in client_log  # our DEBUG line shows the scrubbed URL
    assert "urllib3" in " ".join(r.name for r in caplog.records)
    assert FAKE_KEY not in client_log  # ... and so does urllib3's request line
    # the key did reach the server
    assert server.log[-1][0].args["api_key"] == FAKE_KEY


def test_env_overrides(
    monkeypatch: pytest.MonkeyPatch, server: HTTPServer, sleeps: list[float]
) -> None:
    monkeypatch.setenv("OILIMPACT_HTTP_RETRIES", "1")
    monkeypatch.setenv("OILIMPACT_HTTP_TIMEOUT", "7.5")
    assert http._default_timeout() == (5.0, 7.5)
    server.expect_request("/r").respond_with_data("", status=502)
    with pytest.raises(SourceError, match="2 attempt"):
        http.get(server.url_for("/r"), source="fred")
    monkeypatch.setenv("OILIMPACT_HTTP_TIMEOUT", "soon")
    assert http._default_timeout() == http.DEFAULT_TIMEOUT


def test_build_url_and_backoff() -> None:
    url = http.build_url(
        "https://api.eia.gov/v2/x/data/", [("facets[series][]", "RBRTE"), ("length", 5000)]
    )
    assert url == "https://api.eia.gov/v2/x/data/?facets%5Bseries%5D%5B%5D=RBRTE&length=5000"
    assert http.backoff_delay(3) == 4.0


# ---- the 20-second offline limit ------------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections (the kernel does) and never reads or answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/fred/series/observations"
    finally:
        sock.close()


def test_silent_server_read_timeout_is_capped_by_the_budget(
    silent_server: str, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Default timeouts (read 30 s): a server that never answers still ends with the budget."""
    monkeypatch.setattr(http, "RETRY_BUDGET", 2.0)
    t0 = time.monotonic()
    with pytest.raises(SourceError, match="read timed out") as info:
        http.get(silent_server, {"series_id": "SP500"}, source="fred")
    assert time.monotonic() - t0 < 5  # 2 s budget (+ the 1 s floor), not 30 s
    assert "--offline" in str(info.value)


def test_silent_server_full_budget_ends_within_20_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the real budget and default timeouts, on a simulated clock: < 20 s in total."""
    now = [0.0]
    timeouts: list[tuple[float, float]] = []

    class SilentSession(requests.Session):
        def get(self, url, **kwargs):  # type: ignore[override]
            connect, read = kwargs["timeout"]
            timeouts.append((connect, read))
            now[0] += 0.001 + read  # connected at once, then waited the whole read timeout
            raise requests.exceptions.ReadTimeout("read timed out")

    monkeypatch.setattr(http, "_clock", lambda: now[0])
    monkeypatch.setattr(http, "_sleep", lambda s: now.__setitem__(0, now[0] + s))
    with pytest.raises(SourceError, match="read timed out"):
        http.get("http://127.0.0.1:9/x", source="fred", session=SilentSession())
    assert now[0] < 20
    assert all(read <= http.RETRY_BUDGET for _, read in timeouts)


def _dns_error(host: str = "api.eia.gov") -> requests.exceptions.ConnectionError:
    """The exception chain requests raises when the resolver fails (urllib3 2.x)."""
    from urllib3.exceptions import MaxRetryError, NameResolutionError

    reason = NameResolutionError(host, None, socket.gaierror(-2, "Name or service not known"))  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/x", reason))  # type: ignore[arg-type]


class _CountingSession(requests.Session):
    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc, self.calls = exc, 0

    def get(self, url, **kwargs):  # type: ignore[override]
        self.calls += 1
        raise self.exc


def test_dns_failure_is_not_retried(sleeps: list[float]) -> None:
    session = _CountingSession(_dns_error())
    with pytest.raises(SourceError, match="host name not resolved") as info:
        http.get("https://api.eia.gov/v2/x/data/", source="eia", session=session, retries=3)
    assert session.calls == 1 and sleeps == []
    assert "1 attempt(s)" in str(info.value) and "--offline" in str(info.value)


def test_real_dns_failure_is_detected() -> None:
    """The chain requests really raises for an unresolvable name is recognised."""
    with pytest.raises(requests.exceptions.ConnectionError) as info:
        requests.get("http://name-that-does-not-exist.invalid/", timeout=(5, 5))
    if not http._is_dns_failure(info.value):
        pytest.skip("this machine's resolver answers .invalid names in an unusual way")
    assert http._connection_level(info.value)


def test_closed_port_twice_second_call_fails_at_once(sleeps: list[float]) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v2/x/data/"
    with pytest.raises(SourceError) as first:
        http.get(url, source="eia", retries=3)
    assert "4 attempt(s)" in str(first.value) and len(sleeps) == 3
    session = _CountingSession(AssertionError("no request may be made"))
    t0 = time.monotonic()
    with pytest.raises(SourceError) as second:
        http.get(url, {"api_key": FAKE_KEY}, source="fred", session=session, what="series 'X'")
    assert time.monotonic() - t0 < 0.5 and session.calls == 0 and len(sleeps) == 3
    message = str(second.value)
    assert message.startswith("fred: ") and "unreachable" in message and "series 'X'" in message
    assert "--offline" in message and "oilimpact import FILE" in message
    # the reset function makes the next call try again
    http.reset_unreachable_hosts()
    with pytest.raises(SourceError, match="4 attempt"):
        http.get(url, source="eia", retries=3)


def test_dns_failure_marks_the_host_for_the_ttl(
    sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(http, "_clock", lambda: now[0])
    session = _CountingSession(_dns_error())
    for _ in range(3):
        with pytest.raises(SourceError):
            http.get("https://api.eia.gov/v2/a/data/", source="eia", session=session)
    assert session.calls == 1  # later series of the run fail without a lookup
    now[0] += http.UNREACHABLE_TTL + 1
    with pytest.raises(SourceError, match="host name not resolved"):
        http.get("https://api.eia.gov/v2/b/data/", source="eia", session=session)
    assert session.calls == 2
    # another host is not affected
    with pytest.raises(SourceError, match="host name not resolved"):
        http.get("https://fred.stlouisfed.org/x", source="fred", session=session)
    assert session.calls == 3


def test_read_timeout_and_http_errors_do_not_mark_the_host(
    server: HTTPServer, sleeps: list[float]
) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.3)
        return Response("late")

    server.expect_oneshot_request("/slow").respond_with_handler(slow)
    with pytest.raises(SourceError, match="read timed out"):
        http.get(server.url_for("/slow"), source="fred", timeout=(1.0, 0.05), retries=0)
    server.expect_oneshot_request("/r").respond_with_data("oops", status=500)
    with pytest.raises(SourceError, match="HTTP 500"):
        http.get(server.url_for("/r"), source="fred", retries=0)
    server.expect_request("/ok").respond_with_data("fine")
    assert http.get(server.url_for("/ok"), source="fred").text == "fine"
