"""The weekly brief: compute every number (pure), render one self-contained HTML page.

Three steps, each a pure function of its inputs except the last, which writes files:

* :func:`compute_brief` takes price and volume frames, the event catalog and a data
  health table, runs the event studies and the intervention analyses, and returns a
  :class:`BriefData` value holding every table the page shows;
* :func:`render_brief` turns it into HTML (Jinja2 with autoescape; plotly.js inlined once,
  compressed; the same data and ``generated_at`` give the same bytes);
* :func:`write_brief` writes ``<out>/<ISO week>/brief.html``, ``results.json`` and one
  CSV per table.

Nothing here reads the store or the network: the caller (``oilimpact.api``) loads the
frames. Series names follow the registry (``brent``, ``wti``, ``sp500`` ...); series
that are absent are skipped and the page says so.

Examples
--------
>>> import datetime as dt
>>> from oilimpact.demo import demo_dataset
>>> from oilimpact.events import load_catalog
>>> from oilimpact.report import render_brief
>>> demo = demo_dataset().known_on("2026-01-09")   # the data as known that day
>>> data = compute_brief(demo.prices, demo.volumes, as_of=dt.date(2026, 1, 9),
...                      events=load_catalog(), synthetic=True,
...                      true_effects=demo.true_effects)
>>> data.week, len(data.tables["findings"]) > 0
('2026-W02', True)
>>> html = render_brief(data, generated_at=dt.datetime(2026, 1, 12, 6, 17,
...                                                   tzinfo=dt.timezone.utc))
>>> html.startswith("<!DOCTYPE html>") and 'id="findings"' in html
True
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from ..errors import EstimationError, OilImpactError
from ..events import EventCatalog
from ..eventstudy.engine import event_study
from ..eventstudy.models import GARCH_MODELS
from ..eventstudy.power import minimum_detectable_effect
from ..eventstudy.result import EventStudyResult
from ..intervention.analysis import intervention
from ..intervention.result import InterventionResult
from ..intervention.sample import post_event_periods
from ..schemas import HEALTH_COLUMNS
from ..series import SeriesRegistry, SeriesSpec, default_registry
from ..synth import SynthResult, synthetic_control
from .channels import ChannelTables, channel_tables
from .findings import MultiTest, adjust_pvalues, key_findings, merge_shared_day0
from .model import SPREAD, UNITS, BriefData, BriefOptions, _label

__all__ = ["SPREAD", "BriefData", "BriefOptions", "compute_brief", "iso_week"]

# ======================================================================================
# compute
# ======================================================================================


def iso_week(day: dt.date | str | pd.Timestamp) -> str:
    """ISO 8601 week label of ``day``.

    Examples
    --------
    >>> iso_week("2026-01-09"), iso_week("2025-12-29")
    ('2026-W02', '2026-W01')
    """
    y, w, _ = pd.Timestamp(day).date().isocalendar()
    return f"{y}-W{w:02d}"


def _unit(name: str, registry: SeriesRegistry) -> str:
    if name in UNITS:
        return UNITS[name]
    return registry[name].unit if name in registry else ""


def _last_on_or_before(s: pd.Series, day: pd.Timestamp) -> tuple[pd.Timestamp | None, float]:
    s = s.loc[:day].dropna()
    if s.empty:
        return None, math.nan
    return s.index[-1], float(s.iloc[-1])


def _with_spread(prices: pd.DataFrame) -> pd.DataFrame:
    out = prices.copy()
    if {"brent", "wti"} <= set(out.columns):
        out[SPREAD] = out["brent"] - out["wti"]
    return out


def _headline(
    prices: pd.DataFrame, names: Sequence[str], as_of: pd.Timestamp, registry: SeriesRegistry
) -> pd.DataFrame:
    levels = _with_spread(prices)
    ago = as_of - pd.Timedelta(days=7)
    rows = []
    for name in names:
        if name not in levels.columns:
            continue
        d1, v1 = _last_on_or_before(levels[name], as_of)
        d0, v0 = _last_on_or_before(levels[name], ago)
        if d1 is None:
            continue
        change = v1 - v0
        # a percentage change is meaningless for a spread that can cross zero
        pct = math.nan if name == SPREAD or not v0 or v0 < 0 else v1 / v0 - 1.0
        note = ""
        if d0 is None or d1 <= ago:  # nothing new this week: a flat +0.00 would mislead
            change, pct = math.nan, math.nan
            note = f"stale since {d1.date()}: no observation after {ago.date()}"
        rows.append(
            {
                "series": name,
                "label": _label(name),
                "unit": _unit(name, registry),
                "date": d1,
                "value": v1,
                "prev_date": d0,
                "prev_value": v0,
                "change": change,
                "pct_change": pct,
                "note": note,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "series",
            "label",
            "unit",
            "date",
            "value",
            "prev_date",
            "prev_value",
            "change",
            "pct_change",
            "note",
        ],
    )


def _study_prices(prices: pd.DataFrame, names: Sequence[str], market: str) -> pd.DataFrame:
    """Prices of the studied series and the market, plus the Brent/WTI price ratio.

    The engine turns prices into synchronous log returns per pair (only dates where the
    asset and the market both have a price), so a holiday of one market does not move
    day 0 of the other. The Brent-WTI spread is studied through the ratio Brent/WTI:
    its log return is ``d ln(Brent/WTI)``, the difference of the two log returns. A
    spread in USD can be zero or negative, so its own "return" is undefined, while the
    ratio's is the return of a long-Brent/short-WTI position in ratio terms.
    """
    cols = [c for c in dict.fromkeys([*names, market]) if c in prices.columns and c != SPREAD]
    out = prices[cols].copy()
    if SPREAD in names and {"brent", "wti"} <= set(prices.columns):
        out[SPREAD] = prices["brent"] / prices["wti"]
    order = [c for c in names if c in out.columns and c != market] + [market]
    return out[order]


def _registry_with_spread(registry: SeriesRegistry) -> SeriesRegistry:
    wti = registry["wti"] if "wti" in registry else None
    spec = SeriesSpec(
        name=SPREAD,
        description="Brent/WTI price ratio: its log return is d ln(Brent/WTI)",
        unit="ratio",
        frequency="daily",
        kind="price",
        calendar=wti.calendar if wti else "XNYS",
        close_time=wti.close_time if wti else dt.time(14, 30),
        timezone=wti.timezone if wti else "America/New_York",
        allow_negative=True,
    )
    return registry.with_specs(spec)


def _run_studies(
    prices: pd.DataFrame,
    events: EventCatalog,
    catalog: EventCatalog,
    opts: BriefOptions,
    registry: SeriesRegistry,
) -> tuple[list[EventStudyResult], list[str]]:
    """One event study of all events and series; on failure, per event, then per pair."""
    kw: dict[str, Any] = dict(
        market=opts.market,
        model=opts.model,
        estimation_window=opts.estimation_window,
        event_windows=opts.event_windows,
        input="prices",
        conventions=opts.conventions,
        catalog=catalog,
        registry=registry,
    )
    assets = [c for c in prices.columns if c != opts.market]
    try:
        return [event_study(prices, list(events.values()), **kw)], []
    except EstimationError:
        pass
    results: list[EventStudyResult] = []
    notices: list[str] = []
    for ev in events.values():
        try:
            results.append(event_study(prices, [ev], **kw))
            continue
        except EstimationError:
            pass
        for name in assets:
            try:
                results.append(event_study(prices[[name, opts.market]], [ev], **kw))
            except EstimationError as exc:
                notices.append(f"event study {ev.id} / {name} not computed: {exc}")
    return results, notices


def _true_ar(true_effects: Mapping[str, Any], event: str, series: str) -> tuple[str | None, float]:
    """(shock date, injected abnormal log return) of a pair; spread = Brent - WTI."""
    eff = true_effects.get(event, {})
    if series == SPREAD:
        b, w = _true_ar(true_effects, event, "brent"), _true_ar(true_effects, event, "wti")
        day = b[0] or w[0]
        return day, b[1] - w[1]
    rec = eff.get(series)
    if rec and rec.get("measure") == "ar":
        return str(rec["start"]), float(rec["value"])
    return None, 0.0


def _car_table(
    studies: Sequence[EventStudyResult], synthetic: bool, true_effects: Mapping[str, Any]
) -> pd.DataFrame:
    frames = []
    for res in studies:
        car = res.car.copy()
        ab = res.abnormal
        if synthetic:
            true = []
            for r in car.itertuples(index=False):
                day, value = _true_ar(true_effects, r.event, r.series)
                if pd.isna(r.car):  # no estimate (window past the data): nothing to compare
                    true.append(float("nan"))
                    continue
                if day is None:
                    true.append(0.0)
                    continue
                hit = ab[(ab["event"] == r.event) & (ab["series"] == r.series)]
                rel = hit.loc[pd.to_datetime(hit["date"]) == pd.Timestamp(day), "day"]
                inside = len(rel) and r.start <= int(rel.iloc[0]) <= r.end
                true.append(value if inside else 0.0)
            car["true_car"] = true
        frames.append(car)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    out["window"] = [f"[{a:+d},{b:+d}]" for a, b in zip(out["start"], out["end"], strict=True)]
    out.insert(2, "label", [_label(s) for s in out["series"]])
    return out


def _with_confounders(car: pd.DataFrame, alignment: pd.DataFrame) -> pd.DataFrame:
    """Add ``confounded_with``: the other events whose day 0 falls in a flagged window."""
    if not len(car):
        return car
    other: dict[tuple[str, str], str] = {}
    if len(alignment) and "confounded_by" in alignment.columns:
        for r in alignment.itertuples(index=False):
            by = "" if _isna(r.confounded_by) else str(r.confounded_by)
            other[(str(r.event), str(r.series))] = by
    car = car.copy()
    car["confounded_with"] = [
        other.get((str(e), str(s)), "") if c else ""
        for e, s, c in zip(car["event"], car["series"], car["confounded"], strict=True)
    ]
    return car


def _abnormal_tables(
    studies: Sequence[EventStudyResult], synthetic: bool, true_effects: Mapping[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not studies:
        return pd.DataFrame(), pd.DataFrame()
    ab = pd.concat([r.abnormal for r in studies], ignore_index=True)
    ab.insert(2, "label", [_label(s) for s in ab["series"]])
    if synthetic:
        vals = []
        for r in ab.itertuples(index=False):
            day, value = _true_ar(true_effects, r.event, r.series)
            same = day is not None and pd.Timestamp(r.date) == pd.Timestamp(day)
            vals.append(value if same else 0.0)
        ab["true_ar"] = vals
    day0 = ab[ab["day"] == 0].reset_index(drop=True)
    return ab, day0


def _car_paths(
    data_studies: Sequence[EventStudyResult],
    events: Sequence[str],
    series: Sequence[str],
    alpha: float,
) -> pd.DataFrame:
    frames = []
    for ev in events:
        for name in series:
            res = _find(data_studies, ev, name)
            if res is None:
                continue
            p = res.car_path(ev, name, alpha)
            p.insert(0, "series", name)
            p.insert(0, "event", ev)
            frames.append(p)
    if not frames:
        return pd.DataFrame(columns=["event", "series", "day", "car", "se", "lower", "upper"])
    return pd.concat(frames, ignore_index=True)


def _find(studies: Sequence[EventStudyResult], event: str, series: str) -> EventStudyResult | None:
    for res in studies:
        ids = res.panel.ids
        if ((ids.get_level_values(0) == event) & (ids.get_level_values(1) == series)).any():
            return res
    return None


def _run_interventions(
    volumes: Mapping[str, pd.Series],
    as_of: pd.Timestamp,
    catalog: EventCatalog,
    opts: BriefOptions,
) -> tuple[dict[str, InterventionResult], list[str], dict[str, str]]:
    """Intervention fits per volume series, notices, and the series with no post-event data."""
    results: dict[str, InterventionResult] = {}
    notices: list[str] = []
    no_post: dict[str, str] = {}
    wanted = [catalog[e] for e in opts.intervention_events if e in catalog]
    for name in sorted(volumes):
        s = volumes[name].loc[:as_of]
        s = s.rename(name)
        try:  # the library's post-event rule (default start: the period containing the event)
            evs = [e for e in wanted if s.dropna().size and post_event_periods(s, e) >= 1]
        except OilImpactError as exc:
            notices.append(f"intervention {name} not computed: {exc}")
            continue
        if not evs:
            last = s.dropna().index[-1].date() if s.dropna().size else None
            ids = ", ".join(f"{e.id} ({e.date})" for e in wanted)
            no_post[name] = (
                f"its last period known on {as_of.date()} ({last}) is not after {ids}, so no "
                "post-event data were known"
            )
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # the one default specification, all in-sample events jointly
                results[name] = intervention(s, evs, alpha=opts.alpha)
        except OilImpactError as exc:
            notices.append(f"intervention {name} not computed: {exc}")
    if no_post:  # one notice for all of them (each is in the Key findings)
        listing = ", ".join(
            f"{n} (last period {why.split('(', 1)[1].split(')', 1)[0]})"
            for n, why in no_post.items()
        )
        ids = ", ".join(f"{e.id} ({e.date})" for e in wanted)
        notices.append(
            f"interventions not estimable yet: no period after {ids} was published by "
            f"{as_of.date()} for {listing}"
        )
    return results, notices, no_post


def _kind(name: str, registry: SeriesRegistry) -> str:
    """``"value"`` for money series (price x volume), else ``"volume"``."""
    return "value" if name in registry and registry[name].kind == "value" else "volume"


def _intervention_tables(
    results: Mapping[str, InterventionResult], synthetic: bool, true_effects: Mapping[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    eff_frames, path_frames = [], []
    for name, res in results.items():
        eff = res.effects.copy()
        n_events = len(res.spec.events)
        if n_events == 1:  # the "all/average" row repeats the single event's level
            eff = eff[eff["event"] != "all"]
        eff.insert(0, "series", name)
        eff.insert(1, "label", _label(name))
        eff.insert(2, "unit", res.spec.unit)
        if synthetic:
            vals = []
            for r in eff.itertuples(index=False):
                rec = true_effects.get(r.event, {}).get(name)
                ok = rec and rec.get("measure") == "level" and r.term in ("level", "average")
                vals.append(float(rec["value"]) if ok else 0.0)
            eff["true_effect"] = vals
        eff_frames.append(eff)
        path = res.path.copy()
        path.insert(0, "series", name)
        path_frames.append(path)
    eff_all = pd.concat(eff_frames, ignore_index=True) if eff_frames else pd.DataFrame()
    path_all = pd.concat(path_frames, ignore_index=True) if path_frames else pd.DataFrame()
    return eff_all, path_all


def _events_table(events: EventCatalog, alignment: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for ev in events.values():
        day0 = pd.NaT
        if len(alignment):
            d = alignment.loc[alignment["event"] == ev.id, "day0"].dropna()
            if len(d):
                day0 = pd.to_datetime(d).mode().iloc[0]
        rows.append(
            {
                "event": ev.id,
                "title": ev.title,
                "kind": ev.kind,
                "timestamp": ev.timestamp.isoformat() if ev.time_known else "",
                "date": pd.Timestamp(ev.date),
                "time_known": ev.time_known,
                "day0": day0,
                "source": ev.source,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["event", "title", "kind", "timestamp", "date", "time_known", "day0", "source"],
    )


def _health_table(health: pd.DataFrame | None) -> pd.DataFrame:
    cols = list(HEALTH_COLUMNS)
    if health is None:
        return pd.DataFrame(columns=cols)
    h = health.copy()
    missing = {"series", "last", "stale"} - set(h.columns)
    if missing:
        raise ValueError(f"health frame needs columns {sorted(missing)}; got {list(h.columns)}")
    for c in cols:
        if c not in h.columns:
            text = ("source", "source_id", "vintage", "warnings", "availability")
            h[c] = "" if c in text else pd.NA
    h["warnings"] = [
        "; ".join(map(str, w)) if isinstance(w, list | tuple) else ("" if _isna(w) else str(w))
        for w in h["warnings"]
    ]
    h["stale"] = h["stale"].fillna(False).astype(bool)
    return h[cols].sort_values("series", kind="stable").reset_index(drop=True)


def _isna(x: Any) -> bool:
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _point_in_time_method(as_of: pd.Timestamp) -> str:
    """What 'known on the brief's date' means for the data behind it."""
    return (
        f"Point in time: this brief uses what was known on {as_of.date()}: each series as "
        "stored on that date (later revisions are ignored) and only the periods its "
        "provider had published by then (publication lags from the series registry, e.g. "
        "about 3 months for EIA international production, 2 months for EIA monthly imports "
        "and IMF trade values; docs/point-in-time.md). The data-health table gives, per "
        "series, the last period used and why."
    )


