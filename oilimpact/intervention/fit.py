"""The common shape of a fitted intervention model (segmented OLS or SARIMAX) and the
result pieces read off it: the path frame and :class:`~oilimpact.intervention.result.ModelInfo`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .notices import Collected, InterventionWarning
from .result import PATH_COLUMNS, ModelInfo

__all__ = [
    "Fit",
    "avg_contrast",
    "effect_stats",
    "fit_warnings",
    "model_info_of",
    "path_frame",
]


@dataclass(slots=True)
class Fit:
    """A fitted model: parameters and covariance, the event columns kept and dropped, the
    contrast of the ``average`` effect, the fitted and counterfactual path with its band,
    and what the inference used (df, HAC lags and rule, prewhitening AR(1))."""

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
    order: tuple[int, int, int] | None = None  # SARIMAX order chosen
    seasonal_order: tuple[int, int, int, int] | None = None  # SARIMAX seasonal order
    candidates: pd.DataFrame | None = None  # SARIMAX order search


def avg_contrast(X: pd.DataFrame, event_cols: list[str], rows: np.ndarray) -> pd.Series:
    """Contrast of the ``average`` effect: the event columns' means over ``rows``."""
    vec = pd.Series(0.0, index=X.columns)
    if rows.any():
        vec[event_cols] = X.loc[rows, event_cols].mean(axis=0).to_numpy()
    return vec


def path_frame(dates: pd.DatetimeIndex, ys: np.ndarray, fit: Fit) -> pd.DataFrame:
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


def model_info_of(
    fit: Fit,
    model: str,
    pre_mean: float,
    ic: str,
    fitted_form: str,
    decay_rate: float | None,
) -> ModelInfo:
    """What was fitted, for ``result.model_info``."""
    return ModelInfo(
        model=model,  # type: ignore[arg-type]
        nobs=fit.nobs,
        n_params=fit.n_params,
        df_resid=fit.df,
        hac_lags=fit.hac_lags,
        pre_mean=pre_mean,
        order=fit.order,
        seasonal_order=fit.seasonal_order,
        trend=fit.trend,
        ic=ic if model == "sarimax" else None,
        ic_value=fit.ic_value.get(ic) if model == "sarimax" else None,
        candidates=fit.candidates,
        params=fit.params,
        cov_params=fit.cov,
        columns=tuple(fit.params.index),
        dropped=tuple(fit.dropped),
        cov_type=fit.cov_type,
        hac_rule=fit.hac_rule,
        prewhiten_rho=fit.rho,
        form=fitted_form,
        decay_rate=decay_rate,
        df_satterthwaite=fit.df_raw,
    )


def effect_stats(fit: Fit) -> pd.DataFrame:
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


def fit_warnings(fit: Fit, freq: str, df_floor: float, name: str, rho_max: float) -> Collected:
    """Dropped terms, a floored Satterthwaite df, a prewhitening AR(1) at its bound ``rho_max``."""
    out: Collected = []
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
    at_bound = abs(fit.rho) >= rho_max - 1e-9
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
                f"{rho_max}: the residuals are close to a random walk and the "
                "standard errors rest on that bound; read the placebo p-value beside them",
            )
        )
    return out
