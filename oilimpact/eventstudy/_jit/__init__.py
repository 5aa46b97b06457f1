"""numba-compiled loops over (asset, event) pairs, for large panels.

Imported only through :mod:`oilimpact.eventstudy.kernels`, which decides when they are used.
Every kernel works on one block of rows (pairs), independently of the others, and
releases the GIL, so blocks run on a few threads. Each does the same floating-point
operations, in the same order, as the numpy code it stands in for where that is noted;
elsewhere it differs only by summation order (relative 1e-15).

One module per step of the engine; each lists its kernels in ``__all__`` and maps each
kernel to its plain-numpy twin in ``TWINS`` (a dotted name under
``oilimpact.eventstudy`` and what it computes). This package exposes every kernel by
name (``_jit.fit_market``) and :data:`TWINS`, the union of the modules' maps;
``tests/eventstudy/test_kernels.py`` requires every kernel to have a twin, every twin
to exist and every kernel to be compared with its twin by a test.

The compiled code is cached on disk (``cache=True``): the first call after an install
compiles it (a few seconds), later processes load it.
"""

from __future__ import annotations

import importlib
import pkgutil

TWINS: dict[str, tuple[str, str]] = {}

for _info in pkgutil.iter_modules(__path__):
    if _info.name.startswith("_"):
        continue
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    TWINS.update(_mod.TWINS)
    for _name in _mod.__all__:
        if _name != "TWINS":
            globals()[_name] = getattr(_mod, _name)
