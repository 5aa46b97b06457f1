"""Reference figures from pysyncon on the Texas prison data (writes texas_pysyncon.json).

Run: ``python tests/synth/reference/texas_pysyncon.py`` (about 3 minutes; needs the dev
extra). pysyncon's inner SLSQP is run with a tight tolerance (ftol 1e-14, maxiter 5000)
instead of its default (ftol 1e-6), which stops early on these unscaled outcomes; the
algorithm is otherwise pysyncon's own.

* ``mixtape``: pysyncon's W at oilimpact's V (Cunningham's predictors), its V-loss.
* ``placebo``: pysyncon's PlaceboTest, outcome-only predictors (bmprison 1985..1992)
  with V proportional to each row's variance across the 50 non-Texas states, which makes
  its standardised objective the unscaled pre-period MSPE that oilimpact minimises;
  per state the pre-period (1985-1992) and post-period (1993-2000) RMSPE of its gap.
* ``texas_outcome_only``: Texas' weights for the same outcome-only problem.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _texas import PRE, SPECIAL, mixtape_predictors, pysyncon_dataprep, texas_frames, year  # noqa: E402
from pysyncon import Synth  # noqa: E402


class TightSynth(Synth):
    """pysyncon's Synth with a tight inner SLSQP (module level: pickled to workers)."""

    @staticmethod
    def w_optimize(V_mat, X0, X1, qp_method="SLSQP", qp_options=None):
        return Synth.w_optimize(V_mat, X0, X1, qp_method, {"maxiter": 5000, "ftol": 1e-14})


def main() -> None:
    import causaldata
    import pysyncon
    from pysyncon.utils import PlaceboTest

    from oilimpact.synth import synthetic_control

    raw, long = texas_frames()
    ours = synthetic_control(long, treated="Texas", event="1993-01-01", outcome="bmprison",
                             predictors=mixtape_predictors(), placebo=False, loo="none",
                             in_time=None, conformal=False)
    dp = pysyncon_dataprep(raw, SPECIAL)
    s = TightSynth()
    s.fit(dataprep=dp, custom_V=ours.v_weights.to_numpy())
    out: dict[str, object] = {
        "versions": {"pysyncon": pysyncon.__version__ if hasattr(pysyncon, "__version__") else "1.7.0",
                     "causaldata": getattr(causaldata, "__version__", "0.1.5")},
        "mixtape": {"v": ours.v_weights.tolist(),
                    "w": dict(zip(dp.controls_identifier, map(float, s.W), strict=True)),
                    "loss_V": s.loss_V},
    }
    wide = long.pivot(index="date", columns="unit", values="bmprison")
    pre = wide.loc[year(PRE[0]):year(PRE[-1])]
    spec = [("bmprison", y) for y in PRE]
    sd51 = pre.std(axis=1)
    dpo = pysyncon_dataprep(raw, spec, predictors=[])
    s2 = TightSynth()
    s2.fit(dataprep=dpo, custom_V=(sd51**2 / (sd51**2).sum()).to_numpy())
    out["texas_outcome_only"] = dict(zip(dpo.controls_identifier, map(float, s2.W), strict=True))
    sd50 = pre.drop(columns="Texas").std(axis=1)
    pt = PlaceboTest()
    pt.fit(dataprep=dpo, scm=TightSynth(), scm_options={"custom_V": (sd50**2 / (sd50**2).sum()).to_numpy()},
           max_workers=1, verbose=False)
    g = pt.gaps.sort_index(axis=1)
    out["placebo"] = {
        unit: {"pre_rmspe": float(np.sqrt((g.loc[1985:1992, unit] ** 2).mean())),
               "post_rmspe": float(np.sqrt((g.loc[1993:2000, unit] ** 2).mean()))}
        for unit in g.columns
    }
    (HERE / "texas_pysyncon.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