def _event_study_method(s: Any) -> str:
    """The event-study paragraph of a study spec: model, windows, returns, cleaning."""
    e0, e1 = s.estimation_window
    wins = ", ".join(f"[{a:+d},{b:+d}]" for a, b in s.event_windows)
    market = _label(s.market or "")
    fit = f"{s.model} model (market: {market}), estimated by OLS "
    if s.model in GARCH_MODELS:
        vol = "GJR-GARCH(1,1,1)" if s.model == "market_gjr" else "GARCH(1,1)"
        fit = (
            f"{s.model} model, the market model (market: {market}) with {vol} errors, "
            "fitted per pair by quasi-maximum likelihood (arch; abnormal returns standardised "
            "by the conditional-variance forecast, docs/methods-garch.md) "
        )
    return (
        f"Event studies: {fit}over trading days [{e0}, {e1}] relative to day 0 (at least "
        f"{s.min_estimation} observations); CAR windows {wins}; {s.returns} returns "
        f"({s.input} given to the engine); conventions '{s.conventions}'. "
        + (
            f"The sessions [{s.exclusion_band[0]:+d}, {s.exclusion_band[1]:+d}] around "
            "every other catalog event's day 0 were removed from each estimation window "
            "(a fixed band, so adding a CAR window never changes another window's numbers). "
            if s.exclude_confounders
            else "Other events' days were kept in the estimation windows. "
        )
        + "AR and CAR are shown in percent of log return; a return that spans a missing "
        "session (the Sessions column) has its variance scaled by the sessions it spans."
    )


