r"""Out-of-sample checks of a calibration: leave-one-out (or k-fold) predictions of its rows.

A row the calibration was fitted to says little about the model's predictions; a row it never
saw says more. :func:`cross_validate` refits the calibration without each row (or each fold of
rows) and predicts the rows left out: the prediction of a published value :math:`v_k` with
uncertainty :math:`s_k` is the posterior predictive distribution of
:math:`m_k(\theta) + \varepsilon_k`, :math:`\theta` drawn from the posterior fitted without
row :math:`k` and :math:`\varepsilon_k \sim N(0, s_k^2)`, the calibration's own error model
(:mod:`toolkit.calibration.abc`). Its central interval at ``level`` covers :math:`v_k` in a
share ``level`` of the rows when the model and the error model are right, so the coverage over
all rows is a check of both (Gelman, Meng & Stern 1996; Vehtari, Gelman & Gabry 2017); the PIT
value (the predictive CDF at :math:`v_k`) is uniform then.

The machinery is independent of how a posterior is obtained: ``fit`` maps a table of training
rows to a posterior (ABC-SMC in practice, an exact conjugate posterior in the tests) and
``predict`` maps a posterior and a row to draws of the model's value :math:`m_k(\theta)`
(for ABC: :func:`predictive_draws`).

References
----------
.. [1] Gelman, A., Meng, X.-L., & Stern, H. (1996). Posterior predictive assessment of model
   fitness via realized discrepancies. *Statistica Sinica*, 6(4), 733-760.
.. [2] Vehtari, A., Gelman, A., & Gabry, J. (2017). Practical Bayesian model evaluation using
   leave-one-out cross-validation and WAIC. *Statistics and Computing*, 27(5), 1413-1432.
   https://doi.org/10.1007/s11222-016-9696-4
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit.calibration.targets import target_scale

__all__ = ["coverage", "cross_validate", "predictive_draws"]


def cross_validate(
    rows: pd.DataFrame,
    fit: Callable[[pd.DataFrame], Any],
    predict: Callable[[Any, pd.Series], np.ndarray],
    *,
    folds: int | None = None,
    held_out: Sequence[str] | None = None,
    level: float = 0.9,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Predict each row from a calibration that did not see it.

    Parameters
    ----------
    rows : pandas.DataFrame
        Rows with ``value`` and ``sd`` (or a two-sided range, read as in
        :func:`~toolkit.calibration.targets.target_scale`), indexed by id: the calibration's
        rows.
    fit : callable
        ``fit(training_rows) -> posterior``.
    predict : callable
        ``predict(posterior, row) -> array`` of draws of the model's value for the row.
    folds : int, optional
        ``None`` (default): leave one out. Otherwise the rows are split at random (``seed``)
        into ``folds`` groups of nearly equal size, each left out once.
    held_out : sequence of str, optional
        Rows predicted (default: every row). Only folds containing one of them are refitted.
    level : float
        Central interval of the predictions.
    seed : int
        Seeds the folds and the observation-error draws.

    Returns
    -------
    pandas.DataFrame
        One row per predicted id: ``id, fold, published, sd, pred_median, pred_low,
        pred_high, pit, z, covered`` and ``flag`` (empty when covered). ``pred_*`` are
        quantiles of :math:`m_k(\theta) + \varepsilon_k`; ``pit`` is the share of those draws
        below the published value; ``z`` is the published value's distance from the
        predictive mean in predictive SDs. ``attrs["coverage"]`` is the share covered and
        ``attrs["level"]`` the level.

    Examples
    --------
    A one-parameter linear model with an exact posterior (see the tests for coverage):

    >>> rows = pd.DataFrame({"value": [1.0, 1.2, 0.9], "sd": [0.2, 0.2, 0.2]}, index=list("abc"))
    >>> def fit(train):  # theta ~ N(0, 10^2); value = theta + N(0, sd^2)
    ...     prec = 1 / 100 + (1 / train["sd"] ** 2).sum()
    ...     return (train["value"] / train["sd"] ** 2).sum() / prec, prec**-0.5
    >>> def predict(post, row):
    ...     return np.random.default_rng(1).normal(post[0], post[1], 4000)
    >>> cv = cross_validate(rows, fit, predict)
    >>> cv["covered"].tolist(), cv.attrs["coverage"]
    ([True, True, True], 1.0)
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}.")
    ids = list(rows.index)
    if len(ids) < 2:
        raise ValueError("cross-validation needs at least two rows.")
    if folds is None:
        groups = [[i] for i in ids]
    else:
        if isinstance(folds, bool) or not isinstance(folds, int) or not 2 <= folds <= len(ids):
            raise ValueError(f"folds must be a whole number in [2, {len(ids)}], got {folds!r}.")
        order = np.random.default_rng(seed).permutation(len(ids))
        groups = [[ids[j] for j in order[k::folds]] for k in range(folds)]
    wanted = set(ids if held_out is None else held_out)
    unknown = sorted(wanted - set(ids))
    if unknown:
        raise KeyError(f"held_out rows {unknown} are not among the rows.")
    rng = np.random.default_rng(seed + 1)
    q = ((1 - level) / 2, (1 + level) / 2)
    out = []
    for k, group in enumerate(groups):
        test = [i for i in group if i in wanted]
        if not test:
            continue
        post = fit(rows.drop(index=group))
        for rid in test:
            row = rows.loc[rid]
            value, sd = target_scale(row)
            draws = np.asarray(predict(post, row), dtype=float)
            if draws.ndim != 1 or len(draws) < 2 or not np.isfinite(draws).all():
                raise ValueError(f"row {rid!r}: predict must return at least two finite draws.")
            pred = draws + sd * rng.standard_normal(len(draws))
            lo, med, hi = np.quantile(pred, [q[0], 0.5, q[1]])
            covered = bool(lo <= value <= hi)
            out.append(
                {
                    "id": rid,
                    "fold": k,
                    "published": value,
                    "sd": sd,
                    "pred_median": float(med),
                    "pred_low": float(lo),
                    "pred_high": float(hi),
                    "pit": float(np.mean(pred < value)),
                    "z": float((value - pred.mean()) / pred.std(ddof=1)),
                    "covered": covered,
                    "flag": "" if covered else f"outside the {level:.0%} predictive interval",
                }
            )
    table = pd.DataFrame(out)
    table.attrs["coverage"] = coverage(table)
    table.attrs["level"] = level
    return table


def coverage(table: pd.DataFrame) -> float:
    """Share of rows whose published value lies in its predictive interval.

    Examples
    --------
    >>> coverage(pd.DataFrame({"covered": [True, False, True, True]}))
    0.75
    """
    return float(table["covered"].mean()) if len(table) else math.nan


def predictive_draws(
    posterior: pd.DataFrame,
    quantity: str,
    *,
    draws: int = 20,
    classrooms: int = 100,
    seed: int = 0,
    fixed: Mapping[str, Any] | None = None,
    mappings: Mapping[str, Any] | None = None,
) -> np.ndarray:
    r"""Draws of a model quantity under a calibration's posterior (the ``predict`` of ABC).

    Each posterior draw :math:`\theta_d` (systematic resampling of the weighted particles)
    runs ``classrooms`` classrooms on the same seed; its value :math:`v_d` and Monte Carlo SE
    :math:`se_d` give the draw :math:`v_d + se_d\,\xi_d`, :math:`\xi_d \sim N(0, 1)`, so the
    draws carry parameter uncertainty and classroom sampling.

    Parameters
    ----------
    posterior : pandas.DataFrame
        Parameter columns and ``weight`` (:func:`toolkit.calibration.abc.load_posterior`).
    quantity : str
        A registered quantity or ``contrast:<id>`` / ``correlation:<id>``.
    draws, classrooms, seed : int
    fixed : mapping, optional
        Model parameters held at other values than the defaults.
    mappings : mapping, optional
        Mappings of trial-record quantities (default: the package's).

    Returns
    -------
    numpy.ndarray
        ``draws`` values.
    """
    from toolkit.calibration.abc import sample_posterior
    from toolkit.calibration.quantities import Simulations, compute
    from toolkit.model.params import Parameters

    sample = sample_posterior(posterior, draws, seed)
    rng = np.random.default_rng(seed)
    out = []
    for _, row in sample.iterrows():
        params = Parameters.from_mapping(dict(fixed or {}) | row.to_dict(), source="posterior draw")
        est = compute([quantity], sims=Simulations(params, classrooms, seed), mappings=mappings)
        out.append(float(est["value"].iloc[0]) + float(est["se"].iloc[0]) * rng.standard_normal())
    return np.asarray(out)
