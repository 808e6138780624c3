r"""Students at the start of a simulation, and the random streams of one classroom.

Randomness is organised so that regimes can be compared on *common random numbers*: every
classroom gets one :class:`numpy.random.SeedSequence`, and from it named, independent streams
(the cohort; then per school year the assessments, the network draws and the day-by-day
noise). Every stream is drawn in full whatever the regime, so two regimes run on the same
classroom seed see the same students, the same test errors and the same daily shocks: their
differences are paired and come from the regime alone.

Replicate classrooms derive their seeds from one master seed with
``SeedSequence(master, spawn_key=(i,))``, so classroom ``i`` has the same students whether it
is run alone, in a batch, serially or in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
from numpy.typing import ArrayLike, NDArray

from toolkit.model.params import Parameters

__all__ = [
    "Cohort",
    "YearDraws",
    "classroom_seed",
    "draw_cohort",
    "draw_teachers",
    "draw_year",
    "mesa_stream",
    "school_of",
    "school_seed",
    "stream",
]

# Stream keys (stable: changing them changes every simulated number).
_COHORT = 0
_MESA = 1
_YEAR = 100  # + 10 * year + {0: assessment, 1: network, 2: dynamics, 3: Philox keys, 4: teacher}
_TEACHER = 4
#: First element of a school's spawn key (beside the classrooms' own indices).
_SCHOOL_ROOT = 2**31 - 7


def classroom_seed(master: int | np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """Return the seed sequence of replicate classroom ``index`` under a master seed.

    Parameters
    ----------
    master : int or SeedSequence
        The study's one master seed.
    index : int
        Replicate (classroom) number, from 0.

    Returns
    -------
    numpy.random.SeedSequence
        ``SeedSequence(master_entropy, spawn_key=master_spawn_key + (index,))``: independent of
        how many other classrooms exist or in which order they run.

    Examples
    --------
    >>> a = classroom_seed(42, 3).generate_state(1)
    >>> b = classroom_seed(42, 3).generate_state(1)
    >>> bool((a == b).all())
    True
    """
    if isinstance(master, np.random.SeedSequence):
        return np.random.SeedSequence(master.entropy, spawn_key=(*master.spawn_key, index))
    if isinstance(master, bool) or not isinstance(master, int | np.integer) or master < 0:
        raise ValueError(f"master seed must be a non-negative integer, got {master!r}")
    return np.random.SeedSequence(int(master), spawn_key=(index,))


def school_of(classroom: ArrayLike, classrooms_per_school: int) -> NDArray[np.int64]:
    r"""Return the school of replicate classroom(s) ``classroom``: ``classroom // K``.

    The one place that says which classrooms share a school (:func:`school_seed` draws the
    school's numbers from it, and a study's tables label it in their ``school`` column):
    with ``K = classrooms_per_school``, classrooms ``0 .. K - 1`` form school 0, the next
    ``K`` school 1, and so on, whatever the arm.

    Parameters
    ----------
    classroom : int or array_like of int
        Replicate classroom numbers (from 0).
    classrooms_per_school : int
        :math:`K \ge 1`.

    Returns
    -------
    ndarray of int64
        School numbers (a 0-d array for one classroom).

    Examples
    --------
    >>> school_of([0, 1, 2, 3, 4], 2).tolist()
    [0, 0, 1, 1, 2]
    """
    k = int(classrooms_per_school)
    if k < 1:
        raise ValueError(f"classrooms_per_school must be a whole number >= 1, got {k}.")
    return np.asarray(classroom, dtype=np.int64) // k


def school_seed(seed: np.random.SeedSequence, classrooms_per_school: int) -> np.random.SeedSequence:
    """Return the seed sequence of the school a classroom belongs to.

    Classroom ``i`` (the last element of its seed's spawn key, as :func:`classroom_seed` makes
    it) belongs to school ``i // classrooms_per_school``; the school's seed is
    ``SeedSequence(entropy, spawn_key=parent_key + (_SCHOOL_ROOT, school))``, the same for every
    classroom of the school and independent of the classrooms' own streams.

    Examples
    --------
    >>> a = school_seed(classroom_seed(7, 4), 5).generate_state(1)
    >>> b = school_seed(classroom_seed(7, 0), 5).generate_state(1)  # the same school
    >>> c = school_seed(classroom_seed(7, 5), 5).generate_state(1)  # the next school
    >>> bool((a == b).all()), bool((a == c).all())
    (True, False)
    """
    key = tuple(seed.spawn_key)
    index = key[-1] if key else 0
    school = int(school_of(int(index), classrooms_per_school))
    return np.random.SeedSequence(seed.entropy, spawn_key=(*key[:-1], _SCHOOL_ROOT, school))


def stream(seed: np.random.SeedSequence, *key: int) -> np.random.Generator:
    """Return the named child stream ``key`` of a classroom seed as a Generator (PCG64)."""
    child = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, *key))
    return np.random.Generator(np.random.PCG64(child))


def mesa_stream(seed: np.random.SeedSequence) -> np.random.Generator:
    """Return the stream given to Mesa's ``Model(rng=...)`` (only orders agent activation)."""
    return stream(seed, _MESA)


