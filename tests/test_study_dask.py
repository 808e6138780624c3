"""The runner on real Dask clusters and real processes: workers killed, clients killed, Ctrl-C.

A ``LocalCluster`` of two worker processes on the loopback interface runs the same study as a
serial run and must write the same bytes; a worker killed mid-unit must not change them; a
client process killed (SIGKILL) or interrupted (SIGINT, as Ctrl-C sends it) mid-study must keep
what finished, and ``--resume`` must finish with the same bytes as an uninterrupted run. Every
wait is for a condition (a file, a task on a worker), with a timeout, never a fixed sleep.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

import toolkit.study.runner as runner
from toolkit.cli import main
from toolkit.study import StudyError, load_study, run_study

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
formats = ["png"]
"""
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
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as c:
        yield c


def test_local_cluster_gives_the_same_bytes_as_serial(cluster, serial, study_file, tmp_path):
    result = run_study(
        load_study(study_file), tmp_path / "c", scheduler=cluster.scheduler_address, progress=False
    )
    assert run_bytes(tmp_path / "c") == serial
    execution = result.manifest["execution"]
    assert execution["mode"] == "Dask cluster"
    assert execution["scheduler"] == cluster.scheduler_address
    assert len(execution["workers_seen"]) == 2


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
    before = finished_units(out)
    assert manifest["units"]["done"] >= len(before) >= 1
    _resume_and_compare(study_file, out, serial, before)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_a_clear_error(study_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "CONNECT_TIMEOUT", 1.5)
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
    monkeypatch.setattr(runner, "CONNECT_TIMEOUT", 1.0)
    address = f"tcp://127.0.0.1:{_free_port()}"
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    with pytest.raises(StudyError, match=address):
        run_study(load_study(study_file), tmp_path / "e", progress=False)
    with pytest.raises(StudyError, match="either an existing cluster or a local one"):
        run_study(load_study(study_file), tmp_path / "f", workers=2, progress=False)
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    with pytest.raises(StudyError, match="not both"):
        run_study(load_study(study_file), tmp_path / "g", workers=2, scheduler=address)
