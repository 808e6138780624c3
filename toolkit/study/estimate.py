"""What a study will cost before it runs: time, memory and disk, from a short timed sample.

:func:`estimate_study` runs a few classrooms of the study itself on this machine (every arm, at
up to three of its sweep points, the same work a run's units do: the simulation and the
classroom metrics), times them, measures the bytes of their rows in memory, in Parquet and in
CSV, and scales those by the study's size. It is an estimate: the machine's load, other
processes and the model's behaviour at parameter values not sampled change the real figures;
the time is given as a range for that reason. The command line prints it before ``check`` and
``run``; ``run`` refuses a study that would not fit on the disk and asks for ``--yes`` before
one estimated to take more than an hour.

Scaling, per classroom-year (one classroom, one arm, one school year): the time of a work
unit's classroom-years is close to linear in their number for chunks of 8 or more classrooms,
and the sample is taken at the study's own class size, domains, days and arms, so those need
no model. Memory and disk are linear in the rows kept (students x classrooms x arms x years)
with a fixed cost per Parquet file (one per work unit), both measured on the sample.
"""

from __future__ import annotations

import io
import math
import os
import resource
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from toolkit.study.spec import StudySpec

__all__ = ["Estimate", "estimate_study", "free_disk_bytes", "physical_memory_bytes"]

#: Runs estimated to take longer than this many seconds need ``--yes``.
CONFIRM_SECONDS = 3600.0
#: Range around the point estimate of time: the load of a shared machine moves it this much.
TIME_RANGE = (0.7, 1.5)
#: Classrooms per sampled sweep point (units of 8 or more cost about the same per classroom).
SAMPLE_CLASSROOMS = 8
#: Days simulated in the sample of a Mesa study (its time is scaled up to the study's days).
MESA_SAMPLE_DAYS = 10
#: Figures, the decomposition and the small tables: seconds and bytes, about, whatever the
#: study's size (8 figures in PNG and SVG at about 0.6 s each, in one process).
FIXED_ANALYSIS_SECONDS = 6.0
#: Seconds, about, that starting local worker processes adds to a run (the fork server's
#: imports overlap the command line's own).
WORKER_START_SECONDS = 1.0
FIXED_OUTPUT_BYTES = 5 * 2**20


