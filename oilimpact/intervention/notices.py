"""What the reader of an intervention fit should know: warning classes and their messages.

The steps of :func:`~oilimpact.intervention.analysis.intervention` collect
``(class, message)`` pairs; the result keeps the messages (``result.warnings``) and
the class names (``result.warning_classes``), and the call raises each as a Python
warning once the fit is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from scipy import stats

if TYPE_CHECKING:  # pragma: no cover
    from .fit import Fit

__all__ = [
    "CloseEventsWarning",
    "Collected",
    "InterventionWarning",
    "PlaceboWarning",
    "fit_warnings",
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


def fit_warnings(fit: Fit, freq: str, df_floor: float, name: str, rho_max: float) -> Collected:
    """Dropped terms, a floored Satterthwaite df, a prewhitening AR(1) at its bound ``rho_max``."""
    out: Collected = []
    for col in fit.dropped:
        ev, term = col.split("|")
        out.append(
            (
                InterventionWarning,
                f"term '{term}' of event {ev} is not identified with the observed {freq} "
                "data (too few observed periods before the next event or the end of the "
                "sample) and was dropped",
            )
        )
    if fit.cov_type != "hac-prewhiten" or fit.rho is None:
        return out
    at_bound = abs(fit.rho) >= rho_max - 1e-9
    if fit.df_raw is not None and fit.df_raw < df_floor:
        out.append(
            (
                InterventionWarning,
                f"{name}: the residuals are close to a random walk (bias-corrected AR(1) "
                f"{fit.rho:.2f}{', at its bound' if at_bound else ''}); the Satterthwaite "
                f"degrees of freedom {fit.df_raw:.2f} were raised to the floor {df_floor:g}, "
                f"so intervals are +-{stats.t.ppf(0.975, df_floor):.2f} standard errors at "
                "95%: the change is weakly identified, read the placebo p-value beside it",
            )
        )
    elif at_bound:
        out.append(
            (
                InterventionWarning,
                f"{name}: the bias-corrected residual AR(1) reached its bound "
                f"{rho_max}: the residuals are close to a random walk and the "
                "standard errors rest on that bound; read the placebo p-value beside them",
            )
        )
    return out


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
