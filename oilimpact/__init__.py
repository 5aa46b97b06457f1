"""oilimpact: energy-market and sanctions impact analytics."""

from .errors import OilImpactError
from .series import SeriesSpec, default_registry

__version__ = "0.1.0"

__all__ = ["OilImpactError", "SeriesSpec", "default_registry", "__version__"]
