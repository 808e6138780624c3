"""Means, paired differences and unit-level effects against a reference."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from toolkit.metrics import effect_vs_reference, mean_ci, paired_difference


def test_mean_ci_by_hand():
    row = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0, np.nan]).iloc[0]
    half = stats.t.ppf(0.975, 4) * math.sqrt(2.5) / math.sqrt(5)
    assert row["mean"] == 3.0
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((3 - half, 3 + half))
    assert (row["n"], row["dof"], row["n_omitted"]) == (5, 4, 1)
    with pytest.raises(ValueError, match="x needs at least 2"):
        mean_ci([1.0])


def test_paired_difference_matches_r(r_ref, r_case):
    ref = r_ref["paired_a"]
    row = paired_difference(r_case("paired_a", "post"), r_case("paired_a", "pre")).iloc[0]
    # R: t.test(post, pre, paired = TRUE)
    assert row["diff"] == pytest.approx(ref["mean_diff"], rel=1e-12)
    assert row["t"] == pytest.approx(ref["paired_t"], rel=1e-10)
    assert row["p_val"] == pytest.approx(ref["paired_p"], rel=1e-8)
    assert row["ci_low"] == pytest.approx(ref["paired_ci"][0], rel=1e-10)
    assert row["ci_high"] == pytest.approx(ref["paired_ci"][1], rel=1e-10)


def test_paired_difference_nan_pairs_and_errors():
    row = paired_difference([1.0, 2.0, np.nan, 4.0], [0.5, np.nan, 1.0, 3.0]).iloc[0]
    assert (row["n"], row["n_omitted"]) == (2, 2)
    assert row["diff"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="same length"):
        paired_difference([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="pair\\(s\\) of x/y contain NaN"):
        paired_difference([1.0, np.nan, 2.0], [1.0, 2.0, 3.0], nan_policy="raise")


@pytest.fixture
def units():
    # 4 replicates x 3 regimes; 'pers' is std + (0.2, 0.4, 0.0, 0.2); 'ind' misses replicate 4
    return pd.DataFrame(
        {
            "regime": ["std"] * 4 + ["pers"] * 4 + ["ind"] * 3,
            "replicate": [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3],
            "score": [0.0, 0.1, -0.1, 0.3, 0.2, 0.5, -0.1, 0.5, 0.1, 0.0, 0.2],
        }
    )


def test_effect_vs_reference_hand_built(units):
    res = effect_vs_reference(units, "score", "regime", "std", "replicate", sd=0.5)
    assert res["condition"].tolist() == ["ind", "pers"]  # sorted order
    pers = res.set_index("condition").loc["pers"]
    d = np.array([0.2, 0.4, 0.0, 0.2])
    half = stats.t.ppf(0.975, 3) * d.std(ddof=1) / 2
    assert pers["n_units"] == 4
    assert pers["diff"] == pytest.approx(0.2)
    assert (pers["ci_low"], pers["ci_high"]) == pytest.approx((0.2 - half, 0.2 + half))
    assert pers["std_diff"] == pytest.approx(0.4)
    assert pers["std_ci_low"] == pytest.approx((0.2 - half) / 0.5)
    ind = res.set_index("condition").loc["ind"]
    assert (ind["n_units"], ind["n_omitted"]) == (3, 1)
    assert ind["diff"] == pytest.approx(np.mean([0.1, -0.1, 0.3]))
    assert ind["mean_ref"] == pytest.approx(0.0)  # over replicates 1-3 only


def test_effect_vs_reference_without_sd_and_multi_column_units(units):
    u = units.assign(classroom=1)
    res = effect_vs_reference(u, "score", "regime", "std", ["replicate", "classroom"])
    assert res["std_diff"].isna().all()
    assert res.loc[res["condition"] == "pers", "diff"].iloc[0] == pytest.approx(0.2)


def test_effect_vs_reference_errors(units):
    with pytest.raises(ValueError, match="reference: 'trad'"):
        effect_vs_reference(units, "score", "regime", "trad", "replicate")
    with pytest.raises(ValueError, match="sd must be a positive finite number"):
        effect_vs_reference(units, "score", "regime", "std", "replicate", sd=0)
    with pytest.raises(ValueError, match="unit: column 'classroom' is not in data"):
        effect_vs_reference(units, "score", "regime", "std", "classroom")
    dup = pd.concat([units, units.iloc[[0]]])
    with pytest.raises(ValueError, match="must appear once"):
        effect_vs_reference(dup, "score", "regime", "std", "replicate")
