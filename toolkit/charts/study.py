"""Charts of a study's results: arms compared on outcome, spread, diversity and the tails.

Each function takes the tables written by :func:`toolkit.study.analysis.analyse_run`
(``summary`` and ``tails``), draws on ``ax`` (a new slide-sized Axes if ``None``) and returns
the Axes. :func:`headline_figures` composes them into the presenter figures of the headline
study.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from toolkit.charts.panels import HEADLINE_PANELS
from toolkit.charts.style import SLIDE_SIZES, chart_style, fit_text, new_axes, regime_color

__all__ = [
    "DIVERSITY_METRICS",
    "METRIC_LABELS",
    "SPREAD_METRICS",
    "crossover_table",
    "crossovers",
    "headline_figures",
    "plot_diversity",
    "plot_metric",
    "plot_metrics",
    "plot_spread",
    "plot_study",
    "plot_sweep",
    "plot_tails",
    "plot_trajectory",
]

#: Human labels of the summary metrics (used as panel titles and axis labels).
METRIC_LABELS = {
    "score": "Test score (core domains, SD)",
    "effect_size": "Effect on test vs reference (SD)",
    "core_gain": "Gain in core skill (SD)",
    "total_learning": "Total learning, all domains (SD)",
    "engagement": "Engagement (0-1)",
    "fit": "Challenge fit (0-1)",
    "core_time": "Share of time on core domains",
    "self_regulation_growth": "Self-regulation growth",
    "sd_score": "SD of test scores",
    "variance_ratio": "Variance ratio vs reference",
    "cv": "Coefficient of variation (scale score)",
    "gini": "Gini (scale score)",
    "p90_p10": "90/10 gap (SD)",
    "p75_p25": "75/25 gap (SD)",
    "matthew": "Matthew effect r(prior, gain)",
    "mean_pairwise_distance": "Profile distance (mean pairwise)",
    "strongest_domain_entropy": "Entropy of strongest domain",
    "rao_q": "Rao's quadratic entropy",
    "diversity_of_excellence": "Share excelling in >= 1 domain",
}


def _year_rows(df: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """Rows of school year ``year``; by default the last year when there are several."""
    if year is not None:
        return df[df["year"] == year]
    if "year" in df and df["year"].nunique() > 1:
        return df[df["year"] == df["year"].max()]
    return df


def _wide_means(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Return a sweep's last-year means of ``metric``: a row per sweep value, a column per arm."""
    s = _year_rows(summary[summary["metric"] == metric])
    return s.pivot_table(index="sweep_value", columns="arm", values="mean", observed=True)


def _crossings(d: pd.Series) -> list[float]:
    """Sweep values where ``d`` (a difference indexed by sweep value) changes sign.

    Between two sweep values of opposite sign the crossing is interpolated linearly; where the
    difference is exactly 0 at one or more sweep values and has opposite signs on either side,
    the crossing is the first of them. Lines that only touch (the same sign on both sides), or
    never differ, do not cross.
    """
    d = d.sort_index()
    x, y = d.index.to_numpy(dtype=float), d.to_numpy(dtype=float)
    nonzero = [i for i in range(len(y)) if y[i] != 0 and np.isfinite(y[i])]
    out = []
    for i, j in itertools.pairwise(nonzero):
        if y[i] * y[j] > 0:
            continue
        if j == i + 1:
            out.append(float(x[i] - y[i] * (x[j] - x[i]) / (y[j] - y[i])))
        else:  # equal at the sweep values between
            out.append(float(x[i + 1]))
    return out


def _select(
    summary: pd.DataFrame, metric: str, point: int | None, year: int | None
) -> pd.DataFrame:
    if metric not in set(summary["metric"]):
        raise ValueError(
            f"metric {metric!r} is not in the summary; available: {sorted(set(summary['metric']))}"
        )
    s = summary[summary["metric"] == metric]
    if point is not None:
        s = s[s["point"] == point]
    elif "point" in s and s["point"].nunique() > 1:
        raise ValueError("the summary has several sweep points; pass point=...")
    return _year_rows(s, year)


