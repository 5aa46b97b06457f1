"""Commands over the store's contents: series, import, fetch, validate, status."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from . import _output
from ._app import AsJson, DataDir, Format, OutputFormat, Registry, command
from ._output import (
    _call,
    _emit,
    _errors,
    _fmt_of,
    _input_error,
    _json,
    _plain,
    _print_table,
    _seconds,
    _summary,
)
from ._parse import _date_opt

# ---- data commands ------------------------------------------------------------------


@command("series")
def series_cmd(
    registry: Registry = None,
    fmt: Format = None,
    as_json: AsJson = False,
) -> None:
    """List the registered series: unit, frequency, close, sources (preferred first).

    Example:

      oilimpact series --format tsv | cut -f1,4
    """
    import pandas as pd

    from .. import api

    fmt = _fmt_of(fmt, as_json)
    from ..series import default_registry

    with _errors():
        reg = default_registry().with_file(registry) if registry else default_registry()
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
    _emit(frame, fmt, title="registered series")
    _summary(
        f"series: {len(frame)} registered, {len(api.fetchable_series(reg))} with a network source"
    )


_ImportFile = Annotated[
    Path, typer.Argument(metavar="FILE", help="CSV file to import.", show_default=False)
]
_ImportSeries = Annotated[
    str,
    typer.Option(
        "--series", "-s", metavar="SERIES", help="Registry name to store it under (e.g. brent)."
    ),
]
_ImportFmt = Annotated[
    str,
    typer.Option(
        "--format", metavar="FORMAT", help="auto | fred | eia | ohlc | yahoo | tidy | tanker"
    ),
]
_ImportColumn = Annotated[
    str | None,
    typer.Option(metavar="NAME", help="Value column when the file has several (FRED ids, OHLC)."),
]
_ImportDateColumn = Annotated[
    str | None, typer.Option(metavar="NAME", help="Date column of a tidy file.")
]
_ImportValueColumn = Annotated[
    str | None, typer.Option(metavar="NAME", help="Value column of a tidy file.")
]
_ImportFilter = Annotated[
    list[str] | None,
    typer.Option(
        "--filter",
        metavar="KEY=VALUE",
        help="KEY=VALUE row filter for tidy files, repeatable (e.g. eia_product_id=57).",
    ),
]
_ImportPreset = Annotated[
    str | None,
    typer.Option(
        metavar="NAME", help="Tanker export preset: kpler (terminal CSV or SDK ids) | vortexa."
    ),
]
_ImportOrigin = Annotated[
    str | None, typer.Option(metavar="COUNTRY", help="Tanker exports: origin country to keep.")
]
_ImportNew = Annotated[
    bool,
    typer.Option(
        "--new",
        help="Allow a name that is neither registered nor stored (else refused with the "
        "nearest registered names).",
    ),
]
_ImportForce = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Store even when the file disagrees in scale with the stored series or would "
        "revise most of its history (the problems are printed as warnings).",
    ),
]
_ImportAllowFuture = Annotated[
    bool,
    typer.Option(
        "--allow-future",
        help="Accept rows dated after today (UTC); refused by default, every such row listed.",
    ),
]
_ImportMaxSize = Annotated[
    str | None,
    typer.Option(
        "--max-size",
        metavar="SIZE",
        help="Largest file read, e.g. 500M or 2G (bytes without a suffix). Default: 100M.",
        show_default=False,
    ),
]


@command("import")
def import_cmd(
    file: _ImportFile,
    series: _ImportSeries,
    fmt: _ImportFmt = "auto",
    column: _ImportColumn = None,
    date_column: _ImportDateColumn = None,
    value_column: _ImportValueColumn = None,
    filter_: _ImportFilter = None,
    preset: _ImportPreset = None,
    origin: _ImportOrigin = None,
    new: _ImportNew = False,
    force: _ImportForce = False,
    allow_future: _ImportAllowFuture = False,
    max_size: _ImportMaxSize = None,
    registry: Registry = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Import a file into the store as a named series (validated before it is stored).

    Examples:

      oilimpact import eia_wti_spot_daily.csv --series wti
      oilimpact import fred_SP500.csv --series sp500
      oilimpact import prod.csv --series ve_crude_production \\
          --filter eia_product_id=57
      oilimpact import kpler.csv --series ve_exports_kpler --preset kpler

    The format is detected from the header (--format auto). Nothing in the store changes
    when a file fails to parse or validate (every problem is listed), when the name is a
    typo (--new creates a series), or when the file looks like another series: a different
    scale on the dates both hold, or most of the stored history revised (--force stores
    it anyway). Undo an import with `oilimpact rollback SERIES`.
    """
    from .. import api

    filters = _filters(filter_)
    limit = {"max_bytes": _size(max_size)} if max_size is not None else {}
    with _call(f"importing {file}"):
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
            new=new,
            force=force,
            allow_future=allow_future,
            **limit,
        )
    _print_import(res, as_json)


