r"""The fast kernel: the day of the model with the students of several classrooms on SIMD lanes.

:func:`run_days_fast` is the second compiled transcription of the shared mechanisms
(:mod:`toolkit.model.mechanisms`), next to the exact one (:func:`toolkit.engine.kernel.run_days`).
It computes the same expressions, with the same operands in the same order, but lays the state
out the other way round: every quantity is an array over *students* (the students of
:data:`BLOCK_CLASSROOMS` classrooms side by side), with the domains as a compile-time constant, so
that each step is one loop over students that LLVM turns into SIMD code. Three things differ
from the exact kernel, and they are what makes it fast:

1. ``exp`` and ``log`` are :func:`exp` and :func:`log` below, written with nothing but IEEE
   additions, multiplications, divisions and bit operations so that they vectorize (the C
   library's cannot), accurate to about 2 units in the last place (relative
   :math:`4 \cdot 10^{-16}`);
2. the day-by-day standard normals are drawn inside the kernel from a counter-based generator,
   Philox4x32-10 (Salmon et al. 2011, the generator of Random123, cuRAND and JAX), keyed by the
   classroom's seed for that school year and counted by (day, student, kind of draw), and
   turned into normals by the Box-Muller transform (:func:`normal_pair`); every draw is thus a
   pure function of the classroom's :class:`~numpy.random.SeedSequence`, the day, the student
   and the kind, whatever the chunk, the block or the arms run together, and the kinds a regime
   does not use are not computed (without changing the others);
3. branches become selects: the peer term :math:`g^+ e^{-g^+/\gamma}` is evaluated for every
   tie (it is exactly 0 for peers not ahead, as in the exact kernel, which skips them).

No fast-math flag is used (no reassociation, no contraction into fused multiply-adds, no
approximate reciprocals), so every element is computed by the same IEEE-754 operations in a
SIMD lane as in a scalar remainder loop, on every x86-64 or ARM machine: the fast kernel gives
the same numbers for the same seed on every machine, not only on the same machine. What it does
not give is the exact kernel's numbers: its random numbers are other draws from the same
distribution, so it docks with the Mesa model in distribution
(``tests/test_docking_distribution.py``); fed the exact kernel's draws instead (``noise``), it
reproduces the exact kernel to a relative :math:`10^{-10}` (``tests/test_docking.py``), which
checks the transcription itself, for every regime and every parameter moved from its default.

References
----------
.. [1] Salmon, J. K., Moraes, M. A., Dror, R. O., & Shaw, D. E. (2011). Parallel random numbers:
   as easy as 1, 2, 3. *Proceedings of the International Conference for High Performance
   Computing, Networking, Storage and Analysis (SC11)*. https://doi.org/10.1145/2063384.2063405
.. [2] Box, G. E. P., & Muller, M. E. (1958). A note on the generation of random normal
   deviates. *The Annals of Mathematical Statistics*, 29(2), 610-611.
   https://doi.org/10.1214/aoms/1177706645
.. [3] Cody, W. J., & Waite, W. (1980). *Software Manual for the Elementary Functions*.
   Prentice-Hall (argument reduction of ``exp`` and ``log``).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from toolkit.engine.kernel import (
    _ADAPTATION,
    _AUTONOMY,
    _CHOICE_BIAS,
    _CHOICE_DRIFT,
    _CHOICE_NOISE,
    _CHOICE_SHARPNESS,
    _CORE_CEILING,
    _CORE_FLOOR,
    _DAILY_PACE,
    _DIAG_NOISE,
    _DISRUPTION,
    _E_BASELINE,
    _E_NOISE_SD,
    _E_RATE,
    _E_W_AUTONOMY,
    _E_W_FIT,
    _E_W_INTEREST,
    _FORGETTING,
    _GOAL_CONTROL,
    _I_AUTONOMY_WEIGHT,
    _I_RATE,
    _I_SATURATION,
    _I_THRESHOLD,
    _INDIVIDUALIZATION,
    _JUDGEMENT_BIAS,
    _MONITORING,
    _OPTIMUM,
    _PATH_CONTROL,
    _PEER_GAP_SCALE,
    _PEER_STRENGTH,
    _PRACTICE_EFFECT,
    _PRACTICE_EFFICACY,
    _RATE,
    _REMEDIATION,
    _SCAFFOLDING,
    _SCAFFOLDING_EFFECT,
    _SELF_ASSESSMENT_BIAS,
    _SELF_DIRECTION_COST,
    _SUPERVISION,
    _TAILORING,
    _WIDTH,
    PAR_NAMES,
)

__all__ = [
    "BLOCK_CLASSROOMS",
    "KINDS",
    "PAR_NAMES",
    "exp",
    "log",
    "normal_pair",
    "philox4x32",
    "run_days_fast",
]

#: Classrooms whose students share the SIMD loops (speed only: results do not depend on it).
BLOCK_CLASSROOMS = 16

#: Kinds of daily draws, the third word of the Philox counter, and their columns in the
#: ``(3 D + 1)`` layout of :class:`toolkit.model.cohort.YearDraws`: domain-choice noise
#: ``[0, D)``, level-choice noise ``[D, 2 D)``, observation noise ``[2 D, 3 D)``, engagement
#: noise ``3 D``.
KINDS = ("domain_choice", "level_choice", "observation", "engagement")


# ---------------------------------------------------------------------------------------------
# bit casts (LLVM bitcast: no instruction, so they vectorize)
# ---------------------------------------------------------------------------------------------
@intrinsic
def _as_double(typingctx, bits):
    """Reinterpret the bits of an int64 as a float64."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@intrinsic