@dataclass
class Cohort:
    """The students of one classroom (or, with a leading axis, of many) at the start.

    Attributes
    ----------
    skill : ndarray, shape (..., N, D)
        Starting skills (SD units of the cohort; a class effect shifts the class mean).
    aptitude : ndarray, shape (..., N, D)
        Learning-rate multipliers (log-normal, mean 1 in the population).
    interest : ndarray, shape (..., N, D)
        Interest z-scores.
    self_regulation : ndarray, shape (..., N)
        In (0, 1).
    calibration : ndarray, shape (..., N, D), optional
        Standard-normal draws of each student's persistent misjudgement of their own level
        (see :func:`toolkit.model.mechanisms.self_assessment`); zeros (perfectly calibrated)
        when not given.
    school_effect : ndarray, shape (...), optional
        The standard-normal effectiveness :math:`z_S` of the classroom's school
        (:func:`toolkit.model.mechanisms.instruction_quality`); 0 (an average school) when not
        given.
    """

    skill: NDArray[np.float64]
    aptitude: NDArray[np.float64]
    interest: NDArray[np.float64]
    self_regulation: NDArray[np.float64]
    calibration: NDArray[np.float64] | None = field(default=None)
    school_effect: NDArray[np.float64] | None = field(default=None)

    def __post_init__(self) -> None:
        if self.calibration is None:
            self.calibration = np.zeros(np.shape(self.skill))
        if self.school_effect is None:
            self.school_effect = np.zeros(np.shape(self.skill)[:-2])
        for f in fields(self):
            setattr(self, f.name, np.asarray(getattr(self, f.name), dtype=float))
        shape = self.skill.shape
        for name in ("aptitude", "interest", "calibration"):
            if getattr(self, name).shape != shape:
                raise ValueError(
                    f"Cohort: '{name}' has shape {getattr(self, name).shape}, expected {shape} "
                    "(students x domains, like 'skill')."
                )
        if self.self_regulation.shape != shape[:-1]:
            raise ValueError(
                f"Cohort: 'self_regulation' has shape {self.self_regulation.shape}, expected "
                f"{shape[:-1]} (one value per student)."
            )
        if self.school_effect.shape != shape[:-2]:
            raise ValueError(
                f"Cohort: 'school_effect' has shape {self.school_effect.shape}, expected "
                f"{shape[:-2]} (one value per classroom)."
            )
        if (self.aptitude < 0).any():
            raise ValueError("Cohort: 'aptitude' must be non-negative (a learning-rate factor).")
        if ((self.self_regulation < 0) | (self.self_regulation > 1)).any():
            raise ValueError("Cohort: 'self_regulation' must lie in [0, 1].")

    @property
    def n_students(self) -> int:
        """Students per classroom."""
        return self.skill.shape[-2]

    @classmethod
    def stack(cls, cohorts: list[Cohort]) -> Cohort:
        """Stack classroom cohorts along a new leading axis."""
        return cls(*(np.stack([getattr(c, f.name) for c in cohorts]) for f in fields(cls)))

    def copy(self) -> Cohort:
        """Return a deep copy."""
        return Cohort(*(getattr(self, f.name).copy() for f in fields(self)))


