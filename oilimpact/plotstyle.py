"""One figure style for the analysis results and the weekly brief.

Colours, fonts, the shared plotly layout, series labels and the few building blocks
every oilimpact figure is made of (a grid of panels, a filled band, the zero and day-0
lines, a percent axis). :meth:`EventStudyResult.plot
<oilimpact.eventstudy.result.EventStudyResult.plot>`, :meth:`InterventionResult.plot
<oilimpact.intervention.result.InterventionResult.plot>` and
:mod:`oilimpact.report.figures` all draw with these, so a figure in a notebook looks
like the same figure in the brief.

The module is neutral: it imports plotly lazily and nothing from ``report/``,
``sources/`` or ``store``; figures are built as plain dicts (plotly's per-call
``update_*`` and ``make_subplots`` cost seconds for a page of small multiples) and
validated once by ``go.Figure``.

Units: the y values of a CAR figure stay fractions (machine values in the trace data)
and the axis shows them in percent (``tickformat=".1%"``), so hover and ticks read
``1.2%`` while ``fig.data`` keeps what ``res.car`` holds.

Examples
--------
>>> import pandas as pd
>>> from oilimpact.plotstyle import car_figure
>>> path = pd.DataFrame({"day": [-1, 0, 1], "car": [0.0, 0.01, 0.02],
...                      "lower": [-0.01, -0.005, 0.0], "upper": [0.01, 0.025, 0.04]})
>>> fig = car_figure([("Brent", path)], alpha=0.05)
>>> [t.name for t in fig.data if t.showlegend]
['95% prediction-error band', 'CAR']
>>> fig.layout.yaxis.title.text, fig.layout.xaxis.title.text
('CAR, %', 'trading days from day 0')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import plotly.graph_objects as go

__all__ = [
    "AXIS",
    "CAR_AXIS_TITLE",
    "COLORS",
    "COLORWAY",
    "DAY_AXIS_TITLE",
    "FONT",
    "LAYOUT",
    "LEGEND_TOP",
    "SHORT_LABELS",
    "band_name",
    "band_traces",
    "car_figure",
    "day0_shape",
    "grid",
    "plot_text",
    "series_label",
    "style",
    "zero_shape",
]

#: Colours (colour-blind-safe Okabe-Ito palette): rises, falls, the main line and its
#: bands (the darker for a band for the mean, the lighter for a prediction band).
COLORS: dict[str, str] = {
    "up": "#009E73",
    "down": "#D55E00",
    "line": "#0072B2",
    "band": "rgba(0,114,178,0.18)",
    "band_wide": "rgba(0,114,178,0.08)",
    "muted": "#7f7f7f",
    "event": "#000000",
    "actual": "#D55E00",
}
#: Trace colours in order (the same palette).
COLORWAY: list[str] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]
#: Font stack of every figure (system fonts: nothing is fetched).
FONT = "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"
#: Axis look (light grid, visible zero line).
AXIS: dict[str, Any] = {"gridcolor": "#eeeeee", "zerolinecolor": "#bbbbbb", "linecolor": "#888888"}

#: The layout every figure shares (instead of a ~6 kB plotly template).
LAYOUT: dict[str, Any] = {
    "template": {},
    "font": {"family": FONT, "size": 12, "color": "#1d1d1f"},
    "colorway": COLORWAY,
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "hovermode": "closest",
    "legend": {"orientation": "h", "y": -0.28, "yanchor": "top"},
    "margin": {"l": 60, "r": 20, "t": 50, "b": 70},
}

#: A legend in the title row, centred in container coordinates: clear of every axis, tick
#: label and panel title (small multiples), of the left-aligned title, and of plotly's
#: toolbar in the top-right corner (shown on hover in notebooks).
LEGEND_TOP: dict[str, Any] = {
    "orientation": "h",
    "x": 0.5,
    "xanchor": "center",
    "y": 1,
    "yanchor": "top",
    "yref": "container",
}

#: Axis titles of CAR figures.
CAR_AXIS_TITLE = "CAR, %"
DAY_AXIS_TITLE = "trading days from day 0"

#: Short display labels of the series oilimpact knows by name (figures and tables);
#: other names fall back to the registry's description (:func:`series_label`).
SHORT_LABELS: dict[str, str] = {
    "brent": "Brent",
    "wti": "WTI",
    "brent_wti": "Brent-WTI spread",
    "henry_hub": "Henry Hub gas",
    "vix": "VIX",
    "sp500": "S&P 500",
    "usd_broad": "Broad US dollar index",
    "xle": "XLE energy ETF",
    "cvx": "Chevron (CVX)",
    "fro": "Frontline (FRO)",
    "dht": "DHT Holdings (DHT)",
    "insw": "Intl Seaways (INSW)",
    "tnk": "Teekay Tankers (TNK)",
    "vlo": "Valero (VLO)",
    "mpc": "Marathon Petroleum (MPC)",
    "pbf": "PBF Energy (PBF)",
    "us_imports_ve_weekly": "US crude imports from Venezuela, weekly",
    "us_imports_ve_monthly": "US crude imports from Venezuela, monthly",
    "us_products_imports_ve_monthly": "US petroleum product imports from Venezuela",
    "ve_crude_production": "Venezuela crude production",
    "ve_liquids_production": "Venezuela liquids production",
    "us_imports_ve_value": "US imports from Venezuela, value (CIF)",
    "us_exports_ve_value": "US exports to Venezuela, value (FOB)",
}


def plot_text(text: str) -> str:
    """Escape ``text`` for a plotly title or label (plotly interprets a subset of HTML).

    Examples
    --------
    >>> plot_text("<script>x</script> & co")
    '&lt;script&gt;x&lt;/script&gt; &amp; co'
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def series_label(name: str, registry: Any = None) -> str:
    """Display label of a series: a short label, the registry's description, or the name.

    Parameters
    ----------
    name : str
    registry : oilimpact.series.SeriesRegistry, optional
        Where to look up names without a short label (default: the package registry).

    Examples
    --------
    >>> series_label("us_exports_ve_value"), series_label("my_series")
    ('US exports to Venezuela, value (FOB)', 'my_series')
    """
    if name in SHORT_LABELS:
        return SHORT_LABELS[name]
    if registry is None:
        try:
            from .series import default_registry

            registry = default_registry()
        except Exception:  # noqa: BLE001 - a label never fails a figure
            return str(name)
    try:
        if name in registry and registry[name].description:
            return str(registry[name].description)
    except Exception:  # noqa: BLE001
        pass
    return str(name)


