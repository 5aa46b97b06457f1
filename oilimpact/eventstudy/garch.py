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
  gives the CAR t tests. This is what ``event_study(model="market_garch")`` wires in.
* :func:`garch_study` takes prices (or returns) of one or several series and a market
  series around one event and returns a :class:`GarchStudyResult` whose
  :meth:`~GarchStudyResult.summary` prints the CARs, the GARCH parameters and the
  abnormal-volatility tests of :mod:`oilimpact.eventstudy.volatility`.

Formulas, references and the measured size: docs/methods-garch.md.
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
) -> Any:
    """Fit one series with ``arch`` exactly as :func:`fit_garch_panel` does.

    Parameters
    ----------
    y : ndarray, shape (T,)
        Returns in decimal units, no NaN (consecutive observations of the recursion).
    x : ndarray, shape (T, F), optional
        Regressor returns (decimal units); ``None`` for a constant-mean model.
    vol, dist : see :func:`fit_garch_panel`.

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
        return mod.fit(disp="off", show_warning=False)


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
        the pair's last estimation day ``T`` (decimal units squared); defined also where
        the return is missing.
    horizon : ndarray of int, shape (N, L2)
        Forecast step ``h`` of each event column (relative day minus the relative day of
        the pair's last usable estimation day).
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


def _variance_path(res: Any, horizons: np.ndarray, n_exog: int) -> np.ndarray:
    """``E_T[sigma_{T+h}^2]`` for each ``h`` in ``horizons`` (percent units), from ``arch``."""
    hmax = int(horizons.max())
    # the variance forecast does not depend on the regressors' future values
    x = None if n_exog == 0 else np.zeros((n_exog, 1, hmax))
    fc = res.forecast(horizon=hmax, x=x, reindex=False)
    path = fc.variance.to_numpy()[-1]
    return path[horizons - 1]


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
    whose returns are not used.

    **Forecast.** ``arch``'s analytic forecast (``ARCHModelResult.forecast``):
    :math:`E_T\sigma^2_{T+1} = \omega + (\alpha + \gamma I_T)\varepsilon_T^2 +
    \beta\sigma_T^2` and :math:`E_T\sigma^2_{T+h} = \omega + (\alpha + \gamma/2 +
    \beta) E_T\sigma^2_{T+h-1}` for :math:`h > 1` (symmetric innovations).

    **Scale.** ``arch`` fits percent returns (``SCALE * y`` on ``SCALE * x``); the
    results are converted back (``const / 100``, ``omega / 100^2``, variances
    ``/ 100^2``; slopes and GARCH coefficients are scale-free).

    Each pair costs one numerical ML fit (about 30-60 ms for 240 days), so this model
    suits the brief's few pairs, not panels of thousands.

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
    n_exog = 0 if xe is None else xe.shape[2]
    ids = _default_ids(n) if ids is None else ids
    est_d = _est_days(est_days, days, n, l1)

    ar = np.full((n, l2), np.nan)
    sigma2 = np.full((n, l2), np.nan)
    horizon = np.zeros((n, l2), dtype="int64")
    est_z = np.full((n, l1), np.nan)
    design = np.ones((n, l2, 1 + n_exog))
    mean_cov = np.full((n, 1 + n_exog, 1 + n_exog), np.nan)
    n_est = np.zeros(n, dtype="int64")
    rows = []
    for i in range(n):
        ok = np.isfinite(y_est[i])
        if xe is not None:
            ok &= np.isfinite(xe[i]).all(axis=1)
            design[i, :, 1:] = xv[i]
        used = np.flatnonzero(ok)
        label = f"(event={ids[i][0]}, series={ids[i][1]})"
        if used.size < min_estimation:
            raise EstimationError(
                f"GARCH estimation needs {min_estimation} usable estimation days, "
                f"got {used.size} {label}"
            )
        h = days - est_d[i, used[-1]]
        if (h < 1).any():
            raise EstimationError(
                f"event days must come after the last estimation day "
                f"(relative day {int(est_d[i, used[-1]])}) {label}"
            )
        try:
            res = fit_one(y_est[i, used], None if xe is None else xe[i, used], vol=vol, dist=dist)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise EstimationError(f"arch could not fit the GARCH model {label}: {exc}") from exc
        theta = res.params.to_numpy()[: 1 + n_exog].copy()
        theta[0] /= SCALE
        cov = res.param_cov.to_numpy()[: 1 + n_exog, : 1 + n_exog].copy()
        cov[0, :] /= SCALE
        cov[:, 0] /= SCALE
        ar[i] = y_evt[i] - design[i] @ theta
        horizon[i] = h
        sigma2[i] = _variance_path(res, h, n_exog) / SCALE**2
        est_z[i, used] = np.asarray(res.std_resid)
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
