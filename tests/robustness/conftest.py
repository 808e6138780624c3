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


class NoisyPaired:
    """A plug-in design model (``tests.robustness.conftest:NoisyPaired``) whose ``b - a`` is
    almost all Monte Carlo noise: ``a = x1 + 0.05 e_a``, ``b = a + 0.5 + 0.001 x2 + e_b``."""

    def __new__(cls):
        import numpy as np
        import pandas as pd

        from toolkit.model.cohort import classroom_seed
        from toolkit.robustness.models import PairedSynthetic

        class _Noisy(PairedSynthetic):
            name = "noisy_paired"

            def evaluate(self, unit, seed, engine, n_years):
                x = self._values(unit)
                rows = []
                for i in range(unit["start"], unit["stop"]):
                    e = np.random.default_rng(classroom_seed(seed, i)).normal(0.0, 1.0, 2)
                    a = x["x1"] + 0.05 * e[0]
                    rows += [(0, "a", i, a), (0, "b", i, a + 0.5 + 0.001 * x["x2"] + e[1])]
                return pd.DataFrame(rows, columns=["year", "arm", "replicate", "m"])

        return _Noisy()
