r"""Regime effects on a real cohort: weighted, design-based variances, pooled by Rubin's rules.

Each imputed cohort (or plausible value) :math:`m = 1..M` is simulated under every arm with
the same random numbers (classroom :math:`k` uses the same seed in every arm and every cohort),
and analysed as a complete survey data set:

- a pupil-level outcome :math:`y` (the test score, the gain, engagement, ...) is estimated by
  the weighted mean :math:`\hat\theta = \sum_i w_i y_i / \sum_i w_i` over the file's pupils
  (classmates drawn to fill a class are simulated but not counted), and its paired difference
  between two arms by the same mean of each pupil's difference;
- a class-level outcome (the SD of scores within the class, profile diversity, ...) by the mean
  over classes weighted by the sum of their pupils' weights (the population's pupils each class
  stands for), so that it answers "in the class of the average pupil";
- ``effect_size`` is the difference in mean score divided by the weighted SD of scores under
  the reference arm, each computed with the same weights;
- the sampling variance :math:`U_m` of every estimate comes from the replicate weights
  (:class:`toolkit.survey.ReplicateDesign`: the file's own, or a jackknife over schools or
  classes within strata, :func:`toolkit.survey.jackknife_design`), each estimate recomputed with
  every replicate weight; it also carries the simulation's own (Monte Carlo) variation, which
  differs from class to class like the sample does.

The :math:`M` estimates are combined by Rubin's rules (:func:`toolkit.survey.rubin_combine`):
:math:`T = \bar U + (1 + 1/M)B`, with the Barnard-Rubin style degrees of freedom
:math:`\nu = (M-1)(1 + 1/r)^2` for the t interval, and the share of the variance due to
imputation (missing data, measurement, the attributes drawn) reported as
``imputation_share`` :math:`= (1 + 1/M)B / T` beside the fraction of missing information.

By class and by school the pupil-level differences are averaged within the group, with
linearised variances (pupils clustered in classes within a school); a class-level metric of one
class has no within-class variance, so its table reports the estimate and the spread between
cohorts only.

References
----------
.. [1] Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
.. [2] Wolter, K. M. (2007). *Introduction to Variance Estimation* (2nd ed.). Springer.
.. [3] OECD (2009). *PISA Data Analysis Manual: SPSS* (2nd ed.), ch. 8 (plausible values with
   replicate weights).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit.study.analysis import _EXTRA, SUMMARY_COLUMNS, SUMMARY_METRICS
from toolkit.survey.lsa import rubin_combine

__all__ = [
    "CLASS_METRICS",
    "PUPIL_METRICS",
    "effects_by_group",
    "pooled_summary",
    "pooled_tails",
    "pupil_outcomes",
]

#: Pupil-level outcomes (weighted means over the file's pupils), in the summary's order.
PUPIL_METRICS = ("score", *_EXTRA)
#: Class-level outcomes (class-weighted means over classes): the rest of the summary's metrics.
CLASS_METRICS = tuple(m for m in SUMMARY_METRICS if m not in PUPIL_METRICS and m != "effect_size")
#: What the by-class and by-school tables report.
GROUP_PUPIL = ("score", "core_gain", "total_learning", "engagement")
GROUP_CLASS = ("sd_score", "p90_p10", "mean_pairwise_distance", "diversity_of_excellence")


def pupil_outcomes(students: pd.DataFrame) -> pd.DataFrame:
    """Add the derived pupil outcomes ``core_gain`` and ``self_regulation_growth``."""
    return students.assign(
        core_gain=students["core_end"] - students["core_start"],
        self_regulation_growth=students["self_regulation_end"] - students["self_regulation_start"],
    )


class _Aligned:
    """One cohort and year: every arm's pupil outcomes as arrays in the design's row order."""

    def __init__(
        self, rows: pd.DataFrame, keys: pd.DataFrame, arms: Sequence[str], metrics: Sequence[str]
    ) -> None:
        wanted = pd.Index(_key(keys["class_index"], keys["student"]))
        self.values: dict[str, np.ndarray] = {}
        self.prior: dict[str, np.ndarray] = {}
        arm_col = rows["arm"].astype(str).to_numpy()
        for arm in arms:
            part = rows[arm_col == arm]
            where = pd.Index(_key(part["replicate"], part["student"])).get_indexer(wanted)
            if (where < 0).any():
                raise ValueError(
                    f"{int((where < 0).sum())} pupils of the file have no simulated row in arm "
                    f"{arm!r}; the run's parts do not match its cohort."
                )
            self.values[arm] = part[list(metrics)].to_numpy(dtype=float)[where]
            self.prior[arm] = part["prior_score"].to_numpy(dtype=float)[where]


def _key(classes: pd.Series, students: pd.Series) -> np.ndarray:
    """One whole number per (class, student) pair."""
    return classes.to_numpy(dtype=np.int64) * 1_000_000 + students.to_numpy(dtype=np.int64)


def _ratio(w: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weighted means of every column of ``y`` (n, p) under every weight column (n, R+1)."""
    ok = ~np.isnan(y)
    num = w.T @ np.where(ok, y, 0.0)
    den = w.T @ ok.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den  # (R+1, p)


