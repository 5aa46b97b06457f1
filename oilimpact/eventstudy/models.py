r"""Normal-return models, fitted for N (event, asset) pairs at once.

:func:`fit_panel` is the array entry point of the event-study engine: it takes the
estimation-window and event-window returns of N pairs as stacked arrays, fits the
normal-return model of every pair by batched least squares (closed-form masked sums
for the market model, stacked ``(N, F, F)`` normal equations of the centred regressors
otherwise, with a per-pair mask for missing days -- there is no Python loop over pairs)
and returns the :class:`~oilimpact.eventstudy.panel.AbnormalPanel`
that the inference layer reads.

Models (MacKinlay 1997, section 4; Brown and Warner 1985, section 2):

``zero_mean``
    :math:`AR_t = R_t`, no parameter.
``constant_mean``
    :math:`AR_t = R_t - \hat\mu`, one parameter.
``market_adjusted``
    :math:`AR_t = R_t - R_{m,t}`, no parameter.
``market``
    :math:`AR_t = R_t - \hat\alpha - \hat\beta R_{m,t}` (OLS on the market), two.
``multifactor``
    :math:`AR_t = R_t - \hat\alpha - \sum_f \hat\beta_f F_{f,t}` for any factor returns
    (an equity index, a dollar index, an oil factor), ``1 + F``.
``market_garch``, ``market_gjr``
    The market model with GARCH(1,1) or GJR-GARCH(1,1,1) errors fitted by ``arch``
    (:mod:`oilimpact.eventstudy.garch_engine`): each AR is scaled by the conditional-variance
    forecast of its day; 5 and 6 parameters (mean and variance). One numerical ML fit per
    pair (about 0.05-0.1 s for 240 days), so these suit a few pairs, not thousands.

How the N fits run at once: the regressors are centred on each pair's mean over its
own estimation days (an exact reparametrisation that keeps them well conditioned and
makes :math:`X'X` block-diagonal, so the intercept is the mean return). The market
model's slopes are closed-form masked sums, :math:`\hat\beta_i = S_{xy,i}/S_{xx,i}`,
computed on row blocks (:mod:`~oilimpact.eventstudy.threads`) or, from
:data:`~oilimpact.eventstudy.kernels.MIN_PAIRS` pairs on, by the compiled kernel
:func:`~oilimpact.eventstudy._jit.fit_market` (the same formulas, one pass per row);
F factors are solved by one batched inverse of the :math:`(N, F, F)` matrices
:math:`S_{xx}` plus one step of iterative refinement. The :math:`(N, L_2, L_2)`
prediction-error matrices are built in place with one broadcast outer product (35 MB
in float64 for 10,000 pairs and a 21-day window).

:func:`fit_panel` is a composition of named steps: check the returns and regressors,
find each pair's estimation sample (``_estimation_sample``), fit the model
(``_fit_model``: one function per model family), the residual variance
(``_residual_variance``), the missing days marked (``_mark_missing``), the estudy2
correction where asked (``_estudy2_market_pe``), and the panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import EstimationError
from . import kernels
from .garch_engine import GARCH_MODELS as _GARCH_NAMES
from .garch_engine import fit_engine_panel, garch_info, scale_garch_spanning
from .panel import MARKET_PE, AbnormalPanel, Conventions, panel_store
from .threads import by_rows

__all__ = [
    "GARCH_MODELS",
    "MARKET_MODELS",
    "MODELS",
    "GarchModel",
    "ModelName",
    "fit_panel",
    "n_params",
    "scale_spanning_returns",
]

ModelName = Literal[
    "zero_mean", "constant_mean", "market_adjusted", "market", "multifactor",
    "market_garch", "market_gjr",
]  # fmt: skip
MODELS: tuple[str, ...] = (
    "zero_mean", "constant_mean", "market_adjusted", "market", "multifactor",
    "market_garch", "market_gjr",
)  # fmt: skip
#: The market model with GARCH(1,1) and with GJR-GARCH(1,1,1) errors (``arch``).
GARCH_MODELS: tuple[str, ...] = _GARCH_NAMES
#: The models whose one regressor is the market (they need ``market=``, take no factors).
MARKET_MODELS: tuple[str, ...] = ("market", "market_adjusted", "market_garch", "market_gjr")


class GarchModel(str):
    """A GARCH model name that also carries the estimation window's relative days.

    Equal to (and hashed as) its name, e.g. ``"market_garch"``.
    :func:`oilimpact.eventstudy.spec.study_options` builds it so that :func:`fit_panel`,
    which the engine calls with ``model=opts.model``, knows how many steps ahead each
    event day is forecast (the sessions between the estimation and the event windows
    count). Pickles (a chunk of a distributed study carries it).

    Examples
    --------
    >>> m = GarchModel("market_garch", (-250, -11))
    >>> m == "market_garch", m.estimation_window, repr(m)
    (True, (-250, -11), "'market_garch'")
    """

    estimation_window: tuple[int, int]

    def __new__(cls, name: str, estimation_window: tuple[int, int]) -> GarchModel:
        if name not in GARCH_MODELS:
            raise EstimationError(f"a GARCH model is one of {GARCH_MODELS}, got {name!r}")
        obj = super().__new__(cls, name)
        obj.estimation_window = (int(estimation_window[0]), int(estimation_window[1]))
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (GarchModel, (str(self), self.estimation_window))


def n_params(model: ModelName, n_factors: int = 1) -> int:
    """Number of estimated parameters of ``model`` with ``n_factors`` regressors.

    Examples
    --------
    >>> n_params("market"), n_params("multifactor", 3), n_params("market_adjusted")
    (2, 4, 0)
    >>> n_params("market_garch"), n_params("market_gjr")
    (5, 6)
    """
    if model in ("zero_mean", "market_adjusted"):
        return 0
    if model == "constant_mean":
        return 1
    if model == "market":
        return 2
    if model == "multifactor":
        return 1 + n_factors
    if model == "market_garch":
        return 5  # mu, beta; omega, alpha, beta_g
    if model == "market_gjr":
        return 6  # and gamma
    raise EstimationError(f"model must be one of {MODELS}, got {model!r}")


def _as3d(x: np.ndarray | None, shape: tuple[int, int], what: str) -> np.ndarray | None:
    if x is None:
        return None
    arr = np.asarray(x, dtype="float64")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[:2] != shape:
        raise EstimationError(
            f"{what} must have shape {shape} or {shape + ('F',)}, got {arr.shape}"
        )
    return arr


def fit_panel(
    y_est: np.ndarray,
    y_evt: np.ndarray,
    x_est: np.ndarray | None = None,
    x_evt: np.ndarray | None = None,
    *,
    model: ModelName = "market",
    event_days: Sequence[int] | np.ndarray,
    ids: pd.MultiIndex | None = None,
    event_dates: np.ndarray | None = None,
    conventions: Conventions = "textbook",
    market_mean_all: np.ndarray | None = None,
    market_ss_all: np.ndarray | None = None,
    min_estimation: int | None = None,
    est_days: Sequence[int] | np.ndarray | None = None,
) -> AbnormalPanel:
    r"""Fit the normal-return model of N pairs at once and build the abnormal panel.

    Parameters
    ----------
    y_est, y_evt : ndarray, shape (N, L1) and (N, L2)
        Asset returns on the estimation and event-window days (NaN where missing).
    x_est, x_evt : ndarray, shape (N, L1[, F]) and (N, L2[, F]), optional
        Regressor returns (the market for ``market`` and ``market_adjusted``, the factor
        returns for ``multifactor``); a 2-D array is one factor. A day with any factor
        missing is dropped from the pair's estimation sample.
    model : str
        One of :data:`MODELS` (GARCH models: :mod:`~oilimpact.eventstudy.garch_engine`).
    event_days : sequence of int, length L2
        Relative day numbers of the event-window columns.
    ids : pandas.MultiIndex, optional
        ``(event, asset)`` labels of the pairs; defaults to ``("e0", "a0")``, ... .
    event_dates : ndarray of datetime64[ns], optional
        Calendar date of day 0 of each pair (NaT when not given).
    conventions : {"textbook", "estudy2"}
        ``"textbook"``: :math:`s^2 = SSR / (L_1 - k)` and the exact
        :math:`I + X^*(X'X)^{-1}X^{*\prime}` correction. ``"estudy2"``: the sample
        variance (divisor :math:`L_1 - 1`) and, for the market model,
        :math:`1/L_1 + d_t d_s / S_{mm}` with the market mean and :math:`S_{mm}` over
        all market days of the estimation window (``market_mean_all``,
        ``market_ss_all``, shape (N,); by default the market days present in ``x_est``).
    min_estimation : int, optional
        Minimum usable estimation days per pair; at least ``k + 1`` (GARCH: 100).
    est_days : sequence of int, shape (L1,), optional
        GARCH models: relative days of the estimation columns (default: those of a
        :class:`GarchModel`, else the ``L1`` days before ``event_days[0]``).

    Returns
    -------
    AbnormalPanel
        Also carries the centred design (used by the SQ test's studentisation).

    Raises
    ------
    EstimationError
        Bad shapes, a missing regressor, too few estimation days, or a singular design.

    Notes
    -----
    For pair :math:`i` with design :math:`X_i` (:math:`L_{1,i} \times k`, a column of
    ones and the regressors on its non-missing estimation days):

    .. math::

        \hat\theta_i = (X_i'X_i)^{-1} X_i' R_i, \qquad
        \hat\varepsilon_i = R_i - X_i\hat\theta_i, \qquad
        s_i^2 = \hat\varepsilon_i'\hat\varepsilon_i / (L_{1,i} - k),

    and on the event window :math:`AR^*_i = R^*_i - X^*_i\hat\theta_i` with
    :math:`\operatorname{Var}(AR^*_i) = \sigma_i^2 (I + X^*_i (X_i'X_i)^{-1}
    X^{*\prime}_i)` (MacKinlay 1997, eqs. 7-9; Campbell, Lo and MacKinlay 1997, ch. 4).
    The regressors are centred on their pair mean (the intercept is then the mean
    return and :math:`X^*(X'X)^{-1}X^{*\prime} = 1/L_1 + \tilde x^* S_{xx}^{-1}
    \tilde x^{*\prime}`); how the slopes of all pairs are solved at once is in the
    module's docstring.

    References
    ----------
    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of
    Economic Literature* 35(1), 13-39.

    Brown, S. J. and Warner, J. B. (1985). Using daily stock returns: the case of event
    studies. *Journal of Financial Economics* 14(1), 3-31.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> m = rng.normal(0, 0.01, size=(3, 251))
    >>> y = 0.0002 + 1.2 * m + rng.normal(0, 0.02, size=(3, 251))
    >>> panel = fit_panel(y[:, :240], y[:, 240:], m[:, :240], m[:, 240:],
    ...                   model="market", event_days=np.arange(-5, 6))
    >>> panel.event_ar.shape, panel.pe_cov.shape, panel.n_est.tolist()
    ((3, 11), (3, 11, 11), [240, 240, 240])
    """
    y_est, y_evt, days = _check_returns(y_est, y_evt, event_days, model, conventions)
    n, l1 = y_est.shape
    xe, xv, n_factors = _regressors(x_est, x_evt, model, (n, l1), y_evt.shape)
    k = n_params(model, max(n_factors, 1))
    ids = _default_ids(n) if ids is None else ids
    event_dates = np.full(n, np.datetime64("NaT"), "datetime64[ns]") if event_dates is None else event_dates  # fmt: skip
    if model in GARCH_MODELS:
        return _fit_garch(y_est, y_evt, xe, xv, days, ids, event_dates, model, k, conventions, min_estimation, est_days)  # fmt: skip
    if model == "market" and conventions == "textbook" and kernels.enabled(n):
        return _fit_market_compiled(y_est, y_evt, xe, xv, days, ids, event_dates, k, min_estimation)  # fmt: skip
    return _fit_least_squares(y_est, y_evt, xe, xv, n_factors, days, ids, event_dates, model,
                              k, conventions, min_estimation, (market_mean_all, market_ss_all))  # fmt: skip


# ---- the steps of fit_panel -------------------------------------------------------------


def _fit_least_squares(
    y_est: np.ndarray,
    y_evt: np.ndarray,
    xe: np.ndarray | None,
    xv: np.ndarray | None,
    n_factors: int,
    days: np.ndarray,
    ids: pd.MultiIndex,
    event_dates: np.ndarray,
    model: str,
    k: int,
    conventions: str,
    min_estimation: int | None,
    market_all: tuple[np.ndarray | None, np.ndarray | None],
) -> AbnormalPanel:
    """The OLS models (numpy path): sample, fit, residual variance, missing days, the
    estudy2 correction where asked, and the panel (see :func:`fit_panel`)."""
    market_mean_all, market_ss_all = market_all
    sample = _estimation_sample(y_est, xe if n_factors else None)
    _check_long_enough(sample.n_est, k, conventions, min_estimation, ids)
    fit = _fit_model(sample, y_est, y_evt, xe, xv, model, k, ids)
    sigma2 = _residual_variance(fit.resid, sample, k, conventions)
    _mark_missing(fit, sample, sigma2, k)
    market = (xe[:, :, 0], xv[:, :, 0]) if (xe is not None and xv is not None and n_factors) else None  # fmt: skip
    if conventions == "estudy2" and model == "market":
        fit = replace(fit, pe=_estudy2_market_pe(market, fit.evt_valid, sample.inv_n,
                                                 market_mean_all, market_ss_all))  # fmt: skip
    _blank_missing_days(fit.pe, fit.evt_valid)
    panel = AbnormalPanel(
        ids=ids, est_resid=fit.resid, n_est=sample.n_est.astype(int), n_params=k,
        sigma2=sigma2, event_days=days, event_ar=fit.ar, pe_cov=fit.pe,
        event_dates=np.asarray(event_dates, dtype="datetime64[ns]"),
        est_market=market[0] if market else None, event_market=market[1] if market else None,
        conventions=conventions, design_est=fit.design_est, design_evt=fit.design_evt,
        sxx_inv=fit.sxx_inv,
    )  # fmt: skip
    if model == "market" and conventions == "textbook":
        panel_store(panel)[MARKET_PE] = True  # pe_cov = I + 1/L1_i + d d'/Sxx
    return panel


def _fit_garch(
    y_est: np.ndarray,
    y_evt: np.ndarray,
    xe: np.ndarray | None,
    xv: np.ndarray | None,
    days: np.ndarray,
    ids: pd.MultiIndex,
    event_dates: np.ndarray,
    model: str,
    k: int,
    conventions: str,
    min_estimation: int | None,
    est_days: Sequence[int] | np.ndarray | None,
) -> AbnormalPanel:
    """The GARCH models: :func:`oilimpact.eventstudy.garch_engine.fit_engine_panel` with
    the estimation columns' relative days (``est_days``, or the window a
    :class:`GarchModel` carries)."""
    if conventions != "textbook":
        raise EstimationError(f"model={str(model)!r} has no estudy2 conventions")
    assert xe is not None and xv is not None
    l1 = y_est.shape[1]
    window = getattr(model, "estimation_window", None)
    if est_days is None and window is not None:
        est_days = np.arange(window[0], window[1] + 1)
    if est_days is not None:
        est_days = np.asarray(est_days, dtype="int64")
        if est_days.shape != (l1,):
            raise EstimationError(
                f"est_days must have length {l1} (the estimation columns), got {est_days.shape}"
            )
    return fit_engine_panel(y_est, y_evt, xe, xv, days=days, est_days=est_days, ids=ids,
                            event_dates=event_dates, model=str(model), n_params=k,
                            min_estimation=min_estimation)  # fmt: skip


def _check_returns(
    y_est: np.ndarray,
    y_evt: np.ndarray,
    event_days: Sequence[int] | np.ndarray,
    model: str,
    conventions: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The returns as float arrays and the event days, after checking shapes and names."""
    y_est = np.asarray(y_est, dtype="float64")
    y_evt = np.asarray(y_evt, dtype="float64")
    if y_est.ndim != 2 or y_evt.ndim != 2 or y_est.shape[0] != y_evt.shape[0]:
        raise EstimationError(
            f"y_est and y_evt must be (N, L1) and (N, L2), got {y_est.shape} and {y_evt.shape}"
        )
    l2 = y_evt.shape[1]
    days = np.asarray(event_days, dtype=int)
    if days.shape != (l2,):
        raise EstimationError(f"event_days must have length {l2}, got {days.shape}")
    if l2 > 1 and not (np.diff(days) > 0).all():
        raise EstimationError(f"event_days must be increasing, got {days.tolist()}")
    if model not in MODELS:
        raise EstimationError(f"model must be one of {MODELS}, got {model!r}")
    if conventions not in ("textbook", "estudy2"):
        raise EstimationError(f"conventions must be 'textbook' or 'estudy2', got {conventions!r}")
    return y_est, y_evt, days


def _regressors(
    x_est: np.ndarray | None,
    x_evt: np.ndarray | None,
    model: str,
    est_shape: tuple[int, int],
    evt_shape: tuple[int, int],
) -> tuple[np.ndarray | None, np.ndarray | None, int]:
    """The regressor returns as ``(N, L, F)`` arrays (None when not given) and the
    number of factors the model uses (0 for models without regressors)."""
    xe = _as3d(x_est, est_shape, "x_est")
    xv = _as3d(x_evt, evt_shape, "x_evt")
    needs_x = model in MARKET_MODELS or model == "multifactor"
    if needs_x and (xe is None or xv is None):
        raise EstimationError(f"model={model!r} needs regressor returns (x_est and x_evt)")
    if model in MARKET_MODELS and xe is not None and xe.shape[2] != 1:
        raise EstimationError(f"model={model!r} takes one market series, got {xe.shape[2]}")
    n_factors = xe.shape[2] if (needs_x and xe is not None) else 0
    return xe, xv, n_factors


@dataclass(frozen=True, slots=True)
class _Sample:
    """The estimation sample of every pair: the days with a return (and every
    regressor), their count and the returns with the other days zeroed."""

    valid: np.ndarray  #: (N, L1) bool, the days used
    n_est: np.ndarray  #: (N,) days used
    bad: np.ndarray  #: flat positions of the unused days in the (N, L1) grid
    y0: np.ndarray  #: (N, L1) returns, 0 on the unused days (a copy, ours to overwrite)
    nf: np.ndarray  #: n_est as float
    inv_n: np.ndarray  #: 1 / n_est
    y_ms: np.ndarray  #: mean square return (the exact-fit floor of _zero_exact_fits)


def _estimation_sample(y_est: np.ndarray, xe: np.ndarray | None) -> _Sample:
    """The days each pair's fit uses: a return and, with regressors ``xe``, all of them."""
    valid = ~np.isnan(y_est)
    if xe is not None:
        if xe.shape[2] == 1:
            valid &= ~np.isnan(xe[:, :, 0])
        else:
            valid &= ~np.isnan(xe).any(axis=2)
    n_est = np.count_nonzero(valid, axis=1)
    # the missing days are few: zero (later NaN) them by a scatter over their flat
    # positions instead of full-array masked passes
    bad = np.flatnonzero(~valid.ravel())
    y0 = np.array(y_est, dtype="float64", order="C")
    y0.ravel()[bad] = 0.0
    nf = n_est.astype("float64")
    inv_n = 1.0 / nf
    y_ms = np.einsum("ij,ij->i", y0, y0) * inv_n
    return _Sample(valid, n_est, bad, y0, nf, inv_n, y_ms)


@dataclass(frozen=True, slots=True)
class _Fit:
    """What a model's fit leaves for the shared steps of :func:`fit_panel`."""

    resid: np.ndarray  #: (N, L1) residuals, 0 on the unused days
    ar: np.ndarray  #: (N, L2) abnormal returns (NaN set later where evt_valid is False)
    pe: np.ndarray  #: (N, L2, L2) slope part of the prediction-error matrix (or I)
    evt_valid: np.ndarray  #: (N, L2) event days with a return and regressors
    design_est: np.ndarray | None = None
    design_evt: np.ndarray | None = None
    sxx_inv: np.ndarray | None = None


def _identity_stack(n: int, l2: int) -> np.ndarray:
    pe = np.zeros((n, l2, l2))
    pe.reshape(n, l2 * l2)[:, :: l2 + 1] = 1.0
    return pe


def _fit_without_parameters(
    sample: _Sample,
    y_est: np.ndarray,
    y_evt: np.ndarray,
    xe: np.ndarray | None,
    xv: np.ndarray | None,
    model: str,
) -> _Fit:
    """Zero-mean (:math:`AR = R`) and market-adjusted (:math:`AR = R - R_m`) models:
    nothing is estimated and the prediction-error matrix is :math:`I`."""
    n, l2 = y_evt.shape
    evt_valid = ~np.isnan(y_evt)
    if model == "zero_mean":
        return _Fit(sample.y0, y_evt.copy(), _identity_stack(n, l2), evt_valid)
    assert xe is not None and xv is not None
    r0 = np.where(sample.valid, y_est - xe[:, :, 0], 0.0)
    ar = y_evt - xv[:, :, 0]  # NaN where either is missing
    evt_valid &= ~np.isnan(xv[:, :, 0])
    return _Fit(r0, ar, _identity_stack(n, l2), evt_valid)


def _fit_constant_mean(sample: _Sample, y_est: np.ndarray, y_evt: np.ndarray) -> _Fit:
    """Constant-mean model: :math:`\\hat\\mu` is the mean return of the sample."""
    n, l2 = y_evt.shape
    ybar = sample.y0.sum(axis=1) * sample.inv_n
    r0 = np.where(sample.valid, y_est - ybar[:, None], 0.0)
    ar = y_evt - ybar[:, None]
    return _Fit(r0, ar, np.zeros((n, l2, l2)), ~np.isnan(y_evt))


def _fit_market_numpy(
    sample: _Sample,
    y_evt: np.ndarray,
    x_est: np.ndarray,
    x_evt: np.ndarray,
    model: str,
    ids: pd.MultiIndex,
) -> _Fit:
    r"""Market model by closed-form masked sums, 2-D arrays throughout, on row blocks.

    With the market centred on each pair's own sample, :math:`\hat\beta = S_{xy}/S_{xx}`
    and :math:`\hat\alpha = \bar y - \hat\beta\bar x`; the slope part of the
    prediction-error matrix is :math:`\tilde x^* \tilde x^{*\prime} / S_{xx}` (built in
    place as an outer product). Overwrites ``sample.y0`` with the residuals.
    """
    n, l1 = x_est.shape
    l2 = y_evt.shape[1]
    bad, inv_n, y0 = sample.bad, sample.inv_n, sample.y0
    ybar = y0.sum(axis=1) * inv_n
    xc1 = np.empty((n, l1))  # centred in place below
    xbar1 = np.empty(n)
    sxx = np.empty(n)
    scale = np.empty(n)

    def centre(a: int, b: int) -> None:
        lo, hi = np.searchsorted(bad, (a * l1, b * l1))
        at = bad[lo:hi] - a * l1
        xc = xc1[a:b]
        np.copyto(xc, x_est[a:b])
        xc.ravel()[at] = 0.0
        scale[a:b] = np.abs(xc).max(axis=1)
        xbar1[a:b] = xc.sum(axis=1) * inv_n[a:b]
        xc -= xbar1[a:b, None]
        xc.ravel()[at] = 0.0
        sxx[a:b] = np.einsum("ij,ij->i", xc, xc)

    by_rows(n, centre)
    _check_not_flat(sxx, model, ids, sample.nf, scale)
    evt_valid = ~np.isnan(y_evt)
    beta1 = np.empty(n)
    ar = np.empty((n, l2))
    xcv0 = np.empty((n, l2))
    pe = np.empty((n, l2, l2))

    def solve(a: int, b: int) -> None:
        xc, y = xc1[a:b], y0[a:b]
        beta1[a:b] = np.einsum("ij,ij->i", xc, y) / sxx[a:b]
        xcv1 = x_evt[a:b] - xbar1[a:b, None]
        evt_valid[a:b] &= ~np.isnan(xcv1)
        y -= ybar[a:b, None]
        y -= np.multiply(xc, beta1[a:b, None])
        lo, hi = np.searchsorted(bad, (a * l1, b * l1))
        y.ravel()[bad[lo:hi] - a * l1] = 0.0
        ar[a:b] = y_evt[a:b] - ybar[a:b, None] - xcv1 * beta1[a:b, None]
        # PE matrix I + 1/n + x~* x~*' / Sxx, built in place (outer products)
        np.copyto(xcv0[a:b], np.where(evt_valid[a:b], xcv1, 0.0))
        xv0 = xcv0[a:b]
        np.einsum("ni,nj->nij", xv0, xv0 / sxx[a:b, None], out=pe[a:b])

    by_rows(n, solve)
    return _Fit(y0, ar, pe, evt_valid, xc1[:, :, None], xcv0[:, :, None],
                (1.0 / sxx)[:, None, None])  # fmt: skip


def _fit_factors(
    sample: _Sample,
    y_evt: np.ndarray,
    xe: np.ndarray,
    xv: np.ndarray,
    model: str,
    ids: pd.MultiIndex,
) -> _Fit:
    r"""Multi-factor model: the batched normal equations :math:`S_{xx}\beta = S_{xy}` of
    the centred factors, one ``(N, F, F)`` inverse plus one step of iterative
    refinement; the slope part of the prediction-error matrix is
    :math:`\tilde X^* S_{xx}^{-1} \tilde X^{*\prime}`."""
    valid, inv_n, y0 = sample.valid, sample.inv_n, sample.y0
    ybar = y0.sum(axis=1) * inv_n
    vmask = valid[:, :, None]
    xbar = np.where(vmask, xe, 0.0).sum(axis=1) * inv_n[:, None]  # (N, F)
    xc = np.where(vmask, xe - xbar[:, None, :], 0.0)  # (N, L1, F)
    xcv = xv - xbar[:, None, :]  # (N, L2, F)
    evt_valid = ~np.isnan(y_evt) & ~np.isnan(xcv).any(axis=2)
    xcv = np.where(evt_valid[:, :, None], xcv, 0.0)
    scale = np.abs(np.where(vmask, xe, 0.0)).max(axis=1)  # (N, F)
    _check_not_flat((xc**2).sum(axis=1), model, ids, sample.nf[:, None], scale)
    xct = xc.transpose(0, 2, 1)
    sxx_m = np.matmul(xct, xc)  # (N, F, F)
    sxy = np.matmul(xct, y0[:, :, None])  # (N, F, 1)
    try:
        inv = np.linalg.inv(sxx_m)
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            f"the {model} model is singular on the estimation window of at "
            "least one pair (collinear regressors?)"
        ) from exc
    beta = np.matmul(inv, sxy)
    beta = beta + np.matmul(inv, sxy - np.matmul(sxx_m, beta))  # refinement
    r0 = y0 - ybar[:, None] - np.matmul(xc, beta)[:, :, 0]
    r0[~valid] = 0.0
    ar = y_evt - ybar[:, None] - np.matmul(xcv, beta)[:, :, 0]
    pe = np.matmul(np.matmul(xcv, inv), xcv.transpose(0, 2, 1))
    return _Fit(r0, ar, pe, evt_valid, xc, xcv, inv)


