"""The vectorized engine: many classrooms at once, on arrays, with the Mesa model's mechanisms.

:func:`simulate_batch` steps ``C`` classrooms of ``N`` students in ``D`` domains as arrays of
shape ``(C, N, D)``. It calls the very functions the Mesa agents call
(:func:`~toolkit.model.mechanisms.system_plan`, :func:`~toolkit.model.mechanisms.student_choose`,
:func:`~toolkit.model.mechanisms.student_learn`, ...), in the same order as the model's
activation order, and draws its random numbers from the same per-classroom streams
(:mod:`toolkit.model.cohort`). So for the same classroom seed it reproduces the Mesa model's
numbers up to floating-point rounding, and the docking tests (``tests/test_docking*.py``) check
both that and the distributions on independent seeds.

Classrooms are processed in chunks (``chunk_size``) so that memory stays bounded whatever the
number of classrooms; because each classroom's random numbers come from its own seed, the
results do not depend on the chunk size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from toolkit.model import mechanisms as mech
from toolkit.model.cohort import Cohort, draw_cohort, draw_year
from toolkit.model.model import RegimeSpec, resolve_schedule
from toolkit.model.params import Parameters
from toolkit.model.shared import (
    choose_kwargs,
    curriculum_weights,
    initial_engagement,
    learn_kwargs,
    plan_kwargs,
    year_table,
)

__all__ = ["simulate_batch"]


def simulate_batch(
    regime: RegimeSpec | Sequence[RegimeSpec],
    params: Parameters,
    seeds: Sequence[np.random.SeedSequence],
    *,
    n_years: int | None = None,
    cohorts: Sequence[Cohort] | None = None,
    chunk_size: int = 256,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Simulate one classroom per seed under a regime (or a per-year schedule) on arrays.

    Parameters
    ----------
    regime : regime spec or list of specs
        As for :class:`~toolkit.model.ClassroomModel`.
    params : Parameters
    seeds : sequence of SeedSequence
        One per classroom (e.g. :func:`~toolkit.model.classroom_seed`).
    n_years : int, optional
        School years (default: length of the regime list, else 1).
    cohorts : sequence of Cohort, optional
        Starting students per classroom instead of drawing them from the seeds.
    chunk_size : int
        Classrooms processed together. Memory grows linearly with it (about
        ``chunk_size * n_days * N * (3 D + 1) * 8`` bytes for the year's draws); results do not
        depend on it.
    progress : callable, optional
        Called with the number of classrooms finished after each chunk.

    Returns
    -------
    pandas.DataFrame
        The student table of :meth:`~toolkit.model.ClassroomModel.student_table` with a
        leading ``classroom`` column (position in ``seeds``).
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a whole number >= 1, got {chunk_size!r}")
    if cohorts is not None and len(cohorts) != len(seeds):
        raise ValueError(
            f"cohorts: got {len(cohorts)} cohorts for {len(seeds)} seeds; expected one each."
        )
    schedule = resolve_schedule(regime, n_years)
    frames = []
    for start in range(0, len(seeds), chunk_size):
        chunk = list(seeds[start : start + chunk_size])
        chunk_cohorts = None if cohorts is None else list(cohorts[start : start + chunk_size])
        df = _simulate_chunk(schedule, params, chunk, chunk_cohorts)
        df["classroom"] += start
        frames.append(df)
        if progress is not None:
            progress(len(chunk))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def _simulate_chunk(
    schedule: list, params: Parameters, seeds: list, cohorts: list[Cohort] | None
) -> pd.DataFrame:
    p = params
    n, d, t_days = p.n_students, p.n_domains, p.n_days
    c = len(seeds)
    if cohorts is None:
        cohorts = [draw_cohort(p, s) for s in seeds]
    cohort = Cohort.stack(cohorts)
    if cohort.skill.shape[1:] != (n, d):
        raise ValueError(
            f"cohorts: skills have shape {cohort.skill.shape[1:]}, but the parameters say "
            f"n_students = {n} and {d} domains."
        )
    skill = cohort.skill.copy()
    aptitude, interest = cohort.aptitude, cohort.interest
    sr = cohort.self_regulation.copy()
    engagement = np.full((c, n), initial_engagement(p))
    core = np.array(p.core_mask)
    curriculum = curriculum_weights(p)
    rows = np.arange(c)[:, None, None]
    frames = []
    for year, regime in enumerate(schedule):
        draws = [draw_year(p, s, year) for s in seeds]
        stack = lambda name: np.stack([getattr(x, name) for x in draws])  # noqa: E731
        daily = stack("daily")  # (C, T, N, 3D+1)
        diag = stack("diagnostic")
        lk, ck, pk = learn_kwargs(p, regime), choose_kwargs(p, regime), plan_kwargs(p, regime)
        g = min(regime.n_groups, n)
        start_skill = skill.copy()
        sr_start = sr.copy()
        prior = mech.test_score(skill, core, stack("pretest_error"), p.test_error_sd)
        # the system's picture, groups and network (Teacher.start_year, ClassroomModel)
        estimate = skill + p.diagnostic_noise * diag
        interest_est = interest + p.profile_noise * stack("profile")
        profile = (1 - regime.peer_choice) * interest_est + regime.peer_choice * interest
        tiebreak = stack("tiebreak")

        def form(estimate=estimate, profile=profile, tiebreak=tiebreak, regime=regime, g=g):
            core_est = estimate[..., core].mean(axis=-1)
            key = mech.grouping_key(regime.grouping, core_est, profile, tiebreak)
            groups = mech.form_groups(key, g)
            _, sizes = mech.group_mean(estimate, groups, g)
            tau = mech.instruction_time(
                p.teacher_capacity, regime.scaffolding, (sizes > 0).sum(axis=-1)
            )
            eff = mech.direct_instruction_efficacy(
                np.take_along_axis(sizes, groups, axis=-1), p.group_size_penalty
            )
            return groups, np.broadcast_to(tau[:, None], (c, n)), eff

        groups, tau, eff = form()
        peers = mech.peer_network(
            estimate[..., core].mean(axis=-1),
            profile,
            regime.peer_ability_homophily,
            regime.peer_interest_homophily,
            stack("gumbel"),
            p.peer_ties,
        )
        peer_weight = np.ones(peers.shape)
        sums = {k: np.zeros((c, n)) for k in ("engagement", "fit", "core_time", "peer")}
        for day in range(t_days):
            noise = daily[:, day]
            if p.regroup_interval and day > 0 and day % p.regroup_interval == 0:
                groups, tau, eff = form(estimate=estimate)
            standard = np.full(d, p.daily_pace * (year * t_days + day))
            plan = mech.system_plan(
                estimate, interest_est, groups, g, curriculum, core, standard, **pk
            )
            alloc, level = mech.student_choose(
                plan.allocation, plan.practice_level, skill, interest, sr,
                noise[..., :d], noise[..., d : 2 * d], **ck,
            )
            gmeans, _ = mech.group_mean(alloc, groups, g)
            group_alloc = np.take_along_axis(gmeans, groups[..., None], axis=-2)
            out = mech.student_learn(
                skill, start_skill, aptitude, interest, engagement, sr, alloc, group_alloc,
                plan.direct_level, level, tau, eff, skill[rows, peers], alloc[rows, peers],
                peer_weight, noise[..., 3 * d], core, **lk,
            )
            skill, engagement, sr = out.skill, out.engagement, out.self_regulation
            sums["engagement"] += engagement
            sums["fit"] += out.fit
            sums["core_time"] += out.core_time
            sums["peer"] += out.peer.sum(axis=-1)
            estimate = mech.update_estimate(
                estimate, skill, noise[..., 2 * d : 3 * d], diag, p.daily_pace,
                p.monitoring_rate, p.diagnostic_noise, p.judgement_bias,
            )
        score = mech.test_score(skill, core, stack("posttest_error"), p.test_error_sd)
        frames.append(
            year_table(
                p, year, regime.name, groups, prior, score, start_skill, skill,
                sums["engagement"] / t_days, sums["fit"] / t_days, sums["core_time"] / t_days,
                sums["peer"], sr_start, sr,
            )
        )
    return pd.concat(frames, ignore_index=True)
