r"""How each calibration target and check is computed from the model: a registry.

Every row of ``toolkit/calibration/data/targets.csv`` names a *quantity*; this module says how the
model produces it. A quantity is one function, registered with :func:`quantity`, that takes a
:class:`Simulations` (the model's parameters, the number of classrooms and the master seed,
and a cache of simulated arms) and returns an :class:`Estimate`: the model's value and its
Monte Carlo standard error over classrooms. Adding a check is one function here and one row
in the targets file::

    @quantity("tracking_effect", unit="SD of test scores", description="...")
    def tracking_effect(sims: Simulations) -> Estimate:
        df = sims.arms({"whole": "standardized", "tracked": {"base": "standardized", ...}})
        return effect_size(df, "tracked", "whole")

Arms run through the study runner's work unit (:func:`toolkit.study.units.simulate_unit`):
classroom ``i`` has seed ``classroom_seed(seed, i)`` in every arm, so arms that share
parameters are paired on common random numbers (the same students and random streams), and
their difference has the small Monte Carlo error of a paired comparison. Arms are cached by
(regime, parameters), so quantities computed together share their simulations.

Standard errors (classrooms are independent):

- a mean over classrooms of per-classroom values :math:`v_i`: :math:`s_v/\sqrt{C}`;
- a paired effect size :math:`\bar d / s_{ref}` with :math:`d_i` the per-classroom
  difference in mean score: :math:`s_d/(\sqrt{C}\,s_{ref})`, the reference SD of students'
  scores treated as fixed (as :func:`toolkit.metrics.effect_vs_reference` does);
- a ratio of totals :math:`R = \sum a_i / \sum b_i`: the linearization
  :math:`\sqrt{\sum (a_i - R b_i)^2/(C(C - 1))}/\bar b` (Cochran 1977, section 6.4);
- a smooth function :math:`f` of an estimate :math:`x` (the class-size effect size read as
  percentile points, :math:`100(\Phi(d) - 0.5)`): the delta method, :math:`|f'(x)|\,se_x`.

References
----------
.. [1] Cochran, W. G. (1977). *Sampling Techniques* (3rd ed.). Wiley.
.. [2] Donner, A. (1986). A review of inference procedures for the intraclass correlation
   coefficient in the one-way random effects model. *International Statistical Review*, 54(1),
   67-82. https://doi.org/10.2307/1403259
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from toolkit.model.params import Parameters

__all__ = [
    "MASTER_SEED",
    "QUANTITIES",
    "Estimate",
    "Quantity",
    "QuantityUnavailableError",
    "Simulations",
    "compute",
    "contrast_effect",
    "effect_size",
    "estimates",
    "evidence_quantity",
    "quantity",
    "student_correlation",
]

#: Master seed of calibration runs (the seed of ``simulations/calibrate.py``).
MASTER_SEED = 20_261_125


class QuantityUnavailableError(NotImplementedError):
    """The model cannot compute this quantity yet (the message says what is missing).

    For example a row measured on a test aligned with the instruction, while the model's
    student table has no ``aligned_score`` column; :func:`compute` with
    ``unavailable="skip"`` reports such quantities without a value instead of failing.
    """


@dataclass(frozen=True)
class Estimate:
    """A quantity's value in the model and its Monte Carlo standard error."""

    value: float
    se: float

    @classmethod
    def mean(cls, values: Sequence[float] | np.ndarray) -> Estimate:
        """Mean of per-classroom values and its standard error."""
        v = np.asarray(values, dtype=float)
        return cls(float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))))

    @classmethod
    def ratio(cls, num: np.ndarray, den: np.ndarray) -> Estimate:
        """Ratio of totals over classrooms with its linearization standard error."""
        a, b = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
        r = a.sum() / b.sum()
        c = len(a)
        se = math.sqrt(((a - r * b) ** 2).sum() / (c * (c - 1))) / b.mean()
        return cls(float(r), float(se))


@dataclass(frozen=True)
class Quantity:
    """A registered quantity: name, unit, description and the function computing it."""

    name: str
    unit: str
    description: str
    function: Callable[[Simulations], Estimate] = field(repr=False)


#: Every registered quantity, by name.
QUANTITIES: dict[str, Quantity] = {}


def quantity(name: str, *, unit: str, description: str) -> Callable:
    """Register a function ``f(sims: Simulations) -> Estimate`` as a model quantity.

    Parameters
    ----------
    name : str
        The name the targets file uses in its ``quantity`` column.
    unit : str
    description : str
        How the model computes it (regimes, parameters, formula), for the validation report.

    Returns
    -------
    callable
        A decorator returning the function unchanged.
    """

    def register(func: Callable[[Simulations], Estimate]) -> Callable[[Simulations], Estimate]:
        if name in QUANTITIES:
            raise ValueError(f"quantity {name!r} is registered twice.")
        QUANTITIES[name] = Quantity(name, unit, description, func)
        return func

    return register


