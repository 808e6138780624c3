r"""Likert items from latent traits: Samejima's graded response model, tuned to a reliability.

A questionnaire scale of :math:`I` items with :math:`K` ordered answers (1 = strongly disagree
... :math:`K` = strongly agree) is generated from a latent trait :math:`\theta` (standardized)
by the graded response model (Samejima 1969):

.. math::

    P(X_i \ge k + 1 \mid \theta) = \operatorname{logistic}\big(a_i(\theta - b_{ik})\big),
    \qquad k = 1, \dots, K - 1,

with discrimination :math:`a_i > 0` and ordered thresholds :math:`b_{i1} < \dots < b_{i,K-1}`.
The items are conditionally independent given :math:`\theta`.

The reliability a researcher would report for such a scale is Cronbach's alpha of the item
sum. Its population value follows from the model: with :math:`m_i(\theta) = E(X_i\mid\theta)`
and :math:`v_i(\theta) = \operatorname{Var}(X_i\mid\theta)`,

.. math::

    \operatorname{Var}X_i = E\,v_i(\theta) + \operatorname{Var}m_i(\theta), \qquad
    \operatorname{Cov}(X_i, X_j) = \operatorname{Cov}\big(m_i(\theta), m_j(\theta)\big),\
    i \ne j,

    \alpha = \frac{I}{I - 1}\Big(1 - \frac{\sum_i \operatorname{Var}X_i}
             {\sum_i \operatorname{Var}X_i + \sum_{i \ne j}\operatorname{Cov}(X_i, X_j)}\Big),

the expectations taken over the distribution of :math:`\theta` (standard normal by
Gauss-Hermite quadrature, or the empirical distribution of a given sample of traits).
:func:`items_for_reliability` solves for the common discrimination that gives a chosen alpha.

References
----------
.. [1] Samejima, F. (1969). Estimation of latent ability using a response pattern of graded
   scores. *Psychometrika Monograph Supplement*, 34(4, Pt. 2), No. 17.
.. [2] Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
   *Psychometrika*, 16(3), 297-334. https://doi.org/10.1007/BF02310555
.. [3] Embretson, S. E., & Reise, S. P. (2000). *Item Response Theory for Psychologists*,
   ch. 5. Erlbaum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

__all__ = [
    "ItemParameters",
    "grm_probabilities",
    "grm_responses",
    "items_for_reliability",
    "population_alpha",
]

#: Default thresholds of a 5-point agreement scale on the standardized trait: a person at the
#: trait mean most often answers 3 or 4 (answers lean to agreement, as on most attitude items).
DEFAULT_THRESHOLDS_5 = (-2.0, -0.9, 0.2, 1.4)


def _logistic(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


@dataclass(frozen=True)
class ItemParameters:
    """Graded-response parameters of the items of one scale.

    Attributes
    ----------
    discrimination : ndarray, shape (I,)
        :math:`a_i > 0`, per item.
    thresholds : ndarray, shape (I, K - 1)
        :math:`b_{ik}`, increasing along each row.
    """

    discrimination: NDArray[np.float64]
    thresholds: NDArray[np.float64]

    def __post_init__(self) -> None:
        a = np.asarray(self.discrimination, dtype=float).reshape(-1)
        b = np.atleast_2d(np.asarray(self.thresholds, dtype=float))
        if b.shape[0] != a.shape[0]:
            raise ValueError(
                f"ItemParameters: {a.shape[0]} discriminations but {b.shape[0]} rows of "
                "thresholds; expected one row of thresholds per item."
            )
        if not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ValueError(f"ItemParameters: discriminations must be positive, got {a}.")
        if b.shape[1] < 1 or np.any(np.diff(b, axis=1) <= 0) or not np.all(np.isfinite(b)):
            raise ValueError(
                "ItemParameters: thresholds must be finite and strictly increasing along each "
                f"item (K - 1 >= 1 per item), got {b.tolist()}."
            )
        object.__setattr__(self, "discrimination", a)
        object.__setattr__(self, "thresholds", b)

    @property
    def n_items(self) -> int:
        """Number of items."""
        return int(self.discrimination.shape[0])

    @property
    def n_categories(self) -> int:
        """Answer categories :math:`K` (answers are 1..K)."""
        return int(self.thresholds.shape[1] + 1)

    @classmethod
    def spread(
        cls,
        n_items: int,
        discrimination: float,
        thresholds: ArrayLike = DEFAULT_THRESHOLDS_5,
        location_spread: float = 0.5,
    ) -> ItemParameters:
        r"""Items with one discrimination and thresholds shifted evenly across items.

        Item :math:`i` has thresholds ``thresholds + delta_i`` with :math:`\\delta_i` evenly
        spaced in ``[-location_spread, location_spread]``, so that some items are easier to
        agree with than others, as in real scales.

        Examples
        --------
        >>> ItemParameters.spread(3, 1.5).thresholds[:, 0].round(2).tolist()
        [-2.5, -2.0, -1.5]
        """
        if isinstance(n_items, bool) or not isinstance(n_items, int) or n_items < 2:
            raise ValueError(f"n_items must be a whole number >= 2, got {n_items!r}.")
        base = np.asarray(thresholds, dtype=float).reshape(1, -1)
        shift = np.linspace(-location_spread, location_spread, n_items).reshape(-1, 1)
        return cls(np.full(n_items, float(discrimination)), base + shift)


def grm_probabilities(theta: ArrayLike, items: ItemParameters) -> NDArray[np.float64]:
    r"""Category probabilities of every item for every trait value.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Standardized latent trait values.
    items : ItemParameters

    Returns
    -------
    ndarray, shape (n, I, K)
        :math:`P(X_i = k \mid \theta)` for answers ``k = 1..K`` (last axis), computed as
        :math:`P^*_{k-1} - P^*_k` with :math:`P^*_k = \operatorname{logistic}(a_i(\theta -
        b_{ik}))`, :math:`P^*_0 = 1` and :math:`P^*_K = 0`.

    Examples
    --------
    >>> items = ItemParameters.spread(2, 1.0, thresholds=[0.0])
    >>> grm_probabilities([0.0], items).round(3).tolist()
    [[[0.378, 0.622], [0.622, 0.378]]]
    """
    t = np.asarray(theta, dtype=float).reshape(-1, 1, 1)
    a = items.discrimination.reshape(1, -1, 1)
    cum = _logistic(a * (t - items.thresholds[None, :, :]))  # (n, I, K-1): P(X >= k+1)
    n = t.shape[0]
    ones = np.ones((n, items.n_items, 1))
    zeros = np.zeros((n, items.n_items, 1))
    upper = np.concatenate([ones, cum], axis=2)
    lower = np.concatenate([cum, zeros], axis=2)
    return upper - lower


def grm_responses(
    theta: ArrayLike, items: ItemParameters, rng: np.random.Generator
) -> NDArray[np.int64]:
    r"""Draw answers to every item from the graded response model.

    One uniform draw :math:`u` per person and item gives the answer
    :math:`X = 1 + \#\{k : u < P^*_k(\theta)\}` (the thresholds passed), which has exactly
    the model's category probabilities.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Standardized latent trait values.
    items : ItemParameters
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of int, shape (n, I)
        Answers in ``1..K``.

    Examples
    --------
    >>> items = ItemParameters.spread(4, 2.0)
    >>> x = grm_responses([-3.0, 0.0, 3.0], items, np.random.default_rng(1))
    >>> x.shape, int(x.min()) >= 1, int(x.max()) <= 5
    ((3, 4), True, True)
    """
    t = np.asarray(theta, dtype=float).reshape(-1, 1, 1)
    if not np.all(np.isfinite(t)):
        raise ValueError("theta: latent trait values must be finite (no missing values).")
    a = items.discrimination.reshape(1, -1, 1)
    cum = _logistic(a * (t - items.thresholds[None, :, :]))
    u = rng.random((t.shape[0], items.n_items, 1))
    return 1 + (u < cum).sum(axis=2).astype(np.int64)


def _trait_distribution(theta: ArrayLike | None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes and weights of the trait distribution: standard normal, or a sample."""
    if theta is None:
        nodes, weights = np.polynomial.hermite_e.hermegauss(81)
        return nodes, weights / weights.sum()
    t = np.asarray(theta, dtype=float).reshape(-1)
    t = t[np.isfinite(t)]
    if t.size < 2:
        raise ValueError("theta: need at least two finite trait values.")
    return t, np.full(t.size, 1.0 / t.size)


