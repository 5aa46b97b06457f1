"""From fitted panels to an :class:`~oilimpact.eventstudy.result.EventStudyResult`.

:func:`pair_tables` runs the single-pair tests of one panel (a whole study or one chunk
of it: every row depends on its own pair only). :func:`finish_result` takes the tables
of the whole study, adds the q-values (one family per table and test) and runs the
cross-sectional tests once on the whole panel.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd

from . import threads
from .crosssection.pieces import (
    CrossSectionPieces,
    combine_pieces,
    cross_section_pieces,
    grank_scale,
    plan_from_pieces,
    tests_from_pieces,
)
from .multitest import MultitestMethod, adjust_pvalues
from .panel import AbnormalPanel, panel_rows
from .result import EventStudyResult, StudySpec
from .single import ar_tests, car_frame, car_tests, pair_tests

__all__ = ["empty_tests", "finish_result", "pair_tables", "pooled_tests"]


def pair_tables(
    panel: AbnormalPanel,
    windows: Sequence[tuple[int, int]],
    event_dates: np.ndarray | None = None,
    confounded: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``abnormal`` and ``car`` tables of ``panel`` without their q-values: the
    per-day AR tests and the per-window CAR tests
    (:func:`~oilimpact.eventstudy.single.ar_tests`, :func:`~oilimpact.eventstudy.
    single.car_tests`, computed together by :func:`~oilimpact.eventstudy.single.
    pair_tests`), with the ``sessions`` each return or window spans."""
    n = panel.n_pairs
    L2 = panel.event_days.size
    ev, asset = _id_column(panel, 0, L2), _id_column(panel, 1, L2)
    wins = [(int(w[0]), int(w[1])) for w in windows]
    art, car_values = pair_tests(panel, wins) if wins else (ar_tests(panel), None)
    sessions = (
        np.asarray(panel.event_sessions, dtype=np.int64)
        if panel.event_sessions is not None
        else np.ones((n, L2), dtype=np.int64)
    )
    if event_dates is None:
        event_dates = np.full((n, L2), np.datetime64("NaT"), dtype="datetime64[ns]")
    # copy=False: the columns are not gathered into one block per dtype (a copy of the
    # table); the arrays the panel or the caller hold are copied, the others are new
    abnormal = pd.DataFrame(
        {
            "event": ev,
            "series": asset,
            "day": np.tile(panel.event_days, n),
            "date": np.array(event_dates).reshape(-1),
            "ar": np.array(art["ar"]).reshape(-1),
            "se": art["se"].reshape(-1),
            "tstat": art["tstat"].reshape(-1),
            "pvalue": art["pvalue"].reshape(-1),
            "sq_pvalue": art["sq_pvalue"].reshape(-1),
            "sessions": np.array(sessions).reshape(-1),
        },
        copy=False,
    )
    car = car_frame(panel, wins, car_values) if car_values is not None else car_tests(panel, wins)
    car = car.rename(columns={"asset": "series"})
    if confounded is None:
        confounded = np.zeros((n, len(windows)), dtype=bool)
    car["confounded"] = np.asarray(confounded, dtype=bool).reshape(-1)
    car["sessions"] = _window_sessions(panel, sessions, windows).reshape(-1)
    return abnormal, car


def _id_column(panel: AbnormalPanel, level: int, repeat: int) -> object:
    """Level ``level`` of the pairs' ids, each repeated ``repeat`` times: the column
    the table would infer from the ids as objects, taken from the (string) level
    itself when it is one (no per-row conversion of Python strings)."""
    values = panel.ids.get_level_values(level)
    rows = np.repeat(np.arange(panel.n_pairs), repeat)
    if isinstance(values.dtype, pd.StringDtype):
        return values.take(rows).array
    return np.asarray(values, dtype=object)[rows]


def finish_result(
    panel: AbnormalPanel,
    abnormal: pd.DataFrame,
    car: pd.DataFrame,
    windows: Sequence[tuple[int, int]],
    spec: StudySpec,
    alignment: pd.DataFrame | None,
    *,
    pooled: bool | Literal["auto"],
    independence_tests: bool,
    notices: Sequence[str] = (),
    tests: pd.DataFrame | None = None,
) -> EventStudyResult:
    """The result: q-values added to the tables (in place), the cross-sectional tests of
    the whole ``panel`` (two or more pairs; ``tests`` when given, e.g. from
    :func:`pooled_tests`), the alignment table (a minimal one when None)."""
    _add_qvalues(abnormal, car, spec.multitest)
    n = panel.n_pairs
    if tests is None:
        tests = (
            _cross_sectional(panel, windows, pooled, independence_tests)
            if n >= 2
            else empty_tests()
        )
    if alignment is None:
        alignment = pd.DataFrame(
            {
                "event": np.asarray(panel.ids.get_level_values(0), dtype=object),
                "series": np.asarray(panel.ids.get_level_values(1), dtype=object),
                "day0": panel.event_dates,
                "n_est": panel.n_est,
            }
        )
    return EventStudyResult(
        spec=spec,
        alignment=alignment,
        abnormal=abnormal,
        car=car,
        tests=tests,
        panel=panel,
        notices=tuple(notices),
    )