def _key(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


class Simulations:
    """The model's arms at some parameters, simulated on demand and cached.

    Parameters
    ----------
    params : Parameters or mapping, optional
        Model parameters (default: the defaults).
    n_classrooms : int
        Classrooms per arm.
    seed : int
        Master seed: classroom ``i`` uses ``classroom_seed(seed, i)``.
    engine : {"fast", "mesa"}
        As in study files.
    kernel : {"fast", "exact", "numpy"}
        The engine's kernel of the school days, as in study files (``"fast"``: the same
        distributions as the Mesa model, about three times the speed of ``"exact"``).

    Examples
    --------
    >>> sims = Simulations(Parameters(n_students=8, n_days=5), 3, seed=1)
    >>> df = sims.arms({"a": "standardized", "b": "personal"})
    >>> sorted(df["arm"].unique()), int(df["replicate"].max())
    (['a', 'b'], 2)
    >>> sims.runs
    2
    """

    def __init__(
        self,
        params: Parameters | Mapping[str, Any] | None = None,
        n_classrooms: int = 200,
        seed: int = MASTER_SEED,
        engine: str = "fast",
        kernel: str = "fast",
    ):
        if isinstance(params, Parameters):
            self.params = params
        else:
            self.params = Parameters.from_mapping(params or {}, source="calibration parameters")
        if isinstance(n_classrooms, bool) or not isinstance(n_classrooms, int) or n_classrooms < 2:
            raise ValueError(f"n_classrooms must be a whole number >= 2, got {n_classrooms!r}.")
        self.n_classrooms = n_classrooms
        self.seed = int(seed)
        self.engine = engine
        self.kernel = kernel
        self._cache: dict[tuple[str, str], pd.DataFrame] = {}
        self._drop: frozenset[int] = frozenset()
        self.runs = 0  #: arms simulated so far (cache misses)

    def without(self, replicates: Sequence[int]) -> Simulations:
        """Return a view of these simulations without some classrooms (for a jackknife).

        The view shares the simulated arms (and simulates on the full set any arm not yet
        simulated); its :meth:`arms` leave out the classrooms ``replicates`` of every arm, so
        a quantity computed on it is the quantity of the other classrooms, paired as before.

        Examples
        --------
        >>> sims = Simulations(Parameters(n_students=8, n_days=5), 3, seed=1)
        >>> full = sims.arms({"a": "standardized"})
        >>> part = sims.without([0]).arms({"a": "standardized"})  # not simulated again
        >>> part["replicate"].unique().tolist(), part.equals(full[full["replicate"] > 0]
        ...                                                  .reset_index(drop=True))
        ([1, 2], True)
        """
        view = copy.copy(self)  # the same cache dict: arms simulated once
        view._drop = self._drop | frozenset(int(r) for r in replicates)
        return view

    def arms(self, arms: Mapping[str, Any], years: int = 1, **changes: Any) -> pd.DataFrame:
        """Simulate (or fetch) arms on the same classrooms.

        Parameters
        ----------
        arms : mapping of str to regime spec
            Arm name to a preset name, ``"blend(a, b, w)"``, a table of axes (with an
            optional ``base``) or a list of these, one per school year (as in study files).
        years : int
            School years simulated (a schedule shorter than this repeats its last regime).
        **changes
            Parameter changes for these arms (e.g. ``n_students=15``).

        Returns
        -------
        pandas.DataFrame
            The student tables of :func:`toolkit.study.units.simulate_unit`, with ``arm``
            (as named here) and ``replicate`` (the classroom); one row per student and year.
        """
        from toolkit.model.schedule import resolve_schedule
        from toolkit.study.units import simulate_unit

        params = self.params.replace(**changes) if changes else self.params
        pkey = _key([params.to_dict(), years])
        schedules = {a: resolve_schedule(s, years, f"quantity arm {a!r}") for a, s in arms.items()}
        keys = {a: _key([r.to_dict() for r in regs]) for a, regs in schedules.items()}
        missing = {a: regs for a, regs in schedules.items() if (keys[a], pkey) not in self._cache}
        if missing:
            unit = {
                "id": "calibration",
                "point": 0,
                "value": None,
                "params": params.to_dict(),
                "arms": {a: [r.to_dict() for r in regs] for a, regs in missing.items()},
                "start": 0,
                "stop": self.n_classrooms,
                "kernel": self.kernel,
            }
            df = simulate_unit(unit, self.seed, self.engine, years)
            for a in missing:
                part = df[df["arm"] == a].drop(columns=["point", "sweep_value", "arm"])
                self._cache[(keys[a], pkey)] = part.reset_index(drop=True)
                self.runs += 1
        frames = [self._cache[(keys[a], pkey)].assign(arm=a) for a in schedules]
        out = pd.concat(frames, ignore_index=True)
        if self._drop:
            out = out[~out["replicate"].isin(list(self._drop))].reset_index(drop=True)
        return out[["arm", *[c for c in out.columns if c != "arm"]]]


def aligned_test(df: pd.DataFrame, prior_share: float, reliability: float) -> pd.DataFrame:
    r"""Add the score on a test aligned with what was taught during the year (``aligned_score``).

    .. math::
        Y^{al}_i = G_i + \beta\,(C^0_i - \bar C^0) + e_i, \qquad
        \beta = \sqrt{\frac{s}{1 - s}\,\frac{\operatorname{var} G}{\operatorname{var} C^0}},
        \qquad \operatorname{var} e = \frac{1 - r}{r}\,
        \operatorname{var}(G + \beta C^0)

    with :math:`G = C^1 - C^0` the year's (or the intervention's) gain in true core skill,
    :math:`C^0` the core skill the student brought, :math:`s` the share of the aligned test's
    true-score variance due to it (``aligned_prior_share``) and :math:`r` the test's
    reliability (``test_reliability``); :math:`e` reuses each student's standardized-test error
    (rescaled), so both arms meet the same errors. Variances are those within each arm
    (``arm``), averaged: the test is built for the study's sample, the same for both arms, and
    does not depend on how many arms are compared.

    A researcher-made test samples the content the intervention taught, so the spread it
    measures is partly that period's learning: the same difference in learning is a larger
    effect on it than on a broad standardized test, whose spread is almost all prior skill, and
    far larger after a short intervention. Effects on experimenter-made measures are roughly
    twice those on independent measures (Cheung & Slavin 2016); ``aligned_prior_share`` (0.6)
    is set so that this holds for a school year of teaching (1.6 to 2.3 times for the three
    regimes against standardized teaching).

    Parameters
    ----------
    df : pandas.DataFrame
        A student table (``core_start``, ``core_end``, ``score``), one school year.
    prior_share : float
        :math:`s \in [0, 1)`.
    reliability : float
        :math:`r \in (0, 1]`.

    Returns
    -------
    pandas.DataFrame
        ``df`` with the column ``aligned_score``.

    References
    ----------
    .. [3] Cheung, A. C. K., & Slavin, R. E. (2016). How methodological features affect effect
       sizes in education. *Educational Researcher*, 45(5), 283-292.
       https://doi.org/10.3102/0013189X16656615

    Examples
    --------
    >>> t = pd.DataFrame({"core_start": [0.0, 1.0, -1.0, 0.5], "core_end": [0.2, 1.1, -0.7, 0.6],
    ...                   "score": [0.1, 1.2, -0.8, 0.6]})
    >>> y = aligned_test(t, 0.0, 1.0)["aligned_score"]  # no prior share, no error: the gains
    >>> [round(v, 6) for v in y]
    [0.2, 0.1, 0.3, 0.1]
    """
    gain = (df["core_end"] - df["core_start"]).to_numpy()
    prior = df["core_start"].to_numpy()
    groups = df["arm"].to_numpy() if "arm" in df.columns else np.zeros(len(df))
    vg = float(np.mean([np.var(gain[groups == g]) for g in pd.unique(groups)]))
    vp = float(np.mean([np.var(prior[groups == g]) for g in pd.unique(groups)]))
    beta = math.sqrt(prior_share / (1.0 - prior_share) * vg / vp) if vp > 0 else 0.0
    true = gain + beta * (prior - prior.mean())
    err = (df["score"] - df["core_end"]).to_numpy()
    sd_err = float(np.std(err))
    z = err / sd_err if sd_err > 0 else np.zeros_like(err)
    noise = (
        math.sqrt((1.0 - reliability) / reliability * float(np.var(true)))
        if reliability < 1
        else 0.0
    )
    return df.assign(aligned_score=true + noise * z)


# ---------------------------------------------------------------------------------------------
# estimators
# ---------------------------------------------------------------------------------------------


def _class_means(df: pd.DataFrame, arm: str, column: str) -> np.ndarray:
    part = df[df["arm"] == arm]
    return part.groupby("replicate")[column].mean().sort_index().to_numpy()


def effect_size(df: pd.DataFrame, arm: str, reference: str, column: str = "score") -> Estimate:
    r"""Paired effect size of ``arm`` against ``reference`` over classrooms.

    :math:`\bar d / s_{ref}` with :math:`d_i` the difference of classroom ``i``'s mean
    ``column`` between the arms and :math:`s_{ref}` the SD of students' ``column`` in the
    reference arm (``ddof=1``), treated as fixed.
    """
    d = _class_means(df, arm, column) - _class_means(df, reference, column)
    sd = float(df.loc[df["arm"] == reference, column].std(ddof=1))
    est = Estimate.mean(d)
    return Estimate(est.value / sd, est.se / sd)


def _anova_icc(y: np.ndarray, groups: np.ndarray) -> tuple[float, int, float]:
    """One-way ANOVA ICC for classes of (nearly) equal size: ICC, J, mean size."""
    codes, _ = pd.factorize(groups)
    n = np.bincount(codes)
    j, big_n = len(n), len(y)
    means = np.bincount(codes, y) / n
    grand = y.mean()
    msb = float((n * (means - grand) ** 2).sum() / (j - 1))
    msw = float(((y - means[codes]) ** 2).sum() / (big_n - j))
    n0 = (big_n - (n**2).sum() / big_n) / (j - 1)
    return (msb - msw) / (msb + (n0 - 1) * msw), j, n0


def _icc_se(icc: float, j: int, n: float) -> float:
    r"""Large-sample SE of the ANOVA ICC (Donner 1986, balanced classes of ``n``).

    :math:`\sqrt{2(1-\rho)^2(1 + (n-1)\rho)^2 / (n(n-1)(J-1))}`.
    """
    return math.sqrt(2 * (1 - icc) ** 2 * (1 + (n - 1) * icc) ** 2 / (n * (n - 1) * (j - 1)))


# ---------------------------------------------------------------------------------------------
# quantities of the targets and checks (docs/odd.md section 10)
# ---------------------------------------------------------------------------------------------

_STD = {"standardized": "standardized"}


def _paired(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Two sets of arms simulated at different parameters, as one table (same classrooms)."""
    return pd.concat([a, b], ignore_index=True)


#: A year's growth in the grades of the real data some rows come from, in SD of the prior
#: year's scores: kindergarten (Tennessee STAR: Hill et al. 2008, Table 1, K-1 reading 1.52 and
#: mathematics 1.14, their mean) and egsingle's grade 4 to 5 (its own mean gain over the SD of
#: grade-4 scores, :func:`toolkit.calibration.realdata.egsingle_gains`).
GROWTH = {"kindergarten": 1.33, "egsingle": 0.56}


def growth_changes(sims: Simulations, annual_gain: float) -> dict[str, float]:
    r"""Parameter changes that give a year of standardized teaching the growth of another grade.

    Rows measured in another grade are computed in the model with the learning rates of that
    grade: ``learning_rate`` and ``peer_learning`` are multiplied by
    :math:`k = g^* / g`, with :math:`g^*` the grade's yearly growth (:data:`GROWTH`) and
    :math:`g` the model's own (``one_year_core_gain`` at the simulations' parameters), and the
    curriculum pace ``expected_annual_gain`` is set to :math:`g^*`. Everything else stays, so
    a class-size or teacher effect is compared with the data as a share of that grade's growth,
    as the data measured it (a kindergarten year grows about four times as much as a grade 5-6
    year).

    Parameters
    ----------
    sims : Simulations
    annual_gain : float
        :math:`g^*`, SD per year.

    Returns
    -------
    dict
        Keyword changes for :meth:`Simulations.arms`.
    """
    base = one_year_core_gain(sims).value
    k = annual_gain / base
    p = sims.params
    return {
        "learning_rate": min(1.0, p.learning_rate * k),
        "peer_learning": min(1.0, p.peer_learning * k),
        "expected_annual_gain": min(3.0, annual_gain),
    }


@quantity(
    "one_year_core_gain",
    unit="SD per year",
    description="Standardized regime: mean over classrooms of the mean gain in true core skill "
    "(core_end - core_start) over one school year.",
)
def one_year_core_gain(sims: Simulations) -> Estimate:
    """One year's gain in true core skill under standardized teaching."""
    df = sims.arms(_STD)
    return Estimate.mean(df.assign(g=df.core_end - df.core_start).groupby("replicate")["g"].mean())


def _class_sizes(sims: Simulations, grade: str | None = None) -> pd.DataFrame:
    """STAR's small (15) and regular (23) classes, standardized regime, as arms ``small, regular``.

    Classroom ``i`` has the same seed at both sizes (the same class effect and random streams
    for the students both sizes share), so the sizes are paired by classroom. With ``grade``
    (a key of :data:`GROWTH`), a year grows as in that grade (:func:`growth_changes`).
    """
    changes = growth_changes(sims, GROWTH[grade]) if grade else {}
    small = sims.arms({"small": "standardized"}, n_students=15, **changes)
    regular = sims.arms({"regular": "standardized"}, n_students=23, **changes)
    return _paired(small, regular)


@quantity(
    "class_size_percentile_points",
    unit="percentile points",
    description="Standardized regime in classes of 15 and of 23 (STAR's small and regular "
    "classes), paired by classroom seed, with a kindergarten year's growth (as "
    "class_size_mean_percentile_rank): the effect size d (mean over classrooms of the "
    "difference in mean test score, over the SD of regular-class scores) as the percentile of "
    "the regular classes' distribution that a median student reaches, 100 (Phi(d) - 0.5); SE "
    "by the delta method, 100 phi(d) se(d).",
)
def class_size_percentile_points(sims: Simulations) -> Estimate:
    """STAR's class-size effect in percentile points, at the median (the calibrated reading)."""
    from scipy import stats

    d = effect_size(_class_sizes(sims, "kindergarten"), "small", "regular")
    return Estimate(
        float(100 * (stats.norm.cdf(d.value) - 0.5)), float(100 * stats.norm.pdf(d.value) * d.se)
    )


@quantity(
    "class_size_mean_percentile_rank",
    unit="percentile points",
    description="Standardized regime in classes of 15 and of 23, paired by classroom seed, with "
    "a kindergarten year's growth (STAR's first year; growth_changes, 1.33 SD): every "
    "student's test score as a mid-rank percentile of all regular-class scores; the mean over "
    "classrooms of the small class's mean percentile minus the regular class's, the statistic "
    "Krueger (1999) reports and toolkit.calibration.realdata computes from the STAR "
    "kindergarten data (for normal scores about 100 (Phi(d / sqrt 2) - 0.5)).",
)
def class_size_mean_percentile_rank(sims: Simulations) -> Estimate:
    """STAR's class-size effect as a difference in mean percentile rank (Krueger's statistic)."""
    from toolkit.calibration.realdata import percentile_ranks

    df = _class_sizes(sims, "kindergarten")
    ref = df.loc[df["arm"] == "regular", "score"].to_numpy()
    df = df.assign(p=percentile_ranks(df["score"].to_numpy(), ref))
    return Estimate.mean(_class_means(df, "small", "p") - _class_means(df, "regular", "p"))


@quantity(
    "class_size_gain_share",
    unit="share of a year's gain",
    description="Standardized regime in classes of 15 and of 23, paired by classroom seed, with "
    "a kindergarten year's growth (as class_size_mean_percentile_rank): gain(15) / gain(23) - "
    "1, gains in true core skill, a ratio of totals over classrooms (linearization SE).",
)
def class_size_gain_share(sims: Simulations) -> Estimate:
    """Extra gain of a small class as a share of a regular class's gain."""
    df = _class_sizes(sims, "kindergarten").assign(g=lambda d: d.core_end - d.core_start)
    r = Estimate.ratio(_class_means(df, "small", "g"), _class_means(df, "regular", "g"))
    return Estimate(r.value - 1, r.se)


@quantity(
    "peer_share",
    unit="share",
    description="Standardized regime: total peer learning over total learning (all domains), "
    "summed over each classroom's students, as a ratio of totals over classrooms.",
)
def peer_share(sims: Simulations) -> Estimate:
    """Share of a year's learning that comes from peers."""
    g = sims.arms(_STD).groupby("replicate")[["peer_learning", "total_learning"]].sum()
    return Estimate.ratio(g["peer_learning"].to_numpy(), g["total_learning"].to_numpy())


_PERSONAL = {"with": "personal", "without": {"base": "personal", "scaffolding": 0.0}}


@quantity(
    "scaffolding_self_regulation",
    unit="SD of starting self-regulation",
    description="Personal regime with its scaffolding (0.15) against the same regime with none, "
    "on the same classrooms: paired difference in mean end-of-year self-regulation, over the SD "
    "of starting self-regulation.",
)
def scaffolding_self_regulation(sims: Simulations) -> Estimate:
    """Scaffolding's effect on self-regulation."""
    df = sims.arms(_PERSONAL)
    d = _class_means(df, "with", "self_regulation_end") - _class_means(
        df, "without", "self_regulation_end"
    )
    sd = float(df.loc[df["arm"] == "with", "self_regulation_start"].std(ddof=1))
    est = Estimate.mean(d)
    return Estimate(est.value / sd, est.se / sd)


@quantity(
    "scaffolding_achievement_effect",
    unit="SD of test scores",
    description="Personal regime with its scaffolding against none, on the same classrooms: "
    "paired effect size on the end-of-year test.",
)
def scaffolding_achievement_effect(sims: Simulations) -> Estimate:
    """Scaffolding's effect on achievement."""
    return effect_size(sims.arms(_PERSONAL), "with", "without")


@quantity(
    "individualized_effect",
    unit="SD of test scores",
    description="Individualized against standardized teaching on the same classrooms: paired "
    "effect size on the end-of-year test (the whole regime: grouping, adaptation, remediation, "
    "sorted peers).",
)
def individualized_effect(sims: Simulations) -> Estimate:
    """Return the individualized regime's effect on the test."""
    df = sims.arms(_STD | {"individualized": "individualized"})
    return effect_size(df, "individualized", "standardized")


@quantity(
    "personalized_effect",
    unit="SD of test scores",
    description="Personalized against standardized teaching on the same classrooms: paired "
    "effect size on the end-of-year test (a prediction of the model).",
)
def personalized_effect(sims: Simulations) -> Estimate:
    """Return the personalized regime's effect on the test."""
    df = sims.arms(_STD | {"personalized": "personalized"})
    return effect_size(df, "personalized", "standardized")


def grouping_arms() -> tuple[dict[str, Any], dict[str, Any]]:
    """Within-class ability grouping alone, and random groups with the same adaptation.

    Both: the standardized regime with three instructional groups, each taught and given
    practice at its own level (``path_adaptation`` 1, ``practice_individualization`` 0);
    everything else standardized (no remediation, no tailoring, no sorting of peers). The
    first forms the groups by the system's estimate of core skill, the second at random.

    Examples
    --------
    >>> alone, rand = grouping_arms()
    >>> alone["grouping"], rand["grouping"], alone["n_groups"]
    ('ability', 'random', 3)
    """
    base = {
        "base": "standardized",
        "n_groups": 3,
        "path_adaptation": 1.0,
        "practice_individualization": 0.0,
    }
    return base | {"grouping": "ability"}, base | {"grouping": "random"}


def _grouped_and_whole(sims: Simulations) -> pd.DataFrame:
    return sims.arms(_STD | {"grouped": grouping_arms()[0]})


@quantity(
    "within_class_grouping_effect",
    unit="SD of test scores",
    description="Within-class ability grouping alone (grouping_arms: the standardized regime "
    "with three groups formed by the system's estimate of core skill, each taught and given "
    "practice at its own level; no remediation, no sorted peers) against whole-class teaching, "
    "on the same classrooms; paired effect size.",
)
def within_class_grouping_effect(sims: Simulations) -> Estimate:
    """Within-class ability grouping against whole-class teaching."""
    return effect_size(_grouped_and_whole(sims), "grouped", "standardized")


@quantity(
    "sorted_vs_random_groups",
    unit="SD of test scores",
    description="Three instructional groups each taught at its own level (grouping_arms), "
    "formed by estimated ability against formed at random (Lou et al.'s homogeneous vs "
    "heterogeneous groups); paired effect size.",
)
def sorted_vs_random_groups(sims: Simulations) -> Estimate:
    """Ability-sorted against random groups."""
    alone, rand = grouping_arms()
    return effect_size(sims.arms({"sorted": alone, "random": rand}), "sorted", "random")


@quantity(
    "grouping_effect_quintile_range",
    unit="SD of test scores",
    description="Within-class ability grouping against whole-class teaching (as "
    "within_class_grouping_effect), by quintile of prior score over all students of the "
    "whole-class arm: each student's score difference between the arms (the same students), "
    "over the SD of whole-class scores, averaged per quintile; the largest minus the smallest "
    "quintile effect; SE by bootstrap over classrooms (200).",
)
def grouping_effect_quintile_range(sims: Simulations) -> Estimate:
    """Spread of the grouping effect across prior-achievement quintiles."""
    df = _grouped_and_whole(sims)
    whole = df[df["arm"] == "standardized"].sort_values(["replicate", "student"])
    grouped = df[df["arm"] == "grouped"].sort_values(["replicate", "student"])
    sd = float(whole["score"].std(ddof=1))
    q = pd.qcut(whole["prior_score"].rank(method="first"), 5, labels=False).to_numpy()
    diff = (grouped["score"].to_numpy() - whole["score"].to_numpy()) / sd
    classes, c = np.unique(whole["replicate"].to_numpy(), return_inverse=True)
    cell = c * 5 + q  # classroom x quintile
    sums = np.bincount(cell, diff, len(classes) * 5).reshape(-1, 5)
    counts = np.bincount(cell, None, len(classes) * 5).reshape(-1, 5)
    point = sums.sum(axis=0) / counts.sum(axis=0)
    rng = np.random.default_rng(sims.seed)
    boot = []
    for _ in range(200):
        pick = rng.choice(len(classes), len(classes))
        n = counts[pick].sum(axis=0)
        e = sums[pick].sum(axis=0)[n > 0] / n[n > 0]  # a resample may miss a quintile
        boot.append(e.max() - e.min())
    return Estimate(float(point.max() - point.min()), float(np.std(boot, ddof=1)))


@quantity(
    "tutoring_effect",
    unit="SD of test scores",
    description="One adult per student all lesson long: the standardized curriculum taught to "
    "groups of one (n_groups = n_students, grouping 'ability'), each at its own level "
    "(path_adaptation 1, practice_individualization 1), with teacher_capacity = n_students "
    "(every student has a whole lesson of direct instruction), against whole-class teaching "
    "with the default capacity, on the same classrooms; paired effect size. The model has no "
    "mastery loops or tutorial dialogue (Bloom 1984), only the year-end test.",
)
def tutoring_effect(sims: Simulations) -> Estimate:
    """One-to-one tutoring against whole-class teaching."""
    n = sims.params.n_students
    tutored = {
        "base": "standardized",
        "n_groups": n,
        "path_adaptation": 1.0,
        "practice_individualization": 1.0,
        "grouping": "ability",
    }
    a = sims.arms({"tutored": tutored}, teacher_capacity=float(n))
    return effect_size(_paired(a, sims.arms(_STD)), "tutored", "standardized")


@quantity(
    "interest_change",
    unit="SD of starting interest",
    description="Standardized regime: mean over classrooms of the mean change of interest over "
    "the year, over students and domains (end-of-year interest minus the interest each student "
    "was drawn with, toolkit.model.draw_cohort on the classroom's seed).",
)
def interest_change(sims: Simulations) -> Estimate:
    """Change of interest in a year of standardized teaching."""
    from toolkit.model.cohort import classroom_seed, draw_cohort

    df = sims.arms(_STD).sort_values(["replicate", "student"])
    cols = [c for c in df.columns if c.startswith("interest_")]
    reps = np.unique(df["replicate"].to_numpy())
    start = np.stack(
        [draw_cohort(sims.params, classroom_seed(sims.seed, int(i))).interest for i in reps]
    )
    change = df[cols].to_numpy().reshape(start.shape) - start
    return Estimate.mean(change.mean(axis=(1, 2)))


@quantity(
    "end_of_year_icc",
    unit="share of variance",
    description="Standardized regime: intraclass correlation of end-of-year test scores within "
    "classrooms (one-way ANOVA estimator, equal to REML for classes of equal size when "
    "positive; Donner's large-sample SE).",
)
def end_of_year_icc(sims: Simulations) -> Estimate:
    """ICC of end-of-year test scores."""
    df = sims.arms(_STD)
    icc, j, n = _anova_icc(df["score"].to_numpy(), df["replicate"].to_numpy())
    return Estimate(icc, _icc_se(icc, j, n))


#: nlschools' verbal IQ: its ICC between classes and its within-class correlation with the
#: language test (toolkit.calibration.realdata.nlschools_iq).
NLSCHOOLS_IQ = {"icc": 0.119, "within_correlation": 0.587}


def iq_like(df: pd.DataFrame, seed: int) -> np.ndarray:
    r"""Give the model's students a verbal-IQ-like score, measured as nlschools measured IQ.

    nlschools conditions the language test on verbal IQ, not on a pretest. The model's students
    get a covariate with the two properties nlschools' IQ has (:data:`NLSCHOOLS_IQ`): an ICC of
    0.119 between classes and a within-class correlation of 0.587 with the end-of-year test.
    It measures general ability at the start of the year: the mean of a student's starting
    skills over all domains, :math:`G = G^w + G^b` (within-class deviation and class mean),
    as

    .. math:: X = G^w + \beta G^b + \sigma_w \varepsilon + \sigma_b u

    with :math:`\sigma_w` chosen to give the within-class correlation, then :math:`\beta \le 1`
    and :math:`\sigma_b \ge 0` to give the ICC (:math:`\beta < 1` only where the model's
    general skill is more clustered by class than IQ is). :math:`\varepsilon, u` are standard
    normal draws from ``seed``.

    Parameters
    ----------
    df : pandas.DataFrame
        One arm's student table (``replicate``, ``score``, ``skill_<d>``, ``gain_<d>``).
    seed : int

    Returns
    -------
    ndarray
        The covariate, one value per row of ``df``.
    """
    skills = [c for c in df.columns if c.startswith("skill_")]
    start = df[skills].to_numpy() - df[["gain_" + c[6:] for c in skills]].to_numpy()
    g = start.mean(axis=1)
    cls = df["replicate"].to_numpy()
    codes, _ = pd.factorize(cls)
    n = np.bincount(codes)
    gb = (np.bincount(codes, g) / n)[codes]
    gw = g - gb
    y = df["score"].to_numpy()
    yw = y - (np.bincount(codes, y) / n)[codes]
    rho = NLSCHOOLS_IQ["within_correlation"]
    cov = float(np.mean(gw * yw))
    var_e = max(0.0, cov * cov / (rho * rho * float(np.mean(yw * yw))) - float(np.mean(gw * gw)))
    within = float(np.mean(gw * gw)) + var_e
    icc = NLSCHOOLS_IQ["icc"]
    need = icc / (1.0 - icc) * within  # between-class variance that gives the ICC
    vb = float(np.var(np.bincount(codes, g) / n))
    beta = min(1.0, math.sqrt(need / vb)) if vb > 0 else 0.0
    var_b = max(0.0, need - beta * beta * vb)
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal(len(g))
    u = rng.standard_normal(len(n))[codes]
    return gw + beta * gb + math.sqrt(var_e) * eps + math.sqrt(var_b) * u


@quantity(
    "conditional_icc",
    unit="share of residual variance",
    description="Standardized regime: ICC of end-of-year test scores given a verbal-IQ-like "
    "score with nlschools' own ICC (0.119) and within-class correlation with the test (0.587) "
    "(iq_like: starting general skill plus measurement noise), from score ~ iq + "
    "(1 | classroom) by REML (toolkit.power.models), as nlschools fits lang ~ IQ + (1 | class); "
    "Donner's SE.",
)
def conditional_icc(sims: Simulations) -> Estimate:
    """ICC of test scores given an IQ-like measure of general ability."""
    from toolkit.power.models import fit_random_intercept

    df = sims.arms(_STD)
    df = df.assign(iq=iq_like(df, sims.seed + 2))
    fit = fit_random_intercept(df, "score", "replicate", covariates=["iq"])
    icc = fit.tau2 / (fit.tau2 + fit.sigma2["all"])
    return Estimate(icc, _icc_se(icc, fit.ngroups, fit.nobs / fit.ngroups))


@quantity(
    "value_added_icc",
    unit="share of residual variance",
    description="Standardized regime: ICC of end-of-year test scores given the prior test, "
    "score ~ prior_score + (1 | classroom) by REML: the share of the residual variance of a "
    "value-added model that lies between classrooms (teachers, schools, class composition); "
    "Donner's SE.",
)
def value_added_icc(sims: Simulations) -> Estimate:
    """ICC of test scores given the prior test (a value-added model's classroom share)."""
    from toolkit.power.models import fit_random_intercept

    df = sims.arms(_STD)
    fit = fit_random_intercept(df, "score", "replicate", covariates=["prior_score"])
    icc = fit.tau2 / (fit.tau2 + fit.sigma2["all"])
    return Estimate(icc, _icc_se(icc, fit.ngroups, fit.nobs / fit.ngroups))


@quantity(
    "gain_sd_ratio",
    unit="ratio of SDs",
    description="Standardized regime with egsingle's growth (grade 4 to 5, 0.765 SD a year; "
    "growth_changes): SD of students' observed one-year gains (end-of-year test minus prior "
    "test) over the SD of prior scores, pooled over classrooms; SE by bootstrap over "
    "classrooms (200).",
)
def gain_sd_ratio(sims: Simulations) -> Estimate:
    """Spread of observed one-year gains relative to the spread of prior scores."""
    return _gain_stat(sims, lambda p, g: float(np.std(g, ddof=1) / np.std(p, ddof=1)))


@quantity(
    "gain_prior_correlation",
    unit="correlation",
    description="Standardized regime with egsingle's growth (as gain_sd_ratio): correlation of "
    "students' observed one-year gains with their prior test scores, pooled over classrooms; "
    "SE by bootstrap over classrooms (200).",
)
def gain_prior_correlation(sims: Simulations) -> Estimate:
    """Correlation of observed one-year gains with prior scores."""
    return _gain_stat(sims, lambda p, g: float(np.corrcoef(p, g)[0, 1]))


def _gain_stat(sims: Simulations, stat: Callable[[np.ndarray, np.ndarray], float]) -> Estimate:
    df = _egsingle_arm(sims).sort_values(["replicate", "student"])
    prior = df["prior_score"].to_numpy()
    gain = df["score"].to_numpy() - prior
    return _cluster_bootstrap(
        df["replicate"].to_numpy(), lambda i, _: stat(prior[i], gain[i]), sims.seed + 1
    )


def _cluster_bootstrap(
    clusters: np.ndarray,
    stat: Callable[[np.ndarray, np.ndarray], float],
    seed: int,
    n: int = 200,
) -> Estimate:
    """Compute a statistic of student rows and its SE by bootstrap over classrooms.

    ``stat(rows, labels)`` gets the row indices and, for each row, its classroom's label in
    the sample (a classroom drawn twice in a resample counts as two classrooms).
    """
    ids = np.unique(clusters)
    rows = [np.nonzero(clusters == c)[0] for c in ids]
    labels = np.concatenate([np.full(len(r), k) for k, r in enumerate(rows)])
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n):
        pick = rng.choice(len(ids), len(ids))
        idx = np.concatenate([rows[k] for k in pick])
        lab = np.concatenate([np.full(len(rows[k]), j) for j, k in enumerate(pick)])
        boot.append(stat(idx, lab))
    return Estimate(stat(np.concatenate(rows), labels), float(np.std(boot, ddof=1)))


