"""Size of the pooled (CAAR) tests when every series shares one event date.

The null simulation of issue 17, item 1: ``n`` series with the same event date, market
model, Student-t(4) innovations whose cross-sectional correlation is ``rho`` (a common
t(4) shock with weight ``sqrt(rho)`` plus an own one with ``sqrt(1 - rho)``, each scaled
to unit variance), no event effect, window [0, +1], ``oi.event_study`` with its
defaults (estimation window (-250, -11), market model).

Design: each simulated study has 30 series (plus the market); ``oi.event_study`` fits
them once, and the studies of n = 2, 5, 10 and 30 series are the panel's first n pairs
(pairs are fitted independently, so this is the same panel ``oi.event_study`` builds
on those n series; checked on the first study). ``cross_sectional_tests`` then runs
every test (``pooled=True`` so that n < 10 is tested, ``independence_tests=True`` and
``tests=WINDOW_TESTS`` so that hidden tests are measured too). The 5% rejection rate
of each test is reported with its Monte Carlo standard error
``sqrt(p (1 - p) / studies)`` (about 1 point at 5% with 500 studies), and whether the
test is shown by default for such a study (:func:`pooled_plan`). The run fails (exit
status 1) if a test shown by default leaves [3%, 7%] in some cell.

Run: ``python benchmarks/bench_pooled_size.py [--studies 500] [--workers 2]``
(9-18 minutes with 500 studies per correlation on 2 shared cores; a checkpoint is
written after each correlation). Writes ``benchmarks/results/pooled_size.json``. A
further batch: ``--offset 500 --out results/pooled_size_b.json``, then
``--merge results/pooled_size_a.json results/pooled_size_b.json`` pools the counts
(disjoint study ranges of one seed) into ``--out``; the table in
``docs/methods-crosssection.md`` is the pooled 1,000 studies per cell.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import multiprocessing as mp
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import oilimpact as oi
from oilimpact.eventstudy.crosssection import (
    CLUSTER_ROBUST_TESTS,
    WINDOW_TESTS,
    cross_sectional_tests,
    pooled_plan,
)
from oilimpact.eventstudy.panel import AbnormalPanel
from oilimpact.series import SeriesRegistry

N_SERIES = (2, 5, 10, 30)
RHOS = (0.0, 0.5, 0.9)
WINDOW = (0, 1)
T_DAYS = 290  # 250 estimation sessions before day 0, day 0 at position 270
DAY0_POS = 270
BAND = (0.03, 0.07)
OUT = Path(__file__).resolve().parent / "results" / "pooled_size.json"
#: ad-hoc event and series: no packaged catalog or registry is read (nothing they hold
#: applies to simulated series, and a run does not depend on those files)
NO_FILES = {"catalog": {}, "registry": SeriesRegistry()}


def subset(panel: AbnormalPanel, k: int) -> AbnormalPanel:
    """The panel of the first ``k`` pairs (every per-pair array sliced)."""
    n = panel.n_pairs
    repl = {"ids": panel.ids[:k]}
    for f in dataclasses.fields(panel):
        v = getattr(panel, f.name)
        if f.name in ("ids", "event_days") or not isinstance(v, np.ndarray):
            continue
        if v.ndim and v.shape[0] == n:
            repl[f.name] = v[:k]
    return dataclasses.replace(panel, **repl)


def simulate(rho: float, seed: int) -> tuple[pd.DataFrame, pd.Series, pd.Timestamp]:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-01-01", periods=T_DAYS)
    n = max(N_SERIES)

    def t4(shape: tuple[int, ...] | int) -> np.ndarray:
        return rng.standard_t(4, shape) / np.sqrt(2.0)  # unit variance

    m = 0.0003 + 0.01 * t4(T_DAYS)
    e = 0.015 * (np.sqrt(rho) * t4((T_DAYS, 1)) + np.sqrt(1.0 - rho) * t4((T_DAYS, n)))
    beta = rng.uniform(0.5, 1.5, n)
    r = 0.0001 + m[:, None] * beta + e
    cols = [f"s{i:02d}" for i in range(n)]
    prices = pd.DataFrame(100.0 * np.exp(np.cumsum(r, axis=0)), index=dates, columns=cols)
    market = pd.Series(100.0 * np.exp(np.cumsum(m)), index=dates, name="market")
    return prices, market, dates[DAY0_POS]


def one_study(args: tuple[float, int]) -> dict[int, dict[str, float]]:
    """p-values of every test for each n, for one simulated study."""
    rho, seed = args
    prices, market, day0 = simulate(rho, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = oi.event_study(
            prices, {"ev": day0}, market=market, event_windows=[WINDOW], input="prices",
            pooled=True, **NO_FILES,
        )  # fmt: skip
        out = {}
        for k in N_SERIES:
            tab = cross_sectional_tests(
                subset(res.panel, k), [WINDOW], WINDOW_TESTS, pooled=True,
                independence_tests=True,
            )  # fmt: skip
            out[k] = dict(zip(tab["test"], tab["pvalue"], strict=True))
    return out


def check_subset_equals_engine(rho: float, seed: int) -> None:
    """The first-k panel (of a study run without the packaged files) gives the tests
    that ``oi.event_study`` with its defaults gives on those k series."""
    prices, market, day0 = simulate(rho, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = oi.event_study(prices, {"ev": day0}, market=market, event_windows=[WINDOW],
                              input="prices", pooled=True, **NO_FILES)  # fmt: skip
        for k in (2, 10):
            a = cross_sectional_tests(subset(full.panel, k), [WINDOW], pooled=True)
            small = oi.event_study(prices.iloc[:, :k], {"ev": day0}, market=market,
                                   event_windows=[WINDOW], input="prices", pooled=True)  # fmt: skip
            b = small.tests
            pd.testing.assert_frame_equal(
                a[["test", "statistic", "pvalue", "n"]].reset_index(drop=True),
                b[["test", "statistic", "pvalue", "n"]].reset_index(drop=True),
                rtol=1e-9,
            )


def default_tests(n: int) -> set[str]:
    """Tests the default output shows for a one-date study of ``n`` series when the
    pooled tests are run (``pooled=True`` below 10 series, as ``"auto"`` from 10)."""
    day = np.datetime64("2025-01-02", "ns")
    panel = AbnormalPanel(
        ids=pd.MultiIndex.from_product([["e"], range(n)], names=["event", "asset"]),
        est_resid=np.zeros((n, 3)), n_est=np.full(n, 3), n_params=0, sigma2=np.ones(n),
        event_days=np.arange(2), event_ar=np.zeros((n, 2)),
        pe_cov=np.broadcast_to(np.eye(2), (n, 2, 2)), event_dates=np.full(n, day),
    )  # fmt: skip
    return set(pooled_plan(panel, [WINDOW], pooled=True).tests)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--studies", type=int, default=500, help="studies per correlation")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20260617)
    ap.add_argument(
        "--offset", type=int, default=0, help="first study index (a further batch of studies)"
    )
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--rhos", type=float, nargs="+", default=list(RHOS))
    ap.add_argument(
        "--merge", type=Path, nargs="+", help="pool the counts of these result files into --out"
    )
    args = ap.parse_args()
    if args.merge:
        return merge(args.merge, args.out)
    t0 = time.perf_counter()
    check_subset_equals_engine(0.9, args.seed - 1)
    cells: list[dict[str, object]] = []
    first = args.offset
    done_rhos: list[float] = []
    for rho in args.rhos:
        jobs = [
            (rho, args.seed + 100_000 * int(rho * 10) + s)
            for s in range(first, first + args.studies)
        ]
        if args.workers > 1:
            with mp.get_context("spawn").Pool(args.workers) as pool:
                results = pool.map(one_study, jobs, chunksize=8)
        else:
            results = [one_study(j) for j in jobs]
        for k in N_SERIES:
            shown = default_tests(k)
            for test in WINDOW_TESTS:
                p = np.array([r[k][test] for r in results], dtype=float)
                done = np.isfinite(p)
                m = int(done.sum())
                rate = float((p[done] < 0.05).mean()) if m else float("nan")
                se = float(np.sqrt(rate * (1 - rate) / m)) if m else float("nan")
                in_band = bool(m == 0 or BAND[0] <= rate <= BAND[1])
                default = test in shown
                cells.append(
                    {"rho": rho, "n": k, "test": test, "rejection": rate, "mc_se": se,
                     "studies": m, "rejections": int((p[done] < 0.05).sum()),
                     "default": default, "in_band": in_band}
                )  # fmt: skip
        print(f"rho={rho}: {args.studies} studies done at {time.perf_counter() - t0:.0f} s",
              flush=True)  # fmt: skip
        done_rhos.append(rho)
        design = {
            "series": list(N_SERIES), "rho": done_rhos, "window": list(WINDOW),
            "innovations": "Student-t(4), common shock weight sqrt(rho)",
            "model": "market (oi.event_study defaults)", "level": 0.05,
            "studies": [[r, first, first + args.studies] for r in done_rhos],
            "seed": args.seed, "band_for_default_tests": list(BAND),
            "cluster_robust_tests": list(CLUSTER_ROBUST_TESTS),
        }  # fmt: skip
        runs = [
            {"rho": done_rhos, "studies": [first, first + args.studies],
             "elapsed_s": round(time.perf_counter() - t0, 1), "workers": args.workers,
             "machine": platform.platform()}
        ]  # fmt: skip
        status = write(cells, design, runs, args.out)  # after each rho: a checkpoint
    return status


def write(cells: list[dict], design: dict, runs: list[dict], out: Path) -> int:
    """Print the table, save the JSON; exit status 1 if a default test leaves the band."""
    ok = all(c["in_band"] or not c["default"] for c in cells)
    table = pd.DataFrame(cells)
    wide = table.pivot_table(index="test", columns=["rho", "n"], values="rejection", sort=False)
    print((100 * wide).round(1).to_string())
    out.parent.mkdir(exist_ok=True)
    doc = {"design": design, "cells": cells, "all_default_tests_in_band": ok, "runs": runs}
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {out}; default tests in [3%, 7%]: {ok}")
    return 0 if ok else 1


def _spans(doc: dict) -> list[tuple[float, int, int]]:
    """(rho, first study, end) of each batch in a result file."""
    design = doc["design"]
    if "studies" in design:
        return [tuple(s) for s in design["studies"]]
    k = int(design["studies_per_cell"])  # a first-format file: studies 0..k of each rho
    return [(float(r), 0, k) for r in design["rho"]]


def merge(paths: list[Path], out: Path) -> int:
    """Pool the rejection counts of runs over disjoint study ranges (same seed)."""
    docs = [json.loads(p.read_text()) for p in paths]
    if len({d["design"]["seed"] for d in docs}) != 1:
        raise SystemExit("runs with different --seed cannot be pooled by study range")
    spans = sorted(s for d in docs for s in _spans(d))
    for (r1, _, hi), (r2, lo, _) in itertools.pairwise(spans):
        if r1 == r2 and lo < hi:
            raise SystemExit(f"overlapping study ranges {spans}: not independent runs")
    pooled: dict[tuple, dict] = {}
    for d in docs:
        for c in d["cells"]:
            hits = c.get("rejections")
            if hits is None:  # first format: the rate over finite p-values
                hits = round(c["rejection"] * c["studies"]) if c["studies"] else 0
            key = (c["rho"], c["n"], c["test"])
            acc = pooled.setdefault(key, {**c, "studies": 0, "rejections": 0})
            acc["studies"] += c["studies"]
            acc["rejections"] += int(hits)
    cells = []
    for c in pooled.values():
        m = c["studies"]
        rate = c["rejections"] / m if m else float("nan")
        c["rejection"] = rate
        c["mc_se"] = float(np.sqrt(rate * (1 - rate) / m)) if m else float("nan")
        c["default"] = c["test"] in default_tests(c["n"])
        c["in_band"] = bool(m == 0 or BAND[0] <= rate <= BAND[1])
        cells.append(c)
    rhos = sorted({s[0] for s in spans})
    design = {**docs[0]["design"], "rho": rhos, "studies": [list(s) for s in spans]}
    design.pop("studies_per_cell", None)
    design["cluster_robust_tests"] = list(CLUSTER_ROBUST_TESTS)
    runs = []
    for d, span in zip(docs, (_spans(d) for d in docs), strict=True):
        if "runs" in d:
            runs += d["runs"]
        else:  # first format: the run's figures at top level
            runs.append({"rho": sorted({sp[0] for sp in span}), "studies": list(span[0][1:]),
                         **{k: d[k] for k in ("elapsed_s", "workers", "machine") if k in d}})  # fmt: skip
    return write(cells, design, runs, out)


if __name__ == "__main__":
    sys.exit(main())
