# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · One mechanism at a time
#
# **Question.** Notebook 01 compared the four regimes at the model's default parameters. Those
# defaults are a best guess, and several are assumptions. Which of the headline's conclusions
# depend on them? Here we move one mechanism at a time, keeping everything else at its
# default, and ask what it does to each regime and where one regime overtakes another:
#
# 1. **teacher capacity**: how much direct instruction the adults in the room can give
#    (the *fit against exposure* trade-off);
# 2. **diagnostic noise**: how well the system knows each student's level (*the system's
#    picture of the learner*);
# 3. **self-regulation**: how well students can direct their own learning (*engagement
#    against quality*);
# 4. **peer learning**: how much students learn from more skilled peers (*peers*).
#
# **Design.** Each mechanism has a study file, `simulations/sweep-<mechanism>.toml`: the four
# regimes on the same classrooms at five values of one parameter (common random numbers at
# every value). For each we draw the effect on the standardized test and the total learning
# across all domains against the parameter, with 95% bands over classrooms, and list where two
# regimes' lines cross. Each study can also be run on its own:
# `./run.sh study simulations/sweep-teacher-capacity.toml`.

# %% tags=["parameters"]
# Study size. The defaults run each sweep file as written (5 values x 100 classrooms x 4
# regimes, about a minute each); the test suite uses a few classrooms, a short year and
# three values per sweep.
CLASSROOMS = 100  # classrooms per regime and sweep value
N_DAYS = 180  # school days in the year
SWEEP_POINTS = None  # None: every value in the study file; a number keeps that many
RUN_DIR = "runs/notebooks/02-mechanisms"  # where the run folders are written
FORMATS = ["png", "svg"]  # file formats of each run's own charts ([] for none)

# %%
import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from toolkit.charts import SLIDE_SIZES, chart_style, crossover_table, plot_sweep
from toolkit.model import Parameters
from toolkit.study import load_study, run_study

ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "simulations").is_dir())
DEFAULTS = Parameters()


def run_sweep(mechanism):
    """Run simulations/sweep-<mechanism>.toml at this notebook's size; return spec and result."""
    source = f"simulations/sweep-{mechanism}.toml"
    spec = load_study(ROOT / source)
    values = spec.sweep_values
    if SWEEP_POINTS is not None:
        keep = np.unique(np.linspace(0, len(values) - 1, SWEEP_POINTS).round().astype(int))
        values = [values[i] for i in keep]
    spec = dataclasses.replace(
        spec,
        classrooms=CLASSROOMS,
        parameters=spec.parameters | {"n_days": N_DAYS},
        sweep_values=values,
        formats=tuple(FORMATS),
        source=source,
    )
    result = run_study(spec, ROOT / RUN_DIR / mechanism, overwrite=True, progress=False)
    return spec, result


def show_sweep(spec, result):
    """The effect on the test and total learning against the swept parameter, crossovers."""
    name = spec.sweep_parameter
    with chart_style():
        fig, axes = plt.subplots(1, 2, figsize=SLIDE_SIZES["16:9"], layout="constrained")
    plot_sweep(result.summary, "effect_size", ax=axes[0], parameter=name)
    plot_sweep(result.summary, "total_learning", ax=axes[1], parameter=name)
    for ax in axes:
        ax.axvline(getattr(DEFAULTS, name), color="#999999", lw=1, ls="--")
    fig.suptitle(spec.title, x=0.01, ha="left", fontsize=20, fontweight="bold")
    plt.show()
    return crossover_table(result.summary, ["effect_size", "total_learning"]).round(3)


# %% [markdown]
# In every chart below, the dashed grey line marks the parameter's default, the coloured dotted
# lines mark where a regime crosses the standardized regime (the value is printed above the
# panel), and the table lists every crossing between any two regimes: at which value, which
# regime leads just below it and which leads just above it.
#
# ## 1. Teacher capacity
#
# `teacher_capacity` is the direct instruction the adults in the room can give per lesson
# (0.5: one teacher teaching half of each lesson). It is split equally between instructional
# groups, and no group can use more than the whole lesson. Standardized teaching has one group;
# the other regimes split the teacher between three groups, so their students get better fitted
# but less direct instruction. We expect the adaptive regimes to gain from more capacity and
# standardized teaching to stop gaining once its one group is taught all lesson long.

# %%
spec, result = run_sweep("teacher-capacity")
show_sweep(spec, result)

# %% [markdown]
# Standardized teaching hardly gains from more capacity: for a whole class taught at one level,
# more whole-class instruction is worth little more than the independent practice it replaces
# (about 0.01 SD on the test from a quarter of a teacher to a whole one), and beyond a capacity
# of 1 the one group is already taught all lesson long. Personalized teaching hardly moves
# either. The personal regime gains most on the test, from about 0.08 to 0.24 SD over
# standardized teaching across the range, then individualized teaching, which adapts ability
# groups and the level of work to prior scores, from about 0.19 to 0.29 SD. Individualized
# teaching overtakes personalized teaching in total learning at about two and a half times the
# default capacity, but on the test only at about six times. The personal regime, ahead of
# standardized teaching on the test at every capacity, stays behind the other two on the test
# across the range, but with about three times the default capacity it learns the most in
# total: extra adults make self-directed work better supported, not less autonomous.
#
# ## 2. Diagnostic noise
#
# `diagnostic_noise` is the error of the system's picture of a student's level (prior records
# and quizzes), in SD units; part of the first error persists all year (`judgement_bias`) and
# groups are never re-formed (`regroup_interval` = 0), so a misplaced student stays misplaced.
# Individualized and personalized paths are set from this picture; the personal regime's level
# is set by the learner, and standardized teaching does not use it.

