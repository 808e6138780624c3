"""Known indices recovered through the same path as every study: design, runner, analysis.

The closed-form functions are design models (toolkit.robustness.models), so the Saltelli or
Morris design, the runner's work units and parts, the per-point outputs and SALib's analysis
are exactly those of a classroom study. Sample sizes are stated in each test.
"""

import numpy as np
import pandas as pd
import pytest

from toolkit.robustness.analysis import drivers
from toolkit.robustness.models import Ishigami, SobolG


def _indices(result, output):
    t = pd.read_csv(result.folder / "sobol.csv")
    return t[t["output"] == output].set_index("parameter")


def test_ishigami_indices_within_bootstrap_intervals(study, run):
    """Ishigami (a = 7, b = 0.1) at N = 1024 base samples (6,144 points, k = 4 with x4).

    Design seeds 0-9 all put the analytic values inside the intervals (checked once).
    """
    spec = study({"model": "ishigami", "design": "sobol", "n": 1024, "resamples": 300})
    got = _indices(run(spec), "f: y")
    true = Ishigami.analytic()
    assert np.allclose(true["S1"], [0.314, 0.442, 0.0, 0.0], atol=5e-4)
    assert np.allclose(true["ST"], [0.558, 0.442, 0.244, 0.0], atol=5e-4)
    for p in true.index:
        for idx in ("S1", "ST"):
            lo, hi = got.loc[p, f"{idx}_low"], got.loc[p, f"{idx}_high"]
            assert lo <= true.loc[p, idx] <= hi, (p, idx, lo, true.loc[p, idx], hi)
    # the variable the function never reads: both indices exactly 0 (interval covers 0)
    assert got.loc["x4", "S1"] == 0 and got.loc["x4", "ST"] == 0
    assert got.loc["x4", "ST_low"] <= 0 <= got.loc["x4", "ST_high"]
    # the interacting x3 has no first-order effect but a clear total one
    assert got.loc["x3", "S1_low"] <= 0 <= got.loc["x3", "S1_high"]
    assert got.loc["x3", "ST_low"] > 0.15


def test_sobol_g_indices_within_bootstrap_intervals(study, run):
    """Sobol's G (a = 0, 1, 4.5, 9, 99, 99) at N = 1024 (8,192 points)."""
    spec = study({"model": "sobol_g", "design": "sobol", "n": 1024, "resamples": 300})
    got = _indices(run(spec), "f: y")
    true = SobolG.analytic()
    for p in true.index:
        for idx in ("S1", "ST"):
            lo, hi = got.loc[p, f"{idx}_low"], got.loc[p, f"{idx}_high"]
            assert lo <= true.loc[p, idx] <= hi, (p, idx, lo, hi)
    # the two near-inert variables (a = 99): intervals cover 0
    for p in ("x5", "x6"):
        assert got.loc[p, "S1_low"] <= 0 <= got.loc[p, "S1_high"]
    assert [p for p, _ in drivers(got.reset_index().assign(output="o"), "o")] == ["x1", "x2"]


def test_morris_ranks_the_unread_variable_last(study, run):
    """20 Morris trajectories on Ishigami: x4 (never read) has mu* = 0 and ranks last."""
    spec = study({"model": "ishigami", "design": "morris", "n": 20})
    t = pd.read_csv(run(spec).folder / "morris.csv").set_index("parameter")
    assert t.loc["x4", "mu_star"] == 0
    assert t["mu_star"].idxmin() == "x4"
    assert t["rank"].max() == t.loc["x4", "rank"]
    assert t.loc["x2", "mu_star"] > t.loc["x3", "mu_star"] > 0


@pytest.mark.slow
def test_morris_ranks_a_classroom_parameter_without_effect_last(study, run):
    """Classroom model, standardized and individualized only: neither regime reads the
    system's picture of students' interests (profile_noise tailors personalized paths), so
    with common random numbers its elementary effects are exactly 0 and Morris ranks it last.
    4 trajectories x 4 points, 3 classrooms of 8 students, 15 days."""
    spec = study(
        {
            "parameters": ["teacher_capacity", "zpd_width", "profile_noise"],
            "design": "morris",
            "n": 4,
            "metrics": ["effect_size", "sd_score"],
        },
        study={"classrooms": 3},
        arms={"standardized": "standardized", "individualized": "individualized"},
        parameters={"n_students": 8, "n_days": 15, "peer_ties": 3},
    )
    t = pd.read_csv(run(spec).folder / "morris.csv")
    for output, rows in t.groupby("output"):
        rows = rows.set_index("parameter")
        assert rows.loc["profile_noise", "mu_star"] == 0, output
        assert rows["mu_star"].idxmin() == "profile_noise", output
        assert rows.loc["teacher_capacity", "mu_star"] > 0, output


def test_ishigami_second_order(study, run):
    """With second order (N = 512, 5,120 points): S13 = ST1 - S1 = 0.244, S12 = S23 = 0."""
    table = {"model": "ishigami", "design": "sobol", "n": 512, "second_order": True}
    spec = study(table | {"parameters": ["x1", "x2", "x3"], "resamples": 300})
    s2 = pd.read_csv(run(spec).folder / "sobol2.csv").set_index(["parameter", "other"])
    true = Ishigami.analytic()
    s13 = true.loc["x1", "ST"] - true.loc["x1", "S1"]
    for pair, value in ((("x1", "x3"), s13), (("x1", "x2"), 0.0), (("x2", "x3"), 0.0)):
        assert s2.loc[pair, "S2_low"] <= value <= s2.loc[pair, "S2_high"], pair
