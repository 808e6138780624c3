r"""Student's t quantiles and tail probabilities without importing :mod:`scipy.stats`.

The intervals and p-values of a study's tables need only the t distribution's quantile
function and survival function. :mod:`scipy.stats` computes both with :mod:`scipy.special`
(``t.ppf(q, df)`` is ``special.stdtrit(df, q)`` and ``t.sf(x, df)`` is ``special.stdtr(df, -x)``
once its arguments are checked) but takes about half a second to import, a good part of a
small study's run. :func:`t_ppf` and :func:`t_sf` call the same special functions with the same
checks, so they return the very numbers of :mod:`scipy.stats` (a test compares them bit for bit,
edge cases included). :mod:`scipy.special` itself is imported at their first call (about 0.2 s):
a run's worker processes, which import this module but compute no interval, never load it.
"""

from __future__ import annotations

import math
import threading

__all__ = ["import_in_background", "t_ppf", "t_sf"]


def import_in_background() -> threading.Thread:
    """Start importing :mod:`scipy.special` in a daemon thread of this process; the thread.

    For a process that will compute intervals later and mostly waits until then: a run's
    command line while its workers simulate the units (:func:`toolkit.study.analysis.
    prepare_run`). The import (0.15 to 0.4 CPU-s, most of it building scipy's docstrings)
    then happens during that wait instead of at the first interval, where the workers wait for
    the tables. The numbers do not change: :func:`t_ppf` and :func:`t_sf` call the same
    functions, and Python's import lock makes a call that comes first wait for the import.

    Returns
    -------
    threading.Thread
        The importing thread (already started).
    """
    thread = threading.Thread(
        target=__import__, args=("scipy.special",), name="toolkit-import-scipy", daemon=True
    )
    thread.start()
    return thread


def t_ppf(q: float, df: float) -> float:
    r"""Quantile :math:`t_{q,\nu}` of Student's t distribution, as ``scipy.stats.t.ppf(q, df)``.

    Parameters
    ----------
    q : float
        Probability; ``0`` gives ``-inf``, ``1`` gives ``inf``, outside ``[0, 1]`` NaN.
    df : float
        Degrees of freedom :math:`\nu > 0` (otherwise NaN).

    Returns
    -------
    float

    Examples
    --------
    >>> round(t_ppf(0.975, 10), 4)
    2.2281
    """
    q, df = float(q), float(df)
    if not df > 0 or math.isnan(q):
        return math.nan
    if q == 0.0:
        return -math.inf
    if q == 1.0:
        return math.inf
    if not 0.0 < q < 1.0:
        return math.nan
    from scipy import special

    return float(special.stdtrit(df, q)) * 1.0 + 0  # scipy.stats: ppf * scale + loc


def t_sf(x: float, df: float) -> float:
    r"""Survival function :math:`P(T > x)` of Student's t, as ``scipy.stats.t.sf(x, df)``.

    Parameters
    ----------
    x : float
    df : float
        Degrees of freedom :math:`\nu > 0` (otherwise NaN).

    Returns
    -------
    float

    Examples
    --------
    >>> round(t_sf(2.2281388519649385, 10), 4)
    0.025
    """
    x, df = float(x), float(df)
    if not df > 0 or math.isnan(x):
        return math.nan
    x = (x - 0) / 1.0  # scipy.stats: (x - loc) / scale
    if x == -math.inf:
        return 1.0
    if x == math.inf:
        return 0.0
    from scipy import special

    return float(special.stdtr(df, -x))
