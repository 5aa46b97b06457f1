"""The issue-13 methods on the command line: resampling and power options of ``study``,
the GARCH model, the ``volatility`` command, and the intervention post-event rule.

Each is run with CliRunner on a synthetic store (the seeded demo prices, imported from
CSV files) and, when ``../shared/data/real`` is present, on the real snapshot imported as
of 2026-06-30 (the issue's command). The numbers are checked against direct library calls
on the same frames.
"""

from __future__ import annotations

import json
import warnings
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from oilimpact import api
from oilimpact.cli import app

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"real snapshot {REAL} absent")

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def make_demo_store(root: Path) -> Path:
    """A store under ``root`` holding the demo's brent, wti, sp500 and vix (EIA-format CSV
    imports); returns the store directory."""
    from oilimpact.demo import demo_dataset

    prices = demo_dataset().prices
    for name in ("brent", "wti", "sp500", "vix"):
        path = root / f"{name}.csv"
        s = prices[name].dropna()
        pd.DataFrame({"Date": s.index.strftime("%Y-%m-%d"), "Price": s.to_numpy()}).to_csv(
            path, index=False
        )
        api.import_file(
            path, name=name, fmt="eia", data_dir=root / "store", fetched_at="2026-01-10T00:00:00Z"
        )
    return root / "store"


def make_real_store(root: Path) -> Path:
    """The real snapshot imported into ``root`` (as ``python -m oilimpact.snapshot ...
    --as-of 2026-06-30`` does)."""
    from oilimpact.snapshot import import_snapshot

    import_snapshot(REAL, root, fetched_at="2026-06-30T00:00:00Z")
    return root


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    return make_demo_store(tmp_path_factory.mktemp("demo_store"))


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    if not REAL.is_dir():
        pytest.skip(f"real snapshot {REAL} absent")
    return make_real_store(tmp_path_factory.mktemp("real_store_0630"))


def study_of(store: Path, names: list[str], **kw):
    """The event study the CLI runs, through the library."""
    from oilimpact.events import load_catalog
    from oilimpact.eventstudy import event_study

    frame = api.load_frame([*names, "sp500"], data_dir=store)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return event_study(frame[names], [load_catalog()["blockade"]], market=frame["sp500"], **kw)


# ---- study: --bootstrap, --permutation, --mde, --seed ---------------------------------------


