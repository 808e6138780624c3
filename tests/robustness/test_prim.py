"""PRIM: the EMA Workbench's trajectories bit for bit, the quantile, invariants and errors.

The reference file was made by ``tests/reference/robustness_prim.py`` with the EMA Workbench
3.0.0 (24 data sets; 10 of them end with a pasting phase).
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.robustness.analysis import failure_region
from toolkit.robustness.prim import prim_quantile, prim_trajectory

REF = Path(__file__).parents[1] / "reference"
CASES = json.loads((REF / "robustness_prim.json").read_text())
INPUTS = np.load(REF / "robustness_prim_inputs.npz")


def test_the_reference_was_made_with_the_ema_workbench_and_has_pasting_cases():
    assert CASES["made_with"]["ema_workbench"] == "3.0.0"
    assert len(CASES["cases"]) == 24
    assert sum(c["phases_pasted"] for c in CASES["cases"]) >= 8


@pytest.mark.parametrize("i", range(24), ids=[c["name"] for c in CASES["cases"]])
def test_the_trajectory_is_the_ema_workbenchs_box_for_box_bit_for_bit(i):
    ref = CASES["cases"][i]
    x = pd.DataFrame(INPUTS[f"x_{i}"], columns=ref["columns"])
    t = prim_trajectory(x, INPUTS[f"y_{i}"])
    floats = {k: np.array([float(v) for v in ref[k]]) for k in ("coverage", "density", "mass")}
    assert len(t) == len(ref["n"])
    assert t.n.tolist() == ref["n"] and t.res_dim.tolist() == ref["res_dim"]
    for k, v in floats.items():
        assert np.array_equal(getattr(t, k), v), k
    lower = np.array([[float(v) for v in row] for row in ref["lower"]])
    upper = np.array([[float(v) for v in row] for row in ref["upper"]])
    assert np.array_equal(t.limits[:, 0], lower) and np.array_equal(t.limits[:, 1], upper)
    assert ("paste" in t.phase) == ref["phases_pasted"]
    assert t.columns == tuple(ref["columns"])


def _walking_quantile(v: np.ndarray, p: float) -> float:
    """SDToolkit's quantile written as its definition: walk the outer index over ties."""
    i = (len(v) - 1) * p
    lo, hi = math.floor(i), math.ceil(i)
    if p > 0.5:
        while v[lo] == v[hi] and lo > 0:
            lo -= 1
    else:
        while v[lo] == v[hi] and hi < len(v) - 1:
            hi += 1
    return (v[lo] + v[hi]) / 2


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=1, max_size=40),
    st.sampled_from([0.05, 0.1, 0.3, 0.5, 0.7, 0.95]),
)
def test_the_quantile_walks_over_ties_as_defined(values, p):
    v = np.sort(np.array(values, dtype=float) / 2)
    assert prim_quantile(v, p) == _walking_quantile(v, p)


def test_the_quantile_in_closed_form():
    v = np.arange(1.0, 21.0)  # i = 19 * 0.95 = 18.05: between 19 and 20
    assert prim_quantile(v, 0.95) == 19.5
    assert prim_quantile(v, 0.05) == 1.5
    assert prim_quantile(np.array([3.0]), 0.95) == 3.0
    assert prim_quantile(np.array([2.0, 2.0, 2.0]), 0.05) == 2.0  # all tied: no walk possible
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        prim_quantile(v, 1.0)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(8, 200), st.integers(1, 5), st.booleans())
def test_every_box_on_the_trajectory_is_consistent_with_the_data(seed, n, d, ties):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d))
    if ties:
        x = np.round(x * 4) / 4
    y = rng.random(n) < rng.uniform(0.1, 0.9)
    y[0], y[1] = True, False
    t = prim_trajectory(x, y)
    assert np.array_equal(t.limits[0], np.vstack([x.min(0), x.max(0)]))
    assert t.phase[0] == "start" and set(t.phase[1:]) <= {"peel", "paste"}
    first_paste = t.phase.index("paste") if "paste" in t.phase else len(t)
    assert all(p == "peel" for p in t.phase[1:first_paste])
    assert all(p == "paste" for p in t.phase[first_paste:])
    for b in range(len(t)):
        inside = ((t.limits[b, 0] <= x) & (x <= t.limits[b, 1])).all(axis=1)
        assert t.n[b] == inside.sum() and t.k[b] == y[inside].sum()
        assert t.coverage[b] == t.k[b] / y.sum() and t.density[b] == t.k[b] / t.n[b]
        assert t.mass[b] >= 0.05 or b == 0
        restricted = (t.limits[b] != t.limits[0]).any(axis=0).sum()
        assert t.res_dim[b] == restricted
    # every step raises the density; peels shrink the box and pastes grow it
    assert (np.diff(t.density) > 0).all()
    steps = np.diff(t.n)
    assert (steps[: first_paste - 1] < 0).all() and (steps[first_paste - 1 :] > 0).all()


