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
# # 04 · Scaffolding over several school years: from personalized to personal
#
# **Question.** Notebook 01 compared the regimes after one school year. Under the personal
# regime students' self-regulation grows, and a one-year test sees only part of what that is
# worth. Scaffolding is an investment: teacher time now for self-regulation that pays in every
# later year. Does what the personal regime gains grow from year to year, and how much of it is
# the scaffolding? And how does moving a class gradually, from personalized teaching through a
# blend to personal learning, compare with starting personal from day one?
#
# **Design.** The multi-year study `simulations/years.toml`: the same classrooms for several
# school years under four arms: standardized, personalized and personal teaching every year,
# and a *transition* that is personalized in year 1, a half-and-half blend of personalized and
# personal in year 2, and personal from year 3. Students keep their skills, engagement and
# self-regulation from one year to the next; each year starts with a new pretest, new groups, a
# new peer network and a new draw of each classroom's teacher. All arms share the same students
# and random numbers, so differences are paired by classroom. Scaffolding (teacher time spent
# coaching self-regulation instead of instructing) is part of the personal regime: the second
# table below gives each arm's share, year by year.
#
# Every result in the text is written by a cell from this run's own tables, so it stays true
# when the model, its parameters or the sizes here change (a test checks that the rest of the
# text quotes no result).

# %% tags=["parameters"]
# Study size. The defaults run the study file as written (150 classrooms, four years of 180
# days); the test suite uses a few classrooms and short years.
CLASSROOMS = 150  # classrooms per arm
N_DAYS = 180  # school days in each year
YEARS = 4  # school years
RUN_DIR = "runs/notebooks/04-years"  # where the run folder is written
FORMATS = ["png", "svg"]  # file formats of the run's own charts ([] for none)
TOLERANCE = 0.02  # a line that moves less than this over the years is read as flat

# %%
import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from toolkit.charts import SLIDE_SIZES, chart_style, plot_distribution, plot_trajectory
from toolkit.model import resolve_schedule
from toolkit.study import load_study, run_study
from toolkit.study.analysis import provenance_line
from toolkit.study.describe import describe_channels, describe_estimate, describe_trend, join_words

ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "simulations").is_dir())

# %%
spec = load_study(ROOT / "simulations" / "years.toml")
spec = dataclasses.replace(
    spec,
    classrooms=CLASSROOMS,
    decomposition=min(spec.decomposition, CLASSROOMS),
    years=YEARS,
    parameters=spec.parameters | {"n_days": N_DAYS},
    formats=tuple(FORMATS),
    source="simulations/years.toml",
)
schedules = {arm: resolve_schedule(s, spec.years) for arm, s in spec.arms.items()}
years = pd.Index(range(1, spec.years + 1), name="school year")
display(pd.DataFrame({arm: [r.name for r in s] for arm, s in schedules.items()}, index=years))
pd.DataFrame({arm: [r.scaffolding for r in s] for arm, s in schedules.items()}, index=years)

# %%
result = run_study(spec, ROOT / RUN_DIR, overwrite=True, progress=False)
print(provenance_line(result, spec))

# %% [markdown]
# The results paragraphs below are written from the run's tables; the next cell holds the few
# helpers they share.

# %%
REF = spec.reference
ARMS = list(spec.arms)
s = result.summary


def series(metric, arm, summary=None, column="mean"):
    """One arm's metric in every school year (1, 2, ...), from this run's summary or another."""
    t = s if summary is None else summary
    d = t[(t["metric"] == metric) & (t["arm"] == arm)].sort_values("year")
    return pd.Series(d[column].to_numpy(float), index=d["year"].to_numpy() + 1)


def trend(values, fmt="{:.2f}"):
    """How a yearly series moves, in words."""
    return describe_trend(
        values.index, values.to_numpy(), value=fmt.format, at="in year {:g}".format,
        tolerance=TOLERANCE,
    )  # fmt: skip


def every_year(values):
    """'every year' if a yearly series rises each year, else how it moves."""
    steps = np.diff(values.to_numpy())
    return "rises every year" if len(steps) and (steps > 0).all() else trend(values)


