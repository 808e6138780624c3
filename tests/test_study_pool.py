"""The analysis of a run as tasks (issue 20): in batches, chunks and pools, the same numbers.

A run's analysis reads its parts in batches of consecutive work units, decomposes the
classrooms chunk by chunk and draws each figure as its own task, on the run's Dask workers or
in this process (:mod:`toolkit.study.pool`). Whatever the batch, chunk or pool, the tables
must be the same bytes as the analysis of one part at a time in this process, which is what
``tests/test_study_stream.py`` checks against the whole student table in memory. (A local
Dask cluster's run against a serial one: ``tests/test_study_dask.py``.)
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

import toolkit.charts.runs as runs
import toolkit.study.analysis as analysis
from toolkit.metrics import compare_conditions
from toolkit.model.cohort import classroom_seed
from toolkit.study import parse_study, run_study
from toolkit.study.decompose import combine_chunks, decompose, record_chunk
from toolkit.study.pool import SerialPool
from toolkit.study.runner import RunResult, _units

TABLES = ("classrooms.csv", "summary.csv", "tails.csv", "decomposition.csv")


def _spec(**study):
    return parse_study(
        {
            "study": {"name": "pool", "seed": 5, "classrooms": 8, "chunk_size": 2, **study},
            "arms": {"standardized": "standardized", "personal": "personal"},
            "parameters": {"n_students": 8, "n_days": 12},
            "output": {"formats": ["png"]},
        },
        source="test",
    )


def _no_figures(monkeypatch):
    monkeypatch.setattr(runs, "study_figures", lambda *a, **k: {})


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """A run analysed with every unit in one batch (the default at this size)."""
    spec = _spec(decomposition=3, years=2)
    folder = tmp_path_factory.mktemp("pool") / "run"
    with pytest.MonkeyPatch.context() as mp:
        _no_figures(mp)
        run_study(spec, folder, progress=False)
    return spec, folder


def test_batches_of_one_unit_give_the_same_bytes(reference_run, tmp_path, monkeypatch):
    spec, folder = reference_run
    _no_figures(monkeypatch)
    monkeypatch.setattr(analysis, "BATCH_ROWS", 1)  # every unit its own batch (and task)
    result = RunResult(folder, units=[u["id"] for u in _units(spec)], arms=list(spec.arms))
    assert len(analysis._batches(result)) == len(result.units) == 4
    before = {name: (folder / name).read_bytes() for name in TABLES}
    analysis.analyse_run(result, spec)
    assert {name: (folder / name).read_bytes() for name in TABLES} == before
    # the classroom table's blocks were written to temporary files, all removed
    assert not list(folder.glob(".classrooms-*"))


def test_a_pool_of_several_threads_gets_two_batches_each(reference_run):
    spec, folder = reference_run
    result = RunResult(folder, units=[u["id"] for u in _units(spec)], arms=list(spec.arms))
    assert analysis._batches(result) == [result.units]  # 4 small units: one batch serially
    # two threads: at least two batches each where the units allow, in order, none lost
    assert analysis._batches(result, threads=2) == [[u] for u in result.units]
    halves = analysis._batches(result, threads=1) + analysis._batches(result, threads=3)
    assert halves == [result.units, *[[u] for u in result.units]]
    assert analysis._batches(result, rows=1, threads=2) == [[u] for u in result.units]


def test_batches_read_what_the_parts_hold(reference_run):
    spec, folder = reference_run
    result = RunResult(folder, units=[u["id"] for u in _units(spec)], arms=list(spec.arms))
    one_by_one = pd.concat(result.student_parts(), ignore_index=True)
    batches = list(result.student_batches(rows=1))
    assert [ids for ids, _ in batches] == [[u] for u in result.units]
    together = pd.concat([df for _, df in batches], ignore_index=True)
    pd.testing.assert_frame_equal(together, one_by_one)
    (ids, whole), *rest = result.student_batches(rows=10**9)
    assert ids == result.units and not rest
    pd.testing.assert_frame_equal(whole, one_by_one)
    assert list(whole["arm"].cat.categories) == list(spec.arms)


def test_decomposition_in_chunks_is_decompose(reference_run):
    spec, _ = reference_run
    (_, params, arms), *_ = spec.points()
    seeds = [classroom_seed(spec.seed, i) for i in range(5)]
    whole = decompose(arms, params, seeds, reference="standardized", n_years=2)
    records = [
        record_chunk(arms, params, seeds[lo : lo + 2], reference="standardized", n_years=2)
        for lo in range(0, 5, 2)
    ]
    per = combine_chunks(records, params)
    assert [r["classrooms"] for r in records] == [2, 2, 1]
    from toolkit.study.decompose import contribution_table

    pd.testing.assert_frame_equal(contribution_table(per, "standardized"), whole, check_exact=True)
    assert per.attrs["replay_error"] == whole.attrs["replay_error"]


def test_serial_pool_runs_a_task_once_when_asked():
    calls = []
    pool = SerialPool()
    task = pool.submit(lambda x: calls.append(x) or x * 2, 21)
    assert calls == []  # nothing runs before its result is asked for
    assert task.result() == 42 and task.result() == 42
    assert calls == [21]
    assert list(pool.map(lambda x, y: x + y, [1, 2, 3], 10)) == [11, 12, 13]


def test_compare_conditions_pivots_every_metric_alike():
    rng = np.random.default_rng(3)
    units = pd.DataFrame(
        {
            "arm": np.repeat(["b", "a", "c"], 6),
            "replicate": np.tile([5, 1, 4, 2, 3, 0], 3),
            "x": rng.normal(size=18),
            "y": rng.normal(size=18),
        }
    )
    units.loc[3, "y"] = np.nan
    both = compare_conditions(units, "arm", "a", pair_on="replicate", metrics=["x", "y"])
    each = pd.concat(
        [compare_conditions(units, "arm", "a", pair_on="replicate", metrics=[m]) for m in "xy"],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(both, each, check_exact=True)
    # the paired difference of "x" for arm "b", by hand (pairs matched on replicate)
    wide = units.pivot(index="replicate", columns="arm", values="x")
    row = both[(both["condition"] == "b") & (both["metric"] == "x")].iloc[0]
    assert row["diff_vs_reference"] == pytest.approx((wide["b"] - wide["a"]).mean(), abs=1e-15)


def _early_spec():
    return parse_study(
        {
            "study": {"name": "early", "seed": 5, "classrooms": 8, "decomposition": 5},
            "arms": {"standardized": "standardized", "personal": "personal"},
            "parameters": {"n_students": 8, "n_days": 12},
            "sweep": {"parameter": "teacher_capacity", "values": [0.5, 1.0]},
        },
        source="test",
    )


class _Counting(SerialPool):
    def __init__(self):
        self.submitted = 0

    def submit(self, fn, *args, priority=0):
        self.submitted += 1
        return super().submit(fn, *args, priority=priority)


def test_the_chunk_begun_early_is_not_submitted_again_and_changes_nothing(monkeypatch):
    """A run with workers begins the decomposition's first chunk in its own process while the
    workers start (``start_early``); told to stop (the workers are ready) while it runs, it
    takes no further chunk. That chunk is not given to the pool as well, and the table is the
    same bytes as the pool's alone."""
    monkeypatch.setattr(analysis, "DECOMPOSITION_CHUNK", 2)
    spec = _early_spec()
    go = threading.Event()
    real = analysis._record_chunk
    monkeypatch.setattr(analysis, "_record_chunk", lambda *a: go.wait(30) and real(*a))
    early = analysis.start_early(spec)["decomposition"]
    taken = early.stop()
    assert list(taken) == [(0, 0)]  # the first point's first chunk, taken at once
    go.set()
    taken[(0, 0)].result(timeout=60)
    time.sleep(0.2)
    assert list(early.futures) == [(0, 0)]  # nothing taken after stop()
    pool = _Counting()
    table = analysis._collect_decomposition(analysis._submit_decomposition(spec, pool, taken))
    assert pool.submitted == 2 * 3 - 1  # 3 chunks at each of 2 points, less the early one
    alone = analysis.decomposition_table(spec)
    assert table.to_csv(index=False) == alone.to_csv(index=False)
    assert analysis.start_early(_spec(decomposition=0)) == {}


