"""Windows of every (event, asset) pair cut from the flat session grid by fancy indexing.

For pair ``(event i, asset a)`` with day 0 at session ``k`` the estimation window is the
sessions ``k + e0 .. k + e1`` and the event window ``k + lo .. k + hi`` of the asset's
grid (:mod:`oilimpact.eventstudy.grid`); they are gathered for all pairs at once from
the flat arrays at positions ``start[a] + k + offset``. From each estimation window the
days within ``exclusion_band`` of another event's day 0 are dropped (a difference array
over the window's columns, one scatter for all (pair, other event) combinations).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError
from . import kernels
from .dayzero import NO_DAY, DayZero, alignment_error
from .grid import SessionGrid
from .inputs import StudyEvent, named_spec
from .returns import NON_POSITIVE_ADVICE
from .spec import StudyOptions

__all__ = ["PairWindows", "pair_windows"]


@dataclass(frozen=True, slots=True)
class PairWindows:
    """Estimation and event windows of the P = A * E pairs (asset-major).

    ``k`` is day 0's session (``d0`` its flat position), ``asset`` the asset column of each pair; ``est`` and
    ``evt`` the flat session positions (clipped), ``use_est`` / ``in_evt`` the days that
    count, ``dropped`` the estimation days removed as other events' days.
    """

    k: np.ndarray
    d0: np.ndarray
    asset: np.ndarray
    event: np.ndarray
    est: np.ndarray
    evt: np.ndarray
    in_range: np.ndarray
    use_est: np.ndarray
    in_evt: np.ndarray
    dropped: np.ndarray
    est_first: np.ndarray


def pair_windows(grid: SessionGrid, dz: DayZero, n_ev: int, opts: StudyOptions) -> PairWindows:
    """The windows of every pair (day 0 of a failed pair is taken as session 0; the
    caller raises for it first).

    From :data:`~oilimpact.eventstudy.kernels.MIN_PAIRS` pairs on, one compiled pass
    per pair (:func:`oilimpact.eventstudy._jit.window_positions`, row blocks on a few
    threads); below, the array operations of the module notes, which are the reference.
    """
    A = grid.n_sessions.size
    asset = np.repeat(np.arange(A), n_ev)
    event = np.tile(np.arange(n_ev), A)
    k = np.maximum(dz.pos[:n_ev].T.reshape(-1), 0)  # (P,)
    if kernels.enabled(k.size):
        return _windows_compiled(grid, dz, asset, event, k, opts)
    T = grid.n_sessions[asset]
    est_rel = k[:, None] + opts.est_offsets[None, :]
    in_range = (est_rel >= 0) & (est_rel < T[:, None])
    evt_rel = k[:, None] + opts.event_offsets[None, :]
    in_evt = (evt_rel >= 0) & (evt_rel < T[:, None])
    base = grid.start[asset][:, None]
    hi = np.maximum(T - 1, 0)[:, None]
    top = max(grid.row.size - 1, 0)  # a pair without sessions reads a masked neighbour
    est = np.minimum(base + _clip(est_rel, 0, hi), top)
    evt = np.minimum(base + _clip(evt_rel, 0, hi), top)
    dropped = _band_dropped(dz, asset, event, k, opts) & in_range
    return PairWindows(
        k=k,
        d0=np.minimum(grid.start[asset] + k, top),
        asset=asset,
        event=event,
        est=est,
        evt=evt,
        in_range=in_range,
        use_est=in_range & ~dropped,
        in_evt=in_evt,
        dropped=dropped,
        est_first=est_rel[:, 0],
    )


def _windows_compiled(
    grid: SessionGrid,
    dz: DayZero,
    asset: np.ndarray,
    event: np.ndarray,
    k: np.ndarray,
    opts: StudyOptions,
) -> PairWindows:
    """:func:`pair_windows` by the compiled kernel, on row blocks."""
    jit = kernels.jit()
    assert jit is not None
    P = k.size
    e0 = opts.estimation_window[0]
    L1, offsets = opts.est_offsets.size, np.ascontiguousarray(opts.event_offsets, np.int64)
    L2 = offsets.size
    est, evt = np.empty((P, L1), np.int64), np.empty((P, L2), np.int64)
    in_range, dropped, use_est = (np.empty((P, L1), bool) for _ in range(3))
    in_evt = np.empty((P, L2), bool)
    day = np.ascontiguousarray(np.where(dz.pos >= 0, dz.pos, dz.early))
    lo, hi = opts.exclusion_band
    top = max(grid.row.size - 1, 0)
    exclude = bool(opts.exclude_confounders)

    def run(a: int, b: int) -> None:
        jit.window_positions(k[a:b], asset[a:b], event[a:b], grid.start, grid.n_sessions,
                             top, e0, offsets, day, lo, hi, exclude, est[a:b],
                             in_range[a:b], dropped[a:b], use_est[a:b], evt[a:b],
                             in_evt[a:b])  # fmt: skip

    kernels.by_blocks(P, run)
    d0 = np.minimum(grid.start[asset] + k, top)
    return PairWindows(k=k, d0=d0, asset=asset, event=event, est=est, evt=evt,
                       in_range=in_range, use_est=use_est, in_evt=in_evt, dropped=dropped,
                       est_first=k + e0)  # fmt: skip


def _band_dropped(
    dz: DayZero, asset: np.ndarray, event: np.ndarray, k: np.ndarray, opts: StudyOptions
) -> np.ndarray:
    """Estimation days of each pair within ``exclusion_band`` of another event's day 0
    (a studied or catalog event of the same asset; an event just before the data counts
    with its virtual day 0), shape (P, L1)."""
    e0, e1 = opts.estimation_window
    L1 = e1 - e0 + 1
    P = asset.size
    if not opts.exclude_confounders or P == 0:
        return np.zeros((P, L1), dtype=bool)
    lo, hi = opts.exclusion_band
    day = np.where(dz.pos >= 0, dz.pos, dz.early)  # (J, A)
    other = day[:, asset]  # (J, P)
    J = other.shape[0]
    ok = (other != NO_DAY) & (np.arange(J)[:, None] != event[None, :])
    a = _clip(other + lo - k[None, :] - e0, 0, L1)  # first column covered
    b = _clip(other + hi - k[None, :] - e0 + 1, 0, L1)  # one past the last
    ok &= a < b
    jj, pp = np.nonzero(ok)
    diff = np.zeros((P, L1 + 1), dtype=np.int32)
    np.add.at(diff, (pp, a[jj, pp]), 1)
    np.add.at(diff, (pp, b[jj, pp]), -1)
    return np.cumsum(diff[:, :L1], axis=1) > 0


def _clip(x: np.ndarray, lo: int, hi: np.ndarray | int) -> np.ndarray:
    """``np.clip(x, lo, hi)`` of integers (``lo <= hi``): ``maximum`` then ``minimum``,
    several times faster than ``np.clip`` with an array bound."""
    out = np.maximum(x, lo)
    return np.minimum(out, hi, out=out)


def gather(values: np.ndarray, pos: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``values[pos]`` where ``mask``, NaN elsewhere (``values`` (S,) or (S, F))."""
    out = values[pos]
    if out.ndim == 3:
        return np.where(mask[:, :, None], out, np.nan)
    return np.where(mask, out, np.nan)


