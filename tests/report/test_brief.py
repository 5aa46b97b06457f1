"""The weekly brief on the demo data: numbers, determinism, offline safety, escaping."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from oilimpact.events import Event, load_catalog
from oilimpact.eventstudy.engine import event_study
from oilimpact.intervention.analysis import intervention
from oilimpact.report import BriefOptions, compute_brief, render_brief, write_brief
from oilimpact.report.brief import iso_week
from oilimpact.report.tables import format_value

MAX_BYTES = 6 * 1024 * 1024
AS_OF = dt.date(2026, 1, 9)  # the same as in conftest.py
GENERATED_AT = dt.datetime(2026, 1, 12, 6, 17, tzinfo=dt.UTC)


# ---- a tiny HTML reader ------------------------------------------------------------------
class _Page(HTMLParser):
    """Collects data tables (by data-table), sections, and every src/href attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.urls: list[tuple[str, str, str]] = []
        self.meta: dict[str, str] = {}
        self.sections: list[dict] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_head_cell = False
        self._section_depth = 0
        self._script_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href", "action", "poster", "data"):
            if a.get(key):
                self.urls.append((tag, key, a[key]))
        if tag == "meta" and a.get("name"):
            self.meta[a["name"]] = a.get("content", "")
        if tag == "section":
            self.sections.append({"id": a.get("id"), "banner": False})
        if tag == "div" and "synthetic-banner" in (a.get("class") or "") and self.sections:
            self.sections[-1]["banner"] = True
        if tag == "table" and a.get("data-table"):
            self.tables.append({"name": a["data-table"], "id": a.get("id"), "cols": [], "rows": []})
        if not self.tables:
            return
        t = self.tables[-1]
        if tag == "th" and "data-col" in a:
            t["cols"].append((a["data-col"], a.get("data-fmt", "text")))
        elif tag == "tr":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.tables[-1]["rows"].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def page(demo_brief):
    return _parse(demo_brief.html)


@pytest.fixture(scope="module")
def results(demo_brief):
    return json.loads(demo_brief.paths.json.read_text(encoding="utf-8"))


# ---- files ---------------------------------------------------------------------------------
def test_files_are_written_under_the_iso_week(demo_brief):
    assert iso_week(AS_OF) == "2026-W02"
    assert demo_brief.paths.dir.name == "2026-W02"
    assert demo_brief.paths.html.name == "brief.html"
    for name, path in demo_brief.paths.tables.items():
        assert path.exists() and path.name == f"{name}.csv"


