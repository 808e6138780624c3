"""Spread metrics: closed-form cases, hand computations and R reference values."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from toolkit.metrics import (
    coefficient_of_variation,
    gini,
    matthew_effect,
    percentile_gap,
    sd,
    variance_ratio,
)


# --------------------------------------------------------------------- sd, cv
def test_sd_ddof():
    x = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]  # sum of squares about the mean = 32
    assert sd(x, ddof=0) == pytest.approx(2.0)
    assert sd(x) == pytest.approx(math.sqrt(32 / 7))
    assert sd([1.0, np.nan, 3.0]) == pytest.approx(math.sqrt(2.0))


def test_coefficient_of_variation_by_hand():
    x = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]  # mean 5
    assert coefficient_of_variation(x, ddof=0) == pytest.approx(0.4)
    assert coefficient_of_variation(x) == pytest.approx(math.sqrt(32 / 7) / 5)
    # shift: z-scores measured from -2 -> values 1, 2, 3, mean 2, sd 1
    assert coefficient_of_variation([-1.0, 0.0, 1.0], shift=-2.0) == pytest.approx(0.5)
    # shift="min" -> 0, 1, 2: mean 1, sd 1
    assert coefficient_of_variation([5.0, 6.0, 7.0], shift="min") == pytest.approx(1.0)


def test_cv_needs_positive_mean():
    with pytest.raises(ValueError, match="positive mean"):
        coefficient_of_variation([-1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="ddof must be"):
        coefficient_of_variation([1.0, 2.0], ddof=-1)
    with pytest.raises(ValueError, match="shift must be None, 'min' or a number"):
        coefficient_of_variation([1.0, 2.0], shift="max")


# --------------------------------------------------------------------- gini
def test_gini_closed_forms():
    assert gini([1, 1, 1, 1]) == 0.0
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)
    assert gini([0, 0, 0, 1], correction=True) == pytest.approx(1.0)
    assert gini([5.0]) == 0.0


def test_gini_hand_computed_five_values():
    # [0, 1, 1, 3, 5]: mean 2; sum over i<j of |xi - xj| = 1+1+3+5+0+2+4+2+4+2 = 24;
    # G = 2 * 24 / (2 * 5^2 * 2) = 0.48, corrected 0.48 * 5/4 = 0.6
    assert gini([3, 0, 5, 1, 1]) == pytest.approx(0.48, abs=1e-15)
    assert gini([3, 0, 5, 1, 1], correction=True) == pytest.approx(0.6, abs=1e-15)
    # [1..5]: sum_{i<j} |diff| = 20, G = 40 / 150 = 4/15
    assert gini(np.arange(1, 6)) == pytest.approx(4 / 15, abs=1e-15)


def test_gini_matches_pairwise_definition_and_is_scale_invariant():
    rng = np.random.default_rng(11)
    x = rng.gamma(2.0, 3.0, size=57)
    brute = np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean())
    assert gini(x) == pytest.approx(brute, rel=1e-12)
    assert gini(7.5 * x) == pytest.approx(gini(x), rel=1e-12)
    # adding a constant lowers inequality
    assert gini(x + 10) < gini(x)


def test_gini_negative_values_and_shift():
    z = [-1.5, -0.2, 0.0, 0.7, 1.0]
    with pytest.raises(ValueError, match=r"negative value\(s\).*shift"):
        gini(z)
    # shift="min" subtracts the minimum; numeric shift sets the zero point
    assert gini(z, shift="min") == pytest.approx(gini(np.array(z) + 1.5))
    assert gini(z, shift=-4.0) == pytest.approx(gini(np.array(z) + 4.0))
    with pytest.raises(ValueError, match="negative"):
        gini(z, shift=0.5)
    assert math.isnan(gini([0.0, 0.0, 0.0]))
    with pytest.raises(TypeError, match="correction must be True or False"):
        gini([1.0, 2.0], correction="yes")


def test_gini_nan_policy():
    assert gini([0, 0, np.nan, 0, 1]) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        gini([0, 0, np.nan, 0, 1], nan_policy="raise")


# --------------------------------------------------------------------- percentile gaps
def test_percentile_gap_type7_by_hand_and_r(r_ref):
    x = [1, 2, 4, 7, 11, 16, 22, 29, 37, 46]
    # type 7: h = (n-1)p + 1; p=.9 -> h=9.1 -> 37 + .1*9 = 37.9; p=.1 -> h=1.9 -> 1.9
    # p=.75 -> h=7.75 -> 22 + .75*7 = 27.25; p=.25 -> h=3.25 -> 4 + .25*3 = 4.75
    assert percentile_gap(x) == pytest.approx(37.9 - 1.9)
    assert percentile_gap(x, 75, 25) == pytest.approx(27.25 - 4.75)
    # R: quantile(x, c(.1, .25, .75, .9), type = 7)
    q10, q25, q75, q90 = r_ref["quantile_type7"]["values"]
    assert percentile_gap(x) == pytest.approx(q90 - q10, abs=1e-12)
    assert percentile_gap(x[::-1], upper=75, lower=25) == pytest.approx(q75 - q25, abs=1e-12)
    assert percentile_gap(x, 50, 50) == 0.0


def test_percentile_gap_errors():
    with pytest.raises(ValueError, match="upper must be a percentile"):
        percentile_gap([1, 2, 3], upper=0.9 * 200)
    with pytest.raises(ValueError, match=r"lower .* must not exceed upper"):
        percentile_gap([1, 2, 3], upper=10, lower=90)
    with pytest.raises(TypeError, match="lower must be a number"):
        percentile_gap([1, 2, 3], lower="10")


# --------------------------------------------------------------------- variance ratio
@pytest.mark.parametrize("case", ["ind_a", "ind_b", "ind_c"])
def test_variance_ratio_matches_r_var_test(case, r_ref, r_case):
    ref = r_ref[case]
    res = variance_ratio(r_case(case, "treat"), r_case(case, "ctrl"))
    row = res.iloc[0]
    # R: var.test(x, y)
    assert row["variance_ratio"] == pytest.approx(ref["var_ratio"], rel=1e-12)
    assert row["ci_low"] == pytest.approx(ref["var_ratio_ci"][0], rel=1e-10)
    assert row["ci_high"] == pytest.approx(ref["var_ratio_ci"][1], rel=1e-10)
    assert row["p_val"] == pytest.approx(ref["var_p"], rel=1e-9)
    assert row["sd_ratio"] ** 2 == pytest.approx(row["variance_ratio"])
    assert (row["dof_num"], row["dof_den"]) == (ref["n_x"] - 1, ref["n_y"] - 1)


def test_variance_ratio_by_hand():
    row = variance_ratio([1.0, 3.0, 5.0, 7.0], [2.0, 3.0, 4.0, 5.0, np.nan]).iloc[0]
    assert row["variance_ratio"] == pytest.approx(4.0)
    assert row["ci_low"] == pytest.approx(4.0 / stats.f.ppf(0.975, 3, 3))
    assert row["n_omitted"] == 1
    with pytest.raises(ValueError, match="reference has zero variance"):
        variance_ratio([1.0, 2.0], [3.0, 3.0])


# --------------------------------------------------------------------- Matthew effect
def test_matthew_effect_sign_on_constructed_data():
    prior = np.linspace(-2, 2, 50)
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 0.1, 50)
    rich_get_richer = matthew_effect(prior, 0.5 + 0.3 * prior + noise)
    compensatory = matthew_effect(prior, 0.5 - 0.3 * prior + noise)
    assert rich_get_richer["r"].iloc[0] > 0.9
    assert compensatory["r"].iloc[0] < -0.9
    assert rich_get_richer["ci_low"].iloc[0] > 0
    assert compensatory["ci_high"].iloc[0] < 0


def test_matthew_effect_fisher_z_formula_and_r(r_ref, r_case):
    ref = r_ref["cor_a"]
    prior, gain = r_case("cor_a", "prior"), r_case("cor_a", "gain")
    row = matthew_effect(prior, gain).iloc[0]
    # R: cor.test(gain, prior) (Pearson, Fisher-z interval)
    assert row["r"] == pytest.approx(ref["pearson_r"], rel=1e-12)
    assert row["ci_low"] == pytest.approx(ref["pearson_ci"][0], rel=1e-10)
    assert row["ci_high"] == pytest.approx(ref["pearson_ci"][1], rel=1e-10)
    assert row["p_val"] == pytest.approx(ref["pearson_p"], rel=1e-9)
    # the formula itself
    z, n = math.atanh(row["r"]), row["n"]
    half = stats.norm.ppf(0.975) / math.sqrt(n - 3)
    assert row["ci_low"] == pytest.approx(math.tanh(z - half), rel=1e-12)
    # Spearman: rho from R, interval with the 1.06 variance factor
    sp = matthew_effect(prior, gain, method="spearman", ci=0.9).iloc[0]
    assert sp["r"] == pytest.approx(ref["spearman_rho"], rel=1e-12)
    half = stats.norm.ppf(0.95) * math.sqrt(1.06 / (n - 3))
    zs = math.atanh(sp["r"])
    assert (sp["ci_low"], sp["ci_high"]) == pytest.approx(
        (math.tanh(zs - half), math.tanh(zs + half)), rel=1e-12
    )
    assert sp["method"] == "spearman"


def test_matthew_effect_missing_and_constant():
    prior = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, np.nan])
    gain = pd.Series([0.1, np.nan, 0.2, 0.5, 0.6, 0.7])
    row = matthew_effect(prior, gain).iloc[0]
    assert (row["n"], row["n_omitted"]) == (4, 2)
    const = matthew_effect([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0]).iloc[0]
    assert math.isnan(const["r"])
    with pytest.raises(ValueError, match="method must be one of"):
        matthew_effect([1, 2, 3, 4], [1, 2, 3, 5], method="kendall")
    with pytest.raises(ValueError, match="needs at least 4"):
        matthew_effect([1, 2, 3], [1, 2, 4])