def _correlated(rng: np.random.Generator, n: int, d: int, rho: float) -> NDArray[np.float64]:
    """Draw standard normals with pairwise correlation ``rho`` across domains (one factor)."""
    g = rng.standard_normal((n, 1))
    u = rng.standard_normal((n, d))
    return np.sqrt(rho) * g + np.sqrt(1.0 - rho) * u


def draw_cohort(params: Parameters, seed: np.random.SeedSequence) -> Cohort:
    r"""Draw one classroom's students from the classroom's cohort stream.

    .. math::
        S_{id} &= \sqrt{\mathrm{ICC}}\,c + \sqrt{1 - \mathrm{ICC}}\,Z_{id},
            \quad \operatorname{corr}(Z_{id}, Z_{id'}) = \rho_S \\
        \log A_{id} &= \sigma_A \left(r_{AS} Z_{id} + \sqrt{1 - r_{AS}^2}\,V_{id}\right)
            - \sigma_A^2 / 2, \quad \operatorname{corr}(V_{id}, V_{id'}) = \rho_A \\
        I_{id} &= r_{IA} \tilde V_{id} + r_{IS} Z_{id}
            + \sqrt{1 - r_{IA}^2 - r_{IS}^2 - 2 r_{IA} r_{IS} r_{AS}}\,U_{id} \\
        R_i &= \operatorname{logistic}\!\left(\operatorname{logit}(\bar R)
            + \frac{\sigma_R}{\bar R (1 - \bar R)}
              \left(r_{RS} \bar Z_i + \sqrt{1 - r_{RS}^2}\,W_i\right)\right) \\
        v_{id} &\sim N(0, 1)

    with :math:`c` the class effect, :math:`\tilde V` the standardized aptitude factor,
    :math:`\bar Z_i` the standardized mean of a student's skills, and all other draws standard
    normal. The :math:`-\sigma_A^2/2` term makes the mean aptitude 1. The logit-scale SD is
    chosen so that the SD of :math:`R` is about ``self_regulation_sd`` (delta method).
    :math:`v` is each student's calibration draw (how they misjudge their own level, drawn
    last, so that it leaves the other draws unchanged).

    Schools: the class effect is :math:`c = \sqrt{w}\,c_S + \sqrt{1 - w}\,c_0`, with
    :math:`w` = ``school_share``, :math:`c_0` the classroom's own draw and :math:`c_S` its
    school's, drawn from the school's seed (:func:`school_seed`, shared by the
    ``classrooms_per_school`` classrooms of a school) together with the school's effectiveness
    :math:`z_S` (``Cohort.school_effect``). With :math:`w = 0` the class effect is the
    classroom's own draw, as before schools were modelled.

    Parameters
    ----------
    params : Parameters
    seed : SeedSequence
        The classroom's seed (:func:`classroom_seed`).

    Returns
    -------
    Cohort
    """
    p = params
    rng = stream(seed, _COHORT)
    n, d = p.n_students, p.n_domains
    class_effect = rng.standard_normal()
    school = np.random.Generator(np.random.PCG64(school_seed(seed, p.classrooms_per_school)))
    school_class_effect, school_effect = school.standard_normal(2)
    if p.school_share:
        w = p.school_share
        class_effect = np.sqrt(w) * school_class_effect + np.sqrt(1.0 - w) * class_effect
    z = _correlated(rng, n, d, p.skill_correlation)
    skill = np.sqrt(p.class_icc) * class_effect + np.sqrt(1.0 - p.class_icc) * z
    v = _correlated(rng, n, d, p.aptitude_correlation)
    r_as = p.aptitude_skill_correlation
    apt_factor = r_as * z + np.sqrt(1.0 - r_as**2) * v
    aptitude = np.exp(p.aptitude_sd * apt_factor - 0.5 * p.aptitude_sd**2)
    r_ia, r_is = p.interest_aptitude_correlation, p.interest_skill_correlation
    u = rng.standard_normal((n, d))
    own = 1.0 - r_ia**2 - r_is**2 - 2.0 * r_ia * r_is * r_as  # the variance left to the noise
    interest = r_ia * apt_factor + np.sqrt(own) * u
    if r_is:
        interest = interest + r_is * z
    w = rng.standard_normal(n)
    zbar = z.mean(axis=1)
    zbar = zbar / np.sqrt((1 + (d - 1) * p.skill_correlation) / d)
    r_rs = p.self_regulation_skill_correlation
    m = p.self_regulation_mean
    logit_sd = p.self_regulation_sd / (m * (1 - m))
    x = np.log(m / (1 - m)) + logit_sd * (r_rs * zbar + np.sqrt(1 - r_rs**2) * w)
    self_regulation = 1.0 / (1.0 + np.exp(-x))
    calibration = rng.standard_normal((n, d))
    return Cohort(skill, aptitude, interest, self_regulation, calibration, school_effect)


