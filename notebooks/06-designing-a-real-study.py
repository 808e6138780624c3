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
# # 06 · Designing a real study: how many classrooms to see a change in spread?
#
# **Question.** The model predicts that personalized teaching raises test scores a little above
# individualized teaching and also *widens* their spread (the pool of classrooms below prints
# both). A school district that wants to know whether this happens in real classrooms would run
# a cluster-randomized trial: classrooms, not students, are assigned to one regime or the
# other. How many classrooms does such a trial need to detect the difference in the mean, and
# the difference in the spread, with 80% power?
#
# Every number in this notebook's text comes from its own results: the paragraphs that report
# them are written by the cells, so they stay true when the model, its parameters or the sizes
# here change (a test checks that the rest of the text quotes only the design's inputs).
#
# **Approach.** Power by simulation. The model simulates a pool of classrooms under both regimes
# on the same students (common random numbers). Each simulated trial draws classrooms from the
# pool, assigns half to each regime, and turns the students into what the study would collect
# (`toolkit.synthetic`): a pretest and a posttest of a chosen reliability, a sample of students
# per class, nonresponse that is more likely among disengaged students, questionnaire scales.
# The trial is then analysed exactly as the real one would be, with the mixed models of
# `toolkit.power` (checked against R's nlme and lme4): the difference in means from a
# random-intercept model with the pretest as covariate, and the difference in spread from a
# model that lets each arm have its own residual variance (a likelihood-ratio test). Power is
# the share of simulated trials in which the test rejects at the 5% level.
#
# The effect sizes come from the model, so everything here is conditional on the model being
# right about personalized teaching, which no real study has yet checked: it is a *prediction*
# (see the validation report, `python -m toolkit validate`). The point of the notebook is the
# method, which a methods section can cite and rerun with other effect sizes.

# %% tags=["parameters"]
# Study size. The defaults take about four minutes here (one core); the test suite runs a few
# classrooms and replications.
POOL = 400  # simulated classrooms, each under both regimes
N_DAYS = 180  # school days in the year
REPLICATIONS = 300  # simulated trials per number of classrooms
SIZES = [20, 40, 80, 120, 160, 200]  # classrooms in the trial, both arms together
SEED = 20261201
ALPHA = 0.05  # significance level of the trial's tests
TARGET = 0.8  # power the trial is designed for
OUTPUT_DIR = ""  # folder for the methods figure; empty: not saved

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown

from toolkit.charts import SLIDE_SIZES, chart_style
from toolkit.charts.style import save_figure
from toolkit.engine import simulate_arms
from toolkit.model import Parameters, classroom_seed
from toolkit.power import (
    ModelTrial,
    cluster_means_analysis,
    cluster_trial_power,
    describe_needed,
    normal_cluster_trial,
    plot_power_curve,
    power_curve,
    spread_test,
)
from toolkit.survey import cronbach_alpha, icc, mixed_model
from toolkit.synthetic import ScaleSpec, SurveyDesign

# %% [markdown]
# ## The pool of classrooms
#
# Every classroom of the pool is simulated under both regimes with the same students and the
# same random numbers, so a classroom's outcome under the regime a trial assigns it is its
# potential outcome under that regime.

# %%
params = Parameters(n_days=N_DAYS)
seeds = [classroom_seed(SEED, i) for i in range(POOL)]
pool = simulate_arms(
    {"individualized": "individualized", "personalized": "personalized"}, params, seeds
)
truth = pool.groupby("arm", observed=True).agg(
    mean_score=("score", "mean"), sd_score=("score", "std")
)
sd = truth["sd_score"]
print(
    f"SD of test scores in the pool: personalized {sd['personalized']:.2f} against "
    f"individualized {sd['individualized']:.2f}; mean {truth['mean_score']['personalized']:.2f} "
    f"against {truth['mean_score']['individualized']:.2f}"
)
truth.round(3)

# %% [markdown]
# ## What one trial collects
#
# The planned study: two waves (a pretest in the autumn, a posttest at the end of the year)
# with a test of reliability 0.85, 20 students sampled in each class, 90% answering each wave,
# nonresponse more likely among disengaged students (log-odds 0.5 per SD of engagement), and a
# six-item engagement scale of reliability 0.85 at the second wave.

# %%
design = SurveyDesign(
    waves=2,
    test_reliability=0.85,
    students_per_class=20,
    student_response=0.9,
    response_slope=0.5,
    response_on="engagement",
    scales=(ScaleSpec("eng", "engagement", n_items=6, reliability=0.85, reverse=(3,)),),
)
trial = ModelTrial(pool, "individualized", "personalized", design)
one = trial(40, np.random.default_rng(1))
one.head()

