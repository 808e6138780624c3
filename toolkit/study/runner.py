"""Run a study: simulate every arm on the same classrooms, resumably, into a run folder.

A run folder holds::

    manifest.json        config as resolved, master seed, versions, git commit, times, status
    parts/*.parquet      one file per work unit (sweep point x arm x chunk of classrooms)
    students.parquet     every student-year of every arm (the tidy results table)
    classrooms.csv       metrics per classroom (the unit of replication)
    summary.csv          arm x metric: mean and 95% CI, paired difference vs the reference
    figures/             presenter charts (PNG/SVG/PDF)

Work units are written atomically as they finish, so an interrupted run continues where it
stopped with ``resume=True`` (``--resume``), which checks that the study has not changed. An
existing run is never overwritten unless ``overwrite=True`` (``--overwrite``).

Classroom ``i`` uses seed ``classroom_seed(master, i)`` in every arm (common random numbers), so
differences between arms are paired by classroom; results are the same whatever the chunk
size, the number of worker processes or the order in which units run.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.engine import simulate_arms
from toolkit.model.cohort import classroom_seed
from toolkit.model.model import simulate_classroom
from toolkit.model.params import Parameters
from toolkit.model.regimes import Regime
from toolkit.study.spec import StudyError, StudySpec

__all__ = ["RunResult", "provenance", "run_study", "simulate_unit"]

MANIFEST = "manifest.json"
_PACKAGES = (
    "classroom-regimes-toolkit",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "mesa",
    "matplotlib",
    "pyarrow",
)


@dataclass
class RunResult:
    """What a finished run produced.

    Attributes
    ----------
    folder : Path
    students : pandas.DataFrame
        Every student-year: ``point, arm, replicate, year, regime, student, ...``.
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
    """

    folder: Path
    students: pd.DataFrame
    classrooms: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    tails: pd.DataFrame = field(default_factory=pd.DataFrame)
    decomposition: pd.DataFrame = field(default_factory=pd.DataFrame)
    figures: list[Path] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)


def _git_commit() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                check=True,
                timeout=10,
            ).stdout.strip()
        )
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def provenance() -> dict[str, Any]:
    """Package versions, Python, platform and git commit of the toolkit source.

    Returns
    -------
    dict
        ``{"versions": {...}, "python": ..., "platform": ..., "git": {"commit", "dirty"}}``.
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


