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
    publication_lag = "1 day"
    lag_source = "vendor's daily assessment, next morning"
    sources = ["file:urals"]

``publication_lag`` says how long after the end of a period its value is published
(``"0 days"``, ``"1 day"``, ``"5 days"``, ``"2 months"``); :func:`known_by` applies it, so
a study or brief dated D uses only values published by D (``docs/point-in-time.md``).

Examples
--------
>>> from oilimpact.series import default_registry
>>> reg = default_registry()
>>> reg["wti"].allow_negative
True
>>> [ (s.provider, s.id) for s in reg["brent"].sources ][:2]
[('fred', 'DCOILBRENTEU'), ('eia', 'RBRTE')]
>>> str(reg["ve_crude_production"].publication_lag)
'3 months'
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pandas is imported lazily: the registry loads without it
    import pandas as pd

from .errors import ConfigError

__all__ = [
    "DEFAULT_STALE_AFTER",
    "infer_frequency",
    "Frequency",
    "Kind",
    "LastUsed",
    "PROVIDERS",
    "PublicationLag",
    "SeriesRegistry",
    "SeriesSpec",
    "SourceRef",
    "default_registry",
    "known_by",
    "last_known_period",
    "period_end",
    "release_dates",
    "stale_since",
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


LagUnit = Literal["days", "weeks", "months"]
_LAG_RE = re.compile(r"^\s*(\d{1,3})\s*(day|days|week|weeks|month|months)\s*$")


@dataclass(frozen=True, slots=True)
class PublicationLag:
    """How long after the end of a period its value is published.

    A value for period ``p`` is taken as known on ``period_end(p) + lag`` (see
    :func:`release_dates`): a session's own date for daily series, the period date for
    weekly series (EIA dates weeks by their last day), the last day of the month for
    monthly series (indexed by the first day).

    Attributes
    ----------
    amount : int
        Number of ``unit`` (0 or more).
    unit : {"days", "weeks", "months"}
        Calendar days, weeks or months (months add to the month's last day:
        2025-11-30 + 3 months = 2026-02-28).
    source : str
        Whose release schedule the figure comes from (cited in ``availability``).

    Examples
    --------
    >>> lag = PublicationLag.parse("3 months", source="EIA International Energy Statistics")
    >>> lag.amount, lag.unit, str(lag)
    (3, 'months', '3 months')
    >>> str(PublicationLag.parse("1 day"))
    '1 day'
    """

    amount: int = 0
    unit: LagUnit = "days"
    source: str = ""

    @classmethod
    def parse(cls, text: object, *, source: str = "", where: str = "") -> PublicationLag:
        """Read ``"<n> day(s)|week(s)|month(s)"``; ``where`` names the file and series in errors."""
        match = _LAG_RE.match(str(text)) if isinstance(text, str) else None
        if match is None:
            raise ConfigError(
                f"{where or 'publication_lag'}: publication_lag must read like '1 day', "
                f"'5 days', '2 weeks' or '3 months', got {text!r}"
            )
        unit = match.group(2) if match.group(2).endswith("s") else match.group(2) + "s"
        return cls(int(match.group(1)), unit, str(source))  # type: ignore[arg-type]

    def __str__(self) -> str:
        word = self.unit[:-1] if self.amount == 1 else self.unit
        return f"{self.amount} {word}"

    def offset(self) -> Any:
        """The lag as a :class:`pandas.DateOffset` (months) or :class:`pandas.Timedelta`."""
        import pandas as pd

        if self.unit == "months":
            return pd.DateOffset(months=self.amount)
        return pd.Timedelta(days=self.amount * (7 if self.unit == "weeks" else 1))


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
    publication_lag : PublicationLag or None
        How long after a period ends its value is published (TOML ``publication_lag``
        and ``lag_source``); None when not registered (a period is then taken as known
        once it ends). Applied by :func:`known_by`.
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
    publication_lag: PublicationLag | None = None
    stale_after: PublicationLag | None = None

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
        raw_stale = data.pop("stale_after", None)
        stale_after = (
            PublicationLag.parse(raw_stale, where=f"{where} (stale_after)")
            if raw_stale is not None
            else None
        )
        raw_lag = data.pop("publication_lag", None)
        lag_source = data.pop("lag_source", "")
        if not isinstance(lag_source, str):
            raise ConfigError(f"{where}: lag_source must be a string, got {lag_source!r}")
        lag = (
            PublicationLag.parse(raw_lag, source=lag_source, where=where)
            if raw_lag is not None
            else None
        )
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
            "publication_lag",
            "stale_after",
        }
        unknown = set(data) - known
        if unknown:
            allowed = sorted(known | {"publication_lag", "lag_source", "stale_after"})
            raise ConfigError(f"{where}: unknown entries {sorted(unknown)}; allowed: {allowed}")
        data.setdefault("description", name)
        data.setdefault("unit", "")
        return cls(
            name=name,
            frequency=freq,
            kind=kind,
            close_time=close,
            sources=tuple(refs),
            publication_lag=lag,
            stale_after=stale_after,
            **data,
        )


