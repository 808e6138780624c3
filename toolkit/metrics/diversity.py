"""Diversity of skill profiles: distances, strongest-domain entropy, Rao's Q, excellence.

A *profile* table is a 2-D array-like with one row per student and one column per domain
(e.g. ``skill_mathematics``, ``skill_reading``, ``skill_arts``, ``skill_technology``). It may
be a numpy array or a pandas DataFrame (then column names label the domains). With
``nan_policy="omit"`` (default) students with a NaN in any domain are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from toolkit.metrics.effect_size import (
    NanPolicy,
    _check_choice,
    _check_nan_policy,
    _require_n,
    _to_float_array,
)

__all__ = [
    "diversity_of_excellence",
    "excellence_thresholds",
    "mean_pairwise_distance",
    "mean_pairwise_euclidean",
    "rao_quadratic_entropy",
    "rao_quadratic_entropy_profiles",
    "strongest_domain_entropy",
    "strongest_domain_shares",
]

Ties = Literal["split", "first"]


def _as_profiles(
    profiles: ArrayLike, nan_policy: str = "omit", name: str = "profiles"
) -> tuple[np.ndarray, list[str], int]:
    """Return (complete rows as float array, domain labels, number of rows dropped)."""
    _check_nan_policy(nan_policy)
    arr = _to_float_array(profiles, name)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be two-dimensional (students x domains), got shape {arr.shape}."
        )
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one domain column.")
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains infinite values.")
    if isinstance(profiles, pd.DataFrame):
        labels = [str(c) for c in profiles.columns]
    else:
        labels = [f"domain_{k}" for k in range(arr.shape[1])]
    bad = np.isnan(arr).any(axis=1)
    n_bad = int(bad.sum())
    if n_bad and nan_policy == "raise":
        raise ValueError(f"{name} has {n_bad} row(s) with NaN and nan_policy='raise'.")
    return arr[~bad], labels, n_bad


def mean_pairwise_distance(
    profiles: ArrayLike,
    metric: str | Callable[[np.ndarray, np.ndarray], float] = "euclidean",
    *,
    nan_policy: NanPolicy = "omit",
) -> float:
    r"""Mean distance between the skill profiles of all pairs of students.

    Parameters
    ----------
    profiles : 2-D array-like of float
        Students x domains.
    metric : str or callable, default "euclidean"
        Any metric accepted by :func:`scipy.spatial.distance.pdist` (``"euclidean"``,
        ``"cityblock"``, ``"chebyshev"``, ``"cosine"``, ...).
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"`` drops students with a NaN in any domain.

    Returns
    -------
    float
        Mean of the :math:`n(n-1)/2` distances between distinct students.

    Notes
    -----
    .. math::

        \bar\delta = \frac{2}{n(n-1)} \sum_{i<j} \delta(x_i, x_j), \qquad
        \delta_{\mathrm{euclidean}}(x_i, x_j) = \sqrt{\sum_k (x_{ik} - x_{jk})^2}

    Distances depend on the units of each domain: put domains on a common scale first.
    Memory and time grow as :math:`n^2`.

    References
    ----------
    .. [1] Rao, C. R. (1982). Diversity and dissimilarity coefficients: a unified approach.
       *Theoretical Population Biology*, 21(1), 24-43.
       https://doi.org/10.1016/0040-5809(82)90004-1
    .. [2] Virtanen, P., et al. (2020). SciPy 1.0: fundamental algorithms for scientific
       computing in Python. *Nature Methods*, 17, 261-272.
       https://doi.org/10.1038/s41592-019-0686-2

    Examples
    --------
    >>> mean_pairwise_distance([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    4.0
    """
    arr, _, _ = _as_profiles(profiles, nan_policy)
    _require_n(arr.shape[0], 2, "profiles (complete rows)")
    from scipy.spatial import distance as ssd  # any of its metrics (imported when needed)

    try:
        dists = ssd.pdist(arr, metric=metric)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"metric {metric!r} is not usable with scipy's pdist: {exc}") from None
    return float(np.mean(dists))


#: Most differences held at once by :func:`mean_pairwise_euclidean` (classrooms x pairs x
#: domains; 2**20 doubles are 8 MB).
_PAIR_BLOCK = 2**20


def mean_pairwise_euclidean(x: np.ndarray) -> np.ndarray:
    r"""Mean Euclidean distance between the profiles of all pairs, for many groups at once.

    The same numbers as :func:`mean_pairwise_distance` with ``metric="euclidean"`` on each
    group (``float(np.mean(scipy.spatial.distance.pdist(x[g])))``), bit for bit: each
    distance sums the squared differences domain by domain from the first, as ``pdist``
    does, and each group's mean is numpy's over its pairs in ``pdist``'s order; without
    importing :mod:`scipy` (a run's workers compute this for every classroom). NaNs
    propagate, as there; there is no ``nan_policy``.

    Parameters
    ----------
    x : ndarray, shape (g, n, k)
        ``g`` groups of ``n >= 2`` profiles over ``k >= 1`` domains.

    Returns
    -------
    ndarray, shape (g,)
        :math:`\bar\delta_g = \frac{2}{n(n-1)} \sum_{i<j} \lVert x_{gi} - x_{gj} \rVert_2`.

    Notes
    -----
    Time grows as :math:`g n^2 k`; the differences are held for a block of groups at a time
    (at most about 8 MB), so memory does not grow with :math:`g`. For 200 classrooms of 21
    students in 4 domains it takes about a quarter of the time of ``pdist`` called per
    classroom.

    References
    ----------
    Those of :func:`mean_pairwise_distance`: the mean pairwise distance as a diversity
    coefficient (Rao, 1982) and SciPy's ``pdist``, whose numbers these are (Virtanen et al.,
    2020).

    Examples
    --------
    >>> mean_pairwise_euclidean(np.array([[[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]]])).tolist()
    [4.0]
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 3 or x.shape[1] < 2 or x.shape[2] < 1:
        raise ValueError(
            f"x must have shape (groups, n >= 2 profiles, k >= 1 domains), got {x.shape}."
        )
    g, n, k = x.shape
    first, second = np.triu_indices(n, 1)  # pdist's order: (0, 1), (0, 2), ..., (n - 2, n - 1)
    out = np.empty(g)
    step = max(1, _PAIR_BLOCK // (len(first) * k))
    for lo in range(0, g, step):
        diff = x[lo : lo + step, first] - x[lo : lo + step, second]
        sq = diff[..., 0] * diff[..., 0]
        for j in range(1, k):  # domain by domain, as pdist adds them (not numpy's pairwise sum)
            sq += diff[..., j] * diff[..., j]
        # rows contiguous (fancy indexing puts the pairs outermost): numpy then adds each row
        # as it adds a 1-D array, pairwise, which is np.mean's sum over pdist's distances
        dist = np.sqrt(np.ascontiguousarray(sq))
        out[lo : lo + step] = np.add.reduce(dist, axis=1) / dist.shape[1]
    return out


def _strongest_weights(arr: np.ndarray, ties: str) -> np.ndarray:
    """Students x domains weights: 1 on the strongest domain (split among ties, or first)."""
    if ties == "first":
        w = np.zeros_like(arr)
        w[np.arange(arr.shape[0]), np.argmax(arr, axis=1)] = 1.0
        return w
    is_max = arr == arr.max(axis=1, keepdims=True)
    return is_max / is_max.sum(axis=1, keepdims=True)


def strongest_domain_shares(
    profiles: ArrayLike,
    *,
    ties: Ties = "split",
    nan_policy: NanPolicy = "omit",
) -> pd.Series:
    r"""Share of students whose strongest domain is each domain.

    Parameters
    ----------
    profiles : 2-D array-like of float
        Students x domains, on a common scale (the argmax compares domains directly, so
        standardise domains first if their units differ).
    ties : {"split", "first"}, default "split"
        When a student's maximum is reached in several domains (exact equality):
        ``"split"`` shares the student's unit weight equally among the tied domains;
        ``"first"`` gives it to the first tied domain in column order (``numpy.argmax``).
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"`` drops students with a NaN in any domain.

    Returns
    -------
    pandas.Series
        Proportions :math:`p_k` summing to 1, indexed by domain (DataFrame column names, or
        ``domain_0``, ``domain_1``, ... for arrays), named ``"share"``.

    Notes
    -----
    .. math::

        p_k = \frac{1}{n} \sum_{i=1}^{n}
              \frac{\mathbb 1[x_{ik} = \max_l x_{il}]}{\#\{l : x_{il} = \max_m x_{im}\}}
        \quad (\text{ties} = \text{"split"})

    References
    ----------
    .. [1] Shannon, C. E. (1948). A mathematical theory of communication. *Bell System
       Technical Journal*, 27(3), 379-423. https://doi.org/10.1002/j.1538-7305.1948.tb01338.x

    Examples
    --------
    >>> strongest_domain_shares([[3, 1], [1, 3], [2, 2], [5, 0]]).tolist()
    [0.625, 0.375]
    """
    _check_choice(ties, "ties", ("split", "first"))
    arr, labels, _ = _as_profiles(profiles, nan_policy)
    _require_n(arr.shape[0], 1, "profiles (complete rows)")
    shares = _strongest_weights(arr, ties).mean(axis=0)
    return pd.Series(shares, index=pd.Index(labels, name="domain"), name="share")


def strongest_domain_entropy(
    profiles: ArrayLike,
    *,
    base: float | None = None,
    normalize: bool = False,
    ties: Ties = "split",
    nan_policy: NanPolicy = "omit",
) -> float:
    r"""Shannon entropy of the distribution of students' strongest domain.

    Zero when every student's strongest domain is the same; :math:`\log K` (for :math:`K`
    domains) when the strongest domains are spread evenly.

    Parameters
    ----------
    profiles : 2-D array-like of float
        Students x domains, on a common scale.
    base : float, optional
        Logarithm base; default natural log (nats). ``base=2`` gives bits.
    normalize : bool, default False
        Divide by :math:`\log K`, giving Pielou's evenness in [0, 1] (independent of
        ``base``). Needs at least two domains.
    ties : {"split", "first"}, default "split"
        Rule for students whose maximum is tied; see :func:`strongest_domain_shares`.
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"`` drops students with a NaN in any domain.

    Returns
    -------
    float
        The entropy (or evenness if ``normalize``).

    Notes
    -----
    With :math:`p_k` the share of students whose strongest domain is :math:`k`
    (:func:`strongest_domain_shares`) and :math:`0 \log 0 = 0`,

    .. math::

        H = -\sum_{k=1}^{K} p_k \log_b p_k, \qquad J = \frac{H}{\log_b K}.

    Computed per class, this is the entropy "of each class's distribution of students'
    strongest domain"; pooling a whole regime first gives a different (larger or equal)
    number.

    References
    ----------
    .. [1] Shannon, C. E. (1948). A mathematical theory of communication. *Bell System
       Technical Journal*, 27(3), 379-423. https://doi.org/10.1002/j.1538-7305.1948.tb01338.x
    .. [2] Pielou, E. C. (1966). The measurement of diversity in different types of
       biological collections. *Journal of Theoretical Biology*, 13, 131-144.
       https://doi.org/10.1016/0022-5193(66)90013-0

    Examples
    --------
    >>> import numpy as np
    >>> round(strongest_domain_entropy(np.eye(4)), 6) == round(float(np.log(4)), 6)
    True
    >>> strongest_domain_entropy([[1, 0], [2, 0]])
    0.0
    """
    if base is not None:
        if isinstance(base, bool) or not isinstance(base, int | float | np.integer | np.floating):
            raise TypeError(f"base must be a positive number other than 1, got {base!r}.")
        if not (base > 0 and base != 1 and math.isfinite(base)):
            raise ValueError(f"base must be a positive number other than 1, got {base}.")
    shares = strongest_domain_shares(profiles, ties=ties, nan_policy=nan_policy).to_numpy()
    k = shares.size
    p = shares[shares > 0]
    h = float(-np.sum(p * np.log(p)))
    h = max(h, 0.0) + 0.0  # avoid -0.0
    if normalize:
        if k < 2:
            raise ValueError("normalize=True needs at least two domains (log K would be 0).")
        return h / math.log(k)
    if base is not None:
        h /= math.log(base)
    return h


def rao_quadratic_entropy(proportions: ArrayLike, distance: ArrayLike) -> float:
    r"""Rao's quadratic entropy over categories with a given distance matrix.

    The expected distance between two individuals drawn at random (with replacement),
    e.g. with categories = students' strongest domains and distances between domains.

    Parameters
    ----------
    proportions : 1-D array-like of float
        Non-negative weights :math:`p_k` of the :math:`K` categories; normalised to sum to 1,
        so counts are accepted.
    distance : 2-D array-like of float
        :math:`K \times K` symmetric, non-negative distance matrix with a zero diagonal.

    Returns
    -------
    float
        :math:`Q`.

    Notes
    -----
    .. math::

        Q = \sum_{i=1}^{K} \sum_{j=1}^{K} d_{ij}\, p_i\, p_j

    With :math:`d_{ij} = 1` for :math:`i \ne j`, Q is the Gini-Simpson index
    :math:`1 - \sum_k p_k^2`. For the form over individuals see
    :func:`rao_quadratic_entropy_profiles`.

    References
    ----------
    .. [1] Rao, C. R. (1982). Diversity and dissimilarity coefficients: a unified approach.
       *Theoretical Population Biology*, 21(1), 24-43.
       https://doi.org/10.1016/0040-5809(82)90004-1

    Examples
    --------
    >>> rao_quadratic_entropy([0.5, 0.5], [[0, 1], [1, 0]])
    0.5
    """
    p = _to_float_array(proportions, "proportions")
    d = _to_float_array(distance, "distance")
    if p.ndim != 1 or p.size < 1:
        raise ValueError(f"proportions must be a non-empty 1-D array, got shape {p.shape}.")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("proportions must be finite and non-negative.")
    if p.sum() <= 0:
        raise ValueError("proportions must not all be zero.")
    if d.shape != (p.size, p.size):
        raise ValueError(
            f"distance must be a {p.size} x {p.size} matrix to match proportions, "
            f"got shape {d.shape}."
        )
    if not np.isfinite(d).all() or (d < 0).any():
        raise ValueError("distance must be finite and non-negative.")
    if not np.allclose(d, d.T, rtol=1e-10, atol=1e-12):
        raise ValueError("distance must be symmetric.")
    if not np.allclose(np.diag(d), 0.0, atol=1e-12):
        raise ValueError("distance must have a zero diagonal.")
    p = p / p.sum()
    return float(p @ d @ p)


def rao_quadratic_entropy_profiles(
    profiles: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    metric: str | Callable[[np.ndarray, np.ndarray], float] = "euclidean",
    nan_policy: NanPolicy = "omit",
) -> float:
    r"""Rao's quadratic entropy over individuals, with :math:`d_{ij} = \delta_{ij}^2 / 2`.

    Parameters
    ----------
    profiles : 2-D array-like of float
        Students x domains.
    weights : 1-D array-like of float, optional
        Non-negative weight per student (normalised to sum 1); default equal weights
        :math:`1/n`.
    metric : str or callable, default "euclidean"
        Distance :math:`\delta` between profiles (any :func:`scipy.spatial.distance.pdist`
        metric). It is squared and halved.
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"`` drops students with a NaN in any domain (and their weights).

    Returns
    -------
    float
        :math:`Q`.

    Notes
    -----
    .. math::

        Q = \sum_{i=1}^{n}\sum_{j=1}^{n} w_i w_j \frac{\delta_{ij}^2}{2}

    For Euclidean :math:`\delta` this equals the total (trace of the weighted population)
    variance of the profiles, :math:`\sum_k \sum_i w_i (x_{ik} - \bar x_k^{(w)})^2`, which is
    how it is computed in that case (:math:`O(nK)`). With equal weights it is half the mean
    squared distance over all :math:`n^2` ordered pairs (self-pairs included), that is

    .. math::

        Q = \frac{1}{2n^2}\sum_{i,j}\delta_{ij}^2 = \frac{n-1}{2n}\,
        \overline{\delta^2}_{i<j},

    where :math:`\overline{\delta^2}_{i<j}` is the mean over the :math:`n(n-1)/2` distinct
    pairs (Champely & Chessel, 2002).

    References
    ----------
    .. [1] Rao, C. R. (1982). Diversity and dissimilarity coefficients: a unified approach.
       *Theoretical Population Biology*, 21(1), 24-43.
       https://doi.org/10.1016/0040-5809(82)90004-1
    .. [2] Champely, S., & Chessel, D. (2002). Measuring biological diversity using Euclidean
       metrics. *Environmental and Ecological Statistics*, 9, 167-177.
       https://doi.org/10.1023/A:1015170104476

    Examples
    --------
    >>> rao_quadratic_entropy_profiles([[0.0, 0.0], [2.0, 0.0]])
    1.0
    """
    _check_nan_policy(nan_policy)
    raw = _to_float_array(profiles, "profiles")
    if raw.ndim != 2:
        raise ValueError(
            f"profiles must be two-dimensional (students x domains), got shape {raw.shape}."
        )
    keep = ~np.isnan(raw).any(axis=1)
    if weights is None:
        w_all = np.ones(raw.shape[0])
    else:
        w_all = _to_float_array(weights, "weights")
        if w_all.shape != (raw.shape[0],):
            raise ValueError(
                f"weights must have one value per row of profiles ({raw.shape[0]}), "
                f"got shape {w_all.shape}."
            )
        if not np.isfinite(w_all).all() or (w_all < 0).any():
            raise ValueError("weights must be finite and non-negative.")
    arr, _, _ = _as_profiles(raw, nan_policy)
    w = w_all[keep]
    _require_n(arr.shape[0], 1, "profiles (complete rows)")
    if w.sum() <= 0:
        raise ValueError("weights of the complete rows must not all be zero.")
    w = w / w.sum()
    if metric == "euclidean":
        centre = w @ arr
        return float(np.sum(w[:, None] * (arr - centre) ** 2))
    from scipy.spatial import distance as ssd

    try:
        dmat = ssd.squareform(ssd.pdist(arr, metric=metric))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"metric {metric!r} is not usable with scipy's pdist: {exc}") from None
    return float(w @ (dmat**2 / 2.0) @ w)


def excellence_thresholds(
    profiles: ArrayLike,
    quantile: float = 0.9,
    *,
    nan_policy: NanPolicy = "omit",
) -> pd.Series:
    r"""Per-domain score at the given quantile (default: the top-decile threshold).

    Compute these once on a reference population (all regimes pooled, or the standardized
    regime) and pass them to :func:`diversity_of_excellence`, so that every group is judged
    against the same bar.

    Parameters
    ----------
    profiles : 2-D array-like of float
        Students x domains of the reference population.
    quantile : float, default 0.9
        Probability in (0, 1).
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"`` drops students with a NaN in any domain.

    Returns
    -------
    pandas.Series
        One threshold per domain, indexed by domain label (DataFrame column names, or
        ``domain_0``, ...), named ``"threshold"``.

    Notes
    -----
    Numpy's ``method="linear"`` quantile (R type 7; see :func:`toolkit.metrics.percentile_gap`)
    of each domain column :math:`k` over the :math:`n` students:

    .. math::

        t_k = x_{(\lfloor h \rfloor),k} + (h - \lfloor h \rfloor)
              \left(x_{(\lfloor h \rfloor + 1),k} - x_{(\lfloor h \rfloor),k}\right),
        \qquad h = (n - 1)q + 1.

    References
    ----------
    .. [1] Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical packages.
       *The American Statistician*, 50(4), 361-365. https://doi.org/10.2307/2684934

    Examples
    --------
    >>> excellence_thresholds([[0.0, 10.0], [1.0, 20.0], [2.0, 30.0]], quantile=0.5).tolist()
    [1.0, 20.0]
    """
    q = _check_quantile(quantile)
    arr, labels, _ = _as_profiles(profiles, nan_policy)
    _require_n(arr.shape[0], 1, "profiles (complete rows)")
    thr = np.quantile(arr, q, axis=0, method="linear")
    return pd.Series(thr, index=pd.Index(labels, name="domain"), name="threshold")


def _check_quantile(quantile: float) -> float:
    if isinstance(quantile, bool) or not isinstance(
        quantile, int | float | np.integer | np.floating
    ):
        raise TypeError(f"quantile must be a number in (0, 1), got {type(quantile).__name__}.")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be strictly between 0 and 1, got {quantile}.")
    return float(quantile)


def _resolve_thresholds(thresholds: object, labels: list[str], is_frame: bool) -> np.ndarray:
    k = len(labels)
    if isinstance(thresholds, pd.Series | Mapping):
        mapping = thresholds.to_dict() if isinstance(thresholds, pd.Series) else dict(thresholds)
        keys = {str(key): value for key, value in mapping.items()}
        if is_frame or all(lbl in keys for lbl in labels):
            missing = [lbl for lbl in labels if lbl not in keys]
            if missing:
                raise ValueError(f"thresholds has no value for domain(s) {missing}.")
            values = [keys[lbl] for lbl in labels]
        else:
            values = list(mapping.values())
        thr = _to_float_array(values, "thresholds")
    else:
        thr = _to_float_array(thresholds, "thresholds")
    if thr.shape != (k,):
        raise ValueError(f"thresholds must have one value per domain ({k}), got shape {thr.shape}.")
    if not np.isfinite(thr).all():
        raise ValueError("thresholds must be finite.")
    return thr


def diversity_of_excellence(
    profiles: ArrayLike,
    quantile: float = 0.9,
    thresholds: ArrayLike | Mapping[str, float] | None = None,
    *,
    nan_policy: NanPolicy = "omit",
) -> float:
    r"""Share of students at or above the excellence threshold in at least one domain.

    Parameters
    ----------
    profiles : 2-D array-like of float
        Students x domains.
    quantile : float, default 0.9
        Quantile defining excellence when ``thresholds`` is None (0.9: top decile).
    thresholds : 1-D array-like, pandas Series or mapping, optional
        One threshold per domain, e.g. from :func:`excellence_thresholds` on a reference
        population (pooled regimes, or the standardized regime). A Series or mapping is
        aligned to the DataFrame's column names; an array is taken in column order.
        Default: thresholds from ``profiles`` itself at ``quantile``.
    nan_policy : {"omit", "raise"}, default "omit"
        ``"omit"`` drops students with a NaN in any domain.

    Returns
    -------
    float
        Share in [0, 1].

    Notes
    -----
    .. math::

        E = \frac{1}{n}\sum_{i=1}^n \mathbb 1\left[\exists k:\ x_{ik} \ge t_k\right],
        \qquad t_k = Q_k(q)\ \text{by default}

    With thresholds from the same data, each domain has about :math:`1 - q` of students at or
    above its threshold, so :math:`E` lies between about :math:`1 - q` (the same students
    excel everywhere) and :math:`\min(1, K(1 - q))` (every excellent student excels in a
    different domain). With thresholds from a reference population, :math:`E` also moves
    with the level of the profiles, which is what a comparison of regimes needs.

    References
    ----------
    .. [1] Sternberg, R. J. (1985). *Beyond IQ: A triarchic theory of human intelligence*.
       Cambridge University Press.
    .. [2] Page, S. E. (2007). *The difference: How the power of diversity creates better
       groups, firms, schools, and societies*. Princeton University Press.
       https://doi.org/10.1515/9781400830282

    Examples
    --------
    >>> profiles = [[9, 1], [1, 9], [5, 5], [2, 2]]
    >>> diversity_of_excellence(profiles, thresholds=[8, 8])
    0.5
    """
    q = _check_quantile(quantile)
    arr, labels, _ = _as_profiles(profiles, nan_policy)
    _require_n(arr.shape[0], 1, "profiles (complete rows)")
    if thresholds is None:
        thr = np.quantile(arr, q, axis=0, method="linear")
    else:
        thr = _resolve_thresholds(thresholds, labels, isinstance(profiles, pd.DataFrame))
    return float(np.mean((arr >= thr).any(axis=1)))
