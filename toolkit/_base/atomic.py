"""Atomic writes: a file appears whole, under its name, or not at all.

Every writer puts its bytes in a temporary file beside the target (a leading dot and ``.tmp``:
pyarrow's dataset reader skips it, and a run folder's cleanup knows it as the run's own), then
renames it onto the target with :func:`os.replace`, which is atomic on POSIX and Windows.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["temp_path", "write_atomic", "write_json_atomic"]


def temp_path(path: Path, unique: bool = False) -> Path:
    # a leading dot: pyarrow's dataset reader skips it, and overwrite knows it as the run's;
    # unique (a worker's): the process and a random tag, so that two runs of a unit never share
    tag = f".{os.getpid()}-{uuid.uuid4().hex[:8]}" if unique else ""
    return path.with_name(f".{path.name}{tag}.tmp")


def write_atomic(
    df: pd.DataFrame,
    path: Path,
    *,
    unique: bool = False,
    commit: Callable[[], bool] | None = None,
) -> bool:
    """Write ``df`` to a temporary file beside ``path``, then rename it to ``path``.

    With ``commit``, the rename happens only if ``commit()`` is true just before it (else the
    temporary file is removed and nothing is written); returns whether ``path`` was written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path, unique)
    try:
        if path.suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
        if commit is not None and not commit():
            tmp.unlink(missing_ok=True)
            return False
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    return True


def write_json_atomic(data: dict[str, Any], path: Path) -> None:
    tmp = temp_path(path)
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)
