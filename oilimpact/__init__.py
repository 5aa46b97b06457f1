"""oilimpact: energy-market and sanctions impact analytics.

The public API, importable from the top level:

- data: :func:`load`, :func:`load_frame`, :func:`fetch`, :func:`import_file`,
  :func:`status`, :func:`validate`, :class:`Store`, :func:`default_registry`;
- events: the :mod:`oilimpact.events` catalog (``oilimpact.events.load_catalog()``);
- studies: :func:`event_study` (returns; ``model="market_garch"`` for GARCH errors) and
  :func:`intervention` (volumes), whose one default specification is
  :data:`DEFAULT_INTERVENTION_OPTIONS`, and :func:`synthetic_control` (one treated unit
  against a weighted mix of donors);
- on an event study's result: :func:`wild_bootstrap` and :func:`permutation_test`
  (resampling p-values with their Monte Carlo error), :func:`minimum_detectable_effect`
  and :func:`power_curve` (what the study could have detected), :func:`volatility_tests`
  (did volatility rise) and :func:`implied_vol_jump` (did VIX/OVX jump);
- reports: :func:`build_brief`.

Heavy modules (statsmodels, plotly) load on first use, so ``import oilimpact`` is fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import logs as _logs
from .errors import OilImpactError
from .series import SeriesSpec, default_registry

_logs.install()  # API keys are scrubbed from every oilimpact log record (oilimpact.logs)

__version__ = "0.1.0"

_LAZY = {
    "load": "oilimpact.api",
    "load_frame": "oilimpact.api",
    "fetch": "oilimpact.api",
    "import_file": "oilimpact.api",
    "status": "oilimpact.api",
    "validate": "oilimpact.api",
    "build_brief": "oilimpact.api",
    "Store": "oilimpact.store",
    "event_study": "oilimpact.eventstudy.engine",
    "EventStudyResult": "oilimpact.eventstudy.result",
    "ShortEstimationWarning": "oilimpact.eventstudy.result",
    "intervention": "oilimpact.intervention",
    "InterventionResult": "oilimpact.intervention.result",
    "InterventionOptions": "oilimpact.intervention.result",
    "DEFAULT_INTERVENTION_OPTIONS": "oilimpact.intervention.result",
    "wild_bootstrap": "oilimpact.eventstudy.resampling",
    "permutation_test": "oilimpact.eventstudy.resampling",
    "minimum_detectable_effect": "oilimpact.eventstudy.power",
    "power_curve": "oilimpact.eventstudy.power",
    "volatility_tests": "oilimpact.eventstudy.eventvol",
    "implied_vol_jump": "oilimpact.eventstudy.volatility",
    "synthetic_control": "oilimpact.synth.estimator",
    "SynthResult": "oilimpact.synth.result",
    "events": "oilimpact.events",
}

__all__ = ["OilImpactError", "SeriesSpec", "__version__", "default_registry", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        attr = "DEFAULT_OPTIONS" if name == "DEFAULT_INTERVENTION_OPTIONS" else name
        # ``events`` is a module; ``intervention`` a callable package (see its docstring)
        value = module if name in ("events", "intervention") else getattr(module, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'oilimpact' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
