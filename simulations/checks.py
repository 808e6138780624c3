"""Every calibration target and held-back check of the model, at full size.

Usage::

    ./run.sh python simulations/checks.py [--classrooms 200]

Writes the table to ``simulations/checks-output.csv`` (reported in docs/odd.md section 10): the
rows of ``toolkit/calibration/data/targets.csv`` with role target or check, computed by
``toolkit.calibration.quantities`` (through ``toolkit.calibration.checks.evaluate``) on 200
classrooms per arm from the calibration's master seed, the same numbers as ``python -m toolkit
validate --defaults``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from toolkit.calibration.checks import evaluate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--classrooms", type=int, default=200)
    ap.add_argument("--out", default=str(Path(__file__).with_name("checks-output.csv")))
    args = ap.parse_args()
    t0 = time.time()
    table = evaluate(n_classrooms=args.classrooms)
    table.to_csv(args.out, index=False)
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(
            table[["name", "role", "value", "se", "low", "high", "inside"]].to_string(index=False)
        )
    print(
        f"\n{args.classrooms} classrooms per arm, {time.time() - t0:.0f} s; written to {args.out}"
    )


if __name__ == "__main__":
    main()
