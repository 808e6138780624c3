"""The command line as its users meet it: errors that name their source, overrides that stay
visible, output that fits a terminal and survives `| head`, --version, `runs`, --help examples."""

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import interrupt_after, resume_argv
from toolkit.cli import EXAMPLES, build_parser, main
from toolkit.cli_text import format_parameters, list_runs, text_table
from toolkit.model.params import Parameters, parameter_table
from toolkit.study import load_study
from toolkit.study.analysis import provenance_line
from toolkit.study.runner import RunResult

ROOT = Path(__file__).resolve().parents[1]

TINY = """
[study]
name = "cli"
seed = 3
classrooms = 3
[parameters]
n_students = 8
n_days = 10
peer_ties = 2
[output]
formats = ["png"]
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture
def tiny_no_charts(tmp_path):
    """TINY without charts, for tests of what a run prints or records (at 200 dpi the charts
    are most of such a run's time; the tests of charts use ``tiny``)."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.replace('["png"]', "[]"))
    return path


# --- item 4: every error names where the wrong value came from --------------------------------
def test_a_folder_given_as_the_study_file_is_called_a_folder(tmp_path, capsys):
    (tmp_path / "a.toml").write_text(TINY)
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a folder, not a study file" in err and "a.toml" in err
    assert "no such study file" not in err
    assert main(["check", str(tmp_path / "missing.toml")]) == 2
    assert "no such study file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (
            "teacher_capasity=1.0",
            "--set teacher_capasity=1.0: unknown parameter 'teacher_capasity'. "
            "Did you mean 'teacher_capacity'?",
        ),
        ("teacher_capacity=abc", "--set teacher_capacity=abc: 'teacher_capacity' must be a number"),
        ("teacher_capacity=-1", "--set teacher_capacity=-1: 'teacher_capacity' = -1.0 is out of"),
        ("n_students=2", "--set n_students=2: 'peer_ties' = 2 is more than the other students"),
        (
            "n_groups=2",
            "--set n_groups=2: unknown parameter 'n_groups'. 'n_groups' is a regime axis",
        ),
    ],
)
def test_set_errors_name_the_option_not_the_study_file(tiny, capsys, option, expected):
    assert main(["check", str(tiny), "--set", option]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "[parameters]" not in err


def test_set_on_a_swept_parameter_is_refused_not_ignored(capsys):
    study = "simulations/sweep-teacher-capacity.toml"
    assert main(["check", study, "--set", "teacher_capacity=1.0"]) == 2
    err = capsys.readouterr().err
    assert "--set teacher_capacity=1.0:" in err and "sweeps 'teacher_capacity'" in err


def test_the_files_own_errors_still_name_the_file(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace("peer_ties = 2", "peer_ties = 2\nteacher_capasity = 1"))
    assert main(["check", str(bad), "--set", "teacher_capacity=1.0"]) == 2
    err = capsys.readouterr().err
    assert f"{bad} [parameters]: unknown parameter 'teacher_capasity'" in err


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--classrooms", "1"], "--classrooms"),
        (["--seed", "-1"], "--seed"),
        (["--years", "0"], "--years"),
        (["--classrooms", "many"], "--classrooms"),
    ],
)
def test_study_options_are_checked_under_their_own_name(tiny, capsys, args, option):
    with pytest.raises(SystemExit) as exc:
        main(["check", str(tiny), *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}:" in err and str(tiny) not in err


def test_workers_is_checked_under_its_own_name(tiny, capsys):
    with pytest.raises(SystemExit):
        main(["run", str(tiny), "--workers", "0"])
    assert "argument --workers: must be" in capsys.readouterr().err


# --- item 5: overrides are in the manifest and in every chart's provenance line ----------------
def test_overrides_are_recorded_and_shown_on_every_chart(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["run", str(tiny), "--out", str(out), "--no-progress", "--seed", "4"]
    assert main([*args, "--set", "teacher_capacity=1.0"]) == 0
    printed = capsys.readouterr().out
    assert (
        "--set teacher_capacity=1.0" in printed and "parameters.teacher_capacity = 1.0" in printed
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["overrides"] == [
        {"option": "--seed 4", "setting": "study.seed", "value": 4},
        {
            "option": "--set teacher_capacity=1.0",
            "setting": "parameters.teacher_capacity",
            "value": 1.0,
        },
    ]
    assert manifest["source"] == str(tiny)
    assert manifest["study"]["parameters"]["teacher_capacity"] == 1.0
    figures = sorted((out / "figures").glob("*.png"))
    assert figures
    for png in figures:
        line = Image.open(png).info["Description"]
        assert f"{tiny} --seed 4 --set teacher_capacity=1.0 | seed 4 |" in line, png.name
    # the same line can be rebuilt from the manifest alone (spec not needed)
    result = RunResult(out, manifest)
    assert provenance_line(result) == Image.open(figures[0]).info["Description"]


def test_a_run_without_overrides_says_only_the_file(tiny, tmp_path):
    spec = load_study(tiny)
    line = provenance_line(RunResult(tmp_path, {}), spec)
    assert line.startswith(f"cli | {tiny} | seed 3 |")


def test_a_long_list_of_overrides_points_to_the_manifest(tiny, tmp_path):
    import dataclasses

    overrides = tuple(
        (f"--set {name}=0.1", f"parameters.{name}", 0.1)
        for name in [
            "learning_rate",
            "zpd_optimum",
            "practice_efficacy",
            "forgetting_rate",
            "diagnostic_noise",
            "profile_noise",
        ]
    )
    spec = dataclasses.replace(load_study(tiny), overrides=overrides)
    line = provenance_line(RunResult(tmp_path / "r", {}), spec)
    assert f"{tiny} + 6 overrides (see {(tmp_path / 'r' / 'manifest.json').as_posix()})" in line


def test_check_lists_the_overrides(tiny, capsys):
    assert main(["check", str(tiny), "--set", "zpd_width=2", "--classrooms", "5"]) == 0
    out = capsys.readouterr().out
    assert "--classrooms 5" in out and "--set zpd_width=2" in out
    assert '"classrooms": 5' in out and '"zpd_width": 2.0' in out


# --- item 9: the parameter list fits 100 columns, meaning and source in separate columns -------
def _lines(text):
    return text.splitlines()


def test_params_fit_100_columns(capsys):
    for args in (["params"], ["params", "--long"]):
        assert main([*args, "--width", "100"]) == 0
        out = capsys.readouterr().out
        assert max(len(line) for line in _lines(out)) <= 100, args
        for name in Parameters.names():
            assert re.search(rf"^{name}\b", out, re.M), (args, name)


def _blocks(text, width):
    """Parse `params --long`: {name: (left column text, right column text)}."""
    half = (width - 5) // 2
    blocks, name = {}, None
    for line in _lines(text):
        m = re.match(r"^(\w+) = ", line)
        if m:
            name = m.group(1)
            blocks[name] = ([], [])
        elif name and line.startswith("  "):
            blocks[name][0].append(line[2 : 2 + half].strip())
            blocks[name][1].append(line[2 + half + 3 :].strip())
    return {
        k: (" ".join(filter(None, a)), " ".join(filter(None, b))) for k, (a, b) in blocks.items()
    }


@pytest.mark.parametrize("width", [100, 72])
def test_params_long_one_column_for_meaning_one_for_source(width):
    table = parameter_table()
    text = format_parameters(table, long=True, width=width)
    assert max(len(line) for line in _lines(text)) <= width
    blocks = _blocks(text, width)
    assert list(blocks) == list(table.name)
    for r in table.itertuples():
        left, right = blocks[r.name]
        assert left == f"{r.description} Plausible range: {r.plausible}", r.name
        assert right == f"{r.source} {r.plausible_source}", r.name


def test_text_table_wraps_cells_and_keeps_the_first_column_whole():
    out = text_table(["name", "note"], [["a_long_name", "one two three four five six"]], width=24)
    assert out.splitlines() == [
        "name         note",
        "a_long_name  one two",
        "             three four",
        "             five six",
    ]


def test_study_descriptions_state_the_numbers_of_the_resolved_study():
    """Numbers in a study file's description (copied into every manifest) are the study's."""
    words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10}
    checks = {
        r"(\w+) students? (?:a|per|in each) class": lambda s: s.base_parameters().n_students,
        r"(\w+) classrooms?": lambda s: s.classrooms,
        r"(\w+) school years?": lambda s: s.years,
        r"(\w+) (?:school )?days": lambda s: s.base_parameters().n_days,
    }
    for path in sorted((ROOT / "simulations").glob("*.toml")):
        spec = load_study(path)
        text = spec.description
        for pattern, actual in checks.items():
            for m in re.finditer(pattern, text, re.I):
                value = m.group(1).lower()
                number = int(value) if value.isdigit() else words.get(value)
                assert number == actual(spec), f"{path.name}: '{m.group(0)}' but {actual(spec)}"
            text = re.sub(pattern, "", text, flags=re.I)
        assert not re.search(r"\d", text), f"{path.name}: a number the test cannot check: {text}"


# --- item 11: output cut short by the reader ends quietly -------------------------------------
def _closed_pipe():
    """A file whose reader has gone: every write that reaches the pipe fails (EPIPE)."""
    r, w = os.pipe()
    os.close(r)
    return os.fdopen(w, "w")


@pytest.mark.parametrize(
    "args",
    [
        ["params"],
        ["params", "--long"],
        ["regimes"],
        ["runs", "{tmp}"],
        ["check", "{study}"],
        ["--help"],
        ["--version"],
    ],
    ids=lambda a: " ".join(a),
)
def test_every_command_ends_quietly_when_the_reader_goes(monkeypatch, tmp_path, tiny, args):
    args = [a.format(tmp=tmp_path, study=tiny) for a in args]
    with _closed_pipe() as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)  # set here: pytest resets it between phases
        assert main(args) == 141


def test_params_into_head_prints_no_traceback():
    r, w = os.pipe()
    os.close(r)
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", "params", "--long"],
        stdout=w,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    os.close(w)
    assert proc.stderr == "" and proc.returncode == 141


# --- item 12: --version, runs, examples in --help ---------------------------------------------
def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert re.match(r"classroom-regimes-toolkit \d+\.\d+\.\d+ \(commit (\w{8}|no git)", out)


def test_runs_lists_each_run_folder(tiny_no_charts, tmp_path, capsys):
    tiny = tiny_no_charts
    runs = tmp_path / "runs"
    assert main(["run", str(tiny), "--out", str(runs / "a"), "--no-progress"]) == 0
    args = ["--no-progress", "--seed", "9", "--set", "zpd_width=2"]
    assert main(["run", str(tiny), "--out", str(runs / "nested" / "b"), *args]) == 0
    (runs / "broken").mkdir()
    (runs / "broken" / "manifest.json").write_text("{not json")
    stopped = json.loads((runs / "a" / "manifest.json").read_text())
    stopped |= {"status": "running", "started": "2020-01-02T03:04:05+00:00"}
    (runs / "stopped").mkdir()
    (runs / "stopped" / "manifest.json").write_text(json.dumps(stopped))
    capsys.readouterr()

    table = list_runs(runs)
    assert list(table.run) == ["stopped", "a", "nested/b", "broken"]  # oldest first
    assert list(table.status) == ["running", "complete", "complete", "unreadable manifest"]
    assert list(table.seed[:3]) == [3, 3, 9]
    assert table.started[0] == "2020-01-02 03:04"
    assert table.overrides[2] == "--seed 9 --set zpd_width=2"

    assert main(["runs", str(runs)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["run", "study", "status", "seed", "classrooms",
                                           "started", "(UTC)", "overrides"]  # fmt: skip
    assert re.search(
        r"^nested/b\s+cli\s+complete\s+9\s+3\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+--seed 9", out, re.M
    )
    assert main(["runs", str(tmp_path / "none")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["runs", str(tmp_path / "empty")]) == 0
    assert "No runs in" in capsys.readouterr().out


def test_help_shows_examples_that_are_real_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    examples = [ln.strip() for ln in EXAMPLES.splitlines() if ln.strip().startswith("python -m")]
    assert len(examples) >= 6
    used = set()
    for line in examples:
        assert line in out
        argv = shlex.split(line)[3:]
        args = build_parser().parse_args(argv)  # exits (fails the test) on an unknown option
        used.add(args.command)
        if getattr(args, "study", None):
            assert (ROOT / args.study).is_file(), line
            tomllib.loads((ROOT / args.study).read_text())
    assert {"run", "check", "params", "runs"} <= used
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "--set teacher_capacity=1.0" in capsys.readouterr().out


def test_docs_errors_name_the_file(tmp_path, capsys):
    assert main(["docs", "--file", str(tmp_path / "nope.md")]) == 2
    assert f"--file {tmp_path / 'nope.md'}: no such file." in capsys.readouterr().err
    other = tmp_path / "other.md"
    other.write_text("# no generated blocks\n")
    assert main(["docs", "--file", str(other), "--check"]) == 2
    assert "no '<!-- BEGIN parameters -->'" in capsys.readouterr().err


def test_a_run_folder_that_cannot_be_made_is_an_error_not_a_traceback(tiny, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = main(["run", str(tiny), "--out", str(blocker / "run"), "--no-progress"])
    assert code in (1, 2)
    err = capsys.readouterr().err  # the estimate may come first
    assert any(ln.startswith("error: ") and "a-file" in ln for ln in err.splitlines()), err


# --- issue 19: interruptions, resuming a changed study, sweeps, per-year lists, bad options ----
ROBUST = """
[study]
name = "rb"
seed = 5
classrooms = 2
[robustness]
model = "paired"
design = "random"
n = 6
points_per_unit = 1
claims = ["b - a > 0 on m"]
[output]
formats = []
"""


def test_ctrl_c_in_robustness_says_what_was_kept_and_resumes(tmp_path, capsys, monkeypatch):
    import toolkit.study.runner as runner

    study = tmp_path / "rb.toml"
    study.write_text(ROBUST)
    out = tmp_path / "run"
    interrupt_after(monkeypatch, runner, "run_unit", 4)
    argv = ["robustness", str(study), "--out", str(out), "--no-estimate", "--no-progress"]
    assert main([*argv, "--classrooms", "3"]) == 130
    err = capsys.readouterr().err
    assert "no run was started" not in err
    assert f"Interrupted: kept the 3 of 6 design points that had finished in {out}/" in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    resume = resume_argv(err)
    assert resume[:2] == ["robustness", str(study)] and "--classrooms" in resume
    assert resume[-1] == "--resume"
    monkeypatch.undo()
    assert main([*resume, "--no-progress"]) == 0
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_ctrl_c_in_run_keeps_its_message(tiny, tmp_path, capsys, monkeypatch):
    import toolkit.study.runner as runner

    interrupt_after(monkeypatch, runner, "run_unit", 1)
    out = tmp_path / "run"
    assert main(["run", str(tiny), "--out", str(out), "--no-estimate", "--no-progress"]) == 130
    err = capsys.readouterr().err
    assert "Interrupted: kept the 0 of 1 work units that had finished" in err
    assert resume_argv(err) == ["run", str(tiny), "--out", str(out), "--resume"]


def test_resume_on_a_changed_study_names_the_setting(tiny_no_charts, tmp_path, capsys):
    tiny = tiny_no_charts
    out = tmp_path / "run"
    assert main(["run", str(tiny), "--out", str(out), "--no-estimate", "--no-progress"]) == 0
    capsys.readouterr()
    argv = ["run", str(tiny), "--out", str(out), "--no-estimate", "--resume"]
    assert main([*argv, "--seed", "4", "--set", "n_days=12"]) == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "seed: 3 -> 4" in err
    assert "parameters.n_days: 10 -> 12" in err


def test_a_sweep_prints_every_point_labelled(tmp_path, capsys):
    study = tmp_path / "sweep.toml"
    study.write_text(
        TINY.replace("[output]", '[sweep]\nparameter = "teacher_capacity"\n'
                     "values = [0.5, 1.0, 2.0]\n[output]").replace('["png"]', "[]")
    )  # fmt: skip
    out = tmp_path / "run"
    assert main(["run", str(study), "--out", str(out), "--no-estimate", "--no-progress"]) == 0
    text = capsys.readouterr().out
    table = text.split("at every sweep point\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert table[1].startswith("teacher_capacity")
    assert [ln.split()[0] for ln in table[2:]] == ["0.5", "1.0", "2.0"]
    assert "At teacher_capacity = 0.5 (sweep point 1 of 3)" in text


def test_a_per_year_list_longer_than_years_is_refused(tmp_path, capsys):
    study = tmp_path / "years.toml"
    study.write_text(
        TINY.replace("[parameters]", "years = 2\n[arms]\nstandardized = \"standardized\"\n"
                     'switch = ["standardized", "personalized", "personal"]\n[parameters]')
    )  # fmt: skip
    assert main(["check", str(study), "--no-estimate"]) == 2
    err = capsys.readouterr().err
    assert f"{study} [arms] switch: lists 3 regimes" in err and "years = 2" in err
    assert "OK" not in err
    # a list as long as years, or shorter (its last regime continues), is fine
    assert main(["check", str(study), "--no-estimate", "--years", "3"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "--classrooms", "0"], "argument --classrooms: must be"),
        (["validate", "--draws", "0"], "argument --draws: must be"),
        (["calibrate", "--population", "0"], "argument --population: must be"),
        (["calibrate", "--generations", "0"], "argument --generations: must be"),
        (["calibrate", "--classrooms", "1"], "argument --classrooms: must be"),
        (["calibrate", "--workers", "0"], "argument --workers: must be"),
        (["power", "x.toml", "--workers", "0"], "argument --workers: must be"),
        (["power", "x.toml", "--replications", "1"], "argument --replications: must be"),
        (["power", "x.toml", "--sizes", "2"], "argument --sizes: must be"),
    ],
)
def test_bad_counts_are_refused_under_their_own_name(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_validate_with_a_missing_posterior_is_an_error(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--posterior", "MISSING", "--no-docking"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --posterior MISSING:") and "no such posterior file" in err
    assert not (tmp_path / "runs").exists()  # refused before anything was written
    bad = tmp_path / "abc.toml"
    bad.write_text("[abc]\npopulaton = 10\n")
    assert main(["calibrate", "--config", str(bad)]) == 2
    assert "unknown key(s) ['populaton']" in capsys.readouterr().err


def test_the_program_freezes_what_it_loaded_before_the_interpreter_exits(monkeypatch):
    """``python -m toolkit`` and the installed ``toolkit`` command run the same entry: the fork
    server started early, the command, then :func:`gc.freeze` (the interpreter's exit then
    skips collecting the objects of every module a run imported), and the command's status."""
    import gc

    import toolkit.__main__ as entry
    import toolkit.cli

    calls = []
    monkeypatch.setattr(entry, "start_early", lambda argv: calls.append("fork server"))
    monkeypatch.setattr(toolkit.cli, "main", lambda: calls.append("command") or 7)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    assert entry.run() == 7
    assert calls == ["fork server", "command", "freeze"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"toolkit": "toolkit.__main__:run"}
    # and as a program: the status of the command
    done = subprocess.run([sys.executable, "-m", "toolkit", "nonsense"], capture_output=True)
    assert done.returncode == 2 and b"invalid choice" in done.stderr
