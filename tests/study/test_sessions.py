"""Returns that span missing sessions: panel dates, session counts, scaled variance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from oilimpact.series import default_registry
from oilimpact.study import event_study
from oilimpact.study.alignment import sessions_spanned


def _prices(seed: int = 11) -> pd.DataFrame:
    idx = pd.bdate_range("2024-09-02", "2026-02-27")
    idx = idx[~idx.isin(pd.DatetimeIndex(["2024-11-28", "2024-12-25", "2025-01-01",
                                          "2025-07-04", "2025-11-27", "2025-12-25",
                                          "2026-01-01"]))]  # fmt: skip
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0003, 0.01, len(idx))
    out = {"sp500": 5000 * np.exp(np.cumsum(m))}
    for j, a in enumerate(("brent", "wti")):
        r = 0.0001 + (0.5 + 0.2 * j) * m + rng.normal(0, 0.018, len(idx))
        out[a] = 70 * np.exp(np.cumsum(r))
    return pd.DataFrame(out, index=idx)


def _gap_study(**kw):
    """brent/wti/sp500 on US sessions; brent has no price on 2025-12-18 (day +1 of
    the blockade), so brent's day +1 return (to 2025-12-19) spans 2 sessions."""
    df = _prices()
    df.loc[pd.Timestamp("2025-12-18"), "brent"] = np.nan
    return df, event_study(df, {"blockade": "2025-12-17"}, market="sp500", catalog={}, **kw)


def test_panel_has_est_dates_and_event_sessions():
    df, res = _gap_study()
    p = res.panel
    assert p.est_dates is not None and p.est_dates.shape == p.est_resid.shape
    assert p.est_dates.dtype == np.dtype("datetime64[ns]")
    # NaT exactly where the residual is missing, otherwise a session of the pair
    np.testing.assert_array_equal(np.isnat(p.est_dates), np.isnan(p.est_resid))
    for i in range(p.n_pairs):
        d = p.est_dates[i][~np.isnat(p.est_dates[i])]
        asset = p.ids[i][1]
        sessions = df[[asset, "sp500"]].dropna().index
        assert pd.DatetimeIndex(d).isin(sessions).all()
        assert (np.diff(d.astype("int64")) > 0).all()
        # the last estimation day is the 11th pair session before day 0
        k0 = sessions.get_loc(pd.Timestamp("2025-12-17"))
        assert d[-1] == sessions[k0 - 11].to_datetime64()
    ev = dict(zip(p.ids.get_level_values(1), p.event_sessions, strict=True))
    days = p.event_days.tolist()
    assert ev["brent"][days.index(1)] == 2  # 2025-12-17 -> 2025-12-19 spans 12-18
    assert ev["brent"].sum() == len(days) + 1 and (ev["wti"] == 1).all()


def test_sessions_spanned_counts_calendar_and_own_dates():
    spec = default_registry().spec_or_default("henry_hub")  # XNYS
    s = pd.DatetimeIndex(["2025-12-23", "2025-12-24", "2025-12-26", "2025-12-31",
                          "2026-01-05"])  # fmt: skip
    # 12-25 is a holiday (not counted); 12-29, 12-30 and 01-02 are XNYS sessions missing
    assert sessions_spanned(s, s, spec).tolist() == [1, 1, 1, 3, 2]
    # a value of the series on a non-session (here a Saturday) counts too
    own = s.append(pd.DatetimeIndex(["2026-01-03"])).sort_values()
    assert sessions_spanned(s, own, spec).tolist() == [1, 1, 1, 3, 3]
