"""Which pooled tests run and are shown, and the words that go with them.

The policy of issue 17 (item 1): pooled (CAAR) tests run from :data:`POOLED_MIN_PAIRS`
pairs on (``pooled="auto"``) or when asked; for pairs that share an event date (or whose
windows overlap in calendar time) the default shows only :data:`CLUSTER_ROBUST_TESTS`,
the independence-assuming :data:`INDEPENDENCE_TESTS` only on request and labelled; sign
tests below :data:`SIGN_EXACT_BELOW` pairs take the exact binomial p-value; a statistic
that cannot be computed carries a note saying why, never a bare NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..panel import AbnormalPanel
from ._arrays import _pvalue_normal
from .grank import GRANK_MIN_PAIRS
from .rbar import _overlap_clusters

#: Every test :func:`daily_tests` knows, in output order.
DAILY_TESTS: Final[tuple[str, ...]] = (
    "cross_sectional_t",
    "brown_warner",
    "brown_warner_indep",
    "patell",
    "bmp",
    "adjusted_patell",
    "adjusted_bmp",
    "sign",
    "generalized_sign",
    "rank",
    "modified_rank",
    "grank",
)

#: Every test :func:`cross_sectional_tests` knows (the same names, multi-day versions).
WINDOW_TESTS: Final[tuple[str, ...]] = DAILY_TESTS


def _check_tests(tests: Sequence[str] | str, known: tuple[str, ...]) -> list[str]:
    if isinstance(tests, str):
        tests = [tests]
    tests = list(tests)
    bad = [t for t in tests if t not in known]
    if bad:
        raise ValueError(f"unknown test(s) {bad}; known: {', '.join(known)}")
    return tests


#: Pairs from which ``pooled="auto"`` runs the pooled (CAAR) tests. Below it the study is
#: read pair by pair (the single-series tests of the CAR table, valid for one pair):
#: with fewer than 10 pairs the BMP-type tests rest on a cross-sectional sd with fewer
#: than 9 degrees of freedom (t critical value above 2.26), the exact sign test cannot
#: reject at 5% at all below 6 pairs (n = 5, all of one sign: p = 0.0625), GRANK needs
#: :data:`GRANK_MIN_PAIRS`, and with pairs that share one event date (two prices of
#: nearly the same barrel) a handful of series add little information beyond their
#: own tests. ``pooled=True`` forces the tests at any n.
POOLED_MIN_PAIRS: Final[int] = 10

#: The sign tests use the exact binomial below this many pairs and the normal
#: approximation from it on (textbook conventions; estudy2 conventions keep the normal
#: approximation at every n, as estudy2 does). With 30 pairs the two two-sided p-values
#: agree within about 0.03 near the 5% level; at n = 4, all positive, the exact p is
#: 0.125 and the normal approximation 0.0455.
SIGN_EXACT_BELOW: Final[int] = 30

#: Tests that assume the pairs' abnormal returns are independent: their variance is
#: a sum of own variances (or a cross-sectional dispersion, or a binomial count), which
#: understates the variance of a mean over correlated pairs. Over-reject when the pairs
#: share an event date (size table in ``docs/methods-crosssection.md``).
INDEPENDENCE_TESTS: Final[tuple[str, ...]] = (
    "cross_sectional_t",
    "brown_warner_indep",
    "patell",
    "bmp",
    "sign",
    "generalized_sign",
)

#: Tests shown by default when the pairs are clustered (share an event date or have
#: windows that overlap in calendar time): each keeps its 5% size within [3%, 7%]
#: (measured 3.8% to 6.5%) in every cell of the one-date simulation of
#: ``benchmarks/bench_pooled_size.py`` (n = 2, 5, 10, 30; residual correlation 0, 0.5,
#: 0.9; 1,000 studies per cell). GRANK is left out: it rejected 6.5%, 10.0% and 0.0%
#: of one-date studies of 30 pairs at correlation 0, 0.5 and 0.9 (its cross-sectional
#: re-standardization of the event SARs is degenerate when the pairs move together).
CLUSTER_ROBUST_TESTS: Final[tuple[str, ...]] = (
    "brown_warner",
    "adjusted_patell",
    "adjusted_bmp",
    "rank",
    "modified_rank",
)

#: Why a test that is neither in :data:`CLUSTER_ROBUST_TESTS` nor independence-assuming
#: is not shown by default for clustered pairs.
_HIDDEN_WHY: Final[dict[str, str]] = {
    "grank": "GRANK: size 0-10% at 30 pairs on one date in the size simulation",
}

#: The ``note`` of an independence-assuming test shown for clustered pairs.
INDEPENDENCE_NOTE: Final[str] = "assumes independent pairs; invalid for clustered event dates"

#: Columns of :func:`cross_sectional_tests`.
WINDOW_COLUMNS: Final[list[str]] = [
    "window",
    "lo",
    "hi",
    "test",
    "statistic",
    "pvalue",
    "n",
    "caar",
    "rbar",
    "assumes_independence",
    "note",
]
_WINDOW_DTYPES = {
    "window": object,
    "lo": "int64",
    "hi": "int64",
    "test": object,
    "statistic": "float64",
    "pvalue": "float64",
    "n": "int64",
    "caar": "float64",
    "rbar": "float64",
    "assumes_independence": bool,
    "note": object,
}


@dataclass(frozen=True)
class PooledPlan:
    """What :func:`cross_sectional_tests` runs and shows, and why (see
    :func:`pooled_plan`).

    ``run``: whether any pooled test is computed; ``clustered``: whether two pairs share
    an event date or windows that overlap in calendar time; ``tests``: the tests
    computed, in output order; ``hidden``: tests left out of the default set;
    ``notes``: sentences for the reader (why nothing ran, what was hidden and how to
    ask for it).
    """

    run: bool
    clustered: bool
    n_pairs: int
    tests: list[str]
    hidden: list[str]
    notes: list[str]


def pooled_plan(
    panel: AbnormalPanel,
    windows: Sequence[tuple[int, int]],
    tests: Sequence[str] | None = None,
    *,
    pooled: bool | Literal["auto"] = "auto",
    independence_tests: bool = False,
) -> PooledPlan:
    """Decide which pooled tests :func:`cross_sectional_tests` runs and shows.

    Parameters
    ----------
    panel : AbnormalPanel
    windows : sequence of (int, int)
        The windows to be tested (their lengths decide calendar overlap).
    tests : sequence of str, optional
        An explicit list is run as given (rows still flagged and noted); ``None`` lets
        the policy choose.
    pooled : bool or "auto"
        ``True`` runs the pooled tests at any number of pairs, ``False`` never, and
        ``"auto"`` from :data:`POOLED_MIN_PAIRS` pairs on.
    independence_tests : bool
        Also show :data:`INDEPENDENCE_TESTS` when the pairs are clustered.

    Returns
    -------
    PooledPlan

    Notes
    -----
    Policy with ``tests=None``: pairs that are not clustered (all event dates more
    than a window's length apart in business days; pairs without a known event date,
    NaT, as from :func:`~oilimpact.eventstudy.models.fit_panel` without dates, do not count
    as clustered here, though the KP adjustment treats them as one cluster) get every
    test of
    :data:`WINDOW_TESTS`; clustered pairs get :data:`CLUSTER_ROBUST_TESTS`, plus
    :data:`INDEPENDENCE_TESTS` (noted :data:`INDEPENDENCE_NOTE`) only with
    ``independence_tests=True``. ``grank`` is run for clustered pairs only when named:
    its size in the one-date simulation (``docs/methods-crosssection.md``) leaves
    [3%, 7%].

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from oilimpact.eventstudy.panel import AbnormalPanel
    >>> panel = AbnormalPanel(
    ...     ids=pd.MultiIndex.from_product([["e"], ["brent", "wti"]], names=["event", "asset"]),
    ...     est_resid=np.zeros((2, 5)), n_est=np.full(2, 5), n_params=0,
    ...     sigma2=np.ones(2), event_days=np.arange(2), event_ar=np.zeros((2, 2)),
    ...     pe_cov=np.broadcast_to(np.eye(2), (2, 2, 2)),
    ...     event_dates=np.full(2, np.datetime64("2025-12-17", "ns")))
    >>> print(pooled_plan(panel, [(0, 1)]).notes[0])
    pooled tests not run: 2 pairs, fewer than 10 (pooled='auto'); pass pooled=True to run them
    """
    if pooled not in (True, False, "auto"):
        raise ValueError(f"pooled must be True, False or 'auto', got {pooled!r}")
    n = int(panel.n_pairs)
    explicit = tests is not None
    chosen = _check_tests(WINDOW_TESTS if tests is None else tests, WINDOW_TESTS)
    spans = [int(hi) - int(lo) for lo, hi in windows]
    span = max(spans, default=0)
    inv, n_groups = _overlap_clusters(panel.event_dates, span)
    known = ~np.isnat(np.asarray(panel.event_dates).astype("datetime64[D]").ravel())
    clustered = bool(known.sum() >= 2 and np.bincount(inv[known]).max() >= 2)
    if pooled is False or (pooled == "auto" and n < POOLED_MIN_PAIRS):
        why = "pooled=False" if pooled is False else "pooled='auto'"
        extra = "" if pooled is False else f", fewer than {POOLED_MIN_PAIRS}"
        note = (
            f"pooled tests not run: {n} pair{'s' * (n != 1)}{extra} ({why}); "
            "pass pooled=True to run them"
        )
        return PooledPlan(False, clustered, n, [], [], [note])
    notes: list[str] = []
    hidden: list[str] = []
    if clustered and not explicit:
        keep = set(CLUSTER_ROBUST_TESTS) | (
            set(INDEPENDENCE_TESTS) if independence_tests else set()
        )
        hidden = [t for t in chosen if t not in keep]
        chosen = [t for t in chosen if t in keep]
        indep = [t for t in hidden if t in INDEPENDENCE_TESTS]
        other = [t for t in hidden if t not in INDEPENDENCE_TESTS]
        if indep:
            notes.append(
                f"pairs share event dates (or windows overlap in calendar time): not shown, "
                f"as they assume independent pairs: {', '.join(indep)} "
                "(independence_tests=True shows them, labelled)"
            )
        for t in other:
            notes.append(
                f"not shown by default for clustered pairs: {_HIDDEN_WHY.get(t, t)} "
                "(name it in tests= to run it)"
            )
    if clustered and any(t in INDEPENDENCE_TESTS for t in chosen):
        notes.append(f"rows with assumes_independence: {INDEPENDENCE_NOTE}")
    if n < POOLED_MIN_PAIRS:
        notes.append(f"pooled tests forced on {n} pairs (pooled=True)")
    return PooledPlan(True, clustered, n, chosen, hidden, notes)


def _attach(frame: pd.DataFrame, plan: PooledPlan) -> pd.DataFrame:
    """The plan's notes and decisions in ``frame.attrs`` (for the engine to print)."""
    frame.attrs["notes"] = list(plan.notes)
    frame.attrs["pooled"] = {
        "run": plan.run,
        "clustered": plan.clustered,
        "n_pairs": plan.n_pairs,
        "min_pairs": POOLED_MIN_PAIRS,
        "hidden": list(plan.hidden),
    }
    return frame


