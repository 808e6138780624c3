"""Issue 19, survey helpers: refuse or warn rather than print a plausible wrong number.

Each test builds the messy input an analyst meets (a missing-value code typed in as an answer,
a scale labelled only at its ends, items reversed twice, a "Mean" row under the data, a file in
another encoding ...) and checks that the helpers refuse it with a message that names the
problem, warn about it, or, where the file itself says what is right, give the right number.
"""

import warnings

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from toolkit.survey import (
    Codebook,
    CodebookItem,
    ResponseSet,
    cronbach_alpha,
    mixed_model,
    read_codebook,
    read_csv,
    read_excel,
    read_qualtrics,
    read_spss,
    read_survey,
    score_items,
)

ITEMS = [f"q{j}" for j in range(1, 6)]


@pytest.fixture(scope="module")
def likert(battery):
    """likert(n=300, k=6, seed=1): five correlated items on a 1..k scale (the battery's)."""
    return battery.likert


@pytest.fixture(scope="module")
def with_code(battery):
    """with_code(df, code, share, seed=0): the code typed into a share of each item's cells."""
    return battery.with_code


# ------------------------------------------------------------------ missing-value codes


@pytest.mark.parametrize("code", [-99, -9, -1, 9, 99, 999, 98])
def test_typed_missing_codes_are_refused(code, likert, with_code):
    clean = likert()
    bad = with_code(clean, code, 0.03)
    with pytest.raises(ValueError, match=rf"{code}\b.*in 'q1' \(rows \[") as exc:
        cronbach_alpha(bad)
    assert f"missing=[{code}]" in str(exc.value)
    with pytest.raises(ValueError, match="missing-value codes"):
        score_items(bad, {"s": ITEMS})
    # declared, they are missing and alpha is that of the answers
    declared = cronbach_alpha(bad, missing=[code])
    masked = bad.mask(bad == code)
    assert declared.alpha == pytest.approx(cronbach_alpha(masked).alpha, abs=1e-12)


def test_minus_99_gave_a_plausible_wrong_alpha_and_math_errors(likert, with_code):
    # the case: -99 in 3% of a 1-6 scale gave alpha 0.03 for 0.84 here, and other
    # draws a bare "math domain error"; now every draw is refused with the same clear message
    clean = likert()
    for seed in range(12):
        bad = with_code(clean, -99, 0.03, seed)
        with pytest.raises(
            ValueError, match=r"-99 \(negative; the other answers run from 1 to 6\)"
        ):
            cronbach_alpha(bad, ["q1", "-q2", "q3", "q4", "q5"])


def test_a_code_next_to_the_scale_by_one_unused_value_warns(likert, with_code):
    bad = with_code(likert(k=7), 9, 0.02)  # 9 on a 1-7 scale: 8 unused, 7 used
    with pytest.warns(UserWarning, match=r"9 \(after an unused 8\) in 'q1'"):
        cronbach_alpha(bad)


def test_spss_dont_know_not_declared_missing_is_refused(tmp_path, likert, with_code):
    df = with_code(likert(k=5), 8, 0.04).astype(float)
    labels = {1.0: "Strongly disagree", 5.0: "Strongly agree", 8.0: "Don't know"}
    path = tmp_path / "dk.sav"
    pyreadstat.write_sav(df, path, variable_value_labels=dict.fromkeys(ITEMS, labels))
    data = read_spss(path)
    with pytest.raises(ValueError, match=r"8 = \"Don't know\" in 'q1'") as exc:
        cronbach_alpha(data)
    assert "missing=[8]" in str(exc.value)
    right = cronbach_alpha(data, missing=[8])
    assert right.alpha == pytest.approx(cronbach_alpha(df.mask(df == 8)).alpha, abs=1e-12)
    # declared missing in the file but kept (user_missing=True): missing without being asked
    path2 = tmp_path / "dk_declared.sav"
    pyreadstat.write_sav(
        df,
        path2,
        variable_value_labels=dict.fromkeys(ITEMS, labels),
        missing_ranges={q: [8.0] for q in ITEMS},
    )
    kept = read_spss(path2, user_missing=True)
    assert (kept[ITEMS] == 8).any().any()
    assert cronbach_alpha(kept).alpha == pytest.approx(right.alpha, abs=1e-12)


