"""What the brief concludes: multiple-testing adjustment, shared day-0 rows, key findings.

Pure functions of the brief's tables (no I/O). :func:`compute_brief
<oilimpact.report.brief.compute_brief>` calls them after the event studies and the
intervention fits; the page shows the "Key findings" box from :func:`key_findings` and
``results.json`` carries the same rows under ``findings``.

Every verdict sentence is derived from the numbers in its row by :func:`price_verdict`
or :func:`volume_verdict`; nothing is written by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..eventstudy.multitest import adjust_pvalues  # the engine's adjustment, one implementation

__all__ = [
    "FINDING_COLUMNS",
    "adjust_pvalues",
    "key_findings",
    "merge_shared_day0",
    "price_verdict",
    "volume_verdict",
]

#: Multiple-testing adjustments (:func:`oilimpact.eventstudy.multitest.adjust_pvalues`).
MultiTest = Literal["fdr_bh", "holm", "none"]

#: Columns of the key-findings table (``results.json["findings"]``).
FINDING_COLUMNS = (
    "kind",
    "event",
    "series",
    "label",
    "measure",
    "estimate",
    "unit",
    "ci_lower",
    "ci_upper",
    "tstat",
    "pvalue",
    "sq_pvalue",
    "placebo_pvalue",
    "qvalue",
    "n_tests",
    "confounded",
    "confounded_with",
    "n",
    "estimate_shown",
    "ci_shown",
    "verdict",
    "mde",
    "mde_sentence",
)


def merge_shared_day0(day0: pd.DataFrame, car: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (series, day-0 date): events that share a day 0 are listed together.

    Two catalog events can fall before the same session of a series (Maduro's offer and
    his capture both map to 2026-01-05 for Henry Hub): the abnormal return is the same
    number, so listing it once per event would count one observation twice.

    Parameters
    ----------
    day0 : pandas.DataFrame
        Day-0 abnormal returns, one row per (event, series): columns ``event, series,
        date`` and the statistics.
    car : pandas.DataFrame, optional
        The CAR table; its ``[+0,+0]`` rows' ``confounded`` flag (another event's day 0
        inside the window) is carried over.

    Returns
    -------
    pandas.DataFrame
        The rows of ``day0`` with ``event`` joined by ``" + "`` for shared rows,
        ``events`` (the count), ``confounded`` (shared, or flagged in ``car``) and
        ``confounded_with`` (the other events).

    Examples
    --------
    >>> d = pd.DataFrame({"event": ["a", "b", "a"], "series": ["hh", "hh", "wti"],
    ...                   "date": pd.to_datetime(["2026-01-05"] * 3), "ar": [0.1, 0.1, 0.2]})
    >>> merge_shared_day0(d)[["event", "series", "confounded"]].values.tolist()
    [['a + b', 'hh', True], ['a', 'wti', False]]
    """
    if not len(day0):
        return day0.assign(events=pd.Series(dtype=int), confounded=pd.Series(dtype=bool),
                           confounded_with=pd.Series(dtype=object))  # fmt: skip
    flagged: dict[tuple[str, str], bool] = {}
    if car is not None and len(car) and {"start", "end", "confounded"} <= set(car.columns):
        zero = car[(car["start"] == 0) & (car["end"] == 0)]
        flagged = {
            (str(r.event), str(r.series)): bool(r.confounded) for r in zero.itertuples(index=False)
        }
    key = pd.to_datetime(day0["date"]).dt.strftime("%Y-%m-%d").fillna("NaT") + "|" + day0[
        "series"
    ].astype(str)
    rows = []
    for _, grp in day0.groupby(key, sort=False):
        first = grp.iloc[0].to_dict()
        evs = [str(e) for e in grp["event"]]
        first["event"] = " + ".join(evs)
        first["events"] = len(evs)
        own = any(flagged.get((e, str(first["series"])), False) for e in evs)
        first["confounded"] = len(evs) > 1 or own
        first["confounded_with"] = ", ".join(evs) if len(evs) > 1 else ""
        rows.append(first)
    return pd.DataFrame(rows).reset_index(drop=True)


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:+.{digits}f}%"


