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
# # 01 · Four learning regimes on the same classrooms
#
# **Question.** When a school moves from standardized teaching to an individualized,
# personalized or personal regime, what happens to its students after one school year: to what
# the standardized test sees, to what it does not see (learning in untested domains,
# engagement, self-regulation), to the spread of outcomes, to the diversity of students'
# profiles, and to the students at the tails?
#
# **Design.** The headline study (`simulations/headline.toml`): the same simulated classrooms
# of 21 students are run for one year under each of the four regimes, with the same students
# and the same random numbers (common random numbers), so every difference between regimes is
# a paired difference within a classroom. The classroom is the unit of replication; intervals
# are 95% t intervals over classrooms.
#
# This notebook first takes a short tour of the model and its regime axes, then runs the study
# and reads its answer. The model is described in full in `docs/odd.md`.

# %% tags=["parameters"]
# Study size. The defaults reproduce the headline study; the test suite runs this notebook
# with a few classrooms and a short year.
CLASSROOMS = 200  # classrooms per regime
N_DAYS = 180  # school days in the year
RUN_DIR = "runs/notebooks/01-headline"  # where the run folder is written (relative to the repo)
FORMATS = ["png", "svg"]  # file formats of the run's own charts ([] for none)
SHOW_VIEW = True  # display the interactive classroom view at the end

# %%
import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from toolkit.charts import (
    SLIDE_SIZES,
    chart_style,
    plot_distribution,
    plot_diversity,
    plot_metric,
    plot_spread,
    plot_strongest_domains,
    plot_tails,
    save_figure,
)
from toolkit.model import ClassroomModel, parameter_table, regime_table
from toolkit.study import load_study, run_study
from toolkit.study.analysis import format_summary, provenance_line
from toolkit.viz.classroom import ClassroomView, draw_classroom

ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "simulations").is_dir())
pd.set_option("display.width", 160)

# %% [markdown]
# ## A short tour of the model
#
# A regime is not a separate model: it is a point on a few explicit axes that say *who decides*
# and *how the system adapts*. Who sets the destination (which domains a student works on: the
# system, tailored to deficits or to strengths, or the learner), how far the level of work is
# adapted to each group or student and who sets it, how many instructional groups share the
# teacher's time and how they are formed, how peer networks form, and how much teacher time goes
# to scaffolding self-regulation. The four presets place the regimes of the seed texts on these
# axes:

# %%
regime_table().drop(columns="description")

# %% [markdown]
# Everything else (students, the school, the mechanisms) is shared by all regimes and has a
# documented default with its source and a plausible range. The mechanisms treat every
# decision-maker alike: adapting the work costs the teacher time (`group_cost`, `plan_cost`),
# directing one's own work costs the learner time (`self_direction_cost`); the system and the
# learner both misjudge the learner's level (`diagnostic_noise`, `self_assessment_bias`); work
# goes off task when disengaged students are not kept at it by supervision or by their own
# self-regulation (`supervision`); limits on time for the tested domains are the school's,
# applied to every regime alike and off by default (`core_floor`). A few of the parameters that
# matter most here:

# %%
params = parameter_table().set_index("name")
params.loc[
    ["n_students", "learning_rate", "teacher_capacity", "group_cost", "plan_cost",
     "disruption", "engagement_interest_weight", "engagement_autonomy_weight",
     "self_assessment_bias", "core_floor"],
    ["default", "unit", "plausible"],
]  # fmt: skip

# %% [markdown]
# One classroom, one regime, is a Mesa model. Here is a personal-regime class two months into
# the year: students sit with their instructional group (interest groups, formed under this
# regime from the students' own interests), each coloured by the domain they spend most time on
# today, sized by their core skill, with lines to the peers they learn from. Under the personal
# regime, students follow their own interests, so the class works across all four domains,
# tested or not.

# %%
view = ClassroomView(regime="personal", seed=7)
for _ in range(min(40, N_DAYS - 1)):
    view.step()
draw_classroom(view)
plt.show()

# %% [markdown]
# At the end of the year the model gives the standardized test (core domains only, with
# measurement error) and records one row per student:

# %%
one = ClassroomModel("personal", {"n_students": 25, "n_days": N_DAYS}, rng=7, collect=False)
one.run()
one.student_table()[
    ["student", "group", "prior_score", "score", "total_learning", "engagement", "core_time",
     "self_regulation_start", "self_regulation_end"]
].head()  # fmt: skip

