"""Power of trials drawn from the classroom model, and power study files."""

import json

import numpy as np
import pandas as pd
import pytest

from toolkit.engine import simulate_arms
from toolkit.model import Parameters, classroom_seed
from toolkit.power import ModelTrial, load_power, parse_power, power_curve, run_power
from toolkit.study import StudyError
from toolkit.synthetic import ScaleSpec, SurveyDesign

P = Parameters(n_students=16, n_days=30)


@pytest.fixture(scope="module")
def null_pool():
    """Two arms with the same regime: every difference is sampling."""
    seeds = [classroom_seed(5, i) for i in range(120)]
    return simulate_arms({"a": "standardized", "b": "standardized"}, P, seeds)


@pytest.fixture(scope="module")
def pool():
    seeds = [classroom_seed(6, i) for i in range(60)]
    return simulate_arms({"individualized": "individualized", "personal": "personal"}, P, seeds)


def test_a_trial_is_a_cluster_randomized_sample(pool):
    design = SurveyDesign(students_per_class=12, student_response=0.8, test_reliability=0.8)
    trial = ModelTrial(pool, "individualized", "personal", design, outcome="eng")
    data = trial(20, np.random.default_rng(1))
    assert data["class"].nunique() == 20
    assert (data.groupby("class")["arm"].nunique() == 1).all()
    assert data.groupby("arm")["class"].nunique().to_dict() == {
        "individualized": 10,
        "personal": 10,
    }
    assert data.groupby("class").size().max() <= 12
    assert data["posttest"].isna().mean() == pytest.approx(0.2, abs=0.06)
    assert {"eng", "pretest"} <= set(data.columns)
    assert data["eng"].between(1, 5).all() or data["eng"].isna().any()
    # every classroom appears once, under one arm
    assert data.groupby("replicate")["arm"].nunique().max() == 1
    out = trial.analysis()(data)
    assert {"effect", "effect_p", "spread_p", "log_sd_ratio"} <= set(out)
    # the personal regime is more engaged (headline: +0.23 on the 0-1 scale)
    assert out["effect"] > 0
    with pytest.raises(ValueError, match="pool has 60"):
        trial(80, np.random.default_rng(1))


def test_school_randomization_keeps_schools_in_one_arm(pool):
    design = SurveyDesign(classes_per_school=3, scales=())
    trial = ModelTrial(pool, "individualized", "personal", design, randomize="school")
    data = trial(8, np.random.default_rng(2))
    assert data["school"].nunique() == 8
    assert data.groupby("school")["class"].nunique().eq(3).all()
    assert (data.groupby("school")["arm"].nunique() == 1).all()
    assert trial.cluster == "school"


def test_no_difference_is_rejected_at_the_nominal_rate(null_pool):
    """Type I error of the whole pipeline (sampling, measurement, mixed models) on model data."""
    design = SurveyDesign(
        students_per_class=14, student_response=0.9, response_slope=0.5, scales=()
    )
    trial = ModelTrial(null_pool, "a", "b", design)
    r = 300
    curve = power_curve(trial, trial.analysis(), [24], r, seed=12)
    se = np.sqrt(0.05 * 0.95 / r)
    row = curve.table.iloc[0]
    assert abs(row["power_effect"] - 0.05) <= 3 * se
    assert abs(row["power_spread"] - 0.05) <= 3 * se
    assert abs(row["effect_mean"]) < 3 * row["effect_sd"] / np.sqrt(r)


SMALL = """
[study]
name = "tiny-power"
seed = 3
classrooms = 30
reference = "individualized"
[arms]
individualized = "individualized"
personalized = "personalized"
[parameters]
n_students = 12
n_days = 20
[power]
sizes = [6, 10]
replications = 12
outcomes = ["posttest", "eng"]
[survey]
waves = 2
test_reliability = 0.8
students_per_class = 10
[[survey.scales]]
name = "eng"
trait = "engagement"
n_items = 4
reliability = 0.8
reverse = [2]
[output]
formats = ["png"]
"""


def test_run_power_writes_tables_figures_and_resumes(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(SMALL)
    spec = load_power(path)
    assert spec.treatment == "personalized"
    assert spec.survey.scales[0].reverse == (2,)
    out = tmp_path / "run"
    res = run_power(spec, out, progress=False)
    assert set(res.table["outcome"]) == {"posttest", "eng"}
    assert set(res.needed["test"]) == {"mean", "spread"}
    names = sorted(p.name for p in (out / "figures").iterdir())
    assert names == [
        "power_eng_effect.png",
        "power_eng_spread.png",
        "power_posttest_effect.png",
        "power_posttest_spread.png",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    with pytest.raises(StudyError, match="already holds a power run"):
        run_power(spec, out, progress=False)
    import dataclasses

    # the runs below are compared by their tables: no charts (the output options are not part
    # of what a resumed run must match; the first run's charts are checked above)
    quiet = dataclasses.replace(spec, study=dataclasses.replace(spec.study, formats=()))
    again = run_power(quiet, out, resume=True, progress=False)
    pd.testing.assert_frame_equal(res.table, again.table)
    fresh = run_power(quiet, tmp_path / "fresh", progress=False)
    pd.testing.assert_frame_equal(res.table, fresh.table)
    # sizes can be added to a run: the sizes already simulated are read back
    more = run_power(
        dataclasses.replace(quiet, sizes=(6, 10, 14)), out, resume=True, progress=False
    )
    assert sorted(more.table["size"].unique()) == [6, 10, 14]
    pd.testing.assert_frame_equal(
        more.table[more.table["size"] < 14].reset_index(drop=True), res.table
    )


def test_power_file_errors_name_the_key(tmp_path):
    import tomllib

    base = tomllib.loads(SMALL)
    bad = base | {"power": base["power"] | {"sizes": [2]}}
    with pytest.raises(StudyError, match=r"\[power\]: 'sizes'"):
        parse_power(bad, "p.toml")
    bad = base | {"power": base["power"] | {"outcomes": ["grit"]}}
    with pytest.raises(StudyError, match="'outcomes' must be a list drawn from"):
        parse_power(bad, "p.toml")
    bad = base | {"survey": base["survey"] | {"reliabilty": 0.9}}
    with pytest.raises(StudyError, match="unknown key"):
        parse_power(bad, "p.toml")
    bad = base | {"power": base["power"] | {"sizes": [40]}}
    with pytest.raises(StudyError, match="pool"):
        parse_power(bad, "p.toml")
    assert ScaleSpec("eng", "engagement").keys[0] == "eng_1"


def test_shipped_power_study_parses():
    spec = load_power("simulations/power/personalized-vs-individualized.toml")
    assert spec.study.reference == "individualized" and spec.treatment == "personalized"
    assert max(spec.sizes) * 2 <= spec.study.classrooms
