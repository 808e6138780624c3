r"""Large-scale assessments: replicate-weight variance and plausible values (PISA, TIMSS, PIRLS).

A :class:`ReplicateDesign` holds the data, the final weight and the replicate weights with the
constants of the variance formula. Every estimate :math:`\hat\theta` is computed with the final
weight and again with each replicate weight :math:`r = 1..R`, and its sampling variance is

.. math::

    V(\hat\theta) = c \sum_{r=1}^{R} s_r\,(\hat\theta_r - \hat\theta)^2

with the scale :math:`c` and the replicate scales :math:`s_r` (usually 1) of the method:

==============  ==========================================  =====================================
method          replicate weights                            :math:`c`
==============  ==========================================  =====================================
``"fay"``       Fay's BRR, factors :math:`2-k` and           :math:`1/(R(1-k)^2)`; PISA: k = 0.5,
                :math:`k` (PISA: ``W_FSTURWT1..80``)         R = 80, c = 0.05
``"brr"``       balanced half-samples (factors 2 and 0)      :math:`1/R`
``"jk1"``       delete-one-PSU jackknife                     :math:`(R-1)/R`
``"jk2"``       paired jackknife, one replicate per zone     1 (TIMSS/PIRLS before 2015/2016)
``"other"``     anything, with ``scale`` (and ``rscales``)  given
==============  ==========================================  =====================================

Surveys that ship no replicate weights: :func:`jackknife_design` builds delete-one-cluster
weights (JK1, or JKn within strata) from the cluster and stratum columns, with a finite
population correction :math:`1 - f_h` when ``fpc`` is given, and :func:`taylor_mean` gives the
design-based (Taylor-linearised) SE of a mean from clusters, strata and ``fpc`` directly.
Replicate designs built from replicate-weight columns carry no fpc unless it is in ``scale``
or ``rscales``.
TIMSS 2015+ and PIRLS 2016+ use both halves of every zone (:func:`timss_design` builds
:math:`2Z` replicates from ``TOTWGT``, ``JKZONE`` and ``JKREP``) with :math:`c = 1/2`.
``mse=True`` (the default, as in PISA and IEA practice) centres the squared deviations on the
full-sample estimate; ``mse=False`` on the mean of the replicates (R survey's default).

Plausible values (PVs) are combined by Rubin's rules: with :math:`M` values, estimates
:math:`\hat\theta_m` and sampling variances :math:`U_m`,

.. math::

    \bar\theta = \frac1M\sum_m\hat\theta_m, \quad
    \bar U = \frac1M\sum_m U_m, \quad
    B = \frac{1}{M-1}\sum_m(\hat\theta_m-\bar\theta)^2, \quad
    \mathrm{SE} = \sqrt{\bar U + (1 + 1/M)B}.

For TIMSS/PIRLS before 2015/2016 (``pv_sampling="first"``), :math:`\bar U` is the sampling
variance of the first PV only, as in the IEA's reports and intsvy.

Estimators (each overall and by group, each accepting PVs): :func:`lsa_mean` (mean and SD),
:func:`lsa_percent`, :func:`lsa_quantile`, :func:`lsa_cor`, :func:`lsa_regression`,
:func:`lsa_spread`, and :func:`with_replicates` for any statistic you write. A variable is a
column name, a list of PV columns, or a pattern with ``@`` standing for the PV number
(``"PV@MATH"``).

Nothing is guessed silently: the method is named or inferred from the ratios of the replicate
weights to the final weight, and a named method that does not fit them is refused; replicate
columns must be gap-free and as many as the method implies (or ``n_replicates``), with no copy
of the final weight among them; a PV set must have gap-free PV numbers and the design's
``n_pv`` (without it: 5, 10 or 20), and the table reports ``n_pv``. Every table
puts ``estimate``, ``se``, ``ci_low`` and ``ci_high`` (the Wald interval
:math:`\hat\theta \pm z_{1-\alpha/2}\,\mathrm{SE}`, as ``confint(svymean(...))``; level
``ci``) after the identifying columns and prints with them in view (:class:`ResultTable`).
Estimates that cannot be computed, SEs that are undefined (a replicate that gives a domain no
weight) or exactly 0 are reported in one warning per call, never by an arithmetic error.

Compared with R: ``survey::svrepdesign(..., mse = TRUE)`` with ``svymean``, ``svyby``,
``svyglm``, ``withReplicates``, and ``mitools::withPV`` + ``MIcombine`` (see
tests/reference/survey_lsa.R); conventions follow the intsvy package.
"""

from __future__ import annotations

import math
import re
import shutil
import textwrap
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from toolkit._base.checks import (
    check_choice,
    check_column,
    check_columns,
    check_frame,
    check_level,
    preview,
)
from toolkit.survey._screen import check_footer, numeric_column

__all__ = [
    "ReplicateDesign",
    "ResultTable",
    "jackknife_design",
    "lsa_cor",
    "lsa_mean",
    "lsa_percent",
    "lsa_quantile",
    "lsa_regression",
    "lsa_spread",
    "pirls_design",
    "pisa_design",
    "replicate_design",
    "rubin_combine",
    "taylor_mean",
    "timss_design",
    "with_replicates",
]

Method = Literal["fay", "brr", "jk1", "jk2", "other"]
QRule = Literal["hmisc", "math"]

_ID_COLUMNS = ["variable", "statistic"]
_VALUE_COLUMNS = ["estimate", "se", "n", "n_pv", "sum_weights", "sampling_var", "imputation_var"]


# ---------------------------------------------------------------------------------------------
# designs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicateDesign:
    r"""Data with a final weight, replicate weights and the variance constants.

    Build it with :func:`replicate_design`, :func:`pisa_design`, :func:`timss_design` or
    :func:`pirls_design` rather than directly.

    Attributes
    ----------
    data : pandas.DataFrame
        The survey data.
    weight : str
        Final (full-sample) weight column.
    replicate_weights : numpy.ndarray
        ``(n, R)`` replicate weights (already multiplied into the final weight).
    scale : float
        :math:`c` in :math:`V = c\sum_r s_r(\hat\theta_r - \hat\theta)^2`.
    rscales : numpy.ndarray
        :math:`s_r`, one per replicate.
    mse : bool
        Centre on the full-sample estimate (True) or on the replicate mean (False).
    method : str
        ``"fay"``, ``"brr"``, ``"jk1"``, ``"jk2"`` or ``"other"`` (for display).
    pv_sampling : {"all", "first"}
        Average the sampling variance over all plausible values, or use the first one only.
    label : str
        Short description (e.g. ``"PISA (Fay k=0.5, 80 replicates)"``).
    n_pv : int or None
        Number of plausible values of the study (PISA 2000-2012, TIMSS, PIRLS: 5; PISA 2015
        and later: 10). Every PV set given to an estimator must have exactly this many
        columns; ``None`` checks only that a pattern's PV numbers have no gap.
    """

    data: pd.DataFrame = field(repr=False)
    weight: str
    replicate_weights: np.ndarray = field(repr=False)
    scale: float
    rscales: np.ndarray = field(repr=False)
    mse: bool = True
    method: str = "other"
    pv_sampling: Literal["all", "first"] = "all"
    label: str = ""
    n_pv: int | None = None

    @property
    def n_replicates(self) -> int:
        """Number of replicate weights R."""
        return int(self.replicate_weights.shape[1])

    def weights(self) -> np.ndarray:
        """``(n, R + 1)`` matrix: the final weight, then the replicates."""
        w = self.data[self.weight].to_numpy(dtype=float)
        return np.column_stack([w, self.replicate_weights])

    def subset(self, mask: np.ndarray | pd.Series) -> ReplicateDesign:
        """Restrict the design to some rows (a domain), keeping every replicate."""
        m = np.asarray(mask, dtype=bool)
        return replace(self, data=self.data.loc[m], replicate_weights=self.replicate_weights[m])

    def variance(self, full: np.ndarray, reps: np.ndarray) -> np.ndarray:
        """Return the sampling variance of ``full`` (p,) from replicate estimates (R, p)."""
        center = full if self.mse else reps.mean(axis=0)
        return self.scale * (self.rscales[:, None] * (reps - center) ** 2).sum(axis=0)


def _resolve_replicates(
    data: pd.DataFrame, spec: object, n_replicates: int | None
) -> tuple[np.ndarray, list[str], str, bool]:
    """Return (weights, column names, how they were found, found by a pattern)."""
    if isinstance(spec, np.ndarray):
        try:
            arr = np.asarray(spec, dtype=float)
        except ValueError as exc:
            raise TypeError(f"replicate_weights: the array must hold numbers ({exc}).") from exc
        if arr.ndim != 2 or arr.shape[0] != len(data):
            raise ValueError(
                f"replicate_weights: an array must have shape (n_rows={len(data)}, R), "
                f"got {arr.shape}."
            )
        _check_count(arr.shape[1], n_replicates, "the array has")
        names = [f"array column {j}" for j in range(arr.shape[1])]
        if np.isnan(arr).any():
            j = int(np.where(np.isnan(arr).any(axis=0))[0][0])
            rows = list(data.index[np.isnan(arr[:, j])])
            raise ValueError(f"replicate weight {names[j]} is missing in rows {preview(rows)}.")
        return arr, names, "the array has", False
    if isinstance(spec, str):
        cols = [c for c in data.columns if re.fullmatch(spec, str(c))]
        if not cols:
            raise ValueError(f"replicate_weights: no column matches the pattern {spec!r}.")
        cols = sorted(cols, key=_natural_key)
        _check_numbering(cols, f"replicate_weights: the columns matching {spec!r}")
        found = f"the pattern {spec!r} matches"
        pattern = True
    else:
        cols = check_columns(data, list(spec), "replicate_weights")  # type: ignore[arg-type]
        found = "the list has"
        pattern = False
    _check_count(len(cols), n_replicates, found)
    arr = np.column_stack([numeric_column(data, c, "replicate_weights") for c in cols])
    if np.isnan(arr).any():
        j = int(np.where(np.isnan(arr).any(axis=0))[0][0])
        rows = list(data.index[np.isnan(arr[:, j])])
        raise ValueError(f"replicate weight {cols[j]!r} is missing in rows {preview(rows)}.")
    return arr, [str(c) for c in cols], found, pattern


@dataclass(frozen=True)
class _Pattern:
    """What the ratios of the replicate weights to the final weight look like."""

    kind: str  # "fay", "brr", "jk1", "jkn", "jk2", "degenerate" or "unknown"
    text: str  # the ratios in words, for messages
    k: float = math.nan  # Fay's k (kind "fay")
    exact: bool = True  # ratios equal to the factors to 1e-6 (not adjusted replicates)


_METHOD_NAMES = {
    "fay": "Fay's BRR",
    "brr": "balanced repeated replication (BRR)",
    "jk1": "a delete-one jackknife (JK1)",
    "jkn": "a stratified jackknife (JKn)",
    "jk2": "a paired jackknife (JK2)",
}


