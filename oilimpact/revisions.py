"""The import guard: does an incoming series look like a revision of the stored one?

A file imported under the wrong name (VIX levels as WTI) or in the wrong unit (b/d as
kb/d) would otherwise rewrite a series silently: the store keeps every vintage, but
every reader sees the new values. :func:`check_import` compares the incoming values
with the stored ones on the dates both hold and reports two signs of a wrong file:

* **scale**: the median ratio ``|incoming| / |stored|`` on the overlap is outside
  ``[1 / max_scale_ratio, max_scale_ratio]`` (default 1.5), on at least
  ``min_scale_pairs`` (3) paired values;
* **mass revision**: more than ``max_revised_share`` (50 %) of at least
  ``min_overlap`` (20) overlapping dates would change value.

An ordinary re-import of the same file changes nothing; a normal revision of a few
recent values, or an incremental fetch whose short overlap is revised, passes. The
function is pure (no store, no disk); :func:`guard_import` raises
:class:`~oilimpact.errors.ImportRefused` with the numbers unless ``force=True``.

Examples
--------
>>> import pandas as pd
>>> dates = pd.bdate_range("2025-01-01", periods=30, name="date")
>>> wti = pd.Series(60.0, index=dates, name="wti")
>>> check_import(wti, wti.copy(), name="wti", source="wti.csv").refused
False
>>> vix = pd.Series(20.0, index=dates, name="wti")
>>> report = check_import(wti, vix, name="wti", source="vix.csv")
>>> report.refused, round(report.median_ratio, 3), report.revised
(True, 0.333, 30)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import ImportRefused

__all__ = ["RevisionReport", "check_import", "guard_import"]

#: Defaults of the guard's thresholds (see the module docstring).
MAX_SCALE_RATIO = 1.5
MIN_SCALE_PAIRS = 3
MAX_REVISED_SHARE = 0.5
MIN_OVERLAP = 20
#: Relative tolerance under which two values count as equal (float noise, not a revision).
RTOL = 1e-9


@dataclass(frozen=True, slots=True)
class RevisionReport:
    """What an incoming series would change in a stored one.

    Attributes
    ----------
    name, source : str
        Series name and where the incoming data come from (file path, ``provider:id``).
    incoming : int
        Dates in the incoming series.
    overlap : int
        Incoming dates the stored series already has.
    added : int
        Incoming dates the stored series does not have.
    revised : int
        Overlapping dates whose value would change (a change to or from NaN counts;
        differences below a relative ``1e-9`` do not).
    revised_share : float
        ``revised / overlap`` (NaN without overlap).
    pairs : int
        Overlapping dates where both values are finite and non-zero (the scale check's
        sample).
    median_ratio : float
        Median of ``|incoming| / |stored|`` over those pairs (NaN without pairs).
    examples : tuple of (pandas.Timestamp, float, float)
        Up to three revised dates with the stored and the incoming value, the largest
        relative changes first.
    problems : tuple of str
        One sentence per failed check; empty when the import looks like a revision.
    """

    name: str
    source: str
    incoming: int
    overlap: int
    added: int
    revised: int
    revised_share: float
    pairs: int
    median_ratio: float
    examples: tuple[tuple[pd.Timestamp, float, float], ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def refused(self) -> bool:
        """True when any check failed."""
        return bool(self.problems)

    def message(self) -> str:
        """The refusal message: what looked wrong, with numbers, and how to override."""
        if not self.problems:
            return (
                f"{self.source} as {self.name!r}: {self.added} new date(s), {self.revised} of "
                f"{self.overlap} overlapping value(s) revised"
            )
        examples = "; ".join(f"{d:%Y-%m-%d} {old:g} -> {new:g}" for d, old, new in self.examples)
        return (
            f"refused to import {self.source} as {self.name!r}: "
            + "; and ".join(self.problems)
            + (f" (e.g. {examples})" if examples else "")
            + f". Nothing was stored. If this really is {self.name!r}, re-run with --force "
            "(Python: force=True); otherwise check the series name (--series) and the file"
        )


def _clean(series: pd.Series) -> pd.Series:
    out = pd.Series(
        pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64"),
        index=pd.DatetimeIndex(series.index),
    )
    return out[~out.index.duplicated(keep="last")].sort_index()


def check_import(
    stored: pd.Series | None,
    incoming: pd.Series,
    *,
    name: str,
    source: str,
    max_scale_ratio: float = MAX_SCALE_RATIO,
    min_scale_pairs: int = MIN_SCALE_PAIRS,
    max_revised_share: float = MAX_REVISED_SHARE,
    min_overlap: int = MIN_OVERLAP,
) -> RevisionReport:
    """Compare ``incoming`` with the ``stored`` series on their common dates.

    Parameters
    ----------
    stored : pandas.Series or None
        The series as stored (latest vintage); None or empty when nothing is stored.
    incoming : pandas.Series
        The parsed, validated series about to be written.
    name, source : str
        Series name and origin, used in the messages.
    max_scale_ratio : float, default 1.5
        Largest accepted median ``|incoming| / |stored|`` (and its inverse).
    min_scale_pairs : int, default 3
        Fewest finite, non-zero pairs for the scale check to apply.
    max_revised_share : float, default 0.5
        Largest accepted share of overlapping dates whose value changes.
    min_overlap : int, default 20
        Fewest overlapping dates for the revision-share check to apply (an incremental
        fetch re-reads a short recent span that may be revised in full).

    Returns
    -------
    RevisionReport
        ``refused`` is True when a check failed; nothing is raised.

    Notes
    -----
    With :math:`O` the overlapping dates, :math:`P \\subseteq O` those where both values
    are finite and non-zero, the scale statistic is
    :math:`m = \\operatorname{median}_{t \\in P} |x^{new}_t| / |x^{old}_t|` (a median,
    so a few genuine revisions or one negative print do not move it), refused when
    :math:`|\\log m| > \\log(\\text{max\\_scale\\_ratio})` and :math:`|P| \\ge`
    ``min_scale_pairs``. The revision share is
    :math:`\\#\\{t \\in O : x^{new}_t \\ne x^{old}_t\\} / |O|`, with equality up to a
    relative ``1e-9`` and NaN equal to NaN, refused when above ``max_revised_share``
    and :math:`|O| \\ge` ``min_overlap``.
    """
    new = _clean(incoming)
    if stored is None or len(stored) == 0:
        return RevisionReport(name, source, len(new), 0, len(new), 0, float("nan"), 0, float("nan"))
    old = _clean(stored)
    common = new.index.intersection(old.index)
    a = old.reindex(common).to_numpy()
    b = new.reindex(common).to_numpy()
    both_nan = np.isnan(a) & np.isnan(b)
    close = np.isclose(b, a, rtol=RTOL, atol=0.0)
    changed = ~(both_nan | close)
    overlap, revised = len(common), int(changed.sum())
    share = revised / overlap if overlap else float("nan")
    paired = np.isfinite(a) & np.isfinite(b) & (a != 0) & (b != 0)
    ratio = float(np.median(np.abs(b[paired]) / np.abs(a[paired]))) if paired.any() else np.nan
    problems = []
    if int(paired.sum()) >= min_scale_pairs and (
        ratio > max_scale_ratio or ratio < 1.0 / max_scale_ratio
    ):
        problems.append(
            f"on the {int(paired.sum())} dates both hold, the values are on another scale: "
            f"median ratio new/stored {ratio:.3g} (accepted {1 / max_scale_ratio:.3g} to "
            f"{max_scale_ratio:.3g}; stored median {np.median(np.abs(a[paired])):.4g}, "
            f"file median {np.median(np.abs(b[paired])):.4g})"
        )
    if overlap >= min_overlap and share > max_revised_share:
        problems.append(
            f"it would revise {revised} of the {overlap} stored values it overlaps "
            f"({share:.0%}, accepted up to {max_revised_share:.0%}) between "
            f"{common[0]:%Y-%m-%d} and {common[-1]:%Y-%m-%d}"
        )
    rel = np.abs(b - a) / np.maximum(np.abs(a), 1e-12)
    rel = np.where(np.isnan(rel), np.inf, rel)
    order = np.flatnonzero(changed)[np.argsort(-rel[changed], kind="stable")][:3]
    examples = tuple((pd.Timestamp(common[i]), float(a[i]), float(b[i])) for i in sorted(order))
    return RevisionReport(
        name=name,
        source=source,
        incoming=len(new),
        overlap=overlap,
        added=int(len(new.index.difference(old.index))),
        revised=revised,
        revised_share=share,
        pairs=int(paired.sum()),
        median_ratio=ratio,
        examples=examples,
        problems=tuple(problems),
    )


def guard_import(
    stored: pd.Series | None,
    incoming: pd.Series,
    *,
    name: str,
    source: str,
    force: bool = False,
    **thresholds: float,
) -> RevisionReport:
    """Run :func:`check_import` and raise when the import would damage the series.

    Parameters
    ----------
    stored, incoming, name, source
        As for :func:`check_import`.
    force : bool, default False
        Return the report instead of raising (the CLI's ``--force``); the caller
        should then show ``report.problems`` as warnings.
    **thresholds
        Passed on to :func:`check_import`.

    Returns
    -------
    RevisionReport

    Raises
    ------
    ImportRefused
        The report has problems and ``force`` is False; ``.report`` holds the report.
    """
    report = check_import(stored, incoming, name=name, source=source, **thresholds)  # type: ignore[arg-type]
    if report.refused and not force:
        raise ImportRefused(report.message(), report=report)
    return report
