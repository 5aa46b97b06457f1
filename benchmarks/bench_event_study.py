"""Benchmark: the batched event-study core on 10,000 (asset, event) pairs.

Setup: 250-day estimation window, 21-day event window [-10, +10], market model, CARs
over five windows with the prediction-error-corrected variance and the SQ test, and the
cross-sectional tests of :mod:`oilimpact.eventstudy.crosssection`.

Reported (median over >= 9 repeats after a warm-up, from prepared arrays):

* ``core``: the issue's workload -- ``fit_panel`` (batched market model) + ``car_tests``
  (CAR, PE-corrected standard error, t, p and the studentised SQ test, five windows) +
  ``cross_sectional_tests`` (all 12 tests, five windows), and each stage's time within
  that sequence (a later stage reuses what an earlier one kept on the panel: the window
  PE sums of ``car_tests``; ``daily_tests`` reuses the sorts and ranks of
  ``cross_sectional_tests``, so it is also timed on its own, on a fresh panel);
* ``extras``: ``ar_tests`` (t and SQ tests of every event-day AR of every pair, which
  :func:`oilimpact.eventstudy.event_study` also runs) and ``daily_tests`` (the 12 tests on
  each of the 21 event days, an API of its own); ``pipeline`` = core + ``ar_tests`` (what
  ``event_study`` computes) and ``full`` = core + both extras;
* ``loop``: a per-pair ``statsmodels.OLS`` loop computing AR, CAR and the PE-corrected
  CAR standard error, timed on 300 different pairs before, amid and after the core
  repeats (each after an untimed warm run), so that it sees the same shared machine;
  its fastest rate is extrapolated linearly (a conservative speed-up). The core's CARs
  and standard errors are asserted equal to the loop's (rtol 1e-8). The
  speed-up target compares like with like: the loop against the batched steps that
  compute the same quantities (``fit_panel`` + ``car_tests``, which add t, p and SQ);
  the loop over the whole core and over the full suite are reported as well;
* ``numpy path``: the core with the compiled kernels switched off
  (:mod:`oilimpact.eventstudy.kernels`), to show what they contribute;
* ``first call``: the warm-up call in this process, which loads the compiled kernels
  from numba's on-disk cache (or compiles them on the very first run after an install);
* ``end_to_end``: :func:`oilimpact.eventstudy.event_study` on a DataFrame of 100 series x
  100 events (pandas, alignment, result tables) -- once;
* peak memory of the core: ``tracemalloc`` peak (numpy allocations) and the process RSS
  high-water mark (``psutil``).

The machine's CPU count, numpy version and load average are recorded: on a shared
machine the times are upper bounds (rerun on a quiet machine).

Run: ``python benchmarks/bench_event_study.py`` (about a minute). Writes
``benchmarks/results/event_study.json``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

from oilimpact.eventstudy import event_study
from oilimpact.eventstudy.crosssection import cross_sectional_tests, daily_tests
from oilimpact.eventstudy.models import fit_panel
from oilimpact.eventstudy.single import ar_tests, car_tests

N_PAIRS = 10_000
L1 = 250
DAYS = np.arange(-10, 11)
WINDOWS = [(-10, 10), (0, 0), (-1, 1), (0, 5), (0, 10)]
LOOP_CHUNK = 300  # pairs per timed loop run (3 runs: before, amid and after the repeats)
REPEATS = 9
NUMPY_REPEATS = 3
RTOL = 1e-8
TARGETS = {"core_median_s": 0.25, "speedup_min": 30.0, "peak_mem_gib": 1.0}
OUT = Path(__file__).resolve().parent / "results" / "event_study.json"


def make_arrays(n: int = N_PAIRS, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    t_all = L1 + DAYS.size
    m = rng.normal(0.0003, 0.01, size=(n, t_all))
    beta = rng.uniform(0.3, 1.5, size=(n, 1))
    y = 0.0002 + beta * m + rng.standard_t(4, size=(n, t_all)) * 0.012
    miss = rng.random(size=(n, L1)) < 0.01  # 1% missing estimation days
    y[:, :L1][miss] = np.nan
    return y[:, :L1].copy(), y[:, L1:].copy(), m[:, :L1].copy(), m[:, L1:].copy()


STAGES = ("fit_panel", "car_tests", "cross_sectional_tests")  # the workload
EXTRAS = ("ar_tests", "daily_tests")


def core(
    arrays: tuple[np.ndarray, ...],
    times: dict[str, list[float]] | None = None,
    extras: bool = True,
):
    """The vectorised core from prepared arrays (then the extras, unless ``extras`` is
    False); appends stage times to ``times``."""
    y_est, y_evt, m_est, m_evt = arrays
    t0 = time.perf_counter()
    panel = fit_panel(y_est, y_evt, m_est, m_evt, model="market", event_days=DAYS)
    t1 = time.perf_counter()
    car = car_tests(panel, WINDOWS)
    t2 = time.perf_counter()
    cross_sectional_tests(panel, WINDOWS)
    t3 = time.perf_counter()
    stamps = [t0, t1, t2, t3]
    if extras:
        ar_tests(panel)
        stamps.append(time.perf_counter())
        daily_tests(panel)
        stamps.append(time.perf_counter())
    if times is not None:
        names = STAGES + (EXTRAS if extras else ())
        for key, a, b in zip(names, stamps[:-1], stamps[1:], strict=True):
            times[key].append(b - a)
        times["core"].append(t3 - t0)
        if extras:
            times["pipeline"].append(t3 - t0 + stamps[4] - stamps[3])
            times["full"].append(stamps[-1] - t0)
    return panel, car


def loop(arrays: tuple[np.ndarray, ...], rows: range) -> np.ndarray:
    """Per-pair statsmodels OLS on pairs ``rows``: AR, CAR and PE-corrected CAR se."""
    y_est, y_evt, m_est, m_evt = arrays
    out = np.empty((len(rows), len(WINDOWS), 2))
    gs = [((DAYS >= lo) & (DAYS <= hi)).astype(float) for lo, hi in WINDOWS]
    for j, i in enumerate(rows):
        ok = ~np.isnan(y_est[i])
        X = sm.add_constant(m_est[i][ok])
        fit = sm.OLS(y_est[i][ok], X).fit()
        Xs = sm.add_constant(m_evt[i], has_constant="add")
        ar = y_evt[i] - fit.predict(Xs)
        cov = fit.scale * (np.eye(DAYS.size) + Xs @ fit.normalized_cov_params @ Xs.T)
        for w, g in enumerate(gs):
            out[j, w] = (g @ ar, np.sqrt(g @ cov @ g))
    return out


def end_to_end(n_series: int = 100, n_events: int = 100, seed: int = 1) -> tuple[float, int]:
    rng = np.random.default_rng(seed)
    spacing = 60
    n_days = L1 + 15 + n_events * spacing + 20
    idx = pd.bdate_range("1990-01-01", periods=n_days)
    m = rng.normal(0.0003, 0.01, n_days)
    r = 0.8 * m[:, None] + rng.normal(0, 0.015, (n_days, n_series))
    prices = pd.DataFrame(
        100 * np.exp(np.cumsum(r, axis=0)),
        index=idx,
        columns=[f"s{j:03d}" for j in range(n_series)],
    )
    prices["mkt"] = 1000 * np.exp(np.cumsum(m))
    events = {f"e{j:03d}": idx[L1 + 15 + j * spacing].date() for j in range(n_events)}
    t0 = time.perf_counter()
    res = event_study(
        prices,
        events,
        market="mkt",
        estimation_window=(-250, -1 - 10),
        event_windows=WINDOWS,
        catalog={},
        min_estimation=100,
    )
    return time.perf_counter() - t0, res.panel.n_pairs


def main() -> dict:
    import psutil

    from oilimpact.eventstudy import kernels

    load_start = os.getloadavg()
    proc = psutil.Process()
    arrays = make_arrays()
    t0 = time.perf_counter()
    core(make_arrays(2 * kernels.MIN_PAIRS))  # warm-up: imports, kernels, BLAS, scipy
    first_call_s = time.perf_counter() - t0
    core(arrays)

    keys = (*STAGES, *EXTRAS, "core", "pipeline", "full")
    times: dict[str, list[float]] = {k: [] for k in keys}
    loop_ms: list[float] = []  # ms per pair of each loop run
    refs = []

    def time_loop() -> None:
        k = len(refs)
        loop(arrays, range(N_PAIRS - LOOP_CHUNK, N_PAIRS))  # warm-up, on other pairs
        t0 = time.perf_counter()
        refs.append(loop(arrays, range(k * LOOP_CHUNK, (k + 1) * LOOP_CHUNK)))
        loop_ms.append(1000 * (time.perf_counter() - t0) / LOOP_CHUNK)

    time_loop()
    for r in range(REPEATS):  # loop runs before, amid and after: same machine state
        _, car = core(arrays, times)
        if r == REPEATS // 2:
            time_loop()
    time_loop()
    med = {k: statistics.median(v) for k, v in times.items()}
    core_median = med["core"]

    daily_alone = []
    for _ in range(3):  # daily_tests on a fresh panel: it sorts and ranks for itself
        panel = fit_panel(*arrays, model="market", event_days=DAYS)
        t0 = time.perf_counter()
        daily_tests(panel)
        daily_alone.append(time.perf_counter() - t0)
    daily_alone_s = statistics.median(daily_alone)

    tracemalloc.start()
    core(arrays)
    _, peak_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = _ru_maxrss()

    saved = kernels.MIN_PAIRS
    kernels.MIN_PAIRS = 10**12  # numpy path
    numpy_times: dict[str, list[float]] = {k: [] for k in keys}
    try:
        for _ in range(NUMPY_REPEATS):
            core(arrays, numpy_times, extras=False)
    finally:
        kernels.MIN_PAIRS = saved
    numpy_core = statistics.median(numpy_times["core"])

    n_loop = len(refs) * LOOP_CHUNK
    ref = np.concatenate(refs)
    loop_ms_pair = min(loop_ms)  # the loop's best rate: a conservative speed-up
    loop_full_s = loop_ms_pair * N_PAIRS / 1000

    # the loop and the core agree (rows of car are pair-major, window-minor)
    got_car = car["car"].to_numpy().reshape(N_PAIRS, len(WINDOWS))[:n_loop]
    got_se = car["se"].to_numpy().reshape(N_PAIRS, len(WINDOWS))[:n_loop]
    np.testing.assert_allclose(got_car, ref[:, :, 0], rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(got_se, ref[:, :, 1], rtol=RTOL)
    max_rel = float(
        max(
            np.max(np.abs(got_car - ref[:, :, 0]) / np.abs(ref[:, :, 0]).clip(1e-12)),
            np.max(np.abs(got_se - ref[:, :, 1]) / ref[:, :, 1]),
        )
    )

    e2e_s, e2e_pairs = end_to_end()
    like_for_like = med["fit_panel"] + med["car_tests"]
    speedup = loop_full_s / like_for_like
    result = {
        "n_pairs": N_PAIRS,
        "estimation_days": L1,
        "event_window": [int(DAYS[0]), int(DAYS[-1])],
        "car_windows": [list(w) for w in WINDOWS],
        "repeats": REPEATS,
        "core_definition": "fit_panel + car_tests + cross_sectional_tests (the issue's workload)",
        "core_times_s": [round(t, 4) for t in times["core"]],
        "core_median_s": round(core_median, 4),
        "stage_median_s": {k: round(med[k], 4) for k in (*STAGES, *EXTRAS)},
        "daily_tests_alone_median_s": round(daily_alone_s, 4),
        "daily_tests_alone_note": "on a fresh panel (median of 3); in the sequence it "
        "reuses the sorts and ranks of cross_sectional_tests",
        "pipeline_median_s": round(med["pipeline"], 4),
        "pipeline_note": "core + ar_tests: what event_study() computes",
        "full_median_s": round(med["full"], 4),
        "full_note": "core + ar_tests + daily_tests",
        "numpy_path_core_median_s": round(numpy_core, 4),
        "numpy_path_note": f"kernels switched off, median of {NUMPY_REPEATS}",
        "kernels_min_pairs": kernels.MIN_PAIRS,
        "first_call_s": round(first_call_s, 3),
        "first_call_note": (
            f"warm-up core on {2 * kernels.MIN_PAIRS} pairs in a fresh process: imports "
            "and loading the compiled kernels from numba's disk cache (compiling them if "
            "the cache is empty)"
        ),
        "loop_pairs_timed": n_loop,
        "loop_ms_per_pair_chunks": [round(v, 4) for v in loop_ms],
        "loop_ms_per_pair": round(loop_ms_pair, 4),
        "loop_extrapolated_s": round(loop_full_s, 2),
        "loop_note": (
            f"statsmodels OLS loop (AR, CAR, PE-corrected se): 3 timed runs of {LOOP_CHUNK} "
            "different pairs (each after an untimed warm run), before, amid and after the "
            f"core repeats; the fastest ms/pair, extrapolated linearly to {N_PAIRS}"
        ),
        "speedup_vs_loop": round(speedup, 1),
        "speedup_note": "loop / (fit_panel + car_tests): the batched steps computing the "
        "loop's quantities (plus t, p and SQ)",
        "loop_over_core": round(loop_full_s / core_median, 1),
        "loop_over_full": round(loop_full_s / med["full"], 1),
        "core_vs_loop_max_rel_diff": max_rel,
        "core_vs_loop_rtol_asserted": RTOL,
        "peak_traced_mib": round(peak_traced / 2**20, 1),
        "peak_rss_mib": round(rss_peak / 2**20, 1),
        "end_to_end_s": round(e2e_s, 3),
        "end_to_end_pairs": e2e_pairs,
        "end_to_end_note": (
            "event_study() on 100 series x 100 events incl. pandas, alignment and "
            "result tables, run once"
        ),
        "targets": TARGETS,
        "load_average_start": [round(v, 2) for v in load_start],
        "load_average_end": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpus": psutil.cpu_count(),
        "rss_now_mib": round(proc.memory_info().rss / 2**20, 1),
    }
    result["meets_targets"] = bool(
        core_median < TARGETS["core_median_s"]
        and speedup >= TARGETS["speedup_min"]
        and rss_peak / 2**30 < TARGETS["peak_mem_gib"]
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    ms = {k: 1000 * v for k, v in med.items()}
    rows = [
        ("pairs", f"{N_PAIRS:,} (L1={L1}, event window [-10,+10], {len(WINDOWS)} CAR windows)"),
        ("core median (s)", f"{core_median:.3f}  over {REPEATS} repeats (target < 0.25)"),
        ("  fit_panel", f"{ms['fit_panel']:.1f} ms"),
        ("  car_tests", f"{ms['car_tests']:.1f} ms"),
        ("  cross_sectional_tests", f"{ms['cross_sectional_tests']:.1f} ms"),
        (
            "extras",
            f"ar_tests {ms['ar_tests']:.1f} ms, daily_tests {ms['daily_tests']:.1f} ms "
            f"({1000 * daily_alone_s:.1f} ms on its own)",
        ),
        ("pipeline / full (s)", f"{med['pipeline']:.3f} / {med['full']:.3f}"),
        ("numpy path core (s)", f"{numpy_core:.3f}  (kernels off, median of {NUMPY_REPEATS})"),
        ("first call (s)", f"{first_call_s:.2f}  (imports + kernel cache load/compile)"),
        (
            "statsmodels loop",
            f"{loop_ms_pair:.3f} ms/pair (fastest of 3 runs of {LOOP_CHUNK} pairs, before/"
            f"amid/after the core); extrapolated to {N_PAIRS:,}: {loop_full_s:.2f} s",
        ),
        (
            "speed-up",
            f"{speedup:.1f}x fit+CAR tests (target >= 30x); loop / core "
            f"{result['loop_over_core']}x, loop / full {result['loop_over_full']}x",
        ),
        ("core vs loop", f"max rel diff {max_rel:.1e} (asserted rtol {RTOL:g})"),
        (
            "peak memory",
            f"tracemalloc {result['peak_traced_mib']} MiB, RSS high-water "
            f"{result['peak_rss_mib']} MiB (target < 1024)",
        ),
        (
            "end-to-end event_study (s)",
            f"{e2e_s:.2f}  ({e2e_pairs:,} pairs, pandas + alignment + tables, once)",
        ),
        (
            "machine",
            f"{psutil.cpu_count()} CPUs, numpy {np.__version__}, load average at start "
            f"{' '.join(f'{v:.2f}' for v in load_start)} (shared machine: times are upper "
            "bounds)",
        ),
        ("meets targets", str(result["meets_targets"])),
    ]
    width = max(len(a) for a, _ in rows)
    for a, b in rows:
        print(f"{a:<{width}}  {b}")
    print(f"wrote {OUT}")
    return result


def _ru_maxrss() -> int:
    """Process RSS high-water mark in bytes (psutil where it has it, else getrusage)."""
    import resource
    import sys

    import psutil

    peak = getattr(psutil.Process().memory_info(), "peak_wset", None)
    if peak:
        return int(peak)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


if __name__ == "__main__":
    main()
