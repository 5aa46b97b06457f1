"""The compiled session grid (``_jit.grid_columns``) gives the grid of the numpy code.

Every comparison runs the same call on both paths (``paths.both`` of ``test_kernels``:
the numpy twin :func:`oilimpact.eventstudy.grid._grid_numpy` with the kernel threshold
out of reach, the kernel at threshold 0) and requires every field of the grid to agree:
integers and flags exactly, returns to 1e-14 relative with NaN in the same places.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oilimpact.errors import EstimationError
from oilimpact.events import Event
from oilimpact.eventstudy import event_study, threads
from oilimpact.eventstudy.grid import SessionGrid, session_grid

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kernels  # noqa: E402
from test_kernels import Paths, quiet  # noqa: E402

#: the fixtures of test_kernels: both paths, and the kernels importable in every test
paths = test_kernels.paths
_kernels_importable = test_kernels._kernels_importable


def assert_grids_equal(ref: SessionGrid, got: SessionGrid) -> None:
    """Every field of two grids: floats to 1e-14 (NaN in the same places), the rest exact."""
    for name in SessionGrid.__slots__:
        a, b = np.asarray(getattr(ref, name)), np.asarray(getattr(got, name))
        assert a.shape == b.shape and a.dtype == b.dtype, name
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(np.isnan(b), np.isnan(a), err_msg=name)
            np.testing.assert_allclose(b, a, rtol=1e-14, atol=0, err_msg=name)
        else:
            np.testing.assert_array_equal(b, a, err_msg=name)


def _frame(T: int = 160, A: int = 9, F: int = 1, seed: int = 0, holes: float = 0.08):
    """Prices of ``A`` assets and ``F`` regressors with holes: random ones, a run of
    missing dates, a date where nothing is observed, an asset listed late, one that
    stops early, one with no session and one with a single session."""
    rng = np.random.default_rng(seed)
    regs = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (T, F)), axis=0))
    beta = rng.uniform(0.4, 1.4, A)
    r = beta * np.log(regs[:, :1] / 100) + np.cumsum(rng.normal(0, 0.02, (T, A)), axis=0)
    assets = 40 * np.exp(r)
    assets[rng.random((T, A)) < holes] = np.nan
    regs[rng.random((T, F)) < holes / 3] = np.nan
    assets[50:54, 1] = np.nan  # a run of missing dates
    assets[70, :] = np.nan  # a date with nothing observed
    regs[70, :] = np.nan
    assets[:40, 2] = np.nan  # listed late
    assets[120:, 3] = np.nan  # stops early: values of the regressors after it are uncarried
    assets[:, 4] = np.nan  # no session at all
    assets[:, 5] = np.nan
    assets[30, 5] = 41.0  # a single session
    dates = pd.bdate_range("2023-01-02", periods=T).to_numpy("datetime64[ns]")
    return np.asfortranarray(assets), np.asfortranarray(regs), dates


def _as_returns(assets: np.ndarray, regs: np.ndarray, dates: np.ndarray, method: str):
    """The frame's one-date returns (a return given on each observed date)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "log":
            a, r = np.log(assets[1:] / assets[:-1]), np.log(regs[1:] / regs[:-1])
        else:
            a, r = assets[1:] / assets[:-1] - 1, regs[1:] / regs[:-1] - 1
    a[np.isnan(assets[1:])] = np.nan
    a[~np.isnan(assets[1:]) & np.isnan(a)] = 0.004  # observed after a hole: some return
    r[~np.isnan(regs[1:]) & np.isnan(r)] = -0.002
    return np.asfortranarray(a), np.asfortranarray(r), dates[1:]


def _run(paths, assets, regs, dates, kind, method, conventions):
    def run() -> SessionGrid:
        return session_grid(assets, regs, dates, input_kind=kind, method=method,
                            conventions=conventions)  # fmt: skip

    ref, got = paths.both(quiet(run), "grid_columns")
    assert_grids_equal(ref, got)
    return ref


