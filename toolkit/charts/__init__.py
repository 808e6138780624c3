"""Presenter charts in one colour-blind-safe style.

Every chart function takes ``ax=None`` and returns the Axes. Charts of a study's summary
(classroom means with paired CIs) are in :mod:`toolkit.charts.study`; charts of individual
students' outcomes are in :mod:`toolkit.charts.distributions`; the style, palettes and
:func:`save_figure` are in :mod:`toolkit.charts.style`. The questionnaire charts
(``likert_bars``, ``item_heatmap``, ``distribution_by_group``) are in
:mod:`toolkit.charts.survey`, drawn in the same style.
"""

from toolkit.charts.cohort import plot_class_effects, plot_cohort_comparison
from toolkit.charts.distributions import (
    STUDENT_LABELS,
    plot_distribution,
    plot_strongest_domains,
)
from toolkit.charts.evidence import plot_prior_posterior
from toolkit.charts.study import (
    DIVERSITY_METRICS,
    METRIC_LABELS,
    SPREAD_METRICS,
    crossover_table,
    crossovers,
    headline_figures,
    plot_diversity,
    plot_metric,
    plot_metrics,
    plot_spread,
    plot_study,
    plot_sweep,
    plot_tails,
    plot_trajectory,
)
from toolkit.charts.style import (
    DOMAIN_COLORS,
    OKABE_ITO,
    REGIME_COLORS,
    SLIDE_SIZES,
    chart_style,
    default_provenance,
    domain_color,
    fit_text,
    new_axes,
    regime_color,
    save_figure,
)
from toolkit.charts.survey import distribution_by_group, item_heatmap, likert_bars

__all__ = [
    "DIVERSITY_METRICS",
    "DOMAIN_COLORS",
    "METRIC_LABELS",
    "OKABE_ITO",
    "REGIME_COLORS",
    "SLIDE_SIZES",
    "SPREAD_METRICS",
    "STUDENT_LABELS",
    "chart_style",
    "crossover_table",
    "crossovers",
    "default_provenance",
    "distribution_by_group",
    "domain_color",
    "fit_text",
    "headline_figures",
    "item_heatmap",
    "likert_bars",
    "new_axes",
    "plot_class_effects",
    "plot_cohort_comparison",
    "plot_distribution",
    "plot_diversity",
    "plot_metric",
    "plot_metrics",
    "plot_prior_posterior",
    "plot_spread",
    "plot_strongest_domains",
    "plot_study",
    "plot_sweep",
    "plot_tails",
    "plot_trajectory",
    "regime_color",
    "save_figure",
]
