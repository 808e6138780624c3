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
# # 05 · Which conclusions hold, and why
#
# **Question.** Notebook 01 compared the four regimes at the model's default parameters, and
# notebook 02 moved one mechanism at a time. But a comparison from one parameter vector is an
# anecdote: many defaults are assumptions, and their plausible ranges (`python -m toolkit
# params --long`) are wide. For every conclusion we would write down, we ask three things:
#
# 1. **how much of the plausible parameter space supports it** (the share of the space where
#    it holds, with an interval);
# 2. **which assumptions drive it** (global sensitivity indices of how far it is from failing);
# 3. **where it breaks** (the region of parameter space where it fails, in the parameters' own
#    units).
#
# **The claims** are the headline conclusions, written as data in the study files
# `simulations/headline-screening.toml` and `simulations/headline-robustness.toml`: the
# personalized regime gains more on the test than the individualized one; individualized is the
# only regime that narrows the spread of scores; the personal regime beats standardized
# teaching on the test; the diversity of skill profiles orders personalized > personal >
# standardized; and the full ranking on the test.
#
# **Design.** Two steps, because Sobol' indices are expensive: a Saltelli design needs
# N (k + 2) design points for k parameters, and every point runs the four regimes on the same
# `CLASSROOMS` classrooms. So we first **screen** every parameter that has a plausible range
# with r Morris trajectories (r (k + 1) points), then run the **Saltelli design** on the few
# that matter, holding the rest at their defaults. At every design point every claim is
# evaluated on the same classrooms in every arm (common random numbers), with its paired 95%
# interval over classrooms.
#
# Every result in the text is written by a cell from this run's own tables, so it stays true
# when the model, its parameters or the sizes here change (a test checks that the rest of the
# text quotes no result).

# %% tags=["parameters"]
# Study size. The defaults run both study files as written: 10 Morris trajectories (10 (k + 1)
# points for the k parameters with a plausible range) and a Saltelli design of 256 base samples
# on the screened parameters, 30 classrooms each; see `python -m toolkit check FILE` for the
# time on your machine. The test suite runs tiny sizes.
CLASSROOMS = 30  # classrooms per regime and design point
N_DAYS = 180  # school days in the year
MORRIS_TRAJECTORIES = 10  # Morris screening: trajectories
SOBOL_N = 256  # Saltelli base samples (a power of two)
TOP_K = 7  # parameters carried from the screening into the Saltelli design
WORKERS = 1  # worker processes
FORMATS = ["png"]  # chart formats of the run folders' reports ([] for none)
RUN_DIR = "runs/notebooks/05-robustness"  # where the run folders are written

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown

from toolkit.charts import SLIDE_SIZES, chart_style
from toolkit.model.params import plausible_ranges
from toolkit.robustness import load_study_with
from toolkit.robustness.charts import (
    plot_claim_heatmap,
    plot_claim_shares,
    plot_failure_region,
    plot_indices,
    plot_morris,
)
from toolkit.robustness.report import estimate, format_estimate, run_robustness
from toolkit.study.describe import join_words

ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "simulations").is_dir())
SIZE = {"study": {"classrooms": CLASSROOMS}, "parameters": {"n_days": N_DAYS}}

# %% [markdown]
# ## The plausible space
#
# Every parameter has a plausible range: what a careful reader would accept for an ordinary
# school, with its source (or "Judgement" where it is an assumption). Rates and weights whose
# range spans a factor are sampled uniformly in the logarithm; whole-number parameters are
# rounded, each whole number equally likely. A study can narrow or widen any range
# (`[robustness.ranges]`) or hold a parameter fixed (`[parameters]`).

# %%
plausible_ranges()[["default", "low", "high", "scale", "integer", "source"]]

# %% [markdown]
# ## The claims, as data
#
# Each claim is a sentence in a small grammar (`toolkit.robustness.claims`). It becomes one or
# more *atoms*, linear statements about the regimes' class means; a claim's *margin* at a
# design point is its smallest atom's mean over classrooms (positive when it holds), and the
# point's verdict is *holds* or *fails* when the paired 95% intervals settle it, *undecided*
# when the Monte Carlo error of the point's classrooms is too large to tell.

