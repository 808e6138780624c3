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
# # 03 · A real questionnaire: from the raw export to reliability, multilevel models and diversity
#
# This notebook walks through what a researcher does with real survey data, using only public
# data that installs with the toolkit (nothing is downloaded):
#
# 1. **Raw export.** The Big Five Inventory items of `psych::bfi` (2,800 people, 25 six-point
#    Likert items, with missing answers), written out as a Qualtrics CSV export with text labels,
#    question wording and a few data-entry problems, then read back.
# 2. **Codebook.** Validation (problems named by column and row), recoding of labels to
#    numbers, reverse keys, missing codes.
# 3. **Items.** Likert diverging bars and an item-by-group heatmap.
# 4. **Reliability.** Cronbach's alpha with psych's full table, McDonald's omega.
# 5. **Scale scores** and group comparisons with effect sizes and confidence intervals.
# 6. **Multilevel model** on `MASS::nlschools` (2,287 pupils in 133 classes): ICC, design
#    effect, random intercepts and slopes, laid out as lme4 prints them.
# 7. **Diversity of outcomes** with the same metrics the simulations use, by group and by class.
# 8. **Large-scale assessment**: PISA 2012 mathematics (New Zealand) with plausible values and
#    jackknife replicate weights.
#
# Every statistic is checked against R (psych, lme4, survey, mitools) in `tests/survey`.

# %% tags=["parameters"]
SEED = 20240611  # seed of the data-entry problems injected into the raw export
N_TYPOS = 3  # how many answers to mistype in the export
OMEGA_FACTORS = 5  # group factors for omega (the Big Five)
OUTPUT_DIR = ""  # folder to save the figures in ("" = do not save)

# %%
import csv
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from toolkit.charts import distribution_by_group, item_heatmap, likert_bars
from toolkit.charts.style import save_figure
from toolkit.datasets import codebook_path, dataset_info, load_dataset
from toolkit.survey import (
    cronbach_alpha,
    diversity_by_cluster,
    diversity_by_group,
    effect_size_table,
    icc,
    jackknife_design,
    lsa_mean,
    lsa_quantile,
    lsa_regression,
    lsa_spread,
    mixed_model,
    omega,
    question_text,
    read_codebook,
    read_survey,
)

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)
_workdir = tempfile.TemporaryDirectory(prefix="survey-notebook-")  # removed by the last cell
workdir = Path(_workdir.name)


def save(ax, name):
    """Save a chart as PNG and SVG when OUTPUT_DIR is set."""
    if OUTPUT_DIR:
        save_figure(ax.figure, Path(OUTPUT_DIR) / name, formats=("png", "svg"))


# %% [markdown]
# ## 1. The raw export
#
# `psych::bfi` ships as numbers. To walk the whole pipeline we first write it the way a survey
# platform exports it: answers as text labels ("Moderately Accurate"), a respondent ID, and
# Qualtrics' two extra header rows (question wording, then `{"ImportId": ...}`). We also make
# the kind of mistakes real exports contain: a mistyped label, a number outside the scale and a
# duplicated ID.

# %%
codebook = read_codebook(codebook_path("bfi"))
print(codebook)
print(dataset_info("bfi"))
bfi = load_dataset("bfi")

export = codebook.decode(bfi).reset_index().astype(object)  # numbers -> labels, ID as a column
rng = np.random.default_rng(SEED)
typo_rows = sorted(rng.choice(len(export), size=N_TYPOS, replace=False).tolist())
export.loc[typo_rows, "A2"] = export.loc[typo_rows, "A2"].str[:-1]  # "Very Accurat"
export.loc[10, "C1"] = 7  # a code typed in instead of a label, outside the 1-6 scale
export.loc[21, "id"] = export.loc[20, "id"]  # the same ID given to two people

