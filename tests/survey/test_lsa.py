"""Replicate weights and plausible values against R's survey 4.1-1 and mitools 2.4.

tests/reference/survey_lsa.R builds PISA-like (80 Fay replicates, k = 0.5) and TIMSS-like
(JK2, 150 or 75 replicates) weights for mitools' pisamaths, and uses survey's own examples
(apiclus1 with JK1, scd with BRR). All estimates and SEs agree with R to about 1e-11; the tests
allow 1e-8 (relative to the magnitude: scores are in the hundreds).
"""

import numpy as np
import pandas as pd
import pytest

from toolkit.metrics import gini, percentile_gap
from toolkit.survey import (
    jackknife_design,
    lsa_cor,
    lsa_mean,
    lsa_percent,
    lsa_quantile,
    lsa_regression,
    lsa_spread,
    pirls_design,
    pisa_design,
    replicate_design,
    rubin_combine,
    timss_design,
    with_replicates,
)

ATOL = 1e-8


def _design(pisa_rw, name):
    return pisa_design(pisa_rw) if name == "pisa" else timss_design(pisa_rw, cycle=2019)


def test_pisamaths_is_mitools_pisamaths(pisa_rw, ref_lsa):
    check = ref_lsa["check"]
    assert len(pisa_rw) == check["n"]
    assert pisa_rw["SCHOOLID"].nunique() == check["n_schools"]
    assert pisa_rw["W_FSTUWT"].sum() == pytest.approx(check["sum_w"])
    assert pisa_rw["PV1MATH"].sum() == pytest.approx(check["sum_pv1"])


@pytest.mark.parametrize("name", ["pisa", "timss"])
def test_means_and_sd_with_plausible_values(pisa_rw, ref_lsa, name, close):
    ref = ref_lsa[name]
    des = _design(pisa_rw, name)
    res = lsa_mean(des, "PV@MATH")
    # R: MIcombine(withPV(MATH ~ PV1MATH + ... + PV5MATH, des, svymean(~MATH, design)))
    mean, sd = res.iloc[0], res.iloc[1]
    close(mean["estimate"], ref["mean"]["estimate"], ATOL, "mean")
    close(mean["se"], ref["mean"]["se"], ATOL, "se")
    close(mean["sampling_var"], np.mean(ref["mean"]["per_pv_var"]), ATOL, "mean sampling variance")
    close(mean["imputation_var"], np.var(ref["mean"]["per_pv"], ddof=1), ATOL, "between")
    assert mean["n_pv"] == 5 and mean["n"] == 4291
    # R: withReplicates(design, function(w, data) weighted population SD)
    close(sd["estimate"], ref["sd"]["estimate"], ATOL, "sd")
    close(sd["se"], ref["sd"]["se"], ATOL, "sd se")
    by = lsa_mean(des, "PV@MATH", by="ST04Q01", sd=False)
    assert by["ST04Q01"].tolist() == ["Female", "Male"]
    close(by["estimate"], ref["mean_by_gender"]["estimate"], ATOL, "mean by gender")
    close(by["se"], ref["mean_by_gender"]["se"], ATOL, "se by gender")


@pytest.mark.parametrize("name", ["pisa", "timss"])
@pytest.mark.parametrize("rule", ["math", "hmisc"])
def test_percentiles(pisa_rw, ref_lsa, name, rule, close):
    ref = ref_lsa[name][f"quantile_{rule}"]
    # R: withReplicates(des, function(w, d) survey:::qrule_math(d$MATH, w, p)) and
    #    Hmisc::wtd.quantile(d$MATH, w, p), pooled with withPV / MIcombine
    res = lsa_quantile(_design(pisa_rw, name), "PV@MATH", q=[10, 50, 90], qrule=rule)
    assert res["statistic"].tolist() == ["p10", "p50", "p90"]
    close(res["estimate"], ref["estimate"], ATOL, "percentiles")
    close(res["se"], ref["se"], ATOL, "percentile SEs")


