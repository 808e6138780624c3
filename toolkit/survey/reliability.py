r"""Reliability of questionnaire scales, with the numbers R's psych package prints.

* :func:`cronbach_alpha` -- the full ``psych::alpha`` table: raw and standardised alpha,
  Guttman's lambda 6, average inter-item correlation, signal/noise, the Duhachek standard error,
  alpha and item-total correlations if each item is dropped, response frequencies.
* :func:`score_items` -- ``psych::scoreItems``: scale scores for several scales at once (item
  means or sums, reverse-keyed items flipped, missing responses imputed by the item median)
  with each scale's alpha, G6, average r and the disattenuated scale correlations.
* :func:`omega` -- ``psych::omega``: McDonald's omega hierarchical and total from a
  Schmid-Leiman transformation of a minres factor analysis with an oblimin rotation.

Conventions (all as in psych): correlations and covariances use pairwise-complete
observations; a reverse-keyed item is flipped as ``max + min - x`` with the maximum and the
minimum taken over *all* items of the call; item names keep no sign, the direction of each
item is in ``keys`` (+1 or -1). Items may be given psych-style with a leading minus
(``["-A1", "A2", ...]``) or through ``reverse=``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.multivariate.factor_rotation import rotate_factors

from toolkit._base.checks import (
    check_choice,
    check_columns,
    check_frame,
    check_level,
    numeric_block,
)
from toolkit.survey._screen import check_footer, screen_codes

__all__ = [
    "AlphaResult",
    "OmegaResult",
    "ScoreItemsResult",
    "cronbach_alpha",
    "omega",
    "parse_keys",
    "score_items",
]

_EPS = np.finfo(float).eps


# ---------------------------------------------------------------------------------------------
# keys
# ---------------------------------------------------------------------------------------------


def parse_keys(
    items: Sequence[str], reverse: Sequence[str] | None = None
) -> tuple[list[str], np.ndarray]:
    """Split psych-style keyed item names into names and +1/-1 keys.

    Parameters
    ----------
    items : sequence of str
        Item names; a leading ``"-"`` marks a reverse-keyed item (``"-A1"``), as in psych's
        keys lists (``psych::bfi.keys``).
    reverse : sequence of str, optional
        Further items to reverse-key (plain names, all of which must be in ``items``).

    Returns
    -------
    names : list of str
        Item names without signs.
    keys : numpy.ndarray
        +1 or -1 for each item.

    Examples
    --------
    >>> parse_keys(["-A1", "A2", "A3"])
    (['A1', 'A2', 'A3'], array([-1.,  1.,  1.]))
    """
    if isinstance(items, str):
        raise TypeError("items must be a list of item names, not a single string.")
    names, keys = [], []
    for it in items:
        if not isinstance(it, str):
            raise TypeError(f"items: item names must be strings, got {it!r}.")
        if it.startswith("-") and len(it) > 1:
            names.append(it[1:])
            keys.append(-1.0)
        else:
            names.append(it.lstrip("+"))
            keys.append(1.0)
    if reverse is not None:
        if isinstance(reverse, str):
            reverse = [reverse]
        unknown = [r for r in reverse if r not in names]
        if unknown:
            raise ValueError(f"reverse: item(s) {unknown} are not among the items {names}.")
        for r in reverse:
            keys[names.index(r)] = -1.0
    return names, np.asarray(keys, dtype=float)


def _items_and_keys(
    data: pd.DataFrame, items: Sequence[str] | None, reverse: Sequence[str] | None
) -> tuple[list[str], np.ndarray]:
    if items is None:
        items = [str(c) for c in data.columns]
    names, keys = parse_keys(items, reverse)
    check_columns(data, names, "items")
    if len(names) < 2:
        raise ValueError(f"items: a scale needs at least two items, got {names}.")
    return names, keys


# ---------------------------------------------------------------------------------------------
# matrix helpers (psych conventions)
# ---------------------------------------------------------------------------------------------


def _pairwise_cov(x: np.ndarray) -> np.ndarray:
    """R's ``cov(x, use = "pairwise")``: each entry from the rows complete for that pair."""
    return pd.DataFrame(x).cov(min_periods=2).to_numpy()


def _pairwise_cor(x: np.ndarray) -> np.ndarray:
    """R's ``cor(x, use = "pairwise")``."""
    return pd.DataFrame(x).corr(min_periods=2).to_numpy()


def _cov2cor(c: np.ndarray) -> np.ndarray:
    d = 1.0 / np.sqrt(np.diag(c))
    return c * np.outer(d, d)


def _smc(r: np.ndarray, covar: bool = False) -> np.ndarray:
    """Squared multiple correlations, ``psych::smc``: 1 - 1/diag(R^+) clipped to [0, 1].

    With ``covar=True`` (covariance input) they are rescaled by the item variances.
    """
    if np.isnan(r).any():
        raise ValueError(
            "The correlation matrix has missing entries (some item pairs were never answered "
            "together); squared multiple correlations cannot be computed."
        )
    vari = np.diag(r).copy()
    rr = _cov2cor(r)
    inv = np.linalg.pinv(rr, rcond=math.sqrt(_EPS), hermitian=True)
    smc = 1.0 - 1.0 / np.diag(inv)
    smc = np.clip(smc, 0.0, 1.0)
    return smc * vari if covar else smc


def _lower(r: np.ndarray) -> np.ndarray:
    return r[np.tril_indices_from(r, k=-1)]


def _alpha_parts(c: np.ndarray, r: np.ndarray) -> dict[str, float]:
    """Compute the ``alpha.1`` helper of ``psych::alpha`` for a (keyed) covariance matrix."""
    n = c.shape[0]
    sum_c, tr_c = c.sum(), np.trace(c)
    sum_r = r.sum()
    av_r = (sum_r - n) / (n * (n - 1))
    low = _lower(r)
    cc = c @ c
    q = (2 * n**2 / ((n - 1) ** 2 * sum_c**3)) * (
        sum_c * (np.trace(cc) + tr_c**2) - 2 * (tr_c * cc.sum())
    )
    return {
        "raw_alpha": (1 - tr_c / sum_c) * (n / (n - 1)),
        "std_alpha": (1 - n / sum_r) * (n / (n - 1)),
        "g6_smc": 1 - (n - _smc(r).sum()) / sum_r,
        "average_r": av_r,
        "s_n": n * av_r / (1 - av_r),
        "q": q,
        "var_r": float(np.var(low, ddof=1)) if low.size > 1 else math.nan,
        "med_r": float(np.median(low)),
    }


