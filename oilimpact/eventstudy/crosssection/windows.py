"""Window pooled tests: the cumulative average abnormal return (CAAR) over windows.

:func:`cross_sectional_tests` is a short composition: the plan of :func:`.policy.pooled_plan`
(which tests run and are shown), the window's complete pairs and CARs (:class:`Window`),
each test family's window form, next to its formula and reference (:mod:`.parametric`,
:mod:`.sign`, :mod:`.rank`, :mod:`.grank`), then one tidy frame with a note on every row
that needs one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..panel import AbnormalPanel
from . import parametric, rank, sign
from ._parts import _Parts
from .grank import _grank
from .policy import (
    _WINDOW_DTYPES,
    INDEPENDENCE_NOTE,
    INDEPENDENCE_TESTS,
    WINDOW_COLUMNS,
    PooledPlan,
    _attach,
    _nan_reason,
    pooled_plan,
)

Rows = dict[str, tuple[Any, Any, Any]]
_PARAMETRIC = ("patell", "bmp", "adjusted_patell", "adjusted_bmp")
_KP = ("adjusted_patell", "adjusted_bmp")


def _window_label(lo: int, hi: int) -> str:
    def fmt(d: int) -> str:
        return f"+{d}" if d > 0 else str(d)

    return f"[{fmt(lo)},{fmt(hi)}]"


@dataclass
class Window:
    """One window's pairs and sums (internal): columns ``cols`` of the event window,
    ``tau`` days, the complete pairs ``has`` (an AR on every day) and their count ``n``,
    ``car`` (NaN for incomplete pairs) and ``caar``; the standardized CAR ``scar``
    (when a test needs it); the Brown-Warner scale ``bw_sd`` over ``bw_t`` estimation
    days and the rank ingredients ``rank`` = ``(kbar, ubar, s_k, s_u)`` of its pairs."""

    lo: int
    hi: int
    cols: np.ndarray
    has: np.ndarray
    car: np.ndarray
    scar: np.ndarray | None = None
    bw_sd: Any = None
    bw_t: Any = None
    rank: tuple[Any, ...] | None = None

    @cached_property
    def tau(self) -> int:
        return int(self.cols.size)

    @cached_property
    def n(self) -> int:
        return int(self.has.sum())

    @cached_property
    def caar(self) -> float:
        return float(self.car[self.has].mean()) if self.n else np.nan

    @cached_property
    def sc_ok(self) -> np.ndarray:
        assert self.scar is not None
        return np.isfinite(self.scar)

    @cached_property
    def n_sc(self) -> int:
        return int(self.sc_ok.sum())


def _windows(
    p: _Parts, panel: AbnormalPanel, spans: list[tuple[int, int]], col_sets: list[np.ndarray],
    tests: list[str],
) -> list[Window]:  # fmt: skip
    """The windows' pairs, CARs and the per-window scales the tests asked need."""
    # a pair enters a window only with an AR on every day of it (as the engine's CAR)
    complete = np.column_stack(
        [p.ar_ok[:, cols].all(axis=1) for cols in col_sets] or [np.zeros(p.n_pairs, bool)]
    )
    bw = p.bw_scales(complete) if "brown_warner" in tests and not p.estudy2 else None
    need_rank = any(t in tests for t in ("rank", "modified_rank"))
    rk = p.rank_sets(complete & p.valid[:, None]) if need_rank else None
    need_scar = any(t in tests for t in _PARAMETRIC + ("grank",))
    quads = panel.window_pe_sums(spans) if need_scar else None  # 1' C_i 1 per window
    out = []
    for k, ((lo, hi), cols) in enumerate(zip(spans, col_sets, strict=True)):
        has = complete[:, k]
        w = Window(lo, hi, cols, has, np.where(has, p.ar[:, cols].sum(axis=1), np.nan))
        if quads is not None:
            w.scar = w.car / np.sqrt(p.s2 * quads[:, k])
        if "brown_warner" in tests:
            w.bw_sd, w.bw_t = p.bw_sd if bw is None else (bw[0][k], bw[1][k])
        if rk is not None:
            w.rank = (rk[0][k], rk[1][k], rk[2][k], rk[3][k])
        out.append(w)
    return out