def _wsd(w: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weighted SD (frequency-weight form, ddof-like correction) of y under every weight column."""
    mean = (w.T @ y) / w.sum(axis=0)
    sq = (w.T @ y**2) / w.sum(axis=0)
    s1, s2 = w.sum(axis=0), (w**2).sum(axis=0)
    var = (sq - mean**2) * s1**2 / (s1**2 - s2)
    return np.sqrt(np.maximum(var, 0.0))


def _pool(est: np.ndarray, var: np.ndarray) -> dict[str, np.ndarray]:
    """Rubin's rules over axis 0 of (M, p) arrays, with t intervals and the imputation share."""
    m = est.shape[0]
    res = rubin_combine(est, var)
    total = res["total"].to_numpy()
    between = res["between"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, (1 + 1 / m) * between / total, 0.0) if m > 1 else 0 * total
    df = res["df"].to_numpy()
    df = np.where(np.isfinite(df) & (df > 0), df, np.inf)
    q = np.where(np.isinf(df), stats.norm.ppf(0.975), stats.t.ppf(0.975, np.minimum(df, 1e12)))
    se = res["se"].to_numpy()
    estimate = res["estimate"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        tstat = estimate / se
    p = np.where(
        np.isinf(df),
        2 * stats.norm.sf(np.abs(tstat)),
        2 * stats.t.sf(np.abs(tstat), np.minimum(df, 1e12)),
    )
    return {
        "estimate": estimate,
        "se": se,
        "low": estimate - q * se,
        "high": estimate + q * se,
        "p": p,
        "fmi": res["fmi"].to_numpy(),
        "share": share,
        "df": df,
    }


def _pool_all(acc: dict[Any, tuple[list, list]]) -> dict[Any, dict[str, float]]:
    """Pool every key's per-cohort estimates and variances at once (one :func:`_pool` call).

    A key with an undefined variance in some cohort keeps the mean of its estimates and gets no
    standard error or interval.
    """
    keys = list(acc)
    if not keys:
        return {}
    est = np.array([acc[k][0] for k in keys], dtype=float).T  # (M, K)
    var = np.array([acc[k][1] for k in keys], dtype=float).T
    undefined = np.isnan(var).any(axis=0) | np.isnan(est).any(axis=0)
    res = _pool(np.where(undefined, 0.0, est), np.where(undefined, 1.0, var))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a key without any estimate: NaN
        res["estimate"] = np.where(undefined, np.nanmean(est, axis=0), res["estimate"])
    for name in ("se", "low", "high", "p", "fmi", "share"):
        res[name] = np.where(undefined, np.nan, res[name])
    return {k: {n: float(v[i]) for n, v in res.items()} for i, k in enumerate(keys)}


def _class_weights(w: np.ndarray, class_index: np.ndarray, n_classes: int) -> np.ndarray:
    """Per class the sum of its pupils' weights under every weight column: (C, R+1)."""
    out = np.zeros((n_classes, w.shape[1]))
    np.add.at(out, class_index, w)
    return out


def pooled_summary(
    students: pd.DataFrame,
    classrooms: pd.DataFrame,
    keys: pd.DataFrame,
    design: Any,
    arms: Sequence[str],
    reference: str,
    n_classes: int,
) -> pd.DataFrame:
    """Summarise a real cohort's run: weighted estimates per arm and metric, Rubin-pooled.

    Parameters
    ----------
    students : pandas.DataFrame
        Simulated rows of the file's pupils: ``point`` (the cohort), ``year``, ``arm``,
        ``replicate`` (the class's number), ``student`` and the outcomes.
    classrooms : pandas.DataFrame
        Class metrics (``point, year, arm, replicate`` and :data:`CLASS_METRICS`).
    keys : pandas.DataFrame
        The pupils in the design's row order: ``class_index``, ``student``.
    design : toolkit.survey.ReplicateDesign
        Weights and replicate weights of those pupils.
    arms : sequence of str
    reference : str
    n_classes : int

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`toolkit.study.analysis.summarise` (``point`` 0, ``sweep_value``
        NaN) so that the study charts draw it, plus ``se``, ``diff_se``, ``fmi``,
        ``diff_fmi``, ``imputation_share``, ``diff_imputation_share``, ``cohorts`` and
        ``level`` (``"pupils"`` or ``"classes"``). ``n_units`` counts pupils or classes.
    """
    students = pupil_outcomes(students)
    w = design.weights()
    cls = keys["class_index"].to_numpy()
    wc = _class_weights(w, cls, n_classes)
    cohorts = sorted(students["point"].unique())
    years = sorted(students["year"].unique())
    pupil = [m for m in PUPIL_METRICS if m in students.columns]
    cmetrics = [m for m in CLASS_METRICS if m in classrooms.columns]
    rows = []
    for year in years:
        acc: dict[tuple[str, str, str], tuple[list, list]] = {}

        def add(key: tuple[str, str, str], theta: np.ndarray, acc=acc) -> None:
            est, var = acc.setdefault(key, ([], []))
            est.append(theta[0])
            var.append(design.variance(theta[:1], theta[1:, None])[0])

        for m in cohorts:
            part = students[(students["point"] == m) & (students["year"] == year)]
            al = _Aligned(part, keys, arms, pupil)
            ref = al.values[reference]
            sd_ref = _wsd(w, ref[:, pupil.index("score")])
            for arm in arms:
                th = _ratio(w, al.values[arm])  # (R+1, p)
                dth = _ratio(w, al.values[arm] - ref)
                for j, metric in enumerate(pupil):
                    add((arm, metric, "mean"), th[:, j])
                    add((arm, metric, "diff"), dth[:, j])
                es = dth[:, pupil.index("score")] / sd_ref
                add((arm, "effect_size", "mean"), es)
            cpart = classrooms[(classrooms["point"] == m) & (classrooms["year"] == year)]
            cvals = {}
            for arm in arms:
                a = cpart[cpart["arm"].astype(str) == arm].set_index("replicate")
                cvals[arm] = a.reindex(range(n_classes))[cmetrics].to_numpy(dtype=float)
            for arm in arms:
                th = _ratio(wc, cvals[arm])
                dth = _ratio(wc, cvals[arm] - cvals[reference])
                for j, metric in enumerate(cmetrics):
                    add((arm, metric, "mean"), th[:, j])
                    add((arm, metric, "diff"), dth[:, j])
        pooled = _pool_all(acc)
        n_pupils = len(keys)
        n_cls = int((wc[:, 0] > 0).sum())
        for metric in ["effect_size", *pupil, *cmetrics]:
            level = "classes" if metric in cmetrics else "pupils"
            for arm in arms:
                mean = pooled[(arm, metric, "mean")]
                row: dict[str, Any] = {
                    "point": 0,
                    "sweep_value": np.nan,
                    "year": year,
                    "arm": arm,
                    "metric": metric,
                    "mean": mean["estimate"],
                    "ci_low": mean["low"],
                    "ci_high": mean["high"],
                    "se": mean["se"],
                    "fmi": mean["fmi"],
                    "imputation_share": mean["share"],
                    "n_units": n_cls if level == "classes" else n_pupils,
                    "cohorts": len(cohorts),
                    "level": level,
                }
                if metric == "effect_size":
                    d = mean
                elif arm == reference:
                    d = None
                else:
                    d = pooled[(arm, metric, "diff")]
                if d is None or (metric == "effect_size" and arm == reference):
                    row |= {
                        "diff": 0.0,
                        "diff_ci_low": np.nan,
                        "diff_ci_high": np.nan,
                        "p_val": np.nan,
                        "diff_se": np.nan,
                        "diff_fmi": np.nan,
                        "diff_imputation_share": np.nan,
                    }
                    if metric == "effect_size":
                        row |= {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0, "se": 0.0}
                else:
                    row |= {
                        "diff": d["estimate"],
                        "diff_ci_low": d["low"],
                        "diff_ci_high": d["high"],
                        "p_val": d["p"],
                        "diff_se": d["se"],
                        "diff_fmi": d["fmi"],
                        "diff_imputation_share": d["share"],
                    }
                rows.append(row)
    out = pd.DataFrame(rows)
    order = {m: i for i, m in enumerate(SUMMARY_METRICS)}
    out["arm"] = pd.Categorical(out["arm"], categories=list(arms))
    out["_m"] = out["metric"].map(order)
    out = out.sort_values(["point", "year", "_m", "arm"]).drop(columns="_m")
    lead = list(SUMMARY_COLUMNS)
    return out[lead + [c for c in out.columns if c not in lead]].reset_index(drop=True)


def _wquantiles(x: np.ndarray, w: np.ndarray, probs: Sequence[float]) -> np.ndarray:
    """Weighted quantiles: the smallest x whose cumulative weight share reaches each p."""
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order]) / w.sum()
    idx = np.searchsorted(cw, np.asarray(probs) - 1e-12, side="left")
    return x[order][np.minimum(idx, len(x) - 1)]


