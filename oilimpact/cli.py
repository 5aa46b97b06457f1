"""The ``oilimpact`` command line: a thin Typer app over :mod:`oilimpact.api`.

Each command parses its options, calls one library function, prints a rich table (or
JSON with ``--json``) and exits. Errors print one line on stderr (plus the validation
table when there is one) and exit non-zero; a traceback is a bug.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .errors import OilImpactError, ValidationError

app = typer.Typer(
    name="oilimpact",
    help=(
        "Energy-market and sanctions impact analytics.\n\n"
        "Typical session:\n\n"
        "  oilimpact import ../shared/data/real/eia_brent_spot_daily.csv --series brent\n\n"
        "  oilimpact fetch brent wti sp500        (needs network; EIA needs EIA_API_KEY)\n\n"
        "  oilimpact status\n\n"
        "  oilimpact study brent wti --event blockade --event fto_announced\n\n"
        "  oilimpact brief --demo                 (offline, synthetic data)\n\n"
        "The store lives in --data-dir, else $OILIMPACT_DATA_DIR, else ./data."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Store directory (default: $OILIMPACT_DATA_DIR, then ./data).",
        show_default=False,
    ),
]
AsJson = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")
]
Registry = Annotated[Path | None, typer.Option(help="Extra series TOML file.")]


def _fail(exc: OilImpactError) -> None:
    err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    if isinstance(exc, ValidationError) and exc.failures is not None and len(exc.failures):
        err.print(_table(exc.failures.head(20), title="validation failures"))
    raise typer.Exit(code=2)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return "" if value is None else str(value)


def _table(frame: Any, title: str | None = None) -> Table:
    table = Table(title=title, show_lines=False)
    for col in frame.columns:
        table.add_column(str(col), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    return table


def _json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=_cell, sort_keys=True) + "\n")


def _plain(value: Any) -> Any:
    """A JSON-able scalar: dates as ISO strings, NaN/NaT as None, numpy scalars as Python."""
    import pandas as pd

    if value is None or (
        not isinstance(value, (str, bytes)) and pd.api.types.is_scalar(value) and pd.isna(value)
    ):
        return None
    if isinstance(value, pd.Timestamp):
        return (
            value.date().isoformat()
            if value == value.normalize() and value.tz is None
            else value.isoformat()
        )
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def _frame_json(frame: Any) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


@app.command("series")
def series_cmd(
    registry: Registry = None,
    as_json: AsJson = False,
) -> None:
    """List the registered series, their units and sources (preferred first)."""
    import pandas as pd

    from .series import default_registry

    try:
        reg = default_registry().with_file(registry) if registry else default_registry()
    except OilImpactError as exc:
        _fail(exc)
    frame = pd.DataFrame(
        [
            {
                "series": s.name,
                "kind": s.kind,
                "frequency": s.frequency,
                "unit": s.unit,
                "close": f"{s.close_time:%H:%M} {s.timezone}",
                "sources": ", ".join(str(r) for r in s.sources),
            }
            for s in reg.values()
        ]
    )
    if as_json:
        _json(_frame_json(frame))
    else:
        out.print(_table(frame, title="registered series"))


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV file to import.", show_default=False)],
    series: Annotated[
        str, typer.Option("--series", "-s", help="Registry name to store it under (e.g. brent).")
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="auto | fred | eia | ohlc | yahoo | tidy | tanker")
    ] = "auto",
    column: Annotated[
        str | None, typer.Option(help="Value column when the file has several (FRED ids, OHLC).")
    ] = None,
    date_column: Annotated[str | None, typer.Option(help="Date column of a tidy file.")] = None,
    value_column: Annotated[str | None, typer.Option(help="Value column of a tidy file.")] = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="KEY=VALUE row filter for tidy files, repeatable (e.g. eia_product_id=57).",
        ),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(help="Tanker export preset: kpler (terminal CSV or SDK ids) | vortexa."),
    ] = None,
    origin: Annotated[
        str | None, typer.Option(help="Tanker exports: origin country to keep.")
    ] = None,
    registry: Registry = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Import a file into the store as a named series (validated before it is stored).

    Examples:

      oilimpact import eia_wti_spot_daily.csv --series wti

      oilimpact import fred_SP500.csv --series sp500

      oilimpact import production.csv --series ve_crude_production --filter eia_product_id=57

      oilimpact import kpler.csv --series ve_exports_kpler --format tanker --preset kpler

    A file that fails to parse or validate changes nothing in the store.
    """
    from . import api

    filters: dict[str, str] = {}
    for item in filter_ or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            _fail(OilImpactError(f"--filter expects KEY=VALUE, got {item!r}"))
        filters[key] = value
    try:
        res = api.import_file(
            file,
            name=series,
            fmt=fmt,
            column=column,
            date_column=date_column,
            value_column=value_column,
            filters=filters or None,
            preset=preset,
            origin_country=origin,
            data_dir=data_dir,
            registry=registry,
        )
    except OilImpactError as exc:
        _fail(exc)
    if as_json:
        _json({k: getattr(res, k) for k in res.__slots__})
        return
    out.print(
        f"{res.status} [bold]{res.name}[/] from {res.path} ({res.format}): {res.rows} rows "
        f"{res.first} .. {res.last}; {res.rows_added} added, {res.rows_revised} revised",
        highlight=False,
    )
    for warning in res.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)


