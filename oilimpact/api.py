"""The Python API that wires sources, store and schemas together.

Data flows one way: a provider or a file is parsed into a series, the series is
validated against its registry spec (pandera, lazily), and only then written to the
store. Studies read from the store through :func:`load` / :func:`load_frame`.

Examples
--------
Import a file into a temporary store and read it back (offline):

>>> import tempfile, pathlib
>>> import oilimpact as oi
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> _ = (tmp / "brent.csv").write_text("Date,Price\\n2025-12-16,58.92\\n2025-12-17,60.68\\n")
>>> report = oi.import_file(tmp / "brent.csv", name="brent", data_dir=tmp / "store")
>>> report.rows, report.status
(2, 'stored')
>>> oi.load("brent", data_dir=tmp / "store").iloc[-1]
np.float64(60.68)
"""

from __future__ import annotations

import hashlib
import logging
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .errors import (
    AuthError,
    ConfigError,
    EmptyDataError,
    InputError,
    OilImpactError,
    SourceError,
    StaleDataError,
    StoreError,
    ValidationError,
)
from .schemas import HEALTH_COLUMNS, validate_series
from .series import (
    LastUsed,
    SeriesRegistry,
    SeriesSpec,
    default_registry,
    infer_frequency,
    known_by,
    stale_since,
)
from .store import Store

__all__ = [
    "HEALTH_COLUMNS",
    "PointInTime",
    "StaleDataError",
    "VintageWarning",
    "build_brief",
    "default_as_of",
    "fetchable_series",
    "FetchOutcome",
    "ImportOutcome",
    "fetch",
    "import_file",
    "load",
    "load_frame",
    "load_panel",
    "open_store",
    "read_point_in_time",
    "status",
    "validate",
]

log = logging.getLogger(__name__)


DateLike = str | date | datetime | pd.Timestamp


def open_store(data_dir: str | Path | None = None) -> Store:
    """The store at ``data_dir``, else ``$OILIMPACT_DATA_DIR``, else ``./data``."""
    return Store.from_env(data_dir)


