"""Benchmark: what a user calls, ``oi.event_study``, against the baselines, in one run.

Workload (issue 15): 5,000 assets x 600 business days x 2 events = 10,000 (event,
asset) pairs, market model, estimation window (-250, -11), the five windows ``(0,0),
(0,1), (-1,1), (0,5), (0,10)``, all single-pair tests (AR and CAR t tests, SQ tests)
and the default pooled tests; prices from :func:`baselines.make_panel` (Student-t
returns), once with 1% of the prices missing at random and once clean.

Reported, all in this one process (so on the same shared machine):

* ``public``: ``oi.event_study(prices, events, market=market, event_windows=<5
  windows>)`` from the DataFrame, median of ``--repeats`` (>= 5) after one warm-up
  call, clean and with 1% missing, each call followed by one of the vectorised
  baseline (so the two medians come from the same minutes of a shared machine); and where one call's time goes (inputs, the
  chunks: grids, day 0, windows, fit, single-pair tests; the merge: q-values and the
  cross-sectional tests);
* ``core``: the batched fit and tests on the arrays the public call prepared
  (``fit_panel`` + ``build_result``: single-pair tests, q-values, pooled tests);
* the baselines of ``benchmarks/baselines.py``: the bare vectorised numpy market model
  + CAR + PE t (median of the repeats, alternating with the public call), the careful per-pair loop (statsmodels OLS per
  pair) and the naive pandas tutorial loop, both timed on a subset of the assets and
  scaled linearly to 10,000 pairs (the printout says on how many);
* the ratios against the targets: >= 10x the careful loop, >= 150x the naive loop,
  within 4x of the vectorised baseline, public call <= 0.4 s (1% missing);
* ``res.summary()`` and ``res.to_frame()`` on the 10,000-pair result (median);
* the cost at 1k, 10k and 100k pairs (500, 5,000 and 50,000 assets x 2 events, 1%
  missing; ``--no-100k`` skips the largest), to show it grows linearly.

On a shared machine the times are upper bounds: the CPU count and the load average
before and after are recorded with the figures.

Run: ``python benchmarks/bench_public_call.py`` (a few minutes; ``--quick`` for a
smaller check). Writes ``benchmarks/results/public_call.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

import baselines  # noqa: E402

import oilimpact as oi  # noqa: E402
from oilimpact.eventstudy import engine  # noqa: E402
from oilimpact.eventstudy.build import pair_windows  # noqa: E402
from oilimpact.eventstudy.chunks import _window_arrays, run_chunks  # noqa: E402
from oilimpact.eventstudy.dayzero import day_zero  # noqa: E402
from oilimpact.eventstudy.grid import session_grid  # noqa: E402
from oilimpact.eventstudy.inputs import packaged_registry, resolve_events, resolve_inputs  # noqa: E402
from oilimpact.eventstudy.models import fit_panel  # noqa: E402
from oilimpact.eventstudy.spec import study_options  # noqa: E402

WINDOWS = list(baselines.EVENT_WINDOWS)
OUT = Path(__file__).parent / "results" / "public_call.json"


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    """Median wall time of ``repeats`` calls (after one untimed warm-up call)."""
    out = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def paired(
    fn_a: Callable[[], Any], fn_b: Callable[[], Any], repeats: int
) -> tuple[list[float], list[float], Any, Any]:
    """Wall times of ``fn_a`` and ``fn_b`` called alternately ``repeats`` times each
    (after one untimed warm-up call of each), so that both see the same state of a shared
    machine; returns both lists of times and the last outputs."""
    out_a, out_b = fn_a(), fn_b()
    t_a, t_b = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out_a = fn_a()
        t1 = time.perf_counter()
        out_b = fn_b()
        t2 = time.perf_counter()
        t_a.append(t1 - t0)
        t_b.append(t2 - t1)
    return t_a, t_b, out_a, out_b


def public(prices: pd.DataFrame, market: pd.Series, events: dict) -> Any:
    return oi.event_study(prices, events, market=market, event_windows=WINDOWS)


def stages(prices: pd.DataFrame, market: pd.Series, events: dict) -> dict[str, float]:
    """Where one public call's time goes (the steps of ``engine.event_study``)."""
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    reg = packaged_registry()
    opts, notices = _options()
    data = resolve_inputs(prices, market, None, model="market", input="auto", registry=reg)
    studied, others = resolve_events(events, None, True)
    jobs = engine.split_jobs(data, studied, others, opts, reg)
    t1 = time.perf_counter()
    parts = run_chunks(jobs, None)
    t2 = time.perf_counter()
    spec = engine._study_spec(opts, data, studied, others)
    engine.merge_chunks(parts, spec, opts, notices)
    t3 = time.perf_counter()
    out["inputs, events, chunking"] = t1 - t0
    out["chunks (grid, day 0, windows, fit, single-pair tests)"] = t2 - t1
    out["merge (q-values, cross-sectional tests)"] = t3 - t2
    return out


