"""Streamed results, what --overwrite may delete, the estimate before a run, the analysis steps.

The analysis of a run streams over its parts; the same functions on the whole student table in
memory must give the same tables, bit for bit, and a run that keeps only classroom rows must
give the same numbers as one that keeps every student.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import toolkit.study.estimate as estimate
from toolkit.cli import main
from toolkit.metrics import by_prior_group, excellence_thresholds
from toolkit.study import StudyError, parse_study, run_study
from toolkit.study.analysis import (
    classroom_metrics,
    study_statistics,
    summarise,
    tail_units,
    tails_table,
)
from toolkit.study.estimate import estimate_study

SWEEP = {
    "study": {"name": "stream", "seed": 9, "classrooms": 6, "chunk_size": 2, "years": 2},
    "arms": {
        "standardized": "standardized",
        "personal": "personal",
        "transition": ["personalized", "personal"],
    },
    "parameters": {"n_students": 10, "n_days": 12, "peer_ties": 3},
    "sweep": {"parameter": "teacher_capacity", "values": [0.5, 1.0]},
    "output": {"formats": ["png"]},
}
SMALL = {
    "study": {"name": "small", "seed": 4, "classrooms": 4, "chunk_size": 2},
    "parameters": {"n_students": 8, "n_days": 10, "peer_ties": 2},
    "output": {"formats": ["png"]},
}
#: SMALL without charts, for tests that read tables, files or messages but no chart: at 200 dpi
#: the charts are most of such a small run's time (the tests above and below that check
#: figures/ keep them).
SMALL_NO_CHARTS = SMALL | {"output": {"formats": []}}


def make(base, **study):
    data = json.loads(json.dumps(base))
    data["study"].update(study)
    return parse_study(data, source="test.toml")


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    return run_study(make(SWEEP), tmp_path_factory.mktemp("stream") / "s", progress=False)


# --- results that stream ---------------------------------------------------------------------
def test_streamed_analysis_equals_the_in_memory_one(streamed):
    ref = "standardized"
    students = streamed.students  # read back from the partitioned parts
    assert len(students) == 2 * 3 * 6 * 2 * 10  # points x arms x classrooms x years x students
    classrooms = classroom_metrics(students, ref)
    pd.testing.assert_frame_equal(streamed.classrooms, classrooms, check_exact=True)
    pd.testing.assert_frame_equal(
        streamed.summary, summarise(classrooms, students, ref), check_exact=True
    )
    pd.testing.assert_frame_equal(streamed.tails, tails_table(students, ref), check_exact=True)
    # and the files say the same
    on_disk = pd.read_csv(streamed.folder / "summary.csv")
    np.testing.assert_array_equal(on_disk["mean"].to_numpy(), streamed.summary["mean"].to_numpy())


def test_study_statistics_do_not_depend_on_how_rows_are_split(streamed):
    students = streamed.students
    whole = study_statistics([students], "standardized")
    by_unit = study_statistics(streamed.student_parts(), "standardized")
    shuffled = students.sample(frac=1.0, random_state=1)  # another order, one part
    other = study_statistics([shuffled.sort_values("point", kind="stable")], "standardized")
    for stats in (by_unit, other):
        assert stats.reference_sd == whole.reference_sd
        for key, thr in whole.thresholds.items():
            np.testing.assert_array_equal(stats.thresholds[key], thr)
        for key, bins in whole.prior_bins.items():
            np.testing.assert_array_equal(stats.prior_bins[key], bins)
    # against the metrics module's own definitions on each arm's students
    profile = [c for c in students.columns if c.startswith("skill_")]
    assert {k[2] for k in whole.thresholds} == set(students.arm.astype(str))
    for (point, year, arm), thr in whole.thresholds.items():
        rows = students[(students.point == point) & (students.year == year)]
        rows = rows[rows.arm == arm]
        np.testing.assert_array_equal(thr, excellence_thresholds(rows[profile], 0.9).to_numpy())
        if arm == "standardized":
            assert whole.reference_sd[(point, year)] == pytest.approx(rows.score.std(), rel=1e-14)
    p0, p1 = students[students.point == 0], students[students.point == 1]
    backwards = study_statistics([p1, p0], "standardized")  # points in any order, each whole
    assert backwards.reference_sd == whole.reference_sd
    with pytest.raises(ValueError, match="parts of a sweep point must come together"):
        study_statistics([p0[p0.replicate < 3], p1, p0[p0.replicate >= 3]], "standardized")
    # the quintiles are exactly by_prior_group's, within sweep point, year and arm
    units = tail_units(students, whole)
    expected = (
        students.assign(
            quintile=by_prior_group(students, "prior_score", within=["point", "year", "arm"])
            .cat.codes.astype(int)
            .add(1),
            core_gain=students.core_end - students.core_start,
        )
        .groupby(["point", "year", "quintile", "arm", "replicate"], observed=True)[
            ["core_gain", "score"]
        ]
        .mean()
        .reset_index()
    )
    pd.testing.assert_frame_equal(units, expected, check_exact=True, check_dtype=False)


def test_keep_classrooms_gives_the_same_numbers_without_student_rows(streamed, tmp_path):
    res = run_study(make(SWEEP, keep="classrooms"), tmp_path / "k", progress=False)
    pd.testing.assert_frame_equal(res.summary, streamed.summary, check_exact=True)
    pd.testing.assert_frame_equal(res.classrooms, streamed.classrooms, check_exact=True)
    pd.testing.assert_frame_equal(res.tails, streamed.tails, check_exact=True)
    assert not (tmp_path / "k" / "students.parquet").exists()
    assert not list((tmp_path / "k" / "parts").glob("*.students.parquet"))  # deleted at the end
    with pytest.raises(StudyError, match="kept only classroom-level rows"):
        _ = res.students
    manifest = json.loads((tmp_path / "k" / "manifest.json").read_text())
    assert (
        manifest["study"]["keep"] == "classrooms" and "students.parquet/" not in manifest["files"]
    )
    with pytest.raises(StudyError, match=r"'keep' must be one of \['students', 'classrooms'\]"):
        make(SWEEP, keep="classroom")
    # a complete keep="classrooms" run cannot redo its analysis: resuming says so
    with pytest.raises(StudyError, match="complete; nothing to resume"):
        run_study(make(SWEEP, keep="classrooms"), tmp_path / "k", resume=True, progress=False)
    with pytest.raises(StudyError, match="keeps 'students'"):
        run_study(make(SWEEP, keep="classrooms"), streamed.folder, resume=True, progress=False)


# --- --overwrite deletes only what the run wrote ---------------------------------------------
@pytest.fixture
def run_folder(tmp_path):
    folder = tmp_path / "run"
    run_study(make(SMALL), folder, progress=False)
    return folder


def test_overwrite_keeps_the_users_own_files(run_folder):
    (run_folder / "analysis.py").write_text("print('mine')\n")
    (run_folder / "figures" / "edited").mkdir()
    (run_folder / "figures" / "edited" / "outcome-final.png").write_bytes(b"my edit")
    (run_folder / "notes").mkdir()
    (run_folder / "notes" / "summary.csv").write_text("my own table\n")
    stale = run_folder / "parts" / ".p000-c000000.classrooms.parquet.tmp"
    stale.write_bytes(b"half-written")
    res = run_study(make(SMALL, seed=5), run_folder, overwrite=True, progress=False)
    assert (run_folder / "analysis.py").read_text() == "print('mine')\n"
    assert (run_folder / "figures" / "edited" / "outcome-final.png").read_bytes() == b"my edit"
    assert (run_folder / "notes" / "summary.csv").read_text() == "my own table\n"
    assert not stale.exists()
    assert res.manifest["master_seed"] == 5 and (run_folder / "summary.csv").is_file()
    assert "analysis.py" not in res.manifest["files"]


def test_overwrite_refuses_files_in_the_way_and_deletes_nothing(run_folder):
    before = {p: p.read_bytes() for p in run_folder.rglob("*") if p.is_file()}
    edited = run_folder / "figures" / "outcome.png"
    edited.write_bytes(b"edited by hand")  # a file the run wrote, changed since
    mine = run_folder / "figures" / "my-chart.svg"  # the user's, where the run writes charts
    mine.write_text("<svg/>")
    with pytest.raises(StudyError) as err:
        run_study(make(SMALL), run_folder, overwrite=True, progress=False)
    text = str(err.value)
    assert "figures/outcome.png   (written by the run, changed since)" in text
    assert "figures/my-chart.svg   (not written by the run)" in text
    assert "Nothing was deleted" in text
    for path, data in before.items():
        if path != edited:
            assert path.read_bytes() == data, path
    assert edited.read_bytes() == b"edited by hand" and mine.read_text() == "<svg/>"


def test_overwrite_of_an_interrupted_run_deletes_its_parts(tmp_path):
    folder = tmp_path / "int"

    def stop(result, spec):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_study(make(SMALL_NO_CHARTS), folder, progress=False, analyse=stop)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["units"] == {"total": 2, "done": 2}
    (folder / "README.txt").write_text("mine")
    run_study(make(SMALL_NO_CHARTS, seed=6), folder, overwrite=True, progress=False)
    assert (folder / "README.txt").read_text() == "mine"
    parts = sorted(p.name for p in (folder / "students.parquet").iterdir())
    assert parts == ["p000-c000000.parquet", "p000-c000002.parquet"]


def test_readme_python_snippet_does_not_overwrite():
    # the README's "Your own study" is the documentation site's page docs/studies.md
    readme = (Path(__file__).resolve().parents[1] / "docs" / "studies.md").read_text()
    snippet = readme[readme.index("```python") : readme.index("```", readme.index("```python") + 3)]
    (call,) = [line for line in snippet.splitlines() if "run_study(" in line]
    assert "overwrite" not in call.split("#")[0]
    assert '"runs/headline"' not in call  # not the folder ./run.sh headline writes


# --- the estimate before a run ---------------------------------------------------------------
def test_estimate_counts_the_work_and_measures_the_disk(tmp_path):
    spec = make(SMALL_NO_CHARTS, classrooms=16, chunk_size=4)  # the estimate has no charts
    est = estimate_study(spec, folder=tmp_path)
    assert est.classroom_years == 16 * 4 and est.units == 4
    assert est.student_rows == 16 * 4 * 8
    assert est.seconds > 0 and est.seconds_range[0] < est.seconds < est.seconds_range[1]
    assert "an estimate" in est.format() and "classroom-years" in est.format()
    res = run_study(spec, tmp_path / "r", progress=False)
    data = sum(
        p.stat().st_size
        for p in res.folder.rglob("*")
        if p.is_file() and p.parent.name in ("students.parquet", "parts")
    )
    data += (res.folder / "classrooms.csv").stat().st_size
    assert 0.5 * data < est.disk_bytes - estimate.FIXED_OUTPUT_BYTES < 2 * data
    big = estimate_study(make(SMALL, classrooms=10_000_000, chunk_size=50), folder=tmp_path)
    assert big.units == 200_000 and big.classroom_years == 40_000_000
    assert big.disk_bytes > 1000 * est.disk_bytes and big.needs_confirmation


def _write_small(tmp_path, classrooms=4):
    path = tmp_path / "small.toml"
    path.write_text(
        f'[study]\nname = "small"\nseed = 4\nclassrooms = {classrooms}\nchunk_size = 2\n'
        "[parameters]\nn_students = 8\nn_days = 10\npeer_ties = 2\n"
        "[output]\nformats = []\n"  # its tests read what the command line prints, not charts
    )
    return path


def test_check_and_run_print_the_estimate(tmp_path, capsys):
    path = _write_small(tmp_path)
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Estimate (from a timed sample on this machine" in out and "an estimate" in out
    assert "time:   about" in out and "disk:   about" in out and "memory: about" in out
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "Estimate (from a timed sample" in err


def test_ten_million_classrooms_are_refused_beyond_free_disk(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(estimate, "free_disk_bytes", lambda folder: 71 * 2**30)
    path = _write_small(tmp_path)
    big = ["--classrooms", "10000000"]
    assert main(["check", str(path), *big]) == 0
    out = capsys.readouterr().out
    assert "40,000,000 classroom-years" in out and "71.0 GB free" in out
    assert "would not fit on the disk" in out
    out_dir = tmp_path / "big"
    assert main(["run", str(path), *big, "--out", str(out_dir)]) == 2
    err = capsys.readouterr().err
    assert "of disk and 71.0 GB are free there; nothing was started" in err
    assert not out_dir.exists()


def test_run_beyond_an_hour_needs_yes(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(estimate, "CONFIRM_SECONDS", 1e-3)  # this small study is "long"
    monkeypatch.setattr("sys.stdin", io.StringIO())  # not a terminal
    path = _write_small(tmp_path)
    out_dir = tmp_path / "o"
    assert main(["run", str(path), "--out", str(out_dir), "--no-progress"]) == 2
    assert "Pass --yes to start it anyway" in capsys.readouterr().err
    assert not out_dir.exists()
    assert main(["run", str(path), "--out", str(out_dir), "--no-progress", "--yes"]) == 0
    assert (out_dir / "summary.csv").is_file()


# --- the analysis after the progress bar is shown --------------------------------------------
def test_analysis_steps_are_shown_after_the_progress_bar(tmp_path, capfd):
    run_study(make(SMALL), tmp_path / "p", progress=True)
    err = capfd.readouterr().err
    bar = err.rindex("small: 100%")
    for step in (
        "analysis: study-wide statistics from 2 parts",
        "analysis: excellence and prior quintiles",
        "analysis: tails, classroom table and summary ...",
        "analysis: figures ...",
    ):
        assert err.index(step) > bar, step
    assert err.rstrip().endswith(" s")  # each step says how long it took


def test_interrupted_manifest_lists_what_was_written(tmp_path):
    def crash_after_tables(result, spec):
        result.write_table(pd.DataFrame({"a": [1]}), "summary.csv")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_study(make(SMALL), tmp_path / "f", progress=False, analyse=crash_after_tables)
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["error"] == "RuntimeError: boom"
    assert "summary.csv" in manifest["files"] and manifest["sha256"]["summary.csv"]
    assert os.path.getsize(tmp_path / "f" / "summary.csv") > 0


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_run_beyond_an_hour_asks_at_a_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(estimate, "CONFIRM_SECONDS", 1e-3)
    path = _write_small(tmp_path)
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    assert main(["run", str(path), "--out", str(tmp_path / "no"), "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "This study is large: it is estimated to take about" in captured.out
    assert "Not started." in captured.err and not (tmp_path / "no").exists()
    monkeypatch.setattr("sys.stdin", _Terminal("y\n"))
    assert main(["run", str(path), "--out", str(tmp_path / "yes"), "--no-progress"]) == 0
    assert (tmp_path / "yes" / "summary.csv").is_file()
