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
# **Design.** The headline study (`simulations/headline.toml`): the same simulated classrooms,
# with the same teachers, are run for one year under each of the four regimes, with the same
# students and the same random numbers (common random numbers), so every difference between
# regimes is a paired difference within a classroom. The classroom is the unit of replication;
# intervals are 95% t intervals over classrooms.
#
# This notebook first takes a short tour of the model and its regime axes, then runs the study
# and reads its answer. The model is described in full in `docs/odd.md`. Every result in the
# text below is written by a cell from this run's own tables, so it stays true when the model,
# its parameters or the study's size change (a test checks that the rest of the text quotes
# no result).

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
from IPython.display import Markdown

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
from toolkit.metrics import strongest_domain_shares
from toolkit.model import ClassroomModel, Parameters, parameter_table, regime_table
from toolkit.study import load_study, run_study
from toolkit.study.analysis import format_summary, provenance_line
from toolkit.study.describe import (
    CHANNEL_WORDS,
    describe_channels,
    describe_direction,
    describe_estimate,
    join_words,
)
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
# Everything else (students, their teachers and schools, the mechanisms) is shared by all
# regimes and has a documented default with its source and a plausible range. The mechanisms
# treat every decision-maker alike: adapting the work costs the teacher time (`group_cost`,
# `plan_cost`), and so does following the plans learners set themselves (`learner_plan_cost`);
# directing one's own work costs the learner time (`self_direction_cost`); the system and the
# learner both misjudge the learner's level (`diagnostic_noise`, `self_assessment_bias`); work
# goes off task when disengaged students are not kept at it by supervision, which needs an
# adult free of other groups (`supervision`, `supervision_availability`), or by their own
# self-regulation; disengaged students disrupt the work of everyone in the room, whichever
# group they are in (`disruption`, `room_disruption`); limits on time for the tested domains
# are the school's, applied to every regime alike and off by default (`core_floor`,
# `core_ceiling`).
#
# Several mechanisms act on how much each minute teaches. Classrooms differ beyond their
# students: each has a teacher and a school whose effectiveness scales what the teacher
# directs (`teacher_effect_sd`, `school_effect_sd`); a classroom keeps its teacher under every
# regime, so the comparisons stay paired. Self-regulation makes every minute of work teach
# more through better strategies, not only more minutes count (`strategy_use`). Small
# instructional groups work together while the teacher teaches another group
# (`cooperative_learning`), and a group's level carries expectations and a pace: lower for
# groups behind the class, enrichment for groups ahead (`group_expectation`). A few of the
# parameters that matter most here (`docs/odd.md` sections 4, 7 and 10 give every mechanism,
# its formula and its calibration):

# %%
params = parameter_table().set_index("name")
params.loc[
    ["n_students", "learning_rate", "teacher_capacity", "group_cost", "plan_cost",
     "learner_plan_cost", "teacher_effect_sd", "strategy_use", "cooperative_learning",
     "group_expectation", "disruption", "room_disruption", "engagement_interest_weight",
     "engagement_autonomy_weight", "self_assessment_bias", "core_floor"],
    ["default", "unit", "plausible"],
]  # fmt: skip

# %% [markdown]
# One classroom, one regime, is a Mesa model. Here is a personal-regime class two months into
# the year: students sit with their instructional group (interest groups, formed under this
# regime from the students' own interests), each coloured by the domain they spend most time on
# today, sized by their core skill, with lines to the peers they learn from. Under the personal
# regime students follow their own interests, so the class's work can spread across the
# domains, tested or not.

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
    decomposition=min(spec.decomposition, CLASSROOMS),
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
# The paragraphs of results below are written from these tables by the cells. The next cell
# holds the few helpers they share.

# %%
REF = spec.reference
ARMS = [a for a in spec.arms if a != REF]  # the regimes compared with the reference
s = result.summary.set_index(["metric", "arm"])
defaults = Parameters(**spec.parameters)


def mean(metric, arm):
    """The metric's mean over classrooms under one arm."""
    return s.loc[(metric, arm), "mean"]


def diff(metric, arm, digits=2, unit=""):
    """The paired difference against the reference, with its interval, in words."""
    r = s.loc[(metric, arm)]
    return describe_estimate(
        r["diff"], r["diff_ci_low"], r["diff_ci_high"], digits=digits, unit=unit
    )


def sign(metric, arm, above, below, neither):
    """Which side of the reference an arm is on, read from the paired interval."""
    r = s.loc[(metric, arm)]
    return describe_direction(r["diff_ci_low"], r["diff_ci_high"], above, below, neither)


def by_arm(text):
    """One phrase per compared arm, 'arm: text(arm)', joined as a list."""
    return join_words(f"{a} {text(a)}" for a in ARMS)


