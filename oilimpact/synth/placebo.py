"""Placebo inference: in space (each donor treated in turn), leave-one-out, in time.

Every loop submits one module-level task per refit to an executor when one is given
(any :class:`concurrent.futures.Executor`, e.g. a ``ProcessPoolExecutor``) and runs
serially otherwise; results are collected in submission order and every fit is
deterministic, so an executor never changes a number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd

from .spec import SynthData
from .weights import fit_weights

__all__ = [
    "DEFAULT_MSPE_CUTOFF",
    "fit_gap",
    "in_time_placebos",
    "leave_one_out",
    "placebo_in_space",
    "rank_pvalue",
    "rmspe",
]

#: Placebos whose pre-event MSPE exceeds this multiple of the treated unit's are
#: excluded from the rank p-value (Abadie, Diamond and Hainmueller 2010, Figure 6: 5x).
DEFAULT_MSPE_CUTOFF = 5.0


def _aligned(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy on a 64-byte boundary: SIMD kernels round alike wherever the
    array came from (a pickled copy in a worker process or the caller's own)."""
    a = np.asarray(a, dtype="float64")
    buf = np.empty(a.size + 8, dtype="float64")
    start = (-buf.ctypes.data % 64) // 8
    out = buf[start : start + a.size].reshape(a.shape)
    out[...] = a
    return out