def _replicate_pattern(ratio: np.ndarray) -> _Pattern:
    r"""Classify replicate designs by the replicate-to-final-weight ratios.

    Fay: every ratio is about :math:`k` or :math:`2-k`; BRR: 0 or 2; JK1: 0 for the deleted
    PSU and :math:`n/(n-1)` for every other row; JKn: 0, :math:`n_h/(n_h-1)` in the deleted
    PSU's stratum and 1 elsewhere; JK2: 0 or 2 in a zone and 1 elsewhere. Medians are used, so
    that replicates adjusted for nonresponse (ratios near, not at, the factors) still classify.
    """
    zero = np.abs(ratio) <= 1e-9
    nz = ratio[~zero]
    if nz.size == 0:
        return _Pattern("unknown", "0 in every row")
    if not zero.any():
        if np.all(np.abs(ratio - 1) <= 1e-9):
            return _Pattern("degenerate", "1 in every row (every replicate is the final weight)")
        lo, hi = nz[nz < 1 - 1e-9], nz[nz > 1 + 1e-9]
        if lo.size and hi.size:
            k, k2 = float(np.median(lo)), float(np.median(hi))
            ones = float(np.mean(np.abs(nz - 1) < 1e-9))
            if abs(k + k2 - 2) < 0.1 and ones < 0.9:
                dist = np.minimum(np.abs(nz - k), np.abs(nz - (2 - k)))
                exact = bool(np.all(np.minimum(dist, np.abs(nz - 1)) < 1e-6))
                also = f", and 1 in {ones:.0%} of the cells" if ones else ""
                return _Pattern(
                    "fay",
                    f"{k:.4g} or {k2:.4g}{'' if exact else ' (medians)'} (Fay's k and 2 - k{also})",
                    k,
                    exact,
                )
        return _Pattern("unknown", _ratio_text(nz))
    near1 = np.abs(nz - 1) <= 1e-6
    near2 = np.abs(nz - 2) < 0.1
    zero_share = f"0 in {zero.mean():.1%} of the row-replicate cells"
    if near2.mean() > 0.9 and zero.any(axis=0).all():
        return _Pattern("brr", f"{zero_share}, about 2 elsewhere (BRR's 0 and 2)")
    if (near1 | near2).mean() > 0.99 and near1.any() and near2.any():
        return _Pattern("jk2", f"{zero_share}, 2 in their zone and 1 elsewhere (JK2)")
    rest = nz[~near1]
    if rest.size and np.all((rest > 1) & (rest <= 2.05)):
        if near1.mean() < 0.01:
            c = float(np.median(rest))
            n = c / (c - 1) if c > 1 else math.inf
            exact = bool(np.all(np.abs(rest - c) < 1e-6))
            return _Pattern(
                "jk1",
                f"{zero_share}, {c:.6g} elsewhere (n/(n-1) for n = {n:.4g}: JK1)",
                exact=exact,
            )
        return _Pattern("jkn", f"{zero_share}, 1 or n_h/(n_h-1) elsewhere (JKn)")
    return _Pattern("unknown", f"{zero_share}, {_ratio_text(nz)} elsewhere")


def _ratio_text(values: np.ndarray) -> str:
    q = np.quantile(values, [0, 0.5, 1])
    return f"between {q[0]:.4g} and {q[2]:.4g} (median {q[1]:.4g})"


def _check_replicates(
    w: np.ndarray,
    reps: np.ndarray,
    names: list[str],
    weight: str,
    method: str | None,
    fay_k: float | None,
) -> tuple[str, float | None]:
    """Check the replicate weights against the final weight; infer the method if not given.

    Refuses a replicate identical to the final weight (among others that differ),
    replication factors given instead of weights, a method that does not fit the
    ratios (JK1 weights under ``method="fay"`` give SEs several times too small), a Fay ``k``
    that does not fit, and JK1 designs in which a row is deleted in no replicate or in several
    (a replicate missing or repeated).
    """
    rows = np.flatnonzero(w > 0)
    wp = w[rows]
    # the pattern is read from at most 50,000 rows (evenly spread); the exact checks use all
    sample = (
        rows if rows.size <= 50_000 else rows[np.linspace(0, rows.size - 1, 50_000).astype(int)]
    )
    ratio = reps[sample] / w[sample, None]
    same = np.array([np.all(np.abs(reps[rows, j] - wp) <= 1e-9 * wp) for j in range(reps.shape[1])])
    if same.any() and not same.all():
        cols = [names[j] for j in np.where(same)[0]]
        raise ValueError(
            f"replicate_weights: {preview(cols, 4)} equal the final weight {weight!r} in every "
            "row; they are not replicates (a list or pattern that picked up the final weight?). "
            "Leave them out."
        )
    pattern = _replicate_pattern(ratio)
    if pattern.kind == "unknown" and not np.allclose(wp, wp[0]):
        as_factors = _replicate_pattern(reps[sample])
        if as_factors.kind in _METHOD_NAMES:
            raise ValueError(
                f"replicate_weights: the columns hold replication factors ({as_factors.text}), "
                f"not replicate weights: their ratios to the final weight {weight!r} are "
                f"{pattern.text}. Multiply them by the final weight first "
                f"(data[cols].mul(data[{weight!r}], axis=0))."
            )
    if method == "other":
        return method, fay_k
    if pattern.kind == "degenerate":
        if method is None:
            raise ValueError(
                f"replicate_weights: every replicate equals the final weight {weight!r}; the "
                "SEs would all be 0. Check the columns, or pass method= if this is intended."
            )
        return method, fay_k
    found = f"their ratios to the final weight {weight!r} are {pattern.text}" + (
        f", which looks like {_METHOD_NAMES[pattern.kind]}" if pattern.kind in _METHOD_NAMES else ""
    )
    if method is None:
        if pattern.kind == "fay" and fay_k is None and not pattern.exact:
            raise ValueError(
                f"replicate_weights: {found}, but not exactly (adjusted replicates), so k cannot "
                "be read from them; pass method='fay' and the study's fay_k."
            )
        if pattern.kind in ("fay", "brr", "jk1"):
            method = pattern.kind
        elif pattern.kind == "jk2":
            raise ValueError(
                f"replicate_weights: {found}. Whether the variance is summed over one or both "
                "halves of each zone depends on the study: use timss_design/pirls_design, or "
                "pass method='jk2' (one replicate per zone, scale 1) or method='other' with "
                "scale=0.5 (both halves, TIMSS 2015 and later)."
            )
        elif pattern.kind == "jkn":
            raise ValueError(
                f"replicate_weights: {found}; its replicate scales depend on the strata: build "
                "it with jackknife_design(data, weight, cluster, strata), or pass "
                "method='other', scale=1 and rscales=(n_h - 1)/n_h."
            )
        else:
            raise ValueError(
                f"replicate_weights: the method cannot be told from the weights: {found}. Pass "
                "method= ('fay', 'brr', 'jk1', 'jk2', or 'other' with scale=) as the study "
                "documents it."
            )
    ok = {
        "fay": pattern.kind == "fay",
        "brr": pattern.kind == "brr",
        "jk1": pattern.kind == "jk1" or (pattern.kind == "brr" and reps.shape[1] == 2),
        "jk2": pattern.kind == "jk2",
    }[method]
    if not ok and pattern.kind == "unknown" and "elsewhere" in pattern.text and method != "fay":
        # zeros and other ratios: adjusted jackknife or BRR replicates, not confirmed either way
        warnings.warn(
            f"replicate_weights: {found}; method={method!r} could not be confirmed from them "
            "(adjusted replicates?). Check it against the study's documentation.",
            UserWarning,
            stacklevel=3,
        )
        ok = True
    if not ok:
        raise ValueError(
            f"replicate_weights: method={method!r} does not fit these replicate weights: "
            f"{found}. The variance formula of the wrong method gives wrong SEs (JK1 weights "
            "under Fay's formula: several times too small). Pass the method that fits, or "
            "method='other' with scale= if the study documents another formula."
        )
    if method == "fay":
        if fay_k is None:
            if not pattern.exact:
                raise ValueError(
                    f"replicate_weights: {found}; pass the study's fay_k (the ratios are "
                    "adjusted, so k cannot be read exactly from them)."
                )
            fay_k = round(pattern.k, 6)
        elif abs(pattern.k - fay_k) > 0.1:
            raise ValueError(
                f"replicate_weights: fay_k={fay_k} does not fit these replicate weights: {found}."
            )
    if method == "jk1" and pattern.kind == "jk1":
        deleted = np.zeros(rows.size, dtype=int)
        for j in range(reps.shape[1]):
            deleted += np.abs(reps[rows, j]) <= 1e-9 * wp
        for bad, what in (
            (deleted == 0, "is deleted in no replicate: a replicate weight is missing"),
            (deleted > 1, "is deleted in several replicates: not a delete-one jackknife"),
        ):
            if bad.any():
                raise ValueError(
                    "replicate_weights (JK1): row(s) at positions "
                    f"{preview(rows[bad].tolist(), 5)} {what} ({reps.shape[1]} replicates found)."
                )
    return method, fay_k


def _check_count(found: int, expected: int | None, what: str) -> None:
    if expected is not None and found != expected:
        raise ValueError(
            f"replicate_weights: {what} {found} replicate weights, n_replicates={expected}."
        )


def _check_numbering(cols: Sequence[str], what: str) -> None:
    """Raise if the trailing numbers of ``cols`` (sorted naturally) skip a value."""
    nums = []
    for c in cols:
        m = re.search(r"(\d+)\D*$", str(c))
        if m is None:
            return
        nums.append(int(m.group(1)))
    if len(set(nums)) != len(nums):
        return
    full = set(range(min(nums), max(nums) + 1))
    gaps = sorted(full - set(nums))
    if gaps:
        raise ValueError(
            f"{what} are numbered {min(nums)}..{max(nums)} but number(s) {preview(gaps, 6)} "
            f"are missing ({len(cols)} of {len(full)} found); check the column names."
        )


def _natural_key(name: object) -> list[object]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(name))]


def _check_weight(data: pd.DataFrame, weight: str) -> np.ndarray:
    weight = check_column(data, weight, "weight")
    w = numeric_column(data, weight, "weight")
    bad = np.isnan(w) | (w < 0)
    if bad.any():
        rows = list(data.index[bad])
        raise ValueError(
            f"weight: column {weight!r} is missing or negative in rows {preview(rows)}."
        )
    return w