def plot_metric(
    summary: pd.DataFrame,
    metric: str,
    *,
    ax: Axes | None = None,
    difference: bool = False,
    point: int | None = None,
    year: int | None = None,
    title: str | None = None,
) -> Axes:
    """Dot-and-whisker chart of one metric per arm: mean and 95% CI (or paired difference).

    Parameters
    ----------
    summary : pandas.DataFrame
        The study summary (columns ``arm, metric, mean, ci_low, ci_high, diff, diff_ci_low,
        diff_ci_high`` and, for several points or years, ``point``, ``year``).
    metric : str
        A metric name (see :data:`METRIC_LABELS`).
    ax : matplotlib Axes, optional
    difference : bool
        Plot the paired difference against the reference arm instead of the mean, with a zero
        line.
    point, year : int, optional
        Sweep point and school year to show (defaults: the only point, the last year).
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    s = _select(summary, metric, point, year)
    ax = new_axes(ax)
    arms = list(s["arm"].astype(str))
    cols = ("diff", "diff_ci_low", "diff_ci_high") if difference else ("mean", "ci_low", "ci_high")
    y = np.arange(len(arms))[::-1]
    with chart_style():
        for yi, (_, row) in zip(y, s.iterrows(), strict=True):
            c = regime_color(str(row["arm"]), arms)
            m, lo, hi = (row[k] for k in cols)
            ax.plot([lo, hi], [yi, yi], color=c, lw=3, solid_capstyle="round")
            ax.plot([m], [yi], "o", color=c, ms=11, mec="white", mew=1.5)
        ax.set_yticks(y, arms)
        ax.grid(axis="x", color="#DDDDDD")
        ax.grid(axis="y", visible=False)
        if difference or metric == "effect_size":
            ax.axvline(0, color="#333333", lw=1)
        label = METRIC_LABELS.get(metric, metric)
        ref = s.loc[s["diff"] == 0, "arm"].astype(str)
        ref_name = ref.iloc[0] if len(ref) else "reference"
        if difference:
            ax.set_xlabel(f"difference vs {ref_name}")
        elif metric == "effect_size":
            ax.set_xlabel(f"effect size vs {ref_name} (SD)")
        else:
            ax.set_xlabel("mean over classrooms (95% CI)")
        ax.set_title(title if title is not None else label, loc="left")
    return ax


def _lines_with_bands(
    ax: Axes, table: pd.DataFrame, x: str, *, offset: float = 0.0, markersize: float = 8
) -> list[str]:
    """Draw one line per arm (``mean`` against column ``x``) with its 95% band; return the arms."""
    arms = [str(a) for a in dict.fromkeys(table["arm"].astype(str))]
    for arm in arms:
        r = table[table["arm"].astype(str) == arm].sort_values(x)
        xs = r[x] + offset
        c = regime_color(arm, arms)
        ax.fill_between(xs, r["ci_low"], r["ci_high"], color=c, alpha=0.15, lw=0)
        ax.plot(xs, r["mean"], "o-", color=c, lw=2.5, ms=markersize, label=arm)
    return arms


def plot_tails(
    tails: pd.DataFrame,
    *,
    ax: Axes | None = None,
    value: str = "core_gain",
    point: int | None = None,
    year: int | None = None,
    title: str | None = None,
) -> Axes:
    """Outcome by prior-achievement quintile, one line per arm, with 95% CIs.

    Parameters
    ----------
    tails : pandas.DataFrame
        Columns ``arm, quintile, value, mean, ci_low, ci_high`` (and ``point``, ``year``).
    value : str
        Which outcome (``core_gain`` or ``score``).
    ax : matplotlib Axes, optional
    point, year : int, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    t = tails[tails["value"] == value]
    if t.empty:
        raise ValueError(f"tails: no rows for value {value!r}; have {sorted(set(tails['value']))}")
    if point is not None:
        t = t[t["point"] == point]
    t = _year_rows(t, year)
    ax = new_axes(ax)
    with chart_style():
        _lines_with_bands(ax, t, "quintile")
        ax.set_xticks(np.arange(1, 6), ["Q1\nlowest", "Q2", "Q3", "Q4", "Q5\nhighest"])
        ax.set_xlabel("Prior achievement quintile")
        ax.set_ylabel(METRIC_LABELS.get(value, value))
        ax.set_title(title or "Who gains: by prior achievement", loc="left")
        ax.legend(loc="best")
    return ax


