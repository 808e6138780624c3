"""Readers: SPSS and Stata with value labels, Excel, CSV, Qualtrics exports.

The files are written in a temporary folder by the tests themselves (pyreadstat writes .sav
and .dta with variable labels, value labels and user-missing codes; pandas/openpyxl writes
.xlsx), so nothing binary is committed.
"""

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from toolkit.survey import (
    Codebook,
    question_text,
    read_csv,
    read_excel,
    read_qualtrics,
    read_spss,
    read_stata,
    read_survey,
)

AGREE = {1.0: "Disagree", 2.0: "Neutral", 3.0: "Agree"}


@pytest.fixture
def small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1.0, 2.0, 3.0, 4.0],
            "q1": [1.0, 3.0, 2.0, 99.0],
            "q2": [3.0, 3.0, 1.0, 2.0],
            "age": [15.0, 16.0, 15.0, 17.0],
        }
    )


def test_spss_keeps_labels_and_user_missing(small, tmp_path):
    path = tmp_path / "survey.sav"
    pyreadstat.write_sav(
        small,
        path,
        column_labels={"q1": "I like school", "q2": "School is boring", "age": "Age"},
        variable_value_labels={"q1": {**AGREE, 99.0: "Refused"}, "q2": AGREE},
        missing_ranges={"q1": [99.0]},
    )
    df = read_survey(path)
    assert df.attrs["format"] == "spss"
    assert df.attrs["source"] == str(path)
    assert question_text(df)["q1"] == "I like school"
    assert df.attrs["value_labels"]["q2"] == AGREE
    assert np.isnan(df.loc[3, "q1"])  # 99 = user missing
    labelled = read_spss(path, apply_value_labels=True)
    assert labelled["q2"].tolist() == ["Agree", "Agree", "Disagree", "Neutral"]
    assert list(labelled["q2"].cat.categories) == ["Disagree", "Neutral", "Agree"]
    cb = Codebook.from_metadata(df, ["q1", "q2"], scales={"school": ["q1", "-q2"]})
    rec = cb.recode(df)
    assert rec["q2"].tolist() == [1.0, 1.0, 3.0, 2.0]


def test_stata_keeps_labels(small, tmp_path):
    path = tmp_path / "survey.dta"
    df_in = small.assign(q1=[1.0, 3.0, 2.0, 2.0])
    pyreadstat.write_dta(
        df_in,
        path,
        column_labels={"q1": "I like school"},
        variable_value_labels={"q1": AGREE},
    )
    df = read_stata(path)
    assert df.attrs["format"] == "stata"
    assert question_text(df)["q1"] == "I like school"
    assert df.attrs["value_labels"]["q1"] == AGREE
    assert df["q1"].tolist() == [1.0, 3.0, 2.0, 2.0]
    assert read_survey(path, apply_value_labels=True)["q1"].iloc[1] == "Agree"


QUALTRICS = (
    "\ufeffStartDate,ResponseId,Q1,Q2_1,Q2_2\r\n"
    '"Start Date","Response ID","How old are you?","How much do you agree? - I like school",'
    '"How much do you agree? - ""Maths"" is\nhard"\r\n'
    '"{""ImportId"":""startDate"",""timeZone"":""Z""}","{""ImportId"":""_recordId""}",'
    '"{""ImportId"":""QID1_TEXT""}","{""ImportId"":""QID2_1""}","{""ImportId"":""QID2_2""}"\r\n'
    "2024-03-01,R_1,15,Agree,Disagree\r\n"
    "2024-03-01,R_2,,Strongly agree,Agree\r\n"
    "2024-03-02,R_3,16,,Neutral\r\n"
)


