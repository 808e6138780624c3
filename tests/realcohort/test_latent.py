"""The model's cohort distribution as a Gaussian model: draw_cohort's, and conditioned right.

The loadings are checked against draw_cohort's own draws (an independent implementation of the
same formulas, sampled), closed-form correlations of the parameters, and the conditional draws
against Gaussian conditioning written out on the joint covariance of a whole class.
"""

import numpy as np
import pytest

from toolkit.model import Parameters, classroom_seed, draw_cohort
from toolkit.model.cohort import Cohort
from toolkit.realcohort.latent import LatentModel, draw_given


def _observables(co: Cohort, p: Parameters) -> np.ndarray:
    """Skills, interests and the self-regulation factor of every student (rows)."""
    m = p.self_regulation_mean
    sr = co.self_regulation.reshape(-1)
    y = (np.log(sr / (1 - sr)) - np.log(m / (1 - m))) / (p.self_regulation_sd / (m * (1 - m)))
    d = p.n_domains
    return np.column_stack([co.skill.reshape(-1, d), co.interest.reshape(-1, d), y])


def test_loadings_give_the_closed_form_correlations():
    p = Parameters()
    lm = LatentModel.of(p)
    cov = np.outer(lm.a, lm.a) + lm.h @ lm.h.T
    assert np.allclose(np.diag(cov), 1.0)
    rho = p.class_icc + (1 - p.class_icc) * p.skill_correlation
    assert cov[0, 1] == pytest.approx(rho)
    # interest with the same domain's skill: (r_IA r_AS + r_IS) sqrt(1 - ICC), through aptitude
    # and directly
    r = p.interest_aptitude_correlation * p.aptitude_skill_correlation
    expect = (r + p.interest_skill_correlation) * np.sqrt(1 - p.class_icc)
    assert cov[0, 4] == pytest.approx(expect)


def test_loadings_match_draw_cohorts_draws():
    p = Parameters(n_students=20)
    lm = LatentModel.of(p)
    cohorts = [draw_cohort(p, classroom_seed(7, i)) for i in range(2500)]
    x = _observables(Cohort.stack(cohorts), p)
    empirical = np.cov(x.T)
    implied = np.outer(lm.a, lm.a) + lm.h @ lm.h.T
    assert np.abs(empirical - implied).max() < 0.03
    # and the class effect: the covariance of class means of a skill is ICC + (1 - ICC) rho / n
    means = Cohort.stack(cohorts).skill[..., 0].mean(axis=1)
    z_var = 1.0 / 20
    assert np.var(means) == pytest.approx(p.class_icc + (1 - p.class_icc) * z_var, rel=0.08)


def test_nothing_observed_is_a_draw_from_the_model():
    p = Parameters(n_students=20)
    lm = LatentModel.of(p)
    n_classes, n = 2000, 20
    classes = np.repeat(np.arange(n_classes), n)
    rng = np.random.default_rng(3)
    c, xi = draw_given(lm, classes, np.full((n_classes * n, lm.n_observables), np.nan), 0.0, rng)
    ours = lm.attributes(c[classes], xi, rng.standard_normal((n_classes * n, p.n_domains)))
    theirs = Cohort.stack([draw_cohort(p, classroom_seed(8, i)) for i in range(n_classes)])
    for name in ("skill", "aptitude", "interest", "self_regulation"):
        a = getattr(ours, name).reshape(-1)
        b = getattr(theirs, name).reshape(-1)
        assert a.mean() == pytest.approx(b.mean(), abs=0.05), name  # 4 SE: class effects
        assert a.std() == pytest.approx(b.std(), rel=0.03), name
    assert ours.aptitude.mean() == pytest.approx(1.0, abs=0.01)


