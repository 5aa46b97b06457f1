"""The event-study engine: from prices (or returns) and events to an EventStudyResult.

:func:`event_study` is the user entry point, a composition of named steps:

1. :func:`~oilimpact.eventstudy.spec.study_options` validates the options;
2. :func:`~oilimpact.eventstudy.inputs.resolve_inputs` reads the data, the market and
   the factors into one frame and decides prices or returns;
   :func:`~oilimpact.eventstudy.inputs.resolve_events` the studied and the other
   (catalog) events;
3. the assets are split into chunks (:class:`~oilimpact.eventstudy.chunks.ChunkJob`,
   self-contained and picklable), run here or through an executor; each chunk builds
   every pair's session grid and returns on it (:mod:`~oilimpact.eventstudy.grid`),
   aligns every event once per close rule and maps day 0 to every pair
   (:mod:`~oilimpact.eventstudy.dayzero`), cuts the estimation and event windows, minus
   the other events' exclusion bands (:mod:`~oilimpact.eventstudy.build`), fits the
   normal-return model of all its pairs at once
   (:func:`oilimpact.eventstudy.models.fit_panel`) and runs the single-pair tests
   (:mod:`oilimpact.eventstudy.single`), and reduces its panel to the additive pieces
   of the cross-sectional tests (:func:`~oilimpact.eventstudy.crosssection.
   cross_section_pieces`);
4. the chunks' tables are concatenated chunk by chunk and their panels merged, in
   memory or spilled to a temporary file (``keep_panel``, :mod:`~oilimpact.eventstudy.
   stream`); the q-values are computed once on the whole tables and the
   cross-sectional tests once from the summed pieces
   (:func:`~oilimpact.eventstudy.assemble.pooled_tests`).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableSequence, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._docstring import documented
from ..series import SeriesRegistry
from . import stream as _stream
from .assemble import finish_result, pair_tables, pooled_tests
from .chunks import ChunkJob, ChunkResult, run_chunks
from .crosssection.pieces import CrossSectionPieces, combine_pieces
from .crosssection.policy import POOLED_MIN_PAIRS
from .inputs import (
    StudyEvent,
    StudyInputs,
    packaged_registry,
    resolve_events,
    resolve_inputs,
    series_specs,
)
from .models import ModelName
from .multitest import MultitestMethod
from .panel import AbnormalPanel, Conventions, concat_panels
from .result import EventStudyResult, StudySpec
from .returns import ReturnMethod
from .spec import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_EVENT_WINDOWS,
    DEFAULT_EXCLUSION_BAND,
    DEFAULT_MIN_ESTIMATION,
    InputKind,
    StudyOptions,
    prepare_windows,
    study_options,
)
from .stream import KeepPanel, PanelSpill, panel_keep_mode, release_free_memory

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_EVENT_WINDOWS",
    "DEFAULT_EXCLUSION_BAND",
    "DEFAULT_MIN_ESTIMATION",
    "InputKind",
    "build_result",
    "event_study",
    "prepare_windows",
]


_EVENT_STUDY_DOC = """Event study of one or more series around one or more events.

Parameters
----------
returns_or_prices : pandas.DataFrame or pandas.Series
    Prices (or returns) on a daily ``DatetimeIndex``, one column per series; the
    column name is the registry name (``"brent"``) used to find the series' close.
events : iterable of Event or str, Event, str, or mapping of id to timestamp
    The events to study. Ids are looked up in ``catalog`` (default: the packaged
    catalog). A mapping gives ad-hoc events: a plain date means time unknown, a
    tz-aware timestamp a known time.
market : pandas.Series or str, optional
    The market return (or price) series, or the name of a column of
    ``returns_or_prices`` (removed from the studied series). Needed by the
    ``market`` and ``market_adjusted`` models; with ``multifactor`` it is the first
    factor.
factors : pandas.DataFrame or sequence of str, optional
    Extra regressors of the ``multifactor`` model (column names of
    ``returns_or_prices``, or a frame).
model : {"market", "zero_mean", "constant_mean", "market_adjusted", "multifactor", \
"market_garch", "market_gjr"}
    Normal-return model (see :mod:`oilimpact.eventstudy.models`); the last two have
    GARCH(1,1) / GJR-GARCH errors fitted by ``arch``, one fit per pair
    (:mod:`oilimpact.eventstudy.garch_engine`).
