"""Abnormal-volatility and implied-volatility jump tests against loops and pandas."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from oilimpact.errors import EstimationError
from oilimpact.eventstudy.volatility import (
    abnormal_volatility,
    implied_vol_jump,
    rank_pvalue,
)

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


@dataclass
class FakePanel:
    """The attributes abnormal_volatility reads, with known standardised returns."""

    z: np.ndarray
    est_z: np.ndarray
    event_days: np.ndarray
    ids: pd.MultiIndex

    def window_index(self, window):
        return np.flatnonzero((self.event_days >= window[0]) & (self.event_days <= window[1]))


def _fake(rng, n=1, l1=240, l2=6):
    ids = pd.MultiIndex.from_tuples([(f"e{i}", f"a{i}") for i in range(n)])
    return FakePanel(rng.standard_normal((n, l2)), rng.standard_normal((n, l1)),
                     np.arange(l2), ids)  # fmt: skip


def test_rank_pvalue_definitions():
    ref = np.array([1.0, 2.0, 3.0, np.nan, 4.0])
    assert rank_pvalue(ref, 3.5) == (1 + 1) / 5
    assert rank_pvalue(ref, 0.0) == 1.0
    assert rank_pvalue(ref, 3.0, "two-sided") == min(1, 2 * min(4 / 5, 3 / 5))
    assert np.isnan(rank_pvalue(ref, np.nan))
    assert np.isnan(rank_pvalue(np.array([np.nan]), 1.0))


@pytest.mark.parametrize("alternative", ["greater", "two-sided"])
def test_abnormal_volatility_against_a_loop(alternative):
    rng = np.random.default_rng(5)
    panel = _fake(rng, n=2)
    panel.est_z[0, [3, 50, 51]] = np.nan  # unused days are skipped, not bridged by zeros
    panel.z[1, 4] = np.nan
    windows = [(0, 0), (0, 1), (0, 5)]
    out = abnormal_volatility(panel, windows, alternative)
    k = 0
    for i in range(2):
        e = [v for v in panel.est_z[i] if np.isfinite(v)]
        for lo, hi in windows:
            length = hi - lo + 1
            avr = sum(panel.z[i, d] ** 2 for d in range(lo, hi + 1)) / length
            ref = [sum(e[u + j] ** 2 for j in range(length)) / length
                   for u in range(len(e) - length + 1)]  # fmt: skip
            row = out.iloc[k]
            assert row["n_ref"] == len(ref)
            if np.isnan(avr):
                assert np.isnan(row["avr"]) and np.isnan(row["pvalue"])
            else:
                hi_p = (1 + sum(r >= avr for r in ref)) / (len(ref) + 1)
                lo_p = (1 + sum(r <= avr for r in ref)) / (len(ref) + 1)
                want = hi_p if alternative == "greater" else min(1, 2 * min(hi_p, lo_p))
                assert_allclose(row["avr"], avr, rtol=1e-12)
                assert_allclose(row["pvalue"], want, rtol=1e-12)
                sf = stats.chi2.sf(length * avr, length)
                cdf = stats.chi2.cdf(length * avr, length)
                chi2 = sf if alternative == "greater" else min(1, 2 * min(sf, cdf))
                assert_allclose(row["chi2_pvalue"], chi2, rtol=1e-12)
            k += 1


def test_rank_test_size_with_exchangeable_single_days():
    """L = 1 with i.i.d. draws: exchangeable, so the rank test has its nominal size."""
    rng = np.random.default_rng(2024)
    reps = 4000
    z = rng.standard_t(4, (reps, 1))
    est = rng.standard_t(4, (reps, 239))
    panel = FakePanel(z, est, np.array([0]),
                      pd.MultiIndex.from_arrays([np.arange(reps), np.arange(reps)]))  # fmt: skip
    out = abnormal_volatility(panel, [(0, 0)])
    rate = float((out["pvalue"] <= 0.05).mean())
    # attainable size 12/240 = 5%; MC se 0.34 points
    assert 0.04 <= rate <= 0.06
    # the chi-square p-value assumes normality and over-rejects with t(4) draws
    assert float((out["chi2_pvalue"] <= 0.05).mean()) > 0.07


def test_abnormal_volatility_finds_a_variance_jump():
    rng = np.random.default_rng(9)
    panel = _fake(rng)
    panel.z[0] *= 3  # event-window variance nine times the forecast
    row = abnormal_volatility(panel, [(0, 5)]).iloc[0]
    assert row["avr"] > 4 and row["pvalue"] == row["min_pvalue"]


def test_abnormal_volatility_rejects_bad_alternative():
    with pytest.raises(ValueError, match="alternative"):
        abnormal_volatility(_fake(np.random.default_rng(0)), [(0, 0)], "less")


def _vix(rng, n=320):
    idx = pd.bdate_range("2024-01-01", periods=n, name="date")
    return pd.Series(16 * np.exp(np.cumsum(rng.normal(0, 0.06, n))), idx, name="vix")


@pytest.mark.parametrize("measure", ["log", "diff"])
def test_implied_vol_jump_against_pandas(measure):
    rng = np.random.default_rng(4)
    vix = _vix(rng)
    vix.iloc[[40, 41]] = np.nan  # missing rows: the change spans them
    day0 = vix.index[290]
    res = implied_vol_jump(vix, day0, window=(0, 2), measure=measure, alternative="two-sided")
    s = vix.dropna()
    v = np.log(s) if measure == "log" else s
    d = v.diff()
    pos0 = s.index.get_loc(day0)
    stat = v.iloc[pos0 + 2] - v.iloc[pos0 - 1]
    est = d.iloc[pos0 - 250 : pos0 - 10]
    ref = est.rolling(3).sum().dropna().to_numpy()
    assert_allclose(res.log_change, stat, rtol=1e-12)
    assert res.n_ref == ref.size
    p_hi = (1 + (ref >= stat).sum()) / (ref.size + 1)
    p_lo = (1 + (ref <= stat).sum()) / (ref.size + 1)
    assert_allclose(res.pvalue, min(1, 2 * min(p_hi, p_lo)), rtol=1e-12)
    z = (stat - 3 * est.mean()) / (est.std() * np.sqrt(3))
    assert_allclose(res.zstat, z, rtol=1e-10)
    assert_allclose(res.z_pvalue, 2 * stats.norm.sf(abs(z)), rtol=1e-10)
    assert_allclose(res.change, s.iloc[pos0 + 2] - s.iloc[pos0 - 1], rtol=1e-12)
    assert "Implied-volatility jump: vix" in str(res)


def test_implied_vol_jump_errors():
    rng = np.random.default_rng(4)
    vix = _vix(rng, n=100)
    with pytest.raises(EstimationError, match="40 reference changes"):
        implied_vol_jump(vix, vix.index[45])
    with pytest.raises(EstimationError, match="outside the data"):
        implied_vol_jump(vix, vix.index[-1], window=(0, 1))
    with pytest.raises(EstimationError, match="after the last session"):
        implied_vol_jump(vix, "2030-01-01")
    with pytest.raises(ValueError, match="measure"):
        implied_vol_jump(vix, vix.index[60], measure="pct")


@pytest.mark.skipif(not (REAL / "cboe_vix_daily.csv").exists(), reason=f"real data absent: {REAL}")
def test_vix_on_the_blockade_real_data():
    from oilimpact.events import load_catalog

    vix = pd.read_csv(REAL / "cboe_vix_daily.csv", parse_dates=["DATE"],
                      index_col="DATE")["CLOSE"].rename("vix")  # fmt: skip
    res = implied_vol_jump(vix, load_catalog()["blockade"], window=(0, 1))
    # announced 18:00 ET after the 16:15 VIX close of 2025-12-16: day 0 is the 17th
    assert res.day0 == pd.Timestamp("2025-12-17")
    s = vix.dropna()
    pos0 = s.index.get_loc(res.day0)
    assert_allclose(res.level_before, s.iloc[pos0 - 1])
    assert_allclose(res.log_change, np.log(s.iloc[pos0 + 1] / s.iloc[pos0 - 1]), rtol=1e-12)
    assert res.n_ref == 239 and 0 < res.pvalue <= 1
