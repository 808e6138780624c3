"""Presenter charts in one colour-blind-safe style.

Every chart function takes ``ax=None`` and returns the Axes.
"""

from toolkit.charts.study import (
    METRIC_LABELS,
    crossovers,
    headline_figures,
    plot_metric,
    plot_sweep,
    plot_tails,
    plot_trajectory,
)
from toolkit.charts.style import (
    OKABE_ITO,
    REGIME_COLORS,
    SLIDE_SIZES,
    chart_style,
    regime_color,
    save_figure,
)

__all__ = [
    "METRIC_LABELS",
    "OKABE_ITO",
    "REGIME_COLORS",
    "SLIDE_SIZES",
    "chart_style",
    "crossovers",
    "headline_figures",
    "plot_metric",
    "plot_sweep",
    "plot_tails",
    "plot_trajectory",
    "regime_color",
    "save_figure",
]