@pytest.mark.parametrize("name", ["pisa", "timss"])
def test_correlation_regression_percent(pisa_rw, ref_lsa, name, close):
    ref = ref_lsa[name]
    des = _design(pisa_rw, name)
    cor = lsa_cor(des, "MATHEFF", "PV@MATH").iloc[0]
    close(cor["estimate"], ref["cor_matheff"]["estimate"], ATOL, "r")
    close(cor["se"], ref["cor_matheff"]["se"], ATOL, "r se")
    cor2 = lsa_cor(des, "MATHEFF", "OPENPS").iloc[0]
    close(cor2["estimate"], ref["cor_matheff_openps"]["estimate"], ATOL, "r (no PV)")
    close(cor2["se"], ref["cor_matheff_openps"]["se"], ATOL, "r se (no PV)")
    # R: MIcombine(withPV(..., svyglm(MATH ~ ST04Q01 + MATHEFF, design)))
    reg = lsa_regression(des, "PV@MATH", ["ST04Q01", "MATHEFF"])
    assert reg["statistic"].tolist() == ["(Intercept)", "ST04Q01Male", "MATHEFF", "r2"]
    close(reg["estimate"].iloc[:3], ref["regression"]["estimate"], ATOL, "coefficients")
    close(reg["se"].iloc[:3], ref["regression"]["se"], ATOL, "coefficient SEs")
    assert 0 < reg["estimate"].iloc[3] < 1
    # R: svymean(~ABGMATH, des, na.rm = TRUE) and svyby(~ABGMATH, ~ST04Q01, ...)
    pct = lsa_percent(des, "ABGMATH")
    close(pct["estimate"] / 100, ref["percent"]["estimate"], ATOL, "percent")
    close(pct["se"] / 100, ref["percent"]["se"], ATOL, "percent se")
    assert pct["estimate"].sum() == pytest.approx(100)
    by = lsa_percent(des, "ABGMATH", by="ST04Q01")
    r_est = np.array(ref["percent_by_gender"]["estimate"]).reshape(3, 2).T  # svyby order
    close(by["estimate"].to_numpy().reshape(2, 3) / 100, r_est, ATOL, "percent by gender")
    close(by["se"].to_numpy().reshape(2, 3) / 100, ref["percent_by_gender"]["se"], ATOL, "se")
    me = lsa_mean(des, "MATHEFF", sd=False).iloc[0]
    close(me["estimate"], ref["mean_matheff"]["estimate"], ATOL, "mean with NA")
    close(me["se"], ref["mean_matheff"]["se"], ATOL, "se with NA")
    assert me["n"] == 4291 - 1501


@pytest.mark.parametrize("name", ["pisa", "timss"])
def test_weighted_spread(pisa_rw, ref_lsa, name, close):
    ref = ref_lsa[name]["spread"]
    # R: Lorenz-curve Gini and Hmisc percentile gaps via withReplicates, pooled over PVs
    res = lsa_spread(_design(pisa_rw, name), "PV@MATH").set_index("statistic")
    close(res.loc[["gini", "p90_p10", "p75_p25"], "estimate"], ref["estimate"], ATOL, "spread")
    close(res.loc[["gini", "p90_p10", "p75_p25"], "se"], ref["se"], ATOL, "spread se")


def test_spread_with_unit_weights_equals_metrics_module(pisa_rw):
    x = pisa_rw["PV1MATH"].to_numpy()
    ones = pisa_rw.assign(one=1.0)
    des = replicate_design(ones, "one", np.ones((len(x), 2)), method="brr")
    with pytest.warns(UserWarning, match="SE is 0"):  # the replicates equal the final weight
        res = lsa_spread(des, "PV1MATH").set_index("statistic")["estimate"]
    assert res["gini"] == pytest.approx(gini(x), abs=1e-12)
    assert res["p90_p10"] == pytest.approx(percentile_gap(x, 90, 10), abs=1e-9)
    assert res["p75_p25"] == pytest.approx(percentile_gap(x, 75, 25), abs=1e-9)
    assert res["sd"] == pytest.approx(np.std(x), abs=1e-9)


def test_integer_weights_act_as_frequencies():
    x = np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0])
    w = np.array([2, 1, 3, 1, 1, 2])
    df = pd.DataFrame({"x": x, "w": w.astype(float)})
    des = replicate_design(df, "w", np.column_stack([w, w]).astype(float), method="brr")
    with pytest.warns(UserWarning, match="SE is 0"):  # the replicates equal the final weight
        res = lsa_spread(des, "x").set_index("statistic")["estimate"]
    rep = np.repeat(x, w)
    assert res["gini"] == pytest.approx(gini(rep))
    assert res["p90_p10"] == pytest.approx(percentile_gap(rep, 90, 10))


