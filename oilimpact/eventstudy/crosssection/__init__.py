"""Tests for many assets or events: daily AAR and multi-day CAAR statistics.

Every function here reads an :class:`~oilimpact.eventstudy.panel.AbnormalPanel` and returns a
tidy :class:`pandas.DataFrame`; nothing is re-estimated, so the functions are pure numpy
and vectorised over pairs (no Python loop over pairs; loops run over event-window days,
windows, or blocks of pairs). Each row of residuals is sorted once per panel, and the
panel-level pieces are reused by the next call on the same data (see "Implementation
and speed" in ``docs/methods-crosssection.md``).

Layout (one module per concern; each test's formula and reference sit in the Notes of
the function that computes it):

- :mod:`.policy`: which pooled tests run and are shown (:func:`pooled_plan`), the
  exact sign-test switch and the notes that replace bare NaNs;
- :mod:`.parametric`: cross-sectional t, Brown-Warner, Patell, BMP, Kolari-Pynnonen;
- :mod:`.sign`, :mod:`.rank`, :mod:`.grank`: the nonparametric families;
- :mod:`.rbar`: the calendar-date r-bar (:func:`calendar_rbar`);
- :mod:`.daily` (:func:`daily_tests`) and :mod:`.windows` (:func:`cross_sectional_tests`):
  the compositions;
- :mod:`.pieces`: the same window tests from per-chunk pieces (chunked execution);
- :mod:`._parts` and :mod:`._arrays`: the shared derived arrays and helpers.

Tests (the ``test`` column; formulas in ``docs/methods-crosssection.md``), each with its
reference law for the two-sided p-value:

- ``cross_sectional_t``: AAR over its cross-sectional standard error, t(n-1).
- ``brown_warner``: Brown-Warner crude dependence adjustment (sd of the
  estimation-window AAR series; estudy2's ``brown_warner_1985``), t(T-1).
- ``brown_warner_indep``: Brown-Warner under independence (estudy2's
  ``brown_warner_1980``), N(0, 1).
- ``patell``: Patell (1976) standardized residuals, PE-corrected, N(0, 1).
- ``bmp``: Boehmer-Musumeci-Poulsen (1991) standardized cross-sectional test, t(n-1).
- ``adjusted_patell``, ``adjusted_bmp``: Kolari-Pynnonen (2010) clustering
  adjustments with r-bar on calendar dates (:func:`calendar_rbar`), N(0, 1) and t(n-1).
- ``sign``: sign test with p = 1/2, exact binomial below :data:`SIGN_EXACT_BELOW`
  pairs, N(0, 1) from it on.
- ``generalized_sign``: Cowan (1992), the same switch with p-hat.
- ``rank``: Corrado (1989); Cowan (1992) over windows, N(0, 1).
- ``modified_rank``: Corrado-Zivney (1992) standardized ranks, N(0, 1).
- ``grank``: Kolari-Pynnonen (2011) generalized rank test, t(T-2); NaN with fewer than
  :data:`GRANK_MIN_PAIRS` pairs.

Which pooled tests :func:`cross_sectional_tests` runs and shows by default is decided
by :func:`pooled_plan`: none below :data:`POOLED_MIN_PAIRS` pairs unless asked, and for
pairs that share event dates only the tests valid under cross-sectional correlation
(:data:`CLUSTER_ROBUST_TESTS`); :data:`INDEPENDENCE_TESTS` on request, labelled.

Missing data: a day is tested on the pairs with an AR that day, and a window only on the
pairs with an AR on every day of it. Tests whose scale comes from the estimation window
(``brown_warner``, ``rank``, ``modified_rank``) take it from those same pairs (textbook
conventions), so a thin day or window is not judged against the full panel's scale.

``panel.conventions`` selects ``"textbook"`` (the papers) or ``"estudy2"`` (the R package
estudy2 0.10) where the two disagree at test level; the model-level differences (residual
variance divisor, prediction-error correction) are already in the panel.
"""

from __future__ import annotations

from ..panel import _STORES  # noqa: F401 (the panel-level cache the tests clear)
from ._arrays import _sort_rows, _sort_rows_compiled  # noqa: F401 (compared in tests)
from ._parts import _Parts  # noqa: F401 (intermediates compared in tests)
from .daily import daily_tests
from .grank import GRANK_MIN_PAIRS
from .parametric import residual_correlation
from .pieces import (
    CrossSectionPieces,
    combine_pieces,
    cross_section_pieces,
    grank_scale,
    plan_from_pieces,
    tests_from_pieces,
)
from .policy import (
    CLUSTER_ROBUST_TESTS,
    DAILY_TESTS,
    INDEPENDENCE_NOTE,
    INDEPENDENCE_TESTS,
    POOLED_MIN_PAIRS,
    SIGN_EXACT_BELOW,
    WINDOW_COLUMNS,
    WINDOW_TESTS,
    PooledPlan,
    pooled_plan,
)
from .rbar import RBAR_MIN_OVERLAP, RBAR_PAIRWISE_MAX, RBar, calendar_rbar
from .windows import cross_sectional_tests

__all__ = [
    "CLUSTER_ROBUST_TESTS",
    "DAILY_TESTS",
    "GRANK_MIN_PAIRS",
    "INDEPENDENCE_NOTE",
    "INDEPENDENCE_TESTS",
    "POOLED_MIN_PAIRS",
    "RBAR_MIN_OVERLAP",
    "RBAR_PAIRWISE_MAX",
    "SIGN_EXACT_BELOW",
    "WINDOW_COLUMNS",
    "WINDOW_TESTS",
    "CrossSectionPieces",
    "PooledPlan",
    "RBar",
    "calendar_rbar",
    "combine_pieces",
    "cross_section_pieces",
    "cross_sectional_tests",
    "daily_tests",
    "grank_scale",
    "plan_from_pieces",
    "pooled_plan",
    "residual_correlation",
    "tests_from_pieces",
]