def _as_int(typingctx, x):
    """Reinterpret the bits of a float64 as an int64."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


# ---------------------------------------------------------------------------------------------
# exp and log from IEEE arithmetic only
# ---------------------------------------------------------------------------------------------
_LOG2E = 1.4426950408889634  # 1 / ln 2
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k * _LN2_HI is exact for |k| < 2^20
_LN2_LO = 1.90821492927058770002e-10
_SHIFTER = 6755399441055744.0  # 1.5 * 2^52: (x + _SHIFTER) - _SHIFTER rounds x to an integer
_SQRT2 = 1.4142135623730951
_TWO54 = 18014398509481984.0
_TINY = 2.2250738585072014e-308  # smallest normal double
_MANT = 0x000FFFFFFFFFFFFF
_ONE_BITS = 0x3FF0000000000000


@njit(cache=True, inline="always")
def exp(x):
    r"""``exp(x)`` for a float64, vectorizable; within 2 ulp of the C library's.

    Cody-Waite reduction :math:`x = k \ln 2 + r`, :math:`|r| \le \ln 2 / 2`, the Taylor
    polynomial of :math:`e^r` to degree 13 (truncation error below :math:`10^{-17}`) in
    Horner's form, and :math:`2^k` built from its exponent bits in two factors (so that
    results between :math:`2^{-1074}` and :math:`2^{-1022}` round once into subnormals).
    Overflow gives ``inf``, underflow ``0``, NaN stays NaN.
    """
    xc = x if x > -745.5 else -745.5  # NaN takes this branch too; restored at the end
    xc = xc if xc < 709.9 else 709.9
    kf = (xc * _LOG2E + _SHIFTER) - _SHIFTER  # nearest integer to x / ln 2
    r = (xc - kf * _LN2_HI) - kf * _LN2_LO
    p = 1.0 / 6227020800.0
    p = 1.0 / 479001600.0 + r * p
    p = 1.0 / 39916800.0 + r * p
    p = 1.0 / 3628800.0 + r * p
    p = 1.0 / 362880.0 + r * p
    p = 1.0 / 40320.0 + r * p
    p = 1.0 / 5040.0 + r * p
    p = 1.0 / 720.0 + r * p
    p = 1.0 / 120.0 + r * p
    p = 1.0 / 24.0 + r * p
    p = 1.0 / 6.0 + r * p
    p = 0.5 + r * p
    p = 1.0 + r * p
    p = 1.0 + r * p
    k = np.int64(kf)
    k1 = k >> 1
    k2 = k - k1
    res = p * _as_double((k1 + 1023) << 52) * _as_double((k2 + 1023) << 52)
    return res if x == x else x


@njit(cache=True, inline="always")
def log(x):
    r"""Natural logarithm of a float64, vectorizable; within 2 ulp of the C library's.

    :math:`x = 2^k m` with :math:`m \in [\sqrt{1/2}, \sqrt 2)` from the exponent bits, then
    :math:`\ln m = 2\,\mathrm{atanh}\,f = 2 f \sum_{j \ge 0} f^{2j} / (2j + 1)`,
    :math:`f = (m - 1)/(m + 1)`, :math:`|f| < 0.172`, to :math:`j = 9` (truncation error below
    :math:`10^{-17}`), and :math:`k \ln 2` in two parts. ``log(0) = -inf``, ``log(inf) = inf``,
    NaN for negative numbers and NaN.
    """
    sub = x < _TINY
    xs = x * _TWO54 if sub else x
    bits = _as_int(xs)
    k = ((bits >> 52) & 0x7FF) - 1023
    if sub:
        k = k - 54
    m = _as_double((bits & _MANT) | _ONE_BITS)  # in [1, 2)
    big = m > _SQRT2
    m = m * 0.5 if big else m
    if big:
        k = k + 1
    f = (m - 1.0) / (m + 1.0)
    s = f * f
    q = 1.0 / 19.0
    q = 1.0 / 17.0 + s * q
    q = 1.0 / 15.0 + s * q
    q = 1.0 / 13.0 + s * q
    q = 1.0 / 11.0 + s * q
    q = 1.0 / 9.0 + s * q
    q = 1.0 / 7.0 + s * q
    q = 1.0 / 5.0 + s * q
    q = 1.0 / 3.0 + s * q
    q = 1.0 + s * q
    kf = np.float64(k)
    res = kf * _LN2_HI + (2.0 * f * q + kf * _LN2_LO)
    if x == 0.0:
        res = -np.inf
    if x == np.inf:
        res = np.inf
    if not x >= 0.0:  # negative or NaN
        res = np.nan
    return res


# ---------------------------------------------------------------------------------------------
# Philox4x32-10 and Box-Muller
# ---------------------------------------------------------------------------------------------
_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_LOW32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


@njit(cache=True, inline="always")
def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of a 4-word counter under a 2-word key (32-bit words held in uint64).

    Ten rounds of two 32 x 32 -> 64-bit multiplications and a Weyl key schedule, exactly as
    Random123's ``philox4x32_R(10, ctr, key)`` (its known-answer vectors are tested).
    """
    for _ in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        n0 = (p1 >> _S32) ^ c1 ^ k0
        n2 = (p0 >> _S32) ^ c3 ^ k1
        c1 = p1 & _LOW32
        c3 = p0 & _LOW32
        c0 = n0
        c2 = n2
        k0 = (k0 + _W0) & _LOW32
        k1 = (k1 + _W1) & _LOW32
    return c0, c1, c2, c3


