"""The ``oilimpact`` command line: a thin Typer app over :mod:`oilimpact.api`.

Each command parses its options, calls one library function, prints the result and
exits:

* tables go to stdout: a rich table on a terminal, a plain full-width table in a pipe or
  a file (``oilimpact status | cat`` keeps whole header words), or ``--format
  tsv|csv|json`` (``--json`` is short for ``--format json``). JSON timestamps are ISO 8601.
* progress (a spinner or a bar) and a one-line summary go to stderr, the progress only
  when stderr is a terminal, so a pipe receives data and nothing else.
* errors print one line on stderr (plus the validation table when there is one) and exit
  2; a command whose work failed (a fetch, a stale series, a failed validation) exits 1.
  A traceback is a bug: :func:`main` reports it in one line and exits 70.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import InputError, OilImpactError, ValidationError

__all__ = ["app", "main"]


def _reflow(doc: str) -> str:
    """Help text with prose paragraphs on one line each, so the help reflows to any width.

    Docstrings are hard-wrapped at 100 columns; rich keeps single line breaks, so they
    would be wrapped twice (ragged). Prose lines of a paragraph are joined; a paragraph
    whose lines are indented (examples) keeps its line breaks.
    """
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    out = []
    for para in paragraphs:
        lines = para.split("\n")
        if any(line.startswith(" ") for line in lines):
            out.append(para)
        else:
            out.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(out)


app = typer.Typer(
    name="oilimpact",
    help=_reflow(
        """
        Energy-market and sanctions impact analytics: a validated local store of prices
        and volumes, event studies, intervention analysis and a weekly brief.

        Typical session (offline with the shipped files):

          oilimpact import eia_brent_spot_daily.csv --series brent
          oilimpact status
          oilimpact study brent wti --event blockade --window 0,1
          oilimpact volatility brent --event blockade
          oilimpact intervention ve_crude_production --event blockade
          oilimpact brief --as-of 2026-01-09
          oilimpact brief --demo

        With network: oilimpact fetch brent wti sp500 (EIA needs EIA_API_KEY).

        The store lives in --data-dir, else $OILIMPACT_DATA_DIR, else ./data. --as-of D
        means "what was known at D" everywhere; --vintage reads the store as it was at a
        time. Tables are plain text in a pipe; --format tsv|csv|json for machines.
        Errors exit 2, failed work (fetch, stale data, validation) exits 1.
        """
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def command(name: str) -> Any:
    """Register a command whose help is its reflowed docstring."""

    def register(fn: Any) -> Any:
        return app.command(name, help=_reflow(fn.__doc__ or ""))(fn)

    return register


class OutputFormat(StrEnum):
    """How a table is printed."""

    table = "table"
    tsv = "tsv"
    csv = "csv"
    json = "json"


DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        metavar="DIR",
        help="Store directory (default: $OILIMPACT_DATA_DIR, then ./data).",
        show_default=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
Format = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format",
        metavar="FORMAT",
        help="table (rich on a terminal, plain full-width text in a pipe), tsv, csv or json. "
        "Default: table.",
        show_default=False,
    ),
]
Registry = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        help="Extra series TOML file (adds to the packaged registry). Default: none.",
    ),
]
Catalog = Annotated[
    Path | None,
    typer.Option(metavar="FILE", help="Extra events TOML file (adds or overrides events)."),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        help=(
            "What was known at this date (YYYY-MM-DD): data cut at it, each series' "
            "publication lag applied, the store read as of then. Default: everything stored."
        ),
        show_default=False,
    ),
]
Vintage = Annotated[
    str | None,
    typer.Option(
        "--vintage",
        metavar="TIME",
        help=(
            "Pure store time (ISO 8601, UTC when no offset): values as stored at that "
            "moment, no cut and no lags. Default: the latest."
        ),
        show_default=False,
    ),
]
End = Annotated[
    str | None,
    typer.Option("--end", metavar="DATE", help="Last observation date to use (YYYY-MM-DD). Default: no cut.",
        show_default=False,
    ),
]  # fmt: skip
EventIds = Annotated[
    list[str] | None,
    typer.Option(
        "--event", "-e", metavar="ID", help="Catalog event id, repeatable (see `oilimpact events`)."
    ),
]
EventDates = Annotated[
    list[str] | None,
    typer.Option(
        "--event-date",
        metavar="NAME=DATE",
        help=(
            "Ad-hoc event, repeatable. DATE is 2026-01-05 (time unknown) or "
            "2026-01-05T14:30-05:00 (a known time with its UTC offset)."
        ),
        show_default=False,
    ),
]

StoredSeries = Annotated[
    str,
    typer.Argument(metavar="SERIES", help="Stored series (e.g. brent).", show_default=False),
]


# ---- errors -------------------------------------------------------------------------


def _fail(exc: OilImpactError) -> NoReturn:
    """One line on stderr (plus the validation table), exit 2."""
    err.print(f"[bold red]error:[/] {escape(str(exc))}")
    failures = getattr(exc, "failures", None) if isinstance(exc, ValidationError) else None
    if failures is not None and len(failures) > 1:  # one failure is already the message
        _print_table(failures.head(20), title="validation failures", console=err, titled=True)
    raise typer.Exit(code=2)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn an :class:`OilImpactError` raised inside the block into :func:`_fail`."""
    try:
        yield
    except OilImpactError as exc:
        _fail(exc)


def _input_error(message: str) -> NoReturn:
    _fail(InputError(message))


def _date_opt(value: str | None, flag: str) -> str | None:
    """``value`` unchanged when it reads as a date or time, else an InputError naming ``flag``."""
    import pandas as pd

    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        stamp = None
    if stamp is None or pd.isna(stamp):
        _input_error(
            f"{flag}: cannot read {value!r} as a date; use YYYY-MM-DD "
            "(or ISO 8601 with a time and UTC offset, e.g. 2026-01-09T18:00+00:00)"
        )
    return value


def _window(text: str, flag: str) -> tuple[int, int]:
    lo, sep, hi = text.strip("[]() ").partition(",")
    try:
        pair = (int(lo), int(hi))
    except ValueError:
        _input_error(f"{flag} expects LO,HI trading days such as 0,5 or -1,1; got {text!r}")
    if not sep or pair[0] > pair[1]:
        _input_error(f"{flag} expects LO,HI with LO <= HI (e.g. -1,1); got {text!r}")
    return pair


_EVENT_DATE = re.compile(
    r"^(?P<name>[^=]+)=(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<offset>Z|[+-]\d{2}:?\d{2})?)?$"
)


