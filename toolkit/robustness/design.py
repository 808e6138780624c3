r"""Sampling designs over the plausible ranges of the model's parameters (through SALib).

A design is a set of points in parameter space, each a full set of model parameters, at which
a study runs every arm on the same classrooms. The ranges come from
:func:`toolkit.model.params.plausible_ranges` (or a pluggable model's own table, see
:mod:`toolkit.robustness.models`); a study can narrow or widen a range, change its scale, or
hold a parameter fixed.

Four designs:

``"sobol"``
    Saltelli's extension of a scrambled Sobol' sequence (``SALib.sample.sobol``): ``N`` base
    samples give ``N (k + 2)`` points for ``k`` parameters, or ``N (2k + 2)`` with second-order
    indices. Needed for Sobol' indices; ``N`` must be a power of two.
``"morris"``
    ``r`` Morris trajectories on a grid of ``num_levels`` levels (``SALib.sample.morris``):
    ``r (k + 1)`` points. A cheap screening: which parameters matter at all.
``"lhs"``
    Latin hypercube of ``n`` points (``SALib.sample.latin``).
``"random"``
    ``n`` independent uniform points (numpy's generator seeded from the study).

Or over a calibration's posterior instead of the box (:func:`posterior_design`,
``[robustness] over = "posterior"``): ``n`` draws of the calibrated parameters from a
``posterior.csv`` (systematic resampling of its weighted particles), independent across the
design like ``"random"`` points, so a claim's share is its posterior probability (up to the
classrooms' noise). No Sobol' or Morris indices: the draws are not independent uniform inputs.

How parameters are sampled: every design is drawn in a *sampling space*, the unit hypercube
mapped to each parameter's bounds. A ``"log"`` parameter is uniform in its logarithm:
:math:`x = \exp(u)`, :math:`u \sim U(\ln a, \ln b)`. An integer parameter is drawn on
:math:`[a - 1/2, b + 1/2]` and rounded to the nearest whole number, so that every integer in
:math:`[a, b]` is equally likely. Rounding makes the model a step function of that input. Sobol'
indices stay well defined (the variance decomposition holds for any independent inputs,
discrete ones included) and are the indices of the rounded input; Saltelli's estimators and
their bootstrap intervals are unchanged. What changes is that the index describes the integer
values the model can take, not a continuous input, and that a Morris step can leave a narrow
integer range unchanged (an elementary effect of 0) when it does not cross a rounding boundary;
with 4 levels the step is 2/3 of the range, so any integer range of two or more values moves.

References
----------
.. [1] Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output. Design
   and estimator for the total sensitivity index. *Computer Physics Communications*, 181,
   259-270. https://doi.org/10.1016/j.cpc.2009.09.018
.. [2] Morris, M. D. (1991). Factorial sampling plans for preliminary computational
   experiments. *Technometrics*, 33(2), 161-174. https://doi.org/10.2307/1269043
.. [3] Herman, J., & Usher, W. (2017). SALib: An open-source Python library for sensitivity
   analysis. *Journal of Open Source Software*, 2(9), 97. https://doi.org/10.21105/joss.00097
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from toolkit._optional import require

__all__ = [
    "DESIGNS",
    "Design",
    "DesignError",
    "design_size",
    "make_design",
    "posterior_design",
    "sampling_ranges",
]

#: The designs and what their size ``n`` means.
DESIGNS = {
    "sobol": "base samples N (a power of two); N (k + 2) points, N (2k + 2) with second order",
    "morris": "trajectories r; r (k + 1) points",
    "lhs": "points n (Latin hypercube)",
    "random": "points n (independent uniform)",
}

_RANGE_COLUMNS = ["default", "low", "high", "scale", "integer", "source"]


class DesignError(ValueError):
    """A design, a range or a parameter list is invalid (the message names which and why)."""


def _suggest(name: str, valid: Sequence[str]) -> str:
    from toolkit.model.params import suggest_name

    return suggest_name(name, list(valid))


def sampling_ranges(
    table: pd.DataFrame,
    parameters: str | Sequence[str] = "all",
    *,
    overrides: Mapping[str, Any] | None = None,
    fixed: Sequence[str] = (),
    where: str = "[robustness]",
) -> pd.DataFrame:
    """Select the parameters a design varies and apply a study's range overrides.

    Parameters
    ----------
    table : pandas.DataFrame
        Ranges indexed by name with columns ``default, low, high, scale, integer, source``, as
        :func:`toolkit.model.params.plausible_ranges` returns them.
    parameters : "all" or list of str
        Which parameters vary. ``"all"``: every row of ``table`` except ``fixed``.
    overrides : mapping, optional
        Name to ``[low, high]`` or to a table with any of ``low``, ``high``, ``scale``; a
        study's ``ranges.NAME = [...]``. To hold a parameter fixed, set it in ``[parameters]``.
    fixed : list of str
        Parameters held fixed (e.g. those the study sets in ``[parameters]``); with an explicit
        list, naming one of them is an error.
    where : str
        Where the request came from, for messages.

    Returns
    -------
    pandas.DataFrame
        The varied parameters, in the order requested, with the same columns; ``source`` says
        ``"study override"`` where the study changed a range.

    Raises
    ------
    DesignError
        For an unknown parameter (with a suggestion), a parameter both varied and fixed, an
        override of a parameter that does not vary, or bounds that are not numbers with
        ``low <= high`` (``low > 0`` for a log scale).

    Examples
    --------
    >>> from toolkit.model.params import plausible_ranges
    >>> r = sampling_ranges(plausible_ranges(), ["zpd_width"], overrides={"zpd_width": [0.7, 1.5]})
    >>> row = r.loc["zpd_width"]
    >>> float(row.low), float(row.high), row.scale
    (0.7, 1.5, 'log')
    """
    overrides = dict(overrides or {})
    valid = list(table.index)
    if isinstance(parameters, str):
        if parameters != "all":
            raise DesignError(
                f"{where}: 'parameters' must be \"all\" or a list of names, got {parameters!r}."
            )
        names = [n for n in valid if n not in set(fixed)]
    else:
        names = list(parameters)
        if not names:
            raise DesignError(f"{where}: 'parameters' is empty; name at least one to vary.")
        for n in names:
            if not isinstance(n, str) or n not in valid:
                raise DesignError(
                    f"{where}: 'parameters': {n!r} has no plausible range.{_suggest(str(n), valid)}"
                    " `python -m toolkit params --long` lists the ranges."
                )
            if n in fixed:
                raise DesignError(
                    f"{where}: '{n}' is both varied ('parameters') and fixed ([parameters]); "
                    "drop it from one of them."
                )
        if len(set(names)) != len(names):
            raise DesignError(f"{where}: 'parameters' names a parameter twice: {names}.")
    out = table.loc[names, _RANGE_COLUMNS].copy()
    for name, ov in overrides.items():
        w = f"{where} ranges.{name}"
        if name not in valid:
            raise DesignError(f"{w}: unknown parameter.{_suggest(name, valid)}")
        if name not in out.index:
            raise DesignError(f"{w}: '{name}' is not varied; add it to 'parameters' or drop this.")
        if isinstance(ov, Sequence) and not isinstance(ov, str):
            ov = {"low": ov[0], "high": ov[1]} if len(ov) == 2 else None
        if not isinstance(ov, Mapping) or set(ov) - {"low", "high", "scale"}:
            raise DesignError(
                f"{w}: expected [low, high] or a table with low, high and/or scale, got {ov!r}."
            )
        for key in ("low", "high"):
            if key in ov:
                v = ov[key]
                if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                    raise DesignError(f"{w}: '{key}' must be a finite number, got {v!r}.")
                out.loc[name, key] = float(v)
        if "scale" in ov:
            if ov["scale"] not in ("linear", "log"):
                raise DesignError(f'{w}: \'scale\' must be "linear" or "log", got {ov["scale"]!r}.')
            out.loc[name, "scale"] = ov["scale"]
        out.loc[name, "source"] = "study override"
    for name, row in out.iterrows():
        lo, hi = float(row["low"]), float(row["high"])
        if lo > hi:
            raise DesignError(f"{where}: '{name}': low = {lo} is above high = {hi}.")
        if row["scale"] == "log" and lo <= 0:
            raise DesignError(
                f"{where}: '{name}': a log-scale range needs low > 0, got {lo}; "
                'use scale = "linear" or a positive bound.'
            )
        if lo == hi:
            raise DesignError(
                f"{where}: '{name}': low = high = {lo}; to hold a parameter fixed, set it in "
                '[parameters] instead (it is then left out of "all").'
            )
    return out


def _problem(ranges: pd.DataFrame) -> dict[str, Any]:
    """SALib problem in the sampling space (logs for log scales, half-steps for integers)."""
    bounds = []
    for _, r in ranges.iterrows():
        lo, hi = float(r["low"]), float(r["high"])
        if r["scale"] == "log":
            lo, hi = math.log(lo), math.log(hi)
        if r["integer"] and r["scale"] != "log":
            lo, hi = lo - 0.5, hi + 0.5
        bounds.append([lo, hi])
    return {"num_vars": len(ranges), "names": list(ranges.index), "bounds": bounds}


def _to_values(x: np.ndarray, ranges: pd.DataFrame) -> pd.DataFrame:
    """Map sampling-space rows to parameter units (exp for log scales, rounding integers)."""
    cols = {}
    for j, (name, r) in enumerate(ranges.iterrows()):
        v = np.exp(x[:, j]) if r["scale"] == "log" else x[:, j].copy()
        if r["integer"]:
            v = np.clip(np.floor(v + 0.5), float(r["low"]), float(r["high"])).astype(int)
        else:  # exp(log(b)) can exceed b by an ulp; keep values inside the bounds
            v = np.clip(v, float(r["low"]), float(r["high"]))
        cols[name] = v
    return pd.DataFrame(cols)


def design_size(kind: str, n: int, k: int, second_order: bool = False) -> int:
    """Return the number of points of a design.

    Parameters
    ----------
    kind : {"sobol", "morris", "lhs", "random"}
    n : int
        Base samples (sobol), trajectories (morris) or points (lhs, random).
    k : int
        Number of varied parameters.
    second_order : bool
        Sobol' only: also second-order indices.

    Returns
    -------
    int
        :math:`N(k+2)` or :math:`N(2k+2)` (sobol), :math:`r(k+1)` (morris), :math:`n` otherwise.

    Examples
    --------
    >>> design_size("sobol", 256, 8)
    2560
    >>> design_size("morris", 10, 20)
    210
    """
    if kind == "sobol":
        return n * (2 * k + 2 if second_order else k + 2)
    if kind == "morris":
        return n * (k + 1)
    return n


@dataclass(frozen=True)
class Design:
    """A sampling design: its points in the sampling space and in parameter units.

    Attributes
    ----------
    kind : str
        One of :data:`DESIGNS`.
    n : int
        Its size argument (base samples, trajectories or points).
    ranges : pandas.DataFrame
        The varied parameters' ranges (:func:`sampling_ranges`).
    problem : dict
        The SALib problem in the sampling space (what the analysis functions need).
    x : numpy.ndarray
        Points in the sampling space, shape ``(points, k)``.
    values : pandas.DataFrame
        Points in the parameters' own units (integers rounded), one row per point.
    block : numpy.ndarray of str
        For ``"sobol"``, each point's Saltelli block: ``"A"``, ``"B"``, ``"AB:<name>"`` (and
        ``"BA:<name>"``); for ``"morris"``, ``"T<trajectory>"``; else ``"sample"``.
    second_order : bool
    num_levels : int
        Morris grid levels.
    seed : int
    """

    kind: str
    n: int
    ranges: pd.DataFrame
    problem: dict[str, Any]
    x: np.ndarray
    values: pd.DataFrame
    block: np.ndarray
    second_order: bool = False
    num_levels: int = 4
    seed: int = 0

    @property
    def size(self) -> int:
        """Number of points."""
        return len(self.values)

    def independent(self) -> np.ndarray:
        """Boolean mask of the points that are independent uniform draws, for shares.

        For a Sobol' design these are the ``A`` and ``B`` blocks (``2N`` points, uniform and
        independent across base samples; each ``AB`` point is uniform too, but repeats all but
        one coordinate of an ``A`` point, so failure regions use every point and shares only
        these); for LHS and random designs, every point. For Morris, every point: each is
        uniform over the grid of levels, but the points of one trajectory are neighbours, so a
        share's interval from a Morris design is too narrow (a screening, not an estimate).
        """
        if self.kind == "sobol":
            return np.isin(self.block, ["A", "B"])
        return np.ones(self.size, dtype=bool)

    def table(self) -> pd.DataFrame:
        """Return the points as a table: ``point, block`` and one column per varied parameter."""
        out = self.values.copy()
        out.insert(0, "block", self.block)
        out.insert(0, "point", np.arange(self.size))
        return out


def make_design(
    ranges: pd.DataFrame,
    kind: str = "sobol",
    n: int = 256,
    *,
    seed: int = 0,
    second_order: bool = False,
    num_levels: int = 4,
) -> Design:
    """Draw a sampling design over the given ranges.

    Parameters
    ----------
    ranges : pandas.DataFrame
        From :func:`sampling_ranges`.
    kind : {"sobol", "morris", "lhs", "random"}
    n : int
        Base samples (sobol; a power of two), trajectories (morris), or points.
    seed : int
        Seeds SALib's samplers (scrambling, trajectories, permutations) or numpy's generator.
    second_order : bool
        Sobol' only: add the ``BA`` blocks needed for second-order indices.
    num_levels : int
        Morris grid levels (even; 4 by default).

    Returns
    -------
    Design

    Raises
    ------
    DesignError
        For an unknown design, a size below 1 (or not a power of two for sobol), or no
        parameters to vary.

    Examples
    --------
    >>> from toolkit.model.params import plausible_ranges
    >>> r = sampling_ranges(plausible_ranges(), ["zpd_width", "n_students"])
    >>> d = make_design(r, "sobol", 8, seed=1)
    >>> d.size, sorted(set(d.block.tolist()))
    (32, ['A', 'AB:n_students', 'AB:zpd_width', 'B'])
    >>> bool(d.values["n_students"].between(15, 30).all())
    True
    """
    import warnings

    latin = require("SALib.sample.latin", "Sampling designs")
    morris = require("SALib.sample.morris", "Sampling designs")
    sobol_sample = require("SALib.sample.sobol", "Sampling designs")

    if kind not in DESIGNS:
        raise DesignError(
            f"design: unknown design {kind!r}.{_suggest(kind, list(DESIGNS))} "
            f"Choose one of {list(DESIGNS)}."
        )
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DesignError(f"design {kind!r}: n must be a whole number >= 1, got {n!r}.")
    k = len(ranges)
    if k == 0:
        raise DesignError(f"design {kind!r}: no parameters vary.")
    problem = _problem(ranges)
    names = list(ranges.index)
    if kind == "sobol":
        if n & (n - 1):
            raise DesignError(
                f"design 'sobol': n = {n} base samples; Sobol' sequences need a power of two "
                f"(e.g. {1 << (n.bit_length() - 1)} or {1 << n.bit_length()})."
            )
        x = sobol_sample.sample(problem, n, calc_second_order=second_order, seed=seed)
        step = 2 * k + 2 if second_order else k + 2
        one = ["A", *(f"AB:{m}" for m in names)]
        if second_order:
            one += [f"BA:{m}" for m in names]
        block = np.array([*one, "B"] * n)
        assert len(block) == len(x) == n * step
    elif kind == "morris":
        if num_levels < 2 or num_levels % 2:
            raise DesignError(
                f"design 'morris': num_levels must be even and >= 2, got {num_levels}."
            )
        with warnings.catch_warnings():  # SALib warns on float bounds of integer params; none here
            warnings.simplefilter("ignore", UserWarning)
            x = morris.sample(problem, n, num_levels=num_levels, seed=seed)
        block = np.array([f"T{i // (k + 1)}" for i in range(len(x))])
    elif kind == "lhs":
        x = latin.sample(problem, n, seed=seed)
        block = np.array(["sample"] * n)
    else:
        rng = np.random.default_rng(seed)
        b = np.asarray(problem["bounds"], dtype=float)
        x = b[:, 0] + rng.random((n, k)) * (b[:, 1] - b[:, 0])
        block = np.array(["sample"] * n)
    return Design(
        kind=kind,
        n=n,
        ranges=ranges,
        problem=problem,
        x=np.asarray(x, dtype=float),
        values=_to_values(np.asarray(x, dtype=float), ranges),
        block=block,
        second_order=second_order,
        num_levels=num_levels,
        seed=seed,
    )


def posterior_design(
    posterior: pd.DataFrame,
    n: int,
    *,
    seed: int = 0,
    parameters: str | Sequence[str] = "all",
    fixed: Sequence[str] = (),
    where: str = "[robustness]",
) -> Design:
    """Draw a design of ``n`` points from a calibration's posterior instead of the box.

    Parameters
    ----------
    posterior : pandas.DataFrame
        Weighted particles: parameter columns and ``weight``
        (:func:`toolkit.calibration.abc.load_posterior`).
    n : int
        Points (posterior draws, by systematic resampling seeded by ``seed``).
    seed : int
    parameters : "all" or sequence of str
        The posterior's parameters the design varies (default: all of them but ``fixed``);
        the others keep the study's values.
    fixed : sequence of str
        Parameters the study holds fixed (left out of ``"all"``; naming one is an error).
    where : str
        File and table, for messages.

    Returns
    -------
    Design
        Of kind ``"random"`` with blocks ``"posterior"``; its ``ranges`` are the draws' own
        minimum and maximum (linear scale), for the reports' axes.

    Raises
    ------
    DesignError
        If a named parameter is not in the posterior or is held fixed, or ``n`` < 1.

    Examples
    --------
    >>> post = pd.DataFrame({"zpd_width": [0.8, 1.2], "weight": [0.5, 0.5]})
    >>> d = posterior_design(post, 4, seed=1)
    >>> d.kind, d.size, sorted(set(d.values["zpd_width"].tolist()))
    ('random', 4, [0.8, 1.2])
    """
    from toolkit.calibration.abc import sample_posterior

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DesignError(f"{where}: n must be a whole number >= 1 (posterior draws), got {n!r}.")
    cols = [c for c in posterior.columns if c != "weight"]
    if isinstance(parameters, str):
        if parameters != "all":
            raise DesignError(
                f"{where}: 'parameters' must be \"all\" or a list, got {parameters!r}."
            )
        names = [c for c in cols if c not in fixed]
    else:
        names = list(parameters)
        missing = [p for p in names if p not in cols]
        if missing:
            raise DesignError(
                f"{where}: {missing} are not in the posterior (it has {cols}); the posterior "
                "design varies only calibrated parameters."
            )
        held = [p for p in names if p in fixed]
        if held:
            raise DesignError(f"{where}: {held} are held fixed by [parameters] and cannot vary.")
    if not names:
        raise DesignError(f"{where}: no parameter of the posterior is left to vary.")
    values = sample_posterior(posterior, n, seed)[names].reset_index(drop=True).astype(float)
    ranges = pd.DataFrame(
        {
            "default": values.median(),
            "low": values.min(),
            "high": values.max(),
            "scale": "linear",
            "integer": False,
            "source": "posterior draws",
        }
    )[_RANGE_COLUMNS]
    ranges.index.name = "name"
    return Design(
        kind="random",
        n=n,
        ranges=ranges,
        problem=_problem(ranges),
        x=values.to_numpy(float),
        values=values,
        block=np.array(["posterior"] * n),
        seed=seed,
    )