def _filters(items: list[str] | None) -> dict[str, str]:
    """``--filter KEY=VALUE`` options as a mapping (an input error for any other text)."""
    filters: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            _input_error(f"--filter expects KEY=VALUE, got {item!r}")
        filters[key] = value
    return filters


def _print_import(res: Any, as_json: bool) -> None:
    """An import outcome: JSON on stdout and the line on stderr, or the line on stdout."""
    if as_json:
        _json({k: _plain(getattr(res, k)) for k in res.__slots__})
    for warning in res.warnings:
        _output.err.print(f"[yellow]warning:[/] {escape(warning)}")
    line = (
        f"{res.status} {res.name} from {res.path} ({res.format}): {res.rows} rows "
        f"{res.first} .. {res.last}; {res.rows_added} added, {res.rows_revised} revised"
    )
    if as_json:
        _summary(line)
    else:
        _output.out.print(escape(line))


_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _size(text: str) -> int:
    """``"500M"`` -> bytes (K, M, G, T are powers of 1024; an optional trailing B or iB)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    size = int(float(m[1]) * _UNITS[m[2].upper()]) if m is not None else 0
    if size < 1:
        _input_error(f"--max-size expects a size such as 500M, 2G or 1048576; got {text!r}")
    return size


def _reason(message: str, provider: str) -> str:
    """The first sentence of a provider's error, without the provider prefix, <= 160 chars."""
    text = re.sub(rf"^{re.escape(provider)}:\s*", "", message.strip())
    first = re.split(r"(?<=[.;])\s+(?=[A-Z`])", text, maxsplit=1)[0].rstrip(".;")
    return first if len(first) <= 160 else first[:157] + "..."


_ATTEMPT = re.compile(r"^(?P<provider>[a-z_]+):[^:]*: (?P<kind>[^:]+): (?P<msg>.*)$", re.S)


def _failure_lines(outcomes: list[Any]) -> list[str]:
    """One line per failed provider (the series it failed for, its first reason) + skipped."""
    groups: dict[str, tuple[list[str], list[str]]] = {}
    skipped = []
    for o in outcomes:
        if o.status == "skipped":
            skipped.append(o.name)
            continue
        if o.status != "failed":
            continue
        for attempt in list(o.attempts) or [f"other:-: error: {o.error or 'failed'}"]:
            m = _ATTEMPT.match(attempt)
            provider = m["provider"] if m else "other"
            reason = _reason(m["msg"] if m else attempt, provider)
            if m and m["kind"] == "no data":
                reason = f"no data: {reason}"
            names, reasons = groups.setdefault(provider, ([], []))
            if o.name not in names:
                names.append(o.name)
            reasons.append(reason)
    lines = []
    for provider, (names, reasons) in groups.items():
        listed = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        lines.append(f"{provider}: failed for {len(names)} series ({listed}): {reasons[0]}")
    if skipped:
        lines.append(
            f"skipped (no network source): {', '.join(skipped)}; load them with "
            "`oilimpact import FILE --series NAME`"
        )
    return lines


