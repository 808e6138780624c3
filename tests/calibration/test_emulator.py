"""The emulator calibration: tempered SMC, its likelihood, simulation-based calibration, and the
emulator's posterior against a direct posterior on the model (a small case)."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from toolkit.calibration.abc import coverage_tests, load_posterior, posterior_ranks
from toolkit.calibration.emulator import (
    DIRECTION_SD,
    EMULATED_PARAMETERS,
    TRAINING_ROWS,
    EmulatorConfig,
    GPEmulator,
    RowLikelihood,
    calibrate_emulator,
    design_points,
    emulated_predictions,
    emulator_loglik,
    emulator_posterior,
    emulator_priors,
    evaluate_design,
    load_emulator_config,
    mc_correlation,
    smc_tempering,
)


class StandIn:
    """A closed-form stand-in for the emulator: known means and a constant predictive SD.

    Rows: two linear in both parameters, one nonlinear, one a direction (sign of a contrast).
    """

    def __init__(self, sd: float = 0.02):
        self.rows = ["a", "b", "c", "d"]
        self.sd = sd
        self.mc_se = np.full(4, 0.01)

    def predict(self, theta):
        t = np.atleast_2d(theta)
        m = np.column_stack(
            [
                0.8 * t[:, 0] + 0.2 * t[:, 1],
                0.3 * t[:, 0] - 0.6 * t[:, 1],
                0.5 * np.sin(2.0 * t[:, 0]) * t[:, 1],
                t[:, 1] - 0.5,
            ]
        )
        return m, np.full_like(m, self.sd)


def _likelihood(model, observed, direction):
    """Rows a-c with values (SDs 0.08), row d a direction (above 0 or below 0)."""
    table = pd.DataFrame(
        {
            "value": [observed[0], observed[1], observed[2], np.nan],
            "sd": [0.08, 0.08, 0.08, np.nan],
            "low": [np.nan, np.nan, np.nan, 0.0 if direction > 0 else np.nan],
            "high": [np.nan, np.nan, np.nan, np.nan if direction > 0 else 0.0],
        },
        index=model.rows,
    )
    return RowLikelihood.from_table(table, model.rows, model.mc_se)


def _simulate(model, theta, rng):
    """Data from the likelihood's own generative model at known parameters."""
    m, s = model.predict(theta[None, :])
    noise_sd = np.sqrt(np.array([0.08, 0.08, 0.08, DIRECTION_SD]) ** 2 + s[0] ** 2 + 0.01**2)
    y = m[0] + noise_sd * rng.standard_normal(4)
    return y[:3], np.sign(y[3])


def _sbc(replications, inflate=1.0, seed=2026):
    model = StandIn()
    low, high = np.zeros(2), np.ones(2)
    ss = np.random.SeedSequence(seed)
    rows, reached = [], []
    for rep, child in enumerate(ss.spawn(replications)):
        rng = np.random.default_rng(child)
        truth = rng.random(2)
        observed, direction = _simulate(model, truth, rng)
        lik = _likelihood(model, observed, direction)

        def loglik(t, lik=lik):
            m, s = model.predict(t)
            return lik(m, s) / inflate  # inflate > 1: a posterior too wide

        res = smc_tempering(loglik, low, high, particles=400, seed=int(rng.integers(2**31)))
        reached.append(res.reached_1)
        post = pd.DataFrame(res.particles, columns=["x", "y"]).assign(weight=1.0)
        for r in posterior_ranks(post, {"x": truth[0], "y": truth[1]}, (0.5, 0.9)):
            rows.append({"replication": rep, **r})
    return pd.DataFrame(rows), reached


