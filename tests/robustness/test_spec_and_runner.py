"""The [robustness] table, the check estimate, and the runner: resuming, re-analysing, workers."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.cli import main
from toolkit.model.params import plausible_ranges
from toolkit.robustness.design import DesignError, design_size, make_design, sampling_ranges
from toolkit.study.runner import _units
from toolkit.study.spec import StudyError, load_study

ROOT = Path(__file__).resolve().parents[2]


# --- designs -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "n", "expected"), [("sobol", 8, 8 * 5), ("morris", 3, 3 * 4), ("lhs", 7, 7), ("random", 5, 5)]  # noqa: E501
)  # fmt: skip
def test_design_sizes(kind, n, expected):
    r = sampling_ranges(plausible_ranges(), ["zpd_width", "teacher_capacity", "n_students"])
    d = make_design(r, kind, n, seed=3)
    assert d.size == expected == design_size(kind, n, 3)
    again = make_design(r, kind, n, seed=3)
    assert d.values.equals(again.values)  # deterministic from the seed
    assert d.values["n_students"].dtype.kind == "i"
    assert d.values["zpd_width"].between(0.5, 2.0).all()


def test_log_scale_is_uniform_in_the_log_and_integers_uniform_over_whole_numbers():
    r = sampling_ranges(plausible_ranges(), ["zpd_width", "peer_ties"])
    d = make_design(r, "random", 20000, seed=1)
    logs = np.log(d.values["zpd_width"])
    assert abs(np.median(logs)) < 0.02  # log(0.5) .. log(2): median 0 in the log
    counts = d.values["peer_ties"].value_counts(normalize=True).sort_index()
    assert list(counts.index) == [2, 3, 4, 5, 6, 7, 8]
    assert np.allclose(counts, 1 / 7, atol=0.01)  # end values as likely as the others


def test_sobol_blocks_and_second_order():
    r = sampling_ranges(plausible_ranges(), ["zpd_width", "teacher_capacity"])
    d = make_design(r, "sobol", 4, second_order=True)
    assert d.size == 4 * (2 * 2 + 2)
    assert d.independent().sum() == 8
    a = d.values[d.block == "A"].to_numpy()
    ab = d.values[d.block == "AB:zpd_width"].to_numpy()
    assert np.array_equal(a[:, 1], ab[:, 1]) and not np.array_equal(a[:, 0], ab[:, 0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"parameters": ["zpd_widht"]}, "Did you mean 'zpd_width'?"),
        ({"parameters": "some"}, 'must be "all" or a list'),
        ({"parameters": ["zpd_width"], "overrides": {"teacher_capacity": [0.3, 1]}}, "is not varied"),  # noqa: E501
        ({"parameters": ["zpd_width"], "overrides": {"zpd_width": [2, 1]}}, "is above high"),
        ({"parameters": ["zpd_width"], "overrides": {"zpd_width": [0, 1]}}, "log-scale range needs low > 0"),  # noqa: E501
        ({"parameters": ["zpd_width"], "overrides": {"zpd_width": [1, 1]}}, "set it in [parameters]"),  # noqa: E501
        ({"parameters": ["zpd_width"], "fixed": ["zpd_width"]}, "both varied"),
    ],
)  # fmt: skip
def test_range_errors(kwargs, message):
    params = kwargs.pop("parameters")
    with pytest.raises(DesignError) as err:
        sampling_ranges(plausible_ranges(), params, **kwargs)
    assert message in str(err.value)


def test_sobol_needs_a_power_of_two():
    r = sampling_ranges(plausible_ranges(), ["zpd_width"])
    with pytest.raises(DesignError, match=r"power of two \(e.g. 64 or 128\)"):
        make_design(r, "sobol", 100)


# --- the [robustness] table --------------------------------------------------------------------
def test_fixed_parameters_leave_all_and_overrides_apply(study):
    spec = study(
        {"design": "lhs", "n": 3, "ranges": {"zpd_width": [0.7, 1.5]}},
        parameters={"teacher_capacity": 1.0},
    )
    d = spec.robustness.make_design(spec.seed)
    assert "teacher_capacity" not in d.ranges.index and "zpd_width" in d.ranges.index
    assert d.values["zpd_width"].between(0.7, 1.5).all()
    points = spec.points()
    assert all(p.teacher_capacity == 1.0 for _, p, _ in points)
    assert [p.zpd_width for _, p, _ in points] == pytest.approx(list(d.values["zpd_width"]))


@pytest.mark.parametrize(
    ("table", "extra", "message"),
    [
        ({"desing": "sobol"}, {}, "unknown key 'desing'. Did you mean 'design'?"),
        ({"design": "sobl"}, {}, "Did you mean 'sobol'?"),
        ({"design": "sobol", "n": 100}, {}, "power of two"),
        ({"metrics": ["effect_sise"]}, {}, "Did you mean 'effect_size'?"),
        ({"ranges": {"zpd_width": [0.005, 2]}}, {}, "range of 'zpd_width'"),
        ({"model": "ishigamy"}, {}, "Did you mean 'ishigami'?"),
        ({"second_order": True, "design": "lhs"}, {}, "needs design"),
        ({}, {"sweep": {"parameter": "zpd_width", "values": [1.0]}}, "either [sweep] or [robustness]"),  # noqa: E501
        ({}, {"study": {"chunk_size": 1}}, "a robustness study runs each design point"),
    ],
)  # fmt: skip
def test_robustness_table_errors_name_file_and_key(study, table, extra, message):
    with pytest.raises(StudyError) as err:
        study({"n": 4} | table, **extra)
    assert message in str(err.value)
    assert "test.toml" in str(err.value)


def test_fingerprint_follows_the_design_not_the_claims(study):
    a = study({"design": "lhs", "n": 4, "claims": ["personal > 0 on score"]})
    b = study({"design": "lhs", "n": 4, "claims": ["personal < 0 on score"]})
    c = study({"design": "lhs", "n": 5})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    plain = load_study(ROOT / "simulations" / "headline.toml")
    assert "robustness" not in plain.resolved()  # other studies' fingerprints are unchanged


def test_units_are_design_points_with_every_classroom(study):
    spec = study({"design": "lhs", "n": 5, "parameters": ["zpd_width"]}, study={"classrooms": 3})
    units = _units(spec)
    assert [len(u["points"]) for u in units] == [1] * 5
    assert all((u["start"], u["stop"]) == (0, 3) for u in units)
    assert units[2]["points"][0]["params"]["zpd_width"] == pytest.approx(
        spec.robustness.make_design(spec.seed).values["zpd_width"][2]
    )
    cheap = study({"model": "ishigami", "design": "lhs", "n": 600})
    assert [len(u["points"]) for u in _units(cheap)] == [256, 256, 88]


def test_headline_robustness_files_state_the_headline_claims():
    for name in ("headline-robustness.toml", "headline-screening.toml"):
        spec = load_study(ROOT / "simulations" / name)
        rob = spec.robustness
        texts = {c.text for c in rob.claims}
        assert "personalized - individualized > 0 on effect_size" in texts
        assert "only individualized is below standardized on sd_score" in texts
        assert "personal - standardized > 0 on effect_size" in texts
        assert any(t.startswith("rank of mean_pairwise_distance") for t in texts)
        assert list(rob.arms) == ["standardized", "individualized", "personalized", "personal"]
        assert spec.classrooms >= 30
    spec = load_study(ROOT / "simulations" / "headline-robustness.toml")
    assert spec.robustness.design == "sobol" and spec.robustness.n >= 256


def test_check_prints_runs_time_and_disk(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(
        '[study]\nname = "s"\nseed = 1\nclassrooms = 30\n'
        '[robustness]\nparameters = ["zpd_width", "teacher_capacity"]\ndesign = "sobol"\nn = 256\n'
        'claims = ["personal > 0 on effect_size"]\n'
    )
    assert main(["check", str(f), "--no-probe", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert (
        "1,024 design points (2 parameters) x 4 arms x 30 classrooms x 1 year(s) = 122,880" in out
    )
    assert "min on 2 free core(s)" in out and "MB of parts on disk" in out
    assert main(["check", str(f), "--n", "100"]) == 2
    assert "power of two" in capsys.readouterr().err


# --- running: resume, re-analyse, workers ------------------------------------------------------
def _tiny(study, claims, **rob):
    table = {"parameters": ["zpd_width", "teacher_capacity"], "design": "lhs", "n": 4}
    return study(
        table | {"claims": claims} | rob,
        study={"classrooms": 2},
        parameters={"n_students": 6, "n_days": 5, "peer_ties": 2},
    )


def test_a_killed_study_resumes_and_claims_are_reanalysed_without_simulating(study, run, tmp_path):
    claim = "personalized - standardized > 0 on effect_size"
    spec = _tiny(study, [claim])
    full = run(spec, name="full")
    # "kill" a second run after two of its four points: run, then drop two parts
    part = run(spec, name="part")
    parts = sorted((part.folder / "parts").glob("*.parquet"))
    assert len(parts) == 4
    for p in parts[2:]:
        p.unlink()
    mtimes = {p.name: p.stat().st_mtime_ns for p in parts[:2]}
    resumed = run(spec, name="part", resume=True)
    assert {p.name: p.stat().st_mtime_ns for p in parts[:2]} == mtimes  # kept, not redone
    pd.testing.assert_frame_equal(resumed.classrooms, full.classrooms)
    pd.testing.assert_frame_equal(resumed.summary, full.summary)
    # a new claim on the finished points: resume re-analyses, simulates nothing
    before = {p.name: p.stat().st_mtime_ns for p in (part.folder / "parts").glob("*.parquet")}
    other = _tiny(study, [claim, "individualized has the lowest sd_score"])
    again = run(other, name="part", resume=True)
    after = {p.name: p.stat().st_mtime_ns for p in (part.folder / "parts").glob("*.parquet")}
    assert before == after
    assert list(again.summary["claim"]) == [claim, "individualized has the lowest sd_score"]
    manifest = json.loads((part.folder / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["resumed"]) == 2
    for f in ("report.html", "report.md", "report.json", "claims.csv", "design.csv"):
        assert (part.folder / f).is_file(), f


@pytest.mark.slow
def test_two_workers_give_the_same_numbers(study, run):
    spec = _tiny(study, ["personal - standardized > 0 on effect_size"])
    serial = run(spec, name="serial")
    parallel = run(spec, name="parallel", workers=2)
    pd.testing.assert_frame_equal(serial.classrooms, parallel.classrooms)


def test_same_classrooms_in_every_design_point(study):
    """Common random numbers: classroom i has the same students at every point and in every arm."""
    from toolkit.study.runner import simulate_unit

    spec = _tiny(study, [])
    frames = []
    for u in _units(spec)[:2]:
        plain = {k: v for k, v in u.items() if k not in ("evaluate", "points")}
        frames.append(simulate_unit(plain | u["points"][0] | {"value": None}, spec.seed, "fast", 1))
    a, b = frames
    assert not np.allclose(a["score"], b["score"])  # the points differ ...
    for col in ("core_start", "prior_score", "self_regulation_start"):
        assert np.array_equal(a[col].to_numpy(), b[col].to_numpy()), col  # ... the students do not


def test_run_command_on_a_robustness_study_prints_its_claims(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(
        '[study]\nname = "s"\nseed = 1\nclassrooms = 2\n[output]\nformats = []\n'
        '[robustness]\nmodel = "paired"\ndesign = "lhs"\nn = 8\nclaims = ["b - a > 0 on m"]\n'
    )
    assert main(["run", str(f), "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "b - a > 0 on m" in out and "report.html" in out
    assert main(["robustness", str(f), "--out", str(tmp_path / "r"), "--no-progress"]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_robustness_runs_print_their_estimate_and_need_yes_beyond_an_hour(
    tmp_path, capsys, monkeypatch
):
    """A robustness study gets the gate of every run: its estimate, then --yes beyond an hour."""
    import io

    from toolkit.study import estimate

    f = tmp_path / "s.toml"
    f.write_text(
        '[study]\nname = "s"\nseed = 1\nclassrooms = 2\n[output]\nformats = []\n'
        '[robustness]\nmodel = "paired"\ndesign = "lhs"\nn = 8\nclaims = ["b - a > 0 on m"]\n'
    )
    monkeypatch.setattr(estimate, "CONFIRM_SECONDS", 0.0)  # this small study is "long"
    monkeypatch.setattr("sys.stdin", io.StringIO())  # not a terminal
    for command in ("run", "robustness"):
        out = tmp_path / command
        assert main([command, str(f), "--out", str(out), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert "8 design points" in err and "MB of parts on disk" in err  # the estimate
        assert "Pass --yes to start it anyway" in err
        assert not out.exists()  # nothing was started
        assert main([command, str(f), "--out", str(out), "--no-progress", "--yes"]) == 0
        assert (out / "report.html").is_file()
    plain = tmp_path / "plain.toml"  # no [robustness] table: a clear error, no traceback
    plain.write_text('[study]\nname = "p"\nseed = 1\nclassrooms = 2\n')
    assert main(["robustness", str(plain), "--out", str(tmp_path / "p")]) == 2
    assert "no [robustness] table" in capsys.readouterr().err
    monkeypatch.setattr(estimate, "free_disk_bytes", lambda folder: 10)  # a full disk

    assert main(["robustness", str(f), "--out", str(tmp_path / "full"), "--yes"]) == 2
    assert "are free there; nothing was started" in capsys.readouterr().err
    assert not (tmp_path / "full").exists()


def test_point_summaries_are_computable_part_by_part(study, run):
    """Each part (work unit) holds whole design points: summaries per part equal the whole's."""
    from toolkit.robustness.analysis import metric_cube, point_claims, point_outputs

    spec = _tiny(study, ["personal - standardized > 0 on effect_size"])
    result = run(spec)
    rob = spec.robustness
    pts, cube = metric_cube(result.classrooms, rob.arms, rob.metrics)
    whole, _, _ = point_outputs(pts, cube, rob.arms)
    claims = point_claims(pts, cube, rob.arms, rob.claims)
    pieces, pieces_c = [], []
    for part in sorted((result.folder / "parts").glob("*.parquet")):
        p, c = metric_cube(pd.read_parquet(part), rob.arms, rob.metrics)
        pieces.append(point_outputs(p, c, rob.arms)[0])
        pieces_c.append(point_claims(p, c, rob.arms, rob.claims))
    pd.testing.assert_frame_equal(pd.concat(pieces), whole)
    pd.testing.assert_frame_equal(
        pd.concat(pieces_c).sort_values("point", kind="stable").reset_index(drop=True), claims
    )


