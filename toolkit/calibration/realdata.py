"""Targets and checks computed from real data, with the code that analyses simulated data too.

- :func:`nlschools_icc`: the intraclass correlation of a language test among Dutch grade-8
  pupils in 133 classes (MASS::nlschools), unconditional and given verbal IQ, by
  :func:`toolkit.survey.icc` (REML, as lme4), with standard errors from a class bootstrap.
- :func:`nlschools_iq`: the properties of nlschools' verbal IQ that the model's IQ-like
  covariate copies (its ICC, and its within-class correlation with the language test).
- :func:`egsingle_gains`: the distribution of one-year gains in mathematics of Chicago pupils
  followed from grade to grade (mlmRev::egsingle): the SD of gains relative to the SD of prior
  scores, the correlation of the gain with the prior score, the mean gain and the share of the
  gains' variance between schools, with school-bootstrap SEs.
- :func:`star_class_size_effect`: the Tennessee STAR kindergarten effect of a small class
  (13-17 pupils) against a regular class (22-25), in percentile points of the regular-class
  distribution as Krueger (1999) reports it, and in SD units, with standard errors from a
  school bootstrap (Ecdat::Star; classes with an aide are left out).

:func:`load_star` reads the STAR kindergarten file shipped with the toolkit
(:func:`toolkit.datasets.load_dataset`, ``"star"``; nothing is downloaded).

References
----------
.. [1] Snijders, T. A. B., & Bosker, R. J. (1999). *Multilevel Analysis*. Sage.
.. [2] Krueger, A. B. (1999). Experimental estimates of education production functions.
   *Quarterly Journal of Economics*, 114(2), 497-532. https://doi.org/10.1162/003355399556052
.. [3] Croissant, Y. (2023). Ecdat: Data Sets for Econometrics (R package), data set ``Star``.
.. [4] Bryk, A. S., & Raudenbush, S. W. (2002). *Hierarchical Linear Models* (2nd ed.), ch. 8.
   Sage. (mlmRev::egsingle; Bates, Maechler & Bolker, R package mlmRev.)
.. [5] Davison, A. C., & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*,
   section 3.8 (resampling clusters). Cambridge University Press.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.calibration.targets import DATA_DIR
from toolkit.datasets import load_dataset
from toolkit.power.models import fit_random_intercept

__all__ = [
    "EGSINGLE_FILE",
    "egsingle_gains",
    "load_egsingle",
    "load_star",
    "nlschools_icc",
    "percentile_effect",
    "percentile_ranks",
    "star_class_size_effect",
]

#: Yearly mathematics scores of Chicago pupils (mlmRev::egsingle), shipped with the targets.
EGSINGLE_FILE = DATA_DIR / "egsingle.csv.gz"


def load_star() -> pd.DataFrame:
    """Tennessee STAR kindergarten pupils (Ecdat::Star, shipped in toolkit/datasets/data).

    Returns
    -------
    pandas.DataFrame
        5,748 pupils: ``tmathssk``, ``treadssk`` (Stanford Achievement Test scaled scores,
        math and reading), ``classk`` (``small.class``, ``regular``, ``regular.with.aide``),
        ``totexpk`` (teacher experience), ``sex``, ``freelunk``, ``race``, ``schidkn``
        (school). Licence: Ecdat is GPL-2 | GPL-3.

    Examples
    --------
    >>> load_star().shape
    (5748, 8)
    """
    return load_dataset("star")


def percentile_ranks(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    r"""Mid-rank percentile of each of ``x`` in the ``reference`` scores.

    :math:`100\,(\#\{r < x\} + \#\{r \le x\})/(2 n_r)`, as Krueger (1999) ranks STAR pupils
    against the regular classes; the reference's own mean percentile is then about 50.

    Examples
    --------
    >>> percentile_ranks(np.array([2.0, 3.5]), np.array([0.0, 1.0, 2.0, 3.0])).tolist()
    [62.5, 100.0]
    """
    ref = np.sort(np.asarray(reference, dtype=float))
    x = np.asarray(x, dtype=float)
    lo = np.searchsorted(ref, x, side="left")
    hi = np.searchsorted(ref, x, side="right")
    return 100.0 * (lo + hi) / (2 * len(ref))


def percentile_effect(small: np.ndarray, regular: np.ndarray) -> float:
    """Mean percentile rank of ``small`` minus that of ``regular``, in the regular distribution.

    Ranks by :func:`percentile_ranks` (the model's ``class_size_mean_percentile_rank`` uses the
    same function on simulated scores).

    Examples
    --------
    >>> round(percentile_effect(np.array([2.0, 3.0]), np.array([0.0, 1.0, 2.0, 3.0])), 2)
    25.0
    """
    ranks = percentile_ranks(small, regular).mean() - percentile_ranks(regular, regular).mean()
    return float(ranks)


def _star_effects(d: pd.DataFrame) -> tuple[float, float]:
    small = d["classk"].to_numpy() == "small.class"
    pcts, sds = [], []
    for col in ("tmathssk", "treadssk"):
        x = d[col].to_numpy(dtype=float)
        pcts.append(percentile_effect(x[small], x[~small]))
        sds.append((x[small].mean() - x[~small].mean()) / x[~small].std(ddof=1))
    return float(np.mean(pcts)), float(np.mean(sds))


def star_class_size_effect(bootstrap: int = 0, seed: int = 0) -> dict[str, float]:
    """Compute the STAR kindergarten small-class effect, in percentile points and in SD.

    Parameters
    ----------
    bootstrap : int
        School-bootstrap resamples for the standard errors (0: none).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    dict
        ``percentile_points`` (mean over math and reading of :func:`percentile_effect`),
        ``effect_sd`` (mean over math and reading of the difference in means over the
        regular-class SD), ``n_pupils``, ``n_schools`` and, with ``bootstrap``,
        ``se_percentile_points`` and ``se_effect_sd``.

    Examples
    --------
    >>> out = star_class_size_effect()
    >>> round(out["percentile_points"], 2), round(out["effect_sd"], 3)
    (4.95, 0.182)
    """
    d = load_star()
    d = d[d["classk"] != "regular.with.aide"].reset_index(drop=True)
    pct, sd = _star_effects(d)
    out = {
        "percentile_points": pct,
        "effect_sd": sd,
        "n_pupils": float(len(d)),
        "n_schools": float(d["schidkn"].nunique()),
    }
    if bootstrap:
        rng = np.random.default_rng(seed)
        groups = dict(tuple(d.groupby("schidkn")))
        ids = np.array(sorted(groups))
        draws = np.array(
            [
                _star_effects(pd.concat([groups[s] for s in rng.choice(ids, len(ids))]))
                for _ in range(bootstrap)
            ]
        )
        out["se_percentile_points"] = float(draws[:, 0].std(ddof=1))
        out["se_effect_sd"] = float(draws[:, 1].std(ddof=1))
    return out


def _iccs(d: pd.DataFrame) -> tuple[float, float]:
    null = fit_random_intercept(d, "lang", "class")
    cond = fit_random_intercept(d, "lang", "class", covariates=["IQ"])
    return (
        null.tau2 / (null.tau2 + null.sigma2["all"]),
        cond.tau2 / (cond.tau2 + cond.sigma2["all"]),
    )


def nlschools_icc(bootstrap: int = 0, seed: int = 0) -> dict[str, float]:
    """Compute the ICC of nlschools' language test: unconditional and given verbal IQ.

    The point values come from :func:`toolkit.survey.icc` and :func:`toolkit.survey.mixed_model`
    (statsmodels, checked against lme4); the bootstrap refits with
    :func:`toolkit.power.models.fit_random_intercept` (the same REML estimates, faster),
    resampling classes with replacement.

    Parameters
    ----------
    bootstrap : int
        Class-bootstrap resamples for the standard errors (0: none).
    seed : int

    Returns
    -------
    dict
        ``icc``, ``conditional_icc``, ``n_pupils``, ``n_classes`` and, with ``bootstrap``,
        ``se_icc``, ``se_conditional_icc``.

    Examples
    --------
    >>> out = nlschools_icc()
    >>> round(out["icc"], 4), round(out["conditional_icc"], 4)
    (0.2326, 0.1834)
    """
    from toolkit.survey import icc, mixed_model

    d = load_dataset("nlschools")
    cond = mixed_model(d, "lang ~ IQ + (1 | class)")
    out = {
        "icc": float(icc(d, "lang", "class")["icc"].iloc[0]),
        "conditional_icc": float(cond.icc),
        "n_pupils": float(len(d)),
        "n_classes": float(d["class"].nunique()),
    }
    if bootstrap:
        rng = np.random.default_rng(seed)
        groups = dict(tuple(d.groupby("class")))
        ids = np.array(sorted(groups))
        draws = []
        for _ in range(bootstrap):
            pick = rng.choice(ids, len(ids))
            sample = pd.concat([groups[c].assign(**{"class": i}) for i, c in enumerate(pick)])
            draws.append(_iccs(sample))
        arr = np.array(draws)
        out["se_icc"] = float(arr[:, 0].std(ddof=1))
        out["se_conditional_icc"] = float(arr[:, 1].std(ddof=1))
    return out


def nlschools_iq() -> dict[str, float]:
    """Verbal IQ in nlschools: its ICC between classes and its within-class correlation.

    The model's IQ-like covariate (:func:`toolkit.calibration.quantities.iq_like`) is given
    these two properties, so that the conditional ICC is computed in the model as nlschools
    computes it.

    Returns
    -------
    dict
        ``icc`` (REML, :func:`toolkit.survey.icc`) and ``within_correlation`` (Pearson
        correlation of IQ and the language score after removing class means).

    Examples
    --------
    >>> out = nlschools_iq()
    >>> round(out["icc"], 3), round(out["within_correlation"], 3)
    (0.119, 0.587)
    """
    from toolkit.survey import icc

    d = load_dataset("nlschools")
    w = d[["lang", "IQ"]] - d.groupby("class")[["lang", "IQ"]].transform("mean")
    return {
        "icc": float(icc(d, "IQ", "class")["icc"].iloc[0]),
        "within_correlation": float(np.corrcoef(w["lang"], w["IQ"])[0, 1]),
    }


def load_egsingle() -> pd.DataFrame:
    """Yearly mathematics scores of 1,721 Chicago pupils in 60 schools (mlmRev::egsingle).

    Returns
    -------
    pandas.DataFrame
        7,230 rows: ``schoolid``, ``childid`` (strings), ``grade`` (0 = grade 1 ... 5 =
        grade 6), ``year`` (centred), ``math`` (IRT scale score). Exported unchanged by
        ``toolkit/calibration/data/egsingle.R`` (mlmRev 1.0-8, GPL >= 2).

    Examples
    --------
    >>> load_egsingle().shape
    (7230, 5)
    """
    if not EGSINGLE_FILE.is_file():
        raise FileNotFoundError(
            f"{EGSINGLE_FILE}: missing; run Rscript toolkit/calibration/data/egsingle.R."
        )
    return pd.read_csv(EGSINGLE_FILE, dtype={"schoolid": str, "childid": str})


def _gains(w: pd.DataFrame, g: int) -> tuple[float, float, float, float]:
    x = w[["schoolid", g, g + 1]].dropna()
    gain = x[g + 1] - x[g]
    sd = float(x[g].std(ddof=1))
    fit = fit_random_intercept(x.assign(gain=gain), "gain", "schoolid")
    return (
        float(gain.std(ddof=1) / sd),
        float(np.corrcoef(x[g], gain)[0, 1]),
        float(gain.mean() / sd),
        float(fit.tau2 / (fit.tau2 + fit.sigma2["all"])),
    )


def egsingle_gains(grade: int = 3, bootstrap: int = 0, seed: int = 0) -> dict[str, float]:
    """One-year gains from ``grade`` to the next in egsingle: spread and relation to prior.

    Parameters
    ----------
    grade : int
        The earlier year's ``grade`` code (3: grade 4 to grade 5, the latest transition with
        about a thousand pupils).
    bootstrap : int
        School-bootstrap resamples for the standard errors.
    seed : int

    Returns
    -------
    dict
        ``sd_ratio`` (SD of the gains over the SD of the earlier scores), ``correlation``
        (of the gain with the earlier score, Pearson), ``mean_gain`` (the mean gain over the SD
        of the earlier scores: the year's growth in these units), ``gain_icc`` (the share of
        the gains' variance between schools, REML), ``n_pupils``, ``n_schools`` and, with
        ``bootstrap``, ``se_sd_ratio``, ``se_correlation``, ``se_mean_gain`` and
        ``se_gain_icc``.

    Examples
    --------
    >>> out = egsingle_gains()
    >>> round(out["sd_ratio"], 3), round(out["correlation"], 3), round(out["mean_gain"], 3)
    (0.554, -0.304, 0.764)
    >>> round(out["gain_icc"], 3)
    0.125
    """
    d = load_egsingle()
    w = d.pivot_table(index=["schoolid", "childid"], columns="grade", values="math").reset_index()
    ratio, corr, mean_gain, gain_icc = _gains(w, grade)
    x = w[[grade, grade + 1]].notna().all(axis=1)
    out = {
        "sd_ratio": ratio,
        "correlation": corr,
        "mean_gain": mean_gain,
        "gain_icc": gain_icc,
        "n_pupils": float(x.sum()),
        "n_schools": float(w.loc[x, "schoolid"].nunique()),
    }
    if bootstrap:
        rng = np.random.default_rng(seed)
        groups = dict(tuple(w.groupby("schoolid")))
        ids = np.array(sorted(groups))
        draws = np.array(
            [
                _gains(pd.concat([groups[s] for s in rng.choice(ids, len(ids))]), grade)
                for _ in range(bootstrap)
            ]
        )
        out["se_sd_ratio"] = float(draws[:, 0].std(ddof=1))
        out["se_correlation"] = float(draws[:, 1].std(ddof=1))
        out["se_mean_gain"] = float(draws[:, 2].std(ddof=1))
        out["se_gain_icc"] = float(draws[:, 3].std(ddof=1))
    return out
