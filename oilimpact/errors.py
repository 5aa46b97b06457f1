"""Exceptions raised by oilimpact.

Every error the package raises on purpose derives from :class:`OilImpactError`, so a
caller (and the CLI) can catch one class. The few subclasses exist only where a caller
must tell cases apart; each is also a subclass of the matching built-in exception so
``except ValueError`` keeps working.

Messages say what was needed and what was got, and name the file, series, date or row
involved. They never contain an API key: build them with :func:`scrub` when any text
may have come from a URL or a provider response.
"""

from __future__ import annotations

import os
import re
from typing import Any

__all__ = [
    "AuthError",
    "ConfigError",
    "EmptyDataError",
    "EstimationError",
    "FileValidationError",
    "ImportRefused",
    "InputError",
    "OilImpactError",
    "RateLimitError",
    "SourceError",
    "StaleDataError",
    "StoreError",
    "ValidationError",
    "scrub",
]

#: Environment variables that may hold secrets; their values are scrubbed from messages.
SECRET_ENV_VARS: tuple[str, ...] = ("EIA_API_KEY", "FRED_API_KEY")

_KEY_PARAM = re.compile(r"(?i)(api_key|apikey|api-key|subscription-key)=([^&\s\"']+)")
_KEY_JSON = re.compile(r'(?i)("api_key"\s*:\s*")([^"]*)(")')


def scrub(text: object, *secrets: str | None) -> str:
    """Return ``str(text)`` with API keys removed.

    Removes ``api_key=...`` query parameters, ``"api_key": "..."`` JSON members, the
    values of the environment variables in :data:`SECRET_ENV_VARS` and any extra
    ``secrets`` passed in.

    Examples
    --------
    >>> scrub("https://api.eia.gov/v2/x?api_key=abc123&length=5")
    'https://api.eia.gov/v2/x?api_key=***&length=5'
    >>> scrub("bad key sekrit", "sekrit")
    'bad key ***'
    """
    out = str(text)
    out = _KEY_PARAM.sub(lambda m: f"{m.group(1)}=***", out)
    out = _KEY_JSON.sub(lambda m: f"{m.group(1)}***{m.group(3)}", out)
    values = [os.environ.get(name) for name in SECRET_ENV_VARS] + list(secrets)
    for value in values:
        if value and len(value) >= 4:
            out = out.replace(value, "***")
    return out


class OilImpactError(Exception):
    """Base class of every error oilimpact raises on purpose."""

    def __init__(self, message: str, *args: Any) -> None:
        super().__init__(scrub(message), *args)


class ConfigError(OilImpactError, ValueError):
    """A registry, catalog or settings file is malformed or refers to something unknown."""


class SourceError(OilImpactError, RuntimeError):
    """A provider could not be reached or returned something unusable."""


class EmptyDataError(SourceError, ValueError):
    """A provider or file returned no observations for the request."""


class RateLimitError(SourceError):
    """A provider refused the request for exceeding its rate limit (HTTP 429)."""


class AuthError(SourceError, PermissionError):
    """A provider rejected or is missing an API key."""


class StoreError(OilImpactError, OSError):
    """The local store could not be read or written."""


class InputError(OilImpactError, ValueError):
    """A user-supplied file or argument cannot be parsed (names the file and row)."""


class ImportRefused(InputError):
    """An import was refused because it would damage a stored series (wrong scale,
    most of the history revised); ``force=True`` / ``--force`` overrides.

    Attributes
    ----------
    report : object or None
        The :class:`oilimpact.revisions.RevisionReport` with the numbers behind it.
    """

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        self.report = report


class ValidationError(OilImpactError, ValueError):
    """A series or table failed its pandera schema.

    Attributes
    ----------
    failures : pandas.DataFrame or None
        One row per failed check (columns ``series, check, date, value, message``).
    """

    def __init__(self, message: str, failures: Any = None) -> None:
        super().__init__(message)
        self.failures = failures


class StaleDataError(OilImpactError):
    """A series is older than its frequency allows; the brief refuses to republish it."""


class EstimationError(OilImpactError, ValueError):
    """A study cannot be estimated as specified (too few observations, bad window, ...)."""


class FileValidationError(InputError, ValidationError):
    """Rows of a user file failed parsing or validation; every problem is listed.

    The message starts ``"<file>, line <n>: "`` with the first problem and counts the
    others; ``.failures`` has one row per problem (columns ``file, line, column, value,
    problem``). Both an :class:`InputError` and a :class:`ValidationError`.
    """
