"""Imports run one way: down the layers of docs/architecture.md, never up, and never in a circle.

Every module under ``toolkit/`` is parsed (not imported) and every import is collected: at
module level, inside functions and ``if TYPE_CHECKING:`` blocks, relative ones resolved, and
``importlib.import_module("...")`` with a literal name. A module may import its own layer's
or a lower layer's modules; across sub-packages of one layer, the sub-package graph must stay
free of cycles (it is checked as a whole, for the whole package).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "toolkit"

#: The layers, from the ground up (docs/architecture.md draws them). Keys are the first name
#: below ``toolkit`` (a sub-package or a top-level module); ``toolkit`` is the package's own
#: ``__init__`` (the composition root, which declares the plug-ins).
LAYERS: dict[str, int] = {
    # 0 base services that everyone may import
    "_base": 0,
    "_optional": 0,
    "templates": 0,
    "datasets": 0,
    # 1 the model
    "model": 1,
    # 2 what runs and measures it, and the survey helpers
    "engine": 2,
    "metrics": 2,
    "survey": 2,
    "synthetic": 2,
    # 3 studies: spec, runner, the analysis of a run as plain tables
    "study": 3,
    # 4 charts of plain tables, in one style
    "charts": 4,
    # 5 the kinds of study that call the study layer and plug their analyses in
    "robustness": 5,
    "calibration": 5,
    "power": 5,
    "realcohort": 5,
    # 6 what a person uses: the command line, the gallery, the classroom viewer, the root
    "viz": 6,
    "gallery": 6,
    "docs": 6,
    "cli_text": 6,
    "cli": 6,
    "__main__": 6,
    "toolkit": 6,
}
LAYER_NAMES = {
    0: "base",
    1: "model",
    2: "engine/metrics/survey/synthetic",
    3: "study",
    4: "charts",
    5: "robustness/calibration/power/realcohort",
    6: "interfaces",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def unit(module: str) -> str:
    """The sub-package (or top-level module) a module belongs to: its layer's key."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str, path: Path) -> list[tuple[str, int]]:
    """Every toolkit module that ``module`` imports, anywhere in its source, with the line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path.name == "__init__.py", node)
            for a in node.names:
                sub = f"{target}.{a.name}"
                found.append((sub if sub in MODULES else target, node.lineno))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.args[0].value, node.lineno))
    return [(t, line) for t, line in found if t == "toolkit" or t.startswith("toolkit.")]


EDGES = [
    (module, target, line)
    for module, path in MODULES.items()
    for target, line in imports(module, path)
]


def test_every_module_has_a_layer():
    missing = sorted({unit(m) for m in MODULES} - set(LAYERS))
    assert not missing, (
        f"place {missing} in a layer: LAYERS here and the drawing in docs/architecture.md"
    )


def test_the_parser_sees_imports_inside_functions_and_relative_ones(tmp_path):
    """The collector itself: a function-level, a relative and an import_module import."""
    src = (
        "def f():\n    from toolkit.charts import style\n"
        "from .spec import StudySpec\n"
        "import importlib\nimportlib.import_module('toolkit.cli')\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(src)
    module = "toolkit.study.probe"
    got = {t for t, _ in imports(module, path)}
    assert got == {"toolkit.charts.style", "toolkit.study.spec", "toolkit.cli"}


def test_no_import_runs_up_the_layers():
    upward = [
        f"{MODULES[m].relative_to(ROOT)}:{line} imports {t} "
        f"({LAYER_NAMES[LAYERS[unit(m)]]} -> {LAYER_NAMES[LAYERS[unit(t)]]})"
        for m, t, line in EDGES
        if unit(t) in LAYERS and unit(m) in LAYERS and LAYERS[unit(t)] > LAYERS[unit(m)]
    ]
    assert not upward, "imports that run up the layers:\n" + "\n".join(sorted(set(upward)))


def test_the_subpackage_import_graph_has_no_cycle():
    graph = nx.DiGraph()
    graph.add_nodes_from(LAYERS)
    graph.add_edges_from((unit(m), unit(t)) for m, t, _ in EDGES if unit(m) != unit(t))
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, f"sub-packages that import each other in a circle: {cycles}"


@pytest.mark.parametrize("point", ["analysis.figures", "study.robustness", "analysis.cohort"])
def test_plugged_in_code_sits_above_its_plug_in_point(point):
    """What the composition root plugs in comes from a layer above the point's owner."""
    import toolkit

    owner = {"study": "study", "analysis": "study"}[point.split(".")[0]]
    target = toolkit.PLUGINS[point].partition(":")[0]
    assert target in MODULES
    assert LAYERS[unit(target)] > LAYERS[owner]


def test_handing_out_a_runs_figures_does_not_load_matplotlib():
    """A run on worker processes draws its figures there: its own process loads the figures'
    plug-in (``toolkit.charts.runs``) and names the figures, but never imports matplotlib
    (half a second a run). ``toolkit.charts`` loads each public name on first use."""
    code = (
        "import sys\n"
        "import toolkit.charts, toolkit.charts.runs\n"
        "from toolkit._base import plugins\n"
        "import toolkit\n"
        "plugins.load('analysis.figures')\n"
        "print('matplotlib' in sys.modules)\n"
        "from toolkit.charts import save_figure\n"
        "print('matplotlib' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert out == ["False", "True"]


def test_the_chart_layers_lazy_names_are_its_modules_own():
    import importlib

    import toolkit.charts as charts

    assert set(charts.__all__) == set(charts._EXPORTS) and set(charts.__all__) <= set(dir(charts))
    for name, module in charts._EXPORTS.items():
        own = getattr(importlib.import_module(f"toolkit.charts.{module}"), name)
        assert getattr(charts, name) is own
    with pytest.raises(AttributeError, match="no attribute 'plot_nothing'"):
        charts.plot_nothing  # noqa: B018