@quantity(
    "value_added_sd",
    unit="SD of test scores",
    description="Standardized regime: SD of classroom effects on the end-of-year test given the "
    "prior test (a teacher's value added when each teacher has one class), in SDs of students' "
    "scores: residuals of the pooled regression of score on prior score, their between-"
    "classroom variance by the one-way ANOVA moment estimator (between mean square minus "
    "within mean square, over the mean class size; 0 when negative), square-rooted; SE by "
    "bootstrap over classrooms (200).",
)
def value_added_sd(sims: Simulations) -> Estimate:
    """SD of classroom (teacher) value added, in student SDs of the test."""
    df = sims.arms(_STD).sort_values(["replicate", "student"])
    prior, score = df["prior_score"].to_numpy(), df["score"].to_numpy()

    def sd_va(i: np.ndarray, codes: np.ndarray) -> float:
        p, y = prior[i], score[i]
        slope, icpt = np.polyfit(p, y, 1)
        resid = (y - icpt - slope * p) / np.std(y, ddof=1)
        size = np.bincount(codes)
        j, big_n = len(size), len(resid)
        means = np.bincount(codes, resid) / size
        msb = float((size * (means - resid.mean()) ** 2).sum() / (j - 1))
        msw = float(((resid - means[codes]) ** 2).sum() / (big_n - j))
        n0 = (big_n - (size**2).sum() / big_n) / (j - 1)
        return math.sqrt(max(msb - msw, 0.0) / n0)

    return _cluster_bootstrap(df["replicate"].to_numpy(), sd_va, sims.seed + 2)


