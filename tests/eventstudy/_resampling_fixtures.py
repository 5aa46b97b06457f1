"""A stand-in for an EventStudyResult built from given residuals (tests of resampling/power).

:mod:`oilimpact.eventstudy.resampling` and :mod:`oilimpact.eventstudy.power` read only the
public tables ``car``, ``resid``, ``params`` and ``alignment``; building them directly lets
a test choose every residual and CAR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class FakeResult:
    car: pd.DataFrame
    resid: pd.DataFrame
    params: pd.DataFrame
    alignment: pd.DataFrame


def fake_result(
    resid: dict[tuple[str, str], np.ndarray],
    car: dict[tuple[str, str], float],
    day0: dict[tuple[str, str], str] | None = None,
    window: tuple[int, int] = (0, 1),
    n_params: int = 2,
    start: str = "2024-01-01",
    pe_factor: float | None = None,
) -> FakeResult:
    """Result tables for pairs with these residuals (on business days from ``start``) and CARs.

    ``se = s sqrt(c)`` with ``c = pe_factor`` (default ``L (1 + 1/n)``, the constant-mean
    PE factor), ``s^2 = e'e / (n - k)``.
    """
    length = window[1] - window[0] + 1
    rows, long, params, align = [], [], [], []
    for (ev, se_name), e in resid.items():
        e = np.asarray(e, dtype="float64")
        n = e.size
        s = float(np.sqrt(e @ e / (n - n_params)))
        c = length * (1.0 + 1.0 / n) if pe_factor is None else pe_factor
        se = s * np.sqrt(c)
        x = car[(ev, se_name)]
        rows.append({"event": ev, "series": se_name, "window": window, "start": window[0],
                     "end": window[1], "car": x, "se": se, "tstat": x / se, "dof": n - n_params,
                     "n_est": n})  # fmt: skip
        dates = pd.bdate_range(start, periods=n)
        long.append(pd.DataFrame({"event": ev, "series": se_name, "date": dates, "resid": e}))
        params.append({"event": ev, "series": se_name, "sigma": s, "n_est": n})
        d0 = (day0 or {}).get((ev, se_name), "2025-06-02")
        align.append({"event": ev, "series": se_name, "day0": pd.Timestamp(d0)})
    return FakeResult(
        car=pd.DataFrame(rows),
        resid=pd.concat(long, ignore_index=True),
        params=pd.DataFrame(params).set_index(["event", "series"]),
        alignment=pd.DataFrame(align),
    )
