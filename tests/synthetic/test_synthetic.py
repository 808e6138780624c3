"""The synthetic survey layer: scales with the asked reliability, tests, sampling, nonresponse."""

import numpy as np
import pandas as pd
import pytest

from toolkit.engine import simulate_arms
from toolkit.model import Parameters, classroom_seed
from toolkit.survey import cronbach_alpha, icc, mixed_model, score_items
from toolkit.synthetic import (
    ItemParameters,
    ScaleSpec,
    SurveyDesign,
    add_interest,
    grm_probabilities,
    grm_responses,
    items_for_reliability,
    observed_scores,
    population_alpha,
    survey_reference,
    synthetic_survey,
)


@pytest.fixture(scope="module")
def pool():
    p = Parameters(n_students=20, n_days=40)
    seeds = [classroom_seed(11, i) for i in range(60)]
    df = simulate_arms({"standardized": "standardized", "personal": "personal"}, p, seeds)
    return add_interest(df, p, 11)


@pytest.mark.parametrize(("reliability", "n_items"), [(0.7, 4), (0.85, 6), (0.92, 10)])
def test_alpha_of_synthetic_scale_matches_the_reliability_asked_for(reliability, n_items):
    items = items_for_reliability(reliability, n_items)
    assert population_alpha(items) == pytest.approx(reliability, abs=1e-9)
    rng = np.random.default_rng(5)
    theta = rng.standard_normal(30_000)
    x = grm_responses(theta, items, rng)
    res = cronbach_alpha(pd.DataFrame(x, columns=[f"i{j}" for j in range(n_items)]))
    ase = float(res.total["ase"].iloc[0])
    assert abs(res.alpha - reliability) < 4 * ase + 1e-3, (res.alpha, reliability, ase)


def test_grm_category_probabilities_sum_to_one_and_match_draws():
    items = ItemParameters.spread(3, 1.3)
    p = grm_probabilities([-1.0, 0.5], items)
    assert np.allclose(p.sum(axis=2), 1.0)
    assert (p >= 0).all()
    rng = np.random.default_rng(0)
    x = grm_responses(np.full(100_000, 0.5), items, rng)
    freq = np.array([(x[:, 1] == k).mean() for k in range(1, 6)])
    assert np.allclose(freq, p[1, 1], atol=0.005)


def test_unreachable_reliability_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot be reached with 2 items"):
        items_for_reliability(0.99, 2, thresholds=[0.0])


def test_observed_scores_have_the_reliability_asked_for():
    rng = np.random.default_rng(3)
    t = 0.3 + 0.9 * rng.standard_normal(100_000)
    a = observed_scores(t, 0.75, rng, true_sd=0.9)
    b = observed_scores(t, 0.75, rng, true_sd=0.9)
    assert np.corrcoef(a, b)[0, 1] == pytest.approx(0.75, abs=0.01)  # parallel forms
    assert np.var(t) / np.var(a) == pytest.approx(0.75, abs=0.01)


def test_synthetic_survey_scales_reach_their_alpha_on_model_students(pool):
    design = SurveyDesign(
        scales=(
            ScaleSpec("eng", "engagement", n_items=6, reliability=0.85, reverse=(3,)),
            ScaleSpec("int", "interest", n_items=5, reliability=0.75, transform="none"),
        )
    )
    data = synthetic_survey(pool, design, rng=1)
    eng = cronbach_alpha(data, data.attrs["keys"]["eng"])
    assert eng.alpha == pytest.approx(0.85, abs=0.02)
    assert cronbach_alpha(data, data.attrs["keys"]["int"]).alpha == pytest.approx(0.75, abs=0.025)
    # reverse-keyed item correlates negatively with the rest before keying
    assert np.corrcoef(data["eng_3"], data["eng_1"])[0, 1] < 0
    scores = score_items(data, data.attrs["keys"]).scores
    truth = pool.sort_values(["arm", "classroom", "student"])["engagement"].to_numpy()
    assert np.corrcoef(scores["eng"], truth)[0, 1] > 0.85


def test_synthetic_survey_test_scores_and_icc(pool):
    one = pool[pool.arm == "standardized"]
    design = SurveyDesign(test_reliability=0.8, scales=())
    data = synthetic_survey(one, design, rng=2, keep_truth=True)
    truth = icc(data, "true_posttest", "class")
    obs = icc(data, "posttest", "class")
    # error variance adds to the within-class part only: tau / (tau + sigma2 + sigma_e2)
    sd_t = one["core_end"].std(ddof=1)
    sigma_e2 = sd_t**2 * (1 - 0.8) / 0.8
    expected = truth.tau00[0] / (truth.tau00[0] + truth.sigma2[0] + sigma_e2)
    assert obs.icc[0] == pytest.approx(expected, abs=0.04)
    m = mixed_model(data, "posttest ~ pretest + (1 | class)")
    assert m.fixed.loc[1, "estimate"] > 0.5


def test_sampling_nonresponse_and_schools(pool):
    design = SurveyDesign(
        students_per_class=12,
        classes_per_school=4,
        class_response=0.9,
        student_response=0.7,
        response_slope=1.0,
        scales=(),
    )
    data = synthetic_survey(pool, design, rng=3)
    info = data.attrs["response"]
    assert info["schools"] == 2 * 60 // 4
    assert data.groupby("class").size().max() <= 12
    assert data.groupby("school")["class"].nunique().max() <= 4
    # each school holds one arm only
    assert (data.groupby("school")["arm"].nunique() == 1).all()
    answered_post = data["posttest"].notna().sum() / info["students_sampled"]
    assert answered_post == pytest.approx(0.7, abs=0.04)
    # missing at random given engagement: responders are more engaged than the sampled
    full = synthetic_survey(pool, design.replace(student_response=1.0), rng=3, keep_truth=True)
    resp = synthetic_survey(pool, design, rng=3, keep_truth=True)
    assert "trait_eng" not in resp  # no scales asked for
    merged = resp.merge(
        pool[["arm", "classroom", "student", "engagement"]],
        left_on=["arm", "replicate", "student"],
        right_on=["arm", "classroom", "student"],
    )
    assert merged.loc[merged.posttest.notna(), "engagement"].mean() > pool.engagement.mean()
    assert len(full) == info["students_sampled"]


def test_synthetic_survey_is_deterministic_and_uses_one_reference(pool):
    design = SurveyDesign(student_response=0.8)
    ref = survey_reference(pool, design)
    a = synthetic_survey(pool, design, rng=9, reference=ref)
    b = synthetic_survey(pool, design, rng=9, reference=ref)
    pd.testing.assert_frame_equal(a, b)
    c = synthetic_survey(pool, design, rng=10, reference=ref)
    assert not a["posttest"].equals(c["posttest"])


def test_bad_input_names_the_column(pool):
    with pytest.raises(ValueError, match="'motivation'"):
        synthetic_survey(pool, SurveyDesign(scales=(ScaleSpec("m", "motivation"),)))
    with pytest.raises(ValueError, match="several school years"):
        synthetic_survey(pd.concat([pool, pool.assign(year=1)]))
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        synthetic_survey(pool, SurveyDesign(scales=(ScaleSpec("i", "interest"),)))
    with pytest.raises(ValueError, match="waves"):
        SurveyDesign(waves=3)
