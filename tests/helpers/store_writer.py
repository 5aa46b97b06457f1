"""Subprocess writer for the store's crash and concurrency tests (tests/test_store.py).

Write number ``i`` (0-based) stores ``rows`` daily values ``base + i + 0.001 * k`` from
1900-01-01 with ``fetched_at = start + i * step`` seconds, so every write is a full
revision and the final state is predictable from the fetch times.

``--pause parquet|manifest`` makes the first ``os.replace`` onto a Parquet file or onto
``manifest.json`` print ``PAUSED`` and sleep, so the parent can SIGKILL the process at
exactly that point. ``READY`` is printed once imports are done.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

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
    args = p.parse_args(argv)

    if args.pause != "none":
        _install_pause(args.pause)
    store = store_mod.Store(args.root)
    index = pd.date_range("1900-01-01", periods=args.rows, freq="D", name="date")
    start = pd.Timestamp(args.start)
    print("READY", flush=True)
    for i in range(args.writes):
        values = args.base + i + 0.001 * np.arange(args.rows)
        series = pd.Series(values, index=index, name=args.name)
        fetched_at = start + pd.Timedelta(seconds=args.step * i)
        store.write(series, source="test", source_id=f"pid{os.getpid()}", fetched_at=fetched_at)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
