"""Effect sizes and diversity of outcomes on real data, with the simulations' metrics module.

Nothing here computes a metric itself: every number comes from :mod:`toolkit.metrics`
(:func:`~toolkit.metrics.compare_groups`, :func:`~toolkit.metrics.glass_delta`,
:func:`~toolkit.metrics.group_metrics`), so observed and simulated diversity are measured
the same way and can be put side by side. This module only arranges real survey tables for
those functions: several outcomes at once, metrics by group with an overall row, and the
distribution of within-cluster (class, school) metrics.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from toolkit._base.checks import check_column, check_columns, check_frame
from toolkit.metrics import compare_groups, glass_delta, group_metrics
from toolkit.survey._screen import check_footer

__all__ = [
    "ClusterDiversity",
    "diversity_by_cluster",
    "diversity_by_group",
    "effect_size_table",
]

_OVERALL = "(all)"


def effect_size_table(
    data: pd.DataFrame,
    dvs: str | Sequence[str],
    group: str,
    reference: Hashable | None = None,
    *,
    paired_on: str | Sequence[str] | None = None,
    glass: bool = True,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Group comparisons with effect sizes and confidence intervals for several outcomes.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent (or per respondent and occasion when paired).
    dvs : str or list of str
        Outcome columns, e.g. the scale scores from :func:`toolkit.survey.score_items`.
    group : str
        Group column (gender, school type, regime...).
    reference : hashable, optional
        Reference group (default: the first in sorted or category order).
    paired_on : str or list of str, optional
        Unit columns for paired comparisons (e.g. student ID for pre/post); see
        :func:`toolkit.metrics.compare_groups`.
    glass : bool, default True
        Add Glass's delta (difference over the reference group's SD) with its noncentral-t
        interval (unpaired comparisons only).
    ci : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``dv`` followed by the columns of :func:`toolkit.metrics.compare_groups` (group,
        reference, n, means, SDs, difference and its interval, t, dof, p_val, cohen_d and
        hedges_g with noncentral intervals, ...) and, with ``glass``, ``glass_delta``,
        ``glass_ci_low``, ``glass_ci_high``.

    Notes
    -----
    Formulas and R checks are those of :func:`toolkit.metrics.compare_groups` (Cohen's d with
    the pooled SD, Hedges' g = J d, paired :math:`d_z`) and :func:`toolkit.metrics.glass_delta`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4,
    ...                    "y": [4.0, 5.0, 6.0, 5.0, 5.0, 6.0, 7.0, 8.0]})
    >>> res = effect_size_table(df, "y", "g")
    >>> res[["dv", "group", "cohen_d", "glass_delta"]].round(3).to_numpy().tolist()
    [['y', 'b', 1.389, 1.837]]
    """
    data = check_frame(data)
    check_footer(data, "effect_size_table")
    dv_list = check_columns(data, dvs, "dvs")
    group = check_column(data, group, "group")
    tables = []
    for dv in dv_list:
        try:
            tab = compare_groups(data, dv, group, reference, paired_on, ci=ci)
        except ValueError as exc:  # name the outcome: metrics' messages say "dv"
            raise ValueError(f"dvs: column {dv!r}: {exc}") from exc
        if glass and paired_on is None:
            extra = []
            for _, row in tab.iterrows():
                x = data.loc[data[group] == row["group"], dv]
                ref = data.loc[data[group] == row["reference"], dv]
                gd = glass_delta(x.to_numpy(dtype=float), ref.to_numpy(dtype=float), ci=ci)
                extra.append(
                    {
                        "glass_delta": float(gd["estimate"].iloc[0]),
                        "glass_ci_low": float(gd["ci_low"].iloc[0]),
                        "glass_ci_high": float(gd["ci_high"].iloc[0]),
                    }
                )
            tab = pd.concat([tab, pd.DataFrame(extra, index=tab.index)], axis=1)
        tab.insert(0, "dv", dv)
        tables.append(tab)
    return pd.concat(tables, ignore_index=True)