def _event_dates(items: list[str] | None, catalog: Any) -> list[Any]:
    """Ad-hoc :class:`~oilimpact.events.Event` objects from ``NAME=DATE[THH:MM+ZZ:ZZ]``."""
    import pandas as pd

    from .events import Event

    events = []
    for item in items or []:
        m = _EVENT_DATE.match(item.strip())
        if m is None:
            _input_error(
                f"--event-date expects NAME=YYYY-MM-DD or NAME=YYYY-MM-DDTHH:MM+ZZ:ZZ, got {item!r}"
            )
        name = m["name"].strip()
        if not re.fullmatch(r"[a-z0-9_]+", name):
            _input_error(
                f"--event-date {item!r}: the name must be lower-case letters, digits and "
                "underscores (e.g. my_event)"
            )
        if name in catalog:
            _input_error(
                f"--event-date {item!r}: {name!r} is already a catalog event "
                f"({catalog[name].date}); use --event {name} or choose another name"
            )
        if m["time"] and not m["offset"]:
            _input_error(
                f"--event-date {item!r}: a time of day needs its UTC offset, "
                f"e.g. {name}={m['date']}T{m['time']}-05:00"
            )
        text = m["date"] + (f"T{m['time']}{m['offset']}" if m["time"] else "")
        try:
            stamp = pd.Timestamp(text)
        except (ValueError, TypeError, OverflowError):
            _input_error(f"--event-date {item!r}: {text!r} is not a valid date or time")
        with _errors():
            if m["time"]:
                events.append(Event(name, name, "user", stamp, True, "command line"))
            else:
                events.append(Event.on_date(name, name, "user", m["date"], source="command line"))
    return events


def _events(ids: list[str] | None, dates: list[str] | None, catalog: Any, default: list[str]):
    """Catalog events by id plus ad-hoc ones; ``default`` ids when neither is given."""
    adhoc = _event_dates(dates, catalog)
    chosen = list(ids or ([] if adhoc else default))
    with _errors():
        return [catalog[e] for e in chosen] + adhoc


# ---- output -------------------------------------------------------------------------


def _fmt_of(fmt: OutputFormat | None, as_json: bool) -> OutputFormat:
    if as_json:
        if fmt not in (None, OutputFormat.json):
            _input_error(f"--json conflicts with --format {fmt.value}")
        return OutputFormat.json
    return fmt or OutputFormat.table


def _cell(value: Any) -> str:
    """Text of one table cell (full precision dates, 6 significant digits)."""
    import pandas as pd

    if value is None or (not isinstance(value, (str, bytes, list, tuple, dict))
                         and pd.api.types.is_scalar(value) and pd.isna(value)):  # fmt: skip
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, pd.Timestamp):
        plain = value.tz is None and value == value.normalize()
        return value.date().isoformat() if plain else value.isoformat()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return f"[{value[0]:+d},{value[1]:+d}]"  # an event window, as the summaries write it
    return str(value).replace("\n", " ")


def _machine_cell(value: Any) -> str:
    """A tsv/csv cell: like :func:`_cell`, but floats at full (round-trip) precision."""
    if isinstance(value, float) and value == value:
        return repr(value)
    return _cell(value)


def _plain_table(frame: Any) -> str:
    """Columns padded to their widest cell, two spaces apart, a dashed rule: no wrapping."""
    import pandas as pd

    heads = [str(c) for c in frame.columns]
    cells = [[_cell(v) for v in frame[c]] for c in frame.columns]
    widths = [max([len(h), *(len(v) for v in col)]) for h, col in zip(heads, cells, strict=True)]
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rows = [line(heads), line(["-" * w for w in widths])]
    rows += [line([col[i] for col in cells]) for i in range(len(frame))]
    return "\n".join(rows) + "\n"


def _print_table(
    frame: Any, *, title: str | None = None, console: Console = out, titled: bool = False
) -> None:
    """A rich table on a terminal, else a plain full-width one (header words kept whole).

    The plain table has no title line (data only) unless ``titled``. On a terminal too
    narrow for the table's natural width the plain table is printed as well (long lines
    wrap, as in ``less``; a rich table would fold every cell).
    """
    text = _plain_table(frame)
    width = max((len(line) for line in text.splitlines()), default=0)
    if not console.is_terminal or width + 3 * len(frame.columns) + 1 > console.width:
        titled = titled or console.is_terminal
        console.file.write((f"{title}:\n" if titled and title else "") + text)
        return
    table = Table(title=title)
    for col in frame.columns:
        table.add_column(str(col), no_wrap=True)
    for row in frame.itertuples(index=False):
        table.add_row(*(escape(_cell(v)) for v in row))
    console.print(table)


_TIME_COLUMNS = ("fetched_at", "committed_at", "vintage", "written_at", "generated_at")


def _plain(value: Any) -> Any:
    """A JSON-able scalar: dates and times ISO 8601, NaN/NaT None, numpy scalars as Python."""
    import pandas as pd

    if value is None or (
        not isinstance(value, (str, bytes, list, tuple, dict))
        and pd.api.types.is_scalar(value)
        and pd.isna(value)
    ):
        return None
    if isinstance(value, pd.Timestamp):
        plain = value.tz is None and value == value.normalize()
        return value.date().isoformat() if plain else value.isoformat()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def _iso_time(value: Any) -> Any:
    """A time column's value as ISO 8601 (``"2026-01-09 12:00 UTC"`` -> ``...T12:00:00+00:00``)."""
    import pandas as pd

    if isinstance(value, str) and value:
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError):
            return value
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize("UTC")
        return stamp.isoformat()
    return _plain(value)


def _frame_json(frame: Any) -> list[dict[str, Any]]:
    records = []
    for row in frame.to_dict(orient="records"):
        records.append(
            {str(k): (_iso_time(v) if k in _TIME_COLUMNS else _plain(v)) for k, v in row.items()}
        )
    return records


def _json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=_plain, sort_keys=True) + "\n")


def _emit(frame: Any, fmt: OutputFormat, *, title: str, empty: str | None = None) -> None:
    """Print ``frame`` in ``fmt``; ``empty`` (a sentence) instead of an empty table."""
    if fmt is OutputFormat.json:
        _json(_frame_json(frame))
    elif fmt in (OutputFormat.csv, OutputFormat.tsv):
        text = frame.map(_machine_cell) if len(frame) else frame
        sys.stdout.write(
            text.to_csv(index=False, sep="\t" if fmt is OutputFormat.tsv else ",",
                        lineterminator="\n")
        )  # fmt: skip
    elif len(frame) == 0 and empty:
        out.print(escape(empty))
    else:
        _print_table(frame, title=title)


