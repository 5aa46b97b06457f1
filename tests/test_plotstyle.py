"""The shared figure style: neutral imports, labels, bands, grid, CAR figures, Summary."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from oilimpact import plotstyle
from oilimpact.summary import Summary, fmt_num


def _path(shift: float = 0.0) -> pd.DataFrame:
    day = np.arange(-2, 6)
    car = np.cumsum(np.full(day.size, 0.004)) + shift
    return pd.DataFrame({"day": day, "car": car, "lower": car - 0.01, "upper": car + 0.01})


def test_module_imports_no_report_sources_or_store():
    code = (
        "import sys, oilimpact.plotstyle, oilimpact.summary; "
        "bad = [m for m in sys.modules if m.startswith(('oilimpact.report', "
        "'oilimpact.sources', 'oilimpact.store'))]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_series_label_short_registry_and_fallback():
    assert plotstyle.series_label("brent") == "Brent"
    assert plotstyle.series_label("us_exports_ve_value") == "US exports to Venezuela, value (FOB)"
    assert plotstyle.series_label("tnk") == "Teekay Tankers (TNK)"
    assert plotstyle.series_label("not_a_series") == "not_a_series"
    assert plotstyle.label_map(["brent", "x"], {"x": "Mine"}) == {"brent": "Brent", "x": "Mine"}


def test_band_name_says_what_the_band_is():
    assert plotstyle.band_name(0.05) == "95% prediction-error band"
    assert plotstyle.band_name(0.1, "confidence") == "90% confidence band"


def test_grid_domains_do_not_overlap():
    layout, refs = plotstyle.grid(5, 3, list("abcde"), hgap=0.06, vgap=0.2)
    assert refs[4] == ("x5", "y5")
    doms = [layout[f"xaxis{'' if i == 0 else i + 1}"]["domain"] for i in range(3)]
    assert all(a[1] < b[0] for a, b in zip(doms, doms[1:], strict=False))
    assert layout["yaxis4"]["domain"][1] < layout["yaxis"]["domain"][0]


def test_car_figure_single_panel():
    fig = plotstyle.car_figure([("Brent", _path())], alpha=0.05, title="t")
    assert [t.name for t in fig.data] == ["95% prediction-error band"] * 2 + ["CAR"]
    assert fig.data[1].fill == "tonexty" and fig.data[0].showlegend is False
    assert fig.layout.yaxis.tickformat == ".1%"
    assert fig.layout.yaxis.title.text == "CAR, %"
    assert fig.layout.xaxis.title.text == "trading days from day 0"
    assert fig.layout.legend.yref == "container"  # clear of every panel's ticks
    kinds = sorted((s.x0, s.y0) for s in fig.layout.shapes)
    assert kinds == [(0, 0), (0, 0)] and {s.line.dash for s in fig.layout.shapes} == {None, "dot"}


def test_car_figure_small_multiples_axis_titles_once_per_row_and_column():
    panels = [(n, _path(i / 100)) for i, n in enumerate("abcde")]
    fig = plotstyle.car_figure(panels, cols=3)
    ytitles = [k for k in fig.layout if k.startswith("yaxis") and fig.layout[k].title.text]
    xtitles = [k for k in fig.layout if k.startswith("xaxis") and fig.layout[k].title.text]
    assert sorted(ytitles) == ["yaxis", "yaxis4"]  # left column
    assert sorted(xtitles) == ["xaxis3", "xaxis4", "xaxis5"]  # bottom of each column
    legend = [t.name for t in fig.data if t.showlegend]
    assert legend == ["95% prediction-error band", "CAR"]  # once, not per panel


def test_car_figure_overlay_has_one_line_per_series_and_no_band():
    fig = plotstyle.car_figure([("around e", [("Brent", _path()), ("WTI", _path(0.01))])])
    assert [t.name for t in fig.data] == ["Brent", "WTI"]
    assert fig.data[0].line.color != fig.data[1].line.color
    assert not any(t.fill for t in fig.data)


def test_style_applies_the_shared_layout():
    import plotly.graph_objects as go

    fig = plotstyle.style(go.Figure(), height=300, title="x")
    assert fig.layout.height == 300 and fig.layout.font.family == plotstyle.FONT
    assert list(fig.layout.colorway) == plotstyle.COLORWAY


def test_report_figures_use_the_shared_style():
    from oilimpact.report import figures

    assert figures.COLORS is plotstyle.COLORS and figures.LAYOUT is plotstyle.LAYOUT
    assert figures.plot_text is plotstyle.plot_text and figures.style is plotstyle.style


def test_fmt_num_never_prints_long_decimals():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1, 200) * 10.0 ** rng.integers(-12, 12, 200),
                             [np.pi, 1 / 3, 2 / 3 * 1e-7, 123456789.123]])  # fmt: skip
    for v in values:
        text = fmt_num(float(v))
        digits = text.split("e")[0].split(".")
        assert len(digits) == 1 or len(digits[1]) <= 6, text
        if "e" not in text:
            np.testing.assert_allclose(float(text.replace(",", "")), v, rtol=1e-3, atol=5e-7)


def test_summary_text_html_and_str_compat():
    s = Summary("T <b>")
    s.add_text(["line & more"], heading="Head")
    s.add_table(pd.DataFrame({"a": ["<x>"], "b": ["1"]}), caption="Tab")
    s.add_notes(["n1"])
    html = s.as_html()
    assert "<table" in html and "<caption>Tab</caption>" in html
    assert "&lt;x&gt;" in html and "T &lt;b&gt;" in html and "line &amp; more" in html
    assert s.tables[0].equals(pd.DataFrame({"a": ["<x>"], "b": ["1"]}))
    text = str(s)
    assert text.splitlines()[:2] == ["T <b>", "====="] and "  - n1" in text
    assert "Head:" in s and s == text and s != "other"


@pytest.mark.skipif(
    importlib.util.find_spec("kaleido") is None
    or not (shutil.which("chromium") or shutil.which("google-chrome")),
    reason="static export needs kaleido and a Chrome/Chromium",
)
def test_car_figure_static_export(tmp_path):
    fig = plotstyle.car_figure([("Brent", _path())])
    fig.write_image(tmp_path / "car.svg")
    svg = (tmp_path / "car.svg").read_text()
    assert svg.startswith("<svg") and "CAR, %" in svg and "prediction-error band" in svg


_STYLED_FIGURE_JSON = """
import hashlib
import plotly.graph_objects as go
from oilimpact.plotstyle import style
fig = go.Figure(go.Scatter(x=[1, 2], y=[0, 1]))
fig.update_layout(yaxis2={"overlaying": "y", "side": "right"})
style(fig, title="t")
print(hashlib.sha256(fig.to_json().encode()).hexdigest())
"""


def test_style_gives_the_same_json_whatever_the_hash_seed():
    # iterating a plotly layout follows a set, whose order depends on PYTHONHASHSEED;
    # a styled figure (and so the brief's page) must not
    digests = set()
    for seed in ("1", "2", "3", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", _STYLED_FIGURE_JSON], env=env,
                             capture_output=True, text=True, check=True)  # fmt: skip
        digests.add(out.stdout.strip())
    assert len(digests) == 1
