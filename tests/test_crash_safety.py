"""Crash safety and writer races of the store, with real processes.

* An importer (``oilimpact.api.import_file``) and a fetcher-like writer are killed with
  SIGKILL at every point of :data:`oilimpact.store.CRASH_POINTS` (20 points each, through
  the test hook ``OILIMPACT_TEST_CRASH_AT``). After each kill the store must open and
  verify, every series must be exactly its old or its new state, and no lock may be
  left held; the next write must succeed and leave no debris.
* The same check run against a deliberately broken store (manifest replaced before the
  data file is written) must report violations: the check can fail.
* Two writers of one series: the later commit wins, and the writer that commits after
  another writer stored a vintage during its run says so. A store placing writes at
  their fetch time (the old rule) fails the same check.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from filelock import FileLock, Timeout

from oilimpact import api
from oilimpact.errors import OilImpactError
from oilimpact.frames import to_series_frame
from oilimpact.store import CRASH_POINTS, Store

WRITER = Path(__file__).parent / "helpers" / "store_writer.py"
ROWS = 2000
OLD_AT = pd.Timestamp("2025-01-01T00:00:00Z")
NEW_AT = "2025-06-01T00:00:00Z"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork are POSIX")


# ----------------------------------------------------------------------------- the check


def _same(a: pd.Series | None, b: pd.Series | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.index.equals(b.index) and bool(
        np.array_equal(a.to_numpy(), b.to_numpy(), equal_nan=True)
    )


def check_store(root: Path, expected: dict[str, tuple[pd.Series | None, pd.Series]]) -> list[str]:
    """Violations of crash safety in the store at ``root``; [] when it holds.

    ``expected`` maps a series to its (old, new) state; old None means absent.
    """
    store = Store(root)
    violations = list(store.verify())
    for name, (old, new) in expected.items():
        try:
            got = store.load(name) if store.exists(name) else None
        except OilImpactError as exc:
            violations.append(f"{name}: cannot load: {exc}")
            continue
        if not (_same(got, old) or _same(got, new)):
            violations.append(f"{name}: neither its old nor its new state")
    for lock in sorted((root / ".locks").glob("*.lock")) if (root / ".locks").exists() else []:
        held = FileLock(str(lock), timeout=0)
        try:
            held.acquire()
            held.release()
        except Timeout:
            violations.append(f"{lock}: still held")
    return violations


def _after_next_write(root: Path) -> list[str]:
    """A write after the crash succeeds and sweeps what the killed writer left."""
    store = Store(root, lock_timeout=5)
    store.write(to_series_frame([1.0], ["2020-01-01"], "probe"), source="t", source_id="t")
    store.write(
        to_series_frame([2.0], ["2020-01-02"], "big") if store.exists("big") else
        to_series_frame([2.0], ["2020-01-02"], "other"), source="t", source_id="t",
    )  # fmt: skip
    problems = list(store.verify())
    leftovers = [p.name for p in root.rglob("*.tmp")]
    if leftovers and store.exists("big"):
        problems.append(f"temporary files left after the next write: {leftovers}")
    return problems


# ----------------------------------------------------------------------------- runs


def _fetcher_state(base: float) -> pd.Series:
    index = pd.date_range("1900-01-01", periods=ROWS, freq="D", name="date")
    return pd.Series(base + 0.001 * np.arange(ROWS), index=index, name="big")


@pytest.fixture(scope="module")
def fetcher_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fetcher") / "store"
    store = Store(root)
    store.write(_fetcher_state(100.0), source="test", source_id="t0", fetched_at=OLD_AT)
    store.write(to_series_frame([5.0, 6.0], ["2024-01-02", "2024-01-03"], "other"),
                source="test", source_id="t0", fetched_at=OLD_AT)  # fmt: skip
    return root


def _brent_file(path: Path, n: int, revised: int = 0) -> Path:
    dates = pd.bdate_range("2023-01-02", periods=n)
    values = 75 + 5 * np.sin(np.arange(n) / 20)
    values[n - revised - 2 : n - 2] += 0.5 if revised else 0.0
    lines = [f"{d:%Y-%m-%d},{v:.2f}" for d, v in zip(dates, values, strict=True)]
    path.write_text("Date,Price\n" + "\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def importer_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.Series]:
    """Template store holding file A as brent; file B (3 revised values, 2 new dates);
    the state B gives, from an uninterrupted import into a copy."""
    base = tmp_path_factory.mktemp("importer")
    old_file = _brent_file(base / "brent_a.csv", 300)
    new_file = _brent_file(base / "brent_b.csv", 302, revised=3)
    root = base / "store"
    api.import_file(old_file, name="brent", data_dir=root)
    reference = base / "reference"
    shutil.copytree(root, reference)
    out = api.import_file(new_file, name="brent", data_dir=reference)
    assert (out.rows_added, out.rows_revised) == (2, 3)
    return root, new_file, Store(reference).load("brent")


def _copies(template: Path, tmp_path: Path, points: list[str]) -> list[Path]:
    roots = []
    for i, _ in enumerate(points):
        root = tmp_path / f"s{i}"
        shutil.copytree(template, root)
        roots.append(root)
    return roots


def _kill_at(points: list[str], roots: list[Path], *extra: str) -> dict[str, int]:
    """Run the writer once; it forks one child per point, killed there by the hook."""
    cmd = [sys.executable, str(WRITER), "--root", str(roots[0]), "--name", extra[0],
           "--crash-points", ",".join(points), "--roots", ",".join(map(str, roots)),
           *extra[1:]]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    exits = {}
    for line in done.stdout.splitlines():
        if line.startswith("EXIT "):
            _, point, code = line.split()
            exits[point] = int(code)
    return exits


FETCHER_ARGS = ("big", "--rows", str(ROWS), "--base", "500", "--start", NEW_AT)


def test_there_are_at_least_twenty_distinct_crash_points() -> None:
    assert len(set(CRASH_POINTS)) == len(CRASH_POINTS) >= 20


def test_fetcher_killed_at_every_write_step(fetcher_template: Path, tmp_path: Path) -> None:
    points = list(CRASH_POINTS)
    roots = _copies(fetcher_template, tmp_path, points)
    exits = _kill_at(points, roots, *FETCHER_ARGS)
    assert exits == {p: -9 for p in points}  # every point was reached and killed there
    old, new = _fetcher_state(100.0), _fetcher_state(500.0)
    other = Store(fetcher_template).load("other")
    seen_new = set()
    for point, root in zip(points, roots, strict=True):
        violations = check_store(root, {"big": (old, new), "other": (other, other)})
        assert violations == [], (point, violations)
        if _same(Store(root).load("big"), new):
            seen_new.add(point)
        assert _after_next_write(root) == [], point
    # killed before the manifest replace: old state; after it: new state
    cut = points.index("manifest:renamed")
    assert seen_new == set(points[cut:])


def test_importer_killed_at_every_write_step(
    importer_case: tuple[Path, Path, pd.Series], tmp_path: Path
) -> None:
    template, new_file, new = importer_case
    old = Store(template).load("brent")
    points = list(CRASH_POINTS)
    roots = _copies(template, tmp_path, points)
    exits = _kill_at(points, roots, "brent", "--import", str(new_file))
    assert exits == {p: -9 for p in points}
    for point, root in zip(points, roots, strict=True):
        assert check_store(root, {"brent": (old, new)}) == [], point
        assert _after_next_write(root) == [], point


@pytest.mark.parametrize(
    "point", ["manifest:renamed", "log:appended", "parquet:tmp-half-written", "write:merged"]
)
def test_the_check_catches_a_broken_write_order(
    fetcher_template: Path, tmp_path: Path, point: str
) -> None:
    """Manifest before data file: killed between the two, the manifest dangles."""
    [root] = _copies(fetcher_template, tmp_path, [point])
    exits = _kill_at([point], [root], *FETCHER_ARGS, "--broken-order")
    assert exits == {point: -9}
    violations = check_store(root, {"big": (_fetcher_state(100.0), _fetcher_state(500.0))})
    if point == "write:merged":  # nothing written yet: even a broken store is intact here
        assert violations == []
    else:
        assert violations and any("missing" in v for v in violations), violations


# ----------------------------------------------------------------------------- two writers


def _start(root: Path, *args: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, str(WRITER), "--root", str(root), "--name", "shared", "--result",
           "--rows", "500", *args]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(proc: subprocess.Popen[str], word: str) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == word:
            return
    raise AssertionError(
        f"writer exited before {word}: {proc.stderr.read() if proc.stderr else ''}"
    )


def _race(root: Path, *variant: str) -> tuple[dict, dict]:
    """Writer A fetches first and commits last; writer B fetches and commits in between."""
    gate = root.parent / f"{root.name}.go"
    a = _start(root, "--base", "100", "--start", "2025-01-01T00:00:00Z",
               "--wait-file", str(gate), *variant)  # fmt: skip
    try:
        _wait_for(a, "FETCHED")
        b = _start(root, "--base", "200", "--start", "2025-01-01T00:00:05Z", *variant)
        out_b, err_b = b.communicate(timeout=120)
        assert b.returncode == 0, err_b
        gate.touch()
        out_a, err_a = a.communicate(timeout=120)
        assert a.returncode == 0, err_a
    finally:
        if a.poll() is None:
            a.kill()
            a.communicate()

    def result(out: str) -> dict:
        return json.loads(next(x[7:] for x in out.splitlines() if x.startswith("RESULT ")))

    return result(out_a), result(out_b)


def race_violations(root: Path, result_a: dict, result_b: dict) -> list[str]:
    """What is wrong after the race: A committed last, so A must win and say so."""
    store = Store(root)
    problems = list(store.verify())
    a_values = 100 + 0.001 * np.arange(500)
    b_values = 200 + 0.001 * np.arange(500)
    if not np.array_equal(store.load("shared").to_numpy(), a_values):
        problems.append("the later commit (writer A) does not win in load()")
    if not result_a["concurrent"] or not result_a["warnings"]:
        problems.append("writer A does not say that another writer stored data during its run")
    if result_b["concurrent"]:
        problems.append("writer B reports a race it was not in")
    hist = store.history("shared")
    if len(hist) != 2 or not hist["vintage"].is_monotonic_increasing:
        problems.append(f"history is not two vintages in commit order: {hist}")
    elif not np.array_equal(store.load("shared", as_of=hist["vintage"].iloc[0]).to_numpy(),
                            b_values):  # fmt: skip
        problems.append("writer B's values are not kept as the older vintage")
    return problems


def test_two_writers_the_later_commit_wins_and_says_so(tmp_path: Path) -> None:
    root = tmp_path / "store"
    result_a, result_b = _race(root)
    assert race_violations(root, result_a, result_b) == []
    assert result_a["vintage"] > result_b["vintage"] > result_a["fetched_at"]
    assert "stored after this data was fetched" in result_a["warnings"][0]


def test_the_race_check_catches_fetch_time_ordering(tmp_path: Path) -> None:
    """The old rule (vintage = fetch time) lets the earlier commit win: caught."""
    root = tmp_path / "store"
    result_a, result_b = _race(root, "--fetch-time-order")
    violations = race_violations(root, result_a, result_b)
    assert "the later commit (writer A) does not win in load()" in violations
