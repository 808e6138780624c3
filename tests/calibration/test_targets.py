"""The targets file and the quantity registry."""

import math

import numpy as np
import pandas as pd
import pytest

from toolkit.calibration.quantities import QUANTITIES, Estimate, Simulations, compute, quantity
from toolkit.calibration.realdata import egsingle_gains, nlschools_icc, star_class_size_effect
from toolkit.calibration.targets import TargetsError, evaluate, load_targets, target_scale
from toolkit.model import Parameters
from toolkit.survey import icc

SMALL = Parameters(n_students=12, n_days=30)


def test_targets_file_is_complete_and_every_quantity_is_registered():
    t = load_targets(known=True)
    assert {"target", "check", "comparison"} == set(t["role"])
    # the four calibrated rates of simulations/calibrate.py, and the checks of docs/odd.md
    assert set(t.index[t.role == "target"]) == {
        "core_gain",
        "class_size_share",
        "peer_share",
        "scaffolding_sr",
    }
    assert {"individualized_effect", "nlschools_icc", "star_kindergarten"} <= set(t.index)
    assert (t["source"].str.len() > 20).all() and (t["location"].str.len() > 10).all()
    for rid in t.index[t.role == "target"]:
        center, scale = target_scale(t.loc[rid])
        assert scale > 0 and np.isfinite(center)


def test_real_data_rows_match_the_data():
    t = load_targets()
    nl = nlschools_icc()
    assert t.loc["nlschools_icc", "value"] == pytest.approx(nl["icc"], abs=5e-5)
    assert t.loc["nlschools_conditional_icc", "value"] == pytest.approx(
        nl["conditional_icc"], abs=5e-5
    )
    # the same number through toolkit.survey, on the real data
    from toolkit.datasets import load_dataset

    assert nl["icc"] == pytest.approx(icc(load_dataset("nlschools"), "lang", "class").icc[0])
    eg = egsingle_gains()
    assert t.loc["egsingle_gain_sd", "value"] == pytest.approx(eg["sd_ratio"], abs=5e-4)
    assert t.loc["egsingle_gain_corr", "value"] == pytest.approx(eg["correlation"], abs=5e-4)
    assert eg["n_pupils"] == 1009 and eg["n_schools"] == 56
    star = star_class_size_effect()
    assert t.loc["star_kindergarten", "value"] == pytest.approx(
        star["percentile_points"], abs=0.005
    )
    assert star["n_pupils"] == 3733 and star["n_schools"] == 79


def test_bad_targets_files_name_row_and_column(tmp_path):
    good = load_targets().reset_index()
    path = tmp_path / "t.csv"
    bad = good.copy()
    bad.loc[0, "role"] = "goal"
    bad.to_csv(path, index=False)
    with pytest.raises(TargetsError, match="row 'core_gain', column 'role'"):
        load_targets(path)
    bad = good.copy()
    bad["value"] = bad["value"].astype(object)
    bad.loc[1, "value"] = "about 0.07"
    bad.to_csv(path, index=False)
    with pytest.raises(TargetsError, match=r"column 'value': 'about 0\.07' is not a number"):
        load_targets(path)
    bad = good.copy()
    bad.loc[2, "quantity"] = "peer_sharee"
    bad.to_csv(path, index=False)
    with pytest.raises(TargetsError, match="peer_sharee"):
        load_targets(path, known=True)
    with pytest.raises(TargetsError, match="no such targets file"):
        load_targets(tmp_path / "none.csv")


def test_evaluate_passes_and_fails_by_the_stated_rule():
    t = load_targets()
    measured = pd.DataFrame(
        [
            {"quantity": "one_year_core_gain", "value": 0.36 + 2.1 * 0.045, "se": 0.0},
            {"quantity": "individualized_effect", "value": 0.31, "se": 0.01},
            {"quantity": "grouping_effect_quintile_range", "value": 0.05, "se": 0.01},
            {"quantity": "personalized_effect", "value": 0.2, "se": 0.01},
        ]
    )
    e = evaluate(t, measured).set_index("id")
    assert e.loc["core_gain", "passed"] is False
    assert e.loc["core_gain", "z"] == pytest.approx(2.1)
    assert e.loc["individualized_effect", "passed"] is False  # above the range
    assert e.loc["grouping_by_level", "passed"] is True  # below the upper bound
    assert e.loc["rand_personalized", "passed"] is None  # comparison: no verdict
    assert e.loc["tutoring", "passed"] is None and math.isnan(e.loc["tutoring", "model"])


def test_estimates_have_the_stated_standard_errors():
    v = np.array([1.0, 2.0, 4.0, 5.0])
    assert Estimate.mean(v).se == pytest.approx(v.std(ddof=1) / 2)
    a, b = np.array([1.0, 2.0, 3.0]), np.array([10.0, 10.0, 20.0])
    r = Estimate.ratio(a, b)
    assert r.value == pytest.approx(6 / 40)
    lin = a - r.value * b
    assert r.se == pytest.approx(math.sqrt((lin**2).sum() / 6) / b.mean())


def test_quantities_share_simulations_on_common_random_numbers():
    sims = Simulations(SMALL, 6, seed=3)
    out = compute(["individualized_effect", "one_year_core_gain", "peer_share"], sims=sims)
    assert sims.runs == 2  # standardized once, shared; individualized once
    again = compute(["individualized_effect"], SMALL, 6, 3)
    assert again["value"].iloc[0] == out["value"].iloc[0]
    assert (out["se"] > 0).all()
    # the paired effect is the regime difference on the same classrooms
    df = sims.arms({"s": "standardized", "i": "individualized"})
    assert (
        df[df.arm == "s"]["prior_score"].to_numpy() == df[df.arm == "i"]["prior_score"].to_numpy()
    ).all()


def test_every_quantity_runs_at_small_size():
    out = compute(None, SMALL, 4, seed=1)
    assert set(out["quantity"]) == set(QUANTITIES)
    assert out["value"].notna().all() and (out["se"] >= 0).all()


def test_adding_a_quantity_is_one_function():
    @quantity("test_only_mean_engagement", unit="0-1", description="mean engagement")
    def mean_engagement(sims):
        df = sims.arms({"standardized": "standardized"})
        return Estimate.mean(df.groupby("replicate")["engagement"].mean())

    try:
        out = compute(["test_only_mean_engagement"], SMALL, 4, seed=1)
        assert 0 < out["value"].iloc[0] < 1
        with pytest.raises(ValueError, match="registered twice"):
            quantity("test_only_mean_engagement", unit="", description="")(mean_engagement)
    finally:
        QUANTITIES.pop("test_only_mean_engagement")
    with pytest.raises(KeyError, match="unknown quantities"):
        compute(["test_only_mean_engagement"], SMALL, 4)
