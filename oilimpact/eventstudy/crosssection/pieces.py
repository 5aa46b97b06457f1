"""The window pooled tests from per-chunk pieces, for studies run in chunks of pairs.

A chunked study fits its pairs chunk by chunk. Holding every chunk's estimation
residuals at once (``N x L1`` doubles: about 1.9 GB at a million pairs and 240 days)
only to run :func:`~oilimpact.eventstudy.crosssection.cross_sectional_tests` is not
needed: every pooled test is a function of sums over pairs, so each chunk can reduce its
panel to small pieces, the pieces of all chunks are added, and the tests are computed
from the total::

    pieces = [cross_section_pieces(chunk_panel, windows) for chunk_panel in chunks]
    tests = tests_from_pieces(combine_pieces(pieces))

equals ``cross_sectional_tests(merged_panel, windows)`` (to rounding: sums are added in
another order; the test suite requires 1e-12).

What the pieces hold, per window (``W`` windows, ``L1`` estimation days, ``L2``
event-window days, ``D`` event dates, ``R = L1 + L2``):

* additive sums over the window's complete pairs: CAR and SCAR moments (count, mean and
  centred sum of squares, merged with Chan et al.'s pairwise update, which keeps the
  two-pass accuracy), Patell and Brown-Warner variance sums, sign counts and p-hat sums,
  the estimation-window AAR sums per relative day ``(W, L1)`` (Brown-Warner), the rank
  sums per day ``(W, R)`` (rank tests), the SCAR-complete pairs per event date ``(W, D)``
  (Kolari-Pynnonen ``M``) and the pairs per event date (the pooled policy);
* r-bar pieces per event date: the sums over pairs of standardized estimation residuals
  per calendar date, their counts and sums of squares (the pooled form of
  :func:`~oilimpact.eventstudy.crosssection.rbar.calendar_rbar`, additive).

Not additive, and how they are handled:

* **calendar r-bar of small incomplete clusters.** A cluster of at most
  :data:`~oilimpact.eventstudy.crosssection.rbar.RBAR_PAIRWISE_MAX` pairs with missing
  dates averages pairwise correlations over the dates both pairs observe, which needs
  the two rows together. The pieces keep the residual rows (and dates) of every event
  date with at most that many pairs (bounded memory: ``RBAR_PAIRWISE_MAX x L1`` per
  date), and drop them when the combined date has more (the pooled form then applies,
  exactly as in the one-shot path). Complete clusters and large ones use the sums.
* **GRANK.** The event value of a pair is its SCAR divided by the cross-sectional sd of
  all pairs' SCARs, and is then ranked inside the pair's own estimation SARs: the sd is
  known only after every chunk, and the ranks need the rows. GRANK therefore takes a
  second pass: ``scale = grank_scale(combined)`` and, per chunk,
  ``cross_section_pieces(chunk_panel, windows, grank_scale=scale)`` (only the GRANK
  sums, ``(W, L1)`` per chunk, are additive). Without the second pass the ``grank``
  rows are NaN with a note saying so. (GRANK is not among the default tests for pairs
  that share event dates, the usual large study.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from .. import kernels, threads
from ..panel import AbnormalPanel
from . import rbar as _rbar
from ._arrays import _div, _pvalue_normal, _pvalue_t, _unique_columns
from ._parts import _Parts, rank_stats_from_sums
from .grank import GRANK_MIN_PAIRS, _grank_stat, _grank_sums
from .parametric import kp_rows
from .policy import (
    _WINDOW_DTYPES,
    WINDOW_COLUMNS,
    PooledPlan,
    _attach,
    pooled_plan,
)
from .rank import rank_rows
from .rbar import (
    RBAR_MIN_OVERLAP,
    RBar,
    _cluster_on_dates,
    _date_grid,
    _overlap_clusters,
    _RbarSums,
    _standardize_rows,
)
from .sign import sign_rows
from .windows import Rows, Window, _table, _windows

__all__ = [
    "CrossSectionPieces",
    "combine_pieces",
    "cross_section_pieces",
    "grank_scale",
    "plan_from_pieces",
    "tests_from_pieces",
]

_NAT = np.iinfo(np.int64).min  # the int64 view of NaT


# ---- moments merged without loss of accuracy -----------------------------------------


def _moments(x: np.ndarray) -> np.ndarray:
    """``[n, mean, M2]`` of ``x`` (``M2`` the centred sum of squares)."""
    if x.size == 0:
        return np.zeros(3)
    mean = x.mean()
    return np.array([x.size, mean, ((x - mean) ** 2).sum()])


def _merge_moments(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Moments of the union (Chan, Golub and LeVeque 1979), along the last axis."""
    n = a[..., 0] + b[..., 0]
    safe = np.where(n > 0, n, 1.0)
    delta = b[..., 1] - a[..., 1]
    mean = a[..., 1] + delta * b[..., 0] / safe
    m2 = a[..., 2] + b[..., 2] + delta**2 * a[..., 0] * b[..., 0] / safe
    return np.stack([n, mean, m2], axis=-1)


def _mean_sd(m: np.ndarray) -> tuple[float, float, int]:
    n = int(m[0])
    mean = float(m[1]) if n else np.nan
    sd = float(np.sqrt(m[2] / (n - 1))) if n > 1 else np.nan
    return mean, sd, n