def band_name(alpha: float, kind: str = "prediction-error") -> str:
    """Legend name of a ``1 - alpha`` band: ``"95% prediction-error band"``.

    Examples
    --------
    >>> band_name(0.1), band_name(0.05, "confidence band for the mean of")
    ('90% prediction-error band', '95% confidence band for the mean of')
    """
    level = f"{100 * (1 - alpha):g}%"
    return f"{level} {kind}" if kind.endswith(" of") else f"{level} {kind} band"


def style(fig: go.Figure, *, height: int = 360, title: str | None = None) -> go.Figure:
    """Apply the shared look to ``fig`` in place (layout, axes, fixed height).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
    height : int
        Height in pixels (a fixed height keeps a page's layout stable).
    title : str, optional
        Replaces the figure title; already escaped for plotly (:func:`plot_text`).
    """
    # sorted: iterating a plotly layout follows a set, whose order changes with
    # PYTHONHASHSEED; the figure's JSON (and the page) must not
    names = sorted(k for k in fig.layout if k.startswith(("xaxis", "yaxis")))
    axes = {k: AXIS for k in names} or {
        "xaxis": AXIS,
        "yaxis": AXIS,
    }
    fig.update_layout({**LAYOUT, **axes, "height": height})
    if title is not None:
        fig.update_layout(title={"text": title, "x": 0.01, "xanchor": "left"})
    return fig


