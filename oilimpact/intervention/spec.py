"""The specification of an intervention fit: options, their checks, the one default spec.

:class:`InterventionOptions` and :data:`DEFAULT_OPTIONS` hold the default specification
that the API, the command line and the brief share; :func:`check_request` refuses unknown
or inconsistent arguments of :func:`~oilimpact.intervention.analysis.intervention` and
returns them as one :class:`Request`; :class:`InterventionSpec` records what a fit used,
defaults resolved (``result.spec``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Literal

import pandas as pd

from ..errors import EstimationError
from ._format import iso, jsonable

__all__ = [
    "DEFAULT_OPTIONS",
    "EVENT_TZ",
    "MIN_PRE_PERIODS",
    "SARIMAX_MAX_PLACEBOS",
    "SARIMAX_MAXITER",
    "SEASONAL_AUTO_PERIODS",
    "Cov",
    "Form",
    "Freq",
    "InterventionOptions",
    "InterventionSpec",
    "Model",
    "Request",
    "check_request",
    "resolve_seasonal",
    "resolve_unit",
]

Model = Literal["segmented", "sarimax"]
Freq = Literal["weekly", "monthly"]
Cov = Literal["hac-prewhiten", "hac"]
Form = Literal["level", "pulse", "decay", "compare"]

#: Default ``min_pre_periods`` by frequency (two years of data).
MIN_PRE_PERIODS: dict[str, int] = {"monthly": 24, "weekly": 52}
#: Observed pre-event periods needed before ``seasonal="auto"`` adds seasonal terms.
SEASONAL_AUTO_PERIODS: dict[str, int] = {"monthly": 36, "weekly": 156}
#: Default cap on placebo refits for SARIMAX (segmented refits are cheap: no cap).
SARIMAX_MAX_PLACEBOS = 40
#: Iteration cap of each SARIMAX likelihood optimisation (L-BFGS).
SARIMAX_MAXITER = 100
#: Time zone in which an event's timestamp is turned into a calendar date.
EVENT_TZ = "America/New_York"


@dataclass(frozen=True, slots=True)
class InterventionOptions:
    """The options of :func:`~oilimpact.intervention.analysis.intervention` and their defaults.

    One value, :data:`DEFAULT_OPTIONS`, holds the default specification that the API,
    the command line and the brief share: ``intervention(series, events)`` with no
    options uses it. Each default is justified in ``docs/methods-intervention.md``
    ("The default specification").

    Attributes
    ----------
    model : {"segmented", "sarimax"}
        Segmented OLS (default: cheap placebo refits, calibrated intervals).
    form : {"level", "pulse", "decay", "compare"}
        Shape of each event's effect: permanent level shift (default), one-period
        pulse, geometric decay with a profiled rate, or the best of these by
        ``form_ic``.
    start : {"containing", "next"}
        The effect starts in the period containing the event (default).
    pre_periods : tuple of (str, int)
        Pre-event periods by frequency: 60 months, 156 weeks, clipped to the periods
        available before the first treated period.
    slope : bool
        Change of slope after each event (off: a slope from a few post-event periods
        is an extrapolation).
    trend : bool
        Linear time trend.
    seasonal : {"auto", "dummies", "fourier", "none"}
        Seasonal terms when enough pre-event data exist (``"auto"``).
    cov : {"hac-prewhiten", "hac"}
        AR(1)-prewhitened HAC with a Satterthwaite t reference.
    df_floor : float
        Lower bound of the Satterthwaite degrees of freedom (2).
    form_ic : {"aic", "bic"}
        Criterion that ranks the effect forms (BIC: consistent choice of the form).
    placebo : bool
        In-time placebo p-value beside the model p-value.
    placebo_stat : {"estimate", "tstat"}
        Statistic compared with the placebo distribution (studentised).
    alpha : float
        ``1 - alpha`` intervals.
    """

    model: Literal["segmented", "sarimax"] = "segmented"
    form: Literal["level", "pulse", "decay", "compare"] = "level"
    start: Literal["containing", "next"] = "containing"
    pre_periods: tuple[tuple[str, int], ...] = (("monthly", 60), ("weekly", 156))
    slope: bool = False
    trend: bool = True
    seasonal: Literal["auto", "dummies", "fourier", "none"] = "auto"
    cov: Literal["hac-prewhiten", "hac"] = "hac-prewhiten"
    df_floor: float = 2.0
    form_ic: Literal["aic", "bic"] = "bic"
    placebo: bool = True
    placebo_stat: Literal["estimate", "tstat"] = "tstat"
    alpha: float = 0.05

    def pre_periods_for(self, frequency: str) -> int:
        """Default pre-event periods for ``"monthly"`` or ``"weekly"``.

        Examples
        --------
        >>> DEFAULT_OPTIONS.pre_periods_for("monthly"), DEFAULT_OPTIONS.pre_periods_for("weekly")
        (60, 156)
        """
        return dict(self.pre_periods)[frequency]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (``pre_periods`` as a mapping frequency -> periods).

        Examples
        --------
        >>> DEFAULT_OPTIONS.to_dict()["pre_periods"]
        {'monthly': 60, 'weekly': 156}
        """
        out = {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}
        out["pre_periods"] = dict(self.pre_periods)
        return out


