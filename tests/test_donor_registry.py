"""The packaged registry holds the synthetic-control donor pool (group ``ve_crude_donors``)
exactly as the tests' registry file ``tests/sources/fixtures/ve_crude_donors.toml``."""

from __future__ import annotations

from pathlib import Path

from oilimpact.series import default_registry

FILE = Path(__file__).parent / "sources" / "fixtures" / "ve_crude_donors.toml"


def test_default_registry_holds_the_donor_pool() -> None:
    reg = default_registry()
    members = reg.group("ve_crude_donors")
    from_file = default_registry().with_file(FILE)
    assert members == from_file.group("ve_crude_donors") and len(members) == 15
    for name in members:
        assert reg[name] == from_file[name]
        assert reg[name].publication_lag == reg["ve_crude_production"].publication_lag
