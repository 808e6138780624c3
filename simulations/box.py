"""How often each headline conclusion holds across the plausible parameter space.

200 random draws of every sampled parameter, uniformly within its plausible range (on the log
scale where the range says so; ``toolkit.model.params.plausible_ranges``), the same 30
classrooms in every draw and arm (common random numbers). Usage::

    ./run.sh python simulations/box.py [--draws 200] [--classrooms 30] [--out FILE]

The four conclusions of the headline study:

- ``personalized_beats_individualized``: personalized - individualized > 0 on the test;
- ``individualized_narrows``: individualized has a smaller SD of test scores than standardized,
  and ``only_individualized_narrows``: it is the only regime that does;
- ``personal_beats_standardized``: personal - standardized > 0 on the test;
- ``diversity_ordering``: mean pairwise profile distance personalized > personal > standardized.

Prints each share with a 95% Wilson interval; ``--out`` writes the per-draw table (CSV).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import stats

from toolkit.engine import simulate_arms
from toolkit.model import Parameters, classroom_seed
from toolkit.model.params import plausible_ranges

ARMS = ("standardized", "individualized", "personalized", "personal")
SEED = 20261125


def sample(n_draws: int, seed: int) -> list[dict[str, float]]:
    r = plausible_ranges()
    r = r[~r["integer"]]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_draws):
        row = {}
        for name, x in r.iterrows():
            lo, hi = float(x["low"]), float(x["high"])
            if x["scale"] == "log":
                row[name] = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
            else:
                row[name] = float(rng.uniform(lo, hi))
        out.append(row)
    return out


def conclusions(df: pd.DataFrame) -> dict[str, float]:
    means = df.groupby(["arm", "classroom"], observed=True).score.mean().unstack(0)
    sd_ref = float(df.loc[df.arm == "standardized", "score"].std(ddof=1))
    eff = {a: float((means[a] - means["standardized"]).mean() / sd_ref) for a in ARMS}
    sd = df.groupby(["arm", "classroom"], observed=True).score.std().unstack(0).mean()
    skills = [c for c in df.columns if c.startswith("skill_")]
    dist = {}
    for a in ARMS:
        part = df[df.arm == a]
        prof = part[skills].to_numpy().reshape(part.classroom.nunique(), -1, len(skills))
        diff = prof[:, :, None, :] - prof[:, None, :, :]
        d = np.sqrt((diff**2).sum(-1))
        iu = np.triu_indices(prof.shape[1], 1)
        dist[a] = float(d[:, iu[0], iu[1]].mean())
    return {
        **{f"effect_{a}": eff[a] for a in ARMS},
        **{f"sd_{a}": float(sd[a]) for a in ARMS},
        **{f"distance_{a}": dist[a] for a in ARMS},
        "personalized_beats_individualized": eff["personalized"] > eff["individualized"],
        "individualized_narrows": sd["individualized"] < sd["standardized"],
        "only_individualized_narrows": bool(
            sd["individualized"] < sd["standardized"]
            and sd["personalized"] >= sd["standardized"]
            and sd["personal"] >= sd["standardized"]
        ),
        "personal_beats_standardized": eff["personal"] > 0,
        "diversity_ordering": bool(dist["personalized"] > dist["personal"] > dist["standardized"]),
    }


CLAIMS = (
    "personalized_beats_individualized",
    "individualized_narrows",
    "only_individualized_narrows",
    "personal_beats_standardized",
    "diversity_ordering",
)


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    z = stats.norm.ppf(0.5 + level / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--classrooms", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out")
    args = ap.parse_args()
    seeds = [classroom_seed(SEED + 1, i) for i in range(args.classrooms)]
    rows = []
    t0 = time.time()
    for values in sample(args.draws, args.seed):
        df = simulate_arms({a: a for a in ARMS}, Parameters().replace(**values), seeds)
        rows.append(values | conclusions(df))
    t = pd.DataFrame(rows)
    default = conclusions(simulate_arms({a: a for a in ARMS}, Parameters(), seeds))
    print(
        f"{args.draws} draws x {len(ARMS)} arms x {args.classrooms} classrooms, "
        f"{time.time() - t0:.0f} s"
    )
    for c in CLAIMS:
        k = int(t[c].sum())
        lo, hi = wilson(k, len(t))
        print(f"{c:36s} {k / len(t):6.1%}  [{lo:.1%}, {hi:.1%}]   defaults: {default[c]}")
    if args.out:
        t.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