_TWO_M32 = 2.0**-32
_TWO_M30 = 2.0**-30
_HALF_PI = 1.5707963267948966


@njit(cache=True, inline="always")
def normal_pair(a, b):
    r"""Two independent standard normals from two uniform 32-bit words (Box-Muller).

    :math:`R = \sqrt{-2 \ln u}`, :math:`u = (a + 1/2)\,2^{-32} \in (0, 1)`, and the angle
    :math:`\theta = 2\pi\,b\,2^{-32}`: returns :math:`(R\cos\theta, R\sin\theta)`. The angle is
    reduced exactly to a quadrant and :math:`|x| \le \pi/4`, where the Taylor polynomials of
    sine and cosine (to degrees 15 and 16) are accurate to :math:`10^{-16}`. With 32-bit
    uniforms :math:`R` is at most 6.66 (a normal beyond it has probability
    :math:`2.7 \cdot 10^{-10}`).
    """
    u = (np.float64(a) + 0.5) * _TWO_M32
    radius = np.sqrt(-2.0 * log(u))
    t = np.float64(b) * _TWO_M30  # four times the angle in turns, in [0, 4): exact
    q = (t + _SHIFTER) - _SHIFTER  # nearest quadrant, 0..4
    x = (t - q) * _HALF_PI  # in [-pi/4, pi/4]
    x2 = x * x
    s = -1.0 / 1307674368000.0
    s = 1.0 / 6227020800.0 + x2 * s
    s = -1.0 / 39916800.0 + x2 * s
    s = 1.0 / 362880.0 + x2 * s
    s = -1.0 / 5040.0 + x2 * s
    s = 1.0 / 120.0 + x2 * s
    s = -1.0 / 6.0 + x2 * s
    s = x + x * (x2 * s)
    c = 1.0 / 20922789888000.0
    c = -1.0 / 87178291200.0 + x2 * c
    c = 1.0 / 479001600.0 + x2 * c
    c = -1.0 / 3628800.0 + x2 * c
    c = 1.0 / 40320.0 + x2 * c
    c = -1.0 / 720.0 + x2 * c
    c = 1.0 / 24.0 + x2 * c
    c = -0.5 + x2 * c
    c = 1.0 + x2 * c
    quadrant = np.int64(q) & 3
    odd = (quadrant & 1) == 1
    sin_t = c if odd else s
    cos_t = s if odd else c
    if quadrant >= 2:
        sin_t = -sin_t
    if quadrant == 1 or quadrant == 2:
        cos_t = -cos_t
    return radius * cos_t, radius * sin_t


