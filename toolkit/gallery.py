"""Regenerate every image and generated table the README shows (``./run.sh gallery``).

Nothing in ``docs/gallery/`` or in the README's generated blocks is made by hand: this module
runs the headline study, copies its key figures to ``docs/gallery/`` and rewrites the README's
``<!-- BEGIN headline-summary -->`` block from the run's summary table.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd

from toolkit.study.analysis import format_summary
from toolkit.study.runner import run_study
from toolkit.study.spec import load_study

__all__ = ["HEADLINE_ROWS", "build_gallery", "readme_summary_block", "update_readme"]

ROOT = Path(__file__).resolve().parents[1]

#: Rows of the summary shown in the README (the full table is in the run folder).
HEADLINE_ROWS = (
    "score", "effect_size", "total_learning", "engagement", "self_regulation_growth",
    "core_time", "sd_score", "p90_p10", "matthew", "mean_pairwise_distance",
    "diversity_of_excellence",
)


def readme_summary_block(summary: pd.DataFrame) -> str:
    """The README's headline table: selected rows of :func:`format_summary`, as a code block."""
    return "```text\n" + format_summary(summary, metrics=HEADLINE_ROWS) + "\n```\n"


def update_readme(readme: Path, block: str, check: bool = False) -> bool:
    """Replace (or, with ``check``, compare) the README's headline-summary block.

    Returns
    -------
    bool
        Whether the block differs from ``block``.
    """
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(
        r"(<!-- BEGIN headline-summary -->\n)(.*?)(<!-- END headline-summary -->)", re.DOTALL
    )
    m = pattern.search(text)
    if m is None:
        raise ValueError(f"{readme}: no headline-summary block.")
    changed = m.group(2) != block
    if changed and not check:
        readme.write_text(text[: m.start(2)] + block + text[m.end(2) :], encoding="utf-8")
    return changed


def build_gallery(root: Path = ROOT, progress: bool = True) -> list[Path]:
    """Run the headline study into ``runs/headline`` and refresh the README's images and table.

    Returns
    -------
    list of Path
        The gallery files written.
    """
    spec = load_study(root / "simulations" / "headline.toml")
    result = run_study(spec, root / spec.folder, overwrite=True, progress=progress)
    gallery = root / "docs" / "gallery"
    gallery.mkdir(parents=True, exist_ok=True)
    written = []
    for fig in result.figures:
        if fig.suffix == ".png":
            dest = gallery / f"headline-{fig.stem}.png"
            shutil.copyfile(fig, dest)
            written.append(dest)
    update_readme(root / "README.md", readme_summary_block(result.summary))
    return written


if __name__ == "__main__":  # pragma: no cover
    for path in build_gallery():
        print(path)
