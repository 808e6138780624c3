"""The suite's parallel set-up (./run.sh test: pytest -n 2 --dist loadgroup) groups what it says."""

import re
from pathlib import Path
from types import SimpleNamespace

from tests.conftest import DURATIONS, XDIST_MODULES, pytest_xdist_make_scheduler

ROOT = Path(__file__).resolve().parents[1]


class _Config:
    """What xdist's scheduler reads of the configuration of ``-n 2 --dist loadgroup``."""

    def __init__(self) -> None:
        self.option = SimpleNamespace(loadscopereorder=True)  # xdist's default

    def getvalue(self, name: str) -> object:
        return {"dist": "loadgroup", "tx": ["2*popen"]}[name]  # -n 2 is two popen workers


def test_grouped_modules_exist():
    assert len(set(XDIST_MODULES)) == len(XDIST_MODULES)
    for module in XDIST_MODULES:
        assert (ROOT / module).is_file(), module


def test_a_grouped_module_is_one_unit_and_other_tests_are_their_own():
    config = _Config()
    scheduler = pytest_xdist_make_scheduler(config, None)
    split = scheduler._split_scope
    a, b = "tests/test_study_dask.py::test_one[2]", "tests/test_study_dask.py::test_two"
    assert split(a) == split(b) == "tests/test_study_dask.py"
    c, d = "tests/test_cli.py::test_one", "tests/test_cli.py::test_two"
    assert split(c) == c and split(d) == d
    assert scheduler.numnodes == 2
    # the units go out in the collection's order (longest first), not by their number of tests
    assert config.option.loadscopereorder is False


def test_every_listed_duration_names_a_grouped_module_or_a_test_that_exists():
    """A renamed test would silently lose its place at the front: the table must follow."""
    for unit in DURATIONS:
        module, _, test = unit.partition("::")
        assert (ROOT / module).is_file(), unit
        if not test:
            assert module in XDIST_MODULES, f"{unit}: a module is a unit only if it is grouped"
            continue
        assert module not in XDIST_MODULES, f"{unit}: its module runs as one unit"
        name = test.split("[", 1)[0]
        assert re.search(rf"^def {name}\(", (ROOT / module).read_text(), re.M), unit


def test_other_distributions_keep_xdist_schedulers():
    class Load(_Config):
        def getvalue(self, name: str) -> object:
            return "load" if name == "dist" else super().getvalue(name)

    assert pytest_xdist_make_scheduler(Load(), None) is None
