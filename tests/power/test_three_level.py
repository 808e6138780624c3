"""Closed-form power of three-level trials (students in classes in schools).

Checked against special cases (one class per school is the two-level cluster trial; classes
randomized within schools do not depend on the school variance), against PowerUp!'s
published cross-checks (Dong & Maynard 2013, the PowerUpR package's examples), and against
Monte Carlo trials of normal three-level data analysed as planned (power within 3 Monte Carlo
standard errors of the closed form).
"""

import math

import numpy as np
import pytest
from scipy import stats

from toolkit.power.closed_form import (
    cluster_trial_power,
    schools_for_power,
    three_level_mde,
    three_level_power,
    three_level_se,
)


@pytest.mark.parametrize(("k", "n", "rho_s", "rho_c"), [(20, 20, 0.1, 0.1), (60, 15, 0.0, 0.2)])
def test_one_class_per_school_is_the_two_level_trial(k, n, rho_s, rho_c):
    for d in (0.2, 0.5):
        three = three_level_power(
            d, k, classes_per_school=1, n_per_class=n, icc_school=rho_s, icc_class=rho_c
        )
        assert three == pytest.approx(cluster_trial_power(d, k, n, rho_s + rho_c), rel=1e-12)


def test_school_icc_zero_leaves_a_two_level_trial_of_classes():
    """rho_S = 0: a school of m classes randomized together is m clusters of the two-level
    formula, except that the degrees of freedom count schools."""
    se3, df3 = three_level_se(40, 3, 20, 0.0, 0.15)
    lam2 = 0.3 / math.sqrt((0.15 + 0.85 / 20) * (4 / 120))
    assert 0.3 / se3 == pytest.approx(lam2, rel=1e-12)
    assert df3 == 38


def test_school_variance_drops_out_of_classes_randomized_within_schools():
    """Adding school variance (class and student variances and the raw effect held) leaves a
    blocked trial's power as it is, and costs a school-randomized trial power."""
    tau_c, sigma2, delta = 0.1, 0.8, 0.2

    def power(tau_s, **kw):
        total = tau_s + tau_c + sigma2
        icc = {"icc_school": tau_s / total, "icc_class": tau_c / total}
        design = {"classes_per_school": 4, "n_per_class": 20} | icc | kw
        return three_level_power(delta / math.sqrt(total), 30, **design)

    blocked = [power(t, randomize="class_in_school") for t in (0.0, 0.2, 0.5)]
    assert blocked[0] == pytest.approx(blocked[1], rel=1e-12)
    assert blocked[0] == pytest.approx(blocked[2], rel=1e-12)
    school = [power(t) for t in (0.0, 0.2)]
    assert school[1] < school[0] < blocked[0]
    # effect heterogeneity across schools adds rho_S omega / K and counts schools' df
    het = [
        power(0.2, randomize="class_in_school", school_effects="random", effect_heterogeneity=w)
        for w in (0.0, 0.5)
    ]
    assert het[1] < het[0] < blocked[1]


def test_powerup_cross_checks():
    """PowerUp!'s cross-check values (PowerUpR examples; MDE by Bloom's multiplier)."""
    cra3 = {"classes_per_school": 3, "n_per_class": 15, "icc_school": 0.06, "icc_class": 0.17}
    assert three_level_mde(60, exact=False, **cra3) == pytest.approx(0.269, abs=0.0005)
    assert three_level_power(0.269, 60, **cra3) == pytest.approx(0.80, abs=0.002)
    # BCRA3_2f: rho2 = 0.10 of the within-school variance, 5 schools of 44 classes of 20
    bcra = {
        "classes_per_school": 44, "n_per_class": 20, "icc_school": 0.0, "icc_class": 0.10,
        "randomize": "class_in_school",
    }  # fmt: skip
    assert three_level_mde(5, exact=False, **bcra) == pytest.approx(0.145, abs=0.0005)
    _, df = three_level_se(5, **bcra)
    assert df == 5 * 44 - 5 - 1  # class means on school dummies and the treatment


def test_exact_mde_inverts_power():
    d = {"classes_per_school": 2, "n_per_class": 20, "icc_school": 0.1, "icc_class": 0.1}
    mde = three_level_mde(40, **d)
    assert three_level_power(mde, 40, **d) == pytest.approx(0.8, abs=1e-8)
    k = schools_for_power(mde, **d)
    assert k == 40 or (k == 42 and three_level_power(mde, 40, **d) < 0.8)


def test_monte_carlo_school_randomized_and_blocked():
    """Normal three-level data analysed as planned reach the closed-form power."""
    rng = np.random.default_rng(20261207)
    k, m, n, rho_s, rho_c, d, reps = 16, 2, 10, 0.15, 0.1, 0.35, 2000
    sd = np.sqrt([rho_s, rho_c, 1 - rho_s - rho_c])

    def draw(treat):  # treat: (k, m) 0/1
        u = rng.standard_normal((k, 1, 1)) * sd[0]
        v = rng.standard_normal((k, m, 1)) * sd[1]
        e = rng.standard_normal((k, m, n)) * sd[2]
        return (d * treat[..., None] + u + v + e).mean(axis=2)  # class means

    crit_s = stats.t.ppf(0.975, k - 2)
    crit_b = stats.t.ppf(0.975, k - 1)
    hits_s = hits_b = 0
    school_treat = np.repeat((np.arange(k) >= k // 2)[:, None], m, axis=1).astype(float)
    class_treat = np.tile([0.0, 1.0], (k, 1))
    for _ in range(reps):
        means = draw(school_treat).mean(axis=1)  # school means, t test on K - 2 df
        a, b = means[: k // 2], means[k // 2 :]
        s2 = (a.var(ddof=1) + b.var(ddof=1)) / 2
        hits_s += abs((b.mean() - a.mean()) / math.sqrt(s2 * 4 / k)) > crit_s
        diff = np.diff(draw(class_treat), axis=1)[:, 0]  # within-school differences, K - 1 df
        hits_b += abs(diff.mean() / (diff.std(ddof=1) / math.sqrt(k))) > crit_b
    design = {"classes_per_school": m, "n_per_class": n, "icc_school": rho_s, "icc_class": rho_c}
    p_s = three_level_power(d, k, **design)
    p_b = three_level_power(d, k, randomize="class_in_school", school_effects="random", **design)
    for hits, p in ((hits_s, p_s), (hits_b, p_b)):
        assert abs(hits / reps - p) < 3 * math.sqrt(p * (1 - p) / reps), (hits / reps, p)
    assert p_b > p_s + 0.2  # the school variance drops out of the blocked contrast


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"icc_school": 0.6, "icc_class": 0.5}, "below 1"),
        ({"icc_school": -0.1}, "icc_school"),
        ({"randomize": "student"}, "randomize"),
        ({"randomize": "class_in_school", "classes_per_school": 1}, "at least 2 classes"),
        ({"randomize": "class_in_school", "effect_heterogeneity": 0.3}, "school_effects='random'"),
        ({"schools": 2}, "degrees of freedom"),
    ],
)
def test_bad_designs(kwargs, match):
    design = {"schools": 20, "classes_per_school": 2, "n_per_class": 20, "icc_school": 0.1,
              "icc_class": 0.1} | kwargs  # fmt: skip
    with pytest.raises(ValueError, match=match):
        three_level_se(**design)
