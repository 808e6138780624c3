"""Full-size Bayesian calibration and its simulation-based coverage check.

The calibration itself is one command (resumable, with progress on standard error and in
runs/calibration/progress.log):

    ./run.sh python -m toolkit calibrate                  # toolkit/calibration/data/abc.toml
    ./run.sh python -m toolkit calibrate --resume         # after an interruption
    ./run.sh python -m toolkit calibrate --workers 2      # both cores (not bit-reproducible)

This script adds the coverage check at full size: true parameters drawn from the prior,
synthetic targets made by the model, the calibration run on each, and the share of true values
inside the posterior's 50% and 90% intervals (Talts et al. 2018). Each replication is a
calibration run of its own in runs/calibration-coverage/rep-NNN, so the script resumes where it
stopped:

    ./run.sh python simulations/calibrate_abc.py --coverage 20
    ./run.sh python simulations/calibrate_abc.py --coverage 20 --population 100   # quicker

Then the validation report shows both:

    ./run.sh python -m toolkit validate --posterior runs/calibration \
        --coverage runs/calibration-coverage
"""

from __future__ import annotations

import argparse
from pathlib import Path

from toolkit.calibration.abc import coverage_check, coverage_tests, load_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coverage", type=int, default=20, help="replications")
    parser.add_argument("--out", default="runs/calibration-coverage")
    parser.add_argument("--population", type=int)
    parser.add_argument("--classrooms", type=int)
    parser.add_argument("--generations", type=int)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    config = load_config(
        population=args.population, classrooms=args.classrooms, generations=args.generations
    )
    out = Path(args.out)
    table = coverage_check(config, out, replications=args.coverage, seed=args.seed, progress=True)
    table.to_csv(out / "coverage.csv", index=False)
    share = table.groupby("parameter")[[c for c in table if c.startswith("covered_")]].mean()
    print(f"\nCoverage over {args.coverage} replications (nominal: the interval's level):")
    print(share.to_string(float_format=lambda v: f"{v:.2f}"))
    cold = table[table["temperature"] != 1.0]["replication"].unique()
    if len(cold):
        print(f"\nwarning: {len(cold)} replication(s) stopped before temperature 1: {list(cold)}")
    print("\nTests of calibration (binomial for coverage, chi-square for uniform ranks):")
    print(coverage_tests(table).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"\nPer replication: {out / 'coverage.csv'}")


if __name__ == "__main__":
    main()
