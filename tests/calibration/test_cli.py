"""The command-line entry points: calibrate, validate, power."""

import pandas as pd

from toolkit.cli import main


def test_calibrate_validate_and_power_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # runs/ goes into the temporary folder
    cfg = tmp_path / "abc.toml"
    cfg.write_text(
        '[abc]\nparameters = ["learning_rate"]\ntargets = ["annual_gain"]\nclassrooms = 4\n'
        "population = 16\ngenerations = 2\nseed = 5\n"
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
