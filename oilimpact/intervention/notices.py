"""What the reader of an intervention fit should know: warning classes and their messages.

The steps of :func:`~oilimpact.intervention.analysis.intervention` collect
``(class, message)`` pairs; the result keeps the messages (``result.warnings``) and
the class names (``result.warning_classes``), and the call raises each as a Python
warning once the fit is done.
"""

from __future__ import annotations

import pandas as pd

__all__ = [
    "CloseEventsWarning",
    "Collected",
    "InterventionWarning",
    "PlaceboWarning",
    "placebo_warnings",
]


class InterventionWarning(UserWarning):
    """Something about an intervention fit the reader should know (dropped terms, ...)."""


class CloseEventsWarning(InterventionWarning):
    """Two events fall in the same or adjacent periods: the frequency cannot separate them."""


class PlaceboWarning(InterventionWarning):
    """Too few placebo dates for the placebo p-value to reach ``alpha``."""


#: The warnings collected while an intervention is fitted: ``(class, message)``.
Collected = list[tuple[type[Warning], str]]


def placebo_warnings(
    plac: pd.DataFrame,
    name: str,
    min_pre: int,
    post_len: int,
    event_period: str,
    alpha: float,
) -> Collected:
    """No placebo date at all, or too few for the placebo p-value to reach ``alpha``.

    Examples
    --------
    >>> empty = pd.DataFrame(columns=["pseudo_date"])
    >>> placebo_warnings(empty, "s", 24, 6, "2025-12", 0.05)[0][1].split(":")[0]
    'no admissible placebo date for s'
    """
    n_dates = int(plac["pseudo_date"].nunique()) if len(plac) else 0
    if n_dates == 0:
        return [
            (
                PlaceboWarning,
                f"no admissible placebo date for {name}: each needs {min_pre} observed "
                f"periods before it and {post_len} periods after it before "
                f"{event_period}; placebo p-values are missing",
            )
        ]
    if 1.0 / (n_dates + 1) > alpha:
        return [
            (
                PlaceboWarning,
                f"only {n_dates} placebo dates for {name}: the smallest attainable placebo "
                f"p-value is 1/{n_dates + 1} = {1 / (n_dates + 1):.3f} > alpha={alpha}",
            )
        ]
    return []