# %% [markdown]
# ## The study
#
# The study file fixes the arms, the master seed and the output; this notebook changes only its
# size (the parameters cell above). Classroom *i* uses the seed `SeedSequence(seed,
# spawn_key=(i,))` under every regime.

# %%
spec = load_study(ROOT / "simulations" / "headline.toml")
spec = dataclasses.replace(
    spec,
    classrooms=CLASSROOMS,
    parameters=spec.parameters | {"n_days": N_DAYS},
    formats=tuple(FORMATS),
    source="simulations/headline.toml",
)
result = run_study(spec, ROOT / RUN_DIR, overwrite=True, progress=False)
line = provenance_line(result, spec)
print(line)
print(f"{len(result.students):,} student-years in {result.folder}")

# %% [markdown]
# The summary: means over classrooms with 95% intervals, then the paired differences against
# the standardized regime.

# %%
print(
    format_summary(
        result.summary,
        metrics=("score", "effect_size", "total_learning", "portfolio", "engagement",
                 "core_time", "self_regulation_growth", "sd_score", "p90_p10", "matthew",
                 "diversity_of_excellence"),
    )
)  # fmt: skip

# %% [markdown]
# ## What the test sees, and what it does not
#
# The test first. Every regime that adapts beats standardized teaching on it: individualized
# teaching by about 0.08 SD, inside the range published for grouping and adaptive instruction
# (section 10 of `docs/odd.md`), personalized teaching by about 0.2 SD and personal learning by
# about 0.26 SD. All four spend about the same half of their time on the tested core (0.50 to
# 0.52): no regime's lead comes from extra time on tested domains, since limits on core time are
# the school's and apply to every regime alike (off by default).

# %%
with chart_style():
    fig, axes = plt.subplots(1, 2, figsize=SLIDE_SIZES["16:9"], layout="constrained")
plot_metric(result.summary, "effect_size", ax=axes[0])
plot_metric(result.summary, "total_learning", ax=axes[1], difference=True)
plt.show()

# %% [markdown]
# The right panel is what the test does not see: learning across all four domains, tested or
# not. Every adaptive regime learns more in total than standardized teaching, the personal
# regime most (about +1.1 SD against +0.8 and +0.4), and the gap is larger still on the portfolio
# measure, attainment weighted by each student's own interests (about +0.9, +0.6 and +0.1).

# %%
s = result.summary.set_index(["metric", "arm"])
for arm in ["individualized", "personalized", "personal"]:
    es, tl = s.loc[("effect_size", arm)], s.loc[("total_learning", arm)]
    ct = s.loc[("core_time", arm)]
    print(
        f"{arm:>15}: test {es['mean']:+.3f} SD [{es['ci_low']:+.3f}, {es['ci_high']:+.3f}], "
        f"total learning {tl['diff']:+.3f} SD [{tl['diff_ci_low']:+.3f}, "
        f"{tl['diff_ci_high']:+.3f}], time on core {ct['mean']:.0%}"
    )

# %% [markdown]
# ## Why: the channels of each difference
#
# Each study also writes `decomposition.csv`: every regime's difference from standardized
# teaching split into six channels, by replaying the year with each channel (time on each
# domain, fit of the work, engagement, peers, time on task, teacher time) taken from one regime or
# the other, for every combination, and attributing the difference by the Shapley value (the
# channels add up exactly to the difference; `docs/odd.md` section 12). Adapting the level fits
# the work far better, but three groups and individually set work cost the teacher's time, which
# takes back most of what the fit gains (teacher time, about -0.06 to -0.08 SD). What carries
# the personalized and personal regimes is engagement (work that follows interests, and
# autonomy) and, through disruption, everyone else's engagement (peers).

# %%
from toolkit.charts.decomposition import plot_decomposition

with chart_style():
    fig, axes = plt.subplots(3, 1, figsize=(13.33, 15), layout="constrained", sharex=True)
for ax, arm in zip(axes, ["individualized", "personalized", "personal"], strict=True):
    plot_decomposition(result.decomposition, arm, "effect_size", ax=ax)
plt.show()
result.decomposition.query("outcome == 'effect_size'").pivot(
    index="channel", columns="arm", values="contribution"
).round(3)

# %% [markdown]
# ## Spread, gaps and the tails
#
# A regime can raise the mean and still widen or narrow the distance between students. The
# distributions of test scores per regime, with the interquartile range and the median:

