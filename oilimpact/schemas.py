"""pandera schemas for series where they enter oilimpact.

Every fetch and import is validated here, lazily (all failures collected), before
anything is written to the store. A failure raises :class:`~oilimpact.errors.ValidationError`
carrying a tidy table of every failed check; soft problems (gaps, jumps, a legitimate
negative price) come back as warnings in a :class:`ValidationReport`.

The schema is built from the series' :class:`~oilimpact.series.SeriesSpec`:

* index: ``datetime64[ns]`` (pandas 3's ``datetime64[us]`` is coerced), unique, sorted;
* values: float (coerced), at least one non-missing value, within
  ``[plausible_min, plausible_max]``, and non-negative unless ``allow_negative``.

Warnings (never failures): negative values where allowed, gaps longer than the
frequency allows, and one-step absolute log changes above ``max_abs_log_change``.

Examples
--------
>>> import pandas as pd
>>> from oilimpact.series import default_registry
>>> s = pd.Series([70.0, -36.98, 12.0], name="wti",
...               index=pd.to_datetime(["2020-04-17", "2020-04-20", "2020-04-21"]))
>>> report = validate_series(s, default_registry()["wti"])
>>> report.ok, report.warnings[0].startswith("wti: 1 negative value")
(True, True)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

os.environ.setdefault("DISABLE_PANDERA_IMPORT_WARNING", "True")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pandera.pandas as pa  # noqa: E402
from pandera.errors import SchemaError, SchemaErrors  # noqa: E402

from .errors import ValidationError  # noqa: E402
from .frames import INDEX_NAME  # noqa: E402
from .series import SeriesSpec  # noqa: E402

__all__ = ["HEALTH_COLUMNS", "ValidationReport", "series_schema", "validate_series"]

#: Columns of the data-health frame the brief receives and shows (in this order); built by
#: :func:`oilimpact.api.build_brief` (``last_used``/``availability``: the last period used
#: and why, see docs/point-in-time.md) or by the demo.
HEALTH_COLUMNS: tuple[str, ...] = (
    "series",
    "source",
    "source_id",
    "first",
    "last",
    "rows",
    "fetched_at",
    "vintage",
    "stale",
    "warnings",
    "last_used",
    "availability",
)


#: Largest gap (calendar days) between observations before a gap warning, by frequency.
MAX_GAP_DAYS = {"daily": 7, "weekly": 14, "monthly": 62}


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Outcome of a successful validation: the cleaned series and its warnings."""

    series: pd.Series
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """Always True: a failed validation raises instead of returning a report."""
        return True


def _sorted(index: pd.Index) -> bool:
    return bool(index.is_monotonic_increasing)


def series_schema(spec: SeriesSpec) -> pa.DataFrameSchema:
    """The pandera schema of ``spec`` applied to ``series.to_frame("value")``.

    Examples
    --------
    >>> from oilimpact.series import default_registry
    >>> schema = series_schema(default_registry()["brent"])
    >>> sorted(schema.columns)
    ['value']
    """
    checks = []
    lo = spec.plausible_min
    if not spec.allow_negative:
        lo = 0.0 if lo is None else max(lo, 0.0)
    if lo is not None:
        checks.append(pa.Check.ge(lo, error=f"value >= {lo:g} ({spec.unit or 'unit'})"))
    if spec.plausible_max is not None:
        checks.append(
            pa.Check.le(
                spec.plausible_max, error=f"value <= {spec.plausible_max:g} ({spec.unit or 'unit'})"
            )
        )
    return pa.DataFrameSchema(
        {"value": pa.Column(float, checks=checks, nullable=True, coerce=True)},
        index=pa.Index(
            "datetime64[ns]",
            name=INDEX_NAME,
            unique=True,
            coerce=True,
            checks=[pa.Check(_sorted, element_wise=False, error="dates sorted ascending")],
        ),
        checks=[
            pa.Check(
                lambda df: bool(df["value"].notna().any()),
                element_wise=False,
                error="at least one non-missing value",
            )
        ],
        strict=True,
        name=spec.name,
    )


def _failure_table(exc: SchemaErrors | SchemaError, name: str) -> pd.DataFrame:
    cases = exc.failure_cases if isinstance(exc, SchemaErrors) else exc.failure_cases
    if cases is None or not isinstance(cases, pd.DataFrame):
        return pd.DataFrame(
            {"series": [name], "check": [str(exc)], "date": [None], "value": [None]}
        )
    checks = cases["check"].astype(str).replace(_CHECK_NAMES)
    out = pd.DataFrame(
        {
            "series": name,
            "check": checks.to_numpy(),
            "date": cases["index"].to_numpy() if "index" in cases else None,
            "value": cases["failure_case"].to_numpy(),
        }
    )
    # a value that is not numeric also makes the range checks raise: report it once
    noise = out["value"].astype(str).str.startswith("TypeError(")
    out = out[~noise].drop_duplicates(subset=["check", "date", "value"])
    return out.reset_index(drop=True)


