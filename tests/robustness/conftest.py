"""Helpers for the robustness tests: build a study from a dict and run it through the runner."""

from pathlib import Path
from typing import Any

import pytest

from toolkit.study.spec import StudySpec, parse_study


def make_study(robustness: dict[str, Any], **study: Any) -> StudySpec:
    """A study with a [robustness] table; study keys default to a tiny size."""
    st = {"name": "rb", "seed": 11, "classrooms": 2} | study.pop("study", {})
    data: dict[str, Any] = {"study": st, "robustness": robustness, "output": {"formats": []}}
    data |= study
    return parse_study(data, source="test.toml")


@pytest.fixture
def study():
    """The :func:`make_study` factory."""
    return make_study


@pytest.fixture
def run(tmp_path: Path):
    """Run a study through run_study into a fresh folder (no progress bar) and return it."""
    from toolkit.study.runner import run_study

    def _run(spec: StudySpec, name: str = "run", **kw: Any):
        return run_study(spec, tmp_path / name, progress=False, **kw)

    return _run
