"""The runner on real Dask clusters and real processes: workers killed, clients killed, Ctrl-C.

A ``LocalCluster`` of two worker processes on the loopback interface, and a run's own local
worker processes (``workers=2``), run the same study as a serial run and must write the same
bytes; a worker killed mid-unit must not change them; a client process killed (SIGKILL) or
interrupted (SIGINT, as Ctrl-C sends it) mid-study must keep what finished, and ``--resume``
must finish with the same bytes as an uninterrupted run. Workers
that see the run folder write their units' parts themselves; a worker that sees another disk at
the run folder's path (one in its own mount namespace, as a worker on another machine) makes
the run fall back to parts returned to the client, with the same bytes. Every wait is for a
condition (a file, a task on a worker), with a timeout, never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

import toolkit.study.executor as executor
import toolkit.study.runner as runner
import toolkit.study.units as study_units
from toolkit.charts.runs import DRAWING_MODULES
from toolkit.cli import main
from toolkit.study import StudyError, load_study, run_study
from toolkit.study.runner import local_cluster

STUDY = """
[study]
name = "dask-test"
seed = 11
classrooms = 24
chunk_size = 3
[parameters]
n_students = 12
n_days = 60
[output]
formats = []
"""
# No charts: these tests compare parts and tables (run_bytes) and read messages; at 200 dpi the
# charts took about 3 CPU-seconds of each of this module's nine completed runs.
N_UNITS = 8


def wait_for(condition, timeout: float = 120.0, what: str = "condition"):
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def run_bytes(folder: Path) -> dict[str, bytes]:
    """Every part and table a run wrote (not the manifest or figures), as bytes."""
    files = [*folder.glob("students.parquet/*.parquet"), *folder.glob("parts/*.parquet")]
    files += [folder / n for n in ("classrooms.csv", "summary.csv", "tails.csv")]
    files += [p for p in [folder / "decomposition.csv"] if p.is_file()]
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def finished_units(folder: Path) -> list[Path]:
    return sorted((folder / "parts").glob("*.classrooms.parquet"))


@pytest.fixture(scope="module")
def study_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dask") / "study.toml"
    path.write_text(STUDY)
    return path


@pytest.fixture(scope="module")
def serial(study_file) -> dict[str, bytes]:
    """The reference: the study run serially in this process."""
    folder = study_file.parent / "serial"
    run_study(load_study(study_file), folder, progress=False)
    out = run_bytes(folder)
    assert sum(n.startswith("students.parquet/") for n in out) == N_UNITS
    return out


@pytest.fixture(scope="module")
def cluster():
    # Dask's own settings, as on workers started with `dask worker`
    with local_cluster(2, tuned=False) as c:
        yield c


def _how_started() -> dict:
    """On a worker: whether it came from the fork server (its preload already loaded)."""
    import sys as _sys

    import dask

    return {
        "preloaded": "toolkit.study._forkserver" in _sys.modules,
        "parent": os.getppid(),
        "method": dask.config.get("distributed.worker.multiprocessing-method"),
    }


@pytest.mark.skipif(not executor.has_forkserver(), reason="no fork server on this platform")
def test_a_runs_cluster_forks_its_workers_from_a_preloaded_server(monkeypatch):
    from distributed import Client

    with local_cluster(1) as c, Client(c, set_as_default=False) as client:
        (info,) = client.run(_how_started).values()
    # forked from the server (not spawned by this process), with the kernel already loaded
    assert info == {"preloaded": True, "parent": info["parent"], "method": "forkserver"}
    assert info["parent"] != os.getpid()
    # where the platform has no fork server (Windows), the workers are spawned as Dask does
    monkeypatch.setattr(executor, "has_forkserver", lambda: False)
    with local_cluster(1) as c, Client(c, set_as_default=False) as client:
        (info,) = client.run(_how_started).values()
    assert info["method"] == "spawn" and not info["preloaded"]


def test_local_cluster_gives_the_same_bytes_as_serial(cluster, serial, study_file, tmp_path):
    result = run_study(
        load_study(study_file), tmp_path / "c", scheduler=cluster.scheduler_address, progress=False
    )
    assert run_bytes(tmp_path / "c") == serial
    execution = result.manifest["execution"]
    assert execution["mode"] == "Dask cluster"
    assert execution["scheduler"] == cluster.scheduler_address
    assert len(execution["workers_seen"]) == 2
    # the workers see this disk: they wrote the parts, and left no token or temporary file
    assert execution["parts"] == runner.PARTS_BY_WORKERS
    assert all(w["sees_run_folder"] for w in execution["workers_seen"].values())
    assert "parts_returned" not in execution
    assert not [p for p in (tmp_path / "c").rglob(".*") if p.name.endswith(".tmp")]


def test_worker_killed_mid_unit_is_recomputed(cluster, serial, study_file, tmp_path):
    from distributed import Client

    killed: dict[str, list[str]] = {}
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        pids = client.run(os.getpid)

        def kill_a_busy_worker() -> None:
            def busy():
                for addr, keys in client.processing().items():
                    units = [str(k) for k in keys if str(k).startswith("unit-")]
                    if units and addr in pids:
                        return addr, units
                return None

            addr, units = wait_for(busy, what="a worker running a unit")
            os.kill(pids[addr], signal.SIGKILL)
            killed[addr] = units

        thread = threading.Thread(target=kill_a_busy_worker)
        thread.start()
        run_study(
            load_study(study_file),
            tmp_path / "k",
            scheduler=cluster.scheduler_address,
            progress=False,
        )
        thread.join()
        assert killed, "no worker was killed"
        (addr,) = killed
        assert not _alive(pids[addr])
    assert run_bytes(tmp_path / "k") == serial


def _cli(study_file: Path, out: Path, *extra: str) -> subprocess.Popen:
    """Start ``python -m toolkit run`` in its own process group, with Ctrl-C enabled."""
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", "run", str(study_file), "--out", str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # a child started from a background job may inherit SIGINT ignored; a terminal's is not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _resume_and_compare(study_file: Path, out: Path, serial: dict[str, bytes], before) -> None:
    kept = {p.name: p.read_bytes() for p in before}
    run_study(load_study(study_file), out, resume=True, progress=False)
    assert run_bytes(out) == serial
    assert all((out / "parts" / name).read_bytes() == b for name, b in kept.items())


def test_client_killed_mid_study_then_resumed(study_file, serial, tmp_path):
    out = tmp_path / "killed"
    proc = _cli(study_file, out, "--workers", "2", "--no-estimate", "--no-progress")
    try:
        wait_for(lambda: finished_units(out), what="a finished unit")
        family = psutil.Process(proc.pid).children(recursive=True)
        assert len(family) >= 2  # the two worker processes of its local cluster
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    # its workers notice that their client is gone and exit
    wait_for(lambda: not any(_alive(p.pid) for p in family), 60, "the workers to exit")
    before = finished_units(out)
    assert 1 <= len(before) < N_UNITS, "the run was not killed mid-study"
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    _resume_and_compare(study_file, out, serial, before)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_says_what_was_kept_and_resumes(study_file, serial, tmp_path, workers):
    out = tmp_path / f"int{workers}"
    proc = _cli(study_file, out, "--workers", workers, "--no-estimate")
    try:
        wait_for(lambda: finished_units(out), what="a finished unit")
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C: the whole foreground process group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "Interrupted: kept the" in err and "work units that had finished" in err
    assert f"--out {out}" in err and "--resume" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    if workers == "2":  # the run's own local cluster: its workers wrote the parts
        assert manifest["execution"]["parts"] == runner.PARTS_BY_WORKERS
        assert not list(out.glob(".workers-write-*.tmp"))  # the token was withdrawn
    before = finished_units(out)
    assert manifest["units"]["done"] >= len(before) >= 1
    _resume_and_compare(study_file, out, serial, before)


# ---------------------------------------------------------------------------------------------
# workers that write, and workers that cannot see the run folder
# ---------------------------------------------------------------------------------------------
def parquet_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.parquet") if p.is_file()]


def test_a_worker_writes_only_while_the_runs_token_is_there(study_file, serial, tmp_path):
    spec = load_study(study_file)
    unit = runner._units(spec)[1]
    args = (spec.seed, spec.engine, spec.years, spec.reference, spec.keep)
    folder = tmp_path / "w"
    (folder / "parts").mkdir(parents=True)
    token = "0123456789abcdef"
    # no token file: the worker writes nothing and returns the tables
    out = runner.run_unit_into(str(folder), token, unit, *args)
    assert isinstance(out, tuple) and not parquet_files(folder)
    # another run's token (another machine's file at this path): the same
    (folder / f".workers-write-{token}.tmp").write_text("another run")
    assert not runner._sees_folder(str(folder / f".workers-write-{token}.tmp"), token)
    assert isinstance(runner.run_unit_into(str(folder), token, unit, *args), tuple)
    # the run's token: the worker writes the parts serial writes, byte for byte
    (folder / f".workers-write-{token}.tmp").write_text(token)
    assert runner._sees_folder(str(folder / f".workers-write-{token}.tmp"), token)
    assert runner.run_unit_into(str(folder), token, unit, *args) == "written"
    uid = unit["id"]
    for rel in (f"students.parquet/{uid}.parquet", f"parts/{uid}.classrooms.parquet"):
        assert (folder / rel).read_bytes() == serial[rel]
    assert [p.name for p in folder.rglob("*.tmp")] == [f".workers-write-{token}.tmp"]
    # the token withdrawn while the unit ran (the run stopped): nothing is renamed into place
    calls = []

    def gone_after_first_check(path, tok):
        calls.append(path)
        return len(calls) == 1

    (folder / "students.parquet" / f"{uid}.parquet").unlink()
    (folder / "parts" / f"{uid}.classrooms.parquet").unlink()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(study_units, "_token_matches", gone_after_first_check)  # run_unit_into reads it
        assert isinstance(runner.run_unit_into(str(folder), token, unit, *args), tuple)
    assert len(calls) == 2 and not parquet_files(folder)
    assert [p.name for p in folder.rglob("*.tmp")] == [f".workers-write-{token}.tmp"]


def test_workers_that_do_not_see_the_folder_return_their_parts(
    cluster, serial, study_file, tmp_path, monkeypatch
):
    """Portable: the client finds that no worker sees the folder (as a remote cluster)."""
    monkeypatch.setattr(
        runner._DaskExecutor,
        "offer_folder",
        lambda self, folder: dict.fromkeys(self.info, False),
    )
    result = run_study(
        load_study(study_file), tmp_path / "r", scheduler=cluster.scheduler_address, progress=False
    )
    assert run_bytes(tmp_path / "r") == serial
    execution = result.manifest["execution"]
    assert execution["parts"] == runner.PARTS_BY_CLIENT
    assert not any(w["sees_run_folder"] for w in execution["workers_seen"].values())


def _elsewhere_command(hide: Path, *command: str) -> list[str]:
    """``command`` in its own mount namespace where ``hide`` is an empty tmpfs."""
    base = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        base.append("--map-root-user")
    return [*base, "sh", "-c", 'mount -t tmpfs tmpfs "$0" && exec "$@"', str(hide), *command]


# a second scheduler in this process: its HTTP server finds the module cluster's port taken
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_a_worker_on_another_disk_makes_the_client_write(serial, study_file, tmp_path):
    """A real worker that sees another disk at the run folder's path (an empty tmpfs mounted
    there in its own mount namespace, as on another machine) and one that sees this disk: the
    run falls back to parts returned to the client, with the same bytes."""
    from distributed import Client

    hide = tmp_path / "shared"
    hide.mkdir()
    if (
        shutil.which("unshare") is None
        or subprocess.run(_elsewhere_command(hide, "true"), capture_output=True).returncode
    ):
        pytest.skip("needs unshare and a mount namespace to give a worker another disk")
    with local_cluster(1, tuned=False) as cluster:
        address = cluster.scheduler_address
        worker = subprocess.Popen(
            _elsewhere_command(
                hide,
                *(sys.executable, "-m", "dask", "worker", address, "--nthreads", "1"),
                *("--no-nanny", "--no-dashboard", "--name", "elsewhere"),
            ),
            cwd=Path(runner.__file__).resolve().parents[2],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with Client(address, set_as_default=False) as client:
                client.wait_for_workers(2, timeout=120)
                names = {w["name"]: a for a, w in client.scheduler_info()["workers"].items()}
            result = run_study(
                load_study(study_file), hide / "run", scheduler=address, progress=False
            )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert run_bytes(hide / "run") == serial
    execution = result.manifest["execution"]
    assert execution["parts"] == runner.PARTS_BY_CLIENT
    seen = {a: w["sees_run_folder"] for a, w in execution["workers_seen"].items()}
    assert seen == {a: n != "elsewhere" for n, a in names.items()}
    assert not list((hide / "run").glob(".workers-write-*.tmp"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_a_clear_error(study_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(executor, "CONNECT_TIMEOUT", 1.5)
    address = f"tcp://127.0.0.1:{_free_port()}"
    t0 = time.monotonic()
    with pytest.raises(StudyError, match=rf"Cannot reach the Dask scheduler at {address}"):
        run_study(load_study(study_file), tmp_path / "u", scheduler=address, progress=False)
    assert time.monotonic() - t0 < 20  # a timeout, not a hang
    assert not (tmp_path / "u").exists()  # nothing was written
    args = ["--out", str(tmp_path / "v"), "--scheduler", address, "--no-estimate"]
    code = main(["run", str(study_file), *args, "--no-progress"])
    assert code == 2 and f"Cannot reach the Dask scheduler at {address}" in capsys.readouterr().err


def test_scheduler_from_the_environment_and_conflicts(study_file, tmp_path, monkeypatch):
    monkeypatch.setattr(executor, "CONNECT_TIMEOUT", 1.0)
    address = f"tcp://127.0.0.1:{_free_port()}"
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    with pytest.raises(StudyError, match=address):
        run_study(load_study(study_file), tmp_path / "e", progress=False)
    with pytest.raises(StudyError, match="either an existing cluster or a local one"):
        run_study(load_study(study_file), tmp_path / "f", workers=2, progress=False)
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    with pytest.raises(StudyError, match="not both"):
        run_study(load_study(study_file), tmp_path / "g", workers=2, scheduler=address)


# ---------------------------------------------------------------------------------------------
# a run's own local worker processes (workers=N): a worker that dies
# ---------------------------------------------------------------------------------------------
def _kill_a_local_worker(monkeypatch) -> dict:
    """Kill one of a run's local workers as soon as its units are in flight (in a thread).

    Returns a dict that gets the killed pid and how often the pool was restarted.
    """
    seen: dict = {"restarts": 0}
    started = threading.Event()
    real_run, real_restart = executor._LocalExecutor.run, executor._LocalExecutor.restart

    def run(self, todo, args):
        seen["executor"] = self
        started.set()
        yield from real_run(self, todo, args)

    def restart(self, broken):
        seen["restarts"] += self.pool is broken
        real_restart(self, broken)

    monkeypatch.setattr(executor._LocalExecutor, "run", run)
    monkeypatch.setattr(executor._LocalExecutor, "restart", restart)

    def kill() -> None:
        assert started.wait(120)
        seen["pids"] = started_processes(seen["executor"])
        first = seen["pids"][0]
        os.kill(first, signal.SIGKILL)
        seen["killed"] = first

    seen["thread"] = threading.Thread(target=kill)
    seen["thread"].start()
    return seen


def started_processes(ex) -> list[int]:
    return sorted(p.pid for p in ex.pool._processes.values())


def test_a_local_worker_killed_mid_run_has_its_units_run_again(
    serial, study_file, tmp_path, monkeypatch
):
    seen = _kill_a_local_worker(monkeypatch)
    result = run_study(load_study(study_file), tmp_path / "k", workers=2, progress=False)
    seen["thread"].join()
    # the units in flight (and the decomposition's chunks) ran again on a new pool
    assert seen["restarts"] >= 1 and not _alive(seen["killed"])
    assert run_bytes(tmp_path / "k") == serial
    execution = result.manifest["execution"]
    assert execution["mode"] == "local worker processes"
    assert execution["parts"] == runner.PARTS_BY_WORKERS
    assert not list((tmp_path / "k").glob(".workers-write-*.tmp"))


def test_a_unit_lost_too_often_stops_the_run_with_a_clear_error(study_file, tmp_path, monkeypatch):
    monkeypatch.setattr(executor, "LOCAL_ATTEMPTS", 1)
    seen = _kill_a_local_worker(monkeypatch)
    with pytest.raises(StudyError, match=r"was lost with a worker process that died") as err:
        run_study(load_study(study_file), tmp_path / "k", workers=2, progress=False)
    seen["thread"].join()
    assert "chunk_size" in str(err.value)
    manifest = json.loads((tmp_path / "k" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "lost with a worker" in manifest["error"]
    # the workers are gone; nothing of the run is left running
    wait_for(lambda: not any(_alive(p) for p in seen["pids"]), 30, "the workers to end")


def _loaded() -> dict:
    """In a worker: whether the fork server's preload is there, and who forked it."""
    import gc as _gc
    import sys as _sys

    return {
        "kernel and matplotlib": "toolkit.study._forkserver" in _sys.modules,
        "chart layer": all(
            m in _sys.modules for m in ("toolkit.charts.runs", *DRAWING_MODULES, "matplotlib")
        ),
        "frozen for the collector": _gc.get_freeze_count(),
        "parent": os.getppid(),
    }


