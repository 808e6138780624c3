r"""PRIM, the patient rule induction method, for boxes of failing design points.

PRIM (Friedman & Fisher 1999 [1]_) looks for a box in parameter space, a set of intervals
:math:`l_j \le x_j \le u_j`, inside which the share of points of interest (here: the points
where a claim fails) is high. It *peels* the box from the whole data's bounding box, one thin
slice at a time, and then *pastes* slices back where that raises the share again. The sequence
of boxes it visits is the *peeling trajectory*, from which the analyst picks one box as a
trade-off between coverage and density (Bryant & Lempert 2010 [2]_).

This module implements the variant of the EMA Workbench (Kwakkel 2017 [3]_; version 3.0.0,
``ema_workbench.analysis.prim.Prim`` with its defaults) for real-valued parameters, so that a
failure region no longer needs that package (its import alone took 3.6 s or more per process).
The trajectory is the same, box for box and bit for bit: ``tests/reference/robustness_prim.py``
ran the EMA Workbench on 24 data sets and ``tests/robustness/test_prim.py`` compares every box's
limits and statistics with it.

The algorithm, with :math:`B` the current box, :math:`n(B)` its number of points, :math:`k(B)`
its number of points of interest and :math:`\bar y(B) = k(B)/n(B)`:

* **Candidates for a peel**: for every parameter :math:`j`, the box with its upper limit moved
  down to the :math:`1 - \alpha` quantile :math:`q` of :math:`x_j` inside :math:`B` (keeping the
  points with :math:`x_j \le q`), and the box with its lower limit moved up to the
  :math:`\alpha` quantile (keeping :math:`x_j \ge q`); :math:`\alpha` is ``peel_alpha``.
* **Quantile** (the one of SDToolkit, which the EMA Workbench copies): sort the values, take
  :math:`i = (m - 1)\,p`, and average the values at :math:`\lfloor i \rfloor` and
  :math:`\lceil i \rceil`; when these are equal, the outer index walks outwards (down for
  :math:`p > 0.5`, up otherwise) to the first different value, so that a peel removes at least
  one tied group.
* **Objective** ("lenient 1"): the gain in mean per point removed or added,

  .. math:: \mathrm{obj}(B \to B') = \frac{\bar y(B') - \bar y(B)}{|n(B) - n(B')|},

  and 0 when the means are equal (:math:`\bar y(B') = 0` for an empty :math:`B'`).
* **Choice**: the candidate with the largest objective; among equal objectives the one that
  restricts fewer parameters; among those, the first in the order (parameter by parameter, the
  upper limit before the lower). A peel is taken while it has a positive objective, leaves a mass
  :math:`n(B')/N \ge` ``mass_min`` and removes at least one point.
* **Pasting**, after the last peel: for every restricted parameter, the box with its lower limit
  moved down to the :math:`1 - \alpha_p` quantile of the points between the whole data's minimum
  and the current limit (that lie inside the box on the other restricted parameters), and the
  box with its upper limit moved up to the :math:`\alpha_p` quantile of the points above it;
  :math:`\alpha_p` is ``paste_alpha``. The best paste by the same choice is taken while it has a
  positive objective, adds points, raises the mean and keeps the mass at least ``mass_min``.

A parameter counts as restricted when either of its limits differs from the bounding box's.

References
----------
.. [1] Friedman, J. H., & Fisher, N. I. (1999). Bump hunting in high-dimensional data.
   *Statistics and Computing*, 9, 123-143. https://doi.org/10.1023/A:1008894516817
.. [2] Bryant, B. P., & Lempert, R. J. (2010). Thinking inside the box: a participatory,
   computer-assisted approach to scenario discovery. *Technological Forecasting and Social
   Change*, 77, 34-49. https://doi.org/10.1016/j.techfore.2009.08.002
.. [3] Kwakkel, J. H. (2017). The Exploratory Modeling Workbench. *Environmental Modelling &
   Software*, 96, 239-250. https://doi.org/10.1016/j.envsoft.2017.06.054
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PrimTrajectory", "prim_quantile", "prim_trajectory"]


@dataclass(frozen=True)
class PrimTrajectory:
    r"""The boxes PRIM visited, in order: the bounding box, the peels, then the pastes.

    Attributes
    ----------
    columns : tuple of str
        The parameters, in the order of the data's columns.
    limits : numpy.ndarray
        Shape ``(boxes, 2, parameters)``: each box's lower (row 0) and upper (row 1) limits.
    coverage : numpy.ndarray
        Share of all points of interest inside each box, :math:`k(B) / \max(K, 1)`.
    density : numpy.ndarray
        Share of each box's points that are of interest, :math:`k(B) / n(B)`.
    mass : numpy.ndarray
        Share of all points inside each box, :math:`n(B) / N`.
    res_dim : numpy.ndarray of int
        How many parameters each box restricts.
    n : numpy.ndarray of int
        Points inside each box.
    k : numpy.ndarray of int
        Points of interest inside each box.
    phase : tuple of str
        ``"start"``, ``"peel"`` or ``"paste"`` for each box.
    """

    columns: tuple[str, ...]
    limits: np.ndarray
    coverage: np.ndarray
    density: np.ndarray
    mass: np.ndarray
    res_dim: np.ndarray
    n: np.ndarray
    k: np.ndarray
    phase: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.phase)

    def to_frame(self) -> pd.DataFrame:
        """Return the trajectory's statistics as a table, one row per box.

        Returns
        -------
        pandas.DataFrame
            Columns ``phase``, ``n``, ``k``, ``coverage``, ``density``, ``mass`` and
            ``res_dim``, as in the EMA Workbench's ``peeling_trajectory``.
        """
        return pd.DataFrame(
            {
                "phase": list(self.phase),
                "n": self.n,
                "k": self.k,
                "coverage": self.coverage,
                "density": self.density,
                "mass": self.mass,
                "res_dim": self.res_dim,
            }
        )

    def box(self, i: int) -> pd.DataFrame:
        """Return box ``i``'s limits: rows ``low`` and ``high``, one column per parameter.

        Parameters
        ----------
        i : int
            Position on the trajectory (negative counts from the end).

        Returns
        -------
        pandas.DataFrame
        """
        return pd.DataFrame(self.limits[i], index=["low", "high"], columns=list(self.columns))


def prim_quantile(sorted_values: np.ndarray, p: float) -> float:
    r"""Return the quantile PRIM peels and pastes at (SDToolkit's, as the EMA Workbench's).

    With :math:`m` sorted values :math:`v_0 \le \dots \le v_{m-1}` and :math:`i = (m-1)p`, the
    result is :math:`(v_a + v_b)/2` with :math:`a = \lfloor i \rfloor`, :math:`b = \lceil i
    \rceil`, except that when :math:`v_a = v_b` the outer index moves to the nearest different
    value: :math:`a` downwards for :math:`p > 0.5` (stopping at 0), :math:`b` upwards otherwise
    (stopping at :math:`m-1`).

    Parameters
    ----------
    sorted_values : numpy.ndarray
        One-dimensional, sorted ascending, at least one value, no NaN.
    p : float
        Strictly between 0 and 1.

    Returns
    -------
    float

    Examples
    --------
    >>> prim_quantile(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 0.95)
    4.5
    >>> prim_quantile(np.array([1.0, 2.0, 2.0, 2.0, 2.0]), 0.95)  # ties: walks down to 1
    1.5
    """
    if not 0 < p < 1:
        raise ValueError(f"the quantile's p must be strictly between 0 and 1, got {p!r}.")
    m = len(sorted_values)
    i = (m - 1) * p
    lo, hi = math.floor(i), math.ceil(i)
    v = sorted_values
    if v[lo] == v[hi]:
        if p > 0.5:  # the first index of v[hi]'s tied group, minus one
            lo = max(int(np.searchsorted(v, v[hi], side="left")) - 1, 0)
        else:  # one past the last index of v[lo]'s tied group
            hi = min(int(np.searchsorted(v, v[lo], side="right")), m - 1)
    return float((v[lo] + v[hi]) / 2)


def _objective(k_old: int, n_old: int, k_new: int, n_new: int) -> float:
    """Return the lenient-1 objective: the gain in mean per point removed or added."""
    mean_old = k_old / n_old
    mean_new = k_new / n_new if n_new > 0 else 0
    if mean_old == mean_new:
        return 0
    return (mean_new - mean_old) / abs(n_old - n_new)


def _check(x: Any, y: Any, peel_alpha: float, paste_alpha: float, mass_min: float):
    if isinstance(x, pd.DataFrame):
        columns = tuple(str(c) for c in x.columns)
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise ValueError(f"x's parameter names must be unique; repeated: {repeated}.")
        bad = [(c, t) for c, t in x.dtypes.items() if not pd.api.types.is_numeric_dtype(t)]
        if bad:
            raise TypeError(
                f"PRIM needs numeric parameters; column(s) {[c for c, _ in bad]} are "
                f"{[str(t) for _, t in bad]}."
            )
        values = x.to_numpy(dtype=float)
    else:
        values = np.asarray(x, dtype=float)
        if values.ndim != 2:
            raise ValueError(f"x must be two-dimensional (points x parameters), got {values.ndim}.")
        columns = tuple(f"x{j}" for j in range(values.shape[1]))
    if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(f"x must hold at least one point and one parameter, got {values.shape}.")
    if not np.isfinite(values).all():
        rows, cols = np.nonzero(~np.isfinite(values))
        raise ValueError(
            f"x has {len(rows)} missing or infinite value(s), the first in parameter "
            f"{columns[cols[0]]!r} at point {int(rows[0])}: PRIM needs every point's values."
        )
    flags = np.asarray(y)
    if flags.ndim != 1 or len(flags) != len(values):
        raise ValueError(
            f"y must be one flag per point: {len(values)} points, got shape {flags.shape}."
        )
    if flags.dtype != bool:
        if np.issubdtype(flags.dtype, np.number):
            ok = np.isin(flags, (0, 1))
        else:  # e.g. an object array of booleans; a missing value (None, NA) is not a flag
            ok = np.array(
                [isinstance(v, (bool, np.bool_, int, np.integer)) and v in (0, 1) for v in flags],
                dtype=bool,
            )
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            first = flags[i].item() if isinstance(flags[i], np.generic) else flags[i]
            raise ValueError(
                f"y must be a boolean or 0/1 at every point (1 marks a point of interest); "
                f"{int((~ok).sum())} point(s) are not, the first is point {i}: {first!r}."
            )
    for name, a in (("peel_alpha", peel_alpha), ("paste_alpha", paste_alpha)):
        if not 0 < a < 0.5:
            raise ValueError(f"{name} must be strictly between 0 and 0.5, got {a!r}.")
    if not 0 <= mass_min < 1:
        raise ValueError(f"mass_min must be in [0, 1), got {mass_min!r}.")
    return values, flags.astype(bool), columns


def prim_trajectory(
    x: pd.DataFrame | np.ndarray,
    y: np.ndarray,
    *,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> PrimTrajectory:
    r"""Peel and paste one PRIM box around the points of interest; return every box visited.

    The algorithm and its formulas are in the module's description (:mod:`toolkit.robustness.prim`):
    the lenient-1 objective, SDToolkit's quantile, peeling then pasting, as the EMA Workbench
    3.0.0's ``Prim(x, y).find_box()`` for real-valued parameters (whole numbers are treated as
    real numbers).

    Parameters
    ----------
    x : pandas.DataFrame or numpy.ndarray
        Points x parameters, numeric and finite.
    y : numpy.ndarray
        One flag per point: True (or 1) for a point of interest.
    peel_alpha, paste_alpha : float
        Share of the box's points a peel removes, or a paste considers, per step; in (0, 0.5).
    mass_min : float
        Smallest share of all points a box may hold.

    Returns
    -------
    PrimTrajectory
        Box 0 is the bounding box of all points.

    Raises
    ------
    ValueError
        For missing or infinite values, flags that are not one boolean per point, or
        parameters out of range.
    TypeError
        For a non-numeric column.

    References
    ----------
    Friedman & Fisher (1999); Kwakkel (2017): see :mod:`toolkit.robustness.prim`.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = pd.DataFrame(rng.random((400, 2)), columns=["a", "b"])
    >>> fails = (x["a"] > 0.6).to_numpy()
    >>> t = prim_trajectory(x, fails)
    >>> best = int(np.argmax(t.coverage * t.density))
    >>> round(float(t.box(best).loc["low", "a"]), 2), int(t.res_dim[best])
    (0.59, 1)
    """
    values, flags, columns = _check(x, y, peel_alpha, paste_alpha, mass_min)
    n_all, d = values.shape
    k_all = int(flags.sum())
    init = np.vstack([values.min(axis=0), values.max(axis=0)])
    boxes: list[np.ndarray] = []
    stats: list[tuple[int, int, int]] = []
    phases: list[str] = []

    def restricted(lims: np.ndarray) -> np.ndarray:
        return ~((lims[0] == init[0]) & (lims[1] == init[1]))

    def score(cand: np.ndarray, k_old: int, n_old: int, k_new: int, n_new: int):
        # the objective, then fewer restricted parameters; ties keep the earlier candidate
        return (_objective(k_old, n_old, k_new, n_new), d - int(restricted(cand).sum()))

    def record(lims: np.ndarray, inside: np.ndarray, phase: str) -> None:
        boxes.append(lims)
        stats.append((len(inside), int(flags[inside].sum()), int(restricted(lims).sum())))
        phases.append(phase)

    inside = np.arange(n_all)
    lims = init.copy()
    record(lims, inside, "start")

    # peeling
    while True:
        n_old, k_old = len(inside), int(flags[inside].sum())
        x_in, y_in = values[inside], flags[inside]
        best = None  # (key, box, which of the box's points stay)
        for j in range(d):
            xj = x_in[:, j]
            s = np.sort(xj)
            for row, p in ((1, 1 - peel_alpha), (0, peel_alpha)):  # the upper limit first
                q = prim_quantile(s, p)
                keep = xj <= q if row == 1 else xj >= q
                cand = lims.copy()
                cand[row, j] = q
                key = score(cand, k_old, n_old, int(y_in[keep].sum()), int(keep.sum()))
                if best is None or key > best[0]:
                    best = (key, cand, keep)
        assert best is not None  # d >= 1 parameters: two candidates each
        (obj, _), cand, keep = best
        n_new = int(keep.sum())
        if n_new / n_all >= mass_min and n_new < n_old and obj > 0:
            lims, inside = cand, inside[keep]
            record(lims, inside, "peel")
        else:
            break

    # pasting
    while True:
        res = np.flatnonzero(restricted(lims))
        if len(res) == 0:
            break
        n_old, k_old = len(inside), int(flags[inside].sum())
        x_res = values[:, res]
        best = None  # (key, box, the points inside it)
        for pos, j in enumerate(res):
            for row in (0, 1):  # the lower limit first
                region = lims[:, res].copy()
                if row == 0:
                    region[:, pos] = init[0, j], lims[0, j]
                else:
                    region[:, pos] = lims[1, j], init[1, j]
                in_region = ((region[0] <= x_res) & (x_res <= region[1])).all(axis=1)
                data = np.sort(values[in_region, j])
                if row == 0:
                    q = prim_quantile(data, 1 - paste_alpha) if len(data) else init[0, j]
                else:
                    q = prim_quantile(data, paste_alpha) if len(data) else init[1, j]
                cand = lims.copy()
                cand[row, j] = q
                c = cand[:, res]
                member = np.flatnonzero(((c[0] <= x_res) & (x_res <= c[1])).all(axis=1))
                key = score(cand, k_old, n_old, int(flags[member].sum()), len(member))
                if best is None or key > best[0]:
                    best = (key, cand, member)
        assert best is not None  # at least one restricted parameter: two candidates each
        (obj, _), cand, member = best
        n_new, k_new = len(member), int(flags[member].sum())
        if (
            n_new / n_all >= mass_min
            and n_new > n_old
            and obj > 0
            and k_new / n_new > k_old / n_old
        ):
            lims, inside = cand, member
            record(lims, inside, "paste")
        else:
            break

    n = np.array([s[0] for s in stats], dtype=np.int64)
    k = np.array([s[1] for s in stats], dtype=np.int64)
    return PrimTrajectory(
        columns=columns,
        limits=np.stack(boxes),
        coverage=k / max(k_all, 1),
        density=k / n,
        mass=n / n_all,
        res_dim=np.array([s[2] for s in stats], dtype=np.int64),
        n=n,
        k=k,
        phase=tuple(phases),
    )
