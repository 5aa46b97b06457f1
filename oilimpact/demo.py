"""A seeded synthetic dataset with known effects, for demos, tests and offline notebooks.

:func:`demo_dataset` generates, in code and without any I/O, daily prices for the oil,
gas, index and energy-equity series of the default registry on US exchange sessions,
weekly and monthly Venezuelan volume series, and a **known injected effect** at the
2025-12-16 naval blockade. The true effects travel with the data
(:attr:`DemoData.true_effects`) so a brief built on it can print the truth beside each
estimate. Every object produced from it must be labelled synthetic.

Examples
--------
>>> from oilimpact.demo import demo_dataset
>>> demo = demo_dataset()
>>> demo.synthetic, demo.prices.index[0].date().isoformat()
(True, '2024-01-02')
>>> demo.true_effects["blockade"]["brent"]["value"]
0.03
>>> bool((demo.prices > 0).all().all())
True

What was known on 2026-01-09 (each series' publication lag applied; the January
production figure was not published yet):

>>> known = demo.known_on("2026-01-09")
>>> known.volumes["ve_crude_production"].index[-1].date().isoformat()
'2025-09-01'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.tseries.holiday import (
    AbstractHolidayCalendar,
    GoodFriday,
    Holiday,
    USLaborDay,
    USMartinLutherKingJr,
    USMemorialDay,
    USPresidentsDay,
    USThanksgivingDay,
    nearest_workday,
)
from pandas.tseries.offsets import CustomBusinessDay

if TYPE_CHECKING:
    from .series import LastUsed, SeriesRegistry

__all__ = ["DemoData", "PRICE_SERIES", "VOLUME_SERIES", "demo_dataset", "us_sessions"]

#: Daily price series the demo generates, in column order.
PRICE_SERIES: tuple[str, ...] = (
    "brent",
    "wti",
    "henry_hub",
    "sp500",
    "vix",
    "xle",
    "cvx",
    "fro",
    "dht",
    "insw",
    "tnk",
    "vlo",
    "mpc",
    "pbf",
)
#: Volume series the demo generates (kb/d).
VOLUME_SERIES: tuple[str, ...] = (
    "us_imports_ve_weekly",
    "ve_crude_production",
    "us_imports_ve_monthly",
)

#: Volume series start this many years before ``start``: monthly and weekly models need
#: two to three years of pre-event periods for seasonal terms and placebo dates.
VOLUME_HISTORY_YEARS = 3

#: Day 0 of the blockade for US-close series: announced the evening of 2025-12-16 ET,
#: after every close, so the first session that can react is 2025-12-17.
BLOCKADE_DAY0 = "2025-12-17"

# (market beta, oil beta, idiosyncratic daily vol, start price)
_EQUITIES: dict[str, tuple[float, float, float, float]] = {
    "xle": (0.95, 0.40, 0.0085, 84.0),
    "cvx": (0.85, 0.35, 0.0095, 148.0),
    "fro": (0.80, 0.30, 0.0230, 21.0),
    "dht": (0.70, 0.25, 0.0190, 11.5),
    "insw": (0.85, 0.30, 0.0210, 53.0),
    "tnk": (0.85, 0.30, 0.0220, 50.0),
    "vlo": (1.10, 0.20, 0.0170, 140.0),
    "mpc": (1.05, 0.20, 0.0160, 150.0),
    "pbf": (1.20, 0.25, 0.0240, 50.0),
}

# Injected abnormal log returns on BLOCKADE_DAY0 (a permanent level shift of the price).
_BLOCKADE_AR: dict[str, float] = {
    "brent": 0.03,
    "wti": 0.025,
    "fro": 0.05,
    "dht": 0.05,
    "insw": 0.05,
    "tnk": 0.05,
    "vlo": -0.02,
}
# Injected level shifts of the volume series (kb/d) from the first *full* period after
# the blockade on: the week ending 2025-12-26 and January 2026.
_BLOCKADE_LEVEL: dict[str, tuple[str, float]] = {
    "us_imports_ve_weekly": ("2025-12-26", -150.0),
    "ve_crude_production": ("2026-01-01", -250.0),
    "us_imports_ve_monthly": ("2026-01-01", -150.0),
}


class _NYSEHolidays(AbstractHolidayCalendar):
    """NYSE full-day holidays (the regular rules; ad-hoc closures are ignored)."""

    rules = [
        Holiday("NewYearsDay", month=1, day=1, observance=nearest_workday),
        USMartinLutherKingJr,
        USPresidentsDay,
        GoodFriday,
        USMemorialDay,
        Holiday("Juneteenth", month=6, day=19, start_date="2022-01-01", observance=nearest_workday),
        Holiday("IndependenceDay", month=7, day=4, observance=nearest_workday),
        USLaborDay,
        USThanksgivingDay,
        Holiday("Christmas", month=12, day=25, observance=nearest_workday),
    ]


def us_sessions(start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.DatetimeIndex:
    """US exchange sessions (weekdays less NYSE holidays) from ``start`` to ``end``.

    Examples
    --------
    >>> d = us_sessions("2025-12-22", "2026-01-02")
    >>> [x.strftime("%m-%d") for x in d]
    ['12-22', '12-23', '12-24', '12-26', '12-29', '12-30', '12-31', '01-02']
    """
    offset = CustomBusinessDay(calendar=_NYSEHolidays())
    idx = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq=offset)
    return pd.DatetimeIndex(idx.as_unit("ns"), name="date")


@dataclass(frozen=True, slots=True)
class DemoData:
    """A synthetic dataset and the effects injected into it.

    Attributes
    ----------
    prices : pandas.DataFrame
        Daily prices, index ``date`` (US sessions), one float column per series in
        :data:`PRICE_SERIES`.
    volumes : Mapping[str, pandas.Series]
        Weekly (Friday week-ending) and monthly (first of month) series in kb/d, in the
        package's series frame convention.
    true_effects : Mapping[str, Mapping[str, Mapping[str, Any]]]
        ``event id -> series -> {"measure", "start", "value", "unit"}``. ``measure`` is
        ``"ar"`` (an abnormal log return on the session ``start``, i.e. the true CAR of
        every window containing that day) or ``"level"`` (a shift of the volume level
        from period ``start`` on).
    seed : int
        The seed that produced the data.
    synthetic : bool
        Always True: anything built from this data must say so.
    availability : Mapping[str, LastUsed]
        After :meth:`known_on`: per series, the last period used and why.
    """

    prices: pd.DataFrame
    volumes: Mapping[str, pd.Series]
    true_effects: Mapping[str, Mapping[str, Mapping[str, Any]]]
    seed: int
    synthetic: bool = True
    sources: Mapping[str, str] = field(default_factory=dict)
    availability: Mapping[str, LastUsed] = field(default_factory=dict)

    def known_on(
        self, as_of: str | pd.Timestamp | Any, registry: SeriesRegistry | None = None
    ) -> DemoData:
        """The data as known on ``as_of``: each series cut by its publication lag.

        The same rule as the store's ``as_of`` (:func:`oilimpact.series.known_by` with the
        registry's ``publication_lag``): a monthly production figure published three
        months after the month is absent from data known on an earlier date. The true
        effects keep only what the cut data can show.

        Parameters
        ----------
        as_of : date-like
            The date of knowledge.
        registry : SeriesRegistry, optional
            Where the lags come from (default: the packaged registry).

        Returns
        -------
        DemoData
            With ``availability`` filled.
        """
        from .series import default_registry, known_by

        reg = registry if registry is not None else default_registry()
        used: dict[str, LastUsed] = {}
        cols = {}
        for name in self.prices.columns:
            cols[name], used[name] = known_by(self.prices[name], reg.spec_or_default(name), as_of)
        prices = pd.concat(cols, axis=1, sort=True) if cols else self.prices.iloc[:0]
        prices.index.name = self.prices.index.name
        volumes = {}
        for name, s in self.volumes.items():
            volumes[name], used[name] = known_by(s, reg.spec_or_default(name), as_of)
        return replace(
            self,
            prices=prices,
            volumes=volumes,
            true_effects=_true_effects(pd.DatetimeIndex(prices.index), volumes),
            availability=used,
        )

    def health_frame(self) -> pd.DataFrame:
        """A data-health table for the demo series (the shape the brief expects).

        Columns ``series, source, source_id, first, last, rows, fetched_at, stale,
        warnings, last_used, availability`` (the last two from :meth:`known_on`, else
        ``last`` and empty). ``fetched_at`` is missing: nothing was fetched.
        """
        rows = []
        frames: dict[str, pd.Series] = {c: self.prices[c] for c in self.prices.columns}
        frames.update(self.volumes)
        for name, s in frames.items():
            s = s.dropna()
            used = self.availability.get(name)
            rows.append(
                {
                    "series": name,
                    "source": "synthetic",
                    "source_id": f"oilimpact.demo(seed={self.seed})",
                    "first": s.index[0],
                    "last": s.index[-1],
                    "rows": int(s.size),
                    "fetched_at": pd.NaT,
                    "stale": False,
                    "warnings": "",
                    "last_used": s.index[-1],
                    "availability": used.availability if used is not None else "",
                }
            )
        return pd.DataFrame(rows)


def _t4(rng: np.random.Generator, size: tuple[int, ...] | int) -> np.ndarray:
    """Student-t(4) draws scaled to unit variance (var of t(4) is 2)."""
    return rng.standard_t(4, size=size) / np.sqrt(2.0)


def _garch_returns(
    rng: np.random.Generator, n: int, annual_vol: float, *, alpha: float = 0.06, beta: float = 0.90
) -> np.ndarray:
    """GARCH(1,1) returns with t(4) innovations and the given unconditional annual vol."""
    var = annual_vol**2 / 252.0
    omega = var * (1.0 - alpha - beta)
    z = _t4(rng, n)
    out = np.empty(n)
    h = var
    for t in range(n):
        out[t] = np.sqrt(h) * z[t]
        h = omega + alpha * out[t] ** 2 + beta * h
    return out


def _ou(
    rng: np.random.Generator, n: int, x0: float, mean: np.ndarray, kappa: float, shocks: np.ndarray
) -> np.ndarray:
    """Discrete Ornstein-Uhlenbeck path ``x_t = x_{t-1} + kappa (mean_t - x_{t-1}) + shock_t``."""
    x = np.empty(n)
    prev = x0
    for t in range(n):
        prev = prev + kappa * (mean[t] - prev) + shocks[t]
        x[t] = prev
    return x


def _day_index(index: pd.DatetimeIndex, day: str) -> int | None:
    pos = index.get_indexer([pd.Timestamp(day)])[0]
    return int(pos) if pos >= 0 else None


def _prices(rng: np.random.Generator, sessions: pd.DatetimeIndex) -> pd.DataFrame:
    n = len(sessions)
    r_m = _garch_returns(rng, n, 0.16) + 0.0004  # S&P 500, ~10%/yr drift
    oil_idio = _garch_returns(rng, n, 0.29, alpha=0.07, beta=0.90)
    r_oil = 0.25 * r_m + oil_idio - 0.0001  # oil factor, ~30% annual vol
    shock = {name: np.zeros(n) for name in PRICE_SERIES}
    i0 = _day_index(sessions, BLOCKADE_DAY0)
    if i0 is not None:
        for name, ar in _BLOCKADE_AR.items():
            shock[name][i0] = ar

    cols: dict[str, np.ndarray] = {}
    cols["sp500"] = 4740.0 * np.exp(np.cumsum(r_m + shock["sp500"]))
    log_brent = np.log(77.0) + np.cumsum(r_oil + shock["brent"])
    # log(Brent/WTI) mean-reverts around log(1.06): a spread of about 4 USD/bbl.
    q = _ou(rng, n, np.log(1.06), np.full(n, np.log(1.06)), 0.03, 0.004 * _t4(rng, n))
    cols["brent"] = np.exp(log_brent)
    cols["wti"] = np.exp(log_brent - q + np.cumsum(shock["wti"] - shock["brent"]))
    # Henry Hub: mean-reverting log price with a winter peak, ~60% annual vol.
    doy = sessions.day_of_year.to_numpy()
    hh_mean = np.log(3.0) + 0.15 * np.cos(2 * np.pi * (doy - 15) / 365.25)
    hh_shocks = 0.6 / np.sqrt(252) * _t4(rng, n) + shock["henry_hub"]
    cols["henry_hub"] = np.exp(_ou(rng, n, np.log(2.6), hh_mean, 0.02, hh_shocks))
    # VIX: mean-reverting log level, rises when the market falls.
    vix_shocks = -4.0 * (r_m - r_m.mean()) + 0.045 * _t4(rng, n)
    cols["vix"] = np.exp(_ou(rng, n, np.log(13.0), np.full(n, np.log(16.0)), 0.05, vix_shocks))
    for name, (b_m, b_oil, sd, p0) in _EQUITIES.items():
        r = 0.0001 + b_m * r_m + b_oil * oil_idio + sd * _t4(rng, n) + shock[name]
        cols[name] = p0 * np.exp(np.cumsum(r))
    frame = pd.DataFrame({name: cols[name] for name in PRICE_SERIES}, index=sessions)
    return frame.round(4)


def _volume(
    rng: np.random.Generator,
    index: pd.DatetimeIndex,
    name: str,
    *,
    level: np.ndarray,
    seasonal_amp: float,
    noise_sd: float,
    phi: float,
) -> pd.Series:
    n = len(index)
    e = noise_sd * np.sqrt(1 - phi**2) * _t4(rng, n)
    noise = np.empty(n)
    prev = 0.0
    for t in range(n):
        prev = phi * prev + e[t]
        noise[t] = prev
    season = seasonal_amp * np.sin(2 * np.pi * (index.day_of_year.to_numpy() / 365.25))
    values = level + season + noise
    start, shift = _BLOCKADE_LEVEL[name]
    values = values + np.where(index >= pd.Timestamp(start), shift, 0.0)
    out = pd.Series(np.clip(values, 0.0, None).round(1), index=index, name=name, dtype="float64")
    out.index.name = "date"
    return out


def _volumes(
    rng: np.random.Generator, start: pd.Timestamp, end: pd.Timestamp
) -> dict[str, pd.Series]:
    start = start - pd.DateOffset(years=VOLUME_HISTORY_YEARS)
    weeks = pd.DatetimeIndex(pd.date_range(start, end, freq="W-FRI").as_unit("ns"), name="date")
    months = pd.DatetimeIndex(
        pd.date_range(start.to_period("M").to_timestamp(), end, freq="MS").as_unit("ns"),
        name="date",
    )
    trend_m = np.linspace(0.0, 1.0, len(months))
    trend_w = np.linspace(0.0, 1.0, len(weeks))
    return {
        "us_imports_ve_weekly": _volume(
            rng,
            weeks,
            "us_imports_ve_weekly",
            level=230.0 + 30.0 * trend_w,
            seasonal_amp=15.0,
            noise_sd=55.0,
            phi=0.3,
        ),
        "ve_crude_production": _volume(
            rng,
            months,
            "ve_crude_production",
            level=860.0 + 100.0 * trend_m,
            seasonal_amp=10.0,
            noise_sd=18.0,
            phi=0.5,
        ),
        "us_imports_ve_monthly": _volume(
            rng,
            months,
            "us_imports_ve_monthly",
            level=225.0 + 35.0 * trend_m,
            seasonal_amp=12.0,
            noise_sd=30.0,
            phi=0.4,
        ),
    }


def _true_effects(
    sessions: pd.DatetimeIndex, volumes: Mapping[str, pd.Series]
) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, Any]] = {}
    if _day_index(sessions, BLOCKADE_DAY0) is not None:
        for name, ar in _BLOCKADE_AR.items():
            out[name] = {"measure": "ar", "start": BLOCKADE_DAY0, "value": ar, "unit": "log return"}
    for name, (start, shift) in _BLOCKADE_LEVEL.items():
        s = volumes[name]
        if (s.index >= pd.Timestamp(start)).any():
            out[name] = {"measure": "level", "start": start, "value": shift, "unit": "kb/d"}
    return {"blockade": out} if out else {}


def demo_dataset(
    seed: int = 20251216, start: str = "2024-01-02", end: str = "2026-01-09"
) -> DemoData:
    """Generate the seeded synthetic dataset.

    Parameters
    ----------
    seed : int
        Seed of the ``numpy.random.Generator`` (PCG64); the same seed, start and end
        give identical data on every platform numpy supports.
    start, end : str
        First and last calendar date (inclusive).

    Returns
    -------
    DemoData

    Notes
    -----
    Returns follow a factor model with GARCH(1,1) volatility and Student-t(4)
    innovations: the S&P 500 (about 16% annual vol) is the market factor, an oil
    factor (about 30%) loads 0.25 on it, equities load on both (betas in
    ``_EQUITIES``; about 20-25% for integrated majors, 35-45% for tankers and
    refiners), log(Brent/WTI) mean-reverts around log(1.06), Henry Hub is a
    mean-reverting log price with a winter peak (about 60% vol), and the VIX is a
    mean-reverting log level that rises when the market falls. Volumes are AR(1)
    noise around a trend with an annual cycle; they start ``VOLUME_HISTORY_YEARS`` (3)
    years before ``start`` because intervention models need long pre-event samples.

    Injected at the blockade (announced 2025-12-16 after the US close): abnormal log
    returns on 2025-12-17 of +3.0% (Brent), +2.5% (WTI), +5% (FRO, DHT, INSW, TNK)
    and -2% (VLO), each a permanent price-level shift added to the idiosyncratic
    component only (so the market-model abnormal return on that day is the injected
    value); level shifts of -150 kb/d in weekly US imports from Venezuela, -250 kb/d in
    Venezuelan crude production and -150 kb/d in monthly US imports, each from the
    first full period after the event (the week ending 2025-12-26 and January 2026).
    """
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    if end_ts <= start_ts:
        raise ValueError(f"end must be after start, got start={start}, end={end}")
    rng = np.random.default_rng(seed)
    sessions = us_sessions(start_ts, end_ts)
    prices = _prices(rng, sessions)
    volumes = _volumes(rng, start_ts, end_ts)
    return DemoData(
        prices=prices,
        volumes=volumes,
        true_effects=_true_effects(sessions, volumes),
        seed=seed,
        synthetic=True,
        sources={
            name: f"synthetic:oilimpact.demo(seed={seed})"
            for name in (*PRICE_SERIES, *VOLUME_SERIES)
        },
    )
