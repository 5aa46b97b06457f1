"""Subprocess writer for the store's crash and concurrency tests.

Fetcher-like mode (default): write number ``i`` (0-based) stores ``rows`` daily values
``base + i + 0.001 * k`` from 1900-01-01 with ``fetched_at = start + i * step`` seconds,
so every write is a full revision and the final state is predictable.

Importer mode (``--import FILE``): ``oilimpact.api.import_file(FILE, name=--name)`` into
the store, the path the CLI's ``oilimpact import`` takes.

Options for the tests:

* ``--pause parquet|manifest``: the first ``os.replace`` onto a Parquet file or onto
  ``manifest.json`` prints ``PAUSED`` and sleeps, so the parent can SIGKILL there.
* ``--wait-file PATH``: after taking ``fetched_at`` print ``FETCHED`` and wait until
  PATH exists before writing (a slow writer whose run overlaps another's).
* ``--broken-order``: TEST-ONLY broken store that replaces the manifest *before* it
  writes the Parquet file it refers to (the crash test must catch it).
* ``--fetch-time-order``: TEST-ONLY broken store that places every write at its
  ``fetched_at`` (the old rule: the earlier fetch loses even when it commits later).
* ``--result``: print ``RESULT <json>`` with the WriteResult of the last write.
* ``--crash-points P1,P2,... --roots D1,D2,...``: import once, then for each pair fork a
  child that sets ``OILIMPACT_TEST_CRASH_AT=Pi`` and writes (or imports) into store
  ``Di``; print ``EXIT <point> <status>`` per child (``-9``: killed by SIGKILL). One
  interpreter start for many kills.

``READY`` is printed once imports are done, ``DONE`` at the end. The crash points of
``OILIMPACT_TEST_CRASH_AT`` (``oilimpact.store.CRASH_POINTS``) work in every mode.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from oilimpact import store as store_mod


def _install_pause(target: str) -> None:
    real_replace = os.replace

    def paused_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        dst_name = os.fspath(dst)
        hit = (
            dst_name.endswith(".parquet")
            if target == "parquet"
            else dst_name.endswith("manifest.json")
        )
        if hit:
            print("PAUSED", flush=True)
            time.sleep(120)
        real_replace(src, dst)

    os.replace = paused_replace  # type: ignore[assignment]


def _install_broken_order() -> None:
    """Manifest first, data file second: a crash in between leaves a dangling manifest."""
    pending: dict[str, tuple[Path, bytes]] = {}
    real_commit = store_mod.Store._commit

    def write_parquet(self, name, table, history):  # type: ignore[no-untyped-def]
        import hashlib

        data = store_mod._encode(table, name, history)
        checksum = hashlib.sha256(data).hexdigest()
        file_name = f"{name}.{checksum[:16]}.parquet"
        self.series_dir.mkdir(parents=True, exist_ok=True)
        pending[name] = (self.series_dir / file_name, data)
        return file_name, checksum

    def commit(self, name, entry, record):  # type: ignore[no-untyped-def]
        real_commit(self, name, entry, record)
        if name in pending:
            path, data = pending.pop(name)
            store_mod._atomic_write(path, data, step="parquet")

    store_mod.Store._write_parquet = write_parquet  # type: ignore[method-assign]
    store_mod.Store._commit = commit  # type: ignore[method-assign]


def _install_fetch_time_order() -> None:
    def place(old, fetched):  # type: ignore[no-untyped-def]
        return fetched, ()

    store_mod._place = place  # type: ignore[assignment]


def _result_json(result: store_mod.WriteResult) -> str:
    return json.dumps(
        {
            "rows_added": result.rows_added,
            "rows_revised": result.rows_revised,
            "unchanged": result.unchanged,
            "vintage": None if result.vintage is None else result.vintage.isoformat(),
            "fetched_at": None if result.fetched_at is None else result.fetched_at.isoformat(),
            "concurrent": [t.isoformat() for t in result.concurrent],
            "warnings": list(result.warnings),
        }
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("--writes", type=int, default=1)
    p.add_argument("--base", type=float, default=100.0)
    p.add_argument("--start", default="2025-01-01T00:00:00Z")
    p.add_argument("--step", type=float, default=2.0)
    p.add_argument("--pause", choices=["none", "parquet", "manifest"], default="none")
    p.add_argument("--import", dest="import_file", default=None)
    p.add_argument("--wait-file", default=None)
    p.add_argument("--broken-order", action="store_true")
    p.add_argument("--fetch-time-order", action="store_true")
    p.add_argument("--result", action="store_true")
    p.add_argument("--crash-points", default=None)
    p.add_argument("--roots", default=None)
    args = p.parse_args(argv)
    if args.crash_points:
        return _fork_crashes(args)
    return _run(args, args.root)


def _fork_crashes(args: argparse.Namespace) -> int:
    points, roots = args.crash_points.split(","), args.roots.split(",")
    if args.import_file:  # warm up: load every lazily imported module once, before forking
        import tempfile

        from oilimpact import api

        with tempfile.TemporaryDirectory() as scratch:
            api.import_file(args.import_file, name=args.name, data_dir=scratch)
    print("READY", flush=True)
    for point, root in zip(points, roots, strict=True):
        pid = os.fork()
        if pid == 0:  # child: crash at ``point`` while writing into ``root``
            os.environ[store_mod.CRASH_ENV] = point
            store_mod._crash_counts.clear()
            code = 1
            try:
                with open(os.devnull, "w") as quiet:
                    sys.stdout = quiet
                    _run(args, root)
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(f"EXIT {point} {code}", flush=True)
    print("DONE", flush=True)
    return 0


def _run(args: argparse.Namespace, root: str) -> int:
    if args.pause != "none":
        _install_pause(args.pause)
    if args.broken_order:
        _install_broken_order()
    if args.fetch_time_order:
        _install_fetch_time_order()
    if args.import_file:
        from oilimpact import api

        print("READY", flush=True)
        api.import_file(args.import_file, name=args.name, data_dir=root)
        print("DONE", flush=True)
        return 0

    store = store_mod.Store(root)
    index = pd.date_range("1900-01-01", periods=args.rows, freq="D", name="date")
    start = pd.Timestamp(args.start)
    print("READY", flush=True)
    result = None
    for i in range(args.writes):
        values = args.base + i + 0.001 * np.arange(args.rows)
        series = pd.Series(values, index=index, name=args.name)
        fetched_at = start + pd.Timedelta(seconds=args.step * i)
        if args.wait_file:
            print("FETCHED", flush=True)
            while not os.path.exists(args.wait_file):
                time.sleep(0.01)
        result = store.write(
            series, source="test", source_id=f"pid{os.getpid()}", fetched_at=fetched_at
        )
    if args.result and result is not None:
        print("RESULT " + _result_json(result), flush=True)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
