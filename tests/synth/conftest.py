from __future__ import annotations

import pandas as pd
import pytest
from _synthdata import factor_panel


@pytest.fixture
def panel() -> pd.DataFrame:
    return factor_panel(effect=-3.0)
