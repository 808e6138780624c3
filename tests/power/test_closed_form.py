"""Power by simulation agrees with closed-form power where it exists (to Monte Carlo error).

Every check draws ``R`` replications from a fixed seed and requires the simulated power to lie
within 3 Monte Carlo standard errors, sqrt(p (1 - p) / R) with p the closed-form power, of the
closed form: a band that a correct simulation misses with probability 0.003.
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import TTestIndPower

from toolkit.power.closed_form import (
    cluster_trial_mde,
    cluster_trial_power,
    clusters_for_power,
    design_effect,
    nct_lower_tail,
    ttest_power,
    variance_ratio_power,
    within_variance_ratio_power,
)
from toolkit.power.models import fit_random_intercept
from toolkit.power.simulate import (
    cluster_means_analysis,
    mixed_analysis,
    normal_cluster_trial,
    normal_two_sample,
    power_curve,
    ttest_analysis,
    within_variance_analysis,
)

REFERENCE = Path(__file__).parents[1] / "reference"


def _within_mc_error(simulated, exact, r):
    se = math.sqrt(exact * (1 - exact) / r)
    assert abs(simulated - exact) <= 3 * se, (simulated, exact, se)


@pytest.mark.parametrize(("d", "n"), [(0.5, 30), (0.3, 100), (0.8, 12)])
def test_ttest_power_equals_statsmodels(d, n):
    assert ttest_power(d, n) == pytest.approx(TTestIndPower().power(d, n, 0.05), abs=1e-10)


def test_cluster_power_reduces_to_the_t_test_without_clustering():
    # J clusters of one student with ICC 0 is a two-sample t test of J/2 per group
    assert cluster_trial_power(0.5, 60, 1, 0.0) == pytest.approx(ttest_power(0.5, 30), abs=1e-12)
    assert design_effect(21, 0.2) == pytest.approx(5.0)


def test_cluster_power_is_noncentral_t_with_the_design_effect():
    from scipy import stats

    j, n, icc, d = 30, 15, 0.15, 0.4
    deff = 1 + (n - 1) * icc
    lam = d * math.sqrt(j * n / (4 * deff))
    crit = stats.t.ppf(0.975, j - 2)
    expected = stats.nct.sf(crit, j - 2, lam) + stats.nct.cdf(-crit, j - 2, lam)
    assert cluster_trial_power(d, j, n, icc) == pytest.approx(expected, abs=1e-12)
    mde = cluster_trial_mde(j, n, icc)
    assert cluster_trial_power(mde, j, n, icc) == pytest.approx(0.8, abs=1e-8)
    # Bloom's approximation of the MDE is close to the exact one
    bloom = (stats.t.ppf(0.975, j - 2) + stats.t.ppf(0.8, j - 2)) * math.sqrt(4 * deff / (j * n))
    assert mde == pytest.approx(bloom, rel=0.02)
    need = clusters_for_power(0.4, n, icc)
    assert (
        cluster_trial_power(0.4, need, n, icc) >= 0.8 > cluster_trial_power(0.4, need - 2, n, icc)
    )


@pytest.mark.parametrize(("d", "n"), [(0.5, 30), (0.3, 100), (0.8, 12)])
def test_two_sample_t_simulation_matches_closed_form(d, n):
    r = 2000
    curve = power_curve(normal_two_sample(d), ttest_analysis(), [n], r, seed=101)
    _within_mc_error(curve.table["power_effect"].iloc[0], ttest_power(d, n), r)


@pytest.mark.parametrize(("d", "j", "n", "icc"), [(0.4, 20, 15, 0.15), (0.3, 40, 20, 0.2)])
def test_cluster_trial_on_cluster_means_matches_noncentral_t(d, j, n, icc):
    r = 2000
    curve = power_curve(normal_cluster_trial(d, icc, n), cluster_means_analysis(), [j], r, seed=7)
    _within_mc_error(curve.table["power_effect"].iloc[0], cluster_trial_power(d, j, n, icc), r)


def test_mixed_model_on_balanced_clusters_is_the_cluster_means_test():
    """On balanced data without covariates the REML random-intercept t test (df J - 2) is the
    t test of the cluster means, so its power is the closed form too."""
    gen = normal_cluster_trial(0.4, 0.2, 10)
    mixed = mixed_analysis("y", "cluster", "arm", "a", spread=False)
    means = cluster_means_analysis()
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(10):
        data = gen(16, rng)
        a, b = mixed(data), means(data)
        assert a["effect"] == pytest.approx(b["effect"], abs=1e-10)
        assert a["effect_df"] == b["effect_df"] == 14
        if fit_random_intercept(data, "y", "cluster", treatment="arm").tau2 > 1e-6:  # not at 0
            assert a["effect_p"] == pytest.approx(b["effect_p"], rel=1e-5)
            checked += 1
    assert checked >= 5
    r = 600
    curve = power_curve(gen, mixed, [20], r, seed=11)
    _within_mc_error(curve.table["power_effect"].iloc[0], cluster_trial_power(0.4, 20, 10, 0.2), r)


def test_spread_power_matches_the_f_test_of_within_cluster_variances():
    ratio_sd, j, n = 1.15, 20, 20
    exact = within_variance_ratio_power(ratio_sd**2, j, n)
    assert exact == pytest.approx(variance_ratio_power(ratio_sd**2, 191, 191))
    gen = normal_cluster_trial(0.0, 0.2, n, sd_ratio=ratio_sd)
    r = 1000
    f = power_curve(gen, within_variance_analysis(), [j], r, seed=5)
    _within_mc_error(f.table["power_spread"].iloc[0], exact, r)
    # the varIdent likelihood-ratio test has (asymptotically) the same power
    r = 400
    lr = power_curve(gen, mixed_analysis("y", "cluster", "arm", "a"), [j], r, seed=5)
    _within_mc_error(lr.table["power_spread"].iloc[0], exact, r)
    assert lr.table["sd_ratio_mean"].iloc[0] == pytest.approx(ratio_sd, abs=0.02)


def test_power_curve_is_reproducible_and_resumable(tmp_path):
    gen, ana = normal_two_sample(0.5), ttest_analysis()
    a = power_curve(gen, ana, [10, 20], 50, seed=3, folder=tmp_path)
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == [
        "size-000010.parquet",
        "size-000020.parquet",
    ]
    b = power_curve(gen, ana, [20, 10, 30], 50, seed=3, folder=tmp_path)  # resumes 10 and 20
    pd.testing.assert_frame_equal(a.table, b.table[b.table["size"] < 30].reset_index(drop=True))
    c = power_curve(gen, ana, [30], 50, seed=3)
    pd.testing.assert_frame_equal(c.table, b.table[b.table["size"] == 30].reset_index(drop=True))


def test_clusters_needed_interpolates_and_extrapolates():
    d, n, icc = 0.5, 10, 0.2
    sizes = [10, 20, 30, 40]
    curve = power_curve(
        normal_cluster_trial(d, icc, n), cluster_means_analysis(), sizes, 400, seed=9
    )
    need = curve.needed()
    exact = clusters_for_power(d, n, icc)
    assert abs(need["interpolated"] - exact) < 6
    assert abs(need["extrapolated"] - exact) < 8
    t = curve.table
    assert (t["mde_effect"].diff().dropna() < 0).all()  # the MDE falls with more clusters
    mde40 = cluster_trial_mde(40, n, icc)
    assert t["mde_effect"].iloc[-1] == pytest.approx(mde40, rel=0.1)


# --- the far lower tail of the noncentral t (scipy's nct.cdf is NaN at scattered points there) --
def test_power_over_a_grid_matches_r_with_no_nan():
    """4,576 designs (effect 0.02 to 5 SD, 4 to 400 clusters, 1 to 60 students, ICC 0 to 0.5,
    alpha 0.05 and 0.01) against R's pt with ncp (tests/reference/power_closed_form.R); at 555
    of them scipy's lower tail is NaN."""
    ref = pd.read_csv(REFERENCE / "power_closed_form.csv")
    assert len(ref) > 4000
    got = np.array(
        [
            cluster_trial_power(r.effect, int(r.clusters), r.n, r.icc, r.alpha)
            for r in ref.itertuples()
        ]
    )
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, ref["power"], rtol=0, atol=1e-10)
    from scipy import stats

    df = ref["clusters"] - 2
    q = stats.t.ppf(1 - ref["alpha"] / 2, df)
    lam = ref["effect"] / np.sqrt((ref["icc"] + (1 - ref["icc"]) / ref["n"]) * 4 / ref["clusters"])
    lower = np.array([nct_lower_tail(a, b, c) for a, b, c in zip(q, df, lam, strict=True)])
    np.testing.assert_allclose(lower, ref["lower"], rtol=0, atol=1e-12)
    assert np.isnan(stats.nct.cdf(-q, df, lam)).sum() > 100  # the cases that went wrong


