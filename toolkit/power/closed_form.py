r"""Closed-form power of the designs where it exists, to check power by simulation against.

Two-sample t test (Cohen 1988): with :math:`n` per group, standardized difference :math:`d`
and :math:`\nu = 2n - 2`,

.. math::

    \text{power} = P\big(|T'| > t_{1-\alpha/2,\nu}\big), \qquad
    T' \sim t'_\nu(\lambda), \quad \lambda = d\sqrt{n/2}.

Two-arm cluster-randomized trial analysed on cluster means (Donner & Klar 2000; Hedges &
Rhoads 2010): :math:`J` clusters of :math:`n` students, :math:`J_A` and :math:`J_B` per arm,
intraclass correlation :math:`\rho`, :math:`d` in units of the total SD. A cluster mean has
variance :math:`(\rho + (1 - \rho)/n)\sigma^2 = \sigma^2\,\mathrm{deff}/n` with the design
effect :math:`\mathrm{deff} = 1 + (n - 1)\rho`, so the t test of the cluster means has
:math:`\nu = J - 2` and

.. math::

    \lambda = \frac{d}{\sqrt{\mathrm{deff}/n\,(1/J_A + 1/J_B)}}
            = d\sqrt{\frac{J n}{4\,\mathrm{deff}}} \quad (J_A = J_B = J/2).

A covariate measured at the cluster level that explains a share :math:`R^2_2` of the
between-cluster and :math:`R^2_1` of the within-cluster variance multiplies the two parts of
the variance by :math:`1 - R^2_2` and :math:`1 - R^2_1` (Raudenbush 1997; one more
degree of freedom is spent, :math:`\nu = J - 3`).

Three levels (students in classes in schools; Konstantopoulos 2008; Dong & Maynard 2013):
:func:`three_level_se` gives the standard error of a trial that randomizes schools (the school
and class variance both enter the contrast) or classes within schools (the school variance
drops out), :func:`three_level_power`, :func:`three_level_mde` and :func:`schools_for_power`
the power, the minimum detectable effect and the schools needed.

Two variances (F test, two-sided): with :math:`\nu_A = n_A - 1`, :math:`\nu_B = n_B - 1` and
the true ratio :math:`\phi = \sigma_B^2/\sigma_A^2`, :math:`F = s_B^2/s_A^2 \sim \phi F_{\nu_B,
\nu_A}` and power is :math:`P(F > F_{1-\alpha/2}) + P(F < F_{\alpha/2})`.

References
----------
.. [1] Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences* (2nd ed.).
   Erlbaum.
.. [2] Donner, A., & Klar, N. (2000). *Design and Analysis of Cluster Randomization Trials
   in Health Research*. Arnold.
.. [3] Raudenbush, S. W. (1997). Statistical analysis and optimal design for cluster
   randomized trials. *Psychological Methods*, 2(2), 173-185.
   https://doi.org/10.1037/1082-989X.2.2.173
.. [4] Hedges, L. V., & Rhoads, C. (2010). *Statistical Power Analysis in Education
   Research* (NCSER 2010-3006). National Center for Special Education Research.
.. [5] Bloom, H. S. (2005). Randomizing groups to evaluate place-based programs. In
   *Learning More from Social Experiments* (pp. 115-172). Russell Sage Foundation.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "cluster_trial_mde",
    "cluster_trial_power",
    "clusters_for_power",
    "design_effect",
    "nct_lower_tail",
    "schools_for_power",
    "three_level_mde",
    "three_level_power",
    "three_level_se",
    "ttest_power",
    "variance_ratio_power",
    "within_variance_ratio_power",
]


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")


def nct_lower_tail(c: float, df: float, lam: float) -> float:
    r"""Lower tail :math:`P(T' \le -c)` of the noncentral t, computed stably for :math:`c \ge 0`.

    With :math:`T' = (Z + \lambda)/W`, :math:`Z \sim N(0, 1)` and :math:`W = \sqrt{V/\nu}`,
    :math:`V \sim \chi^2_\nu` independent of :math:`Z`,

    .. math::

        P(T' \le -c) = E_W\big[\Phi(-\lambda - cW)\big]
                     = \Phi(-\lambda) \int_0^\infty
                       \frac{\Phi(-\lambda - cw)}{\Phi(-\lambda)}\, f_W(w)\, dw,

    a one-dimensional integral whose integrand (a ratio in :math:`(0, 1]`, taken from the
    logarithms of :math:`\Phi`, times the density of :math:`W`) neither overflows nor
    cancels. It is integrated by Gauss-Legendre quadrature in :math:`\log w`, on pieces at
    most one unit wide and split at quantiles of :math:`W` (from :math:`10^{-17}` to
    :math:`1 - 10^{-17}`, so the bulk of a narrow density gets its nodes). Far in the
    lower tail (:math:`\lambda` large), where ``scipy.stats.nct.cdf`` returns NaN at scattered
    points (its Boost series does not converge), this gives the probability to full absolute
    precision (and underflows to 0 only below about 1e-308).

    Parameters
    ----------
    c : float
        The bound, :math:`c \ge 0`.
    df : float
        Degrees of freedom :math:`\nu > 0`.
    lam : float
        Noncentrality :math:`\lambda`.

    Returns
    -------
    float

    Examples
    --------
    >>> q = float(stats.t.ppf(0.975, 2))  # two clusters per arm of 20 students, d = 2 SD
    >>> f"{nct_lower_tail(q, 2, 2 / math.sqrt(0.05)):.4e}"  # scipy's nct.cdf gives NaN here
    '2.3745e-22'
    >>> bool(abs(nct_lower_tail(1.0, 10, 0.5) - stats.nct.cdf(-1.0, 10, 0.5)) < 1e-12)
    True
    """
    if c < 0:
        raise ValueError(f"c must be >= 0, got {c!r}.")
    if not df > 0:
        raise ValueError(f"df must be > 0, got {df!r}.")
    log0 = float(special.log_ndtr(-lam))
    if c == 0:
        return math.exp(log0)
    # integrate over s = log w on pieces: at quantiles of W (its bulk, narrow for large df),
    # around the peak of the integrand (which moves below the bulk as lambda c grows: the
    # stationary point of (df - 1) log w - df w^2 / 2 - (lambda + c w)^2 / 2 + log w, about
    # 10 of its SDs either side), and at most one unit wide; 24-point Gauss-Legendre on each
    probs = [1e-17, 1e-3, 1e-2, 0.1]
    q = np.r_[stats.chi.ppf([*probs, 0.5], df), stats.chi.isf(probs[::-1], df)]
    u = (-c * lam + math.sqrt((c * lam) ** 2 + 4 * df * (df + c * c))) / (2 * (df + c * c))
    sd = 1 / math.sqrt(2 * (df + c * c) * u * u + c * lam * u)
    peak = math.log(u) + sd * np.arange(-10.0, 10.5, 2.0)
    edges = np.r_[np.log(q / math.sqrt(df)), peak]
    lo, hi = edges.min(), edges.max()
    edges = np.unique(np.r_[edges, np.arange(math.ceil(lo), hi, 1.0)])
    a, b = edges[:-1, None], edges[1:, None]
    x, w = _GAUSS_LEGENDRE
    s = (a + b) / 2 + (b - a) / 2 * x  # (pieces, nodes)
    weight = (b - a) / 2 * w
    wv = np.exp(s)
    # log f_W(w) = log f_chi(w sqrt(df); df) + log sqrt(df), f_chi(x; k) = x^(k-1) e^(-x^2/2) /
    # (2^(k/2-1) Gamma(k/2)); the Jacobian of w = e^s adds s
    log_density = (
        (df - 1) * (s + 0.5 * math.log(df)) - df * wv**2 / 2
        - (df / 2 - 1) * math.log(2) - special.gammaln(df / 2) + 0.5 * math.log(df) + s
    )  # fmt: skip
    terms = np.exp(special.log_ndtr(-lam - c * wv) - log0 + log_density)
    return math.exp(log0) * min(float(np.sum(weight * terms)), 1.0)


#: Nodes and weights of 24-point Gauss-Legendre quadrature on [-1, 1].
_GAUSS_LEGENDRE = np.polynomial.legendre.leggauss(24)


def _nct_two_sided(lam: float, df: float, alpha: float) -> float:
    r"""Power of a two-sided t test: :math:`P(T' > q) + P(T' < -q)`, :math:`q = t_{1-\alpha/2,\nu}`.

    The upper tail is scipy's; the lower tail is :func:`nct_lower_tail` (scipy's ``nct.cdf``
    returns NaN at scattered points far in the lower tail). For :math:`\lambda < 0` the two
    tails swap roles (the distribution of :math:`-T'` is :math:`t'_\nu(-\lambda)`).
    """
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    lam = abs(lam)
    upper = float(stats.nct.sf(crit, df, lam))
    if not math.isfinite(upper):  # pragma: no cover - not seen in scipy 1.18
        raise ArithmeticError(f"noncentral t upper tail is {upper} at df={df}, lambda={lam}.")
    return upper + nct_lower_tail(crit, df, lam)


def ttest_power(effect: float, n_per_group: int, alpha: float = 0.05) -> float:
    r"""Power of the two-sided two-sample t test with equal groups.

    Parameters
    ----------
    effect : float
        Standardized difference :math:`d` (difference of means over the common SD).
    n_per_group : int
        Observations per group (>= 2).
    alpha : float
        Significance level.

    Returns
    -------
    float
        :math:`P(|T'| > t_{1-\alpha/2, 2n-2})` for :math:`T'` noncentral t with
        :math:`\lambda = d\sqrt{n/2}`.

    Examples
    --------
    >>> round(ttest_power(0.5, 64), 4)
    0.8015
    """
    _check_alpha(alpha)
    if n_per_group < 2:
        raise ValueError(f"n_per_group must be >= 2, got {n_per_group!r}.")
    return _nct_two_sided(effect * math.sqrt(n_per_group / 2), 2 * n_per_group - 2, alpha)


def design_effect(n_per_cluster: float, icc: float) -> float:
    r"""Design effect of a cluster sample, :math:`1 + (n - 1)\rho` (Kish 1965).

    Examples
    --------
    >>> design_effect(21, 0.2)
    5.0
    """
    if not 0 <= icc <= 1:
        raise ValueError(f"icc must be in [0, 1], got {icc!r}.")
    return 1 + (n_per_cluster - 1) * icc


def cluster_trial_power(
    effect: float,
    clusters: int,
    n_per_cluster: float,
    icc: float,
    alpha: float = 0.05,
    *,
    r2_between: float = 0.0,
    r2_within: float = 0.0,
    clusters_treated: int | None = None,
) -> float:
    r"""Power of a two-arm cluster-randomized trial analysed by a t test on cluster means.

    Parameters
    ----------
    effect : float
        Difference of means in units of the total (student-level) SD.
    clusters : int
        Clusters in both arms together, :math:`J` (>= 4).
    n_per_cluster : float
        Students per cluster, :math:`n`.
    icc : float
        Intraclass correlation :math:`\rho`.
    alpha : float
        Two-sided significance level.
    r2_between, r2_within : float
        Shares of the between- and within-cluster variance explained by a covariate (e.g.
        the pretest, as a cluster-mean covariate); when either is nonzero one more degree of
        freedom is spent.
    clusters_treated : int, optional
        :math:`J_B` (default :math:`J/2`, rounded down).

    Returns
    -------
    float
        Power from the noncentral t with :math:`J - 2` (or :math:`J - 3`) degrees of freedom
        and :math:`\lambda = d/\sqrt{(\rho(1 - R^2_2) + (1 - \rho)(1 - R^2_1)/n)
        (1/J_A + 1/J_B)}`; with no covariate the variance factor is
        :math:`\mathrm{deff}/n`.

    Examples
    --------
    >>> round(cluster_trial_power(0.25, 40, 20, 0.2), 4)
    0.3496
    """
    _check_alpha(alpha)
    if clusters < 4:
        raise ValueError(
            f"clusters must be >= 4 (two per arm and a degree of freedom), got {clusters!r}."
        )
    jb = clusters // 2 if clusters_treated is None else clusters_treated
    ja = clusters - jb
    if ja < 2 or jb < 2:
        raise ValueError(f"each arm needs at least two clusters, got {ja} and {jb}.")
    var = icc * (1 - r2_between) + (1 - icc) * (1 - r2_within) / n_per_cluster
    lam = effect / math.sqrt(var * (1 / ja + 1 / jb))
    df = clusters - 2 - (1 if (r2_between or r2_within) else 0)
    return _nct_two_sided(lam, df, alpha)


def cluster_trial_mde(
    clusters: int,
    n_per_cluster: float,
    icc: float,
    alpha: float = 0.05,
    power: float = 0.8,
    **kwargs: float,
) -> float:
    r"""Minimum detectable effect of a cluster-randomized trial (exact, by root finding).

    The smallest :math:`d` with :func:`cluster_trial_power` equal to ``power``; close to
    Bloom's :math:`(t_{1-\alpha/2,\nu} + t_{power,\nu})\sqrt{4\,\mathrm{deff}/(Jn)}`.

    Examples
    --------
    >>> round(cluster_trial_mde(40, 20, 0.2), 3)
    0.445
    """
    if not 0 < power < 1:
        raise ValueError(f"power must be in (0, 1), got {power!r}.")

    def gap(d: float) -> float:
        return cluster_trial_power(d, clusters, n_per_cluster, icc, alpha, **kwargs) - power

    hi = 1.0
    while gap(hi) < 0:
        hi *= 2
        if hi > 1e3:
            raise ValueError("no effect up to 1000 SD reaches that power with this design.")
    return float(optimize.brentq(gap, 1e-9, hi, xtol=1e-10))


def clusters_for_power(
    effect: float,
    n_per_cluster: float,
    icc: float,
    alpha: float = 0.05,
    power: float = 0.8,
    max_clusters: int = 100_000,
    **kwargs: float,
) -> int:
    """Smallest even number of clusters (both arms) reaching the power asked for.

    Examples
    --------
    >>> clusters_for_power(0.25, 20, 0.2)
    124
    """
    if effect == 0:
        raise ValueError("effect is 0: no number of clusters detects it.")
    j = 4
    while j <= max_clusters:
        if cluster_trial_power(effect, j, n_per_cluster, icc, alpha, **kwargs) >= power:
            return j
        j += 2
    raise ValueError(f"more than {max_clusters} clusters would be needed.")


def variance_ratio_power(ratio: float, n_a: int, n_b: int, alpha: float = 0.05) -> float:
    r"""Power of the two-sided F test that two normal variances are equal.

    Parameters
    ----------
    ratio : float
        True :math:`\sigma_B^2/\sigma_A^2`.
    n_a, n_b : int
        Observations in each group.
    alpha : float

    Returns
    -------
    float

    Examples
    --------
    >>> round(variance_ratio_power(1.5, 100, 100), 4)
    0.5183
    """
    _check_alpha(alpha)
    da, db = n_a - 1, n_b - 1
    hi, lo = stats.f.ppf(1 - alpha / 2, db, da), stats.f.ppf(alpha / 2, db, da)
    return float(stats.f.sf(hi / ratio, db, da) + stats.f.cdf(lo / ratio, db, da))


def within_variance_ratio_power(
    ratio: float, clusters: int, n_per_cluster: int, alpha: float = 0.05
) -> float:
    r"""Power of the F test of the pooled within-cluster variances in a balanced cluster trial.

    Each arm has :math:`J/2` clusters of :math:`n`; the pooled within-cluster variance has
    :math:`(J/2)(n - 1)` degrees of freedom whatever the between-cluster variance, so this is
    :func:`variance_ratio_power` with :math:`n_A = n_B = (J/2)(n - 1) + 1`.

    Parameters
    ----------
    ratio : float
        True ratio of within-cluster variances :math:`\sigma_B^2/\sigma_A^2`.
    clusters : int
        :math:`J`, both arms.
    n_per_cluster : int
    alpha : float

    Examples
    --------
    >>> round(within_variance_ratio_power(1.2, 20, 20), 4)
    0.2401
    """
    per = (clusters // 2) * (n_per_cluster - 1) + 1
    return variance_ratio_power(ratio, per, per, alpha)


# --------------------------------------------------------------------------------------------
# three levels: students in classes in schools
# --------------------------------------------------------------------------------------------

#: Designs of :func:`three_level_power`: what is randomized.
THREE_LEVEL_DESIGNS = ("school", "class_in_school")


def three_level_se(
    schools: int,
    classes_per_school: float,
    n_per_class: float,
    icc_school: float,
    icc_class: float,
    *,
    randomize: str = "school",
    treated_share: float = 0.5,
    r2_school: float = 0.0,
    r2_class: float = 0.0,
    r2_student: float = 0.0,
    covariates: int = 0,
    school_effects: str = "fixed",
    effect_heterogeneity: float = 0.0,
) -> tuple[float, float]:
    r"""Return the standard error (in total-SD units) and degrees of freedom of a three-level trial.

    :math:`K` schools of :math:`m` classes of :math:`n` students; intraclass correlations
    :math:`\rho_S` (school) and :math:`\rho_C` (class within school) as shares of the total
    variance, :math:`\sigma^2 = 1 - \rho_S - \rho_C`; a share :math:`P` treated; covariates
    explaining :math:`R^2_3, R^2_2, R^2_1` of the school, class and student variance,
    :math:`g` of them at the level of randomization.

    Schools randomized (Konstantopoulos 2008a; PowerUp!'s CRA3_3r, Dong & Maynard 2013):

    .. math::

        \mathrm{SE}^2 = \frac{\rho_S(1 - R^2_3)}{P(1-P)K} + \frac{\rho_C(1 - R^2_2)}{P(1-P)Km}
            + \frac{\sigma^2(1 - R^2_1)}{P(1-P)Kmn}, \qquad \nu = K - g - 2.

    Classes randomized within schools, blocked by school (Konstantopoulos 2008b; BCRA3_2f and
    BCRA3_2r): the school variance drops out of the treatment contrast, leaving

    .. math::

        \mathrm{SE}^2 = \frac{\rho_S\,\omega}{K} + \frac{\rho_C(1 - R^2_2)}{P(1-P)Km}
            + \frac{\sigma^2(1 - R^2_1)}{P(1-P)Kmn},

    with :math:`\omega` the variance of the treatment effect across schools relative to
    :math:`\rho_S` (``effect_heterogeneity``; 0 with fixed school effects) and
    :math:`\nu = Km - K - 1 - g` with fixed school effects (the residual degrees of freedom of
    class means on school dummies and the treatment; PowerUp!'s BCRA3_2f counts
    :math:`K(m - 2) - g`, a treatment contrast per school), :math:`\nu = K - g - 1` with
    random ones.

    Parameters
    ----------
    schools : int
        :math:`K`, both arms.
    classes_per_school : float
        :math:`m`.
    n_per_class : float
        :math:`n`.
    icc_school, icc_class : float
        :math:`\rho_S, \rho_C \ge 0` with :math:`\rho_S + \rho_C < 1`.
    randomize : {"school", "class_in_school"}
    treated_share : float
        :math:`P` (of schools, or of each school's classes).
    r2_school, r2_class, r2_student : float
        :math:`R^2_3, R^2_2, R^2_1`.
    covariates : int
        :math:`g`.
    school_effects : {"fixed", "random"}
        Blocked design only: schools as fixed blocks or random ones.
    effect_heterogeneity : float
        :math:`\omega` (blocked design with random school effects only).

    Returns
    -------
    (float, float)
        :math:`\mathrm{SE}` and :math:`\nu`.

    References
    ----------
    .. [1] Konstantopoulos, S. (2008a). The power of the test for treatment effects in
       three-level cluster randomized designs. *Journal of Research on Educational
       Effectiveness*, 1(1), 66-88. https://doi.org/10.1080/19345740701692522
    .. [2] Konstantopoulos, S. (2008b). The power of the test for treatment effects in
       three-level block randomized designs. *Journal of Research on Educational
       Effectiveness*, 1(4), 265-288. https://doi.org/10.1080/19345740802328216
    .. [3] Dong, N., & Maynard, R. (2013). PowerUp!: A tool for calculating minimum detectable
       effect sizes and minimum required sample sizes for experimental and quasi-experimental
       design studies. *Journal of Research on Educational Effectiveness*, 6(1), 24-67.
       https://doi.org/10.1080/19345747.2012.673143
    .. [4] Hedges, L. V., & Hedberg, E. C. (2007). Intraclass correlation values for planning
       group-randomized trials in education. *Educational Evaluation and Policy Analysis*,
       29(1), 60-87.

    Examples
    --------
    >>> se, df = three_level_se(60, 3, 15, 0.06, 0.17)
    >>> round(se, 4), df
    (0.0944, 58.0)
    """
    if randomize not in THREE_LEVEL_DESIGNS:
        raise ValueError(
            f"randomize must be one of {list(THREE_LEVEL_DESIGNS)}, got {randomize!r}."
        )
    if school_effects not in ("fixed", "random"):
        raise ValueError(f"school_effects must be 'fixed' or 'random', got {school_effects!r}.")
    for name, v in (("icc_school", icc_school), ("icc_class", icc_class)):
        if not 0 <= v < 1:
            raise ValueError(f"{name} must be in [0, 1), got {v!r}.")
    if icc_school + icc_class >= 1:
        raise ValueError(
            f"icc_school + icc_class must be below 1 (the students' share is what is left), "
            f"got {icc_school} + {icc_class}."
        )
    for name, v in (("r2_school", r2_school), ("r2_class", r2_class), ("r2_student", r2_student)):
        if not 0 <= v < 1:
            raise ValueError(f"{name} must be in [0, 1), got {v!r}.")
    if not 0 < treated_share < 1:
        raise ValueError(f"treated_share must be in (0, 1), got {treated_share!r}.")
    if n_per_class < 1 or classes_per_school < 1:
        raise ValueError(
            f"classes_per_school and n_per_class must be >= 1, got {classes_per_school!r} and "
            f"{n_per_class!r}."
        )
    if effect_heterogeneity < 0:
        raise ValueError(f"effect_heterogeneity must be >= 0, got {effect_heterogeneity!r}.")
    k, m, n, g = schools, classes_per_school, n_per_class, covariates
    pq = treated_share * (1 - treated_share)
    sigma2 = 1 - icc_school - icc_class
    within = icc_class * (1 - r2_class) / (pq * k * m) + sigma2 * (1 - r2_student) / (
        pq * k * m * n
    )
    if randomize == "school":
        var = icc_school * (1 - r2_school) / (pq * k) + within
        df = k - g - 2
    else:
        if m < 2:
            raise ValueError(
                "randomize='class_in_school' needs at least 2 classes per school (one per arm)."
            )
        if effect_heterogeneity and school_effects == "fixed":
            raise ValueError(
                "effect_heterogeneity needs school_effects='random' (with fixed school effects "
                "the treatment effect is estimated in each school)."
            )
        var = icc_school * effect_heterogeneity / k + within
        df = k * m - k - 1 - g if school_effects == "fixed" else k - g - 1
    if df < 1:
        raise ValueError(
            f"{schools} schools of {classes_per_school} classes leave {df} degrees of freedom for "
            "the treatment test; add schools (or classes per school)."
        )
    return math.sqrt(var), float(df)


def three_level_power(effect: float, schools: int, alpha: float = 0.05, **design: float) -> float:
    r"""Power of the two-sided test of a treatment effect in a three-level trial.

    Parameters
    ----------
    effect : float
        :math:`\delta`, the difference in means in units of the total SD.
    schools : int
        :math:`K`, both arms.
    alpha : float
    **design
        ``classes_per_school``, ``n_per_class``, ``icc_school``, ``icc_class`` and the
        options of :func:`three_level_se`.

    Returns
    -------
    float
        :math:`P(|T'| > t_{1-\alpha/2,\nu})`, :math:`T'` noncentral t with
        :math:`\lambda = \delta/\mathrm{SE}` (:func:`three_level_se`). With one class per
        school randomized with its school and :math:`\rho = \rho_S + \rho_C`, this is
        :func:`cluster_trial_power`; with classes randomized within schools it does not
        depend on :math:`\rho_S` (without effect heterogeneity).

    Examples
    --------
    >>> d = dict(classes_per_school=3, n_per_class=15, icc_school=0.06, icc_class=0.17)
    >>> round(three_level_power(0.269, 60, **d), 3)
    0.8
    """
    _check_alpha(alpha)
    se, df = three_level_se(schools, **design)
    return _nct_two_sided(effect / se, df, alpha)


def three_level_mde(
    schools: int, alpha: float = 0.05, power: float = 0.8, *, exact: bool = True, **design: float
) -> float:
    r"""Minimum detectable effect of a three-level trial (in total-SD units).

    ``exact``: the effect with :func:`three_level_power` equal to ``power`` (root finding);
    otherwise Bloom's multiplier :math:`(t_{1-\alpha/2,\nu} + t_{power,\nu})\,\mathrm{SE}`, as
    PowerUp! computes it (Dong & Maynard 2013).

    Examples
    --------
    >>> d = dict(classes_per_school=3, n_per_class=15, icc_school=0.06, icc_class=0.17)
    >>> round(three_level_mde(60, exact=False, **d), 3)  # PowerUp!'s CRA3_3r cross-check
    0.269
    """
    _check_alpha(alpha)
    if not 0 < power < 1:
        raise ValueError(f"power must be in (0, 1), got {power!r}.")
    se, df = three_level_se(schools, **design)
    if not exact:
        return float((stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * se)

    def gap(d: float) -> float:
        return _nct_two_sided(d / se, df, alpha) - power

    hi = 1.0
    while gap(hi) < 0:
        hi *= 2
        if hi > 1e3:
            raise ValueError("no effect up to 1000 SD reaches that power with this design.")
    return float(optimize.brentq(gap, 1e-9, hi, xtol=1e-10))


def schools_for_power(
    effect: float,
    alpha: float = 0.05,
    power: float = 0.8,
    max_schools: int = 100_000,
    **design: float,
) -> int:
    """Smallest even number of schools (both arms) giving a three-level trial the power asked.

    Examples
    --------
    >>> schools_for_power(0.25, classes_per_school=2, n_per_class=20, icc_school=0.1,
    ...                   icc_class=0.1)
    88
    >>> schools_for_power(0.25, classes_per_school=2, n_per_class=20, icc_school=0.1,
    ...                   icc_class=0.1, randomize="class_in_school", school_effects="random")
    38
    """
    if effect == 0:
        raise ValueError("effect is 0: no number of schools detects it.")
    k = 4
    while k <= max_schools:
        try:
            if three_level_power(effect, k, alpha, **design) >= power:
                return k
        except ValueError as exc:
            if "degrees of freedom" not in str(exc):
                raise
        k += 2
    raise ValueError(f"more than {max_schools} schools would be needed.")
