"""Intervention analysis: level shifts and temporary effects of events on a monthly series.

Nothing in this package touches the network or the disk: :func:`intervention` takes a
series and events and returns an :class:`InterventionResult`.

``oilimpact.intervention`` is both this package and the public function: calling the
package, ``oi.intervention(series, "blockade")``, calls :func:`intervention` (same
signature), and dotted paths such as ``oilimpact.intervention.result`` still name the
modules. Python binds a sub-package to its parent's attribute on first import, so a
plain function of the same name could not stay bound at ``oilimpact.intervention``.
"""

from __future__ import annotations

import inspect
import sys
import types
from typing import Any

from .analysis import intervention
from .result import DEFAULT_OPTIONS, InterventionOptions, InterventionResult

__all__ = ["DEFAULT_OPTIONS", "InterventionOptions", "InterventionResult", "intervention"]


class _CallablePackage(types.ModuleType):
    """The package's module type: calling it calls :func:`intervention`."""

    def __call__(self, *args: Any, **kwargs: Any) -> InterventionResult:
        return intervention(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
__signature__ = inspect.signature(intervention)