def test_values_outside_the_labelled_scale_are_refused(likert, with_code):
    df = with_code(likert(k=5), 7, 0.01)
    df.attrs["value_labels"] = {q: {1: "Never", 5: "Always"} for q in ITEMS}
    with pytest.raises(ValueError, match=r"7 outside its scale 1 to 5 in 'q1'"):
        score_items(df, {"s": ITEMS})


def test_non_integer_values_in_integer_items_warn(likert):
    df = likert()
    df.loc[17, "q2"] = 3.5
    with pytest.warns(UserWarning, match=r"3.5 \(not a whole number\) in 'q2' \(rows \[17\]\)"):
        cronbach_alpha(df)


def test_a_continuous_scale_is_not_screened_as_a_rating_scale():
    rng = np.random.default_rng(3)
    lat = rng.normal(size=300)
    df = pd.DataFrame({c: 50 + 10 * lat + rng.normal(0, 5, 300) for c in ITEMS})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cronbach_alpha(df)
        cronbach_alpha(df.round(0))  # 0-100 points: long scale, gaps are normal


# ------------------------------------------------------------------ scales labelled at the ends


def test_end_labelled_scale_keeps_the_middle_codes_in_order(tmp_path, likert):
    df = likert(k=5).astype(float)
    df.loc[0, "q1"] = np.nan
    labels = {1.0: "Strongly disagree", 5.0: "Strongly agree"}
    path = tmp_path / "ends.sav"
    pyreadstat.write_sav(df, path, variable_value_labels=dict.fromkeys(ITEMS, labels))
    lab = read_spss(path, apply_value_labels=True)
    cats = ["Strongly disagree", "2", "3", "4", "Strongly agree"]
    assert list(lab["q1"].cat.categories) == cats
    assert lab["q1"].cat.ordered and pd.isna(lab["q1"].iloc[0])
    assert "2.0" not in lab["q2"].astype(str).tolist()
    codes = lab["q3"].cat.codes.to_numpy() + 1
    np.testing.assert_array_equal(codes, df["q3"].to_numpy())
    raw = read_spss(path)
    cb = Codebook.from_metadata(raw, scales={"s": ["q1", "-q2", "q3", "q4", "q5"]})
    assert cb.items["q2"].responses.values == (1.0, 2.0, 3.0, 4.0, 5.0)
    assert cb.items["q2"].responses.labels == tuple(cats)
    rec = cb.recode(raw)
    np.testing.assert_array_equal(rec["q2"].to_numpy(), 6 - df["q2"].to_numpy())
    # the labelled export recodes to the same numbers
    pd.testing.assert_frame_equal(cb.recode(lab)[ITEMS], rec[ITEMS])


# ------------------------------------------------------------------ double reversal


@pytest.fixture
def keyed(likert):
    df = likert(k=5)
    df["q2"] = 6 - df["q2"]  # a reverse-worded item
    cb = Codebook([CodebookItem(q, scale="s", min=1, max=5, reverse=(q == "q2")) for q in ITEMS])
    return df, cb


def test_double_reversal_is_refused(keyed):
    df, cb = keyed
    right = cronbach_alpha(df, cb.keys["s"]).alpha
    rec = cb.recode(df)  # q2 reversed here
    assert rec.attrs["reversed_items"] == ["q2"]
    assert cronbach_alpha(rec, ITEMS).alpha == pytest.approx(right)
    with pytest.raises(ValueError, match=r"\['q2'\] were already reverse-keyed by Codebook.recode"):
        cronbach_alpha(rec, cb.keys["s"])
    with pytest.raises(ValueError, match="already reverse-keyed"):
        cronbach_alpha(rec, ITEMS, reverse=["q2"])
    with pytest.raises(ValueError, match="already reverse-keyed"):
        score_items(rec, cb.keys)
    with pytest.raises(ValueError, match="already reversed by recode"):
        cb.score(rec)
    with pytest.raises(ValueError, match="already reversed by an earlier recode"):
        cb.recode(rec)
    # subsets and copies keep the mark
    with pytest.raises(ValueError, match="already reverse-keyed"):
        cronbach_alpha(rec[ITEMS].dropna().copy(), cb.keys["s"])
    assert cb.score(df).stats["alpha"].iloc[0] == pytest.approx(right)


