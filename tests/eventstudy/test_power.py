"""Power and minimum detectable effect (oilimpact.eventstudy.power).

Reference computations: the noncentral-t power and (z_{1-a/2} + z_power) se closed forms
under normal disturbances, a direct count over the simulated studies, and a brute-force
Monte Carlo of the engine's t test.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import oilimpact as oi
from oilimpact.errors import InputError
from oilimpact.eventstudy.power import (
    _power_at,
    _simulate,
    mde_normal,
    mde_sentence,
    minimum_detectable_effect,
    power_curve,
    power_normal,
)
from oilimpact.eventstudy.resampling import _pairs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _resampling_fixtures import fake_result  # noqa: E402


@pytest.fixture(scope="module")
def demo_res():
    from oilimpact.demo import demo_dataset

    prices = demo_dataset().prices[["brent", "wti", "sp500"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return oi.event_study(prices, ["blockade"], market="sp500")


def _normal_result(n=240, window=(0, 0), seed=1, sd=0.01):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n) * sd
    e -= e.mean()
    return fake_result({("ev", "a"): e}, {("ev", "a"): 0.0}, window=window, n_params=1)


def test_closed_forms_agree():
    """Noncentral t against (z_{0.975} + z_{0.8}) se: within 0.1% at dof 100,000, and the
    power at that delta is 80% (normal approximation, dof large)."""
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    np.testing.assert_allclose(mde_normal(0.01, 100_000), z * 0.01, rtol=1e-3)
    np.testing.assert_allclose(float(power_normal(z * 0.01, 0.01, 100_000)), 0.8, atol=1e-3)
    # at dof 238 the t quantile is larger: the MDE is about 0.8% above the normal one
    assert 1.0 < mde_normal(0.01, 238) / (z * 0.01) < 1.02
    np.testing.assert_allclose(float(power_normal(0.0, 0.01, 238)), 0.05, atol=1e-12)


@pytest.mark.parametrize("window", [(0, 0), (0, 1)])
def test_simulated_mde_matches_the_normal_closed_form(window):
    """Normal residuals: the simulated MDE is within 4% of the noncentral-t value (Monte
    Carlo error of the MDE with 20,000 studies is about 0.5%; the rest is the finite
    residual sample the simulation resamples)."""
    res = _normal_result(window=window, seed=3)
    out = minimum_detectable_effect(res, window=window, n_sim=20_000, seed=7).iloc[0]
    np.testing.assert_allclose(out["mde"], out["mde_normal"], rtol=0.04)
    np.testing.assert_allclose(out["mde_up"], out["mde_down"], rtol=0.04)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    np.testing.assert_allclose(out["mde"], z * out["se"], rtol=0.05)


def test_power_at_counts_the_simulated_rejections():
    """The sorted-threshold power equals a direct count of |t| > q over the draws."""
    res = _normal_result(window=(0, 1), seed=4)
    p = _pairs(res, (0, 1))[0]
    noise, se_star = _simulate(p, 2, 3000, np.random.default_rng(0))
    q = stats.t.ppf(0.975, 239)
    deltas = np.linspace(-0.05, 0.05, 23)
    direct = [np.mean(np.abs(noise + d) / se_star > q) for d in deltas]
    np.testing.assert_allclose(_power_at(deltas, noise, se_star, q), direct, atol=1e-12)


def test_mde_reaches_the_target_power_and_no_less():
    res = _normal_result(seed=5)
    m = minimum_detectable_effect(res, n_sim=5000, seed=3).iloc[0]
    pc = power_curve(res, deltas=[m["mde_up"], m["mde_up"] * 0.98], n_sim=5000, seed=3)
    assert pc["power"].iloc[0] >= 0.8 > pc["power"].iloc[1]


def test_simulation_reproduces_a_brute_force_engine_monte_carlo():
    """Independent check of the whole recipe: fresh normal studies through the engine's t
    formula (constant mean, L1 = 240) with the effect at the simulated MDE reject about
    80% of the time (2,000 studies, s.e. 0.9 points; band 76%-84%)."""
    res = _normal_result(seed=6, sd=0.015)
    mde = minimum_detectable_effect(res, n_sim=20_000, seed=1).iloc[0]["mde"]
    rng = np.random.default_rng(99)
    n, reps = 240, 2000
    y = rng.standard_normal((reps, n + 1)) * 0.015
    est = y[:, :n]
    s = est.std(axis=1, ddof=1)
    ar = y[:, n] + mde - est.mean(axis=1)
    t = ar / (s * np.sqrt(1 + 1 / n))
    rate = np.mean(np.abs(t) > stats.t.ppf(0.975, n - 1))
    assert 0.76 <= rate <= 0.84, rate


def test_fat_tails_change_the_mde_but_the_size_stays():
    """t(3) residuals: the power curve at zero effect is near 5% (the t test's size on
    these residuals) and the MDE differs from the normal formula."""
    rng = np.random.default_rng(8)
    e = rng.standard_t(3, 240) * 0.01
    res = fake_result({("ev", "a"): e - e.mean()}, {("ev", "a"): 0.0}, window=(0, 0), n_params=1)
    pc = power_curve(res, deltas=[0.0], n_sim=20_000, seed=2)
    assert 0.03 <= pc["power"].iloc[0] <= 0.07
    m = minimum_detectable_effect(res, n_sim=20_000, seed=2).iloc[0]
    assert m["mde"] != pytest.approx(m["mde_normal"], rel=1e-3)


def test_demo_study_rows_and_sentence(demo_res):
    m = minimum_detectable_effect(demo_res, window=(0, 0), seed=11, n_sim=2000)
    assert list(m["series"]) == ["brent", "wti"]
    assert ((m["mde"] / m["se"]).between(2.3, 3.5)).all()
    car = demo_res.car[(demo_res.car["start"] == 0) & (demo_res.car["end"] == 0)]
    np.testing.assert_allclose(m["se"].to_numpy(), car["se"].to_numpy())
    brent = m.iloc[0]
    assert bool(brent["detected"]) == (abs(brent["car"]) >= brent["mde"])
    assert brent["sentence"] == mde_sentence(brent["mde"], 0, 0)
    assert brent["sentence"].startswith(f"an effect under {100 * brent['mde']:.1f}% on day 0 ")


def test_seed_is_per_pair(demo_res):
    """With a seed, a pair's MDE does not depend on the other pairs of the study."""
    both = minimum_detectable_effect(demo_res, seed=5, n_sim=500)
    one = minimum_detectable_effect(demo_res, seed=5, n_sim=500, series="wti")
    assert one.iloc[0]["mde"] == both.iloc[1]["mde"]


