"""The git state of a checkout for provenance lines: its commit, and whether code changed.

A run's manifest and every chart's provenance line name the commit of the toolkit's checkout
and add ``+dirty`` when tracked files differ from it. Saving a notebook in JupyterLab rewrites
its ``.ipynb`` (outputs, execution counts, kernel metadata) and, with another jupytext
version, the header of its ``.py`` twin, without changing a line of code: such files are not
counted as changes. A notebook (or twin) counts as changed only when its cells' sources
differ from the commit's; anything else that differs, or a file that cannot be compared, is a
change as before.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["git_state", "same_notebook_code"]

_TIMEOUT = 10


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=_TIMEOUT,
    ).stdout


def _changed_paths(root: Path) -> list[str]:
    """Tracked paths that differ from HEAD (staged or not), as git prints them (``-z``)."""
    out = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=no")
    fields = out.split("\0")
    paths, i = [], 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        status, path = entry[:2], entry[3:]
        paths.append(path)
        if "R" in status or "C" in status:  # a rename or copy: the next field is the source
            paths.append(fields[i])
            i += 1
    return paths


def _ipynb_cells(text: str) -> list[tuple[str, str]]:
    nb = json.loads(text)
    cells = []
    for c in nb.get("cells", []):
        source = c.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        cells.append((str(c.get("cell_type")), source.rstrip()))
    return cells


def _without_jupytext_header(text: str) -> str:
    """Return a jupytext ``py:percent`` text without its leading metadata block (``# ---``)."""
    lines = text.splitlines()
    if len(lines) > 1 and lines[0].strip() == "# ---" and lines[1].startswith("# jupyter:"):
        for k in range(1, len(lines)):
            if lines[k].strip() == "# ---":
                return "\n".join(lines[k + 1 :]).strip()
    return text.strip()


def same_notebook_code(root: str | Path, path: str) -> bool:
    """Whether a changed notebook, or jupytext twin, has the same cells as at HEAD.

    Parameters
    ----------
    root : str or Path
        The checkout.
    path : str
        The file, relative to ``root``.

    Returns
    -------
    bool
        True for an ``.ipynb`` whose cells (type and source) equal the committed ones, whatever
        its outputs and metadata, and for a ``.py`` with a jupytext header whose text after the
        header equals the committed one; False otherwise (any other file, a deleted or new
        file, or one that cannot be read).
    """
    root = Path(root)
    if not path.endswith((".ipynb", ".py")):
        return False
    try:
        now = (root / path).read_text(encoding="utf-8")
        then = _git(root, "show", f"HEAD:{path}")
        if path.endswith(".ipynb"):
            return _ipynb_cells(now) == _ipynb_cells(then)
        if not now.startswith("# ---") or not then.startswith("# ---"):
            return False
        return _without_jupytext_header(now) == _without_jupytext_header(then)
    except (OSError, ValueError, subprocess.SubprocessError):
        return False


def git_state(root: str | Path) -> dict[str, Any]:
    """Return ``{"commit", "dirty"}`` of the checkout at ``root`` (both None without git).

    ``dirty`` is whether a tracked file differs from HEAD, not counting notebooks saved with
    other outputs or metadata but the same code (:func:`same_notebook_code`).
    """
    root = Path(root)
    try:
        commit = _git(root, "rev-parse", "HEAD").strip()
        changed = _changed_paths(root)
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    dirty = any(not same_notebook_code(root, p) for p in changed)
    return {"commit": commit, "dirty": dirty}
