"""Commands over events and the store's history: events, show, history, rollback."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from . import _output
from ._app import (
    AsJson,
    AsOf,
    Catalog,
    DataDir,
    End,
    Format,
    OutputFormat,
    Registry,
    StoredSeries,
    Vintage,
    command,
)
from ._output import _call, _emit, _errors, _fmt_of, _input_error, _json, _n, _summary
from ._parse import _date_opt


@command("events")
def events_cmd(
    catalog: Catalog = None,
    fmt: Format = None,
    as_json: AsJson = False,
) -> None:
    """List the event catalog: the ids to pass to `study`, `intervention` and the brief.

    Example:

      oilimpact events --catalog my_events.toml

    Ad-hoc events need no file: `oilimpact study brent --event-date talks=2026-01-05`.
    """
    from ..events import load_catalog

    fmt = _fmt_of(fmt, as_json)
    with _errors():
        frame = load_catalog(catalog).to_frame()
    shown = (
        frame
        if fmt is OutputFormat.json
        else frame[["id", "date", "timestamp", "time_known", "kind", "title"]]
    )
    _emit(shown, fmt, title="event catalog")
    _summary(
        f"events: {len(frame)} in the catalog"
        + (f", {frame['date'].min()} .. {frame['date'].max()}" if len(frame) else "")
    )


_ShowStart = Annotated[
    str | None,
    typer.Option(
        metavar="DATE",
        help="First date (YYYY-MM-DD). Default: the first stored.",
        show_default=False,
    ),
]
_ShowTail = Annotated[
    int | None,
    typer.Option(
        metavar="N", help="Only the last N observations. Default: all.", show_default=False
    ),
]


@command("show")
def show_cmd(
    series: StoredSeries,
    as_of: AsOf = None,
    vintage: Vintage = None,
    start: _ShowStart = None,
    end: End = None,
    tail: _ShowTail = None,
    registry: Registry = None,
    data_dir: DataDir = None,
    fmt: Format = None,
    as_json: AsJson = False,
) -> None:
    """Print a stored series (date, value), optionally as known at a date or a vintage.

    Examples:

      oilimpact show ve_crude_production --as-of 2026-02-15 --tail 3
      oilimpact show brent --vintage 2026-01-09T12:00Z --format csv

    --as-of D is what the brief and the studies use for D: the store as of the end of D
    and only the periods published by then (the series' publication lag).
    """
    import pandas as pd

    from .. import api

    fmt = _fmt_of(fmt, as_json)
    as_of, vintage = _date_opt(as_of, "--as-of"), _date_opt(vintage, "--vintage")
    start, end = _date_opt(start, "--start"), _date_opt(end, "--end")
    if tail is not None and tail < 1:
        _input_error(f"--tail must be at least 1, got {tail}")
    with _call(f"reading {series}"):
        values = api.load(
            series, as_of=as_of, vintage=vintage, start=start, end=end, data_dir=data_dir,
            registry=registry,
        )  # fmt: skip
    if tail is not None:
        values = values.iloc[-tail:]
    frame = pd.DataFrame({"date": values.index, series: values.to_numpy()})
    _emit(frame, fmt, title=series, empty=f"{series}: no observations in that span")
    valid = values.dropna()
    span = f"{valid.index[0]:%Y-%m-%d} .. {valid.index[-1]:%Y-%m-%d}" if len(valid) else "empty"
    how = f" as of {as_of}" if as_of else (f" at vintage {vintage}" if vintage else "")
    _summary(f"show: {series}{how}: {_n(len(valid), 'value')}, {span}")


def _vintage_label(stamp: Any) -> str:
    """A vintage as history prints it and rollback --to reads it (full precision, Z)."""
    return stamp.isoformat().replace("+00:00", "Z")


@command("history")
def history_cmd(
    series: StoredSeries,
    data_dir: DataDir = None,
    fmt: Format = None,
    as_json: AsJson = False,
) -> None:
    """List the vintages of a stored series: when, source, rows added/revised/removed, file.

    Examples:

      oilimpact history brent
      oilimpact history brent --format json

    One row per write that changed the series, oldest first; # numbers them for
    `oilimpact rollback SERIES --to #N`. file_sha256 is the SHA-256 of the imported file
    (shortened in the table). Nothing is ever deleted: a rollback is a new vintage.
    """
    from .. import api

    fmt = _fmt_of(fmt, as_json)
    with _errors():
        frame = api.open_store(data_dir).history(series)
    frame.insert(0, "#", range(1, len(frame) + 1))
    if fmt is OutputFormat.json:
        _emit(frame, fmt, title="")
    else:
        shown = frame.rename(
            columns={"rows_added": "added", "rows_revised": "revised", "rows_removed": "removed"}
        )
        shown["vintage"] = [_vintage_label(v) for v in shown["vintage"]]
        if fmt is OutputFormat.table:
            shown["file_sha256"] = [
                v[:12] if isinstance(v, str) else v for v in shown["file_sha256"]
            ]
        cols = ["#", "vintage", "source", "source_id", "added", "revised", "removed",
                "file_sha256", "note"]  # fmt: skip
        _emit(shown[cols], fmt, title=f"history of {series}")
    last = _vintage_label(frame["vintage"].iloc[-1]) if len(frame) else "-"
    _summary(f"history: {series} has {_n(len(frame), 'vintage')}, the latest {last}")


_RollbackTo = Annotated[
    str | None,
    typer.Option(
        "--to",
        metavar="VINTAGE",
        help="Vintage to restore: its number in `oilimpact history` (#2 or 2) or its "
        "time as listed there. Default: the vintage before the latest (undo the last write).",
        show_default=False,
    ),
]


@command("rollback")
def rollback_cmd(
    series: StoredSeries,
    to: _RollbackTo = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Restore a series to an earlier vintage, recorded as a new vintage (nothing is deleted).

    Examples:

      oilimpact rollback wti
      oilimpact rollback wti --to #1
      oilimpact rollback wti --to 2026-01-09T12:00:00Z

    Afterwards `oilimpact history` lists the rollback as the newest vintage, and the
    previous state stays readable with --vintage (a rollback can itself be rolled back).
    """
    from .. import api

    with _errors():
        store = api.open_store(data_dir)
        target = _rollback_to(store.history(series), to, series)
        res = store.rollback(series, to=target)
    _print_rollback(series, target, res, as_json)


def _rollback_to(table: Any, to: str | None, series: str) -> Any:
    """The vintage ``--to`` names (``#N``, ``N`` or a time); default the one before the latest."""
    target: Any = table["vintage"].iloc[-2] if len(table) >= 2 else None
    if to is None:
        return target
    number = to.strip().lstrip("#")
    if not number.isdigit():
        return _date_opt(to, "--to")
    if not 1 <= int(number) <= len(table):
        _input_error(
            f"--to {to}: {series} has vintages #1 to #{len(table)} "
            f"(see `oilimpact history {series}`)"
        )
    return table["vintage"].iloc[int(number) - 1]


def _print_rollback(series: str, target: Any, res: Any, as_json: bool) -> None:
    """A rollback's outcome: JSON on stdout and the line on stderr, or the line on stdout."""
    import pandas as pd

    label = "-"
    if target is not None:
        stamp = pd.Timestamp(target)
        label = _vintage_label(
            stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        )
    payload = {
        "series": series,
        "status": "unchanged" if res.unchanged else "rolled back",
        "to": label,
        "vintage": None if res.vintage is None else _vintage_label(res.vintage),
        "rows_added": res.rows_added,
        "rows_revised": res.rows_revised,
        "rows_removed": res.rows_removed,
    }
    if res.unchanged:
        line = f"rollback: {series} already equals vintage {label}; nothing written"
    else:
        line = (
            f"rollback: {series} restored to vintage {label} as new vintage "
            f"{payload['vintage']}: {_n(res.rows_revised, 'value')} and "
            f"{_n(res.rows_added, 'date')} restored, {_n(res.rows_removed, 'date')} hidden"
        )
    if as_json:
        _json(payload)
        _summary(line)
    else:
        _output.out.print(escape(line))
