"""The survey notebook runs end to end on the real data, and its .ipynb matches its .py."""

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03-survey-real-data.py"

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")


def _sources(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_paired_ipynb_is_in_sync():
    py = jupytext.read(NOTEBOOK)
    ipynb = jupytext.read(NOTEBOOK.with_suffix(".ipynb"))
    assert _sources(py) == _sources(ipynb), "run: jupytext --sync notebooks/03-survey-real-data.py"
    tagged = [c for c in py.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "the notebook needs exactly one cell tagged 'parameters'"


@pytest.mark.slow
@pytest.mark.notebook
def test_notebook_executes(tmp_path):
    nb = jupytext.read(NOTEBOOK)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source += f'\nOUTPUT_DIR = "{tmp_path.as_posix()}"'
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "agreeableness_by_gender.png",
        "items_by_education.png",
        "likert_agreeableness.png",
    ]
