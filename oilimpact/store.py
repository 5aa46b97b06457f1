"""The local store: one Parquet file per series, a manifest, vintages and a revisions log.

Layout of a store rooted at ``root`` (see :func:`resolve_data_dir`)::

    root/
      manifest.json              one entry per series: provenance, coverage, checksum
      log.jsonl                  append-only log, one JSON line per write or delete
      series/<name>.<hash>.parquet   long table ``date, value, vintage, removed`` of one
                                 series, with its per-vintage history in the file metadata
      .locks/                    lock files (filelock), safe to delete when idle

Every value is stored with its *vintage*, the UTC time from which the store knew it. A
write appends a row only where a date is new or its value differs from the value known
before, so ``load(name, as_of=t)`` returns the series as it was known at time ``t`` and
``load(name)`` the latest knowledge. Dates missing from a write are kept: an
incremental fetch covers only the recent span (see :meth:`Store.refresh_start`).

Vintages follow **commit order**: a write's vintage is its ``fetched_at``, moved
forward to one microsecond after the newest vintage already stored when that is later
(``vintage = max(fetched_at, newest + 1 us)``). So when two writers race on one series
the later commit wins, whatever their fetch times; the later writer's
:class:`WriteResult` lists the vintages committed after its ``fetched_at``
(``concurrent``) and says so in ``warnings``. An old vintage can therefore not be
back-filled behind a newer one; each vintage's own ``fetched_at`` is kept in
:meth:`Store.history`.

A date can be *removed* (by :meth:`Store.rollback`, to a vintage that did not have it):
a row with ``removed=True`` (value NaN) at the new vintage hides the date from
:meth:`Store.load` as of that vintage; nothing is deleted. Files written before the
``removed`` column existed (schema 1) read as having no removals.

Guarantees
----------
* **Atomic.** A new Parquet file is written to a temporary file in the same directory,
  fsynced and renamed into place under a new, content-addressed name; the manifest is
  then replaced the same way and is the single commit point. A write that fails or is
  killed at any moment leaves the previous version loadable and the manifest checksum
  matching its file. Leftover temporary or unreferenced files are removed by the next
  write of that series.
* **Concurrent.** Writers take a per-series lock and then the manifest lock, always in
  that order. Readers take no lock: the manifest is replaced atomically and a file it
  refers to is only deleted after the manifest stops referring to it.
* **Verified.** :meth:`Store.load` checks the SHA-256 of the file against the manifest
  and raises :class:`~oilimpact.errors.StoreError` naming the file when it differs. A
  manifest ``file`` must be a plain file name inside ``series/``; an entry pointing
  anywhere else is refused, and the store never reads or deletes outside its root.
* **Typed failures.** A store that cannot be locked or written (read-only directory,
  no permission, disk full) raises :class:`~oilimpact.errors.StoreError` naming the
  path and what to do, never a bare ``OSError``. Clean-up of temporary and superseded
  files is best effort: a file that cannot be removed is left for a later write.

The store neither validates (validate with ``oilimpact.schemas`` before writing) nor
fetches.

Test hook
---------
``OILIMPACT_TEST_CRASH_AT=<step>`` (one of :data:`CRASH_POINTS`, optionally
``<step>@<n>`` for its n-th occurrence, 1-based) makes the process SIGKILL itself at that
point of a write. It exists only for the crash-safety tests
(``tests/test_crash_safety.py``) and costs one environment lookup per step otherwise.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import re
import secrets
import signal
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from .errors import InputError, StoreError
from .frames import INDEX_NAME, to_series_frame
from .logs import get_logger
from .series import infer_frequency

__all__ = [
    "CRASH_ENV",
    "CRASH_POINTS",
    "DATA_DIR_ENV",
    "HISTORY_COLUMNS",
    "SCHEMA_VERSION",
    "ManifestEntry",
    "Store",
    "WriteResult",
    "resolve_data_dir",
]

#: Version of the on-disk layout (Parquet columns and manifest fields). 2 added the
#: ``removed`` column and the per-vintage history; schema-1 files are still read.
SCHEMA_VERSION = 2
#: Environment variable naming the data directory when no explicit one is given.
DATA_DIR_ENV = "OILIMPACT_DATA_DIR"

logger = get_logger(__name__)

Frequency = Literal["daily", "weekly", "monthly"]
DateLike = str | datetime.date | pd.Timestamp | np.datetime64

_NAME_RE = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,99}")
_TOKEN_RE = re.compile(r"[0-9a-f]{16}")
_MANIFEST = "manifest.json"
_LOG = "log.jsonl"
_SERIES_DIR = "series"
_LOCK_DIR = ".locks"
_COLUMNS = ("date", "value", "vintage")
_HISTORY_KEY = b"oilimpact.history"
#: Columns of :meth:`Store.history`.
HISTORY_COLUMNS = (
    "vintage",
    "committed_at",
    "fetched_at",
    "source",
    "source_id",
    "rows_added",
    "rows_revised",
    "rows_removed",
    "file_sha256",
    "note",
)
_ONE_US = pd.Timedelta(microseconds=1)

#: Environment variable of the crash test hook (see the module docstring).
CRASH_ENV = "OILIMPACT_TEST_CRASH_AT"
#: The points of a write where :data:`CRASH_ENV` can kill the process, in order.
CRASH_POINTS: tuple[str, ...] = (
    "write:locked",
    "write:swept",
    "write:merged",
    "parquet:tmp-created",
    "parquet:tmp-half-written",
    "parquet:tmp-synced",
    "parquet:renamed",
    "parquet:dir-synced",
    "manifest:locked",
    "manifest:swept",
    "manifest:tmp-created",
    "manifest:tmp-half-written",
    "manifest:tmp-synced",
    "manifest:renamed",
    "manifest:dir-synced",
    "log:half-written",
    "log:appended",
    "write:committed",
    "write:old-file-removed",
    "write:done",
)
_crash_counts: dict[str, int] = {}
_DEFAULT_OVERLAP: dict[str, pd.DateOffset] = {
    "daily": pd.DateOffset(days=14),
    "weekly": pd.DateOffset(weeks=8),
    "monthly": pd.DateOffset(months=6),
}


# --------------------------------------------------------------------------- locations


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the store directory: ``data_dir``, else ``$OILIMPACT_DATA_DIR``, else ``./data``.

    Parameters
    ----------
    data_dir : path-like, optional
        Explicit directory (the CLI's ``--data-dir``). Empty strings count as not given.

    Returns
    -------
    pathlib.Path
        Absolute path (``~`` expanded, relative paths taken from the current directory).
        The directory is not created.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> resolve_data_dir(d) == Path(d).absolute()
    True
    """
    for candidate in (data_dir, os.environ.get(DATA_DIR_ENV)):
        if candidate is not None and str(candidate).strip():
            return Path(os.path.abspath(Path(candidate).expanduser()))
    return Path(os.path.abspath("data"))


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one :meth:`Store.write` changed.

    Attributes
    ----------
    name : str
        Series name.
    rows_added : int
        Dates not known before this write's vintage.
    rows_revised : int
        Known dates whose value changed (a change to or from NaN counts).
    unchanged : bool
        True when nothing changed; the Parquet file was not rewritten.
    path : pathlib.Path
        The series' current Parquet file.
    checksum : str
        SHA-256 (hex) of that file.
    rows_removed : int
        Dates hidden by this write (only :meth:`Store.rollback` removes dates).
    vintage : pandas.Timestamp or None
        The vintage this write's rows were stored at (UTC): ``fetched_at``, or one
        microsecond after the newest earlier vintage when that is later (commit order).
        None when nothing changed.
    fetched_at : pandas.Timestamp or None
        The ``fetched_at`` the caller passed (UTC; the write time when not passed).
    concurrent : tuple of pandas.Timestamp
        Vintages of this series committed after ``fetched_at`` by another write (a writer
        that ran at the same time, or a fetch time older than the stored data). This
        write was committed after them and wins in :meth:`Store.load`; their values stay
        readable with ``as_of``.
    warnings : tuple of str
        Sentences for the user (one per situation above); also logged at WARNING.
    """

    name: str
    rows_added: int
    rows_revised: int
    unchanged: bool
    path: Path
    checksum: str
    rows_removed: int = 0
    vintage: pd.Timestamp | None = None
    fetched_at: pd.Timestamp | None = None
    concurrent: tuple[pd.Timestamp, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """Provenance and coverage of one stored series (one manifest entry).

    Attributes
    ----------
    name : str
        Series name.
    file : str
        Parquet file name inside ``root/series``.
    source, source_id : str
        Provider (``"fred"``, ``"file"``, ...) and its identifier, from the newest fetch.
    fetched_at : pandas.Timestamp
        UTC time of the newest fetch, including fetches that changed nothing.
    updated_at : pandas.Timestamp
        Newest vintage in the file: when the data last changed.
    first, last : pandas.Timestamp or None
        First and last date with a non-missing value (latest vintage).
    rows : int
        Non-missing values in the latest vintage.
    n_vintages : int
        Distinct vintages stored.
    checksum : str
        SHA-256 (hex) of the Parquet file bytes.
    schema_version : int
        :data:`SCHEMA_VERSION` of the writer.
    unit, frequency, kind : str or None
        As passed to :meth:`Store.write` (kept from earlier writes when not passed).
    meta : dict
        Free JSON-compatible metadata of the newest fetch (validation warnings, file name).
    """

    name: str
    file: str
    source: str
    source_id: str
    fetched_at: pd.Timestamp
    updated_at: pd.Timestamp
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    rows: int
    n_vintages: int
    checksum: str
    schema_version: int = SCHEMA_VERSION
    unit: str | None = None
    frequency: str | None = None
    kind: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the entry as JSON-compatible types (timestamps as ISO 8601)."""
        out = asdict(self)
        for key in ("fetched_at", "updated_at"):
            out[key] = _iso_utc(out[key])
        for key in ("first", "last"):
            out[key] = None if out[key] is None else out[key].strftime("%Y-%m-%d")
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ManifestEntry:
        """Build an entry from :meth:`to_json` output (unknown keys are ignored)."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for key in ("fetched_at", "updated_at"):
            known[key] = _utc(known[key])
        for key in ("first", "last"):
            value = known.get(key)
            known[key] = None if value is None else pd.Timestamp(value).as_unit("ns")
        known["meta"] = dict(known.get("meta") or {})
        return cls(**known)


# --------------------------------------------------------------------------- the store


class Store:
    """A directory of series with provenance, vintages and atomic, locked writes.

    Parameters
    ----------
    root : path-like
        Store directory; created on the first write. Use :meth:`from_env` to apply the
        ``--data-dir`` / ``$OILIMPACT_DATA_DIR`` / ``./data`` resolution.
    lock_timeout : float, default 60
        Seconds to wait for another process's lock before raising ``StoreError``.

    Examples
    --------
    >>> import tempfile
    >>> from oilimpact.frames import to_series_frame
    >>> store = Store(tempfile.mkdtemp())
    >>> s = to_series_frame([70.0, 71.0], ["2025-01-02", "2025-01-03"], "brent")
    >>> r = store.write(s, source="fred", source_id="DCOILBRENTEU",
    ...                 fetched_at="2025-01-04T12:00Z")
    >>> r.rows_added, r.rows_revised
    (2, 0)
    >>> revised = to_series_frame([71.5, 72.0], ["2025-01-03", "2025-01-06"], "brent")
    >>> r = store.write(revised, source="fred", source_id="DCOILBRENTEU",
    ...                 fetched_at="2025-01-07T12:00Z")
    >>> r.rows_added, r.rows_revised
    (1, 1)
    >>> store.load("brent").tolist()
    [70.0, 71.5, 72.0]
    >>> store.load("brent", as_of="2025-01-05").tolist()
    [70.0, 71.0]
    >>> store.entry("brent").rows, store.names()
    (3, ['brent'])
    """

    def __init__(self, root: str | os.PathLike[str], *, lock_timeout: float = 60.0) -> None:
        self.root = Path(os.path.abspath(Path(root).expanduser()))
        self.lock_timeout = float(lock_timeout)

    @classmethod
    def from_env(cls, data_dir: str | os.PathLike[str] | None = None, **kwargs: Any) -> Store:
        """Open the store at :func:`resolve_data_dir` ``(data_dir)``."""
        return cls(resolve_data_dir(data_dir), **kwargs)

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # ---- paths

    @property
    def manifest_path(self) -> Path:
        """Path of ``manifest.json``."""
        return self.root / _MANIFEST

    @property
    def log_path(self) -> Path:
        """Path of the append-only ``log.jsonl``."""
        return self.root / _LOG

    @property
    def series_dir(self) -> Path:
        """Directory holding the Parquet files."""
        return self.root / _SERIES_DIR

    def path(self, name: str) -> Path | None:
        """Return the current Parquet file of ``name``, or None when not stored.

        Raises
        ------
        StoreError
            The manifest entry's ``file`` is not a plain file name inside ``series/``.
        """
        entry = self.entry(name)
        return None if entry is None else self._file_of(entry)

    # ---- manifest queries

    def entry(self, name: str) -> ManifestEntry | None:
        """Return the manifest entry of ``name``, or None when it is not stored."""
        _check_name(name)
        return self._read_manifest().get(name)

    def names(self) -> list[str]:
        """Return the stored series names, sorted."""
        return sorted(self._read_manifest())

    def exists(self, name: str) -> bool:
        """Return True when ``name`` is stored."""
        return self.entry(name) is not None

    def manifest(self) -> pd.DataFrame:
        """Return the manifest as a DataFrame, one row per series, indexed by name.

        Columns are the :class:`ManifestEntry` fields; an empty store gives an empty frame
        with those columns. The optional fields (``first``, ``last``, ``unit``,
        ``frequency``, ``kind``) are ``object`` columns holding ``None`` when unset (a
        series with no non-missing value has ``first``/``last`` None), never NaN or NaT;
        ``first``/``last`` otherwise hold ``pandas.Timestamp``.
        """
        fields = [f for f in ManifestEntry.__dataclass_fields__ if f != "name"]
        entries = self._read_manifest()
        rows = [{f: getattr(e, f) for f in fields} for _, e in sorted(entries.items())]
        frame = pd.DataFrame(rows, columns=fields, index=pd.Index(sorted(entries), name="name"))
        for col in _OPTIONAL_FIELDS:
            frame[col] = pd.Series([row[col] for row in rows], index=frame.index, dtype=object)
        return frame

    # ---- reading

    def load(
        self,
        name: str,
        as_of: DateLike | None = None,
        start: DateLike | None = None,
        end: DateLike | None = None,
    ) -> pd.Series:
        """Return a stored series in the frame convention, optionally as known at ``as_of``.

        Parameters
        ----------
        name : str
            Series name.
        as_of : date-like, optional
            Point in time (tz-naive means UTC; ``"2025-01-15"`` is midnight at the start
            of that day). Each date gets its latest vintage at or before ``as_of``; dates
            first seen later, or removed at or before ``as_of`` (see :meth:`rollback`),
            are left out. None means the latest knowledge.
        start, end : date-like, optional
            Inclusive bounds on the observation dates.

        Returns
        -------
        pandas.Series
            float64 on a sorted ``DatetimeIndex`` named ``"date"``, ``name=name``. NaN
            marks a date the provider listed without a value.

        Raises
        ------
        StoreError
            The series is not stored; its file is missing, corrupt or fails its checksum
            (the message names the file); or ``as_of`` is before the series' first
            vintage (the message gives that vintage).
        """
        table = self.vintages(name)
        if as_of is not None:
            cutoff = _utc(as_of)
            if table.empty or cutoff < table["vintage"].min():
                first = "never" if table.empty else _iso_utc(table["vintage"].min())
                raise StoreError(
                    f"series {name!r} has no data as of {_iso_utc(cutoff)}: it was first "
                    f"stored at {first}; use an as_of on or after that"
                )
            table = table[table["vintage"] <= cutoff]
        latest = _state(table)
        index = pd.DatetimeIndex(latest["date"], name=INDEX_NAME)
        out = pd.Series(latest["value"].to_numpy(dtype="float64"), index=index, name=name)
        return _window(out, start, end)

    def vintages(self, name: str) -> pd.DataFrame:
        """Return the stored long table of ``name``: columns ``date, value, vintage, removed``.

        ``date`` is ``datetime64[ns]``, ``vintage`` is ``datetime64[ns, UTC]``, ``removed``
        is bool (True: the date is hidden from that vintage on, value NaN); rows are
        sorted by date then vintage. The file's checksum is verified.
        """
        return self._read(name)[0]

    def revisions(self, name: str) -> pd.DataFrame:
        """Return every revision of ``name``: columns ``date, vintage, previous, value, removed``.

        One row per stored value that replaced an earlier value of the same date
        (first appearances, and reappearances after a removal, are not revisions), and
        one row per removal (``removed`` True, ``value`` NaN). Sorted by vintage then
        date.
        """
        table = self.vintages(name)
        grouped = table.groupby("date", sort=False)
        previous = grouped["value"].shift(1)
        prev_removed = grouped["removed"].shift(1, fill_value=True).astype(bool)
        is_rev = ~prev_removed
        out = table.assign(previous=previous)[is_rev.to_numpy()]
        out = out[["date", "vintage", "previous", "value", "removed"]]
        return out.sort_values(["vintage", "date"], kind="stable").reset_index(drop=True)

    def history(self, name: str) -> pd.DataFrame:
        """Return one row per stored vintage of ``name``, oldest first.

        Parameters
        ----------
        name : str
            Series name.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`HISTORY_COLUMNS`:

            * ``vintage`` (``datetime64[ns, UTC]``): from when the store knew the rows;
            * ``committed_at``, ``fetched_at`` (UTC, NaT when unknown): when the write
              was committed and the ``fetched_at`` it was given (they differ from
              ``vintage`` when a write was placed after a newer vintage; see the module
              docstring);
            * ``source``, ``source_id``: provenance of the write (``"rollback"`` for
              :meth:`rollback`);
            * ``rows_added``, ``rows_revised``, ``rows_removed`` (int): computed from the
              stored rows, so they hold for every file;
            * ``file_sha256``: SHA-256 of the imported file when the write's ``meta``
              gave ``file_sha256``, else None;
            * ``note``: the write's ``meta["note"]`` or the rollback's description.

        Notes
        -----
        Writes that changed nothing create no vintage and are not listed (see
        :meth:`log`). Stores written before the history existed (schema 1) get the
        provenance from ``log.jsonl`` where it has the vintage, else ``"unknown"``.

        Examples
        --------
        >>> import tempfile
        >>> from oilimpact.frames import to_series_frame
        >>> store = Store(tempfile.mkdtemp())
        >>> s = to_series_frame([70.0, 71.0], ["2025-01-02", "2025-01-03"], "brent")
        >>> _ = store.write(s, source="file", source_id="brent.csv",
        ...                 fetched_at="2025-01-04T12:00Z", meta={"file_sha256": "ab12"})
        >>> _ = store.write(s + 1, source="fred", source_id="DCOILBRENTEU",
        ...                 fetched_at="2025-01-05T12:00Z")
        >>> store.history("brent")[["source", "rows_added", "rows_revised", "file_sha256"]]
          source  rows_added  rows_revised file_sha256
        0   file           2             0        ab12
        1   fred           0             2        None
        """
        table, records = self._read(name)
        counts = _vintage_counts(table)
        by_vintage = {str(r.get("vintage")): r for r in records}
        missing = [v for v in counts.index if _iso_utc(v) not in by_vintage]
        if missing:
            by_vintage = {**self._log_provenance(name), **by_vintage}
        rows = []
        for vintage, row in counts.iterrows():
            rec = by_vintage.get(_iso_utc(vintage), {})  # type: ignore[arg-type]
            rows.append(
                {
                    "vintage": vintage,
                    "committed_at": _maybe_utc(rec.get("committed_at")),
                    "fetched_at": _maybe_utc(rec.get("fetched_at")),
                    "source": rec.get("source") or "unknown",
                    "source_id": rec.get("source_id") or "",
                    "rows_added": int(row["added"]),
                    "rows_revised": int(row["revised"]),
                    "rows_removed": int(row["removed"]),
                    "file_sha256": rec.get("file_sha256"),
                    "note": rec.get("note"),
                }
            )
        out = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
        for col in ("vintage", "committed_at", "fetched_at"):
            out[col] = pd.to_datetime(out[col], utc=True).astype("datetime64[ns, UTC]")
        for col in ("rows_added", "rows_revised", "rows_removed"):
            out[col] = out[col].astype("int64")
        for col in ("file_sha256", "note"):
            out[col] = pd.Series(
                [None if pd.isna(v) else v for v in out[col]], index=out.index, dtype=object
            )
        return out

    def log(self, name: str | None = None) -> pd.DataFrame:
        """Return the write log (``log.jsonl``) as a DataFrame, optionally for one series.

        Columns include ``written_at, action, series, fetched_at, vintage, source,
        source_id, rows_added, rows_revised, unchanged, checksum``. A truncated last line
        (a writer killed while appending) is skipped.
        """
        records: list[dict[str, Any]] = []
        with contextlib.suppress(FileNotFoundError):
            for line in self.log_path.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(json.JSONDecodeError):
                    rec = json.loads(line)
                    if isinstance(rec, dict) and (name is None or rec.get("series") == name):
                        records.append(rec)
        return pd.DataFrame.from_records(records)

    def verify(self, name: str | None = None) -> list[str]:
        """Check the store (or one series) and return the problems found, [] when sound.

        Checks that the manifest parses, that every entry's file is a plain name inside
        ``series/``, exists, matches its SHA-256, decodes, has unique ``(date,
        vintage)`` rows, and that the manifest's ``rows`` and ``n_vintages`` agree with
        the file. Reads only; takes no lock.
        """
        try:
            names = [name] if name is not None else self.names()
        except StoreError as exc:
            return [str(exc)]
        problems: list[str] = []
        for n in names:
            try:
                entry = self._require(n)
                table = self.vintages(n)
                latest = self.load(n)
            except (StoreError, InputError) as exc:
                problems.append(str(exc))
                continue
            if table.duplicated(["date", "vintage"]).any():
                problems.append(f"series {n!r}: duplicate (date, vintage) rows in {entry.file}")
            if int(latest.notna().sum()) != entry.rows:
                problems.append(
                    f"series {n!r}: manifest says {entry.rows} values, {entry.file} holds "
                    f"{int(latest.notna().sum())}"
                )
            if table["vintage"].nunique() != entry.n_vintages:
                problems.append(
                    f"series {n!r}: manifest says {entry.n_vintages} vintages, {entry.file} "
                    f"holds {table['vintage'].nunique()}"
                )
        return problems

    def refresh_start(
        self,
        name: str,
        overlap: int | str | pd.Timedelta | pd.DateOffset | None = None,
        frequency: Frequency | None = None,
    ) -> pd.Timestamp | None:
        """Return the date an incremental fetch of ``name`` should start from.

        Parameters
        ----------
        name : str
            Series name.
        overlap : int, str, Timedelta or DateOffset, optional
            How far before the last stored date to start, so that recent revisions are
            caught. An int counts stored observations (``10`` re-fetches the last ten);
            a string is read by :func:`pandas.Timedelta` (``"14D"``). Default by
            frequency: 14 days daily, 8 weeks weekly, 6 months monthly.
        frequency : {"daily", "weekly", "monthly"}, optional
            Used for the default overlap; else taken from the manifest, else inferred
            from the spacing of the stored dates.

        Returns
        -------
        pandas.Timestamp or None
            Normalised start date, or None when the series is absent or has no values
            (fetch the full history).
        """
        entry = self.entry(name)
        if entry is None or entry.last is None:
            return None
        if isinstance(overlap, int) and not isinstance(overlap, bool):
            if overlap < 1:
                raise InputError(f"overlap must be at least 1 observation, got {overlap}")
            dates = self.load(name).dropna().index
            return pd.Timestamp(dates[max(len(dates) - overlap, 0)])
        if overlap is None:
            freq = frequency or entry.frequency or infer_frequency(self.load(name).dropna().index)
            if freq not in _DEFAULT_OVERLAP:
                raise InputError(
                    f"frequency must be one of {sorted(_DEFAULT_OVERLAP)}, got {freq!r}"
                )
            offset: pd.DateOffset | pd.Timedelta = _DEFAULT_OVERLAP[freq]
        else:
            offset = pd.Timedelta(overlap) if isinstance(overlap, str) else overlap
        return (entry.last - offset).normalize()

    # ---- writing

    def write(
        self,
        series: pd.Series,
        *,
        source: str,
        source_id: str,
        fetched_at: DateLike | None = None,
        name: str | None = None,
        unit: str | None = None,
        frequency: str | None = None,
        kind: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> WriteResult:
        """Merge ``series`` into the store as a new vintage.

        For each date of ``series`` a row is appended only when the date is new (or
        removed) or its value differs from the latest stored value (NaN equals NaN; a
        change to NaN is a revision). Dates not in ``series`` are kept. A write that
        changes nothing does not rewrite the file and creates no vintage, but still
        records ``fetched_at`` in the manifest and the log.

        Parameters
        ----------
        series : pandas.Series
            Values in the frame convention; validate it before writing.
        source, source_id : str
            Provenance: provider and its id (``"fred"``, ``"DCOILBRENTEU"``).
        fetched_at : date-like, optional
            When the data was fetched (tz-naive means UTC); default now. It becomes the
            vintage of the new rows unless the series already has a vintage at or after
            it: then the rows are stored one microsecond after the newest vintage, so
            the later commit wins (see :attr:`WriteResult.concurrent`).
        name : str, optional
            Store name; default ``series.name``.
        unit, frequency, kind : str, optional
            Recorded in the manifest; None keeps the earlier value.
        meta : mapping, optional
            JSON-compatible metadata of this write; replaces the earlier ``meta``.
            ``meta["file_sha256"]`` (hash of an imported file) and ``meta["note"]`` are
            also kept per vintage in :meth:`history`.

        Returns
        -------
        WriteResult

        Raises
        ------
        InputError
            Bad name, index that is not dates, duplicate or missing dates, non-numeric
            values, or ``meta`` that is not JSON-compatible.
        StoreError
            The disk write failed or a lock was not obtained; the store is unchanged.
        """
        name = _check_name(name if name is not None else series.name)
        frame = _normalise_input(series, name)
        fetched = _utc(fetched_at) if fetched_at is not None else _now()
        meta_dict = _check_meta(meta)
        with self._lock(name):
            _crash_point("write:locked")
            current = self._read_manifest().get(name)
            old, records = self._sweep_and_read(name, current)
            vintage, concurrent = _place(old, fetched)
            merged, added, revised = _merge(old, frame, vintage)
            _crash_point("write:merged")
            changed = added + revised > 0
            warnings: tuple[str, ...] = ()
            if current is not None and not changed:
                file_name, checksum, table = current.file, current.checksum, old
            else:
                table = merged
                rec = _history_record(
                    vintage, fetched, source, source_id, added, revised, 0,
                    meta_dict.get("file_sha256"), meta_dict.get("note"),
                )  # fmt: skip
                file_name, checksum = self._write_parquet(name, table, [*records, rec])
                if concurrent:
                    warnings = (_concurrent_warning(name, fetched, vintage, concurrent, old),)
            entry = _make_entry(
                name, file_name, checksum, table, current, fetched, source=source,
                source_id=source_id, unit=unit, frequency=frequency, kind=kind, meta=meta_dict,
            )  # fmt: skip
            record = _write_log_record(
                name, fetched, vintage if changed else None, source, source_id, added, revised,
                checksum,
            )  # fmt: skip
            self._commit_and_clean(name, entry, record, current, file_name)
        for text in warnings:
            logger.warning("%s", text)
        return WriteResult(
            name,
            added,
            revised,
            not changed,
            self.series_dir / file_name,
            checksum,
            rows_removed=0,
            vintage=vintage if changed else None,
            fetched_at=fetched,
            concurrent=concurrent if changed else (),
            warnings=warnings,
        )

    def rollback(
        self, name: str, to: DateLike | None = None, *, note: str | None = None
    ) -> WriteResult:
        """Restore ``name`` to its state at vintage ``to``, as a new vintage.

        Nothing is deleted: values that differ from the state at ``to`` are written
        back, dates that did not exist at ``to`` get a removal marker, all at a new
        vintage (now, or one microsecond after the newest vintage). ``load(name)`` then
        equals ``load(name, as_of=to)``; every earlier state stays readable with
        ``as_of``, and a rollback can itself be rolled back.

        Parameters
        ----------
        name : str
            Series name.
        to : date-like, optional
            A vintage of the series exactly as :meth:`history` lists it (tz-naive means
            UTC). Default: the vintage before the newest one (undo the latest write).
        note : str, optional
            Kept in :meth:`history`; default ``"rollback to <to>"``.

        Returns
        -------
        WriteResult
            ``rows_added`` (dates restored), ``rows_revised`` (values restored),
            ``rows_removed`` (dates hidden); ``unchanged`` when the series already
            equals that state (no vintage is created).

        Raises
        ------
        StoreError
            The series is not stored, has a single vintage (nothing to roll back to;
            :meth:`delete` removes it), or ``to`` is not one of its vintages (the message
            lists the newest ones).

        Examples
        --------
        >>> import tempfile
        >>> from oilimpact.frames import to_series_frame
        >>> store = Store(tempfile.mkdtemp())
        >>> good = to_series_frame([70.0, 71.0], ["2025-01-02", "2025-01-03"], "brent")
        >>> bad = to_series_frame([20.0, 21.0, 22.0],
        ...                       ["2025-01-02", "2025-01-03", "2025-01-06"], "brent")
        >>> _ = store.write(good, source="fred", source_id="X", fetched_at="2025-01-04")
        >>> _ = store.write(bad, source="file", source_id="vix.csv", fetched_at="2025-01-07")
        >>> r = store.rollback("brent")
        >>> r.rows_revised, r.rows_removed, store.load("brent").tolist()
        (2, 1, [70.0, 71.0])
        >>> store.history("brent")["source"].tolist()
        ['fred', 'file', 'rollback']
        """
        name = _check_name(name)
        with self._lock(name):
            _crash_point("write:locked")
            current = self._require(name)
            old, records = self._sweep_and_read(name, current)
            stamps = pd.DatetimeIndex(old["vintage"].unique()).sort_values()
            target = _rollback_target(name, stamps, to)
            when = _now()
            vintage, _ = _place(old, when)
            restored = _state(old[old["vintage"] <= target])
            rows, added, revised, removed = _rollback_rows(_state(old), restored, vintage)
            _crash_point("write:merged")
            changed = len(rows) > 0
            if not changed:
                file_name, checksum, table = current.file, current.checksum, old
            else:
                table = pd.concat([old, rows], ignore_index=True)
                table = table.sort_values(["date", "vintage"], kind="stable")
                table = table.reset_index(drop=True)
                text = note or f"rollback to {_iso_utc(target)}"
                rec = _history_record(
                    vintage, when, "rollback", f"to {_iso_utc(target)}", added, revised,
                    removed, None, text,
                )  # fmt: skip
                file_name, checksum = self._write_parquet(name, table, [*records, rec])
            meta = {**current.meta, "rolled_back_to": _iso_utc(target)}
            entry = _make_entry(
                name, file_name, checksum, table, current, current.fetched_at,
                source=current.source, source_id=current.source_id, unit=None,
                frequency=None, kind=None, meta=meta,
            )  # fmt: skip
            record = _rollback_log_record(
                name, target, vintage if changed else None, added, revised, removed, checksum
            )
            self._commit_and_clean(name, entry, record, current, file_name)
        return WriteResult(
            name,
            added,
            revised,
            not changed,
            self.series_dir / file_name,
            checksum,
            rows_removed=removed,
            vintage=vintage if changed else None,
            fetched_at=None,
        )

    def delete(self, name: str) -> bool:
        """Remove ``name`` from the manifest and delete its files; return whether it existed.

        Works on a series whose file is missing or corrupt (the way to start it afresh).
        Unlike :meth:`rollback` this forgets every vintage; it is recorded in the log.
        """
        _check_name(name)
        with self._lock(name):
            current = self._read_manifest().get(name)
            if current is None:
                self._remove_orphans(name, None)
                return False
            self._commit(
                name, None, {"action": "delete", "series": name, "checksum": current.checksum}
            )
            self._remove_orphans(name, None)
        return True

    # ---- internals

    @contextlib.contextmanager
    def _lock(self, name: str | None) -> Iterator[None]:
        """Hold the lock of series ``name`` (None: the manifest's) for the block."""
        lock_dir = self.root / _LOCK_DIR
        try:
            lock_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"{self.root}: cannot create the store directory ({_reason(exc)}); "
                f"{self._writable_hint()}"
            ) from exc
        lock_path = lock_dir / ("manifest.lock" if name is None else f"series-{name}.lock")
        try:
            lock = FileLock(str(lock_path), timeout=self.lock_timeout)
            lock.acquire()
        except Timeout:
            raise StoreError(
                f"{lock_path}: another process has held the lock on "
                f"{'the manifest' if name is None else repr(name)} for more than "
                f"{self.lock_timeout:g} s; try again when it has finished"
            ) from None
        except OSError as exc:  # read-only store, no permission, ...
            raise StoreError(
                f"{lock_path}: cannot lock the store for writing ({_reason(exc)}); "
                f"{self._writable_hint()}"
            ) from exc
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock.release()

    def _writable_hint(self) -> str:
        return (
            f"check that {self.root} exists and is writable by you, or point --data-dir / "
            f"{DATA_DIR_ENV} at a writable directory (reading needs no write access)"
        )

    def _read(self, name: str) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        """The long table of ``name`` and its per-vintage history records (verified)."""
        _check_name(name)
        for _attempt in range(5):
            entry = self._require(name)
            path = self._file_of(entry)
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                newer = self.entry(name)
                if newer is not None and newer.file != entry.file:
                    continue  # a writer replaced the file between our two reads
                raise StoreError(
                    f"{path}: file of series {name!r} is missing; delete the series "
                    f"(Store.delete) and re-fetch or re-import it"
                ) from None
            except OSError as exc:
                raise StoreError(f"{path}: cannot read series {name!r}: {exc}") from exc
            return _decode(data, path, name, entry.checksum)
        raise StoreError(f"series {name!r} kept changing while being read; try again")

    def _log_provenance(self, name: str) -> dict[str, dict[str, Any]]:
        """Provenance of schema-1 vintages from ``log.jsonl``: vintage (ISO) -> record."""
        out: dict[str, dict[str, Any]] = {}
        log = self.log(name)
        if log.empty or "fetched_at" not in log:
            return out
        for rec in log.to_dict("records"):
            if rec.get("action", "write") != "write" or rec.get("unchanged"):
                continue
            key = rec.get("vintage") if isinstance(rec.get("vintage"), str) else None
            key = key or rec.get("fetched_at")
            if isinstance(key, str):
                out[key] = {
                    "vintage": key,
                    "committed_at": rec.get("written_at"),
                    "fetched_at": rec.get("fetched_at"),
                    "source": rec.get("source"),
                    "source_id": rec.get("source_id"),
                }
        return out

    def _sweep_and_read(
        self, name: str, current: ManifestEntry | None
    ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        """Remove files no manifest entry names (lock of ``name`` held), then read ``name``.

        A series not stored yet (``current`` None) reads as an empty table and history.
        """
        self._remove_orphans(name, current)
        _crash_point("write:swept")
        return (_empty_table(), []) if current is None else self._read(name)

    def _commit_and_clean(
        self,
        name: str,
        entry: ManifestEntry,
        record: dict[str, Any],
        current: ManifestEntry | None,
        file_name: str,
    ) -> None:
        """Commit ``entry`` (lock of ``name`` held), then remove the superseded file."""
        try:
            self._commit(name, entry, record)
        except BaseException:
            self._discard_uncommitted(name, file_name)
            raise
        _crash_point("write:committed")
        if current is not None and current.file != file_name:
            _unlink(self._file_of(current))
        _crash_point("write:old-file-removed")
        _crash_point("write:done")

    def _file_of(self, entry: ManifestEntry) -> Path:
        """The Parquet path of ``entry``; refuses a ``file`` that is not a plain name."""
        if not _is_plain_file_name(entry.file):
            raise StoreError(
                f"{self.manifest_path}: manifest entry for {entry.name!r} points outside the "
                f"store (file {entry.file!r}); it must be a file name inside {self.series_dir}. "
                f"Restore the manifest from a backup, or delete the series (Store.delete) and "
                f"re-fetch or re-import it"
            )
        return self.series_dir / entry.file

    def _require(self, name: str) -> ManifestEntry:
        entry = self._read_manifest().get(name)
        if entry is None:
            known = ", ".join(self.names()) or "none"
            raise StoreError(
                f"series {name!r} is not in the store at {self.root} (stored: {known}); "
                f"fetch or import it first"
            )
        if entry.schema_version > SCHEMA_VERSION:
            raise StoreError(
                f"series {name!r} was written with store schema {entry.schema_version}, this "
                f"oilimpact reads up to {SCHEMA_VERSION}; upgrade oilimpact"
            )
        return entry

    def _read_manifest(self) -> dict[str, ManifestEntry]:
        try:
            raw = self.manifest_path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StoreError(f"{self.manifest_path}: cannot read the manifest: {exc}") from exc
        try:
            data = json.loads(raw)
            return {n: ManifestEntry.from_json(e) for n, e in data["series"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StoreError(
                f"{self.manifest_path}: manifest is corrupt ({exc}); restore it from a "
                f"backup, or move the store aside and re-fetch"
            ) from exc

    def _commit(self, name: str, entry: ManifestEntry | None, record: dict[str, Any]) -> None:
        """Replace ``name``'s manifest entry (None removes it), then append ``record``."""
        with self._lock(None):
            _crash_point("manifest:locked")
            for tmp in self.root.glob(f".{_MANIFEST}.*.tmp"):
                _unlink(tmp)
            _crash_point("manifest:swept")
            entries = self._read_manifest()
            if entry is None:
                entries.pop(name, None)
            else:
                entries[name] = entry
            doc = {
                "format": "oilimpact-store",
                "schema_version": SCHEMA_VERSION,
                "series": {n: entries[n].to_json() for n in sorted(entries)},
            }
            data = json.dumps(doc, indent=2, sort_keys=True).encode("utf-8") + b"\n"
            _atomic_write(self.manifest_path, data, hint=self._writable_hint(), step="manifest")
            record = {"written_at": _iso_utc(_now()), **record}
            with contextlib.suppress(OSError):  # the log is informational
                _append_line(self.log_path, json.dumps(record, sort_keys=True))
            _crash_point("log:appended")

    def _write_parquet(
        self, name: str, table: pd.DataFrame, history: list[dict[str, Any]]
    ) -> tuple[str, str]:
        data = _encode(table, name, history)
        checksum = hashlib.sha256(data).hexdigest()
        file_name = f"{name}.{checksum[:16]}.parquet"
        try:
            self.series_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"{self.series_dir}: cannot create directory ({_reason(exc)}); "
                f"{self._writable_hint()}"
            ) from exc
        _atomic_write(self.series_dir / file_name, data, hint=self._writable_hint(), step="parquet")
        return file_name, checksum

    def _discard_uncommitted(self, name: str, file_name: str) -> None:
        """After a failed commit, delete ``file_name`` unless the manifest refers to it."""
        try:
            committed = self._read_manifest().get(name)
        except StoreError:
            return  # leave it to the next write's orphan sweep
        if committed is None or committed.file != file_name:
            _unlink(self.series_dir / file_name)

    def _remove_orphans(self, name: str, current: ManifestEntry | None) -> None:
        """Delete temp files and unreferenced Parquet files of ``name`` (lock held).

        Only regular files directly inside ``series/`` whose names are ``name``'s store
        files are touched; a listing or deletion that fails is skipped (best effort).
        """
        keep = None if current is None else current.file
        try:
            if not self.series_dir.is_dir():
                return
            paths = list(self.series_dir.iterdir())
        except OSError as exc:
            logger.debug("store: cannot list %s: %s", self.series_dir, exc)
            return
        for path in paths:
            if _series_of_file(path.name) == name and path.name != keep:
                _unlink(path)


# --------------------------------------------------------------------------- helpers


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or name.endswith("."):
        raise InputError(
            f"store name must be 1-100 characters of a-z, 0-9, '_', '.', '-', starting "
            f"with a letter, digit or '_' and not ending with '.', got {name!r}"
        )
    return name


#: Manifest fields that may be unset; :meth:`Store.manifest` shows them as None.
_OPTIONAL_FIELDS = ("first", "last", "unit", "frequency", "kind")


def _is_plain_file_name(file_name: object) -> bool:
    """True for a bare file name (no directory part, not ``.``/``..``, no NUL).

    Examples
    --------
    >>> [_is_plain_file_name(f) for f in ("a.0123456789abcdef.parquet", "../x", "/tmp/x", "..")]
    [True, False, False, False]
    """
    return (
        isinstance(file_name, str)
        and file_name not in ("", ".", "..")
        and "/" not in file_name
        and "\\" not in file_name
        and "\x00" not in file_name
        and ":" not in file_name
        and os.path.basename(file_name) == file_name
    )


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _series_of_file(file_name: str) -> str | None:
    """Series name of a store file (``<name>.<hash>.parquet`` or its temp file), else None."""
    if file_name.startswith(".") and file_name.endswith(".tmp"):
        file_name = file_name[1:-4].rpartition(".")[0]
    if not file_name.endswith(".parquet"):
        return None
    base, _, token = file_name[: -len(".parquet")].rpartition(".")
    return base if base and _TOKEN_RE.fullmatch(token) else None


def _utc(value: DateLike) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InputError(f"expected a date or time, got {value!r}") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise InputError(f"expected a date or time, got {value!r}")
    ts = ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")
    return ts.as_unit("ns")


def _iso_utc(ts: pd.Timestamp) -> str:
    return ts.tz_convert("UTC").isoformat().replace("+00:00", "Z")


def _check_meta(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    if meta is None:
        return {}
    try:
        return json.loads(json.dumps(dict(meta), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InputError(f"meta must be JSON-compatible: {exc}") from exc


def _normalise_input(series: pd.Series, name: str) -> pd.DataFrame:
    if not isinstance(series, pd.Series):
        raise InputError(f"series {name!r}: expected a pandas Series, got {type(series).__name__}")
    try:
        clean = to_series_frame(series.to_numpy(), series.index, name)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"series {name!r}: cannot store it in the frame convention: {exc}"
        ) from exc
    if clean.index.hasnans:
        raise InputError(f"series {name!r}: index has missing dates")
    dup = clean.index[clean.index.duplicated()]
    if len(dup):
        raise InputError(f"series {name!r}: duplicate dates, first {dup[0]:%Y-%m-%d}")
    clean = clean.sort_index()
    return pd.DataFrame({"date": clean.index.to_numpy(), "value": clean.to_numpy()})


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").as_unit("ns")


def _maybe_utc(value: object) -> pd.Timestamp:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return pd.NaT  # type: ignore[return-value]
    try:
        return _utc(value)  # type: ignore[arg-type]
    except InputError:
        return pd.NaT  # type: ignore[return-value]


def _crash_point(step: str) -> None:
    """Test hook: SIGKILL this process at ``step`` when ``$OILIMPACT_TEST_CRASH_AT`` says so.

    The variable holds ``step`` or ``step@n`` (the n-th time the step is reached in this
    process, 1-based). Unset (normal use) this is one dictionary lookup.
    """
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition("@")
    if point != step:
        return
    _crash_counts[step] = _crash_counts.get(step, 0) + 1
    if _crash_counts[step] >= (int(nth) if nth else 1):
        os.kill(os.getpid(), signal.SIGKILL)


def _crash_armed(step: str) -> bool:
    """True when :func:`_crash_point` ``(step)`` would kill now (for partial writes)."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return False
    point, _, nth = wanted.partition("@")
    return point == step and _crash_counts.get(step, 0) + 1 >= (int(nth) if nth else 1)


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.Series([], dtype="datetime64[ns]"),
            "value": pd.Series([], dtype="float64"),
            "vintage": pd.Series([], dtype="datetime64[ns, UTC]"),
            "removed": pd.Series([], dtype="bool"),
        }
    )


def _state(table: pd.DataFrame) -> pd.DataFrame:
    """Latest row per date of a long table (sorted by date, vintage), removals dropped."""
    latest = table.drop_duplicates("date", keep="last")
    return latest[~latest["removed"].to_numpy(dtype=bool)]


def _place(
    old: pd.DataFrame, fetched: pd.Timestamp
) -> tuple[pd.Timestamp, tuple[pd.Timestamp, ...]]:
    """Vintage of a write fetched at ``fetched``, and the stored vintages after ``fetched``.

    ``vintage = max(fetched, newest stored vintage + 1 us)``: vintages follow commit
    order, so the later commit wins in :meth:`Store.load`.
    """
    if old.empty:
        return fetched, ()
    stamps = pd.DatetimeIndex(old["vintage"].unique())
    later = tuple(pd.Timestamp(t) for t in stamps[stamps >= fetched].sort_values())
    newest = stamps.max()
    return (fetched if fetched > newest else newest + _ONE_US), later


def _concurrent_warning(
    name: str,
    fetched: pd.Timestamp,
    vintage: pd.Timestamp,
    later: tuple[pd.Timestamp, ...],
    old: pd.DataFrame,
) -> str:
    return (
        f"series {name!r}: {len(later)} vintage(s) were stored after this data was fetched "
        f"at {_iso_utc(fetched)} (newest {_iso_utc(later[-1])}, by another writer or an "
        f"earlier run); this write was committed after them and is stored at vintage "
        f"{_iso_utc(vintage)}, so its values now win; the superseded values stay readable "
        f"with as_of={_iso_utc(later[-1])}"
    )


def _history_record(
    vintage: pd.Timestamp,
    fetched: pd.Timestamp,
    source: str,
    source_id: str,
    added: int,
    revised: int,
    removed: int,
    file_sha256: object,
    note: object,
) -> dict[str, Any]:
    return {
        "vintage": _iso_utc(vintage),
        "committed_at": _iso_utc(_now()),
        "fetched_at": _iso_utc(fetched),
        "source": str(source),
        "source_id": str(source_id),
        "rows_added": int(added),
        "rows_revised": int(revised),
        "rows_removed": int(removed),
        "file_sha256": None if file_sha256 is None else str(file_sha256),
        "note": None if note is None else str(note),
    }


def _write_log_record(
    name: str,
    fetched: pd.Timestamp,
    vintage: pd.Timestamp | None,
    source: str,
    source_id: str,
    added: int,
    revised: int,
    checksum: str,
) -> dict[str, Any]:
    """The log line of a write (``vintage`` None: nothing changed)."""
    return {
        "action": "write",
        "series": name,
        "fetched_at": _iso_utc(fetched),
        "vintage": None if vintage is None else _iso_utc(vintage),
        "source": source,
        "source_id": source_id,
        "rows_added": added,
        "rows_revised": revised,
        "unchanged": vintage is None,
        "checksum": checksum,
    }


def _rollback_log_record(
    name: str,
    target: pd.Timestamp,
    vintage: pd.Timestamp | None,
    added: int,
    revised: int,
    removed: int,
    checksum: str,
) -> dict[str, Any]:
    """The log line of a rollback (``vintage`` None: the series already equalled ``target``)."""
    return {
        "action": "rollback",
        "series": name,
        "to": _iso_utc(target),
        "vintage": None if vintage is None else _iso_utc(vintage),
        "rows_added": added,
        "rows_revised": revised,
        "rows_removed": removed,
        "unchanged": vintage is None,
        "checksum": checksum,
    }


def _vintage_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Rows added, revised and removed per vintage (index: sorted vintages)."""
    prev_removed = (
        table.groupby("date", sort=False)["removed"].shift(1, fill_value=True).astype(bool)
    )
    removed = table["removed"].to_numpy(dtype=bool)
    kind = pd.DataFrame(
        {
            "vintage": table["vintage"],
            "added": ~removed & prev_removed.to_numpy(),
            "revised": ~removed & ~prev_removed.to_numpy(),
            "removed": removed,
        }
    )
    return kind.groupby("vintage", sort=True)[["added", "revised", "removed"]].sum()


def _rollback_target(name: str, stamps: pd.DatetimeIndex, to: DateLike | None) -> pd.Timestamp:
    if to is None:
        if len(stamps) < 2:
            raise StoreError(
                f"series {name!r} has a single vintage ({_iso_utc(stamps[0])}): there is "
                f"nothing to roll back to; Store.delete removes the series"
            )
        return pd.Timestamp(stamps[-2])
    target = _utc(to)
    if target not in stamps:
        shown = ", ".join(_iso_utc(t) for t in stamps[-5:])
        more = f" (newest 5 of {len(stamps)})" if len(stamps) > 5 else ""
        raise StoreError(
            f"series {name!r} has no vintage {_iso_utc(target)}; its vintages{more}: "
            f"{shown}; see Store.history / 'oilimpact history {name}'"
        )
    return target


def _rollback_rows(
    now: pd.DataFrame, then: pd.DataFrame, vintage: pd.Timestamp
) -> tuple[pd.DataFrame, int, int, int]:
    """Rows turning the state ``now`` into ``then`` at ``vintage``; #added, #revised, #removed."""
    both = then[["date", "value"]].merge(
        now[["date", "value"]], on="date", how="left", suffixes=("", "_now"), indicator=True
    )
    is_new = (both["_merge"] == "left_only").to_numpy()
    a, b = both["value"].to_numpy(), both["value_now"].to_numpy()
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    put = both.loc[is_new | ~same, ["date", "value"]].assign(removed=False)
    gone = now.loc[~now["date"].isin(then["date"]), ["date"]].assign(value=np.nan, removed=True)
    rows = pd.concat([put, gone], ignore_index=True).assign(vintage=vintage)
    rows = rows[["date", "value", "vintage", "removed"]].astype(
        {"date": "datetime64[ns]", "value": "float64", "removed": "bool"}
    )
    return rows, int(is_new.sum()), int((~is_new & ~same).sum()), len(gone)


def _merge(
    old: pd.DataFrame, new: pd.DataFrame, vintage: pd.Timestamp
) -> tuple[pd.DataFrame, int, int]:
    """Add ``new`` at ``vintage`` to the long table ``old``; return it, #added, #revised.

    A date is *added* when it is not in the state at ``vintage`` (new, or removed).
    """
    known = _state(old[old["vintage"] <= vintage])
    both = new.merge(
        known[["date", "value"]], on="date", how="left", suffixes=("", "_old"), indicator=True
    )
    is_new = (both["_merge"] == "left_only").to_numpy()
    a, b = both["value"].to_numpy(), both["value_old"].to_numpy()
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    changed = is_new | ~same
    n_added, n_revised = int(is_new.sum()), int((changed & ~is_new).sum())
    if not changed.any():
        return old, 0, 0
    rows = new[changed].assign(vintage=vintage, removed=False)
    # a row already at exactly this vintage is superseded (same instant: last write wins)
    stale = old["date"].isin(rows["date"]) & (old["vintage"] == vintage)
    table = pd.concat([old[~stale], rows], ignore_index=True)
    table = table.sort_values(["date", "vintage"], kind="stable").reset_index(drop=True)
    return table, n_added, n_revised


def _make_entry(
    name: str,
    file_name: str,
    checksum: str,
    table: pd.DataFrame,
    current: ManifestEntry | None,
    fetched: pd.Timestamp,
    **fields: Any,
) -> ManifestEntry:
    """The manifest entry after a commit: provenance of this (the latest) commit."""
    latest = _state(table)
    present = latest.loc[latest["value"].notna(), "date"]
    keep = {
        k: fields[k] if fields[k] is not None else getattr(current, k, None)
        for k in ("unit", "frequency", "kind")
    }
    last_fetch = fetched if current is None else max(fetched, current.fetched_at)
    return ManifestEntry(
        name=name,
        file=file_name,
        source=fields["source"],
        source_id=fields["source_id"],
        fetched_at=last_fetch,
        updated_at=table["vintage"].max() if len(table) else fetched,
        first=pd.Timestamp(present.iloc[0]) if len(present) else None,
        last=pd.Timestamp(present.iloc[-1]) if len(present) else None,
        rows=len(present),
        n_vintages=int(table["vintage"].nunique()),
        checksum=checksum,
        meta=fields["meta"],
        **keep,
    )


def _encode(table: pd.DataFrame, name: str, history: list[dict[str, Any]]) -> bytes:
    arrow = pa.table(
        {
            "date": pa.array(table["date"].to_numpy(dtype="datetime64[ns]"), pa.timestamp("ns")),
            "value": pa.array(
                table["value"].to_numpy(dtype="float64"), pa.float64(), from_pandas=False
            ),
            "vintage": pa.array(
                table["vintage"]
                .dt.tz_convert("UTC")
                .dt.tz_localize(None)
                .to_numpy(dtype="datetime64[ns]"),
                pa.timestamp("ns", tz="UTC"),
            ),
            "removed": pa.array(table["removed"].to_numpy(dtype=bool), pa.bool_()),
        }
    ).replace_schema_metadata(
        {
            "oilimpact.series": name,
            "oilimpact.schema_version": str(SCHEMA_VERSION),
            _HISTORY_KEY: json.dumps(history, sort_keys=True),
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(arrow, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def _decode(
    data: bytes, path: Path, name: str, checksum: str
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    got = hashlib.sha256(data).hexdigest()
    if got != checksum:
        raise StoreError(
            f"{path}: checksum mismatch for series {name!r} (manifest sha256 {checksum[:12]}..., "
            f"file {got[:12]}...): the file is corrupt or was changed outside oilimpact; "
            f"delete the series (Store.delete) and re-fetch or re-import it"
        )
    try:
        arrow = pq.read_table(pa.BufferReader(data))
        missing = [c for c in _COLUMNS if c not in arrow.column_names]
        if missing:
            raise ValueError(f"columns {missing} missing")
        frame = arrow.to_pandas()
        meta = arrow.schema.metadata or {}
        history = json.loads(meta[_HISTORY_KEY]) if _HISTORY_KEY in meta else []
        if not isinstance(history, list):
            raise ValueError("history metadata is not a list")
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise StoreError(
            f"{path}: cannot read series {name!r} ({exc}); delete the series "
            f"(Store.delete) and re-fetch or re-import it"
        ) from exc
    removed = (
        frame["removed"].to_numpy(dtype=bool)
        if "removed" in frame
        else np.zeros(len(frame), dtype=bool)
    )
    table = pd.DataFrame(
        {
            "date": pd.to_datetime(frame["date"]).astype("datetime64[ns]"),
            "value": frame["value"].astype("float64"),
            "vintage": pd.to_datetime(frame["vintage"], utc=True).astype("datetime64[ns, UTC]"),
            "removed": removed,
        }
    )
    return table, [r for r in history if isinstance(r, dict)]


def _window(series: pd.Series, start: DateLike | None, end: DateLike | None) -> pd.Series:
    mask = np.ones(len(series), dtype=bool)
    if start is not None:
        mask &= series.index >= pd.Timestamp(start).tz_localize(None).normalize()
    if end is not None:
        mask &= series.index <= pd.Timestamp(end).tz_localize(None).normalize()
    return series[mask]


def _atomic_write(path: Path, data: bytes, hint: str = "", step: str = "file") -> None:
    """Write ``data`` to ``path`` via a fsynced temp file in the same directory.

    ``step`` names the crash-hook points (``<step>:tmp-created`` ... ``<step>:dir-synced``).
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as fh:
            _crash_point(f"{step}:tmp-created")
            if _crash_armed(f"{step}:tmp-half-written"):
                fh.write(data[: len(data) // 2])
                fh.flush()
                _crash_point(f"{step}:tmp-half-written")
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _crash_point(f"{step}:tmp-synced")
        os.replace(tmp, path)
    except BaseException as exc:
        _unlink(tmp)
        if isinstance(exc, OSError):
            advice = hint or "check the permissions and the free disk space"
            raise StoreError(
                f"{path}: write failed, store left unchanged ({_reason(exc)}); {advice}"
            ) from exc
        raise
    _crash_point(f"{step}:renamed")
    _fsync_dir(path.parent)
    _crash_point(f"{step}:dir-synced")


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX); best effort, a failure here changes nothing."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _append_line(path: Path, line: str) -> None:
    with open(path, "a+b") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":  # a writer was killed mid-line: start a fresh one
                fh.write(b"\n")
        payload = line.encode("utf-8") + b"\n"
        if _crash_armed("log:half-written"):
            fh.write(payload[: len(payload) // 2])
            fh.flush()
            _crash_point("log:half-written")
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())


def _unlink(path: Path) -> None:
    """Remove a temporary or superseded file; best effort (it is swept again later)."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.debug("store: cannot remove %s: %s", path, exc)