def _summary(text: str) -> None:
    """The one-line summary every command ends with (stderr, so pipes get only data)."""
    err.print(escape(text), style="dim" if err.is_terminal else None)


@contextmanager
def _working(text: str) -> Iterator[Callable[[str], None]]:
    """A spinner with the elapsed time on stderr while a slow step runs, only on a terminal.

    Yields a function that replaces the spinner's text (a no-op in a pipe).
    """
    if not err.is_terminal:
        yield lambda message: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(escape(text), total=None)
        yield lambda message: progress.update(task, description=escape(message))


def _print_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Library warnings as one ``warning:`` line each, once; interventions list theirs."""
    from .intervention.result import InterventionWarning

    seen: set[str] = set()
    for w in caught:
        text = " ".join(str(w.message).split())
        if issubclass(w.category, InterventionWarning) or text in seen:
            continue
        seen.add(text)
        err.print(f"[yellow]warning:[/] {escape(text)}")


@contextmanager
def _call(text: str, keep: tuple[type[Exception], ...] = ()) -> Iterator[Callable[[str], None]]:
    """Run a library call: spinner on a terminal, warnings as lines, errors as :func:`_fail`.

    Exceptions of the types in ``keep`` propagate unchanged (after the warnings).
    """
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught, _working(text) as update:
            warnings.simplefilter("always")
            yield update
    except keep:
        _print_warnings(caught)
        raise
    except OilImpactError as exc:
        _print_warnings(caught)
        _fail(exc)
    _print_warnings(caught)


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _seconds(t0: float) -> str:
    return f"{time.perf_counter() - t0:.1f} s"


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

    from . import api

    fmt = _fmt_of(fmt, as_json)
    from .series import default_registry

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
    from . import api

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
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    line = (
        f"{res.status} {res.name} from {res.path} ({res.format}): {res.rows} rows "
        f"{res.first} .. {res.last}; {res.rows_added} added, {res.rows_revised} revised"
    )
    if as_json:
        _summary(line)
    else:
        out.print(escape(line))


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
    from . import api

    fmt = _fmt_of(fmt, as_json)
    if offline:
        err.print("offline: nothing fetched; showing the store.")
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

    from . import api

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
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
                err.print(f"[yellow]warning:[/] {escape(o.name)}: {escape(warning)}")
    else:
        _emit(frame, fmt, title="fetch")
    if verbose:
        for o in outcomes:
            if o.error:
                err.print(f"[red]{o.status}:[/] {escape(o.name)}: {escape(o.error)}")
    else:
        _print_failures(outcomes)


def _print_failures(outcomes: list[Any]) -> None:
    """One ``failed:`` line per provider on stderr (:func:`_failure_lines`)."""
    for line in _failure_lines(outcomes):
        err.print(f"[red]failed:[/] {escape(line)}")


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
    from . import api

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
    from . import api

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
        err.print("[bold red]error:[/] the store is empty: nothing is fresh enough to publish")
        raise typer.Exit(code=1)
    if fail_on_stale and stale:
        err.print(f"[bold red]error:[/] stale series: {escape(', '.join(stale))}")
        raise typer.Exit(code=1)


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
    from .events import load_catalog

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

    from . import api

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
    from . import api

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
    from . import api

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
        out.print(escape(line))


# ---- analysis commands ---------------------------------------------------------------


def _load_frame(names: list[str], **kwargs: Any) -> Any:
    from . import api

    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    return api.load_frame(names, **kwargs)


def _print_result(result: Any, fmt: OutputFormat, table: Any) -> None:
    """A study result as JSON (``to_dict``), as its text summary, or ``table`` as tsv/csv."""
    if fmt is OutputFormat.json:
        _json(result.to_dict())
    elif fmt in (OutputFormat.csv, OutputFormat.tsv):
        _emit(table, fmt, title="")
    else:
        sys.stdout.write(result.summary().as_text(max_rows=None) + "\n")  # every row asked for


_StudySeries = Annotated[
    list[str],
    typer.Argument(metavar="SERIES", help="Stored series to study (e.g. brent wti xle)."),
]
_StudyMarket = Annotated[
    str | None, typer.Option(metavar="SERIES", help="Market series of the market model.")
]
_StudyModel = Annotated[
    str,
    typer.Option(
        metavar="MODEL",
        help="market | market_adjusted | constant_mean | zero_mean | multifactor | "
        "market_garch (market model with GARCH(1,1) errors, fitted by arch) | market_gjr "
        "(GJR-GARCH errors); a hyphen may stand for the underscore (market-garch).",
    ),
]
_StudyFactor = Annotated[
    list[str] | None,
    typer.Option(metavar="SERIES", help="Factor series for model=multifactor, repeatable."),
]
_StudyWindow = Annotated[
    list[str] | None,
    typer.Option(
        metavar="LO,HI",
        help="CAR window LO,HI in trading days, repeatable. Default: 0,0 0,1 -1,1 0,5 0,10.",
        show_default=False,
    ),
]
_StudyEstimation = Annotated[
    str | None,
    typer.Option(
        metavar="LO,HI",
        help="Estimation window LO,HI in trading days relative to day 0. Default: -250,-11; "
        "-760,-11 (three years) with market_garch and market_gjr, whose tests keep their "
        "size only with a long window.",
        show_default=False,
    ),
]
_StudyMinEstimation = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        help="Minimum non-missing estimation days per pair. Default: half the estimation "
        "window (120; 375 with the GARCH models' window).",
        show_default=False,
    ),
]
_StudyConventions = Annotated[str, typer.Option(metavar="NAME", help="textbook | estudy2")]
_StudyPooled = Annotated[
    bool | None,
    typer.Option(
        "--pooled/--no-pooled",
        help="Pooled (CAAR) tests across pairs: always, or never. Default: auto, only "
        "with at least 10 pairs.",
        show_default=False,
    ),
]
_StudyIndependenceTests = Annotated[
    bool,
    typer.Option(
        "--independence-tests",
        help="Also show the pooled tests that assume independent pairs (labelled invalid "
        "when the pairs share an event date). Default: off.",
    ),
]
_StudyMultitest = Annotated[
    str | None,
    typer.Option(
        metavar="METHOD",
        help="Multiple-testing adjustment of the q-value columns over all CARs (and ARs) "
        "of the result: fdr_bh (Benjamini-Hochberg) | holm | none. Default: fdr_bh.",
        show_default=False,
    ),
]
_StudyExclusionBand = Annotated[
    str | None,
    typer.Option(
        metavar="LO,HI",
        help="Days LO,HI around other events' day 0 removed from the estimation window. "
        "Default: the library's (-10,10).",
        show_default=False,
    ),
]

_StudyBootstrap = Annotated[
    int | None,
    typer.Option(
        "--bootstrap",
        metavar="B",
        help="Wild-bootstrap p-value of every CAR (and of the CAAR of the pairs, with 2 or "
        "more) from B draws, at least 99 (999 is a good choice), with its Monte Carlo "
        "error. Default: off.",
        show_default=False,
    ),
]
_StudyWeights = Annotated[
    str,
    typer.Option(metavar="NAME", help="Weights of --bootstrap: rademacher | mammen."),
]
_StudyPermutation = Annotated[
    str | None,
    typer.Option(
        "--permutation",
        metavar="N",
        help="Permutation p-value of every CAR (and CAAR) against N pseudo-event dates "
        "drawn in the estimation window (at least 99), or all of them (all: exact, no "
        "Monte Carlo error). Default: off.",
        show_default=False,
    ),
]
_StudyMde = Annotated[
    bool,
    typer.Option(
        "--mde",
        help="Minimum detectable effect of every CAR: the smallest effect the t test finds "
        "at 5% (two-sided) with 80% power, simulated (4000 studies) from the pair's own "
        "estimation residuals. Default: off.",
    ),
]
_StudySeed = Annotated[
    int,
    typer.Option(
        metavar="N",
        help="Seed of the --bootstrap, --permutation and --mde draws: the same seed gives "
        "the same numbers.",
    ),
]


@command("study")
def study_cmd(
    series: _StudySeries,
    event: EventIds = None,
    event_date: EventDates = None,
    market: _StudyMarket = "sp500",
    model: _StudyModel = "market",
    factor: _StudyFactor = None,
    window: _StudyWindow = None,
    estimation: _StudyEstimation = None,
    min_estimation: _StudyMinEstimation = None,
    conventions: _StudyConventions = "textbook",
    pooled: _StudyPooled = None,
    independence_tests: _StudyIndependenceTests = False,
    multitest: _StudyMultitest = None,
    exclusion_band: _StudyExclusionBand = None,
    bootstrap: _StudyBootstrap = None,
    weights: _StudyWeights = "rademacher",
    permutation: _StudyPermutation = None,
    mde: _StudyMde = False,
    seed: _StudySeed = 0,
    catalog: Catalog = None,
    as_of: AsOf = None,
    vintage: Vintage = None,
    end: End = None,
    data_dir: DataDir = None,
    fmt: Format = None,
    as_json: AsJson = False,
) -> None:
    """Event study of stored series around events: AR and CAR with t and SQ p-values.

    Examples:

      oilimpact study brent wti --event blockade --window 0,1
      oilimpact study brent --event-date talks=2026-01-05 --json
      oilimpact study xle --event blockade --as-of 2026-01-09
      oilimpact study brent wti xle --event blockade --pooled
      oilimpact study brent --event blockade --model market_garch
      oilimpact study brent wti --event blockade --bootstrap 999 --permutation all --mde

    Defaults: events blockade and fto_announced (when neither --event nor --event-date
    is given), the market model on sp500, estimation window -250,-11 (-760,-11 with the
    GARCH models). Pooled tests only
    with at least 10 pairs (--pooled forces them), and then only those valid when pairs
    share an event date (--independence-tests adds the others, labelled).

    Resampling and power (off by default; every CAR window, seed 0 unless --seed):
    --bootstrap B (rademacher weights unless --weights mammen), --permutation N|all and
    --mde print a table each after the summary; their pooled (CAAR) row appears with 2
    or more pairs (--no-pooled drops it) and keeps the pairs' correlation (whole dates
    are resampled). Formulas and measured size: docs/methods-resampling.md.

    --format tsv|csv prints the CAR table (with boot_pvalue, perm_pvalue, mde and
    mde_sentence columns when asked); json prints everything (keys bootstrap,
    permutation, mde and seed when asked).
    """
    from .events import load_catalog
    from .eventstudy.engine import event_study

    fmt = _fmt_of(fmt, as_json)
    model = model.replace("-", "_")
    est = _estimation_window(estimation, model)
    windows = tuple(_window(w, "--window") for w in window or [])
    as_of, end = _date_opt(as_of, "--as-of"), _date_opt(end, "--end")
    vintage = _date_opt(vintage, "--vintage")
    options = _study_options(
        windows, min_estimation, pooled, independence_tests, exclusion_band, multitest
    )
    asked = _resampling_asked(bootstrap, weights, permutation, mde, seed)
    with _errors():
        cat = load_catalog(catalog)
    events = _events(event, event_date, cat, ["blockade", "fto_announced"])
    t0 = time.perf_counter()
    with _call(f"event study of {len(series)} series x {len(events)} events"):
        uses_market = bool(market) and model in _MARKET_MODELS
        extra = [market] if uses_market else []
        names = list(dict.fromkeys([*series, *extra, *(factor or [])]))
        frame = _load_frame(names, as_of=as_of, vintage=vintage, end=end, data_dir=data_dir)
        if factor:
            options["factors"] = frame[list(factor)]
        result = event_study(
            frame[list(series)],
            events,
            market=frame[market] if uses_market else None,
            model=model,
            estimation_window=est,
            conventions=conventions,
            catalog=cat,
            **options,
        )
    with _call("resampling and power simulations"):
        resampled = _resample(result, asked, pooled)
    _print_study(result, fmt, resampled, asked)
    _summary(_study_line(result, pooled) + _resampling_line(resampled) + f", {_seconds(t0)}")


def _estimation_window(text: str | None, model: str) -> tuple[int, int]:
    """``--estimation``, or the model's default window (the engine's constants)."""
    if text is not None:
        return _window(text, "--estimation")
    from .eventstudy.spec import default_estimation_window

    return default_estimation_window(model)


def _study_options(
    windows: tuple[tuple[int, int], ...],
    min_estimation: int | None,
    pooled: bool | None,
    independence_tests: bool,
    exclusion_band: str | None,
    multitest: str | None,
) -> dict[str, Any]:
    """The event-study keywords the options set (the library's defaults for the others)."""
    if min_estimation is not None and min_estimation < 1:
        _input_error(f"--min-estimation must be at least 1, got {min_estimation}")
    options: dict[str, Any] = {}
    if windows:
        options["event_windows"] = windows
    if min_estimation is not None:
        options["min_estimation"] = min_estimation
    if pooled is not None:
        options["pooled"] = pooled
    if independence_tests:
        options["independence_tests"] = True
    if exclusion_band is not None:
        options["exclusion_band"] = _window(exclusion_band, "--exclusion-band")
    if multitest is not None:
        options["multitest"] = multitest
    return options


def _study_line(result: Any, pooled: bool | None) -> str:
    """``study: 2 series x 1 event, 10 CARs (...), no pooled tests (...)`` (without the time)."""
    car = result.car
    sig = int((car["pvalue"] < 0.05).sum()) if len(car) else 0
    q = car["qvalue"] if "qvalue" in car.columns else None
    qsig = f", {int((q < 0.05).sum())} with q < 0.05" if q is not None and len(car) else ""
    pairs = len(result.alignment)
    pooled_text = (
        f"{len(result.tests)} pooled tests"
        if len(result.tests) or pooled is not None
        else f"no pooled tests ({pairs} pairs < 10; --pooled forces them)"
    )
    return (
        f"study: {len(result.spec.series)} series x {_n(len(result.spec.events), 'event')}, "
        f"{len(car)} CARs ({sig} with p(t) < 0.05{qsig}), {pooled_text}"
    )


#: Models whose normal return needs the market series (multifactor: the first factor).
_MARKET_MODELS = ("market", "market_adjusted", "market_garch", "market_gjr", "multifactor")


def _resampling_asked(
    bootstrap: int | None, weights: str, permutation: str | None, mde: bool, seed: int
) -> dict[str, Any]:
    """The resampling and power options, checked before any data is read."""
    from .eventstudy.resampling import MIN_B

    if bootstrap is not None and bootstrap < MIN_B:
        _input_error(f"--bootstrap needs at least {MIN_B} draws (999 is a good choice), "
                     f"got {bootstrap}")  # fmt: skip
    if weights not in ("rademacher", "mammen"):
        _input_error(f"--weights must be rademacher or mammen, got {weights!r}")
    n_perm: int | None = None
    if permutation is not None and permutation != "all":
        if not permutation.isdigit() or int(permutation) < MIN_B:
            _input_error(
                f"--permutation expects a number of pseudo-event dates of at least {MIN_B}, "
                f"or all; got {permutation!r}"
            )
        n_perm = int(permutation)
    return {
        "bootstrap": bootstrap, "weights": weights, "permutation": permutation is not None,
        "n_perm": n_perm, "mde": mde, "seed": seed,
    }  # fmt: skip


def _resample(result: Any, asked: dict[str, Any], pooled: bool | None) -> dict[str, Any]:
    """Bootstrap, permutation and MDE tables over every CAR window with a finite CAR.

    A window none of whose pairs can be resampled (e.g. a CAR past the end of the data)
    is left out with a warning naming it.
    """
    import pandas as pd

    from .eventstudy.power import minimum_detectable_effect
    from .eventstudy.resampling import permutation_test, wild_bootstrap

    seed = asked["seed"]
    jobs: dict[str, Callable[[tuple[int, int]], Any]] = {}
    if asked["bootstrap"]:
        jobs["bootstrap"] = lambda w: wild_bootstrap(
            result, w, B=asked["bootstrap"], weights=asked["weights"], seed=seed, pooled=pooled
        )
    if asked["permutation"]:
        jobs["permutation"] = lambda w: permutation_test(
            result, w, n_perm=asked["n_perm"], seed=seed, pooled=pooled
        )
    if asked["mde"]:
        jobs["mde"] = lambda w: minimum_detectable_effect(result, w, seed=seed)
    car = result.car
    finite = car[car["car"].notna()] if len(car) else car
    windows = list(dict.fromkeys(zip(finite["start"], finite["end"], strict=True)))
    out: dict[str, Any] = {}
    for name, run in jobs.items():
        frames = []
        for a, b in windows:
            try:
                frames.append(run((int(a), int(b))))
            except OilImpactError as exc:
                warnings.warn(f"--{name} [{int(a):+d},{int(b):+d}] not computed: {exc}",
                              stacklevel=2)  # fmt: skip
        out[name] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out


def _resampling_view(name: str, frame: Any, asked: dict[str, Any]) -> tuple[Any, str]:
    """The text-mode table of one resampling result (percent columns) and its title."""
    view = frame.copy()
    if name == "permutation" and "statistic" in view.columns:  # the CAR on an L-day scale
        view = view.rename(columns={"statistic": "scaled CAR, %"})
    pct = ("estimate", "mde", "mde_up", "mde_down", "mde_normal", "se", "car", "scaled CAR, %")
    for col in pct:
        if col in view.columns:
            view[col] = (100 * view[col]).round(2)
    view = view.rename(columns={
        "estimate": "CAR, %", "mde": "MDE, %", "mde_up": "up, %", "mde_down": "down, %",
        "mde_normal": "normal, %", "se": "se, %", "car": "CAR, %",
    })  # fmt: skip
    for col in ("statistic", "pvalue", "mc_se"):
        if col in view.columns:
            view[col] = view[col].round(3)
    keep = {
        "bootstrap": ["scope", "event", "series", "window", "CAR, %", "statistic", "pvalue",
                      "mc_se", "n_dates"],
        "permutation": ["scope", "event", "series", "window", "CAR, %", "scaled CAR, %",
                        "pvalue", "mc_se", "n_perm", "exhaustive"],
        "mde": ["event", "series", "window", "MDE, %", "up, %", "down, %", "normal, %",
                "se, %", "CAR, %", "detected"],
    }[name]  # fmt: skip
    seed = asked["seed"]
    if name == "bootstrap":
        title = (
            f"Wild bootstrap ({asked['weights']} weights, B = {asked['bootstrap']}, seed "
            f"{seed}): two-sided p-values of the CAR t statistics, null imposed"
        )
    elif name == "permutation":
        every = not len(frame) or bool(frame["exhaustive"].all())
        drawn = "all of them" if every else f"up to {asked['n_perm']} drawn, seed {seed}"
        title = f"Permutation test: the CAR against the pseudo-event dates ({drawn})"
    else:
        n_sim = int(frame["n_sim"].iloc[0]) if len(frame) else 0
        title = (
            "Minimum detectable effect: smallest CAR the t test finds at 5% (two-sided) with "
            f"80% power ({n_sim} simulated studies, seed {seed})"
        )
    return view[[c for c in keep if c in view.columns]], title


def _car_with_resampling(car: Any, resampled: dict[str, Any]) -> Any:
    """The CAR table with the pairs' resampling p-values and MDE as extra columns."""
    key = ["event", "series", "start", "end"]
    table = car.copy()
    picks = {
        "bootstrap": {"pvalue": "boot_pvalue", "mc_se": "boot_mc_se"},
        "permutation": {"pvalue": "perm_pvalue", "mc_se": "perm_mc_se"},
        "mde": {"mde": "mde", "sentence": "mde_sentence"},
    }
    for name, cols in picks.items():
        frame = resampled.get(name)
        if frame is None:
            continue
        if len(frame) and "scope" in frame.columns:
            frame = frame[frame["scope"] == "pair"]
        part = (
            frame[key + list(cols)].rename(columns=cols)
            if len(frame) else car[key].iloc[:0].assign(**{c: [] for c in cols.values()})
        )  # fmt: skip
        table = table.merge(part, on=key, how="left")
    return table


def _print_study(result: Any, fmt: OutputFormat, resampled: dict[str, Any],
                 asked: dict[str, Any]) -> None:  # fmt: skip
    """The study result, then the resampling and power tables (when asked)."""
    if not resampled:
        _print_result(result, fmt, result.car)
    elif fmt is OutputFormat.json:
        payload = result.to_dict()
        payload.update({name: _frame_json(frame) for name, frame in resampled.items()})
        payload["seed"] = asked["seed"]
        _json(payload)
    elif fmt in (OutputFormat.csv, OutputFormat.tsv):
        _emit(_car_with_resampling(result.car, resampled), fmt, title="")
    else:
        sys.stdout.write(result.summary().as_text(max_rows=None) + "\n")  # every row asked for
        for name, frame in resampled.items():
            view, title = _resampling_view(name, frame, asked)
            out.print()
            if len(view):
                _print_table(view, title=title, titled=True)
            else:
                out.print(escape(f"{title}: no window could be computed"))
            if name == "mde" and len(frame):
                for row in frame.itertuples(index=False):
                    out.print(escape(f"  {row.event} / {row.series} {row.window}: {row.sentence}"))


def _resampling_line(resampled: dict[str, Any]) -> str:
    """``, bootstrap 3 p-values, ...`` for the summary line (empty when none was asked)."""
    parts = []
    for name, frame in resampled.items():
        if name == "mde":
            parts.append(f"{len(frame)} MDEs")
        else:
            sig = int((frame["pvalue"] < 0.05).sum()) if len(frame) else 0
            parts.append(f"{name} {len(frame)} p-values ({sig} < 0.05)")
    return (", " + ", ".join(parts)) if parts else ""


_VolSeries = Annotated[
    list[str],
    typer.Argument(
        metavar="SERIES",
        help="Stored price series (e.g. brent wti); an implied-volatility index (vix) gets "
        "the jump test.",
    ),
]
_VolModel = Annotated[
    str,
    typer.Option(
        metavar="MODEL",
        help="Normal-return model whose variance is the benchmark: market_garch (GARCH(1,1) "
        "forecast) | market_gjr | market | constant_mean ... (prediction-error variance); "
        "hyphens accepted.",
    ),
]
_VolWindow = Annotated[
    list[str] | None,
    typer.Option(
        metavar="LO,HI",
        help="Event window LO,HI in trading days, repeatable. Default: 0,0 0,1 0,5.",
        show_default=False,
    ),
]
_VolAlternative = Annotated[
    str,
    typer.Option(metavar="ALT", help="greater (volatility rose) | two-sided (it changed)."),
]
_VolImplied = Annotated[
    bool,
    typer.Option(
        "--implied/--no-implied",
        help="Also test the implied-volatility indexes in the store (VIX; OVX when stored) "
        "for a jump.",
    ),
]

#: Implied-volatility indexes: tested for a jump in their level, not for abnormal variance.
_IMPLIED_VOL = ("vix", "ovx")


@command("volatility")
def volatility_cmd(
    series: _VolSeries,
    event: EventIds = None,
    event_date: EventDates = None,
    market: _StudyMarket = "sp500",
    model: _VolModel = "market_garch",
    window: _VolWindow = None,
    estimation: _StudyEstimation = None,
    alternative: _VolAlternative = "greater",
    implied: _VolImplied = True,
    catalog: Catalog = None,
    as_of: AsOf = None,
    vintage: Vintage = None,
    end: End = None,
    data_dir: DataDir = None,
    fmt: Format = None,
    as_json: AsJson = False,
) -> None:
    """Did an event raise volatility? Abnormal-volatility test per series and implied-vol jumps.

    Examples:

      oilimpact volatility brent --event blockade
      oilimpact volatility brent wti --event blockade --window 0,0 --window 0,5 --json
      oilimpact volatility brent --event blockade --model market --no-implied

    Per price series, event and window: AVR, the realised over the expected variance of
    the abnormal returns (expected: the GARCH variance forecast with the default
    --model market_garch; the prediction-error variance with an OLS model such as
    market), with its rank p-value among the same ratio over every stretch of the
    estimation window (p, the one to read; min p is the smallest attainable) and a
    chi-square p-value that assumes normal innovations. Implied-volatility indexes
    (VIX; OVX when stored) get the jump test: their log change over the window ranked
    among their own changes in the estimation window (z p: normal approximation).
    Formulas and measured size: docs/methods-garch.md; the output on the real data, read:
    docs/cli-methods.md.

    Defaults: event blockade (when neither --event nor --event-date is given), model
    market_garch on sp500, windows 0,0 0,1 0,5, estimation window -760,-11 (three years;
    -250,-11 with an OLS model), alternative
    greater, and the stored implied-volatility indexes (--no-implied drops them).
    --format tsv|csv|json prints one row per test, event, series and window.
    """
    from .events import load_catalog

    fmt = _fmt_of(fmt, as_json)
    model = model.replace("-", "_")
    est = _estimation_window(estimation, model)
    windows = tuple(_window(w, "--window") for w in window or []) or ((0, 0), (0, 1), (0, 5))
    as_of, end = _date_opt(as_of, "--as-of"), _date_opt(end, "--end")
    vintage = _date_opt(vintage, "--vintage")
    if alternative not in ("greater", "two-sided"):
        _input_error(f"--alternative must be greater or two-sided, got {alternative!r}")
    with _errors():
        cat = load_catalog(catalog)
    events = _events(event, event_date, cat, ["blockade"])
    reads = {"as_of": as_of, "vintage": vintage, "end": end, "data_dir": data_dir}
    t0 = time.perf_counter()
    with _call(f"volatility tests of {len(series)} series x {len(events)} events"):
        prices = [s for s in dict.fromkeys(series) if s not in _IMPLIED_VOL]
        avr = _abnormal_volatility(prices, events, market, model, est, windows, alternative,
                                   cat, reads)  # fmt: skip
        ivs = [s for s in dict.fromkeys(series) if s in _IMPLIED_VOL]
        jumps = _implied_jumps(ivs, implied, events, est, windows, alternative, reads)
    _print_volatility(avr, jumps, fmt, model, market)
    _summary(_volatility_line(avr, jumps) + f", {_seconds(t0)}")


def _abnormal_volatility(
    names: list[str],
    events: list[Any],
    market: str,
    model: str,
    est: tuple[int, int],
    windows: tuple[tuple[int, int], ...],
    alternative: str,
    cat: Any,
    reads: dict[str, Any],
) -> Any:
    """The abnormal-volatility table of the price series (empty when none is asked)."""
    import pandas as pd

    from .eventstudy.engine import event_study
    from .eventstudy.eventvol import volatility_tests

    if not names:
        return pd.DataFrame()
    uses_market = bool(market) and model in _MARKET_MODELS
    frame = _load_frame(list(dict.fromkeys([*names, *([market] if uses_market else [])])),
                        **reads)  # fmt: skip
    res = event_study(
        frame[names], events, market=frame[market] if uses_market else None, model=model,
        estimation_window=est, event_windows=windows, catalog=cat, pooled=False,
    )  # fmt: skip
    table = volatility_tests(res, windows, alternative=alternative)
    day0 = res.alignment[["event", "series", "day0"]]
    return table.merge(day0, on=["event", "series"], how="left")


def _implied_jumps(
    names: list[str],
    stored: bool,
    events: list[Any],
    est: tuple[int, int],
    windows: tuple[tuple[int, int], ...],
    alternative: str,
    reads: dict[str, Any],
) -> Any:
    """Implied-volatility jump rows of the asked indexes (and of the stored ones).

    A (series, event, window) the test cannot compute (a window past the data, too few
    reference changes) is left out with a warning naming it.
    """
    import pandas as pd

    from . import api
    from .eventstudy.volatility import implied_vol_jump
    from .series import default_registry

    frame = _load_frame(names, **reads) if names else pd.DataFrame()
    if stored:
        extra = [n for n in _IMPLIED_VOL if n not in names and n in default_registry()]
        got = api.load_frame(extra, missing="skip",
                             **{k: v for k, v in reads.items() if v is not None})  # fmt: skip
        frame = pd.concat([frame, got], axis=1) if len(frame.columns) else got
    rows = []
    for name in frame.columns:
        for ev in events:
            for w in windows:
                try:
                    j = implied_vol_jump(frame[name].rename(name), ev, window=w,
                                         estimation_window=est, alternative=alternative)  # fmt: skip
                except OilImpactError as exc:
                    warnings.warn(f"{name} / {ev.id} [{w[0]:+d},{w[1]:+d}]: {exc}", stacklevel=2)
                    continue
                rows.append({
                    "event": j.event, "series": j.series, "window": j.window, "start": w[0],
                    "end": w[1], "day0": j.day0, "level_before": j.level_before,
                    "level_after": j.level_after, "log_change": j.log_change,
                    "pvalue": j.pvalue, "n_ref": j.n_ref, "min_pvalue": j.min_pvalue,
                    "z_pvalue": j.z_pvalue, "percentile": j.percentile,
                })  # fmt: skip
    return pd.DataFrame(rows)


def _print_volatility(avr: Any, jumps: Any, fmt: OutputFormat, model: str, market: str) -> None:
    """Both tables: titled text tables, or one tidy table (``test`` column) for machines."""
    import numpy as np
    import pandas as pd

    if fmt is not OutputFormat.table:
        parts = [avr.assign(test="abnormal_volatility") if len(avr) else avr,
                 jumps.assign(test="implied_vol_jump") if len(jumps) else jumps]  # fmt: skip
        tidy = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
            len(p) for p in parts) else pd.DataFrame(columns=["test"])  # fmt: skip
        tidy = tidy[["test", *[c for c in tidy.columns if c != "test"]]]
        _emit(tidy, fmt, title="volatility")
        return
    if len(avr):
        view = avr[["event", "series", "window", "day0", "n_days", "avr", "pvalue", "min_pvalue",
                    "n_ref", "chi2_pvalue"]].copy()  # fmt: skip
        view[["avr", "pvalue", "min_pvalue", "chi2_pvalue"]] = view[
            ["avr", "pvalue", "min_pvalue", "chi2_pvalue"]].round(3)  # fmt: skip
        bench = f"{model} on {market}" if model in _MARKET_MODELS else model
        title = (f"Abnormal volatility ({bench}): AVR = realised / expected variance of the "
                 "abnormal returns; p = rank among the estimation window's stretches")  # fmt: skip
        _print_table(view.rename(columns={"min_pvalue": "min p", "chi2_pvalue": "chi2 p"}),
                     title=title, titled=True)  # fmt: skip
    if len(jumps):
        view = jumps[["event", "series", "window", "day0", "level_before", "level_after"]].copy()
        view["change, %"] = (100 * (np.exp(jumps["log_change"]) - 1)).round(1)
        for col in ("pvalue", "min_pvalue", "z_pvalue"):
            view[col] = jumps[col].round(3)
        view["n_ref"] = jumps["n_ref"]
        if len(avr):
            out.print()
        _print_table(
            view.rename(columns={"level_before": "before", "level_after": "after",
                                 "min_pvalue": "min p", "z_pvalue": "z p"}),
            title="Implied volatility jump: the index's log change over the window, ranked "
            "among its own changes in the estimation window", titled=True,
        )  # fmt: skip
    if not len(avr) and not len(jumps):
        out.print("no volatility test could be computed (see the warnings)")


