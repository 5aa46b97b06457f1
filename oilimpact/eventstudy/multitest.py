"""Multiple-testing adjustment of the p-values in an event study's tables.

An event study reports many tests at once (every event, series and window): about 160
CAR t tests in the weekly brief. Read one by one at 5%, some will be "significant" by
chance. :func:`adjust_pvalues` turns a family of p-values into Benjamini-Hochberg
q-values (default) or Holm-adjusted p-values, with ``statsmodels.stats.multitest``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from statsmodels.stats.multitest import multipletests

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

    Computed by :func:`statsmodels.stats.multitest.multipletests`.

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
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if method == "none" or not ok.any():
        out[ok] = p[ok]
        return out
    out[ok] = multipletests(p[ok], method=method)[1]
    return out
