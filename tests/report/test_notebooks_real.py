"""The notebooks on the real snapshot store, and what run.py does when a notebook fails.

The real-data tests build a store from ``../shared/data/real`` in a temporary folder
(skipped, with the reason, where that folder is absent) and run ``notebooks/run.py`` as a
user would, in a subprocess: one HTML per notebook, exit status 0, real numbers in the
HTML (checked against the public API on the same store), no traceback, a clean log.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
REAL = ROOT.parent / "shared" / "data" / "real"
NAMES = ["blockade_event_study", "export_volumes"]
ANSI = re.compile(r"\x1b\[")

pytest.importorskip("jupytext")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel", reason="the python3 kernel needs ipykernel in this venv")


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "OILIMPACT_NOTEBOOK_DATA_DIR"}
    return subprocess.run(
        [sys.executable, str(NOTEBOOKS / "run.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )


def _errors(ipynb: Path) -> list:
    import nbformat

    nb = nbformat.read(ipynb, as_version=4)
    return [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]


def _table_cells(html: str, header: str, first: str, second: str) -> list[str]:
    """The cells of the row starting ``first``, ``second`` in the table with column ``header``."""
    for table in re.findall(r"<table.*?</table>", html, re.S):
        if f"<th>{header}</th>" not in table:
            continue
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
            cells = [c.strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
            if cells[:2] == [first, second]:
                return cells
    raise AssertionError(f"no row starting {first!r}, {second!r} in a table with {header!r}")


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    """The real snapshot imported into a store, fetched as of 2026-06-30 (as the brief does)."""
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent (the real-data snapshot is not on this machine)")
    from oilimpact.snapshot import import_snapshot

    store = tmp_path_factory.mktemp("real_store")
    import_snapshot(REAL, store, fetched_at="2026-06-30T12:00:00Z")
    return store


@pytest.fixture(scope="module")
def default_run(real_store, tmp_path_factory):
    """``python notebooks/run.py --data-dir STORE`` with the notebooks' own defaults."""
    out = tmp_path_factory.mktemp("nb_real")
    return _run("--data-dir", str(real_store), "--out", str(out)), out


def test_run_on_real_store_writes_one_html_per_notebook_and_exits_0(default_run):
    proc, out = default_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.stem for p in out.glob("*.html")) == NAMES
    for name in NAMES:
        text = (out / f"{name}.html").read_text(encoding="utf-8")
        assert "Traceback" not in text and "This notebook failed" not in text
        assert "<strong>SYNTHETIC DATA</strong>" not in text  # real data, not the demo
        assert "Data: the store in <code>" in text
        assert _errors(out / f"{name}.ipynb") == []


def test_run_log_is_one_clean_line_per_notebook(default_run):
    proc, out = default_run
    lines = proc.stdout.splitlines()
    assert len(lines) == len(NAMES), proc.stdout
    for name, line in zip(NAMES, lines, strict=True):
        assert re.fullmatch(rf"{name}: ok in \d+\.\d s -> .*{name}\.html", line), line
    assert not ANSI.search(proc.stdout + proc.stderr)
    assert "IPKernelApp" not in proc.stdout + proc.stderr  # the kernel's noise is in its log
    assert "Kernel is running over TCP" in (out / f"{NAMES[0]}.kernel.log").read_text()


def test_blockade_notebook_shows_the_real_brent_row_and_says_what_it_skipped(
    default_run, real_store
):
    import oilimpact as oi

    _, out = default_run
    html = (out / "blockade_event_study.html").read_text(encoding="utf-8")
    catalog = oi.events.load_catalog()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the vintage note: the store was fetched after AS_OF
        prices = oi.load_frame(
            ["brent", "wti", "henry_hub", "sp500"], as_of="2026-01-09", data_dir=real_store
        )
    res = oi.event_study(
        prices,
        [catalog[e] for e in ["blockade", "fto_announced", "fto_effective"]],
        market="sp500",
        catalog=catalog,
    )
    car = res.car.set_index(["event", "series", "start", "end"])
    for end in (0, 1):
        want = car.loc[("blockade", "brent", 0, end)]
        cells = _table_cells(html, "CAR (%)", "brent", f"[+0,{end:+d}]")
        assert float(cells[2]) == pytest.approx(100 * want["car"], abs=0.006)  # CAR (%)
        assert float(cells[3]) == pytest.approx(100 * want["se"], abs=0.006)  # se (%)
        assert float(cells[4]) == pytest.approx(want["pvalue"], abs=0.006)
    assert abs(100 * car.loc[("blockade", "brent", 0, 1), "car"]) > 0.1  # not a zero column
    assert "Skipped (not in this data): xle, cvx, fro, dht, insw, tnk, vlo, mpc, pbf" in html
    assert "pooled tanker test needs at least two tanker equities" in html
    assert "no vintage stored by 2026-01-09" in html  # the point-in-time caveat is shown