def test_progress_bar_counts_design_points(study, tmp_path, capsys):
    from toolkit.study.runner import run_study

    spec = study({"model": "paired", "design": "lhs", "n": 3, "claims": ["b - a > 0 on m"]})
    run_study(spec, tmp_path / "r", progress=True)
    err = capsys.readouterr().err
    assert "3/3" in err and "design point" in err


def test_year_selects_the_school_year_counted_from_one(study, run):
    claim = ["personal - standardized > 0 on self_regulation_growth"]
    kw = {"study": {"classrooms": 2, "years": 2},
          "parameters": {"n_students": 6, "n_days": 5, "peer_ties": 2}}  # fmt: skip
    base = {"parameters": ["zpd_width"], "design": "lhs", "n": 2, "claims": claim}
    last = run(study(base, **kw), name="last").folder / "claims_by_point.csv"
    first = run(study(base | {"year": 1}, **kw), name="first").folder / "claims_by_point.csv"
    m_last, m_first = pd.read_csv(last)["margin"], pd.read_csv(first)["margin"]
    assert not np.allclose(m_last, m_first)  # two school years, two answers
    table = run(study(base | {"year": 1}, **kw), name="again").classrooms
    y0 = table[(table["year"] == 0) & (table["point"] == 0)].set_index("arm")
    growth = y0.groupby("arm")["self_regulation_growth"].mean()
    assert m_first[0] == pytest.approx(growth["personal"] - growth["standardized"])
    with pytest.raises(StudyError, match="after the study's last school year"):
        study(base | {"year": 3}, **kw)


