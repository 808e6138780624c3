"""The classroom model: parameters, regimes, mechanisms, and the Mesa implementation.

See ``docs/odd.md`` for the model description (ODD protocol).
"""

from toolkit.model.cohort import Cohort, classroom_seed, draw_cohort, draw_year
from toolkit.model.model import ClassroomModel, resolve_schedule, simulate_classroom
from toolkit.model.params import ParameterError, Parameters, parameter_table
from toolkit.model.regimes import PRESETS, Regime, blend, regime_table, resolve_regime

__all__ = [
    "PRESETS",
    "ClassroomModel",
    "Cohort",
    "ParameterError",
    "Parameters",
    "Regime",
    "blend",
    "classroom_seed",
    "draw_cohort",
    "draw_year",
    "parameter_table",
    "regime_table",
    "resolve_regime",
    "resolve_schedule",
    "simulate_classroom",
]
