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
# # 07 · Your own students: the four regimes on a real cohort
#
# **Question.** A researcher holds a file about real pupils in real classes: prior test scores,
# perhaps questionnaires, class and school membership, survey weights. How would *these*
# pupils, in *these* classes, fare under each regime?
#
# **Approach.** A `[cohort]` table in a study file maps the file's columns onto the model's
# student attributes. Test scores become skills in the model's SD units against a stated
# reference population, with their measurement error handled through the test's reliability (or
# the file's plausible values); questionnaire items become interests and self-regulation; missing
# values are imputed by chained equations; what the file does not measure is drawn from the
# model's own distribution *given* what it does measure. Every regime then runs on the real
# classes at their real sizes, on common random numbers, once per imputed cohort, and the results
# are estimated with the file's weights and survey design and pooled by Rubin's rules.
#
# The example is `nlschools` (Snijders & Bosker 1999): 2,287 Dutch pupils of grade 8 in 133
# classes, with a language test score, verbal IQ, family SES and the size of each class. Then
# a PISA file with plausible values and replicate weights. `docs/your-own-students.md`
# documents the mapping's keys.

# %% tags=["parameters"]
# Study size. The defaults run the study files as they are (a few minutes here); the test suite
# runs this notebook with a short year, two cohorts and a few PISA schools.
N_DAYS = 180  # school days in the year
IMPUTATIONS = 5  # cohorts built from the nlschools file (draws of what it does not measure)
DECOMPOSITION = 60  # classes decomposed into channels (0: none)
PISA_SCHOOLS = 0  # PISA schools to use (0: all 177)
RUN_DIR = "runs/notebooks/07-your-own-students"  # where the run folders go (relative to the repo)
FORMATS = ["png", "svg"]  # file formats of the runs' own charts ([] for none)

# %%
import tomllib
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from toolkit.charts import (
    SLIDE_SIZES,
    chart_style,
    plot_class_effects,
    plot_cohort_comparison,
    plot_metric,
    plot_tails,
)
from toolkit.charts.decomposition import plot_decomposition
from toolkit.datasets import load_dataset
from toolkit.realcohort import DataCohort, format_cohort_summary
from toolkit.study import parse_study, run_study
from toolkit.survey import icc

ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "simulations").is_dir())
SIM = ROOT / "simulations"
pd.set_option("display.width", 160)


def study(name: str, **cohort: object) -> object:
    """A study file of simulations/, at this notebook's size (cohort: changes to [cohort])."""
    data = tomllib.loads((SIM / name).read_text())
    data["parameters"] = data.get("parameters", {}) | {"n_days": N_DAYS}
    data["study"]["decomposition"] = DECOMPOSITION
    data["output"]["formats"] = FORMATS
    if "data" in cohort:  # a table of this notebook's instead of the file the study names
        data["cohort"].pop("dataset", None)
    data["cohort"] |= cohort
    return parse_study(data, source=f"simulations/{name}", base=SIM)


# %% [markdown]
# ## 1. The file
#
# One row per pupil. `class` is the class, `GS` the class's size (recorded for the class, not
# counted from the file: the file lists a sample of each class), `lang` the language test.

# %%
nl = load_dataset("nlschools")
sizes = nl.groupby("class").agg(listed=("lang", "size"), size=("GS", "first"))
print(f"{len(nl):,} pupils in {nl['class'].nunique()} classes")
print(sizes.describe().loc[["min", "50%", "max"]].T)
nl.head()

# %% [markdown]
# ## 2. The mapping, and what `check` says it will do
#
# The study file `simulations/nlschools.toml` maps the language score to the model's reading
# skill (with an assumed reliability of 0.85, since the data do not report it) against the file's
# own pupils as the reference population, and takes the class sizes from `GS`. Its `[cohort]`
# table:

# %%
text = (SIM / "nlschools.toml").read_text()
print(text[text.index("[cohort]") : text.index("[output]")])

# %% [markdown]
# `python -m toolkit check simulations/nlschools.toml` prints what will be read from the data
# and what will be drawn (the same text as here):

# %%
spec = study("nlschools.toml", imputations=IMPUTATIONS)
print(spec.cohort.describe(spec.base_parameters()))

# %% [markdown]
# ## 3. The cohort built from the file
#
# Each pupil's true reading is drawn given the score (a score of reliability 0.85 is not the
# skill itself); mathematics, the untested domains, interests, self-regulation and aptitude are
# drawn from the model's joint distribution given reading and the class, as the model's own
# correlations say; classmates that the file does not list are drawn the same way, and are
# simulated but not counted. The built cohort keeps the real classes' differences: the share of
# the variance of reading between classes follows the data, not the model's `class_icc` (a little
# above the scores' own, because a test's error lies within classes).

