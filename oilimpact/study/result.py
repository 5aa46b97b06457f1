"""Result values of :func:`oilimpact.study.engine.event_study`.

An :class:`EventStudyResult` is a frozen value holding the specification that was used
(:class:`StudySpec`), the alignment of every (event, series) pair, the tidy abnormal
returns, the CAR table with the single-pair tests, the cross-sectional tests (two or
more pairs) and the :class:`~oilimpact.study.panel.AbnormalPanel` the numbers came from.
It renders itself as text (:meth:`EventStudyResult.summary`), HTML (``_repr_html_``), a
tidy frame, a JSON-able dict and a plotly figure.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .panel import AbnormalPanel
from .single import CAR_TEST_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = [
    "CAR_COLUMNS",
    "EventStudyResult",
    "EventStudyWarning",
    "ShortEstimationWarning",
    "StudySpec",
]


class EventStudyWarning(UserWarning):
    """A choice of the event study the user should know about (also in the summary)."""


class ShortEstimationWarning(EventStudyWarning):
    """A short estimation window lowered the default minimum estimation length."""


#: Columns of :attr:`EventStudyResult.car`: those of
#: :func:`~oilimpact.study.single.car_tests` ("asset" named "series"), "confounded" and
#: "sessions" (sessions of the series' calendar the window's returns span), "qvalue" and
#: "sq_qvalue" (multiple-testing adjusted t and SQ p-values, see ``StudySpec.multitest``).
CAR_COLUMNS: tuple[str, ...] = (
    *("series" if c == "asset" else c for c in CAR_TEST_COLUMNS),
    "confounded",
    "sessions",
    "qvalue",
    "sq_qvalue",
)


@dataclass(frozen=True, slots=True)
class StudySpec:
    """Everything an event study used, resolved (no ``"auto"`` left).

    Attributes
    ----------
    model : str
        Normal-return model.
    market : str or None
        Name of the market series.
    factors : tuple of str
        Extra factor names (multi-factor model).
    estimation_window : (int, int)
        Inclusive relative trading days.
    event_windows : tuple of (int, int)
        CAR windows.
    returns : {"log", "simple"}
    input : {"prices", "returns"}
        What the data held (``"auto"`` resolved).
    min_estimation : int
        Minimum non-missing estimation days per pair.
    conventions : {"textbook", "estudy2"}
    exclude_confounders : bool
        Whether other events' bands were removed from the estimation windows.
    exclusion_band : (int, int)
        Relative days around each other event's day 0 removed from the estimation
        windows (default ``(-10, 10)``, independent of the event windows).
    multitest : {"fdr_bh", "holm", "none"}
        Adjustment in the ``qvalue`` columns: Benjamini-Hochberg q-values over every
        CAR t test of the result (``sq_qvalue``: every CAR SQ test; ``abnormal.qvalue``:
        every AR t test), Holm adjusted p-values, or none.
    events, series : tuple of str
        Studied event ids and series names.
    confounders : tuple of str
        Ids of the other (catalog) events used for cleaning and flagging.
    pooled : bool or "auto"
        Whether the pooled (cross-sectional) tests were asked for (``"auto"``: by the
        policy of :func:`~oilimpact.study.crosssection.cross_sectional_tests`).
    independence_tests : bool
        Whether the pooled tests that assume independent pairs were asked for.
    """

    model: str
    market: str | None
    factors: tuple[str, ...]
    estimation_window: tuple[int, int]
    event_windows: tuple[tuple[int, int], ...]
    returns: Literal["log", "simple"]
    input: Literal["prices", "returns"]
    min_estimation: int
    conventions: Literal["textbook", "estudy2"]
    exclude_confounders: bool = True
    exclusion_band: tuple[int, int] = (-10, 10)
    multitest: Literal["fdr_bh", "holm", "none"] = "fdr_bh"
    events: tuple[str, ...] = ()
    series: tuple[str, ...] = ()
    confounders: tuple[str, ...] = ()
    pooled: bool | Literal["auto"] = "auto"
    independence_tests: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-able builtins (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-able records (15 significant digits): NaN -> None, timestamps -> ISO."""
    if df.empty:
        return []
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object and len(out[col]) and isinstance(out[col].iloc[0], tuple):
            out[col] = out[col].map(list)
    return json.loads(
        out.to_json(orient="records", date_format="iso", date_unit="s", double_precision=15)
    )


def _independence_note() -> str:
    """The policy's note on independence-assuming tests ("" if it has none)."""
    try:
        from . import crosssection
    except ImportError:  # pragma: no cover - part of the package
        return ""
    return str(getattr(crosssection, "INDEPENDENCE_NOTE", ""))


