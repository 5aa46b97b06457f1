"""Inputs (wide/long, events, donors, errors), the result object and the import boundary."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from _synthdata import factor_panel
from numpy.testing import assert_allclose

from oilimpact.errors import EstimationError, InputError
from oilimpact.events import load_catalog
from oilimpact.synth import synthetic_control
from oilimpact.synth.spec import build_data, first_treated

FAST = dict(placebo=False, loo="none", in_time=None, conformal=False)


def test_event_forms_agree_and_first_treated_period_contains_the_event():
    idx = pd.date_range("2024-01-01", periods=30, freq="MS")
    panel = factor_panel(T=30, event_pos=23).set_axis(idx)
    ev = load_catalog()["blockade"]  # 2025-12-16: December 2025 is the first treated month
    a = build_data(panel, treated="tr", event=ev)
    b = build_data(panel, treated="tr", event="blockade")
    c = build_data(panel, treated="tr", event=pd.Timestamp("2025-12-16"))
    assert a.n_pre == b.n_pre == c.n_pre == 23 and a.dates[a.n_pre] == pd.Timestamp("2025-12-01")
    days = pd.bdate_range("2025-12-01", periods=40)
    assert days[first_treated(days, pd.Timestamp("2025-12-13"))] == pd.Timestamp("2025-12-15")


def test_long_and_wide_panels_give_the_same_fit(panel):
    long = panel.rename_axis("date").reset_index().melt(id_vars="date", var_name="unit", value_name="y")
    wide_res = synthetic_control(panel, treated="tr", event="2022-09-01", **FAST)
    long_res = synthetic_control(long, treated="tr", event="2022-09-01", outcome="y", **FAST)
    assert_allclose(wide_res.params.sort_index(), long_res.params.sort_index(), atol=1e-12)


def test_covariate_predictors_and_v_weights(panel):
    cov = {"level": panel * 0 + np.arange(panel.shape[1])}
    res = synthetic_control(panel, treated="tr", event="2022-09-01", covariates=cov,
                            predictors=[("outcome", "2021-01-01"), ("outcome", ["2022-01-01", "2022-06-01"]),
                                        "level"], **FAST)
    assert list(res.v_weights.index) == ["outcome(2021-01-01)", "outcome(2022-01-01,2022-06-01)",
                                         "level(mean pre)"]
    assert res.v_weights.sum() == pytest.approx(1) and (res.v_weights >= 0).all()
    assert_allclose(res.predictors["synthetic"],
                    res.predictors.filter(like="treated").iloc[:, 0] * 0
                    + np.array([panel.loc["2021-01-01", res.params.index] @ res.params,
                                panel.loc[["2022-01-01", "2022-06-01"], res.params.index].mean() @ res.params,
                                np.arange(panel.shape[1])[:-1] @ res.params.to_numpy()]), rtol=1e-10)


def test_errors_name_what_was_needed(panel):
    with pytest.raises(InputError, match="treated unit 'xx'"):
        build_data(panel, treated="xx", event="2022-09-01")
    with pytest.raises(EstimationError, match="pre_periods=50 needs 50 periods"):
        build_data(panel, treated="tr", event="2022-09-01", pre_periods=50)
    with pytest.raises(EstimationError, match="not inside the panel"):
        build_data(panel, treated="tr", event="2030-01-01")
    holed = panel.copy()
    holed.loc["2021-03-01", "tr"] = np.nan
    with pytest.raises(EstimationError, match="no outcome on 2021-03-01"):
        build_data(holed, treated="tr", event="2022-09-01")
    holed = panel.copy()
    holed.loc["2021-03-01", "d7"] = np.nan
    assert build_data(holed, treated="tr", event="2022-09-01").dropped_donors == ("d7",)


def test_result_tables_text_and_figure(panel):
    res = synthetic_control(panel, treated="tr", event="2022-09-01", unit="kb/d")
    frame = res.to_frame()
    assert list(frame.columns) == ["actual", "synthetic", "gap", "post"]
    assert_allclose(frame["gap"], frame["actual"] - frame["synthetic"])
    synth = panel[res.params.index].to_numpy() @ res.params.to_numpy()
    assert_allclose(frame["synthetic"], synth, rtol=1e-12)
    assert res.effect == pytest.approx(frame.loc[frame["post"], "gap"].mean())
    assert res.pre_rmspe == pytest.approx(np.sqrt((frame.loc[~frame["post"], "gap"] ** 2).mean()))
    assert res.params.sum() == pytest.approx(1, abs=1e-12) and (res.params >= 0).all()
    text = str(res)
    assert "Average post-event effect" in text and "kb/d" in text and "conformal p" in text
    assert "<pre>" in res._repr_html_()
    fig = res.plot()
    assert isinstance(fig, go.Figure)
    names = {t.name for t in fig.data}
    assert {"actual", "synthetic", "gap"} <= names
    with pytest.raises(AttributeError):
        res.effect = 0.0  # frozen


def test_synth_never_imports_io_modules():
    code = ("import socket\n"
            "socket.socket.connect = lambda *a, **k: (_ for _ in ()).throw(OSError('blocked'))\n"
            "import sys, oilimpact.synth, oilimpact.synth.estimator\n"
            "print(','.join(sorted(m for m in sys.modules if m.startswith(('oilimpact.sources',"
            " 'oilimpact.store', 'oilimpact.api', 'requests', 'yfinance')))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
