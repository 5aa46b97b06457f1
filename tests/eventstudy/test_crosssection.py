"""Cross-sectional tests against independent computations, plus a Brown-Warner simulation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from oilimpact.eventstudy.crosssection import (
    CLUSTER_ROBUST_TESTS,
    DAILY_TESTS,
    GRANK_MIN_PAIRS,
    INDEPENDENCE_NOTE,
    INDEPENDENCE_TESTS,
    POOLED_MIN_PAIRS,
    RBAR_MIN_OVERLAP,
    SIGN_EXACT_BELOW,
    WINDOW_COLUMNS,
    WINDOW_TESTS,
    calendar_rbar,
    cross_sectional_tests,
    daily_tests,
    residual_correlation,
)
from oilimpact.eventstudy.panel import AbnormalPanel

DAY0 = np.datetime64("2025-12-17", "ns")


def make_panel(
    n: int = 25,
    l1: int = 120,
    l2: int = 7,
    *,
    seed: int = 0,
    shift: float = 0.0,
    missing: bool = False,
    dates: np.ndarray | None = None,
    conventions: str = "textbook",
    rho: float = 0.0,
    df: float | None = None,
) -> AbnormalPanel:
    """A market-model-like panel: heteroskedastic pairs, a real PE covariance, NaNs."""
    rng = np.random.default_rng(seed)
    sd = rng.uniform(0.01, 0.03, n)

    def draw(shape: tuple[int, int]) -> np.ndarray:
        z = rng.standard_normal(shape) if df is None else rng.standard_t(df, shape)
        if df is not None:
            z = z / np.sqrt(df / (df - 2))
        if rho:
            z = np.sqrt(rho) * rng.standard_normal((1, shape[1])) + np.sqrt(1 - rho) * z
        return z * sd[:, None]

    est = draw((n, l1))
    est -= est.mean(axis=1, keepdims=True)
    ar = draw((n, l2)) + shift
    m_est = rng.normal(0, 0.01, l1)
    m_ev = rng.normal(0, 0.02, l2)
    n_est = np.full(n, l1)
    if missing:
        late = rng.choice(n, 4, replace=False)
        for j, i in enumerate(late):
            est[i, : 10 * (j + 1)] = np.nan  # listed late
            n_est[i] = l1 - 10 * (j + 1)
        ar[late[0], 2] = np.nan  # one missing event day
        ar[late[1], :] = np.nan  # no event data at all
    sigma2 = np.nansum(est**2, axis=1) / (n_est - 2)
    pe = np.empty((n, l2, l2))
    for i in range(n):
        ok = np.isfinite(est[i])
        mb = m_est[ok].mean()
        ss = ((m_est[ok] - mb) ** 2).sum()
        pe[i] = np.eye(l2) + 1.0 / ok.sum() + np.outer(m_ev - mb, m_ev - mb) / ss
    return AbnormalPanel(
        ids=pd.MultiIndex.from_arrays([np.zeros(n, int), np.arange(n)], names=["event", "asset"]),
        est_resid=est,
        n_est=n_est,
        n_params=2,
        sigma2=sigma2,
        event_days=np.arange(-(l2 // 2), l2 - l2 // 2),
        event_ar=ar,
        pe_cov=pe,
        event_dates=np.full(n, DAY0) if dates is None else dates,
        conventions=conventions,  # type: ignore[arg-type]
    )


def stat_of(out: pd.DataFrame, test: str) -> np.ndarray:
    return out.loc[out["test"] == test].sort_values("day")["statistic"].to_numpy()


def sar_loop(panel: AbnormalPanel) -> np.ndarray:
    out = np.full(panel.event_ar.shape, np.nan)
    for i in range(panel.n_pairs):
        for t in range(panel.event_ar.shape[1]):
            out[i, t] = panel.event_ar[i, t] / np.sqrt(panel.sigma2[i] * panel.pe_cov[i, t, t])
    return out


@pytest.fixture(scope="module", params=[False, True], ids=["complete", "missing"])
def panel(request) -> AbnormalPanel:
    return make_panel(missing=request.param, shift=0.004)


# ---- output shape ----------------------------------------------------------------------


def test_daily_output_is_tidy(panel):
    out = daily_tests(panel)
    assert list(out.columns) == ["day", "date", "test", "statistic", "pvalue", "n", "mean_ar"]
    assert len(out) == len(DAILY_TESTS) * panel.event_days.size
    assert out["date"].isna().all()
    assert out["pvalue"].between(0, 1).all()
    dated = daily_tests(panel, ["sign"], dates=pd.bdate_range("2025-12-15", periods=7))
    assert dated["date"].iloc[0] == pd.Timestamp("2025-12-15")


def test_bad_arguments_raise(panel):
    with pytest.raises(ValueError, match="unknown test"):
        daily_tests(panel, ["nope"])
    with pytest.raises(ValueError, match="one date per"):
        daily_tests(panel, dates=pd.bdate_range("2025-12-15", periods=2))
    with pytest.raises(ValueError, match="not inside"):
        cross_sectional_tests(panel, [(0, 50)])


# ---- parametric tests against independent computations --------------------------------


def test_cross_sectional_t_matches_scipy(panel):
    out = daily_tests(panel, ["cross_sectional_t"])
    res = stats.ttest_1samp(panel.event_ar, 0.0, axis=0, nan_policy="omit")
    np.testing.assert_allclose(stat_of(out, "cross_sectional_t"), res.statistic, rtol=1e-12)
    np.testing.assert_allclose(out["pvalue"].to_numpy(), res.pvalue, rtol=1e-10)
    np.testing.assert_array_equal(out["n"], np.isfinite(panel.event_ar).sum(axis=0))


def test_bmp_matches_direct_loop(panel):
    sar = sar_loop(panel)
    want = []
    for t in range(sar.shape[1]):
        x = sar[np.isfinite(sar[:, t]), t]
        n = x.size
        sd = np.sqrt(sum((v - x.mean()) ** 2 for v in x) / (n - 1))
        want.append(x.sum() / n / (sd / np.sqrt(n)))
    np.testing.assert_allclose(stat_of(daily_tests(panel, ["bmp"]), "bmp"), want, rtol=1e-12)


def test_patell_matches_direct_loop(panel):
    sar = sar_loop(panel)
    want = []
    for t in range(sar.shape[1]):
        num = den = 0.0
        for i in range(panel.n_pairs):
            if np.isfinite(sar[i, t]):
                d = panel.n_est[i]
                num += sar[i, t]
                den += (d - 2) / (d - 4)
        want.append(num / np.sqrt(den))
    got = stat_of(daily_tests(panel, ["patell"]), "patell")
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_brown_warner_matches_direct_formulas(panel):
    out = daily_tests(panel, ["brown_warner", "brown_warner_indep"])
    aar = np.nanmean(panel.event_ar, axis=0)
    want = []
    for t in range(aar.size):  # the estimation-window AAR of the day's own pairs
        ok = np.isfinite(panel.event_ar[:, t])
        est_aar = np.nanmean(panel.est_resid[ok], axis=0)
        want.append(aar[t] / np.std(est_aar, ddof=1))
    np.testing.assert_allclose(stat_of(out, "brown_warner"), want, rtol=1e-12)
    want = []
    for t in range(aar.size):
        ok = np.isfinite(panel.event_ar[:, t])
        want.append(aar[t] / (np.sqrt(panel.sigma2[ok].sum()) / ok.sum()))
    np.testing.assert_allclose(stat_of(out, "brown_warner_indep"), want, rtol=1e-12)


# ---- sign and rank tests ---------------------------------------------------------------


def test_sign_test_counts_and_matches_binomial():
    p = make_panel(n=400, l2=3, seed=3, shift=0.002)
    out = daily_tests(p, ["sign"])
    n = out["n"].to_numpy()
    w = stat_of(out, "sign") * np.sqrt(n / 4) + n / 2
    np.testing.assert_allclose(w, (p.event_ar > 0).sum(axis=0), atol=1e-9)
    for wi, ni, pv in zip(w.round().astype(int), n, out["pvalue"], strict=True):
        # normal approximation (no continuity correction) vs the exact binomial
        assert pv == pytest.approx(stats.binomtest(wi, ni, 0.5).pvalue, abs=0.04)


def test_generalized_sign_uses_cowan_p_hat(panel):
    # p-hat of each day: the mean fraction of positive residuals of that day's pairs
    frac = np.array([np.mean(r[np.isfinite(r)] > 0) for r in panel.est_resid])
    ok = np.isfinite(panel.event_ar)
    p_hat = np.array([frac[ok[:, t]].mean() for t in range(ok.shape[1])])
    n = ok.sum(axis=0)
    w = ((panel.event_ar > 0) & ok).sum(axis=0)
    want = (w - n * p_hat) / np.sqrt(n * p_hat * (1 - p_hat))
    got = stat_of(daily_tests(panel, ["generalized_sign"]), "generalized_sign")
    np.testing.assert_allclose(got, want, rtol=1e-12)


def _rank_loop(panel: AbnormalPanel) -> tuple[np.ndarray, np.ndarray]:
    """Corrado (1989) and Corrado-Zivney (1992) day statistics, one security at a time;
    each event day is scaled by the mean-rank series of the pairs ranked that day."""
    full = np.concatenate([panel.est_resid, panel.event_ar], axis=1)
    n, width = full.shape
    dev = np.full((n, width), np.nan)
    unif = np.full((n, width), np.nan)
    counts = np.zeros(n)
    for i in range(n):
        ok = np.isfinite(full[i])
        k = stats.rankdata(full[i, ok])
        dev[i, ok] = k - (ok.sum() + 1) / 2
        unif[i, ok] = k / (ok.sum() + 1) - 0.5
        counts[i] = ok.sum()
    l1 = panel.est_resid.shape[1]
    rank, mrank = [], []
    for t in range(l1, width):
        rows = np.isfinite(full[:, t])
        t_len = counts[rows].mean()
        n_t = np.isfinite(dev[rows]).sum(axis=0)
        kbar = np.nansum(dev[rows], axis=0) / n_t
        ubar = np.nansum(unif[rows], axis=0) / np.sqrt(n_t)
        rank.append(kbar[t] / np.sqrt(np.nansum(kbar**2) / t_len))
        mrank.append(ubar[t] / np.sqrt(np.nansum(ubar**2) / t_len))
    return np.array(rank), np.array(mrank)


def test_rank_tests_match_security_by_security_ranking(panel):
    rank, mrank = _rank_loop(panel)
    out = daily_tests(panel, ["rank", "modified_rank"])
    np.testing.assert_allclose(stat_of(out, "rank"), rank, rtol=1e-10)
    np.testing.assert_allclose(stat_of(out, "modified_rank"), mrank, rtol=1e-10)


def test_rank_handles_ties():
    p = make_panel(n=10, l1=60, l2=3, seed=5)
    est = np.round(p.est_resid, 2)  # many ties
    ar = np.round(p.event_ar, 2)
    tied = AbnormalPanel(
        **{**{f: getattr(p, f) for f in p.__dataclass_fields__}, "est_resid": est, "event_ar": ar}
    )
    rank, mrank = _rank_loop(tied)
    out = daily_tests(tied, ["rank", "modified_rank"])
    np.testing.assert_allclose(stat_of(out, "rank"), rank, rtol=1e-10)
    np.testing.assert_allclose(stat_of(out, "modified_rank"), mrank, rtol=1e-10)


def test_grank_matches_direct_computation(panel):
    s = np.sqrt(panel.sigma2)
    sar = sar_loop(panel)
    got = stat_of(daily_tests(panel, ["grank"]), "grank")
    l1 = panel.est_resid.shape[1]
    t_len = l1 + 1
    for t in range(sar.shape[1]):
        ok = np.isfinite(sar[:, t])
        x = sar[ok, t] / np.std(sar[ok, t], ddof=1)
        g = np.column_stack([panel.est_resid[ok] / s[ok, None], x])
        u = np.full(g.shape, np.nan)
        for i in range(g.shape[0]):
            m = np.isfinite(g[i])
            u[i, m] = stats.rankdata(g[i, m]) / (m.sum() + 1) - 0.5
        n0 = ok.sum()
        ubar = np.nanmean(u, axis=0)
        n_t = np.isfinite(u).sum(axis=0)
        s_u = np.sqrt(np.sum(n_t / n0 * ubar**2) / t_len)
        z = ubar[-1] / s_u
        want = z * np.sqrt((t_len - 2) / (t_len - 1 - z**2))
        assert got[t] == pytest.approx(want, rel=1e-10)


# ---- Kolari-Pynnonen -------------------------------------------------------------------


def test_residual_correlation_is_mean_pairwise_correlation():
    p = make_panel(n=12, l1=200, seed=7, rho=0.3)
    c = np.corrcoef(p.est_resid)
    assert residual_correlation(p) == pytest.approx(c[np.triu_indices(12, 1)].mean(), rel=1e-10)
    # two date clusters: only within-cluster pairs count
    dates = np.where(np.arange(12) < 5, DAY0, DAY0 + np.timedelta64(30, "D"))
    p2 = make_panel(n=12, l1=200, seed=7, rho=0.3, dates=dates)
    within = [c[i, j] for i in range(12) for j in range(i + 1, 12) if (i < 5) == (j < 5)]
    assert residual_correlation(p2) == pytest.approx(np.mean(within), rel=1e-10)


def test_adjusted_bmp_kolari_pynnonen_factor():
    p = make_panel(n=20, seed=8, rho=0.2, shift=0.003)
    out = daily_tests(p, ["bmp", "adjusted_bmp", "patell", "adjusted_patell"])
    r = residual_correlation(p)
    n = 20
    np.testing.assert_allclose(
        stat_of(out, "adjusted_bmp"),
        stat_of(out, "bmp") * np.sqrt((1 - r) / (1 + (n - 1) * r)),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        stat_of(out, "adjusted_patell"),
        stat_of(out, "patell") / np.sqrt(1 + (n - 1) * r),
        rtol=1e-12,
    )
    # distinct event dates: nothing to adjust
    dates = DAY0 + np.arange(20).astype("timedelta64[D]") * 7
    q = make_panel(n=20, seed=8, rho=0.2, shift=0.003, dates=dates)
    out_q = daily_tests(q, ["bmp", "adjusted_bmp"])
    np.testing.assert_allclose(stat_of(out_q, "adjusted_bmp"), stat_of(out_q, "bmp"))


# ---- windows ---------------------------------------------------------------------------


def test_window_tests_match_direct_formulas(panel):
    out = cross_sectional_tests(panel, [(0, 0), (-1, 2), (-3, 3)], WINDOW_TESTS)
    assert list(out.columns) == [
        "window", "lo", "hi", "test", "statistic", "pvalue", "n", "caar", "rbar",
        "assumes_independence", "note",
    ]  # fmt: skip
    assert list(out["window"].unique()) == ["[0,0]", "[-1,+2]", "[-3,+3]"]
    sel = out.set_index(["window", "test"])["statistic"]
    cols = panel.window_index((-1, 2))
    a = panel.event_ar[:, cols]
    has = np.isfinite(a).all(axis=1)  # only pairs with the whole window
    car = a.sum(axis=1)[has]
    res = stats.ttest_1samp(car, 0.0)
    assert sel["[-1,+2]", "cross_sectional_t"] == pytest.approx(res.statistic, rel=1e-12)
    scar = []
    for i in np.flatnonzero(has):
        blk = panel.pe_cov[i][np.ix_(cols, cols)]
        scar.append(a[i].sum() / np.sqrt(panel.sigma2[i] * blk.sum()))
    scar = np.array(scar)
    bmp = scar.mean() / (scar.std(ddof=1) / np.sqrt(scar.size))
    assert sel["[-1,+2]", "bmp"] == pytest.approx(bmp, rel=1e-12)
    d = panel.n_est[has]
    patell = scar.sum() / np.sqrt(((d - 2) / (d - 4)).sum())
    assert sel["[-1,+2]", "patell"] == pytest.approx(patell, rel=1e-12)
    # a one-day window equals the daily test
    daily = daily_tests(panel).query("day == 0").set_index("test")["statistic"]
    for test in ("cross_sectional_t", "patell", "bmp", "sign", "rank", "modified_rank", "grank"):
        assert sel["[0,0]", test] == pytest.approx(daily[test], rel=1e-10)


def test_window_rank_is_cowan_sum():
    p = make_panel(seed=11)
    daily = daily_tests(p, ["rank"]).set_index("day")["statistic"]
    out = cross_sectional_tests(p, [(-1, 1)], ["rank"])
    want = daily.loc[[-1, 0, 1]].sum() / np.sqrt(3)
    assert out["statistic"].iloc[0] == pytest.approx(want, rel=1e-12)


def test_missing_pairs_counted_per_day():
    p = make_panel(missing=True)
    out = daily_tests(p, ["cross_sectional_t"])
    np.testing.assert_array_equal(out["n"], np.isfinite(p.event_ar).sum(axis=0))
    assert out["n"].min() == p.n_pairs - 2
    win = cross_sectional_tests(p, [(-3, 3)], ["cross_sectional_t"])
    assert win["n"].iloc[0] == p.n_pairs - 2  # one pair misses a day, one has none


def test_estudy2_conventions_change_only_test_level_details():
    a = make_panel(missing=True, seed=4)
    b = make_panel(missing=True, seed=4, conventions="estudy2")
    ta, tb = daily_tests(a), daily_tests(b)
    for test in ("cross_sectional_t", "bmp"):
        np.testing.assert_allclose(stat_of(ta, test), stat_of(tb, test), rtol=1e-12)
    # brown_warner: estudy2 scales every day by all N pairs' estimation AAR series,
    # textbook by the day's own pairs; the same when every pair has every day
    np.testing.assert_allclose(
        stat_of(tb, "brown_warner"),
        np.nanmean(b.event_ar, axis=0) / np.std(np.nanmean(b.est_resid, axis=0), ddof=1),
        rtol=1e-12,
    )
    assert not np.allclose(stat_of(ta, "brown_warner"), stat_of(tb, "brown_warner"))
    c = daily_tests(make_panel(seed=4), ["brown_warner"])
    d = daily_tests(make_panel(seed=4, conventions="estudy2"), ["brown_warner"])
    np.testing.assert_allclose(stat_of(c, "brown_warner"), stat_of(d, "brown_warner"))
    # day index 2 has one pair missing: row-mean imputation changes the rank test
    assert stat_of(ta, "rank")[2] != pytest.approx(stat_of(tb, "rank")[2], rel=1e-6)


# ---- few pairs, unbalanced days, incomplete windows ------------------------------------


def test_grank_is_nan_below_the_minimum_number_of_pairs():
    few = make_panel(n=GRANK_MIN_PAIRS - 1, l2=3, seed=21, shift=0.01)
    out = daily_tests(few, ["grank", "bmp"])
    g = out[out["test"] == "grank"]
    assert g["statistic"].isna().all() and g["pvalue"].isna().all()
    assert (g["n"] == GRANK_MIN_PAIRS - 1).all()  # n still reports the pairs available
    assert out.loc[out["test"] == "bmp", "statistic"].notna().all()
    win = cross_sectional_tests(few, [(0, 0), (-1, 1)], ["grank"])
    assert win["statistic"].isna().all() and (win["n"] == GRANK_MIN_PAIRS - 1).all()
    enough = make_panel(n=GRANK_MIN_PAIRS, l2=3, seed=21, shift=0.01)
    assert daily_tests(enough, ["grank"])["statistic"].notna().all()
    assert cross_sectional_tests(enough, [(-1, 1)], ["grank"])["statistic"].notna().all()
    # the minimum applies day by day: one missing AR on day 0 drops below it
    ar = enough.event_ar.copy()
    ar[0, 1] = np.nan
    got = stat_of(daily_tests(dataclasses.replace(enough, event_ar=ar), ["grank"]), "grank")
    assert np.isnan(got[1]) and np.isfinite(got[[0, 2]]).all()


def test_grank_size_at_the_minimum_number_of_pairs():
    """300 panels x 5 days of GRANK_MIN_PAIRS pairs, no effect (10 pairs: 7-8%)."""
    frames = [
        daily_tests(make_panel(n=GRANK_MIN_PAIRS, l1=100, l2=5, seed=s), ["grank"])
        for s in range(300)
    ]
    rate = (pd.concat(frames)["pvalue"] < 0.05).mean()
    assert 0.035 <= rate <= 0.065, rate


def _with_missing_event_days(p: AbnormalPanel, missing: int, seed: int) -> AbnormalPanel:
    """``missing`` pairs (different ones each day) without an AR on every event day."""
    rng = np.random.default_rng(seed)
    ar = p.event_ar.copy()
    for t in range(ar.shape[1]):
        ar[rng.choice(p.n_pairs, missing, replace=False), t] = np.nan
    return dataclasses.replace(p, event_ar=ar)


def test_unbalanced_event_days_simulation_size():
    """20 pairs, 10 of them missing on each event day, no effect: 300 panels x 5 days.

    Scaled by the full panel's estimation-window series, brown_warner and rank rejected
    about 17% of the time; scaled by the day's own pairs, they keep their size.
    """
    tests = ["brown_warner", "rank", "modified_rank"]
    frames = [
        daily_tests(
            _with_missing_event_days(make_panel(n=20, l1=100, l2=5, seed=s), 10, 7_000 + s),
            tests,
        )
        for s in range(300)
    ]
    out = pd.concat(frames)
    assert (out["n"] == 10).all()
    rates = out.assign(rej=out["pvalue"] < 0.05).groupby("test")["rej"].mean()
    for test in tests:
        assert 0.035 <= rates[test] <= 0.065, (test, rates[test])


def test_pair_without_event_data_changes_nothing():
    """A pair whose event window is all NaN is not tested, and does not enter the
    estimation-window scales either (its n would not show it)."""
    p = make_panel(n=22, seed=31, shift=0.003, missing=True)
    rng = np.random.default_rng(32)
    l1, l2 = p.est_resid.shape[1], p.event_ar.shape[1]
    extra = dataclasses.replace(
        p,
        ids=pd.MultiIndex.from_arrays([np.zeros(23, int), np.arange(23)], names=["event", "asset"]),
        est_resid=np.vstack([p.est_resid, rng.normal(0, 0.05, (1, l1))]),
        n_est=np.r_[p.n_est, l1],
        sigma2=np.r_[p.sigma2, 0.0025],
        event_ar=np.vstack([p.event_ar, np.full((1, l2), np.nan)]),
        pe_cov=np.concatenate([p.pe_cov, np.eye(l2)[None]]),
        event_dates=np.r_[p.event_dates, p.event_dates[:1]],
    )
    # r-bar (the KP adjustments) still uses all pairs' residuals; p-hat does not
    skip = ("adjusted_patell", "adjusted_bmp")
    tests = [t for t in DAILY_TESTS if t not in skip]
    da, db = daily_tests(p, tests), daily_tests(extra, tests)
    np.testing.assert_array_equal(da["n"], db["n"])
    np.testing.assert_allclose(da["statistic"], db["statistic"], rtol=1e-10)
    windows = [(-3, 3), (0, 0), (-1, 2)]
    wa, wb = cross_sectional_tests(p, windows, tests), cross_sectional_tests(extra, windows, tests)
    np.testing.assert_array_equal(wa["n"], wb["n"])
    np.testing.assert_allclose(wa["statistic"], wb["statistic"], rtol=1e-10)


def test_windows_use_only_pairs_with_the_whole_window():
    p = make_panel(n=25, l2=21, seed=41, shift=0.004)  # days -10 .. +10
    ar = p.event_ar.copy()
    ar[:, p.event_days > 4] = np.nan  # the data end 4 days after day 0
    ar[3, p.event_days == 2] = np.nan  # and one pair misses day +2
    q = dataclasses.replace(p, event_ar=ar)
    out = cross_sectional_tests(q, [(0, 4), (0, 5), (0, 10), (-2, 1)]).set_index(["window", "test"])
    for label in ("[0,+5]", "[0,+10]"):  # no pair has these windows: nothing to test
        rows = out.loc[label]
        assert (rows["n"] == 0).all()
        assert rows[["statistic", "pvalue", "caar"]].isna().all().all()
    rows = out.loc["[0,+4]"]
    assert (rows["n"] == 24).all() and rows["statistic"].notna().all()
    car = ar[:, (p.event_days >= 0) & (p.event_days <= 4)].sum(axis=1)  # NaN for pair 3
    assert rows["caar"].iloc[0] == pytest.approx(np.nanmean(car), rel=1e-12)
    assert (out.loc["[-2,+1]", "n"] == 25).all()


# ---- Brown-Warner simulation -----------------------------------------------------------

SIM_OK = (
    "cross_sectional_t",
    "brown_warner",
    "brown_warner_indep",
    "patell",
    "bmp",
    "adjusted_patell",
    "adjusted_bmp",
    "sign",
    "generalized_sign",
    "rank",
    "modified_rank",
    "grank",
)


def _rejection_rates(**kw) -> pd.Series:
    """200 samples x 5 event days = 1,000 day-tests of 30 assets, no effect."""
    frames = [daily_tests(make_panel(n=30, l1=100, l2=5, seed=s, **kw)) for s in range(200)]
    out = pd.concat(frames)
    return out.assign(rej=out["pvalue"] < 0.05).groupby("test")["rej"].mean()


@pytest.mark.parametrize("df", [None, 4], ids=["normal", "t4"])
def test_brown_warner_simulation_size(df):
    rates = _rejection_rates(df=df)
    for test in SIM_OK:
        assert 0.035 <= rates[test] <= 0.065, (test, rates[test])


def test_simulation_under_clustering():
    """Same-date, correlated residuals (rho = 0.05): the cross-sectional t and BMP
    over-reject; the crude dependence adjustment and Kolari-Pynnonen BMP hold size."""
    rates = _rejection_rates(rho=0.05)
    assert rates["cross_sectional_t"] > 0.08
    assert rates["bmp"] > 0.08
    for test in ("brown_warner", "adjusted_bmp"):
        assert 0.035 <= rates[test] <= 0.065, (test, rates[test])


def test_simulation_recovers_an_injected_shock():
    frames = [daily_tests(make_panel(n=30, l1=100, l2=5, seed=s, shift=0.02)) for s in range(40)]
    out = pd.concat(frames)
    power = out.assign(rej=out["pvalue"] < 0.05).groupby("test")["rej"].mean()
    assert (power[list(SIM_OK)] > 0.8).all(), power


# ---- fast paths against straightforward references -------------------------------------


def _grank_ref(panel: AbnormalPanel, event_sar: np.ndarray) -> float:
    """GRANK t for one event "day", ranking pair by pair with scipy (no shortcuts)."""
    s = np.sqrt(np.where(panel.sigma2 > 0, panel.sigma2, np.nan))
    ok = np.isfinite(event_sar)
    x = event_sar[ok] / np.std(event_sar[ok], ddof=1)
    g = np.column_stack([panel.est_resid[ok] / s[ok, None], x])
    u = np.full(g.shape, np.nan)
    for i in range(g.shape[0]):
        m = np.isfinite(g[i])
        u[i, m] = stats.rankdata(g[i, m]) / (m.sum() + 1) - 0.5
    t_len = panel.est_resid.shape[1] + 1
    s_u = np.sqrt(
        np.sum(np.isfinite(u).sum(axis=0) / ok.sum() * np.nanmean(u, axis=0) ** 2) / t_len
    )
    z = np.nanmean(u, axis=0)[-1] / s_u
    return z * np.sqrt((t_len - 2) / (t_len - 1 - z**2))


def _awkward_panel() -> AbnormalPanel:
    """Ties everywhere, missing days, a pair without a usable variance, and event SARs
    equal to estimation SARs (sigma = 1, no prediction-error correction)."""
    p = make_panel(n=40, l1=80, l2=7, seed=12, missing=True, shift=0.004)
    est = np.round(p.est_resid / 0.01, 1)  # ties within and across rows
    ar = np.round(p.event_ar / 0.01, 1)
    sigma2 = np.ones(40)
    sigma2[7] = np.nan
    ok = np.isfinite(ar[:, 3])
    x = ar[ok, 3] / np.std(ar[ok, 3], ddof=1)
    rows = np.flatnonzero(ok)[:6]
    est[rows, 40] = x[:6]  # the day's standardized event value, exactly
    return AbnormalPanel(
        **{
            **{f: getattr(p, f) for f in p.__dataclass_fields__},
            "est_resid": est,
            "event_ar": ar,
            "sigma2": sigma2,
            "pe_cov": np.broadcast_to(np.eye(7), (40, 7, 7)).copy(),
        }
    )


def test_fast_paths_match_references_with_ties_and_nans():
    p = _awkward_panel()
    daily = daily_tests(p, ["rank", "modified_rank", "grank"])
    # the pair without a variance is not ranked: the reference simply leaves it out
    keep = np.isfinite(p.sigma2)
    fields = {f: getattr(p, f) for f in p.__dataclass_fields__}
    for f in ("est_resid", "event_ar", "sigma2", "n_est", "pe_cov", "event_dates"):
        fields[f] = fields[f][keep]
    fields["ids"] = p.ids[keep]
    rank, mrank = _rank_loop(AbnormalPanel(**fields))
    np.testing.assert_allclose(stat_of(daily, "rank"), rank, rtol=1e-10)
    np.testing.assert_allclose(stat_of(daily, "modified_rank"), mrank, rtol=1e-10)
    sar = sar_loop(p)
    want = [_grank_ref(p, sar[:, t]) for t in range(7)]
    np.testing.assert_allclose(stat_of(daily, "grank"), want, rtol=1e-10)
    windows = [(0, 0), (-1, 1), (-3, 3), (1, 2)]
    out = cross_sectional_tests(p, windows, ["grank"])
    for (lo, hi), got in zip(windows, out["statistic"], strict=True):
        cols = p.window_index((lo, hi))
        a = p.event_ar[:, cols]  # a pair missing a window day has a NaN CAR
        scar = a.sum(axis=1) / np.sqrt(p.sigma2 * cols.size)
        assert got == pytest.approx(_grank_ref(p, scar), rel=1e-10)


def test_panel_cache_is_per_panel_object():
    import dataclasses

    from oilimpact.eventstudy import crosssection

    p = make_panel(n=30, seed=13, missing=True)
    cold = daily_tests(p)
    assert id(p) in crosssection._STORES  # sorts and ranks kept while the panel lives
    pd.testing.assert_frame_equal(cold, daily_tests(p))
    est = p.est_resid.copy()
    est[:, :20] *= 2.0
    q = dataclasses.replace(p, est_resid=est)  # a new panel value: computed afresh
    changed = daily_tests(q)
    crosssection._STORES.clear()
    pd.testing.assert_frame_equal(changed, daily_tests(q))
    assert not np.allclose(stat_of(changed, "rank"), stat_of(cold, "rank"))
    del p, q
    import gc

    gc.collect()
    assert len(crosssection._STORES) == 0


# ---- pooled-test policy (issue 17, item 1) -----------------------------------------------


def test_auto_runs_no_pooled_test_below_ten_pairs_and_says_why():
    p = make_panel(n=7, l2=3, seed=30)
    out = cross_sectional_tests(p, [(0, 1)])
    assert out.empty and list(out.columns) == list(WINDOW_COLUMNS)
    assert out.attrs["pooled"]["run"] is False
    assert out.attrs["notes"] == [
        "pooled tests not run: 7 pairs, fewer than 10 (pooled='auto'); pass pooled=True to run them"
    ]
    off = cross_sectional_tests(make_panel(n=40, l2=3, seed=30), [(0, 1)], pooled=False)
    assert off.empty and "pooled=False" in off.attrs["notes"][0]
    with pytest.raises(ValueError, match="pooled must be"):
        cross_sectional_tests(p, [(0, 1)], pooled="yes")  # type: ignore[arg-type]
    # pooled=True forces them; the threshold itself is inclusive
    assert not cross_sectional_tests(p, [(0, 1)], pooled=True).empty
    assert not cross_sectional_tests(make_panel(n=POOLED_MIN_PAIRS, l2=3), [(0, 1)]).empty


def test_one_date_default_shows_only_cluster_robust_tests():
    p = make_panel(n=12, l2=3, seed=31, rho=0.5)  # all pairs on DAY0
    out = cross_sectional_tests(p, [(0, 0), (0, 1)])
    assert list(dict.fromkeys(out["test"])) == [
        t for t in WINDOW_TESTS if t in CLUSTER_ROBUST_TESTS
    ]
    assert not out["assumes_independence"].any()
    assert set(out.attrs["pooled"]["hidden"]) == set(WINDOW_TESTS) - set(CLUSTER_ROBUST_TESTS)
    assert any("assume independent pairs" in n for n in out.attrs["notes"])
    assert any(n.startswith("not shown by default for clustered pairs: GRANK") for n in
               out.attrs["notes"])  # fmt: skip
    # every NaN says why: GRANK below its minimum, when asked for
    g = cross_sectional_tests(p, [(0, 0), (0, 1)], ["grank"])
    assert g["statistic"].isna().all()
    assert (g["note"] == f"GRANK needs {GRANK_MIN_PAIRS} pairs, got 12").all()
    # on request the independence-assuming tests come back, flagged and noted
    both = cross_sectional_tests(p, [(0, 1)], independence_tests=True)
    flagged = both[both["assumes_independence"]]
    assert set(flagged["test"]) == set(INDEPENDENCE_TESTS)
    assert flagged["note"].str.contains(INDEPENDENCE_NOTE, regex=False).all()
    assert not both.loc[~both["assumes_independence"], "note"].str.contains("independent").any()
    # the numbers do not depend on which tests are shown
    full = cross_sectional_tests(p, [(0, 1)], WINDOW_TESTS).set_index("test")
    pd.testing.assert_series_equal(
        both.set_index("test")["statistic"], full.loc[both["test"], "statistic"]
    )


def test_distinct_dates_show_every_test_without_the_label():
    dates = DAY0 + np.arange(12).astype("timedelta64[D]") * 14  # two weeks apart
    p = make_panel(n=12, l2=3, seed=32, dates=dates)
    out = cross_sectional_tests(p, [(0, 1)])
    assert list(out["test"]) == list(WINDOW_TESTS)
    assert out.attrs["pooled"]["clustered"] is False
    assert not out["note"].str.contains("independent").any()
    assert out.loc[out["test"] == "adjusted_bmp", "rbar"].iloc[0] == 0.0  # nothing to adjust
    assert out["assumes_independence"].sum() == len(INDEPENDENCE_TESTS)  # still flagged


def test_overlapping_windows_on_different_dates_are_clustered():
    # event dates one business day apart: a [-1,+1] window shares two calendar days
    dates = np.datetime64("2025-12-15", "ns") + (np.arange(12) % 2).astype("timedelta64[D]")
    p = make_panel(n=12, l2=3, seed=33, dates=dates, rho=0.4, shift=0.01)
    out = cross_sectional_tests(p, [(-1, 1)])
    assert out.attrs["pooled"]["clustered"] is True
    assert "bmp" not in set(out["test"])
    # the KP adjustment treats the 12 pairs as one cluster of overlapping windows
    full = cross_sectional_tests(p, [(-1, 1)], ["bmp", "adjusted_bmp"]).set_index("test")
    rbar = full.loc["adjusted_bmp", "rbar"]
    n = 12
    factor = np.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    assert rbar > 0.2
    assert full.loc["adjusted_bmp", "statistic"] == pytest.approx(
        full.loc["bmp", "statistic"] * factor, rel=1e-12
    )
    # a one-day window does not overlap across the two dates: two clusters of 6
    one = cross_sectional_tests(p, [(0, 0)], ["bmp", "adjusted_bmp"]).set_index("test")
    rb0 = one.loc["adjusted_bmp", "rbar"]
    m = 2 * 6 * 5
    want = np.sqrt((1 - rb0 * m / (n * (n - 1))) / (1 + rb0 * m / n))
    assert one.loc["adjusted_bmp", "statistic"] == pytest.approx(
        one.loc["bmp", "statistic"] * want, rel=1e-12
    )


def test_no_bare_nan_in_the_pooled_table():
    p = make_panel(n=12, l2=3, seed=34, missing=True)
    ar = p.event_ar.copy()
    ar[:, 2] = np.nan  # nobody has day +1
    ar[1:, 0] = np.nan  # one pair on day -1
    q = dataclasses.replace(p, event_ar=ar)
    out = cross_sectional_tests(q, [(-1, -1), (0, 1), (-1, 0)], WINDOW_TESTS, pooled=True)
    bad = out[out["statistic"].isna() | out["pvalue"].isna()]
    assert len(bad) > 10
    assert (bad["note"].str.len() > 0).all(), bad[["window", "test", "note"]]
    nobody = out[out["window"] == "[0,+1]"]
    assert nobody["note"].str.contains("no pair has an abnormal return").all()
    lonely = out[(out["window"] == "[-1,-1]") & (out["test"] == "bmp")]
    assert lonely["note"].iloc[0].startswith("needs 2 pairs")


# ---- exact sign tests below 30 pairs ----------------------------------------------------


def _signed_panel(signs: np.ndarray, *, est_pos: float = 0.5, seed: int = 0) -> AbnormalPanel:
    """One event day whose ARs have the given signs; each pair's estimation residuals
    are positive a fraction ``est_pos`` of the time (so p-hat = est_pos)."""
    rng = np.random.default_rng(seed)
    n = signs.size
    l1 = 100
    k = int(round(est_pos * l1))
    est = np.tile(np.r_[np.ones(k), -np.ones(l1 - k)], (n, 1)) * rng.uniform(0.5, 1.5, (n, l1))
    return AbnormalPanel(
        ids=pd.MultiIndex.from_product([["e"], range(n)], names=["event", "asset"]),
        est_resid=est, n_est=np.full(n, l1), n_params=0, sigma2=np.ones(n),
        event_days=np.arange(1), event_ar=(signs * rng.uniform(0.5, 2.0, n))[:, None],
        pe_cov=np.ones((n, 1, 1)), event_dates=np.full(n, DAY0),
    )  # fmt: skip


def _sign_rows(panel: AbnormalPanel) -> pd.DataFrame:
    out = cross_sectional_tests(panel, [(0, 0)], ["sign", "generalized_sign"], pooled=True)
    return out.set_index("test")


def test_exact_sign_test_small_n_hand_values():
    rows = _sign_rows(_signed_panel(np.ones(4)))
    assert rows.loc["sign", "pvalue"] == pytest.approx(0.125, abs=1e-12)  # 2 * 0.5**4
    assert rows.loc["sign", "statistic"] == pytest.approx(2.0)  # (4 - 2) / sqrt(1)
    assert "exact binomial" in rows.loc["sign", "note"]
    # generalized sign, p-hat = 0.6, 4 of 4 positive: outcomes at most as likely as
    # P(4) = 0.6**4 = 0.1296 are 0 (0.4**4 = 0.0256) and 4: p = 0.1552
    rows = _sign_rows(_signed_panel(np.ones(4), est_pos=0.6))
    assert rows.loc["generalized_sign", "pvalue"] == pytest.approx(0.1552, abs=1e-12)
    # 5 of 6 positive, p = 1/2: 2 * (6 + 1) / 64
    rows = _sign_rows(_signed_panel(np.r_[np.ones(5), -1.0]))
    assert rows.loc["sign", "pvalue"] == pytest.approx(14 / 64, abs=1e-12)
    # daily_tests uses the same rule
    daily = daily_tests(_signed_panel(np.ones(4)), ["sign"])
    assert daily["pvalue"].iloc[0] == pytest.approx(0.125, abs=1e-12)


@pytest.mark.parametrize("n", [3, 8, 17, 29, 30, 45])
def test_sign_tests_switch_from_exact_to_normal_at_30(n):
    rng = np.random.default_rng(n)
    signs = np.where(rng.random(n) < 0.7, 1.0, -1.0)
    panel = _signed_panel(signs, est_pos=0.45, seed=n)
    rows = _sign_rows(panel)
    w = int((signs > 0).sum())
    for test, prob in (("sign", 0.5), ("generalized_sign", 0.45)):
        z = (w - n * prob) / np.sqrt(n * prob * (1 - prob))
        assert rows.loc[test, "statistic"] == pytest.approx(z, rel=1e-12)
        if n < SIGN_EXACT_BELOW:
            want = stats.binomtest(w, n, prob).pvalue
            assert "exact binomial" in rows.loc[test, "note"]
        else:
            want = 2 * stats.norm.sf(abs(z))
            assert "exact" not in rows.loc[test, "note"]
        assert rows.loc[test, "pvalue"] == pytest.approx(want, rel=1e-12)


def test_estudy2_conventions_keep_the_normal_sign_test():
    p = dataclasses.replace(_signed_panel(np.ones(4)), conventions="estudy2")
    out = daily_tests(p, ["sign"])
    assert out["pvalue"].iloc[0] == pytest.approx(2 * stats.norm.sf(2.0), rel=1e-12)


# ---- Kolari-Pynnonen r-bar on calendar dates (issue 17, item 2) --------------------------


def _two_calendar_panel(
    n: int = 6, l1: int = 150, seed: int = 40, rho: float = 0.8, gaps: bool = True
) -> tuple[AbnormalPanel, pd.DataFrame]:
    """Pairs sharing day 0 whose estimation windows start on different calendar dates
    (each drops its own holidays), residuals correlated ``rho`` on the same calendar day.
    Also returns the residuals as a (date x pair) frame for a pandas reference."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2025-01-02", periods=l1 + 40)
    common = rng.standard_normal(days.size)
    est = np.full((n, l1), np.nan)
    est_dates = np.full((n, l1), np.datetime64("NaT"), dtype="datetime64[ns]")
    cols = {}
    for i in range(n):
        own = np.sqrt(rho) * common + np.sqrt(1 - rho) * rng.standard_normal(days.size)
        s = pd.Series(own * 0.01, index=days)
        if gaps:  # each series misses its own holidays
            s = s.drop(s.index[rng.choice(days.size - 1, 3 + 2 * i, replace=False)])
        s = s.iloc[-l1 - 1 : -1]  # the last l1 sessions before day 0
        if i == 1:
            s.iloc[:5] = np.nan  # a missing residual inside the window
        est[i] = s.to_numpy()
        est_dates[i] = s.index.to_numpy()
        est_dates[i][np.isnan(est[i])] = np.datetime64("NaT")
        cols[i] = s.dropna()
    frame = pd.concat(cols, axis=1, sort=True)
    panel = AbnormalPanel(
        ids=pd.MultiIndex.from_product([["e"], range(n)], names=["event", "asset"]),
        est_resid=est, n_est=np.isfinite(est).sum(axis=1), n_params=0,
        sigma2=np.nanvar(est, axis=1), event_days=np.arange(2),
        event_ar=rng.normal(0, 0.01, (n, 2)), pe_cov=np.broadcast_to(np.eye(2), (n, 2, 2)),
        event_dates=np.full(n, DAY0), est_dates=est_dates,
    )  # fmt: skip
    return panel, frame


