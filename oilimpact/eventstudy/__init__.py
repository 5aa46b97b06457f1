"""Event studies: abnormal returns of prices around dated events.

Nothing in this package touches the network or the disk: functions take frames and
return result values.

The entry point is :func:`event_study`; it returns an :class:`EventStudyResult` whose
:attr:`~EventStudyResult.spec` is a :class:`StudySpec`. The array entry point (batched
fit of N pairs) is :func:`oilimpact.eventstudy.models.fit_panel`. Interventions on
monthly volumes live in the sibling package :mod:`oilimpact.intervention`.

On a result: :func:`wild_bootstrap` and :func:`permutation_test` (resampling p-values,
:mod:`~oilimpact.eventstudy.resampling`), :func:`minimum_detectable_effect` and
:func:`power_curve` (:mod:`~oilimpact.eventstudy.power`), :func:`volatility_tests`
(abnormal volatility, :mod:`~oilimpact.eventstudy.eventvol`) and :func:`implied_vol_jump`
(:mod:`~oilimpact.eventstudy.volatility`). The GARCH normal-return models are
``model="market_garch"`` / ``"market_gjr"`` (:mod:`~oilimpact.eventstudy.garch_engine`).
"""

from .engine import event_study
from .eventvol import volatility_tests
from .power import minimum_detectable_effect, power_curve
from .resampling import permutation_test, wild_bootstrap
from .result import EventStudyResult, StudySpec
from .volatility import implied_vol_jump

__all__ = [
    "EventStudyResult",
    "StudySpec",
    "event_study",
    "implied_vol_jump",
    "minimum_detectable_effect",
    "permutation_test",
    "power_curve",
    "volatility_tests",
    "wild_bootstrap",
]
