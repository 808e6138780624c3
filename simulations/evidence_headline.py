"""The headline as what the evidence supports: prior and posterior predictive of every contrast.

For each regime against standardized teaching and for personalized against individualized, the
effect on the test (paired difference in score over the SD of scores under standardized
teaching), on total learning and on diversity (mean pairwise distance of the students' domain
profiles), under two sets of parameter draws of the six engagement parameters:

- the *prior predictive*: draws from the calibration's priors (uniform from 0 to the top of the
  plausible range; ``toolkit.calibration.emulator.emulator_priors``), the assumptions alone;
- the *posterior predictive*: draws from the emulator calibration's posterior (the trial
  record's training rows, ``simulations/calibrated/engagement-posterior.csv``).

Every draw runs the four regimes on the same classrooms (common random numbers; the other
parameters at their defaults), so a draw's difference carries the parameters' uncertainty
and a little classroom sampling. The probability of each ordering of the four regimes (and of
each pairwise comparison) is the share of draws in which it holds.

    ./run.sh python simulations/evidence_headline.py --draws 200 --classrooms 100 --workers 2

Draws are cached in ``runs/evidence-headline/draws.csv`` (a rerun skips finished draws); the
tables are written to ``simulations/evidence-headline.csv`` and ``.txt``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.calibration.abc import load_posterior, sample_posterior
from toolkit.calibration.emulator import emulator_priors
from toolkit.calibration.quantities import MASTER_SEED, Simulations

HERE = Path(__file__).resolve().parent
REGIMES = ("standardized", "individualized", "personalized", "personal")
CONTRASTS = (
    ("individualized", "standardized"),
    ("personalized", "standardized"),
    ("personal", "standardized"),
    ("personalized", "individualized"),
)
METRICS = {
    "test": "effect on the test (SD of scores under standardized)",
    "total_learning": "total learning (paired difference)",
    "diversity": "diversity: mean pairwise distance of profiles (paired difference)",
}


def evaluate(theta: dict[str, float], classrooms: int, seed: int) -> dict[str, float]:
    """Run the four regimes at one draw; return each contrast's effect on each metric."""
    from toolkit.study.analysis import local_classroom_metrics

    sims = Simulations(theta, classrooms, seed)
    df = sims.arms({r: r for r in REGIMES})
    m = local_classroom_metrics(df.assign(point=0, sweep_value=np.nan), "standardized")
    sd_ref = float(df.loc[df["arm"] == "standardized", "score"].std(ddof=1))
    wide = {
        name: m.pivot(index="replicate", columns="arm", values=col)
        for name, col in (
            ("test", "score"),
            ("total_learning", "total_learning"),
            ("diversity", "mean_pairwise_distance"),
        )
    }
    out = {}
    for metric, w in wide.items():
        scale = sd_ref if metric == "test" else 1.0
        for r in REGIMES:
            out[f"{metric}:{r}"] = float((w[r] - w["standardized"]).mean() / scale)
    return out


def draws_table(n: int, seed: int, posterior: Path) -> pd.DataFrame:
    """Prior draws (uniform on the calibration's priors) and posterior draws, one row each."""
    priors = emulator_priors()
    rng = np.random.default_rng(seed)
    u = rng.random((n, len(priors)))
    prior = pd.DataFrame(
        priors["low"].to_numpy() + u * (priors["high"] - priors["low"]).to_numpy(),
        columns=list(priors.index),
    )
    post = sample_posterior(load_posterior(posterior), n, seed)[list(priors.index)]
    return pd.concat(
        [prior.assign(source="prior"), post.assign(source="posterior")], ignore_index=True
    )


def run(draws: pd.DataFrame, cache: Path, classrooms: int, seed: int, workers: int) -> pd.DataFrame:
    """Evaluate every draw not yet in ``cache`` (CSV, one row per draw)."""
    names = [c for c in draws.columns if c != "source"]
    done = pd.read_csv(cache) if cache.is_file() else pd.DataFrame(columns=["draw"])
    if len(done):
        mine = draws.loc[done["draw"], names].to_numpy()
        if not np.allclose(mine, done[names].to_numpy(), rtol=1e-9):
            raise SystemExit(f"{cache}: its draws differ from these settings; use another --cache.")
    todo = [i for i in range(len(draws)) if i not in set(done["draw"])]
    t0 = time.time()

    def record(i: int, res: dict[str, float]) -> None:
        row = {"draw": i, "source": draws.loc[i, "source"], **draws.loc[i, names], **res}
        pd.DataFrame([row]).to_csv(cache, mode="a", header=not cache.is_file(), index=False)

    with ProcessPoolExecutor(max_workers=workers) as pool:
        futs = {
            pool.submit(evaluate, draws.loc[i, names].to_dict(), classrooms, seed): i for i in todo
        }
        for k, f in enumerate(as_completed(futs)):
            record(futs[f], f.result())
            if (k + 1) % 10 == 0:
                print(f"{k + 1}/{len(todo)} draws ({time.time() - t0:.0f} s)", file=sys.stderr)
    return pd.read_csv(cache).sort_values("draw").reset_index(drop=True)