# %%
screen_spec = load_study_with(
    ROOT / "simulations" / "headline-screening.toml",
    **SIZE,
    robustness={"n": MORRIS_TRAJECTORIES},
    output={"formats": FORMATS},
    source="simulations/headline-screening.toml",
)
claim_list = screen_spec.robustness.claims
pd.DataFrame(
    [(c.name, c.text, " and ".join(a.text() for a in c.atoms)) for c in claim_list],
    columns=["claim", "as written", "atoms"],
)

# %% [markdown]
# ## Step 1: screening every parameter (Morris)
#
# `check` says what a study costs before it runs (here estimated from one timed design point).

# %%
print(format_estimate(estimate(screen_spec, workers=WORKERS)))
screen = run_robustness(
    screen_spec, ROOT / RUN_DIR / "screening", overwrite=True, workers=WORKERS, progress=False
)
morris = pd.read_csv(screen.folder / "morris.csv")

# %% [markdown]
# Morris' mu* is the mean absolute elementary effect of a parameter on a claim's margin, per
# unit of the parameter's (log) range: parameters far to the right matter; a high sigma means
# the effect changes across the space (non-linear, or interacting with other parameters). The
# heat map scales mu* to the largest per claim. One parameter, the class size `n_students`,
# changes how many students a classroom's seed draws, so moving it draws other students: its
# effects include Monte Carlo noise that common random numbers remove for every other parameter.

# %%
claims = list(screen.summary["claim"])
with chart_style():
    fig, ax = plt.subplots(figsize=SLIDE_SIZES["16:9"], layout="constrained")
plot_claim_heatmap(morris, claims, ax=ax, top=15)
plt.show()
plot_morris(morris, f"claim: {claims[0]}")
plt.show()

# %% [markdown]
# The parameters carried into the Saltelli design: the `TOP_K` with the largest scaled mu* on
# any claim.

# %%
scaled = morris[morris["output"].str.startswith("claim: ")].copy()
scaled["scaled"] = scaled["mu_star"] / scaled.groupby("output")["mu_star"].transform("max")
ranking = scaled.groupby("parameter")["scaled"].max().sort_values(ascending=False)
chosen = list(ranking.index[:TOP_K])
ranking.head(12).round(2).to_frame("largest scaled mu* over the claims")

# %%
k = morris["parameter"].nunique()
in_file = list(
    load_study_with(ROOT / "simulations" / "headline-robustness.toml").robustness.parameters
)
if set(chosen) == set(in_file):
    agree = "they are the ones the study file lists"
else:
    new = [f"`{p}`" for p in chosen if p not in in_file]
    gone = [f"`{p}`" for p in in_file if p not in chosen]
    agree = (
        "they differ from the study file's list: this screening adds "
        + (join_words(new) or "none")
        + " and leaves out "
        + (join_words(gone) or "none")
        + " (at full size, update the file's `parameters`)"
    )
Markdown(
    f"""
The screening moved {k} parameters over {MORRIS_TRAJECTORIES} trajectories
({MORRIS_TRAJECTORIES * (k + 1)} design points). The {TOP_K} carried forward are
{join_words(f"`{p}`" for p in chosen)}; {agree}.
"""
)

# %% [markdown]
# ## Step 2: Sobol' indices, shares and failure regions on the parameters that matter
#
# The headline study file lists the parameters that its full-size screening chose; here we use
# the ones this notebook's screening just chose (the cell above compares them). Every other
# parameter stays at its default.

# %%
sobol_spec = load_study_with(
    ROOT / "simulations" / "headline-robustness.toml",
    **SIZE,
    robustness={"n": SOBOL_N, "parameters": chosen},
    output={"formats": FORMATS},
    source="simulations/headline-robustness.toml",
)
print(format_estimate(estimate(sobol_spec, workers=WORKERS)))
result = run_robustness(
    sobol_spec, ROOT / RUN_DIR / "sobol", overwrite=True, workers=WORKERS, progress=False
)
summary = result.summary
sobol = pd.read_csv(result.folder / "sobol.csv")
summary[["claim", "share", "share_low", "share_high", "undecided", "drivers", "region"]]

# %%
n_points = len(pd.read_csv(result.folder / "design.csv"))


