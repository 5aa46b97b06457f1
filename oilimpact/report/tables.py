"""Display tables of the brief: one frame of raw numbers, one way to format each column.

A :class:`Table` keeps the full-precision frame (written to CSV and ``results.json``)
and the formats used to show it in HTML, so the page, the JSON and the CSV files cannot
disagree: every cell in the page is ``format_value(frame value, column format)``.

Examples
--------
>>> import pandas as pd
>>> t = Table("car", "tbl-car", (Column("car", "CAR (%)", "pct"),),
...           pd.DataFrame({"car": [0.031234, float("nan")]}))
>>> [r.cells for r in t.rows]
[['3.12'], ['–']]
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["Column", "Format", "MISSING", "Row", "Table", "format_value", "jsonable"]

#: ``text`` as is; ``pct`` 100x with 2 decimals; ``f1``..``f4`` fixed decimals;
#: ``signed2`` fixed with a sign; ``p`` 3 decimals; ``int``; ``date`` YYYY-MM-DD;
#: ``datetime`` YYYY-MM-DD HH:MM UTC; ``bool`` "yes"/"no"; ``flag`` "yes"/"" (blank when false).
Format = Literal[
    "text", "pct", "f1", "f2", "f3", "f4", "signed2", "p", "int", "date", "datetime", "bool", "flag"
]
#: What a missing number shows as.
MISSING = "–"


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def jsonable(value: Any) -> Any:
    """``value`` as JSON builtins: NaN/NaT -> None, dates -> ISO strings, numpy -> Python.

    Examples
    --------
    >>> jsonable({"d": pd.Timestamp("2025-12-17"), "x": np.float64("nan"), "w": (0, 1)})
    {'d': '2025-12-17', 'x': None, 'w': [0, 1]}
    """
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(value)
        if ts.tzinfo is None and ts == ts.normalize():
            return ts.strftime("%Y-%m-%d")
        return ts.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        return x if math.isfinite(x) else None
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def format_value(value: Any, fmt: Format) -> str:
    """Format one cell for display (see :data:`Format`).

    Examples
    --------
    >>> format_value(0.0312, "pct"), format_value(-1.5, "signed2"), format_value(None, "p")
    ('3.12', '-1.50', '–')
    """
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(format_value(v, fmt) for v in value)
    if _missing(value):
        return "" if fmt in ("text", "flag") else MISSING
    if fmt == "text":
        return str(value)
    if fmt in ("bool", "flag"):
        return "yes" if bool(value) else ("no" if fmt == "bool" else "")
    if fmt == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if fmt == "datetime":
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC")
        return ts.strftime("%Y-%m-%d %H:%M") + " UTC"
    x = float(value)
    if not math.isfinite(x):
        return MISSING
    if fmt == "pct":
        return f"{100.0 * x:.2f}"
    if fmt == "p":
        return f"{x:.3f}"
    if fmt == "int":
        return f"{int(round(x))}"
    if fmt == "signed2":
        return f"{x:+.2f}"
    if fmt in ("f1", "f2", "f3", "f4"):
        return f"{x:.{int(fmt[1])}f}"
    raise ValueError(f"unknown format {fmt!r}")


@dataclass(frozen=True, slots=True)
class Column:
    """One displayed column: frame column ``key``, header ``label``, format ``fmt``."""

    key: str
    label: str
    fmt: Format = "text"

    @property
    def numeric(self) -> bool:
        """Whether the column is right-aligned as a number."""
        return self.fmt not in ("text", "date", "datetime", "bool", "flag")


@dataclass(frozen=True, slots=True)
class Row:
    """One displayed row: formatted cells and an optional CSS class."""

    cells: list[str]
    css: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """A table of the brief.

    Attributes
    ----------
    name : str
        Table name: the CSV file is ``<name>.csv`` and the ``results.json`` key
        ``tables.<name>``. Several HTML tables may show slices of one named table.
    id : str
        HTML element id (unique in the page).
    columns : tuple of Column
        The displayed columns, in order.
    frame : pandas.DataFrame
        The rows shown, at full precision (a slice of the named table).
    caption : str
    row_css : tuple of str
        CSS class of each row (``"confounded"``, ``"stale"``), or empty.
    """

    name: str
    id: str
    columns: tuple[Column, ...]
    frame: pd.DataFrame
    caption: str = ""
    row_css: tuple[str, ...] = field(default=())

    @property
    def rows(self) -> list[Row]:
        """The formatted rows, in frame order."""
        out = []
        css = self.row_css or ("",) * len(self.frame)
        for (_, rec), cls in zip(self.frame.iterrows(), css, strict=True):
            out.append(Row([format_value(rec[c.key], c.fmt) for c in self.columns], cls))
        return out

    def slice(self, mask: Sequence[bool] | pd.Series, *, id: str, caption: str = "") -> Table:
        """The rows where ``mask`` holds, as a table with another id and caption."""
        m = np.asarray(mask, dtype=bool)
        css = tuple(np.asarray(self.row_css or ("",) * len(self.frame), dtype=object)[m])
        return Table(
            self.name,
            id,
            self.columns,
            self.frame.loc[m].reset_index(drop=True),
            caption,
            tuple(str(c) for c in css),
        )