def test_until_the_workers_are_ready_the_early_chunks_go_on_one_after_another(monkeypatch):
    """Not stopped, the thread records every chunk in turn (the workers are slow to start):
    the pool is then given none, and the table is the same bytes."""
    monkeypatch.setattr(analysis, "DECOMPOSITION_CHUNK", 2)
    spec = _early_spec()
    early = analysis.start_early(spec)["decomposition"]
    deadline = time.monotonic() + 60
    while not (len(early.futures) == 6 and all(f.done() for f in early.futures.values())):
        assert time.monotonic() < deadline, list(early.futures)
        time.sleep(0.01)
    taken = early.stop()
    assert list(taken) == [(0, 0), (0, 2), (0, 4), (1, 0), (1, 2), (1, 4)]
    pool = _Counting()
    table = analysis._collect_decomposition(analysis._submit_decomposition(spec, pool, taken))
    assert pool.submitted == 0
    assert table.to_csv(index=False) == analysis.decomposition_table(spec).to_csv(index=False)


def test_figures_that_do_not_need_the_decomposition_go_first(reference_run, tmp_path):
    """On a pool of workers the decomposition may still be combining when the figures start:
    every other figure is handed out before it is waited for, its own after, and the files
    come back in the order of ``figure_names``."""
    spec, folder = reference_run
    events: list[str] = []

    class Recording:  # a pool of workers (not serial) that runs each task when asked
        sees_folder, threads = True, 2

        def submit(self, fn, *args, priority=0):
            events.append(f"submit {args[0][0]}")
            return SerialPool().submit(fn, *args)

    decomposition = analysis.decomposition_table(spec)

    class Pending:  # a decomposition still being combined (a Task)
        def result(self):
            events.append("decomposition")
            return decomposition

    summary = pd.read_csv(folder / "summary.csv")
    tails = pd.read_csv(folder / "tails.csv")
    result = RunResult(folder, units=[u["id"] for u in _units(spec)], arms=list(spec.arms))
    paths = runs.draw_run_figures(result, spec, summary, tails, Pending(), pool=Recording())
    names = runs.figure_names(spec, summary, tails, decomposition)
    at = events.index("decomposition")
    assert any(n.startswith("decomposition_") for n in names)
    assert events[:at] == [f"submit {n}" for n in names if not n.startswith("decomposition_")]
    assert events[at + 1 :] == [f"submit {n}" for n in names if n.startswith("decomposition_")]
    assert [p.stem for p in paths] == names  # png only, in the order of figure_names
    # the same files as drawn in this process, one after another
    serial = runs.draw_run_figures(result, spec, summary, tails, decomposition)
    assert serial == paths


