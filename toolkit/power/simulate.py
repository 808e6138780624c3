r"""Power by simulation: replicate a planned study many times, analyse each as a real study would.

A power analysis by simulation (Arnold et al. 2011; Landau & Stahl 2013) draws the planned
study's data many times under the effect one wants to detect, runs the planned analysis on
each draw, and counts how often the test rejects:

.. math::

    \widehat{\text{power}}(J) = \frac1R \sum_{r=1}^R 1\{p_r(J) < \alpha\}, \qquad
    \mathrm{SE} = \sqrt{\widehat{\text{power}}(1 - \widehat{\text{power}})/R}.

Here a *trial* (:class:`ModelTrial`) is a cluster-randomized comparison of two regimes: ``J``
classes (or schools) drawn from a pool of simulated classrooms, half given each regime (the
pool has every classroom under both regimes, on common random numbers, so a classroom's
outcome under the regime it is assigned is its potential outcome), measured through the
synthetic survey layer (:func:`toolkit.synthetic.synthetic_survey`: students sampled,
nonresponse, a test of given reliability, one or two waves) and analysed by the mixed models a
real study would fit (:func:`toolkit.power.models.spread_test`): the difference in means from
a random-intercept model with the pretest as covariate, the difference in spread by the
likelihood ratio of arm-specific residual variances. Simple generators of normal data
(:func:`normal_two_sample`, :func:`normal_cluster_trial`) with their closed-form power
(:mod:`toolkit.power.closed_form`) check the machinery.

The minimum detectable effect at size :math:`J` follows from the spread of the estimates over
replications (Bloom 1995): :math:`\mathrm{MDE} = (t_{1-\alpha/2,\nu} + t_{\text{power},\nu})
\,\mathrm{SD}(\hat\beta)`, and for the spread, on the log SD-ratio scale, with normal
quantiles.

Every replication ``r`` at size ``J`` draws from ``SeedSequence(seed, spawn_key=(*key, J, r))``, so
results do not depend on the order of sizes, on which were run before, or on resuming.

References
----------
.. [1] Arnold, B. F., Hogan, D. R., Colford, J. M., & Hubbard, A. E. (2011). Simulation methods
   to estimate design power: an overview for applied research. *BMC Medical Research
   Methodology*, 11, 94. https://doi.org/10.1186/1471-2288-11-94
.. [2] Landau, S., & Stahl, D. (2013). Sample size and power calculations for medical studies
   by simulation when closed form expressions are not available. *Statistical Methods in
   Medical Research*, 22(3), 324-345. https://doi.org/10.1177/0962280212439578
.. [3] Bloom, H. S. (1995). Minimum detectable effects: a simple way to report the statistical
   power of experimental designs. *Evaluation Review*, 19(5), 547-556.
   https://doi.org/10.1177/0193841X9501900504
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit.power.models import fit_random_intercept, spread_test
from toolkit.synthetic import SurveyDesign, survey_reference, synthetic_survey

__all__ = [
    "ModelTrial",
    "PowerCurve",
    "cluster_means_analysis",
    "clusters_needed",
    "describe_needed",
    "mixed_analysis",
    "normal_cluster_trial",
    "normal_two_sample",
    "power_curve",
    "summarise_power",
    "ttest_analysis",
    "within_variance_analysis",
]

Trial = Callable[[int, np.random.Generator], pd.DataFrame]
Analysis = Callable[[pd.DataFrame], dict[str, float]]

#: Units a :class:`ModelTrial` can randomize.
RANDOMIZE = ("class", "school", "class_in_school")

#: Tests a replication can report: p-value key -> estimate key.
TESTS = {"effect_p": "effect", "spread_p": "log_sd_ratio"}


# ---------------------------------------------------------------------------------------------
# generators of normal data (closed-form checks)
# ---------------------------------------------------------------------------------------------


def normal_two_sample(effect: float, sd: float = 1.0) -> Trial:
    """Return a generator of two independent normal samples; size = number per group.

    Examples
    --------
    >>> normal_two_sample(0.5)(3, np.random.default_rng(0)).shape
    (6, 2)
    """

    def draw(n: int, rng: np.random.Generator) -> pd.DataFrame:
        y = rng.standard_normal(2 * n) * sd
        y[n:] += effect * sd
        return pd.DataFrame({"y": y, "arm": np.repeat(["a", "b"], n)})

    return draw


def normal_cluster_trial(
    effect: float, icc: float, n_per_cluster: int, sd_ratio: float = 1.0
) -> Trial:
    r"""Return a generator of a balanced two-arm cluster trial; size = clusters.

    :math:`y_{ij} = d\,T_j + \sqrt\rho\,u_j + \sqrt{1 - \rho}\,\phi^{T_j} e_{ij}` (total
    variance 1 in arm ``"a"``), with the first half of the clusters in arm ``"a"``
    (:math:`T = 0`) and :math:`\phi` = ``sd_ratio`` the ratio of within-cluster SDs.

    Examples
    --------
    >>> data = normal_cluster_trial(0.3, 0.2, 5)(4, np.random.default_rng(0))
    >>> data.groupby("arm").size().tolist()
    [10, 10]
    """

    def draw(j: int, rng: np.random.Generator) -> pd.DataFrame:
        cluster = np.repeat(np.arange(j), n_per_cluster)
        treat = (cluster >= j // 2).astype(float)
        u = rng.standard_normal(j)
        e = rng.standard_normal(j * n_per_cluster)
        scale = np.where(treat > 0, sd_ratio, 1.0)
        y = effect * treat + math.sqrt(icc) * u[cluster] + math.sqrt(1 - icc) * scale * e
        return pd.DataFrame({"y": y, "arm": np.where(treat > 0, "b", "a"), "cluster": cluster})

    return draw


# ---------------------------------------------------------------------------------------------
# analyses
# ---------------------------------------------------------------------------------------------


def _pooled_t(b: np.ndarray, a: np.ndarray) -> tuple[float, float, float]:
    """Student's two-sample t test of mean(b) - mean(a): difference, p-value, df.

    The same numbers as ``scipy.stats.ttest_ind(b, a)``, without its per-call overhead.
    """
    na, nb = len(a), len(b)
    df = na + nb - 2
    diff = float(b.mean() - a.mean())
    s2 = (((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()) / df
    t = diff / math.sqrt(s2 * (1 / na + 1 / nb))
    return diff, float(2 * stats.t.sf(abs(t), df)), float(df)


def ttest_analysis(outcome: str = "y", treatment: str = "arm", reference: str = "a") -> Analysis:
    """Two-sample t test (equal variances) of ``outcome`` between the arms."""

    def analyse(data: pd.DataFrame) -> dict[str, float]:
        y = data[outcome].to_numpy(dtype=float)
        is_ref = data[treatment].to_numpy() == reference
        ok = np.isfinite(y)
        diff, p, df = _pooled_t(y[ok & ~is_ref], y[ok & is_ref])
        return {"effect": diff, "effect_p": p, "effect_df": df}

    return analyse


def cluster_means_analysis(
    outcome: str = "y", cluster: str = "cluster", treatment: str = "arm", reference: str = "a"
) -> Analysis:
    """T test on cluster means, :math:`J - 2` degrees of freedom (Donner & Klar 2000)."""

    def analyse(data: pd.DataFrame) -> dict[str, float]:
        d = data[[outcome, cluster, treatment]].dropna()
        codes, _ = pd.factorize(d[cluster])
        sums = np.bincount(codes, d[outcome].to_numpy(dtype=float))
        means = sums / np.bincount(codes)
        first = np.zeros(len(means), dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes))[::-1]
        is_ref = (d[treatment].to_numpy() == reference)[first]
        diff, p, df = _pooled_t(means[~is_ref], means[is_ref])
        return {"effect": diff, "effect_p": p, "effect_df": df}

    return analyse


def within_variance_analysis(
    outcome: str = "y", cluster: str = "cluster", treatment: str = "arm", reference: str = "a"
) -> Analysis:
    r"""F test of the pooled within-cluster variances of the two arms.

    :math:`s^2_{w} = \sum_j\sum_i (y_{ij} - \bar y_j)^2 / (N - J)` in each arm;
    :math:`F = s^2_{w,B}/s^2_{w,A}` on :math:`(N_B - J_B, N_A - J_A)` degrees of freedom,
    two-sided. Returns ``log_sd_ratio`` and ``spread_p`` (and the mean's keys from the
    cluster means t test).
    """
    means = cluster_means_analysis(outcome, cluster, treatment, reference)

    def analyse(data: pd.DataFrame) -> dict[str, float]:
        d = data[[outcome, cluster, treatment]].dropna()
        codes, _ = pd.factorize(d[cluster])
        y = d[outcome].to_numpy(dtype=float)
        n = np.bincount(codes)
        dev = y - (np.bincount(codes, y) / n)[codes]
        is_ref = d[treatment].to_numpy() == reference
        ss = [float((dev[m] ** 2).sum()) for m in (is_ref, ~is_ref)]
        dfs = [int(m.sum()) - len(np.unique(codes[m])) for m in (is_ref, ~is_ref)]
        f = (ss[1] / dfs[1]) / (ss[0] / dfs[0])
        p = 2 * min(stats.f.sf(f, dfs[1], dfs[0]), stats.f.cdf(f, dfs[1], dfs[0]))
        return means(data) | {"log_sd_ratio": 0.5 * math.log(f), "spread_p": float(p)}

    return analyse


def mixed_analysis(
    outcome: str = "posttest",
    cluster: str = "class",
    treatment: str = "arm",
    reference: str | None = None,
    covariates: Sequence[str] = (),
    spread: bool = True,
) -> Analysis:
    """Random-intercept model for the mean and, if ``spread``, arm-specific residual variances.

    Returns the keys of :func:`toolkit.power.models.spread_test` (``effect``, ``effect_p``,
    ``effect_df``, ``log_sd_ratio``, ``spread_p``, ...); without ``spread`` only the mean.
    """
    covariates = list(covariates)

    def analyse(data: pd.DataFrame) -> dict[str, float]:
        if spread:
            return spread_test(
                data, outcome, cluster, treatment, reference=reference, covariates=covariates
            )
        fit = fit_random_intercept(
            data, outcome, cluster, treatment=treatment, reference=reference, covariates=covariates
        )
        row = fit.fixed.iloc[1]
        return {
            "effect": float(row.estimate),
            "effect_se": float(row.std_error),
            "effect_df": float(row.df),
            "effect_p": float(row.p_value),
        }

    return analyse


# ---------------------------------------------------------------------------------------------
# trials drawn from the classroom model
# ---------------------------------------------------------------------------------------------


@dataclass
class ModelTrial:
    r"""A cluster-randomized trial of two regimes, drawn from a pool of simulated classrooms.

    Parameters
    ----------
    pool : pandas.DataFrame
        One school year of :func:`toolkit.engine.simulate_arms` (or a run's students) with
        both arms on the same classrooms: columns ``arm``, ``classroom`` (or ``replicate``)
        and the student table's columns.
    reference, treatment : str
        The two arms (the reference is coded 0).
    design : SurveyDesign
        What the study measures and whom it reaches (every scale of the design is answered;
        leave out the scales an analysis does not need, for speed).
    randomize : {"class", "school", "class_in_school"}
        Unit of randomization. ``"school"``: the size of a trial counts schools, each the
        model's school (all its classrooms) when the pool has a ``school`` column (a study with
        ``[study] schools``), else ``design.classes_per_school`` classes drawn at random.
        ``"class_in_school"`` (needs the model's schools): the size counts schools, and half of
        each school's classrooms (rounded down) take the reference arm, the rest the treatment
        (a trial blocked by school; the analysis adds school fixed effects).
    outcome : str
        ``"posttest"`` or the name of one of the design's scales (scored as the mean of its
        keyed items).

    Notes
    -----
    A trial of size :math:`J` draws :math:`J` clusters (of :math:`k` classrooms each) from
    the pool without replacement; the first :math:`\lfloor J/2 \rfloor` take the reference
    arm. Because the pool holds each classroom's outcome under both regimes on the same
    students (common random numbers), drawing without replacement from a finite pool still
    gives the variance of an infinite population's difference of means when the two
    potential outcomes are highly correlated, as they are here; keep the pool at least twice
    the largest trial. Standardization and item parameters come from the whole pool
    (:func:`toolkit.synthetic.survey_reference`), the same in every replication.
    """

    pool: pd.DataFrame
    reference: str
    treatment: str
    design: SurveyDesign = field(default_factory=SurveyDesign)
    randomize: str = "class"
    outcome: str = "posttest"

    def __post_init__(self) -> None:
        if self.randomize not in RANDOMIZE:
            raise ValueError(f"randomize must be one of {list(RANDOMIZE)}, got {self.randomize!r}.")
        unit = "replicate" if "replicate" in self.pool.columns else "classroom"
        if unit not in self.pool.columns or "arm" not in self.pool.columns:
            raise ValueError("pool: needs columns 'arm' and 'classroom' (or 'replicate').")
        arms = {str(a) for a in self.pool["arm"].unique()}
        for a in (self.reference, self.treatment):
            if a not in arms:
                raise ValueError(f"arm {a!r} is not in the pool (arms: {sorted(arms)}).")
        if "year" in self.pool.columns and self.pool["year"].nunique() > 1:
            raise ValueError("pool: several school years; pass one year.")
        names = [s.name for s in self.design.scales]
        if self.outcome != "posttest" and self.outcome not in names:
            raise ValueError(
                f"outcome {self.outcome!r} is neither 'posttest' nor a scale of the design "
                f"({names})."
            )
        self._unit = unit
        self._ids = np.sort(self.pool[unit].unique())
        self._schools: dict[int, np.ndarray] | None = None
        if "school" in self.pool.columns:  # the model's schools: all their classrooms
            rooms = self.pool[[unit, "school"]].drop_duplicates()
            self._schools = {
                int(k): np.sort(g[unit].to_numpy()) for k, g in rooms.groupby("school", sort=True)
            }
        elif self.randomize == "class_in_school":
            raise ValueError(
                "randomize='class_in_school' needs the model's schools: a pool with a 'school' "
                "column (a study with [study] schools)."
            )
        self._tables = {}
        for a in (self.reference, self.treatment):
            t = self.pool[self.pool["arm"].astype(str) == a].sort_values([unit, "student"])
            self._tables[a] = t.set_index(unit, drop=False)
        both = pd.concat(self._tables.values(), ignore_index=True)
        self._reference = survey_reference(both, self.design)

    @property
    def cluster(self) -> str:
        """Column of the randomized unit in the trial's data."""
        return "school" if self.randomize == "school" else "class"

    def _draw_schools(self, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Return the reference and treated classrooms of a trial of ``size`` model schools."""
        schools = self._schools or {}
        if size > len(schools):
            raise ValueError(
                f"a trial of {size} schools needs {size} of the pool's schools but it has "
                f"{len(schools)}; simulate a larger pool."
            )
        keys = np.array(sorted(schools))
        chosen = rng.choice(keys, size, replace=False)
        if self.randomize == "school":
            half = size // 2
            ref = np.concatenate([schools[int(k)] for k in chosen[:half]])
            trt = np.concatenate([schools[int(k)] for k in chosen[half:]])
            return np.sort(ref), np.sort(trt)
        ref, trt = [], []
        for k in chosen:
            rooms = rng.permutation(schools[int(k)])
            if len(rooms) < 2:
                raise ValueError(
                    f"school {int(k)} has one classroom; randomize='class_in_school' needs "
                    "at least two per school."
                )
            ref.append(rooms[: len(rooms) // 2])
            trt.append(rooms[len(rooms) // 2 :])
        return np.sort(np.concatenate(ref)), np.sort(np.concatenate(trt))

    @property
    def pool_size(self) -> int:
        """Classrooms in the pool."""
        return len(self._ids)

    def __call__(self, size: int, rng: np.random.Generator) -> pd.DataFrame:
        """Draw one trial of ``size`` clusters and measure it."""
        k = self.design.classes_per_school if self.randomize == "school" else 1
        if size < 4:
            raise ValueError(f"a trial needs at least 4 clusters (2 per arm), got {size}.")
        if self._schools is not None and self.randomize != "class":
            ref, trt = self._draw_schools(size, rng)
        else:
            if size * k > self.pool_size:
                raise ValueError(
                    f"a trial of {size} {self.cluster}s needs {size * k} classrooms but the pool "
                    f"has {self.pool_size}; simulate a larger pool."
                )
            chosen = rng.choice(self._ids, size * k, replace=False)
            half = (size // 2) * k
            ref, trt = np.sort(chosen[:half]), np.sort(chosen[half:])
        rows = pd.concat(
            [self._tables[self.reference].loc[ref], self._tables[self.treatment].loc[trt]],
            ignore_index=True,
        )
        design = self.design
        if self.randomize != "school" or self._schools is not None:
            design = design.replace(classes_per_school=1)
        data = synthetic_survey(rows, design, rng, reference=self._reference)
        for sc in design.scales:
            x = data[sc.items].to_numpy(dtype=float)
            for i in sc.reverse:
                x[:, i - 1] = self._reference.items[sc.name].n_categories + 1 - x[:, i - 1]
            data[sc.name] = x.mean(axis=1)
        return data

    def analysis(self, covariates: Sequence[str] | None = None, spread: bool = True) -> Analysis:
        """Return the planned analysis: :func:`mixed_analysis` on this trial's columns.

        Covariates default to the pretest when the design has two waves.
        """
        if covariates is None:
            covariates = ["pretest"] if self.design.waves == 2 else []
        analyse = mixed_analysis(
            self.outcome, self.cluster, "arm", self.reference, covariates, spread=spread
        )
        if self.randomize != "class_in_school":
            return analyse
        covariates = list(covariates)
        room_school = {int(r): k for k, rooms in (self._schools or {}).items() for r in rooms}

        def blocked(data: pd.DataFrame) -> dict[str, float]:
            """School fixed effects (dummies of the schools but the first) as covariates."""
            # a blocked trial's schools hold both arms: the survey numbers them per arm
            school = pd.factorize(data["replicate"].map(room_school))[0]
            dummies = {
                f"_school{j}": (school == j).astype(float) for j in range(1, school.max() + 1)
            }
            wide = data.assign(**dummies)
            return mixed_analysis(
                self.outcome, "class", "arm", self.reference, [*covariates, *dummies], spread=spread
            )(wide)

        return blocked


# ---------------------------------------------------------------------------------------------
# the power curve
# ---------------------------------------------------------------------------------------------


@dataclass
class PowerCurve:
    """Result of :func:`power_curve`.

    Attributes
    ----------
    replicates : pandas.DataFrame
        One row per size and replication with the analysis' keys.
    table : pandas.DataFrame
        One row per size (:func:`summarise_power`).
    alpha, power : float
        Significance level and the power aimed at.
    """

    replicates: pd.DataFrame
    table: pd.DataFrame
    alpha: float
    power: float

    def needed(self, test: str = "effect_p") -> dict[str, float]:
        """Clusters needed for the target power (:func:`clusters_needed`)."""
        return clusters_needed(self.table, test, self.power, self.alpha)


def _replicate(
    trial: Trial, analyse: Analysis, size: int, rep: int, seed: int, key: tuple[int, ...]
) -> dict[str, float]:
    ss = np.random.SeedSequence(seed, spawn_key=(*key, int(size), int(rep)))
    rng = np.random.default_rng(ss)
    out = dict(analyse(trial(size, rng)))
    return {"size": int(size), "replication": int(rep), **out}


def power_curve(
    trial: Trial,
    analyse: Analysis,
    sizes: Sequence[int],
    replications: int,
    seed: int,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    folder: str | Path | None = None,
    progress: bool = False,
    key: tuple[int, ...] = (),
) -> PowerCurve:
    """Power at each size by simulation.

    Parameters
    ----------
    trial : callable
        ``trial(size, rng) -> data``: one simulated study (e.g. a :class:`ModelTrial`).
    analyse : callable
        ``analyse(data) -> dict`` with ``effect`` and ``effect_p`` and optionally
        ``log_sd_ratio`` and ``spread_p`` (e.g. :meth:`ModelTrial.analysis`).
    sizes : sequence of int
        Sizes to simulate (clusters in both arms, or students per group for a two-sample
        generator).
    replications : int
        Simulated studies per size.
    seed : int
        Master seed; replication ``r`` at size ``J`` uses ``SeedSequence(seed,
        spawn_key=(*key, J, r))``.
    alpha, power : float
        Significance level, and the power for the minimum detectable effect.
    folder : path, optional
        Write each size's replications to ``folder/parts/size-<J>.parquet`` when it finishes,
        and skip sizes already there (resuming an interrupted run).
    progress : bool
        Show a progress bar (tqdm, standard error).
    key : tuple of int
        Leading spawn key, to keep several curves under one master seed apart.

    Returns
    -------
    PowerCurve

    Examples
    --------
    >>> curve = power_curve(normal_two_sample(0.8), ttest_analysis(), [10, 30], 200, seed=1)
    >>> curve.table[["size", "power_effect"]].round(2).to_numpy().tolist()
    [[10.0, 0.45], [30.0, 0.92]]
    """
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 2:
        raise ValueError(f"replications must be a whole number >= 2, got {replications!r}.")
    sizes = [int(s) for s in sizes]
    if not sizes or len(set(sizes)) != len(sizes):
        raise ValueError(f"sizes must be distinct whole numbers, got {sizes}.")
    parts = None
    if folder is not None:
        parts = Path(folder) / "parts"
        parts.mkdir(parents=True, exist_ok=True)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(sizes) * replications, unit="trial", desc="power", file=sys.stderr)
    frames = []
    try:
        for size in sizes:
            path = None if parts is None else parts / f"size-{size:06d}.parquet"
            if path is not None and path.is_file():
                frames.append(pd.read_parquet(path))
                if bar is not None:
                    bar.update(replications)
                continue
            rows = []
            for rep in range(replications):
                rows.append(_replicate(trial, analyse, size, rep, seed, key))
                if bar is not None:
                    bar.update(1)
            df = pd.DataFrame(rows)
            if path is not None:
                tmp = path.with_suffix(".tmp")
                df.to_parquet(tmp, index=False)
                tmp.replace(path)
            frames.append(df)
    finally:
        if bar is not None:
            bar.close()
    reps = pd.concat(frames, ignore_index=True)
    return PowerCurve(reps, summarise_power(reps, alpha, power), alpha, power)


def summarise_power(
    replicates: pd.DataFrame, alpha: float = 0.05, power: float = 0.8
) -> pd.DataFrame:
    r"""Power, its Monte Carlo SE and the minimum detectable effect at each size.

    Parameters
    ----------
    replicates : pandas.DataFrame
        One row per replication: ``size`` and the analysis' keys.
    alpha, power : float

    Returns
    -------
    pandas.DataFrame
        Per ``size``: ``replications``; for the mean, ``power_effect``, ``power_effect_se``,
        ``effect_mean``, ``effect_sd`` (over replications) and ``mde_effect``
        :math:`= (t_{1-\alpha/2,\nu} + t_{power,\nu})\,\mathrm{SD}`; for the spread (if
        analysed), ``power_spread``, ``power_spread_se``, ``sd_ratio_mean`` (the geometric
        mean of the SD ratios), ``log_sd_ratio_sd`` and ``mde_sd_ratio``
        :math:`= \exp((z_{1-\alpha/2} + z_{power})\,\mathrm{SD}(\log\hat\phi))`.
    """
    rows = []
    for size, g in replicates.groupby("size", sort=True):
        r = len(g)
        row: dict[str, Any] = {"size": float(size), "replications": r}
        p = float((g["effect_p"] < alpha).mean())
        row |= {"power_effect": p, "power_effect_se": math.sqrt(p * (1 - p) / r)}
        sd = float(g["effect"].std(ddof=1))
        df = float(g["effect_df"].median()) if "effect_df" in g else np.inf
        mult = float(stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df))
        row |= {"effect_mean": float(g["effect"].mean()), "effect_sd": sd, "mde_effect": mult * sd}
        if "spread_p" in g:
            q = float((g["spread_p"] < alpha).mean())
            lsd = float(g["log_sd_ratio"].std(ddof=1))
            zmult = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
            row |= {
                "power_spread": q,
                "power_spread_se": math.sqrt(q * (1 - q) / r),
                "sd_ratio_mean": float(np.exp(g["log_sd_ratio"].mean())),
                "log_sd_ratio_sd": lsd,
                "mde_sd_ratio": float(np.exp(zmult * lsd)),
            }
        rows.append(row)
    return pd.DataFrame(rows)


def clusters_needed(
    table: pd.DataFrame, test: str = "effect_p", power: float = 0.8, alpha: float = 0.05
) -> dict[str, float]:
    r"""Clusters needed for a target power, from a power table.

    Two estimates:

    - ``interpolated``: where the simulated power curve crosses ``power``, by linear
      interpolation on the probit scale between the two sizes around the crossing (NaN if the
      curve never reaches it, or already exceeds it at the smallest size, in which case
      ``at_most`` gives that size);
    - ``extrapolated``: from the largest size :math:`J_{max}`, assuming the SD of the estimate
      falls as :math:`1/\sqrt J` (true for cluster means):
      :math:`J^* = J_{max}\,\big((z_{1-\alpha/2} + z_{power})\,\mathrm{SD}_{J_{max}} /
      |\bar{\hat\beta}|\big)^2`, the size at which the minimum detectable effect equals the
      mean estimate.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`summarise_power`.
    test : {"effect_p", "spread_p"}
        The mean or the spread.
    power, alpha : float

    Returns
    -------
    dict
        ``interpolated``, ``extrapolated``, ``at_most``, ``max_power`` and ``largest`` (the
        largest size simulated); :func:`describe_needed` puts it in words.

    Examples
    --------
    >>> t = pd.DataFrame({"size": [10, 20, 40], "power_effect": [0.3, 0.6, 0.9],
    ...                   "effect_mean": [0.3] * 3, "effect_sd": [0.2, 0.14, 0.1]})
    >>> round(clusters_needed(t)["interpolated"], 1)
    31.4
    """
    col = {"effect_p": "power_effect", "spread_p": "power_spread"}.get(test)
    if col is None or col not in table:
        raise ValueError("test must be 'effect_p' or 'spread_p' with its power in the table.")
    t = table.sort_values("size")
    sizes, pw = t["size"].to_numpy(float), t[col].to_numpy(float)
    out = {"interpolated": math.nan, "extrapolated": math.nan, "at_most": math.nan}
    out["max_power"] = float(pw.max())
    if pw[0] >= power:
        out["at_most"] = float(sizes[0])
    else:
        above = np.nonzero(pw >= power)[0]
        if above.size:
            i = int(above[0])
            eps = 0.5 / 10_000
            z = stats.norm.ppf(np.clip(pw[i - 1 : i + 1], eps, 1 - eps))
            zt = stats.norm.ppf(power)
            frac = (zt - z[0]) / (z[1] - z[0]) if z[1] != z[0] else 1.0
            out["interpolated"] = float(sizes[i - 1] + frac * (sizes[i] - sizes[i - 1]))
    if test == "effect_p":
        est, sd = float(t["effect_mean"].iloc[-1]), float(t["effect_sd"].iloc[-1])
    else:
        est = float(np.log(t["sd_ratio_mean"].iloc[-1]))
        sd = float(t["log_sd_ratio_sd"].iloc[-1])
    zsum = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    if est != 0 and np.isfinite(sd):
        out["extrapolated"] = float(sizes[-1] * (zsum * sd / abs(est)) ** 2)
    out["largest"] = float(sizes[-1])
    return out


def describe_needed(need: dict[str, float], short: bool = False, unit: str = "") -> str:
    """Say in words how many clusters a power curve needs (from :func:`clusters_needed`).

    Parameters
    ----------
    need : dict
        ``interpolated``, ``extrapolated``, ``at_most``, ``max_power`` and ``largest``.
    short : bool
        Only the number and how it was found (for a sentence).
    unit : str
        Word after the number (e.g. ``"classrooms"``).

    Returns
    -------
    str

    Examples
    --------
    >>> describe_needed({"interpolated": 57.2, "extrapolated": 55.0, "at_most": math.nan,
    ...                  "max_power": 0.97, "largest": 200.0})
    'about 57 (interpolated on the simulated curve)'
    >>> describe_needed({"interpolated": math.nan, "extrapolated": 460.4, "at_most": math.nan,
    ...                  "max_power": 0.41, "largest": 200.0}, short=True, unit="classrooms")
    'about 460 classrooms (by extrapolation)'
    """
    u = f" {unit}" if unit else ""
    if need["at_most"] == need["at_most"]:  # not NaN
        n = f"at most {need['at_most']:.0f}{u}"
        return n if short else f"{n} (the smallest size simulated already reaches it)"
    if need["interpolated"] == need["interpolated"]:
        n = f"about {need['interpolated']:.0f}{u}"
        return n if short else f"{n} (interpolated on the simulated curve)"
    n = f"about {need['extrapolated']:.0f}{u}"
    if short:
        return f"{n} (by extrapolation)"
    largest = need.get("largest", math.nan)
    at = f" at {largest:.0f}" if largest == largest else ""
    return (
        f"not reached within the sizes simulated (power {need['max_power']:.2f}{at}); {n} by "
        "extrapolation from the largest size"
    )
