"""The one shape every layer exchanges: a float Series on a tz-naive daily DatetimeIndex.

See ``docs/architecture.md``. :func:`to_series_frame` normalises parser output to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["INDEX_NAME", "to_series_frame"]

INDEX_NAME = "date"


def to_series_frame(values: Iterable[Any], index: Iterable[Any], name: str) -> pd.Series:
    """Return ``values`` as a float64 Series on a normalised ``DatetimeIndex``.

    The index is converted to ``datetime64[ns]``, made tz-naive (a tz-aware index is
    converted to its own wall-clock date first), normalised to midnight and named
    ``"date"``. Values are coerced to float64 (non-numeric raises ``ValueError``).
    Order and duplicates are left alone: schemas report them.

    Examples
    --------
    >>> s = to_series_frame(["70.1", None], ["2025-12-16", "2025-12-17"], "brent")
    >>> s.index.dtype, s.dtype, s.isna().tolist()
    (dtype('<M8[ns]'), dtype('float64'), [False, True])
    """
    idx = pd.DatetimeIndex(
        pd.to_datetime(list(index) if not isinstance(index, pd.Index) else index)
    )
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    idx = idx.normalize().as_unit("ns")
    idx.name = INDEX_NAME
    arr = pd.to_numeric(
        pd.Series(list(values) if not isinstance(values, (pd.Series, np.ndarray)) else values),
        errors="raise",
    )
    return pd.Series(np.asarray(arr, dtype="float64"), index=idx, name=name)
