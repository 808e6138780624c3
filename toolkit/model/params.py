"""Model parameters: one frozen dataclass, each field with unit, range, default and source.

The regime (who sets the goal and the path, how peers form, how much scaffolding) lives in
:mod:`toolkit.model.regimes`; everything here describes the students, the school and the
mechanisms, and is shared by every regime. The ODD document (``docs/odd.md``) is generated
from the same metadata (see :func:`parameter_table`), so the two never disagree.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd

from toolkit._base.checks import suggest_name

__all__ = [
    "PLAUSIBLE",
    "ParameterError",
    "Parameters",
    "Plausible",
    "parameter_table",
    "plausible_ranges",
    "suggest_name",
]


class ParameterError(ValueError):
    """A parameter or regime setting is unknown, mistyped or out of range.

    The message names where the value came from (a file and table, or a keyword argument),
    the offending key, and what was expected.
    """


def _p(
    default: Any,
    lo: float | None,
    hi: float | None,
    unit: str,
    doc: str,
    source: str,
    group: str,
) -> Any:
    """Declare a documented parameter field (a dataclass field with metadata)."""
    return field(
        default=default,
        metadata={"lo": lo, "hi": hi, "unit": unit, "doc": doc, "source": source, "group": group},
    )


@dataclass(frozen=True)
class Parameters:
    """All non-regime parameters of the classroom model.

    Units: skills are on a standard-deviation scale of the cohort at the start of the year
    (mean 0, SD 1 per domain before the class effect); time is in school days, and each day's
    lesson time is 1. Every field carries its unit, allowed range, a description and the source
    of its default in ``dataclasses.fields(Parameters)[i].metadata``; :func:`parameter_table`
    renders them.

    Construct with keywords (``Parameters(n_students=30)``) or from a mapping with
    :meth:`from_mapping`, which reports unknown names with a suggestion. Values are checked on
    construction and a :class:`ParameterError` names the parameter and the allowed range.
    """

    # --- cohort -------------------------------------------------------------------------------
    n_students: int = _p(
        21,
        2,
        200,
        "students",
        "Students in one class (all taught by the class's teacher).",
        "NCES: about 21 students in US elementary self-contained classes (24-26 in "
        "departmentalized secondary classes); STAR regular classes had 22 to 25 "
        "(docs/calibration-sources.md).",
        "cohort",
    )
    n_days: int = _p(
        180,
        1,
        400,
        "days",
        "School days in one school year (one model step = one day).",
        "US statutory school year is about 180 days.",
        "cohort",
    )
    domains: tuple[str, ...] = _p(
        ("mathematics", "reading", "arts", "technology"),
        None,
        None,
        "names",
        "Skill domains. Each student has a skill, an aptitude and an interest in every domain.",
        "Modelling choice: two tested core subjects and two untested ones (brief).",
        "cohort",
    )
    core_domains: tuple[str, ...] = _p(
        ("mathematics", "reading"),
        None,
        None,
        "names",
        "Domains measured by the standardized test (a subset of `domains`).",
        "Brief: the standardized test measures the core domains only.",
        "cohort",
    )
    skill_correlation: float = _p(
        0.6,
        0.0,
        0.99,
        "correlation",
        "Correlation of starting skills between any two domains (a general factor).",
        "Assumption: no sourced value was found (docs/calibration-sources.md); 0.6 is at the "
        "low end of the 0.6-0.8 usually reported for mathematics and reading, keeping profiles "
        "jagged across the untested domains too.",
        "cohort",
    )
    class_icc: float = _p(
        0.2,
        0.0,
        0.9,
        "share of variance",
        "Share of the variance of starting skill that lies between classes (a class effect "
        "common to the class's students).",
        "Hedges & Hedberg (2007): between-school ICCs of about 0.20 (math) and 0.17 "
        "(reading) in state data, grades 3-8 (docs/calibration-sources.md).",
        "cohort",
    )
    classrooms_per_school: int = _p(
        1,
        1,
        100000,
        "classrooms",
        "Classrooms per school: classroom i of a study belongs to school i // "
        "classrooms_per_school, whose effect on starting skills (school_share) and on learning "
        "(school_effect_sd) its classrooms share. 1 = every classroom from a different school. "
        "Set by a study's `schools` key.",
        "Study design (one classroom per sampled school by default).",
        "cohort",
    )
    school_share: float = _p(
        0.5,
        0.0,
        1.0,
        "share of the between-class variance",
        "Share of the between-class variance of starting skill (class_icc) that lies between "
        "schools; the rest is between the classrooms of a school. 0 = no school level.",
        "Judgement: in US state data schools account for a large part, not all, of the "
        "between-classroom variance (Hedges & Hedberg 2007 report school-level ICCs of "
        "0.1-0.3; classrooms within schools add to them).",
        "cohort",
    )
    aptitude_sd: float = _p(
        0.29,
        0.0,
        2.0,
        "SD of log learning rate",
        "Spread of aptitude (a multiplier on the learning rate, log-normal with mean 1).",
        "Calibrated on the spread of observed one-year gains in egsingle (Chicago, grades 4 to "
        "5: SD of gains 0.554 of the SD of prior scores), with the test's measurement error at "
        "both waves and teacher and school effects (docs/odd.md section 10).",
        "cohort",
    )
    aptitude_correlation: float = _p(
        0.5,
        0.0,
        0.99,
        "correlation",
        "Correlation of log aptitude across domains; lower values give more jagged profiles.",
        "Assumption (brief: jagged aptitude profiles).",
        "cohort",
    )
    aptitude_skill_correlation: float = _p(
        -0.475,
        -0.9,
        0.9,
        "correlation",
        "Correlation between a domain's log aptitude and starting skill: positive, the students "
        "ahead also learn faster (fan-spread, a Matthew effect); negative, the students behind "
        "catch up (fan-close).",
        "Calibrated on the correlation of observed one-year gains with prior scores in egsingle "
        "(-0.30), after the test's measurement error (regression to the mean); egsingle's own "
        "three waves show true scores converging from grade 4 to 5 (docs/odd.md section 10).",
        "cohort",
    )
    interest_aptitude_correlation: float = _p(
        0.3,
        -0.9,
        0.9,
        "correlation",
        "Correlation between interest and aptitude in the same domain (people like what they "
        "are good at).",
        "Assumption; interest-achievement correlations are typically 0.2-0.3 (Schiefele et al. "
        "1992).",
        "cohort",
    )
    interest_skill_correlation: float = _p(
        0.4,
        -0.9,
        0.9,
        "correlation",
        "Weight of starting skill in a domain in the student's interest in it, beside aptitude "
        "(interest_aptitude_correlation): interest = r_ia * aptitude factor + r_is * skill "
        "factor + noise, so that interest correlates r_ia * aptitude_skill_correlation + r_is "
        "with starting skill. 0 = interest follows aptitude only.",
        "Set so that interest in the core domains and the test correlate about 0.3 at the end "
        "of a year (0.33 at 60 classrooms; Schiefele, Krapp & Winteler 1992: about 0.3 across "
        "studies); at the start, 0.3 * -0.475 + 0.4 = 0.26 per domain.",
        "cohort",
    )
    self_regulation_mean: float = _p(
        0.4,
        0.01,
        0.99,
        "0-1 scale",
        "Mean starting self-regulation (knowing how to learn: planning, monitoring, choosing "
        "suitable work).",
        "Assumption: most pupils are novice self-regulators.",
        "cohort",
    )
    self_regulation_sd: float = _p(
        0.15,
        0.0,
        0.5,
        "0-1 scale",
        "SD of starting self-regulation (on a logit scale, then mapped to 0-1; this is the "
        "approximate SD on the 0-1 scale).",
        "Assumption.",
        "cohort",
    )
    self_regulation_skill_correlation: float = _p(
        0.3,
        -0.9,
        0.9,
        "correlation",
        "Correlation of starting self-regulation with general skill.",
        "Assumption; self-regulation and achievement correlate moderately.",
        "cohort",
    )
    # --- curriculum and learning --------------------------------------------------------------
    core_time_share: float = _p(
        0.52,
        0.0,
        1.0,
        "share of time",
        "Share of the standard curriculum's lesson time on the core (tested) domains, split "
        "evenly between them; the rest is split evenly over the other domains.",
        "NCES Schools and Staffing Survey 2011-12, grades 1-4: English language arts 34% "
        "and mathematics 18% of the school week (docs/calibration-sources.md).",
        "learning",
    )
    learning_rate: float = _p(
        0.0224,
        0.0,
        1.0,
        "SD per day",
        "Skill gained in one day of fully engaged, perfectly fitted whole-day direct instruction "
        "by a student of average aptitude.",
        "Calibrated so that the standardized regime gains about 0.36 SD a year in the core "
        "domains, between Hill et al. (2008) grade 5-6 reading (0.32) and math (0.41).",
        "learning",
    )
    zpd_optimum: float = _p(
        0.3,
        -2.0,
        3.0,
        "SD",
        "Challenge (level of the work minus the student's skill) at which learning is fastest.",
        "Zone of proximal development (Vygotsky 1978); the value is an assumption.",
        "learning",
    )
    zpd_width: float = _p(
        1.0,
        0.01,
        10.0,
        "SD",
        "Width (SD) of the Gaussian challenge-fit curve: at optimum +- width the fit is 0.61. "
        "Sets how much adapting the level pays: whole-class teaching fits a student 1 SD from "
        "the middle at 0.61.",
        "Assumption; sweepable.",
        "learning",
    )
    practice_efficacy: float = _p(
        0.5,
        0.0,
        2.0,
        "relative to direct instruction",
        "Efficacy of independent practice relative to direct instruction of the same fit.",
        "Assumption.",
        "learning",
    )
    group_size_penalty: float = _p(
        0.0253,
        0.0,
        1.0,
        "per extra student",
        "Loss of efficacy of direct instruction per extra student in the group: efficacy "
        "1 / (1 + penalty * (size - 1)) (less attention and feedback per student).",
        "Assumption: the value once calibrated on STAR when it alone carried the class-size "
        "effect; the class-size effect now also works through disruption, which is calibrated "
        "(docs/calibration-sources.md).",
        "learning",
    )
    strategy_use: float = _p(
        1.0,
        0.0,
        10.0,
        "gain per unit self-regulation",
        "How much more a fully self-regulated learner learns from each minute of instruction "
        "and practice than a learner with no self-regulation (better strategies, planning and "
        "monitoring): learning efficiency 1 + strategy_use * self-regulation. 0 = "
        "self-regulation acts only through time on task and self-chosen work.",
        "Judgement: self-regulated learning strategies and achievement correlate moderately, "
        "and training them raises achievement (Dignath & Buettner 2008; Dignath, Buettner & "
        "Langfeldt 2008); 1 makes a learner at the mean (0.4) 40% more efficient than one with "
        "no self-regulation.",
        "learning",
    )
    cooperative_learning: float = _p(
        1.6,
        0.0,
        5.0,
        "gain in the efficacy of independent work",
        "Gain in the efficacy of independent work done together with one's instructional group "
        "(cooperative small-group learning while the teacher teaches another group), for a "
        "group of at most cooperative_group_size students; larger groups get exp(-(size - "
        "cooperative_group_size) / cooperative_group_size) of it, a whole class on its own "
        "almost nothing. 0 = independent work is individual.",
        "Calibrated so that within-class grouping (three groups, each taught at its level) "
        "raises the test by Lou et al.'s (1996) +0.17 SD for small-group against whole-class "
        "instruction.",
        "learning",
    )
    cooperative_group_size: float = _p(
        4.0,
        2.0,
        50.0,
        "students",
        "Largest group that works together without losing coordination (see cooperative_learning).",
        "Lou et al. (1996): groups of three or four members gained more than larger groups or "
        "pairs.",
        "learning",
    )
    group_expectation: float = _p(
        0.15,
        0.0,
        2.0,
        "log-efficacy per SD of group level",
        "Expectations and pace carried by a group's level: the efficacy of a group's direct "
        "instruction is multiplied by exp(group_expectation * (group's estimated core level - "
        "class's)), set when groups are formed. Low groups are taught with lower expectations "
        "and at a slower pace, high groups get enrichment. 0 = a group's level changes only the "
        "level it is taught at.",
        "Gamoran (1986); Oakes (1985): low groups receive slower-paced, less demanding "
        "instruction and high groups enrichment; the value is an assumption (a group 1 SD "
        "below the class gets about 14% less from the same lesson).",
        "learning",
    )
    forgetting_rate: float = _p(
        0.0,
        0.0,
        0.1,
        "share per day",
        "Daily decay of skill towards the starting level in domains not worked on that day "
        "(scaled by the day's time off the domain).",
        "Off by default.",
        "learning",
    )
    core_floor: float = _p(
        0.0,
        0.0,
        1.0,
        "share of time",
        "Least share of every student's time on the core (tested) domains, whoever plans the "
        "time (system or learner): the school's accountability policy, applied the same way "
        "in every regime. Time shares below it are rescaled (core up, the rest down).",
        "Policy setting: 0 (no floor) by default, so that no regime's core time is lifted by a "
        "limit that binds for it alone; set it to study accountability pressure.",
        "policy",
    )
    core_ceiling: float = _p(
        1.0,
        0.0,
        1.0,
        "share of time",
        "Largest share of every student's time on the core (tested) domains, applied the same "
        "way in every regime (a protected share for the untested domains when below 1).",
        "Policy setting: 1 (no ceiling) by default.",
        "policy",
    )
    # --- the system's capacity to match instruction ---------------------------------------------
    teacher_capacity: float = _p(
        0.5,
        0.0,
        50.0,
        "lessons of direct instruction per lesson",
        "Direct instruction the adults in the room can give per lesson. It is split equally "
        "between instructional groups; a group gets at most the whole lesson. 0.5 = one teacher "
        "teaching half of each lesson; 2 = two adults teaching all lesson long.",
        "Assumption.",
        "system",
    )
    group_cost: float = _p(
        0.04,
        0.0,
        1.0,
        "lessons of teacher time per extra group",
        "Teacher time each instructional group beyond the first costs per lesson (a separate "
        "lesson to prepare, transitions, setting the other groups to work), taken from the "
        "teacher's capacity before direct instruction is shared out.",
        "Assumption (about 2.5 minutes of a 60-minute lesson per extra group); transitions "
        "take a sizeable share of elementary classroom time (Arlin 1979).",
        "system",
    )
    plan_cost: float = _p(
        0.02,
        0.0,
        1.0,
        "lessons of teacher time",
        "Teacher time per lesson for diagnosing, preparing and monitoring individually set "
        "work: plan_cost * (students with individual levels or plans) ** plan_cost_exponent, "
        "taken from the same budget as direct instruction.",
        "Assumption: about 5 minutes a lesson to keep individual levels for a class of 21.",
        "system",
    )
    plan_cost_exponent: float = _p(
        0.5,
        0.0,
        1.0,
        "exponent",
        "How the time for individually set work grows with the number of students it is set "
        "for: 1 = in proportion, below 1 = each further student costs less (shared materials, "
        "software).",
        "Assumption: economies of scale in preparing levels.",
        "system",
    )
    supervision: float = _p(
        0.5,
        0.0,
        1.0,
        "0-1",
        "How well the system's structure keeps independent work that it directs on task, "
        "standing in for self-regulation: off-task time is (1 - engagement) * (autonomy * "
        "(1 - self-regulation) + (1 - autonomy) * (1 - supervision)). 1 = system-directed work "
        "is always on task.",
        "Assumption: seatwork set by the teacher is better kept on task than a novice's own "
        "work, but not always (off-task behaviour is common in seatwork).",
        "system",
    )
    supervision_availability: float = _p(
        0.5,
        0.0,
        1.0,
        "share of supervision",
        "Share of supervision that needs an adult free to give it: supervision of independent "
        "work falls to supervision * (1 - supervision_availability * busy) where busy is the "
        "share of a student's independent time during which the adults teach other groups or "
        "spend the adaptation overhead. 0 = supervision does not depend on the teacher being "
        "free.",
        "Judgement: seatwork is kept on task partly by its structure and partly by a teacher "
        "circulating and checking (off-task behaviour rises when the teacher works with a "
        "small group).",
        "system",
    )
    learner_plan_cost: float = _p(
        0.5,
        0.0,
        2.0,
        "share of the cost of a system-set plan",
        "Teacher time to follow a learner's own level and plan (conferencing, checking, "
        "feedback), as a share of what setting them for the learner would cost, on the same "
        "cost curve (plan_cost, plan_cost_exponent). 0 = learner-set work costs the teacher "
        "nothing.",
        "Judgement: following a self-set plan takes less preparation than writing one, but "
        "conferences and checks still take the teacher's time.",
        "system",
    )
    teacher_effect_sd: float = _p(
        0.321,
        0.0,
        2.0,
        "SD of log effectiveness",
        "Spread of teachers' effectiveness: each classroom's teacher in each school year "
        "multiplies what the teacher directs (direct instruction and the system-directed share "
        "of independent work) by a log-normal factor with mean 1 and this SD on the log scale. "
        "0 = every teacher equally effective.",
        "Calibrated so that the SD of teacher value added is about 0.13 student SD a year, "
        "between Hanushek & Rivkin's (2010) 0.11 (reading) and 0.15 (mathematics).",
        "system",
    )
    school_effect_sd: float = _p(
        0.0,
        0.0,
        2.0,
        "SD of log effectiveness",
        "Spread of schools' effectiveness beyond their teachers: a log-normal factor with mean 1 "
        "shared by the classrooms of a school (classrooms_per_school), multiplying what the "
        "teacher directs as teacher_effect_sd does. 0 = schools equally effective.",
        "Calibrated on the between-school variance of one-year gains in egsingle (Chicago, "
        "grades 4 to 5).",
        "system",
    )
    diagnostic_noise: float = _p(
        0.4,
        0.0,
        5.0,
        "SD",
        "Error SD of the system's picture of a student's skill (prior records and quizzes).",
        "About the error of a single test with reliability 0.85 on this scale.",
        "system",
    )
    profile_noise: float = _p(
        0.8,
        0.0,
        5.0,
        "SD",
        "Error SD of the system's picture of a student's interests (an interest survey).",
        "Assumption: interests are harder to measure than skills.",
        "system",
    )
    monitoring_rate: float = _p(
        0.02,
        0.0,
        1.0,
        "weight per day",
        "Daily weight given to a new noisy observation of each student's skill when the system "
        "updates its estimate (exponential smoothing; 0.02 = a time constant of 50 days). "
        "1 = the system re-observes every student every day.",
        "Assumption: formative assessment about weekly with partial information.",
        "system",
    )
    judgement_bias: float = _p(
        0.5,
        0.0,
        1.0,
        "share of the diagnostic error",
        "Share of a student's start-of-year diagnostic error that persists in every later "
        "observation (first impressions, expectations): the system keeps part of its first "
        "picture however often it observes.",
        "Teachers' judgements of achievement correlate about 0.63 with test scores (Suedkamp, "
        "Kaiser & Moeller 2012); the value is an assumption.",
        "system",
    )
    regroup_interval: int = _p(
        0,
        0,
        400,
        "days",
        "Days between re-forming instructional groups from the system's current estimates; "
        "0 = never within a year (sticky placement, tracking).",
        "Sticky placement is the common case (brief).",
        "system",
    )
    expected_annual_gain: float = _p(
        0.36,
        0.0,
        3.0,
        "SD per year",
        "Growth the system assumes when it advances its estimates and the grade standard "
        "between observations (the curriculum pace).",
        "Hill et al. (2008) grade 5-6: reading 0.32, mathematics 0.41.",
        "system",
    )
    test_reliability: float = _p(
        0.9,
        0.01,
        1.0,
        "reliability",
        "Reliability of the standardized test: the share of the starting variance of observed "
        "scores that is true-score variance; sets the test's error SD.",
        "Assumption: state tests usually report 0.85-0.95; no single sourced value "
        "(docs/calibration-sources.md).",
        "system",
    )
    aligned_prior_share: float = _p(
        0.6,
        0.0,
        0.99,
        "share of true-score variance",
        "A test aligned with what was taught (a researcher-made test of an intervention's "
        "content) measures the learning of the intervention's period against a spread that comes "
        "partly from what the students brought: the share of its true-score variance due to "
        "prior core skill; the rest is the period's learning. A broad standardized test is "
        "almost all prior skill, so the same difference in learning is a larger effect on an "
        "aligned test, and far larger after a short intervention. Used where a published effect "
        "was measured on such a test (the trial record); it does not change the simulation.",
        "Set so that for a school year of teaching an effect on the aligned test is about twice "
        "the effect on the standardized test (1.6 to 2.3 for the three regimes against "
        "standardized teaching): Cheung & Slavin (2016), 645 studies of "
        "reading, mathematics and science programmes, found effects on experimenter-made "
        "measures roughly twice those on independent measures.",
        "system",
    )
    # --- engagement ---------------------------------------------------------------------------
    engagement_baseline: float = _p(
        0.6,
        -5.0,
        5.0,
        "logit",
        "Logit of target engagement for work of average interest, no autonomy and perfect fit.",
        "Assumption; gives about 0.55 engagement in the standardized regime.",
        "engagement",
    )
    engagement_interest_weight: float = _p(
        0.6,
        0.0,
        5.0,
        "logit per SD of interest",
        "How much interest in the current work raises target engagement.",
        "Assumption.",
        "engagement",
    )
    engagement_autonomy_weight: float = _p(
        0.6,
        0.0,
        5.0,
        "logit per unit autonomy",
        "How much autonomy (learner control over goals and path) raises target engagement.",
        "Self-determination theory (Deci & Ryan 2000); the value is an assumption.",
        "engagement",
    )
    engagement_fit_weight: float = _p(
        1.5,
        0.0,
        10.0,
        "logit per unit fit",
        "How much challenge fit raises target engagement (fit 1 = optimal; boredom and "
        "frustration lower it).",
        "Flow theory (Csikszentmihalyi 1990); the value is an assumption.",
        "engagement",
    )
    engagement_rate: float = _p(
        0.1,
        0.0,
        1.0,
        "share per day",
        "Speed at which engagement moves towards its target each day.",
        "Assumption: a few weeks to settle.",
        "engagement",
    )
    engagement_noise: float = _p(
        0.03,
        0.0,
        1.0,
        "SD per day",
        "Daily random shock to engagement.",
        "Assumption.",
        "engagement",
    )
    # --- self-regulation ----------------------------------------------------------------------
    scaffolding_effect: float = _p(
        0.0072,
        0.0,
        1.0,
        "per day per unit scaffolding",
        "Daily rate at which scaffolded autonomy closes the gap to full self-regulation: "
        "dR = (effect * scaffolding + practice) * autonomy * (1 - R).",
        "Calibrated so that a year of full autonomy with scaffolding 0.15 raises self-regulation "
        "by about 0.7 of its starting SD (Dignath & Buettner 2008, an upper bound).",
        "self_regulation",
    )
    autonomy_practice_effect: float = _p(
        0.0005,
        0.0,
        1.0,
        "per day",
        "Growth of self-regulation from autonomy without scaffolding (learning by doing).",
        "Assumption: small.",
        "self_regulation",
    )
    self_direction_cost: float = _p(
        0.1,
        0.0,
        1.0,
        "share of time",
        "Share of self-directed independent time that a learner with no self-regulation spends "
        "choosing and planning the work instead of doing it; scaled by autonomy and "
        "(1 - self-regulation). The learner's counterpart of the teacher's plan_cost.",
        "Assumption.",
        "self_regulation",
    )
    self_assessment_bias: float = _p(
        0.65,
        0.0,
        5.0,
        "SD",
        "SD of a learner's persistent misjudgement of their own level in each domain "
        "(calibration bias), for a learner with no self-regulation; scaled by "
        "(1 - self-regulation). The learner's counterpart of the system's persistent "
        "diagnostic error (diagnostic_noise * judgement_bias).",
        "Students' self-assessments agree with teachers' marks less well (mean r about 0.3-0.4; "
        "Mabe & West 1982, Falchikov & Boud 1989) than teachers' judgements with test scores "
        "(r about 0.63; Suedkamp et al. 2012): an error SD about 1.9 times the teacher's. "
        "0.65 gives a learner of average self-regulation (0.4) 1.9 times the system's "
        "persistent error of 0.2.",
        "self_regulation",
    )
    choice_bias: float = _p(
        -0.4,
        -3.0,
        3.0,
        "SD",
        "Bias of a self-chosen level relative to the optimal challenge for a student with no "
        "self-regulation (negative: too easy). Scaled by (1 - self-regulation).",
        "Assumption.",
        "self_regulation",
    )
    choice_noise: float = _p(
        0.8,
        0.0,
        5.0,
        "SD",
        "Daily noise in a learner's sense of their own level (and so in the level they choose) "
        "for a student with no self-regulation. Scaled by (1 - self-regulation).",
        "Assumption.",
        "self_regulation",
    )
    choice_sharpness: float = _p(
        1.5,
        0.0,
        20.0,
        "per SD of interest",
        "How strongly self-chosen time follows interests (softmax inverse temperature).",
        "Assumption.",
        "self_regulation",
    )
    choice_drift: float = _p(
        0.5,
        0.0,
        5.0,
        "SD",
        "Daily noise in how a student with no self-regulation weighs interests when choosing "
        "domains. Scaled by (1 - self-regulation).",
        "Assumption.",
        "self_regulation",
    )
    # --- peers --------------------------------------------------------------------------------
    interest_rate: float = _p(
        0.004,
        0.0,
        1.0,
        "SD of interest per day",
        "How fast interests change with experience: dI = rate * (D * time share) * "
        "(engagement * fit - interest_threshold) * (1 + interest_autonomy_weight * autonomy) "
        "/ (1 + (I / interest_saturation)**2). 0 = interests never change.",
        "Hidi & Renninger (2006): interest develops (or fades) with repeated, supported "
        "engagement; Frenzel et al. (2010): school-subject interest declines on average in "
        "ordinary teaching. The value is an assumption (a decline of about 0.1 SD a year "
        "under standardized teaching).",
        "interest",
    )
    interest_threshold: float = _p(
        0.5,
        0.0,
        1.0,
        "engagement x fit",
        "Quality of experience (engagement times challenge fit of the day's work in a domain) "
        "at which interest in the domain neither grows nor fades.",
        "Assumption.",
        "interest",
    )
    interest_autonomy_weight: float = _p(
        1.0,
        0.0,
        5.0,
        "per unit autonomy",
        "How much more an experience changes interest when the learner chose the work "
        "(internalization of self-chosen activity).",
        "Self-determination theory (Deci & Ryan 2000); the value is an assumption.",
        "interest",
    )
    interest_saturation: float = _p(
        2.0,
        0.1,
        10.0,
        "SD of interest",
        "Interest level beyond which changes slow down (well-developed interests are stable).",
        "Hidi & Renninger (2006), the later phases; the value is an assumption.",
        "interest",
    )
    peer_ties: int = _p(
        4,
        0,
        50,
        "peers",
        "Peers each student learns from (their network; chosen within the class).",
        "Assumption: a few close collaborators.",
        "peers",
    )
    peer_learning: float = _p(
        0.00926,
        0.0,
        1.0,
        "SD per day per SD of gap",
        "Strength of learning from more skilled peers in one's network, in proportion to the "
        "time both spend on the same domain (the same in every regime: collaboration is not "
        "tied to the length of independent work).",
        "Calibrated so that peers add about a tenth of the yearly learning in the standardized "
        "regime (Sacerdote 2011: linear-in-means effects are modest and vary widely).",
        "peers",
    )
    disruption: float = _p(
        0.0115,
        0.0,
        1.0,
        "per disengaged peer",
        "Disruption: instruction reaches a student only while no one around them disrupts; "
        "each other student disrupts with a propensity of disruption * (1 - engagement), so "
        "efficacy is multiplied by exp(-disruption * sum of (1 - engagement) of the others) in "
        "the instructional group (direct instruction) and in the class (independent work in the "
        "shared room).",
        "Calibrated so that 15 instead of 23 students in the standardized regime raise test "
        "scores by 4 percentile points in a year, STAR's first-year effect (Krueger 1999); "
        "disruption is Lazear's (2001) account of class-size effects, and disruptive peers "
        "lower others' scores (Carrell & Hoekstra 2010; Lavy, Silva & Weinhardt 2012). In a "
        "class of 21 of average engagement it costs about a third of the instruction.",
        "peers",
    )
    room_disruption: float = _p(
        1.0,
        0.0,
        1.0,
        "weight",
        "Weight of the disengagement of the classmates working on their own in the disruption "
        "of a group's direct instruction (the group's own members count fully). 1 = everyone "
        "in the room disrupts alike; 0 = only the group taught.",
        "Lazear (2001): a disruptive student stops learning for everyone in the room.",
        "peers",
    )
    peer_gap_scale: float = _p(
        1.0,
        0.01,
        10.0,
        "SD",
        "Skill gap at which a peer helps most; the help is gap * exp(-gap / scale).",
        "Assumption: peers far ahead explain less well.",
        "peers",
    )

    # ------------------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        self.validate()

    def validate(self, source: str = "Parameters") -> None:
        """Check types and ranges; raise :class:`ParameterError` naming the parameter.

        Parameters
        ----------
        source : str
            Where the values came from, used in error messages (e.g. ``"study.toml
            [parameters]"``).
        """
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            lo, hi = f.metadata["lo"], f.metadata["hi"]
            if f.type in ("int", int):
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int | float)
                    or (isinstance(value, float) and not value.is_integer())
                ):
                    raise ParameterError(
                        f"{source}: '{f.name}' must be a whole number ({f.metadata['unit']}), "
                        f"got {value!r}."
                    )
                object.__setattr__(self, f.name, int(value))
                value = int(value)
            elif f.type in ("float", float):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ParameterError(
                        f"{source}: '{f.name}' must be a number ({f.metadata['unit']}), "
                        f"got {value!r}."
                    )
                value = float(value)
                if not math.isfinite(value):
                    raise ParameterError(f"{source}: '{f.name}' must be finite, got {value!r}.")
                object.__setattr__(self, f.name, value)
            else:  # tuples of names
                if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                    raise ParameterError(
                        f"{source}: '{f.name}' must be a list of names, got {value!r}."
                    )
                object.__setattr__(self, f.name, tuple(value))
                continue
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise ParameterError(
                    f"{source}: '{f.name}' = {value!r} is out of range; expected a value in "
                    f"[{lo}, {hi}] ({f.metadata['unit']})."
                )
        if len(set(self.domains)) != len(self.domains) or len(self.domains) < 1:
            raise ParameterError(f"{source}: 'domains' must be distinct names, got {self.domains}.")
        unknown = [d for d in self.core_domains if d not in self.domains]
        if unknown or not self.core_domains:
            raise ParameterError(
                f"{source}: 'core_domains' must be a non-empty subset of 'domains' "
                f"{list(self.domains)}; unknown: {unknown}."
            )
        r_ia, r_is = self.interest_aptitude_correlation, self.interest_skill_correlation
        rest = 1.0 - r_ia**2 - r_is**2 - 2.0 * r_ia * r_is * self.aptitude_skill_correlation
        if rest < 0.0:
            raise ParameterError(
                f"{source}: 'interest_aptitude_correlation' = {r_ia}, "
                f"'interest_skill_correlation' = {r_is} and 'aptitude_skill_correlation' = "
                f"{self.aptitude_skill_correlation} leave interest a negative variance of its "
                f"own ({rest:.3g}); lower one of the first two."
            )
        if self.peer_ties > self.n_students - 1:
            raise ParameterError(
                f"{source}: 'peer_ties' = {self.peer_ties} is more than the other students in the "
                f"class (n_students - 1 = {self.n_students - 1})."
            )

    # ------------------------------------------------------------------------------------------
    @classmethod
    def names(cls) -> list[str]:
        """Return the parameter names in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any] | None = None, source: str = "parameters"
    ) -> Parameters:
        """Build parameters from a mapping, rejecting unknown names with a suggestion.

        Parameters
        ----------
        values : mapping, optional
            Parameter names and values; missing names take their defaults.
        source : str
            Where the mapping came from, for error messages.

        Returns
        -------
        toolkit.model.params.Parameters
            The validated parameters.

        Raises
        ------
        ParameterError
            For an unknown name (with the closest valid name) or an invalid value.

        Examples
        --------
        >>> Parameters.from_mapping({"n_students": 30}).n_students
        30
        """
        values = dict(values or {})
        valid = cls.names()
        for key in values:
            if key not in valid:
                raise ParameterError(
                    f"{source}: unknown parameter '{key}'.{suggest_name(key, valid)} "
                    "Run `python -m toolkit params` for the list."
                )
        params = cls.__new__(cls)
        for f in dataclasses.fields(cls):
            object.__setattr__(params, f.name, values.get(f.name, f.default))
        params.validate(source)
        return params

    def replace(self, **changes: Any) -> Parameters:
        """Return a copy with some parameters changed (validated, unknown names rejected)."""
        merged = self.to_dict() | changes
        return type(self).from_mapping(merged, source="Parameters.replace")

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as a plain dict (tuples become lists, TOML/JSON friendly)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    # derived quantities -----------------------------------------------------------------------
    @property
    def n_domains(self) -> int:
        """Number of skill domains."""
        return len(self.domains)

    @property
    def core_mask(self) -> tuple[bool, ...]:
        """Which domains are core (tested), in the order of :attr:`domains`."""
        return tuple(d in self.core_domains for d in self.domains)

    @property
    def daily_pace(self) -> float:
        """Assumed growth per day, ``expected_annual_gain / n_days`` (SD per day)."""
        return self.expected_annual_gain / self.n_days

    @property
    def true_core_sd(self) -> float:
        r"""SD of the true core score (mean of core skills) in the starting population.

        With unit-variance domain skills and pairwise correlation :math:`\rho`, the mean of
        :math:`k` core skills has variance :math:`(1 + (k - 1)\rho) / k`.
        """
        k = len(self.core_domains)
        return math.sqrt((1 + (k - 1) * self.skill_correlation) / k)

    @property
    def test_error_sd(self) -> float:
        r"""Measurement-error SD of the standardized test.

        From reliability :math:`r = \sigma_T^2 / (\sigma_T^2 + \sigma_E^2)`:
        :math:`\sigma_E = \sigma_T \sqrt{(1 - r) / r}`, with :math:`\sigma_T` the
        starting SD of true core scores (:attr:`true_core_sd`).
        """
        r = self.test_reliability
        return self.true_core_sd * math.sqrt((1 - r) / r)


