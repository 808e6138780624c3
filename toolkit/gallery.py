"""Regenerate every image and generated table the repository shows (``./run.sh gallery``).

Nothing in ``docs/gallery/``, ``docs/screenshots/`` or in the README's generated blocks is made
by hand. This module

- runs the headline study, copies its presenter figures to ``docs/gallery/headline-*.png`` and
  rewrites the README's ``<!-- BEGIN headline-summary -->`` block from its summary table;
- draws the key chart of each kind (``docs/gallery/*.png``, listed in :data:`CHARTS`) from the
  headline study, the teacher-capacity sweep, the multi-year study and the bfi questionnaire;
- serves the interactive classroom view and takes a screenshot in headless Chromium
  (``docs/screenshots/classroom-view.png``), when Chromium is installed.

The runs go into the gallery's own folder, ``runs/gallery/<study>`` (replaced on each build,
keeping any file of yours there out of harm: a file where the new run would write stops the
build before anything runs), never into the studies' own ``runs/headline`` etc., which hold
your runs. Every chart carries the provenance line of the run it comes from (study, seed,
classrooms, toolkit version and commit). All runs are made, and the git state of every line
recorded, before the first file of the repository is written: on a clean tree every image says
so, instead of the later ones being marked ``+dirty`` by the earlier ones.
``python -m toolkit.gallery --help`` lists the options.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.axes import Axes

from toolkit._base.source import checkout_root
from toolkit.study.analysis import format_summary, provenance_line
from toolkit.study.runner import RunResult, check_run_folder, run_study
from toolkit.study.spec import StudyError, StudySpec, load_study

__all__ = [
    "CHARTS",
    "EVIDENCE_TABLE",
    "HEADLINE_ROWS",
    "build_gallery",
    "draw_chart",
    "readme_summary_block",
    "update_readme",
]

#: This project's checkout, when the toolkit runs from one (``None`` when installed: the
#: gallery rewrites the repository's README and docs/, never an installed package's folder).
ROOT = checkout_root()

#: Rows of the summary shown in the README (the full table is in the run folder).
HEADLINE_ROWS = (
    "score", "effect_size", "total_learning", "engagement", "self_regulation_growth",
    "core_time", "sd_score", "p90_p10", "matthew", "mean_pairwise_distance",
    "diversity_of_excellence",
)  # fmt: skip

#: The key charts: file stem in docs/gallery -> (study file, what it shows).
CHARTS = {
    "effect-on-test": ("headline.toml", "Effect on the test, paired against standardized"),
    "distribution": ("headline.toml", "Distribution of test scores per regime"),
    "spread": ("headline.toml", "Spread and gaps, paired against standardized"),
    "diversity": ("headline.toml", "Diversity of skill profiles, % vs standardized"),
    "strongest-domains": ("headline.toml", "Where students are strongest"),
    "sweep-teacher-capacity": ("sweep-teacher-capacity.toml", "Sweep with crossovers"),
    "years-score": ("years.toml", "Test score over four school years"),
    "likert-bfi": (None, "Likert items of a real questionnaire (psych's bfi)"),
    "evidence-headline": (None, "The headline before and after the trial record"),
}

#: The table the evidence chart reads (``simulations/evidence_headline.py`` writes it).
EVIDENCE_TABLE = "simulations/evidence-headline.csv"

#: Slide size of each key chart (default 4:3).
_SIZES = {"likert-bfi": "16:9", "evidence-headline": "16:9"}
#: Provenance of the questionnaire chart, before the toolkit's version and commit.
_BFI_SOURCE = "psych::bfi (2,800 people)"


def readme_summary_block(summary: pd.DataFrame) -> str:
    """Return the README's headline table: rows of :func:`format_summary` as a code block."""
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


#: Where the gallery's runs go, under the repository: one folder per study.
RUNS = Path("runs") / "gallery"


def _spec(root: Path, name: str) -> StudySpec:
    """Read ``simulations/<name>``; the source is kept relative."""
    spec = load_study(root / "simulations" / name)
    return dataclasses.replace(spec, source=f"simulations/{name}")


def _folder(root: Path, spec: StudySpec) -> Path:
    return root / RUNS / spec.name


def _run(root: Path, spec: StudySpec, progress: bool) -> RunResult:
    """Run a study as written into the gallery's own folder (replacing the gallery's run)."""
    return run_study(spec, _folder(root, spec), overwrite=True, progress=progress)


def _save(draw: Callable[[], object], path: Path, line: str, size: str = "4:3") -> Path:
    import matplotlib.pyplot as plt

    from toolkit.charts import save_figure

    ax = draw()
    (out,) = save_figure(ax.figure, path, formats=["png"], size=size, provenance=line, dpi=150)
    plt.close(ax.figure)
    return out


