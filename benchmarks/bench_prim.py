"""PRIM failure regions: the toolkit's own PRIM, and the EMA Workbench's beside it if installed.

One command::

    .venv/bin/python benchmarks/bench_prim.py [--rounds 5] [--json FILE]

For design sizes of 256, 1,024 and 4,096 points on 8 parameters (uniform draws; a claim that
fails in a planted box on two of them, with 5% of the flags flipped at random), it times
``failure_region(method="prim")`` (the median of ``--rounds`` calls, after one call that is not
timed), and the import that drawing a region needs in a fresh interpreter:
``toolkit.robustness.analysis``. When ``ema_workbench`` can be imported (it is not one of the
toolkit's dependencies: install it beside the toolkit to compare, for example with
``pip install --target DIR ema_workbench==3.0.0 seaborn platypus-opt --no-deps`` and
``PYTHONPATH=DIR``), the same for its ``Prim(x, y, mass_min=0.05).find_box()`` and the import
of ``ema_workbench.analysis.prim``, and a check that both give the same trajectory.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

from toolkit.robustness.analysis import failure_region
from toolkit.robustness.prim import prim_trajectory


def _design(n: int, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n, 8)), columns=[f"p{j}" for j in range(8)])
    fails = ((x.p1 > 0.2) & (x.p1 < 0.5) & (x.p4 > 0.6)).to_numpy() ^ (rng.random(n) < 0.05)
    return x, fails


def _import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    out.check_returncode()
    return float(out.stdout.strip().splitlines()[-1])


def _median_seconds(f, rounds: int) -> float:
    f()
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    ema = importlib.util.find_spec("ema_workbench") is not None
    res: dict = {"load_average": os.getloadavg()[0], "ema_workbench": ema, "sizes": {}}
    res["import_toolkit_s"] = _import_seconds("toolkit.robustness.analysis")
    print(f"import toolkit.robustness.analysis: {res['import_toolkit_s']:.2f} s", flush=True)
    if ema:
        res["import_ema_s"] = _import_seconds("ema_workbench.analysis.prim")
        print(f"import ema_workbench.analysis.prim: {res['import_ema_s']:.2f} s", flush=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim as ema_prim
        logging.getLogger("EMA").setLevel(logging.WARNING)
    for n in (256, 1024, 4096):
        x, fails = _design(n)
        row = {
            "toolkit_s": _median_seconds(
                lambda x=x, fails=fails: failure_region(x, ~fails, x), args.rounds
            ),
        }
        if ema:

            def run_ema(x=x, fails=fails):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return ema_prim.Prim(x, fails.astype(int), mass_min=0.05).find_box()

            row["ema_s"] = _median_seconds(run_ema, args.rounds)
            box, own = run_ema(), prim_trajectory(x, fails)
            lims = np.stack([b.to_numpy(float) for b in box.box_lims])
            row["same_trajectory"] = bool(np.array_equal(lims, own.limits))
        res["sizes"][n] = row
        print(f"{n:>5} points: " + ", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    print(f"load average {res['load_average']:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
