"""Plotly figures of the weekly brief, in one lean, offline-safe style.

Every function takes frames or result values and returns a
:class:`plotly.graph_objects.Figure`; nothing here reads files or the network. Figures
are assembled as plain dicts and validated once (plotly's per-call ``update_*`` and
``make_subplots`` cost seconds for a page of small multiples).

:func:`figure_html` turns a figure into what the brief embeds: an empty ``<div>`` with a
caller-chosen deterministic id and the figure's JSON (numbers rounded to six significant
digits, dates as ISO days) in a ``<script type="application/json">``, so the bytes stay
small and identical from run to run. The page carries plotly.js once, gzip-compressed
(:func:`plotlyjs_payload`, about 1.9 MB instead of 4.8 MB), and one small script
(:data:`LOADER_JS`) that unpacks it in the browser and draws every figure.

Examples
--------
>>> import pandas as pd
>>> from oilimpact.report.figures import figure_html, sparklines
>>> s = pd.Series([70.0, 71.5, 69.9], index=pd.date_range("2025-12-15", periods=3))
>>> fig = sparklines({"brent": s}, labels={"brent": "Brent (USD/bbl)"})
>>> html = figure_html(fig, "fig-test")
>>> 'id="fig-test"' in html and "cdn.plot.ly" not in html
True
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .. import plotstyle

__all__ = [
    "COLORS",
    "LAYOUT",
    "car_paths",
    "synth_paths",
    "counterfactual",
    "figure_html",
    "LOADER_JS",
    "plot_text",
    "plotlyjs_payload",
    "sparklines",
    "style",
]

#: Colours, layout and style of every figure: the shared ones of :mod:`oilimpact.plotstyle`
#: (re-exported here for the brief's modules).
COLORS = plotstyle.COLORS
LAYOUT = plotstyle.LAYOUT
plot_text = plotstyle.plot_text
style = plotstyle.style

#: plotly config of every figure: no modebar (it covered legends and panel titles; drag
#: still zooms and a double click resets), no logo.
_CONFIG: dict[str, Any] = {
    "displayModeBar": False,
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["toImage", "select2d", "lasso2d"],
}
_SIG_DIGITS = 6


def _grid(
    n: int, cols: int, titles: Sequence[str], *, hgap: float, vgap: float
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Layout axes and title annotations of an ``n``-panel grid (:func:`plotstyle.grid`)."""
    return plotstyle.grid(n, cols, titles, hgap=hgap, vgap=vgap)


def sparklines(
    series: Mapping[str, pd.Series],
    *,
    labels: Mapping[str, str] | None = None,
    cols: int = 5,
    points: int = 66,
) -> go.Figure:
    """Small multiples: one sparkline per series, the last ``points`` observations.

    Each panel is green when the series ended above where the panel starts, orange
    otherwise, and titled with its label; hover shows the date and value.

    Parameters
    ----------
    series : Mapping[str, pandas.Series]
        Name -> series on a DatetimeIndex, in display order (empty ones are skipped).
    labels : Mapping[str, str], optional
        Panel titles (plain text; escaped here); default the names.
    cols : int
        Panels per row.
    points : int
        Observations per panel (about three months of sessions by default).
    """
    names = [n for n, s in series.items() if s.dropna().size]
    labels = dict(labels or {})
    rows = max(1, math.ceil(len(names) / cols))
    layout, refs = _grid(
        len(names),
        cols,
        [plot_text(labels.get(n, n)) for n in names],
        hgap=0.04,
        vgap=0.45 / rows,
    )
    data = []
    for name, (xref, yref) in zip(names, refs, strict=True):
        s = series[name].dropna().iloc[-points:]
        rising = bool(s.iloc[-1] >= s.iloc[0])
        data.append(
            {
                "type": "scatter",
                "x": s.index,
                "y": s.to_numpy(),
                "mode": "lines",
                "name": name,
                "xaxis": xref,
                "yaxis": yref,
                "line": {"width": 1.5, "color": COLORS["up"] if rising else COLORS["down"]},
                "showlegend": False,
                "hovertemplate": "%{x|%Y-%m-%d}: %{y:.4g}<extra>" + plot_text(name) + "</extra>",
            }
        )
        for ax, extra in ((xref, {"nticks": 3, "tickformat": "%b %d"}), (yref, {"nticks": 3})):
            key = ax[0] + "axis" + ax[1:]
            layout[key].update({"showgrid": False, "tickfont": {"size": 9}, **extra})
    layout.update(
        {**LAYOUT, "height": 140 * rows + 40, "margin": {"l": 40, "r": 10, "t": 30, "b": 20}}
    )
    return go.Figure({"data": data, "layout": layout})