def population_alpha(items: ItemParameters, theta: ArrayLike | None = None) -> float:
    r"""Cronbach's alpha of the scale implied by the graded response model.

    Parameters
    ----------
    items : ItemParameters
    theta : array_like, optional
        Trait values whose (empirical) distribution to average over; default the standard
        normal distribution (81-point Gauss-Hermite quadrature).

    Returns
    -------
    float
        The population alpha of the module docstring: what :func:`toolkit.survey.cronbach_alpha`
        converges to on many respondents.

    Examples
    --------
    >>> round(population_alpha(ItemParameters.spread(6, 1.8)), 3)
    0.84
    """
    nodes, w = _trait_distribution(theta)
    p = grm_probabilities(nodes, items)  # (q, I, K)
    k = np.arange(1, items.n_categories + 1, dtype=float)
    m = p @ k  # (q, I)
    v = p @ k**2 - m**2
    mbar = w @ m
    dev = m - mbar
    cov = (dev * w[:, None]).T @ dev  # (I, I) covariance of conditional means
    var_items = w @ v + np.diag(cov)
    total = var_items.sum() + (cov.sum() - np.trace(cov))
    n = items.n_items
    return float(n / (n - 1) * (1.0 - var_items.sum() / total))


def items_for_reliability(
    reliability: float,
    n_items: int,
    *,
    thresholds: ArrayLike = DEFAULT_THRESHOLDS_5,
    location_spread: float = 0.5,
    theta: ArrayLike | None = None,
) -> ItemParameters:
    r"""Item parameters whose scale has a chosen Cronbach's alpha.

    Keeps the thresholds (shifted across items by :meth:`ItemParameters.spread`) and solves
    :math:`\alpha(a) = ` ``reliability`` for the common discrimination :math:`a` by Brent's
    method (alpha increases with :math:`a`).

    Parameters
    ----------
    reliability : float
        Wanted alpha, in (0, 1).
    n_items : int
        Items in the scale (>= 2).
    thresholds : array_like
        Thresholds of the middle item, increasing; ``K - 1`` values for ``K`` answers
        (default: a five-point agreement scale).
    location_spread : float
        Half-range of the shifts of the thresholds across items.
    theta : array_like, optional
        Trait values the scale will be given (their empirical distribution is used; default
        standard normal).

    Returns
    -------
    ItemParameters

    Raises
    ------
    ValueError
        If the alpha asked for cannot be reached with so few items or answer categories
        (the message gives the largest attainable value).

    Examples
    --------
    >>> items = items_for_reliability(0.8, 5)
    >>> round(population_alpha(items), 6)
    0.8
    """
    if not 0 < reliability < 1:
        raise ValueError(f"reliability must be strictly between 0 and 1, got {reliability!r}.")

    def gap(log_a: float) -> float:
        it = ItemParameters.spread(n_items, float(np.exp(log_a)), thresholds, location_spread)
        return population_alpha(it, theta) - reliability

    lo, hi = np.log(0.02), np.log(40.0)
    if gap(hi) < 0:
        best = gap(hi) + reliability
        raise ValueError(
            f"reliability {reliability} cannot be reached with {n_items} items of "
            f"{len(np.atleast_1d(thresholds)) + 1} categories (at most about {best:.3f}); "
            "use more items or more answer categories."
        )
    if gap(lo) > 0:
        raise ValueError(f"reliability {reliability} is too low for {n_items} items.")
    log_a = optimize.brentq(gap, lo, hi, xtol=1e-12)
    return ItemParameters.spread(n_items, float(np.exp(log_a)), thresholds, location_spread)
