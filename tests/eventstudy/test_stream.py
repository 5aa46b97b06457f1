"""Chunked studies that do not hold everything twice: the panel spilled to disk, the
tables concatenated chunk by chunk, the pooled tests from the chunks' pieces. Every
public output equals the in-memory, one-chunk run (1e-12)."""

from __future__ import annotations

import pickle
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from oilimpact.eventstudy import event_study
from oilimpact.eventstudy.assemble import pooled_tests
from oilimpact.eventstudy.crosssection import cross_section_pieces, cross_sectional_tests
from oilimpact.eventstudy.panel import _STORES, panel_rows
from oilimpact.eventstudy.stream import (
    PANEL_MEMORY_LIMIT,
    SPILLED_FIELDS,
    concat_released,
    panel_bytes,
    panel_keep_mode,
)

TABLES = ("alignment", "abnormal", "car", "tests", "params", "coefficients", "resid")
TOL = 1e-12


def _frame(n_assets=14, n_days=460, miss=0.02, seed=5, dates=("2024-02-05", "2024-03-12",
           "2024-04-02")):  # fmt: skip
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2023-01-02", periods=n_days)
    m = rng.normal(0, 0.01, n_days)
    r = m[:, None] * rng.uniform(0.5, 1.5, n_assets) + rng.normal(0, 0.015, (n_days, n_assets))
    p = 100 * np.exp(np.cumsum(r, axis=0))
    p[rng.random(p.shape) < miss] = np.nan
    df = pd.DataFrame(p, index=idx, columns=[f"a{i:02d}" for i in range(n_assets)])
    mkt = pd.Series(100 * np.exp(np.cumsum(m)), index=idx, name="mkt")
    return df, mkt, {f"e{i}": d for i, d in enumerate(dates)}


def _same(a, b, pair=("e1", "a03")):
    for name in TABLES:
        pd.testing.assert_frame_equal(
            getattr(a, name), getattr(b, name), check_exact=False, rtol=TOL, atol=TOL
        )
    assert a.tests.attrs == b.tests.attrs
    assert a.spec == b.spec and a.notices == b.notices
    path_a = a.car_path(*pair)
    pd.testing.assert_frame_equal(path_a, b.car_path(*pair), rtol=TOL, atol=TOL)


@pytest.fixture(scope="module")
def in_memory():
    df, mkt, events = _frame()
    return event_study(df, events, market=mkt, catalog={}, pooled=True, independence_tests=True,
                       keep_panel="memory")  # fmt: skip


@pytest.mark.parametrize("chunk_size", [3, 10, 1000])
def test_a_spilled_chunked_study_equals_the_in_memory_one(in_memory, chunk_size):
    df, mkt, events = _frame()
    res = event_study(df, events, market=mkt, catalog={}, pooled=True, independence_tests=True,
                      keep_panel="disk", chunk_size=chunk_size)  # fmt: skip
    _same(in_memory, res)
    for name in SPILLED_FIELDS:
        got, ref = getattr(res.panel, name), getattr(in_memory.panel, name)
        assert isinstance(got, np.memmap) and not got.flags.writeable
        np.testing.assert_array_equal(got, ref)  # written and read back bit for bit
    assert res.panel.est_market is None and res.panel.design_est is None
    assert in_memory.panel.design_est is not None  # in memory: the whole panel, as before


def _one_asset_many_events(n_events=24):
    """One series, events 15 sessions apart: no two pairs share a date (not clustered),
    so the plan runs every test, GRANK included."""
    df, mkt, _ = _frame(n_assets=1, n_days=280 + 15 * n_events)
    days = df.index[270::15][:n_events]
    return df, mkt, {f"e{i:02d}": d.date() for i, d in enumerate(days)}


def test_grank_second_pass_from_the_chunks_equals_the_one_shot_tests():
    df, mkt, events = _one_asset_many_events()
    ref = event_study(df, events, market=mkt, catalog={}, pooled=True,
                      exclude_confounders=False, keep_panel="memory")  # fmt: skip
    row = ref.tests[ref.tests["test"] == "grank"]
    assert len(row) == 5 and np.isfinite(row["statistic"]).all()
    spilled = event_study(df, events, market=mkt, catalog={}, pooled=True,
                          exclude_confounders=False, keep_panel="disk")  # fmt: skip
    _same(ref, spilled, pair=("e03", "a00"))
    # the same panel cut in three chunks: pieces, GRANK's second pass over the cuts
    panel = ref.panel
    windows = [tuple(w) for w in ref.spec.event_windows]
    bounds = [(0, 5), (5, 13), (13, panel.n_pairs)]
    pieces = [cross_section_pieces(panel_rows(panel, lo, hi), windows) for lo, hi in bounds]
    got = pooled_tests(pieces, panel, windows, bounds, pooled=True, independence_tests=False)
    _STORES.clear()
    one = cross_sectional_tests(panel, windows, pooled=True)
    pd.testing.assert_frame_equal(got, one, check_exact=False, rtol=TOL, atol=TOL)
    assert got.attrs == one.attrs


