"""The emulator's posterior against direct ABC-SMC on the model, on small cases.

Two parameters with uniform priors from 0 (as in the emulator calibration), two rows of the
trial record with values (learner control, Karich et al. 2014; unassisted discovery, Alfieri et
al. 2011) and a small model (8 students). Cases (:data:`CASES`): ``weak``, the autonomy weight
and the cost of self-direction, about which these rows say little (the posterior is close to
the prior), on 4 classrooms per arm; ``practice``, the autonomy weight and the efficacy of
practice, which unassisted discovery pins down, on 4 classrooms per arm; and ``practice-16``,
the same on 16 classrooms per arm. The rows' values are synthetic: the model's at known
weights (the case's ``truth``) on 48 classrooms of their own seed, with the rows' published
SDs. (The published value of unassisted discovery, -0.38, lies beyond what this small model
gives anywhere in the ``weak`` case's prior box, -0.03 with SD 0.16 over prior draws.)

Both posteriors have the same target: each row is the model's value on the case's classrooms
(fresh ones for every evaluation) plus a Gaussian error with the row's published SD.

- Direct ABC-SMC on the model (pyabc, stochastic acceptor, 150 particles, temperature forced
  to 1 within 8 generations; every particle a model run on classrooms of its own seed, so the
  classrooms' sampling error is in the simulator). It does not depend on the emulator, so its
  summary is kept in ``emulator-vs-abc-direct.json`` and rerun only with ``--rerun-direct``
  (about 10 to 30 min a case).
- The emulator, from three designs (seeds): Gaussian processes fitted to 32 model runs on 96
  classrooms per arm, common to every design point (:func:`calibrate_emulator`); the
  likelihood adds the sampling error of the case's classrooms, correlated across the rows as
  the design's jackknife says (:meth:`RowLikelihood.with_model_sampling`,
  :func:`mc_correlation`), then tempered SMC. The earlier version of this comparison fitted the
  emulator to runs on the case's own 4 or 16 common classrooms and took the rows' errors as
  independent; it disagreed with direct ABC on the informative cases (by 0.6 to 0.8 of the
  posterior SD in the means, and a 2.5 times wider posterior on 4 classrooms).

    ./run.sh python simulations/emulator_vs_abc.py [weak] [practice] [practice-16] [--rerun-direct]
"""

from __future__ import annotations

import json
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
    calibrate_emulator,
    emulator_posterior,
    emulator_priors,
)
from toolkit.calibration.evidence import load_rows
from toolkit.calibration.quantities import Simulations, compute
from toolkit.calibration.targets import target_scale

HERE = Path(__file__).resolve().parent
OUT = HERE / "emulator-vs-abc.txt"
DIRECT = HERE / "emulator-vs-abc-direct.json"
ROWS = ["karich2014_learner_control", "alfieri2011_unassisted"]
FIXED = {"n_students": 8}
CLASSROOMS = 4
SEED = 11
#: Per case: the weights the synthetic rows are made at (the calibrated parameters).
CASES = {
    "weak": {
        "truth": {"engagement_autonomy_weight": 0.7, "self_direction_cost": 0.1},
    },
    "practice": {
        "truth": {"engagement_autonomy_weight": 0.7, "practice_efficacy": 0.4},
    },
    # the same with 16 classrooms per arm
    "practice-16": {
        "truth": {"engagement_autonomy_weight": 0.7, "practice_efficacy": 0.4},
        "classrooms": 16,
    },
}
#: Classrooms and seed of the model run that makes the synthetic rows.
TRUTH_CLASSROOMS, TRUTH_SEED = 48, 2026
#: Direct ABC: particles, and a cap on its model runs (it stops at temperature 1 before).
POPULATION, MAX_SIMULATIONS = 150, 40000
#: The emulator: design points, classrooms per arm common to every design point, design seeds.
DESIGN, DESIGN_CLASSROOMS, DESIGN_SEEDS = 32, 96, (11, 12, 13)


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


