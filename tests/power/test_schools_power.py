"""Trials randomizing the model's schools, or classes within them; the school level's cost."""

import numpy as np
import pytest

from toolkit.engine import simulate_arms
from toolkit.model import Parameters, classroom_seed
from toolkit.power import ModelTrial, parse_power
from toolkit.power.closed_form import clusters_for_power, schools_for_power
from toolkit.power.schools import ThreeLevelComponents, school_level_cost
from toolkit.study import StudyError
from toolkit.synthetic import SurveyDesign

P = Parameters(n_students=10, n_days=10, classrooms_per_school=3)


@pytest.fixture(scope="module")
def nested_pool():
    """24 classrooms in 8 schools of 3, under two regimes, with the runner's school column."""
    seeds = [classroom_seed(8, i) for i in range(24)]
    pool = simulate_arms({"individualized": "individualized", "personal": "personal"}, P, seeds)
    return pool.assign(school=pool["classroom"] // 3)


def test_school_randomized_trials_draw_whole_model_schools(nested_pool):
    design = SurveyDesign(scales=(), test_reliability=0.8)
    trial = ModelTrial(nested_pool, "individualized", "personal", design, randomize="school")
    data = trial(4, np.random.default_rng(3))
    rooms = data.groupby("school")["replicate"].unique()
    assert len(rooms) == 4
    for r in rooms:  # each survey school is one model school, all three of its classrooms
        assert len(r) == 3 and len(set(np.asarray(r) // 3)) == 1
    assert (data.groupby("school")["arm"].nunique() == 1).all()
    assert data.groupby("arm")["school"].nunique().to_dict() == {"individualized": 2, "personal": 2}
    with pytest.raises(ValueError, match="pool's schools but it has 8"):
        trial(10, np.random.default_rng(3))


def test_class_in_school_trials_put_both_arms_in_every_school(nested_pool):
    design = SurveyDesign(scales=(), test_reliability=0.8)
    trial = ModelTrial(
        nested_pool, "individualized", "personal", design, randomize="class_in_school"
    )
    data = trial(6, np.random.default_rng(4))
    model_school = data["replicate"] // 3
    assert model_school.nunique() == 6
    arms = data.groupby(model_school)["arm"].agg(lambda a: sorted(set(a)))
    assert all(a == ["individualized", "personal"] for a in arms)
    per = data.groupby([model_school, "arm"])["replicate"].nunique().unstack()
    assert (per["individualized"] == 1).all() and (per["personal"] == 2).all()
    out = trial.analysis(spread=False)(data)
    # school fixed effects: the treatment test has classes - schools - 1 - (pretest) df
    assert out["effect_df"] <= 18 - 6 - 1
    assert np.isfinite(out["effect"]) and 0 <= out["effect_p"] <= 1
    with pytest.raises(ValueError, match="needs the model's schools"):
        ModelTrial(nested_pool.drop(columns="school"), "individualized", "personal", design,
                   randomize="class_in_school")  # fmt: skip


def test_school_level_cost_rows():
    comp = ThreeLevelComponents(0.1, 0.1, 0.5, 0.5, 0.5, 20.0, 3.0, 40, 120, 2400)
    plain = school_level_cost(comp, 0.25, classes_per_school=3, covariate=False)
    rows = plain.set_index("design")
    assert rows.loc["classes, one per school", "units"] == clusters_for_power(0.25, 20, 0.2)
    assert rows.loc["classes, no school level", "units"] == clusters_for_power(0.25, 20, 0.1)
    k = schools_for_power(0.25, classes_per_school=3, n_per_class=20, icc_school=0.1, icc_class=0.1)
    assert rows.loc["schools", "units"] == k
    assert rows.loc["schools", "classes"] == 3 * k
    # the school level costs school-randomized trials, not blocked ones
    assert rows.loc["schools", "units"] > rows.loc["schools, no school level", "units"]
    assert (
        rows.loc["classes within schools", "units"] <= rows.loc["schools, no school level", "units"]
    )
    assert np.allclose(plain["mde"], 0.25, atol=0.02)  # the MDE at the units needed
    adjusted = school_level_cost(comp, 0.25, classes_per_school=3).set_index("design")
    assert (adjusted["units"] < rows["units"]).all()
    none = ThreeLevelComponents(0.0, 0.1, 0.5, 0.5, 0.5, 20.0, 3.0, 40, 120, 2400)
    r0 = school_level_cost(none, 0.25, covariate=False).set_index("design")["units"]
    assert r0["schools"] == r0["schools, no school level"]
    assert r0["classes, one per school"] == r0["classes, no school level"]


def test_power_study_randomizing_classes_within_schools():
    def data(**study):
        return {
            "study": {"name": "p", "seed": 1, "classrooms": 12, "reference": "a"} | study,
            "arms": {"a": "standardized", "b": "personal"},
            "power": {"randomize": "class_in_school", "sizes": [4], "replications": 10},
        }

    assert parse_power(data(schools=4)).randomize == "class_in_school"
    with pytest.raises(StudyError, match="give \\[study\\] schools"):
        parse_power(data())
    bad = data(schools=4)
    bad["power"]["sizes"] = [6]
    with pytest.raises(StudyError, match="'schools' = 4 is the pool"):
        parse_power(bad)