def _fit_model(
    sample: _Sample,
    y_est: np.ndarray,
    y_evt: np.ndarray,
    xe: np.ndarray | None,
    xv: np.ndarray | None,
    model: str,
    k: int,
    ids: pd.MultiIndex,
) -> _Fit:
    """The fit of ``model`` (``k`` parameters) on every pair's sample, with the
    intercept's and the disturbance's parts of the PE matrix added for estimated models."""
    if model in ("zero_mean", "market_adjusted"):
        return _fit_without_parameters(sample, y_est, y_evt, xe, xv, model)
    if k == 1:
        fit = _fit_constant_mean(sample, y_est, y_evt)
    elif xe is not None and xv is not None and xe.shape[2] == 1:
        fit = _fit_market_numpy(sample, y_evt, xe[:, :, 0], xv[:, :, 0], model, ids)
    else:
        assert xe is not None and xv is not None
        fit = _fit_factors(sample, y_evt, xe, xv, model, ids)
    _add_intercept_terms(fit.pe, sample.inv_n)
    return fit


def _mark_missing(fit: _Fit, sample: _Sample, sigma2: np.ndarray, k: int) -> None:
    """NaN into the residuals of the unused days and the ARs of the missing event days,
    and the rounding noise of exact fits zeroed (in place; estimated models only)."""
    fit.resid.ravel()[sample.bad] = np.nan  # our own array (never the caller's)
    fit.ar[~fit.evt_valid] = np.nan
    if k >= 1:  # zero-mean and market-adjusted fit nothing
        _zero_exact_fits(sigma2, sample.y_ms, fit.resid, fit.ar)