def test_old_timss_uses_first_pv_for_sampling_variance(pisa_rw, ref_lsa, close):
    ref = ref_lsa["timss_old_mean"]
    des = timss_design(pisa_rw, cycle=2011)
    assert des.n_replicates == 75 and des.scale == 1.0 and des.pv_sampling == "first"
    res = lsa_mean(des, "PV@MATH", sd=False).iloc[0]
    close(res["estimate"], ref["estimate"], ATOL, "mean")
    close(res["se"], ref["se"], ATOL, "se")
    close(res["sampling_var"], ref["sampling_var"], ATOL, "U from PV1")
    close(res["imputation_var"], ref["imputation_var"], ATOL, "B")
    assert pirls_design(pisa_rw, cycle=2011).n_replicates == 75
    assert pirls_design(pisa_rw, cycle=2016).n_replicates == 150


def test_survey_example_apiclus1_jk1(ref_lsa, reference_dir, close):
    ref = ref_lsa["apiclus1"]
    api = pd.read_csv(reference_dir / "survey_apiclus1_jk1.csv")
    # R: rclus1 <- as.svrepdesign(svydesign(id = ~dnum, weights = ~pw, data = apiclus1,
    #    fpc = ~fpc)); svymean(~api00, rclus1)  (type JK1, mse = FALSE)
    des = replicate_design(
        api, "pw", r"repw\d+", method="other", scale=ref["scale"], mse=ref["mse"], n_replicates=15
    )
    res = lsa_mean(des, "api00", sd=False).iloc[0]
    close(res["estimate"], ref["mean"], ATOL, "mean")
    close(res["se"], ref["se"], ATOL, "se")
    by = lsa_mean(des, "api00", by="stype", sd=False)
    close(by["estimate"], ref["by_stype"]["mean"], ATOL, "by stype")
    close(by["se"], ref["by_stype"]["se"], ATOL, "se by stype")
    mse = replicate_design(
        api, "pw", r"repw\d+", method="other", scale=ref["scale"], n_replicates=15
    )
    close(lsa_mean(mse, "api00", sd=False)["se"].iloc[0], ref["se_mse"], ATOL, "se mse")


def test_survey_example_scd_brr(ref_lsa, close):
    ref = ref_lsa["scd"]
    scd = pd.DataFrame(ref["data"]).assign(w=1.0)
    # R: svrepdesign(data = scd, type = "BRR", repweights = ..., combined.weights = FALSE)
    des = replicate_design(
        scd, "w", np.array(ref["repweights"], dtype=float), method="brr", mse=ref["mse"]
    )
    assert des.scale == pytest.approx(ref["scale"])
    close(lsa_mean(des, "alive", sd=False)["se"], [ref["se"][0]], ATOL, "alive")
    close(lsa_mean(des, "arrests", sd=False)["se"], [ref["se"][1]], ATOL, "arrests")


def test_rubin_combine_matches_micombine(ref_lsa):
    ref = ref_lsa["micombine"]
    res = rubin_combine([1.0, 1.5, 1.2, 0.9, 1.4], [0.04, 0.05, 0.045, 0.05, 0.04]).iloc[0]
    assert res["estimate"] == pytest.approx(ref["estimate"])
    assert res["se"] == pytest.approx(ref["se"])
    assert res["df"] == pytest.approx(ref["df"])
    assert res["fmi"] == pytest.approx(ref["missinfo"])
    # SE = sqrt(U + (1 + 1/M) B)
    assert res["se"] ** 2 == pytest.approx(0.045 + 1.2 * np.var([1.0, 1.5, 1.2, 0.9, 1.4], ddof=1))


def test_closed_form_jackknife_of_a_mean():
    rng = np.random.default_rng(20240611)
    y = rng.normal(50, 10, size=25)
    n = y.size
    df = pd.DataFrame({"y": y, "w": 1.0})
    jk = n / (n - 1) * (1 - np.eye(n))  # delete-one jackknife
    for mse in (True, False):
        des = replicate_design(df, "w", jk, method="jk1", mse=mse)
        res = lsa_mean(des, "y", sd=False).iloc[0]
        assert res["estimate"] == pytest.approx(y.mean())
        assert res["se"] == pytest.approx(y.std(ddof=1) / np.sqrt(n))