class Plausible(NamedTuple):
    """The plausible range of one parameter, for sensitivity analysis and calibration priors.

    The plausible range is what a careful reader would accept as a value for the parameter in
    an ordinary school; it is narrower than the validation range (``lo``, ``hi`` of the field,
    what the model accepts at all). Sensitivity studies sample it; calibration uses it as the
    prior's support.

    Attributes
    ----------
    low, high : float or None
        Bounds (``None`` for a parameter that is fixed by the design of a study, such as the
        list of domains or the length of the year).
    scale : {"linear", "log"}
        How to sample between the bounds: uniformly, or uniformly in the logarithm (for rates
        and weights whose range spans a factor).
    source : str
        Where the range comes from, or ``"Judgement: ..."`` where it is an assumption.
    relative : bool
        ``low`` and ``high`` are factors of the default (for calibrated values, whose range
        follows the calibration).
    """

    low: float | None
    high: float | None
    scale: str
    source: str
    relative: bool = False

    def bounds(self, default: float) -> tuple[float | None, float | None]:
        """Return the absolute bounds for a parameter whose default is ``default``."""
        if self.low is None or not self.relative:
            return self.low, self.high
        return self.low * default, self.high * default


_HALF_TO_TWICE = "Judgement: half to twice the default (an assumption with no sourced value)."

