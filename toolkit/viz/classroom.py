"""The model behind the interactive classroom view, and its drawings.

The view lives here, outside the model's code: :class:`ClassroomView` only gives
:class:`~toolkit.model.ClassroomModel` the flat keyword arguments that the view's controls
set (:mod:`toolkit.viz.page`), and records two more class-level series; the drawing functions
read the model's state.

The drawing functions :func:`draw_classroom` and :func:`draw_outcomes` follow the charts'
convention (``ax=None``, return the Axes) and work without Solara, e.g. in a notebook::

    model = ClassroomView(regime="personal", seed=7)
    for _ in range(60):
        model.step()
    draw_classroom(model)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import mesa
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

from toolkit.charts.style import (
    chart_style,
    domain_color,
    new_axes,
    regime_color,
)
from toolkit.metrics import mean_pairwise_distance
from toolkit.model import PRESETS, ClassroomModel, ParameterError, Parameters, Regime, blend

__all__ = [
    "OUTCOME_PANELS",
    "OUTCOME_SIZE",
    "SCAFFOLDING_CHOICES",
    "ClassroomView",
    "draw_classroom",
    "draw_outcomes",
    "parse_seed",
    "stats_line",
    "view_regime",
]

_DEFAULTS = Parameters()

#: Choices of the scaffolding control: the regime's own value, or a fixed share of teacher time.
SCAFFOLDING_CHOICES = ("regime's own", "0", "0.05", "0.15", "0.3", "0.5")


def view_regime(
    regime: str = "standardized",
    blend_with: str = "personal",
    blend_weight: float = 0.0,
    scaffolding: str | float = "regime's own",
) -> Regime:
    """Build the regime the view's controls describe.

    Parameters
    ----------
    regime : str
        A preset name.
    blend_with : str
        A second preset.
    blend_weight : float
        Weight of ``blend_with`` in [0, 1]; 0 gives ``regime`` unchanged.
    scaffolding : str or float
        ``"regime's own"`` keeps the regime's scaffolding; a number (or its text) sets the
        share of teacher time spent scaffolding self-regulation.

    Returns
    -------
    Regime

    Examples
    --------
    >>> view_regime("personalized", "personal", 0.5).name
    'blend(personalized, personal, 0.5)'
    >>> view_regime("standardized", scaffolding="0.3").scaffolding
    0.3
    """
    for name in (regime, blend_with):
        if name not in PRESETS:
            raise ParameterError(f"view: unknown regime {name!r}; expected one of {list(PRESETS)}.")
    r = PRESETS[regime]
    if blend_weight > 0:
        r = blend(r, PRESETS[blend_with], float(blend_weight))
    if scaffolding != SCAFFOLDING_CHOICES[0]:
        r = r.replace(scaffolding=float(scaffolding), name=r.name)
    return r


def parse_seed(seed: int | str) -> int:
    """Read a seed as the view's seed box gives it: a non-negative whole number, or its text.

    Parameters
    ----------
    seed : int or str

    Returns
    -------
    int

    Raises
    ------
    ParameterError
        If ``seed`` is not a whole number, or is negative (the message names the seed).

    Examples
    --------
    >>> parse_seed(" 42 ")
    42
    """
    if isinstance(seed, bool):
        raise ParameterError(f"seed: expected a whole number of 0 or more, got {seed!r}.")
    try:
        value = int(str(seed).strip())
    except ValueError:
        raise ParameterError(f"seed: expected a whole number of 0 or more, got {seed!r}.") from None
    if value < 0:
        raise ParameterError(f"seed: expected a whole number of 0 or more, got {value}.")
    return value


class ClassroomView(ClassroomModel):
    """The classroom model with flat keyword arguments, as the view's controls set them.

    Parameters
    ----------
    regime, blend_with, blend_weight, scaffolding
        The regime (see :func:`view_regime`).
    teacher_capacity, diagnostic_noise, peer_learning, self_regulation_mean, n_students
        Model parameters (see ``python -m toolkit params``); the rest keep their defaults.
    n_years : int
        School years to run (the same regime every year).
    seed : int or str
        The classroom's seed (text from the seed box is accepted).

    Attributes
    ----------
    inputs : dict
        The keyword arguments as given.
    color : str
        The regime's colour on the charts (a blend takes the colour of its heavier preset).

    Notes
    -----
    Besides the model's daily series, the data collector records ``mean_skill`` (mean over
    all domains, tested or not) and ``profile_distance`` (mean pairwise Euclidean distance
    between students' skill profiles, :func:`toolkit.metrics.mean_pairwise_distance`).

    Examples
    --------
    >>> m = ClassroomView(regime="personal", n_students=8, seed="3")
    >>> m.step()
    >>> list(m.datacollector.get_model_vars_dataframe()["day"])
    [0, 1]
    """

    def __init__(
        self,
        regime: str = "standardized",
        blend_with: str = "personal",
        blend_weight: float = 0.0,
        scaffolding: str | float = SCAFFOLDING_CHOICES[0],
        teacher_capacity: float = _DEFAULTS.teacher_capacity,
        diagnostic_noise: float = _DEFAULTS.diagnostic_noise,
        peer_learning: float = _DEFAULTS.peer_learning,
        self_regulation_mean: float = _DEFAULTS.self_regulation_mean,
        n_students: int = _DEFAULTS.n_students,
        n_years: int = 1,
        seed: int | str = 42,
    ) -> None:
        #: The inputs as given (the controls start from these, see :mod:`toolkit.viz.page`).
        self.inputs = {
            "regime": regime,
            "blend_with": blend_with,
            "blend_weight": blend_weight,
            "scaffolding": scaffolding,
            "teacher_capacity": teacher_capacity,
            "diagnostic_noise": diagnostic_noise,
            "peer_learning": peer_learning,
            "self_regulation_mean": self_regulation_mean,
            "n_students": n_students,
            "n_years": n_years,
            "seed": seed,
        }
        spec = view_regime(regime, blend_with, blend_weight, scaffolding)
        params = self.parameters_from(self.inputs)
        super().__init__(spec, params, rng=parse_seed(seed), n_years=int(n_years), collect=True)
        self.color = regime_color(regime if blend_weight <= 0.5 else blend_with)
        reporters = dict(self.datacollector.model_reporters)
        reporters["mean_skill"] = lambda m: float(np.mean(m.skills()))
        reporters["profile_distance"] = lambda m: mean_pairwise_distance(m.skills())
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    @staticmethod
    def parameters_from(inputs: Mapping[str, Any]) -> Parameters:
        """Return the model parameters that the view's inputs set (the rest keep defaults).

        ``peer_ties`` becomes at most ``n_students - 1``, so that a small class still forms
        its peer network.

        Parameters
        ----------
        inputs : mapping
            At least ``teacher_capacity, diagnostic_noise, peer_learning,
            self_regulation_mean, n_students``.

        Returns
        -------
        toolkit.model.Parameters

        Raises
        ------
        ParameterError
            If a value is out of the model's range (the message names the parameter).
        """
        n_students = inputs["n_students"]
        ties = _DEFAULTS.peer_ties
        if isinstance(n_students, int | float) and not isinstance(n_students, bool):
            ties = max(0, min(ties, int(n_students) - 1))
        return Parameters.from_mapping(
            {
                "teacher_capacity": inputs["teacher_capacity"],
                "diagnostic_noise": inputs["diagnostic_noise"],
                "peer_learning": inputs["peer_learning"],
                "self_regulation_mean": inputs["self_regulation_mean"],
                "n_students": n_students,
                "peer_ties": ties,
            }
        )

    def skills(self) -> np.ndarray:
        """Every student's skills, shape (N, D)."""
        return np.stack([s.skill for s in self.ordered_students])

    def series(self) -> pd.DataFrame:
        """Return the class's daily series so far, with ``t``: school days since the start."""
        df = self.datacollector.get_model_vars_dataframe()
        return df.assign(t=df["year"] * self.params.n_days + df["day"])


# -- drawing (plain matplotlib, usable without Solara) ---------------------------------------------
def _layout(groups: np.ndarray) -> np.ndarray:
    """Positions of students: each instructional group around its own table."""
    labels = sorted(set(groups.tolist()))
    pos = np.zeros((groups.size, 2))
    n_groups = len(labels)
    for k, g in enumerate(labels):
        members = np.flatnonzero(groups == g)
        angle = 2 * np.pi * k / n_groups + np.pi / 2
        centre = np.zeros(2) if n_groups == 1 else 2.4 * np.array([np.cos(angle), np.sin(angle)])
        radius = 0.32 * np.sqrt(members.size)
        theta = 2 * np.pi * np.arange(members.size) / max(members.size, 1)
        pos[members] = centre + radius * np.column_stack([np.cos(theta), np.sin(theta)])
    return pos


def draw_classroom(
    model: ClassroomModel, *, ax: Axes | None = None, color_by: str = "domain"
) -> Axes:
    """Draw the class: students at their group's table, coloured, with their peer links.

    Parameters
    ----------
    model : ClassroomModel
    ax : matplotlib Axes, optional
        Default: a new half-slide figure.
    color_by : {"domain", "engagement"}
        Colour students by the domain they spend most time on today (domain colours), or by
        engagement (viridis, 0 to 1).

    Returns
    -------
    matplotlib Axes
        Students are one scatter collection (``gid="students"``; marker area grows with
        core skill), peer ties one line collection (``gid="peer_links"``).
    """
    if color_by not in ("domain", "engagement"):
        raise ValueError(f"color_by must be 'domain' or 'engagement', got {color_by!r}.")
    ax = new_axes(ax, "half")
    students = model.ordered_students
    pos = _layout(np.asarray(model.teacher.groups))
    core = model.core_skills()
    rank = core.argsort().argsort() / max(len(core) - 1, 1)
    domains = list(model.params.domains)
    with chart_style():
        edges = [(pos[i], pos[j]) for i, j in model.network.edges()]
        links = LineCollection(edges, colors="#9A9A9A", linewidths=0.9, alpha=0.7, zorder=1)
        links.set_gid("peer_links")
        ax.add_collection(links)
        if color_by == "domain":
            colors = [domain_color(domains[s.focus_domain], domains) for s in students]
            sc = ax.scatter(
                pos[:, 0],
                pos[:, 1],
                s=70 + 330 * rank,
                c=colors,
                edgecolors="#333333",
                linewidths=0.8,
                zorder=2,
            )
            handles = [
                Line2D([], [], marker="o", ls="", ms=10, color=domain_color(d, domains), label=d)
                for d in domains
            ]
            ax.legend(
                handles=handles,
                title="Working most on",
                loc="upper left",
                bbox_to_anchor=(1.0, 1.0),
                fontsize=11,
                title_fontsize=11,
            )
        else:
            engagement = np.array([s.engagement for s in students])
            sc = ax.scatter(
                pos[:, 0],
                pos[:, 1],
                s=70 + 330 * rank,
                c=engagement,
                cmap="viridis",
                vmin=0,
                vmax=1,
                edgecolors="#333333",
                linewidths=0.8,
                zorder=2,
            )
            ax.figure.colorbar(sc, ax=ax, label="Engagement", shrink=0.8)
        sc.set_gid("students")
        if model.teacher.n_groups > 1:
            for g in sorted(set(model.teacher.groups.tolist())):
                c = pos[model.teacher.groups == g].mean(axis=0)
                ax.text(*c, f"G{g + 1}", ha="center", va="center", fontsize=11, color="#555555")
        ax.set_aspect("equal")
        ax.autoscale_view()
        ax.margins(0.08)
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.grid(visible=False)
        ax.set_title(
            f"{model.regime.name}: day {model.day} of {model.params.n_days}, "
            f"year {model.year + 1} of {model.n_years}",
            loc="left",
            fontsize=14,
        )
        ax.set_xlabel(
            f"{model.teacher.n_groups} group(s), {model.regime.grouping}; "
            "marker size = core skill; lines = peer ties",
            fontsize=11,
        )
    return ax


#: Size of the outcome figure (inches): three panels stacked.
OUTCOME_SIZE = (7.0, 8.0)

#: Panels of :func:`draw_outcomes`: (title, [(series, label, line style)]).
OUTCOME_PANELS = (
    (
        "Skill (SD)",
        [("mean_core_skill", "core (tested)", "-"), ("mean_skill", "all domains", "--")],
    ),
    (
        "Engagement, self-regulation",
        [("mean_engagement", "engagement", "-"), ("mean_self_regulation", "self-regulation", "--")],
    ),
    (
        "Diversity",
        [
            ("sd_core_skill", "SD of core skill", "-"),
            ("profile_distance", "profile distance", "--"),
        ],
    ),
)


def draw_outcomes(
    model: ClassroomView, *, axes: Sequence[Axes] | None = None, color: str | None = None
) -> list[Axes]:
    """Draw the class's live outcome and diversity series, one panel each.

    Parameters
    ----------
    model : ClassroomView
        A model whose data collector has the view's series (see :class:`ClassroomView`).
    axes : sequence of three matplotlib Axes, optional
        Default: a new figure with the three panels stacked, sharing the time axis.
    color : str, optional
        Line colour (default: the model's regime colour).

    Returns
    -------
    list of matplotlib Axes
        Panels for skill (core and all domains), engagement and self-regulation, and
        diversity (SD of core skill, profile distance), each with one line per series
        labelled with the series name (``Line2D.get_gid()``).
    """
    if axes is None:
        with chart_style():
            _, axes = plt.subplots(
                len(OUTCOME_PANELS), 1, figsize=OUTCOME_SIZE, sharex=True, layout="constrained"
            )
    axes = list(axes)
    if len(axes) != len(OUTCOME_PANELS):
        raise ValueError(f"draw_outcomes: expected {len(OUTCOME_PANELS)} axes, got {len(axes)}.")
    df = model.series()
    color = color or getattr(model, "color", None) or regime_color(model.regime.name)
    with chart_style():
        for ax, (title, lines) in zip(axes, OUTCOME_PANELS, strict=True):
            for column, label, style in lines:
                (line,) = ax.plot(df["t"], df[column], style, color=color, lw=2.5, label=label)
                line.set_gid(column)
            ax.set_title(title, loc="left", fontsize=15)
            ax.tick_params(labelsize=12)
            ax.legend(fontsize=11, loc="best")
            ax.set_xlim(0, max(model.n_years * model.params.n_days, 1))
        axes[1].set_ylim(0, 1)
        axes[-1].set_xlabel("School day", fontsize=13)
    return axes


def stats_line(model: ClassroomView) -> str:
    """One line of today's class statistics (shown above the view's charts)."""
    last = model.datacollector.get_model_vars_dataframe().iloc[-1]
    return (
        f"{model.regime.name} | day {model.day} of {model.params.n_days}, year {model.year + 1} | "
        f"mean core skill {last['mean_core_skill']:.3f} | SD {last['sd_core_skill']:.3f} | "
        f"engagement {last['mean_engagement']:.3f} | "
        f"self-regulation {last['mean_self_regulation']:.3f} | "
        f"profile distance {last['profile_distance']:.3f}"
    )
