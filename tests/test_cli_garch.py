"""``--model market_garch`` on the command line (study, volatility) and in the brief.

Needs the engine to pass the market to the GARCH models (eventstudy/inputs.py treating
``market_garch``/``market_gjr`` as ``market``). Synthetic store and, when
``../shared/data/real`` is present, the real snapshot as of 2026-06-30.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oilimpact import api
from oilimpact.eventstudy.spec import GARCH_WINDOW

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_cli_methods import (  # noqa: E402
    REAL,
    invoke,
    make_demo_store,
    make_real_store,
    needs_real,
    study_of,
)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    return make_demo_store(tmp_path_factory.mktemp("demo_store_garch"))


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    if not REAL.is_dir():
        pytest.skip(f"real snapshot {REAL} absent")
    return make_real_store(tmp_path_factory.mktemp("real_store_garch"))


def test_study_market_garch_json_equals_the_library(demo_store):
    res = invoke("study", "brent", "--event", "blockade", "--model", "market-garch", "--json",
                  "--data-dir", str(demo_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["spec"]["model"] == "market_garch"
    # the GARCH models' own default estimation window (three years), unless given
    assert tuple(payload["spec"]["estimation_window"]) == GARCH_WINDOW == (-760, -11)
    given = invoke("study", "brent", "--event", "blockade", "--model", "market_garch",
                   "--estimation", "-400,-11", "--json", "--data-dir", str(demo_store))  # fmt: skip
    assert json.loads(given.stdout)["spec"]["estimation_window"] == [-400, -11]
    ols = invoke("study", "brent", "--event", "blockade", "--json", "--data-dir", str(demo_store))
    assert json.loads(ols.stdout)["spec"]["estimation_window"] == [-250, -11]
    direct = study_of(demo_store, ["brent"], model="market_garch", estimation_window=GARCH_WINDOW)
    got = pd.DataFrame(payload["car"])
    np.testing.assert_allclose(got["car"].to_numpy(float), direct.car["car"].to_numpy(float),
                               rtol=1e-10)  # fmt: skip
    np.testing.assert_allclose(got["tstat"].to_numpy(float), direct.car["tstat"].to_numpy(float),
                               rtol=1e-10)  # fmt: skip
    text = invoke("study", "brent", "--event", "blockade", "--model", "market_garch",
                   "--data-dir", str(demo_store)).stdout  # fmt: skip
    assert "model=market_garch" in text and "GARCH(1,1) errors" in text


@needs_real
def test_real_study_market_garch_prints_documented_output(real_store):
    """The issue's command on the real snapshot (as of 2026-06-30)."""
    res = invoke("study", "brent", "--event", "blockade", "--model", "market_garch",
                  "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    out = res.stdout
    for part in ("model=market_garch", "Normal-return model per pair", "converged",
                 "Cumulative abnormal returns", "p(SQ)", "GARCH(1,1) errors"):  # fmt: skip
        assert part in out, part
    direct = study_of(real_store, ["brent"], model="market_garch", estimation_window=GARCH_WINDOW)
    day0 = direct.car[(direct.car["start"] == 0) & (direct.car["end"] == 0)].iloc[0]
    row = next(line for line in out.splitlines() if "[+0,+0]" in line).split()
    assert float(row[3]) == pytest.approx(100 * day0["car"], abs=0.006)  # CAR, % (2 decimals)
    assert res.stderr.strip().splitlines()[-1].startswith("study: 1 series x 1 event, 5 CARs")


@needs_real
def test_real_volatility_command_prints_documented_output(real_store):
    """`oilimpact volatility brent --event blockade` on the real snapshot: the GARCH
    abnormal-volatility rows equal eventvol.volatility_tests, and the VIX jump's log
    change is the one computed by hand from the stored closes."""
    from oilimpact.events import load_catalog
    from oilimpact.eventstudy.eventvol import volatility_tests

    res = invoke("volatility", "brent", "--event", "blockade", "--data-dir", str(real_store))
    assert res.exit_code == 0, res.output
    assert "Abnormal volatility (market_garch on sp500)" in res.stdout
    assert "Implied volatility jump" in res.stdout and " vix " in res.stdout
    rows = pd.DataFrame(json.loads(invoke("volatility", "brent", "--event", "blockade",
                                           "--json", "--data-dir", str(real_store)).stdout))  # fmt: skip
    windows = [(0, 0), (0, 1), (0, 5)]
    direct = volatility_tests(study_of(real_store, ["brent"], model="market_garch", estimation_window=GARCH_WINDOW,
                                     event_windows=windows), windows)  # fmt: skip
    avr = rows[rows["test"] == "abnormal_volatility"]
    np.testing.assert_allclose(avr["avr"].to_numpy(float), direct["avr"].to_numpy(float),
                               rtol=1e-10)  # fmt: skip
    vix = api.load("vix", data_dir=real_store).dropna()
    jump = rows[(rows["test"] == "implied_vol_jump") & rows["end"].eq(1)].iloc[0]
    d0 = vix.index.get_loc(pd.Timestamp(jump["day0"]))
    assert jump["log_change"] == pytest.approx(np.log(vix.iloc[d0 + 1] / vix.iloc[d0 - 1]),
                                               rel=1e-12)  # fmt: skip
    day0 = load_catalog()["blockade"].date
    assert pd.Timestamp(jump["day0"]) >= pd.Timestamp(day0)
