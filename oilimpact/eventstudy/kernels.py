"""When the compiled kernels replace the numpy code, and the row-block threading for them.

The engine is written in numpy, vectorised over (asset, event) pairs; that code is the
reference and the only path for small studies. From :data:`MIN_PAIRS` pairs on, the
steps whose numpy form needs many passes over the ``(T, A)`` frame or the ``(N, L1)``
residual matrix (the session grid, the window gathers, the market-model fit, the SQ
reference counts, the window sums and q-values, the sorts and rank sums of the rank
tests, the r-bar pieces) run as numba loops instead (:mod:`oilimpact.eventstudy._jit`,
one module per step), one pass per row or column block, on a few threads. Each kernel's
numpy twin is named in ``oilimpact.eventstudy._jit.TWINS``; the tests run both paths on
the same inputs and require equal results.

Why a threshold: numba compiles on first use (a few seconds after an install, cached on
disk afterwards) and its import takes about 0.3 s, which a weekly brief of a few dozen
pairs or a CLI call should not pay. Below the threshold numpy is fast enough.

Set ``OILIMPACT_KERNELS=0`` in the environment to always use numpy (for example where
numba is unavailable: the package then still works, only large panels are slower).
"""

from __future__ import annotations

import os
from types import ModuleType

from .threads import by_blocks

__all__ = ["MIN_PAIRS", "enabled", "jit", "by_blocks"]

#: Panels with at least this many pairs use the compiled kernels.
MIN_PAIRS = 1000

_STATE: dict[str, ModuleType | None] = {}


def jit() -> ModuleType | None:
    """The compiled-kernel module, or None when numba is missing or switched off."""
    if "mod" not in _STATE:
        mod: ModuleType | None = None
        if os.environ.get("OILIMPACT_KERNELS", "1").strip().lower() not in ("0", "false", "no"):
            try:
                from . import _jit as mod
            except ImportError:  # numba not installed or broken: numpy path
                mod = None
        _STATE["mod"] = mod
    return _STATE["mod"]


def enabled(n_pairs: int) -> bool:
    """Whether a panel of ``n_pairs`` pairs uses the compiled kernels.

    Examples
    --------
    >>> enabled(10)
    False
    """
    return n_pairs >= MIN_PAIRS and jit() is not None