def _volatility_line(avr: Any, jumps: Any) -> str:
    """``volatility: 3 abnormal-volatility tests (1 with p < 0.05), 3 implied-vol ...``."""

    def part(frame: Any, what: str) -> str:
        sig = int((frame["pvalue"] < 0.05).sum()) if len(frame) else 0
        return f"{_n(len(frame), what)} ({sig} with p < 0.05)"

    return ("volatility: " + part(avr, "abnormal-volatility test") + ", "
            + part(jumps, "implied-volatility jump test"))  # fmt: skip


_InterventionSeries = Annotated[
    str,
    typer.Argument(metavar="SERIES", help="Stored volume series (e.g. ve_crude_production)."),
]
_InterventionModel = Annotated[
    str | None,
    typer.Option(
        metavar="MODEL",
        help="segmented (OLS, HAC errors) | sarimax. Default: segmented.",
        show_default=False,
    ),
]
_InterventionForm = Annotated[
    str | None,
    typer.Option(
        metavar="FORM",
        help="Effect shape: level (permanent shift) | pulse | decay | compare (all, best "
        "by BIC). Default: level.",
        show_default=False,
    ),
]
_InterventionStart = Annotated[
    str | None,
    typer.Option(
        metavar="WHEN",
        help="containing | next: the effect starts in the period containing the event or "
        "in the next one. Default: containing.",
        show_default=False,
    ),
]
_InterventionPrePeriods = Annotated[
    str | None,
    typer.Option(
        metavar="N",
        help="Pre-event periods to fit, or all. Default: 60 months or 156 weeks (fewer "
        "when the series is shorter).",
        show_default=False,
    ),
]
_InterventionPlacebo = Annotated[
    bool | None,
    typer.Option(
        "--placebo/--no-placebo",
        help="In-time placebo p-value over pseudo-event dates beside the model p-value. "
        "Default: on.",
        show_default=False,
    ),
]


