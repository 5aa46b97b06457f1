"""Intervention analysis of weekly and monthly volume series.

Prices answer to news within a day; export and import volumes answer over weeks and
months. :func:`intervention` estimates how much a volume series moved after one or
more events (the terrorist designation, the blockade, the capture of Maduro) and
whether the move stands out from the series' own noise, trend and seasonality, with
two models:

* ``"segmented"``: segmented (interrupted time-series) regression by OLS (Wagner et
  al. 2002) with HAC standard errors: by default AR(1)-prewhitened Newey-West
  (Andrews and Monahan 1992) with a Satterthwaite t reference, which keeps 95%
  intervals at 95% when the post-event window is short; plain Newey-West on request;
* ``"sarimax"``: regression with SARIMA errors and step / ramp / pulse regressors at
  the events (Box and Tiao 1975), order chosen by AIC or BIC within small bounds.

Both report the effect in the series' unit and in percent of the pre-event mean, the
counterfactual path with its band, and a placebo (in-time permutation) p-value next to
the model-based one. See ``docs/methods-intervention.md`` for the formulas.

:func:`intervention` is a composition of the steps of the package, one concept per
module: :mod:`.spec` (options, their checks, the one default spec), :mod:`.sample`
(frequency, period grid, pre/post windows, the post-event rule), :mod:`.timing` (event
dates, the start rule, close events), :mod:`.segmented` (design matrix and OLS),
:mod:`.inference` (HAC prewhitening, Satterthwaite df and its floor), :mod:`.sarimax`
(order selection and fit), :mod:`.forms` (effect forms by information criterion),
:mod:`.placebo` (placebo dates and distribution, optionally on an executor),
:mod:`.effects` (the effect table), :mod:`.notices` (warnings) and :mod:`.result`.
"""

from __future__ import annotations

import warnings
from concurrent.futures import Executor
from typing import Any, Literal

import pandas as pd

from .._docstring import documented
from ..errors import EstimationError
from .effects import effects_frame
from .fit import Fit, effect_stats, fit_warnings, model_info_of, path_frame
from .forms import fitted_options, form_table
from .inference import PREWHITEN_RHO_MAX, newey_west_lags
from .notices import (
    CloseEventsWarning,
    Collected,
    InterventionWarning,
    PlaceboWarning,
    placebo_warnings,
)
from .placebo import PLACEBO_COLUMNS, PlaceboSetup, placebo_dates, placebo_pvalues, run_placebo
from .result import InterventionResult, ModelInfo
from .sample import ALL_RULE, Sample, build_sample, post_event_periods
from .sarimax import fit_sarimax, select_order
from .segmented import DesignOptions, fit_segmented
from .spec import (
    DEFAULT_OPTIONS,
    Cov,
    Form,
    Freq,
    InterventionOptions,
    InterventionSpec,
    Model,
    Request,
    check_request,
    resolve_seasonal,
    resolve_unit,
)
from .timing import label

__all__ = [
    "DEFAULT_OPTIONS",
    "CloseEventsWarning",
    "InterventionOptions",
    "InterventionResult",
    "InterventionSpec",
    "InterventionWarning",
    "ModelInfo",
    "PlaceboWarning",
    "intervention",
    "newey_west_lags",
    "post_event_periods",
]