texts = {name: item.text or "" for name, item in codebook.items.items()}
raw_path = workdir / "bfi_qualtrics_export.csv"
with raw_path.open("w", newline="", encoding="utf-8-sig") as fh:
    out = csv.writer(fh)
    out.writerow(export.columns)
    out.writerow([texts.get(c, "Respondent ID") for c in export.columns])
    out.writerow([json.dumps({"ImportId": f"QID_{c}"}) for c in export.columns])
    for row in export.itertuples(index=False):
        out.writerow(["" if pd.isna(v) else v for v in row])
print(raw_path.read_text(encoding="utf-8-sig").splitlines()[:4])

# %% [markdown]
# `read_survey` recognises the Qualtrics export from its third row, keeps the question wording
# as metadata and turns columns that hold only numbers into numbers.

# %%
raw = read_survey(raw_path)
print(raw.attrs["format"], raw.shape)
question_text(raw).head(6)

# %% [markdown]
# ## 2. Validate against the codebook, then recode
#
# The codebook (`toolkit/datasets/data/bfi_codebook.toml`) lists each item's scale, whether it
# is reverse-keyed, its response labels in order, and the respondent ID column. Validation
# reports every problem with the column, the rows and the offending values.

# %%
report = codebook.validate(raw)
report[["check", "column", "n_rows", "rows", "values"]]

# %% [markdown]
# The typos (a final letter lost) are unambiguous, so we correct them from the report. The
# duplicated ID belongs to two different people, so we give the second one a new ID (a real
# project would check the original records). The out-of-range code cannot be repaired and
# becomes missing (`errors="coerce"`, with a warning).
# Reverse-keyed items stay as answered here (`reverse=False`): the reliability functions reverse
# them themselves, as psych does.

# %%
fixed = raw.copy()
typos = report.loc[report["check"] == "unknown_label", "values"].iloc[0]
fixed["A2"] = fixed["A2"].replace({typo: typo + "e" for typo in typos})
fixed.loc[fixed.index[21], "id"] = fixed["id"].max() + 1
data = codebook.recode(fixed, reverse=False, errors="coerce").set_index("id")
assert codebook.validate(data.drop(columns="C1")).query("check != 'missing_item'").empty
differ = data[bfi.columns].fillna(-1).to_numpy() != bfi.fillna(-1).to_numpy()
print(f"{len(data)} respondents; cells that differ from psych::bfi: {int(differ.sum())}")

# %% [markdown]
# ## 3. Look at the items

# %%
agree_items = ["A1", "A2", "A3", "A4", "A5"]
decoded = codebook.decode(data)
ax = likert_bars(decoded, agree_items, item_labels=[f"{i}: {texts[i]}" for i in agree_items])
ax.set_title("Agreeableness items (A1 is reverse-keyed)")
save(ax, "likert_agreeableness")

# %%
items = [name for name, item in codebook.items.items() if item.scale]
edu = decoded[["education"]].join(data[items])
ax = item_heatmap(edu, items, "education", center=3.5)
ax.figure.set_size_inches(11, 10)
ax.set_title("Mean answer by education (1-6, centred on 3.5)")
save(ax, "items_by_education")

# %% [markdown]
# ## 4. Reliability
#
# `cronbach_alpha` gives `psych::alpha`'s table (keys from the codebook; reverse-keyed items
# marked with a trailing minus as psych prints them).

# %%
alphas = pd.concat(
    {scale: cronbach_alpha(data, keys).total for scale, keys in codebook.keys.items()}
).droplevel(1)
alphas.round(3)

# %%
print(cronbach_alpha(data, codebook.keys["agreeableness"]))

# %% [markdown]
# Omega from a Schmid-Leiman transformation of a minres factor analysis with oblimin rotation
# (`psych::omega`): how much of the total score reflects one general factor (omega_h) and how
# much is reliable at all (omega_total).

# %%
om = omega(data, items, nfactors=OMEGA_FACTORS)
display_cols = ["omega_h", "omega_total", "alpha", "g6", "ecv"]
om.table[display_cols].round(3)

# %%
om.loadings.round(2)

