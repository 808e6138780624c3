"""The targets file and the quantity registry."""

import math

import numpy as np
import pandas as pd
import pytest

from toolkit.calibration.quantities import QUANTITIES, Estimate, Simulations, compute, quantity
from toolkit.calibration.realdata import (
    egsingle_gains,
    nlschools_icc,
    percentile_effect,
    percentile_ranks,
    star_class_size_effect,
)
from toolkit.calibration.targets import TargetsError, evaluate, load_targets, passes, target_scale
from toolkit.model import Parameters
from toolkit.survey import icc

SMALL = Parameters(n_students=12, n_days=30)


def test_targets_file_is_complete_and_every_quantity_is_registered():
    t = load_targets(known=True)
    assert {"target", "check", "comparison"} == set(t["role"])
    # the nine calibrated parameters of simulations/calibrate.py, and the checks of docs/odd.md
    assert set(t.index[t.role == "target"]) == {
        "annual_gain",
        "peer_share",
        "scaffolding_self_regulation",
        "teacher_value_added",
        "grouping_alone",
        "star_kindergarten",
        "egsingle_gain_sd",
        "egsingle_gain_corr",
        "egsingle_gain_icc",
    }
    assert {"individualized", "nlschools_icc", "star_kindergarten"} <= set(t.index)
    # the class-size target is Krueger's own statistic (mean percentile rank) on STAR's data;
    # the share of a year's gain is a comparison
    assert "class_size" not in t.index
    assert t.loc["star_kindergarten", "quantity"] == "class_size_mean_percentile_rank"
    assert t.loc["class_size_share", "role"] == "comparison"
    assert t.loc["interest_decline", "high"] < 0
    # every target has a value and an SD; those with a range hold their value inside it
    for rid in t.index[t.role == "target"]:
        assert t.loc[rid, "sd"] > 0, rid
        if np.isfinite(t.loc[rid, "low"]):
            assert t.loc[rid, "low"] <= t.loc[rid, "value"] <= t.loc[rid, "high"], rid
    assert "disruption" in t.loc["star_kindergarten", "note"]
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
    with pytest.raises(TargetsError, match="row 'annual_gain', column 'role'"):
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
    bad = good.assign(remark="")
    bad.to_csv(path, index=False)
    with pytest.raises(TargetsError, match=r"unknown column\(s\) \['remark'\].*optionally"):
        load_targets(path)


def test_note_column_is_optional(tmp_path):
    good = load_targets().reset_index()
    assert good["note"].str.len().gt(0).sum() >= 5  # the shipped file has notes
    path = tmp_path / "t.csv"
    good.drop(columns="note").to_csv(path, index=False)
    t = load_targets(path)
    assert t["note"].eq("").all() and t.index.equals(load_targets().index)


def test_evaluate_passes_and_fails_by_the_stated_rule():
    t = load_targets()
    measured = pd.DataFrame(
        [
            # inside the range 0.32-0.41 but 2.1 SDs from 0.36: the range decides
            {"quantity": "one_year_core_gain", "value": 0.36 + 2.1 * 0.045, "se": 0.0},
            # 1.4 SDs from 0.20 but outside the range 0.17-0.30: fails
            {"quantity": "within_class_grouping_effect", "value": 0.13, "se": 0.0},
            {"quantity": "individualized_effect", "value": 0.31, "se": 0.01},
            {"quantity": "grouping_effect_quintile_range", "value": 0.05, "se": 0.01},
            # a comparison 0.137 (SD 0.04) against 0.24: judged and flagged like any row
            {"quantity": "class_size_gain_share", "value": 0.24, "se": 0.01},
            # no range: within two combined SDs of 4.95 (SD 1.49)
            {"quantity": "class_size_mean_percentile_rank", "value": 2.2, "se": 0.5},
            {"quantity": "end_of_year_icc", "value": 0.15, "se": 0.01},
        ]
    )
    e = evaluate(t, measured).set_index("id")
    assert e.loc["annual_gain", "passed"] is False  # 0.4545 > 0.41
    assert e.loc["annual_gain", "z"] == pytest.approx(2.1)
    assert e.loc["grouping_alone", "z"] == pytest.approx(-1.4)
    assert e.loc["grouping_alone", "passed"] is False
    assert e.loc["individualized", "passed"] is False  # above the range
    assert e.loc["grouping_by_quintile", "passed"] is True  # inside 0-0.10
    assert e.loc["class_size_share", "passed"] is False
    assert e.loc["class_size_share", "flag"] == "|z| = 2.5 > 2"
    assert e.loc["individualized", "flag"] == "outside [0.05, 0.3]"
    assert e.loc["grouping_by_quintile", "flag"] == ""
    assert e.loc["tutoring", "passed"] is None and math.isnan(e.loc["tutoring", "model"])
    assert e.loc["tutoring", "flag"] == "no model value"
    z_star = (2.2 - 4.95) / math.hypot(1.49, 0.5)
    assert e.loc["star_kindergarten", "z"] == pytest.approx(z_star)
    assert e.loc["star_kindergarten", "passed"] is True  # |z| = 1.7
    assert e.loc["nlschools_icc", "passed"] is False  # |z| = 2.3


