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

import logging
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
from .schemas import validate_series
from .series import SeriesRegistry, SeriesSpec, default_registry, infer_frequency
from .store import Store

__all__ = [
    "StaleDataError",
    "build_brief",
    "default_as_of",
    "fetchable_series",
    "FetchOutcome",
    "ImportOutcome",
    "STALE_AFTER_DAYS",
    "fetch",
    "import_file",
    "load",
    "load_frame",
    "open_store",
    "status",
    "validate",
]

log = logging.getLogger(__name__)

#: A series is stale when its last observation is older than this many calendar days
#: before the reference date. Daily spot prices reach FRED a few days late and skip
#: holidays (10 days covers Christmas to New Year); monthly EIA international data lag
#: about four months.
STALE_AFTER_DAYS: dict[str, int] = {"daily": 10, "weekly": 17, "monthly": 155}

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
) -> tuple[Any, tuple[str, ...], pd.Series]:
    report = validate_series(series.rename(spec.name), spec, origin=origin)
    clean = report.series
    if not clean.notna().any():
        raise ValidationError(f"{spec.name} from {origin}: no non-missing values to store")
    result = store.write(
        clean,
        source=source,
        source_id=source_id,
        fetched_at=fetched_at,
        unit=spec.unit,
        frequency=spec.frequency,
        kind=spec.kind,
        meta={
            "warnings": list(report.warnings),
            "origin": origin,
            **dict(meta or {}),
        },
    )
    return result, report.warnings, clean


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
) -> ImportOutcome:
    """Parse a file, validate it as series ``name`` and store it.

    Formats: ``fred`` (FRED's fredgraph CSV), ``eia`` (``Date,Price``), ``ohlc`` (e.g.
    CBOE VIX), ``yahoo`` (a yfinance CSV export), ``tidy`` (long CSV with filters) and
    ``tanker`` (Kpler/Vortexa-style cargo exports aggregated to kb/d); ``auto`` detects
    the format from the header.

    Nothing already stored changes unless the file parses and validates completely.

    Raises
    ------
    InputError
        The file cannot be parsed (the message names the file and line).
    ValidationError
        The parsed series fails its schema (``.failures`` lists every problem).
    """
    from .sources import files

    path = Path(path)
    reg = _registry(registry)
    known = name in reg
    detected = fmt if fmt != "auto" else files.detect_format(path)
    tanker_options = [
        flag
        for flag, value in (("origin", origin_country), ("preset", preset), ("mapping", mapping))
        if value
    ]
    if tanker_options and detected != "tanker":
        raise InputError(
            f"{path}: {', '.join(tanker_options)} apply only to tanker exports, but the file "
            f"reads as format {detected!r}; pass --format tanker if it is one"
        )
    if detected == "tanker":
        imported = files.read_tanker_export(
            path,
            name=name,
            mapping=mapping,
            preset=preset,
            **({"origin": origin_country} if origin_country else {}),
            frequency=reg[name].frequency if known else "monthly",
        )
    else:
        imported = files.read_series_file(
            path,
            name=name,
            fmt=detected,
            column=column,
            date_column=date_column,
            value_column=value_column,
            filters=filters,
            unit=unit,
        )
    notes: list[str] = []
    if known:
        spec = reg[name]
    else:
        spec = reg.spec_or_default(
            name,
            frequency=infer_frequency(imported.series.dropna().index),
            kind="volume" if detected == "tanker" else "price",
            unit=unit or imported.unit or "",
        )
        notes.append(
            f"series {name!r} is not in the registry: stored as a {spec.frequency} {spec.kind} "
            f"series in {spec.unit or 'unknown units'} with no plausibility bounds; register it "
            "in a TOML file (--registry) to set its unit, bounds and sources"
        )
    series = imported.series
    when = _as_utc(fetched_at, "fetched_at") if fetched_at is not None else None
    result, warnings, clean = _store_validated(
        open_store(data_dir),
        series,
        spec,
        source="file",
        source_id=str(imported.source_id or path.name),
        origin=str(path),
        fetched_at=when,
        meta={
            "file": str(path),
            "format": imported.format,
            "import_notes": list(imported.notes or []),
        },
    )
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
        warnings=(*notes, *warnings),
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
    from .sources import NETWORK_PROVIDERS, get_source

    reg = _registry(registry)
    store = open_store(data_dir)
    only = _check_providers(providers, NETWORK_PROVIDERS)
    begin_arg = _as_date(start, "start")
    stop = _as_date(end, "end")
    wanted = list(names) if names else fetchable_series(reg)
    outcomes: list[FetchOutcome] = []
    for name in wanted:
        spec = reg[name]
        entry = store.entry(name)
        refs, note = _candidate_refs(spec, entry, only)
        begin = begin_arg
        if begin is None and not full and entry is not None:
            first_new = store.refresh_start(name, frequency=spec.frequency)
            begin = first_new.date() if first_new is not None else None
        attempts: list[str] = []
        hard_failure = False
        outcome: FetchOutcome | None = None
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
                    outcome = FetchOutcome(
                        name=name, status="unchanged", source=str(ref), rows=int(entry.rows),
                        attempts=tuple(attempts), warnings=(f"nothing new since {begin}: {exc}",),
                    )  # fmt: skip
                    break
                attempts.append(f"{ref}: no data: {exc}")
                continue
            except (SourceError, ValidationError, InputError, ConfigError) as exc:
                hard_failure = True
                kind = "no key" if isinstance(exc, AuthError) else type(exc).__name__
                attempts.append(f"{ref}: {kind}: {exc}")
                log.info("fetch %s via %s failed: %s", name, ref, exc)
                continue
            outcome = FetchOutcome(
                name=name,
                status="unchanged" if result.unchanged else "stored",
                source=str(ref),
                rows=int(clean.notna().sum()),
                rows_added=int(result.rows_added),
                rows_revised=int(result.rows_revised),
                warnings=tuple(warnings),
                attempts=tuple(attempts),
            )
            break
        if outcome is None:
            outcome = _no_outcome(name, attempts, note)
        outcomes.append(outcome)
        if on_progress is not None:
            on_progress(name, outcome)
    return outcomes


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


