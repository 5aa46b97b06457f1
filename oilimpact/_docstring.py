"""Attach a long docstring kept beside a function (no runtime dependency, import anywhere).

The public entry points (``event_study``, ``intervention``) have numpydoc docstrings of
a hundred lines; keeping them in a module constant keeps the function itself readable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["documented"]

_F = TypeVar("_F", bound=Callable[..., Any])


def documented(doc: str) -> Callable[[_F], _F]:
    """Decorator setting ``doc`` as the function's ``__doc__``.

    Examples
    --------
    >>> @documented("Add one.")
    ... def inc(x):
    ...     return x + 1
    >>> inc.__doc__, inc(1)
    ('Add one.', 2)
    """

    def attach(func: _F) -> _F:
        func.__doc__ = doc
        return func

    return attach