# ---------------------------------------------------------------------------------------------
# the trial record: contrasts and correlations of toolkit/calibration/data/evidence.csv
# ---------------------------------------------------------------------------------------------

#: Student-table column of each kind of test (``aligned_score``: a test of what was taught,
#: :func:`aligned_test`).
TEST_COLUMNS = {"standardized": "score", "aligned": "aligned_score"}


def _with_aligned(df: pd.DataFrame, sims: Simulations) -> pd.DataFrame:
    """Add the aligned test's score to a study's student rows (:func:`aligned_test`)."""
    p = sims.params
    return aligned_test(df, p.aligned_prior_share, p.test_reliability)


def _column(df: pd.DataFrame, column: str, mapping: Any) -> str:
    if column not in df.columns:
        if column == TEST_COLUMNS["aligned"]:
            raise QuantityUnavailableError(
                f"mapping '{mapping.id}': the row is measured on a test aligned with the "
                "instruction, and the model's student table has no 'aligned_score' column yet "
                "(it comes with the test-alignment measure of issue 17)."
            )
        raise QuantityUnavailableError(
            f"mapping '{mapping.id}': the model's student table has no column '{column}'; "
            f"columns: {sorted(df.columns)}."
        )
    return column


def _final_year(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["year"] == df["year"].max()] if "year" in df.columns else df