def test_a_pool_run_writes_the_decomposition_it_combined_while_the_figures_were_drawn(
    reference_run, tmp_path
):
    """``analyse_run`` gives the figures the decomposition being combined, and writes
    decomposition.csv when it is there: the bytes of the serial analysis."""
    from concurrent.futures import Future

    spec, folder = reference_run
    done: Future = Future()
    done.set_result(analysis.decomposition_table(spec))
    result = RunResult(folder, units=[u["id"] for u in _units(spec)], arms=list(spec.arms))
    result.prepared = {"decomposition": [], "combined": done}
    (folder / "decomposition.csv").rename(tmp_path / "serial.csv")
    with pytest.MonkeyPatch.context() as mp:
        _no_figures(mp)
        out = analysis.analyse_run(result, spec)
    assert (folder / "decomposition.csv").read_bytes() == (tmp_path / "serial.csv").read_bytes()
    assert isinstance(out.decomposition, pd.DataFrame) and not out.decomposition.empty


def test_ctrl_c_while_the_workers_start_stops_them(tmp_path):
    """Ctrl-C while the run waits for its workers to start (the command line starts them
    beside its estimate): the executor being started is closed when it is there, so no worker
    process is left for the interpreter's exit to wait on, and no folder is made."""
    closed = []

    class Executor:
        def close(self, now=False):
            closed.append(now)

    class Starting:  # start_executor's future: Ctrl-C lands in the first wait for it
        calls = 0

        def result(self):
            self.calls += 1
            if self.calls == 1:
                raise KeyboardInterrupt
            return Executor()

    with pytest.raises(KeyboardInterrupt):
        run_study(
            _spec(decomposition=0), tmp_path / "run", workers=2, executor=Starting(), progress=False
        )
    assert closed == [False]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("where", ["provenance", "manifest"])
def test_ctrl_c_while_the_folder_is_made_leaves_one_overwrite_accepts(monkeypatch, tmp_path, where):
    """Interrupted while the run folder is set up (gathering the provenance, or right after
    the manifest is written), the folder is absent or a run folder: ``overwrite`` then runs.
    (A bare ``parts/`` left by an interruption was 'not a run folder', refused by every run.)"""
    import toolkit.study.runner as runner
    from tests.conftest import interrupt_after

    folder = tmp_path / "run"
    spec = _spec()
    if where == "provenance":
        interrupt_after(monkeypatch, runner, "provenance", 1)
    else:
        real = runner.write_json_atomic

        def write_then_stop(obj, path, *args, **kwargs):
            real(obj, path, *args, **kwargs)
            raise KeyboardInterrupt  # its first call writes the manifest

        monkeypatch.setattr(runner, "write_json_atomic", write_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run_study(spec, folder, progress=False)
    if where == "provenance":
        assert not folder.exists()
    else:
        assert sorted(p.name for p in folder.iterdir()) == ["manifest.json"]
    monkeypatch.undo()
    _no_figures(monkeypatch)
    result = run_study(spec, folder, overwrite=True, progress=False)
    assert result.manifest["status"] == "complete"
    assert (folder / "parts").is_dir()
