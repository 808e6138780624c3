"""The notebooks run, at small sizes, and stay reviewable.

Every ``notebooks/NN-*.ipynb`` is executed with papermill in a fresh kernel; its parameters
cell is overridden with the small sizes below (notebooks without an entry here run with their
own defaults), and anything it writes goes to a temporary folder. A notebook that raises fails
its test. Each notebook must also have one cell tagged ``parameters``, a jupytext
``py:percent`` twin with the same cells, and no outputs committed.
"""

import ast
from pathlib import Path

import jupytext
import nbformat
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

#: Small sizes for the test run, per notebook (papermill parameters).
SMALL = {
    "01-headline-regime-comparison": {"CLASSROOMS": 4, "N_DAYS": 20, "FORMATS": []},
    "02-one-mechanism-at-a-time": {
        "CLASSROOMS": 4,
        "N_DAYS": 20,
        "SWEEP_POINTS": 3,
        "FORMATS": [],
    },
    "05-which-conclusions-hold": {
        "CLASSROOMS": 3,
        "N_DAYS": 10,
        "MORRIS_TRAJECTORIES": 2,
        "SOBOL_N": 4,
        "TOP_K": 3,
        "FORMATS": [],
    },
    "04-scaffolding-over-school-years": {
        "CLASSROOMS": 4,
        "N_DAYS": 15,
        "YEARS": 3,
        "FORMATS": [],
    },
    "06-designing-a-real-study": {"POOL": 40, "N_DAYS": 20, "REPLICATIONS": 10, "SIZES": [8, 16]},
    "07-your-own-students": {
        "N_DAYS": 3,
        "IMPUTATIONS": 2,
        "DECOMPOSITION": 4,
        "PISA_SCHOOLS": 12,
        "FORMATS": [],
    },
}


#: Files a notebook must write into its OUTPUT_DIR (checked after the run).
WRITES = {
    "03-survey-real-data": [
        "agreeableness_by_gender.png",
        "items_by_education.png",
        "likert_agreeableness.png",
    ],
    "06-designing-a-real-study": ["power-methods.png"],
}


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def _parameters_cell(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]


def _declared(nb: nbformat.NotebookNode) -> set[str]:
    (cell,) = _parameters_cell(nb)
    tree = ast.parse(cell.source)
    return {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}


def test_there_are_notebooks():
    names = [p.stem for p in _notebooks()]
    assert {"01-headline-regime-comparison", "02-one-mechanism-at-a-time"} <= set(names)


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_notebook_is_paired_parameterized_and_stripped(path):
    nb = nbformat.read(path, as_version=4)
    assert len(_parameters_cell(nb)) == 1, "tag exactly one cell 'parameters' (papermill)"
    for name in SMALL.get(path.stem, {}):
        assert name in _declared(nb), f"the test sets {name}, which the parameters cell lacks"
    twin = path.with_suffix(".py")
    assert twin.is_file(), f"pair it with jupytext: jupytext --set-formats ipynb,py:percent {path}"
    text = jupytext.read(twin)
    strip = lambda cells: [(c.cell_type, c.source.strip()) for c in cells]  # noqa: E731
    assert strip(text.cells) == strip(nb.cells), f"out of sync: jupytext --sync {twin}"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "strip outputs before commit"


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"  # the kernel's temporary folder: must be left as it was found
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    nb = nbformat.read(path, as_version=4)
    params = dict(SMALL.get(path.stem, {}))
    declared = _declared(nb)
    if "RUN_DIR" in declared:
        params["RUN_DIR"] = str(tmp_path / "runs")
    if "OUTPUT_DIR" in declared:
        params["OUTPUT_DIR"] = str(tmp_path / "out")
    pm.execute_notebook(
        str(path),
        str(tmp_path / path.name),
        parameters=params,
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=600,
    )
    left = sorted(p.name for p in scratch.iterdir())
    assert not left, f"the notebook left temporary files behind: {left}"
    expected = WRITES.get(path.stem)
    if expected:
        assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == expected