# ---- the pieces ----------------------------------------------------------------------


@dataclass
class _RbarGroup:
    """r-bar pieces of the pairs of one event date: calendar keys (dates as int64, or
    estimation columns without dates), the sums of standardized residuals and the
    pairs observed per key, ``sum z^2``, the pairs, their fewest residuals, and (while
    the date has at most :data:`RBAR_PAIRWISE_MAX` pairs) the rows themselves."""

    keys: np.ndarray
    sum_z: np.ndarray
    count: np.ndarray
    z2: float
    n: int
    min_cnt: int
    rows: np.ndarray | None
    dates: np.ndarray | None

    def merge(self, o: _RbarGroup) -> _RbarGroup:
        keys = np.union1d(self.keys, o.keys)
        sum_z, count = np.zeros(keys.size), np.zeros(keys.size)
        for g in (self, o):
            pos = np.searchsorted(keys, g.keys)
            sum_z[pos] += g.sum_z
            count[pos] += g.count
        n = self.n + o.n
        rows = dates = None
        if n <= _rbar.RBAR_PAIRWISE_MAX and self.rows is not None and o.rows is not None:
            rows = np.concatenate([self.rows, o.rows])
            if self.dates is not None and o.dates is not None:
                dates = np.concatenate([self.dates, o.dates])
        return _RbarGroup(keys, sum_z, count, self.z2 + o.z2, n,
                          min(self.min_cnt, o.min_cnt), rows, dates)  # fmt: skip


@dataclass
class CrossSectionPieces:
    """Additive pieces of the window pooled tests of some pairs (see the module notes).

    Build with :func:`cross_section_pieces`, add with :func:`combine_pieces`, test with
    :func:`tests_from_pieces`. Arrays are per window (first axis ``W``) unless noted.
    """

    windows: list[tuple[int, int]]
    event_days: np.ndarray
    conventions: str
    l1: int
    n_pairs: int
    dates: np.ndarray  # distinct event dates (int64 ns, NaT as int64 min), sorted
    date_pairs: np.ndarray  # (D,) pairs per event date
    sums: dict[str, np.ndarray]  # additive arrays (see _chunk_sums)
    car: np.ndarray  # (W, 3) moments of the CARs of complete pairs
    scar: np.ndarray  # (W, 3) moments of the finite SCARs
    sc_by_date: np.ndarray  # (W, D) pairs with a finite SCAR per event date
    rbar: dict[int, _RbarGroup] = field(default_factory=dict)  # by event date
    has_dates: bool = False  # the panels carry est_dates (r-bar on calendar dates)
    grank: dict[str, np.ndarray] | None = None  # second-pass sums (with the scale)
    grank_sd: np.ndarray | None = None


def cross_section_pieces(
    panel: AbnormalPanel,
    windows: Sequence[tuple[int, int]],
    *,
    grank_scale: np.ndarray | None = None,
) -> CrossSectionPieces:
    """The additive pieces of :func:`cross_sectional_tests` for the pairs of ``panel``.

    Parameters
    ----------
    panel : AbnormalPanel
        One chunk's panel (any subset of the study's pairs; the chunks must share the
        estimation grid ``L1``, the event days and the conventions).
    windows : sequence of (int, int)
        The study's windows (the same for every chunk).
    grank_scale : ndarray, shape (W,), optional
        The study-wide cross-sectional sd of the SCARs (:func:`grank_scale` of the
        combined first-pass pieces): adds GRANK's sums (second pass).

    Returns
    -------
    CrossSectionPieces
    """
    spans = [(int(lo), int(hi)) for lo, hi in windows]
    col_sets = [panel.window_index(span) for span in spans]
    p = _Parts(panel)
    wins = _windows(p, panel, spans, col_sets, ["patell"])  # pairs, CARs and SCARs
    key = np.asarray(panel.event_dates).astype("datetime64[ns]").view(np.int64).ravel()
    dates, inv = np.unique(key, return_inverse=True)
    out = CrossSectionPieces(
        windows=spans, event_days=np.asarray(panel.event_days), conventions=str(panel.conventions), l1=p.l1, n_pairs=p.n_pairs,
        dates=dates, date_pairs=np.bincount(inv, minlength=dates.size).astype(float),
        sums=_chunk_sums(p, wins),
        car=np.array([_moments(w.car[w.has]) for w in wins]).reshape(len(wins), 3),
        scar=np.array([_moments(w.scar[w.sc_ok]) for w in wins]).reshape(len(wins), 3),
        sc_by_date=np.array(
            [np.bincount(inv[w.sc_ok], minlength=dates.size) for w in wins], dtype=float
        ).reshape(len(wins), dates.size),
        rbar=_rbar_groups(p, key),
        has_dates=getattr(panel, "est_dates", None) is not None,
    )  # fmt: skip
    if grank_scale is not None:
        out.grank, out.grank_sd = _grank_pieces(p, wins, np.asarray(grank_scale, float))
    return out


