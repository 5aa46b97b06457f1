"""The one numba decorator of the compiled kernels (see :mod:`oilimpact.eventstudy._jit`)."""

from __future__ import annotations

import numba as nb

#: ``cache=True``: compiled once after an install, loaded from disk afterwards;
#: ``nogil=True``: row blocks run on several threads; ``error_model="numpy"``: a
#: division by zero gives inf/NaN as numpy does, not an exception.
njit = nb.njit(cache=True, nogil=True, error_model="numpy")
