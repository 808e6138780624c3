"""Every mechanism of issue 17 has a switch: off, the model gives the numbers it gave before.

``tests/reference/mechanisms_off_before.csv.gz`` holds the student tables the model gave at
commit 8d7db04, before teacher and school effects, strategy use, cooperative small-group
learning, group expectations, room-wide disruption, the cost of following learners' own plans
and supervision that depends on the teacher being free (made by the script beside it). With
every one of them switched off the model must reproduce those numbers with every kernel; with
any one switched on, it must not.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.engine import simulate_arms
from toolkit.model import Parameters, classroom_seed

REFERENCE = Path(__file__).parent / "reference" / "mechanisms_off_before.csv.gz"
ARMS = {
    "standardized": "standardized",
    "individualized": "individualized",
    "personalized": "personalized",
    "personal": "personal",
    "two_years": ["personalized", "personal"],
}
BASE = {"n_students": 12, "n_days": 30, "peer_ties": 3, "regroup_interval": 10}

#: Each new mechanism's switch: the parameter value that turns it off.
SWITCHES = {
    "teacher_effect_sd": 0.0,
    "school_effect_sd": 0.0,
    "school_share": 0.0,
    "strategy_use": 0.0,
    "cooperative_learning": 0.0,
    "group_expectation": 0.0,
    "room_disruption": 0.0,
    "learner_plan_cost": 0.0,
    "supervision_availability": 0.0,
}
NUMERIC = ["score", "total_learning", "engagement", "on_task", "self_regulation_end"]
#: Defaults that the calibration of issue 17 changed, at their earlier values.
EARLIER_DEFAULTS = {
    "learning_rate": 0.0463,
    "peer_learning": 0.0108,
    "disruption": 0.0485,
    "aptitude_sd": 0.3,
    "aptitude_skill_correlation": 0.3,
    "interest_skill_correlation": 0.0,  # issue 18: interest follows achievement as well
}


@pytest.fixture(scope="module")
def before() -> pd.DataFrame:
    return pd.read_csv(REFERENCE)


def _run(kernel: str, **changes) -> pd.DataFrame:
    params = Parameters(**(BASE | EARLIER_DEFAULTS | SWITCHES | changes))
    seeds = [classroom_seed(20261206, i) for i in range(6)]
    return simulate_arms(ARMS, params, seeds, n_years=2, kernel=kernel)


@pytest.mark.parametrize("kernel", ["numpy", "exact", "fast"])
def test_every_switch_off_gives_the_numbers_from_before(before, kernel):
    old = before[before.kernel == kernel].drop(columns="kernel").reset_index(drop=True)
    new = _run(kernel)
    assert list(new.columns) == list(old.columns)
    for col in new.columns:
        if new[col].dtype.kind == "f":
            # the same machine gives the same bits; other machines agree to rounding
            np.testing.assert_allclose(new[col], old[col], rtol=1e-10, atol=1e-12, err_msg=col)
        else:
            assert (new[col].astype(str).to_numpy() == old[col].astype(str).to_numpy()).all(), col


ON = {
    "teacher_effect_sd": 0.3,
    "school_effect_sd": 0.2,
    "school_share": 0.5,
    "strategy_use": 1.0,
    "cooperative_learning": 0.5,
    "group_expectation": 0.3,
    "room_disruption": 1.0,
    "learner_plan_cost": 0.5,
    "supervision_availability": 0.5,
}


@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_each_switch_on_alone_changes_the_numbers(before, name):
    old = before[before.kernel == "numpy"].reset_index(drop=True)
    new = _run("numpy", **{name: ON[name]})
    changed = [c for c in NUMERIC if not np.allclose(new[c], old[c], rtol=1e-9, atol=1e-12)]
    assert changed, f"{name} = {ON[name]} changed nothing"