#: The one default specification shared by the API, the command line and the brief.
DEFAULT_OPTIONS = InterventionOptions()


@dataclass(frozen=True, slots=True)
class InterventionSpec:
    """Everything an intervention fit used, after defaults were resolved.

    Attributes
    ----------
    series : str
        Name of the series (``Series.name`` or ``"series"``).
    unit : str
        Unit of the series (``"kb/d"``, ``"million USD"``), ``""`` when unknown.
    frequency : {"weekly", "monthly"}
    model : {"segmented", "sarimax"}
    start : {"containing", "next"}
        Whether the effect starts in the period containing the event or the next one.
    events : tuple of (str, pandas.Timestamp, pandas.Timestamp)
        ``(event id, event date, first treated period)`` after merging, in time order.
    sample_start, sample_end : pandas.Timestamp
        First and last period of the estimation sample.
    pre_periods, post_periods : int
        Periods in the sample before the first treated period, and from it to the end.
    step, slope, pulse, trend : bool
        Event and deterministic terms requested.
    seasonal : {"none", "dummies", "fourier"}
        Seasonal terms used (``"auto"`` resolved).
    fourier_order : int
        Number of harmonics when ``seasonal == "fourier"``.
    hac_lags : int or None
        Bartlett lags used by the segmented fit (the lag rule of ``cov`` unless set by
        the caller; see ``ModelInfo.hac_rule``), None for SARIMAX.
    ic : {"aic", "bic"}
        Information criterion of the SARIMAX order search.
    max_order : tuple of int
        ``(p, d, q)`` upper bounds of the SARIMAX order search.
    seasonal_order : tuple of int or None
        Fixed SARIMAX seasonal ``(P, D, Q, s)``, None when off.
    placebo : bool
    placebo_stat : {"estimate", "tstat"}
        Statistic compared between the real fit and the placebo fits.
    max_placebos : int or None
        Cap on the number of placebo dates (evenly spaced), None for all.
    min_pre_periods : int
        Observed periods required before the (pseudo) event.
    close_events : {"merge", "raise"}
    alpha : float
    cov : {"hac-prewhiten", "hac"} or None
        Standard errors of the segmented fit (None for SARIMAX).
    form : {"level", "pulse", "decay", "compare"}
        Effect form requested (``ModelInfo.form`` is the one fitted).
    form_ic : {"aic", "bic"}
        Criterion of the form comparison.
    pre_rule : str
        How the pre-event sample was chosen (default clipped to what is available,
        set by the caller, or all history).
    df_floor : float or None
        Lower bound of the Satterthwaite degrees of freedom (``cov="hac-prewhiten"``).
    """

    series: str
    unit: str
    frequency: Literal["weekly", "monthly"]
    model: Literal["segmented", "sarimax"]
    start: Literal["containing", "next"]
    events: tuple[tuple[str, pd.Timestamp, pd.Timestamp], ...]
    sample_start: pd.Timestamp
    sample_end: pd.Timestamp
    pre_periods: int
    post_periods: int
    step: bool
    slope: bool
    pulse: bool
    trend: bool
    seasonal: Literal["none", "dummies", "fourier"]
    fourier_order: int
    hac_lags: int | None
    ic: Literal["aic", "bic"]
    max_order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int] | None
    placebo: bool
    placebo_stat: Literal["estimate", "tstat"]
    max_placebos: int | None
    min_pre_periods: int
    close_events: Literal["merge", "raise"]
    alpha: float
    cov: Literal["hac-prewhiten", "hac"] | None = None
    form: Literal["level", "pulse", "decay", "compare"] = "level"
    form_ic: Literal["aic", "bic"] = "bic"
    pre_rule: str = ""
    df_floor: float | None = None

    def describe(self) -> str:
        """One line naming the specification, for pages and summaries.

        It reads like ``segmented OLS, form=level, start=containing, pre 60 monthly
        periods (default 60 monthly periods), trend, seasonal=dummies,
        cov=hac-prewhiten (df >= 2), placebo=tstat``.
        """
        parts = [
            "segmented OLS" if self.model == "segmented" else "SARIMAX",
            f"form={self._form_label()}"
            + (f" (by {self.form_ic.upper()})" if self.form == "compare" else ""),
            f"start={self.start}",
            f"pre {self.pre_periods} {self.frequency} periods"
            + (f" ({self.pre_rule})" if self.pre_rule else ""),
            "trend" if self.trend else "no trend",
            f"seasonal={self.seasonal}",
        ]
        if self.cov:
            floor = (
                f" (df >= {self.df_floor:g})"
                if self.df_floor and self.cov == "hac-prewhiten"
                else ""
            )
            parts.append(f"cov={self.cov}{floor}")
        parts.append(f"placebo={self.placebo_stat}" if self.placebo else "no placebo")
        return ", ".join(p for p in parts if p)

    def _form_label(self) -> str:
        if self.form != "level":
            return self.form
        terms = [
            t
            for t, on in (("level", self.step), ("slope", self.slope), ("pulse", self.pulse))
            if on
        ]
        return "+".join(terms)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (timestamps as ISO dates)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            out[f.name] = jsonable(getattr(self, f.name))
        out["events"] = [
            {"event": e, "date": iso(d), "first_treated_period": iso(p)} for e, d, p in self.events
        ]
        return out


