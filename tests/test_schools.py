"""Classrooms nested in schools: ``[study] schools``, the ``school`` column, pairing across arms.

A study with ``schools = S`` puts its ``classrooms`` in ``S`` schools of ``K = classrooms / S``
(``classrooms_per_school = K``): classroom ``i`` is in school ``i // K`` in every arm, the
classrooms of a school share the school's draws (its share of starting differences and its
effectiveness), and each classroom meets the same teacher in every arm.
"""

import numpy as np
import pandas as pd
import pytest

from toolkit.cli import main
from toolkit.model import ClassroomModel, Parameters, classroom_seed
from toolkit.model.cohort import draw_cohort, school_of
from toolkit.study import parse_study
from toolkit.study.runner import run_study
from toolkit.study.spec import StudyError

TINY = {"n_students": 6, "n_days": 4, "peer_ties": 2}


def study(**st):
    table = {"name": "nest", "seed": 5, "classrooms": 6, "decomposition": 0} | st
    return {
        "study": table,
        "arms": {"standardized": "standardized", "personal": "personal"},
        "parameters": dict(TINY),
    }


def test_schools_set_classrooms_per_school_and_say_so():
    spec = parse_study(study(schools=3))
    assert spec.schools == 3
    assert spec.base_parameters().classrooms_per_school == 2
    assert spec.resolved()["schools"] == 3
    assert spec.nesting() == (
        "6 classrooms in 3 schools of 2 (classroom i is in school i // 2, in every arm)"
    )
    plain = parse_study(study())
    assert plain.schools == 0 and plain.nesting() is None
    assert "schools" not in plain.resolved()  # other studies' fingerprints stay
    assert plain.fingerprint() != spec.fingerprint()


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (2.5, "whole number >= 1"),
        ("3", "whole number >= 1"),
        (True, "whole number >= 1"),
        (0, "whole number >= 1"),
        (7, "more than 'classrooms' = 6"),
        (4, r"not a multiple of 'schools' = 4.*classrooms = 4 or 8"),
    ],
)
def test_bad_schools(value, match):
    with pytest.raises(StudyError, match=match):
        parse_study(study(schools=value), source="s.toml")


def test_schools_and_classrooms_per_school_conflict():
    data = study(schools=3)
    data["parameters"]["classrooms_per_school"] = 2
    with pytest.raises(StudyError, match=r"s.toml \[study\]: 'schools' sets classrooms_per"):
        parse_study(data, source="s.toml")
    data = study(schools=3)
    data["sweep"] = {"parameter": "classrooms_per_school", "values": [1, 2]}
    with pytest.raises(StudyError, match="which \\[sweep\\] varies"):
        parse_study(data, source="s.toml")


def test_school_of_is_the_school_seeds_grouping():
    assert school_of(np.arange(7), 3).tolist() == [0, 0, 0, 1, 1, 1, 2]
    with pytest.raises(ValueError, match="classrooms_per_school"):
        school_of(1, 0)


def test_teacher_and_school_draws_are_the_same_in_every_arm():
    """Paired comparisons stay paired: a classroom's teacher and school do not depend on the arm."""
    p = Parameters(**TINY, classrooms_per_school=2, teacher_effect_sd=0.3, school_effect_sd=0.2)
    draws = {}
    for regime in ("standardized", "individualized", "personalized", "personal"):
        rows = []
        for i in range(4):
            m = ClassroomModel(regime, p, rng=classroom_seed(11, i))
            rows.append(
                (m.draws.teacher, m.school_effect, m.quality(), m.ordered_students[0].skill)
            )
        draws[regime] = rows
    ref = draws["standardized"]
    for regime, rows in draws.items():
        for i, (teacher, school, quality, skill) in enumerate(rows):
            assert teacher == ref[i][0], (regime, i)
            assert school == ref[i][1], (regime, i)
            assert quality == ref[i][2], (regime, i)
            np.testing.assert_array_equal(skill, ref[i][3])
    # classrooms 0 and 1 share school 0, classroom 2 is in school 1; teachers are their own
    schools = [r[1] for r in ref]
    assert schools[0] == schools[1] != schools[2] == schools[3]
    assert len({r[0] for r in ref}) == 4
    # the school's share of the class effect: the same school, more alike starting classes
    c = [draw_cohort(p, classroom_seed(11, i)).school_effect for i in range(4)]
    assert c[0] == schools[0] and c[2] == schools[2]


def test_run_labels_schools_in_every_table(tmp_path):
    """Student rows and the classroom rows (the parts the analysis joins) carry ``school``."""
    data = study(schools=3, engine="mesa")
    spec = parse_study(data)
    result = run_study(spec, tmp_path / "run", progress=False, analyse=lambda r, _s: r)
    rooms = pd.concat([result.classroom_part(u) for u in result.units], ignore_index=True)
    assert rooms["school"].tolist() == (rooms["replicate"] // 2).tolist()
    assert list(rooms.columns).index("school") == list(rooms.columns).index("replicate") + 1
    students = result.students
    assert (students["school"] == students["replicate"] // 2).all()
    # the same classroom in both arms: same school, same students at the start
    wide = students.pivot_table(index=["replicate", "student"], columns="arm", values="prior_score")
    np.testing.assert_array_equal(wide["standardized"], wide["personal"])
    # a study without schools keeps its columns
    plain = study(engine="mesa")
    plain_run = run_study(
        parse_study(plain), tmp_path / "plain", progress=False, analyse=lambda r, _s: r
    )
    assert "school" not in plain_run.students.columns


def test_check_prints_the_nesting(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(
        '[study]\nname = "nest"\nseed = 5\nclassrooms = 8\nschools = 4\n'
        "[parameters]\nn_students = 6\nn_days = 4\n"
    )
    assert main(["check", str(path), "--no-estimate"]) == 0
    out = capsys.readouterr().out
    assert "schools: 8 classrooms in 4 schools of 2" in out
    path.write_text('[study]\nname = "nest"\nseed = 5\nclassrooms = 8\nschools = 3\n')
    assert main(["check", str(path), "--no-estimate"]) != 0
    assert "'classrooms' = 8 is not a multiple of 'schools' = 3" in capsys.readouterr().err


def test_synthetic_survey_keeps_the_model_schools():
    from toolkit.engine import simulate_arms
    from toolkit.synthetic import SurveyDesign, synthetic_survey

    p = Parameters(**TINY, classrooms_per_school=3)
    seeds = [classroom_seed(9, i) for i in range(9)]
    sim = simulate_arms({"a": "standardized", "b": "personal"}, p, seeds)
    sim = sim.assign(school=school_of(sim["classroom"], 3))
    data = synthetic_survey(sim, SurveyDesign(scales=()), rng=1)
    # one survey school per arm and model school, holding exactly that school's classrooms
    groups = data.groupby("school").agg(
        arm=("arm", "nunique"), model=("replicate", lambda r: set(r // 3))
    )
    assert (groups["arm"] == 1).all() and groups["model"].map(len).eq(1).all()
    assert data["school"].nunique() == 2 * 3
    with pytest.raises(ValueError, match=r"leave SurveyDesign\.classes_per_school at 1"):
        synthetic_survey(sim, SurveyDesign(scales=(), classes_per_school=2), rng=1)
