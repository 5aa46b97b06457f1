"""What the weekly brief holds: its options, its computed data, and display labels.

Shared by :mod:`oilimpact.report.brief` (which computes a :class:`BriefData`) and
:mod:`oilimpact.report.render` (which turns one into HTML, JSON and CSV), so neither
imports the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..events import EventCatalog
from ..eventstudy.engine import DEFAULT_EVENT_WINDOWS
from ..eventstudy.power import DEFAULT_N_SIM
from ..eventstudy.result import EventStudyResult
from ..intervention.result import InterventionResult
from ..plotstyle import SHORT_LABELS
from ..series import SeriesRegistry
from .tables import jsonable as _jsonable

__all__ = ["SPREAD", "UNITS", "BriefData", "BriefOptions", "label"]

#: Name of the Brent-WTI spread in the brief's tables.
SPREAD = "brent_wti"

#: Display units of the series the brief knows by name (their labels are
#: :data:`oilimpact.plotstyle.SHORT_LABELS`, shared with ``res.plot()``).
UNITS: dict[str, str] = {
    "brent": "USD/bbl",
    "wti": "USD/bbl",
    SPREAD: "USD/bbl",
    "henry_hub": "USD/MMBtu",
    "vix": "points",
    "sp500": "index",
    "xle": "USD",
    "cvx": "USD",
    "fro": "USD",
    "dht": "USD",
    "insw": "USD",
    "tnk": "USD",
    "vlo": "USD",
    "mpc": "USD",
    "pbf": "USD",
    "us_imports_ve_weekly": "kb/d",
    "us_imports_ve_monthly": "kb/d",
    "us_products_imports_ve_monthly": "kb/d",
    "ve_crude_production": "kb/d",
    "ve_liquids_production": "kb/d",
    "us_imports_ve_value": "million USD",
    "us_exports_ve_value": "million USD",
}

#: Energy equities and tanker owners shown and studied.
_EQUITIES = ("xle", "cvx", "fro", "dht", "insw", "tnk", "vlo", "mpc", "pbf")
_HEADLINE = ("brent", "wti", SPREAD, "henry_hub", "vix", "sp500", *_EQUITIES)
_STUDY = ("brent", "wti", SPREAD, "henry_hub", *_EQUITIES)


@dataclass(frozen=True, slots=True)
class BriefOptions:
    """What the brief estimates; every field is reported in the methods section.

    Attributes
    ----------
    lookback_days : int
        Catalog events dated within this many calendar days before ``as_of`` are studied.
    market : str
        Market series of the market model (a column of ``prices``).
    model : str
        Normal-return model of :func:`oilimpact.eventstudy.engine.event_study`. Default
        ``"market_garch"``: the market model with GARCH(1,1) errors, whose single-pair t
        and SQ tests keep their size within [4%, 6%] under fat tails and persistent
        volatility with a three-year window, where the OLS market model's t rejects
        6.2-6.4% (docs/methods-garch.md); ``"market"`` with ``(-250, -11)`` is the
        textbook alternative.
    estimation_window, event_windows
        Relative trading days (inclusive); the default estimation window is the GARCH
        models' three years, ``(-760, -11)``.
    conventions : {"textbook", "estudy2"}
    alpha : float
        1 - level of the bands and intervals.
    headline_series, study_series : tuple of str
        Series shown in the headline and studied (absent ones are skipped).
    focus_events : tuple of str
        Events shown expanded, with CAR-path charts.
    chart_series : tuple of str
        Series in each CAR-path chart.
    intervention_events : tuple of str
        Events whose volume effects are estimated: each one that has a post-event period
        in a series enters that series' model, and all of them enter it jointly (one
        regressor per event), so adjacent events are not credited with each other's
        effect. The specification is the library's one default
        (:data:`oilimpact.intervention.result.DEFAULT_OPTIONS`), the same as
        ``oi.intervention(series, events)`` and ``oilimpact intervention``.
    sparkline_points : int
        Observations per sparkline.
    multitest : {"fdr_bh", "holm", "none"}
        Adjustment of the ``qvalue`` columns. The family of the CAR table is every CAR
        t test of the brief (all events, series and windows); the family of the day-0
        table is its rows (one per series and day 0, shared days counted once).
        Default Benjamini-Hochberg: the brief scans many tests for the few that matter,
        so the false discovery rate is the error worth controlling.
    findings_series : tuple of str
        Price series of the Key findings box (with every volume series).
    mde_power : float
        Power of the minimum detectable effect (MDE) of each price finding: the smallest
        day-0 abnormal return the t test at ``alpha`` (two-sided) detects with this
        probability (:func:`oilimpact.eventstudy.power.minimum_detectable_effect`).
    mde_n_sim : int
        Simulated studies per MDE (default :data:`oilimpact.eventstudy.power.DEFAULT_N_SIM`,
        4,000: Monte Carlo error about 1% of the MDE, some 30 ms per series).
    mde_seed : int
        Seed of the MDE simulation: the same data give the same MDE in every build.
    synth_treated : str
        Treated series of the synthetic-control section (Venezuela's crude production).
    synth_donor_group : str
        Registry group (``[groups]`` of ``series.toml``) whose stored series are the donor
        pool; :func:`oilimpact.api.build_brief` passes them as ``donors``.
    synth_events : tuple of str
        Events with a synthetic-control fit, each when the treated series has a published
        post-event month. A later event's fit leaves out the months from an earlier
        event's first treated month up to its own, so its pre-period is untreated.
    synth_pre_periods : int
        Pre-event months used (fewer when fewer are available): 48 spans four years of
        OPEC+ quota cycles without reaching back to the 2020 collapse.
    synth_min_pre_periods : int
        Fewer pre-event months than this and no fit is made (the placebo and conformal
        p-values cannot reach 5% with very short pre-periods).
    synth_min_donors : int
        Fewer donors with complete data in the window than this and no fit is made: the
        placebo-in-space p-value is at least 1/(donors + 1), so 5 donors cannot give
        p < 0.17.
    """

    lookback_days: int = 200
    market: str = "sp500"
    model: str = "market_garch"
    estimation_window: tuple[int, int] = (-760, -11)
    event_windows: tuple[tuple[int, int], ...] = DEFAULT_EVENT_WINDOWS
    conventions: str = "textbook"
    alpha: float = 0.05
    headline_series: tuple[str, ...] = _HEADLINE
    study_series: tuple[str, ...] = _STUDY
    focus_events: tuple[str, ...] = (
        "blockade",
        "maduro_captured",
        "fto_announced",
        "fto_effective",
    )
    chart_series: tuple[str, ...] = ("brent", "wti", SPREAD, "xle", "fro", "vlo")
    intervention_events: tuple[str, ...] = ("blockade", "maduro_captured")
    sparkline_points: int = 66
    multitest: str = "fdr_bh"
    findings_series: tuple[str, ...] = ("brent", "wti", SPREAD)
    mde_power: float = 0.8
    mde_n_sim: int = DEFAULT_N_SIM
    mde_seed: int = 0
    synth_treated: str = "ve_crude_production"
    synth_donor_group: str = "ve_crude_donors"
    synth_events: tuple[str, ...] = ("blockade", "maduro_captured")
    synth_pre_periods: int = 48
    synth_min_pre_periods: int = 12
    synth_min_donors: int = 5

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (tuples become lists)."""
        return {k: _jsonable(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True, eq=False)
class BriefData:
    """Everything the weekly brief shows, computed (no HTML yet).

    Attributes
    ----------
    as_of : datetime.date
        Data cut-off: no observation after it was used.
    week : str
        ISO week of ``as_of`` (``"2026-W02"``): the output folder name.
    week_ago : datetime.date
        ``as_of`` minus 7 days: the reference of the headline changes.
    synthetic : bool
        The data are synthetic (every section carries a banner).
    options : BriefOptions
    events : EventCatalog
        The studied events.
    tables : dict of str to pandas.DataFrame
        Every named table at full precision (``headline``, ``events``, ``car``,
        ``abnormal``, ``abnormal0``, ``car_paths``, ``alignment``, ``interventions``,
        ``counterfactual``, ``sparklines``, ``health``).
    studies : tuple of EventStudyResult
        The event-study results (one, or one per event or pair after a failure).
    interventions : dict of str to InterventionResult
        Intervention fit per volume series.
    sparks : dict of str to pandas.Series
        The sparkline data (last ``sparkline_points`` observations per series).
    notices : tuple of str
        What could not be computed and why (shown at the top of the page).
    methods : tuple of str
        The methods-and-caveats paragraphs, generated from the specs used.
    true_effects : dict
        The injected effects of synthetic data (empty otherwise).
    synth : dict of str to SynthResult
        Synthetic-control fit per event (:func:`oilimpact.synth.synthetic_control`).
    synth_reasons : tuple of str
        Why there is no synthetic control (or none for some event): shown in its section.
    """

    as_of: dt.date
    week: str
    week_ago: dt.date
    synthetic: bool
    options: BriefOptions
    events: EventCatalog
    tables: dict[str, pd.DataFrame]
    studies: tuple[EventStudyResult, ...]
    interventions: dict[str, InterventionResult]
    sparks: dict[str, pd.Series]
    notices: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    true_effects: Mapping[str, Any] = field(default_factory=dict)
    has_health: bool = False
    synth: Mapping[str, Any] = field(default_factory=dict)
    synth_reasons: tuple[str, ...] = ()

    def study_for(self, event: str, series: str) -> EventStudyResult | None:
        """The result holding the (event, series) pair, or None."""
        for res in self.studies:
            ids = res.panel.ids
            if ((ids.get_level_values(0) == event) & (ids.get_level_values(1) == series)).any():
                return res
        return None


def label(name: str, registry: SeriesRegistry | None = None) -> str:
    """Display label: the shared short label, else the registry description, else the id."""
    if name in SHORT_LABELS:
        return SHORT_LABELS[name]
    if registry is not None and name in registry and registry[name].description:
        return registry[name].description
    return name


_label = label  # the brief's modules use the short private name
