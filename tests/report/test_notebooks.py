"""The analysis notebooks execute offline (demo data) and keep their plotly charts."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ["blockade_event_study", "export_volumes"]

pytest.importorskip("jupytext")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel", reason="the python3 kernel needs ipykernel in this venv")


def _runner():
    spec = importlib.util.spec_from_file_location("oilimpact_notebook_runner", NOTEBOOKS / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def runner():
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:  # pragma: no cover - ipykernel provides the native python3 kernel
        pytest.skip("no python3 kernel spec (python -m ipykernel install --sys-prefix)")
    return _runner()


@pytest.mark.parametrize("name", NAMES)
def test_notebook_source_is_percent_format_with_parameters(name):
    import jupytext

    nb = jupytext.read(NOTEBOOKS / f"{name}.py")
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert sum("parameters" in t for t in tags) == 1
    text = (NOTEBOOKS / f"{name}.py").read_text(encoding="utf-8")
    assert "format_name: percent" in text and "import oilimpact as oi" in text
    # public API only: the top-level package and the demo data, nothing internal
    internal = re.findall(r"^\s*(?:from|import) oilimpact\.(\w+)", text, re.M)
    assert set(internal) <= {"demo"}, internal


@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes_and_keeps_its_charts(runner, name, tmp_path):
    import nbformat

    html = runner.run_notebook(
        NOTEBOOKS / f"{name}.py",
        tmp_path,
        parameters={"AS_OF": "2026-01-09"},
        env={"OILIMPACT_NOTEBOOK_DATA_DIR": ""},
        timeout=300,
    )
    nb = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert errors == []
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    text = html.read_text(encoding="utf-8")
    assert text.count('class="plotly-graph-div"') >= 3  # PLOTLY_RENDERER=notebook survived
    assert "SYNTHETIC DATA" in text


def test_runner_cli_reports_unknown_notebooks(runner):
    with pytest.raises(SystemExit, match="unknown notebook"):
        runner.notebooks(["no_such_notebook"])
    assert [p.stem for p in runner.notebooks()] == sorted(NAMES)
