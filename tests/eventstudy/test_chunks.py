"""event_study in chunks: any chunk size and any executor give the one-shot result."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from oilimpact.eventstudy import event_study
from oilimpact.eventstudy.chunks import run_chunk
from oilimpact.eventstudy.engine import split_jobs
from oilimpact.eventstudy.inputs import resolve_events, resolve_inputs
from oilimpact.eventstudy.panel import concat_panels
from oilimpact.eventstudy.spec import study_options
from oilimpact.series import default_registry

TABLES = ("alignment", "abnormal", "car", "tests", "params")


def _frame(n_assets=12, n_days=420, miss=0.02, seed=3):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2023-01-02", periods=n_days)
    m = rng.normal(0, 0.01, n_days)
    r = m[:, None] * rng.uniform(0.5, 1.5, n_assets) + rng.normal(0, 0.015, (n_days, n_assets))
    p = 100 * np.exp(np.cumsum(r, axis=0))
    p[rng.random(p.shape) < miss] = np.nan
    df = pd.DataFrame(p, index=idx, columns=[f"a{i:02d}" for i in range(n_assets)])
    mkt = pd.Series(100 * np.exp(np.cumsum(m)), index=idx, name="mkt")
    events = {"e1": "2024-02-05", "e2": "2024-03-12", "e3": "2024-04-02"}
    return df, mkt, events


def _same(a, b):
    for name in TABLES:
        pd.testing.assert_frame_equal(
            getattr(a, name), getattr(b, name), check_exact=False, rtol=1e-12, atol=1e-12
        )
    assert a.spec == b.spec and a.notices == b.notices


@pytest.fixture(scope="module")
def one_shot():
    df, mkt, events = _frame()
    return event_study(df, events, market=mkt, catalog={}, pooled=True)


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 35])
def test_any_chunk_size_gives_the_one_shot_result(one_shot, chunk_size):
    df, mkt, events = _frame()
    res = event_study(df, events, market=mkt, catalog={}, pooled=True, chunk_size=chunk_size)
    _same(one_shot, res)
    assert res.panel.n_pairs == one_shot.panel.n_pairs == 36


def test_thread_pool_gives_the_one_shot_result(one_shot):
    df, mkt, events = _frame()
    with ThreadPoolExecutor(2) as pool:
        res = event_study(df, events, market=mkt, catalog={}, pooled=True, chunk_size=6,
                          executor=pool)  # fmt: skip
    _same(one_shot, res)


def test_process_pool_gives_the_one_shot_result(one_shot):
    df, mkt, events = _frame()
    with ProcessPoolExecutor(2) as pool:
        res = event_study(df, events, market=mkt, catalog={}, pooled=True, chunk_size=9,
                          executor=pool)  # fmt: skip
    _same(one_shot, res)


def test_chunk_errors_are_those_of_the_one_shot_run():
    df, mkt, events = _frame()
    df.iloc[:200, 7] = np.nan  # a07 has too short an estimation window for e1
    with pytest.raises(Exception) as whole:
        event_study(df, events, market=mkt, catalog={})
    with ThreadPoolExecutor(2) as pool, pytest.raises(Exception) as chunked:
        event_study(df, events, market=mkt, catalog={}, chunk_size=3, executor=pool)
    assert str(whole.value) == str(chunked.value) and "series=a07" in str(whole.value)


def test_a_job_pickles_and_runs_alone():
    df, mkt, events = _frame(n_assets=4)
    opts, _ = study_options(
        model="market", estimation_window=(-250, -11), event_windows=[(0, 0), (-1, 1)],
        returns="log", input="auto", min_estimation=None, conventions="textbook",
        exclude_confounders=True, exclusion_band=(-10, 10), multitest="fdr_bh",
        pooled="auto", independence_tests=False,
    )  # fmt: skip
    reg = default_registry()
    data = resolve_inputs(df, mkt, None, model="market", input="auto", registry=reg)
    studied, others = resolve_events(events, {}, True)
    jobs = split_jobs(data, studied, others, opts, reg, chunk_size=6)
    assert [j.names for j in jobs] == [("a00", "a01"), ("a02", "a03")]
    parts = [run_chunk(pickle.loads(pickle.dumps(j))) for j in jobs]
    whole = concat_panels([p.panel for p in parts])
    ref = event_study(df, events, market=mkt, catalog={}, event_windows=[(0, 0), (-1, 1)])
    np.testing.assert_allclose(whole.event_ar, ref.panel.event_ar, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(whole.sigma2, ref.panel.sigma2, rtol=1e-12)
    assert list(whole.ids) == list(ref.panel.ids)


def test_chunk_size_must_be_positive():
    df, mkt, events = _frame(n_assets=2)
    with pytest.raises(ValueError, match="chunk_size"):
        event_study(df, events, market=mkt, catalog={}, chunk_size=0)


def test_merged_panel_keeps_the_closed_form_mark(one_shot):
    from oilimpact.eventstudy.panel import MARKET_PE, panel_store

    df, mkt, events = _frame()
    res = event_study(df, events, market=mkt, catalog={}, pooled=True, chunk_size=4)
    assert panel_store(one_shot.panel).get(MARKET_PE)
    assert panel_store(res.panel).get(MARKET_PE)
    np.testing.assert_allclose(res.panel.window_pe_sums([(0, 1)]),
                               one_shot.panel.window_pe_sums([(0, 1)]), rtol=1e-12)  # fmt: skip
