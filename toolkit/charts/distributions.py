"""Charts of individual students' outcomes: distributions per arm and profiles of strengths.

These take the run's student table (``RunResult.students``: one row per student, arm,
classroom and year) rather than the summary, because they show students, not classroom means.
Like every chart in the toolkit they take ``ax=None`` and return the Axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from toolkit.charts.study import METRIC_LABELS
from toolkit.charts.style import chart_style, domain_color, new_axes, regime_color
from toolkit.metrics import strongest_domain_shares

__all__ = ["STUDENT_LABELS", "plot_distribution", "plot_strongest_domains"]

#: Axis labels of the student table's outcome columns.
STUDENT_LABELS = {
    "score": "Test score (core domains, SD)",
    "gain": "Gain in test score (SD)",
    "core_gain": "Gain in core skill (SD)",
    "total_learning": "Total learning, all domains (SD)",
    "engagement": "Engagement (0-1)",
    "fit": "Challenge fit (0-1)",
    "core_time": "Share of time on core domains",
    "peer_learning": "Learning from peers (SD)",
    "self_regulation_end": "Self-regulation at the end of the year",
}


def _students_slice(
    students: pd.DataFrame, point: int | None, year: int | None
) -> tuple[pd.DataFrame, list[str]]:
    """Rows of one sweep point and year (default: the only point, the last year), and arms."""
    s = students
    if "point" in s:
        if point is not None:
            s = s[s["point"] == point]
        elif s["point"].nunique() > 1:
            raise ValueError("the student table has several sweep points; pass point=...")
    if "year" in s:
        s = s[s["year"] == (s["year"].max() if year is None else year)]
    if s.empty:
        raise ValueError(f"no students for point={point!r}, year={year!r}.")
    arm_col = s["arm"]
    if isinstance(arm_col.dtype, pd.CategoricalDtype):
        present = set(arm_col.astype(str))
        arms = [str(a) for a in arm_col.cat.categories if str(a) in present]
    else:
        arms = list(dict.fromkeys(arm_col.astype(str)))
    return s, arms


def plot_distribution(
    students: pd.DataFrame,
    value: str = "score",
    *,
    ax: Axes | None = None,
    kind: str = "violin",
    point: int | None = None,
    year: int | None = None,
    arms: Sequence[str] | None = None,
    title: str | None = None,
) -> Axes:
    """Distribution of a student outcome per arm, as violins or a ridgeline, with quartiles.

    Each arm gets one row (top to bottom in the arms' order) in its regime colour; a thick bar
    spans the interquartile range and a white dot marks the median, so spread, gaps and
    skew are visible beyond the means of :func:`toolkit.charts.plot_metric`.

    Parameters
    ----------
    students : pandas.DataFrame
        The run's student table (columns ``arm``, ``value`` and, for several, ``point`` and
        ``year``).
    value : str
        A numeric column: ``score`` (default), ``total_learning``, ``engagement``, ...
    ax : matplotlib Axes, optional
    kind : {"violin", "ridgeline"}
        Mirrored kernel-density violins, or one-sided densities stacked like a ridgeline
        (both with the same Gaussian kernel density estimate, Scott's bandwidth).
    point, year : int, optional
        Sweep point and school year (defaults: the only point, the last year).
    arms : sequence of str, optional
        Arms to show, in order (default: all, in the table's order).
    title : str, optional

    Returns
    -------
    matplotlib Axes
        For ``"violin"``, one ``PolyCollection`` per arm (``ax.collections``, labelled with
        the arm); for ``"ridgeline"``, one filled area per arm, labelled likewise. Medians
        are ``Line2D`` markers labelled ``"median|<arm>"``.
    """
    if kind not in ("violin", "ridgeline"):
        raise ValueError(f"kind must be 'violin' or 'ridgeline', got {kind!r}.")
    if value not in students:
        raise ValueError(f"value {value!r} is not a column of the student table.")
    s, present = _students_slice(students, point, year)
    if arms is None:
        arms = present
    else:
        arms = [str(a) for a in arms]
        missing = [a for a in arms if a not in present]
        if missing:
            raise ValueError(f"arms {missing} are not in the student table; have {present}.")
    data = [s.loc[s["arm"].astype(str) == a, value].dropna().to_numpy(float) for a in arms]
    ax = new_axes(ax)
    y = np.arange(len(arms))[::-1].astype(float)
    lo = min(d.min() for d in data)
    hi = max(d.max() for d in data)
    pad = 0.05 * (hi - lo or 1.0)
    grid = np.linspace(lo - pad, hi + pad, 256)
    with chart_style():
        if kind == "violin":
            parts = ax.violinplot(
                data,
                positions=y,
                orientation="horizontal",
                widths=0.85,
                showextrema=False,
                points=256,
            )
            for body, arm in zip(parts["bodies"], arms, strict=True):
                c = regime_color(arm, arms)
                body.set_facecolor(c)
                body.set_edgecolor(c)
                body.set_alpha(0.55)
                body.set_label(arm)
        else:
            from scipy.stats import gaussian_kde  # here: a run's figures do not need scipy.stats

            dens = [gaussian_kde(d)(grid) if np.ptp(d) > 0 else np.zeros_like(grid) for d in data]
            top = max(float(d.max()) for d in dens) or 1.0
            for yi, d, arm in zip(y, dens, arms, strict=True):
                c = regime_color(arm, arms)
                h = 0.9 * d / top
                ax.fill_between(grid, yi, yi + h, color=c, alpha=0.55, lw=0, label=arm)
                ax.plot(grid, yi + h, color=c, lw=1.5)
        for yi, d, arm in zip(y, data, arms, strict=True):
            c = regime_color(arm, arms)
            q1, med, q3 = np.percentile(d, [25, 50, 75])
            ax.plot([q1, q3], [yi, yi], color=c, lw=6, solid_capstyle="butt")
            ax.plot(
                [med], [yi], "o", color="white", mec=c, mew=2, ms=9, label=f"median|{arm}", zorder=3
            )
        ax.set_yticks(y, arms)
        ax.set_ylim(-0.6, len(arms) - 0.4 + (0.5 if kind == "ridgeline" else 0))
        ax.grid(axis="x", color="#DDDDDD")
        ax.grid(axis="y", visible=False)
        label = STUDENT_LABELS.get(value, METRIC_LABELS.get(value, value))
        ax.set_xlabel(label)
        ax.set_title(title or "Distribution over students", loc="left")
    return ax


def plot_strongest_domains(
    students: pd.DataFrame,
    *,
    ax: Axes | None = None,
    point: int | None = None,
    year: int | None = None,
    domains: Sequence[str] | None = None,
    title: str | None = None,
) -> Axes:
    """Profile diversity: the share of students whose strongest domain is each domain, per arm.

    One stacked bar per arm, one segment per domain in the domain's colour, with shares of 8%
    or more written on the segment. The entropy of these shares is
    :func:`toolkit.metrics.strongest_domain_entropy` of the pooled students (the summary's
    ``strongest_domain_entropy`` is the mean over classrooms, which is lower or equal).

    Parameters
    ----------
    students : pandas.DataFrame
        The run's student table with ``skill_<domain>`` columns (end-of-year skills).
    ax : matplotlib Axes, optional
    point, year : int, optional
        Sweep point and school year (defaults: the only point, the last year).
    domains : sequence of str, optional
        Domains to compare (default: every ``skill_<domain>`` column).
    title : str, optional

    Returns
    -------
    matplotlib Axes
        One bar patch per arm and domain, labelled with the domain (once per domain for the
        legend) and with widths equal to the shares.
    """
    s, arms = _students_slice(students, point, year)
    if domains is None:
        domains = [c.removeprefix("skill_") for c in s.columns if c.startswith("skill_")]
    if not domains:
        raise ValueError("the student table has no skill_<domain> columns.")
    cols = [f"skill_{d}" for d in domains]
    shares = pd.DataFrame(
        {
            arm: strongest_domain_shares(s.loc[s["arm"].astype(str) == arm, cols]).to_numpy()
            for arm in arms
        },
        index=list(domains),
    ).T
    ax = new_axes(ax)
    y = np.arange(len(arms))[::-1].astype(float)
    with chart_style():
        left = np.zeros(len(arms))
        for d in domains:
            w = shares[d].to_numpy()
            bars = ax.barh(
                y,
                w,
                left=left,
                height=0.7,
                color=domain_color(d, domains),
                edgecolor="white",
                linewidth=1.5,
                label=d,
            )
            for bar, share in zip(bars, w, strict=True):
                if share >= 0.08:
                    ax.text(
                        bar.get_x() + bar.get_width() / 2,
                        bar.get_y() + bar.get_height() / 2,
                        f"{share:.0%}",
                        ha="center",
                        va="center",
                        fontsize=13,
                        color="black",
                    )
            left += w
        ax.set_yticks(y, arms)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.set_xlabel("Share of students whose strongest domain is ...")
        ax.grid(visible=False)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=len(domains))
        ax.set_title(title or "Where students are strongest", loc="left")
    return ax