#: Plausible range of every parameter (see :class:`Plausible`); a test checks that every
#: parameter has one, inside its validation range and containing its default.
PLAUSIBLE: dict[str, Plausible] = {
    # cohort
    "n_students": Plausible(
        15, 30, "linear", "NCES class sizes and STAR's small (13-17) and regular (22-25) classes."
    ),
    "n_days": Plausible(None, None, "linear", "Fixed by the study design (one school year)."),
    "domains": Plausible(None, None, "linear", "Fixed by the study design."),
    "core_domains": Plausible(None, None, "linear", "Fixed by the study design."),
    "skill_correlation": Plausible(
        0.4,
        0.8,
        "linear",
        "Mathematics-reading correlations of "
        "about 0.6-0.8; lower for untested domains (judgement).",
    ),
    "class_icc": Plausible(
        0.1,
        0.3,
        "linear",
        "Hedges & Hedberg (2007): unconditional ICCs "
        "of about 0.1 to 0.3 across states, grades and subjects.",
    ),
    "classrooms_per_school": Plausible(None, None, "linear", "Fixed by the study design."),
    "school_share": Plausible(0.25, 0.75, "linear", "Judgement."),
    "aptitude_sd": Plausible(
        0.5, 2.0, "log", "Calibrated; half to twice the calibrated value.", relative=True
    ),
    "aptitude_correlation": Plausible(0.25, 0.8, "linear", "Judgement."),
    "aptitude_skill_correlation": Plausible(
        -0.5,
        0.3,
        "linear",
        "Pfost et al. (2014) review 25 years of studies of Matthew effects in reading: "
        "fan-spread, stable and fan-close (compensatory) patterns all occur, depending on the "
        "measure and design; from clearly compensatory to the earlier default (a Matthew "
        "effect).",
    ),
    "interest_aptitude_correlation": Plausible(
        0.1,
        0.4,
        "linear",
        "Interest-achievement correlations of about 0.2-0.3 (Schiefele et al. 1992), widened.",
    ),
    "interest_skill_correlation": Plausible(
        0.3,
        0.6,
        "linear",
        "Interest-achievement correlations of about 0.2-0.4 (Schiefele et al. 1992), given the "
        "calibrated aptitude_skill_correlation.",
    ),
    "self_regulation_mean": Plausible(0.25, 0.6, "linear", "Judgement."),
    "self_regulation_sd": Plausible(0.075, 0.3, "log", _HALF_TO_TWICE),
    "self_regulation_skill_correlation": Plausible(0.1, 0.5, "linear", "Judgement."),
    # learning
    "core_time_share": Plausible(
        0.45,
        0.6,
        "linear",
        "NCES SASS 2011-12: the core share of "
        "the primary week varies by grade and school (judgement).",
    ),
    "core_floor": Plausible(
        0.0,
        0.52,
        "linear",
        "From no floor to the curriculum's own core share "
        "(a policy, sampled to see how conclusions depend on it).",
    ),
    "core_ceiling": Plausible(
        0.52,
        1.0,
        "linear",
        "From the curriculum's own core share to no ceiling (a policy, sampled with core_floor "
        "so that designs trim core time both ways).",
    ),
    "learning_rate": Plausible(
        0.5,
        2.0,
        "log",
        "Calibrated; half to twice the calibrated value (a year's gain of roughly 0.2 to 0.7 SD).",
        relative=True,
    ),
    "zpd_optimum": Plausible(0.1, 0.6, "linear", "Judgement."),
    "zpd_width": Plausible(0.5, 2.0, "log", _HALF_TO_TWICE),
    "practice_efficacy": Plausible(0.25, 1.0, "log", _HALF_TO_TWICE),
    "group_size_penalty": Plausible(0.5, 2.0, "log", _HALF_TO_TWICE, relative=True),
    "strategy_use": Plausible(
        0.0,
        2.0,
        "linear",
        "Judgement: from none (self-regulation acts only on time on task and choices) to a "
        "fully self-regulated learner learning three times as fast as one with none.",
    ),
    "cooperative_learning": Plausible(
        0.5, 2.0, "log", "Calibrated; half to twice the calibrated value.", relative=True
    ),
    "cooperative_group_size": Plausible(
        3.0, 6.0, "linear", "Lou et al. (1996): groups of three to four best; up to six."
    ),
    "group_expectation": Plausible(
        0.0, 0.3, "linear", "Judgement: from no effect of a group's level to twice the default."
    ),
    "forgetting_rate": Plausible(
        0.0, 0.002, "linear", "Judgement: off by default; up to a small daily decay."
    ),
    # system
    "teacher_capacity": Plausible(0.25, 1.0, "log", _HALF_TO_TWICE),
    "group_cost": Plausible(
        0.01,
        0.1,
        "log",
        "Judgement: about half a minute to six minutes of a 60-minute lesson per extra group.",
    ),
    "plan_cost": Plausible(0.005, 0.08, "log", "Judgement: a quarter to four times the default."),
    "plan_cost_exponent": Plausible(
        0.3, 1.0, "linear", "Judgement: from strong economies of scale to none."
    ),
    "supervision": Plausible(0.25, 0.75, "linear", "Judgement."),
    "supervision_availability": Plausible(
        0.25, 0.75, "linear", "Judgement: a quarter to three quarters of supervision."
    ),
    "learner_plan_cost": Plausible(
        0.25, 1.0, "linear", "Judgement: a quarter of to as much as a system-set plan."
    ),
    "teacher_effect_sd": Plausible(
        0.5,
        2.0,
        "linear",
        "Calibrated; half to twice the calibrated value (teacher value added of roughly "
        "0.07 to 0.25 SD a year; Hanushek & Rivkin 2010 report 0.11-0.15).",
        relative=True,
    ),
    "school_effect_sd": Plausible(
        0.0,
        0.2,
        "linear",
        "Judgement: the calibration leaves schools no effect beyond their teachers' in egsingle; "
        "up to two thirds of the SD of teachers' effects.",
    ),
    "diagnostic_noise": Plausible(0.2, 0.8, "log", _HALF_TO_TWICE),
    "profile_noise": Plausible(0.4, 1.6, "log", _HALF_TO_TWICE),
    "monitoring_rate": Plausible(0.01, 0.04, "log", _HALF_TO_TWICE),
    "judgement_bias": Plausible(0.25, 0.75, "linear", "Judgement."),
    "regroup_interval": Plausible(
        None, None, "linear", "A school policy fixed by the study design (0 = sticky placement)."
    ),
    "expected_annual_gain": Plausible(
        0.32, 0.41, "linear", "Hill et al. (2008) grade 5-6: reading 0.32, mathematics 0.41."
    ),
    "test_reliability": Plausible(0.85, 0.95, "linear", "State tests usually report 0.85-0.95."),
    "aligned_prior_share": Plausible(
        0.4,
        0.8,
        "linear",
        "Judgement around Cheung & Slavin's (2016) 'roughly twice': a year's aligned-test effect "
        "from about 1.3 to 3 times the standardized one.",
    ),
    # engagement
    "engagement_baseline": Plausible(0.0, 1.2, "linear", "Judgement: the default +- 0.6 logits."),
    "engagement_interest_weight": Plausible(0.3, 1.2, "log", _HALF_TO_TWICE),
    "engagement_autonomy_weight": Plausible(0.3, 1.2, "log", _HALF_TO_TWICE),
    "engagement_fit_weight": Plausible(0.75, 3.0, "log", _HALF_TO_TWICE),
    "engagement_rate": Plausible(0.05, 0.2, "log", _HALF_TO_TWICE),
    "engagement_noise": Plausible(0.015, 0.06, "log", _HALF_TO_TWICE),
    # self-regulation
    "scaffolding_effect": Plausible(
        0.5,
        2.0,
        "log",
        "Calibrated on an upper bound; half to twice the calibrated value.",
        relative=True,
    ),
    "autonomy_practice_effect": Plausible(0.00025, 0.001, "log", _HALF_TO_TWICE),
    "self_direction_cost": Plausible(0.05, 0.2, "log", _HALF_TO_TWICE),
    "self_assessment_bias": Plausible(
        0.3,
        1.3,
        "log",
        "Judgement around the ratio of self- to "
        "teacher-judgement accuracy (about half to twice it).",
    ),
    "choice_bias": Plausible(-0.8, 0.0, "linear", "Judgement."),
    "choice_noise": Plausible(0.4, 1.6, "log", _HALF_TO_TWICE),
    "choice_sharpness": Plausible(0.75, 3.0, "log", _HALF_TO_TWICE),
    "choice_drift": Plausible(0.25, 1.0, "log", _HALF_TO_TWICE),
    # peers
    "interest_rate": Plausible(0.002, 0.008, "log", _HALF_TO_TWICE),
    "interest_threshold": Plausible(0.35, 0.6, "linear", "Judgement."),
    "interest_autonomy_weight": Plausible(0.5, 2.0, "log", _HALF_TO_TWICE),
    "interest_saturation": Plausible(1.0, 4.0, "log", _HALF_TO_TWICE),
    "peer_ties": Plausible(2, 8, "linear", "Judgement."),
    "peer_learning": Plausible(
        0.5,
        2.0,
        "log",
        "Calibrated on an assumed share; half to twice the calibrated value.",
        relative=True,
    ),
    "disruption": Plausible(
        0.0,
        2.0,
        "linear",
        "Calibrated; from none (class size then acts through group size alone, about 1.6 "
        "percentile points: STAR's effect read as a share of a year's growth) to twice the "
        "calibrated value.",
        relative=True,
    ),
    "peer_gap_scale": Plausible(0.5, 2.0, "log", _HALF_TO_TWICE),
    "room_disruption": Plausible(
        0.5,
        1.0,
        "linear",
        "Judgement: from half the weight of the group's own members to Lazear's all.",
    ),
}


