"""Simulated panels for the synth tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def factor_panel(seed: int = 0, T: int = 40, J: int = 10, effect: float = 0.0, event_pos: int = 32,
                 noise: float = 0.1) -> pd.DataFrame:
    """Monthly factor-model panel; 'tr' is 0.5 d0 + 0.3 d1 + 0.2 d2 (+ effect after event_pos)."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2020-01-01", periods=T, freq="MS")
    f = rng.normal(size=(T, 2)).cumsum(axis=0) + 10
    load = rng.uniform(0.2, 1.0, size=(J, 2))
    panel = pd.DataFrame(f @ load.T + rng.normal(0, noise, (T, J)), index=idx,
                         columns=[f"d{i}" for i in range(J)])
    panel["tr"] = (0.5 * panel["d0"] + 0.3 * panel["d1"] + 0.2 * panel["d2"]
                   + rng.normal(0, noise, T))
    panel.iloc[event_pos:, panel.columns.get_loc("tr")] += effect
    return panel
