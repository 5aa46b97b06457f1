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
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import EstimationError
from .result import (
    DEFAULT_OPTIONS,
    EFFECT_COLUMNS,
    FORM_COLUMNS,
    PATH_COLUMNS,
    CloseEventsWarning,
    InterventionOptions,
    InterventionResult,
    InterventionSpec,
    InterventionWarning,
    ModelInfo,
    PlaceboWarning,
)

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
#: Bound on the prewhitening AR(1) coefficient (Andrews and Monahan 1992 use 0.97).
PREWHITEN_RHO_MAX = 0.97

_TERM_ORDER = {"level": 0, "slope": 1, "pulse": 2, "decay": 3, "average": 4}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


def newey_west_lags(nobs: int) -> int:
    """Newey-West (1994) plug-in lag rule ``floor(4 * (T / 100) ** (2 / 9))``.

    Examples
    --------
    >>> newey_west_lags(100), newey_west_lags(300), newey_west_lags(24)
    (4, 5, 2)
    """
    return int(math.floor(4.0 * (max(nobs, 1) / 100.0) ** (2.0 / 9.0)))


# ======================================================================================
# public entry point
# ======================================================================================
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
) -> InterventionResult:
    r"""Estimate the change of a volume series at one or more events.

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
    reasons.

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
    """
    flags = _check_options(
        model=model,
        form=form,
        start=start,
        close_events=close_events,
        placebo_stat=placebo_stat,
        ic=ic,
        form_ic=form_ic,
        cov=cov,
        hac_lags=hac_lags,
        alpha=alpha,
        df_floor=df_floor,
        step=step,
        slope=slope,
        pulse=pulse,
    )
    name = str(series.name) if getattr(series, "name", None) is not None else "series"
    collected: list[tuple[type[Warning], str]] = []

    # --- data on a regular grid, events on it, the sample --------------------------------
    y_raw = _validate_series(series, name)
    freq = _infer_frequency(y_raw.index, frequency, name)
    grid_y = _regularize(y_raw, freq, name)
    grid = grid_y.index
    yv = grid_y.to_numpy(dtype="float64")
    min_pre = int(min_pre_periods if min_pre_periods is not None else MIN_PRE_PERIODS[freq])
    placed = _place_events(events, grid, freq, start, close_events, name, collected)
    e_first, c_first = placed[0].first, placed[0].containing
    s0, s1, pre_rule = _sample_bounds(grid, freq, placed, pre_periods, post_periods, name)
    pre_obs = _check_sample(yv, grid, freq, placed, s0, s1, min_pre, name)
    pre_mean = float(np.nanmean(yv[s0:c_first]))

    seasonal_mode = _resolve_seasonal(seasonal, freq, pre_obs)
    if model == "sarimax" and seasonal_order is not None and len(seasonal_order) != 3:
        raise EstimationError(f"seasonal_order must be (P, D, Q), got {seasonal_order!r}")
    base = _DesignOptions(
        freq=freq,
        trend=trend,
        seasonal=seasonal_mode,
        fourier_order=int(fourier_order),
        step=flags[0],
        slope=flags[1],
        pulse=flags[2],
    )
    ids = [p.id for p in placed]
    rel_starts = [p.first - s0 for p in placed]
    dates = grid[s0 : s1 + 1]
    ys = yv[s0 : s1 + 1]
    post_mask = np.arange(len(dates)) >= (e_first - s0)

    # --- effect forms and the real fit ------------------------------------------------
    forms = _form_table(ys, dates, ids, rel_starts, base, form_ic) if model == "segmented" else None
    opts, fitted_form = _fitted_options(form, base, forms)
    order: tuple[int, int, int] | None = None
    s_order: tuple[int, int, int, int] | None = None
    candidates = None
    if model == "segmented":
        fit = _fit_segmented(
            ys, dates, ids, rel_starts, opts, hac_lags, cov, alpha, post_mask, df_floor
        )
    else:
        s_period = 12 if freq == "monthly" else 52
        s_order = (*tuple(int(v) for v in seasonal_order), s_period) if seasonal_order else None
        order, candidates = _select_order(ys, dates, ids, rel_starts, opts, max_order, s_order, ic)
        fit = _fit_sarimax(
            ys,
            dates,
            ids,
            rel_starts,
            opts,
            order,
            s_order,
            alpha,
            post_mask,
            cf_from=c_first - s0,
        )
    collected += _fit_warnings(fit, freq, df_floor, name)

    # --- placebo ----------------------------------------------------------------------
    cap = SARIMAX_MAX_PLACEBOS if (max_placebos is None and model == "sarimax") else max_placebos
    plac = pd.DataFrame(columns=["pseudo_date", "event", "term", "estimate", "stat"])
    if placebo:
        plac = _run_placebo(
            yv=yv,
            grid=grid,
            placed=placed,
            s0=s0,
            s1=s1,
            pre_periods=None if pre_rule == _ALL_RULE else e_first - s0,
            min_pre=min_pre,
            opts=opts,
            model=model,
            hac_lags=hac_lags,
            cov=cov,
            order=order,
            s_order=s_order,
            cap=cap,
            alpha=alpha,
        )
        collected += _placebo_warnings(
            plac, name, min_pre, s1 - e_first + 1, _label(grid[c_first], freq), alpha
        )

    effects = _effects_frame(_effect_stats(fit), plac, placebo_stat, pre_mean, alpha, ids)
    path = _path_frame(dates, ys, fit)
    spec = InterventionSpec(
        series=name,
        unit=_resolve_unit(unit, series, name),
        frequency=freq,
        model=model,
        start=start,
        events=tuple((p.id, p.date, grid[p.first]) for p in placed),
        sample_start=grid[s0],
        sample_end=grid[s1],
        pre_periods=e_first - s0,
        post_periods=s1 - e_first + 1,
        step=opts.step,
        slope=opts.slope,
        pulse=opts.pulse,
        trend=trend,
        seasonal=seasonal_mode,
        fourier_order=int(fourier_order),
        hac_lags=fit.hac_lags,
        ic=ic,
        max_order=tuple(int(v) for v in max_order),  # type: ignore[arg-type]
        seasonal_order=s_order,
        placebo=placebo,
        placebo_stat=placebo_stat,
        max_placebos=cap,
        min_pre_periods=min_pre,
        close_events=close_events,
        alpha=alpha,
        cov=cov if model == "segmented" else None,
        form=form,
        form_ic=form_ic,
        pre_rule=pre_rule,
        df_floor=float(df_floor) if (model == "segmented" and cov == "hac-prewhiten") else None,
    )
    info = _model_info(fit, model, pre_mean, order, s_order, ic, candidates, fitted_form, opts)
    for cls, msg in collected:
        warnings.warn(msg, cls, stacklevel=2)
    return InterventionResult(
        spec=spec,
        effects=effects,
        path=path,
        placebo=plac.reset_index(drop=True),
        warnings=tuple(msg for _, msg in collected),
        model_info=info,
        forms=forms,
        warning_classes=tuple(cls.__name__ for cls, _ in collected),
    )


# ======================================================================================
# steps of intervention()
# ======================================================================================
_ALL_RULE = "all history"


