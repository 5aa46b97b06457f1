"""Inference for one asset around one event: PE-corrected t test and the SQ test.

Everything here reads an :class:`~oilimpact.study.panel.AbnormalPanel` and is
vectorised over its N pairs (each pair is tested on its own: no cross-sectional
averaging). The cross-sectional (CAAR) tests live in :mod:`oilimpact.study.crosssection`.

Two tests are reported side by side for every abnormal return (AR) and every
cumulative abnormal return (CAR):

* the parametric t test with the prediction-error-corrected variance (MacKinlay 1997),
  exact under normal i.i.d. disturbances;
* the SQ test of Gelbach, Helland and Klick (2013): the event-window AR (or L-day CAR)
  is ranked against the empirical distribution of the estimation-window residuals (or
  of their L-day rolling sums). It does not assume normality, which matters with one
  asset and one event: the t test then rests on the normality of a single draw, and
  with fat-tailed daily returns it over-rejects.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special

from .panel import AbnormalPanel

__all__ = [
    "ar_tests",
    "car_tests",
    "min_sq_pvalue",
    "rolling_sums",
    "sq_pvalues",
]


def min_sq_pvalue(n_reference: int | np.ndarray) -> np.ndarray | float:
    """Smallest two-sided SQ p-value attainable with ``n_reference`` reference values.

    ``2 / (n + 1)``: with fewer than ``2 / alpha - 1`` estimation residuals (39 at
    ``alpha=0.05``, 199 at ``alpha=0.01``) the SQ test can never reject at ``alpha``.
    For an L-day CAR the reference values are the ``L1 - L + 1`` overlapping L-day
    rolling sums of the estimation residuals.

    Examples
    --------
    >>> float(min_sq_pvalue(239))
    0.008333333333333333
    """
    n = np.asarray(n_reference, dtype="float64")
    out = np.minimum(1.0, 2.0 / (n + 1.0))
    return float(out) if out.ndim == 0 else out


def rolling_sums(resid: np.ndarray, length: int) -> np.ndarray:
    """Sums of ``length`` consecutive estimation days, NaN where any day is missing.

    Parameters
    ----------
    resid : ndarray, shape (N, L1)
        Estimation residuals on the estimation-day grid (NaN = missing day).
    length : int
        Window length ``L``.

    Returns
    -------
    ndarray, shape (N, L1 - L + 1)

    Examples
    --------
    >>> import numpy as np
    >>> rolling_sums(np.array([[1.0, 2.0, np.nan, 4.0, 5.0]]), 2).tolist()
    [[3.0, nan, nan, 9.0]]
    """
    resid = np.asarray(resid, dtype="float64")
    if length == 1:
        return resid.copy()
    return _rolling_from(_cumsums(resid), length)


def _cumsums(resid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, l1 = resid.shape
    ok = ~np.isnan(resid)
    cs = np.zeros((n, l1 + 1))
    np.cumsum(np.where(ok, resid, 0.0), axis=1, out=cs[:, 1:])
    cnt = np.zeros((n, l1 + 1), dtype=np.int32)
    np.cumsum(ok, axis=1, out=cnt[:, 1:])
    return cs, cnt


def _rolling_from(sums: tuple[np.ndarray, np.ndarray], length: int) -> np.ndarray:
    cs, cnt = sums
    n, l1p = cs.shape
    if length < 1 or length > l1p - 1:
        return np.full((n, 0), np.nan)
    total = cs[:, length:] - cs[:, :-length]
    full = (cnt[:, length:] - cnt[:, :-length]) == length
    return np.where(full, total, np.nan)


def sq_pvalues(reference: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided SQ p-values of ``x`` against each row's reference distribution.

    Parameters
    ----------
    reference : ndarray, shape (N, n)
        Reference values per pair (estimation residuals or their L-day sums), NaN =
        absent.
    x : ndarray, shape (N,) or (N, M)
        Statistic(s) to rank (the event AR or CAR); NaN gives NaN.

    Returns
    -------
    pvalue : ndarray, shape of ``x``
    n : ndarray of int, shape (N,)
        Number of reference values used per pair.

    Notes
    -----
    With :math:`s_1..s_n` the reference values of the pair,

    .. math::

        p_{lo} = \\frac{1 + \\#\\{s_j \\le x\\}}{n + 1}, \\quad
        p_{hi} = \\frac{1 + \\#\\{s_j \\ge x\\}}{n + 1}, \\quad
        p = \\min(1, 2\\min(p_{lo}, p_{hi})).

    This is the rank (Monte Carlo) p-value of the quantile test of Gelbach, Helland and
    Klick (2013): if ``x`` and the references are exchangeable (no event effect,
    i.i.d. residuals) each one-sided p-value is exactly valid, ``P(p_lo <= a) =
    floor(a (n+1)) / (n+1) <= a``, whatever the distribution. The smallest attainable
    value is ``2 / (n + 1)`` (see :func:`min_sq_pvalue`). For L-day CARs the
    references are overlapping rolling sums, so they are only approximately
    exchangeable with the event CAR; and OLS residuals have slightly smaller variance
    than a prediction error (factor about ``(1 - k/L1) / (1 + k/L1)``), which makes the
    test marginally liberal for small ``L1`` (GHK 2013, section III).

    References
    ----------
    Gelbach, J. B., Helland, E. and Klick, J. (2013). Valid inference in single-firm,
    single-event studies. *American Law and Economics Review* 15(2), 495-541.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.arange(1.0, 240.0)[None, :]          # 239 reference values
    >>> p, n = sq_pvalues(ref, np.array([[1000.0, 120.0]]))
    >>> p.round(4).tolist(), n.tolist()
    ([[0.0083, 1.0]], [239])
    """
    ref = np.asarray(reference, dtype="float64")
    xx = np.asarray(x, dtype="float64")
    squeeze = xx.ndim == 1
    if squeeze:
        xx = xx[:, None]
    ok = ~np.isnan(ref)
    n = ok.sum(axis=1)
    # counts (N, M): compare every statistic with every reference value of its pair.
    # chunk over M to bound memory at about 64 MB of booleans.
    m = xx.shape[1]
    le = np.empty(xx.shape, dtype=np.int64)
    ge = np.empty(xx.shape, dtype=np.int64)
    r = ref[:, None, :]
    step = max(1, int(64e6 // max(1, ref.size)))
    with np.errstate(invalid="ignore"):
        for a in range(0, m, step):
            b = min(m, a + step)
            q = xx[:, a:b, None]
            le[:, a:b] = np.count_nonzero(r <= q, axis=2)
            ge[:, a:b] = np.count_nonzero(r >= q, axis=2)
    denom = (n + 1.0)[:, None]
    p = np.minimum(1.0, 2.0 * np.minimum((1.0 + le) / denom, (1.0 + ge) / denom))
    p = np.where(np.isnan(xx) | (n[:, None] == 0), np.nan, p)
    return (p[:, 0] if squeeze else p), n


def _dof(panel: AbnormalPanel) -> np.ndarray:
    return (panel.n_est - panel.n_params).astype("float64")


def ar_tests(panel: AbnormalPanel) -> dict[str, np.ndarray]:
    """Per-day tests of every event-window AR of every pair.

    Returns
    -------
    dict of ndarray, each shape (N, L2)
        ``ar``, ``se``, ``tstat``, ``pvalue`` (two-sided, Student t with
        ``L1 - k`` degrees of freedom) and ``sq_pvalue`` (AR ranked against the
        estimation residuals, see :func:`sq_pvalues`).

    Notes
    -----
    :math:`\\operatorname{se}(AR_{t}) = s\\sqrt{1 + x_t^{*\\prime}(X'X)^{-1}x^*_t}`,
    the square root of the diagonal of :math:`s^2(I + X^*(X'X)^{-1}X^{*\\prime})`
    (MacKinlay 1997, eq. 9); :math:`t = AR_t / \\operatorname{se}(AR_t)`.

    Examples
    --------
    >>> import numpy as np
    >>> from oilimpact.study.models import fit_panel
    >>> rng = np.random.default_rng(1)
    >>> m = rng.normal(0, 0.01, (2, 250)); y = m + rng.normal(0, 0.01, (2, 250))
    >>> panel = fit_panel(y[:, :239], y[:, 239:], m[:, :239], m[:, 239:],
    ...                   event_days=np.arange(0, 11))
    >>> out = ar_tests(panel)
    >>> out["tstat"].shape, bool((out["sq_pvalue"] >= 2 / 240).all())
    ((2, 11), True)
    """
    var = panel.sigma2[:, None] * np.diagonal(panel.pe_cov, axis1=1, axis2=2)
    se = np.sqrt(var)
    ar = panel.event_ar
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ar / se
    dof = _dof(panel)[:, None]
    p = 2.0 * special.stdtr(dof, -np.abs(t))
    sq, _ = sq_pvalues(panel.est_resid, ar)
    return {"ar": ar, "se": se, "tstat": t, "pvalue": p, "sq_pvalue": sq}


def car_tests(panel: AbnormalPanel, windows: Sequence[tuple[int, int]]) -> pd.DataFrame:
    """CAR of every pair over every window, with the PE-corrected t test and the SQ test.

    Parameters
    ----------
    panel : AbnormalPanel
    windows : sequence of (int, int)
        Inclusive relative-day windows, e.g. ``[(0, 0), (-1, 1), (0, 10)]``.

    Returns
    -------
    pandas.DataFrame
        One row per (pair, window), columns ``event, asset, window, start, end,
        n_days, car, se, tstat, pvalue, sq_pvalue, sq_n, sq_min_pvalue, dof, n_est``.
        ``car`` is NaN when any AR of the window is missing. ``sq_n`` is the number of
        L-day reference sums and ``sq_min_pvalue = 2 / (sq_n + 1)`` the smallest
        p-value the SQ test can give.

    Notes
    -----
    With :math:`g` the indicator vector of the window's days,

    .. math::

        CAR = g'AR^*, \\qquad
        \\widehat{\\operatorname{Var}}(CAR) = s^2\\, g'(I + X^*(X'X)^{-1}X^{*\\prime})g,

    which for the market model is :math:`s^2[L + L^2/L_1 + (\\sum_{t \\in w}
    (R_{m,t} - \\bar R_m))^2 / S_{mm}]` with :math:`S_{mm} = \\sum_{est}(R_{m,t} -
    \\bar R_m)^2` (MacKinlay 1997, eqs. 11-13; Campbell, Lo and MacKinlay 1997,
    eq. 4.4.11). :math:`t = CAR/\\widehat{se}`, two-sided p-value from Student's t with
    :math:`L_1 - k` degrees of freedom (exact under i.i.d. normal disturbances).

    The SQ p-value ranks the CAR among the :math:`L_1 - L + 1` overlapping L-day
    rolling sums of the estimation residuals (Gelbach, Helland and Klick 2013); see
    :func:`sq_pvalues` for the exact definition and its attainable minimum.

    References
    ----------
    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of
    Economic Literature* 35(1), 13-39.

    Gelbach, J. B., Helland, E. and Klick, J. (2013). Valid inference in single-firm,
    single-event studies. *American Law and Economics Review* 15(2), 495-541.

    Examples
    --------
    >>> import numpy as np
    >>> from oilimpact.study.models import fit_panel
    >>> rng = np.random.default_rng(2)
    >>> m = rng.normal(0, 0.01, (1, 250)); y = m + rng.normal(0, 0.01, (1, 250))
    >>> panel = fit_panel(y[:, :239], y[:, 239:], m[:, :239], m[:, 239:],
    ...                   event_days=np.arange(0, 11))
    >>> car_tests(panel, [(0, 0), (0, 10)])[["n_days", "sq_n", "dof"]].values.tolist()
    [[1, 239, 237], [11, 229, 237]]
    """
    dof = _dof(panel)
    sums = _cumsums(panel.est_resid)
    rows: list[pd.DataFrame] = []
    n = panel.n_pairs
    ev = panel.ids.get_level_values(0)
    asset = panel.ids.get_level_values(1)
    for w in windows:
        lo, hi = int(w[0]), int(w[1])
        idx = panel.window_index((lo, hi))
        length = hi - lo + 1
        ar = panel.event_ar[:, idx]
        car = ar.sum(axis=1)  # NaN if any day missing
        sub = panel.pe_cov[:, idx][:, :, idx]
        var = panel.sigma2 * sub.sum(axis=(1, 2))
        se = np.sqrt(var)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = car / se
        p = 2.0 * special.stdtr(dof, -np.abs(t))
        ref = panel.est_resid if length == 1 else _rolling_from(sums, length)
        sq, sq_n = sq_pvalues(ref, car)
        rows.append(
            pd.DataFrame(
                {
                    "event": ev,
                    "asset": asset,
                    "window": [(lo, hi)] * n,
                    "start": lo,
                    "end": hi,
                    "n_days": length,
                    "car": car,
                    "se": se,
                    "tstat": t,
                    "pvalue": p,
                    "sq_pvalue": sq,
                    "sq_n": sq_n,
                    "sq_min_pvalue": min_sq_pvalue(sq_n) if n else np.zeros(0),
                    "dof": dof.astype(int),
                    "n_est": panel.n_est.astype(int),
                }
            )
        )
    if not rows:
        return pd.DataFrame(
            columns=[
                "event",
                "asset",
                "window",
                "start",
                "end",
                "n_days",
                "car",
                "se",
                "tstat",
                "pvalue",
                "sq_pvalue",
                "sq_n",
                "sq_min_pvalue",
                "dof",
                "n_est",
            ]
        )
    out = pd.concat(rows, ignore_index=True)
    order = np.argsort(np.tile(np.arange(n), len(rows)), kind="stable")
    return out.iloc[order].reset_index(drop=True)
