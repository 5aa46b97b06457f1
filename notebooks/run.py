"""Execute the analysis notebooks and write them as HTML (one command for CI and `make`).

Each ``notebooks/*.py`` file (jupytext percent format) is converted to a notebook,
optionally given parameters (a cell injected after the cell tagged ``parameters``, as
papermill does), executed in a fresh ``python3`` kernel with ``PLOTLY_RENDERER=notebook``
(plotly 6+ otherwise emits a mimetype nbconvert drops), and exported to
``<out>/<name>.html`` (and ``<name>.ipynb``).

Usage::

    python notebooks/run.py                          # all notebooks -> reports/notebooks/
    python notebooks/run.py blockade_event_study -p AS_OF 2026-01-09 --out /tmp/nb
    python notebooks/run.py --data-dir data          # on a store instead of the demo data

Exit status 1 when a notebook fails (the error cell is printed).
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "reports" / "notebooks"
KERNEL = "python3"


def notebooks(names: Sequence[str] = ()) -> list[Path]:
    """The notebook sources: ``notebooks/<name>.py`` for ``names``, else all of them."""
    found = sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name)
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


def run_notebook(
    source: Path,
    out_dir: Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    timeout: int = 600,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Convert, execute and export one notebook; return the HTML path.

    Raises ``nbclient.exceptions.CellExecutionError`` when a cell fails.
    """
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = jupytext.read(source)
    nb = inject_parameters(nb, parameters or {})
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = dict(os.environ)
    os.environ["PLOTLY_RENDERER"] = "notebook"
    os.environ.update(env or {})
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=KERNEL,
            resources={"metadata": {"path": str(out_dir)}},
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    nbformat.write(nb, out_dir / f"{source.stem}.ipynb")
    body, _ = HTMLExporter().from_notebook_node(nb)
    html = out_dir / f"{source.stem}.html"
    html.write_text(body, encoding="utf-8")
    return html


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
    parser.add_argument("--data-dir", help="store directory (default: the synthetic demo data)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    params = {k: _literal(v) for k, v in args.parameter}
    if args.data_dir:
        params["DATA_DIR"] = str(Path(args.data_dir).resolve())
    failed = 0
    for src in notebooks(args.names):
        t0 = time.perf_counter()
        try:
            html = run_notebook(src, args.out, parameters=params, timeout=args.timeout)
        except Exception as exc:  # report every notebook, then fail
            failed += 1
            print(f"FAILED {src.name}: {exc}", file=sys.stderr)
            continue
        print(f"{src.name} -> {html} ({time.perf_counter() - t0:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
