"""`api.import_file` end to end: every problem of a file at once, future rows, the store kept."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from oilimpact import api
from oilimpact.errors import InputError, ValidationError


def _tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_every_problem_of_a_file_is_reported_with_its_line(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("Date,Price\n2025-12-15,61.0\n2025-12-16,58.9\n2025-12-17,59.7\n")
    store = tmp_path / "store"
    api.import_file(good, name="brent", data_dir=store)
    before = _tree_hash(store)
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Price\n2025-12-18,60.1\n2025-12-19,-5.0\n2025-12-22,abc\n")
    with pytest.raises(ValidationError) as info:
        api.import_file(bad, name="brent", data_dir=store)
    text = str(info.value)
    failures = getattr(info.value, "failures", None)
    assert "bad.csv" in text
    lines = set(failures["line"].astype(int)) if failures is not None else set()
    assert {3, 4} <= lines, failures  # the negative price AND the unparsable value
    assert _tree_hash(store) == before


def test_future_rows_refused_unless_allowed(tmp_path):
    f = tmp_path / "future.csv"
    f.write_text("Date,Price\n2025-12-16,58.9\n2099-06-05,60.0\n")
    store = tmp_path / "store"
    with pytest.raises(InputError, match="2099-06-05"):
        api.import_file(f, name="brent", data_dir=store)
    assert not (store / "manifest.json").exists() or api.open_store(store).names() == []
    out = api.import_file(f, name="brent", data_dir=store, allow_future=True)
    assert out.last.isoformat() == "2099-06-05"