def test_tempered_smc_gives_the_exact_posterior_of_a_normal_model():
    """Two parameters, normal likelihood with correlation: mean and covariance in closed form."""
    mu = np.array([0.3, -0.2])
    cov = np.array([[0.04, 0.018], [0.018, 0.0225]])
    prec = np.linalg.inv(cov)

    def loglik(t):
        d = t - mu
        return -0.5 * np.einsum("ni,ij,nj->n", d, prec, d)

    res = smc_tempering(loglik, np.full(2, -3.0), np.full(2, 3.0), particles=4000, seed=5)
    assert res.reached_1
    assert res.stages["temperature"].iloc[-1] == 1.0
    assert res.stages["temperature"].iloc[0] > 1.0  # it had to temper
    np.testing.assert_allclose(res.particles.mean(axis=0), mu, atol=0.02)
    np.testing.assert_allclose(np.cov(res.particles, rowvar=False), cov, rtol=0.15, atol=1e-3)


def test_simulation_based_calibration_uniform_ranks_nominal_coverage_and_temperature_1():
    """60 replications on the closed-form stand-in: the posterior is calibrated, and the same
    check rejects a posterior made twice too wide (likelihood tempered at 1/4)."""
    checks, reached = _sbc(60)
    assert all(reached)
    tests = coverage_tests(checks)
    assert (tests["p_value"] > 0.001).all(), tests
    cover90 = checks.groupby("parameter")["covered_0.9"].mean()
    assert cover90.between(0.78, 0.98).all(), cover90
    wide, _ = _sbc(60, inflate=4.0)
    wide_tests = coverage_tests(wide)
    assert (wide_tests["p_value"] < 0.001).any(), wide_tests
    assert wide.groupby("parameter")["covered_0.5"].mean().max() > 0.7  # nominal 0.5


def test_likelihood_of_values_ranges_and_directions():
    table = pd.DataFrame(
        {
            "value": [0.3, np.nan, np.nan, np.nan],
            "sd": [0.05, np.nan, np.nan, np.nan],
            "low": [np.nan, 0.1, 0.0, np.nan],
            "high": [np.nan, 0.5, np.nan, 0.0],
        },
        index=["v", "range", "up", "down"],
    )
    lik = RowLikelihood.from_table(table, list(table.index))
    mean = np.array([[0.3, 0.3, 0.0, 0.0]])
    sd = np.array([[0.0, 0.1, 0.0, 0.0]])
    got = lik(mean, sd)[0]
    want = (
        stats.norm.logpdf(0.3, 0.3, 0.05)
        + stats.norm.logpdf(0.3, 0.3, np.sqrt(0.1**2 + 0.1**2))  # range: centre 0.3, sd 0.1
        + 2 * np.log(0.5)  # directions at their bound: probability one half each
    )
    assert got == pytest.approx(want)
    with pytest.raises(Exception, match="neither a value"):
        RowLikelihood.from_table(
            pd.DataFrame({"value": [np.nan], "sd": [np.nan], "low": [np.nan], "high": [np.nan]},
                         index=["x"]), ["x"])  # fmt: skip