def diversity_by_group(
    data: pd.DataFrame,
    score: str,
    by: str | Sequence[str],
    *,
    profile: Sequence[str] | None = None,
    prior: str | None = None,
    overall: bool = True,
    **kwargs: Any,
) -> pd.DataFrame:
    """Spread and profile-diversity metrics of real scores, by group (and overall).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    score : str
        Outcome column (a test score, a scale score).
    by : str or list of str
        Group column(s), e.g. gender, school type.
    profile : list of str, optional
        Domain columns forming each person's profile (e.g. the five Big Five scale scores, or
        several subject scores) for mean pairwise distance, strongest-domain entropy, Rao's Q
        and diversity of excellence.
    prior : str, optional
        Prior-achievement column for the Matthew effect (needs a gain or a later score).
    overall : bool, default True
        Add a row for everyone together, labelled ``"(all)"`` in the ``by`` columns.
    **kwargs
        Passed to :func:`toolkit.metrics.group_metrics` (``shift``, ``quantile``,
        ``thresholds``, ``gain``, ``extra``...).

    Returns
    -------
    pandas.DataFrame
        The table of :func:`toolkit.metrics.group_metrics`: ``n``, ``mean``, ``sd``, ``cv``,
        ``gini``, ``p90_p10``, ``p75_p25`` and, with ``profile``, the four diversity columns.

    Notes
    -----
    Unweighted: for survey weights and replicate standard errors use
    :func:`toolkit.survey.lsa_spread`. Excellence thresholds default to the pooled sample
    (``thresholds="pooled"``), so every group is measured against the same bar.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4,
    ...                    "y": [1.0, 2.0, 3.0, 4.0, 2.0, 2.0, 3.0, 3.0]})
    >>> res = diversity_by_group(df, "y", "g", shift=0.0)
    >>> res[["g", "mean", "gini"]].round(3).to_numpy().tolist()
    [['a', 2.5, 0.25], ['b', 2.5, 0.1], ['(all)', 2.5, 0.188]]
    """
    data = check_frame(data)
    check_footer(data, "diversity_by_group")
    by_cols = check_columns(data, by, "by")
    table = group_metrics(data, by_cols, score, prior, profile, **kwargs)
    if not overall:
        return table
    everyone = data.assign(**dict.fromkeys(by_cols, _OVERALL))
    total = group_metrics(everyone, by_cols, score, prior, profile, **kwargs)
    return pd.concat([table, total], ignore_index=True)


@dataclass(frozen=True)
class ClusterDiversity:
    """Result of :func:`diversity_by_cluster`.

    Attributes
    ----------
    clusters : pandas.DataFrame
        One row per cluster (class, school): the metrics of
        :func:`toolkit.metrics.group_metrics` within it.
    summary : pandas.DataFrame
        One row per group and metric: how the within-cluster metric is distributed across
        clusters: ``n_clusters``, ``mean``, ``sd``, ``min``, ``p25``, ``median``, ``p75``,
        ``max``.
    """

    clusters: pd.DataFrame
    summary: pd.DataFrame


def diversity_by_cluster(
    data: pd.DataFrame,
    score: str,
    cluster: str,
    by: str | Sequence[str] | None = None,
    *,
    profile: Sequence[str] | None = None,
    min_size: int = 5,
    **kwargs: Any,
) -> ClusterDiversity:
    """Diversity within each class or school, and its distribution across them.

    The simulations report metrics per classroom; this gives the same per-class metrics for
    real data (e.g. ``nlschools`` classes), so that simulated and observed classrooms can be
    compared metric by metric.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per student.
    score : str
        Outcome column.
    cluster : str
        Class or school ID column.
    by : str or list of str, optional
        Higher-level grouping (e.g. multi-grade vs single-grade classes).
    profile : list of str, optional
        Domain columns for the profile-diversity metrics.
    min_size : int, default 5
        Clusters with fewer students with a score are left out of the summary.
    **kwargs
        Passed to :func:`toolkit.metrics.group_metrics`.

    Returns
    -------
    ClusterDiversity
        ``clusters`` (one row per cluster) and ``summary`` (distribution across clusters).

    Examples
    --------
    >>> from toolkit.datasets import load_dataset
    >>> res = diversity_by_cluster(load_dataset("nlschools"), "lang", "class", by="COMB")
    >>> res.summary.query("metric == 'sd'")[["COMB", "n_clusters"]].to_numpy().tolist()
    [[0, 78], [1, 53]]
    """
    data = check_frame(data)
    check_footer(data, "diversity_by_cluster")
    cluster = check_column(data, cluster, "cluster")
    by_cols = [] if by is None else check_columns(data, by, "by")
    if cluster in by_cols:
        raise ValueError("cluster must not also be a by column.")
    per = group_metrics(data, [*by_cols, cluster], score, None, profile, **kwargs)
    keep = per[per["n"] >= min_size]
    if keep.empty:
        raise ValueError(
            f"min_size: no {cluster!r} has {min_size} or more rows with a {score!r} value (the "
            f"largest has {int(per['n'].max())}); lower min_size."
        )
    id_cols = [*by_cols, cluster, "n", "n_omitted"]
    metrics = [c for c in per.columns if c not in id_cols]
    long = keep.melt(id_vars=[*by_cols, cluster], value_vars=metrics, var_name="metric")
    group_keys = [*by_cols, "metric"]
    rows = []
    for key, grp in long.groupby(group_keys, sort=False, observed=True):
        key_t = key if isinstance(key, tuple) else (key,)
        v = grp["value"].dropna().to_numpy(dtype=float)
        row = dict(zip(group_keys, key_t, strict=True))
        row["n_clusters"] = int(v.size)
        if v.size:
            q = np.percentile(v, [0, 25, 50, 75, 100])
            row.update(
                mean=float(v.mean()),
                sd=float(v.std(ddof=1)) if v.size > 1 else np.nan,
                min=q[0],
                p25=q[1],
                median=q[2],
                p75=q[3],
                max=q[4],
            )
        rows.append(row)
    summary = pd.DataFrame(rows)
    if by_cols:
        summary = summary.sort_values(by_cols, kind="stable").reset_index(drop=True)
    return ClusterDiversity(clusters=per, summary=summary)