@pytest.mark.parametrize("conventions", ["textbook", "estudy2"])
@pytest.mark.parametrize("method", ["log", "simple"])
@pytest.mark.parametrize("kind", ["prices", "returns"])
@pytest.mark.parametrize("n_regs", [0, 1, 3])
def test_grid_with_missing_values(paths, kind, method, conventions, n_regs):
    """Missing prices of assets and regressors, spanning gaps, uncarried values, an asset
    without sessions: every field equal on both paths, for every input and convention."""
    assets, regs, dates = _frame(F=max(n_regs, 1), seed=n_regs)
    regs = regs[:, :n_regs]
    if kind == "returns":
        assets, regs, dates = _as_returns(assets, regs, dates, method)
    ref = _run(paths, assets, regs, dates, kind, method, conventions)
    assert (ref.n_sessions == 0).any()
    if n_regs:  # without regressors every value is a session: nothing spans or is uncarried
        assert ref.gap.any() and (ref.uncarried > 0).any()


@pytest.mark.parametrize("conventions", ["textbook", "estudy2"])
@pytest.mark.parametrize("method", ["log", "simple"])
def test_grid_with_non_positive_prices(paths, method, conventions):
    """Zero and negative prices of an asset and of a regressor (log returns: NaN, marked
    bad, with the column that holds the price; simple returns: plain ratios)."""
    assets, regs, dates = _frame(F=2, seed=3)
    assets[10, 0], assets[11, 0], assets[60, 6] = 0.0, -3.0, -1.0
    regs[90, 1] = 0.0
    assets[89:92, 7] = [np.nan, np.nan, 42.0]  # asset 7 spans the bad regressor price
    ref = _run(paths, assets, regs, dates, "prices", method, conventions)
    if method == "log":
        assert ref.bad.any() and set(ref.bad_col[ref.bad_col >= 0].tolist()) == {0, 2}
    else:
        assert not ref.bad.any()


def test_grid_carried_returns_into_the_next_session(paths):
    """Given returns: those of dates where some series was observed are carried into the
    pair's next session (summed, or compounded), not before its first or after its last."""
    assets, regs, dates = _frame(T=130, A=7, F=2, seed=9, holes=0.25)
    assets, regs, dates = _as_returns(assets, regs, dates, "simple")
    regs[5, 0] = np.inf  # an infinite return carried as the largest float
    for method in ("log", "simple"):
        ref = _run(paths, assets, regs, dates, "returns", method, "textbook")
        assert ref.gap.sum() > 10


@pytest.mark.parametrize("kind", ["prices", "returns"])
def test_grid_on_column_blocks(paths, monkeypatch, kind):
    """Columns split into blocks on several threads (each block writes its own columns'
    sessions and takes the log of its own ratios): the grid of one block."""
    monkeypatch.setattr(threads, "THREAD_ROWS", 2)
    assets, regs, dates = _frame(F=2, seed=11)
    if kind == "returns":
        assets, regs, dates = _as_returns(assets, regs, dates, "log")
    for conventions in ("textbook", "estudy2"):
        _run(paths, assets, regs, dates, kind, "log", conventions)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    holes=st.floats(0.0, 0.6),
    kind=st.sampled_from(["prices", "returns"]),
    method=st.sampled_from(["log", "simple"]),
    conventions=st.sampled_from(["textbook", "estudy2"]),
)
def test_grid_property(seed, holes, kind, method, conventions):
    """Random frames (any share of holes, a few non-positive prices): equal grids."""
    with pytest.MonkeyPatch.context() as mp:
        p = Paths(mp)
        assets, regs, dates = _frame(T=130, A=7, F=2, seed=seed, holes=holes)
        rng = np.random.default_rng(seed)
        assets[rng.random(assets.shape) < 0.02] = -1.0
        if kind == "returns":
            assets, regs, dates = _as_returns(assets, regs, dates, method)
        _run(p, assets, regs, dates, kind, method, conventions)


# ---- the public call: several calendars, both paths ---------------------------------------

ASSETS = ("brent", "wti", "wti_fut_c1", "xle", "henry_hub", "unlisted")