def test_rbar_matches_pandas_on_calendar_dates():
    panel, frame = _two_calendar_panel()
    c = frame.corr()  # pairwise-complete Pearson on the dates both observe
    want = c.to_numpy()[np.triu_indices(c.shape[0], 1)].mean()
    assert residual_correlation(panel) == pytest.approx(want, rel=1e-12)
    assert want > 0.7
    # relative-day alignment (the old rule) is far off: the rows are shifted in time
    relative = dataclasses.replace(panel, est_dates=None)
    assert residual_correlation(relative) < 0.4
    # and the rbar column of the adjusted rows is that value
    out = cross_sectional_tests(panel, [(0, 1)], ["adjusted_bmp", "bmp"], pooled=True)
    assert out.set_index("test").loc["adjusted_bmp", "rbar"] == pytest.approx(want, rel=1e-12)
    assert np.isnan(out.set_index("test").loc["bmp", "rbar"])


def test_rbar_complete_common_calendar_equals_mean_pairwise_correlation():
    panel, frame = _two_calendar_panel(gaps=False, seed=41)
    full = dataclasses.replace(
        panel, est_resid=np.nan_to_num(panel.est_resid, nan=0.001),
        est_dates=np.broadcast_to(panel.est_dates[0], panel.est_resid.shape),
    )  # fmt: skip
    c = np.corrcoef(full.est_resid)
    assert residual_correlation(full) == pytest.approx(c[np.triu_indices(6, 1)].mean(), rel=1e-12)


