"""The mechanism decomposition: exact replay, Shapley efficiency, and channels that must win."""

import numpy as np
import pandas as pd
import pytest

from toolkit.metrics import diversity_of_excellence, excellence_thresholds, mean_pairwise_distance
from toolkit.model import Parameters, classroom_seed
from toolkit.study.decompose import OUTCOMES, decompose, outcome_values, shapley_values

P = Parameters(n_students=10, n_days=30, peer_ties=3)
SEEDS = [classroom_seed(5, i) for i in range(4)]


@pytest.fixture(scope="module")
def four_arms():
    arms = {a: a for a in ("standardized", "individualized", "personalized", "personal")}
    return decompose(arms, P, SEEDS, chunk_size=3)


def test_shapley_values_closed_form():
    # pure interaction: each of two players gets half
    assert shapley_values(np.array([0.0, 0.0, 0.0, 1.0]), 2).tolist() == [0.5, 0.5]
    # additive game: each player gets its own effect
    v = np.array([0.0, 1.0, 10.0, 11.0, 100.0, 101.0, 110.0, 111.0])
    np.testing.assert_allclose(shapley_values(v, 3), [1.0, 10.0, 100.0])
    with pytest.raises(ValueError, match="coalitions"):
        shapley_values(np.zeros(5), 2)


def test_contributions_sum_to_the_paired_difference(four_arms):
    d = four_arms
    assert set(d.outcome) == set(OUTCOMES)
    assert d.attrs["replay_error"] < 1e-10  # both arms' own factors reproduce their years
    for (arm, outcome), part in d.groupby(["arm", "outcome"]):
        total = part.loc[part.channel == "total", "contribution"].item()
        parts = part.loc[part.channel != "total", "contribution"].sum()
        assert parts == pytest.approx(total, abs=1e-12), (arm, outcome)
        assert (part.ci_low <= part.contribution).all() and (
            part.contribution <= part.ci_high
        ).all()


def test_total_equals_the_simulated_paired_difference(four_arms):
    from toolkit.engine import simulate_arms

    df = simulate_arms({"s": "standardized", "p": "personal"}, P, SEEDS)
    m = df.groupby(["arm", "classroom"], observed=True).score.mean().unstack(0)
    expected = (m["p"] - m["s"]).mean()
    got = four_arms.query("arm == 'personal' and outcome == 'score' and channel == 'total'")
    assert got.contribution.item() == pytest.approx(expected, abs=1e-12)


def test_identical_arms_have_no_contributions():
    d = decompose({"a": "personalized", "b": "personalized"}, P, SEEDS, outcomes=["score"])
    assert np.abs(d.contribution).max() == 0.0


def test_teacher_time_carries_a_difference_in_teacher_time_alone():
    """Scaffolding without autonomy only takes teacher time: that channel must carry it."""
    arms = {"base": "standardized", "less_time": {"base": "standardized", "scaffolding": 0.4}}
    d = decompose(arms, P, SEEDS, outcomes=["score", "total_learning"])
    for outcome in ("score", "total_learning"):
        part = d[d.outcome == outcome].set_index("channel").contribution
        assert part["total"] < 0
        assert part["teacher_time"] == pytest.approx(part["total"], rel=0.1)