def _response_frequencies(x: np.ndarray, names: list[str], max_categories: int) -> pd.DataFrame:
    """``psych::response.frequencies``: share of each response among answers, and missing."""
    n = x.shape[0]
    finite = x[~np.isnan(x)]
    if finite.size == 0:
        return pd.DataFrame(index=pd.Index(names, name="item"))
    span = np.nanmax(x, axis=0) - np.nanmin(x, axis=0)
    values = np.unique(finite)
    if values.size > max_categories or np.all(span > max_categories):
        return pd.DataFrame(index=pd.Index(names, name="item"))
    rows = []
    for j in range(x.shape[1]):
        col = x[:, j]
        answered = col[~np.isnan(col)]
        counts = np.array([(answered == v).sum() for v in values], dtype=float)
        row = counts / answered.size if answered.size else np.full(values.size, np.nan)
        rows.append([*row, 1 - answered.size / n])
    labels = [_value_label(v) for v in values]
    return pd.DataFrame(rows, index=pd.Index(names, name="item"), columns=[*labels, "miss"])


def _value_label(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)


def _first_pc_loadings(r: np.ndarray) -> np.ndarray:
    """Return first-principal-component loadings, signed so that they sum to >= 0."""
    vals, vecs = np.linalg.eigh(r)
    load = vecs[:, -1] * math.sqrt(max(vals[-1], _EPS))
    return -load if load.sum() < 0 else load


# ---------------------------------------------------------------------------------------------
# alpha
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlphaResult:
    """Result of :func:`cronbach_alpha`, laid out like ``psych::alpha``.

    Attributes
    ----------
    total : pandas.DataFrame
        One row: ``raw_alpha``, ``std_alpha``, ``g6_smc``, ``average_r``, ``s_n``, ``ase``,
        ``mean``, ``sd``, ``median_r`` (psych: raw_alpha, std.alpha, G6(smc), average_r, S/N,
        ase, mean, sd, median_r).
    ci : pandas.DataFrame
        Rows ``feldt`` and ``duhachek``; columns ``lower``, ``alpha``, ``upper``.
    alpha_drop : pandas.DataFrame
        One row per item: the statistics of the scale without it (``raw_alpha``,
        ``std_alpha``, ``g6_smc``, ``average_r``, ``s_n``, ``alpha_se``, ``var_r``, ``med_r``).
    item_stats : pandas.DataFrame
        One row per item: ``key`` (+1/-1), ``n``, ``raw_r``, ``std_r``, ``r_cor``, ``r_drop``,
        ``mean``, ``sd`` (means and SDs of the keyed, i.e. reversed, items).
    response_freq : pandas.DataFrame
        Share of each response value among those who answered, and ``miss`` (share missing);
        empty when the items have more than ``max_categories`` distinct values.
    keys : pandas.Series
        +1 or -1 for each item.
    scores : pandas.Series
        Each person's mean (or sum with ``cumulative=True``) of the keyed items.
    n_obs : int
        Number of rows.
    """

    total: pd.DataFrame
    ci: pd.DataFrame
    alpha_drop: pd.DataFrame
    item_stats: pd.DataFrame
    response_freq: pd.DataFrame
    keys: pd.Series
    scores: pd.Series = field(repr=False)
    n_obs: int

    @property
    def alpha(self) -> float:
        """Raw Cronbach's alpha."""
        return float(self.total["raw_alpha"].iloc[0])

    def summary(self, digits: int = 2) -> str:
        """Format the tables as text, rounded like psych's print method."""
        labels = [f"{i}-" if k < 0 else str(i) for i, k in self.keys.items()]
        parts = [
            "Reliability analysis (psych::alpha conventions)",
            self.total.round(digits).to_string(index=False),
            "",
            "95% confidence boundaries",
            self.ci.round(digits).to_string(),
            "",
            "Reliability if an item is dropped:",
            self.alpha_drop.set_axis(labels).round(digits).to_string(),
            "",
            "Item statistics",
            self.item_stats.drop(columns="key").set_axis(labels).round(digits).to_string(),
        ]
        if not self.response_freq.empty:
            parts += ["", "Non missing response frequency for each item"]
            parts.append(self.response_freq.round(digits).to_string())
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.summary()