def _units(spec: StudySpec) -> list[dict[str, Any]]:
    """Work units: a chunk of classrooms at one sweep point, in every arm (same classrooms)."""
    units = []
    for pi, (value, params, arms) in enumerate(spec.points()):
        for start in range(0, spec.classrooms, spec.chunk_size):
            stop = min(start + spec.chunk_size, spec.classrooms)
            units.append(
                {
                    "id": f"p{pi:03d}-c{start:06d}",
                    "point": pi,
                    "value": value,
                    "params": params.to_dict(),
                    "arms": {arm: [r.to_dict() for r in regs] for arm, regs in arms.items()},
                    "start": start,
                    "stop": stop,
                    "kernel": spec.kernel,
                }
            )
    return units


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
        engine's ``kernel``.
    seed : int
        The study's master seed.
    engine : {"fast", "mesa"}
    n_years : int

    Returns
    -------
    pandas.DataFrame
        Student table with ``point, sweep_value, arm, replicate`` in front.
    """
    params = Parameters.from_mapping(unit["params"], source=f"unit {unit['id']}")
    arms = {arm: [Regime(**r) for r in regs] for arm, regs in unit["arms"].items()}
    idx = list(range(unit["start"], unit["stop"]))
    seeds = [classroom_seed(seed, i) for i in idx]
    if engine == "fast":
        df = simulate_arms(
            arms, params, seeds, n_years=n_years, chunk_size=len(seeds), kernel=unit["kernel"]
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
    df = df.rename(columns={"classroom": "replicate"})
    df.insert(0, "sweep_value", unit["value"] if unit["value"] is not None else float("nan"))
    df.insert(0, "point", unit["point"])
    return df


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _prepare_folder(folder: Path, spec: StudySpec, overwrite: bool, resume: bool) -> None:
    if overwrite and resume:
        raise StudyError("Choose either --overwrite or --resume, not both.")
    if not folder.exists():
        if resume:
            raise StudyError(f"{folder}: nothing to resume, the folder does not exist.")
        return
    if not folder.is_dir():
        raise StudyError(f"{folder}: exists and is not a folder; choose another --out.")
    contents = list(folder.iterdir())
    if not contents:
        return
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise StudyError(
            f"{folder}: the folder is not empty and is not a run folder (no {MANIFEST}); "
            "nothing was changed. Choose another --out."
        )
    old = json.loads(manifest.read_text())
    if resume:
        if old.get("fingerprint") != spec.fingerprint():
            raise StudyError(
                f"{folder}: cannot resume, the run in this folder was made from a different study "
                f"(fingerprint {old.get('fingerprint')} vs {spec.fingerprint()}: seed, classrooms, "
                "years, arms, parameters or sweep changed). Use --overwrite or another --out."
            )
        return
    if not overwrite:
        raise StudyError(
            f"{folder}: already holds a run (study '{old.get('study', {}).get('name')}', started "
            f"{old.get('started')}, status {old.get('status')}); nothing was changed. Pass "
            "--resume to continue it, --overwrite to replace it, or --out for another folder."
        )
    for item in contents:
        if item.is_dir():
            shutil.rmtree(item)
        else:
            item.unlink()


def run_study(
    spec: StudySpec,
    out: str | Path | None = None,
    *,
    overwrite: bool = False,
    resume: bool = False,
    workers: int = 1,
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
        Replace an existing run in the folder.
    resume : bool
        Continue an interrupted run of the same study (skips finished work units).
    workers : int
        Worker processes (default 1). Same numbers for any value.
    progress : bool
        Show a progress bar (tqdm) on standard error.
    analyse : callable, optional
        ``analyse(result, spec) -> result`` adding tables and figures; default
        :func:`toolkit.study.analysis.analyse_run`.

    Returns
    -------
    RunResult
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise StudyError(f"workers must be a whole number >= 1, got {workers!r}.")
    folder = Path(out or spec.folder)
    _prepare_folder(folder, spec, overwrite, resume)
    parts = folder / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "study": spec.resolved(),
        "source": spec.source,
        "fingerprint": spec.fingerprint(),
        "master_seed": spec.seed,
        "seeding": "classroom i uses numpy SeedSequence(master_seed, spawn_key=(i,)) in every arm",
        "started": _now(),
        "finished": None,
        "status": "running",
        **provenance(),
    }
    mpath = folder / MANIFEST
    if resume and mpath.is_file():
        old = json.loads(mpath.read_text())
        manifest["started"] = old.get("started", manifest["started"])
        manifest["resumed"] = [*old.get("resumed", []), _now()]
    mpath.write_text(json.dumps(manifest, indent=2, default=str))

    units = _units(spec)
    todo = [u for u in units if not (parts / f"{u['id']}.parquet").is_file()]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        total = sum(u["stop"] - u["start"] for u in units)
        done = total - sum(u["stop"] - u["start"] for u in todo)
        bar = tqdm(total=total, initial=done, unit="classroom", desc=spec.name, file=sys.stderr)
    try:
        if workers == 1 or len(todo) <= 1:
            for u in todo:
                _write_atomic(
                    simulate_unit(u, spec.seed, spec.engine, spec.years),
                    parts / f"{u['id']}.parquet",
                )
                if bar is not None:
                    bar.update(u["stop"] - u["start"])
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                futures = {
                    pool.submit(simulate_unit, u, spec.seed, spec.engine, spec.years): u
                    for u in todo
                }
                for fut in as_completed(futures):
                    u = futures[fut]
                    _write_atomic(fut.result(), parts / f"{u['id']}.parquet")
                    if bar is not None:
                        bar.update(u["stop"] - u["start"])
    finally:
        if bar is not None:
            bar.close()

    students = pd.concat(
        [pd.read_parquet(parts / f"{u['id']}.parquet") for u in units], ignore_index=True
    )
    students = students.sort_values(
        ["point", "arm", "replicate", "year", "student"], kind="stable"
    ).reset_index(drop=True)
    students["arm"] = pd.Categorical(students["arm"], categories=list(spec.arms))
    _write_atomic(students, folder / "students.parquet")
    result = RunResult(folder=folder, students=students, manifest=manifest)
    if analyse is None:
        from toolkit.study.analysis import analyse_run

        analyse = analyse_run
    result = analyse(result, spec)
    manifest["finished"] = _now()
    manifest["status"] = "complete"
    manifest["files"] = sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.parent != parts
    )
    mpath.write_text(json.dumps(manifest, indent=2, default=str))
    result.manifest = manifest
    return result
