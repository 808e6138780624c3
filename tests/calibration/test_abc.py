"""ABC-SMC calibration: exact posterior on a model with a known one, recovery of known
parameters from synthetic targets made by the classroom model (simulation-based calibration),
and the run folder (database inside, resume)."""

import json

import numpy as np
import pandas as pd
import pytest

from toolkit.calibration.abc import (
    FREE_PARAMETERS,
    CalibrationConfig,
    calibrate,
    calibrated_parameters,
    coverage_check,
    load_config,
    load_posterior,
    posterior_predictive,
    posterior_summary,
    sample_posterior,
)
from toolkit.calibration.quantities import QUANTITIES, Estimate, quantity
from toolkit.calibration.targets import load_targets
from toolkit.model.params import plausible_ranges

SMALL = {"n_students": 10, "n_days": 60, "peer_ties": 3}


@pytest.fixture
def linear_quantity():
    @quantity("test_linear_rate", unit="", description="10 x learning_rate, no noise")
    def linear(sims):
        return Estimate(10 * sims.params.learning_rate, 0.0)

    yield "test_linear_rate"
    QUANTITIES.pop("test_linear_rate")


def _targets(**rows):
    base = load_targets()
    extra = pd.DataFrame(
        [
            dict.fromkeys(("unit", "population", "grade", "location", "basis"), "")
            | {
                "quantity": q,
                "role": "target",
                "value": v,
                "sd": s,
                "low": np.nan,
                "high": np.nan,
                "source": "test",
                "confidence": "high",
                "id": rid,
            }
            for rid, (q, v, s) in rows.items()
        ]
    ).set_index("id")
    return pd.concat([base, extra])


def test_stochastic_acceptor_gives_the_exact_posterior(linear_quantity, tmp_path):
    """t = 10 theta + N(0, s^2), theta log-uniform on its plausible range: the posterior is
    known in closed form up to a constant; ABC's weighted mean and SD must match it."""
    t, s = 0.30, 0.03
    targets = _targets(lin=(linear_quantity, t, s))
    cfg = CalibrationConfig(
        parameters=("learning_rate",), targets=("lin",), classrooms=2, population=400, generations=8
    )
    res = calibrate(cfg, tmp_path / "lin", targets=targets, progress=False, figures=False)
    lo, hi = plausible_ranges(["learning_rate"]).loc["learning_rate", ["low", "high"]]
    grid = np.linspace(lo, hi, 20001)
    dens = np.exp(-0.5 * ((10 * grid - t) / s) ** 2) / grid
    dens /= dens.sum()
    mean = float((grid * dens).sum())
    sd = float(np.sqrt(((grid - mean) ** 2 * dens).sum()))
    summ = res.summary.loc["learning_rate"]
    assert res.populations["temperature"].iloc[-1] == pytest.approx(1.0)
    assert abs(summ["mean"] - mean) < 4 * sd / np.sqrt(res.ess)
    assert summ["sd"] == pytest.approx(sd, rel=0.2)
    assert res.ess > 100
    assert (tmp_path / "lin" / "abc.db").is_file()  # pyabc's database inside the run folder


