r"""Measure a simulated starting cohort as a school survey would: tests, questionnaires, gaps.

The other direction of :mod:`toolkit.realcohort`: given the model's students at the start of a
year (one :class:`~toolkit.model.Cohort` per class), :func:`measure_cohort` writes the file a
researcher would hold about them, so that rebuilding a cohort from the file can be checked
against the students it came from (the round trip of ``tests/test_realcohort_roundtrip.py``).

Measurement model:

- **tests**: one per tested domain, observed score :math:`X = T + E` with :math:`T` the
  student's true skill (the model's SD units) and :math:`E \sim N(0, (1 - r)/r)`, so that the
  reliability in the model's population is :math:`r` (:func:`toolkit.synthetic.observed_scores`),
  reported as :math:`\mu + \sigma\sqrt r\,X` so that observed scores have mean :math:`\mu` and
  SD :math:`\sigma` in that population (e.g. 500 and 100);
- **questionnaires**: Likert items by the graded response model with items solved for a
  chosen Cronbach's alpha (:func:`toolkit.synthetic.items_for_reliability`), from the interest
  z-score of each domain asked about and from the self-regulation factor :math:`Y`
  (self-regulation is :math:`\operatorname{logistic}(\operatorname{logit}\bar R + sY)`); items
  listed as reversed are worded negatively and recorded as :math:`K + 1 - X`;
- **nonresponse**: each pupil misses a test with probability :math:`1 - ` ``test_response``,
  the whole questionnaire with probability :math:`1 - ` ``questionnaire_response``, and each
  item of a questionnaire they answer with probability ``item_missing``; with
  ``response_slope`` :math:`\beta \ne 0` the probability of answering the questionnaire is
  :math:`\operatorname{logistic}(c + \beta z)`, :math:`z` the pupil's observed mean test score
  standardized (missing at random given the tests; Little & Rubin 2019), :math:`c` solved for
  the rate.

References
----------
.. [1] Lord, F. M., & Novick, M. R. (1968). *Statistical Theories of Mental Test Scores*.
   Addison-Wesley.
.. [2] Little, R. J. A., & Rubin, D. B. (2019). *Statistical Analysis with Missing Data*
   (3rd ed.). Wiley.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from toolkit.synthetic.items import grm_responses, items_for_reliability
from toolkit.synthetic.survey import _response_intercept, observed_scores

__all__ = ["CohortMeasurement", "cohort_table", "measure_cohort"]


@dataclass(frozen=True)
class CohortMeasurement:
    """What a school survey measures of its pupils at the start of the year.

    Attributes
    ----------
    tests : tuple of str or None
        Domains with a test (default: the core domains).
    test_reliability : float
        Reliability of every test in the model's population.
    score_scale : tuple of float
        ``(mean, sd)`` of observed test scores in the model's population.
    interests : tuple of str or None
        Domains whose interest the questionnaire asks about (default: every domain).
    interest_items, self_regulation_items : int
        Items per interest scale and in the self-regulation scale.
    interest_reliability, self_regulation_reliability : float
        Cronbach's alpha of those scales in the model's population.
    self_regulation_reverse : tuple of int
        1-based numbers of the negatively worded self-regulation items.
    test_response, questionnaire_response : float
        Share of pupils with each test score, and answering the questionnaire.
    item_missing : float
        Share of a respondent's items left blank.
    response_slope : float
        Log-odds of answering the questionnaire per SD of the observed mean test score.
    """

    tests: tuple[str, ...] | None = None
    test_reliability: float = 0.85
    score_scale: tuple[float, float] = (500.0, 100.0)
    interests: tuple[str, ...] | None = None
    interest_items: int = 4
    interest_reliability: float = 0.8
    self_regulation_items: int = 6
    self_regulation_reliability: float = 0.8
    self_regulation_reverse: tuple[int, ...] = (2, 5)
    test_response: float = 1.0
    questionnaire_response: float = 1.0
    item_missing: float = 0.0
    response_slope: float = 0.0

    def __post_init__(self) -> None:
        for name in ("test_reliability", "interest_reliability", "self_regulation_reliability"):
            v = getattr(self, name)
            if not 0 < v < 1:
                raise ValueError(f"CohortMeasurement: '{name}' must be in (0, 1), got {v!r}.")
        for name in ("test_response", "questionnaire_response"):
            v = getattr(self, name)
            if not 0 < v <= 1:
                raise ValueError(f"CohortMeasurement: '{name}' must be in (0, 1], got {v!r}.")
        if not 0 <= self.item_missing < 1:
            raise ValueError(
                f"CohortMeasurement: 'item_missing' must be in [0, 1), got {self.item_missing!r}."
            )
        for name in ("interest_items", "self_regulation_items"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 2:
                raise ValueError(f"CohortMeasurement: '{name}' must be a whole number >= 2.")
        bad = [i for i in self.self_regulation_reverse if not 1 <= i <= self.self_regulation_items]
        if bad:
            raise ValueError(
                f"CohortMeasurement: 'self_regulation_reverse' items {bad} are not in "
                f"1..{self.self_regulation_items}."
            )


def measure_cohort(
    cohorts: Sequence[Any],
    params: Any,
    design: CohortMeasurement | None = None,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """Write the survey file of a simulated starting cohort (see the module docstring).

    Parameters
    ----------
    cohorts : sequence of toolkit.model.Cohort
        One per class (classes may differ in size).
    params : toolkit.model.Parameters
        The parameters the students were drawn under (domains; the self-regulation scale).
    design : CohortMeasurement, optional
    rng : numpy.random.Generator or int, optional
        Source of every draw (errors, answers, nonresponse), in that order.

    Returns
    -------
    pandas.DataFrame
        One row per pupil: ``class``, ``student``, ``test_<domain>`` per test, the items
        ``int_<domain>_<i>`` and ``srl_<i>`` (whole numbers 1..5, NaN where not answered).
        ``attrs["mapping"]`` is the ``[cohort]`` mapping that reads the file back (without
        ``data``); :func:`cohort_table` gives the students' true attributes in the same order.

    Examples
    --------
    >>> from toolkit.model import Parameters, classroom_seed, draw_cohort
    >>> p = Parameters(n_students=8)
    >>> data = measure_cohort([draw_cohort(p, classroom_seed(1, i)) for i in range(3)], p, rng=1)
    >>> data.shape[0], data.columns[:4].tolist()
    (24, ['class', 'student', 'test_mathematics', 'test_reading'])
    >>> sorted(data.attrs["mapping"]["achievement"])
    ['mathematics', 'reading']
    """
    design = design or CohortMeasurement()
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    doms = list(params.domains)
    tests = list(design.tests if design.tests is not None else params.core_domains)
    asked = list(design.interests if design.interests is not None else doms)
    unknown = [d for d in [*tests, *asked] if d not in doms]
    if unknown:
        raise ValueError(f"measure_cohort: {unknown} are not model domains {doms}.")
    sizes = [c.n_students for c in cohorts]
    skill = np.concatenate([c.skill for c in cohorts])
    interest = np.concatenate([c.interest for c in cohorts])
    sr = np.concatenate([c.self_regulation for c in cohorts])
    m = params.self_regulation_mean
    y = (np.log(sr / (1 - sr)) - np.log(m / (1 - m))) / (params.self_regulation_sd / (m * (1 - m)))
    out = pd.DataFrame(
        {
            "class": np.repeat(np.arange(len(cohorts)), sizes),
            "student": np.concatenate([np.arange(n) for n in sizes]),
        }
    )
    mean, sd = design.score_scale
    r = design.test_reliability
    for d in tests:
        x = observed_scores(skill[:, doms.index(d)], r, rng, true_sd=1.0)
        out[f"test_{d}"] = mean + sd * np.sqrt(r) * x
    items_int = items_for_reliability(design.interest_reliability, design.interest_items)
    for d in asked:
        x = grm_responses(interest[:, doms.index(d)], items_int, rng).astype(float)
        for i in range(design.interest_items):
            out[f"int_{d}_{i + 1}"] = x[:, i]
    items_sr = items_for_reliability(
        design.self_regulation_reliability, design.self_regulation_items
    )
    x = grm_responses(y, items_sr, rng).astype(float)
    for i in range(design.self_regulation_items):
        answer = x[:, i]
        if i + 1 in design.self_regulation_reverse:
            answer = items_sr.n_categories + 1 - answer
        out[f"srl_{i + 1}"] = answer
    # nonresponse ------------------------------------------------------------------------------
    n = len(out)
    test_cols = [f"test_{d}" for d in tests]
    items = [c for c in out.columns if c.startswith(("int_", "srl_"))]
    if design.response_slope != 0:
        z = out[test_cols].mean(axis=1).to_numpy()
        z = (z - z.mean()) / z.std()
    else:
        z = np.zeros(n)
    c = _response_intercept(design.questionnaire_response, design.response_slope, z)
    answers = rng.random(n) < 0.5 * (1 + np.tanh(0.5 * (c + design.response_slope * z)))
    out.loc[~answers, items] = np.nan
    blank = rng.random((n, len(items))) < design.item_missing
    out[items] = out[items].mask(blank)
    for col in test_cols:
        missing = rng.random(n) >= design.test_response
        out.loc[missing, col] = np.nan
    # how to read it back ----------------------------------------------------------------------
    reverse = set(design.self_regulation_reverse)
    out.attrs["mapping"] = {
        "class": "class",
        "achievement": {
            d: {
                "column": f"test_{d}",
                "reliability": r,
                "reference": {"mean": float(mean), "sd": float(sd)},
            }
            for d in tests
        },
        "interest": {
            d: {"items": [f"int_{d}_{i + 1}" for i in range(design.interest_items)]} for d in asked
        },
        "self_regulation": {
            "items": [
                ("-" if i + 1 in reverse else "") + f"srl_{i + 1}"
                for i in range(design.self_regulation_items)
            ]
        },
    }
    return out


def cohort_table(cohorts: Sequence[Any], params: Any) -> pd.DataFrame:
    """Tabulate a simulated cohort's true starting attributes, in :func:`measure_cohort`'s order.

    Returns
    -------
    pandas.DataFrame
        ``class``, ``student``, ``skill_<domain>``, ``interest_<domain>``, ``self_regulation``.

    Examples
    --------
    >>> from toolkit.model import Parameters, classroom_seed, draw_cohort
    >>> p = Parameters(n_students=5)
    >>> cohort_table([draw_cohort(p, classroom_seed(1, 0))], p).shape
    (5, 11)
    """
    doms = list(params.domains)
    sizes = [c.n_students for c in cohorts]
    out = pd.DataFrame(
        {
            "class": np.repeat(np.arange(len(cohorts)), sizes),
            "student": np.concatenate([np.arange(n) for n in sizes]),
        }
    )
    skill = np.concatenate([c.skill for c in cohorts])
    interest = np.concatenate([c.interest for c in cohorts])
    for j, d in enumerate(doms):
        out[f"skill_{d}"] = skill[:, j]
    for j, d in enumerate(doms):
        out[f"interest_{d}"] = interest[:, j]
    out["self_regulation"] = np.concatenate([c.self_regulation for c in cohorts])
    return out