def test_a_row_passes_when_inside_its_range():
    row = pd.Series({"value": 0.36, "sd": 0.045, "low": 0.32, "high": 0.41}, name="annual_gain")
    # inside the range passes whatever z says; outside fails whatever z says
    assert passes(row, 0.405, z=5.0) is True
    assert passes(row, 0.32, z=0.0) is True  # the bounds belong to the range
    assert passes(row, 0.415, z=0.1) is False and passes(row, 0.31, z=0.1) is False
    upper = pd.Series({"value": 0.0, "sd": np.nan, "low": np.nan, "high": 0.1}, name="u")
    assert passes(upper, -3.0) is True and passes(upper, 0.11) is False
    point = pd.Series({"value": 1.0, "sd": 0.1, "low": np.nan, "high": np.nan}, name="p")
    assert passes(point, 1.19, z=1.9) is True and passes(point, 1.21, z=2.1) is False
    with pytest.raises(TargetsError, match="row 'p'"):
        passes(point, 1.0)


def test_mean_percentile_rank_is_realdatas_statistic_on_the_same_scores():
    """class_size_mean_percentile_rank ranks simulated scores as realdata ranks STAR's."""
    from toolkit.calibration.quantities import GROWTH, growth_changes

    sims = Simulations(Parameters(), 40, seed=5)  # a whole year: the effect is a few points
    est = QUANTITIES["class_size_mean_percentile_rank"].function(sims)
    k = growth_changes(sims, GROWTH["kindergarten"])  # STAR's year: a kindergarten year's growth
    df = sims.arms({"small": "standardized"}, n_students=15, **k)
    reg = sims.arms({"regular": "standardized"}, n_students=23, **k)
    # with equal classes within each size, the mean over classrooms is the pooled mean
    ref = percentile_effect(df["score"].to_numpy(), reg["score"].to_numpy())
    assert est.value == pytest.approx(ref, rel=1e-12)
    assert est.se > 0
    # for normal scores the mean rank is about 100 (Phi(d / sqrt 2) - 0.5), below the median
    # reading 100 (Phi(d) - 0.5) of the same classrooms
    from scipy.stats import norm

    median = QUANTITIES["class_size_percentile_points"].function(sims)
    assert 0 < est.value < median.value
    d = norm.ppf(median.value / 100 + 0.5)
    assert est.value == pytest.approx(100 * (norm.cdf(d / np.sqrt(2)) - 0.5), abs=1.0)
    assert sims.runs == 3  # both readings share the two class sizes (and the year's growth)


def test_percentile_ranks_are_mid_ranks():
    ref = np.array([0.0, 1.0, 1.0, 3.0])
    assert percentile_ranks(np.array([1.0, -1.0, 5.0]), ref).tolist() == [50.0, 0.0, 100.0]
    assert percentile_ranks(ref, ref).mean() == pytest.approx(50.0)
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.1, 1, 20000), rng.normal(0, 1, 20000)
    from scipy.stats import norm

    expected = 100 * (norm.cdf(0.1 / np.sqrt(2)) - 0.5)
    assert percentile_effect(a, b) == pytest.approx(expected, abs=0.6)


def test_interest_declines_over_a_year_of_standardized_teaching():
    sims = Simulations(SMALL, 6, seed=2)
    est = QUANTITIES["interest_change"].function(sims)
    assert est.value < 0 and est.se > 0
    # the change is end-of-year interest minus the interest each student was drawn with
    from toolkit.model.cohort import classroom_seed, draw_cohort

    df = sims.arms({"s": "standardized"}).sort_values(["replicate", "student"])
    first = df[df.replicate == 0]
    start = draw_cohort(sims.params, classroom_seed(2, 0)).interest
    cols = [c for c in df.columns if c.startswith("interest_")]
    per_class0 = (first[cols].to_numpy() - start).mean()
    assert per_class0 < 0
    # no change of interest at all when interest never changes
    still = Simulations(SMALL.replace(interest_rate=0.0), 4, seed=2)
    assert QUANTITIES["interest_change"].function(still).value == pytest.approx(0.0, abs=1e-12)


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
