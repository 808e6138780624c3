"""SPSS user-defined missing values: declared codes are missing, never answers.

tests/reference/survey_spss_missing.R writes the responses (six five-point items with
8 = "Don't know" and 9 = "Refused", declared missing) and scores them with haven::read_sav and
psych (alpha, scoreItems). The test writes its own .sav from the same responses with
pyreadstat (``missing_ranges``), reads it back and must reproduce psych's numbers: before the
fix the codebook took the labelled range 1..9 as the answer range and reversed q2 and q5 as
10 - x instead of 6 - x.
"""

import json

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from toolkit.survey import Codebook, cronbach_alpha, read_spss, read_survey

ITEMS = ["q1", "q2", "q3", "q4", "q5", "q6"]
KEYS = {"scale": ["q1", "-q2", "q3", "q4", "-q5", "q6"]}
LABELS = {
    1.0: "Strongly disagree",
    2.0: "Disagree",
    3.0: "Neither",
    4.0: "Agree",
    5.0: "Strongly agree",
    8.0: "Don't know",
    9.0: "Refused",
}
ATOL = 1e-10


@pytest.fixture(scope="module")
def ref(reference_dir) -> dict:
    return json.loads((reference_dir / "survey_spss_missing.json").read_text())


@pytest.fixture(scope="module")
def raw(reference_dir) -> pd.DataFrame:
    return pd.read_csv(reference_dir / "survey_spss_missing.csv")


@pytest.fixture
def sav(raw, tmp_path):
    path = tmp_path / "missing.sav"
    pyreadstat.write_sav(
        raw.astype(float),
        path,
        variable_value_labels=dict.fromkeys(ITEMS, LABELS),
        missing_ranges={it: [8.0, 9.0] for it in ITEMS},
    )
    return path


def test_declared_codes_are_read_as_missing(sav, raw, ref):
    df = read_spss(sav)
    assert int(df[ITEMS].isna().sum().sum()) == ref["na_after_read"]
    assert df.attrs["missing_values"]["q1"] == [(8.0, 8.0), (9.0, 9.0)]
    kept = read_spss(sav, user_missing=True)
    np.testing.assert_array_equal(kept[ITEMS].to_numpy(), raw[ITEMS].to_numpy(dtype=float))
    assert kept.attrs["missing_values"] == df.attrs["missing_values"]


@pytest.mark.parametrize("user_missing", [False, True])
def test_codebook_from_metadata_scores_like_psych(sav, ref, user_missing, close):
    df = read_survey(sav, user_missing=user_missing)
    cb = Codebook.from_metadata(df, scales=KEYS)
    # the answer range is 1..5, so reversal is 6 - x (psych on haven's data)
    assert {cb.items[it].bounds for it in ITEMS} == {(1.0, 5.0)}
    assert cb.items["q2"].missing == (8, 9)
    assert cb.validate(df).empty
    rec = cb.recode(df, reverse=False)
    assert int(rec[ITEMS].isna().sum().sum()) == ref["na_after_read"]
    # R: psych::scoreItems(list(scale = c("q1", "-q2", "q3", "q4", "-q5", "q6")), x)
    res = cb.score(df)
    close(res.scores["scale"], ref["score_items"]["scores"], ATOL, "scores")
    close(res.stats.loc["scale", "alpha"], ref["score_items"]["alpha"], ATOL, "alpha")
    # R: psych::alpha(x, keys = c("q2", "q5"))
    a = cronbach_alpha(rec, KEYS["scale"])
    close(a.alpha, ref["alpha"]["raw_alpha"], ATOL, "raw_alpha")
    close(a.total["std_alpha"].iloc[0], ref["alpha"]["std_alpha"], ATOL, "std_alpha")
    close(a.total["mean"].iloc[0], ref["alpha"]["mean"], ATOL, "mean")
    close(a.item_stats["mean"], ref["alpha"]["item_mean"], ATOL, "item means")
    close(a.item_stats["n"], ref["alpha"]["item_n"], 0, "item n")


def test_the_wrong_reversal_would_be_large(ref):
    # what the defect cost on these data: every score off by 1.33 points on a 1-5 scale
    assert ref["wrong_mean_abs_diff"] == pytest.approx(4 / 3)


def test_validate_reports_codes_outside_the_answer_range(sav):
    df = read_spss(sav, user_missing=True)
    df.loc[[4, 17], "q3"] = 7.0  # neither an answer nor a declared missing code
    df.loc[30, "q4"] = 0.0
    cb = Codebook.from_metadata(df, scales=KEYS)
    report = cb.validate(df)
    assert report["check"].tolist() == ["out_of_range", "out_of_range"]
    assert report["column"].tolist() == ["q3", "q4"]
    assert report["rows"].tolist() == [[4, 17], [30]]
    assert "allowed values [1, 2, 3, 4, 5]" in report["message"].iloc[0]
    with pytest.raises(ValueError, match=r"'q3'.*7.*rows \[4, 17\]"):
        cb.recode(df)


def test_missing_ranges_and_labelled_codes_not_declared(tmp_path):
    df = pd.DataFrame({"q1": [1.0, 2.0, 3.0, 95.0, 99.0], "q2": [1.0, 2.0, 3.0, 8.0, 2.0]})
    labels = {1.0: "No", 2.0: "Maybe", 3.0: "Yes", 95.0: "Skipped", 99.0: "Missing"}
    path = tmp_path / "ranges.sav"
    pyreadstat.write_sav(
        df,
        path,
        variable_value_labels={
            "q1": labels,
            "q2": {1.0: "No", 2.0: "Maybe", 3.0: "Yes", 8.0: "Don't know"},
        },
        missing_ranges={"q1": [{"lo": 90.0, "hi": 99.0}]},
    )
    kept = read_spss(path, user_missing=True)
    assert kept.attrs["missing_values"] == {"q1": [(90.0, 99.0)]}
    assert read_spss(path)["q1"].isna().sum() == 2
    # q2's 8 = "Don't know" is not declared missing in the file: kept as an answer, with a warning
    with pytest.warns(UserWarning, match='q2: 8 = "Don.t know"'):
        cb = Codebook.from_metadata(kept, scales={"s": ["q1", "-q2"]})
    assert cb.items["q1"].bounds == (1.0, 3.0)
    assert cb.items["q1"].missing == ((90, 99),)
    assert cb.items["q2"].bounds == (1.0, 8.0)
    fixed = Codebook.from_metadata(kept, scales={"s": ["q1", "-q2"]}, missing=[8])
    assert fixed.items["q2"].bounds == (1.0, 3.0)
    rec = fixed.recode(kept)
    assert rec["q1"].isna().tolist() == [False, False, False, True, True]
    assert rec["q2"].tolist()[:3] == [3.0, 2.0, 1.0] and np.isnan(rec["q2"].iloc[3])
    # the TOML written from it keeps the range
    again = Codebook.from_dict(__import__("tomllib").loads(fixed.to_toml()))
    assert again.items["q1"].missing == ((90, 99),)
