"""Studies: event studies of returns and intervention analysis of volumes.

Nothing in this package touches the network or the disk: functions take frames and
return result values.

The event-study entry point is :func:`event_study`; it returns an
:class:`EventStudyResult` whose :attr:`~EventStudyResult.spec` is a :class:`StudySpec`.
The array entry point (batched fit of N pairs) is
:func:`oilimpact.study.models.fit_panel`.
"""

from .engine import event_study
from .result import EventStudyResult, StudySpec

__all__ = ["EventStudyResult", "StudySpec", "event_study"]
