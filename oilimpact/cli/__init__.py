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

One module per group of commands (:mod:`~oilimpact.cli.data`, :mod:`~oilimpact.cli.history`,
:mod:`~oilimpact.cli.study`, :mod:`~oilimpact.cli.volatility`,
:mod:`~oilimpact.cli.intervention`, :mod:`~oilimpact.cli.brief`), each registering its
commands on the one app of :mod:`~oilimpact.cli._app` when imported (in this order, the
order of ``oilimpact --help``); :mod:`~oilimpact.cli._output` holds how they print and
:mod:`~oilimpact.cli._parse` how they read dates, windows and events.
"""

from __future__ import annotations

import importlib
import sys

from rich.markup import escape

from ..errors import OilImpactError
from . import _output
from ._app import app

__all__ = ["app", "main"]

#: The command modules, imported in the order their commands appear in ``--help``.
COMMAND_MODULES = ("data", "history", "study", "volatility", "intervention", "brief")

for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}")


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
        _output.err.print(f"error: {escape(str(exc))}")
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("OILIMPACT_DEBUG"):
            raise
        from ..errors import scrub

        _output.err.print(
            escape(
                f"internal error: {type(exc).__name__}: {scrub(exc)}. This is a bug in "
                "oilimpact: please report it with the command you ran (OILIMPACT_DEBUG=1 "
                "shows the traceback)."
            )
        )
        sys.exit(70)


if __name__ == "__main__":  # pragma: no cover
    main()
