"""Cohort studies from study files: nlschools and PISA at small sizes, the CLI, the manifest."""

import json
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.cli import main
from toolkit.realcohort import DataCohort
from toolkit.study import parse_study, run_study
from toolkit.survey import lsa_mean, replicate_design

ROOT = Path(__file__).resolve().parents[2]
SIM = ROOT / "simulations"


def _small(name: str, **study) -> dict:
    data = tomllib.loads((SIM / name).read_text())
    data["study"] |= {"decomposition": 4, **study}
    data["parameters"] = {"n_days": 3}
    return data


@pytest.fixture(scope="module")
def nlschools(tmp_path_factory):
    data = _small("nlschools.toml")
    data["cohort"]["imputations"] = 2
    spec = parse_study(data, source=str(SIM / "nlschools.toml"))
    out = tmp_path_factory.mktemp("runs") / "nl"
    return spec, run_study(spec, out, progress=False)


@pytest.mark.slow
def test_nlschools_runs_on_its_133_real_classes(nlschools):
    spec, result = nlschools
    assert spec.classrooms == 133
    students = result.students
    # the file's 2,287 pupils, in 2 cohorts and 4 arms; the drawn classmates are not rows
    assert len(students) == 2287 * 2 * 4
    assert set(students["point"]) == {0, 1}
    cohort = pd.read_parquet(result.folder / "cohort.parquet")
    assert (cohort.groupby("cohort").size() == 3370).all()  # classes at their size GS
    assert set(cohort["status"]) == {"file", "drawn"}
    s = result.summary
    assert list(s["arm"].cat.categories) == list(spec.arms)
    es = s[s["metric"] == "effect_size"].set_index("arm")
    assert es.loc["standardized", "mean"] == 0
    assert (es["ci_low"] <= es["mean"]).all() and (es["mean"] <= es["ci_high"]).all()
    assert (s["cohorts"] == 2).all()
    assert s["diff_imputation_share"].dropna().between(0, 1).all()
    by_class = pd.read_csv(result.folder / "effects_by_class.csv")
    assert by_class["class"].nunique() == 133
    sources = pd.read_csv(result.folder / "cohort_sources.csv").set_index("attribute")
    assert sources.loc["skill_reading", "source"] == "data"
    assert sources.loc["skill_mathematics", "source"] == "drawn given data"
    assert not result.decomposition.empty
    totals = result.decomposition[result.decomposition["channel"] == "total"]
    parts = result.decomposition[result.decomposition["channel"] != "total"]
    sums = parts.groupby(["arm", "outcome"])["contribution"].sum()
    assert np.allclose(
        sums.to_numpy(),
        totals.set_index(["arm", "outcome"])["contribution"].reindex(sums.index).to_numpy(),
    )
    names = {p.name for p in result.figures}
    assert {"effects.png", "tails.png", "classes_personal.png"} <= names


@pytest.mark.slow
def test_the_manifest_records_the_data_and_the_mapping(nlschools):
    _, result = nlschools
    m = json.loads((result.folder / "manifest.json").read_text())
    cohort = m["study"]["cohort"]
    assert cohort["data"]["source"] == "dataset:nlschools"
    assert len(cohort["data"]["sha256"]) == 64
    assert cohort["mapping"]["class_size"] == "GS"
    assert cohort["mapping"]["measures"][0]["columns"] == ["lang"]
    assert cohort["sources"]["skill_reading"] == "data"
    assert cohort["sources"]["interest_arts"] == "drawn given data"
    for f in ("cohort.parquet", "cohort_sources.csv", "effects_by_class.csv", "summary.csv"):
        assert f in m["files"] and f in m["sha256"]


@pytest.mark.slow
def test_the_same_study_on_drawn_cohorts_of_the_same_sizes(nlschools, tmp_path):
    _, real = nlschools
    data = _small("nlschools-drawn.toml")
    spec = parse_study(data, source=str(SIM / "nlschools-drawn.toml"))
    drawn = run_study(spec, tmp_path / "drawn", progress=False)
    cohort = pd.read_parquet(drawn.folder / "cohort.parquet")
    assert len(cohort) == 3370
    a = real.summary.set_index(["metric", "arm"])
    b = drawn.summary.set_index(["metric", "arm"])
    # the pupils' real reading is used in one and not the other: the starting scores differ
    real_start = pd.read_parquet(real.folder / "cohort.parquet")
    assert not np.allclose(
        real_start.loc[real_start["cohort"] == 0, "skill_reading"].to_numpy(),
        cohort["skill_reading"].to_numpy(),
    )
    assert a.index.equals(b.index)


