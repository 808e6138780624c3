r"""The model's cohort distribution as a linear Gaussian model, and drawing from it given data.

:func:`toolkit.model.draw_cohort` builds every student attribute from independent standard
normal draws through linear maps (then a few fixed transforms: ``exp`` for aptitude, the
logistic for self-regulation). Written per student with the class effect :math:`c` and the
student's own innovations

.. math::
    \xi = (g_Z, e_{Z,1..D}, g_V, e_{V,1..D}, u_{1..D}, w) \sim N(0, I_{3D+3}),

the attributes a data file can measure are linear in :math:`(c, \xi)`:

.. math::
    Z_d &= \sqrt{\rho_S}\,g_Z + \sqrt{1-\rho_S}\,e_{Z,d}, \qquad
    S_d = \sqrt{\mathrm{ICC}}\,c + \sqrt{1-\mathrm{ICC}}\,Z_d \\
    V_d &= \sqrt{\rho_A}\,g_V + \sqrt{1-\rho_A}\,e_{V,d}, \qquad
    F_d = r_{AS} Z_d + \sqrt{1-r_{AS}^2}\,V_d \\
    I_d &= r_{IA} F_d + r_{IS} Z_d + \sqrt{1 - r_{IA}^2 - r_{IS}^2 - 2 r_{IA} r_{IS} r_{AS}}\,u_d,
    \qquad Y = r_{RS} \bar Z + \sqrt{1-r_{RS}^2}\,w

(skills :math:`S`, aptitude factor :math:`F`, interests :math:`I` and the self-regulation
factor :math:`Y`, with :math:`\bar Z` the standardized mean of :math:`Z`), exactly as in
``draw_cohort``. So the model's joint distribution of a class's attributes is Gaussian, and a
file that measures some of them (with error, or exactly) determines the conditional
distribution of all the rest: :func:`draw_given` draws from it.

Conditioning. Observations of a student are :math:`o = a\,c + H\xi + \varepsilon`,
:math:`\varepsilon \sim N(0, \operatorname{diag}\tau)` (:math:`\tau = 0` for an exact value, and
:math:`(1-r)/r` for a score of reliability :math:`r` on the true-score scale). Students of a
class share :math:`c` only, so :math:`c` is drawn first from its posterior (for one class),

.. math::
    c \mid o \sim N\!\left(\frac{\sum_i a^\top \Sigma_i^{-1} o_i}{\lambda}, \frac1\lambda\right),
    \quad \lambda = 1 + \sum_i a^\top \Sigma_i^{-1} a,
    \quad \Sigma_i = H H^\top + \operatorname{diag}\tau

(sums over the students of the class, each with the rows of what they have); the classes of a
school share the school's part of :math:`c` (``school_share`` :math:`w`: the class effects of a
school have covariance :math:`w` between classes), so a school's class effects are drawn
jointly, from the Gaussian with precision :math:`\Sigma_S^{-1} + \operatorname{diag}(\lambda_k
- 1)` where :math:`\Sigma_S = w\,\mathbf 1\mathbf 1^\top + (1 - w) I`. Then each
student's :math:`\xi` given :math:`c` by Matheron's rule: draw :math:`\xi_0 \sim N(0, I)`,
:math:`\varepsilon_0 \sim N(0, \operatorname{diag}\tau)` and set :math:`\xi = \xi_0 +
H^\top\Sigma^{-1}(o - a c - H\xi_0 - \varepsilon_0)`, an exact draw from the Gaussian
conditional that needs no factorisation of its (possibly singular) covariance. A student with
nothing observed (a classmate the file does not list) gets a draw from the prior given the
class's :math:`c`; a class with nothing observed is a plain draw from the model.

References
----------
.. [1] Doucet, A. (2010). A note on efficient conditional simulation of Gaussian
   distributions. Technical note, University of British Columbia (Matheron's rule).
.. [2] Rasmussen, C. E., & Williams, C. K. I. (2006). *Gaussian Processes for Machine
   Learning*, appendix A.2. MIT Press.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from toolkit.model.cohort import Cohort
from toolkit.model.params import Parameters

__all__ = ["LatentModel", "draw_given", "self_regulation_of"]


@dataclass(frozen=True)
class LatentModel:
    r"""Loadings of the measurable attributes on the class effect and a student's innovations.

    Observables, in this order (``J = 2D + 1``): the skill in each domain, the interest in each
    domain, the self-regulation factor :math:`Y` (standard normal; self-regulation is
    :math:`\operatorname{logistic}(\operatorname{logit}\bar R + s Y)`).

    Attributes
    ----------
    params : Parameters
    a : ndarray, shape (J,)
        Loadings on the class effect :math:`c`.
    h : ndarray, shape (J, K)
        Loadings on the innovations :math:`\xi` (``K = 3D + 3``).
    """

    params: Parameters
    a: NDArray[np.float64]
    h: NDArray[np.float64]

    @classmethod
    def of(cls, params: Parameters) -> LatentModel:
        """Build the loadings of ``draw_cohort``'s distribution under ``params``."""
        p = params
        d = p.n_domains
        k = 3 * d + 3
        gz, ez, gv, ev, uu, ww = _blocks(d)
        z = np.zeros((d, k))  # Z_d in terms of xi
        z[:, gz] = np.sqrt(p.skill_correlation)
        z[np.arange(d), ez] = np.sqrt(1.0 - p.skill_correlation)
        v = np.zeros((d, k))
        v[:, gv] = np.sqrt(p.aptitude_correlation)
        v[np.arange(d), ev] = np.sqrt(1.0 - p.aptitude_correlation)
        r_as, r_ia, r_rs = (
            p.aptitude_skill_correlation,
            p.interest_aptitude_correlation,
            p.self_regulation_skill_correlation,
        )
        r_is = _interest_skill(p)
        f = r_as * z + np.sqrt(1.0 - r_as**2) * v
        interest = r_ia * f + r_is * z
        interest[np.arange(d), uu] += np.sqrt(_interest_own(p))
        zbar = z.mean(axis=0) / np.sqrt((1 + (d - 1) * p.skill_correlation) / d)
        y = r_rs * zbar
        y[ww] += np.sqrt(1.0 - r_rs**2)
        h = np.vstack([np.sqrt(1.0 - p.class_icc) * z, interest, y[None, :]])
        a = np.concatenate([np.full(d, np.sqrt(p.class_icc)), np.zeros(d + 1)])
        return cls(params, a, h)

    @property
    def n_observables(self) -> int:
        """``J = 2D + 1``."""
        return self.h.shape[0]

    def observable_names(self) -> list[str]:
        """``skill_<domain>``, ``interest_<domain>``, ``self_regulation``."""
        doms = self.params.domains
        return [f"skill_{x}" for x in doms] + [f"interest_{x}" for x in doms] + ["self_regulation"]

    def attributes(
        self,
        c: NDArray[np.float64],
        xi: NDArray[np.float64],
        calibration: NDArray[np.float64],
        school_effect: float = 0.0,
    ) -> Cohort:
        """Turn a class effect and innovations into a class's :class:`~toolkit.model.Cohort`.

        Parameters
        ----------
        c : float or ndarray, broadcastable to (N,)
            The class effect.
        xi : ndarray, shape (N, 3D + 3)
        calibration : ndarray, shape (N, D)
        school_effect : float
            The effectiveness of the class's school (``Cohort.school_effect``).

        Returns
        -------
        Cohort
            With the formulas of :func:`toolkit.model.draw_cohort`.
        """
        p = self.params
        d = p.n_domains
        gz, ez, gv, ev, uu, ww = _blocks(d)
        z = (
            np.sqrt(p.skill_correlation) * xi[:, [gz]]
            + np.sqrt(1 - p.skill_correlation) * xi[:, ez]
        )
        skill = (
            np.sqrt(p.class_icc) * np.asarray(c, dtype=float).reshape(-1, 1)
            + np.sqrt(1.0 - p.class_icc) * z
        )
        v = (
            np.sqrt(p.aptitude_correlation) * xi[:, [gv]]
            + np.sqrt(1 - p.aptitude_correlation) * xi[:, ev]
        )
        r_as = p.aptitude_skill_correlation
        apt_factor = r_as * z + np.sqrt(1.0 - r_as**2) * v
        aptitude = np.exp(p.aptitude_sd * apt_factor - 0.5 * p.aptitude_sd**2)
        r_ia, r_is = p.interest_aptitude_correlation, _interest_skill(p)
        interest = r_ia * apt_factor + r_is * z + np.sqrt(_interest_own(p)) * xi[:, uu]
        zbar = z.mean(axis=1) / np.sqrt((1 + (d - 1) * p.skill_correlation) / d)
        r_rs = p.self_regulation_skill_correlation
        y = r_rs * zbar + np.sqrt(1 - r_rs**2) * xi[:, ww]
        return Cohort(
            skill, aptitude, interest, self_regulation_of(y, p), calibration, school_effect
        )


