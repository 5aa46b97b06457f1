"""What an event study reads: the data frame, its regressors and its events, resolved once.

:func:`resolve_inputs` turns the user's ``returns_or_prices``, ``market`` and
``factors`` into one float64 frame on a normalised date index, the names of the studied
series and regressors, and the input kind (prices or returns). :func:`resolve_events`
turns the ``events`` argument (ids, Event objects, a mapping of ids to timestamps) and
the catalog into the studied events and the other (confounding) events.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import ConfigError, EstimationError
from ..series import SeriesRegistry, SeriesSpec
from .models import MARKET_MODELS, ModelName
from .spec import InputKind

__all__ = [
    "StudyEvent",
    "StudyInputs",
    "named_spec",
    "packaged_registry",
    "resolve_events",
    "resolve_inputs",
    "series_specs",
]


@dataclass(frozen=True, slots=True)
class StudyEvent:
    """An event as the engine needs it (wraps an Event or a bare timestamp)."""

    id: str
    title: str
    timestamp: pd.Timestamp
    time_known: bool
    obj: Any  # the Event passed to align_event


@dataclass(frozen=True, slots=True)
class StudyInputs:
    """The data of a study: ``numeric`` (float64, index ``date`` normalised, sorted,
    unique) holds the studied series ``assets`` and the regressors; ``regressors`` are
    the ones the model uses (market first)."""

    numeric: pd.DataFrame
    assets: list[str]
    regressors: list[str]
    market_name: str | None
    factor_names: list[str]
    input: Literal["prices", "returns"]


# ---- data, market and factors -------------------------------------------------------------


def resolve_inputs(
    returns_or_prices: Any,
    market: Any,
    factors: Any,
    *,
    model: ModelName,
    input: InputKind,
    registry: SeriesRegistry,
) -> StudyInputs:
    """The study's data frame, series, regressors and input kind.

    Raises
    ------
    EstimationError
        Not a Series or DataFrame, a market or factor that is not a column, clashing
        factor names, a model without the regressors it needs, no series left to study,
        duplicate dates or non-numeric values.
    """
    data = _as_frame(returns_or_prices)
    data, market_name = _join_market(data, market)
    regressors = [market_name] if market_name is not None else []
    data, factor_names = _join_factors(data, factors)
    regressors += [f for f in factor_names if f not in regressors]
    used = _used_regressors(model, market_name, factor_names, regressors)
    data = _normalise_index(data)
    # the zero-mean and constant-mean models use no regressor: every column is studied
    taken = set(used)
    assets = [c for c in data.columns.tolist() if c not in taken]  # (a list: fast to walk)
    if not assets:
        raise EstimationError("no series to study (every column is a market or factor)")
    numeric = _as_float(data)
    resolved: Literal["prices", "returns"]
    if input == "auto":
        resolved = "returns" if _looks_like_returns(numeric, registry) else "prices"
    else:
        resolved = input
    return StudyInputs(numeric, assets, used, market_name, factor_names, resolved)


def _as_frame(returns_or_prices: Any) -> pd.DataFrame:
    if isinstance(returns_or_prices, pd.Series):
        return _as_series(returns_or_prices, "series").to_frame()
    if isinstance(returns_or_prices, pd.DataFrame):
        data = returns_or_prices.copy(deep=False)  # the caller's frame is never changed
        if data.columns.inferred_type != "string":
            data.columns = [str(c) for c in data.columns]
        return data
    raise EstimationError(
        f"returns_or_prices must be a pandas Series or DataFrame, got "
        f"{type(returns_or_prices).__name__}"
    )


def _join_market(data: pd.DataFrame, market: Any) -> tuple[pd.DataFrame, str | None]:
    """``data`` with the market joined (when given as a series) and its column name."""
    if market is None:
        return data, None
    if isinstance(market, str):
        if market not in data.columns:
            raise EstimationError(
                f"market {market!r} is not a column; columns: {', '.join(data.columns)}"
            )
        return data, market
    ms = _as_series(market, "market")
    name = str(ms.name)
    if name in data.columns:
        name = f"{name}_market"
        ms = ms.rename(name)
    if data.index.is_unique and data.index.equals(ms.index):
        # the same dates: the outer join's frame, without copying the data's columns
        out = data.copy(deep=False)
        out[name] = ms
        return out, name
    return data.join(ms, how="outer"), name


def _join_factors(data: pd.DataFrame, factors: Any) -> tuple[pd.DataFrame, list[str]]:
    """``data`` with the factors joined (when given as a frame) and their names."""
    if factors is None:
        return data, []
    if isinstance(factors, pd.DataFrame):
        fdf = factors.copy()
        fdf.columns = [str(c) for c in fdf.columns]
        clash = [c for c in fdf.columns if c in data.columns]
        if clash:
            raise EstimationError(f"factor columns clash with data columns: {clash}")
        return data.join(fdf, how="outer"), list(fdf.columns)
    names = [str(f) for f in factors]
    missing = [f for f in names if f not in data.columns]
    if missing:
        raise EstimationError(f"factors {missing} are not columns of the data")
    return data, names


def _used_regressors(
    model: ModelName, market_name: str | None, factor_names: list[str], regressors: list[str]
) -> list[str]:
    """The regressors ``model`` uses, or an EstimationError when it lacks some."""
    if model in MARKET_MODELS:  # market, market_adjusted and the GARCH market models
        if market_name is None:
            raise EstimationError(f"model={model!r} needs a market series (market=...)")
        if factor_names:
            raise EstimationError(
                f"model={model!r} takes no factors; use model='multifactor' for {factor_names}"
            )
    elif model == "multifactor":
        if not regressors:
            raise EstimationError("model='multifactor' needs factors (or a market)")
    return list(regressors) if model in (*MARKET_MODELS, "multifactor") else []


def _as_float(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` as float64; text columns are parsed (an EstimationError when they hold
    something that is not a number). Numeric columns are cast in one step."""
    if all(pd.api.types.is_numeric_dtype(t) for t in set(data.dtypes)):
        return data.astype("float64")
    try:
        return data.apply(pd.to_numeric, errors="raise").astype("float64")
    except (TypeError, ValueError) as exc:
        raise EstimationError(f"non-numeric values in the data: {exc}") from exc


