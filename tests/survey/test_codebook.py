"""Codebook: recoding labels, reverse keys, missing codes, validation reports, scale scores."""

import numpy as np
import pandas as pd
import pytest

from toolkit.datasets import codebook_path
from toolkit.survey import Codebook, CodebookItem, ResponseSet, read_codebook, score_items

ATOL = 1e-8


@pytest.fixture(scope="module")
def cb() -> Codebook:
    return read_codebook(codebook_path("bfi"))


@pytest.fixture(scope="module")
def raw_labels(bfi, cb) -> pd.DataFrame:
    """bfi as a survey platform would export it: text labels, ID column, Likert wording."""
    return cb.decode(bfi).reset_index().astype(object)


def test_bundled_bfi_codebook(cb, bfi_keys):
    assert cb.scales == [
        "agreeableness",
        "conscientiousness",
        "extraversion",
        "neuroticism",
        "openness",
    ]
    assert list(cb.keys.values()) == list(bfi_keys.values())
    assert cb.items["A1"].text == "Am indifferent to the feelings of others."
    assert cb.items["A1"].reverse and not cb.items["A2"].reverse
    table = cb.table()
    assert len(table) == 28
    assert table.set_index("item").loc["C4", ["scale", "reverse", "min", "max"]].tolist() == [
        "conscientiousness",
        True,
        1.0,
        6.0,
    ]


def test_validate_clean_data(cb, bfi, raw_labels):
    assert cb.validate(bfi).empty  # the index is named "id", used as the ID
    assert cb.validate(raw_labels).empty


def test_labels_recode_back_to_numbers(cb, bfi, raw_labels):
    rec = cb.recode(raw_labels, reverse=False).set_index("id")
    for col in bfi.columns:
        np.testing.assert_array_equal(rec[col].to_numpy(dtype=float), bfi[col].to_numpy(float))


def test_reverse_keying_uses_item_bounds(cb, bfi):
    rec = cb.recode(bfi)
    np.testing.assert_array_equal(rec["A1"].to_numpy(), 7 - bfi["A1"].to_numpy())
    np.testing.assert_array_equal(rec["A2"].to_numpy(), bfi["A2"].to_numpy())


def test_labels_match_ignoring_case_and_spaces(cb):
    raw = pd.DataFrame({"id": [1, 2], "A2": ["very  accurate", " Very Inaccurate "]})
    sub = Codebook([cb.items["A2"]], id="id")
    assert sub.recode(raw)["A2"].tolist() == [6.0, 1.0]


def test_validation_report_names_columns_and_rows(cb, raw_labels):
    bad = raw_labels.copy()
    bad.loc[3, "A2"] = "Very accurat"  # typo
    bad.loc[5, "C1"] = 7  # out of range
    bad.loc[8, "id"] = bad.loc[9, "id"]  # duplicated ID
    bad = bad.drop(columns="O5")  # missing item
    report = cb.validate(bad)
    by_check = {r["check"]: r for _, r in report.iterrows()}
    assert set(by_check) == {"missing_item", "unknown_label", "out_of_range", "duplicated_id"}
    assert by_check["missing_item"]["column"] == "O5"
    assert by_check["unknown_label"]["column"] == "A2"
    assert by_check["unknown_label"]["rows"] == [3]
    assert by_check["unknown_label"]["values"] == ["Very accurat"]
    assert by_check["out_of_range"]["column"] == "C1"
    assert by_check["out_of_range"]["rows"] == [5]
    assert by_check["duplicated_id"]["rows"] == [8, 9]
    assert "rows [3]" in by_check["unknown_label"]["message"]
    with pytest.raises(ValueError, match=r"'A2'.*'Very accurat'.*rows \[3\]"):
        cb.recode(bad)
    with pytest.warns(UserWarning, match="NaN"):
        rec = cb.recode(bad, errors="coerce")
    assert np.isnan(rec.loc[3, "A2"]) and np.isnan(rec.loc[5, "C1"])


def test_missing_codes():
    agree = ResponseSet("agree", ["Disagree", "Agree"], missing=["Don't know"])
    cb = Codebook(
        [CodebookItem("q1", responses=agree, missing=(99,)), CodebookItem("q2", min=0, max=10)],
        missing=[-9],
    )
    raw = pd.DataFrame({"q1": ["Agree", "don't know", 99, -9, ""], "q2": [0, 10, -9, 3, None]})
    assert cb.validate(raw).empty
    rec = cb.recode(raw)
    assert rec["q1"].tolist()[:1] == [2.0]
    assert rec["q1"].isna().sum() == 4
    assert rec["q2"].tolist()[:2] == [0.0, 10.0]
    assert rec["q2"].isna().sum() == 2


def test_score_from_codebook_equals_psych(cb, raw_labels, ref_reliability, close):
    # the codebook's scales are psych::bfi.keys, so scoreItems' alphas must come out
    res = cb.score(raw_labels)
    close(res.stats["alpha"], ref_reliability["score_items"]["alpha"], ATOL, "alpha")
    close(res.stats["g6"], ref_reliability["score_items"]["g6"], ATOL, "G6")


def test_score_with_unequal_ranges_reverses_per_item():
    cb = Codebook(
        [
            CodebookItem("a", scale="s", min=1, max=5),
            CodebookItem("b", scale="s", min=1, max=7, reverse=True),
        ]
    )
    raw = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [7, 5, 4, 3, 1]})
    res = cb.score(raw)
    expected = score_items(pd.DataFrame({"a": raw["a"], "b": 8 - raw["b"]}), {"s": ["a", "b"]})
    pd.testing.assert_frame_equal(res.scores, expected.scores)


