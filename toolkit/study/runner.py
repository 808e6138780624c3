"""Run a study: simulate every arm on the same classrooms, resumably, into a run folder.

:func:`run_study` is the run itself; the parts it is made of live beside it:

- :mod:`toolkit.study.result`: :class:`RunResult` (what a run produced, read from its folder)
  and :class:`RunInterrupted`;
- :mod:`toolkit.study.runfolder`: the run folder's layout, which files are the run's, and
  whether a run may start, resume or overwrite there;
- :mod:`toolkit.study.units`: work units (a chunk of classrooms at one sweep point, in every
  arm), how one is simulated and which are done;
- :mod:`toolkit.study.executor`: where units run (this process, local worker processes
  started for the run, or an existing Dask cluster).

An interrupted (or killed) run loses nothing that was finished and continues where it stopped
with ``resume=True`` (``--resume``), which checks that the study has not changed. The analysis
then streams over the parts (:mod:`toolkit.study.analysis`), never holding every student row.

The names of those modules are re-exported here, as they were defined here before.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from toolkit._base import plugins
from toolkit._base.atomic import write_json_atomic
from toolkit._base.provenance import now, provenance
from toolkit.study.analysis import analyse_run
from toolkit.study.executor import (
    CONNECT_TIMEOUT,
    LOCAL_CLUSTER_CONFIG,
    PARTS_BY_CLIENT,
    PARTS_BY_WORKERS,
    _DaskExecutor,
    _describe_execution,
    _LocalExecutor,
    _quiet_event_loop,
    _resolve_executor,
    _sees_folder,
    close_started,
    local_cluster,
)
from toolkit.study.pool import SerialPool
from toolkit.study.result import RunInterrupted, RunResult
from toolkit.study.runfolder import (
    MANIFEST,
    OUTPUTS,
    PARTS,
    STUDENTS,
    _prepare_folder,
    _read_manifest,
    _remove_stale_temporaries,
    _sha256,
    _store_unit,
    _unit_done,
    _unit_paths,
    check_run_folder,
    collect_parts,
)
from toolkit.study.spec import StudySpec
from toolkit.study.units import (
    _n_units,
    _unit_size,
    _units,
    design_points_done,
    label_unit_rows,
    run_unit,
    run_unit_into,
    simulate_unit,
    units_done,
)

__all__ = [
    "CONNECT_TIMEOUT",
    "LOCAL_CLUSTER_CONFIG",
    "MANIFEST",
    "OUTPUTS",
    "PARTS",
    "PARTS_BY_CLIENT",
    "PARTS_BY_WORKERS",
    "STUDENTS",
    "RunInterrupted",
    "RunResult",
    "check_run_folder",
    "default_analysis",
    "design_points_done",
    "label_unit_rows",
    "local_cluster",
    "provenance",
    "run_study",
    "run_unit",
    "run_unit_into",
    "simulate_unit",
    "study_kind",
    "units_done",
]
#: Private names that other modules, tests and benchmarks used from here before the split.
_REEXPORTED = (_n_units, _units, _sees_folder)


def study_kind(spec: StudySpec) -> str | None:
    """Return the kind of a study that an upper layer analyses, or None for an ordinary study.

    ``"robustness"`` (a ``[robustness]`` table), ``"cohort"`` (a ``[cohort]`` table) or
    ``"posterior"`` (``[parameters] from = "posterior"``).
    """
    if spec.robustness is not None:
        return "robustness"
    if spec.cohort is not None:
        return "cohort"
    if spec.parameters_from == "posterior":
        return "posterior"
    return None


def default_analysis(spec: StudySpec) -> Callable[[RunResult, StudySpec], RunResult]:
    """Return the analysis :func:`run_study` applies to a run of ``spec`` by default.

    An ordinary study's is :func:`toolkit.study.analysis.analyse_run`. The other kinds are
    analysed by the package that defines them, plugged in at ``analysis.<kind>``
    (:mod:`toolkit._base.plugins`, declared in ``toolkit/__init__.py``):
    :func:`toolkit.robustness.report.analyse_design`,
    :func:`toolkit.realcohort.analyse_cohort_run`,
    :func:`toolkit.calibration.predict.analyse_posterior_run`.
    """
    kind = study_kind(spec)
    return analyse_run if kind is None else plugins.load(f"analysis.{kind}")


def _manifest_files(result: RunResult, folder: Path) -> tuple[list[str], dict[str, str]]:
    files, hashes = [], {}
    for path in dict.fromkeys(result.written):
        if path.is_file():
            rel = path.relative_to(folder).as_posix()
            files.append(rel)
            hashes[rel] = _sha256(path)
    dirs = [f"{STUDENTS}/"] if result.keep == "students" else []
    return [*dirs, f"{PARTS}/", *sorted(files)], hashes


def _stop_early(early: dict[str, Any] | None) -> None:
    """Tell what an analysis began early (``start_early``) to take on no further work."""
    for work in (early or {}).values():
        stop = getattr(work, "stop", None)
        if stop is not None:
            stop()


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
    executor: Future[_LocalExecutor] | None = None,
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
        Worker processes on this machine (default 1: units run in this process). More start
        that many worker processes for the run (forked from a server that imported the toolkit
        once; no scheduler, no network). Same numbers for any value.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``) whose workers run the
        units; default the ``DASK_SCHEDULER_ADDRESS`` environment variable, if set. Workers
        need the toolkit and the same ``requirements.lock``, not this machine's disk: if every
        worker sees the run folder (the same files at the same absolute path), the workers
        write their units' parts into it; otherwise they return them to this process.
    progress : bool
        Show a progress bar (tqdm) and the analysis steps on standard error.
    executor : concurrent.futures.Future, optional
        The local worker processes for ``workers``, already starting
        (:func:`toolkit.study.executor.start_executor`, as the command line starts it before
        its estimate); closed unused when no unit is left to run.
    analyse : callable, optional
        ``analyse(result, spec) -> result`` adding tables and figures; default
        :func:`default_analysis` (:func:`toolkit.study.analysis.analyse_run` for an ordinary
        study, the analysis its package plugs in for a robustness, cohort or posterior study).

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
    started, executor = executor, None
    try:
        workers, scheduler = _resolve_executor(workers, scheduler)
        folder = Path(out or spec.folder)
        _prepare_folder(folder, spec, overwrite, resume, dry_run=True)
        units = _units(spec)
        keep = "design" if spec.robustness is not None else spec.keep
        todo = [u for u in units if overwrite or not _unit_done(folder, u["id"], keep)]
    except BaseException:
        close_started(started)
        raise
    early: Any = None
    if todo and (workers > 1 or scheduler is not None):
        # what the analysis can begin in this process while the workers start (and this
        # process would otherwise wait for them): the decomposition's chunks, until they are
        analyse = analyse or default_analysis(spec)
        start_early = getattr(analyse, "start_early", None)
        if start_early is not None:
            early = start_early(spec)
        # before anything is written or deleted
        try:
            if started is not None:
                executor = started.result()
            elif scheduler is None:
                executor = _LocalExecutor(workers)
            else:
                executor = _DaskExecutor(workers, scheduler)
        except BaseException:  # Ctrl-C while they start: the workers still starting are stopped
            close_started(started)
            raise
        finally:  # the workers are ready (or will not be): what began early takes no more
            _stop_early(early)
    elif started is not None:
        close_started(started)
    mpath = folder / MANIFEST
    try:
        manifest: dict[str, Any] = {
            "study": spec.resolved(),
            "source": spec.source,
            "overrides": [{"option": o, "setting": k, "value": v} for o, k, v in spec.overrides],
            "fingerprint": spec.fingerprint(),
            "master_seed": spec.seed,
            "seeding": (
                "classroom i uses numpy SeedSequence(master_seed, spawn_key=(i,)) in every arm"
            ),
            "started": now(),
            "finished": None,
            "status": "running",
            "execution": _describe_execution(workers, scheduler),
            "units": {"total": len(units), "done": 0},
            **provenance(),
        }
        _prepare_folder(folder, spec, overwrite, resume)
        if resume and mpath.is_file():
            old = _read_manifest(folder)
            manifest["started"] = old.get("started", manifest["started"])
            manifest["resumed"] = [*old.get("resumed", []), now()]
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(folder)
        # the manifest first: interrupted at any point from here on, the folder is a run folder
        # that --overwrite or --resume accept (a bare parts/ would be "not a run folder")
        write_json_atomic(manifest, mpath)
        (folder / PARTS).mkdir(exist_ok=True)
    except BaseException:  # Ctrl-C included: no worker is left for the exit to wait on
        if executor is not None:
            executor.close()
        raise

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
        analyse = analyse or default_analysis(spec)
        if executor is not None:
            sees = executor.offer_folder(folder)
            manifest["execution"]["workers_seen"] = {
                addr: {**info, "sees_run_folder": sees.get(addr, False)}
                for addr, info in executor.info.items()
            }
            by_workers = executor.token is not None
            manifest["execution"]["parts"] = PARTS_BY_WORKERS if by_workers else PARTS_BY_CLIENT
            write_json_atomic(manifest, mpath)
            # the analysis's tasks on the same workers: those that need no parts (the
            # decomposition) start now, beside the units; the rest after them
            result.pool = executor.analysis_pool(by_workers)
            stream = executor.run(todo, args)
        else:
            result.pool = SerialPool()  # the analysis's tasks in this process, when asked
        result.early = early
        prepare = getattr(analyse, "prepare", None)
        if prepare is not None:
            result.prepared = prepare(result, spec, result.pool)
        if executor is None:
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
            executor.revoke_folder()  # units write nothing from now on; the workers stay
        if by_workers:
            _remove_stale_temporaries(folder)  # of workers killed mid-write
            if returned:  # by workers that joined later and do not see the folder
                manifest["execution"]["parts_returned"] = returned
        if bar is not None:
            bar.close()
            bar = None
        manifest["units"]["done"] = done
        if spec.robustness is not None:  # parts hold each design point's classroom metrics
            result.classrooms = collect_parts(folder / PARTS, [u["id"] for u in units])
        result = analyse(result, spec)
        result.pool = result.prepared = result.early = None
        if executor is not None:
            executor.close()
            executor = None
    except BaseException as exc:
        result.pool = result.prepared = result.early = None
        if bar is not None:
            bar.close()
        if executor is not None:
            with _quiet_event_loop(isinstance(exc, KeyboardInterrupt)):  # Ctrl-C: no tracebacks
                executor.revoke_folder()  # units still running write nothing from now on
                stream.close()  # cancels the units in flight while the client is still open
                executor.close(now=True)
        if by_workers:  # what is in the folder, whoever wrote it
            done = sum(_unit_done(folder, u["id"], keep) for u in units)
        interrupted = isinstance(exc, KeyboardInterrupt)
        manifest["status"] = "interrupted" if interrupted else "failed"
        manifest["stopped"] = now()
        manifest["units"]["done"] = done
        if not interrupted:
            manifest["error"] = f"{type(exc).__name__}: {exc}"
        manifest["files"], manifest["sha256"] = _manifest_files(result, folder)
        write_json_atomic(manifest, mpath)
        if interrupted:
            raise RunInterrupted(folder, done, len(units)) from None
        raise
    manifest["finished"] = now()
    manifest["status"] = "complete"
    manifest["files"], manifest["sha256"] = _manifest_files(result, folder)
    write_json_atomic(manifest, mpath)
    result.manifest = manifest
    if keep == "classrooms":  # the analysis columns served their purpose
        for u in units:
            _unit_paths(folder, u["id"], keep)[0].unlink(missing_ok=True)
    return result
