"""Placebo refits through a concurrent.futures executor give the local run's numbers."""

from __future__ import annotations

import pickle
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from oilimpact.intervention import intervention
from oilimpact.intervention.placebo import PLACEBO_CHUNK, PlaceboSetup, placebo_dates


def _series(n: int = 110, seed: int = 3) -> pd.Series:
    idx = pd.date_range(end="2026-03-01", periods=n, freq="MS", name="date")
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    for t in range(1, n):  # AR(1) errors, so the prewhitening has work to do
        e[t] = 0.5 * e[t - 1] + rng.normal(0, 10)
    y = 800 + 0.3 * np.arange(n) + e - 60 * (idx >= "2025-12-01")
    y[[7, 40, 41]] = np.nan  # missing months
    return pd.Series(y, index=idx, name="ve_crude_production")


class CountingExecutor(Executor):
    """Runs each task at once in this thread and counts the submissions."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        self.calls.append(len(args[1]))
        fut: Future = Future()
        fut.set_result(fn(*args, **kwargs))
        return fut


def _same(a, b) -> None:
    assert_frame_equal(a.effects, b.effects, check_exact=True)
    assert_frame_equal(a.placebo, b.placebo, check_exact=True)
    assert_frame_equal(a.path, b.path, check_exact=True)
    assert a.warnings == b.warnings


CASES = [
    pytest.param({}, id="default"),
    pytest.param({"form": "decay"}, id="decay-reprofiled"),
    pytest.param({"start": "next", "slope": True, "pre_periods": 48}, id="next-slope-pre48"),
    pytest.param({"cov": "hac", "placebo_stat": "estimate"}, id="hac-estimate"),
]


@pytest.mark.parametrize("options", CASES)
def test_thread_pool_gives_the_local_result(options):
    s = _series()
    events = {"a": "2025-12-16", "b": "2026-01-03"}
    local = intervention(s, events, **options)
    assert local.placebo["pseudo_date"].nunique() > PLACEBO_CHUNK["segmented"]  # > 1 chunk
    with ThreadPoolExecutor(max_workers=3) as pool:
        par = intervention(s, events, executor=pool, **options)
    _same(local, par)


def test_sarimax_placebos_through_a_thread_pool():
    s = _series(60).interpolate()
    opts = {"model": "sarimax", "max_order": (1, 0, 0), "max_placebos": 3, "seasonal": "none"}
    local = intervention(s, {"a": "2025-12-16"}, **opts)
    with ThreadPoolExecutor(max_workers=2) as pool:
        par = intervention(s, {"a": "2025-12-16"}, executor=pool, **opts)
    assert local.placebo["pseudo_date"].nunique() == 3  # three tasks of one date each
    _same(local, par)


def test_the_executor_receives_chunks_of_every_placebo_date():
    s = _series()
    ex = CountingExecutor()
    res = intervention(s, {"a": "2025-12-16"}, executor=ex)
    n_dates = res.placebo["pseudo_date"].nunique()
    size = PLACEBO_CHUNK["segmented"]
    assert sum(ex.calls) == n_dates  # every admissible date was a task, none twice
    assert len(ex.calls) == -(-n_dates // size)
    assert max(ex.calls) == size
    assert intervention(s, {"a": "2025-12-16"}, placebo=False, executor=ex).placebo.empty
    assert sum(ex.calls) == n_dates  # no placebo, no task


def test_process_pool_and_pickled_setup():
    s = _series(90)
    local = intervention(s, {"a": "2025-12-16"}, max_placebos=40)
    with ProcessPoolExecutor(max_workers=2) as pool:
        par = intervention(s, {"a": "2025-12-16"}, max_placebos=40, executor=pool)
    _same(local, par)


def test_placebo_setup_pickles():
    from oilimpact.intervention.segmented import DesignOptions

    setup = PlaceboSetup(
        values=np.arange(5.0), grid=pd.date_range("2020-01-01", periods=5, freq="MS"),
        ids=("a",), rel=(0,), post_len=2, pre_periods=None,
        opts=DesignOptions("monthly", True, "none", 2, True, False, False),
        model="segmented", hac_lags=None, cov="hac", order=None, s_order=None, alpha=0.05,
    )  # fmt: skip
    back = pickle.loads(pickle.dumps(setup))
    assert back.opts == setup.opts and back.grid.equals(setup.grid)
    np.testing.assert_array_equal(back.values, setup.values)


def test_placebo_dates_against_a_direct_count():
    rng = np.random.default_rng(5)
    values = rng.normal(size=60)
    values[rng.random(60) < 0.2] = np.nan
    for offset, post_len, pre, min_pre in [(0, 6, None, 20), (1, 3, 24, 12), (0, 1, 30, 30)]:
        got = placebo_dates(values, 50, offset, post_len, pre, min_pre, None)
        want = []
        for tau in range(1, 50 - post_len + 1):  # tau + post_len <= 50
            lo = 0 if pre is None else max(0, tau - pre)
            n_pre = sum(np.isfinite(values[i]) for i in range(lo, tau - offset))
            n_post = sum(np.isfinite(values[i]) for i in range(tau, tau + post_len))
            if n_pre >= min_pre and n_post > 0:
                want.append(tau)
        assert got == want
        capped = placebo_dates(values, 50, offset, post_len, pre, min_pre, 5)
        assert len(capped) == min(5, len(want)) and set(capped) <= set(want)
        if want:
            assert capped[0] == want[0] and capped[-1] == want[-1]
