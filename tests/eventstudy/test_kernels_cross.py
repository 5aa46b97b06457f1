"""The kernels of the cross-sectional pieces give the numpy twins' values.

``rank_set_sums`` (the rank sums of every window's pairs, read off the sorted keys)
against the rank grid of ``_Parts.rank_grid``, through ``cross_section_pieces``: ties,
signed zeros, infinities, NaN, pairs without a usable variance, missing event days
(windows with different pairs).

``rbar_date_sums`` (r-bar sums of one event date's pairs by calendar date) against
:func:`oilimpact.eventstudy.crosssection.pieces._rbar_date_sums_numpy`, through
``cross_section_pieces`` on both paths (``paths.both`` of ``test_kernels``) and directly
on arrays: missing residuals, dates missing where a residual exists, unsorted dates,
dates that are not whole days, dates far apart (the table of days rebuilt, or a sort),
event dates with one and two pairs, pairs whose standardization is undefined, panels
without dates. A date repeated in a pair's window raises the same error on both paths.
Sums differ only by summation order (1e-12); keys, counts and rows are equal.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from oilimpact.eventstudy import _jit
from oilimpact.eventstudy.crosssection import pieces as pz
from oilimpact.eventstudy.panel import AbnormalPanel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_crosssection import DAY0, make_panel  # noqa: E402
from test_kernels import (  # noqa: E402, F401
    CROSS_WINDOWS,
    WINDOW_TOL,
    Paths,
    _kernels_importable,
    assert_frames_match,
    nasty_panel,
    paths,
    quiet,
)

WINDOWS = [(0, 0), (-1, 1), (0, 2)]
SIZES = (1, 2, 37)  # pairs per event date
DAY = np.timedelta64(1, "D")


def dated_panel(case: str = "plain", seed: int = 0, l1: int = 120) -> AbnormalPanel:
    """Pairs on three event dates (1, 2 and 37 pairs), each with its own business days
    before day 0 (a few dropped, as a series misses its holidays), NaT where the
    residual is missing; ``case`` adds one irregularity."""
    n = sum(SIZES)
    day0 = np.repeat(DAY0 + np.array([0, 1, 30]) * DAY, SIZES)
    panel = make_panel(n=n, l1=l1, seed=seed, missing=True, rho=0.3, dates=day0)
    rng = np.random.default_rng(seed)
    dates = np.empty((n, l1), dtype="datetime64[ns]")
    for i in range(n):
        days = np.busday_offset(day0[i].astype("datetime64[D]"), -np.arange(l1 + 12, 0, -1))
        keep = np.sort(rng.choice(days.size, l1, replace=False))
        dates[i] = days[keep].astype("datetime64[ns]")
    est = panel.est_resid.copy()
    dates[np.isnan(est)] = np.datetime64("NaT")
    big = np.flatnonzero(day0 == day0[-1])
    _irregular(case, est, dates, big, rng)
    if case == "no_dates":
        return dataclasses.replace(panel, est_resid=est, est_dates=None)
    return dataclasses.replace(panel, est_resid=est, est_dates=dates)


def _irregular(case: str, est: np.ndarray, dates: np.ndarray, big: np.ndarray, rng: Any) -> None:
    """Change ``est``/``dates`` in place for ``case`` (pairs of the 37-pair date)."""
    a, b = big[5], big[6]
    if case == "nat_on_finite":  # a residual without a date is left out of r-bar
        dates[a, rng.choice(60, 7, replace=False) + 40] = np.datetime64("NaT")
    elif case == "unsorted":  # the same residuals and dates, columns in another order
        perm = rng.permutation(est.shape[1])
        est[a], dates[a] = est[a, perm], dates[a, perm]
    elif case == "hours":  # not whole days: the dates are sorted instead
        dates[big] += np.timedelta64(9 * 3600 + 1800, "s")
    elif case == "early_pair":  # outside the first table of days: it is rebuilt
        dates[a] -= 5000 * DAY
    elif case == "decades":  # too far apart for a table of days: sorted
        dates[a] -= 100 * 365 * DAY
    elif case == "one_dated":  # one dated residual: its sd is undefined
        keep = np.flatnonzero(np.isfinite(est[b]))[0]
        dates[b] = np.datetime64("NaT")
        dates[b, keep] = DAY0 - 400 * DAY
    elif case == "flat_dated":  # the dated residuals are equal: sd 0
        dates[b, 60:] = np.datetime64("NaT")
        est[b, :60] = 0.25
    elif case == "zero_sd":  # every residual equal: the pair is not in r-bar at all
        est[b] = 0.25


def assert_groups_match(ref: dict[int, Any], got: dict[int, Any]) -> None:
    """r-bar pieces: the same dates, keys, counts and rows; sums to rounding."""
    assert sorted(ref) == sorted(got)
    for d, r in ref.items():
        g = got[d]
        assert (g.n, g.min_cnt) == (r.n, r.min_cnt)
        np.testing.assert_array_equal(g.keys, r.keys)
        np.testing.assert_array_equal(g.count, r.count)
        np.testing.assert_allclose(g.sum_z, r.sum_z, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(g.z2, r.z2, rtol=1e-12, atol=0)
        for x, y in ((r.rows, g.rows), (r.dates, g.dates)):
            assert (x is None) == (y is None)
            if x is not None:
                np.testing.assert_array_equal(y, x)


CASES = [
    "plain", "nat_on_finite", "unsorted", "hours", "early_pair", "decades", "one_dated",
    "flat_dated", "zero_sd", "no_dates",
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_rbar_pieces_match_on_both_paths(paths, case, monkeypatch):  # noqa: F811 (the fixture)
    panel = dated_panel(case)
    twin = pz._rbar_date_sums_numpy
    numpy_calls = []

    def counted(*args: Any) -> Any:
        numpy_calls.append(1)
        return twin(*args)

    monkeypatch.setattr(pz, "_rbar_date_sums_numpy", counted)

    def run() -> tuple[dict[int, Any], pd.DataFrame, int]:
        numpy_calls.clear()
        pieces = pz.cross_section_pieces(panel, WINDOWS)
        tests = pz.tests_from_pieces(pieces, ["adjusted_patell", "adjusted_bmp", "bmp"])
        return pieces.rbar, tests, len(numpy_calls)

    ref, got = paths.both(quiet(run), "rbar_date_sums")
    assert ref[2] == len(ref[0]) and got[2] == 0  # the kernel path never falls back
    assert_groups_match(ref[0], got[0])
    assert_frames_match(ref[1], got[1], WINDOW_TOL)
    assert [g.n for g in ref[0].values()] == ([1, 2, 36] if case == "zero_sd" else list(SIZES))
    nan = {d: bool(np.isnan(g.sum_z).all()) for d, g in ref[0].items()}
    assert any(nan.values()) == (case in ("one_dated", "flat_dated"))  # NaN on both paths
    if case != "no_dates":
        assert all(g.keys.size > panel.est_resid.shape[1] for g in ref[0].values() if g.n > 1)


def test_a_repeated_date_raises_on_both_paths(paths):  # noqa: F811 (the fixture)
    panel = dated_panel()
    dates = panel.est_dates.copy()
    pair = int(np.flatnonzero(np.isfinite(panel.est_resid[:, 50:52]).all(axis=1))[-1])
    dates[pair, 51] = dates[pair, 50]
    panel = dataclasses.replace(panel, est_dates=dates)
    messages = []
    for run in (paths.numpy, paths.compiled):
        with pytest.raises(ValueError, match="est_dates repeats") as info:
            run(lambda: pz.cross_section_pieces(panel, WINDOWS))
        messages.append(str(info.value))
    assert paths.calls["rbar_date_sums"] > 0  # the kernel saw it and let numpy name it
    assert messages[0] == messages[1]
    day = np.datetime_as_string(dates[pair, 50], unit="D")
    assert day in messages[0]


@pytest.mark.parametrize("seed", range(6))
def test_rbar_date_sums_on_arrays(seed):
    """The kernel on random rows of random residuals and dates (NaN, NaT, gaps, time
    of day on some seeds, rows of one pair), against the twin."""
    rng = np.random.default_rng(seed)
    n, l1 = 30, 25
    est = rng.standard_normal((n, l1))
    est[rng.random(est.shape) < 0.1] = np.nan
    start = rng.integers(0, 3000, n)[:, None] if seed % 2 else 0
    days = np.sort(rng.choice(60, (n, l1)), axis=1) + start  # may repeat: dropped below
    ns = (days * 86_400 * 10**9).astype(np.int64) + (3600 * 10**9 if seed == 4 else 0)
    ns[rng.random(ns.shape) < 0.05] = np.iinfo(np.int64).min
    for i in range(n):  # one residual per date in a row
        dup = np.flatnonzero(np.diff(days[i]) == 0) + 1
        ns[i, dup] = np.iinfo(np.int64).min
    for rows in (np.arange(n), rng.choice(n, 7, replace=False), np.array([3])):
        for dates in (ns, None):
            want = pz._rbar_date_sums_numpy(est, dates, rows)
            arg = np.empty((0, 0), dtype=np.int64) if dates is None else ns
            *got, bad = _jit.rbar_date_sums(est, arg, rows)
            assert bad == -1
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[2], want[2])
            np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(got[3], want[3], rtol=1e-12)
            assert got[4] == want[4]


RANK_SUMS = ("rank_dev", "rank_unif", "rank_cnt", "rank_li", "rank_n")


@pytest.mark.parametrize(
    "case",
    [{"decimals": 1, "seed": 1}, {"decimals": 3}, {"decimals": None, "seed": 2},
     {"decimals": 2, "seed": 6, "complete": True}],
    ids=["heavy_ties", "ties", "continuous", "complete"],
)  # fmt: skip
def test_rank_sums_match_on_both_paths(paths, case):  # noqa: F811 (the fixture)
    panel = nasty_panel(**case)
    ref, got = paths.both(
        quiet(lambda: pz.cross_section_pieces(panel, CROSS_WINDOWS).sums), "rank_set_sums"
    )
    for key in RANK_SUMS:  # counts exactly, sums to rounding (another order of rows)
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-12, atol=1e-9, err_msg=key)
    for key in ("rank_cnt", "rank_li", "rank_n"):
        np.testing.assert_array_equal(got[key], ref[key], err_msg=key)
    sets = {ref["rank_n"][k] for k in range(len(CROSS_WINDOWS))}
    assert len(sets) > 1 or case.get("complete")  # windows with different pairs
    assert ref["rank_n"].max() < panel.n_pairs  # unusable variances are not ranked


def test_rank_sums_of_signed_zeros_and_ties_by_hand(paths):  # noqa: F811 (the fixture)
    """-0.0 and +0.0 are one tie, values a few ulps apart are not, +-inf are ranked:
    the ranks of each row against scipy's rankdata."""
    from scipy.stats import rankdata

    panel = nasty_panel(seed=3, n=30, l1=30, l2=3, decimals=None)
    est = panel.est_resid.copy()
    est[20, :6] = [-0.0, 0.0, -0.0, 5e-324, -5e-324, 1.0]
    est[21, :4] = [1.0, np.nextafter(1.0, 2.0), 1.0, np.nextafter(1.0, 0.0)]
    panel = dataclasses.replace(panel, est_resid=est)
    ref, got = paths.both(
        quiet(lambda: pz.cross_section_pieces(panel, [(-2, 0)]).sums), "rank_set_sums"
    )
    full = np.concatenate([est, panel.event_ar], axis=1)
    s2 = panel.sigma2
    valid = np.isfinite(s2) & (s2 > 0)
    ranked = valid & np.isfinite(panel.event_ar).all(axis=1)
    want = np.zeros(full.shape[1])
    for i in np.flatnonzero(ranked):
        ok = ~np.isnan(full[i])
        want[ok] += rankdata(full[i, ok]) - (ok.sum() + 1) / 2
    for sums in (ref, got):
        np.testing.assert_allclose(sums["rank_dev"][0], want, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("conventions", ["textbook", "estudy2"])
def test_every_chunk_sum_matches_on_both_paths(paths, conventions):  # noqa: F811 (the fixture)
    """All additive sums of a chunk (the estimation totals and p-hat counts from the
    moment pass without its standardized pass, the rank sums, the Patell and sign sums)."""
    panel = nasty_panel(seed=4, conventions=conventions, decimals=2)
    ref, got = paths.both(
        quiet(lambda: pz.cross_section_pieces(panel, CROSS_WINDOWS).sums),
        "est_row_stats", "rank_set_sums",
    )  # fmt: skip
    assert sorted(ref) == sorted(got)
    for key, want in ref.items():
        np.testing.assert_allclose(got[key], want, rtol=1e-12, atol=1e-12, err_msg=key)
        if key.endswith(("_n", "_cnt", "_cnt_all", "pos", "_pos_all")):
            np.testing.assert_array_equal(got[key], want, err_msg=key)


def test_moments_without_the_standardized_pass(paths):  # noqa: F811 (the fixture)
    """est_moments (no per-group z sums) has est_stats' values; est_stats is reused
    when known."""
    from oilimpact.eventstudy import crosssection

    panel = nasty_panel(seed=5)

    def run() -> tuple[dict[str, Any], dict[str, Any], bool]:
        parts = crosssection._Parts(panel)
        light = parts.est_moments
        full = crosssection._Parts(dataclasses.replace(panel)).est_stats
        crosssection._STORES.clear()
        again = crosssection._Parts(panel)
        reused = again.est_stats is again.est_moments
        return light, full, reused

    _, (light, full, reused) = paths.both(run, "est_row_stats")
    assert "gz" not in light and "gz" in full and reused
    for key, value in light.items():
        np.testing.assert_array_equal(value, full[key], err_msg=key)