@pytest.mark.skipif(not executor.has_forkserver(), reason="no fork server on this platform")
def test_a_runs_local_workers_come_preloaded_from_the_fork_server():
    ex = executor._LocalExecutor(2)
    try:
        info = ex.pool.submit(_loaded).result()
        assert ex.method == "forkserver"
        assert info["kernel and matplotlib"] and info["chart layer"]
        assert info["frozen for the collector"] > 100_000  # the preload's objects
        assert info["parent"] != os.getpid()  # forked by the server, not by this process
        assert list(ex.info) == ["local-1", "local-2"]
    finally:
        ex.close()
    assert ex.closed


def test_a_broken_pool_is_replaced_once_and_never_after_close():
    """The units' loop and the decomposition's thread may both find the same pool broken:
    it is replaced once; once the run has closed its workers, never."""
    from concurrent.futures import CancelledError

    ex = executor._LocalExecutor(1)
    try:
        old = ex.pool
        ex.restart(old)
        new = ex.pool
        assert new is not old
        ex.restart(old)  # found broken a second time, by another thread: already replaced
        assert ex.pool is new
        assert new.submit(os.getpid).result() != os.getpid()
    finally:
        ex.close()
    with pytest.raises(CancelledError):
        ex.restart(ex.pool)


def test_where_there_is_no_fork_server_the_local_workers_are_spawned(
    serial, study_file, tmp_path, monkeypatch
):
    """Windows has no fork server: a run's workers are spawned (fresh interpreters that import
    the toolkit themselves), with the same bytes."""
    monkeypatch.setattr(executor, "has_forkserver", lambda: False)
    made = []
    real = executor._LocalExecutor.__init__

    def init(self, workers, method=None):
        real(self, workers, method)
        made.append(self.method)

    monkeypatch.setattr(executor._LocalExecutor, "__init__", init)
    run_study(load_study(study_file), tmp_path / "spawned", workers=2, progress=False)
    assert made == ["spawn"]
    assert run_bytes(tmp_path / "spawned") == serial
