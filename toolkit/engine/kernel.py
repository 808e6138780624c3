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
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["PAR_NAMES", "run_days"]

#: Order of the scalar parameters packed into the ``par`` array of :func:`run_days`.
PAR_NAMES = (
    # system_plan / system_allocation
    "remediation",
    "tailoring",
    "core_floor",
    "adaptation",
    "optimum",
    # student_choose
    "goal_control",
    "path_control",
    "choice_bias",
    "choice_noise",
    "choice_sharpness",
    "choice_drift",
    # student_learn
    "autonomy",
    "scaffolding",
    "rate",
    "width",
    "practice_efficacy",
    "focus_floor",
    "peer_strength",
    "peer_gap_scale",
    "forgetting",
    "engagement_baseline",
    "engagement_interest_weight",
    "engagement_autonomy_weight",
    "engagement_fit_weight",
    "engagement_rate",
    "engagement_noise_sd",
    "scaffolding_effect",
    "autonomy_practice_effect",
    # update_estimate and the grade standard
    "daily_pace",
    "monitoring_rate",
    "diagnostic_noise",
    "judgement_bias",
)
_P = {name: i for i, name in enumerate(PAR_NAMES)}


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
    standard,
    remediation,
    tailoring,
    core_floor,
    one_minus_floor,
    use_floor,
    logw,
    pi,
    buf,
):
    """System time shares of one student, into ``pi``, as mechanisms.system_allocation."""
    nd = len(log_curriculum)
    for d in range(nd):
        logw[d] = log_curriculum[d]  # log(curriculum) + zeros_like(estimate)
    if remediation != 0.0:
        for d in range(nd):
            if core[d]:  # (remediation * core) * maximum(standard - estimate, 0): 0 off core
                x = standard - est[d]
                if x < 0.0:
                    x = 0.0
                logw[d] = logw[d] + remediation * x
    if tailoring != 0.0:
        for d in range(nd):
            buf[d] = est[d]
        mean = _psum(buf, nd) / nd
        for d in range(nd):
            strength = est[d] - mean
            logw[d] = logw[d] + tailoring * (strength + interest_est[d])
    _softmax(logw, pi, nd)
    if use_floor:
        for d in range(nd):
            buf[d] = pi[d] if core[d] else 0.0  # (pi * core).sum(axis=-1)
        share = _psum(buf, nd)
        if share < core_floor:
            scale_core = core_floor / max(share, 1e-12)
            scale_rest = one_minus_floor / max(1 - share, 1e-12)
            for d in range(nd):
                pi[d] = pi[d] * (scale_core if core[d] else scale_rest)


