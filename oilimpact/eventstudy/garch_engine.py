r"""The GARCH normal-return models as an :class:`~oilimpact.eventstudy.panel.AbnormalPanel`.

``event_study(..., model="market_garch")`` (GARCH(1,1) errors) and ``model="market_gjr"``
(GJR-GARCH(1,1,1) errors) run through the engine unchanged: :func:`fit_engine_panel`
fits every pair with :func:`oilimpact.eventstudy.garch.fit_garch_panel` (one ``arch``
maximum-likelihood fit per pair, normal quasi-likelihood, forecasts from the pair's last
usable estimation day) and packs the result so that the panel's generic formulas give
the GARCH tests:

.. math::

    s_i^2 = \frac{1}{L_{1,i}}\sum_{t \in est} \hat\varepsilon_t^2, \qquad
    \texttt{est\_resid}_t = s_i\,\hat z_t, \qquad
    \texttt{pe\_cov}_i = \frac{1}{s_i^2}\Big[\operatorname{diag}(E_T\sigma^2_t)
        + X^*_i \hat V_{\mu\beta} X^{*\prime}_i\Big],

with :math:`\hat\varepsilon_t` the mean-equation residuals, :math:`\hat z_t =
\hat\varepsilon_t/\hat\sigma_t` the standardised residuals (``arch``'s ``std_resid``),
:math:`E_T\sigma^2_t` the conditional-variance forecast of each event day and
:math:`\hat V_{\mu\beta}` ``arch``'s robust covariance of the mean parameters. So
``sigma2 * pe_cov`` is the GARCH covariance of the event-window ARs and
:math:`s^2 g'\,\texttt{pe\_cov}\,g` the variance of a CAR (:meth:`GarchPanel.car_tests
<oilimpact.eventstudy.garch.GarchPanel.car_tests>`); the scale :math:`s_i^2` cancels in
every test (t, SQ, the pooled tests' standardised ARs). The panel has no OLS design
(``design_est = design_evt = sxx_inv = None``); :func:`garch_info` gives the GARCH fit
behind a panel (the SQ test, the spanning-return scaling and the coefficients read it).

``n_params`` counts the mean and the variance parameters: 5 for ``market_garch``
(:math:`\mu, \beta, \omega, \alpha, \beta_g`), 6 for ``market_gjr`` (plus
:math:`\gamma`); the t tests use Student t with ``n_est - n_params`` degrees of freedom.
"""

from __future__ import annotations

import warnings
import weakref
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError
from .panel import AbnormalPanel

__all__ = [
    "GARCH_MODELS",
    "GARCH_PARAM_COLUMNS",
    "GARCH_VOL",
    "EngineGarch",
    "GarchConvergenceWarning",
    "fit_engine_panel",
    "garch_coefficients",
    "garch_info",
    "scale_garch_spanning",
]

#: The engine's GARCH model names and the ``arch`` volatility process of each.
GARCH_VOL: dict[str, str] = {"market_garch": "garch", "market_gjr": "gjr"}
#: The model names (as :data:`oilimpact.eventstudy.models.GARCH_MODELS`).
GARCH_MODELS: tuple[str, ...] = tuple(GARCH_VOL)
#: The variance-equation columns of :func:`garch_coefficients` that
#: ``EventStudyResult.params`` shows.
GARCH_PARAM_COLUMNS: tuple[str, ...] = (
    "garch_omega", "garch_alpha", "garch_gamma", "garch_beta", "persistence", "loglik",
    "converged",
)  # fmt: skip


class GarchConvergenceWarning(UserWarning):
    """``arch``'s optimiser did not converge for some (event, series) pairs."""


@dataclass(frozen=True, slots=True)
class EngineGarch:
    """The GARCH fit behind an engine panel (read by :func:`garch_info`).

    ``mu`` (N,), ``slope`` (N, F) and ``mean_cov`` (N, 1+F, 1+F): the mean equation and
    the robust covariance of its parameters (decimal units); ``var_forecast`` (N, L2):
    :math:`E_T\\sigma^2_t` of every event day; ``x_evt`` (N, L2, F) the event-window
    regressors; ``x_mean`` (N, F) the regressors' mean over the estimation sample;
    ``params``: :attr:`GarchPanel.params <oilimpact.eventstudy.garch.GarchPanel.params>`;
    ``vol``: ``"garch"`` or ``"gjr"``.
    """

    mu: np.ndarray
    slope: np.ndarray
    mean_cov: np.ndarray
    var_forecast: np.ndarray
    x_evt: np.ndarray
    x_mean: np.ndarray
    params: pd.DataFrame
    vol: str