# %% [markdown]
# ## What the test sees, and what it does not
#
# The left panel is the effect on the test against standardized teaching; the right panel is
# what the test does not see: learning across all four domains, tested or not, as a paired
# difference.

# %%
with chart_style():
    fig, axes = plt.subplots(1, 2, figsize=SLIDE_SIZES["16:9"], layout="constrained")
plot_metric(result.summary, "effect_size", ax=axes[0])
plot_metric(result.summary, "total_learning", ax=axes[1], difference=True)
plt.show()

# %%
es = {a: s.loc[("effect_size", a)] for a in ARMS}
side = {a: sign("effect_size", a, "ahead of", "behind", "level with") for a in ARMS}
groups = {w: [a for a in ARMS if side[a] == w] for w in ("ahead of", "behind", "level with")}
placed = join_words(
    f"{join_words(arms)} {'is' if len(arms) == 1 else 'are'} {w} standardized teaching"
    for w, arms in groups.items()
    if arms
)
order = sorted(ARMS, key=lambda a: -es[a]["mean"])
core = {a: mean("core_time", a) for a in spec.arms}
core_gap = max(abs(core[a] - core[REF]) for a in ARMS)
limits = (
    "off"
    if defaults.core_floor == 0 and defaults.core_ceiling == 1
    else f"a floor of {defaults.core_floor:.0%} and a ceiling of {defaults.core_ceiling:.0%}"
)
Markdown(
    f"""
**On the test**, against standardized teaching (effect sizes, in SD of the standardized
regime's scores, with 95% intervals in brackets):
{by_arm(lambda a: diff("effect_size", a))}. By the paired intervals,
{placed}; by the means, the order is {join_words(order)}.

**Time on the tested core** is
{join_words(f"{core[a]:.0%} ({a})" for a in spec.arms)} of the year: the adaptive
regimes differ from standardized teaching by at most {100 * core_gap:.1f} percentage points.
The school's limits on core time, which would apply to every regime alike, are {limits} here;
the decomposition below says how much of each difference on the test comes from time on each
domain.

**Beyond the test**, learning in all domains, tested or not, differs from standardized
teaching by {by_arm(lambda a: diff("total_learning", a, unit="SD"))}; the most is learned
under the {max(spec.arms, key=lambda a: mean("total_learning", a))} regime. On the portfolio
measure (attainment weighted by each student's own interests) the differences are
{by_arm(lambda a: diff("portfolio", a))}.
"""
)

# %% [markdown]
# ## Why: the channels of each difference
#
# Each study also writes `decomposition.csv`: every regime's difference from standardized
# teaching split into six channels, by replaying the year with each channel taken from one
# regime or the other, for every combination, and attributing the difference by the Shapley
# value (the channels add up exactly to the difference; `docs/odd.md` section 12). The
# channels: time on each domain; the fit of the work to each student's level; engagement;
# peers (learning from peers ahead, working together in a small group while the teacher is
# elsewhere, and the disruption of disengaged classmates); self-regulation (time on task and
# the efficiency of one's strategies); and the teacher (time for direct instruction after the
# costs of adapting the work, the size of the group taught, the expectations its level carries,
# and the teacher's and school's effectiveness).

# %%
from toolkit.charts.decomposition import plot_decomposition

with chart_style():
    fig, axes = plt.subplots(3, 1, figsize=(13.33, 15), layout="constrained", sharex=True)
for ax, arm in zip(axes, ARMS, strict=True):
    plot_decomposition(result.decomposition, arm, "effect_size", ax=ax)
plt.show()
result.decomposition.query("outcome == 'effect_size'").pivot(
    index="channel", columns="arm", values="contribution"
).round(3)

# %%
dec = result.decomposition.query("outcome == 'effect_size'").set_index(["arm", "channel"])


def channels(arm):
    """An arm's decomposition in words: what raises and what lowers its difference."""
    total = dec.loc[(arm, "total"), "contribution"]
    words = describe_channels(result.decomposition, arm)
    return f"**{arm}** ({total:+.2f} on these classrooms): {words}."


largest = {a: dec.loc[a].drop(index="total")["contribution"].idxmax() for a in ARMS}
if len(set(largest.values())) == 1:
    largest_text = f"{CHANNEL_WORDS[largest[ARMS[0]]]} in every regime"
else:
    largest_text = join_words(f"{CHANNEL_WORDS[largest[a]]} for {a}" for a in ARMS)
Markdown(
    f"""
On the test, decomposed on the study's first {int(dec["n_units"].iloc[0])} classrooms (a
channel counts as clear when its 95% interval excludes zero):

{chr(10).join(f"- {channels(a)}" for a in ARMS)}

The largest channel is {largest_text}.
"""
)

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
# every regime): the chart shows each quintile's gain in core skill.

# %%
plot_tails(result.tails)
plt.show()