def test_results_json_has_sorted_keys_and_no_nan(demo_brief, results):
    text = demo_brief.paths.json.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert text == json.dumps(results, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    assert results["meta"]["synthetic"] is True
    assert results["meta"]["week"] == "2026-W02"


# ---- every number shown is in results.json and the CSVs ------------------------------------
def test_html_tables_equal_results_json(page, results):
    by_name: dict[str, list] = {}
    cols_by_name: dict[str, list] = {}
    for t in page.tables:
        by_name.setdefault(t["name"], []).extend(t["rows"])
        cols_by_name.setdefault(t["name"], t["cols"])
    assert {"headline", "events", "car", "abnormal0", "interventions", "health"} <= set(by_name)
    for name, rows in by_name.items():
        cols = cols_by_name[name]
        expected = [
            [format_value(rec[key], fmt) for key, fmt in cols] for rec in results["tables"][name]
        ]
        assert Counter(map(tuple, rows)) == Counter(map(tuple, expected)), name
        assert all(len(r) == len(cols) for r in rows)


def test_csv_tables_equal_results_json(demo_brief, results):
    for name, path in demo_brief.paths.tables.items():
        records = results["tables"][name]
        csv = pd.read_csv(path, keep_default_na=False)
        assert len(csv) == len(records), name
        # a synthetic brief marks every CSV row, so a table opened on its own says so
        assert "synthetic" in csv.columns and set(csv["synthetic"].astype(str)) <= {"True"}, name
        if not records:
            continue
        for col in csv.columns.drop("synthetic"):
            json_vals = [r[col] for r in records]
            csv_vals = csv[col].tolist()
            for a, b in zip(csv_vals, json_vals, strict=True):
                if isinstance(b, bool) or b is None or isinstance(b, str | list):
                    continue
                if isinstance(b, int | float):
                    assert float(a) == pytest.approx(b, rel=1e-12, abs=1e-15), (name, col)


def test_car_numbers_equal_the_api(demo_brief, results):
    demo = demo_brief.demo
    cat = load_catalog()
    prices = demo.prices.loc[: str(AS_OF), ["brent", "wti", "fro", "sp500"]]
    opts = demo_brief.data.options  # the brief's model and window (GARCH by default)
    api = event_study(prices, [cat["blockade"], cat["fto_announced"]], market="sp500", catalog=cat,
                      model=opts.model, estimation_window=opts.estimation_window)  # fmt: skip
    got = pd.DataFrame(results["tables"]["car"])
    for r in api.car.itertuples(index=False):
        row = got[
            (got.event == r.event)
            & (got.series == r.series)
            & (got.start == r.start)
            & (got.end == r.end)
        ]
        assert len(row) == 1, (r.event, r.series, r.window)
        for col in ("car", "se", "tstat", "pvalue", "sq_pvalue"):
            want = getattr(r, col)
            if np.isnan(want):
                assert row[col].iloc[0] is None or np.isnan(row[col].iloc[0])
            else:
                assert row[col].iloc[0] == pytest.approx(want, rel=1e-9, abs=1e-12), col
    # the day-0 AR table too
    ab = pd.DataFrame(results["tables"]["abnormal0"])
    want = api.abnormal[(api.abnormal.day == 0) & (api.abnormal.event == "blockade")]
    for r in want.itertuples(index=False):
        row = ab[(ab.event == "blockade") & (ab.series == r.series)]
        assert row["ar"].iloc[0] == pytest.approx(r.ar, rel=1e-9)


def test_intervention_numbers_equal_the_api(demo_brief, results):
    demo = demo_brief.demo  # as known on AS_OF
    s = demo.volumes["us_imports_ve_weekly"].loc[: str(AS_OF)]
    # the brief uses the library's one default specification: no options passed
    api = intervention(s, [load_catalog()["blockade"]])
    got = pd.DataFrame(results["tables"]["interventions"])
    row = got[(got.series == "us_imports_ve_weekly") & (got.term == "level")].iloc[0]
    want = api.effects[api.effects.term == "level"].iloc[0]
    for col in ("estimate", "se", "pvalue", "ci_lower", "ci_upper", "placebo_pvalue"):
        assert row[col] == pytest.approx(want[col], rel=1e-9), col


def test_spread_is_studied_as_a_difference_of_log_returns(results):
    car = pd.DataFrame(results["tables"]["car"])
    assert "brent_wti" in set(car.series)
    head = pd.DataFrame(results["tables"]["headline"]).set_index("series")
    # the spread has a USD change but no percentage change
    assert pd.isna(head.loc["brent_wti", "pct_change"])
    assert head.loc["brent_wti", "value"] == pytest.approx(
        head.loc["brent", "value"] - head.loc["wti", "value"]
    )


# ---- synthetic marking and true effects ----------------------------------------------------
def test_every_section_is_marked_synthetic(page, demo_brief):
    assert page.meta["oilimpact-synthetic"] == "true"
    assert page.sections and all(s["banner"] for s in page.sections), page.sections
    assert demo_brief.html.count("synthetic-banner") >= len(page.sections) + 1
    assert "<title>SYNTHETIC" in demo_brief.html


def test_true_effects_are_shown_beside_the_estimates(page):
    car = next(t for t in page.tables if t["id"] == "tbl-car-blockade")
    keys = [k for k, _ in car["cols"]]
    assert "true_car" in keys
    i_true, i_win, i_ser = keys.index("true_car"), keys.index("window"), keys.index("label")
    row = next(r for r in car["rows"] if r[i_ser] == "Brent" and r[i_win] == "[+0,+0]")
    assert row[i_true] == "3.00"
    row = next(r for r in car["rows"] if r[i_ser] == "Frontline (FRO)" and r[i_win] == "[+0,+1]")
    assert row[i_true] == "5.00"
    iv = next(t for t in page.tables if t["name"] == "interventions")
    keys = [k for k, _ in iv["cols"]]
    # as known on 2026-01-09 only the weekly series has post-event data (monthly figures
    # are published months later); its injected level shift is -150 kb/d
    weekly = "US crude imports from Venezuela, weekly"
    row = next(r for r in iv["rows"] if r[keys.index("label")] == weekly)
    assert row[keys.index("true_effect")] == "-150.0"


def test_injected_effects_are_recovered(results):
    iv = pd.DataFrame(results["tables"]["interventions"])
    for r in iv.itertuples(index=False):
        assert r.ci_lower - 3 * r.se <= r.true_effect <= r.ci_upper + 3 * r.se, r.series
    car = pd.DataFrame(results["tables"]["car"])
    tankers = car[
        (car.event == "blockade")
        & car.series.isin(["fro", "dht", "insw", "tnk"])
        & (car.start == 0)
        & (car.end == 0)
    ]
    assert tankers["car"].mean() == pytest.approx(0.05, abs=0.03)


def test_confounded_windows_and_stale_series_are_marked(demo_brief, page):
    assert 'class="confounded"' in demo_brief.html
    health = next(t for t in page.tables if t["name"] == "health")
    keys = [k for k, _ in health["cols"]]
    stale = [r for r in health["rows"] if r[keys.index("stale")] == "yes"]
    assert [r[keys.index("series")] for r in stale] == ["henry_hub"]
    assert 'class="stale"' in demo_brief.html
    assert "Stale:" in demo_brief.html


def test_methods_come_from_the_specs(demo_brief):
    text = " ".join(demo_brief.data.methods)
    assert demo_brief.data.options.model == "market_garch"  # the brief's default
    assert "GARCH(1,1)" in text and "[-760, -11]" in text and "textbook" in text
    assert "SQ caveat" in text and "d ln(Brent/WTI)" in text
    assert "blockade: event at 2025-12-16 18:00 EST" in text


# ---- the page itself -------------------------------------------------------------------------
def test_page_declares_its_figures_and_holds_plotly_once(page, demo_brief):
    html = demo_brief.html
    n = int(page.meta["oilimpact-figures"])
    assert n == html.count('class="plotly-graph-div"') == 6  # sparklines, 4 focus events, 1 volume
    ids = re.findall(r'<div id="(fig-[a-z0-9-]+)" class="plotly-graph-div"', html)
    assert len(ids) == len(set(ids)) == n
    specs = re.findall(r'<script type="application/json" data-plotly-figure="([^"]+)">', html)
    assert specs == ids  # one JSON spec per figure div, in order
    # plotly.js once, compressed, in the head; it unpacks to the installed bundle
    packed = re.findall(
        r'<script type="application/octet-stream" id="oilimpact-plotlyjs"[^>]*>([^<]+)</script>',
        html,
    )
    assert len(packed) == 1 and html.index(packed[0]) < html.index("</head>")
    import base64
    import gzip

    import plotly.offline

    assert gzip.decompress(base64.b64decode(packed[0])).decode() == plotly.offline.get_plotlyjs()
    # one executable script: the loader, after the figures
    assert html.count('<script type="text/javascript">') == 1
    assert html.index('<script type="text/javascript">') > html.rindex('data-plotly-figure="')


def test_figure_json_cannot_end_its_script():
    import json

    import pandas as pd

    from oilimpact.report.figures import figure_html, sparklines

    s = pd.Series([1.0, 2.0], index=pd.date_range("2026-01-01", periods=2))
    html = figure_html(sparklines({"x": s}, labels={"x": "</script><b>&"}), "fig-x")
    body = html.split('data-plotly-figure="fig-x">', 1)[1].rsplit("</script>", 1)[0]
    assert "</script>" not in body and "<b>" not in body
    spec = json.loads(body)
    assert "&lt;/script&gt;" in json.dumps(spec["layout"]["annotations"][0]["text"])


def test_no_request_to_any_other_host(page, demo_brief):
    external = [u for u in page.urls if re.match(r"^\s*(https?:)?//", u[2], re.I)]
    assert external == []
    body = demo_brief.html[demo_brief.html.index("</head>") :]
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=\"(https?:)?//", body, re.I)
    assert "@import" not in demo_brief.html.split("<script", 1)[0]
    assert "cdn.plot.ly/plotly" not in body and "MathJax.js" not in body


