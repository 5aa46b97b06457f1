"""Benchmark: building the weekly brief, cold (a fresh Python process per run).

Cases:

* ``demo``: the seeded synthetic dataset (``oilimpact.demo``), 14 price series and 3
  volume series, 8 catalog events: import, generate, :func:`compute_brief`,
  :func:`write_brief`;
* ``real``: the public snapshot in ``../shared/data/real`` (Brent, WTI, Henry Hub, VIX,
  S&P 500; Venezuelan crude production and US import values), read with pandas, as of
  2026-01-09 (skipped when the folder is absent);
* ``cli_demo``: ``oilimpact brief --demo`` end to end (what ``make brief`` runs);
* ``cli_real``: ``oilimpact brief --data-dir STORE --as-of 2026-01-09`` on a store holding
  the real snapshot (imported once beforehand, not timed): the cold build from the store.

Each case runs ``REPEATS`` times in a new interpreter (imports included: that is what a
scheduled job pays); the median wall time is compared with the 10 s target. The
per-phase times of the last run are reported too.

* ``mde_cost``: what the Key findings' minimum detectable effect adds to
  :func:`compute_brief` (issue 13.4): in one process, ``MDE_REPEATS`` builds with the MDE
  and as many with ``_finding_mdes`` replaced by an empty table, interleaved so that both
  see the same load; median CPU and wall time of each, for the demo and the real
  snapshot (as of 2026-01-09).

The load average before and after the run is recorded (``load_average``): the machine
may be shared, and wall times under load are upper bounds.

Run: ``python benchmarks/bench_brief.py`` (``--mde-only`` runs just ``mde_cost``).
Writes ``benchmarks/results/brief.json`` (``brief_mde.json`` with ``--mde-only``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"
OUT = Path(__file__).resolve().parent / "results" / "brief.json"
REPEATS = 3
TARGET_S = 10.0
GENERATED_AT = "2026-01-12T06:17:00+00:00"

_PHASES = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    import pandas as pd
    from oilimpact.events import load_catalog
    from oilimpact.report import compute_brief, write_brief
    t1 = time.perf_counter()
    {load}
    t2 = time.perf_counter()
    data = compute_brief(prices, volumes, as_of="2026-01-09", events=load_catalog(),
                         health=health, synthetic=synthetic, true_effects=true_effects)
    t3 = time.perf_counter()
    paths = write_brief(data, sys.argv[1], generated_at="{generated_at}")
    t4 = time.perf_counter()
    print(json.dumps({{"import_s": t1 - t0, "data_s": t2 - t1, "compute_s": t3 - t2,
                      "write_s": t4 - t3, "html_bytes": paths.html.stat().st_size,
                      "notices": list(data.notices)}}))
    """
)

_LOAD_DEMO = """
from oilimpact.demo import demo_dataset
demo = demo_dataset()
prices, volumes, true_effects, synthetic = demo.prices, demo.volumes, demo.true_effects, True
health = demo.health_frame()
"""

_LOAD_REAL = f"""
real = {str(REAL)!r}
def daily(file, date, value):
    df = pd.read_csv(f"{{real}}/{{file}}", parse_dates=[date]).set_index(date)[value]
    return pd.to_numeric(df, errors="coerce").dropna()
prices = pd.concat({{
    "brent": daily("eia_brent_spot_daily.csv", "Date", "Price"),
    "wti": daily("eia_wti_spot_daily.csv", "Date", "Price"),
    "henry_hub": daily("eia_henry_hub_spot_daily.csv", "Date", "Price"),
    "vix": daily("cboe_vix_daily.csv", "DATE", "CLOSE"),
    "sp500": daily("fred_SP500.csv", "observation_date", "SP500"),
}}, axis=1, sort=True).loc["2023-01-01":]
prices.index = prices.index.as_unit("ns").rename("date")
prod = pd.read_csv(f"{{real}}/eia_venezuela_liquids_production_monthly.csv")
prod = prod[prod.eia_product_id == 57]
imf = pd.read_csv(f"{{real}}/imf_imts_us_trade_with_venezuela_monthly.csv")
imf = imf[imf.imf_key == "USA.MG_CIF_USD.VEN.M"]
def monthly(df, name):
    s = pd.Series(df["value"].to_numpy(float), index=pd.to_datetime(df["month"] + "-01"), name=name)
    s.index = s.index.as_unit("ns").rename("date")
    return s
volumes = {{"ve_crude_production": monthly(prod, "ve_crude_production"),
           "us_imports_ve_value": monthly(imf, "us_imports_ve_value")}}
health, true_effects, synthetic = None, None, False
"""


MDE_REPEATS = 5

_MDE_COST = textwrap.dedent(
    """
    import json, statistics, time, warnings
    warnings.simplefilter("ignore")
    import pandas as pd
    from oilimpact.events import load_catalog
    from oilimpact.report import brief
    from oilimpact.report import compute_brief
    {load}
    real_mdes = brief._finding_mdes
    def no_mdes(*args, **kwargs):
        return pd.DataFrame()
    times = {{"with": [], "without": []}}
    for _ in range({repeats}):
        for label, fn in (("without", no_mdes), ("with", real_mdes)):
            brief._finding_mdes = fn
            c0, w0 = time.process_time(), time.perf_counter()
            data = compute_brief(prices, volumes, as_of="2026-01-09", events=load_catalog(),
                                 health=health, synthetic=synthetic, true_effects=true_effects)
            times[label].append((time.process_time() - c0, time.perf_counter() - w0))
    n = int(data.tables["findings"]["mde"].notna().sum())
    out = {{"findings_with_mde": n}}
    for label, v in times.items():
        out[label + "_cpu_s"] = statistics.median(t[0] for t in v)
        out[label + "_wall_s"] = statistics.median(t[1] for t in v)
    print(json.dumps(out))
    """
)


