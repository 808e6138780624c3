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
    plain = read_csv(path)
    assert len(plain) == 3  # not detected: it is an ordinary CSV
    df = read_csv(path, qualtrics=True)
    assert df["Q1"].tolist() == [15, 16]
    assert question_text(df)["Q1"] == "How old are you?"


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
