"""Charts of questionnaire data: Likert diverging bars, item-by-group heatmaps, distributions.

Every function takes ``ax=None`` (a new slide-sized Axes in the toolkit's style is made) and
returns the Axes; none calls ``plt.show()``. Colours are colour-blind safe: ColorBrewer's
diverging PuOr for agreement scales (with a neutral grey centre), cividis for heatmaps, and the
Okabe-Ito palette for groups. All styling goes through :func:`_style`, which takes the shared
chart style from :mod:`toolkit.charts.style`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Literal

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_hex

from toolkit._base.checks import check_column, check_columns, check_frame, preview
from toolkit.charts.style import OKABE_ITO, SLIDE_SIZES, chart_style

__all__ = ["distribution_by_group", "item_heatmap", "likert_bars"]

NEUTRAL_GREY = "#BDBDBD"


@contextlib.contextmanager
def _style() -> Iterator[dict[str, object]]:
    """Apply the one style of these charts: shared rc settings and palettes."""
    with chart_style():
        yield {
            "diverging": "PuOr_r",  # ColorBrewer PuOr, colour-blind safe; agree = purple
            "sequential": "cividis",
            "groups": [
                OKABE_ITO["blue"],
                OKABE_ITO["orange"],
                OKABE_ITO["bluish_green"],
                OKABE_ITO["reddish_purple"],
                OKABE_ITO["vermillion"],
                OKABE_ITO["sky_blue"],
                OKABE_ITO["yellow"],
                OKABE_ITO["black"],
            ],
            "neutral": NEUTRAL_GREY,
        }


def _axes(ax: Axes | None, size: str) -> Axes:
    """Return ``ax`` or a new slide-sized Axes in the toolkit style.

    The figure is created outside the rc context on purpose: in Jupyter the inline backend
    switches ``rcParams["interactive"]`` on when the session's first figure is made, and
    leaving an rc context made around that moment would switch it off again, so that later
    figures would no longer be shown.
    """
    if ax is not None:
        return ax
    fig = plt.figure(figsize=SLIDE_SIZES[size])
    with chart_style():
        return fig.add_subplot()


def _levels(data: pd.DataFrame, items: list[str], levels: Sequence[object] | None) -> list[object]:
    if levels is not None:
        return list(levels)
    first = data[items[0]]
    if isinstance(first.dtype, pd.CategoricalDtype):
        return list(first.cat.categories)
    values = pd.unique(data[items].stack().dropna())
    try:
        return sorted(values)
    except TypeError as exc:
        raise ValueError(
            "levels: the responses are text without an order; pass levels=[...] in scale "
            "order (or decode the items with Codebook.decode)."
        ) from exc


def _diverging_colors(k: int, neutral: int | None, cmap: str) -> list[str]:
    n_side = k // 2
    cm = mpl.colormaps[cmap]
    low = [to_hex(cm(0.12 + 0.33 * i / max(n_side - 1, 1))) for i in range(n_side)]
    high = [to_hex(cm(0.88 - 0.33 * i / max(n_side - 1, 1))) for i in range(n_side)][::-1]
    if neutral is None:
        return low + high
    return [*low, NEUTRAL_GREY, *high]


def likert_bars(
    data: pd.DataFrame,
    items: Sequence[str],
    *,
    levels: Sequence[object] | None = None,
    neutral: object | Literal["auto"] | None = "auto",
    item_labels: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Diverging stacked bars of Likert responses, one bar per item, neutral centred on zero.

    Parameters
    ----------
    data : pandas.DataFrame
        Responses, as labels (ordered categoricals, e.g. from
        :meth:`toolkit.survey.Codebook.decode`) or numeric codes.
    items : list of str
        Item columns, drawn top to bottom.
    levels : list, optional
        Response levels in scale order (default: the categorical order or the sorted codes).
    neutral : level, None or "auto", default "auto"
        The middle category, split half left and half right of zero. ``"auto"``: the middle
        level when the number of levels is odd, none when it is even.
    item_labels : list of str, optional
        Labels for the bars (e.g. the question wording); default the item names.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        x axis: percent of answers (disagreeing to the left, agreeing to the right); one bar
        container per level, labelled with the level for the legend.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> df = pd.DataFrame({"q1": [1, 2, 3, 3, 5], "q2": [4, 4, 5, 2, 1]})
    >>> ax = likert_bars(df, ["q1", "q2"], levels=[1, 2, 3, 4, 5])
    >>> len(ax.containers)
    5
    """
    data = check_frame(data)
    items = check_columns(data, list(items), "items")
    levels = _levels(data, items, levels)
    k = len(levels)
    if k < 2:
        raise ValueError(f"levels: need at least two response levels, got {levels}.")
    if neutral == "auto":
        neutral_idx = k // 2 if k % 2 else None
    elif neutral is None:
        neutral_idx = None
    else:
        if neutral not in levels:
            raise ValueError(f"neutral: {neutral!r} is not one of the levels {levels}.")
        neutral_idx = levels.index(neutral)
    if item_labels is not None and len(item_labels) != len(items):
        raise ValueError(f"item_labels: need {len(items)} labels, got {len(item_labels)}.")
    shares = np.zeros((len(items), k))
    for i, it in enumerate(items):
        col = data[it]
        answered = col.dropna()
        unknown = set(pd.unique(answered)) - set(levels)
        if unknown:
            raise ValueError(
                f"items: column {it!r} has responses {sorted(map(str, unknown))} that are not "
                f"among the levels {levels}."
            )
        if len(answered):
            counts = answered.value_counts()
            shares[i] = [100 * counts.get(lev, 0) / len(answered) for lev in levels]
    split = neutral_idx if neutral_idx is not None else k // 2
    left_total = shares[:, :split].sum(axis=1)
    if neutral_idx is not None:
        left_total = left_total + shares[:, neutral_idx] / 2
    ax = _axes(ax, "16:9")
    with _style() as st:
        colors = _diverging_colors(k, neutral_idx, st["diverging"])  # type: ignore[arg-type]
        y = np.arange(len(items))[::-1]
        start = -left_total
        for j, lev in enumerate(levels):
            ax.barh(
                y,
                shares[:, j],
                left=start,
                color=colors[j],
                edgecolor="white",
                linewidth=0.6,
                label=str(lev),
                height=0.7,
            )
            start = start + shares[:, j]
        ax.axvline(0, color="#333333", linewidth=1)
        ax.set_yticks(y, list(item_labels) if item_labels is not None else items)
        lim = max(float(np.max(left_total)), float(np.max(start)), 1.0) * 1.05
        ax.set_xlim(-lim, lim)
        ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{abs(v):.0f}%"))
        ax.set_xlabel("Share of answers")
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", visible=True)
        ax.legend(ncols=min(k, 7), loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    return ax


def item_heatmap(
    data: pd.DataFrame,
    items: Sequence[str],
    group: str,
    *,
    stat: Literal["mean", "top_box"] = "mean",
    top_levels: Sequence[object] | None = None,
    center: float | None = None,
    annotate: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Heatmap of each item (rows) by group (columns): mean response or share agreeing.

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric responses (``stat="mean"``) or any responses (``stat="top_box"``).
    items : list of str
        Item columns (rows of the heatmap, top to bottom).
    group : str
        Group column (columns of the heatmap, in sorted or category order).
    stat : {"mean", "top_box"}, default "mean"
        Cell value: the item mean, or the percentage answering one of ``top_levels``.
    top_levels : list, optional
        Levels counted by ``"top_box"`` (e.g. ``[5, 6]`` or ``["Agree", "Strongly agree"]``).
    center : float, optional
        Draw with a diverging map centred on this value (e.g. the scale midpoint 3.5);
        default a sequential map.
    annotate : bool, default True
        Write each value in its cell.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        With one image whose array is items x groups, and a colour bar.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> df = pd.DataFrame({"g": ["a", "a", "b", "b"], "q1": [1, 2, 4, 5], "q2": [3, 3, 2, 2]})
    >>> ax = item_heatmap(df, ["q1", "q2"], "g")
    >>> ax.images[0].get_array().shape
    (2, 2)
    """
    data = check_frame(data)
    items = check_columns(data, list(items), "items")
    group = check_column(data, group, "group")
    if stat not in ("mean", "top_box"):
        raise ValueError(f"stat must be 'mean' or 'top_box', got {stat!r}.")
    grp = data[group]
    if isinstance(grp.dtype, pd.CategoricalDtype):
        groups = [c for c in grp.cat.categories if (grp == c).any()]
    else:
        groups = sorted(pd.unique(grp.dropna()), key=lambda v: (str(type(v)), v))
    values = np.full((len(items), len(groups)), np.nan)
    for j, g in enumerate(groups):
        sub = data.loc[grp == g, items]
        for i, it in enumerate(items):
            col = sub[it].dropna()
            if not len(col):
                continue
            if stat == "mean":
                if not pd.api.types.is_numeric_dtype(col):
                    raise TypeError(
                        f"items: column {it!r} is not numeric; recode it or use stat='top_box'."
                    )
                values[i, j] = col.mean()
            else:
                if top_levels is None:
                    raise ValueError("stat='top_box' needs top_levels, e.g. [5, 6].")
                values[i, j] = 100 * col.isin(list(top_levels)).mean()
    if np.isnan(values).all():
        raise ValueError(
            f"items: {preview(items, 6)} have no answer in any group of {group!r}; nothing to plot."
        )
    ax = _axes(ax, "half")
    with _style() as st:
        if center is None:
            cmap = st["sequential"]
            vmin, vmax = np.nanmin(values), np.nanmax(values)
        else:
            cmap = st["diverging"]
            half = np.nanmax(np.abs(values - center)) or 1.0
            vmin, vmax = center - half, center + half
        im = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
        labels = [str(g) for g in groups]
        long = max(len(lab) for lab in labels) > 6 and len(labels) > 2
        ax.set_xticks(
            np.arange(len(groups)),
            labels,
            rotation=30 if long else 0,
            ha="right" if long else "center",
        )
        ax.set_yticks(np.arange(len(items)), items)
        ax.set_xlabel(group)
        ax.grid(False)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        cbar = ax.figure.colorbar(im, ax=ax)
        cbar.set_label("Mean response" if stat == "mean" else "% in top categories")
        if annotate:
            norm = im.norm
            for i in range(len(items)):
                for j in range(len(groups)):
                    v = values[i, j]
                    if np.isnan(v):
                        continue
                    dark = norm(v) < 0.5 if center is None else abs(norm(v) - 0.5) > 0.3
                    ax.text(
                        j,
                        i,
                        f"{v:.1f}" if stat == "top_box" else f"{v:.2f}",
                        ha="center",
                        va="center",
                        fontsize=11,
                        color="white" if dark else "black",
                    )
    return ax


def distribution_by_group(
    data: pd.DataFrame,
    score: str,
    group: str,
    *,
    show_points: bool = True,
    max_points: int = 400,
    seed: int = 0,
    ax: Axes | None = None,
) -> Axes:
    """Box plots of a score for each group, with the mean marked and (a sample of) the points.

    Parameters
    ----------
    data : pandas.DataFrame
    score : str
        Numeric column (a scale score, a test score).
    group : str
        Group column, one box per group (sorted or category order).
    show_points : bool, default True
        Overlay jittered points (at most ``max_points`` per group, drawn with ``seed``).
    max_points : int, default 400
    seed : int, default 0
        Seed of the jitter and the subsample (a chart is reproducible).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One box per group; means as white diamonds; x tick labels "group (n = ...)".

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> df = pd.DataFrame({"g": ["a"] * 5 + ["b"] * 5, "y": range(10)})
    >>> ax = distribution_by_group(df, "y", "g")
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['a (n = 5)', 'b (n = 5)']
    """
    data = check_frame(data)
    score = check_column(data, score, "score")
    group = check_column(data, group, "group")
    if not pd.api.types.is_numeric_dtype(data[score]):
        raise TypeError(f"score: column {score!r} must be numeric, got {data[score].dtype}.")
    grp = data[group]
    if isinstance(grp.dtype, pd.CategoricalDtype):
        groups = [c for c in grp.cat.categories if (grp == c).any()]
    else:
        groups = sorted(pd.unique(grp.dropna()), key=lambda v: (str(type(v)), v))
    series = [data.loc[grp == g, score].dropna().to_numpy(dtype=float) for g in groups]
    if not any(len(v) for v in series):
        raise ValueError(
            f"score: column {score!r} has no value in any group of {group!r}; nothing to plot."
        )
    rng = np.random.default_rng(seed)
    ax = _axes(ax, "half")
    with _style() as st:
        colors = st["groups"]
        pos = np.arange(1, len(groups) + 1)
        box = ax.boxplot(
            series,
            positions=pos,
            widths=0.55,
            patch_artist=True,
            showfliers=not show_points,
            medianprops={"color": "black"},
        )
        for j, patch in enumerate(box["boxes"]):
            patch.set_facecolor(colors[j % len(colors)])  # type: ignore[index]
            patch.set_alpha(0.55)
        for j, vals in enumerate(series):
            if show_points and vals.size:
                pts = vals if vals.size <= max_points else rng.choice(vals, max_points, False)
                ax.scatter(
                    pos[j] + rng.uniform(-0.18, 0.18, pts.size),
                    pts,
                    s=8,
                    color=colors[j % len(colors)],
                    alpha=0.35,  # type: ignore[index]
                    linewidths=0,
                    zorder=1,
                )
            if vals.size:
                ax.scatter(
                    [pos[j]],
                    [vals.mean()],
                    marker="D",
                    s=55,
                    color="white",
                    edgecolor="black",
                    zorder=4,
                    label="mean" if j == 0 else None,
                )
        ax.set_xticks(pos, [f"{g} (n = {v.size})" for g, v in zip(groups, series, strict=True)])
        ax.set_xlabel(group)
        ax.set_ylabel(score)
    return ax