def cronbach_alpha(
    data: pd.DataFrame,
    items: Sequence[str] | None = None,
    *,
    reverse: Sequence[str] | None = None,
    check_keys: bool = False,
    cumulative: bool = False,
    impute: Literal["median", "mean"] | None = None,
    max_categories: int = 10,
    ci: float = 0.95,
    min: float | None = None,
    max: float | None = None,
    missing: Sequence[float | tuple[float, float]] | None = None,
) -> AlphaResult:
    r"""Cronbach's alpha with the whole ``psych::alpha`` table.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent, numeric item columns (recode labels first, e.g. with
        :meth:`toolkit.survey.Codebook.recode` with ``reverse=False``).
    items : list of str, optional
        Item columns (default: all columns). A leading ``"-"`` marks a reverse-keyed item,
        as in psych keys lists.
    reverse : list of str, optional
        Items to reverse-key (alternative to the ``"-"`` prefix).
    check_keys : bool, default False
        psych's ``check.keys``: reverse every item that loads negatively on the first principal
        component of the pairwise correlations. This *replaces* any given keys. With
        ``check_keys=False`` a negative loading only raises a warning.
    cumulative : bool, default False
        Score each person by the sum rather than the mean of the keyed items.
    impute : {"median", "mean"} or None, default None
        Replace missing responses by the item median or mean before anything is computed
        (psych's ``impute``); ``None`` uses pairwise-complete observations.
    max_categories : int, default 10
        Response frequencies are reported only when the items have at most this many
        distinct values (psych's ``max``).
    ci : float, default 0.95
        Level of the Feldt and Duhachek intervals.
    min, max : float, optional
        The answer scale, e.g. 1 and 6: answers outside it are refused (naming the items and
        rows), and reverse-keyed items are flipped as ``min + max - x``. Default: the
        smallest and largest answer over all items (psych's rule), after the screening of
        codes described under Raises.
    missing : list, optional
        Codes that mean "no answer" (numbers or ``(lo, hi)`` ranges), set to missing first.
        Codes the file declares missing (SPSS user-missing values read with
        ``user_missing=True``, in ``data.attrs["missing_values"]``) are always missing.

    Returns
    -------
    AlphaResult
        ``total``, ``ci``, ``alpha_drop``, ``item_stats``, ``response_freq``, ``keys``,
        ``scores`` (see :class:`AlphaResult`).

    Raises
    ------
    ValueError
        If an item is missing from ``data``, has no variance, or the items are fewer than two;
        if the data end with summary rows ("Mean", "Total"); if items that
        :meth:`toolkit.survey.Codebook.recode` already reversed are keyed again; and for codes
        that are not answers: a code the file labels like a missing value ("Don't know",
        ``data.attrs["value_labels"]``), a value outside ``[min, max]`` or outside the file's
        labelled scale, and, without either, a negative code among non-negative answers or a
        code separated from a rating scale's answers by two or more unused values (9 on a 1-6
        scale, 99, -99: on bfi's agreeableness items, missing answers typed in as 99 take
        alpha from 0.70 to below 0.1).
    TypeError
        If an item column holds text (the error names the column and the rows).

    Warns
    -----
    UserWarning
        For weaker signs of codes that are not answers: a rare value (under 0.5% of the
        answers) just outside the range nearly all answers use (0 or 7 on a 1-6 scale), a
        value separated by one unused value, non-integer values among integer answers; when
        items correlate negatively with the total (before keying, or still after the keys
        given).

    Notes
    -----
    With :math:`C` the pairwise covariance matrix of the keyed items (:math:`k` items),
    :math:`R` the matching correlation matrix and :math:`\mathbf 1` a vector of ones,

    .. math::

        \alpha = \frac{k}{k-1}\Bigl(1 - \frac{\operatorname{tr} C}{\mathbf 1'C\mathbf 1}\Bigr),
        \quad
        \alpha_{std} = \frac{k}{k-1}\Bigl(1 - \frac{k}{\mathbf 1'R\mathbf 1}\Bigr),
        \quad
        \lambda_6 = 1 - \frac{k - \sum_j \mathrm{smc}_j}{\mathbf 1'R\mathbf 1},

    :math:`\bar r = (\mathbf 1'R\mathbf 1 - k)/(k(k-1))`, :math:`S/N = k\bar r/(1-\bar r)`,
    with :math:`\mathrm{smc}_j = 1 - 1/(R^{-1})_{jj}`. The asymptotic standard error is
    Duhachek & Iacobucci's, :math:`\mathrm{ase} = \sqrt{Q/n}` with
    :math:`Q = \frac{2k^2}{(k-1)^2 (\mathbf 1'C\mathbf 1)^3}\bigl[\mathbf 1'C\mathbf 1
    (\operatorname{tr} C^2 + (\operatorname{tr} C)^2) - 2\operatorname{tr} C\,
    \mathbf 1'C^2\mathbf 1\bigr]`; the Duhachek interval is :math:`\alpha \pm z\,\mathrm{ase}`
    (psych prints it with z = 1.96) and Feldt's is
    :math:`1 - (1-\alpha) F_{1 \mp \gamma/2}(n-1, (n-1)(k-1))`.
    Item statistics: ``raw_r`` correlates each item with the total score, ``std_r`` is
    :math:`\sum_i R_{ij} / \sqrt{\mathbf 1'R\mathbf 1}`, ``r_cor`` the same with the
    diagonal of :math:`R` replaced by the smc's, and ``r_drop`` the item's correlation with
    the sum of the other items, :math:`(\sum_i C_{ij} - C_{jj})/\sqrt{C_{jj}\,\mathbf
    1'C_{-j}\mathbf 1}`.

    Reverse-keyed items are flipped as :math:`\max + \min - x`, with the maximum and minimum
    over all items; their keyed covariances are :math:`D C D` with :math:`D` the diagonal
    matrix of keys. Matches ``psych::alpha(x, keys, check.keys, cumulative, impute)``; psych
    drops items without variance with a warning, this function raises instead.

    References
    ----------
    .. [1] Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
       *Psychometrika*, 16(3), 297-334. https://doi.org/10.1007/BF02310555
    .. [2] Duhachek, A., & Iacobucci, D. (2004). Alpha's standard error (ASE): an accurate and
       precise confidence interval estimate. *Journal of Applied Psychology*, 89(5), 792-808.
       https://doi.org/10.1037/0021-9010.89.5.792
    .. [3] Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
       coefficient alpha. *Applied Psychological Measurement*, 11(1), 93-103.
       https://doi.org/10.1177/014662168701100107
    .. [4] Revelle, W. (2022). psych: Procedures for Psychological, Psychometric, and
       Personality Research (R package 2.2.9), function ``alpha``.

    Examples
    --------
    >>> from toolkit.datasets import load_dataset
    >>> bfi = load_dataset("bfi")
    >>> res = cronbach_alpha(bfi, ["-A1", "A2", "A3", "A4", "A5"])
    >>> round(res.alpha, 4)
    0.703
    >>> res.total[["raw_alpha", "std_alpha", "g6_smc", "average_r"]].round(4).iloc[0].tolist()
    [0.703, 0.713, 0.6828, 0.332]
    """
    data = check_frame(data)
    names, keys = _items_and_keys(data, items, reverse)
    check_level(ci)
    if impute is not None:
        check_choice(impute, "impute", ("median", "mean"))
    x = _item_block(data, names, keys, "cronbach_alpha", min, max, missing)
    n_obs, n_items = x.shape
    if impute is not None:
        fill = np.nanmedian(x, axis=0) if impute == "median" else np.nanmean(x, axis=0)
        x = np.where(np.isnan(x), fill, x)
    sds = np.nanstd(x, axis=0, ddof=1) if n_obs > 1 else np.full(n_items, np.nan)
    bad = [names[j] for j in range(n_items) if not sds[j] > 0]
    if bad:
        raise ValueError(
            f"items: column(s) {bad} have no variance (or fewer than two answers); "
            "drop them before computing alpha."
        )
    response_freq = _response_frequencies(x, names, max_categories)
    c = _pairwise_cov(x)
    if np.isnan(c).any():
        i, j = np.argwhere(np.isnan(c))[0]
        raise ValueError(
            f"items: {names[i]!r} and {names[j]!r} are never answered together; "
            "their covariance is undefined."
        )

    user_keys = (items is not None and any(k < 0 for k in keys)) or reverse is not None
    loadings = _first_pc_loadings(_pairwise_cor(x))
    if (loadings < 0).any():
        negative = [names[j] for j in np.where(loadings < 0)[0]]
        if check_keys:
            warnings.warn(
                f"Items {negative} were negatively correlated with the total scale and were "
                "reversed automatically (check_keys=True).",
                stacklevel=2,
            )
            keys = np.where(loadings < 0, -1.0, 1.0)
        elif not user_keys:
            warnings.warn(
                f"Items {negative} are negatively correlated with the total scale and probably "
                "should be reversed: pass them in reverse=, or use check_keys=True.",
                stacklevel=2,
            )
    if user_keys and not check_keys:
        _warn_keyed_negative(_pairwise_cor(x), keys, names, "cronbach_alpha")

    c = c * np.outer(keys, keys)
    if (keys < 0).any():
        adjust = (np.nanmax(x) if max is None else max) + (np.nanmin(x) if min is None else min)
        x = x.copy()
        x[:, keys < 0] = adjust - x[:, keys < 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        total = np.nansum(x, axis=1) if cumulative else np.nanmean(x, axis=1)
    raw_r = np.array([_pair_cor(total, x[:, j]) for j in range(n_items)])
    n_valid = (~np.isnan(x)).sum(axis=0)

    r = _cov2cor(c)
    parts = _alpha_parts(c, r)
    drop_rows = []
    if n_items > 2:
        for i in range(n_items):
            keep = np.arange(n_items) != i
            drop_rows.append(_alpha_parts(c[np.ix_(keep, keep)], r[np.ix_(keep, keep)]))
    else:
        smc1 = _smc(r)[0]
        r12 = r[0, 1]
        for i in range(2):
            drop_rows.append(
                {
                    "raw_alpha": c[0, 1] / c[1 - i, 1 - i],
                    "std_alpha": r12,
                    "g6_smc": smc1,
                    "average_r": r12,
                    "s_n": r12 / (1 - r12),
                    "q": math.nan,
                    "var_r": 0.0,
                    "med_r": r12,
                }
            )
    drop = pd.DataFrame(drop_rows, index=pd.Index(names, name="item"))
    drop.insert(5, "alpha_se", [_sqrt(q / n_obs) for q in drop.pop("q")])
    if n_obs <= n_items:
        drop = drop.drop(columns="alpha_se")

    vt = r.sum()
    rc = r.copy()
    np.fill_diagonal(rc, _smc(r))
    r_drop = np.empty(n_items)
    for i in range(n_items):
        keep = np.arange(n_items) != i
        v_drop = c[np.ix_(keep, keep)].sum()
        r_drop[i] = (c[:, i].sum() - c[i, i]) / _sqrt(c[i, i] * v_drop)
    item_stats = pd.DataFrame(
        {
            "key": keys.astype(int),
            "n": n_valid,
            "raw_r": raw_r,
            "std_r": r.sum(axis=0) / _sqrt(vt),
            "r_cor": rc.sum(axis=0) / _sqrt(rc.sum()),
            "r_drop": r_drop,
            "mean": np.nanmean(x, axis=0),
            "sd": np.nanstd(x, axis=0, ddof=1),
        },
        index=pd.Index(names, name="item"),
    )
    ase = _sqrt(parts["q"] / n_obs)
    if not math.isfinite(ase) or np.isnan(r_drop).any():
        warnings.warn(
            "cronbach_alpha: the standard error (ase) or some item-drop correlations are "
            "undefined (NaN): the pairwise covariances are not those of one set of answers "
            "(items answered by different respondents); use impute= or complete rows.",
            UserWarning,
            stacklevel=2,
        )
    total_df = pd.DataFrame(
        [
            {
                "raw_alpha": parts["raw_alpha"],
                "std_alpha": parts["std_alpha"],
                "g6_smc": parts["g6_smc"],
                "average_r": parts["average_r"],
                "s_n": parts["s_n"],
                "ase": ase,
                "mean": float(np.nanmean(total)),
                "sd": float(np.nanstd(total, ddof=1)),
                "median_r": parts["med_r"],
            }
        ]
    )
    a = parts["raw_alpha"]
    p = 1 - ci
    df1, df2 = n_obs - 1, (n_obs - 1) * (n_items - 1)
    z = stats.norm.ppf(1 - p / 2)
    ci_df = pd.DataFrame(
        {
            "lower": [1 - (1 - a) * stats.f.ppf(1 - p / 2, df1, df2), a - z * ase],
            "alpha": [a, a],
            "upper": [1 - (1 - a) * stats.f.ppf(p / 2, df1, df2), a + z * ase],
        },
        index=["feldt", "duhachek"],
    )
    return AlphaResult(
        total=total_df,
        ci=ci_df,
        alpha_drop=drop,
        item_stats=item_stats,
        response_freq=response_freq,
        keys=pd.Series(keys.astype(int), index=pd.Index(names, name="item"), name="key"),
        scores=pd.Series(total, index=data.index, name="score"),
        n_obs=n_obs,
    )


def _item_block(
    data: pd.DataFrame,
    names: list[str],
    keys: np.ndarray,
    func: str,
    lo: float | None,
    hi: float | None,
    missing: object,
) -> np.ndarray:
    """Return the items as floats after the checks every reliability function makes.

    Summary rows under the data are refused; declared missing codes (``missing`` and the
    file's own, ``data.attrs["missing_values"]``) become NaN and undeclared ones are refused or
    warned about (:func:`toolkit.survey._screen.screen_codes`); items that
    :meth:`toolkit.survey.Codebook.recode` already reversed may not be keyed again.
    """
    check_footer(data, func)
    x = numeric_block(data, names, "items" if func != "score_items" else "keys")
    _check_bounds(lo, hi)
    _check_not_reversed(data, names, keys, func)
    return screen_codes(data, names, x, func, lo, hi, missing)


def _check_not_reversed(data: pd.DataFrame, names: list[str], keys: np.ndarray, func: str) -> None:
    """Refuse to reverse items that ``Codebook.recode`` has already reversed (attrs mark)."""
    done = set(data.attrs.get("reversed_items") or ())
    again = [n for n, k in zip(names, keys, strict=True) if k < 0 and n in done]
    if again:
        raise ValueError(
            f"{func}: items {again} were already reverse-keyed by Codebook.recode "
            "(data.attrs['reversed_items']); keying them again with '-' or reverse= would undo "
            "the reversal. Pass the recoded items without '-' (e.g. [k.lstrip('-') for k in "
            "keys]), or recode with reverse=False and keep the keys."
        )


def _warn_keyed_negative(r: np.ndarray, keys: np.ndarray, names: list[str], func: str) -> None:
    """Warn when items still correlate negatively with the scale after the user's keys."""
    if np.isnan(r).any():
        return
    load = _first_pc_loadings(r * np.outer(keys, keys))
    negative = [names[j] for j in np.where(load < 0)[0]]
    if negative:
        warnings.warn(
            f"{func}: items {negative} correlate negatively with the scale after keying. An "
            "item reversed twice (data recoded with reverse=True and keyed again with '-') or "
            "keyed by mistake lowers the reliability; check the keys.",
            UserWarning,
            stacklevel=3,
        )


def _sqrt(v: float) -> float:
    """Square root that gives NaN (not a math domain error) for a negative argument."""
    return math.sqrt(v) if v >= 0 else math.nan


def _check_bounds(lo: float | None, hi: float | None) -> None:
    for name, v in (("min", lo), ("max", hi)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float | np.number)):
            raise TypeError(f"{name} must be a number, got {v!r}.")
    if lo is not None and hi is not None and lo >= hi:
        raise ValueError(f"min ({lo}) must be below max ({hi}).")