# %%
tails = result.tails.query("value == 'core_gain'").pivot(
    index="quintile", columns="arm", values=["mean", "diff"]
)
ref_gain = tails["mean"][REF]
q_lo, q_hi = int(ref_gain.idxmin()), int(ref_gain.idxmax())
middle = (
    ", so it serves the middle of the class better than either tail"
    if q_hi not in (ref_gain.index.min(), ref_gain.index.max())
    else ""
)
QUINTILE = {1: "lowest", 2: "second", 3: "middle", 4: "fourth", 5: "highest"}


def quintile(q):
    """A quintile by name."""
    return f"the {QUINTILE.get(int(q), f'number {int(q)}')} quintile"


def gains(arm):
    """Where an arm gains most and least over the reference, by prior quintile."""
    d = tails["diff"][arm]
    hi, lo = d.idxmax(), d.idxmin()
    return f"most in {quintile(hi)} ({d[hi]:+.2f} SD) and least in {quintile(lo)} ({d[lo]:+.2f})"


spread_word = {
    a: sign("sd_score", a, "widens the spread", "narrows the spread", "leaves the spread as it is")
    for a in ARMS
}
narrowers = [a for a in ARMS if spread_word[a] == "narrows the spread"]
Markdown(
    f"""
**Standardized teaching** is pitched at one level for the class: its students gain most in
{quintile(q_hi)} ({ref_gain[q_hi]:.2f} SD of core skill) and least in {quintile(q_lo)}
({ref_gain[q_lo]:.2f}){middle}.

**Against it**, by quintile of prior score, {join_words(f"{a} gains {gains(a)}" for a in ARMS)}.

**Spread.** The SD of test scores is {mean("sd_score", REF):.2f} under standardized teaching;
{join_words(f"{a} {spread_word[a]} ({diff('sd_score', a)})" for a in ARMS)}.
{f"Only {narrowers[0]} narrows it." if len(narrowers) == 1 else ""}
The Matthew effect (the within-class correlation of the gain in core skill with the prior
score; negative when students behind gain more) is {mean("matthew", REF):+.2f} under
standardized teaching and {by_arm(lambda a: f"{mean('matthew', a):+.2f}")}.
"""
)

# %% [markdown]
# ## Diversity of profiles
#
# The last question is whether regimes make students more alike or more different in *what*
# they are good at: the mean pairwise distance between students' skill profiles, the share of
# students who excel (top decile) in at least one domain by their own regime's standard (this
# share is level-neutral: the thresholds are each regime's own), and, on the right, each
# regime's share of students by their strongest domain.

# %%
with chart_style():
    fig, axes = plt.subplots(1, 2, figsize=SLIDE_SIZES["16:9"], layout="constrained")
plot_diversity(result.summary, ax=axes[0])
plot_strongest_domains(result.students, ax=axes[1])
plt.show()

# %%
last = result.students[result.students["year"] == result.students["year"].max()]
untested = [d for d in defaults.domains if d not in defaults.core_domains]
strongest = {
    a: strongest_domain_shares(
        last.loc[last["arm"] == a, [f"skill_{d}" for d in defaults.domains]]
    )[[f"skill_{d}" for d in untested]].sum()
    for a in spec.arms
}
profile_word = {
    a: sign("mean_pairwise_distance", a, "more different", "more alike", "as alike as before")
    for a in ARMS
}
Markdown(
    f"""
Against standardized teaching, students' skill profiles end the year
{join_words(f"{profile_word[a]} under {a} ({diff('mean_pairwise_distance', a)})" for a in ARMS)}
(mean pairwise distance). The share who excel in at least one domain is
{join_words(f"{mean('diversity_of_excellence', a):.0%} ({a})" for a in spec.arms)}. The share
whose strongest domain is an untested one ({join_words(untested)}) is
{join_words(f"{strongest[a]:.0%} ({a})" for a in spec.arms)}.
"""
)

# %% [markdown]
# ## The answer
#
# With default parameters, one school year and the same students and teachers, the next cell
# gathers the findings above.

# %%
engaged = max(spec.arms, key=lambda a: mean("engagement", a))
sr = {a: mean("self_regulation_growth", a) for a in spec.arms}
sr_most = max(sr, key=sr.get)
wider = [a for a in ARMS if spread_word[a] == "widens the spread"]
spread_text = join_words(f"{a} narrows it" for a in narrowers) or "no regime narrows it"
if wider:
    spread_text += f"; {join_words(wider)} widen{'s' if len(wider) == 1 else ''} it"