def headline_figures(
    summary: pd.DataFrame,
    tails: pd.DataFrame | None = None,
    *,
    point: int | None = None,
    year: int | None = None,
    panels: Sequence[tuple[str, str, Sequence[str], bool]] = HEADLINE_PANELS,
    fit: bool = True,
) -> dict[str, Figure]:
    """Make the presenter figures of a comparison study, one 16:9 figure per theme.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`toolkit.study.analysis.analyse_run`.
    tails : pandas.DataFrame, optional
        Outcome by prior quintile; adds a ``tails`` figure.
    point, year : int, optional
        Which sweep point and year.
    panels : sequence
        ``(name, title, metrics, difference)`` for each figure (2 x 2 panels each).
    fit : bool
        Wrap titles and labels that would not fit (:func:`~toolkit.charts.style.fit_text`)
        at the figures' size on screen. ``False`` for figures about to be saved:
        :func:`~toolkit.charts.style.save_figure` fits them at the size and resolution it
        saves them, and would do that work again.

    Returns
    -------
    dict of str to Figure
        Keyed by the figure's name (``outcome``, ``effects``, ``spread``, ``diversity``,
        ``tails``).
    """
    figures: dict[str, Figure] = {}
    available = set(summary["metric"])
    with chart_style():
        for name, title, metrics, diff in panels:
            metrics = [m for m in metrics if m in available]
            if not metrics:
                continue
            fig, axes = plt.subplots(2, 2, figsize=SLIDE_SIZES["16:9"], layout="constrained")
            for ax, metric in zip(axes.flat, metrics, strict=False):
                plot_metric(
                    summary,
                    metric,
                    ax=ax,
                    difference=diff and metric != "effect_size",
                    point=point,
                    year=year,
                )
            for ax in list(axes.flat)[len(metrics) :]:
                ax.set_visible(False)
            fig.suptitle(title, fontsize=24, fontweight="bold", x=0.01, ha="left")
            figures[name] = fit_text(fig) if fit else fig
        if tails is not None and not tails.empty:
            fig, ax = plt.subplots(figsize=SLIDE_SIZES["16:9"], layout="constrained")
            plot_tails(tails, ax=ax, point=point, year=year)
            figures["tails"] = fit_text(fig) if fit else fig
    return figures


def crossovers(summary: pd.DataFrame, metric: str, a: str, b: str) -> list[float]:
    """Sweep values where arm ``a``'s mean crosses arm ``b``'s (linear interpolation).

    Parameters
    ----------
    summary : pandas.DataFrame
        A sweep's summary (``sweep_value`` numeric, one row per arm and point).
    metric : str
    a, b : str
        Arm names.

    Returns
    -------
    list of float
        The interpolated sweep values at which the difference ``a - b`` changes sign.

    Examples
    --------
    >>> s = pd.DataFrame({"metric": "m", "year": 0, "arm": ["x", "y"] * 2,
    ...                   "sweep_value": [0, 0, 1, 1], "mean": [0.0, 1.0, 2.0, 1.0]})
    >>> crossovers(s, "m", "x", "y")
    [0.5]
    """
    wide = _wide_means(summary, metric)
    if a not in wide or b not in wide:
        raise ValueError(f"crossovers: arms {a!r} and {b!r} must both be in the summary.")
    return _crossings(wide[a] - wide[b])


def crossover_table(
    summary: pd.DataFrame, metrics: Sequence[str] = ("effect_size",)
) -> pd.DataFrame:
    """Every crossover between two arms in a sweep: where, and which arm leads beyond it.

    Parameters
    ----------
    summary : pandas.DataFrame
        A sweep's summary (numeric ``sweep_value``).
    metrics : sequence of str
        Metrics to look at.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric, at, below, above``: the interpolated sweep value where the two arms'
        means cross (:func:`crossovers`), the arm ahead just below it and the arm ahead just
        above it. Sorted by metric and position; empty if no lines cross.

    Examples
    --------
    >>> s = pd.DataFrame({"metric": "m", "year": 0, "arm": ["x", "y"] * 2,
    ...                   "sweep_value": [0, 0, 1, 1], "mean": [0.0, 1.0, 2.0, 1.0]})
    >>> crossover_table(s, ["m"]).to_dict("records")
    [{'metric': 'm', 'at': 0.5, 'below': 'y', 'above': 'x'}]
    """
    rows = []
    for metric in metrics:
        wide = _wide_means(summary, metric)
        arms = [str(a) for a in wide.columns]
        for i, a in enumerate(arms):
            for b in arms[i + 1 :]:
                d = (wide[a] - wide[b]).sort_index()
                x = d.index.to_numpy(dtype=float)
                for at in _crossings(d):
                    before = d[x < at]
                    after = d[x > at]
                    lead_below = a if len(before) and before.iloc[-1] > 0 else b
                    lead_above = a if len(after) and after.iloc[0] > 0 else b
                    rows.append(
                        {"metric": metric, "at": at, "below": lead_below, "above": lead_above}
                    )
    out = pd.DataFrame(rows, columns=["metric", "at", "below", "above"])
    return out.sort_values(["metric", "at"], kind="stable").reset_index(drop=True)


