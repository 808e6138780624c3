"""Outcome, spread and diversity-of-outcome metrics for simulated and real classroom data.

Plain numpy arrays or pandas objects in; floats or tidy DataFrames (snake_case columns such as
``ci_low``, ``ci_high``, ``p_val``) out. Every function documents its formula and a reference.

Modules
-------
effect_size
    Cohen's d, Hedges' g, Glass's delta, paired d with noncentral-t intervals; compare_groups.
spread
    SD, variance ratio, coefficient of variation, Gini, percentile gaps, Matthew effect.
diversity
    Mean pairwise profile distance, strongest-domain entropy, Rao's Q, diversity of excellence.
outcome
    Means and paired differences with t intervals; effects against a reference across units.
summary
    group_metrics (everything per group), compare_conditions, by_prior_group.
"""

from toolkit.metrics.diversity import (
    diversity_of_excellence,
    excellence_thresholds,
    mean_pairwise_distance,
    mean_pairwise_euclidean,
    rao_quadratic_entropy,
    rao_quadratic_entropy_profiles,
    strongest_domain_entropy,
    strongest_domain_shares,
)
from toolkit.metrics.effect_size import (
    cohen_d,
    compare_groups,
    glass_delta,
    hedges_correction,
    hedges_g,
    noncentral_t_ci,
    paired_d,
)
from toolkit.metrics.outcome import effect_vs_reference, mean_ci, paired_difference
from toolkit.metrics.spread import (
    coefficient_of_variation,
    gini,
    matthew_effect,
    percentile_gap,
    sd,
    variance_ratio,
)
from toolkit.metrics.summary import by_prior_group, compare_conditions, group_metrics

__all__ = [
    "by_prior_group",
    "coefficient_of_variation",
    "cohen_d",
    "compare_conditions",
    "compare_groups",
    "diversity_of_excellence",
    "effect_vs_reference",
    "excellence_thresholds",
    "gini",
    "glass_delta",
    "group_metrics",
    "hedges_correction",
    "hedges_g",
    "matthew_effect",
    "mean_ci",
    "mean_pairwise_distance",
    "mean_pairwise_euclidean",
    "noncentral_t_ci",
    "paired_d",
    "paired_difference",
    "percentile_gap",
    "rao_quadratic_entropy",
    "rao_quadratic_entropy_profiles",
    "sd",
    "strongest_domain_entropy",
    "strongest_domain_shares",
    "variance_ratio",
]
