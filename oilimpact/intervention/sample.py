"""The estimation sample of an intervention: the series on its period grid, the events
on it, the pre- and post-event windows, and the post-event rule.

:func:`build_sample` turns ``(series, events, options)`` into a :class:`Sample`;
:func:`post_event_periods` is the one statement of when a series has data after an
event, shared by :func:`~oilimpact.intervention.analysis.intervention`, the command
line and the brief.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError
from .notices import Collected
from .spec import DEFAULT_OPTIONS, MIN_PRE_PERIODS, Freq, Request
from .timing import (
    Placed,
    containing_position,
    first_treated,
    label,
    place_events,
    resolve_events,
)

__all__ = [
    "ALL_RULE",
    "Sample",
    "build_sample",
    "check_sample",
    "infer_frequency",
    "post_event_periods",
    "regularize",
    "sample_bounds",
    "validate_series",
]

#: ``pre_rule`` of a sample that uses all history before the event.
ALL_RULE = "all history"


@dataclass(frozen=True, slots=True)
class Sample:
    """A series on its complete period grid, the events on it, and the sample window.

    ``values`` holds the series on ``grid`` (NaN where a period is missing);
    ``placed`` the events in time order; ``s0 .. s1`` (inclusive) the grid positions of
    the estimation sample.
    """

    name: str
    freq: Freq
    grid: pd.DatetimeIndex
    values: np.ndarray
    placed: tuple[Placed, ...]
    s0: int
    s1: int
    pre_rule: str
    pre_obs: int
    min_pre: int

    @property
    def first(self) -> int:
        """Grid position of the first treated period of the first event."""
        return self.placed[0].first

    @property
    def containing(self) -> int:
        """Grid position of the period containing the first event."""
        return self.placed[0].containing

    @property
    def dates(self) -> pd.DatetimeIndex:
        """Periods of the sample."""
        return self.grid[self.s0 : self.s1 + 1]

    @property
    def y(self) -> np.ndarray:
        """Values of the sample (NaN where missing)."""
        return self.values[self.s0 : self.s1 + 1]

    @property
    def ids(self) -> list[str]:
        """Event ids in time order (merged events as ``a+b``)."""
        return [p.id for p in self.placed]

    @property
    def starts(self) -> list[int]:
        """First treated period of each event, relative to the sample start."""
        return [p.first - self.s0 for p in self.placed]

    @property
    def post_mask(self) -> np.ndarray:
        """True from the first treated period of the first event on."""
        return np.arange(self.s1 - self.s0 + 1) >= (self.first - self.s0)

    @property
    def pre_mean(self) -> float:
        """Mean of the observed values before the period containing the first event."""
        return float(np.nanmean(self.values[self.s0 : self.containing]))

    @property
    def pre_periods(self) -> int:
        """Calendar periods of the sample before the first treated period."""
        return self.first - self.s0

    @property
    def post_periods(self) -> int:
        """Calendar periods of the sample from the first treated period on."""
        return self.s1 - self.first + 1


def build_sample(series: pd.Series, events: Any, req: Request, collected: Collected) -> Sample:
    """The series on its grid, the events placed, the sample window checked."""
    name = str(series.name) if getattr(series, "name", None) is not None else "series"
    y_raw = validate_series(series, name)
    freq = infer_frequency(y_raw.index, req.frequency, name)
    on_grid = regularize(y_raw, freq, name)
    grid = on_grid.index
    values = on_grid.to_numpy(dtype="float64")
    min_pre = int(req.min_pre_periods if req.min_pre_periods is not None else MIN_PRE_PERIODS[freq])
    placed = place_events(events, grid, freq, req.start, req.close_events, name, collected)
    s0, s1, pre_rule = sample_bounds(grid, freq, placed, req.pre_periods, req.post_periods, name)
    pre_obs = check_sample(on_grid, freq, placed, s0, s1, min_pre, req.start)
    return Sample(name, freq, grid, values, tuple(placed), s0, s1, pre_rule, pre_obs, min_pre)


def validate_series(series: Any, name: str, min_rows: int = 2) -> pd.Series:
    """Float series, tz-naive normalised sorted unique dates; refuse anything else."""
    if not isinstance(series, pd.Series):
        raise EstimationError(f"needs a pandas Series, got {type(series).__name__}")
    if not isinstance(series.index, pd.DatetimeIndex):
        raise EstimationError(
            f"series {name} needs a DatetimeIndex, got {type(series.index).__name__}"
        )
    try:
        values = pd.to_numeric(series, errors="raise").astype("float64")
    except (TypeError, ValueError) as exc:
        raise EstimationError(f"series {name} needs numeric values, got {series.dtype}") from exc
    idx = series.index
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    out = pd.Series(values.to_numpy(), index=idx.normalize(), name=name).sort_index()
    if out.index.has_duplicates:
        dup = out.index[out.index.duplicated()][0]
        raise EstimationError(f"series {name} needs unique dates, got {dup:%Y-%m-%d} twice")
    if len(out) < min_rows:
        raise EstimationError(
            f"series {name} needs at least {min_rows} observations, got {len(out)}"
        )
    return out


_FREQ_ALIASES: dict[str, Freq] = {
    "weekly": "weekly",
    "w": "weekly",
    "monthly": "monthly",
    "m": "monthly",
    "ms": "monthly",
}


def infer_frequency(idx: pd.DatetimeIndex, frequency: str | None, name: str) -> Freq:
    """``frequency`` checked, or ``"weekly"``/``"monthly"`` from the median spacing.

    Examples
    --------
    >>> infer_frequency(pd.date_range("2020-01-01", periods=5, freq="MS"), None, "s")
    'monthly'
    >>> infer_frequency(pd.date_range("2020-01-03", periods=5, freq="7D"), "W", "s")
    'weekly'
    """
    if frequency is not None:
        key = str(frequency).lower()
        if key not in _FREQ_ALIASES:
            raise EstimationError(
                f"frequency must be 'weekly' or 'monthly', got {frequency!r} (series={name})"
            )
        return _FREQ_ALIASES[key]
    gaps = np.diff(idx.as_unit("ns").asi8) / 86_400e9
    med = float(np.median(gaps))
    if 6.0 <= med <= 8.0:
        return "weekly"
    if 27.0 <= med <= 32.0:
        return "monthly"
    raise EstimationError(
        f"cannot infer the frequency of {name}: needed weekly (7-day) or monthly spacing, got "
        f"a median spacing of {med:g} days; pass frequency='weekly' or 'monthly' (daily "
        "series belong in the event study)"
    )


def regularize(y: pd.Series, freq: Freq, name: str) -> pd.Series:
    """Reindex onto the complete period grid, missing periods as NaN."""
    if freq == "monthly":
        idx = y.index.to_period("M").to_timestamp()
        if idx.has_duplicates:
            dup = idx[idx.duplicated()][0]
            raise EstimationError(
                f"monthly series {name} needs one value per month, got two in {dup:%Y-%m}"
            )
        y = pd.Series(y.to_numpy(), index=idx, name=name)
        grid = pd.date_range(idx[0], idx[-1], freq="MS")
    else:
        days = (y.index - y.index[0]).days
        bad = np.asarray(days) % 7 != 0
        if bad.any():
            raise EstimationError(
                f"weekly series {name} needs dates 7 days apart (one weekday), got "
                f"{y.index[bad][0]:%Y-%m-%d} off the grid starting {y.index[0]:%Y-%m-%d}"
            )
        grid = pd.date_range(y.index[0], y.index[-1], freq="7D")
    grid = pd.DatetimeIndex(grid, name="date").as_unit("ns")
    return y.reindex(grid)


def sample_bounds(
    grid: pd.DatetimeIndex,
    freq: Freq,
    placed: list[Placed],
    pre_periods: int | str | None,
    post_periods: int | None,
    name: str,
) -> tuple[int, int, str]:
    """First and last grid position of the sample and how the pre-period was chosen.

    ``"default"``: ``DEFAULT_OPTIONS.pre_periods_for(freq)`` calendar periods before the
    first treated period, or all of them when fewer exist; ``"all"``/None: all; an int:
    exactly that many.
    """
    s0, rule = _pre_start(grid, freq, placed, pre_periods, name)
    e_first, n = placed[0].first, len(grid)
    if post_periods is not None:
        if post_periods < 1:
            raise EstimationError(f"post_periods must be >= 1, got {post_periods}")
        if e_first + post_periods > n:
            raise EstimationError(
                f"post_periods={post_periods} needs {post_periods} {freq} periods from "
                f"{label(grid[e_first], freq)} (event={placed[0].id}, series={name}), "
                f"got {n - e_first}"
            )
        s1 = e_first + post_periods - 1
    else:
        s1 = n - 1
    for p in placed:
        if p.first > s1:
            raise EstimationError(
                f"event {p.id} is treated from {label(grid[p.first], freq)}, after the end "
                f"of the post window {label(grid[s1], freq)}; needed post_periods >= "
                f"{p.first - e_first + 1}, got {post_periods}"
            )
    return s0, s1, rule


def _pre_start(
    grid: pd.DatetimeIndex,
    freq: Freq,
    placed: list[Placed],
    pre_periods: int | str | None,
    name: str,
) -> tuple[int, str]:
    """Grid position of the sample start and the rule that chose it."""
    e_first = placed[0].first
    if pre_periods is None or pre_periods == "all":
        return 0, ALL_RULE
    if pre_periods == "default":
        want = DEFAULT_OPTIONS.pre_periods_for(freq)
        rule = f"default {want} {freq} periods"
        if e_first < want:
            rule += f", clipped to the {e_first} available"
        return max(e_first - want, 0), rule
    if isinstance(pre_periods, str):
        raise EstimationError(
            f"pre_periods must be an int, 'default', 'all' or None, got {pre_periods!r}"
        )
    if pre_periods < 1:
        raise EstimationError(f"pre_periods must be >= 1, got {pre_periods}")
    if pre_periods > e_first:
        raise EstimationError(
            f"pre_periods={pre_periods} needs {pre_periods} {freq} periods before "
            f"{label(grid[e_first], freq)} (event={placed[0].id}, series={name}), "
            f"got {e_first}"
        )
    return e_first - int(pre_periods), "set by pre_periods"


def check_sample(
    on_grid: pd.Series,
    freq: Freq,
    placed: list[Placed],
    s0: int,
    s1: int,
    min_pre: int,
    start: str,
) -> int:
    """Observed pre-event periods (refused below ``min_pre``); data after the last event.

    The second check is :func:`post_event_periods` of the last event on the sample.
    """
    grid, yv, name = on_grid.index, on_grid.to_numpy(dtype="float64"), str(on_grid.name)
    c_first = placed[0].containing
    pre_obs = int(np.isfinite(yv[s0:c_first]).sum())
    if pre_obs < min_pre:
        raise EstimationError(
            f"needs at least {min_pre} observed {freq} periods before "
            f"{label(grid[c_first], freq)} (event={placed[0].id}, series={name}), "
            f"got {pre_obs}"
        )
    last = placed[-1]
    if post_event_periods(on_grid.iloc[: s1 + 1], last.date, start=start, frequency=freq) == 0:
        raise EstimationError(
            f"all values of {name} are missing from {label(grid[last.first], freq)} "
            f"(event={last.id}) to {label(grid[s1], freq)}: needed at least one observed "
            "period after the event, got 0"
        )
    return pre_obs


def post_event_periods(
    series: pd.Series,
    event: Any,
    *,
    start: str = DEFAULT_OPTIONS.start,
    frequency: str | None = None,
) -> int:
    """Observed periods of ``series`` from the first treated period of ``event`` on.

    This is the post-event rule of :func:`~oilimpact.intervention.analysis.intervention`:
    a fit needs at least one (``post_event_periods(...) >= 1``) for its last event.

    Parameters
    ----------
    series : pandas.Series
        A weekly or monthly series in the frame convention (missing periods NaN or
        absent).
    event : Event, str, date-like, or a one-item mapping / list
        One event, as :func:`~oilimpact.intervention.analysis.intervention` accepts it:
        an ``Event``, a catalog id, a date, ``{id: date}`` or ``[(id, date)]`` (a
        tz-aware time is dated in America/New_York).
    start : {"containing", "next"}
        The start rule (default :data:`DEFAULT_OPTIONS` ``.start``, ``"containing"``):
        the first treated period is the one containing the event date, or the next one.
    frequency : {"weekly", "monthly"}, optional
        Inferred from the index when omitted.

    Returns
    -------
    int
        Number of non-missing periods at or after the first treated period: 0 when the
        series ends before the event's (first treated) period or has only missing values
        from there; every observed period when the event precedes the series.

    Notes
    -----
    A monthly period is the calendar month; a weekly one is labelled by its last day
    and spans the 7 days ending there (EIA's "week ending"). With the default
    ``start="containing"`` an event on 2025-12-16 has post-event data as soon as the
    December value exists: a partially treated period counts as treated.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series([1.0, 2.0, 3.0], pd.date_range("2025-10-01", periods=3, freq="MS"))
    >>> post_event_periods(s, "2025-12-16"), post_event_periods(s, "2025-12-16", start="next")
    (1, 0)
    >>> post_event_periods(s, "2026-01-02")
    0
    """
    if start not in ("containing", "next"):
        raise EstimationError(f"start must be one of 'containing', 'next', got {start!r}")
    name = str(series.name) if getattr(series, "name", None) is not None else "series"
    resolved = resolve_events(event)
    if len(resolved) != 1:
        raise EstimationError(f"post_event_periods needs one event, got {len(resolved)}")
    date = resolved[0][1]
    y = validate_series(series, name, min_rows=1 if frequency is not None else 2)
    freq = infer_frequency(y.index, frequency, name)
    on_grid = regularize(y, freq, name)
    grid = on_grid.index
    pos = containing_position(grid, date, freq)
    if pos is None:  # before the first period (all of it is post-event) or after the last
        pos = 0 if date < grid[0] else len(grid)
        first = pos
    else:
        first = first_treated(pos, start)
    return int(np.isfinite(on_grid.to_numpy(dtype="float64")[first:]).sum())
