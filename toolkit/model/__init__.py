"""The classroom model: parameters, regimes, mechanisms, and the Mesa implementation.

See ``docs/odd.md`` for the model description (ODD protocol).
"""

from typing import Any

from toolkit.model.cohort import Cohort, classroom_seed, draw_cohort, draw_year
from toolkit.model.params import ParameterError, Parameters, parameter_table
from toolkit.model.regimes import PRESETS, Regime, blend, regime_table, resolve_regime
from toolkit.model.schedule import resolve_schedule

#: Names of the Mesa model, imported (with Mesa and networkx) on first use: the vectorized
#: engine, the studies and the command line start without them.
_MESA = ("ClassroomModel", "simulate_classroom")


def __getattr__(name: str) -> Any:
    if name in _MESA:
        from toolkit.model import model

        return getattr(model, name)
    raise AttributeError(f"module 'toolkit.model' has no attribute {name!r}")


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
