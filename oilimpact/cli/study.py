"""``oilimpact study``: event studies, with resampling and minimum detectable effects."""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.markup import escape

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
    _frame_json,
    _input_error,
    _json,
    _n,
    _print_table,
    _seconds,
    _summary,
)
from ._parse import _date_opt, _events, _window

# ---- analysis commands ---------------------------------------------------------------


def _load_frame(names: list[str], **kwargs: Any) -> Any:
    from .. import api

    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    return api.load_frame(names, **kwargs)


def _print_result(result: Any, fmt: OutputFormat, table: Any) -> None:
    """A study result as JSON (``to_dict``), as its text summary, or ``table`` as tsv/csv."""
    if fmt is OutputFormat.json:
        _json(result.to_dict())
    elif fmt in (OutputFormat.csv, OutputFormat.tsv):
        _emit(table, fmt, title="")
    else:
        sys.stdout.write(result.summary().as_text(max_rows=None) + "\n")  # every row asked for


_StudySeries = Annotated[
    list[str],
    typer.Argument(metavar="SERIES", help="Stored series to study (e.g. brent wti xle)."),
]
_StudyMarket = Annotated[
    str | None, typer.Option(metavar="SERIES", help="Market series of the market model.")
]
_StudyModel = Annotated[
    str,
    typer.Option(
        metavar="MODEL",
        help="market | market_adjusted | constant_mean | zero_mean | multifactor | "
        "market_garch (market model with GARCH(1,1) errors, fitted by arch) | market_gjr "
        "(GJR-GARCH errors); a hyphen may stand for the underscore (market-garch).",
    ),
]
_StudyFactor = Annotated[
    list[str] | None,
    typer.Option(metavar="SERIES", help="Factor series for model=multifactor, repeatable."),
]
_StudyWindow = Annotated[
    list[str] | None,
    typer.Option(
        metavar="LO,HI",
        help="CAR window LO,HI in trading days, repeatable. Default: 0,0 0,1 -1,1 0,5 0,10.",
        show_default=False,
    ),
]
_StudyEstimation = Annotated[
    str | None,
    typer.Option(
        metavar="LO,HI",
        help="Estimation window LO,HI in trading days relative to day 0. Default: -250,-11; "
        "-760,-11 (three years) with market_garch and market_gjr, whose tests keep their "
        "size only with a long window.",
        show_default=False,
    ),
]
_StudyMinEstimation = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        help="Minimum non-missing estimation days per pair. Default: half the estimation "
        "window (120; 375 with the GARCH models' window).",
        show_default=False,
    ),
]
_StudyConventions = Annotated[str, typer.Option(metavar="NAME", help="textbook | estudy2")]
_StudyPooled = Annotated[
    bool | None,
    typer.Option(
        "--pooled/--no-pooled",
        help="Pooled (CAAR) tests across pairs: always, or never. Default: auto, only "
        "with at least 10 pairs.",
        show_default=False,
    ),
]
_StudyIndependenceTests = Annotated[
    bool,
    typer.Option(
        "--independence-tests",
        help="Also show the pooled tests that assume independent pairs (labelled invalid "
        "when the pairs share an event date). Default: off.",
    ),
]
_StudyMultitest = Annotated[
    str | None,
    typer.Option(
        metavar="METHOD",
        help="Multiple-testing adjustment of the q-value columns over all CARs (and ARs) "
        "of the result: fdr_bh (Benjamini-Hochberg) | holm | none. Default: fdr_bh.",
        show_default=False,
    ),
]
_StudyExclusionBand = Annotated[
    str | None,
    typer.Option(
        metavar="LO,HI",
        help="Days LO,HI around other events' day 0 removed from the estimation window. "
        "Default: the library's (-10,10).",
        show_default=False,
    ),
]

_StudyBootstrap = Annotated[
    int | None,
    typer.Option(
        "--bootstrap",
        metavar="B",
        help="Wild-bootstrap p-value of every CAR (and of the CAAR of the pairs, with 2 or "
        "more) from B draws, at least 99 (999 is a good choice), with its Monte Carlo "
        "error. Default: off.",
        show_default=False,
    ),
]
_StudyWeights = Annotated[
    str,
    typer.Option(metavar="NAME", help="Weights of --bootstrap: rademacher | mammen."),
]
_StudyPermutation = Annotated[
    str | None,
    typer.Option(
        "--permutation",
        metavar="N",
        help="Permutation p-value of every CAR (and CAAR) against N pseudo-event dates "
        "drawn in the estimation window (at least 99), or all of them (all: exact, no "
        "Monte Carlo error). Default: off.",
        show_default=False,
    ),
]
_StudyMde = Annotated[
    bool,
    typer.Option(
        "--mde",
        help="Minimum detectable effect of every CAR: the smallest effect the t test finds "
        "at 5% (two-sided) with 80% power, simulated (4000 studies) from the pair's own "
        "estimation residuals. Default: off.",
    ),
]
_StudySeed = Annotated[
    int,
    typer.Option(
        metavar="N",
        help="Seed of the --bootstrap, --permutation and --mde draws: the same seed gives "
        "the same numbers.",
    ),
]