def test_chunked_pooled_tests_equal_the_one_shot_formulas(in_memory):
    df, mkt, events = _frame()
    res = event_study(df, events, market=mkt, catalog={}, pooled=True, independence_tests=True,
                      chunk_size=4)  # fmt: skip
    _STORES.clear()
    one = cross_sectional_tests(in_memory.panel, [tuple(w) for w in res.spec.event_windows],
                                pooled=True, independence_tests=True)  # fmt: skip
    pd.testing.assert_frame_equal(res.tests, one, check_exact=False, rtol=TOL, atol=TOL)
    assert res.tests.attrs == one.attrs


def test_the_engine_takes_the_pooled_tests_from_the_chunks_pieces(in_memory, monkeypatch):
    import oilimpact.eventstudy.assemble as assemble

    def refuse(*args, **kwargs):
        raise AssertionError("the whole-panel tests ran: the chunks' pieces were not used")

    monkeypatch.setattr(assemble, "_cross_sectional", refuse)
    df, mkt, events = _frame()
    for size in (6, 10_000):  # several chunks, one chunk
        res = event_study(df, events, market=mkt, catalog={}, pooled=True,
                          independence_tests=True, chunk_size=size)  # fmt: skip
        _same(in_memory, res)


def test_clustered_events_and_an_executor(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    df, mkt, events = _frame(n_assets=20, dates=("2024-02-05", "2024-02-06"))
    ref = event_study(df, events, market=mkt, catalog={}, keep_panel="memory")
    with ThreadPoolExecutor(2) as pool:
        res = event_study(df, events, market=mkt, catalog={}, keep_panel="disk",
                          chunk_size=6, executor=pool)  # fmt: skip
    _same(ref, res)
    assert "adjusted_bmp" in set(res.tests["test"])
    assert list(tmp_path.iterdir()) == []  # the spill files are gone once mapped
    back = pickle.loads(pickle.dumps(res))  # a spilled result pickles with its arrays
    np.testing.assert_array_equal(back.panel.est_resid, ref.panel.est_resid)


def test_a_failing_chunk_leaves_no_spill_file(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    df, mkt, events = _frame(n_assets=6)
    df.iloc[:, 4] = np.nan
    with pytest.raises(Exception, match="a04"):
        event_study(df, events, market=mkt, catalog={}, keep_panel="disk", chunk_size=3)
    assert list(tmp_path.iterdir()) == []


def test_keep_panel_auto_spills_large_panels_only():
    assert panel_keep_mode("auto", 1_000, 240, 12, 1) == "memory"
    assert panel_keep_mode("auto", 1_000_000, 240, 12, 1) == "disk"
    assert panel_keep_mode("memory", 10**7, 240, 12, 1) == "memory"
    assert panel_keep_mode("disk", 2, 240, 12, 1) == "disk"
    # the limit in pairs at the default windows, market model: about 120,000
    per_pair = panel_bytes(1, 240, 12, 1)
    assert per_pair == 8 * (240 * 4 + 144 + 12 * 4 + 8)
    assert 100_000 < PANEL_MEMORY_LIMIT // per_pair < 150_000
    with pytest.raises(ValueError, match="keep_panel"):
        panel_keep_mode("sometimes", 10, 240, 12, 1)


def test_keep_panel_is_checked_by_event_study():
    df, mkt, events = _frame(n_assets=2)
    with pytest.raises(ValueError, match="keep_panel"):
        event_study(df, events, market=mkt, catalog={}, keep_panel="ram")


def test_concat_released_equals_pandas_concat_and_releases_the_parts():
    def part(n, seed):
        rng = np.random.default_rng(seed)
        return pd.DataFrame({
            "event": np.array(["e"] * n, dtype=object),
            "day": np.arange(n),
            "x": rng.normal(size=n),
            "flag": rng.random(n) > 0.5,
            "date": pd.date_range("2024-01-01", periods=n).to_numpy(),
            "ts": pd.date_range("2024-01-01", periods=n, tz="UTC"),  # extension dtype
            "mixed": np.arange(n) if seed else np.arange(n) * 1.5,  # int in one, float in another
        })  # fmt: skip

    parts = [part(3, 0), part(5, 1), part(2, 2)]
    ref = pd.concat(parts, ignore_index=True)
    holder = list(parts)
    got = concat_released(holder)
    pd.testing.assert_frame_equal(got, ref)
    assert holder == [None, None, None]
    one = [parts[0]]
    assert concat_released(one) is parts[0] and one == [None]
    with pytest.raises(ValueError, match="released"):
        concat_released([parts[0], None])
