"""Abnormal volatility of an event-study result: one call for the CLI and the brief.

:func:`volatility_tests` standardises the ARs and the estimation residuals of an
:class:`~oilimpact.eventstudy.result.EventStudyResult` (GARCH forecasts for
``model="market_garch"``/``"market_gjr"``, the prediction-error variance for the OLS
models) and runs :func:`oilimpact.eventstudy.volatility.abnormal_volatility` on them.
Formulas and size: docs/methods-garch.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .garch_engine import GARCH_MODELS
from .single import sq_reference
from .volatility import Alternative, abnormal_volatility

__all__ = ["volatility_tests"]


@dataclass(frozen=True, slots=True)
class _Standardised:
    """What :func:`abnormal_volatility` reads: labels, standardised event ARs ``z`` and
    standardised estimation residuals ``est_z``."""

    ids: pd.MultiIndex
    z: np.ndarray
    est_z: np.ndarray
    panel: Any

    def window_index(self, window: tuple[int, int]) -> np.ndarray:
        return self.panel.window_index(tuple(int(v) for v in window))


def volatility_tests(
    result: Any,
    windows: Sequence[tuple[int, int]] | None = None,
    *,
    alternative: Alternative = "greater",
) -> pd.DataFrame:
    r"""Abnormal-volatility test of every (event, series) pair of an event-study result.

    Parameters
    ----------
    result : EventStudyResult
        From :func:`oilimpact.eventstudy.engine.event_study`: with ``model="market_garch"``
        or ``"market_gjr"`` the ARs are standardised by the GARCH variance forecast; with
        an OLS model (``"market"``, ``"constant_mean"``, ...) by the textbook
        prediction-error variance.
    windows : sequence of (int, int), optional
        Inclusive relative-day windows inside the result's event days; default
        ``result.spec.event_windows``.
    alternative : {"greater", "two-sided"}
        ``"greater"`` (default) asks whether volatility rose.

    Returns
    -------
    pandas.DataFrame
        One row per (event, series, window): ``event, series, window, start, end,
        n_days, avr, pvalue, n_ref, min_pvalue, chi2_pvalue, model`` (see
        :func:`abnormal_volatility`; ``pvalue`` is the rank p-value to report).

    Notes
    -----
    The statistic of :func:`abnormal_volatility` on the result's panel, with

    .. math::

        z_t = rac{AR_t}{\sqrt{s^2\,C_{tt}}}, \qquad
        \hat z_s = rac{\hat e_s}{s\sqrt{1 - h_{ss}}},

    :math:`s^2 C` the panel's AR covariance (``sigma2 * pe_cov``). GARCH models:
    :math:`s^2 C_{tt} = E_T\sigma^2_t + x_t^{*\prime}\hat V x^*_t` (the forecast plus the
    mean-parameter term) and :math:`\hat z_s` the standardised residuals of the ``arch``
    fit (:math:`h_{ss} = 0`; module :mod:`~oilimpact.eventstudy.garch_engine`). OLS models:
    :math:`C_{tt} = 1 + x_t^{*\prime}(X'X)^{-1}x^*_t` and :math:`h_{ss}` the leverage of
    estimation day :math:`s` (the studentisation of the SQ test,
    :func:`~oilimpact.eventstudy.single.sq_reference`), so that both have unit variance
    under i.i.d. errors; with volatility clustering the OLS version compares the event
    window with the estimation window's *average* variance. Size: docs/methods-garch.md.

    Examples
    --------
    >>> import oilimpact as oi
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> days = pd.bdate_range("2024-01-01", periods=320)
    >>> m = rng.normal(0, 0.01, 320)
    >>> y = 0.8 * m + rng.normal(0, 0.012, 320)
    >>> y[300:303] *= 4                                  # three turbulent days
    >>> data = pd.DataFrame({"asset": 100 * np.exp(np.cumsum(y)),
    ...                      "mkt": 4000 * np.exp(np.cumsum(m))}, index=days)
    >>> res = oi.event_study(data, {"news": days[300].date()}, market="mkt", catalog={})
    >>> row = volatility_tests(res, [(0, 2)]).iloc[0]
    >>> row["window"], round(float(row["avr"]), 1), round(float(row["pvalue"]), 4), int(row["n_ref"])
    ((0, 2), 25.5, 0.0042, 238)
    """
    panel = result.panel
    wins = list(result.spec.event_windows if windows is None else windows)
    s2 = np.asarray(panel.sigma2, dtype="float64")[:, None]
    var = s2 * np.diagonal(np.asarray(panel.pe_cov, dtype="float64"), axis1=1, axis2=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.asarray(panel.event_ar, dtype="float64") / np.sqrt(var)
        if str(result.spec.model) in GARCH_MODELS:
            est_z = np.asarray(panel.est_resid, dtype="float64") / np.sqrt(s2)
        else:
            est_z = sq_reference(panel, 1) / np.sqrt(s2)
    table = abnormal_volatility(_Standardised(panel.ids, z, est_z, panel), wins, alternative)
    table = table.rename(columns={"asset": "series"})
    table["model"] = str(result.spec.model)
    return table
