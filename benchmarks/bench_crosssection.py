"""Profile the cross-sectional tests on a 10,000-pair panel, test group by test group.

Setup (as in ``bench_event_study.py``): 10,000 (asset, event) pairs, 250-day estimation
window with 1% missing days, 21-day event window [-10, +10], a market-model-like
prediction-error matrix, five CAR windows. Two date layouts: every pair on one event date
(one Kolari-Pynnonen cluster) and 100 different event dates.

Reported: the median and minimum wall time (over repeats) of :func:`daily_tests` plus
:func:`cross_sectional_tests` restricted to each test group, of all tests together, and
the load average at the time. Every timed run starts cold: the panel-level cache of
:mod:`oilimpact.eventstudy.crosssection` is cleared, so ``daily_tests`` sorts and ranks the
residuals and ``cross_sectional_tests`` reuses them. ``--profile`` adds a cProfile of the
full run. ``--pieces`` also times the chunked path
(:mod:`oilimpact.eventstudy.crosssection.pieces`: ``cross_section_pieces`` of five chunks of
2,000 pairs, ``combine_pieces``, ``tests_from_pieces``, all tests, GRANK's second pass
included) against ``cross_sectional_tests`` on the whole panel, and checks that they agree
within 1e-12.

Run: ``python benchmarks/bench_crosssection.py [--repeats 7] [--profile] [--pieces]``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time

import numpy as np
import pandas as pd

from oilimpact.eventstudy import crosssection
from oilimpact.eventstudy.crosssection import (
    DAILY_TESTS,
    WINDOW_TESTS,
    combine_pieces,
    cross_section_pieces,
    cross_sectional_tests,
    daily_tests,
    grank_scale,
    tests_from_pieces,
)
from oilimpact.eventstudy.panel import AbnormalPanel

N_PAIRS = 10_000
L1 = 250
DAYS = np.arange(-10, 11)
WINDOWS = [(0, 0), (0, 1), (-1, 1), (0, 5), (0, 10)]
GROUPS: dict[str, tuple[str, ...]] = {
    "parametric": ("cross_sectional_t", "brown_warner", "brown_warner_indep", "patell", "bmp"),
    "kolari_pynnonen": ("adjusted_patell", "adjusted_bmp"),
    "sign": ("sign", "generalized_sign"),
    "rank": ("rank", "modified_rank"),
    "grank": ("grank",),
    "all": DAILY_TESTS,
}


def make_panel(n: int = N_PAIRS, n_dates: int = 1, seed: int = 0) -> AbnormalPanel:
    """A market-model-like panel (t(4) residuals, 1% missing estimation days)."""
    rng = np.random.default_rng(seed)
    l2 = DAYS.size
    m_est = rng.normal(0.0003, 0.01, (n, L1))
    m_evt = rng.normal(0.0003, 0.01, (n, l2))
    est = rng.standard_t(4, (n, L1)) * 0.012
    est[rng.random((n, L1)) < 0.01] = np.nan
    ok = np.isfinite(est)
    n_est = ok.sum(axis=1)
    est -= np.nanmean(est, axis=1, keepdims=True)
    ar = rng.standard_t(4, (n, l2)) * 0.012 + 0.001
    sigma2 = np.nansum(est**2, axis=1) / (n_est - 2)
    mb = np.where(ok, m_est, 0.0).sum(axis=1) / n_est
    ss = np.where(ok, (m_est - mb[:, None]) ** 2, 0.0).sum(axis=1)
    dev = m_evt - mb[:, None]
    pe = (
        np.eye(l2)
        + (1.0 / n_est)[:, None, None]
        + dev[:, :, None] * dev[:, None, :] / ss[:, None, None]
    )
    base = np.datetime64("2000-01-03", "ns")
    date_id = np.arange(n) % n_dates
    return AbnormalPanel(
        ids=pd.MultiIndex.from_arrays([date_id, np.arange(n)], names=["event", "asset"]),
        est_resid=est,
        n_est=n_est,
        n_params=2,
        sigma2=sigma2,
        event_days=DAYS.copy(),
        event_ar=ar,
        pe_cov=pe,
        event_dates=base + date_id.astype("timedelta64[D]") * 7,
    )


def run(panel: AbnormalPanel, tests: tuple[str, ...]) -> None:
    """Both functions on a panel not seen before (the panel-level cache cleared)."""
    crosssection._STORES.clear()
    daily_tests(panel, tests)
    cross_sectional_tests(panel, WINDOWS, tests)


def time_groups(panel: AbnormalPanel, repeats: int) -> dict[str, tuple[float, float]]:
    """(median, min) wall time per test group, in seconds."""
    out = {}
    for name, tests in GROUPS.items():
        run(panel, tests)  # warm-up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            run(panel, tests)
            times.append(time.perf_counter() - t0)
        out[name] = (statistics.median(times), min(times))
    return out


def chunk(panel: AbnormalPanel, a: int, b: int) -> AbnormalPanel:
    """Pairs ``a..b-1`` of ``panel`` as a panel of their own."""
    n = panel.n_pairs
    kw = {}
    for name in panel.__dataclass_fields__:
        v = getattr(panel, name)
        if name == "ids":
            v = v[a:b]
        elif name != "event_days" and isinstance(v, np.ndarray) and v.ndim and v.shape[0] == n:
            v = v[a:b]
        kw[name] = v
    return AbnormalPanel(**kw)


def time_pieces(panel: AbnormalPanel, repeats: int, size: int = 2000) -> tuple[float, float]:
    """Median seconds of the one-shot tests and of the pieces path (all tests)."""
    chunks = [chunk(panel, a, min(a + size, panel.n_pairs)) for a in range(0, panel.n_pairs, size)]
    tests = list(WINDOW_TESTS)

    def pieces_path():
        first = combine_pieces([cross_section_pieces(c, WINDOWS) for c in chunks])
        scale = grank_scale(first)
        both = combine_pieces([cross_section_pieces(c, WINDOWS, grank_scale=scale) for c in chunks])
        return tests_from_pieces(both, tests, pooled=True, independence_tests=True)

    def one_shot():
        crosssection._STORES.clear()
        return cross_sectional_tests(panel, WINDOWS, tests, pooled=True, independence_tests=True)

    a, b = one_shot(), pieces_path()
    x, y = a["statistic"].to_numpy(), b["statistic"].to_numpy()
    ok = np.isfinite(x)
    assert np.array_equal(ok, np.isfinite(y))
    assert (np.abs(x[ok] - y[ok]) / np.maximum(1, np.abs(x[ok])) <= 1e-12).all()
    out = []
    for fn in (one_shot, pieces_path):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        out.append(statistics.median(times))
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--pieces", action="store_true")
    args = ap.parse_args()
    for n_dates in (1, 100):
        panel = make_panel(n_dates=n_dates)
        load = os.getloadavg()
        res = time_groups(panel, args.repeats)
        print(
            f"{N_PAIRS} pairs, {n_dates} event date(s); load average "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (before) / "
            f"{os.getloadavg()[0]:.2f} (after)"
        )
        print("  group             median      min   (daily_tests + cross_sectional_tests)")
        for name, (med, best) in res.items():
            print(f"  {name:16s} {1000 * med:7.1f}  {1000 * best:7.1f} ms")
        if args.pieces:
            one, pieces = time_pieces(panel, max(3, args.repeats // 2))
            print(
                f"  pieces path (5 chunks + combine + tests, GRANK's 2 passes) "
                f"{1000 * pieces:.1f} ms vs one-shot {1000 * one:.1f} ms (all tests, "
                "equal within 1e-12)"
            )
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            run(panel, DAILY_TESTS)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
