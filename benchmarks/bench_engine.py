"""Benchmark the Mesa model against the vectorized engine, side by side, in one run.

Usage::

    .venv/bin/python benchmarks/bench_engine.py            # the full run (about 3 minutes)
    .venv/bin/python benchmarks/bench_engine.py --quick    # a smaller smoke run

Every measurement runs in its own subprocess pinned to one core (``--core``, default the last
one), so that its peak memory (``ru_maxrss``: the whole Python process, interpreter and imports
included) is its own and the numba kernel's compilation (or cache load) is done in an untimed
warm-up call first. Printed per measurement: wall seconds, CPU seconds, seconds per
classroom-year, throughput in student-domain-days per second, peak memory. Then the targets of
issue 3:

1. the engine at least 200 times faster than the Mesa model per classroom-year (same
   parameters, same classroom seeds);
2. four regimes x 1,000 classrooms x 30 students x 180 days in under 10 s in total, timed both
   as a study runs them (``simulate_arms``: the four arms on the same classrooms in one call,
   their random numbers drawn once) and one regime per call (``simulate_batch``);
3. 10,000 classrooms in one call under 2 GB peak memory.

Benchmarks are scripts, never timed tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

REGIMES = ("standardized", "individualized", "personalized", "personal")


# ---------------------------------------------------------------------------------------------
# child: one measurement
# ---------------------------------------------------------------------------------------------
def _child(spec: dict) -> dict:
    if spec.get("core") is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {spec["core"]})
    from toolkit.engine import simulate_arms, simulate_batch
    from toolkit.model import Parameters, classroom_seed
    from toolkit.model.model import simulate_classroom

    params = Parameters(n_students=spec["students"], n_days=spec["days"])
    seeds = [classroom_seed(spec["master"], i) for i in range(spec["classrooms"])]
    regimes = spec["regimes"]
    warm = 0.0
    if spec["impl"] == "mesa":

        def run(regime: str) -> int:
            rows = 0
            for s in seeds:
                rows += len(simulate_classroom(regime, params, s))
            return rows

    else:
        kw = {"kernel": spec["impl"], "chunk_size": spec["chunk_size"]}
        t0 = time.perf_counter()  # compile or load the numba kernel, untimed
        simulate_batch(regimes[0], params.replace(n_days=2), seeds[:2], **kw)
        warm = time.perf_counter() - t0

        def run(regime: str) -> int:
            return len(simulate_batch(regime, params, seeds, **kw))

    per_regime = {}
    wall0, cpu0 = time.perf_counter(), time.process_time()
    rows = 0
    if spec.get("together"):  # every regime on the same classrooms, randomness drawn once
        rows = len(simulate_arms({r: r for r in regimes}, params, seeds, **kw))
    else:
        for regime in regimes:
            t0 = time.perf_counter()
            rows += run(regime)
            per_regime[regime] = time.perf_counter() - t0
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    expected = len(regimes) * spec["classrooms"] * spec["students"]
    if rows != expected:
        raise RuntimeError(f"expected {expected} student rows, got {rows}")
    classroom_years = len(regimes) * spec["classrooms"]
    sdd = classroom_years * spec["students"] * params.n_domains * spec["days"]
    return {
        **spec,
        "wall_s": wall,
        "cpu_s": cpu,
        "warmup_s": warm,
        "per_regime_s": per_regime,
        "s_per_classroom_year": wall / classroom_years,
        "student_domain_days_per_s": sdd / wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(label: str, core: int | None, **spec) -> dict:
    """Run one measurement in a fresh subprocess and return its result."""
    spec = {"label": label, "core": core, "master": 2026, "chunk_size": 256, **spec}
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"  {label:<34} {result['wall_s']:8.2f} s wall {result['cpu_s']:8.2f} s cpu "
        f"{result['s_per_classroom_year']:10.5f} s/classroom-year "
        f"{result['student_domain_days_per_s']:12.3g} sdd/s "
        f"{result['peak_rss_mb']:7.0f} MB",
        flush=True,
    )
    return result


# ---------------------------------------------------------------------------------------------
# parent
# ---------------------------------------------------------------------------------------------
def machine() -> str:
    """Return a short description of the machine and the versions."""
    import numpy

    try:
        import numba

        nb = numba.__version__
    except ImportError:
        nb = "not installed"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        cpu = [
            line.split(":", 1)[1].strip()
            for line in lscpu.splitlines()
            if line.startswith(("Model name", "CPU(s):"))
        ]
    except (OSError, subprocess.CalledProcessError):
        cpu = [platform.processor()]
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return (
        f"CPU {' / '.join(cpu)}; Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"numba {nb}; load average at start {load[0]:.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--core", type=int, default=(os.cpu_count() or 1) - 1, help="CPU to pin to")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return

    q = args.quick
    core = args.core
    regimes = list(REGIMES)
    print(machine())
    print(f"one core (cpu {core}); every line is its own subprocess\n")

    print("1. Mesa and the engine on the same classrooms (25 students x 180 days, 4 regimes)")
    n_mesa = 1 if q else 2
    same = {"students": 25, "days": 180, "regimes": regimes}
    mesa = measure("mesa", core, impl="mesa", classrooms=n_mesa, **same)
    small = measure("engine numba, same classrooms", core, impl="numba", classrooms=n_mesa, **same)
    n_np, n_nb = (25, 100) if q else (100, 1000)
    numpy_k = measure("engine numpy kernel", core, impl="numpy", classrooms=n_np, **same)
    big = measure("engine numba", core, impl="numba", classrooms=n_nb, **same)
    ratio = mesa["s_per_classroom_year"] / big["s_per_classroom_year"]
    ratio_same = mesa["s_per_classroom_year"] / small["s_per_classroom_year"]
    ratio_np = mesa["s_per_classroom_year"] / numpy_k["s_per_classroom_year"]
    print(
        f"  ratio Mesa / engine per classroom-year: {ratio:.0f}x (numba, {n_nb:,} per call),"
        f" {ratio_same:.0f}x (numba, the same {n_mesa} classrooms per call),"
        f" {ratio_np:.0f}x (numpy kernel)\n"
    )

    n_cls = 100 if q else 1000
    print(f"2. four regimes x {n_cls:,} classrooms x 30 students x 180 days")
    four = {"classrooms": n_cls, "students": 30, "days": 180, "regimes": regimes}
    t2 = measure("simulate_arms, one call", core, impl="numba", together=True, **four)
    t2_alone = measure("simulate_batch, one call per regime", core, impl="numba", **four)
    print(
        f"  total {t2['wall_s']:.2f} s with the four arms in one call (randomness drawn once), "
        f"{t2_alone['wall_s']:.2f} s one regime at a time (target < 10 s for 1,000 classrooms)\n"
    )

    n_big = 1000 if q else 10_000
    print(f"3. {n_big:,} classrooms in one call (30 students x 180 days, personal)")
    one = {"students": 30, "days": 180, "regimes": ["personal"], "classrooms": n_big}
    m256 = measure("chunk_size=256 (default)", core, impl="numba", **one)
    mall = measure(f"chunk_size={n_big} (one chunk)", core, impl="numba", chunk_size=n_big, **one)
    print(
        f"  peak memory {m256['peak_rss_mb']:.0f} MB (default chunks), "
        f"{mall['peak_rss_mb']:.0f} MB (one chunk); target < 2,048 MB\n"
    )

    print("summary")
    print(f"  Mesa s/classroom-year (25 x 180):   {mesa['s_per_classroom_year']:.3f}")
    print(f"  engine s/classroom-year (25 x 180): {big['s_per_classroom_year']:.5f}")
    print(f"  ratio:                              {ratio:.0f}x (target >= 200x)")
    print(
        f"  4 x {n_cls} x 30 x 180 total:        {t2['wall_s']:.2f} s in one call, "
        f"{t2_alone['wall_s']:.2f} s per regime (target < 10 s)"
    )
    print(f"  {n_big} classrooms peak memory:     {m256['peak_rss_mb']:.0f} MB (target < 2 GB)")


if __name__ == "__main__":
    main()