def _check_options(
    *,
    model: str,
    form: str,
    start: str,
    close_events: str,
    placebo_stat: str,
    ic: str,
    form_ic: str,
    cov: str,
    hac_lags: int | None,
    alpha: float,
    df_floor: float,
    step: bool,
    slope: bool,
    pulse: bool,
) -> tuple[bool, bool, bool]:
    """Refuse unknown options; return the ``(step, slope, pulse)`` flags of ``form``."""
    choices = {
        "model": (model, ("segmented", "sarimax")),
        "form": (form, ("level", "pulse", "decay", "compare")),
        "start": (start, ("containing", "next")),
        "close_events": (close_events, ("merge", "raise")),
        "placebo_stat": (placebo_stat, ("estimate", "tstat")),
        "ic": (ic, ("aic", "bic")),
        "form_ic": (form_ic, ("aic", "bic")),
        "cov": (cov, ("hac-prewhiten", "hac")),
    }
    for key, (value, allowed) in choices.items():
        if value not in allowed:
            names = ", ".join(repr(a) for a in allowed)
            raise EstimationError(f"{key} must be one of {names}, got {value!r}")
    if hac_lags is not None and (int(hac_lags) != hac_lags or hac_lags < 0):
        raise EstimationError(f"hac_lags must be a non-negative integer, got {hac_lags!r}")
    if not 0.0 < alpha < 1.0:
        raise EstimationError(f"alpha must be in (0, 1), got {alpha!r}")
    if not (math.isfinite(df_floor) and df_floor >= 0):
        raise EstimationError(f"df_floor must be a non-negative number, got {df_floor!r}")
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


def _place_events(
    events: Any,
    grid: pd.DatetimeIndex,
    freq: Freq,
    start: str,
    close_events: str,
    name: str,
    collected: list[tuple[type[Warning], str]],
) -> list[_Placed]:
    """Events -> grid positions (containing and first treated period), merged if close."""
    resolved = _resolve_events(events)
    if not resolved:
        raise EstimationError(f"needs at least one event, got none (series={name})")
    n = len(grid)
    placed = []
    for ev_id, ev_date in resolved:
        pos = _containing_position(grid, ev_date, freq)
        if pos is None:
            raise EstimationError(
                f"event {ev_id} on {ev_date:%Y-%m-%d} falls outside the data of {name} "
                f"({_label(grid[0], freq)} .. {_label(grid[-1], freq)}, {freq}); needed a "
                "date inside the series' span"
            )
        first = pos + (1 if start == "next" else 0)
        if first >= n:
            raise EstimationError(
                f"event {ev_id} on {ev_date:%Y-%m-%d} with start='next' is treated from the "
                f"period after {_label(grid[pos], freq)}, but {name} ends there: needed at "
                "least one period after the event, got 0"
            )
        placed.append(_Placed(ev_id, ev_date, pos, first))
    return _merge_close(placed, grid, freq, close_events, collected)


def _sample_bounds(
    grid: pd.DatetimeIndex,
    freq: Freq,
    placed: list[_Placed],
    pre_periods: int | str | None,
    post_periods: int | None,
    name: str,
) -> tuple[int, int, str]:
    """First and last grid position of the sample and how the pre-period was chosen.

    ``"default"``: ``DEFAULT_OPTIONS.pre_periods_for(freq)`` calendar periods before the
    first treated period, or all of them when fewer exist; ``"all"``/None: all; an int:
    exactly that many.
    """
    e_first, n = placed[0].first, len(grid)
    if pre_periods is None or pre_periods == "all":
        s0, rule = 0, _ALL_RULE
    elif pre_periods == "default":
        want = DEFAULT_OPTIONS.pre_periods_for(freq)
        s0 = max(e_first - want, 0)
        rule = f"default {want} {freq} periods"
        if e_first < want:
            rule += f", clipped to the {e_first} available"
    elif isinstance(pre_periods, str):
        raise EstimationError(
            f"pre_periods must be an int, 'default', 'all' or None, got {pre_periods!r}"
        )
    else:
        if pre_periods < 1:
            raise EstimationError(f"pre_periods must be >= 1, got {pre_periods}")
        if pre_periods > e_first:
            raise EstimationError(
                f"pre_periods={pre_periods} needs {pre_periods} {freq} periods before "
                f"{_label(grid[e_first], freq)} (event={placed[0].id}, series={name}), "
                f"got {e_first}"
            )
        s0, rule = e_first - int(pre_periods), "set by pre_periods"
    if post_periods is not None:
        if post_periods < 1:
            raise EstimationError(f"post_periods must be >= 1, got {post_periods}")
        if e_first + post_periods > n:
            raise EstimationError(
                f"post_periods={post_periods} needs {post_periods} {freq} periods from "
                f"{_label(grid[e_first], freq)} (event={placed[0].id}, series={name}), "
                f"got {n - e_first}"
            )
        s1 = e_first + post_periods - 1
    else:
        s1 = n - 1
    for p in placed:
        if p.first > s1:
            raise EstimationError(
                f"event {p.id} is treated from {_label(grid[p.first], freq)}, after the end "
                f"of the post window {_label(grid[s1], freq)}; needed post_periods >= "
                f"{p.first - e_first + 1}, got {post_periods}"
            )
    return s0, s1, rule


def _check_sample(
    yv: np.ndarray,
    grid: pd.DatetimeIndex,
    freq: Freq,
    placed: list[_Placed],
    s0: int,
    s1: int,
    min_pre: int,
    name: str,
) -> int:
    """Observed pre-event periods (refused below ``min_pre``); data after the last event."""
    c_first = placed[0].containing
    pre_obs = int(np.isfinite(yv[s0:c_first]).sum())
    if pre_obs < min_pre:
        raise EstimationError(
            f"needs at least {min_pre} observed {freq} periods before "
            f"{_label(grid[c_first], freq)} (event={placed[0].id}, series={name}), "
            f"got {pre_obs}"
        )
    last = placed[-1]
    if not np.isfinite(yv[last.first : s1 + 1]).any():
        raise EstimationError(
            f"all values of {name} are missing from {_label(grid[last.first], freq)} "
            f"(event={last.id}) to {_label(grid[s1], freq)}: needed at least one observed "
            "period after the event, got 0"
        )
    return pre_obs


def _fit_warnings(
    fit: _Fit, freq: str, df_floor: float, name: str
) -> list[tuple[type[Warning], str]]:
    """Dropped terms, a floored Satterthwaite df, a prewhitening AR(1) at its bound."""
    out: list[tuple[type[Warning], str]] = []
    for col in fit.dropped:
        ev, term = col.split("|")
        out.append(
            (
                InterventionWarning,
                f"term '{term}' of event {ev} is not identified with the observed {freq} "
                "data (too few observed periods before the next event or the end of the "
                "sample) and was dropped",
            )
        )
    if fit.cov_type != "hac-prewhiten" or fit.rho is None:
        return out
    at_bound = abs(fit.rho) >= PREWHITEN_RHO_MAX - 1e-9
    if fit.df_raw is not None and fit.df_raw < df_floor:
        out.append(
            (
                InterventionWarning,
                f"{name}: the residuals are close to a random walk (bias-corrected AR(1) "
                f"{fit.rho:.2f}{', at its bound' if at_bound else ''}); the Satterthwaite "
                f"degrees of freedom {fit.df_raw:.2f} were raised to the floor {df_floor:g}, "
                f"so intervals are +-{stats.t.ppf(0.975, df_floor):.2f} standard errors at "
                "95%: the change is weakly identified, read the placebo p-value beside it",
            )
        )
    elif at_bound:
        out.append(
            (
                InterventionWarning,
                f"{name}: the bias-corrected residual AR(1) reached its bound "
                f"{PREWHITEN_RHO_MAX}: the residuals are close to a random walk and the "
                "standard errors rest on that bound; read the placebo p-value beside them",
            )
        )
    return out


def _placebo_warnings(
    plac: pd.DataFrame,
    name: str,
    min_pre: int,
    post_len: int,
    event_period: str,
    alpha: float,
) -> list[tuple[type[Warning], str]]:
    """No placebo date at all, or too few for the placebo p-value to reach ``alpha``."""
    n_dates = int(plac["pseudo_date"].nunique()) if len(plac) else 0
    if n_dates == 0:
        return [
            (
                PlaceboWarning,
                f"no admissible placebo date for {name}: each needs {min_pre} observed "
                f"periods before it and {post_len} periods after it before "
                f"{event_period}; placebo p-values are missing",
            )
        ]
    if 1.0 / (n_dates + 1) > alpha:
        return [
            (
                PlaceboWarning,
                f"only {n_dates} placebo dates for {name}: the smallest attainable placebo "
                f"p-value is 1/{n_dates + 1} = {1 / (n_dates + 1):.3f} > alpha={alpha}",
            )
        ]
    return []


