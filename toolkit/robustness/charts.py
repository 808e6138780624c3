"""Charts of a robustness study: indices with intervals, claims' drivers, shares and regions.

Every function draws on ``ax`` (a new slide-sized Axes in the toolkit style if ``None``) and
returns the Axes; the tables are those of :mod:`toolkit.robustness.analysis`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from toolkit.charts.style import OKABE_ITO, chart_style, new_axes

__all__ = [
    "plot_claim_heatmap",
    "plot_claim_shares",
    "plot_failure_region",
    "plot_indices",
    "plot_morris",
]

_S1, _ST = OKABE_ITO["sky_blue"], OKABE_ITO["blue"]
_HOLDS, _FAILS = OKABE_ITO["bluish_green"], OKABE_ITO["vermillion"]


def plot_indices(
    indices: pd.DataFrame, output: str, *, ax: Axes | None = None, top: int | None = 12
) -> Axes:
    """First-order and total Sobol' indices of one output, with their 95% intervals.

    Parameters
    ----------
    indices : pandas.DataFrame
        From :func:`toolkit.robustness.analysis.sobol_indices`.
    output : str
        An output name (``"personalized - standardized: effect_size"``, ``"claim: ..."``).
    ax : matplotlib Axes, optional
    top : int, optional
        Show the parameters with the largest total index (all if ``None``).

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, "4:3")
    rows = indices[indices["output"] == output].dropna(subset=["ST"])
    if rows.empty:
        raise ValueError(f"plot_indices: no indices for output {output!r}.")
    rows = rows.sort_values("ST", ascending=True)
    if top is not None:
        rows = rows.tail(top)
    y = np.arange(len(rows))
    with chart_style():
        for off, col, colour, label in ((0.2, "S1", _S1, "first order"),
                                        (-0.2, "ST", _ST, "total")):  # fmt: skip
            v = rows[col].to_numpy()
            err = np.vstack([v - rows[f"{col}_low"].to_numpy(), rows[f"{col}_high"].to_numpy() - v])
            ax.barh(y + off, v, height=0.38, color=colour, label=label)
            ax.errorbar(v, y + off, xerr=np.clip(err, 0, None), fmt="none", ecolor="#333333",
                        capsize=3, lw=1.2)  # fmt: skip
        ax.set_yticks(y, rows["parameter"])
        ax.axvline(0, color="#999999", lw=1)
        ax.set_xlabel("Sobol' index (share of variance), 95% bootstrap interval")
        ax.set_title(_wrap(output.removeprefix("claim: "), 48), loc="left", fontsize=16)
        ax.legend(loc="lower right", frameon=False)
    return ax


def plot_morris(
    indices: pd.DataFrame, output: str, *, ax: Axes | None = None, label_top: int = 8
) -> Axes:
    """Morris screening of one output: mu* (with interval) against sigma, one dot per parameter.

    Parameters far right matter; high sigma means non-linear or interacting effects. The
    ``label_top`` parameters with the largest mu* are labelled.

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, "4:3")
    rows = indices[indices["output"] == output].dropna(subset=["mu_star"])
    if rows.empty:
        raise ValueError(f"plot_morris: no Morris indices for output {output!r}.")
    with chart_style():
        err = np.vstack(
            [rows["mu_star"] - rows["mu_star_low"], rows["mu_star_high"] - rows["mu_star"]]
        )
        ax.errorbar(rows["mu_star"], rows["sigma"], xerr=np.clip(err, 0, None), fmt="o",
                    color=_ST, ecolor="#999999", ms=7, capsize=2)  # fmt: skip
        for r in rows.sort_values("mu_star", ascending=False).head(label_top).itertuples():
            ax.annotate(r.parameter, (r.mu_star, r.sigma), xytext=(5, 4),
                        textcoords="offset points", fontsize=11)  # fmt: skip
        ax.set_xlabel("mu* (mean |elementary effect| per unit of range)")
        ax.set_ylabel("sigma (non-linearity, interactions)")
        ax.set_title(_wrap(output.removeprefix("claim: "), 48), loc="left", fontsize=16)
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
    return ax


def plot_claim_heatmap(
    indices: pd.DataFrame,
    claims: Sequence[str],
    *,
    value: str | None = None,
    ax: Axes | None = None,
    top: int | None = 12,
) -> Axes:
    """Heat map of parameters (rows) against claims (columns): which assumption drives which.

    Parameters
    ----------
    indices : pandas.DataFrame
        Sobol' or Morris indices; the claims' outputs are named ``"claim: <name>"``.
    claims : sequence of str
        Claim names, in column order.
    value : str, optional
        Column to show (default ``ST``, or ``mu_star`` for Morris; Morris values are scaled to
        the largest per claim).
    top : int, optional
        Keep the parameters with the largest value in any claim.

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, "16:9")
    value = value or ("ST" if "ST" in indices.columns else "mu_star")
    outs = [f"claim: {c}" for c in claims]
    t = indices[indices["output"].isin(outs)].pivot(
        index="parameter", columns="output", values=value
    )
    t = t.reindex(columns=outs)
    if value == "mu_star":
        t = t / t.max(axis=0)
    t = t.loc[t.max(axis=1).sort_values(ascending=False).index]
    if top is not None:
        t = t.head(top)
    with chart_style():
        im = ax.imshow(t.to_numpy(dtype=float), cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for (i, j), v in np.ndenumerate(t.to_numpy(dtype=float)):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=11,
                        color="white" if v > 0.6 else "#222222")  # fmt: skip
        ax.set_yticks(range(len(t)), t.index)
        ax.set_xticks(range(len(claims)), [_wrap(c) for c in claims], fontsize=11)
        ax.tick_params(axis="x", labelrotation=0)
        label = "total Sobol' index of the claim's margin" if value == "ST" else "mu* / largest"
        ax.figure.colorbar(im, ax=ax, label=label, shrink=0.8)
        ax.set_title("Which assumptions drive each claim", loc="left")
        ax.grid(False)
    return ax