def _as_series(obj: Any, default_name: str) -> pd.Series:
    s = obj if isinstance(obj, pd.Series) else pd.Series(obj)
    name = s.name if s.name is not None else default_name
    return s.rename(str(name))


def _normalise_index(df: pd.DataFrame) -> pd.DataFrame:
    idx = pd.DatetimeIndex(df.index)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    idx = idx.normalize().as_unit("ns")
    out = df.copy(deep=False)
    out.index = idx
    out.index.name = "date"
    if not out.index.is_unique:
        dup = out.index[out.index.duplicated()][0]
        raise EstimationError(f"input has duplicate dates (first: {dup.date()})")
    return out.sort_index()


def _looks_like_returns(df: pd.DataFrame, registry: SeriesRegistry) -> bool:
    """Every series registered as a return, or the values look like returns (median
    absolute value below 0.2, none above 2).

    Notes
    -----
    Prices usually show a value of 2 or more in their first rows: those are read first,
    and the whole frame only when they hold none (the same answer as reading it all).
    """
    if all(c in registry and registry[c].kind == "return" for c in map(str, df.columns)):
        return True
    head = df.iloc[:_FIRST_ROWS].to_numpy(dtype="float64", na_value=np.nan)
    if (np.abs(head) >= 2.0).any():
        return False
    vals = np.abs(df.to_numpy(dtype="float64", na_value=np.nan))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all NaN
        top = np.nanmax(vals) if vals.size else np.nan
    if np.isnan(top) or top >= 2.0:
        return False
    return bool(np.median(vals[~np.isnan(vals)]) < 0.2)


#: Rows :func:`_looks_like_returns` reads first for a value of 2 or more.
_FIRST_ROWS = 8


def series_specs(registry: SeriesRegistry, names: Sequence[str]) -> list[SeriesSpec]:
    """The spec of each series: registered, or the registry's generic daily spec (one
    object shared by the unregistered names: its close rule is all the engine reads;
    :func:`named_spec` gives it the series' name for a message)."""
    generic: SeriesSpec | None = None
    known = set(registry)  # (a set: one hash per name, not a method call)
    out = []
    for name in names:
        if name in known:
            out.append(registry[name])
            continue
        if generic is None:
            generic = registry.spec_or_default(name)
        out.append(generic)
    return out


