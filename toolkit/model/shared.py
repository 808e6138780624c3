"""Steps shared by the Mesa model and the vectorized engine, written once.

Keeping these in one place is part of what makes the two implementations the same model: the
curriculum, the grade standard, the start of a school year (the system's picture of each
learner, instructional groups and what they cost the teacher, the peer network), the
disengagement around each student, the keyword arguments of the day's mechanisms, the starting
engagement and the student table are each defined once, as functions on arrays with an optional
leading classroom axis. The Mesa agents call them on their class, the engine on a chunk of
classrooms.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from toolkit.model import mechanisms as mech
from toolkit.model.params import Parameters
from toolkit.model.regimes import Regime

__all__ = [
    "STUDENT_COLUMNS",
    "Instruction",
    "YearStart",
    "choose_kwargs",
    "class_disengagement",
    "curriculum_weights",
    "form_instruction",
    "grade_standard",
    "group_disengagement",
    "initial_engagement",
    "learn_kwargs",
    "plan_kwargs",
    "start_year",
    "year_table",
]


def curriculum_weights(params: Parameters) -> np.ndarray:
    """Return the curriculum's time shares: ``core_time_share`` split evenly over core domains.

    The remaining time is split evenly over the other domains; if every domain is core, all
    time is core.

    Examples
    --------
    >>> curriculum_weights(Parameters()).round(3).tolist()
    [0.26, 0.26, 0.24, 0.24]
    """
    core = np.array(params.core_mask)
    k = int(core.sum())
    share = params.core_time_share if k < params.n_domains else 1.0
    return np.where(core, share / k, (1 - share) / max(params.n_domains - k, 1))


def grade_standard(params: Parameters, year: int, day: int) -> float:
    """Where a student "should" be in every domain today: the curriculum pace times days elapsed.

    ``daily_pace * (year * n_days + day)`` SD (:attr:`Parameters.daily_pace`); the system
    advances its picture of every student at the same pace (see
    :func:`toolkit.model.mechanisms.update_estimate`).

    Examples
    --------
    >>> round(grade_standard(Parameters(), 1, 0), 6)
    0.36
    """
    return params.daily_pace * (year * params.n_days + day)


class Instruction(NamedTuple):
    """Instructional groups and what they give each student.

    Attributes
    ----------
    groups : ndarray of int, shape (..., N)
    direct_time : ndarray, shape (...)
        Share of the lesson each group is taught (:func:`mechanisms.instruction_time`).
    direct_efficacy : ndarray, shape (..., N)
        Efficacy of the direct instruction each student's group gets: its size
        (:func:`mechanisms.direct_instruction_efficacy`), the expectations its level carries
        (:func:`mechanisms.expectation_factor`) and the classroom's instructional quality
        (:func:`mechanisms.instruction_quality`).
    overhead : ndarray, shape (...)
        Teacher time per lesson that adaptation costs (:func:`mechanisms.adaptation_overhead`).
    cooperation : ndarray, shape (..., N)
        :func:`mechanisms.cooperation_factor` of each student's group.
    practice_teacher : ndarray, shape (..., N)
        How the classroom's instructional quality reaches independent work:
        :math:`1 + (1 - a)(q - 1)` for autonomy :math:`a` (the system directs the rest).
    supervision : ndarray, shape (..., N)
        Supervision of independent work given how busy the adults are
        (:func:`mechanisms.teacher_busy_share`, :func:`mechanisms.effective_supervision`).
    """

    groups: np.ndarray
    direct_time: np.ndarray
    direct_efficacy: np.ndarray
    overhead: np.ndarray
    cooperation: np.ndarray
    practice_teacher: np.ndarray
    supervision: np.ndarray


def form_instruction(
    params: Parameters,
    regime: Regime,
    estimate: np.ndarray,
    profile: np.ndarray,
    tiebreak: np.ndarray,
    core: np.ndarray,
    quality: np.ndarray | float = 1.0,
) -> Instruction:
    """Form the instructional groups from the system's picture, and price the adaptation.

    Students are sorted on the regime's basis (:func:`mechanisms.grouping_key`) and cut into
    ``n_groups`` groups (:func:`mechanisms.form_groups`); the teacher's time left after
    scaffolding and after the cost of the groups and of individually set or followed work
    (:func:`mechanisms.adaptation_overhead`, :func:`mechanisms.individual_share`) is shared
    between the non-empty groups (:func:`mechanisms.instruction_time`). Each group's direct
    instruction is as effective as its size, the expectations its estimated level carries and
    the classroom's quality ``quality`` make it; independent work is supervised as well as the
    adults' free time allows, and done together in small groups.

    Parameters
    ----------
    params : Parameters
    regime : Regime
    estimate : ndarray, shape (..., N, D)
        The system's estimate of each skill.
    profile : ndarray, shape (..., N, D)
        The interest profile groups are formed on (the system's or the learners' own).
    tiebreak : ndarray, shape (..., N)
        Uniform draws ordering ties (and random groups).
    core : ndarray of bool, shape (D,)
    quality : float or ndarray, shape (...)
        The classroom's instructional quality :math:`q`
        (:func:`mechanisms.instruction_quality`; 1 for an average teacher and school).

    Returns
    -------
    Instruction
    """
    p, r = params, regime
    g = min(r.n_groups, p.n_students)
    core_est = estimate[..., core].mean(axis=-1)
    key = mech.grouping_key(r.grouping, core_est, profile, tiebreak)
    groups = mech.form_groups(key, g)
    gmeans, sizes = mech.group_mean(core_est[..., None], groups, g)
    n_nonempty = (sizes > 0).sum(axis=-1)
    psi = mech.individual_share(
        r.path_adaptation,
        r.practice_individualization,
        r.learner_path_control,
        r.learner_goal_control,
        r.remediation,
        r.strength_tailoring,
        p.learner_plan_cost,
    )
    overhead = mech.adaptation_overhead(
        p.n_students, n_nonempty, psi, p.group_cost, p.plan_cost, p.plan_cost_exponent
    )
    tau = mech.instruction_time(p.teacher_capacity, r.scaffolding, n_nonempty, overhead)
    own_size = np.take_along_axis(sizes, groups, axis=-1)
    own_level = np.take_along_axis(gmeans[..., 0], groups, axis=-1)
    q = np.asarray(quality, dtype=float)[..., None]
    eff = mech.direct_instruction_efficacy(own_size, p.group_size_penalty)
    eff = eff * mech.expectation_factor(
        own_level, core_est.mean(axis=-1, keepdims=True), p.group_expectation
    )
    eff = eff * q
    cooperation = mech.cooperation_factor(
        own_size, p.cooperative_learning, p.cooperative_group_size
    )
    practice_teacher = np.broadcast_to(1.0 + (1.0 - r.autonomy) * (q - 1.0), own_size.shape)
    busy = mech.teacher_busy_share(n_nonempty, tau, overhead, p.teacher_capacity)
    supervision = np.broadcast_to(
        mech.effective_supervision(p.supervision, busy, p.supervision_availability)[..., None],
        own_size.shape,
    )
    return Instruction(
        groups,
        np.asarray(tau, dtype=float),
        eff,
        np.asarray(overhead),
        cooperation,
        np.ascontiguousarray(practice_teacher, dtype=float),
        np.ascontiguousarray(supervision, dtype=float),
    )


class YearStart(NamedTuple):
    """What the system knows and sets up at the start of a school year.

    Attributes
    ----------
    prior : ndarray, shape (..., N)
        The pretest (observed core score).
    estimate, interest_estimate : ndarray, shape (..., N, D)
        The system's picture of each skill (prior records) and interest (a survey).
    profile : ndarray, shape (..., N, D)
        The interest profile groups and ties are formed on.
    instruction : Instruction
    peers : ndarray of int, shape (..., N, K)
        Each student's peers this year.
    """

    prior: np.ndarray
    estimate: np.ndarray
    interest_estimate: np.ndarray
    profile: np.ndarray
    instruction: Instruction
    peers: np.ndarray


def start_year(
    params: Parameters,
    regime: Regime,
    skill: np.ndarray,
    interest: np.ndarray,
    pretest_error: np.ndarray,
    diagnostic: np.ndarray,
    profile_error: np.ndarray,
    gumbel: np.ndarray,
    tiebreak: np.ndarray,
    core: np.ndarray,
    quality: np.ndarray | float = 1.0,
) -> YearStart:
    """Start a school year: pretest, the system's picture, groups and the peer network.

    1. the pretest measures each student's core skill with error
       (:func:`mechanisms.test_score`);
    2. the system's estimate of each skill has the diagnostic error
       ``diagnostic_noise * diagnostic`` and its interest profile the survey error
       ``profile_noise * profile_error``;
    3. groups and ties form on the system's interest profile, the learners' own interests, or a
       mix (``peer_choice``), and on the estimated core level;
    4. instructional groups (:func:`form_instruction`, with the classroom's instructional
       quality ``quality`` this year) and the network (:func:`mechanisms.peer_network`)
       follow.

    Arrays may carry a leading classroom axis (the engine) or not (the Mesa model).

    Returns
    -------
    YearStart
    """
    p, r = params, regime
    prior = mech.test_score(skill, core, pretest_error, p.test_error_sd)
    estimate = skill + p.diagnostic_noise * diagnostic
    interest_est = interest + p.profile_noise * profile_error
    profile = (1 - r.peer_choice) * interest_est + r.peer_choice * interest
    instruction = form_instruction(p, r, estimate, profile, tiebreak, core, quality)
    peers = mech.peer_network(
        estimate[..., core].mean(axis=-1),
        profile,
        r.peer_ability_homophily,
        r.peer_interest_homophily,
        gumbel,
        p.peer_ties,
    )
    return YearStart(prior, estimate, interest_est, profile, instruction, peers)


def group_disengagement(engagement: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    r"""Disengagement of the others in each student's instructional group.

    .. math:: \sum_{j \in g(i), j \ne i} (1 - E_j)

    Parameters
    ----------
    engagement : ndarray, shape (..., N)
    groups : ndarray of int, shape (..., N)
    n_groups : int

    Returns
    -------
    ndarray, shape (..., N)

    Examples
    --------
    >>> group_disengagement(np.array([1.0, 0.5, 0.0]), np.array([0, 0, 1]), 2).tolist()
    [0.5, 0.0, 0.0]
    """
    off = 1.0 - np.asarray(engagement, dtype=float)
    means, sizes = mech.group_mean(off[..., None], groups, n_groups)
    sums = means[..., 0] * sizes
    return np.take_along_axis(sums, groups, axis=-1) - off


def class_disengagement(engagement: np.ndarray) -> np.ndarray:
    r"""Disengagement of everyone else in the class, :math:`\sum_{j \ne i} (1 - E_j)`.

    The class shares a room during independent work, so everyone's disengagement can disrupt
    everyone else's work. The sum runs in student order (a cumulative sum), so that the
    compiled kernel can reproduce it exactly.

    Parameters
    ----------
    engagement : ndarray, shape (..., N)

    Returns
    -------
    ndarray, shape (..., N)

    Examples
    --------
    >>> class_disengagement(np.array([1.0, 0.5, 0.25])).tolist()
    [1.25, 0.75, 0.5]
    """
    off = 1.0 - np.asarray(engagement, dtype=float)
    return np.cumsum(off, axis=-1)[..., -1:] - off


def initial_engagement(params: Parameters) -> float:
    """Engagement on the first day, ``logistic(engagement_baseline)``, the same for everyone."""
    return float(mech.logistic(params.engagement_baseline))


def learn_kwargs(params: Parameters, regime: Regime) -> dict[str, float]:
    """Keyword arguments of :func:`toolkit.model.mechanisms.student_learn`."""
    p, r = params, regime
    return {
        "autonomy": r.autonomy,
        "scaffolding": r.scaffolding,
        "rate": p.learning_rate,
        "optimum": p.zpd_optimum,
        "width": p.zpd_width,
        "practice_efficacy": p.practice_efficacy,
        "self_direction_cost": p.self_direction_cost,
        "strategy_use": p.strategy_use,
        "disruption": p.disruption,
        "room_disruption": p.room_disruption,
        "peer_strength": p.peer_learning,
        "peer_gap_scale": p.peer_gap_scale,
        "forgetting": p.forgetting_rate,
        "engagement_baseline": p.engagement_baseline,
        "engagement_interest_weight": p.engagement_interest_weight,
        "engagement_autonomy_weight": p.engagement_autonomy_weight,
        "engagement_fit_weight": p.engagement_fit_weight,
        "engagement_rate": p.engagement_rate,
        "engagement_noise_sd": p.engagement_noise,
        "scaffolding_effect": p.scaffolding_effect,
        "autonomy_practice_effect": p.autonomy_practice_effect,
        "interest_rate": p.interest_rate,
        "interest_threshold": p.interest_threshold,
        "interest_autonomy_weight": p.interest_autonomy_weight,
        "interest_saturation": p.interest_saturation,
    }


def choose_kwargs(params: Parameters, regime: Regime) -> dict[str, float]:
    """Keyword arguments of :func:`toolkit.model.mechanisms.student_choose`."""
    p, r = params, regime
    return {
        "goal_control": r.learner_goal_control,
        "path_control": r.learner_path_control,
        "optimum": p.zpd_optimum,
        "choice_bias": p.choice_bias,
        "self_assessment_bias": p.self_assessment_bias,
        "choice_noise": p.choice_noise,
        "choice_sharpness": p.choice_sharpness,
        "choice_drift": p.choice_drift,
        "core_floor": p.core_floor,
        "core_ceiling": p.core_ceiling,
    }


def plan_kwargs(params: Parameters, regime: Regime) -> dict[str, float]:
    """Keyword arguments of :func:`toolkit.model.mechanisms.system_plan`."""
    return {
        "remediation": regime.remediation,
        "tailoring": regime.strength_tailoring,
        "adaptation": regime.path_adaptation,
        "individualization": regime.practice_individualization,
        "optimum": params.zpd_optimum,
    }


STUDENT_COLUMNS = (
    "year",
    "regime",
    "student",
    "group",
    "prior_score",
    "score",
    "gain",
    "core_start",
    "core_end",
    "total_learning",
    "engagement",
    "fit",
    "on_task",
    "core_time",
    "peer_learning",
    "self_regulation_start",
    "self_regulation_end",
    "portfolio",
    "portfolio_gain",
)


def year_table(
    params: Parameters,
    year: int,
    regime: str,
    groups: np.ndarray,
    prior_score: np.ndarray,
    score: np.ndarray,
    start_skill: np.ndarray,
    skill: np.ndarray,
    mean_engagement: np.ndarray,
    mean_fit: np.ndarray,
    mean_on_task: np.ndarray,
    mean_core_time: np.ndarray,
    peer_learning: np.ndarray,
    self_regulation_start: np.ndarray,
    self_regulation_end: np.ndarray,
    interest_end: np.ndarray,
) -> pd.DataFrame:
    """Student records of one school year, for one classroom or a batch of classrooms.

    Per-student arrays have shape ``(N,)`` or ``(C, N)``, per-domain arrays ``(N, D)`` or
    ``(C, N, D)``. With a leading classroom axis a ``classroom`` column (0..C-1 within the
    batch) comes first.

    Returns
    -------
    pandas.DataFrame
        Columns ``STUDENT_COLUMNS`` then ``skill_<domain>``, ``gain_<domain>`` and
        ``interest_<domain>`` (end of year); see
        :meth:`toolkit.model.ClassroomModel.student_table`. ``portfolio`` is
        :func:`mechanisms.portfolio_score` of the end-of-year skills weighted by the student's
        end-of-year interests, ``portfolio_gain`` the same weights on the year's gains.
    """
    groups = np.asarray(groups)
    batch = groups.ndim == 2
    c, n = groups.shape if batch else (1, groups.shape[0])
    core = np.array(params.core_mask)
    flat = lambda a: np.asarray(a, dtype=float).reshape(c * n)  # noqa: E731
    gains = skill - start_skill
    portfolio = mech.portfolio_score(skill, interest_end, params.choice_sharpness)
    portfolio_gain = mech.portfolio_score(gains, interest_end, params.choice_sharpness)
    cols: dict[str, object] = {}
    if batch:
        cols["classroom"] = np.repeat(np.arange(c), n)
    cols |= {
        "year": np.full(c * n, year),
        "regime": np.full(c * n, regime, dtype=object),
        "student": np.tile(np.arange(n), c),
        "group": groups.reshape(c * n).astype(np.int64),
        "prior_score": flat(prior_score),
        "score": flat(score),
        "gain": flat(score) - flat(prior_score),
        "core_start": flat(start_skill[..., core].mean(axis=-1)),
        "core_end": flat(skill[..., core].mean(axis=-1)),
        "total_learning": flat(gains.sum(axis=-1)),
        "engagement": flat(mean_engagement),
        "fit": flat(mean_fit),
        "on_task": flat(mean_on_task),
        "core_time": flat(mean_core_time),
        "peer_learning": flat(peer_learning),
        "self_regulation_start": flat(self_regulation_start),
        "self_regulation_end": flat(self_regulation_end),
        "portfolio": flat(portfolio),
        "portfolio_gain": flat(portfolio_gain),
    }
    d = params.n_domains
    s = skill.reshape(c * n, d)
    g = gains.reshape(c * n, d)
    interest = np.asarray(interest_end, dtype=float).reshape(c * n, d)
    for k, name in enumerate(params.domains):
        cols[f"skill_{name}"] = s[:, k].astype(float)
    for k, name in enumerate(params.domains):
        cols[f"gain_{name}"] = g[:, k].astype(float)
    for k, name in enumerate(params.domains):
        cols[f"interest_{name}"] = interest[:, k].astype(float)
    return pd.DataFrame(cols)
