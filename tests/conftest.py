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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the engine's doctests ``numerics`` (test functions carry the mark themselves)."""
    root = config.rootpath
    for item in items:
        path = item.path.relative_to(root).as_posix() if item.path.is_relative_to(root) else ""
        if path.startswith(_NUMERICS_DOCTESTS) and item.__class__.__name__ == "DoctestItem":
            item.add_marker(pytest.mark.numerics)
