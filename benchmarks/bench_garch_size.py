"""Size of the GARCH-model t test and of the abnormal-volatility tests under the null.

Monte Carlo of single-asset, single-event studies with no event effect, the design of
``benchmarks/bench_single_size.py`` at the brief's sample size: market model
``y_t = 0.0003 + beta m_t + eps_t``, ``m_t ~ N(0.0002, 0.01^2)``, ``beta ~ U(0.5, 1.5)``;
estimation window of ``L1 = 240`` days (relative days -250 .. -11), event windows
``[0,0]``, ``[0,1]``, ``[0,5]`` (so day 0 is forecast 11 steps ahead). Disturbances of
unconditional sd 0.015:

* ``t(4)``: i.i.d. Student t(4) scaled to unit variance;
* ``GARCH(1,1)``: ``sigma_t^2 = omega + a eps_{t-1}^2 + b sigma_{t-1}^2``, ``a = 0.08``,
  ``b = 0.90`` (persistence 0.98), ``z_t`` normal or t(4), after a 1,000-day burn-in
  (the same generator as bench_single_size.py).

Each study is fitted three times on the same draw: the textbook OLS market model
(``fit_panel`` + ``car_tests``: the issue-17 t test, ``ols_t``) and the market model with
GARCH(1,1) errors (``fit_garch_panel``, normal quasi-likelihood), once with every event
day forecast from the end of the estimation window (``garch_t``, ``vol_rank``,
``vol_chi2``) and once with the variance updated by the returns of days -10..-1
(``update_through=-1``: ``garch_t_upd``, ``vol_rank_upd``); the GARCH panels feed the
abnormal-volatility test (rank and chi-square p-values, alternative "greater"). A test
rejects when its p-value is ``<= 0.05``. The paired difference of each GARCH t test from
the OLS t test on the same draws is printed with its standard error (far smaller than
either rate's).

``N_STUDIES = 850`` studies per law: the Monte Carlo standard error of a 5% rate is
``sqrt(0.05 0.95 / 850) = 0.75`` points, a 95% band of +-1.47 points. Each GARCH fit is a
numerical ML fit (about 0.1 s), so the run takes about 10-15 minutes on 2 shared cores
(two worker processes).

Run: ``python benchmarks/bench_garch_size.py [n_studies]``. Writes
``benchmarks/results/garch_size.json``; docs/methods-garch.md quotes the table.
"""

from __future__ import annotations

import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

N_STUDIES = 850
CHUNK = 85
L1 = 240
GAP = 10
DAYS = np.arange(-GAP, 6)  # the gap days -10..-1 are there for update_through=-1
WINDOWS = [(0, 0), (0, 1), (0, 5)]
ALPHA = 0.05
SD = 0.015
BURN = 1_000
#: (label, law, (a, b), innovation law of the fitted GARCH, seed)
CONFIGS = (
    ("t(4) i.i.d.", "t4", (0.0, 0.0), "normal", 3001),
    ("GARCH a=.08 b=.90, normal z", "garch", (0.08, 0.90), "normal", 3002),
    ("GARCH a=.08 b=.90, t(4) z", "garch_t4", (0.08, 0.90), "normal", 3003),
)
TESTS = ("ols_t", "garch_t", "garch_t_upd", "vol_rank", "vol_rank_upd", "vol_chi2")
OUT = Path(__file__).resolve().parent / "results" / "garch_size.json"