def _mde_cost_case(load: str) -> dict:
    """The MDE's share of compute_brief: with and without, interleaved, in one process."""
    script = _MDE_COST.format(load=load.strip(), repeats=MDE_REPEATS)
    _, out = _run([sys.executable, "-c", script])
    res = json.loads(out.strip().splitlines()[-1])
    res["added_cpu_s"] = res["with_cpu_s"] - res["without_cpu_s"]
    res["added_wall_s"] = res["with_wall_s"] - res["without_wall_s"]
    return res


def _run(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed:\n{proc.stderr[-3000:]}")
    return wall, proc.stdout


def _case(load: str) -> dict:
    script = _PHASES.format(load=textwrap.indent(load, "").strip(), generated_at=GENERATED_AT)
    walls, phases = [], {}
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory() as tmp:
            wall, out = _run([sys.executable, "-c", script, tmp])
        walls.append(wall)
        phases = json.loads(out.strip().splitlines()[-1])
    return {"wall_s": walls, "median_s": statistics.median(walls), "phases_last_run": phases}


def _cli_case(*args: str) -> dict:
    """``oilimpact brief ARGS`` in a fresh process, ``REPEATS`` times."""
    exe = Path(sys.executable).parent / "oilimpact"
    walls = []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory() as tmp:
            wall, _ = _run([str(exe), "brief", *args, "--generated-at", GENERATED_AT, "--out", tmp])
        walls.append(wall)
    return {"wall_s": walls, "median_s": statistics.median(walls)}


def _cli_real_case() -> dict:
    """The real snapshot imported into a temporary store (not timed), then the CLI brief."""
    from oilimpact.snapshot import import_snapshot

    with tempfile.TemporaryDirectory() as store:
        import_snapshot(REAL, store, fetched_at="2026-01-09T12:00:00Z")
        return _cli_case("--data-dir", store, "--as-of", "2026-01-09")


def _mde_main() -> int:
    """Only the ``mde_cost`` case (``--mde-only``)."""
    load0 = os.getloadavg()
    results: dict = {"benchmark": "Key-findings MDE cost in compute_brief", "cases": {}}
    results["cases"]["mde_cost_demo"] = _mde_cost_case(_LOAD_DEMO)
    if REAL.is_dir():
        results["cases"]["mde_cost_real"] = _mde_cost_case(_LOAD_REAL)
    results["load_average"] = {"before": load0, "after": os.getloadavg()}
    results["cpus"] = os.cpu_count()
    _print_mde(results["cases"])
    out = OUT.with_name("brief_mde.json")
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"load average {load0[0]:.1f} -> {os.getloadavg()[0]:.1f}; wrote {out.relative_to(ROOT)}")
    return 0


def _print_mde(cases: dict) -> None:
    for name, c in cases.items():
        if name.startswith("mde_cost"):
            print(
                f"{name}: {c['findings_with_mde']} findings with an MDE; compute_brief CPU "
                f"{c['without_cpu_s']:.3f} -> {c['with_cpu_s']:.3f} s (+{c['added_cpu_s']:.3f}), "
                f"wall {c['without_wall_s']:.3f} -> {c['with_wall_s']:.3f} s "
                f"(+{c['added_wall_s']:.3f}); medians of {MDE_REPEATS}"
            )


def main() -> int:
    if "--mde-only" in sys.argv[1:]:
        return _mde_main()
    load0 = os.getloadavg()
    results: dict = {
        "benchmark": "weekly brief, cold process per run",
        "repeats": REPEATS,
        "target_s": TARGET_S,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "cases": {},
    }
    results["cases"]["demo"] = _case(_LOAD_DEMO)
    if REAL.is_dir():
        results["cases"]["real"] = _case(_LOAD_REAL)
    else:
        results["cases"]["real"] = f"skipped: {REAL} is absent"
    results["cases"]["cli_demo"] = _cli_case("--demo")
    if REAL.is_dir():
        results["cases"]["cli_real"] = _cli_real_case()
    results["cases"]["mde_cost_demo"] = _mde_cost_case(_LOAD_DEMO)
    if REAL.is_dir():
        results["cases"]["mde_cost_real"] = _mde_cost_case(_LOAD_REAL)
    results["load_average"] = {"before": load0, "after": os.getloadavg()}
    ok = True
    _print_mde(results["cases"])
    for name, case in results["cases"].items():
        if isinstance(case, str):
            print(f"{name:9s} {case}")
            continue
        if name.startswith("mde_cost"):
            continue
        met = case["median_s"] < TARGET_S
        ok &= met
        extra = ""
        if "phases_last_run" in case:
            p = case["phases_last_run"]
            extra = (
                f"  (import {p['import_s']:.2f}, data {p['data_s']:.2f}, compute "
                f"{p['compute_s']:.2f}, write {p['write_s']:.2f} s; "
                f"{p['html_bytes'] / 1e6:.2f} MB)"
            )
        print(
            f"{name:9s} median {case['median_s']:.2f} s over {REPEATS} cold runs "
            f"[{'ok' if met else 'SLOW'} < {TARGET_S:g} s]{extra}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
