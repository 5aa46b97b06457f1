"""The Texas prison data (causaldata) in the shapes oilimpact.synth and pysyncon take.

Cunningham, *Causal Inference: The Mixtape* (2021), ch. 10: black male prisoners
(``bmprison``), treated Texas from 1993, pre-period 1985-1992, predictors as his
``synth`` call (income, ur, poverty averaged over 1985-1992; bmprison in 1988, 1990,
1991, 1992; alcohol 1990; aidscapita 1990, 1991; black 1990, 1991, 1992; perc1519 1990).
Mixtape's ``mspeperiod`` runs to 1993; here both packages use 1985-1992.
"""

from __future__ import annotations

import pandas as pd

PRE = list(range(1985, 1993))
SPECIAL = [("bmprison", 1988), ("bmprison", 1990), ("bmprison", 1991), ("bmprison", 1992),
           ("alcohol", 1990), ("aidscapita", 1990), ("aidscapita", 1991), ("black", 1990),
           ("black", 1991), ("black", 1992), ("perc1519", 1990)]


def year(y: int) -> pd.Timestamp:
    return pd.Timestamp(f"{y}-01-01")


def texas_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(raw causaldata frame, long panel with unit/date columns)."""
    from causaldata import texas

    raw = texas.load_pandas().data
    long = raw.rename(columns={"state": "unit"}).assign(date=raw["year"].map(year))
    return raw, long.drop(columns=["statefip", "year"])


def mixtape_predictors() -> list[tuple[str, object]]:
    preds: list[tuple[str, object]] = [("income", None), ("ur", None), ("poverty", None)]
    preds += [("outcome" if v == "bmprison" else v, year(y)) for v, y in SPECIAL]
    return preds


def pysyncon_dataprep(raw: pd.DataFrame, special, predictors=("income", "ur", "poverty"),
                      treated: str = "Texas", controls=None):
    from pysyncon import Dataprep

    controls = controls or sorted(set(raw["state"]) - {treated})
    return Dataprep(
        foo=raw, predictors=list(predictors), predictors_op="mean", time_predictors_prior=PRE,
        special_predictors=[(v, [y], "mean") for v, y in special], dependent="bmprison",
        unit_variable="state", time_variable="year", treatment_identifier=treated,
        controls_identifier=controls, time_optimize_ssr=PRE,
    )