@njit(cache=True)
def run_days(
    skill,
    engagement,
    self_regulation,
    estimate,
    sum_engagement,
    sum_fit,
    sum_core_time,
    sum_peer,
    start_skill,
    aptitude,
    interest,
    interest_estimate,
    first_error,
    groups,
    n_groups,
    direct_time,
    direct_efficacy,
    peers,
    noise,
    n_days,
    elapsed0,
    log_curriculum,
    core,
    par,
):
    """Advance every classroom of a chunk by ``n_days`` school days, in place.

    One day is, as in :class:`toolkit.model.ClassroomModel` and the ``"numpy"`` kernel:
    :func:`~toolkit.model.mechanisms.system_plan`,
    :func:`~toolkit.model.mechanisms.student_choose`, the group means of the chosen time shares,
    :func:`~toolkit.model.mechanisms.student_learn` (peers' start-of-day skills, synchronous
    update) and :func:`~toolkit.model.mechanisms.update_estimate`.

    Parameters
    ----------
    skill, estimate : ndarray, shape (C, N, D)
        True skills and the system's estimates; updated in place.
    engagement, self_regulation : ndarray, shape (C, N)
        Updated in place.
    sum_engagement, sum_fit, sum_core_time, sum_peer : ndarray, shape (C, N)
        The year's running sums; the day's values are added in place.
    start_skill, aptitude, interest, interest_estimate, first_error : ndarray, shape (C, N, D)
        Start-of-year skills, aptitudes, interests, the system's interest profile and the
        start-of-year diagnostic draws (the persistent part of the observation error).
    groups : ndarray of int64, shape (C, N)
        Instructional groups (fixed for these days).
    n_groups : int
    direct_time : ndarray, shape (C,)
        :func:`~toolkit.model.mechanisms.instruction_time` of each classroom.
    direct_efficacy : ndarray, shape (C, N)
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
    par : ndarray, shape (len(PAR_NAMES),)
        Scalar parameters in the order of :data:`PAR_NAMES`.
    """
    n_class, n, _ = skill.shape
    nd = len(log_curriculum)  # a tuple: the number of domains is a compile-time constant
    n_ties = peers.shape[2]
    remediation = par[0]
    tailoring = par[1]
    core_floor = par[2]
    adaptation = par[3]
    optimum = par[4]
    goal_control = par[5]
    path_control = par[6]
    choice_bias = par[7]
    choice_noise = par[8]
    choice_sharpness = par[9]
    choice_drift = par[10]
    autonomy = par[11]
    scaffolding = par[12]
    rate = par[13]
    width = par[14]
    practice_efficacy = par[15]
    focus_floor = par[16]
    peer_strength = par[17]
    peer_gap_scale = par[18]
    forgetting = par[19]
    e_baseline = par[20]
    e_w_interest = par[21]
    e_w_autonomy = par[22]
    e_w_fit = par[23]
    e_rate = par[24]
    e_noise_sd = par[25]
    scaffolding_effect = par[26]
    practice_effect = par[27]
    daily_pace = par[28]
    monitoring = par[29]
    diag_noise = par[30]
    judgement_bias = par[31]

    # Python-float constants of the numpy expressions, computed as Python computes them
    one_minus_floor = 1 - core_floor  # system_allocation: (1 - core_floor)
    one_minus_adapt = 1 - adaptation  # system_plan: (1 - adaptation)
    one_minus_goal = 1 - goal_control  # student_choose: (1 - goal_control)
    one_minus_path = 1 - path_control  # student_choose: (1 - path_control)
    two_w2 = 2.0 * width * width  # zpd_fit
    focus_k = autonomy * (1.0 - focus_floor)  # focus: autonomy * (1.0 - floor)
    w_aut = e_w_autonomy * autonomy  # engagement_target: w_autonomy * autonomy
    sr_k = (scaffolding_effect * scaffolding + practice_effect) * autonomy  # update_self_reg.
    total_w = float(n_ties)  # peer_gain: w.sum() of unit weights
    if total_w < 1e-12:
        total_w = 1e-12
    any_core = False
    any_rest = False
    n_core = 0
    for d in range(nd):
        if core[d]:
            any_core = True
            n_core += 1
        else:
            any_rest = True
    use_floor = any_core and any_rest and core_floor > 0
    same_levels = adaptation == 0.0 and path_control == 0.0
    nf = float(n)

    # scratch
    sizes = np.zeros(n_groups)
    gsum = np.zeros((n_groups, nd))
    gmean = np.zeros((n_groups, nd))
    class_mean = np.zeros(nd)
    alloc = np.empty((n, nd))
    direct = np.empty((n, nd))
    level = np.empty((n, nd))
    new_skill = np.empty((n, nd))
    logw = np.empty(nd)
    pi = np.empty(nd)
    learn = np.empty(nd)
    fit_dir = np.empty(nd)
    fit_prac = np.empty(nd)
    t_dir = np.empty(nd)
    t_prac = np.empty(nd)
    buf = np.empty(nd)
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
            0.0,
            remediation,
            tailoring,
            core_floor,
            one_minus_floor,
            use_floor,
            logw,
            pi_fixed,
            buf,
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
                        standard,
                        remediation,
                        tailoring,
                        core_floor,
                        one_minus_floor,
                        use_floor,
                        logw,
                        pi,
                        buf,
                    )
                # levels (system_plan)
                for d in range(nd):
                    if adaptation != 0.0:
                        base = optimum + one_minus_adapt * class_mean[d]
                        direct[i, d] = base + adaptation * gmean[g_of[i], d]
                        level[i, d] = base + adaptation * est[i, d]
                    else:
                        direct[i, d] = optimum + class_mean[d]
                        level[i, d] = direct[i, d]
                # ---- student_choose -------------------------------------------------------
                r = self_regulation[c, i]
                if goal_control != 0.0:
                    k = choice_drift * (1.0 - r)  # learner_allocation
                    for d in range(nd):
                        buf[d] = choice_sharpness * (interest[c, i, d] + k * nz[i, d])
                    _softmax(buf, learn, nd)
                    for d in range(nd):
                        alloc[i, d] = one_minus_goal * pi[d] + goal_control * learn[d]
                else:
                    for d in range(nd):
                        alloc[i, d] = pi[d]
                if path_control != 0.0:
                    for d in range(nd):  # chosen_level
                        own = (
                            sk[i, d]
                            + optimum
                            + (1.0 - r) * (choice_bias + choice_noise * nz[i, nd + d])
                        )
                        level[i, d] = one_minus_path * level[i, d] + path_control * own
            # ---- group means of the chosen time shares (teacher.gather) -----------------
            for g in range(n_groups):
                for d in range(nd):
                    gsum[g, d] = 0.0
            for i in range(n):
                g = g_of[i]
                for d in range(nd):
                    gsum[g, d] += alloc[i, d]
            for g in range(n_groups):
                for d in range(nd):
                    gmean[g, d] = gsum[g, d] / sizes[g]
            # ---- student_learn --------------------------------------------------------------
            for i in range(n):
                e = engagement[c, i]
                r = self_regulation[c, i]
                gi = g_of[i]
                eff = direct_efficacy[c, i]
                phi = 1.0 - focus_k * (1.0 - r)
                eff_prac = practice_efficacy * phi
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
                # peer_gain: only peers ahead (gap > 0) contribute; the others add exactly 0,
                # so they are skipped. Per domain the terms are still added in tie order.
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
                    peer[d] = peer_strength * aptitude[c, i, d] * e * one_minus_tau * mean_help
                fit = 0.0
                for d in range(nd):
                    apt = aptitude[c, i, d]
                    gain = rate * apt * e * t_dir[d] * eff * fit_dir[d]
                    gain = gain + rate * apt * e * t_prac[d] * eff_prac * fit_prac[d]
                    t_total = t_dir[d] + t_prac[d]
                    ns = sk[i, d] + gain + peer[d]
                    if forgetting != 0.0:
                        ns = ns - forgetting * (1.0 - t_total) * (sk[i, d] - start_skill[c, i, d])
                    new_skill[i, d] = ns
                    buf[d] = t_dir[d] * fit_dir[d] + t_prac[d] * fit_prac[d]
                fit = _psum(buf, nd)
                for d in range(nd):
                    buf[d] = (t_dir[d] + t_prac[d]) * interest[c, i, d]
                interest_of_work = _psum(buf, nd)
                x = e_baseline + e_w_interest * interest_of_work + w_aut + e_w_fit * (fit - 1.0)
                target = 1.0 / (1.0 + math.exp(-x))
                ne = e + e_rate * (target - e) + e_noise_sd * nz[i, 3 * nd]
                if ne < 0.0:
                    ne = 0.0
                elif ne > 1.0:
                    ne = 1.0
                engagement[c, i] = ne
                self_regulation[c, i] = r + sr_k * (1.0 - r)
                kc = 0
                for d in range(nd):
                    if core[d]:
                        buf_core[kc] = t_dir[d] + t_prac[d]
                        kc += 1
                sum_engagement[c, i] += ne
                sum_fit[c, i] += fit
                sum_core_time[c, i] += _psum(buf_core, n_core)
                sum_peer[c, i] += _psum(peer, nd)
            # ---- commit (synchronous update) and update_estimate ------------------------------
            for i in range(n):
                for d in range(nd):
                    sk[i, d] = new_skill[i, d]
                    prior = est[i, d] + daily_pace
                    error = diag_noise * (judgement_bias * first_error[c, i, d] + nz[i, 2 * nd + d])
                    est[i, d] = prior + monitoring * (sk[i, d] + error - prior)
