"""Three-level synthetic survey data from the model, for tests/reference/survey_threelevel.R.

Run once from the repository root (a few seconds):

    ./run.sh python tests/reference/survey_threelevel.py

It simulates 60 classrooms of 20 students nested in 20 schools of 3 (``classrooms_per_school =
3``, as ``[study] schools = 20`` sets it) under the standardized regime with the study runner's
own unit function (which labels each classroom's school), measures them through the synthetic
survey layer (a test of reliability 0.85 at both waves, 18 of 20 students sampled per class,
90% response at each wave), and writes ``survey_threelevel_data.csv``: school, class, student,
pretest and posttest. The R script fits the three-level random-intercept models with lme4;
``tests/survey/test_multilevel_threelevel.py`` fits them with
:func:`toolkit.survey.nested_model` and compares.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from toolkit.model import PRESETS, Parameters
from toolkit.study.runner import simulate_unit
from toolkit.synthetic import SurveyDesign, synthetic_survey

SEED = 20261207
PARAMS = {"n_students": 20, "classrooms_per_school": 3}
CLASSROOMS = 60
DESIGN = SurveyDesign(test_reliability=0.85, students_per_class=18, student_response=0.9, scales=())


def students() -> pd.DataFrame:
    """The model's student table of the 60 classrooms (with their ``school``)."""
    unit = {
        "id": "threelevel",
        "point": 0,
        "value": None,
        "params": Parameters(**PARAMS).to_dict(),
        "arms": {"standardized": [PRESETS["standardized"].to_dict()]},
        "start": 0,
        "stop": CLASSROOMS,
        "kernel": "fast",
    }
    return simulate_unit(unit, SEED, "fast", 1)


def survey() -> pd.DataFrame:
    """The synthetic survey of those students (school, class, student, pretest, posttest)."""
    data = synthetic_survey(students(), DESIGN, rng=SEED)
    return data[["school", "class", "student", "pretest", "posttest"]]


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)
    survey().to_csv(out / "survey_threelevel_data.csv", index=False, float_format="%.10g")
