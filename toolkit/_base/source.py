"""Where the running toolkit comes from: this project's checkout, or an installed build.

Results and charts record the toolkit's git commit. It is looked up in one of three places,
and never in a repository that merely contains the installed package (a user's own project
with a virtual environment inside it is not the toolkit):

1. **This project's checkout** (``./run.sh``, an editable install): the package's parent folder
   holds this project's ``pyproject.toml`` and is the top of a git work tree; ``git`` then
   gives the commit and whether tracked files changed.
2. **A built wheel or sdist**: the build (``hatch_build.py``) writes ``toolkit/_build_info.json``
   with the commit the package was built from, read here as package data.
3. **pip's record of a VCS install** (``pip install git+https://...``): the commit in the
   distribution's ``direct_url.json`` (PEP 610).

Otherwise the commit is unknown (``None``).
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

__all__ = ["BUILD_INFO", "DISTRIBUTION", "checkout_root", "git_state", "source_commit"]

#: The toolkit's distribution name.
DISTRIBUTION = "classroom-regimes-toolkit"
#: Package data written by the build with the commit it was built from.
BUILD_INFO = "_build_info.json"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout.strip()


def git_state(root: Path) -> dict[str, Any] | None:
    """Commit and dirtiness of the git work tree whose top is exactly ``root``.

    Parameters
    ----------
    root : Path
        A folder that should be the top of a work tree.

    Returns
    -------
    dict or None
        ``{"commit": sha, "dirty": bool}`` as :func:`toolkit._base.gitstate.git_state` gives
        them (dirty: tracked files differ from the commit, notebooks saved with the same code
        not counted), or ``None`` when ``root`` is not the top of a work tree or git cannot run.
    """
    from toolkit._base.gitstate import git_state as checkout_state

    if not (root / ".git").exists():  # a folder (clone) or a file (worktree)
        return None
    try:
        top = Path(_git(root, "rev-parse", "--show-toplevel")).resolve()
    except (OSError, subprocess.SubprocessError):
        return None
    if top != root.resolve():
        return None
    state = checkout_state(root)
    return None if state["commit"] is None else state


def _is_this_project(root: Path) -> bool:
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return data.get("project", {}).get("name") == DISTRIBUTION


def checkout_root() -> Path | None:
    """Return the root of this project's checkout the package runs from (None if installed).

    Returns
    -------
    Path or None
        The folder above ``toolkit/`` when it holds this project's ``pyproject.toml`` and a
        ``.git`` entry; ``None`` for a package installed in ``site-packages``.
    """
    root = Path(__file__).resolve().parents[2]
    if (root / ".git").exists() and _is_this_project(root):
        return root
    return None


def _build_info() -> dict[str, Any] | None:
    try:
        text = (resources.files("toolkit") / BUILD_INFO).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    info = json.loads(text)
    return {"commit": info.get("commit"), "dirty": info.get("dirty")}


def _direct_url() -> dict[str, Any] | None:
    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    commit = json.loads(text).get("vcs_info", {}).get("commit_id")
    return {"commit": commit, "dirty": False} if commit else None


@cache
def _installed_commit() -> dict[str, Any]:
    for source, lookup in (("build", _build_info), ("pip", _direct_url)):
        found = lookup()
        if found is not None and found.get("commit"):
            return found | {"source": source}
    return {"commit": None, "dirty": None, "source": None}


def source_commit() -> dict[str, Any]:
    """Return the toolkit's own commit, from its checkout or the installed package's record.

    Returns
    -------
    dict
        ``{"commit": sha or None, "dirty": bool or None, "source": where}``, ``source`` one of
        ``"checkout"`` (git, asked now), ``"build"`` (recorded when the wheel was built),
        ``"pip"`` (PEP 610 record of a VCS install) or ``None`` (unknown).
    """
    root = checkout_root()
    if root is not None:
        state = git_state(root)
        if state is not None:
            return state | {"source": "checkout"}
    return dict(_installed_commit())
