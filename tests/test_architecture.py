"""The package's shape: a one-directional data flow (eventstudy/, intervention/, synth/ and
report/ never touch sources, store or network), no import cycle, and short functions."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "oilimpact"

CHECK = textwrap.dedent(
    """
    import importlib, pkgutil, socket, sys

    def _refuse(*a, **k):
        raise OSError("network blocked in this test")

    socket.socket.connect = _refuse
    socket.create_connection = _refuse
    import oilimpact.eventstudy, oilimpact.intervention, oilimpact.synth, oilimpact.report
    for pkg in (oilimpact.eventstudy, oilimpact.intervention, oilimpact.synth, oilimpact.report):
        for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            importlib.import_module(mod.name)
    bad = sorted(m for m in sys.modules
                 if m.startswith(("oilimpact.sources", "oilimpact.store", "oilimpact.api", "yfinance", "requests")))
    print(",".join(bad))
    """
)


def test_study_and_report_import_nothing_that_does_io():
    if not (PACKAGE / "report" / "__init__.py").exists():
        pytest.skip("oilimpact.report not present")
    proc = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"study/report pulled in I/O modules: {proc.stdout.strip()}"


@pytest.mark.parametrize("layer", ["eventstudy", "intervention", "synth", "report"])
def test_no_source_level_imports_of_io_modules(layer):
    for path in (PACKAGE / layer).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for forbidden in (
            "from ..sources",
            "from ..store",
            "from ..api",
            "import requests",
            "import yfinance",
        ):
            assert forbidden not in text, f"{path} contains {forbidden!r}"


# ---- no function over MAX_FUNCTION_LINES ------------------------------------------------

MAX_FUNCTION_LINES = 120

#: Functions allowed above the limit, with the length they may not exceed (none since the
#: engine rebuild of issue 15; an entry needs a reason).
SHRINKING: dict[str, int] = {}


def function_lengths() -> dict[str, int]:
    """Lines (def to last line, decorators excluded) of every function in the package."""
    out: dict[str, int] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                key = f"{rel}:{node.name}"
                out[key] = max(out.get(key, 0), node.end_lineno - node.lineno + 1)
    return out


def test_no_function_over_the_limit():
    lengths = function_lengths()
    too_long = {
        k: n for k, n in lengths.items() if n > MAX_FUNCTION_LINES and n > SHRINKING.get(k, 0)
    }
    assert not too_long, (
        f"functions over {MAX_FUNCTION_LINES} lines (split them into named steps): {too_long}"
    )
    done = sorted(k for k in SHRINKING if lengths.get(k, 0) <= MAX_FUNCTION_LINES)
    assert not done, f"now within {MAX_FUNCTION_LINES} lines: remove {done} from SHRINKING"


def test_function_length_check_can_fail(tmp_path):
    source = "def f():\n" + "    x = 1\n" * (MAX_FUNCTION_LINES + 5)
    node = ast.parse(source).body[0]
    assert node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES


# ---- no import cycle ---------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> package modules it imports (module level or inside functions)."""
    paths = {_module_name(p): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in paths}
    for mod, path in paths.items():
        pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = pkg.split(".")[: len(pkg.split(".")) - max(node.level - 1, 0)]
                name = ".".join(base + [node.module or ""]).strip(".") if node.level else node.module
                subs = {f"{name}.{a.name}" for a in node.names} & paths.keys()
                graph[mod] |= subs or ({name} & paths.keys())
            elif isinstance(node, ast.Import):
                graph[mod] |= {a.name for a in node.names} & paths.keys()
        graph[mod].discard(mod)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


#: Import cycles tolerated (none since the engine rebuild of issue 15).
KNOWN_CYCLES: list[list[str]] = []


def test_no_import_cycle():
    found = cycles(import_graph())
    new = [c for c in found if c not in KNOWN_CYCLES]
    assert not new, f"import cycles: {new}"
    gone = [c for c in KNOWN_CYCLES if c not in found]
    assert not gone, f"cycle removed: drop {gone} from KNOWN_CYCLES"


def test_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