def _chunk_sums(p: _Parts, wins: list[Window]) -> dict[str, np.ndarray]:
    """The additive sums of the pairs of one chunk (per window unless noted)."""
    has = np.column_stack([w.has for w in wins]) if wins else np.zeros((p.n_pairs, 0), bool)
    frac, est_has = p.positive_fraction
    ranked = (has & p.valid[:, None]).astype(float)  # float: the products use BLAS
    dev_sum, unif_sum, rank_cnt, n_ranked = _rank_sums(p, ranked > 0)
    li = n_ranked.astype(float)
    sc_ok = np.column_stack([w.sc_ok for w in wins]) if wins else has
    scar = np.column_stack([np.where(w.sc_ok, w.scar, 0.0) for w in wins]) if wins else has
    car = np.column_stack([np.where(w.has, w.car, 0.0) for w in wins]) if wins else has
    var_ok = has & np.isfinite(p.bw_var)[:, None]
    w_ok = sc_ok & np.isfinite(p.patell_w)[:, None]
    est_sum_all, est_cnt_all, pos_all, cnt_all = _est_totals(p)
    return {
        "est_sum": _set_sums(has, lambda: p.est0, est_sum_all),  # (W, L1)
        "est_cnt": _set_sums(has, lambda: p.est_ok, est_cnt_all),
        "est_sum_all": est_sum_all, "est_cnt_all": est_cnt_all,
        "indep_n": var_ok.sum(axis=0).astype(float),
        "indep_var": np.where(var_ok, p.bw_var[:, None], 0.0).sum(axis=0),
        "indep_car": np.where(var_ok, car, 0.0).sum(axis=0),
        "var_all": np.array([np.nansum(p.bw_var)]), "pw_all": np.array([np.nansum(p.patell_w)]),
        "pat_n": w_ok.sum(axis=0).astype(float),
        "pat_sum": np.where(w_ok, scar, 0.0).sum(axis=0),
        "pat_w": np.where(w_ok, p.patell_w[:, None], 0.0).sum(axis=0),
        "pos": ((car > 0) & has).sum(axis=0).astype(float),
        "phat_sum": np.where(est_has, frac, 0.0) @ (has & est_has[:, None]).astype(float),
        "phat_n": (has & est_has[:, None]).sum(axis=0).astype(float),
        "phat_pos_all": np.array([pos_all]), "phat_cnt_all": np.array([cnt_all]),
        "rank_dev": dev_sum, "rank_unif": unif_sum,  # (W, R)
        "rank_cnt": rank_cnt, "rank_li": li @ ranked, "rank_n": ranked.sum(axis=0),
    }  # fmt: skip


def _est_totals(p: _Parts) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Over all pairs: the column sums and counts of the finite estimation residuals
    ``(L1,)``, and the numbers of positive and of finite residuals. From the compiled
    moment pass (:attr:`_Parts.est_moments`) when the panel has one (the counts exactly,
    the sums to rounding), else from the masked matrix."""
    st = p.est_moments
    if st is not None:
        pos, cnt = float(st["n_pos"].sum()), float(st["cnt"].sum())
        return np.asarray(st["col_sum"], float), np.asarray(st["col_cnt"], float), pos, cnt
    ok = p.est_ok
    pos, cnt = float(((p.est > 0) & ok).sum()), float(ok.sum())
    return p.est0.sum(axis=0), np.count_nonzero(ok, axis=0).astype(float), pos, cnt


def _set_sums(
    sets: np.ndarray, values: Callable[[], np.ndarray], whole: np.ndarray | None = None
) -> np.ndarray:
    """``sets.T @ values()`` (``(N, W)`` boolean by ``(N, L)``): the column sums of
    ``values()`` over each window's pairs, one sum per distinct pair set (windows
    usually share theirs; ``whole``: the sums over all pairs, when known; ``values``
    is only called when some set needs it). Boolean values are counted exactly."""
    uniq, inv = _unique_columns(sets)
    full = uniq.all(axis=0)
    if whole is not None and full.all():
        return np.broadcast_to(whole, (inv.size, whole.size)).copy()
    vals = values()
    out = np.empty((uniq.shape[1], vals.shape[1]))
    for j in range(uniq.shape[1]):
        col = uniq[:, j]
        if full[j]:
            out[j] = whole if whole is not None else vals.sum(axis=0)
        elif vals.dtype == bool:
            out[j] = np.count_nonzero(vals[col], axis=0)
        else:
            out[j] = vals[col].sum(axis=0)
    return out[inv]


def _rank_sums(
    p: _Parts, ranked: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per window (columns of ``ranked``, ``(N, W)``): the column sums over its pairs of
    the centred ranks ``K - (L_i+1)/2`` and scores ``K/(L_i+1) - 1/2`` and the ranked
    counts, each ``(W, R)``, and each pair's ranked count ``L_i`` ``(N,)``.

    With the compiled kernels, the rows of ``[est | ar]`` are sorted as integer keys
    (as :func:`._arrays._sort_rows_compiled`) a few hundred at a time and each sorted
    block is ranked and summed into every distinct pair set in one pass
    (:func:`oilimpact.eventstudy._jit.rank_set_sums`), without writing the sorted rows
    out; else the products of the scattered rank grid (:attr:`_Parts.rank_grid`).
    Equal to rounding (the counts exactly).
    """
    jit = kernels.jit() if kernels.enabled(p.n_pairs) else None
    if jit is None:
        dev, unif, grid = p.rank_grid
        r = ranked.astype(float)
        li = p._full_sort[2]
        return r.T @ dev, r.T @ unif, _set_sums(ranked, lambda: grid), li
    sets, inv = _unique_columns(ranked)
    member = np.ascontiguousarray(sets)
    width = p.l1 + p.ar.shape[1]
    low = np.uint64((1 << (width - 1).bit_length()) - 1)
    n_row = np.empty(p.n_pairs, dtype=np.int64)

    def run(a: int, b: int) -> tuple[np.ndarray, ...]:
        out = tuple(np.zeros((sets.shape[1], width)) for _ in range(3))
        keys = np.empty((min(_SORT_ROWS, b - a), width), dtype=np.uint64)
        for lo in range(a, b, _SORT_ROWS):  # keys of a few hundred rows stay in cache
            hi = min(lo + _SORT_ROWS, b)
            k, left, right = keys[: hi - lo], p.est[lo:hi], p.ar[lo:hi]
            jit.pack_sort_keys(
                left, left.view(np.uint64), right, right.view(np.uint64), p.valid[lo:hi], low, k
            )  # fmt: skip
            k.sort(axis=1)
            jit.rank_set_sums(left, right, k, low, member[lo:hi], *out, n_row[lo:hi])
        return out

    parts = kernels.by_blocks(p.n_pairs, run) if p.n_pairs else [run(0, 0)]
    dev_sum, unif_sum, cnt = (np.sum([q[j] for q in parts], axis=0) for j in range(3))
    return dev_sum[inv], unif_sum[inv], cnt[inv], n_row


