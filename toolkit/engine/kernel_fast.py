r"""The fast kernel: the day of the model with the students of several classrooms on SIMD lanes.

:func:`run_days_fast` is the second compiled transcription of the shared mechanisms
(:mod:`toolkit.model.mechanisms`), next to the exact one (:func:`toolkit.engine.kernel.run_days`).
It computes the same expressions, with the same operands in the same order, but lays the state
out the other way round: every quantity is an array over *students* (the students of
:data:`LANES` // N classrooms side by side), with the domains as a compile-time constant, so
that each step is one loop over students that LLVM turns into SIMD code. Three things differ
from the exact kernel, and they are what makes it fast:

1. ``exp`` and ``log`` are :func:`exp` and :func:`log` below, written with nothing but IEEE
   additions, multiplications, divisions and bit operations so that they vectorize (the C
   library's cannot), accurate to about 2 units in the last place (relative
   :math:`4 \cdot 10^{-16}`);
2. the day-by-day standard normals come from a counter-based generator, Philox4x32-10 (Salmon
   et al. 2011, the generator of Random123, cuRAND and JAX), keyed by the classroom's seed for
   that school year and counted by (day, student, kind of draw), and turned into normals by the
   Box-Muller transform (:func:`normal_pair`), in a vectorized loop (:func:`philox_normals`)
   run once per chunk of classrooms for all the arms; every draw is thus a pure function of the
   classroom's :class:`~numpy.random.SeedSequence`, the day, the student and the kind, whatever
   the chunk, the block or the arms run together, and kinds no arm uses are not computed
   (without changing the others);
3. branches become selects: the peer term :math:`g^+ e^{-g^+/\gamma}` is evaluated for every
   tie (it is exactly 0 for peers not ahead, as in the exact kernel, which skips them).

The only fast-math flag is ``contract`` (a multiplication and an addition may become one fused
multiply-add where the CPU has it); nothing is reassociated or approximated and no C library
function is called, so an element's result does not depend on its SIMD lane, the vector width or
which other classrooms share the loop, and the same seed gives the same bits on the same
machine. Across machines the numbers agree to rounding (CPUs without fused multiply-adds, or
another LLVM, may round a few operations differently). What it does not give is the
exact kernel's numbers: its random numbers are other draws from the same
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

from toolkit.engine.kernel import PAR_NAMES

__all__ = [
    "KINDS",
    "LANES",
    "PAR_NAMES",
    "exp",
    "exp_bounded",
    "log",
    "normal_pair",
    "philox4x32",
    "run_days_fast",
]

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


@intrinsic
def _prefer_wide_vectors(typingctx):
    """Ask LLVM to vectorize the calling function with 512-bit vectors where the CPU has them.

    Sets the function attribute ``"prefer-vector-width"="512"`` on the function being compiled
    (the call itself emits no instruction). LLVM's x86 back end otherwise prefers 256-bit
    vectors on CPUs with AVX-512 (the ``prefer-256-bit`` tuning); the attribute lifts that for
    this one function, not for every numba function in the process. Where the widest vectors are
    narrower (AVX2, NEON) it changes nothing. The vector width never changes a result: each
    lane computes the same IEEE operations as a scalar would, and no loop reassociates a sum.
    """
    sig = types.none()

    def codegen(context, builder, signature, args):
        # llvmlite's FunctionAttributes accepts only flag attributes; a string attribute is
        # written into the IR as it stands
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

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


@njit(cache=True, inline="always", error_model="numpy", fastmath={"contract"})
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


@njit(cache=True, inline="always", error_model="numpy", fastmath={"contract"})
def exp_bounded(x):
    r"""``exp(x)`` for ``x <= 709``, as :func:`exp` but shorter; results below 1e-307 are 0.

    For the arguments of the day that cannot be large: fits, disruption, the peer term and the
    shifted softmax, all at most 0 (up to rounding). Skipping the overflow branch and building
    :math:`2^k` in one factor saves a fifth of :func:`exp`'s instructions; for
    ``x <= -708`` it returns 0 where the C library returns a value below
    :math:`3.3 \cdot 10^{-308}`. NaN stays NaN.
    """
    xc = x if x > -708.0 else -708.0  # NaN takes this branch too; restored at the end
    kf = (xc * _LOG2E + _SHIFTER) - _SHIFTER
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
    res = p * _as_double((np.int64(kf) + 1023) << 52)
    res = res if x > -708.0 else 0.0
    return res if x == x else x


@njit(cache=True, inline="always", error_model="numpy", fastmath={"contract"})
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


@njit(cache=True, inline="always", error_model="numpy", fastmath={"contract"})
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


@njit(cache=True, inline="always", error_model="numpy", fastmath={"contract"})
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


# ---------------------------------------------------------------------------------------------
# the day
# ---------------------------------------------------------------------------------------------
#: Lanes of the work array: the students of ``LANES // N`` classrooms side by side. A constant,
#: so that every row of the flat work array lies a known distance from every other, which is
#: what lets the compiler vectorize the loops without run-time alias checks.
LANES = 512

#: Distance between rows of the work array, in float64s: a little more than :data:`LANES`, so
#: that rows are not a multiple of 4 KiB apart (a store and a later load whose addresses agree
#: in their low 12 bits stall the CPU, "4K aliasing"; with exactly 512 lanes every row would).
STRIDE = LANES + 4


@njit(cache=True, inline="always", error_model="numpy", fastmath={"contract"})
def _at(row, lane):
    """Index of ``lane`` in ``row`` of a flat work array, unsigned.

    Unsigned, so that numba adds no negative-index wraparound, whose select would hide from
    LLVM that the addresses are affine in the lane (and so stop it vectorizing).
    """
    return np.uint64(row * STRIDE + lane)


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def philox_normals(lane_key0, lane_key1, lane_student, day0, n_days, nd, kinds, out):
    """Draw the daily standard normals of a chunk of classrooms, for days ``day0 ..``.

    Parameters
    ----------
    lane_key0, lane_key1 : ndarray of uint64, shape (C * N,)
        The Philox key words of each student's classroom (this school year), student by
        student, classroom after classroom.
    lane_student : ndarray of uint64, shape (C * N,)
        Each student's number in their classroom.
    day0, n_days : int
        Day of the school year of the first day to draw, and how many days.
    nd : int
        Domains.
    kinds : ndarray of bool, shape (4,)
        Which kinds of :data:`KINDS` to draw (the others are left as they are).
    out : ndarray, shape (>= n_days, 3 D + 1, C * N)
        Day by day, the normals in the ``(3 D + 1)`` layout of
        :class:`toolkit.model.cohort.YearDraws`, each row over the chunk's students.

    Notes
    -----
    The normals ``4 j .. 4 j + 3`` of kind ``k`` of a student on day ``t`` are the two
    Box-Muller pairs of ``philox4x32((t, student, k, j), key)``: a pure function of the key
    (the classroom's seed and the year), the day, the student and the kind.
    """
    n_lanes = lane_key0.shape[0]
    n_rows = out.shape[1]
    flat = out.reshape(-1)  # unsigned flat indices below: no wraparound, so it vectorizes
    for t in range(n_days):
        day = np.uint64(day0 + t)
        for kind in range(4):
            if not kinds[kind]:
                continue
            row0 = kind * nd
            n_vals = nd if kind < 3 else 1
            kind_u = np.uint64(kind)
            for j in range((n_vals + 3) // 4):
                m = 4 * j
                ju = np.uint64(j)
                at = (t * n_rows + row0 + m) * n_lanes  # row row0 + m of day t
                for e in range(n_lanes):
                    a, b, c, d = philox4x32(
                        day, lane_student[e], kind_u, ju, lane_key0[e], lane_key1[e]
                    )
                    z0, z1 = normal_pair(a, b)
                    flat[np.uint64(at + e)] = z0
                    if m + 1 < n_vals:
                        flat[np.uint64(at + n_lanes + e)] = z1
                    if m + 2 < n_vals:
                        z2, z3 = normal_pair(c, d)
                        flat[np.uint64(at + 2 * n_lanes + e)] = z2
                        if m + 3 < n_vals:
                            flat[np.uint64(at + 3 * n_lanes + e)] = z3


@njit(cache=True, inline="always", error_model="numpy", fastmath={"contract"})
def _softmax_rows(w, row, nd, ne):
    """mechanisms.softmax over the ``nd`` rows from ``row``, in place, for every lane."""
    for e in range(ne):
        m = w[_at(row, e)]
        for d in range(1, nd):
            v = w[_at(row + d, e)]
            m = v if v > m else m
        tot = 0.0
        for d in range(nd):
            v = exp_bounded(w[_at(row + d, e)] - m)
            w[_at(row + d, e)] = v
            tot += v
        inv = 1.0 / tot
        for d in range(nd):
            w[_at(row + d, e)] = w[_at(row + d, e)] * inv


@njit(cache=True, error_model="numpy", fastmath={"contract"})
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
):
    """Advance every classroom of a chunk by ``n_days`` school days, in place.

    One day is, as in :func:`toolkit.engine.kernel.run_days` (whose arguments these are, plus
    the four below): :func:`~toolkit.model.mechanisms.system_plan`,
    :func:`~toolkit.model.mechanisms.student_choose`, the group means of the chosen time shares
    and the group's disengagement, :func:`~toolkit.model.mechanisms.student_learn` (peers'
    start-of-day skills and engagement) and :func:`~toolkit.model.mechanisms.update_estimate`.
    Each step is a loop over the students of up to ``LANES // N`` classrooms; gathers (group
    means, peers) are copied into contiguous rows first, so that the arithmetic loops are
    plain and vectorize.

    Parameters
    ----------
    noise : ndarray, shape (>= n_days, 3 D + 1, C * N)
        The days' standard normals (from :func:`philox_normals`, or the exact kernel's
        draws rearranged, to check the transcription), in the ``(3 D + 1)`` layout of
        :class:`toolkit.model.cohort.YearDraws`, each row over the chunk's students.

    Notes
    -----
    ``N`` must be at most :data:`LANES` (Parameters allow at most 200 students).
    """
    _prefer_wide_vectors()
    n_class, n, _ = skill.shape
    n_all = n_class * n
    noise_flat = noise.reshape(-1)
    if n > LANES:
        raise ValueError("the fast kernel supports at most LANES students per classroom")
    nd = len(log_curriculum)  # a tuple: the number of domains is a compile-time constant
    n_ties = peers.shape[2]
    g_n = n_groups
    lanes = LANES
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

    # constants of the numpy expressions, as in the exact kernel
    one_minus_adapt = 1 - adaptation  # system_plan
    one_minus_ind = 1 - individualization
    one_minus_goal = 1 - goal_control  # student_choose
    one_minus_path = 1 - path_control
    # divisions by a parameter as multiplications by its reciprocal (within an ulp)
    inv_two_w2 = 1.0 / (2.0 * width * width)  # zpd_fit
    inv_gap_scale = 1.0 / peer_gap_scale  # peer_gain
    inv_saturation = 1.0 / i_saturation  # update_interest
    one_minus_aut = 1.0 - autonomy  # on_task
    cost_k = autonomy * sd_cost
    w_aut = e_w_autonomy * autonomy  # engagement_target
    sr_k = (scaffolding_effect * scaffolding + practice_effect) * autonomy
    i_scale = i_rate * (1.0 + i_autonomy_weight * autonomy)  # update_interest
    total_w = float(n_ties)  # peer_gain: w.sum() of unit weights
    if total_w < 1e-12:
        total_w = 1e-12
    inv_total_w = 1.0 / total_w
    is_core = np.zeros(nd)
    n_core = 0
    for d in range(nd):
        if core[d]:
            is_core[d] = 1.0
            n_core += 1
    use_limits = 0 < n_core < nd and not (core_floor <= 0.0 and core_ceiling >= 1.0)
    same_levels = adaptation == 0.0 and path_control == 0.0
    nf = float(n)
    ndf = nd  # update_interest: d * t, with d the (integer) number of domains
    log_curr = np.empty(nd)
    for d in range(nd):
        log_curr[d] = log_curriculum[d]
    # system_allocation without remediation or tailoring: softmax(log(curriculum)), for everyone
    fixed_plan = remediation == 0.0 and tailoring == 0.0
    pi_fixed = np.empty(nd)
    m0 = log_curr[0]
    for d in range(1, nd):
        m0 = log_curr[d] if log_curr[d] > m0 else m0
    tot0 = 0.0
    for d in range(nd):
        pi_fixed[d] = exp(log_curr[d] - m0)
        tot0 += pi_fixed[d]
    for d in range(nd):
        pi_fixed[d] = pi_fixed[d] / tot0

    # rows of the work array (each ``lanes`` long): per domain, nd rows from each of these
    SK = 0  # skill
    EST = nd  # the system's estimate
    INTR = 2 * nd  # interest
    START = 3 * nd  # start-of-year skill
    APT = 4 * nd  # aptitude
    CALIB = 5 * nd  # calibration draw
    IEST = 6 * nd  # the system's interest estimate
    FERR = 7 * nd  # persistent part of the observation error
    ALLOC = 8 * nd  # the day's time shares
    DIRECT = 9 * nd  # level of direct instruction
    LEVEL = 10 * nd  # practice level
    GALLOC = 11 * nd  # the group's time shares
    NEWSK = 12 * nd  # tomorrow's skill
    HELP = 13 * nd  # peer_gain: sum over ties
    TMP = 14 * nd  # scratch
    FIT_DIR = 15 * nd  # zpd_fit of direct instruction
    FIT_PRAC = 16 * nd  # and of practice
    Z = 17 * nd  # the day's normals, 3 nd + 1 rows in the layout of YearDraws.daily
    ENG = 20 * nd + 1  # then one row each: engagement
    SR = ENG + 1  # self-regulation
    EFF = ENG + 2  # direct-instruction efficacy
    TAU = ENG + 3  # direct-instruction time
    S_ENG = ENG + 4  # running sums
    S_FIT = ENG + 5
    S_ON = ENG + 6
    S_CORE = ENG + 7
    S_PEER = ENG + 8
    G_OFF = ENG + 9  # disengagement of the others in the group
    C_OFF = ENG + 10  # and in the class
    PHI = ENG + 11  # on_task
    D_DIR = ENG + 12  # disruption_factor in the group
    D_IND = ENG + 13  # and in the class
    T_DIR = ENG + 14  # direct_time * direct_efficacy
    FIT = ENG + 15  # the day's sums over domains: fit
    IOW = ENG + 16  # interest of the work
    CORE_T = ENG + 17  # core time
    PEER_T = ENG + 18  # learning from peers
    COOP = ENG + 19  # cooperation_factor of the student's group
    PTCH = ENG + 20  # the instructional quality's reach into independent work
    SUP = ENG + 21  # supervision of independent work
    STRAT = ENG + 22  # strategy_factor
    P_PEER = ENG + 23  # gain_terms, independent work: peers factor (disruption * cooperation)
    P_SR = ENG + 24  # self-regulation factor (on_task * strategy)
    P_T = ENG + 25  # teacher-time factor ((1 - tau) * practice_teacher)
    PSK = ENG + 26  # peers' skills, n_ties * nd rows
    PALLOC = PSK + n_ties * nd  # peers' time shares, n_ties * nd rows
    n_rows = PALLOC + n_ties * nd
    w = np.zeros(n_rows * STRIDE)
    grp = np.zeros(lanes, dtype=np.int64)  # group of each lane, numbered within the block
    blk = np.zeros(lanes, dtype=np.int64)  # classroom of each lane, within the block
    pidx = np.zeros(max(n_ties, 1) * STRIDE, dtype=np.int64)  # lanes of the peers
    per_block = lanes // n
    n_gb = per_block * g_n
    cmean = np.zeros(per_block * nd)
    gsum = np.zeros(n_gb * nd)
    gmean = np.zeros(n_gb * nd)
    goff = np.zeros(n_gb)
    sizes = np.zeros(n_gb)
    class_off = np.zeros(per_block)

    for c0 in range(0, n_class, per_block):
        nb = min(per_block, n_class - c0)
        ne = nb * n
        # ---- load the block ------------------------------------------------------------------
        for b in range(nb):
            c = c0 + b
            for i in range(n):
                e = b * n + i
                for d in range(nd):
                    w[_at(SK + d, e)] = skill[c, i, d]
                    w[_at(EST + d, e)] = estimate[c, i, d]
                    w[_at(INTR + d, e)] = interest[c, i, d]
                    w[_at(START + d, e)] = start_skill[c, i, d]
                    w[_at(APT + d, e)] = aptitude[c, i, d]
                    w[_at(CALIB + d, e)] = calibration[c, i, d]
                    w[_at(IEST + d, e)] = interest_estimate[c, i, d]
                    w[_at(FERR + d, e)] = first_error[c, i, d]
                w[_at(ENG, e)] = engagement[c, i]
                w[_at(SR, e)] = self_regulation[c, i]
                w[_at(EFF, e)] = direct_efficacy[c, i]
                w[_at(COOP, e)] = cooperation[c, i]
                w[_at(PTCH, e)] = practice_teacher[c, i]
                w[_at(SUP, e)] = supervision[c, i]
                w[_at(TAU, e)] = direct_time[c]
                w[_at(S_ENG, e)] = sum_engagement[c, i]
                w[_at(S_FIT, e)] = sum_fit[c, i]
                w[_at(S_ON, e)] = sum_on_task[c, i]
                w[_at(S_CORE, e)] = sum_core_time[c, i]
                w[_at(S_PEER, e)] = sum_peer[c, i]
                grp[e] = b * g_n + groups[c, i]
                blk[e] = b
                for k in range(n_ties):
                    pidx[_at(k, e)] = b * n + peers[c, i, k]
        for gb in range(nb * g_n):
            sizes[gb] = 0.0
        for e in range(ne):
            sizes[grp[e]] += 1.0
        for gb in range(nb * g_n):
            sizes[gb] = sizes[gb] if sizes[gb] > 1.0 else 1.0  # group_mean: maximum(sizes, 1)

        for day in range(n_days):
            standard = daily_pace * (elapsed0 + day)  # shared.grade_standard
            # ---- the day's standard normals, into contiguous rows ---------------------------
            for s_ in range(3 * nd + 1):
                at = (day * (3 * nd + 1) + s_) * n_all + c0 * n  # noise[day, s_, c0 * n]
                for e in range(ne):
                    w[_at(Z + s_, e)] = noise_flat[np.uint64(at + e)]

            # ---- system_plan: levels from the class's and the groups' mean estimates ---------
            for b in range(nb):
                for d in range(nd):
                    acc = 0.0
                    for i in range(n):
                        acc += w[_at(EST + d, b * n + i)]
                    cmean[b * nd + d] = acc / nf
            if adaptation != 0.0:
                for gb in range(nb * g_n):
                    for d in range(nd):
                        gsum[gb * nd + d] = 0.0
                for e in range(ne):
                    gb = grp[e]
                    for d in range(nd):
                        gsum[gb * nd + d] += w[_at(EST + d, e)]
                for gb in range(nb * g_n):
                    for d in range(nd):
                        gmean[gb * nd + d] = gsum[gb * nd + d] / sizes[gb]
                for e in range(ne):
                    b = blk[e]
                    gb = grp[e]
                    for d in range(nd):
                        base = optimum + one_minus_adapt * cmean[b * nd + d]
                        own_group = gmean[gb * nd + d]
                        w[_at(DIRECT + d, e)] = base + adaptation * own_group
                        w[_at(LEVEL + d, e)] = base + adaptation * (
                            one_minus_ind * own_group + individualization * w[_at(EST + d, e)]
                        )
            else:
                for e in range(ne):
                    b = blk[e]
                    for d in range(nd):
                        v = optimum + cmean[b * nd + d]
                        w[_at(DIRECT + d, e)] = v
                        w[_at(LEVEL + d, e)] = v

            # ---- system_allocation -----------------------------------------------------------
            if fixed_plan:
                for e in range(ne):
                    for d in range(nd):
                        w[_at(ALLOC + d, e)] = pi_fixed[d]
            else:
                if tailoring != 0.0:
                    # log(curriculum) + tailoring * ((estimate - its mean) + interest_estimate)
                    for e in range(ne):
                        mean = 0.0
                        for d in range(nd):
                            mean += w[_at(EST + d, e)]
                        mean = mean / nd
                        for d in range(nd):
                            strength = w[_at(EST + d, e)] - mean
                            w[_at(ALLOC + d, e)] = log_curr[d] + tailoring * (
                                strength + w[_at(IEST + d, e)]
                            )
                else:
                    for e in range(ne):
                        for d in range(nd):
                            w[_at(ALLOC + d, e)] = log_curr[d]
                _softmax_rows(w, ALLOC, nd, ne)
                if remediation != 0.0 and n_core > 0:
                    # within = where(core, pi * exp(remediation * gap), 0), normalised
                    for e in range(ne):
                        wsum = 0.0
                        for d in range(nd):
                            gap = standard - w[_at(EST + d, e)]
                            v = w[_at(ALLOC + d, e)] * exp(remediation * gap)
                            v = v if is_core[d] != 0.0 else 0.0
                            w[_at(TMP + d, e)] = v
                            wsum += v
                        for d in range(nd):
                            w[_at(TMP + d, e)] = w[_at(TMP + d, e)] / wsum
                    if n_core == nd:
                        for e in range(ne):
                            for d in range(nd):
                                w[_at(ALLOC + d, e)] = w[_at(TMP + d, e)]
                    else:
                        # k = logistic(log k0 - log(1 - k0) + remediation * mean core gap)
                        for e in range(ne):
                            k0 = 0.0
                            gap_sum = 0.0
                            for d in range(nd):
                                k0 += w[_at(ALLOC + d, e)] * is_core[d]
                                gap_sum += (standard - w[_at(EST + d, e)]) * is_core[d]
                            x = log(k0) - log(1.0 - k0) + remediation * (gap_sum / n_core)
                            kk = 1.0 / (1.0 + exp(-x))
                            rest = (1.0 - kk) / (1.0 - k0)
                            for d in range(nd):
                                if is_core[d] != 0.0:
                                    v = kk * w[_at(TMP + d, e)]
                                else:
                                    v = w[_at(ALLOC + d, e)] * rest
                                w[_at(ALLOC + d, e)] = v

            # ---- student_choose --------------------------------------------------------------
            if goal_control != 0.0:
                # learner_allocation: softmax(sharpness * (interest + drift (1 - R) noise))
                for e in range(ne):
                    kd = choice_drift * (1.0 - w[_at(SR, e)])
                    for d in range(nd):
                        w[_at(TMP + d, e)] = choice_sharpness * (
                            w[_at(INTR + d, e)] + kd * w[_at(Z + d, e)]
                        )
                _softmax_rows(w, TMP, nd, ne)
                for e in range(ne):
                    for d in range(nd):
                        w[_at(ALLOC + d, e)] = (
                            one_minus_goal * w[_at(ALLOC + d, e)]
                            + goal_control * w[_at(TMP + d, e)]
                        )
            if use_limits:
                # apply_core_limits
                for e in range(ne):
                    share = 0.0
                    for d in range(nd):
                        share += w[_at(ALLOC + d, e)] * is_core[d]
                    target = share if share > core_floor else core_floor
                    target = target if target < core_ceiling else core_ceiling
                    scale_core = target / max(share, 1e-12)
                    scale_rest = (1 - target) / max(1 - share, 1e-12)
                    if share == target:
                        scale_core = 1.0
                        scale_rest = 1.0
                    for d in range(nd):
                        sc = scale_core if is_core[d] != 0.0 else scale_rest
                        w[_at(ALLOC + d, e)] = w[_at(ALLOC + d, e)] * sc
            if path_control != 0.0:
                # self_assessment, then chosen_level
                for e in range(ne):
                    one_minus_r = 1.0 - w[_at(SR, e)]
                    for d in range(nd):
                        err = sa_bias * w[_at(CALIB + d, e)] + choice_noise * w[_at(Z + nd + d, e)]
                        sense = w[_at(SK + d, e)] + one_minus_r * err
                        own = sense + optimum + one_minus_r * choice_bias
                        w[_at(LEVEL + d, e)] = (
                            one_minus_path * w[_at(LEVEL + d, e)] + path_control * own
                        )

            # ---- teacher.gather: group time shares and disengagement (start of day) --------
            for gb in range(nb * g_n):
                goff[gb] = 0.0
                for d in range(nd):
                    gsum[gb * nd + d] = 0.0
            for e in range(ne):
                gb = grp[e]
                goff[gb] += 1.0 - w[_at(ENG, e)]
                for d in range(nd):
                    gsum[gb * nd + d] += w[_at(ALLOC + d, e)]
            for gb in range(nb * g_n):
                goff[gb] = (goff[gb] / sizes[gb]) * sizes[gb]  # group_mean(...) * sizes
                for d in range(nd):
                    gmean[gb * nd + d] = gsum[gb * nd + d] / sizes[gb]
            for b in range(nb):
                acc = 0.0  # class_disengagement: a sum in student order
                for i in range(n):
                    acc += 1.0 - w[_at(ENG, b * n + i)]
                class_off[b] = acc
            # gathers into contiguous rows: group shares, disengagement around, peers' state
            for e in range(ne):
                gb = grp[e]
                own_off = 1.0 - w[_at(ENG, e)]
                w[_at(G_OFF, e)] = goff[gb] - own_off
                w[_at(C_OFF, e)] = class_off[blk[e]] - own_off
                for d in range(nd):
                    w[_at(GALLOC + d, e)] = gmean[gb * nd + d]
            for k in range(n_ties):
                for d in range(nd):
                    sk_row = (SK + d) * STRIDE
                    alloc_row = (ALLOC + d) * STRIDE
                    for e in range(ne):
                        j = pidx[_at(k, e)]
                        w[_at(PSK + k * nd + d, e)] = w[np.uint64(sk_row + j)]
                        w[_at(PALLOC + k * nd + d, e)] = w[np.uint64(alloc_row + j)]

            # ---- student_learn: peer_gain (engagement 1), ties in order -------------------
            for d in range(nd):
                for e in range(ne):
                    w[_at(HELP + d, e)] = 0.0
            for k in range(n_ties):
                for d in range(nd):
                    for e in range(ne):
                        own_a = w[_at(ALLOC + d, e)]
                        pa = w[_at(PALLOC + k * nd + d, e)]
                        gap = w[_at(PSK + k * nd + d, e)] - w[_at(SK + d, e)]
                        overlap = own_a if (own_a <= pa or own_a != own_a) else pa  # minimum
                        ahead = gap if gap > 0.0 else 0.0  # peers not ahead add exactly 0
                        w[_at(HELP + d, e)] += overlap * (
                            ahead * exp_bounded(-ahead * inv_gap_scale)
                        )
            # ---- student_learn: per student (on_task, disruption_factor) -------------------
            for e in range(ne):
                en = w[_at(ENG, e)]
                r = w[_at(SR, e)]
                tau = w[_at(TAU, e)]
                unreg = autonomy * (1.0 - r) + one_minus_aut * (1.0 - w[_at(SUP, e)])
                phi = (1.0 - (1.0 - en) * unreg) * (1.0 - cost_k * (1.0 - r))
                strat = 1.0 + strategy_use * r  # strategy_factor
                w[_at(PHI, e)] = phi
                w[_at(STRAT, e)] = strat
                g_off = w[_at(G_OFF, e)]
                room = g_off + room_disruption * (w[_at(C_OFF, e)] - g_off)  # room_disengagement
                w[_at(D_DIR, e)] = exp_bounded(-disruption * room)
                d_ind = exp_bounded(-disruption * w[_at(C_OFF, e)])
                w[_at(D_IND, e)] = d_ind
                # gain_terms: each channel's factor, formed before it is multiplied in
                w[_at(T_DIR, e)] = tau * w[_at(EFF, e)]  # teacher time, direct term
                w[_at(P_PEER, e)] = d_ind * w[_at(COOP, e)]  # peers, independent work
                w[_at(P_SR, e)] = phi * strat  # self-regulation, independent work
                w[_at(P_T, e)] = (1.0 - tau) * w[_at(PTCH, e)]  # teacher time, independent
                w[_at(FIT, e)] = 0.0
                w[_at(IOW, e)] = 0.0
                w[_at(CORE_T, e)] = 0.0
                w[_at(PEER_T, e)] = 0.0
            # ---- student_learn: zpd_fit of direct instruction and of practice -------------
            for d in range(nd):
                for e in range(ne):
                    cd = (w[_at(DIRECT + d, e)] - w[_at(SK + d, e)]) - optimum
                    w[_at(FIT_DIR + d, e)] = exp_bounded(-(cd * cd) * inv_two_w2)
            if same_levels:  # the same levels, so the same number
                for d in range(nd):
                    for e in range(ne):
                        w[_at(FIT_PRAC + d, e)] = w[_at(FIT_DIR + d, e)]
            else:
                for d in range(nd):
                    for e in range(ne):
                        cp = (w[_at(LEVEL + d, e)] - w[_at(SK + d, e)]) - optimum
                        w[_at(FIT_PRAC + d, e)] = exp_bounded(-(cp * cp) * inv_two_w2)
            # ---- student_learn: per domain (sums over domains in domain order) -------------
            for d in range(nd):
                core_d = is_core[d]
                for e in range(ne):
                    en = w[_at(ENG, e)]
                    tau = w[_at(TAU, e)]
                    one_minus_tau = 1.0 - tau
                    s_id = w[_at(SK + d, e)]
                    a_id = w[_at(APT + d, e)]
                    own_a = w[_at(ALLOC + d, e)]
                    g_a = w[_at(GALLOC + d, e)]
                    fit_dir = w[_at(FIT_DIR + d, e)]
                    fit_prac = w[_at(FIT_PRAC + d, e)]
                    peer = peer_strength * a_id * 1.0 * (w[_at(HELP + d, e)] * inv_total_w)
                    # compose_gain: gain_terms in the order of CHANNELS
                    direct_g = (
                        rate
                        * a_id
                        * g_a
                        * fit_dir
                        * en
                        * w[_at(D_DIR, e)]
                        * w[_at(STRAT, e)]
                        * w[_at(T_DIR, e)]
                    )
                    practice_g = (
                        rate
                        * a_id
                        * practice_efficacy
                        * own_a
                        * fit_prac
                        * en
                        * w[_at(P_PEER, e)]
                        * w[_at(P_SR, e)]
                        * w[_at(P_T, e)]
                    )
                    ns = s_id + (direct_g + practice_g + 1.0 * en * peer)
                    t_dir = tau * g_a
                    t_prac = one_minus_tau * own_a
                    t_total = t_dir + t_prac
                    # forgetting (without it the term is 0 and ns is unchanged)
                    ns = ns - forgetting * (1.0 - t_total) * (s_id - w[_at(START + d, e)])
                    w[_at(NEWSK + d, e)] = ns
                    wfit = t_dir * fit_dir + t_prac * fit_prac
                    iv = w[_at(INTR + d, e)]
                    w[_at(FIT, e)] += wfit
                    w[_at(IOW, e)] += t_total * iv
                    w[_at(CORE_T, e)] += t_total * core_d
                    w[_at(PEER_T, e)] += en * peer
                    # update_interest (start-of-day interest and engagement; 0 without it)
                    experience = en * (wfit / max(t_total, 1e-12))
                    q = iv * inv_saturation
                    w[_at(INTR + d, e)] = iv + i_scale * (ndf * t_total) * (
                        experience - i_threshold
                    ) / (1.0 + q * q)
            # ---- engagement_target, update_engagement, update_self_regulation, sums ---------
            for e in range(ne):
                en = w[_at(ENG, e)]
                r = w[_at(SR, e)]
                fit = w[_at(FIT, e)]
                x = e_baseline + e_w_interest * w[_at(IOW, e)] + w_aut + e_w_fit * (fit - 1.0)
                target = 1.0 / (1.0 + exp(-x))
                new_e = en + e_rate * (target - en) + e_noise_sd * w[_at(Z + 3 * nd, e)]
                new_e = new_e if new_e > 0.0 else 0.0
                new_e = new_e if new_e < 1.0 else 1.0
                w[_at(ENG, e)] = new_e
                w[_at(SR, e)] = r + sr_k * (1.0 - r)
                w[_at(S_ENG, e)] += new_e
                w[_at(S_FIT, e)] += fit
                w[_at(S_ON, e)] += w[_at(PHI, e)]
                w[_at(S_CORE, e)] += w[_at(CORE_T, e)]
                w[_at(S_PEER, e)] += w[_at(PEER_T, e)]
            # ---- commit (synchronous update) and update_estimate ---------------------------
            for d in range(nd):
                for e in range(ne):
                    new = w[_at(NEWSK + d, e)]
                    w[_at(SK + d, e)] = new
                    prior = w[_at(EST + d, e)] + daily_pace
                    error = diag_noise * (
                        judgement_bias * w[_at(FERR + d, e)] + w[_at(Z + 2 * nd + d, e)]
                    )
                    w[_at(EST + d, e)] = prior + monitoring * (new + error - prior)

        # ---- store the block -------------------------------------------------------------
        for b in range(nb):
            c = c0 + b
            for i in range(n):
                e = b * n + i
                for d in range(nd):
                    skill[c, i, d] = w[_at(SK + d, e)]
                    estimate[c, i, d] = w[_at(EST + d, e)]
                    interest[c, i, d] = w[_at(INTR + d, e)]
                engagement[c, i] = w[_at(ENG, e)]
                self_regulation[c, i] = w[_at(SR, e)]
                sum_engagement[c, i] = w[_at(S_ENG, e)]
                sum_fit[c, i] = w[_at(S_FIT, e)]
                sum_on_task[c, i] = w[_at(S_ON, e)]
                sum_core_time[c, i] = w[_at(S_CORE, e)]
                sum_peer[c, i] = w[_at(S_PEER, e)]
