"""Test helper: the estudy2 vignette (golden inputs) as an AbnormalPanel.

A small, independent market-model builder used only by the golden tests, so the
cross-sectional tests can be checked before (and independently of) the engine. It reads
the read-only CSVs in ``../shared/data/reference/estudy2_vignette`` (never copied into the
repository).

The vignette: single-index market model by OLS per security over 2019-04-01 .. 2020-03-13
(the data start 2019-04-02; ZM and UBER list later, so they have fewer estimation days),
event window 2020-03-16 .. 2020-03-20, all seven securities on the same dates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from oilimpact.eventstudy.panel import AbnormalPanel

REF_DIR = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "reference"
    / "estudy2_vignette"
)
SKIP_REASON = f"estudy2 vignette reference data not found at {REF_DIR}"

ESTIMATION = ("2019-04-01", "2020-03-13")
EVENT = ("2020-03-16", "2020-03-20")

#: The vignette's published daily statistics (README of the reference folder).
GOLDEN_COLUMNS = (
    "mean_ar",
    "cross_sectional_t",
    "brown_warner_indep",
    "patell",
    "bmp",
    "sign",
    "generalized_sign",
    "rank",
    "modified_rank",
)
GOLDEN = pd.DataFrame(
    [
        [0.023297, 1.394150, 2.486449, 2.550740, 1.204712, 1.133893, 1.151676, 0.796206, 0.849925],
        [
            -0.031579,
            -1.276907,
            -3.370281,
            -2.949561,
            -1.175313,
            0.377964,
            0.395730,
            -0.185720,
            -0.228388,
        ],
        [
            -0.016179,
            -0.402314,
            -1.726675,
            0.328365,
            0.076063,
            1.133893,
            1.151676,
            1.020542,
            0.986518,
        ],
        [0.076720, 1.795827, 8.188085, 8.421622, 2.166577, 1.889822, 1.907622, 2.112797, 2.166537],
        [0.058405, 5.123328, 6.233409, 6.319635, 8.652126, 2.645751, 2.663568, 2.925553, 2.978667],
    ],
    index=pd.DatetimeIndex(
        ["2020-03-16", "2020-03-17", "2020-03-18", "2020-03-19", "2020-03-20"], name="date"
    ),
    columns=list(GOLDEN_COLUMNS),
)


def available() -> bool:
    """Whether the reference CSVs are present."""
    return (REF_DIR / "security_log_returns.csv").is_file() and (
        REF_DIR / "index_log_returns.csv"
    ).is_file()


def load() -> tuple[pd.DataFrame, pd.Series]:
    """The vignette's security and index log returns."""
    sec = pd.read_csv(REF_DIR / "security_log_returns.csv", parse_dates=["date"], index_col="date")
    idx = pd.read_csv(REF_DIR / "index_log_returns.csv", parse_dates=["date"], index_col="date")
    return sec.astype(float), idx.iloc[:, 0].astype(float)


def build_panel(
    conventions: Literal["textbook", "estudy2"] = "estudy2",
    *,
    sigma_ddof: int | None = None,
    index_days: Literal["all", "own"] | None = None,
) -> tuple[AbnormalPanel, pd.DatetimeIndex]:
    """Market-model AbnormalPanel of the vignette, and the event-window dates.

    Parameters
    ----------
    conventions
        ``"estudy2"``: residual variance ``SSR / (L1_i - 1)``, prediction-error correction
        with the index mean and sum of squares over all index days of the estimation
        window. ``"textbook"``: ``SSR / (L1_i - 2)`` and the security's own days
        (``X* (X'X)^-1 X*'``, MacKinlay 1997).
    sigma_ddof, index_days
        Override one ingredient (e.g. ``sigma_ddof=1, index_days="own"`` isolates the
        prediction-error convention, as in the reference README's textbook Patell).
    """
    sec, idx = load()
    est = (sec.index >= ESTIMATION[0]) & (sec.index <= ESTIMATION[1])
    ev = (sec.index >= EVENT[0]) & (sec.index <= EVENT[1])
    y_est, y_ev = sec.to_numpy()[est].T, sec.to_numpy()[ev].T  # (N, L1), (N, L2)
    m_est, m_ev = idx.to_numpy()[est], idx.to_numpy()[ev]
    n, l1 = y_est.shape
    l2 = y_ev.shape[1]
    ddof = sigma_ddof if sigma_ddof is not None else (1 if conventions == "estudy2" else 2)
    days_mode = index_days or ("all" if conventions == "estudy2" else "own")

    resid = np.full((n, l1), np.nan)
    ar = np.full((n, l2), np.nan)
    sigma2 = np.full(n, np.nan)
    n_est = np.zeros(n, dtype=int)
    pe_cov = np.zeros((n, l2, l2))
    for i in range(n):  # seven securities: a loop is clearest here
        ok = np.isfinite(y_est[i]) & np.isfinite(m_est)
        x = np.column_stack([np.ones(ok.sum()), m_est[ok]])
        beta, *_ = np.linalg.lstsq(x, y_est[i, ok], rcond=None)
        resid[i, ok] = y_est[i, ok] - x @ beta
        ar[i] = y_ev[i] - (beta[0] + beta[1] * m_ev)
        n_est[i] = int(ok.sum())
        sigma2[i] = np.sum(resid[i, ok] ** 2) / (n_est[i] - ddof)
        m_ref = m_est[np.isfinite(m_est)] if days_mode == "all" else m_est[ok]
        m_bar = m_ref.mean()
        ss = np.sum((m_ref - m_bar) ** 2)
        pe_cov[i] = np.eye(l2) + 1.0 / n_est[i] + np.outer(m_ev - m_bar, m_ev - m_bar) / ss

    dates = sec.index[ev]
    panel = AbnormalPanel(
        ids=pd.MultiIndex.from_product([["vignette"], list(sec.columns)], names=["event", "asset"]),
        est_resid=resid,
        n_est=n_est,
        n_params=2,
        sigma2=sigma2,
        event_days=np.arange(l2),
        event_ar=ar,
        pe_cov=pe_cov,
        event_dates=np.full(n, dates[0].to_datetime64()).astype("datetime64[ns]"),
        est_market=np.tile(m_est, (n, 1)),
        event_market=np.tile(m_ev, (n, 1)),
        conventions=conventions,
    )
    return panel, pd.DatetimeIndex(dates)


def wide(daily: pd.DataFrame) -> pd.DataFrame:
    """Pivot :func:`daily_tests` output to the golden table's shape (one row per date)."""
    stats = daily.pivot(index="date", columns="test", values="statistic")
    mean_ar = daily.groupby("date")["mean_ar"].first()
    out = stats.assign(mean_ar=mean_ar)
    out.index.name = "date"
    return out[[c for c in GOLDEN_COLUMNS if c in out.columns]]
