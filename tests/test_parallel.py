"""The suite's parallel set-up (./run.sh test: pytest -n 2 --dist loadgroup) groups what it says."""

from pathlib import Path

from tests.conftest import XDIST_MODULES, pytest_xdist_make_scheduler

ROOT = Path(__file__).resolve().parents[1]


class _Config:
    """What xdist's scheduler reads of the configuration of ``-n 2 --dist loadgroup``."""

    def getvalue(self, name: str) -> object:
        return {"dist": "loadgroup", "tx": ["2*popen"]}[name]  # -n 2 is two popen workers


def test_grouped_modules_exist():
    assert len(set(XDIST_MODULES)) == len(XDIST_MODULES)
    for module in XDIST_MODULES:
        assert (ROOT / module).is_file(), module


def test_a_grouped_module_is_one_unit_and_other_tests_are_their_own():
    scheduler = pytest_xdist_make_scheduler(_Config(), None)
    split = scheduler._split_scope
    a, b = "tests/test_study_dask.py::test_one[2]", "tests/test_study_dask.py::test_two"
    assert split(a) == split(b) == "tests/test_study_dask.py"
    c, d = "tests/test_cli.py::test_one", "tests/test_cli.py::test_two"
    assert split(c) == c and split(d) == d
    assert scheduler.numnodes == 2


def test_other_distributions_keep_xdist_schedulers():
    class Load(_Config):
        def getvalue(self, name: str) -> object:
            return "load" if name == "dist" else super().getvalue(name)

    assert pytest_xdist_make_scheduler(Load(), None) is None
