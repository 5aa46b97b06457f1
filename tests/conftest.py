"""Test-wide fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_unreachable_hosts():
    """Each test starts with an empty record of unreachable hosts (sources/http.py)."""
    from oilimpact.sources.http import reset_unreachable_hosts

    reset_unreachable_hosts()
    yield
    reset_unreachable_hosts()
