r"""Analysis of a robustness study: per-point summaries, claims, Sobol' and Morris indices, regions.

The input is the table the design model writes for every design point: one row per point, arm,
classroom (``replicate``) and year, with one column per metric (the classroom is the unit of
replication). Everything is computed in this order:

1. :func:`metric_cube`: per metric, an array ``(points, arms, classrooms)`` of class means at the
   analysed year. Each point's rows are enough for its own summary, so the per-point tables can
   be computed part by part (one work unit at a time) and concatenated.
2. :func:`point_outputs`: per point, the paired difference between every two arms on every
   metric (mean over classrooms and its standard error), or the arm's level for a model with one
   arm; :func:`point_claims`: every claim's margin, interval and verdict per point
   (:func:`toolkit.robustness.claims.evaluate_claims`).
3. :func:`sobol_indices` (Saltelli designs) and :func:`morris_indices` (Morris designs) of every
   output and every claim's margin, with SALib; each output also gets the share of its variance
   across points that is Monte Carlo noise (:math:`\overline{se^2} / \mathrm{Var}`).
4. :func:`claim_share`: the share of the plausible space where a claim holds, with a Wilson
   interval over the design's independent points; :func:`failure_region`: where it fails, as a
   box in the parameters' own units found by PRIM (:mod:`toolkit.robustness.prim`, the EMA
   Workbench's variant) or a shallow decision tree.

References
----------
.. [1] Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output.
   *Computer Physics Communications*, 181, 259-270. https://doi.org/10.1016/j.cpc.2009.09.018
.. [2] Campolongo, F., Cariboni, J., & Saltelli, A. (2007). An effective screening design for
   sensitivity analysis of large models. *Environmental Modelling & Software*, 22, 1509-1518.
   https://doi.org/10.1016/j.envsoft.2006.10.004
.. [3] Friedman, J. H., & Fisher, N. I. (1999). Bump hunting in high-dimensional data.
   *Statistics and Computing*, 9, 123-143. https://doi.org/10.1023/A:1008894516817
.. [4] Bryant, B. P., & Lempert, R. J. (2010). Thinking inside the box: a participatory,
   computer-assisted approach to scenario discovery. *Technological Forecasting and Social
   Change*, 77, 34-49. https://doi.org/10.1016/j.techfore.2009.08.002
.. [5] Kwakkel, J. H. (2017). The Exploratory Modeling Workbench. *Environmental Modelling &
   Software*, 96, 239-250. https://doi.org/10.1016/j.envsoft.2017.06.054
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit._optional import require
from toolkit.robustness.claims import Claim, evaluate_claims
from toolkit.robustness.design import Design
from toolkit.robustness.prim import prim_trajectory

__all__ = [
    "Region",
    "claim_share",
    "drivers",
    "failure_region",
    "metric_cube",
    "morris_indices",
    "noise_share",
    "point_claims",
    "point_outputs",
    "sobol_indices",
    "wilson_interval",
]


def metric_cube(
    table: pd.DataFrame,
    arms: Sequence[str],
    metrics: Sequence[str],
    *,
    year: int | None = None,
    points: Sequence[int] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Reshape per-classroom metrics into arrays ``(points, arms, classrooms)``.

    Parameters
    ----------
    table : pandas.DataFrame
        ``point, year, arm, replicate`` and metric columns (a design model's output).
    arms : sequence of str
        Arm order of the second axis.
    metrics : sequence of str
    year : int, optional
        Year to read, as the table counts it (from 0; default: the last in the table).
    points : sequence of int, optional
        Points expected (default: those in the table); a missing one is an error.

    Returns
    -------
    points : numpy.ndarray
        The point numbers, in order.
    cube : dict of str to numpy.ndarray
        Metric to array; a classroom missing in an arm is NaN.

    Raises
    ------
    ValueError
        If the table is empty or lacks a column, a metric or arm is missing, or an expected
        point has no rows.
    """
    need = [c for c in ("point", "year", "arm", "replicate") if c not in table.columns]
    if need:
        raise ValueError(
            f"the results have no column {need[0]!r} (a design model's table has point, year, "
            f"arm, replicate and metric columns; got {list(table.columns)})."
        )
    missing = [m for m in metrics if m not in table.columns]
    if missing:
        have = [c for c in table.columns if c not in ("point", "year", "arm", "replicate")]
        raise ValueError(
            f"metric {missing[0]!r} is not in the results"
            + (f" (nor {missing[1:]})" if len(missing) > 1 else "")
            + f"; the metrics they have: {', '.join(map(str, have)) or 'none'}."
        )
    if table.empty:
        raise ValueError(
            "the results table is empty (no design point, arm or classroom): there is nothing "
            "to analyse."
        )
    year = int(table["year"].max()) if year is None else year
    t = table[table["year"] == year]
    if t.empty:
        years = sorted(int(y) for y in table["year"].unique())
        raise ValueError(f"the results have no rows for year {year} (they have years {years}).")
    have = sorted(set(t["arm"].astype(str)))
    if set(arms) - set(have):
        raise ValueError(f"arms {sorted(set(arms) - set(have))} are not in the results ({have}).")
    pts = np.array(sorted(t["point"].unique()) if points is None else list(points), dtype=int)
    gone = sorted(set(pts) - set(t["point"].unique()))
    if gone:
        raise ValueError(f"design points {gone[:10]} have no results (year {year}).")
    reps = np.array(sorted(t["replicate"].unique()))
    idx = pd.MultiIndex.from_product([pts, list(arms), reps], names=["point", "arm", "replicate"])
    t = t.assign(arm=t["arm"].astype(str)).set_index(["point", "arm", "replicate"])
    full = t.reindex(idx)
    shape = (len(pts), len(arms), len(reps))
    return pts, {m: full[m].to_numpy(dtype=float).reshape(shape) for m in metrics}


