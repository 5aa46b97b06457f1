"""Wild bootstrap and permutation test (oilimpact.eventstudy.resampling).

Reference computations: the exact bootstrap distribution (enumerated) for a one-day
window, direct loops over every pseudo-event date, the weights' moments, and small null
simulations. The size under t(4) and GARCH disturbances is measured by
benchmarks/bench_resampling_size.py.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import oilimpact as oi
from oilimpact.errors import EstimationError, InputError
from oilimpact.eventstudy.resampling import (
    MIN_B,
    mammen_weights,
    permutation_test,
    rademacher_weights,
    wild_bootstrap,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _resampling_fixtures import fake_result  # noqa: E402


def _exact_equal_tailed(stat: float, support: np.ndarray, prob: np.ndarray) -> float:
    """p = min(1, 2 min(P(T* <= t), P(T* >= t))) for a discrete T* (B -> infinity)."""
    lo = prob[support <= stat].sum()
    hi = prob[support >= stat].sum()
    return float(min(1.0, 2.0 * min(lo, hi)))


@pytest.fixture(scope="module")
def demo_res():
    from oilimpact.demo import demo_dataset

    prices = demo_dataset().prices[["brent", "wti", "sp500"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return oi.event_study(prices, ["blockade"], market="sp500")


# ---- weights ---------------------------------------------------------------------------
def test_weight_moments():
    rng = np.random.default_rng(11)
    r = rademacher_weights(1_000_000, rng)
    m = mammen_weights(1_000_000, rng)
    # se of the sample mean of v^k is sd(v^k)/1000: <= 0.003 for these laws
    np.testing.assert_allclose([r.mean(), (r**2).mean(), (r**3).mean()], [0, 1, 0], atol=0.005)
    np.testing.assert_allclose([m.mean(), (m**2).mean(), (m**3).mean()], [0, 1, 1], atol=0.01)
    assert set(np.unique(m).round(6)) == {round(-(5**0.5 - 1) / 2, 6), round((5**0.5 + 1) / 2, 6)}


# ---- wild bootstrap --------------------------------------------------------------------
def test_wild_bootstrap_matches_the_enumerated_bootstrap_distribution():
    """One-day window, Rademacher: t* = e_tau v / rms takes the 2n values +/- e_t/rms with
    equal probability; the p-value with B = 19,999 is within 4 Monte Carlo s.e. of the
    exact bootstrap p-value."""
    rng = np.random.default_rng(5)
    e = rng.standard_t(4, 240) * 0.01
    e -= e.mean()
    res = fake_result({("ev", "a"): e}, {("ev", "a"): 0.024}, window=(0, 0))
    out = wild_bootstrap(res, window=(0, 0), B=19_999, seed=3)
    row = out.iloc[0]
    rms = np.sqrt(np.mean(e * e))
    support = np.concatenate([e, -e]) / rms
    prob = np.full(support.size, 1.0 / support.size)
    exact = _exact_equal_tailed(float(row["statistic"]), support, prob)
    assert 0.005 < exact < 0.3  # an informative p-value, not an edge case
    assert abs(row["pvalue"] - exact) <= 4 * np.sqrt(exact * (1 - exact) / 19_999) + 1 / 20_000
    np.testing.assert_allclose(row["mc_se"], np.sqrt(row["pvalue"] * (1 - row["pvalue"]) / 19_999))


def test_mammen_matches_the_enumerated_bootstrap_distribution():
    rng = np.random.default_rng(6)
    e = rng.chisquare(3, 200) * 0.004
    e -= e.mean()  # skewed residuals: Mammen keeps the skew, the p-value is not symmetric
    res = fake_result({("ev", "a"): e}, {("ev", "a"): -0.018}, window=(0, 0))
    row = wild_bootstrap(res, window=(0, 0), B=19_999, weights="mammen", seed=4).iloc[0]
    rms = np.sqrt(np.mean(e * e))
    lo, hi = -(5**0.5 - 1) / 2, (5**0.5 + 1) / 2
    p_lo = (5**0.5 + 1) / (2 * 5**0.5)
    support = np.concatenate([e * lo, e * hi]) / rms
    prob = np.concatenate([np.full(e.size, p_lo), np.full(e.size, 1 - p_lo)]) / e.size
    exact = _exact_equal_tailed(float(row["statistic"]), support, prob)
    assert 0.005 < exact < 0.5
    assert abs(row["pvalue"] - exact) <= 4 * np.sqrt(exact * (1 - exact) / 19_999) + 1 / 20_000


def test_pooled_bootstrap_shares_dates_and_weights_across_same_date_pairs():
    """Two identical series on one date: with shared dates and weights the pooled
    bootstrap statistic is the pair's, so both p-values estimate the same number; drawing
    the pairs independently would make the pooled reference narrower by sqrt(2)."""
    rng = np.random.default_rng(8)
    e = rng.standard_normal(240) * 0.01
    e -= e.mean()
    res = fake_result(
        {("ev", "a"): e, ("ev", "b"): e.copy()}, {("ev", "a"): 0.03, ("ev", "b"): 0.03}
    )
    out = wild_bootstrap(res, window=(0, 1), B=9_999, seed=1)
    pair, pooled = out.iloc[0], out.iloc[-1]
    assert pooled["scope"] == "pooled" and pooled["n_pairs"] == 2 and pooled["n_clusters"] == 1
    np.testing.assert_allclose(pooled["estimate"], 0.03)
    np.testing.assert_allclose(pooled["statistic"], pair["statistic"], rtol=1e-12)
    se = np.sqrt(2 * pair["pvalue"] * (1 - pair["pvalue"]) / 9_999)
    assert abs(pooled["pvalue"] - pair["pvalue"]) <= 4 * se
    # the wrong (independent) scheme: the mean of two independent draws has sd 1/sqrt(2)
    # of the pair's; its p-value would be far smaller than the pair's
    assert pair["pvalue"] > 0.02


def test_pairs_on_different_dates_are_separate_clusters():
    rng = np.random.default_rng(9)
    resid = {
        ("e1", "a"): rng.standard_normal(240) * 0.01,
        ("e2", "a"): rng.standard_normal(240) * 0.01,
    }
    res = fake_result(resid, {k: 0.0 for k in resid},
                      day0={("e1", "a"): "2025-01-06", ("e2", "a"): "2025-03-03"})  # fmt: skip
    out = wild_bootstrap(res, window=(0, 1), B=199, seed=2)
    assert out.iloc[-1]["n_clusters"] == 2
    assert out.iloc[-1]["event"] == "e1,e2"


def test_wild_bootstrap_seed_and_engine_statistic(demo_res):
    a = wild_bootstrap(demo_res, window=(0, 1), B=199, seed=42)
    b = wild_bootstrap(demo_res, window=(0, 1), B=199, seed=42)
    pd.testing.assert_frame_equal(a, b)
    car = demo_res.car[(demo_res.car["start"] == 0) & (demo_res.car["end"] == 1)]
    pairs = a[a["scope"] == "pair"]
    np.testing.assert_allclose(pairs["statistic"].to_numpy(), car["tstat"].to_numpy())
    np.testing.assert_allclose(pairs["estimate"].to_numpy(), car["car"].to_numpy())
    assert list(a["scope"]) == ["pair", "pair", "pooled"]
    assert (a["n_dates"] == 198).all()


def test_errors_name_what_was_wrong(demo_res):
    with pytest.raises(InputError, match=f"at least {MIN_B}"):
        wild_bootstrap(demo_res, B=50)
    with pytest.raises(InputError, match=r"window \[\+0,\+3\] is not in the result .*\[\+0,\+1\]"):
        wild_bootstrap(demo_res, window=(0, 3))
    with pytest.raises(InputError, match="rademacher"):
        wild_bootstrap(demo_res, weights="webb")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="at least"):
        permutation_test(demo_res, n_perm=10)
    with pytest.raises(InputError, match="pair of relative days"):
        permutation_test(demo_res, window=3)  # type: ignore[arg-type]
    short = fake_result({("ev", "a"): np.ones(12)}, {("ev", "a"): 0.1})
    with pytest.raises(EstimationError, match="at least 20 estimation residuals"):
        wild_bootstrap(short, B=99)


# ---- permutation -----------------------------------------------------------------------
def test_permutation_exhaustive_matches_a_loop():
    rng = np.random.default_rng(12)
    n, k = 240, 2
    e1, e2 = rng.standard_t(5, n) * 0.01, rng.standard_t(5, n) * 0.01
    res = fake_result({("ev", "a"): e1, ("ev", "b"): e2}, {("ev", "a"): 0.025, ("ev", "b"): -0.01})
    out = permutation_test(res, window=(0, 1))
    scale = np.sqrt(n / (n - k))
    c = 2 * (1 + 1 / n)
    xs = []
    for i, (e, car) in enumerate(((e1, 0.025), (e2, -0.01))):
        sums = np.array([e[u] + e[u + 1] for u in range(n - 1)]) * scale
        x = car * np.sqrt(2 / c)
        xs.append(x)
        lo = (1 + sum(s <= x for s in sums)) / n
        hi = (1 + sum(s >= x for s in sums)) / n
        np.testing.assert_allclose(out.iloc[i]["pvalue"], min(1, 2 * min(lo, hi)), rtol=1e-12)
        assert (
            out.iloc[i]["exhaustive"]
            and out.iloc[i]["mc_se"] == 0
            and out.iloc[i]["n_perm"] == n - 1
        )
    pooled_sums = (
        np.array([e1[u] + e1[u + 1] + e2[u] + e2[u + 1] for u in range(n - 1)]) * scale / 2
    )
    x = np.mean(xs)
    lo = (1 + np.sum(pooled_sums <= x)) / n
    hi = (1 + np.sum(pooled_sums >= x)) / n
    np.testing.assert_allclose(out.iloc[-1]["pvalue"], min(1, 2 * min(lo, hi)), rtol=1e-12)


def test_permutation_sampled_dates_give_mc_error():
    rng = np.random.default_rng(13)
    res = fake_result({("ev", "a"): rng.standard_normal(240) * 0.01}, {("ev", "a"): 0.02})
    full = permutation_test(res, window=(0, 1)).iloc[0]
    part = permutation_test(res, window=(0, 1), n_perm=99, seed=1).iloc[0]
    assert not part["exhaustive"] and part["n_perm"] == 99
    np.testing.assert_allclose(part["mc_se"], np.sqrt(part["pvalue"] * (1 - part["pvalue"]) / 99))
    assert abs(part["pvalue"] - full["pvalue"]) <= 4 * part["mc_se"] + 0.02


# ---- size under the null (small simulation; the full table is in benchmarks/) -----------
def test_null_rejection_rates_are_near_five_percent():
    """400 null single-pair studies with t(4) disturbances: each test rejects at 5% within
    [2%, 8.5%] (Monte Carlo s.e. 1.1 points: about -3 and +3 s.e.)."""
    rng = np.random.default_rng(2026)
    n_studies, n = 400, 240
    rej = {"rademacher": 0, "mammen": 0, "permutation": 0}
    for s in range(n_studies):
        z = rng.standard_t(4, n + 2) / np.sqrt(2) * 0.015
        e = z[:n] - z[:n].mean()  # constant-mean residuals
        car = z[n:].sum() - 2 * z[:n].mean()
        res = fake_result({("ev", "a"): e}, {("ev", "a"): car}, n_params=1)
        for w in ("rademacher", "mammen"):
            rej[w] += wild_bootstrap(res, B=199, weights=w, seed=s).iloc[0]["pvalue"] <= 0.05
        rej["permutation"] += permutation_test(res).iloc[0]["pvalue"] <= 0.05
    for name, count in rej.items():
        assert 0.02 <= count / n_studies <= 0.085, (name, count / n_studies)


def test_an_injected_shock_is_detected(demo_res):
    """The demo's blockade day-0 AR of Brent (7.1%, four residual sd) is beyond almost
    every resampled value."""
    wb = wild_bootstrap(demo_res, window=(0, 0), B=999, seed=1)
    pt = permutation_test(demo_res, window=(0, 0))
    assert wb.iloc[0]["series"] == "brent" and wb.iloc[0]["pvalue"] < 0.02
    assert pt.iloc[0]["pvalue"] < 0.05
