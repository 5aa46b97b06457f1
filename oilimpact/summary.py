"""Summary objects of the analysis results, shown as text in a terminal and as tables
in a notebook (the shape of statsmodels' ``Summary``).

A :class:`Summary` is a title plus an ordered list of blocks: lines of text, tables
(pandas frames of display strings) and notes. ``str(summary)`` and
:meth:`Summary.as_text` give monospaced text; :meth:`Summary.as_html` (and
``_repr_html_``, which Jupyter calls) real ``<table>`` elements, every user string
escaped; :attr:`Summary.tables` the frames. Numbers are formatted once, by
:func:`fmt_num` (significant digits, never 9 or more decimals) before they enter a
table, so the text and the HTML show the same figures.

Examples
--------
>>> import pandas as pd
>>> s = Summary("Demo")
>>> s.add_text(["one line"])
>>> s.add_table(pd.DataFrame({"x": [fmt_num(1 / 3)]}), caption="Numbers")
>>> print(s)
Demo
====
one line
<BLANKLINE>
Numbers
     x
0.3333
>>> "<table" in s._repr_html_() and "one line" in s
True
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

__all__ = ["DISPLAY_ROWS", "Summary", "fmt_num", "fmt_p", "fmt_pct"]

_CSS = (
    "<style>.oilimpact-summary table{border-collapse:collapse;margin:0.3em 0 0.8em}"
    ".oilimpact-summary th,.oilimpact-summary td{padding:2px 8px;text-align:right;"
    "font-variant-numeric:tabular-nums}.oilimpact-summary caption{text-align:left;"
    "font-weight:bold}.oilimpact-summary p{margin:0.2em 0}"
    ".oilimpact-summary ul{margin:0.2em 0 0.6em;font-size:90%}</style>"
)


def fmt_num(x: Any, sig: int = 4, *, missing: str = "-") -> str:
    """A number with ``sig`` significant digits (at most 6 decimals), thousands separated.

    Integers print whole; ``NaN``, ``None`` and infinities print ``missing``; tiny
    and huge magnitudes use exponent notation. Other values print with ``str``.

    Examples
    --------
    >>> [fmt_num(v) for v in (0.123456789, 12345.678, 3, float("nan"), 1.5e-9, -0.0)]
    ['0.1235', '12,346', '3', '-', '1.5e-09', '0']
    """
    if x is None or isinstance(x, bool | str):
        return missing if x is None else str(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return missing
    if v == 0:
        return "0"
    if float(v).is_integer() and abs(v) < 1e15 and not isinstance(x, float):
        return f"{int(v):,}"
    mag = math.floor(math.log10(abs(v)))
    if mag < -6 or mag >= 15:
        return f"{v:.{max(sig, 1)}g}"
    decimals = min(max(sig - 1 - mag, 0), 6)
    return f"{v:,.{decimals}f}"


def fmt_pct(x: Any, decimals: int = 2) -> str:
    """A fraction in percent points, ``decimals`` decimals (``0.01234 -> "1.23"``).

    Examples
    --------
    >>> fmt_pct(0.012345), fmt_pct(float("nan"))
    ('1.23', '-')
    """
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return f"{100 * v:,.{decimals}f}" if math.isfinite(v) else "-"


def fmt_p(x: Any) -> str:
    """A p-value with 3 decimals (``"<0.001"`` below).

    Examples
    --------
    >>> fmt_p(0.04567), fmt_p(1e-7), fmt_p(None)
    ('0.046', '<0.001', '-')
    """
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "-"
    if not math.isfinite(v):
        return "-"
    return "<0.001" if v < 0.001 else f"{v:.3f}"


#: Rows of a summary table shown by default (the first and last half): a table longer
#: than this says how many rows it leaves out and where to find them all.
DISPLAY_ROWS = 200


def _truncated(table: pd.DataFrame, max_rows: int | None) -> tuple[pd.DataFrame, str]:
    """The rows of ``table`` to show and, when some are left out, the line that says so.

    Examples
    --------
    >>> shown, line = _truncated(pd.DataFrame({"x": [str(i) for i in range(10)]}), 4)
    >>> shown["x"].tolist()
    ['0', '1', '...', '8', '9']
    >>> line.split(":")[0]
    '(10 rows; 6 not shown'
    """
    if max_rows is None or len(table) <= max_rows:
        return table, ""
    head, tail = max(max_rows // 2, 1), max(max_rows - max_rows // 2, 1)
    gap = pd.DataFrame([["..."] * table.shape[1]], columns=table.columns)
    shown = pd.concat([table.iloc[:head], gap, table.iloc[-tail:]], ignore_index=True)
    left = len(table) - head - tail
    return shown, (f"({len(table):,} rows; {left:,} not shown: the full table is in .tables, "
                   "or as_text(max_rows=None))")  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Block:
    kind: Literal["text", "table", "notes"]
    content: Any
    caption: str | None = None


@dataclass(slots=True, eq=False)
class Summary:
    """What ``res.summary()`` returns: text in a terminal, tables in a notebook.

    Attributes
    ----------
    title : str
    blocks : list
        Text lines, tables and notes in display order (build with :meth:`add_text`,
        :meth:`add_table`, :meth:`add_notes`).
    max_rows : int or None
        Rows of a table shown by ``str()`` and in a notebook (default
        :data:`DISPLAY_ROWS`): a longer table shows its first and last rows and a line
        saying how many are left out, as pandas does. ``as_text(max_rows=None)`` shows
        every row; :attr:`tables` always hold every row.

    Notes
    -----
    Like statsmodels' ``Summary`` (``as_text``, ``as_html``, ``tables``); for the
    convenience of code written when ``summary()`` returned a ``str``, ``x in
    summary`` searches the whole text (every row) and ``summary == text`` compares it.
    A study of 10,000 pairs has 50,000 CAR rows: printed in full they are 5 MB of text
    (3 s to format, 6 s as HTML), which no terminal or notebook wants by default.
    """

    title: str
    blocks: list[_Block] = field(default_factory=list)
    max_rows: int | None = None

    # ---- building --------------------------------------------------------------------
    def add_text(self, lines: list[str] | str, heading: str | None = None) -> None:
        """Append lines of text (a paragraph each in HTML) under an optional heading."""
        lines = [lines] if isinstance(lines, str) else list(lines)
        if lines:
            self.blocks.append(_Block("text", lines, heading))

    def add_table(self, table: pd.DataFrame, caption: str | None = None) -> None:
        """Append a table of display strings (format numbers with :func:`fmt_num`)."""
        self.blocks.append(_Block("table", table.astype(str).reset_index(drop=True), caption))

    def add_notes(self, notes: list[str], heading: str = "Notes") -> None:
        """Append a bulleted list (``- note`` in text)."""
        if notes:
            self.blocks.append(_Block("notes", [str(n) for n in notes], heading))

    # ---- views -----------------------------------------------------------------------
    @property
    def tables(self) -> list[pd.DataFrame]:
        """The tables, as frames of the display strings (copies)."""
        return [b.content.copy() for b in self.blocks if b.kind == "table"]

    def _rows(self, max_rows: int | None | Literal["default"]) -> int | None:
        if max_rows == "default":
            return DISPLAY_ROWS if self.max_rows is None else self.max_rows
        return max_rows

    def as_text(self, max_rows: int | None | Literal["default"] = "default") -> str:
        """Monospaced text: the title, a rule, then each block.

        ``max_rows``: rows shown per table (``None``: all; default :attr:`max_rows`).
        """
        rows = self._rows(max_rows)
        out = [self.title, "=" * min(max(len(self.title), 4), 100)]
        for b in self.blocks:
            if b.kind == "text":
                if b.caption:
                    out.append(b.caption + ":")
                out += b.content
            elif b.kind == "table":
                out.append("")
                if b.caption:
                    out.append(b.caption)
                shown, cut = _truncated(b.content, rows)
                out.append(shown.to_string(index=False) if len(b.content) else "(none)")
                if cut:
                    out.append(cut)
            else:
                out += ["", f"{b.caption}:"] + [f"  - {n}" for n in b.content]
        return "\n".join(out)

    def as_html(self, max_rows: int | None | Literal["default"] = "default") -> str:
        """HTML: ``<table>`` elements with captions, paragraphs and lists; escaped.

        ``max_rows``: rows shown per table (``None``: all; default :attr:`max_rows`).
        """
        rows = self._rows(max_rows)
        parts = [_CSS, f"<div class='oilimpact-summary'><h4>{html.escape(self.title)}</h4>"]
        for b in self.blocks:
            if b.kind == "text":
                if b.caption:
                    parts.append(f"<p><b>{html.escape(b.caption)}</b></p>")
                parts += [f"<p>{html.escape(x.strip())}</p>" for x in b.content]
            elif b.kind == "table":
                shown, cut = _truncated(b.content, rows)
                table = shown.to_html(index=False, escape=True, border=0)
                if b.caption:
                    cap = f"<caption>{html.escape(b.caption)}</caption>"
                    table = table.replace(">", ">" + cap, 1)
                parts.append(table)
                if cut:
                    parts.append(f"<p><i>{html.escape(cut)}</i></p>")
            else:
                parts.append(f"<p><b>{html.escape(b.caption or '')}</b></p><ul>")
                parts += [f"<li>{html.escape(n)}</li>" for n in b.content]
                parts.append("</ul>")
        parts.append("</div>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.as_html()

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def __contains__(self, text: object) -> bool:
        return str(text) in self.as_text(max_rows=None)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Summary):
            return self.as_text(max_rows=None) == other.as_text(max_rows=None)
        if isinstance(other, str):
            return self.as_text(max_rows=None) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.as_text(max_rows=None))

    def splitlines(self) -> list[str]:
        """Lines of :meth:`as_text`."""
        return self.as_text().splitlines()
