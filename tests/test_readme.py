"""The README's Python examples run as written (on a store holding the real snapshot)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oilimpact.snapshot import import_snapshot

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"


def _python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_has_python_examples():
    assert len(_python_blocks()) >= 2


@pytest.mark.skipif(not REAL.is_dir(), reason=f"real snapshot {REAL} absent")
def test_readme_python_examples_run(tmp_path, monkeypatch):
    import_snapshot(REAL, tmp_path, fetched_at="2026-01-09T12:00:00Z")
    monkeypatch.setenv("OILIMPACT_DATA_DIR", str(tmp_path))
    namespace: dict[str, object] = {}
    for block in _python_blocks():
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
