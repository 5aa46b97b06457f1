"""Data providers: one module per provider, all behind the :class:`Source` contract.

``get_source(provider)`` returns the network sources (``fred``, ``eia``, ``yahoo``).
The ``file`` provider (``oilimpact import``) lives in :mod:`oilimpact.sources.files`.

Examples
--------
>>> from oilimpact.sources import get_source
>>> get_source("fred", api_key="").name
'fred'
>>> get_source("bloomberg")
Traceback (most recent call last):
...
oilimpact.errors.ConfigError: unknown provider 'bloomberg'; network providers: eia, fred, yahoo (use `oilimpact import FILE` for data from files)
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from .base import Source

__all__ = ["NETWORK_PROVIDERS", "Source", "get_source"]

#: Providers :func:`get_source` can build.
NETWORK_PROVIDERS: tuple[str, ...] = ("eia", "fred", "yahoo")


def get_source(provider: str, **kwargs: Any) -> Source:
    """Build the source for ``provider`` (``"fred"``, ``"eia"`` or ``"yahoo"``).

    Parameters
    ----------
    provider : str
        Provider name, as in :class:`~oilimpact.series.SourceRef`.
    **kwargs
        Passed to the provider's constructor (``api_key``, ``base_url``, ``session``...).

    Raises
    ------
    ConfigError
        ``provider`` is not a network provider.
    """
    key = provider.strip().lower()
    if key == "fred":
        from .fred import FredSource

        return FredSource(**kwargs)
    if key == "eia":
        from .eia import EiaSource

        return EiaSource(**kwargs)
    if key == "yahoo":
        from .yahoo import YahooSource

        return YahooSource(**kwargs)
    raise ConfigError(
        f"unknown provider {provider!r}; network providers: {', '.join(NETWORK_PROVIDERS)} "
        f"(use `oilimpact import FILE` for data from files)"
    )
