"""Your own students: the four regimes simulated on a real cohort read from a data file.

A researcher's file (prior test scores, questionnaire items, class and school membership,
weights) is mapped onto the model's student attributes, missing values are imputed, the
attributes the file lacks are drawn from the model given what it has, and every arm is run on
the real classes at their real sizes. Results are estimated with the file's weights and survey
design and pooled over the imputed cohorts (or plausible values) by Rubin's rules.

Modules
-------
mapping
    The ``[cohort]`` table of a study file (:func:`parse_mapping`) and reading its data.
build
    :func:`prepare` (checks the file against the mapping) and :func:`build_cohorts`
    (imputation by chained equations, scores on the model's scale, draws of the rest).
latent
    The model's cohort distribution as a linear Gaussian model, and conditional draws from it.
pool
    Weighted, design-based estimates per cohort, pooled by Rubin's rules; by class and school.
study
    The ``[cohort]`` study: work units, the run's analysis, the decomposition on real classes.

From a study file: ``python -m toolkit check my-students.toml`` says what is read and what is
drawn; ``python -m toolkit run my-students.toml`` runs it. In Python::

    from toolkit.realcohort import DataCohort, simulate_cohorts, analyse_cohort
    cohort = DataCohort({"dataset": "nlschools", "class": "class", "class_size": "GS",
                         "achievement": {"reading": {"column": "lang", "reliability": 0.85}}},
                        parameters=Parameters())
    real = cohort.build(Parameters(), seed=1)
    students = simulate_cohorts(real, {"standardized": "standardized", "personal": "personal"},
                                seed=1)
    tables = analyse_cohort(real, students, ["standardized", "personal"], "standardized")
"""

from toolkit.realcohort.build import Prepared, RealCohorts, build_cohorts, prepare
from toolkit.realcohort.latent import LatentModel, draw_given
from toolkit.realcohort.mapping import CohortError, CohortMapping, Measure, load_data, parse_mapping
from toolkit.realcohort.study import (
    DataCohort,
    analyse_cohort,
    analyse_cohort_run,
    cohort_decomposition,
    cohort_estimates,
    format_cohort_summary,
    simulate_cohorts,
)

__all__ = [
    "CohortError",
    "CohortMapping",
    "DataCohort",
    "LatentModel",
    "Measure",
    "Prepared",
    "RealCohorts",
    "analyse_cohort",
    "analyse_cohort_run",
    "build_cohorts",
    "cohort_decomposition",
    "cohort_estimates",
    "draw_given",
    "format_cohort_summary",
    "load_data",
    "parse_mapping",
    "prepare",
    "simulate_cohorts",
]