def car_paths(
    pairs: Sequence[tuple[str, Any]],
    event: str,
    *,
    labels: Mapping[str, str] | None = None,
    alpha: float = 0.05,
    title: str | None = None,
    cols: int = 3,
) -> go.Figure:
    """CAR paths with their confidence bands, one panel per series, for one event.

    Each panel shows ``result.car_path(event, series, alpha)`` of
    :class:`oilimpact.eventstudy.result.EventStudyResult`, the same path and
    prediction-error band that ``result.plot(event, series, alpha)`` draws for one pair,
    with a zero line and a dotted line at day 0.

    Parameters
    ----------
    pairs : sequence of (series name, EventStudyResult)
        The series to show and the result holding its (event, series) pair.
    event : str
    labels : Mapping[str, str], optional
        Panel titles (plain text; escaped here).
    alpha : float
        1 - level of the band.
    title : str, optional
        Figure title, already escaped for plotly (see :func:`plot_text`).
    cols : int
        Panels per row.
    """
    labels = dict(labels or {})
    panels = [(labels.get(n, n), result.car_path(event, n, alpha)) for n, result in pairs]
    return plotstyle.car_figure(panels, alpha=alpha, title=title, cols=cols)


def counterfactual(result: Any, *, title: str | None = None) -> go.Figure:
    """Actual vs counterfactual of an intervention fit: ``result.plot()`` at the brief's
    height (the shared style of :mod:`oilimpact.plotstyle`; the band for the
    counterfactual mean and the prediction band for a single period are both drawn and
    named as such).

    Parameters
    ----------
    result : oilimpact.intervention.result.InterventionResult
    title : str, optional
        Already escaped for plotly (:func:`plot_text`).
    """
    fig = result.plot(title=title, height=340)
    fig.update_layout(margin={"b": 110})
    return fig


def synth_paths(result: Any, *, title: str | None = None, label: str | None = None) -> go.Figure:
    """Treated vs synthetic and the gap with placebo gaps: ``result.plot()`` at the
    brief's height.

    Parameters
    ----------
    result : oilimpact.synth.SynthResult
    title : str, optional
        Plain text (``SynthResult.plot`` escapes it for plotly).
    label : str, optional
        Display name of the treated series for the top axis (plain text).
    """
    fig = result.plot(title=title)
    u = f" ({result.unit})" if result.unit else ""
    if label:
        fig.update_yaxes(title_text=plotstyle.plot_text(f"{label}{u}"), row=1, col=1)
    fig.update_layout(height=420, margin={"t": 70, "b": 50})
    return fig


def _round_array(values: Any) -> Any:
    """Numbers to ``_SIG_DIGITS`` significant digits (NaN -> None); dates to ISO days."""
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        idx = pd.DatetimeIndex(arr.ravel())
        fmt = "%Y-%m-%d" if (idx[idx.notna()] == idx[idx.notna()].normalize()).all() else None
        return [None if pd.isna(x) else (x.strftime(fmt) if fmt else x.isoformat()) for x in idx]
    if arr.dtype.kind in "fiu":
        arr = arr.astype(float).ravel()
        finite = np.isfinite(arr)
        with np.errstate(divide="ignore", invalid="ignore"):
            mag = np.where(finite & (arr != 0), np.floor(np.log10(np.abs(arr))), 0)
        decimals = np.clip(_SIG_DIGITS - 1 - mag, 0, 15).astype(int)
        return [
            round(float(x), int(d)) if ok else None
            for x, d, ok in zip(arr, decimals, finite, strict=True)
        ]
    if arr.dtype.kind == "O" and arr.size and all(isinstance(x, pd.Timestamp) for x in arr.ravel()):
        return _round_array(pd.DatetimeIndex(arr.ravel()).to_numpy())
    return values