@pytest.mark.slow
def test_simulation_based_calibration_passes_and_would_catch_a_too_wide_posterior(
    linear_quantity, tmp_path
):
    """Simulation-based calibration (Talts et al. 2018) with enough replications to fail.

    30 replications: a true learning rate drawn from the prior, a synthetic target 10 theta +
    N(0, 0.03^2), the ABC run on it to temperature 1. A calibrated posterior covers the truth
    in its central 50% and 90% intervals as often as that (binomial tests) and ranks it
    uniformly (chi-square), none rejected at 1%; the same replications with each posterior
    widened twofold about its mean (as a run stopped at temperature 4 would be) or narrowed
    twofold are rejected. About two minutes."""
    from toolkit.calibration.abc import coverage_tests, posterior_ranks

    targets = _targets(lin=(linear_quantity, 0.5, 0.03))
    cfg = CalibrationConfig(
        parameters=("learning_rate",), targets=("lin",), classrooms=2, population=50,
        generations=10,
    )  # fmt: skip
    reps = 30
    out = coverage_check(cfg, tmp_path / "sbc", replications=reps, seed=7, targets=targets)
    assert len(out) == reps and (out["temperature"] == 1.0).all()  # every run reached T = 1
    calibrated = coverage_tests(out)
    assert (calibrated["p_value"] > 0.01).all(), calibrated

    def scaled(factor):
        rows = []
        for r in out.itertuples():
            post = load_posterior(tmp_path / "sbc" / f"rep-{r.replication:03d}")
            x, w = post["learning_rate"], post["weight"] / post["weight"].sum()
            mean = float((x * w).sum())
            post["learning_rate"] = mean + factor * (x - mean)
            (row,) = posterior_ranks(post, {"learning_rate": r.truth})
            rows.append({"replication": r.replication, **row})
        return coverage_tests(pd.DataFrame(rows)).set_index("test")["p_value"]

    # the check rejects both (its smallest p-value below 0.001, Bonferroni-safe for 3 tests):
    # too wide, the 50% intervals cover too often; too narrow, the 90% ones too rarely
    wide, narrow = scaled(2.0), scaled(0.5)
    assert wide.min() < 1e-3 and wide["covered_0.5"] < 0.01, wide
    assert narrow.min() < 1e-3 and narrow["covered_0.9"] < 0.01, narrow


def test_recovers_known_parameters_from_synthetic_targets(tmp_path):
    """Recovery on the classroom model itself at small size: true parameters drawn from the
    prior, synthetic targets made by the model (with the targets' noise), calibration run on
    them to temperature 1 (the calibration check with power is the test above)."""
    cfg = CalibrationConfig(
        parameters=("learning_rate", "peer_learning"),
        targets=("annual_gain", "peer_share"),
        classrooms=6,
        population=30,
        generations=6,
        fixed=SMALL,
    )
    out = coverage_check(cfg, tmp_path / "sbc", replications=4, seed=3)
    assert len(out) == 8
    assert (out["temperature"] == 1.0).all()  # the particles are a sample of the posterior
    # 90% intervals: 8 chances; a calibrated posterior misses about 0.8 of them
    assert out["covered_0.9"].sum() >= 6
    assert out["rank"].between(0, 1).all()
    # the posterior median moves with the truth (identified parameters)
    lr = out[out.parameter == "learning_rate"]
    assert np.corrcoef(lr["truth"], lr["median"])[0, 1] > 0.5
    # resumable: a second call reads the finished replications
    again = coverage_check(cfg, tmp_path / "sbc", replications=4, seed=3)
    pd.testing.assert_frame_equal(out, again)


def test_run_folder_resumes_and_refuses_to_overwrite(tmp_path):
    cfg = CalibrationConfig(
        parameters=("learning_rate",),
        targets=("annual_gain",),
        classrooms=4,
        population=20,
        generations=1,
        fixed=SMALL,
    )
    folder = tmp_path / "run"
    first = calibrate(cfg, folder, progress=False)
    assert len(first.populations) == 1
    files = {p.name for p in folder.iterdir()}
    assert {
        "abc.db",
        "config.json",
        "posterior.csv",
        "posterior_summary.csv",
        "populations.csv",
        "manifest.json",
        "progress.log",
        "figures",
    } <= files
    with pytest.raises(ValueError, match="already holds a calibration run"):
        calibrate(cfg, folder, progress=False)
    other = CalibrationConfig(
        parameters=("learning_rate",),
        targets=("annual_gain",),
        classrooms=5,
        population=20,
        generations=1,
        fixed=SMALL,
    )
    with pytest.raises(ValueError, match="cannot resume"):
        calibrate(other, folder, resume=True, progress=False)
    more = CalibrationConfig(**(cfg.to_dict() | {"generations": 3}))
    res = calibrate(more, folder, resume=True, progress=False, figures=False)
    assert len(res.populations) >= 2 or res.populations["temperature"].iloc[0] == 1.0
    log = (folder / "progress.log").read_text()
    assert "resuming after 1 generation" in log
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["reproducible"] is False  # resumed


