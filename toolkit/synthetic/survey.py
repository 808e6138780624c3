r"""Turn simulated students into the data a real study collects.

A simulated classroom knows every student's true skills and traits; a real study sees a sample
of schools, classes and students, some of whom do not respond, answers to questionnaire items
and test scores with measurement error. :func:`synthetic_survey` makes the second from the
first, so that the analysis a real study would run (Cronbach's alpha and scale scores with
:func:`toolkit.survey.cronbach_alpha` / :func:`~toolkit.survey.score_items`, the ICC with
:func:`~toolkit.survey.icc`, mixed models with :func:`~toolkit.survey.mixed_model`) runs on
simulated and real data alike.

Measurement model (all reliabilities refer to the *reference population*, by default the
students given, all arms pooled, so that differences between arms survive standardization):

- **tests**: observed score :math:`X = T + E`, :math:`E \sim N(0, \sigma_E^2)`,
  :math:`\sigma_E = \sigma_T\sqrt{(1 - r)/r}` with :math:`\sigma_T` the SD of the true score
  :math:`T` in the reference population and :math:`r` the reliability asked for, so that
  :math:`\operatorname{Var}T / \operatorname{Var}X = r` there (classical test theory; Lord &
  Novick 1968). The pretest measures the true core skill at the start of the year
  (``core_start``), the posttest at the end (``core_end``), with independent errors.
- **scales**: the trait column (e.g. the year's mean ``engagement``, in (0, 1)) is put on a
  logit scale if asked, standardized with the reference mean and SD, and answered through the
  graded response model (:mod:`toolkit.synthetic.items`) with item parameters solved so that
  the scale's alpha on the reference population is the reliability asked for. Items listed in
  ``reverse`` are worded negatively: their answers are recorded as :math:`K + 1 - X`.
- **sampling and nonresponse**: classes are grouped into schools: the model's schools when
  the student table has a ``school`` column (a study with ``[study] schools``, so that the
  data have three levels, school, class and student, with the model's intraclass
  correlations), else ``classes_per_school`` consecutive classes of an arm; schools and
  classes take part with the given probabilities;
  up to ``students_per_class`` students per class are sampled at random; each sampled student
  answers each wave with probability :math:`\operatorname{logistic}(c + \beta z)`, :math:`z`
  the standardized ``response_on`` column and :math:`c` solved so that the expected response
  rate is ``student_response`` (missing at random given ``response_on`` when
  :math:`\beta \ne 0`, completely at random when :math:`\beta = 0`; Little & Rubin 2019).

References
----------
.. [1] Lord, F. M., & Novick, M. R. (1968). *Statistical Theories of Mental Test Scores*.
   Addison-Wesley.
.. [2] Samejima, F. (1969). Estimation of latent ability using a response pattern of graded
   scores. *Psychometrika Monograph Supplement*, 34(4, Pt. 2), No. 17.
.. [3] Little, R. J. A., & Rubin, D. B. (2019). *Statistical Analysis with Missing Data*
   (3rd ed.). Wiley.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize

from toolkit._base.checks import check_frame
from toolkit.synthetic.items import (
    DEFAULT_THRESHOLDS_5,
    ItemParameters,
    grm_responses,
    items_for_reliability,
)

__all__ = [
    "ScaleSpec",
    "SurveyDesign",
    "SurveyReference",
    "add_interest",
    "observed_scores",
    "scale_keys",
    "survey_reference",
    "synthetic_survey",
]

_TRANSFORMS = ("logit", "none")


@dataclass(frozen=True)
class ScaleSpec:
    """One questionnaire scale measuring a latent trait of the simulated students.

    Attributes
    ----------
    name : str
        Item prefix: items are ``<name>_1`` ... ``<name>_<n_items>``.
    trait : str
        Column of the student table holding the latent trait (e.g. ``"engagement"``).
    n_items : int
        Items in the scale.
    reliability : float
        Cronbach's alpha the scale should have on the reference population.
    thresholds : tuple of float
        Graded-response thresholds of the middle item (``K - 1`` values for ``K`` answers).
    reverse : tuple of int
        1-based numbers of negatively worded items (recorded as ``K + 1 - answer``).
    transform : {"logit", "none"}
        Put a trait in (0, 1) on the logit scale before standardizing it.
    """

    name: str
    trait: str
    n_items: int = 6
    reliability: float = 0.85
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS_5
    reverse: tuple[int, ...] = ()
    transform: str = "logit"

    def __post_init__(self) -> None:
        where = f"ScaleSpec {self.name!r}"
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"{where}: 'name' must be a short identifier, e.g. 'eng'.")
        if isinstance(self.n_items, bool) or not isinstance(self.n_items, int) or self.n_items < 2:
            raise ValueError(f"{where}: 'n_items' must be a whole number >= 2.")
        if not 0 < self.reliability < 1:
            raise ValueError(f"{where}: 'reliability' must be in (0, 1), got {self.reliability}.")
        if self.transform not in _TRANSFORMS:
            raise ValueError(
                f"{where}: 'transform' must be one of {list(_TRANSFORMS)}, got {self.transform!r}."
            )
        bad = [i for i in self.reverse if not 1 <= i <= self.n_items]
        if bad:
            raise ValueError(f"{where}: 'reverse' items {bad} are not in 1..{self.n_items}.")
        object.__setattr__(self, "thresholds", tuple(float(t) for t in self.thresholds))
        object.__setattr__(self, "reverse", tuple(int(i) for i in self.reverse))

    @property
    def items(self) -> list[str]:
        """Item column names."""
        return [f"{self.name}_{i}" for i in range(1, self.n_items + 1)]

    @property
    def keys(self) -> list[str]:
        """Item names keyed psych-style (a leading ``-`` for negatively worded items)."""
        return [("-" if i in self.reverse else "") + it for i, it in enumerate(self.items, 1)]


#: The two scales every student table supports (engagement and end-of-year self-regulation).
DEFAULT_SCALES = (
    ScaleSpec("eng", "engagement", n_items=6, reliability=0.85, reverse=(3,)),
    ScaleSpec("selfreg", "self_regulation_end", n_items=8, reliability=0.80, reverse=(2, 6)),
)


@dataclass(frozen=True)
class SurveyDesign:
    """What a study measures and whom it reaches.

    Attributes
    ----------
    test_reliability : float
        Reliability of the study's achievement test (pretest and posttest).
    waves : {1, 2}
        1: a posttest only; 2: a pretest at the start of the year and a posttest at the end.
    scales : tuple of ScaleSpec
        Questionnaire scales, answered at the last wave.
    students_per_class : int or None
        Students sampled per class (None: all).
    classes_per_school : int
        Consecutive classes of an arm that form one school, when the student table has no
        ``school`` column (with one, the model's schools are used and this must be 1).
    school_response, class_response, student_response : float
        Probability that a school or a class takes part, and expected share of sampled
        students who answer each wave.
    response_slope : float
        Log-odds of responding per SD of ``response_on`` (0: missing completely at random).
    response_on : str
        Column that nonresponse depends on.
    score_scale : tuple of float
        ``(mean, sd)`` of the reported test scale: a score ``x`` on the model's scale (SD
        units of the starting cohort) is reported as ``mean + sd * x``.
    """

    test_reliability: float = 0.9
    waves: int = 2
    scales: tuple[ScaleSpec, ...] = DEFAULT_SCALES
    students_per_class: int | None = None
    classes_per_school: int = 1
    school_response: float = 1.0
    class_response: float = 1.0
    student_response: float = 1.0
    response_slope: float = 0.0
    response_on: str = "engagement"
    score_scale: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        if not 0 < self.test_reliability <= 1:
            raise ValueError(
                f"SurveyDesign: 'test_reliability' must be in (0, 1], got {self.test_reliability}."
            )
        if self.waves not in (1, 2):
            raise ValueError(f"SurveyDesign: 'waves' must be 1 or 2, got {self.waves!r}.")
        for name in ("school_response", "class_response", "student_response"):
            v = getattr(self, name)
            if not 0 < v <= 1:
                raise ValueError(f"SurveyDesign: '{name}' must be in (0, 1], got {v!r}.")
        spc = self.students_per_class
        if spc is not None and (isinstance(spc, bool) or not isinstance(spc, int) or spc < 1):
            raise ValueError(
                f"SurveyDesign: 'students_per_class' must be a whole number >= 1 or None, got "
                f"{spc!r}."
            )
        cps = self.classes_per_school
        if isinstance(cps, bool) or not isinstance(cps, int) or cps < 1:
            raise ValueError(
                f"SurveyDesign: 'classes_per_school' must be a whole number >= 1, got {cps!r}."
            )
        names = [s.name for s in self.scales]
        if len(set(names)) != len(names):
            raise ValueError(f"SurveyDesign: scale names must be distinct, got {names}.")
        object.__setattr__(self, "scales", tuple(self.scales))
        object.__setattr__(self, "score_scale", tuple(float(v) for v in self.score_scale))

    def replace(self, **changes: object) -> SurveyDesign:
        """Return a copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class SurveyReference:
    """The reference population that scores and scales are standardized on.

    Attributes
    ----------
    true_sd : dict
        SD of the true pretest (``"pretest"``, from ``core_start``) and posttest
        (``"posttest"``, from ``core_end``) scores.
    trait_mean, trait_sd : dict
        Mean and SD of each scale's (transformed) trait.
    items : dict
        Scale name to its :class:`~toolkit.synthetic.items.ItemParameters`.
    response_mean, response_sd : float
        Mean and SD of the ``response_on`` column.
    """

    true_sd: dict[str, float]
    trait_mean: dict[str, float]
    trait_sd: dict[str, float]
    items: dict[str, ItemParameters] = field(repr=False)
    response_mean: float = 0.0
    response_sd: float = 1.0


