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

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["METRICS", "bitwise_properties", "classroom_metrics", "compare_distributions"]

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


def bitwise_properties(n: int = 100_000, seed: int = 0) -> dict[str, tuple[bool, str]]:
    r"""Which bit-for-bit properties of the two kernels hold on this machine, and why.

    What holds everywhere, and is tested on every machine: the same seed gives the same bits
    on the same machine; results do not depend on the chunk size, the block size of the daily
    draws, which arms run together or the number of workers; and the engine (either kernel)
    equals the Mesa model to a relative :math:`10^{-12}`. Two stronger properties depend on
    how numpy evaluates the elementary functions on the CPU at hand, and are tested only where
    they hold:

    ``"numpy_kernel_is_mesa"``
        The ``"numpy"`` kernel reproduces the Mesa model bit for bit. Both call the same numpy
        functions, the Mesa agents on one student's row and the engine on whole arrays, so this
        holds when numpy's ``exp`` and ``log`` give each element the same result whatever the
        length of the array (probed by comparing whole arrays with rows of 4 and with scalars).
    ``"numba_kernel_is_numpy"``
        The compiled kernel reproduces the ``"numpy"`` kernel bit for bit (with group sums in
        student order). The kernel calls the C library's ``exp`` and ``log``, so this holds
        when numpy's ``exp`` and ``log`` return the C library's results; where numpy dispatches
        its own SIMD code (x86-64 with AVX-512, numpy 2.x), the two differ by one or two units
        in the last place
        (relative :math:`\sim 10^{-15}`). ``NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL
        AVX512_SPR"`` switches that dispatch off.

    Parameters
    ----------
    n : int
        Sample size of the probes (values spread over the range the model uses).
    seed : int
        Seed of the probe values.

    Returns
    -------
    dict
        Property name to ``(holds, reason)``.

    Examples
    --------
    >>> props = bitwise_properties(n=1000)
    >>> sorted(props)
    ['numba_kernel_is_numpy', 'numpy_kernel_is_mesa']
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-40.0, 5.0, n)
    pos = rng.uniform(1e-6, 10.0, n)
    k = n - n % 4
    shape_ok = True
    for f, v in ((np.exp, x), (np.log, pos)):
        whole = f(v[:k])
        rows = f(v[:k].reshape(-1, 4)).ravel()
        scalars = np.array([f(float(e)) for e in v[: min(k, 4000)]])
        shape_ok &= bool(
            np.array_equal(whole, rows) and np.array_equal(whole[: len(scalars)], scalars)
        )
    n_diff = int((np.exp(x) != np.array([math.exp(e) for e in x])).sum())
    n_diff += int((np.log(pos) != np.array([math.log(e) for e in pos])).sum())
    return {
        "numpy_kernel_is_mesa": (
            shape_ok,
            "numpy's exp and log give each element the same result for whole arrays, rows and "
            "scalars"
            if shape_ok
            else "numpy's exp or log round some elements differently depending on the array's "
            "length on this CPU, so the Mesa agents (one row) and the engine (whole arrays) may "
            "differ in the last bit",
        ),
        "numba_kernel_is_numpy": (
            n_diff == 0,
            "numpy's exp and log return the C library's results on this CPU"
            if n_diff == 0
            else f"numpy dispatches its own SIMD exp or log on this CPU, which differ from the C "
            f"library's (used by the compiled kernel) in the last bit for {n_diff} of {2 * n} "
            "probe values (e.g. AVX-512 with numpy 2.x)",
        ),
    }
