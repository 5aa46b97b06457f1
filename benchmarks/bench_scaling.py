"""Benchmark: how the public ``oi.event_study`` call scales in pairs, and its peak memory.

Three parts (issue 15, "Cost must grow linearly in pairs" and "Memory and streaming"):

* **scaling series**: the public call on 1,000, 10,000 and 100,000 (event, asset) pairs
  (500, 5,000 and 50,000 assets x 600 business days x 2 events, 1% of the prices
  missing, market model, estimation window (-250, -11), the five default CAR windows,
  every single-pair and cross-sectional test), with the default ``chunk_size``. Each
  size runs in a fresh subprocess: one untimed warm-up call on a small panel (imports,
  numba's kernel cache, 2,000 pairs), then ``repeats`` timed calls; reported: the median and the
  fastest time, **microseconds per pair** (the fastest time / pairs: linear cost means a
  flat column) and the process's peak RSS; the largest size also records each engine
  stage's time and memory (as below);
* **one million pairs**: 50,000 assets x 1,250 business days x 20 events (1% missing),
  processed in chunks (``chunk_size``, default the engine's), in a subprocess whose peak
  RSS is read with ``resource.getrusage`` (``ru_maxrss``) at its end; target < 4 GiB.
  The parent polls the child's RSS and stops it (by its pid) above ``--rss-cap`` (default
  8 GiB) so that a run that cannot meet the target does not take the shared machine's
  memory; the report then says so. While the study runs, the child records for each
  engine stage (``resolve_inputs``, ``split_jobs``, ``run_chunks`` with every
  ``run_chunk``, ``merge_chunks``, ``concat_panels``, ``finish_result``, the q-values
  and the cross-sectional tests) the RSS on entry and exit and the peak RSS in between
  (a sampling thread, every 20 ms), and the sizes of the result's frames and of the
  merged panel's arrays: what takes the memory;
* **identical results**: a separate child runs the first ``--subset`` assets (500) of
  the million-pair shape (x 20 events) in five chunks and in one, and requires every
  public frame (``tests`` included) to be equal to 1e-12; after a successful
  million-pair run, the same subset run in memory must give the big run's rows of
  ``alignment``, ``abnormal``, ``car`` and ``params`` to 1e-12 (the q-values and the
  cross-sectional tests are over the whole cross-section, so they differ by design and
  are left out).

The machine's CPU count and load average are recorded: on a shared machine the times
are upper bounds (rerun on a quiet machine).

Run: ``python benchmarks/bench_scaling.py`` (several minutes; ``--skip-million`` for the
series only, ``--sizes 1000 10000`` to choose the series, ``--sizes`` alone for none). Writes
``benchmarks/results/scaling.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "scaling.json"
TARGET_GIB = 4.0
SERIES_DAYS, SERIES_EVENTS = 600, 2
# 20 events 51 business days apart: each estimation window loses at most 5 x 21 days to
# the other events' exclusion bands and keeps >= 120 (the default min_estimation)
MILLION = {"n_assets": 50_000, "n_days": 1_250, "n_events": 20}
MISSING = 0.01
WARMUP_ASSETS = 1_000  # 2,000 pairs: above kernels.MIN_PAIRS, so the kernels load
TOL = 1e-12
PER_PAIR_TABLES = ("alignment", "abnormal", "car", "params")
ALL_TABLES = ("alignment", "abnormal", "car", "tests", "params")
Q_COLUMNS = ("qvalue", "sq_qvalue")  # adjusted over the whole table: differ by design
STAGES = {
    "engine": ("resolve_inputs", "split_jobs", "run_chunks", "merge_chunks", "concat_panels",
               "finish_result"),
    "chunks": ("run_chunk",),
    "assemble": ("_add_qvalues", "_cross_sectional", "pooled_tests"),
    "stream": ("concat_released",),
}  # fmt: skip


# ---- the child: one study in this process ---------------------------------------------
def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _peak_rss() -> int:
    """This process's RSS high-water mark in bytes (``ru_maxrss`` is KiB on Linux)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