def _likert() -> Axes:
    from toolkit.charts import chart_style, likert_bars
    from toolkit.datasets import codebook_path, load_dataset
    from toolkit.survey import read_codebook

    data = read_codebook(codebook_path("bfi")).decode(load_dataset("bfi"))
    items = ["C1", "C2", "C3", "C4", "C5"]
    ax = likert_bars(data, items, item_labels=[f"Conscientiousness {i}" for i in items])
    with chart_style():
        # six long response labels in one row are wider than a slide: three columns fit
        ax.legend(ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
        if not ax.get_title(loc="left"):
            ax.set_title("Conscientiousness items of the Big Five Inventory", loc="left")
    return ax


def draw_chart(
    stem: str,
    result: RunResult | None = None,
    spec: StudySpec | None = None,
    table: pd.DataFrame | None = None,
) -> Axes:
    """Draw one key chart of the gallery (a key of :data:`CHARTS`) from its run's results.

    Parameters
    ----------
    stem : str
        The chart's file stem, e.g. ``"effect-on-test"``.
    result : RunResult, optional
        The run of the chart's study (:data:`CHARTS`); not needed for ``"likert-bfi"``, which
        draws psych's bfi questionnaire.
    spec : StudySpec, optional
        The study (its swept parameter labels the sweep chart).
    table : pandas.DataFrame, optional
        For ``"evidence-headline"``: the prior and posterior predictive table
        (:data:`EVIDENCE_TABLE`, drawn by :func:`toolkit.charts.plot_prior_posterior`).

    Returns
    -------
    matplotlib Axes
    """
    from toolkit.charts import (
        plot_distribution,
        plot_diversity,
        plot_metric,
        plot_spread,
        plot_strongest_domains,
        plot_sweep,
        plot_trajectory,
    )

    if stem not in CHARTS:
        raise ValueError(f"draw_chart: unknown chart {stem!r}; the charts are {list(CHARTS)}.")
    if stem == "likert-bfi":
        return _likert()
    if stem == "evidence-headline":
        from toolkit.charts import plot_prior_posterior

        if table is None:
            raise ValueError(f"draw_chart: {stem!r} needs the table of {EVIDENCE_TABLE}.")
        return plot_prior_posterior(table, "test")
    if result is None:
        raise ValueError(f"draw_chart: {stem!r} needs the run of {CHARTS[stem][0]}.")
    s, students = result.summary, result.students
    sweep_parameter = spec.sweep_parameter if spec is not None else None
    draw = {
        "effect-on-test": lambda: plot_metric(s, "effect_size"),
        "distribution": lambda: plot_distribution(students, "score"),
        "spread": lambda: plot_spread(s, difference=True),
        "diversity": lambda: plot_diversity(s),
        "strongest-domains": lambda: plot_strongest_domains(students),
        "sweep-teacher-capacity": lambda: plot_sweep(s, "effect_size", parameter=sweep_parameter),
        "years-score": lambda: plot_trajectory(s, "score"),
    }
    return draw[stem]()


def build_gallery(
    root: Path | None = None, progress: bool = True, screenshot: bool = True
) -> list[Path]:
    """Run the studies, refresh the README's images and table, and take the view's screenshot.

    Parameters
    ----------
    root : Path, optional
        The repository (default: the checkout the toolkit runs from).
    progress : bool
        Show the runs' progress bars.
    screenshot : bool
        Also screenshot the interactive view (skipped with a message if Chromium is missing).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ValueError
        If no ``root`` is given and the toolkit is installed rather than run from a checkout.
    StudyError
        Before anything runs, if a gallery run folder (``runs/gallery/<study>``) holds
        something that is not the gallery's run, or files of yours where the run would write.
    """
    root = _repository(root)
    matplotlib.use("Agg")
    from toolkit.charts import default_provenance

    gallery = root / "docs" / "gallery"
    # First everything that records the git state (each run's manifest, the questionnaire
    # chart's line), then the files: writing an image must not make the next one "+dirty".
    bfi_line = f"{_BFI_SOURCE} | {default_provenance()}"
    evidence = pd.read_csv(root / EVIDENCE_TABLE)
    evidence_line = f"{EVIDENCE_TABLE} | {default_provenance()}"
    studies = dict.fromkeys(study for study, _ in CHARTS.values() if study is not None)
    specs = {name: _spec(root, name) for name in ["headline.toml", *studies]}
    for spec in specs.values():  # every folder first: refuse before anything runs
        check_run_folder(spec, _folder(root, spec), overwrite=True)
    runs = {name: (spec, _run(root, spec, progress)) for name, spec in specs.items()}

    gallery.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fig in runs["headline.toml"][1].figures:
        if fig.suffix == ".png":
            dest = gallery / f"headline-{fig.stem}.png"
            shutil.copyfile(fig, dest)
            written.append(dest)
    for stem, (study, _) in CHARTS.items():
        spec, result = runs[study] if study is not None else (None, None)
        # charts of a run carry the run's line; the other two, their data's
        lines = {"likert-bfi": bfi_line, "evidence-headline": evidence_line}
        line = provenance_line(result, spec) if result is not None else lines[stem]
        size = _SIZES.get(stem, "4:3")
        written.append(
            _save(
                lambda: draw_chart(stem, result, spec, evidence),  # noqa: B023
                gallery / stem,
                line,
                size,
            )
        )
    update_readme(root / "README.md", readme_summary_block(runs["headline.toml"][1].summary))

    if screenshot:
        from toolkit.viz.assets import install_assets
        from toolkit.viz.browser import find_chromium, screenshot_view

        if find_chromium() is None:
            print(
                "gallery: no Chromium installed; the view's screenshot was not redone",
                file=sys.stderr,
            )
        else:
            install_assets()
            written.append(
                screenshot_view(root / "docs" / "screenshots" / "classroom-view.png", steps=40)
            )
    return written


def _repository(root: Path | None) -> Path:
    if root is not None:
        return Path(root)
    if ROOT is None:
        raise ValueError(
            "the gallery rewrites a checkout's README.md and docs/ from its simulations/: run it "
            "in a clone of the toolkit (./run.sh gallery), not from an installed package."
        )
    return ROOT


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m toolkit.gallery`` (``./run.sh gallery``)."""
    parser = argparse.ArgumentParser(
        prog="python -m toolkit.gallery",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--no-screenshot", action="store_true", help="skip the browser step")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m toolkit.gallery [--no-screenshot] [--quiet]``."""
    args = build_parser().parse_args(argv)
    try:
        root = _repository(None)
        written = build_gallery(root, progress=not args.quiet, screenshot=not args.no_screenshot)
    except (ValueError, StudyError) as exc:
        print(f"gallery: error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path.relative_to(root) if path.is_relative_to(root) else path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