def test_double_reversal_without_the_mark_warns(keyed):
    df, cb = keyed
    rec = pd.DataFrame(cb.recode(df).to_dict())  # the mark is lost (a round trip through dicts)
    with pytest.warns(
        UserWarning, match=r"items \['q2'\] correlate negatively with the scale after"
    ):
        cronbach_alpha(rec, cb.keys["s"])
    with pytest.warns(UserWarning, match="correlate negatively with the scale after keying"):
        score_items(rec, cb.keys)


# ------------------------------------------------------------------ footer rows


def test_summary_rows_under_the_data_are_refused(tmp_path, likert):
    df = likert(n=60).astype(int)
    df.insert(0, "id", range(1, 61))
    text = df.to_csv(index=False)
    means = ",".join(f"{v:.2f}" for v in df[ITEMS].mean())
    path = tmp_path / "footer.csv"
    path.write_text(text + f"Mean,{means}\nTotal,{','.join(str(v) for v in df[ITEMS].sum())}\n")
    with pytest.raises(
        ValueError, match=r"summary rows.*\['Mean', 'Total'\] at file lines \[62, 63\]"
    ):
        read_csv(path)
    dropped = read_csv(path, footer="drop")
    assert len(dropped) == 60 and pd.api.types.is_numeric_dtype(dropped["id"])
    assert [r["id"] for r in dropped.attrs["footer"]] == ["Mean", "Total"]
    kept = read_csv(path, footer="keep")
    with pytest.raises(ValueError, match="cronbach_alpha: the last rows look like summary rows"):
        cronbach_alpha(kept, ITEMS)
    assert (
        "summary_row"
        in Codebook([CodebookItem(q, min=1, max=6) for q in ITEMS]).validate(kept)["check"].tolist()
    )
    xlsx = tmp_path / "footer.xlsx"
    pd.concat([df, pd.DataFrame([["Total", *df[ITEMS].sum()]], columns=df.columns)]).to_excel(
        xlsx, index=False
    )
    with pytest.raises(ValueError, match=r"\['Total'\] at file lines \[62\]"):
        read_excel(xlsx)


def test_summary_rows_are_refused_by_every_analysis():
    from toolkit.survey import diversity_by_cluster, diversity_by_group, effect_size_table, icc

    rng = np.random.default_rng(2)
    df = pd.DataFrame(
        {
            "id": list(range(60)),
            "y": rng.normal(size=60) + np.repeat(rng.normal(size=10), 6),
            "class": np.repeat(range(10), 6),
            "arm": np.tile(["a", "b"], 30),
        }
    )
    means = df[["y", "class"]].mean()
    footer = pd.concat(
        [df.astype({"id": object}), pd.DataFrame([{"id": "Mean", **means, "arm": "a"}])],
        ignore_index=True,
    )
    calls = {
        "mixed_model": lambda d: mixed_model(d, "y ~ 1 + (1 | class)"),
        "icc": lambda d: icc(d, "y", "class"),
        "effect_size_table": lambda d: effect_size_table(d, "y", "arm"),
        "diversity_by_group": lambda d: diversity_by_group(d, "y", "arm"),
        "diversity_by_cluster": lambda d: diversity_by_cluster(d, "y", "class"),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=rf"{name}: the last rows look like summary rows"):
            call(footer)
        call(df)  # and the data without it go through