def _output_specs(arms: Sequence[str], metrics: Sequence[str]) -> list[dict[str, Any]]:
    if len(arms) == 1:
        return [
            {"output": f"{arms[0]}: {m}", "kind": "level", "a": arms[0], "b": None, "metric": m}
            for m in metrics
        ]
    out = []
    for m in metrics:
        for i in range(len(arms)):
            for j in range(i + 1, len(arms)):
                a, b = arms[j], arms[i]
                out.append({"output": f"{a} - {b}: {m}", "kind": "difference", "a": a, "b": b,
                            "metric": m})  # fmt: skip
    return out


def point_outputs(
    points: np.ndarray, cube: Mapping[str, np.ndarray], arms: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    r"""Per point, every paired arm difference (or the level, for one arm) on every metric.

    For arms :math:`a` (later in the study's order) and :math:`b`, the output is
    :math:`\bar d = \frac1n \sum_c (x_{ac} - x_{bc})` over the point's classrooms :math:`c`,
    with standard error :math:`s_d / \sqrt n` (0 with one replicate).

    Returns
    -------
    mean, se : pandas.DataFrame
        Points x outputs (index ``point``; columns are output names like
        ``"personalized - standardized: effect_size"``).
    outputs : pandas.DataFrame
        One row per output: ``output, kind, a, b, metric``.
    """
    arms = list(arms)
    specs = _output_specs(arms, list(cube))
    means, ses = {}, {}
    for s in specs:
        x = cube[s["metric"]]
        d = x[:, arms.index(s["a"]), :]
        if s["b"] is not None:
            d = d - x[:, arms.index(s["b"]), :]
        n = np.sum(np.isfinite(d), axis=1)
        means[s["output"]] = np.nanmean(d, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.nanstd(d, axis=1, ddof=1) if d.shape[1] > 1 else np.zeros(len(d))
        ses[s["output"]] = np.where(n > 1, sd / np.sqrt(np.maximum(n, 1)), 0.0)
    index = pd.Index(points, name="point")
    return (
        pd.DataFrame(means, index=index),
        pd.DataFrame(ses, index=index),
        pd.DataFrame(specs),
    )


def point_claims(
    points: np.ndarray,
    cube: Mapping[str, np.ndarray],
    arms: Sequence[str],
    claims: Sequence[Claim],
) -> pd.DataFrame:
    """Every claim at every point: ``point, claim, margin, ci_low, ci_high, holds, decided``."""
    res = evaluate_claims(claims, cube, arms)
    frames = [pd.DataFrame({"point": points, "claim": c.name} | dict(res[c.name])) for c in claims]
    if not frames:
        return pd.DataFrame(
            columns=["point", "claim", "margin", "ci_low", "ci_high", "holds", "decided"]
        )
    return pd.concat(frames, ignore_index=True)


def _quiet_salib():
    """Silence SALib's warnings about sample sizes (the study states its own)."""
    w = warnings.catch_warnings()
    w.__enter__()
    warnings.simplefilter("ignore", UserWarning)
    warnings.simplefilter("ignore", RuntimeWarning)
    return w


def noise_share(y: np.ndarray, se: np.ndarray | None) -> float:
    r"""Share of an output's variance across design points that is Monte Carlo noise.

    :math:`\overline{se^2} / \mathrm{Var}(y)`, the mean squared standard error of the output at
    each point (from its classrooms) over its variance across points. Noise adds about this
    share to every total Sobol' index, so an index no larger than it cannot be told from noise;
    at 1 or more the variation across points is all noise and the design (its classrooms per
    point) is too small for any index of the output. NaN without standard errors, or for a
    constant output.

    Examples
    --------
    >>> round(noise_share(np.array([0.0, 1.0, 2.0, 3.0]), np.full(4, 0.5)), 4)
    0.15
    """
    if se is None:
        return float("nan")
    y, se = np.asarray(y, dtype=float), np.asarray(se, dtype=float)
    if len(y) < 2 or not np.all(np.isfinite(y)):
        return float("nan")
    var = float(np.var(y, ddof=1))
    return float(np.mean(se**2) / var) if var > 0 else float("nan")


def sobol_indices(
    design: Design,
    outputs: pd.DataFrame,
    *,
    se: pd.DataFrame | None = None,
    resamples: int = 500,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    r"""First-order and total Sobol' indices, with bootstrap intervals, of every output.

    Parameters
    ----------
    design : Design
        A ``"sobol"`` design (the outputs' rows in its point order).
    outputs : pandas.DataFrame
        Points x outputs.
    se : pandas.DataFrame, optional
        Monte Carlo standard errors of the outputs (for ``mc_noise_share``).
    resamples : int
        Bootstrap resamples (SALib ``num_resamples``).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    first : pandas.DataFrame
        ``output, parameter, S1, S1_low, S1_high, ST, ST_low, ST_high, mc_noise_share``:
        intervals are SALib's 95% bootstrap intervals (estimate +- 1.96 bootstrap SD);
        ``mc_noise_share`` is the output's mean squared standard error over its variance across
        points, the part of that variance that is Monte Carlo noise at the study's classrooms
        (:func:`noise_share`): an index no larger than it cannot be told from noise.
        A constant output or one with missing values gets NaN indices.
    second : pandas.DataFrame
        ``output, parameter, other, S2, S2_low, S2_high`` when the design has second order,
        else empty.

    Notes
    -----
    Saltelli et al. (2010) estimators as SALib implements them:
    :math:`S_i = \frac{1}{N}\sum_j f(B)_j (f(A_B^i)_j - f(A)_j) / V` and
    :math:`S_{Ti} = \frac{1}{2N}\sum_j (f(A)_j - f(A_B^i)_j)^2 / V`. A parameter the model
    never reads has :math:`f(A_B^i) = f(A)`, so both are exactly 0.

    The bootstrap resamples the :math:`N` rows as if they were independent draws; the points of
    a scrambled Sobol' sequence are more even than that, so the estimators vary less than the
    bootstrap says and its intervals are conservative (wider than the estimators' actual
    spread over scramblings).
    """
    sobol = require("SALib.analyze.sobol", "Sobol' indices")

    if design.kind != "sobol":
        raise ValueError(f"Sobol' indices need a 'sobol' design, not {design.kind!r}.")
    names = list(design.ranges.index)
    rows, rows2 = [], []
    for col in outputs.columns:
        y = outputs[col].to_numpy(dtype=float)
        noise = noise_share(y, None if se is None else se[col].to_numpy(dtype=float))
        if not np.all(np.isfinite(y)) or np.var(y) == 0:
            rows += [{"output": col, "parameter": p} for p in names]
            continue
        w = _quiet_salib()
        try:
            si = sobol.analyze(
                design.problem,
                y,
                calc_second_order=design.second_order,
                num_resamples=resamples,
                conf_level=0.95,
                seed=seed,
            )
        finally:
            w.__exit__(None, None, None)
        for i, p in enumerate(names):
            rows.append(
                {
                    "output": col,
                    "parameter": p,
                    "S1": si["S1"][i],
                    "S1_low": si["S1"][i] - si["S1_conf"][i],
                    "S1_high": si["S1"][i] + si["S1_conf"][i],
                    "ST": si["ST"][i],
                    "ST_low": si["ST"][i] - si["ST_conf"][i],
                    "ST_high": si["ST"][i] + si["ST_conf"][i],
                    "mc_noise_share": noise,
                }
            )
        if design.second_order:
            for i, p in enumerate(names):
                for j in range(i + 1, len(names)):
                    s2, c2 = si["S2"][i, j], si["S2_conf"][i, j]
                    rows2.append({"output": col, "parameter": p, "other": names[j], "S2": s2,
                                  "S2_low": s2 - c2, "S2_high": s2 + c2})  # fmt: skip
    cols = ["output", "parameter", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high",
            "mc_noise_share"]  # fmt: skip
    return pd.DataFrame(rows).reindex(columns=cols), pd.DataFrame(rows2)


def morris_indices(
    design: Design,
    outputs: pd.DataFrame,
    *,
    resamples: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Morris elementary-effect statistics of every output.

    Elementary effects are per unit of each parameter's range in the sampling space (its
    logarithm for a log-scale parameter), :math:`EE_i = (f(x + \Delta e_i) - f(x)) / \Delta`
    with :math:`\Delta = p / (2(p - 1))` for :math:`p` levels, so mu* is comparable across
    parameters (Campolongo et al. 2007).

    Returns
    -------
    pandas.DataFrame
        ``output, parameter, mu, mu_star, mu_star_low, mu_star_high, sigma, rank`` (``rank``
        1 = largest mu* within the output); intervals are SALib's bootstrap 95% intervals.
    """
    morris = require("SALib.analyze.morris", "Morris indices")

    if design.kind != "morris":
        raise ValueError(f"Morris indices need a 'morris' design, not {design.kind!r}.")
    names = list(design.ranges.index)
    rows = []
    for col in outputs.columns:
        y = outputs[col].to_numpy(dtype=float)
        if not np.all(np.isfinite(y)):
            rows += [{"output": col, "parameter": p} for p in names]
            continue
        w = _quiet_salib()
        try:
            si = morris.analyze(
                design.problem,
                design.x,
                y,
                num_resamples=resamples,
                conf_level=0.95,
                num_levels=design.num_levels,
                seed=seed,
            )
        finally:
            w.__exit__(None, None, None)
        for i, p in enumerate(names):
            rows.append(
                {
                    "output": col,
                    "parameter": p,
                    "mu": si["mu"][i],
                    "mu_star": si["mu_star"][i],
                    "mu_star_low": si["mu_star"][i] - si["mu_star_conf"][i],
                    "mu_star_high": si["mu_star"][i] + si["mu_star_conf"][i],
                    "sigma": si["sigma"][i],
                }
            )
    out = pd.DataFrame(rows)
    out["rank"] = out.groupby("output")["mu_star"].rank(ascending=False, method="min")
    return out


def drivers(
    indices: pd.DataFrame, output: str, *, by: str | None = None, top: int = 2
) -> list[tuple[str, float]]:
    """Return the parameters an output depends on most, largest index first.

    Parameters
    ----------
    indices : pandas.DataFrame
        From :func:`sobol_indices` (ranked by ``ST``) or :func:`morris_indices` (``mu_star``),
        or any table with ``output, parameter`` and the ``by`` column.
    output : str
    by : str, optional
        Column to rank by (default ``ST`` if present, else ``mu_star``, else ``abs_rho``).
    top : int
    """
    rows = indices[indices["output"] == output]
    if by is None:
        by = next(c for c in ("ST", "mu_star", "abs_rho") if c in rows.columns)
    rows = rows.dropna(subset=[by]).sort_values(by, ascending=False).head(top)
    return [(r.parameter, float(getattr(r, by))) for r in rows.itertuples()]


def rank_correlations(values: pd.DataFrame, outputs: pd.DataFrame) -> pd.DataFrame:
    r"""Spearman rank correlation of every output with every parameter (any design).

    A screening measure for designs without Sobol' or Morris structure (LHS, random). For each
    output, over the points where it is finite, :math:`\rho` is Pearson's correlation of the
    average ranks (ties share their mean rank), as :func:`scipy.stats.spearmanr`:

    .. math:: \rho = \frac{\sum_i (r_i - \bar r)(s_i - \bar s)}
              {\sqrt{\sum_i (r_i - \bar r)^2 \sum_i (s_i - \bar s)^2}},

    computed for all parameters at once (one ranking of the parameters per output, instead of
    one call per pair); NaN for a constant output or parameter, or fewer than 3 points.

    Returns
    -------
    pandas.DataFrame
        ``output, parameter, rho, abs_rho``, outputs outermost, in the columns' orders.
    """
    params = list(values.columns)
    x_all = values.to_numpy(dtype=float)
    outs, prms, rhos = [], [], []
    for col in outputs.columns:
        y = outputs[col].to_numpy(dtype=float)
        ok = np.isfinite(y)
        rho = np.full(len(params), np.nan)
        x = x_all[ok]
        if ok.sum() > 2 and np.ptp(y[ok]) > 0:
            varies = np.ptp(x, axis=0) > 0
            ry = stats.rankdata(y[ok])
            rx = stats.rankdata(x[:, varies], axis=0)
            ry = ry - ry.mean()
            rx = rx - rx.mean(axis=0)
            r = (rx * ry[:, None]).sum(axis=0) / np.sqrt((rx * rx).sum(axis=0) * (ry @ ry))
            rho[varies] = np.clip(r, -1.0, 1.0)
        outs += [col] * len(params)
        prms += params
        rhos.append(rho)
    rho_all = np.concatenate(rhos) if rhos else np.zeros(0)
    return pd.DataFrame(
        {"output": outs, "parameter": prms, "rho": rho_all, "abs_rho": np.abs(rho_all)}
    )


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    r"""Wilson score interval for a proportion :math:`k/n`.

    .. math::

        \frac{\hat p + z^2/2n \pm z\sqrt{\hat p(1-\hat p)/n + z^2/4n^2}}{1 + z^2/n}

    References
    ----------
    .. [1] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
       inference. *JASA*, 22(158), 209-212. https://doi.org/10.1080/01621459.1927.10502953

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    if n == 0:
        return (float("nan"), float("nan"))
    z = stats.norm.ppf(0.5 + level / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def claim_share(claim_rows: pd.DataFrame, independent: np.ndarray) -> dict[str, float]:
    """Share of the plausible space where a claim holds, with its 95% Wilson interval.

    Parameters
    ----------
    claim_rows : pandas.DataFrame
        One claim's rows of :func:`point_claims`, in point order.
    independent : numpy.ndarray of bool
        Which points are independent uniform draws (:meth:`Design.independent`).

    Returns
    -------
    dict
        ``share, share_low, share_high`` (holds: margin > 0), ``decided_true``,
        ``decided_false``, ``undecided`` (shares of points by verdict), ``n_points``.
    """
    r = claim_rows.reset_index(drop=True)[independent]
    n = len(r)
    k = int(r["holds"].sum())
    lo, hi = wilson_interval(k, n)
    verdict = r["decided"].value_counts(normalize=True)
    return {
        "share": k / n if n else float("nan"),
        "share_low": lo,
        "share_high": hi,
        "decided_true": float(verdict.get("holds", 0.0)),
        "decided_false": float(verdict.get("fails", 0.0)),
        "undecided": float(verdict.get("undecided", 0.0)),
        "n_points": n,
    }


@dataclass(frozen=True)
class Region:
    """Where a claim fails, as a box in the parameters' own units.

    Attributes
    ----------
    limits : dict
        Restricted parameter to ``(low, high)``; ``None`` on a side that is not restricted.
    coverage : float
        Share of all failing points that lie in the box.
    density : float
        Share of the points in the box that fail.
    mass : float
        Share of all points in the box.
    method : str
        ``"prim"`` or ``"tree"``.
    text : str
        E.g. ``"fails when zpd_width < 0.62 and teacher_capacity > 0.8 (coverage 0.81,
        density 0.92)"`` for a clear region; a weak one is described as such, never as
        "fails when" (see :func:`failure_region`).
    clear : bool
        Whether the box is a clear region (dense, covering, and denser than the space as a
        whole beyond sampling error).
    """

    limits: dict[str, tuple[float | None, float | None]]
    coverage: float
    density: float
    mass: float
    method: str
    text: str
    clear: bool = True


#: Fewest failing points inside a box for it to be called a clear failure region.
MIN_REGION_FAILURES = 10
#: Smallest share of all failing points a clear failure region holds.
MIN_REGION_COVERAGE = 0.5


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _describe(limits: Mapping[str, tuple[float | None, float | None]]) -> str:
    parts = []
    for p, (lo, hi) in limits.items():
        if lo is not None and hi is not None:
            parts.append(f"{_fmt(lo)} < {p} < {_fmt(hi)}")
        elif lo is not None:
            parts.append(f"{p} > {_fmt(lo)}")
        elif hi is not None:
            parts.append(f"{p} < {_fmt(hi)}")
    return " and ".join(parts)


def _box_stats(
    values: pd.DataFrame, fails: np.ndarray, limits: Mapping[str, tuple[float | None, float | None]]
) -> tuple[float, float, float]:
    inside = np.ones(len(values), dtype=bool)
    for p, (lo, hi) in limits.items():
        x = values[p].to_numpy()
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
    n_in = inside.sum()
    cov = float((fails & inside).sum() / max(fails.sum(), 1))
    dens = float((fails & inside).sum() / n_in) if n_in else float("nan")
    return cov, dens, float(n_in / len(values))


def _prim_region(
    values: pd.DataFrame, fails: np.ndarray, ranges: pd.DataFrame, max_dims: int, min_density: float
) -> dict[str, tuple[float | None, float | None]]:
    # whole-number parameters are peeled as real numbers (the EMA Workbench's discrete peeling,
    # which this replaces, wrote fractional limits into an integer box)
    traj = prim_trajectory(values, fails, mass_min=0.05)
    ok = np.flatnonzero(traj.res_dim <= max_dims)
    if len(ok) == 0:
        ok = np.array([0])
    dense = ok[traj.density[ok] >= min_density]
    pick = dense if len(dense) else ok  # the best balance of coverage and density
    i = int(pick[np.argmax(traj.coverage[pick] * traj.density[pick])])
    (lo, hi), (lo0, hi0) = traj.limits[i], traj.limits[0]
    out = {}
    for j, p in enumerate(values.columns):
        rlo = float(lo[j]) if lo[j] > lo0[j] else None
        rhi = float(hi[j]) if hi[j] < hi0[j] else None
        if rlo is not None or rhi is not None:
            out[p] = (rlo, rhi)
    return out


def _tree_region(
    values: pd.DataFrame, fails: np.ndarray, max_dims: int, min_density: float
) -> dict[str, tuple[float | None, float | None]]:
    tree_module = require("sklearn.tree", "A decision-tree failure region")
    DecisionTreeClassifier = tree_module.DecisionTreeClassifier

    tree = DecisionTreeClassifier(
        max_depth=max_dims, min_samples_leaf=max(5, len(values) // 20), random_state=0
    ).fit(values.to_numpy(dtype=float), fails)
    t = tree.tree_
    names = list(values.columns)
    best, best_score = None, -1.0
    total_fail = max(int(fails.sum()), 1)

    def walk(node: int, limits: dict[str, list[float | None]]) -> None:
        nonlocal best, best_score
        if t.children_left[node] == -1:
            counts = t.value[node][0] * t.n_node_samples[node]
            n_fail = counts[1] if len(counts) > 1 else 0.0
            dens = n_fail / t.n_node_samples[node]
            cov = n_fail / total_fail
            score = cov * dens if dens >= min_density else cov * dens * 0.5
            if score > best_score:
                best, best_score = {k: tuple(v) for k, v in limits.items()}, score
            return
        p, thr = names[t.feature[node]], float(t.threshold[node])
        lo, hi = limits.get(p, [None, None])
        walk(t.children_left[node], limits | {p: [lo, thr if hi is None else min(hi, thr)]})
        walk(t.children_right[node], limits | {p: [thr if lo is None else max(lo, thr), hi]})

    walk(0, {})
    return best or {}


def failure_region(
    values: pd.DataFrame,
    holds: np.ndarray,
    ranges: pd.DataFrame,
    *,
    method: str = "prim",
    max_dims: int = 3,
    min_density: float = 0.8,
) -> Region | None:
    """Describe where a claim fails, as a box in the parameters' own units.

    PRIM peels the parameter space from its edges towards the failing points (Friedman &
    Fisher 1999; :func:`toolkit.robustness.prim.prim_trajectory`, which reproduces the EMA
    Workbench's trajectory). Among the boxes on the peeling trajectory that
    restrict at most ``max_dims`` parameters and have a density of at least ``min_density``
    (all of them if none has), the one kept has the largest coverage x density.
    ``method = "tree"`` instead fits a decision tree of depth ``max_dims``
    and keeps the leaf with the best coverage x density.

    Parameters
    ----------
    values : pandas.DataFrame
        Design points in parameter units (one column per varied parameter).
    holds : numpy.ndarray of bool
        Whether the claim holds at each point.
    ranges : pandas.DataFrame
        The varied parameters' ranges (unused bounds are not reported).
    method : {"prim", "tree"}
    max_dims : int
    min_density : float

    The box is called a *clear* region, and described as "fails when ...", only when it is
    dense (density at least ``min_density``), covers most failures (coverage at least
    :data:`MIN_REGION_COVERAGE`), holds at least :data:`MIN_REGION_FAILURES` failing points,
    and is denser than the space as a whole beyond sampling error (the lower end of the
    95% Wilson interval of its density is above the share of points that fail everywhere).
    Otherwise, as in small designs where a box can always be drawn around a few failing
    points, the text says that there is no clear region and gives the box's numbers.

    Returns
    -------
    Region or None
        None when the claim never fails (or always fails: then there is no region to tell apart).
    """
    fails = ~np.asarray(holds, dtype=bool)
    if fails.sum() == 0 or fails.all():
        return None
    if method == "prim":
        limits = _prim_region(values, fails, ranges, max_dims, min_density)
    elif method == "tree":
        limits = _tree_region(values, fails, max_dims, min_density)
    else:
        raise ValueError(f"method must be 'prim' or 'tree', got {method!r}.")
    limits = {p: limits[p] for p in values.columns if p in limits}  # in the design's order
    cov, dens, mass = _box_stats(values, fails, limits)
    where = _describe(limits)
    base = float(fails.mean())
    n_in = round(mass * len(values))
    n_fail_in = round(cov * fails.sum())
    clear = bool(
        where
        and dens >= min_density
        and cov >= MIN_REGION_COVERAGE
        and n_fail_in >= MIN_REGION_FAILURES
        and wilson_interval(n_fail_in, n_in)[0] > base
    )
    if clear:
        text = f"fails when {where} (coverage {cov:.2f}, density {dens:.2f})"
    elif where:  # a box, but a weak one: say so, with its numbers
        text = (
            f"fails at {base:.0%} of the points, with no clear region: the best box on at most "
            f"{max_dims} parameters ({where}) holds {n_fail_in} of the {int(fails.sum())} "
            f"failing points (coverage {cov:.2f}) and fails at {dens:.0%} of its {n_in} points "
            f"(density {dens:.2f}), too weak to name a region"
        )
    else:
        text = (
            f"fails at {base:.0%} of the points, scattered: no box on at most {max_dims} "
            "parameters separates the failures"
        )
    return Region(
        limits=limits, coverage=cov, density=dens, mass=mass, method=method, text=text, clear=clear
    )