def test_rbar_needs_a_minimum_overlap():
    panel, _ = _two_calendar_panel(n=2, l1=60, seed=42)
    dates = panel.est_dates.copy()
    dates[1] = dates[1] + np.timedelta64(45, "D")  # the windows share about 30 weekdays
    keep = pd.DatetimeIndex(dates[0]).intersection(pd.DatetimeIndex(dates[1]))
    short = dataclasses.replace(panel, est_dates=dates)
    info = calendar_rbar(short.est_resid, dates, np.zeros(2, int), 1)
    if keep.size >= RBAR_MIN_OVERLAP:
        assert info.n_corr == 1 and info.min_overlap == keep.size
    dates[1] = dates[1] + np.timedelta64(400, "D")  # no common date at all
    none = dataclasses.replace(panel, est_dates=dates)
    assert np.isnan(residual_correlation(none))
    out = cross_sectional_tests(none, [(0, 0)], ["adjusted_patell", "patell"], pooled=True)
    adj = out.set_index("test").loc["adjusted_patell"]
    assert np.isnan(adj["statistic"]) and "r-bar undefined" in adj["note"]
    assert np.isfinite(out.set_index("test").loc["patell", "statistic"])


def test_rbar_same_on_compiled_path(monkeypatch):
    from oilimpact.eventstudy import kernels

    if kernels.jit() is None:
        pytest.skip("numba not available: no compiled path to compare")
    panel, frame = _two_calendar_panel(n=8, seed=43)
    ref = residual_correlation(panel)
    monkeypatch.setattr(kernels, "MIN_PAIRS", 0)
    fresh = dataclasses.replace(panel)  # a new panel object: nothing cached
    assert residual_correlation(fresh) == ref
    c = frame.corr().to_numpy()
    assert ref == pytest.approx(c[np.triu_indices(8, 1)].mean(), rel=1e-12)


REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


def _real_close(name: str) -> pd.Series:
    df = pd.read_csv(REAL / name)
    s = pd.Series(pd.to_numeric(df.iloc[:, 1], errors="coerce").to_numpy(),
                  index=pd.to_datetime(df.iloc[:, 0]))  # fmt: skip
    return s.dropna()


@pytest.mark.skipif(
    not (REAL / "eia_brent_spot_daily.csv").exists(),
    reason="real data folder ../shared/data/real is absent (only the project's CI has it)",
)
def test_brent_wti_rbar_on_real_data_matches_pandas():
    import oilimpact as oi

    prices = pd.concat(
        {"brent": _real_close("eia_brent_spot_daily.csv"),
         "wti": _real_close("eia_wti_spot_daily.csv")}, axis=1, sort=True,
    ).loc["2024-06":"2026-03"]  # fmt: skip
    sp = _real_close("fred_SP500.csv").loc["2024-06":"2026-03"]
    res = oi.event_study(prices, "blockade", market=sp, event_windows=[(0, 1)], pooled=True)
    adj = res.tests.set_index("test").loc[["adjusted_patell", "adjusted_bmp"], "rbar"]
    panel = res.panel
    # independent 1: the engine's residuals keyed by their dates, merged by pandas
    ser = [pd.Series(panel.est_resid[i], index=pd.DatetimeIndex(panel.est_dates[i])).dropna()
           for i in range(2)]  # fmt: skip
    merged = pd.concat(ser, axis=1, join="inner")
    assert len(merged) >= 150  # most of the estimation year
    assert adj.to_numpy() == pytest.approx([merged.corr().iloc[0, 1]] * 2, rel=1e-12)
    # independent 2: market-model residuals from scratch (pandas log returns, OLS on
    # each series' own estimation dates), then the same merge
    logs = np.log(pd.concat({"brent": prices["brent"], "wti": prices["wti"], "m": sp},
                            axis=1, sort=True))  # fmt: skip
    resid = []
    for i, name in enumerate(("brent", "wti")):
        est_days = pd.DatetimeIndex(panel.est_dates[i][~np.isnat(panel.est_dates[i])])
        y = logs[name].dropna().diff()
        m = logs["m"].dropna().diff().reindex(y.index)
        frame = pd.concat({"y": y, "m": m}, axis=1).loc[est_days].dropna()
        beta, alpha = np.polyfit(frame["m"], frame["y"], 1)
        resid.append(frame["y"] - alpha - beta * frame["m"])
    scratch = pd.concat(resid, axis=1, join="inner").corr().iloc[0, 1]
    assert adj.iloc[0] == pytest.approx(scratch, abs=0.03)
    assert adj.iloc[0] >= 0.8  # the issue: about 0.89 on calendar dates
    # the relative-day alignment the issue reported (about 0.14) is far lower
    ok = np.isfinite(panel.est_resid).all(axis=0)
    assert np.corrcoef(panel.est_resid[:, ok])[0, 1] < 0.3
    # and the default output on these two pairs has no pooled test, and says why
    default = oi.event_study(prices, "blockade", market=sp, event_windows=[(0, 1)])
    assert default.tests.empty
    assert "2 pairs, fewer than 10" in default.tests.attrs["notes"][0]


