r"""Build the model's starting cohorts from a data file, one per imputation or plausible value.

Steps, for a file and a :class:`~toolkit.realcohort.mapping.CohortMapping`:

1. **Check and prepare** (:func:`prepare`): every mapped column exists and is numeric (items
   through the codebook: labels to numbers, missing codes to NaN), every pupil has a class (or
   is dropped, ``unassigned = "drop"``, with a warning), a class lies in one school, class
   sizes are constant within a class and not below the pupils listed, weights are positive.
2. **Missing values**: ``missing = "impute"`` (the default) fills every missing value of the
   mapped columns by multiple imputation by chained equations, ``m`` times: scikit-learn's
   ``IterativeImputer`` with Bayesian ridge regressions and draws from their posterior
   predictive distribution (``sample_posterior=True``), each column predicted from every other
   mapped column, the auxiliary columns, the weight and the class means of each measure
   (students nested in classes; van Buuren 2018, ch. 7), five iterations per imputation as R's
   ``mice`` does by default. ``missing = "listwise"`` keeps only
   the pupils with every mapped value, says how many it dropped, and simulates the dropped
   pupils as classmates drawn from the model (they are still in the class).
3. **Scores on the model's scale**: achievement :math:`x` against the reference population
   (its mean :math:`\mu` and SD :math:`\sigma` of observed scores; by default the file's own
   pupils, weighted) is, for a test of reliability :math:`r`, an observation of the true skill
   :math:`S` (the model's SD units: SD 1 in the reference population)

   .. math::
       x^* = \frac{x - \mu}{\sqrt r\,\sigma} = S + e, \qquad e \sim N(0, (1 - r)/r),

   since the true-score SD is :math:`\sqrt r\,\sigma`. Interests and self-regulation: the keyed
   mean of the items (or the given score), standardized against the file's pupils, observes
   the model's interest z-score (or self-regulation factor) with the scale's reliability
   (Cronbach's alpha of the items in the file unless given). Plausible values are draws of the
   true score already: cohort :math:`m` takes the :math:`m`-th value, error-free.
4. **Everything else drawn** (:func:`toolkit.realcohort.latent.draw_given`): the attributes the
   file lacks, the true scores behind measured ones (``true_score = "draw"``; ``"estimate"``
   takes Kelley's regressed estimate :math:`r x^*` as exact, which understates spread), and the
   classmates the file does not list (``class_size`` above the pupils listed), from the model's
   joint distribution given what is measured, class by class.

References
----------
.. [1] van Buuren, S. (2018). *Flexible Imputation of Missing Data* (2nd ed.). CRC Press.
   https://stefvanbuuren.name/fimd/
.. [2] Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
.. [3] Kelley, T. L. (1947). *Fundamentals of Statistics*. Harvard University Press
   (the regressed true-score estimate).
.. [4] Lord, F. M., & Novick, M. R. (1968). *Statistical Theories of Mental Test Scores*.
   Addison-Wesley.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from toolkit._base.checks import preview
from toolkit.model.cohort import Cohort, classroom_seed, school_seed
from toolkit.model.params import Parameters
from toolkit.realcohort.latent import LatentModel, draw_given
from toolkit.realcohort.mapping import CohortError, CohortMapping, Measure

__all__ = ["Prepared", "RealCohorts", "build_cohorts", "prepare"]

#: Largest class the model accepts (``n_students``' upper bound).
MAX_CLASS = 200
#: Spawn-key tags of the building's random streams (never a classroom's: those are ``(i,)``).
_IMPUTE, _DRAW = 0x5EED_1, 0x5EED_2
_STATUS = ("file", "dropped", "drawn")


@dataclass
class Prepared:
    """A data file checked against its mapping, before anything is imputed or drawn.

    Attributes
    ----------
    mapping : CohortMapping
    frame : pandas.DataFrame
        The pupils used (rows of pupils without a class dropped if asked), numeric mapped
        columns (items recoded, keys not yet applied), in file order, with the file's index.
    classes : pandas.DataFrame
        One row per class, in order of ``index``: ``index``, ``class`` (the file's label),
        ``school``, ``n_file`` (pupils listed), ``n_kept`` (with every mapped value, or all
        with imputation), ``n_simulated`` (the class as simulated), ``weight`` (sum of the
        kept pupils' weights).
    class_index : ndarray of int
        Each row's class number.
    kept : ndarray of bool
        Rows whose values enter the estimates (all rows unless ``missing = "listwise"``).
    weights : ndarray
        Each row's weight (1 without a weight column).
    missing : dict
        Column to its number of missing values (among the pupils used).
    alpha : dict
        Attribute to the Cronbach's alpha of its items in the file (items and scales only).
    item_bounds : dict
        Item to the (lowest, highest) answer used to reverse-key it.
    notes : list of str
        What was dropped or warned about, in words (also issued as warnings).
    design : toolkit.survey.ReplicateDesign
        The replicate design of the kept pupils, in file order: the file's replicate weights,
        or a jackknife over schools (else classes) within strata.
    """

    mapping: CohortMapping
    frame: pd.DataFrame
    classes: pd.DataFrame
    class_index: np.ndarray
    kept: np.ndarray
    weights: np.ndarray
    missing: dict[str, int]
    alpha: dict[str, float]
    item_bounds: dict[str, tuple[float, float]]
    notes: list[str] = field(default_factory=list)
    design: Any = None

    @property
    def n_classes(self) -> int:
        """Classes simulated."""
        return len(self.classes)

    def analysis_columns(self) -> list[str]:
        """Return the mapped value columns (scores, plausible values, items), in mapping order."""
        return list(dict.fromkeys(c for m in self.mapping.measures for c in m.items))


def _columns_with_keys(mapping: CohortMapping) -> list[tuple[str, str]]:
    out = [("class", mapping.class_column)]
    for key in ("school", "class_size", "weight", "strata"):
        col = getattr(mapping, key)
        if col is not None:
            out.append((key, col))
    if isinstance(mapping.replicate_weights, tuple):
        out += [("replicate_weights", c) for c in mapping.replicate_weights]
    for m in mapping.measures:
        group = m.attribute.split("_", 1)
        key = (
            "self_regulation"
            if m.attribute == "self_regulation"
            else f"{'achievement' if group[0] == 'skill' else 'interest'}.{group[1]}"
        )
        out += [(key, c) for c in m.items]
    out += [("auxiliary", c) for c in mapping.auxiliary]
    return out


def _warn(notes: list[str], text: str) -> None:
    notes.append(text)
    warnings.warn(text, UserWarning, stacklevel=3)


def _numeric(s: pd.Series, where: str, key: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        s = s.astype(float)
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    conv = pd.to_numeric(s, errors="coerce")
    bad = s.notna() & conv.isna()
    if bad.any():
        raise CohortError(
            f"{where}: column {s.name!r} ('{key}') holds non-numeric values "
            f"{preview(list(pd.unique(s[bad])), 5)} in rows {preview(list(s.index[bad]))}; "
            "expected numbers (give a codebook to turn answer labels into numbers)."
        )
    return conv.astype(float)


def prepare(data: pd.DataFrame, mapping: CohortMapping, codebook: Any = None) -> Prepared:
    """Check a data file against its mapping and prepare its columns (see the module docstring).

    Parameters
    ----------
    data : pandas.DataFrame
        The file as read (e.g. :func:`toolkit.survey.read_survey`).
    mapping : CohortMapping
    codebook : toolkit.survey.Codebook, optional
        Recodes the items it lists (labels to numbers, missing codes to NaN).

    Returns
    -------
    Prepared

    Raises
    ------
    CohortError
        For a column that is missing or not numeric, a pupil without a class
        (``unassigned = "refuse"``), a class in two schools, a class size that varies within
        a class or is below the pupils listed, a class of fewer than two pupils
        (``small_classes = "refuse"``), a missing or non-positive weight.
    """
    where = mapping.where
    notes: list[str] = []
    for key, col in _columns_with_keys(mapping):
        if col not in data.columns:
            from toolkit.model.params import suggest_name

            cols = [str(c) for c in data.columns]
            raise CohortError(
                f"{where}: column {col!r} (key '{key}') is not in the data."
                f"{suggest_name(str(col), cols)} Columns: {preview(cols, 15)}."
            )
    df = data
    cls = df[mapping.class_column]
    if cls.isna().any():
        rows = list(df.index[cls.isna()])
        if mapping.unassigned == "refuse":
            raise CohortError(
                f"{where}: {len(rows)} pupil(s) have no class (column {mapping.class_column!r} "
                f"is empty in rows {preview(rows)}); every pupil must be in a class. Fill the "
                'class in, or set unassigned = "drop" to leave them out.'
            )
        _warn(
            notes,
            f"{where}: left out {len(rows)} pupil(s) without a class (column "
            f'{mapping.class_column!r} empty in rows {preview(rows)}); unassigned = "drop".',
        )
        df = df[cls.notna()]
    df = df.copy()
    # items through the codebook (raw codes: keys are applied when scoring) -------------------
    items = [c for m in mapping.measures if m.kind in ("items", "scale") for c in m.items]
    bounds: dict[str, tuple[float, float]] = {}
    if codebook is not None:
        from toolkit.survey.codebook import Codebook

        known = [c for c in dict.fromkeys(items) if c in codebook.items]
        if known:
            sub = Codebook([codebook.items[c] for c in known], missing=codebook.missing)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rec = sub.recode(df[known], reverse=False, errors="raise", keep_other=False)
            except ValueError as exc:
                raise CohortError(f"{where}: the codebook does not fit the data: {exc}") from None
            for c in known:
                df[c] = rec[c]
                b = codebook.items[c].bounds
                if b is not None:
                    bounds[c] = (float(b[0]), float(b[1]))
    value_cols = [c for m in mapping.measures for c in m.items]
    for key, col in _columns_with_keys(mapping):
        if key in ("class", "school", "strata"):
            continue
        df[col] = _numeric(df[col], where, key)
    # weights --------------------------------------------------------------------------------
    if mapping.weight is not None:
        w = df[mapping.weight].to_numpy(dtype=float)
        bad = np.isnan(w) | (w <= 0)
        if bad.any():
            raise CohortError(
                f"{where}: weight column {mapping.weight!r} is missing, zero or negative in rows "
                f"{preview(list(df.index[bad]))}; every pupil needs a positive weight."
            )
    else:
        w = np.ones(len(df))
    # classes, schools and sizes -------------------------------------------------------------
    codes, labels = pd.factorize(df[mapping.class_column], sort=True)
    n_file = np.bincount(codes, minlength=len(labels))
    table = pd.DataFrame({"index": np.arange(len(labels)), "class": labels, "n_file": n_file})
    if mapping.school is not None:
        per = df.groupby(codes)[mapping.school].nunique(dropna=False)
        split = labels[per.index[per.to_numpy() > 1]]
        if len(split):
            raise CohortError(
                f"{where}: class(es) {preview(list(split))} lie in more than one school (column "
                f"{mapping.school!r}); a class belongs to one school."
            )
        if df[mapping.school].isna().any():
            rows = list(df.index[df[mapping.school].isna()])
            raise CohortError(
                f"{where}: school column {mapping.school!r} is empty in rows {preview(rows)}."
            )
        table["school"] = df.groupby(codes)[mapping.school].first().to_numpy()
    else:
        table["school"] = table["class"]
    n_sim = n_file.copy()
    if mapping.class_size is not None:
        size = df.groupby(codes)[mapping.class_size]
        varies = size.nunique(dropna=False).to_numpy() > 1
        if varies.any():
            raise CohortError(
                f"{where}: class size column {mapping.class_size!r} takes several values within "
                f"class(es) {preview(list(labels[varies]))}; it must be the class's size, the "
                "same for all its pupils."
            )
        given = size.first().to_numpy(dtype=float)
        if np.isnan(given).any():
            raise CohortError(
                f"{where}: class size column {mapping.class_size!r} is empty for class(es) "
                f"{preview(list(labels[np.isnan(given)]))}."
            )
        if (given != np.round(given)).any():
            raise CohortError(
                f"{where}: class size column {mapping.class_size!r} must hold whole numbers."
            )
        short = given < n_file
        if short.any():
            k = int(np.where(short)[0][0])
            raise CohortError(
                f"{where}: class {labels[k]!r} has class_size {int(given[k])} (column "
                f"{mapping.class_size!r}) but the file lists {n_file[k]} pupils in it "
                f"({int(short.sum())} such class(es)); a class is at least as large as its "
                "pupils in the file."
            )
        n_sim = given.astype(int)
    table["n_simulated"] = n_sim
    small = n_sim < 2
    if small.any():
        if mapping.small_classes == "refuse":
            raise CohortError(
                f"{where}: class(es) {preview(list(labels[small]))} have a single pupil; the "
                "model simulates classes of 2 or more. Give the real class sizes (class_size), "
                'or set small_classes = "drop" to leave these classes out.'
            )
        _warn(
            notes,
            f"{where}: left out {int(small.sum())} class(es) of a single pupil "
            f'{preview(list(labels[small]))} (small_classes = "drop").',
        )
    big = n_sim > MAX_CLASS
    if big.any():
        raise CohortError(
            f"{where}: class(es) {preview(list(labels[big]))} have more than {MAX_CLASS} pupils "
            "(the model's largest class); is the class column a school or a grade?"
        )
    if small.any():
        keep_rows = ~small[codes]
        df, w, codes = df[keep_rows], w[keep_rows], codes[keep_rows]
        table = table[~small].reset_index(drop=True)
        old_to_new = -np.ones(len(small), dtype=int)
        old_to_new[table["index"].to_numpy()] = np.arange(len(table))
        codes = old_to_new[codes]
        table["index"] = np.arange(len(table))
    # missing values of the mapped columns ---------------------------------------------------
    values = df[value_cols] if value_cols else pd.DataFrame(index=df.index)
    missing = {c: int(values[c].isna().sum()) for c in dict.fromkeys(value_cols)}
    missing = {c: k for c, k in missing.items() if k}
    kept = np.ones(len(df), dtype=bool)
    if mapping.attributes == "data" and missing:
        incomplete = values.isna().any(axis=1).to_numpy()
        detail = ", ".join(f"{c} {k}" for c, k in missing.items())
        if mapping.missing == "listwise":
            kept = ~incomplete
            _warn(
                notes,
                f"{where}: listwise deletion left out {int(incomplete.sum())} of {len(df)} pupils "
                f"({100 * incomplete.mean():.1f}%) with a missing value (missing per column: "
                f"{detail}); the estimates describe the complete cases only, and the left-out "
                "pupils are simulated as classmates drawn from the model.",
            )
        else:
            notes.append(
                f"{int(incomplete.sum())} of {len(df)} pupils have a missing value (per column: "
                f"{detail}); filled by chained equations, {mapping.n_cohorts} times."
            )
        all_missing = [c for c in dict.fromkeys(value_cols) if values[c].isna().all()]
        if all_missing:
            raise CohortError(
                f"{where}: column(s) {all_missing} have no value at all; nothing can be read or "
                "imputed from them (drop them from the mapping)."
            )
    table["n_kept"] = np.bincount(codes, weights=kept, minlength=len(table)).astype(int)
    table["weight"] = np.bincount(codes, weights=w * kept, minlength=len(table))
    lonely = table["n_kept"].to_numpy() < 2
    if mapping.attributes == "data" and lonely.any():
        _warn(
            notes,
            f"{where}: class(es) {preview(list(table['class'][lonely]))} have fewer than 2 pupils "
            "with data; their classmates are drawn, and their within-class spread and diversity "
            "metrics are undefined (left out of the class-level means).",
        )
    # reverse-keying bounds and the scales' alpha -------------------------------------------
    alpha: dict[str, float] = {}
    for m in mapping.measures:
        if m.kind not in ("items", "scale"):
            continue
        block = df.loc[kept, m.items]
        lo, hi = float(np.nanmin(block.to_numpy())), float(np.nanmax(block.to_numpy()))
        for c in m.items:
            bounds.setdefault(c, (lo, hi))
        if m.reliability is None and mapping.attributes == "data":
            alpha[m.attribute] = _alpha(_keyed(block, m, bounds))
            if not 0 < alpha[m.attribute] <= 1:
                raise CohortError(
                    f"{where}: the items of {m.attribute} ({list(m.columns)}) have Cronbach's "
                    f"alpha {alpha[m.attribute]:.3f} in the file; a reverse key is probably "
                    "missing ('-' before the item), or give 'reliability'."
                )
    if mapping.attributes == "data":
        _check_range(df.loc[kept], w[kept], mapping)
    table = table[["index", "class", "school", "n_file", "n_kept", "n_simulated", "weight"]]
    prep = Prepared(mapping, df, table, codes, kept, w, missing, alpha, bounds, notes)
    prep.design = _design(prep)
    return prep


#: Farthest a test score may lie from the reference mean, in its SD (see :func:`_check_range`).
MAX_Z = 4.5


def _check_range(frame: pd.DataFrame, w: np.ndarray, mapping: CohortMapping) -> None:
    """Refuse achievement scores more than :data:`MAX_Z` SDs from the reference mean.

    Skills are on the SD scale of the reference population and the spread metrics put their zero
    5 SD below its mean (:data:`toolkit.study.analysis.SCALE_ZERO`); such a score is far more
    often a missing-value code, a typing error or a wrong reference than a pupil.
    """
    for m in mapping.measures:
        if not m.attribute.startswith("skill_"):
            continue
        for col in m.columns:
            x = frame[col].to_numpy(dtype=float)
            ok = ~np.isnan(x)
            mu, sd = m.reference if m.reference is not None else _wmean_sd(x[ok], w[ok])
            far = ok & (np.abs(x - mu) > MAX_Z * sd)
            if far.any():
                rows = list(frame.index[far])
                raise CohortError(
                    f"{mapping.where}: column {col!r} ({m.attribute}) has {len(rows)} score(s) "
                    f"more than {MAX_Z} SD from the reference mean {mu:g} (SD {sd:g}): rows "
                    f"{preview(rows)}, values {preview(list(x[far]), 5)}. The model's skills are "
                    "in SD units of the reference population; check these values (a "
                    "missing-value code?) and the reference."
                )


def _keyed(block: pd.DataFrame, m: Measure, bounds: dict[str, tuple[float, float]]) -> np.ndarray:
    """Return the items with reverse-keyed ones turned round, as an array (rows x items)."""
    out = block[m.items].to_numpy(dtype=float).copy()
    for j, key in enumerate(m.columns):
        if key.startswith("-"):
            lo, hi = bounds[key[1:]]
            out[:, j] = lo + hi - out[:, j]
    return out


def _alpha(x: np.ndarray) -> float:
    r"""Cronbach's alpha from pairwise-complete covariances (``psych::alpha``'s raw alpha).

    :math:`\alpha = \frac{k}{k-1}\left(1 - \operatorname{tr}C / \sum_{ij} C_{ij}\right)` with
    :math:`C` the items' covariance matrix; negative when items are keyed against each other.
    """
    c = pd.DataFrame(x).cov().to_numpy()
    k = c.shape[0]
    return float(k / (k - 1) * (1 - np.trace(c) / c.sum()))


# ---------------------------------------------------------------------------------------------
# imputation
# ---------------------------------------------------------------------------------------------
def _impute(prep: Prepared, m: int, seed: int) -> pd.DataFrame:
    """Return the m-th completed copy of the mapped columns (kept rows), by chained equations."""
    cols = prep.analysis_columns()
    frame = prep.frame.loc[prep.kept, cols]
    if not frame.isna().to_numpy().any():
        return frame
    from toolkit._optional import require

    what = 'Imputing missing values of a cohort\'s file (missing = "impute")'
    require("sklearn.experimental.enable_iterative_imputer", what)
    iterative_imputer = require("sklearn.impute", what).IterativeImputer
    threadpool_limits = require("threadpoolctl", what).threadpool_limits

    mapping = prep.mapping
    codes = prep.class_index[prep.kept]
    extra = [prep.frame.loc[prep.kept, c].to_numpy(dtype=float) for c in mapping.auxiliary]
    extra.append(prep.weights[prep.kept])
    for meas in mapping.measures:  # class means of each measure, as predictors
        per_pupil = frame[meas.items].mean(axis=1).to_numpy()
        ok = ~np.isnan(per_pupil)
        tot = np.bincount(codes[ok], weights=per_pupil[ok], minlength=prep.n_classes)
        cnt = np.bincount(codes[ok], minlength=prep.n_classes)
        with np.errstate(invalid="ignore", divide="ignore"):
            extra.append((tot / cnt)[codes])
    x = np.column_stack([frame.to_numpy(dtype=float), *extra])
    lo = np.full(x.shape[1], -np.inf)
    hi = np.full(x.shape[1], np.inf)
    for j, c in enumerate(cols):
        if c in prep.item_bounds:
            lo[j], hi[j] = prep.item_bounds[c]
    state = int(np.random.SeedSequence(seed, spawn_key=(_IMPUTE, m)).generate_state(1)[0])
    imputer = iterative_imputer(
        sample_posterior=True,
        max_iter=5,  # R mice's default number of iterations (maxit = 5)
        skip_complete=True,
        random_state=state,
        min_value=lo,
        max_value=hi,
    )
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # its ConvergenceWarning: with posterior draws it never settles
        done = imputer.fit_transform(x)
    return pd.DataFrame(done[:, : len(cols)], index=frame.index, columns=cols)


# ---------------------------------------------------------------------------------------------
# the cohorts
# ---------------------------------------------------------------------------------------------
@dataclass
class RealCohorts:
    """Starting cohorts built from a data file: ``cohorts[m][k]`` is class ``k`` in cohort ``m``.

    Attributes
    ----------
    prepared : Prepared
        The checked data (classes, weights, what was dropped).
    params : Parameters
        The model parameters the attributes were drawn under.
    cohorts : list of list of Cohort
        Per imputed cohort (or plausible value), per class, the class's students: the file's
        pupils with data first (in file order), then pupils left out by listwise deletion,
        then classmates the file does not list.
    sources : pandas.DataFrame
        One row per attribute: ``attribute``, ``source`` (``"data"``, ``"drawn given data"``,
        ``"drawn"``), ``detail``, ``n_data`` (pupils with a value in the file), ``n_imputed``
        (pupils whose value was imputed), ``n_drawn`` (simulated students without data).
    scales : list of dict
        Per cohort and measure: the reference mean and SD used and the reliability.
    design : toolkit.survey.ReplicateDesign
        The replicate design of the kept pupils (in the order of :attr:`students`).
    seed : int
    """

    prepared: Prepared
    params: Parameters
    cohorts: list[list[Cohort]]
    sources: pd.DataFrame
    scales: list[dict[str, Any]]
    design: Any
    seed: int

    @property
    def mapping(self) -> CohortMapping:
        """The mapping."""
        return self.prepared.mapping

    @property
    def classes(self) -> pd.DataFrame:
        """One row per class (see :class:`Prepared`)."""
        return self.prepared.classes

    @property
    def n_cohorts(self) -> int:
        """Imputed cohorts (or plausible values)."""
        return len(self.cohorts)

    @property
    def students(self) -> pd.DataFrame:
        """The kept pupils: ``row`` (index in the file), ``class_index``, ``student``, ``weight``.

        ``student`` is the pupil's place in the simulated class (the key of the simulation's
        student rows); the rows are in file order, as in :attr:`design`.
        """
        prep = self.prepared
        codes = prep.class_index[prep.kept]
        return pd.DataFrame(
            {
                "row": prep.frame.index[prep.kept],
                "class_index": codes,
                "student": _rank_within(codes),
                "weight": prep.weights[prep.kept],
            }
        )

    def table(self) -> pd.DataFrame:
        """Every simulated student of every cohort with its attributes and where they came from.

        Returns
        -------
        pandas.DataFrame
            ``cohort, class_index, class, school, student, status`` (``"file"``: a pupil with
            data, ``"dropped"``: left out by listwise deletion, ``"drawn"``: a classmate the
            file does not list), ``row`` (the file's row label as text, for the first two;
            missing for drawn classmates), ``weight`` (0
            outside the estimates), then ``skill_*``, ``aptitude_*``, ``interest_*`` and
            ``self_regulation``.
        """
        prep = self.prepared
        doms = self.params.domains
        rows_of = _rows_by_class(prep)
        every, cohort, class_index, status, row, weight = [], [], [], [], [], []
        for m, classes in enumerate(self.cohorts):
            for k, co in enumerate(classes):
                n = co.n_students
                kept_rows, dropped_rows = rows_of[k]
                n_file, n_dropped = len(kept_rows), len(dropped_rows)
                status += ["file"] * n_file + ["dropped"] * n_dropped
                status += ["drawn"] * (n - n_file - n_dropped)
                row += [str(r) for r in [*kept_rows, *dropped_rows]]
                row += [None] * (n - n_file - n_dropped)
                wts = np.zeros(n)
                wts[:n_file] = prep.weights[prep.frame.index.get_indexer(kept_rows)]
                weight.append(wts)
                every.append(co)
                cohort.append(m)
                class_index.append(k)
        # a file has at least one class (an empty one is refused when it is read)
        sizes = [co.n_students for co in every]
        k_of_row = np.repeat(np.asarray(class_index, dtype=np.int64), sizes)
        columns: dict[str, Any] = {
            "cohort": np.repeat(np.asarray(cohort, dtype=np.int64), sizes),
            "class_index": k_of_row,
            "class": prep.classes["class"].take(k_of_row).to_numpy(),
            "school": prep.classes["school"].take(k_of_row).to_numpy(),
            "student": np.concatenate([np.arange(n) for n in sizes]),
            "status": status,
            "row": row,
            "weight": np.concatenate(weight),
        }
        for name in ("skill", "aptitude", "interest"):
            block = np.concatenate([getattr(co, name) for co in every])
            for j, dom in enumerate(doms):
                columns[f"{name}_{dom}"] = block[:, j]
        columns["self_regulation"] = np.concatenate([co.self_regulation for co in every])
        out = pd.DataFrame(columns)
        out["status"] = pd.Categorical(out["status"], categories=list(_STATUS))
        out["class"] = out["class"].astype(str)
        out["school"] = out["school"].astype(str)
        out["row"] = out["row"].astype("string")
        return out


def _rank_within(codes: np.ndarray) -> np.ndarray:
    """Position of each element among the earlier elements with the same code."""
    out = np.empty(len(codes), dtype=np.int64)
    seen: dict[int, int] = {}
    for i, c in enumerate(codes):
        out[i] = seen.get(int(c), 0)
        seen[int(c)] = out[i] + 1
    return out


def _rows_by_class(prep: Prepared) -> list[tuple[list[Any], list[Any]]]:
    """Per class, the file rows of its kept pupils and of its pupils left out (in file order)."""
    out: list[tuple[list[Any], list[Any]]] = [([], []) for _ in range(prep.n_classes)]
    for label, code, keep in zip(prep.frame.index, prep.class_index, prep.kept, strict=True):
        out[int(code)][0 if keep else 1].append(label)
    return out


def _params_for(params: Parameters, n: int) -> Parameters:
    """Return the parameters of a class of ``n`` students (peers capped at its classmates)."""
    changes: dict[str, Any] = {"n_students": int(n)}
    if params.peer_ties > n - 1:
        changes["peer_ties"] = int(n - 1)
    return params.replace(**changes)


def _wmean_sd(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    mean = float(np.average(x, weights=w))
    var = (
        float(np.average((x - mean) ** 2, weights=w)) * w.sum() ** 2 / (w.sum() ** 2 - (w**2).sum())
    )
    return mean, float(np.sqrt(var))


def _score(frame: pd.DataFrame, m: Measure, cohort: int, bounds: dict) -> np.ndarray:
    if m.kind == "plausible_values":
        return frame[m.columns[cohort]].to_numpy(dtype=float)
    if m.kind == "column":
        return frame[m.columns[0]].to_numpy(dtype=float)
    return _keyed(frame, m, bounds).mean(axis=1)


def build_cohorts(
    prepared: Prepared,
    params: Parameters,
    seed: int,
) -> RealCohorts:
    """Build the cohorts: impute, put every measure on the model's scale, draw the rest.

    Parameters
    ----------
    prepared : Prepared
        From :func:`prepare`.
    params : Parameters
        The model's parameters (domains, the cohort distribution the missing attributes are
        drawn from; ``n_students`` is replaced by each class's size).
    seed : int
        The study's master seed: imputation ``m`` and the draws of cohort ``m`` come from
        their own streams of it, so cohort ``m`` is the same whatever the number of cohorts.

    Returns
    -------
    RealCohorts

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.realcohort.mapping import parse_mapping
    >>> data = pd.DataFrame({"cl": [1, 1, 1, 2, 2, 2], "x": [40.0, 50, 45, 30, 35, 60]})
    >>> p = Parameters()
    >>> mp = parse_mapping({"data": data, "class": "cl",
    ...                     "achievement": {"reading": {"column": "x"}}}, domains=p.domains)
    >>> real = build_cohorts(prepare(data, mp), p, seed=1)
    >>> real.n_cohorts, [c.n_students for c in real.cohorts[0]]
    (5, [3, 3])
    """
    prep = prepared
    mapping = prep.mapping
    lm = LatentModel.of(params)
    names = lm.observable_names()
    doms = list(params.domains)
    classes = prep.classes
    sizes = classes["n_simulated"].to_numpy()
    rows_of = _rows_by_class(prep)
    pos = prep.frame.index
    # simulated students: per class its kept pupils, its dropped pupils, then drawn classmates
    order_class = np.repeat(np.arange(prep.n_classes), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    kept_slot = np.full(len(pos), -1)
    for k, (kept_rows, _) in enumerate(rows_of):
        idx = pos.get_indexer(kept_rows)
        kept_slot[idx] = starts[k] + np.arange(len(idx))
    kept_idx = np.where(prep.kept)[0]
    slots = kept_slot[kept_idx]
    cohorts: list[list[Cohort]] = []
    scales: list[dict[str, Any]] = []
    weights = prep.weights[prep.kept]
    school_of, school_effect = _schools(prep, seed)
    for m in range(mapping.n_cohorts):
        obs = np.full((len(order_class), lm.n_observables), np.nan)
        tau = np.zeros((len(order_class), lm.n_observables))
        record: dict[str, Any] = {"cohort": m}
        if mapping.attributes == "data":
            completed = _impute(prep, m, seed)
            for meas in mapping.measures:
                j = names.index(meas.attribute)
                x = _score(completed, meas, m, prep.item_bounds)
                if meas.reference is None:
                    mu, sd = _wmean_sd(x, weights)
                else:
                    mu, sd = meas.reference
                if meas.kind == "plausible_values":
                    rel = 1.0
                elif meas.reliability is not None:
                    rel = meas.reliability
                else:
                    rel = prep.alpha.get(meas.attribute, 1.0)
                xstar = (x - mu) / (np.sqrt(rel) * sd)
                if mapping.true_score == "estimate":
                    obs[slots, j] = rel * xstar
                else:
                    obs[slots, j] = xstar
                    tau[slots, j] = (1.0 - rel) / rel
                record[meas.attribute] = {"mean": mu, "sd": sd, "reliability": rel}
        scales.append(record)
        rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(_DRAW, m)))
        )
        c, xi = draw_given(
            lm, order_class, obs, tau, rng, n_classes=prep.n_classes, schools=school_of
        )
        calibration = rng.standard_normal((len(order_class), len(doms)))
        one = []
        for k, n in enumerate(sizes):
            sl = slice(starts[k], starts[k] + n)
            one.append(lm.attributes(c[k], xi[sl], calibration[sl], school_effect[k]))
        cohorts.append(one)
    return RealCohorts(prep, params, cohorts, _sources(prep, params), scales, prep.design, seed)


def _schools(prep: Prepared, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each class's school (its number) and the school's effectiveness ``Cohort.school_effect``.

    School ``j`` (in sorted order of the school column; each class its own school without one)
    draws its effectiveness from ``school_seed(classroom_seed(seed, j), 1)``, the seed
    ``draw_cohort`` gives the school of classroom ``j`` when every classroom has its own school,
    and as ``draw_cohort`` does: the second of two standard normals.
    """
    schools = pd.factorize(prep.classes["school"].astype(str), sort=True)[0]
    effect = np.empty(schools.max() + 1)
    for j in range(effect.size):
        rng = np.random.Generator(np.random.PCG64(school_seed(classroom_seed(seed, j), 1)))
        effect[j] = rng.standard_normal(2)[1]
    return schools, effect[schools]


