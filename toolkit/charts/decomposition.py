"""Waterfall chart of a mechanism decomposition, from the reference arm to another.

Channel by channel, as computed by :func:`toolkit.study.decompose.decompose`: grey bars are
the channels (dark where a channel raises the difference, light where it lowers it), the last
bar the difference on the decomposed classrooms, which a study takes from its first
``decomposition`` classrooms (see :func:`plot_decomposition`).
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

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
    full: tuple[float, float, float] | None = None,
    full_classrooms: int | None = None,
) -> Axes:
    """Waterfall from the reference arm (0) to ``arm``: one bar per channel, then the total.

    Channels run top to bottom; each bar starts where the one above ended and has the length
    of the channel's Shapley contribution (dark grey where the channel raises the difference,
    light grey where it lowers it), with its 95% interval over classrooms as a black whisker
    at the bar's end. The last bar is the paired difference itself on the decomposed
    classrooms, in the arm's colour: the bars above add up to it exactly. A legend says so.

    A study decomposes only its first ``decomposition`` classrooms (60 by default; replaying a
    year 64 times is costly), so this difference is not the one of the study's effects chart,
    which uses every classroom (and, for ``effect_size``, the reference SD of all of them).
    ``full`` marks that one on the last bar (a white diamond with its interval) and a note
    under the chart gives both numbers and why they differ.

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
    full : (float, float, float), optional
        The same difference over all the study's classrooms and its 95% interval (the
        summary's ``mean, ci_low, ci_high``).
    full_classrooms : int, optional
        How many classrooms ``full`` is over.

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
    n = int(total["n_units"]) if "n_units" in total and pd.notna(total["n_units"]) else None
    rooms = f"{n} classrooms" if n else "these classrooms"
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
        colour = regime_color(arm, [arm])
        ax.barh(y[-1], tv, color=colour, height=0.65, edgecolor="white")
        ax.plot(
            [float(total["ci_low"]), float(total["ci_high"])], [y[-1]] * 2, color="#000000", lw=1.5
        )
        handles = [
            Patch(color=GAIN, label="channel raises the difference"),
            Patch(color=LOSS, label="channel lowers it"),
            Line2D([], [], color="#000000", lw=1.5, label="95% interval over classrooms"),
            Patch(color=colour, label=f"difference on the {rooms} decomposed (sum of the bars)"),
        ]
        if full is not None:
            f, lo, hi = (float(v) for v in full)
            ax.plot([lo, hi], [y[-1] + 0.42] * 2, color="#000000", lw=1)
            ax.plot(f, y[-1] + 0.42, marker="D", ms=7, mfc="white", mec="#000000", ls="none")
            over = f"all {full_classrooms} classrooms" if full_classrooms else "every classroom"
            handles.append(
                Line2D([], [], marker="D", ms=7, mfc="white", mec="#000000", ls="none",
                       label=f"difference on {over} (the effects chart)")
            )  # fmt: skip
            why = (
                " in units of the reference SD of the decomposed classrooms,"
                if outcome == "effect_size"
                else ""
            )
            note = (
                f"Decomposed on the first {rooms} of the study (replaying each year 64 times is "
                f"costly):{why} the difference is {tv:+.3f}. On {over} it is {f:+.3f} "
                f"[{lo:+.3f}, {hi:+.3f}]: the two differ by the classrooms sampled."
            )
        ax.axvline(0, color="#333333", lw=1)
        labels = [CHANNEL_LABELS[c] for c in channels] + [f"difference ({rooms})"]
        ax.set_yticks(y, labels)
        ax.grid(axis="x", color="#DDDDDD")
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(f"{OUTCOME_LABELS.get(outcome, outcome)}, {arm} minus {reference}")
        ax.set_title(
            title if title is not None else f"{arm} vs {reference}, channel by channel", loc="left"
        )
        # below the chart, never over a bar; the note on the two differences as its title
        ax.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.16), ncols=2,
            fontsize=11, frameon=False, alignment="left",
            title=textwrap.fill(note, 95) if full is not None else None, title_fontsize=11,
        )  # fmt: skip
        for text in ax.get_legend().get_texts():  # two columns beside the y labels: keep short
            text.set_text(textwrap.fill(text.get_text(), 42))
    return ax