def _t4(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_t(4, size=shape) / math.sqrt(2.0)  # Var t(4) = 2


def disturbances(
    law: str, ab: tuple[float, float], n: int, t_all: int, rng: np.random.Generator
) -> np.ndarray:
    """``(n, t_all)`` disturbances of unconditional sd :data:`SD` (bench_single_size's)."""
    if law == "t4":
        return SD * _t4(rng, (n, t_all))
    z = rng.standard_normal((n, BURN + t_all)) if law == "garch" else _t4(rng, (n, BURN + t_all))
    garch_a, garch_b = ab
    omega = SD**2 * (1.0 - garch_a - garch_b)
    var = np.full(n, SD**2)
    eps = np.empty((n, BURN + t_all))
    for t in range(BURN + t_all):
        eps[:, t] = np.sqrt(var) * z[:, t]
        var = omega + garch_a * eps[:, t] ** 2 + garch_b * var
    return eps[:, BURN:]


def simulate(task: tuple[Any, ...]) -> dict[str, list[float]]:
    """p-values of every test for ``n`` null studies of one law (one worker task)."""
    from oilimpact.eventstudy.garch import fit_garch_panel
    from oilimpact.eventstudy.models import fit_panel
    from oilimpact.eventstudy.single import car_tests
    from oilimpact.eventstudy.volatility import abnormal_volatility

    law, ab, dist, seed, n, variants = task
    rng = np.random.default_rng(seed)
    t_all = L1 + DAYS.size
    m = rng.normal(0.0002, 0.01, size=(n, t_all))
    beta = rng.uniform(0.5, 1.5, size=(n, 1))
    y = 0.0003 + beta * m + disturbances(law, ab, n, t_all, rng)
    evt = slice(L1, t_all)
    est_days = np.arange(-L1 - GAP, -GAP)  # -250 .. -11
    ols = car_tests(fit_panel(y[:, :L1], y[:, evt], m[:, :L1], m[:, evt], event_days=DAYS),
                    WINDOWS)  # fmt: skip
    out: dict[str, list[float]] = {}
    for suffix, upd in variants:
        gp = fit_garch_panel(y[:, :L1], y[:, evt], m[:, :L1], m[:, evt], event_days=DAYS,
                             est_days=est_days, dist=dist, update_through=upd)  # fmt: skip
        gcar = gp.car_tests(WINDOWS)
        vol = abnormal_volatility(gp, WINDOWS)
        out["converged"] = gp.params["converged"].astype(float).tolist()
        for w in WINDOWS:
            key = f"{list(w)}"
            out[f"garch_t{suffix} {key}"] = gcar.loc[gcar["window"] == w, "pvalue"].tolist()
            out[f"vol_rank{suffix} {key}"] = vol.loc[vol["window"] == w, "pvalue"].tolist()
            out[f"ols_t {key}"] = ols.loc[ols["window"] == w, "pvalue"].tolist()
            if not suffix:
                out[f"vol_chi2 {key}"] = vol.loc[vol["window"] == w, "chi2_pvalue"].tolist()
    return out


#: the two forecast origins: the end of the estimation window, and day -1
VARIANTS = (("", None), ("_upd", -1))
#: ``--focus``: the issue-17 question only (persistent GARCH, normal z; the updated
#: GARCH t test against the OLS t test on the same draws), with more studies
FOCUS = (("GARCH a=.08 b=.90, normal z", "garch", (0.08, 0.90), "normal", 4002),)
OUT_FOCUS = OUT.with_name("garch_size_focus.json")


def main(
    n_studies: int = N_STUDIES,
    configs: tuple[tuple[Any, ...], ...] = CONFIGS,
    variants: tuple[tuple[str, int | None], ...] = VARIANTS,
    out: Path = OUT,
) -> None:
    start = time.perf_counter()
    tasks, owners = [], []
    for k, (_, law, ab, dist, seed) in enumerate(configs):
        for c in range(math.ceil(n_studies / CHUNK)):
            size = min(CHUNK, n_studies - c * CHUNK)
            tasks.append((law, ab, dist, seed * 1000 + c, size, variants))
            owners.append(k)
    merged: list[dict[str, list[float]]] = [{} for _ in configs]
    with ProcessPoolExecutor(max_workers=2) as pool:
        for k, part in zip(owners, pool.map(simulate, tasks), strict=True):
            for name, vals in part.items():
                merged[k].setdefault(name, []).extend(vals)
    rows, paired = [], []
    for (label, _, _, dist, _), pv in zip(configs, merged, strict=True):
        for w in WINDOWS:  # paired difference with the OLS t test on the same draws
            for test in (f"garch_t{suffix}" for suffix, _ in variants):
                d = (np.asarray(pv[f"{test} {list(w)}"]) <= ALPHA).astype(float) - (
                    np.asarray(pv[f"ols_t {list(w)}"]) <= ALPHA
                )
                paired.append({"law": label, "test": test, "window": f"{list(w)}",
                               "diff": float(d.mean()),
                               "se": float(d.std(ddof=1) / math.sqrt(d.size))})  # fmt: skip
        for name, vals in pv.items():
            if name == "converged":
                continue
            test, window = name.split(" ", 1)
            p = np.asarray(vals)
            rows.append({"law": label, "fit": dist, "test": test, "window": window,
                         "rate": float(np.mean(p <= ALPHA)), "n": int(np.isfinite(p).sum())})  # fmt: skip
    mc_se = math.sqrt(ALPHA * (1 - ALPHA) / n_studies)
    result = {
        "n_studies": n_studies,
        "L1": L1,
        "gap": GAP,
        "alpha": ALPHA,
        "mc_se": mc_se,
        "mc_band_95": 1.96 * mc_se,
        "converged_share": {
            c[0]: float(np.mean(m["converged"])) for c, m in zip(configs, merged, strict=True)
        },
        "rows": rows,
        "paired_vs_ols_t": paired,
        "seconds": round(time.perf_counter() - start, 1),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{n_studies} null studies per law, L1 = {L1}, gap {GAP}; rejection rates at 5%, "
          f"95% MC band +-{100 * 1.96 * mc_se:.2f} points")  # fmt: skip
    tests = [t for t in TESTS if any(r["test"] == t for r in rows)]
    print(f"{'law':28s} {'window':7s} " + " ".join(f"{t:>12s}" for t in tests))
    for label, *_ in configs:
        for w in WINDOWS:
            rates = {r["test"]: r["rate"] for r in rows
                     if r["law"] == label and r["window"] == f"{list(w)}"}  # fmt: skip
            print(f"{label:28s} {str(list(w)):7s} "
                  + " ".join(f"{100 * rates[t]:11.2f}%" for t in tests))  # fmt: skip
    print("GARCH t minus OLS t on the same draws (points, se):")
    for r in paired:
        print(f"  {r['law']:28s} {r['window']:7s} {r['test']:12s} "
              f"{100 * r['diff']:+6.2f} ({100 * r['se']:.2f})")  # fmt: skip
    print("converged:", result["converged_share"])
    print(f"({result['seconds']} s) -> {out}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--focus"]
    n_arg = int(args[0]) if args else N_STUDIES
    if "--focus" in sys.argv:
        main(n_arg, FOCUS, (("_upd", -1),), OUT_FOCUS)
    else:
        main(n_arg)
