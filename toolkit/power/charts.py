"""Charts of a power analysis: power curves with Monte Carlo error, minimum detectable effects.

Both take ``ax=None`` and return the Axes, in the toolkit's chart style.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from toolkit.charts.style import OKABE_ITO, chart_style, new_axes

__all__ = ["plot_mde", "plot_power_curve"]

_TESTS = {
    "effect": ("power_effect", "mean"),
    "spread": ("power_spread", "spread (residual SD)"),
}


def plot_power_curve(
    tables: pd.DataFrame | Mapping[str, pd.DataFrame],
    test: str = "effect",
    *,
    ax: Axes | None = None,
    target: float = 0.8,
    closed_form: Mapping[float, float] | None = None,
    unit: str = "classrooms",
    title: str | None = None,
) -> Axes:
    """Power against the number of clusters, with a 95% Monte Carlo band and the target line.

    Parameters
    ----------
    tables : pandas.DataFrame or mapping of label to DataFrame
        Power tables (:func:`toolkit.power.summarise_power`); several are drawn as several
        lines (e.g. one per design).
    test : {"effect", "spread"}
        Power to detect the difference in mean or in spread.
    ax : matplotlib Axes, optional
    target : float
        Horizontal line at the power aimed at (None for none).
    closed_form : mapping of size to power, optional
        Closed-form power to draw as a dashed line for comparison.
    unit : str
        What the sizes count (axis label).
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    if test not in _TESTS:
        raise ValueError(f"test must be one of {list(_TESTS)}, got {test!r}.")
    col, label = _TESTS[test]
    if isinstance(tables, pd.DataFrame):
        tables = {"": tables}
    ax = new_axes(ax)
    colors = list(OKABE_ITO.values())[1:]
    with chart_style():
        for i, (name, t) in enumerate(tables.items()):
            if col not in t:
                raise ValueError(f"table {name!r} has no column {col!r} (was {test} analysed?).")
            t = t.sort_values("size")
            x, p = t["size"].to_numpy(float), t[col].to_numpy(float)
            se = t[f"{col}_se"].to_numpy(float)
            c = colors[i % len(colors)]
            ax.fill_between(
                x,
                np.clip(p - 1.96 * se, 0, 1),
                np.clip(p + 1.96 * se, 0, 1),
                color=c,
                alpha=0.2,
                lw=0,
            )
            ax.plot(x, p, "o-", color=c, lw=2.5, ms=7, label=name or None)
        if closed_form:
            xs = sorted(closed_form)
            ax.plot(
                xs, [closed_form[k] for k in xs], "--", color="#333333", lw=1.5, label="closed form"
            )
        if target is not None:
            ax.axhline(target, color="#777777", lw=1, ls=":")
            ax.text(ax.get_xlim()[0], target, f" {target:.0%}", va="bottom", color="#555555")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(f"{unit} in the trial (both arms)")
        ax.set_ylabel("power")
        ax.grid(color="#DDDDDD")
        if len(tables) > 1 or closed_form:
            ax.legend(frameon=False, loc="lower right")
        ax.set_title(title if title is not None else f"Power: difference in {label}", loc="left")
    return ax


def plot_mde(
    table: pd.DataFrame,
    test: str = "effect",
    *,
    ax: Axes | None = None,
    observed: float | None = None,
    unit: str = "classrooms",
    title: str | None = None,
) -> Axes:
    """Minimum detectable effect (at the table's power) against the number of clusters.

    Parameters
    ----------
    table : pandas.DataFrame
        A power table (:func:`toolkit.power.summarise_power`).
    test : {"effect", "spread"}
        The MDE of the difference in means (outcome units) or the SD ratio.
    ax : matplotlib Axes, optional
    observed : float, optional
        The effect the model predicts, drawn as a horizontal line (default: the mean estimate
        at the largest size).
    unit : str
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    col, est = {
        "effect": ("mde_effect", "effect_mean"),
        "spread": ("mde_sd_ratio", "sd_ratio_mean"),
    }[test]
    t = table.sort_values("size")
    ax = new_axes(ax)
    with chart_style():
        ax.plot(
            t["size"],
            t[col],
            "o-",
            color=OKABE_ITO["blue"],
            lw=2.5,
            ms=7,
            label="minimum detectable",
        )
        val = float(t[est].iloc[-1]) if observed is None else observed
        if test == "spread":
            val = max(val, 1 / val)  # the MDE is a ratio above 1
        ax.axhline(val, color=OKABE_ITO["vermillion"], lw=1.5, ls="--", label="model's prediction")
        ax.set_xlabel(f"{unit} in the trial (both arms)")
        ax.set_ylabel("SD ratio" if test == "spread" else "difference in means")
        ax.grid(color="#DDDDDD")
        ax.legend(frameon=False)
        what = "SD ratio" if test == "spread" else "difference"
        ax.set_title(title if title is not None else f"Minimum detectable {what}", loc="left")
    return ax