def direct_abc(case: str, table: pd.DataFrame, maps: dict, rerun: bool) -> dict:
    """Direct ABC-SMC's posterior moments for ``case``: from :data:`DIRECT`, or run (and kept)."""
    kept = json.loads(DIRECT.read_text()) if DIRECT.is_file() else {}
    if case in kept and not rerun:
        return kept[case]
    import pyabc

    truth = CASES[case]["truth"]
    classrooms = CASES[case].get("classrooms", CLASSROOMS)
    names = list(truth)
    quantities = {r: str(table.loc[r, "quantity"]) for r in ROWS}
    priors = emulator_priors(names)
    t0 = time.time()
    tmp = Path(tempfile.mkdtemp())
    scales = {r: target_scale(table.loc[r]) for r in ROWS}
    prior = pyabc.Distribution(
        **{n: pyabc.RV("uniform", 0.0, float(priors.loc[n, "high"])) for n in names}
    )
    abc = pyabc.ABCSMC(
        Simulator(names, quantities, maps, classrooms),
        prior,
        pyabc.IndependentNormalKernel(var=[scales[r][1] ** 2 for r in ROWS], keys=ROWS),
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
    gens = pops[pops["t"] >= 0]
    m, sd = moments(df[names].to_numpy(float), np.asarray(w, float))
    out = {
        "mean": m.tolist(),
        "sd": sd.tolist(),
        "model_runs": int(pops["samples"].sum()),
        "generations": int(hist.max_t + 1),
        "temperatures": [float(e) for e in gens["epsilon"]],
        "acceptance": [float(a) for a in gens["particles"] / gens["samples"]],
        "seconds": round(time.time() - t0, 1),
    }
    shutil.rmtree(tmp)
    kept[case] = out
    DIRECT.write_text(json.dumps(kept, indent=1) + "\n")
    return out


def run_case(case: str, rerun_direct: bool = False) -> str:
    """Compare the emulator's posteriors (one per design seed) with direct ABC's on one case."""
    truth = CASES[case]["truth"]
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
    direct = direct_abc(case, table, maps, rerun_direct)
    last = direct["temperatures"][-1]
    lines += [
        f"direct ABC: {POPULATION} particles, {direct['generations']} generations, "
        f"{direct['model_runs']} model runs, last temperature {last:.3g}"
        + ("" if last == 1.0 else " (NOT 1: stopped by the cap on model runs)"),
        "direct ABC per generation: temperature "
        + ", ".join(f"{e:.3g}" for e in direct["temperatures"])
        + "; acceptance rate "
        + ", ".join(f"{a:.3g}" for a in direct["acceptance"]),
    ]
    rows = [("direct ABC-SMC (pyabc)", np.array(direct["mean"]), np.array(direct["sd"]),
             direct["model_runs"], direct["seconds"])]  # fmt: skip
    correlations = []
    for seed in DESIGN_SEEDS:
        t0 = time.time()
        cfg = EmulatorConfig(parameters=tuple(names), rows=tuple(ROWS), design=DESIGN, check=0,
                             classrooms=DESIGN_CLASSROOMS, particles=2000, seed=seed,
                             fixed=FIXED)  # fmt: skip
        tmp = Path(tempfile.mkdtemp())
        run = calibrate_emulator(cfg, tmp / "em", progress=False, table=table, mappings=maps)
        shutil.rmtree(tmp)
        lik = run["likelihood"].with_model_sampling(classrooms, DESIGN_CLASSROOMS)
        res = emulator_posterior(run["emulator"], lik, priors, particles=2000, seed=seed)
        m, sd = moments(res.particles, np.ones(len(res.particles)))
        correlations.append(float(lik.mc_corr[0, 1]))
        label = f"emulator, design seed {seed} ({DESIGN} runs x {DESIGN_CLASSROOMS} classrooms)"
        rows.append((label, m, sd, DESIGN, time.time() - t0))

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
        "correlation of the two rows' Monte Carlo errors (jackknife over the design's "
        "classrooms), per design seed: " + ", ".join(f"{c:+.2f}" for c in correlations),
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
    diffs = {n: [] for n in names}
    ratios = {n: [] for n in names}
    for _, r in out.iloc[1:].iterrows():
        for n in names:
            diffs[n].append((r[f"mean {n}"] - ref[f"mean {n}"]) / ref[f"sd {n}"])
            ratios[n].append(r[f"sd {n}"] / ref[f"sd {n}"])
    for n in names:
        lines.append(
            f"emulator against direct ABC, {n}: means differ by "
            + ", ".join(f"{d:+.2f}" for d in diffs[n])
            + f" of direct ABC's SD (mean {np.mean(diffs[n]):+.2f}); SD ratios "
            + ", ".join(f"{x:.2f}" for x in ratios[n])
            + f" (mean {np.mean(ratios[n]):.2f})"
        )
    return "\n".join(lines) + "\n"


def main(args: list[str]) -> None:
    """Run the cases and write (or replace) their sections of :data:`OUT`."""
    rerun = "--rerun-direct" in args
    cases = [a for a in args if a != "--rerun-direct"] or list(CASES)
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        raise SystemExit(f"unknown case(s) {unknown}; choose from {list(CASES)}")
    sections = {}
    if OUT.is_file():
        for part in OUT.read_text().split("\n== case ")[1:]:
            sections[part.split(":", 1)[0]] = "== case " + part.rstrip("\n") + "\n"
    for case in cases:
        sections[case] = run_case(case, rerun)
        body = "".join("\n" + sections[c] for c in CASES if c in sections)
        OUT.write_text(__doc__.splitlines()[0] + "\n" + body)
        print(sections[case])


if __name__ == "__main__":
    main(sys.argv[1:])