# --- over the posterior ------------------------------------------------------------------------
def test_over_posterior_draws_design_points_from_the_posterior(study, tmp_path):
    """Points are draws of the posterior's particles (weights respected), not the box."""
    post = pd.DataFrame(
        {
            "engagement_fit_weight": [0.1, 2.5],
            "supervision": [0.9, 0.2],
            "weight": [0.8, 0.2],
        }
    )
    path = tmp_path / "posterior.csv"
    post.to_csv(path, index=False)
    spec = study({"over": "posterior", "posterior": str(path), "n": 200})
    d = spec.robustness.make_design(spec.seed)
    assert d.kind == "random" and d.size == 200 and set(d.block) == {"posterior"}
    pairs = set(zip(d.values["engagement_fit_weight"], d.values["supervision"], strict=True))
    assert pairs == {(0.1, 0.9), (2.5, 0.2)}  # whole particles: correlations kept
    assert (d.values["engagement_fit_weight"] == 0.1).mean() == pytest.approx(0.8, abs=0.01)
    points = spec.points()
    assert [p.supervision for _, p, _ in points] == list(d.values["supervision"])
    # a held-fixed parameter stays out of "all"; the fingerprint follows the posterior's content
    held = study(
        {"over": "posterior", "posterior": str(path), "n": 5}, parameters={"supervision": 0.5}
    )
    assert list(held.robustness.make_design(held.seed).ranges.index) == ["engagement_fit_weight"]
    before = held.fingerprint()
    post.assign(weight=[0.5, 0.5]).to_csv(path, index=False)
    assert held.fingerprint() != before
    box = study({"design": "random", "n": 5, "parameters": ["supervision"]})
    assert "over" not in box.robustness.resolved()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"over": "posterior"}, 'needs posterior = "path'),
        ({"over": "posterior", "posterior": "x.csv", "design": "sobol"}, 'design must be "random"'),
        ({"over": "prior"}, "'over' must be"),
        ({"posterior": "x.csv"}, 'goes with over = "posterior"'),
        ({"over": "posterior", "posterior": "nowhere.csv"}, "no such posterior file"),
    ],
)
def test_over_posterior_errors(study, table, message):
    with pytest.raises((StudyError, DesignError)) as err:
        study({"n": 4} | table)
    assert message in str(err.value)
