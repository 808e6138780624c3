"""Presenter charts in one colour-blind-safe style.

Every chart function takes ``ax=None`` and returns the Axes. Charts of a study's summary
(classroom means with paired CIs) are in :mod:`toolkit.charts.study`; charts of individual
students' outcomes are in :mod:`toolkit.charts.distributions`; the style, palettes and
:func:`save_figure` are in :mod:`toolkit.charts.style`. The questionnaire charts
(``likert_bars``, ``item_heatmap``, ``distribution_by_group``) are in
:mod:`toolkit.charts.survey`, drawn in the same style.

The names below are loaded when first used (:pep:`562`): ``import toolkit.charts`` and its
light modules (:mod:`toolkit.charts.panels`, :mod:`toolkit.charts.runs`) do not import
matplotlib, so a run that draws its figures on worker processes never loads it itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Where each public name lives: ``name -> submodule of toolkit.charts``.
_EXPORTS = {
    # toolkit.charts.cohort
    "plot_class_effects": "cohort",
    "plot_cohort_comparison": "cohort",
    # toolkit.charts.distributions
    "STUDENT_LABELS": "distributions",
    "plot_distribution": "distributions",
    "plot_strongest_domains": "distributions",
    # toolkit.charts.evidence
    "plot_prior_posterior": "evidence",
    # toolkit.charts.study
    "DIVERSITY_METRICS": "study",
    "METRIC_LABELS": "study",
    "SPREAD_METRICS": "study",
    "crossover_table": "study",
    "crossovers": "study",
    "headline_figures": "study",
    "plot_diversity": "study",
    "plot_metric": "study",
    "plot_metrics": "study",
    "plot_spread": "study",
    "plot_study": "study",
    "plot_sweep": "study",
    "plot_tails": "study",
    "plot_trajectory": "study",
    # toolkit.charts.style
    "DOMAIN_COLORS": "style",
    "OKABE_ITO": "style",
    "REGIME_COLORS": "style",
    "SLIDE_SIZES": "style",
    "chart_style": "style",
    "default_provenance": "style",
    "domain_color": "style",
    "fit_text": "style",
    "new_axes": "style",
    "regime_color": "style",
    "save_figure": "style",
    # toolkit.charts.survey
    "distribution_by_group": "survey",
    "item_heatmap": "survey",
    "likert_bars": "survey",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'toolkit.charts' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"toolkit.charts.{module}"), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # the names as type checkers and editors see them
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