def _no_outcome(name: str, attempts: list[str], note: str | None) -> FetchOutcome:
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
        error="; ".join(attempts).rstrip(".")
        + f"{extra}. Stored data are unchanged: build offline from the store, or load files "
        "with `oilimpact import`",
        attempts=tuple(attempts),
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


def load(
    name: str,
    *,
    as_of: DateLike | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    data_dir: str | Path | None = None,
) -> pd.Series:
    """Load a stored series, optionally as it was known on ``as_of`` (a vintage).

    Examples
    --------
    See the module docstring for a complete offline round trip.
    """
    return open_store(data_dir).load(name, as_of=as_of, start=start, end=end)


def load_frame(
    names: Iterable[str],
    *,
    as_of: DateLike | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    data_dir: str | Path | None = None,
    missing: Literal["raise", "skip"] = "raise",
) -> pd.DataFrame:
    """Load several stored series side by side (outer join on dates)."""
    store = open_store(data_dir)
    cols = {}
    for name in names:
        if missing == "skip" and not store.exists(name):
            continue
        cols[name] = store.load(name, as_of=as_of, start=start, end=end)
    if not cols:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="date"))
    return pd.concat(cols, axis=1, sort=True)


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

    A series is stale when its last observation is more than
    :data:`STALE_AFTER_DAYS` (by frequency) before ``today`` (default: now, UTC).
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
                "stale": age is None or age > STALE_AFTER_DAYS.get(freq, 10),
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


def _complete_periods(series: pd.Series, frequency: str, cut: pd.Timestamp) -> pd.Series:
    """Keep only periods complete on ``cut``: a month dated 2026-01-01 ends 2026-01-31.

    Monthly series are indexed by the first day of the month, so ``end=cut`` alone would
    let a brief dated 2026-01-09 use January's value, which nobody knew on that day.
    Weekly EIA periods are dated by week ending and daily ones by session: no change.
    """
    if frequency != "monthly" or series.empty:
        return series
    ends = series.index + pd.offsets.MonthEnd(0)
    return series[ends <= cut]