def test_correlated_monte_carlo_errors_give_the_multivariate_normal_likelihood():
    """Two value rows with correlated Monte Carlo errors and a direction row: the likelihood is
    scipy's bivariate normal (covariance diag(s^2 + sd^2) + M R M) plus the direction's probit
    term; with R the identity it is the independent likelihood; subset and with_observed keep
    R; with_model_sampling scales the Monte Carlo SEs by sqrt(1 + design/classrooms)."""
    from scipy.special import log_ndtr

    table = pd.DataFrame(
        {"value": [0.3, -0.2, np.nan], "sd": [0.05, 0.04, np.nan],
         "low": [np.nan, np.nan, 0.0], "high": [np.nan, np.nan, np.nan]},
        index=["a", "b", "d"],
    )  # fmt: skip
    corr = np.array([[1.0, 0.7, 0.2], [0.7, 1.0, 0.0], [0.2, 0.0, 1.0]])
    mc = np.array([0.06, 0.03, 0.05])
    lik = RowLikelihood.from_table(table, ["a", "b", "d"], mc, corr)
    rng = np.random.default_rng(3)
    mean = rng.normal(0.0, 0.2, (5, 3))
    sd = rng.uniform(0.0, 0.05, (5, 3))
    got = lik(mean, sd)
    for i in range(5):
        cov = np.diag([0.05**2, 0.04**2] + sd[i, :2] ** 2) + np.outer(mc[:2], mc[:2]) * corr[:2, :2]
        want = stats.multivariate_normal(mean[i, :2], cov).logpdf([0.3, -0.2])
        want += log_ndtr((mean[i, 2] - 0.0) / np.sqrt(DIRECTION_SD**2 + sd[i, 2] ** 2 + 0.05**2))
        assert got[i] == pytest.approx(want, rel=1e-10)
    independent = RowLikelihood.from_table(table, ["a", "b", "d"], mc)
    same = RowLikelihood.from_table(table, ["a", "b", "d"], mc, np.eye(3))
    np.testing.assert_allclose(same(mean, sd), independent(mean, sd), rtol=1e-12)
    assert not np.allclose(got, independent(mean, sd))  # the correlation matters
    sub = lik.subset(["b", "a"])
    np.testing.assert_array_equal(sub.mc_corr, [[1.0, 0.7], [0.7, 1.0]])
    assert lik.with_observed({"a": 0.1}).mc_corr is lik.mc_corr
    wider = lik.with_model_sampling(24, 96)
    np.testing.assert_allclose(wider.mc_se, mc * np.sqrt(5.0))
    np.testing.assert_array_equal(wider.mc_corr, corr)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="'classrooms' must be a whole number"):
            lik.with_model_sampling(bad, 96)


def test_jackknife_correlation_is_pooled_over_design_points():
    """Delete-a-group jackknife values made from group means with a known correlation (0.6),
    and SEs that differ between points and rows, give it back, pooled over 400 points (a mean
    of per-point correlations of 8 groups would give about 0.56); a row without spread counts
    as uncorrelated."""
    rng = np.random.default_rng(7)
    points, groups, rho = 400, 8, 0.6
    x = rng.multivariate_normal([0.0, 1.0], [[1.0, rho], [rho, 1.0]], size=(points, groups))
    scale = rng.uniform(0.2, 3.0, (points, 1, 2))  # each point's and row's own SE
    x = x * scale
    jk = (x.sum(axis=1, keepdims=True) - x) / (groups - 1)  # each group left out in turn
    runs = pd.DataFrame(
        {f"jk{g}:{r}": jk[:, g, k] for g in range(groups) for k, r in enumerate("ab")}
        | {f"jk{g}:c": np.full(points, 2.0) for g in range(groups)}
        | {"se:a": scale[:, 0, 0], "se:b": scale[:, 0, 1], "se:c": np.full(points, 0.1)}
    )
    got = mc_correlation(runs, ["a", "b", "c"])
    assert got[0, 1] == pytest.approx(rho, abs=0.03)
    assert got[0, 1] == got[1, 0]
    np.testing.assert_array_equal(np.diag(got), 1.0)
    assert got[0, 2] == got[1, 2] == 0.0
    assert np.all(np.linalg.eigvalsh(got) >= -1e-12)
    with pytest.raises(ValueError, match="no jackknife values"):
        mc_correlation(pd.DataFrame({"value:a": [1.0]}), ["a"])
    runs.loc[:, "jk3:a"] = np.nan
    with pytest.raises(ValueError, match="no design point has every row"):
        mc_correlation(runs, ["a", "b"])


