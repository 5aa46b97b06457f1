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

import codecs
import contextlib
import csv
import hashlib
import io
import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Literal, get_args

import numpy as np
import pandas as pd

from ..errors import FileValidationError, InputError, OilImpactError
from ..frames import MAX_DATE, MIN_DATE, MISSING_MARKERS, to_series_frame

if TYPE_CHECKING:
    from ..series import SeriesSpec

__all__ = [
    "DEFAULT_BBL_PER_TONNE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_COLUMNS",
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
DateLike = str | pd.Timestamp | np.datetime64 | None

#: Largest file read by default (100 MiB); ``max_bytes=`` (CLI ``--max-size``) raises it.
#: The daily price files of ``../shared/data/real`` are under 1 MiB; a decade of
#: cargo-by-cargo tanker exports is a few tens of MiB.
DEFAULT_MAX_BYTES = 100 * 2**20
#: Most columns read by default; a wider first line is refused before parsing.
DEFAULT_MAX_COLUMNS = 10_000

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
    sha256 : str or None
        SHA-256 (hex) of the file's bytes (None for a text stream); the store keeps it
        per vintage as ``meta["file_sha256"]``.
    """

    series: pd.Series
    source_file: str
    format: str
    unit: str | None
    source_id: str | None
    rows: int
    value_column: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    sha256: str | None = None


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
    sha256: str | None = None  # of the file's bytes (None for a text stream)

    def col(self, position: int) -> pd.Series:
        return self.cells.iloc[:, position]

    @property
    def header_line_count(self) -> int:
        return len(self.header_rows)


def _fail(file: str, line: int, message: str) -> InputError:
    return InputError(f"{file}, line {line}: {message}")


_XLSX_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind_of(mode: int) -> str:
    return next((label for test, label in _KINDS if test(mode)), "not a regular file")


def _size_text(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{n:,} bytes"


def _too_big(name: str, size: int | None, max_bytes: int) -> InputError:
    got = f"is {_size_text(size)}" if size is not None else "is larger than that"
    return InputError(
        f"{name} {got}, over the size limit of {_size_text(max_bytes)}; if the file is "
        f"right, raise the limit (--max-size, Python: max_bytes=)"
    )


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_open_fd = os.open  # indirection for the tests (a permission error as root)


def _read_bytes(name: str, max_bytes: int) -> bytes:
    """Read a path, refusing non-regular files before opening them and files over the limit.

    ``os.stat`` comes first, so a FIFO with no writer or a device is refused without
    being opened; the file is then opened non-blocking and checked again with
    ``fstat`` (it may have been replaced in between), and at most ``max_bytes + 1``
    bytes are read (it may be growing).
    """
    try:
        st = os.stat(name)
    except OSError as exc:
        raise InputError(f"cannot read {name}: {_reason(exc)}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            f"cannot read {name}: it is {_kind_of(st.st_mode)}, not a regular file; "
            f"import a CSV file saved on disk"
        )
    if st.st_size > max_bytes:
        raise _too_big(name, st.st_size, max_bytes)
    try:
        fd = _open_fd(name, _OPEN_FLAGS)
    except OSError as exc:
        raise InputError(f"cannot read {name}: {_reason(exc)}") from exc
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"cannot read {name}: it is {_kind_of(mode)}, not a regular file")
        try:
            raw = fh.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(f"cannot read {name}: {_reason(exc)}") from exc
    if len(raw) > max_bytes:
        raise _too_big(name, None, max_bytes)
    return raw


def _read_text(
    src: Source, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[str, bytes, str, str | None]:
    """Return ``(display name, bytes, encoding, SHA-256 of the bytes or None)`` of ``src``.

    The text is not decoded here (a decoded copy, and a ``StringIO`` of it, would cost
    up to five times the file): the encoding is ``utf-8-sig`` when the bytes are valid
    UTF-8, else ``latin-1``; a text stream is encoded to UTF-8.

    Refuses, naming the file (no line: nothing was read): a file that cannot be opened
    or read (missing, no permission), one that is not a regular file (a directory, a
    FIFO, a device: refused before it is opened, so nothing blocks), one over
    ``max_bytes``, and one that is not CSV text (UTF-16, an Excel workbook, other binary
    data).
    """
    if max_bytes < 1:
        raise InputError(f"max_bytes must be at least 1, got {max_bytes}")
    if hasattr(src, "read"):
        name = str(getattr(src, "name", "<stream>"))
        try:
            raw = src.read(max_bytes + 1)  # type: ignore[union-attr]
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {name}: {_reason(exc)}") from exc
        if len(raw) > max_bytes:
            raise _too_big(name, None, max_bytes)
    else:
        name = os.fspath(src)  # type: ignore[arg-type]
        raw = _read_bytes(name, max_bytes)
    kind = _binary_kind(raw)
    if kind is not None:
        raise InputError(
            f"{name} looks like {kind}, not CSV text; save it as CSV (UTF-8) and import that"
        )
    if isinstance(raw, str):
        return name, raw.lstrip("\ufeff").encode("utf-8"), "utf-8", None
    digest = hashlib.sha256(raw).hexdigest()
    encoding = "utf-8-sig" if _is_utf8(raw) else "latin-1"
    return name, raw, encoding, digest


def _is_utf8(raw: bytes, chunk: int = 2**20) -> bool:
    """True when ``raw`` decodes as UTF-8 (checked by 1 MiB pieces: no full decoded copy)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(raw)
    try:
        for i in range(0, len(raw), chunk):
            decoder.decode(view[i : i + chunk])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


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


def _show_columns(header: Sequence[str], limit: int = 8) -> str:
    """The first ``limit`` column names (quoted) and how many more there are."""
    shown = ", ".join(repr(h) for h in header[:limit])
    return shown + (f", ... ({len(header):,} columns in all)" if len(header) > limit else "")


def _listing(items: Sequence[str], limit: int = 12) -> str:
    """``a, b, c, ... (N in all)``: at most ``limit`` items of a list for a message."""
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items):,} in all)" if len(items) > limit else "")


