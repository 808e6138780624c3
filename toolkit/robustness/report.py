"""Run a robustness study and write its report (HTML and Markdown), tables and charts.

``python -m toolkit robustness STUDY`` (or :func:`run_robustness`) runs the study's design
points through the study runner (resumable, one work unit per design point) and then
:func:`analyse_design` writes, into the run folder::

    design.csv           the design points in the parameters' own units (and Saltelli blocks)
    outputs.parquet      per point: every paired arm difference on every metric (mean, se)
    claims_by_point.csv  per point and claim: margin, 95% interval, holds, verdict
    claims.csv           per claim: share of the plausible space, interval, drivers, region
    sobol.csv            Sobol' first-order and total indices with intervals (Saltelli designs)
    sobol2.csv           second-order indices (when asked for)
    morris.csv           Morris mu*, sigma (Morris designs)
    correlations.csv     Spearman correlations of every output with every parameter (any design)
    regions.csv          each claim's failure box, parameter by parameter (clear: whether it is a
                         clear region, see toolkit.robustness.analysis.failure_region)
    report.md            the summary: each claim, its share, drivers and failure region
    report.html          the same with every chart and table
    report.json          the numbers behind the summary (read by :func:`readme_block`)
    figures/             the charts

The README's robustness section is generated from ``report.json`` (:func:`publish`), never
typed by hand.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup
from scipy import stats

from toolkit.robustness.analysis import (
    claim_share,
    drivers,
    failure_region,
    metric_cube,
    morris_indices,
    noise_share,
    point_claims,
    point_outputs,
    rank_correlations,
    sobol_indices,
)
from toolkit.study.runfolder import collect_parts
from toolkit.study.runner import RunResult, run_study, simulate_unit
from toolkit.study.spec import StudySpec
from toolkit.templates import render

__all__ = [
    "analyse_design",
    "collect_parts",
    "estimate",
    "format_estimate",
    "publish",
    "readme_block",
    "require_robustness",
    "run_robustness",
    "update_readme",
]

README_MARK = "robustness-summary"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def _provenance(result: RunResult, spec: StudySpec) -> str:
    rob = spec.robustness
    m = result.manifest
    git = m.get("git", {})
    commit = (git.get("commit") or "no-git")[:8] + ("+dirty" if git.get("dirty") else "")
    version = m.get("versions", {}).get("classroom-regimes-toolkit") or "dev"
    return (
        f"{spec.name} | {spec.source} | {rob.design} n={rob.n} | seed {spec.seed} | "
        f"{spec.classrooms} classrooms/arm/point | toolkit {version} | commit {commit}"
    )


def analyse_design(result: RunResult, spec: StudySpec) -> RunResult:
    """Analyse a finished robustness run: tables, indices, claims, regions, charts, report.

    The runner's ``analyse`` step for studies with a ``[robustness]`` table. Returns the result
    with ``summary`` = the claims table (one row per claim) and ``figures`` filled in.
    """
    t0 = time.perf_counter()
    rob = spec.robustness
    folder = result.folder
    design = rob.make_design(spec.seed)
    model = rob.model_object()
    pts, cube = metric_cube(
        result.classrooms,
        rob.arms,
        rob.metrics,
        year=None if rob.year is None else rob.year - 1,  # tables count years from 0
        points=range(design.size),
    )
    mean, se, meta = point_outputs(pts, cube, rob.arms)
    by_point = point_claims(pts, cube, rob.arms, rob.claims)
    n_rooms = next(iter(cube.values())).shape[2] if cube else 0
    t975 = float(stats.t.ppf(0.975, n_rooms - 1)) if n_rooms > 1 else np.inf
    for c in rob.claims:
        rows = by_point[by_point["claim"] == c.name]
        mean[f"claim: {c.name}"] = rows["margin"].to_numpy()
        # the claims' intervals are t intervals over the classrooms: back to a standard error
        se[f"claim: {c.name}"] = (rows["ci_high"] - rows["ci_low"]).to_numpy() / (2 * t975)
    noise = {col: noise_share(mean[col].to_numpy(), se[col].to_numpy()) for col in mean.columns}
    seed = spec.seed if rob.seed is None else rob.seed
    sobol = sobol2 = morris = pd.DataFrame()
    if design.kind == "sobol":
        sobol, sobol2 = sobol_indices(design, mean, se=se, resamples=rob.resamples, seed=seed)
    elif design.kind == "morris":
        morris = morris_indices(design, mean, resamples=rob.resamples, seed=seed)
    correlations = rank_correlations(design.values, mean)
    indices = sobol if not sobol.empty else morris if not morris.empty else correlations
    independent = design.independent()

    claim_rows, region_rows, regions = [], [], {}
    reg = rob.region
    for c in rob.claims:
        rows = by_point[by_point["claim"] == c.name].reset_index(drop=True)
        share = claim_share(rows, independent)
        top = drivers(indices, f"claim: {c.name}")
        noise_c = noise[f"claim: {c.name}"]
        region = failure_region(  # on every point: each is a uniform draw over the space
            design.values,
            rows["holds"].to_numpy(),
            design.ranges,
            method=reg["method"],
            max_dims=reg["max_dims"],
            min_density=reg["min_density"],
        )
        regions[c.name] = region
        if region is not None:
            for p, (lo, hi) in region.limits.items():
                region_rows.append(
                    {"claim": c.name, "parameter": p, "low": lo, "high": hi, "clear": region.clear}
                )
        claim_rows.append(
            {
                "claim": c.name,
                "text": c.text,
                **share,
                "drivers": _drivers_text(top, noise_c, kind="ST" in indices.columns),
                "driver_1": top[0][0] if top else None,
                "driver_2": top[1][0] if len(top) > 1 else None,
                "region": _region_text(region, rows["holds"].to_numpy()),
                "coverage": region.coverage if region else np.nan,
                "density": region.density if region else np.nan,
                "median_margin": float(rows["margin"].median()),
                "noise_share": noise_c,
            }
        )
    claims = pd.DataFrame(claim_rows, columns=_CLAIM_COLUMNS)

    design.table().to_csv(folder / "design.csv", index=False)
    long = (
        mean.stack().rename("mean").to_frame().join(se.stack().rename("se"))
        .reset_index().rename(columns={"level_1": "output"})
    )  # fmt: skip
    long.to_parquet(folder / "outputs.parquet", index=False)
    by_point.to_csv(folder / "claims_by_point.csv", index=False)
    claims.to_csv(folder / "claims.csv", index=False)
    for name, table in (("sobol", sobol), ("sobol2", sobol2), ("morris", morris)):
        if not table.empty:
            table.to_csv(folder / f"{name}.csv", index=False)
    correlations.to_csv(folder / "correlations.csv", index=False)
    pd.DataFrame(region_rows, columns=["claim", "parameter", "low", "high", "clear"]).to_csv(
        folder / "regions.csv", index=False
    )

    line = _provenance(result, spec)
    figures = _figures(folder, spec, design, claims, by_point, indices, meta, regions, line)
    info = {
        "study": spec.name,
        "title": spec.title,
        "source": spec.source,
        "provenance": line,
        "model": rob.model,
        "design": rob.design,
        "over": rob.over,
        "n": rob.n,
        "points": design.size,
        "parameters": list(design.ranges.index),
        "ranges": design.ranges.reset_index().to_dict(orient="records"),
        "arms": list(rob.arms),
        "reference": rob.reference,
        "classrooms": spec.classrooms,
        "years": spec.years,
        "fixed": {k: spec.parameters[k] for k in rob.fixed},
        "metrics": list(rob.metrics),
        "independent_points": int(independent.sum()),
        "claims": claims.replace({np.nan: None}).to_dict(orient="records"),
        "too_noisy": sorted(o for o, v in noise.items() if not o.startswith("claim: ") and v >= 1),
        "indices": "sobol" if not sobol.empty else "morris" if not morris.empty else "spearman",
        "uses_parameters": model.uses_parameters,
        "started": result.manifest.get("started"),
        "analysis_seconds": round(time.perf_counter() - t0, 1),
    }
    (folder / "report.json").write_text(json.dumps(info, indent=2, default=str))
    tables = {"sobol": sobol, "morris": morris, "correlations": correlations}
    (folder / "report.md").write_text(_markdown(info, figures, folder), encoding="utf-8")
    (folder / "report.html").write_text(
        _html(info, figures, folder, tables, claims), encoding="utf-8"
    )
    result.summary = claims
    result.figures = figures
    return result


_CLAIM_COLUMNS = [
    "claim", "text", "share", "share_low", "share_high", "decided_true", "decided_false",
    "undecided", "n_points", "drivers", "driver_1", "driver_2", "region", "coverage", "density",
    "median_margin", "noise_share",
]  # fmt: skip


def _too_small(noise: float) -> str:
    return (
        f"none can be named at this size: the Monte Carlo noise of the margin is {noise:.2g} "
        "times its variance across the design points (noise share), so the design is too "
        "small for its indices (more classrooms per point make the noise smaller)"
    )


def _drivers_text(top: list[tuple[str, float]], noise: float, kind: bool) -> str:
    """Name the drivers of a claim with their indices, unless Monte Carlo noise swamps them.

    Noise in the outputs adds about its share of the variance to every total index, so a total
    index no larger than the noise share cannot be told from noise; a noise share of 1 or more
    leaves nothing to apportion.
    """
    if not top:
        return ""
    if np.isfinite(noise) and noise >= 1:
        return _too_small(noise)
    out = []
    for p, v in top:
        if kind and np.isfinite(noise) and v <= noise:
            out.append(
                f"{p} ({v:.2f}, no larger than the Monte Carlo noise share {noise:.2f}: the "
                "design is too small for this index)"
            )
        else:
            out.append(f"{p} ({v:.2f})")
    return "; ".join(out)


def _region_text(region: Any, holds: np.ndarray) -> str:
    if region is not None:
        return region.text
    return "never fails in the sample" if holds.all() else "fails everywhere in the sample"


def _figures(
    folder: Path,
    spec: StudySpec,
    design: Any,
    claims: pd.DataFrame,
    by_point: pd.DataFrame,
    indices: pd.DataFrame,
    meta: pd.DataFrame,
    regions: dict[str, Any],
    line: str,
) -> list[Path]:
    import matplotlib.pyplot as plt

    from toolkit.charts.style import SLIDE_SIZES, chart_style, save_figure
    from toolkit.robustness.charts import (
        plot_claim_heatmap,
        plot_claim_shares,
        plot_failure_region,
        plot_indices,
        plot_morris,
    )

    rob = spec.robustness
    fmts = list(spec.formats)
    if not fmts:  # [output] formats = []: no charts (the report has the tables only)
        return []
    if "png" not in fmts:
        fmts = ["png", *fmts]  # the report embeds PNGs
    out: list[Path] = []
    figdir = folder / "figures"

    def save(ax: Any, name: str) -> None:
        out.extend(save_figure(ax.figure, figdir / name, formats=fmts, provenance=line))
        plt.close(ax.figure)

    if not claims.empty:
        save(plot_claim_shares(claims), "claim_shares")
    kind = "ST" if "ST" in indices.columns else "mu_star" if "mu_star" in indices.columns else None
    if kind and not claims.empty:
        save(plot_claim_heatmap(indices, list(claims["claim"])), "claim_drivers")
    plot = plot_indices if kind == "ST" else plot_morris if kind == "mu_star" else None
    if plot is not None:
        for c in claims["claim"]:
            save(plot(indices, f"claim: {c}"), f"indices_claim_{_slug(c)}")
        for metric in rob.metrics:
            outs = meta[meta["metric"] == metric]
            if outs["kind"].eq("difference").any():  # the pairs against the reference
                outs = outs[(outs["b"] == rob.reference) | (outs["a"] == rob.reference)]
            outs = [
                o for o in outs["output"] if indices.loc[indices["output"] == o].notna().any().all()
            ]
            if not outs:
                continue
            with chart_style():
                fig, axes = plt.subplots(1, len(outs), figsize=SLIDE_SIZES["16:9"],
                                         layout="constrained", squeeze=False)  # fmt: skip
            for ax, o in zip(axes[0], outs, strict=True):
                plot(indices, o, ax=ax, **({"top": 8} if kind == "ST" else {}))
                ax.set_title(o.split(":")[0], loc="left", fontsize=14)
                label = ax.get_xlabel()
                ax.set_xlabel("")
                if ax is not axes[0][0]:
                    ax.set_ylabel("")
                if ax.get_legend() is not None and ax is not axes[0][-1]:
                    ax.get_legend().remove()
            fig.supxlabel(label, fontsize=15)
            fig.suptitle(metric, x=0.01, ha="left", fontsize=18, fontweight="bold")
            save(axes[0][0], f"indices_{_slug(metric)}")
    for c in claims["claim"]:
        region = regions.get(c)
        rows = by_point[by_point["claim"] == c]
        dims = list(region.limits) if region is not None else []
        top = [p for p in claims.loc[claims["claim"] == c, ["driver_1", "driver_2"]].iloc[0] if p]
        dims = list(dict.fromkeys(dims + top + list(design.ranges.index)))[:2]
        if len(dims) < 2 or region is None:
            continue
        title = c if region.clear else f"{c} (no clear failure region)"
        limits = region.limits if region.clear else None
        ax = plot_failure_region(design.values, rows["holds"].to_numpy(), dims[0], dims[1],
                                 limits=limits, title=title)  # fmt: skip
        save(ax, f"region_{_slug(c)}")
    return out


def _pct(v: float | None) -> str:
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{100 * v:.0f}%"


def _claim_sentence(c: dict[str, Any], over: str = "box") -> str:
    where = "of the posterior draws" if over == "posterior" else "of the plausible space"
    return (
        f"holds in **{_pct(c['share'])}** {where} "
        f"(95% interval {_pct(c['share_low'])} to {_pct(c['share_high'])}; the classrooms' "
        f"paired intervals settle that it holds at {_pct(c['decided_true'])} of the points, "
        f"that it fails at {_pct(c['decided_false'])}, and cannot tell at "
        f"{_pct(c['undecided'])})"
    )


def _design_sentence(info: dict[str, Any]) -> str:
    k = len(info["parameters"])
    what = {
        "sobol": f"a Saltelli design of N = {info['n']} base samples",
        "morris": f"{info['n']} Morris trajectories",
        "lhs": f"a Latin hypercube of {info['n']} points",
        "random": f"{info['n']} random points",
    }[info["design"]]
    arms = len(info["arms"])
    over = (
        f"drawn from the posterior of {k} calibrated parameters ({info['points']} design points)"
        if info.get("over") == "posterior"
        else f"over the plausible ranges of {k} parameters ({info['points']} design points)"
    )
    if info.get("over") == "posterior":
        what = f"{info['n']} points"
    return (
        f"{what} {over}, "
        f"{arms} arm{'s' if arms > 1 else ''} on the same {info['classrooms']} classrooms at "
        f"every point (common random numbers); shares over the {info['independent_points']} "
        + (
            "points of the A and B blocks (independent uniform draws)"
            if info["design"] == "sobol"
            else "grid points of the trajectories (a screening: their intervals are too narrow)"
            if info["design"] == "morris"
            else "points"
        )
    )


_METHOD_NOTES = {
    "sobol": "Drivers are ranked by the total Sobol' index of the claim's margin (the share of "
    "its variance across the plausible space that involves the parameter, interactions "
    "included); intervals are SALib's bootstrap 95% intervals, which resample the points as if "
    "they were independent draws: under the scrambled Sobol' design used here the estimators "
    "vary less than that, so the intervals are conservative (wider than they need be). Monte "
    "Carlo noise in the outputs (few classrooms per point) adds about its share of the variance "
    "to every total index: an index no larger than that noise share is not told apart from "
    "noise, and is marked so. Parameters not varied stay at "
    "their defaults: a Saltelli design costs N (k + 2) points, so choose its k parameters with a "
    "Morris screening of all of them first (as simulations/headline-screening.toml does).",
    "morris": "Drivers are ranked by Morris mu* of the claim's margin (a screening: it ranks "
    "parameters, it does not apportion variance). Run a Saltelli design on the parameters that "
    "matter for Sobol' indices.",
    "spearman": "Drivers are ranked by the absolute Spearman correlation of the claim's margin "
    "with each parameter (this design has no Sobol' or Morris structure).",
}


def _integer_note(info: dict[str, Any]) -> str:
    ints = [r["name"] for r in info["ranges"] if r["integer"]]
    if not ints:
        return ""
    note = (
        f"Whole-number parameters ({', '.join(ints)}) are rounded, each value equally likely: "
        "their indices are those of the rounded values."
    )
    if info.get("uses_parameters") and "n_students" in ints:
        note += (
            " Class size changes how many students a classroom's seed draws, so moving it draws "
            "other students: its indices include Monte Carlo noise that common random numbers "
            "remove for the other parameters."
        )
    return note


def _noisy_sentence(info: dict[str, Any]) -> str:
    names = info["too_noisy"]
    shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    return (
        f"The design is too small for the indices of {len(names)} output(s): their Monte Carlo "
        "noise is at least their variance across the design points (noise share >= 1; "
        f"`mc_noise_share` in sobol.csv): {shown}."
    )


def _markdown(info: dict[str, Any], figures: list[Path], folder: Path) -> str:
    pngs = {p.stem: p.relative_to(folder).as_posix() for p in figures if p.suffix == ".png"}
    lines = [
        f"# Robustness: {info['title']}",
        "",
        f"Study `{info['source']}`: {_design_sentence(info)}.",
        "",
        _METHOD_NOTES[info["indices"]],
        "A claim's *margin* at a point is how far it is from failing, in the metric's units "
        "(see `toolkit.robustness.claims`); its *failure region* is a box found by "
        "scenario discovery (PRIM) in the parameters' own units; *coverage* is the share of "
        "failing points inside it, *density* the share of points inside it that fail.",
        "",
    ]
    if info.get("fixed"):
        lines += [f"Held fixed: {', '.join(f'{k} = {v}' for k, v in info['fixed'].items())}.", ""]
    lines += [_integer_note(info), ""] if _integer_note(info) else []
    if "claim_shares" in pngs:
        lines += [f"![Where each claim holds]({pngs['claim_shares']})", ""]
    for c in info["claims"]:
        lines += [
            f"## {c['claim']}",
            "",
            f"`{c['text']}` {_claim_sentence(c, info.get('over', 'box'))}.",
            "",
            f"- Drivers: {c['drivers'] or 'n/a'}",
            f"- Where it breaks: {c['region']}",
            "",
        ]
        for stem in (f"indices_claim_{_slug(c['claim'])}", f"region_{_slug(c['claim'])}"):
            if stem in pngs:
                lines += [f"![{stem}]({pngs[stem]})", ""]
    if "claim_drivers" in pngs:
        lines += ["## Drivers of every claim", "", f"![Drivers]({pngs['claim_drivers']})", ""]
    others = [s for s in pngs if s.startswith("indices_") and not s.startswith("indices_claim_")]
    if others or info.get("too_noisy"):
        lines += ["## Sensitivity of every paired difference", ""]
        lines += [_noisy_sentence(info), ""] if info.get("too_noisy") else []
        lines += [f"![{s}]({pngs[s]})" for s in others] + [""]
    lines += [
        "## Ranges",
        "",
        "| parameter | low | high | scale | source |",
        "|---|---|---|---|---|",
        *(
            f"| {r['name']} | {r['low']:.4g} | {r['high']:.4g} | {r['scale']}"
            f"{' (integer)' if r['integer'] else ''} | {r['source']} |"
            for r in info["ranges"]
        ),
        "",
        f"<sub>{info['provenance']}</sub>",
        "",
    ]
    return "\n".join(lines)


def _html(
    info: dict[str, Any],
    figures: list[Path],
    folder: Path,
    tables: dict[str, pd.DataFrame],
    claims: pd.DataFrame,
) -> str:
    """Render ``report.html`` (toolkit/templates/robustness.html.j2); tables by pandas."""
    pngs = {p.stem: p.relative_to(folder).as_posix() for p in figures if p.suffix == ".png"}

    def frame(df: pd.DataFrame, number: str = "{:.3f}") -> Markup:
        return Markup(_table_html(df, number))  # pandas escapes the cells

    return render(
        "robustness.html.j2",
        title=f"Robustness: {info['title']}",
        info=info,
        design=_design_sentence(info),
        method=_METHOD_NOTES[info["indices"]],
        pngs=pngs,
        claims=[
            {
                "claim": c["claim"],
                "text": c["text"],
                "sentence": _claim_sentence(c, info.get("over", "box")).replace("**", ""),
                "drivers": c["drivers"],
                "region": c["region"],
                "indices": f"indices_claim_{_slug(c['claim'])}",
                "failure": f"region_{_slug(c['claim'])}",
            }
            for c in info["claims"]
        ],
        noisy=_noisy_sentence(info) if info.get("too_noisy") else None,
        sensitivity=[
            s
            for s in sorted(pngs)
            if s.startswith("indices_") and not s.startswith("indices_claim_")
        ],
        claims_table=frame(claims.drop(columns=["driver_1", "driver_2"])),
        tables=[
            {"name": name.capitalize(), "rows": len(t), "file": f"{name}.csv", "html": frame(t)}
            for name, t in tables.items()
            if not t.empty
        ],
        ranges=frame(pd.DataFrame(info["ranges"]), "{:.4g}"),
    )


def _table_html(table: pd.DataFrame, number: str = "{:.3f}") -> str:
    """Return a table as HTML in a box that scrolls sideways (it never widens the page)."""
    body = table.to_html(index=False, float_format=number.format, na_rep="")
    return f"<div class='table'>{body}</div>"


# ----------------------------------------------------------------------------------------------
def require_robustness(spec: StudySpec) -> None:
    """Raise :class:`~toolkit.study.spec.StudyError` unless ``spec`` has a robustness table."""
    from toolkit.study.spec import StudyError

    if spec.robustness is None:
        raise StudyError(
            f"{spec.source}: no [robustness] table; nothing to analyse for robustness."
        )


def run_robustness(
    spec: StudySpec,
    out: str | Path | None = None,
    *,
    overwrite: bool = False,
    resume: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
) -> RunResult:
    """Run a study with a ``[robustness]`` table and write its report.

    The design points go through :func:`toolkit.study.runner.run_study` (resumable; one work
    unit per design point, which the runner can spread over workers), then
    :func:`analyse_design` writes the tables, charts and report. Editing only the claims,
    metrics or region settings and running again with ``resume=True`` re-analyses without
    simulating.

    Parameters
    ----------
    spec : StudySpec
        A study with a ``[robustness]`` table.
    out : str or Path, optional
        Run folder (default the study's ``[output]`` folder).
    overwrite, resume : bool
        As for :func:`toolkit.study.runner.run_study`.
    workers : int
        Worker processes of a local Dask cluster (1: serial).
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:port``): the design points run
        there, with the same numbers as serially.
    progress : bool
        Show a progress bar of design points.

    Returns
    -------
    toolkit.study.result.RunResult
        ``summary`` is the claims table; ``classrooms`` the per-point classroom metrics.
    """
    require_robustness(spec)
    return run_study(
        spec,
        out,
        overwrite=overwrite,
        resume=resume,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
    )


def estimate(spec: StudySpec, *, probe: bool = True, workers: int = 1) -> dict[str, Any]:
    """Size of a robustness study before it runs: points, model runs, time and disk.

    Parameters
    ----------
    spec : StudySpec
        A study with a ``[robustness]`` table.
    probe : bool
        Time one design point on this machine (after a warm-up; its CPU time, which is what a
        free core takes, and its wall time at the current load) and measure the size of its
        part; otherwise assume the engine's documented cost of about 1.8 ms per classroom-year
        (21 students, 180 days) plus 3.6 ms of classroom metrics per classroom and arm.
    workers : int
        Workers to divide the time by.

    Returns
    -------
    dict
        ``points, arms, classrooms, years, model_runs`` (classroom-years, every arm),
        ``seconds_per_point, seconds, bytes`` and ``basis`` (how the time was estimated).
    """
    from toolkit.study.units import _units

    rob = spec.robustness
    design = rob.make_design(spec.seed)
    model = rob.model_object()
    arms = len(rob.arms)
    reps = spec.classrooms if getattr(model, "replicated", True) else 1
    runs = design.size * arms * reps * spec.years
    info: dict[str, Any] = {
        "points": design.size,
        "parameters": len(design.ranges),
        "arms": arms,
        "classrooms": reps,
        "years": spec.years,
        "model_runs": runs,
    }
    if probe:
        import tempfile

        unit = _units(spec)[0]
        n = len(unit["points"])
        small = dict(unit, stop=min(unit["stop"], 2), points=unit["points"][:1])
        simulate_unit(small, spec.seed, spec.engine, spec.years)  # warm-up (imports, compiling)
        t0, c0 = time.perf_counter(), time.process_time()
        part = simulate_unit(unit, spec.seed, spec.engine, spec.years)
        wall = (time.perf_counter() - t0) / n
        per = (time.process_time() - c0) / n  # CPU time: what a free core would take
        info["wall_seconds_per_point"] = wall
        with tempfile.TemporaryDirectory() as tmp:
            f = Path(tmp) / "part.parquet"
            part.to_parquet(f, index=False)
            size = f.stat().st_size / n
        info["basis"] = (
            f"CPU time of one design point on this machine; it took {wall:.2f} s of wall time "
            "at the machine's current load"
        )
    else:
        p = spec.base_parameters()
        scale = p.n_students / 21 * p.n_days / 180
        per = (
            arms * reps * spec.years * (0.0018 * scale + 0.0036) if model.uses_parameters else 1e-4
        )
        size = arms * reps * spec.years * 300 + 2000
        info["basis"] = "assumed 1.8 ms per classroom-year and 3.6 ms of metrics per classroom"
    info["seconds_per_point"] = per
    info["seconds"] = per * design.size / max(workers, 1)
    info["bytes"] = size * design.size
    info["workers"] = workers
    return info


def format_estimate(info: dict[str, Any]) -> str:
    """One paragraph for ``check``: points, model runs, time and disk."""
    mins = info["seconds"] / 60
    return (
        f"{info['points']:,} design points ({info['parameters']} parameters) x {info['arms']} arms "
        f"x {info['classrooms']} classrooms x {info['years']} year(s) = {info['model_runs']:,} "
        f"classroom-years; about {info['seconds_per_point']:.2f} s per point, so about "
        f"{mins:.1f} min on {info['workers']} free core(s), plus the analysis ({info['basis']}); "
        f"about {info['bytes'] / 1e6:.0f} MB of parts on disk."
    )


def readme_block(folder: str | Path, *, label: str | None = None) -> str:
    """Return the README's robustness section, generated from a finished run's ``report.json``.

    Parameters
    ----------
    folder : str or Path
        The robustness run folder.
    label : str, optional
        A note put first (e.g. ``"Interim: ..."``).

    Returns
    -------
    str
        Markdown: the design in one sentence, then one bullet per claim with its share, its
        two strongest drivers and where it breaks.
    """
    info = json.loads((Path(folder) / "report.json").read_text())
    lines = []
    if label:
        lines += [f"*{label}*", ""]
    lines += [f"Study `{info['source']}`: {_design_sentence(info)}.", ""]
    for c in info["claims"]:
        d = [x for x in (c.get("driver_1"), c.get("driver_2")) if x]
        noise = c.get("noise_share")
        named = ", ".join(f"`{x}`" for x in d) or "n/a"
        if noise is not None and noise >= 1:
            named = _too_small(noise)
        sentence = _claim_sentence(c, info.get("over", "box"))
        lines.append(
            f"- **{c['claim']}** (`{c['text']}`) {sentence}; strongest drivers: "
            f"{named}; {c['region']}."
        )
    lines += ["", f"<sub>{info['provenance']}</sub>", ""]
    return "\n".join(lines)


def update_readme(readme: str | Path, block: str, *, check: bool = False) -> bool:
    """Replace (or, with ``check``, compare) the README's ``robustness-summary`` block.

    Returns
    -------
    bool
        Whether the block differs from ``block``.

    Raises
    ------
    ValueError
        If the README has no ``<!-- BEGIN robustness-summary -->`` ... ``END`` block.
    """
    readme = Path(readme)
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(
        rf"(<!-- BEGIN {README_MARK} -->\n)(.*?)(<!-- END {README_MARK} -->)", re.DOTALL
    )
    m = pattern.search(text)
    if m is None:
        raise ValueError(f"{readme}: no {README_MARK} block (<!-- BEGIN {README_MARK} -->).")
    changed = m.group(2) != block
    if changed and not check:
        readme.write_text(text[: m.start(2)] + block + text[m.end(2) :], encoding="utf-8")
    return changed


def publish(
    folder: str | Path,
    root: str | Path,
    *,
    label: str | None = None,
    dpi: int = 150,
    name: str = "robustness",
) -> list[Path]:
    """Publish a finished run: the README block, the report in ``docs/`` and small figures.

    Writes ``docs/<name>.md`` (the run's ``report.md`` with its figures copied, at ``dpi``, to
    ``docs/gallery/<name>/``) and fills the README's ``robustness-summary`` block from
    ``report.json``.

    Parameters
    ----------
    folder : str or Path
        A finished robustness run.
    root : str or Path
        The repository (its ``README.md`` and ``docs/``).
    label : str, optional
        Note at the top of the README block and the report (e.g. that the run is interim).
    dpi : int
        Resolution of the gallery copies (the run's figures are 200 dpi): 150 makes a 16:9
        chart 2000 x 1125 pixels, enough for a full-HD slide.
    name : str
        Name of the report page and the gallery folder.

    Returns
    -------
    list of Path
        The files written.
    """
    from PIL import Image

    folder, root = Path(folder), Path(root)
    report = (folder / "report.md").read_text(encoding="utf-8")
    gallery = root / "docs" / "gallery" / name
    gallery.mkdir(parents=True, exist_ok=True)
    written = []
    for old in sorted(gallery.glob("*.png")):
        old.unlink()
    for link in sorted(set(re.findall(r"\]\((figures/[^)]+\.png)\)", report))):
        src = folder / link
        dest = gallery / Path(link).name
        with Image.open(src) as im:
            w, h = im.size
            small = im.convert("RGB").resize(
                (round(w * dpi / 200), round(h * dpi / 200)), Image.LANCZOS
            )
            # charts have few colours: a 128-colour palette keeps them crisp at a third the size
            small = small.quantize(colors=128, method=Image.Quantize.MEDIANCUT)
            small.save(dest, optimize=True, pnginfo=_pnginfo(im))
        written.append(dest)
        report = report.replace(f"]({link})", f"](gallery/{name}/{dest.name})")
    if label:
        report = report.replace("\n\n", f"\n\n*{label}*\n\n", 1)
    page = root / "docs" / f"{name}.md"
    page.write_text(report, encoding="utf-8")
    written.append(page)
    update_readme(root / "README.md", readme_block(folder, label=label))
    written.append(root / "README.md")
    return written


def _pnginfo(im: Any) -> Any:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for k, v in (im.info or {}).items():
        if isinstance(v, str):
            info.add_text(k, v)
    return info