@command("intervention")
def intervention_cmd(
    series: _InterventionSeries,
    event: EventIds = None,
    event_date: EventDates = None,
    model: _InterventionModel = None,
    form: _InterventionForm = None,
    start: _InterventionStart = None,
    pre_periods: _InterventionPrePeriods = None,
    placebo: _InterventionPlacebo = None,
    catalog: Catalog = None,
    as_of: AsOf = None,
    vintage: Vintage = None,
    end: End = None,
    data_dir: DataDir = None,
    fmt: Format = None,
    as_json: AsJson = False,
) -> None:
    """Intervention analysis of a volume series: level change in units and %, placebo p.

    Examples:

      oilimpact intervention ve_crude_production --event blockade
      oilimpact intervention ve_crude_production --event blockade \\
          --event maduro_captured --json
      oilimpact intervention us_imports_ve_monthly --event-date deal=2026-03-01

    Defaults: event blockade (when neither --event nor --event-date is given) and the one
    default specification that the API and the brief use too: a segmented OLS level shift
    from the event's period, 60 months or 156 weeks before it, trend and seasonal terms,
    AR(1)-prewhitened HAC errors and placebo p-values. It is printed with the result
    (`spec` in --json); the options here override it. --format tsv|csv prints the effects
    table.
    """
    from .events import load_catalog
    from .intervention.analysis import intervention

    fmt = _fmt_of(fmt, as_json)
    as_of, end = _date_opt(as_of, "--as-of"), _date_opt(end, "--end")
    vintage = _date_opt(vintage, "--vintage")
    with _errors():
        cat = load_catalog(catalog)
    events = _events(event, event_date, cat, ["blockade"])
    if pre_periods is not None and pre_periods != "all":
        if not pre_periods.isdigit() or int(pre_periods) < 1:
            _input_error(f"--pre-periods expects a positive number or all, got {pre_periods!r}")
        pre_periods = int(pre_periods)  # type: ignore[assignment]
    options = {
        "model": model, "form": form, "start": start, "pre_periods": pre_periods,
        "placebo": placebo,
    }  # fmt: skip
    options = {k: v for k, v in options.items() if v is not None}
    t0 = time.perf_counter()
    what = f"fitting {series} ({options.get('model', 'segmented')}" + (
        ", with placebo refits)" if options.get("placebo", True) else ")"
    )
    with _call(what):
        frame = _load_frame([series], as_of=as_of, vintage=vintage, end=end, data_dir=data_dir)
        _no_post_event_data(frame[series], events, as_of or end, fmt, start)
        result = intervention(frame[series], events, **options)
    _print_result(result, fmt, result.effects)
    _summary(_intervention_line(result) + f"; {_seconds(t0)}")


