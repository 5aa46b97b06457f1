"""The registry of named series.

A :class:`SeriesSpec` says what a series is (unit, frequency, kind), where it trades
(calendar and daily close, used to align events to sessions), which values are
plausible, and which provider ids can supply it, in order of preference.

The default registry ships with the package (``oilimpact/data/series.toml``). Users add
or override series with their own TOML file in the same format::

    [series.urals]
    description = "Urals crude, USD/bbl (from a vendor CSV)"
    unit = "USD/bbl"
    frequency = "daily"
    kind = "price"
    calendar = "XNYS"
    close_time = "16:00"
    timezone = "America/New_York"
    sources = ["file:urals"]

Examples
--------
>>> from oilimpact.series import default_registry
>>> reg = default_registry()
>>> reg["wti"].allow_negative
True
>>> [ (s.provider, s.id) for s in reg["brent"].sources ][:2]
[('fred', 'DCOILBRENTEU'), ('eia', 'RBRTE')]
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError

__all__ = [
    "infer_frequency",
    "Frequency",
    "Kind",
    "PROVIDERS",
    "SeriesRegistry",
    "SeriesSpec",
    "SourceRef",
    "default_registry",
]

Frequency = Literal["daily", "weekly", "monthly"]
Kind = Literal["price", "index", "volume", "value", "return"]

#: Providers a source reference may name. ``file`` series are filled by ``oilimpact import``.
PROVIDERS: tuple[str, ...] = ("fred", "eia", "yahoo", "file")
_FREQUENCIES = ("daily", "weekly", "monthly")
_KINDS = ("price", "index", "volume", "value", "return")


@dataclass(frozen=True, slots=True)
class SourceRef:
    """One way to obtain a series: a provider and the provider's id for it.

    ``options`` carries provider-specific request parameters (for EIA: ``route``,
    ``frequency`` and extra facets). ``proxy`` marks a source of a *different* instrument
    that tracks the series (Yahoo's continuous front-month ``BZ=F`` for Brent spot): it
    can seed an empty series but is never merged into one stored from another source.
    """

    provider: str
    id: str
    options: Mapping[str, Any] = field(default_factory=dict)
    proxy: bool = False

    def __str__(self) -> str:
        return f"{self.provider}:{self.id}"


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    """Metadata of one named series.

    Attributes
    ----------
    name : str
        Registry key, lower case (``"brent"``).
    description, unit : str
        Human-readable description and unit (``"USD/bbl"``, ``"kb/d"``).
    frequency : {"daily", "weekly", "monthly"}
        Observation frequency. Weekly and monthly series are indexed by period date.
    kind : {"price", "index", "volume", "value", "return"}
        Decides the validation schema and the default transformation in studies.
    calendar : str
        ``exchange_calendars`` code of the trading calendar (``"XNYS"``, ``"CMES"``).
    close_time, timezone : datetime.time, str
        The daily close that defines a session's information set (NYMEX settlement
        14:30 America/New_York, ICE Brent 19:30 Europe/London, US equities 16:00).
    allow_negative : bool
        Whether values below zero are legitimate (WTI printed -36.98 on 2020-04-20).
    plausible_min, plausible_max : float or None
        Values outside this range fail validation.
    max_abs_log_change : float or None
        A one-step absolute log change above this is reported as a jump warning.
    sources : tuple of SourceRef
        Providers that can supply the series, most preferred first.
    """

    name: str
    description: str
    unit: str
    frequency: Frequency
    kind: Kind
    calendar: str = "XNYS"
    close_time: time = time(16, 0)
    timezone: str = "America/New_York"
    allow_negative: bool = False
    plausible_min: float | None = None
    plausible_max: float | None = None
    max_abs_log_change: float | None = None
    sources: tuple[SourceRef, ...] = ()

    def source_for(self, provider: str) -> SourceRef | None:
        """Return the first source reference of ``provider``, or None."""
        for ref in self.sources:
            if ref.provider == provider:
                return ref
        return None

    @classmethod
    def from_mapping(cls, name: str, data: Mapping[str, Any], *, origin: str) -> SeriesSpec:
        """Build a spec from one ``[series.NAME]`` TOML table; ``origin`` names the file."""
        where = f"{origin}: series '{name}'"
        data = dict(data)
        try:
            freq = data.pop("frequency")
            kind = data.pop("kind")
        except KeyError as exc:
            raise ConfigError(f"{where} needs a '{exc.args[0]}' entry") from exc
        if freq not in _FREQUENCIES:
            raise ConfigError(f"{where}: frequency must be one of {_FREQUENCIES}, got {freq!r}")
        if kind not in _KINDS:
            raise ConfigError(f"{where}: kind must be one of {_KINDS}, got {kind!r}")
        raw_close = data.pop("close_time", "16:00")
        try:
            close = raw_close if isinstance(raw_close, time) else time.fromisoformat(str(raw_close))
        except ValueError as exc:
            raise ConfigError(f"{where}: close_time must be HH:MM, got {raw_close!r}") from exc
        refs = []
        for item in data.pop("sources", []):
            if isinstance(item, str):
                provider, _, sid = item.partition(":")
                opts: dict[str, Any] = {}
            elif isinstance(item, Mapping):
                provider, sid = item.get("provider", ""), item.get("id", "")
                opts = {k: v for k, v in item.items() if k not in ("provider", "id", "proxy")}
            else:
                raise ConfigError(
                    f"{where}: a source must be 'provider:id' or a table, got {item!r}"
                )
            if provider not in PROVIDERS or not sid:
                raise ConfigError(
                    f"{where}: source {item!r} must name a provider in {PROVIDERS} and an id"
                )
            proxy = bool(item.get("proxy", False)) if isinstance(item, Mapping) else False
            refs.append(SourceRef(provider, sid, opts, proxy))
        known = {f for f in cls.__dataclass_fields__} - {
            "name",
            "frequency",
            "kind",
            "close_time",
            "sources",
        }
        unknown = set(data) - known
        if unknown:
            raise ConfigError(
                f"{where}: unknown entries {sorted(unknown)}; allowed: {sorted(known)}"
            )
        data.setdefault("description", name)
        data.setdefault("unit", "")
        return cls(
            name=name, frequency=freq, kind=kind, close_time=close, sources=tuple(refs), **data
        )


class SeriesRegistry(Mapping[str, SeriesSpec]):
    """A read-only mapping of series name to :class:`SeriesSpec`.

    Examples
    --------
    >>> reg = default_registry()
    >>> "sp500" in reg and reg["sp500"].kind
    'index'
    """

    def __init__(self, specs: Mapping[str, SeriesSpec] | None = None) -> None:
        self._specs: dict[str, SeriesSpec] = dict(specs or {})

    def __getitem__(self, name: str) -> SeriesSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise ConfigError(
                f"unknown series {name!r}; known series: {', '.join(sorted(self._specs))}. "
                "Register your own in a TOML file (see oilimpact.series)."
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def with_specs(self, *specs: SeriesSpec) -> SeriesRegistry:
        """Return a new registry with ``specs`` added or replacing same-named ones."""
        merged = dict(self._specs)
        merged.update({s.name: s for s in specs})
        return SeriesRegistry(merged)

    def with_file(self, path: str | Path) -> SeriesRegistry:
        """Return a new registry extended by the ``[series.*]`` tables of a TOML file."""
        return self.with_specs(*_read_toml(Path(path)))

    def spec_or_default(self, name: str, **overrides: Any) -> SeriesSpec:
        """The registered spec of ``name``, or a generic daily price spec for unknown names."""
        if name in self._specs:
            spec = self._specs[name]
            return replace(spec, **overrides) if overrides else spec
        base = dict(description=name, unit="", frequency="daily", kind="price")
        base.update(overrides)
        return SeriesSpec(name=name, **base)


def _read_toml(path: Path, text: str | None = None) -> list[SeriesSpec]:
    origin = str(path)
    try:
        raw = tomllib.loads(text if text is not None else path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"series file {origin} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"series file {origin} is not valid TOML: {exc}") from exc
    tables = raw.get("series")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"series file {origin} has no [series.NAME] tables")
    return [SeriesSpec.from_mapping(name, data, origin=origin) for name, data in tables.items()]


def infer_frequency(dates: Any) -> Frequency:
    """``"daily"``, ``"weekly"`` or ``"monthly"`` from the median spacing of ``dates``.

    Examples
    --------
    >>> import pandas as pd
    >>> infer_frequency(pd.date_range("2025-01-01", periods=6, freq="MS"))
    'monthly'
    >>> infer_frequency(pd.bdate_range("2025-01-01", periods=6))
    'daily'
    """
    import numpy as np
    import pandas as pd

    idx = pd.DatetimeIndex(dates)
    if len(idx) < 2:
        return "daily"
    step = float(np.median(np.diff(idx.to_numpy()).astype("timedelta64[D]").astype(float)))
    return "daily" if step <= 4 else "weekly" if step <= 10 else "monthly"


def default_registry() -> SeriesRegistry:
    """The registry shipped with the package (``oilimpact/data/series.toml``)."""
    text = resources.files("oilimpact").joinpath("data/series.toml").read_text(encoding="utf-8")
    return SeriesRegistry({s.name: s for s in _read_toml(Path("oilimpact/data/series.toml"), text)})
