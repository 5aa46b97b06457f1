"""Cross-sectional tests against independent computations, plus a Brown-Warner simulation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from oilimpact.study.crosssection import (
    DAILY_TESTS,
    GRANK_MIN_PAIRS,
    cross_sectional_tests,
    daily_tests,
    residual_correlation,
)
from oilimpact.study.panel import AbnormalPanel

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
    out = cross_sectional_tests(panel, [(0, 0), (-1, 2), (-3, 3)])
    assert list(out.columns) == ["window", "lo", "hi", "test", "statistic", "pvalue", "n", "caar"]
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

    from oilimpact.study import crosssection

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
