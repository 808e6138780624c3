"""The emulator's posterior against direct ABC-SMC on the model, on a small case.

Two parameters (``engagement_autonomy_weight``, ``self_direction_cost``; uniform priors from 0,
as in the emulator calibration), two rows of the trial record with values (learner control,
Karich et al. 2014; unassisted discovery, Alfieri et al. 2011) and a small model (8 students,
4 classrooms per arm). Three posteriors of the same likelihood (each row: the model's value
plus a Gaussian error with the row's SD and the model's Monte Carlo SE):

- direct ABC-SMC on the model (pyabc, stochastic acceptor, temperature to 1; every particle a
  model run on classrooms of its own seed, so the Monte Carlo noise is in the simulator);
- the emulator: a Gaussian process fitted to 16 model runs, tempered SMC on it
  (:func:`toolkit.calibration.emulator.calibrate_emulator`);
- the model itself on a 9 x 9 grid (the likelihood with each point's Monte Carlo SE).

    ./run.sh python simulations/emulator_vs_abc.py   # about an hour on 2 shared cores (direct ABC)
"""

from __future__ import annotations

import shutil
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
NAMES = ["engagement_autonomy_weight", "self_direction_cost"]
ROWS = ["karich2014_learner_control", "alfieri2011_unassisted"]
FIXED = {"n_students": 8}
CLASSROOMS = 4
SEED = 11


class Simulator:
    """The small model as pyabc sees it (picklable)."""

    def __init__(self, quantities: dict[str, str], maps: dict) -> None:
        self.quantities, self.maps = quantities, maps

    def __call__(self, theta: dict[str, float]) -> dict[str, float]:
        values = {k: float(theta[k]) for k in NAMES}
        sims = Simulations(FIXED | values, CLASSROOMS, _evaluation_seed(SEED, values))
        est = compute(list(self.quantities.values()), sims=sims, mappings=self.maps)
        v = est.set_index("quantity")["value"]
        return {r: float(v[q]) for r, q in self.quantities.items()}


def moments(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted means and SDs of the columns of ``x``."""
    w = w / w.sum()
    m = w @ x
    return m, np.sqrt(w @ (x - m) ** 2)


def main() -> None:
    import pyabc

    table, maps = load_rows()
    quantities = {r: str(table.loc[r, "quantity"]) for r in ROWS}
    priors = emulator_priors(NAMES)
    lines = [__doc__.splitlines()[0], ""]
    rows = []

    # direct ABC-SMC
    t0 = time.time()
    tmp = Path(tempfile.mkdtemp())
    scales = {r: target_scale(table.loc[r]) for r in ROWS}
    prior = pyabc.Distribution(
        **{n: pyabc.RV("uniform", 0.0, float(priors.loc[n, "high"])) for n in NAMES}
    )
    var = [scales[r][1] ** 2 for r in ROWS]
    abc = pyabc.ABCSMC(
        Simulator(quantities, maps),
        prior,
        pyabc.IndependentNormalKernel(var=var, keys=ROWS),
        population_size=150,
        eps=pyabc.Temperature(),
        acceptor=pyabc.StochasticAcceptor(),
        sampler=pyabc.sampler.MulticoreEvalParallelSampler(n_procs=2),
    )
    np.random.seed(SEED)  # noqa: NPY002 - pyabc samples from numpy's global state
    abc.new(f"sqlite:///{tmp / 'abc.db'}", {r: scales[r][0] for r in ROWS})
    hist = abc.run(max_nr_populations=8, min_acceptance_rate=0.0005)
    df, w = hist.get_distribution(m=0, t=hist.max_t)
    pops = hist.get_all_populations()
    evals = int(pops["samples"].sum())
    last_eps = float(pops["epsilon"].iloc[-1])
    m, s = moments(df[NAMES].to_numpy(float), np.asarray(w, float))
    rows.append(("direct ABC-SMC (pyabc)", m, s, evals, time.time() - t0))
    lines.append(f"direct ABC: {hist.max_t + 1} generations, last temperature {last_eps:.3g}")
    shutil.rmtree(tmp)

    # the emulator
    t0 = time.time()
    cfg = EmulatorConfig(parameters=tuple(NAMES), rows=tuple(ROWS), design=16, check=0,
                         classrooms=CLASSROOMS, particles=2000, seed=SEED, fixed=FIXED)  # fmt: skip
    tmp = Path(tempfile.mkdtemp())
    res = calibrate_emulator(cfg, tmp / "em", progress=False, table=table, mappings=maps)
    m, s = moments(res["posterior"][NAMES].to_numpy(float), np.ones(len(res["posterior"])))
    rows.append(("emulator (16 model runs) + tempered SMC", m, s, 16, time.time() - t0))
    shutil.rmtree(tmp)

    # the model on a grid
    t0 = time.time()
    lik = RowLikelihood.from_table(table, ROWS)
    g = [np.linspace(0, float(priors.loc[n, "high"]), 9) for n in NAMES]
    grid = np.array([(a, b) for a in g[0] for b in g[1]])
    logp = []
    for a, b in grid:
        est = compute(list(quantities.values()),
                      sims=Simulations(FIXED | {NAMES[0]: a, NAMES[1]: b}, CLASSROOMS, SEED),
                      mappings=maps)  # fmt: skip
        logp.append(lik(est["value"].to_numpy()[None], est["se"].to_numpy()[None])[0])
    w = np.exp(np.array(logp) - max(logp))
    m, s = moments(grid, w)
    rows.append(("the model on a 9 x 9 grid", m, s, len(grid), time.time() - t0))

    out = pd.DataFrame(
        [
            {"posterior": name, **{f"mean {n}": mm[i] for i, n in enumerate(NAMES)},
             **{f"sd {n}": ss[i] for i, n in enumerate(NAMES)}, "model runs": k,
             "seconds": round(t, 1)}
            for name, mm, ss, k, t in rows
        ]
    )  # fmt: skip
    lines += ["", out.round(4).to_string(index=False), ""]
    ref = out.iloc[0]
    for _, r in out.iloc[1:].iterrows():
        for n in NAMES:
            d = (r[f"mean {n}"] - ref[f"mean {n}"]) / ref[f"sd {n}"]
            ratio = r[f"sd {n}"] / ref[f"sd {n}"]
            lines.append(
                f"{r['posterior']}: {n} mean differs from direct ABC by {d:+.2f} of its SD, "
                f"SD ratio {ratio:.2f}"
            )
    text = "\n".join(lines) + "\n"
    (HERE / "emulator-vs-abc.txt").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
