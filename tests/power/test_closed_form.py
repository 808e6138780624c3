"""Power by simulation agrees with closed-form power where it exists (to Monte Carlo error).

Every check draws ``R`` replications from a fixed seed and requires the simulated power to lie
within 3 Monte Carlo standard errors, sqrt(p (1 - p) / R) with p the closed-form power, of the
closed form: a band that a correct simulation misses with probability 0.003.
"""

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import TTestIndPower

from toolkit.power.closed_form import (
    cluster_trial_mde,
    cluster_trial_power,
    clusters_for_power,
    design_effect,
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
