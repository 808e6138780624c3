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

import numpy as np

__all__ = ["describe_direction", "describe_estimate", "describe_trend", "join_words"]


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
    pivots, trend, ext = [0], 0, 0
    for i in range(1, len(y)):
        if trend == 0:
            if abs(y[i] - y[0]) > tolerance:
                trend, ext = (1 if y[i] > y[0] else -1), i
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
        return f"stays between {value(ys.min())} and {value(ys.max())}"
    pivots = _turning_points(ys, tolerance)
    parts = []
    for k, (i, j) in enumerate(itertools.pairwise(pivots)):
        verb = "rises" if ys[j] > ys[i] else "falls"
        start = f" from {value(ys[i])} {at(xs[i])}" if k == 0 else ""
        parts.append(f"{verb}{start} to {value(ys[j])} {at(xs[j])}")
    return ", then ".join(parts)
