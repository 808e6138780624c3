"""Waterfall chart of a mechanism decomposition, from the reference arm to another.

Channel by channel, as computed by :func:`toolkit.study.decompose.decompose`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from toolkit.charts.style import chart_style, new_axes, regime_color

__all__ = ["GAIN", "LOSS", "OUTCOME_LABELS", "plot_decomposition"]

#: Bar colours of gains and losses: greys, so they never read as a regime's colour.
GAIN = "#4D4D4D"
LOSS = "#BDBDBD"

#: Axis labels of the decomposed outcomes.
OUTCOME_LABELS = {
    "effect_size": "Effect on the test (SD)",
    "score": "Test score (SD)",
    "total_learning": "Learning in all domains (SD)",
    "sd_score": "SD of test scores",
    "mean_pairwise_distance": "Diversity of skill profiles",
    "diversity_of_excellence": "Share excelling in >= 1 domain",
}


def plot_decomposition(
    decomposition: pd.DataFrame,
    arm: str,
    outcome: str = "effect_size",
    *,
    ax: Axes | None = None,
    point: int | None = None,
    title: str | None = None,
) -> Axes:
    """Waterfall from the reference arm (0) to ``arm``: one bar per channel, then the total.

    Channels run top to bottom; each bar starts where the one above ended and has the length
    of the channel's Shapley contribution (dark grey for a gain, light grey for a loss), with
    its 95% interval over classrooms as a whisker at the bar's end. The last bar is the paired
    difference itself, in the arm's colour: the bars above add up to it exactly.

    Parameters
    ----------
    decomposition : pandas.DataFrame
        From :func:`toolkit.study.decompose.decompose` (or a run's ``decomposition.csv``).
    arm : str
        The arm compared with the reference.
    outcome : str
        One of :data:`toolkit.study.decompose.OUTCOMES`.
    ax : matplotlib Axes, optional
    point : int, optional
        Sweep point, when the table has several.
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    from toolkit.study.decompose import CHANNEL_LABELS

    d = decomposition
    if "point" in d and d["point"].nunique() > 1:
        if point is None:
            raise ValueError("the decomposition has several sweep points; pass point=...")
        d = d[d["point"] == point]
    rows = d[(d["arm"].astype(str) == arm) & (d["outcome"] == outcome)]
    if rows.empty:
        raise ValueError(
            f"no decomposition of {outcome!r} for arm {arm!r}; arms: "
            f"{sorted(d['arm'].astype(str).unique())}, outcomes: {sorted(d['outcome'].unique())}"
        )
    parts = rows[rows["channel"] != "total"].set_index("channel")
    total = rows[rows["channel"] == "total"].iloc[0]
    channels = [c for c in CHANNEL_LABELS if c in parts.index]
    reference = str(total.get("reference", "reference"))
    ax = new_axes(ax, "16:9")
    with chart_style():
        y = np.arange(len(channels) + 1)[::-1]
        level = 0.0
        for yi, ch in zip(y, channels, strict=False):
            v = float(parts.loc[ch, "contribution"])
            color = GAIN if v >= 0 else LOSS
            ax.barh(yi, v, left=level, color=color, height=0.65, edgecolor="white")
            lo, hi = float(parts.loc[ch, "ci_low"]), float(parts.loc[ch, "ci_high"])
            ax.plot([level + lo, level + hi], [yi, yi], color="#000000", lw=1.5)
            end = level + v
            ax.plot([end, end], [yi - 0.33, yi - 0.67], color="#999999", lw=1, ls=":")
            level = end
        tv = float(total["contribution"])
        ax.barh(y[-1], tv, color=regime_color(arm, [arm]), height=0.65, edgecolor="white")
        ax.plot(
            [float(total["ci_low"]), float(total["ci_high"])], [y[-1]] * 2, color="#000000", lw=1.5
        )
        ax.axvline(0, color="#333333", lw=1)
        labels = [CHANNEL_LABELS[c] for c in channels] + ["difference"]
        ax.set_yticks(y, labels)
        ax.grid(axis="x", color="#DDDDDD")
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(f"{OUTCOME_LABELS.get(outcome, outcome)}, {arm} minus {reference}")
        ax.set_title(title if title is not None else f"{arm} vs {reference}", loc="left")
    return ax
