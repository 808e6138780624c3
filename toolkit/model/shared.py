"""Glue shared by the Mesa model and the vectorized engine: set-up values and result tables.

Keeping these in one place is part of what makes the two implementations the same model: the
curriculum, the keyword arguments of the day's mechanisms, the starting engagement and the
columns of the student table are defined once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.model import mechanisms as mech
from toolkit.model.params import Parameters
from toolkit.model.regimes import Regime

__all__ = [
    "STUDENT_COLUMNS",
    "choose_kwargs",
    "curriculum_weights",
    "initial_engagement",
    "learn_kwargs",
    "plan_kwargs",
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
        "focus_floor": p.focus_floor,
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
    }


def choose_kwargs(params: Parameters, regime: Regime) -> dict[str, float]:
    """Keyword arguments of :func:`toolkit.model.mechanisms.student_choose`."""
    p, r = params, regime
    return {
        "goal_control": r.learner_goal_control,
        "path_control": r.learner_path_control,
        "optimum": p.zpd_optimum,
        "choice_bias": p.choice_bias,
        "choice_noise": p.choice_noise,
        "choice_sharpness": p.choice_sharpness,
        "choice_drift": p.choice_drift,
    }


def plan_kwargs(params: Parameters, regime: Regime) -> dict[str, float]:
    """Keyword arguments of :func:`toolkit.model.mechanisms.system_plan`."""
    return {
        "remediation": regime.remediation,
        "tailoring": regime.strength_tailoring,
        "core_floor": regime.core_floor,
        "adaptation": regime.path_adaptation,
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
    "core_time",
    "peer_learning",
    "self_regulation_start",
    "self_regulation_end",
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
    mean_core_time: np.ndarray,
    peer_learning: np.ndarray,
    self_regulation_start: np.ndarray,
    self_regulation_end: np.ndarray,
) -> pd.DataFrame:
    """Student records of one school year, for one classroom or a batch of classrooms.

    Per-student arrays have shape ``(N,)`` or ``(C, N)``, per-domain arrays ``(N, D)`` or
    ``(C, N, D)``. With a leading classroom axis a ``classroom`` column (0..C-1 within the
    batch) comes first.

    Returns
    -------
    pandas.DataFrame
        Columns ``STUDENT_COLUMNS`` then ``skill_<domain>`` and ``gain_<domain>``; see
        :meth:`toolkit.model.ClassroomModel.student_table`.
    """
    groups = np.asarray(groups)
    batch = groups.ndim == 2
    c, n = groups.shape if batch else (1, groups.shape[0])
    core = np.array(params.core_mask)
    flat = lambda a: np.asarray(a, dtype=float).reshape(c * n)  # noqa: E731
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
        "total_learning": flat((skill - start_skill).sum(axis=-1)),
        "engagement": flat(mean_engagement),
        "fit": flat(mean_fit),
        "core_time": flat(mean_core_time),
        "peer_learning": flat(peer_learning),
        "self_regulation_start": flat(self_regulation_start),
        "self_regulation_end": flat(self_regulation_end),
    }
    d = params.n_domains
    s = skill.reshape(c * n, d)
    g = (skill - start_skill).reshape(c * n, d)
    for k, name in enumerate(params.domains):
        cols[f"skill_{name}"] = s[:, k].astype(float)
    for k, name in enumerate(params.domains):
        cols[f"gain_{name}"] = g[:, k].astype(float)
    return pd.DataFrame(cols)
