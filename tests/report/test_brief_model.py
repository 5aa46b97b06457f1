"""The brief's normal-return model: the market model by default, GARCH on request."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from oilimpact import api
from oilimpact.errors import InputError

STAMP = dt.datetime(2026, 1, 10, 8, 0, tzinfo=dt.UTC)


def test_demo_brief_with_garch_errors_by_default(tmp_path) -> None:
    paths = api.build_brief(demo=True, out=tmp_path, generated_at=STAMP)
    data = json.loads(paths.json.read_text(encoding="utf-8"))
    assert data["options"]["model"] == "market_garch"
    assert data["options"]["estimation_window"] == [-760, -11]  # the GARCH default window
    assert any("GARCH(1,1)" in m for m in data["methods"])
    brent = [f for f in data["findings"] if f["series"] == "brent" and f["kind"] == "price"]
    assert brent and all(f["n"] > 240 for f in brent)  # three years, not 240 days


def test_the_ols_market_model_on_request(tmp_path) -> None:
    paths = api.build_brief(demo=True, out=tmp_path, generated_at=STAMP, model="market")
    data = json.loads(paths.json.read_text(encoding="utf-8"))
    assert data["options"]["model"] == "market"
    assert data["options"]["estimation_window"] == [-250, -11]
    assert not any("GARCH(1,1)" in m for m in data["methods"])


def test_a_model_the_brief_cannot_use_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="market_garch"):
        api.build_brief(demo=True, out=tmp_path, model="zero_mean")
    assert not any(tmp_path.iterdir())  # nothing written
