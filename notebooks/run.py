"""Execute the analysis notebooks and write them as HTML (one command for CI and `make`).

Each ``notebooks/*.py`` file (jupytext percent format) is converted to a notebook,
optionally given parameters (a cell injected after the cell tagged ``parameters``, as
papermill does), executed in a fresh ``python3`` kernel with ``PLOTLY_RENDERER=notebook``
(plotly 6+ otherwise emits a mimetype nbconvert drops), and exported to
``<out>/<name>.html`` (and ``<name>.ipynb``).

A notebook that fails still gets its HTML: the cells that ran, the failing cell with its
traceback, and a banner at the top naming the error; the run then exits with status 1.

The log is one line per notebook (name, seconds, ok/FAILED, output path; a failure adds
one indented line with the error), free of terminal colour codes. The kernel's own
stderr (for example ipykernel's transport warning) goes to ``<out>/<name>.kernel.log``.

Usage::

    python notebooks/run.py                          # all notebooks -> reports/notebooks/
    python notebooks/run.py blockade_event_study -p AS_OF 2026-01-09 --out /tmp/nb
    python notebooks/run.py --data-dir data          # on a store instead of the demo data
    python notebooks/run.py --snapshot ../shared/data/real --out reports/real/notebooks
    python notebooks/run.py --notebooks-dir /tmp/my_notebooks --out /tmp/nb

``--snapshot FOLDER`` imports the real-data snapshot into a temporary store, recorded as
fetched on ``AS_OF`` (``-p AS_OF``, default 2026-01-09), and runs the notebooks on it.

Exit status 1 when a notebook fails.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "reports" / "notebooks"
DEFAULT_AS_OF = "2026-01-09"
KERNEL = "python3"
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    """``text`` without terminal escape sequences (colours, cursor moves)."""
    return ANSI.sub("", text)


def notebooks(names: Sequence[str] = (), folder: Path = HERE) -> list[Path]:
    """The notebook sources: ``<folder>/<name>.py`` for ``names``, else all of them."""
    folder = Path(folder).resolve()
    found = sorted(p for p in folder.glob("*.py") if p.resolve() != Path(__file__).resolve())
    if not names:
        return found
    by_name = {p.stem: p for p in found}
    missing = [n for n in names if Path(n).stem not in by_name]
    if missing:
        raise SystemExit(f"unknown notebook(s) {missing}; available: {sorted(by_name)}")
    return [by_name[Path(n).stem] for n in names]


def _literal(value: str) -> Any:
    """``-p`` values: Python literals when they parse (numbers, lists, None), else strings."""
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def inject_parameters(nb: Any, parameters: Mapping[str, Any]) -> Any:
    """Insert a cell assigning ``parameters`` after the cell tagged ``parameters``."""
    import nbformat

    if not parameters:
        return nb
    lines = ["# Injected parameters"] + [f"{k} = {v!r}" for k, v in parameters.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    where = next(
        (i + 1 for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])),
        0,
    )
    nb.cells.insert(where, cell)
    return nb


class NotebookFailure(Exception):
    """A notebook cell raised: its HTML was still written, with the error in it.

    ``cell`` is the execution count of the failing cell (None when unknown).
    """

    def __init__(self, name: str, html: Path, cell: int | None, ename: str, evalue: str):
        super().__init__(name, html, cell, ename, evalue)
        self.name, self.html, self.cell, self.ename, self.evalue = name, html, cell, ename, evalue

    def __str__(self) -> str:
        where = f"cell [{self.cell}]" if self.cell is not None else "a cell"
        return (
            f"{self.name}: {where} raised {self.ename}: {self.evalue} (partial HTML: {self.html})"
        )


def _first_error(nb: Any) -> tuple[int | None, str, str]:
    """(execution count, error name, message) of the first error output, if any."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                evalue = strip_ansi(str(out.get("evalue", "")))
                return cell.get("execution_count"), out.get("ename", "Error"), evalue
    return None, "Error", ""


def _failure_banner(cell: int | None, ename: str, evalue: str) -> Any:
    import nbformat

    where = f"cell [{cell}]" if cell is not None else "a cell"
    text = (
        f"> **This notebook failed**: {where} raised `{ename}`: {evalue}\n>\n"
        "> The cells above it ran; the cells below it did not. The traceback is under the "
        "failing cell."
    )
    banner = nbformat.v4.new_markdown_cell(text)
    banner.metadata["tags"] = ["run-failure"]
    return banner


