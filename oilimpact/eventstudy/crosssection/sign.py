"""Sign tests: the sign test (p = 1/2) and Cowan's (1992) generalized sign test (p-hat
from the estimation window), daily and over windows.

Statistic ``(w - n p) / sqrt(n p (1 - p))``, w the number of positive ARs (CARs) among the
n pairs; two-sided p-value from the exact binomial below
:data:`~oilimpact.eventstudy.crosssection.policy.SIGN_EXACT_BELOW` pairs (textbook
conventions), the normal law from it on (:func:`~.policy._sign_pvalue`).

References
----------
Cowan, A. R. (1992). Nonparametric event study tests. Review of Quantitative Finance and
Accounting 2, 343-358.
Corrado, C. J., Zivney, T. L. (1992). The specification and power of the sign test in
event study hypothesis tests using daily stock returns. JFQA 27, 465-478.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._arrays import _col_mean, _div
from ._parts import _Parts
from .policy import _sign_pvalue

Rows = dict[str, tuple[Any, Any, Any]]


def daily_sign(p: _Parts, d: Any) -> Rows:
    """Sign and generalized sign tests of each event-window day.

    Notes
    -----
    w counts the day's positive ARs (estudy2: the fraction of positive ARs among the
    day's pairs times N, a missing sign replaced by the day's mean); :math:`\\hat p` is
    the mean over the day's pairs of their fraction of positive estimation residuals
    (estudy2: pooled over all pair-days of all pairs).
    """
    pos = (p.ar > 0) & d.ok
    w = _col_mean(pos.astype(float), d.ok)[0] * p.n_pairs if p.estudy2 else pos.sum(0)
    exact = not p.estudy2  # estudy2: the normal approximation, as the package
    n_ar = d.n_ar
    stat = _div(w - 0.5 * n_ar, np.sqrt(0.25 * n_ar))
    pv = [_sign_pvalue(z, wt, nt, 0.5, exact)[0] for z, wt, nt in zip(stat, w, n_ar, strict=True)]
    out: Rows = {"sign": (stat, np.array(pv, dtype=float), n_ar)}
    ph = p.p_hat_for(d.ok)  # the day's own pairs
    stat = _div(w - n_ar * ph, np.sqrt(n_ar * ph * (1.0 - ph)))
    pv = [_sign_pvalue(*a, exact)[0] for a in zip(stat, w, n_ar, ph, strict=True)]
    out["generalized_sign"] = (stat, np.array(pv, dtype=float), n_ar)
    return out


def window_sign(p: _Parts, w: Any) -> tuple[Rows, dict[str, str]]:
    """Sign and generalized sign tests on the signs of the window's CARs, with
    :math:`\\hat p` from the daily estimation residuals of the window's pairs, and the
    notes (exact binomial p-value; a degenerate :math:`\\hat p`)."""
    n = w.n
    pos = (w.car > 0) & w.has
    wins = pos.sum() / n * p.n_pairs if (p.estudy2 and n) else float(pos.sum())
    ph = float(p.p_hat_for(w.has[:, None])[0])  # the window's own pairs
    return sign_rows(wins, n, ph, exact=not p.estudy2)


def sign_rows(wins: float, n: int, ph: float, exact: bool) -> tuple[Rows, dict[str, str]]:
    """Both sign tests of ``wins`` positive CARs among ``n`` pairs, p-hat ``ph``
    (``exact``: the exact binomial below the switch; estudy2 keeps the normal law)."""
    stat = float(_div(wins - 0.5 * n, np.sqrt(0.25 * n)))
    pv, note = _sign_pvalue(stat, wins, n, 0.5, exact)
    rows: Rows = {"sign": (float(stat), float(pv), int(n))}
    why = {"sign": note}
    stat = float(_div(wins - n * ph, np.sqrt(n * ph * (1.0 - ph))))
    pv, note = _sign_pvalue(stat, wins, n, ph, exact)
    rows["generalized_sign"] = (float(stat), float(pv), int(n))
    why["generalized_sign"] = note
    if n and not 0.0 < ph < 1.0:
        why["generalized_sign"] = f"p-hat is {ph:g}: no binomial test"
    return rows, why
