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
.. [5] Lazear, E. P. (2001). Educational production. *The Quarterly Journal of Economics*,
   116(3), 777-803. https://doi.org/10.1162/00335530152466232
.. [6] Hidi, S., & Renninger, K. A. (2006). The four-phase model of interest development.
   *Educational Psychologist*, 41(2), 111-127. https://doi.org/10.1207/s15326985ep4102_4
.. [7] Falchikov, N., & Boud, D. (1989). Student self-assessment in higher education: a
   meta-analysis. *Review of Educational Research*, 59(4), 395-430.
   https://doi.org/10.3102/00346543059004395
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CHANNELS",
    "Channels",
    "DayOutcome",
    "SystemPlan",
    "adaptation_overhead",
    "apply_core_limits",
    "chosen_level",
    "compose_gain",
    "cooperation_factor",
    "direct_instruction_efficacy",
    "disruption_factor",
    "effective_supervision",
    "engagement_target",
    "expectation_factor",
    "form_groups",
    "group_mean",
    "grouping_key",
    "individual_share",
    "instruction_quality",
    "instruction_time",
    "learner_allocation",
    "learning_gain",
    "logistic",
    "on_task",
    "peer_gain",
    "peer_network",
    "portfolio_score",
    "room_disengagement",
    "self_assessment",
    "softmax",
    "strategy_factor",
    "student_choose",
    "student_learn",
    "system_allocation",
    "system_plan",
    "teacher_busy_share",
    "test_score",
    "update_engagement",
    "update_estimate",
    "update_interest",
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


def adaptation_overhead(
    n_students: ArrayLike,
    n_groups: ArrayLike,
    individual: ArrayLike,
    group_cost: float,
    plan_cost: float,
    exponent: float,
) -> Array:
    r"""Teacher time per lesson that adapting the work costs, before any instruction is given.

    .. math:: O = c_G\,(G - 1) + c_U\,(\psi N)^{\beta}

    Each instructional group beyond the first needs its own lesson, transitions and work set
    for the others (:math:`c_G`, ``group_cost``); work set individually (levels of practice or
    plans of time) must be diagnosed, prepared and monitored student by student
    (:math:`c_U`, ``plan_cost``), with economies of scale :math:`\beta \le 1`
    (``plan_cost_exponent``). :math:`\psi \in [0, 2]` is how much of each student's work the
    system sets individually (see :func:`individual_share`), so :math:`\psi N` counts students
    with individually set work. Standardized teaching (one group, nothing individual) costs
    nothing; the learner's own choices cost the teacher nothing but cost the learner time
    (:func:`on_task`).

    Parameters
    ----------
    n_students : array_like
        :math:`N`.
    n_groups : array_like
        :math:`G`, the number of non-empty instructional groups.
    individual : array_like
        :math:`\psi`.
    group_cost, plan_cost, exponent : float
        :math:`c_G, c_U, \beta`.

    Returns
    -------
    ndarray
        :math:`O`, in lessons of teacher time per lesson.

    Examples
    --------
    >>> float(adaptation_overhead(21, 1, 0.0, 0.04, 0.02, 0.5))
    0.0
    >>> round(float(adaptation_overhead(21, 3, 1.0, 0.04, 0.02, 0.5)), 4)
    0.1717
    """
    g = np.asarray(n_groups, dtype=float)
    units = np.asarray(individual, dtype=float) * np.asarray(n_students, dtype=float)
    return group_cost * (g - 1.0) + plan_cost * units**exponent


def individual_share(
    adaptation: float,
    individualization: float,
    path_control: float,
    goal_control: float,
    remediation: float,
    tailoring: float,
    follow_up: float = 0.0,
) -> float:
    r"""How much of each student's work the teacher must set or follow individually, :math:`\psi`.

    .. math:: \psi = \underbrace{(1 - p)\,\alpha\,\iota + (1 - g)\,\min(1, \rho + \theta)}_
              {\text{set by the system}} + \underbrace{\phi_f\,(p + g)}_{\text{set by the learner}}

    Levels: the system sets the level of independent work from its estimate of each student to
    the extent :math:`\alpha\iota` (``path_adaptation`` times ``practice_individualization``),
    except for the share :math:`p` the learner sets. Plans: the system plans each student's time
    over domains individually when it remediates or tailors (:math:`\rho + \theta > 0`, up to
    1), except for the share :math:`g` the learner decides. What the learner sets still costs
    the teacher time to follow (conferencing, checking self-chosen levels and plans, giving
    feedback): a share :math:`\phi_f` (``learner_plan_cost``) of what setting it would cost,
    on the same cost curve (:func:`adaptation_overhead`). So learner control is not free for
    the teacher either; with :math:`\phi_f = 0` it was.

    Examples
    --------
    >>> individual_share(1.0, 1.0, 0.0, 0.0, 1.0, 0.0)
    2.0
    >>> individual_share(1.0, 1.0, 1.0, 1.0, 0.0, 0.0)
    0.0
    >>> individual_share(1.0, 1.0, 1.0, 1.0, 0.0, 0.0, follow_up=0.5)
    1.0
    """
    system = (1.0 - path_control) * adaptation * individualization + (1.0 - goal_control) * min(
        1.0, remediation + tailoring
    )
    return system + follow_up * (path_control + goal_control)


def instruction_time(
    teacher_capacity: float, scaffolding: float, n_groups: ArrayLike, overhead: ArrayLike = 0.0
) -> Array:
    r"""Share of a lesson each student spends in direct instruction with their group.

    The teacher's capacity :math:`T` (lessons of adult time per lesson) minus the share
    :math:`s` invested in scaffolding self-regulation and minus the time that adaptation costs
    (:math:`O`, :func:`adaptation_overhead`) is split equally between the :math:`G` groups, and
    no group can be taught for more than the whole lesson:

    .. math:: \tau = \min\!\left(1, \frac{\max(0,\; T (1 - s) - O)}{G}\right)

    This is the *fit against exposure* trade-off: more groups and individually set work fit
    each student better but leave less instruction for each.

    Parameters
    ----------
    teacher_capacity : float
        :math:`T \ge 0`.
    scaffolding : float
        :math:`s \in [0, 1]`.
    n_groups : array_like
        :math:`G \ge 1`, the number of non-empty groups.
    overhead : array_like
        :math:`O \ge 0`.

    Returns
    -------
    ndarray
        :math:`\tau \in [0, 1]`; the rest of the lesson (:math:`1 - \tau`) is independent work.

    Examples
    --------
    >>> float(instruction_time(0.5, 0.0, 1)), round(float(instruction_time(0.5, 0.0, 3)), 4)
    (0.5, 0.1667)
    >>> round(float(instruction_time(0.5, 0.0, 3, overhead=0.2)), 4)
    0.1
    """
    g = np.asarray(n_groups, dtype=float)
    available = np.maximum(0.0, teacher_capacity * (1.0 - scaffolding) - np.asarray(overhead))
    return np.minimum(1.0, available / g)