@dataclass
class YearDraws:
    """Every random number one classroom uses in one school year, drawn up front.

    Drawing the whole year at once (rather than inside agents) is what lets two regimes, and
    the Mesa model and the vectorized engine, use identical numbers.

    Attributes
    ----------
    pretest_error, posttest_error : ndarray, shape (N,)
        Standard normal test errors.
    diagnostic : ndarray, shape (N, D)
        Error of the system's starting estimate of each skill.
    profile : ndarray, shape (N, D)
        Error of the system's interest profile.
    gumbel : ndarray, shape (N, N)
        Standard Gumbel draws for the peer network.
    tiebreak : ndarray, shape (N,)
        Uniform draws ordering students when groups are formed.
    daily : ndarray, shape (T, N, 3 D + 1)
        Per day: domain-choice noise ``[:D]``, level-choice noise ``[D:2D]``, observation noise
        ``[2D:3D]`` and engagement noise ``[3D]`` (all standard normal).
    teacher : float
        The standard-normal effectiveness :math:`z_T` of this year's teacher
        (:func:`draw_teachers`).
    """

    pretest_error: NDArray[np.float64]
    posttest_error: NDArray[np.float64]
    diagnostic: NDArray[np.float64]
    profile: NDArray[np.float64]
    gumbel: NDArray[np.float64]
    tiebreak: NDArray[np.float64]
    daily: NDArray[np.float64]
    teacher: float = 0.0


def draw_year(params: Parameters, seed: np.random.SeedSequence, year: int) -> YearDraws:
    """Draw one school year's random numbers for one classroom.

    Parameters
    ----------
    params : Parameters
    seed : SeedSequence
        The classroom's seed.
    year : int
        School year, from 0. Each year has its own three streams (assessment, network,
        dynamics), so adding a year never changes the years before it.

    Returns
    -------
    YearDraws
    """
    n, d, t = params.n_students, params.n_domains, params.n_days
    base = _YEAR + 10 * year
    a = stream(seed, base + 0)
    pretest = a.standard_normal(n)
    posttest = a.standard_normal(n)
    diagnostic = a.standard_normal((n, d))
    profile = a.standard_normal((n, d))
    net = stream(seed, base + 1)
    gumbel = net.gumbel(size=(n, n))
    tiebreak = net.random(n)
    daily = stream(seed, base + 2).standard_normal((t, n, 3 * d + 1))
    teacher = float(draw_teachers([seed], year)[0])
    return YearDraws(pretest, posttest, diagnostic, profile, gumbel, tiebreak, daily, teacher)


def draw_teachers(seeds: list[np.random.SeedSequence], year: int) -> NDArray[np.float64]:
    """Draw the effectiveness :math:`z_T` of each classroom's teacher in one school year.

    Each classroom has a teacher per school year, drawn from its own stream (``_YEAR + 10 *
    year + 4``), so that every arm of a study meets the same teacher in the same classroom and
    year (paired comparisons stay paired), and adding this draw changed no other number.

    Parameters
    ----------
    seeds : list of SeedSequence
        The classrooms' seeds.
    year : int

    Returns
    -------
    ndarray, shape (len(seeds),)
        Standard normal draws.

    Examples
    --------
    >>> z = draw_teachers([classroom_seed(1, 0), classroom_seed(1, 1)], 0)
    >>> z.shape, bool(z[0] != z[1])
    ((2,), True)
    """
    base = _YEAR + 10 * year + _TEACHER
    return np.array([stream(s, base).standard_normal() for s in seeds])