def test_size_below_six_megabytes(demo_brief):
    assert demo_brief.paths.html.stat().st_size < MAX_BYTES


def test_render_is_deterministic(demo_brief, tmp_path):
    again = render_brief(demo_brief.data, generated_at=GENERATED_AT)
    assert again == demo_brief.html
    paths = write_brief(demo_brief.data, tmp_path, generated_at=GENERATED_AT)
    for name, p in paths.tables.items():
        assert p.read_bytes() == demo_brief.paths.tables[name].read_bytes(), name
    assert paths.json.read_bytes() == demo_brief.paths.json.read_bytes()
    assert paths.html.read_bytes() == demo_brief.paths.html.read_bytes()
    other = render_brief(demo_brief.data, generated_at="2026-01-12T07:00:00+00:00")
    assert (
        other != again
        and other.replace("2026-01-12T07:00:00+00:00", "2026-01-12T06:17:00+00:00") == again
    )


# ---- user text and real (non-synthetic) runs --------------------------------------------------
@pytest.fixture(scope="module")
def quick_options():
    return BriefOptions(
        study_series=("brent", "wti"),
        chart_series=("brent",),
        intervention_events=(),
        focus_events=("xss", "blockade"),
    )


def test_event_titles_are_escaped(demo_brief, quick_options):
    demo = demo_brief.demo
    evil = Event.on_date(
        "xss",
        "<script>alert(1)</script> & <b>bold</b>",
        "political",
        "2025-12-30",
        notes='"><img src=x onerror=alert(2)>',
    )
    cat = load_catalog().with_events(evil)
    data = compute_brief(demo.prices, {}, as_of=AS_OF, events=cat, options=quick_options)
    html = render_brief(data, generated_at=GENERATED_AT)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    page = _parse(html)
    assert not [u for u in page.urls if u[2] == "x"]


def test_real_data_brief_has_no_synthetic_marks(demo_brief, quick_options):
    demo = demo_brief.demo
    data = compute_brief(
        demo.prices, {}, as_of=AS_OF, events=load_catalog(), options=quick_options, health=None
    )
    html = render_brief(data, generated_at=GENERATED_AT)
    assert "synthetic-banner" not in html and "True CAR" not in html
    assert '<meta name="oilimpact-synthetic" content="false">' in html
    assert "No data-health information" in html
    assert "No volume series" in html


def test_as_of_cuts_the_data(demo_brief, quick_options):
    demo = demo_brief.demo
    data = compute_brief(
        demo.prices, {}, as_of="2025-12-31", events=load_catalog(), options=quick_options
    )
    assert data.week == "2026-W01"
    assert pd.to_datetime(data.tables["headline"]["date"]).max() <= pd.Timestamp("2025-12-31")
    assert "maduro_captured" not in data.events
    assert "blockade" in data.events
