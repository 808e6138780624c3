"""The figures of a study's run, drawn from its tables and saved into its ``figures/``.

:func:`draw_run_figures` is what the study layer's analysis
(:func:`toolkit.study.analysis.analyse_run`) calls through the plug-in point
``analysis.figures`` (declared in ``toolkit/__init__.py``): the study layer computes plain
tables, this chart layer draws them. On a run with worker processes the figures are tasks of
its workers, so this module imports matplotlib and the drawing modules only where a figure is
made: the run's own process hands the figures out without loading them.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.charts.panels import HEADLINE_PANELS
from toolkit.study.analysis import provenance_line
from toolkit.study.pool import Pool, SerialPool, Task
from toolkit.study.result import RunResult
from toolkit.study.spec import StudySpec

__all__ = ["draw_run_figures", "figure_names", "save_run_figures", "study_figures"]

#: The modules that draw a run's figures, imported only where a figure is made: a run's
#: workers load them before they are needed (:data:`toolkit._base.forkserver.WORKER_PRELOAD`,
#: :meth:`toolkit.study.pool.Pool.warm`).
DRAWING_MODULES = ("toolkit.charts.study", "toolkit.charts.decomposition")


def draw_run_figures(
    result: RunResult,
    spec: StudySpec,
    summary: pd.DataFrame,
    tails: pd.DataFrame,
    decomposition: pd.DataFrame | Task,
    pool: Pool | None = None,
) -> list[Path]:
    """Draw a run's figures (:func:`study_figures`) and save them (:func:`save_run_figures`).

    Parameters
    ----------
    result : RunResult
        The run (its folder, manifest and the files it wrote).
    spec : StudySpec
    summary, tails : pandas.DataFrame
        The run's tables.
    decomposition : pandas.DataFrame or Task
        The run's decomposition (may be empty), or a task whose result it is (on a pool of
        workers it is still being combined when the figures start): the figures that do not
        need it are handed to the pool first, and its own once it is there.
    pool : Pool, optional
        Where to draw them (:mod:`toolkit.study.pool`): each figure is a task, so on a run
        with workers they draw them side by side. Default: in this process, one after another.

    Returns
    -------
    list of Path
        Every file written, in the order of :func:`figure_names`.
    """
    if pool is None or isinstance(pool, SerialPool):
        table = _table(decomposition)
        figs = study_figures(spec, summary, tails, table)
        return save_run_figures(result, spec, figs)
    run = RunResult(result.folder, result.manifest, arms=result.arms, keep=result.keep)

    def submit(names: list[str], table: pd.DataFrame) -> dict[str, Task]:
        return {n: pool.submit(_draw_some, [n], spec, summary, tails, table, run) for n in names}

    # every figure but the decomposition's (they do not read it), then the decomposition's
    tasks = submit(figure_names(spec, summary, tails, pd.DataFrame()), pd.DataFrame())
    table = _table(decomposition)
    names = figure_names(spec, summary, tails, table)
    tasks |= submit([n for n in names if n not in tasks], table)
    paths: list[Path] = []
    for name in names:
        saved = tasks[name].result()
        result.record(saved)
        paths += saved
    return paths


def _table(decomposition: pd.DataFrame | Task) -> pd.DataFrame:
    """Return the decomposition itself, waiting for it if it is a task."""
    return decomposition if isinstance(decomposition, pd.DataFrame) else decomposition.result()


def _draw_some(
    names: list[str],
    spec: StudySpec,
    summary: pd.DataFrame,
    tails: pd.DataFrame,
    decomposition: pd.DataFrame,
    result: RunResult,
) -> list[Path]:
    """Make and save the figures ``names`` of a run (a task of the analysis's pool)."""
    figs = study_figures(spec, summary, tails, decomposition, only=names)
    return save_run_figures(result, spec, figs)


def figure_names(
    spec: StudySpec,
    summary: pd.DataFrame,
    tails: pd.DataFrame,
    decomposition: pd.DataFrame,
) -> list[str]:
    """Return the names of the figures :func:`study_figures` makes, in its order."""
    names = []
    if spec.sweep_parameter:
        names += [f"sweep_{m}" for m in _SWEEP_METRICS]
    else:
        available = set(summary["metric"])
        names += [n for n, _, metrics, _ in HEADLINE_PANELS if set(metrics) & available]
        if tails is not None and not tails.empty:
            names.append("tails")
        if not decomposition.empty:
            names += [f"decomposition_{a}" for a in spec.arms if a != spec.reference]
    if spec.years > 1:
        names += [f"years_{m}" for m in _YEARS_METRICS]
    return names


_SWEEP_METRICS = ("effect_size", "total_learning", "sd_score", "diversity_of_excellence")
_YEARS_METRICS = ("score", "total_learning", "self_regulation_growth", "sd_score")


def study_figures(
    spec: StudySpec,
    summary: pd.DataFrame,
    tails: pd.DataFrame,
    decomposition: pd.DataFrame,
    only: Collection[str] | None = None,
) -> dict[str, Any]:
    """Make a run's figures: the sweep's, or the comparison's with its decomposition; years.

    Parameters
    ----------
    spec : StudySpec
    summary, tails, decomposition : pandas.DataFrame
        The run's tables (``decomposition`` may be empty).
    only : collection of str, optional
        Make only the figures of these names (:func:`figure_names` lists them all).

    Returns
    -------
    dict of str to matplotlib Figure
        Keyed by file name (without the extension).
    """
    import matplotlib.pyplot as plt

    from toolkit.charts.decomposition import plot_decomposition
    from toolkit.charts.study import headline_figures, plot_sweep, plot_trajectory
    from toolkit.charts.style import SLIDE_SIZES, chart_style

    def new(size: str) -> tuple[Any, Any]:
        with chart_style():
            return plt.subplots(figsize=SLIDE_SIZES[size], layout="constrained")

    def wanted(name: str) -> bool:
        return only is None or name in only

    figs: dict[str, Any] = {}
    if spec.sweep_parameter:
        for metric in _SWEEP_METRICS:
            if not wanted(f"sweep_{metric}"):
                continue
            fig, ax = new("4:3")
            plot_sweep(summary, metric, ax=ax, parameter=spec.sweep_parameter)
            figs[f"sweep_{metric}"] = fig
    else:
        panels = [p for p in HEADLINE_PANELS if wanted(p[0])]
        # fitted by save_run_figures, at the size and resolution they are saved
        figs |= headline_figures(
            summary, tails if wanted("tails") else None, panels=panels, fit=False
        )
        if not decomposition.empty:
            es = summary[summary["metric"] == "effect_size"]
            es = es[(es["year"] == es["year"].max()) & (es["point"] == es["point"].min())]
            es = es.set_index(es["arm"].astype(str))
            for arm in (a for a in spec.arms if a != spec.reference):
                if not wanted(f"decomposition_{arm}"):
                    continue
                fig, ax = new("16:9")
                r = es.loc[arm]
                plot_decomposition(
                    decomposition, arm, "effect_size", ax=ax,
                    full=(r["mean"], r["ci_low"], r["ci_high"]),
                    full_classrooms=spec.classrooms,
                )  # fmt: skip
                figs[f"decomposition_{arm}"] = fig
    if spec.years > 1:
        for metric in _YEARS_METRICS:
            if not wanted(f"years_{metric}"):
                continue
            fig, ax = new("4:3")
            plot_trajectory(summary, metric, ax=ax)
            figs[f"years_{metric}"] = fig
    return figs


def save_run_figures(result: RunResult, spec: StudySpec, figs: dict[str, Any]) -> list[Path]:
    """Save figures into the run's ``figures/`` with its provenance line, note and close them.

    A decomposition's figures (``decomposition_*``) say on their line how many of the
    classrooms the decomposition took, when it did not take them all.

    Returns
    -------
    list of Path
        Every file written (one per figure and format).
    """
    import matplotlib.pyplot as plt

    from toolkit.charts.style import save_figure

    line = provenance_line(result, spec)
    n_dec = min(spec.decomposition, spec.classrooms)
    line_dec = (  # the decomposition's classrooms, when it does not take them all
        provenance_line(result, spec, classrooms=f"{n_dec} of {spec.classrooms}")
        if n_dec < spec.classrooms
        else line
    )
    paths: list[Path] = []
    for name, fig in figs.items():
        saved = save_figure(
            fig,
            result.folder / "figures" / name,
            formats=spec.formats,
            provenance=line_dec if name.startswith("decomposition_") else line,
        )
        result.record(saved)
        paths += saved
        plt.close(fig)
    return paths
