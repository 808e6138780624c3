"""Results in words: small pieces of sentences written from a run's own numbers.

The notebooks write their results paragraphs from the run's tables (a number typed into
prose goes stale when the model changes; ``tests/test_notebooks.py`` checks that their text
quotes only their inputs). These helpers are the words they share: an estimate with its
interval, a direction read from an interval, the shape of a line across a sweep or the years,
and a list in prose. :func:`toolkit.power.describe_needed` does the same for power curves.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CHANNEL_WORDS",
    "describe_channels",
    "describe_direction",
    "describe_estimate",
    "describe_trend",
    "join_words",
]

#: Short names of the decomposition's channels, for sentences (the charts' longer labels are
#: :data:`toolkit.study.decompose.CHANNEL_LABELS`).
CHANNEL_WORDS = {
    "domain_time": "time on each domain",
    "fit": "fit",
    "engagement": "engagement",
    "peers": "peers",
    "self_regulation": "self-regulation",
    "teacher_time": "the teacher",
}


def join_words(items: Iterable[str], conjunction: str = "and") -> str:
    """Join words as a list in prose: ``a``, ``a and b``, ``a, b and c``.

    Parameters
    ----------
    items : iterable of str
    conjunction : str, default "and"
        Word before the last item (e.g. ``"or"``).

    Returns
    -------
    str
        Empty for no items.

    Examples
    --------
    >>> join_words(["fit", "engagement", "peers"])
    'fit, engagement and peers'
    >>> join_words(["fit"])
    'fit'
    """
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def describe_estimate(
    mean: float,
    low: float = math.nan,
    high: float = math.nan,
    *,
    digits: int = 2,
    unit: str = "",
    signed: bool = True,
) -> str:
    """Write an estimate with its 95% interval in brackets: ``+0.25 SD [+0.23, +0.27]``.

    Parameters
    ----------
    mean, low, high : float
        The estimate and its interval (NaN bounds: the estimate alone).
    digits : int, default 2
        Decimals.
    unit : str
        Word after the estimate (``"SD"``).
    signed : bool, default True
        Write the sign of every number (differences).

    Returns
    -------
    str

    Examples
    --------
    >>> describe_estimate(0.2461, 0.2262, 0.2658, unit="SD")
    '+0.25 SD [+0.23, +0.27]'
    >>> describe_estimate(0.52, signed=False)
    '0.52'
    """
    f = f"{{:{'+' if signed else ''}.{digits}f}}"
    u = f" {unit}" if unit else ""
    text = f"{f.format(mean)}{u}"
    if low == low and high == high:  # not NaN
        text += f" [{f.format(low)}, {f.format(high)}]"
    return text


def describe_direction(
    low: float,
    high: float,
    above: str = "above",
    below: str = "below",
    neither: str = "not distinguishable from",
) -> str:
    """Read a direction from a 95% interval of a difference: which side of zero it lies on.

    Parameters
    ----------
    low, high : float
        The interval's bounds.
    above, below, neither : str
        Words for an interval wholly above zero, wholly below it, and one that contains it.

    Returns
    -------
    str

    Examples
    --------
    >>> describe_direction(0.02, 0.05, "widens", "narrows", "leaves unchanged")
    'widens'
    >>> describe_direction(-0.01, 0.03)
    'not distinguishable from'
    """
    if low > 0:
        return above
    if high < 0:
        return below
    return neither


def _turning_points(y: np.ndarray, tolerance: float) -> list[int]:
    """Find the first point, the turns larger than ``tolerance``, and the last extreme."""
    pivots, trend, ext, lo, hi = [0], 0, 0, 0, 0
    for i in range(1, len(y)):
        if trend == 0:  # no move yet: the first one larger than the tolerance sets the trend
            if y[i] - y[lo] > tolerance or y[hi] - y[i] > tolerance:
                trend, ext = (1 if y[i] - y[lo] > tolerance else -1), i
            lo, hi = (i if y[i] < y[lo] else lo), (i if y[i] > y[hi] else hi)
        elif trend * (y[i] - y[ext]) >= 0:
            ext = i
        elif abs(y[ext] - y[i]) > tolerance:
            pivots.append(ext)
            trend, ext = -trend, i
    pivots.append(ext)
    return pivots


def describe_trend(
    x: Sequence[float],
    y: Sequence[float],
    value: Callable[[float], str] = "{:.2f}".format,
    at: Callable[[float], str] = "at {:g}".format,
    tolerance: float = 0.0,
) -> str:
    """Say in words where a line rises, falls or turns, with its values.

    The line is read as a zigzag: a change counts once it exceeds ``tolerance`` from the last
    extreme, so that wiggles of Monte Carlo size do not read as turns. A line whose whole range
    is within the tolerance "stays between" its smallest and largest values.

    Parameters
    ----------
    x, y : sequence of float
        Positions (sweep values, years) and the line's values, in order of ``x``.
    value, at : callable
        Format a value (``"+0.25 SD"``) and a position (``"at 0.5"``, ``"in year 2"``).
    tolerance : float, default 0
        Smallest change that counts as a move.

    Returns
    -------
    str

    Examples
    --------
    >>> describe_trend([0.25, 0.5, 1, 2, 4], [0.28, 0.23, 0.13, 0.15, 0.17], tolerance=0.01)
    'falls from 0.28 at 0.25 to 0.13 at 1, then rises to 0.17 at 4'
    >>> describe_trend([0, 0.2, 0.4], [0.485, 0.486, 0.488], tolerance=0.01)
    'stays between 0.48 and 0.49'
    >>> describe_trend([1, 2, 3], [0.29, 0.28, 0.31], tolerance=0.02)
    'rises from 0.29 at 1 to 0.31 at 3'
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.shape != ys.shape or xs.size < 2:
        raise ValueError(
            f"describe_trend: x and y must be two sequences of the same length >= 2, got "
            f"{xs.size} and {ys.size} values."
        )
    if not np.all(np.isfinite(ys)):
        raise ValueError(f"describe_trend: y has missing or infinite values: {list(ys)}.")
    if ys.max() - ys.min() <= tolerance:
        low, high = value(ys.min()), value(ys.max())
        return f"stays at {low}" if low == high else f"stays between {low} and {high}"
    pivots = _turning_points(ys, tolerance)
    parts = []
    for k, (i, j) in enumerate(itertools.pairwise(pivots)):
        verb = "rises" if ys[j] > ys[i] else "falls"
        start = f" from {value(ys[i])} {at(xs[i])}" if k == 0 else ""
        parts.append(f"{verb}{start} to {value(ys[j])} {at(xs[j])}")
    return ", then ".join(parts)


