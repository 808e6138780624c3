"""Building cohorts from a data file: the mapping and its errors, scales, imputation."""

import warnings

import numpy as np
import pandas as pd
import pytest

from toolkit.model import Parameters
from toolkit.realcohort import CohortError, DataCohort
from toolkit.study import parse_study
from toolkit.study.spec import StudyError

P = Parameters()


def _data(n_classes=4, n=6, seed=0):
    rng = np.random.default_rng(seed)
    rows = n_classes * n
    return pd.DataFrame(
        {
            "cl": np.repeat([f"c{k}" for k in range(n_classes)], n),
            "school": np.repeat([f"s{k // 2}" for k in range(n_classes)], n),
            "size": np.repeat([n + 2] * n_classes, n),
            "w": rng.uniform(0.5, 2, rows),
            "read": 50 + 10 * rng.standard_normal(rows),
            "PV1M": 500 + 100 * rng.standard_normal(rows),
            "PV2M": 500 + 100 * rng.standard_normal(rows),
            "i1": rng.integers(1, 6, rows).astype(float),
            "i2": rng.integers(1, 6, rows).astype(float),
        }
    )


def _cohort(table, data=None, **kw):
    return DataCohort({"data": _data() if data is None else data, **table}, parameters=P, **kw)


BASE = {"class": "cl", "achievement": {"reading": {"column": "read"}}}


# --- errors name the key or column and what was expected --------------------------------------
@pytest.mark.parametrize(
    ("table", "match"),
    [
        ({**BASE, "clas": "cl"}, r"unknown key 'clas'.*class"),
        ({"achievement": BASE["achievement"]}, r"missing key 'class'"),
        ({**BASE, "dataset": "nlschools"}, r"exactly one of 'data'.*or 'dataset'"),
        ({**BASE, "class": "klass"}, r"column 'klass' \(key 'class'\) is not in the data"),
        (
            {"class": "cl", "achievement": {"reading": {"column": "red"}}},
            r"column 'red' \(key 'achievement.reading'\).*read",
        ),
        (
            {"class": "cl", "achievement": {"readin": {"column": "read"}}},
            r"'readin' is not a model domain.*reading",
        ),
        (
            {
                "class": "cl",
                "achievement": {"reading": {"column": "read", "plausible_values": "PV@M"}},
            },
            r"exactly one of",
        ),
        (
            {"class": "cl", "achievement": {"reading": {"column": "read", "reliability": 1.5}}},
            r"'reliability' must be a number in \(0, 1\]",
        ),
        (
            {
                "class": "cl",
                "achievement": {"reading": {"column": "read", "reference": {"mean": 1}}},
            },
            r"'reference' must be \"sample\"",
        ),
        (
            {"class": "cl", "achievement": {"mathematics": {"plausible_values": "PV@MATH"}}},
            r"pattern 'PV@MATH' matches 0 column",
        ),
        (
            {
                "class": "cl",
                "achievement": {"mathematics": {"plausible_values": "PV@M", "reliability": 0.9}},
            },
            r"plausible values are draws of the true score",
        ),
        ({**BASE, "imputations": 1}, r"'imputations' must be a whole number >= 2"),
        ({**BASE, "missing": "drop"}, r"'missing' must be one of \['impute', 'listwise'\]"),
        ({"class": "cl"}, r"no attribute is read from the data"),
        ({**BASE, "replicate_weights": "W\\d+"}, r"'replicate_weights' needs 'weight'"),
        (
            {**BASE, "weight": "w", "strata": "school", "replicate_weights": "W\\d+"},
            r"give one or the other",
        ),
        ({"class": "cl", "interest": {"mathematics": {"scale": "im"}}}, r"needs a codebook"),
    ],
)
def test_bad_mappings_name_the_key(table, match):
    with pytest.raises(CohortError, match=match):
        _cohort(table)


def test_pv_numbering_gap_is_named():
    data = _data().rename(columns={"PV2M": "PV3M"})
    with pytest.raises(CohortError, match=r"numbered 1..3 but \[2\] are missing"):
        _cohort({"class": "cl", "achievement": {"mathematics": {"plausible_values": "PV@M"}}}, data)