def _design(prep: Prepared) -> Any:
    """Build the kept pupils' replicate design: the file's replicate weights, or a jackknife."""
    from toolkit.survey.lsa import jackknife_design, replicate_design

    mapping = prep.mapping
    frame = prep.frame.loc[prep.kept].copy()
    frame["_weight"] = prep.weights[prep.kept]
    frame["_cluster"] = prep.class_index[prep.kept]
    if mapping.school is not None:
        frame["_cluster"] = frame[mapping.school].astype(str)
    where = mapping.where
    try:
        if mapping.replicate_weights is not None:
            reps = mapping.replicate_weights
            return replicate_design(
                frame,
                "_weight",
                list(reps) if isinstance(reps, tuple) else reps,
                method=mapping.replicate_method,
                fay_k=mapping.fay_k,
                n_replicates=mapping.n_replicates,
            )
        if frame["_cluster"].nunique() < 2:
            raise CohortError(
                f"{where}: one {'school' if mapping.school else 'class'} only; the sampling "
                "variance needs at least two (or give the file's replicate weights)."
            )
        return jackknife_design(frame, "_weight", "_cluster", mapping.strata)
    except CohortError:
        raise
    except ValueError as exc:
        if mapping.strata is not None and "single cluster" in str(exc):
            raise CohortError(
                f"{where}: a stratum of column {mapping.strata!r} has a single "
                f"{'school' if mapping.school else 'class'}; the jackknife needs two per stratum. "
                "Merge it with a neighbouring stratum in the file, or drop 'strata' (a jackknife "
                "over all of them, slightly conservative)."
            ) from None
        raise CohortError(f"{where}: the survey design does not fit the data: {exc}") from None


