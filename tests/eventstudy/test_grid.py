"""The session grid's searches and span counts against per-pair loops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oilimpact.eventstudy.alignment import calendar_days
from oilimpact.eventstudy.grid import session_grid, spanned_sessions


def _grid(seed: int = 3, T: int = 260, A: int = 40):
    """A grid on weekdays (US holidays among them) with holes, an asset without sessions."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-11-01", periods=T).to_numpy("datetime64[ns]")
    regs = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (T, 1)), axis=0))
    values = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, (T, A)), axis=0))
    values[rng.random((T, A)) < 0.15] = np.nan
    regs[rng.random((T, 1)) < 0.05] = np.nan
    values[:, 7] = np.nan
    values = np.asfortranarray(values)
    grid = session_grid(values, regs, dates, input_kind="prices", method="log",
                        conventions="textbook")  # fmt: skip
    return grid, values


def test_sessions_before_equals_a_search_of_each_pair():
    """The vectorised bisection gives ``searchsorted`` of each pair's own session rows."""
    grid, _ = _grid()
    rng = np.random.default_rng(0)
    T, A = grid.valid.shape
    rows, cols = rng.integers(0, T + 1, 3000), rng.integers(0, A, 3000)
    got = grid.sessions_before(rows, cols)
    for r, c, k in zip(rows, cols, got, strict=True):
        own = grid.row[grid.start[c] : grid.start[c] + grid.n_sessions[c]]
        assert k == np.searchsorted(own, r, side="left")
    assert (grid.sessions_before(np.full(A, 0), np.arange(A)) == 0).all()
    np.testing.assert_array_equal(grid.sessions_before(np.full(A, T), np.arange(A)),
                                  grid.n_sessions)  # fmt: skip


@pytest.mark.parametrize("codes", [["XNYS"], ["XNYS", "XLON", "CMES", "not-a-calendar"]])
def test_spanned_sessions_equals_a_count_of_each_return(codes):
    """Each return spans the calendar's sessions in ``(previous session, session]`` plus
    the asset's values off the calendar there (at least 1; 1 on a pair's first), counted
    date by date; the asset columns given or found from the flat positions agree."""
    grid, values = _grid()
    T, A = values.shape
    cal_codes = [codes[a % len(codes)] for a in range(A)]
    has = np.flatnonzero(grid.n_sessions > 0)
    rng = np.random.default_rng(1)
    cols = rng.choice(has, 400)
    at = grid.start[cols] + rng.integers(0, grid.n_sessions[cols])
    got = spanned_sessions(grid, values, cal_codes, at)
    np.testing.assert_array_equal(spanned_sessions(grid, values, cal_codes, at, cols), got)
    days = grid.dates.astype(np.int64)
    assert (got > 1).any()
    for s, c, n in zip(at, cols, got, strict=True):
        if s == grid.start[c]:
            assert n == 1
            continue
        r0, r1 = grid.row[s - 1], grid.row[s]
        cal = calendar_days(cal_codes[c], int(days[0]), int(days[-1]))
        span = days[r0 + 1 : r1 + 1]
        on_cal = np.isin(span, cal)
        count = on_cal.sum() + (~on_cal & ~np.isnan(values[r0 + 1 : r1 + 1, c])).sum()
        assert n == max(count, 1)