# %% [markdown]
# The trial's data are an ordinary survey file, and the survey helpers treat them as one:
# the engagement scale's alpha, the intraclass correlation of the posttest, and the analysis
# model of the mean, as lme4 would print it.

# %%
alpha = cronbach_alpha(one, one.attrs["keys"]["eng"]).alpha
icc_post = icc(one, "posttest", "class")["icc"].iloc[0]
print(f"engagement scale: alpha {alpha:.2f}; posttest ICC {icc_post:.2f}")
print(
    mixed_model(
        one.assign(pers=(one.arm == "personalized") * 1.0),
        "posttest ~ pers + pretest + (1 | class)",
    )
)

# %% [markdown]
# The spread question needs a model in which each arm has its own residual variance, nlme's
# `varIdent`: the likelihood-ratio test against one common variance.

# %%
pd.Series(
    spread_test(one, "posttest", "class", "arm", reference="individualized", covariates=["pretest"])
)

# %% [markdown]
# ## First, check the machinery against closed-form power
#
# For a design where power has a formula (a two-arm cluster trial analysed on cluster means:
# the noncentral t with J − 2 degrees of freedom and the design effect 1 + (n − 1) ICC), the
# simulation must agree with it to Monte Carlo error. The test suite checks this with thousands
# of replications (`tests/power/test_closed_form.py`); here a quick look.

# %%
check = power_curve(
    normal_cluster_trial(0.4, 0.2, 20),
    cluster_means_analysis(),
    [20, 40],
    REPLICATIONS,
    seed=SEED,
    alpha=ALPHA,
).table
check["closed_form"] = [cluster_trial_power(0.4, int(j), 20, 0.2, ALPHA) for j in check["size"]]
check[["size", "power_effect", "power_effect_se", "closed_form"]]

# %% [markdown]
# ## Power of the planned trial
#
# Each simulated trial of J classrooms is analysed as above; power is the share of
# `REPLICATIONS` trials that reject, with its Monte Carlo standard error.

# %%
planned = power_curve(
    trial, trial.analysis(), SIZES, REPLICATIONS, seed=SEED, alpha=ALPHA, power=TARGET
)
cols = [
    "size",
    "power_effect",
    "power_effect_se",
    "effect_mean",
    "mde_effect",
    "power_spread",
    "power_spread_se",
    "sd_ratio_mean",
    "mde_sd_ratio",
]
planned.table[cols].round(3)

# %%
need_mean, need_spread = planned.needed("effect_p"), planned.needed("spread_p")
pd.DataFrame({"mean": need_mean, "spread": need_spread}).round(1)

# %% [markdown]
# ## Design choices: more students per class, or a second wave?
#
# The two questions respond to the levers differently. The mean difference is a
# between-classroom comparison: its precision grows with the number of classrooms, and with a
# pretest that takes out the (large) differences between classes at the start; once the
# pretest has done that, little variance is left between classes, so the number of students
# per class matters too. The spread is estimated from the students *within* classrooms: it gains
# from every extra student, and needs no pretest to separate it from the class differences.
# Three variants of the design show this: 10 students sampled per class instead of 20, and a
# single wave (no pretest).

# %%
variants = {
    "planned (20 students, 2 waves)": planned,
    "10 students per class": power_curve(
        ModelTrial(pool, "individualized", "personalized", design.replace(students_per_class=10)),
        trial.analysis(),
        SIZES,
        REPLICATIONS,
        seed=SEED,
        alpha=ALPHA,
        power=TARGET,
    ),
}
one_wave = ModelTrial(pool, "individualized", "personalized", design.replace(waves=1))
variants["posttest only (1 wave)"] = power_curve(
    one_wave, one_wave.analysis(), SIZES, REPLICATIONS, seed=SEED, alpha=ALPHA, power=TARGET
)
summary = pd.DataFrame(
    {
        name: {
            f"classrooms for {TARGET:.0%} (mean)": c.needed("effect_p")["interpolated"],
            "extrapolated (mean)": c.needed("effect_p")["extrapolated"],
            f"classrooms for {TARGET:.0%} (spread)": c.needed("spread_p")["interpolated"],
            "extrapolated (spread)": c.needed("spread_p")["extrapolated"],
        }
        for name, c in variants.items()
    }
).T
summary.round(0)

