"""Atomic writes: a file appears whole, under its name, or not at all.

Every writer puts its bytes in a temporary file beside the target (a leading dot and ``.tmp``:
pyarrow's dataset reader skips it, and a run folder's cleanup knows it as the run's own), then
renames it onto the target with :func:`os.replace`, which is atomic on POSIX and Windows.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["csv_text", "temp_path", "write_atomic", "write_json_atomic"]


def temp_path(path: Path, unique: bool = False) -> Path:
    # a leading dot: pyarrow's dataset reader skips it, and overwrite knows it as the run's;
    # unique (a worker's): the process and a random tag, so that two runs of a unit never share
    tag = f".{os.getpid()}-{uuid.uuid4().hex[:8]}" if unique else ""
    return path.with_name(f".{path.name}{tag}.tmp")


def csv_text(df: pd.DataFrame, header: bool = True) -> str:
    """Return ``df.to_csv(index=False, header=header)``, made faster for plain columns.

    pandas formats every value through numpy before its ``csv`` writer sees it; for columns of
    numbers, booleans and strings (or categories of strings) the same text comes from handing
    Python's ``csv`` writer the values themselves (a float's ``repr`` is numpy's shortest
    round-trip text, missing values are empty fields), in about half the time. Other frames
    (other dtypes, one column, column labels that are not strings) go to pandas.
    """
    plain = len(df.columns) > 1 and all(isinstance(c, str) for c in df.columns)
    columns: list[list[Any]] = []
    for name in df.columns if plain else ():
        col = df[name]
        kind = col.dtype.kind if isinstance(col.dtype, np.dtype) else None
        if kind in ("i", "u", "b"):
            columns.append(col.to_numpy().tolist())
        elif kind == "f":
            values = col.to_numpy()
            out = values.tolist()
            if np.isnan(values).any():
                out = [None if x != x else x for x in out]
            columns.append(out)
        elif isinstance(col.dtype, pd.CategoricalDtype | pd.StringDtype) and all(
            isinstance(c, str) for c in getattr(col.dtype, "categories", [])
        ):
            values = col.astype(object)
            columns.append(values.where(values.notna(), None).tolist())
        else:
            plain = False
            break
    if not plain:
        return df.to_csv(index=False, header=header)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=os.linesep)
    if header:
        writer.writerow(df.columns)
    writer.writerows(zip(*columns, strict=True))
    return buffer.getvalue()


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
            tmp.write_text(csv_text(df), encoding="utf-8", newline="")
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