def test_with_replicates_equals_vectorised_estimators(pisa_rw):
    des = pisa_design(pisa_rw)

    def mean_math(d, w):
        return np.average(d["MATH"], weights=w)

    generic = with_replicates(des, mean_math, pv={"MATH": "PV@MATH"}).iloc[0]
    fast = lsa_mean(des, "PV@MATH", sd=False).iloc[0]
    assert generic["estimate"] == pytest.approx(fast["estimate"])
    assert generic["se"] == pytest.approx(fast["se"])
    named = with_replicates(
        des, lambda d, w: pd.Series({"share": np.average(d["ST04Q01"] == "Male", weights=w)})
    )
    assert named["statistic"].tolist() == ["share"]


def test_pv_list_equals_pattern(pisa_rw):
    des = pisa_design(pisa_rw)
    a = lsa_mean(des, [f"PV{i}MATH" for i in range(1, 6)])
    b = lsa_mean(des, "PV@MATH")
    pd.testing.assert_frame_equal(a.drop(columns="variable"), b.drop(columns="variable"))


def test_design_errors(pisa_rw):
    with pytest.raises(ValueError, match="W_FSTR"):
        pisa_design(pisa_rw.drop(columns="W_FSTURWT80"))
    bad = pisa_rw.assign(JKREP=pisa_rw["JKREP"] * 2)
    with pytest.raises(ValueError, match="must be 0 or 1"):
        timss_design(bad)
    with pytest.raises(ValueError, match="needs an explicit scale"):
        replicate_design(pisa_rw, "W_FSTUWT", r"W_FSTURWT\d+", method="other")
    with pytest.raises(ValueError, match="no columns match"):
        lsa_mean(pisa_design(pisa_rw), "PV@READ")
    w = pisa_rw.assign(W_FSTUWT=pisa_rw["W_FSTUWT"].where(pisa_rw.index != 7))
    with pytest.raises(ValueError, match=r"missing or negative in rows \[7\]"):
        pisa_design(w)
    with pytest.raises(ValueError, match="the design has n_pv=5"):
        lsa_cor(pisa_design(pisa_rw), ["PV1MATH", "PV2MATH"], "PV@MATH")
    ten = pisa_rw.assign(**{f"PV{m}MATH": pisa_rw["PV1MATH"] for m in range(6, 11)})
    no_count = replicate_design(ten, "W_FSTUWT", r"W_FSTURWT\d+", method="fay")
    with pytest.raises(ValueError, match="different lengths"):
        lsa_cor(no_count, [f"PV{m}MATH" for m in range(1, 6)], "PV@MATH")
    with pytest.raises(ValueError, match=r"2 plausible values .* not 5, 10 or 20"):
        lsa_mean(no_count, ["PV1MATH", "PV2MATH"])


def test_jackknife_built_from_strata_and_clusters(pisa_rw, ref_lsa, reference_dir, close):
    # R: as.svrepdesign(svydesign(ids = ~SCHOOLID, strata = ~STRATUM2, weights = ~W_FSTUWT),
    #    type = "JKn"), strata collapsed to NZL01 / NZL02 (NZL0102 has one school)
    pm = pisa_rw.assign(STRATUM2=pisa_rw["STRATUM"].str[:5])
    des = jackknife_design(pm, "W_FSTUWT", "SCHOOLID", "STRATUM2")
    assert des.n_replicates == 177
    res = lsa_mean(des, "PV@MATH", sd=False).iloc[0]
    close(res["estimate"], ref_lsa["jkn"]["estimate"], ATOL, "JKn mean")
    close(res["se"], ref_lsa["jkn"]["se"], ATOL, "JKn se")
    nomse = jackknife_design(pm, "W_FSTUWT", "SCHOOLID", "STRATUM2", mse=False)
    close(lsa_mean(nomse, "PV1MATH", sd=False)["se"], [ref_lsa["jkn_pv1_nomse"]["se"]], ATOL, "")
    api = pd.read_csv(reference_dir / "survey_apiclus1_jk1.csv")
    jk1 = jackknife_design(api, "pw", "dnum")
    close(lsa_mean(jk1, "api00", sd=False)["se"], [ref_lsa["apiclus1_jk1_built"]["se"]], ATOL, "")
    with pytest.raises(ValueError, match="single cluster"):
        jackknife_design(pm, "W_FSTUWT", "SCHOOLID", "STRATUM")


