"""Closed-form checks of each mechanism, and the sanity properties the issue pins."""

import numpy as np
import pytest

from toolkit.model import mechanisms as mech


def test_zpd_fit_closed_form():
    assert mech.zpd_fit(0.3, 0.3, 1.0) == 1.0
    assert mech.zpd_fit(1.3, 0.3, 1.0) == pytest.approx(np.exp(-0.5))
    assert mech.zpd_fit(-0.7, 0.3, 1.0) == pytest.approx(np.exp(-0.5))  # symmetric


def test_no_challenge_fit_learns_less_than_good_fit():
    # Same student, same day; only the level of the work differs.
    kw = {"rate": 0.02, "aptitude": 1.0, "engagement": 0.6, "time": 1.0, "efficacy": 1.0}
    good = mech.learning_gain(fit=mech.zpd_fit(0.3, 0.3, 1.0), **kw)
    far = mech.learning_gain(fit=mech.zpd_fit(4.0, 0.3, 1.0), **kw)
    assert good == pytest.approx(0.012)
    assert far < 0.01 * good


def test_instruction_time_and_efficacy():
    assert mech.instruction_time(0.5, 0.0, 1) == 0.5
    assert mech.instruction_time(0.5, 0.2, 2) == pytest.approx(0.2)
    assert mech.instruction_time(10.0, 0.0, 3) == 1.0  # capped at the whole lesson
    # adaptation is paid from the same budget before instruction is shared out
    assert mech.instruction_time(0.5, 0.0, 3, overhead=0.2) == pytest.approx(0.1)
    assert mech.instruction_time(0.5, 0.0, 3, overhead=0.9) == 0.0  # never negative
    assert mech.direct_instruction_efficacy(1, 0.5) == 1.0
    assert mech.direct_instruction_efficacy(11, 0.1) == pytest.approx(0.5)


def test_adaptation_costs_teacher_time_and_grows_with_groups_and_plans():
    def cost(g, psi):
        return float(mech.adaptation_overhead(21, g, psi, 0.04, 0.02, 0.5))

    assert cost(1, 0.0) == 0.0  # standardized teaching costs nothing extra
    assert cost(3, 0.0) == pytest.approx(0.08)  # two extra groups
    assert cost(3, 1.0) == pytest.approx(0.08 + 0.02 * 21**0.5)
    assert cost(3, 2.0) > cost(3, 1.0) > cost(3, 0.0)
    assert cost(21, 0.0) > cost(3, 0.0)
    # diminishing: doubling the individually set work costs less than twice as much
    assert cost(1, 2.0) < 2 * cost(1, 1.0)
    # who sets the work: the system pays for what it sets, not for the learner's choices
    assert mech.individual_share(1.0, 1.0, 0.0, 0.0, 1.0, 0.0) == 2.0  # individualized
    assert mech.individual_share(1.0, 0.0, 0.0, 0.0, 0.0, 0.0) == 0.0  # group levels only
    assert mech.individual_share(1.0, 1.0, 1.0, 1.0, 0.0, 1.0) == 0.0  # personal
    assert mech.individual_share(1.0, 1.0, 0.25, 0.0, 0.0, 1.0) == pytest.approx(1.75)


def test_on_task_applies_to_system_and_self_directed_work_alike():
    # fully engaged students are on task whoever directs the work (apart from planning time)
    assert mech.on_task(1.0, 0.0, 0.0, 0.5, 0.1) == 1.0
    assert mech.on_task(1.0, 0.0, 1.0, 0.5, 0.1) == pytest.approx(0.9)
    # disengaged: system-directed work is kept on task by supervision, own work by
    # self-regulation; the same regulation gives the same time on task
    assert mech.on_task(0.0, 0.3, 0.0, 0.5, 0.1) == pytest.approx(0.5)
    assert mech.on_task(0.0, 0.5, 1.0, 0.5, 0.0) == pytest.approx(0.5)
    # an expert self-regulator is always on task; a novice loses both ways
    assert mech.on_task(0.2, 1.0, 1.0, 0.5, 0.1) == 1.0
    assert mech.on_task(0.5, 0.0, 1.0, 0.5, 0.1) == pytest.approx(0.5 * 0.9)
    # supervision 1: system-directed work always on task
    assert mech.on_task(0.0, 0.0, 0.0, 1.0, 0.1) == 1.0