_SPREAD_METHOD = (
    "Brent-WTI spread: the headline shows its level change in USD/bbl (a spread can "
    "be zero or negative, so no percentage). The event study uses the difference of "
    "the two log returns, d ln(Brent/WTI): the return of a long-Brent/short-WTI "
    "position in ratio terms, defined whenever both prices are positive."
)

_TESTS_METHOD = (
    "p(t): prediction-error-corrected t test, Student t with L1 - k degrees of freedom "
    "(MacKinlay 1997). p(SQ): the sample-quantile test of Gelbach, Helland and Klick "
    "(2013) in its studentised form: the event-window CAR, divided by its exact "
    "prediction-error standard deviation, is ranked among the estimation-window sums of "
    "the same length, each divided by its own exact standard deviation; it does not "
    "assume normal returns (exact for single days, approximate for multi-day windows)."
)

_GARCH_TESTS_METHOD = (
    "p(t): the CAR over the standard deviation of its GARCH conditional-variance forecast "
    "from the last estimation day plus the mean-parameter term, Student t with n_est - k "
    "degrees of freedom (approximate; docs/methods-garch.md). p(SQ): that t ranked among "
    "the same-length sums of standardised estimation residuals over sqrt(L) (Gelbach, "
    "Helland and Klick 2013); it does not assume normal innovations."
)

