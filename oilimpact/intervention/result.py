"""Result values of :func:`oilimpact.intervention.analysis.intervention`.

An :class:`InterventionResult` is a frozen value: it holds the specification that was
used (:class:`InterventionSpec`), the effect table, the actual / fitted / counterfactual
path, the placebo distribution, the warnings raised during estimation and the model
information. It renders itself as a :class:`~oilimpact.summary.Summary`
(:meth:`InterventionResult.summary`: text in a terminal, HTML tables in Jupyter), a tidy
frame, a JSON-able dict and a plotly figure in the shared style of
:mod:`oilimpact.plotstyle` (the band for the counterfactual mean and the prediction band
for a single period); ``params``, ``bse``, ``tvalues``, ``pvalues`` and
:meth:`InterventionResult.params_table` as in statsmodels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..summary import Summary, fmt_num, fmt_p
from ._format import fmt as _fmt
from ._format import iso as _iso
from ._format import jsonable as _jsonable
from ._format import period as _period
from ._format import records as _records
from .notices import CloseEventsWarning, InterventionWarning, PlaceboWarning
from .spec import DEFAULT_OPTIONS, InterventionOptions, InterventionSpec

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = [
    "CloseEventsWarning",
    "EFFECT_COLUMNS",
    "InterventionResult",
    "InterventionSpec",
    "InterventionOptions",
    "InterventionWarning",
    "ModelInfo",
    "DEFAULT_OPTIONS",
    "FORM_COLUMNS",
    "PATH_COLUMNS",
    "PlaceboWarning",
]

#: Columns of :attr:`InterventionResult.effects`.
EFFECT_COLUMNS: tuple[str, ...] = (
    "event",
    "term",
    "estimate",
    "se",
    "stat",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "pct_of_pre_mean",
    "pct_ci_lower",
    "pct_ci_upper",
    "placebo_pvalue",
    "n_placebo",
)

#: Columns of :attr:`InterventionResult.path`.
PATH_COLUMNS: tuple[str, ...] = (
    "date",
    "actual",
    "fitted",
    "counterfactual",
    "cf_lower",
    "cf_upper",
)


#: Columns of :attr:`InterventionResult.forms` (the comparison of effect forms).
FORM_COLUMNS: tuple[str, ...] = (
    "form",
    "n_params",
    "rate",
    "loglik",
    "aic",
    "bic",
    "delta",
    "best",
)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What was fitted.

    Attributes
    ----------
    model : {"segmented", "sarimax"}
    nobs : int
        Observations used (non-missing periods of the sample).
    n_params : int
        Estimated mean parameters (regressors kept after the rank check; for SARIMAX
        also the ARMA and variance parameters).
    df_resid : float or None
        Degrees of freedom of the t reference distribution (segmented: Satterthwaite
        with ``cov="hac-prewhiten"``, ``nobs - n_params`` with ``cov="hac"``), None
        when inference is normal (SARIMAX).
    hac_lags : int or None
        Bartlett (Newey-West) lags used by the segmented fit: on the prewhitened
        residuals (``"hac-prewhiten"``) or on the scores (``"hac"``).
    pre_mean : float
        Mean of the observed values before the first treated (or event) period.
    order, seasonal_order : tuple or None
        Chosen SARIMAX order and the fixed seasonal order.
    trend : str or None
        SARIMAX trend argument used (``"c"``, ``"ct"``, ``"n"``).
    ic : str or None
        Criterion used in the order search; ``ic_value`` its value at the chosen order.
    ic_value : float or None
    candidates : pandas.DataFrame or None
        One row per SARIMAX candidate (``p, d, q, aic, bic, converged``).
    params : pandas.Series
        All estimated mean parameters by column name.
    cov_params : pandas.DataFrame
        Their covariance matrix.
    columns : tuple of str
        Design columns kept; ``dropped`` the event terms dropped as not identified.
    dropped : tuple of str
    cov_type : {"hac-prewhiten", "hac"} or None
        Standard errors of the segmented fit (None for SARIMAX).
    hac_rule : str or None
        How ``hac_lags`` was chosen (Andrews 1991 AR(1) plug-in, Newey-West 1994 rule,
        or set by the caller).
    prewhiten_rho : float or None
        Bias-corrected AR(1) prewhitening coefficient (``"hac-prewhiten"``).
    form : {"level", "pulse", "decay"}
        Effect form fitted (with ``form="compare"``: the one chosen by ``form_ic``).
    decay_rate : float or None
        Profiled geometric decay rate ``delta`` of ``form="decay"`` (the effect ``k``
        periods after the first treated period is ``delta ** k`` times the impact).
    df_satterthwaite : float or None
        Satterthwaite degrees of freedom before the floor; ``df_resid`` is
        ``max(df_satterthwaite, spec.df_floor)``.
    """

    model: Literal["segmented", "sarimax"]
    nobs: int
    n_params: int
    df_resid: float | None
    hac_lags: int | None
    pre_mean: float
    order: tuple[int, int, int] | None
    seasonal_order: tuple[int, int, int, int] | None
    trend: str | None
    ic: str | None
    ic_value: float | None
    candidates: pd.DataFrame | None
    params: pd.Series
    cov_params: pd.DataFrame
    columns: tuple[str, ...]
    dropped: tuple[str, ...] = ()
    cov_type: str | None = None
    hac_rule: str | None = None
    prewhiten_rho: float | None = None
    form: str = "level"
    decay_rate: float | None = None
    df_satterthwaite: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return {
            "model": self.model,
            "nobs": int(self.nobs),
            "n_params": int(self.n_params),
            "df_resid": _jsonable(self.df_resid),
            "hac_lags": self.hac_lags,
            "pre_mean": _jsonable(self.pre_mean),
            "order": list(self.order) if self.order else None,
            "seasonal_order": list(self.seasonal_order) if self.seasonal_order else None,
            "trend": self.trend,
            "ic": self.ic,
            "ic_value": _jsonable(self.ic_value),
            "candidates": _records(self.candidates) if self.candidates is not None else None,
            "params": {k: _jsonable(v) for k, v in self.params.items()},
            "columns": list(self.columns),
            "dropped": list(self.dropped),
            "cov_type": self.cov_type,
            "hac_rule": self.hac_rule,
            "prewhiten_rho": _jsonable(self.prewhiten_rho),
            "form": self.form,
            "decay_rate": _jsonable(self.decay_rate),
            "df_satterthwaite": _jsonable(self.df_satterthwaite),
        }