def test_disruption_is_lazears_product_for_small_propensities():
    e = np.array([0.2, 0.5, 0.9])
    delta = 0.01
    product = np.prod(1 - delta * (1 - e))
    assert mech.disruption_factor((1 - e).sum(), delta) == pytest.approx(product, rel=1e-4)
    assert mech.disruption_factor(0.0, delta) == 1.0
    assert mech.disruption_factor(5.0, 0.0) == 1.0
    # more, or less engaged, others: more disruption
    assert mech.disruption_factor(9.0, delta) < mech.disruption_factor(3.0, delta)


def test_peer_gain_zero_strength_and_only_from_peers_ahead():
    own = np.array([0.0, 0.0])
    peers = np.array([[1.0, -1.0], [2.0, 0.0]])
    alloc = np.array([0.5, 0.5])
    pa = np.array([[0.5, 0.5], [1.0, 0.0]])
    w = np.ones(2)
    assert np.all(mech.peer_gain(own, peers, alloc, pa, w, 0.0, 1.0) == 0)
    g = mech.peer_gain(own, peers, alloc, pa, w, 1.0, 1.0)
    # domain 0: peer 1 gap 1, overlap 0.5; peer 2 gap 2, overlap min(0.5, 1) = 0.5
    expected0 = (0.5 * 1 * np.exp(-1) + 0.5 * 2 * np.exp(-2)) / 2
    assert g[0] == pytest.approx(expected0)
    assert g[1] == 0.0  # nobody ahead in domain 1 (and peer 2 spends no time there)


def test_softmax_and_learner_allocation():
    pi = mech.learner_allocation(np.array([1.0, 0.0]), 1.0, np.array([5.0, -5.0]), 2.0, 1.0)
    # fully self-regulated: the daily drift is ignored
    assert pi[0] == pytest.approx(np.exp(2) / (np.exp(2) + 1))
    assert mech.softmax(np.array([[0.0, np.log(3.0)]])).tolist() == [[0.25, 0.75]]


def test_system_allocation_curriculum_and_remediation_both_ways():
    cur = np.array([0.35, 0.35, 0.15, 0.15])
    core = np.array([True, True, False, False])
    zeros = np.zeros((1, 4))
    est = np.array([[-1.0, 0.0, 0.0, 0.0]])
    same = mech.system_allocation(est, zeros, cur, core, np.zeros(4), 0.0, 0.0)
    np.testing.assert_allclose(same, cur[None])
    rem = mech.system_allocation(est, zeros, cur, core, np.zeros(4), 1.0, 0.0)
    # the core share moves on its logit by the mean core gap (0.5 SD behind) ...
    k = 1 / (1 + np.exp(-(np.log(0.7 / 0.3) + 0.5)))
    assert rem[0, :2].sum() == pytest.approx(k)
    # ... and within the core towards the domain behind (weight e^1 against e^0)
    assert rem[0, 0] / rem[0, 1] == pytest.approx(np.e)
    np.testing.assert_allclose(rem[0, 2:], 0.15 * (1 - k) / 0.3)
    # both ways: a student as far ahead gets as much less core time, on the logit scale
    ahead = mech.system_allocation(-est, zeros, cur, core, np.zeros(4), 1.0, 0.0)

    def logit(q):
        return np.log(q / (1 - q))

    assert logit(ahead[0, :2].sum()) - logit(0.7) == pytest.approx(-(logit(k) - logit(0.7)))
    # a class whose gaps are symmetric keeps the curriculum's core share of one half
    cur2 = np.array([0.25, 0.25, 0.25, 0.25])
    gaps = np.array([[-1.0, -1.0, 0, 0], [1.0, 1.0, 0, 0]])
    both = mech.system_allocation(gaps, np.zeros((2, 4)), cur2, core, np.zeros(4), 2.0, 0.0)
    assert both[:, :2].sum(axis=1).mean() == pytest.approx(0.5)
    # tailoring moves time to strengths and interests, both ways, shares still sum to 1
    tail = mech.system_allocation(
        np.zeros((1, 4)), np.array([[0, 0, 5.0, -5.0]]), cur, core, np.zeros(4), 0.0, 1.0
    )
    assert tail[0, 2] > 0.9 and tail[0, 3] < cur[3] and tail.sum() == pytest.approx(1.0)


