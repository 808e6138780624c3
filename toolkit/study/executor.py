"""Where a run's work units run: in this process, in local worker processes, or on Dask.

In this process (``workers=1``, the default); in ``workers=N`` worker processes on this
machine (:class:`_LocalExecutor`: a process pool forked from a server that imported the
toolkit once, :mod:`toolkit._base.forkserver`; no scheduler, no network); or on an existing
Dask cluster (``scheduler="tcp://host:port"`` or the ``DASK_SCHEDULER_ADDRESS`` environment
variable, :class:`_DaskExecutor`). Workers that see the run folder (always local ones; on a
Dask cluster, every worker is asked whether it sees a token file this process wrote there, at
the same absolute path and with the same content) write each unit's parts themselves,
atomically, and return only an acknowledgement; otherwise they return each unit's tables to
this process, which writes them, so workers need no access to its disk. A unit whose worker
dies is run again (by a new local pool, or elsewhere by the Dask scheduler). The manifest's
``execution.parts`` says which of the two happened.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import signal
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit._base.atomic import temp_path
from toolkit._base.forkserver import (
    DASK_WORKER_PRELOAD,
    WORKER_PRELOAD,
    has_forkserver,
    preload,
)
from toolkit._base.provenance import git_commit
from toolkit.study.runfolder import _TOKEN, _token_matches
from toolkit.study.spec import StudyError
from toolkit.study.units import run_unit, run_unit_into

__all__ = [
    "CONNECT_TIMEOUT",
    "LOCAL_CLUSTER_CONFIG",
    "PARTS_BY_CLIENT",
    "PARTS_BY_WORKERS",
    "close_started",
    "local_cluster",
    "start_executor",
]

#: Seconds to wait for a Dask scheduler to answer, and for it to have a worker.
CONNECT_TIMEOUT = 10.0


def _sees_folder(token_path: str, token: str) -> bool:
    """Whether this process sees the token file at ``token_path`` and can write beside it.

    Run on each worker by :meth:`_DaskExecutor.offer_folder`: true when the file at that
    absolute path holds ``token`` (so it is the file the client wrote, not another machine's)
    and a file can be created and removed in its folder.
    """
    path = Path(token_path)
    if not _token_matches(path, token):
        return False
    mine = temp_path(path, unique=True)  # the run's temporary file to cleanup, as the rest
    try:
        mine.write_text(token)
        mine.unlink()
    except OSError:
        return False
    return True


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
        "git": git_commit(),
    }


#: Dask configuration of a local cluster started for a run (its scheduler and nannies, in this
#: process, and its workers). No statistical profiler on the workers: it samples every worker
#: thread's stack 100 times a second and makes pandas-heavy units about 10 % slower. The event
#: loops' health check every second instead of every 20 ms: idle, the 20 ms check costs this
#: process about 4 % of a core and each worker 2 %, taken from the units on a small machine.
#: Both only feed the dashboard and its warnings, and the run starts no dashboard.
#: Workers are forked from a server process (``"distributed.worker.multiprocessing-method":
#: "forkserver"``, instead of Dask's default of spawning a fresh interpreter for each) that
#: imported the toolkit's engine, unit and analysis code and loaded the compiled kernel and
#: matplotlib once (:data:`toolkit._base.forkserver.WORKER_PRELOAD`): measured, a worker's
#: start and first unit take 0.16 CPU-s instead of 2.2 to 2.5 spawned
#: (``benchmarks/bench_end_to_end.py start``).
#: Forking from the server, not from this process, keeps the workers clear of this
#: process's threads (the event loop's, the cluster's start). The server and its workers
#: ignore Ctrl-C; this process handles it
#: (``tests/test_study_dask.py::test_ctrl_c_says_what_was_kept_and_resumes``).
_MP_METHOD = "distributed.worker.multiprocessing-method"
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    _MP_METHOD: "forkserver",
}
PARTS_BY_WORKERS = "written by the workers into the run folder"
PARTS_BY_CLIENT = "returned by the workers to this process, which writes them"


def local_cluster(n_workers: int, *, tuned: bool = True, **kwargs: Any) -> Any:
    """Start a Dask ``LocalCluster`` of single-threaded worker processes as a run starts one.

    Workers on the loopback interface (``127.0.0.1``, a free port), no dashboard, Dask's logs
    at ERROR only, and with ``tuned`` the settings of :data:`LOCAL_CLUSTER_CONFIG` for the
    scheduler (in this process) and for every worker (given to each nanny, so that a worker
    restarted after a death has them too). Where the platform offers it (not Windows), the
    workers are forked from a fork server that imported
    :data:`toolkit._base.forkserver.WORKER_PRELOAD` once, instead of each being spawned as a
    fresh interpreter that imports it all again.

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

    config = dict(LOCAL_CLUSTER_CONFIG) if tuned else {}
    if config.get(_MP_METHOD) == "forkserver" and not has_forkserver():
        del config[_MP_METHOD]  # Windows: spawned, as Dask does by default
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
        if config.get(_MP_METHOD) == "forkserver":
            _preload_fork_server()
        return LocalCluster(**options)


def _preload_fork_server() -> None:
    """Make the fork server import the toolkit's preload list (unless it already runs).

    Dask sets its own list the first time it asks for the context; this one replaces it. A
    server started early by ``python -m toolkit`` (:func:`toolkit._base.forkserver.
    start_early`) imports the list of a run's own worker processes, without Dask: the workers
    then import Dask themselves.
    """
    from distributed.utils import get_mp_context

    get_mp_context()  # Dask's own preload list, set once: replaced below
    preload(DASK_WORKER_PRELOAD)


def start_executor(workers: int) -> Future[_LocalExecutor]:
    """Start the local worker processes of a run in a background thread, and return at once.

    The command line starts them this way before it times its estimate, so that the workers'
    start (waiting for the fork server's imports, forking) overlaps that work;
    :func:`toolkit.study.runner.run_study` takes the result (``executor=``), or closes it when
    the run has no units left to run.

    Parameters
    ----------
    workers : int
        Local worker processes (more than one).

    Returns
    -------
    concurrent.futures.Future
        Of the executor; its ``result()`` raises what starting it raised.
    """
    from concurrent.futures import ThreadPoolExecutor

    threads = ThreadPoolExecutor(1, thread_name_prefix="toolkit-workers-start")
    try:
        return threads.submit(_LocalExecutor, workers)
    finally:
        threads.shutdown(wait=False)


def close_started(started: Future[Any] | None) -> None:
    """Close an executor from :func:`start_executor` that will not be used (waiting for it)."""
    if started is not None:
        with contextlib.suppress(Exception):
            started.result().close()


#: Times a unit may be in flight on a local pool whose worker died before the run gives up.
LOCAL_ATTEMPTS = 3


def _local_worker_setup() -> None:
    """Set up a local worker process: ignore Ctrl-C, and exit when the run's process is gone.

    The terminal's Ctrl-C reaches every process of the foreground job; the run's process
    handles it (says what was kept, stops the workers). A worker whose run was killed
    (``SIGKILL``, no chance to stop it) would wait for work forever: a thread waits on the
    run's process instead and ends the worker when it is gone.
    """
    import multiprocessing

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        threading.Thread(
            target=_exit_with, args=(parent.sentinel,), name="toolkit-parent", daemon=True
        ).start()


def _exit_with(sentinel: int) -> None:
    from multiprocessing.connection import wait

    wait([sentinel])
    os._exit(1)


def _nothing() -> None:
    """Do nothing: a first task for each local worker, which starts the processes."""


class _Token:
    """The run folder's token file: workers write units' parts into the folder while it is there.

    Set by ``offer_folder`` (``folder``, ``token``); :meth:`revoke_folder` removes it.
    """

    folder: Path | None = None
    token: str | None = None

    def revoke_folder(self) -> None:
        """Remove the token file: units that finish from now on write nothing."""
        if self.folder is not None and self.token is not None:
            with contextlib.suppress(OSError):
                (self.folder / _TOKEN.format(self.token)).unlink(missing_ok=True)
        self.token = None


class _LocalExecutor(_Token):
    """Worker processes on this machine, started for a run (``workers=N``), without Dask.

    A :class:`concurrent.futures.ProcessPoolExecutor` whose processes are forked from the
    fork server (:mod:`toolkit._base.forkserver`, which imported the toolkit, loaded the
    kernels and matplotlib once) where the platform has one, spawned elsewhere. The workers see
    the run folder (this machine's disk) and write their units' parts into it while the run's
    token is there (:meth:`offer_folder`). A worker that dies (killed, out of memory) breaks the
    pool: a new one is started and the units that were in flight run again, up to
    :data:`LOCAL_ATTEMPTS` times each.

    Parameters
    ----------
    workers : int
        Worker processes.
    method : {"forkserver", "spawn"}, optional
        How to start them (default: the fork server where the platform has one).
    """

    address = None

    def __init__(self, workers: int, method: str | None = None) -> None:
        import multiprocessing

        self.workers = workers
        self.closed = False
        self._restarting = threading.Lock()
        method = method or ("forkserver" if has_forkserver() else "spawn")
        if method == "forkserver":
            preload(WORKER_PRELOAD)  # unless python -m toolkit started the server already
        self._context = multiprocessing.get_context(method)
        self.method = method
        self.pool = self._start()
        here = _worker_info()
        self.info = {f"local-{i + 1}": dict(here) for i in range(workers)}

    def _start(self) -> Any:
        from concurrent.futures import ProcessPoolExecutor

        with _sigint_ignored():  # the processes the pool starts now ignore the terminal's Ctrl-C
            pool = ProcessPoolExecutor(
                self.workers, mp_context=self._context, initializer=_local_worker_setup
            )
            try:
                for f in [pool.submit(_nothing) for _ in range(self.workers)]:
                    f.result()  # every worker started (and the fork server's imports done)
            except BaseException:  # Ctrl-C while waiting: no worker is left for exit to wait on
                self._stop(pool, now=True)
                raise
        return pool

    def restart(self, broken: Any) -> None:
        """Replace the pool ``broken`` (a worker's death broke it) by a new one.

        Only once per broken pool, whichever thread finds it broken first (the units' loop, or
        the thread that combines the decomposition); never once the executor is closed.
        """
        from concurrent.futures import CancelledError

        with self._restarting:
            if self.closed:
                raise CancelledError("the run's worker processes were stopped")
            if self.pool is broken:
                self._stop(broken, now=True)
                self.pool = self._start()

    def analysis_pool(self, sees_folder: bool) -> Any:
        """Return the analysis's pool on these workers (:class:`toolkit.study.pool.ProcessPool`)."""
        from toolkit.study.pool import ProcessPool

        return ProcessPool(self, attempts=LOCAL_ATTEMPTS)

    def offer_folder(self, folder: Path) -> dict[str, bool]:
        """Let the workers write units' parts into ``folder`` (as the Dask executor's does).

        Local workers see this machine's disk: the token file is written and stays until
        :meth:`revoke_folder`.
        """
        self.folder, self.token = folder.absolute(), uuid.uuid4().hex
        (self.folder / _TOKEN.format(self.token)).write_text(self.token)
        return dict.fromkeys(self.info, True)

    def run(
        self, todo: list[dict[str, Any]], args: tuple[Any, ...]
    ) -> Iterator[tuple[dict[str, Any], str | tuple[pd.DataFrame | None, pd.DataFrame]]]:
        """Yield ``(unit, result)`` as units finish; a few per worker in flight.

        The result is ``"written"`` for a unit whose worker wrote its parts (after
        :meth:`offer_folder`), else the unit's tables.
        """
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        pending = iter(todo)
        in_flight: dict[Any, tuple[dict[str, Any], Any]] = {}  # future: (unit, its pool)
        attempts: dict[str, int] = {}
        into = () if self.token is None else (str(self.folder), self.token)
        func = run_unit if self.token is None else run_unit_into

        def submit(u: dict[str, Any]) -> None:
            pool = self.pool
            in_flight[pool.submit(func, *into, u, *args)] = (u, pool)

        for _ in range(2 * self.workers + 2):
            u = next(pending, None)
            if u is not None:
                submit(u)
        try:
            while in_flight:
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                broken = None
                for fut in [f for f in in_flight if f in done]:  # in submission order
                    exc = fut.exception()
                    if isinstance(exc, BrokenProcessPool):
                        broken = in_flight[fut][1]
                        continue
                    u, _ = in_flight.pop(fut)
                    if exc is not None:
                        raise exc
                    yield u, fut.result()
                    u = next(pending, None)
                    if u is not None:
                        submit(u)
                if broken is not None:  # a worker died: every unit on its pool is lost with it
                    lost = [f for f, (_, pool) in in_flight.items() if pool is broken]
                    units = [in_flight.pop(f)[0] for f in lost]
                    for u in units:
                        attempts[u["id"]] = attempts.get(u["id"], 0) + 1
                        if attempts[u["id"]] >= LOCAL_ATTEMPTS:
                            raise StudyError(
                                f"Work unit {u['id']} was lost with a worker process that died "
                                f"while it ran, on each of its {LOCAL_ATTEMPTS} attempt(s); out "
                                "of memory? Try a smaller chunk_size, or fewer workers."
                            )
                    self.restart(broken)
                    for u in units:
                        submit(u)
        finally:
            for fut in in_flight:
                fut.cancel()

    @staticmethod
    def _stop(pool: Any, now: bool) -> None:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        if now:  # units in flight are abandoned (the token is withdrawn: they write nothing)
            for p in processes:
                with contextlib.suppress(Exception):
                    p.terminate()
        for p in processes:
            with contextlib.suppress(Exception):
                p.join(timeout=5)
                if p.is_alive():
                    p.kill()
                    p.join(timeout=5)

    def close(self, now: bool = False) -> None:
        """Withdraw the token and stop the workers (``now``: without waiting for their tasks)."""
        self.closed = True  # a task that finds its pool broken from now on is not run again
        self.revoke_folder()
        self._stop(self.pool, now)


class _DaskExecutor(_Token):
    """A Dask client on a local cluster started for the run, or on an existing scheduler."""

    def __init__(self, workers: int, scheduler: str | None) -> None:
        from distributed import Client

        self.cluster = None
        self.address = scheduler
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

    def analysis_pool(self, sees_folder: bool) -> Any:
        """Return the analysis's pool on these workers (:class:`toolkit.study.pool.DaskPool`)."""
        from toolkit.study.pool import DaskPool

        return DaskPool(self.client, sees_folder=sees_folder)

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

    def close(self, now: bool = False) -> None:
        """Withdraw the token, close the client and a cluster started for the run.

        ``now`` changes nothing here: the scheduler cancels the tasks still running.
        """
        self.revoke_folder()
        with contextlib.suppress(Exception):
            self.client.close(timeout=5)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=10)


@contextlib.contextmanager
def _quiet_event_loop(quiet: bool) -> Iterator[None]:
    """Keep Dask's, Tornado's and asyncio's log records off the console (if ``quiet``).

    After Ctrl-C, which reaches the worker processes too, the client's event loop reports the
    dead workers' connections while the client closes: expected then, and their tracebacks
    would bury the message saying what was kept. The loop stops when the client and the run's
    cluster close, so nothing is logged once the block has ended; the levels are restored then.
    """
    names = ("distributed", "tornado", "asyncio")
    levels = {n: logging.getLogger(n).level for n in names}
    if quiet:
        for n in names:
            logging.getLogger(n).setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)


def _describe_execution(workers: int, scheduler: str | None) -> dict[str, Any]:
    if scheduler is None and workers == 1:
        return {"mode": "serial", "workers": 1}
    return {
        "mode": "local worker processes" if scheduler is None else "Dask cluster",
        "workers": workers if scheduler is None else None,
        "scheduler": scheduler,
        "parts": PARTS_BY_CLIENT,  # until the workers are found to see the run folder
    }
