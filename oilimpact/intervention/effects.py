"""The effect table of an intervention (``result.effects``): estimates, standard errors,
model p-values and intervals, percentages of the pre-event mean, placebo p-values.

Inference uses Student t with the fit's degrees of freedom (segmented) or the normal
(SARIMAX). Percentages divide the estimate and its interval by the pre-event mean,
treated as known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .result import EFFECT_COLUMNS

__all__ = ["effects_frame", "order_rows"]

_TERM_ORDER = {"level": 0, "slope": 1, "pulse": 2, "decay": 3, "average": 4}


def effects_frame(
    real: pd.DataFrame,
    placebo_p: tuple[np.ndarray, np.ndarray],
    pre_mean: float,
    alpha: float,
    event_ids: list[str] | None = None,
) -> pd.DataFrame:
    """The effect table from :func:`~oilimpact.intervention.fit.effect_stats` (``real``,
    with its ``attrs["df"]``) and the placebo p-values and counts of each row."""
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
    out = pd.DataFrame(
        {
            "event": [str(e) for e in real["event"]],
            "term": [str(t) for t in real["term"]],
            "estimate": est,
            "se": se,
            "stat": stat,
            "pvalue": pvalue,
            "ci_lower": lower,
            "ci_upper": upper,
            "pct_of_pre_mean": est * scale,
            "pct_ci_lower": np.minimum(lower * scale, upper * scale),
            "pct_ci_upper": np.maximum(lower * scale, upper * scale),
            "placebo_pvalue": placebo_p[0],
            "n_placebo": placebo_p[1],
        },
        columns=list(EFFECT_COLUMNS),
    )
    return order_rows(out, event_ids)


def order_rows(out: pd.DataFrame, event_ids: list[str] | None) -> pd.DataFrame:
    """Events in time order (``event_ids``), then ``"all"``; terms level, slope, pulse,
    decay, average."""
    events, terms = list(out["event"]), list(out["term"])
    known = list(event_ids or []) + [
        ev for ev in dict.fromkeys(events) if ev not in (event_ids or [])
    ]
    event_order = {ev: i for i, ev in enumerate(known)}
    order = sorted(
        range(len(out)), key=lambda i: (event_order[events[i]], _TERM_ORDER.get(terms[i], 99))
    )
    return out.iloc[order].reset_index(drop=True)
