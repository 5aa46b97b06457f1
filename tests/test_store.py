"""Tests of oilimpact.store: round trips, vintages, atomicity, locking, corruption."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_series_equal

from oilimpact import store as store_mod
from oilimpact.errors import InputError, StoreError
from oilimpact.frames import to_series_frame
from oilimpact.store import DATA_DIR_ENV, Store, resolve_data_dir

WRITER = Path(__file__).parent / "helpers" / "store_writer.py"
T0 = pd.Timestamp("2025-01-10T12:00Z")
T1 = pd.Timestamp("2025-01-20T12:00Z")
T2 = pd.Timestamp("2025-01-30T12:00Z")


def frame(values: list[float], dates: list[str], name: str = "brent") -> pd.Series:
    return to_series_frame(values, dates, name)


def put(store: Store, s: pd.Series, at: pd.Timestamp = T0, **kw: object) -> store_mod.WriteResult:
    kw.setdefault("source", "fred")
    kw.setdefault("source_id", "DCOILBRENTEU")
    return store.write(s, fetched_at=at, **kw)  # type: ignore[arg-type]


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def assert_consistent(store: Store) -> None:
    """Manifest checksums match their files; no temp or unreferenced files remain."""
    referenced = set()
    for name in store.names():
        entry = store.entry(name)
        assert entry is not None
        path = store.series_dir / entry.file
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.checksum
        store.load(name)
        referenced.add(entry.file)
    on_disk = {p.name for p in store.series_dir.iterdir()} if store.series_dir.exists() else set()
    assert on_disk == referenced
    assert not list(store.root.glob(".*.tmp"))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


# ----------------------------------------------------------------------- round trip


def test_round_trip_matches_frame_convention(store: Store) -> None:
    s = frame([70.1, np.nan, 71.3], ["2025-01-02", "2025-01-03", "2025-01-06"])
    result = put(store, s, unit="USD/bbl", frequency="daily", kind="price", meta={"file": "x.csv"})
    assert (result.rows_added, result.rows_revised, result.unchanged) == (3, 0, False)
    assert result.path.exists() and result.path.parent == store.series_dir

    out = store.load("brent")
    assert_series_equal(out, s, check_freq=False)
    assert out.index.dtype == "datetime64[ns]" and out.index.name == "date"

    entry = store.entry("brent")
    assert entry is not None
    assert (entry.source, entry.source_id, entry.fetched_at) == ("fred", "DCOILBRENTEU", T0)
    assert (entry.first, entry.last, entry.rows, entry.n_vintages) == (
        pd.Timestamp("2025-01-02"),
        pd.Timestamp("2025-01-06"),
        2,
        1,
    )
    assert entry.checksum == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert (entry.unit, entry.frequency, entry.kind, entry.meta) == (
        "USD/bbl",
        "daily",
        "price",
        {"file": "x.csv"},
    )
    assert entry.schema_version == store_mod.SCHEMA_VERSION
    assert store.names() == ["brent"] and store.exists("brent") and not store.exists("wti")
    manifest = store.manifest()
    assert list(manifest.index) == ["brent"] and manifest.loc["brent", "rows"] == 2
    assert json.loads(store.manifest_path.read_text())["series"]["brent"]["first"] == "2025-01-02"


def test_empty_store_queries(store: Store) -> None:
    assert store.names() == [] and store.entry("brent") is None
    assert store.manifest().empty and store.refresh_start("brent") is None
    assert store.log().empty
    with pytest.raises(StoreError, match="'brent' is not in the store"):
        store.load("brent")
    assert not store.root.exists()  # reading never creates the directory


def test_load_window(store: Store) -> None:
    put(store, frame([1.0, 2.0, 3.0], ["2025-01-02", "2025-01-03", "2025-01-06"]))
    assert store.load("brent", start="2025-01-03").tolist() == [2.0, 3.0]
    assert store.load("brent", end="2025-01-03").tolist() == [1.0, 2.0]


# ----------------------------------------------------------------------- vintages


def test_incremental_write_keeps_old_dates(store: Store) -> None:
    put(store, frame([1.0, 2.0, 3.0], ["2025-01-02", "2025-01-03", "2025-01-06"]))
    r = put(store, frame([3.0, 4.0], ["2025-01-06", "2025-01-07"]), at=T1)
    assert (r.rows_added, r.rows_revised) == (1, 0)
    assert store.load("brent").tolist() == [1.0, 2.0, 3.0, 4.0]
    assert store.entry("brent").last == pd.Timestamp("2025-01-07")  # type: ignore[union-attr]


def test_revision_creates_vintage_and_as_of_returns_old_value(store: Store) -> None:
    put(store, frame([1.0, 2.0], ["2025-01-02", "2025-01-03"]))
    r = put(store, frame([2.5, 3.0], ["2025-01-03", "2025-01-06"]), at=T1)
    assert (r.rows_added, r.rows_revised) == (1, 1)

    assert store.load("brent").tolist() == [1.0, 2.5, 3.0]
    old = store.load("brent", as_of=T1 - pd.Timedelta(seconds=1))
    assert old.tolist() == [1.0, 2.0]  # 2025-01-06 was not known yet
    assert store.load("brent", as_of=T1).tolist() == [1.0, 2.5, 3.0]
    assert store.load("brent", as_of="2025-01-15").tolist() == [1.0, 2.0]

    v = store.vintages("brent")
    assert list(v.columns) == ["date", "value", "vintage", "removed"] and len(v) == 4
    assert not v["removed"].any()
    assert str(v["vintage"].dtype) == "datetime64[ns, UTC]"
    assert store.entry("brent").n_vintages == 2  # type: ignore[union-attr]
    rev = store.revisions("brent")
    assert rev[["previous", "value"]].values.tolist() == [[2.0, 2.5]]
    assert not rev["removed"].any()
    assert rev["vintage"].tolist() == [T1]


def test_as_of_before_first_fetch_raises_naming_series_and_first_vintage(store: Store) -> None:
    put(store, frame([1.0], ["2025-01-02"]))
    with pytest.raises(StoreError, match=r"'brent'.*first stored at 2025-01-10T12:00:00Z"):
        store.load("brent", as_of="2025-01-01")


def test_nan_equal_to_nan_but_revision_to_nan_counts(store: Store) -> None:
    put(store, frame([1.0, np.nan], ["2025-01-02", "2025-01-03"]))
    same = put(store, frame([1.0, np.nan], ["2025-01-02", "2025-01-03"]), at=T1)
    assert same.unchanged
    to_nan = put(store, frame([np.nan], ["2025-01-02"]), at=T2)
    assert (to_nan.rows_added, to_nan.rows_revised) == (0, 1)
    assert store.load("brent").isna().all()
    assert store.load("brent", as_of=T1).tolist()[0] == 1.0
    assert store.entry("brent").first is None  # type: ignore[union-attr]
    assert store.refresh_start("brent") is None


def test_unchanged_write_updates_fetched_at_but_not_the_file(store: Store) -> None:
    first = put(store, frame([1.0, 2.0], ["2025-01-02", "2025-01-03"]), meta={"warnings": ["a"]})
    before = first.path.read_bytes()
    again = put(store, frame([2.0], ["2025-01-03"]), at=T1, source="eia", source_id="RBRTE")
    assert again.unchanged and again.path == first.path and again.checksum == first.checksum
    assert first.path.read_bytes() == before
    entry = store.entry("brent")
    assert entry is not None
    assert (entry.fetched_at, entry.updated_at, entry.source, entry.meta) == (T1, T0, "eia", {})
    log = store.log("brent")
    assert log["unchanged"].tolist() == [False, True]
    assert log["fetched_at"].tolist() == ["2025-01-10T12:00:00Z", "2025-01-20T12:00:00Z"]


def test_an_older_fetch_committed_later_wins_and_says_so(store: Store) -> None:
    put(store, frame([2.0], ["2025-01-02"]), at=T2, source_id="new")
    r = put(store, frame([1.0], ["2025-01-02"]), at=T0, source_id="old")
    # commit order, not fetch time: stored 1 us after the newest vintage
    assert r.vintage == T2 + pd.Timedelta(microseconds=1) and r.fetched_at == T0
    assert (r.rows_added, r.rows_revised) == (0, 1)
    assert r.concurrent == (T2,) and "stored after this data was fetched" in r.warnings[0]
    assert store.load("brent").tolist() == [1.0]  # the later commit wins
    assert store.load("brent", as_of=T2).tolist() == [2.0]  # the other value stays readable
    with pytest.raises(StoreError, match="first stored at 2025-01-30"):
        store.load("brent", as_of=T1)
    entry = store.entry("brent")
    assert entry is not None and (entry.fetched_at, entry.source_id) == (T2, "old")
    hist = store.history("brent")
    assert hist["fetched_at"].tolist() == [T2, T0] and hist["source_id"].tolist() == ["new", "old"]


def test_same_fetch_time_written_twice_is_two_vintages(store: Store) -> None:
    put(store, frame([1.0], ["2025-01-02"]))
    r = put(store, frame([5.0], ["2025-01-02"]))
    assert r.rows_revised == 1 and r.concurrent == (T0,)
    assert len(store.vintages("brent")) == 2 and store.load("brent").tolist() == [5.0]


def test_fetched_at_default_and_naive_times_are_utc(store: Store) -> None:
    before = pd.Timestamp.now(tz="UTC")
    store.write(frame([1.0], ["2025-01-02"]), source="fred", source_id="X")
    assert store.entry("brent").fetched_at >= before  # type: ignore[operator,union-attr]
    put(store, frame([2.0], ["2025-01-02"], "wti"), at=pd.Timestamp("2025-01-10 12:00"))
    assert store.entry("wti").fetched_at == T0  # type: ignore[union-attr]


# ----------------------------------------------------------------------- refresh start


def test_refresh_start_defaults_by_frequency(store: Store) -> None:
    daily = pd.Series(1.0, index=pd.bdate_range("2024-01-01", "2024-12-31", name="date"), name="d")
    put(store, daily)
    assert store.refresh_start("d") == pd.Timestamp("2024-12-17")  # inferred daily, 14 days
    assert store.refresh_start("d", overlap=10) == daily.index[-10]
    assert store.refresh_start("d", overlap="3D") == pd.Timestamp("2024-12-28")
    assert store.refresh_start("d", frequency="monthly") == pd.Timestamp("2024-06-30")

    weekly = pd.Series(1.0, index=pd.date_range("2024-01-05", periods=52, freq="W-FRI"), name="w")
    put(store, weekly)
    assert store.refresh_start("w") == weekly.index[-1] - pd.DateOffset(weeks=8)

    monthly = pd.Series(1.0, index=pd.date_range("2020-01-01", periods=60, freq="MS"), name="m")
    put(store, monthly, frequency="monthly")
    assert store.refresh_start("m") == pd.Timestamp("2024-06-01")
    with pytest.raises(InputError, match="at least 1"):
        store.refresh_start("m", overlap=0)


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name", ["", "Brent", "a/b", "../x", ".hidden", "x.", "a b", "x" * 101])
def test_invalid_names_are_rejected(store: Store, name: str) -> None:
    with pytest.raises(InputError, match="store name must be"):
        put(store, frame([1.0], ["2025-01-02"], "ok"), name=name)


def test_bad_series_is_rejected_before_touching_disk(store: Store) -> None:
    dup = pd.Series([1.0, 2.0], index=pd.to_datetime(["2025-01-02", "2025-01-02"]), name="x")
    with pytest.raises(InputError, match="duplicate dates, first 2025-01-02"):
        put(store, dup)
    with pytest.raises(InputError, match="frame convention"):
        put(store, pd.Series(["a"], index=pd.to_datetime(["2025-01-02"]), name="x"))
    with pytest.raises(InputError, match="JSON-compatible"):
        put(store, frame([1.0], ["2025-01-02"]), meta={"when": object()})
    assert not store.root.exists()


# ----------------------------------------------------------------------- corruption


def test_corrupt_parquet_raises_store_error_with_path(store: Store) -> None:
    r = put(store, frame([1.0, 2.0], ["2025-01-02", "2025-01-03"]))
    data = bytearray(r.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    r.path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="checksum mismatch") as info:
        store.load("brent")
    assert str(r.path) in str(info.value) and "re-fetch" in str(info.value)
    with pytest.raises(StoreError, match="checksum mismatch"):
        put(store, frame([3.0], ["2025-01-06"]), at=T1)  # never builds on bad data


def test_unreadable_parquet_with_matching_checksum(store: Store) -> None:
    r = put(store, frame([1.0], ["2025-01-02"]))
    r.path.write_bytes(b"not parquet")
    doc = json.loads(store.manifest_path.read_text())
    doc["series"]["brent"]["checksum"] = hashlib.sha256(b"not parquet").hexdigest()
    store.manifest_path.write_text(json.dumps(doc))
    with pytest.raises(StoreError, match="cannot read series 'brent'") as info:
        store.load("brent")
    assert str(r.path) in str(info.value)


def test_missing_file_and_delete_starts_afresh(store: Store) -> None:
    r = put(store, frame([1.0], ["2025-01-02"]))
    r.path.unlink()
    with pytest.raises(StoreError, match="is missing"):
        store.load("brent")
    assert store.delete("brent") and not store.exists("brent") and not store.delete("brent")
    put(store, frame([2.0], ["2025-01-02"]), at=T1)
    assert store.load("brent").tolist() == [2.0]
    assert store.log("brent")["action"].tolist() == ["write", "delete", "write"]


def test_corrupt_manifest_raises_store_error(store: Store) -> None:
    put(store, frame([1.0], ["2025-01-02"]))
    store.manifest_path.write_text("{not json")
    with pytest.raises(StoreError, match="manifest.json: manifest is corrupt"):
        store.names()


def test_leftover_temp_and_orphan_files_are_swept_by_next_write(store: Store) -> None:
    put(store, frame([1.0], ["2025-01-02"]))
    junk = [
        store.series_dir / ".brent.0123456789abcdef.parquet.deadbeef.tmp",
        store.series_dir / "brent.0123456789abcdef.parquet",
        store.root / ".manifest.json.deadbeef.tmp",
    ]
    other = store.series_dir / "brent.x.0123456789abcdef.parquet"  # another series' file
    for p in [*junk, other]:
        p.write_bytes(b"junk")
    put(store, frame([2.0], ["2025-01-03"]), at=T1)
    assert not any(p.exists() for p in junk) and other.exists()


def test_lock_timeout_raises_store_error_naming_the_lock(tmp_path: Path) -> None:
    from filelock import FileLock

    store = Store(tmp_path, lock_timeout=0.1)
    put(store, frame([1.0], ["2025-01-02"]))
    with FileLock(str(tmp_path / ".locks" / "series-brent.lock")):
        with pytest.raises(StoreError, match=r"series-brent\.lock: another process .*'brent'"):
            put(store, frame([2.0], ["2025-01-02"]), at=T1)
        put(store, frame([2.0], ["2025-01-02"], "manifest.json"), at=T1)  # other series: free
    assert store.load("brent").tolist() == [1.0]
    assert store.names() == ["brent", "manifest.json"]


def test_lock_permission_error_is_store_error(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """filelock raises PermissionError on a read-only store: a StoreError with advice."""
    put(store, frame([1.0], ["2025-01-02"]))

    def denied(self: object, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(store_mod.FileLock, "acquire", denied)
    for action in (
        lambda: put(store, frame([2.0], ["2025-01-03"]), at=T1),
        lambda: store.delete("brent"),
    ):
        with pytest.raises(StoreError) as info:
            action()
        message = str(info.value)
        assert ".lock" in message and "permission denied" in message.lower()
        assert str(store.root) in message and "writable" in message
    monkeypatch.undo()
    assert store.load("brent").tolist() == [1.0]  # reading needs no lock


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_store_write_is_store_error(store: Store) -> None:
    put(store, frame([1.0], ["2025-01-02"]))
    dirs = [store.root, store.series_dir, store.root / ".locks"]
    locks = list((store.root / ".locks").iterdir())
    for p in locks:
        p.chmod(0o444)
    for d in dirs:
        d.chmod(0o555)
    try:
        with pytest.raises(StoreError, match="writable"):
            put(store, frame([2.0], ["2025-01-03"]), at=T1)
        assert store.load("brent").tolist() == [1.0]
    finally:
        for d in dirs:
            d.chmod(0o755)
        for p in locks:
            p.chmod(0o644)


def test_cleanup_that_cannot_delete_does_not_fail_the_write(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(store, frame([1.0], ["2025-01-02"]))
    stale = store.series_dir / "brent.0123456789abcdef.parquet"  # an orphan to sweep
    stale.write_bytes(b"junk")
    real_unlink = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self.parent == store.series_dir:
            raise PermissionError(13, "Permission denied", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    result = put(store, frame([2.0], ["2025-01-03"]), at=T1)
    monkeypatch.undo()
    assert result.rows_added == 1 and store.load("brent").tolist() == [1.0, 2.0]
    assert stale.exists()  # left for a later write


def _point_manifest_at(store: Store, name: str, file: str) -> None:
    doc = json.loads(store.manifest_path.read_text())
    doc["series"][name]["file"] = file
    store.manifest_path.write_text(json.dumps(doc))


@pytest.mark.parametrize("where", ["../outside.parquet", "ABSOLUTE", "sub/x.parquet", ".."])
def test_manifest_file_outside_series_dir_is_refused(store: Store, where: str) -> None:
    put(store, frame([1.0], ["2025-01-02"]))
    put(store, frame([5.0], ["2025-01-02"], "wti"))
    entry = store.entry("brent")
    assert entry is not None
    # a crafted manifest: the file moved outside series/, checksum still matching
    outside = store.root / "outside.parquet"
    (store.series_dir / entry.file).rename(outside)
    target = str(outside) if where == "ABSOLUTE" else where
    _point_manifest_at(store, "brent", target)
    for action in (
        lambda: store.load("brent"),
        lambda: store.path("brent"),
        lambda: put(store, frame([2.0], ["2025-01-03"]), at=T1),
    ):
        with pytest.raises(StoreError, match="manifest entry for 'brent' points outside the store"):
            action()
    assert outside.exists()  # a write never deletes outside series/
    assert store.names() == ["brent", "wti"] and store.load("wti").tolist() == [5.0]
    assert store.delete("brent") and outside.exists()  # the way out
    assert store.names() == ["wti"]


def test_all_nan_series_has_none_not_nan_in_manifest(store: Store) -> None:
    put(store, frame([np.nan, np.nan], ["2025-01-02", "2025-01-03"], "empty"))
    put(store, frame([1.0], ["2025-01-02"]), unit="USD/bbl")
    entry = store.entry("empty")
    assert entry is not None and entry.first is None and entry.last is None and entry.rows == 0
    assert store.refresh_start("empty") is None
    manifest = store.manifest()
    for col in ("first", "last", "unit", "frequency", "kind"):
        assert manifest.loc["empty", col] is None, col
    assert manifest.loc["brent", "last"] == pd.Timestamp("2025-01-02")
    assert manifest.loc["brent", "unit"] == "USD/bbl"
    records = manifest.reset_index().to_dict(orient="records")
    assert records[1]["name"] == "empty" and records[1]["last"] is None


# ----------------------------------------------------------------------- failed writes


def _raise(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom while serialising")


def _no_space(fd: int) -> None:
    raise OSError(28, "No space left on device")


def _failing_replace_on(suffix: str):  # noqa: ANN202
    real = os.replace

    def replace(src: object, dst: object) -> None:
        if os.fspath(dst).endswith(suffix):  # type: ignore[call-overload]
            raise OSError(28, "No space left on device")
        real(src, dst)  # type: ignore[arg-type]

    return replace


@pytest.mark.parametrize(
    ("target", "patch", "error"),
    [
        ("pq.write_table", _raise, RuntimeError),
        ("os.replace", _failing_replace_on(".parquet"), StoreError),
        ("os.replace", _failing_replace_on("manifest.json"), StoreError),
        ("os.fsync", _no_space, StoreError),
    ],
    ids=["serialise", "parquet-replace", "manifest-replace", "fsync"],
)
def test_failed_write_leaves_store_byte_identical(
    store: Store, monkeypatch: pytest.MonkeyPatch, target: str, patch: object, error: type
) -> None:
    put(store, frame([1.0, 2.0], ["2025-01-02", "2025-01-03"]))
    put(store, frame([3.0], ["2025-01-06"], "wti"))
    before = snapshot(store.root)
    module, attr = target.split(".")
    monkeypatch.setattr(getattr(store_mod, module), attr, patch)
    with pytest.raises(error):
        put(store, frame([2.5, 4.0], ["2025-01-03", "2025-01-07"]), at=T1)
    monkeypatch.undo()
    assert snapshot(store.root) == before
    assert store.load("brent").tolist() == [1.0, 2.0]
    assert_consistent(store)


# ----------------------------------------------------------------------- data dir


def test_data_dir_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert resolve_data_dir() == tmp_path / "data"
    assert Store.from_env().root == tmp_path / "data"
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir("") == tmp_path / "env"
    assert resolve_data_dir("arg") == tmp_path / "arg"
    assert Store.from_env(tmp_path / "x").root == tmp_path / "x"
    monkeypatch.setenv(DATA_DIR_ENV, "")
    assert resolve_data_dir() == tmp_path / "data"


# ----------------------------------------------------------------------- processes


def _writer(root: Path, name: str, *args: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, str(WRITER), "--root", str(root), "--name", name, *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _reap(proc: subprocess.Popen[str], timeout: float = 30) -> int:
    """Kill ``proc`` if still running, wait for it and close its pipes (no ResourceWarning)."""
    proc.kill()
    proc.communicate(timeout=timeout)
    return proc.returncode


def _wait_for(proc: subprocess.Popen[str], word: str) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == word:
            return
    raise AssertionError(
        f"writer exited before {word}: {proc.stderr.read() if proc.stderr else ''}"
    )


def _expected(rows: int, base: float, i: int) -> np.ndarray:
    return base + i + 0.001 * np.arange(rows)


@pytest.mark.parametrize("pause", ["parquet", "manifest"])
def test_writer_killed_mid_write_leaves_previous_version(store: Store, pause: str) -> None:
    rows = 20_000
    done = _writer(store.root, "big", "--rows", str(rows))
    _, err = done.communicate(timeout=60)
    assert done.returncode == 0, err
    before = store.load("big")

    proc = _writer(store.root, "big", "--rows", str(rows), "--base", "500",
                   "--start", "2025-06-01T00:00Z", "--pause", pause)  # fmt: skip
    try:
        _wait_for(proc, "PAUSED")
        proc.send_signal(signal.SIGKILL)
    finally:
        _reap(proc)
    assert proc.returncode == -signal.SIGKILL

    assert_series_equal(store.load("big"), before)
    entry = store.entry("big")
    assert entry is not None and entry.n_vintages == 1
    assert (
        hashlib.sha256((store.series_dir / entry.file).read_bytes()).hexdigest() == entry.checksum
    )
    # the next write sweeps what the killed writer left and succeeds
    put(store, before.iloc[:5] + 1, at=T1)
    assert_consistent(store)


def test_writer_killed_at_random_points(store: Store) -> None:
    rng = random.Random(20251217)
    rows = 20_000
    for _ in range(4):
        proc = _writer(store.root, "big", "--rows", str(rows), "--writes", "1000",
                       "--start", str(store.entry("big").fetched_at + pd.Timedelta(seconds=1))
                       if store.exists("big") else "2025-01-01T00:00Z")  # fmt: skip
        try:
            _wait_for(proc, "READY")
            time.sleep(rng.uniform(0.05, 0.6))
            proc.send_signal(signal.SIGKILL)
        finally:
            _reap(proc)
        if not store.exists("big"):
            continue
        values = store.load("big").to_numpy()
        # a complete version of some write i: value - ramp is one constant
        level = values - 0.001 * np.arange(rows)
        np.testing.assert_allclose(level, level[0], atol=1e-6)
        entry = store.entry("big")
        assert entry is not None
        assert (
            hashlib.sha256((store.series_dir / entry.file).read_bytes()).hexdigest()
            == entry.checksum
        )
    assert store.exists("big")


def test_concurrent_writers_same_and_different_series(store: Store) -> None:
    rows, writes = 2_000, 4
    procs = [
        _writer(store.root, "shared", "--rows", str(rows), "--writes", str(writes),
                "--base", "100", "--start", "2025-01-01T00:00:00Z", "--step", "2"),
        _writer(store.root, "shared", "--rows", str(rows), "--writes", str(writes),
                "--base", "200", "--start", "2025-01-01T00:00:01Z", "--step", "2"),
        _writer(store.root, "alpha", "--rows", str(rows), "--writes", str(writes)),
        _writer(store.root, "beta", "--rows", str(rows), "--writes", str(writes)),
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err

    assert store.names() == ["alpha", "beta", "shared"]
    assert_consistent(store)
    # the last commit wins, whichever writer made it; every write is one vintage
    hist = store.history("shared")
    assert len(hist) == 2 * writes and hist["vintage"].is_monotonic_increasing
    last = hist.iloc[-1]
    base = 100 if last["fetched_at"].second % 2 == 0 else 200
    i = int((last["fetched_at"] - pd.Timestamp("2025-01-01", tz="UTC")).total_seconds() // 2)
    np.testing.assert_allclose(store.load("shared").to_numpy(), _expected(rows, base, i))
    first = store.load("shared", as_of=hist["vintage"].iloc[0]).to_numpy()
    assert np.ptp(first - 0.001 * np.arange(rows)) < 1e-6
    for name in ("alpha", "beta"):
        np.testing.assert_allclose(store.load(name).to_numpy(), _expected(rows, 100, writes - 1))
    log = store.log()
    assert len(log) == 4 * writes and set(log["series"]) == {"alpha", "beta", "shared"}


# ----------------------------------------------------------------------- history and rollback


def test_history_lists_every_vintage_with_provenance(store: Store) -> None:
    put(store, frame([1.0, 2.0], ["2025-01-02", "2025-01-03"]), source="file",
        source_id="b.csv", meta={"file_sha256": "ab" * 32, "note": "first import"})  # fmt: skip
    put(store, frame([2.0], ["2025-01-03"]), at=T1)  # unchanged: no vintage
    put(store, frame([2.5, 3.0], ["2025-01-03", "2025-01-06"]), at=T2)
    hist = store.history("brent")
    assert list(hist.columns) == list(store_mod.HISTORY_COLUMNS)
    assert hist["vintage"].tolist() == [T0, T2]
    assert hist["source"].tolist() == ["file", "fred"]
    assert hist[["rows_added", "rows_revised", "rows_removed"]].values.tolist() == [
        [2, 0, 0],
        [1, 1, 0],
    ]
    assert hist["file_sha256"].tolist() == ["ab" * 32, None]
    assert hist["note"].tolist() == ["first import", None]
    assert str(hist["vintage"].dtype) == "datetime64[ns, UTC]"
    assert (hist["committed_at"] >= pd.Timestamp("2026-01-01", tz="UTC")).all()


def test_rollback_restores_values_and_removes_dates_as_a_new_vintage(store: Store) -> None:
    put(store, frame([1.0, 2.0], ["2025-01-02", "2025-01-03"]))
    put(store, frame([20.0, 30.0], ["2025-01-03", "2025-01-06"]), at=T1)
    before = snapshot(store.root)
    r = store.rollback("brent")
    assert (r.rows_added, r.rows_revised, r.rows_removed, r.unchanged) == (0, 1, 1, False)
    assert_series_equal(store.load("brent"), store.load("brent", as_of=T0))
    assert store.load("brent").index.strftime("%Y-%m-%d").tolist() == ["2025-01-02", "2025-01-03"]
    # nothing was deleted: the bad vintage is still readable
    assert store.load("brent", as_of=T1).tolist() == [1.0, 20.0, 30.0]
    assert (
        len(store.history("brent")) == 3 and store.history("brent")["source"].iloc[-1] == "rollback"
    )
    assert snapshot(store.root) != before
    assert store.entry("brent").rows == 2 and store.entry("brent").last == pd.Timestamp(
        "2025-01-03"
    )
    rev = store.revisions("brent")
    assert rev["removed"].tolist() == [False, False, True]
    assert rev["value"].iloc[:2].tolist() == [20.0, 2.0] and np.isnan(rev["value"].iloc[2])
    assert store.verify() == []
    # the rollback can be rolled back; the removed date comes back as an addition
    r2 = store.rollback("brent")
    assert (r2.rows_added, r2.rows_revised, r2.rows_removed) == (1, 1, 0)
    assert store.load("brent").tolist() == [1.0, 20.0, 30.0]
    # rolling back to the current state changes nothing
    assert store.rollback("brent", to=store.history("brent")["vintage"].iloc[-1]).unchanged


def test_a_write_after_a_removal_adds_the_date_again(store: Store) -> None:
    put(store, frame([1.0], ["2025-01-02"]))
    put(store, frame([2.0], ["2025-01-03"]), at=T1)
    store.rollback("brent", to=T0)
    assert store.load("brent").tolist() == [1.0]
    r = put(store, frame([2.0], ["2025-01-03"]), at=pd.Timestamp.now(tz="UTC"))
    assert (r.rows_added, r.rows_revised) == (1, 0)
    assert store.load("brent").tolist() == [1.0, 2.0]
    assert store.history("brent")["rows_added"].tolist() == [1, 1, 0, 1]


def test_rollback_errors_name_the_valid_vintages(store: Store) -> None:
    with pytest.raises(StoreError, match="not in the store"):
        store.rollback("brent")
    put(store, frame([1.0], ["2025-01-02"]))
    with pytest.raises(StoreError, match="single vintage.*nothing to roll back"):
        store.rollback("brent")
    put(store, frame([2.0], ["2025-01-02"]), at=T1)
    with pytest.raises(StoreError, match=r"no vintage 2025-01-15T00:00:00Z; its vintages: "
                       r"2025-01-10T12:00:00Z, 2025-01-20T12:00:00Z"):  # fmt: skip
        store.rollback("brent", to="2025-01-15")


def test_schema_1_files_without_removals_or_history_still_load(store: Store) -> None:
    """A store written before the ``removed`` column: loads, history from the log."""
    put(store, frame([1.0, 2.0], ["2025-01-02", "2025-01-03"]))
    entry = store.entry("brent")
    assert entry is not None
    path = store.series_dir / entry.file
    import pyarrow.parquet as pq

    old = pq.read_table(path).select(["date", "value", "vintage"]).replace_schema_metadata({})
    pq.write_table(old, path)
    doc = json.loads(store.manifest_path.read_text())
    doc["series"]["brent"]["checksum"] = hashlib.sha256(path.read_bytes()).hexdigest()
    doc["series"]["brent"]["schema_version"] = 1
    store.manifest_path.write_text(json.dumps(doc))
    assert store.load("brent").tolist() == [1.0, 2.0]
    hist = store.history("brent")
    assert hist["source"].tolist() == ["fred"] and hist["rows_added"].tolist() == [2]
    r = put(store, frame([3.0], ["2025-01-02"]), at=T1)
    assert r.rows_revised == 1 and store.history("brent")["source"].tolist() == ["fred", "fred"]


_WRITE_AS_ANOTHER_USER = """
import sys
import pandas as pd
from oilimpact.errors import StoreError
from oilimpact.frames import to_series_frame
from oilimpact.store import Store