def _path_frame(dates: pd.DatetimeIndex, ys: np.ndarray, fit: _Fit) -> pd.DataFrame:
    """Actual, fitted and counterfactual path of the sample."""
    return pd.DataFrame(
        {
            "date": pd.DatetimeIndex(dates),
            "actual": ys,
            "fitted": fit.fitted,
            "counterfactual": fit.cf,
            "cf_lower": fit.cf_lower,
            "cf_upper": fit.cf_upper,
        },
        columns=list(PATH_COLUMNS),
    )


def _model_info(
    fit: _Fit,
    model: str,
    pre_mean: float,
    order: tuple[int, int, int] | None,
    s_order: tuple[int, int, int, int] | None,
    ic: str,
    candidates: pd.DataFrame | None,
    fitted_form: str,
    opts: _DesignOptions,
) -> ModelInfo:
    """What was fitted, for ``result.model_info``."""
    return ModelInfo(
        model=model,  # type: ignore[arg-type]
        nobs=fit.nobs,
        n_params=fit.n_params,
        df_resid=fit.df,
        hac_lags=fit.hac_lags,
        pre_mean=pre_mean,
        order=order,
        seasonal_order=s_order,
        trend=fit.trend,
        ic=ic if model == "sarimax" else None,
        ic_value=fit.ic_value.get(ic) if model == "sarimax" else None,
        candidates=candidates,
        params=fit.params,
        cov_params=fit.cov,
        columns=tuple(fit.params.index),
        dropped=tuple(fit.dropped),
        cov_type=fit.cov_type,
        hac_rule=fit.hac_rule,
        prewhiten_rho=fit.rho,
        form=fitted_form,
        decay_rate=opts.decay,
        df_satterthwaite=fit.df_raw,
    )


# ======================================================================================
# effect forms
# ======================================================================================
#: Step of the grid on which the decay rate is profiled before a bounded Brent search.
DECAY_GRID_STEP = 0.02
#: Upper bound of the decay rate (1 would be the permanent level shift).
DECAY_RATE_MAX = 0.999


def _form_options(base: _DesignOptions, form: str, rate: float | None = None) -> _DesignOptions:
    """Design options of one effect form (``level``, ``level+slope``, ``pulse``, ``decay``)."""
    flags = {
        "level": (True, False, False),
        "level+slope": (True, True, False),
        "pulse": (False, False, True),
        "decay": (False, False, False),
    }[form]
    return replace(
        base,
        step=flags[0],
        slope=flags[1],
        pulse=flags[2],
        decay=rate if form == "decay" else None,
        profile=form == "decay",
    )


def _ols_ssr(
    y: np.ndarray,
    month: np.ndarray,
    doy: np.ndarray,
    ids: list[str],
    starts: list[int],
    opts: _DesignOptions,
) -> tuple[float, int, int]:
    """Residual sum of squares, observations and identified regressors of one design."""
    X, names, _ = _design_arrays(month, doy, ids, starts, opts)
    obs = np.isfinite(y)
    kept = _identified(X[obs], names)
    Xo = X[obs][:, [names.index(c) for c in kept]]
    beta, *_ = np.linalg.lstsq(Xo, y[obs], rcond=None)
    resid = y[obs] - Xo @ beta
    return float(resid @ resid), int(obs.sum()), len(kept)