def pooled_tails(
    students: pd.DataFrame,
    keys: pd.DataFrame,
    design: Any,
    arms: Sequence[str],
    reference: str,
    q: int = 5,
) -> pd.DataFrame:
    """Outcomes by prior-achievement quintile, weighted, paired and pooled over the cohorts.

    Pupils are placed in the weighted quintiles of their prior score under the reference arm
    (the same in every arm in the first year); within each quintile the weighted mean of the
    gain in core skill and of the score per arm, and the paired difference, with replicate
    variances and Rubin's rules.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`toolkit.study.analysis.tails_table` plus ``se`` and
        ``imputation_share``.
    """
    students = pupil_outcomes(students)
    w = design.weights()
    values = ["core_gain", "score"]
    rows = []
    for year in sorted(students["year"].unique()):
        acc: dict[tuple[int, str, str, str], tuple[list, list]] = {}
        for m in sorted(students["point"].unique()):
            part = students[(students["point"] == m) & (students["year"] == year)]
            al = _Aligned(part, keys, arms, values)
            prior = al.prior[reference]
            cuts = _wquantiles(prior, w[:, 0], np.linspace(0, 1, q + 1)[1:-1])
            quint = np.searchsorted(cuts, prior, side="left") + 1
            for k in range(1, q + 1):
                wq = w * (quint == k)[:, None]
                ref = al.values[reference]
                for arm in arms:
                    th = _ratio(wq, al.values[arm])
                    dth = _ratio(wq, al.values[arm] - ref)
                    for j, v in enumerate(values):
                        for kind, t in (("mean", th[:, j]), ("diff", dth[:, j])):
                            e, var = acc.setdefault((k, arm, v, kind), ([], []))
                            e.append(t[0])
                            var.append(design.variance(t[:1], t[1:, None])[0])
        pooled = _pool_all(acc)
        for k, arm, v, kind in acc:
            if kind != "mean":
                continue
            mean, d = pooled[(k, arm, v, "mean")], pooled[(k, arm, v, "diff")]
            is_ref = arm == reference
            rows.append(
                {
                    "point": 0,
                    "year": year,
                    "arm": arm,
                    "quintile": k,
                    "value": v,
                    "mean": mean["estimate"],
                    "ci_low": mean["low"],
                    "ci_high": mean["high"],
                    "diff": 0.0 if is_ref else d["estimate"],
                    "diff_ci_low": np.nan if is_ref else d["low"],
                    "diff_ci_high": np.nan if is_ref else d["high"],
                    "n_units": int(np.sum(quint == k)),
                    "se": mean["se"],
                    "imputation_share": mean["share"],
                }
            )
    out = pd.DataFrame(rows)
    out["arm"] = pd.Categorical(out["arm"], categories=list(arms))
    return out.sort_values(["point", "year", "quintile", "value", "arm"]).reset_index(drop=True)


