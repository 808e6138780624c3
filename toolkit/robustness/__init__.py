"""Which conclusions hold, and why: global sensitivity analysis and robustness reports.

A study file's ``[robustness]`` table (:mod:`toolkit.robustness.spec`) says which parameters
vary over their plausible ranges, the sampling design (:mod:`toolkit.robustness.design`,
through SALib) and the claims (:mod:`toolkit.robustness.claims`). The design points run
through the study runner like sweep points; :mod:`toolkit.robustness.analysis` computes
Sobol' or Morris indices of every paired arm difference and every claim's margin, the share
of the plausible space where each claim holds and where it breaks (PRIM,
:mod:`toolkit.robustness.prim`); :mod:`toolkit.robustness.report` writes the report and
:mod:`toolkit.robustness.charts` draws it. The evaluated model is pluggable
(:mod:`toolkit.robustness.models`), so closed-form functions with known indices check the whole
path.
"""

from toolkit.robustness.analysis import (
    Region,
    claim_share,
    drivers,
    failure_region,
    metric_cube,
    morris_indices,
    point_claims,
    point_outputs,
    sobol_indices,
)
from toolkit.robustness.claims import Claim, ClaimError, evaluate_claims, parse_claim
from toolkit.robustness.design import Design, DesignError, design_size, make_design, sampling_ranges
from toolkit.robustness.report import (
    analyse_design,
    estimate,
    publish,
    readme_block,
    run_robustness,
)
from toolkit.robustness.spec import RobustnessSpec, load_study_with, parse_robustness

__all__ = [
    "Claim",
    "ClaimError",
    "Design",
    "DesignError",
    "Region",
    "RobustnessSpec",
    "analyse_design",
    "claim_share",
    "design_size",
    "drivers",
    "estimate",
    "evaluate_claims",
    "failure_region",
    "load_study_with",
    "make_design",
    "metric_cube",
    "morris_indices",
    "parse_claim",
    "parse_robustness",
    "point_claims",
    "point_outputs",
    "publish",
    "readme_block",
    "run_robustness",
    "sampling_ranges",
    "sobol_indices",
]
