"""Whole-table summaries: all outcome, spread and diversity metrics per group, and comparisons.

Typical pipeline for a simulation study with common random numbers::

    units = group_metrics(students, by=["regime", "replicate", "classroom"], score="score",
                          prior="prior_score", gain="gain", profile=SKILLS,
                          extra=["engagement", "total_learning"])
    table = compare_conditions(units, condition="regime", reference="standardized",
                               pair_on=["replicate", "classroom"],
                               metrics=["mean", "sd", "gini", "diversity_of_excellence"])

and for the tails, ``students.assign(prior_group=by_prior_group(students, "prior_score"))``
grouped by ``["regime", "prior_group"]``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from toolkit.metrics.diversity import (
    Ties,
    _check_quantile,
    _resolve_thresholds,
    diversity_of_excellence,
    mean_pairwise_distance,
    mean_pairwise_euclidean,
    rao_quadratic_entropy_profiles,
    strongest_domain_entropy,
)
from toolkit.metrics.effect_size import (
    NanPolicy,
    _check_choice,
    _check_ci,
    _check_column,
    _check_columns,
    _check_frame,
    _check_nan_policy,
    _check_numeric_column,
    _group_order,
)
from toolkit.metrics.outcome import _t_interval, _unit_wide
from toolkit.metrics.spread import gini, matthew_effect
from toolkit.metrics.student_t import t_ppf, t_sf

__all__ = ["by_prior_group", "compare_conditions", "group_metrics"]

GiniShift = float | Literal["pooled_min", "group_min"] | None


def _numeric_cols(data: pd.DataFrame, cols: list[str], param: str) -> None:
    for col in cols:
        _check_numeric_column(data, col, param)
        if np.isinf(data[col].to_numpy(dtype=float, na_value=np.nan)).any():
            raise ValueError(f"{param}: column {col!r} contains infinite values.")


def group_metrics(
    data: pd.DataFrame,
    by: str | Sequence[str],
    score: str,
    prior: str | None = None,
    profile: Sequence[str] | None = None,
    *,
    gain: str | None = None,
    extra: Sequence[str] | None = None,
    shift: GiniShift = "pooled_min",
    quantile: float = 0.9,
    thresholds: Literal["pooled", "group"] | Sequence[float] | Mapping[str, float] = "pooled",
    ties: Ties = "split",
    entropy_base: float | None = None,
    normalize_entropy: bool = False,
    distance_metric: str = "euclidean",
    matthew_method: Literal["pearson", "spearman"] = "pearson",
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Outcome, spread and profile-diversity metrics for every group, one tidy row each.

    Parameters
    ----------
    data : pandas.DataFrame
        Student-level table (one row per student, or per student x regime x replicate).
    by : str or list of str
        Grouping column(s), e.g. ``"regime"`` or ``["regime", "replicate", "classroom"]``.
        Rows with a missing key are ignored.
    score : str
        Numeric outcome column (e.g. the standardized core ``score``).
    prior : str, optional
        Prior-achievement column; enables the ``matthew`` column.
    profile : list of str, optional
        Domain columns forming each student's skill profile (e.g. ``skill_mathematics``,
        ``skill_reading``, ``skill_arts``, ``skill_technology``); enables the four
        diversity columns.
    gain : str, optional
        Gain column for the Matthew effect; default ``score - prior`` (which assumes both
        are on the same scale).
    extra : list of str, optional
        Further numeric columns whose group means are reported as ``mean_<column>``
        (e.g. ``engagement``, ``total_learning``, ``self_regulation_end``).
    shift : float, "pooled_min", "group_min" or None, default "pooled_min"
        Zero point for ``cv`` and ``gini``, which need a ratio scale: the value subtracted
        from ``score`` first. ``"pooled_min"``: the minimum score in the whole table (one
        common zero for every group, so groups are comparable; this is the default);
        ``"group_min"``: each group's own minimum; a number: a fixed zero, e.g. the bottom
        of the score scale; ``None``: use raw scores (must then be non-negative with a
        positive mean).
    quantile : float, default 0.9
        Quantile defining excellence for ``diversity_of_excellence``.
    thresholds : "pooled", "group", array-like or mapping, default "pooled"
        Excellence thresholds per domain: ``"pooled"`` computes them once from all rows of
        ``data`` (a common bar for all groups, e.g. all regimes pooled); ``"group"`` from
        each group itself; or pass values (e.g. :func:`toolkit.metrics.excellence_thresholds`
        of the standardized regime), aligned to ``profile`` by name for a mapping/Series.
    ties : {"split", "first"}, default "split"
        Tie rule for the strongest domain (see :func:`toolkit.metrics.strongest_domain_shares`).
    entropy_base : float, optional
        Logarithm base of the entropy (default natural log).
    normalize_entropy : bool, default False
        Report the entropy divided by log(number of domains).
    distance_metric : str, default "euclidean"
        Metric for ``mean_pairwise_distance`` and for the :math:`\delta` in ``rao_q``.
    matthew_method : {"pearson", "spearman"}, default "pearson"
        Correlation used for ``matthew``.
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"``: each metric uses the rows complete for its own inputs (score; prior and
        gain; the profile; each extra column). ``"raise"``: any NaN in a used column raises.

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by the ``by`` columns, with

        - the ``by`` columns;
        - ``n``: rows with a non-missing score; ``n_omitted``: rows with a missing score;
        - ``mean``, ``sd`` (ddof = 1): of the score;
        - ``cv``: SD over the mean of the shifted score (NaN if that mean is not positive);
        - ``gini``: population Gini of the shifted score (no n/(n-1) correction);
        - ``p90_p10``, ``p75_p25``: percentile gaps (numpy ``linear`` = R type 7);
        - ``matthew`` (if ``prior``): correlation of gain with prior;
        - ``mean_pairwise_distance``, ``strongest_domain_entropy``, ``rao_q``,
          ``diversity_of_excellence`` (if ``profile``);
        - ``mean_<column>`` for each ``extra`` column.

        Metrics that need more rows than a group has are NaN (sd, cv, gaps: 2; matthew: 4
        complete pairs; mean pairwise distance: 2 complete profiles).

    Notes
    -----
    The formulas are those of the individual functions: :func:`toolkit.metrics.sd`,
    :func:`toolkit.metrics.coefficient_of_variation`, :func:`toolkit.metrics.gini`,
    :func:`toolkit.metrics.percentile_gap`, :func:`toolkit.metrics.matthew_effect`,
    :func:`toolkit.metrics.mean_pairwise_distance`,
    :func:`toolkit.metrics.strongest_domain_entropy`,
    :func:`toolkit.metrics.rao_quadratic_entropy_profiles` (``rao_q``, with
    :math:`d_{ij} = \delta_{ij}^2/2` and equal weights) and
    :func:`toolkit.metrics.diversity_of_excellence`. For example, with shifted scores
    :math:`y_i = x_i - c`,

    .. math::

        \mathrm{cv} = \frac{s_y}{\bar y}, \qquad
        \mathrm{gini} = \frac{\sum_{i,j}|y_i - y_j|}{2 n^2 \bar y}.

    The Gini and CV depend on the chosen zero ``shift``; report it with the results.

    References
    ----------
    .. [1] Wickham, H. (2014). Tidy data. *Journal of Statistical Software*, 59(10), 1-23.
       https://doi.org/10.18637/jss.v059.i10

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "regime": ["a"] * 4 + ["b"] * 4,
    ...     "score": [1.0, 2.0, 3.0, 4.0, 2.0, 2.0, 3.0, 3.0],
    ... })
    >>> res = group_metrics(df, by="regime", score="score", shift=0.0)
    >>> res[["regime", "n", "mean", "gini"]].round(3).to_numpy().tolist()
    [['a', 4, 2.5, 0.25], ['b', 4, 2.5, 0.1]]
    """
    data = _check_frame(data)
    _check_nan_policy(nan_policy)
    by_cols = _check_columns(data, by, "by")
    score = _check_column(data, score, "score")
    _numeric_cols(data, [score], "score")
    prior_col = None if prior is None else _check_column(data, prior, "prior")
    gain_col = None if gain is None else _check_column(data, gain, "gain")
    if gain_col is not None and prior_col is None:
        raise ValueError("gain was given without prior; the Matthew effect needs both.")
    if prior_col is not None:
        _numeric_cols(data, [prior_col], "prior")
    if gain_col is not None:
        _numeric_cols(data, [gain_col], "gain")
    if isinstance(profile, str):
        raise TypeError("profile must be a list of domain column names, not a single string.")
    prof_cols = None if profile is None else _check_columns(data, profile, "profile")
    if prof_cols is not None:
        _numeric_cols(data, prof_cols, "profile")
    if isinstance(extra, str):
        extra = [extra]
    extra_cols = [] if not extra else _check_columns(data, extra, "extra")
    _numeric_cols(data, extra_cols, "extra")
    q = _check_quantile(quantile)
    _check_choice(ties, "ties", ("split", "first"))
    _check_choice(matthew_method, "matthew_method", ("pearson", "spearman"))

    used = [score, *([prior_col] if prior_col else []), *([gain_col] if gain_col else [])]
    used += [*(prof_cols or []), *extra_cols]
    if nan_policy == "raise":
        bad = [c for c in used if data[c].isna().any()]
        if bad:
            raise ValueError(f"Columns {bad} contain NaN and nan_policy='raise'.")

    scores_all = data[score].to_numpy(dtype=float, na_value=np.nan)
    if isinstance(shift, str):
        _check_choice(shift, "shift", ("pooled_min", "group_min"))
        if shift == "pooled_min":
            if np.isnan(scores_all).all():
                raise ValueError(f"score: column {score!r} has no non-missing values.")
            shift_value: float | str | None = float(np.nanmin(scores_all))
        else:
            shift_value = "min"
    elif shift is None:
        shift_value = None
    elif isinstance(shift, bool) or not isinstance(shift, int | float | np.integer | np.floating):
        raise TypeError(
            f"shift must be a number, 'pooled_min', 'group_min' or None, got {shift!r}."
        )
    else:
        shift_value = float(shift)

    thr_values: np.ndarray | None = None
    thr_mode = "values"
    if prof_cols is not None:
        if isinstance(thresholds, str):
            _check_choice(thresholds, "thresholds", ("pooled", "group"))
            thr_mode = thresholds
            if thresholds == "pooled":
                prof = data[prof_cols].dropna()
                if prof.empty:
                    raise ValueError("profile columns have no complete row for thresholds.")
                thr_values = np.quantile(prof.to_numpy(dtype=float), q, axis=0, method="linear")
        else:
            thr_values = _resolve_thresholds(thresholds, list(prof_cols), True)

    fast = _equal_groups_fast(
        data,
        by_cols,
        score,
        prior_col,
        gain_col,
        prof_cols,
        extra_cols,
        shift_value,
        q,
        thr_mode,
        thr_values,
        ties,
        entropy_base,
        normalize_entropy,
        distance_metric,
        matthew_method,
    )
    if fast is not None:
        return fast

    rows = []
    for key, grp in data.groupby(by_cols, sort=True, observed=True, dropna=True):
        key_t = key if isinstance(key, tuple) else (key,)
        row: dict[str, object] = dict(zip(by_cols, key_t, strict=True))
        s = grp[score].to_numpy(dtype=float, na_value=np.nan)
        s = s[~np.isnan(s)]
        n = s.size
        row["n"] = n
        row["n_omitted"] = int(len(grp) - n)
        row["mean"] = float(s.mean()) if n else math.nan
        row["sd"] = float(np.std(s, ddof=1)) if n >= 2 else math.nan
        if n >= 2:
            if shift_value == "min":
                y = s - s.min()
            elif shift_value is None:
                y = s
            else:
                y = s - float(shift_value)
            if (y < 0).any():
                raise ValueError(
                    f"score: {int((y < 0).sum())} value(s) in group {key!r} lie below the zero "
                    f"point set by shift={shift!r}; gini and cv need non-negative scores. "
                    "Use shift='pooled_min' or a lower numeric shift."
                )
            y_mean = float(y.mean())
            row["cv"] = float(np.std(y, ddof=1) / y_mean) if y_mean > 0 else math.nan
            row["gini"] = gini(y)
            p90, p75, p25, p10 = np.percentile(s, [90, 75, 25, 10], method="linear")
            row["p90_p10"] = float(p90 - p10)
            row["p75_p25"] = float(p75 - p25)
        else:
            row.update(cv=math.nan, gini=math.nan, p90_p10=math.nan, p75_p25=math.nan)
        if prior_col is not None:
            pr = grp[prior_col].to_numpy(dtype=float, na_value=np.nan)
            if gain_col is not None:
                gn = grp[gain_col].to_numpy(dtype=float, na_value=np.nan)
            else:
                gn = grp[score].to_numpy(dtype=float, na_value=np.nan) - pr
            complete = ~(np.isnan(pr) | np.isnan(gn))
            if complete.sum() >= 4:
                res = matthew_effect(pr[complete], gn[complete], method=matthew_method)
                row["matthew"] = float(res["r"].iloc[0])
            else:
                row["matthew"] = math.nan
        if prof_cols is not None:
            prof = grp[prof_cols].dropna()
            m = len(prof)
            row["mean_pairwise_distance"] = (
                mean_pairwise_distance(prof, metric=distance_metric) if m >= 2 else math.nan
            )
            if m >= 1:
                row["strongest_domain_entropy"] = strongest_domain_entropy(
                    prof, base=entropy_base, normalize=normalize_entropy, ties=ties
                )
                row["rao_q"] = rao_quadratic_entropy_profiles(prof, metric=distance_metric)
                row["diversity_of_excellence"] = diversity_of_excellence(
                    prof, quantile=q, thresholds=None if thr_mode == "group" else thr_values
                )
            else:
                row.update(
                    strongest_domain_entropy=math.nan,
                    rao_q=math.nan,
                    diversity_of_excellence=math.nan,
                )
        for col in extra_cols:
            vals = grp[col].to_numpy(dtype=float, na_value=np.nan)
            row[f"mean_{col}"] = float(np.nanmean(vals)) if (~np.isnan(vals)).any() else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _equal_groups_fast(
    data: pd.DataFrame,
    by_cols: list[str],
    score: str,
    prior_col: str | None,
    gain_col: str | None,
    prof_cols: list[str] | None,
    extra_cols: list[str],
    shift_value: float | str | None,
    q: float,
    thr_mode: str,
    thr_values: np.ndarray | None,
    ties: str,
    entropy_base: float | None,
    normalize_entropy: bool,
    distance_metric: str,
    matthew_method: str,
) -> pd.DataFrame | None:
    """:func:`group_metrics` for many groups of equal size with no missing values, on arrays.

    Simulation output has exactly this shape (every classroom the same number of students),
    and computing the metrics group by group costs far more than the simulation itself. The
    formulas are those of the per-group functions (a test checks both paths agree); returns
    ``None`` whenever the data do not qualify, and the general path runs instead.
    """
    if distance_metric != "euclidean" or matthew_method != "pearson" or shift_value == "min":
        return None
    used = [score, *filter(None, [prior_col, gain_col]), *(prof_cols or []), *extra_cols]
    if any(data[c].isna().any() for c in used) or any(data[c].isna().any() for c in by_cols):
        return None
    order = data.sort_values(by_cols, kind="stable")
    keys = order[by_cols].drop_duplicates()
    g = len(keys)
    if g == 0 or len(order) % g:
        return None
    n = len(order) // g
    codes = order.groupby(by_cols, sort=True, observed=True).ngroup().to_numpy()
    if not (codes.reshape(g, n) == np.arange(g)[:, None]).all() or n < 4:
        return None

    def col(c: str) -> np.ndarray:
        return order[c].to_numpy(dtype=float).reshape(g, n)

    s = col(score)
    # the columns gathered first and made a frame once (a column added to a frame costs more
    # than computing it, at simulation sizes)
    out: dict[str, Any] = {}
    out["n"] = n
    out["n_omitted"] = 0
    out["mean"] = s.mean(axis=1)
    out["sd"] = np.std(s, axis=1, ddof=1)
    y = s if shift_value is None else s - float(shift_value)
    if (y < 0).any():
        return None  # the general path reports the group and the shift
    y_mean = y.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["cv"] = np.where(y_mean > 0, np.std(y, axis=1, ddof=1) / y_mean, np.nan)
        ranks = np.arange(1, n + 1)
        total = y.sum(axis=1)
        gi = 2.0 * (ranks * np.sort(y, axis=1)).sum(axis=1) / (n * total) - (n + 1) / n
        out["gini"] = np.where(total == 0, np.nan, np.maximum(gi, 0.0))
    p90, p75, p25, p10 = np.percentile(s, [90, 75, 25, 10], axis=1, method="linear")
    out["p90_p10"] = p90 - p10
    out["p75_p25"] = p75 - p25
    if prior_col is not None:
        pr = col(prior_col)
        gn = col(gain_col) if gain_col is not None else s - pr
        a = gn - gn.mean(axis=1, keepdims=True)
        b = pr - pr.mean(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
        constant = (np.ptp(pr, axis=1) == 0) | (np.ptp(gn, axis=1) == 0)
        out["matthew"] = np.where(constant, np.nan, np.clip(r, -1.0, 1.0))
    if prof_cols is not None:
        k = len(prof_cols)
        x = order[prof_cols].to_numpy(dtype=float).reshape(g, n, k)
        # mean_pairwise_distance's numbers, classrooms a block at a time (all at once, the
        # differences of 200 classrooms of 168 would take 180 MB)
        out["mean_pairwise_distance"] = mean_pairwise_euclidean(x).tolist()
        if ties == "first":
            w = np.zeros_like(x)
            np.put_along_axis(w, np.argmax(x, axis=2)[..., None], 1.0, axis=2)
        else:
            is_max = x == x.max(axis=2, keepdims=True)
            w = is_max / is_max.sum(axis=2, keepdims=True)
        shares = w.mean(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            h = -np.where(shares > 0, shares * np.log(shares), 0.0).sum(axis=1)
        h = np.maximum(h, 0.0) + 0.0
        if normalize_entropy:
            if k < 2:
                return None
            h = h / math.log(k)
        elif entropy_base is not None:
            h = h / math.log(entropy_base)
        out["strongest_domain_entropy"] = h
        centre = x.mean(axis=1, keepdims=True)
        out["rao_q"] = (((x - centre) ** 2).sum(axis=2)).mean(axis=1)
        if thr_mode == "group":
            thr = np.quantile(x, q, axis=1, method="linear")[:, None, :]
        else:
            thr = np.asarray(thr_values)[None, None, :]
        out["diversity_of_excellence"] = (x >= thr).any(axis=2).mean(axis=1)
    for c in extra_cols:
        out[f"mean_{c}"] = col(c).mean(axis=1)
    keys = keys.reset_index(drop=True)
    return pd.concat([keys, pd.DataFrame(out, index=keys.index)], axis=1)


_COMPARE_CONDITION_COLUMNS = [
    "condition",
    "metric",
    "mean",
    "ci_low",
    "ci_high",
    "diff_vs_reference",
    "diff_ci_low",
    "diff_ci_high",
    "p_val",
    "n_units",
    "n_pairs",
]


def compare_conditions(
    unit_table: pd.DataFrame,
    condition: str,
    reference: Hashable,
    pair_on: str | Sequence[str] | None,
    metrics: Sequence[str] | None = None,
    *,
    ci: float = 0.95,
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Means of unit-level metrics per condition and their differences from a reference.

    Parameters
    ----------
    unit_table : pandas.DataFrame
        One row per condition x unit (e.g. regime x replicate x classroom), typically the
        output of :func:`group_metrics`.
    condition : str
        Column with the condition (e.g. ``"regime"``).
    reference : hashable
        Reference condition (e.g. ``"standardized"``).
    pair_on : str, list of str or None
        Column(s) identifying the unit shared across conditions (e.g.
        ``["replicate", "classroom"]``). Differences are then paired within units (the right
        choice with common random numbers). ``None``: units are independent across
        conditions and the difference gets a Welch interval.
    metrics : list of str, optional
        Numeric metric columns to compare. Default: every numeric column except
        ``condition``, ``pair_on`` and the count columns ``n`` and ``n_omitted``.
    ci : float, default 0.95
        Confidence level of all intervals.
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"``: a unit with a NaN metric is left out of that metric (for a paired
        difference, the pair is left out).

    Returns
    -------
    pandas.DataFrame
        Long table, one row per metric x condition (metrics in the given order, conditions
        in category or sorted order), with columns

        - ``condition``, ``metric``;
        - ``mean``, ``ci_low``, ``ci_high``: mean of the metric across units, t interval;
        - ``diff_vs_reference``: condition minus reference (0 for the reference itself;
          paired: mean of within-unit differences);
        - ``diff_ci_low``, ``diff_ci_high``: t interval of the difference (paired t, or
          Welch if ``pair_on`` is None; NaN for the reference row);
        - ``p_val``: two-sided p value of the same test (NaN for the reference row);
        - ``n_units``: units with a non-missing value of the metric;
        - ``n_pairs``: complete pairs used for the difference (NaN when unpaired).

    Notes
    -----
    Per condition :math:`c` across its :math:`m_c` units, and (paired) with
    :math:`D_u = y_{c,u} - y_{ref,u}` over the :math:`m` complete pairs,

    .. math::

        \bar y_c \pm t_{1-\alpha/2,\,m_c-1} \frac{s_c}{\sqrt{m_c}}, \qquad
        \bar D \pm t_{1-\alpha/2,\,m-1} \frac{s_D}{\sqrt m};

    unpaired, Welch's interval (see :func:`toolkit.metrics.compare_groups`). Units are the
    independent replications; the students inside them are not.

    References
    ----------
    .. [1] Law, A. M. (2015). *Simulation modeling and analysis* (5th ed.), section 10.2.
       McGraw-Hill.
    .. [2] Welch, B. L. (1947). The generalization of "Student's" problem when several
       different population variances are involved. *Biometrika*, 34(1-2), 28-35.
       https://doi.org/10.1093/biomet/34.1-2.28

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({
    ...     "regime": ["std"] * 3 + ["pers"] * 3,
    ...     "replicate": [1, 2, 3] * 2,
    ...     "gini": [0.20, 0.22, 0.18, 0.25, 0.26, 0.24],
    ... })
    >>> res = compare_conditions(units, "regime", "std", pair_on="replicate")
    >>> res[["condition", "metric", "mean", "diff_vs_reference"]].round(3).to_numpy().tolist()
    [['pers', 'gini', 0.25, 0.05], ['std', 'gini', 0.2, 0.0]]
    """
    unit_table = _check_frame(unit_table, "unit_table")
    ci = _check_ci(ci)
    _check_nan_policy(nan_policy)
    condition = _check_column(unit_table, condition, "condition")
    pair_cols = None if pair_on is None else _check_columns(unit_table, pair_on, "pair_on")
    if pair_cols is not None and condition in pair_cols:
        raise ValueError("pair_on must not include the condition column.")
    skip = {condition, *(pair_cols or []), "n", "n_omitted"}
    if metrics is None:
        metric_cols = [
            c
            for c in unit_table.columns
            if c not in skip
            and isinstance(c, str)
            and pd.api.types.is_numeric_dtype(unit_table[c])
            and not pd.api.types.is_bool_dtype(unit_table[c])
        ]
        if not metric_cols:
            raise ValueError("unit_table has no numeric metric columns to compare.")
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        metric_cols = _check_columns(unit_table, metrics, "metrics")
        bad = [c for c in metric_cols if c == condition or c in (pair_cols or [])]
        if bad:
            raise ValueError(f"metrics must not include the condition or pair_on columns: {bad}.")
    _numeric_cols(unit_table, metric_cols, "metrics")
    if nan_policy == "raise":
        bad = [c for c in metric_cols if unit_table[c].isna().any()]
        if bad:
            raise ValueError(f"metrics columns {bad} contain NaN and nan_policy='raise'.")
    order = _group_order(unit_table[condition])
    if reference not in order:
        raise ValueError(f"reference: {reference!r} is not a value of column {condition!r}.")
    if pair_cols is not None and unit_table.duplicated(subset=[condition, *pair_cols]).any():
        raise ValueError(
            f"pair_on: each ({condition}, {', '.join(pair_cols)}) combination must appear "
            "once in unit_table."
        )

    rows = []
    nan = math.nan
    # each condition's rows, and (paired) every metric as units x conditions, found once
    is_cond = {c: (unit_table[condition] == c).to_numpy(dtype=bool) for c in order}
    wide_all = (
        None if pair_cols is None else _unit_wide(unit_table, metric_cols, condition, pair_cols)
    )
    for metric in metric_cols:
        column = unit_table[metric].to_numpy(dtype=float, na_value=np.nan)
        values = {c: column[is_cond[c]] for c in order}
        values = {c: v[~np.isnan(v)] for c, v in values.items()}
        wide = None if wide_all is None else wide_all[metric]
        ref_vals = values[reference]
        for cond in order:
            v = values[cond]
            m, _, _, lo, hi = _t_interval(v, ci)
            row = {
                "condition": cond,
                "metric": metric,
                "mean": m,
                "ci_low": lo,
                "ci_high": hi,
                "n_units": v.size,
            }
            if cond == reference:
                row.update(
                    diff_vs_reference=0.0 if v.size else nan,
                    diff_ci_low=nan,
                    diff_ci_high=nan,
                    p_val=nan,
                    n_pairs=float(v.size) if pair_cols is not None else nan,
                )
            elif wide is not None:
                x = wide[cond].to_numpy(dtype=float, na_value=np.nan)
                r = wide[reference].to_numpy(dtype=float, na_value=np.nan)
                ok = ~(np.isnan(x) | np.isnan(r))
                d = x[ok] - r[ok]
                dm, _, se, dlo, dhi = _t_interval(d, ci)
                p = float(2 * t_sf(abs(dm / se), d.size - 1)) if se > 0 else nan
                row.update(
                    diff_vs_reference=dm,
                    diff_ci_low=dlo,
                    diff_ci_high=dhi,
                    p_val=p,
                    n_pairs=float(d.size),
                )
            else:
                row.update(_welch_diff(v, ref_vals, ci))
                row["n_pairs"] = nan
            rows.append(row)
    return pd.DataFrame(rows, columns=_COMPARE_CONDITION_COLUMNS)


def _welch_diff(a: np.ndarray, b: np.ndarray, ci: float) -> dict[str, float]:
    nan = math.nan
    if a.size == 0 or b.size == 0:
        return {"diff_vs_reference": nan, "diff_ci_low": nan, "diff_ci_high": nan, "p_val": nan}
    diff = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return {"diff_vs_reference": diff, "diff_ci_low": nan, "diff_ci_high": nan, "p_val": nan}
    v1, v2 = np.var(a, ddof=1) / a.size, np.var(b, ddof=1) / b.size
    se = math.sqrt(v1 + v2)
    if se == 0:
        return {"diff_vs_reference": diff, "diff_ci_low": diff, "diff_ci_high": diff, "p_val": nan}
    dof = (v1 + v2) ** 2 / (v1**2 / (a.size - 1) + v2**2 / (b.size - 1))
    half = float(t_ppf(0.5 + ci / 2, dof)) * se
    return {
        "diff_vs_reference": diff,
        "diff_ci_low": diff - half,
        "diff_ci_high": diff + half,
        "p_val": float(2 * t_sf(abs(diff / se), dof)),
    }


def by_prior_group(
    data: pd.DataFrame,
    prior: str,
    q: int = 5,
    *,
    within: str | Sequence[str] | None = None,
    name: str = "prior_group",
) -> pd.Series:
    r"""Label students by prior-achievement quantile group (Q1 = lowest ... Qq = highest).

    Parameters
    ----------
    data : pandas.DataFrame
        Student-level table.
    prior : str
        Numeric prior-achievement column.
    q : int, default 5
        Number of groups (5: quintiles, 4: quartiles, 10: deciles), at least 2.
    within : str or list of str, optional
        Compute the cut points separately within these groups (e.g. ``"classroom"`` for
        within-class quintiles, or ``["regime", "replicate"]``). Default: one set of cut
        points over the whole table (with common random numbers the prior scores are the same
        in every regime, so pooled cut points label the same students alike).
    name : str, default "prior_group"
        Name of the returned Series.

    Returns
    -------
    pandas.Series
        Ordered categorical with categories ``"Q1"`` ... ``f"Q{q}"``, aligned with
        ``data.index``; NaN where ``prior`` (or a ``within`` key) is missing. Assign it with
        ``data.assign(prior_group=by_prior_group(data, "prior_score"))``.

    Notes
    -----
    Cut points are the sample quantiles :math:`Q(k/q)`, :math:`k = 1, \dots, q-1`, computed
    with ``pandas.qcut`` (linear interpolation, R type 7). Intervals are closed on the right,
    so a student exactly on a cut point goes to the lower group:

    .. math::

        \text{group}(x) = \min\{k : x \le Q(k/q)\}, \qquad Q(1) = \max x.

    Heavy ties (e.g. many identical prior scores) can make cut points coincide; that raises
    a ``ValueError`` rather than silently producing fewer groups.

    References
    ----------
    .. [1] Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical packages.
       *The American Statistician*, 50(4), 361-365. https://doi.org/10.2307/2684934

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"prior_score": [0.5, -1.2, 2.0, 0.1, -0.3, 1.1, -2.0, 0.8, 1.5, -0.7]})
    >>> by_prior_group(df, "prior_score").tolist()
    ['Q3', 'Q1', 'Q5', 'Q3', 'Q2', 'Q4', 'Q1', 'Q4', 'Q5', 'Q2']
    """
    data = _check_frame(data)
    prior = _check_column(data, prior, "prior")
    _numeric_cols(data, [prior], "prior")
    if isinstance(q, bool) or not isinstance(q, int | np.integer) or q < 2:
        raise ValueError(f"q must be an integer of at least 2, got {q!r}.")
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}.")
    labels = [f"Q{k}" for k in range(1, q + 1)]
    dtype = pd.CategoricalDtype(labels, ordered=True)
    codes = pd.Series(np.nan, index=data.index, dtype=float)

    def assign(values: pd.Series, where: str) -> None:
        v = values.dropna().astype(float)
        if v.empty:
            return
        try:
            c = pd.qcut(v, q, labels=False)
        except ValueError:
            raise ValueError(
                f"prior: column {prior!r} has too many tied values{where} to form {q} groups "
                "with distinct cut points; use a smaller q."
            ) from None
        codes.loc[v.index] = c.astype(float)

    if within is None:
        assign(data[prior], "")
    else:
        within_cols = _check_columns(data, within, "within")
        if prior in within_cols:
            raise ValueError("within must not include the prior column.")
        for key, grp in data.groupby(within_cols, sort=False, observed=True, dropna=True):
            assign(grp[prior], f" within group {key!r}")
    out = pd.Series(
        pd.Categorical.from_codes(codes.fillna(-1).astype(int).to_numpy(), dtype=dtype),
        index=data.index,
        name=name,
    )
    return out