def _prices(seed: int = 5, miss: float = 0.05) -> pd.DataFrame:
    """Series on the London, New York and CME calendars (and an unregistered one) with
    missing prices, on a market that misses a few dates."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2024-06-03", "2026-02-27")
    m = rng.normal(0, 0.01, len(idx))
    out = {"sp500": 5000 * np.exp(np.cumsum(m))}
    for a in ASSETS:
        out[a] = 70 * np.exp(np.cumsum(0.7 * m + rng.normal(0, 0.015, len(idx))))
    df = pd.DataFrame(out, index=idx)
    df[list(ASSETS)] = df[list(ASSETS)].mask(rng.random((len(idx), len(ASSETS))) < miss)
    df.iloc[rng.random(len(idx)) < 0.01, 0] = np.nan
    return df


EVENTS = {"late": pd.Timestamp("2025-12-16 18:00", tz="America/New_York"),
          "plain": "2025-09-03", "sunday": "2025-11-16"}  # fmt: skip


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"conventions": "estudy2"},
        {"returns": "simple"},
        {"input": "returns"},
        {"input": "returns", "conventions": "estudy2"},
    ],
)
def test_event_study_on_several_calendars_agrees_on_both_paths(paths, kw):
    """The public call on series of several exchange calendars: the same alignment, panel
    and tables whichever path builds the grid (and fits)."""
    df = _prices()
    if kw.get("input") == "returns":
        df = np.log(df).diff().iloc[1:]

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return event_study(df, EVENTS, market="sp500", catalog={}, min_estimation=100,
                               **kw)  # fmt: skip

    ref, got = paths.both(run, "grid_columns", "window_positions", "gather_windows")
    _assert_results_equal(ref, got)
    assert ref.alignment["spanning_returns"].sum() > 0


def _assert_results_equal(ref, got) -> None:
    """The alignment table exactly; the panel's dates, sessions and returns, the AR and
    CAR tables to 1e-12."""
    pd.testing.assert_frame_equal(ref.alignment, got.alignment)
    for name in ("est_dates", "event_sessions", "event_days"):
        np.testing.assert_array_equal(getattr(got.panel, name), getattr(ref.panel, name))
    pd.testing.assert_frame_equal(ref.abnormal, got.abnormal, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(ref.car, got.car, check_exact=False, rtol=1e-12)


def test_event_study_with_confounding_events_agrees_on_both_paths(paths):
    """Catalog events near the studied ones (their days dropped from the estimation
    windows, confounded windows flagged) and one just before the data start (a virtual
    day 0 whose band reaches the first sessions): the same results on both paths."""
    df = _prices()
    catalog = {
        "near": Event.on_date("near", "inside the estimation window", "political", "2025-08-04"),
        "after": Event("after", "inside the event window", "political",
                       pd.Timestamp("2025-09-04 10:00", tz="America/New_York"), True),
        "early": Event.on_date("early", "a Sunday before the data", "political", "2024-06-02"),
        "plain": Event.on_date("plain", "a weekday", "political", "2025-09-03"),
    }  # fmt: skip

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return event_study(df, ["plain"], market="sp500", catalog=catalog,
                               min_estimation=100, estimation_window=(-340, -11))  # fmt: skip

    ref, got = paths.both(run, "grid_columns", "window_positions", "gather_windows")
    assert (ref.alignment["dropped_est_days"] > 0).all()
    assert ref.alignment["confounded_by"].str.contains("after").all()
    _assert_results_equal(ref, got)


def test_event_study_on_row_blocks_agrees_on_both_paths(paths, monkeypatch):
    """Windows and gathers on row blocks of a few pairs each, the grid on column blocks."""
    monkeypatch.setattr(threads, "THREAD_ROWS", 2)
    df = _prices()

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return event_study(df, EVENTS, market="sp500", catalog={}, min_estimation=100)

    ref, got = paths.both(run, "grid_columns", "window_positions", "gather_windows")
    _assert_results_equal(ref, got)


def test_bad_price_error_is_the_same_on_both_paths(paths):
    """A price <= 0 inside a window: the same error on both paths."""
    df = _prices()
    df.loc[pd.Timestamp("2025-09-02"), "wti"] = 0.0
    messages = paths.errors(lambda: event_study(df, EVENTS, market="sp500", catalog={},
                                                min_estimation=100))  # fmt: skip
    assert messages[0] == messages[1] and "'wti'" in messages[0]
    with pytest.raises(EstimationError):
        event_study(df, EVENTS, market="sp500", catalog={}, min_estimation=100)
