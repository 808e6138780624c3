r"""Compiled day loop of the vectorized engine (numba), a transcription of the shared mechanisms.

The day of the model is defined once, as the array functions of
:mod:`toolkit.model.mechanisms` that both the Mesa agents and the engine's ``"numpy"`` kernel
call. On arrays of shape ``(classrooms, students, domains)`` with only 4 domains, 4 peer ties and
a few groups, numpy spends most of its time on per-call overhead, reductions over tiny axes,
fancy-index gathers and temporaries rather than arithmetic (see ``benchmarks/README.md``), so
:func:`run_days` writes the same day as scalar loops, compiled by numba.

It is a transcription, not a second model: every expression keeps the operands and the order
of floating-point operations of the numpy function it transcribes (named in the comments), sums
over domains follow numpy's pairwise summation (:func:`_psum`), and ``exp`` is the C library's,
which gave numpy's float64 results on the project's AVX2 machine (two million values compared;
where numpy uses its own AVX-512 ``exp`` the two may differ in the last bit). The
docking tests (``tests/test_docking*.py``) check that it reproduces the Mesa model and the
``"numpy"`` kernel to ``rtol=1e-12`` for every regime preset, a blend, multi-year schedules and
non-default parameters on every machine, and, where numpy's ``exp`` is the C library's
(:func:`toolkit.engine.docking.bitwise_properties`), bit for bit the ``"numpy"`` kernel whose
group means are summed in student order: numpy computes group means with a BLAS product, whose
summation order over a group's members may round differently from the plain loop here.

Three shortcuts give identical numbers and save ``exp`` calls: the peer term
:math:`g^+ e^{-g^+/\gamma}` is 0 whenever the peer is not ahead, so ``exp`` is only evaluated for
peers ahead; when the regime adapts neither the level nor lets the learner set it, the
direct-instruction and practice levels are the same number, so their fit is computed once; and
without remediation or tailoring the system's time shares are the curriculum's for everyone and
every day, so they are computed once.

The transcription is checked mechanically: the fields of :class:`KernelParams` must be exactly
the keyword arguments of the shared day steps (a test compares the two sets, and another that
both compiled kernels read every field), and a docking test changes
every parameter and every regime axis from its default in turn and compares this kernel with
the numpy kernel each time, so a term left out or transcribed wrongly fails a test.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = ["PAR_NAMES", "RECORD_PER_DOMAIN", "RECORD_PER_STUDENT", "KernelParams", "run_days"]

#: What :func:`run_days` records of each student-day when asked to (``rec[day, c, i, :]``), for
#: the mechanism decomposition (:mod:`toolkit.study.decompose`): the start-of-day skills and
#: the fields of :class:`toolkit.model.mechanisms.Channels`. Each field of this tuple takes D
#: values (field ``k`` at ``k * D + d``), ...
RECORD_PER_DOMAIN = (
    "skill",
    "group_allocation",
    "allocation",
    "direct_fit",
    "practice_fit",
    "peer",
)
#: ... and each of these one value, after them (field ``j`` at ``6 * D + j``).
RECORD_PER_STUDENT = (
    "engagement",
    "direct_disruption",
    "independent_disruption",
    "cooperation",
    "on_task",
    "strategy",
    "direct_time",
    "direct_efficacy",
    "practice_teacher",
)


class KernelParams(NamedTuple):
    """The scalar parameters of the compiled kernels, passed whole and read by name.

    Its fields are exactly the keyword arguments of the shared day steps
    (:func:`toolkit.model.shared.plan_kwargs`, :func:`~toolkit.model.shared.choose_kwargs`,
    :func:`~toolkit.model.shared.learn_kwargs`) and of
    :func:`~toolkit.model.mechanisms.update_estimate` (a test compares the two sets), so a
    parameter is added to the kernels by adding one field here and reading it by name
    (``par.<name>``) in both kernels. numba passes the tuple as one struct of floats: reading
    a field costs what reading an array element did.
    """

    # system_plan / system_allocation
    remediation: float
    tailoring: float
    adaptation: float
    individualization: float
    optimum: float
    # student_choose / apply_core_limits / self_assessment / chosen_level
    goal_control: float
    path_control: float
    choice_bias: float
    self_assessment_bias: float
    choice_noise: float
    choice_sharpness: float
    choice_drift: float
    core_floor: float
    core_ceiling: float
    # student_learn
    autonomy: float
    scaffolding: float
    rate: float
    width: float
    practice_efficacy: float
    self_direction_cost: float
    strategy_use: float
    disruption: float
    room_disruption: float
    peer_strength: float
    peer_gap_scale: float
    forgetting: float
    engagement_baseline: float
    engagement_interest_weight: float
    engagement_autonomy_weight: float
    engagement_fit_weight: float
    engagement_rate: float
    engagement_noise_sd: float
    scaffolding_effect: float
    autonomy_practice_effect: float
    interest_rate: float
    interest_threshold: float
    interest_autonomy_weight: float
    interest_saturation: float
    # update_estimate and the grade standard
    daily_pace: float
    monitoring_rate: float
    diagnostic_noise: float
    judgement_bias: float


#: The kernels' parameter names, in the order of :class:`KernelParams`.
PAR_NAMES = KernelParams._fields


@njit(cache=True)
def _psum(a, n):
    """Pairwise sum of ``a[:n]`` (``n <= 128``), rounded as numpy's ``ndarray.sum`` of a row."""
    if n < 8:
        res = -0.0
        for i in range(n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[0], a[1], a[2], a[3]
    r4, r5, r6, r7 = a[4], a[5], a[6], a[7]
    i = 8
    stop = n - (n % 8)
    while i < stop:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[i]
        i += 1
    return res


@njit(cache=True)
def _softmax(x, out, n):
    """Softmax of one row as mechanisms.softmax: ``z = exp(x - max(x)); z / sum(z)``."""
    m = x[0]
    for d in range(1, n):
        if x[d] > m:
            m = x[d]
    for d in range(n):
        out[d] = math.exp(x[d] - m)
    s = _psum(out, n)
    for d in range(n):
        out[d] = out[d] / s


@njit(cache=True)
def _system_allocation(
    est,
    interest_est,
    log_curriculum,
    core,
    n_core,
    standard,
    remediation,
    tailoring,
    logw,
    pi,
    buf,
    within,
    gap,
):
    """System time shares of one student, into ``pi``, as mechanisms.system_allocation."""
    nd = len(log_curriculum)
    for d in range(nd):
        logw[d] = log_curriculum[d]  # log(curriculum) + zeros_like(estimate)
    if tailoring != 0.0:
        for d in range(nd):
            buf[d] = est[d]
        mean = _psum(buf, nd) / nd
        for d in range(nd):
            strength = est[d] - mean
            logw[d] = logw[d] + tailoring * (strength + interest_est[d])
    _softmax(logw, pi, nd)
    if remediation == 0.0 or n_core == 0:
        return
    for d in range(nd):
        gap[d] = standard - est[d]
        within[d] = pi[d] * math.exp(remediation * gap[d]) if core[d] else 0.0
    s = _psum(within, nd)
    for d in range(nd):
        within[d] = within[d] / s
    if n_core == nd:
        for d in range(nd):
            pi[d] = within[d]
        return
    for d in range(nd):
        buf[d] = pi[d] if core[d] else 0.0  # (pi * core).sum(axis=-1)
    k0 = _psum(buf, nd)
    kc = 0
    for d in range(nd):
        if core[d]:
            buf[kc] = gap[d]
            kc += 1
    core_gap = _psum(buf, n_core) / n_core  # gap[..., core].mean(axis=-1)
    x = math.log(k0) - math.log(1.0 - k0) + remediation * core_gap
    k = 1.0 / (1.0 + math.exp(-x))  # logistic
    rest = (1.0 - k) / (1.0 - k0)
    for d in range(nd):
        pi[d] = k * within[d] if core[d] else pi[d] * rest


@njit(cache=True)
def _core_limits(pi, core, floor, ceiling, use_limits, buf):
    """Keep the core share within [floor, ceiling], in place, as mechanisms.apply_core_limits."""
    if not use_limits:
        return
    nd = len(pi)
    for d in range(nd):
        buf[d] = pi[d] if core[d] else 0.0  # (pi * core).sum(axis=-1)
    share = _psum(buf, nd)
    target = share
    if target < floor:
        target = floor
    if target > ceiling:
        target = ceiling
    if share != target:
        scale_core = target / max(share, 1e-12)
        scale_rest = (1 - target) / max(1 - share, 1e-12)
        for d in range(nd):
            pi[d] = pi[d] * (scale_core if core[d] else scale_rest)


@njit(cache=True, nogil=True)  # a run's decomposition records in a thread (GIL free)
def run_days(
    skill,
    engagement,
    self_regulation,
    interest,
    estimate,
    sum_engagement,
    sum_fit,
    sum_on_task,
    sum_core_time,
    sum_peer,
    start_skill,
    aptitude,
    calibration,
    interest_estimate,
    first_error,
    groups,
    n_groups,
    direct_time,
    direct_efficacy,
    cooperation,
    practice_teacher,
    supervision,
    peers,
    noise,
    n_days,
    elapsed0,
    log_curriculum,
    core,
    par,
    record,
    rec,
):
    """Advance every classroom of a chunk by ``n_days`` school days, in place.

    One day is, as in :class:`toolkit.model.ClassroomModel` and the ``"numpy"`` kernel:
    :func:`~toolkit.model.mechanisms.system_plan`,
    :func:`~toolkit.model.mechanisms.student_choose`, the group means of the chosen time shares
    and the group's disengagement (``Teacher.gather``),
    :func:`~toolkit.model.mechanisms.student_learn` (peers' start-of-day skills and
    engagement, synchronous update) and :func:`~toolkit.model.mechanisms.update_estimate`.

    Parameters
    ----------
    skill, estimate, interest : ndarray, shape (C, N, D)
        True skills, the system's estimates and the students' interests; updated in place.
    engagement, self_regulation : ndarray, shape (C, N)
        Updated in place.
    sum_engagement, sum_fit, sum_on_task, sum_core_time, sum_peer : ndarray, shape (C, N)
        The year's running sums; the day's values are added in place.
    start_skill, aptitude, calibration, interest_estimate, first_error : ndarray, shape (C, N, D)
        Start-of-year skills, aptitudes, the students' calibration draws, the system's
        interest profile and the start-of-year diagnostic draws (the persistent part of the
        observation error).
    groups : ndarray of int64, shape (C, N)
        Instructional groups (fixed for these days).
    n_groups : int
    direct_time : ndarray, shape (C,)
        :func:`~toolkit.model.mechanisms.instruction_time` of each classroom.
    direct_efficacy, cooperation, practice_teacher, supervision : ndarray, shape (C, N)
        The efficacy of each student's direct instruction, the cooperation factor of their
        group, the reach of the instructional quality into independent work and the
        supervision of that work (:class:`toolkit.model.shared.Instruction`).
    peers : ndarray of int64, shape (C, N, K)
    noise : ndarray, shape (C, >= n_days, N, 3 D + 1)
        The days' standard normal draws (see :class:`toolkit.model.cohort.YearDraws`).
    n_days : int
    elapsed0 : int
        School days elapsed before the first of these days (sets the grade standard).
    log_curriculum : tuple of float, length D
        ``numpy.log`` of the curriculum's time shares. A tuple, so that numba compiles the
        kernel for the number of domains as a constant (unrolled loops over domains).
    core : ndarray of bool, shape (D,)
    par : KernelParams
        The scalar parameters, read by name.
    record : bool
        Whether to record every student-day's start-of-day skills and learning factors.
    rec : ndarray, shape (n_days, C, N, 6 D + 9)
        Where they go when ``record`` (else an empty array, not read): the fields of
        :data:`RECORD_PER_DOMAIN`, then those of :data:`RECORD_PER_STUDENT`, the very values
        the day's gain is composed of (so that the decomposition's replay of them gives this
        kernel's skills exactly).
    """
    n_class, n, _ = skill.shape
    nd = len(log_curriculum)  # a tuple: the number of domains is a compile-time constant
    n_ties = peers.shape[2]
    remediation = par.remediation
    tailoring = par.tailoring
    adaptation = par.adaptation
    individualization = par.individualization
    optimum = par.optimum
    goal_control = par.goal_control
    path_control = par.path_control
    choice_bias = par.choice_bias
    sa_bias = par.self_assessment_bias
    choice_noise = par.choice_noise
    choice_sharpness = par.choice_sharpness
    choice_drift = par.choice_drift
    core_floor = par.core_floor
    core_ceiling = par.core_ceiling
    autonomy = par.autonomy
    scaffolding = par.scaffolding
    rate = par.rate
    width = par.width
    practice_efficacy = par.practice_efficacy
    sd_cost = par.self_direction_cost
    strategy_use = par.strategy_use
    disruption = par.disruption
    room_disruption = par.room_disruption
    peer_strength = par.peer_strength
    peer_gap_scale = par.peer_gap_scale
    forgetting = par.forgetting
    e_baseline = par.engagement_baseline
    e_w_interest = par.engagement_interest_weight
    e_w_autonomy = par.engagement_autonomy_weight
    e_w_fit = par.engagement_fit_weight
    e_rate = par.engagement_rate
    e_noise_sd = par.engagement_noise_sd
    scaffolding_effect = par.scaffolding_effect
    practice_effect = par.autonomy_practice_effect
    i_rate = par.interest_rate
    i_threshold = par.interest_threshold
    i_autonomy_weight = par.interest_autonomy_weight
    i_saturation = par.interest_saturation
    daily_pace = par.daily_pace
    monitoring = par.monitoring_rate
    diag_noise = par.diagnostic_noise
    judgement_bias = par.judgement_bias

    # Python-float constants of the numpy expressions, computed as Python computes them
    one_minus_adapt = 1 - adaptation  # system_plan: (1 - adaptation)
    one_minus_ind = 1 - individualization  # system_plan: (1 - individualization)
    one_minus_goal = 1 - goal_control  # student_choose: (1 - goal_control)
    one_minus_path = 1 - path_control  # student_choose: (1 - path_control)
    two_w2 = 2.0 * width * width  # zpd_fit
    # on_task: (1 - autonomy) for the system-directed part, and autonomy * self_direction_cost
    one_minus_aut = 1.0 - autonomy
    cost_k = autonomy * sd_cost
    w_aut = e_w_autonomy * autonomy  # engagement_target: w_autonomy * autonomy
    sr_k = (scaffolding_effect * scaffolding + practice_effect) * autonomy  # update_self_reg.
    i_scale = i_rate * (1.0 + i_autonomy_weight * autonomy)  # update_interest: scale
    total_w = float(n_ties)  # peer_gain: w.sum() of unit weights
    if total_w < 1e-12:
        total_w = 1e-12
    n_core = 0
    for d in range(nd):
        if core[d]:
            n_core += 1
    use_limits = 0 < n_core < nd and not (core_floor <= 0.0 and core_ceiling >= 1.0)
    same_levels = adaptation == 0.0 and path_control == 0.0
    nf = float(n)
    ndf = nd  # update_interest: d * t, with d the (integer) number of domains

    # scratch
    sizes = np.zeros(n_groups)
    gsum = np.zeros((n_groups, nd))
    gmean = np.zeros((n_groups, nd))
    goff = np.zeros(n_groups)
    class_mean = np.zeros(nd)
    alloc = np.empty((n, nd))
    direct = np.empty((n, nd))
    level = np.empty((n, nd))
    new_skill = np.empty((n, nd))
    group_off = np.empty(n)
    peer_off = np.empty(n)
    logw = np.empty(nd)
    pi = np.empty(nd)
    learn = np.empty(nd)
    fit_dir = np.empty(nd)
    fit_prac = np.empty(nd)
    t_dir = np.empty(nd)
    t_prac = np.empty(nd)
    wfit = np.empty(nd)
    buf = np.empty(nd)
    within = np.empty(nd)
    gap_d = np.empty(nd)
    buf_core = np.empty(max(n_core, 1))
    peer = np.empty(nd)
    gaps = np.empty(n_ties * nd)
    overlaps = np.empty(n_ties * nd)
    gap_domain = np.empty(n_ties * nd, dtype=np.int64)
    help_sum = np.empty(nd)

    # without remediation or tailoring the system's time shares are the curriculum's, the same
    # numbers for every student and day: compute them once
    fixed_plan = remediation == 0.0 and tailoring == 0.0
    pi_fixed = np.empty(nd)
    if fixed_plan:
        _system_allocation(
            class_mean,  # estimates and interests are not used without remediation or tailoring
            class_mean,
            log_curriculum,
            core,
            n_core,
            0.0,
            remediation,
            tailoring,
            logw,
            pi_fixed,
            buf,
            within,
            gap_d,
        )

    for c in range(n_class):
        g_of = groups[c]
        for g in range(n_groups):
            sizes[g] = 0.0
        for i in range(n):
            sizes[g_of[i]] += 1.0
        for g in range(n_groups):
            if sizes[g] < 1.0:
                sizes[g] = 1.0  # group_mean: sums / maximum(sizes, 1.0)
        tau = direct_time[c]
        one_minus_tau = 1.0 - tau
        sk = skill[c]
        est = estimate[c]
        intr = interest[c]
        for day in range(n_days):
            nz = noise[c, day]
            standard = daily_pace * (elapsed0 + day)
            # ---- system_plan --------------------------------------------------------------
            for d in range(nd):
                class_mean[d] = 0.0
            for i in range(n):
                for d in range(nd):
                    class_mean[d] += est[i, d]
            for d in range(nd):
                class_mean[d] = class_mean[d] / nf
            if adaptation != 0.0:
                for g in range(n_groups):
                    for d in range(nd):
                        gsum[g, d] = 0.0
                for i in range(n):
                    g = g_of[i]
                    for d in range(nd):
                        gsum[g, d] += est[i, d]
                for g in range(n_groups):
                    for d in range(nd):
                        gmean[g, d] = gsum[g, d] / sizes[g]
            for i in range(n):
                # system_allocation
                if fixed_plan:
                    for d in range(nd):
                        pi[d] = pi_fixed[d]
                else:
                    _system_allocation(
                        est[i],
                        interest_estimate[c, i],
                        log_curriculum,
                        core,
                        n_core,
                        standard,
                        remediation,
                        tailoring,
                        logw,
                        pi,
                        buf,
                        within,
                        gap_d,
                    )
                # levels (system_plan)
                for d in range(nd):
                    if adaptation != 0.0:
                        base = optimum + one_minus_adapt * class_mean[d]
                        own_group = gmean[g_of[i], d]
                        direct[i, d] = base + adaptation * own_group
                        level[i, d] = base + adaptation * (
                            one_minus_ind * own_group + individualization * est[i, d]
                        )
                    else:
                        direct[i, d] = optimum + class_mean[d]
                        level[i, d] = direct[i, d]
                # ---- student_choose -------------------------------------------------------
                r = self_regulation[c, i]
                if goal_control != 0.0:
                    k = choice_drift * (1.0 - r)  # learner_allocation
                    for d in range(nd):
                        buf[d] = choice_sharpness * (intr[i, d] + k * nz[i, d])
                    _softmax(buf, learn, nd)
                    for d in range(nd):
                        alloc[i, d] = one_minus_goal * pi[d] + goal_control * learn[d]
                else:
                    for d in range(nd):
                        alloc[i, d] = pi[d]
                _core_limits(alloc[i], core, core_floor, core_ceiling, use_limits, buf)
                if path_control != 0.0:
                    for d in range(nd):
                        # self_assessment, then chosen_level
                        err = sa_bias * calibration[c, i, d] + choice_noise * nz[i, nd + d]
                        sense = sk[i, d] + (1.0 - r) * err
                        own = sense + optimum + (1.0 - r) * choice_bias
                        level[i, d] = one_minus_path * level[i, d] + path_control * own
            # ---- teacher.gather: group time shares and disengagement (start of day) ----------
            for g in range(n_groups):
                goff[g] = 0.0
                for d in range(nd):
                    gsum[g, d] = 0.0
            for i in range(n):
                g = g_of[i]
                goff[g] += 1.0 - engagement[c, i]
                for d in range(nd):
                    gsum[g, d] += alloc[i, d]
            for g in range(n_groups):
                goff[g] = (goff[g] / sizes[g]) * sizes[g]  # group_mean(...) * sizes
                for d in range(nd):
                    gmean[g, d] = gsum[g, d] / sizes[g]
            class_off = 0.0  # class_disengagement: a cumulative sum in student order
            for i in range(n):
                class_off += 1.0 - engagement[c, i]
            for i in range(n):
                own_off = 1.0 - engagement[c, i]
                group_off[i] = goff[g_of[i]] - own_off
                peer_off[i] = class_off - own_off
            # ---- student_learn --------------------------------------------------------------
            for i in range(n):
                e = engagement[c, i]
                r = self_regulation[c, i]
                gi = g_of[i]
                eff = direct_efficacy[c, i]
                # on_task (the classroom's supervision), strategy_factor
                unreg = autonomy * (1.0 - r) + one_minus_aut * (1.0 - supervision[c, i])
                phi = (1.0 - (1.0 - e) * unreg) * (1.0 - cost_k * (1.0 - r))
                strat = 1.0 + strategy_use * r
                # disruption_factor of room_disengagement (direct) and of the class (independent)
                room = group_off[i] + room_disruption * (peer_off[i] - group_off[i])
                d_dir = math.exp(-disruption * room)
                d_ind = math.exp(-disruption * peer_off[i])
                # gain_terms: each channel's factor, formed before it is multiplied in
                teacher_dir = tau * eff  # teacher time, direct term
                peers_prac = d_ind * cooperation[c, i]  # peers, independent work
                sr_prac = phi * strat  # self-regulation, independent work
                teacher_prac = one_minus_tau * practice_teacher[c, i]  # teacher time
                for d in range(nd):
                    cd = (direct[i, d] - sk[i, d]) - optimum
                    fit_dir[d] = math.exp(-(cd * cd) / two_w2)
                    if same_levels:
                        fit_prac[d] = fit_dir[d]
                    else:
                        cp = (level[i, d] - sk[i, d]) - optimum
                        fit_prac[d] = math.exp(-(cp * cp) / two_w2)
                    t_dir[d] = tau * gmean[gi, d]
                    t_prac[d] = one_minus_tau * alloc[i, d]
                # peer_gain (engagement 1): only peers ahead (gap > 0) contribute; the others add
                # exactly 0, so they are skipped. Per domain the terms are added in tie order.
                n_pos = 0
                for kk in range(n_ties):
                    j = peers[c, i, kk]
                    for d in range(nd):
                        gap = sk[j, d] - sk[i, d]
                        own_a = alloc[i, d]
                        pa = alloc[j, d]
                        gaps[n_pos] = gap
                        overlaps[n_pos] = own_a if (own_a <= pa or own_a != own_a) else pa
                        gap_domain[n_pos] = d
                        n_pos += gap > 0.0
                for d in range(nd):
                    help_sum[d] = 0.0
                for q in range(n_pos):
                    gap = gaps[q]
                    help_sum[gap_domain[q]] += overlaps[q] * (gap * math.exp(-gap / peer_gap_scale))
                for d in range(nd):
                    mean_help = help_sum[d] / total_w
                    peer[d] = peer_strength * aptitude[c, i, d] * 1.0 * mean_help
                if record:  # the day's factors, as Channels holds them (RECORD_PER_*)
                    rr = rec[day, c, i]
                    for d in range(nd):
                        rr[d] = sk[i, d]
                        rr[nd + d] = gmean[gi, d]
                        rr[2 * nd + d] = alloc[i, d]
                        rr[3 * nd + d] = fit_dir[d]
                        rr[4 * nd + d] = fit_prac[d]
                        rr[5 * nd + d] = peer[d]
                    o = 6 * nd
                    rr[o] = e
                    rr[o + 1] = d_dir
                    rr[o + 2] = d_ind
                    rr[o + 3] = cooperation[c, i]
                    rr[o + 4] = phi
                    rr[o + 5] = strat
                    rr[o + 6] = tau
                    rr[o + 7] = eff
                    rr[o + 8] = practice_teacher[c, i]
                # compose_gain, forgetting
                for d in range(nd):
                    apt = aptitude[c, i, d]
                    # gain_terms: base, then one factor per channel in the order of CHANNELS
                    direct_g = (
                        rate * apt * gmean[gi, d] * fit_dir[d] * e * d_dir * strat * teacher_dir
                    )
                    practice_g = (
                        rate
                        * apt
                        * practice_efficacy
                        * alloc[i, d]
                        * fit_prac[d]
                        * e
                        * peers_prac
                        * sr_prac
                        * teacher_prac
                    )
                    ns = sk[i, d] + (direct_g + practice_g + 1.0 * e * peer[d])
                    t_total = t_dir[d] + t_prac[d]
                    if forgetting != 0.0:
                        ns = ns - forgetting * (1.0 - t_total) * (sk[i, d] - start_skill[c, i, d])
                    new_skill[i, d] = ns
                    wfit[d] = t_dir[d] * fit_dir[d] + t_prac[d] * fit_prac[d]
                fit = _psum(wfit, nd)
                for d in range(nd):
                    buf[d] = (t_dir[d] + t_prac[d]) * intr[i, d]
                interest_of_work = _psum(buf, nd)
                x = e_baseline + e_w_interest * interest_of_work + w_aut + e_w_fit * (fit - 1.0)
                target = 1.0 / (1.0 + math.exp(-x))
                ne = e + e_rate * (target - e) + e_noise_sd * nz[i, 3 * nd]
                if ne < 0.0:
                    ne = 0.0
                elif ne > 1.0:
                    ne = 1.0
                # update_interest (start-of-day interest and engagement)
                if i_rate != 0.0:
                    for d in range(nd):
                        t_total = t_dir[d] + t_prac[d]
                        experience = e * (wfit[d] / max(t_total, 1e-12))
                        iv = intr[i, d]
                        q = iv / i_saturation
                        intr[i, d] = iv + i_scale * (ndf * t_total) * (experience - i_threshold) / (
                            1.0 + q**2
                        )
                engagement[c, i] = ne
                self_regulation[c, i] = r + sr_k * (1.0 - r)
                kc = 0
                for d in range(nd):
                    if core[d]:
                        buf_core[kc] = t_dir[d] + t_prac[d]
                        kc += 1
                for d in range(nd):
                    buf[d] = e * peer[d]
                sum_engagement[c, i] += ne
                sum_fit[c, i] += fit
                sum_on_task[c, i] += phi
                sum_core_time[c, i] += _psum(buf_core, n_core)
                sum_peer[c, i] += _psum(buf, nd)
            # ---- commit (synchronous update) and update_estimate ------------------------------
            for i in range(n):
                for d in range(nd):
                    sk[i, d] = new_skill[i, d]
                    prior = est[i, d] + daily_pace
                    error = diag_noise * (judgement_bias * first_error[c, i, d] + nz[i, 2 * nd + d])
                    est[i, d] = prior + monitoring * (sk[i, d] + error - prior)
