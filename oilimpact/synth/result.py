"""The result of a synthetic-control study: a frozen value with tables, text and a figure."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["SynthResult"]


@dataclass(frozen=True, slots=True)
class SynthResult:
    """Synthetic control for one treated unit and one event.

    Attributes
    ----------
    treated, event, event_date, unit :
        What was studied; ``unit`` is the outcome's unit of measure (may be empty).
    params : pandas.Series
        Donor weights (non-negative, summing to one), indexed by donor.
    v_weights : pandas.Series
        Predictor weights V (diagonal, summing to one), indexed by predictor label.
    predictors : pandas.DataFrame
        Per predictor: ``treated``, ``synthetic`` and ``donor_mean`` values.
    path : pandas.DataFrame
        Per period: ``actual``, ``synthetic``, ``gap``, ``post`` (bool).
    pre_rmspe, post_rmspe, effect : float
        Pre/post-event RMSPE and the average post-event gap (in ``unit``).
    alpha : float
        Level of the conformal intervals.
    conformal : pandas.DataFrame or None
        :func:`~oilimpact.synth.conformal.conformal_table` (per period + ``average``).
    placebos, placebo_gaps : pandas.DataFrame or None
        Placebo-in-space table and gap paths (:func:`~oilimpact.synth.placebo.placebo_in_space`).
    placebo_pvalue, placebo_pvalue_all : float
        Rank p-value of the post/pre RMSPE ratio, without and with the excluded placebos.
    mspe_cutoff : float or None
        The exclusion rule used (placebo pre-MSPE > cutoff x treated pre-MSPE).
    leave_one_out, in_time : pandas.DataFrame or None
        Robustness tables.
    dropped_donors : tuple of str
        Donors left out for missing outcomes in the window.
    notes : tuple of str
        Plain sentences on the method and its limits.
    """

    treated: str
    event: str
    event_date: pd.Timestamp
    unit: str
    params: pd.Series
    v_weights: pd.Series
    predictors: pd.DataFrame
    path: pd.DataFrame
    pre_rmspe: float
    post_rmspe: float
    effect: float
    alpha: float
    conformal: pd.DataFrame | None
    placebos: pd.DataFrame | None
    placebo_gaps: pd.DataFrame | None
    placebo_pvalue: float
    placebo_pvalue_all: float
    mspe_cutoff: float | None
    leave_one_out: pd.DataFrame | None
    in_time: pd.DataFrame | None
    dropped_donors: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def weights(self) -> pd.Series:
        """Alias of :attr:`params`."""
        return self.params

    @property
    def pvalue(self) -> float:
        """Conformal p-value of no average post-event effect (nan without conformal)."""
        if self.conformal is None:
            return float("nan")
        return float(self.conformal.loc["average", "pvalue"])

    def to_frame(self) -> pd.DataFrame:
        """The gap path (a copy): ``actual, synthetic, gap, post`` by date."""
        return self.path.copy()

    def to_dict(self) -> dict[str, Any]:
        """Scalars and weights as plain Python values (JSON-ready)."""
        return {
            "treated": self.treated,
            "event": self.event,
            "event_date": self.event_date.strftime("%Y-%m-%d"),
            "unit": self.unit,
            "pre_rmspe": self.pre_rmspe,
            "post_rmspe": self.post_rmspe,
            "effect": self.effect,
            "pvalue": self.pvalue,
            "placebo_pvalue": self.placebo_pvalue,
            "weights": {k: float(v) for k, v in self.params.items()},
            "v_weights": {k: float(v) for k, v in self.v_weights.items()},
        }

    def _lines(self) -> list[str]:
        u = f" {self.unit}" if self.unit else ""
        post = self.path[self.path["post"]]
        lines = [
            f"Synthetic control: {self.treated}, event {self.event} ({self.event_date:%Y-%m-%d})",
            f"Periods: {len(self.path) - len(post)} pre-event, {len(post)} post-event "
            f"({post.index[0]:%Y-%m-%d} to {post.index[-1]:%Y-%m-%d})",
            f"Pre-event RMSPE: {self.pre_rmspe:.4g}{u}   post-event RMSPE: {self.post_rmspe:.4g}{u}",
            f"Average post-event effect: {self.effect:.4g}{u}",
        ]
        if self.conformal is not None:
            row = self.conformal.loc["average"]
            lines.append(
                f"  conformal p = {row['pvalue']:.3f}, {100 * (1 - self.alpha):g}% interval "
                f"[{row['ci_lower']:.4g}, {row['ci_upper']:.4g}]{u} (T = {int(row['n_periods'])})"
            )
        if self.placebos is not None:
            n = int((~self.placebos["excluded"]).sum()) - 1
            lines.append(
                f"  placebo-in-space rank p = {self.placebo_pvalue:.3f} ({n} placebos; "
                f"all {len(self.placebos) - 1}: {self.placebo_pvalue_all:.3f})"
            )
        w = self.params[self.params > 5e-4].sort_values(ascending=False)
        lines.append("Donor weights: " + ", ".join(f"{k} {v:.3f}" for k, v in w.items()))
        if self.dropped_donors:
            lines.append("Dropped donors (missing outcome): " + ", ".join(self.dropped_donors))
        return lines

    def summary(self) -> str:
        """Plain-text summary: fit, effect, inference, weights and notes."""
        lines = self._lines() + ["", "Predictors:", self.predictors.round(4).to_string()]
        if self.conformal is not None:
            lines += ["", "Conformal inference (H0: no effect):", self.conformal.to_string()]
        lines += ["", "Notes:"] + [f"  - {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"

    def plot(self, *, title: str | None = None) -> go.Figure:
        """Treated vs synthetic (top) and the gap with placebo gaps (bottom).

        Returns
        -------
        plotly.graph_objects.Figure
            Traces ``actual``, ``synthetic``, ``gap`` and one ``placebo: <unit>`` per
            kept placebo; a vertical line at the first treated period in both panels.
        """
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        p = self.path
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4],
                            subplot_titles=("actual vs synthetic", "gap (actual - synthetic)"))
        if self.placebo_gaps is not None and self.placebos is not None:
            keep = self.placebos.loc[~self.placebos["excluded"], "unit"].iloc[1:]
            for unit in keep:
                fig.add_trace(go.Scatter(x=p.index, y=self.placebo_gaps[unit], mode="lines",
                                         line={"color": "rgba(120,120,120,0.35)", "width": 1},
                                         name=f"placebo: {html.escape(unit)}", showlegend=False),
                              row=2, col=1)
        fig.add_trace(go.Scatter(x=p.index, y=p["actual"], name="actual",
                                 line={"color": "#d62728"}), row=1, col=1)
        fig.add_trace(go.Scatter(x=p.index, y=p["synthetic"], name="synthetic",
                                 line={"color": "#1f77b4", "dash": "dash"}), row=1, col=1)
        fig.add_trace(go.Scatter(x=p.index, y=p["gap"], name="gap",
                                 line={"color": "black"}), row=2, col=1)
        start = p.index[p["post"].to_numpy().argmax()]
        for row in (1, 2):
            fig.add_vline(x=start, line_dash="dot", line_color="black", row=row, col=1)
        u = f" ({html.escape(self.unit)})" if self.unit else ""
        fig.update_layout(
            title=html.escape(title or f"{self.treated}: synthetic control around {self.event}"),
            template="plotly_white",
        )
        fig.update_yaxes(title_text=f"{html.escape(self.treated)}{u}", row=1, col=1)
        fig.update_yaxes(title_text=f"gap{u}", row=2, col=1)
        return fig


def _predictor_table(labels: tuple[str, ...], X: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {"treated": X[:, 0], "synthetic": X[:, 1:] @ w, "donor_mean": X[:, 1:].mean(axis=1)},
        index=pd.Index(labels, name="predictor"),
    )