def _wrap(text: str, width: int = 22) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if len(line) + len(w) + 1 > width and line:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    return "\n".join([*lines, line])


def plot_claim_shares(claims: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Share of the plausible space where each claim holds, with its 95% interval.

    The bar is split by verdict at each point: decided true (the point's classrooms settle it),
    undecided (Monte Carlo error too large), decided false.

    Parameters
    ----------
    claims : pandas.DataFrame
        One row per claim: ``claim, share, share_low, share_high, decided_true, undecided,
        decided_false`` (the report's claims table).

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, "16:9")
    c = claims.iloc[::-1]
    y = np.arange(len(c))
    with chart_style():
        left = np.zeros(len(c))
        for col, colour, label in (("decided_true", _HOLDS, "holds (decided)"),
                                   ("undecided", "#BBBBBB", "undecided"),
                                   ("decided_false", _FAILS, "fails (decided)")):  # fmt: skip
            v = c[col].to_numpy(dtype=float)
            ax.barh(y, v, left=left, color=colour, height=0.6, label=label)
            left += v
        s = c["share"].to_numpy(dtype=float)
        err = np.vstack([s - c["share_low"].to_numpy(), c["share_high"].to_numpy() - s])
        ax.errorbar(s, y, xerr=np.clip(err, 0, None), fmt="D", color="black", ms=7,
                    capsize=4, label="share holding, 95% interval")  # fmt: skip
        ax.set_yticks(y, [_wrap(t, 40) for t in c["claim"]], fontsize=12)
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of the plausible parameter space")
        ax.set_title("Where each claim holds", loc="left")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, frameon=False,
                  fontsize=12)  # fmt: skip
    return ax


def plot_failure_region(
    values: pd.DataFrame,
    holds: np.ndarray,
    x: str,
    y: str,
    *,
    limits: dict | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Design points on two parameters, coloured by whether the claim holds, with its failure box.

    Parameters
    ----------
    values : pandas.DataFrame
        Design points in parameter units.
    holds : numpy.ndarray of bool
    x, y : str
        The two parameters (e.g. the failure region's first two).
    limits : dict, optional
        :attr:`toolkit.robustness.analysis.Region.limits`; the box is drawn on x and y.
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, "4:3")
    holds = np.asarray(holds, dtype=bool)
    with chart_style():
        ax.scatter(values.loc[holds, x], values.loc[holds, y], s=10, color=_HOLDS, alpha=0.5,
                   label="holds", linewidths=0)  # fmt: skip
        ax.scatter(values.loc[~holds, x], values.loc[~holds, y], s=10, color=_FAILS, alpha=0.7,
                   label="fails", linewidths=0)  # fmt: skip
        if limits:
            (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
            lx = limits.get(x, (None, None))
            ly = limits.get(y, (None, None))
            a = lx[0] if lx[0] is not None else x0
            b = lx[1] if lx[1] is not None else x1
            c = ly[0] if ly[0] is not None else y0
            d = ly[1] if ly[1] is not None else y1
            ax.add_patch(Rectangle((a, c), b - a, d - c, fill=False, ec="black", lw=2, ls="--",
                                   label="failure region"))  # fmt: skip
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        if title:
            ax.set_title(_wrap(title, 48), loc="left", fontsize=15)
        ax.legend(loc="best", frameon=True, fontsize=12, markerscale=2)
    return ax


def _close(ax: Axes) -> None:
    plt.close(ax.figure)
