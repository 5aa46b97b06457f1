"""conventions="estudy2" with interior gaps: dates without an asset return are dropped.

estudy2 0.10 lines the returns up by date and fits ``lm`` on complete rows; a market
return on a date where the security has none is dropped, never carried into the next
date. From prices, ``get_rates_from_prices(multi_day = TRUE)`` gives every series the
return from its own previous price. The references below are plain pandas and
statsmodels OLS on exactly those rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from oilimpact.eventstudy import event_study

GAPS = ["2025-03-12", "2025-07-09", "2025-12-18"]  # the last one is day +1


def _data(seed: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    idx = pd.bdate_range("2024-09-02", "2026-02-27")
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0002, 0.01, len(idx))
    y = 0.0003 + 0.9 * m + rng.normal(0, 0.015, len(idx))
    prices = pd.DataFrame(
        {"asset": 50 * np.exp(np.cumsum(y)), "mkt": 4000 * np.exp(np.cumsum(m))}, index=idx
    )
    prices.loc[pd.DatetimeIndex(GAPS), "asset"] = np.nan
    return prices, pd.Series(m, index=idx)


def _reference(rets: pd.DataFrame, day0: str):
    rows = rets.dropna()  # estudy2: complete rows only
    k0 = rows.index.get_loc(pd.Timestamp(day0))
    est = rows.iloc[k0 - 240 : k0]
    evt = rows.iloc[k0 : k0 + 5]
    fit = sm.OLS(est["asset"], sm.add_constant(est["mkt"])).fit()
    ar = evt["asset"] - fit.params["const"] - fit.params["mkt"] * evt["mkt"]
    return ar, fit


@pytest.mark.parametrize("kind", ["returns", "prices"])
def test_estudy2_drops_dates_without_an_asset_return(kind):
    prices, _ = _data()
    own = prices.apply(lambda c: np.log(c.dropna()).diff())  # each series on its own dates
    data = own if kind == "returns" else prices
    kw = dict(market="mkt", catalog={}, estimation_window=(-240, -1), event_windows=[(0, 4)],
              input=kind, exclude_confounders=False)  # fmt: skip
    res = event_study(data, {"e": "2025-12-17"}, conventions="estudy2", **kw)
    if kind == "returns":
        ref_rets = own  # the market's return on a gap date is dropped, not carried
    else:
        # multi_day: the asset's return after a gap spans it, the market's does not
        ref_rets = pd.DataFrame({"asset": own["asset"], "mkt": own["mkt"]})
    ar, fit = _reference(ref_rets, "2025-12-17")
    np.testing.assert_allclose(res.abnormal["ar"].to_numpy(), ar.to_numpy(), rtol=1e-10)
    assert list(res.abnormal["date"]) == list(ar.index)
    assert int(res.alignment["n_est"].iloc[0]) == int(fit.nobs) == 240
    resid_var = fit.resid.var(ddof=1)  # estudy2: sd() of the residuals
    assert res.panel.sigma2[0] == pytest.approx(resid_var, rel=1e-10)
    # the textbook convention carries (returns) or spans for both series (prices) instead
    text = event_study(data, {"e": "2025-12-17"}, **kw)
    day1 = pd.Timestamp("2025-12-19")
    a = res.abnormal.set_index("date")["ar"][day1]
    b = text.abnormal.set_index("date")["ar"][day1]
    assert abs(a - b) > 1e-4
    assert (res.abnormal["sessions"] >= 1).all() and res.panel.session_weights is None