def verdict(r):
    """One claim's share, drivers and failure region, in words."""
    return (
        f"**{r.claim}** holds in {r.share:.0%} of the plausible space (95% interval "
        f"{r.share_low:.0%} to {r.share_high:.0%}; the classrooms' intervals cannot tell at "
        f"{r.undecided:.0%} of the points); strongest drivers: {r.drivers}; {r.region}."
    )


Markdown(
    f"At this run's size (N = {SOBOL_N} base samples over {len(chosen)} parameters, "
    f"{n_points:,} design points of {CLASSROOMS} classrooms):\n\n"
    + "\n".join(f"- {verdict(r)}" for r in summary.itertuples())
)

# %% [markdown]
# **How much of the plausible space supports each claim.** The diamond is the share of the
# design's independent points where the claim holds, with its 95% Wilson interval; the bar
# splits the points by verdict. A large grey part means the claim is close to its boundary over
# much of the space, where a point's classrooms cannot tell.

# %%
plot_claim_shares(summary)
plt.show()

# %% [markdown]
# **Which assumptions drive each claim.** The total Sobol' index of a claim's margin is the
# share of its variance across the plausible space that involves the parameter, interactions
# included. Each claim's two strongest drivers are in the table above; the heat map shows all.

# %%
plot_claim_heatmap(sobol, list(summary["claim"]))
plt.show()

# %%
with chart_style():
    fig, axes = plt.subplots(1, 2, figsize=SLIDE_SIZES["16:9"], layout="constrained")
for ax, claim in zip(axes, summary["claim"][:2], strict=False):
    plot_indices(sobol, f"claim: {claim}", ax=ax)
plt.show()

# %% [markdown]
# `mc_noise_share` in `sobol.csv` is the part of an output's variance across design points that
# is Monte Carlo noise at this number of classrooms; where it is large, more classrooms per
# point (or a larger N) sharpen the indices more than more parameters would. Noise adds about
# its share to every total index, so an index no larger than the noise share is not told apart
# from noise, and at 1 or more the design is too small for any index of that output: the
# drivers column above and the report say so instead of naming drivers.

# %%
noise = sobol.groupby("output")["mc_noise_share"].first()
noise[noise.index.str.startswith("claim: ")].round(3).to_frame()

# %% [markdown]
# **Where each claim breaks.** PRIM (the EMA Workbench's variant, in the toolkit) peels the space
# towards the points where the claim fails and keeps a box on at most three parameters:
# *coverage* is the share of all failing points inside the box, *density* the share of points in
# the box that fail. Only a clear box (dense, covering most failures, with enough of them, and
# denser than the space as a whole beyond sampling error; `clear` in `regions.csv`) is drawn and
# described as "fails when": a small design can always fit a box around a few failing points.

# %%
by_point = pd.read_csv(result.folder / "claims_by_point.csv")
regions = pd.read_csv(result.folder / "regions.csv")
design = pd.read_csv(result.folder / "design.csv")
values = design[list(sobol_spec.robustness.make_design(sobol_spec.seed).ranges.index)]
for claim in summary["claim"]:
    lims = regions[(regions["claim"] == claim) & regions["clear"]]
    if len(lims) == 0:
        print(f"{claim}: {summary.set_index('claim').loc[claim, 'region']}")
        continue
    dims = [*lims["parameter"], *(p for p in chosen if p not in set(lims["parameter"]))][:2]
    limits = {r.parameter: (None if pd.isna(r.low) else r.low, None if pd.isna(r.high) else r.high)
              for r in lims.itertuples()}  # fmt: skip
    holds = by_point.loc[by_point["claim"] == claim, "holds"].to_numpy()
    plot_failure_region(values, holds, dims[0], dims[1], limits=limits, title=claim)
    plt.show()

# %% [markdown]
# ## The report
#
# Everything above, for every claim and every paired difference of every metric, is in the run
# folder: `report.html` (charts and tables), `report.md` (the summary), and the tidy tables
# (`claims.csv`, `sobol.csv`, `claims_by_point.csv`, `regions.csv`, `design.csv`). The same
# report comes from one command:
#
# ```bash
# ./run.sh python -m toolkit robustness simulations/headline-robustness.toml --workers 2
# ```
#
# The README's robustness section is generated from that report (`--publish .`), never typed.

# %%
print(result.folder / "report.html")
