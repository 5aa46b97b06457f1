"""Size of the segmented intervention test under persistent errors (AR(1) up to 0.95).

Monte Carlo of the segmented regression of :func:`oilimpact.intervention.analysis.intervention`
with no event effect: ``y_t = 800 + 0.5 t + u_t``, ``u_t = rho u_(t-1) + e_t``,
``e_t ~ N(0, 10^2)``, ``u_0`` drawn from the stationary law; one event, a level
shift (the default form), trend; the designs below. For every cell the script reports
the rejection rate at 5% of the level-change t test (``p <= 0.05``) with

* ``default``: ``cov="hac-prewhiten"`` with the Satterthwaite df floored at 2 (what
  ``intervention(series, events)`` reports),
* ``no floor``: the same statistic with the raw Satterthwaite df (``df_floor=0``),
* ``hac``: plain Newey-West with t(T - k) (``cov="hac"``),

the share of draws where the floor is active (raw df < 2) and where the bias-corrected
AR(1) sits at its bound 0.97, the median raw df, and the Monte Carlo standard error of a
rate (``sqrt(p (1 - p) / n)``). The t statistic of the level does not depend on the
true shift, so the coverage of the 95% interval is ``1 - rejection rate``.

Designs (T observed periods, P post-event periods):

* ``T=120, P=12``: the design of the earlier calibration table (all history);
* ``T=72, P=12, month dummies``: the default specification (60 pre-event months, 11
  month dummies because at least 36 pre-event months are observed);
* ``T=43, P=8``: about what the US crude imports from Venezuela give from 2023 on;
* ``T=31, P=7``: the short persistent series of issue 17.

The fits use the package's own functions (``segmented.design_arrays``, ``inference.segmented_cov``); the
script first checks on a few draws that they reproduce the public ``intervention()``
output (estimate, se, df, interval) to 1e-10.

Run: ``python benchmarks/bench_intervention_calibration.py [n_sims]`` (default 4000
per cell; about 2 minutes on one core). Writes
``benchmarks/results/intervention_calibration.json``; docs/methods-intervention.md
quotes the table.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from oilimpact.intervention.analysis import DEFAULT_OPTIONS, intervention
from oilimpact.intervention.inference import segmented_cov
from oilimpact.intervention.segmented import DesignOptions, design_arrays

RHOS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95)
#: (label, T, P, seasonal, seed)
DESIGNS = (
    ("T=120, P=12", 120, 12, "none", 11),
    ("T=72, P=12, month dummies (default spec)", 72, 12, "dummies", 12),
    ("T=43, P=8", 43, 8, "none", 13),
    ("T=31, P=7", 31, 7, "none", 14),
)
ALPHA = 0.05
BURN = 0  # u_0 from the stationary law: no burn-in needed


def _ar1(rng: np.random.Generator, n: int, rho: float) -> np.ndarray:
    e = rng.normal(0.0, 10.0, n)
    u = np.empty(n)
    u[0] = e[0] / math.sqrt(1.0 - rho**2)
    for t in range(1, n):
        u[t] = rho * u[t - 1] + e[t]
    return u


def _design(n: int, post: int, seasonal: str) -> tuple[np.ndarray, pd.DatetimeIndex]:
    idx = pd.date_range("2015-01-01", periods=n, freq="MS", name="date")
    opts = DesignOptions(
        freq="monthly",
        trend=True,
        seasonal=seasonal,
        fourier_order=2,
        step=True,
        slope=False,
        pulse=False,
    )
    X, names, _ = design_arrays(
        idx.month.to_numpy(), idx.day_of_year.to_numpy(), ["ev"], [n - post], opts
    )
    assert names[-1] == "ev|level"
    return X, idx


def _one(X: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float, float]:
    """(estimate, t prewhitened, raw df, rho, t plain Newey-West) of the level change."""
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    u = y - X @ beta
    pw = segmented_cov(X, u, "hac-prewhiten", None, 0.0)
    nw = segmented_cov(X, u, "hac", None)
    return (
        float(beta[-1]),
        float(beta[-1] / math.sqrt(pw.cov[-1, -1])),
        float(pw.df),
        float(pw.rho),
        float(beta[-1] / math.sqrt(nw.cov[-1, -1])),
    )


def _check_against_public(X: np.ndarray, idx: pd.DatetimeIndex, post: int, seasonal: str) -> None:
    """The loop's numbers equal intervention()'s on a few draws (incl. a floored one)."""
    rng = np.random.default_rng(99)
    for rho in (0.0, 0.95, 0.95):
        y = 800 + 0.5 * np.arange(len(idx)) + _ar1(rng, len(idx), rho)
        est, t_pw, df_raw, _, _ = _one(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = intervention(
                pd.Series(y, index=idx, name="x"),
                {"ev": idx[len(idx) - post]},
                pre_periods="all",
                seasonal=seasonal,  # type: ignore[arg-type]
                placebo=False,
                unit="",
            )
        row = res.effects.iloc[0]
        df = max(df_raw, DEFAULT_OPTIONS.df_floor)
        half = stats.t.ppf(1 - ALPHA / 2, df) * abs(est / t_pw)
        np.testing.assert_allclose(row.estimate, est, rtol=1e-10)
        np.testing.assert_allclose(res.model_info.df_satterthwaite, df_raw, rtol=1e-10)
        np.testing.assert_allclose(res.model_info.df_resid, df, rtol=1e-10)
        np.testing.assert_allclose(
            [row.ci_lower, row.ci_upper], [est - half, est + half], rtol=1e-10
        )


def run(n_sims: int) -> dict:
    rows = []
    for label, n, post, seasonal, seed in DESIGNS:
        X, idx = _design(n, post, seasonal)
        _check_against_public(X, idx, post, seasonal)
        for k, rho in enumerate(RHOS):
            t0 = time.perf_counter()
            rng = np.random.default_rng([seed, k])
            trend = 800 + 0.5 * np.arange(n)
            out = np.array([_one(X, trend + _ar1(rng, n, rho)) for _ in range(n_sims)])
            t_pw, df_raw, rho_hat, t_nw = out[:, 1], out[:, 2], out[:, 3], out[:, 4]
            df_def = np.maximum(df_raw, DEFAULT_OPTIONS.df_floor)
            rej_def = np.mean(2 * stats.t.sf(np.abs(t_pw), df_def) <= ALPHA)
            rej_raw = np.mean(2 * stats.t.sf(np.abs(t_pw), df_raw) <= ALPHA)
            rej_nw = np.mean(2 * stats.t.sf(np.abs(t_nw), n - X.shape[1]) <= ALPHA)
            rows.append(
                {
                    "design": label,
                    "T": n,
                    "post": post,
                    "rho": rho,
                    "n_sims": n_sims,
                    "size_default": float(rej_def),
                    "size_no_floor": float(rej_raw),
                    "size_hac": float(rej_nw),
                    "mc_se_at_5pct": math.sqrt(0.05 * 0.95 / n_sims),
                    "share_floored": float(np.mean(df_raw < DEFAULT_OPTIONS.df_floor)),
                    "share_rho_at_bound": float(np.mean(rho_hat >= 0.97 - 1e-9)),
                    "median_df_raw": float(np.median(df_raw)),
                    "seconds": round(time.perf_counter() - t0, 2),
                }
            )
            r = rows[-1]
            print(
                f"{label:<42} rho={rho:<5} size default {r['size_default']:.3f}  "
                f"no floor {r['size_no_floor']:.3f}  hac {r['size_hac']:.3f}  "
                f"floored {r['share_floored']:.2f}  at bound {r['share_rho_at_bound']:.2f}  "
                f"median df {r['median_df_raw']:.1f}  ({r['seconds']} s)",
                flush=True,
            )
    return {"alpha": ALPHA, "df_floor": DEFAULT_OPTIONS.df_floor, "rows": rows}


def main() -> None:
    n_sims = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    out = run(n_sims)
    path = Path(__file__).parent / "results" / "intervention_calibration.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
