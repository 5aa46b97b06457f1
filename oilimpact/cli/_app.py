"""The Typer app, its command decorator and the options several commands share."""

from __future__ import annotations

import inspect
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer


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