def _add_intercept_terms(pe: np.ndarray, inv_n: np.ndarray) -> None:
    """``pe += 1/n + I`` in place: the intercept's and the disturbance's parts of the
    prediction-error matrix :math:`I + X^*(X'X)^{-1}X^{*\\prime}` (centred design)."""
    n, l2 = pe.shape[:2]
    pe += inv_n[:, None, None]
    pe.reshape(n, l2 * l2)[:, :: l2 + 1] += 1.0


def _residual_variance(r0: np.ndarray, sample: _Sample, k: int, conventions: str) -> np.ndarray:
    """:math:`s^2 = SSR/(L_1 - k)` (textbook) or the sample variance of the residuals
    (estudy2, divisor :math:`L_1 - 1`); ``r0`` is 0 on the unused days."""
    if conventions == "estudy2":
        mean_r = r0.sum(axis=1) * sample.inv_n
        dev = np.where(sample.valid, r0 - mean_r[:, None], 0.0)
        return np.einsum("ij,ij->i", dev, dev) / (sample.nf - 1.0)
    return np.einsum("ij,ij->i", r0, r0) / (sample.nf - k)


def _estudy2_market_pe(
    market: tuple[np.ndarray, np.ndarray] | None,
    evt_valid: np.ndarray,
    inv_n: np.ndarray,
    market_mean_all: np.ndarray | None,
    market_ss_all: np.ndarray | None,
) -> np.ndarray:
    """estudy2's market-model correction :math:`1/L_1 + d_t d_s / S_{mm}`, with the
    market mean and :math:`S_{mm}` over all market days of the estimation window
    (``market``: the estimation and event-window market returns)."""
    assert market is not None
    est_market, event_market = market
    if market_mean_all is None or market_ss_all is None:
        mvalid = ~np.isnan(est_market)
        cnt = mvalid.sum(axis=1)
        mm = np.where(mvalid, est_market, 0.0).sum(axis=1) / cnt
        ss = (np.where(mvalid, est_market - mm[:, None], 0.0) ** 2).sum(axis=1)
    else:
        mm = np.asarray(market_mean_all, dtype="float64")
        ss = np.asarray(market_ss_all, dtype="float64")
    d = np.where(evt_valid, event_market - mm[:, None], 0.0)
    pe = np.multiply(d[:, :, None], (d / ss[:, None])[:, None, :])
    _add_intercept_terms(pe, inv_n)
    return pe


