"""Size of the single-pair tests under the null: how exact is the SQ test for L > 1?

Monte Carlo of single-asset, single-event studies with no event effect, run through the
engine's array entry point (``fit_panel`` + ``ar_tests`` + ``car_tests``, the functions
:func:`oilimpact.eventstudy.engine.build_result` calls). Market model, ``y = 0.0003 + beta m
+ eps`` with ``m ~ N(0.0002, 0.01^2)``, ``beta ~ U(0.5, 1.5)``, disturbances i.i.d.
normal or Student t(3) scaled to unit variance times 0.015; event window ``[-1, +10]``.

A test rejects when its p-value is ``<= alpha``. For every configuration (error law,
``L1``) and window the script reports the rejection rate at 5% and 1% of the
PE-corrected t test and of the studentised SQ test, the SQ test's largest attainable
size (``floor(alpha (n + 1) / 2) * 2 / (n + 1)`` with ``n = L1 - L + 1`` reference sums)
and the Monte Carlo standard error of a rate. docs/methods.md quotes these numbers.

Run: ``python benchmarks/bench_sq_size.py`` (about 20 s). Writes
``benchmarks/results/sq_size.json``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from oilimpact.eventstudy.models import fit_panel
from oilimpact.eventstudy.single import ar_tests, car_tests

N_STUDIES = 20_000
DAYS = np.arange(-1, 11)
WINDOWS = [(0, 0), (0, 1), (-1, 1), (0, 5), (0, 10)]
ALPHAS = (0.05, 0.01)
SD = 0.015
#: (label, error law, L1, seed)
CONFIGS = (
    ("normal, L1=239", "normal", 239, 1001),
    ("t(3), L1=239", "t3", 239, 1002),
    ("normal, L1=120", "normal", 120, 1003),
    ("t(3), L1=120", "t3", 120, 1004),
)
OUT = Path(__file__).resolve().parent / "results" / "sq_size.json"


def simulate(law: str, l1: int, seed: int, n: int = N_STUDIES) -> dict[str, np.ndarray]:
    """p-values of the t and SQ tests of ``n`` null studies, per window (and day 0)."""
    rng = np.random.default_rng(seed)
    t_all = l1 + DAYS.size
    m = rng.normal(0.0002, 0.01, size=(n, t_all))
    if law == "normal":
        eps = rng.standard_normal(size=(n, t_all))
    else:
        eps = rng.standard_t(3, size=(n, t_all)) / math.sqrt(3.0)  # unit variance
    beta = rng.uniform(0.5, 1.5, size=(n, 1))
    y = 0.0003 + beta * m + SD * eps
    panel = fit_panel(y[:, :l1], y[:, l1:], m[:, :l1], m[:, l1:], event_days=DAYS)
    car = car_tests(panel, WINDOWS)
    out: dict[str, np.ndarray] = {}
    for w in WINDOWS:
        sel = car["window"] == w
        out[f"t {w}"] = car.loc[sel, "pvalue"].to_numpy()
        out[f"sq {w}"] = car.loc[sel, "sq_pvalue"].to_numpy()
    ar = ar_tests(panel)
    out["ar_sq_day0"] = ar["sq_pvalue"][:, 1]  # day 0 = column 1 of [-1, +10]
    return out


def attainable(alpha: float, n_ref: int) -> float:
    """Largest size <= alpha of the two-sided rank p-value ``2j/(n+1)``."""
    return math.floor(alpha * (n_ref + 1) / 2 + 1e-12) * 2 / (n_ref + 1)


def main() -> dict:
    rows = []
    for label, law, l1, seed in CONFIGS:
        p = simulate(law, l1, seed)
        for w in WINDOWS:
            length = w[1] - w[0] + 1
            n_ref = l1 - length + 1
            row = {
                "config": label,
                "law": law,
                "L1": l1,
                "seed": seed,
                "window": list(w),
                "L": length,
                "n_ref": n_ref,
                "blocks": n_ref / length,
            }
            for a in ALPHAS:
                row[f"t_{a}"] = float((p[f"t {w}"] <= a).mean())
                row[f"sq_{a}"] = float((p[f"sq {w}"] <= a).mean())
                row[f"sq_attainable_{a}"] = attainable(a, n_ref)
            rows.append(row)
    mc_se = {str(a): math.sqrt(a * (1 - a) / N_STUDIES) for a in ALPHAS}
    result = {"n_studies": N_STUDIES, "sd": SD, "mc_se_at_nominal": mc_se, "rows": rows}
    print(f"{N_STUDIES} null studies per configuration; MC s.e. 0.15% at 5%, 0.07% at 1%")
    print(f"{'config':16s} {'window':8s} {'n/L':>5s}  {'t 5%':>6s} {'SQ 5%':>6s} "
          f"{'max':>6s}  {'t 1%':>6s} {'SQ 1%':>6s} {'max':>6s}")  # fmt: skip
    for r in rows:
        print(
            f"{r['config']:16s} {str(tuple(r['window'])):8s} {r['blocks']:5.1f}  "
            f"{r['t_0.05']:6.2%} {r['sq_0.05']:6.2%} {r['sq_attainable_0.05']:6.2%}  "
            f"{r['t_0.01']:6.2%} {r['sq_0.01']:6.2%} {r['sq_attainable_0.01']:6.2%}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
