"""The notebooks run, at small sizes, and stay reviewable.

Every ``notebooks/NN-*.ipynb`` is executed with papermill in a fresh kernel; its parameters
cell is overridden with the small sizes below (notebooks without an entry here run with their
own defaults), and anything it writes goes to a temporary folder. A notebook that raises fails
its test. Each notebook must also have one cell tagged ``parameters``, a jupytext
``py:percent`` twin with the same cells, and no outputs committed.
"""

import ast
import json
import math
import re
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


# --- pairing and provenance: saving in JupyterLab (jupytext's contents manager) -------------
def _scratch_repo(tmp_path):
    """A git repository with the project's pyproject.toml and notebook 01 and its twin."""
    import shutil
    import subprocess

    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for path in NOTEBOOKS.glob("01-*"):
        shutil.copy(path, tmp_path / "notebooks" / path.name)
    (tmp_path / "code.py").write_text("x = 1\n")
    git = ["git", "-C", str(tmp_path), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "start"], check=True)
    return tmp_path


def _save_with_outputs(cm, path, edit=None):
    """Save a notebook as JupyterLab does after running it: outputs and kernel metadata."""
    nb = cm.get(path)["content"]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
            cell.execution_count = 1
    nb.metadata["language_info"] = {"name": "python", "version": "3.12.1"}
    if edit is not None:
        edit(nb)
    cm.save({"type": "notebook", "content": nb}, path)


def test_only_the_repositorys_notebooks_are_paired(tmp_path):
    from jupytext import TextFileContentsManager

    repo = _scratch_repo(tmp_path)
    cm = TextFileContentsManager(root_dir=str(repo))
    made = cm.new_untitled(path="notebooks", type="notebook")["path"]
    assert (repo / made).is_file() and not (repo / made).with_suffix(".py").exists()
    name = "notebooks/01-headline-regime-comparison.ipynb"

    def edit(nb):
        nb.cells[-1].source += "\nprint('edited')"

    _save_with_outputs(cm, name, edit)
    assert "print('edited')" in (repo / name).with_suffix(".py").read_text()  # still paired


def test_saving_a_notebook_with_its_outputs_does_not_make_provenance_dirty(tmp_path):
    from jupytext import TextFileContentsManager

    from toolkit._base.gitstate import git_state

    repo = _scratch_repo(tmp_path)
    assert git_state(repo)["dirty"] is False
    cm = TextFileContentsManager(root_dir=str(repo))
    name = "notebooks/01-headline-regime-comparison.ipynb"
    _save_with_outputs(cm, name)
    assert "outputs" in (repo / name).read_text() and git_state(repo)["dirty"] is False
    twin = repo / "notebooks" / "01-headline-regime-comparison.py"
    text = twin.read_text()
    twin.write_text(text.replace("jupytext_version: ", "jupytext_version: 9.9.9-", 1))
    assert git_state(repo)["dirty"] is False  # another jupytext's header, the same code

    def edit(nb):
        nb.cells[-1].source += "\nprint('edited')"

    _save_with_outputs(cm, name, edit)  # a change of code is a change
    assert git_state(repo)["dirty"] is True
    twin.write_text(text)
    (repo / name).write_text(json.dumps(nbformat.read(NOTEBOOKS / (Path(name).name), 4)))
    (repo / "code.py").write_text("x = 2\n")
    assert git_state(repo)["dirty"] is True


# --- numbers in the prose -----------------------------------------------------------------
#: Notebooks whose prose may quote only the design's inputs (numbers in the code): every
#: result it reports is written by a cell from the notebook's own output.
PROSE_FROM_OUTPUT = [
    "01-headline-regime-comparison",
    "02-one-mechanism-at-a-time",
    "04-scaffolding-over-school-years",
    "05-which-conclusions-hold",
    "06-designing-a-real-study",
]
#: Numbers of formulas and methods, not results (J - 2 degrees of freedom, 1 + (n - 1) ICC, 95%
#: intervals).
_STRUCTURAL = {0.0, 1.0, 2.0, 0.95}
_NUMBER = re.compile(r"(?<![\w.\-])(\d+(?:,\d{3})*(?:\.\d+)?)(%?)(?![\w.]*\w)")
#: Pointers, not results: "section 7.4", "sections 4, 7 and 10", "notebook 04", "issue 17", and
#: the year of a citation ("Dignath & Büttner 2008", "Lou et al. 1996").
_REFERENCE = re.compile(
    r"\b(?:sections?|notebooks?|issues?)\s+\d+(?:\.\d+)*(?:(?:\s*,\s*|\s+and\s+)\d+(?:\.\d+)*)*"
    r"|(?:\b[A-Z][\w'-]+|et al\.)\s+(?:19|20)\d{2}[a-z]?\b"
)


def _code_numbers(nb: nbformat.NotebookNode) -> set[float]:
    found = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            value = getattr(node, "value", None) if isinstance(node, ast.Constant) else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                found.add(float(value))
    return found


def _prose_numbers(text: str) -> list[tuple[str, float]]:
    text = re.sub(r"`[^`]*`", "", text)  # code, file names and commands
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    text = _REFERENCE.sub("", text)
    out = []
    for number, percent in _NUMBER.findall(text):
        value = float(number.replace(",", ""))
        out.append((number + percent, value / 100 if percent else value))
    return out


@pytest.mark.parametrize("stem", PROSE_FROM_OUTPUT)
def test_notebook_prose_quotes_only_its_inputs(stem):
    """A number typed into the text goes stale when the model changes: the text may quote the
    design's inputs (numbers in the notebook's code), and the results only through cells."""
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    inputs = _code_numbers(nb) | _STRUCTURAL | {float(stem[:2])}
    stale = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            stale += [shown for shown, v in _prose_numbers(cell.source)
                      if not any(math.isclose(v, x, rel_tol=1e-9) for x in inputs)]  # fmt: skip
    assert not stale, f"numbers in the text that are not inputs of the notebook: {stale}"


def test_prose_number_check_finds_a_stale_number():
    text = "SD of scores 0.91 against 0.84 (see `runs/06`), 90% response, in lme4 [x](a/1.2)"
    assert _prose_numbers(text) == [("0.91", 0.91), ("0.84", 0.84), ("90%", 0.9)]


def test_prose_number_check_skips_pointers_but_not_results():
    text = (
        "As in sections 4, 7.4 and 10 and notebook 04 (issue 17; Dignath & Büttner 2008, Lou et "
        "al. 1996), the lead is 0.26 SD after 4 years (section 10) in 2008 classrooms"
    )
    assert _prose_numbers(text) == [("0.26", 0.26), ("4", 4.0), ("2008", 2008.0)]