def _blank_missing_days(pe: np.ndarray, evt_valid: np.ndarray) -> None:
    """Missing event days: their rows and columns of the PE matrix are NaN (in place)."""
    miss = ~evt_valid
    if miss.any():
        pe[miss] = np.nan
        pe.transpose(0, 2, 1)[miss] = np.nan


def scale_spanning_returns(
    panel: AbnormalPanel,
    y_est: np.ndarray,
    x_est: np.ndarray | None = None,
    *,
    copy: bool = True,
) -> AbnormalPanel:
    r"""The panel with event-window returns that span several sessions treated as such.

    A return that spans :math:`k_t` sessions of the series' calendar (``panel.
    event_sessions``; e.g. 2 when a price is missing on a session) is the sum of
    :math:`k_t` one-session returns. Under the normal-return model its expected value
    is :math:`k_t\hat\alpha + \hat\beta' x^*_t` (the regressors' returns span the same
    dates) and its abnormal part has variance :math:`k_t\sigma^2`. So, for pair
    :math:`i` (textbook conventions only; estudy2 does not scale):

    .. math::

        AR^*_t = R^*_t - k_t\hat\alpha - \hat\beta' x^*_t, \qquad
        \operatorname{Var}(AR^*) = \sigma^2\,[\operatorname{diag}(k) + k k'/L_1
        + D S_{xx}^{-1} D'], \quad D_t = x^*_t - k_t \bar x,

    the exact prediction-error covariance with the event-window design row
    :math:`(k_t, x^{*\prime}_t)` (MacKinlay 1997, eq. 9, with the intercept column
    :math:`k`). Models without an intercept keep their AR and get
    :math:`\operatorname{diag}(k)`; the constant-mean model :math:`\operatorname{diag}(k)
    + kk'/L_1`. The centred event design ``design_evt`` becomes :math:`D` (the SQ test's
    studentisation and the closed-form window sums read it). Pairs whose event windows
    have no multi-session return are unchanged, bit for bit. The estimation window is
    not reweighted: its spanning returns (``alignment.spanning_returns``, a few a
    year) enter the OLS fit with unit weight.

    Parameters
    ----------
    panel : AbnormalPanel
        From :func:`fit_panel`, with ``event_sessions`` set.
    y_est, x_est : ndarray
        The estimation returns given to :func:`fit_panel` (to recover
        :math:`\hat\alpha = \bar y - \hat\beta'\bar x`).
    copy : bool, default True
        False: the rows that change are written into ``panel``'s own ``event_ar``,
        ``pe_cov`` and ``design_evt`` (no copy of the whole arrays), for a panel just
        built by :func:`fit_panel` that nothing else holds; the values are the same
        (the GARCH models' scaling always copies).

    Returns
    -------
    AbnormalPanel

    Examples
    --------
    >>> import dataclasses
    >>> rng = np.random.default_rng(0)
    >>> m = rng.normal(0, 0.01, (1, 251)); y = 0.001 + m + rng.normal(0, 0.01, (1, 251))
    >>> p = fit_panel(y[:, :240], y[:, 240:], m[:, :240], m[:, 240:],
    ...               event_days=np.arange(0, 11))
    >>> k = np.ones((1, 11), dtype=int); k[0, 1] = 2
    >>> q = scale_spanning_returns(dataclasses.replace(p, event_sessions=k), y[:, :240],
    ...                            m[:, :240])
    >>> float(q.pe_cov[0, 1, 1] - p.pe_cov[0, 1, 1]) > 1.0, bool(q.event_ar[0, 1] < p.event_ar[0, 1])
    (True, True)
    """
    info = garch_info(panel)
    if info is not None:
        return scale_garch_spanning(panel, info)
    rows = panel.spanning_rows
    if rows.size == 0:
        return panel
    ar = np.array(panel.event_ar, dtype="float64", copy=copy or None)
    # the rows' session weights (as panel.session_weights: at least 1), (R, L2)
    k = np.maximum(np.asarray(panel.event_sessions)[rows], 1).astype("float64")
    extra = k - 1.0
    valid = ~np.isnan(panel.est_resid[rows])
    n = valid.sum(axis=1).astype("float64")
    evt_ok = ~np.isnan(ar[rows])
    p = panel.n_params
    design_evt = panel.design_evt
    term = np.zeros(k.shape + (0,))
    s_inv = np.zeros((rows.size, 0, 0))
    if p >= 1:  # an intercept: constant mean, market model, multi-factor
        y0 = np.where(valid, np.asarray(y_est, dtype="float64")[rows], 0.0)
        alpha = y0.sum(axis=1) / n
        if p >= 2 and panel.design_est is not None and panel.sxx_inv is not None:
            assert x_est is not None and design_evt is not None
            xe = np.asarray(x_est, dtype="float64")[rows]
            xe = xe[:, :, None] if xe.ndim == 2 else xe
            xbar = np.where(valid[:, :, None], xe, 0.0).sum(axis=1) / n[:, None]  # (R, F)
            d_est = panel.design_est[rows]  # centred, 0 off the sample
            s_inv = panel.sxx_inv[rows]
            beta = np.einsum("rfg,rtg,rt->rf", s_inv, d_est, y0)
            alpha = alpha - np.einsum("rf,rf->r", beta, xbar)
            term = design_evt[rows] - extra[:, :, None] * xbar[:, None, :]
            term = np.where(evt_ok[:, :, None], term, 0.0)
            design_evt = np.array(design_evt, dtype="float64", copy=copy or None)
            design_evt[rows] = term
        ar[rows] -= extra * alpha[:, None]
    kz = np.where(evt_ok, k, 0.0)
    pe = np.array(panel.pe_cov, dtype="float64", copy=copy or None)
    block = np.einsum("rs,rs,st->rst", kz, np.ones_like(kz), np.eye(k.shape[1]))
    if p >= 1:
        block += np.einsum("rs,rt->rst", kz, kz) / n[:, None, None]
    if term.shape[2]:
        block += np.einsum("rsf,rfg,rtg->rst", term, s_inv, term)
    block[~evt_ok] = np.nan
    block.transpose(0, 2, 1)[~evt_ok] = np.nan
    pe[rows] = block
    out = replace(panel, event_ar=ar, pe_cov=pe, design_evt=design_evt)
    if panel_store(panel).get(MARKET_PE):
        panel_store(out)[MARKET_PE] = True  # the closed form reads the weights
    return out


