"""Kolari-Pynnonen r-bar: the average correlation of estimation residuals of pairs in one
cluster, matched by calendar date, and the KP (2010) adjustment factors.

References
----------
Kolari, J. W., Pynnonen, S. (2010). Event study testing with cross-sectional correlation
of abnormal returns. Review of Financial Studies 23, 3996-4025.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from ._arrays import _div

#: Fewest estimation dates two pairs must both observe for their residual correlation to
#: enter r-bar. A correlation over T common dates has a standard error of about
#: ``(1 - r^2)/sqrt(T)``; 30 dates bound it by 0.18, while the engine's default
#: estimation window (240 sessions) gives far more. Pairs with less overlap are left out
#: of the average (their clusters still count in the adjustment, at the average r-bar
#: of the other pairs).
RBAR_MIN_OVERLAP: Final[int] = 30

#: Largest cluster whose pairwise correlations are computed one by one (``n_g^2`` of
#: them, each over the dates both pairs observe) when some of its pairs miss dates;
#: larger incomplete clusters use the pooled form of :func:`calendar_rbar` (exact for
#: complete data, a close approximation with a few missing dates), which costs
#: ``O(n_g D)`` instead of ``O(n_g^2 D)``.
RBAR_PAIRWISE_MAX: Final[int] = 1000


@dataclass(frozen=True)
class RBar:
    """Kolari-Pynnonen r-bar and how it was obtained (see :func:`calendar_rbar`).

    ``value``: the average correlation (0.0 when no two pairs share a cluster, NaN when
    they do but no two of them share :data:`RBAR_MIN_OVERLAP` estimation dates);
    ``n_corr``: pairwise correlations averaged; ``n_short``: same-cluster pairs left
    out for too little overlap; ``min_overlap``: the fewest common dates among the
    pairs used; ``approximate``: whether some cluster used the pooled form with
    missing dates; ``note``: why ``value`` is NaN or 0 (empty otherwise).
    """

    value: float
    n_corr: int
    n_short: int
    min_overlap: int
    approximate: bool
    note: str


def _overlap_clusters(event_dates: np.ndarray, span: int) -> tuple[np.ndarray, int]:
    """Connected components of "event dates at most ``span`` business days apart"."""
    d = np.asarray(event_dates).astype("datetime64[D]").ravel()
    n = d.size
    inv = np.empty(n, dtype=np.intp)
    nat = np.isnat(d)
    order = np.argsort(np.where(nat, np.datetime64("9999-12-31"), d), kind="stable")
    ok = order[~nat[order]]
    if ok.size:
        gaps = np.abs(np.busday_count(d[ok[:-1]], d[ok[1:]]))
        cid = np.concatenate([[0], np.cumsum(gaps > span)])
        inv[ok] = cid
        n_groups = int(cid[-1]) + 1
    else:
        n_groups = 0
    if nat.any():  # unknown dates: one cluster (as the same-date groups treat NaT)
        inv[nat] = n_groups
        n_groups += 1
    return inv, n_groups


def _one_calendar(dates: np.ndarray, ok: np.ndarray) -> bool:
    """Whether every pair has the same date in each estimation column it observes."""
    dates = np.asarray(dates).astype("datetime64[ns]")
    ok = ok & ~np.isnat(dates)
    first = np.where(ok, dates.view(np.int64), np.iinfo(np.int64).min).max(axis=0)
    return bool(((dates.view(np.int64) == first) | ~ok).all())


def _date_grid(est: np.ndarray, dates: np.ndarray | None) -> np.ndarray:
    """The rows of ``est`` on the union of their observed calendar dates, ``(n, D)``,
    NaN where a row has no residual on a date. Without ``dates`` (or when all rows carry
    the same date in every column) the columns already are the common dates."""
    if dates is None:
        return est
    dates = np.asarray(dates).astype("datetime64[ns]")
    ok = np.isfinite(est) & ~np.isnat(dates)
    if not ok.all():
        est = np.where(ok, est, np.nan)
    same = (dates == dates[:1]) | ~ok | np.isnat(dates[:1])
    if same.all():  # one calendar: the columns are the dates
        return est
    rows, cols = np.nonzero(ok)
    uniq, col = np.unique(dates[rows, cols], return_inverse=True)
    key = rows * uniq.size + col
    srt = np.sort(key)
    dup = np.flatnonzero(np.diff(srt) == 0)
    if dup.size:
        row, day = divmod(int(srt[dup[0]]), uniq.size)
        raise ValueError(
            f"est_dates repeats {np.datetime_as_string(uniq[day], unit='D')} in the "
            f"estimation window of pair {row} of its cluster; each residual needs its "
            "own date"
        )
    out = np.full((est.shape[0], uniq.size), np.nan)
    out[rows, col.ravel()] = est[rows, cols]
    return out


#: Largest product (multiply-adds) :func:`_times_transpose` leaves to numpy's own loops.
_SMALL_PRODUCT: Final[int] = 8_000_000


def _times_transpose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b^T`` over the last two axes. A small product (at most
    :data:`_SMALL_PRODUCT` multiply-adds: a cluster of a few dozen pairs) runs in
    numpy's own loops (``np.einsum``), a larger one in BLAS: BLAS wakes its threads for
    products of this size, which costs milliseconds on a busy machine, far more than
    the product (the two differ only in summation order)."""
    if a.size * b.shape[-2] <= _SMALL_PRODUCT:
        return np.einsum("...ij,...kj->...ik", a, b)
    return a @ np.ascontiguousarray(np.swapaxes(b, -1, -2))


