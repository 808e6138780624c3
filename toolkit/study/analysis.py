"""Analysis of a study run: classroom metrics, the summary table, the tails, and the charts.

The unit of replication is the classroom: every metric is computed per classroom (and arm,
year and sweep point) with :func:`toolkit.metrics.group_metrics`, then compared across arms
with paired differences over classrooms (:func:`toolkit.metrics.compare_conditions`), which is
valid because classroom ``i`` has the same students and random streams in every arm.

Conventions, stated once here and in every output's manifest:

- ``score`` is the standardized test of the core domains, on the SD scale of the starting
  cohort; ``effect_size`` is the paired difference in class mean score divided by the SD of
  students' scores in the reference arm (treated as fixed);
- ``cv`` and ``gini`` use the scale score ``500 + 100 * score`` (zero 5 SD below the starting
  mean), as large-scale assessments report scores, because both need a natural zero;
- the Matthew effect is the within-class correlation of the *true* core gain with the prior
  test score (the observed gain would carry the prior test's error with a minus sign and
  regress to the mean);
- diversity of excellence is the share of students in the top decile of at least one domain,
  with each arm's own top-decile thresholds (per sweep point and year): it measures how many
  different students excel somewhere, whatever the arm's overall level; the earlier measure,
  with the reference arm's thresholds ("excellent" meaning the same level in every arm, so
  that it also rises with the level), is kept as ``excellence_vs_reference``;
- ``portfolio`` is attainment weighted by each student's own interests (what a portfolio of
  self-chosen work would show), beside the test, which sees only the core domains;
- tails: students are placed in quintiles of the prior score within each sweep point and year
  (prior scores are identical across arms).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.metrics import (
    by_prior_group,
    compare_conditions,
    effect_vs_reference,
    excellence_thresholds,
    group_metrics,
)
from toolkit.study.runner import RunResult
from toolkit.study.spec import StudySpec

__all__ = [
    "SCALE_ZERO",
    "SUMMARY_METRICS",
    "analyse_run",
    "classroom_metrics",
    "decomposition_table",
    "format_summary",
    "provenance_line",
    "summarise",
    "tails_table",
]

#: Zero of the scale score used for CV and Gini: ``500 + 100 * score`` is 0 at score -5.
SCALE_ZERO = -5.0

#: Student columns averaged per classroom besides the score (``group_metrics`` extra).
_EXTRA = [
    "core_gain",
    "total_learning",
    "portfolio",
    "portfolio_gain",
    "engagement",
    "fit",
    "on_task",
    "core_time",
    "self_regulation_growth",
    "peer_learning",
]
#: ``group_metrics`` column names to the summary's metric names.
_RENAME = {"mean": "score", "sd": "sd_score", **{f"mean_{c}": c for c in _EXTRA}}

#: Metrics in the summary table, in display order.
SUMMARY_METRICS = (
    "score",
    "effect_size",
    "core_gain",
    "total_learning",
    "portfolio",
    "portfolio_gain",
    "engagement",
    "fit",
    "on_task",
    "core_time",
    "self_regulation_growth",
    "peer_learning",
    "sd_score",
    "variance_ratio",
    "cv",
    "gini",
    "p90_p10",
    "p75_p25",
    "matthew",
    "mean_pairwise_distance",
    "strongest_domain_entropy",
    "rao_q",
    "diversity_of_excellence",
    "excellence_vs_reference",
)
_KEYS = ["point", "year"]


def _profile_columns(students: pd.DataFrame) -> list[str]:
    return [c for c in students.columns if c.startswith("skill_")]


def _prepare(students: pd.DataFrame) -> pd.DataFrame:
    return students.assign(
        core_gain=students["core_end"] - students["core_start"],
        self_regulation_growth=students["self_regulation_end"] - students["self_regulation_start"],
    )


def _own_excellence(part: pd.DataFrame, profile: list[str], quantile: float = 0.9) -> pd.Series:
    """Level-neutral diversity of excellence per arm and classroom (each arm's own thresholds)."""
    out = {}
    for arm, rows in part.groupby("arm", sort=False, observed=True):
        thr = excellence_thresholds(rows[profile], quantile=quantile).to_numpy()
        excellent = (rows[profile].to_numpy() >= thr).any(axis=1)
        share = pd.Series(excellent, index=rows["replicate"].to_numpy()).groupby(level=0).mean()
        for rep_, v in share.items():
            out[(arm, rep_)] = float(v)
    return pd.Series(out)


def classroom_metrics(students: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Every outcome, spread and diversity metric per classroom, arm, year and sweep point.

    Parameters
    ----------
    students : pandas.DataFrame
        The run's student table (``point, sweep_value, arm, replicate, year, ...``).
    reference : str
        Reference arm (its students set the excellence thresholds).

    Returns
    -------
    pandas.DataFrame
        One row per ``point, year, arm, replicate`` with ``sweep_value``, ``n`` and the
        columns of :data:`SUMMARY_METRICS` except ``effect_size`` (computed at comparison);
        ``variance_ratio`` is the classroom's score variance over the same classroom's variance
        in the reference arm.
    """
    df = _prepare(students)
    profile = _profile_columns(df)
    frames = []
    for (point, year), part in df.groupby(_KEYS, sort=True, observed=True):
        ref = part[part["arm"] == reference]
        thresholds = excellence_thresholds(ref[profile], quantile=0.9)
        gm = group_metrics(
            part,
            by=["arm", "replicate"],
            score="score",
            prior="prior_score",
            profile=profile,
            gain="core_gain",
            extra=_EXTRA,
            shift=SCALE_ZERO,
            thresholds=thresholds,
        ).rename(columns=_RENAME)
        gm = gm.rename(columns={"diversity_of_excellence": "excellence_vs_reference"})
        gm["diversity_of_excellence"] = (
            _own_excellence(part, profile)
            .reindex(pd.MultiIndex.from_frame(gm[["arm", "replicate"]]))
            .to_numpy()
        )
        gm.insert(0, "year", year)
        gm.insert(0, "sweep_value", part["sweep_value"].iloc[0])
        gm.insert(0, "point", point)
        ref_var = gm.loc[gm["arm"] == reference].set_index("replicate")["sd_score"] ** 2
        gm["variance_ratio"] = gm["sd_score"] ** 2 / gm["replicate"].map(ref_var).to_numpy()
        frames.append(gm)
    out = pd.concat(frames, ignore_index=True)
    out["arm"] = pd.Categorical(out["arm"], categories=students["arm"].cat.categories)
    return out


def summarise(classrooms: pd.DataFrame, students: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Arm x metric: mean over classrooms with a 95% t interval, and the paired difference.

    Parameters
    ----------
    classrooms : pandas.DataFrame
        From :func:`classroom_metrics`.
    students : pandas.DataFrame
        The student table (for the reference SD of scores behind ``effect_size``).
    reference : str

    Returns
    -------
    pandas.DataFrame
        Columns ``point, sweep_value, year, arm, metric, mean, ci_low, ci_high, diff,
        diff_ci_low, diff_ci_high, p_val, n_units``. For ``effect_size``, ``mean`` and its
        interval are the standardized paired difference itself (0 for the reference).
    """
    metrics = [m for m in SUMMARY_METRICS if m != "effect_size" and m in classrooms]
    frames = []
    for (point, year), part in classrooms.groupby(_KEYS, sort=True, observed=True):
        cc = compare_conditions(part, "arm", reference, pair_on="replicate", metrics=metrics)
        cc = cc.rename(columns={"condition": "arm", "diff_vs_reference": "diff"})
        ref_scores = students.loc[
            (students["point"] == point)
            & (students["year"] == year)
            & (students["arm"] == reference),
            "score",
        ]
        sd_ref = float(ref_scores.std(ddof=1))
        ev = effect_vs_reference(part, "score", "arm", reference, unit="replicate", sd=sd_ref)
        es_rows = [
            {
                "arm": reference,
                "metric": "effect_size",
                "mean": 0.0,
                "ci_low": 0.0,
                "ci_high": 0.0,
                "diff": 0.0,
                "diff_ci_low": np.nan,
                "diff_ci_high": np.nan,
                "p_val": np.nan,
                "n_units": int(part["arm"].eq(reference).sum()),
            }
        ]
        for r in ev.itertuples():
            es_rows.append(
                {
                    "arm": r.condition,
                    "metric": "effect_size",
                    "mean": r.std_diff,
                    "ci_low": r.std_ci_low,
                    "ci_high": r.std_ci_high,
                    "diff": r.std_diff,
                    "diff_ci_low": r.std_ci_low,
                    "diff_ci_high": r.std_ci_high,
                    "p_val": r.p_val,
                    "n_units": r.n_units,
                }
            )
        cc = pd.concat([cc, pd.DataFrame(es_rows)], ignore_index=True)
        cc.insert(0, "year", year)
        cc.insert(0, "sweep_value", part["sweep_value"].iloc[0])
        cc.insert(0, "point", point)
        frames.append(cc)
    out = pd.concat(frames, ignore_index=True)
    cols = [
        "point",
        "sweep_value",
        "year",
        "arm",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "diff",
        "diff_ci_low",
        "diff_ci_high",
        "p_val",
        "n_units",
    ]
    out = out[cols]
    order = {m: i for i, m in enumerate(SUMMARY_METRICS)}
    arms = list(classrooms["arm"].cat.categories)
    out["arm"] = pd.Categorical(out["arm"].astype(str), categories=arms)
    out["_m"] = out["metric"].map(order)
    return out.sort_values(["point", "year", "_m", "arm"]).drop(columns="_m").reset_index(drop=True)


def tails_table(students: pd.DataFrame, reference: str, q: int = 5) -> pd.DataFrame:
    """Outcomes by prior-achievement quintile, compared across arms over classrooms.

    Returns
    -------
    pandas.DataFrame
        Columns ``point, year, arm, quintile (1..q), value (core_gain or score), mean,
        ci_low, ci_high, diff, diff_ci_low, diff_ci_high, n_units``: per classroom the mean
        of the value among its students in that quintile, then mean and t interval over
        classrooms, and the paired difference against the reference arm.
    """
    df = _prepare(students)
    df["quintile"] = by_prior_group(df, "prior_score", q=q, within=[*_KEYS, "arm"])
    df["quintile"] = df["quintile"].cat.codes + 1
    units = (
        df.groupby([*_KEYS, "quintile", "arm", "replicate"], observed=True)[["core_gain", "score"]]
        .mean()
        .reset_index()
    )
    frames = []
    for (point, year, quint), part in units.groupby([*_KEYS, "quintile"], observed=True):
        cc = compare_conditions(
            part, "arm", reference, pair_on="replicate", metrics=["core_gain", "score"]
        )
        cc = cc.rename(columns={"condition": "arm", "diff_vs_reference": "diff", "metric": "value"})
        cc.insert(0, "quintile", quint)
        cc.insert(0, "year", year)
        cc.insert(0, "point", point)
        frames.append(cc)
    out = pd.concat(frames, ignore_index=True)
    return out[
        [
            "point",
            "year",
            "arm",
            "quintile",
            "value",
            "mean",
            "ci_low",
            "ci_high",
            "diff",
            "diff_ci_low",
            "diff_ci_high",
            "n_units",
        ]
    ]


def _fmt(m: float, lo: float, hi: float, signed: bool = False) -> str:
    if np.isnan(m):
        return ""
    f = "{:+.3f}" if signed else "{:.3f}"
    if np.isnan(lo) or np.isnan(hi):
        return f.format(m)
    return f"{f.format(m)} [{lo:.3f}, {hi:.3f}]"


def format_summary(
    summary: pd.DataFrame,
    metrics: tuple[str, ...] | None = None,
    point: int | None = None,
    year: int | None = None,
) -> str:
    """Format the summary as text: metric x arm, mean [95% CI], then paired differences.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`summarise`.
    metrics : tuple of str, optional
        Rows to show (default: all in the summary).
    point, year : int, optional
        Which sweep point and year (default: the first point and last year).

    Returns
    -------
    str
    """
    s = summary
    s = s[s["point"] == (s["point"].min() if point is None else point)]
    s = s[s["year"] == (s["year"].max() if year is None else year)]
    if metrics is not None:
        s = s[s["metric"].isin(metrics)]
    arms = [a for a in s["arm"].cat.categories if a in set(s["arm"].astype(str))]
    order = list(dict.fromkeys(s["metric"]))
    cell = lambda r: _fmt(r["mean"], r["ci_low"], r["ci_high"])  # noqa: E731
    dcell = lambda r: (  # noqa: E731
        _fmt(r["diff"], r["diff_ci_low"], r["diff_ci_high"], signed=True)
        if not np.isnan(r["diff_ci_low"])
        else "reference"
    )
    means = s.assign(v=s.apply(cell, axis=1)).pivot(index="metric", columns="arm", values="v")
    diffs = s[s["metric"] != "effect_size"]
    diffs = diffs.assign(v=diffs.apply(dcell, axis=1)).pivot(
        index="metric", columns="arm", values="v"
    )
    means = means.reindex(index=order, columns=arms)
    diffs = diffs.reindex(index=[m for m in order if m != "effect_size"], columns=arms)
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        return (
            "Mean over classrooms [95% CI]\n"
            + means.to_string()
            + "\n\nPaired difference vs reference [95% CI]\n"
            + diffs.to_string()
        )


#: Longest list of overrides written out in a provenance line; longer lists are summarised
#: with a reference to the run's manifest, which records every one.
_MAX_OVERRIDES_CHARS = 60


def provenance_line(result: RunResult, spec: StudySpec | None = None) -> str:
    """One line for the foot of every figure: study, source and overrides, seed, size, commit.

    Settings changed after the study file was read (``--set``, ``--classrooms``, ...; see
    :attr:`StudySpec.overrides`) follow the file's name as they were given, so a chart made with
    ``--set teacher_capacity=1.0`` never looks like one made from the file alone; a long list is
    replaced by their number and the path of the run's ``manifest.json``, which records each one
    with its source.

    Parameters
    ----------
    result : RunResult
        The run (its manifest gives the versions, the git commit and, without ``spec``, the
        study).
    spec : StudySpec, optional
        The study as run (default: as recorded in the manifest).

    Returns
    -------
    str
    """
    m = result.manifest
    version = m.get("versions", {}).get("classroom-regimes-toolkit") or "dev"
    git = m.get("git", {})
    commit = (git.get("commit") or "no-git")[:8] + ("+dirty" if git.get("dirty") else "")
    if spec is not None:
        st = {k: getattr(spec, k) for k in ("name", "seed", "classrooms", "years", "engine")}
        source, options = spec.source, [o for o, _, _ in spec.overrides]
    else:
        st = m.get("study", {})
        source = m.get("source", "?")
        options = [o.get("option", "?") for o in m.get("overrides", [])]
    origin = " ".join([source, *options])
    if len(" ".join(options)) > _MAX_OVERRIDES_CHARS:
        manifest = Path(result.folder) / "manifest.json"
        origin = f"{source} + {len(options)} overrides (see {manifest.as_posix()})"
    return (
        f"{st.get('name')} | {origin} | seed {st.get('seed')} | "
        f"{st.get('classrooms')} classrooms/arm | {st.get('years')} year(s) | "
        f"engine {st.get('engine')} | toolkit {version} | commit {commit}"
    )


def decomposition_table(spec: StudySpec) -> pd.DataFrame:
    """Decompose every arm's difference from the reference into channels, at every sweep point.

    Runs :func:`toolkit.study.decompose.decompose` on the study's first ``spec.decomposition``
    classrooms (the same seeds as the run), per sweep point; outcomes are those at the end of
    the last school year.

    Returns
    -------
    pandas.DataFrame
        The decomposition with ``point`` and ``sweep_value`` in front (empty if
        ``spec.decomposition`` is 0 or there is a single arm).
    """
    from toolkit.model.cohort import classroom_seed
    from toolkit.study.decompose import decompose

    if spec.decomposition < 2 or len(spec.arms) < 2:
        return pd.DataFrame()
    seeds = [classroom_seed(spec.seed, i) for i in range(spec.decomposition)]
    frames = []
    for pi, (value, params, arms) in enumerate(spec.points()):
        d = decompose(arms, params, seeds, reference=spec.reference, n_years=spec.years)
        d.insert(0, "sweep_value", value if value is not None else np.nan)
        d.insert(0, "point", pi)
        frames.append(d)
    return pd.concat(frames, ignore_index=True)


def analyse_run(result: RunResult, spec: StudySpec) -> RunResult:
    """Compute the classroom table, summary, tails and figures of a run and write them.

    Writes ``classrooms.csv``, ``summary.csv``, ``tails.csv`` and ``figures/*`` into the run
    folder and returns the result with those tables and figure paths filled in.
    """
    import matplotlib.pyplot as plt

    from toolkit.charts.study import headline_figures, plot_sweep, plot_trajectory
    from toolkit.charts.style import SLIDE_SIZES, chart_style, save_figure

    students = result.students
    classrooms = classroom_metrics(students, spec.reference)
    summary = summarise(classrooms, students, spec.reference)
    tails = tails_table(students, spec.reference)
    folder = result.folder
    classrooms.to_csv(folder / "classrooms.csv", index=False)
    summary.to_csv(folder / "summary.csv", index=False)
    tails.to_csv(folder / "tails.csv", index=False)
    decomposition = decomposition_table(spec)
    if not decomposition.empty:
        decomposition.to_csv(folder / "decomposition.csv", index=False)

    line = provenance_line(result, spec)
    figs: dict[str, plt.Figure] = {}
    if spec.sweep_parameter:
        for metric in ("effect_size", "total_learning", "sd_score", "diversity_of_excellence"):
            with chart_style():
                fig, ax = plt.subplots(figsize=SLIDE_SIZES["4:3"], layout="constrained")
            plot_sweep(summary, metric, ax=ax, parameter=spec.sweep_parameter)
            figs[f"sweep_{metric}"] = fig
    else:
        figs |= headline_figures(summary, tails)
        if not decomposition.empty:
            from toolkit.charts.decomposition import plot_decomposition

            for arm in (a for a in spec.arms if a != spec.reference):
                with chart_style():
                    fig, ax = plt.subplots(figsize=SLIDE_SIZES["16:9"], layout="constrained")
                plot_decomposition(decomposition, arm, "effect_size", ax=ax)
                figs[f"decomposition_{arm}"] = fig
    if spec.years > 1:
        for metric in ("score", "total_learning", "self_regulation_growth", "sd_score"):
            with chart_style():
                fig, ax = plt.subplots(figsize=SLIDE_SIZES["4:3"], layout="constrained")
            plot_trajectory(summary, metric, ax=ax)
            figs[f"years_{metric}"] = fig
    paths = []
    for name, fig in figs.items():
        paths += save_figure(fig, folder / "figures" / name, formats=spec.formats, provenance=line)
        plt.close(fig)
    result.classrooms, result.summary, result.figures = classrooms, summary, paths
    result.tails = tails
    result.decomposition = decomposition
    return result