# ---- the checks that stop a study ----------------------------------------------------------


def check_pairs(
    grid: SessionGrid,
    dz: DayZero,
    win: PairWindows,
    n_ok: np.ndarray,
    names: Sequence[str],
    regressors: Sequence[str],
    specs: Sequence[Any],
    studied: Sequence[StudyEvent],
    opts: StudyOptions,
) -> None:
    """Raise the error of the first asset (in column order) that has one: no session,
    an event outside its data, a log return across a non-positive price inside a
    window, or too short an estimation window (in that order within an asset)."""
    n_ev = len(studied)
    A = len(names)
    no_sess = grid.n_sessions == 0
    align_bad = dz.failed.any(axis=0)
    bad_hit = np.zeros(A, dtype=bool)
    if grid.bad.any():
        hits = (win.use_est & grid.bad[win.est]).any(axis=1) | (win.in_evt & grid.bad[win.evt]).any(
            axis=1
        )
        bad_hit = hits.reshape(A, n_ev).any(axis=1)
    short = (n_ok < opts.min_estimation).reshape(A, n_ev).any(axis=1)
    failing = np.flatnonzero(no_sess | align_bad | bad_hit | short)
    if failing.size == 0:
        return
    a = int(failing[0])
    name = names[a]
    if no_sess[a]:
        raise EstimationError(
            f"series {name!r} has no dates on which it and the regressors "
            f"({', '.join(regressors) or 'none'}) are all observed"
        )
    sessions = pd.DatetimeIndex(
        grid.dates[grid.row[grid.start[a] : grid.start[a] + grid.n_sessions[a]]]
    )
    if align_bad[a]:
        i = int(np.flatnonzero(dz.failed[:, a])[0])
        raise alignment_error(studied[i], name, sessions, named_spec(specs[a], name))
    rows = slice(a * n_ev, (a + 1) * n_ev)
    if bad_hit[a]:
        _raise_bad_price(grid, win, rows, sessions, name, regressors, studied)
    i = int(np.flatnonzero(n_ok[rows] < opts.min_estimation)[0])
    _raise_short(win, a * n_ev + i, int(n_ok[a * n_ev + i]), sessions, name, studied[i], opts)