@njit(cache=True, inline="always")
def _draw_kind(z, row0, n_vals, kind, day, ne, student, key0, key1):
    """Standard normals of one kind for every student of the block, into ``z[row0 + j]``."""
    for e in range(ne):
        for j in range((n_vals + 3) // 4):
            a, b, c, d = philox4x32(day, student[e], kind, np.uint64(j), key0[e], key1[e])
            z0, z1 = normal_pair(a, b)
            z2, z3 = normal_pair(c, d)
            m = 4 * j
            z[row0 + m, e] = z0
            if m + 1 < n_vals:
                z[row0 + m + 1, e] = z1
            if m + 2 < n_vals:
                z[row0 + m + 2, e] = z2
            if m + 3 < n_vals:
                z[row0 + m + 3, e] = z3


# ---------------------------------------------------------------------------------------------
# the day
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def run_days_fast(
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
    peers,
    keys,
    noise,
    use_noise,
    n_days,
    day0,
    elapsed0,
    log_curriculum,
    core,
    par,
):
    """Advance every classroom of a chunk by ``n_days`` school days, in place.

    The arguments are those of :func:`toolkit.engine.kernel.run_days`, plus:

    Parameters
    ----------
    keys : ndarray of uint64, shape (C, 2)
        Each classroom's Philox key for this school year (two 32-bit words).
    noise : ndarray, shape (C, >= n_days, N, 3 D + 1)
        Daily standard normals to use instead of drawing them (with ``use_noise``), e.g. the
        exact kernel's, to check the transcription; otherwise not read (any shape).
    use_noise : bool
    day0 : int
        Day of the school year of the first of these days (the Philox counter).

    ``elapsed0`` sets the grade standard as in the exact kernel.
    """
    n_class, n, _ = skill.shape
    nd = len(log_curriculum)  # a tuple: the number of domains is a compile-time constant
    n_ties = peers.shape[2]
    g_n = n_groups
    remediation = par[_REMEDIATION]
    tailoring = par[_TAILORING]
    adaptation = par[_ADAPTATION]
    individualization = par[_INDIVIDUALIZATION]
    optimum = par[_OPTIMUM]
    goal_control = par[_GOAL_CONTROL]
    path_control = par[_PATH_CONTROL]
    choice_bias = par[_CHOICE_BIAS]
    sa_bias = par[_SELF_ASSESSMENT_BIAS]
    choice_noise = par[_CHOICE_NOISE]
    choice_sharpness = par[_CHOICE_SHARPNESS]
    choice_drift = par[_CHOICE_DRIFT]
    core_floor = par[_CORE_FLOOR]
    core_ceiling = par[_CORE_CEILING]
    autonomy = par[_AUTONOMY]
    scaffolding = par[_SCAFFOLDING]
    rate = par[_RATE]
    width = par[_WIDTH]
    practice_efficacy = par[_PRACTICE_EFFICACY]
    supervision = par[_SUPERVISION]
    sd_cost = par[_SELF_DIRECTION_COST]
    disruption = par[_DISRUPTION]
    peer_strength = par[_PEER_STRENGTH]
    peer_gap_scale = par[_PEER_GAP_SCALE]
    forgetting = par[_FORGETTING]
    e_baseline = par[_E_BASELINE]
    e_w_interest = par[_E_W_INTEREST]
    e_w_autonomy = par[_E_W_AUTONOMY]
    e_w_fit = par[_E_W_FIT]
    e_rate = par[_E_RATE]
    e_noise_sd = par[_E_NOISE_SD]
    scaffolding_effect = par[_SCAFFOLDING_EFFECT]
    practice_effect = par[_PRACTICE_EFFECT]
    i_rate = par[_I_RATE]
    i_threshold = par[_I_THRESHOLD]
    i_autonomy_weight = par[_I_AUTONOMY_WEIGHT]
    i_saturation = par[_I_SATURATION]
    daily_pace = par[_DAILY_PACE]
    monitoring = par[_MONITORING]
    diag_noise = par[_DIAG_NOISE]
    judgement_bias = par[_JUDGEMENT_BIAS]

    # constants of the numpy expressions, as in the exact kernel
    one_minus_adapt = 1 - adaptation
    one_minus_ind = 1 - individualization
    one_minus_goal = 1 - goal_control
    one_minus_path = 1 - path_control
    two_w2 = 2.0 * width * width  # zpd_fit
    sys_unreg = (1.0 - autonomy) * (1.0 - supervision)  # on_task
    cost_k = autonomy * sd_cost
    w_aut = e_w_autonomy * autonomy  # engagement_target
    sr_k = (scaffolding_effect * scaffolding + practice_effect) * autonomy
    i_scale = i_rate * (1.0 + i_autonomy_weight * autonomy)  # update_interest
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
    ndf = nd
    # core[d] as numbers, read once (loop invariants the vectorizer need not reload)
    is_core = np.zeros(nd)
    for d in range(nd):
        is_core[d] = 1.0 if core[d] else 0.0
    log_curr = np.empty(nd)
    for d in range(nd):
        log_curr[d] = log_curriculum[d]

    # system_allocation without remediation or tailoring: the curriculum's shares, for everyone
    fixed_plan = remediation == 0.0 and tailoring == 0.0
    pi_fixed = np.empty(nd)
    m0 = log_curr[0]
    for d in range(1, nd):
        if log_curr[d] > m0:
            m0 = log_curr[d]
    for d in range(nd):
        pi_fixed[d] = exp(log_curr[d] - m0)
    s0 = 0.0
    for d in range(nd):
        s0 += pi_fixed[d]
    for d in range(nd):
        pi_fixed[d] = pi_fixed[d] / s0

    n_block = min(BLOCK_CLASSROOMS, n_class)
    n_el = n_block * n
    n_gb = n_block * g_n
    # state of a block, students on the last axis
    sk = np.empty((nd, n_el))
    est = np.empty((nd, n_el))
    intr = np.empty((nd, n_el))
    start = np.empty((nd, n_el))
    apt = np.empty((nd, n_el))
    calib = np.empty((nd, n_el))
    iest = np.empty((nd, n_el))
    ferr = np.empty((nd, n_el))
    eng = np.empty(n_el)
    sr = np.empty(n_el)
    eff = np.empty(n_el)
    tau_e = np.empty(n_el)
    grp = np.empty(n_el, dtype=np.int64)
    blk = np.empty(n_el, dtype=np.int64)
    pidx = np.empty((max(n_ties, 1), n_el), dtype=np.int64)
    key0 = np.empty(n_el, dtype=np.uint64)
    key1 = np.empty(n_el, dtype=np.uint64)
    student = np.empty(n_el, dtype=np.uint64)
    s_eng = np.empty(n_el)
    s_fit = np.empty(n_el)
    s_on = np.empty(n_el)
    s_core = np.empty(n_el)
    s_peer = np.empty(n_el)
    # the day's work arrays
    z = np.zeros((3 * nd + 1, n_el))
    alloc = np.empty((nd, n_el))
    direct = np.empty((nd, n_el))
    level = np.empty((nd, n_el))
    galloc = np.empty((nd, n_el))
    new_skill = np.empty((nd, n_el))
    group_off = np.empty(n_el)
    peer_off = np.empty(n_el)
    cmean = np.empty((n_block, nd))
    gsum = np.empty((n_gb, nd))
    gmean = np.empty((n_gb, nd))
    goff = np.empty(n_gb)
    sizes = np.empty(n_gb)
    class_off = np.empty(n_block)

    for c0 in range(0, n_class, n_block):
        nb = min(n_block, n_class - c0)
        ne = nb * n
        # ---- load the block ------------------------------------------------------------------
        for b in range(nb):
            c = c0 + b
            for i in range(n):
                e = b * n + i
                for d in range(nd):
                    sk[d, e] = skill[c, i, d]
                    est[d, e] = estimate[c, i, d]
                    intr[d, e] = interest[c, i, d]
                    start[d, e] = start_skill[c, i, d]
                    apt[d, e] = aptitude[c, i, d]
                    calib[d, e] = calibration[c, i, d]
                    iest[d, e] = interest_estimate[c, i, d]
                    ferr[d, e] = first_error[c, i, d]
                eng[e] = engagement[c, i]
                sr[e] = self_regulation[c, i]
                eff[e] = direct_efficacy[c, i]
                tau_e[e] = direct_time[c]
                grp[e] = b * g_n + groups[c, i]
                blk[e] = b
                for k in range(n_ties):
                    pidx[k, e] = b * n + peers[c, i, k]
                key0[e] = keys[c, 0]
                key1[e] = keys[c, 1]
                student[e] = np.uint64(i)
                s_eng[e] = sum_engagement[c, i]
                s_fit[e] = sum_fit[c, i]
                s_on[e] = sum_on_task[c, i]
                s_core[e] = sum_core_time[c, i]
                s_peer[e] = sum_peer[c, i]
        for gb in range(nb * g_n):
            sizes[gb] = 0.0
        for e in range(ne):
            sizes[grp[e]] += 1.0
        for gb in range(nb * g_n):
            if sizes[gb] < 1.0:
                sizes[gb] = 1.0  # group_mean: sums / maximum(sizes, 1.0)

        for day in range(n_days):
            standard = daily_pace * (elapsed0 + day)  # shared.grade_standard
            # ---- the day's standard normals (cohort.YearDraws layout) -----------------------
            if use_noise:
                for b in range(nb):
                    for i in range(n):
                        for s in range(3 * nd + 1):
                            z[s, b * n + i] = noise[c0 + b, day, i, s]
            else:
                dayc = np.uint64(day0 + day)
                if goal_control != 0.0:
                    _draw_kind(z, 0, nd, np.uint64(0), dayc, ne, student, key0, key1)
                if path_control != 0.0:
                    _draw_kind(z, nd, nd, np.uint64(1), dayc, ne, student, key0, key1)
                _draw_kind(z, 2 * nd, nd, np.uint64(2), dayc, ne, student, key0, key1)
                _draw_kind(z, 3 * nd, 1, np.uint64(3), dayc, ne, student, key0, key1)

            # ---- system_plan: class and group means of the estimates ----------------------
            for b in range(nb):
                for d in range(nd):
                    acc = 0.0
                    for i in range(n):
                        acc += est[d, b * n + i]
                    cmean[b, d] = acc / nf
            if adaptation != 0.0:
                for gb in range(nb * g_n):
                    for d in range(nd):
                        gsum[gb, d] = 0.0
                for e in range(ne):
                    gb = grp[e]
                    for d in range(nd):
                        gsum[gb, d] += est[d, e]
                for gb in range(nb * g_n):
                    for d in range(nd):
                        gmean[gb, d] = gsum[gb, d] / sizes[gb]
            # levels (system_plan), one loop over students
            for e in range(ne):
                b = blk[e]
                gb = grp[e]
                for d in range(nd):
                    if adaptation != 0.0:
                        base = optimum + one_minus_adapt * cmean[b, d]
                        own_group = gmean[gb, d]
                        direct[d, e] = base + adaptation * own_group
                        level[d, e] = base + adaptation * (
                            one_minus_ind * own_group + individualization * est[d, e]
                        )
                    else:
                        direct[d, e] = optimum + cmean[b, d]
                        level[d, e] = direct[d, e]
            # ---- system_allocation, then student_choose (allocation) -----------------------
            for e in range(ne):
                if fixed_plan:
                    for d in range(nd):
                        alloc[d, e] = pi_fixed[d]
                else:
                    # softmax(log(curriculum) + tailoring * (strength + interest_estimate))
                    if tailoring != 0.0:
                        mean = 0.0
                        for d in range(nd):
                            mean += est[d, e]
                        mean = mean / nd
                        for d in range(nd):
                            alloc[d, e] = log_curr[d] + tailoring * (
                                (est[d, e] - mean) + iest[d, e]
                            )
                    else:
                        for d in range(nd):
                            alloc[d, e] = log_curr[d]
                    m = alloc[0, e]
                    for d in range(1, nd):
                        m = alloc[d, e] if alloc[d, e] > m else m
                    tot = 0.0
                    for d in range(nd):
                        alloc[d, e] = exp(alloc[d, e] - m)
                        tot += alloc[d, e]
                    for d in range(nd):
                        alloc[d, e] = alloc[d, e] / tot
                    if remediation != 0.0 and n_core > 0:
                        # within-core shares by the gap to the standard (galloc as scratch)
                        wsum = 0.0
                        for d in range(nd):
                            w = alloc[d, e] * exp(remediation * (standard - est[d, e]))
                            galloc[d, e] = w if core[d] else 0.0
                            wsum += galloc[d, e]
                        if n_core == nd:
                            for d in range(nd):
                                alloc[d, e] = galloc[d, e] / wsum
                        else:
                            k0 = 0.0
                            gap_sum = 0.0
                            for d in range(nd):
                                k0 += alloc[d, e] * is_core[d]
                                gap_sum += (standard - est[d, e]) * is_core[d]
                            x = log(k0) - log(1.0 - k0) + remediation * (gap_sum / n_core)
                            kk = 1.0 / (1.0 + exp(-x))  # logistic
                            rest = (1.0 - kk) / (1.0 - k0)
                            for d in range(nd):
                                if core[d]:
                                    alloc[d, e] = kk * (galloc[d, e] / wsum)
                                else:
                                    alloc[d, e] = alloc[d, e] * rest
                if goal_control != 0.0:
                    # learner_allocation: softmax(sharpness * (interest + drift (1 - R) noise))
                    kd = choice_drift * (1.0 - sr[e])
                    for d in range(nd):
                        galloc[d, e] = choice_sharpness * (intr[d, e] + kd * z[d, e])
                    m = galloc[0, e]
                    for d in range(1, nd):
                        m = galloc[d, e] if galloc[d, e] > m else m
                    tot = 0.0
                    for d in range(nd):
                        galloc[d, e] = exp(galloc[d, e] - m)
                        tot += galloc[d, e]
                    for d in range(nd):
                        alloc[d, e] = one_minus_goal * alloc[d, e] + goal_control * (
                            galloc[d, e] / tot
                        )
                if use_limits:
                    # apply_core_limits
                    share = 0.0
                    for d in range(nd):
                        share += alloc[d, e] * is_core[d]
                    target = share if share > core_floor else core_floor
                    target = target if target < core_ceiling else core_ceiling
                    if share != target:
                        scale_core = target / max(share, 1e-12)
                        scale_rest = (1 - target) / max(1 - share, 1e-12)
                        for d in range(nd):
                            alloc[d, e] = alloc[d, e] * (scale_core if core[d] else scale_rest)
                if path_control != 0.0:
                    # self_assessment, then chosen_level
                    one_minus_r = 1.0 - sr[e]
                    for d in range(nd):
                        err = sa_bias * calib[d, e] + choice_noise * z[nd + d, e]
                        sense = sk[d, e] + one_minus_r * err
                        own = sense + optimum + one_minus_r * choice_bias
                        level[d, e] = one_minus_path * level[d, e] + path_control * own

            # ---- teacher.gather: group time shares and disengagement (start of day) --------
            for gb in range(nb * g_n):
                goff[gb] = 0.0
                for d in range(nd):
                    gsum[gb, d] = 0.0
            for e in range(ne):
                gb = grp[e]
                goff[gb] += 1.0 - eng[e]
                for d in range(nd):
                    gsum[gb, d] += alloc[d, e]
            for gb in range(nb * g_n):
                goff[gb] = (goff[gb] / sizes[gb]) * sizes[gb]  # group_mean(...) * sizes
                for d in range(nd):
                    gmean[gb, d] = gsum[gb, d] / sizes[gb]
            for b in range(nb):
                acc = 0.0  # class_disengagement: a sum in student order
                for i in range(n):
                    acc += 1.0 - eng[b * n + i]
                class_off[b] = acc
            for e in range(ne):
                own_off = 1.0 - eng[e]
                group_off[e] = goff[grp[e]] - own_off
                peer_off[e] = class_off[blk[e]] - own_off
                for d in range(nd):
                    galloc[d, e] = gmean[grp[e], d]

            # ---- student_learn -------------------------------------------------------------
            for e in range(ne):
                en = eng[e]
                r = sr[e]
                tau = tau_e[e]
                one_minus_tau = 1.0 - tau
                # on_task, disruption_factor (group, then class)
                unreg = autonomy * (1.0 - r) + sys_unreg
                phi = (1.0 - (1.0 - en) * unreg) * (1.0 - cost_k * (1.0 - r))
                d_dir = exp(-disruption * group_off[e])
                d_ind = exp(-disruption * peer_off[e])
                teacher_dir = tau * eff[e]
                fit = 0.0
                interest_of_work = 0.0
                core_time = 0.0
                peer_total = 0.0
                for d in range(nd):
                    s_id = sk[d, e]
                    a_id = apt[d, e]
                    own_a = alloc[d, e]
                    # zpd_fit of direct instruction and of practice
                    cd = (direct[d, e] - s_id) - optimum
                    fit_dir = exp(-(cd * cd) / two_w2)
                    if same_levels:
                        fit_prac = fit_dir
                    else:
                        cp = (level[d, e] - s_id) - optimum
                        fit_prac = exp(-(cp * cp) / two_w2)
                    t_dir = tau * galloc[d, e]
                    t_prac = one_minus_tau * own_a
                    # peer_gain (engagement 1): every tie; peers not ahead add exactly 0
                    help_sum = 0.0
                    for kk in range(n_ties):
                        j = pidx[kk, e]
                        gap = sk[d, j] - s_id
                        pa = alloc[d, j]
                        overlap = own_a if (own_a <= pa or own_a != own_a) else pa
                        ahead = gap if gap > 0.0 else 0.0
                        help_sum += overlap * (ahead * exp(-ahead / peer_gap_scale))
                    peer = peer_strength * a_id * 1.0 * (help_sum / total_w)
                    # compose_gain (gain_terms in the order of CHANNELS), forgetting
                    direct_g = rate * a_id * galloc[d, e] * fit_dir * en * d_dir * teacher_dir
                    practice_g = (
                        rate * a_id * practice_efficacy * own_a * fit_prac * en * d_ind * phi
                    ) * one_minus_tau
                    ns = s_id + (direct_g + practice_g + 1.0 * en * peer)
                    t_total = t_dir + t_prac
                    if forgetting != 0.0:
                        ns = ns - forgetting * (1.0 - t_total) * (s_id - start[d, e])
                    new_skill[d, e] = ns
                    wfit = t_dir * fit_dir + t_prac * fit_prac
                    fit += wfit
                    iv = intr[d, e]
                    interest_of_work += t_total * iv
                    core_time += t_total * is_core[d]
                    peer_total += en * peer
                    # update_interest (start-of-day interest and engagement)
                    if i_rate != 0.0:
                        experience = en * (wfit / max(t_total, 1e-12))
                        q = iv / i_saturation
                        intr[d, e] = iv + i_scale * (ndf * t_total) * (experience - i_threshold) / (
                            1.0 + q * q
                        )
                # engagement_target, update_engagement
                x = e_baseline + e_w_interest * interest_of_work + w_aut + e_w_fit * (fit - 1.0)
                target = 1.0 / (1.0 + exp(-x))
                ne_ = en + e_rate * (target - en) + e_noise_sd * z[3 * nd, e]
                ne_ = ne_ if ne_ > 0.0 else 0.0
                ne_ = ne_ if ne_ < 1.0 else 1.0
                eng[e] = ne_
                sr[e] = r + sr_k * (1.0 - r)  # update_self_regulation
                s_eng[e] += ne_
                s_fit[e] += fit
                s_on[e] += phi
                s_core[e] += core_time
                s_peer[e] += peer_total
            # ---- commit (synchronous update) and update_estimate ---------------------------
            for e in range(ne):
                for d in range(nd):
                    sk[d, e] = new_skill[d, e]
                    prior = est[d, e] + daily_pace
                    error = diag_noise * (judgement_bias * ferr[d, e] + z[2 * nd + d, e])
                    est[d, e] = prior + monitoring * (sk[d, e] + error - prior)

        # ---- store the block -------------------------------------------------------------
        for b in range(nb):
            c = c0 + b
            for i in range(n):
                e = b * n + i
                for d in range(nd):
                    skill[c, i, d] = sk[d, e]
                    estimate[c, i, d] = est[d, e]
                    interest[c, i, d] = intr[d, e]
                engagement[c, i] = eng[e]
                self_regulation[c, i] = sr[e]
                sum_engagement[c, i] = s_eng[e]
                sum_fit[c, i] = s_fit[e]
                sum_on_task[c, i] = s_on[e]
                sum_core_time[c, i] = s_core[e]
                sum_peer[c, i] = s_peer[e]