def _transform(x: np.ndarray, how: str, column: str) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if how == "none":
        return x
    if np.any((x <= 0) | (x >= 1)):
        raise ValueError(
            f"trait column {column!r}: transform 'logit' needs values strictly between 0 and 1; "
            "use transform='none' for a trait on another scale."
        )
    return np.log(x / (1 - x))


def _need(students: pd.DataFrame, columns: Sequence[str], why: str) -> None:
    missing = [c for c in columns if c not in students.columns]
    if missing:
        raise ValueError(
            f"students: column(s) {missing} are missing ({why}); got {list(students.columns)}."
        )


def survey_reference(
    students: pd.DataFrame, design: SurveyDesign, *, max_sample: int = 5000, seed: int = 0
) -> SurveyReference:
    """Standardization constants and item parameters from a reference population.

    Parameters
    ----------
    students : pandas.DataFrame
        A student table of the model (all arms pooled); needs ``core_start``, ``core_end``,
        each scale's trait column and ``response_on``.
    design : SurveyDesign
    max_sample : int
        Item parameters are solved on at most this many students (a random subsample).
    seed : int
        Seed of that subsample.

    Returns
    -------
    SurveyReference
    """
    check_frame(students, "students")
    _need(students, ["core_start", "core_end"], "the true scores behind the tests")
    true_sd = {
        "pretest": float(np.std(students["core_start"], ddof=1)),
        "posttest": float(np.std(students["core_end"], ddof=1)),
    }
    means, sds, items = {}, {}, {}
    rng = np.random.default_rng(seed)
    for sc in design.scales:
        _need(students, [sc.trait], f"the trait of scale {sc.name!r}")
        g = _transform(students[sc.trait].to_numpy(), sc.transform, sc.trait)
        means[sc.name], sds[sc.name] = float(g.mean()), float(g.std(ddof=1))
        if sds[sc.name] <= 0:
            raise ValueError(f"trait column {sc.trait!r} has no variance; it cannot be measured.")
        z = (g - means[sc.name]) / sds[sc.name]
        if z.size > max_sample:
            z = rng.choice(z, max_sample, replace=False)
        items[sc.name] = items_for_reliability(
            sc.reliability, sc.n_items, thresholds=sc.thresholds, theta=z
        )
    r_mean, r_sd = 0.0, 1.0
    if design.response_slope != 0:
        _need(students, [design.response_on], "nonresponse depends on it (response_on)")
        r = students[design.response_on].to_numpy(dtype=float)
        r_mean, r_sd = float(r.mean()), float(r.std(ddof=1)) or 1.0
    return SurveyReference(true_sd, means, sds, items, r_mean, r_sd)