def test_study_resampling_json_equals_the_library(demo_store):
    from oilimpact.eventstudy.power import minimum_detectable_effect
    from oilimpact.eventstudy.resampling import permutation_test, wild_bootstrap

    res = invoke("study", "brent", "wti", "--event", "blockade", "--window", "0,0",
                  "--window", "0,1", "--bootstrap", "199", "--weights", "mammen",
                  "--permutation", "all", "--mde", "--seed", "7", "--json",
                  "--data-dir", str(demo_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["seed"] == 7 and {"bootstrap", "permutation", "mde", "car"} <= set(payload)
    direct = study_of(demo_store, ["brent", "wti"], event_windows=[(0, 0), (0, 1)])
    want = {
        "bootstrap": pd.concat(
            [wild_bootstrap(direct, w, B=199, weights="mammen", seed=7) for w in [(0, 0), (0, 1)]]
        ),  # fmt: skip
        "permutation": pd.concat([permutation_test(direct, w, seed=7) for w in [(0, 0), (0, 1)]]),
        "mde": pd.concat([minimum_detectable_effect(direct, w, seed=7) for w in [(0, 0), (0, 1)]]),
    }
    for key, frame in want.items():
        got = pd.DataFrame(payload[key])
        assert len(got) == len(frame) > 0, key
        col = "mde" if key == "mde" else "pvalue"
        np.testing.assert_allclose(got[col].to_numpy(float), frame[col].to_numpy(float), rtol=1e-12)
    # the pooled rows keep the pairs' correlation: one per window, two pairs each
    boot = pd.DataFrame(payload["bootstrap"])
    assert (boot["scope"] == "pooled").sum() == 2 and set(boot["weights"]) == {"mammen"}
    assert all("could not have been told from noise" in r["sentence"] for r in payload["mde"])


def test_study_resampling_text_tables_and_summary_line(demo_store):
    res = invoke("study", "brent", "--event", "blockade", "--bootstrap", "999", "--mde",
                  "--permutation", "199", "--data-dir", str(demo_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "Wild bootstrap (rademacher weights, B = 999, seed 0)" in out
    assert "Permutation test: the CAR against the pseudo-event dates" in out
    assert "Minimum detectable effect" in out and "4000 simulated studies, seed 0" in out
    assert "blockade / brent [+0,+0]: an effect under" in out
    # the bootstrap table has one row per CAR window of the study (5 by default)
    lines = out.split("Wild bootstrap")[1].split("Permutation test")[0].strip().splitlines()
    assert sum(line.startswith("pair") for line in lines) == 5
    summary = res.stderr.strip().splitlines()[-1]
    assert "bootstrap 5 p-values" in summary and "5 MDEs" in summary


def test_study_resampling_csv_columns_match_the_json(demo_store):
    args = ["study", "brent", "wti", "--event", "blockade", "--bootstrap", "199", "--mde",
            "--permutation", "all", "--data-dir", str(demo_store)]  # fmt: skip
    res = invoke(*args, "--format", "csv")
    assert res.exit_code == 0, res.output
    table = pd.read_csv(StringIO(res.stdout))
    assert {"boot_pvalue", "boot_mc_se", "perm_pvalue", "perm_mc_se", "mde",
            "mde_sentence"} <= set(table.columns)  # fmt: skip
    payload = json.loads(invoke(*args, "--json").stdout)
    boot = pd.DataFrame(payload["bootstrap"]).query("scope == 'pair'")
    merged = table.merge(boot, on=["event", "series", "start", "end"])
    assert len(merged) == len(table) == 10
    np.testing.assert_allclose(merged["boot_pvalue"], merged["pvalue_y"], rtol=1e-12)
    # without the options the CSV is the CAR table, unchanged
    plain = pd.read_csv(StringIO(invoke(*args[:5], "--data-dir", str(demo_store),
                                         "--format", "csv").stdout))  # fmt: skip
    assert list(plain.columns) == [c for c in table.columns if c in plain.columns]
    assert "boot_pvalue" not in plain.columns


@pytest.mark.parametrize(
    "args,expect",
    [
        (["--bootstrap", "50"], "--bootstrap needs at least 99"),
        (["--bootstrap", "999", "--weights", "gauss"], "--weights must be rademacher or mammen"),
        (["--permutation", "10"], "--permutation expects"),
        (["--permutation", "some"], "--permutation expects"),
    ],
)
def test_study_resampling_bad_input_is_one_line(tmp_path, args, expect):
    res = invoke("study", "brent", "--event", "blockade", *args, "--data-dir", str(tmp_path))
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error:") and expect in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and res.stdout == ""


# ---- the intervention command's post-event rule ----------------------------------------------


@needs_real
def test_intervention_post_event_rule_is_the_librarys(real_store):
    """As known on 2026-04-01 EIA's production data end with December 2025, the month of
    the blockade: with the default start (the containing month) it is fitted; with
    --start next there is no treated month yet, which is an answer (exit 1), as
    intervention.sample.post_event_periods says."""
    from oilimpact.events import load_catalog
    from oilimpact.intervention.sample import post_event_periods

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the snapshot stores one vintage (2026-06-30)
        s = api.load("ve_crude_production", data_dir=real_store, as_of="2026-04-01").dropna()
    ev = load_catalog()["blockade"]
    assert s.index[-1] == pd.Timestamp("2025-12-01")
    assert post_event_periods(s, ev) == 1 and post_event_periods(s, ev, start="next") == 0
    base = ["intervention", "ve_crude_production", "--event", "blockade", "--as-of",
            "2026-04-01", "--data-dir", str(real_store), "--json", "--no-placebo"]  # fmt: skip
    res = invoke(*base)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["spec"]["post_periods"] == 1
    res = invoke(*base, "--start", "next")
    assert res.exit_code == 1, res.output
    payload = json.loads(res.stdout)
    assert payload["status"] == "not_estimable" and payload["sample_end"] == "2025-12-01"


# ---- the volatility command ----------------------------------------------------------------


def test_volatility_ols_json_equals_the_library_and_vix_jump(demo_store):
    from oilimpact.events import load_catalog
    from oilimpact.eventstudy.eventvol import volatility_tests
    from oilimpact.eventstudy.volatility import implied_vol_jump

    res = invoke("volatility", "brent", "--event", "blockade", "--model", "market",
                  "--json", "--data-dir", str(demo_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = pd.DataFrame(json.loads(res.stdout))
    avr = rows[rows["test"] == "abnormal_volatility"]
    jump = rows[rows["test"] == "implied_vol_jump"]
    windows = [(0, 0), (0, 1), (0, 5)]
    direct = volatility_tests(study_of(demo_store, ["brent"], event_windows=windows), windows)
    assert len(avr) == 3
    np.testing.assert_allclose(avr["avr"].to_numpy(float), direct["avr"].to_numpy(float),
                               rtol=1e-12)  # fmt: skip
    np.testing.assert_allclose(avr["pvalue"].to_numpy(float), direct["pvalue"].to_numpy(float))
    # the stored VIX gets the jump test (default --implied), checked by hand for [0,0]
    vix = api.load("vix", data_dir=demo_store).dropna()
    j = implied_vol_jump(vix, load_catalog()["blockade"], window=(0, 0))
    got = jump[jump["start"].eq(0) & jump["end"].eq(0)].iloc[0]
    d0 = vix.index.get_loc(j.day0)
    assert got["log_change"] == pytest.approx(np.log(vix.iloc[d0] / vix.iloc[d0 - 1]), rel=1e-12)
    assert got["pvalue"] == pytest.approx(j.pvalue, rel=1e-12) and len(jump) == 3


def test_volatility_text_and_no_implied(demo_store):
    res = invoke("volatility", "brent", "--event", "blockade", "--model", "market",
                  "--window", "0,1", "--no-implied", "--data-dir", str(demo_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Abnormal volatility (market on sp500): AVR = realised / expected" in res.stdout
    assert "Implied volatility jump" not in res.stdout
    assert "volatility: 1 abnormal-volatility test" in res.stderr
    res = invoke("volatility", "vix", "--event", "blockade", "--data-dir", str(demo_store))
    assert res.exit_code == 0, res.output
    assert "Implied volatility jump" in res.stdout and "Abnormal volatility" not in res.stdout


def test_volatility_bad_alternative_is_one_line(tmp_path):
    res = invoke("volatility", "brent", "--alternative", "less", "--data-dir", str(tmp_path))
    assert res.exit_code == 2 and "--alternative must be greater or two-sided" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


# ---- the GARCH model on the command line ----------------------------------------------------


def test_cli_market_models_are_the_engines():
    from oilimpact.cli.study import _MARKET_MODELS
    from oilimpact.eventstudy.models import MARKET_MODELS

    assert set(_MARKET_MODELS) == {*MARKET_MODELS, "multifactor"}