def _options() -> tuple[Any, list[str]]:
    return study_options(
        model="market", estimation_window=baselines.ESTIMATION_WINDOW, event_windows=WINDOWS,
        returns="log", input="auto", min_estimation=None, conventions="textbook",
        exclude_confounders=True, exclusion_band=(-10, 10), multitest="fdr_bh",
        pooled="auto", independence_tests=False,
    )  # fmt: skip


def core(prices: pd.DataFrame, market: pd.Series, events: dict, repeats: int) -> float:
    """Median time of fit_panel + build_result on the arrays the public call gathers."""
    reg = packaged_registry()
    opts, _ = _options()
    data = resolve_inputs(prices, market, None, model="market", input="auto", registry=reg)
    studied, others = resolve_events(events, None, True)
    job = engine.split_jobs(data, studied, others, opts, reg)[0]
    grid = session_grid(job.values, job.regs, job.dates, input_kind=job.input_kind,
                        method="log", conventions="textbook")  # fmt: skip
    dz = day_zero(grid, list(job.studied) + list(job.others), len(job.studied), job.specs, 10)
    arrays = _window_arrays(grid, pair_windows(grid, dz, len(job.studied), opts), True)
    spec = engine._study_spec(opts, data, studied, others)

    def run() -> Any:
        panel = fit_panel(arrays["y_est"], arrays["y_evt"], arrays["x_est"], arrays["x_evt"],
                          model="market", event_days=opts.event_offsets)  # fmt: skip
        return engine.build_result(panel, WINDOWS, spec)

    return timed(run, repeats)[0]


def check_against_vectorised(res: Any, fast: pd.DataFrame) -> float:
    """Max |t difference| between the public call and the vectorised baseline (clean)."""
    keys = ["event", "series", "start", "end"]
    both = res.car.merge(fast, on=keys, suffixes=("", "_vec"))
    return float(np.nanmax(np.abs(both["tstat"] - both["tstat_vec"])))