def contrast_effect(sims: Simulations, mapping: Any) -> Estimate:
    r"""Compute a mapped contrast's effect: treatment against control on the same classrooms.

    Each arm runs ``mapping.years`` school years with the mapping's parameters (shared, then
    per arm), every classroom on the same seed in both arms (common random numbers). The
    effect is the paired effect size on the outcome after the last year,
    :math:`\bar d / s_{c}`, with :math:`d_i` classroom ``i``'s difference in mean outcome
    and :math:`s_c` the SD of students' outcome in the control arm (student-SD units, as
    the studies report them); SE :math:`s_d / (\sqrt{C}\, s_c)` (:func:`effect_size`).

    Parameters
    ----------
    sims : Simulations
    mapping : toolkit.calibration.evidence.EvidenceMapping
        With ``treatment``, ``control``, ``years``, ``parameters``, ``treatment_parameters``,
        ``control_parameters`` and ``column`` (the outcome's student-table column: ``score``
        for the standardized test, ``aligned_score`` for an aligned one, or e.g.
        ``engagement``).

    Returns
    -------
    Estimate

    Raises
    ------
    QuantityUnavailableError
        If the outcome column is not in the model's student table (an aligned test, until
        the model has one).
    """
    _column(_with_aligned(sims.arms(_STD), sims), mapping.column, mapping)  # before simulating
    shared = dict(mapping.parameters)
    t = sims.arms(
        {"treatment": mapping.treatment},
        years=mapping.years,
        **(shared | dict(mapping.treatment_parameters)),
    )
    c = sims.arms(
        {"control": mapping.control},
        years=mapping.years,
        **(shared | dict(mapping.control_parameters)),
    )
    df = _with_aligned(_final_year(pd.concat([t, c], ignore_index=True)), sims)
    return effect_size(df, "treatment", "control", _column(df, mapping.column, mapping))