# %%
spec, result = run_sweep("diagnostic-noise")
show_sweep(spec, result)

# %% [markdown]
# The cost of a noisy picture falls almost entirely on the regimes that act on it.
# Individualized teaching, which places students in ability groups and sets their level from
# the picture, loses most of its advantage on the test as noise grows past about one SD (from
# about 0.2 SD at the default to 0.03 SD at four times the default noise); it is behind
# personalized teaching on the test at every noise level, and further behind the noisier the
# picture. Personalized teaching loses less, because it groups by interest and gives students
# some say over their level. The personal regime does not move: the learner's own sense of
# their level does not depend on the system's records. So with a noisy enough picture it
# overtakes the regimes that rely on one: individualized teaching in total learning from about
# 0.6 SD of noise and on the test from about 1.2 SD, personalized teaching in total learning
# from about 1 SD. With a very noisy picture (above about 1.3 SD), individualized teaching
# yields less total learning than standardized teaching.
#
# ## 3. Self-regulation
#
# `self_regulation_mean` is the class's average starting self-regulation (0 to 1: knowing how to
# plan, monitor and choose suitable work). Self-regulation governs how well self-chosen work fits
# and how much self-directed time is spent on task; it matters in proportion to the autonomy a
# regime gives. The default, 0.4, assumes most pupils are novice self-regulators.

# %%
spec, result = run_sweep("self-regulation")
show_sweep(spec, result)

# %% [markdown]
# This is the mechanism behind the personal regime's headline result. With novice
# self-regulators it is only slightly ahead of standardized teaching on the test (about 0.08 SD
# at the default, and level with it at a class average of 0.1) and trails the other adaptive
# regimes in total learning; as starting self-regulation rises its lead on the test grows (to
# about 0.18 SD at 0.8, still behind individualized and personalized teaching), and it
# overtakes individualized teaching in total learning around a class average of one half and
# personalized teaching a little above it (about 0.58). The other regimes hardly move, because
# they leave students little to decide. *Autonomy alone does not ensure quality learning*, but
# the same autonomy pays for students who can use it, which is why scaffolding self-regulation
# over several years matters (notebook 04).
#
# ## 4. Peer learning
#
# `peer_learning` is how much students learn, per day, from peers in their network who are
# ahead of them in the domain they share time on; the default is calibrated so that peers add
# about a tenth of a year's learning. Regimes differ in who their students' peers are: the
# whole class at random (standardized), ability groups (individualized), interest groups
# assigned by the system (personalized) or chosen by the learners (personal).

# %%
spec, result = run_sweep("peer-learning")
show_sweep(spec, result)

# %% [markdown]
# Stronger peer learning lifts every regime and keeps their order on the test; the advantage
# of individualized and personalized teaching over standardized teaching grows with it. It
# also changes the shape of the outcomes, which the two panels above do not show: peers are
# ahead mainly of low achievers, so stronger peer learning narrows the spread and lowers the
# Matthew effect (the correlation of gain with prior score) in every regime, to below zero in
# all of them at the strongest peer learning swept (under individualized teaching it is
# negative throughout):

# %%
s = result.summary
table = s[s.metric.isin(["sd_score", "matthew"])].pivot_table(
    index=["metric", "sweep_value"], columns="arm", values="mean", observed=True
)
table.round(3)

# %% [markdown]
# ## What depends on what
#
# - The **test advantage of individualized teaching** rests on an accurate picture of each
#   student: with noisy diagnosis it shrinks towards nothing, and its total learning can fall
#   below standardized teaching. It grows with teacher capacity and with peer learning.
# - The **personal regime's place** is a matter of self-regulation and support: it is ahead of
#   standardized teaching on the test in every sweep (only level with it in the least
#   self-regulated classes), and its lead grows with self-regulation and with teacher capacity,
#   though within the ranges swept it stays behind personalized teaching on the test. In total
#   learning it leads every regime with a class of moderately self-regulated learners (a class
#   average above about 0.6) or with about three times the default teacher capacity. It is the
#   one adaptive regime that a noisy picture of the learner does not harm.
# - **Standardized teaching** is the most robust regime and the one with least to gain: it does
#   not use the system's picture of students, gives them little to decide, and gains almost
#   nothing from more adults in the room.
# - **Peers** help everyone and narrow the spread. They keep the regimes' order on the test; in
#   total learning, individualized teaching overtakes personalized teaching only above about
#   three times the default peer learning.
#
# These are one-at-a-time sweeps around the defaults; the parameters interact (for example,
# self-regulation matters more when there is less direct instruction); only a global
# sensitivity analysis, which varies them together, can say how far the conclusions hold away
# from the defaults.

# %%
plt.close("all")