_INTERVENTION_DOC = r"""Estimate the change of a volume series at one or more events.

Called with a series and events only, it uses the one default specification
(:data:`DEFAULT_OPTIONS`) that the command line and the brief use too.

Parameters
----------
series : pandas.Series
    Float series in the frame convention: tz-naive ``DatetimeIndex``, monthly series
    indexed by the first of the month, weekly series by the provider's period date
    (EIA: week ending). Missing periods are NaN (or absent rows); they are never
    treated as zero.
events : Event, str, mapping or iterable
    Event objects (anything with ``.id`` and ``.timestamp``), event ids (looked up
    in :func:`oilimpact.events.load_catalog`), a mapping ``id -> date-like`` (or
    ``id -> Event``), or an iterable of these. A tz-aware timestamp is dated in
    America/New_York.
model : {"segmented", "sarimax"}
    Segmented OLS with HAC standard errors (default), or regression with SARIMA
    errors.
form : {"level", "pulse", "decay", "compare"}
    Shape of each event's effect. ``"level"`` (default): permanent level shift
    (plus a slope change with ``slope=True`` and a pulse with ``pulse=True``);
    ``"pulse"``: a one-period deviation; ``"decay"``: a deviation ``c_j`` in the
    first treated period decaying geometrically, ``c_j delta^(t - t_j)``, with one
    rate ``delta`` for all events profiled by least squares (segmented only);
    ``"compare"``: the form with the smallest ``form_ic`` among ``level``,
    ``level+slope``, ``pulse`` and ``decay`` (segmented only). The comparison
    table is in ``result.forms`` for every segmented fit.
frequency : {"weekly", "monthly"}, optional
    Inferred from the median spacing of the index when omitted.
start : {"containing", "next"}
    ``"containing"`` (default): the effect starts in the period that contains the
    event date, so a partially treated period (December for an event on
    2025-12-16) counts as treated; this dilutes the first period's effect but
    keeps the baseline clean, and each of two events in adjacent periods is
    credited with the period in which it happened. ``"next"``: the effect starts
    in the following period and the event period is an untreated, partially
    contaminated baseline period.
pre_periods : int, "default", "all" or None
    Periods before the first treated period used for estimation. ``"default"``:
    60 months or 156 weeks (:data:`DEFAULT_OPTIONS`), clipped to the periods
    available; ``"all"`` or None: all history; an int: exactly that many (an
    error when fewer exist). Periods are calendar periods, missing ones included.
post_periods : int, optional
    Periods from the first treated period on (inclusive). Default: all.
step, slope, pulse : bool
    Event terms of ``form="level"``: level shift (default on), change of slope
    (ramp, default off), one-period pulse (default off). ``slope`` and ``pulse``
    must stay off with ``form="pulse"`` or ``"decay"``.
trend : bool
    Linear time trend (segmented) / ``"ct"`` or drift (SARIMAX).
seasonal : {"auto", "dummies", "fourier", "none"}, optional
    ``"auto"`` (default, also ``None``): monthly series get 11 month dummies when
    at least 36 observed pre-event months are available, weekly series get
    ``fourier_order`` annual Fourier pairs when at least 156 observed pre-event
    weeks are available; otherwise no seasonal terms.
fourier_order : int
    Harmonics of the Fourier seasonal terms.
hac_lags : int, optional
    Bartlett (Newey-West) lags. With ``cov="hac-prewhiten"`` they apply to the
    prewhitened residuals and default to the Andrews (1991) AR(1) plug-in; with
    ``cov="hac"`` they default to :func:`newey_west_lags` of the number of
    observations. The lags used are in ``model_info.hac_lags`` and ``hac_rule``.
cov : {"hac-prewhiten", "hac"}
    Standard errors of the segmented regression (ignored for SARIMAX).
    ``"hac-prewhiten"`` (default): AR(1)-prewhitened Newey-West estimate of the
    error autocovariances from all residuals (Andrews and Monahan 1992) with a
    Satterthwaite t reference; 95% intervals cover at 95% in simulation, also
    with a short post-event window. ``"hac"``: the plain Newey-West sandwich with
    a t(T - k) reference, which under-covers when the post-event window is short
    (0.88 instead of 0.95 with 12 of 120 months post event). See Notes.
df_floor : float
    Lower bound of the Satterthwaite degrees of freedom of ``cov="hac-prewhiten"``
    (default 2). When the residuals are close to a random walk the
    bias-corrected AR(1) reaches its bound and the Satterthwaite formula gives
    fewer than 1 degree of freedom and unbounded intervals; the floor keeps them
    finite (``t(2)``: 4.30 standard errors) with an :class:`InterventionWarning`.
    0 disables it. See Notes.
form_ic : {"aic", "bic"}
    Criterion that ranks the effect forms in ``result.forms`` (default BIC).
max_order : tuple of int
    Upper bounds ``(p, d, q)`` of the SARIMAX order search (each ``p, q <= 2``,
    ``d <= 1`` is sensible; all combinations are fitted).
seasonal_order : tuple of int, optional
    Fixed SARIMAX seasonal ``(P, D, Q)`` (period 12 or 52); default off.
ic : {"aic", "bic"}
    Criterion of the SARIMAX order search (the mean parameters' standard errors
    are statsmodels' ``cov_type="oim"``, see Notes).
placebo : bool
    Refit at every admissible pseudo-event date before the event (see Notes).
placebo_stat : {"estimate", "tstat"}
    Statistic compared with the placebo distribution.
max_placebos : int, optional
    Cap on placebo refits (evenly spaced dates). Default: no cap for
    ``"segmented"``, 40 for ``"sarimax"``.
min_pre_periods : int, optional
    Observed periods required before the event (and before each placebo date).
    Default 24 (monthly) / 52 (weekly).
close_events : {"merge", "raise"}
    Events whose effects start in the same period are merged into one event
    (with a :class:`CloseEventsWarning`) or refused with an error.
alpha : float
    Level of the confidence intervals and bands (``1 - alpha``).
unit : str, optional
    Unit for the report; default from the series registry entry of
    ``series.name`` (``"kb/d"``), else ``""``.
executor : concurrent.futures.Executor, optional
    Runs the placebo refits: a ``ThreadPoolExecutor``, ``ProcessPoolExecutor`` or a
    Dask client's ``get_executor()``. The dates are cut into self-contained chunks
    (picklable inputs, no shared state) submitted with ``executor.submit``; the result
    is identical to the local run (default: all refits here, one after the other).

Returns
-------
InterventionResult

Raises
------
EstimationError
    Unknown frequency, an event outside the data, too few observations before the
    event, all values missing after the event, an unknown event id, events that
    cannot be separated when ``close_events="raise"``.

Warns
-----
CloseEventsWarning
    Two events start in the same or adjacent periods.
PlaceboWarning
    Fewer placebo dates than ``1 / alpha - 1``: the placebo p-value cannot reach
    ``alpha``.
InterventionWarning
    An event term is not identified and was dropped; the Satterthwaite degrees of
    freedom were floored; the prewhitening AR(1) reached its bound.

Notes
-----
The defaults (:data:`DEFAULT_OPTIONS`: segmented, permanent level shift starting
in the event period, 60 months / 156 weeks before it, trend, seasonal terms when
the data allow, prewhitened HAC with a Satterthwaite t floored at 2 degrees of
freedom) are the one specification that the API, the command line and the brief
share; ``result.spec`` records it and ``docs/methods-intervention.md`` gives the
reasons. The last event needs at least one observed period from its first treated
period on: :func:`~oilimpact.intervention.sample.post_event_periods` states that rule
for callers that check before fitting.

Let :math:`t = 0, 1, \dots` index the periods of the sample and :math:`t_j` the
first treated period of event :math:`j`; :math:`S_{jt} = 1[t \ge t_j]`. The
segmented regression (Wagner et al. 2002) is

.. math::

    y_t = a + b t + \sum_j \left[ c_j S_{jt} + d_j (t - t_j) S_{jt}
          + g_j 1[t = t_j] \right] + \sum_m s_m D_{mt} + e_t ,

(``form="level"``) where :math:`c_j` is the level change, :math:`d_j` the change
of slope per period and :math:`g_j` an optional pulse; :math:`D_{mt}` are month
dummies (January is the base) or Fourier pairs
:math:`\sin(2\pi k \tau_t), \cos(2\pi k \tau_t)` with :math:`\tau_t` the
fraction of the year. Rows with a missing :math:`y_t` are dropped.

Standard errors (``cov="hac-prewhiten"``, default) are
:math:`V = (X'X)^{-1} X' \hat\Omega X (X'X)^{-1}` with :math:`\hat\Omega` the
Toeplitz matrix of the error autocovariances estimated from all :math:`T`
residuals: (i) AR(1) prewhitening :math:`\hat v_t = \hat e_t - \tilde\rho
\hat e_{t-1}` (Andrews and Monahan 1992), where :math:`\tilde\rho` solves
:math:`\sum_t \hat e_t \hat e_{t-1} / \sum_t \hat e_t^2 =
\mathrm{tr}(M R_\rho M J)/\mathrm{tr}(M R_\rho)` (the lag-one residual
autocorrelation matched to its expectation under AR(1) errors, which removes the
downward bias of the residual autocorrelation; :math:`M = I - X(X'X)^{-1}X'`,
:math:`R_\rho = [\rho^{|s-t|}]`, :math:`J` the lag-one shift), bounded by
:math:`\pm 0.97`; (ii) Bartlett (Newey-West 1987) weights :math:`1 - l/(L+1)` on
the autocovariances of :math:`\hat v_t` with :math:`L = \lfloor 1.1447
(\hat\alpha T)^{1/3} \rfloor`, :math:`\hat\alpha = 4 r^2 / ((1-r)^2(1+r)^2)`
and :math:`r` the lag-one autocorrelation of :math:`\hat v_t` (Andrews 1991
AR(1) plug-in); (iii) recolouring, :math:`\gamma_e(h) = \sum_{|l| \le L} w_l
\hat\gamma_v(l) \tilde\rho^{|h-l|}/(1-\tilde\rho^2)`; (iv) scaling so that
:math:`\mathrm{tr}(M \hat\Omega) = \sum_t \hat e_t^2` (the analogue of
:math:`s^2 = \sum \hat e^2/(T-k)`). Tests and intervals use Student t with the
Satterthwaite degrees of freedom :math:`\nu = [1/(T-k) + 2(1+\tilde\rho) /
((1-\tilde\rho)(T-1))]^{-1}` (variance of :math:`\log V` from :math:`s^2` and
from :math:`\tilde\rho`, for regressors that vary slowly relative to the error
correlation), floored at ``df_floor``: :math:`\nu^* = \max(\nu, 2)` by default.
The floor matters when :math:`\tilde\rho` reaches its bound (residuals close to
a random walk): :math:`\nu` then falls below 1 (0.23 at :math:`T = 31`) and the
t quantile explodes, while in simulation
(``benchmarks/bench_intervention_calibration.py``) the rejection rates with and
without the floor are the same for AR(1) errors up to 0.95. The errors are
assumed covariance-stationary: the whole sample estimates their autocovariances,
so a level-shift dummy that is non-zero on only a few post-event periods gets a
variance estimated from all :math:`T` residuals. With ``cov="hac"`` the standard
errors are the Newey-West (1987) sandwich of :math:`x_t \hat e_t` with
:math:`L = \lfloor 4 (T/100)^{2/9} \rfloor` lags (Newey and West 1994), the factor :math:`T/(T-k)` and Student t
with :math:`T-k` degrees of freedom: robust to heteroskedasticity, but its
variance for a rare regressor rests on the few post-event scores and is biased
down. Rows are treated as consecutive when values are missing.

The SARIMAX model (Box and Tiao 1975) is :math:`y_t = x_t'\beta + u_t` where
:math:`x_t` holds the same event and seasonal regressors and
:math:`\phi(L)\Phi(L^s)\Delta^d u_t = A(t) + \theta(L)\Theta(L^s)\varepsilon_t`;
:math:`A(t)` is a constant and trend (``d = 0``) or a drift (``d = 1``). The order
:math:`(p, d, q)` is chosen by the information criterion over all combinations up
to ``max_order``; every candidate's criterion is reported (criteria for different
``d`` are comparable only approximately because of the diffuse initialisation).
Inference on :math:`\beta` is normal with statsmodels' ``cov_type="oim"``
covariance: the information matrix by Harvey's (1989, section 3.4.5) formula,
built from first derivatives of the Kalman filter's prediction errors and their
variances (the OPG default of statsmodels is unreliable for regression
coefficients in samples of this size). These standard
errors are about 2-2.5% smaller than those from the numerical Hessian of the
log-likelihood that R's ``arima`` reports. The likelihood is maximised on the
standardised series (at most 100 L-BFGS iterations); criteria and estimates are
reported in the original unit.

Effect forms: ``form="pulse"`` replaces the level shift by :math:`g_j 1[t = t_j]`;
``form="decay"`` by :math:`c_j \delta^{t - t_j} S_{jt}` with one rate
:math:`\delta \in [0, 0.999]` for all events, chosen to minimise the residual sum
of squares (a grid of step 0.02 refined by bounded Brent search); it nests the
pulse (:math:`\delta = 0`) and, as :math:`\delta \to 1`, the level shift.
Inference on :math:`c_j` is conditional on :math:`\hat\delta`; the placebo refits
re-profile :math:`\delta`, so the placebo p-value accounts for it.
``result.forms`` compares ``level``, ``level+slope``, ``pulse`` and ``decay`` on
the same sample by the Gaussian log-likelihood
:math:`\ell = -\tfrac{T}{2}[\log(2\pi\,\mathrm{SSR}/T) + 1]`,
:math:`\mathrm{AIC} = -2\ell + 2k`, :math:`\mathrm{BIC} = -2\ell + k \log T`
(:math:`k`: regressors kept, the variance, and the rate for ``decay``); BIC by
default because it selects the true form with probability tending to one
(Schwarz 1978) while AIC favours the larger model. The likelihood treats the
errors as independent, which overstates the evidence when they are
autocorrelated: read a small difference as "both fit".

Effects: ``level`` is :math:`c_j`, ``slope`` :math:`d_j`, ``pulse`` :math:`g_j`,
``decay`` the impact :math:`c_j` in the first treated period;
``average`` (event ``"all"``) is the mean of the summed event terms over the
observed post-event periods, :math:`\bar{x}'\beta` with standard error
:math:`\sqrt{\bar{x}' V \bar{x}}`. Percentages divide the estimate and its
interval by the pre-event mean :math:`\bar{y}_{pre}` (observed values before the
period containing the first event), treated as known.

Counterfactual: for ``"segmented"`` the fitted mean with the event terms set to zero
and its pointwise confidence band (zeroed design, covariance and t reference of
``cov``). For ``"sarimax"`` the full-sample parameters are kept, the data from
the period containing the first event on are treated as missing and the event
regressors set to zero: the Kalman filter then gives one-step predictions before
the event and multi-step forecasts after it, with forecast intervals (innovation
uncertainty, not parameter uncertainty).

Placebo (in-time) inference, in the spirit of Abadie, Diamond and Hainmueller
(2010, 2015): with :math:`L` the number of sample periods from the first treated
period on, every pseudo date :math:`\tau` with at least ``min_pre_periods``
observed periods before it and :math:`\tau + L` at or before the period containing
the first real event is refitted with the whole event configuration shifted to
start at :math:`\tau` (same relative spacing, same model, same seasonal terms; for
SARIMAX the chosen order is reused, not re-selected). When ``pre_periods`` is set,
each placebo uses at most that many pre periods (and at least ``min_pre_periods``
observed ones), so early pseudo dates are admissible too. No real post-event data enter a
placebo fit. The p-value of each term is

.. math:: p = \frac{1 + \#\{|\hat\theta_{placebo}| \ge |\hat\theta|\}}{1 + n_{placebo}} .

References
----------
.. [1] Box, G. E. P. and Tiao, G. C. (1975). Intervention analysis with applications
   to economic and environmental problems. JASA 70(349), 70-79.
.. [2] Wagner, A. K., Soumerai, S. B., Zhang, F. and Ross-Degnan, D. (2002).
   Segmented regression analysis of interrupted time series studies in medication
   use research. J. Clin. Pharm. Ther. 27(4), 299-309.
.. [3] Newey, W. K. and West, K. D. (1987). A simple, positive semi-definite,
   heteroskedasticity and autocorrelation consistent covariance matrix.
   Econometrica 55(3), 703-708; (1994) Automatic lag selection in covariance
   matrix estimation. Rev. Econ. Stud. 61(4), 631-653.
.. [4] Andrews, D. W. K. (1991). Heteroskedasticity and autocorrelation consistent
   covariance matrix estimation. Econometrica 59(3), 817-858; Andrews, D. W. K.
   and Monahan, J. C. (1992). An improved heteroskedasticity and autocorrelation
   consistent covariance matrix estimator. Econometrica 60(4), 953-966.
.. [5] Kiefer, N. M. and Vogelsang, T. J. (2005). A new asymptotic theory for
   heteroskedasticity-autocorrelation robust tests. Econometric Theory 21(6),
   1130-1164 (fixed-b critical values; measured and not used, see the docs).
.. [6] Abadie, A., Diamond, A. and Hainmueller, J. (2010). Synthetic control methods
   for comparative case studies. JASA 105(490), 493-505; (2015) Comparative
   politics and the synthetic control method. AJPS 59(2), 495-510.
.. [7] Harvey, A. C. (1989). Forecasting, Structural Time Series Models and the
   Kalman Filter. Cambridge University Press (section 3.4.5: the information
   matrix behind statsmodels' ``cov_type="oim"``).
.. [8] Schwarz, G. (1978). Estimating the dimension of a model. Annals of
   Statistics 6(2), 461-464.

Examples
--------
A monthly series with a drop of 100 kb/d from 2025-12:

>>> import numpy as np, pandas as pd
>>> from oilimpact.intervention.analysis import intervention
>>> idx = pd.date_range("2018-01-01", "2026-04-01", freq="MS", name="date")
>>> rng = np.random.default_rng(0)
>>> y = 900 + rng.normal(0, 10, len(idx)) - 100 * (idx >= "2025-12-01")
>>> s = pd.Series(y, index=idx, name="ve_crude_production")
>>> res = intervention(s, {"blockade": "2025-12-16"})  # the default specification
>>> res.spec.pre_periods, res.spec.pre_rule, res.spec.start, res.model_info.form
(60, 'default 60 monthly periods', 'containing', 'level')
>>> row = res.effects.query("term == 'level'").iloc[0]
>>> bool(row.ci_lower < -100 < row.ci_upper), res.spec.unit, res.spec.seasonal
(True, 'kb/d', 'dummies')
>>> round(float(row.estimate)), round(float(row.pct_of_pre_mean))
(-105, -12)
>>> int(row.n_placebo), bool(row.placebo_pvalue < 0.05)
(67, True)
>>> res.forms[["form", "delta"]].round(1).to_string(index=False).split("\n")[1:3]
['      level    1.0', 'level+slope    0.0']

The placebo refits through an executor give the same result:

>>> from concurrent.futures import ThreadPoolExecutor
>>> with ThreadPoolExecutor(2) as pool:
...     par = intervention(s, {"blockade": "2025-12-16"}, executor=pool)
>>> par.effects.equals(res.effects) and par.placebo.equals(res.placebo)
True
"""


