"""Diversity-of-profile metrics: triangle, entropy limits, Rao's Q identity, excellence."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import pdist

from toolkit.metrics import (
    diversity_of_excellence,
    excellence_thresholds,
    mean_pairwise_distance,
    mean_pairwise_euclidean,
    rao_quadratic_entropy,
    rao_quadratic_entropy_profiles,
    strongest_domain_entropy,
    strongest_domain_shares,
)

SKILLS = ["skill_mathematics", "skill_reading", "skill_arts", "skill_technology"]


# --------------------------------------------------------------------- pairwise distance
def test_mean_pairwise_distance_triangle():
    # 3-4-5 right triangle: sides 3, 4, 5 -> mean 4
    tri = [[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]]
    assert mean_pairwise_distance(tri) == pytest.approx(4.0)
    # Manhattan: 3, 4, 7 -> 14/3
    assert mean_pairwise_distance(tri, metric="cityblock") == pytest.approx(14 / 3)
    # a duplicate point adds pairs at distance 0 and others: 6 pairs 0,3,4,3,4,5 -> 19/6
    assert mean_pairwise_distance([*tri, [0.0, 0.0]]) == pytest.approx(19 / 6)


def test_mean_pairwise_distance_nan_and_errors():
    tri = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0], [np.nan, 1.0]])
    assert mean_pairwise_distance(tri) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="profiles has 1 row"):
        mean_pairwise_distance(tri, nan_policy="raise")
    with pytest.raises(ValueError, match="metric 'nonsense'"):
        mean_pairwise_distance(tri[:3], metric="nonsense")
    with pytest.raises(ValueError, match="two-dimensional"):
        mean_pairwise_distance([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="at least 2"):
        mean_pairwise_distance([[1.0, 2.0]])


def _scipy_means(x):
    return [float(np.mean(pdist(xi))) for xi in x]


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        float,
        st.tuples(st.integers(1, 4), st.integers(2, 9), st.integers(1, 12)),
        elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    )
)
def test_mean_pairwise_euclidean_is_scipys_pdist_bit_for_bit(x):
    # the study layer's classroom metric: the numbers of mean_pairwise_distance, without scipy
    assert mean_pairwise_euclidean(x).tolist() == _scipy_means(x)


def test_mean_pairwise_euclidean_in_blocks_nans_and_errors(monkeypatch):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(23, 21, 4)) * rng.uniform(0.1, 50, size=(23, 1, 1))
    whole = mean_pairwise_euclidean(x)
    assert whole.tolist() == _scipy_means(x)
    import toolkit.metrics.diversity as div

    monkeypatch.setattr(div, "_PAIR_BLOCK", 1)  # one classroom per block
    assert mean_pairwise_euclidean(x).tolist() == whole.tolist()
    monkeypatch.setattr(div, "_PAIR_BLOCK", 5 * 210 * 4 + 1)  # blocks of 5: 23 = 4 x 5 + 3
    assert mean_pairwise_euclidean(x).tolist() == whole.tolist()
    # a NaN spoils its own classroom only, as in pdist
    x[3, 5, 2] = np.nan
    out = mean_pairwise_euclidean(x)
    assert np.isnan(out[3]) and not np.isnan(np.delete(out, 3)).any()
    for bad in (x[0], x[:, :1], x[:, :, :0]):
        with pytest.raises(ValueError, match=r"x must have shape \(groups, n >= 2"):
            mean_pairwise_euclidean(bad)


# --------------------------------------------------------------------- entropy
@pytest.mark.parametrize("k", [2, 3, 4, 7])
def test_entropy_uniform_is_log_k(k):
    profiles = np.eye(k)  # each student strongest in a different domain
    assert strongest_domain_entropy(profiles) == pytest.approx(math.log(k))
    assert strongest_domain_entropy(profiles, base=2) == pytest.approx(math.log2(k))
    assert strongest_domain_entropy(profiles, normalize=True) == pytest.approx(1.0)


def test_entropy_single_domain_is_zero():
    profiles = np.array([[5.0, 1.0, 0.0], [3.0, 2.0, 1.0], [9.0, 0.0, 0.0]])
    assert strongest_domain_entropy(profiles) == 0.0
    assert strongest_domain_entropy(profiles, normalize=True) == 0.0


def test_entropy_hand_computed_with_ties():
    # strongest: A, A, B, (A and B tied)
    profiles = pd.DataFrame({"A": [3, 4, 1, 2], "B": [1, 2, 5, 2]})
    shares = strongest_domain_shares(profiles)
    assert shares.to_dict() == {"A": 0.625, "B": 0.375}
    h = -(0.625 * math.log(0.625) + 0.375 * math.log(0.375))
    assert strongest_domain_entropy(profiles) == pytest.approx(h)
    first = strongest_domain_shares(profiles, ties="first")
    assert first.to_dict() == {"A": 0.75, "B": 0.25}
    with pytest.raises(ValueError, match="ties must be one of"):
        strongest_domain_shares(profiles, ties="random")
    with pytest.raises(ValueError, match="base must be a positive number other than 1"):
        strongest_domain_entropy(profiles, base=1)
    with pytest.raises(ValueError, match="normalize=True needs at least two domains"):
        strongest_domain_entropy([[1.0], [2.0]], normalize=True)


# --------------------------------------------------------------------- Rao's Q
def test_rao_q_categories():
    # d_ij = 1 off-diagonal -> Gini-Simpson 1 - sum p^2
    p = np.array([0.5, 0.3, 0.2])
    d = 1 - np.eye(3)
    assert rao_quadratic_entropy(p, d) == pytest.approx(1 - np.sum(p**2))
    # counts are normalised
    assert rao_quadratic_entropy([5, 3, 2], d) == pytest.approx(1 - np.sum(p**2))
    # hand-computed with a general distance: 2*(.5*.3*1 + .5*.2*2 + .3*.2*3) = 1.06
    dist = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]])
    assert rao_quadratic_entropy(p, dist) == pytest.approx(1.06)


def test_rao_q_category_errors():
    with pytest.raises(ValueError, match="distance must be symmetric"):
        rao_quadratic_entropy([0.5, 0.5], [[0, 1], [2, 0]])
    with pytest.raises(ValueError, match="zero diagonal"):
        rao_quadratic_entropy([0.5, 0.5], [[1, 1], [1, 0]])
    with pytest.raises(ValueError, match="distance must be a 2 x 2 matrix"):
        rao_quadratic_entropy([0.5, 0.5], np.zeros((3, 3)))
    with pytest.raises(ValueError, match="proportions must be finite and non-negative"):
        rao_quadratic_entropy([1.5, -0.5], [[0, 1], [1, 0]])


def test_rao_q_profile_identity_half_mean_squared_distance():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(23, 4))
    n = x.shape[0]
    q = rao_quadratic_entropy_profiles(x)
    sq = pdist(x, "sqeuclidean")
    # half the mean squared distance over all n^2 ordered pairs (self-pairs included) ...
    assert q == pytest.approx(2 * sq.sum() / (2 * n**2), rel=1e-12)
    # ... = (n-1)/(2n) times the mean over the n(n-1)/2 distinct pairs ...
    assert q == pytest.approx((n - 1) / (2 * n) * sq.mean(), rel=1e-12)
    # ... = total population variance of the profiles
    assert q == pytest.approx(np.var(x, axis=0, ddof=0).sum(), rel=1e-12)
    # the general-metric path (pdist) agrees with the closed form for euclidean
    assert rao_quadratic_entropy_profiles(x, metric="minkowski") == pytest.approx(q, rel=1e-12)
    # and the category form with each student a category of weight 1/n
    dist = np.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=2) / 2
    assert rao_quadratic_entropy(np.full(n, 1 / n), dist) == pytest.approx(q, rel=1e-12)


def test_rao_q_profile_weights():
    x = np.array([[0.0, 0.0], [2.0, 0.0], [np.nan, 1.0]])
    # weights 3:1 on the two complete points: Q = w1 w2 * 4 = .75*.25*4 = 0.75
    assert rao_quadratic_entropy_profiles(x, weights=[3, 1, 5]) == pytest.approx(0.75)
    assert rao_quadratic_entropy_profiles(
        x, weights=[3, 1, 5], metric="cityblock"
    ) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="weights must have one value per row"):
        rao_quadratic_entropy_profiles(x, weights=[1, 1])


# --------------------------------------------------------------------- diversity of excellence
def test_diversity_of_excellence_constructed_matrix():
    profiles = pd.DataFrame(
        {
            "math": [9, 1, 5, 2, 9],
            "arts": [1, 9, 5, 2, 9],
        }
    )
    thr = {"arts": 8, "math": 8}  # mapping aligned by name, any order
    # students 0 (math), 1 (arts), 4 (both) excel in at least one domain: 3 / 5
    assert diversity_of_excellence(profiles, thresholds=thr) == pytest.approx(0.6)
    # "at or above": raising the bar to 9 keeps them, 9.5 removes all
    assert diversity_of_excellence(profiles, thresholds=[9, 9]) == pytest.approx(0.6)
    assert diversity_of_excellence(profiles, thresholds=[9.5, 9.5]) == 0.0
    # math bar 5, arts out of reach: students 0, 2, 4 -> 3 / 5
    assert diversity_of_excellence(profiles, thresholds=[5, 100]) == pytest.approx(0.6)


def test_diversity_of_excellence_default_thresholds_bounds():
    # 10 students x 2 domains, disjoint excellence: top of math is not top of arts
    math_scores = np.arange(10.0)
    profiles = np.column_stack([math_scores, math_scores[::-1]])
    thr = excellence_thresholds(profiles, quantile=0.9)
    assert thr.tolist() == pytest.approx([8.1, 8.1])  # type 7: 8 + 0.1 * 1
    assert diversity_of_excellence(profiles) == pytest.approx(0.2)
    # same students top in both domains -> only one in ten
    aligned = np.column_stack([math_scores, math_scores])
    assert diversity_of_excellence(aligned) == pytest.approx(0.1)


def test_diversity_of_excellence_reference_thresholds():
    rng = np.random.default_rng(1)
    reference = pd.DataFrame(rng.normal(size=(500, 4)), columns=SKILLS)
    better = reference + 0.5
    thr = excellence_thresholds(reference)
    assert list(thr.index) == SKILLS
    own = diversity_of_excellence(better)
    against_reference = diversity_of_excellence(better, thresholds=thr)
    assert against_reference > own  # the bar from the reference is lower
    assert diversity_of_excellence(reference, thresholds=thr) == pytest.approx(own)


def test_diversity_of_excellence_errors():
    profiles = pd.DataFrame({"math": [1.0, 2.0], "arts": [2.0, 1.0]})
    with pytest.raises(ValueError, match="thresholds has no value for domain"):
        diversity_of_excellence(profiles, thresholds={"math": 1.0})
    with pytest.raises(ValueError, match="thresholds must have one value per domain"):
        diversity_of_excellence(profiles, thresholds=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="quantile must be strictly between"):
        diversity_of_excellence(profiles, quantile=90)
    with pytest.raises(TypeError, match="column 'arts' must be numeric"):
        diversity_of_excellence(profiles.assign(arts=["a", "b"]))
