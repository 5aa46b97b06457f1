"""The top-level names resolve to the functions they document, without slowing the import."""

from __future__ import annotations

import subprocess
import sys

import oilimpact as oi
from oilimpact import eventstudy


def test_every_public_name_resolves() -> None:
    for name in oi.__all__:
        assert getattr(oi, name) is not None, name


def test_result_methods_are_the_eventstudy_functions() -> None:
    for name in ("wild_bootstrap", "permutation_test", "minimum_detectable_effect",
                 "power_curve", "volatility_tests", "implied_vol_jump"):  # fmt: skip
        assert getattr(oi, name) is getattr(eventstudy, name), name
        assert name in eventstudy.__all__


def test_import_loads_no_analysis_module() -> None:
    code = ("import sys, oilimpact; "
            "print(sorted(m for m in sys.modules if m.startswith(('oilimpact.eventstudy', "
            "'statsmodels', 'arch', 'plotly'))))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
