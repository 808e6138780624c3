"""The trial record: rows, mappings, contrast and correlation quantities, user files, flags."""

import numpy as np
import pandas as pd
import pytest

from toolkit.calibration.evidence import (
    EVIDENCE_FILE,
    MEASURES,
    load_evidence,
    load_mappings,
    load_rows,
)
from toolkit.calibration.quantities import (
    Simulations,
    compute,
    effect_size,
    grouping_arms,
)
from toolkit.calibration.targets import TargetsError, evaluate
from toolkit.cli import main
from toolkit.model import Parameters

SMALL = Parameters(n_students=10, n_days=30, peer_ties=3)
HEADER = (
    "id,quantity,role,value,sd,low,high,unit,population,grade,source,location,confidence,"
    "basis,measure\n"
)


def test_trial_record_rows_are_mapped_and_consistent():
    rows, maps = load_rows()
    e = load_evidence()
    assert len(e) >= 20 and set(e.index) <= set(rows.index)
    for rid, r in e.iterrows():
        kind, _, mid = r["quantity"].partition(":")
        if kind in ("contrast", "correlation"):
            m = maps[mid]
            assert m.kind == kind and len(m.why) > 40, rid
            if kind == "contrast" and m.outcome == "test":
                if r["measure"] == "standardized":
                    assert m.test == "standardized", rid
                if r["measure"] in ("researcher-made", "local"):
                    assert m.test == "aligned", rid
        assert r["measure"] in MEASURES, rid
    # published intervals turned into SDs as documented: (hi - lo) / 3.92
    a = e.loc["alfieri2011_unassisted"]
    assert (a["value"], a["ci_low"], a["ci_high"]) == (-0.38, -0.44, -0.31)
    assert a["sd"] == pytest.approx((a["ci_high"] - a["ci_low"]) / 3.92, abs=5e-4)
    assert (
        e.loc["pane2017_math", "value"] == 0.09
        and e.loc["karich2014_learner_control", "value"] == 0.05
    )
    # the RAND comparison moved from the targets file to the trial record
    assert "rand_personalized" not in rows.index
    assert maps["pane2015_math"].years == 2 and maps["pane2015_math"].treatment == "personalized"


def test_contrast_is_a_paired_effect_on_common_random_numbers():
    sims = Simulations(SMALL, 4, seed=3)
    # the steenbergen mapping is the grouping_alone check's arms: the same number exactly
    out = compute(
        ["contrast:steenbergen2016_within_class", "within_class_grouping_effect"], sims=sims
    ).set_index("quantity")
    assert out.loc["contrast:steenbergen2016_within_class", "value"] == pytest.approx(
        out.loc["within_class_grouping_effect", "value"], abs=1e-12
    )
    # the homogeneous/heterogeneous mapping against the sorted_vs_random check's arms
    alone, rand = grouping_arms()
    df = sims.arms({"sorted": alone, "random": rand})
    est = compute(["contrast:lou1996_homogeneous"], sims=sims)
    assert est["value"].item() == pytest.approx(effect_size(df, "sorted", "random").value)
    # engagement as the outcome, in SDs of the control arm's students
    maps = load_mappings()
    m = maps["patall2008_choice_motivation"]
    t = sims.arms({"treatment": m.treatment}, **m.parameters)
    c = sims.arms({"control": m.control}, **m.parameters)
    want = effect_size(pd.concat([t, c]), "treatment", "control", "engagement")
    got = compute(["contrast:patall2008_choice_motivation"], sims=sims)
    assert got["value"].item() == pytest.approx(want.value) and want.value != 0
    assert got["se"].item() == pytest.approx(want.se)