# %%
plot_distribution(result.students, "score")
plt.show()

# %% [markdown]
# and the spread and gap measures over classrooms, as paired differences against standardized
# teaching:

# %%
plot_spread(result.summary, difference=True)
plt.show()

# %% [markdown]
# Who gains? Students are placed in quintiles of their prior test score (the same students in
# every regime). Standardized teaching is pitched at the middle of the class: it serves the
# middle quintiles and fails both tails, where the work is too hard or too easy. Individualized
# teaching gains most at the bottom (about +0.34 SD of core gain in the lowest quintile) and
# nothing at the top, where remediation moves time away from the core for students ahead of the
# standard; it is the regime that narrows the spread (SD of scores about -0.11) and reverses the
# Matthew effect. The personalized and personal regimes gain at every level, most at the top
# (about +0.35 and +0.39) and the bottom, and widen the spread a little (about +0.10).

# %%
plot_tails(result.tails)
plt.show()

# %% [markdown]
# ## Diversity of profiles
#
# The last question is whether regimes make students more alike or more different in *what*
# they are good at. Tailoring to strengths (personalized) and following interests (personal)
# make students' skill profiles much more different from one another (mean pairwise distance
# about +0.77 and +0.71), mostly through where students spend their time, and more students
# excel in at least one domain by their own regime's standard (about a third, against a fifth;
# this share is level-neutral, the thresholds being each regime's own top decile). Remediation
# (individualized) leaves profiles as alike as standardized teaching and tilts students'
# strongest domains towards the untested ones, since it moves strong students' time away from
# the core.

# %%
with chart_style():
    fig, axes = plt.subplots(1, 2, figsize=SLIDE_SIZES["16:9"], layout="constrained")
plot_diversity(result.summary, ax=axes[0])
plot_strongest_domains(result.students, ax=axes[1])
plt.show()

# %% [markdown]
# ## The answer
#
# With default parameters, one school year and the same students:
#
# - **On the test**, personal learning beats standardized teaching by about 0.26 SD,
#   personalized teaching by about 0.2 SD and individualized teaching by about 0.08 SD, with the
#   same share of time on the tested core in all four. What decides the order is engagement and
#   the disruption it spares, not time on tested domains or fit alone (the decomposition above),
#   so it rests on the engagement weights, which are assumptions: without the effects of interest
#   and autonomy on engagement, personalized and individualized teaching draw level and personal
#   learning falls back to standardized teaching (`docs/odd.md` section 10).
# - **Beyond the test**, every adaptive regime produces more learning in all domains, and more
#   on the portfolio measure, than standardized teaching; the personal regime has the most
#   engaged students and is the only one in which self-regulation grows markedly, an investment
#   of which a one-year test shows only a small part (notebook 04 follows it over several years).
# - **Spread**: individualized teaching narrows it (SD of scores about -0.11, Matthew effect
#   reversed), personalized and personal learning widen it a little (about +0.10).
# - **Diversity of profiles** rises under personalized and personal learning, and more of their
#   students excel somewhere.
# - **Tails**: standardized teaching serves the middle and fails both tails; individualized
#   teaching helps the lowest achievers most, personalized and personal learning the highest.
#
# How far each conclusion holds across the plausible range of every parameter, and what breaks
# them, is in the README ("What the headline run shows") and notebook 05. Each of these is an
# outcome of the mechanisms, not of the regime definitions, and each can change sign under other
# parameters: notebook 02 takes the mechanisms one at a time.
#
# ## Taking a chart to a slide
#
# Any chart is one call; `save_figure` writes it at an exact slide size with the study's
# provenance line (study, seed, classrooms, toolkit version, commit) at its foot.

# %%
ax = plot_metric(result.summary, "effect_size")
written = save_figure(ax.figure, result.folder / "slides" / "effect-on-test", size="16:9",
                      formats=["png", "pdf"], provenance=line)  # fmt: skip
print(*[p.relative_to(result.folder) for p in written], sep="\n")
plt.close("all")

# %% [markdown]
# ## Watch one class
#
# The interactive view runs one class day by day: choose a regime or a blend of two, the main
# parameters and the seed, press *Reset* to start a class with them, then *Step* or *Play* by a
# day, a week or a month. It works here in JupyterLab and standalone
# (`./run.sh python -m toolkit.viz`).

# %%
if SHOW_VIEW:
    from IPython.display import display

    from toolkit.viz.app import page

    display(page)
