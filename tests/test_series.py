"""The series registry: shipped series, user TOML files, clear config errors."""

from __future__ import annotations

from datetime import time

import pytest

from oilimpact.errors import ConfigError
from oilimpact.series import default_registry

REG = default_registry()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("brent", [("fred", "DCOILBRENTEU"), ("eia", "RBRTE"), ("yahoo", "BZ=F")]),
        ("wti", [("fred", "DCOILWTICO"), ("eia", "RWTC"), ("yahoo", "CL=F")]),
        ("henry_hub", [("fred", "DHHNGSP"), ("eia", "RNGWHHD"), ("yahoo", "NG=F")]),
        ("sp500", [("fred", "SP500"), ("yahoo", "^GSPC")]),
        ("vix", [("fred", "VIXCLS"), ("yahoo", "^VIX")]),
        ("us_imports_ve_weekly", [("eia", "W_EPC0_IM0_NUS-NVE_MBBLD")]),
        ("us_imports_ve_monthly", [("eia", "MCRIMUSVE2")]),
    ],
)
def test_required_sources_in_preference_order(name, expected):
    assert [(r.provider, r.id) for r in REG[name].sources][: len(expected)] == expected


def test_equities_and_volumes_present():
    for ticker in ["XLE", "CVX", "FRO", "DHT", "INSW", "TNK", "VLO", "MPC", "PBF"]:
        assert REG[ticker.lower()].source_for("yahoo").id == ticker
    prod = REG["ve_crude_production"].source_for("eia")
    assert prod.id == "57" and prod.options["route"] == "international"
    assert REG["ve_crude_production"].kind == "volume" and REG["ve_crude_production"].unit == "kb/d"


def test_close_times_and_negative_rule():
    assert REG["wti"].close_time == time(14, 30) and REG["wti"].timezone == "America/New_York"
    assert REG["brent"].close_time == time(19, 30) and REG["brent"].timezone == "Europe/London"
    assert REG["sp500"].close_time == time(16, 0)
    assert REG["wti"].allow_negative and not REG["brent"].allow_negative


def test_user_file_adds_and_overrides(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(
        '[series.urals]\nfrequency = "daily"\nkind = "price"\nunit = "USD/bbl"\n'
        'sources = ["file:urals"]\n'
        '[series.brent]\nfrequency = "daily"\nkind = "price"\nsources = ["yahoo:BZ=F"]\n'
    )
    reg = REG.with_file(f)
    assert reg["urals"].source_for("file").id == "urals"
    assert [str(r) for r in reg["brent"].sources] == ["yahoo:BZ=F"]
    assert "wti" in reg and "urals" not in REG


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[series.x]\nkind = "price"\n', "needs a 'frequency'"),
        ('[series.x]\nfrequency = "hourly"\nkind = "price"\n', "frequency must be one of"),
        (
            '[series.x]\nfrequency = "daily"\nkind = "price"\nsources = ["bloomberg:X"]\n',
            "must name a provider",
        ),
        ('[series.x]\nfrequency = "daily"\nkind = "price"\ncolour = "red"\n', "unknown entries"),
        (
            '[series.x]\nfrequency = "daily"\nkind = "price"\nclose_time = "4pm"\n',
            "close_time must be HH:MM",
        ),
        ("[series.x\n", "not valid TOML"),
        ("title = 'nothing'\n", r"no \[series\.NAME\] tables"),
    ],
)
def test_malformed_user_file_names_file_and_series(tmp_path, body, message):
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(ConfigError, match=message) as info:
        REG.with_file(f)
    assert str(f) in str(info.value)


def test_unknown_series_lists_known():
    with pytest.raises(ConfigError, match="unknown series 'brnt'.*brent"):
        REG["brnt"]