def test_toml_roundtrip(cb, tmp_path):
    path = tmp_path / "cb.toml"
    cb.to_toml(path)
    again = read_codebook(path)
    assert again.keys == cb.keys
    assert again.table().equals(cb.table())
    assert again.id == "id"


def test_csv_codebook(tmp_path):
    path = tmp_path / "cb.csv"
    path.write_text(
        "item,scale,reverse,labels,missing,text\n"
        "q1,school,,Disagree|Neutral|Agree,-9,I like school\n"
        "q2,school,yes,Disagree|Neutral|Agree,-9,School is boring\n"
        "age,,,,,Age\n"
    )
    cb = read_codebook(path)
    assert cb.keys == {"school": ["q1", "-q2"]}
    assert cb.items["q1"].responses is cb.items["q2"].responses
    raw = pd.DataFrame({"q1": ["Agree", -9], "q2": ["Agree", "Neutral"], "age": [15, 16]})
    np.testing.assert_array_equal(
        cb.recode(raw)[["q1", "q2"]].to_numpy(), [[3.0, 1.0], [np.nan, 2.0]]
    )


def test_from_metadata_uses_value_labels():
    df = pd.DataFrame({"q1": [1, 2], "q2": [2, 1]})
    df.attrs["value_labels"] = {"q1": {2: "Yes", 1: "No"}, "q2": {1: "No", 2: "Yes"}}
    df.attrs["column_labels"] = {"q1": "Do you read?"}
    cb = Codebook.from_metadata(df, scales={"reading": ["q1", "-q2"]})
    assert cb.items["q1"].responses.labels == ("No", "Yes")
    assert cb.items["q1"].text == "Do you read?"
    assert cb.keys == {"reading": ["q1", "-q2"]}


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"items": {"a": {"reverse": True}}}, "reverse-keyed but has neither"),
        ({"items": {"a": {"responses": "nope"}}}, "not defined"),
        ({"responses": {"r": {"labels": ["x", "x"]}}, "items": {"a": {}}}, "not unique"),
        ({"itemz": {}}, "unknown top-level"),
        ({"items": {"a": {"colour": 1}}}, "unknown key"),
        (
            {"scales": {"s": {"items": ["a"]}, "t": {"items": ["-a"]}}},
            "more than one scale",
        ),
    ],
)
def test_bad_codebooks(spec, match):
    with pytest.raises(ValueError, match=match):
        Codebook.from_dict(spec)


def test_bad_codebook_file(tmp_path):
    bad = tmp_path / "cb.toml"
    bad.write_text("items = [")
    with pytest.raises(ValueError, match="invalid TOML"):
        read_codebook(bad)
    with pytest.raises(FileNotFoundError):
        read_codebook(tmp_path / "missing.toml")
    other = tmp_path / "cb.txt"
    other.write_text("item\nq1\n")
    with pytest.raises(ValueError, match=r"\.toml or \.csv"):
        read_codebook(other)


def test_decode_gives_ordered_labels(cb, bfi):
    dec = cb.decode(bfi)
    assert isinstance(dec["A1"].dtype, pd.CategoricalDtype)
    assert dec["A1"].cat.ordered
    assert dec["gender"].iloc[0] == "Male"


def test_validate_reports_items_without_any_answer(cb, raw_labels):
    bad = raw_labels.copy()
    bad["A3"] = np.nan  # the column came out empty in the export
    bad["O2"] = "Refused"  # every answer a missing code
    cb2 = cb.with_items(O2={"missing": ("Refused",)})
    report = cb2.validate(bad)
    empty = report[report["check"] == "empty_item"]
    assert empty["column"].tolist() == ["A3", "O2"]
    assert "no valid answer: all 2800 rows" in empty["message"].iloc[0]
    with pytest.warns(UserWarning, match="column 'A3' has no valid answer"):
        cb2.recode(bad)


def test_recode_and_score_report_duplicated_ids(cb, raw_labels):
    dup = raw_labels.copy()
    dup.loc[8, "id"] = dup.loc[9, "id"]
    with pytest.raises(ValueError, match=r"IDs \[.*\] occur more than once \(rows \[8, 9\]\)"):
        cb.recode(dup)
    with pytest.raises(ValueError, match="occur more than once"):
        cb.score(dup)
    with pytest.warns(UserWarning, match="occur more than once"):
        rec = cb.recode(dup, errors="coerce")
    assert rec["id"].duplicated().sum() == 1  # reported, not changed
    empty_id = raw_labels.copy()
    empty_id.loc[4, "id"] = np.nan
    with pytest.raises(ValueError, match=r"ID column 'id' is empty in rows \[4\]"):
        cb.recode(empty_id)
    # without the ID column nothing can be checked: said, not silently skipped
    with pytest.warns(UserWarning, match="ID column 'id' is not in the data.*not checked"):
        cb.recode(raw_labels.drop(columns="id"))
    assert cb.score(raw_labels).scores.shape == (2800, 5)  # clean IDs: no complaint


def test_decode_names_values_without_a_label(cb, bfi):
    odd = bfi.copy()
    odd.loc[odd.index[[3, 7]], "A1"] = [7, 99]
    with pytest.warns(UserWarning, match=r"'A1': \[7.0, 99.0\] \(rows \["):
        dec = cb.decode(odd)
    assert dec["A1"].isna().sum() == bfi["A1"].isna().sum() + 2
    # decoding labels again keeps them
    again = cb.decode(cb.decode(bfi))
    pd.testing.assert_series_equal(again["A2"], cb.decode(bfi)["A2"])
