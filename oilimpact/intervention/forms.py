r"""Effect forms: permanent level shift, level + slope, pulse, geometric decay, compared
on the same sample by an information criterion.

``form="decay"`` replaces the level shift by :math:`c_j \delta^{t - t_j} S_{jt}` with one
rate :math:`\delta \in [0, 0.999]` for all events, profiled by least squares
(:func:`profile_decay`); it nests the pulse (:math:`\delta = 0`) and, as
:math:`\delta \to 1`, the level shift. :func:`form_table` compares the forms by the
Gaussian log-likelihood :math:`\ell = -\tfrac{T}{2}[\log(2\pi\,\mathrm{SSR}/T) + 1]`,
:math:`\mathrm{AIC} = -2\ell + 2k`, :math:`\mathrm{BIC} = -2\ell + k \log T`
(:math:`k`: regressors kept, the variance, and the rate for ``decay``). BIC is the
default because it selects the true form with probability tending to one (Schwarz
1978, Annals of Statistics 6(2), 461-464).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from .result import FORM_COLUMNS
from .segmented import DesignOptions, design_arrays, identified

__all__ = [
    "DECAY_GRID_STEP",
    "DECAY_RATE_MAX",
    "fitted_options",
    "form_options",
    "form_table",
    "ols_ssr",
    "profile_decay",
]

#: Step of the grid on which the decay rate is profiled before a bounded Brent search.
DECAY_GRID_STEP = 0.02
#: Upper bound of the decay rate (1 would be the permanent level shift).
DECAY_RATE_MAX = 0.999


def form_options(base: DesignOptions, form: str, rate: float | None = None) -> DesignOptions:
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


def ols_ssr(
    y: np.ndarray,
    month: np.ndarray,
    doy: np.ndarray,
    ids: list[str],
    starts: list[int],
    opts: DesignOptions,
) -> tuple[float, int, int]:
    """Residual sum of squares, observations and identified regressors of one design."""
    X, names, _ = design_arrays(month, doy, ids, starts, opts)
    obs = np.isfinite(y)
    kept = identified(X[obs], names)
    Xo = X[obs][:, [names.index(c) for c in kept]]
    beta, *_ = np.linalg.lstsq(Xo, y[obs], rcond=None)
    resid = y[obs] - Xo @ beta
    return float(resid @ resid), int(obs.sum()), len(kept)


def profile_decay(
    y: np.ndarray,
    month: np.ndarray,
    doy: np.ndarray,
    ids: list[str],
    starts: list[int],
    opts: DesignOptions,
) -> float:
    """Least-squares decay rate: a grid of step 0.02 on [0, 0.98], then bounded Brent.

    The residual sum of squares at each rate is that of the decay columns after
    projecting ``y`` and them off the other regressors (Frisch-Waugh-Lovell), so the
    design is built and factorised once.
    """
    from scipy.optimize import minimize_scalar

    base = replace(opts, step=False, slope=False, pulse=False, decay=None)
    X, names, _ = design_arrays(month, doy, ids, starts, base)
    obs = np.isfinite(y)
    kept = identified(X[obs], names)
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


def form_table(
    y: np.ndarray,
    dates: pd.DatetimeIndex,
    ids: list[str],
    starts: list[int],
    base: DesignOptions,
    form_ic: str,
) -> pd.DataFrame:
    """Gaussian log-likelihood, AIC and BIC of each effect form on the same sample."""
    month, doy = dates.month.to_numpy(), dates.day_of_year.to_numpy()
    rate = profile_decay(y, month, doy, ids, starts, form_options(base, "decay", 0.5))
    rows = []
    for form in ("level", "level+slope", "pulse", "decay"):
        opts = form_options(base, form, rate)
        ssr, n, k = ols_ssr(y, month, doy, ids, starts, opts)
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


def fitted_options(
    form: str, base: DesignOptions, forms: pd.DataFrame | None
) -> tuple[DesignOptions, str]:
    """Design options of the reported fit and the name of its form."""
    if form == "level" or forms is None:
        return base, form
    if form == "compare":
        best = str(forms.loc[forms["best"], "form"].iloc[0])
        chosen = form_options(base, best, float(forms.set_index("form").loc["decay", "rate"]))
        return chosen, "level" if best == "level+slope" else best
    if form == "decay":
        return form_options(
            base, "decay", float(forms.set_index("form").loc["decay", "rate"])
        ), form
    return base, form
