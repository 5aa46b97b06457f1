"""Summary tables longer than the display limit show their ends and say what is left out."""

from __future__ import annotations

import pandas as pd

from oilimpact.summary import DISPLAY_ROWS, Summary


def _summary(n: int) -> Summary:
    s = Summary("Demo")
    s.add_table(pd.DataFrame({"row": [f"r{i:05d}" for i in range(n)]}), caption="Rows")
    return s


def test_short_tables_print_whole() -> None:
    s = _summary(DISPLAY_ROWS)
    assert "not shown" not in str(s)
    assert str(s) == s.as_text(max_rows=None)


def test_long_table_shows_its_ends_and_counts_the_rest() -> None:
    n = 3 * DISPLAY_ROWS + 7
    s = _summary(n)
    text = str(s)
    assert "r00000" in text and f"r{n - 1:05d}" in text
    assert f"r{DISPLAY_ROWS // 2:05d}" not in text  # the first row left out
    assert f"({n:,} rows; {n - DISPLAY_ROWS:,} not shown" in text
    html = s._repr_html_()
    assert html.count("<tr>") == DISPLAY_ROWS + 1  # the shown rows and the "..." row
    assert f"{n - DISPLAY_ROWS:,} not shown" in html


def test_every_row_stays_reachable() -> None:
    n = 2 * DISPLAY_ROWS
    s = _summary(n)
    assert f"r{n // 2:05d}" in s  # `in` searches every row
    assert len(s.tables[0]) == n
    assert s.as_text(max_rows=None).count("\nr") == n
    s.max_rows = 10
    assert "r00005" not in str(s) and "(400 rows; 390 not shown" in str(s)


def test_event_study_summary_of_many_pairs_is_short_and_complete_on_request() -> None:
    import numpy as np

    from oilimpact.eventstudy import event_study

    rng = np.random.default_rng(1)
    days = pd.bdate_range("2020-01-01", periods=420)
    names = [f"a{i:03d}" for i in range(120)]
    m = rng.normal(0, 0.01, days.size)
    rets = 0.9 * m[:, None] + rng.normal(0, 0.02, (days.size, len(names)))
    prices = pd.DataFrame(100 * np.exp(np.cumsum(rets, axis=0)), index=days, columns=names)
    market = pd.Series(100 * np.exp(np.cumsum(m)), index=days)
    res = event_study(prices, {"e": days[350].date(), "f": days[400].date()}, market=market,
                      catalog={}, event_windows=[(0, 0), (0, 1)], pooled=False)  # fmt: skip
    s = res.summary()
    text = str(s)
    assert "(240 pairs; 40 not listed: res.alignment" in text  # the Events lines
    assert "(480 rows; 280 not shown" in text  # the CAR table
    full = s.as_text(max_rows=None)
    car_rows = [ln for ln in full.splitlines() if "[+0,+0]" in ln or "[+0,+1]" in ln]
    assert len(car_rows) == 480  # every CAR row on request
    assert len(s.tables[1]) == 480 and len(res.car) == 480
