"""Cost of refusing hostile or huge files in ``oilimpact.sources.files``.

Measures, each in a fresh subprocess:

* the time to refuse ``/dev/zero``, a FIFO with no writer, a directory, and a CSV of one
  row x 300,000 columns (about 2.9 MB) with the default limits;
* the wall time and the peak resident memory (``ru_maxrss`` after minus before the
  read) of reading price files of growing size with the size limit raised, each with one
  bad value on its last line so that the read ends in a refusal after a full parse (the
  worst case), as a multiple of the file size.

Run: ``python benchmarks/bench_file_reading.py [--sizes 10,40,160] [--repeat 3]``.
Figures depend on the machine; the README quotes them from this script only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from oilimpact.sources import files
from oilimpact.errors import InputError
path, max_bytes = sys.argv[1], int(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
    files.read_series_file(path, name="brent", max_bytes=max_bytes)
    outcome = "read"
except InputError as exc:
    outcome = str(exc)[:160]
elapsed = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_kib": after - before, "outcome": outcome}))
"""


def _child(path: str, max_bytes: int = 100 * 2**20) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, path, str(max_bytes)],
        capture_output=True, text=True, timeout=900, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def _price_file(path: Path, megabytes: float) -> int:
    """Write ``Date,Price`` rows up to ``megabytes``, last value ``abc``; return bytes."""
    row = "2020-01-02,71.25\n"
    n = int(megabytes * 2**20 / len(row))
    with open(path, "w") as fh:
        fh.write("Date,Price\n")
        fh.write(row * (n - 1))
        fh.write("2020-01-03,abc\n")
    return path.stat().st_size


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="10,40,160", help="file sizes in MiB")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        fifo = d / "pipe.csv"
        os.mkfifo(fifo)
        wide = d / "wide.csv"
        wide.write_text(",".join(f"col{i:06d}" for i in range(300_000)) + "\n")
        cases = {"/dev/zero": "/dev/zero", "FIFO": str(fifo), "directory": tmp,
                 f"1 x 300,000 columns ({wide.stat().st_size / 1e6:.1f} MB)": str(wide)}  # fmt: skip
        print("refusals (seconds inside the call; best and worst of", args.repeat, "runs)")
        for label, path in cases.items():
            runs = [_child(path) for _ in range(args.repeat)]
            secs = [r["seconds"] for r in runs]
            print(f"  {label:<34} {min(secs):.4f} .. {max(secs):.4f} s  -> {runs[0]['outcome']}")
        print("full parse ending in a refusal (size limit raised)")
        for mib in (float(s) for s in args.sizes.split(",")):
            path = d / f"prices_{mib:g}.csv"
            size = _price_file(path, mib)
            runs = [_child(str(path), max_bytes=size + 1) for _ in range(args.repeat)]
            secs = [r["seconds"] for r in runs]
            peak = max(r["peak_kib"] for r in runs) * 1024
            print(
                f"  {size / 2**20:6.1f} MiB: {min(secs):6.2f} .. {max(secs):6.2f} s, "
                f"peak memory +{peak / 2**20:7.1f} MiB = {peak / size:4.1f} x the file"
                f"  -> {runs[0]['outcome'][-60:]}"
            )
            path.unlink()
        big = d / "big.csv"
        _price_file(big, 101)
        r = _child(str(big))
        print(f"  101 MiB with the default limit: {r['seconds']:.4f} s -> {r['outcome']}")


if __name__ == "__main__":
    main()
