"""group_metrics, compare_conditions and by_prior_group on hand-built and simulated tables."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from toolkit.metrics import (
    by_prior_group,
    compare_conditions,
    diversity_of_excellence,
    excellence_thresholds,
    gini,
    group_metrics,
    matthew_effect,
    mean_pairwise_distance,
    rao_quadratic_entropy_profiles,
    strongest_domain_entropy,
)

SKILLS = ["skill_mathematics", "skill_reading", "skill_arts", "skill_technology"]
REGIMES = ["standardized", "individualized", "personalized", "personal"]


@pytest.fixture(scope="module")
def students() -> pd.DataFrame:
    """A table shaped like the simulation's student output (values are random)."""
    rng = np.random.default_rng(20240611)
    rows = []
    for rep in range(3):
        for cls in range(2):
            prior = rng.normal(size=12)  # common random numbers: same students in each regime
            for k, regime in enumerate(REGIMES):
                gain = 0.3 + 0.05 * k + 0.1 * k * prior + rng.normal(0, 0.3, 12)
                skills = rng.normal(size=(12, 4)) + 0.2 * k * np.eye(4)[k % 4]
                for s in range(12):
                    rows.append(
                        {
                            "regime": regime,
                            "replicate": rep,
                            "classroom": cls,
                            "student": s,
                            "prior_score": prior[s],
                            "score": prior[s] + gain[s],
                            "gain": gain[s],
                            "total_learning": gain[s] + 0.1 * k,
                            "engagement": 0.5 + 0.1 * k + rng.normal(0, 0.05),
                            "self_regulation_start": 0.4,
                            "self_regulation_end": 0.4 + 0.05 * k,
                            **dict(zip(SKILLS, skills[s], strict=True)),
                        }
                    )
    return pd.DataFrame(rows)


def test_group_metrics_full_set_matches_individual_functions(students):
    res = group_metrics(
        students,
        by="regime",
        score="score",
        prior="prior_score",
        profile=SKILLS,
        gain="gain",
        extra=["engagement", "total_learning"],
    )
    assert len(res) == 4
    assert res["regime"].tolist() == sorted(REGIMES)
    expected_cols = [
        "regime",
        "n",
        "n_omitted",
        "mean",
        "sd",
        "cv",
        "gini",
        "p90_p10",
        "p75_p25",
        "matthew",
        "mean_pairwise_distance",
        "strongest_domain_entropy",
        "rao_q",
        "diversity_of_excellence",
        "mean_engagement",
        "mean_total_learning",
    ]
    assert list(res.columns) == expected_cols
    row = res.set_index("regime").loc["personal"]
    grp = students[students["regime"] == "personal"]
    zero = students["score"].min()  # shift="pooled_min"
    y = grp["score"] - zero
    assert row["n"] == 72
    assert row["mean"] == pytest.approx(grp["score"].mean())
    assert row["sd"] == pytest.approx(grp["score"].std())
    assert row["cv"] == pytest.approx(y.std() / y.mean())
    assert row["gini"] == pytest.approx(gini(grp["score"], shift=zero))
    assert row["p90_p10"] == pytest.approx(grp["score"].quantile(0.9) - grp["score"].quantile(0.1))
    assert row["matthew"] == pytest.approx(
        matthew_effect(grp["prior_score"], grp["gain"])["r"].iloc[0]
    )
    assert row["mean_pairwise_distance"] == pytest.approx(mean_pairwise_distance(grp[SKILLS]))
    assert row["strongest_domain_entropy"] == pytest.approx(strongest_domain_entropy(grp[SKILLS]))
    assert row["rao_q"] == pytest.approx(rao_quadratic_entropy_profiles(grp[SKILLS]))
    pooled_thr = excellence_thresholds(students[SKILLS])
    assert row["diversity_of_excellence"] == pytest.approx(
        diversity_of_excellence(grp[SKILLS], thresholds=pooled_thr)
    )
    assert row["mean_engagement"] == pytest.approx(grp["engagement"].mean())