@dataclass(frozen=True, slots=True)
class Request:
    """The arguments of one :func:`~oilimpact.intervention.analysis.intervention` call,
    checked by :func:`check_request`.

    ``step``, ``slope`` and ``pulse`` are the event terms of the requested ``form``
    (``form="pulse"``: pulse only; ``form="decay"``: none of them, the decay column is
    added by the form step). The other attributes are the arguments as given; their
    meaning is in the docstring of ``intervention``.
    """

    model: Model
    form: Form
    frequency: str | None
    start: Literal["containing", "next"]
    pre_periods: int | str | None
    post_periods: int | None
    step: bool
    slope: bool
    pulse: bool
    trend: bool
    seasonal: str | None
    fourier_order: int
    hac_lags: int | None
    cov: Cov
    df_floor: float
    form_ic: Literal["aic", "bic"]
    max_order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int] | None
    ic: Literal["aic", "bic"]
    placebo: bool
    placebo_stat: Literal["estimate", "tstat"]
    max_placebos: int | None
    min_pre_periods: int | None
    close_events: Literal["merge", "raise"]
    alpha: float
    unit: str | None

    @property
    def placebo_cap(self) -> int | None:
        """Cap on placebo dates: ``max_placebos``, else 40 for SARIMAX and none for OLS."""
        if self.max_placebos is None and self.model == "sarimax":
            return SARIMAX_MAX_PLACEBOS
        return self.max_placebos


_CHOICES: dict[str, tuple[str, ...]] = {
    "model": ("segmented", "sarimax"),
    "form": ("level", "pulse", "decay", "compare"),
    "start": ("containing", "next"),
    "close_events": ("merge", "raise"),
    "placebo_stat": ("estimate", "tstat"),
    "ic": ("aic", "bic"),
    "form_ic": ("aic", "bic"),
    "cov": ("hac-prewhiten", "hac"),
}