_MISSING_CAR_METHOD = (
    "A CAR whose window runs past the last observation is not computed (shown as –); "
    "a missing day in a window also leaves its CAR missing."
)


def _sq_caveat(car: pd.DataFrame) -> list[str]:
    """The floor 2/(n+1) of the SQ p-values shown (nothing without SQ p-values)."""
    if not ("sq_min_pvalue" in car.columns and len(car)):
        return []
    lo, hi = float(car["sq_min_pvalue"].min()), float(car["sq_min_pvalue"].max())
    return [
        "SQ caveat: with a single event and series the SQ p-value cannot fall below "
        f"2/(n+1) for n estimation-window sums; here the smallest attainable SQ p-value "
        f"is {lo:.3f} to {hi:.3f}, so an SQ p-value at that floor means 'as extreme as "
        "anything in the estimation window', not a precise probability."
    ]


def _multitest_method(car: pd.DataFrame, opts: BriefOptions) -> str:
    """How many CAR tests the brief ran and how their q-values are adjusted."""
    n_car = int(car["pvalue"].notna().sum()) if "pvalue" in car else 0
    how = {
        "fdr_bh": "Benjamini-Hochberg q-values (false discovery rate, Benjamini and Hochberg 1995)",
        "holm": "Holm-adjusted p-values (family-wise error rate, Holm 1979)",
        "none": "unadjusted p-values (no multiple-testing adjustment)",
    }[opts.multitest]
    return (
        f"Multiple testing: this brief ran {n_car} CAR t tests (every event, series and "
        f"window above); the q column gives {how} over that whole family, and over the "
        "rows of the day-0 table for its own q column. With this many tests a few p-values "
        "below 0.05 are expected by chance alone. The Key findings call a price move "
        "evidence only when its SQ p-value and its q-value are both below "
        f"{opts.alpha:g}; a (series, day 0) shared by two events is listed once, with "
        "both events, and marked confounded."
    )


def _confounding_method(alignment: pd.DataFrame) -> list[str]:
    """The windows that contain another catalog event's day 0 (nothing when none does)."""
    conf = (
        alignment[alignment.get("confounded_by", pd.Series(dtype=str)).astype(str).str.len() > 0]
        if len(alignment) and "confounded_by" in alignment
        else pd.DataFrame()
    )
    if not len(conf):
        return []
    pairs = sorted({(r.event, str(r.confounded_by)) for r in conf.itertuples(index=False)})
    txt = "; ".join(f"{a} (window contains day 0 of {b})" for a, b in pairs)
    return [
        f"Confounding: windows flagged 'confounded' contain another catalog event's day 0: {txt}. "
        "Their CARs mix the effects of both events."
    ]


def _alignment_method(alignment: pd.DataFrame) -> str:
    """How day 0 is chosen, with each event's reason."""
    return (
        "Event alignment: day 0 is the first session whose close comes after the event "
        "(a time-unknown event uses its own date's session, or the next session); reasons:"
        + "".join(f" {ev}: {reason}." for ev, reason in _alignment_reasons(alignment))
    )


def _mde_method(opts: BriefOptions) -> str:
    """How the Key findings' minimum detectable effect is computed."""
    return (
        "Minimum detectable effect (Key findings, MDE): for each price finding, the "
        f"smallest day-0 abnormal return that the t test above, two-sided at "
        f"{100 * opts.alpha:g}%, detects with {100 * opts.mde_power:g}% probability. It is "
        f"simulated from the pair's own estimation residuals: {opts.mde_n_sim:,} studies "
        "(seed "
        f"{opts.mde_seed}) each resample the estimation-window and day-0 disturbances with "
        "replacement, add a candidate effect, and apply the same prediction-error-corrected "
        "t test; the MDE is the smallest effect, in either direction the larger, rejected "
        "in that share of the studies (oilimpact.eventstudy.power.minimum_detectable_effect; "
        "docs/methods-resampling.md). A fat-tailed series gets the MDE its tails imply; "
        "under normal disturbances it is about 2.8 standard errors. A small, insignificant "
        "estimate is therefore no evidence of no effect when its MDE is large: effects up "
        "to the MDE would often have gone undetected."
    )


def _study_methods(
    spec: Any, car: pd.DataFrame, alignment: pd.DataFrame, opts: BriefOptions
) -> list[str]:
    """The event-study paragraphs of the Methods section, in page order."""
    return [
        _event_study_method(spec),
        _SPREAD_METHOD,
        _GARCH_TESTS_METHOD if spec.model in GARCH_MODELS else _TESTS_METHOD,
        *_sq_caveat(car),
        _mde_method(opts),
        _multitest_method(car, opts),
        *_confounding_method(alignment),
        _alignment_method(alignment),
        _MISSING_CAR_METHOD,
    ]


def _short_post_method(interventions: Mapping[str, InterventionResult]) -> list[str]:
    """A warning naming the interventions with fewer than 3 post-event periods."""
    short = [n for n, r in interventions.items() if r.spec.post_periods < 3]
    if not short:
        return []
    return [
        "Few post-event periods: "
        + ", ".join(f"{n} ({interventions[n].spec.post_periods})" for n in short)
        + ". An effect estimated from one or two periods is fragile and will be revised."
    ]


def _methods(
    data_studies: Sequence[EventStudyResult],
    car: pd.DataFrame,
    alignment: pd.DataFrame,
    interventions: Mapping[str, InterventionResult],
    opts: BriefOptions,
    as_of: pd.Timestamp,
    synthetic: bool,
    true_effects: Mapping[str, Any],
) -> list[str]:
    out = [_point_in_time_method(as_of)]
    if data_studies:
        out += _study_methods(data_studies[0].spec, car, alignment, opts)
    if interventions:
        out += _intervention_methods(interventions)
        out += _short_post_method(interventions)
    if synthetic:
        out.append(
            "SYNTHETIC DATA: the series were generated by oilimpact.demo with known injected "
            "effects; the 'true' columns show them (zero where nothing was injected). They are "
            "not market facts. " + _demo_coverage(car, opts.alpha)
        )
    return out


