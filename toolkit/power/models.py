r"""Two-level random-intercept models with group-specific residual variances (nlme's varIdent).

A cluster-randomized trial of two teaching regimes asks two questions of the same data: does
the mean outcome differ between arms, and does the *spread* differ? The second needs a model
in which each arm has its own residual variance:

.. math::

    y_{ij} = x_{ij}'\beta + u_j + e_{ij}, \qquad u_j \sim N(0, \tau^2), \qquad
    e_{ij} \sim N(0, \sigma^2_{g(ij)}),

with :math:`g(ij)` the arm (or any grouping) of observation :math:`i` in cluster :math:`j`.
This is ``nlme::lme(y ~ x, random = ~ 1 | cluster, weights = varIdent(form = ~ 1 | arm))``
(Pinheiro & Bates 2000, section 5.2). With one residual variance it is the ordinary random
intercept model of ``lme4::lmer(y ~ x + (1 | cluster))``.

:func:`fit_random_intercept` fits either by restricted maximum likelihood (REML) or maximum
likelihood. It works on per-cluster sufficient statistics, so one fit takes milliseconds, as a
power analysis with thousands of replications needs: with :math:`W_j = D_j^{-1}` the inverse of
the diagonal residual covariance and :math:`c_j = \tau^2 / (1 + \tau^2 1'W_j 1)`,

.. math::

    V_j^{-1} = W_j - c_j W_j 1 1' W_j, \qquad
    \log|V_j| = -\log|W_j| + \log(1 + \tau^2 1'W_j 1),

    \ell_{REML} = -\tfrac12\Big[\sum_j \log|V_j| + \log\Big|\sum_j X_j'V_j^{-1}X_j\Big|
    + \sum_j r_j'V_j^{-1}r_j + (N - p)\log 2\pi\Big],

with :math:`r_j = y_j - X_j\hat\beta` at the generalized least-squares :math:`\hat\beta`
(Harville 1977). Fixed-effect tests use :math:`t = \hat\beta/\mathrm{SE}` with nlme's
between/within degrees of freedom: for a term constant within clusters (the arm of a
cluster-randomized trial) :math:`J - 1 - p_b`, with :math:`p_b` the number of such terms; for
the intercept and the terms that vary within clusters :math:`N - J - p_w`, with :math:`p_w`
the number of the latter (Pinheiro & Bates 2000, section 2.4.2). The spread test is the
likelihood ratio of the varIdent model against one residual variance,
:math:`2(\ell_1 - \ell_0) \sim \chi^2_{G - 1}`, valid under REML because both models have the
same fixed effects.

References
----------
.. [1] Pinheiro, J. C., & Bates, D. M. (2000). *Mixed-Effects Models in S and S-PLUS*.
   Springer. https://doi.org/10.1007/b98882
.. [2] Harville, D. A. (1977). Maximum likelihood approaches to variance component estimation
   and to related problems. *Journal of the American Statistical Association*, 72(358),
   320-338. https://doi.org/10.1080/01621459.1977.10480998
.. [3] Bates, D., Maechler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects
   models using lme4. *Journal of Statistical Software*, 67(1). https://doi.org/10.18637/jss.v067.i01
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from toolkit._base.checks import check_column, check_columns, check_frame

__all__ = ["RandomInterceptFit", "fit_random_intercept", "spread_test"]

_LOG2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class RandomInterceptFit:
    """A fitted random-intercept model (possibly with group-specific residual variances).

    Attributes
    ----------
    fixed : pandas.DataFrame
        ``term, estimate, std_error, df, t_value, p_value`` (two-sided t test).
    tau2 : float
        Between-cluster variance of the intercepts.
    sigma2 : dict
        Residual variance of each level of ``by`` (one entry ``"all"`` without ``by``).
    loglik : float
        Restricted (REML) or ordinary (ML) log-likelihood at the optimum, with the constants
        lme4 and nlme include.
    method : str
        ``"REML"`` or ``"ML"``.
    nobs, ngroups : int
        Observations and clusters used (rows with missing values are dropped).
    converged : bool
    """

    fixed: pd.DataFrame
    tau2: float
    sigma2: dict[str, float]
    loglik: float
    method: str
    nobs: int
    ngroups: int
    converged: bool

    def coef(self, term: str) -> pd.Series:
        """Return the row of ``fixed`` for one term."""
        rows = self.fixed[self.fixed["term"] == term]
        if rows.empty:
            raise KeyError(f"term {term!r} is not in the model; terms: {list(self.fixed.term)}.")
        return rows.iloc[0]


def _design(
    data: pd.DataFrame,
    outcome: str,
    covariates: Sequence[str],
    cluster: str,
    by: str | None,
    treatment: str | None,
    reference: str | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]:
    """Return y, X, cluster codes, group codes, term names and group labels."""
    cols = (
        [outcome, cluster, *covariates] + ([by] if by else []) + ([treatment] if treatment else [])
    )
    frame = data[list(dict.fromkeys(cols))].dropna()
    y = frame[outcome].to_numpy(dtype=float)
    terms, xs = ["(Intercept)"], [np.ones(len(frame))]
    if treatment is not None:
        levels = sorted(pd.unique(frame[treatment].astype(str)))
        if len(levels) != 2:
            raise ValueError(
                f"treatment: column {treatment!r} must have exactly two levels among the complete "
                f"rows, got {levels}."
            )
        ref = reference if reference is not None else levels[0]
        if ref not in levels:
            raise ValueError(f"reference: {ref!r} is not a level of {treatment!r} ({levels}).")
        other = levels[1] if ref == levels[0] else levels[0]
        terms.append(f"{treatment}{other}")
        xs.append((frame[treatment].astype(str) == other).to_numpy(dtype=float))
    for c in covariates:
        terms.append(c)
        xs.append(frame[c].to_numpy(dtype=float))
    x = np.column_stack(xs)
    clusters = pd.factorize(frame[cluster])[0]
    if by is None:
        groups, labels = np.zeros(len(frame), dtype=int), ["all"]
    else:
        codes, uniq = pd.factorize(frame[by].astype(str), sort=True)
        groups, labels = codes, [str(u) for u in uniq]
    return y, x, clusters, groups, terms, labels


class _Stats:
    """Per-cluster, per-group sufficient statistics of y and X."""

    def __init__(self, y: np.ndarray, x: np.ndarray, clusters: np.ndarray, groups: np.ndarray):
        j, g, p = int(clusters.max()) + 1, int(groups.max()) + 1, x.shape[1]
        self.J, self.G, self.p, self.N = j, g, p, len(y)
        self.n = np.zeros((j, g))
        self.sx = np.zeros((j, g, p))
        self.sxx = np.zeros((j, g, p, p))
        self.sy = np.zeros((j, g))
        self.syy = np.zeros((j, g))
        self.sxy = np.zeros((j, g, p))
        np.add.at(self.n, (clusters, groups), 1.0)
        np.add.at(self.sx, (clusters, groups), x)
        np.add.at(self.sxx, (clusters, groups), x[:, :, None] * x[:, None, :])
        np.add.at(self.sy, (clusters, groups), y)
        np.add.at(self.syy, (clusters, groups), y * y)
        np.add.at(self.sxy, (clusters, groups), x * y[:, None])

    def pieces(
        self, sigma2: np.ndarray, tau2: float
    ) -> tuple[float, np.ndarray, np.ndarray, float]:
        """Return ``sum log|V_j|``, ``X'V^-1 X``, ``X'V^-1 y`` and ``y'V^-1 y``."""
        w = 1.0 / sigma2  # (G,)
        sw = self.n @ w  # (J,)
        c = tau2 / (1.0 + tau2 * sw)
        xw1 = np.einsum("jgp,g->jp", self.sx, w)
        yw1 = self.sy @ w
        xvx = np.einsum("jgpq,g->pq", self.sxx, w) - np.einsum("j,jp,jq->pq", c, xw1, xw1)
        xvy = np.einsum("jgp,g->p", self.sxy, w) - np.einsum("j,jp,j->p", c, xw1, yw1)
        yvy = float(self.syy.sum(axis=0) @ w - np.sum(c * yw1 * yw1))
        logdet = float(self.n.sum(axis=0) @ np.log(sigma2) + np.sum(np.log1p(tau2 * sw)))
        return logdet, xvx, xvy, yvy