def _window_tests(p: _Parts, w: Window, tests: list[str]) -> tuple[Rows, dict[str, str], float]:
    """``({test: (statistic, pvalue, n)}, {test: note}, rbar)`` of one window (GRANK
    aside: it runs on all windows at once)."""
    need = set(tests).intersection
    res: Rows = {}
    why: dict[str, str] = {}
    rbar = np.nan
    if need({"cross_sectional_t"}):
        res |= parametric.window_t(p, w)
    if need({"brown_warner"}):
        rows, note = parametric.window_brown_warner(p, w)
        res, why = res | rows, why | note
    if need({"brown_warner_indep"}):
        res |= parametric.window_brown_warner_indep(p, w)
    if need(_PARAMETRIC):
        rows, note = parametric.window_patell_bmp(p, w)
        res, why = res | rows, why | note
        if need(_KP):
            rows, note, rbar = parametric.window_kp(p, w, rows)
            res, why = res | rows, why | note
    if need({"sign", "generalized_sign"}):
        rows, note = sign.window_sign(p, w)
        res, why = res | rows, why | note
    if need({"rank", "modified_rank"}):
        res |= rank.window_rank(p, w)
    return res, why, rbar


def _table(
    wins: list[tuple[int, int, float]], done: list[tuple[Rows, dict[str, str], float]],
    tests: list[str], plan: PooledPlan,
) -> pd.DataFrame:  # fmt: skip
    """One row per (window, test) with its note (why a value is NaN, an exact p-value,
    the independence label for clustered pairs); ``wins`` holds ``(lo, hi, caar)``.
    Built column by column (a frame of a few dozen rows: pandas' per-row construction
    and dtype conversion would cost more than the tests)."""
    cols: dict[str, list[Any]] = {name: [] for name in WINDOW_COLUMNS}
    for (lo, hi, caar), (res, why, rb_val) in zip(wins, done, strict=True):
        for name in tests:
            stat, pval, n_used = (float(v) for v in res[name])
            n_used = int(n_used)
            notes = [why.get(name, "")]
            if not np.isfinite(stat) or not np.isfinite(pval):
                notes.append(_nan_reason(name, n_used, why.get(name, "")))
            if plan.clustered and name in INDEPENDENCE_TESTS:
                notes.append(INDEPENDENCE_NOTE)
            row = (
                _window_label(lo, hi), lo, hi, name, stat, pval, n_used, caar,
                rb_val if name in _KP else np.nan, name in INDEPENDENCE_TESTS,
                "; ".join(dict.fromkeys(x for x in notes if x)),
            )  # fmt: skip
            for col, value in zip(WINDOW_COLUMNS, row, strict=True):
                cols[col].append(value)
    return pd.DataFrame(
        {name: pd.Series(cols[name], dtype=_WINDOW_DTYPES[name]) for name in WINDOW_COLUMNS},
        columns=WINDOW_COLUMNS,
    )