def test_design_cache_of_an_earlier_version_is_kept_and_its_points_rerun(tmp_path):
    """A design.csv written before the jackknife columns existed: its rows stay in the file,
    every point runs again (the same values: same classrooms), and a second call runs none."""
    from toolkit.calibration.evidence import load_rows

    table, maps = load_rows()
    quantities = {"karich2014_learner_control": str(table.loc["karich2014_learner_control",
                                                              "quantity"])}  # fmt: skip
    points = design_points(2, emulator_priors(["engagement_autonomy_weight"]), seed=1)
    kw = {"classrooms": 3, "seed": 5, "fixed": {"n_students": 8}, "mappings": maps}
    first = evaluate_design(points, quantities, tmp_path / "design.csv", **kw)
    assert [c for c in first.columns if c.startswith("jk")] == [
        f"jk{g}:karich2014_learner_control" for g in range(3)
    ]
    old = first.drop(columns=[c for c in first.columns if c.startswith("jk")])
    old.to_csv(tmp_path / "design.csv", index=False)  # the earlier version's file
    said = []
    again = evaluate_design(points, quantities, tmp_path / "design.csv", progress=said.append, **kw)
    assert not any("already" in s for s in said)  # both points ran again
    pd.testing.assert_frame_equal(again, first)
    kept = pd.read_csv(tmp_path / "design.csv")
    assert len(kept) == 4  # the old rows are still there, and the new ones follow
    said = []
    evaluate_design(points, quantities, tmp_path / "design.csv", progress=said.append, **kw)
    assert said == ["2 of 2 design points already in design.csv"]


def test_priors_include_zero_and_design_fills_the_box():
    p = emulator_priors()
    assert list(p.index) == list(EMULATED_PARAMETERS)
    assert (p["low"] == 0).all() and (p["high"] > p["default"]).all()
    d = design_points(50, p, seed=3)
    for name in p.index:
        u = d[name] / p.loc[name, "high"]
        # a Latin hypercube: one point in each of the 50 slices of every parameter
        assert sorted(np.floor(u * 50).astype(int)) == list(range(50))


def test_config_defaults_and_errors(tmp_path):
    cfg = load_emulator_config()
    assert cfg.rows == TRAINING_ROWS and cfg.parameters == EMULATED_PARAMETERS
    assert not set(cfg.rows) & set(cfg.predict)
    with pytest.raises(ValueError, match="'design' must be"):
        EmulatorConfig(design=2)
    assert cfg.jackknife == 24  # the packaged settings: delete-one at 24 classrooms
    for groups in (1, 2.5, True):
        with pytest.raises(ValueError, match="'jackknife' must be a whole number >= 2"):
            EmulatorConfig(jackknife=groups)
    good = tmp_path / "j.toml"
    good.write_text("[emulator]\njackknife = 6\n")
    assert load_emulator_config(good).jackknife == 6
    bad = tmp_path / "e.toml"
    bad.write_text("[emulator]\ndesigns = 4\n")
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['designs'\]"):
        load_emulator_config(bad)


def test_gp_emulator_recovers_a_smooth_function_with_honest_intervals():
    rng = np.random.default_rng(4)
    X = rng.random((40, 2))
    f = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    se = np.full(40, 0.01)
    em = GPEmulator(X, pd.DataFrame({"f": f + se * rng.standard_normal(40)}),
                    pd.DataFrame({"f": se}), np.zeros(2), np.ones(2), restarts=0)  # fmt: skip
    Xt = rng.random((200, 2))
    m, s = em.predict(Xt)
    truth = np.sin(3 * Xt[:, 0]) + Xt[:, 1] ** 2
    err = m[:, 0] - truth
    assert np.sqrt(np.mean(err**2)) < 0.03
    assert np.mean(np.abs(err) <= 2 * np.sqrt(s[:, 0] ** 2 + 0.01**2)) > 0.85