@command("study")
def study_cmd(
    series: _StudySeries,
    event: EventIds = None,
    event_date: EventDates = None,
    market: _StudyMarket = "sp500",
    model: _StudyModel = "market",
    factor: _StudyFactor = None,
    window: _StudyWindow = None,
    estimation: _StudyEstimation = None,
    min_estimation: _StudyMinEstimation = None,
    conventions: _StudyConventions = "textbook",
    pooled: _StudyPooled = None,
    independence_tests: _StudyIndependenceTests = False,
    multitest: _StudyMultitest = None,
    exclusion_band: _StudyExclusionBand = None,
    bootstrap: _StudyBootstrap = None,
    weights: _StudyWeights = "rademacher",
    permutation: _StudyPermutation = None,
    mde: _StudyMde = False,
    seed: _StudySeed = 0,
    catalog: Catalog = None,
    as_of: AsOf = None,
    vintage: Vintage = None,
    end: End = None,
    data_dir: DataDir = None,
    fmt: Format = None,
    as_json: AsJson = False,
) -> None:
    """Event study of stored series around events: AR and CAR with t and SQ p-values.

    Examples:

      oilimpact study brent wti --event blockade --window 0,1
      oilimpact study brent --event-date talks=2026-01-05 --json
      oilimpact study xle --event blockade --as-of 2026-01-09
      oilimpact study brent wti xle --event blockade --pooled
      oilimpact study brent --event blockade --model market_garch
      oilimpact study brent wti --event blockade --bootstrap 999 --permutation all --mde

    Defaults: events blockade and fto_announced (when neither --event nor --event-date
    is given), the market model on sp500, estimation window -250,-11 (-760,-11 with the
    GARCH models). Pooled tests only
    with at least 10 pairs (--pooled forces them), and then only those valid when pairs
    share an event date (--independence-tests adds the others, labelled).

    Resampling and power (off by default; every CAR window, seed 0 unless --seed):
    --bootstrap B (rademacher weights unless --weights mammen), --permutation N|all and
    --mde print a table each after the summary; their pooled (CAAR) row appears with 2
    or more pairs (--no-pooled drops it) and keeps the pairs' correlation (whole dates
    are resampled). Formulas and measured size: docs/methods-resampling.md.

    --format tsv|csv prints the CAR table (with boot_pvalue, perm_pvalue, mde and
    mde_sentence columns when asked); json prints everything (keys bootstrap,
    permutation, mde and seed when asked).
    """
    from ..events import load_catalog
    from ..eventstudy.engine import event_study

    fmt = _fmt_of(fmt, as_json)
    model = model.replace("-", "_")
    est = _estimation_window(estimation, model)
    windows = tuple(_window(w, "--window") for w in window or [])
    as_of, end = _date_opt(as_of, "--as-of"), _date_opt(end, "--end")
    vintage = _date_opt(vintage, "--vintage")
    options = _study_options(
        windows, min_estimation, pooled, independence_tests, exclusion_band, multitest
    )
    asked = _resampling_asked(bootstrap, weights, permutation, mde, seed)
    with _errors():
        cat = load_catalog(catalog)
    events = _events(event, event_date, cat, ["blockade", "fto_announced"])
    t0 = time.perf_counter()
    with _call(f"event study of {len(series)} series x {len(events)} events"):
        uses_market = bool(market) and model in _MARKET_MODELS
        extra = [market] if uses_market else []
        names = list(dict.fromkeys([*series, *extra, *(factor or [])]))
        frame = _load_frame(names, as_of=as_of, vintage=vintage, end=end, data_dir=data_dir)
        if factor:
            options["factors"] = frame[list(factor)]
        result = event_study(
            frame[list(series)],
            events,
            market=frame[market] if uses_market else None,
            model=model,
            estimation_window=est,
            conventions=conventions,
            catalog=cat,
            **options,
        )
    with _call("resampling and power simulations"):
        resampled = _resample(result, asked, pooled)
    _print_study(result, fmt, resampled, asked)
    _summary(_study_line(result, pooled) + _resampling_line(resampled) + f", {_seconds(t0)}")


def _estimation_window(text: str | None, model: str) -> tuple[int, int]:
    """``--estimation``, or the model's default window (the engine's constants)."""
    if text is not None:
        return _window(text, "--estimation")
    from ..eventstudy.spec import default_estimation_window

    return default_estimation_window(model)