@pytest.mark.parametrize(
    "case",
    json.loads((REFERENCE / "power_closed_form.json").read_text()),
    ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()),
)
def test_mde_and_clusters_needed_match_r(case):
    if case["kind"] == "mde":
        got = cluster_trial_mde(case["clusters"], case["n"], case["icc"])
        assert got == pytest.approx(case["mde"], abs=1e-9)
    else:
        got = clusters_for_power(case["effect"], case["n"], case["icc"])
        assert got == case["clusters"]


def test_clusters_for_power_two_sd_with_twenty_students_is_four():
    # the smallest trial already has power 0.98: scipy's NaN lower tail made it answer 6
    assert cluster_trial_power(2, 4, 20, 0) == pytest.approx(0.98077018412, abs=1e-9)
    assert clusters_for_power(2, 20, 0) == 4


def _lower_tail_over_z(c, df, lam):
    """P(T <= -c) from the other representation: integrate over Z instead of W,
    P = int_{z < -lam} phi(z) P(W <= -(z + lam) / c) dz, in logs relative to Phi(-lam)."""
    from scipy import integrate, stats

    log0 = stats.norm.logcdf(-lam)

    def f(z):
        log_w = stats.chi2.logcdf(df * ((z + lam) / c) ** 2, df)
        return math.exp(stats.norm.logpdf(z) + log_w - log0)

    return math.exp(log0) * integrate.quad(f, -np.inf, -lam, epsabs=0, epsrel=1e-13, limit=500)[0]


def test_lower_tail_agrees_with_an_independent_integral_and_its_bound():
    from scipy import stats

    for df in (1, 2, 5, 30, 1000):
        for lam in (-2.0, 0.0, 0.5, 3.0, 9.0, 25.0):
            assert nct_lower_tail(0.0, df, lam) == pytest.approx(stats.norm.cdf(-lam), rel=1e-14)
            prev = 1.0
            for c in (0.5, 2.0, 4.3, 12.0):
                v = nct_lower_tail(c, df, lam)
                # P(T <= -c) <= P(T <= 0) = Phi(-lambda), and falls as c grows
                assert 0.0 < v <= stats.norm.cdf(-lam) * (1 + 1e-12) and v <= prev
                prev = v
                assert v == pytest.approx(_lower_tail_over_z(c, df, lam), rel=1e-9)
    with pytest.raises(ValueError, match="c must be >= 0"):
        nct_lower_tail(-1.0, 5, 1.0)