# %% [markdown]
# ## Self-regulation: the investment
#
# Self-regulation grows only where students have the autonomy to practise it, and much faster
# where teachers scaffold it (section 7.7 of `docs/odd.md`); the transition class is given
# autonomy and scaffolding from year 2. Mean self-regulation at the end of each year:

# %%
sr_end = (
    result.students.groupby(["arm", "year"], observed=True)["self_regulation_end"]
    .mean()
    .unstack()
    .rename(columns=lambda y: f"year {y + 1}")
)
sr_end.round(3)

# %%
growth = {a: series("self_regulation_growth", a) for a in ARMS}
Markdown(
    f"""
Self-regulation grows, per year, by
{"; ".join(f"{a}: {join_words(f'{v:.3f}' for v in growth[a])}" for a in ARMS)} (years 1 to
{spec.years}). It ends the last year at
{join_words(f"{sr_end.loc[a].iloc[-1]:.2f} ({a})" for a in ARMS)}, from
{sr_end.loc[REF].iloc[0] - growth[REF].iloc[0]:.2f} at the start.
"""
)

# %% [markdown]
# ## Does the investment pay?
#
# The test score at the end of each year (its level, in SD of the starting cohort, on the same
# scale every year), the total learning of each year across all domains, the growth of
# self-regulation in each year, and the spread of test scores:

# %%
with chart_style():
    fig, axes = plt.subplots(2, 2, figsize=SLIDE_SIZES["16:9"], layout="constrained")
for ax, metric in zip(
    axes.flat, ["score", "total_learning", "self_regulation_growth", "sd_score"], strict=True
):
    plot_trajectory(result.summary, metric, ax=ax)
for ax in list(axes.flat)[1:]:
    ax.get_legend().remove()
plt.show()

# %% [markdown]
# The effect on the test against standardized teaching, year by year, with 95% intervals:

# %%
es = result.summary[result.summary.metric == "effect_size"].copy()
es["school year"] = es["year"] + 1
es["effect [95% CI]"] = es.apply(
    lambda r: f"{r['mean']:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]", axis=1
)
es.pivot(index="school year", columns="arm", values="effect [95% CI]")

# %%
effect = {a: series("effect_size", a) for a in ARMS if a != REF}
lead = effect["personal"] - effect["personalized"]
vs_pers = effect["transition"] - effect["personalized"]
vs_personal = effect["transition"] - effect["personal"]


def years_where(values, test):
    """The school years in which a condition on a yearly series holds, in words."""
    hits = [str(y) for y, v in values.items() if test(v)]
    if not hits:
        return "in no year"
    if len(hits) == len(values):
        return "in every year"
    return f"in year{'s' if len(hits) > 1 else ''} {join_words(hits)}"


last = spec.years
t_last = es[es["arm"] == "transition"].sort_values("year").iloc[-1]
transition_last = describe_estimate(t_last["mean"], t_last.ci_low, t_last.ci_high, unit="SD")
tl = {a: series("total_learning", a) for a in ARMS}
eng = {a: series("engagement", a) for a in ARMS}
Markdown(
    f"""
In this run ({spec.classrooms} classrooms, {spec.years} years):

- **On the test**, against standardized teaching, the personal regime's effect
  {trend(effect["personal"], "{:+.2f} SD")}, personalized teaching's
  {trend(effect["personalized"], "{:+.2f} SD")}. The personal regime's lead over personalized
  teaching {trend(lead, "{:+.2f} SD")}.
- **Total learning** of each year, across all domains:
  {"; ".join(f"{a} {trend(tl[a])}" for a in ARMS)}.
- **Engagement**: {"; ".join(f"{a} {trend(eng[a])}" for a in ARMS)}.
- **The transition class** follows personalized teaching in year 1 (it is the same regime).
  On the test it is ahead of personalized teaching {years_where(vs_pers, lambda v: v > 0)}
  and behind the personal regime {years_where(vs_personal, lambda v: v < 0)}; after
  {last} years its effect is {transition_last}
  against {effect["personal"].iloc[-1]:+.2f} for the personal regime and
  {effect["personalized"].iloc[-1]:+.2f} for personalized teaching.
"""
)

# %% [markdown]
# **Why.** The decomposition (`decomposition.csv`) splits each arm's difference from standardized
# teaching at the end of the last year into channels, replaying all the years with each
# channel taken from one regime or the other (as in notebook 01): self-regulation acts through
# time on task and through the efficiency of students' strategies.