#: Rows sorted at a time by :func:`_rank_sums` (their keys, ~2 KiB a row, stay in cache).
_SORT_ROWS = 256


def _rbar_groups(p: _Parts, key: np.ndarray) -> dict[int, _RbarGroup]:
    """r-bar pieces of each event date of the chunk (pairs allowed in r-bar only): the
    sums of :func:`_rbar_date_sums_numpy`, or of its compiled twin
    (:func:`oilimpact.eventstudy._jit.rbar_date_sums`, dates on the shared threads) on
    large panels, and the rows of dates with at most :data:`RBAR_PAIRWISE_MAX` pairs."""
    dates = getattr(p.panel, "est_dates", None)
    ns = None if dates is None else np.asarray(dates).astype("datetime64[ns]", copy=False)
    ns64 = None if ns is None else np.ascontiguousarray(ns.view(np.int64))
    use = p.rbar_use
    event = np.unique(key[use])
    groups = [np.flatnonzero((key == d) & use) for d in event]
    jit = kernels.jit() if kernels.enabled(p.n_pairs) else None

    def sums(rows: np.ndarray) -> tuple[Any, ...]:
        if jit is not None:
            no_dates = np.empty((0, 0), dtype=np.int64)
            *out, bad = jit.rbar_date_sums(p.est, no_dates if ns64 is None else ns64, rows)
            if bad < 0:
                return tuple(out)
        return _rbar_date_sums_numpy(p.est, ns64, rows)  # a repeated date raises, named

    big = sum(rows.size >= threads.THREAD_ROWS for rows in groups)
    done = list(threads.pool().map(sums, groups)) if jit and big > 1 else map(sums, groups)
    out = {}
    for d, rows, (keys, sum_z, count, z2, min_cnt) in zip(event, groups, done, strict=True):
        small = rows.size <= _rbar.RBAR_PAIRWISE_MAX
        out[int(d)] = _RbarGroup(
            keys=keys, sum_z=sum_z, count=count, z2=float(z2), n=int(rows.size),
            min_cnt=int(min_cnt), rows=p.est[rows] if small else None,
            dates=ns[rows] if small and ns is not None else None,
        )  # fmt: skip
    return out