@documented(_INTERVENTION_DOC)
def intervention(
    series: pd.Series,
    events: Any,
    *,
    model: Model = DEFAULT_OPTIONS.model,
    form: Form = DEFAULT_OPTIONS.form,
    frequency: Freq | None = None,
    start: Literal["containing", "next"] = DEFAULT_OPTIONS.start,
    pre_periods: int | Literal["default", "all"] | None = "default",
    post_periods: int | None = None,
    step: bool = True,
    slope: bool = DEFAULT_OPTIONS.slope,
    pulse: bool = False,
    trend: bool = DEFAULT_OPTIONS.trend,
    seasonal: Literal["auto", "dummies", "fourier", "none"] | None = DEFAULT_OPTIONS.seasonal,
    fourier_order: int = 2,
    hac_lags: int | None = None,
    cov: Cov = DEFAULT_OPTIONS.cov,
    df_floor: float = DEFAULT_OPTIONS.df_floor,
    form_ic: Literal["aic", "bic"] = DEFAULT_OPTIONS.form_ic,
    max_order: tuple[int, int, int] = (2, 1, 2),
    seasonal_order: tuple[int, int, int] | None = None,
    ic: Literal["aic", "bic"] = "aic",
    placebo: bool = DEFAULT_OPTIONS.placebo,
    placebo_stat: Literal["estimate", "tstat"] = DEFAULT_OPTIONS.placebo_stat,
    max_placebos: int | None = None,
    min_pre_periods: int | None = None,
    close_events: Literal["merge", "raise"] = "merge",
    alpha: float = DEFAULT_OPTIONS.alpha,
    unit: str | None = None,
    executor: Executor | None = None,
) -> InterventionResult:
    # (docstring: _INTERVENTION_DOC above)
    options = {k: v for k, v in locals().items() if k not in ("series", "events", "executor")}
    req = check_request(options)
    collected: Collected = []
    sample = build_sample(series, events, req, collected)
    base = _base_design(sample, req)
    forms = None
    if req.model == "segmented":
        forms = form_table(sample.y, sample.dates, sample.ids, sample.starts, base, req.form_ic)
    opts, fitted_form = fitted_options(req.form, base, forms)
    fit = _fit(sample, opts, req)
    collected += fit_warnings(fit, sample.freq, req.df_floor, sample.name, PREWHITEN_RHO_MAX)
    plac = _placebo(sample, opts, fit, req, executor, collected)
    real = effect_stats(fit)
    pvals = placebo_pvalues(real, plac, req.placebo_stat)
    info = model_info_of(fit, req.model, sample.pre_mean, req.ic, fitted_form, opts.decay)
    for cls, msg in collected:
        warnings.warn(msg, cls, stacklevel=2)
    return InterventionResult(
        spec=_spec(series, sample, req, opts, fit),
        effects=effects_frame(real, pvals, sample.pre_mean, req.alpha, sample.ids),
        path=path_frame(sample.dates, sample.y, fit),
        placebo=plac.reset_index(drop=True),
        warnings=tuple(msg for _, msg in collected),
        model_info=info,
        forms=forms,
        warning_classes=tuple(cls.__name__ for cls, _ in collected),
    )


