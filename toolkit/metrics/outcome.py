"""Outcome levels with t intervals: means, paired differences, effects against a reference.

The unit-level helper :func:`effect_vs_reference` is the workhorse for simulation studies:
with common random numbers every replicate (or classroom) is run under each regime, so the
regime effect is estimated from the within-unit differences.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from toolkit.metrics.effect_size import (
    NanPolicy,
    _as_1d,
    _check_ci,
    _check_column,
    _check_columns,
    _check_frame,
    _check_nan_policy,
    _check_numeric_column,
    _group_order,
    _paired_1d,
    _require_n,
)
from toolkit.metrics.student_t import t_ppf, t_sf

__all__ = ["effect_vs_reference", "mean_ci", "paired_difference"]


def _t_interval(values: np.ndarray, ci: float) -> tuple[float, float, float, float, float]:
    """Mean, SD, SE and t-interval limits of a 1-D array (NaN limits if n < 2)."""
    n = values.size
    if n == 0:
        nan = float("nan")
        return nan, nan, nan, nan, nan
    m = float(values.mean())
    if n < 2:
        nan = float("nan")
        return m, nan, nan, nan, nan
    s = float(np.std(values, ddof=1))
    se = s / math.sqrt(n)
    half = float(t_ppf(0.5 + ci / 2, n - 1)) * se
    return m, s, se, m - half, m + half


def mean_ci(
    x: ArrayLike,
    *,
    ci: float = 0.95,
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Mean with a Student-t confidence interval.

    Parameters
    ----------
    x : array-like of float
        Values (at least two non-missing).
    ci : float, default 0.95
        Confidence level.
    nan_policy : {"omit", "raise"}, default "omit"
        How NaN values are handled; dropped values are counted in ``n_omitted``.

    Returns
    -------
    pandas.DataFrame
        One row with columns ``n``, ``mean``, ``sd`` (ddof = 1), ``se``, ``ci_low``,
        ``ci_high``, ``dof`` (``n - 1``), ``n_omitted``.

    Notes
    -----
    .. math::

        \bar x \pm t_{1-\alpha/2,\, n-1} \frac{s}{\sqrt n}

    as R's ``t.test(x)$conf.int``.

    References
    ----------
    .. [1] Student (1908). The probable error of a mean. *Biometrika*, 6(1), 1-25.
       https://doi.org/10.2307/2331554

    Examples
    --------
    >>> res = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> res[["mean", "ci_low", "ci_high"]].round(4).to_numpy().tolist()
    [[3.0, 1.0368, 4.9632]]
    """
    ci = _check_ci(ci)
    a, n_omit = _as_1d(x, "x", nan_policy)
    _require_n(a.size, 2, "x")
    m, s, se, lo, hi = _t_interval(a, ci)
    return pd.DataFrame(
        {
            "n": [a.size],
            "mean": [m],
            "sd": [s],
            "se": [se],
            "ci_low": [lo],
            "ci_high": [hi],
            "dof": [a.size - 1],
            "n_omitted": [n_omit],
        }
    )


