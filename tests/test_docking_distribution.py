"""Distributional docking (Axtell et al. 1996): Mesa and the engine on independent seeds.

The Mesa model runs ``M_MESA`` classrooms on ``classroom_seed(1, i)`` and the engine, with the
``"exact"`` kernel and with the ``"fast"`` one (whose daily random numbers are its own Philox
draws), ``M_ENGINE`` classrooms on ``classroom_seed(2, i)``: no classroom is shared, so agreement
can only come from the two being the same model. Per classroom we compute the outcome and
diversity metrics of :func:`toolkit.engine.docking.classroom_metrics` (class mean score, SD of
scores, total learning, engagement, fit, mean pairwise distance of skill profiles) and require,
for every metric, that the difference of means lies inside its Welch confidence band and that the
two-sample Kolmogorov-Smirnov test does not reject, at a family-wise level of ``ALPHA = 0.01``
per case (Bonferroni over the 12 tests: 0.00083 each).

To keep the Mesa side cheap (about 0.2 ms per student-day), classes are small and years short:
10 students, 30 days. The power tests perturb one parameter in the engine only and assert that
the same test then FAILS: a 10 % larger learning rate, and a narrower challenge-fit curve, for
each kernel.
"""

import pandas as pd
import pytest

import toolkit.engine.fast as fast
from toolkit.engine import simulate_batch
from toolkit.engine.docking import METRICS, classroom_metrics, compare_distributions
from toolkit.model import Parameters, classroom_seed
from toolkit.model.model import simulate_classroom

ALPHA = 0.01
M_MESA = 40
M_ENGINE = 400
SMALL = {"n_students": 10, "n_days": 30, "peer_ties": 3}
CASES = {
    "standardized": ("standardized", {}),
    "individualized": ("individualized", {}),
    "personalized": ("personalized", {}),
    "personal": ("personal", {}),
    "individualized_capacity_regroup": (
        "individualized",
        {"teacher_capacity": 2.0, "regroup_interval": 10},
    ),
    "blend_forgetting": ("blend(personalized, personal, 0.5)", {"forgetting_rate": 0.01}),
}

_mesa = {}


def mesa_metrics(name):
    """Classroom metrics of the Mesa model on seeds (1, i), computed once per case."""
    if name not in _mesa:
        regime, changes = CASES[name]
        params = Parameters(**{**SMALL, **changes})
        frames = []
        for i in range(M_MESA):
            one = simulate_classroom(regime, params, classroom_seed(1, i))
            one.insert(0, "classroom", i)
            frames.append(one)
        _mesa[name] = classroom_metrics(pd.concat(frames, ignore_index=True))
    return _mesa[name]


#: Bit-for-bit and docking checks: CI runs them again with numpy's AVX-512 dispatch off.
pytestmark = pytest.mark.numerics

numba = pytest.mark.skipif(fast._load_kernel() is None, reason="numba is not installed")
KERNELS = [pytest.param("exact", marks=numba), pytest.param("fast", marks=numba)]


def engine_metrics(name, kernel, **perturb):
    regime, changes = CASES[name]
    params = Parameters(**{**SMALL, **changes}).replace(**perturb)
    seeds = [classroom_seed(2, i) for i in range(M_ENGINE)]
    return classroom_metrics(simulate_batch(regime, params, seeds, kernel=kernel))


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("name", list(CASES))
def test_mesa_and_engine_dock_in_distribution(name, kernel):
    result = compare_distributions(mesa_metrics(name), engine_metrics(name, kernel), METRICS, ALPHA)
    assert result.docked.all(), f"not docked at family-wise {ALPHA}:\n{result.to_string()}"


@pytest.mark.parametrize(
    ("perturb", "caught_by"),
    [
        ({"learning_rate": Parameters().learning_rate * 1.1}, "total_learning"),
        ({"zpd_width": 0.8}, "fit"),
    ],
    ids=["learning_rate_x1.1", "zpd_width_0.8"],
)
@pytest.mark.parametrize("kernel", KERNELS)
def test_docking_test_has_power(perturb, caught_by, kernel):
    """A deliberately changed engine fails the same test against the same Mesa sample."""
    result = compare_distributions(
        mesa_metrics("personal"), engine_metrics("personal", kernel, **perturb), METRICS, ALPHA
    )
    assert not result.docked.all(), f"perturbation {perturb} went unnoticed:\n{result}"
    assert not result.loc[caught_by, "docked"]