def _profiled(st: _Stats, rel: np.ndarray, lam: float, reml: bool) -> tuple[float, float]:
    """Log-likelihood with the residual scale profiled out, and that scale.

    ``rel`` holds the residual variances relative to the first group, ``lam`` the
    between-cluster variance relative to it: :math:`V = s V_{rel}`, and the optimal
    :math:`s` is :math:`r'V_{rel}^{-1}r / (N - p)` (REML) or :math:`/ N` (ML).
    """
    logdet, xvx, xvy, yvy = st.pieces(rel, lam)
    try:
        chol = np.linalg.cholesky(xvx)
    except np.linalg.LinAlgError:
        return -np.inf, np.nan
    beta = np.linalg.solve(xvx, xvy)
    quad = max(yvy - float(beta @ xvy), 1e-300)
    m = st.N - st.p if reml else st.N
    s = quad / m
    ll = -0.5 * (m * (math.log(s) + 1.0 + _LOG2PI) + logdet)
    if reml:
        ll -= float(np.sum(np.log(np.diag(chol))))
    return float(ll), s


def _between_terms(x: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """Which columns of X are constant within every cluster."""
    out = np.empty(x.shape[1], dtype=bool)
    for k in range(x.shape[1]):
        col = x[:, k]
        lo = np.full(clusters.max() + 1, np.inf)
        hi = np.full(clusters.max() + 1, -np.inf)
        np.minimum.at(lo, clusters, col)
        np.maximum.at(hi, clusters, col)
        out[k] = bool(np.all(hi - lo <= 1e-12 * (1 + np.abs(hi))))
    return out


def fit_random_intercept(
    data: pd.DataFrame,
    outcome: str,
    cluster: str,
    *,
    treatment: str | None = None,
    reference: str | None = None,
    covariates: Sequence[str] = (),
    by: str | None = None,
    reml: bool = True,
) -> RandomInterceptFit:
    r"""Fit a random-intercept model, optionally with a residual variance per group.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per student.
    outcome : str
        Outcome column.
    cluster : str
        Cluster column (class or school) of the random intercept.
    treatment : str, optional
        A two-level column (the arm) entered as a 0/1 fixed effect; the term is named
        ``<treatment><level>`` as R names it (e.g. ``armpersonalized``).
    reference : str, optional
        The level of ``treatment`` coded 0 (default: the first in sorted order).
    covariates : sequence of str
        Numeric covariates (e.g. ``["pretest"]``).
    by : str, optional
        Column whose levels get their own residual variance (varIdent); usually the arm.
    reml : bool
        Restricted maximum likelihood (default, as lme4 and nlme) or maximum likelihood.

    Returns
    -------
    RandomInterceptFit

    Notes
    -----
    The model, likelihood and degrees of freedom are in the module docstring. As lme4 does,
    the residual scale is profiled out: with :math:`V_j = s\,(D_j + \lambda 1 1')`, the
    optimal :math:`s` is :math:`r'(D + \lambda 11')^{-1}r/(N - p)` under REML. What is left,
    :math:`\lambda = \tau^2/\sigma^2_1 \ge 0` and the log variance ratios
    :math:`\log(\sigma^2_g/\sigma^2_1)`, is optimized by Brent's method (one residual
    variance) or Nelder-Mead, from moment estimates; a between-cluster variance at its
    boundary (0) is allowed, as in lme4. Under ML the standard errors use
    :math:`\hat\sigma^2 N/(N - p)`, as nlme does (``lmeControl(adjustSigma = TRUE)``). Rows
    with a missing value in any model column are dropped.

    Examples
    --------
    >>> from toolkit.datasets import load_dataset
    >>> fit = fit_random_intercept(load_dataset("nlschools"), "lang", "class", covariates=["IQ"])
    >>> round(fit.tau2, 2), round(fit.sigma2["all"], 2)
    (9.49, 42.25)
    >>> round(float(fit.coef("IQ").estimate), 3)
    2.487
    """
    check_frame(data)
    check_column(data, outcome, "outcome")
    check_column(data, cluster, "cluster")
    covariates = list(covariates)
    if covariates:
        check_columns(data, covariates, "covariates")
    for col in [outcome, *covariates]:
        if not pd.api.types.is_numeric_dtype(data[col]):
            raise TypeError(f"column {col!r} must be numeric, got {data[col].dtype}.")
    if treatment is not None:
        check_column(data, treatment, "treatment")
    if by is not None:
        check_column(data, by, "by")
    y, x, clusters, groups, terms, labels = _design(
        data, outcome, covariates, cluster, by, treatment, reference
    )
    if clusters.size == 0 or clusters.max() < 1:
        raise ValueError(f"cluster: column {cluster!r} needs at least two clusters with data.")
    st = _Stats(y, x, clusters, groups)
    g = st.G
    # starting values: OLS residual variances by group, between-cluster variance of means
    beta0, *_ = np.linalg.lstsq(x, y, rcond=None)
    res = y - x @ beta0
    s2 = np.array([max(np.var(res[groups == k]), 1e-12) for k in range(g)])
    cm = np.bincount(clusters, res) / np.bincount(clusters)
    lam0 = max(np.var(cm) / s2[0] - 1.0 / (len(y) / st.J), 0.02)

    def lam_of(u: float) -> float:  # u in [0, 1) <-> lambda in [0, inf)
        return u / (1.0 - u)

    if g == 1:
        opt = optimize.minimize_scalar(
            lambda u: -_profiled(st, np.ones(1), lam_of(u), reml)[0],
            bounds=(0.0, 1.0 - 1e-9),
            method="bounded",
            options={"xatol": 1e-10},
        )
        rel, lam, converged = np.ones(1), lam_of(float(opt.x)), bool(opt.success)
    else:

        def negll(theta: np.ndarray) -> float:
            rel = np.exp(np.concatenate([[0.0], theta[:-1]]))
            ll, _ = _profiled(st, rel, theta[-1] ** 2, reml)
            return -ll if np.isfinite(ll) else 1e300

        start = np.concatenate([np.log(s2[1:] / s2[0]), [math.sqrt(lam0)]])
        opt = optimize.minimize(
            negll, start, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10}
        )
        rel = np.exp(np.concatenate([[0.0], opt.x[:-1]]))
        lam, converged = float(opt.x[-1] ** 2), bool(opt.success)
    ll, scale = _profiled(st, rel, lam, reml)
    sig, tau = scale * rel, scale * lam
    _, xvx, xvy, _ = st.pieces(sig, tau)
    beta = np.linalg.solve(xvx, xvy)
    se = np.sqrt(np.diag(np.linalg.inv(xvx)))
    if not reml:  # nlme's adjustSigma: ML standard errors use sigma^2 * N / (N - p)
        se *= math.sqrt(st.N / (st.N - st.p))
    between = _between_terms(x, clusters)
    # nlme's denominator degrees of freedom: the intercept and within-cluster terms get the
    # within-cluster df, cluster-level terms the between-cluster df
    between[0] = False
    pb = int(between.sum()) + 1
    df = np.where(between, st.J - pb, st.N - st.J - (st.p - pb))
    tval = beta / se
    pval = 2 * stats.t.sf(np.abs(tval), df)
    fixed = pd.DataFrame(
        {
            "term": terms,
            "estimate": beta,
            "std_error": se,
            "df": df,
            "t_value": tval,
            "p_value": pval,
        }
    )
    return RandomInterceptFit(
        fixed=fixed,
        tau2=float(tau),
        sigma2={lab: float(s) for lab, s in zip(labels, sig, strict=True)},
        loglik=float(ll),
        method="REML" if reml else "ML",
        nobs=int(st.N),
        ngroups=int(st.J),
        converged=converged,
    )