def _sign_pvalue(stat: float, w: float, n: int, prob: float, exact: bool) -> tuple[float, str]:
    """Two-sided p-value of a sign test with ``w`` of ``n`` positive, success
    probability ``prob``, and a note on the method: the exact binomial
    (``scipy.stats.binomtest``, two-sided by the likelihood ordering of its outcomes)
    below :data:`SIGN_EXACT_BELOW` pairs when ``exact``, the normal approximation of the
    z statistic ``stat`` otherwise."""
    if exact and 0 < n < SIGN_EXACT_BELOW and 0.0 < prob < 1.0:
        pv = float(stats.binomtest(int(round(w)), int(n), float(prob)).pvalue)
        return pv, f"exact binomial p-value (n = {n} < {SIGN_EXACT_BELOW})"
    return float(_pvalue_normal(stat)), ""


def _nan_reason(name: str, n: int, known: str) -> str:
    """Why a test's statistic or p-value is NaN (never a bare NaN)."""
    if known:
        return ""
    if n == 0:
        return "no pair has an abnormal return on every day of the window"
    if name == "grank" and n < GRANK_MIN_PAIRS:
        return f"GRANK needs {GRANK_MIN_PAIRS} pairs, got {n}"
    if name in ("cross_sectional_t", "bmp", "adjusted_bmp") and n < 2:
        return f"needs 2 pairs for a cross-sectional sd, got {n}"
    return "statistic undefined: its scale is 0 or missing for these pairs"