def _base_design(sample: Sample, req: Request) -> DesignOptions:
    """Design options of the requested terms: trend, seasonal terms (``"auto"`` resolved
    on the observed pre-event periods), the event terms of ``form``."""
    seasonal = resolve_seasonal(req.seasonal, sample.freq, sample.pre_obs)
    if req.model == "sarimax" and req.seasonal_order is not None and len(req.seasonal_order) != 3:
        raise EstimationError(f"seasonal_order must be (P, D, Q), got {req.seasonal_order!r}")
    return DesignOptions(
        freq=sample.freq,
        trend=req.trend,
        seasonal=seasonal,
        fourier_order=int(req.fourier_order),
        step=req.step,
        slope=req.slope,
        pulse=req.pulse,
    )


def _fit(sample: Sample, opts: DesignOptions, req: Request) -> Fit:
    """The real fit: segmented OLS, or SARIMAX at the order chosen by ``req.ic``."""
    args = (sample.y, sample.dates, sample.ids, sample.starts, opts)
    if req.model == "segmented":
        return fit_segmented(
            *args, req.hac_lags, req.cov, req.alpha, sample.post_mask, req.df_floor
        )
    s_period = 12 if sample.freq == "monthly" else 52
    s_order = (*(int(v) for v in req.seasonal_order), s_period) if req.seasonal_order else None
    order, candidates = select_order(*args, req.max_order, s_order, req.ic)
    fit = fit_sarimax(
        *args, order, s_order, req.alpha, sample.post_mask, cf_from=sample.containing - sample.s0
    )
    fit.order, fit.seasonal_order, fit.candidates = order, s_order, candidates
    return fit