def test_config_and_posterior_files(tmp_path):
    cfg = load_config()
    # the nine calibrated parameters of simulations/calibrate.py, one per target row
    assert len(cfg.parameters) == 9 and {"teacher_effect_sd", "cooperative_learning"} <= set(
        cfg.parameters
    )
    assert list(cfg.parameters) == calibrated_parameters() == list(FREE_PARAMETERS)
    assert CalibrationConfig(targets=("annual_gain",)).parameters == cfg.parameters
    assert set(cfg.targets) == set(load_targets().query("role == 'target'").index)
    with pytest.raises(Exception, match="whole numbers"):
        CalibrationConfig(parameters=("n_students",), targets=("annual_gain",))
    with pytest.raises(Exception, match="unknown parameter"):
        CalibrationConfig(parameters=("learning_rat",), targets=("annual_gain",))
    post = pd.DataFrame({"learning_rate": [0.02, 0.03, 0.04], "weight": [1.0, 2.0, 1.0]})
    post.to_csv(tmp_path / "posterior.csv", index=False)
    assert load_posterior(tmp_path).equals(post)
    draws = sample_posterior(post, 400, seed=2)
    assert draws["learning_rate"].value_counts(normalize=True)[0.03] == pytest.approx(0.5, abs=0.01)
    summ = posterior_summary(post)
    assert summ.loc["learning_rate", "mean"] == pytest.approx(0.03)
    pd.DataFrame({"learning_rat": [1.0], "weight": [1.0]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="unknown parameter column"):
        load_posterior(tmp_path / "bad.csv")
    pp = posterior_predictive(post, ["one_year_core_gain"], draws=3, classrooms=3, fixed=SMALL)
    row = pp.iloc[0]
    assert row["ci_low"] < row["value"] < row["ci_high"] and row["draws"] == 3


def test_priors_are_the_plausible_ranges_and_disruption_includes_zero():
    from toolkit.calibration.abc import _prior
    from toolkit.model.params import Parameters

    prior = _prior(FREE_PARAMETERS)
    d = Parameters().disruption
    rv = prior["disruption"]  # uniform on [0, 2 d]: no disruption is a possible value
    assert rv.pdf(0.0) == pytest.approx(1 / (2 * d)) and rv.pdf(-1e-9) == 0.0
    assert rv.pdf(2 * d * 0.999) > 0 and rv.pdf(2 * d * 1.001) == 0.0
    lr = Parameters().learning_rate  # log-uniform on [lr / 2, 2 lr]
    assert prior["learning_rate"].pdf(lr / 2 * 0.999) == 0.0
    assert prior["learning_rate"].pdf(lr / 2 * 1.001) > 0
    assert prior["learning_rate"].pdf(lr) == pytest.approx(1 / (lr * np.log(4)))


def test_one_worker_runs_are_reproducible_and_leave_numpy_alone(linear_quantity, tmp_path):
    targets = _targets(lin=(linear_quantity, 0.30, 0.03))
    cfg = CalibrationConfig(
        parameters=("learning_rate",),
        targets=("lin",),
        classrooms=2,
        population=50,
        generations=3,
        seed=11,
    )
    np.random.seed(123)  # noqa: NPY002 - the user's global state, which must survive
    before = np.random.random()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    a = calibrate(cfg, tmp_path / "a", targets=targets, progress=False, figures=False)
    after = np.random.random()  # noqa: NPY002
    b = calibrate(cfg, tmp_path / "b", targets=targets, progress=False, figures=False)
    pd.testing.assert_frame_equal(a.posterior, b.posterior)
    assert before == after