def test_group_metrics_threshold_modes(students):
    std = students[students["regime"] == "standardized"]
    thr = excellence_thresholds(std[SKILLS])
    by_ref = group_metrics(students, "regime", "score", profile=SKILLS, thresholds=thr)
    own = group_metrics(students, "regime", "score", profile=SKILLS, thresholds="group")
    std_ref = by_ref.set_index("regime").loc["standardized", "diversity_of_excellence"]
    std_own = own.set_index("regime").loc["standardized", "diversity_of_excellence"]
    assert std_ref == pytest.approx(std_own)  # same bar for the reference regime itself
    pers_own = own.set_index("regime").loc["personal", "diversity_of_excellence"]
    assert pers_own == pytest.approx(
        diversity_of_excellence(students.loc[students["regime"] == "personal", SKILLS])
    )


def test_group_metrics_shift_options_and_default_gain(students):
    res = group_metrics(students, ["regime", "replicate", "classroom"], "score", "prior_score")
    assert len(res) == 4 * 3 * 2
    # default gain = score - prior, equal to the gain column here
    res_gain = group_metrics(
        students, ["regime", "replicate", "classroom"], "score", "prior_score", gain="gain"
    )
    assert res["matthew"].to_numpy() == pytest.approx(res_gain["matthew"].to_numpy())
    with pytest.raises(ValueError, match="lie below the zero point set by shift=None"):
        group_metrics(students, "regime", "score", shift=None)
    fixed = group_metrics(students, "regime", "score", shift=-10.0)
    grp = students.loc[students["regime"] == "standardized", "score"]
    assert fixed.set_index("regime").loc["standardized", "gini"] == pytest.approx(gini(grp + 10.0))
    own_min = group_metrics(students, "regime", "score", shift="group_min")
    assert own_min.set_index("regime").loc["standardized", "gini"] == pytest.approx(
        gini(grp, shift="min")
    )


def test_group_metrics_missing_values_and_small_groups():
    df = pd.DataFrame(
        {
            "g": ["a", "a", "a", "b"],
            "score": [1.0, np.nan, 3.0, 2.0],
            "m": [1.0, 0.0, 0.0, 1.0],
            "r": [0.0, 1.0, 0.0, 0.5],
        }
    )
    res = group_metrics(df, "g", "score", profile=["m", "r"], shift=0.0).set_index("g")
    assert (res.loc["a", "n"], res.loc["a", "n_omitted"]) == (2, 1)
    assert res.loc["a", "gini"] == pytest.approx(0.25)  # [1, 3]: |2|*2 / (2*4*2)
    assert math.isnan(res.loc["b", "sd"]) and math.isnan(res.loc["b", "mean_pairwise_distance"])
    assert res.loc["b", "strongest_domain_entropy"] == 0.0
    with pytest.raises(ValueError, match=r"Columns \['score'\] contain NaN"):
        group_metrics(df, "g", "score", nan_policy="raise")


def test_group_metrics_bad_input(students):
    with pytest.raises(ValueError, match="by: column 'school' is not in data"):
        group_metrics(students, "school", "score")
    with pytest.raises(TypeError, match="profile must be a list"):
        group_metrics(students, "regime", "score", profile="skill_arts")
    with pytest.raises(ValueError, match="gain was given without prior"):
        group_metrics(students, "regime", "score", gain="gain")
    with pytest.raises(ValueError, match="shift must be one of"):
        group_metrics(students, "regime", "score", shift="median")
    with pytest.raises(TypeError, match="score: column 'regime' must be numeric"):
        group_metrics(students, "score", "regime")


# --------------------------------------------------------------------- compare_conditions
@pytest.fixture
def unit_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "regime": ["std", "std", "std", "pers", "pers", "pers"],
            "replicate": [1, 2, 3, 1, 2, 3],
            "mean": [0.0, 0.2, 0.1, 0.3, 0.4, 0.5],
            "gini": [0.20, 0.22, 0.18, 0.25, 0.26, 0.24],
            "n": [25, 25, 25, 25, 25, 25],
        }
    )


