"""The emulator's posterior against direct ABC-SMC on the model, on small cases.

Two parameters with uniform priors from 0 (as in the emulator calibration), two rows of the
trial record with values (learner control, Karich et al. 2014; unassisted discovery, Alfieri et
al. 2011) and a small model (8 students, 4 classrooms per arm). Cases (:data:`CASES`):
``weak``, the autonomy weight and the cost of self-direction, about which these rows say little
(the posterior is close to the prior), and ``practice``, the autonomy weight and the efficacy of
practice, which unassisted discovery pins down, and ``practice-16``, the same on 16 classrooms
per arm. The rows' values are synthetic: the model's at
known weights (the case's ``truth``) on 48 classrooms of their own seed, with the rows'
published SDs. (The published value of unassisted discovery, -0.38, lies beyond what this small
model gives anywhere in the ``weak`` case's prior box, -0.03 with SD 0.16 over prior draws;
direct ABC then accepts about 0.2% of its prior draws at temperature 1 and its posterior is
decided by the tails of the classrooms' sampling noise.) Three posteriors of the same likelihood
(each row: the model's value plus a Gaussian error with the row's SD and the model's Monte Carlo
SE):

- direct ABC-SMC on the model (pyabc, stochastic acceptor, 150 particles, temperature forced to
  1 within 8 generations; every particle a model run on classrooms of its own seed, so the
  Monte Carlo noise is in the simulator);
- the emulator: a Gaussian process fitted to 16 model runs, tempered SMC on it
  (:func:`toolkit.calibration.emulator.calibrate_emulator`);
- the model itself on a grid (the likelihood with each point's Monte Carlo SE).

The emulator and the grid see the model on the same classrooms at every point (common random
numbers: their sampling error is a smooth bias of the order of the Monte Carlo SE, which the
likelihood adds as variance), direct ABC on fresh classrooms at every particle. Each case
writes its section of ``simulations/emulator-vs-abc.txt`` (the other's is kept).

    ./run.sh python simulations/emulator_vs_abc.py [weak] [practice] [practice-16]  # 10-30 min each
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.calibration.abc import _evaluation_seed
from toolkit.calibration.emulator import (
    EmulatorConfig,
    RowLikelihood,
    calibrate_emulator,
    emulator_priors,
)
from toolkit.calibration.evidence import load_rows
from toolkit.calibration.quantities import Simulations, compute
from toolkit.calibration.targets import target_scale

HERE = Path(__file__).resolve().parent
OUT = HERE / "emulator-vs-abc.txt"
ROWS = ["karich2014_learner_control", "alfieri2011_unassisted"]
FIXED = {"n_students": 8}
CLASSROOMS = 4
SEED = 11
#: Per case: the weights the synthetic rows are made at (the calibrated parameters), and the
#: grid's points per parameter.
CASES = {
    "weak": {
        "truth": {"engagement_autonomy_weight": 0.7, "self_direction_cost": 0.1},
        "grid": (9, 9),
    },
    "practice": {
        "truth": {"engagement_autonomy_weight": 0.7, "practice_efficacy": 0.4},
        "grid": (9, 41),
    },
    # the same with 16 classrooms per arm: does the emulator come nearer direct ABC?
    "practice-16": {
        "truth": {"engagement_autonomy_weight": 0.7, "practice_efficacy": 0.4},
        "grid": (9, 41),
        "classrooms": 16,
    },
}
#: Classrooms and seed of the model run that makes the synthetic rows.
TRUTH_CLASSROOMS, TRUTH_SEED = 48, 2026
#: Direct ABC: particles, and a cap on its model runs (it stops at temperature 1 before).
POPULATION, MAX_SIMULATIONS = 150, 40000


class Simulator:
    """The small model as pyabc sees it (picklable)."""

    def __init__(
        self, names: list[str], quantities: dict[str, str], maps: dict, classrooms: int
    ) -> None:
        self.names, self.quantities, self.maps = names, quantities, maps
        self.classrooms = classrooms

    def __call__(self, theta: dict[str, float]) -> dict[str, float]:
        values = {k: float(theta[k]) for k in self.names}
        sims = Simulations(FIXED | values, self.classrooms, _evaluation_seed(SEED, values))
        est = compute(list(self.quantities.values()), sims=sims, mappings=self.maps)
        v = est.set_index("quantity")["value"]
        return {r: float(v[q]) for r, q in self.quantities.items()}


def moments(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted means and SDs of the columns of ``x``."""
    w = w / w.sum()
    m = w @ x
    return m, np.sqrt(w @ (x - m) ** 2)


