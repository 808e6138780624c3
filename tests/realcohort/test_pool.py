"""Weighted, design-based, Rubin-pooled estimates of a cohort study, against R's survey and mitools.

tests/reference/realcohort_pool.R computes, for three imputed cohorts of 8 classes of 5 pupils
with unequal weights, JK1 replicate weights over classes (``as.svrepdesign(type = "JK1",
mse = TRUE)``), the weighted mean of one arm's scores, the mean paired difference, the effect
size (that difference over the weighted SD of the reference arm's scores, via
``withReplicates``) and the class-weighted mean of a class-level metric and of its paired
difference, and pools each over the cohorts with ``MIcombine``.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.realcohort.pool import pooled_summary, pooled_tails
from toolkit.survey import jackknife_design, lsa_mean, rubin_combine

REF = Path(__file__).resolve().parents[1] / "reference"


@pytest.fixture(scope="module")
def fixture():
    data = pd.read_csv(REF / "realcohort_pool_data.csv")
    ref = json.loads((REF / "realcohort_pool.json").read_text())
    first = data[data["cohort"] == 0]
    keys = pd.DataFrame({"class_index": first["class"], "student": first["pupil"]})
    frame = first.assign(_w=first["w"], _c=first["class"]).reset_index(drop=True)
    design = jackknife_design(frame, "_w", "_c")
    students = []
    for arm in ("std", "alt"):
        score = data[f"score_{arm}"]
        students.append(
            pd.DataFrame(
                {
                    "point": data["cohort"],
                    "year": 0,
                    "arm": arm,
                    "replicate": data["class"],
                    "student": data["pupil"],
                    "score": score,
                    "prior_score": data["score_std"] * 0.5,
                    "core_start": 0.0,
                    "core_end": score,
                    "self_regulation_start": 0.4,
                    "self_regulation_end": 0.4,
                    "engagement": score / 10,
                }
            )
        )
    students = pd.concat(students, ignore_index=True)
    classes = data.drop_duplicates(["cohort", "class"])
    classrooms = pd.concat(
        [
            pd.DataFrame(
                {
                    "point": classes["cohort"],
                    "year": 0,
                    "arm": arm,
                    "replicate": classes["class"],
                    "sd_score": classes[f"sd_{arm}"],
                }
            )
            for arm in ("std", "alt")
        ],
        ignore_index=True,
    )
    summary = pooled_summary(students, classrooms, keys, design, ["std", "alt"], "std", 8)
    return data, ref, summary, students, keys, design


def _row(summary, metric, arm="alt"):
    return summary[(summary["metric"] == metric) & (summary["arm"] == arm)].iloc[0]


@pytest.mark.parametrize(
    ("name", "metric", "cols"),
    [
        ("mean_alt", "score", ("mean", "se", "ci_low", "ci_high", "fmi")),
        ("diff", "score", ("diff", "diff_se", "diff_ci_low", "diff_ci_high", "diff_fmi")),
        ("effect", "effect_size", ("mean", "se", "ci_low", "ci_high", "fmi")),
        ("sd_alt", "sd_score", ("mean", "se", "ci_low", "ci_high", "fmi")),
        ("sd_diff", "sd_score", ("diff", "diff_se", "diff_ci_low", "diff_ci_high", "diff_fmi")),
    ],
)
def test_pooled_estimates_match_r(fixture, name, metric, cols):
    _, ref, summary, *_ = fixture
    r = _row(summary, metric)
    want = ref[name]
    for col, key in zip(cols, ("estimate", "se", "ci_low", "ci_high", "missinfo"), strict=True):
        assert r[col] == pytest.approx(want[key], rel=1e-8, abs=1e-10), (name, col)


def test_imputation_share_is_the_between_part_of_the_total_variance(fixture):
    data, ref, summary, *_ = fixture
    data = data.assign(sd_diff=data["sd_alt"] - data["sd_std"])
    per_cohort = []
    for _, one in data.groupby("cohort"):
        cl = one.groupby("class").agg(w=("w", "sum"), d=("sd_diff", "first"))
        per_cohort.append(np.average(cl["d"], weights=cl["w"]))
    between = np.var(per_cohort, ddof=1)
    r = _row(summary, "sd_score")
    total = ref["sd_diff"]["se"] ** 2
    assert r["diff_imputation_share"] == pytest.approx((1 + 1 / 3) * between / total, rel=1e-8)


def test_reference_rows_and_counts(fixture):
    _, _, summary, *_ = fixture
    ref = summary[summary["arm"] == "std"]
    assert (ref.loc[ref["metric"] == "effect_size", ["mean", "ci_low", "ci_high"]] == 0).all().all()
    assert ref["diff_ci_low"].isna().all() and (ref["diff"] == 0).all()
    assert set(summary.loc[summary["metric"] == "score", "n_units"]) == {40}
    assert set(summary.loc[summary["metric"] == "sd_score", "n_units"]) == {8}
    assert (summary["cohorts"] == 3).all()


def test_same_as_the_survey_helpers_on_each_cohort(fixture):
    """Each cohort's estimate and variance are lsa_mean's; pooled, rubin_combine's."""
    data, _, summary, _, _, design = fixture
    est, var = [], []
    for _, one in data.groupby("cohort"):
        one = one.reset_index(drop=True)
        d = design.__class__(
            **{
                **design.__dict__,
                "data": design.data.assign(y=(one["score_alt"] - one["score_std"]).to_numpy()),
            }
        )
        res = lsa_mean(d, "y", sd=False)
        est.append(float(res["estimate"].iloc[0]))
        var.append(float(res["se"].iloc[0]) ** 2)
    pooled = rubin_combine(est, var)
    r = _row(summary, "score")
    assert r["diff"] == pytest.approx(pooled["estimate"].iloc[0], rel=1e-12)
    assert r["diff_se"] == pytest.approx(pooled["se"].iloc[0], rel=1e-10)


def test_tails_split_the_pupils_into_weighted_quintiles(fixture):
    _, _, _, students, keys, design = fixture
    tails = pooled_tails(students, keys, design, ["std", "alt"], "std")
    assert sorted(tails["quintile"].unique()) == [1, 2, 3, 4, 5]
    counts = tails[(tails["arm"] == "alt") & (tails["value"] == "score")]["n_units"]
    assert counts.sum() == 40
    # the top quintile of the prior score has the highest scores
    means = tails[(tails["arm"] == "std") & (tails["value"] == "score")].set_index("quintile")
    assert means["mean"].is_monotonic_increasing