def plausible_ranges(names: Sequence[str] | None = None, *, fixed: bool = False) -> pd.DataFrame:
    """Return the plausible range of parameters, for sampling designs and calibration priors.

    Parameters
    ----------
    names : sequence of str, optional
        Parameters to include (default: all that have a range). Unknown names raise
        :class:`ParameterError` with a suggestion.
    fixed : bool
        Also list the parameters without a range (fixed by the study design).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``name``: ``default, low, high, scale`` (``"linear"`` or ``"log"``),
        ``integer`` (whether values must be whole numbers), ``group``, ``unit`` and ``source``.

    Examples
    --------
    >>> r = plausible_ranges(["zpd_width", "n_students"])
    >>> row = r.loc["zpd_width"]
    >>> float(row.low), float(row.high), row.scale
    (0.5, 2.0, 'log')
    >>> bool(r.loc["n_students", "integer"])
    True
    """
    fields = {f.name: f for f in dataclasses.fields(Parameters)}
    if names is None:
        names = [n for n in fields if fixed or PLAUSIBLE[n].low is not None]
    rows = []
    for name in names:
        if name not in fields:
            raise ParameterError(
                f"plausible_ranges: unknown parameter '{name}'."
                f"{suggest_name(name, list(fields))} Run `python -m toolkit params` for the list."
            )
        f, pr = fields[name], PLAUSIBLE[name]
        low, high = pr.bounds(f.default)
        rows.append(
            {
                "name": name,
                "default": f.default,
                "low": low,
                "high": high,
                "scale": pr.scale,
                "integer": f.type in ("int", int),
                "group": f.metadata["group"],
                "unit": f.metadata["unit"],
                "source": pr.source,
            }
        )
    return pd.DataFrame(rows).set_index("name")


