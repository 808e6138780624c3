"""Shared test settings: a non-interactive matplotlib backend and small model sizes."""

import matplotlib

matplotlib.use("Agg")

import pytest

from toolkit.model import Parameters


@pytest.fixture
def small_params() -> Parameters:
    """A small class and a short year, for fast model tests."""
    return Parameters(n_students=12, n_days=20, peer_ties=3)


#: Doctests whose printed numbers come from the engine's kernels: run again by CI's numerics pass.
_NUMERICS_DOCTESTS = ("toolkit/engine/",)

#: Modules whose expensive module-scoped fixtures (a finished run, a Dask cluster, fitted models,
#: a built wheel) would be set up again on each process that runs some of their tests: with
#: ``-n 2 --dist loadgroup`` (./run.sh test) each runs whole on one process, and first, so that
#: the long ones do not start last and leave the other process idle. In the order they start.
XDIST_GROUPS = (
    "tests/test_study_dask.py",
    "tests/test_study_stream.py",
    "tests/robustness/test_report.py",
    "tests/test_viz.py",
    "tests/power/test_power_study.py",
    "tests/test_study.py",
    "tests/survey/test_multilevel.py",
    "tests/test_packaging.py",
)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the engine's doctests ``numerics``; group and start first the modules above."""
    root = config.rootpath
    rank = {path: i for i, path in enumerate(XDIST_GROUPS)}

    def where(item: pytest.Item) -> str:
        return item.path.relative_to(root).as_posix() if item.path.is_relative_to(root) else ""

    for item in items:
        path = where(item)
        if path.startswith(_NUMERICS_DOCTESTS) and item.__class__.__name__ == "DoctestItem":
            item.add_marker(pytest.mark.numerics)
        if path in rank:
            item.add_marker(pytest.mark.xdist_group(path.removeprefix("tests/")))
    # a stable sort: each module's tests keep their order (and their fixtures their scope)
    items.sort(key=lambda item: rank.get(where(item), len(rank)))