# %% [markdown]
# ## 5. Scale scores and group comparisons
#
# Scores are item means with reverse-keyed items flipped and missing answers imputed by the item
# median (`psych::scoreItems`' defaults). `corrected` holds alphas on the diagonal, raw
# correlations below and disattenuated correlations above it.

# %%
scored = codebook.score(fixed.set_index("id"), errors="coerce")
scored.stats.round(3)

# %%
scored.corrected.round(2)

# %%
scores = scored.scores.join(decoded[["gender", "education"]])
ax = distribution_by_group(scores, "agreeableness", "gender", seed=SEED)
ax.set_ylabel("Agreeableness (1-6)")
save(ax, "agreeableness_by_gender")

# %% [markdown]
# Differences between women and men on each scale, with Welch's t test, Cohen's d and Hedges' g
# (noncentral-t intervals) and Glass's delta, all from `toolkit.metrics`.

# %%
tables = [effect_size_table(scores, scale, "gender", reference="Male") for scale in codebook.scales]
comparison = pd.concat(tables, ignore_index=True)
columns = [
    "dv",
    "group",
    "mean",
    "mean_ref",
    "diff",
    "p_val",
    "cohen_d",
    "d_ci_low",
    "d_ci_high",
    "hedges_g",
    "glass_delta",
]
comparison[columns].round(3)

# %% [markdown]
# ## 6. Students in classes: a multilevel model (nlschools)

# %%
nl = load_dataset("nlschools")
nl["IQc"] = nl["IQ"] - nl["IQ"].mean()
icc(nl, "lang", "class").round(3)

# %%
ri = mixed_model(nl, "lang ~ IQc + SES + COMB + (1 | class)")
print(ri.summary())

# %%
rs = mixed_model(nl, "lang ~ IQc + (1 + IQc | class)")
print(rs.summary())

# %% [markdown]
# ## 7. Diversity of outcomes with the simulations' metrics
#
# The same `toolkit.metrics` functions that summarise simulated classrooms: spread (SD, CV,
# Gini, percentile gaps) of one score and the diversity of each person's profile across the
# five scales (mean pairwise distance, strongest-domain entropy, Rao's Q, share excelling in
# at least one domain), by education and overall.

# %%
profile = codebook.scales
diversity = diversity_by_group(scores, "conscientiousness", "education", profile=profile)
diversity.round(3)

# %% [markdown]
# And per class, as the simulations report it: how much pupils differ within a class, in
# single-grade and multi-grade (`COMB = 1`) classes.

# %%
per_class = diversity_by_cluster(nl, "lang", "class", by="COMB")
per_class.summary[per_class.summary["metric"].isin(["sd", "gini", "p90_p10"])].round(3)

# %% [markdown]
# ## 8. Large-scale assessment: PISA 2012 mathematics, New Zealand
#
# `pisamaths` (from R's mitools) has five plausible values and the final student weight but no
# replicate weights, so we build delete-one-school jackknife weights within strata (the one
# school of stratum NZL0102 is merged with NZL0101). Estimates combine the plausible values by
# Rubin's rules; `ci_low` and `ci_high` are 95% intervals (estimate ± 1.96 SE), and `n_pv`
# says how many plausible values were pooled. (Surveys described by their design rather than
# by replicate weights: `taylor_mean`, and `jackknife_design(..., fpc=...)` when a large
# share of the schools was sampled.)

# %%
pm = load_dataset("pisamaths")
pm["STRATUM2"] = pm["STRATUM"].str[:5]
design = jackknife_design(pm, "W_FSTUWT", "SCHOOLID", "STRATUM2")
print(design.label)
lsa_mean(design, "PV@MATH", by="ST04Q01").round(2)

# %%
lsa_quantile(design, "PV@MATH", q=[10, 50, 90]).round(2)

# %%
lsa_spread(design, "PV@MATH", by="ST04Q01").round(3)

# %%
lsa_regression(design, "PV@MATH", ["ST04Q01", "MATHEFF"]).round(3)

# %%
plt.close("all")
_workdir.cleanup()  # the raw export of section 1 is not needed any more