def _raise_bad_price(
    grid: SessionGrid,
    win: PairWindows,
    rows: slice,
    sessions: pd.DatetimeIndex,
    name: str,
    regressors: Sequence[str],
    studied: Sequence[StudyEvent],
) -> None:
    """The error for the first event whose windows use a log return across a price <= 0."""
    a = int(win.asset[rows.start])
    s0 = int(grid.start[a])
    for i, p in enumerate(range(rows.start, rows.stop)):
        hits = np.concatenate(
            [
                win.est[p][win.use_est[p] & grid.bad[win.est[p]]],
                win.evt[p][win.in_evt[p] & grid.bad[win.evt[p]]],
            ]  # fmt: skip
        )
        if not hits.size:
            continue
        h = int(hits.min()) - s0  # the pair session
        col_name, when = _bad_source(grid, a, h, sessions, [name, *regressors])
        raise EstimationError(
            f"log returns need positive prices: series {col_name!r} has a price "
            f"<= 0 on {when.date()}, which enters the windows of event "
            f"{studied[i].id!r}; {NON_POSITIVE_ADVICE}"
        )


def _bad_source(
    grid: SessionGrid, a: int, h: int, sessions: pd.DatetimeIndex, cols: list[str]
) -> tuple[str, pd.Timestamp]:
    """The series and date of the non-positive price behind bad return ``h`` of asset
    ``a``: the price of the previous session if it is one, else that of session ``h``."""
    prev = h - 1 if h > 0 and grid.bad_col[grid.start[a] + h - 1] >= 0 else h
    return cols[int(grid.bad_col[grid.start[a] + prev])], sessions[prev]


def _raise_short(
    win: PairWindows,
    p: int,
    n_ok: int,
    sessions: pd.DatetimeIndex,
    name: str,
    ev: StudyEvent,
    opts: StudyOptions,
) -> None:
    """The error for a pair with fewer estimation days than ``min_estimation``."""
    b_lo, b_hi = opts.exclusion_band
    day0 = sessions[int(win.k[p])].date()
    extra = ""
    if win.est_first[p] < 0:
        extra = f"; the data start {sessions[0].date()}"
    nd = int(win.dropped[p].sum())
    if nd:
        extra += (
            f"; {nd} day(s) dropped as other events' days [{b_lo:+d}, {b_hi:+d}] (exclusion_band=)"
        )
    raise EstimationError(
        f"estimation window needs {opts.min_estimation} trading days before {day0}, got "
        f"{n_ok} (event={ev.id}, series={name}){extra}"
    )
