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
#: models, a built wheel). With ``-n 2 --dist loadgroup`` (./run.sh test) each runs whole on one
#: process instead of setting its fixtures up on both, and they start first, so that a long one
#: does not start last and leave the other process idle. (pytest-xdist's own ``xdist_group``
#: marks do not group under pytest 9.2, whose nodes no longer take xdist's renamed node ids;
#: :func:`pytest_xdist_make_scheduler` groups these modules by path instead.)
XDIST_MODULES = (
    "tests/test_study_dask.py",
    "tests/test_study_stream.py",
    "tests/robustness/test_report.py",
    "tests/test_viz.py",
    "tests/power/test_power_study.py",
    "tests/test_study.py",
    "tests/survey/test_multilevel.py",
    "tests/test_packaging.py",
)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadgroup``: each test its own work unit, but each module above one unit."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in XDIST_MODULES else nodeid

    return ModuleGroups(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the engine's doctests ``numerics``; put the modules of XDIST_MODULES first."""
    root = config.rootpath
    rank = {path: i for i, path in enumerate(XDIST_MODULES)}

    def where(item: pytest.Item) -> str:
        return item.path.relative_to(root).as_posix() if item.path.is_relative_to(root) else ""

    for item in items:
        if where(item).startswith(_NUMERICS_DOCTESTS) and type(item).__name__ == "DoctestItem":
            item.add_marker(pytest.mark.numerics)
    # a stable sort: each module's tests keep their order (and their fixtures their scope)
    items.sort(key=lambda item: rank.get(where(item), len(rank)))