def _interest_skill(p: Parameters) -> float:
    """``interest_skill_correlation`` (0 for parameters without it)."""
    return float(getattr(p, "interest_skill_correlation", 0.0))


def _interest_own(p: Parameters) -> float:
    """Variance of interest left to its own noise (as ``draw_cohort`` computes it)."""
    r_ia, r_is = p.interest_aptitude_correlation, _interest_skill(p)
    return 1.0 - r_ia**2 - r_is**2 - 2.0 * r_ia * r_is * p.aptitude_skill_correlation


def self_regulation_of(y: NDArray[np.float64], params: Parameters) -> NDArray[np.float64]:
    r"""Self-regulation in (0, 1) from its standard-normal factor, as ``draw_cohort`` maps it.

    :math:`R = \operatorname{logistic}(\operatorname{logit}\bar R + \sigma_R / (\bar R(1-\bar R))
    \, Y)`.
    """
    m = params.self_regulation_mean
    logit_sd = params.self_regulation_sd / (m * (1 - m))
    return 1.0 / (1.0 + np.exp(-(np.log(m / (1 - m)) + logit_sd * np.asarray(y, dtype=float))))


def _blocks(
    d: int,
) -> tuple[int, NDArray[np.int64], int, NDArray[np.int64], NDArray[np.int64], int]:
    """Positions in xi: g_Z, e_Z (D), g_V, e_V (D), u (D), w."""
    gz = 0
    ez = np.arange(1, 1 + d)
    gv = 1 + d
    ev = np.arange(2 + d, 2 + 2 * d)
    uu = np.arange(2 + 2 * d, 2 + 3 * d)
    return gz, ez, gv, ev, uu, 2 + 3 * d