def test_zero_replicate_se_is_reported_not_raised():
    # a constant replicate design (every replicate weight equals the final weight)
    df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 7], "x": [0.0, 1, 0, 1, 2, 1], "w": 1.0})
    des = replicate_design(df, "w", np.ones((6, 4)), method="jk1", n_replicates=4)
    with pytest.warns(UserWarning, match=r"lsa_regression: SE is 0 for \(Intercept\), x, r2"):
        reg = lsa_regression(des, "y", "x")
    assert reg["se"].tolist() == [0.0, 0.0, 0.0]
    assert reg["estimate"].iloc[1] == pytest.approx(np.polyfit(df["x"], df["y"], 1)[0])
    assert reg["t_value"].isna().all()
    assert (reg["ci_low"] == reg["estimate"]).all()
    with pytest.warns(UserWarning, match="with_replicates: SE is 0 for stat0"):
        generic = with_replicates(des, lambda d, w: np.average(d["y"], weights=w))
    assert generic["se"].iloc[0] == 0.0


def test_degenerate_subgroups_give_nan_se_with_a_warning():
    # group "a" lies inside school 1: the replicate that deletes school 1 gives it no weight
    df = pd.DataFrame(
        {
            "school": [1, 1, 2, 2, 3, 3],
            "g": ["a", "a", "b", "b", "b", "b"],
            "y": [1.0, 2, 3, 4, 5, 7],
            "x": [0.0, 1, 0, 1, 1, 0],
            "w": 1.0,
        }
    )
    des = jackknife_design(df, "w", "school")
    calls = {
        "lsa_mean": lambda: lsa_mean(des, "y", by="g"),
        "lsa_quantile": lambda: lsa_quantile(des, "y", q=[50], by="g"),
        "lsa_spread": lambda: lsa_spread(des, "y", by="g"),
        "lsa_cor": lambda: lsa_cor(des, "y", "x", by="g"),
        "lsa_percent": lambda: lsa_percent(des, "x", by="g"),
        "lsa_regression": lambda: lsa_regression(des, "y", "x", by="g"),
    }
    for name, call in calls.items():
        with pytest.warns(UserWarning, match=rf"{name}: SE undefined \(NaN\) for .*g='a'"):
            res = call()
        a = res[res["g"] == "a"]
        assert a["se"].isna().all() and a["estimate"].notna().all(), name
        assert res.loc[res["g"] == "b", "se"].notna().all(), name


def test_replicate_pattern_count_is_checked(pisa_rw):
    pattern = r"W_FSTURWT\d+"
    # one of 80 Fay replicates dropped at the end: 79 is not a Hadamard order
    with pytest.raises(ValueError, match=r"matches 79 columns.*multiple of 4"):
        replicate_design(pisa_rw.drop(columns="W_FSTURWT80"), "W_FSTUWT", pattern)
    # ... or in the middle: the numbering has a gap
    with pytest.raises(ValueError, match=r"numbered 1..80 but number\(s\) \[37\] are missing"):
        replicate_design(pisa_rw.drop(columns="W_FSTURWT37"), "W_FSTUWT", pattern)
    with pytest.raises(ValueError, match="matches 80 replicate weights, n_replicates=79"):
        replicate_design(pisa_rw, "W_FSTUWT", pattern, n_replicates=79)
    # Fay weights under a jackknife formula: refused, whatever the count
    with pytest.raises(ValueError, match=r"method='jk1' does not fit.*looks like Fay's BRR"):
        replicate_design(pisa_rw, "W_FSTUWT", pattern, method="jk1", n_replicates=80)
    # JK2 has no count implied by the weights: the number must be given
    with pytest.raises(ValueError, match="pass n_replicates="):
        replicate_design(pisa_rw, "W_FSTUWT", pattern, method="other", scale=0.05)
    des = replicate_design(pisa_rw, "W_FSTUWT", pattern, method="fay", fay_k=0.5)
    assert des.n_replicates == 80 and des.scale == pytest.approx(0.05)