def student_correlation(sims: Simulations, mapping: Any) -> Estimate:
    """Student-level correlation of two outcomes in one mapped arm, pooled over classrooms.

    ``x`` and ``y`` are student-table columns (a list is averaged per student, e.g. interest
    in the two core domains); the Pearson correlation over every student of every classroom
    after the last year, as a meta-analysis of student-level correlations pools samples that
    span classes; SE by bootstrap over classrooms (200).

    Parameters
    ----------
    sims : Simulations
    mapping : toolkit.calibration.evidence.EvidenceMapping
        With ``arm``, ``x``, ``y``, ``years``, ``parameters``.

    Returns
    -------
    Estimate
    """
    for c in (*mapping.x, *mapping.y):
        _column(_with_aligned(sims.arms(_STD), sims), c, mapping)
    df = _with_aligned(
        _final_year(
            sims.arms({"arm": mapping.arm}, years=mapping.years, **dict(mapping.parameters))
        ),
        sims,
    ).sort_values(["replicate", "student"])
    x = df[[_column(df, c, mapping) for c in mapping.x]].mean(axis=1).to_numpy()
    y = df[[_column(df, c, mapping) for c in mapping.y]].mean(axis=1).to_numpy()
    return _cluster_bootstrap(
        df["replicate"].to_numpy(),
        lambda i, _: float(np.corrcoef(x[i], y[i])[0, 1]),
        sims.seed + 3,
    )


