"""Benchmark: the batched event-study core on 10,000 (asset, event) pairs.

Setup: 250-day estimation window, 21-day event window [-10, +10], market model, CARs
over five windows with the prediction-error-corrected variance and the SQ test, per-day
AR tests, and the cross-sectional tests (:mod:`oilimpact.study.crosssection`, when
importable).

Reported:

* ``core``: median wall time over repeats of the vectorised core from prepared arrays
  (``fit_panel`` + ``ar_tests`` + ``car_tests`` + ``cross_sectional_tests``);
* ``loop``: a per-pair ``statsmodels.OLS`` loop computing the same AR, CAR and PE
  variance, timed on a subset of pairs and extrapolated linearly to all pairs (said in
  the output);
* ``end_to_end``: :func:`oilimpact.study.event_study` on a DataFrame of 100 series x
  100 events (pandas alignment, ``align_event`` per pair, catalog exclusion) -- once;
* peak memory of the core: ``tracemalloc`` peak (numpy allocations) and the process RSS
  high-water mark (``psutil``).

Run: ``python benchmarks/bench_event_study.py`` (about a minute). Writes
``benchmarks/results/event_study.json``.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

from oilimpact.study import event_study
from oilimpact.study.models import fit_panel
from oilimpact.study.single import ar_tests, car_tests

N_PAIRS = 10_000
L1 = 250
DAYS = np.arange(-10, 11)
WINDOWS = [(-10, 10), (0, 0), (-1, 1), (0, 5), (0, 10)]
LOOP_SUBSET = 500
REPEATS = 7
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


def _crosssection():
    try:
        from oilimpact.study.crosssection import cross_sectional_tests
    except ImportError:
        return None
    return cross_sectional_tests


def core(arrays: tuple[np.ndarray, ...]) -> tuple[object, pd.DataFrame]:
    y_est, y_evt, m_est, m_evt = arrays
    panel = fit_panel(y_est, y_evt, m_est, m_evt, model="market", event_days=DAYS)
    ar_tests(panel)
    car = car_tests(panel, WINDOWS)
    cs = _crosssection()
    if cs is not None:
        cs(panel, WINDOWS)
    return panel, car


def components(arrays: tuple[np.ndarray, ...], repeats: int = 3) -> dict[str, float]:
    """Median time of each stage of the core (seconds)."""
    y_est, y_evt, m_est, m_evt = arrays
    cs = _crosssection()
    out: dict[str, list[float]] = {
        "fit_panel": [],
        "car_tests": [],
        "ar_tests": [],
        "crosssection": [],
    }
    for _ in range(repeats):
        t0 = time.perf_counter()
        panel = fit_panel(y_est, y_evt, m_est, m_evt, model="market", event_days=DAYS)
        t1 = time.perf_counter()
        car_tests(panel, WINDOWS)
        t2 = time.perf_counter()
        ar_tests(panel)
        t3 = time.perf_counter()
        if cs is not None:
            cs(panel, WINDOWS)
        t4 = time.perf_counter()
        for key, dt in zip(out, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            out[key].append(dt)
    return {k: round(statistics.median(v), 4) for k, v in out.items()}


def loop(arrays: tuple[np.ndarray, ...], n: int) -> np.ndarray:
    """Per-pair statsmodels OLS: AR, CAR and PE-corrected CAR variance."""
    y_est, y_evt, m_est, m_evt = arrays
    out = np.empty((n, len(WINDOWS), 2))
    for i in range(n):
        ok = ~np.isnan(y_est[i])
        X = sm.add_constant(m_est[i][ok])
        fit = sm.OLS(y_est[i][ok], X).fit()
        Xs = sm.add_constant(m_evt[i], has_constant="add")
        ar = y_evt[i] - fit.predict(Xs)
        cov = fit.scale * (np.eye(DAYS.size) + Xs @ fit.normalized_cov_params @ Xs.T)
        for w, (lo, hi) in enumerate(WINDOWS):
            g = ((DAYS >= lo) & (DAYS <= hi)).astype(float)
            out[i, w] = (g @ ar, np.sqrt(g @ cov @ g))
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

    proc = psutil.Process()
    arrays = make_arrays()
    core(make_arrays(200))  # warm-up (imports, BLAS)

    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        panel, car = core(arrays)
        times.append(time.perf_counter() - t0)
    core_median = statistics.median(times)

    parts = components(arrays)

    tracemalloc.start()
    core(arrays)
    _, peak_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = getattr(proc.memory_info(), "peak_wset", None) or _ru_maxrss()

    t0 = time.perf_counter()
    ref = loop(arrays, LOOP_SUBSET)
    loop_subset_s = time.perf_counter() - t0
    loop_full_s = loop_subset_s * N_PAIRS / LOOP_SUBSET

    # the loop and the core agree (sanity, not timing)
    got = car.to_numpy()  # rows are pair-major, window-minor
    got_car = car["car"].to_numpy().reshape(N_PAIRS, len(WINDOWS))[:LOOP_SUBSET]
    got_se = car["se"].to_numpy().reshape(N_PAIRS, len(WINDOWS))[:LOOP_SUBSET]
    max_rel = float(
        max(
            np.max(np.abs(got_car - ref[:, :, 0]) / np.abs(ref[:, :, 0]).clip(1e-12)),
            np.max(np.abs(got_se - ref[:, :, 1]) / ref[:, :, 1]),
        )
    )
    del got

    e2e_s, e2e_pairs = end_to_end()

    result = {
        "n_pairs": N_PAIRS,
        "estimation_days": L1,
        "event_window": [int(DAYS[0]), int(DAYS[-1])],
        "car_windows": [list(w) for w in WINDOWS],
        "crosssection_included": _crosssection() is not None,
        "core_times_s": [round(t, 4) for t in times],
        "core_median_s": round(core_median, 4),
        "core_components_median_s": parts,
        "fit_and_car_median_s": round(parts["fit_panel"] + parts["car_tests"], 4),
        "load_average_1min": round(__import__("os").getloadavg()[0], 2),
        "loop_subset_pairs": LOOP_SUBSET,
        "loop_subset_s": round(loop_subset_s, 3),
        "loop_extrapolated_s": round(loop_full_s, 2),
        "loop_note": f"statsmodels OLS loop timed on {LOOP_SUBSET} pairs, extrapolated linearly to {N_PAIRS}",
        "speedup_vs_loop": round(loop_full_s / core_median, 1),
        "core_vs_loop_max_rel_diff": max_rel,
        "peak_traced_mib": round(peak_traced / 2**20, 1),
        "peak_rss_mib": round(rss_peak / 2**20, 1),
        "end_to_end_s": round(e2e_s, 3),
        "end_to_end_pairs": e2e_pairs,
        "end_to_end_note": "event_study() on 100 series x 100 events incl. pandas alignment and align_event per pair, run once",
        "targets": TARGETS,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpus": psutil.cpu_count(),
    }
    result["meets_targets"] = bool(
        core_median < TARGETS["core_median_s"]
        and result["speedup_vs_loop"] >= TARGETS["speedup_min"]
        and rss_peak / 2**30 < TARGETS["peak_mem_gib"]
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    rows = [
        ("pairs", f"{N_PAIRS:,} (L1={L1}, event window [-10,+10], {len(WINDOWS)} CAR windows)"),
        (
            "cross-sectional tests",
            "included" if result["crosssection_included"] else "not importable",
        ),
        ("core median (s)", f"{core_median:.3f}  over {REPEATS} repeats (target < 0.25)"),
        ("  of which", ", ".join(f"{k} {v:.3f}" for k, v in parts.items())),
        (
            "statsmodels loop (s)",
            f"{loop_full_s:.1f}  ({LOOP_SUBSET} pairs timed: {loop_subset_s:.2f} s, extrapolated)",
        ),
        ("speedup", f"{result['speedup_vs_loop']:.0f}x  (target >= 30x)"),
        ("core vs loop max rel diff", f"{max_rel:.1e}"),
        (
            "peak memory",
            f"tracemalloc {result['peak_traced_mib']} MiB, RSS {result['peak_rss_mib']} MiB (target < 1024)",
        ),
        (
            "end-to-end event_study (s)",
            f"{e2e_s:.2f}  ({e2e_pairs:,} pairs, pandas + alignment, once)",
        ),
        ("machine", f"{psutil.cpu_count()} CPUs, 1-min load average {result['load_average_1min']}"),
    ]
    width = max(len(a) for a, _ in rows)
    for a, b in rows:
        print(f"{a:<{width}}  {b}")
    print(f"wrote {OUT}")
    return result


def _ru_maxrss() -> int:
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


if __name__ == "__main__":
    main()