def _rbar_date_sums_numpy(
    est: np.ndarray, dates: np.ndarray | None, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
    """r-bar sums of the pairs ``rows`` by calendar date (the plain-numpy twin of
    :func:`oilimpact.eventstudy._jit.rbar_date_sums`).

    Parameters
    ----------
    est : ndarray, shape (N, L1)
        Estimation residuals, NaN where missing.
    dates : ndarray of int64, shape (N, L1), or None
        The residuals' dates as int64 ns (NaT as int64 min); None when the columns are
        the dates.
    rows : ndarray of int
        The pairs (of one event date).

    Returns
    -------
    keys, sum_z, count : ndarray
        The dates some pair observes (sorted int64 ns; the column indices without
        dates) and per date :math:`\\sum_i z_{it}` and the pairs observing it.
    z2 : float
        :math:`\\sum_{it} z_{it}^2`.
    min_cnt : int
        The fewest observed residuals of a pair.

    Raises
    ------
    ValueError
        When a pair repeats a date (naming it).

    Notes
    -----
    :math:`z_{it} = (e_{it} - \\bar e_i)/s_i` is pair i's residual standardized over its
    own observed dates (sd with divisor :math:`n_i - 1`); the sums give the pooled form
    of :func:`~oilimpact.eventstudy.crosssection.rbar.calendar_rbar` (Kolari and
    Pynnonen 2010), :math:`\\sum_t[(\\sum_i z_{it})^2 - \\sum_i z_{it}^2]`. As numpy,
    on the dense grid ``x`` of the rows on their dates (NaN where not observed)::

        z = (x - nanmean(x, 1)[:, None]) / nanstd(x, 1, ddof=1)[:, None]
        sum_z, count, z2 = nansum(z, 0), isfinite(x).sum(0), nansum(z**2)

    References
    ----------
    .. [1] Kolari, J. W., Pynnonen, S. (2010). Event study testing with cross-sectional
       correlation of abnormal returns. Review of Financial Studies 23, 3996-4025.
    """
    est = est[rows]
    rd = None if dates is None else dates[rows].view("datetime64[ns]")
    keys, x = _calendar_grid(est, rd)
    m = np.isfinite(x)
    z, cnt = _standardize_rows(x, m)
    min_cnt = int(cnt.min()) if cnt.size else 0
    z2 = float(np.einsum("ij,ij->", z, z))
    return keys, z.sum(axis=0), m.sum(axis=0).astype(float), z2, min_cnt


def _calendar_grid(est: np.ndarray, rd: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Keys and grid of some rows: the estimation columns without dates, else the
    union of the dates the rows observe (int64 ns), with ``est`` on it (NaN where a
    row has no residual); a row repeating a date raises, as :func:`calendar_rbar`."""
    if rd is None:
        return np.arange(est.shape[1], dtype=np.int64), est
    ok = np.isfinite(est) & ~np.isnat(rd)
    rows = np.repeat(np.arange(est.shape[0]), np.count_nonzero(ok, axis=1))  # row-major
    uniq, col = _sorted_unique(rd.view(np.int64)[ok])
    key = rows * uniq.size + col
    # row-major order: keys strictly increase unless a row repeats (or unsorts) a date
    if not (key[1:] > key[:-1]).all() and np.unique(key).size < key.size:
        _date_grid(est, rd)  # raises, naming the repeated date
        raise ValueError("est_dates repeats a date in a pair's estimation window")
    x = np.full((est.shape[0], uniq.size), np.nan)
    x.reshape(-1)[key] = est[ok]
    return uniq, x


_DAY_NS = 86_400 * 10**9


def _sorted_unique(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(v, return_inverse=True)`` of int64 nanosecond dates: by a table of
    the days when they are whole days over a span at most a few times their number
    (session dates), ``O(n)``; by a sort otherwise."""
    if v.size:
        # the day numbers by a float product, then checked exactly in integers
        day = np.rint(v * (1.0 / _DAY_NS)).astype(np.int64)
        lo, hi = int(day.min()), int(day.max())
        span = hi - lo + 1
        if span <= 4 * v.size + 4096 and (day * _DAY_NS == v).all():
            seen = np.zeros(span, dtype=bool)
            day -= lo
            seen[day] = True
            slot = np.cumsum(seen) - 1
            return (np.flatnonzero(seen) + lo) * _DAY_NS, slot[day]
    uniq, inv = np.unique(v, return_inverse=True)
    return uniq, inv.ravel()


def _grank_pieces(
    p: _Parts, wins: list[Window], sd: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """GRANK's additive sums of one chunk, given the study-wide scale ``sd``."""
    n_w, l1 = len(wins), p.l1
    est, n_t = np.zeros((n_w, l1)), np.zeros((n_w, l1))
    kev, nj = np.zeros(n_w), np.zeros(n_w)
    run = np.flatnonzero(sd > 0)
    if run.size and p.n_pairs:
        scars = np.column_stack([wins[j].scar for j in run])
        for j, (e, t, k) in zip(run, _grank_sums(p, scars, sd[run]), strict=True):
            est[j], n_t[j], kev[j], nj[j] = e, t, k.sum(), k.size
    return {"est": est, "n_t": n_t, "kev": kev, "nj": nj}, sd


def combine_pieces(pieces: Sequence[CrossSectionPieces]) -> CrossSectionPieces:
    """The pieces of the union of disjoint sets of pairs (in any order).

    Raises
    ------
    ValueError
        When the pieces differ in windows, estimation grid or conventions, or only some
        of them carry GRANK's second-pass sums.
    """
    if not pieces:
        raise ValueError("combine_pieces needs at least one CrossSectionPieces")
    out = pieces[0]
    for other in pieces[1:]:
        out = _combine_two(out, other)
    return out


def _combine_two(a: CrossSectionPieces, b: CrossSectionPieces) -> CrossSectionPieces:
    same = (a.windows, a.l1, a.conventions, a.has_dates) == (
        b.windows, b.l1, b.conventions, b.has_dates
    )  # fmt: skip
    if a.grank_sd is not None and b.grank_sd is not None:
        same = same and np.array_equal(a.grank_sd, b.grank_sd, equal_nan=True)
    if not same or (a.grank is None) != (b.grank is None):
        raise ValueError(
            "pieces of different studies: windows, estimation length, conventions, "
            f"est_dates and the GRANK pass (and its scale) must agree (got {a.windows}, L1 {a.l1}, {a.conventions}, "
            f"grank {a.grank is not None} vs {b.windows}, L1 {b.l1}, {b.conventions}, "
            f"grank {b.grank is not None})"
        )
    dates = np.union1d(a.dates, b.dates)

    def by_date(x: np.ndarray, src: np.ndarray) -> np.ndarray:
        out = np.zeros(x.shape[:-1] + (dates.size,))
        out[..., np.searchsorted(dates, src)] = x
        return out

    rbar = dict(a.rbar)
    for d, g in b.rbar.items():
        rbar[d] = rbar[d].merge(g) if d in rbar else g
    grank = None
    if a.grank is not None and b.grank is not None:
        grank = {k: a.grank[k] + b.grank[k] for k in a.grank}
    return replace(
        a,
        n_pairs=a.n_pairs + b.n_pairs,
        dates=dates,
        date_pairs=by_date(a.date_pairs, a.dates) + by_date(b.date_pairs, b.dates),
        sums={k: a.sums[k] + b.sums[k] for k in a.sums},
        car=_merge_moments(a.car, b.car),
        scar=_merge_moments(a.scar, b.scar),
        sc_by_date=by_date(a.sc_by_date, a.dates) + by_date(b.sc_by_date, b.dates),
        rbar=rbar,
        grank=grank,
    )


def grank_scale(pieces: CrossSectionPieces) -> np.ndarray:
    """The cross-sectional sd (ddof 1) of the SCARs of every window, NaN below
    :data:`GRANK_MIN_PAIRS` pairs: the ``grank_scale`` of GRANK's second pass."""
    out = np.full(len(pieces.windows), np.nan)
    for j, m in enumerate(pieces.scar):
        _, sd, n = _mean_sd(m)
        if n >= GRANK_MIN_PAIRS:
            out[j] = sd
    return out


# ---- the tests from the pieces -------------------------------------------------------


def tests_from_pieces(
    pieces: CrossSectionPieces,
    tests: Sequence[str] | None = None,
    *,
    pooled: bool | Literal["auto"] = "auto",
    independence_tests: bool = False,
) -> pd.DataFrame:
    """:func:`cross_sectional_tests` of the pairs whose pieces were combined.

    Parameters and the returned frame are those of
    :func:`~oilimpact.eventstudy.crosssection.cross_sectional_tests` (the windows are
    the pieces' own); each statistic is the same formula computed from the summed
    pieces (see the module notes for GRANK's second pass and the calendar r-bar).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from oilimpact.eventstudy.crosssection import cross_sectional_tests
    >>> from oilimpact.eventstudy.panel import AbnormalPanel
    >>> rng = np.random.default_rng(1)
    >>> def panel(n, seed):
    ...     r = np.random.default_rng(seed)
    ...     return AbnormalPanel(
    ...         ids=pd.MultiIndex.from_product([["e"], range(n)], names=["event", "asset"]),
    ...         est_resid=r.normal(0, 0.01, (n, 120)), n_est=np.full(n, 120), n_params=0,
    ...         sigma2=np.full(n, 1e-4), event_days=np.arange(-2, 3),
    ...         event_ar=r.normal(0.004, 0.01, (n, 5)),
    ...         pe_cov=np.broadcast_to(np.eye(5), (n, 5, 5)),
    ...         event_dates=np.full(n, np.datetime64("2025-12-17", "ns")))
    >>> chunks = [panel(15, 1), panel(20, 2)]
    >>> pieces = combine_pieces([cross_section_pieces(c, [(0, 0), (0, 2)]) for c in chunks])
    >>> out = tests_from_pieces(pieces)
    >>> out["test"].unique().tolist()
    ['brown_warner', 'adjusted_patell', 'adjusted_bmp', 'rank', 'modified_rank']
    """
    plan = plan_from_pieces(pieces, tests, pooled=pooled, independence_tests=independence_tests)
    if not plan.run:
        return _attach(pd.DataFrame(columns=WINDOW_COLUMNS).astype(_WINDOW_DTYPES), plan)
    rbars: dict[bytes, RBar] = {}  # windows whose spans cluster the dates alike share it
    done = [_piece_rows(pieces, k, plan.tests, rbars) for k in range(len(pieces.windows))]
    if "grank" in plan.tests:
        for k, (res, why, _) in enumerate(done):
            res["grank"], note = _grank_row(pieces, k)
            if note:
                why["grank"] = note
    labels = [
        (lo, hi, _mean_sd(m)[0]) for (lo, hi), m in zip(pieces.windows, pieces.car, strict=True)
    ]
    return _attach(_table(labels, done, plan.tests, plan), plan)


tests_from_pieces.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def plan_from_pieces(
    pieces: CrossSectionPieces,
    tests: Sequence[str] | None = None,
    *,
    pooled: bool | Literal["auto"] = "auto",
    independence_tests: bool = False,
) -> PooledPlan:
    """:func:`~oilimpact.eventstudy.crosssection.pooled_plan` of the combined pairs:
    which tests :func:`tests_from_pieces` will run (``"grank" in plan.tests`` says
    whether GRANK's second pass is needed)."""
    return pooled_plan(
        _PlanInput(pieces), pieces.windows, tests, pooled=pooled,  # type: ignore[arg-type]
        independence_tests=independence_tests,
    )  # fmt: skip


@dataclass(frozen=True)
class _PlanInput:
    """What :func:`pooled_plan` reads of a panel: the pairs and their event dates."""

    pieces: CrossSectionPieces

    @property
    def n_pairs(self) -> int:
        return self.pieces.n_pairs

    @property
    def event_dates(self) -> np.ndarray:
        counts = self.pieces.date_pairs.astype(np.int64)
        return np.repeat(self.pieces.dates, counts).view("datetime64[ns]")


def _piece_rows(
    pc: CrossSectionPieces, k: int, tests: list[str], rbars: dict[bytes, RBar] | None = None
) -> tuple[Rows, dict[str, str], float]:
    """``(rows, notes, rbar)`` of window ``k`` from the pieces (GRANK aside)."""
    s = {name: v if name.endswith("_all") else v[k] for name, v in pc.sums.items()}
    lo, hi = pc.windows[k]
    tau = hi - lo + 1
    estudy2 = pc.conventions == "estudy2"
    caar, car_sd, n = _mean_sd(pc.car[k])
    need = set(tests).intersection
    res: Rows = {}
    why: dict[str, str] = {}
    rbar = np.nan
    if need({"cross_sectional_t"}):
        stat = float(_div(caar * np.sqrt(n), car_sd))
        res["cross_sectional_t"] = (stat, float(_pvalue_t(stat, n - 1)), n)
    if need({"brown_warner"}):
        rows, note = _bw_rows(s, estudy2, caar, n, tau)
        res, why = res | rows, why | note
    if need({"brown_warner_indep"}):
        res |= _bw_indep_rows(s, estudy2, caar, n, tau, pc.n_pairs)
    if need(("patell", "bmp", "adjusted_patell", "adjusted_bmp")):
        rows, note = _patell_bmp_rows(s, estudy2, pc.scar[k], pc.n_pairs)
        res, why = res | rows, why | note
        if need(("adjusted_patell", "adjusted_bmp")):
            span = hi - lo
            rb = _rbar_from_pieces(pc, span, cache=rbars)
            m_pairs = np.array([_cluster_pairs(pc, pc.sc_by_date[k], span)])
            rows, note, rbar = kp_rows(rb, m_pairs, int(pc.scar[k][0]), rows)
            res, why = res | rows, why | note
    if need({"sign", "generalized_sign"}):
        rows, note = _sign_from_sums(s, estudy2, n, pc.n_pairs)
        res, why = res | rows, why | note
    if need({"rank", "modified_rank"}):
        kb, ub, s_k, s_u = rank_stats_from_sums(
            s["rank_dev"][None], s["rank_unif"][None], s["rank_cnt"][None],
            np.array([s["rank_li"]]), np.array([s["rank_n"]]), estudy2,
        )  # fmt: skip
        ev = pc.l1 + np.flatnonzero((pc.event_days >= lo) & (pc.event_days <= hi))
        res |= rank_rows(kb[0], ub[0], float(s_k[0]), float(s_u[0]), ev, tau, int(s["rank_n"]))
    return res, why, rbar


def _bw_rows(
    s: dict[str, Any], estudy2: bool, caar: float, n: int, tau: int
) -> tuple[Rows, dict[str, str]]:
    """Brown-Warner CDA from the estimation-window AAR sums (see
    :func:`.parametric.window_brown_warner`)."""
    tot, cnt = (s["est_sum_all"], s["est_cnt_all"]) if estudy2 else (s["est_sum"], s["est_cnt"])
    aar = _div(tot, cnt)
    has = cnt > 0
    t_est = int(has.sum())
    sd = float(np.std(aar[has], ddof=1)) if t_est > 1 else np.nan
    stat = float(_div(caar, np.sqrt(tau) * sd))
    rows: Rows = {"brown_warner": (stat, float(_pvalue_t(stat, t_est - 1)), n)}
    if n and t_est < 2:
        return rows, {
            "brown_warner": f"Brown-Warner needs 2 estimation days with these pairs, got {t_est}"
        }
    return rows, {}


def _bw_indep_rows(
    s: dict[str, Any], estudy2: bool, caar: float, n: int, tau: int, n_all: int
) -> Rows:
    """Brown-Warner under independence from sums (see
    :func:`.parametric.window_brown_warner_indep`)."""
    if estudy2:
        den = np.sqrt(tau * float(s["var_all"][0])) / n_all
        stat = float(_div(caar, den))
        n_used = n
    else:
        n_used = int(s["indep_n"])
        den = np.sqrt(tau * s["indep_var"]) / n_used if n_used else np.nan
        stat = float(_div(s["indep_car"] / n_used, den)) if n_used else np.nan
    return {"brown_warner_indep": (stat, float(_pvalue_normal(stat)), n_used)}


def _patell_bmp_rows(
    s: dict[str, Any], estudy2: bool, scar: np.ndarray, n_all: int
) -> tuple[Rows, dict[str, str]]:
    """Patell and BMP from sums and SCAR moments (see :func:`.parametric.window_patell_bmp`)."""
    mean_sc, sd, n_sc = _mean_sd(scar)
    if estudy2:
        num = mean_sc * n_all if n_sc else np.nan
        patell = float(_div(num, np.sqrt(float(s["pw_all"][0]))))
        n_pat = n_sc
    else:
        patell = float(_div(s["pat_sum"], np.sqrt(s["pat_w"])))
        n_pat = int(s["pat_n"])
    bmp = float(_div(mean_sc * np.sqrt(n_sc), sd))
    rows: Rows = {
        "patell": (patell, float(_pvalue_normal(patell)), n_pat),
        "bmp": (bmp, float(_pvalue_t(bmp, n_sc - 1)), n_sc),
    }
    why = {"patell": "pairs with 2 or fewer residual degrees of freedom left out"}
    return rows, (why if n_pat < n_sc else {})


def _sign_from_sums(
    s: dict[str, Any], estudy2: bool, n: int, n_all: int
) -> tuple[Rows, dict[str, str]]:
    """Both sign tests from the counts (see :func:`.sign.window_sign`)."""
    pos = float(s["pos"])
    wins = pos / n * n_all if (estudy2 and n) else pos
    if estudy2:
        tot = float(s["phat_cnt_all"][0])
        ph = float(s["phat_pos_all"][0] / tot) if tot else np.nan
    else:
        ph = float(_div(s["phat_sum"], s["phat_n"]))
    return sign_rows(wins, n, ph, exact=not estudy2)


def _clusters(pc: CrossSectionPieces, dates: np.ndarray, span: int) -> np.ndarray:
    """Cluster of each event date (int64 ns) for windows of ``span + 1`` days: one per
    date for ``span = 0``, else dates at most ``span`` business days apart chained."""
    if span <= 0:
        return np.arange(dates.size)
    return _overlap_clusters(dates.view("datetime64[ns]"), span)[0]


def _cluster_pairs(pc: CrossSectionPieces, counts: np.ndarray, span: int) -> float:
    """``M = sum_g n_g (n_g - 1)`` over the clusters of the pieces' event dates."""
    n_g = np.bincount(_clusters(pc, pc.dates, span), weights=counts)
    return float((n_g * (n_g - 1.0)).sum())


def _rbar_from_pieces(
    pc: CrossSectionPieces,
    span: int,
    min_overlap: int = RBAR_MIN_OVERLAP,
    cache: dict[bytes, RBar] | None = None,
) -> RBar:
    """:func:`calendar_rbar` of the clusters for ``span`` from the r-bar pieces
    (``cache``: the r-bar of each partition of the dates already computed, reused by a
    window whose span gives the same clusters: the same numbers)."""
    if span > 0 and not pc.has_dates:
        span = 0  # without calendar dates only same-date pairs are matched
    keys = np.array(sorted(pc.rbar), dtype=np.int64)
    cid = _clusters(pc, keys, span)
    memo = np.asarray(cid, dtype=np.int64).tobytes() + str(min_overlap).encode()
    if cache is not None and memo in cache:
        return cache[memo]
    out = _rbar_of_clusters(pc, keys, cid, min_overlap)
    if cache is not None:
        cache[memo] = out
    return out


def _rbar_of_clusters(
    pc: CrossSectionPieces, keys: np.ndarray, cid: np.ndarray, min_overlap: int
) -> RBar:
    """r-bar over the clusters ``cid`` of the event dates ``keys``."""
    acc = _RbarSums()
    for c in np.unique(cid):
        groups = [pc.rbar[int(d)] for d in keys[cid == c]]
        g = groups[0]
        for other in groups[1:]:
            g = g.merge(other)
        if g.n >= 2:
            _rbar_cluster(acc, g, min_overlap)
    return acc.result(min_overlap)


def _rbar_cluster(acc: _RbarSums, g: _RbarGroup, min_overlap: int) -> None:
    """One cluster: the exact form when complete, pairwise from its rows when small,
    else the pooled approximation (as :func:`calendar_rbar`)."""
    pairs = g.n * (g.n - 1) // 2
    num = float((g.sum_z**2).sum() - g.z2)
    if (g.count == g.n).all():  # every pair on every date
        d = g.keys.size
        if d < min_overlap:
            acc.n_short += pairs
        else:
            acc.add(num / (d - 1.0), pairs, d)
    elif g.rows is not None:
        _cluster_on_dates(acc, _date_grid(g.rows, g.dates), min_overlap)
    else:
        den = float((g.count * g.count - g.count).sum()) - g.n * (g.n - 1.0)
        if den > 0:
            acc.add(num / den * 2.0 * pairs, pairs, g.min_cnt, approx=True)
        else:
            acc.approx = True


def _grank_row(pc: CrossSectionPieces, k: int) -> tuple[tuple[float, float, int], str]:
    """GRANK of window ``k`` from the second-pass sums (NaN with a note without them)."""
    n0 = int(pc.scar[k][0])
    if pc.grank is None or pc.grank_sd is None:
        return (np.nan, np.nan, n0), (
            "GRANK needs a second pass over the chunks: "
            "cross_section_pieces(..., grank_scale=grank_scale(combined))"
        )
    sd = pc.grank_sd[k]
    if not sd > 0:
        return (np.nan, np.nan, n0), ""
    g = pc.grank
    t_len = pc.l1 + 1.0
    nj = int(g["nj"][k])
    stat = _grank_stat(g["est"][k], g["n_t"][k], float(g["kev"][k] / nj - 0.5), nj, t_len)
    return (float(stat), float(_pvalue_t(np.array([stat]), t_len - 2.0)[0]), nj), ""
