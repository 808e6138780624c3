"""Charts of a calibration: the posterior's pair plot, targets against the model."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from toolkit.charts.style import OKABE_ITO, chart_style, new_axes
from toolkit.model.params import plausible_ranges

__all__ = ["plot_posterior_pairs", "plot_targets"]


def _ticks(axis, lo: float, hi: float, default: float) -> None:
    """Three plain ticks (the prior's ends and the default), no minor labels."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    axis.set_major_locator(FixedLocator([lo, default, hi]))
    axis.set_major_formatter(lambda v, _pos: f"{v:.3g}")
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


def plot_posterior_pairs(
    posterior: pd.DataFrame,
    parameters: Sequence[str] | None = None,
    *,
    axes: np.ndarray | None = None,
    bins: int = 25,
) -> np.ndarray:
    """Pair plot of weighted posterior particles, on the prior's range.

    Diagonal: weighted histograms of each parameter (the prior range is the x axis, the
    default a dashed line); below it: the particles of each pair, sized by weight.

    Parameters
    ----------
    posterior : pandas.DataFrame
        Parameter columns and ``weight``.
    parameters : sequence of str, optional
        Default: every column but ``weight``.
    axes : ndarray of Axes, optional
        A ``k x k`` grid to draw on (default: a new figure).
    bins : int

    Returns
    -------
    numpy.ndarray of matplotlib Axes
        The ``k x k`` grid (the upper triangle is switched off).
    """
    names = list(parameters or [c for c in posterior.columns if c != "weight"])
    k = len(names)
    w = posterior["weight"].to_numpy(dtype=float)
    w = w / w.sum()
    ranges = plausible_ranges(names)
    if axes is None:
        with chart_style():
            _, axes = plt.subplots(
                k, k, figsize=(2.8 * k + 1, 2.8 * k + 1), squeeze=False, layout="constrained"
            )
    axes = np.asarray(axes).reshape(k, k)
    with chart_style():
        for i, a in enumerate(names):
            lo_a, hi_a = ranges.loc[a, ["low", "high"]].astype(float)
            log_a = ranges.loc[a, "scale"] == "log"
            for j, b in enumerate(names):
                ax = axes[i, j]
                if j > i:
                    ax.set_axis_off()
                    continue
                if i == j:
                    edges = (
                        np.geomspace(lo_a, hi_a, bins + 1)
                        if log_a
                        else np.linspace(lo_a, hi_a, bins + 1)
                    )
                    ax.hist(posterior[a], bins=edges, weights=w, color=OKABE_ITO["blue"], alpha=0.8)
                    ax.axvline(float(ranges.loc[a, "default"]), color="#333333", ls="--", lw=1)
                    ax.set_yticks([])
                    ax.set_xlim(lo_a, hi_a)
                    if log_a:
                        ax.set_xscale("log")
                else:
                    lo_b, hi_b = ranges.loc[b, ["low", "high"]].astype(float)
                    ax.scatter(
                        posterior[b],
                        posterior[a],
                        s=4 + 400 * w,
                        color=OKABE_ITO["blue"],
                        alpha=0.35,
                        lw=0,
                    )
                    ax.set_xlim(lo_b, hi_b)
                    ax.set_ylim(lo_a, hi_a)
                    if ranges.loc[b, "scale"] == "log":
                        ax.set_xscale("log")
                    if log_a:
                        ax.set_yscale("log")
                _ticks(
                    ax.xaxis,
                    *ranges.loc[b, ["low", "high"]].astype(float),
                    float(ranges.loc[b, "default"]),
                )
                if i != j:
                    _ticks(ax.yaxis, lo_a, hi_a, float(ranges.loc[a, "default"]))
                ax.tick_params(labelsize=9)
                if i == k - 1:
                    ax.set_xlabel(b, fontsize=11)
                if j == 0 and i > 0:
                    ax.set_ylabel(a, fontsize=11)
        axes[0, 0].set_title("posterior (prior range; default dashed)", loc="left", fontsize=12)
    return axes


def plot_targets(
    evaluation: pd.DataFrame, *, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Each target and check against the model: published value or range, and the model.

    Parameters
    ----------
    evaluation : pandas.DataFrame
        From :func:`toolkit.calibration.report.validation_tables` (the evaluation with each
        row's ``center`` and ``scale``): the model is drawn relative to the published centre
        and scale, ``(x - centre) / scale``, green when the row passes, red when it fails;
        comparisons and one-sided rows are left out.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    ev = evaluation[
        evaluation["model"].notna()
        & evaluation["scale"].notna()
        & (evaluation["role"] != "comparison")
    ].reset_index(drop=True)
    lim = 8.0
    ax = new_axes(ax, size="4:3")
    y = np.arange(len(ev))[::-1]
    with chart_style():
        for yi, r in zip(y, ev.itertuples(), strict=True):
            c = {True: OKABE_ITO["bluish_green"], False: OKABE_ITO["vermillion"]}.get(
                r.passed, "#777777"
            )
            z = (r.model - r.center) / r.scale
            zl, zh = (r.model_low - r.center) / r.scale, (r.model_high - r.center) / r.scale
            zc = float(np.clip(z, -lim, lim))
            ax.plot(np.clip([zl, zh], -lim, lim), [yi, yi], color=c, lw=3, solid_capstyle="round")
            marker = "o" if zc == z else ("<" if z < 0 else ">")
            ax.plot([zc], [yi], marker, color=c, ms=9, mec="white")
        ax.axvspan(-2, 2, color="#EEEEEE", zorder=0)
        ax.set_xlim(-lim - 0.5, lim + 0.5)
        ax.axvline(0, color="#333333", lw=1)
        ax.set_yticks(y, [f"{r.id} ({r.role})" for r in ev.itertuples()])
        ax.set_xlabel(
            "model minus published, in published SDs (range: quarter widths; "
            f"beyond ±{lim:g} at the edge)"
        )
        ax.set_title(title or "Targets and checks against the model", loc="left")
    return ax
