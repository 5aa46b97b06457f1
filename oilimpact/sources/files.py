"""Import user files (CSV exports) into named series.

Pure parsing: no network and no store. :func:`read_series_file` reads one series from a
price or statistics export (FRED, EIA, OHLC, Yahoo, tidy long tables);
:func:`read_tanker_export` turns a vendor's cargo-by-cargo export (Kpler, Vortexa or any
table mapped to ``date, origin, destination, volume, unit``) into a flow series in
thousand barrels per day. Both return an :class:`ImportedSeries`: the series in the frame
convention of ``docs/architecture.md`` plus the metadata a manifest needs.

Every refusal raises :class:`oilimpact.errors.InputError` with a message that starts
``"<file>, line <n>: "`` (1-based physical line, header = line 1) and says what to do.
Dates are parsed with an explicit format per recognised style (never guessed), and a
file mixing two styles is refused. The missing-value markers in :data:`MISSING_MARKERS`
become NaN; any other non-numeric text is refused.

Examples
--------
>>> import io
>>> csv = io.StringIO("observation_date,DCOILWTICO\\n2020-04-17,18.31\\n"
...                   "2020-04-20,-36.98\\n2020-04-21,\\n")
>>> got = read_series_file(csv, name="wti")
>>> got.format, got.source_id, got.rows
('fred', 'DCOILWTICO', 3)
>>> got.series.tolist()
[18.31, -36.98, nan]
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Literal, get_args

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frames import MAX_DATE, MIN_DATE, MISSING_MARKERS, to_series_frame

__all__ = [
    "DEFAULT_BBL_PER_TONNE",
    "FORMATS",
    "FileFormat",
    "ImportedSeries",
    "M3_TO_BBL",
    "MISSING_MARKERS",
    "TANKER_PRESETS",
    "TankerFrequency",
    "TankerPreset",
    "detect_format",
    "read_series_file",
    "read_tanker_export",
]

FileFormat = Literal["fred", "eia", "ohlc", "yahoo", "tidy", "tanker"]
#: The formats :func:`detect_format` can return.
FORMATS: tuple[str, ...] = get_args(FileFormat)
TankerPreset = Literal["kpler", "vortexa"]
#: The ``preset=`` names :func:`read_tanker_export` accepts.
TANKER_PRESETS: tuple[str, ...] = get_args(TankerPreset)
TankerFrequency = Literal["daily", "weekly", "monthly"]
Source = str | os.PathLike[str] | IO[str] | IO[bytes]

#: Barrels per cubic metre (1 m3 = 6.2898 bbl).
M3_TO_BBL = 6.2898
#: Default barrels per metric tonne of crude oil (about 33 API; heavy Venezuelan Merey is
#: nearer 6.6-6.9, light crudes 7.5-7.6). Override with ``bbl_per_tonne=``.
DEFAULT_BBL_PER_TONNE = 7.33

_UNIT_ALIASES: dict[str, str] = {
    "bbl": "bbl",
    "b": "bbl",
    "barrel": "bbl",
    "barrels": "bbl",
    "kbbl": "kbbl",
    "kb": "kbbl",
    "thousand barrels": "kbbl",
    "m3": "m3",
    "cbm": "m3",
    "cubic meters": "m3",
    "cubic metres": "m3",
    "t": "t",
    "tonne": "t",
    "tonnes": "t",
    "metric tons": "t",
    "metric tonnes": "t",
}


@dataclass(frozen=True, slots=True)
class ImportedSeries:
    """A series read from a user file, with where it came from.

    Attributes
    ----------
    series : pandas.Series
        float64 values on a tz-naive ``DatetimeIndex`` named ``"date"`` (``datetime64[ns]``,
        sorted, unique), ``name`` = the registry name.
    source_file : str
        The file name (or ``"<stream>"`` for an unnamed file-like object).
    format : str
        One of :data:`FORMATS`.
    unit : str or None
        The unit given by the caller, else the unit stated in the file, else None.
    source_id : str or None
        The provider id (FRED id, Yahoo ticker) or the filter used (``"eia_product_id=57"``).
    rows : int
        Data rows of the file that went into the series.
    value_column : str or None
        The column the values were read from.
    notes : tuple of str
        Caveats worth keeping in a manifest (partial periods, NaN periods, ...).
    """

    series: pd.Series
    source_file: str
    format: str
    unit: str | None
    source_id: str | None
    rows: int
    value_column: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------------------------------
# Reading the text and tokenising it (pandas), keeping the row -> line mapping
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Table:
    """The tokenised file: header row(s) and data cells (str), with each row's line."""

    file: str
    header: tuple[str, ...]
    header_rows: tuple[tuple[str, ...], ...]
    cells: pd.DataFrame  # positional int columns, str cells, blank rows dropped
    lines: np.ndarray  # 1-based physical line of each row of ``cells``

    def col(self, position: int) -> pd.Series:
        return self.cells.iloc[:, position]

    @property
    def header_line_count(self) -> int:
        return len(self.header_rows)


def _fail(file: str, line: int, message: str) -> InputError:
    return InputError(f"{file}, line {line}: {message}")