class SeriesRegistry(Mapping[str, SeriesSpec]):
    """A read-only mapping of series name to :class:`SeriesSpec`.

    Examples
    --------
    >>> reg = default_registry()
    >>> "sp500" in reg and reg["sp500"].kind
    'index'
    """

    def __init__(
        self,
        specs: Mapping[str, SeriesSpec] | None = None,
        groups: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._specs: dict[str, SeriesSpec] = dict(specs or {})
        self._groups: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in (groups or {}).items()}
        _check_groups(self._groups, self._specs, origin="registry")

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
        return SeriesRegistry(merged, self._groups)

    def with_file(self, path: str | Path) -> SeriesRegistry:
        """Return a new registry extended by the ``[series.*]`` tables (and the
        ``[groups]`` table, if any) of a TOML file."""
        path = Path(path)
        specs = _read_toml(path)
        merged = dict(self._specs)
        merged.update({s.name: s for s in specs})
        groups = dict(self._groups)
        groups.update(_read_groups(path))
        return SeriesRegistry(merged, groups)

    @property
    def groups(self) -> dict[str, tuple[str, ...]]:
        """Named groups of series (the ``[groups]`` table): name -> series names."""
        return dict(self._groups)

    def group(self, name: str) -> tuple[str, ...]:
        """The series of the group ``name`` (``[groups]`` table of the registry file).

        Raises
        ------
        ConfigError
            ``name`` is not a group; the message lists the known groups.

        Examples
        --------
        >>> reg = default_registry()
        >>> reg = SeriesRegistry(reg, {"ve_volumes": ("ve_crude_production", "ve_liquids_production")})
        >>> reg.group("ve_volumes")
        ('ve_crude_production', 've_liquids_production')
        """
        try:
            return self._groups[name]
        except KeyError:
            raise ConfigError(
                f"unknown series group {name!r}; known groups: "
                f"{', '.join(sorted(self._groups)) or '(none)'}"
            ) from None

    def expand(self, names: str | Iterable[str]) -> list[str]:
        """Series names with every group name replaced by its members (order kept,
        duplicates dropped).

        Examples
        --------
        >>> reg = SeriesRegistry(default_registry(), {"prices": ("brent", "wti")})
        >>> reg.expand(["wti", "prices", "sp500"])
        ['wti', 'brent', 'sp500']
        """
        items = [names] if isinstance(names, str) else list(names)
        out: list[str] = []
        for item in items:
            out.extend(self._groups.get(item, (item,)))
        return list(dict.fromkeys(out))

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Registered names close to ``name`` (``difflib``), best first: typo hints.

        Examples
        --------
        >>> default_registry().suggest("brnt")
        ['brent']
        """
        import difflib

        return difflib.get_close_matches(str(name).lower(), list(self._specs), n=n, cutoff=0.6)

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


def _read_groups(path: Path, text: str | None = None) -> dict[str, tuple[str, ...]]:
    """The ``[groups]`` table of a registry file: ``NAME = ["series", ...]``."""
    raw = tomllib.loads(text if text is not None else path.read_text(encoding="utf-8"))
    table = raw.get("groups", {})
    if not isinstance(table, dict):
        raise ConfigError(f"series file {path}: [groups] must be a table of NAME = [series, ...]")
    groups: dict[str, tuple[str, ...]] = {}
    for name, members in table.items():
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise ConfigError(
                f"series file {path}: group {name!r} must be a list of series names, got {members!r}"
            )
        groups[str(name)] = tuple(members)
    return groups


def _check_groups(
    groups: Mapping[str, tuple[str, ...]], specs: Mapping[str, SeriesSpec], *, origin: str
) -> None:
    for name, members in groups.items():
        if name in specs:
            raise ConfigError(f"{origin}: group {name!r} has the name of a series")
        unknown = [m for m in members if m not in specs]
        if unknown:
            raise ConfigError(
                f"{origin}: group {name!r} names unregistered series: {', '.join(unknown)}"
            )


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
    path = Path("oilimpact/data/series.toml")
    return SeriesRegistry({s.name: s for s in _read_toml(path, text)}, _read_groups(path, text))


# ----------------------------------------------------------------------- point in time

_PERIOD_WORD = {"daily": "session", "weekly": "week", "monthly": "month"}


def period_end(dates: Any, frequency: Frequency) -> pd.DatetimeIndex:
    """The last day of each period: the date itself (daily, weekly) or the month's last day.

    Weekly series are dated by the last day of their week (EIA's "week ending"), so the
    period date is already its end. Monthly series are dated by the month's first day.

    Examples
    --------
    >>> import pandas as pd
    >>> period_end(pd.DatetimeIndex(["2025-11-01", "2026-02-01"]), "monthly").strftime("%F").tolist()
    ['2025-11-30', '2026-02-28']
    """
    import pandas as pd

    idx = pd.DatetimeIndex(dates)
    if frequency == "monthly":
        return (idx + pd.offsets.MonthEnd(0)).normalize()
    return idx.normalize()


def _lag_of(spec: SeriesSpec) -> PublicationLag:
    return spec.publication_lag if spec.publication_lag is not None else PublicationLag()


def release_dates(dates: Any, spec: SeriesSpec) -> pd.DatetimeIndex:
    """The date each period's value is taken as known: ``period_end + publication_lag``.

    Examples
    --------
    >>> import pandas as pd
    >>> reg = default_registry()
    >>> months = pd.DatetimeIndex(["2025-10-01", "2025-11-01"])
    >>> release_dates(months, reg["ve_crude_production"]).strftime("%F").tolist()
    ['2026-01-31', '2026-02-28']
    """
    import warnings

    import pandas as pd

    ends = period_end(dates, spec.frequency)
    with warnings.catch_warnings():  # DateOffset(months=) on an index is not vectorised
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        return pd.DatetimeIndex(ends + _lag_of(spec).offset())


def last_known_period(
    spec: SeriesSpec, as_of: date | datetime | str | pd.Timestamp
) -> pd.Timestamp:
    """The latest period date whose value is published on or before ``as_of``.

    Daily and weekly series: ``as_of - lag`` (a bound on the session or week-ending date).
    Monthly series: the first day of the latest month whose last day plus the lag is on or
    before ``as_of``.

    Examples
    --------
    >>> reg = default_registry()
    >>> last_known_period(reg["ve_crude_production"], "2026-02-15").date()
    datetime.date(2025, 10, 1)
    >>> last_known_period(reg["brent"], "2026-01-09").date()
    datetime.date(2026, 1, 8)
    """
    import pandas as pd

    cut = _day(as_of)
    lag = _lag_of(spec)
    if spec.frequency != "monthly":
        return (cut - lag.offset()).normalize()
    month = cut.to_period("M").to_timestamp()
    for _ in range(240):
        if release_dates(pd.DatetimeIndex([month]), spec)[0] <= cut:
            return month
        month = month - pd.DateOffset(months=1)
    raise ConfigError(f"{spec.name}: publication lag {lag} is longer than 20 years")



#: How far a series may trail its last published period before it is called stale, by
#: frequency, unless its registry entry sets ``stale_after`` (a provider that publishes
#: no row for some periods, such as EIA's imports by origin, needs more slack).
DEFAULT_STALE_AFTER: dict[str, str] = {"daily": "10 days", "weekly": "17 days", "monthly": "2 months"}


def stale_since(
    spec: SeriesSpec, last: Any, as_of: date | datetime | str | pd.Timestamp
) -> pd.Timestamp | None:
    """The date a series became stale on ``as_of``, or None when it is current.

    A series is stale when its last observation trails the last period its provider had
    published by ``as_of`` (:func:`last_known_period`, so publication lags count) by more
    than ``spec.stale_after`` (default :data:`DEFAULT_STALE_AFTER` by frequency). A
    monthly figure published three months late is therefore not stale for being three
    months old, and a daily price is stale after ten days without a session.

    Parameters
    ----------
    spec : SeriesSpec
    last : date-like or None
        The series' last non-missing observation (None or NaT: no data, always stale).
    as_of : date-like

    Returns
    -------
    pandas.Timestamp or None
        ``last`` when stale (the page says "stale since <last>"), else None.

    Examples
    --------
    >>> reg = default_registry()
    >>> spec = reg["ve_crude_production"]        # published about 3 months after the month
    >>> stale_since(spec, "2025-10-01", "2026-02-15") is None
    True
    >>> stale_since(spec, "2025-06-01", "2026-02-15").date()
    datetime.date(2025, 6, 1)
    >>> stale_since(reg["brent"], "2026-01-02", "2026-01-09") is None
    True
    """
    import pandas as pd

    if last is None or pd.isna(last):
        return pd.NaT
    last_ts = pd.Timestamp(last).normalize()
    allowed = spec.stale_after or PublicationLag.parse(
        DEFAULT_STALE_AFTER.get(spec.frequency, "10 days")
    )
    due = last_known_period(spec, as_of)
    return last_ts if last_ts < due - allowed.offset() else None


def _day(value: Any) -> pd.Timestamp:
    import pandas as pd

    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.normalize()


@dataclass(frozen=True, slots=True)
class LastUsed:
    """Which periods of a series were known on a date, and why (from :func:`known_by`).

    Attributes
    ----------
    series : str
        Series name.
    as_of : pandas.Timestamp
        The date of knowledge.
    last_used : pandas.Timestamp
        The last period with a value in the cut series (NaT when none).
    last_known : pandas.Timestamp
        The latest period the release schedule allows on ``as_of``
        (:func:`last_known_period`); ``last_used`` is earlier when the provider skipped
        periods or the store is behind.
    held_back : int
        Periods in the input dated after what was published on ``as_of`` (left out).
    availability : str
        One sentence for the brief: frequency, lag and its source, what was known.
    """

    series: str
    as_of: pd.Timestamp
    last_used: pd.Timestamp
    last_known: pd.Timestamp
    held_back: int
    availability: str


def _availability(
    spec: SeriesSpec, as_of: pd.Timestamp, last_known: pd.Timestamp, held: int
) -> str:
    lag = spec.publication_lag
    word = _PERIOD_WORD.get(spec.frequency, "period")
    if lag is None:
        how = f"publication lag not registered: a {word} is taken as known once it ends"
    elif lag.amount == 0:
        how = f"known at the {word}'s close" + (f" ({lag.source})" if lag.source else "")
    else:
        after = {"session": "the session", "week": "the week ends", "month": "the month"}[word]
        how = f"published about {lag} after {after}" + (f" ({lag.source})" if lag.source else "")
    if spec.frequency == "monthly":
        through = f"months through {last_known:%Y-%m}"
    elif spec.frequency == "weekly":
        through = f"weeks ending on or before {last_known:%Y-%m-%d}"
    else:
        through = f"sessions through {last_known:%Y-%m-%d}"
    text = f"{spec.frequency}; {how}; {through} known on {as_of:%Y-%m-%d}"
    if held:
        text += f" ({held} later stored {word}{'s' if held != 1 else ''} left out)"
    return text


def known_by(
    series: pd.Series, spec: SeriesSpec, as_of: date | datetime | str | pd.Timestamp
) -> tuple[pd.Series, LastUsed]:
    """Cut ``series`` to the periods whose values were published on or before ``as_of``.

    The one place a publication lag is applied: the API's ``as_of=``, the brief, the
    demo and the notebooks all call it.

    Parameters
    ----------
    series : pandas.Series
        Values on a ``DatetimeIndex`` in the frame convention (period dates).
    spec : SeriesSpec
        Gives the frequency and the :class:`PublicationLag` (none: lag 0).
    as_of : date-like
        The date of knowledge (a calendar date; a time of day is ignored).

    Returns
    -------
    (pandas.Series, LastUsed)
        The cut series and what was used and why.

    Notes
    -----
    Period ``p`` is kept when ``period_end(p) + lag <= as_of`` (:func:`release_dates`).
    Lags are the providers' usual release delays (``docs/point-in-time.md`` cites each);
    they are approximations: a release that came early or late by a few days is not
    modelled, and neither is a holiday that shifts a release.

    Examples
    --------
    >>> import pandas as pd
    >>> reg = default_registry()
    >>> s = pd.Series([1.0, 2.0, 3.0, 4.0],
    ...               index=pd.date_range("2025-10-01", periods=4, freq="MS"), name="x")
    >>> cut, used = known_by(s, reg["ve_crude_production"], "2026-02-15")
    >>> cut.index.strftime("%Y-%m").tolist(), used.held_back
    (['2025-10'], 3)
    >>> used.availability
    'monthly; published about 3 months after the month (EIA International Energy Statistics); months through 2025-10 known on 2026-02-15 (3 later stored months left out)'
    """
    import pandas as pd

    cut_day = _day(as_of)
    if len(series):
        keep = release_dates(series.index, spec) <= cut_day
        cut = series[keep]
    else:
        keep = None
        cut = series
    valid = cut.dropna()
    later = series[~keep] if keep is not None else series
    held = int(later.notna().sum())
    known = last_known_period(spec, cut_day)
    used = LastUsed(
        series=spec.name,
        as_of=cut_day,
        last_used=valid.index[-1] if valid.size else pd.NaT,
        last_known=known,
        held_back=held,
        availability=_availability(spec, cut_day, known, held),
    )
    return cut, used
