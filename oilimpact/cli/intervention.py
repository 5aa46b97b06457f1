"""``oilimpact intervention``: intervention analysis of a monthly or weekly series."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.markup import escape

from . import _output
from ._app import (
    AsJson,
    AsOf,
    Catalog,
    DataDir,
    End,
    EventDates,
    EventIds,
    Format,
    OutputFormat,
    Vintage,
    command,
)
from ._output import _call, _errors, _fmt_of, _input_error, _json, _seconds, _summary
from ._parse import _date_opt, _events
from .study import _load_frame, _print_result

_InterventionSeries = Annotated[
    str,
    typer.Argument(metavar="SERIES", help="Stored volume series (e.g. ve_crude_production)."),
]
_InterventionModel = Annotated[
    str | None,
    typer.Option(
        metavar="MODEL",
        help="segmented (OLS, HAC errors) | sarimax. Default: segmented.",
        show_default=False,
    ),
]
_InterventionForm = Annotated[
    str | None,
    typer.Option(
        metavar="FORM",
        help="Effect shape: level (permanent shift) | pulse | decay | compare (all, best "
        "by BIC). Default: level.",
        show_default=False,
    ),
]
_InterventionStart = Annotated[
    str | None,
    typer.Option(
        metavar="WHEN",
        help="containing | next: the effect starts in the period containing the event or "
        "in the next one. Default: containing.",
        show_default=False,
    ),
]
_InterventionPrePeriods = Annotated[
    str | None,
    typer.Option(
        metavar="N",
        help="Pre-event periods to fit, or all. Default: 60 months or 156 weeks (fewer "
        "when the series is shorter).",
        show_default=False,
    ),
]
_InterventionPlacebo = Annotated[
    bool | None,
    typer.Option(
        "--placebo/--no-placebo",
        help="In-time placebo p-value over pseudo-event dates beside the model p-value. "
        "Default: on.",
        show_default=False,
    ),
]


@command("intervention")
def intervention_cmd(
    series: _InterventionSeries,
    event: EventIds = None,
    event_date: EventDates = None,
    model: _InterventionModel = None,
    form: _InterventionForm = None,
    start: _InterventionStart = None,
    pre_periods: _InterventionPrePeriods = None,
    placebo: _InterventionPlacebo = None,
    catalog: Catalog = None,
    as_of: AsOf = None,
    vintage: Vintage = None,
    end: End = None,
    data_dir: DataDir = None,
    fmt: Format = None,
    as_json: AsJson = False,
) -> None:
    """Intervention analysis of a volume series: level change in units and %, placebo p.

    Examples:

      oilimpact intervention ve_crude_production --event blockade
      oilimpact intervention ve_crude_production --event blockade \\
          --event maduro_captured --json
      oilimpact intervention us_imports_ve_monthly --event-date deal=2026-03-01

    Defaults: event blockade (when neither --event nor --event-date is given) and the one
    default specification that the API and the brief use too: a segmented OLS level shift
    from the event's period, 60 months or 156 weeks before it, trend and seasonal terms,
    AR(1)-prewhitened HAC errors and placebo p-values. It is printed with the result
    (`spec` in --json); the options here override it. --format tsv|csv prints the effects
    table.
    """
    from ..events import load_catalog
    from ..intervention.analysis import intervention

    fmt = _fmt_of(fmt, as_json)
    as_of, end = _date_opt(as_of, "--as-of"), _date_opt(end, "--end")
    vintage = _date_opt(vintage, "--vintage")
    with _errors():
        cat = load_catalog(catalog)
    events = _events(event, event_date, cat, ["blockade"])
    if pre_periods is not None and pre_periods != "all":
        if not pre_periods.isdigit() or int(pre_periods) < 1:
            _input_error(f"--pre-periods expects a positive number or all, got {pre_periods!r}")
        pre_periods = int(pre_periods)  # type: ignore[assignment]
    options = {
        "model": model, "form": form, "start": start, "pre_periods": pre_periods,
        "placebo": placebo,
    }  # fmt: skip
    options = {k: v for k, v in options.items() if v is not None}
    t0 = time.perf_counter()
    what = f"fitting {series} ({options.get('model', 'segmented')}" + (
        ", with placebo refits)" if options.get("placebo", True) else ")"
    )
    with _call(what):
        frame = _load_frame([series], as_of=as_of, vintage=vintage, end=end, data_dir=data_dir)
        _no_post_event_data(frame[series], events, as_of or end, fmt, start)
        result = intervention(frame[series], events, **options)
    _print_result(result, fmt, result.effects)
    _summary(_intervention_line(result) + f"; {_seconds(t0)}")


def _no_post_event_data(
    data: Any, events: list[Any], as_of: Any, fmt: OutputFormat, start: str | None = None
) -> None:
    """Say so and exit 1 when no event has a treated period in the data (point in time).

    The rule is the library's (:func:`oilimpact.intervention.sample.post_event_periods`
    with the start rule of ``--start``, default ``containing``). With ``--as-of`` a
    monthly figure published months later is not in the data yet: that is an answer
    ("no post-event data yet", with the sample end), not an input error.
    """
    import pandas as pd

    from ..intervention.sample import post_event_periods
    from ..series import infer_frequency, period_end

    valid = data.dropna()
    if len(valid) < 3:
        return
    rule = {"start": start} if start is not None else {}
    if any(post_event_periods(valid, e, **rule) >= 1 for e in events):
        return  # at least one event has a treated period in the data: fit as usual
    freq = infer_frequency(valid.index)
    end = period_end(valid.index[-1:], freq)[0]
    dated = [(e.id, pd.Timestamp(e.date)) for e in events]
    first = min(day for _, day in dated)
    reason = (
        f"no post-event data yet: the last {freq} period in the data is "
        f"{valid.index[-1].date()} (ending {end.date()})"
        + (f", as known on {as_of}" if as_of else "")
        + f", before {', '.join(f'{i} ({d.date()})' for i, d in dated)}"
    )
    if fmt is OutputFormat.json:
        _json({
            "series": str(data.name), "status": "not_estimable", "reason": reason,
            "as_of": str(as_of) if as_of else None, "sample_end": valid.index[-1].date(),
            "first_event": first.date(), "events": [i for i, _ in dated],
        })  # fmt: skip
    else:
        _output.out.print(escape(f"{data.name}: {reason}"))
    _summary(f"intervention: {data.name} not estimable yet")
    raise typer.Exit(1)


def _intervention_line(result: Any) -> str:
    sp = result.spec
    parts = []
    for row in result.effects.itertuples(index=False):
        if row.term != "level":
            continue
        p = "-" if row.pvalue != row.pvalue else f"{row.pvalue:.3f}"
        parts.append(f"{row.event} level {row.estimate:+,.1f} {sp.unit} (p {p})".replace("  ", " "))
    return f"intervention: {sp.series} {sp.model}, " + ("; ".join(parts) or "no level term")