def test_bad_files_name_the_column_and_rows():
    data = _data()
    data["read"] = data["read"].astype(object)
    data.loc[3, "read"] = "absent"
    with pytest.raises(
        CohortError, match=r"column 'read' \('achievement.reading'\).*'absent'.*\[3\]"
    ):
        _cohort(BASE, data)
    data = _data()
    data.loc[[2, 7], "cl"] = None
    with pytest.raises(CohortError, match=r"2 pupil\(s\) have no class.*\[2, 7\].*unassigned"):
        _cohort(BASE, data)
    with pytest.warns(UserWarning, match=r"left out 2 pupil\(s\) without a class"):
        c = _cohort({**BASE, "unassigned": "drop"}, data)
    assert c.prepared.classes["n_file"].sum() == 22
    data = _data()
    data.loc[5, "w"] = 0.0
    with pytest.raises(CohortError, match=r"weight column 'w' is missing, zero or negative.*\[5\]"):
        _cohort({**BASE, "weight": "w"}, data)


def test_classes_are_checked():
    data = _data()
    data.loc[0, "size"] = 99
    with pytest.raises(CohortError, match=r"class size column 'size' takes several values.*'c0'"):
        _cohort({**BASE, "class_size": "size"}, data)
    data = _data()
    data["size"] = 3
    with pytest.raises(CohortError, match=r"class 'c0' has class_size 3.*lists 6 pupils"):
        _cohort({**BASE, "class_size": "size"}, data)
    data = _data()
    data.loc[0, "school"] = "elsewhere"
    with pytest.raises(CohortError, match=r"'c0'.*more than one school"):
        _cohort({**BASE, "school": "school"}, data)
    lonely = pd.concat([_data(), _data(1, 1).assign(cl="alone")], ignore_index=True)
    with pytest.raises(CohortError, match=r"class\(es\) \['alone'\] have a single pupil"):
        _cohort(BASE, lonely)
    with pytest.warns(UserWarning, match=r"left out 1 class\(es\) of a single pupil"):
        c = _cohort({**BASE, "small_classes": "drop"}, lonely)
    assert c.n_classes == 4


def test_a_stratum_with_one_school_is_named():
    with pytest.raises(CohortError, match=r"a stratum of column 'cl' has a single school"):
        _cohort({**BASE, "school": "school", "strata": "cl"})


def test_reverse_key_forgotten_is_caught_by_alpha():
    data = _data(8, 10)
    rng = np.random.default_rng(4)
    t = rng.standard_normal(len(data))
    data["i1"] = np.clip(np.round(3 + t + 0.5 * rng.standard_normal(len(data))), 1, 5)
    data["i2"] = 6 - np.clip(np.round(3 + t + 0.5 * rng.standard_normal(len(data))), 1, 5)
    with pytest.raises(
        CohortError, match=r"Cronbach's alpha -?\d.*reverse key is probably missing"
    ):
        _cohort({"class": "cl", "interest": {"arts": {"items": ["i1", "i2"]}}}, data)
    ok = _cohort({"class": "cl", "interest": {"arts": {"items": ["i1", "-i2"]}}}, data)
    assert ok.prepared.alpha["interest_arts"] > 0.7


def test_study_tables_that_do_not_combine_with_a_cohort():
    base = {"study": {"name": "x", "seed": 1}, "cohort": {"data": _data(), **BASE}}
    for extra, match in [
        (
            {"study": {"name": "x", "seed": 1, "classrooms": 10}},
            r"'classrooms' comes from the data",
        ),
        ({"parameters": {"n_students": 10}}, r"'n_students' comes from the data"),
        ({"sweep": {"parameter": "teacher_capacity", "values": [1.0]}}, r"without a \[sweep\]"),
        ({"study": {"name": "x", "seed": 1, "keep": "classrooms"}}, r"keeps its student rows"),
    ]:
        with pytest.raises(StudyError, match=match):
            parse_study(base | extra, source="s.toml")
    spec = parse_study(base, source="s.toml")
    assert spec.classrooms == 4
    assert len(spec.points()) == 5


# --- scores on the model's scale ----------------------------------------------------------------
def test_plausible_values_are_taken_as_exact_true_scores():
    data = _data()
    c = _cohort(
        {
            "class": "cl",
            "achievement": {
                "mathematics": {
                    "plausible_values": "PV@M",
                    "reference": {"mean": 500.0, "sd": 100.0},
                }
            },
        },
        data,
    )
    real = c.build(P, seed=3)
    assert real.n_cohorts == 2
    for m in range(2):
        got = np.concatenate([co.skill[:6, 0] for co in real.cohorts[m]])
        assert np.allclose(got, (data[f"PV{m + 1}M"] - 500) / 100, atol=1e-12)


