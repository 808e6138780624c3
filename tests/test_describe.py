"""Words for result sentences (toolkit.study.describe): each phrase says what the numbers do."""

import math
import re

import numpy as np
import pytest

from toolkit.study.describe import (
    describe_direction,
    describe_estimate,
    describe_trend,
    join_words,
)


def test_join_words():
    assert join_words([]) == ""
    assert join_words(["a", "b"]) == "a and b"
    assert join_words(["a", "b", "c"], "or") == "a, b or c"


def test_estimate_with_and_without_interval():
    assert describe_estimate(-0.1064, -0.111, -0.101, digits=3) == "-0.106 [-0.111, -0.101]"
    assert describe_estimate(0.5, math.nan, math.nan, unit="SD") == "+0.50 SD"


@pytest.mark.parametrize(
    ("low", "high", "word"), [(0.01, 0.2, "up"), (-0.2, -0.01, "down"), (-0.01, 0.2, "same")]
)
def test_direction_is_read_from_the_interval(low, high, word):
    assert describe_direction(low, high, "up", "down", "same") == word


def test_trend_reads_every_turn_larger_than_the_tolerance():
    x = [1, 2, 3, 4, 5, 6]
    y = [0.0, 0.5, 0.45, 1.0, 0.2, 0.25]
    assert describe_trend(x, y, tolerance=0.1) == (
        "rises from 0.00 at 1 to 1.00 at 4, then falls to 0.20 at 5"
    )
    assert describe_trend(x, y, tolerance=0.0).count("then") == 4


def test_trend_of_a_flat_line_and_of_a_line_that_starts_with_a_wiggle():
    assert describe_trend([0, 1], [0.301, 0.304], tolerance=0.01) == "stays at 0.30"
    # the first point is within the tolerance of the lowest one: the line rises from it
    assert describe_trend([0, 1, 2], [0.29, 0.28, 0.40], tolerance=0.02) == (
        "rises from 0.29 at 0 to 0.40 at 2"
    )


def test_trend_direction_agrees_with_the_endpoints_of_every_segment():
    rng = np.random.default_rng(3)
    for _ in range(200):
        y = rng.normal(size=rng.integers(2, 9)).cumsum()
        text = describe_trend(np.arange(y.size), y, value="{:.6f}".format, tolerance=0.3)
        if text.startswith("stays"):
            assert np.ptp(y) <= 0.3
            continue
        values = [float(v) for v in re.findall(r"-?\d+\.\d{6}", text)]
        verbs = re.findall(r"rises|falls", text)
        for verb, a, b in zip(verbs, values, values[1:], strict=False):
            assert (b > a) == (verb == "rises")


def test_trend_refuses_bad_input():
    with pytest.raises(ValueError, match="same length"):
        describe_trend([1, 2, 3], [1.0, 2.0])
    with pytest.raises(ValueError, match="missing"):
        describe_trend([1, 2], [1.0, math.nan])


def test_channels_are_named_by_their_intervals():
    import pandas as pd

    from toolkit.study.describe import describe_channels

    d = pd.DataFrame(
        {
            "arm": "a",
            "outcome": "effect_size",
            "channel": ["fit", "engagement", "peers", "teacher_time", "total"],
            "contribution": [0.05, 0.20, 0.01, -0.03, 0.23],
            "ci_low": [0.01, 0.15, math.nan, -0.05, 0.2],
            "ci_high": [0.09, 0.25, math.nan, -0.01, 0.26],
        }
    )
    assert describe_channels(d, "a") == (
        "raised by engagement (+0.20) and fit (+0.05); lowered by the teacher (-0.03); "
        "no clear contribution from peers"
    )
    with pytest.raises(ValueError, match="no rows for 'b'"):
        describe_channels(d, "b")
