"""Fixtures shared by the provider tests: a local HTTP server speaking the providers'
wire formats (pytest-httpserver on 127.0.0.1; no test reaches the network)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    """One threaded server per test module (cleared by each module's own fixtures)."""
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    if srv.is_running():
        srv.stop()