def _fetch_summary(outcomes: list[Any], seconds: str, what: str = "fetch") -> str:
    """``fetch: 0 stored, ... of N series in 0.1 s; stored data are unchanged. <advice>``."""
    statuses = [o.status for o in outcomes]
    tally = ", ".join(
        f"{statuses.count(s)} {s}" for s in ("stored", "unchanged", "failed", "skipped")
    )
    line = f"{what}: {tally} of {len(outcomes)} series in {seconds}"
    if "failed" in statuses:
        advice: list[str] = []
        for o in outcomes:
            for piece in getattr(o, "advice", ()) if o.status == "failed" else ():
                if piece not in advice:
                    advice.append(piece)
        line += "; stored data are unchanged (every attempt: --verbose). " + (
            " ".join(advice)
            or "Work from the store (`oilimpact status`) or load files with "
            "`oilimpact import FILE --series NAME`."
        )
    return line


_FetchSeries = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="SERIES", help="Series to fetch. Default: every series with a network source."
    ),
]
_FetchStart = Annotated[
    str | None,
    typer.Option(metavar="DATE", help="First date (YYYY-MM-DD). Default: incremental refresh."),
]
_FetchEnd = Annotated[
    str | None,
    typer.Option(metavar="DATE", help="Last date (YYYY-MM-DD). Default: the latest."),
]
_FetchFull = Annotated[
    bool, typer.Option(help="Refetch the whole history instead of an incremental refresh.")
]
_FetchProvider = Annotated[
    list[str] | None,
    typer.Option(metavar="NAME", help="Only use these providers (fred, eia, yahoo). Default: all."),
]
_FetchOffline = Annotated[bool, typer.Option(help="Do not touch the network; just show the store.")]
_FetchVerbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Print every failed attempt in full.")
]


@command("fetch")
def fetch_cmd(
    series: _FetchSeries = None,
    start: _FetchStart = None,
    end: _FetchEnd = None,
    full: _FetchFull = False,
    provider: _FetchProvider = None,
    offline: _FetchOffline = False,
    verbose: _FetchVerbose = False,
    registry: Registry = None,
    data_dir: DataDir = None,
    fmt: Format = None,
    as_json: AsJson = False,
) -> None:
    """Fetch series from FRED, EIA (needs EIA_API_KEY) and Yahoo into the store.

    Examples:

      oilimpact fetch brent wti sp500
      oilimpact fetch --provider fred --start 2025-01-01

    Each series tries its sources in registry order; every fetch is validated before it
    is stored, and a failed fetch never replaces stored data. Failures print one line per
    provider (--verbose: every attempt) and the command exits 1. Without network, work from
    the store (--offline shows it) or load files with `oilimpact import FILE`.
    """
    from .. import api

    fmt = _fmt_of(fmt, as_json)
    if offline:
        _output.err.print("offline: nothing fetched; showing the store.")
        status_cmd(data_dir=data_dir, fmt=fmt, registry=registry)
        return
    start, end = _date_opt(start, "--start"), _date_opt(end, "--end")
    t0 = time.perf_counter()
    with _errors():
        names = list(series) if series else api.fetchable_series(registry)
        outcomes = _fetch_with_progress(
            names, data_dir=data_dir, start=start, end=end, full=full,
            providers=provider, registry=registry,
        )  # fmt: skip
    _print_fetch(outcomes, fmt, verbose)
    _summary(_fetch_summary(outcomes, _seconds(t0)))
    failed = any(o.status == "failed" for o in outcomes)
    if failed:
        raise typer.Exit(code=1)