def pooled_tests(
    pieces: Sequence[CrossSectionPieces | None],
    panel: AbnormalPanel,
    windows: Sequence[tuple[int, int]],
    bounds: Sequence[tuple[int, int]],
    *,
    pooled: bool | Literal["auto"],
    independence_tests: bool,
) -> pd.DataFrame:
    """The cross-sectional tests of a study run in chunks, from the chunks' pieces.

    ``pieces`` are the chunks' :func:`~oilimpact.eventstudy.crosssection.
    cross_section_pieces` (in any order), ``bounds`` the chunks' pair ranges in
    ``panel``. The pieces are added (:func:`~oilimpact.eventstudy.crosssection.
    combine_pieces`) and the tests computed from the sums
    (:func:`~oilimpact.eventstudy.crosssection.tests_from_pieces`), equal to
    :func:`~oilimpact.eventstudy.crosssection.cross_sectional_tests` of the whole panel
    (to 1e-12, the order of the sums aside). When the plan runs GRANK its second pass
    reads ``panel`` chunk by chunk. Without pieces (a chunk did not compute them: the
    pooled tests were not to run) the tests of ``panel`` itself are returned (their
    plan stops before reading the arrays); fewer than two pairs give
    :func:`empty_tests`.
    """
    if panel.n_pairs < 2:
        return empty_tests()
    if not pieces or any(p is None for p in pieces):
        return _cross_sectional(panel, windows, pooled, independence_tests)
    combined = combine_pieces([p for p in pieces if p is not None])
    plan = plan_from_pieces(combined, pooled=pooled, independence_tests=independence_tests)
    if plan.run and "grank" in plan.tests:
        scale = grank_scale(combined)
        second = combine_pieces(
            [cross_section_pieces(panel_rows(panel, int(lo), int(hi)), windows, grank_scale=scale)
             for lo, hi in bounds if hi > lo]
        )  # fmt: skip
        combined = replace(combined, grank=second.grank, grank_sd=second.grank_sd)
    return tests_from_pieces(combined, pooled=pooled, independence_tests=independence_tests)


#: Tests (rows of the tables) from which the q-value families are adjusted on threads.
_QVALUE_THREAD_MIN = 50_000


def _add_qvalues(abnormal: pd.DataFrame, car: pd.DataFrame, method: MultitestMethod) -> None:
    """``qvalue`` (and ``sq_qvalue``) columns, in place: one family per table and test
    (all CAR t tests of the result; all its CAR SQ tests; all its AR t tests).

    The families are independent, so on large tables they are adjusted at the same
    time on a few threads (the sort that costs releases the GIL); same values."""
    families = [
        car["pvalue"].to_numpy(dtype="float64"),
        car["sq_pvalue"].to_numpy(dtype="float64"),
        abnormal["pvalue"].to_numpy(dtype="float64"),
    ]
    if len(car) + len(abnormal) >= _QVALUE_THREAD_MIN and threads.n_threads() > 1:
        q = list(threads.pool().map(lambda p: adjust_pvalues(p, method), families))
    else:
        q = [adjust_pvalues(p, method) for p in families]
    car["qvalue"], car["sq_qvalue"], abnormal["qvalue"] = q


def _window_sessions(
    panel: AbnormalPanel, sessions: np.ndarray, windows: Sequence[tuple[int, int]]
) -> np.ndarray:
    """Sessions of the series' calendar each CAR window spans, shape (N, J): the sum of
    its returns' ``sessions`` (more than the window's length when one spans a missing
    session; 0 counts a day outside the data)."""
    out = np.empty((panel.n_pairs, len(windows)), dtype=np.int64)
    for j, window in enumerate(windows):
        out[:, j] = sessions[:, panel.window_index(tuple(window))].sum(axis=1)
    return out


def empty_tests() -> pd.DataFrame:
    """The ``tests`` table of a study without pooled tests."""
    return pd.DataFrame(
        {
            "window": pd.Series(dtype=object),
            "test": pd.Series(dtype=object),
            "statistic": pd.Series(dtype="float64"),
            "pvalue": pd.Series(dtype="float64"),
            "n": pd.Series(dtype="int64"),
        }
    )


def _cross_sectional(
    panel: AbnormalPanel,
    windows: Sequence[tuple[int, int]],
    pooled: bool | Literal["auto"] = "auto",
    independence_tests: bool = False,
) -> pd.DataFrame:
    """The cross-sectional tests, under the pooled-test policy of
    :func:`~oilimpact.eventstudy.crosssection.cross_sectional_tests`."""
    try:
        from .crosssection import cross_sectional_tests
    except ImportError:  # pragma: no cover - part of the package
        return empty_tests()
    params = inspect.signature(cross_sectional_tests).parameters
    if "pooled" in params and "independence_tests" in params:
        return cross_sectional_tests(
            panel, list(windows), pooled=pooled, independence_tests=independence_tests
        )
    return cross_sectional_tests(panel, list(windows))  # pragma: no cover - older policy
