"""Market model with GARCH(1,1) or GJR-GARCH(1,1) errors, fitted with ``arch``.

The textbook market model (:mod:`oilimpact.eventstudy.models`) gives every event day the
same abnormal-return variance, the average over the estimation window. With daily oil
returns, whose volatility clusters (GARCH persistence near 0.98), that variance is too
small in a turbulent spell and too large in a calm one, and the single-pair t test
over-rejects (6.2-6.5% at 5%, docs/methods.md). This module fits

.. math::

    R_t = \\mu + \\beta' x_t + \\varepsilon_t, \\qquad \\varepsilon_t = \\sigma_t z_t, \\qquad
    \\sigma_t^2 = \\omega + (\\alpha + \\gamma I[\\varepsilon_{t-1} < 0])
                 \\varepsilon_{t-1}^2 + \\beta_g \\sigma_{t-1}^2

by maximum likelihood (:func:`arch.arch_model`, ``mean="LS"``; ``gamma = 0`` unless
``vol="gjr"``; ``z_t`` normal or standardised Student t) on the estimation window, and
scales each event-window abnormal return by the conditional-variance forecast made at
the end of that window. Two levels:

* :func:`fit_garch_panel` works on the engine's arrays (N pairs x L1 estimation days,
  N x L2 event days) and returns a :class:`GarchPanel`; :meth:`GarchPanel.car_tests`
  gives the CAR t tests. ``event_study(model="market_garch")`` (and ``"market_gjr"``)
  runs it through the engine (:mod:`oilimpact.eventstudy.garch_engine`).
* :func:`garch_study` takes prices (or returns) of one or several series and a market
  series around one event and returns a :class:`GarchStudyResult` whose
  :meth:`~GarchStudyResult.summary` prints the CARs, the GARCH parameters and the
  abnormal-volatility tests of :mod:`oilimpact.eventstudy.volatility`.

``arch`` fits percent returns (``SCALE * y`` on ``SCALE * x``: its optimiser is tuned
for values of order 1); the results are converted back (``const / 100``, ``omega /
100^2``, variances ``/ 100^2``; slopes and GARCH coefficients are scale-free). Each pair
costs one numerical ML fit (about 0.05-0.1 s for 240 days), so this model suits the
brief's few pairs, not panels of thousands.

Measured size (benchmarks/bench_garch_size.py, bench_garch_engine_size.py): with 240
estimation days the GARCH t test over-rejects under persistent GARCH disturbances about
as much as the OLS t test (6.2-6.3% at 5% in 12,000 studies), because the fitted GARCH
parameters are noisy (with the true parameters the rate is 5.1-5.3%); with 750
estimation days it is within [4%, 6%]. Formulas, references and the size tables:
docs/methods-garch.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from oilimpact.errors import EstimationError

if TYPE_CHECKING:
    from oilimpact.events import Event
    from oilimpact.series import SeriesSpec

__all__ = [
    "GarchPanel",
    "GarchStudyResult",
    "Innovations",
    "VolModel",
    "fit_garch_panel",
    "fit_one",
    "garch_study",
]

#: ``"garch"``: GARCH(1,1) (Bollerslev 1986); ``"gjr"``: GJR-GARCH(1,1,1) (Glosten,
#: Jagannathan and Runkle 1993), a larger response to negative shocks.
VolModel = Literal["garch", "gjr"]
#: Law of the standardised innovation ``z_t``: ``"normal"`` or ``"t"`` (standardised
#: Student t with estimated degrees of freedom ``nu``).
Innovations = Literal["normal", "t"]

#: Returns are multiplied by this factor before ``arch`` sees them (percent returns: the
#: optimiser is tuned for values of order 1, and ``arch`` warns on decimal returns).
#: Every reported quantity is converted back to decimal units.
SCALE = 100.0
#: Default minimum number of usable estimation days per pair (a GARCH(1,1) likelihood on
#: fewer days is flat in ``alpha`` and ``beta``).
MIN_ESTIMATION = 100

_PARAM_COLUMNS = ("omega", "alpha", "gamma", "beta", "nu")


def fit_one(
    y: np.ndarray,
    x: np.ndarray | None = None,
    *,
    vol: VolModel = "garch",
    dist: Innovations = "normal",
    n_fit: int | None = None,
) -> Any:
    """Fit one series with ``arch`` exactly as :func:`fit_garch_panel` does.

    Parameters
    ----------
    y : ndarray, shape (T,)
        Returns in decimal units, no NaN (consecutive observations of the recursion).
    x : ndarray, shape (T, F), optional
        Regressor returns (decimal units); ``None`` for a constant-mean model.
    vol, dist : see :func:`fit_garch_panel`.
    n_fit : int, optional
        Fit on the first ``n_fit`` observations only (``arch``'s ``last_obs``); the
        later ones are there to be filtered by :meth:`forecast` with the fitted
        parameters (``update_through`` of :func:`fit_garch_panel`).

    Returns
    -------
    arch.univariate.base.ARCHModelResult
        The ``arch`` result of the model fitted to ``SCALE * y`` on ``SCALE * x``
        (percent returns).
    """
    from arch import arch_model

    o = 1 if vol == "gjr" else 0
    if x is None:
        mod = arch_model(SCALE * y, mean="Constant", vol="GARCH", p=1, o=o, q=1,
                         dist=dist, rescale=False)  # fmt: skip
    else:
        mod = arch_model(SCALE * y, x=SCALE * x, mean="LS", vol="GARCH", p=1, o=o, q=1,
                         dist=dist, rescale=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence is recorded in the params table
        return mod.fit(disp="off", show_warning=False, last_obs=n_fit)


@dataclass(frozen=True, slots=True)
class GarchPanel:
    """Abnormal returns of N pairs under the market model with GARCH errors.

    Attributes
    ----------
    ids : pandas.MultiIndex
        ``("event", "asset")`` labels, length N.
    event_days : ndarray of int, shape (L2,)
        Relative day of each event-window column.
    ar : ndarray, shape (N, L2)
        Abnormal returns ``R_t - mu - beta' x_t`` (decimal), NaN where missing.
    sigma2 : ndarray, shape (N, L2)
        Forecast conditional variance ``E_T[sigma_{T+h}^2]`` of each event day, made at
        the pair's last estimation day ``T`` (with ``update_through``: at the last
        observation before the day), decimal units squared; defined also where the
        return is missing.
    horizon : ndarray of int, shape (N, L2)
        Forecast step ``h`` of each event column (relative day minus the relative day of
        the forecast origin; 1 for an observed update day).
    z : ndarray, shape (N, L2)
        Standardised abnormal returns ``ar / sqrt(sigma2)``.
    est_z : ndarray, shape (N, L1)
        Standardised estimation residuals ``e_t / sigma_t`` (``arch``'s ``std_resid``)
        in the columns of the input, NaN where the day was not used.
    design_evt : ndarray, shape (N, L2, k)
        Event-window design rows ``(1, x_t)`` of the mean equation.
    mean_cov : ndarray, shape (N, k, k)
        ``arch``'s robust (QMLE sandwich) covariance of the mean parameters
        ``(mu, beta)``, decimal units.
    n_est : ndarray of int, shape (N,)
        Usable estimation days per pair.
    params : pandas.DataFrame
        One row per pair (index ``ids``): ``const`` (``mu``), ``slope`` (``slope_0`` ..
        with several regressors; absent for a constant mean), ``omega`` (decimal units
        squared), ``alpha``, ``gamma`` (0 for GARCH), ``beta`` (the GARCH
        coefficients, not the market beta), ``nu`` (NaN for normal innovations),
        ``persistence`` (``alpha + gamma/2 + beta``), ``uncond_var`` (``omega / (1 -
        persistence)``, NaN when persistence >= 1), ``loglik``, ``n_est``,
        ``converged`` (``arch``'s optimiser succeeded) and ``message``.
    vol, dist : str
        The model options.
    """

    ids: pd.MultiIndex
    event_days: np.ndarray
    ar: np.ndarray
    sigma2: np.ndarray
    horizon: np.ndarray
    z: np.ndarray
    est_z: np.ndarray
    design_evt: np.ndarray
    mean_cov: np.ndarray
    n_est: np.ndarray
    params: pd.DataFrame
    vol: VolModel = "garch"
    dist: Innovations = "normal"

    @property
    def n_pairs(self) -> int:
        """Number of pairs N."""
        return int(self.ar.shape[0])

    def window_index(self, window: tuple[int, int]) -> np.ndarray:
        """Column positions of relative days ``window[0] .. window[1]`` (inclusive)."""
        lo, hi = int(window[0]), int(window[1])
        mask = (self.event_days >= lo) & (self.event_days <= hi)
        if hi < lo or mask.sum() != hi - lo + 1:
            raise EstimationError(
                f"event window {window} is not inside the panel's days "
                f"{int(self.event_days.min())}..{int(self.event_days.max())}"
            )
        return np.flatnonzero(mask)

    def car_tests(self, windows: Sequence[tuple[int, int]]) -> pd.DataFrame:
        r"""CAR of every pair over every window with its GARCH-based t test.

        Parameters
        ----------
        windows : sequence of (int, int)
            Inclusive relative-day windows, e.g. ``[(0, 0), (0, 1), (0, 5)]``.

        Returns
        -------
        pandas.DataFrame
            One row per (pair, window), pair-major, columns ``event, asset, window,
            start, end, n_days, car, var_forecast, var_param, se, tstat, pvalue,
            n_est`` (the names of :func:`oilimpact.eventstudy.single.car_tests` where
            they mean the same). ``car`` is NaN when an AR of the window is missing.

        Notes
        -----
        With :math:`g` the indicator of the window's days and :math:`T` the last
        estimation day,

        .. math::

            CAR = g'AR^*, \qquad
            \widehat{\operatorname{Var}}(CAR) = \sum_{t \in w} E_T[\sigma^2_t]
              + (g'X^*) \hat V_{\mu\beta} (g'X^*)',

        the first term (``var_forecast``) the conditional variance of a sum of
        martingale differences (the GARCH errors are serially uncorrelated), the
        second (``var_param``) the estimation error of the mean parameters, with
        :math:`\hat V_{\mu\beta}` ``arch``'s robust covariance (the GARCH analogue
        of MacKinlay's :math:`X^*(X'X)^{-1}X^{*\prime}` term). :math:`t = CAR /
        \widehat{se}` and the two-sided p-value is from the standard normal (the
        quasi-ML estimates are asymptotically normal; for a single day under
        normal innovations :math:`t` is N(0, 1) up to estimation error).

        References
        ----------
        Savickas, R. (2003). Event-induced volatility and tests for abnormal
        performance. *Journal of Financial Research* 26(2), 165-178.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> m = rng.normal(0, 0.01, (1, 246))
        >>> y = 0.8 * m + rng.normal(0, 0.012, (1, 246))
        >>> panel = fit_garch_panel(y[:, :240], y[:, 240:], m[:, :240], m[:, 240:],
        ...                         event_days=range(6))
        >>> panel.car_tests([(0, 0), (0, 5)])[["window", "n_days", "n_est"]]
           window  n_days  n_est
        0  (0, 0)       1    240
        1  (0, 5)       6    240
        """
        n = self.n_pairs
        frames = []
        for w in windows:
            idx = self.window_index(w)
            car = self.ar[:, idx].sum(axis=1)  # NaN if any day is missing
            var_f = self.sigma2[:, idx].sum(axis=1)
            gx = self.design_evt[:, idx, :].sum(axis=1)  # (N, k)
            var_p = np.einsum("ni,nij,nj->n", gx, self.mean_cov, gx)
            se = np.sqrt(var_f + var_p)
            with np.errstate(invalid="ignore", divide="ignore"):
                tstat = car / se
            pvalue = 2.0 * stats.norm.sf(np.abs(tstat))
            frames.append(pd.DataFrame({
                "event": self.ids.get_level_values(0),
                "asset": self.ids.get_level_values(1),
                "window": [tuple(int(v) for v in w)] * n,
                "start": int(w[0]), "end": int(w[1]), "n_days": idx.size,
                "car": car, "var_forecast": var_f, "var_param": var_p, "se": se,
                "tstat": tstat, "pvalue": pvalue, "n_est": self.n_est,
                "_pair": np.arange(n),
            }))  # fmt: skip
        out = pd.concat(frames, ignore_index=True)
        out = out.sort_values("_pair", kind="stable").drop(columns="_pair")
        return out.reset_index(drop=True)


def _as3d(x: np.ndarray | None, n: int, length: int, what: str) -> np.ndarray | None:
    if x is None:
        return None
    x = np.asarray(x, dtype="float64")
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3 or x.shape[:2] != (n, length):
        raise EstimationError(f"{what} must have shape ({n}, {length}[, F]), got {x.shape}")
    return x


def _default_ids(n: int) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays(
        [[f"e{i}" for i in range(n)], [f"a{i}" for i in range(n)]], names=["event", "asset"]
    )


def _est_days(est_days: Any, event_days: np.ndarray, n: int, l1: int) -> np.ndarray:
    if est_days is None:
        days = event_days[0] - l1 + np.arange(l1)
    else:
        days = np.asarray(est_days, dtype="int64")
    days = np.broadcast_to(days, (n, l1)) if days.ndim == 1 else days
    if days.shape != (n, l1):
        raise EstimationError(f"est_days must have shape ({l1},) or ({n}, {l1}), got {days.shape}")
    return days


def _variance_paths(
    res: Any, origin: np.ndarray, h: np.ndarray, first: int, n_exog: int
) -> np.ndarray:
    """``E[sigma^2_{o+h} | F_o]`` for forecast origins ``origin`` (observation rows, at
    least ``first``) and steps ``h``, percent units, from ``arch``'s analytic forecast."""
    hmax = int(h.max())
    n_rows = int(np.asarray(res.resid).shape[0]) - first
    # the variance forecast does not depend on the regressors' future values
    x = None if n_exog == 0 else np.zeros((n_exog, n_rows, hmax))
    fc = res.forecast(horizon=hmax, start=first, x=x, reindex=False)
    var = fc.variance.to_numpy()
    return var[origin - first, h - 1]


def _param_row(res: Any, n_exog: int, vol: VolModel, n_est: int) -> dict[str, Any]:
    p = res.params
    row: dict[str, Any] = {"const": p.iloc[0] / SCALE}
    if n_exog == 1:
        row["slope"] = p.iloc[1]
    else:
        row.update({f"slope_{f}": p.iloc[1 + f] for f in range(n_exog)})
    row["omega"] = p["omega"] / SCALE**2
    row["alpha"] = p["alpha[1]"]
    row["gamma"] = p["gamma[1]"] if vol == "gjr" else 0.0
    row["beta"] = p["beta[1]"]
    row["nu"] = p["nu"] if "nu" in p.index else np.nan
    persistence = row["alpha"] + 0.5 * row["gamma"] + row["beta"]
    row["persistence"] = persistence
    row["uncond_var"] = row["omega"] / (1 - persistence) if persistence < 1 else np.nan
    row["loglik"] = res.loglikelihood
    row["n_est"] = n_est
    row["converged"] = res.convergence_flag == 0
    row["message"] = str(res.optimization_result.message)
    return row


def _checked(
    y_est: Any, y_evt: Any, x_est: Any, x_evt: Any, event_days: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray]:
    """The inputs of :func:`fit_garch_panel` as float arrays of checked shapes."""
    y_est = np.asarray(y_est, dtype="float64")
    y_evt = np.asarray(y_evt, dtype="float64")
    if y_est.ndim != 2 or y_evt.ndim != 2 or y_est.shape[0] != y_evt.shape[0]:
        raise EstimationError(
            f"y_est and y_evt must be (N, L1) and (N, L2), got {y_est.shape} and {y_evt.shape}"
        )
    n, l1 = y_est.shape
    l2 = y_evt.shape[1]
    days = np.asarray(event_days, dtype="int64")
    if days.shape != (l2,):
        raise EstimationError(f"event_days must have length {l2}, got {days.shape}")
    xe = _as3d(x_est, n, l1, "x_est")
    xv = _as3d(x_evt, n, l2, "x_evt")
    if (xe is None) != (xv is None):
        raise EstimationError("give both x_est and x_evt, or neither")
    return y_est, y_evt, xe, xv, days


def fit_garch_panel(
    y_est: np.ndarray,
    y_evt: np.ndarray,
    x_est: np.ndarray | None = None,
    x_evt: np.ndarray | None = None,
    *,
    event_days: Sequence[int] | np.ndarray,
    est_days: Sequence[int] | np.ndarray | None = None,
    ids: pd.MultiIndex | None = None,
    vol: VolModel = "garch",
    dist: Innovations = "normal",
    min_estimation: int = MIN_ESTIMATION,
    update_through: int | None = None,
) -> GarchPanel:
    r"""Fit the market model with GARCH(1,1) errors for N pairs, one ``arch`` fit each.

    Parameters
    ----------
    y_est : ndarray, shape (N, L1)
        Asset returns (decimal) on the estimation days, NaN where missing or excluded.
    y_evt : ndarray, shape (N, L2)
        Asset returns on the event-window days, NaN where missing.
    x_est, x_evt : ndarray, shape (N, L1[, F]) and (N, L2[, F]), optional
        Regressor returns (the market); ``None`` for a constant-mean model. A day with a
        regressor missing is not used in the fit; an event day with a regressor missing
        has no AR.
    event_days : sequence of int, length L2
        Relative day of each event column (increasing).
    est_days : sequence of int, shape (L1,) or (N, L1), optional
        Relative day of each estimation column; default: the L1 days just before
        ``event_days[0]``. Used only to count forecast steps.
    ids : pandas.MultiIndex, optional
        ``(event, asset)`` labels; default ``("e0", "a0")``, ... .
    vol : {"garch", "gjr"}
        GARCH(1,1) or GJR-GARCH(1,1,1).
    dist : {"normal", "t"}
        Law of the standardised innovations (the likelihood ``arch`` maximises).
    min_estimation : int
        Minimum usable estimation days per pair (default 100).
    update_through : int, optional
        Last relative day whose observed return updates the conditional variance with
        the estimated parameters (e.g. ``-1``: the variance of day 0 is conditional on
        the returns up to day -1). Default ``None``: every event day is forecast from
        the end of the estimation window. The parameters are estimated on the
        estimation window either way.

    Returns
    -------
    GarchPanel

    Raises
    ------
    EstimationError
        Bad shapes, too few estimation days (naming the pair), an event day not after
        the pair's last estimation day, or a fit that ``arch`` cannot start.

    Notes
    -----
    **Gaps.** The GARCH recursion runs over the pair's *usable* estimation days in
    column order: a missing or excluded day (NaN) is dropped and the next usable return
    follows the previous one directly in the recursion (as if the missing day had not
    been a session). On the engine's session grid a missing price already makes the next
    return span the gap, so this treats that spanning return as one draw of the process.
    The forecast is made at the last usable estimation day ``T``: event column ``j`` is
    forecast ``h_j = d_j - d_T`` steps ahead (``d`` the relative days), so the days
    between the estimation and event windows (and missing event days) count as steps
    whose returns are not used. With ``update_through = u``, the observed event-window
    returns on days ``<= u`` are filtered through the recursion with the estimated
    parameters (``arch``: fit with ``last_obs``, forecast from a later ``start``), and
    each event column is forecast from the last such observation before it
    (``horizon`` then counts from there: 1 for day 0 when day -1 was observed). As in the
    estimation window, a missing update day is skipped by the recursion: the next
    observed day gets the one-step variance (``horizon`` 1), while the missing day
    itself, and event days after ``update_through``, count calendar steps.

    **Forecast.** ``arch``'s analytic forecast (``ARCHModelResult.forecast``):
    :math:`E_T\sigma^2_{T+1} = \omega + (\alpha + \gamma I_T)\varepsilon_T^2 +
    \beta\sigma_T^2` and :math:`E_T\sigma^2_{T+h} = \omega + (\alpha + \gamma/2 +
    \beta) E_T\sigma^2_{T+h-1}` for :math:`h > 1` (symmetric innovations).

    Scale and cost: see the module docstring.

    References
    ----------
    Bollerslev, T. (1986). Generalized autoregressive conditional heteroskedasticity.
    *Journal of Econometrics* 31(3), 307-327.

    Glosten, L. R., Jagannathan, R. and Runkle, D. E. (1993). On the relation between
    the expected value and the volatility of the nominal excess return on stocks.
    *Journal of Finance* 48(5), 1779-1801.

    Savickas, R. (2003). Event-induced volatility and tests for abnormal performance.
    *Journal of Financial Research* 26(2), 165-178.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> m = rng.normal(0, 0.01, (2, 246))
    >>> y = 0.8 * m + rng.normal(0, 0.012, (2, 246))
    >>> panel = fit_garch_panel(y[:, :240], y[:, 240:], m[:, :240], m[:, 240:],
    ...                         event_days=range(6))
    >>> panel.ar.shape, panel.sigma2.shape, panel.horizon[0].tolist()
    ((2, 6), (2, 6), [1, 2, 3, 4, 5, 6])
    >>> list(panel.params.columns[:6])
    ['const', 'slope', 'omega', 'alpha', 'gamma', 'beta']
    """
    y_est, y_evt, xe, xv, days = _checked(y_est, y_evt, x_est, x_evt, event_days)
    n, l1 = y_est.shape
    ids = _default_ids(n) if ids is None else ids
    est_d = _est_days(est_days, days, n, l1)

    return _assemble(
        y_est, y_evt, xe, xv, est_d, days, ids, vol=vol, dist=dist,
        min_estimation=min_estimation, update_through=update_through,
    )  # fmt: skip


def _assemble(
    y_est: np.ndarray,
    y_evt: np.ndarray,
    xe: np.ndarray | None,
    xv: np.ndarray | None,
    est_d: np.ndarray,
    days: np.ndarray,
    ids: pd.MultiIndex,
    *,
    vol: VolModel,
    dist: Innovations,
    min_estimation: int,
    update_through: int | None,
) -> GarchPanel:
    """Fit every pair (:func:`_fit_pair`) and pack the :class:`GarchPanel`."""
    (n, l1), l2 = y_est.shape, y_evt.shape[1]
    n_exog = 0 if xe is None else xe.shape[2]
    ar = np.full((n, l2), np.nan)
    sigma2 = np.full((n, l2), np.nan)
    horizon = np.zeros((n, l2), dtype="int64")
    est_z = np.full((n, l1), np.nan)
    design = np.ones((n, l2, 1 + n_exog))
    if xv is not None:
        design[:, :, 1:] = xv
    mean_cov = np.full((n, 1 + n_exog, 1 + n_exog), np.nan)
    n_est = np.zeros(n, dtype="int64")
    rows = []
    for i in range(n):
        fit = _fit_pair(
            y_est[i], y_evt[i], None if xe is None else xe[i], None if xv is None else xv[i],
            est_d[i], days, label=f"(event={ids[i][0]}, series={ids[i][1]})", vol=vol,
            dist=dist, min_estimation=min_estimation, update_through=update_through,
        )  # fmt: skip
        res, used = fit["res"], fit["used"]
        theta = res.params.to_numpy()[: 1 + n_exog].copy()
        theta[0] /= SCALE
        cov = res.param_cov.to_numpy()[: 1 + n_exog, : 1 + n_exog].copy()
        cov[0, :] /= SCALE
        cov[:, 0] /= SCALE
        ar[i] = y_evt[i] - design[i] @ theta
        horizon[i] = fit["h"]
        sigma2[i] = _variance_paths(res, fit["origin"], fit["h"], used.size - 1, n_exog) / SCALE**2
        est_z[i, used] = np.asarray(res.std_resid)[: used.size]
        mean_cov[i] = cov
        n_est[i] = used.size
        rows.append(_param_row(res, n_exog, vol, int(used.size)))
    with np.errstate(invalid="ignore"):
        z = ar / np.sqrt(sigma2)
    params = pd.DataFrame(rows, index=ids)
    return GarchPanel(
        ids=ids, event_days=days, ar=ar, sigma2=sigma2, horizon=horizon, z=z, est_z=est_z,
        design_evt=design, mean_cov=mean_cov, n_est=n_est, params=params, vol=vol, dist=dist,
    )  # fmt: skip


def _fit_pair(
    y_est: np.ndarray,
    y_evt: np.ndarray,
    x_est: np.ndarray | None,
    x_evt: np.ndarray | None,
    est_days: np.ndarray,
    days: np.ndarray,
    *,
    label: str,
    vol: VolModel,
    dist: Innovations,
    min_estimation: int,
    update_through: int | None,
) -> dict[str, Any]:
    """One pair: usable days, the ``arch`` fit, the forecast origin and step of each
    event column (see the Notes of :func:`fit_garch_panel`)."""
    ok = np.isfinite(y_est)
    if x_est is not None:
        ok &= np.isfinite(x_est).all(axis=1)
    used = np.flatnonzero(ok)
    if used.size < min_estimation:
        raise EstimationError(
            f"GARCH estimation needs {min_estimation} usable estimation days, "
            f"got {used.size} {label}"
        )
    last_est = int(est_days[used[-1]])
    if (days <= last_est).any():
        raise EstimationError(
            f"event days must come after the last estimation day (relative day {last_est}) {label}"
        )
    pre = np.empty(0, dtype="int64")
    if update_through is not None:
        okv = np.isfinite(y_evt) & (days <= update_through)
        if x_evt is not None:
            okv &= np.isfinite(x_evt).all(axis=1)
        pre = np.flatnonzero(okv)
    y_all = np.concatenate([y_est[used], y_evt[pre]])
    x_all = None if x_est is None else np.concatenate([x_est[used], x_evt[pre]])
    obs_days = np.concatenate([est_days[used], days[pre]])
    try:
        res = fit_one(y_all, x_all, vol=vol, dist=dist, n_fit=int(used.size))
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise EstimationError(f"arch could not fit the GARCH model {label}: {exc}") from exc
    # forecast origin of each event column: the last observation before it
    origin = np.searchsorted(obs_days, days, side="left") - 1
    h = days - obs_days[origin]
    h[pre] = 1  # an observed update day follows the previous observation directly
    return {"res": res, "used": used, "origin": origin, "h": h}


# --------------------------------------------------------------------------- user level


@dataclass(frozen=True, slots=True)
class GarchSummary:
    """Printable summary of a :class:`GarchStudyResult` (``str()`` or notebook HTML)."""

    text: str

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.text)}</pre>"


@dataclass(frozen=True, slots=True)
class GarchStudyResult:
    """One event, one or several series, the market model with GARCH errors.

    Attributes
    ----------
    event : str
        Event id (or the date given).
    market : str or None
        Name of the market series (``None``: constant-mean GARCH).
    alignment : pandas.DataFrame
        Per series: ``day0``, ``reason`` (how day 0 was chosen), ``first_est`` and
        ``last_est`` (dates of the first and last usable estimation returns),
        ``n_common`` (dates with both the series and the market).
    abnormal : pandas.DataFrame
        Per (series, relative day): ``date, ar, sigma2, sd, z, horizon``.
    car : pandas.DataFrame
        :meth:`GarchPanel.car_tests` (``asset`` is the series).
    volatility : pandas.DataFrame
        :func:`oilimpact.eventstudy.volatility.abnormal_volatility`.
    params : pandas.DataFrame
        :attr:`GarchPanel.params`, indexed by series.
    panel : GarchPanel
    options : dict
        ``vol, dist, estimation_window, event_windows, input, alternative``.
    """

    event: str
    market: str | None
    alignment: pd.DataFrame
    abnormal: pd.DataFrame
    car: pd.DataFrame
    volatility: pd.DataFrame
    params: pd.DataFrame
    panel: GarchPanel
    options: dict[str, Any]

    def summary(self) -> GarchSummary:
        """The documented text summary: model, day 0, parameters, CAR and volatility tests.

        Sections: a header (model, event, market, estimation window); ``Day 0`` (date
        and rule per series); ``GARCH parameters`` (``const`` and ``slope`` of the mean,
        ``omega`` in squared percent, ``alpha gamma beta``, ``persistence``, ``nu``,
        ``converged``); ``CAR`` (``car`` and ``se`` in percent, ``t``, two-sided ``p``);
        ``Abnormal volatility`` (``avr`` = realised / forecast variance, the rank
        p-value against the estimation window, the number of reference stretches and
        the chi-square p-value); notes.
        """
        o = self.options
        vol = "GJR-GARCH(1,1,1)" if o["vol"] == "gjr" else "GARCH(1,1)"
        law = "Student t" if o["dist"] == "t" else "normal"
        mean = f"market model on {self.market}" if self.market else "constant mean"
        lines = [
            f"GARCH event study: {mean} with {vol} errors ({law} innovations), fitted by arch",
            f"Event: {self.event}; estimation window {tuple(o['estimation_window'])} "
            + (
                "sessions; forecasts from the last estimation day"
                if o["update_through"] is None
                else f"sessions; variance updated with the returns through day "
                f"{o['update_through']}"
            ),
            "",
            "Day 0",
        ]
        for name, row in self.alignment.iterrows():
            lines.append(f"  {name}: {row['day0'].date()} ({row['reason']}); "
                         f"estimation {row['first_est'].date()} .. {row['last_est'].date()}")  # fmt: skip
        p = self.params.copy()
        p["omega"] = p["omega"] * SCALE**2
        cols = [c for c in p.columns if c.startswith(("const", "slope"))]
        cols += ["omega", "alpha", "gamma", "beta", "persistence", "nu", "n_est", "converged"]
        lines += ["", "GARCH parameters (omega in %^2; alpha, gamma, beta of the variance)",
                  _indent(p[cols].to_string(float_format=lambda v: f"{v:.4g}"))]  # fmt: skip
        car = self.car.assign(car=100 * self.car["car"], se=100 * self.car["se"])
        car = car.rename(columns={"asset": "series", "tstat": "t", "car": "car %", "se": "se %"})
        lines += ["", "CAR (t test with the conditional-variance forecast; two-sided p)",
                  _indent(car[["series", "window", "car %", "se %", "t", "pvalue"]]
                          .to_string(index=False, float_format=lambda v: f"{v:.4f}"))]  # fmt: skip
        v = self.volatility.rename(columns={"asset": "series", "pvalue": "rank p"})
        lines += ["", f"Abnormal volatility (avr = realised / forecast variance; "
                      f"alternative: {o['alternative']})",
                  _indent(v[["series", "window", "avr", "rank p", "n_ref", "chi2_pvalue"]]
                          .to_string(index=False, float_format=lambda v: f"{v:.4f}"))]  # fmt: skip
        notes = []
        bad = self.params.index[~self.params["converged"].astype(bool)]
        if len(bad):
            notes.append(f"arch's optimiser did not converge for: {', '.join(map(str, bad))}")
        notes.append("rank p: the event's avr among every stretch of the same length of the "
                     "estimation window (docs/methods-garch.md); chi2 p assumes normal "
                     "innovations")  # fmt: skip
        lines += ["", "Notes"] + [f"  - {n}" for n in notes]
        return GarchSummary("\n".join(lines))

    def __str__(self) -> str:
        return str(self.summary())


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _pair_returns(
    y: pd.Series, m: pd.Series | None, input_kind: str
) -> tuple[pd.Series, pd.Series | None, int, np.ndarray]:
    """Returns of series ``y`` (and market ``m``) on their common dates, and a mask of
    the log returns that touch a non-positive price (undefined; NaN in the returns)."""
    frame = pd.concat([y, m], axis=1, sort=True) if m is not None else y.to_frame()
    frame = frame.dropna()
    n_common = len(frame)
    if input_kind == "prices":
        positive = (frame > 0).all(axis=1).to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            frame = np.log(frame.where(frame > 0)).diff().iloc[1:]
        bad = ~(positive[1:] & positive[:-1])
    else:
        bad = np.zeros(len(frame), dtype=bool)
    ry = frame.iloc[:, 0]
    rm = frame.iloc[:, 1] if m is not None else None
    return ry, rm, n_common, bad


def _place_series(
    series: pd.Series,
    market: pd.Series | None,
    event: Any,
    input_kind: str,
    spec: SeriesSpec | None,
    est_days: np.ndarray,
    evt_days: np.ndarray,
) -> dict[str, Any]:
    """Returns of one series and the market on their common dates, placed on the
    relative days of the estimation and event windows around day 0."""
    from oilimpact.eventstudy.volatility import day_zero

    name = str(series.name)
    ry, rm, n_common, bad = _pair_returns(series, market, input_kind)
    sessions = pd.DatetimeIndex(ry.index)
    d0, event_id, reason = day_zero(event, sessions, name, spec)
    pos0 = int(sessions.get_loc(d0))
    out: dict[str, Any] = {"event_id": event_id}
    for key, days in (("est", est_days), ("evt", evt_days)):
        y, x = np.full(days.size, np.nan), np.full(days.size, np.nan)
        dates = np.full(days.size, np.datetime64("NaT"), dtype="datetime64[ns]")
        pos = pos0 + days
        ok = (pos >= 0) & (pos < sessions.size)
        if bad[pos[ok]].any():
            when = sessions[pos[ok][bad[pos[ok]]][0]].date()
            raise EstimationError(
                f"log return undefined across a non-positive price on {when} "
                f"(series={name}); choose windows that avoid it"
            )
        y[ok] = ry.to_numpy()[pos[ok]]
        if rm is not None:
            x[ok] = rm.to_numpy()[pos[ok]]
        dates[ok] = sessions.to_numpy()[pos[ok]]
        out[f"y_{key}"], out[f"x_{key}"] = y, x
        if key == "evt":
            out["dates"] = dates
    used = pos0 + est_days[np.isfinite(out["y_est"])]
    if used.size == 0:
        raise EstimationError(f"no estimation returns before day 0 {d0.date()} (series={name})")
    out["alignment"] = {"series": name, "day0": d0, "reason": reason,
                        "first_est": sessions[used[0]], "last_est": sessions[used[-1]],
                        "n_common": n_common}  # fmt: skip
    return out


def _study_days(
    estimation_window: tuple[int, int],
    event_windows: Sequence[tuple[int, int]],
    update_through: int | None,
) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray]:
    """Windows as int tuples, the estimation and the event relative days of a study."""
    e0, e1 = estimation_window
    windows = [(int(a), int(b)) for a, b in event_windows]
    lo = min(w[0] for w in windows)
    hi = max(w[1] for w in windows)
    if e1 >= lo:
        raise EstimationError(f"estimation window {estimation_window} must end before day {lo}")
    evt_days = np.arange(lo if update_through is None else min(lo, e1 + 1), hi + 1)
    return windows, np.arange(e0, e1 + 1), evt_days


def _abnormal_table(panel: GarchPanel, names: list[str], dates: np.ndarray) -> pd.DataFrame:
    """Per (series, relative day): ``date, ar, sigma2, sd, z, horizon``."""
    n, l2 = panel.ar.shape
    return pd.DataFrame({
        "series": np.repeat(names, l2), "day": np.tile(panel.event_days, n),
        "date": dates.ravel(), "ar": panel.ar.ravel(), "sigma2": panel.sigma2.ravel(),
        "sd": np.sqrt(panel.sigma2.ravel()), "z": panel.z.ravel(),
        "horizon": panel.horizon.ravel(),
    })  # fmt: skip


def garch_study(
    data: pd.Series | pd.DataFrame,
    market: pd.Series | None,
    event: Event | Any,
    *,
    estimation_window: tuple[int, int] = (-250, -11),
    event_windows: Sequence[tuple[int, int]] = ((0, 0), (0, 1), (0, 5)),
    input: Literal["prices", "returns"] = "prices",
    vol: VolModel = "garch",
    dist: Innovations = "normal",
    alternative: Literal["greater", "two-sided"] = "greater",
    min_estimation: int = MIN_ESTIMATION,
    update_through: int | None = None,
    specs: dict[str, SeriesSpec] | None = None,
) -> GarchStudyResult:
    r"""Event study of one event on one or several series with GARCH(1,1) market-model errors.

    Parameters
    ----------
    data : pandas.Series or pandas.DataFrame
        Prices (or returns, ``input="returns"``) by date, one column per series (a
        Series is one series named by its ``name``). NaN = no observation.
    market : pandas.Series or None
        The market's prices (or returns); ``None`` fits a constant-mean GARCH.
    event : Event or date-like
        An :class:`~oilimpact.events.Event` (day 0 by
        :func:`oilimpact.eventstudy.alignment.align_event` and the series' registry
        spec: a time-known event belongs to the first session whose close is after it)
        or a date (day 0 = the first common date on or after it).
    estimation_window : (int, int)
        Relative sessions of the estimation window, default ``(-250, -11)``.
    event_windows : sequence of (int, int)
        CAR windows, default ``(0, 0), (0, 1), (0, 5)``.
    input : {"prices", "returns"}
        Prices give log returns between consecutive common dates.
    vol, dist, min_estimation, update_through : see :func:`fit_garch_panel`
        (with ``update_through`` the event days start after the estimation window).
    alternative : {"greater", "two-sided"}
        Of the abnormal-volatility test.
    specs : dict of str to SeriesSpec, optional
        Specs for aligning an Event (default: the packaged registry's).

    Returns
    -------
    GarchStudyResult
        ``print(res.summary())`` for the report.

    Raises
    ------
    EstimationError
        Too few estimation returns, day 0 after the data, a non-positive price.

    Notes
    -----
    **Alignment rule.** Each series is paired with the market on their *common dates*
    (both have a value). With prices, returns are log changes between consecutive common
    dates, so a date on which one of the two has no price is not a session of the pair
    and the next return of both spans it (the engine's session-grid rule,
    docs/methods.md). With returns, the returns on the common dates are used and a
    return dated where the other series has none is dropped (pass prices to have it
    spanned instead). Relative days count the pair's sessions from day 0; the
    estimation window is cut at the start of the data; event days past the end of the
    data have no AR (their CARs are NaN). Other events are **not** excluded from the
    estimation window. Then :func:`fit_garch_panel`, :meth:`GarchPanel.car_tests` and
    :func:`oilimpact.eventstudy.volatility.abnormal_volatility`.

    Examples
    --------
    >>> idx = pd.bdate_range("2024-01-01", periods=280, name="date")
    >>> rng = np.random.default_rng(3)
    >>> mkt = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 280))), idx, name="mkt")
    >>> oil = pd.Series(80 * np.exp(np.cumsum(0.7 * np.log(mkt).diff().fillna(0)
    ...                 + rng.normal(0, 0.015, 280))), idx, name="oil")
    >>> res = garch_study(oil, mkt, idx[265])
    >>> list(res.car["window"]), str(res.alignment.loc["oil", "day0"].date())
    ([(0, 0), (0, 1), (0, 5)], '2025-01-06')
    >>> print(res.summary())  # doctest: +ELLIPSIS
    GARCH event study: market model on mkt with GARCH(1,1) errors (normal innovations), ...
    """
    from oilimpact.eventstudy.volatility import abnormal_volatility

    frame = data.to_frame() if isinstance(data, pd.Series) else data
    if input not in ("prices", "returns"):
        raise ValueError(f"input must be 'prices' or 'returns', got {input!r}")
    windows, est_days, evt_days = _study_days(estimation_window, event_windows, update_through)
    names = [str(c) for c in frame.columns]
    n = len(names)
    days = (est_days, evt_days)
    spec = (specs or {}).get
    placed = [
        _place_series(frame[c].rename(c), market, event, input, spec(c), *days) for c in names
    ]
    y_est, x_est = np.stack([p["y_est"] for p in placed]), np.stack([p["x_est"] for p in placed])
    y_evt, x_evt = np.stack([p["y_evt"] for p in placed]), np.stack([p["x_evt"] for p in placed])
    dates = np.stack([p["dates"] for p in placed])
    align_rows = [p["alignment"] for p in placed]
    event_id = placed[0]["event_id"]
    ids = pd.MultiIndex.from_arrays([[event_id] * n, names], names=["event", "asset"])
    has_x = market is not None
    panel = fit_garch_panel(
        y_est, y_evt, x_est if has_x else None, x_evt if has_x else None,
        event_days=evt_days, est_days=est_days, ids=ids, vol=vol, dist=dist,
        min_estimation=min_estimation, update_through=update_through,
    )  # fmt: skip
    abnormal = _abnormal_table(panel, names, dates)
    params = panel.params.copy()
    params.index = pd.Index(names, name="series")
    return GarchStudyResult(
        event=event_id,
        market=None if market is None else str(market.name),
        alignment=pd.DataFrame(align_rows).set_index("series"),
        abnormal=abnormal,
        car=panel.car_tests(windows),
        volatility=abnormal_volatility(panel, windows, alternative),
        params=params,
        panel=panel,
        options={"vol": vol, "dist": dist, "estimation_window": tuple(estimation_window),
                 "event_windows": windows, "input": input, "alternative": alternative,
                 "update_through": update_through},
    )  # fmt: skip