def _no_post_event_data(
    data: Any, events: list[Any], as_of: Any, fmt: OutputFormat, start: str | None = None
) -> None:
    """Say so and exit 1 when no event has a treated period in the data (point in time).

    The rule is the library's (:func:`oilimpact.intervention.sample.post_event_periods`
    with the start rule of ``--start``, default ``containing``). With ``--as-of`` a
    monthly figure published months later is not in the data yet: that is an answer
    ("no post-event data yet", with the sample end), not an input error.
    """
    import pandas as pd

    from .intervention.sample import post_event_periods
    from .series import infer_frequency, period_end

    valid = data.dropna()
    if len(valid) < 3:
        return
    rule = {"start": start} if start is not None else {}
    if any(post_event_periods(valid, e, **rule) >= 1 for e in events):
        return  # at least one event has a treated period in the data: fit as usual
    freq = infer_frequency(valid.index)
    end = period_end(valid.index[-1:], freq)[0]
    dated = [(e.id, pd.Timestamp(e.date)) for e in events]
    first = min(day for _, day in dated)
    reason = (
        f"no post-event data yet: the last {freq} period in the data is "
        f"{valid.index[-1].date()} (ending {end.date()})"
        + (f", as known on {as_of}" if as_of else "")
        + f", before {', '.join(f'{i} ({d.date()})' for i, d in dated)}"
    )
    if fmt is OutputFormat.json:
        _json({
            "series": str(data.name), "status": "not_estimable", "reason": reason,
            "as_of": str(as_of) if as_of else None, "sample_end": valid.index[-1].date(),
            "first_event": first.date(), "events": [i for i, _ in dated],
        })  # fmt: skip
    else:
        out.print(escape(f"{data.name}: {reason}"))
    _summary(f"intervention: {data.name} not estimable yet")
    raise typer.Exit(1)


def _intervention_line(result: Any) -> str:
    sp = result.spec
    parts = []
    for row in result.effects.itertuples(index=False):
        if row.term != "level":
            continue
        p = "-" if row.pvalue != row.pvalue else f"{row.pvalue:.3f}"
        parts.append(f"{row.event} level {row.estimate:+,.1f} {sp.unit} (p {p})".replace("  ", " "))
    return f"intervention: {sp.series} {sp.model}, " + ("; ".join(parts) or "no level term")


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
    from . import api

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
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(code=1) from None
    _report_fetch(fetched, t0)
    out.print(escape(f"brief written to {paths.html}"))
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
    err.print(escape(_fetch_summary(outcomes, _seconds(t0), what="brief --fetch")))


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
        err.print(f"error: {escape(str(exc))}")
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("OILIMPACT_DEBUG"):
            raise
        from .errors import scrub

        err.print(
            escape(
                f"internal error: {type(exc).__name__}: {scrub(exc)}. This is a bug in "
                "oilimpact: please report it with the command you ran (OILIMPACT_DEBUG=1 "
                "shows the traceback)."
            )
        )
        sys.exit(70)


if __name__ == "__main__":  # pragma: no cover
    main()
