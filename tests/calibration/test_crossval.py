"""Leave-one-out and k-fold predictions, on a model whose posterior is known exactly."""

import numpy as np
import pandas as pd
import pytest

from toolkit.calibration.crossval import coverage, cross_validate, predictive_draws

TAU = 2.0  # prior SD of the one parameter


def linear_case(rng, n=6):
    """Rows v_k = a_k theta + e_k, e_k ~ N(0, s_k^2), theta ~ N(0, TAU^2)."""
    theta = rng.normal(0, TAU)
    a = rng.uniform(0.5, 2.0, n)
    s = rng.uniform(0.1, 0.6, n)
    rows = pd.DataFrame(
        {"value": a * theta + s * rng.standard_normal(n), "sd": s, "a": a},
        index=[f"r{i}" for i in range(n)],
    )
    return rows


def fit(train):
    """The exact posterior of theta (conjugate normal)."""
    prec = 1 / TAU**2 + (train["a"] ** 2 / train["sd"] ** 2).sum()
    mean = (train["a"] * train["value"] / train["sd"] ** 2).sum() / prec
    return mean, prec**-0.5


RNG = np.random.default_rng(7)


def predict(post, row):
    return row["a"] * RNG.normal(post[0], post[1], 2000)


def test_leave_one_out_intervals_cover_at_their_level_when_the_model_is_right():
    rng = np.random.default_rng(11)
    covered, pits = [], []
    for rep in range(150):
        cv = cross_validate(linear_case(rng), fit, predict, seed=rep)
        covered += cv["covered"].tolist()
        pits += cv["pit"].tolist()
    share = np.mean(covered)  # 900 predictions; binomial SE of 0.9 is 0.01
    assert share == pytest.approx(0.9, abs=0.035)
    # the probability integral transform is uniform: each quarter holds about a quarter
    counts = np.histogram(pits, bins=4, range=(0, 1))[0] / len(pits)
    assert np.abs(counts - 0.25).max() < 0.05


def test_a_planted_row_is_not_covered_and_is_flagged():
    rows = linear_case(np.random.default_rng(3))
    rows.loc["r2", "value"] += 10 * rows.loc["r2", "sd"] + 3
    cv = cross_validate(rows, fit, predict).set_index("id")
    assert not cv.loc["r2", "covered"] and cv.loc["r2", "flag"].startswith("outside the 90%")
    assert abs(cv.loc["r2", "z"]) > 3
    assert cv.attrs["coverage"] == coverage(cv.reset_index()) < 1


def test_k_fold_refits_once_per_fold_and_predicts_every_row():
    rows = linear_case(np.random.default_rng(4), n=9)
    calls = []

    def counting_fit(train):
        calls.append(len(train))
        return fit(train)

    cv = cross_validate(rows, counting_fit, predict, folds=3, seed=1)
    assert calls == [6, 6, 6] and sorted(cv["id"]) == sorted(rows.index)
    assert cv.groupby("fold").size().tolist() == [3, 3, 3]
    calls.clear()
    one = cross_validate(rows, counting_fit, predict, held_out=["r0", "r5"])
    assert calls == [8, 8] and one["id"].tolist() == ["r0", "r5"]


def test_bad_arguments_are_refused():
    rows = linear_case(np.random.default_rng(5), n=3)
    with pytest.raises(ValueError, match="folds"):
        cross_validate(rows, fit, predict, folds=5)
    with pytest.raises(KeyError, match="nope"):
        cross_validate(rows, fit, predict, held_out=["nope"])
    with pytest.raises(ValueError, match="at least two finite draws"):
        cross_validate(rows, fit, lambda post, row: np.array([np.nan, 1.0]))


def test_predictive_draws_vary_with_the_posterior():
    post = pd.DataFrame({"learning_rate": [0.02, 0.06], "weight": [0.5, 0.5]})
    d = predictive_draws(
        post,
        "one_year_core_gain",
        draws=4,
        classrooms=3,
        seed=2,
        fixed={"n_students": 8, "n_days": 20, "peer_ties": 3},
    )
    assert d.shape == (4,) and np.isfinite(d).all()
    assert d.max() > 2 * d.min() > 0  # half the draws learn three times faster
