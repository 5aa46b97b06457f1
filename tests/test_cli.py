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
    # both problems at once, each with its line (the registered bounds checked while reading)
    assert "line 3" in res.stderr and "value -3" in res.stderr
    assert "line 4" in res.stderr and "value 900" in res.stderr
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
    from oilimpact.eventstudy import event_study

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


def test_intervention_as_of_respects_the_publication_lag(real_store):
    """As known on 2026-02-15, EIA's production data end at 2025-10 (a ~3-month lag): no
    post-event data for the blockade yet, said as an answer with the sample end."""
    res = _invoke(
        "intervention", "ve_crude_production", "--event", "blockade", "--as-of", "2026-02-15",
        "--data-dir", str(real_store), "--json",
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    payload = json.loads(res.stdout)
    assert payload["status"] == "not_estimable" and payload["sample_end"] == "2025-10-01"
    assert "no post-event data yet" in payload["reason"]
    # later, with post-event months published, it fits with the same command
    res = _invoke(
        "intervention", "ve_crude_production", "--event", "blockade", "--as-of", "2026-06-30",
        "--data-dir", str(real_store), "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["spec"]["sample_end"] == "2026-03-01"  # March ends + 3 months


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
                  "--new", "--data-dir", str(tmp_path), "--json")  # fmt: skip
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


# ---- output in a pipe, formats, ISO 8601 ---------------------------------------------


def _small_store(tmp_path: Path) -> Path:
    good = tmp_path / "brent.csv"
    good.write_text(GOOD)
    store = tmp_path / "store"
    res = _invoke("import", str(good), "--series", "brent", "--data-dir", str(store))
    assert res.exit_code == 0, res.output
    return store


STATUS_COLUMNS = [
    "series", "frequency", "unit", "source", "source_id", "first", "last", "rows",
    "fetched_at", "vintages", "stale",
]  # fmt: skip


def test_piped_status_keeps_whole_header_words(tmp_path):
    # CliRunner's stdout is not a terminal, as in `oilimpact status | cat`
    store = _small_store(tmp_path)
    res = _invoke("status", "--data-dir", str(store), "--today", "2025-12-20")
    assert res.exit_code == 0, res.output
    header, rule, row, *rest = res.stdout.splitlines()
    assert header.split() == STATUS_COLUMNS
    assert set(rule.replace(" ", "")) == {"-"} and len(rule.split()) == len(STATUS_COLUMNS)
    assert row.split()[:3] == ["brent", "daily", "USD/bbl"] and rest == []
    assert "2025-12-15" in row and "2025-12-17" in row  # dates on one line, never folded
    assert not any(ch in res.stdout for ch in "┃│┏━")  # no box drawing in a pipe


@pytest.mark.parametrize("fmt,sep", [("tsv", "\t"), ("csv", ",")])
def test_status_tsv_and_csv_parse_back(tmp_path, fmt, sep):
    import io

    store = _small_store(tmp_path)
    res = _invoke("status", "--data-dir", str(store), "--format", fmt, "--today", "2025-12-20")
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(io.StringIO(res.stdout), sep=sep)
    assert list(frame.columns) == STATUS_COLUMNS
    assert frame.loc[0, "series"] == "brent" and frame.loc[0, "rows"] == 3


def test_json_conflicting_with_another_format_is_refused(tmp_path):
    res = _invoke("status", "--json", "--format", "csv", "--data-dir", str(tmp_path))
    assert res.exit_code == 2 and "--json conflicts with --format csv" in res.stderr


def _iso_strings(obj, key=""):
    """Every (key, value) of a JSON document whose key names a date or a time."""
    timeish = ("date", "time", "_at", "first", "last", "day0", "vintage", "start", "end")
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _iso_strings(v, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from _iso_strings(v, key)
    elif isinstance(obj, str) and any(t in key for t in timeish) and obj[:2] in ("19", "20"):
        yield key, obj


def test_status_and_import_json_timestamps_are_iso_8601(tmp_path):
    from datetime import datetime

    store = _small_store(tmp_path)
    row = json.loads(_invoke("status", "--data-dir", str(store), "--json").stdout)[0]
    fetched = datetime.fromisoformat(row["fetched_at"])
    assert fetched.tzinfo is not None and fetched.utcoffset().total_seconds() == 0
    good = tmp_path / "more.csv"
    good.write_text(GOOD + "2025-12-18,61.5\n")
    res = _invoke("import", str(good), "--series", "brent", "--data-dir", str(store), "--json")
    payload = json.loads(res.stdout)
    assert payload["rows_added"] == 1 and "1 added" in res.stderr  # summary on stderr
    assert datetime.fromisoformat(payload["last"]).date().isoformat() == "2025-12-18"
    events = json.loads(_invoke("events", "--json").stdout)
    stamps = [datetime.fromisoformat(e["timestamp"]) for e in events]
    assert all(s.tzinfo is not None for s in stamps)


def test_series_and_events_in_every_format():
    import io

    for cmd, key in (("series", "series"), ("events", "id")):
        tsv = pd.read_csv(io.StringIO(_invoke(cmd, "--format", "tsv").stdout), sep="\t")
        js = json.loads(_invoke(cmd, "--format", "json").stdout)
        assert tsv[key].tolist() == [r[key] for r in js] and len(js) > 3
        plain = _invoke(cmd).stdout.splitlines()
        assert plain[0].split()[0] == key and plain[2].split()[0] == js[0][key]


# ---- help that teaches and reflows ---------------------------------------------------

COMMANDS = ("series", "import", "fetch", "validate", "status", "events", "show", "history", "rollback", "study",
            "volatility",
            "intervention", "brief")  # fmt: skip


@pytest.mark.parametrize("cmd", COMMANDS)
def test_each_command_help_has_description_example_and_defaults(cmd):
    res = runner.invoke(app, [cmd, "--help"], env={"COLUMNS": "100"})
    assert res.exit_code == 0
    text = res.stdout
    assert "Example" in text and f"oilimpact {cmd}" in text
    assert "default" in text.lower()


def test_help_prose_reflows_to_the_terminal_width():
    sentence = (
        "A series is stale when its last observation is older than 10 days (daily), "
        "17 days (weekly) or 155 days (monthly) before --today."
    )
    wide = runner.invoke(app, ["status", "--help"], env={"COLUMNS": "220"}).stdout
    assert sentence in wide  # one paragraph, one line: not broken where the docstring was
    narrow = runner.invoke(app, ["status", "--help"], env={"COLUMNS": "60"}).stdout
    words = " ".join(line.strip(" │") for line in narrow.splitlines())
    assert " ".join(sentence.split()) in " ".join(words.split())
    lines = [ln.rstrip() for ln in narrow.splitlines()]
    assert max(len(ln) for ln in lines) <= 60


def test_window_help_names_the_engine_defaults():
    from oilimpact.eventstudy.engine import DEFAULT_EVENT_WINDOWS

    text = " ".join(runner.invoke(app, ["study", "--help"], env={"COLUMNS": "300"}).stdout.split())
    listed = " ".join(f"{a},{b}" for a, b in DEFAULT_EVENT_WINDOWS)
    assert f"Default: {listed}." in text


# ---- bad user input: one OilImpactError line, never a pandas error ------------------


@pytest.mark.parametrize(
    "args,expect",
    [
        (["study", "brent", "--as-of", "garbage"], "--as-of"),
        (["study", "brent", "--as-of", "2026-02-30"], "--as-of"),
        (["study", "brent", "--end", "last friday"], "--end"),
        (["study", "brent", "--window", "5,1"], "LO <= HI"),
        (["study", "brent", "--window", "a,b"], "--window expects LO,HI"),
        (["study", "brent", "--window", "3"], "--window expects"),
        (["study", "brent", "--estimation", "-10"], "--estimation expects"),
        (["study", "brent", "--min-estimation", "0"], "--min-estimation"),
        (["study", "brent", "--event", "nope"], "unknown event 'nope'"),
        (["study", "brent", "--event-date", "x"], "NAME=YYYY-MM-DD"),
        (["study", "brent", "--event-date", "x=2026-13-01"], "not a valid date"),
        (["study", "brent", "--event-date", "x=05/01/2026"], "NAME=YYYY-MM-DD"),
        (["study", "brent", "--event-date", "x=2026-01-05T14:30"], "UTC offset"),
        (["study", "brent", "--event-date", "My Event=2026-01-05"], "lower-case"),
        (["study", "brent", "--event-date", "blockade=2026-01-05"], "already a catalog event"),
        (["intervention", "ve_crude_production", "--event", "nope"], "unknown event 'nope'"),
        (["intervention", "ve_crude_production", "--as-of", "soon"], "--as-of"),
        (["intervention", "ve_crude_production", "--end", "2026-99-01"], "--end"),
        (["intervention", "ve_crude_production", "--event-date", "a=b"], "NAME=YYYY-MM-DD"),
        (["intervention", "ve_crude_production", "--pre-periods", "-3"], "--pre-periods"),
        (["status", "--today", "2026-02-30"], "--today"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, args, expect):
    res = _invoke(*args, "--data-dir", str(tmp_path))
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "DateParseError" not in res.output
    assert res.stderr.startswith("error:") and expect in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert res.stdout == ""


def test_missing_series_is_one_line(tmp_path):
    res = _invoke("study", "nosuch", "--event", "blockade", "--market", "", "--model",
                  "constant_mean", "--data-dir", str(tmp_path))  # fmt: skip
    assert res.exit_code == 2 and "nosuch" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


# ---- fetch without network -------------------------------------------------------------


class _YahooUnreachable:
    """Yahoo without network (yfinance's own HTTP stack cannot be pointed at a local port)."""

    def fetch(self, ref, start=None, end=None):
        from oilimpact.errors import SourceError

        raise SourceError(
            f"yahoo: could not get data from finance.yahoo.com for {ref.id!r}: the host was "
            "unreachable (yfinance could not connect). Check the network connection, or use "
            "--offline to work from the local store, or load the data from a file with "
            "`oilimpact import FILE`."
        )


@pytest.fixture
def no_network(monkeypatch):
    """FRED at a closed port on 127.0.0.1, EIA without a key, Yahoo unreachable."""
    import socket

    import oilimpact.sources as sources
    from oilimpact.sources.eia import EiaSource
    from oilimpact.sources.fred import FredSource

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    made = {
        "fred": FredSource(base_url=f"http://127.0.0.1:{port}", api_key=""),
        "eia": EiaSource(api_key=None, base_url=f"http://127.0.0.1:{port}"),
        "yahoo": _YahooUnreachable(),
    }
    monkeypatch.delenv("EIA_API_KEY", raising=False)
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    monkeypatch.setattr("oilimpact.sources.http.backoff_delay", lambda *a, **k: 0.0)
    monkeypatch.setattr(sources, "get_source", lambda provider: made[provider])


def test_offline_fetch_fails_in_at_most_20_lines(tmp_path, no_network):
    store = _small_store(tmp_path)
    before = _tree_digest(store)
    res = _invoke("fetch", "--data-dir", str(store))
    assert res.exit_code == 1
    lines = res.stdout.splitlines() + res.stderr.splitlines()
    assert 2 <= len(lines) <= 20, "\n".join(lines)
    failed = [ln for ln in res.stderr.splitlines() if ln.startswith("failed:")]
    providers = [ln.split()[1].rstrip(":") for ln in failed]
    assert sorted(providers) == sorted(set(providers))  # one line per provider
    assert {"fred", "eia", "yahoo"} <= set(providers)
    assert any("no API key" in ln for ln in failed if ln.startswith("failed: eia:"))
    summary = res.stderr.splitlines()[-1]
    assert summary.startswith("fetch: 0 stored, 0 unchanged,") and "failed" in summary
    assert "stored data are unchanged" in summary
    assert res.stderr.count("EIA_API_KEY") == 1 and res.stderr.count("Check the network") == 1
    assert res.stdout == ""  # nothing fetched: no table
    assert _tree_digest(store) == before
    verbose = _invoke("fetch", "brent", "wti", "--verbose", "--data-dir", str(store))
    assert verbose.exit_code == 1
    assert sum(ln.startswith("failed: brent:") for ln in verbose.stderr.splitlines()) == 1


def test_offline_fetch_json_lists_every_series(tmp_path, no_network):
    res = _invoke("fetch", "brent", "wti", "--json", "--data-dir", str(tmp_path))
    assert res.exit_code == 1
    rows = json.loads(res.stdout)
    assert [r["series"] for r in rows] == ["brent", "wti"]
    assert all(r["status"] == "failed" and "fred" in r["error"] for r in rows)


# ---- study and intervention -----------------------------------------------------------


def test_study_event_date_json_works(real_store):
    from datetime import datetime

    res = _invoke("study", "brent", "--event-date", "my_event=2026-01-05", "--json",
                  "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["spec"]["events"] == ["my_event"]
    [align] = payload["alignment"]
    assert align["day0"].startswith("2026-01-05") and align["time_known"] is False
    for _key, value in _iso_strings(payload):
        datetime.fromisoformat(value)  # every date and time in the JSON is ISO 8601
    # a known time after the New York close moves day 0 to the next session
    res = _invoke("study", "brent", "--event-date", "late=2026-01-05T17:30-05:00", "--json",
                  "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    [align] = json.loads(res.stdout)["alignment"]
    assert align["day0"].startswith("2026-01-06") and align["time_known"] is True
    # ad-hoc and catalog events together
    res = _invoke("study", "brent", "--event", "blockade", "--event-date", "x=2026-01-05",
                  "--format", "tsv", "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    import io

    car = pd.read_csv(io.StringIO(res.stdout), sep="\t")
    assert set(car["event"]) == {"blockade", "x"} and "[+0,+1]" in set(car["window"])


def test_study_min_estimation_reaches_the_engine(real_store):
    res = _invoke("study", "brent", "--event", "blockade", "--min-estimation", "150", "--json",
                  "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["spec"]["min_estimation"] == 150
    res = _invoke("study", "brent", "--event", "blockade", "--min-estimation", "5000",
                  "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_study_end_cuts_the_data(real_store):
    res = _invoke("study", "brent", "--event", "blockade", "--end", "2025-12-18", "--json",
                  "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    ab = json.loads(res.stdout)["abnormal"]
    assert max(r["date"] for r in ab if r["ar"] is not None) <= "2025-12-18T23:59"


def test_study_stdout_is_data_and_stderr_one_summary_line(real_store):
    res = _invoke("study", "brent", "--event", "blockade", "--data-dir", str(real_store))
    assert res.exit_code == 0, res.output
    assert res.stderr.strip().startswith("study: 1 series x 1 event, 5 CARs")
    assert len(res.stderr.strip().splitlines()) == 1  # no progress output in a pipe


def test_intervention_passes_no_spec_options_of_its_own(tmp_path, monkeypatch, real_store):
    import oilimpact.intervention.analysis as mod

    seen = []
    real = mod.intervention

    def spy(series, events, **kwargs):
        seen.append((series.name, [e.id for e in events], kwargs))
        return real(series, events, **kwargs)

    monkeypatch.setattr(mod, "intervention", spy)
    res = _invoke("intervention", "ve_crude_production", "--no-placebo", "--data-dir",
                  str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert seen[-1] == ("ve_crude_production", ["blockade"], {"placebo": False})
    res = _invoke("intervention", "ve_crude_production", "--start", "next", "--pre-periods",
                  "48", "--event-date", "deal=2025-10-01", "--event", "blockade", "--form",
                  "pulse", "--no-placebo", "--json", "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert seen[-1] == (
        "ve_crude_production",
        ["blockade", "deal"],
        {"form": "pulse", "start": "next", "pre_periods": 48, "placebo": False},
    )
    spec = json.loads(res.stdout)["spec"]
    assert spec["start"] == "next" and spec["pre_periods"] == 48
    assert {e["event"] for e in spec["events"]} >= {"blockade"}


def test_intervention_prints_its_spec_and_a_summary(real_store):
    res = _invoke("intervention", "ve_crude_production", "--no-placebo", "--data-dir",
                  str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Sample:" in res.stdout and "Model:" in res.stdout and "blockade" in res.stdout
    assert "Spec: segmented OLS, form=level, start=containing" in res.stdout
    [line] = res.stderr.strip().splitlines()
    assert line.startswith("intervention: ve_crude_production") and "blockade level" in line
    res = _invoke("intervention", "ve_crude_production", "--no-placebo", "--format", "csv",
                  "--data-dir", str(real_store))  # fmt: skip
    assert res.stdout.splitlines()[0].startswith("event,term,estimate,se")


@pytest.mark.parametrize(
    "args",
    [
        ["series"],
        ["events"],
        ["status"],
        ["validate"],
    ],
)
def test_every_listing_ends_with_a_one_line_summary(tmp_path, args):
    store = _small_store(tmp_path)
    res = (
        _invoke(*args, "--data-dir", str(store))
        if args[0] not in ("series", "events")
        else (_invoke(*args))
    )
    assert res.exit_code == 0, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(args[0] + ": ")


# ---- history and rollback --------------------------------------------------------------

REVISED = "Date,Price\n2025-12-16,59.0\n2025-12-17,60.7\n2025-12-18,62.0\n"


def _revised_store(tmp_path: Path) -> Path:
    store = _small_store(tmp_path)
    new = tmp_path / "revised.csv"
    new.write_text(REVISED)
    res = _invoke("import", str(new), "--series", "brent", "--data-dir", str(store))
    assert res.exit_code == 0, res.output
    return store


def test_history_lists_vintages_with_counts_and_file_hash(tmp_path):
    from datetime import datetime

    store = _revised_store(tmp_path)
    res = _invoke("history", "brent", "--data-dir", str(store), "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["#"] for r in rows] == [1, 2]
    assert [(r["rows_added"], r["rows_revised"], r["rows_removed"]) for r in rows] == [
        (3, 0, 0),
        (1, 1, 0),
    ]
    digest = hashlib.sha256((tmp_path / "revised.csv").read_bytes()).hexdigest()
    assert rows[1]["file_sha256"] == digest and rows[1]["source_id"] == "revised.csv"
    for row in rows:
        for key in ("vintage", "committed_at", "fetched_at"):
            assert datetime.fromisoformat(row[key]).tzinfo is not None
    plain = _invoke("history", "brent", "--data-dir", str(store))
    header = plain.stdout.splitlines()[0].split()
    assert header == ["#", "vintage", "source", "source_id", "added", "revised", "removed",
                      "file_sha256", "note"]  # fmt: skip
    assert digest[:12] in plain.stdout and digest not in plain.stdout
    assert plain.stderr.startswith("history: brent has 2 vintages")


def test_rollback_restores_as_a_new_vintage_and_can_be_undone(tmp_path):
    store = _revised_store(tmp_path)
    assert api.load("brent", data_dir=store).tolist() == [61.1, 59.0, 60.7, 62.0]
    res = _invoke("rollback", "brent", "--data-dir", str(store))
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("rollback: brent restored to vintage")
    assert "1 value and 0 dates restored, 1 date hidden" in res.stdout
    assert api.load("brent", data_dir=store).tolist() == [61.1, 58.9, 60.7]
    rows = json.loads(_invoke("history", "brent", "--json", "--data-dir", str(store)).stdout)
    assert [r["source"] for r in rows] == ["file", "file", "rollback"]
    # back to #2 by number, as JSON
    res = _invoke("rollback", "brent", "--to", "#2", "--json", "--data-dir", str(store))
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["status"] == "rolled back" and payload["to"] == rows[1]["vintage"].replace(
        "+00:00", "Z"
    )
    assert api.load("brent", data_dir=store).tolist() == [61.1, 59.0, 60.7, 62.0]
    # by the time history lists, and again: unchanged
    res = _invoke("rollback", "brent", "--to", rows[1]["vintage"], "--data-dir", str(store))
    assert res.exit_code == 0 and "nothing written" in res.stdout
    assert len(json.loads(_invoke("history", "brent", "--json", "--data-dir",
                                  str(store)).stdout)) == 4  # fmt: skip


@pytest.mark.parametrize(
    "args,expect",
    [
        (["rollback", "brent", "--to", "#9"], "vintages #1 to #2"),
        (["rollback", "brent", "--to", "0"], "vintages #1 to #2"),
        (["rollback", "brent", "--to", "2020-01-01"], "has no vintage"),
        (["rollback", "brent", "--to", "yesterday"], "--to"),
        (["rollback", "nosuch"], "nosuch"),
        (["history", "nosuch"], "nosuch"),
    ],
)
def test_rollback_and_history_refusals_leave_the_store_alone(tmp_path, args, expect):
    store = _revised_store(tmp_path)
    before = _tree_digest(store)
    res = _invoke(*args, "--data-dir", str(store))
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error:") and expect in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert _tree_digest(store) == before


def test_rollback_of_a_single_vintage_is_refused(tmp_path):
    store = _small_store(tmp_path)
    res = _invoke("rollback", "brent", "--data-dir", str(store))
    assert res.exit_code == 2 and "single vintage" in res.stderr


# ---- imports that cannot destroy --------------------------------------------------------


def test_typo_is_refused_with_a_suggestion_and_new_creates(tmp_path):
    store = _small_store(tmp_path)
    before = _tree_digest(store)
    src = tmp_path / "b.csv"
    src.write_text(GOOD)
    res = _invoke("import", str(src), "--series", "brnt", "--data-dir", str(store))
    assert res.exit_code == 2 and res.stdout == ""
    assert "did you mean brent" in res.stderr and "--new" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert _tree_digest(store) == before
    res = _invoke("import", str(src), "--series", "brnt", "--new", "--data-dir", str(store))
    assert res.exit_code == 0, res.output
    assert "stored brnt" in res.stdout and "not in the registry" in res.stderr
    assert api.load("brnt", data_dir=store).tolist() == [61.1, 58.9, 60.7]


def test_wrong_scale_is_refused_and_force_overrides(tmp_path):
    store = _small_store(tmp_path)
    before = _tree_digest(store)
    wrong = tmp_path / "twofold.csv"
    wrong.write_text("Date,Price\n2025-12-15,122.2\n2025-12-16,117.8\n2025-12-17,121.4\n")
    res = _invoke("import", str(wrong), "--series", "brent", "--data-dir", str(store))
    assert res.exit_code == 2 and res.stdout == ""
    line = res.stderr.strip()
    assert line.startswith("error: refused to import") and "twofold.csv" in line
    assert "another scale" in line and "--force" in line and len(line.splitlines()) == 1
    assert _tree_digest(store) == before
    assert api.load("brent", data_dir=store).tolist() == [61.1, 58.9, 60.7]
    res = _invoke("import", str(wrong), "--series", "brent", "--force", "--data-dir", str(store))
    assert res.exit_code == 0, res.output
    assert "forced import" in res.stderr and "3 revised" in res.stdout
    assert api.load("brent", data_dir=store).tolist() == [122.2, 117.8, 121.4]
    # and the forced import can be undone
    assert _invoke("rollback", "brent", "--data-dir", str(store)).exit_code == 0
    assert api.load("brent", data_dir=store).tolist() == [61.1, 58.9, 60.7]


@needs_real
def test_vix_as_wti_is_refused_with_the_store_byte_identical(tmp_path):
    store = tmp_path / "s"
    res = _invoke("import", str(REAL / "eia_wti_spot_daily.csv"), "--series", "wti",
                  "--data-dir", str(store))  # fmt: skip
    assert res.exit_code == 0, res.output
    before = _tree_digest(store)
    res = _invoke("import", str(REAL / "cboe_vix_daily.csv"), "--series", "wti",
                  "--data-dir", str(store))  # fmt: skip
    assert res.exit_code == 2 and "refused to import" in res.stderr and "--force" in res.stderr
    assert _tree_digest(store) == before
    assert api.load("wti", data_dir=store).loc["2020-04-20"] == -36.98


@pytest.mark.parametrize(
    "limit,ok",
    [("10", False), ("58", False), ("59", True), ("1K", True), ("1M", True)],
)
def test_max_size_limits_what_is_read(tmp_path, limit, ok):
    src = tmp_path / "b.csv"
    src.write_text(GOOD)
    assert src.stat().st_size == 59
    res = _invoke("import", str(src), "--series", "brent", "--max-size", limit,
                  "--data-dir", str(tmp_path / "s"))  # fmt: skip
    if ok:
        assert res.exit_code == 0, res.output
    else:
        assert res.exit_code == 2 and "b.csv" in res.stderr and "--max-size" in res.stderr
        assert not (tmp_path / "s" / "manifest.json").exists()


@pytest.mark.parametrize("limit", ["lots", "-5", "0", "12X", "0.00001K"])
def test_bad_max_size_is_one_line(tmp_path, limit):
    src = tmp_path / "b.csv"
    src.write_text(GOOD)
    res = _invoke("import", str(src), "--series", "brent", "--max-size", limit,
                  "--data-dir", str(tmp_path / "s"))  # fmt: skip
    assert res.exit_code == 2 and "--max-size expects" in res.stderr


def test_size_suffixes_are_powers_of_1024():
    from oilimpact.cli.data import _size

    assert [_size(t) for t in ("1", "1K", "1k", "2M", "1G", "1.5K", "3MB", "1GiB")] == [
        1, 1024, 1024, 2 * 2**20, 2**30, 1536, 3 * 2**20, 2**30,
    ]  # fmt: skip


# ---- one meaning of --as-of; --vintage for store time ------------------------------------


def test_show_vintage_reads_the_store_as_it_was(tmp_path):
    store = _revised_store(tmp_path)
    rows = json.loads(_invoke("history", "brent", "--json", "--data-dir", str(store)).stdout)
    res = _invoke("show", "brent", "--vintage", rows[0]["vintage"], "--format", "csv",
                  "--data-dir", str(store))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines() == [
        "date,brent", "2025-12-15,61.1", "2025-12-16,58.9", "2025-12-17,60.7",
    ]  # fmt: skip
    latest = _invoke("show", "brent", "--tail", "2", "--format", "csv", "--data-dir", str(store))
    assert latest.stdout.splitlines()[1:] == ["2025-12-17,60.7", "2025-12-18,62.0"]
    assert latest.stderr.startswith("show: brent: 2 values")
    res = _invoke("show", "brent", "--vintage", "2000-01-01", "--data-dir", str(store))
    assert res.exit_code == 2 and res.stderr.startswith("error:")


@needs_real
def test_as_of_applies_the_publication_lag_everywhere(real_store):
    res = _invoke("show", "ve_crude_production", "--as-of", "2026-02-15", "--format", "csv",
                  "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    last_shown = res.stdout.splitlines()[-1].split(",")[0]
    assert last_shown < "2026-01-01"  # no January 2026 monthly value on 2026-02-15
    res = _invoke("intervention", "ve_crude_production", "--as-of", "2026-02-15", "--no-placebo",
                  "--event-date", "earlier=2025-06-10", "--json", "--data-dir",
                  str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    spec = json.loads(res.stdout)["spec"]
    assert spec["sample_end"][:10] == last_shown  # the intervention sees what show sees
    # the blockade (2025-12-16) has no published month after it yet on 2026-02-15
    res = _invoke("intervention", "ve_crude_production", "--as-of", "2026-02-15", "--no-placebo",
                  "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 1 and "no post-event data yet" in res.stdout


@needs_real
def test_as_of_before_the_first_vintage_warns_in_one_line(real_store):
    res = _invoke("study", "brent", "--event", "blockade", "--as-of", "2025-12-31",
                  "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    warning, summary = res.stderr.strip().splitlines()
    assert warning.startswith("warning:") and "2025-12-31" in warning
    assert summary.startswith("study: 1 series x 1 event")


@needs_real
def test_study_and_intervention_take_a_vintage(real_store):
    res = _invoke("study", "brent", "--event", "blockade", "--vintage", "2026-01-10",
                  "--json", "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    res = _invoke("intervention", "ve_crude_production", "--vintage", "2025-01-01",
                  "--no-placebo", "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 2 and res.stderr.startswith("error:")
    assert len(res.stderr.strip().splitlines()) == 1


# ---- brief --fetch that could not fetch ----------------------------------------------------


@needs_real
def test_brief_fetch_offline_says_so_and_fail_on_stale_exits_1(real_store, tmp_path, no_network):
    before = _tree_digest(real_store)
    res = _invoke("brief", "--fetch", "--as-of", "2026-01-09", "--generated-at",
                  "2026-01-10T08:00Z", "--out", str(tmp_path / "r"), "--data-dir",
                  str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) <= 20 and any(ln.startswith("failed: fred:") for ln in lines)
    assert any(ln.startswith("brief --fetch: 0 stored") for ln in lines)
    assert "could not be fetched" in lines[-1]
    assert "brief written to" in res.stdout
    res = _invoke("brief", "--fetch", "--fail-on-stale", "--as-of", "2026-01-09", "--out",
                  str(tmp_path / "r2"), "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 1
    assert res.stderr.strip().splitlines()[-1].startswith("error:")
    assert not (tmp_path / "r2").exists()
    assert _tree_digest(real_store) == before


# ---- pooled tests: auto by default, forced, independence-assuming on request ---------------


def _pooled(real_store, *extra):
    res = _invoke("study", "brent", "wti", "--event", "blockade", "--window", "0,1", "--json",
                  *extra, "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    return pd.DataFrame(json.loads(res.stdout)["tests"]), res


def test_pooled_tests_default_to_auto_and_can_be_forced(real_store):
    tests, res = _pooled(real_store)
    assert tests.empty  # two pairs on one date: no pooled test by default
    assert "no pooled tests (2 pairs < 10; --pooled forces them)" in res.stderr
    assert _pooled(real_store, "--no-pooled")[0].empty
    forced, _ = _pooled(real_store, "--pooled")
    assert len(forced) and not forced["assumes_independence"].any()
    assert {"adjusted_bmp", "brown_warner"} <= set(forced["test"])
    both, _ = _pooled(real_store, "--pooled", "--independence-tests")
    indep = both[both["assumes_independence"]]
    assert "cross_sectional_t" in set(indep["test"])
    assert indep["note"].str.contains("invalid for clustered").all()


def test_study_passes_only_the_options_given(monkeypatch, real_store):
    import oilimpact.eventstudy.engine as engine

    seen = []
    real = engine.event_study

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "event_study", spy)
    assert _invoke("study", "brent", "--event", "blockade", "--data-dir",
                   str(real_store)).exit_code == 0  # fmt: skip
    assert not {"pooled", "independence_tests", "exclusion_band", "min_estimation",
                "event_windows"} & set(seen[-1])  # fmt: skip
    res = _invoke("study", "brent", "--event", "blockade", "--exclusion-band", "-5,5",
                  "--pooled", "--independence-tests", "--json", "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert seen[-1]["exclusion_band"] == (-5, 5) and seen[-1]["pooled"] is True
    assert seen[-1]["independence_tests"] is True
    res = _invoke("study", "brent", "--exclusion-band", "5,-5", "--data-dir", str(real_store))
    assert res.exit_code == 2 and "--exclusion-band" in res.stderr
    assert "multitest" not in seen[-1]


def test_study_multitest_choice_reaches_the_q_values(real_store):
    from statsmodels.stats.multitest import multipletests

    out = {}
    for method in ("fdr_bh", "holm", "none"):
        res = _invoke("study", "brent", "wti", "--event", "blockade", "--multitest", method,
                      "--json", "--data-dir", str(real_store))  # fmt: skip
        assert res.exit_code == 0, res.output
        payload = json.loads(res.stdout)
        assert payload["spec"]["multitest"] == method
        out[method] = pd.DataFrame(payload["car"])
    p = out["none"]["pvalue"].to_numpy()
    assert out["none"]["qvalue"].to_numpy() == pytest.approx(p)
    for method in ("fdr_bh", "holm"):  # an independent computation of the same family
        want = multipletests(p, method=method)[1]
        assert out[method]["qvalue"].to_numpy() == pytest.approx(want, rel=1e-12)
    res = _invoke("study", "brent", "--multitest", "bonferonni", "--data-dir", str(real_store))
    assert res.exit_code == 2 and "multitest must be one of" in res.stderr


def test_short_estimation_warns_in_one_line(real_store):
    res = _invoke("study", "brent", "--event", "fto_announced", "--estimation", "-60,-11",
                  "--data-dir", str(real_store))  # fmt: skip
    assert res.exit_code == 0, res.output
    warnings = [ln for ln in res.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and "--min-estimation" in warnings[0]


def test_progress_goes_to_stderr_only_on_a_terminal(monkeypatch, real_store):
    import io

    from rich.console import Console

    from oilimpact import cli

    tty = io.StringIO()
    console = Console(file=tty, force_terminal=True, soft_wrap=True, highlight=False)
    monkeypatch.setattr(cli._output, "err", console)
    res = _invoke("study", "brent", "--event", "blockade", "--data-dir", str(real_store))
    assert res.exit_code == 0, res.output
    import re

    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", tty.getvalue())
    assert "event study of 1 series x 1 events" in shown  # the spinner
    assert "study: 1 series x 1 event" in shown  # the summary
    assert "\x1b" not in res.stdout and "event study of" not in res.stdout
    assert res.stderr == ""  # everything went to the terminal console


def test_one_failure_is_one_line_and_several_get_the_table(tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("Date,Price\n2025-12-18,61.0\n2025-12-19,sixty\n")
    res = _invoke("import", str(one), "--series", "brent", "--data-dir", str(tmp_path / "s"))
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1
    two = tmp_path / "two.csv"
    two.write_text("Date,Price\n2025-12-18,61.0\n2025-12-19,sixty\n2025-12-22,abc\n")
    res = _invoke("import", str(two), "--series", "brent", "--data-dir", str(tmp_path / "s"))
    assert res.exit_code == 2 and "validation failures:" in res.stderr
    assert "line 3" in res.stderr.replace("\n", " ") and "abc" in res.stderr  # all at once


def test_readme_cli_examples_use_existing_options():
    """Every `oilimpact COMMAND --option` in the README's shell blocks exists."""
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:bash|sh|console)\n(.*?)```", readme, flags=re.S)
    text = "\n".join(blocks).replace("\\\n", " ")
    checked = 0
    for line in text.splitlines():
        m = re.match(r"\s*(?:\$ )?oilimpact (\w+)(.*)", line)
        if not m:
            continue
        cmd, rest = m.group(1), m.group(2).split("#")[0]
        help_text = runner.invoke(app, [cmd, "--help"], env={"COLUMNS": "200"})
        assert help_text.exit_code == 0, f"README uses unknown command {cmd!r}"
        for opt in re.findall(r"(?<!\S)(--[a-z][a-z-]*)", rest):
            assert opt in help_text.stdout, f"README: `oilimpact {cmd}` has no option {opt}"
        checked += 1
    assert checked >= 5


def test_future_rows_are_refused_and_allow_future_stores_them(tmp_path):
    src = tmp_path / "future.csv"
    src.write_text("Date,Price\n2025-12-16,58.9\n2099-06-05,60.0\n")
    store = tmp_path / "store"
    res = _invoke("import", str(src), "--series", "brent", "--data-dir", str(store))
    assert res.exit_code != 0 and "2099-06-05" in res.stderr and "--allow-future" in res.stderr
    res = _invoke(
        "import", str(src), "--series", "brent", "--allow-future", "--data-dir", str(store)
    )
    assert res.exit_code == 0, res.output
    assert api.load("brent", data_dir=store).index[-1] == pd.Timestamp("2099-06-05")
