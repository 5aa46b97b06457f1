"""Row blocks on a small shared thread pool: how the per-pair work uses several cores.

Every step of the inference layer treats the N (event, asset) pairs of a panel row by
row, and numpy, ``scipy.special`` and the compiled kernels of
:mod:`oilimpact.eventstudy._jit` release the GIL on large arrays. So a step split into
contiguous row blocks can run its blocks on a few threads and write disjoint rows of
the same output arrays: the result is that of one call on all rows (the blocks do the
same operations on the same numbers). This module holds the one pool and the one way to
split the rows; the models (:mod:`~oilimpact.eventstudy.models`), the single-pair tests
(:mod:`~oilimpact.eventstudy.single`), the kernel switch
(:mod:`~oilimpact.eventstudy.kernels`) and the cross-sectional tests use it.

Examples
--------
>>> by_blocks(10, lambda a, b: (a, b))  # small: one block, on this thread
[(0, 10)]
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["THREAD_ROWS", "by_blocks", "by_rows", "n_threads", "pool"]

T = TypeVar("T")

#: Rows per thread below which :func:`by_blocks` does not split the work.
THREAD_ROWS = 2048

_POOL: list[ThreadPoolExecutor] = []


def n_threads() -> int:
    """Threads of the shared pool: the CPU count, at most 4 (memory bandwidth, not
    arithmetic, bounds these loops)."""
    return max(1, min(4, os.cpu_count() or 1))


def pool() -> ThreadPoolExecutor:
    """The shared thread pool (created on first use, kept for the process)."""
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(n_threads(), thread_name_prefix="oilimpact-stdtr"))
    return _POOL[0]


def by_blocks(n: int, fn: Callable[[int, int], T]) -> list[T]:
    """Run ``fn(a, b)`` over contiguous row blocks covering ``0..n`` and return the
    results in block order.

    The rows are split into ``min(n_threads(), n // THREAD_ROWS)`` blocks (at least one)
    run on the shared pool; a single block runs on the calling thread. ``fn`` must treat
    rows independently and write disjoint rows, so what it writes is that of
    ``fn(0, n)``.

    Examples
    --------
    >>> import numpy as np
    >>> out = np.zeros(5)
    >>> def double(a: int, b: int) -> int:
    ...     out[a:b] = 2.0 * np.arange(a, b)
    ...     return b - a
    >>> by_blocks(5, double), out.tolist()
    ([5], [0.0, 2.0, 4.0, 6.0, 8.0])
    """
    workers = max(1, min(n_threads(), n // THREAD_ROWS))
    if workers == 1:
        return [fn(0, n)]
    cuts = [n * k // workers for k in range(workers + 1)]
    return list(pool().map(lambda k: fn(cuts[k], cuts[k + 1]), range(workers)))


def by_rows(n: int, fn: Callable[[int, int], None]) -> None:
    """:func:`by_blocks` for a ``fn`` that only writes (its return value is dropped)."""
    by_blocks(n, fn)