#: Prefixes of evidence quantities: ``contrast:<mapping id>``, ``correlation:<mapping id>``.
EVIDENCE_KINDS = {"contrast": contrast_effect, "correlation": student_correlation}


def evidence_quantity(name: str, mappings: Mapping[str, Any] | None = None) -> Quantity:
    """Return the quantity of a trial-record row: ``contrast:<id>`` or ``correlation:<id>``.

    Parameters
    ----------
    name : str
        The row's ``quantity``; ``<id>`` names a table of the mappings file.
    mappings : mapping of str to EvidenceMapping, optional
        Default: the package's (:func:`toolkit.calibration.evidence.load_mappings`).

    Returns
    -------
    Quantity

    Raises
    ------
    KeyError
        If the name has no known prefix or the mapping does not exist, or its kind differs.

    Examples
    --------
    >>> q = evidence_quantity("contrast:alfieri2011_unassisted")
    >>> q.unit
    'SD of the outcome (paired effect size)'
    """
    kind, sep, mid = name.partition(":")
    if not sep or kind not in EVIDENCE_KINDS:
        raise KeyError(
            f"unknown quantities [{name!r}]: neither registered nor 'contrast:<id>' / "
            "'correlation:<id>'."
        )
    if mappings is None:
        from toolkit.calibration.evidence import load_mappings

        mappings = load_mappings()
    if mid not in mappings:
        raise KeyError(f"quantity {name!r}: no mapping [{mid}] in the mappings file.")
    m = mappings[mid]
    if m.kind != kind:
        raise KeyError(f"quantity {name!r}: mapping [{mid}] is of kind {m.kind!r}, not {kind!r}.")
    func = EVIDENCE_KINDS[kind]
    unit = "SD of the outcome (paired effect size)" if kind == "contrast" else "correlation"
    return Quantity(name, unit, m.describe(), lambda sims: func(sims, m))