def _intervention_methods(interventions: Mapping[str, InterventionResult]) -> list[str]:
    """What each volume model is: its specification line, its events, the form comparison."""
    out = [
        "Volumes and trade values: every series uses the one default intervention "
        "specification of oilimpact (the same as `oi.intervention(series, events)` and "
        "`oilimpact intervention`; docs/methods-intervention.md justifies each choice), with "
        "every catalogued intervention that has a post-event period in the series modelled "
        "jointly, one regressor per event. The placebo p-value refits the model at "
        "pseudo-event dates before the first event (in-time permutation)."
    ]
    for name, r in interventions.items():
        evs = ", ".join(str(e[0]) for e in r.spec.events)
        line = f"{_label(name)}: {r.spec.describe()}; events {evs}; {r.spec.post_periods} post-event periods."
        best = r.best_form
        if r.forms is not None and len(r.forms) and best:
            ic = r.spec.form_ic.upper()
            fits = ", ".join(
                f"{f.form} {getattr(f, ic.lower()):.1f}" for f in r.forms.itertuples(index=False)
            )
            line += f" Permanent vs temporary effect ({ic}, lower is better): {fits}; best: {best}."
        out.append(line)
    return out


def _demo_coverage(car: pd.DataFrame, alpha: float) -> str:
    """How many of the demo's CAR intervals cover the injected value, and why not 95%."""
    if not len(car) or "true_car" not in car:
        return ""
    from scipy import stats

    ok = car[["car", "se", "dof", "true_car"]].notna().all(axis=1) & (car["dof"] > 0)
    c = car[ok]
    if not len(c):
        return ""
    half = stats.t.ppf(1 - alpha / 2, c["dof"].to_numpy(float)) * c["se"].to_numpy(float)
    covered = (c["car"] - c["true_car"]).abs().to_numpy(float) <= half
    return (
        f"In this draw {int(covered.sum())} of {covered.size} CAR intervals "
        f"({100 * covered.mean():.0f}%) cover the injected value, against a nominal "
        f"{100 * (1 - alpha):g}%: the demo's series share common oil and market shocks "
        "(one seeded draw), so their misses come together and one draw's coverage can sit "
        "well away from the nominal rate; it is a property of the seed, not of the method "
        "(the size and coverage simulations in docs/methods*.md average over many draws)."
    )


def _alignment_reasons(alignment: pd.DataFrame) -> list[tuple[str, str]]:
    if not len(alignment) or "reason" not in alignment:
        return []
    out = []
    for ev, grp in alignment.groupby("event", sort=False):
        reasons = grp["reason"].astype(str).drop_duplicates().tolist()
        out.append(
            (
                str(ev),
                reasons[0]
                + (f" (and {len(reasons) - 1} other series-specific)" if len(reasons) > 1 else ""),
            )
        )
    return out


# ---- synthetic control ----------------------------------------------------------------

SYNTH_COLUMNS = (
    "event", "treated", "label", "first_post", "last_post", "n_pre", "n_post", "n_donors",
    "pre_rmspe", "effect", "unit", "pct_of_pre_mean", "ci_lower", "ci_upper", "pvalue",
    "placebo_pvalue", "placebo_pvalue_all", "n_placebo", "note",
)  # fmt: skip


def _donor_label(name: str, registry: SeriesRegistry) -> str:
    """``"Colombia"`` for ``crude_production_col`` (the registry description's country)."""
    if name in registry and registry[name].description:
        return registry[name].description.split(" crude oil")[0]
    return name


