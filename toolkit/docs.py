"""Generated parts of the documentation: parameter and regime tables for ``docs/odd.md``.

The tables between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` markers in the ODD document
are produced from the code's own metadata, so the document cannot drift from the model:
``python -m toolkit docs`` rewrites them, and a test fails when they are stale.
"""

from __future__ import annotations

import re
from pathlib import Path

from toolkit.model.params import parameter_table
from toolkit.model.regimes import PRESETS, regime_table

__all__ = ["GENERATED", "parameters_markdown", "regimes_markdown", "update_document"]


def _cell(value: object) -> str:
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return str(value).replace("|", "\\|").replace("\n", " ")


def parameters_markdown() -> str:
    """Markdown tables of every model parameter, one table per group."""
    t = parameter_table()
    out = []
    for group, rows in t.groupby("group", sort=False):
        out.append(f"**{group}**\n")
        out.append(
            "| parameter | default | unit | range | plausible | meaning | source of the default "
            "| source of the plausible range |"
        )
        out.append("|---|---|---|---|---|---|---|---|")
        for r in rows.itertuples():
            out.append(
                f"| `{r.name}` | {_cell(r.default)} | {_cell(r.unit)} | {_cell(r.range)} | "
                f"{_cell(r.plausible)} | {_cell(r.description)} | {_cell(r.source)} | "
                f"{_cell(r.plausible_source)} |"
            )
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def regimes_markdown() -> str:
    """Markdown table of the regime presets on their axes."""
    t = regime_table()
    names = list(PRESETS)
    out = [
        "| axis | group | " + " | ".join(names) + " | meaning |",
        "|---|---|" + "---|" * len(names) + "---|",
    ]
    for axis, r in t.iterrows():
        vals = " | ".join(_cell(r[n]) for n in names)
        out.append(f"| `{axis}` | {r['group']} | {vals} | {_cell(r['description'])} |")
    return "\n".join(out) + "\n"


GENERATED = {"parameters": parameters_markdown, "regimes": regimes_markdown}


def update_document(path: str | Path, check: bool = False) -> list[str]:
    """Rewrite (or, with ``check``, only compare) the generated blocks of a document.

    Parameters
    ----------
    path : str or Path
        A markdown file with ``<!-- BEGIN name -->`` / ``<!-- END name -->`` markers.
    check : bool
        Do not write; return the names of blocks that are out of date.

    Returns
    -------
    list of str
        Names of the blocks that were (or would be) changed.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    changed = []
    for name, make in GENERATED.items():
        pattern = re.compile(
            rf"(<!-- BEGIN {name} -->\n)(.*?)(<!-- END {name} -->)", flags=re.DOTALL
        )
        m = pattern.search(text)
        if m is None:
            raise ValueError(f"{path}: no '<!-- BEGIN {name} -->' ... '<!-- END {name} -->' block.")
        new = make()
        if m.group(2) != new:
            changed.append(name)
            text = text[: m.start(2)] + new + text[m.end(2) :]
    if changed and not check:
        path.write_text(text, encoding="utf-8")
    return changed
