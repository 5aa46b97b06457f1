"""The data flow is one-directional: study/, synth/ and report/ never touch sources, store or
network."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "oilimpact"

CHECK = textwrap.dedent(
    """
    import importlib, pkgutil, socket, sys

    def _refuse(*a, **k):
        raise OSError("network blocked in this test")

    socket.socket.connect = _refuse
    socket.create_connection = _refuse
    import oilimpact.study, oilimpact.synth, oilimpact.report
    for pkg in (oilimpact.study, oilimpact.synth, oilimpact.report):
        for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            importlib.import_module(mod.name)
    bad = sorted(m for m in sys.modules
                 if m.startswith(("oilimpact.sources", "oilimpact.store", "oilimpact.api", "yfinance", "requests")))
    print(",".join(bad))
    """
)


def test_study_and_report_import_nothing_that_does_io():
    if not (PACKAGE / "report" / "__init__.py").exists():
        pytest.skip("oilimpact.report not present")
    proc = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"study/report pulled in I/O modules: {proc.stdout.strip()}"


@pytest.mark.parametrize("layer", ["study", "synth", "report"])
def test_no_source_level_imports_of_io_modules(layer):
    for path in (PACKAGE / layer).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for forbidden in (
            "from ..sources",
            "from ..store",
            "from ..api",
            "import requests",
            "import yfinance",
        ):
            assert forbidden not in text, f"{path} contains {forbidden!r}"
