"""The GARCH market models get the market series through the public call, as the market model does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oilimpact.errors import EstimationError
from oilimpact.eventstudy import event_study


def _prices(seed: int = 3, n: int = 420) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2023-01-02", periods=n)
    m = rng.normal(0, 0.01, n)
    y = 0.8 * m + rng.normal(0, 0.015, n)
    return pd.DataFrame({"s0": 50 * np.exp(np.cumsum(y)), "mkt": 100 * np.exp(np.cumsum(m))},
                        index=days)  # fmt: skip


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_market_garch_takes_the_named_market_column() -> None:
    data = _prices()
    day = data.index[400].date()
    res = event_study(data, {"news": day}, market="mkt", model="market_garch", catalog={},
                      event_windows=[(0, 0)])  # fmt: skip
    assert res.car["series"].tolist() == ["s0"]  # mkt is the regressor, not a studied series
    assert np.isfinite(res.car["tstat"]).all()
    assert res.spec.model == "market_garch"


def test_market_garch_without_a_market_says_so() -> None:
    data = _prices()[["s0"]]
    with pytest.raises(EstimationError, match="needs a market series"):
        event_study(data, {"news": data.index[400].date()}, model="market_garch", catalog={})


def test_the_garch_models_default_to_a_three_year_window() -> None:
    import warnings

    data = _prices(n=1200)
    day = data.index[1100].date()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ShortEstimationWarning with the default window
        res = event_study(data, {"news": day}, market="mkt", model="market_garch", catalog={},
                          event_windows=[(0, 0)])  # fmt: skip
    assert res.spec.estimation_window == (-760, -11) and res.car["n_est"].tolist() == [750]
    ols = event_study(data, {"news": day}, market="mkt", catalog={}, event_windows=[(0, 0)])
    assert ols.spec.estimation_window == (-250, -11) and ols.car["n_est"].tolist() == [240]