# %%
real = spec.cohort.build(spec.base_parameters(), spec.seed)
cohort = real.table()
first = cohort[cohort["cohort"] == 0]
print(first.groupby("status", observed=True).size().rename("students").to_string())
pupils = first[first["status"] == "file"]
print(
    f"\nICC of the language score in the file: "
    f"{icc(nl, 'lang', 'class')['icc'].iloc[0]:.2f}; of the built reading skill: "
    f"{icc(pupils, 'skill_reading', 'class')['icc'].iloc[0]:.2f}; the model's class_icc: "
    f"{spec.base_parameters().class_icc}"
)
print(
    "correlation of reading with mathematics (drawn given it): "
    f"{np.corrcoef(pupils['skill_reading'], pupils['skill_mathematics'])[0, 1]:.2f}"
)
real.sources[["attribute", "source", "n_data", "n_drawn"]]

# %% [markdown]
# ## 4. The four regimes on the 133 real classes

# %%
nl_run = run_study(spec, ROOT / RUN_DIR / "nlschools", overwrite=True, progress=False)
print(
    format_cohort_summary(
        nl_run.summary,
        metrics=("score", "effect_size", "total_learning", "engagement", "sd_score", "p90_p10",
                 "matthew", "mean_pairwise_distance", "diversity_of_excellence"),
    )
)  # fmt: skip

# %% [markdown]
# Means are weighted over the file's pupils (here every pupil counts one), class-level metrics
# (spread, profile diversity) over classes weighted by their pupils; intervals combine the
# jackknife over classes (which also carries the simulation's own variation) with the variation
# between the cohorts. The last table says how much of each difference's variance comes from
# what the file does not pin down (the true scores and the attributes drawn): on the test it is
# a large share, because mathematics, interests and self-regulation are drawn for every pupil.
#
# The effect on the test and the outcomes by prior achievement:

# %%
with chart_style():
    fig, axes = plt.subplots(1, 2, figsize=SLIDE_SIZES["16:9"], layout="constrained")
plot_metric(nl_run.summary, "effect_size", ax=axes[0])
plot_tails(nl_run.tails, ax=axes[1])
plt.show()

# %% [markdown]
# Class by class: each class's paired difference in the test score (personal against
# standardized teaching), with the whole cohort's pooled difference as a band. Classes differ,
# but most of the spread between them is the simulation's noise within a class of a few dozen
# pupils (the intervals), not a class that the regime fails.

# %%
with chart_style():
    fig, ax = plt.subplots(figsize=SLIDE_SIZES["16:9"], layout="constrained")
plot_class_effects(nl_run.effects_by_class, "personal", "score", ax=ax, summary=nl_run.summary)
plt.show()

# %% [markdown]
# Why: the channels of the difference, on the real classes (the first cohort, `DECOMPOSITION`
# classes spread through the file, weighted by their pupils).

# %%
if not nl_run.decomposition.empty:
    with chart_style():
        fig, ax = plt.subplots(figsize=SLIDE_SIZES["16:9"], layout="constrained")
    plot_decomposition(nl_run.decomposition, "personal", "effect_size", ax=ax)
    plt.show()

# %% [markdown]
# ## 5. Real pupils against drawn ones
#
# `simulations/nlschools-drawn.toml` is the same study on the same classes at the same sizes, with
# every attribute drawn from the model instead (`attributes = "drawn"`). The difference between
# the two is what the real pupils change about the comparison.

# %%
drawn = run_study(
    study("nlschools-drawn.toml"), ROOT / RUN_DIR / "nlschools-drawn", overwrite=True,
    progress=False,
)  # fmt: skip
with chart_style():
    fig, axes = plt.subplots(1, 2, figsize=SLIDE_SIZES["16:9"], layout="constrained")
both = {"real pupils": nl_run.summary, "drawn pupils": drawn.summary}
plot_cohort_comparison(both, "effect_size", ax=axes[0])
plot_cohort_comparison(both, "sd_score", ax=axes[1])
plt.show()

# %% [markdown]
# ## 6. When the file has gaps
#
# Real files have missing values. Suppose a fifth of the language scores were missing, more often
# for pupils from poorer families. Listwise deletion would analyse a richer sample than the
# school's; multiple imputation uses what predicts the missing scores (here verbal IQ and SES, as
# `auxiliary` columns) and carries the uncertainty into the intervals. The toolkit never drops
# pupils silently: `missing = "listwise"` says how many it left out.