def test_sentences():
    assert mde_sentence(0.0005, 1, 1) == (
        "an effect under 0.05% on day +1 could not have been told from noise "
        "(two-sided 5% t test, 80% power)"
    )
    assert "over days -1 to +1" in mde_sentence(0.02, -1, 1)


def test_errors(demo_res):
    with pytest.raises(InputError, match="alpha"):
        minimum_detectable_effect(demo_res, alpha=1.5)
    with pytest.raises(InputError, match="power"):
        minimum_detectable_effect(demo_res, power=0.01)
    with pytest.raises(InputError, match="n_sim"):
        minimum_detectable_effect(demo_res, n_sim=10)
    with pytest.raises(InputError, match="not in the result"):
        power_curve(demo_res, window=(0, 4))
    with pytest.raises(InputError, match="series='gold'"):
        minimum_detectable_effect(demo_res, series="gold")


def test_names_select_pairs_without_changing_their_draws(demo_res):
    """A list of series (or events) selects pairs; each keeps its own (seed, pair) draws."""
    both = minimum_detectable_effect(demo_res, seed=5, n_sim=500)
    some = minimum_detectable_effect(
        demo_res, seed=5, n_sim=500, event=["blockade"], series=["wti", "brent"]
    )
    assert list(some["series"]) == ["brent", "wti"]
    np.testing.assert_array_equal(some["mde"].to_numpy(), both["mde"].to_numpy())
    with pytest.raises(InputError, match="gold"):
        minimum_detectable_effect(demo_res, series=["gold", "silver"])