def test_volumes_notebook_on_real_store_as_of_june_estimates_real_shifts(real_store, tmp_path):
    import oilimpact as oi

    proc = _run(
        "export_volumes", "--data-dir", str(real_store), "--out", str(tmp_path),
        "-p", "AS_OF", "2026-06-30",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (tmp_path / "export_volumes.html").read_text(encoding="utf-8")
    assert "Traceback" not in html and _errors(tmp_path / "export_volumes.ipynb") == []
    assert "Skipped (not in this data): us_imports_ve_weekly" in html
    catalog = oi.events.load_catalog()
    series = oi.load("ve_crude_production", as_of="2026-06-30", data_dir=real_store)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = oi.intervention(
            series, [catalog["blockade"]], model="segmented", start="next", slope=False,
            max_placebos=60,
        )  # fmt: skip
    eff = res.effects[res.effects["event"] == "blockade"].iloc[0]
    cells = _table_cells(html, "level change", "ve_crude_production", "kb/d")
    assert float(cells[2]) == pytest.approx(eff["estimate"], abs=0.006)
    assert f"<strong>ve_crude_production</strong>: {eff['estimate']:+,.0f} kb/d" in html
    # too few pre-event months of product imports: said, not raised
    assert "us_products_imports_ve_monthly: not estimated: needs at least 24" in html


BOOM = """\
# %% [markdown]
# # A notebook that fails on purpose

# %% tags=["parameters"]
DATA_DIR = None

# %%
print("before" + "-the-error")

# %%
raise ValueError("deliberate failure 42")

# %%
print("never" + "-ran")
"""

FINE = """\
# %%
print("fine" + "-notebook")
"""


def test_failed_notebook_still_writes_partial_html_with_the_error_and_exits_1(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    (folder / "boom.py").write_text(BOOM, encoding="utf-8")
    (folder / "fine.py").write_text(FINE, encoding="utf-8")
    out = tmp_path / "out"
    proc = _run("--notebooks-dir", str(folder), "--out", str(out))
    assert proc.returncode == 1
    html = (out / "boom.html").read_text(encoding="utf-8")
    assert "before-the-error" in html  # the cells before it ran
    assert "deliberate failure 42" in html and "ValueError" in html  # the error, visible
    assert "This notebook failed" in html  # the banner at the top
    assert "never-ran" not in html  # the cells after it did not run
    assert len(_errors(out / "boom.ipynb")) == 1
    assert "fine-notebook" in (out / "fine.html").read_text(encoding="utf-8")  # the rest ran
    lines = proc.stdout.splitlines()
    assert re.fullmatch(r"boom: FAILED in \d+\.\d s -> .*boom\.html", lines[0]), lines
    assert lines[1] == "    cell [3]: ValueError: deliberate failure 42"
    assert re.fullmatch(r"fine: ok in \d+\.\d s -> .*fine\.html", lines[2]), lines
    assert not ANSI.search(proc.stdout + proc.stderr)


def test_snapshot_option_imports_as_of_and_names_the_snapshot(tmp_path):
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent (the real-data snapshot is not on this machine)")
    proc = _run("export_volumes", "--snapshot", str(REAL), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"snapshot {REAL}: 11 series imported, fetched as of 2026-01-09"
    assert re.fullmatch(r"export_volumes: ok in \d+\.\d s -> .*export_volumes\.html", lines[1])
    html = (tmp_path / "export_volumes.html").read_text(encoding="utf-8")
    assert f"the real-data snapshot <code>{REAL}</code>" in html  # not the temporary path
    assert "no vintage stored by" not in html  # fetched on AS_OF: the vintage it knew
    # as of 2026-01-09 no month after the blockade was published: said, not estimated
    assert "us_imports_ve_monthly: not estimable yet" in html
    assert "No series could be estimated with what was published by 2026-01-09" in html
