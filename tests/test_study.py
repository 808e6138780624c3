"""Study files, the runner (resume, overwrite, parallel), the analysis and the command line."""

import json

import numpy as np
import pandas as pd
import pytest

from toolkit.cli import main
from toolkit.study import StudyError, load_study, parse_study, run_study

SMALL = {
    "study": {"name": "tiny", "seed": 5, "classrooms": 4, "chunk_size": 2},
    "parameters": {"n_students": 10, "n_days": 15, "peer_ties": 3},
    "output": {"formats": ["png"]},
}


#: For runs whose test compares numbers only: no charts (the charts' own tests draw them).
NO_CHARTS = {"formats": []}


def spec(**changes):
    data = json.loads(json.dumps(SMALL))
    for table, values in changes.items():
        data.setdefault(table, {}).update(values)
    return parse_study(data, source="tiny.toml")


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- study files -------------------------------------------------------------------------------
def test_headline_study_file_is_valid():
    s = load_study("simulations/headline.toml")
    assert list(s.arms) == ["standardized", "individualized", "personalized", "personal"]
    assert s.engine == "fast" and s.reference == "standardized"


def test_invalid_toml_names_file_and_line(tmp_path):
    path = write(tmp_path, '[study]\nname = "x"\nseed = = 3\n')
    with pytest.raises(StudyError, match=r"s\.toml: not valid TOML.*line 3"):
        load_study(path)


def test_missing_key_and_table(tmp_path):
    with pytest.raises(StudyError, match=r"\[study\]: missing key 'seed'"):
        load_study(write(tmp_path, '[study]\nname = "x"\n'))
    with pytest.raises(StudyError, match=r"missing table \[study\]"):
        load_study(write(tmp_path, "[parameters]\nn_students = 3\n"))
    with pytest.raises(StudyError, match="no such study file"):
        load_study(tmp_path / "nope.toml")


def test_unknown_keys_suggest(tmp_path):
    with pytest.raises(StudyError, match=r"\[study\]: unknown key 'clasrooms'.*'classrooms'"):
        parse_study({"study": {"name": "x", "seed": 1, "clasrooms": 3}}, source="s.toml")
    with pytest.raises(
        StudyError,
        match=r"s\.toml \[parameters\]: unknown parameter 'peer_learnig'.*'peer_learning'",
    ):
        parse_study(
            {"study": {"name": "x", "seed": 1}, "parameters": {"peer_learnig": 0.1}},
            source="s.toml",
        )


def test_unknown_regime_and_out_of_range(tmp_path):
    with pytest.raises(StudyError, match=r"\[arms\] b: unknown regime 'persnal'.*'personal'"):
        parse_study(
            {"study": {"name": "x", "seed": 1}, "arms": {"a": "standardized", "b": "persnal"}},
            source="s.toml",
        )
    with pytest.raises(StudyError, match=r"'n_days' = 0 is out of range"):
        parse_study(
            {"study": {"name": "x", "seed": 1}, "parameters": {"n_days": 0}}, source="s.toml"
        )
    with pytest.raises(StudyError, match="'classrooms' must be a whole number >= 2"):
        parse_study({"study": {"name": "x", "seed": 1, "classrooms": 1}}, source="s.toml")
    with pytest.raises(StudyError, match="'reference' = 'std' is not one of the arms"):
        parse_study({"study": {"name": "x", "seed": 1, "reference": "std"}}, source="s.toml")


def test_sweep_spec_parameter_and_axis():
    s = spec(sweep={"parameter": "teacher_capacity", "values": [0.5, 1.0]})
    pts = s.points()
    assert [p.teacher_capacity for _, p, _ in pts] == [0.5, 1.0]
    s2 = spec(sweep={"parameter": "scaffolding", "values": [0.0, 0.3]})
    assert s2.sweep_is_axis
    assert [arms["personal"][0].scaffolding for _, _, arms in s2.points()] == [0.0, 0.3]
    with pytest.raises(StudyError, match="unknown parameter 'teacher_capacty'"):
        spec(sweep={"parameter": "teacher_capacty", "values": [1]})
    with pytest.raises(StudyError, match="out of range"):
        spec(sweep={"parameter": "class_icc", "values": [0.1, 2.0]})


# --- runner ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tiny"
    return run_study(spec(), out, progress=False)


