"""Effect sizes against R (tests/reference/metrics_effect_size.R) and closed-form checks."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from toolkit.metrics import (
    cohen_d,
    compare_groups,
    glass_delta,
    hedges_correction,
    hedges_g,
    noncentral_t_ci,
    paired_d,
)

IND_CASES = ["ind_a", "ind_b", "ind_c"]
# R's uniroot in the ncp algebra ran at tol = 1e-13; R's pnt is accurate to about 1e-12.
ALGEBRA_TOL = 1e-8
# psych::cohen.d.ci uses uniroot's default tol (~1.2e-4 on the ncp scale).
PSYCH_TOL = 2e-4


def est(res: pd.DataFrame) -> tuple[float, float, float]:
    row = res.iloc[0]
    return float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])


# --------------------------------------------------------------------- against R
@pytest.mark.parametrize("case", IND_CASES)
def test_cohen_d_matches_r_algebra_and_psych(case, r_ref, r_case):
    ref = r_ref[case]
    x, y = r_case(case, "treat"), r_case(case, "ctrl")
    d, lo, hi = est(cohen_d(x, y))
    # R: (mean(x) - mean(y)) / pooled SD, ncp limits via pt()/uniroot(tol = 1e-13)
    assert d == pytest.approx(ref["cohen_d"], rel=1e-12)
    assert lo == pytest.approx(ref["cohen_d_ci"][0], abs=ALGEBRA_TOL)
    assert hi == pytest.approx(ref["cohen_d_ci"][1], abs=ALGEBRA_TOL)
    # R: psych::cohen.d(df, "grp")$hedges.g -> lower, effect, upper (uncorrected d_s)
    p_lo, p_d, p_hi = ref["psych_hedges_g_row"]
    assert d == pytest.approx(p_d, rel=1e-12)
    assert lo == pytest.approx(p_lo, abs=PSYCH_TOL)
    assert hi == pytest.approx(p_hi, abs=PSYCH_TOL)


def test_psych_cohen_d_element_uses_n_denominator(r_ref):
    # Documents why psych's `cohen.d` element is not what we call Cohen's d: psych divides the
    # pooled sum of squares by n1 + n2 instead of n1 + n2 - 2, so its d = d_s * sqrt(n / (n - 2)).
    ref = r_ref["ind_a"]
    n = ref["n_x"] + ref["n_y"]
    assert ref["psych_cohen_d_row"][1] == pytest.approx(
        ref["cohen_d"] * math.sqrt(n / (n - 2)), rel=1e-12
    )


@pytest.mark.parametrize("case", IND_CASES)
def test_hedges_g_matches_r(case, r_ref, r_case):
    ref = r_ref[case]
    x, y = r_case(case, "treat"), r_case(case, "ctrl")
    res = hedges_g(x, y)
    g, lo, hi = est(res)
    assert hedges_correction(res["dof"].iloc[0]) == pytest.approx(ref["hedges_j"], rel=1e-12)
    assert g == pytest.approx(ref["hedges_g"], rel=1e-12)
    assert lo == pytest.approx(ref["hedges_g_ci"][0], abs=ALGEBRA_TOL)
    assert hi == pytest.approx(ref["hedges_g_ci"][1], abs=ALGEBRA_TOL)


@pytest.mark.parametrize("case", IND_CASES)
def test_glass_delta_matches_r(case, r_ref, r_case):
    ref = r_ref[case]
    x, y = r_case(case, "treat"), r_case(case, "ctrl")
    res = glass_delta(x, y)
    delta, lo, hi = est(res)
    assert res["dof"].iloc[0] == ref["n_y"] - 1
    assert delta == pytest.approx(ref["glass_delta"], rel=1e-12)
    assert lo == pytest.approx(ref["glass_delta_ci"][0], abs=ALGEBRA_TOL)
    assert hi == pytest.approx(ref["glass_delta_ci"][1], abs=ALGEBRA_TOL)


def test_paired_dz_matches_r(r_ref, r_case):
    ref = r_ref["paired_a"]
    post, pre = r_case("paired_a", "post"), r_case("paired_a", "pre")
    d, lo, hi = est(paired_d(post, pre))
    assert d == pytest.approx(ref["d_z"], rel=1e-12)
    assert lo == pytest.approx(ref["d_z_ci"][0], abs=ALGEBRA_TOL)
    assert hi == pytest.approx(ref["d_z_ci"][1], abs=ALGEBRA_TOL)
    # R: psych::d.ci(dz, n1 = n)
    assert lo == pytest.approx(ref["psych_d_ci_row"][0], abs=PSYCH_TOL)
    assert hi == pytest.approx(ref["psych_d_ci_row"][2], abs=PSYCH_TOL)


def test_paired_dav_point_and_normal_se(r_ref, r_case):
    ref = r_ref["paired_a"]
    post, pre = r_case("paired_a", "post"), r_case("paired_a", "pre")
    res = paired_d(post, pre, kind="av", ci_method="normal")
    d, lo, hi = est(res)
    assert d == pytest.approx(ref["d_av"], rel=1e-12)
    n, r = ref["n"], ref["r_xy"]
    se = math.sqrt((1 / n + d**2 / (2 * n)) * 2 * (1 - r))
    assert res["se"].iloc[0] == pytest.approx(se, rel=1e-10)
    assert hi - lo == pytest.approx(2 * stats.norm.ppf(0.975) * se, rel=1e-10)


@pytest.mark.parametrize("case", IND_CASES)
def test_compare_groups_welch_matches_r(case, r_ref, r_data):
    ref = r_ref[case]
    data = r_data[r_data["case"] == case]
    res = compare_groups(data, dv="value", group="group", reference="ctrl")
    assert len(res) == 1
    row = res.iloc[0]
    assert row["group"] == "treat" and row["reference"] == "ctrl"
    assert (row["n"], row["n_ref"]) == (ref["n_x"], ref["n_y"])
    assert row["mean"] == pytest.approx(ref["mean_x"], rel=1e-12)
    assert row["sd_ref"] == pytest.approx(ref["sd_y"], rel=1e-12)
    # R: t.test(x, y) (Welch)
    assert row["t"] == pytest.approx(ref["welch_t"], rel=1e-10)
    assert row["dof"] == pytest.approx(ref["welch_df"], rel=1e-10)
    assert row["p_val"] == pytest.approx(ref["welch_p"], rel=1e-8)
    assert row["diff_ci_low"] == pytest.approx(ref["welch_ci"][0], rel=1e-10)
    assert row["diff_ci_high"] == pytest.approx(ref["welch_ci"][1], rel=1e-10)
    assert row["cohen_d"] == pytest.approx(ref["cohen_d"], rel=1e-12)
    assert row["d_ci_low"] == pytest.approx(ref["cohen_d_ci"][0], abs=ALGEBRA_TOL)
    assert row["hedges_g"] == pytest.approx(ref["hedges_g"], rel=1e-12)
    assert row["g_ci_high"] == pytest.approx(ref["hedges_g_ci"][1], abs=ALGEBRA_TOL)
    assert row["test"] == "welch" and row["d_type"] == "d_s"


def test_compare_groups_paired_matches_r(r_ref, r_data):
    ref = r_ref["paired_a"]
    data = r_data[r_data["case"] == "paired_a"].sample(frac=1.0, random_state=1)  # shuffled
    res = compare_groups(data, dv="value", group="group", reference="pre", paired_on="id")
    row = res.iloc[0]
    assert row["group"] == "post" and row["test"] == "paired" and row["d_type"] == "d_z"
    assert row["n"] == ref["n"]
    # R: t.test(x, y, paired = TRUE)
    assert row["t"] == pytest.approx(ref["paired_t"], rel=1e-10)
    assert row["dof"] == ref["paired_df"]
    assert row["p_val"] == pytest.approx(ref["paired_p"], rel=1e-8)
    assert row["diff_ci_low"] == pytest.approx(ref["paired_ci"][0], rel=1e-10)
    assert row["diff_ci_high"] == pytest.approx(ref["paired_ci"][1], rel=1e-10)
    assert row["cohen_d"] == pytest.approx(ref["d_z"], rel=1e-12)
    assert row["d_ci_high"] == pytest.approx(ref["d_z_ci"][1], abs=ALGEBRA_TOL)


# --------------------------------------------------------------------- closed form
def test_hedges_correction_exact_and_approximation():
    # J(nu) = Gamma(nu/2) / (sqrt(nu/2) Gamma((nu-1)/2)); J(10) by hand with gammas
    j10 = special.gamma(5) / (math.sqrt(5) * special.gamma(4.5))
    assert hedges_correction(10) == pytest.approx(j10, rel=1e-14)
    # large dof: close to the usual 1 - 3/(4 nu - 1) approximation, and no overflow
    assert hedges_correction(1000) == pytest.approx(1 - 3 / 3999, abs=1e-6)
    assert hedges_correction(1e6) < 1.0


def test_noncentral_t_ci_brackets_the_observed_t():
    lo, hi = noncentral_t_ci(2.5, 30, ci=0.95)
    assert stats.nct.cdf(2.5, 30, lo) == pytest.approx(0.975, abs=1e-10)
    assert stats.nct.cdf(2.5, 30, hi) == pytest.approx(0.025, abs=1e-10)
    lo90, hi90 = noncentral_t_ci(2.5, 30, ci=0.90)
    assert lo < lo90 < 2.5 < hi90 < hi
    # symmetric in t
    nlo, nhi = noncentral_t_ci(-2.5, 30)
    assert (nlo, nhi) == pytest.approx((-hi, -lo), abs=1e-9)


def test_cohen_d_by_hand_and_normal_interval():
    x, y = [5.0, 6.0, 7.0, 8.0], [4.0, 5.0, 6.0, 5.0]
    sp = math.sqrt((3 * np.var(x, ddof=1) + 3 * np.var(y, ddof=1)) / 6)
    d_hand = 1.5 / sp
    res = cohen_d(x, y, ci_method="normal", ci=0.9)
    d, lo, hi = est(res)
    assert d == pytest.approx(d_hand, rel=1e-14)
    se = math.sqrt(8 / 16 + d_hand**2 / 16)
    assert res["se"].iloc[0] == pytest.approx(se, rel=1e-14)
    assert (lo, hi) == pytest.approx((d - 1.6448536269514722 * se, d + 1.6448536269514722 * se))
    assert res["ci_method"].iloc[0] == "normal" and res["ci_level"].iloc[0] == 0.9


def test_sign_convention_and_nan_omit_count():
    x = [1.0, 2.0, np.nan, 3.0]
    y = [3.0, 4.0, 5.0, np.nan, np.nan]
    res = cohen_d(x, y)
    assert res["estimate"].iloc[0] < 0
    assert res["n_omitted"].iloc[0] == 3
    assert (res["n_x"].iloc[0], res["n_y"].iloc[0]) == (3, 3)


def test_hedges_g_normal_se_is_j_times_d_se():
    rng = np.random.default_rng(5)
    x, y = rng.normal(0.5, 1, 12), rng.normal(0, 1, 15)
    d = cohen_d(x, y, ci_method="normal")
    g = hedges_g(x, y, ci_method="normal")
    j = hedges_correction(25)
    assert g["estimate"].iloc[0] == pytest.approx(j * d["estimate"].iloc[0])
    assert g["se"].iloc[0] == pytest.approx(j * d["se"].iloc[0])


def test_nct_coverage_is_nominal_by_simulation():
    # Under normality the noncentral interval for d is exact: check coverage ~ 95%.
    rng = np.random.default_rng(2024)
    delta, hits, reps = 0.8, 0, 400
    for _ in range(reps):
        d = cohen_d(rng.normal(delta, 1, 10), rng.normal(0, 1, 12))
        hits += d["ci_low"].iloc[0] <= delta <= d["ci_high"].iloc[0]
    assert 0.92 <= hits / reps <= 0.98


# --------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "exc", "pattern"),
    [
        ({"ci": 1.5}, ValueError, "ci must be strictly between"),
        ({"ci": "0.95"}, TypeError, "ci must be a float"),
        ({"ci_method": "boot"}, ValueError, "ci_method must be one of"),
        ({"nan_policy": "drop"}, ValueError, "nan_policy must be"),
    ],
)
def test_effect_size_option_errors(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        cohen_d([1.0, 2.0, 3.0], [2.0, 3.0, 4.0], **kwargs)


def test_effect_size_data_errors():
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        cohen_d([1.0, np.nan, 3.0], [2.0, 3.0, 4.0], nan_policy="raise")
    with pytest.raises(TypeError, match="y must be array-like of real numbers"):
        cohen_d([1.0, 2.0], ["a", "b"])
    with pytest.raises(TypeError, match="x must be numeric"):
        cohen_d(pd.Series(["1", "2"]), [1.0, 2.0])
    with pytest.raises(ValueError, match="y needs at least 2"):
        hedges_g([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="x must be one-dimensional"):
        cohen_d([[1.0, 2.0], [3.0, 4.0]], [1.0, 2.0])
    with pytest.raises(ValueError, match="reference has zero standard deviation"):
        glass_delta([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="same length"):
        paired_d([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="kind='av'"):
        paired_d([1.0, 2.0, 4.0], [1.5, 2.0, 3.0], kind="av")
    with pytest.raises(ValueError, match="kind must be one of"):
        paired_d([1.0, 2.0, 4.0], [1.5, 2.0, 3.0], kind="rm")
    with pytest.raises(ValueError, match="dof must be"):
        noncentral_t_ci(1.0, 0.5)


def test_compare_groups_errors_and_defaults():
    df = pd.DataFrame({"g": ["b", "b", "b", "a", "a", "a"], "y": [1.0, 2.0, 4.0, 0.0, 1.0, 1.5]})
    # default reference = first in sorted order ("a")
    res = compare_groups(df, "y", "g")
    assert res["reference"].tolist() == ["a"] and res["group"].tolist() == ["b"]
    assert list(res.columns)[:4] == ["group", "reference", "n", "n_ref"]
    # categorical order wins over sorting
    df_cat = df.assign(g=pd.Categorical(df["g"], categories=["b", "a"]))
    assert compare_groups(df_cat, "y", "g")["reference"].tolist() == ["b"]
    with pytest.raises(TypeError, match="data must be a pandas DataFrame"):
        compare_groups(df.to_dict(), "y", "g")
    with pytest.raises(TypeError, match="dv must be a single column name"):
        compare_groups(df, ["y", "g"], "g")
    with pytest.raises(ValueError, match="dv: column 'score' is not in data"):
        compare_groups(df, "score", "g")
    with pytest.raises(ValueError, match="reference: 'c' is not a value"):
        compare_groups(df, "y", "g", reference="c")
    with pytest.raises(TypeError, match="dv: column 'g' must be numeric"):
        compare_groups(df, "g", "y")
    with pytest.raises(ValueError, match="group: column 'g' must contain at least two"):
        compare_groups(df[df["g"] == "a"], "y", "g")
    dup = pd.DataFrame({"g": ["a", "a", "b", "b"], "id": [1, 1, 1, 2], "y": [1.0, 2, 3, 4]})
    with pytest.raises(ValueError, match="paired_on: units"):
        compare_groups(dup, "y", "g", paired_on="id")


def test_compare_groups_paired_drops_unmatched_units():
    df = pd.DataFrame(
        {
            "g": ["a"] * 5 + ["b"] * 4,
            "id": [1, 2, 3, 4, 5, 1, 2, 3, 4],
            "y": [1.0, 2.0, 3.0, 4.0, 5.0, 2.0, 2.5, 4.5, np.nan],
        }
    )
    row = compare_groups(df, "y", "g", reference="a", paired_on="id").iloc[0]
    assert row["n"] == 3  # ids 1, 2, 3
    assert row["n_omitted"] == 9 - 2 * 3
    assert row["diff"] == pytest.approx(np.mean([1.0, 0.5, 1.5]))
