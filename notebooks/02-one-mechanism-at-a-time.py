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
# In every chart below, the dashed grey line marks the parameter's default, a ring and a dotted
# line (in the colour of the regime ahead beyond it) mark every crossing between two regimes,
# with its value, and the table lists them: at which value, which regime leads just below it
# and which leads just above it.
#
# ## 1. Teacher capacity
#
# `teacher_capacity` is the direct instruction the adults in the room can give per lesson
# (0.5: one teacher teaching half of each lesson). The teacher first pays for adapting the work
# (each extra group, individually set levels and plans) and for scaffolding; the rest is split
# equally between instructional groups, and no group can use more than the whole lesson.
# Standardized teaching has one group and nothing individual to prepare; the other regimes
# split what is left between three groups, so their students get better fitted but less direct
# instruction. We expect the adaptive regimes to gain from more capacity and standardized
# teaching to stop gaining once its one group is taught all lesson long.

# %%
spec, result = run_sweep("teacher-capacity")
show_sweep(spec, result)

# %% [markdown]
# Standardized teaching gains from more capacity only until its one group is taught all lesson
# long (a capacity of 1); the adaptive regimes keep gaining, because their three groups and
# their individually set work are what the extra adults pay for. Below a capacity of 1 their
# effect on the test hardly moves, since standardized teaching gains as much; above it they pull
# away: individualized teaching from about +0.07 SD at the default to +0.34 SD at eight times
# it, personalized teaching from +0.21 to +0.36, the personal regime from +0.28 to +0.51.
# Individualized teaching overtakes personalized teaching in total learning at about four and a
# half times the default capacity (2.2), the only crossing in the range: more adults matter
# most to the regime whose design asks the most of the teacher.
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
# Individualized teaching, which places students in ability groups and sets their level and
# their remediation from the picture, loses its advantage on the test as noise grows (from about
# +0.12 SD with a perfect picture to +0.03 at twice the default noise) and falls below
# standardized teaching at about 1 SD of noise, on the test and in total learning alike.
# Personalized teaching loses less, because it groups by interest and gives students some say
# over their level (+0.23 to +0.05 across the range). The personal regime does not move: its
# levels are set by the learners' own, imperfect sense of their level, not by the system's
# records, so its place does not depend on how well the system knows the students.
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
# This is the mechanism behind the personal regime's place. With novice self-regulators (a class
# average of 0.1) it is behind personalized teaching on the test (about +0.15 SD against +0.19)
# and in total learning; its lead grows with self-regulation, and it overtakes personalized
# teaching in total learning at a class average of about 0.15 and on the test at about 0.26,
# below the default of 0.4, reaching +0.41 SD on the test at 0.8. The other regimes hardly move,
# because they leave students little to decide. *Autonomy alone does not ensure quality
# learning*, but the same autonomy pays for students who can use it, which is why scaffolding
# self-regulation over several years matters (notebook 04).
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
# Stronger peer learning lifts every regime, and keeps their order, but helps standardized
# teaching most: in a class mixed at random every low achiever has peers ahead, while ability
# groups (individualized) surround low achievers with low achievers. So the adaptive regimes'
# advantage on the test shrinks as peer learning grows (individualized from +0.10 SD without peer
# learning to +0.04 at four times the default). It also changes the shape of the outcomes, which
# the two panels above do not show: peers are ahead mainly of low achievers, so stronger peer
# learning narrows the spread and lowers the Matthew effect (the correlation of gain with prior
# score) in every regime; under standardized teaching it turns negative from about twice the
# default, under individualized teaching it is negative throughout:

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
#   student and on teacher time: with noisy diagnosis it falls below standardized teaching, and
#   with more adults in the room it grows more than any other regime's. Peer learning, which
#   helps mixed classes most, shrinks it.
# - The **personal regime's place** is a matter of self-regulation and support: it leads
#   personalized teaching on the test once the class's self-regulation is above about 0.26 (the
#   default is 0.4), and its lead grows with teacher capacity. It is the one adaptive regime that
#   a noisy picture of the learner does not harm.
# - **Standardized teaching** is the most robust regime and the one with least to gain: it does
#   not use the system's picture of students, gives them little to decide, and gains nothing from
#   more adults once its one group is taught all lesson long; it gains most from peers.
# - **Peers** help everyone and narrow the spread; they keep the regimes' order.
#
# These are one-at-a-time sweeps around the defaults; the parameters interact (for example,
# self-regulation matters more when there is less direct instruction). How far each conclusion
# holds when every parameter varies at once, and which assumptions drive it, is the global
# sensitivity analysis of notebook 05 and `simulations/box.py`.

# %%
plt.close("all")