@dataclass(frozen=True, slots=True)
class InterventionResult:
    """The estimated effect of one or more events on a volume series.

    Attributes
    ----------
    spec : InterventionSpec
        What was estimated, defaults resolved.
    effects : pandas.DataFrame
        One row per (event, term), columns :data:`EFFECT_COLUMNS`. ``term`` is
        ``"level"`` (step: immediate level change), ``"slope"`` (change of slope per
        period), ``"pulse"`` (one-period deviation) or ``"average"`` (event ``"all"``:
        the mean effect over the observed post-event periods of the sample).
    path : pandas.DataFrame
        Columns :data:`PATH_COLUMNS`, one row per period of the sample.
    placebo : pandas.DataFrame
        The placebo distribution, long format: ``pseudo_date, event, term, estimate,
        stat`` (empty when placebo inference was off or impossible).
    warnings : tuple of str
        Messages of the warnings raised during estimation, plain sentences a page can
        show (adjacent or merged events, a floored df, dropped terms, few placebos).
    model_info : ModelInfo
        Order, information criteria, nobs, HAC lags, parameters.
    forms : pandas.DataFrame or None
        Comparison of the effect forms on the same sample (columns
        :data:`FORM_COLUMNS`): permanent ``level``, ``level+slope``, one-period
        ``pulse`` and geometric ``decay``, with their Gaussian log-likelihood, AIC,
        BIC, ``delta`` (criterion ``spec.form_ic`` minus its minimum) and ``best``.
        None for SARIMAX.
    warning_classes : tuple of str
        Class name of each entry of ``warnings`` (``"CloseEventsWarning"``,
        ``"InterventionWarning"``, ``"PlaceboWarning"``), in the same order, so a page
        can pick the adjacency notes.
    """

    spec: InterventionSpec
    effects: pd.DataFrame
    path: pd.DataFrame
    placebo: pd.DataFrame
    warnings: tuple[str, ...]
    model_info: ModelInfo
    forms: pd.DataFrame | None = None
    warning_classes: tuple[str, ...] = ()

    @property
    def best_form(self) -> str | None:
        """The effect form with the smallest ``spec.form_ic`` (None without ``forms``)."""
        if self.forms is None or not len(self.forms) or not self.forms["best"].any():
            return None
        return str(self.forms.loc[self.forms["best"], "form"].iloc[0])

    # -- tables --------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """Tidy copy of the effect table (one row per event and term).

        ``attrs["units"]`` says what each number is in: ``estimate``, ``se`` and the
        ``ci_*`` columns in the series' unit (``spec.unit``), ``pct_*`` in percent of
        the pre-event mean.
        """
        out = self.effects.copy()
        out.attrs["units"] = self.units()
        return out

    def units(self) -> dict[str, str]:
        """Unit of each number of :attr:`effects` and :attr:`path` (JSON-able)."""
        unit = self.spec.unit or "unit of the series"
        return {
            "estimate": unit,
            "se": unit,
            "ci_lower": unit,
            "ci_upper": unit,
            "pct_of_pre_mean": "percent of the pre-event mean",
            "pct_ci_lower": "percent of the pre-event mean",
            "pct_ci_upper": "percent of the pre-event mean",
            "path": unit,
        }

    # -- coefficients (statsmodels-like) -------------------------------------------
    @property
    def params(self) -> pd.Series:
        """The fitted mean parameters by design column (``model_info.params``).

        Units: the series' unit per regressor unit (the constant and the event terms
        in ``spec.unit``). :attr:`bse`, :attr:`tvalues`, :attr:`pvalues` and
        :meth:`params_table` give their inference.
        """
        return self.model_info.params.copy()

    @property
    def bse(self) -> pd.Series:
        """Standard errors: square roots of ``model_info.cov_params``' diagonal (HAC
        for the segmented fit, the SARIMAX covariance otherwise)."""
        cov = self.model_info.cov_params.reindex(index=self.params.index,
                                                 columns=self.params.index)  # fmt: skip
        return pd.Series(np.sqrt(np.maximum(np.diag(cov.to_numpy()), 0.0)),
                         index=self.params.index, name="bse")  # fmt: skip

    @property
    def tvalues(self) -> pd.Series:
        """``params / bse``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.params / self.bse).rename("tvalues")

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of :attr:`tvalues`: Student t with ``model_info.df_resid``
        degrees of freedom (segmented), the normal (SARIMAX), as the effect table."""
        t = np.abs(self.tvalues.to_numpy(dtype="float64"))
        df = self.model_info.df_resid
        p = 2 * (stats.t.sf(t, df) if df else stats.norm.sf(t))
        return pd.Series(p, index=self.params.index, name="pvalues")

    def params_table(self, alpha: float | None = None) -> pd.DataFrame:
        """``coef, std err, t, P>|t|`` and the ``1 - alpha`` interval of every parameter
        (statsmodels' summary table as a frame; ``alpha`` defaults to ``spec.alpha``).
        """
        alpha = self.spec.alpha if alpha is None else alpha
        df = self.model_info.df_resid
        q = stats.t.ppf(1 - alpha / 2, df) if df else stats.norm.ppf(1 - alpha / 2)
        params, bse = self.params, self.bse
        lo, hi = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
        return pd.DataFrame(
            {
                "coef": params,
                "std err": bse,
                "t": self.tvalues,
                "P>|t|": self.pvalues,
                lo: params - q * bse,
                hi: params + q * bse,
            }  # fmt: skip
        )

    @property
    def resid(self) -> pd.Series:
        """Residuals ``actual - fitted`` by date, over the observed periods of the sample
        (in ``spec.unit``)."""
        p = self.path
        r = (p["actual"] - p["fitted"]).to_numpy(dtype="float64")
        ok = np.isfinite(r)
        return pd.Series(r[ok], index=pd.DatetimeIndex(p["date"])[ok], name="resid")

    def prediction_band(self, alpha: float | None = None) -> pd.DataFrame:
        r"""Band for a single period's counterfactual value (not only its mean).

        Returns
        -------
        pandas.DataFrame
            ``date, lower, upper`` at level ``1 - alpha`` (default ``spec.alpha``).

        Notes
        -----
        Segmented fit: :math:`\hat y^{cf}_t \pm q\sqrt{se_t^2 + s^2}`, where
        :math:`se_t` is the standard error of the counterfactual mean (from the
        path's band: half-width over :math:`q`), :math:`s^2 = SSR/(n - k)` the residual
        variance of the fit and :math:`q` the same t (or normal) quantile as the band
        for the mean. SARIMAX: the path's band already is the one-step prediction
        interval (it holds the innovation variance), so it is returned unchanged
        (at ``spec.alpha`` only).
        """
        alpha = self.spec.alpha if alpha is None else alpha
        p = self.path
        if self.spec.model != "segmented":
            if alpha != self.spec.alpha:
                raise ValueError(f"SARIMAX prediction bands are kept at alpha={self.spec.alpha}")
            return pd.DataFrame({"date": p["date"], "lower": p["cf_lower"],
                                 "upper": p["cf_upper"]})  # fmt: skip
        mi = self.model_info
        df = mi.df_resid
        q0 = stats.t.ppf(1 - self.spec.alpha / 2, df) if df else stats.norm.ppf(
            1 - self.spec.alpha / 2)  # fmt: skip
        q = stats.t.ppf(1 - alpha / 2, df) if df else stats.norm.ppf(1 - alpha / 2)
        se_mean = (p["cf_upper"] - p["cf_lower"]).to_numpy(dtype="float64") / (2 * q0)
        r = self.resid.to_numpy()
        s2 = float(r @ r) / max(mi.nobs - mi.n_params, 1)
        half = q * np.sqrt(se_mean**2 + s2)
        cf = p["counterfactual"].to_numpy(dtype="float64")
        return pd.DataFrame({"date": p["date"], "lower": cf - half, "upper": cf + half})

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Confidence intervals of the effects at level ``1 - alpha``.

        Uses the same reference distribution as the fit: Student t with
        ``model_info.df_resid`` degrees of freedom (segmented) or the normal (SARIMAX).

        Returns
        -------
        pandas.DataFrame
            Columns ``event, term, estimate, ci_lower, ci_upper, pct_ci_lower,
            pct_ci_upper``.
        """
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
        df = self.model_info.df_resid
        q = stats.t.ppf(1 - alpha / 2, df) if df else stats.norm.ppf(1 - alpha / 2)
        eff = self.effects
        lo = eff["estimate"] - q * eff["se"]
        hi = eff["estimate"] + q * eff["se"]
        pm = self.model_info.pre_mean
        scale = 100.0 / pm if pm and np.isfinite(pm) else np.nan
        return pd.DataFrame(
            {
                "event": eff["event"],
                "term": eff["term"],
                "estimate": eff["estimate"],
                "ci_lower": lo,
                "ci_upper": hi,
                "pct_ci_lower": np.minimum(lo * scale, hi * scale),
                "pct_ci_upper": np.maximum(lo * scale, hi * scale),
            }
        ).reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the whole result (``json.dumps`` works on it)."""
        path = self.path.copy()
        path["date"] = path["date"].dt.strftime("%Y-%m-%d")
        plac = self.placebo.copy()
        if "pseudo_date" in plac and len(plac):
            plac["pseudo_date"] = plac["pseudo_date"].dt.strftime("%Y-%m-%d")
        return {
            "spec": self.spec.to_dict(),
            "effects": _records(self.effects),
            "path": _records(path),
            "placebo": _records(plac),
            "warnings": list(self.warnings),
            "warning_classes": list(self.warning_classes),
            "model_info": self.model_info.to_dict(),
            "forms": _records(self.forms) if self.forms is not None else None,
            "best_form": self.best_form,
        }

    # -- text ----------------------------------------------------------------------
    def _header_lines(self) -> list[str]:
        sp, mi = self.spec, self.model_info
        unit = f" {sp.unit}" if sp.unit else ""
        lines = [
            f"Sample: {_period(sp.sample_start, sp.frequency)} .. "
            f"{_period(sp.sample_end, sp.frequency)}  (pre {sp.pre_periods}, "
            f"post {sp.post_periods} periods; nobs {mi.nobs})",
            f"Spec: {sp.describe()}",
            f"Pre-event mean: {fmt_num(mi.pre_mean)}{unit}",
        ]
        if sp.model == "segmented":
            lines.append(f"Model: OLS, trend={sp.trend}, seasonal={sp.seasonal}")
            if mi.cov_type == "hac-prewhiten":
                floored = (
                    f", floored from {_fmt(mi.df_satterthwaite, 2)}"
                    if mi.df_satterthwaite is not None
                    and mi.df_resid is not None
                    and mi.df_satterthwaite < mi.df_resid
                    else ""
                )
                se = (
                    f"HAC, AR(1)-prewhitened (rho={_fmt(mi.prewhiten_rho)}) Newey-West, "
                    f"Bartlett lags={mi.hac_lags} ({mi.hac_rule}), "
                    f"Satterthwaite t({_fmt(mi.df_resid, 1)}{floored})"
                )
            else:
                se = (
                    f"HAC, Newey-West, Bartlett lags={mi.hac_lags} ({mi.hac_rule}), "
                    f"t({_fmt(mi.df_resid, 0)})"
                )
            lines.append(f"Standard errors: {se}")
        else:
            lines.append(
                f"Model: SARIMAX{mi.order}"
                + (f"x{mi.seasonal_order}" if mi.seasonal_order else "")
                + f", trend={mi.trend!r}, seasonal={sp.seasonal}, chosen by "
                f"{(mi.ic or '').upper()}={_fmt(mi.ic_value)} among "
                f"{0 if mi.candidates is None else len(mi.candidates)} candidates"
            )
        return lines

    def _events_table(self) -> pd.DataFrame:
        sp = self.spec
        return pd.DataFrame(
            {
                "event": [str(e) for e, _, _ in sp.events],
                "date": [_iso(d) for _, d, _ in sp.events],
                "first treated period": [_period(p, sp.frequency) for _, _, p in sp.events],
            }
        )

    def _effects_table(self) -> pd.DataFrame:
        sp = self.spec
        e = self.effects
        ci = f"{100 * (1 - sp.alpha):g}% CI"
        unit = f", {sp.unit}" if sp.unit else ""
        return pd.DataFrame(
            {
                "event": e["event"].astype(str),
                "term": e["term"].astype(str),
                f"estimate{unit}": [fmt_num(v) for v in e["estimate"]],
                "se": [fmt_num(v) for v in e["se"]],
                "p": [fmt_p(v) for v in e["pvalue"]],
                ci: [
                    f"[{fmt_num(a)}, {fmt_num(b)}]"
                    for a, b in zip(e["ci_lower"], e["ci_upper"], strict=True)
                ],
                "% of pre mean": [_fmt(v, 1) for v in e["pct_of_pre_mean"]],
                "p placebo": [fmt_p(v) for v in e["placebo_pvalue"]],
                "n placebo": [str(int(v)) for v in e["n_placebo"]],
            }
        )

    def _params_display(self) -> pd.DataFrame:
        t = self.params_table()
        out = pd.DataFrame({"parameter": [str(x) for x in t.index]})
        for col in t.columns:
            fmt = fmt_p if col == "P>|t|" else (lambda v: _fmt(v, 2)) if col == "t" else fmt_num
            out[col] = [fmt(v) for v in t[col]]
        return out

    def _forms_table(self) -> pd.DataFrame:
        ic = self.spec.form_ic.upper()
        f = self.forms
        assert f is not None
        return pd.DataFrame(
            {
                "form": f["form"].astype(str),
                "k": [str(int(v)) for v in f["n_params"]],
                "rate": [_fmt(v) for v in f["rate"]],
                "loglik": [_fmt(v, 1) for v in f["loglik"]],
                "AIC": [_fmt(v, 1) for v in f["aic"]],
                "BIC": [_fmt(v, 1) for v in f["bic"]],
                f"d{ic}": [_fmt(v, 1) for v in f["delta"]],
            }
        )

    def summary(self) -> Summary:
        """Specification, events, effect table, parameters, effect forms, warnings.

        Returns
        -------
        oilimpact.summary.Summary
            ``str()`` is monospaced text; in Jupyter it renders as HTML tables.
            Effects are in the series' unit (``spec.unit``) and in percent of the
            pre-event mean.
        """
        sp, mi = self.spec, self.model_info
        out = Summary(f"Intervention analysis: {sp.series} ({sp.frequency}, {sp.model})")
        out.add_text(self._header_lines())
        out.add_table(
            self._events_table(),
            caption="Events (first treated period, effect starts: "
            f"{'event period' if sp.start == 'containing' else 'period after the event'})",
        )
        out.add_table(self._effects_table(), caption="Effects")
        if len(mi.params):
            out.add_table(self._params_display(), caption="Parameters")
        if self.forms is not None and len(self.forms):
            rate = f", decay rate {_fmt(mi.decay_rate)}" if mi.decay_rate is not None else ""
            out.add_table(
                self._forms_table(),
                caption=f"Effect forms (same sample; reported: {mi.form}{rate}; best by "
                f"{sp.form_ic.upper()}: {self.best_form})",
            )
        if self.warnings:
            out.add_notes(list(self.warnings), heading="Warnings")
        return out

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        """The summary as HTML tables (user text escaped)."""
        return self.summary().as_html()

    # -- figure --------------------------------------------------------------------
    def plot(
        self, *, title: str | None = None, prediction_band: bool = True, height: int = 380
    ) -> go.Figure:
        """Actual vs counterfactual with its bands and a dotted line at each event.

        Parameters
        ----------
        title : str, optional
            Figure title, already escaped for plotly
            (:func:`oilimpact.plotstyle.plot_text`); default ``"<label>: actual vs
            counterfactual"``.
        prediction_band : bool
            Also draw the wider band for a single period's value (segmented fit, see
            :meth:`prediction_band`).
        height : int
            Pixels.

        Returns
        -------
        plotly.graph_objects.Figure
            Segmented fit: the band for the counterfactual *mean* (``"95% confidence
            band for the mean of the counterfactual"``: a single period outside it is
            not by itself significant) and the prediction band (``"95% prediction band
            for a single period (mean band plus residual variance)"``, a closed
            polygon). SARIMAX: one ``"95% prediction interval"`` band. Lines
            ``"counterfactual"``, ``"fitted"``, ``"actual"``; one vertical line shape
            per event; y axis titled with the series' label and unit, x axis
            ``"date"``. ``fig.write_image(...)`` needs ``kaleido``.
        """
        from .figure import intervention_figure

        return intervention_figure(
            self, title=title, prediction_band=prediction_band, height=height
        )