def test_compare_conditions_hand_built(unit_table):
    res = compare_conditions(unit_table, "regime", "std", pair_on="replicate")
    assert list(res.columns) == [
        "condition",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "diff_vs_reference",
        "diff_ci_low",
        "diff_ci_high",
        "p_val",
        "n_units",
        "n_pairs",
    ]
    assert res["metric"].tolist() == ["mean", "mean", "gini", "gini"]  # "n" is skipped
    row = res[(res["metric"] == "mean") & (res["condition"] == "pers")].iloc[0]
    # pers means 0.3, 0.4, 0.5: mean 0.4, sd 0.1
    t = stats.t.ppf(0.975, 2)
    assert row["mean"] == pytest.approx(0.4)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        (0.4 - t * 0.1 / math.sqrt(3), 0.4 + t * 0.1 / math.sqrt(3))
    )
    # paired differences 0.3, 0.2, 0.4: mean 0.3, sd 0.1
    assert row["diff_vs_reference"] == pytest.approx(0.3)
    assert row["diff_ci_low"] == pytest.approx(0.3 - t * 0.1 / math.sqrt(3))
    assert row["p_val"] == pytest.approx(2 * stats.t.sf(0.3 / (0.1 / math.sqrt(3)), 2))
    assert (row["n_units"], row["n_pairs"]) == (3, 3)
    ref = res[(res["metric"] == "gini") & (res["condition"] == "std")].iloc[0]
    assert ref["diff_vs_reference"] == 0.0 and math.isnan(ref["diff_ci_low"])
    assert ref["mean"] == pytest.approx(0.2)


def test_compare_conditions_unpaired_is_welch(unit_table):
    res = compare_conditions(unit_table, "regime", "std", pair_on=None, metrics=["mean"])
    row = res[res["condition"] == "pers"].iloc[0]
    a = unit_table.loc[unit_table["regime"] == "pers", "mean"]
    b = unit_table.loc[unit_table["regime"] == "std", "mean"]
    welch = stats.ttest_ind(a, b, equal_var=False)
    assert row["p_val"] == pytest.approx(welch.pvalue)
    lo, hi = welch.confidence_interval(0.95)
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx((lo, hi))
    assert math.isnan(row["n_pairs"])


def test_compare_conditions_missing_and_errors(unit_table):
    t = unit_table.copy()
    t.loc[3, "gini"] = np.nan  # pers, replicate 1
    res = compare_conditions(t, "regime", "std", "replicate", metrics=["gini"])
    row = res[res["condition"] == "pers"].iloc[0]
    assert (row["n_units"], row["n_pairs"]) == (2, 2)
    assert row["diff_vs_reference"] == pytest.approx(np.mean([0.26 - 0.22, 0.24 - 0.18]))
    with pytest.raises(ValueError, match="contain NaN and nan_policy='raise'"):
        compare_conditions(t, "regime", "std", "replicate", ["gini"], nan_policy="raise")
    with pytest.raises(ValueError, match="metrics: column 'engagement' is not in data"):
        compare_conditions(t, "regime", "std", "replicate", ["engagement"])
    with pytest.raises(ValueError, match="reference: 'standardized'"):
        compare_conditions(t, "regime", "standardized", "replicate")
    with pytest.raises(ValueError, match="pair_on: each"):
        compare_conditions(pd.concat([t, t]), "regime", "std", "replicate")
    with pytest.raises(TypeError, match="unit_table must be a pandas DataFrame"):
        compare_conditions(t.to_numpy(), "regime", "std", "replicate")


def test_pipeline_group_metrics_to_compare_conditions(students):
    units = group_metrics(students, ["regime", "replicate", "classroom"], "score", profile=SKILLS)
    res = compare_conditions(
        units, "regime", "standardized", ["replicate", "classroom"], metrics=["mean", "gini"]
    )
    assert len(res) == 8
    assert (res["n_units"] == 6).all()
    std_mean = res[(res["condition"] == "standardized") & (res["metric"] == "mean")]
    assert std_mean["mean"].iloc[0] == pytest.approx(
        units.loc[units["regime"] == "standardized", "mean"].mean()
    )