def _refuse_wide(file: str, first_line: str, sep: str, max_columns: int) -> None:
    """Refuse a first line of more than ``max_columns`` fields before parsing the file."""
    if first_line.count(sep) < max_columns:
        return
    with contextlib.suppress(csv.Error, StopIteration):
        header = next(csv.reader([first_line], delimiter=sep))
        if len(header) > max_columns:
            raise _fail(
                file,
                1,
                f"the header has {len(header):,} columns (first: {_show_columns(header, 5)}), "
                f"more than the {max_columns:,} read; a series file has a date column and a "
                f"few value columns: check the file or export fewer columns",
            )


def _tokenize(
    file: str, data: bytes, encoding: str, max_columns: int = DEFAULT_MAX_COLUMNS
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Split the file's bytes into string cells with pandas.

    Returns the cells, each row's 1-based physical line and whether each row is blank.
    One pass of :mod:`csv` over the text gives the field counts (short rows are
    refused), the blank rows and the newlines inside quoted cells; its cost is linear in
    the number of cells, whatever the shape of the file. The bytes are decoded lazily
    (pandas reads them directly; the :mod:`csv` pass reads a decoding stream).
    """
    if _BLANK.fullmatch(data):
        raise _fail(file, 1, "the file is empty; expected a header line such as 'Date,Price'")
    end = data.find(b"\n")
    first_line = data[: end if end >= 0 else len(data)].decode(encoding, errors="replace")
    first_line = first_line.lstrip("\ufeff")
    sep = _delimiter(first_line)
    _refuse_wide(file, first_line, sep, max_columns)
    try:
        cells = pd.read_csv(
            io.BytesIO(data),
            encoding=encoding,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            sep=sep,
        )
    except pd.errors.ParserError as exc:
        raise _parser_error(file, str(exc)) from exc
    counts, blank, extra = _row_shapes(data, encoding, sep, cells)
    if counts is None:  # csv and pandas disagree on the records: shapes from the cells
        stripped = cells.apply(lambda c: c.str.strip())
        blank = (stripped == "").all(axis=1).to_numpy()
        extra = np.zeros(len(cells), dtype=np.int64)
        if b'"' in data:
            extra = cells.apply(lambda c: c.str.count("\n")).sum(axis=1).to_numpy(np.int64)
    lines = 1 + np.arange(len(cells), dtype=np.int64)
    if len(extra) and extra.any():
        lines += np.concatenate(([0], np.cumsum(extra, dtype=np.int64)[:-1]))
    if counts is not None:
        _refuse_short_rows(file, cells.shape[1], counts, blank, lines)
    return cells, lines, blank


_BLANK = re.compile(rb"\s*")


def _row_shapes(
    data: bytes, encoding: str, sep: str, cells: pd.DataFrame
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Field count, blankness and embedded newlines of each record.

    The field counts come from one :mod:`csv` pass (``map(len, reader)``, C speed).
    Blankness and newlines inside quoted cells come from the cells, column by column
    (vectorised) when the file has at most :data:`_NARROW` columns, else from the same
    :mod:`csv` pass row by row: either way linear in the number of cells. Returns
    ``(None, ...)`` when :mod:`csv` does not see as many records as pandas.
    """
    n_records, width = cells.shape
    quoted = b'"' in data
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(stream, delimiter=sep)
    blank = np.ones(n_records, dtype=bool)
    extra = np.zeros(n_records if quoted else 0, dtype=np.int32)
    try:
        if width <= _NARROW:
            counts = np.fromiter(map(len, reader), dtype=np.int32)
        else:
            counts = np.zeros(n_records, dtype=np.int32)
            i = -1
            for i, row in enumerate(reader):
                if i >= n_records:
                    return None, blank, extra
                counts[i] = len(row)
                blank[i] = not any(f.strip() for f in row)
                if quoted:
                    extra[i] = sum(f.count("\n") for f in row)
            counts = counts[: i + 1]
    except csv.Error:  # pragma: no cover - pandas read it, csv could not
        return None, blank, extra
    if len(counts) != n_records:
        return None, blank, extra
    if width <= _NARROW:
        for j in range(width):
            col = cells.iloc[:, j]
            blank &= _regex_mask(col, r"^\s*$")
            if quoted:
                extra += np.asarray(col.str.count("\n").to_numpy(), dtype=np.int32)
    return counts, blank, extra


#: Widest file whose blank rows are found column by column (wider: row by row).
_NARROW = 64


def _refuse_short_rows(
    file: str, width: int, counts: np.ndarray, blank: np.ndarray, lines: np.ndarray
) -> None:
    """Refuse a non-blank row with fewer fields than the first line.

    pandas pads such a row with empty cells, which would read as missing values; the
    field counts come from :mod:`csv` (same quoting rules).
    """
    if width < 2:
        return
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


def _table(
    src: Source, max_bytes: int = DEFAULT_MAX_BYTES, max_columns: int = DEFAULT_MAX_COLUMNS
) -> _Table:
    """Read and tokenise ``src``; refuse an empty file or a missing header."""
    file, data, encoding, digest = _read_text(src, max_bytes)
    with _naming(file):
        cells, lines, blank_rows = _tokenize(file, data, encoding, max_columns)
        del data
        first = tuple(str(c).strip() for c in cells.iloc[0])
        if _looks_like_data(first):
            shown = ",".join(first[:8]) + (",..." if len(first) > 8 else "")
            raise _fail(
                file,
                int(lines[0]),
                f"the first line looks like data ({shown!r}), not a header; "
                "add a header line naming the columns, e.g. 'Date,Price'",
            )
        n_header = 3 if _is_yahoo_multi(cells) else 1
        header_rows = tuple(tuple(str(c).strip() for c in cells.iloc[i]) for i in range(n_header))
        keep = ~blank_rows[n_header:]
        body = cells.iloc[n_header:]
        body_lines = lines[n_header:]
        if not keep.all():
            body, body_lines = body.loc[keep], body_lines[keep]
        if body.empty:
            after = int(lines[n_header - 1]) + 1
            raise _fail(
                file, after, "no data rows after the header; the file holds no observations"
            )
        body = body.reset_index(drop=True)
        body.columns = range(body.shape[1])
        header = header_rows[-1] if n_header == 1 else header_rows[0]
        if n_header == 3 and header[0].lower() == "ticker":
            header = header_rows[1]
        return _Table(file, header, header_rows, body, body_lines, digest)


@contextlib.contextmanager
def _naming(file: str) -> Iterator[None]:
    """Turn an unexpected error while parsing ``file`` into an ``InputError`` naming it."""
    try:
        yield
    except OilImpactError:
        raise
    except MemoryError as exc:
        raise InputError(
            f"{file}: not enough memory to parse it; split the file or import it on a "
            f"machine with more memory"
        ) from exc
    except Exception as exc:
        raise InputError(
            f"{file}: unexpected {type(exc).__name__} while parsing it ({exc}); this is a "
            f"bug in oilimpact: please report it with the file"
        ) from exc


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


#: One problem found in a file's rows: line, column, the cell text and what is wrong.
_Problem = dict[str, object]


def _problem(line: int, column: str, value: object, text: str) -> _Problem:
    return {"line": int(line), "column": column, "value": value, "problem": text}


def _raise_problems(file: str, problems: list[_Problem], limit: int = 5) -> None:
    """Raise one :class:`FileValidationError` listing every problem (first ``limit`` in text)."""
    if not problems:
        return
    problems = sorted(problems, key=lambda p: (p["line"], str(p["column"])))
    first = problems[0]
    message = f"{file}, line {first['line']}: {first['problem']}"
    if len(problems) > 1:
        more = "; ".join(f"line {p['line']}: {p['problem']}" for p in problems[1:limit])
        extra = f"; ... ({len(problems) - limit} more)" if len(problems) > limit else ""
        message += f" [{len(problems)} problems in all; also {more}{extra}]"
    failures = pd.DataFrame(problems, columns=["line", "column", "value", "problem"])
    failures.insert(0, "file", file)
    raise FileValidationError(message, failures=failures)


def _dates_lazy(
    table: _Table, raw: pd.Series, lines: np.ndarray, column: str, date_format: str | None
) -> tuple[pd.DatetimeIndex, list[_Problem]]:
    """Parse ``raw`` with one explicit format; NaT and a problem for each bad date.

    A file mixing two recognised styles is refused at once (its dates are ambiguous).
    """
    text = _stripped(raw)
    problems: list[_Problem] = []
    if date_format is not None:
        fmt, parse_text, label = date_format, text, date_format
        known = np.ones(len(text), dtype=bool)
    else:
        style_idx = np.full(len(text), -1)
        for i, style in enumerate(_DATE_STYLES):
            hit = _regex_mask(text, f"^(?:{style.regex.pattern})$")
            style_idx[hit & (style_idx < 0)] = i
            if (style_idx >= 0).all():
                break
        known = style_idx >= 0
        for k in np.flatnonzero(~known):
            problems.append(
                _problem(
                    lines[k],
                    column,
                    text.iat[k],
                    f"cannot read the date {text.iat[k]!r} in column {column!r}; "
                    f"expected one of {_STYLE_LIST}, or pass date_format=",
                )
            )
        if not known.any():
            return pd.DatetimeIndex(np.full(len(text), np.datetime64("NaT"))), problems
        k0 = int(np.flatnonzero(known)[0])
        first = _DATE_STYLES[style_idx[k0]]
        other = np.flatnonzero(known & (style_idx != style_idx[k0]))
        if other.size:
            k = other[0]
            raise _fail(
                table.file,
                int(lines[k]),
                f"mixed date formats in column {column!r}: {text.iat[k]!r} here is "
                f"{_DATE_STYLES[style_idx[k]].label} but line {int(lines[k0])} has "
                f"{text.iat[k0]!r} ({first.label}); use one format for the whole file",
            )
        fmt, label = first.fmt, first.label
        parse_text = text.str.extract(first.regex, expand=False) if first.date_part else text
        if isinstance(parse_text, pd.DataFrame):  # pragma: no cover - one group only
            parse_text = parse_text.iloc[:, 0]
    parsed = _fast_dates(parse_text, fmt)
    if parsed is None:
        parsed = pd.to_datetime(
            parse_text if known.all() else parse_text.where(known), format=fmt, errors="coerce"
        )
    for k in np.flatnonzero(parsed.isna().to_numpy() & known):
        problems.append(
            _problem(
                lines[k],
                column,
                text.iat[k],
                f"invalid date {text.iat[k]!r} in column {column!r} (format {label}); "
                "fix the date or pass date_format=",
            )
        )
    days = parsed if parsed.dtype == "datetime64[s]" else parsed.dt.normalize()  # [s]: dates
    outside = ((days < pd.Timestamp(MIN_DATE)) | (days > pd.Timestamp(MAX_DATE))).to_numpy()
    del days
    for k in np.flatnonzero(outside):
        problems.append(
            _problem(
                lines[k],
                column,
                text.iat[k],
                f"date {text.iat[k]!r} in column {column!r} is outside the supported range "
                f"{MIN_DATE} to {MAX_DATE}; fix the date",
            )
        )
    if outside.any():
        parsed = parsed.where(~outside)
    return pd.DatetimeIndex(parsed), problems


_CHUNK = 2**18  # rows per piece in the pyarrow date parse


def _fast_dates(text: pd.Series, fmt: str) -> pd.Series | None:
    """``YYYY-MM-DD`` / ``YYYY/MM/DD`` cells parsed by pyarrow, NaT where invalid; else None.

    pandas' parser makes one Python object per cell (about 80 bytes each); pyarrow's
    ``strptime`` does not. A date is kept only when formatting it back gives the cell
    (so ``2024-02-30`` is invalid, as with pandas). Other formats return None (pandas
    parses them).
    """
    if fmt not in ("%Y-%m-%d", "%Y/%m/%d") or len(text) == 0:
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(text.array)
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            return None
        values = np.empty(len(arr), dtype="datetime64[s]")
        for i in range(0, len(arr), _CHUNK):  # pieces: small intermediates
            part = arr.slice(i, _CHUNK)
            stamps = pc.strptime(part, format=fmt, unit="s", error_is_null=True)
            # strptime rolls 2024-02-30 over to 2024-03-01: the day must be the cell's own
            day = pc.cast(pc.utf8_slice_codeunits(part, start=-2), pa.int8())
            same = pc.fill_null(pc.equal(pc.day(stamps), day), False)
            kept = pc.if_else(same, stamps, pa.scalar(None, stamps.type))
            values[i : i + len(part)] = kept.to_numpy(zero_copy_only=False)
    except (ImportError, ValueError, TypeError, ArithmeticError):
        return None
    return pd.Series(values, index=text.index)


def _parse_dates(
    table: _Table, raw: pd.Series, lines: np.ndarray, column: str, date_format: str | None
) -> pd.DatetimeIndex:
    """Parse ``raw`` with one explicit format; refuse unknown, mixed or invalid dates."""
    index, problems = _dates_lazy(table, raw, lines, column, date_format)
    _raise_problems(table.file, problems)
    return index


def _regex_mask(cells: pd.Series, pattern: str) -> np.ndarray:
    """Where ``pattern`` (RE2 syntax, anchors included) matches a cell, as numpy bools.

    pyarrow's matcher on the Arrow strings pandas read (pandas' own ``str.contains``
    falls back to one Python object per cell for some patterns).
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(cells.array) if len(cells) else pa.array([], pa.string())
        hit = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
        return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
    except (ImportError, ValueError, TypeError):
        return cells.str.contains(pattern, regex=True).to_numpy(dtype=bool, na_value=False)


def _stripped(cells: pd.Series) -> pd.Series:
    """``cells`` without surrounding whitespace, index reset; no copy when none has any."""
    out = cells.str.strip() if _regex_mask(cells, r"^\s|\s$").any() else cells
    return out.reset_index(drop=True)


#: Case-insensitive full match of a missing-value marker (the strings of MISSING_MARKERS).
_MISSING_RE = "(?i)(?:" + "|".join(re.escape(m) for m in sorted(MISSING_MARKERS)) + ")"


def _plain_numbers(text: pd.Series) -> np.ndarray:
    """float64 of cells that are plain numbers (:data:`_NUMBER`), NaN elsewhere.

    pyarrow's regex match and cast work on the Arrow strings pandas read, without one
    Python object per cell (``pandas.to_numeric`` would make them); other inputs, or a
    cast pyarrow refuses, fall back to pandas.
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(text.array) if len(text) else pa.array([], pa.string())
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            raise TypeError(arr.type)
        out = np.empty(len(arr), dtype="float64")
        for i in range(0, len(arr), _CHUNK):  # pieces: small intermediates
            part = arr.slice(i, _CHUNK)
            plain = pc.match_substring_regex(part, f"^(?:{_NUMBER.pattern})$")
            kept = pc.if_else(plain, part, pa.scalar(None, part.type))
            out[i : i + len(part)] = pc.cast(kept, pa.float64()).to_numpy(zero_copy_only=False)
        return out
    except (ImportError, TypeError, ValueError, ArithmeticError):
        nums = pd.to_numeric(text.where(text.str.fullmatch(_NUMBER.pattern)), errors="coerce")
        return np.array(nums, dtype="float64")


def _values_lazy(
    raw: pd.Series, lines: np.ndarray, column: str
) -> tuple[np.ndarray, list[_Problem]]:
    """float64 values (missing markers NaN); NaN and a problem for other non-numeric text."""
    text = _stripped(raw)
    missing = _regex_mask(text, f"^{_MISSING_RE}$")
    nums = _plain_numbers(text)
    nums[missing] = np.nan
    bad = np.flatnonzero(~missing & ~np.isfinite(nums))
    problems = [
        _problem(
            lines[k],
            column,
            text.iat[k],
            f"non-numeric value {text.iat[k]!r} in column {column!r}; write a plain "
            f"number (no thousands separator) or a missing marker such as '.', 'NA' or ''",
        )
        for k in bad
    ]
    nums[bad] = np.nan
    return nums, problems


def _parse_values(table: _Table, raw: pd.Series, lines: np.ndarray, column: str) -> np.ndarray:
    """Return float64 values; missing markers become NaN, other text is refused."""
    nums, problems = _values_lazy(raw, lines, column)
    _raise_problems(table.file, problems)
    return nums


def _today_utc(today: DateLike | None) -> pd.Timestamp:
    if today is None:
        return pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()
    ts = pd.Timestamp(today)
    return (ts.tz_convert("UTC").tz_localize(None) if ts.tz is not None else ts).normalize()


def _future_problems(
    index: pd.DatetimeIndex, lines: np.ndarray, column: str, today: pd.Timestamp
) -> list[_Problem]:
    """One problem per row dated after ``today`` (UTC)."""
    late = np.flatnonzero(np.asarray(index > today, dtype=bool))
    return [
        _problem(
            lines[k],
            column,
            f"{index[k]:%Y-%m-%d}",
            f"date {index[k]:%Y-%m-%d} is after today ({today:%Y-%m-%d} UTC); future-dated "
            "rows are refused: fix the dates, or pass allow_future=True (--allow-future) "
            "if they are meant (forecasts, scheduled cargoes)",
        )
        for k in late
    ]


def _bound_problems(
    values: np.ndarray, lines: np.ndarray, column: str, spec: SeriesSpec
) -> list[_Problem]:
    """Rows whose value fails the registry checks of ``spec`` (pandera, lazy)."""
    from pandera.errors import SchemaErrors

    from ..schemas import series_schema

    checks = series_schema(spec).columns["value"].checks
    if not checks:
        return []
    import pandera.pandas as pa

    schema = pa.DataFrameSchema({"value": pa.Column(float, checks=checks, nullable=True)})
    try:
        schema.validate(pd.DataFrame({"value": values}), lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        out = []
        for _, case in cases.iterrows():
            k = case.get("index")
            if k is None or pd.isna(k):
                continue
            value = values[int(k)]
            out.append(
                _problem(
                    lines[int(k)],
                    column,
                    f"{value:g}",
                    f"value {value:g} in column {column!r} fails {case['check']} "
                    f"for series {spec.name!r}",
                )
            )
        return out
    return []


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
        found = _show_columns(table.header, 12)
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
    found = _show_columns(table.header, 12)
    raise _fail(
        table.file,
        1,
        f"unrecognised header (columns found: {found}); expected one of: {_EXPECTED_HEADERS}; "
        "or pass fmt='tidy' with date_column= and value_column=",
    )


def detect_format(
    path: Source, *, max_bytes: int = DEFAULT_MAX_BYTES, max_columns: int = DEFAULT_MAX_COLUMNS
) -> str:
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
    table = _table(path, max_bytes, max_columns)
    with _naming(table.file):
        return _detect(table, None, None)


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where to find dates and values in a table, and which rows to keep."""

    date_col: int
    value_col: int
    filters: dict[int, str] = field(default_factory=dict)
    source_id: str | None = None
    unit_col: int | None = None
    note: str | None = None


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
                f"the file holds {len(ids)} FRED series ({_listing(ids)}); "
                "pass column= with the one to import",
            )
        column = ids[0]
    i = _require(table, column, "FRED series", "one of " + _listing(ids))
    return _Plan(_date_col(table, date_column), i, source_id=table.header[i])


def _plan_wide(
    table: _Table, column: str | None, date_column: str | None, default: str, expected: str
) -> _Plan:
    i = _require(table, column or default, "value", expected)
    return _Plan(_date_col(table, date_column), i)


def _plan_yahoo(
    table: _Table, column: str | None, date_column: str | None, filters: Mapping[str, str]
) -> _Plan:
    multi = table.header_line_count != 1
    rows = {r[0].lower(): r for r in table.header_rows[:2]} if multi else {}
    fields = rows["price"] if multi else table.header
    note = None
    if column is None:
        has_adj = any(f.strip().lower() == "adj close" for f in fields)
        column = "Adj Close" if has_adj else "Close"
        if not has_adj:
            note = (
                "the file has no 'Adj Close': stored 'Close', which is the adjusted close "
                "only if the export used auto_adjust=True (yfinance's default)"
            )
    field_name = column
    if not multi:
        plan = _plan_wide(table, field_name, date_column, "Close", "Date,Open,High,Low,Close")
        return _Plan(plan.date_col, plan.value_col, note=note)
    tickers = rows["ticker"]
    unknown = set(filters) - {"Ticker", "ticker"}
    if unknown:
        raise _fail(
            table.file, 2, f"a Yahoo export can only be filtered on 'Ticker', got {sorted(unknown)}"
        )
    wanted = filters.get("Ticker", filters.get("ticker"))
    line = 1 if table.header_rows[0][0].lower() == "price" else 2
    cands = [i for i in range(1, len(fields)) if fields[i].lower() == field_name.lower()]
    if not cands:
        avail = _listing(sorted(set(fields[1:])))
        raise _fail(table.file, line, f"no price field {field_name!r}; fields found: {avail}")
    if wanted is not None:
        cands = [i for i in cands if tickers[i] == wanted]
        if not cands:
            avail = _listing(sorted(set(tickers[1:])))
            raise _fail(table.file, 3 - line, f"no ticker {wanted!r}; tickers found: {avail}")
    if len(cands) > 1:
        avail = _listing([tickers[i] for i in cands])
        raise _fail(
            table.file,
            3 - line,
            f"the file holds several tickers ({avail}); pass filters={{'Ticker': ...}}",
        )
    return _Plan(_date_col(table, date_column), cands[0], source_id=tickers[cands[0]], note=note)


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
    spec: SeriesSpec | None = None,
    allow_future: bool = False,
    today: DateLike = None,
) -> ImportedSeries:
    """Dates and values of the planned rows; every row-level problem is reported at once."""
    rows = _apply_filters(table, plan)
    every = len(rows) == len(table.cells)  # no filter: the columns as they are, no copy
    lines = table.lines if every else table.lines[rows]
    date_name = table.header[plan.date_col] or "date"
    value_name = table.header[plan.value_col] or "value"
    date_cells = table.col(plan.date_col)
    value_cells = table.col(plan.value_col)
    index, problems = _dates_lazy(
        table, date_cells if every else date_cells.iloc[rows], lines, date_name, date_format
    )
    del date_cells
    values, value_problems = _values_lazy(
        value_cells if every else value_cells.iloc[rows], lines, value_name
    )
    del value_cells
    problems += value_problems
    if not allow_future:
        problems += _future_problems(index, lines, date_name, _today_utc(today))
    if spec is not None:
        problems += _bound_problems(values, lines, value_name, spec)
    _raise_problems(table.file, problems)
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
        notes=(plan.note,) if plan.note else (),
        sha256=table.sha256,
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
    spec: SeriesSpec | None = None,
    allow_future: bool = False,
    today: DateLike = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_columns: int = DEFAULT_MAX_COLUMNS,
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
        ``"Close"`` for Yahoo's unadjusted close) or ``Price`` for EIA. A Yahoo export
        gives ``Adj Close`` when it has one (the registry's Yahoo series and
        ``fetch`` mean the split- and dividend-adjusted close), else ``Close`` (the
        adjusted close of a yfinance ``auto_adjust=True`` export) with a note.
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
    spec : SeriesSpec, optional
        The registry entry of ``name``: its bounds and sign rule are checked here, row by
        row, so their failures are reported with the file's line numbers together with
        the parse problems.
    allow_future : bool, default False
        Accept rows dated after ``today``. By default they are refused (a future date in
        a price or statistics file is a typo or a forecast, and it would pass for the
        latest observation); every such row is listed.
    today : date-like, optional
        The day after which rows are future-dated; default today in UTC.
    max_bytes : int, default :data:`DEFAULT_MAX_BYTES` (100 MiB)
        Larger files are refused before they are read (CLI ``--max-size``).
    max_columns : int, default :data:`DEFAULT_MAX_COLUMNS` (10,000)
        A wider header is refused before the file is parsed.

    Returns
    -------
    ImportedSeries
        The series (float64, ``DatetimeIndex`` named ``"date"``, monthly dates on the
        first of the month, sorted) and its metadata.

    Raises
    ------
    FileValidationError
        Row-level problems, all of them at once (``.failures``: file, line, column,
        value, problem): non-numeric values, unreadable or out-of-range dates,
        future-dated rows, values outside ``spec``'s bounds. The message starts with the
        first (``"<file>, line <n>: ..."``) and lists the next few. It is an
        ``InputError``.
    InputError
        The message names the file and, where there is one, the 1-based line (header =
        line 1): not a regular file (directory, FIFO, device), over ``max_bytes``, binary,
        empty file, missing header, too many columns, unknown column (with a few of the
        columns found and the expected ones), several FRED ids without ``column=``,
        duplicate dates (both lines), mixed date styles, a filter matching no row (with
        the values found). An unexpected failure while parsing is also an InputError
        naming the file.

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
    table = _table(path, max_bytes, max_columns)
    with _naming(table.file):
        return _read_table(
            table, name=name, fmt=fmt, column=column, date_column=date_column,
            value_column=value_column, filters=filters, unit=unit, date_format=date_format,
            spec=spec, allow_future=allow_future, today=today,
        )  # fmt: skip


def _read_table(
    table: _Table,
    *,
    name: str,
    fmt: str,
    column: str | None,
    date_column: str | None,
    value_column: str | None,
    filters: dict[str, str],
    unit: str | None,
    date_format: str | None,
    spec: SeriesSpec | None,
    allow_future: bool,
    today: DateLike,
) -> ImportedSeries:
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
            allow_future=allow_future,
            today=today,
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
    return _extract(
        table,
        plan,
        name=name,
        fmt=detected,
        unit=unit,
        date_format=date_format,
        spec=spec,
        allow_future=allow_future,
        today=today,
    )


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
    allow_future: bool = False,
    today: DateLike = None,
) -> ImportedSeries:
    _check_tanker_options(table, frequency, preset)
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
    rows = _tanker_rows(table, cols, origin, destination)
    lines = table.lines[rows]
    if not allow_future:
        _raise_problems(
            table.file,
            _future_problems(all_dates[rows], lines, table.header[cols["date"]], _today_utc(today)),
        )
    volume = _parse_values(
        table, table.col(cols["volume"]).iloc[rows], lines, table.header[cols["volume"]]
    )
    units = _tanker_units(table, cols, rows, volume_unit, preset_unit)
    barrels = volume * _barrels_per_unit(table, units, lines, bbl_per_tonne)
    grid, kbd, notes = _kbd_by_period(all_dates, rows, barrels, frequency)
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
        sha256=table.sha256,
    )


def _check_tanker_options(table: _Table, frequency: str, preset: str | None) -> None:
    """Refuse an unknown aggregation frequency or preset, naming the valid ones."""
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


def _tanker_rows(
    table: _Table, cols: Mapping[str, int], origin: str | None, destination: str | None
) -> np.ndarray:
    """Positions of the cargoes from ``origin`` (and to ``destination``); none is an error."""
    keep = _match_place(table.col(cols["origin"]), origin)
    if origin is not None and not keep.any():
        raise _refuse_no_match(table, table.col(cols["origin"]), "origin", origin)
    if destination is not None:
        dest = table.col(cols["destination"])
        keep = keep & _match_place(dest, destination)
        if not keep.any():
            raise _refuse_no_match(table, dest, "destination", destination)
    return np.flatnonzero(keep)


def _tanker_units(
    table: _Table,
    cols: Mapping[str, int],
    rows: np.ndarray,
    volume_unit: str | None,
    preset_unit: str | None,
) -> pd.Series:
    """The volume unit of each kept cargo: ``volume_unit``, the unit column, or the preset's."""
    if volume_unit is not None:
        return pd.Series([volume_unit] * len(rows), dtype="str")
    if "unit" in cols:
        return table.col(cols["unit"]).iloc[rows].reset_index(drop=True)
    if preset_unit is not None:
        return pd.Series([preset_unit] * len(rows), dtype="str")
    raise _fail(
        table.file,
        1,
        "the volume unit is unknown: add a 'unit' column or pass volume_unit= "
        "('bbl', 'kbbl', 'm3' or 't')",
    )


def _kbd_by_period(
    all_dates: pd.DatetimeIndex, rows: np.ndarray, barrels: pd.Series, frequency: str
) -> tuple[pd.DatetimeIndex, np.ndarray, list[str]]:
    """Barrels summed per period over the file's span, in kb/d (NaN where a cargo has no
    volume; zero where no cargo sailed), with notes on partly covered edge periods."""
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
    return grid, kbd, notes


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
    allow_future: bool = False,
    today: DateLike = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_columns: int = DEFAULT_MAX_COLUMNS,
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
    allow_future, today : optional
        Cargoes dated after ``today`` (default today, UTC) are refused, all listed,
        unless ``allow_future=True`` (vendors list scheduled cargoes with estimated
        dates; import them knowingly).
    max_bytes, max_columns : int
        As for :func:`read_series_file`.

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
    table = _table(path, max_bytes, max_columns)
    with _naming(table.file):
        return _tanker_from_table(
            table, name=name, mapping=mapping, origin=origin, destination=destination,
            frequency=frequency, preset=preset, volume_unit=volume_unit,
            bbl_per_tonne=bbl_per_tonne, date_format=date_format, allow_future=allow_future,
            today=today,
        )  # fmt: skip