def describe_channels(
    decomposition: pd.DataFrame, arm: str, outcome: str = "effect_size", digits: int = 2
) -> str:
    """Say which channels raise and which lower an arm's difference from the reference.

    A channel is named as raising (lowering) the difference when its 95% interval lies above
    (below) zero, in order of size; the others are listed as making no clear contribution.

    Parameters
    ----------
    decomposition : pandas.DataFrame
        A study's ``decomposition.csv`` (:func:`toolkit.study.decompose.decompose`): columns
        ``arm, outcome, channel, contribution, ci_low, ci_high``, with a ``total`` row.
    arm : str
    outcome : str, default "effect_size"
    digits : int, default 2

    Returns
    -------
    str

    Examples
    --------
    >>> d = pd.DataFrame({"arm": "x", "outcome": "effect_size",
    ...                   "channel": ["fit", "peers", "teacher_time", "total"],
    ...                   "contribution": [0.09, 0.14, -0.01, 0.22],
    ...                   "ci_low": [0.08, 0.12, -0.02, 0.2], "ci_high": [0.1, 0.16, 0.01, 0.24]})
    >>> describe_channels(d, "x")
    'raised by peers (+0.14) and fit (+0.09); no clear contribution from the teacher'
    >>> describe_channels(d.assign(contribution=[0.09, 0.14, -0.004, 0.22],
    ...                            ci_high=[0.1, 0.16, -0.001, 0.24]), "x")
    'raised by peers (+0.14) and fit (+0.09); lowered by the teacher (-0.004)'
    """
    rows = decomposition[(decomposition["arm"] == arm) & (decomposition["outcome"] == outcome)]
    if rows.empty:
        raise ValueError(
            f"describe_channels: the decomposition has no rows for {arm!r}, {outcome!r}."
        )
    parts = rows[rows["channel"] != "total"].sort_values("contribution", ascending=False)

    def word(r: Any) -> str:
        # a clear contribution too small for ``digits`` gets one more, so it never reads 0.00
        d = digits + (0 < abs(r.contribution) < 0.5 * 10**-digits)
        return f"{CHANNEL_WORDS.get(r.channel, r.channel)} ({r.contribution:+.{d}f})"

    up = [word(r) for r in parts.itertuples() if r.ci_low > 0]
    down = [word(r) for r in parts[::-1].itertuples() if r.ci_high < 0]
    unclear = [
        CHANNEL_WORDS.get(r.channel, r.channel)
        for r in parts.itertuples()
        if not (r.ci_low > 0 or r.ci_high < 0)
    ]
    text = [f"raised by {join_words(up)}" if up else "raised clearly by no channel"]
    if down:
        text.append(f"lowered by {join_words(down)}")
    if unclear:
        text.append(f"no clear contribution from {join_words(unclear)}")
    return "; ".join(text)