def fit_gap(Y: np.ndarray, X: np.ndarray, n_pre: int, outcome_only: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit column 0 on the others; return ``(gap path, w, v)``. Picklable task."""
    Y, X = _aligned(Y), _aligned(X)
    fit = fit_weights(X, _aligned(Y[:n_pre]), outcome_only=outcome_only)
    gap = Y[:, 0] - Y[:, 1:] @ fit.w
    return gap, fit.w, fit.v


def rmspe(gap: np.ndarray, n_pre: int) -> tuple[float, float]:
    """Pre- and post-event root mean squared prediction error of a gap path.

    Examples
    --------
    >>> rmspe(np.array([1.0, -1.0, 3.0, 4.0]), 2)
    (1.0, 3.5355339059327378)
    """
    pre = float(np.sqrt(np.mean(gap[:n_pre] ** 2)))
    post = float(np.sqrt(np.mean(gap[n_pre:] ** 2))) if len(gap) > n_pre else float("nan")
    return pre, post


def _run(tasks: Sequence[tuple[Any, ...]], fn: Callable[..., Any], executor: Executor | None) -> list[Any]:
    if executor is None:
        return [fn(*t) for t in tasks]
    futures = [executor.submit(fn, *t) for t in tasks]
    return [f.result() for f in futures]


def rank_pvalue(treated_ratio: float, placebo_ratios: Iterable[float]) -> float:
    """Rank p-value ``(1 + #{placebo ratio >= treated ratio}) / (1 + n_placebos)``.

    Notes
    -----
    Abadie, Diamond and Hainmueller (2010), Section 3 and Figure 8; the treated unit
    counts itself, so the smallest attainable p-value is ``1 / (1 + n_placebos)``.

    Examples
    --------
    >>> rank_pvalue(3.0, [1.0, 2.0, 4.0])
    0.5
    """
    r = np.asarray(list(placebo_ratios), dtype=float)
    return float((1 + np.sum(r >= treated_ratio)) / (1 + len(r)))


def placebo_in_space(
    data: SynthData,
    treated_gap: np.ndarray,
    *,
    mspe_cutoff: float | None = DEFAULT_MSPE_CUTOFF,
    executor: Executor | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Treat each donor in turn, the other donors as its pool (the treated unit left out).

    Returns
    -------
    table : DataFrame
        One row per unit (the treated first): ``unit, pre_rmspe, post_rmspe, ratio,
        effect, excluded`` where ratio = post/pre RMSPE, effect = mean post gap and
        excluded marks placebos whose pre-event MSPE exceeds ``mspe_cutoff`` times the
        treated unit's (never the treated unit; None excludes none).
    gaps : DataFrame
        The gap paths, dates x units.

    Notes
    -----
    Abadie, Diamond and Hainmueller (2010), Section 3.3; Abadie (2021), Section 4.
    The refits use the study's predictor specification and V search.
    """
    J = len(data.donors)
    tasks = []
    for j in range(1, J + 1):
        order = [j] + [i for i in range(1, J + 1) if i != j]
        tasks.append((data.Y[:, order], data.X[:, order], data.n_pre, data.outcome_only))
    results = _run(tasks, fit_gap, executor)
    gaps = np.column_stack([treated_gap] + [r[0] for r in results])
    rows = []
    for i, unit in enumerate(data.units):
        pre, post = rmspe(gaps[:, i], data.n_pre)
        rows.append((unit, pre, post, post / pre if pre > 0 else np.inf, float(gaps[data.n_pre :, i].mean())))
    table = pd.DataFrame(rows, columns=["unit", "pre_rmspe", "post_rmspe", "ratio", "effect"])
    if mspe_cutoff is None:
        table["excluded"] = False
    else:
        limit = mspe_cutoff * table["pre_rmspe"].iloc[0] ** 2
        table["excluded"] = table["pre_rmspe"] ** 2 > limit
        table.loc[0, "excluded"] = False
    return table, pd.DataFrame(gaps, index=data.dates, columns=list(data.units))


def leave_one_out(
    data: SynthData,
    weights: np.ndarray,
    *,
    which: str = "positive",
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Refit without each donor in turn (``which="positive"``: donors with weight > 0).

    Returns
    -------
    DataFrame
        One row per left-out donor: ``dropped, weight, pre_rmspe, post_rmspe, effect``
        and the gap path as columns named by date (ISO).

    Notes
    -----
    Abadie, Diamond and Hainmueller (2015), Section 5 (robustness): a result that
    hinges on one donor shows as a large change of ``effect``.
    """
    J = len(data.donors)
    drop = [j for j in range(1, J + 1) if which == "all" or weights[j - 1] > 1e-8]
    tasks = []
    for j in drop:
        order = [0] + [i for i in range(1, J + 1) if i != j]
        tasks.append((data.Y[:, order], data.X[:, order], data.n_pre, data.outcome_only))
    results = _run(tasks, fit_gap, executor)
    rows = []
    for j, (gap, _w, _v) in zip(drop, results, strict=True):
        pre, post = rmspe(gap, data.n_pre)
        row = {"dropped": data.units[j], "weight": float(weights[j - 1]), "pre_rmspe": pre,
               "post_rmspe": post, "effect": float(gap[data.n_pre :].mean())}
        row.update({f"{d:%Y-%m-%d}": float(g) for d, g in zip(data.dates, gap, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)


def in_time_placebos(
    data: SynthData,
    positions: Sequence[int],
    labels: Sequence[str],
    *,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Pretend the event happened at earlier periods of the pre-event window.

    For a pseudo event at position p (0 < p < n_pre) the synthetic control is fitted on
    periods ``[0, p)`` and evaluated on ``[p, n_pre)``, before the real event, so a
    good method finds no effect there.

    Returns
    -------
    DataFrame
        ``label, date, n_pre, n_post, pre_rmspe, post_rmspe, ratio, effect``.

    Notes
    -----
    Abadie, Diamond and Hainmueller (2015), Section 5 ("in-time placebo"). The pseudo
    fits match the pre-pseudo outcomes (V = I): predictor rows dated after the pseudo
    date would leak the period being tested.
    """
    tasks = []
    for p in positions:
        Y = data.Y[: data.n_pre]
        tasks.append((Y, Y[:p].copy(), p, True))
    results = _run(tasks, fit_gap, executor)
    rows = []
    for p, label, (gap, _w, _v) in zip(positions, labels, results, strict=True):
        pre, post = rmspe(gap, p)
        rows.append((label, data.dates[p], p, data.n_pre - p, pre, post,
                     post / pre if pre > 0 else np.inf, float(gap[p:].mean())))
    return pd.DataFrame(rows, columns=["label", "date", "n_pre", "n_post", "pre_rmspe",
                                       "post_rmspe", "ratio", "effect"])
