"""Plain-text output of the command line: tables that fit a terminal, parameters, run folders.

Everything here returns strings (or a table) and prints nothing, so the command line
(:mod:`toolkit.cli`) stays a thin layer and the layout can be tested on its own. Text is
wrapped to a width (100 columns by default), never truncated: a long cell continues on the
next lines of its own column.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["WIDTH", "format_parameters", "format_runs", "list_runs", "text_table"]

#: Default width of the command line's output, in characters.
WIDTH = 100


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _wrap(text: str, width: int) -> list[str]:
    lines = textwrap.wrap(text, width=max(width, 1), break_long_words=True, break_on_hyphens=False)
    return lines or [""]


def _fit_widths(
    headers: Sequence[str], cells: Sequence[Sequence[str]], width: int, gap: int, nowrap: set[int]
) -> list[int]:
    n = len(headers)
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    floor = [widths[i] if i in nowrap else max(8, len(h)) for i, h in enumerate(headers)]
    while sum(widths) + gap * (n - 1) > width:
        i = max(range(n), key=lambda k: widths[k] - floor[k])
        if widths[i] <= floor[i]:
            break
        widths[i] -= 1
    return widths


def text_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    width: int = WIDTH,
    gap: int = 2,
    nowrap: Sequence[int] = (0,),
    widths: Sequence[int] | None = None,
) -> str:
    """Left-aligned columns that fit ``width`` characters, wrapping the widest cells.

    Each column is as wide as its longest cell; while the table is wider than ``width``, the
    column with the most room to give loses a character (none narrower than 8 or its header,
    and the ``nowrap`` columns not at all). Cells longer than their column are wrapped onto
    further lines of the same row.

    Parameters
    ----------
    headers : sequence of str
    rows : sequence of sequences
        Cell values (lists are shown as ``[a, b]``, missing values as blanks).
    width : int
        Maximum line length.
    gap : int
        Spaces between columns.
    nowrap : sequence of int
        Columns never wrapped (default: the first, which names the row).
    widths : sequence of int, optional
        Column widths to use as they are (e.g. shared by several tables).

    Returns
    -------
    str
        The table, without trailing spaces; no line longer than ``width`` unless the
        ``nowrap`` columns and the minimum widths already exceed it.

    Examples
    --------
    >>> print(text_table(["a", "b"], [["x", "one two three"]], width=12))
    a  b
    x  one two
       three
    """
    cells = [[_cell(v) for v in row] for row in rows]
    if widths is None:
        widths = _fit_widths(headers, cells, width, gap, set(nowrap))
    out = []
    for row in [list(headers), *cells]:
        wrapped = [_wrap(c, widths[i]) for i, c in enumerate(row)]
        for k in range(max(len(w) for w in wrapped)):
            parts = [(w[k] if k < len(w) else "").ljust(widths[i]) for i, w in enumerate(wrapped)]
            out.append((" " * gap).join(parts).rstrip())
    return "\n".join(out)


def _columns(left: str, right: str, width: int, indent: int = 2, gap: int = 3) -> list[str]:
    """Two texts side by side, each wrapped in its own column."""
    half = (width - indent - gap) // 2
    a, b = _wrap(left, half), _wrap(right, width - indent - gap - half)
    lines = []
    for k in range(max(len(a), len(b))):
        la = a[k] if k < len(a) else ""
        lb = b[k] if k < len(b) else ""
        lines.append((" " * indent + la.ljust(half) + " " * gap + lb).rstrip())
    return lines


def format_parameters(table: pd.DataFrame, long: bool = False, width: int = WIDTH) -> str:
    """Return the parameter list of ``python -m toolkit params``, within ``width`` columns.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`toolkit.model.params.parameter_table` (columns ``group, name, default, unit,
        range`` and, for ``long``, ``description, source``; ``plausible`` and
        ``plausible_source`` are shown when present).
    long : bool
        One block per parameter: a heading line (name, default and unit, accepted range,
        plausible range), then two columns, what the parameter is (left) and where its value
        comes from (right), and the plausible range beside its source.
    width : int
        Maximum line length.

    Returns
    -------
    str
    """
    has_plausible = "plausible" in table
    headers = ["name", "default (unit)", "accepted", *(["plausible"] * has_plausible)]
    body = {
        i: [r["name"], f"{_cell(r['default'])} {r['unit']}".strip(), r["range"]]
        + ([r["plausible"]] if has_plausible else [])
        for i, r in table.iterrows()
    }
    widths = _fit_widths(
        headers, [[_cell(v) for v in row] for row in body.values()], width, 2, {0, 2, 3}
    )
    out: list[str] = []
    if long:
        half = (width - 5) // 2
        out.append(
            "Every model parameter: default (unit), the range the model accepts and the plausible "
            "range that sensitivity studies sample; below, what it is (left) and where the value "
            "comes from (right)."
        )
        out = textwrap.wrap(out[0], width)
        out.append("")
        out.append(("  " + "WHAT IT IS".ljust(half) + "   WHERE THE VALUE COMES FROM").rstrip())
    for group, rows in table.groupby("group", sort=False):
        out.append("")
        out.append(f"{group}")
        out.append("=" * min(width, len(str(group))))
        if not long:
            out.append(text_table(headers, [body[i] for i in rows.index], width, widths=widths))
            continue
        for _, r in rows.iterrows():
            head = f"{r['name']} = {_cell(r['default'])} {r['unit']}".rstrip()
            ranges = [f"accepted {r['range']}" if r["range"] else "accepted: any"]
            if has_plausible:
                ranges.append(f"plausible {r['plausible']}")
            out.append("")
            out += textwrap.wrap(head + "   (" + "; ".join(ranges) + ")", width)
            out += _columns(str(r["description"]), str(r["source"]), width)
            if has_plausible and str(r.get("plausible_source", "")):
                out += _columns(
                    f"Plausible range: {r['plausible']}", str(r["plausible_source"]), width
                )
    return "\n".join(out).lstrip("\n")


def list_runs(folder: str | Path) -> pd.DataFrame:
    """Every run folder under ``folder`` (any depth), from its ``manifest.json``.

    Parameters
    ----------
    folder : str or Path
        Where runs are kept (``runs/`` by default on the command line).

    Returns
    -------
    pandas.DataFrame
        One row per run, oldest first (unreadable manifests last): ``run`` (path relative to
        ``folder``), ``study``, ``status`` (``complete``, ``running``, ...; ``unreadable
        manifest`` for one that is not valid JSON), ``seed``, ``classrooms``, ``started``
        (``YYYY-MM-DD HH:MM`` UTC),
        ``overrides`` (the command-line options that changed the study file's settings).

    Raises
    ------
    FileNotFoundError
        If ``folder`` is not a folder.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder (runs are kept in runs/ by default).")
    rows = []
    for manifest in sorted(root.rglob("manifest.json")):
        run = manifest.parent
        name = run.relative_to(root).as_posix() if run != root else "."
        try:
            m = json.loads(manifest.read_text(encoding="utf-8"))
            if not isinstance(m, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError):
            rows.append({"run": name, "study": "", "status": "unreadable manifest"})
            continue
        study = m.get("study") or {}
        started = str(m.get("started") or "")
        rows.append(
            {
                "run": name,
                "study": study.get("name", ""),
                "status": m.get("status", ""),
                "seed": m.get("master_seed", study.get("seed")),
                "classrooms": study.get("classrooms"),
                "started": started[:16].replace("T", " ") if started else "",
                "overrides": " ".join(o.get("option", "") for o in m.get("overrides", [])),
            }
        )
    cols = ["run", "study", "status", "seed", "classrooms", "started", "overrides"]
    out = pd.DataFrame(rows, columns=cols).astype({"seed": "Int64", "classrooms": "Int64"})
    return out.sort_values("started", kind="stable").reset_index(drop=True)


def format_runs(runs: pd.DataFrame, folder: str | Path, width: int = WIDTH) -> str:
    """Return the listing of ``python -m toolkit runs``: :func:`list_runs` as a table."""
    if runs.empty:
        return f"No runs in {folder} (no manifest.json below it)."
    headers = ["run", "study", "status", "seed", "classrooms", "started (UTC)", "overrides"]
    return text_table(headers, runs.to_numpy().tolist(), width)