def test_core_limits_are_the_same_rule_for_any_plan():
    core = np.array([True, True, False, False])
    pi = np.array([[0.1, 0.1, 0.4, 0.4], [0.45, 0.45, 0.05, 0.05], [0.3, 0.3, 0.2, 0.2]])
    out = mech.apply_core_limits(pi, core, 0.4, 0.8)
    np.testing.assert_allclose(out[:, :2].sum(axis=1), [0.4, 0.8, 0.6])
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    np.testing.assert_allclose(out[:, 0] / out[:, 1], pi[:, 0] / pi[:, 1])  # proportional
    np.testing.assert_array_equal(out[2], pi[2])  # within the limits: unchanged
    np.testing.assert_array_equal(mech.apply_core_limits(pi, core, 0.0, 1.0), pi)  # no limits


def test_chosen_level_quality_depends_on_self_regulation():
    skill = np.zeros(3)
    calibration = np.array([1.5, 0.0, -1.0])  # persistent, person-level misjudgement
    noise = np.array([1.0, -2.0, 0.5])
    sense = mech.self_assessment(skill, 1.0, calibration, noise, 0.65, 0.8)
    np.testing.assert_allclose(sense, 0.0)  # an expert knows their level
    perfect = mech.chosen_level(sense, 1.0, 0.3, -0.4)
    np.testing.assert_allclose(perfect, 0.3)
    sense = mech.self_assessment(skill, 0.0, calibration, noise, 0.65, 0.8)
    np.testing.assert_allclose(sense, 0.65 * calibration + 0.8 * noise)
    novice = mech.chosen_level(sense, 0.0, 0.3, -0.4)
    np.testing.assert_allclose(novice, 0.3 - 0.4 + 0.65 * calibration + 0.8 * noise)
    # the persistent part does not average out over days: the mean error of a novice's sense
    # of their level over many days is their calibration bias, as for the system's picture
    rng = np.random.default_rng(1)
    many = mech.self_assessment(
        np.zeros((20000, 3)), 0.0, calibration, rng.standard_normal((20000, 3)), 0.65, 0.8
    )
    np.testing.assert_allclose(many.mean(axis=0), 0.65 * calibration, atol=0.03)
    half = mech.self_assessment(skill, 0.5, calibration, np.zeros(3), 0.65, 0.8)
    np.testing.assert_allclose(half, 0.5 * 0.65 * calibration)  # shrinks with self-regulation


def test_interests_follow_experience_time_and_autonomy():
    i0 = np.zeros(3)
    t = np.array([0.6, 0.4, 0.0])
    q = np.array([0.9, 0.1, 0.9])
    new = mech.update_interest(i0, t, q, 0.0, 0.01, 0.5, 1.0, 2.0)
    assert new[0] == pytest.approx(0.01 * 3 * 0.6 * 0.4)  # good experience: more interest
    assert new[1] == pytest.approx(0.01 * 3 * 0.4 * -0.4)  # poor experience: less
    assert new[2] == 0.0  # no time, no change
    chosen = mech.update_interest(i0, t, q, 1.0, 0.01, 0.5, 1.0, 2.0)
    np.testing.assert_allclose(chosen, 2 * new)  # self-chosen work changes interest more
    # well-developed interests change slowly; rate 0 turns the mechanism off
    strong = mech.update_interest(np.full(3, 4.0), t, q, 0.0, 0.01, 0.5, 1.0, 2.0) - 4.0
    np.testing.assert_allclose(strong, new / 5)
    np.testing.assert_array_equal(mech.update_interest(i0 + 1, t, q, 1.0, 0.0, 0.5, 1.0, 2.0), 1)


def test_portfolio_weights_skills_by_own_interests():
    skill = np.array([[1.0, 2.0, 3.0]])
    assert mech.portfolio_score(skill, np.zeros((1, 3)), 1.5)[0] == pytest.approx(2.0)
    strong_art = mech.portfolio_score(skill, np.array([[0.0, 0.0, 10.0]]), 1.5)[0]
    assert strong_art == pytest.approx(3.0, abs=1e-5)


