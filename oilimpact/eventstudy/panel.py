"""The abnormal-return panel: what the inference layer needs for N (event, asset) pairs.

The engine (:mod:`oilimpact.eventstudy.engine`) fits the normal-return model for every pair
at once and packs the results into an :class:`AbnormalPanel`. The single-series tests
(:mod:`oilimpact.eventstudy.single`) and the cross-sectional tests
(:mod:`oilimpact.eventstudy.crosssection`) read only this object, so they are pure numpy.

Shapes: ``N`` pairs, ``L1`` estimation days (a common grid, NaN-padded where a pair has
fewer observations), ``L2`` event-window days.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import kernels, threads

__all__ = [
    "AbnormalPanel",
    "Conventions",
    "WindowSums",
    "concat_panels",
    "panel_rows",
    "panel_store",
]

#: ``"textbook"`` follows MacKinlay (1997) and the original papers; ``"estudy2"`` follows
#: the R package estudy2 0.10 (see docs/methods.md for the differences).
Conventions = Literal["textbook", "estudy2"]


#: Arrays derived from a panel (window sums, sorts, ranks), by panel object, and the
#: :data:`MARKET_PE` mark of how ``fit_panel`` built it (clearing the store only costs
#: speed: an unmarked panel sums its PE matrix). Panels are values (never changed in
#: place), so what is derived from one stays valid while it lives. Keyed by ``id(panel)``; a finalizer drops the entry when the panel is
#: collected, so an id reused by a later object never sees a stale entry.
_STORES: dict[int, dict[str, Any]] = {}


#: Key of :func:`panel_store` under which ``fit_panel`` marks a panel whose ``pe_cov``
#: is the textbook market-model matrix ``I + 1/L1_i + d d' / S_xx`` (closed-form sums).
MARKET_PE = "pe_cov is the textbook market-model matrix"


def panel_store(panel: object) -> dict[str, Any]:
    """The cache of arrays derived from ``panel`` (a fresh, unkept dict for an object
    that cannot be weakly referenced)."""
    key = id(panel)
    store = _STORES.get(key)
    if store is None:
        store = {}
        try:
            weakref.finalize(panel, _STORES.pop, key, None)
        except TypeError:  # a panel-like object that cannot be weakly referenced
            return store
        _STORES[key] = store
    return store


@dataclass(frozen=True, slots=True, weakref_slot=True)
class AbnormalPanel:
    """Abnormal returns and their variance ingredients for N (event, asset) pairs.

    A panel is a value: its arrays are not copied, so do not change them in place (build
    a new panel with :func:`dataclasses.replace`). The cross-sectional tests cache the
    sorts and ranks they derive from a panel for as long as the panel object lives.

    Attributes
    ----------
    ids : pandas.MultiIndex
        Levels ``("event", "asset")``, length N.
    est_resid : ndarray, shape (N, L1)
        Estimation-window residuals in time order, NaN where missing.
    n_est : ndarray of int, shape (N,)
        Non-missing estimation observations per pair (``L1_i``).
    n_params : int
        Parameters of the normal-return model (0 zero-mean / market-adjusted,
        1 constant-mean, 2 market model, 1 + F multi-factor).
    sigma2 : ndarray, shape (N,)
        Residual variance ``s_i^2``: ``SSR / (L1_i - n_params)`` under textbook
        conventions, ``SSR / (L1_i - 1)`` under estudy2 conventions.
    event_days : ndarray of int, shape (L2,)
        Relative day numbers of the event window (e.g. ``-10 .. 10``).
    event_ar : ndarray, shape (N, L2)
        Abnormal returns on the event-window days, NaN where missing.
    pe_cov : ndarray, shape (N, L2, L2)
        ``I + X* (X'X)^{-1} X*'``: the covariance of the event-window AR vector is
        ``sigma2_i * pe_cov_i`` (MacKinlay 1997, eq. 9). Identity for models without
        estimated parameters.
    event_dates : ndarray of datetime64[ns], shape (N,)
        Calendar date of day 0 of each pair (used for same-date clustering).
    est_market : ndarray, shape (N, L1) or None
        Market returns on the estimation days (for tests that need them).
    event_market : ndarray, shape (N, L2) or None
        Market returns on the event-window days.
    conventions : {"textbook", "estudy2"}
    design_est : ndarray, shape (N, L1, F) or None
        Regressors centred on their mean over the pair's estimation sample, 0 on days
        outside it; ``None`` for models without regressors. With ``design_evt`` and
        ``sxx_inv`` it gives the exact OLS leverages the studentised SQ test uses.
    design_evt : ndarray, shape (N, L2, F) or None
        Event-window regressors centred on the same means, 0 on missing event days.
    sxx_inv : ndarray, shape (N, F, F) or None
        Inverse of the centred cross-product matrix ``S_xx``.
    est_dates : ndarray of datetime64[ns], shape (N, L1) or None
        Calendar date of each estimation residual (the date of the session whose return
        it is), NaT where ``est_resid`` is missing. Set by
        :func:`~oilimpact.eventstudy.engine.event_study`; used to match residuals of
        different pairs by calendar date (the Kolari-Pynnonen correlation).
    event_sessions : ndarray of int, shape (N, L2) or None
        Number of sessions of the series' own calendar each event-window return spans
        (1 normally, 2 when the return spans a session on which the pair has no return,
        e.g. a missing price), 0 where the window runs outside the data. ``None`` means
        1 everywhere. See :func:`~oilimpact.eventstudy.alignment.sessions_spanned`.
    """

    ids: pd.MultiIndex
    est_resid: np.ndarray
    n_est: np.ndarray
    n_params: int
    sigma2: np.ndarray
    event_days: np.ndarray
    event_ar: np.ndarray
    pe_cov: np.ndarray
    event_dates: np.ndarray
    est_market: np.ndarray | None = None
    event_market: np.ndarray | None = None
    conventions: Conventions = "textbook"
    design_est: np.ndarray | None = None
    design_evt: np.ndarray | None = None
    sxx_inv: np.ndarray | None = None
    est_dates: np.ndarray | None = None
    event_sessions: np.ndarray | None = None

    @property
    def spanning_rows(self) -> np.ndarray:
        """Rows (pairs) with an observed event-window return spanning more than one
        session, which the variance scaling must adjust; empty when there is none."""
        k = self.event_sessions
        if k is None or self.conventions != "textbook":
            return np.zeros(0, dtype=np.intp)
        span = np.asarray(k) > 1  # the weights above 1 (no float copy of all of them)
        if not span.any():
            return np.zeros(0, dtype=np.intp)
        return np.flatnonzero((span & ~np.isnan(self.event_ar)).any(axis=1))

    @property
    def session_weights(self) -> np.ndarray | None:
        """Sessions spanned by each event-window return as the variances use them.

        ``event_sessions`` as floats (a value below 1, a day outside the data, counts
        1) under textbook conventions when some return spans more than one session;
        ``None`` otherwise (every return counts one session, and under estudy2
        conventions, which do not scale). The prediction-error matrix ``pe_cov`` of a
        panel built by :func:`~oilimpact.eventstudy.models.scale_spanning_returns` already
        holds these weights on its diagonal.
        """
        k = self.event_sessions
        if k is None or self.conventions != "textbook":
            return None
        k = np.asarray(k)
        if not (k > 1).any():
            return None
        return np.maximum(k, 1).astype("float64")

    @property
    def n_pairs(self) -> int:
        """Number of (event, asset) pairs N."""
        return int(self.est_resid.shape[0])

    def window_index(self, window: tuple[int, int]) -> np.ndarray:
        """Column positions of relative days ``window[0] .. window[1]`` (inclusive)."""
        lo, hi = window
        if self.event_days.size > 1 and not (np.diff(self.event_days) > 0).all():
            raise ValueError(f"event_days must be increasing, got {self.event_days.tolist()}")
        mask = (self.event_days >= lo) & (self.event_days <= hi)
        if not mask.any() or mask.sum() != hi - lo + 1:
            raise ValueError(
                f"event window {window} is not inside the panel's days "
                f"{int(self.event_days.min())}..{int(self.event_days.max())}"
            )
        return np.flatnonzero(mask)

    def window_pe_sums(self, windows: list[tuple[int, int]]) -> np.ndarray:
        """``g_w' C_i g_w`` for every pair ``i`` and window ``w``, shape (N, J).

        ``C_i`` is ``pe_cov[i]`` and ``g_w`` the indicator of the window's days, so
        ``sigma2[:, None] * window_pe_sums(windows)`` is the variance of each CAR
        (MacKinlay 1997, eq. 11). NaN where a day of the window is missing. One matrix
        product over all pairs, ``(N L2, L2) @ (L2, J)`` (block sums for a pair with an
        infinite entry), or for a panel that :func:`~oilimpact.eventstudy.models.fit_panel`
        built with the textbook market model (it marks the panel in
        :func:`panel_store`; a copy made with :func:`dataclasses.replace` is not marked)
        the closed form ``L + L^2/L1_i + (sum_w d)^2 / S_xx`` (MacKinlay 1997, eq. 13;
        with returns that span ``k_t`` sessions, ``K + K^2/L1_i + (sum_w d)^2 / S_xx``,
        ``K = sum_w k_t`` and ``d_t = x_t - k_t xbar``, see
        :func:`~oilimpact.eventstudy.models.scale_spanning_returns`).
        Kept for the panel's lifetime (the CAR tests and the cross-sectional tests share
        it; read-only).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> panel = AbnormalPanel(
        ...     ids=pd.MultiIndex.from_tuples([("e", "a")], names=["event", "asset"]),
        ...     est_resid=np.zeros((1, 5)), n_est=np.array([5]), n_params=0,
        ...     sigma2=np.ones(1), event_days=np.arange(-1, 2), event_ar=np.zeros((1, 3)),
        ...     pe_cov=np.eye(3)[None], event_dates=np.array(["2025-12-17"], "M8[ns]"))
        >>> panel.window_pe_sums([(0, 0), (-1, 1)]).tolist()
        [[1.0, 3.0]]
        """
        key = ("window_pe_sums", tuple((int(lo), int(hi)) for lo, hi in windows))
        store = panel_store(self)
        if key in store:
            return store[key]
        if store.get(MARKET_PE) and self.design_evt is not None and self.sxx_inv is not None:
            out = self._market_window_sums(windows)
            out.flags.writeable = False
            store[key] = out
            return out
        pe = np.asarray(self.pe_cov, dtype="float64")
        n, l2 = pe.shape[0], pe.shape[1]
        g = np.zeros((l2, len(windows)))
        for j, window in enumerate(windows):
            g[self.window_index(window), j] = 1.0
        missing = np.isnan(np.diagonal(pe, axis1=1, axis2=2))  # a missing day's row/column
        if missing.any():
            pe = np.where(np.isnan(pe), 0.0, pe)
        with np.errstate(invalid="ignore"):  # inf * 0: those pairs are redone below
            pg = (pe.reshape(n * l2, l2) @ g).reshape(n, l2, len(windows))
            out = np.einsum("nsj,sj->nj", pg, g)
        infinite = np.flatnonzero(np.isinf(pe).any(axis=(1, 2)))
        for i in infinite:  # inf * 0 outside a window would poison the product: sum blocks
            for j, window in enumerate(windows):
                idx = self.window_index(window)
                out[i, j] = pe[i][np.ix_(idx, idx)].sum()
        if missing.any():
            out[(missing.astype("float64") @ g) > 0] = np.nan
        out.flags.writeable = False
        store[key] = out
        return out

    def _market_window_sums(self, windows: list[tuple[int, int]]) -> np.ndarray:
        """:meth:`window_pe_sums` of a panel marked :data:`MARKET_PE`, from the design."""
        assert self.design_evt is not None and self.sxx_inv is not None
        sums = self.window_sums(windows)  # of d (0 on missing event days) and k_t
        s_inv = self.sxx_inv[:, 0, 0]
        inv_n = 1.0 / np.asarray(self.n_est, dtype="float64")
        out = np.empty((self.n_pairs, len(windows)))
        for j, window in enumerate(windows):
            length: float | np.ndarray = float(window[1] - window[0] + 1)
            if sums.sessions is not None:
                length = sums.sessions[:, j]  # K = sum_w k_t
            assert sums.design_seq is not None
            sw = sums.design_seq[:, j]
            out[:, j] = length + length * length * inv_n + sw * sw * s_inv
            out[sums.missing[:, j], j] = np.nan
        return out

    def window_sums(self, windows: Sequence[tuple[int, int]]) -> WindowSums:
        """Sums over each window of the ARs, of the centred event regressor and of the
        session weights, and whether an AR of the window is missing, shape (N, J) each.

        What the CAR tests (:func:`~oilimpact.eventstudy.single.car_tests`) and
        :meth:`window_pe_sums` add up, computed once and kept for the panel's lifetime
        (read-only). Each sum is ``x[:, lo:hi + 1].sum(axis=1)`` (numpy's pairwise
        sum); from :data:`~oilimpact.eventstudy.kernels.MIN_PAIRS` pairs on one
        compiled pass over the rows gives the same bits
        (:func:`oilimpact.eventstudy._jit.window_sums`).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> panel = AbnormalPanel(
        ...     ids=pd.MultiIndex.from_tuples([("e", "a")], names=["event", "asset"]),
        ...     est_resid=np.zeros((1, 5)), n_est=np.array([5]), n_params=0,
        ...     sigma2=np.ones(1), event_days=np.arange(-1, 2),
        ...     event_ar=np.array([[1.0, 2.0, np.nan]]), pe_cov=np.eye(3)[None],
        ...     event_dates=np.array(["2025-12-17"], "M8[ns]"))
        >>> sums = panel.window_sums([(-1, 0), (0, 1)])
        >>> sums.ar.tolist(), sums.missing.tolist(), sums.design is None
        ([[3.0, nan]], [[False, True]], True)
        """
        wins = tuple((int(lo), int(hi)) for lo, hi in windows)
        key = ("window_sums", wins)
        store = panel_store(self)
        if key in store:
            return store[key]
        cols = [self.window_index(w) for w in wins]
        lo = np.array([int(c[0]) for c in cols], dtype=np.int64)
        hi = np.array([int(c[-1]) for c in cols], dtype=np.int64)
        design = self.design_evt
        d = design[:, :, 0] if design is not None and design.shape[2] == 1 else None
        if kernels.enabled(self.n_pairs):
            out = self._window_sums_compiled(lo, hi, d, self.session_weights)
        else:
            out = self._window_sums_numpy(lo, hi, d, self.session_weights)
        for arr in (out.ar, out.design, out.design_seq, out.sessions, out.missing):
            if arr is not None:
                arr.flags.writeable = False
        store[key] = out
        return out

    def _window_sums_numpy(
        self, lo: np.ndarray, hi: np.ndarray, d: np.ndarray | None, w: np.ndarray | None
    ) -> WindowSums:
        """:meth:`window_sums` over the columns ``lo[j] .. hi[j]``, by numpy."""
        n, nj = self.n_pairs, lo.size
        ar = np.asarray(self.event_ar, dtype="float64")
        missing = np.isnan(ar)
        out = WindowSums(
            ar=np.empty((n, nj)),
            design=None if d is None else np.empty((n, nj)),
            design_seq=None if d is None else np.empty((n, nj)),
            sessions=None if w is None else np.empty((n, nj)),
            missing=np.empty((n, nj), dtype=bool),
        )
        for j in range(nj):
            sl = slice(int(lo[j]), int(hi[j]) + 1)
            out.ar[:, j] = ar[:, sl].sum(axis=1)
            out.missing[:, j] = missing[:, sl].any(axis=1)
            if d is not None and out.design is not None and out.design_seq is not None:
                out.design[:, j] = d[:, sl].sum(axis=1)
                acc = d[:, sl.start].copy()  # in day order
                for c in range(sl.start + 1, sl.stop):
                    acc += d[:, c]
                out.design_seq[:, j] = acc
            if w is not None and out.sessions is not None:
                out.sessions[:, j] = w[:, sl].sum(axis=1)
        return out

    def _window_sums_compiled(
        self, lo: np.ndarray, hi: np.ndarray, d: np.ndarray | None, w: np.ndarray | None
    ) -> WindowSums:
        """:meth:`_window_sums_numpy` by the compiled kernel, on row blocks."""
        jit = kernels.jit()
        assert jit is not None
        n, nj, l2 = self.n_pairs, lo.size, self.event_days.size
        ar = np.ascontiguousarray(self.event_ar, dtype="float64")
        dd = np.zeros((0, l2)) if d is None else np.ascontiguousarray(d, dtype="float64")
        ww = np.zeros((0, l2)) if w is None else np.ascontiguousarray(w, dtype="float64")
        out = WindowSums(
            ar=np.empty((n, nj)),
            design=None if d is None else np.empty((n, nj)),
            design_seq=None if d is None else np.empty((n, nj)),
            sessions=None if w is None else np.empty((n, nj)),
            missing=np.empty((n, nj), dtype=bool),
        )
        sw = out.design if out.design is not None else np.empty((n, nj))
        sw_seq = out.design_seq if out.design_seq is not None else np.empty((n, nj))
        ks = out.sessions if out.sessions is not None else np.empty((n, nj))

        def run(a: int, b: int) -> None:
            rows = slice(a, b)
            jit.window_sums(ar[rows], dd[rows] if d is not None else dd,
                            ww[rows] if w is not None else ww, lo, hi, out.ar[rows],
                            sw[rows], sw_seq[rows], ks[rows], out.missing[rows])  # fmt: skip

        kernels.by_blocks(n, run)
        return out


@dataclass(frozen=True, slots=True)
class WindowSums:
    """:meth:`AbnormalPanel.window_sums`: sums over each window (columns), shape (N, J).

    Attributes
    ----------
    ar : ndarray
        Of the abnormal returns (NaN when one is missing): the CARs.
    design : ndarray or None
        Of the centred event regressor ``design_evt`` (one regressor only, else None).
    design_seq : ndarray or None
        The same sums formed in day order (a running sum from the window's first day),
        as :meth:`AbnormalPanel.window_pe_sums` has always formed them (the last bits
        can differ from ``design``'s pairwise sums for windows of 8 days or more).
    sessions : ndarray or None
        Of the session weights (:attr:`AbnormalPanel.session_weights`; None when every
        return spans one session).
    missing : ndarray of bool
        Whether an abnormal return of the window is NaN.
    """

    ar: np.ndarray
    design: np.ndarray | None
    design_seq: np.ndarray | None
    sessions: np.ndarray | None
    missing: np.ndarray


#: Fields of :class:`AbnormalPanel` that hold one row per pair (concatenated by
#: :func:`concat_panels`).
_PER_PAIR = (
    "est_resid", "n_est", "sigma2", "event_ar", "pe_cov", "event_dates", "est_market",
    "event_market", "design_est", "design_evt", "sxx_inv", "est_dates", "event_sessions",
)  # fmt: skip


def concat_panels(panels: Sequence[AbnormalPanel]) -> AbnormalPanel:
    """The panel of all pairs of ``panels`` (chunks of one study), in order.

    The panels must share ``n_params``, ``event_days`` and ``conventions``; a per-pair
    array is kept when every panel has it (else None). The :data:`MARKET_PE` mark is
    kept when every panel carries it. One panel is returned as it is. The fields are
    copied on the shared threads (:func:`oilimpact.eventstudy.threads.pool`), each by one
    ``np.concatenate``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> def one(name):
    ...     return AbnormalPanel(
    ...         ids=pd.MultiIndex.from_tuples([("e", name)], names=["event", "asset"]),
    ...         est_resid=np.zeros((1, 5)), n_est=np.array([5]), n_params=0,
    ...         sigma2=np.ones(1), event_days=np.arange(-1, 2), event_ar=np.zeros((1, 3)),
    ...         pe_cov=np.eye(3)[None], event_dates=np.array(["2025-12-17"], "M8[ns]"))
    >>> both = concat_panels([one("a"), one("b")])
    >>> both.n_pairs, list(both.ids.get_level_values("asset"))
    (2, ['a', 'b'])
    """
    if not panels:
        raise ValueError("no panels to concatenate")
    if len(panels) == 1:
        return panels[0]
    head = panels[0]
    for p in panels[1:]:
        if (
            p.n_params != head.n_params
            or p.conventions != head.conventions
            or not np.array_equal(p.event_days, head.event_days)
        ):
            raise ValueError("panels of different models, conventions or event days")
    fields: dict[str, Any] = {
        "ids": head.ids.append([p.ids for p in panels[1:]]),
        "n_params": head.n_params,
        "event_days": head.event_days,
        "conventions": head.conventions,
    }
    kept = [name for name in _PER_PAIR if all(getattr(p, name) is not None for p in panels)]
    # one field per task on the shared threads: the copies (hundreds of MB for 100,000
    # pairs, mostly first touches of new memory) release the GIL, so they overlap
    joined = threads.pool().map(
        lambda name: np.concatenate([getattr(p, name) for p in panels]), kept
    )
    fields.update({name: None for name in _PER_PAIR})  # a field some panel lacks
    fields.update(zip(kept, joined, strict=True))
    out = AbnormalPanel(**fields)
    if all(panel_store(p).get(MARKET_PE) for p in panels):
        panel_store(out)[MARKET_PE] = True
    return out


def panel_rows(panel: AbnormalPanel, lo: int, hi: int) -> AbnormalPanel:
    """The pairs ``lo:hi`` of ``panel`` (views of its per-pair arrays, not marked
    :data:`MARKET_PE`; the whole panel when ``lo:hi`` covers it).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> panel = AbnormalPanel(
    ...     ids=pd.MultiIndex.from_product([["e"], ["a", "b", "c"]], names=["event", "asset"]),
    ...     est_resid=np.zeros((3, 5)), n_est=np.array([5, 4, 3]), n_params=0,
    ...     sigma2=np.ones(3), event_days=np.arange(-1, 2), event_ar=np.zeros((3, 3)),
    ...     pe_cov=np.broadcast_to(np.eye(3), (3, 3, 3)),
    ...     event_dates=np.full(3, np.datetime64("2025-12-17", "ns")))
    >>> part = panel_rows(panel, 1, 3)
    >>> part.n_pairs, part.n_est.tolist(), list(part.ids.get_level_values("asset"))
    (2, [4, 3], ['b', 'c'])
    """
    if lo == 0 and hi >= panel.n_pairs:
        return panel
    fields: dict[str, Any] = {name: getattr(panel, name) for name in _PER_PAIR}
    cut = {name: None if v is None else v[lo:hi] for name, v in fields.items()}
    return AbnormalPanel(
        ids=panel.ids[lo:hi],
        n_params=panel.n_params,
        event_days=panel.event_days,
        conventions=panel.conventions,
        **cut,
    )