def check_request(arguments: dict[str, Any]) -> Request:
    """Refuse unknown or inconsistent options; the arguments as a :class:`Request`.

    ``arguments`` maps every keyword of ``intervention`` (not ``series`` and
    ``events``) to its value.

    Raises
    ------
    EstimationError
        An option outside its choices, negative or fractional ``hac_lags``, ``alpha``
        outside (0, 1), a negative ``df_floor``, a temporary ``form`` with
        ``slope=True`` (or ``pulse=True`` with ``"decay"``), ``"decay"``/``"compare"``
        with SARIMAX, or no event term at all.

    Examples
    --------
    >>> from oilimpact.intervention.analysis import intervention
    >>> import inspect
    >>> defaults = {k: p.default for k, p in inspect.signature(intervention).parameters.items()
    ...             if p.default is not inspect.Parameter.empty and k != "executor"}
    >>> req = check_request({**defaults, "form": "pulse"})
    >>> req.step, req.slope, req.pulse
    (False, False, True)
    >>> check_request({**defaults, "cov": "ols"})
    Traceback (most recent call last):
    ...
    oilimpact.errors.EstimationError: cov must be one of 'hac-prewhiten', 'hac', got 'ols'
    """
    a = dict(arguments)
    for key, allowed in _CHOICES.items():
        if a[key] not in allowed:
            names = ", ".join(repr(v) for v in allowed)
            raise EstimationError(f"{key} must be one of {names}, got {a[key]!r}")
    hac_lags, alpha, df_floor = a["hac_lags"], a["alpha"], a["df_floor"]
    if hac_lags is not None and (int(hac_lags) != hac_lags or hac_lags < 0):
        raise EstimationError(f"hac_lags must be a non-negative integer, got {hac_lags!r}")
    if not 0.0 < alpha < 1.0:
        raise EstimationError(f"alpha must be in (0, 1), got {alpha!r}")
    if not (math.isfinite(df_floor) and df_floor >= 0):
        raise EstimationError(f"df_floor must be a non-negative number, got {df_floor!r}")
    a["step"], a["slope"], a["pulse"] = _form_flags(
        a["model"], a["form"], a["step"], a["slope"], a["pulse"]
    )
    return Request(**a)


def _form_flags(
    model: str, form: str, step: bool, slope: bool, pulse: bool
) -> tuple[bool, bool, bool]:
    """The ``(step, slope, pulse)`` event terms of ``form`` (refusing inconsistent ones)."""
    if form in ("decay", "compare") and model != "segmented":
        raise EstimationError(
            f"form={form!r} needs model='segmented' (the decay rate is profiled over many "
            f"least-squares fits), got model={model!r}"
        )
    if form in ("pulse", "decay") and (slope or (pulse and form == "decay")):
        raise EstimationError(
            f"form={form!r} is a temporary effect; slope=True"
            + (" or pulse=True" if form == "decay" else "")
            + " needs form='level'"
        )
    if form == "pulse":
        return False, False, True
    if form == "decay":
        return False, False, False
    if not (step or slope or pulse):
        raise EstimationError("at least one of step, slope, pulse must be True, got none")
    return step, slope, pulse


def resolve_seasonal(seasonal: str | None, freq: Freq, pre_obs: int) -> Any:
    """Seasonal terms used: ``"auto"`` resolved by frequency and observed pre-event periods.

    Examples
    --------
    >>> resolve_seasonal("auto", "monthly", 60), resolve_seasonal("auto", "monthly", 30)
    ('dummies', 'none')
    >>> resolve_seasonal(None, "weekly", 200)
    'fourier'
    """
    mode = "auto" if seasonal is None else str(seasonal)
    if mode not in ("auto", "dummies", "fourier", "none"):
        raise EstimationError(
            f"seasonal must be 'auto', 'dummies', 'fourier' or 'none', got {seasonal!r}"
        )
    if mode == "auto":
        if pre_obs < SEASONAL_AUTO_PERIODS[freq]:
            return "none"
        return "dummies" if freq == "monthly" else "fourier"
    if mode == "dummies" and freq == "weekly":
        raise EstimationError(
            "seasonal='dummies' needs a monthly series (52 week dummies are not supported), "
            "got weekly; use seasonal='fourier'"
        )
    return mode


def resolve_unit(unit: str | None, series: pd.Series, name: str) -> str:
    """Unit for the report: ``unit``, else ``series.attrs["unit"]``, else the registry's.

    Examples
    --------
    >>> resolve_unit(None, pd.Series([1.0], name="ve_crude_production"), "ve_crude_production")
    'kb/d'
    """
    if unit is not None:
        return str(unit)
    attr = series.attrs.get("unit") if hasattr(series, "attrs") else None
    if attr:
        return str(attr)
    try:
        from ..series import default_registry

        reg = default_registry()
        return reg[name].unit if name in reg else ""
    except Exception:  # pragma: no cover - registry problems must not break a study
        return ""
