"""Merging the chunks of a large study without holding everything twice.

A study run in chunks (:mod:`~oilimpact.eventstudy.chunks`) gives back, per chunk, its
tables, its cross-sectional pieces and its :class:`~oilimpact.eventstudy.panel.
AbnormalPanel`. Two things here keep the peak memory of the merge near the size of the
result itself:

* :func:`concat_released` concatenates one table of every chunk into one frame, copying
  chunk after chunk into columns allocated once and dropping each chunk's frame as soon
  as it is copied (``pandas.concat`` would hold every chunk's frame and the result at
  once: twice the table);
* :class:`PanelSpill` writes the large per-pair arrays of each chunk's panel (the
  estimation residuals and their dates, ``N x L1`` each, and the prediction-error
  matrices, ``N x L2 x L2``) to a temporary file as the chunk arrives, and gives the
  merged panel with those arrays memory-mapped read-only from it: the result keeps the
  whole panel (``res.resid``, ``res.params``, ``res.car_path`` work as in memory) while
  the process only holds the pages it reads. The file is unlinked once mapped (on POSIX
  systems the space is returned when the result is collected).

:func:`panel_keep_mode` decides, for ``keep_panel="auto"``, whether a study's panel is
kept in memory or spilled (:data:`PANEL_MEMORY_LIMIT`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import sys
import tempfile
from collections.abc import MutableSequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from .panel import AbnormalPanel, concat_panels

__all__ = [
    "PANEL_MEMORY_LIMIT",
    "SPILLED_FIELDS",
    "KeepPanel",
    "PanelSpill",
    "concat_released",
    "panel_bytes",
    "panel_keep_mode",
    "release_free_memory",
]

#: ``keep_panel`` values of :func:`~oilimpact.eventstudy.engine.event_study`.
KeepPanel = Literal["auto", "memory", "disk"]

#: ``keep_panel="auto"`` keeps the merged panel in memory up to this many bytes of
#: per-pair arrays (1 GiB: about 120,000 pairs with the default windows, 240 estimation
#: and 12 event-window days, market model), and spills it to a temporary file above.
PANEL_MEMORY_LIMIT = 2**30

#: The per-pair arrays a spilled panel keeps on disk (memory-mapped); the others
#: (``N`` or ``N x L2`` values) stay in memory.
SPILLED_FIELDS = ("est_resid", "est_dates", "pe_cov")

#: Fields only the chunk needs (single-pair tests, coefficients, the closed-form
#: window sums): a spilled panel drops them (``None``).
CHUNK_ONLY_FIELDS = ("est_market", "design_est", "event_market", "design_evt")


def _malloc_trim() -> Any:
    """glibc's ``malloc_trim`` (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return None


_TRIM = _malloc_trim()


def release_free_memory() -> None:
    """Give the memory the C allocator holds free back to the system (glibc
    ``malloc_trim(0)``; nothing elsewhere).

    Arrays below glibc's (adaptive, up to 32 MiB) mmap threshold come from the heap;
    after a chunk many of them are free but scattered, and the process keeps them:
    measured at 80,000 pairs of the million-pair shape, 5.1 KiB a pair stayed
    resident after the study against 2.3 KiB with the heap trimmed (the result's
    tables). Called after each chunk; the values are not touched.
    """
    if _TRIM is not None:
        _TRIM(0)


def panel_bytes(n_pairs: int, l1: int, l2: int, n_regs: int) -> int:
    """Bytes of the per-pair arrays of an in-memory panel of ``n_pairs`` pairs.

    Per pair: ``est_resid`` and ``est_dates`` (``L1`` values each), ``design_est``
    (``L1 x F``) and ``est_market`` (``L1``, with regressors), ``pe_cov``
    (``L2 x L2``), ``event_ar``, ``event_sessions``, ``design_evt`` and
    ``event_market`` (``L2`` each), 8 bytes a value.
    """
    regs = int(n_regs > 0)
    per_pair = l1 * (2 + n_regs + regs) + l2 * l2 + l2 * (2 + n_regs + regs) + 8
    return int(n_pairs) * per_pair * 8


def panel_keep_mode(keep_panel: str, n_pairs: int, l1: int, l2: int, n_regs: int) -> str:
    """``"memory"`` or ``"disk"``: where the merged panel of a study is kept.

    ``keep_panel="auto"`` gives ``"memory"`` while :func:`panel_bytes` is at most
    :data:`PANEL_MEMORY_LIMIT`, else ``"disk"``; ``"memory"`` and ``"disk"`` are kept.

    Raises
    ------
    ValueError
        For any other ``keep_panel``.
    """
    if keep_panel not in ("auto", "memory", "disk"):
        raise ValueError(f"keep_panel must be 'auto', 'memory' or 'disk', got {keep_panel!r}")
    if keep_panel != "auto":
        return keep_panel
    return "memory" if panel_bytes(n_pairs, l1, l2, n_regs) <= PANEL_MEMORY_LIMIT else "disk"


