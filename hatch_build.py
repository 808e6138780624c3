"""Build hook: record the commit a wheel or sdist is built from (toolkit/_build_info.json).

An installed toolkit cannot ask git for its own commit (its folder is site-packages), and must
not ask git of whatever repository it sits in. So the build writes the commit of this
project's checkout, and whether tracked files differed from it, into the package; at run time
``toolkit._base.source.source_commit`` reads it. Git is asked only when the folder being built is
the top of a work tree whose ``pyproject.toml`` is this project's; an sdist already carries the
file, and the wheel built from it keeps it. Editable installs record nothing (the checkout's git
is asked live).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

INFO = "toolkit/_build_info.json"


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=30
    )
    return out.stdout.strip()


def git_info(root: Path) -> dict[str, Any] | None:
    """Commit and dirtiness of the work tree whose top is exactly ``root``, else None."""
    if not (root / ".git").exists():
        return None
    try:
        if Path(_git(root, "rev-parse", "--show-toplevel")).resolve() != root.resolve():
            return None
        return {
            "commit": _git(root, "rev-parse", "HEAD"),
            "dirty": bool(_git(root, "status", "--porcelain", "--untracked-files=no")),
        }
    except (OSError, subprocess.SubprocessError):
        return None


class CustomBuildHook(BuildHookInterface):
    """Add ``toolkit/_build_info.json`` to the wheel and the sdist."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Write the build record beside the build and force-include it."""
        if version == "editable":
            return
        root = Path(self.root)
        info = git_info(root)
        if info is None:
            shipped = root / INFO  # building the wheel from an sdist: keep its record
            if shipped.is_file():
                build_data["force_include"][str(shipped)] = INFO
            return
        self._tmp = tempfile.TemporaryDirectory()
        path = Path(self._tmp.name) / "_build_info.json"
        path.write_text(json.dumps(info | {"version": self.metadata.version}, indent=2) + "\n")
        build_data["force_include"][str(path)] = INFO

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the temporary record."""
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