def named_spec(spec: SeriesSpec, name: str) -> SeriesSpec:
    """``spec`` under the name ``name`` (for the messages that name the series)."""
    return spec if spec.name == name else replace(spec, name=name)


# ---- events -------------------------------------------------------------------------------


def resolve_events(
    events: Any, catalog: Mapping[str, Any] | None, exclude_confounders: bool
) -> tuple[list[StudyEvent], list[StudyEvent]]:
    """The studied events and the other catalog events (confounders; none when
    ``exclude_confounders`` is False).

    Raises
    ------
    ConfigError
        An unknown event id.
    EstimationError
        No events, an event given twice, a timestamp with a time of day but no zone.
    """
    studied = _studied_events(events, catalog)
    ids = {e.id for e in studied}
    others: list[StudyEvent] = []
    if exclude_confounders:
        cat = catalog if catalog is not None else _default_catalog()
        for key, ev in (cat or {}).items():
            if str(key) not in ids:
                others.append(_make_event(str(key), ev))
    return studied, others


def _make_event(event_id: str, when: Any) -> StudyEvent:
    """An ad-hoc event from an id and a timestamp or date (naive -> time unknown)."""
    from ..events import Event

    if hasattr(when, "timestamp") and hasattr(when, "time_known") and hasattr(when, "id"):
        title = str(getattr(when, "title", when.id))
        return StudyEvent(when.id, title, when.timestamp, bool(when.time_known), when)
    ts = pd.Timestamp(when)
    if ts is pd.NaT or pd.isna(ts):
        raise EstimationError(f"event {event_id!r}: no timestamp given")
    if ts.tzinfo is None:
        if ts != ts.normalize():
            raise EstimationError(
                f"event {event_id!r}: timestamp {ts} has a time of day but no time zone; "
                "give a tz-aware timestamp (2025-12-16 18:00-05:00) or a plain date"
            )
        ev = Event.on_date(event_id, event_id, "user", ts)
    else:
        ev = Event(event_id, event_id, "user", ts, True)
    return StudyEvent(ev.id, ev.title, ev.timestamp, ev.time_known, ev)


def _studied_events(events: Any, catalog: Any) -> list[StudyEvent]:
    if isinstance(events, (str, bytes)) or hasattr(events, "time_known"):
        events = [events]
    out: list[StudyEvent] = []
    if isinstance(events, Mapping):
        items: Iterable[tuple[str, Any]] = events.items()
        out = [_make_event(str(key), val) for key, val in items]
    else:
        out = [_catalog_or_given(item, catalog) for item in events]
    if not out:
        raise EstimationError("no events given")
    ids = [e.id for e in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise EstimationError(f"events given more than once: {', '.join(dup)}")
    return out


def _catalog_or_given(item: Any, catalog: Any) -> StudyEvent:
    """An event given by id (looked up in ``catalog``) or as an object."""
    if not isinstance(item, str):
        return _make_event(str(getattr(item, "id", "event")), item)
    cat = catalog if catalog is not None else _default_catalog()
    if cat is None:
        raise ConfigError(f"unknown event {item!r}: no event catalog available to look it up")
    try:
        ev = cat[item]
    except (KeyError, ConfigError) as exc:
        known = ", ".join(list(cat)[:50])
        raise ConfigError(f"unknown event {item!r}; known events: {known}") from exc
    return _make_event(item, ev)


def _default_catalog() -> Any:
    """The packaged event catalog, parsed once per content of its file."""
    return _parsed(_packaged_text("data/events.toml"), "catalog")


def packaged_registry() -> SeriesRegistry:
    """The packaged series registry (:func:`oilimpact.series.default_registry`), parsed
    once per content of its file: a study reads it, never changes it."""
    return _parsed(_packaged_text("data/series.toml"), "registry")


def _packaged_text(name: str) -> str:
    return resources.files("oilimpact").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=4)
def _parsed(text: str, what: str) -> Any:
    """The default catalog or registry; ``text`` (the packaged file) is the cache key."""
    if what == "catalog":
        from ..events import load_catalog

        return load_catalog()
    from ..series import default_registry

    return default_registry()
