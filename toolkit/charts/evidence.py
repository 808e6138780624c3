"""The headline before and after the evidence: prior against posterior predictive intervals.

The table this chart reads is written by ``simulations/evidence_headline.py`` (one row per
source, metric and contrast; see ``docs/evidence-headline.md``): for each regime against
standardized teaching, and for personalized against individualized, the median and 90%
interval over parameter draws of the paired effect, once with the engagement parameters drawn
from their priors (the assumptions alone) and once from their posterior on the trial record.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from toolkit.charts.style import OKABE_ITO, chart_style, new_axes

__all__ = ["plot_prior_posterior"]

#: Colour and label of each source of parameter draws.
_SOURCES = {
    "prior": ("#999999", "prior predictive (assumptions only)"),
    "posterior": (OKABE_ITO["black"], "posterior predictive (after the trial record)"),
}
_METRIC_LABELS = {
    "test": "effect on the test (SD)",
    "total_learning": "effect on total learning (SD)",
    "diversity": "effect on diversity",
}


def plot_prior_posterior(
    table: pd.DataFrame,
    metric: str = "test",
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    r"""Prior and posterior predictive intervals of each contrast, one row per contrast.

    For contrast :math:`c` and source :math:`s \in \{\text{prior}, \text{posterior}\}` the
    row's dot is the median over parameter draws :math:`\theta_j \sim p_s(\theta)` of the
    paired effect :math:`\Delta_c(\theta_j)` and its line the 5% to 95% quantiles, so the
    shrinkage from the grey to the black line is what the evidence did to the prediction
    (Gelman et al. 2013, ch. 6). The posterior's :math:`P(\Delta_c > 0)` is written beside it.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with ``kind == "effect"`` and columns ``source`` ("prior", "posterior"),
        ``metric``, ``contrast``, ``median``, ``q05``, ``q95`` and ``p_positive``
        (``simulations/evidence-headline.csv``).
    metric : str
        Which outcome: ``"test"``, ``"total_learning"`` or ``"diversity"``.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ValueError
        If a column is missing, or the table has no prior or no posterior rows for ``metric``.

    References
    ----------
    .. [1] Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A., & Rubin,
       D. B. (2013). *Bayesian Data Analysis* (3rd ed.). CRC Press.
    """
    needed = {"source", "metric", "contrast", "median", "q05", "q95", "p_positive"}
    missing = sorted(needed - set(table.columns))
    if missing:
        raise ValueError(
            f"plot_prior_posterior: the table lacks column(s) {missing}; expected the table "
            "of simulations/evidence_headline.py (evidence-headline.csv)."
        )
    rows = table[table["metric"] == metric]
    if "kind" in rows.columns:
        rows = rows[rows["kind"] == "effect"]
    for source in _SOURCES:
        if not (rows["source"] == source).any():
            raise ValueError(
                f"plot_prior_posterior: no {source!r} rows for metric {metric!r}; the metrics "
                f"in the table are {sorted(table['metric'].dropna().unique())}."
            )
    contrasts = list(dict.fromkeys(rows["contrast"]))
    ax = new_axes(ax, "4:3")
    y = np.arange(len(contrasts))[::-1].astype(float)
    with chart_style():
        for offset, (source, (color, label)) in zip((0.17, -0.17), _SOURCES.items(), strict=True):
            part = rows[rows["source"] == source].set_index("contrast")
            for yi, c in zip(y, contrasts, strict=True):
                if c not in part.index:
                    continue
                r = part.loc[c]
                ax.plot([r["q05"], r["q95"]], [yi + offset] * 2, color=color, lw=3,
                        solid_capstyle="round")  # fmt: skip
                ax.plot([r["median"]], [yi + offset], "o", color=color, ms=9, mec="white",
                        mew=1.2, label=label if c == contrasts[0] else None)  # fmt: skip
                if source == "posterior":
                    ax.annotate(f"P(>0) = {r['p_positive']:.2f}", (r["q95"], yi + offset),
                                xytext=(6, 0), textcoords="offset points", va="center",
                                fontsize=9)  # fmt: skip
        ax.axvline(0, color="#333333", lw=1)
        ax.set_yticks(y, contrasts)
        ax.grid(axis="x", color="#DDDDDD")
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(f"{_METRIC_LABELS.get(metric, metric)}: median and 90% interval over draws")
        ax.legend(loc="lower right", frameon=False, fontsize=9)
        ax.set_title(
            title if title is not None else "The headline before and after the evidence",
            loc="left",
        )
    return ax
