"""Charts of a study on real classes: the effect in each class, and real against drawn cohorts."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from toolkit.charts.study import METRIC_LABELS
from toolkit.charts.style import chart_style, new_axes, regime_color

__all__ = ["plot_class_effects", "plot_cohort_comparison"]


def plot_class_effects(
    by_class: pd.DataFrame,
    arm: str,
    metric: str = "score",
    *,
    ax: Axes | None = None,
    year: int | None = None,
    summary: pd.DataFrame | None = None,
    title: str | None = None,
) -> Axes:
    """Plot the paired difference from the reference in every class, sorted, with its 95% CI.

    Parameters
    ----------
    by_class : pandas.DataFrame
        A cohort run's ``effects_by_class.csv`` (:func:`toolkit.realcohort.pool.effects_by_group`).
    arm : str
        The arm compared with the reference.
    metric : str
        A metric of the table (``score``, ``core_gain``, ``total_learning``, ``engagement``,
        ``sd_score``, ...).
    ax : matplotlib Axes, optional
    year : int, optional
        School year (default the last).
    summary : pandas.DataFrame, optional
        The run's summary: its pooled difference for the whole cohort is drawn as a line with
        its interval as a band.
    title : str, optional

    Returns
    -------
    matplotlib Axes
        One dot per class (x: the classes in order of their estimate), whiskers where the table
        has an interval.
    """
    t = by_class[(by_class["arm"].astype(str) == arm) & (by_class["metric"] == metric)]
    if t.empty:
        raise ValueError(
            f"by_class: no rows for arm {arm!r} and metric {metric!r}; arms "
            f"{sorted(set(by_class['arm'].astype(str)))}, metrics "
            f"{sorted(set(by_class['metric']))}."
        )
    year = int(t["year"].max()) if year is None else year
    t = t[t["year"] == year].sort_values("estimate", kind="stable")
    ax = new_axes(ax)
    color = regime_color(arm, [arm])
    x = np.arange(len(t))
    with chart_style():
        if summary is not None:
            s = summary[
                (summary["arm"].astype(str) == arm)
                & (summary["metric"] == metric)
                & (summary["year"] == year)
            ]
            if len(s):
                r = s.iloc[0]
                ax.axhspan(r["diff_ci_low"], r["diff_ci_high"], color=color, alpha=0.15, lw=0)
                ax.axhline(r["diff"], color=color, lw=2, label=f"whole cohort {r['diff']:+.3f}")
                ax.legend(loc="upper left", frameon=False)
        ok = t["ci_low"].notna().to_numpy()
        ax.vlines(x[ok], t["ci_low"][ok], t["ci_high"][ok], color=color, alpha=0.45, lw=1.5)
        ax.plot(x, t["estimate"], "o", color=color, ms=5)
        ax.axhline(0, color="#333333", lw=1)
        ax.set_xticks([])
        ax.set_xlabel(f"{len(t)} classes, in order of the difference")
        label = METRIC_LABELS.get(metric, metric)
        ax.set_ylabel(f"difference vs reference: {label}")
        ax.set_title(title if title is not None else f"{arm}: {label}, class by class", loc="left")
    return ax


def plot_cohort_comparison(
    summaries: Mapping[str, pd.DataFrame],
    metric: str = "effect_size",
    *,
    ax: Axes | None = None,
    year: int | None = None,
    title: str | None = None,
) -> Axes:
    """Plot one study's paired differences on several cohorts (e.g. real and drawn), side by side.

    Parameters
    ----------
    summaries : mapping of str to pandas.DataFrame
        Label (``"real classes"``, ``"drawn cohorts"``) to a run's summary.
    metric : str
    ax : matplotlib Axes, optional
    year : int, optional
        School year (default the last).
    title : str, optional

    Returns
    -------
    matplotlib Axes
        One row per arm other than the reference, one dot and whisker per summary (marker by
        summary, colour by arm).
    """
    ax = new_axes(ax)
    markers = ["o", "s", "D", "^", "v"]
    labels = list(summaries)
    arms: list[str] = []
    for s in summaries.values():
        sel = s[(s["metric"] == metric) & s["diff_ci_low"].notna()]
        arms += [a for a in dict.fromkeys(sel["arm"].astype(str)) if a not in arms]
    if not arms:
        raise ValueError(f"summaries: no paired differences for metric {metric!r}.")
    cols = (
        ("mean", "ci_low", "ci_high")
        if metric == "effect_size"
        else ("diff", "diff_ci_low", "diff_ci_high")
    )
    with chart_style():
        for j, (label, s) in enumerate(summaries.items()):
            yr = int(s["year"].max()) if year is None else year
            sel = s[(s["metric"] == metric) & (s["year"] == yr)]
            for i, arm in enumerate(arms):
                r = sel[sel["arm"].astype(str) == arm]
                if r.empty:
                    continue
                r = r.iloc[0]
                y = len(arms) - 1 - i + (0.25 - 0.5 * j / max(1, len(labels) - 1))
                c = regime_color(arm, arms)
                m, lo, hi = (r[k] for k in cols)
                ax.plot([lo, hi], [y, y], color=c, lw=3, solid_capstyle="round")
                ax.plot(
                    [m],
                    [y],
                    markers[j % len(markers)],
                    color=c,
                    ms=10,
                    mec="white",
                    mew=1.2,
                    label=label if i == 0 else None,
                )
        ax.set_yticks(np.arange(len(arms))[::-1], arms)
        ax.axvline(0, color="#333333", lw=1)
        ax.grid(axis="x", color="#DDDDDD")
        ax.grid(axis="y", visible=False)
        leg = ax.legend(loc="best", frameon=False)
        for handle in leg.legend_handles:
            handle.set_color("#555555")
        ax.set_xlabel(f"difference vs reference (95% CI): {METRIC_LABELS.get(metric, metric)}")
        ax.set_title(title if title is not None else METRIC_LABELS.get(metric, metric), loc="left")
    return ax