@app.command("fetch")
def fetch_cmd(
    series: Annotated[
        list[str] | None, typer.Argument(help="Series to fetch (default: every fetchable series).")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First date (YYYY-MM-DD); default: incremental.")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Last date (YYYY-MM-DD).")] = None,
    full: Annotated[
        bool, typer.Option(help="Refetch the whole history instead of an incremental refresh.")
    ] = False,
    provider: Annotated[
        list[str] | None, typer.Option(help="Only use these providers (fred, eia, yahoo).")
    ] = None,
    offline: Annotated[
        bool, typer.Option(help="Do not touch the network; just report the store.")
    ] = False,
    registry: Registry = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Fetch series from FRED, EIA (needs EIA_API_KEY) and Yahoo into the store.

    Each series tries its sources in registry order; every fetch is validated before
    it is stored, and a failed fetch never replaces stored data. Exits 1 when any
    series failed. Without network, use --offline or `oilimpact import FILE`.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from . import api

    if offline:
        err.print("offline: nothing fetched; showing the store.")
        status_cmd(data_dir=data_dir, as_json=as_json, registry=registry)
        return
    try:
        names = list(series) if series else api.fetchable_series(registry)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(), console=err, transient=True, disable=as_json,
        ) as progress:  # fmt: skip
            task = progress.add_task("fetching", total=len(names))

            def step(name: str, outcome: api.FetchOutcome) -> None:
                progress.update(task, advance=1, description=f"fetched {name}: {outcome.status}")

            outcomes = api.fetch(
                names, data_dir=data_dir, start=start, end=end, full=full,
                providers=provider, registry=registry, on_progress=step,
            )  # fmt: skip
    except OilImpactError as exc:
        _fail(exc)
    import pandas as pd

    frame = pd.DataFrame(
        [
            {
                "series": o.name, "status": o.status, "source": o.source, "rows": o.rows,
                "added": o.rows_added, "revised": o.rows_revised, "error": o.error or "",
                "warnings": "; ".join(o.warnings),
            }
            for o in outcomes
        ]
    )  # fmt: skip
    if as_json:
        _json(_frame_json(frame))
    else:
        out.print(_table(frame.drop(columns=["error", "warnings"]), title="fetch"))
        for o in outcomes:
            if o.error:
                colour = "red" if o.status == "failed" else "yellow"
                err.print(f"[{colour}]{o.status}:[/] {o.name}: {o.error}", highlight=False)
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(code=1)