def run_case(case: str) -> str:
    """Run the three posteriors of one case; return its section of the output."""
    import pyabc

    truth, grid_points = CASES[case]["truth"], CASES[case]["grid"]
    classrooms = CASES[case].get("classrooms", CLASSROOMS)
    names = list(truth)
    table, maps = load_rows()
    quantities = {r: str(table.loc[r, "quantity"]) for r in ROWS}
    priors = emulator_priors(names)
    est = compute(list(quantities.values()),
                  sims=Simulations(FIXED | truth, TRUTH_CLASSROOMS, TRUTH_SEED),
                  mappings=maps)  # fmt: skip
    observed = dict(zip(ROWS, est["value"].to_numpy(float), strict=True))
    table = table.copy()
    for r in ROWS:
        table.loc[r, "value"] = observed[r]
    lines = [
        f"== case {case}: {', '.join(names)}; {classrooms} classrooms per arm ==",
        f"synthetic rows, the model at {truth} ({TRUTH_CLASSROOMS} classrooms, seed "
        f"{TRUTH_SEED}): "
        + ", ".join(
            f"{r} {v:+.3f} (SD {target_scale(table.loc[r])[1]:g})" for r, v in observed.items()
        ),
    ]
    rows = []

    # direct ABC-SMC
    t0 = time.time()
    tmp = Path(tempfile.mkdtemp())
    scales = {r: target_scale(table.loc[r]) for r in ROWS}
    prior = pyabc.Distribution(
        **{n: pyabc.RV("uniform", 0.0, float(priors.loc[n, "high"])) for n in names}
    )
    var = [scales[r][1] ** 2 for r in ROWS]
    abc = pyabc.ABCSMC(
        Simulator(names, quantities, maps, classrooms),
        prior,
        pyabc.IndependentNormalKernel(var=var, keys=ROWS),
        population_size=POPULATION,
        eps=pyabc.Temperature(),
        acceptor=pyabc.StochasticAcceptor(),
        sampler=pyabc.sampler.MulticoreEvalParallelSampler(n_procs=2),
    )
    np.random.seed(SEED)  # noqa: NPY002 - pyabc samples from numpy's global state
    abc.new(f"sqlite:///{tmp / 'abc.db'}", {r: scales[r][0] for r in ROWS})
    hist = abc.run(
        max_nr_populations=8, min_acceptance_rate=0.0005, max_total_nr_simulations=MAX_SIMULATIONS
    )
    df, w = hist.get_distribution(m=0, t=hist.max_t)
    pops = hist.get_all_populations()
    evals = int(pops["samples"].sum())
    last_eps = float(pops["epsilon"].iloc[-1])
    m, s = moments(df[names].to_numpy(float), np.asarray(w, float))
    rows.append(("direct ABC-SMC (pyabc)", m, s, evals, time.time() - t0))
    lines.append(
        f"direct ABC: {POPULATION} particles, {hist.max_t + 1} generations, {evals} model runs, "
        f"last temperature {last_eps:.3g}"
        + ("" if last_eps == 1.0 else " (NOT 1: stopped by the cap on model runs)")
    )
    gens = pops[pops["t"] >= 0]
    lines.append(
        "direct ABC per generation: temperature "
        + ", ".join(f"{e:.3g}" for e in gens["epsilon"])
        + "; acceptance rate "
        + ", ".join(f"{a:.3g}" for a in gens["particles"] / gens["samples"])
    )
    shutil.rmtree(tmp)

    # the emulator
    t0 = time.time()
    cfg = EmulatorConfig(parameters=tuple(names), rows=tuple(ROWS), design=16, check=0,
                         classrooms=classrooms, particles=2000, seed=SEED, fixed=FIXED)  # fmt: skip
    tmp = Path(tempfile.mkdtemp())
    res = calibrate_emulator(cfg, tmp / "em", progress=False, table=table, mappings=maps)
    m, s = moments(res["posterior"][names].to_numpy(float), np.ones(len(res["posterior"])))
    rows.append(("emulator (16 model runs) + tempered SMC", m, s, 16, time.time() - t0))
    shutil.rmtree(tmp)

    # the model on a grid
    t0 = time.time()
    lik = RowLikelihood.from_table(table, ROWS)
    g = [
        np.linspace(0, float(priors.loc[n, "high"]), k)
        for n, k in zip(names, grid_points, strict=True)
    ]
    grid = np.array([(a, b) for a in g[0] for b in g[1]])
    logp = []
    for a, b in grid:
        est = compute(list(quantities.values()),
                      sims=Simulations(FIXED | {names[0]: a, names[1]: b}, classrooms, SEED),
                      mappings=maps)  # fmt: skip
        logp.append(lik(est["value"].to_numpy()[None], est["se"].to_numpy()[None])[0])
    w = np.exp(np.array(logp) - max(logp))
    m, s = moments(grid, w)
    label = f"the model on a {grid_points[0]} x {grid_points[1]} grid"
    rows.append((label, m, s, len(grid), time.time() - t0))

    out = pd.DataFrame(
        [
            {"posterior": name, **{f"mean {n}": mm[i] for i, n in enumerate(names)},
             **{f"sd {n}": ss[i] for i, n in enumerate(names)}, "model runs": k,
             "seconds": round(t, 1)}
            for name, mm, ss, k, t in rows
        ]
    )  # fmt: skip
    prior_sd = (priors["high"] - priors["low"]) / np.sqrt(12)
    lines += [
        "",
        out.round(4).to_string(index=False),
        "",
        "prior: mean "
        + ", ".join(f"{n} {priors.loc[n, 'high'] / 2:.4g}" for n in names)
        + "; SD "
        + ", ".join(f"{n} {prior_sd[n]:.4g}" for n in names),
        "posterior SD / prior SD (direct ABC): "
        + ", ".join(f"{n} {out.iloc[0][f'sd {n}'] / prior_sd[n]:.2f}" for n in names),
        "",
    ]
    ref = out.iloc[0]
    for _, r in out.iloc[1:].iterrows():
        for n in names:
            d = (r[f"mean {n}"] - ref[f"mean {n}"]) / ref[f"sd {n}"]
            ratio = r[f"sd {n}"] / ref[f"sd {n}"]
            lines.append(
                f"{r['posterior']}: {n} mean differs from direct ABC by {d:+.2f} of its SD, "
                f"SD ratio {ratio:.2f}"
            )
    return "\n".join(lines) + "\n"


def main(cases: list[str]) -> None:
    """Run the cases and write (or replace) their sections of :data:`OUT`."""
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        raise SystemExit(f"unknown case(s) {unknown}; choose from {list(CASES)}")
    sections = {}
    if OUT.is_file():
        for part in OUT.read_text().split("\n== case ")[1:]:
            sections[part.split(":", 1)[0]] = "== case " + part.rstrip("\n") + "\n"
    for case in cases:
        sections[case] = run_case(case)
        body = "".join("\n" + sections[c] for c in CASES if c in sections)
        OUT.write_text(__doc__.splitlines()[0] + "\n" + body)
        print(sections[case])


if __name__ == "__main__":
    main(sys.argv[1:] or list(CASES))
