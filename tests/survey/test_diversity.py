"""Effect sizes and diversity on real data go through toolkit.metrics unchanged."""

import numpy as np
import pandas as pd
import pytest

from toolkit.metrics import compare_groups, glass_delta, group_metrics
from toolkit.survey import (
    diversity_by_cluster,
    diversity_by_group,
    effect_size_table,
    score_items,
)


@pytest.fixture(scope="module")
def scored(bfi, bfi_keys) -> pd.DataFrame:
    scores = score_items(bfi, bfi_keys).scores
    return scores.join(bfi[["gender", "education"]])


def test_effect_size_table_is_compare_groups_plus_glass(scored):
    dvs = ["agree", "neuroticism"]
    table = effect_size_table(scored, dvs, "gender", reference=1)
    assert table["dv"].tolist() == dvs
    for dv in dvs:
        row = table[table["dv"] == dv].drop(
            columns=["dv", "glass_delta", "glass_ci_low", "glass_ci_high"]
        )
        expected = compare_groups(scored, dv, "gender", reference=1)
        pd.testing.assert_frame_equal(row.reset_index(drop=True), expected)
        gd = glass_delta(
            scored.loc[scored["gender"] == 2, dv], scored.loc[scored["gender"] == 1, dv]
        )
        got = table.loc[table["dv"] == dv, "glass_delta"].iloc[0]
        assert got == pytest.approx(gd["estimate"].iloc[0])
    # women score higher on agreeableness in bfi (psych's documentation example)
    assert table.loc[0, "cohen_d"] > 0.3


def test_paired_table_has_no_glass(scored):
    long = pd.DataFrame(
        {
            "id": np.tile(np.arange(50), 2),
            "time": np.repeat(["pre", "post"], 50),
            "y": np.concatenate([scored["agree"].iloc[:50], scored["agree"].iloc[50:100]]),
        }
    )
    table = effect_size_table(long, "y", "time", reference="pre", paired_on="id")
    assert "glass_delta" not in table.columns
    assert table["d_type"].iloc[0] == "d_z"


def test_diversity_by_group_equals_group_metrics(scored):
    profile = ["agree", "conscientious", "extraversion", "neuroticism", "openness"]
    res = diversity_by_group(scored, "agree", "gender", profile=profile)
    base = group_metrics(scored, "gender", "agree", None, profile)
    pd.testing.assert_frame_equal(res.iloc[:2].reset_index(drop=True), base, check_dtype=False)
    overall = res.iloc[2]
    assert overall["gender"] == "(all)"
    assert overall["n"] == scored["agree"].notna().sum()
    assert 0 < overall["diversity_of_excellence"] <= 1


def test_diversity_by_cluster_on_nlschools(nlschools):
    res = diversity_by_cluster(nlschools, "lang", "class", by="COMB")
    assert len(res.clusters) == nlschools["class"].nunique()
    sd = res.summary[res.summary["metric"] == "sd"].set_index("COMB")
    per = res.clusters[res.clusters["n"] >= 5]
    for comb, grp in per.groupby("COMB"):
        assert sd.loc[comb, "n_clusters"] == len(grp)
        assert sd.loc[comb, "mean"] == pytest.approx(grp["sd"].mean())
        assert sd.loc[comb, "median"] == pytest.approx(grp["sd"].median())
    assert set(res.summary["metric"]) >= {"mean", "sd", "gini", "p90_p10", "p75_p25", "cv"}


def test_errors(scored):
    with pytest.raises(ValueError, match="is not in data"):
        effect_size_table(scored, ["agree", "nope"], "gender")
    with pytest.raises(ValueError, match="cluster must not"):
        diversity_by_cluster(scored, "agree", "gender", by="gender")


def test_errors_name_the_column_and_what_is_wrong(nlschools):
    two = nlschools.assign(g=np.where(nlschools.index % 2, "a", "b"))
    with pytest.raises(ValueError, match=r"dvs: column 'lang': .*at least 2 non-missing"):
        effect_size_table(two.assign(lang=np.nan), "lang", "g")
    with pytest.raises(ValueError, match=r"no 'class' has 100 or more rows with a 'lang' value"):
        diversity_by_cluster(nlschools, "lang", "class", by="COMB", min_size=100)