def teacher_busy_share(
    n_groups: ArrayLike,
    direct_time: ArrayLike,
    overhead: ArrayLike,
    teacher_capacity: float,
) -> Array:
    r"""Share of a student's independent work during which the adults are busy elsewhere.

    While a student works independently (:math:`1 - \tau` of the lesson), the teacher teaches
    the other :math:`G - 1` groups (:math:`(G - 1)\tau`) and spends the adaptation overhead
    :math:`O` (preparing levels and plans, following the learners' own): for that part of the
    student's independent time no adult is free to supervise it. With :math:`T` lessons of adult
    time per lesson there are :math:`\max(1, T)` adults in the room:

    .. math:: b = \operatorname{clip}\!\left(\frac{(G - 1)\tau + O}
              {(1 - \tau)\,\max(1, T)}, 0, 1\right)

    (0 when the student is taught all lesson long). Whole-class teaching leaves the teacher free
    during seatwork (:math:`b = 0`); three groups taught in turn keep the teacher busy for much
    of each group's independent time.

    Parameters
    ----------
    n_groups : array_like
        :math:`G`, non-empty instructional groups.
    direct_time : array_like
        :math:`\tau`, each group's share of the lesson in direct instruction.
    overhead : array_like
        :math:`O` (:func:`adaptation_overhead`).
    teacher_capacity : float
        :math:`T`.

    Returns
    -------
    ndarray
        :math:`b \in [0, 1]`.

    Examples
    --------
    >>> float(teacher_busy_share(1, 0.5, 0.0, 0.5))
    0.0
    >>> round(float(teacher_busy_share(3, 0.1, 0.2, 0.5)), 4)
    0.4444
    """
    g = np.asarray(n_groups, dtype=float)
    tau = np.asarray(direct_time, dtype=float)
    busy = (g - 1.0) * tau + np.asarray(overhead, dtype=float)
    free_time = (1.0 - tau) * max(1.0, teacher_capacity)
    share = np.where(free_time > 0.0, busy / np.maximum(free_time, 1e-300), 0.0)
    return np.clip(share, 0.0, 1.0)


def effective_supervision(supervision: float, busy: ArrayLike, availability: float) -> Array:
    r"""Supervision of system-directed independent work, given how often the adults are busy.

    .. math:: \sigma_{eff} = \sigma\,(1 - \nu\, b)

    A share :math:`\nu` (``supervision_availability``) of what keeps seatwork on task depends on
    an adult being free to check it; the rest is the structure of the work itself. With
    :math:`\nu = 0` supervision is the same whether the teacher is free or teaching another
    group.

    Parameters
    ----------
    supervision : float
        :math:`\sigma` (``supervision``).
    busy : array_like
        :math:`b` (:func:`teacher_busy_share`).
    availability : float
        :math:`\nu \in [0, 1]`.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> float(effective_supervision(0.5, 0.4, 0.5))
    0.4
    """
    return supervision * (1.0 - availability * np.asarray(busy, dtype=float))


def instruction_quality(
    teacher: ArrayLike, school: ArrayLike, teacher_sd: float, school_sd: float
) -> Array:
    r"""Effectiveness of a classroom's instruction: its teacher's and its school's.

    .. math:: q = \exp\!\left(\sigma_T z_T + \sigma_S z_S
              - \tfrac{1}{2}(\sigma_T^2 + \sigma_S^2)\right)

    a log-normal multiplier with mean 1 over classrooms, from the teacher's standard-normal
    effectiveness :math:`z_T` (drawn per classroom and school year) and the school's
    :math:`z_S` (shared by the classrooms of a school). Teachers and schools differ in how much
    their students learn in a year beyond what the students bring (value-added studies: an SD of
    teacher effects of about 0.1-0.2 student SD a year; Hanushek & Rivkin 2010). :math:`q`
    multiplies what the teacher directs: direct instruction, and the system-directed share of
    independent work (:func:`toolkit.model.shared.form_instruction`).

    Parameters
    ----------
    teacher, school : array_like
        :math:`z_T, z_S`.
    teacher_sd, school_sd : float
        :math:`\sigma_T` (``teacher_effect_sd``), :math:`\sigma_S` (``school_effect_sd``).

    Returns
    -------
    ndarray
        :math:`q > 0` (exactly 1 with both SDs 0).

    Examples
    --------
    >>> float(instruction_quality(1.5, -0.3, 0.0, 0.0))
    1.0
    >>> round(float(instruction_quality(1.0, 0.0, 0.3, 0.0)), 4)
    1.2905
    """
    x = teacher_sd * np.asarray(teacher, dtype=float) + school_sd * np.asarray(school, dtype=float)
    return np.exp(x - 0.5 * (teacher_sd * teacher_sd + school_sd * school_sd))


def expectation_factor(group_level: ArrayLike, class_level: ArrayLike, strength: float) -> Array:
    r"""Pace and expectations of a group's instruction, relative to the class.

    .. math:: x_g = \exp\!\big(\eta\,(\bar{\hat S}_g - \bar{\hat S}_{class})\big)

    Groups seen as behind the class are taught with lower expectations and at a slower pace,
    groups seen as ahead get enrichment and a faster pace (Gamoran 1986; Oakes 1985):
    :math:`\eta` (``group_expectation``) per SD between the group's estimated core level and the
    class's, at the time the groups are formed. One group (the whole class) gets 1; groups of
    mixed ability get about 1.

    Parameters
    ----------
    group_level, class_level : array_like
        The system's estimates of the group's and the class's mean core level.
    strength : float
        :math:`\eta \ge 0`.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> round(float(expectation_factor(-0.8, 0.0, 0.15)), 4)
    0.8869
    """
    diff = np.asarray(group_level, dtype=float) - np.asarray(class_level, dtype=float)
    return np.exp(strength * diff)