def _value_at(line: pd.Series, x: float) -> float:
    """Linear interpolation of a line (indexed by sweep value) at ``x``."""
    line = line.sort_index()
    return float(np.interp(x, line.index.to_numpy(dtype=float), line.to_numpy(dtype=float)))


def plot_sweep(
    summary: pd.DataFrame,
    metric: str,
    *,
    ax: Axes | None = None,
    parameter: str | None = None,
    reference: str | None = None,
    year: int | None = None,
    mark_crossovers: bool = True,
    title: str | None = None,
) -> Axes:
    """One metric against a swept parameter, one line per arm with 95% bands; crossovers marked.

    Every crossing of two arms' lines (:func:`crossover_table`) is marked with a ring on the
    crossing, a dotted vertical line in the colour of the arm that leads beyond it, and its
    sweep value above the plot (labels that would touch are raised one row).

    Parameters
    ----------
    summary : pandas.DataFrame
        A sweep study's summary (numeric ``sweep_value``).
    metric : str
    ax : matplotlib Axes, optional
    parameter : str, optional
        Name of the swept parameter (x-axis label).
    reference : str, optional
        Mark only the crossings with this arm (default: the crossings of every pair of arms).
    year : int, optional
        School year (default: the last).
    mark_crossovers : bool
    title : str, optional

    Returns
    -------
    matplotlib Axes
        The crossing marks are ``Line2D`` objects labelled ``"crossing|<a>|<b>"`` (the ring)
        and dotted vertical lines; the value labels are ``ax.texts``.
    """
    s = summary[summary["metric"] == metric]
    if s.empty:
        raise ValueError(f"metric {metric!r} is not in the summary.")
    s = _year_rows(s, year)
    ax = new_axes(ax)
    with chart_style():
        arms = _lines_with_bands(ax, s, "sweep_value", markersize=7)
        if reference is not None and reference not in arms:
            raise ValueError(f"plot_sweep: reference {reference!r} is not one of the arms {arms}.")
        rows = crossover_table(s, [metric]) if mark_crossovers else pd.DataFrame()
        wide = _wide_means(s, metric)
        xmin, xmax = float(s["sweep_value"].min()), float(s["sweep_value"].max())
        placed: list[tuple[float, int, str]] = []  # labels: x (axes fraction), row, text
        for row in rows.itertuples():
            if reference is not None and reference not in (row.below, row.above):
                continue
            xc, c = float(row.at), regime_color(str(row.above), arms)
            ax.axvline(xc, color=c, ls=":", lw=1.5)
            yc = _value_at(wide[row.above], xc)
            ax.plot([xc], [yc], "o", ms=12, mfc="none", mec="#222222", mew=2, zorder=5,
                    label=f"crossing|{row.below}|{row.above}")  # fmt: skip
            text = f"{xc:.3g}"
            frac = (xc - xmin) / (xmax - xmin) if xmax > xmin else 0.5
            if any(abs(frac - f) < 0.02 and t == text for f, _, t in placed):
                continue  # the same value is already written there
            level = 0
            while any(abs(frac - f) < 0.07 and lv == level for f, lv, _ in placed):
                level += 1
            placed.append((frac, level, text))
            ax.annotate(text, (xc, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(0, 2 + 16 * level), textcoords="offset points",
                        ha="center", va="bottom", fontsize=12, color=c)  # fmt: skip
        ax.set_xlabel(parameter or "swept value")
        ax.set_ylabel(METRIC_LABELS.get(metric, metric))
        rows_of_labels = 1 + max((lv for _, lv, _ in placed), default=0)
        ax.set_title(
            title or METRIC_LABELS.get(metric, metric), loc="left", pad=6 + 16 * rows_of_labels
        )
        handles = [h for h in ax.get_lines() if h.get_label() in arms]
        ax.legend(handles=handles, loc="best")
    return ax


def plot_trajectory(
    summary: pd.DataFrame,
    metric: str,
    *,
    ax: Axes | None = None,
    point: int | None = None,
    title: str | None = None,
) -> Axes:
    """One metric over school years, one line per arm with 95% bands.

    Parameters
    ----------
    summary : pandas.DataFrame
        A multi-year study's summary (``year`` from 0).
    metric : str
    ax : matplotlib Axes, optional
    point : int, optional
        Sweep point (default: the first).
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    s = summary[summary["metric"] == metric]
    if s.empty:
        raise ValueError(f"metric {metric!r} is not in the summary.")
    s = s[s["point"] == (s["point"].min() if point is None else point)]
    ax = new_axes(ax)
    with chart_style():
        _lines_with_bands(ax, s, "year", offset=1)
        ax.set_xticks(sorted(set(s["year"] + 1)))
        ax.set_xlabel("School year")
        ax.set_ylabel(METRIC_LABELS.get(metric, metric))
        ax.set_title(title or METRIC_LABELS.get(metric, metric), loc="left")
        ax.legend(loc="best")
    return ax


#: Spread and gap metrics, all in SD units of the starting cohort (:func:`plot_spread`).
SPREAD_METRICS = ("sd_score", "p75_p25", "p90_p10")

#: Profile-diversity metrics (:func:`plot_diversity`).
DIVERSITY_METRICS = (
    "mean_pairwise_distance",
    "strongest_domain_entropy",
    "rao_q",
    "diversity_of_excellence",
)

#: Short labels of metrics when several share one axis.
SHORT_LABELS = {
    "sd_score": "SD",
    "p75_p25": "75/25 gap",
    "p90_p10": "90/10 gap",
    "mean_pairwise_distance": "Profile distance",
    "strongest_domain_entropy": "Strongest-domain entropy",
    "rao_q": "Rao's Q",
    "diversity_of_excellence": "Excelling in >= 1 domain",
}


def plot_metrics(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    *,
    ax: Axes | None = None,
    difference: bool = False,
    relative: bool = False,
    point: int | None = None,
    year: int | None = None,
    xlabel: str | None = None,
    title: str | None = None,
) -> Axes:
    """Several metrics on one axis: one row per metric, one dot and 95% CI per arm.

    Parameters
    ----------
    summary : pandas.DataFrame
        The study summary (as for :func:`plot_metric`).
    metrics : sequence of str
        Metric names, top to bottom. They share the x-axis, so they should share a unit
        unless ``relative`` is set.
    ax : matplotlib Axes, optional
    difference : bool
        Plot paired differences against the reference arm (with a zero line).
    relative : bool
        Plot paired differences as a percentage of the reference arm's mean, so metrics in
        different units can share the axis (implies ``difference``; the reference mean is
        treated as fixed).
    point, year : int, optional
        Sweep point and school year (defaults: the only point, the last year).
    xlabel, title : str, optional

    Returns
    -------
    matplotlib Axes
        One dot per arm and metric (``Line2D`` with label ``"<arm>|<metric>"``) and one
        whisker per arm and metric with a finite interval.
    """
    if not metrics:
        raise ValueError("plot_metrics: give at least one metric.")
    difference = difference or relative
    rows = {m: _select(summary, m, point, year) for m in metrics}
    ax = new_axes(ax)
    arms = list(dict.fromkeys(str(a) for r in rows.values() for a in r["arm"].astype(str)))
    n = len(arms)
    step = 0.8 / max(n, 1)
    cols = ("diff", "diff_ci_low", "diff_ci_high") if difference else ("mean", "ci_low", "ci_high")
    y0 = np.arange(len(metrics))[::-1].astype(float)
    with chart_style():
        for yi, metric in zip(y0, metrics, strict=True):
            r = rows[metric].set_index(rows[metric]["arm"].astype(str))
            ref_mean = float(r.loc[r["diff"] == 0, "mean"].iloc[0]) if relative else 1.0
            scale = 100.0 / ref_mean if relative else 1.0
            for k, arm in enumerate(arms):
                if arm not in r.index:
                    continue
                c = regime_color(arm, arms)
                y = yi + 0.4 - step / 2 - k * step
                m, lo, hi = (float(r.loc[arm, col]) * scale for col in cols)
                if np.isfinite(lo) and np.isfinite(hi):
                    ax.plot([lo, hi], [y, y], color=c, lw=3, solid_capstyle="round")
                ax.plot([m], [y], "o", color=c, ms=9, mec="white", mew=1.2, label=f"{arm}|{metric}")
        ax.set_yticks(y0, [SHORT_LABELS.get(m, METRIC_LABELS.get(m, m)) for m in metrics])
        ax.set_ylim(-0.6, len(metrics) - 0.4)
        ax.grid(axis="x", color="#DDDDDD")
        ax.grid(axis="y", visible=False)
        if difference:
            ax.axvline(0, color="#333333", lw=1)
        ref = next(
            (str(a) for r in rows.values() for a in r.loc[r["diff"] == 0, "arm"].astype(str)),
            "reference",
        )
        if xlabel is None:
            if relative:
                xlabel = f"% difference vs {ref}"
            elif difference:
                xlabel = f"difference vs {ref}"
            else:
                xlabel = ""
        ax.set_xlabel(xlabel)
        handles = [
            plt.Line2D([], [], marker="o", ls="", color=regime_color(a, arms), ms=9, label=a)
            for a in arms
        ]
        ax.legend(handles=handles, loc="best")
        if title:
            ax.set_title(title, loc="left")
    return ax


def plot_spread(
    summary: pd.DataFrame,
    *,
    ax: Axes | None = None,
    difference: bool = False,
    point: int | None = None,
    year: int | None = None,
    title: str | None = None,
) -> Axes:
    """Spread and gaps of test scores per arm: SD, 75/25 and 90/10 gaps, with 95% CIs.

    All three are in SD units of the starting cohort, so they share the axis. Gaps between
    prior-achievement groups are shown by :func:`plot_tails`.

    Parameters
    ----------
    summary : pandas.DataFrame
    ax : matplotlib Axes, optional
    difference : bool
        Paired differences against the reference arm instead of levels.
    point, year : int, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    return plot_metrics(
        summary,
        [m for m in SPREAD_METRICS if m in set(summary["metric"])],
        ax=ax,
        difference=difference,
        point=point,
        year=year,
        xlabel=None if difference else "Test-score spread (SD of the starting cohort)",
        title=title or "Spread and gaps of test scores",
    )


def plot_diversity(
    summary: pd.DataFrame,
    *,
    ax: Axes | None = None,
    point: int | None = None,
    year: int | None = None,
    title: str | None = None,
) -> Axes:
    """Diversity of skill profiles per arm, in % of the reference arm, with 95% CIs.

    The four profile-diversity metrics (mean pairwise profile distance, entropy of students'
    strongest domain, Rao's quadratic entropy, share excelling in at least one domain) have
    different units, so each is shown as the paired difference in percent of the reference
    arm's mean. :func:`toolkit.charts.plot_strongest_domains` shows the profiles themselves.

    Parameters
    ----------
    summary : pandas.DataFrame
    ax : matplotlib Axes, optional
    point, year : int, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    return plot_metrics(
        summary,
        [m for m in DIVERSITY_METRICS if m in set(summary["metric"])],
        ax=ax,
        relative=True,
        point=point,
        year=year,
        title=title or "Diversity of skill profiles",
    )


def plot_study(
    result: object,
    metric: str | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw the key chart of any study run, in one call.

    A sweep gives :func:`plot_sweep` of the effect on the test (crossovers marked); a study
    over several school years gives :func:`plot_trajectory` of the test score; a comparison
    gives :func:`plot_metric` of the effect on the test with paired CIs.

    Parameters
    ----------
    result : toolkit.study.RunResult
        A finished run (its ``summary`` and ``manifest`` are used).
    metric : str, optional
        Another metric of the summary to show.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    summary = result.summary
    study = result.manifest.get("study", {})
    sweep = study.get("sweep") or {}
    if summary["point"].nunique() > 1 or sweep:
        return plot_sweep(
            summary,
            metric or "effect_size",
            ax=ax,
            parameter=sweep.get("parameter"),
            title=title,
        )
    if summary["year"].nunique() > 1:
        return plot_trajectory(summary, metric or "score", ax=ax, title=title)
    return plot_metric(summary, metric or "effect_size", ax=ax, title=title)
