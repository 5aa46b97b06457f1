"""event_study on a real Dask cluster equals the local call; the benchmark baselines
equal event_study.

* ``test_local_cluster_matches_local``: a ``dask.distributed.LocalCluster`` of two
  worker processes (one thread each) runs the study in chunks through
  ``client.get_executor()``; every public frame (``alignment``, ``abnormal``, ``car``,
  ``tests``, ``params``) equals the local in-memory call to 1e-12. The frame has
  missing prices, two events and assets split into several chunks, so the chunks
  really travel to the workers (pickled) and back.
* ``test_careful_loop_matches_event_study``: the per-pair statsmodels loop of
  ``benchmarks/baselines.py`` (the reference the speed benchmarks compare against)
  gives ``event_study``'s CARs, PE-corrected standard errors and t statistics to 1e-8
  on a clean panel; ``vectorised_numpy`` gives the loop's numbers on a panel with
  missing prices.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import oilimpact as oi

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
TABLES = ("alignment", "abnormal", "car", "tests", "params")
KEYS = ["event", "series", "start", "end"]

HAS_EXECUTOR = "executor" in inspect.signature(oi.event_study).parameters


@pytest.fixture(scope="module")
def baselines():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import baselines as mod
    finally:
        sys.path.remove(str(BENCHMARKS))
    return mod


def _same(a, b, tol=1e-12):
    for name in TABLES:
        left, right = getattr(a, name), getattr(b, name)
        assert len(left) > 0 or name == "tests", f"{name} is empty"
        pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=tol, atol=tol,
                                      obj=name)  # fmt: skip


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip(
        "distributed",
        reason="dask.distributed is not installed (pip install oilimpact[distributed])",
    )
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        host="127.0.0.1",
        memory_limit=0,
    )
    cl = distributed.Client(cluster)
    try:
        yield cl
    finally:
        cl.close()
        cluster.close()


@pytest.mark.skipif(not HAS_EXECUTOR, reason="waits for executor= in event_study")
def test_local_cluster_matches_local(client, baselines):
    prices, market, events = baselines.make_panel(24, 420, 2, missing=0.02, seed=11)
    kw = dict(market=market, catalog={}, event_windows=baselines.EVENT_WINDOWS)
    local = oi.event_study(prices, events, **kw)
    remote = oi.event_study(prices, events, executor=client.get_executor(), chunk_size=10, **kw)
    _same(local, remote)
    # the work really ran on the workers: each of them holds the oilimpact module now
    loaded = client.run(lambda: "oilimpact.eventstudy.chunks" in sys.modules)
    assert len(loaded) == 2 and all(loaded.values())
    # missing prices reached the study (spanning returns), and both events are there
    assert local.alignment["spanning_returns"].sum() > 0
    assert set(local.car["event"]) == set(events)
    assert len(local.tests) > 0


def test_careful_loop_matches_event_study(baselines):
    prices, market, events = baselines.make_panel(15, 420, 2, missing=0.0, seed=3)
    res = oi.event_study(prices, events, market=market, catalog={},
                         exclude_confounders=False)  # fmt: skip
    loop = baselines.careful_loop(prices, market, events)
    both = res.car.merge(loop, on=KEYS, suffixes=("", "_loop"), validate="one_to_one")
    assert len(both) == len(loop) == 15 * 2 * 5
    for col in ("car", "se", "tstat", "pvalue", "n_est", "n_days"):
        np.testing.assert_allclose(both[col], both[f"{col}_loop"], rtol=1e-8, atol=1e-15,
                                   err_msg=col)  # fmt: skip


def test_baselines_agree_with_missing_prices(baselines):
    prices, market, events = baselines.make_panel(15, 420, 2, missing=0.03, seed=5)
    loop = baselines.careful_loop(prices, market, events)
    fast = baselines.vectorised_numpy(prices, market, events)
    naive = baselines.naive_loop(prices, market, events, assets=list(prices.columns[:3]))
    assert (loop["n_est"] < 240).any()  # the missing prices left holes
    pd.testing.assert_frame_equal(loop, fast, check_exact=False, rtol=1e-8, atol=1e-15)
    both = naive.merge(loop, on=KEYS, suffixes=("", "_loop"))
    assert len(both) == 3 * 2 * 5
    np.testing.assert_allclose(both["car"], both["car_loop"], rtol=1e-10, atol=1e-15)
    np.testing.assert_array_equal(both["n_est"], both["n_est_loop"])
    # the tutorial's se leaves out the estimation-error term: never above the PE one
    assert (both["se"] <= both["se_loop"]).all()
