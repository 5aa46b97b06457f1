r"""The segmented (interrupted time-series) regression: its design matrix and OLS fit.

.. math::

    y_t = a + b t + \sum_j \left[ c_j S_{jt} + d_j (t - t_j) S_{jt}
          + g_j 1[t = t_j] + h_j \delta^{t - t_j} S_{jt} \right]
          + \sum_m s_m D_{mt} + e_t ,

with :math:`S_{jt} = 1[t \ge t_j]`, :math:`t_j` the first treated period of event
:math:`j`: level shift :math:`c_j`, change of slope :math:`d_j`, pulse :math:`g_j` and
geometric decay :math:`h_j` (rate :math:`\delta`, ``form="decay"``); :math:`D_{mt}`
month dummies (January is the base) or annual Fourier pairs
:math:`\sin(2\pi k \tau_t), \cos(2\pi k \tau_t)` (:math:`\tau_t` the fraction of the
year). Columns that the observed rows cannot identify are dropped, latest-priority
first (:func:`identified`). Wagner, Soumerai, Zhang and Ross-Degnan (2002), J. Clin.
Pharm. Ther. 27(4), 299-309.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import EstimationError
from .fit import Fit, avg_contrast
from .inference import segmented_cov
from .spec import Freq

__all__ = ["DesignOptions", "design", "design_arrays", "fit_segmented", "identified"]


@dataclass(frozen=True, slots=True)
class DesignOptions:
    """What the design matrix holds: trend, seasonal terms and the event terms."""

    freq: Freq
    trend: bool
    seasonal: str
    fourier_order: int
    step: bool
    slope: bool
    pulse: bool
    decay: float | None = None  # geometric decay rate of form="decay"
    profile: bool = False  # re-profile the decay rate on each placebo sample


def design_arrays(
    month: np.ndarray,
    doy: np.ndarray,
    ids: list[str],
    starts: list[int],
    opts: DesignOptions,
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


def design(
    dates: pd.DatetimeIndex, ids: list[str], starts: list[int], opts: DesignOptions
) -> tuple[pd.DataFrame, list[str]]:
    """Design matrix over ``dates``; returns the frame and the event columns in order."""
    X, names, event_cols = design_arrays(
        dates.month.to_numpy(), dates.day_of_year.to_numpy(), ids, starts, opts
    )
    return pd.DataFrame(X, index=dates, columns=names), event_cols


def identified(X: np.ndarray, names: list[str]) -> list[str]:
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


def fit_segmented(
    y: np.ndarray,
    dates: pd.DatetimeIndex,
    ids: list[str],
    starts: list[int],
    opts: DesignOptions,
    hac_lags: int | None,
    cov_type: str,
    alpha: float,
    post_mask: np.ndarray,
    df_floor: float = 0.0,
) -> Fit:
    """OLS of the segmented regression with the covariance of ``cov_type`` (see
    :mod:`~oilimpact.intervention.inference`), the counterfactual (event terms set to
    zero) and its pointwise ``1 - alpha`` band."""
    X_full, ev_all = design(dates, ids, starts, opts)
    obs = np.isfinite(y)
    kept = identified(X_full.to_numpy()[obs], list(X_full.columns))
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
    est = segmented_cov(Xo, y[obs] - Xo @ beta, cov_type, hac_lags, df_floor)
    params = pd.Series(beta, index=kept)
    cov = pd.DataFrame(est.cov, index=kept, columns=kept)
    fitted = X.to_numpy() @ beta
    X_cf = X.to_numpy().copy()
    X_cf[:, [kept.index(c) for c in event_cols]] = 0.0
    cf = X_cf @ beta
    half = stats.t.ppf(1 - alpha / 2, est.df) * np.sqrt(
        np.maximum(np.sum((X_cf @ est.cov) * X_cf, axis=1), 0.0)
    )
    return Fit(
        params=params,
        cov=cov,
        df=est.df,
        nobs=nobs,
        n_params=len(kept),
        event_cols=event_cols,
        dropped=dropped,
        avg_vec=avg_contrast(X, event_cols, post_mask & obs),
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