def grid(
    n: int, cols: int, titles: Sequence[str], *, hgap: float, vgap: float
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Axes and title annotations of an ``n``-panel grid, ``cols`` panels a row.

    Returns
    -------
    (dict, list of (str, str))
        The layout entries (``xaxis``, ``yaxis2``, ..., ``annotations``) and each
        panel's ``(xref, yref)`` (``("x", "y")``, ``("x2", "y2")``, ...).

    Examples
    --------
    >>> layout, refs = grid(3, 2, ["a", "b", "c"], hgap=0.1, vgap=0.2)
    >>> refs, layout["xaxis2"]["domain"], [a["text"] for a in layout["annotations"]]
    ([('x', 'y'), ('x2', 'y2'), ('x3', 'y3')], [0.55, 1.0], ['a', 'b', 'c'])
    """
    rows = max(1, math.ceil(n / cols))
    width = (1.0 - hgap * (cols - 1)) / cols
    height = (1.0 - vgap * (rows - 1)) / rows
    layout: dict[str, Any] = {"annotations": []}
    refs = []
    for i in range(n):
        r, c = divmod(i, cols)
        k = "" if i == 0 else str(i + 1)
        x0 = c * (width + hgap)
        y1 = 1.0 - r * (height + vgap)
        xdom = [round(max(x0, 0.0), 4), round(min(x0 + width, 1.0), 4)]
        ydom = [round(max(y1 - height, 0.0), 4), round(min(y1, 1.0), 4)]
        layout[f"xaxis{k}"] = {**AXIS, "domain": xdom, "anchor": f"y{k}"}
        layout[f"yaxis{k}"] = {**AXIS, "domain": ydom, "anchor": f"x{k}"}
        layout["annotations"].append(
            {
                "text": titles[i],
                "x": round(x0 + width / 2, 4),
                "y": round(y1, 4),
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11},
            }
        )
        refs.append((f"x{k}", f"y{k}"))
    return layout, refs


def band_traces(
    x: Any,
    lower: Any,
    upper: Any,
    name: str,
    *,
    xref: str = "x",
    yref: str = "y",
    color: str | None = None,
    showlegend: bool = True,
    group: str = "band",
) -> list[dict[str, Any]]:
    """A filled band as two scatter traces (upper edge, then lower filled ``tonexty``).

    Both traces carry ``name``; only the lower one shows in the legend, so the legend
    reads as one entry that names the band (never "band lower").
    """
    common = {"type": "scatter", "x": x, "xaxis": xref, "yaxis": yref, "mode": "lines",
              "line": {"width": 0}, "name": name, "legendgroup": group,
              "hoverinfo": "skip"}  # fmt: skip
    return [
        {**common, "y": upper, "showlegend": False},
        {
            **common,
            "y": lower,
            "fill": "tonexty",
            "fillcolor": color or COLORS["band"],
            "showlegend": showlegend,
        },  # fmt: skip
    ]


def zero_shape(xref: str = "x", yref: str = "y") -> dict[str, Any]:
    """A horizontal line at ``y = 0`` across the panel."""
    return {"type": "line", "xref": f"{xref} domain", "yref": yref, "x0": 0, "x1": 1,
            "y0": 0, "y1": 0, "line": {"color": COLORS["muted"], "width": 1}}  # fmt: skip


def day0_shape(xref: str = "x", yref: str = "y", x: Any = 0, name: str = "day 0") -> dict[str, Any]:
    """A dotted vertical line at ``x`` (day 0, or an event's date) over the panel."""
    return {"type": "line", "xref": xref, "yref": f"{yref} domain", "x0": x, "x1": x,
            "y0": 0, "y1": 1, "name": name,
            "line": {"color": COLORS["event"], "width": 1, "dash": "dot"}}  # fmt: skip


def car_figure(
    panels: Sequence[tuple[str, pd.DataFrame | Sequence[tuple[str, pd.DataFrame]]]],
    *,
    alpha: float = 0.05,
    title: str | None = None,
    cols: int = 3,
    band: str = "prediction-error",
) -> go.Figure:
    """CAR paths with their bands: one panel per entry, one or several lines a panel.

    Parameters
    ----------
    panels : sequence of (title, path) or (title, [(line name, path), ...])
        Panel titles are plain text (escaped here). A path is a frame with columns
        ``day, car, lower, upper`` (fractions), as
        :meth:`~oilimpact.eventstudy.result.EventStudyResult.car_path` returns it. A panel
        with one path draws its CAR line and band; a panel with several overlays their
        CAR lines (one colour each, named by the line names) and draws no band.
    alpha : float
        ``1 - alpha`` is the band's level (for its legend name).
    title : str, optional
        Figure title, already escaped (:func:`plot_text`).
    cols : int
        Panels a row.
    band : str
        What the band is (legend: ``"95% prediction-error band"``).

    Returns
    -------
    plotly.graph_objects.Figure
        Axis titles ``"CAR, %"`` (left column) and ``"trading days from day 0"``
        (bottom row), y ticks in percent, a zero line and a dotted day-0 line in each
        panel, the legend in the title row.
    """
    import plotly.graph_objects as go

    cols = max(1, cols)
    rows = max(1, math.ceil(len(panels) / cols))
    layout, refs = grid(len(panels), cols, [plot_text(t) for t, _ in panels],
                        hgap=0.06 if cols > 1 else 0.0, vgap=0.5 / (rows + 1))  # fmt: skip
    data: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    shown: set[str] = set()
    for i, ((label, content), (xref, yref)) in enumerate(zip(panels, refs, strict=True)):
        lines = list(content) if isinstance(content, list | tuple) else [("CAR", content)]
        single = len(lines) == 1
        for j, (line_name, path) in enumerate(lines):
            x = path["day"].to_numpy()
            if single:
                name = band_name(alpha, band)
                data += band_traces(x, path["lower"].to_numpy(), path["upper"].to_numpy(),
                                    name, xref=xref, yref=yref,
                                    showlegend=name not in shown)  # fmt: skip
                shown.add(name)
            color = COLORS["line"] if single else COLORWAY[j % len(COLORWAY)]
            data.append(
                {
                    "type": "scatter",
                    "x": x,
                    "y": path["car"].to_numpy(),
                    "xaxis": xref,
                    "yaxis": yref,
                    "mode": "lines+markers",
                    "line": {"color": color, "width": 2},
                    "marker": {"size": 4},
                    "name": line_name,
                    "legendgroup": line_name,
                    "showlegend": line_name not in shown,
                    "hovertemplate": "day %{x}: %{y:.2%}<extra>"
                    + plot_text(label if single else f"{label}: {line_name}")
                    + "</extra>",
                }  # fmt: skip
            )
            shown.add(line_name)
        shapes += [zero_shape(xref, yref), day0_shape(xref, yref)]
        ax = xref[1:]
        layout[f"yaxis{ax}"]["tickformat"] = ".1%"
        layout[f"xaxis{ax}"]["dtick"] = 2
        layout[f"xaxis{ax}"]["zeroline"] = False
        if i >= len(panels) - cols:  # bottom row: what the x axis counts
            layout[f"xaxis{ax}"]["title"] = {"text": DAY_AXIS_TITLE, "font": {"size": 10}}
        if i % cols == 0:  # left column: what the y axis measures
            layout[f"yaxis{ax}"]["title"] = {"text": CAR_AXIS_TITLE, "font": {"size": 10}}
    layout.update({**LAYOUT, "height": 220 * rows + 120, "shapes": shapes})
    layout["legend"] = dict(LEGEND_TOP)
    layout["margin"] = {**LAYOUT["margin"], "t": 60}
    if title is not None:
        layout["title"] = {"text": title, "x": 0.01, "xanchor": "left"}
    return go.Figure({"data": data, "layout": layout})


def label_map(names: Sequence[str], labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{name: label}``: ``labels`` where given, else :func:`series_label`."""
    labels = dict(labels or {})
    return {n: labels.get(n) or series_label(n) for n in names}