def _sources(prep: Prepared, params: Parameters) -> pd.DataFrame:
    """Where every attribute came from, with counts (see :class:`RealCohorts`)."""
    mapping = prep.mapping
    by_attr = {m.attribute: m for m in mapping.measures}
    n_kept = int(prep.kept.sum())
    n_sim = int(prep.classes["n_simulated"].sum())
    measured = [m.attribute for m in mapping.measures]
    given = ", ".join(measured) if measured else ""
    rows = []
    doms = params.domains
    attrs = (
        [f"skill_{d}" for d in doms]
        + [f"interest_{d}" for d in doms]
        + ["self_regulation"]
        + [f"aptitude_{d}" for d in doms]
        + [f"calibration_{d}" for d in doms]
    )
    for a in attrs:
        meas = by_attr.get(a)
        if mapping.attributes == "drawn":
            rows.append(
                {
                    "attribute": a,
                    "source": "drawn",
                    "detail": 'drawn from the model (attributes = "drawn")',
                    "n_data": 0,
                    "n_imputed": 0,
                    "n_drawn": n_sim,
                }
            )
        elif meas is not None:
            block = prep.frame.loc[prep.kept, meas.items]
            incomplete = int(block.isna().any(axis=1).sum())
            rel = meas.reliability if meas.reliability is not None else prep.alpha.get(a, None)
            detail = meas.describe()
            if a in prep.alpha and meas.reliability is None:
                detail += f" (alpha {prep.alpha[a]:.3f})"
            if meas.kind != "plausible_values" and (rel or 1.0) < 1:
                detail += (
                    "; true score drawn given the score"
                    if mapping.true_score == "draw"
                    else "; Kelley's regressed true-score estimate"
                )
            rows.append(
                {
                    "attribute": a,
                    "source": "data",
                    "detail": detail,
                    "n_data": n_kept - incomplete,
                    "n_imputed": incomplete,
                    "n_drawn": n_sim - n_kept,
                }
            )
        else:
            what = (
                "drawn from the model given " + given + " (the model's correlations)"
                if given and not a.startswith("calibration")
                else "drawn from the model (independent of everything else in the model)"
            )
            rows.append(
                {
                    "attribute": a,
                    "source": "drawn given data" if "given" in what else "drawn",
                    "detail": what,
                    "n_data": 0,
                    "n_imputed": 0,
                    "n_drawn": n_sim,
                }
            )
    return pd.DataFrame(rows)