def _study_options(
    windows: tuple[tuple[int, int], ...],
    min_estimation: int | None,
    pooled: bool | None,
    independence_tests: bool,
    exclusion_band: str | None,
    multitest: str | None,
) -> dict[str, Any]:
    """The event-study keywords the options set (the library's defaults for the others)."""
    if min_estimation is not None and min_estimation < 1:
        _input_error(f"--min-estimation must be at least 1, got {min_estimation}")
    options: dict[str, Any] = {}
    if windows:
        options["event_windows"] = windows
    if min_estimation is not None:
        options["min_estimation"] = min_estimation
    if pooled is not None:
        options["pooled"] = pooled
    if independence_tests:
        options["independence_tests"] = True
    if exclusion_band is not None:
        options["exclusion_band"] = _window(exclusion_band, "--exclusion-band")
    if multitest is not None:
        options["multitest"] = multitest
    return options


def _study_line(result: Any, pooled: bool | None) -> str:
    """``study: 2 series x 1 event, 10 CARs (...), no pooled tests (...)`` (without the time)."""
    car = result.car
    sig = int((car["pvalue"] < 0.05).sum()) if len(car) else 0
    q = car["qvalue"] if "qvalue" in car.columns else None
    qsig = f", {int((q < 0.05).sum())} with q < 0.05" if q is not None and len(car) else ""
    pairs = len(result.alignment)
    pooled_text = (
        f"{len(result.tests)} pooled tests"
        if len(result.tests) or pooled is not None
        else f"no pooled tests ({pairs} pairs < 10; --pooled forces them)"
    )
    return (
        f"study: {len(result.spec.series)} series x {_n(len(result.spec.events), 'event')}, "
        f"{len(car)} CARs ({sig} with p(t) < 0.05{qsig}), {pooled_text}"
    )


#: Models whose normal return needs the market series (multifactor: the first factor).
_MARKET_MODELS = ("market", "market_adjusted", "market_garch", "market_gjr", "multifactor")


def _resampling_asked(
    bootstrap: int | None, weights: str, permutation: str | None, mde: bool, seed: int
) -> dict[str, Any]:
    """The resampling and power options, checked before any data is read."""
    from ..eventstudy.resampling import MIN_B

    if bootstrap is not None and bootstrap < MIN_B:
        _input_error(f"--bootstrap needs at least {MIN_B} draws (999 is a good choice), "
                     f"got {bootstrap}")  # fmt: skip
    if weights not in ("rademacher", "mammen"):
        _input_error(f"--weights must be rademacher or mammen, got {weights!r}")
    n_perm: int | None = None
    if permutation is not None and permutation != "all":
        if not permutation.isdigit() or int(permutation) < MIN_B:
            _input_error(
                f"--permutation expects a number of pseudo-event dates of at least {MIN_B}, "
                f"or all; got {permutation!r}"
            )
        n_perm = int(permutation)
    return {
        "bootstrap": bootstrap, "weights": weights, "permutation": permutation is not None,
        "n_perm": n_perm, "mde": mde, "seed": seed,
    }  # fmt: skip


def _resample(result: Any, asked: dict[str, Any], pooled: bool | None) -> dict[str, Any]:
    """Bootstrap, permutation and MDE tables over every CAR window with a finite CAR.

    A window none of whose pairs can be resampled (e.g. a CAR past the end of the data)
    is left out with a warning naming it.
    """
    import pandas as pd

    from ..eventstudy.power import minimum_detectable_effect
    from ..eventstudy.resampling import permutation_test, wild_bootstrap

    seed = asked["seed"]
    jobs: dict[str, Callable[[tuple[int, int]], Any]] = {}
    if asked["bootstrap"]:
        jobs["bootstrap"] = lambda w: wild_bootstrap(
            result, w, B=asked["bootstrap"], weights=asked["weights"], seed=seed, pooled=pooled
        )
    if asked["permutation"]:
        jobs["permutation"] = lambda w: permutation_test(
            result, w, n_perm=asked["n_perm"], seed=seed, pooled=pooled
        )
    if asked["mde"]:
        jobs["mde"] = lambda w: minimum_detectable_effect(result, w, seed=seed)
    car = result.car
    finite = car[car["car"].notna()] if len(car) else car
    windows = list(dict.fromkeys(zip(finite["start"], finite["end"], strict=True)))
    out: dict[str, Any] = {}
    for name, run in jobs.items():
        frames = []
        for a, b in windows:
            try:
                frames.append(run((int(a), int(b))))
            except OilImpactError as exc:
                warnings.warn(f"--{name} [{int(a):+d},{int(b):+d}] not computed: {exc}",
                              stacklevel=2)  # fmt: skip
        out[name] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out