def test_identical_arms_give_exactly_zero(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(
        '[same]\ntreatment = "individualized"\ncontrol = "individualized"\ntest = "standardized"\n'
        'fidelity = "close"\nwhy = "Both arms are the same regime on the same classrooms."\n'
        "[same.parameters]\nn_days = 10\n"
    )
    est = compute(
        ["contrast:same"], sims=Simulations(SMALL, 3, seed=1), mappings=load_mappings(path)
    )
    assert est["value"].item() == 0.0 and est["se"].item() == 0.0


def test_multi_year_contrast_is_read_after_the_last_year():
    sims = Simulations(SMALL, 3, seed=4)
    got = compute(["contrast:pane2015_math"], sims=sims)["value"].item()
    df = pd.concat(
        [
            sims.arms({"treatment": "personalized"}, years=2),
            sims.arms({"control": "standardized"}, years=2),
        ]
    )
    assert set(df["year"]) == {0, 1}
    assert got == pytest.approx(effect_size(df[df.year == 1], "treatment", "control").value)
    assert got != pytest.approx(effect_size(df[df.year == 0], "treatment", "control").value)


def test_correlation_is_the_pooled_student_correlation():
    sims = Simulations(SMALL, 4, seed=5)
    est = compute(["correlation:schiefele1992_interest_achievement"], sims=sims)
    df = sims.arms({"standardized": "standardized"})
    x = df[["interest_mathematics", "interest_reading"]].mean(axis=1)
    assert est["value"].item() == pytest.approx(np.corrcoef(x, df["score"])[0, 1])
    assert 0 < est["se"].item() < 0.5


def test_aligned_test_rows_are_computed_and_twice_the_standardized_effect_over_a_year():
    from toolkit.calibration.quantities import _STD, aligned_test

    sims = Simulations(SMALL, 3, seed=6)
    got = compute(
        ["contrast:slavin1987_experimenter", "contrast:alfieri2011_unassisted"], sims=sims
    )
    assert got["value"].notna().all() and (got["se"] > 0).all()
    # the aligned test is built for the sample, both arms together: the same arm twice gives 0
    df = Simulations(Parameters(), 40, seed=7).arms(_STD | {"individualized": "individualized"})
    both = aligned_test(df, 0.6, 0.9)
    same = aligned_test(
        pd.concat([df[df.arm == "standardized"], df[df.arm == "standardized"].assign(arm="b")]),
        0.6,
        0.9,
    )
    assert effect_size(same, "b", "standardized", "aligned_score").value == pytest.approx(0.0)
    # a year of teaching: about twice the standardized test's effect (Cheung & Slavin 2016),
    # which is what aligned_prior_share's default is set to
    al = effect_size(both, "individualized", "standardized", "aligned_score").value
    st = effect_size(both, "individualized", "standardized", "score").value
    assert 1.5 < al / st < 3.0
    # all prior skill (share -> 1): the aligned test ranks like the standardized one
    close = aligned_test(df, 0.999, 0.9)
    ratio = effect_size(close, "individualized", "standardized", "aligned_score").value / st
    assert ratio < 0.3


def test_value_added_sd_recovers_planted_classroom_effects():
    class Planted(Simulations):
        """Scores with known classroom effects given the prior score."""

        def arms(self, arms, years=1, **changes):
            rng = np.random.default_rng(0)
            j, n, tau = 300, 20, 0.3
            prior = rng.standard_normal(j * n)
            u = np.repeat(rng.normal(0, tau, j), n)
            score = 0.8 * prior + u + rng.normal(0, 0.5, j * n)
            return pd.DataFrame(
                {
                    "arm": "standardized",
                    "replicate": np.repeat(np.arange(j), n),
                    "student": np.tile(np.arange(n), j),
                    "prior_score": prior,
                    "score": score,
                }
            )

    sims = Planted(SMALL, 2, seed=1)
    est = compute(["value_added_sd"], sims=sims)
    want = 0.3 / np.sqrt(0.8**2 + 0.3**2 + 0.5**2)  # tau over the SD of scores
    assert est["value"].item() == pytest.approx(want, abs=3 * est["se"].item())
    assert 0 < est["se"].item() < 0.02


def _user_files(tmp_path, row, mapping):
    csv = tmp_path / "mine.csv"
    csv.write_text(HEADER + row + "\n")
    toml = tmp_path / "mine.toml"
    toml.write_text(mapping)
    return csv, toml


PLANTED_ROW = (
    "planted,contrast:planted,check,1.5,0.05,,,SD,a planted trial,5,my own study,table 2,"
    "medium,the planted effect,standardized"
)
PLANTED_MAP = (
    '[planted]\ntreatment = { base = "standardized", learner_path_control = 0.25 }\n'
    'control = "standardized"\ntest = "standardized"\nfidelity = "close"\n'
    'why = "A small dose of learner control, which the model cannot turn into 1.5 SD."\n'
    "[planted.parameters]\nn_days = 20\n"
)


def test_a_planted_row_the_model_cannot_meet_is_flagged(tmp_path):
    csv, _ = _user_files(tmp_path, PLANTED_ROW, PLANTED_MAP)
    rows, maps = load_rows(csv)  # the mappings file next to it is found
    assert rows.loc["planted", "origin"] == str(csv) and "planted" in maps
    sub = rows.loc[["planted", "pane2017_math"]]
    measured = compute(list(sub["quantity"]), sims=Simulations(SMALL, 4, seed=2), mappings=maps)
    ev = evaluate(sub, measured).set_index("id")
    assert ev.loc["planted", "passed"] is False
    assert ev.loc["planted", "flag"].startswith("|z| = ") and ev.loc["planted", "z"] < -10
    assert ev.loc["pane2017_math", "passed"] in (True, False)  # a comparison gets a verdict


def test_a_users_row_replaces_a_package_row_with_the_same_id(tmp_path):
    row = PLANTED_ROW.replace("planted,contrast:planted", "pane2017_math,contrast:planted")
    csv, toml = _user_files(tmp_path, row, PLANTED_MAP)
    rows, _ = load_rows(csv, toml)
    assert rows.loc["pane2017_math", "value"] == 1.5
    assert rows.attrs["replaced"] == ["pane2017_math"]
    assert load_evidence(EVIDENCE_FILE).loc["pane2017_math", "value"] == 0.09  # untouched


@pytest.mark.parametrize(
    ("row", "mapping", "message"),
    [
        (
            PLANTED_ROW,
            PLANTED_MAP.replace("learner_path_control", "learner_pace"),
            r"\[planted\] treatment: unknown regime axis 'learner_pace'",
        ),
        (
            PLANTED_ROW,
            PLANTED_MAP.replace('test = "standardized"', 'test = "state"'),
            r"\[planted\], key 'test': 'state'",
        ),
        (
            PLANTED_ROW,
            PLANTED_MAP.replace("why = ", "because = "),
            r"\[planted\]: unknown key\(s\) \['because'\]",
        ),
        (
            PLANTED_ROW,
            PLANTED_MAP.replace("n_days = 20", "n_days = -3"),
            r"\[planted\] parameters.*n_days",
        ),
        (
            PLANTED_ROW,
            PLANTED_MAP.replace('fidelity = "close"\n', ""),
            r"\[planted\], key 'fidelity'",
        ),
        (
            PLANTED_ROW.replace("contrast:planted", "contrast:nowhere"),
            PLANTED_MAP,
            r"row 'planted', column 'quantity': 'contrast:nowhere' names the mapping \[nowhere\]",
        ),
        (
            PLANTED_ROW.replace("contrast:planted", "correlation:planted"),
            PLANTED_MAP,
            r"row 'planted', column 'quantity'.*is a contrast",
        ),
        (
            PLANTED_ROW.replace(",standardized", ",researcher-made"),
            PLANTED_MAP,
            r"row 'planted', column 'quantity': the row's measure is 'researcher-made'",
        ),
        (
            PLANTED_ROW.replace(",standardized", ",survey"),
            PLANTED_MAP,
            r"row 'planted', column 'measure': 'survey'",
        ),
        (
            PLANTED_ROW.replace(",1.5,0.05,", ",big,0.05,"),
            PLANTED_MAP,
            r"row 'planted', column 'value': 'big' is not a number",
        ),
        (
            PLANTED_ROW.replace("contrast:planted", "my_quantity"),
            PLANTED_MAP,
            r"row 'planted', column 'quantity': 'my_quantity' is neither",
        ),
    ],
)
def test_bad_rows_and_mappings_are_refused_naming_row_and_column(tmp_path, row, mapping, message):
    csv, toml = _user_files(tmp_path, row, mapping)
    with pytest.raises(TargetsError, match=message):
        load_rows(csv, toml)


def test_validate_runs_a_users_file_and_refuses_a_bad_one(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    csv, toml = _user_files(tmp_path, PLANTED_ROW, PLANTED_MAP)
    bad = tmp_path / "bad.toml"
    bad.write_text(PLANTED_MAP.replace('test = "standardized"', 'test = "state"'))
    code = main(["validate", "--targets", str(csv), "--mappings", str(bad), "--out", "v"])
    assert code == 2 and "key 'test': 'state'" in capsys.readouterr().err
    assert not (tmp_path / "v" / "report.html").exists()
    assert main(["validate", "--mappings", str(toml)]) == 2  # mappings without rows

    args = ["validate", "--targets", str(csv), "--out", "v", "--classrooms", "3", "--defaults"]
    assert main([*args, "--no-docking"]) == 0
    ev = pd.read_csv(tmp_path / "v" / "targets.csv").set_index("id")
    assert ev.loc["planted", "origin"] == str(csv)
    assert ev.loc["planted", "passed"] == False  # noqa: E712 (read back from CSV)
    assert np.isfinite(ev.loc["planted", "model"])
    text = (tmp_path / "v" / "report.html").read_text()
    assert "Rows and mappings from" in text and "A small dose of learner control" in text


def test_the_report_shows_a_cross_validation_table_and_its_coverage(tmp_path):
    from toolkit.calibration.report import _crossval_section

    path = tmp_path / "cv.csv"
    pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "published": [0.1, 0.2, 0.3, 2.0],
            "pred_low": [0.0, 0.0, 0.0, 0.0],
            "pred_high": [0.5, 0.5, 0.5, 0.5],
            "covered": [True, True, True, False],
            "level": 0.9,
        }
    ).to_csv(path, index=False)
    text = _crossval_section(path)
    assert "75% inside their 90% predictive intervals" in text and "4 rows" in text
    assert "No cross-validation table given" in _crossval_section(None)
    pd.DataFrame({"id": ["a"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="needs columns"):
        _crossval_section(path)