def observed_scores(
    true: np.ndarray, reliability: float, rng: np.random.Generator, *, true_sd: float
) -> np.ndarray:
    r"""Observed test scores with a given reliability (classical test theory).

    Parameters
    ----------
    true : ndarray
        True scores.
    reliability : float
        :math:`r \in (0, 1]` in the reference population whose true-score SD is ``true_sd``.
    rng : numpy.random.Generator
    true_sd : float
        :math:`\sigma_T` of the reference population.

    Returns
    -------
    ndarray
        :math:`X = T + \sigma_T\sqrt{(1 - r)/r}\,Z`, :math:`Z` standard normal.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = rng.standard_normal(200_000)
    >>> x = observed_scores(t, 0.8, rng, true_sd=1.0)
    >>> round(float(np.var(t) / np.var(x)), 2)
    0.8
    """
    if not 0 < reliability <= 1:
        raise ValueError(f"reliability must be in (0, 1], got {reliability!r}.")
    sigma_e = true_sd * np.sqrt((1 - reliability) / reliability)
    true = np.asarray(true, dtype=float)
    return true + sigma_e * rng.standard_normal(true.shape)


def _class_columns(students: pd.DataFrame) -> list[str]:
    unit = "replicate" if "replicate" in students.columns else "classroom"
    _need(students, [unit], "the simulated classroom of each student ('replicate' or 'classroom')")
    return ([] if "arm" not in students.columns else ["arm"]) + [unit]


