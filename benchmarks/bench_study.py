"""Benchmark studies at scale: Dask workers against serial, streaming, and how time grows.

Three benchmarks, each one command with its sizes as options::

    .venv/bin/python benchmarks/bench_study.py dask     # 2 Dask workers vs serial; per-unit cost
    .venv/bin/python benchmarks/bench_study.py stream   # 10^6 classroom-years: time, memory
    .venv/bin/python benchmarks/bench_study.py analysis # its streamed analysis alone: memory
    .venv/bin/python benchmarks/bench_study.py scaling  # time vs students, domains, days, classes

``--help`` on each lists its options; ``--quick`` runs small sizes (a smoke run, seconds to a
minute). Every measurement that reports memory runs in its own subprocess, so that its peak
resident memory (``ru_maxrss``) is its own; the workers of a local cluster are that
subprocess's children, and their peak is read from ``RUSAGE_CHILDREN`` after they exit (the
largest worker's). Results are printed and, with ``--json FILE``, written as JSON.

What the numbers mean:

- ``dask``: the same study (four regimes, default parameters) run serially in one process and
  on a local Dask cluster of ``--workers`` processes, in ``--rounds`` interleaved rounds. Each
  round times the *units* phase (simulation and every classroom's metrics, which is what the
  workers do, and writing the parts) serially, then on the cluster (started and warmed
  beforehand, its workers writing the parts), then the machine's *ceiling*: the same units,
  nothing written, run by one plain process and by ``--workers`` plain processes
  (``ProcessPoolExecutor``, no Dask, all warmed first). Per-round ratios, their medians and
  the load averages are reported; the Dask ratio is to be read against the ceiling, which is
  what the cores give that many processes at that moment. The *whole study* as a user runs it
  (``--workers 2``, cluster start-up and the client's streamed analysis and figures included)
  is timed once. The scheduling overhead per work unit is measured on a study of many tiny
  units: a warm one-worker cluster against serial, divided by the number of units.
- ``stream``: a study of ``--classroom-years`` (default 10^6) run with ``--workers`` local
  workers: wall time, the client's peak memory (the process that runs the study and streams
  the analysis) and the largest worker's, and the run folder's size.
- ``analysis``: the client's streamed analysis alone (:func:`toolkit.study.analysis.analyse_run`)
  on ``--classroom-years`` of parts made by replicating one simulated unit's parts as further
  classrooms (minutes instead of the simulation's hours): its time and the client's peak
  memory, which is what the 2 GB target is about.
- ``scaling``: one work unit (every arm of ``--classrooms`` classrooms) timed while one of
  students per class, domains, days and classrooms is multiplied, the others at their base;
  simulation and classroom metrics separately. Writes ``benchmarks/scaling.png`` (log-log, with
  slopes) and ``benchmarks/scaling.csv`` (``--quick``: in a temporary folder, printed).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGIMES = ("standardized", "individualized", "personalized", "personal")
EXTRA_DOMAINS = tuple(f"domain{i}" for i in range(5, 65))


def machine() -> str:
    """Return a short description of the machine, the versions and the load."""
    import numpy

    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        cpu = [
            line.split(":", 1)[1].strip()
            for line in lscpu.splitlines()
            if line.startswith(("Model name", "CPU(s):"))
        ]
    except (OSError, subprocess.CalledProcessError):
        cpu = [platform.processor()]
    import dask

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),)
    return (
        f"CPU {' / '.join(cpu)}; Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"dask {dask.__version__}; load average {load[0]:.2f}"
    )


def study(classrooms: int, *, students: int = 21, days: int = 180, chunk: int = 50, **study_kw):
    """A study of the four regimes on ``classrooms`` classrooms (parameters as given)."""
    from toolkit.study import parse_study

    return parse_study(
        {
            "study": {
                "name": "bench",
                "seed": 2026,
                "classrooms": classrooms,
                "chunk_size": chunk,
                **study_kw,
            },
            "arms": {r: r for r in REGIMES},
            "parameters": {"n_students": students, "n_days": days},
            "output": {"formats": ["png"]},
        },
        source="bench",
    )


def no_analysis(result, spec):
    """An ``analyse`` that does nothing: time the units phase alone."""
    return result


def timed_run(spec, folder: Path, **kw) -> float:
    """Run ``spec`` into a fresh ``folder`` and return the wall seconds."""
    from toolkit.study import run_study

    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    run_study(spec, folder, progress=False, **kw)
    return time.perf_counter() - t0


def _warm_worker() -> None:
    """Import the engine and load (or compile) the kernels in this process."""
    from toolkit.study.runner import _units, run_unit

    spec = study(2, days=2, chunk=1)
    for kernel in ("fast", "exact"):
        unit = dict(_units(spec)[0], kernel=kernel)
        run_unit(unit, spec.seed, "fast", 1, "standardized", "students")


def warm_cluster(address: str) -> None:
    """Warm every worker of the cluster at ``address`` (a unit's first run loads the kernel)."""
    from distributed import Client

    with Client(address) as client:
        client.run(_warm_worker)


def run_child(kind: str, cfg: dict) -> dict:
    """Run this script's ``kind`` child (``stream-child``, ``analysis-child``) on ``cfg``, in a
    fresh process (its peak memory is its own), and return the JSON on its last line."""
    out = subprocess.run(
        [sys.executable, __file__, kind, json.dumps(cfg)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _local_cluster(n: int):
    """A local cluster as the runner starts one (loopback, no dashboard, its configuration:
    no worker profiler, the event loops' health checked every second)."""
    from toolkit.study.runner import local_cluster

    return local_cluster(n)


# ---------------------------------------------------------------------------------------------
# dask: workers against serial, and the machine's own ceiling
# ---------------------------------------------------------------------------------------------
def _cpu_seconds() -> float:
    """CPU seconds (user and system, every thread) of this process so far."""
    return time.process_time()


def _plain_unit(unit: dict, args: tuple) -> int:
    """Run one unit as a worker does and discard it (no Dask, nothing written)."""
    from toolkit.study.runner import run_unit

    return len(run_unit(unit, *args)[1])


def _cpus() -> list[int]:
    """The CPUs this process may run on (something outside may pin it to fewer)."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def _pid_after_a_pause() -> tuple[int, list[int]]:
    time.sleep(0.5)  # busy long enough for every process of the pool to take one
    return os.getpid(), _cpus()


def _pool_cpus(pool, n: int) -> list[list[int]]:
    """The CPUs each of the ``n`` processes of ``pool`` may run on."""
    seen: dict[int, list[int]] = {}
    for _ in range(20):
        seen |= dict(f.result() for f in [pool.submit(_pid_after_a_pause) for _ in range(n)])
        if len(seen) == n:
            break
    return list(seen.values())


def _plain_pool(n: int):
    """``n`` plain processes (spawned, so no Dask thread is forked), each warmed first."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(n, mp_context=ctx, initializer=_warm_worker)
    if len(_pool_cpus(pool, n)) == n:  # each warms (its initializer) before it takes a task
        return pool
    pool.shutdown()
    raise RuntimeError(f"could not start {n} warm processes")


def _plain_units(pool, units: list, args: tuple) -> float:
    """Wall seconds for ``pool`` to run every unit."""
    t0 = time.perf_counter()
    for f in [pool.submit(_plain_unit, u, args) for u in units]:
        f.result()
    return time.perf_counter() - t0


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []


def bench_dask(args: argparse.Namespace) -> dict:
    """Time serial against ``--workers`` Dask workers on the same study, in interleaved rounds.

    Each round times, one after the other: the units phase serially, the units phase on the
    warm cluster, and the machine's ceiling: the same units run (nothing written) by one
    plain process and by ``--workers`` plain processes (``ProcessPoolExecutor``, no Dask),
    both warmed first. The ceiling's ratio is what the machine allows for that many processes
    at that moment; the Dask ratio is to be read against it.
    """
    from distributed import Client

    from toolkit.study.analysis import analyse_run
    from toolkit.study.runner import RunResult, _units

    tmp = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    spec = study(args.classrooms, students=args.students, days=args.days, chunk=args.chunk_size)
    cy = args.classrooms * len(REGIMES)
    units = _units(spec)
    n_units = len(units)
    unit_args = (spec.seed, spec.engine, spec.years, spec.reference, spec.keep)
    print(
        f"study: 4 regimes x {args.classrooms:,} classrooms x {args.students} students x "
        f"{args.days} days = {cy:,} classroom-years in {n_units} units of {args.chunk_size}; "
        f"{args.rounds} rounds"
    )
    timed_run(study(2, days=5, chunk=1), tmp / "warm", analyse=no_analysis)  # numba, imports

    rounds = []
    one, many = _plain_pool(1), _plain_pool(args.workers)
    try:
        with _local_cluster(args.workers) as cluster, Client(cluster.scheduler_address) as c:
            address = cluster.scheduler_address
            warm_cluster(address)
            for r in range(1, args.rounds + 1):
                load_before = _load()
                serial = timed_run(spec, tmp / "serial", analyse=no_analysis)
                w0, c0 = c.run(_cpu_seconds), _cpu_seconds()
                warm = timed_run(spec, tmp / "dask", scheduler=address, analyse=no_analysis)
                client_cpu, w1 = _cpu_seconds() - c0, c.run(_cpu_seconds)
                workers_cpu = sum(w1[k] - w0[k] for k in w0 if k in w1)
                plain_one = _plain_units(one, units, unit_args)
                plain_many = _plain_units(many, units, unit_args)
                cpus = {
                    "client": _cpus(),
                    "workers": list(c.run(_cpus).values()),
                    "plain": _pool_cpus(many, args.workers),
                }
                row = {
                    "round": r,
                    "load_before": load_before,
                    "load_after": _load(),
                    "cpus_allowed": cpus,
                    "serial_units_s": serial,
                    "dask_units_warm_s": warm,
                    "speedup_units": serial / warm,
                    "dask_client_cpu_s": client_cpu,
                    "dask_workers_cpu_s": workers_cpu,
                    "plain_one_process_s": plain_one,
                    "plain_processes_s": plain_many,
                    "ceiling": plain_one / plain_many,
                }
                rounds.append(row)
                print(
                    f"  round {r} (load {load_before[0] if load_before else float('nan'):.2f}):"
                    f" units serial {serial:6.2f} s, {args.workers} workers {warm:6.2f} s: "
                    f"{row['speedup_units']:.2f}x (client {client_cpu:.1f} CPU-s, workers "
                    f"{workers_cpu:.1f}); ceiling, plain processes 1 vs {args.workers}: "
                    f"{plain_one:6.2f} s / {plain_many:6.2f} s = {row['ceiling']:.2f}x",
                    flush=True,
                )
                for who, name in (("workers", "Dask worker"), ("plain", "plain")):
                    allowed = set().union(*map(set, cpus[who]))
                    if allowed and len(allowed) < args.workers:
                        print(
                            f"    warning: the {name} processes may run only on CPU(s) "
                            f"{sorted(allowed)} (pinned from outside): this round's ratios "
                            "measure fewer cores than processes",
                            flush=True,
                        )
    finally:
        one.shutdown()
        many.shutdown()
    med = {k: statistics.median([row[k] for row in rounds]) for k in rounds[0] if k.endswith("_s")}
    median_speedup = statistics.median([row["speedup_units"] for row in rounds])
    median_ceiling = statistics.median([row["ceiling"] for row in rounds])
    print(
        f"  medians of {args.rounds} rounds: serial {med['serial_units_s']:.2f} s "
        f"({med['serial_units_s'] / cy * 1e3:.2f} ms per classroom-year), {args.workers} "
        f"workers {med['dask_units_warm_s']:.2f} s; speed-up {median_speedup:.2f}x against a "
        f"ceiling of {median_ceiling:.2f}x ({median_speedup / median_ceiling:.0%} of it)"
    )

    t0 = time.perf_counter()
    ids = [u["id"] for u in units]
    analyse_run(RunResult(tmp / "serial", units=ids, arms=list(REGIMES)), spec)
    analysis = time.perf_counter() - t0
    print(f"  the streamed analysis and figures:   {analysis:8.2f} s (the client, serial)")

    cold = timed_run(spec, tmp / "cold", workers=args.workers)
    serial_total = med["serial_units_s"] + analysis
    print(
        f"  {args.workers} workers, whole study as a user runs it (cluster start, analysis): "
        f"{cold:.2f} s against {serial_total:.2f} s serial: {serial_total / cold:.2f}x"
    )

    # scheduling overhead per unit: many tiny units, one warm worker against serial
    tiny = study(args.overhead_units, students=5, days=5, chunk=1)
    tiny = dataclasses.replace(tiny, arms={"standardized": "standardized", "personal": "personal"})
    s_tiny = timed_run(tiny, tmp / "tiny-serial", analyse=no_analysis)
    with _local_cluster(1) as cluster:
        warm_cluster(cluster.scheduler_address)
        d_tiny = timed_run(
            tiny, tmp / "tiny-dask", scheduler=cluster.scheduler_address, analyse=no_analysis
        )
    overhead = (d_tiny - s_tiny) / args.overhead_units
    print(
        f"  scheduling overhead per work unit:   {overhead * 1e3:8.2f} ms "
        f"({args.overhead_units} tiny units: {d_tiny:.2f} s on 1 Dask worker, "
        f"{s_tiny:.2f} s serial)"
    )
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "classroom_years": cy,
        "units": n_units,
        "workers": args.workers,
        "rounds": rounds,
        "serial_units_s": med["serial_units_s"],
        "dask_units_warm_s": med["dask_units_warm_s"],
        "speedup_units": median_speedup,
        "ceiling": median_ceiling,
        "speedup_of_ceiling": median_speedup / median_ceiling,
        "analysis_s": analysis,
        "dask_whole_study_s": cold,
        "serial_whole_study_s": serial_total,
        "speedup_whole_study": serial_total / cold,
        "overhead_per_unit_s": overhead,
    }


# ---------------------------------------------------------------------------------------------
# stream: a million classroom-years
# ---------------------------------------------------------------------------------------------
def _stream_child(spec_json: str) -> dict:
    cfg = json.loads(spec_json)
    classrooms = -(-cfg["classroom_years"] // len(REGIMES))
    spec = study(
        classrooms,
        students=cfg["students"],
        days=cfg["days"],
        chunk=cfg["chunk_size"],
        keep=cfg["keep"],
    )
    folder = Path(cfg["folder"])
    wall = timed_run(spec, folder, workers=cfg["workers"])
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    scale = 1 if sys.platform == "darwin" else 1024
    return {
        **cfg,
        "classrooms": classrooms,
        "wall_s": wall,
        "s_per_classroom_year": wall / (classrooms * len(REGIMES)),
        "client_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20,
        "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale / 2**20,
        "folder_mb": size / 2**20,
    }


def bench_stream(args: argparse.Namespace) -> dict:
    """Run a large study in a subprocess: wall time, peak memory of client and workers."""
    folder = Path(args.folder or tempfile.mkdtemp(prefix="bench-stream-")) / "run"
    cfg = {
        "classroom_years": args.classroom_years,
        "students": args.students,
        "days": args.days,
        "chunk_size": args.chunk_size,
        "keep": args.keep,
        "workers": args.workers,
        "folder": str(folder),
    }
    print(
        f"study: {args.classroom_years:,} classroom-years (4 regimes, {args.students} students,"
        f" {args.days} days, units of {args.chunk_size} classrooms), keep = {args.keep!r}, "
        f"{args.workers} workers"
    )
    res = run_child("stream-child", cfg)
    print(
        f"  wall {res['wall_s']:.1f} s ({res['s_per_classroom_year'] * 1e3:.2f} ms per "
        f"classroom-year); client peak {res['client_peak_mb']:.0f} MB, largest worker "
        f"{res['worker_peak_mb']:.0f} MB (target < 2,048 MB); run folder "
        f"{res['folder_mb']:.0f} MB"
    )
    if not args.folder:
        shutil.rmtree(folder.parent, ignore_errors=True)
    return res


# ---------------------------------------------------------------------------------------------
# analysis: the client's streamed analysis alone, on replicated parts
# ---------------------------------------------------------------------------------------------
def _analysis_child(cfg_json: str) -> dict:
    import pandas as pd

    from toolkit.study.analysis import analyse_run, analysis_columns
    from toolkit.study.runner import RunResult, run_study

    cfg = json.loads(cfg_json)
    root = Path(cfg["folder"])
    chunk = cfg["chunk_size"]
    n_units = -(-cfg["classroom_years"] // (chunk * len(REGIMES)))
    seed = study(chunk, chunk=chunk)
    run_study(seed, root / "seed", progress=False, analyse=no_analysis)
    students = pd.read_parquet(root / "seed" / "students.parquet" / "p000-c000000.parquet")
    students = students[analysis_columns(students.columns)]
    rooms = pd.read_parquet(root / "seed" / "parts" / "p000-c000000.classrooms.parquet")
    parts = root / "big" / "parts"
    parts.mkdir(parents=True)
    t0 = time.perf_counter()
    for u in range(n_units):  # the same classrooms again and again, as further classrooms
        uid = f"p000-c{chunk * u:06d}"
        shift = {"replicate": students["replicate"] + chunk * u}
        students.assign(**shift).to_parquet(parts / f"{uid}.students.parquet", index=False)
        shift = {"replicate": rooms["replicate"] + chunk * u}
        rooms.assign(**shift).to_parquet(parts / f"{uid}.classrooms.parquet", index=False)
    made = time.perf_counter() - t0
    spec = study(chunk * n_units, chunk=chunk, keep="classrooms")
    ids = [f"p000-c{chunk * u:06d}" for u in range(n_units)]
    result = RunResult(root / "big", {}, units=ids, arms=list(REGIMES), keep="classrooms")
    scale = 1 if sys.platform == "darwin" else 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20
    t0 = time.perf_counter()
    analyse_run(result, spec)
    return {
        **cfg,
        "units": n_units,
        "classroom_years": n_units * chunk * len(REGIMES),
        "write_parts_s": made,
        "analysis_s": time.perf_counter() - t0,
        "peak_before_mb": before,
        "client_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20,
    }


def bench_analysis(args: argparse.Namespace) -> dict:
    """The streamed analysis of a large run, alone: time and the client's peak memory."""
    folder = Path(args.folder or tempfile.mkdtemp(prefix="bench-analysis-"))
    cfg = {
        "classroom_years": args.classroom_years,
        "chunk_size": args.chunk_size,
        "folder": str(folder),
    }
    print(
        f"analysis alone: {args.classroom_years:,} classroom-years of replicated parts "
        f"(units of {args.chunk_size} classrooms x 4 regimes, 21 students)"
    )
    res = run_child("analysis-child", cfg)
    print(
        f"  {res['units']:,} parts written in {res['write_parts_s']:.0f} s; analysis "
        f"{res['analysis_s']:.1f} s; client peak {res['client_peak_mb']:.0f} MB "
        f"({res['peak_before_mb']:.0f} MB before the analysis; target < 2,048 MB)"
    )
    shutil.rmtree(folder, ignore_errors=True)
    return res


# ---------------------------------------------------------------------------------------------
# scaling: how time grows
# ---------------------------------------------------------------------------------------------
def _unit_times(classrooms: int, students: int, domains: int, days: int, repeat: int):
    """Best-of-``repeat`` seconds of one unit: simulation, and classroom metrics."""
    from toolkit.study.analysis import local_classroom_metrics
    from toolkit.study.runner import _units, simulate_unit

    names = ("mathematics", "reading", "arts", "technology", *EXTRA_DOMAINS)[:domains]
    spec = study(classrooms, students=students, days=days, chunk=classrooms)
    params = dict(spec.parameters, domains=list(names), core_domains=list(names[:2]))
    spec = dataclasses.replace(spec, parameters=params)
    unit = _units(spec)[0]
    sim = ana = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        df = simulate_unit(unit, spec.seed, "fast", 1)
        t1 = time.perf_counter()
        local_classroom_metrics(df, "standardized")
        t2 = time.perf_counter()
        sim, ana = min(sim, t1 - t0), min(ana, t2 - t1)
    return sim, ana


def bench_scaling(args: argparse.Namespace) -> dict:
    """Time one unit while each size grows; write the log-log chart and a CSV."""
    import numpy as np
    import pandas as pd

    if args.core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.core})
    base = {"classrooms": args.classrooms, "students": 21, "domains": 4, "days": 180}
    grids = {
        "students": [int(x) for x in args.students],
        "domains": [int(x) for x in args.domains],
        "days": [int(x) for x in args.days],
        "classrooms": [int(x) for x in args.classroom_counts],
    }
    for d in (2, 4):  # compile the kernel for these numbers of domains, untimed
        _unit_times(2, 5, d, 2, 1)
    rows = []
    for dim, values in grids.items():
        for v in values:
            if dim == "domains" and v not in (2, 4):
                _unit_times(2, 5, v, 2, 1)  # compile for this number of domains
            size = base | {dim: v}
            sim, ana = _unit_times(
                size["classrooms"], size["students"], size["domains"], size["days"], args.repeat
            )
            rows.append(
                {
                    "dimension": dim,
                    "value": v,
                    **size,
                    "simulation_s": sim,
                    "classroom_metrics_s": ana,
                }
            )
            print(
                f"  {dim:<10} {v:>6}: simulation {sim:8.3f} s, classroom metrics {ana:8.3f} s",
                flush=True,
            )
    df = pd.DataFrame(rows)
    slopes = {}
    for dim in grids:
        g = df[df["dimension"] == dim]
        for col in ("simulation_s", "classroom_metrics_s"):
            slopes[f"{dim}/{col}"] = float(np.polyfit(np.log(g["value"]), np.log(g[col]), 1)[0])
    out = Path(args.out)
    _chart(df, slopes, out.with_suffix(".png"))
    df.to_csv(out.with_suffix(".csv"), index=False)
    print("log-log slopes (1 = linear, 2 = quadratic):")
    for k, v in slopes.items():
        print(f"  {k:<40} {v:5.2f}")
    print(f"wrote {out.with_suffix('.png')} and {out.with_suffix('.csv')}")
    return {"rows": rows, "slopes": slopes}


def _chart(df, slopes: dict, path: Path) -> None:
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    dims = list(dict.fromkeys(df["dimension"]))
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), layout="constrained")
    labels = {
        "students": "students per class",
        "domains": "domains",
        "days": "school days",
        "classrooms": "classrooms per work unit",
    }
    for ax, dim in zip(axes.flat, dims, strict=False):
        g = df[df["dimension"] == dim]
        for col, label, color in (
            ("simulation_s", "simulation", "#1b6ca8"),
            ("classroom_metrics_s", "classroom metrics", "#d1495b"),
        ):
            ax.loglog(
                g["value"],
                g[col],
                "o-",
                color=color,
                label=f"{label} (slope {slopes[f'{dim}/{col}']:.2f})",
            )
        x0, y0 = g["value"].iloc[0], g[["simulation_s", "classroom_metrics_s"]].iloc[0].min()
        xs = np.array([g["value"].min(), g["value"].max()], dtype=float)
        ax.loglog(xs, y0 * (xs / x0), ":", color="grey", lw=1, label="slope 1 (linear)")
        ax.loglog(xs, y0 * (xs / x0) ** 2, "--", color="grey", lw=1, label="slope 2 (quadratic)")
        ax.set_xticks(g["value"].to_numpy())
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(labels[dim])
        ax.set_ylabel("seconds per work unit")
        ax.set_title(f"time vs {labels[dim]}", fontsize=10)
        ax.legend(fontsize=7, frameon=False)
    fig.suptitle(
        "One work unit (4 regimes): each size multiplied in turn, the others at their base",
        fontsize=10,
    )
    fig.savefig(path, dpi=150)
    plt.close(fig)