def _egsingle_arm(sims: Simulations) -> pd.DataFrame:
    """Standardized teaching with a year's growth as in egsingle's grade 4 to 5."""
    return sims.arms(_STD, **growth_changes(sims, GROWTH["egsingle"]))


@quantity(
    "gain_icc",
    unit="share of variance",
    description="Standardized regime with egsingle's growth (as gain_sd_ratio), every classroom "
    "from a different school: ICC of students' observed one-year gains between classrooms "
    "(one-way ANOVA estimator; Donner's SE), against the between-school ICC of gains in "
    "egsingle, whose schools have about one class per grade.",
)
def gain_icc(sims: Simulations) -> Estimate:
    """ICC of observed one-year gains between classrooms."""
    df = _egsingle_arm(sims)
    icc, j, n = _anova_icc((df["score"] - df["prior_score"]).to_numpy(), df["replicate"].to_numpy())
    return Estimate(icc, _icc_se(icc, j, n))


@quantity(
    "teacher_effect_size",
    unit="SD of test scores",
    description="Standardized regime, every school alike (school_effect_sd 0): the same "
    "classrooms with and without differences between teachers (teacher_effect_sd at its value "
    "and 0; common random numbers, so only the teachers differ): the SD over classrooms of the "
    "difference in mean test score, over the SD of students' scores, the SD of teacher value "
    "added that studies estimate net of sampling error; SE by the delta method on the variance.",
)
def teacher_effect_size(sims: Simulations) -> Estimate:
    """SD of teachers' effects on their class's mean score (teacher value added)."""
    a = sims.arms({"teachers": "standardized"}, school_effect_sd=0.0)
    b = sims.arms({"alike": "standardized"}, school_effect_sd=0.0, teacher_effect_sd=0.0)
    df = _paired(a, b)
    d = _class_means(df, "teachers", "score") - _class_means(df, "alike", "score")
    sd = float(df.loc[df["arm"] == "alike", "score"].std(ddof=1))
    m2 = d * d
    value = math.sqrt(float(m2.mean())) / sd
    se_m2 = float(m2.std(ddof=1) / math.sqrt(len(m2)))
    se = se_m2 / (2.0 * max(value * sd, 1e-12)) / sd
    return Estimate(value, se)


def compute(
    names: Sequence[str] | None = None,
    params: Parameters | Mapping[str, Any] | None = None,
    n_classrooms: int = 200,
    seed: int = MASTER_SEED,
    *,
    sims: Simulations | None = None,
    mappings: Mapping[str, Any] | None = None,
    unavailable: str = "raise",
) -> pd.DataFrame:
    """Compute quantities in the model, sharing simulations between them.

    Parameters
    ----------
    names : sequence of str, optional
        Registered quantities, or trial-record quantities ``contrast:<id>`` and
        ``correlation:<id>`` (:func:`evidence_quantity`); default: every registered one.
    params : Parameters or mapping, optional
        Model parameters (default: the defaults).
    n_classrooms : int
        Classrooms per arm.
    seed : int
        Master seed.
    sims : Simulations, optional
        Reuse the simulations of an earlier call (then ``params``, ``n_classrooms`` and
        ``seed`` are taken from it).
    mappings : mapping, optional
        Mappings of the trial-record quantities (default: the package's).
    unavailable : {"raise", "skip"}
        What to do with a quantity the model cannot compute yet
        (:class:`QuantityUnavailableError`): raise, or give it a row with no value and the reason
        in ``note``.

    Returns
    -------
    pandas.DataFrame
        ``quantity, value, se, unit, description, note``.

    Examples
    --------
    >>> out = compute(["one_year_core_gain"], {"n_students": 8, "n_days": 20}, n_classrooms=4)
    >>> out.columns.tolist()
    ['quantity', 'value', 'se', 'unit', 'description', 'note']
    """
    if unavailable not in ("raise", "skip"):
        raise ValueError(f"unavailable must be 'raise' or 'skip', got {unavailable!r}.")
    found = _resolve(names, mappings)
    sims = sims or Simulations(params, n_classrooms, seed)
    rows = []
    for n, q in found.items():
        note = ""
        try:
            est = q.function(sims)
        except QuantityUnavailableError as exc:
            if unavailable == "raise":
                raise
            est, note = Estimate(math.nan, math.nan), str(exc)
        rows.append(
            {
                "quantity": n,
                "value": est.value,
                "se": est.se,
                "unit": q.unit,
                "description": q.description,
                "note": note,
            }
        )
    return pd.DataFrame(rows)


def _resolve(
    names: Sequence[str] | None, mappings: Mapping[str, Any] | None
) -> dict[str, Quantity]:
    """Return the quantities named (every registered one for None), by name."""
    names = list(QUANTITIES) if names is None else list(names)
    found = {}
    for n in names:
        if n in QUANTITIES:
            found[n] = QUANTITIES[n]
            continue
        try:
            found[n] = evidence_quantity(n, mappings)
        except KeyError as exc:
            raise KeyError(f"{exc.args[0]} Registered: {sorted(QUANTITIES)}.") from None
    return found


def estimates(
    names: Sequence[str], sims: Simulations, *, mappings: Mapping[str, Any] | None = None
) -> dict[str, Estimate]:
    """Compute quantities on the given simulations; their estimates by name, without a table.

    What :func:`compute` does for ``sims``, minus the table: the same functions on the same
    simulations, so ``estimates(names, sims)[n].value`` is ``compute(names, sims=sims)``'s
    ``value`` of ``n``. A calibration evaluates its quantities at thousands of parameter
    vectors, where building and indexing a pandas table each time cost more than a small
    model's simulations (about 1 ms an evaluation). A quantity the model cannot compute
    raises :class:`QuantityUnavailableError`.

    Parameters
    ----------
    names : sequence of str
        As in :func:`compute`.
    sims : Simulations
    mappings : mapping, optional
        As in :func:`compute`.

    Returns
    -------
    dict of str to Estimate

    Examples
    --------
    >>> sims = Simulations({"n_students": 8, "n_days": 20}, 4, 1)
    >>> est = estimates(["one_year_core_gain"], sims)
    >>> table = compute(["one_year_core_gain"], sims=sims)
    >>> float(table["value"][0]) == est["one_year_core_gain"].value
    True
    """
    return {n: q.function(sims) for n, q in _resolve(names, mappings).items()}
