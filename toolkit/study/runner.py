"""Run a study: simulate every arm on the same classrooms, resumably, into a run folder.

A run folder holds::

    manifest.json        config as resolved, its source and command-line overrides, master
                         seed, versions, git commit, where it ran, times, status, and every
                         file the run wrote (with its SHA-256)
    students.parquet/    the student table, partitioned: one Parquet file per work unit
                         (keep = "students", the default; pandas.read_parquet reads the folder)
    parts/               per work unit, its classroom-level metrics (and, with
                         keep = "classrooms", the few student columns the analysis needs,
                         deleted when the run completes)
    classrooms.csv       metrics per classroom (the unit of replication)
    summary.csv          arm x metric: mean and 95% CI, paired difference vs the reference
    tails.csv            outcomes by prior-achievement quintile
    figures/             presenter charts (PNG/SVG/PDF)

A work unit is a chunk of classrooms at one sweep point, in every arm. It simulates them and
computes their classroom metrics; its parts are written atomically as soon as it finishes, so
an interrupted (or killed) run loses nothing that was finished and continues where it stopped
with ``resume=True`` (``--resume``), which checks that the study has not changed. The analysis
then streams over the parts (:mod:`toolkit.study.analysis`), never holding every student row.

Where units run: in this process (``workers=1``, the default), on a local Dask cluster started
for the run (``workers=N``: N worker processes on this machine, on the loopback interface, no
dashboard), or on an existing Dask cluster (``scheduler="tcp://host:port"`` or the
``DASK_SCHEDULER_ADDRESS`` environment variable). Workers that see the run folder (always those
of a local cluster; on an existing cluster, every worker is asked whether it sees a token file
this process wrote there, at the same absolute path and with the same content) write each
unit's parts themselves, atomically, and return only an acknowledgement; otherwise they return
each unit's tables to this process, which writes them, so workers need no access to its disk.
A worker that dies mid-unit has its unit recomputed elsewhere by the scheduler. The
manifest's ``execution.parts`` says which of the two happened.

Classroom ``i`` uses seed ``classroom_seed(master, i)`` in every arm (common random numbers), so
differences between arms are paired by classroom; results are the same whatever the chunk
size, the number of workers, where they ran or the order in which units finish.

An existing run is never replaced unless ``overwrite=True`` (``--overwrite``), and then only
what the run wrote is deleted: the files its manifest lists (unchanged since), its parts and
temporary files. Anything else in the folder is kept; anything else that is in the way of the
new run (a file where it would write) is listed and nothing is deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import os
import platform
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit._source import source_commit
from toolkit.engine import simulate_arms
from toolkit.model.cohort import classroom_seed, school_of
from toolkit.model.model import simulate_classroom
from toolkit.model.params import Parameters
from toolkit.model.regimes import Regime
from toolkit.study.spec import StudyError, StudySpec

__all__ = [
    "CONNECT_TIMEOUT",
    "RunInterrupted",
    "RunResult",
    "check_run_folder",
    "design_points_done",
    "label_unit_rows",
    "local_cluster",
    "provenance",
    "run_study",
    "run_unit",
    "run_unit_into",
    "simulate_unit",
    "units_done",
]

MANIFEST = "manifest.json"
STUDENTS = "students.parquet"
PARTS = "parts"
#: Files the analysis writes at the top of the run folder.
OUTPUTS = ("classrooms.csv", "summary.csv", "tails.csv")
#: Seconds to wait for a Dask scheduler to answer, and for it to have a worker.
CONNECT_TIMEOUT = 10.0
_PACKAGES = (
    "classroom-regimes-toolkit",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "mesa",
    "matplotlib",
    "pyarrow",
    "dask",
    "distributed",
)
#: Work-unit ids: a study's points and classrooms (``p000-c000000``), a cohort study's cohorts
#: (``p000``) and a robustness study's design points (``d000000-n1``,
#: :meth:`toolkit.robustness.spec.RobustnessSpec.units`).
_UNIT_ID = r"(p\d{3,}(-c\d{6,})?|d\d{6,}-n\d+)"
_PART_FILES = (
    re.compile(rf"{STUDENTS}/{_UNIT_ID}\.parquet"),
    re.compile(rf"{PARTS}/{_UNIT_ID}\.(classrooms|students)\.parquet"),
    re.compile(rf"{PARTS}/{_UNIT_ID}\.parquet"),  # run folders of earlier versions
)
_FIGURE_TYPES = (".png", ".svg", ".pdf")


class RunInterrupted(KeyboardInterrupt):
    """A run was interrupted (Ctrl-C); what was finished is kept and ``resume`` continues it.

    Attributes
    ----------
    folder : Path
    done, total : int
        Work units finished (kept in the folder) and in all.
    """

    def __init__(self, folder: Path, done: int, total: int) -> None:
        super().__init__(f"{folder}: interrupted after {done} of {total} work units")
        self.folder, self.done, self.total = folder, done, total


class _Reporter:
    """Progress of a run on standard error: a bar for the units, then staged messages."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def message(self, text: str) -> None:
        if self.enabled:
            print(text, file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def stage(self, text: str) -> Iterator[None]:
        t0 = time.perf_counter()
        if self.enabled:
            print(f"analysis: {text} ...", end="", file=sys.stderr, flush=True)
        yield
        if self.enabled:
            print(f" {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)

    def iterate(self, items: Iterable[Any], total: int, text: str) -> Iterator[Any]:
        if not self.enabled:
            yield from items
            return
        from tqdm.auto import tqdm

        with tqdm(total=total, desc=f"analysis: {text}", unit="part", file=sys.stderr) as bar:
            for item in items:
                yield item
                bar.update(1)


class RunResult:
    """What a run produced, read from its folder.

    Attributes
    ----------
    folder : Path
    classrooms : pandas.DataFrame
        Metrics per classroom (and arm, year, sweep point).
    summary : pandas.DataFrame
        Arm x metric with means, CIs and paired differences against the reference arm.
    tails : pandas.DataFrame
        Outcomes by prior-achievement quintile per arm.
    decomposition : pandas.DataFrame
        Each arm's difference from the reference split into channels (may be empty).
    figures : list of Path
    manifest : dict
    units : list of str
        Work-unit ids, in order (sweep point, then first classroom).
    arms : list of str
    keep : {"students", "classrooms"}
    """

    def __init__(
        self,
        folder: str | Path,
        manifest: dict[str, Any] | None = None,
        *,
        units: list[str] | None = None,
        arms: list[str] | None = None,
        keep: str = "students",
        progress: bool = False,
    ) -> None:
        self.folder = Path(folder)
        self.manifest: dict[str, Any] = manifest or {}
        self.units = list(units or [])
        self.arms = list(arms or [])
        self.keep = keep
        self.classrooms = pd.DataFrame()
        self.summary = pd.DataFrame()
        self.tails = pd.DataFrame()
        self.decomposition = pd.DataFrame()
        self.figures: list[Path] = []
        self.reporter = _Reporter(progress)
        self.written: list[Path] = []
        self._students: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return (
            f"RunResult(folder={str(self.folder)!r}, units={len(self.units)}, "
            f"classrooms={len(self.classrooms)} rows, keep={self.keep!r})"
        )

    # -- student rows -------------------------------------------------------------------------
    def _student_path(self, unit: str) -> Path:
        if self.keep == "students":
            return self.folder / STUDENTS / f"{unit}.parquet"
        return self.folder / PARTS / f"{unit}.students.parquet"

    def _arm_categorical(self, df: pd.DataFrame) -> pd.DataFrame:
        if self.arms:
            df["arm"] = pd.Categorical(df["arm"].astype(str), categories=self.arms)
        return df

    def student_columns(self) -> list[str]:
        """Columns of the stored student rows (read from the first part's schema)."""
        import pyarrow.parquet as pq

        return list(pq.read_schema(self._student_path(self.units[0])).names)

    def student_parts(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """Yield the student rows one work unit at a time, in unit order.

        Parameters
        ----------
        columns : list of str, optional
            Read only these columns (default: all that were kept).
        """
        for unit in self.units:
            path = self._student_path(unit)
            if not path.is_file():
                raise StudyError(
                    f"{self.folder}: no student rows for work unit {unit} ({path.name}); "
                    + (
                        "this run kept only classroom-level rows (keep = 'classrooms')."
                        if self.keep == "classrooms"
                        else "the run is incomplete: continue it with --resume."
                    )
                )
            yield self._arm_categorical(pd.read_parquet(path, columns=columns))

    @property
    def students(self) -> pd.DataFrame:
        """Every student-year of every arm: ``point, sweep_value, arm, replicate, year, ...``.

        Read from ``students.parquet/`` on first use (and kept), sorted by sweep point, arm,
        classroom, year and student. For a large study prefer :meth:`student_parts` or
        ``pandas.read_parquet(folder / "students.parquet", columns=..., filters=...)``.
        """
        if self._students is None:
            if self.keep != "students":
                raise StudyError(
                    f"{self.folder}: this run kept only classroom-level rows "
                    "(keep = 'classrooms' in the study's [study] table); no student table."
                )
            df = pd.concat(self.student_parts(), ignore_index=True)
            df = df.sort_values(["point", "arm", "replicate", "year", "student"], kind="stable")
            self._students = df.reset_index(drop=True)
        return self._students

    @students.setter
    def students(self, value: pd.DataFrame) -> None:
        self._students = value

    def classroom_part(self, unit: str) -> pd.DataFrame:
        """Return the classroom metrics one work unit computed."""
        return self._arm_categorical(
            pd.read_parquet(self.folder / PARTS / f"{unit}.classrooms.parquet")
        )

    # -- writing ------------------------------------------------------------------------------
    def record(self, paths: Iterable[str | Path]) -> None:
        """Note files the run wrote (listed, with their hashes, in the manifest)."""
        self.written += [Path(p) for p in paths]

    def write_table(self, df: pd.DataFrame, name: str) -> Path:
        """Write a table into the run folder atomically (CSV or Parquet by suffix) and note it."""
        path = self.folder / name
        _write_atomic(df, path)
        self.record([path])
        return path


def _git_commit() -> dict[str, Any]:
    """Return the toolkit's own commit (:func:`toolkit._source.source_commit`)."""
    return source_commit()


def provenance() -> dict[str, Any]:
    """Package versions, Python, platform and git commit of the toolkit source.

    The commit comes from this project's checkout when the toolkit runs from one, else from
    the installed package's build record (:mod:`toolkit._source`); a repository that merely
    contains the installed package is never asked.

    Returns
    -------
    dict
        ``{"versions": {...}, "python": ..., "platform": ..., "git": {...}}``, ``git`` with
        ``commit``, ``dirty`` and ``source`` (where the commit was read).
    """
    versions = {}
    for pkg in _PACKAGES:
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    return {
        "versions": versions,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "git": _git_commit(),
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# work units
# ---------------------------------------------------------------------------------------------
def _sweep_value(value: Any) -> Any:
    """One type for the sweep-value column in every part (numbers as float)."""
    if value is None:
        return float("nan")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def _n_units(spec: StudySpec) -> int:
    """Return the number of work units: sweep points x chunks of classrooms."""
    n_points = len(spec.sweep_values) if spec.sweep_parameter else 1
    if spec.cohort is not None:  # one point per imputed cohort of a data file's classes
        n_points = spec.cohort.n_cohorts
    return n_points * -(-spec.classrooms // spec.chunk_size)


def _units(spec: StudySpec) -> list[dict[str, Any]]:
    """Work units: a chunk of classrooms at one sweep point, in every arm (same classrooms).

    The parameters and arms of a sweep point are one shared dict for all its units (a study
    of millions of classrooms has hundreds of thousands of units).
    """
    if spec.robustness is not None:  # design points, grouped by toolkit.robustness.spec
        return spec.robustness.units(spec)
    if spec.cohort is not None:  # a data file's classes, per imputed cohort (toolkit.realcohort)
        return spec.cohort.units(spec)
    units = []
    for pi, (value, params, arms) in enumerate(spec.points()):
        pdict = params.to_dict()
        adict = {arm: [r.to_dict() for r in regs] for arm, regs in arms.items()}
        for start in range(0, spec.classrooms, spec.chunk_size):
            stop = min(start + spec.chunk_size, spec.classrooms)
            units.append(
                {
                    "id": f"p{pi:03d}-c{start:06d}",
                    "point": pi,
                    "value": value,
                    "params": pdict,
                    "arms": adict,
                    "start": start,
                    "stop": stop,
                    "kernel": spec.kernel,
                }
            )
    return units


def _unit_size(spec: StudySpec, unit: dict[str, Any]) -> int:
    """Progress of one unit: its classrooms, or its design points in a robustness study."""
    return len(unit["points"]) if spec.robustness is not None else unit["stop"] - unit["start"]


def simulate_unit(unit: dict[str, Any], seed: int, engine: str, n_years: int) -> pd.DataFrame:
    """Simulate one work unit: a chunk of classrooms at one sweep point, in every arm.

    Every arm runs the same classrooms (common random numbers). The fast engine draws their
    randomness once for all arms (:func:`toolkit.engine.simulate_arms`, with the unit's
    ``kernel``); the Mesa model runs each arm's classrooms one by one, with the numbers of the
    ``"exact"`` kernel.

    Parameters
    ----------
    unit : dict
        As built by the runner: ``params`` as a dict, ``arms`` (arm name to its per-year
        regimes as dicts), classroom range ``start:stop``, ``point``, sweep ``value`` and the
        engine's ``kernel`` (``"exact"`` when the unit names none, as the calibration's units).
    seed : int
        The study's master seed.
    engine : {"fast", "mesa"}
    n_years : int

    Returns
    -------
    pandas.DataFrame
        Student table with ``point, sweep_value, arm, replicate`` in front, sorted by arm (in
        the unit's order), classroom, year and student; or, for a unit with an ``evaluate``
        entry (``"module:function"``, a design point of a robustness study), what that function
        returns for the unit (see :mod:`toolkit.robustness.models`).
    """
    if unit.get("evaluate"):
        module, _, name = unit["evaluate"].partition(":")
        return getattr(importlib.import_module(module), name)(unit, seed, engine, n_years)
    params = Parameters.from_mapping(unit["params"], source=f"unit {unit['id']}")
    arms = {arm: [Regime(**r) for r in regs] for arm, regs in unit["arms"].items()}
    idx = list(range(unit["start"], unit["stop"]))
    seeds = [classroom_seed(seed, i) for i in idx]
    if engine == "fast":
        df = simulate_arms(
            arms,
            params,
            seeds,
            n_years=n_years,
            chunk_size=len(seeds),
            kernel=unit.get("kernel", "exact"),
        )
        df["arm"] = df["arm"].astype(str)
        df["classroom"] = df["classroom"].map(dict(enumerate(idx)))
    else:
        frames = []
        for arm, regimes in arms.items():
            for i, s in zip(idx, seeds, strict=True):
                one = simulate_classroom(regimes, params, s, n_years=n_years)
                one.insert(0, "classroom", i)
                one.insert(0, "arm", arm)
                frames.append(one)
        df = pd.concat(frames, ignore_index=True)
    return with_school(label_unit_rows(df, unit, list(arms)), params.classrooms_per_school)


def with_school(df: pd.DataFrame, classrooms_per_school: int) -> pd.DataFrame:
    """Add the ``school`` of each row's ``replicate`` after it, when classrooms share schools.

    ``school = replicate // classrooms_per_school`` (:func:`toolkit.model.cohort.school_of`),
    the same in every arm; nothing is added when every classroom is a school of its own
    (``classrooms_per_school = 1``), so such runs keep their columns.
    """
    if classrooms_per_school <= 1 or "school" in df.columns:
        return df
    df = df.copy()
    at = list(df.columns).index("replicate") + 1
    df.insert(at, "school", school_of(df["replicate"].to_numpy(), classrooms_per_school))
    return df


def label_unit_rows(df: pd.DataFrame, unit: dict[str, Any], arms: list[str]) -> pd.DataFrame:
    """Put a unit's ``point`` and ``sweep_value`` in front and sort its rows as the runner does.

    ``classroom`` becomes ``replicate``; rows are sorted by arm (in ``arms``' order), classroom,
    year and student.
    """
    df = df.rename(columns={"classroom": "replicate"})
    df.insert(0, "sweep_value", _sweep_value(unit["value"]))
    df.insert(0, "point", unit["point"])
    order = pd.Categorical(df["arm"], categories=arms).codes
    df = df.assign(_arm=order).sort_values(["_arm", "replicate", "year", "student"], kind="stable")
    return df.drop(columns="_arm").reset_index(drop=True)


def run_unit(
    unit: dict[str, Any], seed: int, engine: str, n_years: int, reference: str, keep: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate a work unit and compute its classroom metrics (what a worker runs).

    Parameters
    ----------
    unit, seed, engine, n_years
        As for :func:`simulate_unit`.
    reference : str
        Reference arm (for the variance ratio).
    keep : {"students", "classrooms", "design"}
        Return every student column, or only :func:`toolkit.study.analysis.analysis_columns`;
        ``"design"`` (a robustness study's design points): no student rows, the unit's own
        per-classroom metrics (:func:`simulate_unit` with its ``evaluate`` entry).

    Returns
    -------
    students : pandas.DataFrame or None
        The unit's student rows (every column, or the analysis columns; None for a design).
    classrooms : pandas.DataFrame
        :func:`toolkit.study.analysis.local_classroom_metrics` of those students.
    """
    from toolkit.study.analysis import analysis_columns, local_classroom_metrics

    if keep == "design":
        return None, simulate_unit(unit, seed, engine, n_years)
    students = simulate_unit(unit, seed, engine, n_years)
    classrooms = local_classroom_metrics(students, reference)
    classrooms["arm"] = classrooms["arm"].astype(str)
    if "school" in students.columns:
        classrooms = with_school(classrooms, int(unit["params"]["classrooms_per_school"]))
    if keep == "classrooms":
        students = students[analysis_columns(students.columns)]
    return students, classrooms


def _temp_path(path: Path, unique: bool = False) -> Path:
    # a leading dot: pyarrow's dataset reader skips it, and overwrite knows it as the run's;
    # unique (a worker's): the process and a random tag, so that two runs of a unit never share
    tag = f".{os.getpid()}-{uuid.uuid4().hex[:8]}" if unique else ""
    return path.with_name(f".{path.name}{tag}.tmp")


def _write_atomic(
    df: pd.DataFrame,
    path: Path,
    *,
    unique: bool = False,
    commit: Callable[[], bool] | None = None,
) -> bool:
    """Write ``df`` to a temporary file beside ``path``, then rename it to ``path``.

    With ``commit``, the rename happens only if ``commit()`` is true just before it (else the
    temporary file is removed and nothing is written); returns whether ``path`` was written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path, unique)
    try:
        if path.suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
        if commit is not None and not commit():
            tmp.unlink(missing_ok=True)
            return False
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    return True


def _write_json_atomic(data: dict[str, Any], path: Path) -> None:
    tmp = _temp_path(path)
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def _unit_paths(folder: Path, unit_id: str, keep: str) -> tuple[Path | None, Path]:
    if keep == "design":  # a robustness study's design points: classroom metrics only
        students = None
    elif keep == "students":
        students = folder / STUDENTS / f"{unit_id}.parquet"
    else:
        students = folder / PARTS / f"{unit_id}.students.parquet"
    return students, folder / PARTS / f"{unit_id}.classrooms.parquet"


def _unit_done(folder: Path, unit_id: str, keep: str) -> bool:
    students, classrooms = _unit_paths(folder, unit_id, keep)
    return classrooms.is_file() and (students is None or students.is_file())


def _store_unit(
    folder: Path, unit_id: str, keep: str, out: tuple[pd.DataFrame | None, pd.DataFrame]
) -> None:
    students_path, classrooms_path = _unit_paths(folder, unit_id, keep)
    if students_path is not None:
        _write_atomic(out[0], students_path)
    _write_atomic(out[1], classrooms_path)  # written last: marks the unit done


#: What a worker that wrote its unit's parts returns instead of them.
_WRITTEN = "written"
#: The token file that lets workers write into a run folder: ``.workers-write-<hex>.tmp`` (a
#: leading dot and ``.tmp``, so it is the run's own temporary file to readers and cleanup).
_TOKEN = ".workers-write-{}.tmp"


def _token_matches(path: Path, token: str) -> bool:
    try:
        return path.read_text() == token
    except (OSError, UnicodeDecodeError):
        return False


def _sees_folder(token_path: str, token: str) -> bool:
    """Whether this process sees the token file at ``token_path`` and can write beside it.

    Run on each worker by :meth:`_DaskExecutor.offer_folder`: true when the file at that
    absolute path holds ``token`` (so it is the file the client wrote, not another machine's)
    and a file can be created and removed in its folder.
    """
    path = Path(token_path)
    if not _token_matches(path, token):
        return False
    mine = _temp_path(path, unique=True)  # the run's temporary file to cleanup, as the rest
    try:
        mine.write_text(token)
        mine.unlink()
    except OSError:
        return False
    return True


def run_unit_into(
    folder: str,
    token: str,
    unit: dict[str, Any],
    seed: int,
    engine: str,
    n_years: int,
    reference: str,
    keep: str,
) -> str | tuple[pd.DataFrame | None, pd.DataFrame]:
    """Run a work unit and write its parts into the run folder (what a worker that sees it runs).

    The parts are written as the client writes them (:func:`_store_unit`: each atomically,
    the student part first, the classroom part last as the mark that the unit is done), under
    temporary names unique to this process. Each is renamed into place only while the run's
    token file (``folder/.workers-write-<token>.tmp``, removed by the client when the units
    phase ends or stops) holds ``token``: a unit that finishes after its run was stopped, or on
    a worker that does not see the folder, writes nothing.

    Parameters
    ----------
    folder : str
        Absolute path of the run folder.
    token : str
        The run's token (its file's name and content).
    unit, seed, engine, n_years, reference, keep
        As for :func:`run_unit`.

    Returns
    -------
    str or tuple
        ``"written"``, or (when the token file was not there) what :func:`run_unit` returns,
        for the client to write.
    """
    out = run_unit(unit, seed, engine, n_years, reference, keep)
    root = Path(folder)
    token_path = root / _TOKEN.format(token)

    def ours() -> bool:
        return _token_matches(token_path, token)

    if not ours():
        return out
    students_path, classrooms_path = _unit_paths(root, unit["id"], keep)
    for df, path in ((out[0], students_path), (out[1], classrooms_path)):
        if path is not None and not _write_atomic(df, path, unique=True, commit=ours):
            return out
    return _WRITTEN


def units_done(spec: StudySpec, folder: str | Path) -> tuple[int, int]:
    """Work units of ``spec`` already finished in ``folder``, and in all.

    Returns
    -------
    (int, int)
    """
    folder = Path(folder)
    units = _units(spec)
    return sum(_unit_done(folder, u["id"], spec.keep) for u in units), len(units)


def design_points_done(spec: StudySpec, folder: str | Path) -> tuple[int, int]:
    """Design points of a robustness study already finished in ``folder``, and in all.

    A work unit may hold several design points (:class:`toolkit.robustness.spec.RobustnessSpec`
    ``points_per_unit``); this counts the points of the finished units.

    Returns
    -------
    (int, int)
    """
    folder = Path(folder)
    units = _units(spec)
    done = sum(_unit_size(spec, u) for u in units if _unit_done(folder, u["id"], "design"))
    return done, sum(_unit_size(spec, u) for u in units)


# ---------------------------------------------------------------------------------------------
# the run folder: what is the run's, what is the user's
# ---------------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(folder: Path) -> Iterator[str]:
    """Every file under ``folder`` (symlinks as files, never followed), relative, POSIX."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        base = Path(root)
        for name in files + [d for d in dirs if (base / d).is_symlink()]:
            yield (base / name).relative_to(folder).as_posix()


def _is_run_owned_name(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    if rel == MANIFEST or any(p.fullmatch(rel) for p in _PART_FILES):
        return True
    return name.startswith(".") and name.endswith(".tmp")  # the run's temporary files


def _in_the_way(rel: str) -> bool:
    """Whether a file the run did not write sits where the new run would write."""
    parts = rel.split("/")
    if rel in OUTPUTS or parts[0] in (STUDENTS, PARTS):
        return True
    return len(parts) == 2 and parts[0] == "figures" and Path(rel).suffix in _FIGURE_TYPES


def _clear_for_overwrite(folder: Path, old: dict[str, Any], dry_run: bool = False) -> None:
    listed = {f for f in old.get("files", []) if not f.endswith("/")}
    hashes: dict[str, str] = old.get("sha256", {})
    owned, changed, blocking = [], [], []
    for rel in sorted(_files(folder)):
        path = folder / rel
        if _is_run_owned_name(rel):
            owned.append(path)
        elif rel in listed:
            if rel in hashes and (path.is_symlink() or _sha256(path) != hashes[rel]):
                changed.append(rel)
            else:
                owned.append(path)
        elif _in_the_way(rel):
            blocking.append(rel)
    if changed or blocking:
        lines = [f"  {r}   (written by the run, changed since)" for r in changed]
        lines += [f"  {r}   (not written by the run)" for r in blocking]
        raise StudyError(
            f"{folder}: --overwrite deletes only what the run wrote, and these files are in "
            "the way of the new run:\n" + "\n".join(lines) + "\nNothing was deleted. Move them "
            "out of the folder (or delete them yourself), or choose another --out."
        )
    if dry_run:
        return
    for path in owned:
        path.unlink()
    for sub in (STUDENTS, PARTS, "figures"):
        d = folder / sub
        if d.is_dir() and not d.is_symlink():
            for root, _, _ in sorted(os.walk(d), key=lambda w: -len(w[0])):
                with contextlib.suppress(OSError):
                    Path(root).rmdir()  # only if empty: the user's files stay


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise StudyError(
            f"{folder / MANIFEST}: cannot be read as a run manifest ({exc})."
        ) from None


def check_run_folder(
    spec: StudySpec, folder: str | Path, *, overwrite: bool = False, resume: bool = False
) -> None:
    """Raise the error :func:`run_study` would raise for this folder, changing nothing.

    Parameters
    ----------
    spec : StudySpec
    folder : str or Path
    overwrite, resume : bool
        As for :func:`run_study`.

    Raises
    ------
    StudyError
        The folder holds something else, another study's run, a run and neither flag is given,
        or (with ``overwrite``) files in the way of the new run.
    """
    _prepare_folder(Path(folder), spec, overwrite, resume, dry_run=True)


def _prepare_folder(
    folder: Path, spec: StudySpec, overwrite: bool, resume: bool, dry_run: bool = False
) -> None:
    if overwrite and resume:
        raise StudyError("Choose either --overwrite or --resume, not both.")
    if not folder.exists():
        if resume:
            raise StudyError(f"{folder}: nothing to resume, the folder does not exist.")
        return
    if not folder.is_dir():
        raise StudyError(f"{folder}: exists and is not a folder; choose another --out.")
    if not any(folder.iterdir()):
        return
    if not (folder / MANIFEST).is_file():
        raise StudyError(
            f"{folder}: the folder is not empty and is not a run folder (no {MANIFEST}); "
            "nothing was changed. Choose another --out."
        )
    old = _read_manifest(folder)
    if resume:
        if (folder / STUDENTS).is_file():
            raise StudyError(
                f"{folder}: cannot resume, the run was made by an earlier version of the toolkit "
                f"({STUDENTS} is one file, not a folder of parts). Use --overwrite (it deletes "
                "only that run's files) or another --out."
            )
        if old.get("fingerprint") != spec.fingerprint():
            raise StudyError(
                f"{folder}: cannot resume, the run in this folder was made from a different "
                f"study: {_what_changed(old.get('study'), spec)}. Use --overwrite or another "
                "--out (or undo the change)."
            )
        old_keep = old.get("study", {}).get("keep", "students")
        if old_keep != spec.keep:
            raise StudyError(
                f"{folder}: cannot resume, the run in this folder keeps {old_keep!r} and the "
                f"study now says keep = {spec.keep!r}. Use --overwrite or another --out."
            )
        if old.get("status") == "complete" and spec.keep == "classrooms":
            raise StudyError(
                f"{folder}: the run is complete; nothing to resume (it kept only classroom-level "
                "rows, so its analysis cannot be redone: use --overwrite to run it again)."
            )
        return
    if not overwrite:
        raise StudyError(
            f"{folder}: already holds a run (study '{old.get('study', {}).get('name')}', started "
            f"{old.get('started')}, status {old.get('status')}); nothing was changed. Pass "
            "--resume to continue it, --overwrite to replace it (only the run's own files are "
            "deleted), or --out for another folder."
        )
    _clear_for_overwrite(folder, old, dry_run)


def _what_changed(old_study: Any, spec: StudySpec) -> str:
    """Say which settings differ from those of the run in a folder (its manifest's study)."""
    from toolkit.study.spec import describe_changes, fingerprint_core

    if isinstance(old_study, dict):
        text = describe_changes(fingerprint_core(old_study), fingerprint_core(spec.resolved()))
        if text:
            return text
    return "seed, classrooms, years, arms, parameters or sweep changed"


def _remove_stale_temporaries(folder: Path) -> None:
    for rel in list(_files(folder)):
        name = rel.rsplit("/", 1)[-1]
        if name.startswith(".") and name.endswith(".tmp") and _is_run_owned_name(rel):
            (folder / rel).unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# executors: this process, or Dask
# ---------------------------------------------------------------------------------------------
def _resolve_executor(workers: int, scheduler: str | None) -> tuple[int, str | None]:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise StudyError(f"workers must be a whole number >= 1, got {workers!r}.")
    if scheduler is None:
        scheduler = os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        if scheduler and workers > 1:
            raise StudyError(
                f"DASK_SCHEDULER_ADDRESS is set ({scheduler}) and workers = {workers}: a run "
                "uses either an existing cluster or a local one. Unset the variable to start "
                f"{workers} local workers, or leave workers at 1 to use that cluster."
            )
    elif not isinstance(scheduler, str) or not scheduler.strip():
        raise StudyError(
            f"scheduler must be an address such as tcp://host:8786, got {scheduler!r}."
        )
    elif workers > 1:
        raise StudyError(
            f"Pass either workers (a local cluster of {workers}) or a scheduler address "
            f"({scheduler}: that cluster's own workers), not both."
        )
    return workers, scheduler


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Let processes started here ignore the terminal's Ctrl-C (the client handles it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _worker_info() -> dict[str, Any]:
    """Return the versions and platform a worker runs (called on each worker)."""
    try:
        toolkit = version("classroom-regimes-toolkit")
    except PackageNotFoundError:
        toolkit = None
    return {
        "toolkit": toolkit,
        "numpy": version("numpy"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": platform.node(),
        "git": _git_commit(),
    }


#: Dask configuration of a local cluster started for a run (its scheduler and nannies, in this
#: process, and its workers). No statistical profiler on the workers: it samples every worker
#: thread's stack 100 times a second and makes pandas-heavy units about 10 % slower. The event
#: loops' health check every second instead of every 20 ms: idle, the 20 ms check costs this
#: process about 4 % of a core and each worker 2 %, taken from the units on a small machine.
#: Both only feed the dashboard and its warnings, and the run starts no dashboard.
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
}
PARTS_BY_WORKERS = "written by the workers into the run folder"
PARTS_BY_CLIENT = "returned by the workers to this process, which writes them"


def local_cluster(n_workers: int, *, tuned: bool = True, **kwargs: Any) -> Any:
    """Start a Dask ``LocalCluster`` of single-threaded worker processes as a run starts one.

    Workers on the loopback interface (``127.0.0.1``, a free port), no dashboard, Dask's logs
    at ERROR only, and with ``tuned`` the settings of :data:`LOCAL_CLUSTER_CONFIG` for the
    scheduler (in this process) and for every worker (given to each nanny, so that a worker
    restarted after a death has them too).

    Parameters
    ----------
    n_workers : int
        Worker processes.
    tuned : bool, default True
        Apply :data:`LOCAL_CLUSTER_CONFIG`; False gives Dask's defaults (as on workers that
        someone started with ``dask worker``).
    **kwargs
        Further arguments of :class:`distributed.LocalCluster` (``preload=...``).

    Returns
    -------
    distributed.LocalCluster
        Running; close it (or use it as a context manager) when done.
    """
    import dask
    from distributed import LocalCluster

    config = LOCAL_CLUSTER_CONFIG if tuned else {}
    options: dict[str, Any] = {
        "n_workers": n_workers,
        "threads_per_worker": 1,
        "processes": True,
        "host": "127.0.0.1",
        "scheduler_port": 0,
        "dashboard_address": None,
        "silence_logs": logging.ERROR,
        **({"config": config} if tuned else {}),
        **kwargs,
    }
    with dask.config.set(config):
        return LocalCluster(**options)


class _DaskExecutor:
    """A Dask client on a local cluster started for the run, or on an existing scheduler."""

    def __init__(self, workers: int, scheduler: str | None) -> None:
        from distributed import Client

        self.cluster = None
        self.address = scheduler
        self.folder: Path | None = None  # set while the workers may write into it
        self.token: str | None = None
        if scheduler is None:
            try:
                with _sigint_ignored():
                    self.cluster = local_cluster(workers, preload=["toolkit.study._dask_worker"])
            except RuntimeError as exc:
                raise StudyError(
                    f"Could not start {workers} local Dask workers ({exc}). In a Python script, "
                    'call run_study(..., workers=N) under `if __name__ == "__main__":` (each '
                    "worker process imports the script that started it)."
                ) from None
            self.client = Client(self.cluster, set_as_default=False)
            self.address = self.cluster.scheduler_address
        else:
            try:
                self.client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise StudyError(
                    f"Cannot reach the Dask scheduler at {scheduler} (no answer within "
                    f"{CONNECT_TIMEOUT:g} s: {exc}). Check the address and that `dask scheduler` "
                    "is running there and its port is open to this machine."
                ) from None
            try:
                self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError):
                self.close()
                raise StudyError(
                    f"The Dask scheduler at {scheduler} has no workers (none joined within "
                    f"{CONNECT_TIMEOUT:g} s); start some with `dask worker {scheduler}`."
                ) from None
        self.info = self._check_workers()

    def _check_workers(self) -> dict[str, Any]:
        try:
            info = self.client.run(_worker_info)
        except Exception as exc:  # a worker that cannot even unpickle the call
            self.close()
            raise StudyError(
                f"The Dask workers at {self.address} cannot run the toolkit ({type(exc).__name__}: "
                f"{exc}). Install the same requirements.lock and the toolkit there (README, "
                "Running on a cluster)."
            ) from None
        here = _worker_info()
        for addr, w in info.items():
            mine = (here["toolkit"], here["git"]["commit"], here["numpy"])
            theirs = (w["toolkit"], w["git"]["commit"], w["numpy"])
            if w["toolkit"] is None or (mine != theirs and None not in (mine[1], theirs[1])):
                self.close()
                raise StudyError(
                    f"The Dask worker {addr} runs toolkit {w['toolkit']} (commit "
                    f"{w['git']['commit']}, numpy {w['numpy']}) but this machine runs toolkit "
                    f"{here['toolkit']} (commit {here['git']['commit']}, numpy {here['numpy']}): "
                    "the numbers would not be the same study's. Install the same commit and "
                    "requirements.lock on every worker."
                )
        return info

    def nthreads(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def offer_folder(self, folder: Path) -> dict[str, bool]:
        """Let the workers write units' parts into ``folder`` if every one of them sees it.

        Writes a token file into the folder (``.workers-write-<hex>.tmp``, holding the hex)
        and asks each worker (:func:`_sees_folder`) whether it finds that file, with that
        content, at the same absolute path, and can write beside it. If all do, the token
        stays (until :meth:`revoke_folder`) and :meth:`run` has the workers write; otherwise
        it is removed and they return their units' tables.

        Returns
        -------
        dict
            Worker address to whether it sees the folder.
        """
        self.folder, self.token = folder.absolute(), uuid.uuid4().hex
        path = self.folder / _TOKEN.format(self.token)
        path.write_text(self.token)  # removed by revoke_folder (and close) whatever happens
        try:
            seen = self.client.run(_sees_folder, str(path), self.token)
        except Exception:  # a worker lost during the question: do not rely on any
            seen = {}
        if not (seen and all(seen.values())):
            self.revoke_folder()
        return {addr: bool(v) for addr, v in seen.items()}

    def revoke_folder(self) -> None:
        """Remove the token file: units that finish from now on write nothing."""
        if self.folder is not None and self.token is not None:
            with contextlib.suppress(OSError):
                (self.folder / _TOKEN.format(self.token)).unlink(missing_ok=True)
        self.token = None

    def run(
        self, todo: list[dict[str, Any]], args: tuple[Any, ...]
    ) -> Iterator[tuple[dict[str, Any], str | tuple[pd.DataFrame | None, pd.DataFrame]]]:
        """Yield ``(unit, result)`` as units finish; at most a few per worker in flight.

        The result is ``"written"`` for a unit whose worker wrote its parts (after
        :meth:`offer_folder` found that every worker sees the folder), else the unit's tables.
        """
        from distributed import as_completed

        pending = iter(todo)
        in_flight: dict[Any, dict[str, Any]] = {}
        # results fetched by the client's event loop, not by a blocking call in this thread:
        # a Ctrl-C then lands in as_completed's wait, never inside distributed's sync(), whose
        # cancel callback fails (NameError) when the interrupt comes before its future exists
        done = as_completed(loop=self.client.loop, with_results=True, raise_errors=False)
        key = uuid.uuid4().hex[:8]
        into = () if self.token is None else (str(self.folder), self.token)
        func = run_unit if self.token is None else run_unit_into

        def submit() -> None:
            u = next(pending, None)
            if u is not None:
                fut = self.client.submit(func, *into, u, *args, key=f"unit-{u['id']}-{key}")
                in_flight[fut] = u
                done.add(fut)

        for _ in range(2 * self.nthreads() + 2):
            submit()
        try:
            for fut, out in done:
                u = in_flight.pop(fut)
                if fut.status == "cancelled":
                    raise out  # the CancelledError
                if fut.status == "error":
                    _, exc, tb = out
                    if type(exc).__name__ == "KilledWorker":
                        raise StudyError(
                            f"Work unit {u['id']} was lost with the worker running it several "
                            f"times over ({exc}); out of memory? Try a smaller chunk_size."
                        ) from None
                    raise exc.with_traceback(tb)
                fut.release()
                submit()
                yield u, out
        finally:
            with contextlib.suppress(Exception):
                self.client.cancel(list(in_flight))

    def close(self) -> None:
        self.revoke_folder()
        with contextlib.suppress(Exception):
            self.client.close(timeout=5)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=10)


def _describe_execution(workers: int, scheduler: str | None) -> dict[str, Any]:
    if scheduler is None and workers == 1:
        return {"mode": "serial", "workers": 1}
    return {
        "mode": "local Dask cluster" if scheduler is None else "Dask cluster",
        "workers": workers if scheduler is None else None,
        "scheduler": scheduler,
        "parts": PARTS_BY_CLIENT,  # until the workers are found to see the run folder
    }


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------
def _manifest_files(result: RunResult, folder: Path) -> tuple[list[str], dict[str, str]]:
    files, hashes = [], {}
    for path in dict.fromkeys(result.written):
        if path.is_file():
            rel = path.relative_to(folder).as_posix()
            files.append(rel)
            hashes[rel] = _sha256(path)
    dirs = [f"{STUDENTS}/"] if result.keep == "students" else []
    return [*dirs, f"{PARTS}/", *sorted(files)], hashes


def run_study(
    spec: StudySpec,
    out: str | Path | None = None,
    *,
    overwrite: bool = False,
    resume: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
    analyse: Callable[[RunResult, StudySpec], RunResult] | None = None,
) -> RunResult:
    """Run a study into a run folder and return its results.

    Parameters
    ----------
    spec : StudySpec
        From :func:`toolkit.study.load_study`.
    out : str or Path, optional
        Run folder (default: the study's ``[output] folder``).
    overwrite : bool
        Replace an existing run in the folder: delete what it wrote (its manifest's files,
        unchanged, its parts and temporary files) and keep everything else; refuse, listing
        them, if files the run did not write are where it writes.
    resume : bool
        Continue an interrupted run of the same study (skips finished work units).
    workers : int
        Worker processes on this machine (default 1: units run in this process). More start a
        local Dask cluster for the run (loopback only, no dashboard). Same numbers for any value.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``) whose workers run the
        units; default the ``DASK_SCHEDULER_ADDRESS`` environment variable, if set. Workers
        need the toolkit and the same ``requirements.lock``, not this machine's disk: if every
        worker sees the run folder (the same files at the same absolute path), the workers
        write their units' parts into it; otherwise they return them to this process.
    progress : bool
        Show a progress bar (tqdm) and the analysis steps on standard error.
    analyse : callable, optional
        ``analyse(result, spec) -> result`` adding tables and figures; default
        :func:`toolkit.study.analysis.analyse_run`.

    Returns
    -------
    RunResult

    Raises
    ------
    StudyError
        For a folder that holds something else, a scheduler that cannot be reached, or
        workers that run another version of the toolkit.
    RunInterrupted
        On Ctrl-C (a ``KeyboardInterrupt``), after marking the manifest ``interrupted``;
        finished units are kept and ``resume=True`` continues.
    """
    workers, scheduler = _resolve_executor(workers, scheduler)
    folder = Path(out or spec.folder)
    _prepare_folder(folder, spec, overwrite, resume, dry_run=True)
    units = _units(spec)
    keep = "design" if spec.robustness is not None else spec.keep
    todo = [u for u in units if overwrite or not _unit_done(folder, u["id"], keep)]
    executor: _DaskExecutor | None = None
    if todo and (workers > 1 or scheduler is not None):
        executor = _DaskExecutor(workers, scheduler)  # before anything is written or deleted
    try:
        _prepare_folder(folder, spec, overwrite, resume)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / PARTS).mkdir(exist_ok=True)
        _remove_stale_temporaries(folder)
    except BaseException:
        if executor is not None:
            executor.close()
        raise
    manifest: dict[str, Any] = {
        "study": spec.resolved(),
        "source": spec.source,
        "overrides": [{"option": o, "setting": k, "value": v} for o, k, v in spec.overrides],
        "fingerprint": spec.fingerprint(),
        "master_seed": spec.seed,
        "seeding": "classroom i uses numpy SeedSequence(master_seed, spawn_key=(i,)) in every arm",
        "started": _now(),
        "finished": None,
        "status": "running",
        "execution": _describe_execution(workers, scheduler),
        "units": {"total": len(units), "done": 0},
        **provenance(),
    }
    mpath = folder / MANIFEST
    if resume and mpath.is_file():
        old = _read_manifest(folder)
        manifest["started"] = old.get("started", manifest["started"])
        manifest["resumed"] = [*old.get("resumed", []), _now()]
    _write_json_atomic(manifest, mpath)

    result = RunResult(
        folder,
        manifest,
        units=[u["id"] for u in units],
        arms=list(spec.arms),
        keep=spec.keep,
        progress=progress,
    )
    done = len(units) - len(todo)
    args = (spec.seed, spec.engine, spec.years, spec.reference, keep)
    bar = None
    stream: Any = (pair for pair in ())
    by_workers = False
    try:
        if progress:
            from tqdm.auto import tqdm

            total = sum(_unit_size(spec, u) for u in units)
            initial = total - sum(_unit_size(spec, u) for u in todo)
            what = "design point" if spec.robustness is not None else "classroom"
            bar = tqdm(total=total, initial=initial, unit=what, desc=spec.name, file=sys.stderr)
        if executor is not None:
            sees = executor.offer_folder(folder)
            manifest["execution"]["workers_seen"] = {
                addr: {**info, "sees_run_folder": sees.get(addr, False)}
                for addr, info in executor.info.items()
            }
            by_workers = executor.token is not None
            manifest["execution"]["parts"] = PARTS_BY_WORKERS if by_workers else PARTS_BY_CLIENT
            _write_json_atomic(manifest, mpath)
            stream = executor.run(todo, args)
        else:
            stream = ((u, run_unit(u, *args)) for u in todo)
        returned = 0
        for u, unit_out in stream:
            if not isinstance(unit_out, str):  # the tables, for this process to write
                _store_unit(folder, u["id"], keep, unit_out)
                if by_workers:
                    returned += 1
            done += 1
            if bar is not None:
                bar.update(_unit_size(spec, u))
        if executor is not None:
            executor.close()
            executor = None
        if by_workers:
            _remove_stale_temporaries(folder)  # of workers killed mid-write
            if returned:  # by workers that joined later and do not see the folder
                manifest["execution"]["parts_returned"] = returned
        if bar is not None:
            bar.close()
            bar = None
        manifest["units"]["done"] = done
        if spec.robustness is not None:  # parts hold each design point's classroom metrics
            from toolkit.robustness.report import analyse_design, collect_parts

            result.classrooms = collect_parts(folder / PARTS, [u["id"] for u in units])
            analyse = analyse or analyse_design
        elif analyse is None and spec.cohort is not None:
            from toolkit.realcohort.study import analyse_cohort_run as analyse
        elif analyse is None and spec.parameters_from == "posterior":
            from toolkit.calibration.predict import analyse_posterior_run as analyse
        elif analyse is None:
            from toolkit.study.analysis import analyse_run

            analyse = analyse_run
        result = analyse(result, spec)
    except BaseException as exc:
        if bar is not None:
            bar.close()
        if executor is not None:
            executor.revoke_folder()  # units still running write nothing from now on
            stream.close()  # cancels the units in flight while the client is still open
            executor.close()
        if by_workers:  # what is in the folder, whoever wrote it
            done = sum(_unit_done(folder, u["id"], keep) for u in units)
        interrupted = isinstance(exc, KeyboardInterrupt)
        manifest["status"] = "interrupted" if interrupted else "failed"
        manifest["stopped"] = _now()
        manifest["units"]["done"] = done
        if not interrupted:
            manifest["error"] = f"{type(exc).__name__}: {exc}"
        manifest["files"], manifest["sha256"] = _manifest_files(result, folder)
        _write_json_atomic(manifest, mpath)
        if interrupted:
            raise RunInterrupted(folder, done, len(units)) from None
        raise
    manifest["finished"] = _now()
    manifest["status"] = "complete"
    manifest["files"], manifest["sha256"] = _manifest_files(result, folder)
    _write_json_atomic(manifest, mpath)
    result.manifest = manifest
    if keep == "classrooms":  # the analysis columns served their purpose
        for u in units:
            _unit_paths(folder, u["id"], keep)[0].unlink(missing_ok=True)
    return result
