"""Multiple-testing adjustment of the p-values in an event study's tables.

An event study reports many tests at once (every event, series and window): about 160
CAR t tests in the weekly brief. Read one by one at 5%, some will be "significant" by
chance. :func:`adjust_pvalues` turns a family of p-values into Benjamini-Hochberg
q-values (default) or Holm-adjusted p-values, with ``statsmodels.stats.multitest``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from . import kernels

__all__ = ["MULTITEST_METHODS", "MultitestMethod", "adjust_pvalues"]

MultitestMethod = Literal["fdr_bh", "holm", "none"]
MULTITEST_METHODS: tuple[str, ...] = ("fdr_bh", "holm", "none")


def adjust_pvalues(pvalues: np.ndarray, method: MultitestMethod = "fdr_bh") -> np.ndarray:
    r"""Adjusted p-values of one family of tests; NaN entries are not in the family.

    Parameters
    ----------
    pvalues : array_like
        The family's p-values (any shape); NaN (a test that could not be computed) is
        left NaN and does not count in the family size ``m``.
    method : {"fdr_bh", "holm", "none"}
        ``"fdr_bh"``: Benjamini-Hochberg (1995) q-values, which control the false
        discovery rate of the rows with ``q <= alpha`` at ``alpha`` (independent or
        positively dependent tests, Benjamini and Yekutieli 2001). ``"holm"``: Holm
        (1979) step-down adjusted p-values, which control the family-wise error rate
        under any dependence. ``"none"``: the p-values unchanged.

    Returns
    -------
    ndarray of the same shape

    Notes
    -----
    With the ``m`` p-values sorted, :math:`p_{(1)} \le \dots \le p_{(m)}`,

    .. math::

        q_{(i)} = \min_{j \ge i} \min\left(1, \frac{m}{j} p_{(j)}\right) \quad
        \text{(BH)}, \qquad
        \tilde p_{(i)} = \max_{j \le i} \min\left(1, (m - j + 1) p_{(j)}\right) \quad
        \text{(Holm)}.

    Computed as :func:`statsmodels.stats.multitest.multipletests` does, step for step
    (the same sort, divisions and running minimum or maximum, so the same bits; the
    tests compare the two exactly), but in place: a family of 12 million AR tests (a
    million pairs) needs about four arrays of its size at once instead of eight.

    References
    ----------
    Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate.
    *JRSS B* 57(1), 289-300. Holm, S. (1979). A simple sequentially rejective multiple
    test procedure. *Scandinavian Journal of Statistics* 6(2), 65-70.

    Examples
    --------
    >>> adjust_pvalues(np.array([0.01, 0.04, np.nan, 0.03])).round(4).tolist()
    [0.03, 0.04, nan, 0.04]
    >>> adjust_pvalues(np.array([0.01, 0.04, np.nan, 0.03]), "holm").round(4).tolist()
    [0.03, 0.06, nan, 0.06]
    """
    if method not in MULTITEST_METHODS:
        raise ValueError(f"multitest must be one of {MULTITEST_METHODS}, got {method!r}")
    p = np.asarray(pvalues, dtype="float64")
    if method != "none" and p.size >= 10 * kernels.MIN_PAIRS and kernels.enabled(p.size):
        # families of 10 x MIN_PAIRS tests and more (a study of about MIN_PAIRS pairs)
        return _adjusted_compiled(p, method)
    ok = ~np.isnan(p)
    if method != "none" and ok.all():  # no NaN: no copy in or out
        return _adjusted(p.ravel(), method).reshape(p.shape)
    out = np.full(p.shape, np.nan)
    if method == "none" or not ok.any():
        out[ok] = p[ok]
        return out
    out[ok] = _adjusted(p[ok], method)
    return out


def _adjusted(p: np.ndarray, method: str) -> np.ndarray:
    """``multipletests(p, method=method)[1]`` for ``"fdr_bh"`` and ``"holm"`` (no NaN),
    with fewer temporaries (same operations in the same order)."""
    n = p.size
    order = np.argsort(p)
    ps = np.take(p, order)
    if method == "fdr_bh":
        factor = np.arange(1, n + 1, dtype=np.float64)  # statsmodels' _ecdf, in place
        factor /= float(n)
        np.divide(ps, factor, out=ps)
        del factor
        rev = ps[::-1]
        np.minimum.accumulate(rev, out=rev)
    else:  # holm
        np.multiply(ps, np.arange(n, 0, -1), out=ps)
        np.maximum.accumulate(ps, out=ps)
    ps[ps > 1] = 1
    out = np.empty_like(ps)
    out[order] = ps
    return out


def _adjusted_compiled(p: np.ndarray, method: str) -> np.ndarray:
    """:func:`adjust_pvalues` of a large family: the sort of its p-values (NaN left
    out first: numpy sorts arrays with NaN several times slower), then one compiled pass
    for the adjustment and its scatter back (:func:`oilimpact.eventstudy._jit.
    adjust_sorted`, the operations of :func:`_adjusted`: the same values)."""
    jit = kernels.jit()
    assert jit is not None
    flat = np.ascontiguousarray(p.ravel())
    ok = ~np.isnan(flat)
    every = bool(ok.all())
    vals = flat if every else flat[ok]
    adj = np.empty(vals.size)
    if vals.size:
        jit.adjust_sorted(vals, np.argsort(vals), vals.size, method == "holm", adj)
    if every:
        return adj.reshape(p.shape)
    out = np.full(flat.size, np.nan)
    out[ok] = adj
    return out.reshape(p.shape)
