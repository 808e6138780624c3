"""Shared test settings: a non-interactive matplotlib backend and small model sizes."""

import matplotlib

matplotlib.use("Agg")

import pytest

from toolkit.model import Parameters


@pytest.fixture
def small_params() -> Parameters:
    """A small class and a short year, for fast model tests."""
    return Parameters(n_students=12, n_days=20, peer_ties=3)


def interrupt_after(monkeypatch, owner, name: str, calls: int) -> None:
    """Make ``owner.name`` raise KeyboardInterrupt (as Ctrl-C) on its ``calls``-th call."""
    real = getattr(owner, name)
    seen = {"n": 0}

    def wrapped(*args, **kwargs):
        seen["n"] += 1
        if seen["n"] == calls:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapped)


def resume_argv(err: str) -> list[str]:
    """The command an interrupted run printed after 'Continue with:', as argv for main()."""
    import shlex

    line = err.split("Continue with:\n", 1)[1].splitlines()[0].strip()
    assert line.startswith("python -m toolkit ") and line.endswith(" --resume"), line
    return shlex.split(line)[3:]


#: Doctests whose printed numbers come from the engine's kernels: run again by CI's numerics pass.
_NUMERICS_DOCTESTS = ("toolkit/engine/",)


#: Modules whose module-scoped fixtures are expensive (a finished run, a Dask cluster, fitted
#: models, a built wheel, the documentation site built by Sphinx). With ``-n 2 --dist loadgroup``
#: (./run.sh test) each runs whole on one process instead of setting its fixtures up on both.
#: (pytest-xdist's own ``xdist_group`` marks do not group under pytest 9.2, whose nodes no longer
#: take xdist's renamed node ids; :func:`pytest_xdist_make_scheduler` groups these modules by
#: path instead.)
XDIST_MODULES = (
    "tests/test_study_dask.py",
    "tests/test_study_stream.py",
    "tests/robustness/test_report.py",
    "tests/test_viz.py",
    "tests/power/test_power_study.py",
    "tests/test_study.py",
    "tests/survey/test_multilevel.py",
    "tests/test_packaging.py",
    "tests/test_docs_site.py",  # one Sphinx build (about a minute) when build/docs is not current
    "tests/realcohort/test_study.py",  # one run on nlschools' 133 classes for three tests
)

#: About how many seconds the longest units of work take on one process (wall time, measured
#: 2026-12-07 on the 2-core development VM under load, with ``-n 0`` or in the whole suite's
#: ``--durations``): a module of XDIST_MODULES by its path, any other test by its node id (without
#: parameters: each of them). Only their order matters: under xdist the units start longest
#: first, so that no long one starts last and leaves the other process idle at the end
#: (longest-processing-time-first scheduling). A test marked ``slow`` that is not listed counts
#: :data:`SLOW_SECONDS`, a module of XDIST_MODULES not listed :data:`GROUP_SECONDS`; everything
#: else 0 (its collection order is kept).
DURATIONS = {
    "tests/test_docs_site.py": 80,
    "tests/realcohort/test_study.py": 66,
    "tests/test_study_dask.py": 65,
    "tests/test_study_stream.py": 60,
    "tests/test_viz.py": 58,
    "tests/test_study.py": 52,
    "tests/power/test_power_study.py": 37,
    "tests/test_notebooks.py::test_notebook_runs[07-your-own-students]": 47,
    "tests/test_notebooks.py::test_notebook_runs[05-which-conclusions-hold]": 42,
    "tests/calibration/test_abc.py::test_recovers_known_parameters_from_synthetic_targets": 41,
    "tests/calibration/test_abc.py::"
    "test_simulation_based_calibration_passes_and_would_catch_a_too_wide_posterior": 37,
    "tests/calibration/test_cli.py::test_calibrate_validate_and_power_from_the_command_line": 25,
    "tests/test_notebooks.py::test_notebook_runs[01-headline-regime-comparison]": 20,
    "tests/test_notebooks.py::test_notebook_runs[03-survey-real-data]": 17,
    "tests/test_gallery.py::test_gallery_on_a_clean_tree_marks_no_image_dirty": 16,
    "tests/realcohort/test_roundtrip.py::"
    "test_rebuilt_cohorts_agree_with_the_true_cohort_within_the_pooled_intervals": 16,
    "tests/test_notebooks.py::test_notebook_runs[06-designing-a-real-study]": 16,
    "tests/test_notebooks.py::test_notebook_runs[02-one-mechanism-at-a-time]": 14,
    "tests/test_notebooks.py::test_notebook_runs[04-scaffolding-over-school-years]": 14,
    "tests/calibration/test_cli.py::test_ctrl_c_in_calibrate_says_what_was_kept_and_resumes": 13,
    "tests/survey/test_multilevel.py": 11,
    "tests/robustness/test_report.py": 11,
    "tests/calibration/test_abc.py::test_stochastic_acceptor_gives_the_exact_posterior": 9,
    "tests/test_decompose.py::test_waterfall_says_how_many_classrooms_and_why_its_total_differs": 8,
    "tests/realcohort/test_roundtrip.py::test_a_wrong_scale_fails_the_round_trip": 8,
    "tests/calibration/test_abc.py::test_run_folder_resumes_and_refuses_to_overwrite": 6,
    "tests/test_readme.py::test_headline_table_in_readme_is_current": 8,
    "tests/power/test_closed_form.py::"
    "test_spread_power_matches_the_f_test_of_within_cluster_variances": 33,
    "tests/power/test_closed_form.py::"
    "test_lower_tail_agrees_with_an_independent_integral_and_its_bound": 21,
    "tests/robustness/test_regions.py::test_planted_box_is_recovered_through_the_study_path": 28,
}
SLOW_SECONDS = 20
GROUP_SECONDS = 10


