"""Event studies: abnormal returns of prices around dated events.

Nothing in this package touches the network or the disk: functions take frames and
return result values.

The entry point is :func:`event_study`; it returns an :class:`EventStudyResult` whose
:attr:`~EventStudyResult.spec` is a :class:`StudySpec`. The array entry point (batched
fit of N pairs) is :func:`oilimpact.eventstudy.models.fit_panel`. Interventions on
monthly volumes live in the sibling package :mod:`oilimpact.intervention`.
"""

from .engine import event_study
from .result import EventStudyResult, StudySpec

__all__ = ["EventStudyResult", "StudySpec", "event_study"]