def concat_released(frames: MutableSequence[pd.DataFrame | None]) -> pd.DataFrame:
    """The frames concatenated in order (a new ``RangeIndex``), each slot of ``frames``
    set to None once copied.

    Equal to ``pandas.concat(frames, ignore_index=True)`` (same columns, dtypes and
    values) when the frames share their columns; a column whose dtype differs between
    frames, or is not a numpy dtype, is concatenated by pandas. One frame is returned
    as it is.

    Examples
    --------
    >>> import pandas as pd
    >>> parts = [pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), pd.DataFrame({"a": [3], "b": ["z"]})]
    >>> out = concat_released(parts)
    >>> out["a"].tolist(), out["b"].tolist(), parts
    ([1, 2, 3], ['x', 'y', 'z'], [None, None])
    """
    if len(frames) == 1:
        head = frames[0]
        frames[0] = None
        assert head is not None
        return head
    heads = [f for f in frames if f is not None]
    if len(heads) != len(frames) or not heads:
        raise ValueError("concat_released needs every frame (none already released)")
    columns = list(heads[0].columns)
    if any(list(f.columns) != columns for f in heads[1:]):
        out = pd.concat(heads, ignore_index=True)
        frames[:] = [None] * len(frames)
        return out
    del heads
    sizes = [len(f) for f in frames]  # type: ignore[arg-type]
    kinds = {c: {str(f[c].dtype) for f in frames} for c in columns}  # type: ignore[index]
    direct = [
        c
        for c in columns
        if len(kinds[c]) == 1 and isinstance(frames[0][c].dtype, np.dtype)  # type: ignore[index]
    ]
    out: dict[str, Any] = {c: np.empty(sum(sizes), dtype=frames[0][c].dtype) for c in direct}  # type: ignore[index]
    other: dict[str, list[pd.Series]] = {c: [] for c in columns if c not in out}
    start = 0
    for i, size in enumerate(sizes):
        frame = frames[i]
        assert frame is not None
        for c in direct:
            out[c][start : start + size] = frame[c].to_numpy()
        for c, parts in other.items():
            parts.append(frame[c])
        start += size
        frames[i] = None  # the chunk's table is no longer needed
        del frame
    for c, parts in other.items():
        out[c] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame({c: out[c] for c in columns}, copy=False)


class PanelSpill:
    """The large arrays of a study's chunk panels, written to a temporary file.

    :meth:`add` writes a chunk panel's :data:`SPILLED_FIELDS` (in chunk order) and
    returns the panel without them and without :data:`CHUNK_ONLY_FIELDS`;
    :meth:`panel` concatenates those light panels and maps the written arrays back,
    read-only (:class:`numpy.memmap`), as one :class:`AbnormalPanel`; the files are
    unlinked once mapped. :meth:`close` removes what is left (also called by
    :meth:`panel`).

    Parameters
    ----------
    directory : str, optional
        Where the temporary directory is made (default :func:`tempfile.gettempdir`).

    Notes
    -----
    The values are written with :meth:`numpy.ndarray.tofile` (not through a mapping,
    so writing does not grow the process's resident memory) and read back bit for bit.
    A spilled panel's arrays are :class:`numpy.memmap` views: reading all of them (e.g.
    :attr:`~oilimpact.eventstudy.result.EventStudyResult.resid` of every pair) brings
    their pages into memory, as the operating system allows.
    """

    def __init__(self, directory: str | None = None) -> None:
        self.dir = tempfile.mkdtemp(prefix="oilimpact-panel-", dir=directory)
        self._files = {f: open(os.path.join(self.dir, f + ".bin"), "wb") for f in SPILLED_FIELDS}
        self._layout: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
        self.n_pairs = 0

    def add(self, panel: AbnormalPanel) -> AbnormalPanel:
        """Write ``panel``'s large arrays; the panel without them (placeholders of
        width 0, so that it still counts its pairs)."""
        for name in SPILLED_FIELDS:
            arr = getattr(panel, name)
            if arr is None:
                raise ValueError(f"a spilled panel needs {name} (got None)")
            arr = np.ascontiguousarray(arr)
            layout = (arr.dtype, arr.shape[1:])
            if self._layout.setdefault(name, layout) != layout:
                raise ValueError(f"chunk panels differ in {name}: {layout} vs {self._layout[name]}")
            arr.tofile(self._files[name])
        self.n_pairs += panel.n_pairs
        n = panel.n_pairs
        light = {name: None for name in CHUNK_ONLY_FIELDS}
        return replace(
            panel,
            est_resid=np.empty((n, 0)),
            est_dates=np.empty((n, 0), dtype="datetime64[ns]"),
            pe_cov=np.empty((n, 0, 0)),
            **light,
        )

    def consume(self, result: Any) -> Any:
        """A chunk's result (:class:`~oilimpact.eventstudy.chunks.ChunkResult`) with its
        panel spilled by :meth:`add` (for ``run_chunks(..., consume=)``)."""
        result.panel = self.add(result.panel)
        return result

    def panel(self, lights: MutableSequence[AbnormalPanel | None]) -> AbnormalPanel:
        """The merged panel: ``lights`` (from :meth:`add`, in order; each slot released)
        concatenated, with the spilled arrays memory-mapped."""
        parts = [p for p in lights if p is not None]
        lights[:] = [None] * len(lights)
        merged = concat_panels(parts)
        del parts
        for f in self._files.values():
            f.close()
        mapped = {}
        for name in SPILLED_FIELDS:
            dtype, tail = self._layout[name]
            path = os.path.join(self.dir, name + ".bin")
            shape = (self.n_pairs, *tail)
            if self.n_pairs == 0 or int(np.prod(shape)) == 0:
                mapped[name] = np.empty(shape, dtype=dtype)
            else:
                mapped[name] = np.memmap(path, dtype=dtype, mode="r", shape=shape)
        self.close()
        return replace(merged, **mapped)

    def close(self) -> None:
        """Close and remove the files (a mapped file lives on until its map is
        collected; where the system refuses, the directory is left to the system's
        temporary-file cleanup)."""
        for f in self._files.values():
            f.close()
        shutil.rmtree(self.dir, ignore_errors=True)
