"""The figure of an intervention result: actual vs counterfactual with its bands.

Drawn in the shared style of :mod:`oilimpact.plotstyle`; called by
:meth:`~oilimpact.intervention.result.InterventionResult.plot`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import plotstyle

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

#: An :class:`~oilimpact.intervention.result.InterventionResult` (not imported here:
#: result.py imports this module).
InterventionResult = Any

__all__ = ["intervention_figure"]


def intervention_figure(
    result: InterventionResult, *, title: str | None, prediction_band: bool, height: int
) -> go.Figure:
    """The figure of :meth:`InterventionResult.plot <oilimpact.intervention.result.InterventionResult.plot>`."""
    import plotly.graph_objects as go

    sp = result.spec
    data = _band_traces(result, prediction_band) + _line_traces(result.path)
    shapes, notes = _event_marks(sp.events)
    label = plotstyle.series_label(sp.series)
    unit = f", {sp.unit}" if sp.unit else ""
    fig = go.Figure({"data": data, "layout": {"shapes": shapes, "annotations": notes}})
    plotstyle.style(
        fig,
        height=height,
        title=title or plotstyle.plot_text(f"{label}: actual vs counterfactual"),
    )
    fig.update_layout(
        yaxis_title={"text": plotstyle.plot_text(f"{label}{unit}"), "font": {"size": 11}},
        xaxis_title={"text": "date", "font": {"size": 11}},
        legend={"orientation": "h", "x": 0, "y": -0.2, "yanchor": "top"},
        margin={"b": 110},
    )
    return fig


def _band_traces(result: InterventionResult, prediction_band: bool) -> list[dict[str, Any]]:
    """The prediction band for a single period (segmented) and the band of the mean."""
    p, sp = result.path, result.spec
    level = f"{100 * (1 - sp.alpha):g}%"
    data: list[dict[str, Any]] = []
    if sp.model == "segmented":
        if prediction_band:
            pb = result.prediction_band()
            ok = pb["lower"].notna().to_numpy() & pb["upper"].notna().to_numpy()
            xs = pd.DatetimeIndex(pb["date"])[ok]
            data.append(
                {
                    "type": "scatter",
                    "x": list(xs) + list(xs[::-1]),
                    "y": list(pb["upper"].to_numpy()[ok]) + list(pb["lower"].to_numpy()[ok][::-1]),
                    "fill": "toself",
                    "fillcolor": plotstyle.COLORS["band_wide"],
                    "line": {"width": 0},
                    "mode": "lines",
                    "hoverinfo": "skip",
                    "name": f"{level} prediction band for a single period "
                    "(mean band plus residual variance)",
                    "legendgroup": "prediction",
                }
            )
        band = f"{level} confidence band for the mean of the counterfactual"
    else:
        band = f"{level} prediction interval of the counterfactual"
    data += plotstyle.band_traces(p["date"], p["cf_lower"], p["cf_upper"], band, group="band")
    return data


def _line_traces(p: pd.DataFrame) -> list[dict[str, Any]]:
    """Counterfactual, fitted and actual lines."""
    lines = (  # column, mode, line style
        ("counterfactual", "lines", {"dash": "dash", "color": plotstyle.COLORS["line"]}),
        ("fitted", "lines", {"dash": "dot", "color": plotstyle.COLORS["muted"]}),
        ("actual", "lines+markers", {"color": plotstyle.COLORS["actual"]}),
    )
    return [
        {
            "type": "scatter",
            "x": p["date"],
            "y": p[column],
            "mode": mode,
            "name": column,
            "line": line,
            "marker": {"size": 4},
        }  # fmt: skip
        for column, mode, line in lines
    ]


def _event_marks(events: Any) -> tuple[list[Any], list[dict[str, Any]]]:
    """A dotted vertical line and a label at each event date."""
    shapes, notes = [], []
    for ev, date, _period_start in events:
        shapes.append(plotstyle.day0_shape("x", "y", x=date, name=str(ev)))
        notes.append(
            {
                "x": date,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "showarrow": False,
                "text": plotstyle.plot_text(str(ev)),
                "yanchor": "bottom",
                "textangle": -90 if len(events) > 2 else 0,
            }  # fmt: skip
        )
    return shapes, notes