# %%
rng = np.random.default_rng(7)
gappy = nl.copy()
p_missing = 0.35 / (1 + np.exp((gappy["SES"] - gappy["SES"].median()) / 5))
gappy.loc[rng.random(len(gappy)) < p_missing, "lang"] = np.nan
mapping = {
    "data": gappy,
    "class": "class",
    "class_size": "GS",
    "auxiliary": ["IQ", "SES"],
    "imputations": IMPUTATIONS,
    "achievement": {"reading": {"column": "lang", "reliability": 0.85}},
}
params = spec.base_parameters()
imputed = DataCohort(mapping, parameters=params)
print(imputed.describe(params))
with warnings.catch_warnings(record=True) as said:
    warnings.simplefilter("always")
    DataCohort(mapping | {"missing": "listwise"}, parameters=params)
print("\nlistwise:", said[0].message)

# %% [markdown]
# The complete cases score above the whole file: the gaps hid weaker readers. The imputed
# pupils' reading (from verbal IQ, SES and their class) sits below the others', near where their
# real scores lie (the imputations are standardized on the completed file, the true values on the
# real one, so the two scales differ a little).

# %%
built = imputed.build(params, seed=1)
t = built.table()
t = t[t["status"] == "file"]
gap = t["row"].astype(int).isin(np.where(gappy["lang"].isna())[0])
z = (nl["lang"] - nl["lang"].mean()) / nl["lang"].std()
print(
    f"share missing {gappy['lang'].isna().mean():.1%}; language score of all pupils "
    f"{nl['lang'].mean():.2f}, of the complete cases {gappy['lang'].mean():.2f}"
)
print(
    f"reading on the model's scale (the whole file's mean at {z.mean():+.2f}): pupils with a "
    f"score {t.loc[~gap, 'skill_reading'].mean():+.3f}, imputed ones "
    f"{t.loc[gap, 'skill_reading'].mean():+.3f}, true value of the imputed ones "
    f"{z[gappy['lang'].isna()].mean():+.3f}"
)

# %% [markdown]
# ## 7. Plausible values and replicate weights: PISA
#
# Large-scale assessments publish several plausible values of each student's proficiency and
# replicate weights for the sampling variance. `simulations/pisa-nz.toml` maps PISA 2012's New
# Zealand mathematics (five plausible values on PISA's scale, mean 500 and SD 100) and its final
# student weights; one cohort is built per plausible value, and the replicate weights of the
# survey helpers' jackknife over schools give the sampling variance. PISA samples students
# within schools, not classes, so each school's sampled students are simulated as one class.

# %%
pisa_file = load_dataset("pisamaths")
if PISA_SCHOOLS:
    keep = sorted(pisa_file["SCHOOLID"].unique())[:PISA_SCHOOLS]
    pisa_file = pisa_file[pisa_file["SCHOOLID"].isin(keep)]
pisa = study("pisa-nz.toml", data=pisa_file)  # the same mapping, on this notebook's file
print(pisa.cohort.describe(pisa.base_parameters()))
pisa_run = run_study(pisa, ROOT / RUN_DIR / "pisa-nz", overwrite=True, progress=False)
print(format_cohort_summary(pisa_run.summary, metrics=("score", "effect_size", "sd_score")))

# %% [markdown]
# Here the imputation's share of the variance is the plausible values' disagreement plus the
# attributes PISA does not measure; the `fmi` column of `summary.csv` is the fraction of missing
# information as `mitools::MIcombine` reports it.

# %%
s = pisa_run.summary
s[s["metric"].isin(["score", "effect_size"])][
    ["metric", "arm", "mean", "se", "fmi", "imputation_share", "n_units"]
].round(3)  # fmt: skip

# %% [markdown]
# ## 8. Does it recover the truth? The round trip
#
# `tests/realcohort/test_roundtrip.py` simulates a cohort, measures it as a school survey would
# (`toolkit.synthetic.measure_cohort`: tests of reliability 0.8, interest and self-regulation
# questionnaires, test and questionnaire nonresponse that depends on the scores), rebuilds
# cohorts from the measurements, and runs the regimes on both with the same random numbers. Over
# repeated round trips the pooled 95% intervals cover the true cohort's results and the
# population's at about their nominal rate, and reading the tests on a wrong scale fails the
# check (`python tests/realcohort/test_roundtrip.py 30` prints the coverage;
# `docs/your-own-students.md` quotes it).
#
# **Limits.** The attributes a file does not measure come from the model: with only a reading
# score, most of what drives the differences between regimes (interests, self-regulation,
# aptitude) is the model's, given reading, and the intervals say so (a large imputation share).
# A file with interest and self-regulation questionnaires pins down more. Schools named in the
# file share their effectiveness and part of their classes' starting level, as the model's
# schools do; teachers are the model's, drawn per class and year.
