"""The command-line entry points: calibrate, validate, power."""

import json

import pandas as pd

from tests.conftest import interrupt_after, resume_argv
from toolkit.cli import main


def test_calibrate_validate_and_power_from_the_command_line(tmp_path, capsys, monkeypatch):
    # population 8 (was 16): what is checked is the command line, not the posterior; at 16 the
    # last generation, at temperature 1, took 942 model evaluations at this seed, at 8 it takes 99
    monkeypatch.chdir(tmp_path)  # runs/ goes into the temporary folder
    cfg = tmp_path / "abc.toml"
    cfg.write_text(
        '[abc]\nparameters = ["learning_rate"]\ntargets = ["annual_gain"]\nclassrooms = 4\n'
        "population = 8\ngenerations = 2\nseed = 5\n"
        "[parameters]\nn_students = 10\nn_days = 30\npeer_ties = 3\n"
    )
    assert main(["calibrate", "--config", str(cfg), "--out", "runs/cal"]) == 0
    out = capsys.readouterr().out
    assert "learning_rate" in out and "effective sample size" in out
    assert (tmp_path / "runs" / "cal" / "abc.db").is_file()
    assert main(["calibrate", "--config", str(cfg), "--out", "runs/cal"]) == 2  # refuses
    assert "already holds a calibration run" in capsys.readouterr().err

    assert (
        main(
            [
                "validate",
                "--out",
                "val",
                "--classrooms",
                "3",
                "--posterior",
                "runs/cal",
                "--draws",
                "2",
                "--no-docking",
            ]
        )
        == 0
    )
    assert (tmp_path / "val" / "report.html").is_file()
    ev = pd.read_csv(tmp_path / "val" / "targets.csv")
    assert ev.loc[ev["origin"].eq("targets"), "model"].notna().all()

    study = tmp_path / "p.toml"
    study.write_text(
        '[study]\nname = "p"\nseed = 1\nclassrooms = 12\nreference = "individualized"\n'
        '[arms]\nindividualized = "individualized"\npersonalized = "personalized"\n'
        "[parameters]\nn_students = 8\nn_days = 15\npeer_ties = 3\n"
        "[power]\nsizes = [4, 6]\nreplications = 10\n"
        '[survey]\nscales = []\n[output]\nformats = ["png"]\n'
    )
    assert main(["power", str(study), "--out", "pw", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "personalized is a prediction of the model" in out
    assert "Classrooms needed for 80% power" in out
    assert main(["power", str(study), "--out", "pw", "--sizes", "99", "--no-progress"]) == 2


POWER = (
    '[study]\nname = "p"\nseed = 1\nclassrooms = 12\nreference = "individualized"\n'
    '[arms]\nindividualized = "individualized"\npersonalized = "personalized"\n'
    "[parameters]\nn_students = 8\nn_days = 15\npeer_ties = 3\n"
    "[power]\nsizes = [4, 6]\nreplications = 10\n"
    "[survey]\nscales = []\n[output]\nformats = []\n"
)


def test_ctrl_c_in_power_says_what_was_kept_and_resumes(tmp_path, capsys, monkeypatch):
    import toolkit.power.simulate as simulate
    import toolkit.study.runner as runner

    monkeypatch.chdir(tmp_path)
    study = tmp_path / "p.toml"
    study.write_text(POWER)
    argv = ["power", str(study), "--out", "pw", "--no-progress", "--sizes", "4", "6"]
    # in the pool: none of its work units had finished
    with monkeypatch.context() as m:
        interrupt_after(m, runner, "run_unit", 1)
        assert main(argv) == 130
    err = capsys.readouterr().err
    assert "no run was started" not in err
    assert "Interrupted: kept the 0 of 1 work units of the pool of classrooms" in err
    assert json.loads((tmp_path / "pw" / "manifest.json").read_text())["status"] == "interrupted"
    # in the power curve: the first size's 10 trials had finished, not the second's
    with monkeypatch.context() as m:
        interrupt_after(m, simulate, "_replicate", 15)
        assert main([*argv, "--resume"]) == 130
    err = capsys.readouterr().err
    assert "kept the pool of classrooms (complete) and 1 of 2 power-curve points" in err
    manifest = json.loads((tmp_path / "pw" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    resume = resume_argv(err)
    assert resume[:4] == ["power", str(study), "--out", "pw"]
    assert "--sizes 4 6" in " ".join(resume)
    assert main([*resume, "--no-progress"]) == 0
    assert json.loads((tmp_path / "pw" / "manifest.json").read_text())["status"] == "complete"
    # resuming with another setting names it
    capsys.readouterr()
    assert main([*resume, "--replications", "12"]) == 2
    assert "power.replications: 10 -> 12" in capsys.readouterr().err


def test_ctrl_c_in_calibrate_says_what_was_kept_and_resumes(tmp_path, capsys, monkeypatch):
    import toolkit.calibration.abc as abc

    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "abc.toml"
    cfg.write_text(
        '[abc]\nparameters = ["learning_rate"]\ntargets = ["annual_gain"]\nclassrooms = 4\n'
        "population = 8\ngenerations = 2\nseed = 5\n"
        "[parameters]\nn_students = 10\nn_days = 30\npeer_ties = 3\n"
    )
    # at this seed the first generation ends after 49 model evaluations and the second after
    # 148 (8 from the prior, 41 and 99 sampled): stop in the second
    with monkeypatch.context() as m:
        interrupt_after(m, abc._Simulator, "__call__", 75)
        argv = ["calibrate", "--config", str(cfg), "--out", "runs/cal", "--seed", "5"]
        assert main(argv) == 130
    err = capsys.readouterr().err
    assert "no run was started" not in err
    assert "Interrupted: kept the 1 finished generation(s) (of at most 2) in runs/cal/abc.db" in err
    manifest = json.loads((tmp_path / "runs" / "cal" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["generations"] == 1
    resume = resume_argv(err)
    assert resume == ["calibrate", "--out", "runs/cal", "--config", str(cfg), "--seed", "5",
                      "--resume"]  # fmt: skip
    assert main(resume) == 0
    assert "resuming after 1 generation" in (tmp_path / "runs" / "cal" / "progress.log").read_text()
    assert json.loads((tmp_path / "runs" / "cal" / "manifest.json").read_text())["status"] == (
        "complete"
    )
    capsys.readouterr()
    assert main([*resume[:-1], "--classrooms", "5", "--resume"]) == 2
    assert "classrooms: 4 -> 5" in capsys.readouterr().err
