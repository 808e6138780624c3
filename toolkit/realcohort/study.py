"""A study on real classes: the ``[cohort]`` table of a study file, its work units and its analysis.

With a ``[cohort]`` table a study runs its arms on the classes of a data file instead of drawn
classrooms: classroom ``k`` of the run is the file's ``k``-th class (in sorted order of the class
column), simulated at its real size with the students that
:func:`~toolkit.realcohort.build.build_cohorts` built, once per imputed cohort (or plausible
value). A work unit is a chunk of classes of one cohort in every arm; its ``point`` is the
cohort's number. Classroom ``k`` uses ``classroom_seed(seed, k)`` in every arm and every
cohort, so arms are compared on common random numbers and the cohorts differ only in what was
imputed or drawn.

The analysis (:func:`analyse_cohort_run`) writes what every study writes (``summary.csv``,
``tails.csv``, ``classrooms.csv``, ``decomposition.csv``, the figures), estimated with the
file's weights and design and pooled over the cohorts by Rubin's rules
(:mod:`toolkit.realcohort.pool`), and besides: ``effects_by_class.csv``,
``effects_by_school.csv`` (with a ``school`` column), ``cohort_sources.csv`` (which attribute
came from the data and which was drawn) and ``cohort.parquet`` (every simulated student's
starting attributes in every cohort, and whether the student is a pupil of the file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit.model.cohort import classroom_seed
from toolkit.model.model import ClassroomModel, resolve_schedule
from toolkit.model.params import Parameters
from toolkit.model.regimes import Regime
from toolkit.realcohort.build import (
    Prepared,
    RealCohorts,
    _params_for,
    _sources,
    build_cohorts,
    prepare,
)
from toolkit.realcohort.mapping import (
    CohortError,
    CohortMapping,
    load_data,
    parse_mapping,
    read_codebook_for,
)

if TYPE_CHECKING:
    from toolkit.study.result import RunResult
    from toolkit.study.spec import StudySpec

__all__ = [
    "DataCohort",
    "analyse_cohort",
    "analyse_cohort_run",
    "cohort_decomposition",
    "cohort_estimates",
    "format_cohort_summary",
    "simulate_cohort_unit",
    "simulate_cohorts",
]

#: The function a cohort study's work units run (``unit["evaluate"]``, see the runner).
EVALUATE = "toolkit.realcohort.study:simulate_cohort_unit"
#: Outcomes of the decomposition of a real cohort (diversity of excellence needs thresholds
#: pooled over classes of one size, which real classes of many sizes do not share).
DECOMPOSED = ("effect_size", "score", "total_learning", "sd_score", "mean_pairwise_distance")


class DataCohort:
    """A ``[cohort]`` table read with its data: checked, and built into cohorts on demand.

    Parameters
    ----------
    table : mapping
        The ``[cohort]`` table (see :mod:`toolkit.realcohort.mapping`); ``data`` may be a
        DataFrame when built in Python.
    parameters : Parameters
        The study's parameters (their ``domains`` name the mapping's domains).
    source : str
        The study file, for messages.
    base : str or Path
        Folder of the study file (relative paths in the table are taken from it).

    Raises
    ------
    CohortError
        For a bad mapping or a file that does not fit it (naming the key or column).
    """

    def __init__(
        self,
        table: Mapping[str, Any],
        *,
        parameters: Parameters,
        source: str = "<study>",
        base: str | Path = ".",
    ) -> None:
        where = f"{source} [cohort]"
        if not isinstance(table, Mapping):
            raise CohortError(f"{where}: must be a table, got {table!r}.")
        codebook = read_codebook_for(table, where=where, base=base)
        data, record = load_data(table, where=where, base=base)
        self.mapping: CohortMapping = parse_mapping(
            table,
            domains=parameters.domains,
            where=where,
            columns=[str(c) for c in data.columns],
            codebook=codebook,
        )
        self.prepared: Prepared = prepare(data, self.mapping, codebook)
        self.record = record
        self.parameters = parameters
        self._built: dict[tuple[str, int], RealCohorts] = {}

    # -- size ---------------------------------------------------------------------------------
    @property
    def n_classes(self) -> int:
        """Classes simulated (the study's classrooms)."""
        return self.prepared.n_classes

    @property
    def n_cohorts(self) -> int:
        """Imputed cohorts (or plausible values) simulated."""
        return self.mapping.n_cohorts

    def typical_parameters(self, params: Parameters) -> Parameters:
        """Parameters of a class of the mean simulated size (for time estimates)."""
        n = round(float(self.prepared.classes["n_simulated"].mean()))
        return _params_for(params, max(n, 2))

    # -- building -----------------------------------------------------------------------------
    def build(self, params: Parameters, seed: int) -> RealCohorts:
        """Return the cohorts under ``params`` and ``seed`` (built once, then kept)."""
        key = (repr(sorted(params.to_dict().items())), int(seed))
        if key not in self._built:
            self._built[key] = build_cohorts(self.prepared, params, seed)
        return self._built[key]

    # -- the study's view ---------------------------------------------------------------------
    def points(self, spec: StudySpec) -> list[tuple[Any, Parameters, dict[str, list[Regime]]]]:
        """One point per cohort: ``(cohort number, typical parameters, arms)``."""
        params = self.typical_parameters(spec.base_parameters())
        arms = {
            a: resolve_schedule(s, spec.years, f"{spec.source} [arms] {a}")
            for a, s in spec.arms.items()
        }
        return [(m, params, arms) for m in range(self.n_cohorts)]

    def units(self, spec: StudySpec) -> list[dict[str, Any]]:
        """Work units: a chunk of classes of one cohort, in every arm, with their students."""
        params = spec.base_parameters()
        real = self.build(params, spec.seed)
        pdict = params.to_dict()
        adict = {
            a: [r.to_dict() for r in resolve_schedule(s, spec.years)] for a, s in spec.arms.items()
        }
        n_kept = real.classes["n_kept"].to_numpy()
        units = []
        for m in range(real.n_cohorts):
            for start in range(0, self.n_classes, spec.chunk_size):
                stop = min(start + spec.chunk_size, self.n_classes)
                units.append(
                    {
                        "id": f"p{m:03d}-c{start:06d}",
                        "point": m,
                        "value": m,
                        "params": pdict,
                        "arms": adict,
                        "start": start,
                        "stop": stop,
                        "kernel": spec.kernel,
                        "evaluate": EVALUATE,
                        "classes": [
                            {"index": k, "n_kept": int(n_kept[k]), "cohort": real.cohorts[m][k]}
                            for k in range(start, stop)
                        ],
                    }
                )
        return units

    def resolved(self) -> dict[str, Any]:
        """Return the mapping, the data's provenance and the classes, JSON-friendly (manifest)."""
        cl = self.prepared.classes
        return {
            "mapping": self.mapping.to_dict(),
            "data": dict(self.record),
            "classes": len(cl),
            "pupils": int(cl["n_kept"].sum()),
            "pupils_in_file": int(cl["n_file"].sum()),
            "simulated_students": int(cl["n_simulated"].sum()),
            "cohorts": self.n_cohorts,
            "missing": dict(self.prepared.missing),
            "notes": list(self.prepared.notes),
            "sources": _sources(self.prepared, self.parameters)
            .set_index("attribute")["source"]
            .to_dict(),
        }

    def describe(self, params: Parameters | None = None) -> str:
        """Say what will be read from the data and what will be drawn, in words (for ``check``)."""
        prep, mapping = self.prepared, self.mapping
        params = params or self.parameters
        cl = prep.classes
        rec = self.record
        n_sim, n_file, n_kept = (int(cl[c].sum()) for c in ("n_simulated", "n_file", "n_kept"))
        lines = [f"Cohort from {rec['source']} (sha256 {rec['sha256'][:16]}, {rec['rows']:,} rows)"]
        sizes = cl["n_file"]
        lines.append(
            f"  classes: {len(cl)} (column {mapping.class_column!r}); pupils per class in the "
            f"file {sizes.min()}-{sizes.max()} (median {sizes.median():g})"
        )
        if mapping.class_size is not None:
            lines.append(
                f"  class sizes from {mapping.class_size!r}: {cl['n_simulated'].min()}-"
                f"{cl['n_simulated'].max()}; {n_sim - n_file:,} classmates the file does not "
                "list are drawn from the model (simulated, not counted in the estimates)"
            )
        if mapping.school is not None:
            lines.append(f"  schools: {cl['school'].nunique()} (column {mapping.school!r})")
        weight = f"column {mapping.weight!r}" if mapping.weight else "none (every pupil counts 1)"
        lines.append(f"  weights: {weight}")
        if mapping.replicate_weights is not None:
            var = f"the file's replicate weights ({mapping.replicate_method})"
        else:
            unit = "schools" if mapping.school else "classes"
            var = f"jackknife over {unit}" + (
                f" within strata {mapping.strata!r}" if mapping.strata else ""
            )
        lines.append(f"  sampling variance: {var}")
        if mapping.attributes == "drawn":
            what = "the model's own draw"
        elif mapping.plausible_values:
            what = "one per plausible value, each with its own draws of what is not measured"
        else:
            what = "each with its own imputation and draws of what is not measured exactly"
        lines.append(f"  cohorts simulated: {self.n_cohorts} ({what}), pooled by Rubin's rules")
        src = _sources(prep, params)
        lines.append("Read from the data:")
        data_rows = src[src["source"] == "data"]
        if data_rows.empty:
            lines.append('  nothing (attributes = "drawn")')
        for r in data_rows.itertuples():
            lines.append(f"  {r.attribute:<24} {r.detail}")
        drawn = src[src["source"] != "data"]
        lines.append("Drawn from the model:")
        for source, block in drawn.groupby("source", sort=False):
            lines.append(f"  {source}: {', '.join(block['attribute'])}")
        if prep.missing and mapping.attributes == "data":
            how = (
                "listwise deletion (complete cases only)"
                if mapping.missing == "listwise"
                else f"multiple imputation by chained equations ({self.n_cohorts} times)"
            )
            detail = ", ".join(f"{c} {k}" for c, k in prep.missing.items())
            lines.append(f"Missing values: {detail}; handled by {how}")
        elif mapping.attributes == "data":
            lines.append("Missing values: none in the mapped columns")
        lines.append(f"Pupils in the estimates: {n_kept:,} of {n_file:,} in the file")
        for note in prep.notes:
            lines.append(f"Note: {note}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# simulation
# ---------------------------------------------------------------------------------------------
def _simulate_classes(
    classes: Sequence[Mapping[str, Any]],
    arms: Mapping[str, list[Regime]],
    params: Parameters,
    seed: int,
    engine: str,
    n_years: int,
    kernel: str,
) -> pd.DataFrame:
    """Simulate classes of any sizes in every arm; one student table, classroom = class index."""
    from toolkit.engine import simulate_arms

    by_size: dict[int, list[Mapping[str, Any]]] = {}
    for c in classes:
        by_size.setdefault(int(c["cohort"].n_students), []).append(c)
    frames = []
    for n, group in sorted(by_size.items()):
        p = _params_for(params, n)
        idx = [int(c["index"]) for c in group]
        seeds = [classroom_seed(seed, i) for i in idx]
        cohorts = [c["cohort"] for c in group]
        if engine == "fast":
            df = simulate_arms(
                arms,
                p,
                seeds,
                n_years=n_years,
                cohorts=cohorts,
                chunk_size=len(seeds),
                kernel=kernel,
            )
            df["arm"] = df["arm"].astype(str)
            df["classroom"] = df["classroom"].map(dict(enumerate(idx)))
        else:
            parts = []
            for arm, regimes in arms.items():
                for i, s, co in zip(idx, seeds, cohorts, strict=True):
                    model = ClassroomModel(
                        regimes, p, rng=s, n_years=n_years, collect=False, cohort=co.copy()
                    )
                    model.run()
                    one = model.student_table()
                    one.insert(0, "classroom", i)
                    one.insert(0, "arm", arm)
                    parts.append(one)
            df = pd.concat(parts, ignore_index=True)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    n_kept = {int(c["index"]): int(c["n_kept"]) for c in classes}
    out = out[out["student"].to_numpy() < out["classroom"].map(n_kept).to_numpy()]
    return out


def simulate_cohort_unit(
    unit: dict[str, Any], seed: int, engine: str, n_years: int
) -> pd.DataFrame:
    """Simulate a cohort study's work unit: its classes, in every arm (the runner calls it).

    Parameters
    ----------
    unit : dict
        Built by :meth:`DataCohort.units`: ``classes`` (per class its ``index``, ``n_kept``
        and starting :class:`~toolkit.model.Cohort`), ``params``, ``arms``, ``point`` (the
        cohort), ``kernel``.
    seed : int
        The study's master seed (class ``k`` runs on ``classroom_seed(seed, k)``).
    engine : {"fast", "mesa"}
    n_years : int

    Returns
    -------
    pandas.DataFrame
        The rows of the file's pupils only (classmates drawn to fill a class are simulated but
        dropped): ``point, sweep_value, arm, replicate`` (the class's number), ``year``,
        ``student`` and the student table's columns, sorted as
        :func:`toolkit.study.units.simulate_unit` sorts.
    """
    params = Parameters.from_mapping(unit["params"], source=f"unit {unit['id']}")
    arms = {arm: [Regime(**r) for r in regs] for arm, regs in unit["arms"].items()}
    df = _simulate_classes(
        unit["classes"], arms, params, seed, engine, n_years, unit.get("kernel", "exact")
    )
    from toolkit.study.units import label_unit_rows

    return label_unit_rows(df, unit, list(arms))


def simulate_cohorts(
    real: RealCohorts,
    arms: Mapping[str, Any],
    *,
    seed: int,
    n_years: int = 1,
    engine: str = "fast",
    kernel: str = "fast",
    cohorts: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Simulate built cohorts under every arm, in memory (no run folder).

    Parameters
    ----------
    real : RealCohorts
        From :func:`toolkit.realcohort.build_cohorts`.
    arms : mapping of str to regime spec
        Arm name to regime (or per-year schedule), as in a study file.
    seed : int
        Master seed: class ``k`` runs on ``classroom_seed(seed, k)`` in every arm and cohort.
    n_years : int
    engine : {"fast", "mesa"}
    kernel : {"fast", "exact", "numpy"}
    cohorts : sequence of int, optional
        Which cohorts (default all).

    Returns
    -------
    pandas.DataFrame
        As a cohort study's student parts: ``point`` is the cohort.
    """
    schedules = {a: resolve_schedule(s, n_years, f"arm {a!r}") for a, s in arms.items()}
    adict = {a: [r.to_dict() for r in regs] for a, regs in schedules.items()}
    n_kept = real.classes["n_kept"].to_numpy()
    frames = []
    for m in range(real.n_cohorts) if cohorts is None else cohorts:
        unit = {
            "id": f"p{m:03d}",
            "point": m,
            "value": m,
            "params": real.params.to_dict(),
            "arms": adict,
            "kernel": kernel,
            "classes": [
                {"index": k, "n_kept": int(n_kept[k]), "cohort": co}
                for k, co in enumerate(real.cohorts[m])
            ],
        }
        frames.append(simulate_cohort_unit(unit, seed, engine, n_years))
    return pd.concat(frames, ignore_index=True)


def cohort_estimates(
    real: RealCohorts,
    students: pd.DataFrame,
    classrooms: pd.DataFrame,
    arms: Sequence[str],
    reference: str,
) -> dict[str, pd.DataFrame]:
    """Compute the pooled tables of a simulated real cohort (:mod:`toolkit.realcohort.pool`).

    Parameters
    ----------
    real : RealCohorts
    students : pandas.DataFrame
        From :func:`simulate_cohorts` (or a cohort run's student parts).
    classrooms : pandas.DataFrame
        Class metrics (:func:`toolkit.study.analysis.classroom_metrics`), per cohort.
    arms : sequence of str
    reference : str

    Returns
    -------
    dict of str to pandas.DataFrame
        ``summary``, ``tails``, ``by_class`` and, when the mapping names schools (other than
        the classes), ``by_school``.
    """
    from toolkit.realcohort.pool import effects_by_group, pooled_summary, pooled_tails

    keys = real.students
    out = {
        "summary": pooled_summary(
            students, classrooms, keys, real.design, arms, reference, len(real.classes)
        ),
        "tails": pooled_tails(students, keys, real.design, arms, reference),
    }
    levels = ["class"] + (
        ["school"] if real.mapping.school not in (None, real.mapping.class_column) else []
    )
    for by in levels:
        out[f"by_{by}"] = effects_by_group(
            students,
            classrooms,
            keys,
            keys["weight"].to_numpy(),
            real.classes,
            arms,
            reference,
            by=by,
        )
    return out


def analyse_cohort(
    real: RealCohorts,
    students: pd.DataFrame,
    arms: Sequence[str],
    reference: str,
) -> dict[str, pd.DataFrame]:
    """Class metrics and pooled tables of cohorts simulated in memory (:func:`simulate_cohorts`).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``classrooms`` and the tables of :func:`cohort_estimates`.
    """
    from toolkit.study.analysis import classroom_metrics

    classrooms = classroom_metrics(students, reference)
    return {"classrooms": classrooms} | cohort_estimates(
        real, students, classrooms, arms, reference
    )


# ---------------------------------------------------------------------------------------------
# decomposition
# ---------------------------------------------------------------------------------------------
def cohort_decomposition(
    real: RealCohorts,
    arms: Mapping[str, Any],
    *,
    seed: int,
    reference: str,
    n_years: int,
    n_classes: int,
    reference_sd: float,
) -> pd.DataFrame:
    """Decompose every arm's difference from the reference into channels, on real classes.

    Runs :func:`toolkit.study.decompose.classroom_contributions` on up to ``n_classes`` classes
    of the first cohort (all of them, or as many evenly spaced through the class order), class
    size by class size, and averages each class's contributions weighted by the sum of its
    pupils' weights (:func:`toolkit.study.decompose.contribution_table`). The classes are
    decomposed as simulated (with any classmates drawn to fill them); ``effect_size`` is the
    score's contribution divided by ``reference_sd`` (the summary's).

    Returns
    -------
    pandas.DataFrame
        As :func:`toolkit.study.decompose.decompose`, with ``point`` and ``sweep_value`` in
        front; empty for fewer than 2 classes or arms.
    """
    from toolkit.study.decompose import classroom_contributions, contribution_table

    total = len(real.classes)
    if n_classes < 2 or len(arms) < 2 or total < 2:
        return pd.DataFrame()
    chosen = (
        np.arange(total)
        if n_classes >= total
        else np.unique(np.linspace(0, total - 1, n_classes).round().astype(int))
    )
    weights = real.classes["weight"].to_numpy()
    by_size: dict[int, list[int]] = {}
    for k in chosen:
        by_size.setdefault(real.cohorts[0][k].n_students, []).append(int(k))
    parts = []
    for n, ks in sorted(by_size.items()):
        p = _params_for(real.params, n)
        per = classroom_contributions(
            arms,
            p,
            [classroom_seed(seed, k) for k in ks],
            reference=reference,
            n_years=n_years,
            outcomes=DECOMPOSED,
            cohorts=[real.cohorts[0][k] for k in ks],
            reference_sd=reference_sd,
        )
        per["classroom"] = np.asarray(ks)[per["classroom"].to_numpy()]
        parts.append(per)
    per = pd.concat(parts, ignore_index=True)
    order = np.sort(per["classroom"].unique())
    table = contribution_table(per, reference, weights=weights[order])
    table.insert(0, "sweep_value", np.nan)
    table.insert(0, "point", 0)
    return table


# ---------------------------------------------------------------------------------------------
# the run's analysis
# ---------------------------------------------------------------------------------------------
def _reference_sd(real: RealCohorts, students: pd.DataFrame, reference: str) -> float:
    """Weighted SD of the reference arm's scores (cohort 0, last year): the effect size's scale."""
    from toolkit.realcohort.pool import _Aligned, _wsd

    last = students[(students["point"] == 0) & (students["year"] == students["year"].max())]
    al = _Aligned(last, real.students, [reference], ["score"])
    w = real.students["weight"].to_numpy(dtype=float)[:, None]
    return float(_wsd(w, al.values[reference][:, 0])[0])


def analyse_cohort_run(result: RunResult, spec: StudySpec) -> RunResult:
    """Compute and write a cohort study's tables and figures from its parts.

    Writes ``classrooms.csv`` (class metrics per cohort, arm and year, with the class's label,
    school, pupils and weight), ``summary.csv`` and ``tails.csv`` (weighted, pooled over the
    cohorts; the format of any study's, with the standard errors, the fraction of missing
    information and the imputation's share of the variance besides), ``effects_by_class.csv``,
    ``effects_by_school.csv`` (when the mapping names schools other than the classes),
    ``decomposition.csv``,
    ``cohort_sources.csv``, ``cohort.parquet`` and the figures.
    """
    import matplotlib.pyplot as plt

    from toolkit.charts.cohort import plot_class_effects
    from toolkit.charts.runs import save_run_figures, study_figures
    from toolkit.charts.style import SLIDE_SIZES, chart_style
    from toolkit.study.analysis import classroom_excellence, study_statistics

    report = result.reporter
    reference = spec.reference
    arms = list(spec.arms)
    cohort: DataCohort = spec.cohort
    real = cohort.build(spec.base_parameters(), spec.seed)
    with report.stage(f"reading {len(result.units)} parts"):
        students = pd.concat(result.student_parts(), ignore_index=True)
        students["arm"] = students["arm"].astype(str)
    with report.stage("class metrics"):
        stats = study_statistics([students], reference)
        rooms = []
        for unit in result.units:
            local = result.classroom_part(unit)
            local["arm"] = local["arm"].astype(str)
            rooms.append(local)
        local = pd.concat(rooms, ignore_index=True)
        exc = classroom_excellence(students, stats)
        exc["arm"] = exc["arm"].astype(str)
        keys = ["point", "year", "arm", "replicate"]
        classrooms = local.drop(
            columns=["diversity_of_excellence", "excellence_vs_reference"]
        ).merge(exc, on=keys, how="left", validate="one_to_one")[list(local.columns)]
        classrooms = classrooms.sort_values(keys, kind="stable", ignore_index=True)
    with report.stage("weighted estimates pooled over the cohorts (Rubin's rules)"):
        tables = cohort_estimates(real, students, classrooms, arms, reference)
        summary, tails = tables["summary"], tables["tails"]
    cl = real.classes.rename(columns={"index": "replicate", "n_kept": "pupils"})
    classrooms = classrooms.merge(
        cl[["replicate", "class", "school", "pupils", "n_simulated", "weight"]],
        on="replicate",
        how="left",
    )
    classrooms.insert(1, "cohort", classrooms["point"])
    classrooms["arm"] = pd.Categorical(classrooms["arm"], categories=arms)
    result.write_table(classrooms, "classrooms.csv")
    result.write_table(summary, "summary.csv")
    result.write_table(tails, "tails.csv")
    result.write_table(tables["by_class"], "effects_by_class.csv")
    if "by_school" in tables:
        result.write_table(tables["by_school"], "effects_by_school.csv")
    result.write_table(real.sources, "cohort_sources.csv")
    result.write_table(real.table(), "cohort.parquet")
    decomposition = pd.DataFrame()
    if spec.decomposition >= 2 and len(arms) >= 2:
        with report.stage(f"decomposition of up to {spec.decomposition} classes into channels"):
            decomposition = cohort_decomposition(
                real,
                cohort.points(spec)[0][2],
                seed=spec.seed,
                reference=reference,
                n_years=spec.years,
                n_classes=spec.decomposition,
                reference_sd=_reference_sd(real, students, reference),
            )
            result.write_table(decomposition, "decomposition.csv")
    with report.stage("figures"):
        figs = study_figures(spec, summary, tails, decomposition)
        for fig in figs.values():
            for ax in fig.axes:
                if ax.get_xlabel() == "mean over classrooms (95% CI)":
                    ax.set_xlabel("weighted mean (95% CI)")
        for arm in (a for a in arms if a != reference):
            with chart_style():
                fig, ax = plt.subplots(figsize=SLIDE_SIZES["16:9"], layout="constrained")
            plot_class_effects(tables["by_class"], arm, "score", ax=ax, summary=summary)
            figs[f"classes_{arm}"] = fig
        paths = save_run_figures(result, spec, figs)
    result.classrooms, result.summary, result.tails = classrooms, summary, tails
    result.decomposition, result.figures = decomposition, paths
    result.effects_by_class = tables["by_class"]  # type: ignore[attr-defined]
    result.effects_by_school = tables.get("by_school", pd.DataFrame())  # type: ignore[attr-defined]
    result.cohort_sources = real.sources  # type: ignore[attr-defined]
    return result


def format_cohort_summary(summary: pd.DataFrame, metrics: Sequence[str] | None = None) -> str:
    """Format a cohort study's summary as text: estimates, paired differences and shares.

    Like :func:`toolkit.study.analysis.format_summary`, with the headings saying what the
    numbers are (weighted means over the file's pupils, or over classes for class-level
    metrics, pooled over the cohorts) and a last table of the imputation's share of the
    variance of each difference.
    """
    from toolkit.study.analysis import format_summary

    text = format_summary(summary, tuple(metrics) if metrics else None)
    text = text.replace(
        "Mean over classrooms [95% CI]",
        "Weighted mean over the file's pupils (class-level metrics: over classes) [95% CI], "
        "pooled over the cohorts",
    )
    s = summary[summary["year"] == summary["year"].max()]
    if metrics:
        s = s[s["metric"].isin(metrics)]
    s = s[s["metric"] != "effect_size"]
    share = s.pivot(index="metric", columns="arm", values="diff_imputation_share")
    share = share.reindex(index=list(dict.fromkeys(s["metric"])))
    share = share.drop(columns=[c for c in share.columns if share[c].isna().all()])
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        return (
            text + "\n\nShare of each difference's variance due to imputation, measurement and the "
            "attributes drawn\n"
            + share.map(lambda v: f"{v:.2f}" if pd.notna(v) else "").to_string()
        )
