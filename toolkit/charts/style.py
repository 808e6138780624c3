"""One chart style: colour-blind-safe, one fixed colour per regime, large type.

Colours come from the Okabe-Ito palette (Okabe & Ito 2008), designed to stay distinguishable for
the common forms of colour-vision deficiency; each regime keeps its colour on every chart.
Fonts are sized for slides. Every chart function in the toolkit takes ``ax=None`` and returns
the Axes; :func:`save_figure` writes PNG/SVG/PDF at slide sizes with a provenance line.

References
----------
.. [1] Okabe, M., & Ito, K. (2008). Color Universal Design (CUD): how to make figures and
   presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "OKABE_ITO",
    "REGIME_COLORS",
    "SLIDE_SIZES",
    "caption",
    "chart_style",
    "new_axes",
    "regime_color",
    "save_figure",
]

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: The fixed colour of each preset regime, used on every chart.
REGIME_COLORS = {
    "standardized": "#5F5F5F",  # neutral grey: the reference
    "individualized": OKABE_ITO["blue"],
    "personalized": OKABE_ITO["orange"],
    "personal": OKABE_ITO["bluish_green"],
}
_EXTRA = [
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["yellow"],
    OKABE_ITO["black"],
]

#: Figure sizes in inches for slides (16:9 and 4:3) and a half-slide panel.
SLIDE_SIZES = {"16:9": (13.33, 7.5), "4:3": (10.0, 7.5), "half": (6.4, 5.4)}

_RC = {
    "font.size": 16,
    "axes.titlesize": 20,
    "axes.titleweight": "bold",
    "axes.labelsize": 17,
    "xtick.labelsize": 15,
    "ytick.labelsize": 15,
    "legend.fontsize": 14,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "axes.prop_cycle": mpl.cycler(color=[*REGIME_COLORS.values(), *_EXTRA]),
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}


def regime_color(name: str, others: Sequence[str] = ()) -> str:
    """Colour of a regime (or arm): the fixed preset colour, else a stable extra colour.

    Parameters
    ----------
    name : str
        Regime or arm name. Names that start with a preset name (``"personal*"``) take the
        preset's colour.
    others : sequence of str
        All non-preset names on the chart, in order, so that each gets a distinct extra colour.

    Returns
    -------
    str
        A hex colour.

    Examples
    --------
    >>> regime_color("personal")
    '#009E73'
    """
    if name in REGIME_COLORS:
        return REGIME_COLORS[name]
    extras = [o for o in others if o not in REGIME_COLORS]
    i = extras.index(name) if name in extras else sum(map(ord, name))
    return _EXTRA[i % len(_EXTRA)]


@contextlib.contextmanager
def chart_style() -> Iterator[None]:
    """Context manager applying the toolkit's matplotlib style (restored on exit)."""
    with mpl.rc_context(_RC):
        yield


def new_axes(ax: Axes | None = None, size: str | tuple[float, float] = "half") -> Axes:
    """Return ``ax``, or a new Axes on a figure of a slide size, in the toolkit style."""
    if ax is not None:
        return ax
    figsize = SLIDE_SIZES[size] if isinstance(size, str) else size
    with chart_style():
        _, ax = plt.subplots(figsize=figsize)
    return ax


def caption(fig: Figure, text: str) -> None:
    """Put a small provenance line under a figure's bottom-left corner (replacing any earlier)."""
    for t in list(fig.texts):
        if t.get_gid() == "provenance":
            t.remove()
    # just below the figure's lower edge: saving with bbox="tight" extends the canvas to it,
    # so it never overlaps axis labels
    t = fig.text(0.005, -0.005, text, fontsize=9, color="#555555", ha="left", va="top")
    t.set_gid("provenance")


def save_figure(
    fig: Figure,
    path: str | Path,
    *,
    formats: Iterable[str] = ("png", "svg"),
    size: str | tuple[float, float] | None = None,
    provenance: str | None = None,
    dpi: int = 200,
) -> list[Path]:
    """Save a figure in several formats, optionally resized to a slide size and captioned.

    Parameters
    ----------
    fig : matplotlib Figure
    path : str or Path
        Path without extension (an extension, if given, is replaced).
    formats : iterable of {"png", "svg", "pdf"}
    size : {"16:9", "4:3", "half"} or (width, height), optional
        Resize before saving.
    provenance : str, optional
        Text of the provenance line (study, seed, version, commit); ``None`` for none.
    dpi : int
        Resolution of PNG output.

    Returns
    -------
    list of Path
        The files written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if size is not None:
        fig.set_size_inches(SLIDE_SIZES[size] if isinstance(size, str) else size)
    if provenance:
        caption(fig, provenance)
    written = []
    for fmt in formats:
        if fmt not in ("png", "svg", "pdf"):
            raise ValueError(f"formats: {fmt!r} is not one of 'png', 'svg', 'pdf'.")
        out = path.with_suffix(f".{fmt}")
        with chart_style():
            fig.savefig(out, dpi=dpi, metadata=_metadata(fmt, provenance))
        written.append(out)
    return written


def _metadata(fmt: str, provenance: str | None) -> dict[str, str] | None:
    if not provenance:
        return None
    key = {"png": "Description", "svg": "Description", "pdf": "Subject"}[fmt]
    return {key: provenance}