_CHECK_NAMES = {
    "field_uniqueness": "duplicate dates",
    "dtype('float64')": "numeric values",
    "coerce_dtype('float64')": "numeric values",
}


def _describe(table: pd.DataFrame, limit: int = 5) -> str:
    parts = []
    for check, grp in table.groupby("check", sort=False):
        shown = []
        for date, value in zip(grp["date"], grp["value"], strict=False):
            when = pd.Timestamp(date).date().isoformat() if _is_date(date) else None
            if check in ("duplicate dates", "dates sorted ascending"):
                if when and when not in shown:
                    shown.append(when)
                continue
            shown.append(f"{when}={value}" if when else str(value))
        if not shown:
            shown = ["failed"]
        extra = f" (+{len(shown) - limit} more)" if len(shown) > limit else ""
        parts.append(f"{check}: {', '.join(shown[:limit])}{extra}")
    return "; ".join(parts)


def _is_date(value: object) -> bool:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    try:
        if pd.isna(pd.Timestamp(value)):
            return False
    except (TypeError, ValueError):
        return False
    return not isinstance(value, (int, np.integer))


def _warnings(s: pd.Series, spec: SeriesSpec) -> list[str]:
    out: list[str] = []
    values = s.dropna()
    neg = values[values < 0]
    if len(neg):
        first = neg.index[0].date().isoformat()
        out.append(
            f"{spec.name}: {len(neg)} negative value(s), first {first}={neg.iloc[0]:g} "
            "(allowed for this series; log returns across them are undefined)"
        )
    limit = MAX_GAP_DAYS.get(spec.frequency)
    if limit and len(values) > 1:
        gaps = values.index.to_series().diff().dt.days
        big = gaps[gaps > limit]
        if len(big):
            d = big.index[0]
            out.append(
                f"{spec.name}: {len(big)} gap(s) longer than {limit} days, "
                f"largest {int(big.max())} days; first ends {d.date().isoformat()}"
            )
    if spec.max_abs_log_change and len(values) > 1:
        pos = values[values > 0]
        jumps = np.log(pos).diff().abs()
        big = jumps[jumps > spec.max_abs_log_change]
        if len(big):
            d = big.idxmax()
            out.append(
                f"{spec.name}: {len(big)} one-step move(s) above {spec.max_abs_log_change:g} in "
                f"log terms, largest {float(big.max()):.3f} on {d.date().isoformat()}"
            )
    return out


def validate_series(
    series: pd.Series, spec: SeriesSpec, *, origin: str | None = None
) -> ValidationReport:
    """Validate ``series`` against the schema of ``spec``, collecting every failure.

    Parameters
    ----------
    series : pandas.Series
        Values on a ``DatetimeIndex`` (the frame convention of ``docs/architecture.md``).
    spec : SeriesSpec
        Registry entry giving plausibility bounds, sign rule and frequency.
    origin : str, optional
        Where the data came from (file path or ``provider:id``); named in errors.

    Returns
    -------
    ValidationReport
        The coerced series (float64, ``datetime64[ns]`` index named ``date``) and warnings.

    Raises
    ------
    ValidationError
        With ``.failures`` (columns ``series, check, date, value``) when any check fails.
    """
    where = f" from {origin}" if origin else ""
    frame = series.rename("value").to_frame()
    if isinstance(frame.index, pd.DatetimeIndex) and frame.index.tz is not None:
        raise ValidationError(
            f"{spec.name}{where}: dates must be tz-naive session dates, got tz={frame.index.tz}"
        )
    frame.index = frame.index.rename(INDEX_NAME)
    try:
        clean = series_schema(spec).validate(frame, lazy=True)
    except (SchemaErrors, SchemaError) as exc:
        table = _failure_table(exc, spec.name)
        raise ValidationError(
            f"{spec.name}{where} failed validation ({len(table)} problem(s)): {_describe(table)}. "
            "Nothing was stored; fix the data or the series' bounds in the registry.",
            failures=table,
        ) from exc
    out = clean["value"].rename(spec.name)
    return ValidationReport(series=out, warnings=tuple(_warnings(out, spec)))