@app.command("validate")
def validate_cmd(
    series: Annotated[
        list[str] | None, typer.Argument(help="Series to check (default: all stored).")
    ] = None,
    registry: Registry = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Re-validate stored series against the registry's schemas. Exits 1 on any failure."""
    from . import api

    try:
        frame = api.validate(series or None, data_dir=data_dir, registry=registry)
    except OilImpactError as exc:
        _fail(exc)
    if as_json:
        _json(_frame_json(frame))
    elif frame.empty:
        out.print("the store is empty: nothing to validate.")
    else:
        out.print(_table(frame, title="validation"))
    if len(frame) and not frame["ok"].all():
        raise typer.Exit(code=1)


@app.command("status")
def status_cmd(
    today: Annotated[
        str | None, typer.Option(help="Reference date for staleness (default: today).")
    ] = None,
    fail_on_stale: Annotated[
        bool, typer.Option(help="Exit 1 when any series is stale (or the store is empty).")
    ] = False,
    registry: Registry = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Show every stored series: span, rows, source, last fetched, vintages, stale?

    A series is stale when its last observation is older than 10 days (daily), 17 days
    (weekly) or 155 days (monthly) before --today.
    """
    from . import api

    try:
        frame = api.status(data_dir=data_dir, today=today, registry=registry)
    except OilImpactError as exc:
        _fail(exc)
    if as_json:
        _json(_frame_json(frame))
    elif frame.empty:
        out.print(
            "the store is empty: run `oilimpact import FILE --series NAME` or `oilimpact fetch`."
        )
    else:
        shown = frame.drop(columns=["warnings", "age_days"])
        out.print(_table(shown, title="store status"))
    if fail_on_stale and frame.empty:
        err.print("[bold red]error:[/] the store is empty: nothing is fresh enough to publish")
        raise typer.Exit(code=1)
    if fail_on_stale and frame["stale"].any():
        stale = ", ".join(frame.loc[frame["stale"], "series"])
        err.print(f"[bold red]error:[/] stale series: {stale}")
        raise typer.Exit(code=1)


def _print_result(result: Any, as_json: bool) -> None:
    """A study result as JSON (``to_dict``) or as its plain-text summary (no wrapping)."""
    if as_json:
        _json(result.to_dict())
    else:
        sys.stdout.write(result.summary() + "\n")


def _parse_windows(windows: list[str] | None) -> tuple[tuple[int, int], ...] | None:
    if not windows:
        return None
    parsed = []
    for text in windows:
        lo, sep, hi = text.strip("[]() ").partition(",")
        try:
            parsed.append((int(lo), int(hi)))
        except ValueError:
            _fail(
                OilImpactError(
                    f"--window expects LO,HI trading days such as 0,5 or -1,1; got {text!r}"
                )
            )
    return tuple(parsed)


@app.command("events")
def events_cmd(
    catalog: Annotated[
        Path | None, typer.Option(help="Extra events TOML file (adds or overrides).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List the event catalog (ids to pass to `study`, `intervention` and the brief)."""
    from .events import load_catalog

    try:
        frame = load_catalog(catalog).to_frame()
    except OilImpactError as exc:
        _fail(exc)
    if as_json:
        _json(_frame_json(frame))
    else:
        out.print(
            _table(
                frame[["id", "date", "timestamp", "time_known", "kind", "title"]],
                title="event catalog",
            )
        )


@app.command("study")
def study_cmd(
    series: Annotated[
        list[str], typer.Argument(help="Stored series to study (e.g. brent wti xle).")
    ],
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event", "-e", help="Event id, repeatable (default: blockade, fto_announced)."
        ),
    ] = None,
    market: Annotated[
        str | None, typer.Option(help="Market series for the market model.")
    ] = "sp500",
    model: Annotated[
        str, typer.Option(help="market | market_adjusted | constant_mean | zero_mean | multifactor")
    ] = "market",
    factor: Annotated[
        list[str] | None, typer.Option(help="Factor series for model=multifactor, repeatable.")
    ] = None,
    window: Annotated[
        list[str] | None, typer.Option(help="Event window LO,HI in trading days, repeatable.")
    ] = None,
    estimation: Annotated[
        str, typer.Option(help="Estimation window LO,HI relative to day 0.")
    ] = "-250,-11",
    conventions: Annotated[str, typer.Option(help="textbook | estudy2")] = "textbook",
    catalog: Annotated[Path | None, typer.Option(help="Extra events TOML file.")] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Use the data as known on this date (vintage).")
    ] = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Event study of stored series around catalogued events: AR/CAR, t and SQ p-values.

    Example: oilimpact study brent wti --event blockade --event fto_announced --window 0,1
    """
    from . import api
    from .events import load_catalog
    from .study.engine import event_study

    est = _parse_windows([estimation])
    try:
        cat = load_catalog(catalog)
        extra = [market] if market else []
        names = list(dict.fromkeys([*series, *extra, *(factor or [])]))
        frame = api.load_frame(names, as_of=as_of, data_dir=data_dir)
        kwargs: dict[str, Any] = {}
        if factor:
            kwargs["factors"] = frame[list(factor)]
        if _parse_windows(window):
            kwargs["event_windows"] = _parse_windows(window)
        result = event_study(
            frame[list(series)],
            [cat[e] if e in cat else e for e in (event or ["blockade", "fto_announced"])],
            market=frame[market]
            if market and model in ("market", "market_adjusted", "multifactor")
            else None,
            model=model,
            estimation_window=est[0] if est else (-250, -11),
            conventions=conventions,
            catalog=cat,
            **kwargs,
        )
    except OilImpactError as exc:
        _fail(exc)
    _print_result(result, as_json)


@app.command("intervention")
def intervention_cmd(
    series: Annotated[str, typer.Argument(help="Stored volume series (e.g. ve_crude_production).")],
    event: Annotated[
        list[str] | None,
        typer.Option("--event", "-e", help="Event id, repeatable (default: blockade)."),
    ] = None,
    model: Annotated[str, typer.Option(help="segmented | sarimax")] = "segmented",
    start: Annotated[
        str, typer.Option(help="Effect starts in the period 'containing' the event or the 'next'.")
    ] = "containing",
    pre_periods: Annotated[
        int | None,
        typer.Option(help="Pre-event periods to fit (default: 60 months / 156 weeks; 0 = all)."),
    ] = None,
    placebo: Annotated[
        bool, typer.Option(help="Placebo (permutation) inference over pseudo-event dates.")
    ] = True,
    catalog: Annotated[Path | None, typer.Option(help="Extra events TOML file.")] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Use the data as known on this date (vintage).")
    ] = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Intervention analysis of a volume series: level change in units and %, placebo p-value.

    Example: oilimpact intervention ve_crude_production --event blockade --model sarimax
    """
    import pandas as pd

    from . import api
    from .events import load_catalog
    from .series import default_registry
    from .study.intervention import intervention

    try:
        cat = load_catalog(catalog)
        events = [cat[e] for e in (event or ["blockade"])]
        data = api.load(series, as_of=as_of, data_dir=data_dir)
        if pre_periods is None:
            freq = default_registry().spec_or_default(series).frequency
            pre_periods = {"monthly": 60, "weekly": 156}.get(freq, 0)
        if pre_periods:
            first = pd.Timestamp(min(e.date for e in events))
            available = int((data.dropna().index < first).sum()) - 1
            pre_periods = min(pre_periods, max(available, 1))
        result = intervention(
            data, events, model=model, start=start, placebo=placebo, pre_periods=pre_periods or None
        )
    except OilImpactError as exc:
        _fail(exc)
    _print_result(result, as_json)