def _profile_decay(
    y: np.ndarray,
    month: np.ndarray,
    doy: np.ndarray,
    ids: list[str],
    starts: list[int],
    opts: _DesignOptions,
) -> float:
    """Least-squares decay rate: a grid of step 0.02 on [0, 0.98], then bounded Brent.

    The residual sum of squares at each rate is that of the decay columns after
    projecting ``y`` and them off the other regressors (Frisch-Waugh-Lovell), so the
    design is built and factorised once.
    """
    from scipy.optimize import minimize_scalar

    base = replace(opts, step=False, slope=False, pulse=False, decay=None)
    X, names, _ = _design_arrays(month, doy, ids, starts, base)
    obs = np.isfinite(y)
    kept = _identified(X[obs], names)
    Q, _ = np.linalg.qr(X[obs][:, [names.index(c) for c in kept]])
    yr = y[obs] - Q @ (Q.T @ y[obs])
    t = np.arange(len(y), dtype="float64")[obs]
    lags = [t - s for s in starts]

    def ssr(rate: float) -> float:
        D = np.column_stack([np.where(h >= 0, rate ** np.maximum(h, 0.0), 0.0) for h in lags])
        Dr = D - Q @ (Q.T @ D)
        coef, *_ = np.linalg.lstsq(Dr, yr, rcond=None)
        e = yr - Dr @ coef
        return float(e @ e)

    grid = np.arange(0.0, 1.0, DECAY_GRID_STEP)
    vals = np.array([ssr(r) for r in grid])
    best = float(grid[int(np.argmin(vals))])
    lo, hi = max(best - DECAY_GRID_STEP, 0.0), min(best + DECAY_GRID_STEP, DECAY_RATE_MAX)
    ref = minimize_scalar(ssr, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    if ref.success and float(ref.fun) < float(vals.min()):
        return float(ref.x)
    return best


def _form_table(
    y: np.ndarray,
    dates: pd.DatetimeIndex,
    ids: list[str],
    starts: list[int],
    base: _DesignOptions,
    form_ic: str,
) -> pd.DataFrame:
    """Gaussian log-likelihood, AIC and BIC of each effect form on the same sample."""
    month, doy = dates.month.to_numpy(), dates.day_of_year.to_numpy()
    rate = _profile_decay(y, month, doy, ids, starts, _form_options(base, "decay", 0.5))
    rows = []
    for form in ("level", "level+slope", "pulse", "decay"):
        opts = _form_options(base, form, rate)
        ssr, n, k = _ols_ssr(y, month, doy, ids, starts, opts)
        k += 1 + (form == "decay")  # + the error variance (+ the rate)
        loglik = -0.5 * n * (math.log(2.0 * math.pi * max(ssr, 1e-300) / n) + 1.0)
        rows.append(
            {
                "form": form,
                "n_params": k,
                "rate": rate if form == "decay" else np.nan,
                "loglik": loglik,
                "aic": -2.0 * loglik + 2.0 * k,
                "bic": -2.0 * loglik + k * math.log(n),
            }
        )
    out = pd.DataFrame(rows)
    out["delta"] = out[form_ic] - out[form_ic].min()
    out["best"] = out["delta"] == 0.0
    return out[list(FORM_COLUMNS)]


def _fitted_options(
    form: str, base: _DesignOptions, forms: pd.DataFrame | None
) -> tuple[_DesignOptions, str]:
    """Design options of the reported fit and the name of its form."""
    if form == "level" or forms is None:
        return base, form
    if form == "compare":
        best = str(forms.loc[forms["best"], "form"].iloc[0])
        chosen = _form_options(base, best, float(forms.set_index("form").loc["decay", "rate"]))
        return chosen, "level" if best == "level+slope" else best
    if form == "decay":
        return _form_options(
            base, "decay", float(forms.set_index("form").loc["decay", "rate"])
        ), form
    return base, form


# ======================================================================================
# input handling
# ======================================================================================
@dataclass(frozen=True, slots=True)
class _Placed:
    id: str
    date: pd.Timestamp
    containing: int  # grid position of the period containing the event date
    first: int  # grid position of the first treated period


def _validate_series(series: Any, name: str) -> pd.Series:
    if not isinstance(series, pd.Series):
        raise EstimationError(f"needs a pandas Series, got {type(series).__name__}")
    if not isinstance(series.index, pd.DatetimeIndex):
        raise EstimationError(
            f"series {name} needs a DatetimeIndex, got {type(series.index).__name__}"
        )
    try:
        values = pd.to_numeric(series, errors="raise").astype("float64")
    except (TypeError, ValueError) as exc:
        raise EstimationError(f"series {name} needs numeric values, got {series.dtype}") from exc
    idx = series.index
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    out = pd.Series(values.to_numpy(), index=idx.normalize(), name=name).sort_index()
    if out.index.has_duplicates:
        dup = out.index[out.index.duplicated()][0]
        raise EstimationError(f"series {name} needs unique dates, got {dup:%Y-%m-%d} twice")
    if len(out) < 2:
        raise EstimationError(f"series {name} needs at least 2 observations, got {len(out)}")
    return out


def _infer_frequency(idx: pd.DatetimeIndex, frequency: str | None, name: str) -> Freq:
    aliases = {
        "weekly": "weekly",
        "w": "weekly",
        "monthly": "monthly",
        "m": "monthly",
        "ms": "monthly",
    }
    if frequency is not None:
        key = str(frequency).lower()
        if key not in aliases:
            raise EstimationError(
                f"frequency must be 'weekly' or 'monthly', got {frequency!r} (series={name})"
            )
        return aliases[key]  # type: ignore[return-value]
    gaps = np.diff(idx.as_unit("ns").asi8) / 86_400e9
    med = float(np.median(gaps))
    if 6.0 <= med <= 8.0:
        return "weekly"
    if 27.0 <= med <= 32.0:
        return "monthly"
    raise EstimationError(
        f"cannot infer the frequency of {name}: needed weekly (7-day) or monthly spacing, got "
        f"a median spacing of {med:g} days; pass frequency='weekly' or 'monthly' (daily "
        "series belong in the event study)"
    )


def _regularize(y: pd.Series, freq: Freq, name: str) -> pd.Series:
    """Reindex onto the complete period grid, missing periods as NaN."""
    if freq == "monthly":
        idx = y.index.to_period("M").to_timestamp()
        if idx.has_duplicates:
            dup = idx[idx.duplicated()][0]
            raise EstimationError(
                f"monthly series {name} needs one value per month, got two in {dup:%Y-%m}"
            )
        y = pd.Series(y.to_numpy(), index=idx, name=name)
        grid = pd.date_range(idx[0], idx[-1], freq="MS")
    else:
        days = (y.index - y.index[0]).days
        bad = np.asarray(days) % 7 != 0
        if bad.any():
            raise EstimationError(
                f"weekly series {name} needs dates 7 days apart (one weekday), got "
                f"{y.index[bad][0]:%Y-%m-%d} off the grid starting {y.index[0]:%Y-%m-%d}"
            )
        grid = pd.date_range(y.index[0], y.index[-1], freq="7D")
    grid = pd.DatetimeIndex(grid, name="date").as_unit("ns")
    return y.reindex(grid)


def _event_date(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(EVENT_TZ).tz_localize(None)
    return ts.normalize()


def _is_event_like(obj: Any) -> bool:
    return hasattr(obj, "timestamp") and hasattr(obj, "id") and not isinstance(obj, pd.Timestamp)


def _resolve_events(events: Any) -> list[tuple[str, pd.Timestamp]]:
    catalog: list[Any] = []  # lazily loaded, at most once

    def lookup(ev_id: str) -> tuple[str, pd.Timestamp]:
        if not catalog:
            try:
                from ..events import load_catalog  # type: ignore[attr-defined]
            except ImportError as exc:
                raise EstimationError(
                    f"event id {ev_id!r} needs the event catalog (oilimpact.events), which "
                    "is not available; pass a mapping id -> date instead"
                ) from exc
            catalog.append(load_catalog())
        try:
            ev = catalog[0][ev_id]
        except KeyError as exc:
            known = ", ".join(sorted(map(str, catalog[0])))
            raise EstimationError(f"unknown event id {ev_id!r}; known ids: {known}") from exc
        return str(getattr(ev, "id", ev_id)), _event_date(ev.timestamp)

    def one(item: Any, key: Any = None) -> tuple[str, pd.Timestamp]:
        if _is_event_like(item):
            return str(key if key is not None else item.id), _event_date(item.timestamp)
        if key is not None:
            try:
                return str(key), _event_date(item)
            except (TypeError, ValueError) as exc:
                raise EstimationError(f"event {key!r} needs a date, got {item!r}") from exc
        if isinstance(item, str):
            if _ISO_DATE.match(item.strip()):
                return item.strip(), _event_date(item)
            return lookup(item)
        if isinstance(item, tuple) and len(item) == 2:
            return one(item[1], key=item[0])
        if isinstance(item, pd.Timestamp | _dt.date | np.datetime64):
            d = _event_date(item)
            return f"{d:%Y-%m-%d}", d
        raise EstimationError(
            f"each event must be an Event, an event id, a date or an (id, date) pair, got {item!r}"
        )

    if isinstance(events, Mapping) and not _is_event_like(events):
        return [one(v, key=k) for k, v in events.items()]
    if isinstance(events, str | pd.Timestamp | _dt.date | np.datetime64) or _is_event_like(events):
        return [one(events)]
    if isinstance(events, Iterable):
        return [one(item) for item in events]
    raise EstimationError(f"events must be Events, ids or a mapping id -> date, got {events!r}")


def _containing_position(grid: pd.DatetimeIndex, date: pd.Timestamp, freq: Freq) -> int | None:
    """Grid position of the period whose span contains ``date`` (None when outside)."""
    if freq == "monthly":
        month = date.to_period("M").to_timestamp()
        pos = grid.get_indexer([month])[0]
        return None if pos < 0 else int(pos)
    # weekly: labels are period (week-ending) dates, span (label - 7 days, label]
    pos = int(grid.searchsorted(date, side="left"))
    if pos >= len(grid):
        return None
    if pos == 0 and date <= grid[0] - pd.Timedelta(days=7):
        return None
    return pos


def _label(ts: pd.Timestamp, freq: str) -> str:
    return f"{ts:%Y-%m}" if freq == "monthly" else f"week of {ts:%Y-%m-%d}"


def _merge_close(
    placed: list[_Placed],
    grid: pd.DatetimeIndex,
    freq: Freq,
    how: str,
    collected: list[tuple[type[Warning], str]],
) -> list[_Placed]:
    placed = sorted(placed, key=lambda p: (p.first, p.date))
    merged: list[_Placed] = []
    for p in placed:
        if merged and merged[-1].first == p.first:
            q = merged[-1]
            msg = (
                f"events {q.id} ({q.date:%Y-%m-%d}) and {p.id} ({p.date:%Y-%m-%d}) start in "
                f"the same {freq} period {_label(grid[p.first], freq)}: a {freq} series "
                "cannot separate them"
            )
            if how == "raise":
                raise EstimationError(
                    msg + "; needed events in different periods, got the same period "
                    "(pass close_events='merge' to estimate them as one event)"
                )
            new = _Placed(f"{q.id}+{p.id}", q.date, q.containing, q.first)
            collected.append((CloseEventsWarning, msg + f"; estimated as one event '{new.id}'"))
            merged[-1] = new
        else:
            merged.append(p)
    for a, b in zip(merged, merged[1:], strict=False):
        if b.first - a.first == 1:
            collected.append(
                (
                    CloseEventsWarning,
                    f"events {a.id} ({a.date:%Y-%m-%d}) and {b.id} ({b.date:%Y-%m-%d}) start "
                    f"in adjacent {freq} periods {_label(grid[a.first], freq)} and "
                    f"{_label(grid[b.first], freq)}: each has its own regressors, but "
                    f"{a.id}'s own effect rests on the one period {_label(grid[a.first], freq)} "
                    f"(a slope of {a.id} is not identified), so part of what {b.id} did may "
                    f"be credited to {a.id} or the reverse; read them jointly (the 'average' "
                    "row)",
                )
            )
    return merged


def _resolve_seasonal(seasonal: str | None, freq: Freq, pre_obs: int) -> Any:
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


def _resolve_unit(unit: str | None, series: pd.Series, name: str) -> str:
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


# ======================================================================================
# design
# ======================================================================================
@dataclass(frozen=True, slots=True)
class _DesignOptions:
    freq: Freq
    trend: bool
    seasonal: str
    fourier_order: int
    step: bool
    slope: bool
    pulse: bool
    decay: float | None = None  # geometric decay rate of form="decay"
    profile: bool = False  # re-profile the decay rate on each placebo sample


def _design_arrays(
    month: np.ndarray,
    doy: np.ndarray,
    ids: list[str],
    starts: list[int],
    opts: _DesignOptions,
) -> tuple[np.ndarray, list[str], list[str]]:
    """Design matrix (numpy), its column names and the event columns in priority order."""
    n = len(month)
    t = np.arange(n, dtype="float64")
    cols: list[np.ndarray] = [np.ones(n)]
    names = ["const"]
    if opts.trend:
        cols.append(t)
        names.append("trend")
    if opts.seasonal == "dummies":
        for m in range(2, 13):
            cols.append((month == m).astype("float64"))
            names.append(f"month_{m:02d}")
    elif opts.seasonal == "fourier":
        frac = (month - 1) / 12.0 if opts.freq == "monthly" else (doy - 1) / 365.25
        for k in range(1, opts.fourier_order + 1):
            cols += [np.sin(2 * np.pi * k * frac), np.cos(2 * np.pi * k * frac)]
            names += [f"sin_{k}", f"cos_{k}"]
    event_cols: list[str] = []
    pairs = list(zip(ids, starts, strict=True))
    terms = (
        ("level", opts.step),
        ("slope", opts.slope),
        ("pulse", opts.pulse),
        ("decay", opts.decay is not None),
    )
    for term, flag in terms:
        if not flag:
            continue
        # levels and decays in time order; slopes and pulses latest event first, so that
        # when the frequency cannot separate close events the term of the earlier
        # (shorter) segment is the one the rank check drops
        for ev, s in pairs if term in ("level", "decay") else pairs[::-1]:
            on = t >= s
            if term == "level":
                v = on.astype("float64")
            elif term == "slope":
                v = (t - s) * on
            elif term == "decay":
                v = np.where(on, float(opts.decay) ** np.maximum(t - s, 0.0), 0.0)  # type: ignore[arg-type]
            else:
                v = (t == s).astype("float64")
            cols.append(v)
            names.append(f"{ev}|{term}")
            event_cols.append(f"{ev}|{term}")
    return np.column_stack(cols), names, event_cols


def _design(
    dates: pd.DatetimeIndex, ids: list[str], starts: list[int], opts: _DesignOptions
) -> tuple[pd.DataFrame, list[str]]:
    """Design matrix over ``dates``; returns the frame and the event columns in order."""
    X, names, event_cols = _design_arrays(
        dates.month.to_numpy(), dates.day_of_year.to_numpy(), ids, starts, opts
    )
    return pd.DataFrame(X, index=dates, columns=names), event_cols


def _identified(X: np.ndarray, names: list[str]) -> list[str]:
    """Columns kept, greedily in order, so that the kept design has full column rank."""
    if X.shape[0] >= X.shape[1] and np.linalg.matrix_rank(X) == X.shape[1]:
        return list(names)
    keep: list[int] = []
    rank = 0
    for j in range(X.shape[1]):
        if not np.any(X[:, j]):
            continue
        r = np.linalg.matrix_rank(X[:, keep + [j]])
        if r > rank:
            keep.append(j)
            rank = r
    return [names[j] for j in keep]


# ======================================================================================
# fits
# ======================================================================================
@dataclass(slots=True)
class _Fit:
    params: pd.Series
    cov: pd.DataFrame
    df: float | None
    nobs: int
    n_params: int
    event_cols: list[str]
    dropped: list[str]
    avg_vec: pd.Series  # contrast of the 'average' effect over params
    fitted: np.ndarray
    cf: np.ndarray
    cf_lower: np.ndarray
    cf_upper: np.ndarray
    hac_lags: int | None
    trend: str | None
    ic_value: dict[str, float]
    cov_type: str | None = None
    hac_rule: str | None = None
    rho: float | None = None
    df_raw: float | None = None  # Satterthwaite df before the floor


def _avg_contrast(X: pd.DataFrame, event_cols: list[str], rows: np.ndarray) -> pd.Series:
    vec = pd.Series(0.0, index=X.columns)
    if rows.any():
        vec[event_cols] = X.loc[rows, event_cols].mean(axis=0).to_numpy()
    return vec


@dataclass(frozen=True, slots=True)
class _CovEst:
    cov: np.ndarray
    df: float
    lags: int
    rule: str
    rho: float | None
    df_raw: float | None = None


_NW_RULE = "Newey-West (1994) floor(4 (T/100)^(2/9))"
_ANDREWS_RULE = "Andrews (1991) AR(1) plug-in on the prewhitened residuals"
_USER_RULE = "set by hac_lags"


def _segmented_cov(
    X: np.ndarray, u: np.ndarray, cov: str, hac_lags: int | None, df_floor: float = 0.0
) -> _CovEst:
    """Covariance of the OLS coefficients and the df of the t reference (see Notes)."""
    n, k = X.shape
    if cov == "hac":
        lags = int(hac_lags) if hac_lags is not None else newey_west_lags(n)
        rule = _USER_RULE if hac_lags is not None else _NW_RULE
        return _CovEst(_nw_cov(X, u, lags), float(n - k), lags, rule, None, float(n - k))
    est = _prewhitened_cov(X, u, hac_lags)
    return replace(est, df=max(est.df, float(df_floor)), df_raw=est.df)


def _nw_cov(X: np.ndarray, u: np.ndarray, lags: int) -> np.ndarray:
    """Newey-West sandwich with Bartlett weights ``1 - l/(lags+1)`` and factor n/(n-k)."""
    xu = X * u[:, None]
    S = xu.T @ xu
    for lag in range(1, min(lags, len(u) - 1) + 1):
        w = 1.0 - lag / (lags + 1.0)
        G = xu[lag:].T @ xu[:-lag]
        S += w * (G + G.T)
    H = np.linalg.pinv(X.T @ X)
    n, k = X.shape
    return H @ S @ H * (n / (n - k))


def _r1_moments(Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polynomial coefficients of ``E[sum e_t e_(t-1)]`` and ``E[sum e_t^2]`` in rho.

    For OLS residuals ``e = M u`` with AR(1) errors of unit variance,
    ``E[e'Je] = tr(M J M R)`` and ``E[e'e] = tr(M R)``, where ``M = I - QQ'``, ``J``
    is the lag-one shift and ``R = [rho^|s-t|]``. Both are Frobenius products
    ``<W, R>``, so the coefficient of ``rho^h`` is the sum of ``W`` over the cells with
    ``|s - t| = h``.
    """
    n = Q.shape[0]
    G = Q @ Q.T
    A = np.zeros((n, n))
    A[:, 1:] = -G[:, :-1]  # -G J
    A[:-1] -= G[1:]  # -J G
    A += (Q @ (Q[:-1].T @ Q[1:])) @ Q.T  # G J G
    A[np.arange(n - 1), np.arange(1, n)] += 1.0  # J
    ij = np.arange(n)
    lag = np.abs(ij[:, None] - ij[None, :]).ravel()
    c_num = np.bincount(lag, weights=((A + A.T) / 2.0).ravel(), minlength=n)
    c_den = -np.bincount(lag, weights=G.ravel(), minlength=n)
    c_den[0] += n
    return c_num, c_den


def _expected_r1(rho: float, moments: tuple[np.ndarray, np.ndarray]) -> float:
    """Expected lag-one autocorrelation ``tr(M J M R) / tr(M R)`` of OLS residuals."""
    c_num, c_den = moments
    powers = rho ** np.arange(len(c_num), dtype="float64")
    return float(powers @ c_num) / float(powers @ c_den)


def _solve_rho(r1: float, moments: tuple[np.ndarray, np.ndarray]) -> float:
    """The AR(1) coefficient whose expected residual autocorrelation is ``r1``.

    Secant iterations from ``r1`` (the map is close to a shift, so a few evaluations
    suffice), bounded by ``PREWHITEN_RHO_MAX``; bisection as a fallback.
    """
    lo, hi = -PREWHITEN_RHO_MAX, PREWHITEN_RHO_MAX

    def f(r: float) -> float:
        return _expected_r1(r, moments) - r1

    tol = 1e-12
    x0 = min(max(r1, lo), hi)
    f0 = f(x0)
    if abs(f0) < tol:
        return x0
    x1 = min(max(x0 - f0, lo), hi)
    if x1 == x0:  # at a bound and the root lies beyond it
        return x0
    f1 = f(x1)
    for _ in range(50):
        if abs(f1) < tol:
            return x1
        if f1 == f0:
            break
        x2 = min(max(x1 - f1 * (x1 - x0) / (f1 - f0), lo), hi)
        if x2 == x1:
            return x1
        x0, f0, x1, f1 = x1, f1, x2, f(x2)
    from scipy.optimize import brentq

    if f(lo) >= 0:
        return lo
    if f(hi) <= 0:
        return hi
    return float(brentq(f, lo, hi, xtol=1e-14))


def _prewhitened_cov(X: np.ndarray, u: np.ndarray, hac_lags: int | None) -> _CovEst:
    """AR(1)-prewhitened Newey-West estimate of the error autocovariances (Notes)."""
    from scipy.linalg import toeplitz

    n, k = X.shape
    uu = float(u @ u)
    df_ols = float(n - k)
    if not uu > 0 or n < 3:
        lags = int(hac_lags) if hac_lags is not None else 0
        rule = _USER_RULE if hac_lags is not None else _ANDREWS_RULE
        return _CovEst(np.zeros((k, k)), df_ols, lags, rule, 0.0)
    Q, Rx = np.linalg.qr(X)
    rho = _solve_rho(float(u[1:] @ u[:-1]) / uu, _r1_moments(Q))
    v = u[1:] - rho * u[:-1]
    m = len(v)
    if hac_lags is not None:
        lags, rule = min(int(hac_lags), m - 1), _USER_RULE
    else:
        vv = float(v[:-1] @ v[:-1])
        r = float(v[1:] @ v[:-1]) / vv if vv > 0 else 0.0
        r = min(max(r, -PREWHITEN_RHO_MAX), PREWHITEN_RHO_MAX)
        a = 4.0 * r**2 / ((1.0 - r) ** 2 * (1.0 + r) ** 2)
        lags, rule = min(int(math.floor(1.1447 * (a * m) ** (1.0 / 3.0))), m - 1), _ANDREWS_RULE
    gv = np.array([float(v[lag:] @ v[: m - lag]) / m for lag in range(lags + 1)])
    gv *= 1.0 - np.arange(lags + 1) / (lags + 1.0)
    h = np.arange(n, dtype="float64")
    gu = gv[0] * rho**h
    for lag in range(1, lags + 1):
        gu = gu + gv[lag] * (rho ** np.abs(h - lag) + rho ** (h + lag))
    omega_q = toeplitz(gu / (1.0 - rho**2)) @ Q
    qoq = Q.T @ omega_q
    tr_mo = float(gu[0] / (1.0 - rho**2)) * n - float(np.trace(qoq))
    if not tr_mo > 0:
        return _CovEst(np.zeros((k, k)), df_ols, int(lags), rule, rho)
    # (X'X)^-1 X' Omega X (X'X)^-1 = R^-1 Q' Omega Q R^-T with X = QR
    r_inv = np.linalg.inv(Rx)
    cov = r_inv @ qoq @ r_inv.T * (uu / tr_mo)
    cov = (cov + cov.T) / 2.0
    df = 1.0 / (1.0 / df_ols + 2.0 * (1.0 + rho) / ((1.0 - rho) * (n - 1.0)))
    return _CovEst(cov, float(df), int(lags), rule, rho)


def _fit_segmented(
    y: np.ndarray,
    dates: pd.DatetimeIndex,
    ids: list[str],
    starts: list[int],
    opts: _DesignOptions,
    hac_lags: int | None,
    cov_type: str,
    alpha: float,
    post_mask: np.ndarray,
    df_floor: float = 0.0,
) -> _Fit:
    X_full, ev_all = _design(dates, ids, starts, opts)
    obs = np.isfinite(y)
    kept = _identified(X_full.to_numpy()[obs], list(X_full.columns))
    dropped = [c for c in ev_all if c not in kept]
    X = X_full[kept]
    event_cols = [c for c in ev_all if c in kept]
    nobs = int(obs.sum())
    if nobs <= X.shape[1]:
        raise EstimationError(
            f"segmented regression needs more observations than its {X.shape[1]} "
            f"parameters, got {nobs}"
        )
    Xo = X.to_numpy()[obs]
    beta, *_ = np.linalg.lstsq(Xo, y[obs], rcond=None)
    est = _segmented_cov(Xo, y[obs] - Xo @ beta, cov_type, hac_lags, df_floor)
    params = pd.Series(beta, index=kept)
    cov = pd.DataFrame(est.cov, index=kept, columns=kept)
    fitted = X.to_numpy() @ beta
    X_cf = X.to_numpy().copy()
    X_cf[:, [kept.index(c) for c in event_cols]] = 0.0
    cf = X_cf @ beta
    half = stats.t.ppf(1 - alpha / 2, est.df) * np.sqrt(
        np.maximum(np.sum((X_cf @ est.cov) * X_cf, axis=1), 0.0)
    )
    return _Fit(
        params=params,
        cov=cov,
        df=est.df,
        nobs=nobs,
        n_params=len(kept),
        event_cols=event_cols,
        dropped=dropped,
        avg_vec=_avg_contrast(X, event_cols, post_mask & obs),
        fitted=fitted,
        cf=cf,
        cf_lower=cf - half,
        cf_upper=cf + half,
        hac_lags=est.lags,
        trend=None,
        ic_value={},
        cov_type=cov_type,
        hac_rule=est.rule,
        rho=est.rho,
        df_raw=est.df_raw,
    )


def _sarimax_parts(
    y: np.ndarray,
    dates: pd.DatetimeIndex,
    ids: list[str],
    starts: list[int],
    opts: _DesignOptions,
    d: int,
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Exog of the regression with SARIMA errors: deterministic and event terms.

    All deterministic terms are regressors (``trend="n"`` in statsmodels): constant and
    trend for ``d = 0``; for ``d = 1`` the constant is dropped (not identified under
    integrated errors) and the trend regressor acts as a drift.
    """
    X_full, ev_all = _design(dates, ids, starts, opts)
    if d > 0:
        X_full = X_full.drop(columns="const")
    obs = np.isfinite(y)
    kept = _identified(X_full.to_numpy()[obs], list(X_full.columns))
    dropped = [c for c in ev_all if c not in kept]
    exog = X_full[kept].reset_index(drop=True)
    return exog, [c for c in ev_all if c in kept], dropped


def _sarimax_model(
    y: np.ndarray,
    exog: pd.DataFrame | None,
    order: tuple[int, int, int],
    s_order: tuple[int, int, int, int] | None,
) -> Any:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    return SARIMAX(
        pd.Series(y),
        exog=exog if exog is not None and exog.shape[1] else None,
        order=order,
        seasonal_order=s_order or (0, 0, 0, 0),
        trend="n",
        concentrate_scale=True,
    )


def _quiet_fit(mod: Any, cov_type: str = "oim") -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mod.fit(disp=False, maxiter=SARIMAX_MAXITER, cov_type=cov_type)


def _standardize(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(y - m) / sd`` for numerically stable likelihood optimisation."""
    fin = y[np.isfinite(y)]
    m = float(fin.mean()) if fin.size else 0.0
    sd = float(fin.std()) if fin.size > 1 else 1.0
    if not np.isfinite(sd) or sd <= 0:
        sd = 1.0
    return (y - m) / sd, m, sd


def _ic_original_scale(res: Any, y: np.ndarray, sd: float) -> dict[str, float]:
    """AIC and BIC of the fit expressed for the unstandardised series (Jacobian term)."""
    n_eff = int(np.isfinite(y).sum()) - int(getattr(res, "loglikelihood_burn", 0))
    shift = 2.0 * n_eff * math.log(sd)
    return {"aic": float(res.aic) + shift, "bic": float(res.bic) + shift}


def _select_order(
    y: np.ndarray,
    dates: pd.DatetimeIndex,
    ids: list[str],
    starts: list[int],
    opts: _DesignOptions,
    max_order: tuple[int, int, int],
    s_order: tuple[int, int, int, int] | None,
    ic: str,
) -> tuple[tuple[int, int, int], pd.DataFrame]:
    if len(max_order) != 3 or min(max_order) < 0:
        raise EstimationError(f"max_order must be (p, d, q) of non-negative ints, got {max_order}")
    pmax, dmax, qmax = (int(v) for v in max_order)
    if dmax > 1 or pmax > 2 or qmax > 2:
        raise EstimationError(
            f"max_order bounds are p, q <= 2 and d <= 1 (SARIMAX fits are slow), got {max_order}"
        )
    ys, _, sd = _standardize(y)
    rows = []
    for d in range(dmax + 1):
        exog, _, _ = _sarimax_parts(y, dates, ids, starts, opts, d)
        for p in range(pmax + 1):
            for q in range(qmax + 1):
                try:
                    res = _quiet_fit(_sarimax_model(ys, exog, (p, d, q), s_order), "none")
                    conv = bool(res.mle_retvals.get("converged", True))
                    crit = _ic_original_scale(res, y, sd)
                    rows.append({"p": p, "d": d, "q": q, **crit, "converged": conv})
                except Exception:  # noqa: BLE001 - a failing candidate is recorded, not fatal
                    rows.append(
                        {"p": p, "d": d, "q": q, "aic": np.nan, "bic": np.nan, "converged": False}
                    )
    cand = pd.DataFrame(rows, columns=["p", "d", "q", "aic", "bic", "converged"])
    pool = cand[cand["converged"] & np.isfinite(cand[ic])]
    if pool.empty:
        pool = cand[np.isfinite(cand[ic])]
    if pool.empty:
        raise EstimationError(
            f"SARIMAX order search needs at least one candidate that fits, got none of {len(cand)}"
        )
    best = pool.loc[pool[ic].idxmin()]
    cand["chosen"] = (cand["p"] == best.p) & (cand["d"] == best.d) & (cand["q"] == best.q)
    return (int(best.p), int(best.d), int(best.q)), cand


def _fit_sarimax(
    y: np.ndarray,
    dates: pd.DatetimeIndex,
    ids: list[str],
    starts: list[int],
    opts: _DesignOptions,
    order: tuple[int, int, int],
    s_order: tuple[int, int, int, int] | None,
    alpha: float,
    post_mask: np.ndarray,
    *,
    cf_from: int | None,
) -> _Fit:
    exog, event_cols, dropped = _sarimax_parts(y, dates, ids, starts, opts, order[1])
    ys, m, sd = _standardize(y)
    mod = _sarimax_model(ys, exog, order, s_order)
    res = _quiet_fit(mod)
    names = list(mod.param_names)
    exog_names = list(exog.columns)
    # back to the unit of y: exog coefficients scale by sd, the constant also shifts by m
    scale = np.array([sd if nm in exog_names else 1.0 for nm in names])
    raw = np.asarray(res.params, dtype="float64")
    params = pd.Series(raw * scale, index=names)
    if "const" in names:
        params["const"] += m
    cov = pd.DataFrame(
        np.asarray(res.cov_params()) * np.outer(scale, scale), index=names, columns=names
    )
    obs = np.isfinite(y)
    nobs = int(obs.sum())
    avg = pd.Series(0.0, index=names)
    if event_cols and (post_mask & obs).any():
        avg[event_cols] = exog.loc[post_mask & obs, event_cols].mean(axis=0).to_numpy()
    burn = order[1] + (s_order[1] * s_order[3] if s_order else 0)
    fitted = m + sd * np.asarray(res.fittedvalues, dtype="float64")
    fitted[:burn] = np.nan
    n = len(y)
    cf = np.full(n, np.nan)
    cf_lo = np.full(n, np.nan)
    cf_hi = np.full(n, np.nan)
    if cf_from is not None:
        y_cf = ys.copy()
        y_cf[cf_from:] = np.nan
        ex_cf = exog.copy()
        ex_cf[event_cols] = 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res_cf = _sarimax_model(y_cf, ex_cf, order, s_order).filter(raw)
            pred = res_cf.get_prediction()
            ci = np.asarray(pred.conf_int(alpha=alpha), dtype="float64")
        cf = m + sd * np.asarray(pred.predicted_mean, dtype="float64")
        cf_lo, cf_hi = m + sd * ci[:, 0], m + sd * ci[:, 1]
        for arr in (cf, cf_lo, cf_hi):
            arr[:burn] = np.nan
    return _Fit(
        params=params,
        cov=cov,
        df=None,
        nobs=nobs,
        n_params=len(names) + 1,  # + the concentrated innovation variance
        event_cols=event_cols,
        dropped=dropped,
        avg_vec=avg,
        fitted=fitted,
        cf=cf,
        cf_lower=cf_lo,
        cf_upper=cf_hi,
        hac_lags=None,
        trend="drift" if (order[1] > 0 and opts.trend) else ("ct" if opts.trend else "c"),
        ic_value=_ic_original_scale(res, y, sd),
    )


def _effect_stats(fit: _Fit) -> pd.DataFrame:
    """Estimate, se and reference distribution of every event term and the average."""
    rows = []
    for col in fit.event_cols:
        ev, term = col.split("|")
        est = float(fit.params[col])
        se = float(math.sqrt(max(fit.cov.loc[col, col], 0.0)))
        rows.append((ev, term, est, se))
    if fit.event_cols:
        c = fit.avg_vec.reindex(fit.params.index).to_numpy()
        V = fit.cov.to_numpy()
        est = float(c @ fit.params.to_numpy())
        se = float(math.sqrt(max(c @ V @ c, 0.0)))
        rows.append(("all", "average", est, se))
    out = pd.DataFrame(rows, columns=["event", "term", "estimate", "se"])
    out.attrs["df"] = fit.df
    return out


# ======================================================================================
# placebo
# ======================================================================================
def _fast_ols(y: np.ndarray, X: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficients and their plain Newey-West HAC covariance, in numpy.

    Same estimator as ``statsmodels`` ``OLS.fit(cov_type="HAC", cov_kwds={"maxlags":
    lags, "use_correction": True})`` (Bartlett weights ``1 - l / (lags + 1)``, factor
    ``n / (n - k)``); ``cov="hac"``.
    """
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    return beta, _nw_cov(X, y - X @ beta, lags)


def _run_placebo(
    *,
    yv: np.ndarray,
    grid: pd.DatetimeIndex,
    placed: list[_Placed],
    s0: int,
    s1: int,
    pre_periods: int | None,
    min_pre: int,
    opts: _DesignOptions,
    model: Model,
    hac_lags: int | None,
    cov: str,
    order: tuple[int, int, int] | None,
    s_order: tuple[int, int, int, int] | None,
    cap: int | None,
    alpha: float,
) -> pd.DataFrame:
    e1 = placed[0].first
    c1 = placed[0].containing
    offset = e1 - c1  # 1 with start="next"
    post_len = s1 - e1 + 1
    rel = [p.first - e1 for p in placed]
    ids = [p.id for p in placed]
    finite = np.isfinite(yv)
    cum = np.concatenate([[0], np.cumsum(finite)])
    taus = []
    for tau in range(1, c1 - post_len + 1):
        ps0 = 0 if pre_periods is None else max(0, tau - pre_periods)
        if cum[tau - offset] - cum[ps0] < min_pre:
            continue
        if cum[tau + post_len] - cum[tau] == 0:
            continue
        taus.append(tau)
    if cap is not None and len(taus) > cap:
        pick = np.unique(np.round(np.linspace(0, len(taus) - 1, cap)).astype(int))
        taus = [taus[i] for i in pick]
    rows: list[tuple[pd.Timestamp, str, str, float, float]] = []
    month_all = grid.month.to_numpy()
    doy_all = grid.day_of_year.to_numpy()
    for tau in taus:
        ps0 = 0 if pre_periods is None else max(0, tau - pre_periods)
        pe = tau + post_len  # exclusive end
        dates = grid[ps0:pe]
        y = yv[ps0:pe]
        starts = [tau - ps0 + r for r in rel]
        post_mask = np.arange(len(dates)) >= (tau - ps0)
        pseudo = grid[tau]
        try:
            if model == "segmented":
                stats_ = _placebo_segmented(
                    y,
                    month_all[ps0:pe],
                    doy_all[ps0:pe],
                    ids,
                    starts,
                    opts,
                    hac_lags,
                    cov,
                    post_mask,
                )
            else:
                assert order is not None
                fit = _fit_sarimax(
                    y, dates, ids, starts, opts, order, s_order, alpha, post_mask, cf_from=None
                )
                stats_ = list(_effect_stats(fit).itertuples(index=False, name=None))
        except (np.linalg.LinAlgError, ValueError, EstimationError):
            continue
        for ev, term, est, se in stats_:
            stat = est / se if se and se > 0 else np.nan
            rows.append((pseudo, ev, term, float(est), float(stat)))
    return pd.DataFrame(rows, columns=["pseudo_date", "event", "term", "estimate", "stat"])


def _placebo_segmented(
    y: np.ndarray,
    month: np.ndarray,
    doy: np.ndarray,
    ids: list[str],
    starts: list[int],
    opts: _DesignOptions,
    hac_lags: int | None,
    cov_type: str,
    post_mask: np.ndarray,
) -> list[tuple[str, str, float, float]]:
    """Placebo refit in numpy: (event, term, estimate, se) of the event terms and average.

    With ``form="decay"`` the decay rate is profiled again on the placebo sample.
    """
    if opts.profile:
        opts = replace(opts, decay=_profile_decay(y, month, doy, ids, starts, opts))
    X_all, names, ev_all = _design_arrays(month, doy, ids, starts, opts)
    obs = np.isfinite(y)
    kept = _identified(X_all[obs], names)
    pos_all = {c: i for i, c in enumerate(names)}
    idx = [pos_all[c] for c in kept]
    Xk = X_all[:, idx]
    Xo = Xk[obs]
    nobs = Xo.shape[0]
    if nobs <= Xo.shape[1]:
        raise EstimationError("too few observations")
    beta, *_ = np.linalg.lstsq(Xo, y[obs], rcond=None)
    cov = _segmented_cov(Xo, y[obs] - Xo @ beta, cov_type, hac_lags).cov
    rows: list[tuple[str, str, float, float]] = []
    pos = {c: i for i, c in enumerate(kept)}
    ev_kept = [c for c in ev_all if c in pos]
    for col in ev_kept:
        ev, term = col.split("|")
        i = pos[col]
        rows.append((ev, term, float(beta[i]), float(math.sqrt(max(cov[i, i], 0.0)))))
    rows_mask = post_mask & obs
    if ev_kept and rows_mask.any():
        c = np.zeros(len(kept))
        for col in ev_kept:
            c[pos[col]] = Xk[rows_mask, pos[col]].mean()
        rows.append(("all", "average", float(c @ beta), float(math.sqrt(max(c @ cov @ c, 0.0)))))
    return rows


def _effects_frame(
    real: pd.DataFrame,
    plac: pd.DataFrame,
    placebo_stat: str,
    pre_mean: float,
    alpha: float,
    event_ids: list[str] | None = None,
) -> pd.DataFrame:
    df = real.attrs.get("df")
    est = real["estimate"].to_numpy(dtype="float64")
    se = real["se"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
    if df:
        q = stats.t.ppf(1 - alpha / 2, df)
        pvalue = 2 * stats.t.sf(np.abs(stat), df)
    else:
        q = stats.norm.ppf(1 - alpha / 2)
        pvalue = 2 * stats.norm.sf(np.abs(stat))
    lower, upper = est - q * se, est + q * se
    scale = 100.0 / pre_mean if pre_mean and np.isfinite(pre_mean) else np.nan
    key = "estimate" if placebo_stat == "estimate" else "stat"
    pool: dict[tuple[str, str], np.ndarray] = {}
    if len(plac):
        for (ev, term), grp in plac.groupby(["event", "term"], sort=False):
            vals = grp[key].to_numpy(dtype="float64")
            pool[(str(ev), str(term))] = vals[np.isfinite(vals)]
    events = [str(e) for e in real["event"]]
    terms = [str(t) for t in real["term"]]
    pvals, counts = [], []
    for ev, term, e_i, t_i in zip(events, terms, est, stat, strict=True):
        sel = pool.get((ev, term), np.empty(0))
        real_v = e_i if key == "estimate" else t_i
        if len(sel) and np.isfinite(real_v):
            hits = int((np.abs(sel) >= abs(real_v) - 1e-12 * abs(real_v)).sum())
            pvals.append((1 + hits) / (1 + len(sel)))
        else:
            pvals.append(np.nan)
        counts.append(len(sel))
    out = pd.DataFrame(
        {
            "event": events,
            "term": terms,
            "estimate": est,
            "se": se,
            "stat": stat,
            "pvalue": pvalue,
            "ci_lower": lower,
            "ci_upper": upper,
            "pct_of_pre_mean": est * scale,
            "pct_ci_lower": np.minimum(lower * scale, upper * scale),
            "pct_ci_upper": np.maximum(lower * scale, upper * scale),
            "placebo_pvalue": np.asarray(pvals, dtype="float64"),
            "n_placebo": np.asarray(counts, dtype="int64"),
        },
        columns=list(EFFECT_COLUMNS),
    )
    # events in time order (``event_ids``), then "all"; terms in _TERM_ORDER
    known = list(event_ids or []) + [
        ev for ev in dict.fromkeys(events) if ev not in (event_ids or [])
    ]
    event_order = {ev: i for i, ev in enumerate(known)}
    order = sorted(
        range(len(out)), key=lambda i: (event_order[events[i]], _TERM_ORDER.get(terms[i], 99))
    )
    return out.iloc[order].reset_index(drop=True)
