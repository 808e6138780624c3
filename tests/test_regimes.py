import pytest

from toolkit.model import PRESETS, ParameterError, Regime, blend, regime_table, resolve_regime


def test_presets_are_points_on_the_axes():
    std, ind, pzd, per = (
        PRESETS[k] for k in ("standardized", "individualized", "personalized", "personal")
    )
    # who sets the destination
    assert std.learner_goal_control == ind.learner_goal_control == pzd.learner_goal_control == 0
    assert per.learner_goal_control == 1
    # individualized adapts the path to a common goal (deficit model); personalized tailors goals
    assert ind.path_adaptation == 1 and ind.remediation > 0 and ind.strength_tailoring == 0
    assert pzd.strength_tailoring > 0 and pzd.remediation == 0
    # peers: fixed class, ability groups, assigned by profile, chosen by learners
    assert std.peer_ability_homophily == std.peer_interest_homophily == 0
    assert ind.peer_ability_homophily > 0 and ind.grouping == "ability"
    assert pzd.peer_interest_homophily > 0 and pzd.peer_choice == 0
    assert per.peer_choice == 1 and per.scaffolding > 0
    assert std.autonomy == 0 and per.autonomy == 1


def test_unknown_regime_suggests():
    with pytest.raises(ParameterError, match=r"unknown regime 'personalised'.*'personalized'"):
        resolve_regime("personalised", source="study.toml [arms] x")


def test_unknown_axis_and_bad_values():
    with pytest.raises(ParameterError, match=r"unknown regime axis 'scafolding'.*'scaffolding'"):
        Regime.from_mapping({"scafolding": 0.2})
    with pytest.raises(ParameterError, match=r"'learner_goal_control' = 1.5 is out of range"):
        Regime(learner_goal_control=1.5)
    with pytest.raises(ParameterError, match="grouping"):
        Regime(grouping="abilty")
    with pytest.raises(ParameterError, match="n_groups"):
        Regime(n_groups=2.5)


def test_blend_interpolates_and_endpoints():
    a, b = PRESETS["personalized"], PRESETS["personal"]
    assert blend(a, b, 0.0).to_dict() | {"name": a.name} == a.to_dict()
    assert blend(a, b, 1.0).to_dict() | {"name": b.name} == b.to_dict()
    m = blend(a, b, 0.25)
    assert m.learner_goal_control == pytest.approx(0.25)
    assert m.scaffolding == pytest.approx(0.25 * 0.15)
    assert m.grouping == a.grouping
    with pytest.raises(ParameterError, match="weight"):
        blend(a, b, 1.5)


def test_blend_string_and_mapping_specs():
    r = resolve_regime("blend(personalized, personal, 0.5)")
    assert r.learner_path_control == pytest.approx(0.625)
    r2 = resolve_regime({"base": "personal", "scaffolding": 0.3, "name": "more scaffolding"})
    assert r2.scaffolding == 0.3 and r2.learner_goal_control == 1 and r2.name == "more scaffolding"


def test_regime_table():
    t = regime_table()
    assert set(t.columns) >= set(PRESETS)
    assert t.loc["scaffolding", "personal"] == PRESETS["personal"].scaffolding