def test_exact_observations_are_reproduced_and_the_rest_conditioned():
    p = Parameters()
    lm = LatentModel.of(p)
    rng = np.random.default_rng(1)
    n = 600
    classes = np.repeat(np.arange(30), 20)
    obs = np.full((n, lm.n_observables), np.nan)
    obs[:, 1] = rng.standard_normal(n) * 1.3  # reading skill, exactly
    obs[:, 8] = rng.standard_normal(n)  # the self-regulation factor, exactly
    c, xi = draw_given(lm, classes, obs, 0.0, rng)
    co = lm.attributes(c[classes], xi, np.zeros((n, p.n_domains)))
    assert np.abs(co.skill[:, 1] - obs[:, 1]).max() < 1e-12
    m = p.self_regulation_mean
    sr = 1 / (1 + np.exp(-(np.log(m / (1 - m)) + p.self_regulation_sd / (m * (1 - m)) * obs[:, 8])))
    assert np.abs(co.self_regulation - sr).max() < 1e-12
    # mathematics drawn given reading: correlated as the model says (0.68 with defaults)
    r = np.corrcoef(co.skill[:, 0], co.skill[:, 1])[0, 1]
    assert r == pytest.approx(p.class_icc + (1 - p.class_icc) * p.skill_correlation, abs=0.1)


def test_noisy_observations_condition_as_the_joint_gaussian_says():
    """A class of three: student 0's reading with error, student 1's interest exactly."""
    lm = LatentModel.of(Parameters())
    j = lm.n_observables
    one = np.full((3, j), np.nan)
    one[0, 1] = 1.2  # reading of student 0, error variance 0.5
    one[1, 5] = -0.8  # interest in reading of student 1, exact
    tau = np.zeros((3, j))
    tau[0, 1] = 0.5
    reps = 20000
    classes = np.repeat(np.arange(reps), 3)
    c, xi = draw_given(
        lm, classes, np.tile(one, (reps, 1)), np.tile(tau, (reps, 1)), np.random.default_rng(5)
    )
    x = (c[classes][:, None] * lm.a + xi @ lm.h.T).reshape(reps, 3 * j)
    # closed form: every observable of the three students, jointly Gaussian
    ss = np.outer(lm.a, lm.a)
    joint = np.kron(np.ones((3, 3)), ss) + np.kron(np.eye(3), lm.h @ lm.h.T)
    seen = [1, j + 5]
    noise = np.diag([0.5, 0.0])
    gain = joint[:, seen] @ np.linalg.inv(joint[np.ix_(seen, seen)] + noise)
    mean = gain @ np.array([1.2, -0.8])
    cov = joint - gain @ joint[seen, :]
    assert np.abs(x.mean(axis=0) - mean).max() < 0.03
    assert np.abs(np.cov(x.T) - cov).max() < 0.04
    # the draws of student 0's reading are not the observation (it had error), student 1's
    # interest is
    assert x[:, 1].std() == pytest.approx(np.sqrt(cov[1, 1]), rel=0.05)
    assert np.abs(x[:, j + 5] + 0.8).max() < 1e-12


def test_class_effects_of_a_school_share_its_part():
    p = Parameters(school_share=0.5)
    lm = LatentModel.of(p)
    n_schools = 4000
    classes = np.repeat(np.arange(2 * n_schools), 3)
    schools = np.repeat(np.arange(n_schools), 2)
    obs = np.full((classes.size, lm.n_observables), np.nan)
    c, _ = draw_given(lm, classes, obs, 0.0, np.random.default_rng(2), schools=schools)
    pairs = c.reshape(n_schools, 2)
    assert np.corrcoef(pairs.T)[0, 1] == pytest.approx(0.5, abs=0.04)
    assert c.var() == pytest.approx(1.0, rel=0.05)
    # a class seen exactly pulls its schoolmate's effect towards it, by w (and no further)
    obs[:3, 0] = 2.0  # every pupil of class 0 at +2 in mathematics, exactly
    c, _ = draw_given(lm, classes[:6], obs[:6], 0.0, np.random.default_rng(3), schools=[0, 0])
    many = [
        draw_given(lm, classes[:6], obs[:6], 0.0, np.random.default_rng(s), schools=[0, 0])[0]
        for s in range(400)
    ]
    mean0, mean1 = np.mean(many, axis=0)
    assert mean1 == pytest.approx(0.5 * mean0, abs=0.12)
