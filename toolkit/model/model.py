"""The classroom model in Mesa: one class, one teacher, a school year of days per step.

Activation order within one step (one school day), written out explicitly because Mesa 3 has
no schedulers:

1. ``teacher.plan_day()``: regroup if due; plan every student's time shares and levels.
2. ``students.shuffle_do("choose")``: each student settles today's time shares and level of
   independent work (system plan blended with their own choices).
3. ``teacher.gather()``: each group's direct-instruction time shares follow its members.
4. ``students.shuffle_do("learn")``: each student computes tomorrow's skills, engagement and
   self-regulation from today's work and their peers' *start-of-day* skills.
5. ``students.do("commit")``: everyone applies the new state at once (synchronous update).
6. ``teacher.observe()``: the system updates its estimates from a noisy quiz.
7. The data collector records the class (if enabled).

Because updates are synchronous and every random number comes from the year's pre-drawn
streams (:func:`toolkit.model.cohort.draw_year`), the random activation order of steps 2 and
4 (Mesa's ``shuffle_do`` with ``model.random``) cannot change any result.

After the last day of a year the model gives the standardized test, records each student's
year, and (if more years are scheduled) starts the next: new test-based estimates, new groups,
a new network; students keep their skills, engagement and self-regulation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import mesa
import networkx as nx
import numpy as np
import pandas as pd

from toolkit.model import mechanisms as mech
from toolkit.model.agents import Student, Teacher
from toolkit.model.cohort import (
    Cohort,
    YearDraws,
    classroom_seed,
    draw_cohort,
    draw_year,
    mesa_stream,
)
from toolkit.model.params import ParameterError, Parameters
from toolkit.model.schedule import RegimeSpec, as_seed_sequence, resolve_schedule
from toolkit.model.shared import (
    STUDENT_COLUMNS,
    choose_kwargs,
    curriculum_weights,
    grade_standard,
    initial_engagement,
    learn_kwargs,
    plan_kwargs,
    start_year,
    year_table,
)

__all__ = ["ClassroomModel", "RegimeSpec", "as_seed_sequence", "resolve_schedule"]


class ClassroomModel(mesa.Model):
    """One classroom under a learning regime (or a schedule of regimes over school years).

    Parameters
    ----------
    regime : str, mapping, Regime or list of these
        A preset name (``"standardized"``, ``"individualized"``, ``"personalized"``,
        ``"personal"``), ``"blend(a, b, w)"``, a mapping of axes (with an optional ``base``), a
        :class:`~toolkit.model.regimes.Regime`, or a list with one of these per school year.
    params : Parameters or mapping, optional
        Model parameters (defaults: :class:`~toolkit.model.params.Parameters`).
    rng : int or SeedSequence, optional
        The classroom's one seed. Everything stochastic derives from it (see
        :mod:`toolkit.model.cohort`); ``None`` draws fresh entropy.
    n_years : int, optional
        School years to simulate (default: the length of the regime list, else 1).
    cohort : Cohort, optional
        Students to start from instead of drawing them (for example identical students, or a
        class built from real data). Shape (N, D) per field.
    collect : bool
        Record class-level series every day with Mesa's DataCollector (default True; studies
        switch it off for speed).

    Attributes
    ----------
    students : mesa.AgentSet
        The students (also ``ordered_students``, a list in index order).
    teacher : Teacher
    network : networkx.DiGraph
        This year's peer ties (student index -> peer index).
    year, day : int
        Current school year and day within it.
    records : list of dict
        One record per student per completed year (see :meth:`student_table`).

    Examples
    --------
    >>> m = ClassroomModel("personal", {"n_students": 10, "n_days": 5}, rng=1)
    >>> m.run()
    >>> m.student_table().shape[0]
    10
    """

    def __init__(
        self,
        regime: RegimeSpec | Sequence[RegimeSpec] = "standardized",
        params: Parameters | Mapping[str, Any] | None = None,
        *,
        rng: int | np.random.SeedSequence | None = None,
        n_years: int | None = None,
        cohort: Cohort | None = None,
        collect: bool = True,
    ) -> None:
        self.seed = as_seed_sequence(rng)
        super().__init__(rng=mesa_stream(self.seed))
        if params is None:
            params = Parameters()
        elif not isinstance(params, Parameters):
            params = Parameters.from_mapping(params)
        self.params = params
        self.schedule = resolve_schedule(regime, n_years)
        self.n_years = len(self.schedule)
        self.regime = self.schedule[0]
        if cohort is None:
            cohort = draw_cohort(params, self.seed)
        elif cohort.skill.shape != (params.n_students, params.n_domains):
            raise ParameterError(
                f"cohort: skills have shape {cohort.skill.shape}, but the parameters say "
                f"n_students = {params.n_students} and {params.n_domains} domains."
            )
        self.school_effect = float(cohort.school_effect)
        self.core_mask = np.array(params.core_mask)
        self.curriculum = curriculum_weights(params)
        self._set_regime_kwargs()
        e0 = initial_engagement(params)
        self.ordered_students: list[Student] = [
            Student(
                self,
                i,
                cohort.skill[i],
                cohort.aptitude[i],
                cohort.interest[i],
                cohort.self_regulation[i],
                e0,
                cohort.calibration[i],
            )
            for i in range(params.n_students)
        ]
        self.students = mesa.agent.AgentSet(self.ordered_students, random=self.random)
        self.teacher = Teacher(self)
        self.network = nx.DiGraph()
        self.year = 0
        self.day = 0
        self.records: list[pd.DataFrame] = []
        self.collect = collect
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "year": "year",
                "day": "day",
                "mean_core_skill": lambda m: float(m.core_skills().mean()),
                "sd_core_skill": lambda m: float(m.core_skills().std()),
                "mean_engagement": lambda m: float(
                    np.mean([s.engagement for s in m.ordered_students])
                ),
                "mean_self_regulation": lambda m: float(
                    np.mean([s.self_regulation for s in m.ordered_students])
                ),
            }
        )
        self._start_year()
        if self.collect:
            self.datacollector.collect(self)

    # -- helpers ----------------------------------------------------------------------------------
    def core_skills(self) -> np.ndarray:
        """Each student's true core skill (mean over core domains), shape (N,)."""
        return np.array([s.skill[self.core_mask].mean() for s in self.ordered_students])

    def standard(self) -> np.ndarray:
        """Return the grade standard per domain today (:func:`shared.grade_standard`)."""
        return np.full(self.params.n_domains, grade_standard(self.params, self.year, self.day))

    def _test(self, errors: np.ndarray) -> np.ndarray:
        skill = np.stack([s.skill for s in self.ordered_students])
        return mech.test_score(skill, self.core_mask, errors, self.params.test_error_sd)

    # -- years ------------------------------------------------------------------------------------
    def _start_year(self) -> None:
        p = self.params
        self.regime = self.schedule[self.year]
        self._set_regime_kwargs()
        self.draws: YearDraws = draw_year(p, self.seed, self.year)
        self.day = 0
        self.today_noise = self.draws.daily[0]
        for s in self.ordered_students:
            s.reset_year_totals()
        dr = self.draws
        start = start_year(
            p,
            self.regime,
            np.stack([s.skill for s in self.ordered_students]),
            np.stack([s.interest for s in self.ordered_students]),
            dr.pretest_error,
            dr.diagnostic,
            dr.profile,
            dr.gumbel,
            dr.tiebreak,
            self.core_mask,
            self.quality(),
        )
        self.prior_score = start.prior
        self.teacher.start_year(start)
        self._form_network(start.peers)

    def _form_network(self, peers: np.ndarray) -> None:
        p = self.params
        self.network = nx.DiGraph()
        self.network.add_nodes_from(range(p.n_students))
        for s in self.ordered_students:
            s.peers = [self.ordered_students[j] for j in peers[s.index]]
            self.network.add_edges_from((s.index, int(j)) for j in peers[s.index])

    def quality(self) -> float:
        """Return the class's instructional quality this year (``mechanisms.instruction_quality``).

        From the teacher of this school year (``draws.teacher``) and the school
        (``cohort.school_effect``).
        """
        p = self.params
        return float(
            mech.instruction_quality(
                self.draws.teacher, self.school_effect, p.teacher_effect_sd, p.school_effect_sd
            )
        )

    def _set_regime_kwargs(self) -> None:
        self.learn_kwargs = learn_kwargs(self.params, self.regime)
        self.choose_kwargs = choose_kwargs(self.params, self.regime)
        self.plan_kwargs = plan_kwargs(self.params, self.regime)

    def _end_year(self) -> None:
        students = self.ordered_students
        col = lambda attr: np.array([getattr(s, attr) for s in students])  # noqa: E731
        days = np.maximum(col("days"), 1)
        self.records.append(
            year_table(
                self.params,
                self.year,
                self.regime.name,
                self.teacher.groups,
                self.prior_score,
                self._test(self.draws.posttest_error),
                np.stack(col("start_skill")),
                np.stack(col("skill")),
                col("sum_engagement") / days,
                col("sum_fit") / days,
                col("sum_on_task") / days,
                col("sum_core_time") / days,
                col("sum_peer_gain"),
                col("self_regulation_start"),
                col("self_regulation"),
                np.stack(col("interest")),
            )
        )

    # -- the day ----------------------------------------------------------------------------------
    def step(self) -> None:
        """Simulate one school day (see the module docstring for the activation order)."""
        if not self.running:
            return
        self.today_noise = self.draws.daily[self.day]
        self.teacher.plan_day()
        self.students.shuffle_do("choose")
        self.teacher.gather()
        self.students.shuffle_do("learn")
        self.students.do("commit")
        self.teacher.observe()
        self.day += 1
        if self.day == self.params.n_days:
            self._end_year()
            if self.year + 1 < self.n_years:
                self.year += 1
                self._start_year()
            else:
                self.running = False
        if self.collect:
            self.datacollector.collect(self)

    def run(self) -> None:
        """Run every scheduled school year to the end."""
        while self.running:
            self.step()

    # -- results ----------------------------------------------------------------------------------
    def student_table(self) -> pd.DataFrame:
        """One row per student per completed school year.

        Returns
        -------
        pandas.DataFrame
            Columns: ``year, regime, student, group, prior_score, score, gain, core_start,
            core_end, total_learning, engagement, fit, on_task, core_time, peer_learning,
            self_regulation_start, self_regulation_end, portfolio, portfolio_gain``, then
            ``skill_<domain>`` (end of year), ``gain_<domain>`` and ``interest_<domain>`` (end
            of year) for every domain. ``score`` and ``prior_score`` are observed test scores
            (with measurement error); ``core_*`` are true core skills; ``fit``, ``engagement``,
            ``on_task`` and ``core_time`` are averages over the year's days; ``portfolio`` is
            attainment weighted by the student's own interests (what a portfolio of self-chosen
            work would show).
        """
        if not self.records:
            return pd.DataFrame(columns=list(STUDENT_COLUMNS))
        return pd.concat(self.records, ignore_index=True)


def simulate_classroom(
    regime: RegimeSpec | Sequence[RegimeSpec],
    params: Parameters,
    seed: np.random.SeedSequence,
    n_years: int | None = None,
) -> pd.DataFrame:
    """Run one classroom with the Mesa model and return its student table (no daily series)."""
    model = ClassroomModel(regime, params, rng=seed, n_years=n_years, collect=False)
    model.run()
    return model.student_table()


__all__ += ["classroom_seed", "simulate_classroom"]
