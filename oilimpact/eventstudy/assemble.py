"""From fitted panels to an :class:`~oilimpact.eventstudy.result.EventStudyResult`.

:func:`pair_tables` runs the single-pair tests of one panel (a whole study or one chunk
of it: every row depends on its own pair only). :func:`finish_result` takes the tables
of the whole study, adds the q-values (one family per table and test) and runs the
cross-sectional tests once on the whole panel.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .multitest import MultitestMethod, adjust_pvalues
from .panel import AbnormalPanel
from .result import EventStudyResult, StudySpec
from .single import ar_tests, car_tests

__all__ = ["empty_tests", "finish_result", "pair_tables"]


def pair_tables(
    panel: AbnormalPanel,
    windows: Sequence[tuple[int, int]],
    event_dates: np.ndarray | None = None,
    confounded: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``abnormal`` and ``car`` tables of ``panel`` without their q-values: the
    per-day AR tests and the per-window CAR tests
    (:func:`~oilimpact.eventstudy.single.ar_tests`, :func:`~oilimpact.eventstudy.
    single.car_tests`), with the ``sessions`` each return or window spans."""
    n = panel.n_pairs
    L2 = panel.event_days.size
    ev = np.asarray(panel.ids.get_level_values(0), dtype=object)
    asset = np.asarray(panel.ids.get_level_values(1), dtype=object)
    art = ar_tests(panel)
    sessions = (
        np.asarray(panel.event_sessions, dtype=np.int64)
        if panel.event_sessions is not None
        else np.ones((n, L2), dtype=np.int64)
    )
    if event_dates is None:
        event_dates = np.full((n, L2), np.datetime64("NaT"), dtype="datetime64[ns]")
    abnormal = pd.DataFrame(
        {
            "event": np.repeat(ev, L2),
            "series": np.repeat(asset, L2),
            "day": np.tile(panel.event_days, n),
            "date": event_dates.reshape(-1),
            "ar": art["ar"].reshape(-1),
            "se": art["se"].reshape(-1),
            "tstat": art["tstat"].reshape(-1),
            "pvalue": art["pvalue"].reshape(-1),
            "sq_pvalue": art["sq_pvalue"].reshape(-1),
            "sessions": sessions.reshape(-1),
        }
    )
    car = car_tests(panel, windows).rename(columns={"asset": "series"})
    if confounded is None:
        confounded = np.zeros((n, len(windows)), dtype=bool)
    car["confounded"] = np.asarray(confounded, dtype=bool).reshape(-1)
    car["sessions"] = _window_sessions(panel, sessions, windows).reshape(-1)
    return abnormal, car


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
) -> EventStudyResult:
    """The result: q-values added to the tables (in place), the cross-sectional tests of
    the whole ``panel`` (two or more pairs), the alignment table (a minimal one when
    None)."""
    _add_qvalues(abnormal, car, spec.multitest)
    n = panel.n_pairs
    tests = (
        _cross_sectional(panel, windows, pooled, independence_tests) if n >= 2 else empty_tests()
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


def _add_qvalues(abnormal: pd.DataFrame, car: pd.DataFrame, method: MultitestMethod) -> None:
    """``qvalue`` (and ``sq_qvalue``) columns, in place: one family per table and test
    (all CAR t tests of the result; all its CAR SQ tests; all its AR t tests)."""
    car["qvalue"] = adjust_pvalues(car["pvalue"].to_numpy(dtype="float64"), method)
    car["sq_qvalue"] = adjust_pvalues(car["sq_pvalue"].to_numpy(dtype="float64"), method)
    abnormal["qvalue"] = adjust_pvalues(abnormal["pvalue"].to_numpy(dtype="float64"), method)


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
