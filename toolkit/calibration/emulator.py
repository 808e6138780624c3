r"""Calibration of the engagement weights on the trial record through an emulator of the model.

The comparison of the regimes rests on how engagement responds to challenge fit, interest and
autonomy, on how well system-directed work is supervised, on how much independent practice is
worth and on what self-direction costs (issue 18). These six parameters,
:data:`EMULATED_PARAMETERS`, get a posterior from rows of the trial record
(``toolkit/calibration/data/evidence.csv``): the correlations of engagement and of interest
with achievement, the effect of choice on engagement, and a stated subset of the contrasts
(:data:`TRAINING_ROWS`); every other row is held out and predicted.

Direct ABC needs tens of thousands of model runs; the model is instead run on a space-filling
design of :math:`n` points (a Latin hypercube, :class:`scipy.stats.qmc.LatinHypercube`, over
the prior box), and a Gaussian process :math:`\mu_k(\theta), \sigma_k^2(\theta)` of every
row's model value :math:`m_k(\theta)` is fitted to them (a linear trend and an anisotropic
squared-exponential kernel with a white-noise term; each design point's Monte Carlo variance
as its nugget). Published values :math:`t_k` with uncertainty :math:`s_k` are read, as in
:mod:`toolkit.calibration.abc`, as noisy measurements, and the emulator's predictive variance
joins the likelihood (Kennedy & O'Hagan 2001; Wilkinson 2014):

.. math::

    \log L(\theta) = \log \phi\!\left(t_V;\ \mu_V(\theta),\
    \mathrm{diag}\big(s_k^2 + \sigma_k^2(\theta)\big)_{k \in V} + M R M\right)
    + \sum_{k \in \text{directions}} \log \Phi\!\left(\frac{\pm(\mu_k(\theta) - b_k)}
    {\sqrt{\tau^2 + \sigma_k^2(\theta) + \overline{se}_k^2}}\right),

with :math:`V` the rows with a value, :math:`M = \mathrm{diag}(\overline{se}_k)` the design's
root mean square Monte Carlo SEs and :math:`R` the correlation of the rows' Monte Carlo errors
(:func:`mc_correlation`, a delete-a-group jackknife over the design's classrooms): the design's
classrooms are common random numbers, so their sampling error is a smooth bias the emulator
cannot see, and it is shared by rows computed on the same classrooms. A row with a two-sided
range is read as :func:`~toolkit.calibration.targets.target_scale` reads it, and a row that
publishes only a direction (one bound :math:`b_k`) as the probability that a study with
standard error :math:`\tau` (:data:`DIRECTION_SD`, judgement) finds an effect beyond the bound.
The priors are uniform from 0 (:func:`emulator_priors`): the data may say that a weight is nil.

The posterior is sampled by sequential Monte Carlo with adaptive tempering (Del Moral, Doucet &
Jasra 2006; Chopin 2002): particles from the prior are reweighted by :math:`L^{\beta_{j+1} -
\beta_j}` with the next :math:`\beta` chosen so that the effective sample size is half the
particles, resampled and moved by random-walk Metropolis steps targeting
:math:`\pi_0 L^{\beta}`, until :math:`\beta = 1` (temperature :math:`1/\beta = 1`: a sample of
the posterior). It is the tempered acceptance of :mod:`toolkit.calibration.abc`'s stochastic
acceptor with the exact likelihood the emulator affords.

References
----------
.. [1] Kennedy, M. C., & O'Hagan, A. (2001). Bayesian calibration of computer models.
   *Journal of the Royal Statistical Society B*, 63(3), 425-464.
   https://doi.org/10.1111/1467-9868.00294
.. [2] Wilkinson, R. D. (2014). Accelerating ABC methods using Gaussian processes.
   *Proceedings of AISTATS 2014*, PMLR 33, 1015-1023.
.. [3] Del Moral, P., Doucet, A., & Jasra, A. (2006). Sequential Monte Carlo samplers.
   *Journal of the Royal Statistical Society B*, 68(3), 411-436.
   https://doi.org/10.1111/j.1467-9868.2006.00553.x
.. [4] Chopin, N. (2002). A sequential particle filter method for static models.
   *Biometrika*, 89(3), 539-552. https://doi.org/10.1093/biomet/89.3.539
.. [5] Talts, S., Betancourt, M., Simpson, D., Vehtari, A., & Gelman, A. (2018). Validating
   Bayesian inference algorithms with simulation-based calibration. arXiv:1804.06788.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from toolkit._optional import require
from toolkit.calibration.abc import read_settings
from toolkit.calibration.quantities import MASTER_SEED, Simulations, compute
from toolkit.calibration.targets import DATA_DIR, TargetsError, target_scale
from toolkit.model.params import PLAUSIBLE, ParameterError, Parameters, plausible_ranges

__all__ = [
    "DIRECTION_SD",
    "EMULATED_PARAMETERS",
    "EMULATOR_CONFIG_FILE",
    "TRAINING_ROWS",
    "Emulator",
    "EmulatorConfig",
    "GPEmulator",
    "RowLikelihood",
    "SMCResult",
    "calibrate_emulator",
    "design_points",
    "emulator_cross_validation",
    "emulator_loglik",
    "emulator_posterior",
    "emulator_priors",
    "evaluate_design",
    "load_emulator",
    "load_emulator_config",
    "row_information",
    "smc_tempering",
]

#: The calibrated engagement, supervision, practice and self-direction parameters.
EMULATED_PARAMETERS = (
    "engagement_fit_weight",
    "engagement_interest_weight",
    "engagement_autonomy_weight",
    "supervision",
    "practice_efficacy",
    "self_direction_cost",
)

#: The rows of the trial record the calibration is fitted to; every other row is held out.
#: Engagement: the correlations of engagement and of interest with achievement, choice's effect
#: on engagement. Contrasts: learner control (Karich et al.), unassisted discovery (Alfieri et
#: al.), intelligent tutoring on short units (VanLehn), personalized schools in mathematics
#: (Pane et al. 2017). Their twins (Niemiec, Lei, Kulik & Fletcher, Pane reading) and every
#: other family are held out.
TRAINING_ROWS = (
    "wong2024_engagement_achievement",
    "schiefele1992_interest_achievement",
    "patall2008_choice_motivation",
    "karich2014_learner_control",
    "alfieri2011_unassisted",
    "vanlehn2011_its",
    "pane2017_math",
)

#: Standard error (SD units) assumed for a study that publishes only the direction of an effect.
DIRECTION_SD = 0.1
#: Groups of classrooms left out in turn (delete-a-group jackknife) at every design point, to
#: estimate how the rows' Monte Carlo errors correlate: rows computed on the same classrooms
#: share their sampling error (:func:`mc_correlation`).
JACKKNIFE_GROUPS = 24

#: The repository's settings of the emulator calibration.
EMULATOR_CONFIG_FILE = DATA_DIR / "emulator.toml"

_KEYS = {
    "parameters",
    "rows",
    "predict",
    "design",
    "check",
    "classrooms",
    "jackknife",
    "particles",
    "seed",
    "workers",
}


def emulator_priors(names: Sequence[str] = EMULATED_PARAMETERS) -> pd.DataFrame:
    """Return the uniform priors of the emulator calibration: from 0 to the plausible maximum.

    Each prior is uniform on :math:`[0, h]`, with :math:`h` the top of the parameter's
    plausible range (twice the default for the weights, the practice efficacy and the cost of
    self-direction) and 1 for ``supervision`` (its upper bound: system-directed work always on
    task). So every prior includes zero.

    Returns
    -------
    pandas.DataFrame
        Indexed by parameter: ``default, low, high``.

    Examples
    --------
    >>> p = emulator_priors(["engagement_fit_weight", "supervision"])
    >>> p[["low", "high"]].to_numpy().tolist()
    [[0.0, 3.0], [0.0, 1.0]]
    """
    r = plausible_ranges(list(names))
    rows = []
    for n in names:
        high = 1.0 if n == "supervision" else float(r.loc[n, "high"])
        rows.append({"parameter": n, "default": float(r.loc[n, "default"]), "low": 0.0,
                     "high": high})  # fmt: skip
    return pd.DataFrame(rows).set_index("parameter")


@dataclass(frozen=True)
class EmulatorConfig:
    """What the emulator calibration fits, on which rows, with how many model runs.

    Attributes
    ----------
    parameters : tuple of str
        Calibrated parameters (default :data:`EMULATED_PARAMETERS`); priors from
        :func:`emulator_priors`.
    rows : tuple of str
        Ids of the trial-record (or targets-file) rows fitted (default :data:`TRAINING_ROWS`).
    predict : tuple of str
        Further rows emulated for held-out predictions (not fitted).
    design : int
        Design points (model runs) the emulator is fitted to.
    check : int
        Further design points held out to check the emulator (its error and coverage).
    classrooms : int
        Classrooms per arm at every design point (the same classrooms at every point).
    particles : int
        Particles of the tempered SMC on the emulator.
    jackknife : int
        Groups of classrooms left out in turn at every design point to estimate how the fitted
        rows' Monte Carlo errors correlate (:func:`mc_correlation`; at most one per classroom).
        Each group costs a recomputation of the fitted rows.
    seed : int
        Master seed: the design, the classrooms, the SMC.
    workers : int
        Processes evaluating design points.
    fixed : dict
        Model parameters held at other values than their defaults.
    """

    parameters: tuple[str, ...] = EMULATED_PARAMETERS
    rows: tuple[str, ...] = TRAINING_ROWS
    predict: tuple[str, ...] = ()
    design: int = 160
    check: int = 16
    classrooms: int = 24
    particles: int = 2000
    jackknife: int = JACKKNIFE_GROUPS
    seed: int = MASTER_SEED
    workers: int = 1
    fixed: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "rows", tuple(self.rows))
        object.__setattr__(self, "predict", tuple(r for r in self.predict if r not in self.rows))
        unknown = [n for n in self.parameters if n not in PLAUSIBLE]
        if unknown:
            raise ParameterError(f"emulator calibration: unknown parameter(s) {unknown}.")
        for name, least in (("design", 4), ("check", 0), ("classrooms", 2), ("particles", 50),
                            ("jackknife", 2), ("workers", 1)):  # fmt: skip
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < least:
                raise ValueError(
                    f"emulator calibration: '{name}' must be a whole number >= {least}, got {v!r}."
                )
        if not self.rows:
            raise ValueError("emulator calibration: 'rows' is empty (nothing to fit).")
        Parameters.from_mapping(self.fixed, source="emulator calibration [parameters]")
        clash = sorted(set(self.fixed) & set(self.parameters))
        if clash:
            raise ValueError(f"emulator calibration: {clash} are both calibrated and fixed.")

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as a JSON-friendly dict."""
        d = asdict(self)
        for k in ("parameters", "rows", "predict"):
            d[k] = list(d[k])
        return d


