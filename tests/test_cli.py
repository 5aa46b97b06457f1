"""The data-layer CLI end to end: import, status, validate, fetch, errors without tracebacks."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from oilimpact import api
from oilimpact.cli import app
from oilimpact.snapshot import SNAPSHOT_FILES, import_snapshot

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"real snapshot {REAL} absent")

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def test_help_teaches():
    res = _invoke("--help")
    assert res.exit_code == 0
    for cmd in ("import", "fetch", "validate", "status", "series"):
        assert cmd in res.output
    assert "oilimpact import" in res.output  # an example, not just a list
    res = _invoke("import", "--help")
    assert res.exit_code == 0 and "--filter" in res.output and "eia_product_id=57" in res.output


def test_series_lists_registry_as_json():
    res = _invoke("series", "--json")
    assert res.exit_code == 0
    rows = {r["series"]: r for r in json.loads(res.stdout)}
    assert rows["brent"]["sources"].startswith("fred:DCOILBRENTEU")


@needs_real
def test_every_real_file_imports_and_validates(tmp_path):
    outcomes = {
        o.name: o for o in import_snapshot(REAL, tmp_path, fetched_at="2026-01-09T12:00:00Z")
    }
    assert set(outcomes) == {f.series for f in SNAPSHOT_FILES}
    wti = outcomes["wti"]
    assert any("-36.98" in w and "2020-04-20" in w for w in wti.warnings)
    assert not any("negative" in w for w in outcomes["brent"].warnings)
    # the FRED file's holiday rows are empty values: kept missing, not zero
    sp = api.load("sp500", data_dir=tmp_path)
    assert sp.isna().sum() > 0 and (sp.dropna() > 0).all()
    assert api.validate(data_dir=tmp_path)["ok"].all()
    status = api.status(data_dir=tmp_path, today="2026-01-09")
    assert set(status["series"]) == set(outcomes)
    assert status.set_index("series").loc["ve_crude_production", "unit"] == "kb/d"
    assert (status["source"] == "file").all()


@needs_real
def test_import_then_status_via_cli(tmp_path):
    res = _invoke(
        "import",
        str(REAL / "eia_wti_spot_daily.csv"),
        "--series",
        "wti",
        "--data-dir",
        str(tmp_path),
    )
    assert res.exit_code == 0, res.output
    assert "stored wti" in res.stdout
    assert "-36.98" in res.stderr  # the negative-price warning
    res = _invoke("status", "--data-dir", str(tmp_path), "--json", "--today", "2026-08-20")
    row = json.loads(res.stdout)[0]
    assert row["series"] == "wti" and row["last"] == "2026-08-18" and row["stale"] is False
    res = _invoke("status", "--data-dir", str(tmp_path), "--today", "2026-12-01", "--fail-on-stale")
    assert res.exit_code == 1 and "stale series: wti" in res.stderr
    res = _invoke("validate", "--data-dir", str(tmp_path))
    assert res.exit_code == 0


GOOD = "Date,Price\n2025-12-15,61.1\n2025-12-16,58.9\n2025-12-17,60.7\n"
MALFORMED = {
    "duplicate_dates": (
        "Date,Price\n2025-12-18,61.0\n2025-12-19,62.0\n2025-12-19,63.0\n",
        "line 4",
    ),
    "non_numeric": ("Date,Price\n2025-12-18,61.0\n2025-12-19,sixty\n", "line 3"),
    "missing_header": ("2025-12-18,61.0\n2025-12-19,62.0\n", "line 1"),
    "wrong_column": ("Day,Value,Extra\n2025-12-18,61.0,1\n", "line 1"),
    "empty": ("", "empty"),
    "mixed_dates": ("Date,Price\n2025-12-18,61.0\n12/19/2025,62.0\n", "line 3"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_refused_and_store_byte_identical(tmp_path, case):
    store = tmp_path / "store"
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    assert (
        _invoke(
            "import", str(good), "--series", "brent", "--format", "eia", "--data-dir", str(store)
        ).exit_code
        == 0
    )
    before = _tree_digest(store)
    text, where = MALFORMED[case]
    bad = tmp_path / f"{case}.csv"
    bad.write_text(text)
    res = _invoke("import", str(bad), "--series", "brent", "--data-dir", str(store))
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert bad.name in res.stderr and where in res.stderr.replace("\n", " ")
    assert _tree_digest(store) == before
    assert api.load("brent", data_dir=store).tolist() == [61.1, 58.9, 60.7]


def test_validation_failure_prints_table_and_stores_nothing(tmp_path):
    bad = tmp_path / "brent.csv"
    bad.write_text("Date,Price\n2025-12-18,61.0\n2025-12-19,-3.0\n2025-12-22,900\n")
    res = _invoke("import", str(bad), "--series", "brent", "--data-dir", str(tmp_path / "s"))
    assert res.exit_code == 2
    assert "failed validation" in res.stderr and "2025-12-19=-3.0" in res.stderr
    assert "validation failures" in res.stderr  # the table
    assert not (tmp_path / "s" / "manifest.json").exists()


def test_bad_filter_syntax_is_one_line_error(tmp_path):
    res = _invoke("import", str(tmp_path / "x.csv"), "--series", "brent", "--filter", "nonsense")
    assert res.exit_code == 2 and "KEY=VALUE" in res.stderr


def test_fetch_offline_reports_store(tmp_path):
    res = _invoke("fetch", "--offline", "--data-dir", str(tmp_path))
    assert res.exit_code == 0 and "store is empty" in res.stdout


def test_events_lists_catalog():
    res = _invoke("events", "--json")
    ids = [r["id"] for r in json.loads(res.stdout)]
    assert res.exit_code == 0 and {"blockade", "fto_announced", "maduro_captured"} <= set(ids)


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    if not REAL.is_dir():
        pytest.skip(f"real snapshot {REAL} absent")
    root = tmp_path_factory.mktemp("real_store")
    import_snapshot(REAL, root, fetched_at="2026-01-09T12:00:00Z")
    return root


def test_study_json_equals_the_api(real_store):
    from oilimpact.events import load_catalog
    from oilimpact.study import event_study

    res = _invoke("study", "brent", "--event", "blockade", "--data-dir", str(real_store), "--json")
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    frame = api.load_frame(["brent", "sp500"], data_dir=real_store)
    direct = event_study(frame[["brent"]], [load_catalog()["blockade"]], market=frame["sp500"])
    want = {tuple(w): v for w, v in zip(direct.car["window"], direct.car["car"], strict=True)}
    got = {tuple(row["window"]): row["car"] for row in payload["car"]}
    assert set(got) == set(want) and len(got) == 5
    for window, value in got.items():
        assert value == pytest.approx(want[window], rel=1e-12)


def test_study_text_and_unknown_event(real_store):
    res = _invoke("study", "wti", "--event", "fto_announced", "--data-dir", str(real_store))
    assert res.exit_code == 0 and "fto_announced" in res.stdout and "p(SQ)" in res.stdout
    res = _invoke("study", "wti", "--event", "nope", "--data-dir", str(real_store))
    assert res.exit_code == 2 and "unknown event 'nope'" in res.stderr


def test_intervention_json_has_effects(real_store):
    res = _invoke("intervention", "ve_crude_production", "--data-dir", str(real_store), "--json")
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    terms = {(e["event"], e["term"]) for e in payload["effects"]}
    assert ("blockade", "level") in terms


FIXTURES = Path(__file__).resolve().parent / "sources" / "fixtures" / "files"


@pytest.mark.parametrize(
    "args",
    [
        ["fetch", "brent", "--start", "garbage"],
        ["fetch", "brent", "--end", "2025-13-45"],
        ["fetch", "brent", "--provider", "bloomberg"],
        ["status", "--today", "garbage"],
        ["brief", "--as-of", "garbage"],
        ["brief", "--demo", "--generated-at", "not-a-time"],
    ],
)
def test_bad_option_values_are_one_line_errors(tmp_path, args):
    res = _invoke(*args, "--data-dir", str(tmp_path))
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "error:" in res.stderr
    assert len(res.stderr.strip().splitlines()) <= 3


def test_status_accepts_a_timezone_aware_today(tmp_path):
    res = _invoke("status", "--today", "2026-01-10T00:00:00Z", "--data-dir", str(tmp_path))
    assert res.exit_code == 0 and "store is empty" in res.stdout
    res = _invoke("status", "--fail-on-stale", "--data-dir", str(tmp_path))
    assert res.exit_code == 1 and "store is empty" in res.stderr


def test_tanker_export_detected_and_filtered_by_origin(tmp_path):
    src = FIXTURES / "kpler_display.csv"
    res = _invoke("import", str(src), "--series", "col_exports", "--origin", "Colombia",
                  "--data-dir", str(tmp_path), "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["format"] == "tanker"
    assert any("not in the registry" in w and "monthly volume" in w for w in out["warnings"])
    s = api.load("col_exports", data_dir=tmp_path)
    # only CHARLIE (Colombia, 80,000 m3 in December 2025) counts: 80000 * 6.2898 bbl / 31 days
    assert s.loc["2025-12-01"] == pytest.approx(80000 * 6.2898 / 31 / 1000, rel=1e-9)
    assert (s.drop(pd.Timestamp("2025-12-01")) == 0).all()
    status = api.status(data_dir=tmp_path).set_index("series")
    assert (
        status.loc["col_exports", "unit"] == "kb/d"
        and status.loc["col_exports", "frequency"] == "monthly"
    )


def test_tanker_options_on_a_price_file_are_refused(tmp_path):
    good = tmp_path / "p.csv"
    good.write_text(GOOD)
    res = _invoke(
        "import",
        str(good),
        "--series",
        "brent",
        "--origin",
        "Venezuela",
        "--data-dir",
        str(tmp_path),
    )
    assert res.exit_code == 2 and "apply only to tanker exports" in res.stderr


def test_an_unexpected_exception_is_reported_as_a_bug(monkeypatch, capsys):
    from oilimpact import cli

    def boom(*a, **k):
        raise RuntimeError("kaboom api_key=SECRET123")

    monkeypatch.setattr(cli, "app", boom)
    monkeypatch.delenv("OILIMPACT_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == 70
    text = capsys.readouterr().err
    assert "internal error: RuntimeError" in text and "report" in text and "SECRET123" not in text