@pytest.mark.slow
def test_emulator_posterior_matches_the_direct_posterior_on_the_model(tmp_path):
    """Small case: 2 parameters, 2 rows, a tiny model. The direct posterior evaluates the
    model itself on a 7 x 7 grid (the likelihood with each point's Monte Carlo SEs, correlated
    across the rows as the emulator's: exact on the grid);
    the emulator's comes from 12 model runs. Means agree within a third of a posterior SD and
    SDs within 35%, and the emulator's design resumes from its cache."""
    from toolkit.calibration.evidence import load_rows
    from toolkit.calibration.quantities import Simulations, compute

    table, maps = load_rows()
    rows = ["alfieri2011_unassisted", "karich2014_learner_control"]
    names = ["engagement_autonomy_weight", "self_direction_cost"]
    fixed = {"n_students": 8}
    cfg = EmulatorConfig(parameters=tuple(names), rows=tuple(rows), design=12, check=0,
                         classrooms=3, particles=600, seed=11, fixed=fixed)  # fmt: skip
    # synthetic data made by the model at known weights, with the rows' SDs
    truth = {"engagement_autonomy_weight": 0.7, "self_direction_cost": 0.1}
    obs = compute(
        [table.loc[r, "quantity"] for r in rows],
        sims=Simulations(fixed | truth, 3, 11),
        mappings=maps,
    )["value"].to_numpy()
    observed = dict(zip(rows, obs, strict=True))
    res = calibrate_emulator(cfg, tmp_path / "em", progress=False, observed=observed)
    post = load_posterior(tmp_path / "em")  # the same file format as ABC's
    assert list(post.columns) == [*names, "weight"]
    manifest = json.loads((tmp_path / "em" / "manifest.json").read_text())
    assert manifest["temperature_reached_1"]

    priors = emulator_priors(names)
    lik = RowLikelihood.from_table(table, rows).with_observed(observed)
    g0 = np.linspace(0, priors.loc[names[0], "high"], 7)
    g1 = np.linspace(0, priors.loc[names[1], "high"], 7)
    grid = np.array([(a, b) for a in g0 for b in g1])
    logp = []
    for a, b in grid:
        est = compute([table.loc[r, "quantity"] for r in rows],
                      sims=Simulations(fixed | {names[0]: a, names[1]: b}, 3, 11),
                      mappings=maps)  # fmt: skip
        # the point's own Monte Carlo SEs, correlated across the rows as the emulator's
        at = dataclasses.replace(lik, mc_se=est["se"].to_numpy(), mc_corr=res["likelihood"].mc_corr)
        logp.append(at(est["value"].to_numpy()[None], np.zeros((1, len(rows))))[0])
    w = np.exp(np.array(logp) - max(logp))
    w /= w.sum()
    direct_mean = w @ grid
    direct_sd = np.sqrt(w @ (grid - direct_mean) ** 2)
    em_mean = res["posterior"][names].to_numpy().mean(axis=0)
    em_sd = res["posterior"][names].to_numpy().std(axis=0)
    assert np.all(np.abs(em_mean - direct_mean) < direct_sd / 3), (em_mean, direct_mean, direct_sd)
    assert np.all(np.abs(em_sd / direct_sd - 1) < 0.35), (em_sd, direct_sd)
    # resumable: a rerun finds every design point in design.csv and runs none
    again = calibrate_emulator(cfg, tmp_path / "em", resume=True, progress=False, observed=observed)
    assert "12 of 12 design points already" in (tmp_path / "em" / "progress.log").read_text()
    np.testing.assert_allclose(again["posterior"][names], res["posterior"][names])
    with pytest.raises(ValueError, match="already holds"):
        calibrate_emulator(cfg, tmp_path / "em", progress=False, observed=observed)
    with pytest.raises(ValueError, match="set up differently"):
        calibrate_emulator(dataclasses.replace(cfg, design=13), tmp_path / "em", resume=True,
                           progress=False, observed=observed)  # fmt: skip


#: The simulation-based calibration of the real pipeline: two rows, two parameters, a tiny model.
#: The autonomy weight moves learner control by about 0.25 SD across its prior and the efficacy
#: of practice moves unassisted discovery by about 2 SD; the cost of self-direction moves
#: either by less than 0.1 SD, about the rows' noise, so its posterior stays near its prior and
#: a posterior of it too wide could not be told apart.
SBC_ROWS = ("alfieri2011_unassisted", "karich2014_learner_control")
SBC_PARAMETERS = ("engagement_autonomy_weight", "practice_efficacy")
SBC_DESIGN_CLASSROOMS = 96  # common to every design point
SBC_DATA_CLASSROOMS = 24  # each replication's synthetic study: the model on classrooms of its own
SBC_REPLICATIONS = 60