def _resampling_view(name: str, frame: Any, asked: dict[str, Any]) -> tuple[Any, str]:
    """The text-mode table of one resampling result (percent columns) and its title."""
    view = frame.copy()
    if name == "permutation" and "statistic" in view.columns:  # the CAR on an L-day scale
        view = view.rename(columns={"statistic": "scaled CAR, %"})
    pct = ("estimate", "mde", "mde_up", "mde_down", "mde_normal", "se", "car", "scaled CAR, %")
    for col in pct:
        if col in view.columns:
            view[col] = (100 * view[col]).round(2)
    view = view.rename(columns={
        "estimate": "CAR, %", "mde": "MDE, %", "mde_up": "up, %", "mde_down": "down, %",
        "mde_normal": "normal, %", "se": "se, %", "car": "CAR, %",
    })  # fmt: skip
    for col in ("statistic", "pvalue", "mc_se"):
        if col in view.columns:
            view[col] = view[col].round(3)
    keep = {
        "bootstrap": ["scope", "event", "series", "window", "CAR, %", "statistic", "pvalue",
                      "mc_se", "n_dates"],
        "permutation": ["scope", "event", "series", "window", "CAR, %", "scaled CAR, %",
                        "pvalue", "mc_se", "n_perm", "exhaustive"],
        "mde": ["event", "series", "window", "MDE, %", "up, %", "down, %", "normal, %",
                "se, %", "CAR, %", "detected"],
    }[name]  # fmt: skip
    seed = asked["seed"]
    if name == "bootstrap":
        title = (
            f"Wild bootstrap ({asked['weights']} weights, B = {asked['bootstrap']}, seed "
            f"{seed}): two-sided p-values of the CAR t statistics, null imposed"
        )
    elif name == "permutation":
        every = not len(frame) or bool(frame["exhaustive"].all())
        drawn = "all of them" if every else f"up to {asked['n_perm']} drawn, seed {seed}"
        title = f"Permutation test: the CAR against the pseudo-event dates ({drawn})"
    else:
        n_sim = int(frame["n_sim"].iloc[0]) if len(frame) else 0
        title = (
            "Minimum detectable effect: smallest CAR the t test finds at 5% (two-sided) with "
            f"80% power ({n_sim} simulated studies, seed {seed})"
        )
    return view[[c for c in keep if c in view.columns]], title


def _car_with_resampling(car: Any, resampled: dict[str, Any]) -> Any:
    """The CAR table with the pairs' resampling p-values and MDE as extra columns."""
    key = ["event", "series", "start", "end"]
    table = car.copy()
    picks = {
        "bootstrap": {"pvalue": "boot_pvalue", "mc_se": "boot_mc_se"},
        "permutation": {"pvalue": "perm_pvalue", "mc_se": "perm_mc_se"},
        "mde": {"mde": "mde", "sentence": "mde_sentence"},
    }
    for name, cols in picks.items():
        frame = resampled.get(name)
        if frame is None:
            continue
        if len(frame) and "scope" in frame.columns:
            frame = frame[frame["scope"] == "pair"]
        part = (
            frame[key + list(cols)].rename(columns=cols)
            if len(frame) else car[key].iloc[:0].assign(**{c: [] for c in cols.values()})
        )  # fmt: skip
        table = table.merge(part, on=key, how="left")
    return table


def _print_study(result: Any, fmt: OutputFormat, resampled: dict[str, Any],
                 asked: dict[str, Any]) -> None:  # fmt: skip
    """The study result, then the resampling and power tables (when asked)."""
    if not resampled:
        _print_result(result, fmt, result.car)
    elif fmt is OutputFormat.json:
        payload = result.to_dict()
        payload.update({name: _frame_json(frame) for name, frame in resampled.items()})
        payload["seed"] = asked["seed"]
        _json(payload)
    elif fmt in (OutputFormat.csv, OutputFormat.tsv):
        _emit(_car_with_resampling(result.car, resampled), fmt, title="")
    else:
        sys.stdout.write(result.summary().as_text(max_rows=None) + "\n")  # every row asked for
        for name, frame in resampled.items():
            view, title = _resampling_view(name, frame, asked)
            _output.out.print()
            if len(view):
                _print_table(view, title=title, titled=True)
            else:
                _output.out.print(escape(f"{title}: no window could be computed"))
            if name == "mde" and len(frame):
                for row in frame.itertuples(index=False):
                    _output.out.print(
                        escape(f"  {row.event} / {row.series} {row.window}: {row.sentence}")
                    )


def _resampling_line(resampled: dict[str, Any]) -> str:
    """``, bootstrap 3 p-values, ...`` for the summary line (empty when none was asked)."""
    parts = []
    for name, frame in resampled.items():
        if name == "mde":
            parts.append(f"{len(frame)} MDEs")
        else:
            sig = int((frame["pvalue"] < 0.05).sum()) if len(frame) else 0
            parts.append(f"{name} {len(frame)} p-values ({sig} < 0.05)")
    return (", " + ", ".join(parts)) if parts else ""