def _pair_cor(a: np.ndarray, b: np.ndarray) -> float:
    ok = ~(np.isnan(a) | np.isnan(b))
    if ok.sum() < 2:
        return math.nan
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


# ---------------------------------------------------------------------------------------------
# scoreItems
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreItemsResult:
    r"""Result of :func:`score_items`, laid out like ``psych::scoreItems``.

    Attributes
    ----------
    scores : pandas.DataFrame
        One column per scale, one row per respondent (same index as the data).
    stats : pandas.DataFrame
        One row per scale: ``alpha``, ``g6`` (lambda 6), ``average_r``, ``median_r``,
        ``s_n`` (signal/noise), ``ase``, ``n_items``.
    cor : pandas.DataFrame
        Correlations between the scale scores.
    corrected : pandas.DataFrame
        psych's ``corrected`` matrix: raw correlations below the diagonal, alphas on it and
        correlations disattenuated for unreliability, :math:`r_{ab}/\sqrt{\alpha_a\alpha_b}`,
        above it.
    item_cor : pandas.DataFrame
        Correlation of every item with every scale score (items x scales).
    item_corrected : pandas.DataFrame
        The same corrected for item overlap and unreliability (smc on the diagonal).
    keys : pandas.DataFrame
        The keys matrix (items x scales) of +1, -1 and 0.
    n_missing : pandas.DataFrame or None
        Per respondent and scale, how many of the scale's items were missing.
    """

    scores: pd.DataFrame = field(repr=False)
    stats: pd.DataFrame
    cor: pd.DataFrame
    corrected: pd.DataFrame
    item_cor: pd.DataFrame = field(repr=False)
    item_corrected: pd.DataFrame = field(repr=False)
    keys: pd.DataFrame = field(repr=False)
    n_missing: pd.DataFrame = field(repr=False)


