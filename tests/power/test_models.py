"""Random-intercept models with group-specific residual variances, against R's nlme and lme4."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.datasets import load_dataset
from toolkit.power.models import fit_random_intercept, spread_test
from toolkit.survey import mixed_model

REF = json.loads((Path(__file__).parents[1] / "reference" / "power_varident.json").read_text())
TRIAL = Path(__file__).parents[1] / "reference" / "power_trial_data.csv"


def _data(name):
    if name == "nlschools":
        d = load_dataset("nlschools")
        d["COMB"] = d["COMB"].astype(str)
        return d, {"outcome": "lang", "cluster": "class", "treatment": "COMB", "covariates": ["IQ"]}
    d = pd.read_csv(TRIAL)
    return d, {
        "outcome": "posttest",
        "cluster": "class",
        "treatment": "arm",
        "covariates": ["pretest"],
    }


@pytest.mark.parametrize("name", ["nlschools", "trial"])
@pytest.mark.parametrize("method", ["REML", "ML"])
@pytest.mark.parametrize("model", ["homo", "hetero"])
def test_matches_nlme(name, method, model):
    data, kw = _data(name)
    by = kw["treatment"] if model == "hetero" else None
    fit = fit_random_intercept(data, **kw, by=by, reml=method == "REML")
    ref = REF[name][method][model]
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-6)
    # near its boundary the likelihood is flat in tau2: compare on the scale of the variance
    total = ref["tau2"] + max(ref["sigma2"].values())
    assert fit.tau2 == pytest.approx(ref["tau2"], rel=1e-5, abs=1e-6 * total)
    for level, s2 in ref["sigma2"].items():
        got = fit.sigma2[level] if model == "hetero" else fit.sigma2["all"]
        assert got == pytest.approx(s2, rel=1e-5)
    fixed = pd.DataFrame(ref["fixed"])
    assert fit.fixed["term"].tolist() == fixed["term"].tolist()
    for col in ("estimate", "std_error", "t_value"):
        np.testing.assert_allclose(fit.fixed[col], fixed[col], rtol=1e-5)
    np.testing.assert_array_equal(fit.fixed["df"], fixed["df"])
    np.testing.assert_allclose(fit.fixed["p_value"], fixed["p_value"], rtol=1e-4)
    assert fit.nobs == (2287 if name == "nlschools" else REF["trial_n"])


@pytest.mark.parametrize("name", ["nlschools", "trial"])
def test_spread_test_is_nlme_likelihood_ratio(name):
    data, kw = _data(name)
    out = spread_test(
        data, kw["outcome"], kw["cluster"], kw["treatment"], covariates=kw["covariates"]
    )
    ref = REF[name]["REML"]
    assert out["lr"] == pytest.approx(ref["lr"], rel=1e-4, abs=1e-6)
    assert out["spread_p"] == pytest.approx(ref["lr_p"], rel=1e-3)
    s2 = list(ref["hetero"]["sigma2"].values())
    assert out["sd_ratio"] == pytest.approx(np.sqrt(s2[1] / s2[0]), rel=1e-5)
    assert out["effect"] == pytest.approx(ref["homo"]["fixed"][1]["estimate"], rel=1e-5)


def test_one_residual_variance_equals_lme4_through_toolkit_survey():
    data = pd.read_csv(TRIAL)
    data["personalized"] = (data["arm"] == "personalized").astype(float)
    lme4 = mixed_model(data, "posttest ~ personalized + pretest + (1 | class)")
    fit = fit_random_intercept(data, "posttest", "class", treatment="arm", covariates=["pretest"])
    np.testing.assert_allclose(fit.fixed["estimate"], lme4.fixed["estimate"], rtol=1e-5)
    np.testing.assert_allclose(fit.fixed["std_error"], lme4.fixed["std_error"], rtol=1e-4)
    assert fit.loglik == pytest.approx(float(lme4.fit["loglik"].iloc[0]), abs=1e-5)


def test_bad_input_is_named():
    data = pd.read_csv(TRIAL)
    with pytest.raises(ValueError, match="'score'"):
        fit_random_intercept(data, "score", "class")
    with pytest.raises(ValueError, match="exactly two levels"):
        fit_random_intercept(data.assign(arm="x"), "posttest", "class", treatment="arm")
    with pytest.raises(TypeError, match="must be numeric"):
        fit_random_intercept(data, "arm", "class")