def test_a_frame_with_whole_numbers_and_booleans_is_peeled_as_real_numbers():
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"size": rng.integers(15, 36, 300), "flag": rng.random(300) < 0.5})
    y = (x["size"] > 30).to_numpy()
    t = prim_trajectory(x, y.astype(int))
    assert np.array_equal(t.limits, prim_trajectory(x.astype(float), y).limits)
    best = int(np.argmax(t.coverage * t.density))
    assert t.box(best).loc["low", "size"] == 30.5 and t.density[best] == 1.0
    frame = t.to_frame()
    assert list(frame.columns) == ["phase", "n", "k", "coverage", "density", "mass", "res_dim"]
    assert len(frame) == len(t)


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "match"),
    [
        (pd.DataFrame({"a": [0.1, np.nan, 0.3]}), [1, 0, 1], {}, "missing or infinite.*'a'"),
        (pd.DataFrame({"a": [0.1, np.inf, 0.3]}), [1, 0, 1], {}, "point 1"),
        (pd.DataFrame({"a": ["x", "y", "z"]}), [1, 0, 1], {}, "numeric"),
        (pd.DataFrame({"a": [0.1, 0.2, 0.3]}), [1, 0], {}, "one flag per point"),
        (pd.DataFrame({"a": [0.1, 0.2, 0.3]}), [1, 0, 2], {}, "boolean or 0/1.*point 2: 2"),
        (pd.DataFrame({"a": [0.1, 0.2, 0.3]}), ["yes", "no", "yes"], {}, "boolean or 0/1"),
        (
            pd.DataFrame({"a": [0.1, 0.2, 0.3]}),
            pd.array([True, None, False], dtype="boolean"),
            {},
            "1 point.*point 1: <NA>",
        ),
        (pd.DataFrame([[0.1, 0.2]], columns=["a", "a"]), [1], {}, r"unique; repeated: \['a'\]"),
        (pd.DataFrame({"a": [0.1, 0.2, 0.3]}), [1, 0, 1], {"peel_alpha": 0.5}, "peel_alpha"),
        (pd.DataFrame({"a": [0.1, 0.2, 0.3]}), [1, 0, 1], {"paste_alpha": 0}, "paste_alpha"),
        (pd.DataFrame({"a": [0.1, 0.2, 0.3]}), [1, 0, 1], {"mass_min": 1.0}, "mass_min"),
        (pd.DataFrame({"a": []}, dtype=float), [], {}, "at least one point"),
        (np.array([0.1, 0.2, 0.3]), [1, 0, 1], {}, "two-dimensional"),
    ],
)
def test_bad_input_is_refused_with_what_was_expected(x, y, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        prim_trajectory(x, np.asarray(y), **kwargs)


def test_flags_as_objects_or_floats_are_read_as_booleans():
    rng = np.random.default_rng(4)
    x = rng.random((60, 2))
    y = rng.random(60) < 0.4
    want = prim_trajectory(x, y).limits
    assert np.array_equal(prim_trajectory(x, y.astype(object)).limits, want)
    assert np.array_equal(prim_trajectory(x, y.astype(float)).limits, want)
    assert np.array_equal(prim_trajectory(x, pd.Series(y)).limits, want)


def test_failure_region_reads_the_box_off_the_trajectory():
    """The planted box of the reference: u1 in (0.2, 0.5) and u2 > 0.7, from 1,000 points."""
    ref = CASES["cases"][0]
    x = pd.DataFrame(INPUTS["x_0"], columns=ref["columns"])
    fails = INPUTS["y_0"]
    region = failure_region(x, ~fails, x, method="prim")
    t = prim_trajectory(x, fails)
    keep = (t.res_dim <= 3) & (t.density >= 0.8)
    best = int(np.flatnonzero(keep)[np.argmax((t.coverage * t.density)[keep])])
    assert region.coverage == t.coverage[best] and region.density == t.density[best]
    assert set(region.limits) == {"u1", "u2"} and region.clear
    assert region.limits["u1"] == (t.limits[best, 0, 0], t.limits[best, 1, 0])
    assert region.limits["u2"] == (t.limits[best, 0, 1], None)
