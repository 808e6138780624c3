"""Provenance of results: package versions, Python, platform and the toolkit's own commit.

Run manifests, reports and the provenance line under every chart record these. The commit is
the toolkit's, never that of a repository which merely contains the installed package
(:mod:`toolkit._base.source`).
"""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from toolkit._base.source import source_commit

__all__ = ["PACKAGES", "git_commit", "now", "provenance"]

#: Distributions whose versions a manifest records.
PACKAGES = (
    "classroom-regimes-toolkit",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "mesa",
    "matplotlib",
    "pyarrow",
    "dask",
    "distributed",
)


def git_commit() -> dict[str, Any]:
    """Return the toolkit's own commit (:func:`toolkit._base.source.source_commit`)."""
    return source_commit()


def provenance() -> dict[str, Any]:
    """Package versions, Python, platform and git commit of the toolkit source.

    The commit comes from this project's checkout when the toolkit runs from one, else from
    the installed package's build record (:mod:`toolkit._base.source`); a repository that merely
    contains the installed package is never asked.

    Returns
    -------
    dict
        ``{"versions": {...}, "python": ..., "platform": ..., "git": {...}}``, ``git`` with
        ``commit``, ``dirty`` and ``source`` (where the commit was read).
    """
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    return {
        "versions": versions,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "git": git_commit(),
    }


def now() -> str:
    """Return the current UTC time, ISO 8601 to the second (as manifests record it)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