def _default_ids(n: int) -> pd.MultiIndex:
    """Labels ``("e0", "a0"), ("e1", "a1"), ...`` built from levels and codes (the
    pairs are distinct, so no factorisation is needed)."""
    codes = np.arange(n)
    return pd.MultiIndex(
        levels=[pd.Index([f"e{i}" for i in range(n)]), pd.Index([f"a{i}" for i in range(n)])],
        codes=[codes, codes],
        names=["event", "asset"],
        verify_integrity=False,
    )


def _fit_market_compiled(
    y_est: np.ndarray,
    y_evt: np.ndarray,
    xe: np.ndarray | None,
    xv: np.ndarray | None,
    days: np.ndarray,
    ids: pd.MultiIndex,
    event_dates: np.ndarray,
    k: int,
    min_estimation: int | None,
) -> AbnormalPanel:
    """:func:`fit_panel` for the market model (textbook conventions) on a large panel:
    the same formulas, one compiled pass per row (:func:`oilimpact.eventstudy._jit.fit_market`)."""
    jit = kernels.jit()
    assert jit is not None and xe is not None and xv is not None
    x_est, x_evt = xe[:, :, 0], xv[:, :, 0]
    n, l1 = y_est.shape
    l2 = y_evt.shape[1]
    y_est, x_est = np.ascontiguousarray(y_est), np.ascontiguousarray(x_est)
    y_evt, x_evt = np.ascontiguousarray(y_evt), np.ascontiguousarray(x_evt)
    resid, d_est = np.empty((n, l1)), np.empty((n, l1))
    ar, d_evt = np.empty((n, l2)), np.empty((n, l2))
    pe = np.empty((n, l2, l2))
    n_est = np.empty(n, dtype=np.int64)
    sigma2, sxx, scale, y_ms = np.empty(n), np.empty(n), np.empty(n), np.empty(n)

    def run(a: int, b: int) -> None:
        jit.fit_market(
            y_est[a:b], x_est[a:b], y_evt[a:b], x_evt[a:b], float(k),
            resid[a:b], d_est[a:b], ar[a:b], d_evt[a:b], pe[a:b],
            n_est[a:b], sigma2[a:b], sxx[a:b], scale[a:b], y_ms[a:b],
        )  # fmt: skip

    kernels.by_blocks(n, run)
    _check_long_enough(n_est, k, "textbook", min_estimation, ids)
    _check_not_flat(sxx, "market", ids, n_est.astype("float64"), scale)
    _zero_exact_fits(sigma2, y_ms, resid, ar)
    panel = AbnormalPanel(
        ids=ids,
        est_resid=resid,
        n_est=n_est.astype(int),
        n_params=k,
        sigma2=sigma2,
        event_days=days,
        event_ar=ar,
        pe_cov=pe,
        event_dates=np.asarray(event_dates, dtype="datetime64[ns]"),
        est_market=x_est,
        event_market=x_evt,
        conventions="textbook",
        design_est=d_est[:, :, None],
        design_evt=d_evt[:, :, None],
        sxx_inv=(1.0 / sxx)[:, None, None],
    )
    panel_store(panel)[MARKET_PE] = True  # pe_cov = I + 1/L1_i + d d'/Sxx
    return panel


