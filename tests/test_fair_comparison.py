"""The regimes are treated alike: four asymmetries that favoured grouped regimes are gone.

Each test fails if its asymmetry comes back (issue 17): the group being taught is disrupted by
everyone in the room, learner-set work costs the teacher time as system-set work does, seatwork
is supervised less while the teacher teaches another group, and a design that samples the
school's floor on core time samples its ceiling too.
"""

from pathlib import Path

import numpy as np
import pytest

from toolkit.engine import fast
from toolkit.model import Parameters, classroom_seed
from toolkit.model import mechanisms as mech
from toolkit.model.regimes import resolve_regime
from toolkit.model.shared import form_instruction

ROOT = Path(__file__).resolve().parents[1]


def _channels(regime: str, params: Parameters) -> list[mech.Channels]:
    record = [[]]
    seeds = [classroom_seed(5, i) for i in range(2)]
    sched = [resolve_regime(regime)]
    fast._simulate_chunk([sched], params, seeds, None, "numpy", record=record)
    return [ch for _, ch in record[0]]


def test_direct_instruction_is_disrupted_by_everyone_in_the_room():
    params = Parameters(n_students=12, n_days=6, peer_ties=3)
    for ch in _channels("individualized", params):  # three groups in one room
        # the group taught hears the whole class, as independent work does
        np.testing.assert_allclose(ch.direct_disruption, ch.independent_disruption, rtol=1e-12)
    only_group = params.replace(room_disruption=0.0)
    differ = [
        not np.allclose(ch.direct_disruption, ch.independent_disruption)
        for ch in _channels("individualized", only_group)
    ]
    assert any(differ)  # the switch matters: with weight 0 only the group counts


def _instruction(regime: str, params: Parameters):
    rng = np.random.default_rng(0)
    n, d = params.n_students, params.n_domains
    est = rng.standard_normal((n, d))
    return form_instruction(
        params,
        resolve_regime(regime),
        est,
        rng.standard_normal((n, d)),
        rng.random(n),
        np.array(params.core_mask),
    )


def test_learner_set_work_costs_the_teacher_time():
    p = Parameters()
    personal = _instruction("personal", p)
    free = _instruction("personal", p.replace(learner_plan_cost=0.0))
    groups_only = p.group_cost * (3 - 1)
    assert float(free.overhead) == pytest.approx(groups_only)  # the old, free learner control
    assert float(personal.overhead) > groups_only + 0.05  # following 21 learners' plans costs
    # on the same cost curve as system-set plans: psi = learner_plan_cost * (p + g)
    psi = mech.individual_share(1.0, 1.0, 1.0, 1.0, 0.0, 0.0, p.learner_plan_cost)
    expected = mech.adaptation_overhead(
        p.n_students, 3, psi, p.group_cost, p.plan_cost, p.plan_cost_exponent
    )
    assert float(personal.overhead) == pytest.approx(float(expected))


def test_supervision_falls_while_the_teacher_teaches_another_group():
    p = Parameters()
    whole = _instruction("standardized", p)
    grouped = _instruction("individualized", p)
    np.testing.assert_allclose(whole.supervision, p.supervision)  # the teacher is free
    assert (grouped.supervision < p.supervision - 0.05).all()  # busy with the other groups
    same = _instruction("individualized", p.replace(supervision_availability=0.0))
    np.testing.assert_allclose(same.supervision, p.supervision)


def test_designs_sample_both_school_limits_or_neither():
    from toolkit.model.params import plausible_ranges
    from toolkit.robustness.spec import load_study_with
    from toolkit.study.spec import StudyError

    ranged = set(plausible_ranges().index)
    assert {"core_floor", "core_ceiling"} <= ranged  # "all" designs and simulations/box.py
    for path in sorted((ROOT / "simulations").glob("*.toml")):
        if "[robustness]" not in path.read_text():
            continue
        study = load_study_with(path)
        varied = study.robustness.make_design(0).ranges.index
        assert ("core_floor" in varied) == ("core_ceiling" in varied), path.name
    with pytest.raises(StudyError, match="'core_floor' is sampled but 'core_ceiling' is not"):
        load_study_with(
            ROOT / "simulations" / "headline-robustness.toml",
            robustness={"parameters": ["zpd_width", "core_floor"]},
        )