def paired_difference(
    x: ArrayLike,
    y: ArrayLike,
    *,
    ci: float = 0.95,
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Mean of paired differences ``x - y`` with a t interval and the paired t test.

    Parameters
    ----------
    x : array-like of float
        Values under the condition, one per unit.
    y : array-like of float
        Values under the reference for the same units, in the same order.
    ci : float, default 0.95
        Confidence level.
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"`` drops pairs with a NaN in either member (counted in ``n_omitted``).

    Returns
    -------
    pandas.DataFrame
        One row with columns ``n`` (complete pairs), ``mean_x``, ``mean_y``, ``diff``,
        ``sd_diff``, ``se``, ``ci_low``, ``ci_high``, ``t``, ``dof``, ``p_val`` (two-sided),
        ``n_omitted``.

    Notes
    -----
    With :math:`D_i = x_i - y_i`,

    .. math::

        \bar D \pm t_{1-\alpha/2,\, n-1} \frac{s_D}{\sqrt n}, \qquad
        t = \frac{\bar D}{s_D / \sqrt n}

    as R's ``t.test(x, y, paired = TRUE)`` (checked in
    ``tests/reference/metrics_effect_size.R``). If all differences are equal, ``t`` and
    ``p_val`` are NaN and the interval collapses to the difference.

    References
    ----------
    .. [1] Student (1908). The probable error of a mean. *Biometrika*, 6(1), 1-25.
       https://doi.org/10.2307/2331554

    Examples
    --------
    >>> res = paired_difference([6.0, 7.5, 5.0, 8.0, 7.0], [5.0, 6.0, 5.5, 6.0, 6.0])
    >>> res[["diff", "ci_low", "ci_high"]].round(4).to_numpy().tolist()
    [[1.0, -0.1615, 2.1615]]
    """
    ci = _check_ci(ci)
    a, b, n_omit = _paired_1d(x, y, ("x", "y"), nan_policy)
    _require_n(a.size, 2, "x and y (complete pairs)")
    d = a - b
    m, s, se, lo, hi = _t_interval(d, ci)
    dof = a.size - 1
    if se > 0:
        t = m / se
        p = float(2 * t_sf(abs(t), dof))
    else:
        t = p = float("nan")
    return pd.DataFrame(
        {
            "n": [a.size],
            "mean_x": [float(a.mean())],
            "mean_y": [float(b.mean())],
            "diff": [m],
            "sd_diff": [s],
            "se": [se],
            "ci_low": [lo],
            "ci_high": [hi],
            "t": [t],
            "dof": [dof],
            "p_val": [p],
            "n_omitted": [n_omit],
        }
    )


def _unit_wide(
    data: pd.DataFrame,
    value: str | list[str],
    condition: str,
    units: list[str],
) -> pd.DataFrame:
    """Pivot a condition x unit table to units (rows) x conditions (columns).

    With a list of value columns, the columns are ``(value, condition)`` pairs: one pivot
    for them all, each value's block the same as its own pivot.
    """
    dup = data.duplicated(subset=[condition, *units])
    if dup.any():
        example = data.loc[dup, [condition, *units]].iloc[0].to_dict()
        raise ValueError(
            f"Each ({condition}, {', '.join(units)}) combination must appear once; "
            f"found duplicates, e.g. {example}."
        )
    values = [value] if isinstance(value, str) else list(value)
    keyed = data[[condition, *units, *values]].copy()
    keyed[condition] = keyed[condition].astype(object)
    return keyed.set_index([*units, condition])[value].unstack(condition)


def effect_vs_reference(
    data: pd.DataFrame,
    value: str,
    condition: str,
    reference: Hashable,
    unit: str | Sequence[str],
    *,
    sd: float | None = None,
    ci: float = 0.95,
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Effect of each condition against a reference, from paired unit-level values.

    For each unit (e.g. replicate, or replicate x classroom) take the difference between a
    condition's value and the reference's value for the same unit; report the mean
    difference with a t interval across units and, if ``sd`` is given, the same divided by
    ``sd`` (a standardised effect).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per condition x unit, e.g. classroom-level means.
    value : str
        Numeric column with the unit-level value.
    condition : str
        Column with the condition label (e.g. ``"regime"``).
    reference : hashable
        The reference condition (e.g. ``"standardized"``).
    unit : str or list of str
        Column(s) identifying the unit that is paired across conditions.
    sd : float, optional
        Standardiser, e.g. the student-level SD of the outcome under the reference condition.
        It is treated as a known constant: its sampling error is *not* propagated, so the
        standardised interval is the raw interval divided by ``sd`` and is somewhat too
        narrow when ``sd`` is itself estimated from a small sample.
    ci : float, default 0.95
        Confidence level.
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"`` drops units whose value is missing (or absent) under the condition or the
        reference; the count is in ``n_omitted``.

    Returns
    -------
    pandas.DataFrame
        One row per non-reference condition (in category or sorted order) with columns

        - ``condition``, ``reference``;
        - ``n_units``: complete pairs used;
        - ``mean``, ``mean_ref``: means over those units;
        - ``diff``, ``sd_diff``, ``se``, ``ci_low``, ``ci_high``: mean within-unit difference
          (condition minus reference), its SD, SE and t interval;
        - ``t``, ``dof``, ``p_val``: paired t test across units (two-sided);
        - ``sd_scale``: the ``sd`` passed (NaN if none);
        - ``std_diff``, ``std_ci_low``, ``std_ci_high``: ``diff`` and its limits divided by
          ``sd`` (NaN if none);
        - ``n_omitted``: units present for either condition but not usable as a pair.

    Notes
    -----
    With :math:`D_u = y_{c,u} - y_{ref,u}` over :math:`m` units,

    .. math::

        \bar D \pm t_{1-\alpha/2,\, m-1} \frac{s_D}{\sqrt m}, \qquad
        \delta = \frac{\bar D}{\sigma_{ref}}, \quad
        \left[\frac{\bar D - t\, s_D/\sqrt m}{\sigma_{ref}},\;
              \frac{\bar D + t\, s_D/\sqrt m}{\sigma_{ref}}\right]

    Units, not students, are the independent replications here, so the interval reflects
    the between-unit variability of the effect.

    References
    ----------
    .. [1] Law, A. M. (2015). *Simulation modeling and analysis* (5th ed.), section 10.2
       (comparing two systems with paired-t intervals and common random numbers).
       McGraw-Hill.
    .. [2] Cumming, G. (2012). *Understanding the new statistics*. Routledge.
       https://doi.org/10.4324/9780203807002

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({
    ...     "regime": ["std", "std", "std", "pers", "pers", "pers"],
    ...     "replicate": [1, 2, 3, 1, 2, 3],
    ...     "mean_score": [0.0, 0.1, -0.1, 0.2, 0.4, 0.0],
    ... })
    >>> res = effect_vs_reference(units, "mean_score", "regime", "std", "replicate", sd=0.5)
    >>> res[["condition", "diff", "std_diff"]].round(3).to_numpy().tolist()
    [['pers', 0.2, 0.4]]
    """
    data = _check_frame(data)
    ci = _check_ci(ci)
    _check_nan_policy(nan_policy)
    value = _check_column(data, value, "value")
    condition = _check_column(data, condition, "condition")
    units = _check_columns(data, unit, "unit")
    _check_numeric_column(data, value, "value")
    if condition in units or value in units:
        raise ValueError("unit must not include the value or condition column.")
    if sd is not None:
        if isinstance(sd, bool) or not isinstance(sd, int | float | np.integer | np.floating):
            raise TypeError(f"sd must be a positive number or None, got {type(sd).__name__}.")
        if not (math.isfinite(sd) and sd > 0):
            raise ValueError(f"sd must be a positive finite number, got {sd}.")
    if nan_policy == "raise" and data[value].isna().any():
        raise ValueError(f"value: column {value!r} contains NaN and nan_policy='raise'.")
    order = _group_order(data[condition])
    if reference not in order:
        raise ValueError(f"reference: {reference!r} is not a value of column {condition!r}.")
    wide = _unit_wide(data, value, condition, units)
    ref = wide[reference].to_numpy(dtype=float, na_value=np.nan)
    rows = []
    for cond in order:
        if cond == reference:
            continue
        x = wide[cond].to_numpy(dtype=float, na_value=np.nan)
        present = ~(np.isnan(x) & np.isnan(ref))
        ok = ~(np.isnan(x) | np.isnan(ref))
        a, b = x[ok], ref[ok]
        m = a.size
        _require_n(m, 2, f"complete unit pairs of condition {cond!r} and {reference!r}")
        d = a - b
        dm, ds, se, lo, hi = _t_interval(d, ci)
        dof = m - 1
        if se > 0:
            t = dm / se
            p = float(2 * t_sf(abs(t), dof))
        else:
            t = p = float("nan")
        scale = float(sd) if sd is not None else float("nan")
        rows.append(
            {
                "condition": cond,
                "reference": reference,
                "n_units": m,
                "mean": float(a.mean()),
                "mean_ref": float(b.mean()),
                "diff": dm,
                "sd_diff": ds,
                "se": se,
                "ci_low": lo,
                "ci_high": hi,
                "t": t,
                "dof": dof,
                "p_val": p,
                "sd_scale": scale,
                "std_diff": dm / scale,
                "std_ci_low": lo / scale,
                "std_ci_high": hi / scale,
                "n_omitted": int(present.sum() - m),
            }
        )
    return pd.DataFrame(rows)
