"""End-to-end benchmarks (issue 20): a study as a user runs it, a large analysis, the headline.

Three benchmarks, each one command::

    .venv/bin/python benchmarks/bench_end_to_end.py whole     # 8,000 classroom-years: 1 vs 2
    .venv/bin/python benchmarks/bench_end_to_end.py analysis  # analysis of 10^6 classroom-years
    .venv/bin/python benchmarks/bench_end_to_end.py headline  # ./run.sh headline, end to end
    .venv/bin/python benchmarks/bench_end_to_end.py start     # a cluster's start: spawn/fork

- ``whole``: the study of ``bench_study.py dask`` (4 regimes x 2,000 classrooms x 21 students x
  180 days, units of 50, the default decomposition of 60 classrooms, PNG figures) written to a
  study file and run as a user runs it, ``python -m toolkit run FILE --out DIR --overwrite
  --no-progress`` (the estimate, the units, the analysis, the decomposition and the figures,
  and the interpreter's start), serially and with ``--workers 2``, in ``--rounds`` interleaved
  rounds; wall seconds per round, the ratio serial / workers per round and the medians.
- ``analysis``: :func:`toolkit.study.analysis.analyse_run` alone on ``--classroom-years``
  (default 10^6) of parts made by replicating one simulated unit's parts as further classrooms
  (as ``bench_study.py analysis``: 5,000 parts of 50 classrooms x 4 regimes x 21 students,
  ``keep = "classrooms"``), with the decomposition and figures of that study; once with its
  tasks in the client process alone (a serial run's analysis) and once on a local cluster of
  ``--workers`` (a Dask run's analysis, where the run's workers do the tasks). Each in its own
  process: wall seconds and the client's peak resident memory (and the largest worker's).
- ``headline``: ``python -m toolkit run simulations/headline.toml`` into a temporary folder,
  ``--rounds`` times; wall seconds per round and the median (the kernels compiled beforehand).

Every line prints the load average: on a shared machine the times measure the neighbours too.
``--json FILE`` writes the results.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

WHOLE_STUDY = """
[study]
name = "bench-whole"
seed = 2026
classrooms = {classrooms}
chunk_size = 50
[arms]
standardized = "standardized"
individualized = "individualized"
personalized = "personalized"
personal = "personal"
[parameters]
n_students = 21
n_days = 180
[output]
formats = ["png"]
"""


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


#: CPU seconds (user and system) of the last :func:`_run_cli`, its worker processes included.
LAST_CPU = [0.0]


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _tree_cpu(proc: Any, seen: dict[int, float]) -> None:
    """Record the CPU seconds so far of ``proc`` and of every process below it, by pid."""
    import psutil

    try:
        family = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return
    for p in family:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        seen[p.pid] = t.user + t.system


def _steal_seconds() -> float | None:
    """CPU time the hypervisor gave other guests, summed over this machine's CPUs, so far.

    The ``steal`` column of ``/proc/stat``'s ``cpu`` line (Linux; in clock ticks); None where
    there is none. On a virtual machine it says how much of the cores a run was promised went
    to the neighbours instead: the same run is then slower in wall time and, with caches
    and memory shared, in its own CPU seconds too.
    """
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _run_cli(args: list[str]) -> float:
    """Wall seconds of ``python -m toolkit ARGS`` (a fresh interpreter, as a user runs it).

    Its CPU seconds (with its workers') go to :data:`LAST_CPU`: on a busy machine, where the
    wall time measures the neighbours, they say what the run itself cost. Workers forked by a
    fork server are not the run's children for ``getrusage`` (the server reaps them), so the
    process tree is sampled every 50 ms instead, for every method alike: each process's last
    sample counts (what a process spends in its last 50 ms before it exits is missed).
    """
    import psutil

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    seen: dict[int, float] = {}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        _tree_cpu(ps, seen)
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, args)
    LAST_CPU[0] = sum(seen.values())
    return wall


def bench_whole(args: argparse.Namespace) -> dict:
    """The study as a user runs it, serially and with ``--workers``, in interleaved rounds."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-whole-"))
    study = tmp / "study.toml"
    study.write_text(WHOLE_STUDY.format(classrooms=args.classrooms))
    cy = 4 * args.classrooms
    print(f"whole study: {cy:,} classroom-years, `python -m toolkit run` serial vs --workers")
    _run_cli(["run", str(study), "--out", str(tmp / "warm"), "--no-progress"])  # kernels, cache
    rounds = []
    for r in range(1, args.rounds + 1):
        load = _load()
        base = ["run", str(study), "--overwrite", "--no-progress", "--out"]
        serial = _run_cli([*base, str(tmp / "serial")])
        serial_cpu = LAST_CPU[0]
        workers = _run_cli([*base, str(tmp / "workers"), "--workers", str(args.workers)])
        rounds.append(
            {
                "round": r,
                "load": load,
                "serial_s": serial,
                "workers_s": workers,
                "serial_cpu_s": serial_cpu,
                "workers_cpu_s": LAST_CPU[0],
            }
        )
        print(
            f"  round {r} (load {load}): serial {serial:6.2f} s ({serial_cpu:.1f} CPU-s), "
            f"{args.workers} workers {workers:6.2f} s ({LAST_CPU[0]:.1f} CPU-s, all processes): "
            f"{serial / workers:.2f}x",
            flush=True,
        )
    same = all(
        (tmp / "serial" / n).read_bytes() == (tmp / "workers" / n).read_bytes()
        for n in ("classrooms.csv", "summary.csv", "tails.csv", "decomposition.csv")
    )
    med_s = statistics.median(r["serial_s"] for r in rounds)
    med_w = statistics.median(r["workers_s"] for r in rounds)
    ratios = [r["serial_s"] / r["workers_s"] for r in rounds]
    print(
        f"  medians: serial {med_s:.2f} s, {args.workers} workers {med_w:.2f} s; ratio "
        f"{statistics.median(ratios):.2f}x (rounds {min(ratios):.2f} to {max(ratios):.2f}x); "
        f"the tables of the two runs are the same bytes: {same} (load now {_load()})"
    )
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "classroom_years": cy,
        "workers": args.workers,
        "rounds": rounds,
        "serial_s": med_s,
        "workers_s": med_w,
        "speedup": statistics.median(ratios),
        "same_tables": same,
    }


