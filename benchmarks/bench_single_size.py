"""Size of the single-pair tests (t and SQ) with fat tails and volatility clustering.

Monte Carlo of single-asset, single-event studies with no event effect, run through the
engine's array entry point (``fit_panel`` + ``car_tests``, what
:func:`oilimpact.eventstudy.engine.build_result` calls). Market model
``y_t = 0.0003 + beta m_t + eps_t``, ``m_t ~ N(0.0002, 0.01^2)``, ``beta ~ U(0.5, 1.5)``;
estimation window of ``L1 = 239`` days (relative days -249 .. -11), a gap of ten days,
event windows ``[0, 0]`` and ``[0, +1]``. Disturbances (unconditional sd 0.015):

* ``t(4)``: i.i.d. Student t with 4 degrees of freedom, scaled to unit variance;
* ``GARCH(1,1)``: ``eps_t = sigma_t z_t``, ``sigma_t^2 = omega + a eps_{t-1}^2 + b
  sigma_{t-1}^2`` with ``a = 0.08``, ``b = 0.90`` (persistence 0.98, typical of daily oil
  and equity returns) or the milder ``a = 0.05``, ``b = 0.90``, ``z_t`` normal or Student
  t(4) scaled to unit variance, after a burn-in of 1,000 days.

A test rejects when its p-value is ``<= alpha``. ``N_STUDIES = 20,000`` studies per law,
so the Monte Carlo standard error of a 5% rate is ``sqrt(0.05 0.95 / 20000) = 0.15``
percentage points. Criterion (issue 17): every rate at 5% within [4%, 6%].

Run: ``python benchmarks/bench_single_size.py`` (about a minute on 2 cores). Writes
``benchmarks/results/single_size.json``; docs/methods.md quotes the table.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from oilimpact.eventstudy.models import fit_panel
from oilimpact.eventstudy.single import car_tests

N_STUDIES = 20_000
L1 = 239
GAP = 10
DAYS = np.arange(0, 2)
WINDOWS = [(0, 0), (0, 1)]
ALPHAS = (0.05, 0.01)
SD = 0.015
BURN = 1_000
#: (label, law, (a, b) of the GARCH recursion, seed)
CONFIGS = (
    ("t(4)", "t4", (0.0, 0.0), 2001),
    ("GARCH(1,1) a=.08 b=.90, normal z", "garch", (0.08, 0.90), 2002),
    ("GARCH(1,1) a=.08 b=.90, t(4) z", "garch_t4", (0.08, 0.90), 2003),
    ("GARCH(1,1) a=.05 b=.90, normal z", "garch", (0.05, 0.90), 2004),
)
OUT = Path(__file__).resolve().parent / "results" / "single_size.json"


def _t4(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_t(4, size=shape) / math.sqrt(2.0)  # Var t(4) = 2


def disturbances(
    law: str, ab: tuple[float, float], n: int, t_all: int, rng: np.random.Generator
) -> np.ndarray:
    """``(n, t_all)`` disturbances of unconditional sd :data:`SD`."""
    if law == "t4":
        return SD * _t4(rng, (n, t_all))
    z = rng.standard_normal((n, BURN + t_all)) if law == "garch" else _t4(rng, (n, BURN + t_all))
    garch_a, garch_b = ab
    omega = SD**2 * (1.0 - garch_a - garch_b)
    var = np.full(n, SD**2)
    eps = np.empty((n, BURN + t_all))
    for t in range(BURN + t_all):  # vectorised over the studies
        eps[:, t] = np.sqrt(var) * z[:, t]
        var = omega + garch_a * eps[:, t] ** 2 + garch_b * var
    return eps[:, BURN:]


def simulate(
    law: str, ab: tuple[float, float], seed: int, n: int = N_STUDIES
) -> dict[str, np.ndarray]:
    """p-values of the t and SQ tests of ``n`` null studies, per window."""
    rng = np.random.default_rng(seed)
    t_all = L1 + GAP + DAYS.size
    m = rng.normal(0.0002, 0.01, size=(n, t_all))
    beta = rng.uniform(0.5, 1.5, size=(n, 1))
    y = 0.0003 + beta * m + disturbances(law, ab, n, t_all, rng)
    evt = slice(L1 + GAP, t_all)
    panel = fit_panel(y[:, :L1], y[:, evt], m[:, :L1], m[:, evt], event_days=DAYS)
    car = car_tests(panel, WINDOWS)
    out: dict[str, np.ndarray] = {}
    for w in WINDOWS:
        sel = car["window"] == w
        out[f"t {list(w)}"] = car.loc[sel, "pvalue"].to_numpy()
        out[f"SQ {list(w)}"] = car.loc[sel, "sq_pvalue"].to_numpy()
    return out


def main() -> None:
    start = time.perf_counter()
    rows = []
    for label, law, ab, seed in CONFIGS:
        pv = simulate(law, ab, seed)
        for name, p in pv.items():
            test, window = name.split(" ", 1)
            rates = {f"{a:g}": float(np.mean(p <= a)) for a in ALPHAS}
            rows.append({"law": label, "test": test, "window": window, "rate": rates})
    mc_se = {f"{a:g}": math.sqrt(a * (1 - a) / N_STUDIES) for a in ALPHAS}
    result = {
        "n_studies": N_STUDIES,
        "L1": L1,
        "mc_se": mc_se,
        "garch_burn_in": BURN,
        "rows": rows,
        "seconds": round(time.perf_counter() - start, 1),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{N_STUDIES} null studies per law, L1 = {L1}; MC se at 5%: "
          f"{100 * mc_se['0.05']:.2f} points")  # fmt: skip
    print(f"{'law':34s} {'test':4s} {'window':8s} {'5%':>7s} {'1%':>7s}")
    for r in rows:
        print(f"{r['law']:34s} {r['test']:4s} {r['window']:8s} "
              f"{100 * r['rate']['0.05']:6.2f}% {100 * r['rate']['0.01']:6.2f}%")  # fmt: skip
    print(f"({result['seconds']} s) -> {OUT}")


if __name__ == "__main__":
    main()
