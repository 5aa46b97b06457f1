"""``oilimpact volatility``: abnormal volatility and implied-volatility jumps."""

from __future__ import annotations

import time
import warnings
from typing import Annotated, Any

import typer

from ..errors import OilImpactError
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
from ._output import (
    _call,
    _emit,
    _errors,
    _fmt_of,
    _input_error,
    _n,
    _print_table,
    _seconds,
    _summary,
)
from ._parse import _date_opt, _events, _window
from .study import _MARKET_MODELS, _estimation_window, _load_frame, _StudyEstimation, _StudyMarket

_VolSeries = Annotated[
    list[str],
    typer.Argument(
        metavar="SERIES",
        help="Stored price series (e.g. brent wti); an implied-volatility index (vix) gets "
        "the jump test.",
    ),
]
_VolModel = Annotated[
    str,
    typer.Option(
        metavar="MODEL",
        help="Normal-return model whose variance is the benchmark: market_garch (GARCH(1,1) "
        "forecast) | market_gjr | market | constant_mean ... (prediction-error variance); "
        "hyphens accepted.",
    ),
]
_VolWindow = Annotated[
    list[str] | None,
    typer.Option(
        metavar="LO,HI",
        help="Event window LO,HI in trading days, repeatable. Default: 0,0 0,1 0,5.",
        show_default=False,
    ),
]
_VolAlternative = Annotated[
    str,
    typer.Option(metavar="ALT", help="greater (volatility rose) | two-sided (it changed)."),
]
_VolImplied = Annotated[
    bool,
    typer.Option(
        "--implied/--no-implied",
        help="Also test the implied-volatility indexes in the store (VIX; OVX when stored) "
        "for a jump.",
    ),
]

#: Implied-volatility indexes: tested for a jump in their level, not for abnormal variance.
_IMPLIED_VOL = ("vix", "ovx")


@command("volatility")
def volatility_cmd(
    series: _VolSeries,
    event: EventIds = None,
    event_date: EventDates = None,
    market: _StudyMarket = "sp500",
    model: _VolModel = "market_garch",
    window: _VolWindow = None,
    estimation: _StudyEstimation = None,
    alternative: _VolAlternative = "greater",
    implied: _VolImplied = True,
    catalog: Catalog = None,
    as_of: AsOf = None,
    vintage: Vintage = None,
    end: End = None,
    data_dir: DataDir = None,
    fmt: Format = None,
    as_json: AsJson = False,
) -> None:
    """Did an event raise volatility? Abnormal-volatility test per series and implied-vol jumps.

    Examples:

      oilimpact volatility brent --event blockade
      oilimpact volatility brent wti --event blockade --window 0,0 --window 0,5 --json
      oilimpact volatility brent --event blockade --model market --no-implied

    Per price series, event and window: AVR, the realised over the expected variance of
    the abnormal returns (expected: the GARCH variance forecast with the default
    --model market_garch; the prediction-error variance with an OLS model such as
    market), with its rank p-value among the same ratio over every stretch of the
    estimation window (p, the one to read; min p is the smallest attainable) and a
    chi-square p-value that assumes normal innovations. Implied-volatility indexes
    (VIX; OVX when stored) get the jump test: their log change over the window ranked
    among their own changes in the estimation window (z p: normal approximation).
    Formulas and measured size: docs/methods-garch.md; the output on the real data, read:
    docs/cli-methods.md.

    Defaults: event blockade (when neither --event nor --event-date is given), model
    market_garch on sp500, windows 0,0 0,1 0,5, estimation window -760,-11 (three years;
    -250,-11 with an OLS model), alternative
    greater, and the stored implied-volatility indexes (--no-implied drops them).
    --format tsv|csv|json prints one row per test, event, series and window.
    """
    from ..events import load_catalog

    fmt = _fmt_of(fmt, as_json)
    model = model.replace("-", "_")
    est = _estimation_window(estimation, model)
    windows = tuple(_window(w, "--window") for w in window or []) or ((0, 0), (0, 1), (0, 5))
    as_of, end = _date_opt(as_of, "--as-of"), _date_opt(end, "--end")
    vintage = _date_opt(vintage, "--vintage")
    if alternative not in ("greater", "two-sided"):
        _input_error(f"--alternative must be greater or two-sided, got {alternative!r}")
    with _errors():
        cat = load_catalog(catalog)
    events = _events(event, event_date, cat, ["blockade"])
    reads = {"as_of": as_of, "vintage": vintage, "end": end, "data_dir": data_dir}
    t0 = time.perf_counter()
    with _call(f"volatility tests of {len(series)} series x {len(events)} events"):
        prices = [s for s in dict.fromkeys(series) if s not in _IMPLIED_VOL]
        avr = _abnormal_volatility(prices, events, market, model, est, windows, alternative,
                                   cat, reads)  # fmt: skip
        ivs = [s for s in dict.fromkeys(series) if s in _IMPLIED_VOL]
        jumps = _implied_jumps(ivs, implied, events, est, windows, alternative, reads)
    _print_volatility(avr, jumps, fmt, model, market)
    _summary(_volatility_line(avr, jumps) + f", {_seconds(t0)}")


