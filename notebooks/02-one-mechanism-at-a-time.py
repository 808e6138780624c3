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
# - **teacher capacity**: how much direct instruction the adults in the room can give
#   (the *fit against exposure* trade-off);
# - **diagnostic noise**: how well the system knows each student's level (*the system's
#   picture of the learner*);
# - **self-regulation**: how well students can direct their own learning (*engagement
#   against quality*);
# - **peer learning**: how much students learn from more skilled peers (*peers*).
#
# **Design.** Each mechanism has a study file, `simulations/sweep-<mechanism>.toml`: the four
# regimes on the same classrooms at several values of one parameter (common random numbers at
# every value). For each we draw the effect on the standardized test and the total learning
# across all domains against the parameter, with 95% bands over classrooms, and list where two
# regimes' lines cross. Each study can also be run on its own:
# `./run.sh study simulations/sweep-teacher-capacity.toml`.
#
# Every result in the text is written by a cell from this run's own tables, so it stays true
# when the model, its parameters or the sizes here change (a test checks that the rest of the
# text quotes no result).

# %% tags=["parameters"]
# Study size. The defaults run each sweep file as written (5 values x 100 classrooms x 4
# regimes, about a minute each); the test suite uses a few classrooms, a short year and
# three values per sweep.
CLASSROOMS = 100  # classrooms per regime and sweep value
N_DAYS = 180  # school days in the year
SWEEP_POINTS = None  # None: every value in the study file; a number keeps that many
RUN_DIR = "runs/notebooks/02-mechanisms"  # where the run folders are written
FORMATS = ["png", "svg"]  # file formats of each run's own charts ([] for none)
TOLERANCE = 0.02  # SD: a line that moves less than this across a sweep is read as flat

# %%
import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown

from toolkit.charts import SLIDE_SIZES, chart_style, crossover_table, plot_sweep
from toolkit.model import Parameters
from toolkit.study import load_study, run_study
from toolkit.study.describe import describe_trend, join_words

ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "simulations").is_dir())
DEFAULTS = Parameters()
sweeps = {}  # mechanism -> (spec, result), for the closing summary


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
        decomposition=min(spec.decomposition, CLASSROOMS),
        parameters=spec.parameters | {"n_days": N_DAYS},
        sweep_values=values,
        formats=tuple(FORMATS),
        source=source,
    )
    result = run_study(spec, ROOT / RUN_DIR / mechanism, overwrite=True, progress=False)
    sweeps[mechanism] = spec, result
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


def line(summary, metric, arm):
    """One arm's mean of a metric at every sweep value, in order of the value."""
    d = summary[(summary["metric"] == metric) & (summary["arm"] == arm)]
    d = d.sort_values("sweep_value")
    return d["sweep_value"].to_numpy(float), d["mean"].to_numpy(float)


def trend(summary, metric, arm, signed=True):
    """How one arm's line moves across the sweep, in words."""
    x, y = line(summary, metric, arm)
    fmt = "{:+.2f}" if signed else "{:.2f}"
    return describe_trend(x, y, value=fmt.format, tolerance=TOLERANCE)


WHERE = {"effect_size": "on the test", "total_learning": "in total learning"}


def crossings(summary):
    """Every crossing of two regimes' lines, as phrases."""
    table = crossover_table(summary, list(WHERE))
    return [
        f"{r.above} overtakes {r.below} {WHERE[r.metric]} at about {r.at:.3g}"
        for r in table.itertuples()
    ]


def describe_sweep(spec, result):
    """The sweep's results paragraph, from its summary."""
    s, name, ref = result.summary, spec.sweep_parameter, spec.reference
    arms = [a for a in spec.arms if a != ref]
    default = getattr(DEFAULTS, name)
    x = np.asarray(spec.sweep_values, dtype=float)
    inside = "" if x.min() <= default <= x.max() else ", outside the values swept"
    cross = crossings(s)
    cross = join_words(cross) if cross else "none: no two regimes' lines cross in the range"
    return Markdown(
        f"""
`{name}` takes the values {join_words(f"{v:g}" for v in x)} (default {default:g}{inside}).

- **On the test** (effect against {ref} teaching, SD):
  {"; ".join(f"{a} {trend(s, 'effect_size', a)}" for a in arms)}.
- **In total learning** (SD, all domains):
  {"; ".join(f"{a} {trend(s, 'total_learning', a, signed=False)}" for a in spec.arms)}.
- **Crossings**: {cross}.
"""
    )


# %% [markdown]
# In every chart below, the dashed grey line marks the parameter's default, a ring and a dotted
# line (in the colour of the regime ahead beyond it) mark every crossing between two regimes,
# with its value, and the table lists them: at which value, which regime leads just below it
# and which leads just above it. Under each chart a cell describes the lines: a line that moves
# less than `TOLERANCE` across the values swept is read as flat, and a turn counts once the
# line has moved back by more than that.
#
# ## Teacher capacity
#
# `teacher_capacity` is the direct instruction the adults in the room can give per lesson, in
# lessons (one teacher teaching all lesson long is 1). The teacher first pays for adapting the
# work (each extra group, individually set levels and plans, and following the plans learners
# set themselves) and for scaffolding; the rest is split equally between instructional groups,
# and no group can use more than the whole lesson. Standardized teaching has one group and
# nothing individual to prepare, so it gains from more capacity only until its one group is
# taught all lesson long. In the other regimes the students of three groups get better fitted
# but less direct instruction each. Capacity works both ways for them: more of it means more
# direct instruction for each group and more supervision while students work on their own, but
# also less time working on their own, which is when a small group works together
# (`cooperative_learning`).

