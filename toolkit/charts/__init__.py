"""Presenter charts in one colour-blind-safe style.

Every chart function takes ``ax=None`` and returns the Axes. Charts of a study's summary
(classroom means with paired CIs) are in :mod:`toolkit.charts.study`; charts of individual
students' outcomes are in :mod:`toolkit.charts.distributions`; the style, palettes and
:func:`save_figure` are in :mod:`toolkit.charts.style`. The questionnaire charts of
:mod:`toolkit.survey.plots` (``likert_bars``, ``item_heatmap``, ``distribution_by_group``),
drawn in the same style, are available here too.
"""

from toolkit.charts.cohort import plot_class_effects, plot_cohort_comparison
from toolkit.charts.distributions import (
    STUDENT_LABELS,
    plot_distribution,
    plot_strongest_domains,
)
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
    "domain_color",
    "fit_text",
    "headline_figures",
    "new_axes",
    "plot_class_effects",
    "plot_cohort_comparison",
    "plot_distribution",
    "plot_diversity",
    "plot_metric",
    "plot_metrics",
    "plot_spread",
    "plot_strongest_domains",
    "plot_study",
    "plot_sweep",
    "plot_tails",
    "plot_trajectory",
    "regime_color",
    "save_figure",
]

#: Charts that live in :mod:`toolkit.survey.plots`, re-exported here (imported on first use,
#: because that module itself imports :mod:`toolkit.charts.style`).
_SURVEY_CHARTS = ("distribution_by_group", "item_heatmap", "likert_bars")
__all__ += list(_SURVEY_CHARTS)


def __getattr__(name: str) -> object:
    if name in _SURVEY_CHARTS:
        from toolkit.survey import plots

        return getattr(plots, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