def run_notebook(
    source: Path,
    out_dir: Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    timeout: int = 600,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Convert, execute and export one notebook; return the HTML path.

    Raises :class:`NotebookFailure` when a cell fails, after writing the partial
    notebook and HTML (executed cells, the error cell with its traceback, a banner).
    """
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    nb = jupytext.read(source)
    nb = inject_parameters(nb, parameters or {})
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    kernel_env = {
        **os.environ,
        "PLOTLY_RENDERER": "notebook",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
        **(env or {}),
    }
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(out_dir)}},
    )
    failure: tuple[int | None, str, str] | None = None
    kernel_log = out_dir / f"{source.stem}.kernel.log"
    with open(kernel_log, "wb") as log:
        try:
            client.execute(env=kernel_env, stdout=log, stderr=log)
        except CellExecutionError as exc:
            failure = _first_error(nb)
            if not failure[2]:
                failure = (failure[0], failure[1], strip_ansi(str(exc)).strip().splitlines()[-1])
    if failure is not None:
        nb.cells.insert(0, _failure_banner(*failure))
    nbformat.write(nb, out_dir / f"{source.stem}.ipynb")
    body, _ = HTMLExporter().from_notebook_node(nb)
    html = out_dir / f"{source.stem}.html"
    html.write_text(body, encoding="utf-8")
    if failure is not None:
        raise NotebookFailure(source.stem, html, *failure)
    return html


def snapshot_store(folder: Path, data_dir: Path, as_of: str) -> int:
    """Import the real-data snapshot in ``folder`` into ``data_dir``; the number of series.

    The import is recorded as fetched at noon UTC on ``as_of``, so a notebook run
    ``as_of`` that day reads it as the vintage it knew (as the CI brief does).
    """
    from oilimpact.snapshot import import_snapshot

    outcomes = import_snapshot(folder, data_dir, fetched_at=f"{as_of}T12:00:00Z")
    return len(outcomes)


def run_all(
    sources: Sequence[Path],
    out: Path,
    params: Mapping[str, Any],
    timeout: int,
) -> int:
    """Run ``sources`` one by one, print one line each; the number that failed."""
    failed = 0
    for src in sources:
        t0 = time.perf_counter()
        try:
            html = run_notebook(src, out, parameters=params, timeout=timeout)
        except NotebookFailure as exc:
            failed += 1
            print(f"{src.stem}: FAILED in {time.perf_counter() - t0:.1f} s -> {exc.html}")
            where = f"cell [{exc.cell}]" if exc.cell is not None else "a cell"
            print(f"    {where}: {exc.ename}: {exc.evalue}")
            continue
        except Exception as exc:  # kernel did not start, unreadable source, ...
            failed += 1
            message = strip_ansi(str(exc)).strip().splitlines()
            print(f"{src.stem}: FAILED in {time.perf_counter() - t0:.1f} s (no HTML)")
            print(f"    {type(exc).__name__}: {message[-1] if message else ''}")
            continue
        print(f"{src.stem}: ok in {time.perf_counter() - t0:.1f} s -> {html}")
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="set a parameter (a Python literal or a string)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data-dir", help="store directory (default: the synthetic demo data)")
    source.add_argument(
        "--snapshot",
        type=Path,
        help="a real-data snapshot folder (../shared/data/real), imported into a temporary store",
    )
    parser.add_argument(
        "--notebooks-dir",
        type=Path,
        default=HERE,
        help="folder of jupytext notebooks (default: this script's folder)",
    )
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    params = {k: _literal(v) for k, v in args.parameter}
    sources = notebooks(args.names, args.notebooks_dir)
    if args.snapshot is None:
        if args.data_dir:
            params["DATA_DIR"] = str(Path(args.data_dir).resolve())
        return 1 if run_all(sources, args.out, params, args.timeout) else 0
    if not args.snapshot.is_dir():
        raise SystemExit(f"--snapshot {args.snapshot}: not a folder")
    params.setdefault("AS_OF", DEFAULT_AS_OF)
    with tempfile.TemporaryDirectory(prefix="oilimpact-notebooks-") as tmp:
        count = snapshot_store(args.snapshot, Path(tmp), str(params["AS_OF"]))
        print(f"snapshot {args.snapshot}: {count} series imported, fetched as of {params['AS_OF']}")
        params["DATA_DIR"] = tmp
        params.setdefault(
            "DATA_LABEL",
            f"the real-data snapshot `{args.snapshot}` (imported into a temporary store)",
        )
        return 1 if run_all(sources, args.out, params, args.timeout) else 0


if __name__ == "__main__":
    sys.exit(main())
