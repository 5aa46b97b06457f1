"""compute_returns: log/simple, consecutive rows only, non-positive prices refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oilimpact.errors import EstimationError, OilImpactError
from oilimpact.eventstudy.returns import compute_returns

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


def _prices(values, start="2025-01-06", name="x"):
    return pd.Series(
        values, index=pd.bdate_range(start, periods=len(values)), name=name, dtype=float
    )


def test_log_returns_match_definition():
    p = _prices([100.0, 101.0, 99.5, 102.25])
    r = compute_returns(p)
    expected = np.log(p.to_numpy()[1:] / p.to_numpy()[:-1])
    assert np.isnan(r.iloc[0])
    np.testing.assert_allclose(r.to_numpy()[1:], expected, rtol=1e-14)
    assert r.name == "x" and r.index.equals(p.index)


def test_simple_returns_match_definition():
    p = _prices([100.0, 101.0, 99.5])
    r = compute_returns(p, "simple")
    np.testing.assert_allclose(r.to_numpy()[1:], [0.01, 99.5 / 101.0 - 1.0], rtol=1e-14)


def test_nan_price_gives_nan_on_both_sides_not_a_two_day_return():
    p = _prices([100.0, 110.0, np.nan, 121.0, 133.1])
    r = compute_returns(p, "simple")
    assert np.isnan(r.iloc[2]) and np.isnan(r.iloc[3])
    np.testing.assert_allclose(r.iloc[4], 0.1, rtol=1e-12)


def test_dataframe_columns_independent():
    df = pd.DataFrame(
        {"a": [1.0, 2.0, 4.0], "b": [10.0, np.nan, 10.0]},
        index=pd.bdate_range("2025-01-06", periods=3),
    )
    r = compute_returns(df)
    np.testing.assert_allclose(r["a"].to_numpy()[1:], [np.log(2.0)] * 2)
    assert r["b"].isna().all()


def test_non_positive_price_refused_with_series_and_date():
    p = _prices([18.0, 10.0, -36.98, 10.01], start="2020-04-16", name="wti")
    with pytest.raises(EstimationError, match=r"'wti'.*-36\.98.*2020-04-20") as err:
        compute_returns(p)
    msg = str(err.value)
    # the advice: avoid the date or study price changes -- not simple returns
    assert "returns='simple'" not in msg
    assert "avoid that date" in msg and "price changes" in msg
    assert "not meaningful across a sign change" in msg
    # why: simple returns are computed, but across the sign change they are nonsense
    r = compute_returns(_prices([18.27, -36.98, 10.01], start="2020-04-17"), "simple")
    np.testing.assert_allclose(r.iloc[1:], [-3.0241, -1.2707], atol=1e-4)
    assert r.iloc[2] < 0  # a "fall" while the price rose by 47 USD


def test_zero_price_refused():
    with pytest.raises(OilImpactError, match="positive prices"):
        compute_returns(_prices([1.0, 0.0, 1.0]))


def test_unsorted_index_and_bad_method():
    p = _prices([1.0, 2.0, 3.0]).iloc[::-1]
    with pytest.raises(EstimationError, match="sorted"):
        compute_returns(p)
    with pytest.raises(EstimationError, match="'log' or 'simple'"):
        compute_returns(_prices([1.0, 2.0]), "pct")  # type: ignore[arg-type]


def test_real_wti_negative_print():
    path = REAL / "eia_wti_spot_daily.csv"
    if not path.exists():
        pytest.skip(f"real data absent: {path}")
    wti = pd.read_csv(path, parse_dates=["Date"], index_col="Date")["Price"].rename("wti")
    with pytest.raises(EstimationError, match="2020-04-20"):
        compute_returns(wti)
    after = compute_returns(wti.loc["2020-06-01":])
    assert after.notna().sum() > 100