@pytest.fixture
def model_sbc(tmp_path):
    """The emulator calibration of the small case, and 60 synthetic data sets made by the model.

    The design and the emulator do not depend on the data, so one calibration run
    (:func:`calibrate_emulator`: 16 model runs on 96 common classrooms, the Gaussian
    processes) serves every replication. Replication ``i`` draws its true weights from the
    prior and runs the model there on 24 classrooms of its own seed; its synthetic rows are
    those values plus each row's published measurement error. The likelihood adds the model's
    sampling error on 24 classrooms (:meth:`RowLikelihood.with_model_sampling`: the design's
    RMS SE scaled by sqrt(96/24), correlated across the rows as the design's jackknife says):
    the classrooms' sampling is part of the synthetic study's error.
    """
    from threadpoolctl import threadpool_limits

    from toolkit.calibration.evidence import load_rows
    from toolkit.calibration.quantities import Simulations, compute

    table, maps = load_rows()
    fixed = {"n_students": 8}
    cfg = EmulatorConfig(parameters=SBC_PARAMETERS, rows=SBC_ROWS, design=16, check=0,
                         classrooms=SBC_DESIGN_CLASSROOMS, particles=50, seed=11,
                         jackknife=12, fixed=fixed)  # fmt: skip
    with threadpool_limits(1):  # tiny matrices: BLAS threads only cost time
        run = calibrate_emulator(cfg, tmp_path / "em", progress=False, table=table,
                                 mappings=maps)  # fmt: skip
    lik = run["likelihood"].with_model_sampling(SBC_DATA_CLASSROOMS, SBC_DESIGN_CLASSROOMS)
    priors = emulator_priors(SBC_PARAMETERS)
    lo, hi = priors["low"].to_numpy(), priors["high"].to_numpy()
    published_sd = RowLikelihood.from_table(table, SBC_ROWS).scale
    quantities = [table.loc[r, "quantity"] for r in SBC_ROWS]
    reps = []
    for child in np.random.SeedSequence(2027).spawn(SBC_REPLICATIONS):
        rng = np.random.default_rng(child)
        truth = lo + (hi - lo) * rng.random(len(lo))
        sims = Simulations(fixed | dict(zip(SBC_PARAMETERS, truth, strict=True)),
                           SBC_DATA_CLASSROOMS, int(rng.integers(2**31)))  # fmt: skip
        model = compute(quantities, sims=sims, mappings=maps)["value"].to_numpy(float)
        observed = model + published_sd * rng.standard_normal(len(SBC_ROWS))
        reps.append((truth, observed, int(rng.integers(2**31))))
    return {"run": run, "likelihood": lik, "priors": priors, "replications": reps}


def _model_sbc(case, *, inflate=1.0, shift=0.0):
    """Ranks of the truths in the emulator's posteriors, one tempered SMC per replication.

    ``inflate`` > 1 divides the log-likelihood (a posterior too wide); ``shift`` moves every
    observed row by that many of its SDs (a biased posterior).
    """
    from threadpoolctl import threadpool_limits

    em, lik, priors = case["run"]["emulator"], case["likelihood"], case["priors"]
    lo, hi = priors["low"].to_numpy(), priors["high"].to_numpy()
    rows, reached = [], []
    with threadpool_limits(1):
        for rep, (truth, observed, seed) in enumerate(case["replications"]):
            obs = dict(zip(SBC_ROWS, observed + shift * lik.scale, strict=True))
            loglik = emulator_loglik(em, lik.with_observed(obs))
            res = smc_tempering(lambda t, f=loglik: f(t) / inflate, lo, hi, particles=300,
                                seed=seed)  # fmt: skip
            reached.append(res.reached_1)
            post = pd.DataFrame(res.particles, columns=list(SBC_PARAMETERS)).assign(weight=1.0)
            truths = dict(zip(SBC_PARAMETERS, truth, strict=True))
            for r in posterior_ranks(post, truths, (0.5, 0.9)):
                rows.append({"replication": rep, **r})
    return pd.DataFrame(rows), reached