# %%
spec, result = run_sweep("teacher-capacity")
show_sweep(spec, result)

# %%
describe_sweep(spec, result)

# %% [markdown]
# ## Diagnostic noise
#
# `diagnostic_noise` is the error of the system's picture of a student's level (prior records
# and quizzes), in SD units; part of the first error persists all year (`judgement_bias`) and
# groups are never re-formed (`regroup_interval` = 0), so a misplaced student stays misplaced,
# and carries the expectations of the wrong group's level (`group_expectation`). Individualized
# and personalized paths are set from this picture; the personal regime's level is set by the
# learner, from their own imperfect sense of their level, and standardized teaching does not
# use it.

# %%
spec, result = run_sweep("diagnostic-noise")
show_sweep(spec, result)

# %%
describe_sweep(spec, result)

# %% [markdown]
# ## Self-regulation
#
# `self_regulation_mean` is the class's average starting self-regulation (0 to 1: knowing how to
# plan, monitor and choose suitable work). Self-regulation governs how well self-chosen work fits
# and how much self-directed time is spent on task, which matters in proportion to the autonomy
# a regime gives; through better strategies it also makes every minute of instruction and
# practice teach more, in every regime (`strategy_use`).

# %%
spec, result = run_sweep("self-regulation")
show_sweep(spec, result)

# %%
describe_sweep(spec, result)

# %% [markdown]
# ## Peer learning
#
# `peer_learning` is how much students learn, per day, from peers in their network who are
# ahead of them in the domain they share time on; the default is calibrated so that peers add
# about a tenth of a year's learning. Regimes differ in who their students' peers are: the
# whole class at random (standardized), ability groups (individualized), interest groups
# assigned by the system (personalized) or chosen by the learners (personal). Only peers ahead
# teach, so the students with most to gain from peers are those behind, and how many peers
# ahead they have depends on how the network was formed.

# %%
spec, result = run_sweep("peer-learning")
show_sweep(spec, result)

# %%
describe_sweep(spec, result)

# %% [markdown]
# Peers also change the shape of the outcomes, which the two panels above do not show: the
# spread of test scores and the Matthew effect (the correlation of the gain with the prior
# score; negative when students behind gain more), per regime, at every value:

# %%
s = result.summary
table = s[s.metric.isin(["sd_score", "matthew"])].pivot_table(
    index=["metric", "sweep_value"], columns="arm", values="mean", observed=True
)
table.round(3)


# %%
def sign_text(summary, arm):
    """Where an arm's Matthew effect is negative or positive across the sweep."""
    x, y = line(summary, "matthew", arm)
    if (y < 0).all():
        return "negative at every value"
    if (y > 0).all():
        return "positive at every value"
    i = int(np.flatnonzero(np.sign(y[1:]) != np.sign(y[:-1]))[0])
    at = x[i] - y[i] * (x[i + 1] - x[i]) / (y[i + 1] - y[i])
    return f"{'negative' if y[i + 1] < 0 else 'positive'} from about {at:.3g}"


Markdown(
    f"""
As `{spec.sweep_parameter}` rises:

- **SD of test scores**:
  {"; ".join(f"{a} {trend(s, 'sd_score', a, signed=False)}" for a in spec.arms)}.
- **Matthew effect**: {"; ".join(f"{a} {trend(s, 'matthew', a)}" for a in spec.arms)}. It is
  {join_words(f"{sign_text(s, a)} under {a}" for a in spec.arms)}.
"""
)

# %% [markdown]
# ## What depends on what
#
# The next cell reads the four sweeps together: for each regime, how far its effect on the test
# moves across the values swept of each mechanism (the largest minus the smallest of its
# means), and every crossing.

# %%
moves = {
    mech: {a: np.ptp(line(res.summary, "effect_size", a)[1]) for a in sp.arms if a != sp.reference}
    for mech, (sp, res) in sweeps.items()
}
names = {mech: f"`{sp.sweep_parameter}`" for mech, (sp, _) in sweeps.items()}
ref = next(iter(sweeps.values()))[0].reference
ref_moves = {
    mech: np.ptp(line(res.summary, "total_learning", ref)[1]) for mech, (sp, res) in sweeps.items()
}


def sensitivity(arm):
    """The mechanisms ordered by how far they move an arm's effect on the test."""
    r = {mech: moves[mech][arm] for mech in moves}
    order = sorted(r, key=r.get, reverse=True)
    return join_words(f"{names[m]} ({r[m]:.2f})" for m in order)


all_crossings = [
    f"{names[mech]}: {join_words(c)}"
    for mech, (_, res) in sweeps.items()
    if (c := crossings(res.summary))
]
ref_text = join_words(
    f"by {ref_moves[m]:.2f} SD with {names[m]}"
    for m in sorted(ref_moves, key=ref_moves.get, reverse=True)
)
Markdown(
    f"""
How far each regime's effect on the test moves across each sweep (SD), from the mechanism that
moves it most to the one that moves it least:

{chr(10).join(f"- **{a}**: {sensitivity(a)}" for a in moves[next(iter(moves))])}
- **{ref}** is the reference of these effects; its own total learning moves
  {ref_text}.

Crossings: {"; ".join(all_crossings) + "." if all_crossings else "none in any sweep."}
"""
)

# %% [markdown]
# These are one-at-a-time sweeps around the defaults; the parameters interact (for example,
# self-regulation matters more when there is less direct instruction). How far each conclusion
# holds when every parameter varies at once, and which assumptions drive it, is the global
# sensitivity analysis of notebook 05 and `simulations/box.py`.

# %%
plt.close("all")