def test_run_writes_results_manifest_and_figures(tiny_run):
    folder = tiny_run.folder
    for name in ("classrooms.csv", "summary.csv", "tails.csv", "manifest.json"):
        assert (folder / name).is_file(), name
    # the student table is partitioned, one Parquet file per work unit, read as one table
    assert sorted(p.name for p in (folder / "students.parquet").iterdir()) == [
        "p000-c000000.parquet",
        "p000-c000002.parquet",
    ]
    assert len(pd.read_parquet(folder / "students.parquet")) == 4 * 4 * 10
    m = json.loads((folder / "manifest.json").read_text())
    assert m["status"] == "complete" and m["master_seed"] == 5
    assert m["study"]["parameters"]["n_students"] == 10  # config as resolved, all parameters
    assert len(m["study"]["parameters"]) > 30
    assert m["versions"]["numpy"] and "commit" in m["git"] and m["started"] <= m["finished"]
    assert {p.name for p in (folder / "figures").iterdir()} >= {"outcome.png", "tails.png"}
    s = tiny_run.students
    assert len(s) == 4 * 4 * 10 and set(s.replicate) == {0, 1, 2, 3}


def test_summary_is_paired_against_reference(tiny_run):
    s = tiny_run.summary
    ref = s[(s.arm == "standardized")]
    assert (ref["diff"].fillna(0) == 0).all()
    # the paired difference equals the mean of per-classroom differences
    c = tiny_run.classrooms
    wide = c.pivot(index="replicate", columns="arm", values="total_learning")
    expected = (wide["personal"] - wide["standardized"]).mean()
    got = s[(s.arm == "personal") & (s.metric == "total_learning")]["diff"].item()
    assert got == pytest.approx(expected)
    es = s[(s.arm == "personal") & (s.metric == "effect_size")]
    assert es["ci_low"].item() < es["mean"].item() < es["ci_high"].item()


def test_same_numbers_serial_parallel_chunked_and_mesa(tiny_run, tmp_path):
    base = tiny_run.students
    # these runs compare student rows, not charts: drawn at 200 dpi, a run's charts took 3 of
    # its 5 CPU-seconds (tiny_run draws them, and its test checks them)
    par = run_study(
        spec(study={"chunk_size": 1}, output=NO_CHARTS), tmp_path / "p", workers=2, progress=False
    )
    pd.testing.assert_frame_equal(base, par.students, check_exact=True)  # guaranteed bitwise
    # the Mesa model gives the exact kernel's numbers (the default fast kernel draws its own)
    mesa = run_study(
        spec(study={"engine": "mesa"}, output=NO_CHARTS), tmp_path / "m", progress=False
    )
    exact = run_study(
        spec(study={"kernel": "exact"}, output=NO_CHARTS), tmp_path / "e", progress=False
    )
    num = base.select_dtypes("number").columns
    np.testing.assert_allclose(mesa.students[num], exact.students[num], rtol=1e-12, atol=1e-12)


def test_study_kernel_is_recorded_checked_and_part_of_the_fingerprint(tiny_run):
    manifest = json.loads((tiny_run.folder / "manifest.json").read_text())
    assert manifest["study"]["kernel"] == "fast"  # the default
    assert spec(study={"kernel": "exact"}).resolved()["kernel"] == "exact"
    # resuming with a kernel that gives other numbers is a different study ...
    assert spec(study={"kernel": "exact"}).fingerprint() != spec().fingerprint()
    # ... but the Mesa model, the exact and the numpy kernel give the same numbers
    assert (
        spec(study={"kernel": "numpy"}).fingerprint()
        == spec(study={"kernel": "exact"}).fingerprint()
    )
    assert (
        spec(study={"engine": "mesa"}).fingerprint()
        == spec(study={"kernel": "exact"}).fingerprint()
    )
    with pytest.raises(StudyError, match=r"'kernel' must be one of .*'exact'.*Did you mean 'fast'"):
        spec(study={"kernel": "fats"})


def test_existing_run_is_never_overwritten_silently(tiny_run, tmp_path):
    with pytest.raises(StudyError, match=r"already holds a run.*--resume.*--overwrite"):
        run_study(spec(), tiny_run.folder, progress=False)
    other = tmp_path / "userfolder"
    other.mkdir()
    (other / "precious.txt").write_text("keep me")
    with pytest.raises(StudyError, match="not a run folder"):
        run_study(spec(), other, overwrite=True, progress=False)
    assert (other / "precious.txt").read_text() == "keep me"