def spread_test(
    data: pd.DataFrame,
    outcome: str,
    cluster: str,
    treatment: str,
    *,
    reference: str | None = None,
    covariates: Sequence[str] = (),
    reml: bool = True,
) -> dict[str, float]:
    r"""Test whether the arms differ in the spread of outcomes (residual SD), and in the mean.

    Fits the random-intercept model twice, with one residual variance and with one per arm
    (:func:`fit_random_intercept`), and compares them by a likelihood-ratio test.

    Parameters
    ----------
    data, outcome, cluster, treatment, reference, covariates, reml
        As for :func:`fit_random_intercept`; ``treatment`` is both the fixed effect and the
        grouping of the residual variance.

    Returns
    -------
    dict
        ``effect``, ``effect_se``, ``effect_df``, ``effect_p``: the difference in means
        (other arm minus reference) from the model with one residual variance, as a primary
        analysis reports it; ``sd_ratio``: :math:`\hat\sigma_{other}/\hat\sigma_{ref}`
        from the varIdent model; ``log_sd_ratio``; ``lr``: :math:`2(\ell_1 - \ell_0)`;
        ``spread_p``: its :math:`\chi^2_1` p-value; ``tau2``, ``sigma2_ref``,
        ``sigma2_other``; ``nobs``, ``ngroups``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> cls = np.repeat(np.arange(40), 20)
    >>> arm = np.where(cls < 20, "a", "b")
    >>> y = rng.normal(0, 0.4, 40)[cls] + rng.normal(0, np.where(arm == "a", 1.0, 1.5))
    >>> out = spread_test(pd.DataFrame({"y": y, "c": cls, "arm": arm}), "y", "c", "arm")
    >>> round(out["sd_ratio"], 2), out["spread_p"] < 0.001
    (1.73, True)
    """
    homo = fit_random_intercept(
        data,
        outcome,
        cluster,
        treatment=treatment,
        reference=reference,
        covariates=covariates,
        reml=reml,
    )
    hetero = fit_random_intercept(
        data,
        outcome,
        cluster,
        treatment=treatment,
        reference=reference,
        covariates=covariates,
        by=treatment,
        reml=reml,
    )
    term = homo.fixed.iloc[1]
    levels = list(hetero.sigma2)
    ref = reference if reference is not None else levels[0]
    other = next(lv for lv in levels if lv != ref)
    lr = max(2.0 * (hetero.loglik - homo.loglik), 0.0)
    ratio = math.sqrt(hetero.sigma2[other] / hetero.sigma2[ref])
    return {
        "effect": float(term.estimate),
        "effect_se": float(term.std_error),
        "effect_df": float(term.df),
        "effect_p": float(term.p_value),
        "sd_ratio": ratio,
        "log_sd_ratio": math.log(ratio),
        "lr": lr,
        "spread_p": float(stats.chi2.sf(lr, len(levels) - 1)),
        "tau2": hetero.tau2,
        "sigma2_ref": hetero.sigma2[ref],
        "sigma2_other": hetero.sigma2[other],
        "nobs": float(homo.nobs),
        "ngroups": float(homo.ngroups),
    }
