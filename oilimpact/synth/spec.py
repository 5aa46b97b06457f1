"""What a synthetic-control study estimates: the panel, the event, the predictors.

:func:`build_data` turns the user's inputs (a wide or long panel, an event, a donor
list, predictor specifications) into :class:`SynthData`, the arrays the weight and
inference modules work on. Nothing here optimises anything.

The panel
---------
*Wide*: a DataFrame with a ``DatetimeIndex`` (period labels: the first day of a month,
quarter or year, or the session/week-ending date) and one column per unit, holding one
outcome. Extra predictor variables come as ``covariates={"name": wide_frame}`` with the
same layout. *Long*: a DataFrame with columns ``unit``, ``date`` and one column per
variable; ``outcome=`` names the outcome column, the others may be used as predictors.

The event
---------
An :class:`oilimpact.events.Event`, an id of the packaged catalog or a date. The first
treated period is the period that contains the event: for month/quarter/year-start
labels the last label on or before the event date, otherwise (daily, weekly-ending,
irregular) the first label on or after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError, InputError
from ..events import Event, load_catalog

__all__ = ["Predictor", "SynthData", "build_data", "first_treated", "resolve_event"]



@dataclass(frozen=True, slots=True)
class Predictor:
    """One row of the predictor matrix X: a variable averaged over some pre-event periods.

    Parameters
    ----------
    variable : str
        ``"outcome"`` (the panel's outcome) or the name of a covariate.
    periods : tuple of Timestamps or None
        The periods averaged; None means every pre-event period of the fit window.

    Examples
    --------
    >>> Predictor("outcome", (pd.Timestamp("1990-01-01"),)).label
    'outcome(1990-01-01)'
    """

    variable: str
    periods: tuple[pd.Timestamp, ...] | None = None

    @property
    def label(self) -> str:
        if self.periods is None:
            return f"{self.variable}(mean pre)"
        dates = ",".join(p.strftime("%Y-%m-%d") for p in self.periods)
        return f"{self.variable}({dates})"


@dataclass(frozen=True, slots=True)
class SynthData:
    """Arrays of one study; units and dates kept as labels for the result.

    ``Y`` is the outcome (periods x units, treated first column); ``X`` the predictor
    matrix (predictors x units, same column order); ``n_pre`` the number of pre-event
    periods at the top of ``Y``.
    """

    dates: pd.DatetimeIndex
    units: tuple[str, ...]
    Y: np.ndarray
    X: np.ndarray
    predictor_labels: tuple[str, ...]
    n_pre: int
    event_label: str
    event_date: pd.Timestamp
    outcome_only: bool
    dropped_donors: tuple[str, ...] = field(default=())

    @property
    def treated(self) -> str:
        return self.units[0]

    @property
    def donors(self) -> tuple[str, ...]:
        return self.units[1:]

    def with_units(self, order: Sequence[int]) -> SynthData:
        """The same study with columns ``order`` (first = treated)."""
        idx = list(order)
        return SynthData(
            self.dates,
            tuple(self.units[i] for i in idx),
            self.Y[:, idx],
            self.X[:, idx],
            self.predictor_labels,
            self.n_pre,
            self.event_label,
            self.event_date,
            self.outcome_only,
        )


def resolve_event(event: Event | str | dt.date | pd.Timestamp) -> tuple[str, pd.Timestamp]:
    """Return ``(label, date)`` for an Event, a catalog id or a date.

    Examples
    --------
    >>> resolve_event("blockade")
    ('blockade', Timestamp('2025-12-16 00:00:00'))
    >>> resolve_event("1993-01-01")
    ('1993-01-01', Timestamp('1993-01-01 00:00:00'))
    """
    if isinstance(event, Event):
        return event.id, pd.Timestamp(event.date)
    if isinstance(event, str):
        catalog = load_catalog()
        if event in catalog:
            return event, pd.Timestamp(catalog[event].date)
        try:
            stamp = pd.Timestamp(event)
        except (ValueError, TypeError) as exc:
            raise InputError(
                f"event {event!r} is neither a catalog id ({', '.join(catalog.ids[:5])}, ...) "
                "nor a date"
            ) from exc
        return event, stamp.tz_localize(None).normalize() if stamp.tzinfo else stamp.normalize()
    stamp = pd.Timestamp(event)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.strftime("%Y-%m-%d"), stamp.normalize()


def first_treated(dates: pd.DatetimeIndex, event_date: pd.Timestamp) -> int:
    """Position of the first treated period (the period containing the event).

    Examples
    --------
    >>> idx = pd.date_range("2025-01-01", periods=12, freq="MS")
    >>> first_treated(idx, pd.Timestamp("2025-06-16"))
    5
    """
    spacing = np.diff(dates.values).min() / np.timedelta64(1, "D") if len(dates) > 1 else 0.0
    starts = bool((dates.day == 1).all()) and spacing >= 28  # month/quarter/year starts
    if starts:
        pos = int(dates.searchsorted(event_date, side="right")) - 1
    else:
        pos = int(dates.searchsorted(event_date, side="left"))
    beyond = len(dates) > 1 and event_date >= dates[-1] + (dates[-1] - dates[-2])
    if pos < 1 or pos >= len(dates) or (starts and beyond):
        raise EstimationError(
            f"event {event_date.date()} is not inside the panel ({dates[0].date()} to "
            f"{dates[-1].date()}) with at least one pre-event period"
        )
    return pos


def _wide(panel: pd.DataFrame, outcome: str | None) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    if {"unit", "date"} <= set(panel.columns):
        if outcome is None or outcome not in panel.columns:
            raise InputError(
                f"a long panel needs outcome= naming one of its columns, got {outcome!r} "
                f"(columns: {', '.join(map(str, panel.columns))})"
            )
        frame = panel.assign(date=pd.to_datetime(panel["date"]))
        dup = frame.duplicated(["unit", "date"])
        if dup.any():
            row = frame.loc[dup].iloc[0]
            raise InputError(f"long panel has two rows for unit={row['unit']}, date={row['date'].date()}")
        wide = {
            c: frame.pivot(index="date", columns="unit", values=c).astype("float64")
            for c in frame.columns
            if c not in ("unit", "date") and pd.api.types.is_numeric_dtype(frame[c])
        }
        return wide.pop(outcome), wide
    if not isinstance(panel.index, pd.DatetimeIndex):
        raise InputError(
            "panel must be wide (DatetimeIndex x units) or long (columns unit, date, "
            f"values); got index of type {type(panel.index).__name__}"
        )
    return panel.astype("float64"), {}


def _predictor_rows(
    predictors: Sequence[Predictor | tuple[str, Any] | str] | None,
    outcome: pd.DataFrame,
    covariates: Mapping[str, pd.DataFrame],
    pre: pd.DatetimeIndex,
    units: list[str],
) -> tuple[np.ndarray, tuple[str, ...], bool]:
    if predictors is None:  # every pre-event outcome: W minimises the pre-period MSPE
        X = outcome.loc[pre, units].to_numpy().copy()
        return X, tuple(f"outcome({d:%Y-%m-%d})" for d in pre), True
    rows, labels = [], []
    for item in predictors:
        if isinstance(item, str):
            item = Predictor(item)
        elif not isinstance(item, Predictor):
            var, periods = item
            if periods is not None:
                seq = periods if isinstance(periods, list | tuple) else [periods]
                periods = tuple(pd.Timestamp(p) for p in seq)
            item = Predictor(var, periods)
        source = outcome if item.variable == "outcome" else covariates.get(item.variable)
        if source is None:
            raise InputError(
                f"predictor {item.variable!r} is not the outcome nor a covariate "
                f"(covariates: {', '.join(covariates) or 'none'})"
            )
        when = pre if item.periods is None else pd.DatetimeIndex(item.periods)
        missing = [d for d in when if d not in source.index]
        if missing:
            raise InputError(f"predictor {item.label}: no period {missing[0].date()} in the data")
        block = source.reindex(columns=units).loc[when]
        # mean over the periods, ignoring missing ones (as Synth's dataprep does)
        row = block.mean(axis=0, skipna=True).to_numpy()
        if np.isnan(row).any():
            bad = [u for u, v in zip(units, row, strict=True) if np.isnan(v)]
            raise InputError(f"predictor {item.label} has no value for unit(s) {', '.join(map(str, bad))}")
        rows.append(row)
        labels.append(item.label)
    return np.vstack(rows), tuple(labels), False


def build_data(
    panel: pd.DataFrame,
    *,
    treated: str,
    event: Event | str | dt.date | pd.Timestamp,
    donors: Sequence[str] | None = None,
    pre_periods: int | None = None,
    post_periods: int | None = None,
    predictors: Sequence[Predictor | tuple[str, Any] | str] | None = None,
    covariates: Mapping[str, pd.DataFrame] | None = None,
    outcome: str | None = None,
) -> SynthData:
    """Resolve the inputs of :func:`~oilimpact.synth.synthetic_control` into arrays.

    Donors with a missing outcome inside the study window are dropped and listed in
    ``dropped_donors``; a treated unit with a missing outcome there is an error naming
    the dates.
    """
    Y, covs = _wide(panel, outcome)
    covs.update(covariates or {})
    Y = Y.sort_index()
    if treated not in Y.columns:
        raise InputError(f"treated unit {treated!r} is not a column of the panel")
    label, date = resolve_event(event)
    pos = first_treated(Y.index, date)
    start = 0 if pre_periods is None else max(0, pos - int(pre_periods))
    if pre_periods is not None and pos - start < int(pre_periods):
        raise EstimationError(
            f"pre_periods={pre_periods} needs {pre_periods} periods before "
            f"{Y.index[pos].date()}, the panel has {pos} (event={label}, treated={treated})"
        )
    stop = len(Y) if post_periods is None else min(len(Y), pos + int(post_periods))
    window = Y.iloc[start:stop]
    pool = [c for c in (donors if donors is not None else Y.columns) if c != treated]
    unknown = [d for d in pool if d not in Y.columns]
    if unknown:
        raise InputError(f"donor(s) not in the panel: {', '.join(map(str, unknown))}")
    gaps = window.index[window[treated].isna()]
    if len(gaps):
        raise EstimationError(
            f"treated unit {treated!r} has no outcome on {', '.join(f'{d:%Y-%m-%d}' for d in gaps[:5])} "
            f"inside the study window {window.index[0].date()} to {window.index[-1].date()}"
        )
    dropped = tuple(d for d in pool if window[d].isna().any())
    pool = [d for d in pool if d not in dropped]
    if len(pool) < 2:
        raise EstimationError(f"synthetic control needs at least 2 complete donors, got {len(pool)}")
    units = [treated, *pool]
    pre = window.index[: pos - start]
    X, labels, only = _predictor_rows(predictors, Y, covs, pre, units)
    return SynthData(
        dates=pd.DatetimeIndex(window.index),
        units=tuple(map(str, units)),
        Y=window[units].to_numpy(dtype="float64"),
        X=X.astype("float64"),
        predictor_labels=labels,
        n_pre=pos - start,
        event_label=label,
        event_date=date,
        outcome_only=only,
        dropped_donors=tuple(map(str, dropped)),
    )