@pytest.mark.slow
def test_simulation_based_calibration_of_the_emulator_on_data_made_by_the_model(model_sbc):
    """The real pipeline (model runs, Gaussian processes, likelihood, tempered SMC) on 60 data
    sets simulated by the model at weights drawn from the prior: uniform ranks, nominal
    coverage, temperature 1 in every replication; and the same check rejects a posterior twice
    too wide or biased."""
    from threadpoolctl import threadpool_limits

    run, priors = model_sbc["run"], model_sbc["priors"]
    with threadpool_limits(1):  # the helper gives calibrate_emulator's own posterior
        again = emulator_posterior(run["emulator"], run["likelihood"], priors, particles=50,
                                   seed=11)  # fmt: skip
    np.testing.assert_array_equal(again.particles, run["posterior"][list(SBC_PARAMETERS)])

    checks, reached = _model_sbc(model_sbc)
    assert all(reached)
    tests = coverage_tests(checks)
    assert (tests["p_value"] > 0.001).all(), tests
    cover90 = checks.groupby("parameter")["covered_0.9"].mean()
    assert cover90.between(0.78, 0.98).all(), cover90
    cover50 = checks.groupby("parameter")["covered_0.5"].mean()
    assert cover50.between(0.33, 0.67).all(), cover50

    # the same 60 data sets: a posterior twice too wide (log-likelihood divided by 4) and one
    # biased by data moved 1.5 SDs up are both rejected (one test: the fixture is set up once
    # even when the suite runs on two processes)
    wide, reached = _model_sbc(model_sbc, inflate=4.0)
    assert all(reached)
    wide_tests = coverage_tests(wide)
    assert (wide_tests["p_value"] < 0.001).any(), wide_tests
    assert wide.groupby("parameter")["covered_0.5"].mean().max() > 0.7  # nominal 0.5
    biased, _ = _model_sbc(model_sbc, shift=1.5)
    biased_tests = coverage_tests(biased)
    assert (biased_tests["p_value"] < 0.001).any(), biased_tests
    assert (biased["rank"] < 0.25).mean() > 0.4  # the truth below most of the posterior


def test_predictions_flag_a_planted_row_the_model_cannot_meet():
    """A row far outside what any posterior draw gives is flagged; a row at the model's value
    is covered."""
    model = StandIn()
    table = pd.DataFrame(
        {"value": [0.5, 5.0, np.nan, np.nan], "sd": [0.05, 0.05, np.nan, np.nan],
         "low": [np.nan, np.nan, 0.0, np.nan], "high": [np.nan, np.nan, np.nan, -2.0]},
        index=model.rows,
    )  # fmt: skip
    particles = np.column_stack([np.full(200, 0.5), np.full(200, 0.5)])
    preds = emulated_predictions(model, particles, table, seed=1).set_index("row")
    assert preds.loc["a", "covered"] and preds.loc["a", "flag"] == ""
    assert not preds.loc["b", "covered"]
    assert "outside the 90% predictive interval" in preds.loc["b", "flag"]
    assert not preds.loc["d", "covered"] and "direction" in preds.loc["d", "flag"]


def test_synthetic_data_for_a_direction_row_sets_its_direction_and_nan_is_refused():
    table = pd.DataFrame(
        {"value": [0.3, np.nan], "sd": [0.05, np.nan], "low": [np.nan, 0.0],
         "high": [np.nan, np.nan]},
        index=["v", "up"],
    )  # fmt: skip
    lik = RowLikelihood.from_table(table, ["v", "up"]).with_observed({"v": 0.1, "up": -0.2})
    assert lik.center[0] == 0.1 and np.isnan(lik.center[1]) and lik.sign[1] == -1.0
    with pytest.raises(ValueError, match="NaN"):
        smc_tempering(lambda t: np.full(len(t), np.nan), np.zeros(1), np.ones(1), particles=50)