Markdown(
    f"""
- **On the test**, {placed} ({by_arm(lambda a: f"{es[a]['mean']:+.2f} SD")}); the largest
  channel of each difference is {largest_text}.
- **Beyond the test**, learning in all domains differs from standardized teaching by
  {by_arm(lambda a: f"{s.loc[('total_learning', a), 'diff']:+.2f} SD")}. Students are most
  engaged under the {engaged} regime, and self-regulation grows most under the {sr_most} regime
  ({sr[sr_most]:+.3f} in the year, against at most
  {max(v for a, v in sr.items() if a != sr_most):+.3f} elsewhere): an investment of which a
  one-year test shows only a part (notebook 04 follows it over several years).
- **Spread**: {spread_text}.
- **Diversity of profiles**: {join_words(f"{profile_word[a]} under {a}" for a in ARMS)}.
- **Tails**: standardized teaching's students gain most in {quintile(q_hi)}; against it,
  {join_words(f"{a} gains most in {quintile(tails['diff'][a].idxmax())}" for a in ARMS)}.
"""
)

# %% [markdown]
# ## What the evidence supports
#
# The answer above is the model's at its default parameters. Six of them decide how the
# regimes compare and had no data behind them: the weights of challenge fit, interest and
# autonomy on engagement, the supervision of system-directed work, the efficacy of independent
# practice and the cost of self-direction. They are now calibrated on rows of the trial record
# (`python -m toolkit calibrate --method emulator`; `docs/odd.md` section 10), with priors that
# start at zero. The next cell reads the published comparison of the four regimes under both:
# the *prior predictive* (the six parameters drawn from their priors: assumptions only) and the
# *posterior predictive* (drawn from the calibration's posterior: after the evidence), each
# draw running the four regimes on the same classrooms (`simulations/evidence_headline.py`,
# its table `simulations/evidence-headline.csv`; `docs/evidence-headline.md` discusses it).

# %%
evidence = pd.read_csv(ROOT / "simulations" / "evidence-headline.csv")
effects = evidence[evidence["kind"] == "effect"]
table = effects.assign(
    cell=[
        f"{m:+.2f} [{lo:+.2f}, {hi:+.2f}], P(>0) {p:.2f}"
        for m, lo, hi, p in zip(
            effects["median"], effects["q05"], effects["q95"], effects["p_positive"], strict=True
        )
    ]
).pivot(index=["metric", "contrast"], columns="source", values="cell")[["prior", "posterior"]]
orders = evidence[evidence["kind"] == "ordering"]


def p_order(metric: str, source: str, ordering: str) -> float:
    """Probability of an ordering of the four regimes in the published table (0 if absent)."""
    row = orders[
        (orders["metric"] == metric)
        & (orders["source"] == source)
        & (orders["ordering"] == ordering)
    ]
    return float(row["probability"].sum())


def p_positive(metric: str, contrast: str, source: str) -> float:
    """Probability that a contrast is positive, from the published table."""
    row = effects[
        (effects["metric"] == metric)
        & (effects["contrast"] == contrast)
        & (effects["source"] == source)
    ]
    return float(row["p_positive"].iloc[0])


headline = "personal > personalized > individualized > standardized"
pi = "personalized - individualized"
top = {
    src: orders[(orders["metric"] == "test") & (orders["source"] == src)].iloc[0]
    for src in ("prior", "posterior")
}
ahead = join_words(
    f"{p_positive('test', f'{a} - standardized', 'posterior'):.2f} for {a}"
    for a in ("individualized", "personalized", "personal")
)
Markdown(
    f"""
- **The headline ordering on the test** ({headline}) has probability
  {p_order("test", "prior", headline):.2f} under the prior and
  {p_order("test", "posterior", headline):.2f} under the posterior; the most probable ordering
  after the evidence is {top["posterior"]["ordering"]} ({top["posterior"]["probability"]:.2f}).
- **Personalized against individualized on the test**: P(personalized ahead) is
  {p_positive("test", pi, "prior"):.2f} under the prior and
  {p_positive("test", pi, "posterior"):.2f} under the posterior; on total learning
  {p_positive("total_learning", pi, "prior"):.2f} and
  {p_positive("total_learning", pi, "posterior"):.2f}; on diversity
  {p_positive("diversity", pi, "prior"):.2f} and {p_positive("diversity", pi, "posterior"):.2f}.
- **Every regime against standardized teaching** on the test: P(ahead) under the posterior is
  {ahead}.
"""
)

# %%
table.reset_index()

# %% [markdown]
# Each of these is an outcome of the mechanisms, not of the regime definitions, and each can
# change sign under other parameters. Where a lead rests on engagement, it rests on the
# engagement weights, whose posterior the table above carries (`docs/odd.md` section 10); the
# personalized and personal regimes are still the model's predictions: one trial row (RAND's
# personalized-learning schools in mathematics) is among the calibration's rows.
# Notebook 02 takes the mechanisms one at a time; how far each conclusion holds across the
# plausible range of every parameter, and what breaks it, is in the README ("Which conclusions
# hold across the plausible parameter space") and notebook 05.
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