def _response_intercept(rate: float, slope: float, z: np.ndarray) -> float:
    """Solve ``mean(logistic(c + slope * z)) = rate`` for ``c``."""
    if slope == 0 or rate >= 1:
        return float(np.log(rate / (1 - rate))) if rate < 1 else np.inf

    def gap(c: float) -> float:
        return float(np.mean(0.5 * (1 + np.tanh(0.5 * (c + slope * z))))) - rate

    return float(optimize.brentq(gap, -50.0, 50.0, xtol=1e-10))


def synthetic_survey(
    students: pd.DataFrame,
    design: SurveyDesign | None = None,
    rng: np.random.Generator | int | None = None,
    *,
    reference: SurveyReference | None = None,
    keep_truth: bool = False,
) -> pd.DataFrame:
    """Measure simulated students as a real study would: tests, questionnaires, nonresponse.

    Parameters
    ----------
    students : pandas.DataFrame
        One school year of a model's student table (:func:`toolkit.engine.simulate_arms` or a
        run's ``students.parquet``): the classroom column (``replicate`` or ``classroom``),
        ``arm`` if several, ``student``, ``core_start``, ``core_end`` and the traits of the
        design's scales; optionally ``school`` (the classroom's school in the model, as a
        study with ``[study] schools`` writes it), which then forms the schools.
    design : SurveyDesign, optional
        Default :class:`SurveyDesign()` (two waves, engagement and self-regulation scales,
        everyone responds).
    rng : numpy.random.Generator or int, optional
        Source of every random draw (measurement errors, answers, sampling, nonresponse).
    reference : SurveyReference, optional
        Population for standardization and item parameters (default: ``students`` itself,
        through :func:`survey_reference`). Pass one reference when measuring many samples
        of the same population (e.g. the replications of a power analysis).
    keep_truth : bool
        Also return the true scores and traits (``true_pretest``, ``true_posttest``,
        ``trait_<scale>``), which a real study never sees.

    Returns
    -------
    pandas.DataFrame
        One row per responding student: ``school``, ``class`` (whole numbers), ``arm`` (if
        present), ``replicate`` (the simulated classroom), ``student``, ``pretest`` (two waves),
        ``posttest``, and every scale's items as whole numbers ``1..K``; a wave a student did
        not answer is missing (NaN). ``attrs["keys"]`` maps each scale to its keyed items (for
        :func:`toolkit.survey.score_items`), ``attrs["response"]`` counts who took part.

    Examples
    --------
    >>> from toolkit.engine import simulate_batch
    >>> from toolkit.model import Parameters, classroom_seed
    >>> p = Parameters(n_students=10, n_days=10)
    >>> sim = simulate_batch("standardized", p, [classroom_seed(1, i) for i in range(6)])
    >>> data = synthetic_survey(sim, SurveyDesign(student_response=0.8), rng=1)
    >>> data.columns[:6].tolist()
    ['school', 'class', 'replicate', 'student', 'pretest', 'posttest']
    >>> data.attrs["keys"]["eng"][:3]
    ['eng_1', 'eng_2', '-eng_3']
    """
    check_frame(students, "students")
    design = design or SurveyDesign()
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if "year" in students.columns and students["year"].nunique() > 1:
        raise ValueError(
            "students: several school years; pass one year, e.g. students[students.year == 0]."
        )
    keys = _class_columns(students)
    if reference is None:
        reference = survey_reference(students, design)
    df = students.sort_values([*keys, "student"], kind="stable").reset_index(drop=True)
    # classes and schools -------------------------------------------------------------------
    model_schools = "school" in df.columns  # the model's schools ([study] schools)
    if model_schools and design.classes_per_school != 1:
        raise ValueError(
            "students: the table has a 'school' column (the classrooms' schools in the model); "
            "leave SurveyDesign.classes_per_school at 1, or drop the column to group classes "
            "into schools by classes_per_school."
        )
    classes = df[[*keys, "school"] if model_schools else keys].drop_duplicates()
    classes = classes.reset_index(drop=True)
    if model_schools and classes[keys].duplicated().any():
        raise ValueError("students: a classroom's rows name several schools ('school').")
    classes["class"] = np.arange(len(classes))
    if "arm" in keys:
        within = classes.groupby("arm", sort=False, observed=True).cumcount().to_numpy()
        arm_code = pd.factorize(classes["arm"].astype(str))[0]
    else:
        within, arm_code = classes["class"].to_numpy(), np.zeros(len(classes), dtype=int)
    if model_schools:
        school_in_arm = classes.pop("school").to_numpy()
    else:
        school_in_arm = within // design.classes_per_school
    classes["school"] = pd.factorize(pd.MultiIndex.from_arrays([arm_code, school_in_arm]))[0]
    n_schools = int(classes["school"].max()) + 1
    school_ok = rng.random(n_schools) < design.school_response
    class_ok = rng.random(len(classes)) < design.class_response
    classes = classes[school_ok[classes["school"].to_numpy()] & class_ok]
    df = df.drop(columns="school", errors="ignore").merge(classes, on=keys, how="inner")
    # students sampled in each class ---------------------------------------------------------
    order = rng.random(len(df))
    if design.students_per_class is not None:
        rank = pd.Series(order).groupby(df["class"].to_numpy()).rank(method="first").to_numpy()
        df = df[rank <= design.students_per_class].reset_index(drop=True)
    n_sampled = len(df)
    # measures -------------------------------------------------------------------------------
    mean, sd = design.score_scale
    out = pd.DataFrame(
        {
            "school": df["school"].to_numpy(),
            "class": df["class"].to_numpy(),
            **({"arm": df["arm"].astype(str).to_numpy()} if "arm" in keys else {}),
            "replicate": df[keys[-1]].to_numpy(),
            "student": df["student"].to_numpy(),
        }
    )
    if design.waves == 2:
        pre = observed_scores(
            df["core_start"].to_numpy(),
            design.test_reliability,
            rng,
            true_sd=reference.true_sd["pretest"],
        )
        out["pretest"] = mean + sd * pre
    post = observed_scores(
        df["core_end"].to_numpy(),
        design.test_reliability,
        rng,
        true_sd=reference.true_sd["posttest"],
    )
    out["posttest"] = mean + sd * post
    for sc in design.scales:
        g = _transform(df[sc.trait].to_numpy(), sc.transform, sc.trait)
        z = (g - reference.trait_mean[sc.name]) / reference.trait_sd[sc.name]
        items = reference.items[sc.name]
        x = grm_responses(z, items, rng).astype(float)
        for i in sc.reverse:
            x[:, i - 1] = items.n_categories + 1 - x[:, i - 1]
        for j, col in enumerate(sc.items):
            out[col] = x[:, j]
    if keep_truth:
        out["true_pretest"] = df["core_start"].to_numpy()
        out["true_posttest"] = df["core_end"].to_numpy()
        for sc in design.scales:
            out[f"trait_{sc.name}"] = df[sc.trait].to_numpy()
    # nonresponse by wave --------------------------------------------------------------------
    if design.student_response < 1:
        if design.response_slope != 0:
            _need(df, [design.response_on], "nonresponse depends on it (response_on)")
            zr = (df[design.response_on].to_numpy(dtype=float) - reference.response_mean) / (
                reference.response_sd
            )
        else:
            zr = np.zeros(len(df))
        c = _response_intercept(design.student_response, design.response_slope, zr)
        p = 0.5 * (1 + np.tanh(0.5 * (c + design.response_slope * zr)))
        last = ["posttest"] + [it for sc in design.scales for it in sc.items]
        waves = [["pretest"], last] if design.waves == 2 else [last]
        answered = np.zeros(len(df), dtype=bool)
        for cols in waves:
            ok = rng.random(len(df)) < p
            out.loc[~ok, cols] = np.nan
            answered |= ok
        out = out[answered].reset_index(drop=True)
    out.attrs["keys"] = scale_keys(design)
    out.attrs["response"] = {
        "schools": n_schools,
        "schools_responding": int(school_ok.sum()),
        "classes": len(class_ok),
        "classes_responding": len(classes),
        "students_sampled": int(n_sampled),
        "students_responding": len(out),
    }
    return out


