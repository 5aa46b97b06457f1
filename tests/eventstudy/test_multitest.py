"""q-values: statsmodels, a hand computation, and the families of the result tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from oilimpact.eventstudy import event_study
from oilimpact.eventstudy.multitest import adjust_pvalues


def _bh_by_hand(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg by its definition: q_(i) = min_{j >= i} m p_(j) / j."""
    m = len(p)
    order = np.argsort(p)
    q = np.empty(m)
    for rank, i in enumerate(order, start=1):
        q[i] = min(min(1.0, m * p[j] / r) for r, j in enumerate(order, start=1) if r >= rank)
    return q


def _holm_by_hand(p: np.ndarray) -> np.ndarray:
    """Holm: p~_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))."""
    m = len(p)
    order = np.argsort(p)
    out = np.empty(m)
    for rank, i in enumerate(order, start=1):
        out[i] = max(min(1.0, (m - r + 1) * p[j]) for r, j in enumerate(order, start=1)
                     if r <= rank)  # fmt: skip
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_statsmodels_and_by_hand(seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 1, 40), rng.uniform(0, 0.01, 5)])
    np.testing.assert_allclose(adjust_pvalues(p), _bh_by_hand(p), rtol=1e-12)
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), _holm_by_hand(p), rtol=1e-12)
    np.testing.assert_allclose(adjust_pvalues(p), multipletests(p, method="fdr_bh")[1])
    np.testing.assert_array_equal(adjust_pvalues(p, "none"), p)
    with_nan = np.insert(p, [3, 10], np.nan)  # NaN: not in the family
    got = adjust_pvalues(with_nan)
    assert np.isnan(got[[3, 11]]).all()
    np.testing.assert_allclose(got[~np.isnan(got)], _bh_by_hand(p), rtol=1e-12)
    with pytest.raises(ValueError, match="multitest must be one of"):
        adjust_pvalues(p, "bonferoni")  # type: ignore[arg-type]


def _prices(seed: int = 5) -> pd.DataFrame:
    idx = pd.bdate_range("2024-06-03", "2026-02-27")
    rng = np.random.default_rng(seed)
    m = rng.normal(0, 0.01, len(idx))
    out = {"mkt": 4000 * np.exp(np.cumsum(m))}
    for j in range(3):
        out[f"s{j}"] = 50 * np.exp(np.cumsum(0.8 * m + rng.normal(0, 0.015, len(idx))))
    return pd.DataFrame(out, index=idx)


@pytest.mark.parametrize("method", ["fdr_bh", "holm"])
def test_result_families(method):
    ev = {"a": "2025-10-01", "b": "2025-12-17"}
    res = event_study(_prices(), ev, market="mkt", catalog={}, multitest=method)
    assert res.spec.multitest == method
    car, ab = res.car, res.abnormal
    assert len(car) == 2 * 3 * 5
    np.testing.assert_allclose(car["qvalue"], multipletests(car["pvalue"], method=method)[1])
    np.testing.assert_allclose(car["sq_qvalue"],
                               multipletests(car["sq_pvalue"], method=method)[1])  # fmt: skip
    np.testing.assert_allclose(ab["qvalue"], multipletests(ab["pvalue"], method=method)[1])
    assert (car["qvalue"] >= car["pvalue"] - 1e-15).all()
    assert "q(t)" in res.summary() and f"{len(car)} CAR t tests" in res.summary()
    none = event_study(_prices(), ev, market="mkt", catalog={}, multitest="none")
    np.testing.assert_array_equal(none.car["qvalue"], none.car["pvalue"])


@pytest.mark.parametrize("method", ["fdr_bh", "holm"])
@pytest.mark.parametrize("kind", ["uniform", "ties", "small", "one"])
def test_in_place_adjustment_is_statsmodels_bit_for_bit(method, kind):
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(11)
    p = {
        "uniform": rng.random(5_000),
        "ties": np.round(rng.random(5_000), 2),  # many equal p-values
        "small": rng.random(5_000) ** 12,  # q-values below and at the cap of 1
        "one": np.array([0.2]),
    }[kind]
    p_nan = p.copy()
    p_nan[::7] = np.nan
    for family in (p, p_nan):
        ok = ~np.isnan(family)
        expected = np.full(family.shape, np.nan)
        expected[ok] = multipletests(family[ok], method=method)[1]
        np.testing.assert_array_equal(adjust_pvalues(family, method), expected)
