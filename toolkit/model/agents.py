"""Mesa agents of the classroom model: students and the teacher (who stands for the system).

Agents hold their own state and call the mechanism functions of
:mod:`toolkit.model.mechanisms` on their own rows; the model only sequences them (see
:class:`toolkit.model.model.ClassroomModel` for the activation order).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from toolkit.model import mechanisms as mech
from toolkit.model import shared

if TYPE_CHECKING:
    from toolkit.model.model import ClassroomModel

__all__ = ["Student", "Teacher"]


class Student(mesa.Agent):
    """A student: skills, aptitudes and interests per domain, engagement and self-regulation.

    Attributes
    ----------
    index : int
        Position in the class (row of the day's random draws and of the teacher's arrays).
    skill, start_skill, aptitude : ndarray, shape (D,)
    interest : ndarray, shape (D,)
        The student's own interests; they change with experience
        (:func:`toolkit.model.mechanisms.update_interest`).
    calibration : ndarray, shape (D,)
        The student's persistent misjudgement of their own level (standard normal draws).
    engagement, self_regulation : float
    peers : list of Student
        The students this one learns from (this year's network).
    allocation, practice_level : ndarray, shape (D,)
        Today's time shares and level of independent work (set in :meth:`choose`).
    """

    def __init__(
        self,
        model: ClassroomModel,
        index: int,
        skill: np.ndarray,
        aptitude: np.ndarray,
        interest: np.ndarray,
        self_regulation: float,
        engagement: float,
        calibration: np.ndarray,
    ) -> None:
        super().__init__(model)
        self.index = index
        self.skill = np.array(skill, dtype=float)
        self.start_skill = self.skill.copy()
        self.aptitude = np.array(aptitude, dtype=float)
        self.interest = np.array(interest, dtype=float)
        self.calibration = np.array(calibration, dtype=float)
        self.self_regulation = float(self_regulation)
        self.engagement = float(engagement)
        self.peers: list[Student] = []
        d = self.skill.shape[0]
        self.allocation = np.full(d, 1.0 / d)
        self.practice_level = self.skill.copy()
        self._next: mech.DayOutcome | None = None
        self.reset_year_totals()

    # -- bookkeeping -----------------------------------------------------------------------------
    def reset_year_totals(self) -> None:
        """Start this year's running sums (engagement, fit, time on task, core time, peer gain)."""
        self.start_skill = self.skill.copy()
        self.self_regulation_start = self.self_regulation
        self.sum_engagement = 0.0
        self.sum_fit = 0.0
        self.sum_on_task = 0.0
        self.sum_core_time = 0.0
        self.sum_peer_gain = 0.0
        self.days = 0
        self.last_fit = float("nan")

    @property
    def focus_domain(self) -> int:
        """Index of the domain the student spends most time on today."""
        return int(np.argmax(self.allocation))

    # -- the day ---------------------------------------------------------------------------------
    def choose(self) -> None:
        """Decide today's time shares and independent-work level (system plan + own choices)."""
        m = self.model
        p = m.params
        plan = m.teacher.plan
        noise = m.today_noise[self.index]
        d = p.n_domains
        self.allocation, self.practice_level = mech.student_choose(
            plan.allocation[self.index],
            plan.practice_level[self.index],
            self.skill,
            self.interest,
            np.float64(self.self_regulation),
            self.calibration,
            noise[:d],
            noise[d : 2 * d],
            m.core_mask,
            **m.choose_kwargs,
        )

    def learn(self) -> None:
        """Compute tomorrow's state from today's work and peers' start-of-day skills."""
        m = self.model
        p, teacher = m.params, m.teacher
        d = p.n_domains
        if self.peers:
            peer_skill = np.stack([q.skill for q in self.peers])
            peer_alloc = np.stack([q.allocation for q in self.peers])
            peer_weight = np.ones(len(self.peers))
        else:
            peer_skill = peer_alloc = np.zeros((0, d))
            peer_weight = np.zeros(0)
        self._next = mech.student_learn(
            self.skill,
            self.start_skill,
            self.aptitude,
            self.interest,
            np.float64(self.engagement),
            np.float64(self.self_regulation),
            self.allocation,
            teacher.group_allocation[self.index],
            teacher.plan.direct_level[self.index],
            self.practice_level,
            np.float64(teacher.direct_time),
            np.float64(teacher.direct_efficacy[self.index]),
            np.float64(teacher.cooperation[self.index]),
            np.float64(teacher.practice_teacher[self.index]),
            np.float64(teacher.supervision[self.index]),
            np.float64(teacher.group_disengagement[self.index]),
            peer_skill,
            peer_alloc,
            peer_weight,
            np.float64(teacher.class_disengagement[self.index]),
            m.today_noise[self.index, 3 * d],
            m.core_mask,
            **m.learn_kwargs,
        )

    def commit(self) -> None:
        """Apply the state computed in :meth:`learn` (synchronous update) and add to totals."""
        nxt = self._next
        self.skill = nxt.skill
        self.interest = nxt.interest
        self.engagement = float(nxt.engagement)
        self.self_regulation = float(nxt.self_regulation)
        self.last_fit = float(nxt.fit)
        self.sum_engagement += self.engagement
        self.sum_fit += float(nxt.fit)
        self.sum_on_task += float(nxt.channels.on_task)
        self.sum_core_time += float(nxt.core_time)
        self.sum_peer_gain += float(nxt.peer.sum())
        self.days += 1
        self._next = None


class Teacher(mesa.Agent):
    """The teacher, standing for the system: its picture of each student, groups and plans.

    Attributes
    ----------
    estimate : ndarray, shape (N, D)
        The system's estimate of each student's skills (prior records, then daily quizzes).
    interest_estimate : ndarray, shape (N, D)
        The system's interest profile of each student (a noisy survey at the start of the year;
        it does not follow the students' interests as they change).
    profile : ndarray, shape (N, D)
        The interest profile groups and ties are formed on this year.
    groups : ndarray of int, shape (N,)
        Instructional group of each student.
    plan : mechanisms.SystemPlan
        Today's plan (time shares, direct-instruction and practice levels per student).
    group_allocation : ndarray, shape (N, D)
        Time shares of each student's group during direct instruction.
    group_disengagement, class_disengagement : ndarray, shape (N,)
        Disengagement of the others in each student's group, and in the class, this morning.
    direct_time : float
        Share of the lesson each group gets direct instruction.
    direct_efficacy : ndarray, shape (N,)
        Efficacy of direct instruction for each student's group (size, expectations, this
        year's instructional quality).
    cooperation, practice_teacher, supervision : ndarray, shape (N,)
        Cooperation in each student's group during independent work, the reach of the
        instructional quality into independent work, and the supervision of that work
        (:class:`toolkit.model.shared.Instruction`).
    overhead : float
        Teacher time per lesson spent on adapting the work (groups, individual levels, plans).
    """

    def __init__(self, model: ClassroomModel) -> None:
        super().__init__(model)
        n, d = model.params.n_students, model.params.n_domains
        self.estimate = np.zeros((n, d))
        self.interest_estimate = np.zeros((n, d))
        self.profile = np.zeros((n, d))
        self.groups = np.zeros(n, dtype=np.int64)
        self.group_allocation = np.zeros((n, d))
        self.group_disengagement = np.zeros(n)
        self.class_disengagement = np.zeros(n)
        self.direct_time = 0.0
        self.direct_efficacy = np.ones(n)
        self.cooperation = np.ones(n)
        self.practice_teacher = np.ones(n)
        self.supervision = np.ones(n)
        self.overhead = 0.0
        self.plan: mech.SystemPlan | None = None

    @property
    def n_groups(self) -> int:
        """Number of instructional groups this year (the regime's, at most the class size)."""
        return min(self.model.regime.n_groups, self.model.params.n_students)

    def start_year(self, start: shared.YearStart) -> None:
        """Take this year's picture of the class and its groups (:func:`shared.start_year`)."""
        self.estimate = start.estimate
        self.interest_estimate = start.interest_estimate
        self.profile = start.profile
        self.set_instruction(start.instruction)

    def core_estimate(self) -> np.ndarray:
        """Return the system's estimate of each student's core level (mean over core domains)."""
        return self.estimate[:, self.model.core_mask].mean(axis=1)

    def set_instruction(self, instruction: shared.Instruction) -> None:
        """Adopt instructional groups, their direct-instruction time and efficacy."""
        self.groups = instruction.groups
        self.direct_time = float(instruction.direct_time)
        self.direct_efficacy = instruction.direct_efficacy
        self.cooperation = instruction.cooperation
        self.practice_teacher = instruction.practice_teacher
        self.supervision = instruction.supervision
        self.overhead = float(instruction.overhead)

    def form_groups(self) -> None:
        """Re-form the instructional groups from the current estimates (regrouping)."""
        m = self.model
        self.set_instruction(
            shared.form_instruction(
                m.params,
                m.regime,
                self.estimate,
                self.profile,
                m.draws.tiebreak,
                m.core_mask,
                m.quality(),
            )
        )

    def plan_day(self) -> None:
        """Regroup if due, then plan today's time shares and levels for every student."""
        m = self.model
        p = m.params
        if p.regroup_interval and m.day > 0 and m.day % p.regroup_interval == 0:
            self.form_groups()
        self.plan = mech.system_plan(
            self.estimate,
            self.interest_estimate,
            self.groups,
            self.n_groups,
            m.curriculum,
            m.core_mask,
            np.full(p.n_domains, shared.grade_standard(p, m.year, m.day)),
            **m.plan_kwargs,
        )

    def gather(self) -> None:
        """Set each group's time shares from its members' choices; note its disengagement."""
        students = self.model.ordered_students
        alloc = np.stack([s.allocation for s in students])
        gmeans, _ = mech.group_mean(alloc, self.groups, self.n_groups)
        self.group_allocation = gmeans[self.groups]
        engagement = np.array([s.engagement for s in students])
        self.group_disengagement = shared.group_disengagement(
            engagement, self.groups, self.n_groups
        )
        self.class_disengagement = shared.class_disengagement(engagement)

    def observe(self) -> None:
        """Update the estimates from today's noisy formative observation."""
        m = self.model
        p = m.params
        d = p.n_domains
        skill = np.stack([s.skill for s in m.ordered_students])
        self.estimate = mech.update_estimate(
            self.estimate,
            skill,
            m.today_noise[:, 2 * d : 3 * d],
            m.draws.diagnostic,
            p.daily_pace,
            p.monitoring_rate,
            p.diagnostic_noise,
            p.judgement_bias,
        )
