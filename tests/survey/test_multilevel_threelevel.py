"""Three-level random-intercept models (students in classes in schools) against lme4.

The data are the model's own: 60 classrooms nested in 20 schools (``classrooms_per_school =
3``), measured through the synthetic survey layer (tests/reference/survey_threelevel.py).
tests/reference/survey_threelevel.R fits ``(1 | school/class)`` models with lme4 (R 4.2,
lme4 1.1-31; its printout is survey_threelevel.txt, its numbers survey_threelevel.csv);
:func:`toolkit.survey.nested_model` must agree on the variance components, the fixed effects
and the REML criterion.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.survey import nested_icc, nested_model

REF = Path(__file__).parents[1] / "reference"
MODELS = {
    "null": "posttest ~ 1 + (1 | school/class)",
    "pretest": "posttest ~ pretest + (1 | school/class)",
}


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "survey_threelevel_data.csv")


@pytest.fixture(scope="module")
def lme4() -> pd.DataFrame:
    ref = pd.read_csv(REF / "survey_threelevel.csv", keep_default_na=False)  # "null" is a name
    return ref.set_index(["model", "quantity"])["value"]


@pytest.mark.parametrize("name", list(MODELS))
def test_nested_model_agrees_with_lme4(data, lme4, name):
    res = nested_model(data, MODELS[name])
    ref = lme4.loc[name]
    vc = res.random.set_index("grp")["vcov"]
    assert list(vc.index) == ["class:school", "school", "Residual"]
    for grp in vc.index:
        # 1e-4 relative, and 1e-5 absolute for a variance at the boundary (0 in lme4 too)
        assert vc[grp] == pytest.approx(ref[f"vcov:{grp}"], rel=1e-4, abs=1e-5), grp
    fx = res.fixed.set_index("term")
    for term in fx.index:
        assert fx.loc[term, "estimate"] == pytest.approx(ref[f"estimate:{term}"], rel=1e-5)
        assert fx.loc[term, "std_error"] == pytest.approx(ref[f"std_error:{term}"], rel=1e-4)
    fit = res.fit.iloc[0]
    # at or below lme4's criterion (a better optimum), and not by more than 1e-4
    assert fit["reml_criterion"] <= ref["reml_criterion"] + 1e-6
    assert fit["reml_criterion"] == pytest.approx(ref["reml_criterion"], abs=1e-4)
    assert fit["nobs"] == ref["nobs"]
    assert fit["nclasses"] == ref["ngroups:class:school"]
    assert fit["ngroups"] == ref["ngroups:school"]


def test_model_data_have_a_school_and_a_class_level(data, lme4):
    """The model's schools carry through: both levels hold variance in the null model."""
    out = nested_icc(data, "posttest", "school", "class").iloc[0]
    ref = lme4.loc["null"]
    total = ref[["vcov:class:school", "vcov:school", "vcov:Residual"]].sum()
    assert out["icc_school"] == pytest.approx(ref["vcov:school"] / total, rel=1e-4)
    assert out["icc_class"] == pytest.approx(ref["vcov:class:school"] / total, rel=1e-4)
    assert out["icc_school"] > 0.01 and out["icc_class"] > 0.05
    assert out["nschools"] == 20 and out["nclasses"] == 60
    # the design effect of a school mean, 1 + (m n - 1) rho_S + (n - 1) rho_C, at mean sizes
    n, m = out["nobs"] / 60, 3
    deff = 1 + (m * n - 1) * out["icc_school"] + (n - 1) * out["icc_class"]
    assert out["design_effect"] == pytest.approx(deff)


def test_formula_spellings_give_the_same_fit(data):
    a = nested_model(data, "posttest ~ 1 + (1 | school/class)")
    b = nested_model(data, "posttest ~ (1 | school) + (1 | school:class)")
    c = nested_model(data, "posttest ~ 1 + (1 | school) + (1 | class)")  # class ids unique
    for other in (b, c):
        np.testing.assert_allclose(other.random["vcov"], a.random["vcov"], rtol=1e-6)
    assert c.random["grp"].tolist() == ["class", "school", "Residual"]


def test_classes_numbered_within_schools(data):
    """Class labels repeating across schools: the slash form nests them, the plain one refuses."""
    d = data.assign(room=data.groupby("school")["class"].rank(method="dense").astype(int))
    a = nested_model(d, "posttest ~ 1 + (1 | school/room)")
    b = nested_model(data, "posttest ~ 1 + (1 | school/class)")
    np.testing.assert_allclose(a.random["vcov"], b.random["vcov"], rtol=1e-6)
    with pytest.raises(ValueError, match=r"several schools.*school/room"):
        nested_model(d, "posttest ~ 1 + (1 | school) + (1 | room)")


def test_bad_nested_models(data):
    with pytest.raises(ValueError, match="only random intercepts"):
        nested_model(data, "posttest ~ pretest + (1 + pretest | school/class)")
    with pytest.raises(ValueError, match="nested levels"):
        nested_model(data, "posttest ~ 1 + (1 | school)")
    one = data.assign(only=data["school"])
    with pytest.raises(ValueError, match="several classes"):
        nested_model(one, "posttest ~ 1 + (1 | school/only)")
    with pytest.raises(ValueError, match="'nope'"):
        nested_icc(data, "posttest", "nope", "class")