def replicate_design(
    data: pd.DataFrame,
    weight: str,
    replicate_weights: Sequence[str] | str | np.ndarray,
    *,
    method: Method | None = None,
    fay_k: float | None = None,
    scale: float | None = None,
    rscales: Sequence[float] | None = None,
    mse: bool = True,
    pv_sampling: Literal["all", "first"] = "all",
    n_replicates: int | None = None,
    n_pv: int | None = None,
) -> ReplicateDesign:
    r"""Build a replicate-weight design for any survey.

    Parameters
    ----------
    data : pandas.DataFrame
        Survey data, one row per respondent.
    weight : str
        Final weight column.
    replicate_weights : list of str, regex str or array
        Replicate weight columns (a regular expression such as ``r"W_FSTURWT\d+"`` is
        matched against the column names and sorted naturally), or an ``(n, R)`` array.
        A pattern must not skip a number (``...36``, ``...38`` is an error). Columns of text
        (``"31,302"``) are an error naming the column.
    method : {"fay", "brr", "jk1", "jk2", "other"}, optional
        Sets the default ``scale``: Fay :math:`1/(R(1-k)^2)`, BRR :math:`1/R`, JK1
        :math:`(R-1)/R`, JK2 1; ``"other"`` needs ``scale`` and is not checked. Default:
        inferred from the weights (Fay with the k of the ratios, BRR or JK1; JK2 and JKn,
        whose scales depend on the study, must be named), and an error if they fit none.
        A method that does not fit the weights is refused (see Notes).
    fay_k : float, optional
        Fay's factor :math:`k` (replicate weights multiplied by :math:`2-k` or :math:`k`);
        default: read from the ratios (PISA: 0.5), which must then be exact.
    scale : float, optional
        Override the scale :math:`c`.
    rscales : list of float, optional
        Per-replicate scales :math:`s_r` (default 1; e.g. :math:`(n_h-1)/n_h` for JKn).
    mse : bool, default True
        Centre on the full-sample estimate (PISA, IEA). R's survey default is False.
    pv_sampling : {"all", "first"}, default "all"
        Sampling variance of PV estimates from all PVs (averaged) or from the first only.
    n_replicates : int, optional
        The number of replicate weights the study documents; a different count is an error.
        Without it, Fay and BRR designs (columns, pattern or array) must have 2 or a multiple
        of 4 replicates (Hadamard orders), JK1 designs must delete every row in exactly one
        replicate, and ``"jk2"`` and ``"other"`` with a pattern need it.
    n_pv : int, optional
        The number of plausible values of the study; estimators refuse PV sets of another
        size (see :class:`ReplicateDesign`).

    Returns
    -------
    ReplicateDesign

    Notes
    -----
    The weights are checked against the final weight :math:`w`: the ratios
    :math:`w_r / w` are :math:`k` or :math:`2-k` under Fay's method, 0 or 2 under BRR, 0 (the
    deleted PSU) or :math:`n/(n-1)` under JK1, 0, 1 or 2 under JK2 (medians, so that
    replicates adjusted for nonresponse still fit). A method that does not fit is refused (40
    JK1 replicates under Fay's formula gave an SE three times too small), and so are a
    replicate equal to the final weight (a list that picked it up), replication factors (0.5
    and 1.5) given instead of weights, and JK1 replicates that delete a row twice or never.

    Matches ``survey::svrepdesign(data, weights, repweights, type, rho = fay_k, scale,
    rscales, mse, combined.weights = TRUE)``. A replicate design carries no finite population
    correction unless it is in ``scale``/``rscales`` (see :func:`jackknife_design`'s
    ``fpc``); survey's ``as.svrepdesign`` folds :math:`1 - f` into the scale in the same way.

    References
    ----------
    .. [1] Wolter, K. M. (2007). *Introduction to Variance Estimation* (2nd ed.). Springer.
       https://doi.org/10.1007/978-0-387-35099-8
    .. [2] Judkins, D. R. (1990). Fay's method for variance estimation. *Journal of Official
       Statistics*, 6(3), 223-239.
    .. [3] Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": 1.0})
    >>> jk = 4 / 3 * (1 - np.eye(4))            # delete-one jackknife, weights n/(n-1)
    >>> des = replicate_design(df, "w", jk, method="jk1")
    >>> lsa_mean(des, "y", sd=False)[["estimate", "se"]].round(4).iloc[0].tolist()
    [2.5, 0.6455]
    """
    data = check_frame(data)
    check_footer(data, "replicate_design")
    w = _check_weight(data, weight)
    if method is not None:
        check_choice(method, "method", ("fay", "brr", "jk1", "jk2", "other"))
    check_choice(pv_sampling, "pv_sampling", ("all", "first"))
    n_replicates = _check_positive_int(n_replicates, "n_replicates")
    n_pv = _check_positive_int(n_pv, "n_pv")
    if method == "other" and scale is None:
        raise ValueError("method='other' needs an explicit scale.")
    if fay_k is not None and not 0 <= fay_k < 1:
        raise ValueError(f"fay_k must be in [0, 1), got {fay_k}.")
    reps, names, found, by_pattern = _resolve_replicates(data, replicate_weights, n_replicates)
    r = reps.shape[1]
    if r < 2:
        raise ValueError(f"replicate_weights: need at least 2 replicates, got {r}.")
    given = method
    method, fay_k = _check_replicates(w, reps, names, weight, method, fay_k)
    if n_replicates is None and method in ("fay", "brr") and not (r == 2 or r % 4 == 0):
        raise ValueError(
            f"replicate_weights: {found} {r} columns ({names[0]!r} .. {names[-1]!r}), but "
            f"{method} designs have 2 or a multiple of 4 replicates (the order of a Hadamard "
            "matrix; PISA has 80). A column is probably missing, misnamed or one too many; "
            "pass n_replicates= to confirm the number."
        )
    if n_replicates is None and by_pattern and method in ("jk2", "other"):
        raise ValueError(
            f"replicate_weights: {found} {r} columns ({names[0]!r} .. {names[-1]!r}); with "
            f"method={method!r} the number of replicates cannot be checked from the weights, "
            "so pass n_replicates= (the number the study documents), or list the columns."
        )
    if scale is None:
        k = 0.5 if fay_k is None else fay_k
        scale = {
            "fay": 1 / (r * (1 - k) ** 2),
            "brr": 1 / r,
            "jk1": (r - 1) / r,
            "jk2": 1.0,
        }[method]
    rs = np.ones(r) if rscales is None else np.asarray(rscales, dtype=float)
    if rs.shape != (r,):
        raise ValueError(f"rscales: need {r} values (one per replicate), got {rs.shape}.")
    how = "" if given is not None else ", inferred from the weights"
    k_txt = f" k={fay_k:g}" if method == "fay" and fay_k is not None else ""
    label = f"{method}{k_txt} ({r} replicates, scale {scale:.4g}{', mse' if mse else ''}{how})"
    return ReplicateDesign(
        data, weight, reps, float(scale), rs, mse, method, pv_sampling, label, n_pv
    )