def test_sample_reference_and_kelley_estimate():
    data = _data()
    table = {
        "class": "cl",
        "weight": "w",
        "true_score": "estimate",
        "achievement": {"reading": {"column": "read", "reliability": 0.8}},
    }
    real = _cohort(table, data).build(P, seed=1)
    x = data["read"].to_numpy()
    w = data["w"].to_numpy()
    mu = np.average(x, weights=w)
    var = np.average((x - mu) ** 2, weights=w) * w.sum() ** 2 / (w.sum() ** 2 - (w**2).sum())
    got = np.concatenate([co.skill[:, 1] for co in real.cohorts[0]])
    # Kelley: r x* with x* = (x - mu) / (sqrt(r) sd): sqrt(r) (x - mu) / sd
    assert np.allclose(got, np.sqrt(0.8) * (x - mu) / np.sqrt(var), atol=1e-12)
    # drawn true scores instead: not the estimate, and different in each cohort
    real = _cohort({**table, "true_score": "draw"}, data).build(P, seed=1)
    a = real.cohorts[0][0].skill[:, 1]
    b = real.cohorts[1][0].skill[:, 1]
    assert not np.allclose(a, b)
    assert np.corrcoef(a, x[:6])[0, 1] > 0.5


def test_class_sizes_fill_classes_with_drawn_classmates():
    real = _cohort({**BASE, "class_size": "size", "school": "school"}).build(P, seed=2)
    assert [co.n_students for co in real.cohorts[0]] == [8] * 4
    table = real.table()
    counts = table[table["cohort"] == 0].groupby("status", observed=True).size().to_dict()
    assert counts == {"file": 24, "drawn": 8}
    assert (table.loc[table["status"] == "drawn", "weight"] == 0).all()
    src = real.sources.set_index("attribute")
    assert src.loc["skill_reading", "source"] == "data"
    assert src.loc["skill_mathematics", "source"] == "drawn given data"
    assert src.loc["calibration_arts", "source"] == "drawn"
    assert src.loc["skill_reading", "n_drawn"] == 8


def test_drawn_attributes_ignore_the_data_and_schools_are_shared():
    data = _data()
    other = data.assign(read=data["read"][::-1].to_numpy())
    a = _cohort({**BASE, "attributes": "drawn", "school": "school"}, data).build(P, seed=9)
    b = _cohort({**BASE, "attributes": "drawn", "school": "school"}, other).build(P, seed=9)
    assert a.n_cohorts == 1
    for x, y in zip(a.cohorts[0], b.cohorts[0], strict=True):
        assert np.array_equal(x.skill, y.skill) and np.array_equal(x.interest, y.interest)
    # classes c0, c1 in school s0 and c2, c3 in s1: one effectiveness per school
    effect = [float(co.school_effect) for co in a.cohorts[0]]
    assert effect[0] == effect[1] != effect[2] == effect[3]


def test_missing_values_are_imputed_or_left_out_and_said_so():
    data = _data(6, 8)
    data.loc[[1, 9, 20], "read"] = np.nan
    c = _cohort(BASE, data)
    assert c.prepared.missing == {"read": 3}
    assert "3 of 48 pupils have a missing value" in c.describe(P)
    real = c.build(P, seed=4)
    got = [np.concatenate([co.skill[:8, 1] for co in real.cohorts[m]]) for m in range(5)]
    # imputed pupils differ between the cohorts more than observed ones do
    spread = np.std(got, axis=0)
    assert spread[[1, 9, 20]].mean() > spread[[0, 2, 3]].mean()
    with pytest.warns(UserWarning, match=r"listwise deletion left out 3 of 48 pupils \(6.2%\)"):
        c = _cohort({**BASE, "missing": "listwise"}, data)
    real = c.build(P, seed=4)
    assert len(real.students) == 45
    assert [co.n_students for co in real.cohorts[0]] == [8] * 6  # the left-out pupils stay
    assert "dropped" in set(real.table()["status"])


