"""Benchmark: ``res.summary()`` and ``res.to_frame()`` of a 10,000-pair event study.

Workload (issue 15): ``benchmarks.baselines.make_panel`` -- 5,000 assets x 600 business
days x 2 events with 1% of the prices missing, market model, estimation window
(-250, -11), the five windows of ``baselines.EVENT_WINDOWS`` -- run once through
:func:`oilimpact.event_study`; then ``summary()`` (building the
:class:`~oilimpact.summary.Summary`: 10,000 model rows, 50,000 CAR rows), ``str()`` of
it (pandas renders the text) and ``to_frame()`` are timed, each the median of
``--repeat`` calls after one warm call. Wall-clock and CPU time (``time.process_time``:
these steps are single-threaded, so on a busy shared machine the CPU time is the
closer figure of what they cost) are both reported, with the load average.

``--check`` also builds the summary text through the per-value formatters of
:mod:`oilimpact.summary` (what ``summary()`` did before the column formatters of
:mod:`oilimpact.eventstudy._format`) and asserts the same text.

Run: ``python benchmarks/bench_result.py [--repeat 7] [--check]``. Writes
``benchmarks/results/result.json``. Target: ``summary()`` and ``to_frame()`` under
0.2 s each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baselines import ESTIMATION_WINDOW, EVENT_WINDOWS, make_panel  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "result.json"
TARGET_S = 0.2


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Median wall and CPU seconds of ``repeat`` calls of ``fn`` after a warm call."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return {
        "wall_median_s": round(statistics.median(wall), 4),
        "wall_min_s": round(min(wall), 4),
        "cpu_median_s": round(statistics.median(cpu), 4),
    }


def per_value_text(res: Any) -> str:
    """The summary text through the per-value formatters (the reference of --check):
    the column formatters that ``result.py`` imports are swapped, for this call, for
    loops over :func:`~oilimpact.summary.fmt_pct`, ``fmt_p``, ``fmt_num`` and the
    result module's own per-value helpers."""
    import oilimpact.eventstudy.result as result_module
    from oilimpact.summary import fmt_num, fmt_p, fmt_pct

    per_value: dict[str, Callable[..., list[str]]] = {
        "pct_strings": lambda v, d=2: [fmt_pct(x, d) for x in v],
        "p_strings": lambda v: [fmt_p(x) for x in v],
        "num_strings": lambda v, r=fmt_num: [r(x) for x in v],
        "fixed_strings": lambda v, s, r: [r(x, s) for x in v],
        "day_strings": lambda v, r: [r(x) for x in v],
        "window_labels": lambda a, b, f: [f(x, y) for x, y in zip(a, b, strict=True)],
    }
    saved = {name: getattr(result_module, name) for name in per_value}
    try:
        for name, fn in per_value.items():
            setattr(result_module, name, fn)
        return str(res.summary())
    finally:
        for name, fn in saved.items():
            setattr(result_module, name, fn)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    import oilimpact as oi

    load_start = os.getloadavg()
    prices, market, events = make_panel()
    t0 = time.perf_counter()
    res = oi.event_study(
        prices, events, market=market, catalog={},
        estimation_window=ESTIMATION_WINDOW, event_windows=list(EVENT_WINDOWS),
    )  # fmt: skip
    study_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "workload": {
            "pairs": int(res.panel.n_pairs),
            "car_rows": len(res.car),
            "assets": prices.shape[1],
            "days": prices.shape[0],
            "missing_share": float(np.isnan(prices.to_numpy()).mean()),
        },
        "event_study_once_s": round(study_s, 3),
        "summary": timed(res.summary, args.repeat),
        "summary_str": timed(lambda: str(res.summary()), args.repeat),
        "to_frame": timed(res.to_frame, args.repeat),
        "target_s": TARGET_S,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "load_average_start": [round(x, 2) for x in load_start],
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
        },
    }
    if args.check:
        t0 = time.perf_counter()
        same = per_value_text(res) == str(res.summary())
        out["check"] = {
            "same_text": same,
            "per_value_summary_str_s": round(time.perf_counter() - t0, 3),
        }
        assert same, "summary text differs from the per-value formatters'"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    for key in ("summary", "summary_str", "to_frame"):
        v = out[key]
        print(f"{key:12s} wall median {v['wall_median_s']:.3f} s (min {v['wall_min_s']:.3f}), "
              f"cpu median {v['cpu_median_s']:.3f} s")  # fmt: skip
    print(f"pairs {out['workload']['pairs']:,}, CAR rows {out['workload']['car_rows']:,}; "
          f"load average {out['machine']['load_average_start']} -> "
          f"{out['machine']['load_average_end']} on {os.cpu_count()} CPUs")  # fmt: skip
    if "check" in out:
        print(f"check        same text as the per-value formatters: {out['check']['same_text']} "
              f"(their summary + str: {out['check']['per_value_summary_str_s']:.2f} s)")  # fmt: skip
    print(f"wrote {args.out}")
    return out


if __name__ == "__main__":
    main()