def test_rbar_compiled_sums_equal_numpy_pooled_form(monkeypatch):
    """Complete and large incomplete clusters on one calendar: the compiled moment sums
    give the numpy pooled form (forced on small panels by lowering the thresholds)."""
    from oilimpact.eventstudy import crosssection, kernels

    if kernels.jit() is None:
        pytest.skip("numba not available: no compiled path to compare")
    monkeypatch.setattr(crosssection.rbar, "RBAR_PAIRWISE_MAX", 5)
    dates = np.repeat(DAY0 + np.arange(3).astype("timedelta64[D]") * 30, [12, 4, 9])
    full = make_panel(n=25, seed=44, rho=0.3, dates=dates)
    gappy = make_panel(n=25, seed=45, rho=0.3, dates=dates, missing=True)
    for panel in (full, gappy):
        info = calendar_rbar(panel.est_resid, None, *crosssection._Parts(panel).group_index)
        ref = residual_correlation(dataclasses.replace(panel))
        monkeypatch.setattr(kernels, "MIN_PAIRS", 0)
        got = residual_correlation(dataclasses.replace(panel))
        monkeypatch.setattr(kernels, "MIN_PAIRS", 1000)
        assert got == pytest.approx(ref, rel=1e-12, abs=1e-15)
        assert info.value == pytest.approx(ref, rel=1e-12, abs=1e-15)
    # the complete panel's pooled form is the exact mean of pairwise correlations
    c = [np.corrcoef(full.est_resid[dates == d])[np.triu_indices((dates == d).sum(), 1)]
         for d in np.unique(dates)]  # fmt: skip
    assert residual_correlation(full) == pytest.approx(np.concatenate(c).mean(), rel=1e-12)


def test_rbar_with_missing_days_matches_pandas_per_group():
    """No est_dates, three same-date groups (two of equal size, computed as one stack)
    with missing residuals: the mean of pandas' pairwise-complete correlations."""
    dates = np.repeat(DAY0 + np.arange(3).astype("timedelta64[D]") * 30, [5, 5, 3])
    p = make_panel(n=13, seed=46, rho=0.4, dates=dates)
    est = p.est_resid.copy()
    rng = np.random.default_rng(46)
    est[rng.random(est.shape) < 0.1] = np.nan
    q = dataclasses.replace(p, est_resid=est)
    want = []
    for d in np.unique(dates):
        c = pd.DataFrame(est[dates == d].T).corr().to_numpy()
        want.append(c[np.triu_indices(c.shape[0], 1)])
    assert residual_correlation(q) == pytest.approx(np.concatenate(want).mean(), rel=1e-12)
