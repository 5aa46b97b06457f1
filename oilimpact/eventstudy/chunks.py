"""One self-contained piece of an event study: some assets, all events, all windows.

A :class:`ChunkJob` holds plain arrays and frozen values only (the assets' columns, the
regressors, the dates, the series specs, the events and the options), so it pickles and
runs anywhere: in this process, in a thread or process pool, or on a Dask worker
(``client.get_executor()``). :func:`run_chunk` runs align -> panel -> fit -> single-pair
tests and returns a :class:`ChunkResult`: the chunk's tables, its panel and the additive
pieces of the cross-sectional tests (:func:`~oilimpact.eventstudy.crosssection.
cross_section_pieces`). The engine concatenates the tables and the panels and computes
the cross-sectional tests once from the summed pieces, so no chunk's estimation arrays
are needed after its chunk (see :mod:`~oilimpact.eventstudy.stream`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError
from . import kernels
from .assemble import pair_tables
from .build import PairWindows, check_pairs, gather, pair_windows
from .crosssection.pieces import CrossSectionPieces, cross_section_pieces
from .dayzero import DayZero, day_zero
from .grid import SessionGrid, session_grid, spanned_sessions
from .inputs import StudyEvent
from .models import fit_panel, scale_spanning_returns
from .panel import MARKET_PE, AbnormalPanel, panel_store
from .result import estimation_coefficients
from .spec import StudyOptions

__all__ = ["ChunkJob", "ChunkResult", "run_chunk", "run_chunks"]


@dataclass(frozen=True, slots=True)
class ChunkJob:
    """The inputs of one chunk: ``values`` (T, A) holds the assets ``names``, ``regs``
    (T, F) the regressors the model uses, on ``dates`` (T,); ``specs`` are the assets'
    series specs; ``studied`` then ``others`` the events. ``pieces``: also compute
    the chunk's cross-sectional pieces (when the study's pooled tests will run);
    ``slim``: return the panel without the arrays only the chunk needs
    (``est_market``, ``design_est``, ``event_market``, ``design_evt``), for studies
    whose panel is spilled to disk."""

    values: np.ndarray
    regs: np.ndarray
    dates: np.ndarray
    names: tuple[str, ...]
    regressors: tuple[str, ...]
    specs: tuple[Any, ...]
    studied: tuple[StudyEvent, ...]
    others: tuple[StudyEvent, ...]
    opts: StudyOptions
    input_kind: str
    pieces: bool = False
    slim: bool = False


@dataclass(slots=True)
class ChunkResult:
    """What a chunk gives back: its panel, its tables without q-values, its alignment
    rows, its coefficients (pairs asset-major, in the chunk's column order) and the
    additive pieces of the cross-sectional tests (None when not asked). Mutable: the
    merge releases each field once it is used."""

    panel: AbnormalPanel
    abnormal: pd.DataFrame
    car: pd.DataFrame
    alignment: pd.DataFrame
    coefficients: pd.DataFrame
    pieces: CrossSectionPieces | None = None


#: Chunks submitted to an executor ahead of the one being collected, per worker.
IN_FLIGHT_PER_WORKER = 2


def run_chunks(
    jobs: Iterable[ChunkJob],
    executor: Executor | None,
    consume: Callable[[ChunkResult], ChunkResult] | None = None,
) -> list[ChunkResult]:
    """Run ``jobs`` here (in order) or through ``executor.submit``; results in job order
    (the first failing job's error is raised, as a local run would).

    ``consume`` is applied to each result as it is collected (in job order), e.g. to
    move its panel to disk, so that only its return value is kept. With an executor, at
    most :data:`IN_FLIGHT_PER_WORKER` chunks per worker (the executor's
    ``_max_workers``, else 8 workers) are submitted ahead of the one collected, so that
    finished results do not pile up; jobs are taken from ``jobs`` only when submitted.
    """
    keep = consume if consume is not None else (lambda r: r)
    if executor is None:
        return [keep(run_chunk(job)) for job in jobs]
    ahead = IN_FLIGHT_PER_WORKER * int(getattr(executor, "_max_workers", None) or 8)
    pending: list[Future[ChunkResult]] = []
    out = []
    for job in jobs:
        pending.append(executor.submit(run_chunk, job))
        if len(pending) > ahead:
            out.append(keep(pending.pop(0).result()))
    while pending:
        out.append(keep(pending.pop(0).result()))
    return out


def run_chunk(job: ChunkJob) -> ChunkResult:
    """align -> panel -> fit -> single-pair tests of one chunk (see the module notes)."""
    opts = job.opts
    n_ev = len(job.studied)
    grid = session_grid(job.values, job.regs, job.dates, input_kind=job.input_kind,
                        method=opts.returns, conventions=opts.conventions,
                        n_pairs=len(job.names) * n_ev)  # fmt: skip
    if grid.row.size == 0:
        raise EstimationError(
            f"series {job.names[0]!r} has no dates on which it and the regressors "
            f"({', '.join(job.regressors) or 'none'}) are all observed"
        )
    events = list(job.studied) + list(job.others)
    dz = day_zero(grid, events, n_ev, job.specs, opts.exclusion_band[1])
    win = pair_windows(grid, dz, n_ev, opts)
    arrays = _window_arrays(grid, win, bool(job.regressors))
    check_pairs(grid, dz, win, arrays["n_ok"], job.names, job.regressors, job.specs,
                job.studied, opts)  # fmt: skip
    conf, conf_by = _confounding(dz, win, events, n_ev, opts)
    alignment = _alignment_frame(job, grid, dz, win, arrays, conf_by)
    panel = _fit(job, grid, win, arrays)
    abnormal, car = pair_tables(panel, opts.event_windows, arrays["evt_dates"], conf)
    coef = estimation_coefficients(panel, arrays["y_est"], arrays["x_est"])
    pieces = cross_section_pieces(panel, opts.event_windows) if job.pieces else None
    if job.slim:
        panel = replace(panel, est_market=None, design_est=None, event_market=None,
                        design_evt=None)  # fmt: skip
    return ChunkResult(panel, abnormal, car, alignment, coef, pieces)


def _window_arrays(grid: SessionGrid, win: PairWindows, has_regs: bool) -> dict[str, Any]:
    """The returns, dates and counts of every pair's windows, gathered at once: the
    returns and dates of the windows, the usable estimation days (``n_ok``), the returns
    that span a gap (``spanning``) and the event days with an asset return
    (``observed``). From
    :data:`~oilimpact.eventstudy.kernels.MIN_PAIRS` pairs on by one compiled pass per
    pair, :func:`oilimpact.eventstudy._jit.gather_windows`)."""
    if kernels.enabled(win.k.size):
        return _window_arrays_compiled(grid, win, has_regs)
    y_est = gather(grid.asset_ret, win.est, win.use_est)
    y_evt = gather(grid.asset_ret, win.evt, win.in_evt)
    x_est = gather(grid.reg_ret, win.est, win.use_est) if has_regs else None
    x_evt = gather(grid.reg_ret, win.evt, win.in_evt) if has_regs else None
    ok = ~np.isnan(y_est)
    if x_est is not None:
        ok &= ~np.isnan(x_est).any(axis=2)
    dates = grid.dates.astype("datetime64[ns]")
    nat = np.datetime64("NaT", "ns")
    return {
        "y_est": y_est,
        "y_evt": y_evt,
        "x_est": x_est,
        "x_evt": x_evt,
        "n_ok": ok.sum(axis=1),
        "evt_dates": np.where(win.in_evt, dates[grid.row[win.evt]], nat),
        "est_dates": np.where(win.use_est, dates[grid.row[win.est]], nat),
        "day0": dates[grid.row[win.d0]],
        "spanning": (win.use_est & grid.gap[win.est]).sum(axis=1)
        + (win.in_evt & grid.gap[win.evt]).sum(axis=1),
        "observed": (win.in_evt & ~np.isnan(y_evt)).sum(axis=1),
    }


def _window_arrays_compiled(grid: SessionGrid, win: PairWindows, has_regs: bool) -> dict[str, Any]:
    """:func:`_window_arrays` by the compiled kernel, on row blocks."""
    jit = kernels.jit()
    assert jit is not None
    (P, L1), L2 = win.est.shape, win.evt.shape[1]
    F = grid.reg_ret.shape[1] if has_regs else 0
    reg_ret = grid.reg_ret if has_regs else np.zeros((grid.row.size, 0))
    y_est, y_evt = np.empty((P, L1)), np.empty((P, L2))
    x_est, x_evt = np.empty((P, L1, F)), np.empty((P, L2, F))
    est_dates, evt_dates = np.empty((P, L1), np.int64), np.empty((P, L2), np.int64)
    n_ok, day0 = np.empty(P, np.int64), np.empty(P, np.int64)
    spanning, observed = np.empty(P, np.int64), np.empty(P, np.int64)
    dates = grid.dates.astype("datetime64[ns]").view(np.int64)

    def run(a: int, b: int) -> None:
        jit.gather_windows(win.est[a:b], win.use_est[a:b], win.evt[a:b], win.in_evt[a:b],
                           win.d0[a:b], grid.asset_ret, reg_ret, grid.row, dates, y_est[a:b],
                           x_est[a:b], y_evt[a:b], x_evt[a:b], n_ok[a:b], est_dates[a:b],
                           evt_dates[a:b], day0[a:b], grid.gap, spanning[a:b],
                           observed[a:b])  # fmt: skip

    kernels.by_blocks(P, run)
    ns = "datetime64[ns]"
    return {
        "y_est": y_est,
        "y_evt": y_evt,
        "x_est": x_est if has_regs else None,
        "x_evt": x_evt if has_regs else None,
        "n_ok": n_ok,
        "evt_dates": evt_dates.view(ns),
        "est_dates": est_dates.view(ns),
        "day0": day0.view(ns),
        "spanning": spanning,
        "observed": observed,
    }


def _confounding(
    dz: DayZero, win: PairWindows, events: Sequence[StudyEvent], n_ev: int, opts: StudyOptions
) -> tuple[np.ndarray, list[str]]:
    """Whether another event's day 0 falls inside each pair's windows, shape (P, W), and
    the ids of those inside the union of the windows (``confounded_by``)."""
    J = len(events)
    other_pos = dz.pos[:, win.asset]  # (J, P)
    rel = other_pos - win.k[None, :]
    other = (other_pos >= 0) & (np.arange(J)[:, None] != win.event[None, :])
    conf = np.zeros((win.k.size, len(opts.event_windows)), dtype=bool)
    for w, (lo, hi) in enumerate(opts.event_windows):  # a handful of windows
        conf[:, w] = (other & (rel >= lo) & (rel <= hi)).any(axis=0)
    lo_u, hi_u = opts.window_union
    in_u = other & (rel >= lo_u) & (rel <= hi_u)
    conf_by = np.full(win.k.size, "", dtype=object)
    hit = np.flatnonzero(in_u.any(axis=0))  # only the confounded pairs
    if hit.size:
        sets, which = np.unique(in_u[:, hit], axis=1, return_inverse=True)
        names = [", ".join(events[j].id for j in np.flatnonzero(col)) for col in sets.T]
        conf_by[hit] = np.asarray(names, dtype=object)[np.ravel(which)]
    return conf, conf_by.tolist()


def _alignment_frame(
    job: ChunkJob,
    grid: SessionGrid,
    dz: DayZero,
    win: PairWindows,
    arrays: dict[str, Any],
    conf_by: list[str],
) -> pd.DataFrame:
    """One row per pair: day 0 and why, the estimation sample and what was dropped."""
    n_ev = len(job.studied)
    A = len(job.names)
    dates = grid.dates.astype("datetime64[ns]")
    nat = np.datetime64("NaT", "ns")
    any_in = win.in_range.any(axis=1)
    first = np.where(any_in, dates[grid.row[win.est[:, 0]]], nat)
    last = np.where(any_in, dates[grid.row[win.est[:, -1]]], nat)
    # the per-event columns from one row per event (one type inference, not P)
    per_event = pd.DataFrame(
        {
            "event": [e.id for e in job.studied],
            "title": [e.title for e in job.studied],
            "timestamp": [e.timestamp for e in job.studied],
            "time_known": [e.time_known for e in job.studied],
        }
    )
    out = per_event.take(np.tile(np.arange(n_ev), A)).reset_index(drop=True)
    columns = {
        "event": out["event"],
        "series": pd.Index(list(job.names)).repeat(n_ev),
        **{name: out[name] for name in ("title", "timestamp", "time_known")},
        "day0": arrays["day0"],
        "reason": dz.reasons.tolist(),
        "confounded_by": conf_by,
        "n_est": arrays["n_ok"].astype(int),
        "dropped_est_days": win.dropped.sum(axis=1).astype(int),
        "est_start": first,
        "est_end": last,
        "event_days_observed": arrays["observed"].astype(int),
        "spanning_returns": arrays["spanning"].astype(int),
        "uncarried_returns": np.repeat(grid.uncarried, n_ev).astype(int),
    }
    return pd.DataFrame(columns, index=out.index)


def _fit(
    job: ChunkJob, grid: SessionGrid, win: PairWindows, arrays: dict[str, Any]
) -> AbnormalPanel:
    """The fitted panel of the chunk, with its dates and the sessions each return spans."""
    opts = job.opts
    ids = _pair_ids(job)
    mean, ss = _estudy2_market(job, arrays["day0"])
    panel = fit_panel(
        arrays["y_est"],
        arrays["y_evt"],
        arrays["x_est"],
        arrays["x_evt"],
        model=opts.model,
        event_days=opts.event_offsets,
        ids=ids,
        event_dates=arrays["day0"],
        conventions=opts.conventions,
        market_mean_all=mean,
        market_ss_all=ss,
        min_estimation=None,
    )
    codes = [s.calendar for s in job.specs]
    spanned = spanned_sessions(grid, job.values, codes, win.evt, win.asset[:, None])
    sessions = np.where(win.in_evt, spanned, 0)
    panel = _with_dates_and_sessions(panel, arrays["est_dates"], sessions)
    # the panel is fresh from fit_panel: its spanning rows are rescaled in place
    return scale_spanning_returns(panel, arrays["y_est"], arrays["x_est"], copy=False)


def _pair_ids(job: ChunkJob) -> pd.MultiIndex:
    """The (event, asset) index of the chunk's pairs, asset-major: the index
    ``MultiIndex.from_arrays`` gives (levels sorted, the smallest integer codes), built
    from the codes of the events and of the assets (each name is hashed once, not once
    per pair)."""
    events = pd.Categorical([e.id for e in job.studied])
    assets = pd.Categorical(list(job.names))
    n_ev, A = len(events), len(assets)
    return pd.MultiIndex(
        levels=[events.categories, assets.categories],
        codes=[np.tile(events.codes, A), np.repeat(assets.codes, n_ev)],
        names=["event", "asset"],
        verify_integrity=False,
    )


def _estudy2_market(job: ChunkJob, day0: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """estudy2: the market mean and sum of squares over all market days of each pair's
    estimation window, counted on the market's own days (None otherwise)."""
    opts = job.opts
    if opts.conventions != "estudy2" or opts.model != "market":
        return None, None
    from .returns import compute_returns

    mkt = pd.Series(job.regs[:, 0], index=pd.DatetimeIndex(job.dates))
    if job.input_kind == "prices":
        mkt = compute_returns(mkt.dropna(), opts.returns)
    mkt = mkt.dropna()
    mv = mkt.to_numpy()
    cs = np.concatenate([[0.0], np.cumsum(mv)])
    cs2 = np.concatenate([[0.0], np.cumsum(mv**2)])
    e0, e1 = opts.estimation_window
    km = mkt.index.as_unit("ns").asi8.searchsorted(day0.astype(np.int64), side="left")
    lo, hi = np.maximum(km + e0, 0), np.minimum(km + e1 + 1, len(mv))
    cnt = hi - lo
    ok = cnt >= 2
    lo, hi = np.where(ok, lo, 0), np.where(ok, hi, 0)
    tot = cs[hi] - cs[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(ok, tot / cnt, np.nan)
        sss = np.where(ok, (cs2[hi] - cs2[lo]) - tot**2 / cnt, np.nan)
    return means, sss


def _with_dates_and_sessions(
    panel: AbnormalPanel, est_dates: np.ndarray, event_sessions: np.ndarray
) -> AbnormalPanel:
    """``panel`` with :attr:`~AbnormalPanel.est_dates` (NaT where the fit has no residual)
    and :attr:`~AbnormalPanel.event_sessions` set; the fit's cache mark is kept."""
    dates = np.asarray(est_dates, dtype="datetime64[ns]").copy()
    dates[np.isnan(panel.est_resid)] = np.datetime64("NaT", "ns")
    out = replace(panel, est_dates=dates, event_sessions=np.asarray(event_sessions, np.int64))
    if panel_store(panel).get(MARKET_PE):
        panel_store(out)[MARKET_PE] = True
    return out
