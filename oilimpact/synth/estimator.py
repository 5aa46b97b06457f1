"""The public entry point: :func:`synthetic_control` (spec -> weights -> inference -> result)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..events import Event
from .conformal import conformal_table
from .placebo import (
    DEFAULT_MSPE_CUTOFF,
    fit_gap,
    in_time_placebos,
    leave_one_out,
    placebo_in_space,
    rank_pvalue,
    rmspe,
)
from .result import SynthResult, _predictor_table
from .spec import Predictor, SynthData, build_data, first_treated, resolve_event

__all__ = ["synthetic_control"]

EventLike = Event | str | dt.date | pd.Timestamp


def _in_time_positions(data: SynthData, in_time: Sequence[EventLike] | Literal["auto"] | None) -> tuple[list[int], list[str]]:
    if in_time is None:
        return [], []
    if isinstance(in_time, str) and in_time == "auto":
        p = data.n_pre // 2  # ADH 2015 backdate the event to mid pre-period
        return ([p], [f"midpoint {data.dates[p]:%Y-%m-%d}"]) if p >= 2 else ([], [])
    positions, labels = [], []
    for ev in in_time:
        label, date = resolve_event(ev)
        try:
            pos = first_treated(data.dates, date)
        except EstimationError:
            pos = -1
        if not 2 <= pos < data.n_pre:
            raise EstimationError(
                f"in-time placebo {label} ({date.date()}) must leave at least 2 periods before it "
                f"and fall before the event {data.event_label} ({data.dates[data.n_pre].date()})"
            )
        positions.append(pos)
        labels.append(label)
    return positions, labels


def synthetic_control(
    panel: pd.DataFrame,
    *,
    treated: str,
    event: EventLike,
    donors: Sequence[str] | None = None,
    pre_periods: int | None = None,
    post_periods: int | None = None,
    predictors: Sequence[Predictor | tuple[str, Any] | str] | None = None,
    covariates: Mapping[str, pd.DataFrame] | None = None,
    outcome: str | None = None,
    unit: str = "",
    alpha: float = 0.05,
    placebo: bool = True,
    mspe_cutoff: float | None = DEFAULT_MSPE_CUTOFF,
    loo: Literal["positive", "all", "none"] = "positive",
    in_time: Sequence[EventLike] | Literal["auto"] | None = "auto",
    conformal: bool = True,
    executor: Executor | None = None,
) -> SynthResult:
    """Synthetic control for one treated unit (Abadie, Diamond and Hainmueller 2010).

    Parameters
    ----------
    panel : DataFrame
        Wide (DatetimeIndex x units, one outcome) or long (columns ``unit``, ``date``
        and variables, with ``outcome=``); see :mod:`oilimpact.synth.spec`.
    treated : str
        The treated unit (a column of the wide panel).
    event : Event, catalog id or date
        The first treated period is the period that contains it.
    donors : sequence of str, optional
        Donor pool; default every other unit. Donors with a missing outcome in the
        window are dropped and listed in ``result.dropped_donors``.
    pre_periods, post_periods : int, optional
        Number of periods before / from the event to use (default: all).
    predictors : sequence, optional
        Rows of X: :class:`Predictor` or ``(variable, periods)`` tuples (periods None =
        pre-event mean; a date or list of dates = their mean) or variable names.
        Default: every pre-event outcome (then V = I and W minimises pre-event MSPE).
    covariates : mapping of str to wide DataFrame, optional
        Extra predictor variables for a wide panel.
    outcome : str, optional
        Outcome column of a long panel.
    unit : str
        Unit of the outcome, shown with the effect (e.g. ``"kb/d"``).
    alpha : float
        Level of the conformal intervals (default 0.05).
    placebo : bool
        Run placebo-in-space (default True).
    mspe_cutoff : float or None
        Exclude placebos with pre-event MSPE above ``mspe_cutoff`` x the treated
        unit's from the rank p-value (default 5, as ADH 2010 Fig. 6; None keeps all).
    loo : {"positive", "all", "none"}
        Leave-one-out over donors with positive weight (default), all donors, or none.
    in_time : "auto", sequence of events/dates, or None
        In-time placebos; ``"auto"`` backdates the event to the middle of the
        pre-event window.
    conformal : bool
        Conformal p-values and intervals (default True).
    executor : concurrent.futures.Executor, optional
        Runs the placebo and leave-one-out refits; default serial. Results are
        identical either way.

    Returns
    -------
    SynthResult

    Notes
    -----
    W*(V) = argmin (X1 - X0 W)'V(X1 - X0 W) on the simplex; V minimises the pre-event
    MSPE |Z1 - Z0 W*(V)|^2 / T0 (:mod:`oilimpact.synth.weights`). The effect at t is
    the gap Y1t - sum_j w_j Yjt; the average effect is its mean over post periods.
    Placebo ratios: Abadie, Diamond and Hainmueller (2010); conformal inference:
    Chernozhukov, Wuthrich and Zhu (2021). Details and defaults: docs/methods-synth.md.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> idx = pd.date_range("2020-01-01", periods=36, freq="MS")
    >>> f = rng.normal(size=(36, 2)).cumsum(axis=0)
    >>> donors = {f"d{i}": f @ rng.uniform(0, 1, 2) + rng.normal(0, 0.1, 36) for i in range(8)}
    >>> panel = pd.DataFrame(donors, index=idx)
    >>> panel["ve"] = 0.5 * panel["d0"] + 0.5 * panel["d1"] + rng.normal(0, 0.1, 36)
    >>> panel.loc["2022-07-01":, "ve"] -= 5.0
    >>> res = synthetic_control(panel, treated="ve", event="2022-07-15", unit="kb/d")
    >>> round(float(res.params.sum()), 6), bool((res.params >= 0).all())
    (1.0, True)
    >>> -5.6 < res.effect < -4.4, res.placebo_pvalue_all == 1 / 9
    (True, True)
    """
    data = build_data(panel, treated=treated, event=event, donors=donors,
                      pre_periods=pre_periods, post_periods=post_periods,
                      predictors=predictors, covariates=covariates, outcome=outcome)
    gap, w, v = fit_gap(data.Y, data.X, data.n_pre, data.outcome_only)
    pre, post = rmspe(gap, data.n_pre)
    path = pd.DataFrame({"actual": data.Y[:, 0], "synthetic": data.Y[:, 0] - gap, "gap": gap,
                         "post": np.arange(len(gap)) >= data.n_pre}, index=data.dates)
    notes = [
        "W >= 0, sum(W) = 1; " + ("V = I (predictors are the pre-event outcomes)" if data.outcome_only
                                  else "V by Nelder-Mead from equal and regression starts"),
    ]
    table, gaps, p_rank, p_all = _placebos(data, gap, placebo, mspe_cutoff, executor, notes)
    loo_table = None if loo == "none" else leave_one_out(data, w, which=loo, executor=executor)
    pos, labels = _in_time_positions(data, in_time)
    in_time_table = in_time_placebos(data, pos, labels, executor=executor) if pos else None
    conf = _conformal(data, gap, alpha, notes) if conformal else None
    return SynthResult(
        treated=data.treated, event=data.event_label, event_date=data.event_date, unit=unit,
        params=pd.Series(w, index=pd.Index(data.donors, name="donor"), name="weight"),
        v_weights=pd.Series(v, index=pd.Index(data.predictor_labels, name="predictor"), name="v"),
        predictors=_predictor_table(data.predictor_labels, data.X, w), path=path,
        pre_rmspe=pre, post_rmspe=post, effect=float(gap[data.n_pre:].mean()), alpha=alpha,
        conformal=conf, placebos=table, placebo_gaps=gaps, placebo_pvalue=p_rank,
        placebo_pvalue_all=p_all, mspe_cutoff=mspe_cutoff, leave_one_out=loo_table,
        in_time=in_time_table, dropped_donors=data.dropped_donors, notes=tuple(notes),
    )


def _placebos(
    data: SynthData,
    gap: np.ndarray,
    placebo: bool,
    mspe_cutoff: float | None,
    executor: Executor | None,
    notes: list[str],
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, float, float]:
    """Placebo-in-space table and gaps, the rank p-values (kept placebos, all); adds a note."""
    if not placebo:
        return None, None, float("nan"), float("nan")
    table, gaps = placebo_in_space(data, gap, mspe_cutoff=mspe_cutoff, executor=executor)
    kept = table.iloc[1:][~table["excluded"].iloc[1:]]
    p_rank = rank_pvalue(table["ratio"].iloc[0], kept["ratio"])
    p_all = rank_pvalue(table["ratio"].iloc[0], table["ratio"].iloc[1:])
    notes.append(f"placebo rank p: placebos with pre-MSPE > {mspe_cutoff} x the treated unit's "
                 f"excluded ({int(table['excluded'].sum())} of {len(table) - 1})")
    return table, gaps, p_rank, p_all


def _conformal(data: SynthData, gap: np.ndarray, alpha: float, notes: list[str]) -> pd.DataFrame:
    """Conformal p-values and intervals (CWZ 2021); adds its notes."""
    conf = conformal_table(data.Y, data.n_pre, data.dates, gap, alpha)
    notes.append("conformal: outcome-only synthetic control refitted on all periods under H0, "
                 "moving-block permutations, q = 1 (CWZ 2021)")
    if np.isinf(conf["ci_lower"]).any():
        notes.append(f"an unbounded interval means 1/T > alpha={alpha}: too few periods to reject")
    return conf
