"""Shared fixtures of the source tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oilimpact.sources import http


@pytest.fixture(autouse=True)
def _forget_unreachable_hosts() -> Iterator[None]:
    """Each test starts and ends with an empty unreachable-host record (a closed port of
    one test may be a live test server's port in the next)."""
    http.reset_unreachable_hosts()
    yield
    http.reset_unreachable_hosts()