def test_validation_lists_an_emulator_calibrations_rows_as_its_calibration_rows(tmp_path):
    from toolkit.calibration.report import _emulator_rows

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"method": "emulator", "rows": ["a", "b"]}))
    assert _emulator_rows(run) == ["a", "b"]
    assert _emulator_rows(run / "posterior.csv") == ["a", "b"]
    (run / "config.json").write_text(json.dumps({"targets": ["a"]}))  # an ABC run
    assert _emulator_rows(run) == [] and _emulator_rows(None) == []


def test_calibrate_method_emulator_from_the_command_line(tmp_path, capsys):
    from toolkit.cli import main

    cfg = tmp_path / "emulator.toml"
    cfg.write_text(
        '[emulator]\nparameters = ["practice_efficacy"]\n'
        'rows = ["karich2014_learner_control", "alfieri2011_unassisted"]\n'
        "design = 5\ncheck = 0\nclassrooms = 2\nparticles = 60\nseed = 3\n"
        "[parameters]\nn_students = 8\n"
    )
    out = tmp_path / "run"
    argv = ["calibrate", "--method", "emulator", "--config", str(cfg), "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "practice_efficacy" in text and "temperature reached 1" in text
    assert {"posterior.csv", "crossval.csv", "predictions.csv", "design.csv"} <= {
        p.name for p in out.iterdir()
    }
    assert main([*argv, "--resume"]) == 0  # every design point cached
    assert "5 of 5 design points already" in capsys.readouterr().err
    assert main(["calibrate", "--design", "8"]) == 2
    assert "--design is an option of --method emulator" in capsys.readouterr().err
    assert main([*argv, "--generations", "3", "--resume"]) == 2
    assert "options of --method abc" in capsys.readouterr().err


@st.composite
def _jackknife_tables(draw):
    """Design tables of jackknife values: any finite values, constant rows, missing values,
    SEs that are 0, NaN or of any size."""
    points, groups, k = draw(st.integers(1, 6)), draw(st.integers(2, 6)), draw(st.integers(1, 4))
    value = st.one_of(st.floats(-1e3, 1e3), st.just(np.nan), st.just(0.0))
    se = st.one_of(st.floats(1e-6, 1e3), st.just(0.0), st.just(np.nan))
    data = {}
    for r in range(k):
        constant = draw(st.booleans())
        for g in range(groups):
            data[f"jk{g}:r{r}"] = (
                [1.0] * points
                if constant
                else draw(st.lists(value, min_size=points, max_size=points))
            )
        data[f"se:r{r}"] = draw(st.lists(se, min_size=points, max_size=points))
    return pd.DataFrame(data), [f"r{r}" for r in range(k)]


@settings(max_examples=150, deadline=None)
@given(_jackknife_tables())
def test_jackknife_correlation_of_messy_designs_is_a_correlation_matrix_or_a_clear_error(case):
    """Whatever the design holds, the pooled correlation is symmetric with a unit diagonal,
    within [-1, 1] and positive semi-definite, or the error says that no point has every
    row's jackknife values."""
    runs, rows = case
    try:
        got = mc_correlation(runs, rows)
    except ValueError as exc:
        assert "no design point has every row's jackknife values" in str(exc)
        usable = np.isfinite(runs[[c for c in runs if c.startswith("jk")]]).all(axis=1)
        se = runs[[f"se:{r}" for r in rows]]
        assert not (usable & (np.isfinite(se) & (se > 0)).all(axis=1)).any()
        return
    assert got.shape == (len(rows), len(rows))
    np.testing.assert_array_equal(got, got.T)
    np.testing.assert_array_equal(np.diag(got), 1.0)
    assert np.all(np.abs(got) <= 1.0)
    assert np.linalg.eigvalsh(got).min() >= -1e-9