def _keys_matrix(keys: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str], np.ndarray]:
    if not isinstance(keys, Mapping) or not keys:
        raise TypeError(
            "keys must be a non-empty mapping {scale: [items]}, e.g. "
            "{'agree': ['-A1', 'A2', 'A3']} (a leading '-' reverse-keys an item)."
        )
    scales = [str(s) for s in keys]
    item_order: list[str] = []
    parsed = []
    for scale, its in keys.items():
        names, k = parse_keys(list(its))
        if len(set(names)) != len(names):
            raise ValueError(f"keys: scale {scale!r} lists an item twice: {names}.")
        parsed.append((names, k))
        item_order += [n for n in names if n not in item_order]
    mat = np.zeros((len(item_order), len(scales)))
    for s, (names, k) in enumerate(parsed):
        for name, sign in zip(names, k, strict=True):
            mat[item_order.index(name), s] = sign
    return scales, item_order, mat


def score_items(
    data: pd.DataFrame,
    keys: Mapping[str, Sequence[str]],
    *,
    totals: bool = False,
    impute: Literal["median", "mean", "none"] = "median",
    min: float | None = None,
    max: float | None = None,
    missing: Sequence[float | tuple[float, float]] | None = None,
) -> ScoreItemsResult:
    r"""Scale scores and their reliabilities for several scales, as ``psych::scoreItems``.

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric item responses, one row per respondent.
    keys : mapping of str to list of str
        ``{scale: [items]}`` with a leading ``"-"`` on reverse-keyed items, exactly like
        ``psych::bfi.keys`` (see also :attr:`toolkit.survey.Codebook.keys`).
    totals : bool, default False
        Sum the keyed items instead of averaging them.
    impute : {"median", "mean", "none"}, default "median"
        Missing responses are replaced by the item's median (psych's default) or mean before
        scoring; ``"none"`` averages the items each person answered and computes the
        statistics from pairwise covariances.
    min, max : float, optional
        Scale bounds for reverse keying, :math:`x' = \max + \min - x`; default: the smallest
        and largest response over all scored items. Answers outside them are refused;
        without them, codes are screened as in :func:`cronbach_alpha`.
    missing : list, optional
        Codes that mean "no answer", set to missing first (as in :func:`cronbach_alpha`).

    Returns
    -------
    ScoreItemsResult
        ``scores``, ``stats`` (alpha, g6, average_r, median_r, s_n, ase, n_items), ``cor``,
        ``corrected``, ``item_cor``, ``item_corrected``, ``keys``, ``n_missing``.

    Notes
    -----
    With :math:`K` the items x scales keys matrix, :math:`C` the item covariance matrix
    (of the imputed data, or pairwise with ``impute="none"``), :math:`V = K'CK` the scale
    covariances, :math:`k_s` the number of items and :math:`\sigma^2_j` the item variances,

    .. math::

        \alpha_s = \frac{k_s}{k_s - 1}\,\frac{V_{ss} - \sum_{j \in s}\sigma^2_j}{V_{ss}},
        \qquad
        \bar r_s = \frac{\alpha_s}{k_s - \alpha_s (k_s - 1)},
        \qquad
        \lambda_{6,s} = \frac{V_{ss} - \sum_{j\in s} \sigma^2_j + \sum_{j\in s}
        \mathrm{smc}_j\sigma^2_j}{V_{ss}}.

    Scores are :math:`(XK + \text{correction})/k_s`, where the correction adds
    :math:`\max + \min` for each reverse-keyed item, i.e. the mean of the keyed items.
    Matches ``psych::scoreItems(keys, items, totals, impute, min, max)``.

    References
    ----------
    .. [1] Revelle, W. (2022). psych: Procedures for Psychological, Psychometric, and
       Personality Research (R package 2.2.9), function ``scoreItems``.
    .. [2] Guttman, L. (1945). A basis for analyzing test-retest reliability.
       *Psychometrika*, 10(4), 255-282. https://doi.org/10.1007/BF02288892

    Examples
    --------
    >>> from toolkit.datasets import load_dataset
    >>> bfi = load_dataset("bfi")
    >>> keys = {"agree": ["-A1", "A2", "A3", "A4", "A5"], "neuro": ["N1", "N2", "N3", "N4", "N5"]}
    >>> res = score_items(bfi, keys)
    >>> res.stats["alpha"].round(4).tolist()
    [0.7012, 0.8118]
    >>> res.scores.shape
    (2800, 2)
    """
    data = check_frame(data)
    check_choice(impute, "impute", ("median", "mean", "none"))
    scales, item_names, kmat = _keys_matrix(keys)
    check_columns(data, item_names, "keys")
    x = _item_block(data, item_names, kmat.min(axis=1), "score_items", min, max, missing)
    n_obs = x.shape[0]
    sds = np.nanstd(x, axis=0, ddof=1)
    bad = [item_names[j] for j in range(len(item_names)) if not sds[j] > 0]
    if bad:
        raise ValueError(f"keys: item(s) {bad} have no variance; remove them from the keys.")
    lo = float(np.nanmin(x)) if min is None else float(min)
    hi = float(np.nanmax(x)) if max is None else float(max)
    absk = np.abs(kmat)
    n_items = absk.sum(axis=0)
    miss = np.isnan(x).astype(float) @ absk
    for s_ in range(len(scales)):
        idx = np.where(absk[:, s_] > 0)[0]
        if (kmat[idx, s_] < 0).any() and idx.size > 1:
            _warn_keyed_negative(
                _pairwise_cor(x[:, idx]),
                kmat[idx, s_],
                [item_names[i] for i in idx],
                f"score_items (scale {scales[s_]!r})",
            )

    if impute != "none":
        fill = np.nanmedian(x, axis=0) if impute == "median" else np.nanmean(x, axis=0)
        x_imp = np.where(np.isnan(x), fill, x)
        raw = x_imp @ kmat
        c = np.cov(x_imp, rowvar=False)
        cov_scales = np.cov(raw, rowvar=False).reshape(len(scales), len(scales))
        item_cor = np.array(
            [
                [_pair_cor(x_imp[:, i], raw[:, s]) for s in range(len(scales))]
                for i in range(len(item_names))
            ]
        )
        correction = ((absk - kmat).sum(axis=0) / 2) * (hi + lo)
        scores = raw + correction
        if not totals:
            scores = scores / n_items
    else:
        scores = np.full((n_obs, len(scales)), np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for s in range(len(scales)):
                pos = x[:, kmat[:, s] > 0]
                neg = hi + lo - x[:, kmat[:, s] < 0]
                sub = np.concatenate([pos, neg], axis=1)
                scores[:, s] = np.nanmean(sub, axis=1) if not totals else np.nansum(sub, axis=1)
        c = _pairwise_cov(x)
        cov_scales = kmat.T @ c @ kmat
        var_s = np.diag(cov_scales)
        item_cor = (c @ kmat) / np.sqrt(var_s)[None, :] / np.sqrt(np.diag(c))[:, None]

    item_var = np.diag(c)
    var_scales = np.diag(cov_scales)
    sum_item_var = item_var @ absk
    sum_item_var2 = (item_var**2) @ absk
    cov_scales2 = np.diag(absk.T @ (c**2) @ absk)
    alpha = (var_scales - sum_item_var) * n_items / ((n_items - 1) * var_scales)
    av_r = alpha / (n_items - alpha * (n_items - 1))
    q = (2 * n_items**2 / ((n_items - 1) ** 2 * var_scales**3)) * (
        var_scales * (sum_item_var2 + sum_item_var**2) - 2 * sum_item_var * cov_scales2
    )
    item_r = _cov2cor(c)
    med_r = []
    for s in range(len(scales)):
        idx = np.where(absk[:, s] > 0)[0]
        sub = item_r[np.ix_(idx, idx)] * np.outer(kmat[idx, s], kmat[idx, s])
        med_r.append(float(np.median(_lower(sub))) if idx.size > 1 else math.nan)
    c_smc = _smc(c, covar=True)
    c_corr = c.copy()
    np.fill_diagonal(c_corr, c_smc)
    g6 = (var_scales - sum_item_var + c_smc @ absk) / var_scales
    corrected_cov = kmat.T @ c_corr @ kmat
    item_rc = (c_corr @ kmat) / np.sqrt(np.diag(corrected_cov))[None, :]
    item_rc = item_rc / np.sqrt(item_var)[:, None]
    cor_scales = _cov2cor(cov_scales)
    corrected = np.tril(cor_scales, -1)
    iu = np.triu_indices(len(scales), 1)
    corrected[iu] = cor_scales[iu] / np.sqrt(alpha[iu[0]] * alpha[iu[1]])
    np.fill_diagonal(corrected, alpha)

    sidx = pd.Index(scales, name="scale")
    iidx = pd.Index(item_names, name="item")
    stats_df = pd.DataFrame(
        {
            "alpha": alpha,
            "g6": g6,
            "average_r": av_r,
            "median_r": med_r,
            "s_n": av_r * n_items / (1 - av_r),
            "ase": np.sqrt(np.where(q >= 0, q, np.nan) / n_obs),
            "n_items": n_items.astype(int),
        },
        index=sidx,
    )
    return ScoreItemsResult(
        scores=pd.DataFrame(scores, index=data.index, columns=scales),
        stats=stats_df,
        cor=pd.DataFrame(cor_scales, index=sidx, columns=scales),
        corrected=pd.DataFrame(corrected, index=sidx, columns=scales),
        item_cor=pd.DataFrame(item_cor, index=iidx, columns=scales),
        item_corrected=pd.DataFrame(item_rc, index=iidx, columns=scales),
        keys=pd.DataFrame(kmat.astype(int), index=iidx, columns=scales),
        n_missing=pd.DataFrame(miss.astype(int), index=data.index, columns=scales),
    )


# ---------------------------------------------------------------------------------------------
# factor analysis (minres), rotations and omega
# ---------------------------------------------------------------------------------------------


def _minres_loadings(psi: np.ndarray, s: np.ndarray, nf: int) -> np.ndarray:
    ss = s.copy()
    np.fill_diagonal(ss, np.diag(s) - psi)
    vals, vecs = np.linalg.eigh(ss)
    vals, vecs = vals[::-1][:nf], vecs[:, ::-1][:, :nf]
    return vecs * np.sqrt(np.maximum(vals, 0.0))


def _minres_objective(psi: np.ndarray, s: np.ndarray, nf: int) -> float:
    """``fit.residuals`` of psych's ``fa`` (fm = "minres"): off-diagonal squared residuals."""
    ss = s.copy()
    np.fill_diagonal(ss, 1.0 - psi)
    vals, vecs = np.linalg.eigh(ss)
    vals, vecs = vals[::-1], vecs[:, ::-1]
    vals = np.where(vals < _EPS, 100 * _EPS, vals)
    load = vecs[:, :nf] * np.sqrt(vals[:nf])
    res = s - load @ load.T
    return float((_lower(res) ** 2).sum())


def _minres_gradient(psi: np.ndarray, s: np.ndarray, nf: int) -> np.ndarray:
    """Return psych's minres gradient ``FAgr.minres``: diag(LL' + Psi - S)."""
    load = _minres_loadings(psi, s, nf)
    return np.diag(load @ load.T) + psi - np.diag(s)


def _fa_minres(r: np.ndarray, nf: int, rotate: Literal["none", "varimax"] = "none") -> np.ndarray:
    """Minimum-residual factor loadings of a correlation matrix, as ``psych::fa``.

    Uniquenesses are found by L-BFGS-B from ``1 - smc`` within [0.005, 1] with psych's
    objective and gradient and R's ``optim`` settings (parscale 0.01, factr 1e7, lmm 5,
    maxit 100). Columns are signed to positive sums, optionally varimax-rotated, re-signed
    and sorted by their sums of squares.
    """
    start = np.diag(r) - _smc(r)
    upper = max(float(_smc(r).max()), 1.0)
    scale = 0.01
    res = optimize.minimize(
        lambda z: _minres_objective(z * scale, r, nf),
        start / scale,
        jac=lambda z: _minres_gradient(z * scale, r, nf) * scale,
        method="L-BFGS-B",
        bounds=[(0.005 / scale, upper / scale)] * len(start),
        options={"maxcor": 5, "ftol": 1e7 * _EPS, "gtol": 0.0, "maxiter": 100},
    )
    load = _minres_loadings(res.x * scale, r, nf)
    signs = np.sign(load.sum(axis=0))
    signs[signs == 0] = 1
    load = load * signs
    load[load == 0] = 1e-15
    if rotate == "varimax" and nf > 1:
        load = _varimax(load)
        signs = np.sign(load.sum(axis=0))
        signs[signs == 0] = 1
        load = load * signs
        order = np.argsort(-(load**2).sum(axis=0), kind="stable")
        load = load[:, order]
    return load


def _varimax(x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """R's ``stats::varimax`` (Kaiser-normalised, same iteration and stopping rule)."""
    nc = x.shape[1]
    sc = np.sqrt((x**2).sum(axis=1))
    z0 = x / sc[:, None]
    p = z0.shape[0]
    tt = np.eye(nc)
    d = 0.0
    for _ in range(1000):
        z = z0 @ tt
        b = z0.T @ (z**3 - z @ np.diag((z**2).sum(axis=0)) / p)
        u, sv, vt = np.linalg.svd(b)
        tt = u @ vt
        dpast, d = d, sv.sum()
        if d < dpast * (1 + eps):
            break
    return (z0 @ tt) * sc[:, None]


def _oblimin(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Oblimin (gamma 0) by gradient projection from the identity, as ``GPArotation::oblimin``.

    Uses statsmodels' GPA implementation with GPArotation's tolerance (1e-5) and iteration cap.
    """
    load, t = rotate_factors(a, "oblimin", 0, "oblique", max_tries=1001, tol=1e-5)
    return load, t.T @ t


@dataclass(frozen=True)
class OmegaResult:
    """Result of :func:`omega`, laid out like ``psych::omega``.

    Attributes
    ----------
    table : pandas.DataFrame
        One row: ``omega_h``, ``omega_total``, ``alpha``, ``g6``, ``omega_limit``
        (omega_h / omega_total's common part, psych's ``omega.lim``), ``ecv``
        (explained common variance of g), ``nfactors``.
    loadings : pandas.DataFrame
        The Schmid-Leiman solution (psych's ``schmid$sl``): ``g``, ``F1*`` ... ``Fk*``,
        ``h2``, ``u2``, ``p2`` (share of the communality due to g), items as rows (a trailing
        ``-`` marks an item flipped because it loads negatively on g).
    group : pandas.DataFrame
        psych's ``omega.group``: rows ``g`` and each group factor; columns ``total``,
        ``general``, ``group``.
    phi : pandas.DataFrame
        Correlations of the oblimin-rotated group factors.
    g_loadings : pandas.Series
        Loadings of the group factors on the higher-order g.
    keys : pandas.Series
        +1/-1 per item after flipping.
    """

    table: pd.DataFrame
    loadings: pd.DataFrame
    group: pd.DataFrame
    phi: pd.DataFrame
    g_loadings: pd.Series
    keys: pd.Series

    @property
    def omega_h(self) -> float:
        """Omega hierarchical."""
        return float(self.table["omega_h"].iloc[0])

    @property
    def omega_total(self) -> float:
        """Omega total."""
        return float(self.table["omega_total"].iloc[0])


def omega(
    data: pd.DataFrame,
    items: Sequence[str] | None = None,
    nfactors: int = 3,
    *,
    fm: Literal["minres"] = "minres",
    rotate: Literal["oblimin"] = "oblimin",
    option: Literal["equal", "first", "second"] = "equal",
    flip: bool = True,
    reverse: Sequence[str] | None = None,
    missing: Sequence[float | tuple[float, float]] | None = None,
) -> OmegaResult:
    r"""McDonald's omega hierarchical and total by a Schmid-Leiman transformation.

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric item responses.
    items : list of str, optional
        Item columns (default all). A leading ``"-"`` reverse-keys an item beforehand, which
        (as in psych's ``key``) switches ``flip`` off.
    nfactors : int, default 3
        Number of group factors.
    fm : {"minres"}, default "minres"
        Factor extraction; minimum residual, psych's default.
    rotate : {"oblimin"}, default "oblimin"
        Oblique rotation of the group factors.
    option : {"equal", "first", "second"}, default "equal"
        With two group factors only: how g's loadings are identified (psych's ``option``).
    flip : bool, default True
        Reverse items that load negatively on g before computing omega.
    reverse : list of str, optional
        Items to reverse-key beforehand (alternative to the ``"-"`` prefix).
    missing : list, optional
        Codes that mean "no answer", set to missing first; codes are screened as in
        :func:`cronbach_alpha`.

    Returns
    -------
    OmegaResult
        ``table`` (omega_h, omega_total, alpha, g6, omega_limit, ecv), ``loadings``
        (Schmid-Leiman g, F1*..Fk*, h2, u2, p2), ``group``, ``phi``, ``g_loadings``, ``keys``.

    Notes
    -----
    Steps, as in ``psych::omega`` / ``psych::schmid``:

    1. :math:`R`: pairwise correlations of the items; a minres factor analysis with
       ``nfactors`` factors, varimax-rotated (R's ``stats::varimax``), columns signed
       and sorted as ``psych::fa`` does;
    2. oblimin rotation (:math:`\gamma = 0`) of those loadings, giving pattern loadings
       :math:`F` and factor correlations :math:`\Phi`;
    3. one minres factor of :math:`\Phi` gives the loadings :math:`\gamma_f` of the group
       factors on g (two factors: :math:`\sqrt{|\phi_{12}|}` each under ``option="equal"``);
    4. g loadings :math:`g = F\gamma`; residualised group loadings
       :math:`\mathrm{sign}(F_{jf})\sqrt{F_{jf}^2(1 - \gamma_f^2)}`;
       :math:`h^2_j` = communality of the orthogonal solution, :math:`u^2_j = 1 - h^2_j`.

    Then with :math:`V_t = \mathbf 1'R\mathbf 1` (after flipping items with negative g):

    .. math::

        \omega_h = \frac{(\sum_j g_j)^2}{V_t}, \qquad
        \omega_t = \frac{V_t - \sum_j u^2_j}{V_t}.

    Differences from psych: the uniquenesses are optimised with SciPy's L-BFGS-B rather than
    R's ``optim`` (same objective, gradient, bounds, scaling and tolerances), and the oblimin
    step uses statsmodels' GPA (same algorithm, start and tolerance as GPArotation). On psych's
    bfi both reach the same solution: loadings and omegas agree with psych 2.2.9 to about
    1e-13 (tests/survey/test_reliability.py allows 1e-6, since an iterative optimum can move
    slightly across platforms). Only minres and oblimin are implemented; psych's other ``fm``
    and ``rotate`` choices, ``poly = TRUE`` and bootstrapped intervals are not.

    References
    ----------
    .. [1] McDonald, R. P. (1999). *Test theory: A unified treatment*. Lawrence Erlbaum.
    .. [2] Schmid, J., & Leiman, J. M. (1957). The development of hierarchical factor
       solutions. *Psychometrika*, 22(1), 53-61. https://doi.org/10.1007/BF02289209
    .. [3] Zinbarg, R. E., Revelle, W., Yovel, I., & Li, W. (2005). Cronbach's alpha,
       Revelle's beta, and McDonald's omega_h. *Psychometrika*, 70(1), 123-133.
       https://doi.org/10.1007/s11336-003-0974-7
    .. [4] Revelle, W. (2022). psych (R package 2.2.9), functions ``omega``, ``schmid``, ``fa``.

    Examples
    --------
    >>> from toolkit.datasets import load_dataset
    >>> bfi = load_dataset("bfi")
    >>> res = omega(bfi, [f"{s}{i}" for s in "ACENO" for i in range(1, 6)], nfactors=5)
    >>> round(res.omega_h, 2), round(res.omega_total, 2)
    (0.46, 0.87)
    """
    data = check_frame(data)
    names, keys = _items_and_keys(data, items, reverse)
    check_choice(fm, "fm", ("minres",))
    check_choice(rotate, "rotate", ("oblimin",))
    check_choice(option, "option", ("equal", "first", "second"))
    if isinstance(nfactors, bool) or not isinstance(nfactors, int | np.integer) or nfactors < 1:
        raise ValueError(f"nfactors must be a positive integer, got {nfactors!r}.")
    if nfactors >= len(names):
        raise ValueError(f"nfactors={nfactors} needs more than {nfactors} items, got {len(names)}.")
    x = _item_block(data, names, keys, "omega", None, None, missing)
    m = _pairwise_cor(x)
    if np.isnan(m).any():
        i, j = np.argwhere(np.isnan(m))[0]
        raise ValueError(f"items: {names[i]!r} and {names[j]!r} have no correlation.")
    if (keys < 0).any():
        m = m * np.outer(keys, keys)
        flip = False
    nvar = len(names)

    orth = _fa_minres(m, nfactors, rotate="varimax")
    if nfactors == 1:
        fload, phi, gload = orth, np.ones((1, 1)), np.array([1.0])
    else:
        fload, phi = _oblimin(orth)
        if nfactors > 2:
            gload = _fa_minres(phi, 1)[:, 0]
        else:
            p12 = phi[0, 1]
            if option == "equal":
                gload = np.array([math.sqrt(abs(p12)), math.copysign(math.sqrt(abs(p12)), p12)])
            elif option == "first":
                gload = np.array([1.0, p12])
            else:
                gload = np.array([p12, 1.0])
    g = fload @ gload
    h2 = (orth**2).sum(axis=1)
    u2 = 1.0 - h2
    uniq2 = np.clip(fload**2 - (fload * gload) ** 2, 0.0, None)
    sm = np.sign(fload) * np.sqrt(uniq2)
    sl = np.column_stack([g, sm])

    key = np.ones(nvar) if not flip else np.where(np.sign(g) == 0, 1.0, np.sign(g))
    if flip and key.sum() < nvar:
        m = m * np.outer(key, key)
        sl = sl * key[:, None]
    if not flip:
        key = keys
    vt = m.sum()
    gsum = sl[:, 0].sum()
    om_tot = (vt - u2.sum()) / vt
    alpha = ((vt - np.trace(m)) / vt) * (nvar / (nvar - 1))
    g6 = (vt + _smc(m).sum() - np.trace(m)) / vt
    ev = (sl**2).sum(axis=0)

    sub = np.argmax(np.abs(sl[:, 1:]), axis=1)
    total_col = np.full(nfactors + 1, np.nan)
    general_col = np.full(nfactors + 1, np.nan)
    group_col = np.full(nfactors + 1, np.nan)
    grs = 0.0
    for f in range(nfactors):
        idx = np.where(sub == f)[0]
        if idx.size:
            vgr = m[np.ix_(idx, idx)].sum()
            gr = sl[idx, f + 1].sum()
            grs += gr**2
            group_col[f + 1] = gr**2 / vgr
            general_col[f + 1] = sl[idx, 0].sum() ** 2 / vgr
            total_col[f + 1] = (gr**2 + sl[idx, 0].sum() ** 2) / vgr
    general_col[0] = gsum**2 / vt
    group_col[0] = grs / vt
    total_col[0] = om_tot

    labels = [f"{n}-" if k < 0 else n for n, k in zip(names, key, strict=True)]
    fcols = [f"F{i + 1}*" for i in range(nfactors)]
    loadings = pd.DataFrame(sl, index=pd.Index(labels, name="item"), columns=["g", *fcols])
    loadings["h2"] = h2
    loadings["u2"] = u2
    loadings["p2"] = sl[:, 0] ** 2 / h2
    table = pd.DataFrame(
        [
            {
                "omega_h": gsum**2 / vt,
                "omega_total": om_tot,
                "alpha": alpha,
                "g6": g6,
                "omega_limit": gsum**2 / (vt - u2.sum()),
                "ecv": ev[0] / ev.sum(),
                "nfactors": nfactors,
            }
        ]
    )
    fnames = [f"F{i + 1}" for i in range(nfactors)]
    return OmegaResult(
        table=table,
        loadings=loadings,
        group=pd.DataFrame(
            {"total": total_col, "general": general_col, "group": group_col},
            index=pd.Index(["g", *fcols], name="factor"),
        ),
        phi=pd.DataFrame(phi, index=fnames, columns=fnames),
        g_loadings=pd.Series(gload, index=fnames, name="g"),
        keys=pd.Series(key.astype(int), index=pd.Index(names, name="item"), name="key"),
    )