def _abnormal_volatility(
    names: list[str],
    events: list[Any],
    market: str,
    model: str,
    est: tuple[int, int],
    windows: tuple[tuple[int, int], ...],
    alternative: str,
    cat: Any,
    reads: dict[str, Any],
) -> Any:
    """The abnormal-volatility table of the price series (empty when none is asked)."""
    import pandas as pd

    from ..eventstudy.engine import event_study
    from ..eventstudy.eventvol import volatility_tests

    if not names:
        return pd.DataFrame()
    uses_market = bool(market) and model in _MARKET_MODELS
    frame = _load_frame(list(dict.fromkeys([*names, *([market] if uses_market else [])])),
                        **reads)  # fmt: skip
    res = event_study(
        frame[names], events, market=frame[market] if uses_market else None, model=model,
        estimation_window=est, event_windows=windows, catalog=cat, pooled=False,
    )  # fmt: skip
    table = volatility_tests(res, windows, alternative=alternative)
    day0 = res.alignment[["event", "series", "day0"]]
    return table.merge(day0, on=["event", "series"], how="left")


def _implied_jumps(
    names: list[str],
    stored: bool,
    events: list[Any],
    est: tuple[int, int],
    windows: tuple[tuple[int, int], ...],
    alternative: str,
    reads: dict[str, Any],
) -> Any:
    """Implied-volatility jump rows of the asked indexes (and of the stored ones).

    A (series, event, window) the test cannot compute (a window past the data, too few
    reference changes) is left out with a warning naming it.
    """
    import pandas as pd

    from .. import api
    from ..eventstudy.volatility import implied_vol_jump
    from ..series import default_registry

    frame = _load_frame(names, **reads) if names else pd.DataFrame()
    if stored:
        extra = [n for n in _IMPLIED_VOL if n not in names and n in default_registry()]
        got = api.load_frame(extra, missing="skip",
                             **{k: v for k, v in reads.items() if v is not None})  # fmt: skip
        frame = pd.concat([frame, got], axis=1) if len(frame.columns) else got
    rows = []
    for name in frame.columns:
        for ev in events:
            for w in windows:
                try:
                    j = implied_vol_jump(frame[name].rename(name), ev, window=w,
                                         estimation_window=est, alternative=alternative)  # fmt: skip
                except OilImpactError as exc:
                    warnings.warn(f"{name} / {ev.id} [{w[0]:+d},{w[1]:+d}]: {exc}", stacklevel=2)
                    continue
                rows.append({
                    "event": j.event, "series": j.series, "window": j.window, "start": w[0],
                    "end": w[1], "day0": j.day0, "level_before": j.level_before,
                    "level_after": j.level_after, "log_change": j.log_change,
                    "pvalue": j.pvalue, "n_ref": j.n_ref, "min_pvalue": j.min_pvalue,
                    "z_pvalue": j.z_pvalue, "percentile": j.percentile,
                })  # fmt: skip
    return pd.DataFrame(rows)


def _print_volatility(avr: Any, jumps: Any, fmt: OutputFormat, model: str, market: str) -> None:
    """Both tables: titled text tables, or one tidy table (``test`` column) for machines."""
    import numpy as np
    import pandas as pd

    if fmt is not OutputFormat.table:
        parts = [avr.assign(test="abnormal_volatility") if len(avr) else avr,
                 jumps.assign(test="implied_vol_jump") if len(jumps) else jumps]  # fmt: skip
        tidy = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
            len(p) for p in parts) else pd.DataFrame(columns=["test"])  # fmt: skip
        tidy = tidy[["test", *[c for c in tidy.columns if c != "test"]]]
        _emit(tidy, fmt, title="volatility")
        return
    if len(avr):
        view = avr[["event", "series", "window", "day0", "n_days", "avr", "pvalue", "min_pvalue",
                    "n_ref", "chi2_pvalue"]].copy()  # fmt: skip
        view[["avr", "pvalue", "min_pvalue", "chi2_pvalue"]] = view[
            ["avr", "pvalue", "min_pvalue", "chi2_pvalue"]].round(3)  # fmt: skip
        bench = f"{model} on {market}" if model in _MARKET_MODELS else model
        title = (f"Abnormal volatility ({bench}): AVR = realised / expected variance of the "
                 "abnormal returns; p = rank among the estimation window's stretches")  # fmt: skip
        _print_table(view.rename(columns={"min_pvalue": "min p", "chi2_pvalue": "chi2 p"}),
                     title=title, titled=True)  # fmt: skip
    if len(jumps):
        view = jumps[["event", "series", "window", "day0", "level_before", "level_after"]].copy()
        view["change, %"] = (100 * (np.exp(jumps["log_change"]) - 1)).round(1)
        for col in ("pvalue", "min_pvalue", "z_pvalue"):
            view[col] = jumps[col].round(3)
        view["n_ref"] = jumps["n_ref"]
        if len(avr):
            _output.out.print()
        _print_table(
            view.rename(columns={"level_before": "before", "level_after": "after",
                                 "min_pvalue": "min p", "z_pvalue": "z p"}),
            title="Implied volatility jump: the index's log change over the window, ranked "
            "among its own changes in the estimation window", titled=True,
        )  # fmt: skip
    if not len(avr) and not len(jumps):
        _output.out.print("no volatility test could be computed (see the warnings)")


def _volatility_line(avr: Any, jumps: Any) -> str:
    """``volatility: 3 abnormal-volatility tests (1 with p < 0.05), 3 implied-vol ...``."""

    def part(frame: Any, what: str) -> str:
        sig = int((frame["pvalue"] < 0.05).sum()) if len(frame) else 0
        return f"{_n(len(frame), what)} ({sig} with p < 0.05)"

    return ("volatility: " + part(avr, "abnormal-volatility test") + ", "
            + part(jumps, "implied-volatility jump test"))  # fmt: skip
