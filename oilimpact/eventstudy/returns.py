"""Returns from prices: log by default, simple on request, only between consecutive rows.

A return is computed between two *consecutive observations* (rows) of the input. A
``NaN`` price makes both the return into it and the return out of it ``NaN``: the
function never silently bridges a gap with a multi-day return. Rows that are absent
from the index (weekends, holidays of a series without holiday rows) are not
observations, so the return of the next row spans them, as usual for daily data.
Holiday rows that a provider lists with an empty value (FRED's CSV) should be dropped
first when the day is not a session; :func:`oilimpact.eventstudy.engine.event_study` does this
per (asset, market) pair by dropping the dates where both are missing.

Log returns across a non-positive price are undefined (WTI settled at -36.98 USD/bbl on
2020-04-20); they are refused with :class:`~oilimpact.errors.EstimationError` naming the
series and the date. Simple returns are no remedy: across a sign change they are not
meaningful (18.27 -> -36.98 -> 10.01 USD gives -302% and then -127%, a *fall* while the
price rose by 47 USD, because the base of the second return is negative). Either keep
that period out of every window, or study price *changes*: difference the prices
yourself (``P_t - P_{t-1}``, in USD) and pass them to
:func:`~oilimpact.eventstudy.engine.event_study` with ``input="returns"`` and
``model="constant_mean"`` (changes are additive, so the default ``returns="log"``
carrying rule, a sum, is the right one for them).
"""

from __future__ import annotations

from typing import Literal, TypeVar

import numpy as np
import pandas as pd

from ..errors import EstimationError

__all__ = ["NON_POSITIVE_ADVICE", "ReturnMethod", "compute_returns"]

#: What to do about a non-positive price under log returns (ends the error messages).
NON_POSITIVE_ADVICE = (
    "choose windows that avoid that date, or study price changes (difference the prices "
    "and pass them with input='returns', model='constant_mean'); simple returns are not "
    "meaningful across a sign change (18.27 -> -36.98 -> 10.01 gives -302% then -127%)"
)

#: ``"log"``: ``r_t = ln(P_t / P_{t-1})``; ``"simple"``: ``r_t = P_t / P_{t-1} - 1``.
ReturnMethod = Literal["log", "simple"]

_T = TypeVar("_T", pd.Series, pd.DataFrame)


def compute_returns(prices: _T, method: ReturnMethod = "log") -> _T:
    """Return the one-period returns of ``prices`` between consecutive rows.

    Parameters
    ----------
    prices : pandas.Series or pandas.DataFrame
        Prices on a sorted ``DatetimeIndex`` (one column per series).
    method : {"log", "simple"}
        Log returns (default) or simple (arithmetic) returns.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Same shape and index as ``prices``; the first row is ``NaN``, and so is every
        return whose start or end price is ``NaN``.

    Raises
    ------
    EstimationError
        ``method="log"`` and a price that enters a return is zero or negative (the
        message names the series and the first such date, and what to do instead; not
        ``method="simple"``, see the module notes), or the index is not sorted.

    Notes
    -----
    Log return :math:`r_t = \\ln P_t - \\ln P_{t-1}`; simple return
    :math:`R_t = P_t / P_{t-1} - 1`, with :math:`t-1` the previous *row*. A missing
    price is not skipped over: both adjacent returns are ``NaN`` (Campbell, Lo and
    MacKinlay 1997, ch. 1 for the definitions).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.Series([100.0, 110.0, None, 121.0, 133.1],
    ...               index=pd.date_range("2025-01-06", periods=5), name="x")
    >>> compute_returns(p, "simple").round(4).tolist()
    [nan, 0.1, nan, nan, 0.1]
    >>> compute_returns(pd.Series([2.0, -1.0], index=pd.date_range("2020-04-17", periods=2),
    ...                           name="wti"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    oilimpact.errors.EstimationError: log returns need positive prices: series 'wti' has -1.0 on 2020-04-18; choose windows that avoid that date, or study price changes ...
    """
    if method not in ("log", "simple"):
        raise EstimationError(f"returns must be 'log' or 'simple', got {method!r}")
    if not prices.index.is_monotonic_increasing:
        raise EstimationError("prices must be sorted by date (index is not increasing)")
    frame = prices.to_frame() if isinstance(prices, pd.Series) else prices
    values = frame.to_numpy(dtype="float64", na_value=np.nan)
    prev = np.full_like(values, np.nan)
    prev[1:] = values[:-1]
    if method == "log":
        bad = (values <= 0) & ~np.isnan(values)
        if bad.any():
            rows, cols = np.nonzero(bad)
            order = np.lexsort((cols, rows))
            r, c = rows[order[0]], cols[order[0]]
            name = frame.columns[c]
            date = frame.index[r]
            when = date.date().isoformat() if isinstance(date, pd.Timestamp) else str(date)
            raise EstimationError(
                f"log returns need positive prices: series {name!r} has "
                f"{float(values[r, c])!r} on {when}; {NON_POSITIVE_ADVICE}"
            )
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.log(values / prev)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            out = values / prev - 1.0
    result = pd.DataFrame(out, index=frame.index, columns=frame.columns)
    if isinstance(prices, pd.Series):
        return result.iloc[:, 0].rename(prices.name)
    return result
