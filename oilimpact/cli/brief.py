"""``oilimpact brief``: the weekly brief."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from . import _output
from ._app import Catalog, DataDir, command
from ._output import _call, _seconds, _summary
from ._parse import _date_opt
from .data import _fetch_summary, _print_failures

_BriefAsOf = Annotated[
    str | None,
    typer.Option(
        metavar="DATE",
        help="Brief date: what was known at it (YYYY-MM-DD). Default: the end (Sunday) of "
        "the last complete ISO week.",
        show_default=False,
    ),
]
_BriefDemo = Annotated[
    bool, typer.Option(help="Run offline on the seeded synthetic dataset (marked synthetic).")
]
_BriefFetch = Annotated[
    bool, typer.Option(help="Fetch (incrementally) before building; needs network.")
]
_BriefFailOnStale = Annotated[
    bool,
    typer.Option(help="Exit 1 instead of publishing when a series is stale or a fetch failed."),
]
_BriefGeneratedAt = Annotated[
    str | None,
    typer.Option(
        metavar="TIME",
        help="Timestamp printed in the brief; fix it for byte-identical rebuilds. Default: now.",
        show_default=False,
    ),
]


@command("brief")
def brief_cmd(
    as_of: _BriefAsOf = None,
    demo: _BriefDemo = False,
    fetch: _BriefFetch = False,
    fail_on_stale: _BriefFailOnStale = False,
    generated_at: _BriefGeneratedAt = None,
    out_dir: Annotated[Path, typer.Option("--out", metavar="DIR", help="Reports folder.")] = Path(
        "reports"
    ),
    catalog: Catalog = None,
    data_dir: DataDir = None,
    model: Annotated[
        str,
        typer.Option(
            metavar="MODEL",
            help="Normal-return model of the event studies: market_garch (GARCH(1,1) errors "
            "fitted by arch, three-year estimation window: single-pair tests keep their "
            "size under persistent volatility) | market_gjr | market (OLS, -250,-11) | "
            "market_adjusted.",
        ),
    ] = "market_garch",
) -> None:
    """Build the weekly brief: <out>/<ISO week>/brief.html, results.json and CSV tables.

    Examples:

      oilimpact brief --demo
      oilimpact brief --as-of 2026-01-09 --generated-at 2026-01-10T08:00Z
      oilimpact brief --fetch --fail-on-stale
      oilimpact brief --as-of 2026-01-09 --model market

    --demo runs offline on synthetic data; otherwise the brief reads the store as known
    at --as-of. Default model: the market model on sp500 with GARCH(1,1) errors and a
    three-year estimation window (-760,-11), abnormal returns standardised by the
    conditional-variance forecast (docs/methods-garch.md); --model market is the OLS
    market model on -250,-11.
    """
    from .. import api

    as_of = _date_opt(as_of, "--as-of")
    generated_at = _date_opt(generated_at, "--generated-at")
    t0 = time.perf_counter()
    fetched: list[Any] = []
    try:
        with _call("building the brief", keep=(api.StaleDataError,)) as update:

            def on_fetch(name: str, outcome: Any) -> None:
                fetched.append(outcome)
                update(f"fetched {name}: {outcome.status}")

            extra = {"on_fetch": on_fetch} if fetch else {}
            paths = api.build_brief(
                as_of=as_of, data_dir=data_dir, out=out_dir, generated_at=generated_at,
                demo=demo, fetch=fetch, fail_on_stale=fail_on_stale, catalog=catalog,
                model=model, **extra,
            )  # fmt: skip
    except api.StaleDataError as exc:
        _report_fetch(fetched, t0)
        _output.err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(code=1) from None
    _report_fetch(fetched, t0)
    _output.out.print(escape(f"brief written to {paths.html}"))
    failed = sum(o.status == "failed" for o in fetched)
    _summary(
        f"brief: {paths.html.parent} ({_seconds(t0)})"
        + (f"; built from the store, {failed} series could not be fetched" if failed else "")
    )


def _report_fetch(outcomes: list[Any], t0: float) -> None:
    """A brief's fetch failures on stderr: one line per provider and the fetch summary."""
    if not any(o.status == "failed" for o in outcomes):
        return
    _print_failures(outcomes)
    _output.err.print(escape(_fetch_summary(outcomes, _seconds(t0), what="brief --fetch")))
