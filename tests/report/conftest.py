"""Shared fixtures of the report tests: the demo brief, built once per session."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from oilimpact.demo import DemoData, demo_dataset
from oilimpact.events import load_catalog
from oilimpact.report import BriefData, BriefPaths, compute_brief, write_brief

AS_OF = dt.date(2026, 1, 9)
GENERATED_AT = dt.datetime(2026, 1, 12, 6, 17, tzinfo=dt.UTC)


@dataclass
class DemoBrief:
    demo: DemoData
    data: BriefData
    paths: BriefPaths
    html: str


@pytest.fixture(scope="session")
def demo_brief(tmp_path_factory: pytest.TempPathFactory) -> DemoBrief:
    # the data as known on AS_OF (publication lags applied), as `oilimpact brief --demo` does
    demo = demo_dataset().known_on(AS_OF)
    health = demo.health_frame()
    # one stale series, to check it is shown as such
    health.loc[health["series"] == "henry_hub", ["stale", "warnings"]] = [
        True,
        "last value 9 days old",
    ]
    data = compute_brief(
        demo.prices,
        demo.volumes,
        as_of=AS_OF,
        events=load_catalog(),
        health=health,
        synthetic=True,
        true_effects=demo.true_effects,
    )
    out: Path = tmp_path_factory.mktemp("reports")
    paths = write_brief(data, out, generated_at=GENERATED_AT)
    return DemoBrief(demo, data, paths, paths.html.read_text(encoding="utf-8"))