def _p(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def price_verdict(row: Mapping[str, Any], alpha: float = 0.05) -> str:
    """One sentence on a day-0 abnormal return, derived from its numbers.

    The rule: a move counts as evidence only when the sample-quantile test (which does
    not assume normal returns) rejects at ``alpha`` *and* the q-value over the brief's
    family of tests is below ``alpha``; a rejection that does not survive the
    adjustment is called nominal. A confounded row says which events share it.

    Examples
    --------
    >>> price_verdict({"label": "Brent", "estimate": 0.016, "pvalue": 0.57,
    ...                "sq_pvalue": 0.37, "qvalue": 0.9, "n_tests": 80})
    'Brent +1.6% on day 0, within the range of ordinary days (SQ p 0.370).'
    """
    label, est = str(row.get("label", row.get("series", ""))), float(row.get("estimate", math.nan))
    if not np.isfinite(est):
        return f"{label}: no day-0 estimate (no session after the event in the data)."
    p_t, p_sq = float(row.get("pvalue", math.nan)), float(row.get("sq_pvalue", math.nan))
    q, n = float(row.get("qvalue", math.nan)), int(row.get("n_tests", 0) or 0)
    head = f"{label} {_pct(est)} on day 0"
    if p_sq < alpha and q < alpha:
        text = (
            f"{head}, larger than ordinary days (SQ p {_p(p_sq)}, t p {_p(p_t)}) and "
            f"significant after adjusting for the {n} tests of this brief (q {_p(q)})."
        )
    elif p_sq < alpha or p_t < alpha:
        text = (
            f"{head}: nominally significant (t p {_p(p_t)}, SQ p {_p(p_sq)}) but not after "
            f"adjusting for the {n} tests of this brief (q {_p(q)})."
            if not q < alpha
            else f"{head}: the t test rejects (p {_p(p_t)}, q {_p(q)}) but the SQ test, "
            f"which does not assume normal returns, does not (SQ p {_p(p_sq)})."
        )
    else:
        text = f"{head}, within the range of ordinary days (SQ p {_p(p_sq)})."
    if row.get("confounded"):
        other = str(row.get("confounded_with") or "another catalog event")
        text += f" Confounded: {other} share this day 0 or window, so it mixes their effects."
    return text


def volume_verdict(row: Mapping[str, Any], alpha: float = 0.05) -> str:
    """One sentence on a volume level shift, derived from its numbers.

    Evidence requires the model p-value and the placebo (in-time permutation) p-value
    both below ``alpha``; one of the two is called mixed evidence.

    Examples
    --------
    >>> volume_verdict({"label": "US crude imports from Venezuela", "event": "blockade",
    ...                 "estimate": -182.6, "unit": "kb/d", "ci_lower": -330.0,
    ...                 "ci_upper": -35.2, "pvalue": 0.019, "placebo_pvalue": 0.032})
    'US crude imports from Venezuela: -182.6 kb/d after blockade (95% CI -330.0 to -35.2; p 0.019, placebo p 0.032): distinguishable from zero.'
    """
    label, est = str(row.get("label", row.get("series", ""))), float(row.get("estimate", math.nan))
    event = str(row.get("event", ""))
    if not np.isfinite(est):
        why = str(row.get("note", "") or "").strip()
        after = f" after {event}" if event else ""
        return f"{label}: no post-event data yet{after}" + (f"; {why}." if why else ".")
    unit = str(row.get("unit", ""))
    p, pp = float(row.get("pvalue", math.nan)), float(row.get("placebo_pvalue", math.nan))
    lo, hi = float(row.get("ci_lower", math.nan)), float(row.get("ci_upper", math.nan))
    level = round(100 * (1 - alpha))
    both = p < alpha and (pp < alpha or not np.isfinite(pp))
    word = (
        "distinguishable from zero"
        if both
        else ("mixed evidence" if (p < alpha or pp < alpha) else "not distinguishable from zero")
    )
    text = (
        f"{label}: {est:+.1f} {unit} after {event} ({level}% CI {lo:.1f} to {hi:.1f}; "
        f"p {_p(p)}, placebo p {_p(pp)}): {word}."
    )
    if row.get("confounded"):
        text += f" Modelled jointly with {row.get('confounded_with')}: adjacent events."
    return text


def _t_interval(est: float, se: float, dof: float, alpha: float) -> tuple[float, float]:
    if not (np.isfinite(est) and np.isfinite(se) and np.isfinite(dof) and dof > 0):
        return math.nan, math.nan
    half = float(stats.t.ppf(1 - alpha / 2, dof)) * se
    return est - half, est + half


def _mde_of(mde: pd.DataFrame | None, event: str, series: str) -> tuple[float, str]:
    """The (MDE, sentence) of a pair from the MDE table, or (NaN, "") when absent."""
    if mde is None or not len(mde):
        return math.nan, ""
    hit = mde[(mde["event"] == event) & (mde["series"] == series)]
    if not len(hit):
        return math.nan, ""
    return float(hit["mde"].iloc[0]), str(hit["sentence"].iloc[0])


def _price_rows(
    car: pd.DataFrame,
    events: Sequence[str],
    series: Sequence[str],
    alpha: float,
    mde: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    if not len(car):
        return []
    zero = car[(car["start"] == 0) & (car["end"] == 0)]
    n_tests = int(np.isfinite(car["pvalue"].astype(float)).sum())
    rows = []
    for ev in events:
        for name in series:
            hit = zero[(zero["event"] == ev) & (zero["series"] == name)]
            if not len(hit):
                continue
            r = hit.iloc[0]
            lo, hi = _t_interval(float(r["car"]), float(r["se"]), float(r.get("dof", math.nan)),
                                 alpha)  # fmt: skip
            rec = {
                "kind": "price",
                "event": ev,
                "series": name,
                "label": str(r.get("label", name)),
                "measure": "abnormal log return on day 0",
                "estimate": float(r["car"]),
                "unit": "log return (fraction)",
                "ci_lower": lo,
                "ci_upper": hi,
                "tstat": float(r["tstat"]),
                "pvalue": float(r["pvalue"]),
                "sq_pvalue": float(r["sq_pvalue"]),
                "placebo_pvalue": math.nan,
                "qvalue": float(r.get("qvalue", math.nan)),
                "n_tests": n_tests,
                "confounded": bool(r.get("confounded", False)),
                "confounded_with": str(r.get("confounded_with", "") or ""),
                "n": int(r["n_est"]) if pd.notna(r.get("n_est")) else 0,
            }
            rec["verdict"] = price_verdict(rec, alpha)
            rec["mde"], rec["mde_sentence"] = _mde_of(mde, ev, name)
            rows.append(rec)
    return rows


def _volume_rows(
    effects: pd.DataFrame,
    events: Sequence[str],
    missing: Mapping[str, str],
    labels: Mapping[str, str],
    alpha: float,
) -> list[dict[str, Any]]:
    rows = []
    if len(effects):
        lvl = effects[effects["term"] == "level"]
        for r in lvl.itertuples(index=False):
            if r.event not in events:
                continue
            joint = [e for e in lvl.loc[lvl["series"] == r.series, "event"] if e != r.event]
            rec = {
                "kind": "volume",
                "event": r.event,
                "series": r.series,
                "label": r.label,
                "measure": "level shift",
                "estimate": float(r.estimate),
                "unit": str(r.unit),
                "ci_lower": float(r.ci_lower),
                "ci_upper": float(r.ci_upper),
                "tstat": float(getattr(r, "stat", math.nan)),
                "pvalue": float(r.pvalue),
                "sq_pvalue": math.nan,
                "placebo_pvalue": float(getattr(r, "placebo_pvalue", math.nan)),
                "qvalue": math.nan,
                "n_tests": 0,
                "confounded": bool(joint),
                "confounded_with": ", ".join(joint),
                "n": int(getattr(r, "n_obs", 0) or 0),
            }
            rec["verdict"] = volume_verdict(rec, alpha)
            rec["mde"], rec["mde_sentence"] = math.nan, ""
            rows.append(rec)
    for name, note in missing.items():
        rec: dict[str, Any] = {c: math.nan for c in FINDING_COLUMNS}
        rec.update(kind="volume", event="", series=name, label=labels.get(name, name),
                   measure="level shift", unit="", n_tests=0, confounded=False,
                   confounded_with="", n=0, note=note)  # fmt: skip
        rec["verdict"] = volume_verdict(rec, alpha)
        rec["mde_sentence"] = ""
        rec.pop("note")
        rows.append(rec)
    return rows


def key_findings(
    car: pd.DataFrame,
    effects: pd.DataFrame,
    *,
    events: Sequence[str],
    series: Sequence[str],
    missing_volumes: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    alpha: float = 0.05,
    mde: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The key findings: per focus event, the day-0 move of each key price and the
    level shift of each volume series, with a one-sentence verdict and, for prices, the
    minimum detectable effect.

    Parameters
    ----------
    car : pandas.DataFrame
        The brief's CAR table (with ``qvalue`` over the brief's family, ``dof``,
        ``confounded`` and optionally ``confounded_with``).
    effects : pandas.DataFrame
        The brief's intervention-effects table (``series, label, unit, event, term,
        estimate, ci_lower, ci_upper, pvalue, placebo_pvalue``).
    events : sequence of str
        The focus events.
    series : sequence of str
        The price series to report (those absent from ``car`` are skipped).
    missing_volumes : mapping, optional
        Volume series without an estimate and why (e.g. no post-event data yet).
    labels : mapping, optional
        Display labels of ``missing_volumes``.
    alpha : float
        Level of the intervals and of the verdicts.
    mde : pandas.DataFrame, optional
        Minimum detectable effects of the day-0 abnormal returns, one row per (event,
        series) with columns ``event, series, mde, sentence``, as
        :func:`oilimpact.eventstudy.power.minimum_detectable_effect` returns them with
        ``window=(0, 0)``. A price finding without a row has ``mde`` NaN.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FINDING_COLUMNS`. For prices the interval is the day-0 AR ±
        ``t_{L1-k}(1 - alpha/2)`` times its prediction-error standard error
        (MacKinlay 1997, eq. 9); for volumes the model interval of the level term.
        ``mde`` (a fraction, like ``estimate``) and ``mde_sentence`` ("an effect under
        5.6% on day 0 could not have been told from noise ...") are the price rows' MDE;
        volume rows have NaN and "".

    Examples
    --------
    >>> car = pd.DataFrame({"event": ["b"], "series": ["brent"], "start": [0], "end": [0],
    ...                     "car": [0.016], "se": [0.02], "dof": [196], "tstat": [0.8],
    ...                     "pvalue": [0.42], "sq_pvalue": [0.39], "qvalue": [0.9],
    ...                     "n_est": [198]})
    >>> m = pd.DataFrame({"event": ["b"], "series": ["brent"], "mde": [0.0555],
    ...                   "sentence": ["an effect under 5.6% on day 0 could not have been "
    ...                                "told from noise"]})
    >>> f = key_findings(car, pd.DataFrame(), events=["b"], series=["brent"], mde=m)
    >>> float(f.loc[0, "mde"]), f.loc[0, "mde_sentence"][:23]
    (0.0555, 'an effect under 5.6% on')
    """
    rows = _price_rows(car, events, series, alpha, mde)
    rows += _volume_rows(effects, events, dict(missing_volumes or {}), dict(labels or {}), alpha)
    for r in rows:
        r["estimate_shown"], r["ci_shown"] = _shown(r)
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))


def _shown(row: Mapping[str, Any]) -> tuple[str, str]:
    """Human text of the estimate and its interval: percent for prices, units for volumes."""
    est, lo, hi = (float(row.get(k, math.nan)) for k in ("estimate", "ci_lower", "ci_upper"))
    if not np.isfinite(est):
        return "no estimate", ""
    if row.get("kind") == "price":
        ci = f"{_pct(lo, 2)} to {_pct(hi, 2)}" if np.isfinite(lo) else ""
        return _pct(est, 2), ci
    unit = str(row.get("unit", ""))
    ci = f"{lo:+.1f} to {hi:+.1f}" if np.isfinite(lo) else ""
    return f"{est:+.1f} {unit}".strip(), ci