def _process_usage(pid: int) -> tuple[float, float]:
    """CPU seconds and peak resident MB of another process of this machine (psutil, /proc)."""
    import psutil

    proc = psutil.Process(pid)
    times = proc.cpu_times()
    peak = 0.0
    with contextlib.suppress(OSError):  # Linux: the high-water mark of the resident set
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return times.user + times.system, peak or proc.memory_info().rss / 2**20


def _analysis_child(cfg_json: str) -> dict:
    """Make (or reuse) the replicated parts, then analyse them: serial or on local workers."""
    import pandas as pd
    from bench_study import REGIMES, no_analysis, study

    from toolkit.study.analysis import analyse_run, analysis_columns
    from toolkit.study.runner import RunResult, run_study

    cfg = json.loads(cfg_json)
    root = Path(cfg["folder"])
    chunk = cfg["chunk_size"]
    n_units = -(-cfg["classroom_years"] // (chunk * len(REGIMES)))
    parts = root / "big" / "parts"
    made = 0.0
    if not (root / "big" / "complete").is_file():
        seed = study(chunk, chunk=chunk)
        run_study(seed, root / "seed", progress=False, analyse=no_analysis)
        students = pd.read_parquet(root / "seed" / "students.parquet" / "p000-c000000.parquet")
        students = students[analysis_columns(students.columns)]
        rooms = pd.read_parquet(root / "seed" / "parts" / "p000-c000000.classrooms.parquet")
        parts.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        for u in range(n_units):  # the same classrooms again and again, as further classrooms
            uid = f"p000-c{chunk * u:06d}"
            shift = {"replicate": students["replicate"] + chunk * u}
            students.assign(**shift).to_parquet(parts / f"{uid}.students.parquet", index=False)
            shift = {"replicate": rooms["replicate"] + chunk * u}
            rooms.assign(**shift).to_parquet(parts / f"{uid}.classrooms.parquet", index=False)
        made = time.perf_counter() - t0
        (root / "big" / "complete").write_text("")
    spec = study(chunk * n_units, chunk=chunk, keep="classrooms")
    ids = [f"p000-c{chunk * u:06d}" for u in range(n_units)]
    result = RunResult(root / "big", {}, units=ids, arms=list(REGIMES), keep="classrooms")
    scale = 1 if sys.platform == "darwin" else 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20
    local = None
    t_start = 0.0
    if cfg["workers"] > 1:  # a run's own local worker processes, as `--workers N` starts them
        from toolkit.study.executor import _LocalExecutor

        t0 = time.perf_counter()
        local = _LocalExecutor(cfg["workers"])
        t_start = time.perf_counter() - t0
        result.pool = local.analysis_pool(True)
    c0 = _cpu(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    analyse_run(result, spec)
    seconds = time.perf_counter() - t0
    client_cpu = _cpu(resource.RUSAGE_SELF) - c0
    workers_cpu, worker_peak = 0.0, 0.0
    if local is not None:
        # read from /proc: forked by the fork server, they are not this process's children
        own = [_process_usage(p.pid) for p in local.pool._processes.values()]
        workers_cpu = sum(cpu for cpu, _ in own)
        worker_peak = max(peak for _, peak in own)
        local.close()
    return {
        **cfg,
        "units": n_units,
        "classroom_years": n_units * chunk * len(REGIMES),
        "write_parts_s": made,
        "cluster_start_s": t_start,
        "analysis_s": seconds,
        "client_cpu_s": client_cpu,
        "workers_cpu_s": workers_cpu,  # since each worker started (its imports if spawned)
        "peak_before_mb": before,
        "client_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20,
        "worker_peak_mb": worker_peak,
        "load_after": _load(),
    }


def bench_analysis(args: argparse.Namespace) -> dict:
    """The analysis of a large run alone: in the client, then on a local cluster."""
    folder = Path(args.folder or tempfile.mkdtemp(prefix="bench-e2e-analysis-"))
    out = {}
    print(
        f"analysis alone: {args.classroom_years:,} classroom-years of replicated parts (units of "
        f"{args.chunk_size} classrooms x 4 regimes, 21 students), decomposition and figures"
    )
    for workers in (1, args.workers):
        cfg = {
            "classroom_years": args.classroom_years,
            "chunk_size": args.chunk_size,
            "folder": str(folder),
            "workers": workers,
        }
        load = _load()
        proc = subprocess.run(
            [sys.executable, __file__, "analysis-child", json.dumps(cfg)],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        where = "client alone" if workers == 1 else f"{workers} workers"
        print(
            f"  {where:<13} (load {load}): analysis {res['analysis_s']:.1f} s (CPU-s: client "
            f"{res['client_cpu_s']:.1f}, workers {res['workers_cpu_s']:.1f}); client peak "
            f"{res['client_peak_mb']:.0f} MB ({res['peak_before_mb']:.0f} MB before), largest "
            f"worker {res['worker_peak_mb']:.0f} MB"
            + (f"; cluster start {res['cluster_start_s']:.1f} s" if workers > 1 else ""),
            flush=True,
        )
        out[where] = res
    if not args.folder:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def bench_headline(args: argparse.Namespace) -> dict:
    """The headline as ``./run.sh headline`` runs it, and in one process, ``--rounds`` times.

    ``./run.sh headline`` gives ``--workers`` the machine's cores, up to 4; the rounds
    alternate that run with one of ``--workers 1`` (the same bytes, in one process).
    """
    tmp = Path(tempfile.mkdtemp(prefix="bench-headline-"))
    workers = min(os.cpu_count() or 1, 4)
    run = ["run", "simulations/headline.toml", "--overwrite", "--no-progress", "--out"]
    _run_cli([*run, str(tmp / "warm")])  # compile (or load) the kernels once, untimed
    times: list[float] = []
    cpu: list[float] = []
    serial: list[float] = []
    serial_cpu: list[float] = []
    steal: list[float | None] = []
    for r in range(1, args.rounds + 1):
        load = _load()
        before = _steal_seconds()
        times.append(_run_cli([*run, str(tmp / "h"), "--workers", str(workers)]))
        after = _steal_seconds()
        cpu.append(LAST_CPU[0])
        steal.append(None if before is None or after is None else after - before)
        serial.append(_run_cli([*run, str(tmp / "s"), "--workers", "1"]))
        serial_cpu.append(LAST_CPU[0])
        stolen = "" if steal[-1] is None else f", {steal[-1]:.1f} s stolen"
        print(
            f"  round {r} (load {load}): ./run.sh headline (--workers {workers}) "
            f"{times[-1]:.2f} s ({cpu[-1]:.1f} CPU-s, all processes{stolen}); --workers 1 "
            f"{serial[-1]:.2f} s ({serial_cpu[-1]:.1f} CPU-s)",
            flush=True,
        )
    med = statistics.median(times)
    print(
        f"  headline, median of {args.rounds}: {med:.2f} s with --workers {workers} "
        f"({statistics.median(cpu):.1f} CPU-s), {statistics.median(serial):.2f} s with "
        f"--workers 1 (load now {_load()})"
    )
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "workers": workers,
        "rounds": times,
        "cpu_s": cpu,
        "steal_s": steal,  # during each --workers run (Linux's /proc/stat; None elsewhere)
        "median_s": med,
        "serial_rounds": serial,
        "serial_cpu_s": serial_cpu,
        "serial_median_s": statistics.median(serial),
    }


def _start_child(method: str) -> dict:
    """Start a run's 2 local workers with ``method``; each runs one tiny unit."""
    from bench_study import study

    import toolkit.study.executor as ex
    from toolkit.study.units import _units, run_unit

    spec = study(4, days=5, chunk=2)
    unit = _units(spec)[0]
    t0 = time.perf_counter()
    local = ex._LocalExecutor(2, method=method)
    try:
        started = time.perf_counter() - t0
        args = (spec.seed, "fast", 1, "standardized", "students")
        for f in [local.pool.submit(run_unit, unit, *args) for _ in range(2)]:
            f.result()
        cpu = sorted(_process_usage(p.pid)[0] for p in local.pool._processes.values())
    finally:
        local.close()
    return {"method": method, "start_s": started, "worker_cpu_s": cpu}


def bench_start(args: argparse.Namespace) -> dict:
    """Local workers' start: spawned workers against workers forked from the fork server."""
    out = []
    for r in range(1, args.rounds + 1):
        for method in ("spawn", "forkserver"):
            proc = subprocess.run(
                [sys.executable, __file__, "start-child", method],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            print(
                f"  round {r} (load {_load()}): {method:<10} start {res['start_s']:.2f} s, each "
                f"worker's CPU after its first unit: "
                + ", ".join(f"{c:.2f}" for c in res["worker_cpu_s"]),
                flush=True,
            )
            out.append(res)
    return {"rounds": out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="also write the results to this JSON file")
    sub = ap.add_subparsers(dest="bench", required=True)
    w = sub.add_parser("whole", help="a study as a user runs it, serial vs --workers")
    w.add_argument("--classrooms", type=int, default=2000, help="classrooms per arm (2000)")
    w.add_argument("--workers", type=int, default=2)
    w.add_argument("--rounds", type=int, default=3)
    a = sub.add_parser("analysis", help="the analysis of a large run alone")
    a.add_argument("--classroom-years", type=int, default=1_000_000)
    a.add_argument("--chunk-size", type=int, default=50)
    a.add_argument("--workers", type=int, default=2)
    a.add_argument("--folder", help="scratch folder, kept (default a temporary one, removed)")
    h = sub.add_parser("headline", help="./run.sh headline end to end")
    h.add_argument("--rounds", type=int, default=3)
    st = sub.add_parser("start", help="a local cluster's start: spawn vs fork server")
    st.add_argument("--rounds", type=int, default=2)
    sub.add_parser("analysis-child").add_argument("config")
    sub.add_parser("start-child").add_argument("method")
    args = ap.parse_args()
    if args.bench == "analysis-child":
        print(json.dumps(_analysis_child(args.config)))
        return
    if args.bench == "start-child":
        print(json.dumps(_start_child(args.method)))
        return
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')}; load average {_load()}; {sys.version.split()[0]}")
    benches = {
        "whole": bench_whole,
        "analysis": bench_analysis,
        "headline": bench_headline,
        "start": bench_start,
    }
    res = benches[args.bench](args)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