def test_resume_after_interruption_gives_same_numbers(tiny_run, tmp_path):
    out = tmp_path / "r"
    calls = {"n": 0}

    def crash(result, spec):  # the simulation finished, the analysis "crashes"
        raise KeyboardInterrupt

    quiet = spec(output=NO_CHARTS)  # the numbers are compared, not the charts
    with pytest.raises(KeyboardInterrupt):
        run_study(quiet, out, progress=False, analyse=crash)
    parts = sorted((out / "parts").iterdir())
    assert [p.name for p in parts] == [  # 2 chunks of classrooms, each in all 4 arms
        "p000-c000000.classrooms.parquet",
        "p000-c000002.classrooms.parquet",
    ]
    parts[0].unlink()  # as if interrupted before the last unit
    mtimes = {p.name: p.stat().st_mtime_ns for p in parts[1:]}

    import toolkit.study.units as units

    original = units.simulate_unit

    def counting(*a, **k):
        calls["n"] += 1
        return original(*a, **k)

    units.simulate_unit = counting
    try:
        res = run_study(quiet, out, resume=True, progress=False)
    finally:
        units.simulate_unit = original
    assert calls["n"] == 1  # only the missing unit was recomputed
    assert all((out / "parts" / n).stat().st_mtime_ns == t for n, t in mtimes.items())
    pd.testing.assert_frame_equal(res.students, tiny_run.students, check_exact=True)
    with pytest.raises(StudyError, match="different study"):
        run_study(spec(study={"seed": 6}), out, resume=True, progress=False)


# --- command line ------------------------------------------------------------------------------
def test_cli_run_prints_summary(tmp_path, capsys):
    path = write(
        tmp_path,
        """
[study]
name = "cli"
seed = 3
classrooms = 3
[parameters]
n_students = 8
n_days = 10
peer_ties = 2
[output]
formats = []
""",
    )  # no charts: this test reads what the command prints (the runner's tests check charts)
    code = main(["run", str(path), "--out", str(tmp_path / "out"), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Paired difference vs reference" in out and "effect_size" in out and "personal" in out
    # a second run into the same folder is refused with status 2 and a clear message
    code = main(["run", str(path), "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "already holds a run" in err


def test_cli_errors_exit_2(tmp_path, capsys):
    bad = write(tmp_path, '[study]\nname = "x"\nseed = 1\n[arms]\na = "standardised"\n')
    assert main(["check", str(bad)]) == 2
    assert "Did you mean 'standardized'?" in capsys.readouterr().err
    assert main(["check", str(bad.with_name("missing.toml"))]) == 2
    good = write(tmp_path, '[study]\nname = "x"\nseed = 1\n', "g.toml")
    assert main(["check", str(good), "--set", "teacher_capasity=1"]) == 2
    assert "teacher_capacity" in capsys.readouterr().err


def test_cli_params_and_regimes(capsys):
    assert main(["params"]) == 0
    assert "learning_rate" in capsys.readouterr().out
    assert main(["regimes"]) == 0
    assert "learner_goal_control" in capsys.readouterr().out


def test_years_and_sweep_studies_run_through_analysis(tmp_path):
    years = spec(
        study={"years": 2},
        arms={"standardized": "standardized", "transition": ["personalized", "personal"]},
    )
    r = run_study(years, tmp_path / "y", progress=False)
    assert set(r.students.year) == {0, 1}
    tr = r.students[(r.students.arm == "transition")]
    assert list(tr.groupby("year").regime.first()) == ["personalized", "personal"]
    assert set(r.summary.year) == {0, 1}
    assert (tmp_path / "y" / "figures" / "years_score.png").is_file()

    sweep = spec(
        arms={"standardized": "standardized", "individualized": "individualized"},
        sweep={"parameter": "teacher_capacity", "values": [0.25, 1.0]},
    )
    s = run_study(sweep, tmp_path / "s", progress=False)
    assert sorted(s.summary.sweep_value.unique()) == [0.25, 1.0]
    assert (tmp_path / "s" / "figures" / "sweep_effect_size.png").is_file()
    # more teacher time raises everyone's gain in this model
    g = s.summary[(s.summary.metric == "core_gain") & (s.summary.arm == "standardized")]
    assert g.sort_values("sweep_value")["mean"].is_monotonic_increasing


def test_study_files_shipped_are_valid():
    from pathlib import Path

    files = sorted(Path("simulations").glob("*.toml"))
    assert len(files) >= 2
    for f in files:
        load_study(f)
