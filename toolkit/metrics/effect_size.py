"""Standardised mean differences with confidence intervals, and a group-comparison table.

Every effect size here is the difference *x minus y* (treatment minus control, condition minus
reference, post minus pre) divided by a standard deviation. Confidence intervals are exact
under normality when ``ci_method="nct"`` (inverting the noncentral t distribution) and
approximate when ``ci_method="normal"`` (estimate plus or minus z times a large-sample standard
error).

This module also holds the small input-checking helpers shared by the other metric modules
(names starting with an underscore; not part of the public API).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from toolkit._base.checks import check_choice as _check_choice
from toolkit._base.checks import check_column as _check_column
from toolkit._base.checks import check_columns as _check_columns
from toolkit._base.checks import check_frame as _check_frame
from toolkit._base.checks import check_level as _check_ci
from toolkit._base.checks import check_nan_policy as _check_nan_policy
from toolkit.metrics.student_t import t_ppf, t_sf

__all__ = [
    "cohen_d",
    "compare_groups",
    "glass_delta",
    "hedges_correction",
    "hedges_g",
    "noncentral_t_ci",
    "paired_d",
]

NanPolicy = Literal["omit", "raise"]
CIMethod = Literal["nct", "normal"]

# ---------------------------------------------------------------------------------------------
# Private helpers shared by the metric modules
# ---------------------------------------------------------------------------------------------


def _to_float_array(x: object, name: str) -> np.ndarray:
    """Convert array-like input to a float ndarray, raising TypeError for non-numeric data."""
    if isinstance(x, pd.Series | pd.Index):
        if pd.api.types.is_bool_dtype(x.dtype) or not pd.api.types.is_numeric_dtype(x.dtype):
            raise TypeError(f"{name} must be numeric, got dtype {x.dtype}.")
        return x.to_numpy(dtype=float, na_value=np.nan)
    if isinstance(x, pd.DataFrame):
        for col in x.columns:
            dt = x[col].dtype
            if pd.api.types.is_bool_dtype(dt) or not pd.api.types.is_numeric_dtype(dt):
                raise TypeError(f"{name}: column {col!r} must be numeric, got dtype {dt}.")
        return x.to_numpy(dtype=float, na_value=np.nan)
    if isinstance(x, str | bytes) or x is None:
        raise TypeError(f"{name} must be array-like of numbers, got {type(x).__name__}.")
    arr = np.asarray(x)
    if arr.dtype.kind not in "iufO":
        raise TypeError(f"{name} must be array-like of real numbers, got dtype {arr.dtype}.")
    try:
        return np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be array-like of real numbers.") from None


def _as_1d(x: object, name: str, nan_policy: str = "omit") -> tuple[np.ndarray, int]:
    """Return the finite values of a 1-D numeric input and the number of NaNs dropped."""
    _check_nan_policy(nan_policy)
    arr = _to_float_array(x, name)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got an array of shape {arr.shape}.")
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains infinite values.")
    nan = np.isnan(arr)
    n_nan = int(nan.sum())
    if n_nan and nan_policy == "raise":
        raise ValueError(f"{name} contains {n_nan} NaN value(s) and nan_policy='raise'.")
    return arr[~nan], n_nan


def _paired_1d(
    x: ArrayLike, y: object, names: tuple[str, str], nan_policy: str = "omit"
) -> tuple[np.ndarray, np.ndarray, int]:
    """Return complete pairs of two equal-length 1-D inputs and the number of pairs dropped."""
    _check_nan_policy(nan_policy)
    arrs = []
    for value, name in zip((x, y), names, strict=True):
        arr = _to_float_array(value, name)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got an array of shape {arr.shape}.")
        if np.isinf(arr).any():
            raise ValueError(f"{name} contains infinite values.")
        arrs.append(arr)
    a, b = arrs
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same length for paired data, "
            f"got {a.size} and {b.size}."
        )
    bad = np.isnan(a) | np.isnan(b)
    n_bad = int(bad.sum())
    if n_bad and nan_policy == "raise":
        raise ValueError(
            f"{n_bad} pair(s) of {names[0]}/{names[1]} contain NaN and nan_policy='raise'."
        )
    return a[~bad], b[~bad], n_bad


def _require_n(n: int, minimum: int, name: str) -> None:
    if n < minimum:
        raise ValueError(f"{name} needs at least {minimum} non-missing values, got {n}.")


def _check_numeric_column(data: pd.DataFrame, col: str, param: str) -> None:
    if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
        raise TypeError(f"{param}: column {col!r} must be numeric, got dtype {data[col].dtype}.")


def _group_order(values: pd.Series) -> list[Hashable]:
    """List groups in category order, else sorted (appearance order if unsortable)."""
    present = values.dropna()
    if isinstance(values.dtype, pd.CategoricalDtype):
        seen = set(present.unique())
        return [c for c in values.cat.categories if c in seen]
    uniq = list(pd.unique(present))
    try:
        return sorted(uniq)
    except TypeError:
        return uniq


# ---------------------------------------------------------------------------------------------
# Noncentral t machinery
# ---------------------------------------------------------------------------------------------


def noncentral_t_ci(t: float, dof: float, ci: float = 0.95) -> tuple[float, float]:
    r"""Confidence interval for the noncentrality parameter of a t statistic.

    Finds the noncentrality parameters :math:`\lambda_L` and :math:`\lambda_U` that put the
    observed statistic at the upper and lower :math:`\alpha/2` tails of the noncentral t
    distribution, by root finding on ``scipy.stats.nct.cdf`` (Brent's method).

    Parameters
    ----------
    t : float
        Observed t statistic (finite).
    dof : float
        Degrees of freedom, at least 1.
    ci : float, default 0.95
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    tuple of float
        ``(ncp_low, ncp_high)``, the confidence limits for the noncentrality parameter.

    Notes
    -----
    With :math:`F(t; \nu, \lambda)` the noncentral t distribution function, which decreases
    in :math:`\lambda`, the limits solve

    .. math::

        F(t_{obs}; \nu, \lambda_L) = 1 - \alpha/2, \qquad F(t_{obs}; \nu, \lambda_U) = \alpha/2.

    Standardised mean differences are rescaled noncentrality parameters, so dividing the limits
    by the same constant that turns the effect size into ``t`` gives its confidence interval
    (the "pivoting" method of Steiger & Fouladi, 1997). This is the algorithm of
    ``MBESS::conf.limits.nct`` and of ``psych::cohen.d.ci`` in R.

    References
    ----------
    .. [1] Steiger, J. H., & Fouladi, R. T. (1997). Noncentrality interval estimation and the
       evaluation of statistical models. In L. L. Harlow, S. A. Mulaik, & J. H. Steiger (Eds.),
       *What if there were no significance tests?* (pp. 221-257). Erlbaum.
    .. [2] Cumming, G., & Finch, S. (2001). A primer on the understanding, use, and calculation
       of confidence intervals that are based on central and noncentral distributions.
       *Educational and Psychological Measurement*, 61(4), 532-574.
       https://doi.org/10.1177/0013164401614002

    Examples
    --------
    >>> lo, hi = noncentral_t_ci(2.5, 30)
    >>> round(lo, 4), round(hi, 4)
    (0.4224, 4.5398)
    """
    from scipy import optimize, stats  # imported here: a run's tables need neither

    ci = _check_ci(ci)
    t = float(t)
    dof = float(dof)
    if not math.isfinite(t):
        raise ValueError(f"t must be finite, got {t}.")
    if not (math.isfinite(dof) and dof >= 1):
        raise ValueError(f"dof must be a finite number of at least 1, got {dof}.")
    alpha = 1.0 - ci

    def cdf(ncp: float) -> float:
        # scipy's nct.cdf returns NaN far in the upper tail (large dof, ncp well below t),
        # where the true value is within rounding of 1; fall back to 1 - sf, then to the limit.
        value = float(stats.nct.cdf(t, dof, ncp))
        if math.isnan(value):
            value = 1.0 - float(stats.nct.sf(t, dof, ncp))
        if math.isnan(value):
            value = 1.0 if ncp < t else 0.0
        return value

    # Start from the normal approximation of the pivot, sd(t) ~ sqrt(1 + t^2 / (2 dof)).
    half_width = stats.norm.ppf(1.0 - alpha / 2.0) * math.sqrt(1.0 + t * t / (2.0 * dof))

    def solve(p: float) -> float:
        def f(ncp: float) -> float:
            return cdf(ncp) - p

        step = 1.0 + 2.0 * half_width
        lo, hi = t - step, t + step
        for _ in range(60):
            if f(lo) > 0:
                break
            lo -= step
        for _ in range(60):
            if f(hi) < 0:
                break
            hi += step
        return float(optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-13, maxiter=500))

    return solve(1.0 - alpha / 2.0), solve(alpha / 2.0)


def hedges_correction(dof: float) -> float:
    r"""Exact small-sample bias correction factor J for a standardised mean difference.

    Parameters
    ----------
    dof : float
        Degrees of freedom of the standardiser (``n_x + n_y - 2`` for a pooled SD,
        ``n - 1`` for one group's SD), greater than 1.

    Returns
    -------
    float
        J, strictly between 0 and 1, tending to 1 as ``dof`` grows.

    Notes
    -----
    .. math::

        J(\nu) = \frac{\Gamma(\nu/2)}{\sqrt{\nu/2}\,\Gamma((\nu - 1)/2)}
        \approx 1 - \frac{3}{4\nu - 1}

    computed on the log scale with ``scipy.special.gammaln`` so that large ``dof`` does not
    overflow.

    References
    ----------
    .. [1] Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and
       related estimators. *Journal of Educational Statistics*, 6(2), 107-128.
       https://doi.org/10.3102/10769986006002107

    Examples
    --------
    >>> round(hedges_correction(10), 6)
    0.922746
    """
    dof = float(dof)
    if not (math.isfinite(dof) and dof > 1):
        raise ValueError(f"dof must be a finite number greater than 1, got {dof}.")
    from scipy import special  # imported here: the study layer's workers never need it

    return float(
        np.exp(special.gammaln(dof / 2) - 0.5 * np.log(dof / 2) - special.gammaln((dof - 1) / 2))
    )


def _ci_from_ncp(t: float, dof: float, scale: float, ci: float) -> tuple[float, float]:
    lo, hi = noncentral_t_ci(t, dof, ci)
    return lo * scale, hi * scale


def _normal_ci(estimate: float, se: float, ci: float) -> tuple[float, float]:
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + ci / 2.0))
    return estimate - z * se, estimate + z * se


def _effect_frame(
    effect: str,
    estimate: float,
    ci_low: float,
    ci_high: float,
    se: float,
    n_x: int,
    n_y: int,
    dof: float,
    ci: float,
    ci_method: str,
    n_omitted: int,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "effect": [effect],
            "estimate": [float(estimate)],
            "ci_low": [float(ci_low)],
            "ci_high": [float(ci_high)],
            "se": [float(se)],
            "n_x": [int(n_x)],
            "n_y": [int(n_y)],
            "dof": [float(dof)],
            "ci_level": [float(ci)],
            "ci_method": [ci_method],
            "n_omitted": [int(n_omitted)],
        }
    )


def _two_sample(
    x: ArrayLike, y: object, names: tuple[str, str], ci: float, ci_method: str, nan_policy: str
) -> tuple[np.ndarray, np.ndarray, int, float]:
    ci = _check_ci(ci)
    _check_choice(ci_method, "ci_method", ("nct", "normal"))
    a, na_a = _as_1d(x, names[0], nan_policy)
    b, na_b = _as_1d(y, names[1], nan_policy)
    _require_n(a.size, 2, names[0])
    _require_n(b.size, 2, names[1])
    return a, b, na_a + na_b, ci


def _pooled_sd(a: np.ndarray, b: np.ndarray) -> float:
    n1, n2 = a.size, b.size
    sp = math.sqrt(((n1 - 1) * np.var(a, ddof=1) + (n2 - 1) * np.var(b, ddof=1)) / (n1 + n2 - 2))
    if sp == 0:
        raise ValueError("The pooled standard deviation is zero: both groups are constant.")
    return sp


def _cohen_parts(
    a: np.ndarray, b: np.ndarray, ci: float, ci_method: str
) -> tuple[float, float, float, float, float]:
    """Return d, ci_low, ci_high, se (normal approximation), dof for two independent groups."""
    n1, n2 = a.size, b.size
    dof = n1 + n2 - 2
    d = (a.mean() - b.mean()) / _pooled_sd(a, b)
    se = math.sqrt((n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2)))
    if ci_method == "nct":
        k = math.sqrt(1 / n1 + 1 / n2)
        lo, hi = _ci_from_ncp(d / k, dof, k, ci)
    else:
        lo, hi = _normal_ci(d, se, ci)
    return float(d), lo, hi, se, float(dof)


# ---------------------------------------------------------------------------------------------
# Public effect sizes
# ---------------------------------------------------------------------------------------------


def cohen_d(
    x: ArrayLike,
    y: ArrayLike,
    *,
    ci: float = 0.95,
    ci_method: CIMethod = "nct",
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Cohen's d for two independent groups, standardised by the pooled SD.

    Parameters
    ----------
    x : array-like of float
        Scores of the first group (treatment, condition). The sign of d is that of
        ``mean(x) - mean(y)``.
    y : array-like of float
        Scores of the second group (control, reference).
    ci : float, default 0.95
        Confidence level.
    ci_method : {"nct", "normal"}, default "nct"
        ``"nct"`` inverts the noncentral t distribution (exact under normality and equal
        variances); ``"normal"`` uses ``d ± z * se``.
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"`` drops NaN from each group (counted in ``n_omitted``); ``"raise"`` raises.

    Returns
    -------
    pandas.DataFrame
        One row with columns

        - ``effect``: ``"cohen_d"``;
        - ``estimate``: d;
        - ``ci_low``, ``ci_high``: confidence limits;
        - ``se``: large-sample standard error (reported for both ``ci_method`` values);
        - ``n_x``, ``n_y``: non-missing group sizes;
        - ``dof``: ``n_x + n_y - 2``;
        - ``ci_level``, ``ci_method``: as requested;
        - ``n_omitted``: number of NaN values dropped.

    Notes
    -----
    .. math::

        d = \frac{\bar x - \bar y}{s_p}, \qquad
        s_p^2 = \frac{(n_x - 1)s_x^2 + (n_y - 1)s_y^2}{n_x + n_y - 2}

    with :math:`s^2` the unbiased (ddof = 1) variances. The noncentral interval uses
    :math:`t = d / \sqrt{1/n_x + 1/n_y}`, :math:`\nu = n_x + n_y - 2` and rescales the limits
    of :func:`noncentral_t_ci`. The normal approximation uses

    .. math::

        SE(d) = \sqrt{\frac{n_x + n_y}{n_x n_y} + \frac{d^2}{2(n_x + n_y)}}.

    Checked against R: the ``hedges.g`` element of ``psych::cohen.d`` (psych 2.2.9), which
    despite its name is this uncorrected pooled-SD d with a noncentral interval; psych's own
    ``cohen.d`` element divides the pooled sum of squares by :math:`n_x + n_y` instead. See
    ``tests/reference/metrics_effect_size.R``.

    References
    ----------
    .. [1] Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.).
       Erlbaum. https://doi.org/10.4324/9780203771587
    .. [2] Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
       *Introduction to meta-analysis*, ch. 4. Wiley. https://doi.org/10.1002/9780470743386
    .. [3] Steiger, J. H. (2004). Beyond the F test: Effect size confidence intervals and tests
       of close fit in the analysis of variance and contrast analysis. *Psychological
       Methods*, 9(2), 164-182. https://doi.org/10.1037/1082-989X.9.2.164

    Examples
    --------
    >>> res = cohen_d([5.0, 6.0, 7.0, 8.0], [4.0, 5.0, 6.0, 5.0])
    >>> res[["estimate", "ci_low", "ci_high"]].round(3).to_numpy().tolist()
    [[1.389, -0.238, 2.931]]
    """
    a, b, n_omit, ci = _two_sample(x, y, ("x", "y"), ci, ci_method, nan_policy)
    d, lo, hi, se, dof = _cohen_parts(a, b, ci, ci_method)
    return _effect_frame("cohen_d", d, lo, hi, se, a.size, b.size, dof, ci, ci_method, n_omit)


def hedges_g(
    x: ArrayLike,
    y: ArrayLike,
    *,
    ci: float = 0.95,
    ci_method: CIMethod = "nct",
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Hedges' g: Cohen's d times the exact small-sample correction J.

    Parameters
    ----------
    x : array-like of float
        Scores of the first group; the sign of g is that of ``mean(x) - mean(y)``.
    y : array-like of float
        Scores of the second (reference) group.
    ci : float, default 0.95
        Confidence level.
    ci_method : {"nct", "normal"}, default "nct"
        ``"nct"``: the noncentral interval for d multiplied by J; ``"normal"``: ``g ± z * se``.
    nan_policy : {"omit", "raise"}, default "omit"
        How NaN values are handled; dropped values are counted in ``n_omitted``.

    Returns
    -------
    pandas.DataFrame
        One row, columns as in :func:`cohen_d` with ``effect = "hedges_g"``:
        ``effect``, ``estimate``, ``ci_low``, ``ci_high``, ``se``, ``n_x``, ``n_y``, ``dof``,
        ``ci_level``, ``ci_method``, ``n_omitted``.

    Notes
    -----
    .. math::

        g = J(\nu)\, d, \qquad
        J(\nu) = \frac{\Gamma(\nu/2)}{\sqrt{\nu/2}\,\Gamma((\nu-1)/2)}, \qquad
        \nu = n_x + n_y - 2, \qquad SE(g) = J(\nu)\, SE(d)

    (see :func:`hedges_correction`). J is a constant given the sample sizes, so the
    noncentral limits for g are J times those for d. Checked against base-R algebra
    (``gamma()`` and ``pt()`` with ``uniroot``) in ``tests/reference/metrics_effect_size.R``.

    References
    ----------
    .. [1] Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and
       related estimators. *Journal of Educational Statistics*, 6(2), 107-128.
       https://doi.org/10.3102/10769986006002107
    .. [2] Hedges, L. V., & Olkin, I. (1985). *Statistical methods for meta-analysis*.
       Academic Press. https://doi.org/10.1016/C2009-0-03396-0

    Examples
    --------
    >>> res = hedges_g([5.0, 6.0, 7.0, 8.0], [4.0, 5.0, 6.0, 5.0])
    >>> round(float(res["estimate"].iloc[0]), 3)
    1.206
    """
    a, b, n_omit, ci = _two_sample(x, y, ("x", "y"), ci, ci_method, nan_policy)
    d, lo, hi, se, dof = _cohen_parts(a, b, ci, ci_method)
    j = hedges_correction(dof)
    return _effect_frame(
        "hedges_g", j * d, j * lo, j * hi, j * se, a.size, b.size, dof, ci, ci_method, n_omit
    )


def glass_delta(
    x: ArrayLike,
    reference: ArrayLike,
    *,
    ci: float = 0.95,
    ci_method: CIMethod = "nct",
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Glass's delta: mean difference divided by the SD of the reference (control) group.

    Useful when the treatment may change the spread, so that only the reference group's SD is
    a fair yardstick (e.g. standardizing by the standardized regime's SD).

    Parameters
    ----------
    x : array-like of float
        Scores of the treatment group.
    reference : array-like of float
        Scores of the reference (control) group, whose SD standardises the difference.
    ci : float, default 0.95
        Confidence level.
    ci_method : {"nct", "normal"}, default "nct"
        ``"nct"``: noncentral t with :math:`\nu = n_{ref} - 1`, which assumes the two
        population SDs are equal; ``"normal"``: ``delta ± z * se``.
    nan_policy : {"omit", "raise"}, default "omit"
        How NaN values are handled; dropped values are counted in ``n_omitted``.

    Returns
    -------
    pandas.DataFrame
        One row, columns as in :func:`cohen_d` with ``effect = "glass_delta"``,
        ``n_y`` = size of ``reference`` and ``dof = n_ref - 1``:
        ``effect``, ``estimate``, ``ci_low``, ``ci_high``, ``se``, ``n_x``, ``n_y``, ``dof``,
        ``ci_level``, ``ci_method``, ``n_omitted``.

    Notes
    -----
    .. math::

        \Delta = \frac{\bar x - \bar y_{ref}}{s_{ref}}, \qquad
        SE(\Delta) = \sqrt{\frac{n_x + n_{ref}}{n_x n_{ref}} + \frac{\Delta^2}{2(n_{ref} - 1)}}

    The noncentral interval inverts :math:`t = \Delta / \sqrt{1/n_x + 1/n_{ref}}` on
    :math:`n_{ref} - 1` degrees of freedom. That is exact only if both groups share the
    reference SD; with unequal SDs prefer the normal interval or a bootstrap (Algina et al.,
    2006). Checked against base-R algebra in ``tests/reference/metrics_effect_size.R``.

    References
    ----------
    .. [1] Glass, G. V., McGaw, B., & Smith, M. L. (1981). *Meta-analysis in social research*.
       Sage.
    .. [2] Hedges, L. V., & Olkin, I. (1985). *Statistical methods for meta-analysis*.
       Academic Press. https://doi.org/10.1016/C2009-0-03396-0
    .. [3] Algina, J., Keselman, H. J., & Penfield, R. D. (2006). Confidence intervals for an
       effect size when variances are not equal. *Journal of Modern Applied Statistical
       Methods*, 5(1), 2-13. https://doi.org/10.22237/jmasm/1146456060

    Examples
    --------
    >>> res = glass_delta([5.0, 6.0, 7.0, 8.0], [4.0, 5.0, 6.0, 5.0])
    >>> round(float(res["estimate"].iloc[0]), 3)
    1.837
    """
    a, b, n_omit, ci = _two_sample(x, reference, ("x", "reference"), ci, ci_method, nan_policy)
    n1, n2 = a.size, b.size
    s_ref = float(np.std(b, ddof=1))
    if s_ref == 0:
        raise ValueError("reference has zero standard deviation; Glass's delta is undefined.")
    delta = (a.mean() - b.mean()) / s_ref
    dof = n2 - 1
    se = math.sqrt((n1 + n2) / (n1 * n2) + delta**2 / (2 * dof))
    if ci_method == "nct":
        k = math.sqrt(1 / n1 + 1 / n2)
        lo, hi = _ci_from_ncp(delta / k, dof, k, ci)
    else:
        lo, hi = _normal_ci(delta, se, ci)
    return _effect_frame("glass_delta", delta, lo, hi, se, n1, n2, dof, ci, ci_method, n_omit)


def paired_d(
    x: ArrayLike,
    y: ArrayLike,
    *,
    kind: Literal["z", "av"] = "z",
    ci: float = 0.95,
    ci_method: CIMethod = "nct",
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Standardised mean difference for paired data (d_z or d_av).

    Parameters
    ----------
    x : array-like of float
        Scores under the condition (e.g. post-test), one per unit.
    y : array-like of float
        Scores under the reference (e.g. pre-test) for the same units in the same order.
    kind : {"z", "av"}, default "z"
        ``"z"``: mean difference over the SD of the differences (:math:`d_z`);
        ``"av"``: mean difference over the average of the two SDs (:math:`d_{av}`), which is
        on the same scale as a between-groups d.
    ci : float, default 0.95
        Confidence level.
    ci_method : {"nct", "normal"}, default "nct"
        ``"nct"`` is exact for :math:`d_z` only; for ``kind="av"`` only ``"normal"`` is
        available and ``"nct"`` raises ``ValueError``.
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"`` drops pairs with a NaN in either member (counted in ``n_omitted``).

    Returns
    -------
    pandas.DataFrame
        One row with columns ``effect`` (``"d_z"`` or ``"d_av"``), ``estimate``,
        ``ci_low``, ``ci_high``, ``se``, ``n_x`` and ``n_y`` (both the number of complete
        pairs), ``dof`` (``n - 1``), ``ci_level``, ``ci_method``, ``n_omitted``.

    Notes
    -----
    With :math:`D_i = x_i - y_i`,

    .. math::

        d_z = \frac{\bar D}{s_D}, \qquad t = d_z\sqrt{n}, \quad \nu = n - 1, \qquad
        SE(d_z) = \sqrt{\frac{1}{n} + \frac{d_z^2}{2n}}

    .. math::

        d_{av} = \frac{\bar D}{(s_x + s_y)/2}, \qquad
        SE(d_{av}) \approx \sqrt{\left(\frac{1}{n} + \frac{d_{av}^2}{2n}\right) 2(1 - r_{xy})}

    the second being Borenstein et al.'s (2009, eq. 4.28) approximation. :math:`d_z` is not
    comparable with a between-groups d: it grows with the correlation between x and y.
    The d_z interval was checked against ``psych::d.ci(dz, n1 = n)`` and base-R algebra.

    References
    ----------
    .. [1] Lakens, D. (2013). Calculating and reporting effect sizes to facilitate cumulative
       science: a practical primer for t-tests and ANOVAs. *Frontiers in Psychology*, 4, 863.
       https://doi.org/10.3389/fpsyg.2013.00863
    .. [2] Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
       *Introduction to meta-analysis*, ch. 4. Wiley. https://doi.org/10.1002/9780470743386

    Examples
    --------
    >>> post = [6.0, 7.5, 5.0, 8.0, 7.0]
    >>> pre = [5.0, 6.0, 5.5, 6.0, 6.0]
    >>> res = paired_d(post, pre)
    >>> res[["effect", "estimate"]].round(3).to_numpy().tolist()
    [['d_z', 1.069]]
    """
    ci = _check_ci(ci)
    _check_choice(kind, "kind", ("z", "av"))
    _check_choice(ci_method, "ci_method", ("nct", "normal"))
    a, b, n_omit = _paired_1d(x, y, ("x", "y"), nan_policy)
    n = a.size
    _require_n(n, 3, "x and y (complete pairs)")
    diff = a - b
    dof = n - 1
    if kind == "z":
        sd_d = float(np.std(diff, ddof=1))
        if sd_d == 0:
            raise ValueError("The differences x - y are constant; d_z is undefined.")
        d = float(diff.mean() / sd_d)
        se = math.sqrt(1 / n + d**2 / (2 * n))
        if ci_method == "nct":
            lo, hi = _ci_from_ncp(d * math.sqrt(n), dof, 1 / math.sqrt(n), ci)
        else:
            lo, hi = _normal_ci(d, se, ci)
        return _effect_frame("d_z", d, lo, hi, se, n, n, dof, ci, ci_method, n_omit)
    if ci_method == "nct":
        raise ValueError(
            "ci_method='nct' is not available for kind='av' (d_av has no exact noncentral t "
            "interval); use ci_method='normal' or kind='z'."
        )
    s_av = (np.std(a, ddof=1) + np.std(b, ddof=1)) / 2
    if s_av == 0:
        raise ValueError("x and y are both constant; d_av is undefined.")
    d = float(diff.mean() / s_av)
    r = float(np.corrcoef(a, b)[0, 1]) if np.std(a) > 0 and np.std(b) > 0 else 0.0
    se = math.sqrt((1 / n + d**2 / (2 * n)) * 2 * (1 - r))
    lo, hi = _normal_ci(d, se, ci)
    return _effect_frame("d_av", d, lo, hi, se, n, n, dof, ci, ci_method, n_omit)


# ---------------------------------------------------------------------------------------------
# Group comparison table
# ---------------------------------------------------------------------------------------------

_COMPARE_COLUMNS = [
    "group",
    "reference",
    "n",
    "n_ref",
    "mean",
    "mean_ref",
    "sd",
    "sd_ref",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "t",
    "dof",
    "p_val",
    "test",
    "d_type",
    "cohen_d",
    "d_ci_low",
    "d_ci_high",
    "hedges_g",
    "g_ci_low",
    "g_ci_high",
    "n_omitted",
]


def compare_groups(
    data: pd.DataFrame,
    dv: str,
    group: str,
    reference: Hashable | None = None,
    paired_on: str | Sequence[str] | None = None,
    *,
    ci: float = 0.95,
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Compare every group with a reference group: mean difference, t test and effect sizes.

    This signature is part of the stable API (the survey helpers call it); new options will
    only ever be added as keyword-only arguments with defaults.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table, one row per observation.
    dv : str
        Numeric outcome column.
    group : str
        Column holding the group labels. Rows whose group is missing are ignored.
    reference : hashable, optional
        The group everything is compared with. Default: the first group, in category order
        if ``group`` is categorical, otherwise in sorted order.
    paired_on : str or list of str, optional
        Column(s) identifying the unit observed in every group (student, classroom,
        replicate...). If given, comparisons are paired: units are matched on these columns,
        the test is the paired t test and the effect size is :math:`d_z`. Each unit must
        appear at most once per group.
    ci : float, default 0.95
        Confidence level for all intervals.
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"`` drops rows with a missing ``dv`` (and, when paired, units missing in either
        group); the number dropped for each comparison is in ``n_omitted``.

    Returns
    -------
    pandas.DataFrame
        One row per non-reference group, in group order, with columns

        - ``group``, ``reference``: the two groups compared;
        - ``n``, ``n_ref``: observations used (complete pairs when paired);
        - ``mean``, ``mean_ref``, ``sd``, ``sd_ref``: descriptives (SD with ddof = 1);
        - ``diff``: ``mean - mean_ref``; ``diff_ci_low``, ``diff_ci_high``: its t interval;
        - ``t``, ``dof``, ``p_val``: Welch's t test (unpaired) or the paired t test, two-sided;
        - ``test``: ``"welch"`` or ``"paired"``;
        - ``d_type``: ``"d_s"`` (pooled-SD d, unpaired) or ``"d_z"`` (paired);
        - ``cohen_d``, ``d_ci_low``, ``d_ci_high``: d with its noncentral t interval;
        - ``hedges_g``, ``g_ci_low``, ``g_ci_high``: J times d and its interval;
        - ``n_omitted``: rows (unpaired) or rows of unmatched/incomplete units (paired)
          of the two groups that were dropped.

    Notes
    -----
    Unpaired: the difference is tested with Welch's t,

    .. math::

        t = \frac{\bar x - \bar y}{\sqrt{s_x^2/n_x + s_y^2/n_y}}, \qquad
        \nu = \frac{(s_x^2/n_x + s_y^2/n_y)^2}{\frac{(s_x^2/n_x)^2}{n_x - 1} +
        \frac{(s_y^2/n_y)^2}{n_y - 1}},

    while d uses the pooled SD (see :func:`cohen_d`, :func:`hedges_g`), so the p value does
    not assume equal variances but the standardiser does. Paired: :math:`t = \bar D /
    (s_D/\sqrt n)` on :math:`n - 1` degrees of freedom and d is :math:`d_z` (see
    :func:`paired_d`), with :math:`g_z = J(n - 1)\, d_z`. For standardising by the reference
    group's SD use :func:`glass_delta`.

    References
    ----------
    .. [1] Welch, B. L. (1947). The generalization of "Student's" problem when several
       different population variances are involved. *Biometrika*, 34(1-2), 28-35.
       https://doi.org/10.1093/biomet/34.1-2.28
    .. [2] Lakens, D. (2013). Calculating and reporting effect sizes to facilitate cumulative
       science. *Frontiers in Psychology*, 4, 863. https://doi.org/10.3389/fpsyg.2013.00863

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "regime": ["std"] * 4 + ["pers"] * 4,
    ...     "score": [4.0, 5.0, 6.0, 5.0, 5.0, 6.0, 7.0, 8.0],
    ... })
    >>> res = compare_groups(df, dv="score", group="regime", reference="std")
    >>> res[["group", "reference", "n", "diff", "cohen_d"]].round(3).to_numpy().tolist()
    [['pers', 'std', 4, 1.5, 1.389]]
    """
    data = _check_frame(data)
    ci = _check_ci(ci)
    _check_nan_policy(nan_policy)
    dv = _check_column(data, dv, "dv")
    group = _check_column(data, group, "group")
    _check_numeric_column(data, dv, "dv")
    pair_cols = None if paired_on is None else _check_columns(data, paired_on, "paired_on")
    if pair_cols is not None and (dv in pair_cols or group in pair_cols):
        raise ValueError("paired_on must not include the dv or group column.")
    if np.isinf(data[dv].to_numpy(dtype=float, na_value=np.nan)).any():
        raise ValueError(f"dv: column {dv!r} contains infinite values.")
    if nan_policy == "raise" and data[dv].isna().any():
        raise ValueError(f"dv: column {dv!r} contains NaN and nan_policy='raise'.")

    order = _group_order(data[group])
    if len(order) < 2:
        raise ValueError(f"group: column {group!r} must contain at least two groups.")
    if reference is None:
        reference = order[0]
    elif reference not in order:
        raise ValueError(f"reference: {reference!r} is not a value of column {group!r}.")

    rows = []
    ref_rows = data.loc[data[group] == reference]
    for g in order:
        if g == reference:
            continue
        g_rows = data.loc[data[group] == g]
        if pair_cols is None:
            rows.append(_welch_row(g_rows[dv], ref_rows[dv], g, reference, ci))
        else:
            rows.append(_paired_row(g_rows, ref_rows, dv, pair_cols, g, reference, ci))
    return pd.DataFrame(rows, columns=_COMPARE_COLUMNS)


def _welch_row(
    xs: pd.Series, ys: pd.Series, g: Hashable, reference: Hashable, ci: float
) -> dict[str, object]:
    a, na_a = _as_1d(xs, f"dv in group {g!r}")
    b, na_b = _as_1d(ys, f"dv in reference group {reference!r}")
    _require_n(a.size, 2, f"dv in group {g!r}")
    _require_n(b.size, 2, f"dv in reference group {reference!r}")
    n1, n2 = a.size, b.size
    v1, v2 = np.var(a, ddof=1) / n1, np.var(b, ddof=1) / n2
    se = math.sqrt(v1 + v2)
    if se == 0:
        raise ValueError(f"dv is constant in both group {g!r} and reference {reference!r}.")
    dof = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    d, dlo, dhi, _, ddof = _cohen_parts(a, b, ci, "nct")
    return _comparison_row(
        g,
        reference,
        a,
        b,
        diff=float(a.mean() - b.mean()),
        se=se,
        dof=dof,
        ci=ci,
        test="welch",
        d_type="d_s",
        d_with_ci=(d, dlo, dhi),
        j=hedges_correction(ddof),
        n_omitted=na_a + na_b,
    )


def _paired_row(
    g_rows: pd.DataFrame,
    ref_rows: pd.DataFrame,
    dv: str,
    pair_cols: list[str],
    g: Hashable,
    reference: Hashable,
    ci: float,
) -> dict[str, object]:
    for rows, label in ((g_rows, f"group {g!r}"), (ref_rows, f"reference group {reference!r}")):
        if rows.duplicated(subset=pair_cols).any():
            raise ValueError(
                f"paired_on: units {pair_cols} are not unique within {label}; "
                "each unit must appear at most once per group."
            )
    merged = g_rows[[*pair_cols, dv]].merge(
        ref_rows[[*pair_cols, dv]], on=pair_cols, how="outer", suffixes=("_x", "_y")
    )
    x = merged[f"{dv}_x"].to_numpy(dtype=float, na_value=np.nan)
    y = merged[f"{dv}_y"].to_numpy(dtype=float, na_value=np.nan)
    ok = ~(np.isnan(x) | np.isnan(y))
    a, b = x[ok], y[ok]
    n = a.size
    _require_n(n, 3, f"complete pairs of group {g!r} and reference {reference!r}")
    n_omitted = len(g_rows) + len(ref_rows) - 2 * n
    diff_v = a - b
    sd_d = float(np.std(diff_v, ddof=1))
    if sd_d == 0:
        raise ValueError(f"Differences between group {g!r} and {reference!r} are constant.")
    diff = float(diff_v.mean())
    dof = n - 1
    dz = diff / sd_d
    dlo, dhi = _ci_from_ncp(dz * math.sqrt(n), dof, 1 / math.sqrt(n), ci)
    j = hedges_correction(dof) if dof > 1 else float("nan")
    return _comparison_row(
        g,
        reference,
        a,
        b,
        diff=diff,
        se=sd_d / math.sqrt(n),
        dof=dof,
        ci=ci,
        test="paired",
        d_type="d_z",
        d_with_ci=(float(dz), dlo, dhi),
        j=j,
        n_omitted=int(n_omitted),
    )


def _comparison_row(
    g: Hashable,
    reference: Hashable,
    a: np.ndarray,
    b: np.ndarray,
    *,
    diff: float,
    se: float,
    dof: float,
    ci: float,
    test: str,
    d_type: str,
    d_with_ci: tuple[float, float, float],
    j: float,
    n_omitted: int,
) -> dict[str, object]:
    """One row of :func:`compare_groups`: t test of ``diff`` with ``se`` and ``dof``, and d."""
    t = diff / se
    tcrit = float(t_ppf(0.5 + ci / 2, dof))
    d, dlo, dhi = d_with_ci
    return {
        "group": g,
        "reference": reference,
        "n": a.size,
        "n_ref": b.size,
        "mean": float(a.mean()),
        "mean_ref": float(b.mean()),
        "sd": float(np.std(a, ddof=1)),
        "sd_ref": float(np.std(b, ddof=1)),
        "diff": diff,
        "diff_ci_low": diff - tcrit * se,
        "diff_ci_high": diff + tcrit * se,
        "t": float(t),
        "dof": float(dof),
        "p_val": float(2 * t_sf(abs(t), dof)),
        "test": test,
        "d_type": d_type,
        "cohen_d": d,
        "d_ci_low": dlo,
        "d_ci_high": dhi,
        "hedges_g": j * d,
        "g_ci_low": j * dlo,
        "g_ci_high": j * dhi,
        "n_omitted": n_omitted,
    }