def test_plausible_value_count_is_checked(pisa_rw):
    ten = pisa_rw.copy()
    rng = np.random.default_rng(1)
    for m in range(6, 11):
        ten[f"PV{m}MATH"] = ten["PV1MATH"] + rng.normal(0, 20, len(ten))
    for m in range(1, 11):
        ten[f"PV{m}READ"] = ten[f"PV{m}MATH"] + 5.0
    full = pisa_design(ten)
    assert full.n_pv == 10 and "10 PVs" in full.label
    assert lsa_mean(full, "PV@MATH")["n_pv"].tolist() == [10, 10]
    # 9 of 10 plausible values: refused, not pooled over 9
    nine = pisa_design(ten.drop(columns="PV10MATH"))
    with pytest.raises(ValueError, match=r"matches 9 plausible values.*n_pv=10"):
        lsa_mean(nine, "PV@MATH")
    with pytest.raises(ValueError, match=r"numbered 1..10, but \['PV7MATH'\] is missing"):
        lsa_mean(pisa_design(ten.drop(columns="PV7MATH")), "PV@MATH")
    with pytest.raises(ValueError, match="n_pv=10"):
        lsa_regression(nine, [f"PV{m}MATH" for m in range(1, 10)], "MATHEFF")
    with pytest.raises(ValueError, match="n_pv=5"):
        lsa_mean(timss_design(ten), "PV@MATH")
    # a design built without a count still refuses gaps
    plain = replicate_design(ten.drop(columns="PV2READ"), "W_FSTUWT", r"W_FSTURWT\d+")
    assert plain.n_pv is None
    with pytest.raises(ValueError, match=r"\['PV2READ'\] is missing"):
        lsa_quantile(plain, "PV@READ")


def test_no_complete_rows_names_the_column(pisa_rw):
    des = pisa_design(pisa_rw.assign(MATHEFF=np.nan))
    with pytest.raises(ValueError, match=r"x 'MATHEFF': no row has all of \['MATHEFF'\]"):
        lsa_mean(des, "MATHEFF")
    partly = pisa_rw.assign(MATHEFF=pisa_rw["MATHEFF"].where(pisa_rw["ST04Q01"] == "Male"))
    with pytest.raises(ValueError, match=r"'MATHEFF'.*in the group ST04Q01='Female'"):
        lsa_mean(pisa_design(partly), "MATHEFF", by="ST04Q01")
    with pytest.raises(ValueError, match=r"y 'PV@MATH' with x \['MATHEFF'\]"):
        lsa_regression(des, "PV@MATH", "MATHEFF")


def test_tables_print_estimate_se_and_interval_at_width_80(pisa_rw, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # pandas fits a terminal's width (max_columns 0)
    des = pisa_design(pisa_rw)
    tables = {
        "mean": lsa_mean(des, "PV@MATH", by="ST04Q01"),
        "regression": lsa_regression(des, "PV@MATH", ["ST04Q01", "MATHEFF"]),
        "percent": lsa_percent(des, "ABGMATH", by="ST04Q01"),
        "quantile": lsa_quantile(des, "PV@MATH", by="ST04Q01"),
    }
    for name, table in tables.items():
        assert list(table.columns[table.columns.get_loc("estimate") :][:4]) == [
            "estimate",
            "se",
            "ci_low",
            "ci_high",
        ]
        with pd.option_context("display.width", 80, "display.max_columns", 0):
            text = repr(table)
        header = text.splitlines()[0].split()
        for col in ["estimate", "se", "ci_low", "ci_high"]:
            assert col in header, (name, col, text)
        assert "statistic" in header or "statistic = 'percent'" in text
        assert "ST04Q01" in header or name == "regression"
        assert max(len(line) for line in text.splitlines()) <= 80, text
        assert "not shown:" in text
        # a wide screen shows everything, as pandas does
        monkeypatch.setenv("COLUMNS", "250")
        with pd.option_context("display.width", 250, "display.max_columns", 0):
            assert "not shown" not in repr(table) and "imputation_var" in repr(table)
        monkeypatch.setenv("COLUMNS", "80")
        # outside a terminal (max_columns 20) pandas would wrap at display.width instead
        with pd.option_context("display.width", 80, "display.max_columns", 20):
            assert "estimate" in repr(table).splitlines()[0]
    # the interval is estimate +- z SE, z the normal quantile (R: confint(svyby(...)))
    by = tables["mean"]
    np.testing.assert_allclose(by["ci_high"] - by["estimate"], 1.959963984540054 * by["se"])
    narrow = lsa_mean(des, "PV@MATH", ci=0.9)
    np.testing.assert_allclose(
        narrow["estimate"] - narrow["ci_low"], 1.6448536269514722 * narrow["se"]
    )