def _json_default(x: Any) -> Any:
    """numpy scalars and arrays in the policy's attrs as builtins."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def _multitest_note(method: str, m: int) -> str:
    """The summary's sentence on the multiple-testing adjustment of ``q(t)``."""
    if method == "none":
        return f"q(t): not adjusted for multiple testing ({m} CAR t tests); q = p"
    name = "Benjamini-Hochberg q-value" if method == "fdr_bh" else "Holm adjusted p-value"
    return f"q(t): {name} over the {m} CAR t tests of this result (every event, series and window)"


def _fmt(x: Any, spec: str = ".4f") -> str:
    try:
        if x is None or (isinstance(x, float) and np.isnan(x)):
            return "-"
        return format(x, spec)
    except (TypeError, ValueError):
        return str(x)


@dataclass(frozen=True, slots=True, eq=False)
class EventStudyResult:
    """The result of an event study: a frozen value.

    Attributes
    ----------
    spec : StudySpec
        What was estimated.
    alignment : pandas.DataFrame
        One row per (event, series): ``event, series, title, timestamp, time_known,
        day0, reason, confounded_by, n_est, dropped_est_days, est_start, est_end,
        event_days_observed, spanning_returns, uncarried_returns``: the last two count the
        returns that span a date where only one series of the pair was observed, and the
        returns after the pair's last session that could not be carried.
    abnormal : pandas.DataFrame
        Tidy AR: ``event, series, day, date, ar, se, tstat, pvalue, sq_pvalue,
        sessions, qvalue``; ``qvalue`` adjusts ``pvalue`` over all rows of the table
        (``spec.multitest``); ``sessions`` is how many sessions of the series' calendar the
        return spans (2 when it spans a session without a price: its AR's variance is
        scaled by it, see :func:`~oilimpact.study.models.scale_spanning_returns`).
    car : pandas.DataFrame
        One row per (event, series, window), columns :data:`CAR_COLUMNS`.
    tests : pandas.DataFrame
        Pooled (cross-sectional) tests with two or more pairs, as the policy of
        :func:`~oilimpact.study.crosssection.cross_sectional_tests` returns them
        (``window, test, statistic, pvalue, n, caar, rbar, assumes_independence,
        note``; empty when they were not run, with ``attrs["notes"]`` saying why).
    panel : AbnormalPanel
        The arrays behind the tables (not shown in the repr).
    notices : tuple of str
        What the user should know about how the study was run (e.g. a short
        estimation window that lowered the minimum estimation length); also issued
        as warnings and listed in the summary's notes.
    """

    spec: StudySpec
    alignment: pd.DataFrame
    abnormal: pd.DataFrame
    car: pd.DataFrame
    tests: pd.DataFrame
    panel: AbnormalPanel = field(repr=False)
    notices: tuple[str, ...] = ()

    # ---- tables --------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """A tidy copy of the CAR table (one row per event, series and window)."""
        return self.car.copy()

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Two-sided ``1 - alpha`` confidence intervals of the CARs.

        ``car -/+ t_{dof, 1 - alpha/2} * se`` with the PE-corrected standard error and
        ``dof = L1 - k`` (MacKinlay 1997).

        Returns
        -------
        pandas.DataFrame
            Columns ``event, series, window, car, lower, upper``.
        """
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        q = stats.t.ppf(1.0 - alpha / 2.0, self.car["dof"].to_numpy(dtype="float64"))
        half = q * self.car["se"].to_numpy(dtype="float64")
        out = self.car[["event", "series", "window", "car"]].copy()
        out["lower"] = out["car"].to_numpy() - half
        out["upper"] = out["car"].to_numpy() + half
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (``--json`` output, results.json): spec and all tables."""
        return {
            "spec": self.spec.to_dict(),
            "alignment": _records(self.alignment),
            "car": _records(self.car),
            "abnormal": _records(self.abnormal),
            "tests": _records(self.tests),
            "pooled": self.pooled_info(),
            "notices": list(self.notices),
        }

    def pooled_info(self) -> dict[str, Any]:
        """What the pooled-test policy decided, JSON-able: ``notes`` (why tests are
        absent or flagged) and the policy's decisions (``run``, ``clustered``,
        ``n_pairs``, ``min_pairs``, ``hidden``) when the tests were considered."""
        attrs = getattr(self.tests, "attrs", {}) or {}
        info = dict(attrs.get("pooled") or {})
        info["notes"] = [str(n) for n in attrs.get("notes", [])]
        return json.loads(json.dumps(info, default=_json_default))

    # ---- text and HTML ---------------------------------------------------------------
    def _header_lines(self) -> list[str]:
        s = self.spec
        reg = s.market or "-"
        if s.factors:
            reg += " + " + ", ".join(s.factors)
        return [
            f"Event study: model={s.model} (regressors: {reg}), returns={s.returns} "
            f"({s.input} given), conventions={s.conventions}",
            f"Estimation window [{s.estimation_window[0]}, {s.estimation_window[1]}] "
            f"trading days, min {s.min_estimation}; other events' days "
            f"[{s.exclusion_band[0]:+d}, {s.exclusion_band[1]:+d}] "
            f"{'excluded' if s.exclude_confounders else 'kept'}",
        ]

    def _car_display(self) -> pd.DataFrame:
        c = self.car
        out = pd.DataFrame(
            {
                "event": c["event"].astype(str),
                "series": c["series"].astype(str),
                "window": [f"[{a:+d},{b:+d}]" for a, b in zip(c["start"], c["end"], strict=True)],
                "CAR": [_fmt(v) for v in c["car"]],
                "se": [_fmt(v) for v in c["se"]],
                "t": [_fmt(v, ".2f") for v in c["tstat"]],
                "p(t)": [_fmt(v, ".3f") for v in c["pvalue"]],
                "p(SQ)": [_fmt(v, ".3f") for v in c["sq_pvalue"]],
                "q(t)": [_fmt(v, ".3f") for v in c["qvalue"]],
                "n_est": c["n_est"].astype(int).astype(str),
                "flag": ["confounded" if f else "" for f in c["confounded"]],
            }
        )
        return out

    def _tests_display(self) -> tuple[pd.DataFrame, list[str]]:
        """The pooled tests as printed, and their numbered notes (each text once)."""
        t = self.tests
        notes: list[str] = []
        refs = []
        keep = _independence_note()  # one sentence that holds a ";"
        for note in t["note"] if "note" in t.columns else [""] * len(t):
            text = str(note or "").replace(keep, "\0") if keep else str(note or "")
            parts = [x.strip().replace("\0", keep) for x in text.split("; ") if x.strip()]
            marks = []
            for part in parts:
                if part not in notes:
                    notes.append(part)
                marks.append(f"[{notes.index(part) + 1}]")
            refs.append(" ".join(marks))
        out = pd.DataFrame(
            {
                "window": t["window"].astype(str),
                "test": t["test"].astype(str),
                "stat": [_fmt(v, ".3f") for v in t["statistic"]],
                "p": [_fmt(v, ".3f") for v in t["pvalue"]],
                "n": t["n"].astype(str),
            }
        )
        if "caar" in t.columns:
            out["CAAR"] = [_fmt(v) for v in t["caar"]]
        if "rbar" in t.columns and t["rbar"].notna().any():
            out["rbar"] = [_fmt(v, ".2f") for v in t["rbar"]]
        out["note"] = refs
        return out, [f"[{i + 1}] {n}" for i, n in enumerate(notes)]

    def _pooled_lines(self) -> list[str]:
        """The pooled-test section of the summary (empty when there is nothing to say)."""
        policy = self.pooled_info()["notes"]
        if self.tests.empty and not policy:
            return []
        lines = ["", "Pooled (cross-sectional) tests:"]
        if not self.tests.empty:
            table, notes = self._tests_display()
            lines.append(table.to_string(index=False))
            lines += [f"  {n}" for n in notes]
        lines += [f"  - {n}" for n in policy]
        return lines

    def _notes(self) -> list[str]:
        notes = list(self.notices)
        a = self.alignment
        if "confounded_by" in a.columns:
            for _, r in a.iterrows():
                if r.get("confounded_by"):
                    notes.append(
                        f"{r['event']}/{r['series']}: event window contains day 0 of "
                        f"{r['confounded_by']}"
                    )
        if "sq_min_pvalue" in self.car.columns and (self.car["sq_min_pvalue"] > 0.05).any():
            notes.append(
                "SQ test: some rows have too few estimation days to reach p < 0.05 "
                "(see sq_min_pvalue = 2/(n+1))"
            )
        notes.append(
            "p(t): PE-corrected t test, Student t with L1-k dof (MacKinlay 1997); "
            "p(SQ): sample-quantile test, studentised rank against estimation residual sums "
            "(Gelbach, Helland and Klick 2013)"
        )
        notes.append(_multitest_note(self.spec.multitest, int(self.car["pvalue"].notna().sum())))
        spanning = (
            self.car[self.car["sessions"] > self.car["n_days"]] if "sessions" in self.car else []
        )
        if len(spanning):
            notes.append(
                f"{len(spanning)} CAR row(s) include a return spanning a session without a "
                "price (sessions > days): its variance is scaled by the sessions spanned"
            )
        return notes

    def _event_lines(self) -> list[str]:
        a = self.alignment
        lines = []
        if "title" not in a.columns:
            return lines
        seen = set()
        for _, r in a.iterrows():
            day0 = pd.Timestamp(r["day0"]).date() if pd.notna(r["day0"]) else "-"
            key = (r["event"], r["series"])
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"  {r['event']} / {r['series']}: day 0 {day0} -- {r['title']}")
        return lines

    def summary(self) -> str:
        """Plain-text summary: the specification, events and the CAR table."""
        lines = self._header_lines()
        ev = self._event_lines()
        if ev:
            lines += ["Events:"] + ev
        lines.append("")
        lines.append(self._car_display().to_string(index=False))
        lines += self._pooled_lines()
        lines.append("")
        lines += ["Notes:"] + [f"  - {n}" for n in self._notes()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """HTML rendering for notebooks; all user text (titles, names) is escaped."""
        head = "".join(f"<p>{html.escape(x)}</p>" for x in self._header_lines())
        ev = self._event_lines()
        evs = (
            "<ul>" + "".join(f"<li>{html.escape(x.strip())}</li>" for x in ev) + "</ul>"
            if ev
            else ""
        )
        table = self._car_display().to_html(index=False, escape=True, border=0)
        tests = ""
        policy = self.pooled_info()["notes"]
        if not self.tests.empty or policy:
            tests = "<h4>Pooled (cross-sectional) tests</h4>"
            notes = list(policy)
            if not self.tests.empty:
                table, numbered = self._tests_display()
                tests += table.to_html(index=False, escape=True, border=0)
                notes = numbered + notes
            tests += "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"
        notes = "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self._notes()) + "</ul>"
        return f"<div class='oilimpact-event-study'>{head}{evs}{table}{tests}{notes}</div>"

    # ---- figure ------------------------------------------------------------------------
    def car_path(
        self, event: str | None = None, series: str | None = None, alpha: float = 0.05
    ) -> pd.DataFrame:
        """Cumulative AR over the event-window days of one pair, with its PE band.

        Returns
        -------
        pandas.DataFrame
            ``day, car, se, lower, upper``: ``car`` cumulates the AR from the first
            event-window day, ``se = s sqrt(g_t'(I + X*(X'X)^{-1}X*')g_t)``.
        """
        i = self._pair(event, series)
        p = self.panel
        ar = p.event_ar[i]
        cum = np.cumsum(ar)
        L2 = ar.size
        lower_tri = np.tril(np.ones((L2, L2)))
        pe = np.nan_to_num(p.pe_cov[i], nan=np.nan)
        var = p.sigma2[i] * np.einsum("ts,su,tu->t", lower_tri, pe, lower_tri)
        se = np.sqrt(var)
        dof = float(p.n_est[i] - p.n_params)
        q = float(stats.t.ppf(1.0 - alpha / 2.0, dof))
        return pd.DataFrame(
            {
                "day": p.event_days,
                "car": cum,
                "se": se,
                "lower": cum - q * se,
                "upper": cum + q * se,
            }
        )

    def _pair(self, event: str | None, series: str | None) -> int:
        ids = self.panel.ids
        ev = ids.get_level_values(0)
        asset = ids.get_level_values(1)
        mask = np.ones(len(ids), dtype=bool)
        if event is not None:
            mask &= np.asarray(ev == event)
        if series is not None:
            mask &= np.asarray(asset == series)
        hits = np.flatnonzero(mask)
        if hits.size == 0:
            raise KeyError(
                f"no pair for event={event!r}, series={series!r}; pairs: "
                f"{', '.join(f'{a}/{b}' for a, b in ids[:20])}"
            )
        return int(hits[0])

    def plot(
        self, event: str | None = None, series: str | None = None, alpha: float = 0.05
    ) -> go.Figure:
        """Plotly figure of one pair's CAR path with its ``1 - alpha`` PE-corrected band.

        Defaults to the first (event, series) pair. Traces: the band's upper and lower
        edges (named ``"95% band upper"``/``"95% band lower"`` at ``alpha=0.05``, filled
        between) and the ``"CAR"`` line.
        """
        import plotly.graph_objects as go

        i = self._pair(event, series)
        ev, asset = self.panel.ids[i]
        path = self.car_path(ev, asset, alpha)
        level = f"{100 * (1 - alpha):g}%"
        fig = go.Figure()
        fig.add_trace(
            go.Scatter(
                x=path["day"],
                y=path["upper"],
                name=f"{level} band upper",
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=path["day"],
                y=path["lower"],
                name=f"{level} band lower",
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(31,119,180,0.2)",
                showlegend=True,
                legendgroup="band",
            )
        )
        fig.add_trace(go.Scatter(x=path["day"], y=path["car"], name="CAR", mode="lines+markers"))
        fig.add_hline(y=0.0, line={"color": "grey", "width": 1, "dash": "dot"})
        fig.update_layout(
            title=html.escape(f"CAR of {asset} around {ev} ({self.spec.model} model)"),
            xaxis_title="trading day relative to day 0",
            yaxis_title="cumulative abnormal return",
            template="plotly_white",
        )
        return fig