#: Engine GARCH fits by ``id`` of the panel's ``est_resid`` array, which
#: :func:`dataclasses.replace` keeps (the engine adds dates and session counts that way);
#: a finalizer drops the entry when the array is collected.
_FITS: dict[int, EngineGarch] = {}


def _register(est_resid: np.ndarray, info: EngineGarch) -> None:
    key = id(est_resid)
    _FITS[key] = info
    weakref.finalize(est_resid, _FITS.pop, key, None)


def garch_info(panel: Any) -> EngineGarch | None:
    """The GARCH fit behind ``panel`` (built by :func:`fit_engine_panel`, or a copy of it
    made with :func:`dataclasses.replace`); None for any other panel.

    A panel concatenated from several chunks (:func:`~oilimpact.eventstudy.panel.
    concat_panels`) has new arrays and is not found: the engine runs the single-pair
    tests per chunk, before concatenating.
    """
    resid = getattr(panel, "est_resid", None)
    if resid is None:
        return None
    info = _FITS.get(id(resid))
    if info is None or info.var_forecast.shape != np.shape(panel.event_ar):
        return None
    return info


def fit_engine_panel(
    y_est: np.ndarray,
    y_evt: np.ndarray,
    xe: np.ndarray,
    xv: np.ndarray,
    *,
    days: np.ndarray,
    est_days: np.ndarray | None,
    ids: pd.MultiIndex,
    event_dates: np.ndarray,
    model: str,
    n_params: int,
    min_estimation: int | None,
) -> AbnormalPanel:
    """Fit the market model with GARCH errors for every pair and pack the panel.

    ``xe`` and ``xv`` are ``(N, L, 1)`` (one market); ``est_days`` the relative days of
    the estimation columns (None: the ``L1`` days just before ``days[0]``). At least
    ``max(n_params + 1, 100, min_estimation)`` usable estimation days per pair. Cost: one
    ``arch`` fit per pair (about 0.05-0.1 s for 240 days). Pairs whose fit did not
    converge are named in a :class:`GarchConvergenceWarning` (and ``converged`` is False
    in :func:`garch_coefficients`). See the module docstring for the packing.
    """
    from .garch import MIN_ESTIMATION, fit_garch_panel

    need = max(n_params + 1, MIN_ESTIMATION, int(min_estimation or 0))
    gp = fit_garch_panel(
        y_est, y_evt, xe, xv, event_days=days, est_days=est_days, ids=ids,
        vol=GARCH_VOL[str(model)], dist="normal", min_estimation=need, update_through=None,
    )  # fmt: skip
    params = gp.params
    n_x = xe.shape[2]
    mu = params["const"].to_numpy(dtype="float64")
    slope_cols = ["slope"] if n_x == 1 else [f"slope_{f}" for f in range(n_x)]
    slope = params[slope_cols].to_numpy(dtype="float64")
    used = np.isfinite(gp.est_z)
    resid = y_est - mu[:, None] - np.einsum("ntf,nf->nt", np.nan_to_num(xe), slope)
    resid = np.where(used, resid, 0.0)
    s2 = np.einsum("ij,ij->i", resid, resid) / used.sum(axis=1)
    est_resid = gp.est_z * np.sqrt(s2)[:, None]  # NaN off the sample
    x_mean = np.where(used[:, :, None], np.nan_to_num(xe), 0.0).sum(axis=1) / used.sum(axis=1)[:, None]  # fmt: skip
    info = EngineGarch(mu=mu, slope=slope, mean_cov=gp.mean_cov, var_forecast=gp.sigma2,
                       x_evt=xv, x_mean=x_mean, params=params, vol=GARCH_VOL[str(model)])  # fmt: skip
    ar = np.array(gp.ar, dtype="float64")
    sessions = np.ones(ar.shape)
    pe = _ar_covariance(info, ar, sessions, np.arange(ar.shape[0])) / s2[:, None, None]
    panel = AbnormalPanel(
        ids=ids, est_resid=est_resid, n_est=gp.n_est.astype(int), n_params=n_params,
        sigma2=s2, event_days=np.asarray(days), event_ar=ar, pe_cov=pe,
        event_dates=np.asarray(event_dates, dtype="datetime64[ns]"),
        est_market=xe[:, :, 0], event_market=xv[:, :, 0], conventions="textbook",
    )  # fmt: skip
    _register(est_resid, info)
    _warn_unconverged(params, ids)
    return panel