estimation_window : (int, int), optional
    Inclusive relative trading days of the estimation window. Default: ``(-250, -11)``,
    and three years, ``(-760, -11)``, for the GARCH models (with 240 days their t test
    rejects 6.2% at 5%; with 750 days 5.2-5.4%, docs/methods-garch.md).
event_windows : sequence of (int, int)
    Inclusive windows over which CARs are computed.
returns : {"log", "simple"}
    Return definition when prices are given. With returns as input: how the given
    returns compound when one is carried into the next pair session (``"log"``:
    summed, also right for price *changes*; ``"simple"``: ``(1 + r1)(1 + r2) - 1``).
input : {"auto", "prices", "returns"}
    What ``returns_or_prices`` (and ``market``/``factors``) hold. ``"auto"``:
    returns when every series has registry kind ``"return"`` or the values look
    like returns (median absolute value below 0.2 and none above 2), else prices.
    Pass it explicitly when in doubt; the resolved value is in ``result.spec``.
    Returns are read as each series' returns on its own dates: a missing value
    means the series has no return that day (its next return spans it).
min_estimation : int, optional
    Minimum non-missing estimation days per pair; default half the estimation
    window (120 for the default window), at least ``k + 1``. When a short
    estimation window makes that default lower than 120 (``(-30, -11)`` gives 10),
    a :class:`~oilimpact.eventstudy.result.ShortEstimationWarning` is issued and the
    summary says so; pass ``min_estimation`` to choose the minimum yourself.
conventions : {"textbook", "estudy2"}
    See :func:`oilimpact.eventstudy.models.fit_panel` and docs/methods.md. Under
    ``"estudy2"`` the market mean and sum of squares of the PE correction are taken
    over the market's own days ``[d0 + e0, d0 + e1]`` (all index days of the
    estimation window, also where the asset has no return), and interior gaps are
    handled as estudy2 0.10 does: a date where the asset has no return is dropped
    (with returns given, the market's return of that date is not carried; with
    prices, each series' return runs from its own previous price), and returns
    spanning several sessions are not variance-scaled. Relative days still count
    the pair's sessions, while estudy2 takes its windows as date ranges (see
    docs/methods.md).
catalog : mapping of id to Event, optional
    Where event ids are looked up and the set of *other* events used to clean the
    estimation windows and flag confounding (default: the packaged catalog).
registry : SeriesRegistry, optional
    Series metadata (close time, time zone); default the packaged registry. Unknown
    names get a generic 16:00 New York daily spec.
exclude_confounders : bool
    Drop the ``exclusion_band`` days of the other catalog events *and* of the other
    studied events from each estimation window (default True). With False nothing is
    dropped, the catalog is not consulted for confounding, and only the studied
    events are checked against each other for ``confounded``.
pooled : bool or "auto"
    Whether to run the pooled (cross-sectional, CAAR) tests: ``True``, ``False``,
    or ``"auto"`` (the policy of
    :func:`oilimpact.eventstudy.crosssection.cross_sectional_tests`, which decides by
    the number of pairs and whether they share event dates).
independence_tests : bool
    Also show the pooled tests that assume independent pairs (labelled invalid for
    clustered events); default False.