def load_emulator_config(path: str | Path | None = None, **overrides: Any) -> EmulatorConfig:
    """Read ``[emulator]`` (and optional ``[parameters]``) from a TOML file.

    Parameters
    ----------
    path : str or Path, optional
        Default :data:`EMULATOR_CONFIG_FILE`.
    **overrides
        Values replacing the file's (``None`` is ignored).

    Returns
    -------
    EmulatorConfig
    """
    path = Path(path) if path is not None else EMULATOR_CONFIG_FILE
    em, fixed = read_settings(path, "emulator", _KEYS, "emulator")
    em |= {k: v for k, v in overrides.items() if v is not None}
    return EmulatorConfig(fixed=fixed, **em)


# --- the design ----------------------------------------------------------------------------


def design_points(n: int, priors: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Return a Latin-hypercube design of ``n`` points in the prior box.

    The hypercube is optimized for centred discrepancy (``optimization="random-cd"``), so the
    points fill the box evenly in every projection.

    Examples
    --------
    >>> d = design_points(8, emulator_priors(["supervision"]), seed=1)
    >>> len(d), bool(d["supervision"].between(0, 1).all())
    (8, True)
    """
    from scipy.stats import qmc

    lhs = qmc.LatinHypercube(d=len(priors), optimization="random-cd", rng=seed)
    u = lhs.random(n)
    lo, hi = priors["low"].to_numpy(), priors["high"].to_numpy()
    return pd.DataFrame(lo + u * (hi - lo), columns=list(priors.index))


def _evaluate_point(
    theta: dict[str, float],
    quantities: dict[str, str],
    fixed: dict[str, Any],
    classrooms: int,
    seed: int,
    mappings: Mapping[str, Any] | None,
    jackknife: Sequence[str] = (),
    groups: int = JACKKNIFE_GROUPS,
) -> dict[str, float]:
    """Run the model at one design point: each row's value, Monte Carlo SE and jackknife values.

    ``jk<g>:<row>``, for the rows in ``jackknife``, is the row's value without the classrooms
    of group ``g`` (of :func:`_jackknife_groups`), from the same simulated arms.
    """
    params = Parameters.from_mapping(fixed | theta, source="emulator design point")
    sims = Simulations(params, classrooms, seed)
    names = sorted(set(quantities.values()))
    est = compute(names, sims=sims, mappings=mappings).set_index("quantity")
    out: dict[str, float] = {}
    for rid, q in quantities.items():
        out[f"value:{rid}"] = float(est.loc[q, "value"])
        out[f"se:{rid}"] = float(est.loc[q, "se"])
    jk_names = sorted({quantities[r] for r in jackknife})
    for g, drop in enumerate(_jackknife_groups(classrooms, groups) if jk_names else []):
        with warnings.catch_warnings():  # only the values are kept: SEs of few classrooms are NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            jk = compute(jk_names, sims=sims.without(drop), mappings=mappings)
        jk = jk.set_index("quantity")
        for rid in jackknife:
            out[f"jk{g}:{rid}"] = float(jk.loc[quantities[rid], "value"])
    return out


def _jackknife_groups(classrooms: int, groups: int = JACKKNIFE_GROUPS) -> list[np.ndarray]:
    """Return the classrooms of each jackknife group (``min(groups, classrooms)`` groups)."""
    return np.array_split(np.arange(classrooms), min(groups, classrooms))


def mc_correlation(runs: pd.DataFrame, rows: Sequence[str]) -> np.ndarray:
    r"""Pool the correlation of the rows' Monte Carlo errors over the design points.

    Every row is computed on the same classrooms at a design point, so their sampling errors
    are correlated (two contrasts sharing the control arm, a contrast and a correlation of
    the same students). At each point :math:`i` the delete-a-group jackknife (Efron & Stein
    1981; Shao & Tu 1995, ch. 2) over :math:`G` groups of classrooms estimates the covariance

    .. math::

        \hat V_i = \frac{G-1}{G} \sum_{g=1}^{G} (v_{i,(g)} - \bar v_{i,(\cdot)})
        (v_{i,(g)} - \bar v_{i,(\cdot)})^\top,

    with :math:`v_{i,(g)}` the rows' values without group :math:`g`. Each is scaled by the
    point's own SEs, :math:`\tilde V_i = S_i^{-1} \hat V_i S_i^{-1}` with :math:`S_i =
    \mathrm{diag}(se_{i})` (the ``se:<row>`` columns; 1 without them), and the pooled
    :math:`\bar V = \frac1n \sum_i \tilde V_i` is turned into a correlation,
    :math:`R_{jk} = \bar V_{jk} / \sqrt{\bar V_{jj} \bar V_{kk}}`: a ratio of pooled
    moments, so it has no small-:math:`G` bias of a mean of per-point correlations, and it is
    positive semi-definite. A row without spread counts as uncorrelated; points with a
    missing value are left out.

    Parameters
    ----------
    runs : pandas.DataFrame
        The design's table (:func:`evaluate_design`), with ``jk<g>:<row>`` (and ``se:<row>``)
        columns.
    rows : sequence of str
        Row ids, in the order of the result.

    Returns
    -------
    numpy.ndarray
        ``(len(rows), len(rows))``, ones on the diagonal.

    References
    ----------
    .. [1] Efron, B., & Stein, C. (1981). The jackknife estimate of variance. *Annals of
       Statistics*, 9(3), 586-596. https://doi.org/10.1214/aos/1176345462
    .. [2] Shao, J., & Tu, D. (1995). *The Jackknife and Bootstrap*. Springer.

    Examples
    --------
    >>> runs = pd.DataFrame({"jk0:a": [1.0, 2.0], "jk1:a": [2.0, 1.0],
    ...                      "jk0:b": [3.0, 0.0], "jk1:b": [5.0, -2.0]})
    >>> mc_correlation(runs, ["a", "b"]).round(3).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    groups = sum(1 for c in runs.columns if c.endswith(f":{rows[0]}") and c.startswith("jk"))
    if groups < 2:
        raise ValueError("mc_correlation: the design has no jackknife values (jk<g>:<row>).")
    v = np.stack(
        [runs[[f"jk{g}:{r}" for r in rows]].to_numpy(float) for g in range(groups)], axis=1
    )
    have_se = all(f"se:{r}" in runs.columns for r in rows)
    se = runs[[f"se:{r}" for r in rows]].to_numpy(float) if have_se else np.ones(v[:, 0].shape)
    se = np.where(np.isfinite(se) & (se > 0), se, np.nan)
    dev = (v - v.mean(axis=1, keepdims=True)) / se[:, None, :]
    ok = np.isfinite(dev).all(axis=(1, 2))
    if not ok.any():
        raise ValueError("mc_correlation: no design point has every row's jackknife values.")
    pooled = np.einsum("ngi,ngj->ij", dev[ok], dev[ok]) / ok.sum()
    sd = np.sqrt(np.diag(pooled))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pooled / np.outer(sd, sd)
    out[~np.isfinite(out)] = 0.0
    np.fill_diagonal(out, 1.0)
    return np.clip(out, -1.0, 1.0)


def evaluate_design(
    points: pd.DataFrame,
    quantities: Mapping[str, str],
    cache: str | Path,
    *,
    classrooms: int,
    seed: int,
    fixed: Mapping[str, Any] | None = None,
    workers: int = 1,
    mappings: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    jackknife: Sequence[str] | None = None,
    jackknife_groups: int = JACKKNIFE_GROUPS,
) -> pd.DataFrame:
    """Run the model at every design point, caching each finished point in a CSV file.

    A rerun reads the cache and runs only the points it lacks (same point index and the same
    parameter values), so an interrupted design resumes where it stopped.

    Parameters
    ----------
    points : pandas.DataFrame
        One row per design point, one column per parameter.
    quantities : mapping of str to str
        Row id -> model quantity (``contrast:<id>``, ``correlation:<id>`` or a registered one).
    cache : path
        CSV file of finished points: ``point``, the parameters, ``value:<row>``, ``se:<row>``
        and the jackknife values ``jk<g>:<row>`` (:func:`mc_correlation`). A point cached
        without one of them is run again.
    classrooms, seed : int
        Every point runs the same ``classrooms`` classrooms (seed ``seed``): common random
        numbers, so the differences between points are the parameters'.
    fixed : mapping, optional
    workers : int
        Processes (one point per task).
    mappings : mapping, optional
        Mappings of trial-record quantities (default: the package's).
    progress : callable, optional
        Called with a line of progress.
    jackknife : sequence of str, optional
        Rows whose jackknife values are computed (default: every row; the calibration asks
        for its fitted rows, the only ones whose errors' correlation it uses).
    jackknife_groups : int
        Groups of classrooms left out in turn (at most one per classroom).

    Returns
    -------
    pandas.DataFrame
        The cache's rows for ``points``, in their order.
    """
    cache = Path(cache)
    cols = list(points.columns)
    estimates = [f"value:{r}" for r in quantities] + [f"se:{r}" for r in quantities]
    jackknife = list(quantities) if jackknife is None else [r for r in quantities if r in jackknife]
    groups = len(_jackknife_groups(classrooms, jackknife_groups))
    jk_cols = [f"jk{g}:{r}" for g in range(groups) for r in jackknife]  # may be NaN (few rooms)
    done = pd.read_csv(cache) if cache.is_file() else pd.DataFrame(columns=["point", *cols])
    have = set()
    if len(done):
        merged = points.reset_index(names="point").merge(done, on="point", suffixes=("", "_c"))
        for r in merged.to_dict(orient="records"):
            same = all(math.isclose(r[c], r[f"{c}_c"], rel_tol=1e-9, abs_tol=1e-12) for c in cols)
            complete = all(k in r and not pd.isna(r[k]) for k in estimates)
            if same and complete and all(k in r for k in jk_cols):
                have.add(int(r["point"]))
    header = list(done.columns) if cache.is_file() else None  # the file's columns, in order
    lacking = [k for k in estimates + jk_cols if k not in done.columns]
    if header is not None and lacking:  # a cache from an earlier version: keep rows, add columns
        header += lacking
        tmp = cache.with_name(cache.name + ".tmp")
        done.reindex(columns=header).to_csv(tmp, index=False)
        tmp.replace(cache)
    todo = [i for i in range(len(points)) if i not in have]
    if progress and have:
        progress(f"{len(have)} of {len(points)} design points already in {cache.name}")
    fixed = dict(fixed or {})
    qs = dict(quantities)
    t0 = time.time()

    def record(i: int, res: dict[str, float]) -> None:
        nonlocal header
        row = pd.DataFrame([{"point": i, **points.iloc[i].to_dict(), **res}])
        if header is None:
            header = list(row.columns)
            row.to_csv(cache, index=False)
        else:  # the file's column order (it may hold more rows' columns than this run's)
            row.reindex(columns=header).to_csv(cache, mode="a", header=False, index=False)

    args = [
        (points.iloc[i].to_dict(), qs, fixed, classrooms, seed, mappings, tuple(jackknife), groups)
        for i in todo
    ]
    if workers == 1 or len(todo) <= 1:
        for k, (i, a) in enumerate(zip(todo, args, strict=True)):
            record(i, _evaluate_point(*a))
            if progress and ((k + 1) % 10 == 0 or k + 1 == len(todo)):
                progress(f"design point {k + 1}/{len(todo)} ({time.time() - t0:.0f} s)")
    elif todo:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_evaluate_point, *a): i for i, a in zip(todo, args, strict=True)}
            for k, fut in enumerate(as_completed(futures)):
                record(futures[fut], fut.result())
                if progress and ((k + 1) % 10 == 0 or k + 1 == len(todo)):
                    progress(f"design point {k + 1}/{len(todo)} ({time.time() - t0:.0f} s)")
    table = pd.read_csv(cache).drop_duplicates("point", keep="last").set_index("point")
    # .copy(): one block per column as read (pandas warns of a fragmented frame on insert)
    return table.loc[list(range(len(points)))].copy().reset_index()


# --- the emulator ----------------------------------------------------------------------------


class Emulator(Protocol):
    """What the likelihood needs of an emulator: predictive means and SDs of each row."""

    rows: list[str]

    def predict(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (mean, sd), each ``(n, len(rows))``, at parameter values ``(n, d)``."""
        ...


class GPEmulator:
    r"""Gaussian-process emulators of rows' model values over the parameter box.

    Per row, :math:`m(\theta) = a + b^\top u + g(u)` with :math:`u` the parameters scaled to
    the unit cube, :math:`(a, b)` least squares, and :math:`g` a zero-mean Gaussian process
    with kernel :math:`c\,\exp(-\tfrac12 \sum_j (u_j - u'_j)^2/\ell_j^2) + w\,\delta` fitted by
    maximum marginal likelihood (scikit-learn's :class:`GaussianProcessRegressor`, three
    restarts), each design point's Monte Carlo variance :math:`se_i^2` on the diagonal. The
    predictive SD includes :math:`w` (what the smooth part cannot explain).

    Parameters
    ----------
    X : array (n, d)
        Design points.
    values, ses : pandas.DataFrame
        One column per row: model values and their Monte Carlo SEs at the design points.
    low, high : array (d,)
        The prior box (for scaling).
    seed : int
        Seeds the optimizer's restarts.
    restarts : int
        Restarts of the hyperparameters' optimizer from random starting values.
    mc_corr : array (rows, rows), optional
        Correlation of the rows' Monte Carlo errors (:func:`mc_correlation`); default none.

    Attributes
    ----------
    mc_se : array
        Per row, the root mean square Monte Carlo SE over the design.
    mc_corr : array
        The correlation of the rows' Monte Carlo errors (identity if not given).
    """

    def __init__(
        self,
        X: np.ndarray,
        values: pd.DataFrame,
        ses: pd.DataFrame,
        low: np.ndarray,
        high: np.ndarray,
        seed: int = 0,
        restarts: int = 3,
        mc_corr: np.ndarray | None = None,
    ):
        what = "The emulator calibration"
        ConvergenceWarning = require("sklearn.exceptions", what).ConvergenceWarning
        GaussianProcessRegressor = require(
            "sklearn.gaussian_process", what
        ).GaussianProcessRegressor
        kernels = require("sklearn.gaussian_process.kernels", what)
        RBF, ConstantKernel, WhiteKernel = kernels.RBF, kernels.ConstantKernel, kernels.WhiteKernel

        self.low, self.high = np.asarray(low, float), np.asarray(high, float)
        self.rows = list(values.columns)
        U = self._scale(np.asarray(X, float))
        d = U.shape[1]
        A = np.column_stack([np.ones(len(U)), U])
        self.models, self.coef, self.scale, self.mc_se = [], [], [], []
        for r in self.rows:
            y = values[r].to_numpy(float)
            se = ses[r].to_numpy(float)
            coef, *_ = np.linalg.lstsq(A, y, rcond=None)
            res = y - A @ coef
            s = float(res.std()) or 1.0
            kernel = ConstantKernel(1.0, (1e-3, 1e2)) * RBF(
                np.full(d, 0.5), (0.05, 50.0)
            ) + WhiteKernel(1e-2, (1e-6, 1.0))
            gp = GaussianProcessRegressor(
                kernel,
                alpha=np.maximum((se / s) ** 2, 1e-8),
                n_restarts_optimizer=restarts,
                random_state=seed,
            )
            with warnings.catch_warnings():  # hyperparameters at a bound: a flat direction
                warnings.simplefilter("ignore", ConvergenceWarning)
                gp.fit(U, res / s)
            self.models.append(gp)
            self.coef.append(coef)
            self.scale.append(s)
            self.mc_se.append(float(np.sqrt(np.mean(se**2))))
        self.mc_se = np.asarray(self.mc_se)
        k = len(self.rows)
        self.mc_corr = np.eye(k) if mc_corr is None else np.asarray(mc_corr, float)
        if self.mc_corr.shape != (k, k):
            raise ValueError(f"GPEmulator: mc_corr must be {k} x {k}, got {self.mc_corr.shape}.")

    def _scale(self, X: np.ndarray) -> np.ndarray:
        return (X - self.low) / (self.high - self.low)

    def predict(
        self, theta: np.ndarray, rows: Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the predictive mean and SD at ``theta`` (n, d), each ``(n, rows)``.

        ``rows``: positions in :attr:`rows` of the rows wanted (default: every row).
        """
        U = self._scale(np.atleast_2d(np.asarray(theta, float)))
        A = np.column_stack([np.ones(len(U)), U])
        which = range(len(self.rows)) if rows is None else list(rows)
        mean = np.empty((len(U), len(which)))
        sd = np.empty_like(mean)
        for j, k in enumerate(which):
            m, s = self.models[k].predict(U, return_std=True)
            mean[:, j] = A @ self.coef[k] + self.scale[k] * m
            sd[:, j] = self.scale[k] * s
        return mean, sd

    def kernels(self) -> dict[str, str]:
        """Return the fitted kernel of each row (for the run's record)."""
        return {r: str(gp.kernel_) for r, gp in zip(self.rows, self.models, strict=True)}


# --- the likelihood --------------------------------------------------------------------------


@dataclass
class RowLikelihood:
    r"""The likelihood of rows given an emulator's predictions (module docstring's formula).

    Attributes
    ----------
    rows : list of str
    center, scale : array
        :math:`t_k, s_k` for rows with a value (or a two-sided range); NaN for a direction.
    bound, sign : array
        For a direction-only row, its bound :math:`b_k` and +1 (effect above it) or -1
        (below); NaN and 0 otherwise.
    mc_se : array
        The Monte Carlo SE added to every row's variance (0 for an exact stand-in).
    mc_corr : array, optional
        The correlation of the rows' Monte Carlo errors (:func:`mc_correlation`): the rows
        with a value then share one multivariate normal, with covariance
        :math:`\mathrm{diag}(s_k^2 + \sigma_k^2) + M R M`,
        :math:`M = \mathrm{diag}(\overline{se}_k)`.
        A direction-only row keeps its own term (its error's correlation with the others is
        left out). None: independent errors.
    """

    rows: list[str]
    center: np.ndarray
    scale: np.ndarray
    bound: np.ndarray
    sign: np.ndarray
    mc_se: np.ndarray
    mc_corr: np.ndarray | None = None

    @classmethod
    def from_table(
        cls,
        table: pd.DataFrame,
        rows: Sequence[str],
        mc_se: np.ndarray | None = None,
        mc_corr: np.ndarray | None = None,
    ) -> RowLikelihood:
        """Read the rows' values, SDs, ranges and directions from a targets/evidence table."""
        missing = [r for r in rows if r not in table.index]
        if missing:
            raise TargetsError(f"emulator calibration: row id(s) {missing} are not in the table.")
        n = len(rows)
        center, scale = np.full(n, np.nan), np.full(n, np.nan)
        bound, sign = np.full(n, np.nan), np.zeros(n)
        for k, r in enumerate(rows):
            row = table.loc[r]
            lo, hi = float(row["low"]), float(row["high"])
            has_value = not (math.isnan(float(row["value"])) or math.isnan(float(row["sd"])))
            if has_value or not (math.isnan(lo) or math.isnan(hi)):
                center[k], scale[k] = target_scale(row)
            elif not math.isnan(lo):
                bound[k], sign[k] = lo, 1.0
            elif not math.isnan(hi):
                bound[k], sign[k] = hi, -1.0
            else:
                raise TargetsError(f"row {r!r}: neither a value with an SD nor a bound to fit.")
        mc = np.zeros(n) if mc_se is None else np.asarray(mc_se, float)
        corr = None if mc_corr is None else np.asarray(mc_corr, float)
        return cls(list(rows), center, scale, bound, sign, mc, corr)

    def with_model_sampling(self, classrooms: int, design_classrooms: int) -> RowLikelihood:
        r"""Return a copy that adds the sampling error of the model on other classrooms.

        For observed values that are themselves the model's on ``classrooms`` classrooms per
        arm of their own (data simulated by the model, as in simulation-based calibration),
        or to target the posterior of direct ABC, whose every simulation runs on fresh
        classrooms: the Monte Carlo variance of a value scales as one over the classrooms, so
        each row's :math:`\overline{se}_k^2` (the design's, on ``design_classrooms``) becomes
        :math:`\overline{se}_k^2\,(1 + n_{design}/n)`, correlated across rows as the design's.
        """
        for name, v in (("classrooms", classrooms), ("design_classrooms", design_classrooms)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"with_model_sampling: '{name}' must be a whole number >= 1, "
                                 f"got {v!r}.")  # fmt: skip
        factor = math.sqrt(1.0 + design_classrooms / classrooms)
        return dataclasses.replace(self, mc_se=self.mc_se * factor)

    def with_observed(self, observed: Mapping[str, float]) -> RowLikelihood:
        """Return a copy with other observed values (synthetic data).

        A row with a value (or range) takes the observed value as its centre; a row with a
        direction takes the observed value's side of its bound as its direction.
        """
        c, sign = self.center.copy(), self.sign.copy()
        for k, r in enumerate(self.rows):
            if r not in observed:
                continue
            if np.isnan(c[k]):
                sign[k] = 1.0 if float(observed[r]) > self.bound[k] else -1.0
            else:
                c[k] = float(observed[r])
        return dataclasses.replace(self, center=c, sign=sign)

    def subset(self, keep: Sequence[str]) -> RowLikelihood:
        """Return the likelihood of some of the rows."""
        idx = [self.rows.index(r) for r in keep]
        return RowLikelihood(
            [self.rows[i] for i in idx], self.center[idx], self.scale[idx],
            self.bound[idx], self.sign[idx], self.mc_se[idx],
            None if self.mc_corr is None else self.mc_corr[np.ix_(idx, idx)],
        )  # fmt: skip

    def __call__(self, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
        """Log-likelihood of each particle from predictive means and SDs ``(n, rows)``."""
        from scipy.special import log_ndtr

        extra = sd**2 + self.mc_se**2
        val = ~np.isnan(self.center)
        out = np.zeros(mean.shape[0])
        corr = None if self.mc_corr is None else self.mc_corr[np.ix_(val, val)]
        if val.any() and (corr is None or np.array_equal(corr, np.eye(len(corr)))):
            v = self.scale[val] ** 2 + extra[:, val]
            z2 = (self.center[val] - mean[:, val]) ** 2 / v
            out += -0.5 * np.sum(z2 + np.log(2 * np.pi * v), axis=1)
        elif val.any():  # correlated Monte Carlo errors: one multivariate normal per particle
            m = self.mc_se[val]
            k = int(val.sum())
            cov = np.repeat((m[:, None] * corr * m[None, :])[None], len(mean), axis=0)
            diag = np.arange(k)
            cov[:, diag, diag] += self.scale[val] ** 2 + sd[:, val] ** 2
            chol = np.linalg.cholesky(cov)
            resid = (self.center[val] - mean[:, val])[..., None]
            z = np.linalg.solve(chol, resid)[..., 0]
            logdet = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
            out += -0.5 * (np.sum(z**2, axis=1) + logdet + k * np.log(2 * np.pi))
        dirn = ~val
        if dirn.any():
            v = DIRECTION_SD**2 + extra[:, dirn]
            z = self.sign[dirn] * (mean[:, dirn] - self.bound[dirn]) / np.sqrt(v)
            out += np.sum(log_ndtr(z), axis=1)
        return out


# --- tempered SMC ----------------------------------------------------------------------------


@dataclass
class SMCResult:
    r"""A tempered SMC run: particles (equal weights at the end) and its stages.

    Attributes
    ----------
    particles : numpy.ndarray (n, d)
    stages : pandas.DataFrame
        Per stage: ``t, beta, temperature`` (:math:`1/\beta`), ``ess`` (before resampling),
        ``acceptance`` (of the Metropolis moves), ``moves``, ``samples`` (likelihood
        evaluations).
    """

    particles: np.ndarray
    stages: pd.DataFrame

    @property
    def reached_1(self) -> bool:
        """Whether the last temperature is 1 (the particles sample the posterior)."""
        return bool(len(self.stages) and self.stages["beta"].iloc[-1] == 1.0)


def _systematic(w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    c = np.cumsum(w / w.sum())
    u = (rng.random() + np.arange(len(w))) / len(w)
    return np.minimum(np.searchsorted(c, u), len(w) - 1)


def smc_tempering(
    loglik: Callable[[np.ndarray], np.ndarray],
    low: np.ndarray,
    high: np.ndarray,
    *,
    particles: int = 2000,
    seed: int = 0,
    ess_fraction: float = 0.5,
    min_moves: int = 4,
    max_moves: int = 40,
    max_stages: int = 200,
) -> SMCResult:
    r"""Sample :math:`\pi(\theta) \propto U(\text{box}) L(\theta)` by SMC with adaptive tempering.

    Stage :math:`j` reweights the particles by :math:`L^{\beta_{j} - \beta_{j-1}}`, with
    :math:`\beta_j` the largest value at which the effective sample size
    :math:`(\sum w)^2/\sum w^2` stays at ``ess_fraction`` of the particles (bisection; 1 if it
    can), resamples them (systematic) and moves each by random-walk Metropolis steps
    targeting :math:`U\,L^{\beta_j}` (proposal :math:`N(0, (2.38^2/d)\,\hat\Sigma)`, the
    particles' covariance; proposals outside the box are rejected) until the accepted moves
    add up to ``min_moves`` per particle (at most ``max_moves`` steps). It stops at
    :math:`\beta = 1`, where the particles, equally weighted, sample the posterior.

    Parameters
    ----------
    loglik : callable
        ``loglik(theta (n, d)) -> (n,)`` log-likelihoods (vectorised).
    low, high : array (d,)
        The uniform prior's box.
    particles, seed : int
    ess_fraction : float
    min_moves, max_moves, max_stages : int

    Returns
    -------
    SMCResult

    Examples
    --------
    A normal likelihood inside a wide box gives the normal posterior:

    >>> res = smc_tempering(lambda t: -0.5 * ((t[:, 0] - 1.0) / 0.1) ** 2, np.array([-5.0]),
    ...                     np.array([5.0]), particles=1000, seed=1)
    >>> round(float(res.particles.mean()), 1), round(float(res.particles.std()), 2), res.reached_1
    (1.0, 0.1, True)
    """
    rng = np.random.default_rng(seed)
    low, high = np.asarray(low, float), np.asarray(high, float)
    d = len(low)
    x = low + (high - low) * rng.random((particles, d))
    ll = loglik(x)
    if np.isnan(ll).any() or not np.isfinite(ll).any():
        raise ValueError(
            "smc_tempering: the log-likelihood is NaN, or -inf at every prior draw; check the "
            "rows' values and SDs."
        )
    samples = particles
    beta, rows = 0.0, []
    for t in range(1, max_stages + 1):
        finite = np.where(np.isfinite(ll), ll, -np.inf)

        def ess(b: float, finite: np.ndarray = finite, beta: float = beta) -> float:
            lw = (b - beta) * finite
            w = np.exp(lw - lw.max())
            return float(w.sum() ** 2 / np.sum(w**2))

        if ess(1.0) >= ess_fraction * particles:
            nb = 1.0
        else:
            lo_b, hi_b = beta, 1.0
            for _ in range(60):
                mid = 0.5 * (lo_b + hi_b)
                if ess(mid) >= ess_fraction * particles:
                    lo_b = mid
                else:
                    hi_b = mid
            nb = max(lo_b, beta + 1e-12)
        lw = (nb - beta) * finite
        w = np.exp(lw - lw.max())
        stage_ess = float(w.sum() ** 2 / np.sum(w**2))
        idx = _systematic(w, rng)
        x, ll = x[idx], ll[idx]
        beta = nb
        cov = np.atleast_2d(np.cov(x, rowvar=False)) + 1e-12 * np.eye(d)
        chol = np.linalg.cholesky((2.38**2 / d) * cov)
        accepted, steps = 0.0, 0
        while steps < max_moves and (steps < 1 or accepted < min_moves):
            prop = x + rng.standard_normal((particles, d)) @ chol.T
            inside = np.all((prop >= low) & (prop <= high), axis=1)
            llp = np.full(particles, -np.inf)
            if inside.any():
                llp[inside] = loglik(prop[inside])
                samples += int(inside.sum())
            ok = np.log(rng.random(particles)) < beta * (llp - ll)
            ok &= inside
            x[ok], ll[ok] = prop[ok], llp[ok]
            accepted += float(ok.mean())
            steps += 1
        rows.append(
            {
                "t": t,
                "beta": beta,
                "temperature": 1.0 / beta,
                "ess": stage_ess,
                "acceptance": accepted / steps,
                "moves": steps,
                "samples": samples,
            }
        )
        samples = 0
        if beta >= 1.0:
            break
    return SMCResult(x, pd.DataFrame(rows))


def emulator_loglik(
    emulator: Emulator, likelihood: RowLikelihood
) -> Callable[[np.ndarray], np.ndarray]:
    r"""Return :math:`\theta \mapsto \log L(\theta)` of the likelihood's rows on an emulator.

    The log-likelihood of the module docstring with each row's :math:`\mu_k(\theta),
    \sigma_k(\theta)` from ``emulator``; the rows of ``likelihood`` are looked up among the
    emulator's by id, so an emulator of more rows serves.

    Parameters
    ----------
    emulator : Emulator
        E.g. a fitted :class:`GPEmulator`.
    likelihood : RowLikelihood
        The rows fitted (a subset of ``emulator.rows``), with their observed values.

    Returns
    -------
    callable
        ``loglik(theta (n, d)) -> (n,)``, vectorised, as :func:`smc_tempering` takes it.
    """
    missing = [r for r in likelihood.rows if r not in emulator.rows]
    if missing:
        raise ValueError(f"emulator_loglik: the emulator has no row(s) {missing}.")
    idx = [emulator.rows.index(r) for r in likelihood.rows]
    source = emulator if idx == list(range(len(emulator.rows))) else _Subset(emulator, idx)

    def loglik(theta: np.ndarray) -> np.ndarray:
        return likelihood(*source.predict(theta))

    return loglik


def emulator_posterior(
    emulator: Emulator,
    likelihood: RowLikelihood,
    priors: pd.DataFrame,
    *,
    observed: Mapping[str, float] | None = None,
    particles: int = 2000,
    seed: int = 0,
) -> SMCResult:
    r"""Sample the posterior of fitted rows on a fitted emulator by tempered SMC.

    :func:`smc_tempering` of :func:`emulator_loglik` under the uniform priors: the posterior
    that :func:`calibrate_emulator` samples, here for any observed values without running the
    model again (the design and the emulator do not depend on the data). Simulation-based
    calibration (Talts et al. 2018) draws it for many synthetic data sets from one emulator.

    Parameters
    ----------
    emulator : Emulator
        E.g. a fitted :class:`GPEmulator`.
    likelihood : RowLikelihood
        The rows fitted (a subset of ``emulator.rows``).
    priors : pandas.DataFrame
        ``low, high`` per parameter, in the emulator's order (:func:`emulator_priors`).
    observed : mapping, optional
        Row id -> value replacing the likelihood's (:meth:`RowLikelihood.with_observed`).
    particles, seed : int
        Of :func:`smc_tempering`.

    Returns
    -------
    SMCResult
        Equally weighted particles (columns in the order of ``priors``) and the stages.

    Examples
    --------
    >>> class Line:  # a stand-in emulator: one row, mean = the parameter, exact
    ...     rows = ["r"]
    ...     def predict(self, theta):
    ...         return theta[:, :1], np.zeros((len(theta), 1))
    >>> table = pd.DataFrame({"value": [0.3], "sd": [0.05], "low": [np.nan], "high": [np.nan]},
    ...                      index=["r"])
    >>> lik = RowLikelihood.from_table(table, ["r"])
    >>> priors = pd.DataFrame({"low": [0.0], "high": [1.0]}, index=["x"])
    >>> res = emulator_posterior(Line(), lik, priors, observed={"r": 0.6}, particles=500)
    >>> round(float(res.particles.mean()), 1), res.reached_1
    (0.6, True)
    """
    lik = likelihood.with_observed(observed) if observed is not None else likelihood
    lo, hi = priors["low"].to_numpy(float), priors["high"].to_numpy(float)
    return smc_tempering(emulator_loglik(emulator, lik), lo, hi, particles=particles, seed=seed)


# --- the calibration -------------------------------------------------------------------------


def row_information(
    emulator: Emulator,
    likelihood: RowLikelihood,
    posterior: np.ndarray,
    priors: pd.DataFrame,
    *,
    draws: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    r"""How strongly each row informs each parameter: the row's sensitivity in its own SDs.

    For row :math:`k` and parameter :math:`j`,
    :math:`I_{kj} = \mathrm{E}_\text{post}\,|\partial \mu_k/\partial \theta_j|\,w_j /
    \sqrt{s_k^2 + \sigma_k^2 + \overline{se}_k^2}`, with :math:`w_j` the prior's width: how
    many of the row's standard deviations its model value moves as the parameter crosses its
    prior (central differences of the emulator's mean at posterior draws). A row with
    :math:`I_{kj} \ge 1` can tell the parameter's values apart; one far below 1 cannot.

    Returns
    -------
    pandas.DataFrame
        Rows by parameters.
    """
    rng = np.random.default_rng(seed)
    pts = posterior[rng.choice(len(posterior), size=min(draws, len(posterior)), replace=False)]
    width = (priors["high"] - priors["low"]).to_numpy()
    _, sd0 = emulator.predict(pts)
    scale = np.where(np.isnan(likelihood.scale), DIRECTION_SD, likelihood.scale)
    denom = np.sqrt(scale**2 + sd0**2 + likelihood.mc_se**2)
    out = np.empty((len(likelihood.rows), len(width)))
    for j in range(len(width)):
        h = 0.02 * width[j]
        up, dn = pts.copy(), pts.copy()
        up[:, j] = np.minimum(up[:, j] + h, priors["high"].iloc[j])
        dn[:, j] = np.maximum(dn[:, j] - h, priors["low"].iloc[j])
        mu, _ = emulator.predict(up)
        md, _ = emulator.predict(dn)
        grad = (mu - md) / (up[:, j] - dn[:, j])[:, None]
        out[:, j] = np.mean(np.abs(grad) * width[j] / denom, axis=0)
    return pd.DataFrame(out, index=likelihood.rows, columns=list(priors.index))


def calibrate_emulator(
    config: EmulatorConfig | None = None,
    folder: str | Path = "runs/calibration-emulator",
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    table: pd.DataFrame | None = None,
    mappings: Mapping[str, Any] | None = None,
    observed: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Calibrate parameters on rows of the trial record through a GP emulator of the model.

    Runs the model on the design (resumable: ``design.csv`` keeps every finished point),
    fits the emulator (:class:`GPEmulator`) and checks it on the held-out design points,
    samples the posterior by tempered SMC on the emulator (:func:`smc_tempering`), and
    writes into ``folder``: ``config.json``, ``design.csv``, ``check.csv`` (the check
    points), ``emulator_check.csv`` (per row: RMSE of the emulator on the check points in
    the row's SDs and the share of check values inside its 90% interval), ``posterior.csv``
    (parameter columns and ``weight``, as :func:`toolkit.calibration.abc.load_posterior`
    reads), ``posterior_summary.csv``, ``populations.csv`` (the SMC's stages, temperature
    reaching 1), ``information.csv`` (:func:`row_information`), ``predictions.csv`` (every
    emulated row's posterior-predictive median and 90% interval) and ``manifest.json``.

    Parameters
    ----------
    config : EmulatorConfig, optional
        Default :func:`load_emulator_config`.
    folder : path
    resume : bool
        Continue a run in ``folder`` (same settings): finished design points are kept.
    overwrite : bool
        Replace a run in ``folder``.
    progress : bool
        Progress on standard error (always in ``progress.log``).
    table : pandas.DataFrame, optional
        The rows (default: the targets file with the trial record,
        :func:`toolkit.calibration.evidence.load_rows`).
    mappings : mapping, optional
        Mappings of the trial-record rows (default: the package's).
    observed : mapping, optional
        Values of the fitted rows instead of the published ones (synthetic data).

    Returns
    -------
    dict
        ``posterior`` (DataFrame), ``summary``, ``stages``, ``emulator``, ``likelihood``,
        ``information``, ``predictions``, ``check``, ``seconds``, ``folder``.
    """
    from toolkit.calibration.abc import posterior_summary

    config = config or load_emulator_config()
    folder = Path(folder)
    if table is None:
        from toolkit.calibration.evidence import load_rows

        table, maps = load_rows()
        mappings = mappings or maps
    record = config.to_dict() | {"method": "emulator"}
    if observed is not None:
        record["observed"] = {k: float(v) for k, v in observed.items()}
    cfg_path = folder / "config.json"
    if overwrite and resume:
        raise ValueError("Choose either overwrite or resume, not both.")
    if folder.exists() and any(folder.iterdir()):
        old = json.loads(cfg_path.read_text()) if cfg_path.is_file() else None
        if resume:
            free = ("workers", "particles")
            if old is None or {k: v for k, v in old.items() if k not in free} != {
                k: v for k, v in json.loads(json.dumps(record)).items() if k not in free
            }:
                raise ValueError(
                    f"{folder}: cannot resume, the calibration there was set up differently "
                    f"(see {cfg_path}); use overwrite or another folder."
                )
        elif overwrite:
            if old is None:
                raise ValueError(f"{folder}: not a calibration run folder; nothing was changed.")
            for p in sorted(folder.rglob("*"), reverse=True):
                p.unlink() if p.is_file() else p.rmdir()
        else:
            raise ValueError(
                f"{folder}: already holds a calibration run; pass resume=True (--resume) to "
                "continue it or overwrite=True (--overwrite) to replace it. Nothing was changed."
            )
    elif resume:
        raise ValueError(f"{folder}: nothing to resume.")
    folder.mkdir(parents=True, exist_ok=True)
    cfg_path.write_text(json.dumps(record, indent=2))
    t0 = time.time()

    def say(msg: str) -> None:
        line = f"[{datetime.now(UTC).isoformat(timespec='seconds')}] {msg}"
        if progress:
            print(line, file=sys.stderr, flush=True)
        with (folder / "progress.log").open("a") as fh:
            fh.write(line + "\n")

    rows = list(config.rows) + list(config.predict)
    missing = [r for r in rows if r not in table.index]
    if missing:
        raise TargetsError(f"emulator calibration: row id(s) {missing} are not in the table.")
    quantities = {r: str(table.loc[r, "quantity"]) for r in rows}
    priors = emulator_priors(config.parameters)
    lo, hi = priors["low"].to_numpy(), priors["high"].to_numpy()
    design = design_points(config.design, priors, config.seed)
    say(
        f"emulator calibration of {list(config.parameters)} on {list(config.rows)}; "
        f"{config.design} design points (+{config.check} to check), {config.classrooms} "
        f"classrooms per arm, {config.workers} worker(s)"
    )
    kw = {"classrooms": config.classrooms, "seed": config.seed, "fixed": config.fixed,
          "workers": config.workers, "mappings": mappings, "progress": say,
          "jackknife": list(config.rows), "jackknife_groups": config.jackknife}  # fmt: skip
    runs = evaluate_design(design, quantities, folder / "design.csv", **kw)
    t_design = time.time() - t0
    values = runs[[f"value:{r}" for r in rows]].set_axis(rows, axis=1)
    ses = runs[[f"se:{r}" for r in rows]].set_axis(rows, axis=1)
    bad = [r for r in rows if not np.isfinite(values[r]).all()]
    if bad:
        raise ValueError(f"emulator calibration: the model gave no value for rows {bad}.")
    X = runs[list(config.parameters)].to_numpy(float)
    check_rows = []
    check_file = folder / "emulator_check.csv"
    if resume and config.check and check_file.is_file() and (folder / "check.csv").is_file():
        say(f"the emulator's check is in {check_file.name} (resumed)")
    elif config.check:
        cpts = design_points(config.check, priors, config.seed + 1)
        cruns = evaluate_design(cpts, quantities, folder / "check.csv", **(kw | {"jackknife": []}))
        em0 = GPEmulator(X, values, ses, lo, hi, seed=config.seed)
        m, s = em0.predict(cpts.to_numpy(float))
        for k, r in enumerate(rows):
            y = cruns[f"value:{r}"].to_numpy(float)
            sek = cruns[f"se:{r}"].to_numpy(float)
            tot = np.sqrt(s[:, k] ** 2)
            scale = target_scale(table.loc[r])[1] if _has_scale(table.loc[r]) else DIRECTION_SD
            z = (y - m[:, k]) / np.maximum(tot, 1e-12)
            check_rows.append(
                {
                    "row": r,
                    "fitted": r in config.rows,
                    "rmse": float(np.sqrt(np.mean((y - m[:, k]) ** 2))),
                    "rmse_in_row_sd": float(np.sqrt(np.mean((y - m[:, k]) ** 2)) / scale),
                    "mean_emulator_sd": float(np.mean(s[:, k])),
                    "mean_mc_se": float(np.mean(sek)),
                    "covered_90": float(np.mean(np.abs(z) <= 1.645)),
                    "range_over_design": float(values[r].max() - values[r].min()),
                }
            )
    if check_rows or not check_file.is_file():
        pd.DataFrame(check_rows).to_csv(check_file, index=False)
    check = pd.read_csv(check_file) if config.check else pd.DataFrame()
    say("fitting the emulator")
    fit_idx = [rows.index(r) for r in config.rows]
    fit_corr = mc_correlation(runs, list(config.rows))
    mc_corr = np.eye(len(rows))  # the fitted rows' errors correlated; the others not used
    mc_corr[np.ix_(fit_idx, fit_idx)] = fit_corr
    emulator = GPEmulator(X, values, ses, lo, hi, seed=config.seed, mc_corr=mc_corr)
    lik = RowLikelihood.from_table(table, config.rows, emulator.mc_se[fit_idx], fit_corr)
    if observed is not None:
        lik = lik.with_observed(observed)

    say(f"tempered SMC on the emulator, {config.particles} particles")
    res = emulator_posterior(emulator, lik, priors, particles=config.particles, seed=config.seed)
    post = pd.DataFrame(res.particles, columns=list(config.parameters))
    post["weight"] = 1.0 / len(post)
    summary = posterior_summary(post, config.parameters)
    summary[["prior_low", "prior_high"]] = priors[["low", "high"]].to_numpy()
    post.to_csv(folder / "posterior.csv", index=False)
    summary.to_csv(folder / "posterior_summary.csv")
    res.stages.to_csv(folder / "populations.csv", index=False)
    fit_em = _Subset(emulator, fit_idx)
    info = row_information(fit_em, lik, res.particles, priors, seed=config.seed)
    info.to_csv(folder / "information.csv")
    with (folder / "emulator.pkl").open("wb") as fh:  # for cross-validation without refitting
        pickle.dump({"emulator": emulator, "likelihood": lik, "table": table}, fh)
    preds = emulated_predictions(emulator, res.particles, table, seed=config.seed)
    preds.insert(1, "fitted", preds["row"].isin(config.rows))
    preds.to_csv(folder / "predictions.csv", index=False)
    say("leave-one-out predictions of the rows (tempered SMC without each fitted row)")
    cv = _cross_validation(emulator, lik, table, config, res.particles)
    cv.to_csv(folder / "crossval.csv", index=False)
    say(f"cross-validation: {cv.attrs['coverage']:.0%} of {len(cv)} rows inside their 90% "
        "predictive intervals")  # fmt: skip
    seconds = time.time() - t0
    from toolkit.study.runner import provenance

    manifest = {
        "config": record,
        "status": "complete",
        "method": "emulator (Gaussian process) + tempered SMC",
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "generations": len(res.stages),
        "evaluations": int(res.stages["samples"].sum()),
        "model_runs": config.design + config.check,
        "temperature_reached_1": res.reached_1,
        "ess": float(len(post)),
        "seconds": round(seconds, 1),
        "seconds_design": round(t_design, 1),
        "kernels": emulator.kernels(),
        "priors": priors.reset_index().to_dict(orient="records"),
        "reproducible": True,
    } | provenance()
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    say(f"done in {seconds:.0f} s (design {t_design:.0f} s)")
    return {
        "folder": folder,
        "posterior": post,
        "summary": summary,
        "stages": res.stages,
        "emulator": emulator,
        "likelihood": lik,
        "information": info,
        "predictions": preds,
        "crossval": cv,
        "check": check,
        "seconds": seconds,
    }


def _has_scale(row: pd.Series) -> bool:
    try:
        target_scale(row)
    except TargetsError:
        return False
    return True


@dataclass
class _Subset:
    """An emulator restricted to some of its rows."""

    emulator: Emulator
    idx: list[int]

    @property
    def rows(self) -> list[str]:
        return [self.emulator.rows[i] for i in self.idx]

    @property
    def mc_se(self) -> np.ndarray:
        return np.asarray(self.emulator.mc_se)[self.idx]

    def predict(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.emulator.predict(theta, self.idx)


def emulated_predictions(
    emulator: Emulator,
    particles: np.ndarray,
    table: pd.DataFrame,
    *,
    level: float = 0.9,
    draws: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Posterior-predictive intervals of every emulated row, with verdicts and flags.

    A draw is :math:`\mu_k(\theta) + \sqrt{\sigma_k^2(\theta) + \overline{se}_k^2}\,\xi +
    s_k\,\eta` (:math:`\theta` a posterior particle, :math:`\xi, \eta` standard normal): the
    model's value with the emulator's and the classrooms' errors, plus the row's own
    measurement error, so its central ``level`` interval covers the published value in a share
    ``level`` of rows when model and error model are right (as
    :func:`toolkit.calibration.crossval.cross_validate`). A direction-only row is judged by
    whether the model's value (without measurement error) lies beyond its bound in at least
    half of the draws.

    Returns
    -------
    pandas.DataFrame
        ``row, published, sd, model_median, model_low, model_high, pred_low, pred_high, pit,
        covered, flag``.
    """
    rng = np.random.default_rng(seed)
    pts = particles[rng.choice(len(particles), size=draws, replace=True)]
    mean, sd = emulator.predict(pts)
    mc = getattr(emulator, "mc_se", np.zeros(len(emulator.rows)))
    q = ((1 - level) / 2, 0.5, (1 + level) / 2)
    out = []
    for k, r in enumerate(emulator.rows):
        row = table.loc[r]
        model = mean[:, k] + np.sqrt(sd[:, k] ** 2 + mc[k] ** 2) * rng.standard_normal(draws)
        lo_m, med, hi_m = np.quantile(model, q)
        rec: dict[str, Any] = {"row": r, "model_median": med, "model_low": lo_m,
                               "model_high": hi_m}  # fmt: skip
        if _has_scale(row):
            v, s = target_scale(row)
            pred = model + s * rng.standard_normal(draws)
            plo, phi = np.quantile(pred, [q[0], q[2]])
            covered = bool(plo <= v <= phi)
            flag = "" if covered else f"outside the {level:.0%} predictive interval"
            rec |= {"published": v, "sd": s, "pred_low": plo, "pred_high": phi,
                    "pit": float(np.mean(pred < v)), "covered": covered, "flag": flag}  # fmt: skip
        else:
            lo, hi = float(row["low"]), float(row["high"])
            share = float(np.mean(model > lo)) if not math.isnan(lo) else float(np.mean(model < hi))
            ok = share >= 0.5
            flag = "" if ok else f"direction: only {share:.0%} of draws beyond the bound"
            rec |= {"published": lo if not math.isnan(lo) else hi, "sd": math.nan,
                    "pred_low": math.nan, "pred_high": math.nan, "pit": math.nan,
                    "covered": ok, "flag": flag}  # fmt: skip
        out.append(rec)
    cols = ["row", "published", "sd", "model_median", "model_low", "model_high", "pred_low",
            "pred_high", "pit", "covered", "flag"]  # fmt: skip
    return pd.DataFrame(out)[cols]


def load_emulator(folder: str | Path) -> dict[str, Any]:
    """Read a finished emulator calibration: its emulator, likelihood, rows table and config.

    ``emulator.pkl`` is written by :func:`calibrate_emulator` (a pickle: read only run folders
    you made yourself).

    Returns
    -------
    dict
        ``emulator``, ``likelihood`` (of the fitted rows), ``table``, ``config``
        (:class:`EmulatorConfig`), ``posterior`` (DataFrame).
    """
    from toolkit.calibration.abc import load_posterior

    folder = Path(folder)
    path = folder / "emulator.pkl"
    if not path.is_file():
        raise ValueError(f"{folder}: no emulator.pkl (not a finished emulator calibration).")
    with path.open("rb") as fh:
        data = pickle.load(fh)
    cfg = json.loads((folder / "config.json").read_text())
    keys = {k: v for k, v in cfg.items() if k in EmulatorConfig.__dataclass_fields__}
    data["config"] = EmulatorConfig(**keys)
    data["posterior"] = load_posterior(folder)
    return data


def emulator_cross_validation(
    folder: str | Path, *, level: float = 0.9, particles: int | None = None, seed: int = 0
) -> pd.DataFrame:
    r"""Leave-one-out predictions of every row with an interval, from an emulator calibration.

    Each fitted row is predicted from the posterior of the other fitted rows (tempered SMC on
    the same emulator, refitted without the row); each held-out row, never fitted, from the
    full posterior. The prediction is :math:`\mu_k(\theta) + \sqrt{\sigma_k^2 +
    \overline{se}_k^2}\,\xi` over posterior draws, to which
    :func:`toolkit.calibration.crossval.cross_validate` adds the row's own error; rows that
    publish only a direction have no interval and are left out (``predictions.csv`` judges
    them).

    Parameters
    ----------
    folder : path
        A finished :func:`calibrate_emulator` run.
    level : float
        Central interval of the predictions.
    particles : int, optional
        Particles of each refit (default: the run's).
    seed : int

    Returns
    -------
    pandas.DataFrame
        :func:`~toolkit.calibration.crossval.cross_validate`'s table (``id, fold, published,
        sd, pred_median, pred_low, pred_high, pit, z, covered, flag``) with ``fitted`` (was
        the row in the calibration); ``attrs["coverage"]``.
    """
    run = load_emulator(folder)
    return _cross_validation(
        run["emulator"], run["likelihood"], run["table"], run["config"],
        run["posterior"][list(run["config"].parameters)].to_numpy(float),
        level=level, particles=particles, seed=seed,
    )  # fmt: skip


def _cross_validation(
    em: GPEmulator,
    lik: RowLikelihood,
    table: pd.DataFrame,
    cfg: EmulatorConfig,
    full: np.ndarray,
    *,
    level: float = 0.9,
    particles: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Do the work of :func:`emulator_cross_validation` on a fitted emulator and posterior."""
    from toolkit.calibration.crossval import coverage, cross_validate

    rows = [r for r in em.rows if _has_scale(table.loc[r])]
    priors = emulator_priors(cfg.parameters)
    lo, hi = priors["low"].to_numpy(), priors["high"].to_numpy()
    fit_idx = {r: em.rows.index(r) for r in lik.rows}
    n = particles or cfg.particles

    def fit(train: pd.DataFrame) -> np.ndarray:
        keep = [r for r in lik.rows if r in train.index or r not in rows]
        if len(keep) == len(lik.rows):
            return full
        sub = lik.subset(keep)
        idx = [fit_idx[r] for r in keep]

        def loglik(theta: np.ndarray) -> np.ndarray:
            return sub(*em.predict(theta, idx))

        return smc_tempering(loglik, lo, hi, particles=n, seed=seed).particles

    rng = np.random.default_rng(seed)

    def predict(post: np.ndarray, row: pd.Series) -> np.ndarray:
        k = em.rows.index(row.name)
        pts = post[rng.choice(len(post), size=2000, replace=True)]
        m, s = em.predict(pts, [k])
        mc = float(getattr(em, "mc_se", np.zeros(len(em.rows)))[k])
        return m[:, 0] + np.sqrt(s[:, 0] ** 2 + mc**2) * rng.standard_normal(len(pts))

    cv = cross_validate(table.loc[rows], fit, predict, level=level, seed=seed)
    cv.insert(1, "fitted", cv["id"].isin(lik.rows))
    cv.attrs["coverage"] = coverage(cv)
    cv.attrs["level"] = level
    return cv
