"""Benchmark the Mesa model against the vectorized engine's kernels, side by side, in one run.

Usage::

    .venv/bin/python benchmarks/bench_engine.py            # the full run (about 10 minutes)
    .venv/bin/python benchmarks/bench_engine.py --quick    # a smaller smoke run

Every measurement runs in its own subprocess pinned to one core (``--core``, default the last
one), so that its peak memory (``ru_maxrss``: the whole Python process, interpreter and imports
included) is its own and the numba kernels' compilation (or cache load) is done in an untimed
warm-up call first. Printed per measurement: wall seconds, CPU seconds, seconds per
classroom-year, throughput in student-domain-days per second, peak memory and the load average.

1. Mesa against the engine per classroom-year on default parameters (21 students, 180 days,
   the four regime presets), with the ``"exact"`` and the ``"fast"`` kernel, as a study runs
   them (``simulate_arms``: the four arms on the same classrooms, randomness drawn once) and
   one regime per call (``simulate_batch``). The machine may be shared, so the measurements
   are interleaved in rounds (Mesa, then each engine variant) and the ratio is taken within
   each round; the median and range over rounds are printed (target: 1,000 times).
2. Four regimes x 1,000 classrooms x 30 students x 180 days, each kernel, with
   ``simulate_arms`` and one regime per call.
3. 10,000 classrooms in one call (peak memory, default chunks and one chunk), each kernel.

Benchmarks are scripts, never timed tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
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

    params = Parameters(**spec.get("params", {}))
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
        simulate_arms({r: r for r in regimes}, params.replace(n_days=2), seeds[:2], **kw)
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
    expected = len(regimes) * spec["classrooms"] * params.n_students
    if rows != expected:
        raise RuntimeError(f"expected {expected} student rows, got {rows}")
    classroom_years = len(regimes) * spec["classrooms"]
    sdd = classroom_years * params.n_students * params.n_domains * params.n_days
    return {
        **spec,
        "wall_s": wall,
        "cpu_s": cpu,
        "warmup_s": warm,
        "per_regime_s": per_regime,
        "s_per_classroom_year": wall / classroom_years,
        "cpu_s_per_classroom_year": cpu / classroom_years,
        "student_domain_days_per_s": sdd / wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
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
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"  {label:<40} {r['wall_s']:8.2f} s wall {r['cpu_s']:8.2f} s cpu "
        f"{r['s_per_classroom_year']:10.6f} s/classroom-year "
        f"{r['student_domain_days_per_s']:10.3g} sdd/s {r['peak_rss_mb']:6.0f} MB "
        f"load {r['load']:.1f}",
        flush=True,
    )
    return r


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


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}x (range {min(values):.0f}-{max(values):.0f}x)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--core", type=int, default=(os.cpu_count() or 1) - 1, help="CPU to pin to")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds in part 1")
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

    # 1. ---------------------------------------------------------------------------------------
    rounds = args.rounds or (2 if q else 5)
    n_mesa = 1 if q else 2
    n_engine = 25 if q else 250
    print(
        f"1. Mesa and the engine per classroom-year, default parameters (21 students x 180 days,"
        f" 4 regimes), {rounds} interleaved rounds: Mesa {n_mesa} classroom(s) per regime, the"
        f" engine {n_engine} per call"
    )
    same = {"regimes": regimes}
    variants = [
        ("exact", True, "engine exact, simulate_arms"),
        ("fast", True, "engine fast, simulate_arms"),
        ("exact", False, "engine exact, one regime per call"),
        ("fast", False, "engine fast, one regime per call"),
    ]
    ratios: dict[str, list[float]] = {v[2]: [] for v in variants}
    cpu_ratios: dict[str, list[float]] = {v[2]: [] for v in variants}
    per_cy: dict[str, list[float]] = {"mesa": [], **{v[2]: [] for v in variants}}
    for k in range(rounds):
        print(f" round {k + 1}")
        mesa = measure("mesa", core, impl="mesa", classrooms=n_mesa, **same)
        per_cy["mesa"].append(mesa["s_per_classroom_year"])
        for kernel, together, label in variants:
            r = measure(label, core, impl=kernel, classrooms=n_engine, together=together, **same)
            per_cy[label].append(r["s_per_classroom_year"])
            ratios[label].append(mesa["s_per_classroom_year"] / r["s_per_classroom_year"])
            cpu_ratios[label].append(
                mesa["cpu_s_per_classroom_year"] / r["cpu_s_per_classroom_year"]
            )
    print("  ratio Mesa / engine per classroom-year, within each round (wall; CPU):")
    for label in ratios:
        print(f"    {label:<36} {_spread(ratios[label])}; CPU {_spread(cpu_ratios[label])}")
    print()

    # 2. ---------------------------------------------------------------------------------------
    n_cls = 100 if q else 1000
    print(f"2. four regimes x {n_cls:,} classrooms x 30 students x 180 days")
    four = {"classrooms": n_cls, "params": {"n_students": 30}, "regimes": regimes}
    t2 = {}
    for kernel in ("exact", "fast"):
        t2[kernel, True] = measure(
            f"{kernel}, simulate_arms", core, impl=kernel, together=True, **four
        )
        t2[kernel, False] = measure(f"{kernel}, one regime per call", core, impl=kernel, **four)
    print()

    # 3. ---------------------------------------------------------------------------------------
    n_big = 1000 if q else 10_000
    print(f"3. {n_big:,} classrooms in one call (30 students x 180 days, personal)")
    one = {"params": {"n_students": 30}, "regimes": ["personal"], "classrooms": n_big}
    t3 = {}
    for kernel in ("exact", "fast"):
        t3[kernel, 256] = measure(f"{kernel}, chunk_size=256 (default)", core, impl=kernel, **one)
        t3[kernel, n_big] = measure(
            f"{kernel}, chunk_size={n_big} (one chunk)", core, impl=kernel, chunk_size=n_big, **one
        )
    print()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"summary (load average at the end {load:.2f})")
    med = {k: statistics.median(v) for k, v in per_cy.items()}
    print(f"  Mesa s/classroom-year (21 x 180):         {med['mesa']:.3f} (median of rounds)")
    for label in ratios:
        print(
            f"  {label:<40} {med[label] * 1e3:.3f} ms/classroom-year,"
            f" ratio {_spread(ratios[label])}"
        )
    for kernel in ("exact", "fast"):
        print(
            f"  4 x {n_cls} x 30 x 180, {kernel}:"
            f"  {t2[kernel, True]['wall_s']:.2f} s simulate_arms,"
            f" {t2[kernel, False]['wall_s']:.2f} s one regime per call"
        )
    for kernel in ("exact", "fast"):
        print(
            f"  {n_big} classrooms, {kernel}: peak {t3[kernel, 256]['peak_rss_mb']:.0f} MB"
            f" (chunks of 256), {t3[kernel, n_big]['peak_rss_mb']:.0f} MB (one chunk); "
            f"{t3[kernel, 256]['wall_s']:.1f} s"
        )


if __name__ == "__main__":
    main()