def test_the_table_lists_every_cohorts_students_class_by_class():
    """Each class's block: file pupils, then those left out, then drawn classmates, numbered from
    0, with the cohort's own arrays; unequal classes, several cohorts."""
    data = _data(6, 8).drop(index=[3, 4, 5, 30])  # classes of 8, 5, 8, 7, 8, 8 pupils
    data.loc[[1, 9], "read"] = np.nan
    with pytest.warns(UserWarning, match="listwise deletion"):
        c = _cohort({**BASE, "missing": "listwise", "imputations": 3}, data)
    real = c.build(P, seed=11)
    table = real.table()
    assert len(table) == sum(co.n_students for classes in real.cohorts for co in classes)
    at = 0
    for m, classes in enumerate(real.cohorts):
        for k, co in enumerate(classes):
            block = table.iloc[at : at + co.n_students]
            at += co.n_students
            assert (block["cohort"] == m).all() and (block["class_index"] == k).all()
            assert block["student"].tolist() == list(range(co.n_students))
            assert block["class"].nunique() == 1 and block["school"].nunique() == 1
            for j, dom in enumerate(P.domains):
                assert np.array_equal(block[f"skill_{dom}"], co.skill[:, j])
                assert np.array_equal(block[f"interest_{dom}"], co.interest[:, j])
                assert np.array_equal(block[f"aptitude_{dom}"], co.aptitude[:, j])
            assert np.array_equal(block["self_regulation"], co.self_regulation)
            order = block["status"].map({"file": 0, "dropped": 1, "drawn": 2}).to_numpy()
            assert (np.diff(order) >= 0).all()
            assert block["row"].isna().to_numpy().tolist() == (order == 2).tolist()
            assert (block.loc[block["status"] != "file", "weight"] == 0).all()
    assert at == len(table)
    assert table["status"].value_counts().to_dict()["dropped"] == 2 * real.n_cohorts
    assert str(table["row"].dtype) == "string" and table["status"].dtype == "category"


def test_codebook_scores_items_and_keeps_keys(tmp_path):
    data = _data(6, 10)
    rng = np.random.default_rng(5)
    t = rng.standard_normal(len(data))
    labels = ["never", "rarely", "sometimes", "often", "always"]
    code = lambda x: [labels[int(v) - 1] for v in np.clip(np.round(3 + x), 1, 5)]  # noqa: E731
    data["s1"] = code(t + 0.4 * rng.standard_normal(len(data)))
    data["s2"] = code(-t + 0.4 * rng.standard_normal(len(data)))
    data.loc[3, "s1"] = "no answer"
    (tmp_path / "cb.toml").write_text(
        '[responses.freq]\nlabels = ["never", "rarely", "sometimes", "often", "always"]\n'
        'missing = ["no answer"]\n'
        '[scales.srl]\nitems = ["s1", "-s2"]\nresponses = "freq"\n'
    )
    c = _cohort(
        {"class": "cl", "codebook": "cb.toml", "self_regulation": {"scale": "srl"}},
        data,
        base=tmp_path,
    )
    assert c.prepared.missing == {"s1": 1}
    assert c.prepared.alpha["self_regulation"] > 0.6
    real = c.build(P, seed=1)
    sr = np.concatenate([co.self_regulation[:10] for co in real.cohorts[0]])
    assert np.corrcoef(sr, t)[0, 1] > 0.5
    assert c.record["codebook"]["sha256"]


def test_fingerprint_follows_the_data_not_its_path(tmp_path):
    data = _data()
    for name in ("a.csv", "b.csv"):
        data.to_csv(tmp_path / name, index=False)
    table = lambda f: {"study": {"name": "x", "seed": 1}, "cohort": {"data": f, **BASE}}  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = parse_study(table("a.csv"), source=str(tmp_path / "s.toml"), base=tmp_path)
        b = parse_study(table("b.csv"), source=str(tmp_path / "s.toml"), base=tmp_path)
        data.loc[0, "read"] += 1
        data.to_csv(tmp_path / "b.csv", index=False)
        changed = parse_study(table("b.csv"), source=str(tmp_path / "s.toml"), base=tmp_path)
    assert a.fingerprint() == b.fingerprint() != changed.fingerprint()
    assert a.resolved()["cohort"]["data"]["source"].endswith("a.csv")
    with pytest.raises(StudyError, match=r"no such file .*missing.csv.*study file's folder"):
        parse_study(table("missing.csv"), source=str(tmp_path / "s.toml"), base=tmp_path)


def test_alpha_is_psychs_raw_alpha():
    from toolkit.realcohort.build import _alpha
    from toolkit.survey import cronbach_alpha

    rng = np.random.default_rng(2)
    t = rng.standard_normal(300)
    x = np.column_stack(
        [np.clip(np.round(3 + t + rng.standard_normal(300)), 1, 5) for _ in range(4)]
    )
    x[rng.random(x.shape) < 0.05] = np.nan
    frame = pd.DataFrame(x, columns=list("abcd"))
    assert _alpha(x) == pytest.approx(cronbach_alpha(frame).alpha, rel=1e-12)


def test_scores_far_outside_the_reference_are_refused():
    data = _data()
    data.loc[4, "read"] = -99.0  # a missing-value code left in
    with pytest.raises(
        CohortError, match=r"column 'read' \(skill_reading\) has 1 score.*\[4\].*-99"
    ):
        _cohort(BASE, data)