def summarise(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predictive medians and 90% intervals of each contrast; probabilities of the orderings."""
    rows = []
    for source, g in table.groupby("source", sort=False):
        for metric in METRICS:
            for a, b in CONTRASTS:
                d = g[f"{metric}:{a}"] - g[f"{metric}:{b}"]
                q05, q50, q95 = np.quantile(d, [0.05, 0.5, 0.95])
                rows.append(
                    {
                        "source": source,
                        "metric": metric,
                        "contrast": f"{a} - {b}",
                        "median": q50,
                        "q05": q05,
                        "q95": q95,
                        "p_positive": float((d > 0).mean()),
                        "draws": len(d),
                    }
                )
    effects = pd.DataFrame(rows)
    orders = []
    for source, g in table.groupby("source", sort=False):
        for metric in METRICS:
            vals = g[[f"{metric}:{r}" for r in REGIMES]].to_numpy()
            ranks = [" > ".join(REGIMES[j] for j in np.argsort(-v)) for v in vals]
            counts = pd.Series(ranks).value_counts()
            for perm in itertools.permutations(REGIMES):
                key = " > ".join(perm)
                p = float(counts.get(key, 0)) / len(ranks)
                if p > 0:
                    orders.append({"source": source, "metric": metric, "ordering": key,
                                   "probability": p, "draws": len(ranks)})  # fmt: skip
    return effects, pd.DataFrame(orders).sort_values(
        ["metric", "source", "probability"], ascending=[True, True, False]
    )


def format_text(effects: pd.DataFrame, orders: pd.DataFrame, header: str) -> str:
    """The tables as text: prior against posterior predictive, then the orderings."""
    lines = [header, ""]
    for metric, label in METRICS.items():
        lines.append(f"{label}: median [90% interval], P(> 0)")
        e = effects[effects["metric"] == metric]
        for contrast in e["contrast"].unique():
            cells = []
            for source in ("prior", "posterior"):
                r = e[(e["contrast"] == contrast) & (e["source"] == source)].iloc[0]
                cells.append(
                    f"{source} {r['median']:+.3f} [{r['q05']:+.3f}, {r['q95']:+.3f}] "
                    f"P>0 {r['p_positive']:.2f}"
                )
            lines.append(f"  {contrast:<32} " + " | ".join(cells))
        lines.append("")
    lines.append("Orderings of the four regimes (probability; those above 2%)")
    for metric in METRICS:
        for source in ("prior", "posterior"):
            o = orders[(orders["metric"] == metric) & (orders["source"] == source)]
            o = o[o["probability"] > 0.02]
            lines.append(f"  {metric}, {source}:")
            lines += [f"    {r.probability:5.2f}  {r.ordering}" for r in o.itertuples()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--draws", type=int, default=200, help="draws from each of prior, posterior"
    )
    parser.add_argument("--classrooms", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=MASTER_SEED)
    parser.add_argument(
        "--posterior", default=str(HERE / "calibrated" / "engagement-posterior.csv")
    )
    parser.add_argument("--cache", default="runs/evidence-headline")
    parser.add_argument("--out", default=str(HERE / "evidence-headline"))
    args = parser.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    draws = draws_table(args.draws, args.seed, Path(args.posterior))
    draws.to_csv(cache / "parameters.csv", index=False)
    t0 = time.time()
    table = run(draws, cache / "draws.csv", args.classrooms, args.seed, args.workers)
    effects, orders = summarise(table)
    header = (
        f"Prior and posterior predictive of the headline contrasts: {args.draws} draws each, "
        f"{args.classrooms} classrooms per arm (the same at every draw), seed {args.seed}; "
        f"posterior {Path(args.posterior).name}; {time.time() - t0:.0f} s"
    )
    out = Path(args.out)
    pd.concat(
        [effects.assign(kind="effect"), orders.assign(kind="ordering")], ignore_index=True
    ).to_csv(out.with_suffix(".csv"), index=False, float_format="%.4f")
    text = format_text(effects, orders, header)
    out.with_suffix(".txt").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