def test_compose_gain_is_the_learning_equation():
    a = np.array([1.2, 0.8])
    ch = mech.Channels(
        group_allocation=np.array([0.5, 0.5]),
        allocation=np.array([0.7, 0.3]),
        direct_fit=np.array([1.0, 0.5]),
        practice_fit=np.array([0.8, 0.9]),
        engagement=np.float64(0.6),
        peer=np.array([0.01, 0.0]),
        direct_disruption=np.float64(0.9),
        independent_disruption=np.float64(0.95),
        cooperation=np.float64(1.2),
        on_task=np.float64(0.8),
        strategy=np.float64(1.4),
        direct_time=np.float64(0.25),
        direct_efficacy=np.float64(0.7),
        practice_teacher=np.float64(1.1),
    )
    got = mech.compose_gain(0.03, a, 0.5, ch)
    direct = 0.03 * a * 0.6 * 0.25 * np.array([0.5, 0.5]) * 0.7 * 0.9 * np.array([1.0, 0.5]) * 1.4
    practice = (
        0.03 * a * 0.6 * 0.75 * np.array([0.7, 0.3]) * 0.5 * 0.8 * 0.95 * np.array([0.8, 0.9])
    ) * (1.2 * 1.4 * 1.1)
    np.testing.assert_allclose(got, direct + practice + 0.6 * np.array([0.01, 0.0]))
    # every factor belongs to exactly one channel
    fields = [f for group in mech.CHANNELS.values() for f in group]
    assert sorted(fields) == sorted(mech.Channels._fields)


def test_update_estimate_exact_when_noise_free_and_full_monitoring():
    est = mech.update_estimate(
        np.array([5.0]), np.array([1.2]), np.array([3.0]), np.array([2.0]), 0.01, 1.0, 0.0, 0.5
    )
    assert est[0] == pytest.approx(1.2)
    # persistent bias: the average of many observations converges to skill + sigma * b * u
    est = np.zeros(1)
    rng = np.random.default_rng(0)
    for _ in range(20000):
        est = mech.update_estimate(
            est, np.zeros(1), rng.standard_normal(1), np.array([1.0]), 0.0, 0.01, 0.4, 0.5
        )
    assert est[0] == pytest.approx(0.2, abs=0.05)


def test_self_regulation_needs_autonomy_and_grows_with_scaffolding():
    assert mech.update_self_regulation(0.4, 0.0, 1.0, 0.01, 0.001) == 0.4
    low = mech.update_self_regulation(0.4, 1.0, 0.0, 0.01, 0.001)
    high = mech.update_self_regulation(0.4, 1.0, 0.5, 0.01, 0.001)
    assert low == pytest.approx(0.4 + 0.001 * 0.6)
    assert high == pytest.approx(0.4 + 0.006 * 0.6)


def test_test_score_sees_only_core():
    s = np.array([[1.0, 3.0, 100.0]])
    assert mech.test_score(s, [True, True, False], np.zeros(1), 0.5)[0] == 2.0


def test_groups_balanced_and_ordered():
    key = np.array([5.0, 1.0, 3.0, 2.0, 4.0, 0.0])
    g = mech.form_groups(key, 3)
    assert np.bincount(g).tolist() == [2, 2, 2]
    # lowest keys in group 0, highest in group 2
    assert set(np.where(g == 0)[0]) == {5, 1}
    assert set(np.where(g == 2)[0]) == {0, 4}
    # batched: same result per row
    gb = mech.form_groups(np.stack([key, key[::-1]]), 3)
    assert gb[0].tolist() == g.tolist() and gb[1].tolist() == g[::-1].tolist()


def test_peer_network_homophily():
    rng = np.random.default_rng(3)
    n = 40
    level = np.sort(rng.standard_normal(n)) * 2
    gumbel = rng.gumbel(size=(n, n))
    random_ties = mech.peer_network(level, np.eye(4)[rng.integers(0, 4, n)], 0.0, 0.0, gumbel, 4)
    sorted_ties = mech.peer_network(level, np.eye(4)[rng.integers(0, 4, n)], 10.0, 0.0, gumbel, 4)
    gap = lambda ties: np.abs(level[:, None] - level[ties]).mean()  # noqa: E731
    assert gap(sorted_ties) < 0.3 * gap(random_ties)
    assert not (random_ties == np.arange(n)[:, None]).any()  # no self-ties
    assert all(len(set(row)) == 4 for row in random_ties)  # without replacement