def _placebo(
    sample: Sample,
    opts: DesignOptions,
    fit: Fit,
    req: Request,
    executor: Executor | None,
    collected: Collected,
) -> pd.DataFrame:
    """The placebo distribution (empty when ``placebo=False``) and its warnings."""
    if not req.placebo:
        return pd.DataFrame(columns=PLACEBO_COLUMNS)
    pre = None if sample.pre_rule == ALL_RULE else sample.pre_periods
    setup = PlaceboSetup(
        values=sample.values,
        grid=sample.grid,
        ids=tuple(sample.ids),
        rel=tuple(p.first - sample.first for p in sample.placed),
        post_len=sample.post_periods,
        pre_periods=pre,
        opts=opts,
        model=req.model,
        hac_lags=req.hac_lags,
        cov=req.cov,
        order=fit.order,
        s_order=fit.seasonal_order,
        alpha=req.alpha,
    )
    offset = sample.first - sample.containing  # 1 with start="next"
    taus = placebo_dates(
        sample.values, sample.containing, offset, sample.post_periods, pre, sample.min_pre,
        req.placebo_cap,
    )  # fmt: skip
    plac = run_placebo(setup, taus, executor)
    collected += placebo_warnings(
        plac, sample.name, sample.min_pre, sample.post_periods,
        label(sample.grid[sample.containing], sample.freq), req.alpha,
    )  # fmt: skip
    return plac


