r"""Docking two implementations of the classroom model (Axtell et al. 1996).

Two implementations *dock* when they produce the same distributions of the outputs that matter
(Axtell, Axelrod, Epstein & Cohen 1996 call this "distributional equivalence"): here the
classroom-level outcome and diversity metrics of :func:`classroom_metrics`. The exact check (the
same classroom seed gives the same numbers) is stronger but says nothing about whether the
comparison would catch a real difference; the distributional check runs the implementations on
*independent* seeds and asks whether their samples could come from the same distribution, and a
deliberately perturbed implementation must fail it (the test has power).

:func:`compare_distributions` tests each metric twice:

- the difference of the means lies inside its :math:`1 - \alpha'` Welch confidence band,
  :math:`|\bar a - \bar b| \le t_{1-\alpha'/2,\nu}\sqrt{s_a^2/n_a + s_b^2/n_b}`;
- the two-sample Kolmogorov-Smirnov test does not reject at level :math:`\alpha'`
  (:func:`scipy.stats.ks_2samp`, exact p-value for these sample sizes);

with the family-wise level :math:`\alpha` split over all :math:`2k` tests of :math:`k` metrics
(Bonferroni, :math:`\alpha' = \alpha / 2k`), so that two implementations of the same model fail
with probability at most :math:`\alpha`.

References
----------
.. [1] Axtell, R., Axelrod, R., Epstein, J. M., & Cohen, M. D. (1996). Aligning simulation
   models: a case study and results. *Computational and Mathematical Organization Theory*,
   1(2), 123-141. https://doi.org/10.1007/BF01299065
.. [2] Welch, B. L. (1947). The generalization of "Student's" problem when several different
   population variances are involved. *Biometrika*, 34(1/2), 28-35.
.. [3] Massey, F. J. (1951). The Kolmogorov-Smirnov test for goodness of fit. *Journal of the
   American Statistical Association*, 46(253), 68-78.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["METRICS", "classroom_metrics", "compare_distributions"]

#: Classroom-level metrics compared by default (see :func:`classroom_metrics`).
METRICS = (
    "mean_score",
    "sd_score",
    "total_learning",
    "engagement",
    "fit",
    "profile_distance",
)


def classroom_metrics(table: pd.DataFrame) -> pd.DataFrame:
    """Outcome and diversity metrics of each classroom (and school year) of a student table.

    Parameters
    ----------
    table : pandas.DataFrame
        A student table of :func:`toolkit.engine.simulate_batch` (or of
        :meth:`toolkit.model.ClassroomModel.student_table` with a ``classroom`` column).

    Returns
    -------
    pandas.DataFrame
        One row per ``classroom`` and ``year`` with

        - ``mean_score``: mean standardized (core) test score;
        - ``sd_score``: SD of the test scores (``ddof=1``);
        - ``total_learning``: mean over students of the gain summed over all domains;
        - ``engagement``: mean of the students' average engagement over the year;
        - ``fit``: mean of the students' average challenge fit;
        - ``profile_distance``: mean Euclidean distance between the end-of-year skill
          profiles of all pairs of students (the formula of
          :func:`toolkit.metrics.mean_pairwise_distance`, for all classrooms at once).

    Examples
    --------
    >>> from toolkit.engine import simulate_batch
    >>> from toolkit.model import Parameters, classroom_seed
    >>> t = simulate_batch("personal", Parameters(n_students=8, n_days=5),
    ...                    [classroom_seed(0, i) for i in range(2)])
    >>> classroom_metrics(t).shape
    (2, 8)
    """
    skills = [c for c in table.columns if c.startswith("skill_")]
    t = table.sort_values(["classroom", "year", "student"], kind="stable")
    keys = t[["classroom", "year"]].drop_duplicates()
    n_units = len(keys)
    if n_units == 0 or len(t) % n_units:
        raise ValueError("classroom_metrics: every classroom-year must have the same students.")
    n = len(t) // n_units
    if n < 2:
        raise ValueError("classroom_metrics: needs at least 2 students per classroom.")

    def per_unit(col: str) -> np.ndarray:
        return t[col].to_numpy(dtype=float).reshape(n_units, n)

    score = per_unit("score")
    profiles = t[skills].to_numpy(dtype=float).reshape(n_units, n, len(skills))
    # mean Euclidean distance over the n (n - 1) / 2 pairs, as mean_pairwise_distance computes
    # it, for every classroom at once
    dist = np.sqrt(((profiles[:, :, None, :] - profiles[:, None, :, :]) ** 2).sum(axis=-1))
    upper = np.triu_indices(n, k=1)
    out = keys.reset_index(drop=True)
    out["mean_score"] = score.mean(axis=1)
    out["sd_score"] = score.std(axis=1, ddof=1)
    out["total_learning"] = per_unit("total_learning").mean(axis=1)
    out["engagement"] = per_unit("engagement").mean(axis=1)
    out["fit"] = per_unit("fit").mean(axis=1)
    out["profile_distance"] = dist[:, upper[0], upper[1]].mean(axis=1)
    return out


def compare_distributions(
    a: pd.DataFrame,
    b: pd.DataFrame,
    metrics: Sequence[str] = METRICS,
    alpha: float = 0.01,
) -> pd.DataFrame:
    r"""Test whether two samples of classroom metrics come from the same distributions.

    Parameters
    ----------
    a, b : pandas.DataFrame
        Classroom metrics (:func:`classroom_metrics`) of the two implementations, on
        independent seeds.
    metrics : sequence of str
        Columns to compare.
    alpha : float
        Family-wise level: each of the ``2 * len(metrics)`` tests runs at
        ``alpha / (2 * len(metrics))`` (Bonferroni).

    Returns
    -------
    pandas.DataFrame
        One row per metric: ``n_a, n_b, mean_a, mean_b, diff`` (``mean_b - mean_a``),
        ``ci_low, ci_high`` (Welch band of the difference at the per-test level),
        ``mean_ok`` (0 inside the band), ``ks_stat, ks_p, ks_ok`` (``ks_p >= alpha'``) and
        ``docked`` (both). ``df.attrs["alpha_per_test"]`` holds :math:`\alpha'`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame({"m": rng.normal(size=200)})
    >>> y = pd.DataFrame({"m": rng.normal(size=300)})
    >>> bool(compare_distributions(x, y, ["m"]).docked.all())
    True
    >>> bool(compare_distributions(x, y + 0.5, ["m"]).docked.all())
    False
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    per_test = alpha / (2 * len(metrics))
    rows = []
    for m in metrics:
        x = a[m].to_numpy(dtype=float)
        y = b[m].to_numpy(dtype=float)
        va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
        se = np.sqrt(va + vb)
        dof = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1)) if se > 0 else np.inf
        diff = y.mean() - x.mean()
        half = stats.t.ppf(1 - per_test / 2, dof) * se
        ks = stats.ks_2samp(x, y)
        mean_ok = bool(abs(diff) <= half)
        ks_ok = bool(ks.pvalue >= per_test)
        rows.append(
            {
                "metric": m,
                "n_a": x.size,
                "n_b": y.size,
                "mean_a": x.mean(),
                "mean_b": y.mean(),
                "diff": diff,
                "ci_low": diff - half,
                "ci_high": diff + half,
                "mean_ok": mean_ok,
                "ks_stat": float(ks.statistic),
                "ks_p": float(ks.pvalue),
                "ks_ok": ks_ok,
                "docked": mean_ok and ks_ok,
            }
        )
    out = pd.DataFrame(rows).set_index("metric")
    out.attrs["alpha_per_test"] = per_test
    return out