def scaling(sizes: list[int], repeats: int) -> list[dict[str, float]]:
    rows = []
    for n_assets in sizes:
        prices, market, events = baselines.make_panel(n_assets, 600, 2, missing=0.01, seed=1)
        reps = repeats if n_assets <= 5_000 else max(2, repeats // 2)
        med, _, _ = timed(lambda p=prices, m=market, e=events: public(p, m, e), reps)
        pairs = n_assets * len(events)
        rows.append({"pairs": pairs, "seconds": med, "us_per_pair": med / pairs * 1e6})
        print(f"  {pairs:>8,} pairs: {med:7.3f} s  ({med / pairs * 1e6:6.1f} us/pair)", flush=True)
        del prices
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="500 assets, no 100k scaling")
    ap.add_argument("--no-100k", action="store_true")
    ap.add_argument("--careful-assets", type=int, default=1_000)
    ap.add_argument("--naive-assets", type=int, default=25)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    n_assets = 500 if args.quick else 5_000
    repeats = max(5, args.repeats)
    info: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "load_before": os.getloadavg(),
        },
        "workload": f"{n_assets} assets x 600 business days x 2 events, market model, "
        f"estimation (-250, -11), windows {WINDOWS}",
    }
    results: dict[str, Any] = {}
    for label, miss in (("missing_1pct", 0.01), ("clean", 0.0)):
        prices, market, events = baselines.make_panel(n_assets, 600, 2, missing=miss)
        times, vec_times, res, fast = paired(
            lambda p=prices, m=market, e=events: public(p, m, e),
            lambda p=prices, m=market, e=events: baselines.vectorised_numpy(p, m, e),
            repeats,
        )
        med, vec_med = statistics.median(times), statistics.median(vec_times)
        results[label] = {"public_median_s": med, "public_times_s": times,
                          "vectorised_median_s": vec_med, "vectorised_times_s": vec_times}  # fmt: skip
        print(f"public call, {label}: median {med:.3f} s  (runs {', '.join(f'{t:.3f}' for t in times)})",
              flush=True)  # fmt: skip
        print(f"  vectorised numpy baseline, timed alternately with it: median {vec_med:.3f} s "
              f"(runs {', '.join(f'{t:.3f}' for t in vec_times)})", flush=True)  # fmt: skip
        if label == "clean":
            diff = check_against_vectorised(res, fast)
            results[label]["max_abs_t_diff_vs_vectorised"] = diff
            print(f"  max |t(public) - t(vectorised)| on the clean panel: {diff:.1e}")
            continue
        results[label]["stages_s"] = stages(prices, market, events)
        for k, v in results[label]["stages_s"].items():
            print(f"    {k}: {v:.3f} s")
        results[label]["core_median_s"] = core(prices, market, events, repeats)
        print(f"  core (fit_panel + build_result on prepared arrays): "
              f"{results[label]['core_median_s']:.3f} s", flush=True)  # fmt: skip
        s_med = timed(res.summary, repeats)[0]
        f_med = timed(res.to_frame, repeats)[0]
        results[label].update(summary_median_s=s_med, to_frame_median_s=f_med)
        print(f"  res.summary(): {s_med:.3f} s   res.to_frame(): {f_med:.3f} s", flush=True)
        n_pairs = n_assets * len(events)
        for name, fn, k in (("careful", baselines.careful_loop, args.careful_assets),
                            ("naive", baselines.naive_loop, args.naive_assets)):  # fmt: skip
            per, _, note = baselines.time_per_pair(fn, prices, market, events, min(k, n_assets))
            results[label][f"{name}_loop_s"] = per * n_pairs
            results[label][f"{name}_loop_note"] = note
            print(f"  {name} loop: {per * n_pairs:.2f} s ({note})", flush=True)
        r = results[label]
        r["ratios"] = {
            "careful_over_public": r["careful_loop_s"] / med,
            "naive_over_public": r["naive_loop_s"] / med,
            "public_over_vectorised": med / vec_med,
        }
        print("  targets (1% missing): "
              f"public {med:.3f} s (<= 0.4 s: {med <= 0.4}); "
              f"careful loop / public {r['ratios']['careful_over_public']:.1f}x (>= 10x); "
              f"naive loop / public {r['ratios']['naive_over_public']:.0f}x (>= 150x); "
              f"public / vectorised {r['ratios']['public_over_vectorised']:.1f}x (<= 4x)")  # fmt: skip
    if not args.quick:
        print("scaling (1% missing, 600 days, 2 events):")
        sizes = [500, 5_000] + ([] if args.no_100k else [50_000])
        results["scaling"] = scaling(sizes, repeats)
    info["machine"]["load_after"] = os.getloadavg()
    info["results"] = results
    print(f"load average before {info['machine']['load_before']}, after {info['machine']['load_after']}"
          f" ({info['machine']['cpus']} CPUs)")  # fmt: skip
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(info, indent=2, default=float) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
