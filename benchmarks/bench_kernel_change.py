"""Speed of the fast kernel before and after a change of the model, side by side in one run.

Usage::

    git worktree add /tmp/before <commit>        # the code before the change
    .venv/bin/python benchmarks/bench_kernel_change.py --before /tmp/before --after . --rounds 7

Each measurement runs in its own subprocess pinned to one core, with the toolkit imported from
the given source tree (``PYTHONPATH``): ``simulate_arms`` of the four regime presets on the same
classrooms with the ``"fast"`` kernel, default parameters (21 students, 180 days), after an
untimed warm-up call that compiles or loads the kernel. The two trees alternate within each
round, and the ratio is taken within each round, so that drifts of a shared machine cancel; the
median and range over rounds are printed. Benchmarks are scripts, never timed tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, os, sys, time
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {int(sys.argv[2])})
import toolkit
from toolkit.engine import simulate_arms
from toolkit.model import Parameters, classroom_seed
arms = {r: r for r in ("standardized", "individualized", "personalized", "personal")}
p = Parameters()
n = int(sys.argv[1])
simulate_arms(arms, p, [classroom_seed(1, i) for i in range(4)], kernel="fast")  # warm-up
seeds = [classroom_seed(2, i) for i in range(n)]
t0 = time.perf_counter(); c0 = time.process_time()
simulate_arms(arms, p, seeds, kernel="fast")
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
out = {"file": toolkit.__file__, "wall": wall, "cpu": cpu}
print(json.dumps(out | {"per_classroom_year_ms": 1000 * cpu / (4 * n)}))
"""


def measure(tree: str, classrooms: int, core: int) -> dict:
    """One measurement in a fresh process importing the toolkit from ``tree``."""
    tree = os.path.abspath(tree)
    env = dict(os.environ, PYTHONPATH=tree)
    out = subprocess.run(  # run from the tree: ``python -c`` puts the working directory first
        [sys.executable, "-c", CHILD, str(classrooms), str(core)],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="source tree of the code before the change")
    ap.add_argument("--after", default=".", help="source tree of the code after the change")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--classrooms", type=int, default=256)
    ap.add_argument("--core", type=int, default=(os.cpu_count() or 1) - 1)
    args = ap.parse_args()
    ratios = []
    for r in range(args.rounds):
        b = measure(args.before, args.classrooms, args.core)
        a = measure(args.after, args.classrooms, args.core)
        ratio = a["per_classroom_year_ms"] / b["per_classroom_year_ms"]
        ratios.append(ratio)
        print(
            f"round {r + 1}: before {b['per_classroom_year_ms']:.3f} ms, after "
            f"{a['per_classroom_year_ms']:.3f} ms per classroom-year (CPU), after / before "
            f"{ratio:.3f}, load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
    print(
        f"after / before: median {statistics.median(ratios):.3f} "
        f"(range {min(ratios):.3f}-{max(ratios):.3f}) over {len(ratios)} rounds; "
        f"before = {b['file']}, after = {a['file']}"
    )


if __name__ == "__main__":
    main()
