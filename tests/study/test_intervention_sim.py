"""Simulation checks of oilimpact.study.intervention (segmented OLS, seeded).

* Known level shift: the 95% CI covers the truth at about the nominal rate.
* No effect: the placebo p-value is uniform (KS test) and rejects about alpha.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from oilimpact.study.intervention import intervention

N, POST = 120, 12
IDX = pd.date_range("2015-01-01", periods=N, freq="MS", name="date")
EVENT = {"ev": IDX[N - POST]}


def _sim(seed: int, shift: float, phi: float) -> pd.Series:
    rng = np.random.default_rng(seed)
    e = rng.normal(0, 10, N)
    u = np.empty(N)
    u[0] = e[0] / np.sqrt(1 - phi**2)
    for t in range(1, N):
        u[t] = phi * u[t - 1] + e[t]
    y = 800 + 0.5 * np.arange(N) + u + shift * (np.arange(N) >= N - POST)
    return pd.Series(y, index=IDX, name="x")


def _binom_band(p: float, n: int, z: float = 3.0) -> tuple[float, float]:
    sd = np.sqrt(p * (1 - p) / n)
    return p - z * sd, p + z * sd


@pytest.mark.slow
def test_level_ci_coverage_iid():
    reps = 300
    hits = 0
    for r in range(reps):
        res = intervention(_sim(r, -50.0, 0.0), EVENT, slope=False, placebo=False, seasonal="none")
        row = res.effects.iloc[0]
        hits += bool(row.ci_lower <= -50.0 <= row.ci_upper)
    # Newey-West intervals under-cover when the post window is short (12 of 120
    # periods): measured 0.89 (iid) and 0.86 (AR(1) 0.3) over 400 seeds. The band below
    # pins that behaviour (and catches a broken estimator); the placebo p-value is the
    # calibrated test (next test).
    assert 0.84 <= hits / reps <= 0.99, hits / reps


@pytest.mark.slow
def test_placebo_pvalue_uniform_under_no_effect():
    reps = 200
    pvals = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(reps):
            res = intervention(_sim(10_000 + r, 0.0, 0.3), EVENT, slope=False, seasonal="none")
            pvals.append(res.effects.iloc[0].placebo_pvalue)
    p = np.asarray(pvals)
    assert stats.kstest(p, "uniform").pvalue > 0.01
    lo, hi = _binom_band(0.05, reps)
    assert max(lo, 0.0) <= np.mean(p <= 0.05) <= hi


@pytest.mark.slow
def test_sarimax_recovers_shift_on_a_few_series():
    for r in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = intervention(
                _sim(500 + r, -50.0, 0.3).iloc[60:],
                EVENT,
                model="sarimax",
                slope=False,
                seasonal="none",
                max_order=(1, 0, 1),
                placebo=False,
            )
        row = res.effects.iloc[0]
        assert row.ci_lower < -50.0 < row.ci_upper
