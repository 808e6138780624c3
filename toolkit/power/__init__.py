"""Power analysis by simulation for real studies of teaching regimes.

Modules
-------
models
    Random-intercept models with group-specific residual variances (nlme's varIdent), fast
    enough for thousands of replications; the spread test (likelihood ratio).
closed_form
    Closed-form power of the two-sample t test, of a cluster-randomized trial analysed on
    cluster means (noncentral t, design effect), of three-level trials (schools randomized, or
    classes randomized within schools) and of the F test of two variances.
schools
    What the school level costs: three-level ICCs (and a covariate's R^2 per level) from data,
    and the schools or classes each design needs (:func:`school_level_cost`).
simulate
    Trials drawn from simulated classrooms (:class:`ModelTrial`), measured through the
    synthetic survey layer and analysed by the mixed models a real study would fit; power
    curves, minimum detectable effects and the clusters needed (:func:`power_curve`).
study
    Power study files (a study file with ``[power]`` and ``[survey]`` tables) and
    :func:`run_power`, behind ``python -m toolkit power FILE``.
charts
    Power curves and minimum detectable effects.
"""

from toolkit.power.charts import plot_mde, plot_power_curve
from toolkit.power.closed_form import (
    cluster_trial_mde,
    cluster_trial_power,
    clusters_for_power,
    design_effect,
    schools_for_power,
    three_level_mde,
    three_level_power,
    three_level_se,
    ttest_power,
    variance_ratio_power,
    within_variance_ratio_power,
)
from toolkit.power.models import RandomInterceptFit, fit_random_intercept, spread_test
from toolkit.power.schools import ThreeLevelComponents, school_level_cost, three_level_components
from toolkit.power.simulate import (
    ModelTrial,
    PowerCurve,
    cluster_means_analysis,
    clusters_needed,
    describe_needed,
    mixed_analysis,
    normal_cluster_trial,
    normal_two_sample,
    power_curve,
    summarise_power,
    ttest_analysis,
    within_variance_analysis,
)
from toolkit.power.study import (
    PowerResult,
    PowerSpec,
    format_power,
    load_power,
    parse_power,
    run_power,
)

__all__ = [
    "ModelTrial",
    "PowerCurve",
    "PowerResult",
    "PowerSpec",
    "RandomInterceptFit",
    "ThreeLevelComponents",
    "cluster_means_analysis",
    "cluster_trial_mde",
    "cluster_trial_power",
    "clusters_for_power",
    "clusters_needed",
    "describe_needed",
    "design_effect",
    "fit_random_intercept",
    "format_power",
    "load_power",
    "mixed_analysis",
    "normal_cluster_trial",
    "normal_two_sample",
    "parse_power",
    "plot_mde",
    "plot_power_curve",
    "power_curve",
    "run_power",
    "school_level_cost",
    "schools_for_power",
    "spread_test",
    "summarise_power",
    "three_level_components",
    "three_level_mde",
    "three_level_power",
    "three_level_se",
    "ttest_analysis",
    "ttest_power",
    "variance_ratio_power",
    "within_variance_analysis",
    "within_variance_ratio_power",
]