def scale_keys(design: SurveyDesign) -> dict[str, list[str]]:
    """Keyed item lists of the design's scales, for :func:`toolkit.survey.score_items`.

    Examples
    --------
    >>> scale_keys(SurveyDesign())["selfreg"][:2]
    ['selfreg_1', '-selfreg_2']
    """
    return {sc.name: sc.keys for sc in design.scales}


def add_interest(
    students: pd.DataFrame,
    params: object,
    seed: int,
    *,
    domains: Sequence[str] | None = None,
    column: str = "interest",
) -> pd.DataFrame:
    """Add each student's starting interest (mean over some domains) from the model's cohort.

    The student table does not carry interests; they are drawn with the students, so they
    can be drawn again from the same classroom seeds (:func:`toolkit.model.draw_cohort`).

    Parameters
    ----------
    students : pandas.DataFrame
        A student table with the classroom column (``replicate`` or ``classroom``) and
        ``student``.
    params : toolkit.model.Parameters
        The parameters the students were simulated with.
    seed : int
        The master seed (classroom ``i`` has seed ``classroom_seed(seed, i)``).
    domains : sequence of str, optional
        Domains to average (default: the core domains).
    column : str
        Name of the new column.

    Returns
    -------
    pandas.DataFrame
        A copy with ``column`` added (interest z-scores at the start of the first year).

    Examples
    --------
    >>> from toolkit.engine import simulate_batch
    >>> from toolkit.model import Parameters, classroom_seed
    >>> p = Parameters(n_students=5, n_days=5)
    >>> sim = simulate_batch("personal", p, [classroom_seed(3, i) for i in range(2)])
    >>> add_interest(sim, p, 3)["interest"].shape
    (10,)
    """
    from toolkit.model.cohort import classroom_seed, draw_cohort

    check_frame(students, "students")
    unit = _class_columns(students)[-1]
    domains = list(domains or params.core_domains)
    unknown = [d for d in domains if d not in params.domains]
    if unknown:
        raise ValueError(f"domains: {unknown} are not model domains {list(params.domains)}.")
    idx = [params.domains.index(d) for d in domains]
    values = {}
    for c in pd.unique(students[unit]):
        cohort = draw_cohort(params, classroom_seed(seed, int(c)))
        values[int(c)] = cohort.interest[:, idx].mean(axis=1)
    out = students.copy()
    out[column] = [values[int(c)][int(s)] for c, s in zip(out[unit], out["student"], strict=True)]
    return out
