"""Rendering and writing the weekly brief: HTML (Jinja2, autoescape), JSON and CSV.

:func:`render_brief` is pure: the same :class:`~oilimpact.report.model.BriefData` and
``generated_at`` give byte-identical HTML (deterministic figure ids, no clock). The page
is self-contained: plotly.js is inlined once in the head (gzip-compressed and unpacked by
the browser), each figure is a ``<div>`` with its data as JSON, there is no request to
any other host. :func:`write_brief` writes the page,
``results.json`` (sorted keys, no NaN) and one CSV per table into ``<out>/<ISO week>/``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .model import BriefData, _label
from .tables import Column, Table
from .tables import jsonable as _jsonable

__all__ = ["BriefPaths", "render_brief", "results_dict", "write_brief"]


@dataclass(frozen=True, slots=True)
class BriefPaths:
    """Files written by :func:`write_brief`."""

    dir: Path
    html: Path
    json: Path
    tables: dict[str, Path]


# ======================================================================================
# render
# ======================================================================================


@dataclass(frozen=True, slots=True)
class _Figure:
    id: str
    section: str
    key: str
    html: str
    caption: str = ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _row_css(flags: Any, css: str) -> tuple[str, ...]:
    """One CSS class per row: ``css`` where the flag is true, else empty."""
    return tuple(css if flag else "" for flag in flags)


def _findings_view(data: BriefData) -> Table:
    f = data.tables["findings"]
    return Table(
        "findings",
        "tbl-findings",
        (
            Column("event", "Event"),
            Column("label", "Series"),
            Column("measure", "Measure"),
            Column("estimate_shown", "Estimate"),
            Column("ci_shown", f"{100 * (1 - data.options.alpha):g}% CI"),
            Column("pvalue", "p (t / model)", "p"),
            Column("sq_pvalue", "p (SQ)", "p"),
            Column("placebo_pvalue", "p (placebo)", "p"),
            Column("qvalue", "q", "p"),
            Column("n", "n", "int"),
            Column("confounded", "Confounded", "flag"),
            Column("mde", "MDE (%)", "pct"),
        ),
        f,
        caption="Key findings: the numbers behind each sentence above (MDE: the smallest "
        "day-0 move the t test would have detected with "
        f"{100 * data.options.mde_power:g}% probability)",
        row_css=_row_css(f.get("confounded", []), "confounded"),
    )


def _headline_view(data: BriefData) -> Table:
    head = data.tables["headline"]
    return Table(
        "headline",
        "tbl-headline",
        (
            Column("label", "Series"),
            Column("unit", "Unit"),
            Column("date", "Last date", "date"),
            Column("value", "Last", "f2"),
            Column("prev_date", "Week-ago date", "date"),
            Column("prev_value", "Week ago", "f2"),
            Column("change", "Change", "signed2"),
            Column("pct_change", "Change (%)", "pct"),
            Column("note", "Note"),
        ),
        head,
        row_css=_row_css(head.get("note", []), "stale"),
    )


def _events_view(data: BriefData) -> Table:
    return Table(
        "events",
        "tbl-events",
        (
            Column("event", "Event"),
            Column("date", "Date", "date"),
            Column("timestamp", "Time (if known)"),
            Column("day0", "Day 0", "date"),
            Column("kind", "Kind"),
            Column("title", "Title"),
        ),
        data.tables["events"],
        caption="Catalog events in the window of this brief",
    )


def _car_view(data: BriefData) -> Table:
    car_cols = [
        Column("label", "Series"),
        Column("window", "Window"),
        Column("car", "CAR (%)", "pct"),
        Column("se", "se (%)", "pct"),
        Column("tstat", "t", "f2"),
        Column("pvalue", "p (t)", "p"),
        Column("sq_pvalue", "p (SQ)", "p"),
        Column("qvalue", "q", "p"),
        Column("n_est", "n est.", "int"),
        Column("confounded", "Confounded", "flag"),
    ]
    if data.synthetic:
        car_cols.insert(3, Column("true_car", "True CAR (%)", "pct"))
    car = data.tables["car"]
    return Table(
        "car",
        "tbl-car",
        tuple(car_cols),
        car,
        row_css=_row_css(car.get("confounded", []), "confounded"),
    )


def _event_blocks(data: BriefData) -> list[dict[str, Any]]:
    """One block per catalog event with CARs: its facts and its slice of the CAR table."""
    car = data.tables["car"]
    car_tbl = _car_view(data)
    blocks = []
    for ev in data.events.values():
        if not len(car):
            break
        mask = (car["event"] == ev.id).to_numpy()
        if not mask.any():
            continue
        blocks.append(
            {
                "id": ev.id,
                "title": ev.title,
                "date": ev.date.isoformat(),
                "time_known": ev.time_known,
                "notes": ev.notes,
                "focus": ev.id in data.options.focus_events,
                "car": car_tbl.slice(
                    mask,
                    id=f"tbl-car-{_slug(ev.id)}",
                    caption=f"CAR by series and window: {ev.id}",
                ),
            }
        )
    return blocks


def _abnormal0_view(data: BriefData) -> Table:
    a0 = data.tables["abnormal0"]
    ab_cols = [
        Column("event", "Event(s)"),
        Column("label", "Series"),
        Column("date", "Day 0", "date"),
        Column("ar", "AR (%)", "pct"),
        Column("se", "se (%)", "pct"),
        Column("tstat", "t", "f2"),
        Column("pvalue", "p (t)", "p"),
        Column("sq_pvalue", "p (SQ)", "p"),
        Column("qvalue", "q", "p"),
        Column("confounded", "Confounded", "flag"),
    ]
    if "sessions" in a0.columns:
        ab_cols.insert(3, Column("sessions", "Sessions", "int"))
    if data.synthetic:
        ab_cols.insert(4, Column("true_ar", "True AR (%)", "pct"))
    return Table(
        "abnormal0",
        "tbl-abnormal0",
        tuple(ab_cols),
        a0,
        row_css=_row_css(a0.get("confounded", []), "confounded"),
    )


def _alignment_view(data: BriefData) -> Table:
    al = data.tables["alignment"]
    al_cols = tuple(
        c
        for c in (
            Column("event", "Event"),
            Column("series", "Series"),
            Column("day0", "Day 0", "date"),
            Column("reason", "Why"),
            Column("confounded_by", "Confounded by"),
            Column("n_est", "n est.", "int"),
        )
        if c.key in al.columns
    )
    return Table("alignment", "tbl-alignment", al_cols, al)


def _intervention_views(data: BriefData) -> tuple[Table, list[Table]]:
    """The interventions table and its slices by kind (volumes, trade values)."""
    frame = data.tables["interventions"]
    iv_cols = [
        Column("label", "Series"),
        Column("unit", "Unit"),
        Column("event", "Event"),
        Column("term", "Term"),
        Column("estimate", "Estimate", "f1"),
        Column("se", "se", "f1"),
        Column("pvalue", "p", "p"),
        Column("ci_lower", "CI low", "f1"),
        Column("ci_upper", "CI high", "f1"),
        Column("pct_of_pre_mean", "% of pre mean", "f1"),
        Column("placebo_pvalue", "Placebo p", "p"),
        Column("n_placebo", "n placebo", "int"),
    ]
    if data.synthetic:
        iv_cols.insert(5, Column("true_effect", "True effect", "f1"))
    iv = Table("interventions", "tbl-interventions", tuple(iv_cols), frame)
    kinds = frame.get("kind", pd.Series("volume", index=frame.index))
    slices = [
        iv.slice(kinds == kind, id=f"tbl-interventions-{kind}", caption=caption)
        for kind, caption in (
            ("volume", "Volumes (physical units): level change after the event"),
            (
                "value",
                "Trade values (million USD): price x volume, so a change mixes price and "
                "quantity; these are not volumes",
            ),
        )
        if (kinds == kind).any()
    ]
    return iv, slices


def _synth_view(data: BriefData) -> Table:
    return Table(
        "synth",
        "tbl-synth",
        (
            Column("event", "Event"),
            Column("first_post", "First post month", "date"),
            Column("last_post", "Last post month", "date"),
            Column("n_pre", "Pre months", "int"),
            Column("n_donors", "Donors", "int"),
            Column("pre_rmspe", "Pre-RMSPE", "f1"),
            Column("effect", "Avg. post effect", "f1"),
            Column("unit", "Unit"),
            Column("pct_of_pre_mean", "% of pre mean", "f1"),
            Column("ci_lower", "CI low", "f1"),
            Column("ci_upper", "CI high", "f1"),
            Column("pvalue", "p (conformal)", "p"),
            Column("placebo_pvalue", "p (placebo rank)", "p"),
            Column("n_placebo", "n placebo", "int"),
            Column("note", "Note"),
        ),
        data.tables["synth"],
        caption=(
            f"Synthetic control: average post-event effect, its {100 * (1 - data.options.alpha):g}% "
            "conformal interval and p-value, and the placebo-in-space rank p-value"
        ),
    )


def _synth_weights_view(data: BriefData) -> Table:
    sw = data.tables["synth_weights"]
    shown = sw[sw["weight"] >= 0.001] if len(sw) else sw
    return Table(
        "synth_weights",
        "tbl-synth-weights",
        (
            Column("event", "Event"),
            Column("label", "Donor"),
            Column("donor", "Series"),
            Column("weight", "Weight", "f3"),
        ),
        shown,
        caption="Donor weights of at least 0.001 (every weight is in synth_weights.csv)",
    )


def _channel_view(data: BriefData, key: str, caption: str) -> Table:
    """A channel table of the page (heavy-sour differentials or futures time spreads)."""
    return Table(
        key,
        f"tbl-{key.replace('_', '-')}",
        (
            Column("label", "Series"),
            Column("unit", "Unit"),
            Column("last", "Latest", "f2"),
            Column("last_date", "as of", "date"),
            Column("event", "Event"),
            Column("before", "Before", "f2"),
            Column("after", "After", "f2"),
            Column("change", "Change", "signed2"),
            Column("note", "Note"),
        ),
        data.tables.get(key, pd.DataFrame()),
        caption=caption,
    )


def _health_view(data: BriefData) -> Table | None:
    if not data.has_health:
        return None
    h = data.tables["health"]
    return Table(
        "health",
        "tbl-health",
        (
            Column("series", "Series"),
            Column("source", "Source"),
            Column("source_id", "Source id"),
            Column("first", "First", "date"),
            Column("last", "Last", "date"),
            Column("rows", "Rows", "int"),
            Column("fetched_at", "Fetched", "datetime"),
            Column("vintage", "Vintage"),
            Column("last_used", "Last period used", "date"),
            Column("availability", "Why (publication lag)"),
            Column("stale", "Stale", "flag"),
            Column("warnings", "Validation warnings"),
        ),
        h,
        row_css=_row_css(h["stale"], "stale"),
    )


def _views(data: BriefData) -> dict[str, Any]:
    """Table views of the page (the HTML shows exactly these columns)."""
    interventions, volume_tables = _intervention_views(data)
    views: dict[str, Any] = {
        "findings": _findings_view(data),
        "headline": _headline_view(data),
        "events": _events_view(data),
        "abnormal0": _abnormal0_view(data),
        "alignment": _alignment_view(data),
        "interventions": interventions,
        "volume_tables": volume_tables,
        "synth": _synth_view(data),
        "synth_weights": _synth_weights_view(data),
        "heavy_sour": _channel_view(
            data,
            "heavy_sour",
            "Heavy-sour differentials (monthly "
            "averages, USD/bbl): change from the month before each "
            "focus event to the month after it",
        ),
        "curve": _channel_view(
            data,
            "curve",
            "Futures time spreads (contract 1 minus "
            "contract k settled the same day, USD/bbl): change from the "
            "session before each focus event to 5 sessions after day 0",
        ),
        "health": _health_view(data),
    }
    return {"tables": views, "event_blocks": _event_blocks(data)}


def _figures(data: BriefData) -> list[_Figure]:
    from .figures import (
        car_paths,
        counterfactual,
        figure_html,
        plot_text,
        sparklines,
        synth_paths,
    )

    figs: list[_Figure] = []
    if data.sparks:
        fig = sparklines(
            data.sparks,
            labels={n: _label(n) for n in data.sparks},
            points=data.options.sparkline_points,
        )
        figs.append(
            _Figure(
                "fig-headline-sparklines",
                "headline",
                "sparklines",
                figure_html(fig, "fig-headline-sparklines"),
                f"Last {data.options.sparkline_points} observations up to {data.as_of}; "
                "green: up over the panel, orange: down.",
            )
        )
    for ev in data.options.focus_events:
        pairs = [(n, data.study_for(ev, n)) for n in data.options.chart_series]
        pairs = [(n, r) for n, r in pairs if r is not None]
        if not pairs:
            continue
        fid = f"fig-car-{_slug(ev)}"
        title = plot_text(f"CAR paths around {ev}")
        fig = car_paths(
            pairs,
            ev,
            labels={n: _label(n) for n, _ in pairs},
            alpha=data.options.alpha,
            title=title,
        )
        figs.append(
            _Figure(
                fid,
                "event",
                ev,
                figure_html(fig, fid),
                "Cumulative abnormal log return in percent, summed from the first event-window "
                f"day, with its {100 * (1 - data.options.alpha):g}% prediction-error band; the "
                "dotted line is day 0, the first session after the event.",
            )
        )
    for eid, res in data.synth.items():
        fid = f"fig-synth-{_slug(eid)}"
        fig = synth_paths(
            res,
            title=f"{_label(res.treated)}: actual vs synthetic, {eid}",
            label=_label(res.treated),
        )
        figs.append(
            _Figure(
                fid,
                "synth",
                eid,
                figure_html(fig, fid),
                "Top: actual and synthetic (the weighted donor mix); bottom: their gap and the "
                "placebo gaps of the donors kept for the rank p-value. The dotted line is the "
                "first post-event month.",
            )
        )
    for name, res in data.interventions.items():
        fid = f"fig-volume-{_slug(name)}"
        fig = counterfactual(res, title=plot_text(f"{_label(name)}: actual vs counterfactual"))
        figs.append(_Figure(fid, "volumes", name, figure_html(fig, fid)))
    return figs


def _findings_groups(data: BriefData) -> list[dict[str, Any]]:
    """The key-finding sentences grouped by event, in catalog order."""
    f = data.tables["findings"]
    groups = []
    for ev in dict.fromkeys(f["event"]) if len(f) else ():
        e = data.events.get(str(ev)) if ev else None
        if e is not None:
            title = f"{e.title} ({e.date.isoformat()})"
        else:
            title = "Volume series with no post-event data yet" if not ev else str(ev)
        rows = f.loc[f["event"] == ev]
        mdes = rows["mde_sentence"] if "mde_sentence" in rows.columns else [""] * len(rows)
        items = [
            {"verdict": v, "mde": _sentence(str(m)) if isinstance(m, str) and m else ""}
            for v, m in zip(rows["verdict"], mdes, strict=True)
        ]
        groups.append({"title": title, "verdicts": rows["verdict"].tolist(), "items": items})
    return groups


def _sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop (an MDE sentence in the box)."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _iso_generated(generated_at: dt.datetime | str) -> str:
    if generated_at is None or (isinstance(generated_at, str) and not generated_at.strip()):
        raise ValueError(
            "generated_at is required: the brief prints it and uses no clock of its own "
            "(pass datetime.now(timezone.utc) to stamp it now)"
        )
    if isinstance(generated_at, str):
        return generated_at
    ts = pd.Timestamp(generated_at)
    return ts.isoformat()


def render_brief(data: BriefData, *, generated_at: dt.datetime | str) -> str:
    """Render the brief as one self-contained HTML page.

    Parameters
    ----------
    data : BriefData
    generated_at : datetime or str
        Printed in the page; the only time the page contains, so the same ``data``
        and ``generated_at`` give byte-identical output.

    Returns
    -------
    str
        The HTML: plotly.js inlined once in the head (compressed), one ``<div>`` and one
        JSON block per figure, no
        reference to any other host, every user-supplied text escaped.
    """
    import jinja2
    import plotly

    from .. import __version__
    from .figures import LOADER_JS, plotlyjs_payload

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("oilimpact.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    figures = _figures(data)
    views = _views(data)
    stale = []
    h = data.tables["health"]
    if data.has_health and len(h):
        stale = h.loc[h["stale"], "series"].astype(str).tolist()
    volume_warnings = [f"{n}: {w}" for n, r in data.interventions.items() for w in r.warnings]
    ctx = {
        "version": __version__,
        "as_of": data.as_of.isoformat(),
        "week": data.week,
        "week_ago": data.week_ago.isoformat(),
        "generated_at": _iso_generated(generated_at),
        "synthetic": data.synthetic,
        "plotlyjs": plotlyjs_payload(),
        "plotly_version": plotly.__version__,
        "loader_js": LOADER_JS,
        "figures": figures,
        "notices": list(data.notices),
        "methods": list(data.methods),
        "stale_series": stale,
        "volume_warnings": volume_warnings,
        "volume_notices": [n for n in data.notices if n.startswith("intervention ")],
        "synth_reasons": list(data.synth_reasons),
        "table_files": [f"{k}.csv" for k in data.tables],
        "alpha": data.options.alpha,
        "findings_groups": _findings_groups(data),
        "mde_power": f"{100 * data.options.mde_power:g}",
        "n_car_tests": int(data.tables["car"]["pvalue"].notna().sum())
        if len(data.tables["car"])
        else 0,
        **views,
    }
    return env.get_template("brief.html.j2").render(**ctx)


# ======================================================================================
# write
# ======================================================================================


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _jsonable(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        out[col] = [
            v
            if isinstance(v, str)
            else (json.dumps(j) if isinstance(j := _jsonable(v), list) else j)
            for v in out[col]
        ]
    return out


def results_dict(data: BriefData, *, generated_at: dt.datetime | str) -> dict[str, Any]:
    """Everything the brief shows, JSON-able (``results.json``)."""
    return {
        "meta": {
            "as_of": data.as_of.isoformat(),
            "week": data.week,
            "generated_at": _iso_generated(generated_at),
            "synthetic": data.synthetic,
            "events": list(data.events),
            "notices": list(data.notices),
        },
        "findings": _records(data.tables["findings"]),
        "options": data.options.to_dict(),
        "specs": {
            "event_study": [r.spec.to_dict() for r in data.studies],
            "interventions": {n: r.spec.to_dict() for n, r in data.interventions.items()},
        },
        "methods": list(data.methods),
        "synthetic_control": {
            "fits": {e: _jsonable(r.to_dict()) for e, r in data.synth.items()},
            "reasons": list(data.synth_reasons),
        },
        "true_effects": _jsonable(dict(data.true_effects)),
        "tables": {name: _records(frame) for name, frame in data.tables.items()},
    }


def write_brief(
    data: BriefData, out_dir: str | Path, *, generated_at: dt.datetime | str
) -> BriefPaths:
    """Write ``<out_dir>/<ISO week>/brief.html``, ``results.json`` and ``<table>.csv``.

    Existing files of the same week are overwritten; nothing else is touched.

    Returns
    -------
    BriefPaths
    """
    folder = Path(out_dir) / data.week
    folder.mkdir(parents=True, exist_ok=True)
    html = render_brief(data, generated_at=generated_at)
    html_path = folder / "brief.html"
    html_path.write_text(html, encoding="utf-8", newline="\n")
    payload = results_dict(data, generated_at=generated_at)
    json_path = folder / "results.json"
    json_path.write_text(
        json.dumps(payload, sort_keys=True, indent=1, allow_nan=False, ensure_ascii=False) + "\n",
        encoding="utf-8",
        newline="\n",
    )
    tables: dict[str, Path] = {}
    for name, frame in data.tables.items():
        p = folder / f"{name}.csv"
        if data.synthetic:  # a CSV opened on its own must not pass for real data
            frame = frame.assign(synthetic=True)
        _csv_frame(frame).to_csv(p, index=False, lineterminator="\n")
        tables[name] = p
    return BriefPaths(folder, html_path, json_path, tables)