def _lean(fig: go.Figure) -> dict[str, Any]:
    """The figure as a plain dict with rounded numbers and ISO dates in x/y arrays."""
    spec = fig.to_plotly_json()
    for trace in spec.get("data", []):
        for key in ("x", "y"):
            values = trace.get(key)
            if values is not None and not isinstance(values, str):
                trace[key] = _round_array(values)
    return spec


def figure_html(fig: go.Figure, div_id: str, *, config: Mapping[str, Any] | None = None) -> str:
    """The ``<div>`` of one figure and its JSON, without plotly.js, with a fixed id.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
    div_id : str
        The element id; unique in the page and deterministic (``"fig-car-blockade"``),
        so the same inputs give the same bytes (plotly draws a random id otherwise).
    config : mapping, optional
        plotly config entries on top of the brief's (e.g. ``{"displayModeBar": False}``).

    Returns
    -------
    str
        HTML fragment: ``<div id=div_id class="plotly-graph-div">`` and a
        ``<script type="application/json" data-plotly-figure=div_id>`` holding
        ``{"data", "layout", "config"}``; :data:`LOADER_JS` draws it. ``<``, ``>`` and
        ``&`` are written as JSON escapes, so no text in the data can end the script.
    """
    from plotly.utils import PlotlyJSONEncoder

    spec = _lean(fig)
    height = int(spec.get("layout", {}).get("height") or 360)
    payload = {
        "data": spec.get("data", []),
        "layout": spec.get("layout", {}),
        "config": {**_CONFIG, **dict(config or {})},
    }
    text = json.dumps(payload, cls=PlotlyJSONEncoder, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (
        f'<div id="{div_id}" class="plotly-graph-div" style="height:{height}px; width:100%;">'
        f"</div>\n"
        f'<script type="application/json" data-plotly-figure="{div_id}">{text}</script>'
    )


@functools.lru_cache(maxsize=1)
def plotlyjs_payload() -> str:
    """plotly.js of the installed plotly package, gzip-compressed and base64-encoded.

    Deterministic (gzip header time 0), so the page stays byte-identical. The browser
    unpacks it with ``DecompressionStream("gzip")`` (Chromium 80+, Firefox 113+,
    Safari 16.4+); nothing is fetched from another host.

    Examples
    --------
    >>> import base64, gzip, plotly.offline
    >>> gzip.decompress(base64.b64decode(plotlyjs_payload())).decode() == \\
    ...     plotly.offline.get_plotlyjs()
    True
    """
    import plotly.offline

    raw = plotly.offline.get_plotlyjs().encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


#: The page's one script: unpack plotly.js from ``#oilimpact-plotlyjs`` and draw every
#: ``script[data-plotly-figure]``; if the browser cannot, say so above the first figure.
LOADER_JS = """(function () {
  function note(msg) {
    var p = document.createElement("p");
    p.className = "figure-error";
    p.textContent = "The charts could not be drawn in this browser (" + msg +
      "); every number is in the tables, results.json and the CSV files.";
    var first = document.querySelector(".plotly-graph-div");
    if (first && first.parentNode) { first.parentNode.insertBefore(p, first); }
  }
  function draw() {
    var specs = document.querySelectorAll("script[data-plotly-figure]");
    for (var i = 0; i < specs.length; i++) {
      var el = specs[i];
      var div = document.getElementById(el.getAttribute("data-plotly-figure"));
      var spec = JSON.parse(el.textContent);
      if (div) { window.Plotly.newPlot(div, spec.data, spec.layout, spec.config); }
    }
  }
  try {
    var holder = document.getElementById("oilimpact-plotlyjs");
    var bin = atob(holder.textContent.trim());
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    new Response(stream).blob().then(function (js) {
      var s = document.createElement("script");
      s.src = URL.createObjectURL(new Blob([js], {type: "text/javascript"}));
      s.onload = draw;
      s.onerror = function () { note("plotly.js did not load"); };
      document.head.appendChild(s);
    }, function (err) { note(String(err)); });
  } catch (err) {
    note(String(err));
  }
})();"""
