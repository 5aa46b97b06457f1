"""The window pooled tests from per-chunk pieces equal the one-shot tests (1e-12)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oilimpact.eventstudy import event_study, kernels
from oilimpact.eventstudy.crosssection import WINDOW_TESTS, cross_sectional_tests
from oilimpact.eventstudy.crosssection import pieces as pz
from oilimpact.eventstudy.crosssection import rbar as rbar_mod
from oilimpact.eventstudy.panel import _STORES, AbnormalPanel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_crosssection import DAY0, make_panel  # noqa: E402

TOL = 1e-12
ALL = list(WINDOW_TESTS)


def subset(panel: AbnormalPanel, idx: np.ndarray) -> AbnormalPanel:
    """The pairs ``idx`` of ``panel`` (every per-pair array cut the same way)."""
    kw = {}
    for f in dataclasses.fields(panel):
        v = getattr(panel, f.name)
        if f.name == "ids":
            v = v[idx]
        elif isinstance(v, np.ndarray) and v.ndim and v.shape[0] == panel.n_pairs:
            v = v[idx] if f.name != "event_days" else v
        kw[f.name] = v
    return AbnormalPanel(**kw)


def chunked(panel: AbnormalPanel, windows, cuts, tests=None, grank=True, reverse=False):
    """tests_from_pieces over chunks cut at ``cuts`` (GRANK's second pass if asked)."""
    edges = [0, *cuts, panel.n_pairs]
    parts = [subset(panel, np.arange(a, b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    order = parts[::-1] if reverse else parts
    combined = pz.combine_pieces([pz.cross_section_pieces(q, windows) for q in order])
    if grank:
        scale = pz.grank_scale(combined)
        combined = pz.combine_pieces(
            [pz.cross_section_pieces(q, windows, grank_scale=scale) for q in order]
        )
    return pz.tests_from_pieces(combined, tests, pooled=True, independence_tests=True)


def assert_same(one: pd.DataFrame, got: pd.DataFrame) -> None:
    assert list(got.columns) == list(one.columns)
    assert got.attrs == one.attrs
    for col in one.columns:
        a, b = one[col], got[col]
        if a.dtype.kind == "f":
            x, y = a.to_numpy(), b.to_numpy()
            np.testing.assert_array_equal(np.isnan(y), np.isnan(x), err_msg=col)
            ok = np.isfinite(x)
            rel = np.abs(x[ok] - y[ok]) / np.maximum(1.0, np.abs(x[ok]))
            assert rel.max(initial=0.0) <= TOL, (col, rel.max())
        else:
            assert b.tolist() == a.tolist(), col


def one_shot(panel, windows, tests=None):
    _STORES.clear()  # nothing cached under another setting
    return cross_sectional_tests(panel, windows, tests, pooled=True, independence_tests=True)


DATES = np.repeat(DAY0 + np.array([0, 1, 30]).astype("timedelta64[D]"), [12, 14, 14])


@pytest.mark.parametrize("conventions", ["textbook", "estudy2"])
@pytest.mark.parametrize("missing", [False, True], ids=["complete", "missing"])
def test_pieces_equal_one_shot_on_hand_built_panels(conventions, missing):
    panel = make_panel(n=40, missing=missing, rho=0.3, seed=3, conventions=conventions,
                       dates=DATES)  # fmt: skip
    windows = [(0, 0), (-1, 1), (0, 3)]
    got = chunked(panel, windows, [13, 25], ALL)
    one = one_shot(panel, windows, ALL)
    assert_same(one, got)
    assert np.isfinite(one.query("test == 'grank'")["statistic"]).all()  # GRANK ran
    assert (one["rbar"].dropna() != 0).all()  # clusters share dates: r-bar is used
    # the default policy (clustered pairs) and any order of the chunks
    assert_same(one_shot(panel, windows), chunked(panel, windows, [20], reverse=True))


def synthetic_prices(n_assets: int, seed: int, n_days: int = 420):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2023-01-02", periods=n_days)
    m = rng.standard_t(5, n_days) * 0.01
    r = m[:, None] * rng.uniform(0.5, 1.5, n_assets) + rng.standard_t(4, (n_days, n_assets)) * 0.015
    p = 100 * np.exp(np.cumsum(r, axis=0))
    p[rng.random(p.shape) < 0.01] = np.nan  # 1% missing prices
    df = pd.DataFrame(p, index=idx, columns=[f"a{i:03d}" for i in range(n_assets)])
    mkt = pd.Series(100 * np.exp(np.cumsum(m)), index=idx, name="mkt")
    return df, mkt, {"e1": pd.Timestamp("2024-03-04"), "e2": pd.Timestamp("2024-05-15")}


@pytest.fixture(scope="module")
def engine_panel() -> AbnormalPanel:
    df, mkt, events = synthetic_prices(90, seed=7)
    panel = event_study(df, events, market=mkt).panel
    assert panel.est_dates is not None and np.isnan(panel.est_resid).any()
    return panel


def test_pieces_equal_one_shot_on_an_engine_panel(engine_panel):
    """Calendar dates, missing prices, day 0 moved for some pairs (several clusters)."""
    windows = [(0, 0), (-1, 1), (0, 5)]
    assert_same(
        one_shot(engine_panel, windows, ALL), chunked(engine_panel, windows, [40, 101], ALL)
    )
    assert_same(one_shot(engine_panel, windows), chunked(engine_panel, windows, [179]))


def test_large_clusters_use_the_pooled_sums(engine_panel, monkeypatch):
    """Clusters above RBAR_PAIRWISE_MAX: the additive pooled form (approximate, noted),
    and the rows a chunk keeps for the pairwise form are dropped once a date is large."""
    monkeypatch.setattr(rbar_mod, "RBAR_PAIRWISE_MAX", 20)
    windows = [(0, 0), (-1, 1)]
    one = one_shot(engine_panel, windows, ALL)
    assert one["note"].str.contains("approximate").any()
    assert_same(one, chunked(engine_panel, windows, [15, 60, 130], ALL))
    pieces = pz.combine_pieces(
        [pz.cross_section_pieces(subset(engine_panel, np.arange(a, b)), windows)
         for a, b in ((0, 15), (15, 60), (60, engine_panel.n_pairs))]
    )  # fmt: skip
    for group in pieces.rbar.values():
        assert (group.rows is None) == (group.n > 20)


def test_compiled_whole_panel_equals_numpy_chunks(engine_panel, monkeypatch):
    """The whole panel on the compiled kernels, the chunks on numpy."""
    if kernels.jit() is None:
        pytest.skip("numba not available")
    monkeypatch.setattr(kernels, "MIN_PAIRS", 100)
    windows = [(0, 0), (-1, 1)]
    one = one_shot(engine_panel, windows, ALL)
    assert_same(one, chunked(engine_panel, windows, [60, 120], ALL))


def test_grank_without_its_second_pass_says_so():
    panel = make_panel(n=40, seed=5, dates=DATES)
    pieces = pz.combine_pieces(
        [
            pz.cross_section_pieces(subset(panel, np.arange(a, b)), [(0, 1)])
            for a, b in ((0, 20), (20, 40))
        ]
    )
    out = pz.tests_from_pieces(pieces, ["grank", "bmp"])
    row = out.query("test == 'grank'").iloc[0]
    assert np.isnan(row["statistic"]) and "second pass" in row["note"]
    assert np.isfinite(out.query("test == 'bmp'")["statistic"]).all()


def test_combine_refuses_pieces_of_different_studies():
    panel = make_panel(n=30, seed=6)
    a = pz.cross_section_pieces(subset(panel, np.arange(15)), [(0, 0)])
    b = pz.cross_section_pieces(subset(panel, np.arange(15, 30)), [(0, 1)])
    with pytest.raises(ValueError, match="different studies"):
        pz.combine_pieces([a, b])
    with pytest.raises(ValueError, match="at least one"):
        pz.combine_pieces([])


def test_no_pooled_test_below_ten_pairs_from_pieces():
    panel = make_panel(n=6, seed=8)
    pieces = pz.combine_pieces([pz.cross_section_pieces(subset(panel, np.arange(a, b)), [(0, 0)])
                         for a, b in ((0, 3), (3, 6))])  # fmt: skip
    out = pz.tests_from_pieces(pieces)
    assert out.empty and "6 pairs, fewer than 10" in out.attrs["notes"][0]


@pytest.mark.parametrize("pairwise_max", [1000, 4], ids=["pairwise", "pooled"])
def test_pieces_match_on_two_calendars(pairwise_max, monkeypatch):
    """Estimation windows on different calendar dates (the r-bar matched by date), small
    clusters pairwise from the kept rows, large ones from the date-keyed sums."""
    from test_crosssection import _two_calendar_panel

    monkeypatch.setattr(rbar_mod, "RBAR_PAIRWISE_MAX", pairwise_max)
    panel, _ = _two_calendar_panel(n=12)
    one = one_shot(panel, [(0, 0), (0, 1)], ["adjusted_patell", "adjusted_bmp", "bmp"])
    assert (one["rbar"].dropna() > 0.5).all()
    assert_same(
        one, chunked(panel, [(0, 0), (0, 1)], [5, 7], ["adjusted_patell", "adjusted_bmp", "bmp"])
    )


def test_plan_from_pieces_says_whether_grank_needs_its_second_pass():
    """Distinct event dates far apart: not clustered, GRANK in the default set; one
    shared date: GRANK not shown by default (no second pass needed)."""
    apart = DAY0 + (np.arange(30) * 40).astype("timedelta64[D]")
    for dates, want in ((apart, True), (np.full(30, DAY0), False)):
        panel = make_panel(n=30, seed=9, dates=dates)
        pieces = pz.combine_pieces(
            [
                pz.cross_section_pieces(subset(panel, np.arange(a, b)), [(0, 1)])
                for a, b in ((0, 10), (10, 30))
            ]
        )
        plan = pz.plan_from_pieces(pieces)
        assert ("grank" in plan.tests) is want
        assert plan.clustered is not want