def draw_given(
    model: LatentModel,
    classes: NDArray[np.int64],
    observed: NDArray[np.float64],
    error_var: NDArray[np.float64],
    rng: np.random.Generator,
    n_classes: int | None = None,
    schools: NDArray[np.int64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Draw every student's class effect and innovations given what is observed of them.

    Parameters
    ----------
    model : LatentModel
    classes : ndarray of int, shape (N,)
        Class number (0..n_classes - 1) of each student.
    observed : ndarray, shape (N, J)
        Observed value of each observable on the model's scale (skills in SD units of the
        reference population's true scores, interests as z-scores, the self-regulation
        factor), NaN where not observed.
    error_var : ndarray, shape (J,) or (N, J)
        Measurement-error variance :math:`\tau` of each observation on that scale (0: exact).
    rng : numpy.random.Generator
        Every draw comes from it: the class effects, then the innovations, in that order.
    n_classes : int, optional
        Number of classes (default ``classes.max() + 1``).
    schools : ndarray of int, shape (n_classes,), optional
        School of each class: the class effects of a school share its part (``school_share``
        of the model's parameters). Default: every class its own school.

    Returns
    -------
    c : ndarray, shape (n_classes,)
        The class effects.
    xi : ndarray, shape (N, 3D + 3)
        Each student's innovations; ``model.attributes(c[classes], xi, ...)`` gives the
        attributes, which reproduce every exactly observed value.

    Notes
    -----
    Students with the same set of observed attributes share :math:`\Sigma^{-1}`, so the work is
    done once per pattern of what is observed (after imputation, usually two: the file's
    students and the classmates it does not list).
    """
    obs = np.asarray(observed, dtype=float)
    n, j = obs.shape
    if j != model.n_observables:
        raise ValueError(f"observed: expected {model.n_observables} columns, got {j}.")
    tau = np.broadcast_to(np.asarray(error_var, dtype=float), (n, j))
    if (tau < 0).any():
        raise ValueError("error_var: measurement-error variances must be >= 0.")
    classes = np.asarray(classes, dtype=np.int64)
    n_classes = int(classes.max()) + 1 if n_classes is None else n_classes
    a, h = model.a, model.h
    k = h.shape[1]
    mask = ~np.isnan(obs)
    patterns, which = np.unique(mask, axis=0, return_inverse=True)
    which = which.reshape(-1)
    solved = []  # per pattern: rows, Sigma^-1 a, Sigma^-1 H, a' Sigma^-1 a
    precision = np.ones(n_classes)
    weighted = np.zeros(n_classes)
    for p_idx, pat in enumerate(patterns):
        rows = np.where(which == p_idx)[0]
        if not pat.any():
            solved.append((rows, pat, None, None))
            continue
        hs, as_ = h[pat], a[pat]
        # Sigma differs between students only through tau: solve per distinct tau row
        taus, tau_idx = np.unique(tau[rows][:, pat], axis=0, return_inverse=True)
        tau_idx = tau_idx.reshape(-1)
        sig_inv = np.empty((len(taus), pat.sum(), pat.sum()))
        for t, tv in enumerate(taus):
            sig_inv[t] = np.linalg.inv(hs @ hs.T + np.diag(tv))
        s_inv = sig_inv[tau_idx]  # (n_p, m, m)
        s_a = s_inv @ as_  # (n_p, m)
        o = obs[rows][:, pat]
        np.add.at(precision, classes[rows], s_a @ as_)
        np.add.at(weighted, classes[rows], np.einsum("nm,nm->n", s_a, o))
        solved.append((rows, pat, s_inv, s_a))
    c = _class_effects(weighted, precision - 1.0, schools, model.params, rng)
    xi0 = rng.standard_normal((n, k))
    eps0 = rng.standard_normal((n, j)) * np.sqrt(tau)
    xi = xi0.copy()
    for rows, pat, s_inv, _ in solved:
        if s_inv is None:
            continue
        hs = h[pat]
        resid = (
            obs[rows][:, pat]
            - c[classes[rows], None] * a[pat]
            - xi0[rows] @ hs.T
            - eps0[rows][:, pat]
        )
        xi[rows] += np.einsum("km,nm->nk", hs.T, np.einsum("nml,nl->nm", s_inv, resid))
    return c, xi


def _class_effects(
    info: NDArray[np.float64],
    data_precision: NDArray[np.float64],
    schools: NDArray[np.int64] | None,
    params: Parameters,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    r"""Draw the class effects given the data's information about each (school by school).

    With :math:`L_k` the data's precision about class effect :math:`c_k` and :math:`h_k` its
    information (:math:`L_k` times the data's estimate), the posterior of a school's class
    effects is Gaussian with precision :math:`P = \Sigma_S^{-1} + \operatorname{diag}(L)` and
    mean :math:`P^{-1}h`, :math:`\Sigma_S = w\mathbf 1\mathbf 1^\top + (1 - w)I`.
    """
    n = info.size
    z = rng.standard_normal(n)
    w = float(getattr(params, "school_share", 0.0))
    if schools is None or w == 0.0:
        prec = 1.0 + data_precision
        return info / prec + z / np.sqrt(prec)
    out = np.empty(n)
    schools = np.asarray(schools)
    for s in np.unique(schools):
        k = np.where(schools == s)[0]
        prior = w * np.ones((k.size, k.size)) + (1.0 - w) * np.eye(k.size)
        prec = np.linalg.inv(prior) + np.diag(data_precision[k])
        cov = np.linalg.inv(prec)
        out[k] = cov @ info[k] + np.linalg.cholesky(cov) @ z[k]
    return out