def test_outcome_values_match_the_metrics_functions():
    rng = np.random.default_rng(2)
    c, n, d = 3, 7, 4
    start = rng.standard_normal((c, n, d))
    end = start + rng.uniform(0, 1, (c, n, d))
    err = 0.1 * rng.standard_normal((c, n))
    core = np.array([True, True, False, False])
    v = outcome_values(end, start, err, core, reference_sd=2.0)
    score = end[..., core].mean(axis=-1) + err
    np.testing.assert_allclose(v["score"], score.mean(axis=1))
    np.testing.assert_allclose(v["effect_size"], score.mean(axis=1) / 2.0)
    np.testing.assert_allclose(v["sd_score"], score.std(axis=1, ddof=1))
    np.testing.assert_allclose(v["total_learning"], (end - start).sum(-1).mean(1))
    np.testing.assert_allclose(
        v["mean_pairwise_distance"], [mean_pairwise_distance(e) for e in end]
    )
    thr = excellence_thresholds(end.reshape(-1, d), 0.9).to_numpy()
    expected = [diversity_of_excellence(e, thresholds=thr) for e in end]
    np.testing.assert_allclose(v["diversity_of_excellence"], expected)
    with pytest.raises(ValueError, match="unknown outcome"):
        outcome_values(end, start, err, core, ["gpa"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="reference"):
        decompose({"a": "personal"}, P, SEEDS, reference="b")
    with pytest.raises(ValueError, match="at least 2 classrooms"):
        decompose({"a": "personal", "b": "standardized"}, P, SEEDS[:1])
    with pytest.raises(ValueError, match="unknown outcome"):
        decompose({"a": "personal", "b": "standardized"}, P, SEEDS, outcomes=["iq"])
    assert isinstance(
        decompose({"a": "personal", "b": "standardized"}, P, SEEDS, outcomes=["score"]),
        pd.DataFrame,
    )


def test_waterfall_says_how_many_classrooms_and_why_its_total_differs(four_arms, tmp_path):
    """The waterfall's total is the difference on the decomposed classrooms: its label, legend
    and the figure's provenance line say how many, and a note sets it beside the difference
    on every classroom (the effects chart); the grey bars are explained in the legend."""
    import matplotlib.pyplot as plt
    from PIL import Image

    from toolkit.charts.decomposition import plot_decomposition
    from toolkit.study import load_study, run_study

    ax = plot_decomposition(four_arms, "personalized", full=(0.197, 0.18, 0.214),
                            full_classrooms=200)  # fmt: skip
    legend = ax.get_legend()
    labels = [t.get_text().replace("\n", " ") for t in legend.get_texts()]  # wrapped
    assert labels[:3] == [
        "channel raises the difference", "channel lowers it", "95% interval over classrooms"
    ]  # fmt: skip
    assert "difference on the 4 classrooms decomposed (sum of the bars)" in labels
    assert "difference on all 200 classrooms (the effects chart)" in labels
    note = legend.get_title().get_text().replace("\n", " ")
    total = four_arms.query("arm == 'personalized' and outcome == 'effect_size'")
    tv = total.loc[total.channel == "total", "contribution"].item()
    assert "Decomposed on the first 4 classrooms" in note and f"{tv:+.3f}" in note
    assert "On all 200 classrooms it is +0.197 [+0.180, +0.214]" in note
    assert ax.get_yticklabels()[-1].get_text() == "difference (4 classrooms)"
    plt.close(ax.figure)

    study = tmp_path / "s.toml"
    study.write_text(
        '[study]\nname = "dec"\nseed = 2\nclassrooms = 5\ndecomposition = 3\nyears = 2\n'
        '[arms]\nstandardized = "standardized"\npersonal = "personal"\n'
        '[parameters]\nn_students = 8\nn_days = 10\npeer_ties = 2\n[output]\nformats = ["png"]\n'
    )
    result = run_study(load_study(study), tmp_path / "run", progress=False)
    line = Image.open(result.folder / "figures" / "decomposition_personal.png").info["Description"]
    assert "| 3 of 5 classrooms/arm |" in line
    effects = Image.open(result.folder / "figures" / "effects.png").info["Description"]
    assert "| 5 classrooms/arm |" in effects


@pytest.mark.numerics
@pytest.mark.parametrize(
    ("forgetting", "years"), [(0.0, 1), (0.05, 2)], ids=["default", "forgetting-2-years"]
)
def test_compiled_replay_is_the_numpy_replay_bit_for_bit(forgetting, years):
    """The compiled replay (toolkit.engine.replay) gives every coalition's skills exactly as the
    numpy replay does (same products in the same order), so the decomposition's numbers do not
    depend on which of the two ran."""
    pytest.importorskip("numba")
    from toolkit.engine import fast
    from toolkit.model import mechanisms as mech
    from toolkit.model.cohort import Cohort, draw_cohort
    from toolkit.model.schedule import resolve_schedule
    from toolkit.study import decompose as dec

    p = P.replace(forgetting_rate=forgetting, n_days=12)
    arms = ["standardized", "personal", "personalized"]
    schedules = [resolve_schedule(a, years, a) for a in arms]
    cohorts = [draw_cohort(p, s) for s in SEEDS[:3]]
    record = [[] for _ in arms]
    fast._simulate_chunk(schedules, p, SEEDS[:3], cohorts, "numpy", record=record)
    aptitude = Cohort.stack(cohorts).aptitude
    masks = dec._field_masks(list(mech.CHANNELS))
    starts = {y * p.n_days for y in range(years)}
    laid = [dec._lay_out(r, p, aptitude) for r in record]
    for ib in (1, 2):
        end, start = dec._replay(record[0], record[ib], masks, p, aptitude, starts)
        end_c, start_c = dec._replay_compiled(laid[0], laid[ib], p, aptitude, starts)
        assert end.shape == end_c.shape == (2 ** len(mech.CHANNELS), 3, p.n_students, 4)
        np.testing.assert_array_equal(end_c, end)
        np.testing.assert_array_equal(start_c, start)
        assert not np.array_equal(end[0], end[-1])  # the two arms differ: a real comparison


@pytest.mark.numerics
@pytest.mark.parametrize(
    ("forgetting", "years"), [(0.0, 1), (0.05, 2)], ids=["default", "forgetting-2-years"]
)
def test_the_exact_kernel_records_the_days_the_numpy_kernel_records(forgetting, years):
    """Where numba is installed the decomposition records the days with the exact compiled
    kernel (its days in half the time of numpy's day loop): every start-of-day skill and
    factor is the numpy kernel's to the engine's docking tolerance, and the replay of the
    kernel's own factors gives its skills exactly (replay error 0)."""
    pytest.importorskip("numba")
    from toolkit.engine import fast
    from toolkit.model import mechanisms as mech
    from toolkit.model.cohort import Cohort, draw_cohort
    from toolkit.model.schedule import resolve_schedule
    from toolkit.study import decompose as dec

    p = P.replace(forgetting_rate=forgetting, n_days=12, regroup_interval=5)
    arms = ["standardized", "personal", "personalized"]
    schedules = [resolve_schedule(a, years, a) for a in arms]
    cohorts = [draw_cohort(p, s) for s in SEEDS[:3]]
    rec = {k: [[] for _ in arms] for k in ("numpy", "exact")}
    frames = {
        k: fast._simulate_chunk(schedules, p, SEEDS[:3], cohorts, k, record=rec[k]) for k in rec
    }
    for ai in range(len(arms)):
        assert len(rec["exact"][ai]) == len(rec["numpy"][ai]) == years * p.n_days
        for (s_e, ch_e), (s_n, ch_n) in zip(rec["exact"][ai], rec["numpy"][ai], strict=True):
            np.testing.assert_allclose(s_e, s_n, rtol=1e-12, atol=1e-14)
            for name in mech.Channels._fields:
                e, n = np.asarray(getattr(ch_e, name)), np.asarray(getattr(ch_n, name))
                np.testing.assert_allclose(
                    e, np.broadcast_to(n, e.shape), rtol=1e-12, atol=1e-14, err_msg=name
                )
    # the replay of the exact kernel's factors is the exact kernel's year, to the last bit
    aptitude = Cohort.stack(cohorts).aptitude
    laid = [dec._lay_out(r, p, aptitude) for r in rec["exact"]]
    starts = {y * p.n_days for y in range(years)}
    end, _ = dec._replay_compiled(laid[0], laid[1], p, aptitude, starts)
    skills = [f"skill_{x}" for x in p.domains]
    for ix, mask in ((0, 0), (1, -1)):
        last = frames["exact"][ix]
        last = last[last.year == years - 1].sort_values(["classroom", "student"])
        np.testing.assert_array_equal(end[mask], last[skills].to_numpy().reshape(end[mask].shape))
    with pytest.raises(ValueError, match="'numpy' or 'exact'"):
        fast._simulate_chunk(schedules, p, SEEDS[:3], cohorts, "fast", record=rec["exact"])


def test_a_chunks_record_replays_its_arms_exactly():
    pytest.importorskip("numba")
    from toolkit.study.decompose import record_chunk

    arms = {"standardized": "standardized", "personal": "personal"}
    out = record_chunk(arms, P.replace(n_days=20), SEEDS[:2], reference="standardized")
    assert out["replay_error"] == 0.0  # recorded by the exact kernel, replayed in its order


def test_combined_chunks_are_every_classrooms_shapley_values_in_order():
    """One row per arm, outcome, channel (then ``total``) and classroom, in that order."""
    from toolkit.model.mechanisms import CHANNELS
    from toolkit.study.decompose import combine_chunks, record_chunk

    arms = {"standardized": "standardized", "personal": "personal", "personalized": "personalized"}
    p = P.replace(n_days=10)
    records = [record_chunk(arms, p, SEEDS[lo : lo + 3], reference="standardized") for lo in (0, 3)]
    per = combine_chunks(records, p, outcomes=["score", "sd_score"], reference_sd=2.0)
    channels = [*CHANNELS, "total"]
    assert per.columns.tolist() == ["classroom", "arm", "outcome", "channel", "value"]
    assert per.index.equals(pd.RangeIndex(2 * 2 * len(channels) * 4))
    assert per["classroom"].dtype == np.int64 and per["value"].dtype == np.float64
    error = np.concatenate([r["errors"] for r in records])
    core = np.array(p.core_mask)
    at = 0
    for arm in ("personal", "personalized"):
        end = np.concatenate([r["ends"][arm] for r in records], axis=1)
        start = np.concatenate([r["starts"][arm] for r in records], axis=1)
        values = outcome_values(end, start, error, core, ["score", "sd_score"], reference_sd=2.0)
        for outcome in ("score", "sd_score"):
            v = values[outcome]
            expected = [*shapley_values(v, len(CHANNELS)), v[-1] - v[0]]
            for channel, x in zip(channels, expected, strict=True):
                block = per.iloc[at : at + 4]
                assert (block["arm"] == arm).all() and (block["outcome"] == outcome).all()
                assert (block["channel"] == channel).all()
                assert block["classroom"].tolist() == [0, 1, 2, 3]
                np.testing.assert_array_equal(block["value"].to_numpy(), x)
                at += 4
    assert at == len(per)
    assert per.attrs["reference_sd"] == 2.0 and per.attrs["channels"] == list(CHANNELS)
