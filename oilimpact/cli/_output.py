"""Errors, tables, JSON, progress and warnings on the terminal: how every command prints."""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import InputError, OilImpactError, ValidationError
from ._app import OutputFormat

#: Tables and results (stdout) and progress, warnings, errors and summaries (stderr).
#: Every command prints through these two (tests replace them here).
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


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
    frame: Any, *, title: str | None = None, console: Console | None = None, titled: bool = False
) -> None:
    """A rich table on a terminal, else a plain full-width one (header words kept whole).

    The plain table has no title line (data only) unless ``titled``. On a terminal too
    narrow for the table's natural width the plain table is printed as well (long lines
    wrap, as in ``less``; a rich table would fold every cell). ``console``: default
    :data:`out`.
    """
    console = out if console is None else console
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
    from ..intervention.result import InterventionWarning

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