def cooperation_factor(group_size: ArrayLike, strength: float, size: float) -> Array:
    r"""Gain from working with one's small group while the teacher teaches another.

    .. math:: c(n) = 1 + \kappa_c\, [n \ge 2]\,
              \exp\!\left(-\frac{\max(0, n - m)}{m}\right)

    Students who share an instructional group work together during independent work: they
    explain, check and question each other (cooperative small-group learning; Lou et al. 1996
    found small-group work better than whole-class instruction, by about 0.17 SD, and groups of
    three or four best). :math:`\kappa_c` (``cooperative_learning``) is the gain in the efficacy
    of independent work in a group of at most :math:`m` (``cooperative_group_size``) students;
    larger groups coordinate worse, and a whole class working on its own gets almost nothing.

    Parameters
    ----------
    group_size : array_like
        :math:`n`, students in the instructional group.
    strength : float
        :math:`\kappa_c \ge 0`.
    size : float
        :math:`m > 0`.

    Returns
    -------
    ndarray
        :math:`c \ge 1` (exactly 1 with :math:`\kappa_c = 0`).

    References
    ----------
    .. [8] Lou, Y., Abrami, P. C., Spence, J. C., Poulsen, C., Chambers, B., & d'Apollonia, S.
       (1996). Within-class grouping: a meta-analysis. *Review of Educational Research*,
       66(4), 423-458. https://doi.org/10.3102/00346543066004423

    Examples
    --------
    >>> [round(float(cooperation_factor(n, 0.3, 4.0)), 4) for n in (1, 3, 7, 21)]
    [1.0, 1.3, 1.1417, 1.0043]
    """
    n = np.asarray(group_size, dtype=float)
    together = np.where(n >= 2.0, np.exp(-np.maximum(0.0, n - size) / size), 0.0)
    return 1.0 + strength * together


def strategy_factor(self_regulation: ArrayLike, strength: float) -> Array:
    r"""Efficiency of learning from the strategies a self-regulated learner uses.

    .. math:: \gamma_i = 1 + \kappa_R R_i

    Self-regulated learners plan, monitor and use better learning strategies, so every minute
    of instruction and practice teaches them more, not only more of their minutes are on task:
    training in self-regulated learning raises achievement substantially in primary and
    secondary school (Dignath & Büttner 2008; Dignath, Büttner & Langfeldt 2008).
    :math:`\kappa_R` (``strategy_use``) is the gain of a fully self-regulated learner over one
    with none.

    Parameters
    ----------
    self_regulation : array_like
        :math:`R \in [0, 1]`.
    strength : float
        :math:`\kappa_R \ge 0`.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> float(strategy_factor(0.4, 0.5))
    1.2
    """
    return 1.0 + strength * np.asarray(self_regulation, dtype=float)


def on_task(
    engagement: ArrayLike,
    self_regulation: ArrayLike,
    autonomy: float,
    supervision: ArrayLike,
    self_direction_cost: float,
) -> Array:
    r"""Share of independent-work time spent on the work itself.

    Independent work goes off task when the student is disengaged and nothing regulates the
    work: their own self-regulation for the part they direct, the system's structure
    (``supervision``) for the part it directs. Directing one's own work also costs the
    learner time to choose and plan it, less as self-regulation grows (autonomy alone does not
    ensure quality learning, seed 004):

    .. math:: \phi = \left[1 - (1 - E)\big(a (1 - R) + (1 - a)(1 - \sigma)\big)\right]
              \big(1 - a\, c_L (1 - R)\big)

    with engagement :math:`E`, self-regulation :math:`R`, autonomy :math:`a`, supervision
    :math:`\sigma` and the learner's planning cost :math:`c_L` (``self_direction_cost``).

    Parameters
    ----------
    engagement, self_regulation : array_like
        :math:`E, R \in [0, 1]`.
    autonomy : float
        :math:`a \in [0, 1]`.
    supervision : array_like
        :math:`\sigma \in [0, 1]` (the classroom's, :func:`effective_supervision`).
    self_direction_cost : float
        :math:`c_L \in [0, 1]`.

    Returns
    -------
    ndarray
        :math:`\phi \in [0, 1]`.

    Examples
    --------
    >>> round(float(on_task(0.5, 0.0, 0.0, 0.5, 0.1)), 4)  # system-directed
    0.75
    >>> round(float(on_task(0.5, 0.0, 1.0, 0.5, 0.1)), 4)  # self-directed novice
    0.45
    >>> float(on_task(0.5, 1.0, 1.0, 0.5, 0.1))  # self-directed expert
    1.0
    """
    e = np.asarray(engagement, dtype=float)
    r = np.asarray(self_regulation, dtype=float)
    unregulated = autonomy * (1.0 - r) + (1.0 - autonomy) * (1.0 - supervision)
    return (1.0 - (1.0 - e) * unregulated) * (1.0 - autonomy * self_direction_cost * (1.0 - r))


def disruption_factor(disengagement_of_others: ArrayLike, strength: float) -> Array:
    r"""Share of instruction not lost to disruption by the others present.

    After Lazear's (2001) model of class size, instruction reaches a student only while no one
    disrupts; each other student :math:`j` disrupts with propensity
    :math:`\delta (1 - E_j)`, so that

    .. math:: D_i = \prod_{j \ne i} \big(1 - \delta(1 - E_j)\big)
              \approx \exp\!\Big(-\delta \sum_{j \ne i} (1 - E_j)\Big)

    (the exponential form, used here, is exact for small :math:`\delta`). Larger groups and
    groups that gather disengaged students lose more: peers can harm [5]_.

    Parameters
    ----------
    disengagement_of_others : array_like
        :math:`\sum_{j \ne i} (1 - E_j)` over the others sharing the activity.
    strength : float
        :math:`\delta` (``disruption``).

    Returns
    -------
    ndarray
        :math:`D \in (0, 1]`.

    References
    ----------
    .. [5] Lazear, E. P. (2001). Educational production. *The Quarterly Journal of Economics*,
       116(3), 777-803.

    Examples
    --------
    >>> round(float(disruption_factor(9.0, 0.01)), 4)
    0.9139
    """
    return np.exp(-strength * np.asarray(disengagement_of_others, dtype=float))


