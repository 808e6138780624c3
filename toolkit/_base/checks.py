"""Input checks shared by every layer: data frames and columns, names and TOML keys (private).

Every error names the parameter, the column and, where rows are at fault, the first few row
labels, so that a researcher can find the cell in the original file.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd


def check_frame(data: object, name: str = "data") -> pd.DataFrame:
    """Raise TypeError unless ``data`` is a DataFrame."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(data).__name__}.")
    return data


def check_columns(data: pd.DataFrame, columns: str | Sequence[str], param: str) -> list[str]:
    """Normalise a column name or list of names and check that each is in ``data``."""
    cols = [columns] if isinstance(columns, str) else list(columns)
    if not cols:
        raise ValueError(f"{param} must name at least one column.")
    for col in cols:
        if not isinstance(col, Hashable) or isinstance(col, tuple | list):
            raise TypeError(f"{param} must be a column name or a list of names, got {col!r}.")
        if col not in data.columns:
            raise ValueError(
                f"{param}: column {col!r} is not in data "
                f"(available: {preview(list(data.columns), 12)})."
            )
    if len(set(cols)) != len(cols):
        dup = sorted({c for c in cols if cols.count(c) > 1})
        raise ValueError(f"{param}: column(s) {dup} are listed more than once.")
    return cols


def check_column(data: pd.DataFrame, column: str, param: str) -> str:
    """Check one column name."""
    if not isinstance(column, str):
        raise TypeError(f"{param} must be a single column name (str), got {column!r}.")
    return check_columns(data, column, param)[0]


def numeric_block(data: pd.DataFrame, cols: Sequence[str], param: str) -> np.ndarray:
    """Return ``data[cols]`` as a float array, naming the first non-numeric cell if any."""
    out = np.empty((len(data), len(cols)), dtype=float)
    for j, col in enumerate(cols):
        s = data[col]
        if pd.api.types.is_bool_dtype(s) or not (
            pd.api.types.is_numeric_dtype(s) or s.isna().all()
        ):
            conv = pd.to_numeric(s, errors="coerce")
            bad = s.notna() & conv.isna()
            if bad.any():
                rows = preview(list(s.index[bad]))
                vals = preview(list(pd.unique(s[bad])), 5)
                raise TypeError(
                    f"{param}: column {col!r} holds non-numeric values {vals} in rows {rows}; "
                    "recode labels to numbers first (see toolkit.survey.Codebook.recode)."
                )
            s = conv
        out[:, j] = s.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(out).any():
        j = int(np.where(np.isinf(out).any(axis=0))[0][0])
        raise ValueError(f"{param}: column {cols[j]!r} contains infinite values.")
    return out


def preview(values: Iterable[Hashable], k: int = 8) -> str:
    """Short printable list: the first ``k`` values and how many more."""
    vals = list(values)
    head = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in vals[:k])
    more = f", ... ({len(vals) - k} more)" if len(vals) > k else ""
    return f"[{head}{more}]"


def check_choice(value: object, name: str, choices: Sequence[object]) -> None:
    """Raise ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}.")


def check_level(ci: float, name: str = "ci") -> float:
    """Check a confidence level strictly between 0 and 1."""
    if isinstance(ci, bool) or not isinstance(ci, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a float between 0 and 1, got {ci!r}.")
    if not 0.0 < float(ci) < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1 (e.g. 0.95), got {ci}.")
    return float(ci)


def check_nan_policy(nan_policy: str) -> None:
    """Raise ValueError unless ``nan_policy`` is 'omit' or 'raise'."""
    if nan_policy not in ("omit", "raise"):
        raise ValueError(f"nan_policy must be 'omit' or 'raise', got {nan_policy!r}.")


def suggest_name(name: str, valid: list[str] | tuple[str, ...]) -> str:
    """Return a "did you mean ...?" hint for a misspelled name, or an empty string.

    Parameters
    ----------
    name : str
        The name the user typed.
    valid : sequence of str
        The names that exist.

    Returns
    -------
    str
        ``" Did you mean 'x'?"`` for the closest name (difflib ratio >= 0.6), else ``""``.

    Examples
    --------
    >>> suggest_name("teacher_capasity", ["teacher_capacity", "n_students"])
    " Did you mean 'teacher_capacity'?"
    """
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def check_keys(
    table: Mapping[str, Any],
    allowed: set[str],
    where: str,
    error: type[Exception] = ValueError,
) -> None:
    """Raise ``error`` naming the first key of a TOML table that is not ``allowed``.

    Parameters
    ----------
    table : mapping
        A table as read from TOML.
    allowed : set of str
        The keys it may have.
    where : str
        File and table for the message (``"study.toml [output]"``).
    error : type of Exception
        The exception raised (default ValueError).

    Examples
    --------
    >>> check_keys({"sead": 1}, {"seed"}, "s.toml [study]")
    Traceback (most recent call last):
    ...
    ValueError: s.toml [study]: unknown key 'sead'. Did you mean 'seed'? Allowed keys: ['seed'].
    """
    for key in table:
        if key not in allowed:
            raise error(
                f"{where}: unknown key '{key}'.{suggest_name(key, sorted(allowed))} "
                f"Allowed keys: {sorted(allowed)}."
            )