#: A residual variance at most ``(EXACT_FIT * rms return)^2`` is rounding noise: the
#: returns are an exact linear function of the regressors (an asset that is the market).
EXACT_FIT = 64.0 * np.finfo(float).eps


def _zero_exact_fits(
    sigma2: np.ndarray, y_ms: np.ndarray, resid: np.ndarray, ar: np.ndarray
) -> None:
    """Zero the rounding noise of exactly fitted pairs (in place; models with estimated
    parameters, whose residuals have mean zero).

    An exact fit (an asset that is the market, or a fixed multiple of it) leaves
    residuals of a few ulps whose values depend on the summation order: ``s^2`` of about
    1e-36 from one algorithm and 0 from another, and noise of either sign. Where a finite
    ``s^2`` is below ``(EXACT_FIT * rms return)^2`` it is set to 0, the pair's residuals
    to 0 (missing days stay NaN) and its ARs within the same noise level to 0. For
    returns over estimation windows of ordinary length this makes the numpy and compiled
    paths agree; with regressors in price levels or windows of many thousand days the
    noise can exceed the threshold, and the paths then still differ at noise level. The
    cross-sectional tests leave a pair without a positive variance out of the
    standardised and rank tests; the sign tests count a zero AR among the ``n`` pairs
    but not among the positive ones.
    """
    exact = np.flatnonzero(
        np.isfinite(sigma2) & np.isfinite(y_ms) & (sigma2 <= (EXACT_FIT * EXACT_FIT) * y_ms)
    )
    if not exact.size:
        return
    sigma2[exact] = 0.0
    rows = resid[exact]
    resid[exact] = np.where(np.isnan(rows), np.nan, 0.0)
    noise = EXACT_FIT * np.sqrt(y_ms[exact])[:, None]
    rows = ar[exact]
    ar[exact] = np.where(np.abs(rows) <= noise, 0.0, rows)


