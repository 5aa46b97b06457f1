"""The compiled kernels (``oilimpact.eventstudy._jit``) give the results of the numpy code.

From ``kernels.MIN_PAIRS`` pairs on, the market-model fit, the SQ reference counts, the
row sorts, the rank sums, the GRANK preparation and the residual moments run as numba
loops; the numpy code is the reference. Every comparison here runs the same call twice,
once with the threshold out of reach (numpy) and once at 0 (kernels for any size), on
small panels, and checks through counting wrappers around the ``_jit`` functions that
the numpy run called no kernel and the compiled run called the ones it is about.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from oilimpact.errors import EstimationError
from oilimpact.eventstudy import _jit, crosssection, kernels, single, threads
from oilimpact.eventstudy.crosssection import (
    DAILY_TESTS,
    WINDOW_TESTS,
    cross_sectional_tests,
    daily_tests,
    residual_correlation,
)
from oilimpact.eventstudy.models import fit_panel
from oilimpact.eventstudy.panel import AbnormalPanel
from oilimpact.eventstudy.single import ar_tests, car_tests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_crosssection import make_panel  # noqa: E402
from test_models import _data as factor_data  # noqa: E402

#: the public kernels of ``_jit`` (numba dispatchers), wrapped by the counting fixture
#: (private ones are called from compiled code only; wrapping them
#: would leave a Python function where numba expects a compiled one)
KERNEL_NAMES = tuple(
    name
    for name, obj in vars(_jit).items()
    if callable(getattr(obj, "py_func", None)) and not name.startswith("_")
)
#: the kernels every cross-sectional run on a large panel goes through
CROSS_KERNELS = ("pack_sort_keys", "unpack_sorted_rows", "grank_split", "est_row_stats")
#: the rank sums of all ranked pairs: used by estudy2, and by textbook tests on days where
#: every ranked pair has an AR
RANK = "rank_column_sums"
NUMPY = 10**9  # a threshold no panel here reaches
DAY0 = np.datetime64("2024-03-01", "ns")


# ---- switching paths --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _kernels_importable(monkeypatch):
    """Each test starts with the kernels importable (whatever ``OILIMPACT_KERNELS`` says
    where the suite runs) and empty panel stores, and leaves the cached decision as found."""
    saved = dict(kernels._STATE)
    monkeypatch.delenv("OILIMPACT_KERNELS", raising=False)
    kernels._STATE.clear()
    crosssection._STORES.clear()
    assert kernels.jit() is _jit
    yield
    crosssection._STORES.clear()
    kernels._STATE.clear()
    kernels._STATE.update(saved)


class Paths:
    """Run a call on the numpy path and on the kernel path, counting kernel calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.mp = monkeypatch
        self.calls: Counter[str] = Counter()
        for name in KERNEL_NAMES:
            monkeypatch.setattr(_jit, name, self._counting(name, getattr(_jit, name)))

    def _counting(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            self.calls[name] += 1
            return fn(*args)

        return wrapper

    def _run(self, threshold: int, fn: Callable[[], Any]) -> Any:
        self.mp.setattr(kernels, "MIN_PAIRS", threshold)
        crosssection._STORES.clear()  # no sort or rank of the other path is reused
        self.calls.clear()
        try:
            return fn()
        finally:
            crosssection._STORES.clear()

    def numpy(self, fn: Callable[[], Any]) -> Any:
        out = self._run(NUMPY, fn)
        assert not self.calls, f"the numpy path called kernels: {dict(self.calls)}"
        return out

    def compiled(self, fn: Callable[[], Any], *expect: str) -> Any:
        out = self._run(0, fn)
        missed = [name for name in expect if not self.calls[name]]
        assert set(expect) <= set(KERNEL_NAMES), (
            f"no such kernel: {set(expect) - set(KERNEL_NAMES)}"
        )
        assert not missed, f"kernels not called: {missed} (called: {dict(self.calls)})"
        return out

    def both(self, fn: Callable[[], Any], *expect: str) -> tuple[Any, Any]:
        return self.numpy(fn), self.compiled(fn, *expect)

    def errors(self, fn: Callable[[], Any]) -> tuple[str, str]:
        """The EstimationError message of each path (numpy, kernels)."""
        out = []
        for run in (self.numpy, self.compiled):
            with pytest.raises(EstimationError) as info:
                run(fn)
            out.append(str(info.value))
        return out[0], out[1]


@pytest.fixture
def paths(monkeypatch) -> Paths:
    return Paths(monkeypatch)


def quiet(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` with numpy's warnings about NaN / zero-size inputs silenced."""

    def run() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn()

    return run


# ---- comparison helpers -----------------------------------------------------------------


def assert_panels_equal(ref: AbnormalPanel, got: AbnormalPanel, exact: bool = False) -> None:
    """Every field: floats to rtol 1e-12 (NaN where the reference has NaN), the rest exact."""
    for field in dataclasses.fields(AbnormalPanel):
        a, b = getattr(ref, field.name), getattr(got, field.name)
        if field.name == "ids":
            assert a.equals(b)
        elif a is None or isinstance(a, str | int):
            assert a == b, field.name
        else:
            a, b = np.asarray(a), np.asarray(b)
            assert a.shape == b.shape, field.name
            if a.dtype.kind == "f" and not exact:
                assert b.dtype.kind == "f", field.name
                np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15, err_msg=field.name)
            else:
                assert a.dtype.kind == b.dtype.kind, field.name
                np.testing.assert_array_equal(b, a, err_msg=field.name)


def assert_frames_match(
    ref: pd.DataFrame, got: pd.DataFrame, close: dict[str, tuple[float, float]]
) -> None:
    """Columns in ``close`` to ``(rtol, atol)`` (NaN positions equal), the others exact."""
    assert list(ref.columns) == list(got.columns)
    assert len(ref) == len(got) > 0
    for col in ref.columns:
        if col in close:
            rtol, atol = close[col]
            np.testing.assert_allclose(
                got[col].to_numpy(float), ref[col].to_numpy(float), rtol=rtol, atol=atol,
                err_msg=col,
            )  # fmt: skip
        else:
            pd.testing.assert_series_equal(got[col], ref[col], check_exact=True)


CROSS_TOL = {"statistic": (1e-10, 1e-12), "pvalue": (1e-10, 1e-12)}
DAILY_TOL = {**CROSS_TOL, "mean_ar": (1e-12, 1e-15)}
WINDOW_TOL = {**CROSS_TOL, "caar": (1e-12, 1e-15), "rbar": (1e-10, 1e-12)}
# SQ p-values and counts exact; the t-test columns to rtol 1e-12
CAR_TOL = {c: (1e-12, 1e-14) for c in ("car", "se", "tstat", "pvalue")}


# ---- data -------------------------------------------------------------------------------


def market_data(
    n: int = 80,
    l1: int = 120,
    l2: int = 11,
    seed: int = 0,
    holes: bool = True,
    event_holes: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Returns of ``n`` pairs on a market: (y_est, y_evt, x_est, x_evt)."""
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0003, 0.011, (n, l1 + l2))
    beta = rng.uniform(0.3, 1.6, (n, 1))
    y = 0.0004 + beta * m + rng.standard_t(4, (n, l1 + l2)) * rng.uniform(0.008, 0.03, (n, 1))
    y_est, y_evt, x_est, x_evt = y[:, :l1], y[:, l1:], m[:, :l1], m[:, l1:]
    if holes:
        y_est[rng.random((n, l1)) < 0.04] = np.nan  # missing asset days
        x_est[rng.random((n, l1)) < 0.02] = np.nan  # missing market days
        y_est[3, : l1 // 3] = np.nan  # listed late
    if holes and event_holes:
        y_evt[rng.random((n, l2)) < 0.05] = np.nan  # missing event days
        x_evt[rng.random((n, l2)) < 0.03] = np.nan
        x_evt[4, :] = np.nan  # no event-window market at all
    return y_est, y_evt, x_est, x_evt


def cluster_dates(n: int, k: int, seed: int = 0) -> np.ndarray:
    """Day 0 of each pair, ``k`` distinct dates (Kolari-Pynnonen clusters)."""
    rng = np.random.default_rng(seed)
    offset = rng.permutation(np.arange(n) % k)
    return DAY0 + (offset * 7).astype("timedelta64[D]")


def nasty_panel(
    seed: int = 0,
    conventions: str = "textbook",
    *,
    n: int = 60,
    l1: int = 80,
    l2: int = 7,
    n_dates: int = 4,
    decimals: int | None = 3,
    infinite: bool = True,
    complete: bool = False,
) -> AbnormalPanel:
    """A hand-built panel with the edge cases the kernels must treat as numpy does."""
    rng = np.random.default_rng(seed)
    est = rng.standard_t(4, (n, l1)) * rng.uniform(0.5, 2.0, (n, 1))
    ar = rng.standard_t(4, (n, l2)) + 0.3
    if decimals is not None:  # ties
        est, ar = np.round(est, decimals), np.round(ar, decimals)
    est[rng.random((n, l1)) < 0.05] = np.nan
    if infinite:
        est[3, 5], est[4, 7] = np.inf, -np.inf
        est[5, 1], est[5, 2] = np.inf, -np.inf
    est[6, :] = np.nan  # no estimation residual at all
    est[7, :10], est[7, 10:20] = -0.0, 0.0  # signed zeros
    est[8, :] = 1.5  # all equal: zero variance
    est[9, 1:] = np.nan  # a single residual
    ar[10, 0], ar[11, 0], ar[12, 1] = -0.0, 0.0, -0.0
    if not complete:  # else every valid pair has an AR on every day but day 0
        ar[13, :] = np.nan  # no event AR
        for day in [d for d in (0, 3, 5) if d < l2 - 1]:  # some missing ARs
            ar[rng.choice(np.arange(15, n), 4, replace=False), day] = np.nan
    ar[14, 0] = np.inf  # ranked, but not an AR
    ar[16, 1] = est[16, 20]  # an event AR equal to an estimation residual
    ok = np.isfinite(est)
    cnt = ok.sum(axis=1)
    mean = np.where(ok, est, 0.0).sum(axis=1) / np.maximum(cnt, 1)
    sigma2 = (np.where(ok, est - mean[:, None], 0.0) ** 2).sum(axis=1) / np.maximum(cnt - 1, 1)
    sigma2[cnt < 2] = np.nan
    sigma2[17], sigma2[18] = np.nan, 0.0  # unusable variances
    pe = np.eye(l2) * 1.02 + 0.01 + rng.uniform(0, 0.02, (n, 1, 1))
    return AbnormalPanel(
        ids=pd.MultiIndex.from_arrays([np.arange(n) % 5, np.arange(n)], names=["event", "asset"]),
        est_resid=est,
        n_est=cnt,
        n_params=2,
        sigma2=sigma2,
        event_days=np.arange(-2, l2 - 2),
        event_ar=ar,
        pe_cov=pe,
        event_dates=cluster_dates(n, n_dates, seed),
        conventions=conventions,  # type: ignore[arg-type]
    )


def ids_of(n: int) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays(
        [[f"e{i}" for i in range(n)], [f"a{i}" for i in range(n)]], names=["event", "asset"]
    )


# ---- every kernel has a numpy twin, and a test compares them -------------------------------


def test_every_kernel_has_a_numpy_twin():
    """_jit.TWINS lists exactly the public kernels, and each twin exists."""
    import importlib

    assert set(_jit.TWINS) == set(KERNEL_NAMES)
    for kernel, (twin, _) in _jit.TWINS.items():
        module, _, attr = twin.partition(".")
        obj: Any = importlib.import_module(f"oilimpact.eventstudy.{module}")
        for part in attr.split("."):
            obj = getattr(obj, part, None)
            if obj is None:  # a sub-module
                obj = importlib.import_module(f"oilimpact.eventstudy.{module}.{part}")
                module = f"{module}.{part}"
        # a function, a method or a cached property of the numpy code
        assert callable(obj) or hasattr(obj, "__get__"), f"{kernel}: no twin {twin}"


def test_every_kernel_is_compared_with_its_twin():
    """Each kernel is named in a comparison of this module or of a ``test_kernels_*.py``
    beside it (the kernels of one engine step, using this module's ``paths`` fixture): a
    ``paths.both`` run (the same call on both paths, results compared) or the sort
    check against numpy."""
    import ast
    import inspect

    here = Path(__file__)
    files = [here, *sorted(here.parent.glob("test_kernels_*.py"))]
    nodes = [n for f in files for n in ast.walk(ast.parse(f.read_text(encoding="utf-8")))]
    consts = {"CROSS_KERNELS": set(CROSS_KERNELS), "RANK": {RANK}}
    covered: set[str] = set()
    for node in nodes:
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr != "both":
            continue
        for arg in node.args[1:]:
            inner = arg.value if isinstance(arg, ast.Starred) else arg
            if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                covered.add(inner.value)
            elif isinstance(inner, ast.Name):
                covered |= consts.get(inner.id, set())
    if "crosssection._sort_rows(" in inspect.getsource(assert_sorted_like_numpy):
        covered |= {"pack_sort_keys", "unpack_sorted_rows"}
    assert set(KERNEL_NAMES) <= covered, f"kernels no test compares: {set(KERNEL_NAMES) - covered}"


# ---- the switch ---------------------------------------------------------------------------


def test_threshold_counts_pairs(monkeypatch):
    monkeypatch.setattr(kernels, "MIN_PAIRS", 50)
    assert not kernels.enabled(49)
    assert kernels.enabled(50) and kernels.enabled(10**6)
    monkeypatch.setattr(kernels, "MIN_PAIRS", 0)
    assert kernels.enabled(1)


def test_forced_kernels_run(paths):
    """MIN_PAIRS = 0 sends a 30-pair panel through the fit, SQ and moment kernels."""
    y_est, y_evt, x_est, x_evt = market_data(n=30, seed=1)

    def run() -> tuple[AbnormalPanel, pd.DataFrame, pd.DataFrame]:
        panel = fit_panel(y_est, y_evt, x_est, x_evt, event_days=np.arange(-5, 6))
        return panel, car_tests(panel, [(0, 0), (-5, 5)]), daily_tests(panel, ["patell"])

    paths.compiled(quiet(run), "fit_market", "sq_counts")
    assert paths.calls["est_row_stats"] == 0  # patell needs no residual moments
    paths.compiled(lambda: residual_correlation(run()[0]), "fit_market", "est_row_stats")
    paths.numpy(quiet(run))  # and none of them at the default threshold


@pytest.mark.parametrize("value", ["0", "false", "No "])
def test_environment_switches_kernels_off(paths, monkeypatch, value):
    y_est, y_evt, x_est, x_evt = market_data(n=40, seed=2)

    def run() -> tuple[AbnormalPanel, pd.DataFrame, pd.DataFrame]:
        panel = fit_panel(y_est, y_evt, x_est, x_evt, event_days=np.arange(-5, 6))
        return panel, car_tests(panel, [(0, 0), (0, 5)]), daily_tests(panel)

    ref = paths.numpy(quiet(run))
    monkeypatch.setenv("OILIMPACT_KERNELS", value)
    kernels._STATE.clear()
    assert kernels.jit() is None
    assert not kernels.enabled(10**6)
    monkeypatch.setattr(kernels, "MIN_PAIRS", 0)
    assert not kernels.enabled(10**6)
    paths.calls.clear()
    got = quiet(run)()
    assert not paths.calls  # numpy throughout, and the same (identical) results
    assert_panels_equal(ref[0], got[0], exact=True)
    assert_frames_match(ref[1], got[1], {})
    assert_frames_match(ref[2], got[2], {})


def test_by_blocks_covers_rows_in_order(monkeypatch):
    monkeypatch.setattr(threads, "THREAD_ROWS", 10)
    monkeypatch.setattr(threads, "n_threads", lambda: 3)
    blocks = kernels.by_blocks(95, lambda a, b: (a, b))
    assert len(blocks) == 3
    assert blocks[0][0] == 0 and blocks[-1][1] == 95
    assert all(x[1] == y[0] and x[0] < x[1] for x, y in zip(blocks, blocks[1:], strict=False))
    monkeypatch.setattr(threads, "THREAD_ROWS", 2048)
    assert kernels.by_blocks(95, lambda a, b: (a, b)) == [(0, 95)]


# ---- 1. the market-model fit --------------------------------------------------------------


@pytest.mark.parametrize(
    ("holes", "min_estimation", "n_dates"),
    [(False, None, 1), (True, None, 3), (True, 60, 5)],
    ids=["complete", "missing", "min_estimation"],
)
def test_fit_market_textbook(paths, holes, min_estimation, n_dates):
    y_est, y_evt, x_est, x_evt = market_data(n=90, seed=3, holes=holes)
    dates = cluster_dates(90, n_dates)

    def run() -> AbnormalPanel:
        return fit_panel(
            y_est, y_evt, x_est, x_evt, event_days=np.arange(-5, 6), ids=ids_of(90),
            event_dates=dates, min_estimation=min_estimation,
        )  # fmt: skip

    ref, got = paths.both(quiet(run), "fit_market")
    assert_panels_equal(ref, got)
    assert got.design_est is not None and got.design_est.shape == (90, 120, 1)
    if holes:  # the missing days are where the reference has them
        assert np.isnan(ref.est_resid).sum() > 100 and np.isnan(ref.event_ar).any()
        assert np.isnan(ref.pe_cov[4]).all()  # no event market: every PE entry NaN
        assert (got.design_evt[4] == 0).all()


def test_fit_market_does_not_touch_inputs(paths):
    data = market_data(n=30, seed=4)
    before = [a.copy() for a in data]
    paths.compiled(lambda: fit_panel(*data, event_days=np.arange(-5, 6)), "fit_market")
    for a, b in zip(data, before, strict=True):
        np.testing.assert_array_equal(a, b)


def _short_days(y_est, x_est):
    y_est[5, 2:] = np.nan  # 2 usable days, the market model needs 3


def _no_days(y_est, x_est):
    y_est[7, :] = np.nan
    y_est[12, 1:] = np.nan


def _market_gaps(y_est, x_est):
    x_est[6, :] = np.nan  # no market at all: no usable day


def _flat_market(y_est, x_est):
    x_est[4, :] = 0.015625  # 2**-6: its sums are exact in any order


def _flat_on_own_days(y_est, x_est):
    """The market moves, but not on the days this pair has a return."""
    y_est[9, ::2] = np.nan
    x_est[9, 1::2] = -0.25


def _zero_market(y_est, x_est):
    x_est[1, :] = 0.0


@pytest.mark.parametrize(
    ("mutate", "min_estimation", "expect"),
    [
        (_short_days, None, r"needs 3 usable days, got 2 \(event=e5, series=a5\); 1 pair"),
        (_no_days, None, r"needs 3 usable days, got 0 \(event=e7, series=a7\); 2 pair"),
        (_market_gaps, None, r"got 0 \(event=e6"),
        (None, 121, r"needs 121 usable days, got 120 \(event=e0, series=a0\); 30 pair"),
        (_flat_market, None, r"singular: a regressor is constant .*event=e4, series=a4"),
        (_flat_on_own_days, None, r"singular.*event=e9, series=a9"),
        (_zero_market, None, r"singular.*event=e1, series=a1"),
    ],
    ids=["two_days", "no_days", "no_market", "min_estimation", "flat", "flat_own", "zero"],
)
def test_fit_market_errors_are_the_same(paths, mutate, min_estimation, expect):
    y_est, y_evt, x_est, x_evt = market_data(n=30, seed=5, holes=False)
    if mutate is not None:
        mutate(y_est, x_est)

    def run() -> AbnormalPanel:
        return fit_panel(
            y_est, y_evt, x_est, x_evt, event_days=np.arange(-5, 6), ids=ids_of(30),
            min_estimation=min_estimation,
        )  # fmt: skip

    ref, got = paths.errors(quiet(run))
    assert got == ref
    assert re.search(expect, ref), ref
    assert paths.calls["fit_market"] > 0  # the kernel ran before the check


def test_constant_market_raises_on_both_paths(paths):
    y_est, y_evt, x_est, x_evt = market_data(n=3, l1=17, seed=6, holes=False)
    x_est[1, :] = 0.1

    def run() -> AbnormalPanel:
        return fit_panel(y_est, y_evt, x_est, x_evt, event_days=np.arange(-5, 6))

    ref, got = paths.errors(quiet(run))
    assert got == ref


def test_constant_markets_raise_on_both_paths(paths):
    # 200 random constant markets (levels 1e-4..10, 5..300 days), one per panel of 3
    # pairs: before the check was relative to rounding, S_xx of such a market was a
    # rounding residue (> 0) in about half of the cases and the fit went ahead
    rng = np.random.default_rng(11)
    for _ in range(200):
        l1 = int(rng.integers(5, 300))
        seed = int(rng.integers(1 << 30))
        y_est, y_evt, x_est, x_evt = market_data(n=3, l1=l1, seed=seed, holes=False)
        x_est[1, :] = 10.0 ** rng.uniform(-4, 1) * rng.choice([-1.0, 1.0])

        def run(y_est=y_est, y_evt=y_evt, x_est=x_est, x_evt=x_evt) -> AbnormalPanel:
            return fit_panel(y_est, y_evt, x_est, x_evt, event_days=np.arange(-5, 6))

        ref, got = paths.errors(quiet(run))
        assert got == ref and "constant" in ref


def _fit_case(name: str) -> tuple[tuple[np.ndarray, ...], dict[str, Any]]:
    y_est, y_evt, x_est, x_evt = market_data(n=50, seed=7)
    if name == "constant_mean":
        return (y_est, y_evt), {"model": "constant_mean"}
    if name == "zero_mean":
        return (y_est, y_evt), {"model": "zero_mean"}
    if name == "market_adjusted":
        return (y_est, y_evt, x_est, x_evt), {"model": "market_adjusted"}
    if name == "market_estudy2":
        return (y_est, y_evt, x_est, x_evt), {"model": "market", "conventions": "estudy2"}
    if name == "constant_mean_estudy2":
        return (y_est, y_evt), {"model": "constant_mean", "conventions": "estudy2"}
    f = 3 if name == "multifactor" else 2
    ye, yv, xe, xv = factor_data(n=30, l1=120, l2=11, f=f, seed=8)
    conv = "textbook" if name == "multifactor" else "estudy2"
    return (ye, yv, xe, xv), {"model": "multifactor", "conventions": conv}


@pytest.mark.parametrize(
    "name",
    [
        "constant_mean",
        "zero_mean",
        "market_adjusted",
        "market_estudy2",
        "constant_mean_estudy2",
        "multifactor",
        "multifactor_estudy2",
    ],
)
def test_other_models_ignore_the_threshold(paths, name):
    args, kw = _fit_case(name)

    def run() -> AbnormalPanel:
        return fit_panel(*args, event_days=np.arange(-5, 6), **kw)

    ref, got = paths.both(quiet(run))
    assert not paths.calls  # no kernel: the same numpy code, value for value
    assert_panels_equal(ref, got, exact=True)
    if kw["model"] != "zero_mean":
        assert np.isfinite(ref.sigma2).all()


# ---- 2. the single-pair tests -------------------------------------------------------------

WINDOWS_11 = [(0, 0), (-5, 5), (0, 5), (-1, 1), (5, 5), (-5, -5), (0, 1)]
WINDOWS_40 = [(0, 0), (-2, 37), (0, 37), (10, 29), (1, 1), (-2, -2), (0, 4)]


def _sq_panel(l1: int, l2: int, holes: float, seed: int) -> AbnormalPanel:
    days = np.arange(-5, 6) if l2 == 11 else np.arange(-2, l2 - 2)
    y_est, y_evt, x_est, x_evt = market_data(n=70, l1=l1, l2=l2, seed=seed, holes=holes > 0)
    rng = np.random.default_rng(seed + 1)
    y_est[rng.random(y_est.shape) < holes] = np.nan  # 0.3: the "many missing days" branch
    with np.errstate(all="ignore"):
        return fit_panel(y_est, y_evt, x_est, x_evt, event_days=days)


@pytest.mark.parametrize(
    ("l1", "l2", "holes"),
    [(120, 11, 0.0), (120, 11, 0.05), (60, 40, 0.3), (45, 40, 0.02)],
    ids=["complete", "few_missing", "many_missing_long", "long_windows"],
)
def test_sq_tests_on_one_panel(paths, l1, l2, holes):
    """The SQ counts of the kernel equal numpy's on the same fitted panel."""
    panel = _sq_panel(l1, l2, holes, seed=9)
    windows = WINDOWS_11 if l2 == 11 else WINDOWS_40
    ref, got = paths.both(quiet(lambda: car_tests(panel, windows)), "sq_counts")
    assert_frames_match(ref, got, CAR_TOL)
    assert ref["sq_pvalue"].notna().sum() > len(ref) // 3
    assert (ref["sq_n"] < l1 - ref["n_days"] + 1).any() == (holes > 0)
    a_ref, a_got = paths.both(quiet(lambda: ar_tests(panel)), "sq_counts")
    assert a_ref.keys() == a_got.keys()
    for key in a_ref:
        np.testing.assert_array_equal(a_got[key], a_ref[key], err_msg=key)


def test_sq_tests_four_days(paths):
    """Four event days or fewer: numpy counts by direct comparisons, not by sorting."""
    panel = _sq_panel(120, 4, 0.05, seed=10)
    ref, got = paths.both(quiet(lambda: ar_tests(panel)), "sq_counts")
    for key in ref:
        np.testing.assert_array_equal(got[key], ref[key], err_msg=key)
    windows = [(-2, -2), (-2, 1), (0, 1)]
    ref, got = paths.both(quiet(lambda: car_tests(panel, windows)), "sq_counts")
    assert_frames_match(ref, got, CAR_TOL)


@pytest.mark.parametrize("holes", [0.05, 0.3])
def test_sq_tests_pipeline(paths, holes):
    """Fit and test on each path: SQ p-values and counts still exactly equal."""
    y_est, y_evt, x_est, x_evt = market_data(n=100, seed=11)
    y_est[np.random.default_rng(12).random(y_est.shape) < holes] = np.nan

    def run() -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        panel = fit_panel(y_est, y_evt, x_est, x_evt, event_days=np.arange(-5, 6))
        return car_tests(panel, WINDOWS_11), ar_tests(panel)

    (c_ref, a_ref), (c_got, a_got) = paths.both(quiet(run), "fit_market", "sq_counts")
    assert_frames_match(c_ref, c_got, CAR_TOL)
    for key in ("ar", "se", "tstat", "pvalue"):
        np.testing.assert_allclose(a_got[key], a_ref[key], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(a_got["sq_pvalue"], a_ref["sq_pvalue"])


def _tie_panel(seed: int, missing: float) -> AbnormalPanel:
    """Integer residuals, zero leverage (references are plain rolling sums / sqrt(L)) and
    event ARs copied from the residuals: statistics equal to references, exactly."""
    rng = np.random.default_rng(seed)
    n, l1, l2 = 40, 60, 25
    est = rng.integers(-5, 6, (n, l1)).astype(float)
    ar = est[:, rng.integers(0, l1, l2)].copy()
    ar[:, :3] = est[:, 10:13]  # a 3-day CAR equal to a reference sum
    est[rng.random((n, l1)) < missing] = np.nan
    est[2, 3], est[3, 4] = np.inf, -np.inf
    ar[4, 5], ar[5, 6] = np.inf, np.nan
    zero = np.zeros
    return AbnormalPanel(
        ids=ids_of(n),
        est_resid=est,
        n_est=np.isfinite(est).sum(axis=1),
        n_params=0,
        sigma2=np.ones(n),
        event_days=np.arange(l2),
        event_ar=ar,
        pe_cov=np.broadcast_to(np.eye(l2), (n, l2, l2)),
        event_dates=np.full(n, DAY0),
        design_est=zero((n, l1, 1)),
        design_evt=zero((n, l2, 1)),
        sxx_inv=zero((n, 1, 1)),
    )


@pytest.mark.parametrize("missing", [0.05, 0.3])
def test_sq_tests_with_exact_ties_and_infinities(paths, missing):
    panel = _tie_panel(13, missing)
    windows = [(0, 0), (0, 2), (0, 24), (3, 7), (1, 1), (0, 1)]
    ref, got = paths.both(quiet(lambda: car_tests(panel, windows)), "sq_counts")
    assert_frames_match(ref, got, CAR_TOL)
    # the day-0 statistics equal one of their references in most rows (ties)
    with np.errstate(invalid="ignore"):  # inf - inf in the running sums
        ref1, ref3 = single.sq_reference(panel, 1), single.sq_reference(panel, 3)
    assert (ref1 == panel.event_ar[:, :1]).any(axis=1).sum() > 30
    car3 = panel.event_ar[:, :3].sum(axis=1, keepdims=True) / np.sqrt(3)
    assert (ref3 == car3).any(axis=1).sum() > 20
    a_ref, a_got = paths.both(quiet(lambda: ar_tests(panel)), "sq_counts")
    for key in a_ref:
        np.testing.assert_array_equal(a_got[key], a_ref[key], err_msg=key)


def test_sq_tests_hand_built_market_panel(paths):
    """A market-model panel without design fields: the design is rebuilt from the market."""
    rng = np.random.default_rng(14)
    n, l1, l2 = 40, 90, 11
    est = rng.normal(0, 0.02, (n, l1))
    est[rng.random((n, l1)) < 0.05] = np.nan
    panel = AbnormalPanel(
        ids=ids_of(n),
        est_resid=est,
        n_est=np.isfinite(est).sum(axis=1),
        n_params=2,
        sigma2=np.full(n, 4e-4),
        event_days=np.arange(-5, 6),
        event_ar=rng.normal(0, 0.02, (n, l2)),
        pe_cov=np.broadcast_to(np.eye(l2), (n, l2, l2)),
        event_dates=np.full(n, DAY0),
        est_market=rng.normal(0, 0.01, (n, l1)),
        event_market=rng.normal(0, 0.01, (n, l2)),
    )
    ref, got = paths.both(quiet(lambda: car_tests(panel, WINDOWS_11)), "sq_counts")
    assert_frames_match(ref, got, CAR_TOL)
    a_ref, a_got = paths.both(quiet(lambda: ar_tests(panel)), "sq_counts")
    for key in a_ref:
        np.testing.assert_array_equal(a_got[key], a_ref[key], err_msg=key)


# ---- 3. the cross-sectional tests ---------------------------------------------------------

CROSS_WINDOWS = [(0, 0), (-2, 4), (0, 2), (-1, 1), (1, 1), (2, 4)]


def _cross_run(panel: AbnormalPanel, windows: list[tuple[int, int]]) -> Callable[[], Any]:
    def run() -> tuple[pd.DataFrame, pd.DataFrame, float]:
        daily = daily_tests(panel, DAILY_TESTS)
        window = cross_sectional_tests(panel, windows, WINDOW_TESTS)
        return daily, window, residual_correlation(panel)

    return quiet(run)


def _assert_cross_equal(ref: tuple[Any, ...], got: tuple[Any, ...]) -> None:
    assert_frames_match(ref[0], got[0], DAILY_TOL)
    assert_frames_match(ref[1], got[1], WINDOW_TOL)
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-12, atol=1e-15)
    assert set(ref[0]["test"]) == set(DAILY_TESTS)
    assert set(ref[1]["test"]) == set(WINDOW_TESTS)
    for frame in ref[:2]:  # every test produced numbers, GRANK included
        finite = frame.groupby("test")["statistic"].apply(lambda s: np.isfinite(s).any())
        assert finite.all(), finite[~finite]


@pytest.mark.parametrize("conventions", ["textbook", "estudy2"])
def test_cross_sectional_on_fitted_panel(paths, conventions):
    y_est, y_evt, x_est, x_evt = market_data(n=120, seed=15)
    dates = cluster_dates(120, 4, seed=15)

    def run() -> tuple[Any, ...]:
        panel = fit_panel(
            y_est, y_evt, x_est, x_evt, event_days=np.arange(-5, 6), event_dates=dates,
            conventions=conventions,
        )  # fmt: skip
        return _cross_run(panel, [(0, 0), (-5, 5), (0, 3), (-1, 1), (5, 5)])()

    # textbook: pair 4 has no event AR, so no day tests all ranked pairs (no RANK)
    expect = CROSS_KERNELS + (("fit_market",) if conventions == "textbook" else (RANK,))
    ref, got = paths.both(run, *expect)
    _assert_cross_equal(ref, got)
    assert ref[2] != 0.0


@pytest.mark.parametrize("conventions", ["textbook", "estudy2"])
@pytest.mark.parametrize(
    "case",
    [
        {"decimals": 3},
        {"decimals": 1, "seed": 1},
        {"decimals": None, "seed": 2},
        {"decimals": 3, "infinite": False, "seed": 3, "n_dates": 3},
        {"decimals": 2, "n_dates": 1, "seed": 4},
        {"decimals": 3, "n_dates": 5, "seed": 5, "l1": 250, "n": 150},
        {"decimals": 2, "seed": 6, "complete": True},
        {"decimals": None, "seed": 7, "complete": True, "n_dates": 3},
    ],
    ids=["ties", "heavy_ties", "continuous", "finite", "one_date", "wide", "complete", "smooth"],
)
def test_cross_sectional_on_hand_built_panel(paths, conventions, case):
    panel = nasty_panel(conventions=conventions, **case)
    rank = (RANK,) if conventions == "estudy2" or case.get("complete") else ()
    ref, got = paths.both(_cross_run(panel, CROSS_WINDOWS), *CROSS_KERNELS, *rank)
    _assert_cross_equal(ref, got)
    # the edge cases reach the tests: pairs without a usable variance are not counted
    n_used = ref[0].query("test == 'patell' and day == -2")["n"].iloc[0]
    assert n_used < panel.n_pairs - 3


@pytest.mark.parametrize("conventions", ["textbook", "estudy2"])
def test_cross_sectional_on_test_crosssection_panel(paths, conventions):
    panel = make_panel(
        n=60, missing=True, shift=0.003, rho=0.2, seed=16, conventions=conventions,
        dates=cluster_dates(60, 3, seed=16),
    )  # fmt: skip
    rank = (RANK,) if conventions == "estudy2" else ()
    ref, got = paths.both(_cross_run(panel, [(0, 0), (-3, 3), (-1, 1)]), *CROSS_KERNELS, *rank)
    _assert_cross_equal(ref, got)
    assert ref[2] > 0.05  # the common factor shows in the same-date correlation


def test_cross_sectional_few_pairs_and_single_days(paths):
    """Fewer pairs than GRANK needs, a one-day estimation window for one pair."""
    panel = nasty_panel(seed=6, n=19, l2=3)
    ref, got = paths.both(_cross_run(panel, [(0, 0), (-2, 0)]), *CROSS_KERNELS[:2])
    assert_frames_match(ref[0], got[0], DAILY_TOL)
    assert_frames_match(ref[1], got[1], WINDOW_TOL)
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("conventions", ["textbook", "estudy2"])
def test_panel_pieces_are_the_same(paths, conventions):
    """The intermediates the kernels replace, compared directly."""
    panel = nasty_panel(seed=7, conventions=conventions, decimals=2)

    def run() -> dict[str, Any]:
        parts = crosssection._Parts(panel)
        g = parts.grank_prep
        return {
            "rank_days": parts.rank_days,
            "ranked_pairs": parts.ranked_pairs,
            "grank": (g.sv, g.li, g.nn, g.q, g.base, g.n_t, g.inv),
            "p_hat": parts.p_hat,
            "bw_sd": parts.bw_sd,
            "rbar": parts.rbar,
        }

    ref, got = paths.both(quiet(run), *CROSS_KERNELS, RANK)
    for a, b in zip(ref["rank_days"], got["rank_days"], strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(got["ranked_pairs"], ref["ranked_pairs"])
    for a, b in zip(ref["grank"], got["grank"], strict=True):
        assert a.shape == b.shape
        if a.dtype.kind == "f":
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)
        else:
            np.testing.assert_array_equal(b, a)
    assert got["p_hat"] == pytest.approx(ref["p_hat"], rel=1e-12)
    assert got["bw_sd"][1] == ref["bw_sd"][1]
    assert got["bw_sd"][0] == pytest.approx(ref["bw_sd"][0], rel=1e-12)
    assert got["rbar"] == pytest.approx(ref["rbar"], rel=1e-12, abs=1e-15)
    assert np.isnan(ref["grank"][0][6]).all() and (ref["grank"][3][6] == 0).all()


def test_estudy2_brown_warner_variances_are_the_same(paths):
    panel = nasty_panel(seed=8, conventions="estudy2")
    ref, got = paths.both(quiet(lambda: crosssection._Parts(panel).bw_var), "est_row_stats")
    assert np.isnan(ref).any()  # the all-NaN row: NaN on both paths (not -0.0)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)  # summation order only


def test_blocks_on_threads_give_the_same_results(paths, monkeypatch):
    """Row blocks on several threads (as for a large panel), on a small one."""
    monkeypatch.setattr(threads, "THREAD_ROWS", 16)
    assert len(kernels.by_blocks(100, lambda a, b: b - a)) > 1
    y_est, y_evt, x_est, x_evt = market_data(n=100, seed=17, event_holes=False)
    dates = cluster_dates(100, 4, seed=17)

    def run() -> tuple[Any, ...]:
        panel = fit_panel(
            y_est, y_evt, x_est, x_evt, event_days=np.arange(-5, 6), event_dates=dates
        )
        return (panel, car_tests(panel, WINDOWS_11)) + _cross_run(panel, [(0, 0), (-5, 5)])()

    ref, got = paths.both(run, "fit_market", "sq_counts", *CROSS_KERNELS, RANK)
    for name in ("fit_market", "sq_counts", "est_row_stats", RANK, "grank_split"):
        assert paths.calls[name] > 1, name  # one call per row block
    assert_panels_equal(ref[0], got[0])
    assert_frames_match(ref[1], got[1], CAR_TOL)
    _assert_cross_equal(ref[2:], got[2:])


# ---- 4. the row sort by packed keys -------------------------------------------------------


def assert_sorted_like_numpy(x: np.ndarray) -> None:
    order, xs, n_row, n_col = crosssection._sort_rows_compiled(x)
    _, xs_ref, _ = crosssection._sort_rows(x.copy(), want_flat=True)
    np.testing.assert_array_equal(xs, xs_ref)  # NaN last on both
    np.testing.assert_array_equal(np.take_along_axis(x, order, 1), xs)
    np.testing.assert_array_equal(
        np.sort(order, axis=1), np.broadcast_to(np.arange(x.shape[1]), x.shape)
    )
    nan = np.isnan(x)
    np.testing.assert_array_equal(n_row, (~nan).sum(axis=1))
    np.testing.assert_array_equal(n_col, (~nan).sum(axis=0))


def nasty_rows(width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(16, width))
    x[0] = np.nan  # all NaN
    x[1] = 3.0  # all equal
    base = 1.2345
    x[2] = base + np.arange(width)[::-1] * np.spacing(base)  # one ulp apart, descending
    x[3] = np.nextafter(base, np.where(rng.random(width) < 0.5, -np.inf, np.inf))
    bits = np.full(width, base).view(np.uint64)
    # equal but for the last 9 mantissa bits (the bits the column index replaces)
    x[4] = (bits ^ rng.integers(0, 512, width).astype(np.uint64)).view(np.float64)
    x[5] = -x[4]
    x[6, ::2], x[6, 1::2] = -0.0, 0.0
    x[7, rng.random(width) < 0.3] = np.nan
    x[8, ::3], x[8, 1::3] = np.inf, -np.inf
    x[9] = np.round(x[9], 1)  # ties
    x[10, rng.random(width) < 0.3] = np.nan
    x[10, 0] = np.inf
    x[11] = np.where(rng.random(width) < 0.5, np.nan, -x[4])
    special = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, -5e-324, 1.0, -1.0]
    special += [np.finfo(float).max, -np.finfo(float).max, np.finfo(float).tiny]
    x[12] = rng.choice(special, width)
    x[13] = np.copysign(np.nan, -1.0)  # negative NaN
    x[13, ::4] = rng.normal(size=x[13, ::4].size)
    x[14] = np.round(rng.normal(size=width), 0) * 0.1  # ties near zero, signed zeros
    return x


@pytest.mark.parametrize("width", [1, 2, 9, 64, 300, 513])
@pytest.mark.parametrize("nan", [True, False], ids=["nan", "no_nan"])
def test_sort_rows_compiled_equals_numpy(width, nan):
    x = nasty_rows(width, seed=width)
    if not nan:
        x[np.isnan(x)] = 0.5
    assert_sorted_like_numpy(x)


def test_sort_rows_compiled_on_blocks(monkeypatch):
    monkeypatch.setattr(threads, "THREAD_ROWS", 4)
    x = np.concatenate([nasty_rows(70, seed=s) for s in range(3)])
    assert len(kernels.by_blocks(x.shape[0], lambda a, b: None)) > 1
    assert_sorted_like_numpy(x)


_SPECIAL = st.sampled_from(
    [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, np.nextafter(1.0, 2.0), np.nextafter(1.0, 0.0)]
)


@st.composite
def sort_inputs(draw: st.DrawFn) -> np.ndarray:
    rows = draw(st.integers(1, 4))
    width = draw(st.integers(1, 600))
    base = draw(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))
    near = np.full(width, base).view(np.uint64) ^ np.arange(width, dtype=np.uint64) % 700
    near = near.view(np.float64)
    pool = draw(
        hnp.arrays(
            np.float64,
            (rows, width),
            elements=st.one_of(st.floats(width=64), _SPECIAL, st.sampled_from(near[:8].tolist())),
        )
    )
    pick = draw(hnp.arrays(np.int8, (rows, width), elements=st.integers(0, 2)))
    out = np.where(pick == 0, pool, np.broadcast_to(near, (rows, width)))
    return np.where(pick == 2, np.round(pool, 0), out)


@settings(max_examples=50, deadline=None, database=None, derandomize=True)
@given(sort_inputs())
def test_sort_rows_compiled_property(x):
    with np.errstate(all="ignore"):
        assert_sorted_like_numpy(np.ascontiguousarray(x))


def test_exact_fits_agree_on_both_paths(paths):
    """An asset that is the market (and one that is 2x + c): s^2, residuals and the
    noise-level ARs are exactly 0 on both paths, so the CAR and cross-sectional tests
    agree (before, s^2 was ~1e-36 on one path and 0 on the other)."""
    y_est, y_evt, x_est, x_evt = market_data(n=30, l1=100, l2=5, seed=4, holes=False)
    y_est[0], y_evt[0] = x_est[0].copy(), x_evt[0].copy()
    y_est[1], y_evt[1] = 2 * x_est[1] + 0.001, 2 * x_evt[1] + 0.001

    def run() -> tuple[Any, ...]:
        panel = fit_panel(y_est, y_evt, x_est, x_evt, event_days=np.arange(-2, 3))
        windows = [(-2, 2), (0, 0)]
        return (panel, car_tests(panel, windows), cross_sectional_tests(panel, windows))

    ref, got = paths.both(quiet(run), "fit_market")
    for panel in (ref[0], got[0]):
        assert (panel.sigma2[:2] == 0).all() and (panel.sigma2[2:] > 0).all()
        assert (panel.est_resid[:2] == 0).all() and (panel.event_ar[:2] == 0).all()
    assert_panels_equal(ref[0], got[0])
    assert_frames_match(ref[1], got[1], CAR_TOL)
    assert_frames_match(ref[2], got[2], WINDOW_TOL)
    patell = ref[2][(ref[2]["test"] == "patell") & (ref[2]["window"] == "[0,0]")]
    assert int(patell["n"].iloc[0]) == 28  # the two exact fits are left out


def test_empty_event_window_on_both_paths(paths):
    """No event days (L2 = 0): per-day tests return empty arrays on both paths."""
    y_est, y_evt, x_est, x_evt = market_data(n=5, l1=30, l2=0, seed=1, holes=False)

    def run() -> dict[str, np.ndarray]:
        return ar_tests(fit_panel(y_est, y_evt, x_est, x_evt, event_days=np.arange(0)))

    ref, got = paths.both(quiet(run), "fit_market")
    for key in ref:
        assert got[key].shape == ref[key].shape == (5, 0), key


def test_event_study_with_spanning_returns_agrees_on_both_paths(paths):
    """Returns spanning a missing session (scaled variance) on both fit paths."""
    from oilimpact.eventstudy import event_study

    idx = pd.bdate_range("2024-01-02", periods=420)
    rng = np.random.default_rng(17)
    m = rng.normal(0, 0.01, len(idx))
    cols = {"mkt": 4000 * np.exp(np.cumsum(m))}
    for j in range(12):
        cols[f"s{j}"] = 50 * np.exp(np.cumsum(0.8 * m + rng.normal(0, 0.015, len(idx))))
    prices = pd.DataFrame(cols, index=idx)
    day0 = idx[330]
    for j in range(0, 12, 2):  # half the series miss a price inside the event windows
        prices.loc[idx[330 + j % 5], f"s{j}"] = np.nan
    run = quiet(lambda: event_study(prices, {"e": day0.date()}, market="mkt", catalog={}))
    ref, got = paths.both(run, "fit_market")
    assert ref.panel.session_weights is not None
    assert (ref.abnormal["sessions"] == 2).sum() == 6
    assert_panels_equal(ref.panel, got.panel)
    pd.testing.assert_frame_equal(ref.abnormal, got.abnormal, check_exact=False, rtol=1e-12)
    cols_num = ["car", "se", "tstat", "pvalue", "sq_pvalue", "qvalue", "sessions"]
    pd.testing.assert_frame_equal(ref.car[cols_num], got.car[cols_num], check_exact=False,
                                  rtol=1e-12)  # fmt: skip