def main() -> None:
    from toolkit.cli import _at_least

    count = _at_least(1, "a count")  # a clear error for 0, a negative number or a word
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="also write the results to this JSON file")
    sub = ap.add_subparsers(dest="bench", required=True)

    d = sub.add_parser("dask", help="Dask workers against serial; overhead per unit")
    d.add_argument("--classrooms", type=count, default=2000, help="classrooms per arm (2000)")
    d.add_argument("--students", type=count, default=21)
    d.add_argument("--days", type=count, default=180)
    d.add_argument("--chunk-size", type=count, default=50)
    d.add_argument("--workers", type=count, default=2)
    d.add_argument("--overhead-units", type=count, default=200, help="tiny units (200)")
    d.add_argument(
        "--rounds", type=count, default=3, help="interleaved rounds of serial, Dask, ceiling (3)"
    )
    d.add_argument(
        "--quick", action="store_true", help="200 classrooms in units of 10, 40 tiny units"
    )

    s = sub.add_parser("stream", help="a large study streamed: wall time and peak memory")
    s.add_argument("--classroom-years", type=count, default=1_000_000)
    s.add_argument("--students", type=count, default=21)
    s.add_argument("--days", type=count, default=180)
    s.add_argument("--chunk-size", type=count, default=250)
    s.add_argument("--keep", choices=["students", "classrooms"], default="students")
    s.add_argument("--workers", type=count, default=2)
    s.add_argument("--folder", help="run folder's parent (default a temporary one, removed)")
    s.add_argument("--quick", action="store_true", help="4,000 classroom-years")

    a = sub.add_parser("analysis", help="the streamed analysis alone, on replicated parts")
    a.add_argument("--classroom-years", type=count, default=1_000_000)
    a.add_argument("--chunk-size", type=count, default=50)
    a.add_argument("--folder", help="scratch folder (default a temporary one, removed)")
    a.add_argument("--quick", action="store_true", help="20,000 classroom-years")

    c = sub.add_parser("scaling", help="time vs students, domains, days, classrooms")
    c.add_argument("--classrooms", type=count, default=50, help="base classrooms per unit (50)")
    c.add_argument("--students", nargs="+", default=[10, 21, 42, 84, 168])
    c.add_argument("--domains", nargs="+", default=[2, 4, 8, 16])
    c.add_argument("--days", nargs="+", default=[45, 90, 180, 360])
    c.add_argument("--classroom-counts", nargs="+", default=[25, 50, 100, 200, 400])
    c.add_argument("--repeat", type=count, default=3, help="best of (3)")
    c.add_argument("--core", type=int, default=None, help="pin to this CPU")
    c.add_argument(
        "--out",
        default=None,
        help="chart and CSV, without suffix "
        "(default benchmarks/scaling; with --quick, a temporary folder)",
    )
    c.add_argument("--quick", action="store_true", help="small grids, one repeat")

    sub.add_parser("stream-child").add_argument("config")
    sub.add_parser("analysis-child").add_argument("config")
    args = ap.parse_args()
    if args.bench in ("stream-child", "analysis-child"):
        child = _stream_child if args.bench == "stream-child" else _analysis_child
        print(json.dumps(child(args.config)))
        return
    if getattr(args, "quick", False):
        if args.bench == "dask":
            args.classrooms, args.chunk_size, args.overhead_units = 200, 10, 40
        elif args.bench == "stream":
            args.classroom_years = 4000
        elif args.bench == "analysis":
            args.classroom_years = 20_000
        else:
            args.classrooms, args.repeat = 10, 1
            args.students, args.domains = [10, 21, 42], [2, 4, 8]
            args.days, args.classroom_counts = [45, 90, 180], [10, 20, 40]
    if args.bench == "scaling" and args.out is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-scaling-")) if args.quick else HERE
        args.out = str(folder / "scaling")
    print(machine())
    benches = {
        "dask": bench_dask,
        "stream": bench_stream,
        "analysis": bench_analysis,
        "scaling": bench_scaling,
    }
    res = benches[args.bench](args)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), **res}, indent=2))


if __name__ == "__main__":
    main()