def _month(day: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(day.year, day.month, 1)


def _run_synth(
    volumes: Mapping[str, pd.Series],
    donors: Mapping[str, pd.Series] | None,
    cut: pd.Timestamp,
    events: EventCatalog,
    opts: BriefOptions,
    registry: SeriesRegistry,
    synthetic: bool = False,
) -> tuple[dict[str, SynthResult], list[str]]:
    """Synthetic-control fits of ``opts.synth_treated`` per event, and the reasons for
    every fit not made (pure; the donors are read as of ``cut`` by the caller).

    A later event's panel leaves out the months from the earlier events' first treated
    month up to its own, so no treated month enters its pre-period; the earlier event's
    post-period runs to the last published month, so it includes the later event.
    """
    treated = opts.synth_treated
    tlabel = _label(treated, registry)
    inputs = _synth_inputs(volumes, donors, cut, opts, registry, synthetic)
    if isinstance(inputs, str):
        return {}, [inputs]
    panel, have = inputs
    last = panel[treated].dropna().index[-1]
    wanted = [events[e] for e in opts.synth_events if e in events]
    wanted.sort(key=lambda ev: ev.date)
    results: dict[str, SynthResult] = {}
    reasons: list[str] = []
    earlier: list[pd.Timestamp] = []
    for ev in wanted:
        first = _month(pd.Timestamp(ev.date))
        if first > last:
            reasons.append(
                f"{ev.id}: no synthetic control yet: the first post-event month of {tlabel} "
                f"({first:%Y-%m}) is not published as of {cut.date()} (last published month "
                f"{last:%Y-%m}; publication lag {registry[treated].publication_lag if treated in registry else '?'})."
            )
            earlier.append(first)
            continue
        frame = panel
        if earlier:
            frame = panel.loc[(panel.index < min(earlier)) | (panel.index >= first)]
        if earlier and first <= max(earlier):
            reasons.append(
                f"{ev.id}: no separate synthetic control: its month is an earlier event's."
            )
            continue
        n_pre = int((frame.index < first).sum())
        if n_pre < opts.synth_min_pre_periods:
            reasons.append(
                f"{ev.id}: no synthetic control: {n_pre} pre-event months of {tlabel}, "
                f"at least {opts.synth_min_pre_periods} are needed."
            )
        else:
            res, reason = _fit_synth(frame, ev, list(have), n_pre, opts, registry)
            if res is not None:
                results[ev.id] = res
            else:
                reasons.append(reason)
        earlier.append(first)
    return results, reasons


def _synth_inputs(
    volumes: Mapping[str, pd.Series],
    donors: Mapping[str, pd.Series] | None,
    cut: pd.Timestamp,
    opts: BriefOptions,
    registry: SeriesRegistry,
    synthetic: bool,
) -> tuple[pd.DataFrame, dict[str, pd.Series]] | str:
    """The treated series and its donors as known on ``cut`` (a panel over the treated
    series' span, and the donors with data), or the reason there is no synthetic control."""
    treated = opts.synth_treated
    group = opts.synth_donor_group
    if not donors and synthetic:
        return (
            "No synthetic control: the synthetic demo dataset has no donor series (the "
            f"registry group {group!r} of other producers' crude production is real data: "
            f"fetch it with `oilimpact fetch {group}` and build the brief from the store)."
        )
    if not donors:
        return (
            f"No synthetic control: no donor series are in the store (registry group "
            f"{group!r}: crude production of other producers, EIA international). Fetch "
            f"them with `oilimpact fetch {group}` (needs EIA_API_KEY)."
        )
    y = volumes.get(treated)
    y = y.loc[:cut].dropna() if y is not None else None
    if y is None or y.empty:
        return (
            f"No synthetic control: the treated series {treated} "
            f"({_label(treated, registry)}) is not in the store."
        )
    have = {n: s.loc[:cut] for n, s in donors.items() if s.loc[:cut].notna().any()}
    if len(have) < opts.synth_min_donors:
        return (
            f"No synthetic control: {len(have)} donor series with data as of {cut.date()} "
            f"({', '.join(sorted(have)) or 'none'}); at least {opts.synth_min_donors} are needed "
            f"(registry group {group!r})."
        )
    panel = pd.concat({treated: y, **have}, axis=1, sort=True)
    return panel.loc[y.index[0] : y.index[-1]], have


def _fit_synth(
    frame: pd.DataFrame,
    ev: Any,
    donors: list[str],
    n_pre: int,
    opts: BriefOptions,
    registry: SeriesRegistry,
) -> tuple[SynthResult | None, str]:
    """One event's synthetic control, or (None, the reason it is not shown)."""
    treated = opts.synth_treated
    try:
        res = synthetic_control(
            frame, treated=treated, event=ev, donors=donors,
            pre_periods=min(n_pre, opts.synth_pre_periods), unit=_unit(treated, registry),
            alpha=opts.alpha,
        )  # fmt: skip
    except OilImpactError as exc:
        return None, f"{ev.id}: no synthetic control: {exc}"
    n_kept = len(res.params)
    if n_kept < opts.synth_min_donors:
        return None, (
            f"{ev.id}: no synthetic control: {n_kept} donors have complete data in the "
            f"window, at least {opts.synth_min_donors} are needed "
            f"(dropped: {', '.join(res.dropped_donors)})."
        )
    return res, ""


def _synth_tables(
    results: Mapping[str, SynthResult], events: EventCatalog, registry: SeriesRegistry
) -> dict[str, pd.DataFrame]:
    """The ``synth`` (one row per event), ``synth_weights`` and ``synth_path`` tables."""
    rows, weights, paths = [], [], []
    ids = list(results)
    for eid, res in results.items():
        p = res.path
        post = p[p["post"]]
        pre_mean = float(p.loc[~p["post"], "actual"].mean())
        later = [
            e for e in ids
            if e != eid and events[e].date > events[eid].date
            and _month(pd.Timestamp(events[e].date)) <= post.index[-1]
        ]  # fmt: skip
        before = [
            e for e in ids if e != eid and events[e].date < events[eid].date
        ]  # fmt: skip
        notes = (
            [f"post-event months also follow {', '.join(later)}: the effect is joint"]
            if later
            else []
        )
        if before:
            notes.append(
                f"the counterfactual has no {', '.join(before)} either (its months are left out of "
                "the fit), so the gap includes what persists of it"
            )
        conf = res.conformal.loc["average"] if res.conformal is not None else None
        rows.append({
            "event": eid, "treated": res.treated, "label": _label(res.treated, registry),
            "first_post": post.index[0], "last_post": post.index[-1],
            "n_pre": int((~p["post"]).sum()), "n_post": len(post), "n_donors": len(res.params),
            "pre_rmspe": res.pre_rmspe, "effect": res.effect, "unit": res.unit,
            "pct_of_pre_mean": 100.0 * res.effect / pre_mean if pre_mean else float("nan"),
            "ci_lower": float(conf["ci_lower"]) if conf is not None else float("nan"),
            "ci_upper": float(conf["ci_upper"]) if conf is not None else float("nan"),
            "pvalue": res.pvalue, "placebo_pvalue": res.placebo_pvalue,
            "placebo_pvalue_all": res.placebo_pvalue_all,
            "n_placebo": int((~res.placebos["excluded"]).sum()) - 1 if res.placebos is not None else 0,
            "note": "; ".join(notes),
        })  # fmt: skip
        w = res.params.sort_values(ascending=False, kind="stable")
        weights.append(pd.DataFrame({
            "event": eid, "donor": w.index.astype(str),
            "label": [_donor_label(n, registry) for n in w.index], "weight": w.to_numpy(),
        }))  # fmt: skip
        paths.append(pd.DataFrame({
            "event": eid, "date": p.index, "actual": p["actual"].to_numpy(),
            "synthetic": p["synthetic"].to_numpy(), "gap": p["gap"].to_numpy(),
            "post": p["post"].to_numpy(),
        }))  # fmt: skip
    synth = pd.DataFrame(rows, columns=list(SYNTH_COLUMNS))
    wt = (pd.concat(weights, ignore_index=True) if weights
          else pd.DataFrame(columns=["event", "donor", "label", "weight"]))  # fmt: skip
    pt = (pd.concat(paths, ignore_index=True) if paths
          else pd.DataFrame(columns=["event", "date", "actual", "synthetic", "gap", "post"]))  # fmt: skip
    return {"synth": synth, "synth_weights": wt, "synth_path": pt}


def _synth_methods(results: Mapping[str, SynthResult], opts: BriefOptions) -> list[str]:
    if not results:
        return []
    return [
        f"Synthetic control (Abadie, Diamond and Hainmueller 2010): {_label(opts.synth_treated)} "
        f"against a weighted mix of other producers' crude production (registry group "
        f"{opts.synth_donor_group}; weights non-negative, summing to one, fitted on up to "
        f"{opts.synth_pre_periods} pre-event months with every pre-event month as a predictor). "
        "The effect is the mean gap (actual - synthetic) over the published post-event months. "
        "Inference: conformal p-value and interval for the average effect (Chernozhukov, "
        "Wuthrich and Zhu 2021, moving-block permutations) and the placebo-in-space rank "
        "p-value of the post/pre RMSPE ratio (placebos with a pre-event MSPE above "
        "5 x Venezuela's excluded). A later event's fit leaves out the months after an "
        "earlier event, and an earlier event's effect includes any later event in its "
        "post-event months. Details: docs/methods-synth.md."
    ]


def _cutoff(as_of: dt.date | str | pd.Timestamp) -> pd.Timestamp:
    """The brief's data cut-off: midnight of ``as_of``, tz-naive."""
    cut = pd.Timestamp(as_of).normalize()
    if cut.tzinfo is not None:
        cut = cut.tz_localize(None)
    return cut


def _sparklines(
    levels: pd.DataFrame, opts: BriefOptions
) -> tuple[dict[str, pd.Series], pd.DataFrame]:
    """The last ``opts.sparkline_points`` levels of each headline series, and as a table."""
    sparks = {
        n: levels[n].dropna().iloc[-opts.sparkline_points :]
        for n in opts.headline_series
        if n in levels.columns and levels[n].notna().any()
    }
    spark_tbl = (
        pd.concat(
            [
                pd.DataFrame({"series": n, "date": s.index, "value": s.to_numpy()})
                for n, s in sparks.items()
            ],
            ignore_index=True,
        )
        if sparks
        else pd.DataFrame(columns=["series", "date", "value"])
    )
    return sparks, spark_tbl


def _events_in_range(events: EventCatalog, cut: pd.Timestamp, opts: BriefOptions) -> EventCatalog:
    """Catalog events dated within ``opts.lookback_days`` before the cut-off (and not after it)."""
    lookback = cut - pd.Timedelta(days=opts.lookback_days)
    return EventCatalog(
        ev
        for ev in events.between(lookback.date(), cut.date()).values()
        if ev.timestamp.tz_convert("UTC").tz_localize(None) <= cut + pd.Timedelta(days=1)
    )


def _studies_in_range(
    prices: pd.DataFrame,
    study_names: Sequence[str],
    in_range: EventCatalog,
    events: EventCatalog,
    opts: BriefOptions,
    reg: SeriesRegistry,
) -> tuple[list[EventStudyResult], list[str]]:
    """The event studies of the events in range (none when there are no events or series)."""
    if not (len(in_range) and study_names):
        return [], []
    if opts.market not in prices.columns:
        raise EstimationError(
            f"the event studies need the market series {opts.market!r}; "
            f"prices has {', '.join(map(str, prices.columns))}"
        )
    first = min(pd.Timestamp(ev.date) for ev in in_range.values())
    # enough history for the estimation window, and no older prices (WTI < 0 in 2020)
    span = int(abs(opts.estimation_window[0]) * 1.6) + 60
    window = prices.loc[first - pd.Timedelta(days=span) :]
    levels = _study_prices(window, study_names, opts.market)
    return _run_studies(levels, in_range, events, opts, _registry_with_spread(reg))


def _study_tables(
    studies: Sequence[EventStudyResult],
    synthetic: bool,
    true: Mapping[str, Any],
    opts: BriefOptions,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Alignment, CAR, AR and day-0 AR tables of the studies, with q-values."""
    alignment = (
        pd.concat([r.alignment for r in studies], ignore_index=True) if studies else pd.DataFrame()
    )
    car = _with_confounders(_car_table(studies, synthetic, true), alignment)
    abnormal, abnormal0 = _abnormal_tables(studies, synthetic, true)
    method: MultiTest = opts.multitest  # type: ignore[assignment]
    if len(car):
        car["qvalue"] = adjust_pvalues(car["pvalue"], method)
    if len(abnormal0):
        abnormal0 = merge_shared_day0(abnormal0, car)
        abnormal0["qvalue"] = adjust_pvalues(abnormal0["pvalue"], method)
    return alignment, car, abnormal, abnormal0


def _labelled_effects(
    inter: Mapping[str, InterventionResult],
    synthetic: bool,
    true: Mapping[str, Any],
    reg: SeriesRegistry,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Intervention effects (with kind and label columns) and counterfactual paths."""
    eff, paths = _intervention_tables(inter, synthetic, true)
    if len(eff):
        eff.insert(3, "kind", [_kind(n, reg) for n in eff["series"]])
        eff["label"] = [_label(n, reg) for n in eff["series"]]
    return eff, paths


def _absent_notice(levels: pd.DataFrame, opts: BriefOptions) -> list[str]:
    """A notice naming the headline series not in the prices (none when all are)."""
    absent = [n for n in opts.headline_series if n not in levels.columns]
    return ["series not available for this brief: " + ", ".join(absent)] if absent else []


def _finding_mdes(
    studies: Sequence[EventStudyResult],
    focus: Sequence[str],
    names: Sequence[str],
    opts: BriefOptions,
) -> pd.DataFrame:
    """Day-0 minimum detectable effect of each (focus event, findings series) pair.

    Each pair's MDE comes from the study that holds it (its own residuals, PE factor and
    degrees of freedom), with the brief's fixed seed; a pair the simulation cannot use
    (no day-0 CAR, too few residuals) has no row.
    """
    frames = []
    for ev in focus:
        by_study: dict[int, tuple[EventStudyResult, list[str]]] = {}
        for name in names:
            res = _find(studies, ev, name)
            if res is not None:
                by_study.setdefault(id(res), (res, []))[1].append(name)
        for res, members in by_study.values():  # a pair's draws depend on (seed, pair) only
            try:
                frames.append(minimum_detectable_effect(
                    res, window=(0, 0), alpha=opts.alpha, power=opts.mde_power,
                    n_sim=opts.mde_n_sim, seed=opts.mde_seed, event=ev, series=members,
                ))  # fmt: skip
            except OilImpactError:
                continue
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _findings(
    car: pd.DataFrame,
    eff: pd.DataFrame,
    focus: Sequence[str],
    study_names: Sequence[str],
    studies: Sequence[EventStudyResult],
    no_post: Mapping[str, str],
    opts: BriefOptions,
) -> pd.DataFrame:
    """The key findings of the focus events (:func:`findings.key_findings`), with MDEs."""
    names = [n for n in opts.findings_series if n in study_names]
    return key_findings(
        car,
        eff,
        events=focus,
        series=names,
        missing_volumes=no_post,
        labels={n: _label(n) for n in no_post},
        alpha=opts.alpha,
        mde=_finding_mdes(studies, focus, names, opts),
    )


def _monthly_prices(
    volumes: Mapping[str, pd.Series],
    monthly_prices: Mapping[str, pd.Series] | None,
    reg: SeriesRegistry,
) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """Split the non-daily series: volumes (intervention fits) and monthly prices (the
    heavy-sour channel legs, registry kind ``price``), which are never fitted as volumes."""
    prices_m = dict(monthly_prices or {})
    vols = {}
    for name, s in volumes.items():
        if name in reg and reg[name].kind == "price":
            prices_m.setdefault(name, s)
        else:
            vols[name] = s
    return vols, prices_m


def _channel_section(
    prices: pd.DataFrame,
    monthly_prices: Mapping[str, pd.Series],
    cut: pd.Timestamp,
    events: EventCatalog,
    focus: Sequence[str],
    reg: SeriesRegistry,
) -> ChannelTables:
    """The heavy-sour and curve tables (``heavy_sour``, ``curve``) of the focus events,
    their notices (series absent from the store) and their Methods text."""
    return channel_tables(
        prices, monthly_prices, as_of=cut, events=[events[e] for e in focus], registry=reg
    )


def compute_brief(
    prices: pd.DataFrame,
    volumes: Mapping[str, pd.Series],
    *,
    as_of: dt.date | str | pd.Timestamp,
    events: EventCatalog,
    health: pd.DataFrame | None = None,
    synthetic: bool = False,
    true_effects: Mapping[str, Any] | None = None,
    options: BriefOptions | None = None,
    registry: SeriesRegistry | None = None,
    extra_notices: Sequence[str] = (),
    donors: Mapping[str, pd.Series] | None = None,
    monthly_prices: Mapping[str, pd.Series] | None = None,
) -> BriefData:
    """Compute every table of the weekly brief.

    Parameters
    ----------
    prices : pandas.DataFrame
        Daily prices, one column per registry name (``brent``, ``wti``, ``sp500`` ...),
        tz-naive ``DatetimeIndex``. Missing series are skipped; ``options.market``
        (``sp500``) is required for the event studies.
    volumes : Mapping[str, pandas.Series]
        Weekly / monthly volume series by name (may be empty).
    as_of : date-like
        Data cut-off: later observations are ignored.
    events : EventCatalog
        The catalog; events dated within ``options.lookback_days`` before ``as_of``
        are studied, all others are used to flag and clean confounding windows.
    health : pandas.DataFrame, optional
        Data-health table (columns ``series, source, source_id, first, last, rows,
        fetched_at, stale, warnings``; ``vintage`` optional).
    synthetic : bool
        Mark every section synthetic and show ``true_effects`` beside the estimates.
    true_effects : mapping, optional
        ``event -> series -> {"measure", "start", "value", "unit"}``
        (:attr:`oilimpact.demo.DemoData.true_effects`).
    options : BriefOptions, optional
    registry : SeriesRegistry, optional
        Default: the packaged registry.
    extra_notices : sequence of str
        Notices from the steps before the brief (e.g. a ``--fetch`` that failed), shown
        first in the page's Notices box and in ``results.json``.
    donors : Mapping[str, pandas.Series], optional
        Donor-pool series (the registry group ``options.synth_donor_group``, monthly crude
        production of other producers) as known on ``as_of``. With enough of them, the
        synthetic-control section fits ``options.synth_treated`` (from ``volumes``) per
        event of ``options.synth_events``; without them it says why.
    monthly_prices : Mapping[str, pandas.Series], optional
        Monthly prices (heavy-sour legs, docs/channels.md; registry-kind ``price`` series
        in ``volumes`` are moved here): the channel table, never a volume fit.

    Returns
    -------
    BriefData

    Raises
    ------
    EstimationError
        ``prices`` lacks the market series while events are in range.
    """
    opts = options or BriefOptions()
    reg = registry if registry is not None else default_registry()
    volumes, monthly = _monthly_prices(volumes, monthly_prices, reg)
    cut = _cutoff(as_of)
    true = dict(true_effects or {}) if synthetic else {}
    prices = prices.sort_index().loc[:cut]

    levels = _with_spread(prices)
    sparks, spark_tbl = _sparklines(levels, opts)

    in_range = _events_in_range(events, cut, opts)
    study_names = [n for n in opts.study_series if n in levels.columns]
    studies, n2 = _studies_in_range(prices, study_names, in_range, events, opts, reg)
    alignment, car, abnormal, abnormal0 = _study_tables(studies, synthetic, true, opts)
    focus = [e for e in opts.focus_events if e in in_range] or list(in_range)[-1:]
    chart_series = [n for n in opts.chart_series if n in study_names]

    inter, n3, no_post = _run_interventions(volumes, cut, events, opts)
    eff, paths = _labelled_effects(inter, synthetic, true, reg)
    tables = {
        "findings": _findings(car, eff, focus, study_names, studies, no_post, opts),
        "headline": _headline(prices, opts.headline_series, cut, reg),
        "sparklines": spark_tbl,
        "events": _events_table(in_range, alignment),
        "car": car,
        "abnormal": abnormal,
        "abnormal0": abnormal0,
        "car_paths": _car_paths(studies, focus, chart_series, opts.alpha),
        "alignment": alignment,
        "interventions": eff,
        "counterfactual": paths,
        "health": _health_table(health),
    }
    chan = _channel_section(prices, monthly, cut, events, focus, reg)
    tables.update(chan.tables)
    synth, synth_reasons = _run_synth(volumes, donors, cut, events, opts, reg, synthetic)
    tables.update(_synth_tables(synth, events, reg))
    methods = _methods(studies, car, alignment, inter, opts, cut, synthetic, true)
    methods += _synth_methods(synth, opts) + list(chan.methods)
    notices = [*extra_notices, *_absent_notice(levels, opts), *n2, *n3, *chan.notices]
    return BriefData(
        as_of=cut.date(),
        week=iso_week(cut),
        week_ago=(cut - pd.Timedelta(days=7)).date(),
        synthetic=bool(synthetic),
        options=replace(opts, focus_events=tuple(focus), chart_series=tuple(chart_series)),
        events=in_range,
        tables=tables,
        studies=tuple(studies),
        interventions=inter,
        sparks=sparks,
        notices=tuple(dict.fromkeys(notices)),
        methods=tuple(methods),
        true_effects=true,
        has_health=health is not None,
        synth=synth,
        synth_reasons=tuple(synth_reasons),
    )
