"""The panels of a comparison study's headline figures, by name (no drawing here).

Kept apart from :mod:`toolkit.charts.study`, which draws them, so that what a run's figures
will be (:func:`toolkit.charts.runs.figure_names`) is known without importing matplotlib: a
run on worker processes hands the figures to its workers, and its own process never draws.
"""

from __future__ import annotations

__all__ = ["HEADLINE_PANELS"]

#: Panels of the headline figures: (file stem, title, metrics, difference?)
HEADLINE_PANELS = (
    (
        "outcome",
        "What the test sees, and what it does not",
        ("score", "total_learning", "engagement", "self_regulation_growth"),
        False,
    ),
    (
        "effects",
        "Paired differences against the standardized regime",
        ("effect_size", "core_gain", "total_learning", "core_time"),
        True,
    ),
    ("spread", "Spread of outcomes", ("sd_score", "p90_p10", "gini", "matthew"), False),
    (
        "diversity",
        "Diversity of skill profiles",
        ("mean_pairwise_distance", "strongest_domain_entropy", "rao_q", "diversity_of_excellence"),
        False,
    ),
)