def _linearised(d: np.ndarray, w: np.ndarray, cluster: np.ndarray) -> tuple[float, float]:
    """Weighted mean of ``d`` and its linearised variance with ``cluster`` as the units."""
    ok = ~np.isnan(d)
    d, w, cluster = d[ok], w[ok], cluster[ok]
    if w.sum() <= 0:
        return np.nan, np.nan
    mean = float((w * d).sum() / w.sum())
    e = w * (d - mean) / w.sum()
    _, inv = np.unique(cluster, return_inverse=True)
    tot = np.bincount(inv.reshape(-1), weights=e)
    k = tot.size
    return mean, float(k / (k - 1) * (tot**2).sum()) if k > 1 else np.nan


def effects_by_group(
    students: pd.DataFrame,
    classrooms: pd.DataFrame,
    keys: pd.DataFrame,
    weights: np.ndarray,
    classes: pd.DataFrame,
    arms: Sequence[str],
    reference: str,
    by: str = "class",
) -> pd.DataFrame:
    """Every arm's difference from the reference within each class (or school), pooled.

    Parameters
    ----------
    students, classrooms, keys
        As for :func:`pooled_summary`.
    weights : ndarray
        The pupils' weights, in the order of ``keys``.
    classes : pandas.DataFrame
        The classes (:attr:`toolkit.realcohort.build.RealCohorts.classes`): ``index``,
        ``class``, ``school``, ``n_kept``, ``n_simulated``.
    arms : sequence of str
    reference : str
    by : {"class", "school"}

    Returns
    -------
    pandas.DataFrame
        One row per group, year, arm (other than the reference) and metric: ``class`` (or
        ``school``), ``n_pupils``, ``n_classes``, ``weight``, ``metric``, ``estimate``, ``se``,
        ``ci_low``, ``ci_high``, ``imputation_share``. Pupil-level metrics (``score``,
        ``core_gain``, ``total_learning``, ``engagement``) are weighted means of the pupils'
        paired differences, with the variance linearised over pupils (over classes within a
        school of several classes) and Rubin's rules; class-level metrics
        (``sd_score``, ``p90_p10``, ``mean_pairwise_distance``, ``diversity_of_excellence``)
        are the class's paired difference, weighted over a school's classes; their ``se`` is
        given only for schools of several classes.
    """
    students = pupil_outcomes(students)
    cls = keys["class_index"].to_numpy()
    school_of = classes.set_index("index")["school"]
    group_of_class = (
        classes["index"].to_numpy() if by == "class" else pd.factorize(classes["school"])[0]
    )
    labels = classes["class"].to_numpy() if by == "class" else pd.factorize(classes["school"])[1]
    pupil_group = group_of_class[cls]
    n_groups = len(labels)
    wc = np.bincount(cls, weights=weights, minlength=len(classes))
    records = []
    for year in sorted(students["year"].unique()):
        acc: dict[tuple[int, str, str], tuple[list, list]] = {}
        for m in sorted(students["point"].unique()):
            part = students[(students["point"] == m) & (students["year"] == year)]
            al = _Aligned(part, keys, arms, list(GROUP_PUPIL))
            cpart = classrooms[(classrooms["point"] == m) & (classrooms["year"] == year)]
            cvals = {
                arm: cpart[cpart["arm"].astype(str) == arm]
                .set_index("replicate")
                .reindex(range(len(classes)))[list(GROUP_CLASS)]
                .to_numpy(dtype=float)
                for arm in arms
            }
            for arm in arms:
                if arm == reference:
                    continue
                diff = al.values[arm] - al.values[reference]
                cdiff = cvals[arm] - cvals[reference]
                for g in range(n_groups):
                    sel = pupil_group == g
                    unit = (
                        cls[sel]
                        if by == "school" and len(set(cls[sel])) > 1
                        else np.arange(sel.sum())
                    )
                    for j, metric in enumerate(GROUP_PUPIL):
                        est, var = _linearised(diff[sel, j], weights[sel], unit)
                        e, v = acc.setdefault((g, arm, metric), ([], []))
                        e.append(est)
                        v.append(var)
                    members = np.where(group_of_class == g)[0]
                    for j, metric in enumerate(GROUP_CLASS):
                        if len(members) > 1:
                            est, var = _linearised(cdiff[members, j], wc[members], members)
                        else:
                            est, var = float(cdiff[members[0], j]), np.nan
                        e, v = acc.setdefault((g, arm, metric), ([], []))
                        e.append(est)
                        v.append(var)
        pooled = _pool_all(acc)
        for (g, arm, metric), res in pooled.items():
            members = np.where(group_of_class == g)[0]
            records.append(
                {
                    by: labels[g],
                    **(
                        {"school": school_of.iloc[members[0]]}
                        if by == "class" and "school" in classes
                        else {}
                    ),
                    "n_pupils": int(classes["n_kept"].to_numpy()[members].sum()),
                    "n_classes": len(members),
                    "weight": float(wc[members].sum()),
                    "year": year,
                    "arm": arm,
                    "metric": metric,
                    "estimate": res["estimate"],
                    "se": res["se"],
                    "ci_low": res["low"],
                    "ci_high": res["high"],
                    "imputation_share": res["share"],
                }
            )
    out = pd.DataFrame(records)
    if (
        by == "class"
        and "school" in out
        and (out["school"].astype(str) == out["class"].astype(str)).all()
    ):
        out = out.drop(columns="school")
    return out