#: Compiles the engine's numba kernels into numba's on-disk cache (one process per group, at
#: the same time): the fast kernel; the exact kernel and the decomposition's compiled replay.
_WARM_KERNELS = (
    "from toolkit.engine import fast; fast.warm_up(['fast'])",
    """
from toolkit.engine import fast
from toolkit.model import Parameters, classroom_seed
from toolkit.study.decompose import decompose
fast.warm_up(["exact"])
p = Parameters(n_students=2, n_days=2, peer_ties=1)
decompose({"a": "standardized", "b": "personal"}, p, [classroom_seed(1, i) for i in range(2)],
          outcomes=["score"])
""",
)


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, fill numba's cache of the kernels before the test processes start.

    On a fresh clone the cache is empty, and every process that first runs a kernel compiles
    it (about 19 CPU-s for the fast kernel, 7 for the exact one): both test processes, and the
    notebooks' kernels, command-line subprocesses and Dask workers that start before the first
    compilation is written, all at once. Compiled here once, in two processes side by side,
    they all load it instead (about 2 s when the cache is already full). A warm-up that fails
    changes nothing: the tests then compile as before, and say so if the kernels are broken.
    """
    import subprocess
    import sys

    if hasattr(config, "workerinput") or not config.getoption("numprocesses", None):
        return
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=config.rootpath,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for code in _WARM_KERNELS
    ]
    for proc in procs:
        proc.wait()


def _unit(nodeid: str) -> str:
    """The xdist work unit of a test: its module if that is in XDIST_MODULES, else itself."""
    module = nodeid.split("::", 1)[0]
    return module if module in XDIST_MODULES else nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadgroup``: each test its own work unit, but each module above one unit; the
    units are handed out in collection order (longest first, see DURATIONS)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    # xdist would reorder the units by their number of tests; keep the collection's order
    option = getattr(config, "option", None)
    if option is not None:
        option.loadscopereorder = False
    return ModuleGroups(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the engine's doctests ``numerics``; under xdist, order the work units longest first.

    Serially (``-n 0``) only the modules of XDIST_MODULES move to the front, as before: there
    the order saves nothing, and moving one test of a module away from the others would set
    that module's fixtures up twice.
    """
    root = config.rootpath

    def where(item: pytest.Item) -> str:
        return item.path.relative_to(root).as_posix() if item.path.is_relative_to(root) else ""

    for item in items:
        if where(item).startswith(_NUMERICS_DOCTESTS) and type(item).__name__ == "DoctestItem":
            item.add_marker(pytest.mark.numerics)

    def seconds(item: pytest.Item) -> float:
        unit = _unit(item.nodeid)
        for key in (unit, unit.split("[", 1)[0]):  # without its parameters: each of them
            if key in DURATIONS:
                return DURATIONS[key]
        if unit != item.nodeid:  # a module of XDIST_MODULES
            return GROUP_SECONDS
        return SLOW_SECONDS if item.get_closest_marker("slow") else 0

    # stable sorts: each module's tests keep their order (and their fixtures their scope)
    if hasattr(config, "workerinput"):  # an xdist worker: the controller hands out this order
        items.sort(key=lambda item: -seconds(item))
    else:
        items.sort(key=lambda item: _unit(item.nodeid) == item.nodeid)
