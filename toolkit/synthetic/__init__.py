"""Synthetic survey data from simulated students: what a real study would collect.

Modules
-------
items
    Samejima's graded response model for Likert items, with item parameters solved for a
    chosen Cronbach's alpha (:func:`items_for_reliability`).
cohort
    :func:`measure_cohort`: a starting cohort measured as a school survey would (tests of a
    chosen reliability, interest and self-regulation questionnaires, nonresponse), the file
    :mod:`toolkit.realcohort` reads back.
survey
    :func:`synthetic_survey`: test scores with a chosen reliability, questionnaire scales,
    a sample of schools, classes and students with nonresponse, from a model's student table.

The output is an ordinary data frame that :mod:`toolkit.survey` analyses as it would a real
questionnaire file (alpha, scale scores, ICC, mixed models), so the same code runs on
simulated and real data alike; :mod:`toolkit.power` builds power analyses on it.
"""

from toolkit.synthetic.cohort import CohortMeasurement, cohort_table, measure_cohort
from toolkit.synthetic.items import (
    ItemParameters,
    grm_probabilities,
    grm_responses,
    items_for_reliability,
    population_alpha,
)
from toolkit.synthetic.survey import (
    DEFAULT_SCALES,
    ScaleSpec,
    SurveyDesign,
    SurveyReference,
    add_interest,
    observed_scores,
    scale_keys,
    survey_reference,
    synthetic_survey,
)

__all__ = [
    "DEFAULT_SCALES",
    "CohortMeasurement",
    "ItemParameters",
    "ScaleSpec",
    "SurveyDesign",
    "SurveyReference",
    "add_interest",
    "cohort_table",
    "grm_probabilities",
    "grm_responses",
    "items_for_reliability",
    "measure_cohort",
    "observed_scores",
    "population_alpha",
    "scale_keys",
    "survey_reference",
    "synthetic_survey",
]