def _spec(
    series: pd.Series, sample: Sample, req: Request, opts: DesignOptions, fit: Fit
) -> InterventionSpec:
    """What the fit used, defaults resolved (``result.spec``)."""
    segmented = req.model == "segmented"
    return InterventionSpec(
        series=sample.name,
        unit=resolve_unit(req.unit, series, sample.name),
        frequency=sample.freq,
        model=req.model,
        start=req.start,
        events=tuple((p.id, p.date, sample.grid[p.first]) for p in sample.placed),
        sample_start=sample.grid[sample.s0],
        sample_end=sample.grid[sample.s1],
        pre_periods=sample.pre_periods,
        post_periods=sample.post_periods,
        step=opts.step,
        slope=opts.slope,
        pulse=opts.pulse,
        trend=req.trend,
        seasonal=opts.seasonal,  # type: ignore[arg-type]
        fourier_order=int(req.fourier_order),
        hac_lags=fit.hac_lags,
        ic=req.ic,
        max_order=tuple(int(v) for v in req.max_order),  # type: ignore[arg-type]
        seasonal_order=fit.seasonal_order,
        placebo=req.placebo,
        placebo_stat=req.placebo_stat,
        max_placebos=req.placebo_cap,
        min_pre_periods=sample.min_pre,
        close_events=req.close_events,
        alpha=req.alpha,
        cov=req.cov if segmented else None,
        form=req.form,
        form_ic=req.form_ic,
        pre_rule=sample.pre_rule,
        df_floor=float(req.df_floor) if (segmented and req.cov == "hac-prewhiten") else None,
    )