store = Store(sys.argv[1])
new = to_series_frame([2.0], ["2025-01-03"], "brent")
try:
    store.write(new, fetched_at=pd.Timestamp("2025-01-20T12:00Z"), source="fred",
                source_id="DCOILBRENTEU")
except StoreError as exc:
    print("STORE_ERROR", "writable" in str(exc))
print("LOADED", store.load("brent").tolist())
"""


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="runs only as root")
def test_read_only_store_write_is_store_error_as_unprivileged_user(tmp_path: Path) -> None:
    # root ignores permission bits, so the test above cannot run as root (as in CI): here a
    # store owned by root is written by the unprivileged user 65534, for whom it is read-only
    import shutil
    import tempfile

    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    root = Path(tempfile.mkdtemp(prefix="oilimpact-ro-"))
    try:
        root.chmod(0o755)
        store = Store(root / "store")
        put(store, frame([1.0], ["2025-01-02"]))
        for p in [store.root, *store.root.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        before = snapshot(store.root)
        cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
               sys.executable, "-c", _WRITE_AS_ANOTHER_USER, str(store.root)]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if "No module named" in out.stderr or ("Permission denied" in out.stderr and not out.stdout):
            pytest.skip(f"user 65534 cannot run this interpreter here: {out.stderr[-200:]}")
        assert out.returncode == 0, out.stderr
        assert "STORE_ERROR True" in out.stdout, out.stdout + out.stderr
        assert "LOADED [1.0]" in out.stdout
        assert snapshot(store.root) == before  # nothing stored was touched
    finally:
        shutil.rmtree(root, ignore_errors=True)
