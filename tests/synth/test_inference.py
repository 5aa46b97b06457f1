"""Placebo, leave-one-out, in-time and conformal inference against explicit loops."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from _synthdata import factor_panel
from numpy.testing import assert_allclose
from pandas.testing import assert_frame_equal

from oilimpact.synth import synthetic_control
from oilimpact.synth.conformal import conformal_pvalue
from oilimpact.synth.weights import solve_w

EVENT = "2022-09-01"  # position 32 of the 40-month panel


def _fit(panel, treated, donors, event=EVENT):
    return synthetic_control(panel, treated=treated, event=event, donors=donors, placebo=False,
                             loo="none", in_time=None, conformal=False)


def test_placebo_in_space_equals_a_loop_of_fits(panel):
    res = synthetic_control(panel, treated="tr", event=EVENT, loo="none", in_time=None,
                            conformal=False, mspe_cutoff=5.0)
    donors = [c for c in panel.columns if c != "tr"]
    ratios, pres = {}, {}
    for d in donors:
        r = _fit(panel, d, [x for x in donors if x != d])
        ratios[d], pres[d] = r.post_rmspe / r.pre_rmspe, r.pre_rmspe
        assert_allclose(res.placebo_gaps[d].to_numpy(), r.path["gap"].to_numpy(), atol=1e-10)
    table = res.placebos.set_index("unit")
    assert_allclose(table.loc[donors, "ratio"], pd.Series(ratios)[donors], rtol=1e-10)
    treated_ratio = res.post_rmspe / res.pre_rmspe
    kept = [d for d in donors if pres[d] ** 2 <= 5.0 * res.pre_rmspe**2]
    assert list(table.index[~table["excluded"]][1:]) == kept
    by_hand = (1 + sum(ratios[d] >= treated_ratio for d in kept)) / (1 + len(kept))
    assert res.placebo_pvalue == pytest.approx(by_hand)
    assert res.placebo_pvalue_all == pytest.approx(
        (1 + sum(ratios[d] >= treated_ratio for d in donors)) / (1 + len(donors)))


def test_leave_one_out_equals_a_loop(panel):
    res = synthetic_control(panel, treated="tr", event=EVENT, placebo=False, loo="positive",
                            in_time=None, conformal=False)
    positive = list(res.params.index[res.params > 1e-8])
    assert list(res.leave_one_out["dropped"]) == positive
    for _, row in res.leave_one_out.iterrows():
        r = _fit(panel, "tr", [d for d in res.params.index if d != row["dropped"]])
        assert row["effect"] == pytest.approx(r.effect, abs=1e-10)
        assert row["pre_rmspe"] == pytest.approx(r.pre_rmspe, abs=1e-10)


def test_in_time_placebo_equals_a_fit_on_the_truncated_panel(panel):
    res = synthetic_control(panel, treated="tr", event=EVENT, placebo=False, loo="none",
                            in_time=["2021-06-01"], conformal=False)
    row = res.in_time.iloc[0]
    truncated = panel.loc[: "2022-08-01"]
    r = _fit(truncated, "tr", None, event="2021-06-01")
    assert row["effect"] == pytest.approx(r.effect, abs=1e-10)
    assert row["ratio"] == pytest.approx(r.post_rmspe / r.pre_rmspe, rel=1e-10)
    # a catalog event outside the pre-period is refused with the dates named
    with pytest.raises(ValueError, match="in-time placebo blockade"):
        synthetic_control(panel, treated="tr", event=EVENT, in_time=["blockade"], placebo=False,
                          loo="none", conformal=False)


@pytest.mark.parametrize("make", [lambda: ThreadPoolExecutor(2), lambda: ProcessPoolExecutor(2)])
def test_executor_gives_identical_results(make):
    panel = factor_panel(seed=4, T=30, J=6, event_pos=24)
    kw = dict(treated="tr", event="2021-12-01", in_time="auto", conformal=False)
    serial = synthetic_control(panel, **kw)
    with make() as ex:
        par = synthetic_control(panel, executor=ex, **kw)
    assert_frame_equal(serial.placebos, par.placebos, check_exact=True)
    assert_frame_equal(serial.placebo_gaps, par.placebo_gaps, check_exact=True)
    assert_frame_equal(serial.leave_one_out, par.leave_one_out, check_exact=True)
    assert_frame_equal(serial.in_time, par.in_time, check_exact=True)


def _pvalue_loop(Y, n_pre, theta):
    """CWZ p-value written from the paper: refit, then every cyclic shift by np.roll."""
    y = Y[:, 0].copy()
    y[n_pre:] -= theta
    u = y - Y[:, 1:] @ solve_w(Y[:, 1:], y)
    T = len(u)
    stat = lambda e: np.sum(np.abs(e[n_pre:])) / np.sqrt(T - n_pre)  # noqa: E731
    s0 = stat(u)
    return np.mean([stat(np.roll(u, -j)) >= s0 - 1e-12 for j in range(T)])


@pytest.mark.parametrize("seed", range(5))
def test_conformal_pvalue_equals_the_explicit_permutation_loop(seed):
    panel = factor_panel(seed=seed, effect=1.0)
    Y = panel[["tr"] + [f"d{i}" for i in range(10)]].to_numpy()
    for theta in (0.0, 0.5, 1.0, np.linspace(0.8, 1.2, 8)):
        assert conformal_pvalue(Y, 32, theta) == pytest.approx(_pvalue_loop(Y, 32, theta))


def test_conformal_intervals_are_test_inversions(panel):
    res = synthetic_control(panel, treated="tr", event=EVENT, placebo=False, loo="none", in_time=None)
    Y = panel[list(res.path.columns[:0]) + ["tr"] + list(res.params.index)].to_numpy()
    conf = res.conformal
    lo, hi = conf.loc["average", ["ci_lower", "ci_upper"]]
    assert lo < -3.0 < hi  # the injected effect is covered
    assert conf.loc["average", "pvalue"] == pytest.approx(_pvalue_loop(Y, 32, 0.0))
    eps = 1e-6 * (hi - lo)
    assert _pvalue_loop(Y, 32, lo + eps) > 0.05 and _pvalue_loop(Y, 32, hi - eps) > 0.05
    assert _pvalue_loop(Y, 32, lo - 100 * eps) <= 0.05 and _pvalue_loop(Y, 32, hi + 100 * eps) <= 0.05
    # per period: T0 + 1 = 33 periods, so a 5% test can reject
    first = conf.index[0]
    Yt = Y[list(range(32)) + [32]]
    assert conf.loc[first, "pvalue"] == pytest.approx(_pvalue_loop(Yt, 32, 0.0))
    lo_t, hi_t = conf.loc[first, ["ci_lower", "ci_upper"]]
    assert _pvalue_loop(Yt, 32, (lo_t + hi_t) / 2) > 0.05


def test_short_panel_gives_unbounded_intervals_and_says_why():
    panel = factor_panel(seed=2, T=14, J=5, event_pos=10)
    res = synthetic_control(panel, treated="tr", event="2020-11-01", placebo=False, loo="none",
                            in_time=None)
    assert np.isinf(res.conformal["ci_lower"]).all()
    assert any("1/T > alpha" in n for n in res.notes)