@dataclass(frozen=True)
class Estimate:
    """The estimated cost of running a study (see :func:`estimate_study`).

    Attributes
    ----------
    classroom_years : int
        Classrooms x arms x years x sweep points.
    student_rows : int
    units : int
        Work units (Parquet files per table).
    seconds_per_classroom_year : float
        Measured: simulation and classroom metrics, one process.
    serial_seconds : float
        All units in one process.
    analysis_seconds : float
        The streamed analysis after the units, with the figures, in one process (local
        workers share it).
    workers : int or None
        Worker processes the time is divided over (None: an existing cluster, size unknown).
    seconds : float
        Point estimate of the run's wall time with ``workers``.
    worker_memory_bytes, client_memory_bytes : int
        Peak resident memory of a worker process and of the process that runs the study.
    disk_bytes : int
        What the run folder holds at the end.
    disk_peak_bytes : int
        The most it holds while running (with ``keep = "classrooms"`` the analysis columns of
        the student rows are kept until the run completes).
    free_bytes : int or None
        Free space on the disk of the run folder.
    sample : str
        What was timed.
    memory_bytes : int or None
        This machine's physical memory.
    """

    classroom_years: int
    student_rows: int
    units: int
    seconds_per_classroom_year: float
    serial_seconds: float
    analysis_seconds: float
    workers: int | None
    seconds: float
    worker_memory_bytes: int
    client_memory_bytes: int
    disk_bytes: int
    disk_peak_bytes: int
    free_bytes: int | None
    sample: str
    memory_bytes: int | None = None

    @property
    def seconds_range(self) -> tuple[float, float]:
        """Low and high wall time (:data:`TIME_RANGE` around :attr:`seconds`)."""
        return self.seconds * TIME_RANGE[0], self.seconds * TIME_RANGE[1]

    @property
    def needs_confirmation(self) -> bool:
        """Whether the run is estimated to take longer than :data:`CONFIRM_SECONDS`."""
        return self.seconds > CONFIRM_SECONDS

    @property
    def fits_in_memory(self) -> bool:
        """Whether the client's estimated peak is below this machine's memory (True if unknown)."""
        return self.memory_bytes is None or self.client_memory_bytes <= self.memory_bytes

    @property
    def fits_on_disk(self) -> bool:
        """Whether the disk has room for :attr:`disk_peak_bytes` (True if unknown)."""
        return self.free_bytes is None or self.disk_peak_bytes <= self.free_bytes

    def format(self) -> str:
        """Return the estimate as a few lines of text, saying that it is one."""
        lo, hi = self.seconds_range
        where = (
            f"with {self.workers} worker process{'es' if self.workers != 1 else ''}"
            if self.workers
            else "on one worker; divide the simulation by the number of workers"
        )
        free = "unknown" if self.free_bytes is None else format_bytes(self.free_bytes)
        lines = [
            f"Estimate (from a timed sample on this machine: {self.sample}; an estimate, not a "
            "promise):",
            f"  work:   {self.classroom_years:,} classroom-years ({self.student_rows:,} student "
            f"rows) in {self.units:,} work unit{'s' if self.units != 1 else ''}",
            f"  time:   about {format_seconds(self.seconds)} {where} (likely "
            f"{format_seconds(lo)} to {format_seconds(hi)}; "
            f"{self.seconds_per_classroom_year * 1e3:.1f} ms per classroom-year, "
            f"{format_seconds(self.analysis_seconds)} of analysis at the end)",
            f"  memory: about {format_bytes(self.client_memory_bytes)} for this process, "
            f"{format_bytes(self.worker_memory_bytes)} per worker"
            + (
                f"; this machine has {format_bytes(self.memory_bytes)}"
                if self.memory_bytes is not None
                else ""
            ),
            f"  disk:   about {format_bytes(self.disk_bytes)} in the run folder"
            + (
                f" ({format_bytes(self.disk_peak_bytes)} while it runs)"
                if self.disk_peak_bytes > self.disk_bytes * 1.05
                else ""
            )
            + f"; {free} free",
        ]
        return "\n".join(lines)


def format_seconds(s: float) -> str:
    """Return a duration as ``42 s``, ``3.5 min``, ``2.1 h`` or ``1.6 days``."""
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.1f} min"
    if s < 2 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def format_bytes(n: float) -> str:
    """Return a size in MB, GB or TB (powers of 1024)."""
    for unit, scale in (("TB", 2**40), ("GB", 2**30)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 2**20:.0f} MB"