exclusion_band : (int, int)
    Relative days ``[lo, hi]`` around the day 0 of every other catalog or studied
    event that are removed from each estimation window (default ``(-10, 10)``). It
    does not depend on ``event_windows``, so adding a window never changes the
    estimation sample (nor, therefore, another window's numbers). An event's own
    band is not removed from its own estimation window (which must end before its
    first event-window day anyway).
multitest : {"fdr_bh", "holm", "none"}
    Adjustment of the ``qvalue`` columns (:func:`~oilimpact.eventstudy.multitest.
    adjust_pvalues`): Benjamini-Hochberg q-values (default), Holm adjusted p-values,
    or none (the p-values). The family of ``res.car["qvalue"]`` is every (event,
    series, window) CAR t test of the result (``sq_qvalue``: every SQ test of
    ``res.car``); that of ``res.abnormal["qvalue"]`` every (event, series, day) AR
    t test. Adding events, series or windows enlarges the family.
chunk_size : int, optional
    Number of (event, asset) pairs per chunk (whole assets: a chunk holds
    ``max(1, chunk_size // n_events)`` assets with all their events). Default
    :data:`~oilimpact.eventstudy.spec.DEFAULT_CHUNK_SIZE` (20,000 pairs: a chunk's
    arrays stay near 400 MB with the default windows, and chunks of at least 1,000
    pairs run the compiled kernels). The result does not depend on it (to rounding).
executor : concurrent.futures.Executor, optional
    Where the chunks run: ``executor.submit`` for each chunk (a thread or process
    pool, or a Dask distributed client's ``client.get_executor()``); by default they
    run here, one after the other. A chunk is self-contained (its columns, the
    regressors, the series specs, the events and the options, all picklable); the
    cross-sectional tests and the q-values are computed here once, from the chunks'
    summed pieces and the merged tables. See docs/distributed.md.
keep_panel : {"auto", "memory", "disk"}
    Where ``res.panel`` (the arrays behind the tables: estimation residuals and their
    dates, prediction-error matrices, ...) is kept. ``"memory"``: in memory, whole (as
    built by the fit). ``"disk"``: the ``N x L1`` estimation residuals and dates and
    the ``N x L2 x L2`` prediction-error matrices are written to a temporary file as
    each chunk finishes and memory-mapped read-only in ``res.panel`` (the file is
    unlinked once mapped, so it goes with the result); the arrays only the chunks need
    (``est_market``, ``design_est``, ``event_market``, ``design_evt``) are dropped
    (None). Every table, ``res.params``, ``res.resid``, ``res.car_path`` and
    ``res.summary()`` are the same either way. ``"auto"`` (default): ``"memory"`` while
    the panel's per-pair arrays take at most
    :data:`~oilimpact.eventstudy.stream.PANEL_MEMORY_LIMIT` (1 GiB, about 120,000 pairs
    with the default windows), ``"disk"`` above (see :mod:`~oilimpact.eventstudy.stream`).

Returns
-------
EventStudyResult

Raises
------
EstimationError
    Too few estimation days (the message says how many were needed and got, with
    the event, series and day 0), an event outside the data, a log return across a
    non-positive price that enters a window (names the series and date; simple
    returns are not a remedy, see :mod:`oilimpact.eventstudy.returns`), bad windows.
ConfigError
    An unknown event id.

Notes
-----
Relative days count sessions of the pair's grid (dates where the asset and all
regressors are observed). A date where only some of them are observed is not a
session: with prices, the next session's return spans it; with returns, each
series' return of that date is carried into the next session (the two inputs give
the same AR and CAR; returns before the pair's first session are not carried).
``alignment.spanning_returns`` counts the used returns that span such a date;
``alignment.uncarried_returns`` counts the values (of the asset or a regressor)
dated after the pair's last session, which no return can include. Day 0 comes from
:func:`oilimpact.eventstudy.alignment.align_event` on that grid. The estimation window
of event *i* is the sessions ``[d0 + e0, d0 + e1]`` minus the days
``[d0' + lo, d0' + hi]`` of every other catalog or studied event (``lo``/``hi`` the
``exclusion_band``, default ``[-10, +10]``); those dropped days are counted in
``alignment.dropped_est_days``. A catalog event shortly before the data start counts
too: its day 0 is placed on the series' exchange calendar (weekdays when it has
none) before the first session, and the part of its window inside the data is
dropped. An event window containing another event's day 0 is
flagged (``car.confounded``, ``alignment.confounded_by``). A CAR needs every AR of
its window (otherwise NaN), e.g. when the window runs past the end of the data.
Formulas: docs/methods.md (MacKinlay 1997; Gelbach, Helland and Klick 2013).

The steps (each a module of :mod:`oilimpact.eventstudy`): options
(:mod:`~oilimpact.eventstudy.spec`) -> data, regressors and events
(:mod:`~oilimpact.eventstudy.inputs`) -> per chunk of assets: pair session grids and
returns (:mod:`~oilimpact.eventstudy.grid`), day 0 aligned once per (close rule,
event) and mapped to every pair (:mod:`~oilimpact.eventstudy.dayzero`), windows
gathered by fancy indexing (:mod:`~oilimpact.eventstudy.build`), the batched fit
(:func:`~oilimpact.eventstudy.models.fit_panel`) and the single-pair tests
(:mod:`~oilimpact.eventstudy.chunks`) -> merged panel, q-values and cross-sectional
tests (:mod:`~oilimpact.eventstudy.assemble`).

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(7)
>>> days = pd.bdate_range("2024-01-01", periods=320)
>>> m = rng.normal(0, 0.01, 320)
>>> y = 0.8 * m + rng.normal(0, 0.012, 320)
>>> y[300] += 0.05                                   # the event
>>> data = pd.DataFrame({"asset": 100 * np.exp(np.cumsum(y)),
...                      "mkt": 4000 * np.exp(np.cumsum(m))}, index=days)
>>> res = event_study(data, {"news": days[300].date()}, market="mkt", catalog={})
>>> row = res.car.iloc[0]
>>> row["window"], round(float(row["car"]), 3), bool(row["pvalue"] < 0.01), int(row["n_est"])
((0, 0), 0.064, True, 240)
"""


@documented(_EVENT_STUDY_DOC)
def event_study(
    returns_or_prices: pd.DataFrame | pd.Series,
    events: Any,
    *,
    market: pd.Series | str | None = None,
    factors: pd.DataFrame | Sequence[str] | None = None,
    model: ModelName = "market",
    estimation_window: tuple[int, int] | None = None,
    event_windows: Sequence[tuple[int, int]] = DEFAULT_EVENT_WINDOWS,
    returns: ReturnMethod = "log",
    input: InputKind = "auto",
    min_estimation: int | None = None,
    conventions: Conventions = "textbook",
    catalog: Mapping[str, Any] | None = None,
    registry: SeriesRegistry | None = None,
    exclude_confounders: bool = True,
    pooled: bool | Literal["auto"] = "auto",
    independence_tests: bool = False,
    exclusion_band: tuple[int, int] = DEFAULT_EXCLUSION_BAND,
    multitest: MultitestMethod = "fdr_bh",
    chunk_size: int | None = None,
    executor: Executor | None = None,
    keep_panel: KeepPanel = "auto",
) -> EventStudyResult:
    # (docstring: _EVENT_STUDY_DOC above)
    reg = registry if registry is not None else packaged_registry()
    opts, notices = study_options(
        model=model,
        estimation_window=estimation_window,
        event_windows=event_windows,
        returns=returns,
        input=input,
        min_estimation=min_estimation,
        conventions=conventions,
        exclude_confounders=exclude_confounders,
        exclusion_band=exclusion_band,
        multitest=multitest,
        pooled=pooled,
        independence_tests=independence_tests,
    )
    data = resolve_inputs(returns_or_prices, market, factors, model=model, input=input,
                          registry=reg)  # fmt: skip
    studied, others = resolve_events(events, catalog, opts.exclude_confounders)
    n_pairs = len(data.assets) * len(studied)
    e0, e1 = opts.estimation_window
    mode = panel_keep_mode(keep_panel, n_pairs, e1 - e0 + 1, len(opts.event_offsets),
                           len(data.regressors))  # fmt: skip
    jobs = split_jobs(data, studied, others, opts, reg, chunk_size, slim=mode == "disk")
    spec = _study_spec(opts, data, studied, others)
    keep = _Arrivals(PanelSpill() if mode == "disk" else None)
    try:
        parts = run_chunks(jobs, executor, keep)
        return merge_chunks(parts, spec, opts, notices, spill=keep.spill, pieces=keep.pieces)
    finally:
        if keep.spill is not None:
            keep.spill.close()


class _Arrivals:
    """What the engine does with each chunk's result as it arrives (``run_chunks``'
    ``consume``): its panel spilled (with ``spill``), its cross-sectional pieces added to
    the running total (``pieces``; the pieces keep the residual rows of small event
    dates until the total has more pairs, so adding them early keeps that memory
    bounded), and the freed memory given back to the system."""

    def __init__(self, spill: PanelSpill | None) -> None:
        self.spill = spill
        self.pieces: list[CrossSectionPieces | None] = []

    def __call__(self, part: ChunkResult) -> ChunkResult:
        if self.spill is not None:
            part = self.spill.consume(part)
        if not self.pieces:
            self.pieces = [part.pieces]
        elif part.pieces is None or self.pieces[0] is None:
            self.pieces = [None]  # some chunk without pieces: the pooled tests will not run
        else:
            self.pieces = [combine_pieces([self.pieces[0], part.pieces])]
        part.pieces = None
        release_free_memory()  # the chunk's temporaries, back to the system
        return part


def split_jobs(
    data: StudyInputs,
    studied: Sequence[StudyEvent],
    others: Sequence[StudyEvent],
    opts: StudyOptions,
    registry: SeriesRegistry,
    chunk_size: int | None = None,
    *,
    slim: bool = False,
) -> Sequence[ChunkJob]:
    """The chunks of a study: whole assets, at most ``chunk_size`` pairs each (default
    :data:`~oilimpact.eventstudy.spec.DEFAULT_CHUNK_SIZE`), in column order.

    A sequence whose jobs are made when taken (each copies its assets' columns then),
    so that a study run here holds one chunk's copy of the data at a time. The jobs
    compute the cross-sectional pieces when the pooled tests can run (``pooled=True``,
    or ``"auto"`` from :data:`~oilimpact.eventstudy.crosssection.POOLED_MIN_PAIRS`
    pairs); ``slim`` is passed to every job (:class:`~oilimpact.eventstudy.chunks.
    ChunkJob`).
    """
    size = DEFAULT_CHUNK_SIZE if chunk_size is None else int(chunk_size)
    if size < 1:
        raise ValueError(f"chunk_size must be a positive number of pairs, got {chunk_size!r}")
    n_pairs = len(data.assets) * len(studied)
    pooled = opts.pooled is True or (opts.pooled == "auto" and n_pairs >= POOLED_MIN_PAIRS)
    return _Jobs(
        data=data,
        specs=tuple(series_specs(registry, data.assets)),
        per_chunk=max(1, size // max(len(studied), 1)),
        template=dict(studied=tuple(studied), others=tuple(others), opts=opts,
                      input_kind=data.input, pieces=pooled and n_pairs >= 2, slim=slim),
    )  # fmt: skip


class _Jobs(Sequence[ChunkJob]):
    """The chunks of :func:`split_jobs`, each made when it is taken."""

    def __init__(self, data: StudyInputs, specs: tuple[Any, ...], per_chunk: int,
                 template: dict[str, Any]) -> None:  # fmt: skip
        frame = data.numeric
        self.frame = frame
        self.cols = frame.columns.get_indexer(list(data.assets))
        self.regs = self._columns(frame.columns.get_indexer(list(data.regressors)))
        self.dates = frame.index.to_numpy(dtype="datetime64[ns]")
        self.assets = tuple(data.assets)
        self.regressors = tuple(data.regressors)
        self.specs = specs
        self.per_chunk = per_chunk
        self.template = template

    def _columns(self, positions: np.ndarray) -> np.ndarray:
        """A copy of those columns, (T, k) float64, column-major (the layout of a
        DataFrame's own values, which the chunks always had)."""
        values = self.frame.iloc[:, positions].to_numpy(dtype="float64")
        return np.asfortranarray(values)

    def __len__(self) -> int:
        return -(-len(self.assets) // self.per_chunk)

    def __getitem__(self, i: int) -> ChunkJob:  # type: ignore[override]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        lo = (i % len(self)) * self.per_chunk
        hi = lo + self.per_chunk
        return ChunkJob(
            values=self._columns(self.cols[lo:hi]),
            regs=self.regs,
            dates=self.dates,
            names=self.assets[lo:hi],
            regressors=self.regressors,
            specs=self.specs[lo:hi],
            **self.template,
        )


def merge_chunks(
    parts: MutableSequence[ChunkResult],
    spec: StudySpec,
    opts: StudyOptions,
    notices: Sequence[str],
    *,
    spill: PanelSpill | None = None,
    pieces: Sequence[CrossSectionPieces | None] | None = None,
) -> EventStudyResult:
    """One result from the chunks' results: tables and panels concatenated in order
    (each chunk's part released once copied, :func:`~oilimpact.eventstudy.stream.
    concat_released`; the panel mapped from ``spill`` when the chunks' panels were
    spilled), the q-values on the whole tables and the cross-sectional tests from the
    chunks' summed pieces (:func:`~oilimpact.eventstudy.assemble.pooled_tests`;
    ``pieces``: already added up as the chunks arrived, else the chunks' own)."""
    bounds = np.cumsum([0] + [p.panel.n_pairs for p in parts])
    pieces = [p.pieces for p in parts] if pieces is None else list(pieces)
    tables = {}
    for name in ("abnormal", "car", "alignment"):
        tables[name] = _released(parts, name)
        release_free_memory()  # the chunks' copies of the table
    coef = _released(parts, "coefficients", concat=lambda c: pd.concat(c))
    panels = [p.panel for p in parts]
    parts[:] = []  # every chunk's field is now held once, below
    panel = spill.panel(panels) if spill is not None else concat_panels(panels)
    del panels
    release_free_memory()
    ranges = list(zip(bounds[:-1], bounds[1:], strict=True))
    tests = pooled_tests(pieces, panel, opts.event_windows, ranges, pooled=opts.pooled,
                         independence_tests=opts.independence_tests)  # fmt: skip
    result = finish_result(
        panel,
        tables["abnormal"],
        tables["car"],
        opts.event_windows,
        spec,
        tables["alignment"],
        pooled=opts.pooled,
        independence_tests=opts.independence_tests,
        notices=notices,
        tests=tests,
    )
    return replace(result, coefficients=coef)


def _released(parts: Sequence[ChunkResult], name: str, concat: Any = None) -> Any:
    """Field ``name`` of every chunk, concatenated (by ``concat``, default
    :func:`~oilimpact.eventstudy.stream.concat_released`); each chunk's field is set to
    None (so that only the concatenation keeps it)."""
    frames = [getattr(p, name) for p in parts]
    for p in parts:
        setattr(p, name, None)
    if len(frames) == 1:
        return frames[0]
    return (concat or _stream.concat_released)(frames)


def _study_spec(
    opts: StudyOptions,
    data: StudyInputs,
    studied: Sequence[StudyEvent],
    others: Sequence[StudyEvent],
) -> StudySpec:
    return StudySpec(
        model=opts.model,
        market=data.market_name,
        factors=tuple(data.factor_names),
        estimation_window=opts.estimation_window,
        event_windows=opts.event_windows,
        returns=opts.returns,
        input=data.input,
        min_estimation=opts.min_estimation,
        conventions=opts.conventions,
        exclude_confounders=opts.exclude_confounders,
        exclusion_band=opts.exclusion_band,
        multitest=opts.multitest,
        events=tuple(e.id for e in studied),
        series=tuple(data.assets),
        confounders=tuple(e.id for e in others),
        pooled=opts.pooled,
        independence_tests=opts.independence_tests,
    )


def build_result(
    panel: AbnormalPanel,
    windows: Sequence[tuple[int, int]],
    spec: StudySpec,
    alignment: pd.DataFrame | None = None,
    event_dates: np.ndarray | None = None,
    confounded: np.ndarray | None = None,
    *,
    pooled: bool | Literal["auto"] | None = None,
    independence_tests: bool | None = None,
    notices: Sequence[str] = (),
) -> EventStudyResult:
    """Run the single-pair and cross-sectional tests on ``panel`` and pack the result.

    Also used by the benchmark and the simulations (array entry point). ``pooled`` and
    ``independence_tests`` default to ``spec.pooled`` and ``spec.independence_tests``
    and are passed to :func:`oilimpact.eventstudy.crosssection.cross_sectional_tests`;
    ``notices`` become :attr:`EventStudyResult.notices`. Adds the ``sessions`` columns
    and the ``qvalue`` columns (``spec.multitest``) to the tables.
    """
    abnormal, car = pair_tables(panel, windows, event_dates, confounded)
    return finish_result(
        panel,
        abnormal,
        car,
        windows,
        spec,
        alignment,
        pooled=spec.pooled if pooled is None else pooled,
        independence_tests=spec.independence_tests
        if independence_tests is None
        else independence_tests,
        notices=notices,
    )