def _registry(registry: SeriesRegistry | str | Path | None) -> SeriesRegistry:
    if registry is None:
        return default_registry()
    if isinstance(registry, SeriesRegistry):
        return registry
    return default_registry().with_file(registry)


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What :func:`import_file` did with one file."""

    name: str
    path: str
    format: str
    rows: int
    first: date | None
    last: date | None
    rows_added: int
    rows_revised: int
    warnings: tuple[str, ...]
    status: Literal["stored", "unchanged"]


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """What :func:`fetch` did for one series."""

    name: str
    status: Literal["stored", "unchanged", "failed", "skipped"]
    source: str | None = None
    rows: int = 0
    rows_added: int = 0
    rows_revised: int = 0
    warnings: tuple[str, ...] = ()
    error: str | None = None
    attempts: tuple[str, ...] = field(default_factory=tuple)
    advice: tuple[str, ...] = ()


#: Where a provider's message turns from what went wrong to what the user can do.
_ADVICE_START = re.compile(
    r"(?:[.;,]\s+|\s+or\s+|\s+)(?=(?:check the network|set the \w+ environment variable|"
    r"use --offline|wait and try again|try again later))",
    re.IGNORECASE,
)


def _split_advice(ref: Any, exc: BaseException) -> tuple[str, str | None]:
    """``(reason, advice)`` of a source failure: one clean line and the advice apart.

    The reason drops the provider's own ``"fred: "`` prefix and everything from the first
    piece of advice on ("Check the network connection, or use --offline ..."), and is cut
    to 200 characters; the advice is returned once so callers can print it once.
    """
    text = " ".join(str(exc).split())
    text = re.sub(rf"^{re.escape(ref.provider)}:\s*", "", text)
    match = _ADVICE_START.search(text)
    reason, advice = (text[: match.start()], text[match.end() :]) if match else (text, None)
    reason = reason.rstrip(" .;,")
    if len(reason) > 200:
        reason = reason[:197].rstrip() + "..."
    if advice:
        advice = advice[0].upper() + advice[1:].rstrip(" .") + "."
    return reason, advice


def _store_validated(
    store: Store,
    series: pd.Series,
    spec: SeriesSpec,
    *,
    source: str,
    source_id: str,
    origin: str,
    fetched_at: pd.Timestamp | None,
    meta: Mapping[str, Any] | None = None,
    guard: bool = False,
    force: bool = False,
) -> tuple[Any, tuple[str, ...], pd.Series]:
    """Validate ``series``, optionally run the import guard, and write it.

    With ``guard`` the validated series is compared with the stored one
    (:func:`oilimpact.revisions.guard_import`): a wrong scale or a rewrite of most of the
    history raises :class:`~oilimpact.errors.ImportRefused` before anything is written,
    unless ``force`` (then the problems become warnings).
    """
    report = validate_series(series.rename(spec.name), spec, origin=origin)
    clean = report.series
    if not clean.notna().any():
        raise ValidationError(f"{spec.name} from {origin}: no non-missing values to store")
    found = list(report.warnings)
    if guard:
        from .revisions import guard_import

        stored = store.load(spec.name) if store.exists(spec.name) else None
        checked = guard_import(stored, clean, name=spec.name, source=origin, force=force)
        found += [f"forced import: {p}" for p in checked.problems]
    result = store.write(
        clean,
        source=source,
        source_id=source_id,
        fetched_at=fetched_at,
        unit=spec.unit,
        frequency=spec.frequency,
        kind=spec.kind,
        meta={
            "warnings": found,
            "origin": origin,
            **dict(meta or {}),
        },
    )
    return result, tuple(found), clean


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_new_name(name: str, reg: SeriesRegistry, store: Store, path: Path) -> None:
    """Refuse a name that is neither registered nor stored (a typo must not create a series)."""
    if name in reg or store.exists(name):
        return
    close = reg.suggest(name)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise InputError(
        f"{path}: series {name!r} is not in the registry and not stored; {hint}"
        f"Nothing was stored. To create a new series pass new=True (CLI --new), or register "
        f"it in a TOML file (--registry) to give its unit, bounds and publication lag"
    )


def import_file(
    path: str | Path,
    *,
    name: str,
    fmt: str = "auto",
    column: str | None = None,
    date_column: str | None = None,
    value_column: str | None = None,
    filters: Mapping[str, str] | None = None,
    unit: str | None = None,
    origin_country: str | None = None,
    preset: str | None = None,
    mapping: Mapping[str, str] | None = None,
    data_dir: str | Path | None = None,
    registry: SeriesRegistry | str | Path | None = None,
    fetched_at: DateLike | None = None,
    new: bool = False,
    force: bool = False,
    max_bytes: int | None = None,
    allow_future: bool = False,
) -> ImportOutcome:
    """Parse a file, validate it as series ``name`` and store it.

    Formats: ``fred`` (FRED's fredgraph CSV), ``eia`` (``Date,Price``), ``ohlc`` (e.g.
    CBOE VIX), ``yahoo`` (a yfinance CSV export), ``tidy`` (long CSV with filters) and
    ``tanker`` (Kpler/Vortexa-style cargo exports aggregated to kb/d); ``auto`` detects
    the format from the header.

    Nothing already stored changes unless the file parses, validates completely and
    passes the import guard; a refused import leaves the store byte-identical.

    Parameters
    ----------
    new : bool
        Allow a name that is neither registered nor stored (else refused with the nearest
        registered names: a typo must not create a series).
    force : bool
        Store even when the import guard (:mod:`oilimpact.revisions`) finds the file
        disagrees in scale with the stored series or would revise most of its history;
        the problems are then returned as warnings.
    max_bytes : int, optional
        Raise the reader's file-size limit (default
        :data:`oilimpact.sources.files.DEFAULT_MAX_BYTES`).
    allow_future : bool
        Accept rows dated after today (UTC); refused by default, every such row listed.

    The SHA-256 of the file is recorded in the write's metadata (``meta["file_sha256"]``)
    and shown by the store's history.

    Raises
    ------
    InputError
        The file cannot be parsed (the message names the file and line), or ``name`` is
        unknown and ``new`` is False.
    ImportRefused
        The guard refused the file (an :class:`InputError`; ``.report`` has the numbers).
    ValidationError
        The parsed series fails its schema (``.failures`` lists every problem).

    Examples
    --------
    A typo is refused, with the nearest registered name:

    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (tmp / "b.csv").write_text("Date,Price\\n2025-12-16,58.92\\n")
    >>> import_file(tmp / "b.csv", name="brnt", data_dir=tmp / "store")
    Traceback (most recent call last):
    ...
    oilimpact.errors.InputError: ...: series 'brnt' is not in the registry and not stored; did you mean brent? ...
    """
    from .sources import files

    path = Path(path)
    reg = _registry(registry)
    known = name in reg
    store = open_store(data_dir)
    if not new:
        _check_new_name(name, reg, store, path)
    limit: dict[str, Any] = {"max_bytes": int(max_bytes)} if max_bytes is not None else {}
    limit["allow_future"] = bool(allow_future)
    sized = {k: v for k, v in limit.items() if k == "max_bytes"}
    detected = fmt if fmt != "auto" else files.detect_format(path, **sized)
    _check_tanker_options(path, detected, origin=origin_country, preset=preset, mapping=mapping)
    if detected == "tanker":
        imported = files.read_tanker_export(
            path,
            name=name,
            mapping=mapping,
            preset=preset,
            **({"origin": origin_country} if origin_country else {}),
            frequency=reg[name].frequency if known else "monthly",
            **limit,
        )
    else:
        # a registered series is checked against its bounds in the same pass, so every
        # problem of the file is reported at once with its line and column
        imported = files.read_series_file(
            path, name=name, fmt=detected, column=column, date_column=date_column,
            value_column=value_column, filters=filters, unit=unit,
            spec=reg[name] if known else None, **limit,
        )  # fmt: skip
    spec, notes = _import_spec(
        name, reg, imported, kind="volume" if detected == "tanker" else "price", unit=unit
    )
    when = _as_utc(fetched_at, "fetched_at") if fetched_at is not None else None
    result, found, clean = _store_import(store, imported, spec, path, when, force=force)
    return _import_outcome(name, path, imported, result, clean, (*notes, *found))


def _store_import(
    store: Store,
    imported: Any,
    spec: SeriesSpec,
    path: Path,
    fetched_at: pd.Timestamp | None,
    *,
    force: bool,
) -> tuple[Any, tuple[str, ...], pd.Series]:
    """Validate, guard and store an imported file (:func:`_store_validated`), with its hash."""
    return _store_validated(
        store,
        imported.series,
        spec,
        source="file",
        source_id=str(imported.source_id or path.name),
        origin=str(path),
        fetched_at=fetched_at,
        meta={
            "file": str(path),
            "file_sha256": imported.sha256 or _sha256_of(path),
            "format": imported.format,
            "import_notes": list(imported.notes or []),
        },
        guard=True,
        force=force,
    )


def _check_tanker_options(path: Path, detected: str, **options: Any) -> None:
    """Refuse tanker-only options (origin, preset, mapping) for a file of another format."""
    given = [flag for flag, value in options.items() if value]
    if given and detected != "tanker":
        raise InputError(
            f"{path}: {', '.join(given)} apply only to tanker exports, but the file "
            f"reads as format {detected!r}; pass --format tanker if it is one"
        )


def _import_spec(
    name: str, reg: SeriesRegistry, imported: Any, *, kind: str, unit: str | None
) -> tuple[SeriesSpec, list[str]]:
    """The spec an import is validated against: the registered one, or a default (with a note)."""
    if name in reg:
        return reg[name], []
    spec = reg.spec_or_default(
        name,
        frequency=infer_frequency(imported.series.dropna().index),
        kind=kind,
        unit=unit or imported.unit or "",
    )
    note = (
        f"series {name!r} is not in the registry: stored as a {spec.frequency} {spec.kind} "
        f"series in {spec.unit or 'unknown units'} with no plausibility bounds; register it "
        "in a TOML file (--registry) to set its unit, bounds and sources"
    )
    return spec, [note]


def _import_outcome(
    name: str, path: Path, imported: Any, result: Any, clean: pd.Series, notes: tuple[str, ...]
) -> ImportOutcome:
    """What :func:`import_file` reports: the stored span, rows added/revised, warnings."""
    valid = clean.dropna()
    return ImportOutcome(
        name=name,
        path=str(path),
        format=str(imported.format),
        rows=int(valid.size),
        first=valid.index[0].date() if valid.size else None,
        last=valid.index[-1].date() if valid.size else None,
        rows_added=int(result.rows_added),
        rows_revised=int(result.rows_revised),
        warnings=(*notes, *getattr(result, "warnings", ())),
        status="unchanged" if result.unchanged else "stored",
    )


def fetch(
    names: Iterable[str] | None = None,
    *,
    data_dir: str | Path | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    full: bool = False,
    providers: Sequence[str] | None = None,
    registry: SeriesRegistry | str | Path | None = None,
    sources: Mapping[str, Any] | None = None,
    on_progress: Callable[[str, FetchOutcome], None] | None = None,
) -> list[FetchOutcome]:
    """Fetch series from their providers, validate them, and store them.

    Each series tries its sources in registry order (``file`` sources are skipped:
    use :func:`import_file`). A provider that fails (no network, bad key, empty
    answer) is recorded and the next is tried; a series whose every source failed is
    reported as ``failed`` and nothing stored for it changes. Refreshes are
    incremental: from the last stored date minus an overlap that catches revisions,
    unless ``full`` or ``start`` is given. An incremental refresh that finds nothing
    new is ``unchanged``, not a failure.

    Parameters
    ----------
    sources : mapping of provider name to Source, optional
        Pre-built sources (e.g. ``{"fred": FredSource(base_url=...)}``) used instead of
        the defaults; handy for proxies, custom sessions and tests.

    Returns
    -------
    list of FetchOutcome
        One per series, in the order requested.
    """
    from .sources import NETWORK_PROVIDERS

    reg = _registry(registry)
    store = open_store(data_dir)
    only = _check_providers(providers, NETWORK_PROVIDERS)
    begin_arg = _as_date(start, "start")
    stop = _as_date(end, "end")
    wanted = reg.expand(names) if names else fetchable_series(reg)  # group names expand
    outcomes: list[FetchOutcome] = []
    for name in wanted:
        outcome = _fetch_one(
            store, name, reg[name], only, begin_arg=begin_arg, stop=stop, full=full,
            sources=sources,
        )  # fmt: skip
        outcomes.append(outcome)
        if on_progress is not None:
            on_progress(name, outcome)
    return outcomes


def _fetch_one(
    store: Store,
    name: str,
    spec: SeriesSpec,
    only: Sequence[str],
    *,
    begin_arg: date | None,
    stop: date | None,
    full: bool,
    sources: Mapping[str, Any] | None,
) -> FetchOutcome:
    """Fetch one series from its sources in registry order; the first that works is stored."""
    from .sources import get_source

    entry = store.entry(name)
    refs, note = _candidate_refs(spec, entry, only)
    begin = begin_arg
    if begin is None and not full and entry is not None:
        first_new = store.refresh_start(name, frequency=spec.frequency)
        begin = first_new.date() if first_new is not None else None
    attempts: list[str] = []
    advice: list[str] = []
    hard_failure = False
    for ref in refs:
        try:
            source = (sources or {}).get(ref.provider) or get_source(ref.provider)
            raw = source.fetch(ref, start=begin, end=stop)
            result, warnings, clean = _store_validated(
                store, raw, spec, source=ref.provider, source_id=ref.id,
                origin=str(ref), fetched_at=None,
            )  # fmt: skip
        except EmptyDataError as exc:
            if entry is not None and begin_arg is None and not full and not hard_failure:
                return FetchOutcome(
                    name=name, status="unchanged", source=str(ref), rows=int(entry.rows),
                    attempts=tuple(attempts), warnings=(f"nothing new since {begin}: {exc}",),
                )  # fmt: skip
            reason, hint = _split_advice(ref, exc)
            attempts.append(f"{ref}: no data: {reason}")
            advice.extend([hint] if hint and hint not in advice else [])
            continue
        except (SourceError, ValidationError, InputError, ConfigError) as exc:
            hard_failure = True
            kind = "no key" if isinstance(exc, AuthError) else type(exc).__name__
            reason, hint = _split_advice(ref, exc)
            attempts.append(f"{ref}: {kind}: {reason}")
            advice.extend([hint] if hint and hint not in advice else [])
            log.info("fetch %s via %s failed: %s", name, ref, reason)
            continue
        return FetchOutcome(
            name=name,
            status="unchanged" if result.unchanged else "stored",
            source=str(ref),
            rows=int(clean.notna().sum()),
            rows_added=int(result.rows_added),
            rows_revised=int(result.rows_revised),
            warnings=tuple(warnings),
            attempts=tuple(attempts),
        )
    return _no_outcome(name, attempts, note, advice)


def _check_providers(providers: Sequence[str] | None, known: Sequence[str]) -> tuple[str, ...]:
    if not providers:
        return ()
    wanted = tuple(p.strip().lower() for p in providers)
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise InputError(
            f"unknown provider(s) {', '.join(unknown)}; choose from {', '.join(known)}"
        )
    return wanted


def _candidate_refs(
    spec: SeriesSpec, entry: Any, only: Sequence[str]
) -> tuple[list[Any], str | None]:
    """The network sources a fetch may use for ``spec``, and why others were left out.

    A stored series is only refreshed from sources of the same instrument: the one it
    came from, or (when that one is not a proxy) any other non-proxy source. A proxy
    (a future standing in for a spot price) may seed an empty series but is never merged
    into data from another source.
    """
    refs = [r for r in spec.sources if r.provider != "file" and (not only or r.provider in only)]
    if entry is None:
        return refs, None
    stored = f"{entry.source}:{entry.source_id}"
    same = [r for r in refs if str(r) == stored]
    stored_ref = next((r for r in spec.sources if str(r) == stored), None)
    stored_is_proxy = stored_ref is not None and stored_ref.proxy
    keep = same if stored_is_proxy else [r for r in refs if not r.proxy or str(r) == stored]
    dropped = [str(r) for r in refs if r not in keep]
    note = (
        f"{spec.name} is stored from {stored}; not merging {', '.join(dropped)} "
        "(a different instrument). Import or fetch it into a series of its own"
        if dropped
        else None
    )
    return keep, note


def _no_outcome(
    name: str, attempts: list[str], note: str | None, advice: Sequence[str] = ()
) -> FetchOutcome:
    """The outcome of a series no source could supply.

    ``error`` is one clause per failed source (``attempts``, each ``"provider:id: kind:
    reason"``), with no advice; ``advice`` holds each distinct piece of advice once.
    """
    if not attempts:
        why = note or f"{name} has no network source"
        return FetchOutcome(
            name=name,
            status="skipped",
            error=f"{why}; load it with `oilimpact import FILE --series {name}`",
        )
    extra = f" ({note})" if note else ""
    return FetchOutcome(
        name=name,
        status="failed",
        error="; ".join(attempts) + f"{extra}; stored data are unchanged",
        attempts=tuple(attempts),
        advice=tuple(advice),
    )


def _as_date(value: DateLike | None, what: str) -> date | None:
    """``value`` as a calendar date, or an :class:`InputError` naming ``what``."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{what}: cannot read {value!r} as a date; use YYYY-MM-DD") from exc
    if pd.isna(stamp):
        raise InputError(f"{what}: {value!r} is not a date; use YYYY-MM-DD")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.date()


