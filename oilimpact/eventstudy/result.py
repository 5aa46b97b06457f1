"""Result values of :func:`oilimpact.eventstudy.engine.event_study`.

An :class:`EventStudyResult` is a frozen value holding the specification that was used
(:class:`StudySpec`), the alignment of every (event, series) pair, the tidy abnormal
returns, the CAR table with the single-pair tests, the cross-sectional tests (two or
more pairs) and the :class:`~oilimpact.eventstudy.panel.AbnormalPanel` the numbers came from.
It renders itself as a :class:`~oilimpact.summary.Summary` (:meth:`EventStudyResult.summary`:
text in a terminal, HTML tables in Jupyter), a tidy frame, a JSON-able dict and a plotly
figure in the shared style of :mod:`oilimpact.plotstyle`; like statsmodels' results it
has ``params``, ``bse``, ``tvalues``, ``pvalues``, ``rsquared`` and ``resid`` for the
normal-return model of each pair.

Examples
--------
On the seeded demo prices (offline):

>>> import oilimpact as oi
>>> from oilimpact.demo import demo_dataset
>>> prices = demo_dataset().prices[["brent", "wti", "sp500"]]
>>> res = oi.event_study(prices, ["blockade"], market="sp500")
>>> summary = res.summary()          # tables in a notebook, text in a terminal
>>> "Normal-return model per pair" in summary.as_text()
True
>>> res.params[["alpha", "beta", "rsquared", "sigma", "n_est"]].shape
(2, 5)
>>> fig = res.plot(event="blockade", series=["brent", "wti"])
>>> fig.layout.yaxis.title.text
'CAR, %'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .. import plotstyle
from ..summary import DISPLAY_ROWS, Summary, fmt_p, fmt_pct
from . import kernels
from ._format import (
    day_strings,
    fixed_strings,
    num_strings,
    p_strings,
    pct_strings,
    window_labels,
)
from .garch_engine import GARCH_MODELS, GARCH_PARAM_COLUMNS, garch_coefficients, garch_info
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
    "UNIT",
    "estimation_coefficients",
    "window_label",
    "with_coefficients",
]

#: Unit of every return, AR, CAR and standard error in machine output (``to_frame``,
#: ``to_dict``, CSV): fractions (0.0123 is 1.23%); human output (summary, HTML, plots)
#: shows percent points.
UNIT = "fraction"


def window_label(start: int, end: int) -> str:
    """The one window format of oilimpact: ``[+0,+1]``, ``[-1,+1]``.

    Examples
    --------
    >>> window_label(0, 1), window_label(-10, 10)
    ('[+0,+1]', '[-10,+10]')
    """
    return f"[{int(start):+d},{int(end):+d}]"


class EventStudyWarning(UserWarning):
    """A choice of the event study the user should know about (also in the summary)."""


class ShortEstimationWarning(EventStudyWarning):
    """A short estimation window lowered the default minimum estimation length."""


#: Columns of :attr:`EventStudyResult.car`: those of
#: :func:`~oilimpact.eventstudy.single.car_tests` ("asset" named "series"), "confounded" and
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
        policy of :func:`~oilimpact.eventstudy.crosssection.cross_sectional_tests`).
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


def _garch_notes(model: str, coefficients: pd.DataFrame | None) -> list[str]:
    """The summary's notes on a GARCH model: what t and SQ are, and any fit that did
    not converge."""
    vol = "GJR-GARCH(1,1,1)" if model == "market_gjr" else "GARCH(1,1)"
    notes = [
        f"market model with {vol} errors fitted per pair by arch (normal quasi-ML); "
        "p(t): CAR over the sd of its conditional-variance forecast from the last "
        "estimation day plus the mean-parameter term, Student t with n_est-k dof "
        "(approximate: docs/methods-garch.md); p(SQ): that t ranked among the L-day sums "
        "of standardised estimation residuals over sqrt(L) (Gelbach, Helland and Klick "
        "2013); a+b: GARCH persistence (alpha + gamma/2 + beta)"
    ]
    if coefficients is not None and "converged" in coefficients.columns:
        bad = coefficients.index[~coefficients["converged"].to_numpy(dtype=bool)]
        if len(bad):
            names = ", ".join(f"{e}/{a}" for e, a in bad)
            notes.append(f"arch's optimiser did not converge for {names}: unreliable rows")
    return notes


def _relabel(window: Any) -> str:
    """A window as :func:`window_label` shows it, from a tuple or a label like ``[0,+1]``."""
    if isinstance(window, tuple | list) and len(window) == 2:
        return window_label(*window)
    m = re.fullmatch(r"\[\s*([+-]?\d+)\s*,\s*([+-]?\d+)\s*\]", str(window))
    return window_label(int(m.group(1)), int(m.group(2))) if m else str(window)


def _day(x: Any) -> str:
    """A date as ``YYYY-MM-DD`` (``-`` when missing)."""
    return "-" if pd.isna(x) else pd.Timestamp(x).strftime("%Y-%m-%d")


def _date_or_dash(x: Any) -> Any:
    """The calendar date of a timestamp (shown as ``YYYY-MM-DD``), ``-`` when missing."""
    return pd.Timestamp(x).date() if pd.notna(x) else "-"


def _columns(frame: pd.DataFrame, *cols: str | list[Any]) -> Iterable[tuple[Any, ...]]:
    """Rows of the named columns (or given lists) as tuples of Python scalars, the
    values ``DataFrame.iterrows`` gives, without building a Series per row."""
    lists = [frame[c].tolist() if isinstance(c, str) else c for c in cols]
    return zip(*lists, strict=True)


def _fmt(x: Any, spec: str = ".4f") -> str:
    try:
        if x is None or (isinstance(x, float) and np.isnan(x)):
            return "-"
        return format(x, spec)
    except (TypeError, ValueError):
        return str(x)


def estimation_coefficients(
    panel: AbnormalPanel, y_est: np.ndarray, x_est: np.ndarray | None = None
) -> pd.DataFrame:
    r"""OLS coefficients of each pair's normal-return model on its estimation sample.

    Parameters
    ----------
    panel : AbnormalPanel
        The fitted panel: its estimation sample (the non-missing ``est_resid``), the
        centred design ``design_est`` and ``sxx_inv`` are used as the fit used them.
    y_est : ndarray, shape (N, L1)
        The asset returns on the estimation days that were given to
        :func:`~oilimpact.eventstudy.models.fit_panel`.
    x_est : ndarray, shape (N, L1[, F]), optional
        The regressor returns given to ``fit_panel`` (market model, multi-factor).

    Returns
    -------
    pandas.DataFrame
        Index ``panel.ids``; columns ``alpha`` (models with an intercept), ``b0 ..
        b{F-1}`` (slopes) and ``m0 .. m{F-1}`` (regressor means over the sample, used
        for the standard error of ``alpha``). No columns for models without estimated
        parameters. For the GARCH models (``market_garch``, ``market_gjr``): the
        ``arch`` fit's ``alpha`` (mean), ``b0``, ``m0``, robust ``se_alpha``, ``se_b0``
        and the variance equation (``garch_omega``, ``garch_alpha``, ``garch_gamma``,
        ``garch_beta``, ``persistence``, ``loglik``, ``converged``; see
        :func:`oilimpact.eventstudy.garch_engine.garch_coefficients`).

    Notes
    -----
    With regressors centred on their sample mean, :math:`\hat\beta_i = S_{xx,i}^{-1}
    \tilde X_i' R_i` and :math:`\hat\alpha_i = \bar R_i - \hat\beta_i'\bar x_i`
    (MacKinlay 1997, eq. 7): the same arithmetic as
    :func:`~oilimpact.eventstudy.models.scale_spanning_returns`, so the residuals
    :math:`R_i - \hat\alpha_i - \hat\beta_i' x_i` are the panel's ``est_resid``.
    """
    info = garch_info(panel)
    if info is not None:  # market_garch / market_gjr: the arch fit's parameters
        return garch_coefficients(panel, info)
    regressors = panel.n_params >= 2 and panel.design_est is not None and panel.sxx_inv is not None
    if regressors and x_est is None:
        raise ValueError("x_est is needed for a model with regressors")
    compiled = (
        regressors
        and kernels.enabled(panel.n_pairs)
        and np.ndim(x_est) in (2, 3)
        and np.shape(x_est)[2:] in ((), (1,))
        and panel.design_est.shape[2] == 1  # type: ignore[union-attr]
    )
    out = (
        _coefficients_compiled(panel, y_est, x_est)
        if compiled
        else _coefficients_numpy(panel, y_est, x_est)
    )
    return pd.DataFrame(out, index=panel.ids)


def _coefficients_numpy(
    panel: AbnormalPanel, y_est: np.ndarray, x_est: np.ndarray | None
) -> dict[str, np.ndarray]:
    """The columns of :func:`estimation_coefficients` (OLS models), by numpy."""
    k = panel.n_params
    valid = ~np.isnan(panel.est_resid)
    out: dict[str, np.ndarray] = {}
    if k >= 1:
        n = valid.sum(axis=1).astype("float64")
        y0 = np.where(valid, np.asarray(y_est, dtype="float64"), 0.0)
        alpha = y0.sum(axis=1) / n
        if k >= 2 and panel.design_est is not None and panel.sxx_inv is not None:
            assert x_est is not None
            xe = np.asarray(x_est, dtype="float64")
            xe = xe[:, :, None] if xe.ndim == 2 else xe
            xbar = np.where(valid[:, :, None], xe, 0.0).sum(axis=1) / n[:, None]
            beta = np.einsum("rfg,rtg,rt->rf", panel.sxx_inv, panel.design_est, y0)
            alpha = alpha - np.einsum("rf,rf->r", beta, xbar)
            for f in range(beta.shape[1]):
                out[f"b{f}"] = beta[:, f]
            for f in range(beta.shape[1]):
                out[f"m{f}"] = xbar[:, f]
        out = {"alpha": alpha, **out}
    return out


def _coefficients_compiled(
    panel: AbnormalPanel, y_est: np.ndarray, x_est: np.ndarray | None
) -> dict[str, np.ndarray]:
    """:func:`_coefficients_numpy` of a one-regressor model on a large panel: one
    compiled pass per row block (:func:`oilimpact.eventstudy._jit.market_coefficients`),
    the same operations in the same order."""
    jit = kernels.jit()
    assert jit is not None and x_est is not None
    assert panel.design_est is not None and panel.sxx_inv is not None
    n = panel.n_pairs
    y = np.ascontiguousarray(y_est, dtype="float64")
    x = np.ascontiguousarray(np.asarray(x_est, dtype="float64").reshape(y.shape))
    resid = np.ascontiguousarray(panel.est_resid, dtype="float64")
    d_est = np.ascontiguousarray(panel.design_est[:, :, 0], dtype="float64")
    s_inv = np.ascontiguousarray(panel.sxx_inv[:, 0, 0], dtype="float64")
    alpha, beta, xbar = np.empty(n), np.empty(n), np.empty(n)

    def run(a: int, b: int) -> None:
        jit.market_coefficients(y[a:b], x[a:b], resid[a:b], d_est[a:b], s_inv[a:b],
                                alpha[a:b], beta[a:b], xbar[a:b])  # fmt: skip

    kernels.by_blocks(n, run)
    return {"alpha": alpha, "b0": beta, "m0": xbar}


def with_coefficients(
    result: EventStudyResult, y_est: np.ndarray, x_est: np.ndarray | None = None
) -> EventStudyResult:
    """``result`` with its normal-return coefficients kept (for :attr:`params`).

    The engine calls it with the arrays it gave to ``fit_panel``; see
    :func:`estimation_coefficients`.
    """
    return replace(result, coefficients=estimation_coefficients(result.panel, y_est, x_est))


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
        scaled by it, see :func:`~oilimpact.eventstudy.models.scale_spanning_returns`).
    car : pandas.DataFrame
        One row per (event, series, window), columns :data:`CAR_COLUMNS`.
    tests : pandas.DataFrame
        Pooled (cross-sectional) tests with two or more pairs, as the policy of
        :func:`~oilimpact.eventstudy.crosssection.cross_sectional_tests` returns them
        (``window, test, statistic, pvalue, n, caar, rbar, assumes_independence,
        note``; empty when they were not run, with ``attrs["notes"]`` saying why).
    panel : AbnormalPanel
        The arrays behind the tables (not shown in the repr).
    notices : tuple of str
        What the user should know about how the study was run (e.g. a short
        estimation window that lowered the minimum estimation length); also issued
        as warnings and listed in the summary's notes.
    coefficients : pandas.DataFrame or None
        The normal-return model's coefficients per pair (see
        :func:`estimation_coefficients`; set by :func:`with_coefficients`), None when
        the result was built without them (then :attr:`params` has no ``alpha``,
        ``beta`` or ``rsquared``).

    Notes
    -----
    Units: machine output (:meth:`to_frame`, :meth:`to_dict`, the tables above) holds
    returns as fractions (:data:`UNIT`), human output (:meth:`summary`, the HTML repr,
    :meth:`plot`) shows percent points. Windows read ``[+0,+1]`` everywhere a person
    reads them; ``start``/``end`` are the numeric bounds.
    """

    spec: StudySpec
    alignment: pd.DataFrame
    abnormal: pd.DataFrame
    car: pd.DataFrame
    tests: pd.DataFrame
    panel: AbnormalPanel = field(repr=False)
    notices: tuple[str, ...] = ()
    coefficients: pd.DataFrame | None = field(default=None, repr=False)

    # ---- tables --------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """A tidy copy of the CAR table (one row per event, series and window).

        ``window`` reads ``[+0,+1]`` (numeric bounds in ``start`` and ``end``); the
        last column ``unit`` says what ``car`` and ``se`` are in (:data:`UNIT`, also
        in ``attrs["unit"]``).

        Examples
        --------
        >>> import oilimpact as oi
        >>> from oilimpact.demo import demo_dataset
        >>> prices = demo_dataset().prices[["brent", "sp500"]]
        >>> res = oi.event_study(prices, ["blockade"], market="sp500")
        >>> row = res.to_frame().iloc[0]
        >>> row["window"], int(row["start"]), int(row["end"]), row["unit"]
        ('[+0,+0]', 0, 0, 'fraction')
        """
        out = self.car.copy()
        if len(out):
            out["window"] = window_labels(out["start"], out["end"], window_label)
        out["unit"] = UNIT
        out.attrs["unit"] = UNIT
        out.attrs["returns"] = self.spec.returns
        return out

    # ---- the normal-return model per pair (statsmodels-like) -----------------------
    def _slope_names(self) -> list[str]:
        c = self.coefficients
        nf = 0 if c is None else sum(1 for x in c.columns if x[0] == "b")
        if self.spec.model in ("market", *GARCH_MODELS) and nf == 1:
            return ["beta"]
        names = [x for x in (self.spec.market, *self.spec.factors) if x]
        if len(names) != nf:
            names = [str(f) for f in range(nf)]
        return [f"beta_{n}" for n in names]

    def _coef_matrix(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Names, coefficients (N, k) and their standard errors (N, k)."""
        c = self.coefficients
        p = self.panel
        n = p.n_pairs
        if c is None or "alpha" not in c.columns:
            return [], np.empty((n, 0)), np.empty((n, 0))
        slopes = [x for x in c.columns if x[0] == "b"]
        names = ["alpha", *self._slope_names()]
        coef = c[["alpha", *slopes]].to_numpy(dtype="float64")
        s2 = np.asarray(p.sigma2, dtype="float64")
        nest = np.asarray(p.n_est, dtype="float64")
        var_a = s2 / nest
        se_b = np.empty((n, 0))
        if "se_alpha" in c.columns:  # GARCH: arch's robust standard errors
            se = c[["se_alpha", *(f"se_{x}" for x in slopes)]].to_numpy(dtype="float64")
            return names, coef, se
        if slopes and p.sxx_inv is not None:
            xbar = c[[f"m{x[1:]}" for x in slopes]].to_numpy(dtype="float64")
            inv = np.asarray(p.sxx_inv, dtype="float64")
            var_a = s2 * (1.0 / nest + np.einsum("nf,nfg,ng->n", xbar, inv, xbar))
            se_b = np.sqrt(s2[:, None] * np.diagonal(inv, axis1=1, axis2=2))
        se = np.column_stack([np.sqrt(var_a), se_b])
        return names, coef, se

    def _index(self) -> pd.MultiIndex:
        return self.panel.ids.set_names(["event", "series"])

    @property
    def params(self) -> pd.DataFrame:
        r"""The normal-return model of each (event, series) pair.

        Returns
        -------
        pandas.DataFrame
            Index ``(event, series)``. Columns: ``alpha`` and ``beta`` (market model;
            ``beta_<factor>`` per factor for the multi-factor model; absent for
            models without them), ``rsquared``, ``sigma`` (residual standard
            deviation), ``n_est`` (estimation days used), ``est_start``/``est_end``
            (first and last estimation date). ``alpha`` and ``sigma`` are fractions
            (:data:`UNIT`, ``attrs["unit"]``); ``beta`` and ``rsquared`` are pure numbers.

        Notes
        -----
        OLS of the pair's returns on a constant and the regressors over its
        estimation sample (MacKinlay 1997, eq. 7): :math:`R^2 = 1 - SSR/SST` with
        :math:`SST = SSR + \hateta' S_{xx}\hateta` (centred regressors), ``sigma``
        :math:`= \sqrt{s^2}`, ``s^2 = SSR/(L_1 - k)`` (textbook conventions; the sample
        variance of the residuals under ``conventions="estudy2"``). ``alpha``,
        ``beta`` and ``rsquared`` need :attr:`coefficients`; without them the columns
        are absent.
        """
        p = self.panel
        names, coef, _ = self._coef_matrix()
        out = pd.DataFrame(coef, index=self._index(), columns=names)
        if names:
            slopes = coef[:, 1:]
            ssr = np.nansum(np.asarray(p.est_resid, dtype="float64") ** 2, axis=1)
            explained = np.zeros(p.n_pairs)
            if slopes.shape[1] and p.sxx_inv is not None:
                sxx = np.linalg.inv(np.asarray(p.sxx_inv, dtype="float64"))
                explained = np.einsum("nf,nfg,ng->n", slopes, sxx, slopes)
            with np.errstate(invalid="ignore", divide="ignore"):
                out["rsquared"] = explained / (ssr + explained)
        out["sigma"] = np.sqrt(np.asarray(p.sigma2, dtype="float64"))
        out["n_est"] = np.asarray(p.n_est, dtype=int)
        start, end = self._est_bounds()
        out["est_start"] = start
        out["est_end"] = end
        c = self.coefficients
        if c is not None and "garch_omega" in c.columns:  # GARCH: R^2 is not defined
            out["rsquared"] = np.nan
            for col in GARCH_PARAM_COLUMNS:
                out[col] = c[col].to_numpy()
        out.attrs["unit"] = UNIT
        return out

    def _est_bounds(self) -> tuple[Any, Any]:
        a = self.alignment
        if {"est_start", "est_end"} <= set(a.columns) and len(a) == self.panel.n_pairs:
            key = pd.MultiIndex.from_arrays([a["event"], a["series"]])
            if key.equals(pd.MultiIndex.from_arrays([self.panel.ids.get_level_values(0),
                                                      self.panel.ids.get_level_values(1)])):  # fmt: skip
                return (pd.to_datetime(a["est_start"]).to_numpy(),
                        pd.to_datetime(a["est_end"]).to_numpy())  # fmt: skip
        d = self.panel.est_dates
        if d is None:
            nat = np.full(self.panel.n_pairs, np.datetime64("NaT"), dtype="datetime64[ns]")
            return nat, nat
        d = np.asarray(d, dtype="datetime64[ns]")
        ok = ~np.isnat(d)
        big = np.where(ok, d, np.datetime64("2262-01-01", "ns")).min(axis=1)
        small = np.where(ok, d, np.datetime64("1678-01-01", "ns")).max(axis=1)
        none = ~ok.any(axis=1)
        big[none] = np.datetime64("NaT")
        small[none] = np.datetime64("NaT")
        return big, small

    def _coef_frame(self, which: Literal["bse", "tvalues", "pvalues"]) -> pd.DataFrame:
        names, coef, se = self._coef_matrix()
        if which == "bse":
            values = se
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                values = coef / se
            if which == "pvalues":
                dof = np.asarray(self.panel.n_est, dtype="float64") - self.panel.n_params
                values = 2.0 * stats.t.sf(np.abs(values), dof[:, None])
        return pd.DataFrame(values, index=self._index(), columns=names)

    @property
    def bse(self) -> pd.DataFrame:
        r"""Standard errors of ``alpha`` and the slopes of :attr:`params`.

        :math:`\operatorname{se}(\hateta) = s\sqrt{\operatorname{diag} S_{xx}^{-1}}`,
        :math:`\operatorname{se}(\hatlpha) = s\sqrt{1/L_1 + ar x' S_{xx}^{-1}ar x}`
        (classical OLS, as statsmodels' ``OLS(...).fit().bse`` under textbook
        conventions). Empty columns when :attr:`coefficients` is None.
        """
        return self._coef_frame("bse")

    @property
    def tvalues(self) -> pd.DataFrame:
        """``params / bse`` for ``alpha`` and the slopes."""
        return self._coef_frame("tvalues")

    @property
    def pvalues(self) -> pd.DataFrame:
        """Two-sided p-values of :attr:`tvalues`, Student t with ``n_est - k`` dof."""
        return self._coef_frame("pvalues")

    @property
    def rsquared(self) -> pd.Series:
        """R-squared of each pair's normal-return model (``params["rsquared"]``)."""
        params = self.params
        if "rsquared" not in params:
            return pd.Series(np.nan, index=params.index, name="rsquared")
        return params["rsquared"]

    @property
    def resid(self) -> pd.DataFrame:
        """Estimation-window residuals, long: ``event, series, date, resid`` (fractions).

        One row per estimation day a pair used (``date`` NaT when the panel carries
        no dates); ``res.resid.pivot_table(index="date", columns=["event", "series"],
        values="resid")`` gives the wide form (dates by pair).
        """
        p = self.panel
        r = np.asarray(p.est_resid, dtype="float64")
        ok = ~np.isnan(r)
        rows, cols = np.nonzero(ok)
        ids = self._index()
        dates = (
            np.asarray(p.est_dates, dtype="datetime64[ns]")[rows, cols]
            if p.est_dates is not None
            else np.full(rows.size, np.datetime64("NaT"), dtype="datetime64[ns]")
        )
        out = pd.DataFrame(
            {
                "event": ids.get_level_values(0)[rows],
                "series": ids.get_level_values(1)[rows],
                "date": dates,
                "resid": r[rows, cols],
            }
        )
        out.attrs["unit"] = UNIT
        return out

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
            "units": {
                "returns": UNIT,
                "car": UNIT,
                "se": UNIT,
                "ar": UNIT,
                "caar": UNIT,
                "note": f"{self.spec.returns} returns as fractions (0.0123 = 1.23%)",
            },
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
                "window": window_labels(c["start"], c["end"], window_label),
                "CAR, %": pct_strings(c["car"]),
                "se, %": pct_strings(c["se"]),
                "t": fixed_strings(c["tstat"], ".2f", _fmt),
                "p(t)": p_strings(c["pvalue"]),
                "p(SQ)": p_strings(c["sq_pvalue"]),
                "q(t)": p_strings(c["qvalue"]),
                "n_est": c["n_est"].astype(int).astype(str),
                "flag": ["confounded" if f else "" for f in c["confounded"].tolist()],
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
                "window": [_relabel(w) for w in t["window"]],
                "test": t["test"].astype(str),
                "stat": [_fmt(v, ".3f") for v in t["statistic"]],
                "p": [fmt_p(v) for v in t["pvalue"]],
                "n": t["n"].astype(str),
            }
        )
        if "caar" in t.columns:
            out["CAAR, %"] = [fmt_pct(v) for v in t["caar"]]
        if "rbar" in t.columns and t["rbar"].notna().any():
            out["rbar"] = [_fmt(v, ".2f") for v in t["rbar"]]
        out["note"] = refs
        return out, [f"[{i + 1}] {n}" for i, n in enumerate(notes)]

    def _notes(self) -> list[str]:
        notes = list(self.notices)
        a = self.alignment
        if "confounded_by" in a.columns:
            for event, series, other in _columns(a, "event", "series", "confounded_by"):
                if other:
                    notes.append(f"{event}/{series}: event window contains day 0 of {other}")
        if "sq_min_pvalue" in self.car.columns and (self.car["sq_min_pvalue"] > 0.05).any():
            notes.append(
                "SQ test: some rows have too few estimation days to reach p < 0.05 "
                "(see sq_min_pvalue = 2/(n+1))"
            )
        if self.spec.model in GARCH_MODELS:
            notes += _garch_notes(self.spec.model, self.coefficients)
        else:
            notes.append(
                "p(t): PE-corrected t test, Student t with L1-k dof (MacKinlay 1997); "
                "p(SQ): sample-quantile test, studentised rank against estimation residual "
                "sums (Gelbach, Helland and Klick 2013)"
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
        first = a[~a.duplicated(["event", "series"])]  # each pair once, first row
        days = day_strings(first["day0"], _date_or_dash)
        for event, series, day0, title in _columns(first, "event", "series", days, "title"):
            lines.append(f"  {event} / {series}: day 0 {day0} -- {title}")
        if len(lines) > DISPLAY_ROWS:  # as the summary's tables: the ends, and where the rest is
            half = DISPLAY_ROWS // 2
            left = len(lines) - 2 * half
            lines = [*lines[:half], f"  ... ({len(lines):,} pairs; {left:,} not listed: "
                     "res.alignment has every pair's day 0)", *lines[-half:]]  # fmt: skip
        return lines

    def _params_display(self) -> pd.DataFrame:
        """The per-pair model table as shown (alpha and sigma in percent points)."""
        prm = self.params
        tv = self.tvalues
        out = pd.DataFrame(
            {
                "event": prm.index.get_level_values(0).astype(str),
                "series": prm.index.get_level_values(1).astype(str),
            }
        )
        for name in prm.columns:
            if name == "alpha":
                out["alpha, %"] = pct_strings(prm[name], 3)
                out["t(alpha)"] = fixed_strings(tv[name], ".2f", _fmt)
            elif name.startswith("beta"):
                out[name] = num_strings(prm[name])
                out[f"t({name})"] = fixed_strings(tv[name], ".2f", _fmt)
        if "rsquared" in prm:
            out["R2"] = fixed_strings(prm["rsquared"], ".3f", _fmt)
        if "persistence" in prm:  # GARCH models
            out["a+b"] = fixed_strings(prm["persistence"], ".3f", _fmt)
            out["converged"] = np.where(prm["converged"].to_numpy(dtype=bool), "yes", "NO")
        out["sigma, %"] = pct_strings(prm["sigma"], 3)
        out["n_est"] = prm["n_est"].astype(str).to_numpy()
        starts = day_strings(prm["est_start"], _day)
        ends = day_strings(prm["est_end"], _day)
        out["estimation"] = [f"{a}..{b}" for a, b in zip(starts, ends, strict=True)]
        return out

    def summary(self) -> Summary:
        """The summary: specification, events, the model per pair, CARs, pooled tests.

        Returns
        -------
        oilimpact.summary.Summary
            ``str()`` is monospaced text; in Jupyter it renders as HTML tables
            (``_repr_html_``); ``.tables`` are the frames shown. Returns, CARs,
            standard errors, ``alpha`` and ``sigma`` are in percent points.
        """
        out = Summary("Event study")
        out.add_text(self._header_lines())
        ev = self._event_lines()
        if ev:
            out.add_text([x.strip() for x in ev], heading="Events")
        out.add_table(self._params_display(), caption="Normal-return model per pair")
        out.add_table(self._car_display(), caption="Cumulative abnormal returns")
        policy = self.pooled_info()["notes"]
        if not self.tests.empty or policy:
            notes = list(policy)
            if not self.tests.empty:
                table, numbered = self._tests_display()
                out.add_table(table, caption="Pooled (cross-sectional) tests")
                notes = numbered + notes
            out.add_notes(notes, heading="Pooled (cross-sectional) tests")
        out.add_notes(
            [
                *self._notes(),
                f"CAR, se, CAAR, alpha and sigma in percent points of {self.spec.returns} "
                "returns (to_frame, to_dict and the CSVs hold fractions)",
            ]
        )
        return out

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        """HTML rendering for notebooks (the summary's tables); user text is escaped."""
        return f"<div class='oilimpact-event-study'>{self.summary().as_html()}</div>"

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

    def _pairs(
        self, event: str | Sequence[str] | None, series: str | Sequence[str] | None
    ) -> list[tuple[str, str]]:
        """The (event, series) pairs selected, in the panel's order."""
        ids = list(self.panel.ids)
        evs = [event] if isinstance(event, str) else (None if event is None else list(event))
        sers = [series] if isinstance(series, str) else (None if series is None else list(series))
        out = [
            (str(e), str(a))
            for e, a in ids
            if (evs is None or e in evs) and (sers is None or a in sers)
        ]
        if not out:
            raise KeyError(
                f"no pair for event={event!r}, series={series!r}; pairs: "
                f"{', '.join(f'{a}/{b}' for a, b in ids[:20])}"
            )
        return out

    def plot(
        self,
        event: str | Sequence[str] | None = None,
        series: str | Sequence[str] | None = None,
        alpha: float = 0.05,
        *,
        overlay: bool = False,
        cols: int = 3,
        labels: Mapping[str, str] | None = None,
    ) -> go.Figure:
        """CAR paths with their ``1 - alpha`` prediction-error bands, in the brief's style.

        Parameters
        ----------
        event, series : str, list of str or None
            Which pairs to draw (None: all). One pair gives one panel.
        alpha : float
            ``1 - alpha`` is the band's level.
        overlay : bool
            False (default): small multiples, one panel per (event, series) pair, each
            with its CAR line and band. True: one panel per event with the series'
            CAR lines overlaid (no bands: they would hide each other).
        cols : int
            Panels a row (small multiples).
        labels : Mapping[str, str], optional
            Display names of series (default :func:`oilimpact.plotstyle.series_label`:
            short labels, else the registry's description).

        Returns
        -------
        plotly.graph_objects.Figure
            y axis ``"CAR, %"`` with ticks in percent (the trace data stay fractions),
            x axis ``"trading days from day 0"``, a dotted day-0 line and a zero line in
            each panel; legend entries ``"95% prediction-error band"`` and ``"CAR"``
            (overlaid: one per series). ``fig.write_image("car.png")`` needs the
            ``kaleido`` package (and a Chrome/Chromium it can find).

        Examples
        --------
        >>> import oilimpact as oi
        >>> from oilimpact.demo import demo_dataset
        >>> prices = demo_dataset().prices[["brent", "wti", "sp500"]]
        >>> res = oi.event_study(prices, ["blockade", "maduro_captured"], market="sp500")
        >>> len(res.plot(event="blockade", series=["brent", "wti"]).data) > 0
        True
        >>> fig = res.plot(event=None, overlay=True)     # one panel per event, a line per series
        >>> len(fig.layout.annotations), sorted({t.name for t in fig.data})
        (2, ['Brent', 'WTI'])
        """
        pairs = self._pairs(event, series)
        names = plotstyle.label_map(sorted({a for _, a in pairs}), labels)
        events = list(dict.fromkeys(e for e, _ in pairs))
        model = f"{self.spec.model} model"
        if overlay:
            panels: list[tuple[str, Any]] = [
                (
                    f"around {e}",
                    [(names[a], self.car_path(e, a, alpha)) for ee, a in pairs if ee == e],
                )
                for e in events
            ]
            title = f"CAR paths ({model})"
        else:
            panels = [
                (names[a] if len(events) == 1 else f"{names[a]}, {e}", self.car_path(e, a, alpha))
                for e, a in pairs
            ]
            title = (
                f"CAR of {names[pairs[0][1]]} around {pairs[0][0]} ({model})"
                if len(pairs) == 1
                else f"CAR paths around {', '.join(events)} ({model})"
            )
        if len(panels) == 1:
            panels = [("", panels[0][1])]
        return plotstyle.car_figure(
            panels,
            alpha=alpha,
            title=plotstyle.plot_text(title),
            cols=max(1, min(cols, len(panels))),
        )