def _health(
    store: Store, loaded: Mapping[str, pd.Series], as_of: pd.Timestamp, reg: SeriesRegistry
) -> pd.DataFrame:
    """Per series its source, span up to ``as_of``, fetch time, vintages, warnings, stale."""
    rows = []
    for name, values in loaded.items():
        entry = store.entry(name)
        spec = reg.spec_or_default(name)
        valid = values.dropna()
        last = valid.index[-1] if valid.size else pd.NaT
        age = int((as_of - last).days) if valid.size else None
        meta = entry.meta if entry is not None and isinstance(entry.meta, dict) else {}
        rows.append(
            {
                "series": name,
                "source": entry.source if entry else "",
                "source_id": entry.source_id if entry else "",
                "first": valid.index[0] if valid.size else pd.NaT,
                "last": last,
                "rows": int(valid.size),
                "fetched_at": entry.fetched_at if entry else pd.NaT,
                "vintage": int(entry.n_vintages) if entry else 0,
                "stale": age is None or age > STALE_AFTER_DAYS.get(spec.frequency, 7),
                "warnings": "; ".join(meta.get("warnings", [])),
            }
        )
    return pd.DataFrame(rows)


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
) -> Any:
    """Build the weekly brief from the store (or the synthetic demo) and write it.

    Writes ``<out>/<ISO week>/brief.html``, ``results.json`` and a CSV of every table.

    Parameters
    ----------
    as_of : date-like, optional
        Data cut-off. Default: :func:`default_as_of` (the demo: its last date).
    demo : bool
        Use :func:`oilimpact.demo.demo_dataset` (seeded, synthetic, offline) instead of the
        store; every page is marked synthetic and shows the injected true effects.
    fetch : bool
        Refresh every fetchable series first (failures are reported in the health table
        through their staleness, never by replacing stored data).
    fail_on_stale : bool
        Raise :class:`~oilimpact.errors.StaleDataError` instead of building when any
        series' last observation is older than :data:`STALE_AFTER_DAYS` before ``as_of``.
    generated_at : date-like, optional
        Printed in the brief; fix it for byte-identical rebuilds. Default: now (UTC).

    Returns
    -------
    oilimpact.report.BriefPaths
        ``html``, ``json`` and ``tables`` paths.
    """
    from .events import load_catalog
    from .report import compute_brief, write_brief

    reg = _registry(registry)
    cat = load_catalog(catalog)
    synthetic, true_effects = False, None
    if demo:
        from .demo import demo_dataset

        data = demo_dataset()
        cut = pd.Timestamp(_as_date(as_of, "as_of") or data.prices.index[-1])
        prices, volumes, health = data.prices, dict(data.volumes), data.health_frame()
        synthetic, true_effects = True, data.true_effects
    else:
        if fetch:
            globals()["fetch"](data_dir=data_dir, registry=reg)
        cut = pd.Timestamp(_as_date(as_of, "as_of") or default_as_of())
        store = open_store(data_dir)
        names = store.names()
        if not names:
            raise OilImpactError(
                f"the store at {store.root} is empty: run `oilimpact import FILE --series NAME` or "
                "`oilimpact fetch`, or build the offline demo with `oilimpact brief --demo`"
            )
        loaded = {
            n: _complete_periods(store.load(n, end=cut), reg.spec_or_default(n).frequency, cut)
            for n in names
        }
        health = _health(store, loaded, cut, reg)
        if fail_on_stale and health["stale"].any():
            stale = health.loc[health["stale"], ["series", "last"]]
            listing = ", ".join(
                f"{r.series} (last {pd.Timestamp(r.last).date()})" for r in stale.itertuples()
            )
            raise StaleDataError(
                f"stale series as of {cut.date()}: {listing}. The brief was not built; "
                "fetch again or pass an earlier --as-of."
            )
        daily = [n for n in names if reg.spec_or_default(n).frequency == "daily"]
        prices = (
            pd.concat({n: loaded[n] for n in daily}, axis=1, sort=True) if daily else pd.DataFrame()
        )
        volumes = {n: loaded[n] for n in names if n not in daily}
    stamp = (
        _as_utc(generated_at, "generated_at")
        if generated_at is not None
        else pd.Timestamp.now("UTC")
    )
    brief = compute_brief(
        prices, volumes, as_of=cut.date(), events=cat, health=health,
        synthetic=synthetic, true_effects=true_effects, registry=reg,
    )  # fmt: skip
    return write_brief(brief, out, generated_at=stamp.to_pydatetime())