def test_a_respondent_named_like_a_summary_word_is_not_a_footer(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("name,q1\nAnna,3\nMax,4\n")
    assert read_csv(path)["name"].tolist() == ["Anna", "Max"]


# ------------------------------------------------------------------ tracebacks


def test_utf16_qualtrics_tsv_is_read(tmp_path):
    text = (
        "StartDate\tResponseId\tQ1\nStart Date\tResponse ID\tÂge ?\n"
        '{"ImportId":"startDate"}\t{"ImportId":"_recordId"}\t{"ImportId":"QID1"}\n'
        "2024-01-01\tR_1\t15\n2024-01-02\tR_2\t16\n"
    )
    path = tmp_path / "export.tsv"
    path.write_bytes(text.encode("utf-16"))  # with a byte-order mark, as Qualtrics writes it
    for df in (read_survey(path), read_qualtrics(path)):
        assert df.attrs["format"] == "qualtrics"
        assert df["Q1"].tolist() == [15, 16]
        assert df.attrs["column_labels"]["Q1"] == "Âge ?"


def test_text_in_another_encoding_names_the_line_and_the_fix(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,ville\n1,Paris\n2,Montréal\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"byte 0xe9 on line 3.*encoding='cp1252'"):
        read_csv(path)
    assert read_csv(path, encoding="latin-1")["ville"].tolist() == ["Paris", "Montréal"]


def test_latin1_codebook(tmp_path):
    path = tmp_path / "codebook.csv"
    path.write_bytes("item,scale,labels,text\nq1,s,Pas d'accord|D'accord,Élève\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"codebook .*byte 0xc9 on line 2.*encoding="):
        read_codebook(path)
    cb = Codebook.read(path, encoding="latin-1")
    assert cb.items["q1"].text == "Élève"
    toml = tmp_path / "codebook.toml"
    toml.write_bytes('[items.q1]\ntext = "Élève"\n'.encode("latin-1"))
    with pytest.raises(ValueError, match="encoding="):
        Codebook.read(toml)
    assert read_codebook(toml, encoding="latin-1").items["q1"].text == "Élève"


def test_excel_with_a_title_row(tmp_path):
    path = tmp_path / "titled.xlsx"
    rows = [["Wave 1, spring 2024", None], ["id", "q1"], [1, 3], [2, 4]]
    pd.DataFrame(rows).to_excel(path, header=False, index=False)
    for df in (read_excel(path, header=1), read_survey(path, header=1)):
        assert df.columns.tolist() == ["id", "q1"] and df["q1"].tolist() == [3, 4]


def test_formula_columns_with_spaces(battery):
    df = battery.spaced_frame()
    res = mixed_model(df, "`maths score` ~ `prior score` + (1 | `school id`)")
    assert res.fixed["term"].tolist() == ["(Intercept)", "prior score"]
    assert res.random["grp"].iloc[0] == "school id"
    plain = mixed_model(
        df.rename(columns=lambda c: c.replace(" ", "_")),
        "maths_score ~ prior_score + (1 | school_id)",
    )
    np.testing.assert_allclose(res.fixed["estimate"], plain.fixed["estimate"])
    with pytest.raises(ValueError, match=r"column 'prior score' has a space.*`prior score`"):
        mixed_model(df, "`maths score` ~ prior score + (1 | `school id`)")
    with pytest.raises(ValueError, match=r"column 'maths score' has a space"):
        mixed_model(df, "maths score ~ 1 + (1 | `school id`)")


def test_codebook_response_labels_still_recode_after_screening():
    # a codebook's own checks stand in for the heuristics: a 1-7 item with nobody at 6
    cb = Codebook(
        [
            CodebookItem("a", scale="s", min=1, max=5),
            CodebookItem(
                "b", scale="s", responses=ResponseSet("r7", [str(i) for i in range(1, 8)])
            ),
        ]
    )
    raw = pd.DataFrame({"a": [1, 2, 3, 4, 5] * 8, "b": [7, 5, 4, 3, 1] * 8})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cb.score(raw)