def _fetch_with_progress(names: list[str], **options: Any) -> list[Any]:
    """:func:`api.fetch` of ``names`` with a progress bar on stderr (only on a terminal)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .. import api

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=_output.err, transient=True, disable=not _output.err.is_terminal,
    ) as progress:  # fmt: skip
        task = progress.add_task("fetching", total=len(names))

        def step(name: str, outcome: api.FetchOutcome) -> None:
            progress.update(task, advance=1, description=f"{name}: {outcome.status}")

        return api.fetch(names, on_progress=step, **options)


def _print_fetch(outcomes: list[Any], fmt: OutputFormat, verbose: bool) -> None:
    """The fetch table (or its JSON/TSV/CSV), warnings, and the failures on stderr."""
    import pandas as pd

    frame = pd.DataFrame(
        [
            {
                "series": o.name, "status": o.status, "source": o.source or "", "rows": o.rows,
                "added": o.rows_added, "revised": o.rows_revised, "error": o.error or "",
                "warnings": "; ".join(o.warnings),
            }
            for o in outcomes
        ],
        columns=["series", "status", "source", "rows", "added", "revised", "error", "warnings"],
    )  # fmt: skip
    if fmt is OutputFormat.table:
        done = frame[~frame["status"].isin(["failed", "skipped"])]
        if len(done):
            _print_table(done.drop(columns=["error", "warnings"]), title="fetch")
        for o in outcomes:
            for warning in o.warnings if o.status in ("stored", "unchanged") else ():
                _output.err.print(f"[yellow]warning:[/] {escape(o.name)}: {escape(warning)}")
    else:
        _emit(frame, fmt, title="fetch")
    if verbose:
        for o in outcomes:
            if o.error:
                _output.err.print(f"[red]{o.status}:[/] {escape(o.name)}: {escape(o.error)}")
    else:
        _print_failures(outcomes)


def _print_failures(outcomes: list[Any]) -> None:
    """One ``failed:`` line per provider on stderr (:func:`_failure_lines`)."""
    for line in _failure_lines(outcomes):
        _output.err.print(f"[red]failed:[/] {escape(line)}")


_ValidateSeries = Annotated[
    list[str] | None,
    typer.Argument(metavar="SERIES", help="Series to check. Default: every stored series."),
]


@command("validate")
def validate_cmd(
    series: _ValidateSeries = None,
    registry: Registry = None,
    data_dir: DataDir = None,
    fmt: Format = None,
    as_json: AsJson = False,
) -> None:
    """Re-validate stored series against the registry's schemas. Exits 1 on any failure.

    Example:

      oilimpact validate brent wti
    """
    from .. import api

    fmt = _fmt_of(fmt, as_json)
    with _errors():
        frame = api.validate(series or None, data_dir=data_dir, registry=registry)
    _emit(frame, fmt, title="validation", empty="the store is empty: nothing to validate.")
    bad = frame.loc[~frame["ok"].astype(bool), "series"].tolist() if len(frame) else []
    _summary(
        f"validate: {len(frame)} series, {len(frame) - len(bad)} ok"
        + (f", failing: {', '.join(bad)}" if bad else "")
    )
    if bad:
        raise typer.Exit(code=1)


_StatusToday = Annotated[
    str | None,
    typer.Option(
        metavar="DATE", help="Reference date for staleness (YYYY-MM-DD). Default: today (UTC)."
    ),
]
_StatusFailOnStale = Annotated[
    bool, typer.Option(help="Exit 1 when any series is stale (or the store is empty).")
]


@command("status")
def status_cmd(
    today: _StatusToday = None,
    fail_on_stale: _StatusFailOnStale = False,
    registry: Registry = None,
    data_dir: DataDir = None,
    fmt: Format = None,
    as_json: AsJson = False,
) -> None:
    """Show every stored series: span, rows, source, last fetched, vintages, stale?

    Examples:

      oilimpact status
      oilimpact status --format json | jq '.[] | select(.stale)'

    A series is stale when its last observation is older than 10 days (daily), 17 days
    (weekly) or 155 days (monthly) before --today. JSON times are ISO 8601.
    """
    from .. import api

    fmt = _fmt_of(fmt, as_json)
    with _errors():
        frame = api.status(data_dir=data_dir, today=_date_opt(today, "--today"), registry=registry)
    shown = frame if fmt is OutputFormat.json else frame.drop(columns=["warnings", "age_days"])
    _emit(
        shown, fmt, title="store status",
        empty="the store is empty: run `oilimpact import FILE --series NAME` or `oilimpact fetch`.",
    )  # fmt: skip
    stale = frame.loc[frame["stale"].astype(bool), "series"].tolist() if len(frame) else []
    _summary(
        f"status: {len(frame)} series, {len(stale)} stale"
        + (f" ({', '.join(stale)})" if stale else "")
    )
    if fail_on_stale and frame.empty:
        _output.err.print(
            "[bold red]error:[/] the store is empty: nothing is fresh enough to publish"
        )
        raise typer.Exit(code=1)
    if fail_on_stale and stale:
        _output.err.print(f"[bold red]error:[/] stale series: {escape(', '.join(stale))}")
        raise typer.Exit(code=1)