def parameter_table() -> pd.DataFrame:
    """Return every model parameter with its group, default, unit, range, meaning and source.

    Returns
    -------
    pandas.DataFrame
        Columns ``group, name, default, unit, range, description, source, plausible,
        plausible_source``, one row per parameter, in declaration order. ``range`` is what the
        model accepts; ``plausible`` is the range sensitivity studies sample
        (:func:`plausible_ranges`).

    Examples
    --------
    >>> t = parameter_table()
    >>> t.loc[t.name == "n_days", "default"].item()
    180
    """
    rows = []
    for f in dataclasses.fields(Parameters):
        m = f.metadata
        rng = "" if m["lo"] is None else f"[{m['lo']}, {m['hi']}]"
        default = list(f.default) if isinstance(f.default, tuple) else f.default
        pr = PLAUSIBLE[f.name]
        low, high = pr.bounds(f.default)
        rows.append(
            {
                "group": m["group"],
                "name": f.name,
                "default": default,
                "unit": m["unit"],
                "range": rng,
                "description": m["doc"],
                "source": m["source"],
                "plausible": "fixed"
                if pr.low is None
                else f"[{low:.4g}, {high:.4g}]" + (" log" if pr.scale == "log" else ""),
                "plausible_source": pr.source,
            }
        )
    return pd.DataFrame(rows)
