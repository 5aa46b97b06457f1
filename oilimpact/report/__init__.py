"""Reports: the weekly brief (HTML, JSON, CSV) and its figures.

Pure: nothing here touches the network or the store. :mod:`oilimpact.api` loads the
frames and calls :func:`compute_brief` then :func:`write_brief`.
"""

from .brief import compute_brief
from .model import BriefData, BriefOptions
from .render import BriefPaths, render_brief, results_dict, write_brief

__all__ = [
    "BriefData",
    "BriefOptions",
    "BriefPaths",
    "compute_brief",
    "render_brief",
    "results_dict",
    "write_brief",
]
