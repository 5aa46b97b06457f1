"""Size of the synthetic-control tests under no effect (conformal and placebo rank).

Monte Carlo of factor-model panels with no treatment effect. J = 20 donors,
``Y_jt = lambda_j' f_t + e_jt`` with 3 factors ``f_t`` (AR(1), rho = 0.5, unit
innovations, burn-in 200), loadings ``U(0, 1)``; the treated unit's loadings are a
convex combination (Dirichlet(1,...,1) on 4 random donors) of donor loadings, so a
synthetic control exists. Errors ``e_jt``:

* ``iid``: N(0, 1);
* ``ar05``: AR(1) with rho = 0.5, unit variance (serial dependence: CWZ 2021 show
  approximate validity);
* ``t4``: Student t(4) scaled to unit variance.

T0 = 39 pre-event and T1 = 21 post-event periods, so the moving-block p-values take
values k/60 (average effect, T = 60) and k/40 (first post period, T = T0 + 1 = 40):
a 5% test rejects when p <= 0.05, i.e. when the observed statistic ranks in the top 3
of 60 (top 2 of 40), an exact 5% under exchangeable residuals. The placebo-in-space
rank test (all 20 donors, no exclusion: smallest p 1/21) rejects when p <= 0.05, exact
size 1/21 = 4.76% under exchangeable units.

``N_REPS = 4,000`` per design: Monte Carlo standard error of a 5% rate is
``sqrt(0.05 0.95 / 4000) = 0.34`` points. Criterion (issue 14): within [4%, 6%].

Run: ``python benchmarks/bench_synth_conformal_size.py`` (a few minutes on 2 cores).
Writes ``benchmarks/results/synth_conformal_size.json``; docs/methods-synth.md quotes it.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from oilimpact.synth.conformal import conformal_pvalue
from oilimpact.synth.placebo import rank_pvalue
from oilimpact.synth.weights import solve_w

N_REPS = 4_000
J, K, T0, T1 = 20, 3, 39, 21
ALPHA = 0.05
N_PLACEBO_REPS = 1_000  # the placebo loop refits 21 units per study


def _ar1(rng: np.random.Generator, T: int, n: int, rho: float, law: str) -> np.ndarray:
    burn = 200
    if law == "t4":
        z = rng.standard_t(4, size=(T + burn, n)) / math.sqrt(2.0)
    else:
        z = rng.standard_normal((T + burn, n))
    x = np.zeros_like(z)
    for t in range(1, T + burn):
        x[t] = rho * x[t - 1] + z[t]
    out = x[burn:]
    return out * math.sqrt(1 - rho**2) if rho else out


def panel(rng: np.random.Generator, design: str) -> np.ndarray:
    T = T0 + T1
    f = _ar1(rng, T, K, 0.5, "normal")
    lam = rng.uniform(0, 1, size=(J, K))
    pick = rng.choice(J, 4, replace=False)
    mix = rng.dirichlet(np.ones(4))
    lam1 = mix @ lam[pick]
    rho, law = {"iid": (0.0, "normal"), "ar05": (0.5, "normal"), "t4": (0.0, "t4")}[design]
    e = _ar1(rng, T, J + 1, rho, law)
    return np.column_stack([f @ lam1, f @ lam.T]) + e


def placebo_p(Y: np.ndarray) -> float:
    ratios = []
    for i in range(Y.shape[1]):
        order = [i] + [j for j in range(Y.shape[1]) if j != i]
        Z = Y[:, order]
        gap = Z[:, 0] - Z[:, 1:] @ solve_w(Z[:T0, 1:], Z[:T0, 0])
        ratios.append(math.sqrt(np.mean(gap[T0:] ** 2)) / math.sqrt(np.mean(gap[:T0] ** 2)))
    return rank_pvalue(ratios[0], ratios[1:])


def main() -> None:
    rows = []
    start = time.perf_counter()
    for d, design in enumerate(("iid", "ar05", "t4")):
        rng = np.random.default_rng(20261206 + d)
        rej_avg = rej_t = rej_pl = 0
        for rep in range(N_REPS):
            Y = panel(rng, design)
            rej_avg += conformal_pvalue(Y, T0) <= ALPHA
            rej_t += conformal_pvalue(Y[: T0 + 1], T0) <= ALPHA
            if rep < N_PLACEBO_REPS:
                rej_pl += placebo_p(Y) <= ALPHA
        for test, rej, n in (("conformal average (T=60)", rej_avg, N_REPS),
                             ("conformal per period (T=40)", rej_t, N_REPS),
                             ("placebo rank, 20 donors", rej_pl, N_PLACEBO_REPS)):
            rate = rej / n
            rows.append({"design": design, "test": test, "reps": n, "rate": rate,
                         "mc_se": math.sqrt(0.05 * 0.95 / n)})
            print(f"{design:5s} {test:30s} {100 * rate:5.2f}%  (MC se {100 * rows[-1]['mc_se']:.2f})")
    out = {"alpha": ALPHA, "J": J, "T0": T0, "T1": T1, "rows": rows,
           "seconds": round(time.perf_counter() - start, 1)}
    path = Path(__file__).resolve().parent / "results" / "synth_conformal_size.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path} in {out['seconds']} s")


if __name__ == "__main__":
    main()
