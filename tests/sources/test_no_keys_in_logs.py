"""No API key in any log output: root logger at DEBUG, fake keys in the environment,
providers served from 127.0.0.1 with replies that echo the key (oilimpact.logs)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from datetime import date

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from oilimpact.errors import OilImpactError
from oilimpact.series import SourceRef, default_registry
from oilimpact.sources import http
from oilimpact.sources.eia import EiaSource
from oilimpact.sources.fred import FredSource

EIA_KEY = "EiaFAKEkey0123456789abcdefGHIJKLMNOPQRS"
FRED_KEY = "fredfake0123456789abcdef01234567"
ARG_KEY = "ArgKeyNotInTheEnvironment987654321"
SPT = SourceRef("eia", "RBRTE", {"route": "petroleum/pri/spt", "frequency": "daily"})


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time (capsys or capfd replace it)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


@pytest.fixture
def debug_everything(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """Root at DEBUG with a stderr handler (so capsys/capfd see the records too)."""
    monkeypatch.setenv("EIA_API_KEY", EIA_KEY)
    monkeypatch.setenv("FRED_API_KEY", FRED_KEY)
    monkeypatch.setattr(http, "_sleep", lambda s: None)
    http._unreachable.clear()
    root = logging.getLogger()
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    old_level = root.level
    # The local server's access log (werkzeug, in this process) stands for the provider's
    # own logs, which live on the provider's machine: it is not oilimpact output.
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _eia_reply(request: Request) -> Response:
    key = request.args.get("api_key", "")
    echo = f"{request.base_url}?api_key={key}&offset={request.args.get('offset')}"
    body = {
        "response": {
            "total": "2",
            "data": [
                {"period": "2025-12-08", "series": "RBRTE", "value": "63.3"},
                {"period": "2025-12-09", "series": "RBRTE", "value": "62.62"},
            ],
        },
        "warnings": [
            {"warning": f"request echoed: {echo}", "description": f"key {key}"},
            f"raw text api_key={key} key {key}",
        ],
        "request": {"command": "/v2/petroleum/pri/spt/data/", "params": {"api_key": key}},
    }
    return Response(json.dumps(body), content_type="application/json")


def _eia_error(request: Request) -> Response:
    key = request.args.get("api_key", "")
    body = {"error": f"API_KEY_INVALID: the key {key} is not valid (api_key={key})"}
    return Response(json.dumps(body), status=403, content_type="application/json")


def _fred_error(request: Request) -> Response:
    key = request.args.get("api_key", "")
    body = {"error_code": 400, "error_message": f"Bad Request. The value {key} for api_key"}
    return Response(json.dumps(body), status=400, content_type="application/json")


def _all_output(caplog: pytest.LogCaptureFixture, capture: pytest.CaptureFixture[str]) -> str:
    records = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}" for r in caplog.records
    )
    out, err = capture.readouterr()
    return "\n".join([caplog.text, records, out, err])


CAPTURES = pytest.mark.parametrize("capture_name", ["capsys", "capfd"])  # not both at once


def _run_sources(server: HTTPServer) -> list[str]:
    base = server.url_for("").rstrip("/")
    errors = []
    server.expect_request("/v2/petroleum/pri/spt/data/").respond_with_handler(_eia_reply)
    s = EiaSource(base_url=base).fetch(SPT, date(2025, 12, 1), date(2025, 12, 31))
    assert s.notna().sum() == 2
    server.clear()
    server.expect_request("/v2/petroleum/pri/spt/data/").respond_with_handler(_eia_error)
    for source in (EiaSource(base_url=base), EiaSource(base_url=base, api_key=ARG_KEY)):
        with pytest.raises(OilImpactError) as info:
            source.fetch(SPT, date(2025, 12, 1), date(2025, 12, 31))
        errors.append(str(info.value))
    server.clear()
    server.expect_request("/fred/series/observations").respond_with_handler(_fred_error)
    ref = default_registry()["brent"].source_for("fred")
    assert ref is not None
    with pytest.raises(OilImpactError) as info:
        FredSource(api_base_url=base).fetch(ref, date(2025, 12, 19), date(2025, 12, 31))
    errors.append(str(info.value))
    server.clear()
    # a traceback logged by an oilimpact child logger that never asked for a filter
    try:
        raise ValueError(f"boom https://x/?api_key={EIA_KEY} and {ARG_KEY}")
    except ValueError:
        logging.getLogger("oilimpact.api").debug("failed", exc_info=True, stack_info=True)
    return errors


@CAPTURES
def test_no_key_in_any_log_output_at_debug(
    server: HTTPServer, debug_everything: None, caplog, request, capture_name: str
) -> None:
    capture = request.getfixturevalue(capture_name)
    errors = _run_sources(server)
    text = _all_output(caplog, capture) + "\n".join(errors)
    # the sources did log at DEBUG, the EIA warnings and the request lines included
    assert "warning 'request echoed: http" in text and "warning 'raw text api_key=***" in text
    assert "GET" in text and "api_key=***" in text
    assert "Traceback" in text and "boom" in text
    for key in (EIA_KEY, FRED_KEY, ARG_KEY):
        assert key not in text


@CAPTURES
def test_the_grep_would_see_a_key_logged_outside_the_package(
    debug_everything: None, caplog, request, capture_name: str
) -> None:
    """The check can fail: a logger the filter does not cover shows the key in clear."""
    capture = request.getfixturevalue(capture_name)
    logging.getLogger("someone.else").debug("key %s", EIA_KEY)
    text = _all_output(caplog, capture)
    assert text.count(EIA_KEY) >= 3  # caplog.text, the record, and the stream handler


def test_child_logger_records_are_scrubbed_without_a_filter_of_their_own(
    debug_everything: None, caplog
) -> None:
    child = logging.getLogger("oilimpact.sources.brand_new_module")
    assert not child.filters
    child.debug("GET https://api.eia.gov/v2/x?api_key=%s", ARG_KEY)
    child.info("env key %s", FRED_KEY)
    messages = [r.getMessage() for r in caplog.records if r.name == child.name]
    assert messages == ["GET https://api.eia.gov/v2/x?api_key=***", "env key ***"]


def test_without_the_record_factory_a_child_logger_would_leak(
    debug_everything: None, caplog
) -> None:
    """What the factory is for: a filter on the ``oilimpact`` logger alone misses children."""
    from oilimpact import logs

    parent = logging.getLogger("oilimpact")
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    parent.addFilter(logs.ScrubFilter())
    try:
        logging.getLogger("oilimpact.sources.other").debug("key %s", ARG_KEY)
        parent.debug("key %s", ARG_KEY)
    finally:
        logging.setLogRecordFactory(factory)
        parent.filters = [f for f in parent.filters if not isinstance(f, logs.ScrubFilter)]
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [f"key {ARG_KEY}", "key ***"]