class StageMemory:
    """Record RSS on entry/exit and the sampled peak RSS during the engine's stages.

    Wraps the module-level functions named in :data:`STAGES` (looked up at call time by
    the engine, so wrapping the module attribute is enough); stages that do not exist in
    this version of the engine are skipped. A daemon thread samples RSS every
    ``interval`` seconds and raises the peak of every stage running at that moment.
    """

    def __init__(self, progress: Path | None = None, interval: float = 0.02) -> None:
        self.stats: dict[str, dict[str, float]] = {}
        self.active: dict[int, list[Any]] = {}
        self.progress = progress
        self.interval = interval
        self._stop = threading.Event()
        self._saved: list[tuple[Any, str, Any]] = []

    def sample(self) -> int:
        now = _rss()
        for entry in list(self.active.values()):
            entry[1] = max(entry[1], now)
        return now

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def _wrap(self, name: str, fn: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            key = id(object())
            rss_in = self.sample()
            self.active[key] = [name, rss_in]
            self._mark(f"enter {name} rss={rss_in / 2**20:.0f}MiB")
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                rss_out = self.sample()
                peak = self.active.pop(key)[1]
                st = self.stats.setdefault(
                    name, {"calls": 0, "seconds": 0.0, "rss_in_first_mib": rss_in / 2**20}
                )
                st["calls"] += 1
                st["seconds"] += time.perf_counter() - t0
                st["rss_out_last_mib"] = rss_out / 2**20
                st["peak_mib"] = max(st.get("peak_mib", 0.0), peak / 2**20)
                st["max_growth_mib"] = max(st.get("max_growth_mib", 0.0), (peak - rss_in) / 2**20)
                self._mark(f"leave {name} rss={rss_out / 2**20:.0f}MiB peak={peak / 2**20:.0f}MiB")

        return wrapped

    def _mark(self, text: str) -> None:
        if self.progress is not None:
            with self.progress.open("a", encoding="utf-8") as fh:
                fh.write(f"{time.strftime('%H:%M:%S')} {text}\n")

    def __enter__(self) -> StageMemory:
        import importlib

        for mod_name, names in STAGES.items():
            mod = importlib.import_module(f"oilimpact.eventstudy.{mod_name}")
            for name in names:
                if hasattr(mod, name):
                    self._saved.append((mod, name, getattr(mod, name)))
                    setattr(mod, name, self._wrap(name, getattr(mod, name)))
        threading.Thread(target=self._loop, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for mod, name, fn in reversed(self._saved):
            setattr(mod, name, fn)

    def table(self) -> dict[str, dict[str, float]]:
        return {k: {a: round(b, 3) for a, b in v.items()} for k, v in self.stats.items()}


def _sizes_mib(res: Any) -> dict[str, Any]:
    """Memory held by the result's frames and the merged panel's arrays (MiB)."""
    out: dict[str, Any] = {}
    for name in ALL_TABLES:
        if name == "params" and isinstance(res.panel.est_resid, np.memmap):
            out[name] = None  # built on demand from every spilled residual: not built here
            continue
        frame = getattr(res, name)
        out[name] = round(float(frame.memory_usage(deep=True).sum()) / 2**20, 1)
    panel = {}
    for name in getattr(type(res.panel), "__dataclass_fields__", {}):
        arr = getattr(res.panel, name)
        if isinstance(arr, np.ndarray):
            panel[name] = {"shape": list(arr.shape), "mib": round(arr.nbytes / 2**20, 1)}
        elif isinstance(arr, pd.Index):
            panel[name] = {
                "shape": [len(arr)],
                "mib": round(arr.memory_usage(deep=True) / 2**20, 1),
            }
    out["panel_arrays"] = panel
    out["panel_total_mib"] = round(sum(v["mib"] for v in panel.values()), 1)
    return out


def _study(prices: pd.DataFrame, market: pd.Series, events: dict, **kwargs: Any) -> Any:
    import oilimpact as oi

    return oi.event_study(prices, events, market=market, catalog={}, **kwargs)


def _rows(res: Any, name: str, assets: set[str]) -> pd.DataFrame:
    if name == "params":  # the first assets' pairs only (asset-major: the first rows)
        frame = _first_pairs(res, len(assets) * len(res.spec.events)).params.reset_index()
    else:
        frame = getattr(res, name)
    keep = frame[frame["series"].isin(assets)].drop(columns=list(Q_COLUMNS), errors="ignore")
    return keep.sort_values([c for c in ("event", "series", "day", "start", "end")
                              if c in keep.columns]).reset_index(drop=True)  # fmt: skip


def _first_pairs(res: Any, n_pairs: int) -> Any:
    """``res`` restricted to its first ``n_pairs`` pairs (panel, alignment and
    coefficients), for the per-pair properties such as ``params``."""
    import dataclasses

    from oilimpact.eventstudy.panel import panel_rows

    coef = None if res.coefficients is None else res.coefficients.iloc[:n_pairs]
    return dataclasses.replace(res, panel=panel_rows(res.panel, 0, n_pairs),
                               alignment=res.alignment.iloc[:n_pairs], coefficients=coef)  # fmt: skip


def _max_diff(a: pd.DataFrame, b: pd.DataFrame, name: str) -> float:
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=TOL, atol=TOL, obj=name)
    num = a.select_dtypes("number").columns
    if len(num) == 0:
        return 0.0
    diff = np.abs(a[num].to_numpy(float) - b[num].to_numpy(float))
    return float(np.nanmax(diff, initial=0.0))


def _big_vs_memory(res: Any, prices: pd.DataFrame, market: pd.Series, events: dict,
                   n_subset: int) -> dict[str, Any]:  # fmt: skip
    """The big run's rows of the first ``n_subset`` assets equal an in-memory run of
    them (one chunk)."""
    sub = prices.iloc[:, :n_subset]
    whole = _study(sub, market, events, chunk_size=n_subset * len(events))
    assets = set(sub.columns)
    diffs = {n: _max_diff(_rows(res, n, assets), _rows(whole, n, assets), n)
             for n in PER_PAIR_TABLES}  # fmt: skip
    return {
        "subset_assets": n_subset,
        "subset_pairs": n_subset * len(events),
        "max_abs_diff": diffs,
        "note": "rows of the subset's assets in alignment, abnormal, car, params (q-value "
        "columns left out: adjusted over the whole table)",
        "identical": True,  # reached only when every assert_frame_equal passed
    }


def chunks_vs_memory(spec: dict[str, Any]) -> dict[str, Any]:
    """A ``spec``-shaped panel in five chunks equals its one-chunk run on every frame."""
    from baselines import make_panel

    prices, market, events = make_panel(spec["n_assets"], spec["n_days"], spec["n_events"],
                                        MISSING, seed=spec.get("seed", 0))  # fmt: skip
    n_pairs = spec["n_assets"] * spec["n_events"]
    whole = _study(prices, market, events, chunk_size=n_pairs)
    size = max(spec["n_events"], n_pairs // 5)
    chunked = _study(prices, market, events, chunk_size=size)
    diffs = {}
    for name in ALL_TABLES:
        a, b = getattr(chunked, name), getattr(whole, name)
        keep = name == "params"  # its index is (event, series)
        diffs[name] = _max_diff(a.reset_index(drop=not keep), b.reset_index(drop=not keep), name)
    return {
        "n_assets": spec["n_assets"],
        "n_days": spec["n_days"],
        "n_events": spec["n_events"],
        "n_pairs": n_pairs,
        "chunk_size": size,
        "max_abs_diff": diffs,
        "note": f"{n_pairs:,} pairs in chunks of {size:,} vs one chunk, every public frame",
        "identical": True,  # reached only when every assert_frame_equal passed
    }


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one study as ``spec`` says, in this process; return the measurements."""
    from baselines import make_panel

    import oilimpact as oi

    t0 = time.perf_counter()
    # imports and numba's kernel cache: enough pairs for the compiled kernels
    warm = make_panel(WARMUP_ASSETS, 600, 2, MISSING, seed=99)
    _study(*warm)
    warm_s = time.perf_counter() - t0
    prices, market, events = make_panel(spec["n_assets"], spec["n_days"], spec["n_events"],
                                        MISSING, seed=spec.get("seed", 0))  # fmt: skip
    rss_input = _rss()
    kwargs = {} if spec.get("chunk_size") is None else {"chunk_size": spec["chunk_size"]}
    times = []
    progress = Path(spec["progress"]) if spec.get("progress") else None
    memory = StageMemory(progress) if spec.get("stages") else None
    for r in range(spec.get("repeats", 1)):
        if memory is not None and r == spec.get("repeats", 1) - 1:
            with memory:
                t1 = time.perf_counter()
                res = _study(prices, market, events, **kwargs)
                times.append(time.perf_counter() - t1)
        else:
            t1 = time.perf_counter()
            res = _study(prices, market, events, **kwargs)
            times.append(time.perf_counter() - t1)
            if r < spec.get("repeats", 1) - 1:
                del res
    peak_study = _peak_rss()
    n_pairs = int(res.panel.n_pairs)
    out: dict[str, Any] = {
        "n_assets": spec["n_assets"],
        "n_days": spec["n_days"],
        "n_events": spec["n_events"],
        "n_pairs": n_pairs,
        "chunk_size": spec.get("chunk_size") or _default_chunk_size(),
        "missing_share": MISSING,
        "times_s": [round(t, 4) for t in times],
        "median_s": round(statistics.median(times), 4),
        "min_s": round(min(times), 4),
        "us_per_pair_min": round(1e6 * min(times) / n_pairs, 3),
        "us_per_pair_median": round(1e6 * statistics.median(times) / n_pairs, 3),
        "warmup_s": round(warm_s, 2),
        "rss_with_input_mib": round(rss_input / 2**20, 1),
        "input_prices_mib": round(prices.memory_usage().sum() / 2**20, 1),
        "peak_rss_mib": round(peak_study / 2**20, 1),
        "oilimpact": getattr(oi, "__version__", "?"),
    }
    if memory is not None:
        out["stages"] = memory.table()
        out["result_sizes_mib"] = _sizes_mib(res)
    if spec.get("subset"):
        out["subset_check"] = _big_vs_memory(res, prices, market, events, spec["subset"])
    return out


def _default_chunk_size() -> int | None:
    try:
        from oilimpact.eventstudy.spec import DEFAULT_CHUNK_SIZE
    except ImportError:  # an engine without chunks
        return None
    return int(DEFAULT_CHUNK_SIZE)


# ---- the parent: run children, watch their memory -------------------------------------
def run_child(spec: dict[str, Any], rss_cap_gib: float) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter; stop it (by pid) above ``rss_cap_gib``."""
    import psutil

    with tempfile.TemporaryDirectory(prefix="bench_scaling_") as tmp:
        out_path, progress = Path(tmp) / "out.json", Path(tmp) / "progress.log"
        spec = {**spec, "out": str(out_path), "progress": str(progress)}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
        proc = subprocess.Popen(cmd, cwd=HERE)
        ps = psutil.Process(proc.pid)
        seen_peak, killed = 0, False
        while proc.poll() is None:
            try:
                seen_peak = max(seen_peak, ps.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            if seen_peak > rss_cap_gib * 2**30:
                proc.kill()
                killed = True
                break
            time.sleep(0.2)
        proc.wait()
        log = progress.read_text(encoding="utf-8").splitlines() if progress.exists() else []
        if killed or proc.returncode != 0 or not out_path.exists():
            return {
                **{k: v for k, v in spec.items() if k not in ("out", "progress")},
                "failed": True,
                "killed_above_cap_gib": rss_cap_gib if killed else None,
                "returncode": proc.returncode,
                "polled_peak_rss_mib": round(seen_peak / 2**20, 1),
                "chunk_growth": _chunk_growth(log, spec),
                "stage_log_tail": log[-12:],
            }
        result = json.loads(out_path.read_text(encoding="utf-8"))
        result["polled_peak_rss_mib"] = round(seen_peak / 2**20, 1)
        return result


def _chunk_growth(log: list[str], spec: dict[str, Any]) -> dict[str, Any] | None:
    """From a stopped run's stage log: the RSS each finished chunk left behind (what
    the engine keeps of a chunk until the merge) and where ``run_chunks`` was heading."""
    enter = [float(m.group(1)) for m in map(_RSS_IN.search, log) if m]
    leave = [float(m.group(1)) for m in map(_RSS_OUT.search, log) if m]
    if len(leave) < 3 or not enter:
        return None
    steps = np.diff(leave)
    per_chunk = float(np.median(steps))
    size = spec.get("chunk_size") or _default_chunk_size() or 0
    per_asset_chunk = max(1, size // spec["n_events"])
    n_chunks = -(-spec["n_assets"] // per_asset_chunk)
    pairs_per_chunk = per_asset_chunk * spec["n_events"]
    return {
        "chunks_done": len(leave),
        "chunks_total": n_chunks,
        "pairs_per_chunk": pairs_per_chunk,
        "rss_before_first_chunk_mib": enter[0],
        "retained_mib_per_chunk_median": round(per_chunk, 1),
        "retained_kib_per_pair": round(per_chunk * 1024 / pairs_per_chunk, 2),
        "projected_rss_after_run_chunks_gib": round((enter[0] + n_chunks * per_chunk) / 1024, 1),
        "note": "the chunks' results are all kept until merge_chunks concatenates them; "
        "the projection is the RSS before the first chunk + chunks x the median growth",
    }


_RSS_IN = re.compile(r"enter run_chunk rss=([0-9.]+)MiB")
_RSS_OUT = re.compile(r"leave run_chunk rss=([0-9.]+)MiB")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000],
                    help="pairs of the scaling series (2 events each)")  # fmt: skip
    ap.add_argument("--skip-million", action="store_true")
    ap.add_argument("--chunk-size", type=int, default=None, help="for the million-pair run")
    ap.add_argument("--subset", type=int, default=500, help="assets re-run in memory")
    ap.add_argument("--rss-cap", type=float, default=8.0, help="GiB; stop the child above")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        result = chunks_vs_memory(spec) if spec.get("mode") == "chunks" else child(spec)
        Path(spec["out"]).write_text(json.dumps(result, indent=2), encoding="utf-8")
        return result

    import psutil

    load_start = os.getloadavg()
    series = []
    for pairs in args.sizes:
        n_assets = pairs // SERIES_EVENTS
        repeats = 5 if pairs <= 10_000 else 3
        spec = {"n_assets": n_assets, "n_days": SERIES_DAYS, "n_events": SERIES_EVENTS,
                "repeats": repeats, "stages": pairs == max(args.sizes)}  # fmt: skip
        row = run_child(spec, args.rss_cap)
        series.append(row)
        _print_series_row(row)
    million = chunk_check = None
    if not args.skip_million:
        spec = {**MILLION, "n_assets": args.subset, "mode": "chunks"}
        chunk_check = run_child(spec, args.rss_cap)
        _print_chunk_check(chunk_check)
        spec = {**MILLION, "repeats": 1, "stages": True, "subset": args.subset,
                "chunk_size": args.chunk_size}  # fmt: skip
        million = run_child(spec, args.rss_cap)
        _print_million(million)
    ok_rows = [r for r in series if not r.get("failed")]
    per_pair = [r["us_per_pair_min"] for r in ok_rows]
    result = {
        "what": "oi.event_study public call from a prices DataFrame (1% missing), market "
        "model, estimation (-250,-11), 5 default CAR windows, all tests",
        "series": series,
        "series_us_per_pair_min": per_pair,
        "series_per_pair_ratio_largest_to_smallest": (
            round(per_pair[-1] / per_pair[0], 2) if len(per_pair) > 1 else None
        ),
        "million": million,
        "chunks_vs_in_memory": chunk_check,
        "target_peak_gib": TARGET_GIB,
        "million_meets_target": (
            None
            if million is None
            else bool(
                not million.get("failed")
                and million["peak_rss_mib"] < TARGET_GIB * 1024
                and million.get("subset_check", {}).get("identical", False)
            )
        ),  # fmt: skip
        "command": "python benchmarks/bench_scaling.py " + " ".join(sys.argv[1:]),
        "load_average_start": [round(v, 2) for v in load_start],
        "load_average_end": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "machine": platform.machine(),
        "cpus": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"machine: {result['cpus']} CPUs, {result['memory_gib']} GiB, load average at start "
        f"{' '.join(f'{v:.2f}' for v in load_start)} (shared machine: times are upper bounds)"
    )
    print(f"wrote {args.out}")
    return result


def _print_series_row(row: dict[str, Any]) -> None:
    if row.get("failed"):
        print(f"{row['n_assets'] * row['n_events']:>9,} pairs: FAILED {row}")
        return
    print(
        f"{row['n_pairs']:>9,} pairs ({row['n_assets']:,} assets x {row['n_days']} days x "
        f"{row['n_events']} events): median {row['median_s']:.3f} s, fastest "
        f"{row['min_s']:.3f} s = {row['us_per_pair_min']:.1f} us/pair; peak RSS "
        f"{row['peak_rss_mib']:,.0f} MiB (input prices {row['input_prices_mib']:,.0f} MiB)"
    )


def _print_chunk_check(row: dict[str, Any]) -> None:
    if row.get("failed"):
        print(f"chunks vs in-memory: FAILED (exit code {row['returncode']})")
        return
    print(f"{row['n_pairs']:>9,} pairs ({row['n_assets']:,} assets x {row['n_days']} days x "
          f"{row['n_events']} events) in chunks of {row['chunk_size']:,} = one chunk on every "
          f"frame to {TOL:g}: {row['identical']}")  # fmt: skip


def _print_million(row: dict[str, Any]) -> None:
    if row.get("failed"):
        cap = row.get("killed_above_cap_gib")
        why = f"stopped above the {cap} GiB cap" if cap else f"exit code {row['returncode']}"
        print(f"1M pairs: {why}; polled peak RSS {row['polled_peak_rss_mib']:,.0f} MiB")
        growth = row.get("chunk_growth")
        if growth:
            print(f"  {growth['chunks_done']} of {growth['chunks_total']} chunks of "
                  f"{growth['pairs_per_chunk']:,} pairs done; each finished chunk kept "
                  f"{growth['retained_mib_per_chunk_median']:,.0f} MiB "
                  f"({growth['retained_kib_per_pair']:.1f} KiB a pair) until the merge: "
                  f"{growth['projected_rss_after_run_chunks_gib']} GiB projected after "
                  "run_chunks, before concat_panels and the cross-sectional tests")  # fmt: skip
        print("  last stages:\n    " + "\n    ".join(row["stage_log_tail"]))
        return
    print(
        f"{row['n_pairs']:>9,} pairs ({row['n_assets']:,} assets x {row['n_days']} days x "
        f"{row['n_events']} events, chunks of {row['chunk_size']}): {row['min_s']:.1f} s = "
        f"{row['us_per_pair_min']:.1f} us/pair; peak RSS {row['peak_rss_mib']:,.0f} MiB "
        f"(target < {TARGET_GIB * 1024:,.0f}); input prices {row['input_prices_mib']:,.0f} MiB"
    )
    for name, st in row.get("stages", {}).items():
        print(f"  {name:<18} calls {st['calls']:>3.0f}  {st['seconds']:7.2f} s  peak "
              f"{st['peak_mib']:7,.0f} MiB  growth {st['max_growth_mib']:7,.0f} MiB")  # fmt: skip
    sizes = row.get("result_sizes_mib", {})
    if sizes:
        frames = ", ".join(f"{k} {sizes[k]:,.0f}" for k in ALL_TABLES if sizes.get(k) is not None)
        print(
            f"  result frames (MiB): {frames}; merged panel arrays {sizes['panel_total_mib']:,.0f} MiB"
        )
    check = row.get("subset_check")
    if check:
        print(f"  subset of {check['subset_pairs']:,} pairs identical to in-memory (1e-12): "
              f"{check['identical']}")  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
