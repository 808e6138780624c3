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
    assert mech.direct_instruction_efficacy(1, 0.5) == 1.0
    assert mech.direct_instruction_efficacy(11, 0.1) == pytest.approx(0.5)


def test_focus_bounds():
    assert mech.focus(0.3, 0.0, 0.5) == 1.0  # no autonomy: on task as directed
    assert mech.focus(0.0, 1.0, 0.5) == 0.5
    assert mech.focus(0.5, 1.0, 0.5) == pytest.approx(0.75)


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


def test_system_allocation_curriculum_remediation_and_floor():
    cur = np.array([0.35, 0.35, 0.15, 0.15])
    core = np.array([True, True, False, False])
    est = np.array([[-1.0, 0.0, 0.0, 0.0]])
    same = mech.system_allocation(est, np.zeros((1, 4)), cur, core, np.zeros(4), 0.0, 0.0, 0.5)
    np.testing.assert_allclose(same, cur[None])
    rem = mech.system_allocation(est, np.zeros((1, 4)), cur, core, np.zeros(4), 1.0, 0.0, 0.5)
    # deficit of 1 SD in domain 0 multiplies its weight by e
    w = cur * np.array([np.e, 1, 1, 1])
    np.testing.assert_allclose(rem, (w / w.sum())[None])
    # strong tailoring towards a non-core interest is held at the core floor
    tail = mech.system_allocation(
        np.zeros((1, 4)), np.array([[0, 0, 5.0, 0]]), cur, core, np.zeros(4), 0.0, 1.0, 0.5
    )
    assert tail[0, :2].sum() == pytest.approx(0.5)
    assert tail.sum() == pytest.approx(1.0)


def test_chosen_level_quality_depends_on_self_regulation():
    skill = np.zeros(3)
    noise = np.array([1.0, -2.0, 0.5])
    perfect = mech.chosen_level(skill, 1.0, noise, 0.3, -0.4, 0.8)
    np.testing.assert_allclose(perfect, 0.3)
    novice = mech.chosen_level(skill, 0.0, noise, 0.3, -0.4, 0.8)
    np.testing.assert_allclose(novice, 0.3 - 0.4 + 0.8 * noise)


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