# --------------------------------------------------------------------- by_prior_group
def test_by_prior_group_quintiles():
    df = pd.DataFrame({"prior_score": [0.5, -1.2, 2.0, 0.1, -0.3, 1.1, -2.0, 0.8, 1.5, -0.7]})
    g = by_prior_group(df, "prior_score")
    assert g.name == "prior_group"
    assert list(g.cat.categories) == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    assert g.cat.ordered
    assert g.value_counts().to_dict() == {f"Q{k}": 2 for k in range(1, 6)}
    assert g[df["prior_score"].idxmin()] == "Q1" and g[df["prior_score"].idxmax()] == "Q5"


def test_by_prior_group_within_missing_and_errors():
    df = pd.DataFrame(
        {
            "classroom": ["a"] * 4 + ["b"] * 4,
            "prior": [1.0, 2.0, 3.0, 4.0, 10.0, 20.0, np.nan, 40.0],
        },
        index=list("pqrstuvw"),
    )
    g = by_prior_group(df, "prior", q=2, within="classroom")
    assert g.index.tolist() == list("pqrstuvw")
    assert g.tolist()[:4] == ["Q1", "Q1", "Q2", "Q2"]
    assert pd.isna(g["v"])
    assert g[["u", "w"]].tolist() == ["Q1", "Q2"]
    pooled = by_prior_group(df, "prior", q=2)
    assert pooled[list("pqrs")].tolist() == ["Q1"] * 4
    with pytest.raises(ValueError, match="too many tied values"):
        by_prior_group(pd.DataFrame({"prior": [1.0] * 9 + [2.0]}), "prior")
    with pytest.raises(ValueError, match="q must be an integer of at least 2"):
        by_prior_group(df, "prior", q=1)
    with pytest.raises(ValueError, match="prior: column 'score' is not in data"):
        by_prior_group(df, "score")


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"shift": -5.0, "thresholds": "group"},
        {"ties": "first", "entropy_base": 2.0},
        {"normalize_entropy": True, "quantile": 0.8},
        {"shift": None},
    ],
)
def test_equal_sized_groups_take_the_array_path_with_the_same_numbers(options, monkeypatch):
    """Simulation output (equal groups, no NaN) is computed on arrays; same as group by group."""
    import toolkit.metrics.summary as summary

    rng = np.random.default_rng(8)
    g, n = 12, 9
    df = pd.DataFrame(
        {
            "arm": np.repeat(["b", "a", "c"], g // 3 * n),
            "rep": np.tile(np.repeat(np.arange(g // 3), n), 3),
            "score": rng.normal(size=g * n) + 6.0,
            "prior": rng.normal(size=g * n) + 6.0,
            "e": rng.uniform(size=g * n),
        }
    )
    for k in range(3):
        df[f"d{k}"] = rng.normal(size=g * n).round(1)  # ties in the strongest domain
    kw = dict(by=["arm", "rep"], score="score", prior="prior",
              profile=["d0", "d1", "d2"], extra=["e"], **options)  # fmt: skip
    taken = []
    fast_impl = summary._equal_groups_fast

    def spy(*a, **k):
        out = fast_impl(*a, **k)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(summary, "_equal_groups_fast", spy)
    fast = summary.group_metrics(df, **kw)
    assert taken == [True]
    monkeypatch.setattr(summary, "_equal_groups_fast", lambda *a, **k: None)
    slow = summary.group_metrics(df, **kw)
    assert list(fast.columns) == list(slow.columns)
    pd.testing.assert_frame_equal(fast, slow, check_dtype=False, rtol=1e-12, atol=1e-12)


def test_unequal_or_incomplete_groups_take_the_general_path():
    import toolkit.metrics.summary as summary

    df = pd.DataFrame({"g": ["a"] * 5 + ["b"] * 6, "score": np.arange(11.0)})
    assert summary._equal_groups_fast(
        df, ["g"], "score", None, None, None, [], 0.0, 0.9, "pooled", None, "split", None,
        False, "euclidean", "pearson",
    ) is None  # fmt: skip
    df2 = pd.DataFrame({"g": ["a"] * 5 + ["b"] * 5, "score": [np.nan, *range(9)]})
    assert summary._equal_groups_fast(
        df2, ["g"], "score", None, None, None, [], 0.0, 0.9, "pooled", None, "split", None,
        False, "euclidean", "pearson",
    ) is None  # fmt: skip