def test_qualtrics_csv(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(QUALTRICS, encoding="utf-8", newline="")
    df = read_survey(path)  # detected from the ImportId row
    assert df.attrs["format"] == "qualtrics"
    assert list(df.columns) == ["StartDate", "ResponseId", "Q1", "Q2_1", "Q2_2"]
    assert len(df) == 3
    assert df["Q1"].tolist()[0] == 15 and np.isnan(df["Q1"].iloc[1])
    assert pd.api.types.is_numeric_dtype(df["Q1"])
    assert df["Q2_1"].tolist()[:2] == ["Agree", "Strongly agree"]
    assert pd.isna(df["Q2_1"].iloc[2])
    text = question_text(df)
    assert text["Q2_2"] == 'How much do you agree? - "Maths" is\nhard'
    assert df.attrs["import_ids"]["Q2_1"] == "QID2_1"
    pd.testing.assert_frame_equal(read_qualtrics(path), df)


def test_qualtrics_legacy_single_extra_row(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_text("V1,Q1\nResponse ID,How old are you?\nR_1,15\nR_2,16\n")
    plain = read_csv(path, qualtrics=False)
    assert len(plain) == 3  # read as an ordinary CSV only when asked to
    for df in (read_csv(path, qualtrics=True), read_csv(path), read_survey(path)):
        assert df.attrs["format"] == "qualtrics"
        assert df["Q1"].tolist() == [15, 16]
        assert question_text(df)["Q1"] == "How old are you?"
    # newer exports without the ImportId row: "Response ID" under ResponseId
    newer = tmp_path / "newer.csv"
    newer.write_text("StartDate,ResponseId,Q1\nStart Date,Response ID,Age\n2024-01-01,R_1,15\n")
    assert read_survey(newer)["Q1"].tolist() == [15]
    # an ordinary CSV whose second row happens to be text is not taken for one
    other = tmp_path / "other.csv"
    other.write_text("id,Q1\nx,Age\n1,15\n")
    assert read_survey(other).attrs["format"] == "csv"


def test_qualtrics_xlsx(tmp_path):
    path = tmp_path / "export.xlsx"
    rows = [
        ["ResponseId", "Q1"],
        ["Response ID", "I like school"],
        ['{"ImportId":"_recordId"}', '{"ImportId":"QID1"}'],
        ["R_1", "Agree"],
        ["R_2", "Disagree"],
    ]
    pd.DataFrame(rows).to_excel(path, header=False, index=False)
    df = read_survey(path)
    assert df.attrs["format"] == "qualtrics"
    assert df["Q1"].tolist() == ["Agree", "Disagree"]
    assert question_text(df)["Q1"] == "I like school"


def test_excel_and_csv(small, tmp_path):
    xlsx = tmp_path / "survey.xlsx"
    with pd.ExcelWriter(xlsx) as writer:
        small.to_excel(writer, sheet_name="wave1", index=False)
        small.assign(q2=["x", "y", "z", ""]).to_excel(writer, sheet_name="wave2", index=False)
    one = read_excel(xlsx, sheet="wave1")
    assert one["q1"].tolist() == small["q1"].tolist()
    assert one.attrs["format"] == "excel"
    two = read_survey(xlsx, sheet="wave2")
    assert two["q2"].tolist()[:3] == ["x", "y", "z"] and pd.isna(two["q2"].iloc[3])
    csv = tmp_path / "survey.csv"
    small.to_csv(csv, index=False)
    pd.testing.assert_frame_equal(read_survey(csv), small)


def test_reader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_survey(tmp_path / "nope.sav")
    odd = tmp_path / "survey.abc"
    odd.write_text("a\n1\n")
    with pytest.raises(ValueError, match="extension"):
        read_survey(odd)
    assert read_survey(odd, format="csv")["a"].tolist() == [1]
    ragged = tmp_path / "ragged.csv"
    ragged.write_text('A,B\nx,y\n"{""ImportId"":""a""}","{""ImportId"":""b""}"\n1,2\n3\n')
    with pytest.raises(ValueError, match=r"rows \[5\]"):
        read_survey(ragged)
    broken = tmp_path / "broken.sav"
    broken.write_bytes(b"not a sav file")
    with pytest.raises(ValueError, match="could not read"):
        read_spss(broken)


@pytest.fixture
def items_with_gaps() -> pd.DataFrame:
    """Integer items with missing answers, as questionnaires have them."""
    return pd.DataFrame(
        {
            "pid": [1, 2, 3, 4, 5],
            "q1": pd.array([1, 4, None, 2, 5], dtype="Int64"),
            "q2": pd.array([3, None, None, 1, 2], dtype="Int64"),
            "school": ["a", "a", "b", "b", "c"],
        }
    )


def _write(fmt: str, df: pd.DataFrame, path):
    if fmt == "stata":
        df.to_stata(path, write_index=False)  # integer items with missing: int8 with '.'
    elif fmt == "spss":
        pyreadstat.write_sav(df.astype({"q1": float, "q2": float}), path)
    elif fmt == "excel":
        df.to_excel(path, index=False)
    elif fmt == "csv":
        text = df.to_csv(index=False).replace(",,", ", ,")  # a blank cell typed as a space
        path.write_text(text)
    else:  # qualtrics
        head = ",".join(df.columns)
        wording = ",".join(f'"Question {c}"' for c in df.columns)
        ids = ",".join(f'"{{""ImportId"":""QID_{c}""}}"' for c in df.columns)
        body = df.to_csv(index=False, header=False)
        path.write_text(f"{head}\n{wording}\n{ids}\n{body}")


@pytest.mark.parametrize(
    ("fmt", "suffix"),
    [
        ("stata", ".dta"),
        ("spss", ".sav"),
        ("excel", ".xlsx"),
        ("csv", ".csv"),
        ("qualtrics", ".csv"),
    ],
)
def test_every_reader_returns_numeric_items(items_with_gaps, tmp_path, fmt, suffix):
    path = tmp_path / f"items{suffix}"
    _write(fmt, items_with_gaps, path)
    df = read_survey(path)
    assert df.attrs["format"] == fmt
    for col in ["pid", "q1", "q2"]:
        assert pd.api.types.is_numeric_dtype(df[col]), (fmt, col, df[col].dtype)
        assert df[col].dtype != object
    assert df["q1"].dtype == np.float64  # as pandas' own readers give integers with gaps
    np.testing.assert_array_equal(df["q1"].to_numpy(), [1.0, 4.0, np.nan, 2.0, 5.0])
    assert df["q2"].isna().sum() == 2
    assert not pd.api.types.is_numeric_dtype(df["school"])


def test_stata_matches_pandas_read_stata(items_with_gaps, tmp_path):
    path = tmp_path / "items.dta"
    items_with_gaps.to_stata(path, write_index=False)
    ours = read_stata(path)
    theirs = pd.read_stata(path)
    for col in ["q1", "q2"]:
        assert ours[col].dtype == theirs[col].dtype == np.float64
        np.testing.assert_array_equal(ours[col].to_numpy(), theirs[col].to_numpy())


def test_semicolon_csv_is_read_with_its_delimiter(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text('id;q1;q2;comment\n1;3;4;"fine; thanks"\n2;5;;\n3;1;2;no\n')
    df = read_csv(path)
    assert list(df.columns) == ["id", "q1", "q2", "comment"]
    assert df.attrs["delimiter"] == ";"
    assert df["q2"].tolist()[::2] == [4.0, 2.0] and np.isnan(df["q2"].iloc[1])
    assert df["comment"].iloc[0] == "fine; thanks"
    tabs = tmp_path / "export.txt"
    tabs.write_text("id\tq1\n1\t3\n2\t5\n")
    assert read_survey(tabs).columns.tolist() == ["id", "q1"]
    # a comma file with semicolons inside quoted text stays a comma file
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('a,b\n"x;y;z",1\n"p;q;r",2\n')
    assert read_csv(quoted).columns.tolist() == ["a", "b"]
    # a separator that is given is used as given
    assert read_csv(path, sep=",").columns.tolist() == ["id;q1;q2;comment"]


def test_decimal_commas_are_reported(tmp_path):
    path = tmp_path / "euro.csv"
    path.write_text("id;weight\n1;1,5\n2;2,25\n")
    with pytest.warns(UserWarning, match=r"columns \['weight'\] hold numbers with decimal commas"):
        df = read_csv(path)
    assert df["weight"].tolist() == ["1,5", "2,25"]
    assert read_csv(path, decimal=",")["weight"].tolist() == [1.5, 2.25]


def test_duplicated_column_names_are_refused(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("id,q1,q1\n1,2,3\n")
    with pytest.raises(ValueError, match=r"duplicated column names \['q1'\]"):
        read_csv(path)  # pandas would call the second one 'q1.1'
    xlsx = tmp_path / "dup.xlsx"
    pd.DataFrame([["id", "q1", "q1"], [1, 2, 3]]).to_excel(xlsx, header=False, index=False)
    with pytest.raises(ValueError, match=r"duplicated column names \['q1'\]"):
        read_excel(xlsx)
    # empty header cells (trailing columns of a spreadsheet export) are not duplicates
    trailing = tmp_path / "trailing.csv"
    trailing.write_text("id,q1,,\n1,2,,\n")
    assert read_csv(trailing).columns[:2].tolist() == ["id", "q1"]