def _ar_covariance(
    info: EngineGarch, ar: np.ndarray, sessions: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """``diag(k_t E_T sigma_t^2) + D V D'`` of ``rows``, with design rows ``D_t = (k_t,
    x_t)`` (``k_t`` the sessions a return spans); NaN rows and columns for the event days
    without an AR."""
    ok = np.isfinite(ar[rows])
    k = np.where(ok, sessions, 0.0)
    x = np.where(ok[:, :, None], np.nan_to_num(info.x_evt[rows]), 0.0)
    design = np.concatenate([k[:, :, None], x], axis=2)  # (R, L2, 1 + F)
    cov = np.einsum("rsa,rab,rtb->rst", design, info.mean_cov[rows], design)
    idx = np.arange(ar.shape[1])
    cov[:, idx, idx] += k * np.nan_to_num(info.var_forecast[rows])
    miss = ~ok
    cov[miss] = np.nan
    cov.transpose(0, 2, 1)[miss] = np.nan
    return cov


def _warn_unconverged(params: pd.DataFrame, ids: pd.MultiIndex) -> None:
    bad = np.flatnonzero(~params["converged"].to_numpy(dtype=bool))
    if bad.size:
        names = ", ".join(f"(event={ids[i][0]}, series={ids[i][1]})" for i in bad[:10])
        more = f" and {bad.size - 10} more" if bad.size > 10 else ""
        warnings.warn(
            f"arch's optimiser did not converge for {bad.size} pair(s): {names}{more}; "
            "their GARCH parameters, forecasts and tests are unreliable "
            "(column 'converged' of res.params and res.coefficients)",
            GarchConvergenceWarning,
            stacklevel=4,
        )


def scale_garch_spanning(panel: AbnormalPanel, info: EngineGarch) -> AbnormalPanel:
    r"""The GARCH panel with event-window returns that span ``k_t > 1`` sessions scaled.

    :math:`AR_t = R_t - k_t\hat\mu - \hat\beta' x_t` and :math:`\operatorname{Var}(AR) =
    \operatorname{diag}(k_t E_T\sigma^2_t) + D\hat V_{\mu\beta}D'` with :math:`D_t = (k_t,
    x_t)`: a return spanning :math:`k_t` sessions is the sum of :math:`k_t` one-session
    GARCH errors, each given the forecast variance of the day (the analogue of
    :func:`~oilimpact.eventstudy.models.scale_spanning_returns`). Pairs without such a
    return are unchanged, bit for bit.
    """
    rows = panel.spanning_rows
    if rows.size == 0:
        return panel
    ar = np.array(panel.event_ar, dtype="float64")
    k = panel.session_weights[rows]
    ar[rows] -= (k - 1.0) * info.mu[rows, None]
    pe = np.array(panel.pe_cov, dtype="float64")
    pe[rows] = _ar_covariance(info, ar, k, rows) / panel.sigma2[rows, None, None]
    return replace(panel, event_ar=ar, pe_cov=pe)


def garch_coefficients(panel: AbnormalPanel, info: EngineGarch) -> pd.DataFrame:
    """The coefficients table of a GARCH panel (``EventStudyResult.coefficients``).

    Columns: ``alpha`` (:math:`\\hat\\mu`), ``b0 ..`` (market slopes), ``m0 ..`` (the
    regressors' sample means), ``se_alpha``, ``se_b0 ..`` (``arch``'s robust standard
    errors), ``garch_omega`` (decimal units squared), ``garch_alpha``, ``garch_gamma``
    (0 for GARCH(1,1)), ``garch_beta``, ``persistence`` (:math:`\\alpha + \\gamma/2 +
    \\beta_g`), ``loglik`` (of the percent returns ``arch`` fits), ``converged``.
    """
    if info.mu.shape[0] != panel.n_pairs:
        raise EstimationError("the GARCH fit does not match the panel")
    p = info.params
    out: dict[str, Any] = {"alpha": info.mu}
    nf = info.slope.shape[1]
    out.update({f"b{f}": info.slope[:, f] for f in range(nf)})
    out.update({f"m{f}": info.x_mean[:, f] for f in range(nf)})
    se = np.sqrt(np.diagonal(info.mean_cov, axis1=1, axis2=2))
    out["se_alpha"] = se[:, 0]
    out.update({f"se_b{f}": se[:, 1 + f] for f in range(nf)})
    out["garch_omega"] = p["omega"].to_numpy(dtype="float64")
    out["garch_alpha"] = p["alpha"].to_numpy(dtype="float64")
    out["garch_gamma"] = p["gamma"].to_numpy(dtype="float64")
    out["garch_beta"] = p["beta"].to_numpy(dtype="float64")
    out["persistence"] = p["persistence"].to_numpy(dtype="float64")
    out["loglik"] = p["loglik"].to_numpy(dtype="float64")
    out["converged"] = p["converged"].to_numpy(dtype=bool)
    return pd.DataFrame(out, index=panel.ids)