def _check_long_enough(
    n_est: np.ndarray, k: int, conventions: str, min_estimation: int | None, ids: pd.MultiIndex
) -> None:
    """Raise unless every pair has ``max(k + 1, min_estimation)`` usable estimation
    days (at least 2 under estudy2 conventions, whose variance divides by ``n - 1``)."""
    need = max(k + 1, 2 if conventions == "estudy2" else 1, int(min_estimation or 0))
    short = np.flatnonzero(n_est < need)
    if short.size:
        i = int(short[0])
        raise EstimationError(
            f"estimation window needs {need} usable days, got {int(n_est[i])} "
            f"(event={ids[i][0]}, series={ids[i][1]}); {short.size} pair(s) too short"
        )


def _check_not_flat(
    sxx: np.ndarray, model: str, ids: pd.MultiIndex, n: np.ndarray, scale: np.ndarray
) -> None:
    """Raise if a pair's centred sum of squares of a regressor is numerically zero.

    ``sxx`` and ``scale`` (the largest ``|x|`` of the regressor over the pair's sample)
    are ``(N,)`` for one regressor or ``(N, F)`` per factor; ``n`` the pair's usable
    days. A constant regressor ``c`` centres to rounding errors, at most about
    ``n eps |c|`` each (a running sum of ``n`` values), so its ``S_xx`` is at most about
    ``n (n eps |c|)^2``; ``S_xx <= n (4 n eps max|x|)^2`` counts as constant. Only the
    ratio sd(x) / max|x| matters: a regressor is rejected when it is below ``4 n eps``
    (2.2e-13 for 250 days), far below any price or return series.
    """
    tol = n * (4.0 * n * np.finfo(float).eps * scale) ** 2
    flat = np.flatnonzero(~(sxx > tol).reshape(len(sxx), -1).all(axis=1))
    if flat.size:
        i = int(flat[0])
        raise EstimationError(
            f"the {model} model is singular: a regressor is constant over the "
            f"estimation window (event={ids[i][0]}, series={ids[i][1]})"
        )