@app.command("brief")
def brief_cmd(
    as_of: Annotated[
        str | None, typer.Option(help="Brief date (default: the end of the last complete week).")
    ] = None,
    demo: Annotated[
        bool, typer.Option(help="Run offline on the seeded synthetic dataset (marked synthetic).")
    ] = False,
    fetch: Annotated[
        bool, typer.Option(help="Fetch (incrementally) before building; needs network.")
    ] = False,
    fail_on_stale: Annotated[
        bool, typer.Option(help="Exit 1 instead of publishing when a series is stale.")
    ] = False,
    generated_at: Annotated[
        str | None,
        typer.Option(help="Timestamp printed in the brief (fix it for byte-identical rebuilds)."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Reports folder.")] = Path("reports"),
    catalog: Annotated[Path | None, typer.Option(help="Extra events TOML file.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Build the weekly brief: reports/<ISO week>/brief.html, results.json and CSV tables.

    Offline quickstart: oilimpact brief --demo
    """
    from . import api

    try:
        paths = api.build_brief(
            as_of=as_of, data_dir=data_dir, out=out_dir, generated_at=generated_at, demo=demo,
            fetch=fetch, fail_on_stale=fail_on_stale, catalog=catalog,
        )  # fmt: skip
    except api.StaleDataError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(code=1) from None
    except OilImpactError as exc:
        _fail(exc)
    out.print(f"brief written to {paths.html}", highlight=False)


def main() -> None:
    """Entry point of the ``oilimpact`` console script.

    Commands turn every :class:`OilImpactError` into one line on stderr and exit 2. Any
    other exception is a bug: it is reported in one line with exit code 70 and a request
    to report it; set ``OILIMPACT_DEBUG=1`` to see the traceback.
    """
    import os

    try:
        app()
    except OilImpactError as exc:  # pragma: no cover - commands catch their own
        err.print(f"error: {exc}", highlight=False)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("OILIMPACT_DEBUG"):
            raise
        from .errors import scrub

        err.print(
            f"internal error: {type(exc).__name__}: {scrub(exc)}. This is a bug in oilimpact: "
            "please report it with the command you ran (OILIMPACT_DEBUG=1 shows the traceback).",
            highlight=False,
        )
        sys.exit(70)


if __name__ == "__main__":  # pragma: no cover
    main()
