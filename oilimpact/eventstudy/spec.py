"""The options of an event study, validated once where the study starts.

:func:`study_options` checks every option of
:func:`~oilimpact.eventstudy.engine.event_study` and returns a frozen
:class:`StudyOptions` (picklable: the chunks of a distributed study carry it). Nothing
here reads data.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import EstimationError
from .models import GARCH_MODELS, MODELS, GarchModel, ModelName
from .multitest import MULTITEST_METHODS, MultitestMethod
from .panel import Conventions
from .result import ShortEstimationWarning
from .returns import ReturnMethod

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_ESTIMATION_WINDOW",
    "DEFAULT_EVENT_WINDOWS",
    "DEFAULT_EXCLUSION_BAND",
    "DEFAULT_MIN_ESTIMATION",
    "GARCH_MIN_WINDOW",
    "GARCH_WINDOW",
    "InputKind",
    "StudyOptions",
    "default_estimation_window",
    "prepare_windows",
    "study_options",
]

InputKind = Literal["auto", "prices", "returns"]

DEFAULT_EVENT_WINDOWS: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (-1, 1), (0, 5), (0, 10))

#: Relative days around every *other* event's day 0 removed from an estimation window:
#: fixed, so adding an event window never changes another window's numbers (it covers
#: the default windows, and a pre-event drift of two weeks).
DEFAULT_EXCLUSION_BAND: tuple[int, int] = (-10, 10)

#: The smallest default ``min_estimation``: half the default estimation window.
DEFAULT_MIN_ESTIMATION = 120

#: Default number of (event, asset) pairs per chunk: large enough that a chunk runs the
#: compiled kernels (at least :data:`~oilimpact.eventstudy.kernels.MIN_PAIRS`) and the
#: per-chunk overhead is small, small enough that a chunk's arrays (about 20 kB a pair
#: with the default windows) stay near 400 MB.
DEFAULT_CHUNK_SIZE = 20_000


#: The estimation window of the OLS models when none is given (a year of sessions).
DEFAULT_ESTIMATION_WINDOW: tuple[int, int] = (-250, -11)
#: Estimation days below which the GARCH models' single-pair tests over-reject (their
#: parameters are too noisy): :func:`study_options` then warns (docs/methods-garch.md).
GARCH_MIN_WINDOW = 500
#: The GARCH models' estimation window when none is given, and the one the warning
#: recommends (three years: their t and SQ tests within [4%, 6%], docs/methods-garch.md).
GARCH_WINDOW: tuple[int, int] = (-760, -11)


@dataclass(frozen=True, slots=True)
class StudyOptions:
    """The validated options of one event study (see
    :func:`~oilimpact.eventstudy.engine.event_study` for their meaning).

    ``window_union`` is ``(lo, hi)``, the smallest range of relative days holding every
    event window; ``min_estimation`` is resolved (never None).
    """

    model: ModelName
    estimation_window: tuple[int, int]
    event_windows: tuple[tuple[int, int], ...]
    window_union: tuple[int, int]
    returns: ReturnMethod
    input: InputKind
    min_estimation: int
    conventions: Conventions
    exclude_confounders: bool
    exclusion_band: tuple[int, int]
    multitest: MultitestMethod
    pooled: bool | Literal["auto"]
    independence_tests: bool

    @property
    def est_offsets(self) -> np.ndarray:
        """Relative days of the estimation window, ``e0 .. e1``."""
        e0, e1 = self.estimation_window
        return np.arange(e0, e1 + 1)

    @property
    def event_offsets(self) -> np.ndarray:
        """Relative days of the event-window union, ``lo .. hi``."""
        lo, hi = self.window_union
        return np.arange(lo, hi + 1)


def study_options(
    *,
    model: ModelName,
    estimation_window: tuple[int, int] | None,
    event_windows: Sequence[tuple[int, int]],
    returns: ReturnMethod,
    input: InputKind,
    min_estimation: int | None,
    conventions: Conventions,
    exclude_confounders: bool,
    exclusion_band: tuple[int, int],
    multitest: MultitestMethod,
    pooled: bool | Literal["auto"],
    independence_tests: bool,
) -> tuple[StudyOptions, list[str]]:
    """Validate the options; return them and the notices to show (see
    :func:`_min_estimation`).

    ``estimation_window=None`` is the model's default: :data:`GARCH_WINDOW` (three
    years) for the GARCH models, whose tests need it for their size, else
    :data:`DEFAULT_ESTIMATION_WINDOW`.

    Raises
    ------
    EstimationError
        An unknown model, return method, input kind, convention or multiple-testing
        method; bad windows or exclusion band.

    Examples
    --------
    >>> opts, notices = study_options(
    ...     model="market", estimation_window=(-250, -11), event_windows=[(0, 1)],
    ...     returns="log", input="auto", min_estimation=None, conventions="textbook",
    ...     exclude_confounders=True, exclusion_band=(-10, 10), multitest="fdr_bh",
    ...     pooled="auto", independence_tests=False)
    >>> opts.min_estimation, opts.window_union, notices
    (120, (0, 1), [])
    """
    if model not in MODELS:
        raise EstimationError(f"model must be one of {MODELS}, got {model!r}")
    if returns not in ("log", "simple"):
        raise EstimationError(f"returns must be 'log' or 'simple', got {returns!r}")
    if input not in ("auto", "prices", "returns"):
        raise EstimationError(f"input must be 'auto', 'prices' or 'returns', got {input!r}")
    if conventions not in ("textbook", "estudy2"):
        raise EstimationError(f"conventions must be 'textbook' or 'estudy2', got {conventions!r}")
    if multitest not in MULTITEST_METHODS:
        raise EstimationError(f"multitest must be one of {MULTITEST_METHODS}, got {multitest!r}")
    if estimation_window is None:
        estimation_window = default_estimation_window(model)
    est, windows, union = prepare_windows(estimation_window, event_windows)
    band = _check_band(exclusion_band)
    min_est, notices = _min_estimation(min_estimation, est)
    if model in GARCH_MODELS:  # fit_panel counts the forecast steps from the window
        model = GarchModel(model, est)  # type: ignore[assignment]
        notices += _garch_window_notice(model, est)
    opts = StudyOptions(
        model=model,
        estimation_window=est,
        event_windows=windows,
        window_union=union,
        returns=returns,
        input=input,
        min_estimation=min_est,
        conventions=conventions,
        exclude_confounders=bool(exclude_confounders),
        exclusion_band=band,
        multitest=multitest,
        pooled=pooled,
        independence_tests=bool(independence_tests),
    )
    return opts, notices


def default_estimation_window(model: str) -> tuple[int, int]:
    """The estimation window a model gets when none is given: :data:`GARCH_WINDOW`
    (three years) for the GARCH models, :data:`DEFAULT_ESTIMATION_WINDOW` otherwise.

    Examples
    --------
    >>> default_estimation_window("market"), default_estimation_window("market_garch")
    ((-250, -11), (-760, -11))
    """
    return GARCH_WINDOW if model in GARCH_MODELS else DEFAULT_ESTIMATION_WINDOW


def prepare_windows(
    estimation_window: tuple[int, int], event_windows: Sequence[tuple[int, int]]
) -> tuple[tuple[int, int], tuple[tuple[int, int], ...], tuple[int, int]]:
    """Validate the windows; return them and the union ``(lo, hi)`` of the event windows.

    Examples
    --------
    >>> prepare_windows((-250, -11), [(0, 0), (-1, 1), (0, 10)])[2]
    (-1, 10)
    """
    try:
        e0, e1 = (int(v) for v in estimation_window)
    except (TypeError, ValueError) as exc:
        raise EstimationError(
            f"estimation_window must be two relative trading days, got {estimation_window!r}"
        ) from exc
    wins = []
    for w in event_windows:
        try:
            lo, hi = (int(v) for v in w)
        except (TypeError, ValueError) as exc:
            raise EstimationError(f"an event window must be (start, end), got {w!r}") from exc
        if lo > hi:
            raise EstimationError(f"event window {w!r} starts after it ends")
        wins.append((lo, hi))
    if not wins:
        raise EstimationError("at least one event window is needed")
    lo_u = min(w[0] for w in wins)
    hi_u = max(w[1] for w in wins)
    if e0 > e1:
        raise EstimationError(f"estimation window {estimation_window!r} starts after it ends")
    if e1 >= lo_u:
        raise EstimationError(
            f"estimation window {estimation_window!r} must end before the first event-window "
            f"day {lo_u}"
        )
    return (e0, e1), tuple(wins), (lo_u, hi_u)


def _check_band(band: tuple[int, int]) -> tuple[int, int]:
    """The exclusion band as two ints ``lo <= 0 <= hi``, or an EstimationError."""
    try:
        lo, hi = (int(v) for v in band)
    except (TypeError, ValueError) as exc:
        raise EstimationError(
            f"exclusion_band must be two relative trading days (lo, hi), got {band!r}"
        ) from exc
    if lo > 0 or hi < 0:
        raise EstimationError(f"exclusion_band must contain day 0 (lo <= 0 <= hi), got {band!r}")
    return lo, hi


def _garch_window_notice(model: str, estimation: tuple[int, int]) -> list[str]:
    """A :class:`~oilimpact.eventstudy.result.ShortEstimationWarning` (and the notice for
    the summary) when a GARCH model gets fewer than :data:`GARCH_MIN_WINDOW` estimation
    days, with the measured size and the window that keeps it within [4%, 6%]."""
    e0, e1 = estimation
    length = e1 - e0 + 1
    if length >= GARCH_MIN_WINDOW:
        return []
    msg = (
        f"model={str(model)!r} with a {length}-day estimation window: the GARCH "
        "parameters are noisy and the single-pair t and SQ tests over-reject (6.2-6.3% at "
        "5% with 240 days under persistent GARCH errors, docs/methods-garch.md); "
        f"estimation_window={GARCH_WINDOW} (750 days) keeps them within [4%, 6%]"
    )
    warnings.warn(msg, ShortEstimationWarning, stacklevel=4)
    return [msg]


def _min_estimation(
    min_estimation: int | None, estimation: tuple[int, int]
) -> tuple[int, list[str]]:
    """The minimum estimation length and the notices about it.

    Default ``ceil(L1 / 2)``; when that is below :data:`DEFAULT_MIN_ESTIMATION` (a short
    estimation window) a :class:`~oilimpact.eventstudy.result.ShortEstimationWarning` is
    issued and returned as a notice for the summary.
    """
    if min_estimation is not None:
        return int(min_estimation), []
    e0, e1 = estimation
    value = math.ceil((e1 - e0 + 1) / 2)
    if value >= DEFAULT_MIN_ESTIMATION:
        return value, []
    msg = (
        f"the estimation window [{e0}, {e1}] ({e1 - e0 + 1} days) lowers the minimum "
        f"estimation length from {DEFAULT_MIN_ESTIMATION} to {value} days (half the "
        "window); variances from so few days are imprecise. Pass min_estimation= "
        "(--min-estimation) to set it"
    )
    warnings.warn(msg, ShortEstimationWarning, stacklevel=4)
    return value, [msg]