# %% [markdown]
# ## The figure for the methods section
#
# Power to detect the model's predicted difference in the mean (left) and in the spread (right)
# against the number of classrooms, for the three designs, with 95% Monte Carlo bands and the
# 80% line.

# %%
with chart_style():
    fig, axes = plt.subplots(1, 2, figsize=SLIDE_SIZES["16:9"], layout="constrained")
tables = {name: c.table for name, c in variants.items()}
plot_power_curve(tables, "effect", ax=axes[0], title="Difference in mean (ANCOVA, mixed model)")
plot_power_curve(tables, "spread", ax=axes[1], title="Difference in spread (varIdent LR test)")
fig.suptitle(
    "Personalized vs individualized teaching: power of a cluster-randomized trial "
    f"({REPLICATIONS} simulated trials per point; effects are the model's predictions)",
    x=0.01,
    ha="left",
)
if OUTPUT_DIR:
    save_figure(fig, Path(OUTPUT_DIR) / "power-methods", formats=("png", "svg"))

# %% [markdown]
# ## What the numbers say, and what to write in the methods section
#
# The next cell writes this section from the results above (the predicted differences, the
# classrooms each design needs), so that its numbers are always this run's.


# %%
def need(curve, test, short=False):
    """Classrooms a design needs for the target power, in words."""
    return describe_needed(curve.needed(test), short=short, unit="classrooms")


def count(curve, test):
    """Classrooms needed as one number: interpolated, else at most, else extrapolated."""
    n = curve.needed(test)
    for key in ("interpolated", "at_most", "extrapolated"):
        if n[key] == n[key]:
            return n[key]
    return float("nan")


last, first = planned.table.iloc[-1], planned.table.iloc[0]
d_mean, ratio = last["effect_mean"], last["sd_ratio_mean"]
fewer, pre = variants["10 students per class"], variants["posttest only (1 wave)"]
easier = count(planned, "spread_p") < count(planned, "effect_p")
Markdown(
    f"""
At this run's parameters ({REPLICATIONS} simulated trials per size, a pool of {POOL}
classrooms), the predicted difference in the posttest mean is {d_mean:.3f} SD and the predicted
ratio of residual SDs {ratio:.2f} (personalized over individualized). With the planned design
({design.students_per_class} students per class, pretest and posttest), for {TARGET:.0%} power:

- the **spread**: {need(planned, "spread_p")}; its power is {first["power_spread"]:.2f} with
  {first["size"]:.0f} classrooms, the smallest trial simulated;
- the **mean**: {need(planned, "effect_p")}; its minimum detectable difference is
  {last["mde_effect"]:.3f} SD with {last["size"]:.0f} classrooms.

The levers differ. Halving the students sampled per class, the mean needs
{need(fewer, "effect_p", short=True)} and the spread {need(fewer, "spread_p", short=True)}.
Dropping the pretest, the mean needs {need(pre, "effect_p", short=True)} and the spread
{need(pre, "spread_p", short=True)}: without the pretest the posttest's between-classroom
variance stays in the comparison of means. Here a study of the spread is
{"easier" if easier else "harder"} to power than one of the mean.

The sentence for a methods section: *power was estimated by simulation ({REPLICATIONS}
simulated trials per design) from an agent-based model of the two regimes calibrated to a
year's published growth, Tennessee STAR's class-size effect, peer effects and self-regulation
training (and checked against effects it was not tuned to); each simulated trial was measured as
planned (test reliability {design.test_reliability}, {design.students_per_class} students per
class, {design.student_response:.0%} response per wave) and analysed with the planned mixed
models; {need(planned, "effect_p", short=True)} give {TARGET:.0%} power to detect the predicted
difference in mean ({d_mean:.3f} SD) and {need(planned, "spread_p", short=True)} the predicted
difference in residual SD (ratio {ratio:.2f}).*
"""
)

# %% [markdown]
# Two cautions belong next to that sentence:
#
# - the effects are the model's predictions for personalized teaching, not measurements; a
#   study should be powered for the smallest effect that would matter, and the minimum
#   detectable effects (`mde_effect`, `mde_sd_ratio`) say what each design can see;
# - the predicted effects carry the calibration's parameter uncertainty: running the comparison
#   over posterior draws (`[parameters] from = "posterior"` in a study file, see
#   docs/calibration.md) gives their range.
#
# The same analysis from the command line: `python -m toolkit power
# simulations/power/personalized-vs-individualized.toml`.