def free_disk_bytes(folder: str | Path) -> int | None:
    """Free bytes on the disk that holds ``folder`` (or its nearest existing parent)."""
    path = Path(folder).resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def physical_memory_bytes() -> int | None:
    """Return this machine's physical memory in bytes (None where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def _parquet_bytes(df: pd.DataFrame) -> int:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return len(buf.getvalue())


def _per_row_and_file(df: pd.DataFrame) -> tuple[float, float]:
    """Parquet bytes as ``a + b * rows``: per file ``a`` and per row ``b``, from two sizes."""
    n = len(df)
    half = df.iloc[: max(1, n // 2)]
    full, part = _parquet_bytes(df), _parquet_bytes(half)
    b = max((full - part) / max(1, n - len(half)), 1.0)
    return max(full - b * n, 0.0), b


def _rss_bytes() -> int:
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def estimate_study(
    spec: StudySpec,
    *,
    workers: int | None = 1,
    folder: str | Path | None = None,
    done_units: int = 0,
) -> Estimate:
    r"""Estimate the time, memory and disk a study needs, from a short timed sample.

    Parameters
    ----------
    spec : StudySpec
    workers : int or None, default 1
        Worker processes the units will run on; None for an existing cluster of unknown size
        (the time is then that of one worker).
    folder : str or Path, optional
        Run folder (default the study's), for the free disk space.
    done_units : int, default 0
        Work units already finished (resuming): only the rest is estimated.

    Returns
    -------
    Estimate

    Notes
    -----
    With :math:`t` the measured seconds per classroom-year (units of the study's own class
    size, domains, days and arms), :math:`C` the classroom-years left, :math:`W` workers and
    :math:`U` work units,

    .. math::

        T \approx \frac{t\,C}{W} + \frac{2 U a + C_{all} b + T_0}{W} + T_W,

    where the streamed analysis costs :math:`a` per part read and :math:`b` per classroom-year
    (both measured on the sample, at two sizes), :math:`T_0` is about
    :data:`FIXED_ANALYSIS_SECONDS` for the figures and the decomposition, and :math:`T_W` about
    :data:`WORKER_START_SECONDS` when :math:`W > 1` local workers are started (they do the
    analysis's tasks too); on an existing cluster (``workers=None``) the analysis is not
    divided. Disk: per kept row its measured Parquet
    bytes, per work unit its file overhead (two sizes again), plus the classroom table in CSV.
    Memory: the client about 1 KB per classroom-year (the classroom rows and the outcomes by
    quintile, measured with ``benchmarks/bench_study.py analysis``) or one sweep point's
    statistics columns, whichever is more, over its own resident size.
    """
    from toolkit.study.analysis import (
        analysis_columns,
        classroom_excellence,
        local_classroom_metrics,
        study_statistics,
        tail_units,
    )
    from toolkit.study.units import _n_units, simulate_unit

    n_units = _n_units(spec)
    n_arms = len(spec.arms)
    points = spec.points()
    k = min(spec.classrooms, SAMPLE_CLASSROOMS)
    picks = sorted({0, len(points) // 2, len(points) - 1})
    sim_s = ana_s = 0.0
    sample_cy = 0
    frames, cframes = [], []
    for pi in picks:
        value, params, arms = points[pi]
        pdict = params.to_dict()
        unit = {
            "id": f"p{pi:03d}-sample",
            "point": pi,
            "value": value,
            "params": pdict,
            "arms": {a: [r.to_dict() for r in regs] for a, regs in arms.items()},
            "start": 0,
            "stop": k,
            "kernel": spec.kernel,
        }
        scale = 1.0
        if spec.engine == "mesa" and params.n_days > MESA_SAMPLE_DAYS:
            scale = params.n_days / MESA_SAMPLE_DAYS
            unit["params"] = pdict | {"n_days": MESA_SAMPLE_DAYS}
        if spec.engine == "fast" and not frames:  # load (or compile) the kernel, untimed
            warm = dict(unit, stop=1, params=pdict | {"n_days": 2})
            simulate_unit(warm, spec.seed, "fast", 1)
        t0 = time.perf_counter()
        students = simulate_unit(unit, spec.seed, spec.engine, spec.years)
        t1 = time.perf_counter()
        classrooms = local_classroom_metrics(students, spec.reference)
        t2 = time.perf_counter()
        sim_s += (t1 - t0) * scale
        ana_s += t2 - t1
        sample_cy += k * n_arms * spec.years
        frames.append(students)
        cframes.append(classrooms)
    per_cy = (sim_s + ana_s) / sample_cy

    # the streamed analysis, per part: a fixed cost per call and a cost per classroom-year
    lite = frames[0][analysis_columns(frames[0].columns)]
    stats = study_statistics([lite], spec.reference)
    half = lite[lite["replicate"] < max(1, k // 2)]

    def stream_seconds(df: pd.DataFrame) -> float:
        t = time.perf_counter()
        classroom_excellence(df, stats)
        tail_units(df, stats)
        return time.perf_counter() - t

    t_full, t_half = stream_seconds(lite), stream_seconds(half)
    cy_full, cy_half = k * n_arms * spec.years, max(1, k // 2) * n_arms * spec.years
    b_stream = max((t_full - t_half) / max(1, cy_full - cy_half), 0.0)
    a_stream = max(t_full - b_stream * cy_full, 0.0)

    students = pd.concat(frames, ignore_index=True)
    classrooms = pd.concat(cframes, ignore_index=True)
    rows_per_cy = len(students) / sample_cy
    total_cy = spec.classrooms * n_arms * spec.years * len(points)
    left = max(0.0, 1.0 - done_units / n_units)
    cy_left = total_cy * left
    units_left = math.ceil(n_units * left)

    serial = per_cy * cy_left
    analysis = 2 * n_units * a_stream + total_cy * b_stream + FIXED_ANALYSIS_SECONDS
    if workers and workers > 1:  # local workers: they read the parts and draw the figures too
        wall = (serial + analysis) / workers + WORKER_START_SECONDS
    else:
        wall = serial / (workers or 1) + analysis

    kept = students if spec.keep == "students" else students[analysis_columns(students.columns)]
    s_file, s_row = _per_row_and_file(kept)
    c_file, c_row = _per_row_and_file(classrooms)
    csv_row = len(classrooms.to_csv(index=False).encode()) / len(classrooms)
    student_rows = round(rows_per_cy * total_cy)
    student_disk = n_units * s_file + student_rows * s_row
    classroom_disk = n_units * c_file + total_cy * (c_row + csv_row)
    disk_end = classroom_disk + FIXED_OUTPUT_BYTES
    if spec.keep == "students":
        disk_end += student_disk
    disk_peak = classroom_disk + FIXED_OUTPUT_BYTES + student_disk

    # memory: a worker holds one unit's rows a few times over, the day-by-day noise block and
    # the network draws; the client the classroom rows (twice, while they are joined), the
    # outcomes by quintile and one sweep point's statistics columns
    base = _rss_bytes()
    row_mem = students.memory_usage(deep=True).sum() / len(students)
    class_mem = classrooms.memory_usage(deep=True).sum() / len(classrooms)
    n = max(p.n_students for _, p, _ in points)
    n_dom = max(p.n_domains for _, p, _ in points)
    unit_rows = spec.chunk_size * n_arms * spec.years * rows_per_cy
    worker_mem = base + 4 * unit_rows * row_mem + 32 * 2**20 + spec.chunk_size * n * n * 8 * 4
    stats_mem = spec.classrooms * spec.years * n * (1 + n_arms * (1 + n_dom)) * 8 * 1.5
    quintile_mem = 5 * (total_cy / len(points)) * len(points) * 56 * 2
    client_mem = base + 2 * total_cy * class_mem + max(quintile_mem, stats_mem)
    sample = (
        f"{k} classrooms x {n_arms} arms x {spec.years} year(s) at {len(picks)} of "
        f"{len(points)} sweep point(s), {spec.engine} engine"
        + (f", {MESA_SAMPLE_DAYS} days scaled to the study's" if spec.engine == "mesa" else "")
    )
    return Estimate(
        classroom_years=int(total_cy),
        student_rows=int(student_rows),
        units=units_left,
        seconds_per_classroom_year=per_cy,
        serial_seconds=serial,
        analysis_seconds=analysis,
        workers=workers,
        seconds=wall,
        worker_memory_bytes=int(worker_mem),
        client_memory_bytes=int(max(client_mem, worker_mem) if workers == 1 else client_mem),
        disk_bytes=int(disk_end),
        disk_peak_bytes=int(disk_peak * left),
        free_bytes=free_disk_bytes(folder or spec.folder),
        memory_bytes=physical_memory_bytes(),
        sample=sample,
    )