def room_disengagement(
    group_disengagement: ArrayLike, class_disengagement: ArrayLike, weight: float
) -> Array:
    r"""Disengagement that reaches a group's direct instruction from everyone in the room.

    .. math:: \Delta^{dir}_i = \Delta^g_i + w_o\,(\Delta^{class}_i - \Delta^g_i)

    with :math:`\Delta^g_i = \sum_{j \in g(i), j \ne i}(1 - E_j)` the others in the student's
    group and :math:`\Delta^{class}_i` everyone else in the class. The group being taught shares
    the room with the classmates doing independent work; in Lazear's (2001) account anyone
    present can disrupt (:math:`w_o = 1`, ``room_disruption``); :math:`w_o = 0` counts only
    the group.

    Examples
    --------
    >>> float(room_disengagement(1.0, 3.0, 0.5))
    2.0
    """
    g = np.asarray(group_disengagement, dtype=float)
    return g + weight * (np.asarray(class_disengagement, dtype=float) - g)


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
) -> Array:
    r"""Skill gained from more skilled peers in one's network.

    .. math::
        \Delta S^{peer}_{id} = \eta \, A_{id} \, E_i \,
        \frac{\sum_k w_{ik} \min(\pi_{id}, \pi_{kd}) \, h(S_{kd} - S_{id})}{\sum_k w_{ik}},
        \qquad h(g) = g^+ e^{-g^+ / \gamma}

    Only peers who are *ahead* help (:math:`g^+ = \max(g, 0)`), help peaks at a gap of
    :math:`\gamma` (``peer_gap_scale``) because peers far ahead explain less well, and a pair
    learns together only in the time both spend on the same domain,
    :math:`\min(\pi_{id}, \pi_{kd})`. So networks that cluster by interest share more time,
    and ability-sorted networks give low achievers few peers ahead of them [4]_. The time for
    working with peers is the same in every regime: it does not grow with the length of
    independent work.

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
    return strength * np.asarray(aptitude) * e * mean_help


def system_allocation(
    estimate: ArrayLike,
    interest_estimate: ArrayLike,
    curriculum: ArrayLike,
    core_mask: ArrayLike,
    standard: ArrayLike,
    remediation: float,
    tailoring: float,
) -> Array:
    r"""Time shares over domains planned by the system for each student (the destination).

    Tailoring to strengths and interests (strength model, :math:`\theta` =
    ``strength_tailoring``) reweights every domain:

    .. math::
        \pi^0_{id} = \operatorname{softmax}_d\Big(\log c_d
            + \theta \left[(\hat S_{id} - \bar{\hat S}_{i\cdot}) + \hat I_{id}\right]\Big)

    Remediation (deficit model, :math:`\rho` = ``remediation``) then moves time between the
    core (tested) domains and the rest by the student's estimated gap to the grade standard
    :math:`\sigma` (on the logit of the core share :math:`k`, so that students behind get more
    core time and students ahead less, and a class whose gaps are symmetric keeps its core
    share on average), and within the core towards the domains furthest behind:

    .. math::
        k_i = \operatorname{logistic}\!\Big(\operatorname{logit} k^0_i
              + \rho\,(\sigma - \bar{\hat S}^{core}_i)\Big),\qquad
        \pi_{id} = \begin{cases}
            k_i\, \dfrac{\pi^0_{id}\, e^{\rho(\sigma - \hat S_{id})}}
                       {\sum_{d' \in core} \pi^0_{id'}\, e^{\rho(\sigma - \hat S_{id'})}}
                & d \in core \\[2ex]
            (1 - k_i)\, \dfrac{\pi^0_{id}}{1 - k^0_i} & d \notin core
        \end{cases}

    with :math:`k^0_i = \sum_{d \in core} \pi^0_{id}`. Both move time within the same day, both
    ways. :math:`c_d` is the standard curriculum; with :math:`\rho = \theta = 0` everyone gets
    it. Limits on core time are the school's, applied to everyone's time whoever plans it
    (:func:`apply_core_limits`).

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
        :math:`\sigma_d`, where a student "should" be today (the same for every domain).
    remediation, tailoring : float
        :math:`\rho, \theta \ge 0`.

    Returns
    -------
    ndarray, shape (..., D)
        Shares summing to 1.

    Examples
    --------
    >>> pi = system_allocation([[0.0, 0.0]], [[0.0, 0.0]], [0.7, 0.3], [True, False],
    ...                        [0.0, 0.0], 0.0, 0.0)
    >>> pi.round(3).tolist()
    [[0.7, 0.3]]
    >>> est = [[1.0, 0.0], [-1.0, 0.0]]  # one student ahead of the standard, one behind
    >>> pi = system_allocation(est, np.zeros((2, 2)), [0.5, 0.5], [True, False],
    ...                        [0.0, 0.0], 1.0, 0.0)
    >>> pi[:, 0].round(3).tolist(), float(pi[:, 0].mean().round(12))
    ([0.269, 0.731], 0.5)
    """
    est = np.asarray(estimate, dtype=float)
    core = np.asarray(core_mask, dtype=bool)
    logw = np.log(np.asarray(curriculum, dtype=float)) + np.zeros_like(est)
    if tailoring:
        strength = est - est.mean(axis=-1, keepdims=True)
        logw = logw + tailoring * (strength + np.asarray(interest_estimate, dtype=float))
    pi = softmax(logw)
    if not remediation or not core.any():
        return pi
    gap = np.asarray(standard, dtype=float) - est
    within = np.where(core, pi * np.exp(remediation * gap), 0.0)
    within = within / within.sum(axis=-1, keepdims=True)
    if core.all():
        return within
    k0 = (pi * core).sum(axis=-1, keepdims=True)
    core_gap = gap[..., core].mean(axis=-1, keepdims=True)
    k = logistic(np.log(k0) - np.log(1.0 - k0) + remediation * core_gap)
    return np.where(core, k * within, pi * ((1.0 - k) / (1.0 - k0)))


def apply_core_limits(
    allocation: ArrayLike, core_mask: ArrayLike, floor: float, ceiling: float
) -> Array:
    r"""Keep the share of time on core (tested) domains within the school's limits.

    If the core share :math:`k = \sum_{d \in core} \pi_d` is below the floor :math:`\phi_c`
    (``core_floor``), core domains are scaled up to it and the others down; above the ceiling
    :math:`\bar\phi_c` (``core_ceiling``), the reverse; both proportionally, so that the shares
    still sum to 1:

    .. math:: \pi'_d = \pi_d \cdot \begin{cases}
              k^* / k & d \in core \\ (1 - k^*) / (1 - k) & d \notin core \end{cases},
              \qquad k^* = \min(\max(k, \phi_c), \bar\phi_c)

    The limits are school policy and apply the same way to every student's time in every
    regime, whoever planned it (the system, the learner, or both).

    Parameters
    ----------
    allocation : array_like, shape (..., D)
    core_mask : array_like of bool, shape (D,)
    floor, ceiling : float
        :math:`0 \le \phi_c \le \bar\phi_c \le 1`.

    Returns
    -------
    ndarray, shape (..., D)

    Examples
    --------
    >>> apply_core_limits([[0.2, 0.8]], [True, False], 0.5, 1.0).tolist()
    [[0.5, 0.5]]
    >>> apply_core_limits([[0.9, 0.1]], [True, False], 0.0, 0.6).round(6).tolist()
    [[0.6, 0.4]]
    """
    pi = np.asarray(allocation, dtype=float)
    core = np.asarray(core_mask, dtype=bool)
    if not (core.any() and (~core).any()) or (floor <= 0.0 and ceiling >= 1.0):
        return pi
    share = (pi * core).sum(axis=-1, keepdims=True)
    target = np.minimum(np.maximum(share, floor), ceiling)
    scale_core = np.where(share != target, target / np.maximum(share, 1e-12), 1.0)
    scale_rest = np.where(share != target, (1 - target) / np.maximum(1 - share, 1e-12), 1.0)
    return pi * np.where(core, scale_core, scale_rest)


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


def self_assessment(
    skill: ArrayLike,
    self_regulation: ArrayLike,
    calibration: ArrayLike,
    noise: ArrayLike,
    bias_sd: float,
    noise_sd: float,
) -> Array:
    r"""Return a learner's sense of their own level in each domain.

    .. math:: \tilde S_{id} = S_{id} + (1 - R_i)\left(\sigma_b\, v_{id}
              + \sigma_c\, \varepsilon_{id}\right)

    Learners, like the system (:func:`update_estimate`), see their level imperfectly: a
    persistent, person-level misjudgement :math:`\sigma_b v_{id}` (calibration bias,
    ``self_assessment_bias``; :math:`v` drawn once per student and domain) and a daily error
    :math:`\sigma_c \varepsilon` (``choice_noise``), both shrinking as self-regulation
    :math:`R` grows. Students' self-assessments are less accurate than teachers' judgements
    [7]_.

    Parameters
    ----------
    skill : array_like, shape (..., D)
    self_regulation : array_like, shape (...,)
    calibration : array_like, shape (..., D)
        :math:`v`, standard normal, fixed per student.
    noise : array_like, shape (..., D)
        :math:`\varepsilon`, today's standard normal draws.
    bias_sd, noise_sd : float
        :math:`\sigma_b, \sigma_c \ge 0`.

    Returns
    -------
    ndarray, shape (..., D)

    References
    ----------
    .. [7] Falchikov, N., & Boud, D. (1989). Student self-assessment in higher education: a
       meta-analysis. *Review of Educational Research*, 59(4), 395-430.

    Examples
    --------
    >>> self_assessment([0.0], 1.0, [2.0], [1.0], 0.65, 0.8).tolist()
    [0.0]
    >>> self_assessment([0.0], 0.5, [2.0], [0.0], 0.65, 0.8).tolist()
    [0.65]
    """
    r = np.asarray(self_regulation, dtype=float)[..., None]
    err = bias_sd * np.asarray(calibration, dtype=float) + noise_sd * np.asarray(noise, dtype=float)
    return np.asarray(skill, dtype=float) + (1.0 - r) * err


def chosen_level(
    self_estimate: ArrayLike,
    self_regulation: ArrayLike,
    optimum: float,
    bias: float,
) -> Array:
    r"""Level of work a learner chooses for themself.

    .. math:: L^{learn}_{id} = \tilde S_{id} + \delta^* + (1 - R_i)\, b

    The learner aims at the optimal challenge above their own sense of their level
    :math:`\tilde S` (:func:`self_assessment`); a novice also leans towards easy work
    (:math:`b`, ``choice_bias``, negative = too easy) [3]_.

    Parameters
    ----------
    self_estimate : array_like, shape (..., D)
        :math:`\tilde S`.
    self_regulation : array_like, shape (...,)
    optimum, bias : float

    Returns
    -------
    ndarray, shape (..., D)

    References
    ----------
    .. [3] Zimmerman, B. J. (2002). Becoming a self-regulated learner. *Theory Into Practice*,
       41(2), 64-70.

    Examples
    --------
    >>> chosen_level([0.0], 1.0, 0.3, -0.4).tolist()
    [0.3]
    >>> chosen_level([0.0], 0.0, 0.3, -0.4).round(6).tolist()
    [-0.1]
    """
    r = np.asarray(self_regulation, dtype=float)[..., None]
    return np.asarray(self_estimate, dtype=float) + optimum + (1.0 - r) * bias


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


def update_interest(
    interest: ArrayLike,
    time_share: ArrayLike,
    experience: ArrayLike,
    autonomy: float,
    rate: float,
    threshold: float,
    autonomy_weight: float,
    saturation: float,
) -> Array:
    r"""Interests change with experience: what one does, how well it goes, and who chose it.

    .. math:: I_{t+1, d} = I_{t,d} + \kappa_I\,(D\, t_d)\,(q_d - q_0)\,(1 + w_a a)
              \Big/ \left(1 + (I_{t,d} / I_s)^2\right)

    Time :math:`t_d` spent in domain :math:`d` (relative to an even split over :math:`D`
    domains) with a good experience :math:`q_d = E f_d` (engaged, well-fitted work) above the
    threshold :math:`q_0` deepens interest; frustrating or boring work lowers it (Hidi &
    Renninger's [6]_ phases: interest is triggered and maintained by supported, engaged
    activity, and fades without it; expectancy-value: success raises intrinsic value). Work the
    learner chose changes interest more (:math:`w_a`, internalization, with autonomy
    :math:`a`), and well-developed interests (:math:`|I| \gg I_s`) change slowly. With
    :math:`\kappa_I = 0` (``interest_rate``) interests never change.

    Parameters
    ----------
    interest : array_like, shape (..., D)
    time_share : array_like, shape (..., D)
        :math:`t_d`, today's share of time in each domain.
    experience : array_like, shape (..., D)
        :math:`q_d = E f_d`.
    autonomy : float
    rate, threshold, autonomy_weight, saturation : float
        :math:`\kappa_I, q_0, w_a, I_s`.

    Returns
    -------
    ndarray, shape (..., D)

    References
    ----------
    .. [6] Hidi, S., & Renninger, K. A. (2006). The four-phase model of interest development.
       *Educational Psychologist*, 41(2), 111-127.

    Examples
    --------
    >>> update_interest([0.0, 0.0], [0.5, 0.5], [0.9, 0.1], 0.0, 0.01, 0.5, 1.0, 2.0).round(4)
    array([ 0.004, -0.004])
    """
    i = np.asarray(interest, dtype=float)
    if not rate:
        return i
    t = np.asarray(time_share, dtype=float)
    d = t.shape[-1]
    scale = rate * (1.0 + autonomy_weight * autonomy)
    return i + scale * (d * t) * (np.asarray(experience) - threshold) / (
        1.0 + (i / saturation) ** 2
    )


def portfolio_score(skill: ArrayLike, interest: ArrayLike, sharpness: float) -> Array:
    r"""Attainment in the domains a learner would choose: a portfolio measure.

    .. math:: P_i = \sum_d w_{id} S_{id},
              \qquad w_{i\cdot} = \operatorname{softmax}(\beta I_{i\cdot})

    The student's skills weighted by how strongly they would choose each domain
    (``choice_sharpness`` :math:`\beta` on their own interests :math:`I`): what a portfolio of
    self-chosen work would show, beside the standardized test, which sees only the core.

    Examples
    --------
    >>> float(portfolio_score([1.0, 3.0], [0.0, 0.0], 1.5))
    2.0
    """
    w = softmax(sharpness * np.asarray(interest, dtype=float))
    return (w * np.asarray(skill, dtype=float)).sum(axis=-1)


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
        System-planned time shares :math:`\pi^{sys}` (before the school's limits on core time).
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
    adaptation: float,
    individualization: float,
    optimum: float,
) -> SystemPlan:
    r"""Plan a day for the system: time shares, group levels and practice levels.

    Levels blend one level for the class (adaptation :math:`\alpha = 0`) with a level set from
    the estimate of the group (direct instruction) or, for independent work, of the group or
    the student (individualization :math:`\iota`):

    .. math::
        L^{dir}_{id} = \delta^* + (1 - \alpha)\bar{\hat S}_{\cdot d}
                      + \alpha \bar{\hat S}_{g(i) d},\qquad
        L^{prac,sys}_{id} = \delta^* + (1 - \alpha)\bar{\hat S}_{\cdot d}
                      + \alpha \left[(1 - \iota)\bar{\hat S}_{g(i) d} + \iota \hat S_{id}\right]

    Parameters
    ----------
    estimate, interest_estimate : ndarray, shape (..., N, D)
    groups : ndarray of int, shape (..., N)
    n_groups : int
    curriculum, core_mask, standard : ndarray, shape (D,)
    remediation, tailoring : float
        Destination axes, see :func:`system_allocation`.
    adaptation, individualization : float
        :math:`\alpha`, :math:`\iota`: the ``path_adaptation`` and ``practice_individualization``
        axes.
    optimum : float
        :math:`\delta^*`.

    Returns
    -------
    SystemPlan
    """
    allocation = system_allocation(
        estimate, interest_estimate, curriculum, core_mask, standard, remediation, tailoring
    )
    class_mean = estimate.mean(axis=-2, keepdims=True)
    if adaptation:
        gmeans, _ = group_mean(estimate, groups, n_groups)
        own_group = np.take_along_axis(gmeans, groups[..., None], axis=-2)
        base = optimum + (1 - adaptation) * class_mean
        direct = base + adaptation * own_group
        practice = base + adaptation * (
            (1 - individualization) * own_group + individualization * estimate
        )
    else:
        direct = practice = np.broadcast_to(optimum + class_mean, estimate.shape)
    return SystemPlan(allocation, direct, practice)


def student_choose(
    system_alloc: Array,
    system_practice_level: Array,
    skill: Array,
    interest: Array,
    self_regulation: Array,
    calibration: Array,
    domain_noise: Array,
    level_noise: Array,
    core_mask: NDArray[np.bool_],
    *,
    goal_control: float,
    path_control: float,
    optimum: float,
    choice_bias: float,
    self_assessment_bias: float,
    choice_noise: float,
    choice_sharpness: float,
    choice_drift: float,
    core_floor: float,
    core_ceiling: float,
) -> tuple[Array, Array]:
    r"""Settle a student's day: the time shares and practice level they actually follow.

    .. math::
        \pi_{id} = \operatorname{limits}\big((1 - g)\,\pi^{sys}_{id} + g\,\pi^{learn}_{id}\big),
        \qquad
        L^{prac}_{id} = (1 - p)\,L^{prac,sys}_{id} + p\,L^{learn}_{id}

    with goal control :math:`g` and path control :math:`p` (the regime's learner-control axes),
    :math:`\pi^{learn}` from :func:`learner_allocation`, :math:`L^{learn}` from
    :func:`chosen_level` on the learner's own, imperfect sense of their level
    (:func:`self_assessment`), and the school's limits on core time applied to the time the
    student actually spends, whoever chose it (:func:`apply_core_limits`).

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
    alloc = apply_core_limits(alloc, core_mask, core_floor, core_ceiling)
    if path_control:
        own_sense = self_assessment(
            skill, self_regulation, calibration, level_noise, self_assessment_bias, choice_noise
        )
        own = chosen_level(own_sense, self_regulation, optimum, choice_bias)
        level = (1 - path_control) * system_practice_level + path_control * own
    else:
        level = system_practice_level
    return alloc, level


class Channels(NamedTuple):
    r"""The factors of a day's learning, one field per quantity (see :func:`compose_gain`).

    They are grouped into the channels of :data:`CHANNELS`, which the mechanism decomposition
    switches between two regimes (:mod:`toolkit.study.decompose`).

    Attributes
    ----------
    group_allocation, allocation : ndarray, shape (..., D)
        Time shares during direct instruction (the group's) and independent work (one's own).
    direct_fit, practice_fit : ndarray, shape (..., D)
        Challenge fit of direct instruction and of independent work.
    engagement : ndarray, shape (...,)
    peer : ndarray, shape (..., D)
        Learning from peers before engagement, :func:`peer_gain` with :math:`E = 1`.
    direct_disruption, independent_disruption : ndarray, shape (...,)
        :func:`disruption_factor` in the instructional group (direct instruction) and in the
        class (independent work in the shared room).
    cooperation : ndarray, shape (...,)
        :func:`cooperation_factor` of independent work in one's instructional group.
    on_task : ndarray, shape (...,)
        :func:`on_task` share of independent work.
    strategy : ndarray, shape (...,)
        :func:`strategy_factor`, the efficiency of a self-regulated learner's strategies.
    direct_time, direct_efficacy : ndarray, shape (...,)
        :math:`\tau` and the efficacy of the group's direct instruction :math:`\epsilon_g`
        (group size, expectations, the teacher's and school's effectiveness).
    practice_teacher : ndarray, shape (...,)
        How the teacher's and school's effectiveness reaches independent work (the share the
        system directs), :math:`1 + (1 - a)(q - 1)`.
    """

    group_allocation: Array
    allocation: Array
    direct_fit: Array
    practice_fit: Array
    engagement: Array
    peer: Array
    direct_disruption: Array
    independent_disruption: Array
    cooperation: Array
    on_task: Array
    strategy: Array
    direct_time: Array
    direct_efficacy: Array
    practice_teacher: Array


#: The channels through which a regime acts on learning, and the factors of :class:`Channels`
#: that make up each. Every factor belongs to exactly one channel.
CHANNELS: dict[str, tuple[str, ...]] = {
    "domain_time": ("group_allocation", "allocation"),
    "fit": ("direct_fit", "practice_fit"),
    "engagement": ("engagement",),
    "peers": ("peer", "direct_disruption", "independent_disruption", "cooperation"),
    "self_regulation": ("on_task", "strategy"),
    "teacher_time": ("direct_time", "direct_efficacy", "practice_teacher"),
}


def gain_terms(
    rate: float, aptitude: Array, practice_efficacy: float, channels: Channels
) -> list[tuple[Array, dict[str, Array]]]:
    r"""Split the learning equation into terms, each a product of one factor per channel.

    .. math::
        \Delta S_{id} = \underbrace{\lambda A_{id}\,\bar\pi_{gd}\, f^{dir}_{id}\, E_i\,
            D^g_i\, \gamma_i\, (\tau \epsilon_g)}_{\text{direct instruction}}
          + \underbrace{\lambda A_{id} \epsilon_p\, \pi_{id}\, f^{prac}_{id}\, E_i\,
            (D^p_i c_i)\, (\phi_i \gamma_i)\, ((1 - \tau) q^p)}_{\text{independent work}}
          + \underbrace{E_i\, \Delta S^{peer,0}_{id}}_{\text{peers}}

    Each term is a constant base times one factor from each channel it involves, in the order
    of :data:`CHANNELS` (time on domains, fit, engagement, peers, self-regulation, teacher
    time): time shares :math:`\bar\pi_g, \pi`, fits :math:`f`, engagement :math:`E`,
    disruption :math:`D`, cooperation in one's group :math:`c` and the peer term
    :math:`\Delta S^{peer,0}` (:func:`peer_gain` at :math:`E = 1`), time on task :math:`\phi`
    and the efficiency of one's strategies :math:`\gamma` (:func:`strategy_factor`), and
    direct-instruction time :math:`\tau` with its efficacy :math:`\epsilon_g` and the
    teacher's reach into independent work :math:`q^p`. A channel's factor that is a product of
    two quantities is formed first, then multiplied in. :func:`compose_gain` multiplies and adds
    them; the mechanism decomposition (:mod:`toolkit.study.decompose`) recombines the factors of two
    regimes channel by channel, with the same products in the same order.

    Parameters
    ----------
    rate : float
        :math:`\lambda` (``learning_rate``).
    aptitude : ndarray, shape (..., D)
    practice_efficacy : float
        :math:`\epsilon_p`.
    channels : Channels

    Returns
    -------
    list of (base, {channel: factor})
        One entry per term; factors broadcast against ``aptitude``.
    """
    c = channels
    e = np.asarray(c.engagement)[..., None]
    tau = np.asarray(c.direct_time)[..., None]
    apt = np.asarray(aptitude)
    strategy = np.asarray(c.strategy)[..., None]
    direct = {
        "domain_time": c.group_allocation,
        "fit": c.direct_fit,
        "engagement": e,
        "peers": np.asarray(c.direct_disruption)[..., None],
        "self_regulation": strategy,
        "teacher_time": tau * np.asarray(c.direct_efficacy)[..., None],
    }
    practice = {
        "domain_time": c.allocation,
        "fit": c.practice_fit,
        "engagement": e,
        "peers": (np.asarray(c.independent_disruption) * np.asarray(c.cooperation))[..., None],
        "self_regulation": (np.asarray(c.on_task) * np.asarray(c.strategy))[..., None],
        "teacher_time": (1.0 - tau) * np.asarray(c.practice_teacher)[..., None],
    }
    peers = {"engagement": e, "peers": c.peer}
    return [(rate * apt, direct), (rate * apt * practice_efficacy, practice), (1.0, peers)]


def compose_gain(
    rate: float, aptitude: Array, practice_efficacy: float, channels: Channels
) -> Array:
    r"""Compose the day's gain in every domain from its factors (the learning equation).

    :math:`\Delta S = \sum_{\text{terms}} \text{base} \prod_{\text{channels}} \text{factor}`
    with the terms and factors of :func:`gain_terms`, multiplied in the order of
    :data:`CHANNELS` and added in the order of the terms. :func:`student_learn` uses it for the
    day itself, and the mechanism decomposition recombines the same products, so the two never
    disagree.

    Parameters
    ----------
    rate : float
        :math:`\lambda` (``learning_rate``).
    aptitude : ndarray, shape (..., D)
    practice_efficacy : float
        :math:`\epsilon_p`.
    channels : Channels

    Returns
    -------
    ndarray, shape (..., D)
    """
    total = None
    for base, factors in gain_terms(rate, aptitude, practice_efficacy, channels):
        x = base
        for name in CHANNELS:
            if name in factors:
                x = x * factors[name]
        total = x if total is None else total + x
    return total


class DayOutcome(NamedTuple):
    """A student's state after one day, and what the day was like.

    Attributes
    ----------
    skill, interest : ndarray, shape (..., D)
    engagement, self_regulation : ndarray, shape (...,)
    fit : ndarray, shape (...,)
        Time-weighted challenge fit of the day's work.
    core_time : ndarray, shape (...,)
        Share of the day spent on core domains.
    peer : ndarray, shape (..., D)
        The part of the day's gain that came from peers.
    channels : Channels
        The factors of the day's gain (for the mechanism decomposition).
    """

    skill: Array
    engagement: Array
    self_regulation: Array
    interest: Array
    fit: Array
    core_time: Array
    peer: Array
    channels: Channels


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
    cooperation: Array,
    practice_teacher: Array,
    supervision: Array,
    group_disengagement: Array,
    peer_skill: Array,
    peer_alloc: Array,
    peer_weight: Array,
    class_disengagement: Array,
    engagement_noise: Array,
    core_mask: NDArray[np.bool_],
    *,
    autonomy: float,
    scaffolding: float,
    rate: float,
    optimum: float,
    width: float,
    practice_efficacy: float,
    self_direction_cost: float,
    strategy_use: float,
    disruption: float,
    room_disruption: float,
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
    interest_rate: float,
    interest_threshold: float,
    interest_autonomy_weight: float,
    interest_saturation: float,
) -> DayOutcome:
    r"""One day of learning for one student (or, on arrays, for every student at once).

    Time: direct instruction :math:`\tau` with the group, following the group's time shares
    :math:`\bar\pi_{g(i)}`; independent work :math:`1 - \tau` following the student's own
    shares :math:`\pi_i`. The gain in domain :math:`d` is :func:`compose_gain` of

    - fits :math:`f = ` :func:`zpd_fit` of each level against today's skill;
    - time on task :math:`\phi = ` :func:`on_task` (engagement, self-regulation, and the
      classroom's ``supervision``, :func:`effective_supervision`), and the efficiency of the
      learner's strategies :func:`strategy_factor`;
    - disruption :math:`D = ` :func:`disruption_factor` from the disengagement of the others in
      the room: the instructional group and, weighted by ``room_disruption``, the classmates
      working on their own (:func:`room_disengagement`, during direct instruction), and the
      whole class (``class_disengagement``, during independent work in the shared room);
    - cooperation in one's instructional group during independent work (``cooperation``,
      :func:`cooperation_factor`), the efficacy of direct instruction (``direct_efficacy``:
      group size, expectations, the teacher's and school's effectiveness) and the teacher's
      reach into independent work (``practice_teacher``), all set when groups are formed
      (:func:`toolkit.model.shared.form_instruction`);
    - learning from peers :func:`peer_gain`;

    minus optional forgetting :math:`\omega (1 - t_{id})(S_{id} - S^0_{id})` in domains given
    little time :math:`t_{id}`. Engagement then moves towards :func:`engagement_target`,
    self-regulation grows by :func:`update_self_regulation`, and interests change with the
    day's experience (:func:`update_interest`). Peers' skills and engagement are those at the
    start of the day (synchronous update), so the order in which students act does not matter.

    Returns
    -------
    DayOutcome
    """
    fit_dir = zpd_fit(direct_level - skill, optimum, width)
    fit_prac = zpd_fit(practice_level - skill, optimum, width)
    phi = on_task(engagement, self_regulation, autonomy, supervision, self_direction_cost)
    strategy = strategy_factor(self_regulation, strategy_use)
    peer0 = peer_gain(
        skill,
        peer_skill,
        allocation,
        peer_alloc,
        peer_weight,
        peer_strength,
        peer_gap_scale,
        aptitude,
    )
    channels = Channels(
        group_allocation,
        allocation,
        fit_dir,
        fit_prac,
        engagement,
        peer0,
        disruption_factor(
            room_disengagement(group_disengagement, class_disengagement, room_disruption),
            disruption,
        ),
        disruption_factor(class_disengagement, disruption),
        cooperation,
        phi,
        strategy,
        direct_time,
        direct_efficacy,
        practice_teacher,
    )
    gain = compose_gain(rate, aptitude, practice_efficacy, channels)
    tau = direct_time[..., None]
    t_dir = tau * group_allocation
    t_prac = (1.0 - tau) * allocation
    t_total = t_dir + t_prac
    new_skill = skill + gain
    if forgetting:
        new_skill = new_skill - forgetting * (1.0 - t_total) * (skill - start_skill)
    weighted_fit = t_dir * fit_dir + t_prac * fit_prac
    fit = weighted_fit.sum(axis=-1)
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
    experience = engagement[..., None] * (weighted_fit / np.maximum(t_total, 1e-12))
    new_i = update_interest(
        interest,
        t_total,
        experience,
        autonomy,
        interest_rate,
        interest_threshold,
        interest_autonomy_weight,
        interest_saturation,
    )
    core_time = t_total[..., core_mask].sum(axis=-1)
    peer = engagement[..., None] * peer0
    return DayOutcome(new_skill, new_e, new_r, new_i, fit, core_time, peer, channels)
