"""Import the real-data snapshot (``../shared/data/real``) into a store.

The snapshot is a folder of public files (EIA spot prices, CBOE VIX, FRED's S&P 500
CSV, EIA Venezuela production, EIA US imports from Venezuela in kb/d, and IMF trade
values with Venezuela) that tests and CI use to
run the real parsers and the real analysis offline. :data:`SNAPSHOT_FILES` says which
file becomes which registry series and how it is read.

Run as a module to import the snapshot into a temporary store and build the brief::

    python -m oilimpact.snapshot ../shared/data/real --as-of 2026-01-09 --out reports
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .api import ImportOutcome, import_file

__all__ = ["SNAPSHOT_FILES", "SnapshotFile", "import_snapshot"]


@dataclass(frozen=True, slots=True)
class SnapshotFile:
    """One snapshot file and how to import it."""

    file: str
    series: str
    fmt: str = "auto"
    column: str | None = None
    filters: Mapping[str, str] = field(default_factory=dict)


SNAPSHOT_FILES: tuple[SnapshotFile, ...] = (
    SnapshotFile("eia_brent_spot_daily.csv", "brent", "eia"),
    SnapshotFile("eia_wti_spot_daily.csv", "wti", "eia"),
    SnapshotFile("eia_henry_hub_spot_daily.csv", "henry_hub", "eia"),
    SnapshotFile("cboe_vix_daily.csv", "vix", "ohlc", column="CLOSE"),
    SnapshotFile("fred_SP500.csv", "sp500", "fred"),
    SnapshotFile(
        "eia_venezuela_liquids_production_monthly.csv",
        "ve_crude_production",
        "tidy",
        filters={"eia_product_id": "57"},
    ),  # fmt: skip
    SnapshotFile(
        "eia_venezuela_liquids_production_monthly.csv",
        "ve_liquids_production",
        "tidy",
        filters={"eia_product_id": "53"},
    ),  # fmt: skip
    SnapshotFile(
        "imf_imts_us_trade_with_venezuela_monthly.csv",
        "us_imports_ve_value",
        "tidy",
        filters={"imf_key": "USA.MG_CIF_USD.VEN.M"},
    ),  # fmt: skip
    SnapshotFile(
        "imf_imts_us_trade_with_venezuela_monthly.csv",
        "us_exports_ve_value",
        "tidy",
        filters={"imf_key": "USA.XG_FOB_USD.VEN.M"},
    ),  # fmt: skip
    # volumes: a month EIA did not publish has no row and stays missing, never zero
    SnapshotFile(
        "eia_us_imports_from_venezuela_monthly.csv",
        "us_imports_ve_monthly",
        "tidy",
        filters={"eia_series_id": "MCRIMUSVE2"},
    ),  # fmt: skip
    SnapshotFile(
        "eia_us_imports_from_venezuela_monthly.csv",
        "us_products_imports_ve_monthly",
        "tidy",
        filters={"eia_series_id": "MTPIMUSVE2"},
    ),  # fmt: skip
)


def import_snapshot(
    folder: str | Path, data_dir: str | Path, *, fetched_at: str | None = None
) -> list[ImportOutcome]:
    """Import every file of :data:`SNAPSHOT_FILES` from ``folder`` into ``data_dir``.

    ``fetched_at`` pins the recorded fetch time (for deterministic briefs).
    """
    folder = Path(folder)
    return [
        import_file(
            folder / item.file,
            name=item.series,
            fmt=item.fmt,
            column=item.column,
            filters=dict(item.filters) or None,
            data_dir=data_dir,
            fetched_at=fetched_at,
        )
        for item in SNAPSHOT_FILES
    ]


def main(argv: list[str] | None = None) -> int:
    """Import the snapshot into a temporary store and build the brief from it."""
    parser = argparse.ArgumentParser(prog="python -m oilimpact.snapshot", description=main.__doc__)
    parser.add_argument("folder", type=Path, help="the snapshot folder (../shared/data/real)")
    parser.add_argument("--as-of", default="2026-01-09", help="brief date (default 2026-01-09)")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="reports folder")
    parser.add_argument("--data-dir", type=Path, default=None, help="store (default: a temp dir)")
    args = parser.parse_args(argv)
    from .api import build_brief

    with tempfile.TemporaryDirectory(prefix="oilimpact-snapshot-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        for outcome in import_snapshot(args.folder, data_dir, fetched_at=f"{args.as_of}T12:00:00Z"):
            print(f"imported {outcome.name}: {outcome.rows} rows {outcome.first} .. {outcome.last}")
        paths = build_brief(
            as_of=args.as_of,
            data_dir=data_dir,
            out=args.out,
            generated_at=f"{args.as_of}T12:00:00Z",
        )
        print(f"brief: {paths}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
