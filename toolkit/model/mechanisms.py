r"""The model's mechanisms, each written once as a plain function on arrays.

Every function broadcasts over leading axes: the Mesa agents call them with one student's row
(shape ``(D,)`` for per-domain quantities, scalars for per-student ones), and the vectorized
engine calls the very same functions with ``(classrooms, students, D)`` arrays. Composite steps
(:func:`system_plan`, :func:`student_choose`, :func:`student_learn`) are also shared, so the day's
logic exists in exactly one place.

Notation used in the formulas: :math:`S_{id}` skill of student :math:`i` in domain :math:`d`
(SD units), :math:`A_{id}` aptitude (learning-rate multiplier), :math:`I_{id}` interest
(z-score), :math:`E_i` engagement and :math:`R_i` self-regulation (0-1), :math:`\hat S_{id}` the
system's estimate of :math:`S_{id}`, :math:`\pi_{id}` the share of student :math:`i`'s time on
domain :math:`d`, :math:`L_{id}` the level of the work, :math:`\delta^*` the optimal challenge
(``zpd_optimum``) and :math:`w` the fit width (``zpd_width``).

References
----------
.. [1] Vygotsky, L. S. (1978). *Mind in Society*. Harvard University Press (zone of proximal
   development).
.. [2] Deci, E. L., & Ryan, R. M. (2000). The "what" and "why" of goal pursuits.
   *Psychological Inquiry*, 11(4), 227-268. https://doi.org/10.1207/S15327965PLI1104_01
.. [3] Zimmerman, B. J. (2002). Becoming a self-regulated learner: an overview. *Theory Into
   Practice*, 41(2), 64-70. https://doi.org/10.1207/s15430421tip4102_2
.. [4] Sacerdote, B. (2011). Peer effects in education. *Handbook of the Economics of
   Education*, 3, 249-277. https://doi.org/10.1016/B978-0-444-53429-3.00004-1
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DayOutcome",
    "SystemPlan",
    "chosen_level",
    "direct_instruction_efficacy",
    "engagement_target",
    "focus",
    "form_groups",
    "group_mean",
    "grouping_key",
    "instruction_time",
    "learner_allocation",
    "learning_gain",
    "logistic",
    "peer_gain",
    "peer_network",
    "softmax",
    "student_choose",
    "student_learn",
    "system_allocation",
    "system_plan",
    "test_score",
    "update_engagement",
    "update_estimate",
    "update_self_regulation",
    "zpd_fit",
]

Array = NDArray[np.float64]


# --------------------------------------------------------------------------------------------
# elementary mechanisms
# --------------------------------------------------------------------------------------------
def logistic(x: ArrayLike) -> Array:
    r"""Logistic function :math:`1 / (1 + e^{-x})`.

    Parameters
    ----------
    x : array_like
        Logits.

    Returns
    -------
    ndarray
        Values in (0, 1).

    Examples
    --------
    >>> float(logistic(0.0))
    0.5
    """
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def softmax(x: ArrayLike, axis: int = -1) -> Array:
    r"""Softmax along an axis: :math:`e^{x_d} / \sum_k e^{x_k}` (shifted for stability).

    Parameters
    ----------
    x : array_like
        Log-weights.
    axis : int
        Axis that sums to one.

    Returns
    -------
    ndarray
        Non-negative shares summing to 1 along ``axis``.

    Examples
    --------
    >>> softmax([0.0, 0.0]).tolist()
    [0.5, 0.5]
    """
    x = np.asarray(x, dtype=float)
    z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


def zpd_fit(challenge: ArrayLike, optimum: float, width: float) -> Array:
    r"""Challenge fit: how well the level of work suits the learner (zone of proximal development).

    .. math:: f(c) = \exp\!\left(-\frac{(c - \delta^*)^2}{2 w^2}\right),
              \qquad c = L - S

    Work slightly above the learner's skill (:math:`c = \delta^*`) gives fit 1; work far too
    easy or too hard gives a fit near 0 (boredom or frustration) [1]_.

    Parameters
    ----------
    challenge : array_like
        Level of the work minus the learner's skill, :math:`L - S` (SD units).
    optimum : float
        :math:`\delta^*`, the most productive challenge (``zpd_optimum``).
    width : float
        :math:`w > 0`, the width of the fit curve (``zpd_width``).

    Returns
    -------
    ndarray
        Fit in (0, 1].

    References
    ----------
    .. [1] Vygotsky, L. S. (1978). *Mind in Society*. Harvard University Press.

    Examples
    --------
    >>> float(zpd_fit(0.3, optimum=0.3, width=0.6))
    1.0
    >>> round(float(zpd_fit(0.9, optimum=0.3, width=0.6)), 4)
    0.6065
    """
    c = np.asarray(challenge, dtype=float) - optimum
    return np.exp(-(c * c) / (2.0 * width * width))


def direct_instruction_efficacy(group_size: ArrayLike, penalty: float) -> Array:
    r"""Efficacy of direct instruction for one student in a group of :math:`g` students.

    .. math:: \epsilon(g) = \frac{1}{1 + \kappa (g - 1)}

    One-to-one (:math:`g = 1`) gives 1; larger groups get less attention, feedback and
    checking for understanding per student. :math:`\kappa` (``group_size_penalty``) is
    calibrated on the Tennessee STAR class-size effect (Krueger 1999).

    Parameters
    ----------
    group_size : array_like
        Students in the group (>= 1).
    penalty : float
        :math:`\kappa \ge 0`.

    Returns
    -------
    ndarray
        Efficacy in (0, 1].

    Examples
    --------
    >>> round(float(direct_instruction_efficacy(25, 0.02)), 4)
    0.6757
    """
    g = np.asarray(group_size, dtype=float)
    return 1.0 / (1.0 + penalty * (g - 1.0))


def instruction_time(teacher_capacity: float, scaffolding: float, n_groups: ArrayLike) -> Array:
    r"""Share of a lesson each student spends in direct instruction with their group.

    The teacher's capacity :math:`T` (lessons of direct instruction per lesson) minus the share
    :math:`s` invested in scaffolding self-regulation is split equally between the
    :math:`G` groups, and no group can be taught for more than the whole lesson:

    .. math:: \tau = \min\!\left(1, \frac{T (1 - s)}{G}\right)

    This is the *fit against exposure* trade-off: more groups fit each group better but give
    each less instruction.

    Parameters
    ----------
    teacher_capacity : float
        :math:`T \ge 0`.
    scaffolding : float
        :math:`s \in [0, 1]`.
    n_groups : array_like
        :math:`G \ge 1`, the number of non-empty groups.

    Returns
    -------
    ndarray
        :math:`\tau \in [0, 1]`; the rest of the lesson (:math:`1 - \tau`) is independent work.

    Examples
    --------
    >>> float(instruction_time(0.5, 0.0, 1)), round(float(instruction_time(0.5, 0.0, 3)), 4)
    (0.5, 0.1667)
    """
    g = np.asarray(n_groups, dtype=float)
    return np.minimum(1.0, teacher_capacity * (1.0 - scaffolding) / g)


def focus(self_regulation: ArrayLike, autonomy: float, floor: float) -> Array:
    r"""Share of independent-work time spent on task.

    Under system direction students follow the plan; the more the learner directs the work,
    the more time on task depends on self-regulation (autonomy alone does not ensure quality
    learning, seed 004):

    .. math:: \phi = 1 - a (1 - \phi_0)(1 - R)

    with autonomy :math:`a`, floor :math:`\phi_0` (``focus_floor``) and self-regulation
    :math:`R`.

    Parameters
    ----------
    self_regulation : array_like
        :math:`R \in [0, 1]`.
    autonomy : float
        :math:`a \in [0, 1]`.
    floor : float
        :math:`\phi_0 \in [0, 1]`, time on task at :math:`a = 1, R = 0`.

    Returns
    -------
    ndarray
        :math:`\phi \in [\phi_0, 1]`.

    Examples
    --------
    >>> float(focus(0.0, autonomy=1.0, floor=0.5)), float(focus(1.0, autonomy=1.0, floor=0.5))
    (0.5, 1.0)
    """
    r = np.asarray(self_regulation, dtype=float)
    return 1.0 - autonomy * (1.0 - floor) * (1.0 - r)


def learning_gain(
    rate: float,
    aptitude: ArrayLike,
    engagement: ArrayLike,
    time: ArrayLike,
    efficacy: ArrayLike,
    fit: ArrayLike,
) -> Array:
    r"""Skill gained in one activity.

    .. math:: \Delta S = \lambda \, A \, E \, \tau \, \epsilon \, f

    with learning rate :math:`\lambda` (``learning_rate``), aptitude :math:`A`, engagement
    :math:`E`, time :math:`\tau`, efficacy of the mode of work :math:`\epsilon` and challenge
    fit :math:`f` (:func:`zpd_fit`). Multiplicative: with no fit, no time or no engagement
    nothing is learned.

    Parameters
    ----------
    rate : float
        :math:`\lambda`, SD per day of engaged, fitted, whole-day direct instruction.
    aptitude, engagement, time, efficacy, fit : array_like
        Broadcastable factors.

    Returns
    -------
    ndarray
        Gain in SD units.

    Examples
    --------
    >>> float(learning_gain(0.01, 1.0, 0.5, 0.5, 1.0, 1.0))
    0.0025
    """
    return rate * np.asarray(aptitude) * engagement * time * efficacy * fit


def peer_gain(
    own_skill: ArrayLike,
    peer_skill: ArrayLike,
    own_alloc: ArrayLike,
    peer_alloc: ArrayLike,
    peer_weight: ArrayLike,
    strength: float,
    gap_scale: float,
    aptitude: ArrayLike = 1.0,
    engagement: ArrayLike = 1.0,
    time: ArrayLike = 1.0,
) -> Array:
    r"""Skill gained from more skilled peers in one's network during shared independent work.

    .. math::
        \Delta S^{peer}_{id} = \eta \, A_{id} \, E_i \, \tau_i \,
        \frac{\sum_k w_{ik} \min(\pi_{id}, \pi_{kd}) \, h(S_{kd} - S_{id})}{\sum_k w_{ik}},
        \qquad h(g) = g^+ e^{-g^+ / \gamma}

    Only peers who are *ahead* help (:math:`g^+ = \max(g, 0)`), help peaks at a gap of
    :math:`\gamma` (``peer_gap_scale``) because peers far ahead explain less well, and a pair
    learns together only in the time both spend on the same domain,
    :math:`\min(\pi_{id}, \pi_{kd})`. So networks that cluster by interest share more time,
    and ability-sorted networks give low achievers few peers ahead of them [4]_.

    Parameters
    ----------
    own_skill : array_like, shape (..., D)
    peer_skill : array_like, shape (..., K, D)
    own_alloc : array_like, shape (..., D)
        The student's time shares :math:`\pi_{i\cdot}`.
    peer_alloc : array_like, shape (..., K, D)
    peer_weight : array_like, shape (..., K)
        Tie weights (1 for a tie, 0 for padding).
    strength : float
        :math:`\eta` (``peer_learning``). With 0, peers change nothing.
    gap_scale : float
        :math:`\gamma > 0`.
    aptitude : array_like, shape (..., D), optional
    engagement : array_like, shape (...,) broadcast as (..., 1), optional
    time : array_like, optional
        :math:`\tau_i`, the independent-work share of the lesson.

    Returns
    -------
    ndarray, shape (..., D)

    References
    ----------
    .. [4] Sacerdote, B. (2011). Peer effects in education. *Handbook of the Economics of
       Education*, 3, 249-277.

    Examples
    --------
    >>> g = peer_gain([0.0], [[1.0]], [1.0], [[1.0]], [1.0], strength=1.0, gap_scale=1.0)
    >>> round(float(g[0]), 4)
    0.3679
    """
    own_skill = np.asarray(own_skill, dtype=float)
    peer_skill = np.asarray(peer_skill, dtype=float)
    w = np.asarray(peer_weight, dtype=float)
    gap = np.maximum(peer_skill - own_skill[..., None, :], 0.0)
    help_ = gap * np.exp(-gap / gap_scale)
    overlap = np.minimum(np.asarray(own_alloc)[..., None, :], peer_alloc)
    total_w = w.sum(axis=-1)
    mean_help = (w[..., None] * overlap * help_).sum(axis=-2) / np.maximum(total_w, 1e-12)[
        ..., None
    ]
    e = np.asarray(engagement, dtype=float)[..., None]
    t = np.asarray(time, dtype=float)[..., None]
    return strength * np.asarray(aptitude) * e * t * mean_help


def system_allocation(
    estimate: ArrayLike,
    interest_estimate: ArrayLike,
    curriculum: ArrayLike,
    core_mask: ArrayLike,
    standard: ArrayLike,
    remediation: float,
    tailoring: float,
    core_floor: float,
) -> Array:
    r"""Time shares over domains planned by the system for each student (the destination).

    .. math::
        \log \tilde\pi^{sys}_{id} = \log c_d
            + \rho \, m_d \, (\sigma_d - \hat S_{id})^+
            + \theta \left[(\hat S_{id} - \bar{\hat S}_{i\cdot}) + \hat I_{id}\right]

    then normalized (softmax), and, if the core share
    :math:`\sum_{d \in core} \pi_{id}` is below the floor :math:`\phi_c`, core domains are
    scaled up to the floor and the others down (both proportionally).
    :math:`c_d` is the standard curriculum, :math:`m_d` marks core domains, :math:`\sigma_d`
    the grade standard, :math:`\rho` ``remediation`` (deficit model: more time where the student
    is estimated to be behind) and :math:`\theta` ``strength_tailoring`` (strength model: more
    time on relative strengths and interests). With :math:`\rho = \theta = 0` everyone gets the
    curriculum.

    Parameters
    ----------
    estimate : array_like, shape (..., D)
        :math:`\hat S`, the system's estimate of skills.
    interest_estimate : array_like, shape (..., D)
        :math:`\hat I`, the system's interest profile.
    curriculum : array_like, shape (D,)
        :math:`c_d > 0`, summing to 1.
    core_mask : array_like of bool, shape (D,)
    standard : array_like, shape (D,)
        :math:`\sigma_d`, where a student "should" be today.
    remediation, tailoring : float
        :math:`\rho, \theta \ge 0`.
    core_floor : float
        :math:`\phi_c \in [0, 1]`.

    Returns
    -------
    ndarray, shape (..., D)
        Shares summing to 1.

    Examples
    --------
    >>> pi = system_allocation([[0.0, 0.0]], [[0.0, 0.0]], [0.7, 0.3], [True, False],
    ...                        [0.0, 0.0], 0.0, 0.0, 0.5)
    >>> pi.round(3).tolist()
    [[0.7, 0.3]]
    """
    est = np.asarray(estimate, dtype=float)
    core = np.asarray(core_mask, dtype=bool)
    logw = np.log(np.asarray(curriculum, dtype=float)) + np.zeros_like(est)
    if remediation:
        logw = logw + remediation * core * np.maximum(np.asarray(standard) - est, 0.0)
    if tailoring:
        strength = est - est.mean(axis=-1, keepdims=True)
        logw = logw + tailoring * (strength + np.asarray(interest_estimate, dtype=float))
    pi = softmax(logw)
    if core.any() and (~core).any() and core_floor > 0:
        core_share = (pi * core).sum(axis=-1, keepdims=True)
        low = core_share < core_floor
        scale_core = np.where(low, core_floor / np.maximum(core_share, 1e-12), 1.0)
        scale_rest = np.where(low, (1 - core_floor) / np.maximum(1 - core_share, 1e-12), 1.0)
        pi = pi * np.where(core, scale_core, scale_rest)
    return pi


def learner_allocation(
    interest: ArrayLike,
    self_regulation: ArrayLike,
    noise: ArrayLike,
    sharpness: float,
    drift: float,
) -> Array:
    r"""Time shares a learner chooses over domains by interest (personal destination).

    .. math:: \pi^{learn}_{id} = \operatorname{softmax}_d\!\big(\beta
              \left[I_{id} + \nu (1 - R_i)\, \varepsilon_{id}\right]\big)

    with sharpness :math:`\beta` (``choice_sharpness``) and daily drift :math:`\nu`
    (``choice_drift``): learners with little self-regulation follow passing whims. Choices may
    leave the curriculum (non-core domains).

    Parameters
    ----------
    interest : array_like, shape (..., D)
    self_regulation : array_like, shape (...,)
    noise : array_like, shape (..., D)
        Standard normal draws :math:`\varepsilon`.
    sharpness, drift : float

    Returns
    -------
    ndarray, shape (..., D)

    Examples
    --------
    >>> learner_allocation([0.0, 0.0], 1.0, [0.3, -0.3], 1.5, 0.5).tolist()
    [0.5, 0.5]
    """
    r = np.asarray(self_regulation, dtype=float)[..., None]
    u = sharpness * (np.asarray(interest, dtype=float) + drift * (1.0 - r) * noise)
    return softmax(u)


def chosen_level(
    skill: ArrayLike,
    self_regulation: ArrayLike,
    noise: ArrayLike,
    optimum: float,
    bias: float,
    noise_sd: float,
) -> Array:
    r"""Level of work a learner chooses for themself.

    .. math:: L^{learn}_{id} = S_{id} + \delta^* + (1 - R_i)(b + \sigma_c \varepsilon_{id})

    A fully self-regulated learner picks the optimal challenge; a novice is biased (:math:`b`,
    ``choice_bias``, negative = too easy) and erratic (:math:`\sigma_c`, ``choice_noise``) [3]_.

    Parameters
    ----------
    skill : array_like, shape (..., D)
    self_regulation : array_like, shape (...,)
    noise : array_like, shape (..., D)
        Standard normal draws.
    optimum, bias, noise_sd : float

    Returns
    -------
    ndarray, shape (..., D)

    References
    ----------
    .. [3] Zimmerman, B. J. (2002). Becoming a self-regulated learner. *Theory Into Practice*,
       41(2), 64-70.

    Examples
    --------
    >>> chosen_level([0.0], 1.0, [2.0], 0.3, -0.4, 0.8).tolist()
    [0.3]
    """
    r = np.asarray(self_regulation, dtype=float)[..., None]
    noise = np.asarray(noise, dtype=float)
    return np.asarray(skill, dtype=float) + optimum + (1.0 - r) * (bias + noise_sd * noise)


def engagement_target(
    interest_of_work: ArrayLike,
    autonomy: float,
    fit_of_work: ArrayLike,
    baseline: float,
    w_interest: float,
    w_autonomy: float,
    w_fit: float,
) -> Array:
    r"""Engagement a student drifts towards, from interest, autonomy and fit.

    .. math:: E^* = \operatorname{logistic}\!\left(\beta_0 + \beta_I \bar I
              + \beta_a a + \beta_f (\bar f - 1)\right)

    with :math:`\bar I` the time-weighted interest in today's work, :math:`a` autonomy and
    :math:`\bar f` the time-weighted challenge fit (self-determination [2]_ and flow).

    Parameters
    ----------
    interest_of_work, fit_of_work : array_like
    autonomy : float
    baseline, w_interest, w_autonomy, w_fit : float
        :math:`\beta_0, \beta_I, \beta_a, \beta_f`.

    Returns
    -------
    ndarray
        Target engagement in (0, 1).

    References
    ----------
    .. [2] Deci, E. L., & Ryan, R. M. (2000). *Psychological Inquiry*, 11(4), 227-268.

    Examples
    --------
    >>> round(float(engagement_target(0.0, 0.0, 1.0, 0.0, 1, 1, 1)), 3)
    0.5
    """
    return logistic(
        baseline
        + w_interest * np.asarray(interest_of_work)
        + w_autonomy * autonomy
        + w_fit * (np.asarray(fit_of_work) - 1.0)
    )


def update_engagement(
    engagement: ArrayLike, target: ArrayLike, rate: float, noise: ArrayLike, noise_sd: float
) -> Array:
    r"""Move engagement towards its target, with a daily shock, clipped to [0, 1].

    .. math:: E_{t+1} = \operatorname{clip}\!\left(E_t + r (E^* - E_t)
              + \sigma_E \varepsilon_t, 0, 1\right)

    Examples
    --------
    >>> float(update_engagement(0.5, 1.0, 0.1, 0.0, 0.03))
    0.55
    """
    e = np.asarray(engagement, dtype=float)
    return np.clip(e + rate * (np.asarray(target) - e) + noise_sd * np.asarray(noise), 0.0, 1.0)


def update_self_regulation(
    self_regulation: ArrayLike,
    autonomy: float,
    scaffolding: float,
    scaffold_effect: float,
    practice_effect: float,
) -> Array:
    r"""Growth of self-regulation ("knowing how to learn") with scaffolded autonomy.

    .. math:: R_{t+1} = R_t + (\kappa_s s + \kappa_p)\, a\, (1 - R_t)

    Self-regulation grows only when learners have autonomy :math:`a` to practise it, much faster
    when teachers invest time :math:`s` in scaffolding it (``scaffolding_effect``
    :math:`\kappa_s`, ``autonomy_practice_effect`` :math:`\kappa_p`), and saturates at 1.
    Seed 004: scaffolding moves learners from directed to personal learning over time.

    Examples
    --------
    >>> float(update_self_regulation(0.5, 1.0, 0.5, 0.2, 0.0))
    0.55
    """
    r = np.asarray(self_regulation, dtype=float)
    return r + (scaffold_effect * scaffolding + practice_effect) * autonomy * (1.0 - r)


def update_estimate(
    estimate: ArrayLike,
    skill: ArrayLike,
    noise: ArrayLike,
    first_error: ArrayLike,
    pace: float,
    monitoring: float,
    noise_sd: float,
    bias: float,
) -> Array:
    r"""Update the system's picture of each student: advance by the pace, blend in a quiz.

    .. math:: \hat S_{t+1} = (\hat S_t + p) + \mu \left(S_{t+1}
              + \sigma_d (b\, u_{id} + \varepsilon_t) - (\hat S_t + p)\right)

    Exponential smoothing with weight :math:`\mu` (``monitoring_rate``) of a noisy observation.
    The observation error has a fresh part :math:`\sigma_d \varepsilon_t` and a persistent part
    :math:`\sigma_d b\, u_{id}`: a share :math:`b` (``judgement_bias``) of the student's
    start-of-year diagnostic error :math:`\sigma_d u_{id}` that the system never sheds (first
    impressions), so however often it observes, its picture stays biased by
    :math:`\sigma_d b\, u_{id}`. Between observations the system assumes everyone grows at the
    curriculum pace :math:`p`. With :math:`\mu = 1` and :math:`\sigma_d = 0`
    (``diagnostic_noise``) the system knows every skill exactly.

    Parameters
    ----------
    estimate, skill : array_like, shape (..., D)
    noise : array_like, shape (..., D)
        Today's standard normal draws :math:`\varepsilon_t`.
    first_error : array_like, shape (..., D)
        The standard normal draws :math:`u` of the start-of-year diagnostic error.
    pace, monitoring, noise_sd, bias : float
        :math:`p, \mu, \sigma_d, b`.

    Returns
    -------
    ndarray, shape (..., D)

    Examples
    --------
    >>> float(update_estimate(0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.4, 0.5))
    1.0
    """
    prior = np.asarray(estimate, dtype=float) + pace
    error = noise_sd * (bias * np.asarray(first_error) + np.asarray(noise))
    return prior + monitoring * (np.asarray(skill) + error - prior)


def test_score(skill: ArrayLike, core_mask: ArrayLike, error: ArrayLike, error_sd: float) -> Array:
    r"""Standardized test of the core domains, with measurement error.

    .. math:: Y_i = \frac{1}{|C|} \sum_{d \in C} S_{id} + \sigma_Y \varepsilon_i

    The test sees only core domains :math:`C`; :math:`\sigma_Y` follows from the test's
    reliability (:attr:`Parameters.test_error_sd`).

    Examples
    --------
    >>> float(test_score([1.0, 3.0, 9.0], [True, True, False], 0.0, 0.3))
    2.0
    """
    s = np.asarray(skill, dtype=float)
    m = np.asarray(core_mask, dtype=bool)
    return s[..., m].mean(axis=-1) + error_sd * np.asarray(error)


# --------------------------------------------------------------------------------------------
# groups and networks
# --------------------------------------------------------------------------------------------
def grouping_key(
    basis: str, core_estimate: ArrayLike, interest_profile: ArrayLike, tiebreak: ArrayLike
) -> Array:
    r"""Sort key from which instructional groups are cut.

    - ``"ability"``: the system's estimate of core skill (tracking, within-class grouping);
    - ``"interest"``: index of the strongest interest in the profile, so that students who
      share a favourite domain sit together;
    - ``"random"``: a random permutation.

    The uniform ``tiebreak`` (in [0, 1)) orders ties and, for ``"random"``, is the key.

    Examples
    --------
    >>> grouping_key("interest", [0, 0], [[0, 1], [1, 0]], [0.5, 0.5]).tolist()
    [1.5, 0.5]
    """
    u = np.asarray(tiebreak, dtype=float)
    if basis == "ability":
        return np.asarray(core_estimate, dtype=float) + 1e-9 * u
    if basis == "interest":
        return np.argmax(np.asarray(interest_profile), axis=-1) + u
    if basis == "random":
        return u
    raise ValueError(f"grouping basis must be 'random', 'ability' or 'interest', got {basis!r}")


def form_groups(key: ArrayLike, n_groups: int) -> NDArray[np.int64]:
    r"""Cut students into ``n_groups`` groups of (almost) equal size in the order of ``key``.

    Student with rank :math:`r` (0-based, ascending key) among :math:`N` joins group
    :math:`\lfloor r G / N \rfloor`.

    Parameters
    ----------
    key : array_like, shape (..., N)
    n_groups : int
        :math:`G`, at most :math:`N`.

    Returns
    -------
    ndarray of int, shape (..., N)

    Examples
    --------
    >>> form_groups([3.0, 1.0, 2.0, 0.0], 2).tolist()
    [1, 0, 1, 0]
    """
    key = np.asarray(key, dtype=float)
    n = key.shape[-1]
    order = np.argsort(key, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(n), key.shape), axis=-1)
    return (rank * n_groups) // n


def group_mean(
    values: ArrayLike, groups: ArrayLike, n_groups: int
) -> tuple[Array, NDArray[np.int64]]:
    r"""Mean of ``values`` within each group, and group sizes.

    Parameters
    ----------
    values : array_like, shape (..., N, D)
    groups : array_like of int, shape (..., N)
    n_groups : int

    Returns
    -------
    means : ndarray, shape (..., G, D)
        :math:`\bar v_{gd} = \sum_{i \in g} v_{id} / n_g` (0 for an empty group).
    sizes : ndarray of int, shape (..., G)

    Examples
    --------
    >>> m, n = group_mean([[1.0], [3.0], [5.0]], [0, 0, 1], 2)
    >>> m.ravel().tolist(), n.tolist()
    ([2.0, 5.0], [2, 1])
    """
    v = np.asarray(values, dtype=float)
    onehot = (np.asarray(groups)[..., None] == np.arange(n_groups)).astype(float)  # (..., N, G)
    sizes = onehot.sum(axis=-2)
    sums = np.swapaxes(onehot, -1, -2) @ v
    return sums / np.maximum(sizes, 1.0)[..., None], sizes.astype(np.int64)


def peer_network(
    level: ArrayLike,
    profile: ArrayLike,
    ability_homophily: float,
    interest_homophily: float,
    gumbel: ArrayLike,
    n_ties: int,
) -> NDArray[np.int64]:
    r"""Draw each student's ``n_ties`` peers within the class, with homophily.

    Ties are sampled without replacement with probability proportional to

    .. math:: \exp\!\left(-h_a |\ell_i - \ell_j| + h_I \operatorname{corr}(P_i, P_j)\right),

    by the Gumbel-top-k trick (add standard Gumbel noise to the log-weights, keep the
    :math:`k` largest). :math:`\ell` is the estimated core level, :math:`P` the interest profile
    used (the system's or the learner's own), :math:`h_a` ability homophily (ability groups)
    and :math:`h_I` interest homophily (interest networks). With both zero, ties are uniformly
    random (a fixed class).

    Parameters
    ----------
    level : array_like, shape (..., N)
    profile : array_like, shape (..., N, D)
    ability_homophily, interest_homophily : float
    gumbel : array_like, shape (..., N, N)
        Standard Gumbel draws.
    n_ties : int

    Returns
    -------
    ndarray of int, shape (..., N, n_ties)
        Indices of each student's peers (never the student themself).

    Examples
    --------
    >>> g = np.zeros((3, 3))
    >>> peer_network([0.0, 0.1, 5.0], np.eye(3), 10.0, 0.0, g, 1)[:, 0].tolist()
    [1, 0, 1]
    """
    lev = np.asarray(level, dtype=float)
    logits = np.asarray(gumbel, dtype=float).copy()
    if ability_homophily:
        logits -= ability_homophily * np.abs(lev[..., :, None] - lev[..., None, :])
    if interest_homophily:
        p = np.asarray(profile, dtype=float)
        p = p - p.mean(axis=-1, keepdims=True)
        p = p / np.maximum(np.linalg.norm(p, axis=-1, keepdims=True), 1e-12)
        logits += interest_homophily * (p @ np.swapaxes(p, -1, -2))
    n = logits.shape[-1]
    logits[..., np.arange(n), np.arange(n)] = -np.inf
    return np.argsort(-logits, axis=-1, kind="stable")[..., :n_ties]


# --------------------------------------------------------------------------------------------
# composite steps shared by the Mesa agents and the vectorized engine
# --------------------------------------------------------------------------------------------
class SystemPlan(NamedTuple):
    r"""What the system (teacher and curriculum) plans for one day, per student.

    Attributes
    ----------
    allocation : ndarray, shape (..., N, D)
        System-planned time shares :math:`\pi^{sys}`.
    direct_level : ndarray, shape (..., N, D)
        Level of the student's group's direct instruction.
    practice_level : ndarray, shape (..., N, D)
        Level the system sets for the student's independent work.
    """

    allocation: Array
    direct_level: Array
    practice_level: Array


def system_plan(
    estimate: Array,
    interest_estimate: Array,
    groups: NDArray[np.int64],
    n_groups: int,
    curriculum: Array,
    core_mask: NDArray[np.bool_],
    standard: Array,
    *,
    remediation: float,
    tailoring: float,
    core_floor: float,
    adaptation: float,
    optimum: float,
) -> SystemPlan:
    r"""Plan a day for the system: time shares, group levels and practice levels.

    Levels blend one level for the class (adaptation :math:`\alpha = 0`) with a level set from
    the estimate of the group (direct instruction) or of the student (practice):

    .. math::
        L^{dir}_{id} = \delta^* + (1 - \alpha)\bar{\hat S}_{\cdot d}
                      + \alpha \bar{\hat S}_{g(i) d},\qquad
        L^{prac,sys}_{id} = \delta^* + (1 - \alpha)\bar{\hat S}_{\cdot d}
                      + \alpha \hat S_{id}

    Parameters
    ----------
    estimate, interest_estimate : ndarray, shape (..., N, D)
    groups : ndarray of int, shape (..., N)
    n_groups : int
    curriculum, core_mask, standard : ndarray, shape (D,)
    remediation, tailoring, core_floor : float
        Destination axes, see :func:`system_allocation`.
    adaptation : float
        :math:`\alpha`, the ``path_adaptation`` axis.
    optimum : float
        :math:`\delta^*`.

    Returns
    -------
    SystemPlan
    """
    allocation = system_allocation(
        estimate,
        interest_estimate,
        curriculum,
        core_mask,
        standard,
        remediation,
        tailoring,
        core_floor,
    )
    class_mean = estimate.mean(axis=-2, keepdims=True)
    if adaptation:
        gmeans, _ = group_mean(estimate, groups, n_groups)
        own_group = np.take_along_axis(gmeans, groups[..., None], axis=-2)
        direct = optimum + (1 - adaptation) * class_mean + adaptation * own_group
        practice = optimum + (1 - adaptation) * class_mean + adaptation * estimate
    else:
        direct = practice = np.broadcast_to(optimum + class_mean, estimate.shape)
    return SystemPlan(allocation, direct, practice)


def student_choose(
    system_alloc: Array,
    system_practice_level: Array,
    skill: Array,
    interest: Array,
    self_regulation: Array,
    domain_noise: Array,
    level_noise: Array,
    *,
    goal_control: float,
    path_control: float,
    optimum: float,
    choice_bias: float,
    choice_noise: float,
    choice_sharpness: float,
    choice_drift: float,
) -> tuple[Array, Array]:
    r"""Settle a student's day: the time shares and practice level they actually follow.

    .. math::
        \pi_{id} = (1 - g)\,\pi^{sys}_{id} + g\,\pi^{learn}_{id},\qquad
        L^{prac}_{id} = (1 - p)\,L^{prac,sys}_{id} + p\,L^{learn}_{id}

    with goal control :math:`g` and path control :math:`p` (the regime's learner-control axes),
    :math:`\pi^{learn}` from :func:`learner_allocation` and :math:`L^{learn}` from
    :func:`chosen_level`.

    Returns
    -------
    allocation : ndarray, shape (..., D)
    practice_level : ndarray, shape (..., D)
    """
    if goal_control:
        learn = learner_allocation(
            interest, self_regulation, domain_noise, choice_sharpness, choice_drift
        )
        alloc = (1 - goal_control) * system_alloc + goal_control * learn
    else:
        alloc = system_alloc
    if path_control:
        own = chosen_level(skill, self_regulation, level_noise, optimum, choice_bias, choice_noise)
        level = (1 - path_control) * system_practice_level + path_control * own
    else:
        level = system_practice_level
    return alloc, level


class DayOutcome(NamedTuple):
    """A student's state after one day, and what the day was like.

    Attributes
    ----------
    skill : ndarray, shape (..., D)
    engagement, self_regulation : ndarray, shape (...,)
    fit : ndarray, shape (...,)
        Time-weighted challenge fit of the day's work.
    core_time : ndarray, shape (...,)
        Share of the day spent on core domains.
    peer : ndarray, shape (..., D)
        The part of the day's gain that came from peers.
    """

    skill: Array
    engagement: Array
    self_regulation: Array
    fit: Array
    core_time: Array
    peer: Array


def student_learn(
    skill: Array,
    start_skill: Array,
    aptitude: Array,
    interest: Array,
    engagement: Array,
    self_regulation: Array,
    allocation: Array,
    group_allocation: Array,
    direct_level: Array,
    practice_level: Array,
    direct_time: Array,
    direct_efficacy: Array,
    peer_skill: Array,
    peer_alloc: Array,
    peer_weight: Array,
    engagement_noise: Array,
    core_mask: NDArray[np.bool_],
    *,
    autonomy: float,
    scaffolding: float,
    rate: float,
    optimum: float,
    width: float,
    practice_efficacy: float,
    focus_floor: float,
    peer_strength: float,
    peer_gap_scale: float,
    forgetting: float,
    engagement_baseline: float,
    engagement_interest_weight: float,
    engagement_autonomy_weight: float,
    engagement_fit_weight: float,
    engagement_rate: float,
    engagement_noise_sd: float,
    scaffolding_effect: float,
    autonomy_practice_effect: float,
) -> DayOutcome:
    r"""One day of learning for one student (or, on arrays, for every student at once).

    Time: direct instruction :math:`\tau` with the group, following the group's time shares
    :math:`\bar\pi_{g(i)}`; independent work :math:`1 - \tau` following the student's own
    shares :math:`\pi_i`. Gain in domain :math:`d`:

    .. math::
        \Delta S_{id} = \lambda A_{id} E_i \left[\tau \bar\pi_{g d} \epsilon_g
            f(L^{dir}_{id} - S_{id}) + (1 - \tau)\pi_{id}\, \epsilon_p \phi_i
            f(L^{prac}_{id} - S_{id})\right] + \Delta S^{peer}_{id}
            - \omega (1 - t_{id})(S_{id} - S^0_{id})

    with :math:`f` from :func:`zpd_fit`, :math:`\epsilon_g` from
    :func:`direct_instruction_efficacy`, :math:`\epsilon_p` ``practice_efficacy``,
    :math:`\phi_i` from :func:`focus`, the peer term from :func:`peer_gain` (during independent
    work), and optional forgetting :math:`\omega` in domains given little time :math:`t_{id}`.
    Engagement then moves towards :func:`engagement_target` and self-regulation grows by
    :func:`update_self_regulation`. Peers' skills are those at the start of the day
    (synchronous update), so the order in which students act does not matter.

    Returns
    -------
    DayOutcome
    """
    e = engagement[..., None]
    fit_dir = zpd_fit(direct_level - skill, optimum, width)
    fit_prac = zpd_fit(practice_level - skill, optimum, width)
    tau = direct_time[..., None]
    t_dir = tau * group_allocation
    t_prac = (1.0 - tau) * allocation
    phi = focus(self_regulation, autonomy, focus_floor)[..., None]
    gain = learning_gain(rate, aptitude, e, t_dir, direct_efficacy[..., None], fit_dir)
    gain = gain + learning_gain(rate, aptitude, e, t_prac, practice_efficacy * phi, fit_prac)
    peer = peer_gain(
        skill,
        peer_skill,
        allocation,
        peer_alloc,
        peer_weight,
        peer_strength,
        peer_gap_scale,
        aptitude,
        engagement,
        1.0 - direct_time,
    )
    t_total = t_dir + t_prac
    new_skill = skill + gain + peer
    if forgetting:
        new_skill = new_skill - forgetting * (1.0 - t_total) * (skill - start_skill)
    fit = (t_dir * fit_dir + t_prac * fit_prac).sum(axis=-1)
    interest_of_work = (t_total * interest).sum(axis=-1)
    target = engagement_target(
        interest_of_work,
        autonomy,
        fit,
        engagement_baseline,
        engagement_interest_weight,
        engagement_autonomy_weight,
        engagement_fit_weight,
    )
    new_e = update_engagement(
        engagement, target, engagement_rate, engagement_noise, engagement_noise_sd
    )
    new_r = update_self_regulation(
        self_regulation, autonomy, scaffolding, scaffolding_effect, autonomy_practice_effect
    )
    core_time = t_total[..., core_mask].sum(axis=-1)
    return DayOutcome(new_skill, new_e, new_r, fit, core_time, peer)