# %%
dec = result.decomposition
n_dec = int(dec["n_units"].iloc[0])
Markdown(
    f"""
On the test after {spec.years} years ({n_dec} classrooms decomposed):

{chr(10).join(f"- **{a}**: {describe_channels(dec, a)}." for a in ARMS if a != REF)}
"""
)

# %% [markdown]
# ## Spread
#
# Gains depend on the skills and the self-regulation students bring, so differences between
# students can compound from year to year. The distribution of test scores after the last
# year:

# %%
plot_distribution(result.students, "score")
plt.show()

# %%
sd = {a: series("sd_score", a) for a in ARMS}
matthew = {a: series("matthew", a) for a in ARMS}
rising = [a for a in ARMS if every_year(sd[a]) == "rises every year"]
Markdown(
    f"""
- **SD of test scores**: {"; ".join(f"{a} {trend(sd[a])}" for a in ARMS)}.
  {f"It rises every year under {join_words(rising)}." if rising else ""}
- **Matthew effect** (the correlation of each year's gain with that year's pretest):
  {"; ".join(f"{a} {trend(matthew[a], '{:+.2f}')}" for a in ARMS)}.
"""
)

# %% [markdown]
# ## How much of it is the scaffolding?
#
# The model lets the investment pay because self-regulation, once built, improves every later
# year's self-chosen work, time on task and the efficiency of every minute (sections 7.4 and 7.7
# of `docs/odd.md`). To see what the scaffolding itself contributes, the same classrooms run
# the personal regime once more with no teacher time spent on scaffolding (self-regulation
# then grows only through autonomous practice), against the personal regime as it is.

# %%
variant = dataclasses.replace(
    spec,
    name="years-no-scaffolding",
    arms={
        "personal": "personal",
        "personal, no scaffolding": {"base": "personal", "scaffolding": 0.0},
    },
    reference="personal",
    decomposition=0,
)
plain = run_study(variant, ROOT / RUN_DIR / "no-scaffolding", overwrite=True, progress=False)
print(provenance_line(plain, variant))
v = plain.summary
v[v.metric.isin(["score", "self_regulation_growth"])].pivot_table(
    index="year", columns=["metric", "arm"], values="mean", observed=True
).round(3)

# %%
NO = "personal, no scaffolding"
gap = series("score", NO, v, column="diff")
last_gap = v[(v.metric == "score") & (v.arm == NO)].sort_values("year").iloc[-1]
final = {
    "without": series("score", NO, v).iloc[-1],
    "with": series("score", "personal", v).iloc[-1],
    "personalized": series("score", "personalized").iloc[-1],
    REF: series("score", REF).iloc[-1],
}
sr_growth = {a: series("self_regulation_growth", a, v).sum() for a in ("personal", NO)}
Markdown(
    f"""
Without scaffolding, the personal regime's test score after {spec.years} years is
{final["without"]:.2f} SD against {final["with"]:.2f} with it (personalized teaching:
{final["personalized"]:.2f}, standardized {final[REF]:.2f}; all in SD of the starting
cohort). The paired difference from the personal regime with scaffolding
{trend(gap, "{:+.2f} SD")}, ending at
{describe_estimate(last_gap["diff"], last_gap.diff_ci_low, last_gap.diff_ci_high, unit="SD")};
self-regulation grows by {sr_growth[NO]:.2f} over the {spec.years} years without scaffolding,
against {sr_growth["personal"]:.2f} with it. Without scaffolding the personal regime is
{"ahead of" if final["without"] > final["personalized"] else "behind"} personalized teaching
after {spec.years} years.
"""
)

# %% [markdown]
# ## What this does and does not say
#
# The size of the return rests on the scaffolding effect (`scaffolding_effect`, calibrated to
# the upper end of the training studies, Dignath & Büttner 2008), on how much self-regulation
# raises the efficiency of learning (`strategy_use`), and on the assumption that
# self-regulation does not fade between years. Sweep the `scaffolding` axis (`[sweep] parameter
# = "scaffolding"`), `scaffolding_effect` or `strategy_use` to see how it moves.

# %%
plt.close("all")