def _pairwise_corr(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlations of the rows of ``x`` over the columns both rows observe
    (pandas' ``DataFrame.corr()`` of the transposed matrix) and the common counts.
    ``x`` is ``(n, D)`` or a stack ``(B, n, D)`` of such matrices (one product each)."""
    m = np.isfinite(x)
    mf = m.astype(float)
    cnt = np.maximum(mf.sum(axis=-1), 1.0)
    mean = _div(np.where(m, x, 0.0).sum(axis=-1), cnt)
    x0 = np.where(m, x - mean[..., None], 0.0)
    n = x.shape[-2]
    # one product for the three sums over common dates: counts n_ij, s_x[i, j] = sum of
    # x_i over the dates j also observes, and s_xx the same for x_i^2
    stacked = _times_transpose(np.concatenate([mf, x0, x0 * x0], axis=-2), mf)
    n_ij, s_x, s_xx = stacked[..., :n, :], stacked[..., n : 2 * n, :], stacked[..., 2 * n :, :]
    s_xy = _times_transpose(x0, x0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = s_xy - s_x * np.swapaxes(s_x, -1, -2) / n_ij
        var = s_xx - s_x * s_x / n_ij
        r = cov / np.sqrt(var * np.swapaxes(var, -1, -2))
    return r, n_ij


@dataclass
class _RbarSums:
    """Running sums of :func:`calendar_rbar` over clusters (internal): the sum of the
    pairwise correlations over *ordered* pairs (``total``), the unordered pairs averaged
    and left out, the fewest common dates seen and whether a pooled approximation
    entered."""

    total: float = 0.0
    n_corr: int = 0
    n_short: int = 0
    min_seen: int = int(np.iinfo(np.int64).max)
    approx: bool = False

    def add(self, ordered_sum: float, pairs: int, overlap: int, approx: bool = False) -> None:
        self.total += ordered_sum
        self.n_corr += pairs
        self.min_seen = min(self.min_seen, overlap)
        self.approx = self.approx or approx

    def add_pairwise(self, r_u: np.ndarray, n_u: np.ndarray, min_overlap: int) -> None:
        """Pairwise correlations ``r_u`` over ``n_u`` common dates (upper triangle)."""
        keep = (n_u >= min_overlap) & np.isfinite(r_u)
        self.n_short += int((~keep).sum())
        if keep.any():
            self.add(2.0 * float(r_u[keep].sum()), int(keep.sum()), int(n_u[keep].min()))

    def result(self, min_overlap: int) -> RBar:
        if self.n_corr:
            value = self.total / (2.0 * self.n_corr)
            return RBar(value, self.n_corr, self.n_short, int(self.min_seen), self.approx, "")
        if self.n_short:
            note = (
                f"r-bar undefined: no two clustered pairs share {min_overlap} estimation "
                f"dates ({self.n_short} pair(s) with less overlap)"
            )
            return RBar(np.nan, 0, self.n_short, 0, False, note)
        return RBar(0.0, 0, 0, 0, False, "no two pairs share an event date: nothing to adjust")


def _standardize_rows(x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``x`` demeaned and scaled to sd 1 (ddof 1) over their observed dates
    ``m``, 0 elsewhere, and the row counts."""
    cnt = m.sum(axis=1)
    z = np.where(m, x, 0.0)
    mean = _div(z.sum(axis=1), cnt)
    z -= mean[:, None]
    z *= m
    sd = np.sqrt(_div(np.einsum("ij,ij->i", z, z), cnt - 1))
    z /= sd[:, None]
    return z, cnt


def _complete_cluster(acc: _RbarSums, x: np.ndarray, min_overlap: int) -> None:
    """A cluster whose pairs all observe all its ``D`` dates: the exact ``O(n D)`` form
    ``sum_t[(sum_i z_it)^2 - sum_i z_it^2] / (D - 1)`` = the sum of ``r_ij`` over
    ordered pairs."""
    n_g, d = x.shape
    if d < min_overlap:
        acc.n_short += n_g * (n_g - 1) // 2
        return
    z = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, ddof=1, keepdims=True)
    num = float((z.sum(axis=0) ** 2).sum() - (z * z).sum())
    acc.add(num / (d - 1.0), n_g * (n_g - 1) // 2, d)


def _pooled_cluster(acc: _RbarSums, x: np.ndarray, m: np.ndarray) -> None:
    """A large incomplete cluster: the pooled form with each row standardized on its own
    dates and ``sum_{i != j} (T_ij - 1)`` in the denominator (approximate)."""
    n_g = x.shape[0]
    z, cnt = _standardize_rows(x, m)
    col = m.sum(axis=0).astype(float)
    num = float((z.sum(axis=0) ** 2).sum() - np.einsum("ij,ij->", z, z))
    den = float((col * col - col).sum()) - n_g * (n_g - 1.0)  # sum_{i!=j} (T_ij - 1)
    pairs = n_g * (n_g - 1) // 2
    if den > 0:
        acc.add(num / den * 2.0 * pairs, pairs, int(cnt.min()), approx=True)
    else:
        acc.approx = True


def _cluster_on_dates(acc: _RbarSums, x: np.ndarray, min_overlap: int) -> None:
    """One cluster's rows on its calendar-date grid ``x`` (NaN where not observed)."""
    m = np.isfinite(x)
    if m.all():  # every pair on every date: the O(n D) form is exact
        _complete_cluster(acc, x, min_overlap)
    elif x.shape[0] <= RBAR_PAIRWISE_MAX:
        r, n_ij = _pairwise_corr(x)
        iu = np.triu_indices(x.shape[0], 1)
        acc.add_pairwise(r[iu], n_ij[iu], min_overlap)
    else:
        _pooled_cluster(acc, x, m)


def _from_group_sums(
    acc: _RbarSums,
    sums: tuple[np.ndarray, np.ndarray, np.ndarray],
    g: int,
    rows: np.ndarray,
    width: int,
    min_overlap: int,
) -> bool:
    """Cluster ``g`` from the compiled per-group sums, when it is complete or large;
    False when it must be computed from its rows instead."""
    g_num, g_den, g_cnt = sums
    n_g = rows.size
    full = bool((g_cnt[rows] == width).all())
    if not (full or n_g > RBAR_PAIRWISE_MAX):
        return False
    if full and width < min_overlap:
        acc.n_short += n_g * (n_g - 1) // 2
    elif g_den[g] > 0:
        ordered = float(g_num[g] / g_den[g]) * n_g * (n_g - 1.0)
        acc.add(ordered, n_g * (n_g - 1) // 2, int(g_cnt[rows].min()), approx=not full)
    return True


def _stacked_pairwise(
    acc: _RbarSums, est: np.ndarray, batch: dict[int, list[np.ndarray]], min_overlap: int
) -> None:
    """Incomplete clusters of equal size on the column grid, one stacked product per
    size (at most about 400 MB at a time)."""
    for n_g, groups in batch.items():
        iu = np.triu_indices(n_g, 1)
        step = max(1, int(2**24 // (3 * n_g * max(est.shape[1], 1))))
        for k in range(0, len(groups), step):
            r, n_ij = _pairwise_corr(est[np.stack(groups[k : k + step])])
            acc.add_pairwise(r[:, iu[0], iu[1]], n_ij[:, iu[0], iu[1]], min_overlap)


def calendar_rbar(
    est: np.ndarray,
    est_dates: np.ndarray | None,
    cluster: np.ndarray,
    n_clusters: int,
    use: np.ndarray | None = None,
    *,
    min_overlap: int = RBAR_MIN_OVERLAP,
    group_sums: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> RBar:
    """Average correlation of estimation residuals within clusters, matched by date.

    Parameters
    ----------
    est : ndarray, shape (N, L1)
        Estimation residuals, NaN where missing.
    est_dates : ndarray of datetime64, shape (N, L1), or None
        Calendar date of each residual (NaT where missing). ``None``: the columns of
        ``est`` are taken as common dates (exact when all pairs trade on one calendar
        and share the event date).
    cluster : ndarray of int, shape (N,)
        Cluster of each pair (same event date, or overlapping windows).
    n_clusters : int
    use : ndarray of bool, shape (N,), optional
        Pairs allowed in (default: all); a pair with fewer than two residuals or a zero
        sd never enters.
    min_overlap : int, default :data:`RBAR_MIN_OVERLAP`
        Fewest common dates for a pair of pairs to enter the average.
    group_sums : (ndarray, ndarray, ndarray), optional
        ``(num, den, cnt)``: per cluster the numerator and denominator of the pooled
        form below, and per pair its residual count, from the compiled moment pass
        (valid only when ``est_dates`` is None or one calendar, so that the columns are
        the dates); used for complete clusters and large incomplete ones instead of
        recomputing them.

    Returns
    -------
    RBar

    Notes
    -----
    For pairs i and j of one cluster, :math:`r_{ij}` is the Pearson correlation of
    their residuals over the :math:`T_{ij}` calendar dates both observe (means and sds
    over those dates, as ``pandas.DataFrame.corr``), and

    .. math:: \\bar r = \\frac{1}{|P|}\\sum_{(i,j) \\in P} r_{ij},\\qquad
              P = \\{i<j \\text{ in one cluster}: T_{ij} \\ge T_{min}\\},

    Kolari and Pynnonen's (2010) average cross-correlation, computed on calendar dates
    rather than relative days (pairs whose estimation windows start on different dates,
    e.g. London vs New York holidays, have a different calendar day at each relative
    day). As numpy, per cluster of ``n_g`` pairs on its ``D`` dates::

        x0 = where(m, x - rowmean, 0); n = m @ m.T; sx = x0 @ m.T; sxx = x0**2 @ m.T
        r = (x0 @ x0.T - sx * sx.T / n) / sqrt((sxx - sx**2 / n) * (sxx - sx**2 / n).T)

    A cluster where every pair observes every date uses the equivalent
    :math:`O(n_g D)` form :math:`\\sum_t[(\\sum_i z_{it})^2 - \\sum_i z_{it}^2] /
    (n_g(n_g-1)(D-1))` (z standardized per row, ddof 1), which is exactly the mean of
    the pairwise correlations. An incomplete cluster of more than
    :data:`RBAR_PAIRWISE_MAX` pairs uses the same pooled form with each row standardized
    on its own dates and :math:`\\sum_{i \\ne j}(T_{ij} - 1)` in the denominator (an
    approximation; ``approximate`` is then True). Pairs that share a cluster but fewer
    than ``min_overlap`` dates are left out; if none is left, r-bar is NaN.

    References
    ----------
    .. [1] Kolari, J. W., Pynnonen, S. (2010). Event study testing with cross-sectional
       correlation of abnormal returns. Review of Financial Studies 23, 3996-4025.
    """
    est = np.asarray(est, dtype=float)
    n = est.shape[0]
    use = np.ones(n, dtype=bool) if use is None else np.asarray(use, dtype=bool)
    cluster = np.asarray(cluster)
    acc = _RbarSums()
    batch: dict[int, list[np.ndarray]] = {}  # incomplete clusters on the column grid
    sizes = np.bincount(cluster[use], minlength=n_clusters) if n else np.zeros(0, int)
    for g in np.flatnonzero(sizes >= 2):
        rows = np.flatnonzero((cluster == g) & use)
        if group_sums is not None and _from_group_sums(
            acc, group_sums, g, rows, est.shape[1], min_overlap
        ):
            continue
        if (
            est_dates is None
            and rows.size <= RBAR_PAIRWISE_MAX
            and not np.isfinite(est[rows]).all()
        ):
            batch.setdefault(rows.size, []).append(rows)  # one stacked product per size
            continue
        x = _date_grid(est[rows], None if est_dates is None else np.asarray(est_dates)[rows])
        _cluster_on_dates(acc, x, min_overlap)
    _stacked_pairwise(acc, est, batch, min_overlap)
    return acc.result(min_overlap)


def _kp_factors(rbar: float, m_pairs: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kolari-Pynnonen (2010) factors for Patell and BMP, generalised to partial clusters.

    With ``M`` ordered same-date pairs among ``n``: ``Var(sum SAR) = n + rbar M`` and
    ``E[s^2] = 1 - rbar M / (n (n-1))``. One cluster (``M = n(n-1)``) gives KP's
    ``sqrt((1 - rbar) / (1 + (n-1) rbar))``; no shared dates (``M = 0``) gives 1.
    """
    infl = 1.0 + rbar * _div(m_pairs, n)
    shrink = 1.0 - rbar * _div(m_pairs, n * (n - 1.0))
    f_patell = _div(1.0, np.sqrt(infl))
    f_bmp = np.sqrt(_div(shrink, infl))
    return f_patell, f_bmp
