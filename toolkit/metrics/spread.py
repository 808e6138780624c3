"""Spread and inequality of outcomes: SD, variance ratio, CV, Gini, percentile gaps, Matthew effect.

All functions take one-dimensional array-likes (lists, numpy arrays, pandas Series) and
drop NaN by default (``nan_policy="omit"``); ``nan_policy="raise"`` raises instead.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from toolkit.metrics.effect_size import (
    NanPolicy,
    _as_1d,
    _check_choice,
    _check_ci,
    _paired_1d,
    _require_n,
)

__all__ = [
    "coefficient_of_variation",
    "gini",
    "matthew_effect",
    "percentile_gap",
    "sd",
    "variance_ratio",
]

Shift = float | Literal["min"] | None


def _check_ddof(ddof: int) -> int:
    if isinstance(ddof, bool) or not isinstance(ddof, int | np.integer) or ddof < 0:
        raise ValueError(f"ddof must be a non-negative integer, got {ddof!r}.")
    return int(ddof)


def _apply_shift(a: np.ndarray, shift: Shift) -> np.ndarray:
    if shift is None:
        return a
    if isinstance(shift, str):
        if shift != "min":
            raise ValueError(f"shift must be None, 'min' or a number, got {shift!r}.")
        return a - a.min()
    if isinstance(shift, bool) or not isinstance(shift, int | float | np.integer | np.floating):
        raise TypeError(f"shift must be None, 'min' or a number, got {type(shift).__name__}.")
    if not math.isfinite(float(shift)):
        raise ValueError(f"shift must be finite, got {shift}.")
    return a - float(shift)


def sd(x: ArrayLike, ddof: int = 1, *, nan_policy: NanPolicy = "omit") -> float:
    r"""Compute the standard deviation.

    Parameters
    ----------
    x : array-like of float
        Values.
    ddof : int, default 1
        Delta degrees of freedom: the divisor is ``n - ddof``. The default 1 gives the
        sample SD (unbiased variance), as R's ``sd()``; use 0 for the population SD
        (numpy's default).
    nan_policy : {"omit", "raise"}, default "omit"
        How NaN values are handled.

    Returns
    -------
    float
        The standard deviation of the non-missing values.

    Notes
    -----
    .. math::

        s = \sqrt{\frac{1}{n - \mathrm{ddof}} \sum_{i=1}^n (x_i - \bar x)^2}

    References
    ----------
    .. [1] Everitt, B. S., & Skrondal, A. (2010). *The Cambridge dictionary of statistics*
       (4th ed.), "standard deviation". Cambridge University Press.
       https://doi.org/10.1017/CBO9780511779633

    Examples
    --------
    >>> sd([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], ddof=0)
    2.0
    """
    ddof = _check_ddof(ddof)
    a, _ = _as_1d(x, "x", nan_policy)
    _require_n(a.size, ddof + 1, "x")
    return float(np.std(a, ddof=ddof))


def variance_ratio(
    x: ArrayLike,
    reference: ArrayLike,
    *,
    ci: float = 0.95,
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Ratio of the variance of ``x`` to that of ``reference``, with an F-based interval.

    A ratio above 1 means ``x`` is more spread out than the reference (e.g. a regime widens
    the distribution of outcomes relative to the standardized regime).

    Parameters
    ----------
    x : array-like of float
        Values of the group of interest.
    reference : array-like of float
        Values of the reference group.
    ci : float, default 0.95
        Confidence level.
    nan_policy : {"omit", "raise"}, default "omit"
        How NaN values are handled; dropped values are counted in ``n_omitted``.

    Returns
    -------
    pandas.DataFrame
        One row with columns

        - ``variance_ratio``: :math:`s_x^2 / s_{ref}^2`;
        - ``ci_low``, ``ci_high``: F-based confidence limits for the ratio;
        - ``sd_ratio``, ``sd_ci_low``, ``sd_ci_high``: square roots of the above;
        - ``f``: the F statistic (equal to ``variance_ratio``), ``dof_num``, ``dof_den``;
        - ``p_val``: two-sided p value of the F test of equal variances;
        - ``n_x``, ``n_ref``: non-missing sizes; ``n_omitted``: NaN values dropped.

    Notes
    -----
    With sample variances (ddof = 1) and :math:`F_p(\nu_1, \nu_2)` the F quantile,
    :math:`\nu_1 = n_x - 1`, :math:`\nu_2 = n_{ref} - 1`,

    .. math::

        \hat\rho = \frac{s_x^2}{s_{ref}^2}, \qquad
        \left[\frac{\hat\rho}{F_{1-\alpha/2}(\nu_1, \nu_2)},\;
        \frac{\hat\rho}{F_{\alpha/2}(\nu_1, \nu_2)}\right]

    and :math:`p = 2\min\{F(\hat\rho), 1 - F(\hat\rho)\}`. This is R's ``var.test`` (checked
    in ``tests/reference/metrics_effect_size.R``). The F interval assumes normal data and is
    not robust to heavy tails; for non-normal outcomes prefer a bootstrap or a comparison of
    SDs across replicate units with :func:`toolkit.metrics.compare_conditions`.

    References
    ----------
    .. [1] Snedecor, G. W., & Cochran, W. G. (1989). *Statistical methods* (8th ed.),
       section 6.12. Iowa State University Press.
    .. [2] Box, G. E. P. (1953). Non-normality and tests on variances. *Biometrika*,
       40(3/4), 318-335. https://doi.org/10.1093/biomet/40.3-4.318

    Examples
    --------
    >>> res = variance_ratio([1.0, 3.0, 5.0, 7.0], [2.0, 3.0, 4.0, 5.0])
    >>> round(float(res["variance_ratio"].iloc[0]), 3)
    4.0
    """
    from scipy import stats  # imported here: a run's tables do not need it

    ci = _check_ci(ci)
    a, na_a = _as_1d(x, "x", nan_policy)
    b, na_b = _as_1d(reference, "reference", nan_policy)
    _require_n(a.size, 2, "x")
    _require_n(b.size, 2, "reference")
    v_ref = float(np.var(b, ddof=1))
    if v_ref == 0:
        raise ValueError("reference has zero variance; the variance ratio is undefined.")
    ratio = float(np.var(a, ddof=1)) / v_ref
    df1, df2 = a.size - 1, b.size - 1
    alpha = 1 - ci
    lo = ratio / float(stats.f.ppf(1 - alpha / 2, df1, df2))
    hi = ratio / float(stats.f.ppf(alpha / 2, df1, df2))
    cdf = float(stats.f.cdf(ratio, df1, df2))
    p = min(1.0, 2 * min(cdf, 1 - cdf))
    return pd.DataFrame(
        {
            "variance_ratio": [ratio],
            "ci_low": [lo],
            "ci_high": [hi],
            "sd_ratio": [math.sqrt(ratio)],
            "sd_ci_low": [math.sqrt(lo)],
            "sd_ci_high": [math.sqrt(hi)],
            "f": [ratio],
            "dof_num": [df1],
            "dof_den": [df2],
            "p_val": [p],
            "n_x": [a.size],
            "n_ref": [b.size],
            "n_omitted": [na_a + na_b],
        }
    )


def coefficient_of_variation(
    x: ArrayLike,
    ddof: int = 1,
    *,
    shift: Shift = None,
    nan_policy: NanPolicy = "omit",
) -> float:
    r"""Coefficient of variation: SD divided by the mean.

    Only meaningful on a ratio scale (a scale with a natural zero). Scores standardised to
    mean 0 have no such zero: shift them first (see ``shift``).

    Parameters
    ----------
    x : array-like of float
        Values.
    ddof : int, default 1
        Delta degrees of freedom of the SD (see :func:`sd`).
    shift : float, "min" or None, default None
        Value subtracted from every observation before computing, i.e. the score that counts
        as zero: ``shift=-4`` measures z-scores from -4 SD; ``"min"`` subtracts the sample
        minimum (the result then depends on the sample's lowest value).
    nan_policy : {"omit", "raise"}, default "omit"
        How NaN values are handled.

    Returns
    -------
    float
        :math:`s / \bar x` of the (shifted) values.

    Raises
    ------
    ValueError
        If the (shifted) mean is not positive.

    Notes
    -----
    .. math::

        CV = \frac{s}{\bar x}, \qquad s \text{ with divisor } n - \mathrm{ddof}

    References
    ----------
    .. [1] Everitt, B. S., & Skrondal, A. (2010). *The Cambridge dictionary of statistics*
       (4th ed.), "coefficient of variation". Cambridge University Press.
       https://doi.org/10.1017/CBO9780511779633

    Examples
    --------
    >>> coefficient_of_variation([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], ddof=0)
    0.4
    """
    ddof = _check_ddof(ddof)
    a, _ = _as_1d(x, "x", nan_policy)
    _require_n(a.size, ddof + 1, "x")
    a = _apply_shift(a, shift)
    m = float(a.mean())
    if m <= 0:
        raise ValueError(
            f"The mean of x (after shift) is {m:.4g}; the coefficient of variation needs a "
            "positive mean. Put x on a scale with a natural zero or pass shift=."
        )
    return float(np.std(a, ddof=ddof) / m)


def gini(
    x: ArrayLike,
    correction: bool = False,
    *,
    shift: Shift = None,
    nan_policy: NanPolicy = "omit",
) -> float:
    r"""Gini coefficient of inequality.

    Parameters
    ----------
    x : array-like of float
        Non-negative values (after ``shift``).
    correction : bool, default False
        ``False``: population form (mean absolute difference over all :math:`n^2` ordered
        pairs, self-pairs included), so ``gini([0, 0, 0, 1]) == 0.75``. ``True``: multiply by
        :math:`n/(n-1)`, the unbiased sample form (``gini([0, 0, 0, 1], True) == 1.0``).
    shift : float, "min" or None, default None
        Value subtracted from every observation before computing, i.e. the score that counts
        as zero. Gini is defined for non-negative quantities on a ratio scale; achievement
        scores on an SD scale can be negative, so callers must choose a zero: ``shift=-4``
        measures z-scores from -4 SD, ``shift="min"`` subtracts the sample minimum. The Gini
        depends on this choice; compare groups only with a common numeric shift.
    nan_policy : {"omit", "raise"}, default "omit"
        How NaN values are handled.

    Returns
    -------
    float
        Gini coefficient in [0, 1] (population form, at most :math:`1 - 1/n`); NaN if
        every (shifted) value is zero, where it is undefined.

    Raises
    ------
    ValueError
        If any (shifted) value is negative.

    Notes
    -----
    .. math::

        G = \frac{\sum_{i=1}^n \sum_{j=1}^n |x_i - x_j|}{2 n^2 \bar x}
          = \frac{2 \sum_{i=1}^n i\, x_{(i)}}{n \sum_i x_i} - \frac{n + 1}{n},
        \qquad G_{corrected} = \frac{n}{n - 1} G

    with :math:`x_{(i)}` the values sorted in increasing order.

    References
    ----------
    .. [1] Gini, C. (1912). *Variabilità e mutabilità*. Tipografia di Paolo Cuppini.
    .. [2] Damgaard, C., & Weiner, J. (2000). Describing inequality in plant size or
       fecundity. *Ecology*, 81(4), 1139-1142.
       https://doi.org/10.1890/0012-9658(2000)081[1139:DIIPSO]2.0.CO;2

    Examples
    --------
    >>> gini([0, 0, 0, 1])
    0.75
    >>> gini([0, 0, 0, 1], correction=True)
    1.0
    >>> round(gini([-1.0, 0.0, 1.0], shift=-2.0), 6)
    0.222222
    """
    if not isinstance(correction, bool | np.bool_):
        raise TypeError(f"correction must be True or False, got {correction!r}.")
    a, _ = _as_1d(x, "x", nan_policy)
    _require_n(a.size, 2 if correction else 1, "x")
    a = _apply_shift(a, shift)
    if (a < 0).any():
        raise ValueError(
            f"x has {int((a < 0).sum())} negative value(s) (after shift); the Gini coefficient "
            "needs non-negative values on a scale with a natural zero. Shift the scores, e.g. "
            "shift='min' or shift=<the score that counts as zero>."
        )
    total = float(a.sum())
    if total == 0:
        return float("nan")
    n = a.size
    ranks = np.arange(1, n + 1)
    g = 2.0 * float(np.sum(ranks * np.sort(a))) / (n * total) - (n + 1) / n
    g = max(g, 0.0)  # guard against -1e-17 from rounding for equal values
    if correction:
        g *= n / (n - 1)
    return float(g)


def percentile_gap(
    x: ArrayLike,
    upper: float = 90,
    lower: float = 10,
    *,
    nan_policy: NanPolicy = "omit",
) -> float:
    r"""Difference between two percentiles, e.g. the 90/10 or 75/25 gap.

    Parameters
    ----------
    x : array-like of float
        Values.
    upper : float, default 90
        Upper percentile, in [0, 100].
    lower : float, default 10
        Lower percentile, in [0, 100], not above ``upper``.
    nan_policy : {"omit", "raise"}, default "omit"
        How NaN values are handled.

    Returns
    -------
    float
        :math:`Q(upper) - Q(lower)`.

    Notes
    -----
    Quantiles use numpy's default ``method="linear"``, which is Hyndman & Fan's type 7 and
    R's default ``quantile(type = 7)``: for probability :math:`p` and sorted values
    :math:`x_{(1)} \le \dots \le x_{(n)}`,

    .. math::

        h = (n - 1)p + 1, \qquad
        Q(p) = x_{(\lfloor h \rfloor)} + (h - \lfloor h \rfloor)
               \left(x_{(\lfloor h \rfloor + 1)} - x_{(\lfloor h \rfloor)}\right).

    The 75/25 gap is the interquartile range. A difference, not a ratio, so it is defined on
    any interval scale (no shift needed).

    References
    ----------
    .. [1] Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical packages.
       *The American Statistician*, 50(4), 361-365. https://doi.org/10.2307/2684934

    Examples
    --------
    >>> percentile_gap([1, 2, 4, 7, 11, 16, 22, 29, 37, 46])
    36.0
    >>> percentile_gap([1, 2, 4, 7, 11, 16, 22, 29, 37, 46], upper=75, lower=25)
    22.5
    """
    for name, value in (("upper", upper), ("lower", lower)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise TypeError(f"{name} must be a number in [0, 100], got {type(value).__name__}.")
        if not 0 <= value <= 100:
            raise ValueError(f"{name} must be a percentile in [0, 100], got {value}.")
    if lower > upper:
        raise ValueError(f"lower ({lower}) must not exceed upper ({upper}).")
    a, _ = _as_1d(x, "x", nan_policy)
    _require_n(a.size, 1, "x")
    q_hi, q_lo = np.percentile(a, [upper, lower], method="linear")
    return float(q_hi - q_lo)


def matthew_effect(
    prior: ArrayLike,
    gain: ArrayLike,
    *,
    method: Literal["pearson", "spearman"] = "pearson",
    ci: float = 0.95,
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Matthew effect: correlation of learning gain with prior achievement.

    A positive correlation means the initially stronger students gain more ("the rich get
    richer"), widening gaps; a negative one means gaps narrow.

    Parameters
    ----------
    prior : array-like of float
        Prior achievement, one value per student.
    gain : array-like of float
        Gain (post minus prior, or any growth measure) for the same students, same order.
    method : {"pearson", "spearman"}, default "pearson"
        Pearson's r, or Spearman's rank correlation.
    ci : float, default 0.95
        Confidence level of the Fisher-z interval.
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"`` drops students with a NaN in either input (counted in ``n_omitted``).

    Returns
    -------
    pandas.DataFrame
        One row with columns ``n`` (complete pairs), ``r``, ``ci_low``, ``ci_high``,
        ``p_val`` (two-sided, from ``scipy.stats.pearsonr`` / ``spearmanr``), ``method``,
        ``n_omitted``. If either input is constant, ``r`` and its interval are NaN.

    Notes
    -----
    Fisher's transformation :math:`z = \operatorname{artanh}(r)` gives

    .. math::

        \left[\tanh\!\left(z - \frac{z_{1-\alpha/2}}{\sqrt{n - 3}}\,c\right),\;
              \tanh\!\left(z + \frac{z_{1-\alpha/2}}{\sqrt{n - 3}}\,c\right)\right]

    with :math:`c = 1` for Pearson (R's ``cor.test``, checked in
    ``tests/reference/metrics_effect_size.R``) and :math:`c = \sqrt{1.06}` for Spearman
    (Fieller, Hartley & Pearson, 1957).

    Caution: when ``gain = post - prior`` and the prior score contains measurement error,
    regression to the mean makes the correlation negative even if true growth is unrelated
    to true prior achievement. Compare regimes on the same cohorts (where the bias is shared)
    or correlate with a second, independent prior measure.

    References
    ----------
    .. [1] Walberg, H. J., & Tsai, S.-L. (1983). Matthew effects in education. *American
       Educational Research Journal*, 20(3), 359-373. https://doi.org/10.3102/00028312020003359
    .. [2] Fisher, R. A. (1915). Frequency distribution of the values of the correlation
       coefficient in samples from an indefinitely large population. *Biometrika*, 10(4),
       507-521. https://doi.org/10.2307/2331838
    .. [3] Fieller, E. C., Hartley, H. O., & Pearson, E. S. (1957). Tests for rank correlation
       coefficients. I. *Biometrika*, 44(3/4), 470-481. https://doi.org/10.2307/2333272

    Examples
    --------
    >>> res = matthew_effect([1.0, 2.0, 3.0, 4.0, 5.0], [0.1, 0.3, 0.2, 0.5, 0.6])
    >>> round(float(res["r"].iloc[0]), 3)
    0.915
    """
    from scipy import stats  # imported here: a run's tables do not need it

    ci = _check_ci(ci)
    _check_choice(method, "method", ("pearson", "spearman"))
    a, b, n_omit = _paired_1d(prior, gain, ("prior", "gain"), nan_policy)
    n = a.size
    _require_n(n, 4, "prior and gain (complete pairs)")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        r = lo = hi = p = float("nan")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.ConstantInputWarning)
            if method == "pearson":
                res = stats.pearsonr(b, a)
                c = 1.0
            else:
                res = stats.spearmanr(b, a)
                c = math.sqrt(1.06)
        r = float(res.statistic)
        p = float(res.pvalue)
        z = math.atanh(max(min(r, 1 - 1e-15), -1 + 1e-15))
        half = float(stats.norm.ppf(0.5 + ci / 2)) * c / math.sqrt(n - 3)
        lo, hi = math.tanh(z - half), math.tanh(z + half)
    return pd.DataFrame(
        {
            "n": [n],
            "r": [r],
            "ci_low": [lo],
            "ci_high": [hi],
            "p_val": [p],
            "method": [method],
            "n_omitted": [n_omit],
        }
    )
