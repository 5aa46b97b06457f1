"""Synthetic control for one treated unit, with placebo and conformal inference.

Modules: :mod:`~oilimpact.synth.spec` (panel, event, predictors -> arrays),
:mod:`~oilimpact.synth.weights` (W given V, the V search),
:mod:`~oilimpact.synth.placebo` (in space, leave-one-out, in time),
:mod:`~oilimpact.synth.conformal` (Chernozhukov-Wuthrich-Zhu 2021),
:mod:`~oilimpact.synth.result` (:class:`SynthResult`) and
:mod:`~oilimpact.synth.estimator` (:func:`synthetic_control`). Like ``study/``, this
package takes frames and returns results: it never imports sources, the store or api.
"""

from .estimator import synthetic_control
from .result import SynthResult
from .spec import Predictor

__all__ = ["Predictor", "SynthResult", "synthetic_control"]