def _as_utc(value: DateLike, what: str) -> pd.Timestamp:
    """``value`` as a UTC timestamp (tz-naive input is read as UTC)."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{what}: cannot read {value!r} as a time; use ISO 8601") from exc
    if pd.isna(stamp):
        raise InputError(f"{what}: {value!r} is not a time; use ISO 8601")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _fetchable(spec: SeriesSpec) -> bool:
    return any(ref.provider != "file" for ref in spec.sources)


def fetchable_series(registry: SeriesRegistry | str | Path | None = None) -> list[str]:
    """Registry names with at least one network source (what a bare ``fetch`` refreshes)."""
    reg = _registry(registry)
    return [n for n in reg if _fetchable(reg[n])]


class VintageWarning(UserWarning):
    """An ``as_of`` read used the earliest stored vintage: the store knew nothing earlier."""


@dataclass(frozen=True, slots=True)
class PointInTime:
    """One series as read by :func:`read_point_in_time`, and how it was read.

    Attributes
    ----------
    name : str
        Series name.
    series : pandas.Series
        The values (frame convention), cut as asked.
    used : LastUsed or None
        With ``as_of``: the last period used and why (:func:`oilimpact.series.known_by`).
    vintage : pandas.Timestamp or None
        The store vintage read (UTC): the newest at or before the cut-off, or the earliest
        when the store has none before it. None when the latest knowledge was read.
    n_vintages : int
        Vintages of the series stored at or before ``vintage``.
    notice : str or None
        Set when ``as_of`` fell before the series' first vintage (the earliest was read).
    """

    name: str
    series: pd.Series
    used: LastUsed | None
    vintage: pd.Timestamp | None
    n_vintages: int
    notice: str | None = None


def _end_of_day_utc(day: date) -> pd.Timestamp:
    """The last instant of ``day`` in UTC: what the store knew "on" that day."""
    return pd.Timestamp(day).tz_localize("UTC") + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")


def read_point_in_time(
    store: Store,
    name: str,
    spec: SeriesSpec,
    *,
    as_of: DateLike | None = None,
    vintage: DateLike | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
) -> PointInTime:
    """Read ``name`` as it was known: the one function behind every ``as_of`` of the API.

    Parameters
    ----------
    store : Store
        Where the series is.
    name : str
        Series name.
    spec : SeriesSpec
        Its registry entry (frequency and publication lag).
    as_of : date-like, optional
        "What was known on this date" (a calendar date; a time of day is ignored): the
        store as of the end of that day (UTC), each period kept only when published by
        then (``spec.publication_lag``, applied by :func:`oilimpact.series.known_by`).
        When the store has no vintage of the series on or before that day, its earliest
        vintage is read and ``notice`` says so.
    vintage : date-like, optional
        Pure store time (tz-naive means UTC; a date is midnight at its start): the series
        as the store held it then, with no publication lags. Overrides the store read of
        ``as_of`` when both are given. Before the first vintage: ``StoreError``.
    start, end : date-like, optional
        Inclusive bounds on the observation dates (no lags).

    Returns
    -------
    PointInTime

    Raises
    ------
    StoreError
        The series is not stored, its file is bad, or ``vintage`` precedes it.
    InputError
        A date that cannot be read.

    Notes
    -----
    With :math:`v_1 < v_2 < \\dots` the stored vintages of the series and
    :math:`c = D + 1\\,\\text{day} - 1\\,\\text{ns}` (UTC), the store is read at
    :math:`\\max\\{v_i \\le c\\}`, or at :math:`v_1` when :math:`v_1 > c`; period
    :math:`p` is then kept when :math:`\\text{end}(p) + \\text{lag} \\le D`. The store
    gives each write a vintage after every earlier one, so a write made later changes
    the result only when it is explicitly dated (``fetched_at``) on or before :math:`c`.
    """
    day = _as_date(as_of, "as_of")
    cutoff = _as_utc(vintage, "vintage") if vintage is not None else None
    stamps = pd.DatetimeIndex(store.vintages(name)["vintage"].unique()).sort_values()
    notice = None
    if cutoff is None and day is not None:
        cutoff = _end_of_day_utc(day)
        if len(stamps) and stamps[0] > cutoff:
            notice = (
                f"{name}: no vintage stored by {day}; read as first stored "
                f"({stamps[0]:%Y-%m-%d %H:%M} UTC), which may include revisions made after {day}"
            )
            cutoff = stamps[0]
    if cutoff is None:
        values = store.load(name)
    else:
        values = store.load(name, as_of=cutoff)
        stamps = stamps[stamps <= cutoff]
    used = None
    if day is not None:
        values, used = known_by(values, spec, day)
    if start is not None or end is not None:
        values = _window(values, _as_date(start, "start"), _as_date(end, "end"))
    return PointInTime(
        name=name,
        series=values,
        used=used,
        vintage=stamps.max() if len(stamps) else None,
        n_vintages=int(len(stamps)),
        notice=notice,
    )


def _window(series: pd.Series, start: date | None, end: date | None) -> pd.Series:
    mask = pd.Series(True, index=series.index)
    if start is not None:
        mask &= series.index >= pd.Timestamp(start)
    if end is not None:
        mask &= series.index <= pd.Timestamp(end)
    return series[mask.to_numpy()]


def _warn_vintages(reads: Iterable[PointInTime]) -> None:
    notices = [r.notice for r in reads if r.notice]
    if notices:
        warnings.warn("; ".join(notices), VintageWarning, stacklevel=3)


def load(
    name: str,
    *,
    as_of: DateLike | None = None,
    vintage: DateLike | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    data_dir: str | Path | None = None,
    registry: SeriesRegistry | str | Path | None = None,
) -> pd.Series:
    """Load a stored series, optionally as it was known on ``as_of``.

    Parameters
    ----------
    name : str
        Series name.
    as_of : date-like, optional
        What was known on that date: the store's vintage at the end of the day (or its
        earliest, with a :class:`VintageWarning`), and only periods published by then
        (each series' ``publication_lag``, ``docs/point-in-time.md``).
    vintage : date-like, optional
        Pure store time: the series as stored at that instant, no lags.
    start, end : date-like, optional
        Inclusive bounds on the observation dates (a plain cut, no lags).
    data_dir : path, optional
        The store (default ``$OILIMPACT_DATA_DIR``, else ``./data``).
    registry : SeriesRegistry or path, optional
        Where the publication lags come from (default: the packaged registry).

    Examples
    --------
    A monthly value is not known before it is published (EIA international data lag
    about three months):

    >>> import tempfile
    >>> from oilimpact.frames import to_series_frame
    >>> tmp = tempfile.mkdtemp()
    >>> s = to_series_frame([800.0, 790.0, 780.0], ["2025-10-01", "2025-11-01", "2025-12-01"],
    ...                     "ve_crude_production")
    >>> _ = open_store(tmp).write(s, source="file", source_id="x", fetched_at="2025-01-01")
    >>> load("ve_crude_production", as_of="2026-02-15", data_dir=tmp).index.strftime("%Y-%m").tolist()
    ['2025-10']
    >>> load("ve_crude_production", end="2026-02-15", data_dir=tmp).size
    3
    """
    reg = _registry(registry)
    read = read_point_in_time(
        open_store(data_dir), name, reg.spec_or_default(name),
        as_of=as_of, vintage=vintage, start=start, end=end,
    )  # fmt: skip
    _warn_vintages([read])
    return read.series


def load_frame(
    names: Iterable[str],
    *,
    as_of: DateLike | None = None,
    vintage: DateLike | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    data_dir: str | Path | None = None,
    missing: Literal["raise", "skip"] = "raise",
    registry: SeriesRegistry | str | Path | None = None,
) -> pd.DataFrame:
    """Load several stored series side by side (outer join on dates).

    ``as_of``, ``vintage``, ``start`` and ``end`` mean what they mean in :func:`load`;
    with ``as_of`` each column keeps only the periods its own lag allows, so a column
    can end before another.
    """
    reg = _registry(registry)
    store = open_store(data_dir)
    reads = []
    for name in names:
        if missing == "skip" and not store.exists(name):
            continue
        reads.append(
            read_point_in_time(
                store,
                name,
                reg.spec_or_default(name),
                as_of=as_of,
                vintage=vintage,
                start=start,
                end=end,
            )  # fmt: skip
        )
    _warn_vintages(reads)
    if not reads:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="date"))
    return pd.concat({r.name: r.series for r in reads}, axis=1, sort=True)


def load_panel(
    names_or_group: str | Iterable[str],
    *,
    as_of: DateLike | None = None,
    vintage: DateLike | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    data_dir: str | Path | None = None,
    missing: Literal["raise", "skip"] = "skip",
    registry: SeriesRegistry | str | Path | None = None,
) -> pd.DataFrame:
    """A wide panel (dates x series) of a registry group or a list of names/groups.

    The columns are read as :func:`load_frame` reads them (each through
    :func:`read_point_in_time`, so with ``as_of`` every column keeps only the periods its
    provider had published by then): the synthetic-control input of
    :func:`oilimpact.synth.synthetic_control`.

    Parameters
    ----------
    names_or_group : str or iterable of str
        A group of the registry's ``[groups]`` table (``"ve_crude_donors"``), a series
        name, or a list mixing both; groups expand to their members in order.
    missing : {"skip", "raise"}
        Series of the group not in the store are left out (default) or raise
        :class:`~oilimpact.errors.StoreError`.

    Returns
    -------
    pandas.DataFrame
        One float column per stored series, outer-joined on a ``DatetimeIndex`` named
        ``"date"``; empty (no columns) when none is stored.

    Examples
    --------
    >>> import tempfile
    >>> panel = load_panel(["ve_crude_production", "ve_crude_donors"], data_dir=tempfile.mkdtemp())
    >>> panel.shape
    (0, 0)
    """
    reg = _registry(registry)
    names = reg.expand(names_or_group)
    return load_frame(
        names, as_of=as_of, vintage=vintage, start=start, end=end, data_dir=data_dir,
        missing=missing, registry=reg,
    )  # fmt: skip


def validate(
    names: Iterable[str] | None = None,
    *,
    data_dir: str | Path | None = None,
    registry: SeriesRegistry | str | Path | None = None,
) -> pd.DataFrame:
    """Re-validate stored series against the current registry; one row per series.

    Columns: ``series, ok, problems, warnings``. Never raises for a failing series:
    the row says what failed.
    """
    reg = _registry(registry)
    store = open_store(data_dir)
    rows = []
    for name in list(names) if names else store.names():
        spec = reg.spec_or_default(name)
        try:
            report = validate_series(store.load(name), spec, origin=f"store:{name}")
            rows.append(
                {"series": name, "ok": True, "problems": "", "warnings": "; ".join(report.warnings)}
            )
        except (ValidationError, StoreError, ConfigError) as exc:
            rows.append({"series": name, "ok": False, "problems": str(exc), "warnings": ""})
    return pd.DataFrame(rows, columns=["series", "ok", "problems", "warnings"])


def status(
    *,
    data_dir: str | Path | None = None,
    today: DateLike | None = None,
    registry: SeriesRegistry | str | Path | None = None,
) -> pd.DataFrame:
    """One row per stored series: span, rows, source, last fetched, vintages, stale.

    A series is stale when its last observation trails the last period its provider had
    published by ``today`` (default: now, UTC) by more than its registry ``stale_after``
    (default :data:`oilimpact.series.DEFAULT_STALE_AFTER`: 10 days daily, 17 days weekly,
    2 months monthly); see :func:`oilimpact.series.stale_since`.
    """
    reg = _registry(registry)
    ref = pd.Timestamp(_as_date(today, "today") or pd.Timestamp.now("UTC").date())
    man = open_store(data_dir).manifest().reset_index()
    cols = [
        "series", "frequency", "unit", "source", "source_id", "first", "last", "rows",
        "fetched_at", "vintages", "age_days", "stale", "warnings",
    ]  # fmt: skip
    if man.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for entry in man.to_dict(orient="records"):
        name = entry["name"]
        spec = reg.spec_or_default(name)
        meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
        freq = entry.get("frequency") or spec.frequency
        has_values = entry.get("last") is not None and not pd.isna(entry["last"])
        last = pd.Timestamp(entry["last"]) if has_values else None
        age = int((ref - last).days) if last is not None else None
        rows.append(
            {
                "series": name,
                "frequency": freq,
                "unit": entry.get("unit") or spec.unit,
                "source": entry["source"],
                "source_id": entry["source_id"],
                "first": pd.Timestamp(entry["first"]).date() if has_values else None,
                "last": last.date() if last is not None else None,
                "rows": int(entry["rows"] or 0),
                "fetched_at": _as_utc(entry["fetched_at"], "fetched_at").strftime(
                    "%Y-%m-%d %H:%M UTC"
                ),
                "vintages": int(entry.get("n_vintages", 1) or 1),
                "age_days": age,
                "stale": stale_since(spec, last, ref) is not None,
                "warnings": "; ".join(meta.get("warnings", [])),
            }
        )
    return pd.DataFrame(rows, columns=cols).sort_values("series").reset_index(drop=True)


def default_as_of(today: DateLike | None = None) -> date:
    """The end (Sunday) of the last complete ISO week before ``today`` (default: now, UTC).

    Examples
    --------
    >>> default_as_of("2026-01-14")  # a Wednesday
    datetime.date(2026, 1, 11)
    >>> default_as_of("2026-01-11")  # a Sunday: that week is not over yet
    datetime.date(2026, 1, 4)
    """
    now = pd.Timestamp(_as_date(today, "today") or pd.Timestamp.now("UTC").date())
    days_back = now.day_of_week + 1  # Monday -> 1 day back (Sunday), Sunday -> 7
    return (now - pd.Timedelta(days=days_back)).date()


def _provenance(store: Store, name: str, vintage: pd.Timestamp | None) -> tuple[str, str]:
    """Source and source id of the write that made ``vintage`` (else the newest write)."""
    entry = store.entry(name)
    fallback = (entry.source, entry.source_id) if entry is not None else ("", "")
    history = getattr(store, "history", None)
    if vintage is None or history is None:
        return fallback
    table = history(name)
    rows = table[table["vintage"] == vintage]
    if rows.empty:
        return fallback
    row = rows.iloc[-1]
    return str(row["source"]), str(row["source_id"] or "")


def _health(
    store: Store,
    reads: Mapping[str, PointInTime],
    as_of: pd.Timestamp,
    reg: SeriesRegistry,
) -> pd.DataFrame:
    """One row per series as read for the brief: :data:`HEALTH_COLUMNS`.

    Every column is a function of the store *as of the vintage read* and of ``as_of``, so
    a brief rebuilt after a later revision gets the same table: ``fetched_at`` is the
    vintage read, ``vintage`` the number of vintages up to it, ``source``/``source_id``
    those of that vintage's write, and ``warnings`` come from validating the values used.
    ``last_used`` (equal to ``last``) and ``availability`` say which period was the last
    used and why (:func:`oilimpact.series.known_by`).
    """
    rows = []
    for name, read in reads.items():
        spec = reg.spec_or_default(name)
        valid = read.series.dropna()
        last = valid.index[-1] if valid.size else pd.NaT
        source, source_id = _provenance(store, name, read.vintage)
        try:
            found = validate_series(read.series, spec, origin=f"store:{name}").warnings
        except ValidationError as exc:
            found = (str(exc),)
        used = read.used
        rows.append(
            {
                "series": name,
                "source": source,
                "source_id": source_id,
                "first": valid.index[0] if valid.size else pd.NaT,
                "last": last,
                "rows": int(valid.size),
                "fetched_at": read.vintage if read.vintage is not None else pd.NaT,
                "vintage": read.n_vintages,
                "stale": stale_since(spec, last, as_of) is not None,
                "warnings": "; ".join(found),
                "last_used": used.last_used if used is not None else last,
                "availability": used.availability if used is not None else "",
            }
        )
    return pd.DataFrame(rows, columns=list(HEALTH_COLUMNS))


def _fetch_notices(outcomes: Sequence[FetchOutcome], day: date) -> list[str]:
    """One notice for the page per failed series, plus each distinct advice once."""
    failed = [o for o in outcomes if o.status == "failed"]
    if not failed:
        return []
    notes = [
        f"fetch on {day} failed for {len(failed)} of {len(outcomes)} series; the brief uses "
        "the data stored before"
    ]
    notes += [f"fetch {o.name}: {'; '.join(o.attempts) or o.error}" for o in failed]
    advice = dict.fromkeys(a for o in failed for a in o.advice)
    return notes + list(advice)


def build_brief(
    *,
    as_of: DateLike | None = None,
    data_dir: str | Path | None = None,
    out: str | Path = "reports",
    generated_at: DateLike | None = None,
    demo: bool = False,
    fetch: bool = False,
    fail_on_stale: bool = False,
    catalog: str | Path | None = None,
    registry: SeriesRegistry | str | Path | None = None,
    notices: Sequence[str] = (),
    on_fetch: Callable[[str, FetchOutcome], None] | None = None,
    model: str = "market_garch",
) -> Any:
    """Build the weekly brief from the store (or the synthetic demo) and write it.

    Writes ``<out>/<ISO week>/brief.html``, ``results.json`` and a CSV of every table.

    Parameters
    ----------
    as_of : date-like, optional
        The brief's date, meaning "what was known on that day" (one rule for every
        series, :func:`read_point_in_time`): the store as of the end of that day (UTC; a
        series first stored later is read as first stored, with a notice on the page),
        and only the periods each series' provider had published by then (its
        ``publication_lag``). Default: :func:`default_as_of` (the demo: its last date).
    demo : bool
        Use :func:`oilimpact.demo.demo_dataset` (seeded, synthetic, offline) instead of the
        store, with the same publication lags; every page is marked synthetic and shows
        the injected true effects.
    fetch : bool
        Refresh every fetchable series first. Series that could not be fetched are
        listed in the page's notices (and passed to ``on_fetch``); stored data are
        never replaced by a failed fetch.
    fail_on_stale : bool
        Raise :class:`~oilimpact.errors.StaleDataError` instead of building when any
        series trails its last published period by more than its allowance on ``as_of``
        (:func:`oilimpact.series.stale_since`),
        or when ``fetch`` could not refresh some series.
    generated_at : date-like, optional
        Printed in the brief; fix it for byte-identical rebuilds. Default: now (UTC).
    notices : sequence of str
        Notices from steps run before the brief (shown first on the page).
    on_fetch : callable, optional
        ``on_fetch(name, FetchOutcome)`` after each series is fetched (``fetch=True``):
        the CLI prints failures on stderr from it.
    model : {"market_garch", "market_gjr", "market", "market_adjusted"}
        Normal-return model of the brief's event studies (on ``sp500``). Default
        ``"market_garch"`` (one ``arch`` fit per pair) with a three-year estimation
        window (``GARCH_WINDOW``, -760..-11): its single-pair tests keep their size
        under persistent volatility, where the OLS market model's t over-rejects
        (docs/methods-garch.md); ``"market"`` uses -250..-11.

    Returns
    -------
    oilimpact.report.BriefPaths
        ``html``, ``json`` and ``tables`` paths.

    Notes
    -----
    A brief dated D rebuilt later from the same store gives the same bytes (with the
    same ``generated_at``) whatever was stored after D, unless a series was first stored
    after D (it is then read as first stored, and the page says so).

    The stored series of the registry group ``BriefOptions.synth_donor_group``
    (``ve_crude_donors``) are passed to :func:`~oilimpact.report.compute_brief` as
    ``donors`` (read as of the brief's date like every series), not shown as volumes:
    they feed the synthetic-control section, which says why it is empty when they are
    absent, too few, or no post-event month is published yet.
    """
    from .events import load_catalog
    from .report import compute_brief, write_brief

    reg = _registry(registry)
    cat = load_catalog(catalog)
    if demo:
        inputs = _demo_inputs(as_of, reg)
    else:
        inputs = _store_inputs(
            as_of, data_dir, reg, fetch=fetch, fail_on_stale=fail_on_stale, on_fetch=on_fetch
        )
    options = _brief_options(model)
    stamp = (
        _as_utc(generated_at, "generated_at")
        if generated_at is not None
        else pd.Timestamp.now("UTC")
    )
    brief = compute_brief(
        inputs.prices, inputs.volumes, as_of=inputs.cut.date(), events=cat,
        health=inputs.health, synthetic=inputs.synthetic, true_effects=inputs.true_effects,
        registry=reg, extra_notices=[*notices, *inputs.notices], donors=inputs.donors,
        options=options,
    )  # fmt: skip
    return write_brief(brief, out, generated_at=stamp.to_pydatetime())


def _brief_options(model: str) -> Any:
    """The brief's options with the normal-return ``model`` of its event studies and
    that model's default estimation window (three years for the GARCH models)."""
    from .eventstudy.models import GARCH_MODELS
    from .eventstudy.spec import default_estimation_window
    from .report.model import BriefOptions

    model = model.replace("-", "_")
    allowed = ("market", "market_adjusted", *GARCH_MODELS)
    if model not in allowed:
        raise InputError(f"the brief's model must be one of {', '.join(allowed)}, got {model!r}")
    return BriefOptions(model=model, estimation_window=default_estimation_window(model))


@dataclass(frozen=True)
class _BriefInputs:
    """What :func:`build_brief` gives :func:`~oilimpact.report.compute_brief`."""

    cut: pd.Timestamp
    prices: pd.DataFrame
    volumes: dict[str, pd.Series]
    health: pd.DataFrame
    donors: dict[str, pd.Series] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    synthetic: bool = False
    true_effects: Any = None


def _demo_inputs(as_of: DateLike | None, reg: SeriesRegistry) -> _BriefInputs:
    """The seeded synthetic dataset as known on ``as_of`` (default: its last date)."""
    from .demo import demo_dataset

    full = demo_dataset()
    cut = pd.Timestamp(_as_date(as_of, "as_of") or full.prices.index[-1])
    data = full.known_on(cut, registry=reg)
    return _BriefInputs(
        cut=cut,
        prices=data.prices,
        volumes=dict(data.volumes),
        health=data.health_frame(),
        synthetic=True,
        true_effects=data.true_effects,
    )


def _store_inputs(
    as_of: DateLike | None,
    data_dir: str | Path | None,
    reg: SeriesRegistry,
    *,
    fetch: bool,
    fail_on_stale: bool,
    on_fetch: Callable[[str, FetchOutcome], None] | None,
) -> _BriefInputs:
    """Every stored series as known on ``as_of``: prices, volumes, donors, health, notices."""
    from .report.model import BriefOptions

    cut = pd.Timestamp(_as_date(as_of, "as_of") or default_as_of())
    notes = _fetch_for_brief(data_dir, reg, on_fetch, fail_on_stale) if fetch else []
    store = open_store(data_dir)
    names = store.names()
    if not names:
        raise OilImpactError(
            f"the store at {store.root} is empty: run `oilimpact import FILE --series NAME` or "
            "`oilimpact fetch`, or build the offline demo with `oilimpact brief --demo`"
        )
    reads = {
        n: read_point_in_time(store, n, reg.spec_or_default(n), as_of=cut.date()) for n in names
    }
    notes += _late_vintage_notice(reads, cut)
    loaded = {n: r.series for n, r in reads.items()}
    health = _health(store, reads, cut, reg)
    if fail_on_stale:
        _refuse_stale(health, cut)
    daily = [n for n in names if reg.spec_or_default(n).frequency == "daily"]
    prices = (
        pd.concat({n: loaded[n] for n in daily}, axis=1, sort=True) if daily else pd.DataFrame()
    )
    pool = set(reg.groups.get(BriefOptions().synth_donor_group, ()))
    return _BriefInputs(
        cut=cut,
        prices=prices,
        # registered monthly prices among them (the heavy-sour legs) are routed to their
        # own table by compute_brief, never fitted as volumes
        volumes={n: loaded[n] for n in names if n not in daily and n not in pool},
        health=health,
        donors={n: loaded[n] for n in names if n in pool},  # synthetic control, not volumes
        notices=tuple(notes),
    )


def _fetch_for_brief(
    data_dir: str | Path | None,
    reg: SeriesRegistry,
    on_fetch: Callable[[str, FetchOutcome], None] | None,
    fail_on_stale: bool,
) -> list[str]:
    """Fetch every fetchable series; the notices of what failed (an error with ``fail_on_stale``)."""
    outcomes = fetch(data_dir=data_dir, registry=reg, on_progress=on_fetch)
    fetch_notes = _fetch_notices(outcomes, pd.Timestamp.now("UTC").date())
    if fetch_notes and fail_on_stale:
        raise StaleDataError(
            f"{fetch_notes[0]}: {', '.join(o.name for o in outcomes if o.status == 'failed')}"
            ". The brief was not built; fetch again, or build without --fetch from "
            "the store."
        )
    return list(fetch_notes)


def _late_vintage_notice(reads: Mapping[str, Any], cut: pd.Timestamp) -> list[str]:
    """A notice naming the series first stored after the brief's date (none when there are none)."""
    late = [r for r in reads.values() if r.notice]
    if not late:
        return []
    first = min(r.vintage for r in late if r.vintage is not None)
    return [
        f"store vintages: {', '.join(r.name for r in late)} were first stored after "
        f"{cut.date()} (from {first:%Y-%m-%d %H:%M} UTC) and are read as first stored, "
        f"which may include revisions made after {cut.date()}"
    ]


def _refuse_stale(health: pd.DataFrame, cut: pd.Timestamp) -> None:
    """Raise :class:`StaleDataError` listing the stale series of ``health`` (if any)."""
    if not health["stale"].any():
        return
    stale = health.loc[health["stale"], ["series", "last"]]
    listing = ", ".join(
        f"{r.series} (last {pd.Timestamp(r.last).date()})" for r in stale.itertuples()
    )
    raise StaleDataError(
        f"stale series as of {cut.date()}: {listing}. The brief was not built; "
        "fetch again or pass an earlier --as-of."
    )