def _check_positive_int(value: int | None, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _pv_count_in(data: pd.DataFrame) -> int | None:
    """Return the largest PV number among PISA-style columns ``PV<m><DOMAIN>``, or None."""
    nums = [
        int(m.group(1)) for c in data.columns if (m := re.fullmatch(r"PV(\d+)[A-Z]\w*", str(c)))
    ]
    return max(nums) if nums else None


def pisa_design(
    data: pd.DataFrame,
    *,
    weight: str = "W_FSTUWT",
    replicate_prefix: str = "W_FSTURWT",
    n_replicates: int = 80,
    fay_k: float = 0.5,
    n_pv: int | None = None,
) -> ReplicateDesign:
    r"""PISA's design: final weight ``W_FSTUWT``, 80 Fay replicates ``W_FSTURWT1..80``, k = 0.5.

    Parameters
    ----------
    data : pandas.DataFrame
        A PISA student file (one country, or several analysed by group).
    weight : str, default "W_FSTUWT"
    replicate_prefix : str, default "W_FSTURWT"
        PISA 2000-2012 files name them ``W_FSTR1..80``: pass ``replicate_prefix="W_FSTR"``.
    n_replicates : int, default 80
    fay_k : float, default 0.5
    n_pv : int, optional
        Plausible values per domain: 5 up to PISA 2012, 10 from PISA 2015. Default: the
        largest ``m`` among the file's ``PV<m><DOMAIN>`` columns (``PV1MATH``...), which must
        be 5 or 10 (a file whose tenth PV is missing is refused, not pooled over nine), so
        that a domain with a missing PV column is refused rather than pooled over fewer
        values.

    Returns
    -------
    ReplicateDesign
        Sampling variance :math:`\frac{1}{R(1-k)^2}\sum_r(\hat\theta_r-\hat\theta)^2 =
        0.05\sum_r(\hat\theta_r-\hat\theta)^2`; PVs pooled over all values.

    Notes
    -----
    As in the OECD's PISA Data Analysis Manual and intsvy's ``pisa.mean.pv`` etc.; in R,
    ``svrepdesign(type = "Fay", rho = 0.5, mse = TRUE)``.

    References
    ----------
    .. [1] OECD (2009). *PISA Data Analysis Manual: SPSS* (2nd ed.), ch. 7-8. OECD Publishing.
       https://doi.org/10.1787/9789264056275-en
    """
    data = check_frame(data)
    cols = [f"{replicate_prefix}{i}" for i in range(1, n_replicates + 1)]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(
            f"pisa_design: replicate weight column(s) {preview(missing, 4)} are not in data; "
            "PISA 2000-2012 files use replicate_prefix='W_FSTR'."
        )
    if n_pv is None:
        n_pv = _pv_count_in(data)
        if n_pv is not None and n_pv not in (5, 10):
            raise ValueError(
                f"pisa_design: the file's plausible values are numbered up to {n_pv} "
                f"(PV1..PV{n_pv}), but PISA has 5 (2000-2012) or 10 (2015 and later) per domain: "
                "a plausible-value column is probably missing. Pass n_pv= (the cycle's count) "
                "to confirm it, and the estimators will refuse incomplete sets."
            )
    des = replicate_design(data, weight, cols, method="fay", fay_k=fay_k, mse=True, n_pv=n_pv)
    pvs = f", {n_pv} PVs" if n_pv else ""
    return replace(des, label=f"PISA (Fay k={fay_k}, {n_replicates} replicates{pvs})")


def _iea_design(
    data: pd.DataFrame,
    weight: str,
    zone: str,
    rep: str,
    full: bool,
    n_zones: int | None,
    label: str,
    n_pv: int | None,
) -> ReplicateDesign:
    data = check_frame(data)
    check_footer(data, "timss_design/pirls_design")
    n_pv = _check_positive_int(n_pv, "n_pv")
    w = _check_weight(data, weight)
    zone = check_column(data, zone, "zone")
    rep = check_column(data, rep, "rep")
    z = pd.to_numeric(data[zone], errors="coerce").to_numpy(dtype=float)
    k = pd.to_numeric(data[rep], errors="coerce").to_numpy(dtype=float)
    bad_z = np.isnan(z) | (z < 1) | (z != np.round(z))
    if bad_z.any():
        raise ValueError(
            f"zone: column {zone!r} must hold zone numbers 1, 2, ...; bad rows "
            f"{preview(list(data.index[bad_z]))}."
        )
    bad_k = ~np.isin(k, (0.0, 1.0))
    if bad_k.any():
        raise ValueError(
            f"rep: column {rep!r} must be 0 or 1; bad rows {preview(list(data.index[bad_k]))}."
        )
    nz = int(z.max()) if n_zones is None else int(n_zones)
    if z.max() > nz:
        raise ValueError(f"n_zones={nz} but column {zone!r} has zone {int(z.max())}.")
    zones = np.arange(1, nz + 1)
    in_zone = z[:, None] == zones[None, :]
    first = np.where(in_zone, 2 * w[:, None] * k[:, None], w[:, None])
    if full:
        second = np.where(in_zone, 2 * w[:, None] * (1 - k[:, None]), w[:, None])
        reps = np.column_stack([first, second])
        scale, sampling = 0.5, "all"
    else:
        reps, scale, sampling = first, 1.0, "first"
    return ReplicateDesign(
        data, weight, reps, scale, np.ones(reps.shape[1]), True, "jk2", sampling, label, n_pv
    )


def timss_design(
    data: pd.DataFrame,
    *,
    cycle: int = 2019,
    weight: str = "TOTWGT",
    zone: str = "JKZONE",
    rep: str = "JKREP",
    n_zones: int | None = None,
    n_pv: int | None = 5,
) -> ReplicateDesign:
    r"""TIMSS's jackknife (JK2) design built from ``TOTWGT``, ``JKZONE`` and ``JKREP``.

    Parameters
    ----------
    data : pandas.DataFrame
        A TIMSS student file.
    cycle : int, default 2019
        2015 and later: both halves of each zone give a replicate (2 x zones, usually 150),
        variance :math:`\frac12\sum_r(\hat\theta_r-\hat\theta)^2` averaged over all PVs.
        Before 2015: one replicate per zone (usually 75), variance
        :math:`\sum_r(\hat\theta_r-\hat\theta)^2` from the first PV only.
    weight, zone, rep : str
        Column names (IEA defaults).
    n_zones : int, optional
        Number of zones (default: the largest ``JKZONE``, as intsvy does; zones beyond a
        country's last contribute nothing).
    n_pv : int or None, default 5
        Plausible values per scale (TIMSS has 5 in every cycle); PV sets of another size are
        refused.

    Returns
    -------
    ReplicateDesign

    Notes
    -----
    In zone :math:`h` the replicate weights are :math:`2w\cdot\mathrm{JKREP}` and (2015+)
    :math:`2w(1-\mathrm{JKREP})`; outside it they equal :math:`w`. As intsvy's
    ``timss.mean.pv`` etc.; in R, ``svrepdesign(type = "other", scale = 0.5, mse = TRUE)``
    on those weights.

    References
    ----------
    .. [1] Foy, P., & LaRoche, S. (2020). Estimating standard errors in the TIMSS 2019 results.
       In *Methods and Procedures: TIMSS 2019 Technical Report*, ch. 14. TIMSS & PIRLS
       International Study Center, Boston College.
    .. [2] Caro, D. H., & Biecek, P. (2017). intsvy: an R package for analyzing international
       large-scale assessment data. *Journal of Statistical Software*, 81(7).
       https://doi.org/10.18637/jss.v081.i07
    """
    full = cycle >= 2015
    label = f"TIMSS {cycle} (JK2, {'both halves' if full else 'one half'} per zone)"
    return _iea_design(data, weight, zone, rep, full, n_zones, label, n_pv)


def pirls_design(
    data: pd.DataFrame,
    *,
    cycle: int = 2021,
    weight: str = "TOTWGT",
    zone: str = "JKZONE",
    rep: str = "JKREP",
    n_zones: int | None = None,
    n_pv: int | None = 5,
) -> ReplicateDesign:
    """PIRLS's jackknife design; as :func:`timss_design` with the switch at the 2016 cycle.

    Parameters
    ----------
    data : pandas.DataFrame
    cycle : int, default 2021
        2016 and later: both halves per zone, variance halved, all PVs; earlier: one half,
        first PV only.
    weight, zone, rep : str
    n_zones : int, optional
    n_pv : int or None, default 5
        Plausible values per scale (5 in PIRLS).

    Returns
    -------
    ReplicateDesign
    """
    full = cycle >= 2016
    label = f"PIRLS {cycle} (JK2, {'both halves' if full else 'one half'} per zone)"
    return _iea_design(data, weight, zone, rep, full, n_zones, label, n_pv)


def jackknife_design(
    data: pd.DataFrame,
    weight: str,
    cluster: str,
    strata: str | None = None,
    *,
    fpc: str | None = None,
    mse: bool = True,
    n_pv: int | None = None,
) -> ReplicateDesign:
    r"""Delete-one-cluster jackknife replicate weights, for surveys that ship none.

    Parameters
    ----------
    data : pandas.DataFrame
        Survey data.
    weight : str
        Final weight column.
    cluster : str
        Primary sampling unit (school, class) column.
    strata : str, optional
        Stratum column; without it the design is JK1.
    fpc : str, optional
        Finite population correction, as ``svydesign(fpc = ~col)``: a column holding, for
        each row, either the number of clusters in the population of its stratum
        :math:`N_h` (values above 1) or the sampling fraction :math:`f_h = n_h/N_h` (values
        up to 1); constant within a stratum. Without it the clusters are taken as sampled
        with replacement (:math:`f_h = 0`), which overstates the variance when a large
        share of the clusters was sampled.
    mse : bool, default True
        Centre on the full-sample estimate.
    n_pv : int, optional
        Number of plausible values of the study (see :class:`ReplicateDesign`).

    Returns
    -------
    ReplicateDesign
        One replicate per cluster: its weights set to 0 and the other clusters of its
        stratum multiplied by :math:`n_h/(n_h - 1)`. JK1: scale
        :math:`\frac{R-1}{R}(1 - f)`; JKn (stratified): scale 1 and replicate scales
        :math:`\frac{n_h - 1}{n_h}(1 - f_h)`.

    Notes
    -----
    Matches ``survey::as.svrepdesign(svydesign(ids = ~cluster, strata = ~strata,
    weights = ~weight, fpc = ~fpc), type = "JK1"`` or ``"JKn")``. Only the first stage is
    used (the ultimate-cluster variance): with ``fpc`` for later stages too, R's
    ``svydesign`` adds their (usually small) contribution to its linearised variance, which
    a replicate design does not have.

    References
    ----------
    .. [1] Wolter, K. M. (2007). *Introduction to Variance Estimation* (2nd ed.), ch. 4.
       Springer. https://doi.org/10.1007/978-0-387-35099-8

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"school": [1, 1, 2, 2, 3, 3], "y": [1.0, 2, 3, 4, 5, 6], "w": 1.0})
    >>> des = jackknife_design(df, "w", "school")
    >>> des.n_replicates, round(des.scale, 4)
    (3, 0.6667)
    """
    data = check_frame(data)
    check_footer(data, "jackknife_design")
    w = _check_weight(data, weight)
    cluster = check_column(data, cluster, "cluster")
    if data[cluster].isna().any():
        rows = list(data.index[data[cluster].isna()])
        raise ValueError(f"cluster: column {cluster!r} is empty in rows {preview(rows)}.")
    if strata is None:
        stratum = np.zeros(len(data), dtype=int)
    else:
        strata = check_column(data, strata, "strata")
        if data[strata].isna().any():
            rows = list(data.index[data[strata].isna()])
            raise ValueError(f"strata: column {strata!r} is empty in rows {preview(rows)}.")
        stratum = pd.factorize(data[strata], sort=True)[0]
    psu = pd.factorize(pd.Series(list(zip(stratum, data[cluster], strict=True))), sort=True)[0]
    n_psu = psu.max() + 1
    psu_stratum = np.zeros(n_psu, dtype=int)
    psu_stratum[psu] = stratum
    n_h = np.bincount(psu_stratum)
    if (n_h < 2).any():
        bad = int(np.where(n_h < 2)[0][0])
        raise ValueError(
            f"strata: a stratum has a single cluster (stratum number {bad}); the jackknife needs "
            "at least two per stratum (merge it with a neighbour)."
        )
    f_h = _sampling_fractions(data, fpc, stratum, n_h, strata)
    reps = np.repeat(w[:, None], n_psu, axis=1)
    for r in range(n_psu):
        h = psu_stratum[r]
        in_h = stratum == h
        reps[in_h, r] *= n_h[h] / (n_h[h] - 1)
        reps[psu == r, r] = 0.0
    fpc_txt = f", fpc {fpc!r}" if fpc is not None else ""
    if strata is None:
        des = replicate_design(
            data,
            weight,
            reps,
            method="jk1",
            scale=(n_psu - 1) / n_psu * (1 - f_h[0]),
            mse=mse,
            n_pv=n_pv,
        )
        return replace(des, label=f"JK1 ({n_psu} clusters{fpc_txt})")
    rscales = (n_h[psu_stratum] - 1) / n_h[psu_stratum] * (1 - f_h[psu_stratum])
    des = replicate_design(
        data,
        weight,
        reps,
        method="other",
        scale=1.0,
        rscales=rscales,
        mse=mse,
        n_pv=n_pv,
    )
    return replace(des, method="jkn", label=f"JKn ({n_psu} clusters in {len(n_h)} strata{fpc_txt})")


def _sampling_fractions(
    data: pd.DataFrame,
    fpc: str | None,
    stratum: np.ndarray,
    n_h: np.ndarray,
    strata: str | None,
) -> np.ndarray:
    r"""Return the sampling fraction :math:`f_h = n_h / N_h` of clusters per stratum (0: no fpc).

    ``fpc`` holds :math:`N_h` (values above 1) or :math:`f_h` (values up to 1), as in R's
    ``svydesign``; it must be constant within a stratum and give :math:`N_h \ge n_h`.
    """
    if fpc is None:
        return np.zeros(n_h.size)
    fpc = check_column(data, fpc, "fpc")
    v = pd.to_numeric(data[fpc], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(v) | (v <= 0)
    if bad.any():
        raise ValueError(
            f"fpc: column {fpc!r} must hold positive numbers (population numbers of clusters "
            f"or sampling fractions); bad rows {preview(list(data.index[bad]))}."
        )
    where = "the sample" if strata is None else "a stratum"
    f_h = np.zeros(n_h.size)
    for h in range(n_h.size):
        vals = np.unique(v[stratum == h])
        if vals.size > 1:
            raise ValueError(
                f"fpc: column {fpc!r} takes several values {preview(vals.tolist(), 4)} within "
                f"{where}; it must be constant within each stratum."
            )
        val = float(vals[0])
        if val > 1:
            if val < n_h[h]:
                raise ValueError(
                    f"fpc: column {fpc!r} says {val:g} clusters in the population but "
                    f"{n_h[h]} were sampled (in {where}); give N_h >= n_h or the fraction."
                )
            f_h[h] = n_h[h] / val
        else:
            f_h[h] = val
    return f_h


# ---------------------------------------------------------------------------------------------
# Rubin's rules and the generic engine
# ---------------------------------------------------------------------------------------------


def rubin_combine(
    estimates: Sequence[float] | np.ndarray, variances: Sequence[float] | np.ndarray
) -> pd.DataFrame:
    r"""Combine estimates from plausible values (multiple imputations) by Rubin's rules.

    Parameters
    ----------
    estimates : array-like, shape (M,) or (M, p)
        One estimate (or row of p estimates) per plausible value.
    variances : array-like, same shape
        Their sampling variances.

    Returns
    -------
    pandas.DataFrame
        One row per statistic: ``estimate`` (:math:`\bar\theta`), ``se``, ``within``
        (:math:`\bar U`), ``between`` (:math:`B`), ``total``, ``df``, ``fmi`` (fraction of
        missing information), ``m``.

    Notes
    -----
    .. math::

        T = \bar U + (1 + 1/M)B, \quad r = (1 + 1/M)B/\bar U, \quad
        \nu = (M - 1)(1 + 1/r)^2, \quad \mathrm{fmi} = \frac{r + 2/(\nu + 3)}{r + 1}.

    Matches ``mitools::MIcombine`` (its ``df`` and ``missinfo``).

    References
    ----------
    .. [1] Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
       https://doi.org/10.1002/9780470316696

    Examples
    --------
    >>> res = rubin_combine([1.0, 1.5, 1.2, 0.9, 1.4], [0.04, 0.05, 0.045, 0.05, 0.04])
    >>> res[["estimate", "se"]].round(4).iloc[0].tolist()
    [1.2, 0.3507]
    """
    est = np.asarray(estimates, dtype=float)
    var = np.asarray(variances, dtype=float)
    if est.shape != var.shape or est.ndim not in (1, 2):
        raise ValueError(
            f"estimates and variances must have the same shape (M,) or (M, p), got "
            f"{est.shape} and {var.shape}."
        )
    if est.ndim == 1:
        est, var = est[:, None], var[:, None]
    m = est.shape[0]
    if m < 1:
        raise ValueError("need at least one estimate.")
    qbar = est.mean(axis=0)
    ubar = var.mean(axis=0)
    if m > 1:
        b = est.var(axis=0, ddof=1)
        total = ubar + (1 + 1 / m) * b
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (1 + 1 / m) * b / ubar
            df = (m - 1) * (1 + 1 / r) ** 2
            fmi = (r + 2 / (df + 3)) / (r + 1)
    else:
        b = np.zeros_like(qbar)
        total = ubar
        df = np.full_like(qbar, np.inf)
        fmi = np.zeros_like(qbar)
    return pd.DataFrame(
        {
            "estimate": qbar,
            "se": np.sqrt(total),
            "within": ubar,
            "between": b,
            "total": total,
            "df": df,
            "fmi": fmi,
            "m": m,
        }
    )


def _variable(
    data: pd.DataFrame, spec: str | Sequence[str], param: str, n_pv: int | None = None
) -> tuple[str, list[str]]:
    """Resolve a variable spec to (label, list of columns): one column or the PV columns.

    A ``"PV@MATH"`` pattern must match consecutive PV numbers, and a PV set (pattern or list
    of more than one column) must have the design's number of plausible values ``n_pv``.
    """
    if isinstance(spec, str):
        if "@" in spec:
            pattern = re.escape(spec).replace("@", r"(\d+)")
            found = []
            for c in data.columns:
                mt = re.fullmatch(pattern, str(c))
                if mt:
                    found.append((int(mt.group(1)), str(c)))
            if not found:
                raise ValueError(f"{param}: no columns match the plausible-value pattern {spec!r}.")
            found.sort()
            nums = [k for k, _ in found]
            gaps = sorted(set(range(nums[0], nums[-1] + 1)) - set(nums))
            if gaps:
                names = [spec.replace("@", str(g)) for g in gaps]
                raise ValueError(
                    f"{param}: the plausible-value pattern {spec!r} matches {len(found)} "
                    f"columns numbered {nums[0]}..{nums[-1]}, but {preview(names, 4)} "
                    "is missing; pooling fewer plausible values would change the estimate "
                    "and its SE."
                )
            cols = [c for _, c in found]
            _check_pv_count(cols, n_pv, param, f"the pattern {spec!r} matches")
            return spec, cols
        return spec, [check_column(data, spec, param)]
    cols = check_columns(data, list(spec), param)
    if len(cols) > 1:
        _check_pv_count(cols, n_pv, param, "the list has")
    label = cols[0] if len(cols) == 1 else f"{cols[0]}..{cols[-1]}"
    return label, cols


#: The numbers of plausible values large-scale assessments publish (PISA, TIMSS, PIRLS, PIAAC,
#: ICILS: 5 or 10; NAEP: 20): without the design's ``n_pv``, a PV set must have one of them.
_STUDY_PV_COUNTS = (5, 10, 20)


def _check_pv_count(cols: list[str], n_pv: int | None, param: str, what: str) -> None:
    if n_pv is None and len(cols) not in _STUDY_PV_COUNTS:
        raise ValueError(
            f"{param}: {what} {len(cols)} plausible values ({cols[0]!r} .. {cols[-1]!r}), not "
            "5, 10 or 20 as the large-scale assessments publish, and the design does not say "
            "how many the study has: a missing PV would change the pooled estimate and its "
            "SE. Build the design with n_pv= (the study's count) to use this set."
        )
    if n_pv is not None and len(cols) != n_pv:
        raise ValueError(
            f"{param}: {what} {len(cols)} plausible values ({cols[0]!r} .. {cols[-1]!r}) but "
            f"the design has n_pv={n_pv}; a missing or extra PV column would silently change "
            "the pooled estimate (build the design with the right n_pv if the study differs)."
        )


def _draws(specs: list[list[str]], param: str) -> int:
    sizes = {len(c) for c in specs if len(c) > 1}
    if len(sizes) > 1:
        raise ValueError(f"{param}: plausible-value lists have different lengths {sorted(sizes)}.")
    return sizes.pop() if sizes else 1


StatFn = Callable[[list[np.ndarray], np.ndarray], np.ndarray]


def _describe(key: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in key.items())


def _run(
    design: ReplicateDesign,
    variables: list[list[str]],
    stat: StatFn,
    *,
    label: str,
    key: Mapping[str, object] | None = None,
    complete: list[str] | None = None,
) -> dict[str, np.ndarray | float | int]:
    """Estimate a vectorised statistic with replicate variance and PV pooling.

    ``stat(columns, W)`` gets one 1-d array per variable (the m-th PV where a variable has
    several) and the ``(n, K)`` weight matrix, and returns ``(K, p)`` estimates. ``label``
    (the variable as the user gave it) and ``key`` (the group) name the estimate in errors.
    """
    data = design.data
    m = _draws(variables, "variables")
    used = sorted({c for cols in variables for c in cols} | set(complete or []))
    ok = data[used].notna().all(axis=1).to_numpy()
    w_all = design.weights()[ok]
    frame = data.loc[ok]
    n = int(ok.sum())
    if n == 0:
        where = f" in the group {_describe(key)}" if key else ""
        empty = [c for c in used if data[c].isna().all()]
        why = f"; {preview(empty, 4)} have no value at all" if empty else ""
        raise ValueError(
            f"{label}: no row{where} has all of {preview(used, 6)} observed "
            f"({len(data)} rows{why}), so there is nothing to estimate."
        )
    ests, vars_ = [], []
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(m):
            cols = [frame[c[i] if len(c) > 1 else c[0]].to_numpy() for c in variables]
            need_reps = design.pv_sampling == "all" or i == 0
            w = w_all if need_reps else w_all[:, :1]
            theta = np.atleast_2d(np.asarray(stat(cols, w), dtype=float))
            ests.append(theta[0])
            if need_reps:
                vars_.append(design.variance(theta[0], theta[1:]))
    est = np.vstack(ests)
    u = np.vstack(vars_)
    qbar = est.mean(axis=0)
    ubar = u.mean(axis=0)
    b = est.var(axis=0, ddof=1) if m > 1 else np.zeros_like(qbar)
    total = ubar + (1 + 1 / m) * b if m > 1 else ubar
    return {
        "estimate": qbar,
        "se": np.sqrt(total),
        "sampling_var": ubar,
        "imputation_var": b,
        "n": n,
        "sum_weights": float(w_all[:, 0].sum()),
        "n_pv": m,
    }


def _groups(
    design: ReplicateDesign, by: str | Sequence[str] | None
) -> list[tuple[dict, ReplicateDesign]]:
    if by is None:
        return [({}, design)]
    by_cols = check_columns(design.data, by, "by")
    grouped = design.data.groupby(by_cols, sort=True, observed=True, dropna=True)
    out = []
    for key, pos in grouped.indices.items():
        key_t = key if isinstance(key, tuple) else (key,)
        mask = np.zeros(len(design.data), dtype=bool)
        mask[pos] = True
        out.append((dict(zip(by_cols, key_t, strict=True)), design.subset(mask)))
    return out


def _rows(
    key: dict, res: Mapping[str, object], names: list[str], extra: Mapping[str, object]
) -> list[dict]:
    rows = []
    for j, name in enumerate(names):
        row = dict(key)
        row.update(extra)
        row["statistic"] = name
        for col in ("estimate", "se", "sampling_var", "imputation_var"):
            row[col] = float(np.asarray(res[col])[j])
        row["n"] = res["n"]
        row["sum_weights"] = res["sum_weights"]
        row["n_pv"] = res["n_pv"]
        rows.append(row)
    return rows


#: Columns a printed result table keeps in view (besides the group columns).
_KEY_COLUMNS = ["variable", "category", "term", "statistic", "estimate", "se", "ci_low", "ci_high"]
#: Columns dropped first when a printed table is too wide, in this order.
_DROP_ORDER = ["imputation_var", "sampling_var", "sum_weights", "n_pv", "n", "t_value"]


class ResultTable(pd.DataFrame):
    """A pandas DataFrame of estimates that prints with its estimate, SE and interval in view.

    It is an ordinary DataFrame in every other respect. When the whole table is wider than
    the screen (the terminal's width when ``display.max_columns`` is 0, pandas' default in
    a terminal, else ``display.width``), its text form leaves out the diagnostic columns
    (``imputation_var``, ``sampling_var``, ``sum_weights``, ``n_pv``, ``n``, ``t_value``,
    in that order) instead of the middle columns pandas would hide (which were the estimate
    and the SE), and says which it left out; if still too wide, ``statistic`` and
    ``variable`` when they are the same in every row, named once below the table, and long
    labels are shortened (``display.max_colwidth`` down to 16).
    ``table.to_string()`` prints everything; the HTML view in notebooks is pandas' own.
    """

    @property
    def _constructor(self) -> type[ResultTable]:
        return ResultTable

    def __repr__(self) -> str:
        plain = pd.DataFrame(self)
        if pd.get_option("display.max_columns") == 0:
            width = shutil.get_terminal_size().columns - 1  # pandas fits to max_len < width
        else:
            width = pd.get_option("display.width") or 80
        params = pd.io.formats.format.get_dataframe_repr_params()
        params.update(max_cols=None, line_width=None, show_dimensions=False)

        def widest(frame: pd.DataFrame) -> int:
            return max((len(line) for line in frame.to_string(**params).splitlines()), default=0)

        if widest(plain) <= width:
            return repr(plain)
        cols = list(plain.columns)
        dropped: list[str] = []
        for c in _DROP_ORDER:
            if c in cols and widest(plain[cols]) > width:
                cols.remove(c)
                dropped.append(c)
        constant = []
        for c in ("statistic", "variable"):  # the same in every row: say it once below
            if c in cols and widest(plain[cols]) > width and plain[c].nunique(dropna=False) == 1:
                cols.remove(c)
                constant.append(f"{c} = {_plain(plain[c].iloc[0])!r}")
        colwidth = pd.get_option("display.max_colwidth")
        for k in (40, 30, 24, 16):  # long labels (categories) shortened, as pandas does at 50
            if widest(plain[cols]) <= width or (colwidth is not None and colwidth <= k):
                break
            colwidth = k
            params["max_colwidth"] = k
        with pd.option_context("display.max_colwidth", colwidth):
            text = repr(plain[cols])
        if constant:
            text += "\n" + textwrap.fill(f"(every row: {', '.join(constant)})", max(width, 40))
        if dropped:
            note = f"(not shown: {', '.join(dropped)}; .to_string() prints every column)"
            text += "\n" + textwrap.fill(note, width=max(width, 40))
        return text


def _frame(rows: list[dict], lead: list[str], ci: float = 0.95, what: str = "") -> ResultTable:
    """Assemble the result table, add the interval, and warn about degenerate estimates."""
    df = pd.DataFrame(rows)
    order = [c for c in lead if c in df.columns]
    z = float(stats.norm.ppf(0.5 + ci / 2))
    df["ci_low"] = df["estimate"] - z * df["se"]
    df["ci_high"] = df["estimate"] + z * df["se"]
    values = ["estimate", "se", "ci_low", "ci_high"]
    if "t_value" in df.columns:
        values.append("t_value")
    values += [c for c in _VALUE_COLUMNS if c in df.columns and c not in values]
    rest = [c for c in df.columns if c not in order and c not in values]
    out = ResultTable(df[order + rest + values])
    _warn_degenerate(out, [c for c in order + rest if c != "variable"], what)
    return out


def _plain(v: object) -> object:
    return v.item() if isinstance(v, np.generic) else v


def _warn_degenerate(table: pd.DataFrame, id_cols: list[str], what: str) -> None:
    """One warning per call for estimates that are undefined or whose SE is 0 or undefined."""

    def label(i: int) -> str:
        parts = ", ".join(f"{c}={_plain(table[c].iloc[i])!r}" for c in id_cols if c != "statistic")
        stat = str(table["statistic"].iloc[i]) if "statistic" in table.columns else ""
        return f"{stat} ({parts})" if parts else stat

    def listed(idx: np.ndarray) -> str:
        names = [label(i) for i in idx[:4]]
        return ", ".join(names) + (f" and {idx.size - 4} more" if idx.size > 4 else "")

    est, se = table["estimate"].to_numpy(float), table["se"].to_numpy(float)
    notes = []
    undefined = np.where(~np.isfinite(est))[0]
    if undefined.size:
        notes.append(
            f"estimate undefined (NaN) for {listed(undefined)}: the "
            "statistic cannot be computed from these rows (no variance, no weight, a zero "
            "mean)"
        )
    no_se = np.where(np.isfinite(est) & ~np.isfinite(se))[0]
    if no_se.size:
        notes.append(
            f"SE undefined (NaN) for {listed(no_se)}: the statistic "
            "cannot be computed in some replicate (a replicate that gives the group no "
            "weight, e.g. a domain inside one deleted cluster)"
        )
    zero = np.where(np.isfinite(est) & (se == 0))[0]
    if zero.size:
        notes.append(
            f"SE is 0 for {listed(zero)}: every replicate gives the "
            "full-sample estimate (a constant variable, a degenerate subgroup, or replicate "
            "weights equal to the final weight); its interval has width 0 and t is NaN"
        )
    if notes:
        warnings.warn(f"{what or 'estimate'}: " + "; ".join(notes) + ".", UserWarning, stacklevel=4)


def _by_list(by: str | Sequence[str] | None) -> list[str]:
    return [] if by is None else ([by] if isinstance(by, str) else list(by))


# ---------------------------------------------------------------------------------------------
# weighted statistics, vectorised over weight columns
# ---------------------------------------------------------------------------------------------


def _wmean(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (w.T @ x) / w.sum(axis=0)


def _mean_sd(cols: list[np.ndarray], w: np.ndarray, sd: bool) -> np.ndarray:
    x = cols[0].astype(float)
    mean = _wmean(x, w)
    if not sd:
        return mean[:, None]
    dev2 = (x[:, None] - mean[None, :]) ** 2
    s = np.sqrt((w * dev2).sum(axis=0) / w.sum(axis=0))
    return np.column_stack([mean, s])


def _quantiles_math(x: np.ndarray, w: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Survey's ``qrule_math``: smallest x whose weighted CDF reaches p (zero weights dropped)."""
    keep = w > 0
    x, w = x[keep], w[keep]
    if x.size == 0:  # a replicate that gives these rows no weight
        return np.full(probs.size, np.nan)
    order = np.argsort(x, kind="stable")
    xs, cw = x[order], np.cumsum(w[order])
    total = cw[-1]
    out = np.empty(probs.size)
    for i, p in enumerate(probs):
        pos = int(np.searchsorted(cw, p * total, side="right")) - 1
        pos = max(pos, 0)
        nxt = min(pos + 1, xs.size - 1)
        out[i] = xs[pos] if p - cw[pos] / total == 0 else xs[nxt]
    return out


def _quantiles_hmisc(x: np.ndarray, w: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Hmisc's ``wtd.quantile`` (type "quantile"), as used by intsvy: weights as frequencies."""
    keep = w > 0
    x, w = x[keep], w[keep]
    if x.size == 0:  # a replicate that gives these rows no weight
        return np.full(probs.size, np.nan)
    ux, inv = np.unique(x, return_inverse=True)
    wts = np.bincount(inv, weights=w)
    cw = np.cumsum(wts)
    n = cw[-1]
    order = 1 + (n - 1) * probs
    low = np.maximum(np.floor(order), 1)
    high = np.minimum(low + 1, n)
    frac = order % 1

    def at(v: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(cw, v, side="left")
        return ux[np.clip(idx, 0, ux.size - 1)]

    return (1 - frac) * at(low) + frac * at(high)


def _wcor(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    sw = w.sum(axis=0)
    mx = (w.T @ x) / sw
    my = (w.T @ y) / sw
    dx = x[:, None] - mx[None, :]
    dy = y[:, None] - my[None, :]
    sxy = (w * dx * dy).sum(axis=0)
    sxx = (w * dx * dx).sum(axis=0)
    syy = (w * dy * dy).sum(axis=0)
    return sxy / np.sqrt(sxx * syy)


# ---------------------------------------------------------------------------------------------
# public estimators
# ---------------------------------------------------------------------------------------------


def lsa_mean(
    design: ReplicateDesign,
    x: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    *,
    sd: bool = True,
    ci: float = 0.95,
) -> pd.DataFrame:
    r"""Weighted mean (and standard deviation) with replicate standard errors, PVs pooled.

    Parameters
    ----------
    design : ReplicateDesign
    x : str or list of str
        A column, a list of plausible-value columns, or a pattern like ``"PV@MATH"``.
    by : str or list of str, optional
        Grouping columns (domains); rows with a missing group are ignored.
    sd : bool, default True
        Also report the weighted population SD
        :math:`\sqrt{\sum w(x-\bar x_w)^2/\sum w}` (intsvy's SD) and its standard error.
    ci : float, default 0.95
        Level of the interval ``ci_low``, ``ci_high`` (every estimator has this argument).

    Returns
    -------
    pandas.DataFrame
        One row per group and statistic (``"mean"``, ``"sd"``): the ``by`` columns,
        ``variable``, ``statistic``, ``estimate``, ``se``, ``ci_low``, ``ci_high`` (level
        ``ci``), ``n`` (rows used), ``n_pv`` (plausible values pooled), ``sum_weights``,
        ``sampling_var`` (:math:`\bar U`), ``imputation_var`` (:math:`B`); a
        :class:`ResultTable`.

    Notes
    -----
    :math:`\hat\mu = \sum_i w_i x_i / \sum_i w_i`, recomputed with each replicate weight; the
    variance and PV pooling are in the module docstring. Rows with a missing ``x`` are dropped.
    Matches ``withPV(..., svymean(~x, design))`` + ``MIcombine`` and intsvy's ``*.mean.pv``.

    References
    ----------
    .. [1] OECD (2009). *PISA Data Analysis Manual: SPSS* (2nd ed.). OECD Publishing.
    .. [2] Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"g": ["a", "a", "b", "b"], "y": [1.0, 3.0, 2.0, 6.0], "w": 1.0})
    >>> jk = 4 / 3 * (1 - np.eye(4))
    >>> des = replicate_design(df, "w", jk, method="jk1")
    >>> lsa_mean(des, "y", by="g", sd=False)[["g", "estimate"]].to_numpy().tolist()
    [['a', 2.0], ['b', 4.0]]
    """
    check_level(ci)
    label, cols = _variable(design.data, x, "x", design.n_pv)
    names = ["mean", "sd"] if sd else ["mean"]
    rows = []
    for key, sub in _groups(design, by):
        res = _run(sub, [cols], lambda c, w: _mean_sd(c, w, sd), label=f"x {label!r}", key=key)
        rows += _rows(key, res, names, {"variable": label})
    return _frame(rows, [*_by_list(by), *_ID_COLUMNS], ci, "lsa_mean")


def lsa_percent(
    design: ReplicateDesign,
    x: str,
    by: str | Sequence[str] | None = None,
    *,
    ci: float = 0.95,
) -> pd.DataFrame:
    r"""Weighted percentage of each category of ``x`` (within each group), with replicate SEs.

    Parameters
    ----------
    design : ReplicateDesign
    x : str
        A categorical column (missing values excluded from the denominator).
    by : str or list of str, optional
        Grouping columns; percentages sum to 100 within each group.

    Returns
    -------
    pandas.DataFrame
        One row per group and category: the ``by`` columns, ``variable``, ``category``,
        ``statistic`` (``"percent"``), ``estimate`` (0-100), ``se``, ``n``, ``sum_weights``,
        ``sampling_var``, ``imputation_var``, ``n_pv``.

    Notes
    -----
    :math:`100\sum_i w_i[x_i = c]/\sum_i w_i`. Matches ``svymean(~factor(x), design,
    na.rm = TRUE)`` (times 100) and intsvy's ``*.table``.

    References
    ----------
    .. [1] OECD (2009). *PISA Data Analysis Manual: SPSS* (2nd ed.), ch. 7. OECD Publishing.
       https://doi.org/10.1787/9789264056275-en
    """
    check_level(ci)
    label, cols = _variable(design.data, x, "x", design.n_pv)
    if len(cols) > 1:
        raise ValueError("x: percentages of plausible values are not supported; pass one column.")
    values = design.data[cols[0]]
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats: list[Hashable] = [c for c in values.cat.categories if (values == c).any()]
    else:
        cats = sorted(pd.unique(values.dropna()), key=lambda v: (str(type(v)), v))
    rows = []
    for key, sub in _groups(design, by):

        def stat(c: list[np.ndarray], w: np.ndarray) -> np.ndarray:
            ind = np.column_stack([(c[0] == cat).astype(float) for cat in cats])
            return 100 * (w.T @ ind) / w.sum(axis=0)[:, None]

        res = _run(sub, [cols], stat, label=f"x {label!r}", key=key)
        for j, cat in enumerate(cats):
            one = {
                k: (np.asarray(v)[j : j + 1] if isinstance(v, np.ndarray) else v)
                for k, v in res.items()
            }
            rows += _rows(key, one, ["percent"], {"variable": label, "category": cat})
    return _frame(rows, [*_by_list(by), "variable", "category", "statistic"], ci, "lsa_percent")


def lsa_quantile(
    design: ReplicateDesign,
    x: str | Sequence[str],
    q: Sequence[float] = (5, 10, 25, 50, 75, 90, 95),
    by: str | Sequence[str] | None = None,
    *,
    qrule: QRule = "hmisc",
    ci: float = 0.95,
) -> pd.DataFrame:
    r"""Weighted percentiles with replicate standard errors, PVs pooled.

    Parameters
    ----------
    design : ReplicateDesign
    x : str or list of str
        Column, PV list or ``"PV@..."`` pattern.
    q : sequence of float, default (5, 10, 25, 50, 75, 90, 95)
        Percentiles in 0-100 (intsvy's defaults).
    by : str or list of str, optional
    qrule : {"hmisc", "math"}, default "hmisc"
        ``"hmisc"``: Hmisc's ``wtd.quantile`` (weights as frequencies, interpolating like
        R's type 7), which intsvy uses; ``"math"``: survey's ``qrule_math``, the smallest
        value whose weighted distribution function reaches :math:`p`.

    Returns
    -------
    pandas.DataFrame
        As :func:`lsa_mean`, with ``statistic`` ``"p5"``, ``"p10"``, ...

    Notes
    -----
    Rule "math": with values sorted and cumulative weights :math:`W_i`, the estimate is
    :math:`x_{(i)}` for the last :math:`i` with :math:`W_i \le pW` if :math:`W_i = pW`,
    else :math:`x_{(i+1)}`. Rule "hmisc": with :math:`h = 1 + (W - 1)p`, interpolate between
    the order statistics at cumulative weights :math:`\lfloor h\rfloor` and
    :math:`\lfloor h\rfloor + 1`. Zero weights are dropped first (as both R functions do).
    Replicate SEs of quantiles are the usual BRR/jackknife ones; jackknife SEs of medians are
    known to be unstable. ``ci_low``/``ci_high`` are Wald intervals (estimate :math:`\pm z`
    SE), not the Woodruff intervals R's ``svyquantile`` reports by default. Matches
    ``withReplicates(design, function(w, d) survey:::qrule_math(d$x, w, p))`` and
    ``Hmisc::wtd.quantile(x, w, p)``.
    """
    check_level(ci)
    label, cols = _variable(design.data, x, "x", design.n_pv)
    check_choice(qrule, "qrule", ("hmisc", "math"))
    probs = np.asarray(q, dtype=float) / 100
    if probs.size == 0 or (probs < 0).any() or (probs > 1).any():
        raise ValueError(f"q must be percentiles between 0 and 100, got {list(q)}.")
    fn = _quantiles_hmisc if qrule == "hmisc" else _quantiles_math
    names = [f"p{_fmt(v)}" for v in q]
    rows = []
    for key, sub in _groups(design, by):

        def stat(c: list[np.ndarray], w: np.ndarray) -> np.ndarray:
            x_ = c[0].astype(float)
            return np.vstack([fn(x_, w[:, k], probs) for k in range(w.shape[1])])

        res = _run(sub, [cols], stat, label=f"x {label!r}", key=key)
        rows += _rows(key, res, names, {"variable": label})
    return _frame(rows, [*_by_list(by), *_ID_COLUMNS], ci, "lsa_quantile")


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def lsa_cor(
    design: ReplicateDesign,
    x: str | Sequence[str],
    y: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    *,
    ci: float = 0.95,
) -> pd.DataFrame:
    r"""Weighted Pearson correlation with replicate SEs; either variable may be a PV set.

    Parameters
    ----------
    design : ReplicateDesign
    x, y : str or list of str
        Columns, PV lists or ``"PV@..."`` patterns (two PV sets are paired by position).
    by : str or list of str, optional

    Returns
    -------
    pandas.DataFrame
        As :func:`lsa_mean`, with ``variable`` ``"x ~ y"`` and ``statistic`` ``"r"``.

    Notes
    -----
    :math:`r_w = \sum w(x-\bar x_w)(y-\bar y_w)/\sqrt{\sum w(x-\bar x_w)^2 \sum
    w(y-\bar y_w)^2}` on rows complete for both. Matches ``withReplicates(design,
    function(w, d) cov.wt(cbind(d$x, d$y), w, cor = TRUE)$cor[1, 2])`` and intsvy's
    ``*.rho.pv``.

    References
    ----------
    .. [1] OECD (2009). *PISA Data Analysis Manual: SPSS* (2nd ed.), ch. 8 and 11. OECD
       Publishing. https://doi.org/10.1787/9789264056275-en
    """
    check_level(ci)
    lx, cx = _variable(design.data, x, "x", design.n_pv)
    ly, cy = _variable(design.data, y, "y", design.n_pv)
    rows = []
    for key, sub in _groups(design, by):
        res = _run(
            sub,
            [cx, cy],
            lambda c, w: _wcor(c[0].astype(float), c[1].astype(float), w)[:, None],
            label=f"x {lx!r} and y {ly!r}",
            key=key,
        )
        rows += _rows(key, res, ["r"], {"variable": f"{lx} ~ {ly}"})
    return _frame(rows, [*_by_list(by), *_ID_COLUMNS], ci, "lsa_cor")


def lsa_regression(
    design: ReplicateDesign,
    y: str | Sequence[str],
    x: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    *,
    ci: float = 0.95,
) -> pd.DataFrame:
    r"""Weighted least-squares regression coefficients with replicate SEs, PVs pooled.

    Parameters
    ----------
    design : ReplicateDesign
    y : str or list of str
        Outcome column, PV list or ``"PV@..."`` pattern.
    x : str or list of str
        Predictor columns (single columns, not PVs). Text or categorical predictors are
        dummy-coded against their first level (sorted, or category order), named
        ``<column><level>`` as R does.
    by : str or list of str, optional

    Returns
    -------
    pandas.DataFrame
        One row per group and term (``"(Intercept)"``, predictors, then ``"r2"``) with the
        columns of :func:`lsa_mean` plus ``t_value`` (estimate / se).

    Notes
    -----
    :math:`\hat\beta = (X'WX)^{-1}X'Wy` for the final weight and each replicate;
    :math:`R^2 = 1 - \sum w e^2/\sum w(y-\bar y_w)^2`. Rows with any missing value are
    dropped. Matches ``withPV(..., svyglm(y ~ x, design))`` + ``MIcombine`` and intsvy's
    ``*.reg.pv``.

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 5. Wiley.
       https://doi.org/10.1002/9780470580066
    """
    check_level(ci)
    data = design.data
    ly, cy = _variable(data, y, "y", design.n_pv)
    xs = [x] if isinstance(x, str) else list(x)
    check_columns(data, xs, "x")
    blocks, names = [], ["(Intercept)"]
    for col in xs:
        s = data[col]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            blocks.append(s.to_numpy(dtype=float)[:, None])
            names.append(col)
        else:
            levels = (
                list(s.cat.categories)
                if isinstance(s.dtype, pd.CategoricalDtype)
                else sorted(pd.unique(s.dropna()), key=str)
            )
            if len(levels) < 2:
                raise ValueError(f"x: column {col!r} has fewer than two levels.")
            d = np.column_stack([(s == lev).to_numpy(dtype=float) for lev in levels[1:]])
            d[s.isna().to_numpy()] = np.nan
            blocks.append(d)
            names += [f"{col}{lev}" for lev in levels[1:]]
    design_x = np.column_stack([np.ones(len(data)), *blocks])
    work = data.copy()
    xcols = [f"__x{j}" for j in range(design_x.shape[1])]
    for j, c in enumerate(xcols):
        work[c] = design_x[:, j]
    wdes = replace(design, data=work)
    rows = []
    for key, sub in _groups(wdes, by):

        def stat(c: list[np.ndarray], w: np.ndarray, key: dict = key) -> np.ndarray:
            yv = c[0].astype(float)
            xm = np.column_stack([v.astype(float) for v in c[1:]])
            xtwx = np.einsum("ni,nk,nj->kij", xm, w, xm)
            xtwy = np.einsum("ni,nk,n->ki", xm, w, yv)
            beta = np.full(xtwy.shape, np.nan)
            for k in range(w.shape[1]):
                try:
                    beta[k] = np.linalg.solve(xtwx[k], xtwy[k])
                except np.linalg.LinAlgError as exc:
                    if k == 0:
                        raise ValueError(
                            f"lsa_regression: the predictors {xs!r} are collinear (X'WX is "
                            "singular) in the full sample"
                            + (f" of the group {_describe(key)}" if key else "")
                            + "; drop a predictor or merge sparse categories."
                        ) from exc
                    # a replicate without the rows that identify a coefficient: its
                    # estimate is undefined and so is the SE (reported with a warning)
            fitted = xm @ beta.T
            sw = w.sum(axis=0)
            ybar = (w.T @ yv) / sw
            sse = (w * (yv[:, None] - fitted) ** 2).sum(axis=0)
            sst = (w * (yv[:, None] - ybar[None, :]) ** 2).sum(axis=0)
            return np.column_stack([beta, 1 - sse / sst])

        res = _run(
            sub,
            [cy, *[[c] for c in xcols]],
            stat,
            label=f"y {ly!r} with x {xs!r}",
            key=key,
            complete=xs,
        )
        part = _rows(key, res, [*names, "r2"], {"variable": ly})
        for row in part:
            se = row["se"]
            ok = row["statistic"] != "r2" and math.isfinite(se) and se > 0
            row["t_value"] = row["estimate"] / se if ok else math.nan
        rows += part
    return _frame(rows, [*_by_list(by), *_ID_COLUMNS], ci, "lsa_regression")


def _spread(x: np.ndarray, w: np.ndarray, shift: float | None) -> np.ndarray:
    """Weighted mean, SD, Gini and percentile gaps for every weight column: (K, 6)."""
    sw = w.sum(axis=0)
    mean = (w.T @ x) / sw
    sd = np.sqrt((w * (x[:, None] - mean[None, :]) ** 2).sum(axis=0) / sw)
    y = x if shift is None else x - shift
    order = np.argsort(y, kind="stable")
    ys, ws = y[order], w[order]
    cum = np.cumsum(ws, axis=0)
    mu = (ws.T @ ys) / sw
    mu = np.where(mu > 0, mu, np.nan)  # CV and Gini need a positive mean (a ratio scale)
    gini = (ws * ys[:, None] * (2 * cum - ws - sw[None, :])).sum(axis=0) / (sw**2 * mu)
    probs = np.array([0.1, 0.25, 0.75, 0.9])
    qs = np.vstack([_quantiles_hmisc(x, w[:, k], probs) for k in range(w.shape[1])])
    return np.column_stack([mean, sd, sd / mu, gini, qs[:, 3] - qs[:, 0], qs[:, 2] - qs[:, 1]])


def lsa_spread(
    design: ReplicateDesign,
    x: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    *,
    shift: float | None = None,
    ci: float = 0.95,
) -> pd.DataFrame:
    r"""Weighted spread of outcomes (SD, CV, Gini, percentile gaps) with replicate SEs.

    The survey-weighted counterparts of the spread columns of
    :func:`toolkit.metrics.group_metrics`, for assessment data with weights and plausible
    values, so that observed inequality carries a standard error.

    Parameters
    ----------
    design : ReplicateDesign
    x : str or list of str
        Column, PV list or ``"PV@..."`` pattern.
    by : str or list of str, optional
    shift : float, optional
        Zero point subtracted before the CV and the Gini (which need a ratio scale), e.g. the
        bottom of the reporting scale; default none (scores must then be positive).

    Returns
    -------
    pandas.DataFrame
        As :func:`lsa_mean`, with ``statistic`` ``"mean"``, ``"sd"``, ``"cv"``, ``"gini"``,
        ``"p90_p10"``, ``"p75_p25"``.

    Notes
    -----
    With weights :math:`w_i`, :math:`W = \sum w_i`, values sorted ascending, cumulative
    weights :math:`C_i` and :math:`y = x - \text{shift}`,

    .. math::

        G_w = \frac{\sum_i\sum_j w_i w_j |y_i - y_j|}{2W^2\bar y_w}
            = \frac{\sum_i w_i y_i (2C_i - w_i - W)}{W^2 \bar y_w},

    which equals :func:`toolkit.metrics.gini` (no small-sample correction) when all weights
    are 1 and treats integer weights as frequencies. SD is the population SD
    :math:`\sqrt{\sum w(x-\bar x_w)^2/W}` (intsvy's), CV is :math:`SD/\bar y_w`, and the
    percentile gaps use Hmisc's weighted quantiles (:func:`lsa_quantile`, ``qrule="hmisc"``),
    which equal numpy's default (R type 7) percentiles when the weights are 1.

    References
    ----------
    .. [1] Lerman, R. I., & Yitzhaki, S. (1989). Improving the accuracy of estimates of Gini
       coefficients. *Journal of Econometrics*, 42(1), 43-47.
       https://doi.org/10.1016/0304-4076(89)90074-2
    """
    check_level(ci)
    label, cols = _variable(design.data, x, "x", design.n_pv)
    names = ["mean", "sd", "cv", "gini", "p90_p10", "p75_p25"]
    rows = []
    for key, sub in _groups(design, by):
        res = _run(
            sub,
            [cols],
            lambda c, w: _spread(c[0].astype(float), w, shift),
            label=f"x {label!r}",
            key=key,
        )
        rows += _rows(key, res, names, {"variable": label})
    return _frame(rows, [*_by_list(by), *_ID_COLUMNS], ci, "lsa_spread")


def taylor_mean(
    data: pd.DataFrame,
    x: str | Sequence[str],
    weight: str,
    *,
    cluster: str | None = None,
    strata: str | None = None,
    fpc: str | None = None,
    by: str | Sequence[str] | None = None,
    n_pv: int | None = None,
    ci: float = 0.95,
) -> pd.DataFrame:
    r"""Weighted mean with a Taylor-linearised (design-based) SE: clusters, strata, fpc.

    For surveys described by their design rather than by replicate weights, as R's
    ``svymean(~x, svydesign(ids = ~cluster, strata = ~strata, weights = ~weight,
    fpc = ~fpc))``. Plausible values are pooled by Rubin's rules.

    Parameters
    ----------
    data : pandas.DataFrame
        Survey data, one row per respondent.
    x : str or list of str
        A column, a list of PV columns or a ``"PV@MATH"`` pattern.
    weight : str
        Final weight column.
    cluster : str, optional
        Primary sampling unit (school, district); default: every row is its own PSU.
        Clusters are nested in strata (R's ``nest = TRUE``).
    strata : str, optional
        Stratum column.
    fpc : str, optional
        Finite population correction as in :func:`jackknife_design`: per row, the number of
        PSUs in the population of its stratum (values above 1) or the sampling fraction
        (values up to 1).
    by : str or list of str, optional
        Domains; each is estimated as a domain of the whole design (rows outside it count as
        zeros in their PSU), as ``svyby`` does.
    n_pv : int, optional
        Number of plausible values the study has; other PV counts are refused.
    ci : float, default 0.95
        Level of the Wald interval ``ci_low``, ``ci_high``.

    Returns
    -------
    pandas.DataFrame
        As :func:`lsa_mean` with ``sd=False``: ``variable``, ``statistic`` (``"mean"``),
        ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``n``, ``n_pv``, ``sum_weights``,
        ``sampling_var``, ``imputation_var``.

    Notes
    -----
    With :math:`\bar y_d = \sum_{i\in d} w_i y_i / \sum_{i \in d} w_i`, the linearised
    values are :math:`z_i = w_i (y_i - \bar y_d) / \sum_{i\in d} w_i` for rows in the domain
    and 0 elsewhere; with PSU totals :math:`t_{hj} = \sum_{i \in hj} z_i`, their stratum mean
    :math:`\bar t_h` over the :math:`n_h` PSUs of stratum :math:`h`, and the sampling
    fraction :math:`f_h`,

    .. math::

        \hat V(\bar y_d) = \sum_h (1 - f_h)\,\frac{n_h}{n_h - 1}
        \sum_{j=1}^{n_h} (t_{hj} - \bar t_h)^2 .

    This is the ultimate-cluster variance of the first stage, R's for a one-stage design;
    with ``fpc`` for later stages too R adds their contribution, which is not done here.
    Rows with a missing ``x`` are outside the domain (``svymean(..., na.rm = TRUE)``).
    Strata with a single PSU are refused (R's ``survey.lonely.psu = "fail"``).

    References
    ----------
    .. [1] Wolter, K. M. (2007). *Introduction to Variance Estimation* (2nd ed.), ch. 6.
       Springer. https://doi.org/10.1007/978-0-387-35099-8
    .. [2] Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 2-3. Wiley.
       https://doi.org/10.1002/9780470580066

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"school": [1, 1, 2, 2, 3, 3], "y": [1.0, 2, 3, 4, 5, 6], "w": 1.0,
    ...                    "N": 10})
    >>> res = taylor_mean(df, "y", "w", cluster="school", fpc="N")
    >>> res[["estimate", "se"]].round(4).iloc[0].tolist()
    [3.5, 0.9661]
    """
    data = check_frame(data)
    check_footer(data, "taylor_mean")
    check_level(ci)
    n_pv = _check_positive_int(n_pv, "n_pv")
    w = _check_weight(data, weight)
    label, cols = _variable(data, x, "x", n_pv)
    if strata is None:
        stratum = np.zeros(len(data), dtype=int)
    else:
        strata = check_column(data, strata, "strata")
        if data[strata].isna().any():
            rows = list(data.index[data[strata].isna()])
            raise ValueError(f"strata: column {strata!r} is empty in rows {preview(rows)}.")
        stratum = pd.factorize(data[strata], sort=True)[0]
    if cluster is None:
        psu = np.arange(len(data))
    else:
        cluster = check_column(data, cluster, "cluster")
        if data[cluster].isna().any():
            rows = list(data.index[data[cluster].isna()])
            raise ValueError(f"cluster: column {cluster!r} is empty in rows {preview(rows)}.")
        pairs = pd.Series(list(zip(stratum, data[cluster], strict=True)), index=data.index)
        psu = pd.factorize(pairs, sort=True)[0]
    n_psu = int(psu.max()) + 1
    psu_stratum = np.zeros(n_psu, dtype=int)
    psu_stratum[psu] = stratum
    n_h = np.bincount(psu_stratum)
    if (n_h < 2).any():
        bad = int(np.where(n_h < 2)[0][0])
        raise ValueError(
            f"strata: stratum number {bad} has a single PSU; its variance cannot be estimated "
            "(merge it with a neighbour, as R's survey.lonely.psu = 'fail' asks)."
        )
    f_h = _sampling_fractions(data, fpc, stratum, n_h, strata)
    factor = (1 - f_h) * n_h / (n_h - 1)
    m = _draws([cols], "x")

    def variance(z: np.ndarray) -> float:
        t = np.bincount(psu, weights=z, minlength=n_psu)
        tbar = np.bincount(psu_stratum, weights=t, minlength=n_h.size) / n_h
        return float((factor[psu_stratum] * (t - tbar[psu_stratum]) ** 2).sum())

    if by is None:
        domains: list[tuple[dict, np.ndarray]] = [({}, np.ones(len(data), dtype=bool))]
    else:
        by_cols = check_columns(data, by, "by")
        grouped = data.groupby(by_cols, sort=True, observed=True, dropna=True)
        domains = []
        for key, pos in grouped.indices.items():
            key_t = key if isinstance(key, tuple) else (key,)
            mask = np.zeros(len(data), dtype=bool)
            mask[pos] = True
            domains.append((dict(zip(by_cols, key_t, strict=True)), mask))
    rows = []
    for key, mask in domains:
        ok = mask & data[cols].notna().all(axis=1).to_numpy()
        if not ok.any():
            where = f" in the group {_describe(key)}" if key else ""
            raise ValueError(
                f"x {label!r}: no row{where} has {preview(cols, 6)} observed, so there is "
                "nothing to estimate."
            )
        sw = float(w[ok].sum())
        if sw <= 0:
            raise ValueError(f"x {label!r}: the weights of the rows used sum to 0.")
        ests, vars_ = [], []
        for i in range(m):
            y = data[cols[i] if len(cols) > 1 else cols[0]].to_numpy(dtype=float)
            ybar = float((w[ok] * y[ok]).sum() / sw)
            z = np.where(ok, w * (np.where(ok, y, 0.0) - ybar) / sw, 0.0)
            ests.append(ybar)
            vars_.append(variance(z))
        est, u = np.array(ests), np.array(vars_)
        b = float(est.var(ddof=1)) if m > 1 else 0.0
        ubar = float(u.mean())
        res = {
            "estimate": np.array([est.mean()]),
            "se": np.array([math.sqrt(ubar + (1 + 1 / m) * b)]),
            "sampling_var": np.array([ubar]),
            "imputation_var": np.array([b]),
            "n": int(ok.sum()),
            "sum_weights": sw,
            "n_pv": m,
        }
        rows += _rows(key, res, ["mean"], {"variable": label})
    return _frame(rows, [*_by_list(by), *_ID_COLUMNS], ci, "taylor_mean")


def with_replicates(
    design: ReplicateDesign,
    statistic: Callable[[pd.DataFrame, np.ndarray], float | Sequence[float] | pd.Series],
    *,
    pv: Mapping[str, str | Sequence[str]] | None = None,
    by: str | Sequence[str] | None = None,
    ci: float = 0.95,
) -> pd.DataFrame:
    r"""Replicate SEs (and PV pooling) for any statistic you can compute with weights.

    Parameters
    ----------
    design : ReplicateDesign
    statistic : callable
        ``statistic(data, w)`` returns a number, a sequence, or a Series (whose index names
        the statistics), computed from the rows of ``data`` with weights ``w``. It is called
        once with the final weight and once per replicate.
    pv : mapping, optional
        ``{"MATH": "PV@MATH"}``: before each call, column ``"MATH"`` is set to the m-th
        plausible value, and results are pooled over the PVs by Rubin's rules.
    by : str or list of str, optional
        Run separately within each group.

    Returns
    -------
    pandas.DataFrame
        As :func:`lsa_mean` (``variable`` is ``"statistic"``; ``statistic`` holds the names,
        ``"stat0"``, ``"stat1"``... if the function returns unnamed values).

    Notes
    -----
    Matches ``survey::withReplicates(design, function(w, data) ...)``, with
    ``mitools::withPV`` for ``pv``. Slower than the vectorised estimators: the function runs
    :math:`M(R+1)` times.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": 1.0})
    >>> des = replicate_design(df, "w", 4 / 3 * (1 - np.eye(4)), method="jk1")
    >>> res = with_replicates(des, lambda d, w: np.average(d["y"], weights=w))
    >>> res[["estimate", "se"]].round(4).iloc[0].tolist()
    [2.5, 0.6455]
    """
    if not callable(statistic):
        raise TypeError("statistic must be a function (data, weights) -> value(s).")
    check_level(ci)
    pv_cols: dict[str, list[str]] = {}
    for name, spec in (pv or {}).items():
        pv_cols[name] = _variable(design.data, spec, f"pv[{name!r}]", design.n_pv)[1]
    m = _draws(list(pv_cols.values()) or [[""]], "pv")
    rows = []
    for key, sub in _groups(design, by):
        w_all = sub.weights()
        base = sub.data.copy()
        ests, vars_ = [], []
        names: list[str] | None = None
        for i in range(m):
            frame = base
            if pv_cols:
                frame = base.copy()
                for name, cols in pv_cols.items():
                    frame[name] = base[cols[i] if len(cols) > 1 else cols[0]]
            need = sub.pv_sampling == "all" or i == 0
            k_max = w_all.shape[1] if need else 1
            vals = []
            for k in range(k_max):
                v = statistic(frame, w_all[:, k])
                if isinstance(v, pd.Series) and names is None:
                    names = [str(n) for n in v.index]
                vals.append(np.atleast_1d(np.asarray(v, dtype=float)))
            theta = np.vstack(vals)
            ests.append(theta[0])
            if need:
                vars_.append(sub.variance(theta[0], theta[1:]))
        est, u = np.vstack(ests), np.vstack(vars_)
        b = est.var(axis=0, ddof=1) if m > 1 else np.zeros(est.shape[1])
        ubar = u.mean(axis=0)
        res = {
            "estimate": est.mean(axis=0),
            "se": np.sqrt(ubar + (1 + 1 / m) * b if m > 1 else ubar),
            "sampling_var": ubar,
            "imputation_var": b,
            "n": len(sub.data),
            "sum_weights": float(w_all[:, 0].sum()),
            "n_pv": m,
        }
        labels = names or [f"stat{j}" for j in range(est.shape[1])]
        rows += _rows(key, res, labels, {"variable": "statistic"})
    return _frame(rows, [*_by_list(by), *_ID_COLUMNS], ci, "with_replicates")