_XLSX_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _read_text(src: Source) -> tuple[str, str]:
    """Return ``(display name, decoded text)`` of a path or file-like object.

    Refuses, naming the file (no line: nothing was read): a file that cannot be opened
    or read (missing, a directory, no permission) and one that is not CSV text (UTF-16,
    an Excel workbook, other binary data).
    """
    if hasattr(src, "read"):
        name = str(getattr(src, "name", "<stream>"))
        try:
            raw = src.read()  # type: ignore[union-attr]
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {name}: {_reason(exc)}") from exc
    else:
        name = os.fspath(src)  # type: ignore[arg-type]
        try:
            with open(name, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise InputError(f"cannot read {name}: {_reason(exc)}") from exc
    kind = _binary_kind(raw)
    if kind is not None:
        raise InputError(
            f"{name} looks like {kind}, not CSV text; save it as CSV (UTF-8) and import that"
        )
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raw = raw.decode("latin-1")
    return name, raw.lstrip("\ufeff")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


def _binary_kind(raw: bytes | str) -> str | None:
    """What a non-text file looks like (``"an Excel workbook (.xlsx)"``), else None.

    Examples
    --------
    >>> _binary_kind("Date,Price\\n".encode("utf-16")), _binary_kind(b"Date,Price\\n")
    ('a UTF-16 text file', None)
    """
    if isinstance(raw, str):
        return "a binary or UTF-16 file" if "\x00" in raw[:4096] else None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "a UTF-16 text file"
    if raw.startswith(_XLSX_MAGIC):
        return "an Excel workbook (.xlsx) or another zip archive"
    if raw.startswith(_OLE2_MAGIC):
        return "an Excel 97-2003 workbook (.xls)"
    head = raw[:4096]
    if b"\x00" in head:
        # ASCII text in UTF-16 without a BOM has a NUL in every other byte
        odd_or_even = head[0::2].count(0) or head[1::2].count(0)
        if odd_or_even * 4 >= len(head):
            return "a UTF-16 text file"
        return "a binary file"
    return None


def _delimiter(first_line: str) -> str:
    if "," in first_line:
        return ","
    for sep in (";", "\t"):
        if sep in first_line:
            return sep
    return ","


def _tokenize(file: str, text: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Split ``text`` into string cells with pandas; return cells and each row's line."""
    if not text.strip():
        raise _fail(file, 1, "the file is empty; expected a header line such as 'Date,Price'")
    sep = _delimiter(text.split("\n", 1)[0])
    try:
        cells = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            sep=sep,
        )
    except pd.errors.ParserError as exc:
        raise _parser_error(file, str(exc)) from exc
    # Physical line of each record: one per record plus newlines embedded in quoted cells.
    extra = np.zeros(len(cells), dtype=np.int64)
    if '"' in text:
        extra = cells.apply(lambda c: c.str.count("\n")).sum(axis=1).to_numpy(np.int64)
    lines = 1 + np.arange(len(cells), dtype=np.int64) + np.concatenate(([0], np.cumsum(extra)[:-1]))
    _refuse_short_rows(file, text, sep, cells, lines)
    return cells, lines


def _refuse_short_rows(
    file: str, text: str, sep: str, cells: pd.DataFrame, lines: np.ndarray
) -> None:
    """Refuse a non-blank row with fewer fields than the first line.

    pandas pads such a row with empty cells, which would read as missing values; the
    field counts come from :mod:`csv` (same quoting rules), and the check is skipped if
    the two disagree on the number of records.
    """
    width = cells.shape[1]
    if width < 2:
        return
    try:
        counts = np.fromiter(
            (len(r) for r in csv.reader(io.StringIO(text), delimiter=sep)), dtype=np.int64
        )
    except csv.Error:  # pragma: no cover - pandas read it, csv could not: skip the check
        return
    if len(counts) != len(cells):
        return
    blank = (cells.apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()
    short = np.flatnonzero((counts < width) & ~blank)
    if short.size:
        k = short[0]
        raise _fail(
            file,
            int(lines[k]),
            f"expected {width} fields like the first line, saw {int(counts[k])}; "
            f"write every field (an empty one as nothing between delimiters) or fix the row",
        )


def _parser_error(file: str, text: str) -> InputError:
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if m:
        want, line, got = m.groups()
        return _fail(
            file,
            int(line),
            f"expected {want} fields like the first line, saw {got}; "
            "quote cells that contain the delimiter or fix the row",
        )
    m = re.search(r"row (\d+)", text)
    line = int(m.group(1)) + 1 if m else 1
    return _fail(file, line, f"cannot split the file into fields ({text}); check the quoting")


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _looks_like_data(cells: Sequence[str]) -> bool:
    """True when a first line is a data row rather than a header."""
    values = [c.strip() for c in cells]
    if values and any(s.regex.fullmatch(values[0]) for s in _DATE_STYLES):
        return True
    filled = [v for v in values if v]
    return bool(filled) and all(_NUMBER.fullmatch(v) for v in filled)


def _table(src: Source) -> _Table:
    """Read and tokenise ``src``; refuse an empty file or a missing header."""
    file, text = _read_text(src)
    cells, lines = _tokenize(file, text)
    first = tuple(str(c).strip() for c in cells.iloc[0])
    if _looks_like_data(first):
        raise _fail(
            file,
            int(lines[0]),
            f"the first line looks like data ({','.join(first)!r}), not a header; "
            "add a header line naming the columns, e.g. 'Date,Price'",
        )
    n_header = 3 if _is_yahoo_multi(cells) else 1
    header_rows = tuple(tuple(str(c).strip() for c in cells.iloc[i]) for i in range(n_header))
    body = cells.iloc[n_header:]
    body_lines = lines[n_header:]
    blank = (body.apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()
    body, body_lines = body.loc[~blank], body_lines[~blank]
    if body.empty:
        after = int(lines[n_header - 1]) + 1
        raise _fail(file, after, "no data rows after the header; the file holds no observations")
    body = body.reset_index(drop=True)
    body.columns = range(body.shape[1])
    header = header_rows[-1] if n_header == 1 else header_rows[0]
    if n_header == 3 and header[0].lower() == "ticker":
        header = header_rows[1]
    return _Table(file, header, header_rows, body, body_lines)


def _is_yahoo_multi(cells: pd.DataFrame) -> bool:
    if len(cells) < 3:
        return False
    firsts = [str(cells.iat[i, 0]).strip().lower() for i in range(3)]
    return sorted(firsts[:2]) == ["price", "ticker"] and firsts[2] == "date"


# ---------------------------------------------------------------------------------------
# Dates and values
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _DateStyle:
    label: str
    regex: re.Pattern[str]
    fmt: str
    date_part: bool = False  # parse only group 1 (timestamps: keep the wall-clock date)


_DATE_STYLES: tuple[_DateStyle, ...] = (
    _DateStyle("YYYY-MM-DD", re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
    _DateStyle(
        "YYYY-MM-DD HH:MM[:SS][zone]",
        re.compile(
            r"(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
        ),
        "%Y-%m-%d",
        date_part=True,
    ),
    _DateStyle("YYYY-MM", re.compile(r"\d{4}-\d{2}"), "%Y-%m"),
    _DateStyle("YYYYMmm", re.compile(r"\d{4}M\d{2}"), "%YM%m"),
    _DateStyle("YYYY/MM/DD", re.compile(r"\d{4}/\d{2}/\d{2}"), "%Y/%m/%d"),
    _DateStyle("MM/DD/YYYY", re.compile(r"\d{1,2}/\d{1,2}/\d{4}"), "%m/%d/%Y"),
)
_STYLE_LIST = ", ".join(s.label for s in _DATE_STYLES)


def _parse_dates(
    table: _Table, raw: pd.Series, lines: np.ndarray, column: str, date_format: str | None
) -> pd.DatetimeIndex:
    """Parse ``raw`` with one explicit format; refuse unknown, mixed or invalid dates."""
    text = raw.str.strip().reset_index(drop=True)
    if date_format is not None:
        fmt, parse_text, label = date_format, text, date_format
    else:
        style_idx = np.full(len(text), -1)
        for i, style in enumerate(_DATE_STYLES):
            hit = text.str.fullmatch(style.regex.pattern).to_numpy(dtype=bool)
            style_idx[hit & (style_idx < 0)] = i
        unknown = np.flatnonzero(style_idx < 0)
        if unknown.size:
            k = unknown[0]
            raise _fail(
                table.file,
                int(lines[k]),
                f"cannot read the date {text.iat[k]!r} in column {column!r}; "
                f"expected one of {_STYLE_LIST}, or pass date_format=",
            )
        first = _DATE_STYLES[style_idx[0]]
        other = np.flatnonzero(style_idx != style_idx[0])
        if other.size:
            k = other[0]
            raise _fail(
                table.file,
                int(lines[k]),
                f"mixed date formats in column {column!r}: {text.iat[k]!r} here is "
                f"{_DATE_STYLES[style_idx[k]].label} but line {int(lines[0])} has "
                f"{text.iat[0]!r} ({first.label}); use one format for the whole file",
            )
        fmt, label = first.fmt, first.label
        parse_text = text.str.extract(first.regex, expand=False) if first.date_part else text
        if isinstance(parse_text, pd.DataFrame):  # pragma: no cover - one group only
            parse_text = parse_text.iloc[:, 0]
    parsed = pd.to_datetime(parse_text, format=fmt, errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        k = bad[0]
        raise _fail(
            table.file,
            int(lines[k]),
            f"invalid date {text.iat[k]!r} in column {column!r} (format {label}); "
            "fix the date or pass date_format=",
        )
    days = parsed.dt.normalize()
    outside = np.flatnonzero(
        ((days < pd.Timestamp(MIN_DATE)) | (days > pd.Timestamp(MAX_DATE))).to_numpy()
    )
    if outside.size:
        k = outside[0]
        raise _fail(
            table.file,
            int(lines[k]),
            f"date {text.iat[k]!r} in column {column!r} is outside the supported range "
            f"{MIN_DATE} to {MAX_DATE}; fix the date",
        )
    return pd.DatetimeIndex(parsed)


def _parse_values(table: _Table, raw: pd.Series, lines: np.ndarray, column: str) -> np.ndarray:
    """Return float64 values; missing markers become NaN, other text is refused."""
    text = raw.str.strip().reset_index(drop=True)
    missing = text.str.lower().isin(MISSING_MARKERS).to_numpy(dtype=bool)
    nums = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype="float64")
    bad = np.flatnonzero(~missing & ~np.isfinite(nums))
    if bad.size:
        k = bad[0]
        raise _fail(
            table.file,
            int(lines[k]),
            f"non-numeric value {text.iat[k]!r} in column {column!r}; write a plain "
            f"number (no thousands separator) or a missing marker such as '.', 'NA' or ''",
        )
    return nums


def _refuse_duplicates(
    table: _Table, index: pd.DatetimeIndex, lines: np.ndarray, hint: str = ""
) -> None:
    dup = np.flatnonzero(index.duplicated(keep="first"))
    if dup.size:
        k = dup[0]
        j = int(np.flatnonzero(index == index[k])[0])
        raise _fail(
            table.file,
            int(lines[k]),
            f"duplicate date {index[k].date()}: also on line {int(lines[j])}{hint}",
        )


# ---------------------------------------------------------------------------------------
# Format detection and per-format column plans
# ---------------------------------------------------------------------------------------

_TIDY_DATE_NAMES = ("date", "month", "period", "time_period", "observation_date", "week", "time")
_TIDY_VALUE_NAMES = ("value", "obs_value")
_TIDY_UNIT_NAMES = ("unit", "units", "unit_measure")
_OHLC = ("open", "high", "low", "close")

_EXPECTED_HEADERS = (
    "FRED 'observation_date,<ID>' (or 'DATE,<ID>'); EIA 'Date,Price'; "
    "OHLC 'DATE,OPEN,HIGH,LOW,CLOSE'; Yahoo 'Date,Open,High,Low,Close,Volume' or the "
    "3-line yfinance header 'Price,...'/'Ticker,...'/'Date,...'; tidy '<date>,...,value' "
    "(date column one of " + ", ".join(_TIDY_DATE_NAMES) + "); tanker exports (Kpler, Vortexa)"
)


def _find(header: Sequence[str], wanted: str) -> int | None:
    low = [h.strip().lower() for h in header]
    w = wanted.strip().lower()
    return low.index(w) if w in low else None


def _first_of(header: Sequence[str], names: Sequence[str]) -> int | None:
    for n in names:
        i = _find(header, n)
        if i is not None:
            return i
    return None


def _require(table: _Table, wanted: str, role: str, expected: str) -> int:
    i = _find(table.header, wanted)
    if i is None:
        found = ", ".join(repr(h) for h in table.header)
        raise _fail(
            table.file,
            table.header_line_count,
            f"no {role} column {wanted!r}; columns found: {found}; expected {expected}",
        )
    return i


def _detect(table: _Table, date_column: str | None, value_column: str | None) -> str:
    if table.header_line_count == 3:
        return "yahoo"
    low = [h.lower() for h in table.header]
    if _match_tanker(table.header) is not None:
        return "tanker"
    if all(c in low for c in _OHLC):
        return "yahoo" if ("volume" in low or "adj close" in low) else "ohlc"
    if low == ["date", "price"]:
        return "eia"
    if len(low) >= 2 and (low[0] == "observation_date" or table.header[0] == "DATE"):
        return "fred"
    has_date = date_column is not None or _first_of(table.header, _TIDY_DATE_NAMES) is not None
    has_value = value_column is not None or _first_of(table.header, _TIDY_VALUE_NAMES) is not None
    if has_date and has_value:
        return "tidy"
    found = ", ".join(repr(h) for h in table.header)
    raise _fail(
        table.file,
        1,
        f"unrecognised header (columns found: {found}); expected one of: {_EXPECTED_HEADERS}; "
        "or pass fmt='tidy' with date_column= and value_column=",
    )


def detect_format(path: Source) -> str:
    """Return the format of a file, recognised from its header.

    Parameters
    ----------
    path : str, path-like or file-like
        The file to inspect.

    Returns
    -------
    str
        One of :data:`FORMATS`: ``"fred"`` (``observation_date,<ID>`` or ``DATE,<ID>``),
        ``"eia"`` (``Date,Price``), ``"ohlc"`` (``DATE,OPEN,HIGH,LOW,CLOSE``), ``"yahoo"``
        (a yfinance CSV export, 3-line MultiIndex header or flat with ``Volume``),
        ``"tidy"`` (a date column, a ``value`` column, key columns) or ``"tanker"``
        (Kpler/Vortexa cargo exports, or ``date,origin,destination,volume[,unit]``).

    Raises
    ------
    InputError
        Empty file, a first line that is data, or an unrecognised header.

    Examples
    --------
    >>> import io
    >>> detect_format(io.StringIO("DATE,OPEN,HIGH,LOW,CLOSE\\n1990-01-02,17,17,17,17\\n"))
    'ohlc'
    >>> detect_format(io.StringIO("month,imf_key,flow,value,unit\\n2010-01,K,f,1.0,USD\\n"))
    'tidy'
    """
    return _detect(_table(path), None, None)


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where to find dates and values in a table, and which rows to keep."""

    date_col: int
    value_col: int
    filters: dict[int, str] = field(default_factory=dict)
    source_id: str | None = None
    unit_col: int | None = None


def _date_col(table: _Table, date_column: str | None, default: int = 0) -> int:
    if date_column is None:
        return default
    return _require(table, date_column, "date", "the date_column you passed")


def _plan_fred(table: _Table, column: str | None, date_column: str | None) -> _Plan:
    ids = list(table.header[1:])
    if column is None:
        if len(ids) != 1:
            raise _fail(
                table.file,
                1,
                f"the file holds {len(ids)} FRED series ({', '.join(ids)}); "
                "pass column= with the one to import",
            )
        column = ids[0]
    i = _require(table, column, "FRED series", "one of " + ", ".join(ids))
    return _Plan(_date_col(table, date_column), i, source_id=table.header[i])


def _plan_wide(
    table: _Table, column: str | None, date_column: str | None, default: str, expected: str
) -> _Plan:
    i = _require(table, column or default, "value", expected)
    return _Plan(_date_col(table, date_column), i)


def _plan_yahoo(
    table: _Table, column: str | None, date_column: str | None, filters: Mapping[str, str]
) -> _Plan:
    field_name = column or "Close"
    if table.header_line_count == 1:
        plan = _plan_wide(table, field_name, date_column, "Close", "Date,Open,High,Low,Close")
        return plan
    rows = {r[0].lower(): r for r in table.header_rows[:2]}
    fields, tickers = rows["price"], rows["ticker"]
    unknown = set(filters) - {"Ticker", "ticker"}
    if unknown:
        raise _fail(
            table.file, 2, f"a Yahoo export can only be filtered on 'Ticker', got {sorted(unknown)}"
        )
    wanted = filters.get("Ticker", filters.get("ticker"))
    line = 1 if table.header_rows[0][0].lower() == "price" else 2
    cands = [i for i in range(1, len(fields)) if fields[i].lower() == field_name.lower()]
    if not cands:
        avail = ", ".join(sorted(set(fields[1:])))
        raise _fail(table.file, line, f"no price field {field_name!r}; fields found: {avail}")
    if wanted is not None:
        cands = [i for i in cands if tickers[i] == wanted]
        if not cands:
            avail = ", ".join(sorted(set(tickers[1:])))
            raise _fail(table.file, 3 - line, f"no ticker {wanted!r}; tickers found: {avail}")
    if len(cands) > 1:
        avail = ", ".join(tickers[i] for i in cands)
        raise _fail(
            table.file,
            3 - line,
            f"the file holds several tickers ({avail}); pass filters={{'Ticker': ...}}",
        )
    return _Plan(_date_col(table, date_column), cands[0], source_id=tickers[cands[0]])


def _plan_tidy(
    table: _Table,
    date_column: str | None,
    value_column: str | None,
    filters: Mapping[str, str],
) -> _Plan:
    if date_column is None:
        d = _first_of(table.header, _TIDY_DATE_NAMES)
        if d is None:
            d = _require(table, "date", "date", "one of " + ", ".join(_TIDY_DATE_NAMES))
    else:
        d = _require(table, date_column, "date", "the date_column you passed")
    if value_column is None:
        v = _first_of(table.header, _TIDY_VALUE_NAMES)
        if v is None:
            v = _require(table, "value", "value", "one of " + ", ".join(_TIDY_VALUE_NAMES))
    else:
        v = _require(table, value_column, "value", "the value_column you passed")
    cols = {
        _require(table, k, "filter", "a key column of the file"): str(val)
        for k, val in filters.items()
    }
    source_id = ",".join(f"{k}={val}" for k, val in filters.items()) or None
    return _Plan(d, v, cols, source_id, _first_of(table.header, _TIDY_UNIT_NAMES))


def _key_columns(table: _Table, plan: _Plan) -> list[int]:
    skip = {plan.date_col, plan.value_col, plan.unit_col}
    return [i for i in range(len(table.header)) if i not in skip]


def _apply_filters(table: _Table, plan: _Plan) -> np.ndarray:
    """Return the row positions matching every filter; refuse a filter matching nothing."""
    keep = np.ones(len(table.cells), dtype=bool)
    for col, value in plan.filters.items():
        cells = table.col(col).str.strip()
        hit = (cells == value.strip()).to_numpy(dtype=bool)
        if not (keep & hit).any():
            avail = sorted(set(cells[keep].tolist()))
            shown = ", ".join(repr(a) for a in avail[:20]) + (" ..." if len(avail) > 20 else "")
            raise _fail(
                table.file,
                int(table.lines[0]),
                f"filter {table.header[col]}={value!r} matches no data row "
                f"(lines {int(table.lines[0])}-{int(table.lines[-1])}); values found: {shown}",
            )
        keep &= hit
    return np.flatnonzero(keep)


def _duplicate_hint(table: _Table, plan: _Plan, rows: np.ndarray) -> str:
    keys = [c for c in _key_columns(table, plan) if c not in plan.filters]
    parts = []
    for c in keys:
        vals = sorted(set(table.col(c).iloc[rows].str.strip()))
        if 1 < len(vals) <= 20:
            parts.append(f"{table.header[c]} ({' | '.join(vals)})")
    if not parts:
        return "; each date may appear once"
    return "; the file holds several series: pass filters= on one of " + "; ".join(parts)


def _file_unit(table: _Table, plan: _Plan, rows: np.ndarray) -> str | None:
    if plan.unit_col is None:
        return None
    units = table.col(plan.unit_col).iloc[rows].str.strip()
    distinct = units.unique()
    if len(distinct) > 1:
        k = int(np.flatnonzero((units != units.iat[0]).to_numpy())[0])
        raise _fail(
            table.file,
            int(table.lines[rows[k]]),
            f"unit {units.iat[k]!r} differs from {units.iat[0]!r} on line "
            f"{int(table.lines[rows[0]])}; filter on column {table.header[plan.unit_col]!r}",
        )
    return str(distinct[0]) or None


def _extract(
    table: _Table,
    plan: _Plan,
    *,
    name: str,
    fmt: str,
    unit: str | None,
    date_format: str | None,
) -> ImportedSeries:
    rows = _apply_filters(table, plan)
    lines = table.lines[rows]
    date_name = table.header[plan.date_col] or "date"
    value_name = table.header[plan.value_col] or "value"
    index = _parse_dates(table, table.col(plan.date_col).iloc[rows], lines, date_name, date_format)
    values = _parse_values(table, table.col(plan.value_col).iloc[rows], lines, value_name)
    hint = _duplicate_hint(table, plan, rows) if fmt == "tidy" else ""
    _refuse_duplicates(table, index, lines, hint)
    file_unit = _file_unit(table, plan, rows)
    series = to_series_frame(values, index, name).sort_index()
    return ImportedSeries(
        series=series,
        source_file=table.file,
        format=fmt,
        unit=unit if unit is not None else file_unit,
        source_id=plan.source_id,
        rows=len(rows),
        value_column=value_name,
    )


def read_series_file(
    path: Source,
    *,
    name: str,
    fmt: FileFormat | Literal["auto"] = "auto",
    column: str | None = None,
    date_column: str | None = None,
    value_column: str | None = None,
    filters: Mapping[str, str] | None = None,
    unit: str | None = None,
    date_format: str | None = None,
) -> ImportedSeries:
    """Read one named series from a CSV export.

    Parameters
    ----------
    path : str, path-like or file-like
        The file (UTF-8, a BOM is ignored; ``,``, ``;`` or tab separated).
    name : str
        Registry name given to the series (``"brent"``).
    fmt : {"auto", "fred", "eia", "ohlc", "yahoo", "tidy", "tanker"}
        ``"auto"`` recognises the format from the header (see :func:`detect_format`).
        ``"tanker"`` delegates to :func:`read_tanker_export` with its defaults
        (``filters`` keys ``origin``/``destination`` are passed on).
    column : str, optional
        The value column of a wide file: the FRED id (required when the file holds
        several), the OHLC/Yahoo field (default the close: ``CLOSE``/``Close``; pass
        ``"Adj Close"`` for Yahoo's adjusted close) or ``Price`` for EIA.
    date_column, value_column : str, optional
        Override the date column (any format) and the value column (tidy default
        ``value`` or ``OBS_VALUE``). ``column`` and ``value_column`` are aliases; the
        first given wins. Column names match case-insensitively.
    filters : mapping of str to str, optional
        Tidy files: keep rows whose key column equals the value (``{"eia_product_id":
        "57"}``); the filter becomes ``source_id``. Yahoo exports with several tickers:
        ``{"Ticker": "CL=F"}``.
    unit : str, optional
        The unit to record; default the file's ``unit`` column when it has one.
    date_format : str, optional
        An explicit ``strptime`` format for the dates (e.g. ``"%d/%m/%Y"``). By default
        the style is recognised per file from YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS][zone]
        (the date part is kept), YYYY-MM, YYYYMmm, YYYY/MM/DD and MM/DD/YYYY.

    Returns
    -------
    ImportedSeries
        The series (float64, ``DatetimeIndex`` named ``"date"``, monthly dates on the
        first of the month, sorted) and its metadata.

    Raises
    ------
    InputError
        The message names the file and the 1-based line (header = line 1): empty file,
        missing header, unknown column (with the columns found and expected), several
        FRED ids without ``column=``, duplicate dates (both lines), non-numeric values,
        mixed or unparseable dates, a filter matching no row (with the values found).

    Notes
    -----
    ``.``, empty, ``NA``, ``N/A``, ``#N/A``, ``-``, ``--``, ``x``, ``null``, ``nan`` and
    ``none`` are missing markers and become NaN (FRED's holiday rows, JODI's ``-``); they
    are kept as NaN rows because the provider lists the period. Rows are sorted by date.

    Examples
    --------
    >>> import io
    >>> csv = io.StringIO("month,eia_product_id,value,unit\\n"
    ...                   "2026-03,53,1100.5,kb/d\\n2026-03,57,1060,kb/d\\n"
    ...                   "2026-04,57,1100,kb/d\\n")
    >>> got = read_series_file(csv, name="ve_crude", filters={"eia_product_id": "57"})
    >>> got.series
    date
    2026-03-01    1060.0
    2026-04-01    1100.0
    Name: ve_crude, dtype: float64
    >>> got.source_id, got.unit
    ('eia_product_id=57', 'kb/d')
    """
    filters = dict(filters or {})
    table = _table(path)
    detected = _detect(table, date_column, value_column) if fmt == "auto" else fmt
    if detected not in FORMATS:
        raise InputError(f"{table.file}, line 1: unknown format {fmt!r}; use one of {FORMATS}")
    if detected == "tanker":
        return _tanker_from_table(
            table,
            name=name,
            origin=filters.get("origin", "Venezuela"),
            destination=filters.get("destination"),
            date_format=date_format,
        )
    if detected != "tidy":
        column = column or value_column
    if filters and detected not in ("tidy", "yahoo"):
        raise _fail(
            table.file,
            1,
            f"filters= applies to tidy files and Yahoo tickers, not to a {detected} file; "
            "drop filters= or pass fmt='tidy'",
        )
    if detected == "fred":
        plan = _plan_fred(table, column, date_column)
    elif detected == "eia":
        plan = _plan_wide(table, column, date_column, "Price", "Date,Price")
    elif detected == "ohlc":
        plan = _plan_wide(table, column, date_column, "CLOSE", "DATE,OPEN,HIGH,LOW,CLOSE")
    elif detected == "yahoo":
        plan = _plan_yahoo(table, column, date_column, filters)
    else:
        plan = _plan_tidy(table, date_column, value_column or column, filters)
    return _extract(table, plan, name=name, fmt=detected, unit=unit, date_format=date_format)


# ---------------------------------------------------------------------------------------
# Tanker (cargo-by-cargo) exports
# ---------------------------------------------------------------------------------------

_CANONICAL = ("date", "origin", "destination", "volume", "unit")


@dataclass(frozen=True, slots=True)
class _TankerLayout:
    preset: str
    columns: Mapping[str, str]  # canonical name -> vendor column
    unit: str | None  # unit of ``volume`` when the file has no unit column


_VORTEXA_LOAD = "events.cargo_port_load_event.0"
_VORTEXA_UNLOAD = "events.cargo_port_unload_event.0"
_TANKER_LAYOUTS: tuple[_TankerLayout, ...] = (
    _TankerLayout(
        "kpler",
        {
            "date": "Date (origin)",
            "origin": "Origin",
            "destination": "Destination",
            "volume": "Volume (origin m3)",
        },
        "m3",
    ),
    _TankerLayout(
        "kpler",
        {
            "date": "start",
            "origin": "origin_country_name",
            "destination": "destination_country_name",
            "volume": "cargo_origin_cubic_meters",
        },
        "m3",
    ),
    _TankerLayout(
        "vortexa",
        {
            "date": f"{_VORTEXA_LOAD}.end_timestamp",
            "origin": f"{_VORTEXA_LOAD}.location.country.label",
            "destination": f"{_VORTEXA_UNLOAD}.location.country.label",
            "volume": "quantity",
        },
        "t",
    ),
    _TankerLayout(
        "vortexa",
        {
            "date": f"{_VORTEXA_LOAD}.end_timestamp",
            "origin": f"{_VORTEXA_LOAD}.location.port.label",
            "destination": f"{_VORTEXA_UNLOAD}.location.port.label",
            "volume": "quantity",
        },
        "t",
    ),
    _TankerLayout("canonical", {c: c for c in _CANONICAL}, None),
)


def _match_tanker(header: Sequence[str], preset: str | None = None) -> _TankerLayout | None:
    for layout in _TANKER_LAYOUTS:
        if preset is not None and layout.preset != preset:
            continue
        required = [layout.columns[k] for k in ("date", "origin", "volume")]
        if all(_find(header, c) is not None for c in required):
            return layout
    return None


def _tanker_columns(
    table: _Table, preset: str | None, mapping: Mapping[str, str] | None
) -> tuple[dict[str, int], str | None, str]:
    """Resolve canonical name -> column position, the preset's unit and its label."""
    if mapping:
        unknown = set(mapping) - set(_CANONICAL)
        if unknown:
            raise InputError(
                f"{table.file}, line 1: mapping keys must be among {_CANONICAL}, got {sorted(unknown)}"
            )
    layout = _match_tanker(table.header, preset)
    if layout is None and preset is not None:
        layout = next(t for t in _TANKER_LAYOUTS if t.preset == preset)
    elif layout is None:
        layout = _TANKER_LAYOUTS[-1]
    names = {**layout.columns, **(mapping or {})}
    expected = (
        f"preset {layout.preset!r} columns "
        + ", ".join(repr(names[k]) for k in names)
        + " (or pass mapping={'date': ..., 'origin': ..., 'volume': ...})"
    )
    cols: dict[str, int] = {}
    for key, col in names.items():
        i = _find(table.header, col)
        if i is None and (key in ("date", "origin", "volume") or key in (mapping or {})):
            _require(table, col, key, expected)
        if i is not None:
            cols[key] = i
    return cols, layout.unit, layout.preset


def _barrels_per_unit(
    table: _Table, units: pd.Series, lines: np.ndarray, bbl_per_tonne: float
) -> np.ndarray:
    factors = {"bbl": 1.0, "kbbl": 1000.0, "m3": M3_TO_BBL, "t": bbl_per_tonne}
    canon = units.str.strip().str.lower().map(_UNIT_ALIASES)
    bad = np.flatnonzero(canon.isna().to_numpy())
    if bad.size:
        k = bad[0]
        raise _fail(
            table.file,
            int(lines[k]),
            f"unknown volume unit {units.iat[k]!r}; use one of bbl, kbbl, m3, t "
            "(or pass volume_unit=)",
        )
    return canon.map(factors).to_numpy(dtype="float64")


def _periods(dates: pd.DatetimeIndex, frequency: str) -> pd.DatetimeIndex:
    if frequency == "monthly":
        return dates.to_period("M").to_timestamp()
    if frequency == "weekly":
        return dates.to_period("W-SUN").end_time.normalize()
    return dates.normalize()


def _period_range(first: pd.Timestamp, last: pd.Timestamp, frequency: str) -> pd.DatetimeIndex:
    freq = {"monthly": "MS", "weekly": "W-SUN", "daily": "D"}[frequency]
    return pd.date_range(first, last, freq=freq)


def _days(periods: pd.DatetimeIndex, frequency: str) -> np.ndarray:
    if frequency == "monthly":
        return np.asarray(periods.days_in_month, dtype="float64")
    return np.full(len(periods), 7.0 if frequency == "weekly" else 1.0)


def _match_place(cells: pd.Series, wanted: str | None) -> np.ndarray:
    if wanted is None:
        return np.ones(len(cells), dtype=bool)
    return (cells.str.strip().str.lower() == wanted.strip().lower()).to_numpy(dtype=bool)


def _refuse_no_match(table: _Table, cells: pd.Series, role: str, wanted: str) -> InputError:
    avail = sorted(set(cells.str.strip()))
    shown = ", ".join(repr(a) for a in avail[:30]) + (" ..." if len(avail) > 30 else "")
    return _fail(
        table.file,
        int(table.lines[0]),
        f"{role}={wanted!r} matches no cargo (lines {int(table.lines[0])}-"
        f"{int(table.lines[-1])}); {role} values found: {shown}",
    )


def _edge_notes(dates: pd.DatetimeIndex, grid: pd.DatetimeIndex, frequency: str) -> list[str]:
    if frequency == "daily" or grid.empty:
        return []
    notes = []
    start, end = dates.min(), dates.max()
    last_day = grid[-1] if frequency == "weekly" else grid[-1] + pd.offsets.MonthEnd(0)
    first_day = grid[0] - pd.Timedelta(days=6) if frequency == "weekly" else grid[0]
    if start > first_day:
        notes.append(
            f"first period {grid[0].date()} is only covered from {start.date()} by the file"
        )
    if end < last_day:
        notes.append(f"last period {grid[-1].date()} is only covered to {end.date()} by the file")
    return notes


def _tanker_from_table(
    table: _Table,
    *,
    name: str,
    mapping: Mapping[str, str] | None = None,
    origin: str | None = "Venezuela",
    destination: str | None = None,
    frequency: str = "monthly",
    preset: str | None = None,
    volume_unit: str | None = None,
    bbl_per_tonne: float = DEFAULT_BBL_PER_TONNE,
    date_format: str | None = None,
) -> ImportedSeries:
    if frequency not in get_args(TankerFrequency):
        raise InputError(
            f"{table.file}, line 1: frequency must be one of {get_args(TankerFrequency)}, got {frequency!r}"
        )
    if preset is not None and preset not in TANKER_PRESETS:
        raise InputError(
            f"{table.file}: unknown preset {preset!r}; valid presets: 'kpler' (Kpler terminal "
            "CSV or Kpler SDK column ids), 'vortexa' (Vortexa SDK cargo movements); or leave "
            "preset= out to recognise the columns from the header, or pass mapping="
        )
    cols, preset_unit, preset_name = _tanker_columns(table, preset, mapping)
    if destination is not None and "destination" not in cols:
        _require(
            table,
            (mapping or {}).get("destination", "destination"),
            "destination",
            "a destination column (mapping={'destination': ...})",
        )
    all_dates = _parse_dates(
        table, table.col(cols["date"]), table.lines, table.header[cols["date"]], date_format
    )
    keep = _match_place(table.col(cols["origin"]), origin)
    if origin is not None and not keep.any():
        raise _refuse_no_match(table, table.col(cols["origin"]), "origin", origin)
    if destination is not None:
        dest = table.col(cols["destination"])
        keep = keep & _match_place(dest, destination)
        if not keep.any():
            raise _refuse_no_match(table, dest, "destination", destination)
    rows = np.flatnonzero(keep)
    lines = table.lines[rows]
    volume = _parse_values(
        table, table.col(cols["volume"]).iloc[rows], lines, table.header[cols["volume"]]
    )
    if volume_unit is not None:
        units = pd.Series([volume_unit] * len(rows), dtype="str")
    elif "unit" in cols:
        units = table.col(cols["unit"]).iloc[rows].reset_index(drop=True)
    elif preset_unit is not None:
        units = pd.Series([preset_unit] * len(rows), dtype="str")
    else:
        raise _fail(
            table.file,
            1,
            "the volume unit is unknown: add a 'unit' column or pass volume_unit= "
            "('bbl', 'kbbl', 'm3' or 't')",
        )
    barrels = volume * _barrels_per_unit(table, units, lines, bbl_per_tonne)
    periods = _periods(all_dates[rows], frequency)
    span = _periods(all_dates, frequency)
    grid = _period_range(span.min(), span.max(), frequency)
    frame = pd.DataFrame({"period": periods, "bbl": barrels})
    total = frame.groupby("period")["bbl"].sum().reindex(grid, fill_value=0.0)
    unknown = frame.loc[frame["bbl"].isna(), "period"].unique()
    total.loc[total.index.isin(unknown)] = np.nan
    kbd = total.to_numpy(dtype="float64") / _days(grid, frequency) / 1000.0
    notes = _edge_notes(all_dates, grid, frequency)
    if len(unknown):
        notes.append(f"{len(unknown)} period(s) are NaN: a matching cargo has no volume")
    place = ", ".join(
        f"{k}={v}" for k, v in (("origin", origin), ("destination", destination)) if v is not None
    )
    series = to_series_frame(kbd, grid, name)
    series.index.freq = None  # plain index, like every other parser's output
    return ImportedSeries(
        series=series,
        source_file=table.file,
        format="tanker",
        unit="kb/d",
        source_id=f"{preset_name}: {place}" if place else preset_name,
        rows=len(rows),
        value_column=table.header[cols["volume"]],
        notes=tuple(notes),
    )


def read_tanker_export(
    path: Source,
    *,
    name: str,
    mapping: Mapping[str, str] | None = None,
    origin: str | None = "Venezuela",
    destination: str | None = None,
    frequency: TankerFrequency = "monthly",
    preset: TankerPreset | None = None,
    volume_unit: str | None = None,
    bbl_per_tonne: float = DEFAULT_BBL_PER_TONNE,
    date_format: str | None = None,
) -> ImportedSeries:
    """Aggregate a cargo-by-cargo export into a flow series in thousand barrels per day.

    Parameters
    ----------
    path : str, path-like or file-like
        The vendor export, one row per cargo.
    name : str
        Registry name given to the series (``"ve_exports"``).
    mapping : mapping of str to str, optional
        Canonical name -> column of the file, for any of ``date, origin, destination,
        volume, unit``; overrides the preset's columns.
    origin, destination : str or None
        Keep cargoes whose origin (and destination) equals this, case-insensitively.
        ``origin=None`` keeps every origin.
    frequency : {"monthly", "weekly", "daily"}
        Period of the output. Monthly periods are dated on the first of the month;
        weekly periods run Monday-Sunday and are dated on the Sunday that ends them
        (``W-SUN``); daily periods on the day.
    preset : {"kpler", "vortexa"} or None
        Column names of the vendor (default: recognised from the header); any other
        name is refused (:data:`TANKER_PRESETS`):

        * ``kpler``: terminal CSV ``Date (origin)``, ``Origin``, ``Destination``,
          ``Volume (origin m3)``, or SDK ids ``start``, ``origin_country_name``,
          ``destination_country_name``, ``cargo_origin_cubic_meters``; volume in m3.
        * ``vortexa``: ``CargoMovements().search(...).to_df()`` columns
          ``events.cargo_port_load_event.0.end_timestamp``, the load/unload event's
          ``location.country.label`` (else ``location.port.label``) and ``quantity``,
          in tonnes (the SDK's default unit).

        Without a preset match, the canonical ``date, origin, destination, volume, unit``.
    volume_unit : {"bbl", "kbbl", "m3", "t"}, optional
        Unit of the volume column; overrides the file's ``unit`` column and the preset.
    bbl_per_tonne : float, default 7.33
        Barrels per metric tonne used for tonnes (:data:`DEFAULT_BBL_PER_TONNE`, a
        medium crude; about 6.7 suits heavy Venezuelan Merey 16).
    date_format : str, optional
        Explicit ``strptime`` format of the date column; timestamps keep their date.

    Returns
    -------
    ImportedSeries
        ``unit="kb/d"``; ``series`` = barrels loaded in the period / days in the period /
        1000. ``notes`` flags partially covered edge periods and NaN periods.

    Raises
    ------
    InputError
        Naming the file and line: missing columns (with the columns found and the
        expected ones), an unknown unit, non-numeric volumes, bad or mixed dates, an
        origin or destination matching no cargo (with the values found).

    Notes
    -----
    Conversion to barrels: m3 x 6.2898, tonnes x ``bbl_per_tonne``, kbbl x 1000.

    *Zero versus missing.* The file's span is the period of its earliest cargo date to
    the period of its latest (all rows, any origin). A period inside that span with no
    matching cargo is a true **zero** (the export covers it and lists no cargo); periods
    outside the span are **absent** (the file says nothing about them). The edge periods
    may be covered only in part (the export's query window is not in the file), which
    understates their rate: ``notes`` says so, and you may drop them. A period where a
    matching cargo has a missing volume is NaN, not a partial sum.

    Examples
    --------
    >>> import io
    >>> csv = io.StringIO("Date (origin),Origin,Destination,Volume (origin m3)\\n"
    ...                   "2025-11-03,Venezuela,China,100000\\n"
    ...                   "2025-11-20,Venezuela,China,55000\\n"
    ...                   "2026-01-31,Colombia,USA,80000\\n")
    >>> got = read_tanker_export(csv, name="ve_exports")
    >>> got.series.round(3)
    date
    2025-11-01    32.497
    2025-12-01     0.000
    2026-01-01     0.000
    Name: ve_exports, dtype: float64
    >>> round(155000 * 6.2898 / 30 / 1000, 3)
    32.497
    """
    return _tanker_from_table(
        _table(path),
        name=name,
        mapping=mapping,
        origin=origin,
        destination=destination,
        frequency=frequency,
        preset=preset,
        volume_unit=volume_unit,
        bbl_per_tonne=bbl_per_tonne,
        date_format=date_format,
    )
