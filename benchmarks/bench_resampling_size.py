"""Size of the resampling tests (wild bootstrap, permutation) with fat tails and GARCH.

Null simulation of issue 13, item 6, for :func:`oilimpact.eventstudy.resampling.wild_bootstrap`
(Rademacher and Mammen weights) and :func:`~oilimpact.eventstudy.resampling.permutation_test`:
10 series share one event date, market model ``y_it = 0.0001 + beta_i m_t + eps_it``,
``m_t = 0.0003 + 0.01 z_t`` (t(4), unit variance), ``beta_i ~ U(0.5, 1.5)``, no event
effect, window ``[0, +1]``, ``oi.event_study`` with its defaults (estimation window
(-250, -11): ``L1 = 240``). Disturbances of sd 0.015 with same-date correlation 0.9: ``z_it
= sqrt(0.9) c_t + sqrt(0.1) u_it``, ``c`` and ``u`` Student t(4) scaled to unit variance, and

* ``t(4)``: ``eps_it = 0.015 z_it``;
* ``GARCH(1,1)``: ``eps_it = sigma_it z_it``, ``sigma_it^2 = omega + 0.08 eps_{i,t-1}^2 + 0.90
  sigma_{i,t-1}^2`` (a + b = 0.98), normal ``c`` and ``u``, after a 1,000-day burn-in.

Single series: the first pair's own row (its CAR test). Pooled: the CAAR rows of the
studies restricted to the first n = 2, 5, 10 series (the functions read only the
result's public tables, so the restriction is a filter of those tables). The engine's
PE-corrected t test of the first pair is recorded beside them for reference.

A test rejects when its p-value is ``<= 0.05``. ``--studies`` null studies per law
(default 1,200), ``B = 399`` bootstrap draws (``0.05 (B + 1)`` an integer, so the level is
attainable); the Monte Carlo standard error of a 5% rate is
``sqrt(0.05 0.95 / 1200) = 0.63`` points, a 95% band of 3.8%-6.2% for a test of exact size.
About 280 s of CPU per worker (``--workers 2``: about 5 minutes on 2 idle cores;
38 minutes at a load average of 20, when it was run for the docs).

Run: ``python benchmarks/bench_resampling_size.py [--studies 1200] [--workers 2]``.
Writes ``benchmarks/results/resampling_size.json``; docs/methods-resampling.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import platform
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import oilimpact as oi
from oilimpact.eventstudy.resampling import permutation_test, wild_bootstrap
from oilimpact.series import SeriesRegistry

N_MAX = 10
N_POOLED = (2, 5, 10)
RHO = 0.9
WINDOW = (0, 1)
B = 399
T_DAYS = 262
DAY0_POS = 260  # 250 sessions before day 0: estimation (-250, -11) has 240 days
SD = 0.015
BURN = 1_000
GARCH_AB = (0.08, 0.90)
LAWS = {"t(4)": 3001, "GARCH(1,1) a=.08 b=.90": 3002}
OUT = Path(__file__).resolve().parent / "results" / "resampling_size.json"
NO_FILES = {"catalog": {}, "registry": SeriesRegistry()}
METHODS = ("wild rademacher", "wild mammen", "permutation")


def _t4(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_t(4, size=shape) / math.sqrt(2.0)


def disturbances(law: str, rng: np.random.Generator) -> np.ndarray:
    """``(T_DAYS, N_MAX)`` disturbances, same-date correlation :data:`RHO`."""
    if law == "t(4)":
        z = math.sqrt(RHO) * _t4(rng, (T_DAYS, 1)) + math.sqrt(1 - RHO) * _t4(rng, (T_DAYS, N_MAX))
        return SD * z
    t_all = BURN + T_DAYS
    z = math.sqrt(RHO) * rng.standard_normal((t_all, 1)) + math.sqrt(1 - RHO) * rng.standard_normal(
        (t_all, N_MAX)
    )
    a, b = GARCH_AB
    omega = SD**2 * (1 - a - b)
    var = np.full(N_MAX, SD**2)
    eps = np.empty((t_all, N_MAX))
    for t in range(t_all):
        eps[t] = np.sqrt(var) * z[t]
        var = omega + a * eps[t] ** 2 + b * var
    return eps[BURN:]


def study(law: str, seed: int) -> oi.EventStudyResult:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-01-01", periods=T_DAYS)
    m = 0.0003 + 0.01 * _t4(rng, (T_DAYS,))
    beta = rng.uniform(0.5, 1.5, N_MAX)
    r = 0.0001 + m[:, None] * beta + disturbances(law, rng)
    cols = [f"s{i:02d}" for i in range(N_MAX)]
    prices = pd.DataFrame(100.0 * np.exp(np.cumsum(r, axis=0)), index=dates, columns=cols)
    market = pd.Series(100.0 * np.exp(np.cumsum(m)), index=dates, name="market")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return oi.event_study(
            prices, {"ev": dates[DAY0_POS]}, market=market, event_windows=[WINDOW],
            input="prices", pooled=False, **NO_FILES,
        )  # fmt: skip


@dataclass(frozen=True)
class View:
    """The public tables of a result restricted to some series (what resampling reads)."""

    car: pd.DataFrame
    resid: pd.DataFrame
    params: pd.DataFrame
    alignment: pd.DataFrame


def first_series(res: oi.EventStudyResult, n: int) -> View:
    keep = sorted(res.car["series"].unique())[:n]
    return View(
        car=res.car[res.car["series"].isin(keep)],
        resid=res.resid[res.resid["series"].isin(keep)],
        params=res.params[res.params.index.get_level_values("series").isin(keep)],
        alignment=res.alignment[res.alignment["series"].isin(keep)],
    )


def one(args: tuple[str, int]) -> dict[str, float]:
    """p-values of one null study: pair 1 (single) and pooled for each n."""
    law, seed = args
    res = study(law, seed)
    out = {"t test single": float(res.car["pvalue"].iloc[0])}
    for n in N_POOLED:
        v = first_series(res, n)
        tabs = {
            "wild rademacher": wild_bootstrap(v, WINDOW, B=B, weights="rademacher", seed=seed),  # type: ignore[arg-type]
            "wild mammen": wild_bootstrap(v, WINDOW, B=B, weights="mammen", seed=seed),  # type: ignore[arg-type]
            "permutation": permutation_test(v, WINDOW, seed=seed),  # type: ignore[arg-type]
        }
        for name, tab in tabs.items():
            if n == N_MAX:
                out[f"{name} single"] = float(tab.loc[tab["scope"] == "pair", "pvalue"].iloc[0])
            out[f"{name} pooled n={n}"] = float(tab.loc[tab["scope"] == "pooled", "pvalue"].iloc[0])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--studies", type=int, default=1200, help="null studies per law")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    t0 = time.perf_counter()
    cells = []
    for law, seed0 in LAWS.items():
        jobs = [(law, seed0 * 100_000 + s) for s in range(args.studies)]
        if args.workers > 1:
            with mp.get_context("spawn").Pool(args.workers) as pool:
                results = pool.map(one, jobs, chunksize=20)
        else:
            results = [one(j) for j in jobs]
        for key in results[0]:
            p = np.array([r[key] for r in results])
            rate = float(np.mean(p <= 0.05))
            cells.append({"law": law, "test": key, "rejection": rate,
                          "mc_se": math.sqrt(rate * (1 - rate) / p.size),
                          "studies": int(p.size)})  # fmt: skip
        print(f"{law}: {args.studies} studies at {time.perf_counter() - t0:.0f} s", flush=True)
    band = 1.96 * math.sqrt(0.05 * 0.95 / args.studies)
    result = {
        "design": {
            "n_max": N_MAX,
            "pooled_n": list(N_POOLED),
            "rho": RHO,
            "window": list(WINDOW),
            "B": B,
            "L1": 240,
            "garch_ab": list(GARCH_AB),
            "studies": args.studies,
            "band_95": [0.05 - band, 0.05 + band],
        },  # fmt: skip
        "cells": cells,
        "seconds": round(time.perf_counter() - t0, 1),
        "python": platform.python_version(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"rejection at 5%, {args.studies} null studies per law; 95% Monte Carlo band "
          f"{100 * (0.05 - band):.1f}%-{100 * (0.05 + band):.1f}%")  # fmt: skip
    print(f"{'test':34s} " + " ".join(f"{law:>24s}" for law in LAWS))
    keys = list(dict.fromkeys(c["test"] for c in cells))
    keys.sort(key=lambda k: (k.split()[-1] != "single", int(k.split("=")[-1]) if "=" in k else 0))
    for key in keys:
        vals = [next(c for c in cells if c["law"] == law and c["test"] == key) for law in LAWS]
        print(f"{key:34s} " + " ".join(f"{100 * c['rejection']:23.1f}%" for c in vals))
    print(f"({result['seconds']} s) -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