@pytest.mark.slow
def test_pisa_plausible_values_weights_and_replicates(tmp_path):
    data = _small("pisa-nz.toml", decomposition=0)
    data["output"]["formats"] = []
    spec = parse_study(data, source=str(SIM / "pisa-nz.toml"))
    real = spec.cohort.build(spec.base_parameters(), spec.seed)
    assert real.n_cohorts == 5 and real.design.n_replicates == 177
    # cohort m carries the m-th plausible value, on PISA's scale
    pv = spec.cohort.prepared.frame
    first = np.concatenate(
        [
            co.skill[: int(n), 0]
            for co, n in zip(real.cohorts[2], real.classes["n_kept"], strict=True)
        ]
    )
    order = np.argsort(real.students["class_index"].to_numpy(), kind="stable")
    assert np.allclose(np.sort(first), np.sort((pv["PV3MATH"].to_numpy()[order] - 500) / 100))
    result = run_study(spec, tmp_path / "pisa", progress=False)
    # the starting mathematics, weighted and pooled over the plausible values, is PISA's mean
    start = pd.read_parquet(result.folder / "cohort.parquet")
    start = start[start["status"] == "file"]
    ours = np.mean(
        [
            np.average(g["skill_mathematics"], weights=g["weight"])
            for _, g in start.groupby("cohort")
        ]
    )
    pisa = lsa_mean(real.design, "PV@MATH")
    assert ours == pytest.approx((pisa["estimate"].iloc[0] - 500) / 100, rel=1e-10)
    s = result.summary
    score = s[(s["metric"] == "score") & (s["arm"] == "standardized")].iloc[0]
    assert score["fmi"] > 0  # the plausible values differ: imputation variance


def test_file_replicate_weights_give_the_survey_helpers_variance(tmp_path):
    """A Fay design from the file's replicate-weight columns: the same SE as lsa_mean's."""
    rng = np.random.default_rng(1)
    n_cl, n = 8, 6
    df = pd.DataFrame(
        {
            "cl": np.repeat(np.arange(n_cl), n),
            "w": rng.uniform(1, 3, n_cl * n),
            "x": 500 + 100 * rng.standard_normal(n_cl * n),
        }
    )
    h = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]])
    zone, unit = df["cl"] // 2, df["cl"] % 2
    for r in range(4):
        df[f"RW{r + 1}"] = df["w"] * (1 + 0.5 * h[zone, r] * np.where(unit == 0, 1, -1))
    table = {
        "data": df,
        "class": "cl",
        "weight": "w",
        "replicate_weights": "RW\\d+",
        "replicate_method": "fay",
        "achievement": {"reading": {"column": "x", "reference": {"mean": 500.0, "sd": 100.0}}},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = DataCohort(
            table, parameters=parse_study({"study": {"name": "x", "seed": 1}}).base_parameters()
        )
    ours = c.prepared.design
    theirs = replicate_design(df, "w", "RW\\d+", method="fay")
    a = lsa_mean(ours.__class__(**{**ours.__dict__, "data": ours.data.assign(y=df["x"])}), "y")
    b = lsa_mean(theirs, "x")
    assert a["se"].iloc[0] == pytest.approx(b["se"].iloc[0], rel=1e-12)


def test_check_says_what_is_read_and_what_is_drawn(capsys):
    assert main(["check", str(SIM / "nlschools.toml"), "--no-estimate"]) == 0
    out = capsys.readouterr().out
    assert "Read from the data:" in out and "column 'lang'" in out
    assert "drawn given data: skill_mathematics" in out
    assert "1,083 classmates the file does not list are drawn" in out
    assert '"sha256"' in out


def test_a_bad_mapping_is_an_error_naming_the_key(tmp_path, capsys):
    study = tmp_path / "mine.toml"
    study.write_text(
        (SIM / "nlschools.toml").read_text().replace('column = "lang"', 'column = "language"')
    )
    assert main(["check", str(study), "--no-estimate"]) == 2
    err = capsys.readouterr().err
    assert "column 'language' (key 'achievement.reading') is not in the data" in err
    assert "lang" in err
