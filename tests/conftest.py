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