def cross_sectional_tests(
    panel: AbnormalPanel,
    windows: Sequence[tuple[int, int]],
    tests: Sequence[str] | None = None,
    *,
    pooled: bool | Literal["auto"] = "auto",
    independence_tests: bool = False,
) -> pd.DataFrame:
    """Cross-sectional tests of the cumulative average abnormal return over windows.

    Parameters
    ----------
    panel : AbnormalPanel
        Abnormal returns and variance ingredients of N (event, asset) pairs.
    windows : sequence of (int, int)
        Inclusive relative-day windows, e.g. ``[(0, 0), (0, 5), (-1, 1)]``.
    tests : sequence of str, optional
        Tests to run, as given (flagged and noted like the default rows); ``None``:
        :func:`pooled_plan` chooses.
    pooled : bool or "auto", default "auto"
        ``True`` at any number of pairs, ``False`` never, ``"auto"`` from
        :data:`POOLED_MIN_PAIRS` (10) pairs on; when not run the frame is empty.
    independence_tests : bool, default False
        Also show :data:`INDEPENDENCE_TESTS` for clustered pairs (a shared event date,
        or windows that overlap in calendar time), labelled; always shown otherwise.

    Returns
    -------
    pandas.DataFrame
        One row per (window, test), columns :data:`WINDOW_COLUMNS`: ``window``
        (``"[0,+5]"``), ``lo``, ``hi``, ``test``, ``statistic``, ``pvalue`` (two-sided),
        ``n`` (pairs used), ``caar`` (mean CAR of the pairs with an AR on every day of
        the window), ``rbar`` (the KP r-bar, on the adjusted rows), ``assumes_independence``
        and ``note`` (why a value is NaN, e.g. ``"GRANK needs 20 pairs, got 7"``; an
        exact binomial p-value; :data:`INDEPENDENCE_NOTE` for clustered pairs). A window
        no pair covers has ``n == 0``, NaN values and a note. ``attrs["notes"]`` (why
        no pooled test ran, what was left out and how to ask for it) and
        ``attrs["pooled"]`` (``{"run", "clustered", "n_pairs", "min_pairs", "hidden"}``)
        are set on every frame returned, empty or not.

    Raises
    ------
    ValueError
        For an unknown test or a window outside the panel's event days.

    Notes
    -----
    A pair enters a window only with an AR on every day of it (as the engine's
    single-pair CAR); ``n`` counts those pairs. :math:`SCAR_i = CAR_i / (s_i \\sqrt{1'
    C_i 1})`, ``C_i`` the window block of ``pe_cov`` (MacKinlay 1997, eq. 9). Each
    formula is in the Notes of the function that computes it:

    * cross-sectional t, Brown-Warner, Patell, BMP: :mod:`.parametric`
      (``window_*``); Kolari-Pynnonen (2010) adjusted Patell and BMP
      (:func:`.parametric.window_kp`) over clusters of pairs whose windows share
      calendar days, ``rbar`` from :func:`calendar_rbar` (calendar dates).
    * sign and generalized sign on the signs of :math:`CAR_i`
      (:func:`.sign.window_sign`, Cowan 1992); exact binomial below
      :data:`SIGN_EXACT_BELOW` pairs (estudy2 conventions: normal at every n).
    * rank and modified rank (Cowan 1992): :func:`.rank.window_rank`.
    * GRANK: :math:`SCAR_i` re-standardized by its cross-sectional sd, ranked against
      the estimation SARs (KP 2011, section 2.2; :func:`.grank._grank`).

    estudy2 conventions change the test-level details listed for :func:`daily_tests`
    (estudy2's own CAR tests are different statistics, not reproduced).

    References
    ----------
    .. [1] MacKinlay, A. C. (1997). Event studies in economics and finance. JEL 35, 13-39.
    .. [2] Cowan, A. R. (1992). Nonparametric event study tests. RQFA 2, 343-358.
    .. [3] Kolari and Pynnonen (2010, 2011), Boehmer, Musumeci and Poulsen (1991),
       Patell (1976), Brown and Warner (1980, 1985): see :func:`daily_tests`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from oilimpact.eventstudy.panel import AbnormalPanel
    >>> rng = np.random.default_rng(1)
    >>> n, l1, l2 = 30, 120, 5
    >>> panel = AbnormalPanel(
    ...     ids=pd.MultiIndex.from_product([["e"], range(n)], names=["event", "asset"]),
    ...     est_resid=rng.normal(0, 0.01, (n, l1)), n_est=np.full(n, l1), n_params=0,
    ...     sigma2=np.full(n, 1e-4), event_days=np.arange(-2, 3),
    ...     event_ar=rng.normal(0.01, 0.01, (n, l2)),
    ...     pe_cov=np.broadcast_to(np.eye(l2), (n, l2, l2)),
    ...     event_dates=np.full(n, np.datetime64("2025-12-17", "ns")))
    >>> out = cross_sectional_tests(panel, [(0, 0), (0, 2)], ["cross_sectional_t", "bmp"])
    >>> print(out[["window", "test", "statistic", "n"]].round(2).to_string(index=False))
    window              test  statistic  n
     [0,0] cross_sectional_t       3.87 30
     [0,0]               bmp       3.87 30
    [0,+2] cross_sectional_t       9.07 30
    [0,+2]               bmp       9.07 30

    By default, for 30 pairs on one event date, only tests valid under correlation:

    >>> cross_sectional_tests(panel, [(0, 2)])["test"].tolist()
    ['brown_warner', 'adjusted_patell', 'adjusted_bmp', 'rank', 'modified_rank']
    """
    spans = [(int(lo), int(hi)) for lo, hi in windows]
    col_sets = [panel.window_index(span) for span in spans]  # checks every window
    plan = pooled_plan(panel, spans, tests, pooled=pooled, independence_tests=independence_tests)
    if not plan.run:
        return _attach(pd.DataFrame(columns=WINDOW_COLUMNS).astype(_WINDOW_DTYPES), plan)
    p = _Parts(panel)
    wins = _windows(p, panel, spans, col_sets, plan.tests)
    done = [_window_tests(p, w, plan.tests) for w in wins]
    if "grank" in plan.tests and wins:  # all windows in one batch
        scars = np.column_stack([w.scar for w in wins])
        for (res, _, _), row in zip(done, _grank(p, scars), strict=True):
            res["grank"] = row
    labels = [(w.lo, w.hi, w.caar) for w in wins]
    return _attach(_table(labels, done, plan.tests, plan), plan)
