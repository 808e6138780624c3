"""Analysis of a study run: classroom metrics, the summary table and the tails, as plain tables.

The unit of replication is the classroom: every metric is computed per classroom (and arm,
year and sweep point) with :func:`toolkit.metrics.group_metrics`, then compared across arms
with paired differences over classrooms (:func:`toolkit.metrics.compare_conditions`), which is
valid because classroom ``i`` has the same students and random streams in every arm.

Conventions, stated once here and in every output's manifest:

- ``score`` is the standardized test of the core domains, on the SD scale of the starting
  cohort; ``effect_size`` is the paired difference in class mean score divided by the SD of
  students' scores in the reference arm (treated as fixed);
- ``cv`` and ``gini`` use the scale score ``500 + 100 * score`` (zero 5 SD below the starting
  mean), as large-scale assessments report scores, because both need a natural zero;
- the Matthew effect is the within-class correlation of the *true* core gain with the prior
  test score (the observed gain would carry the prior test's error with a minus sign and
  regress to the mean);
- diversity of excellence is the share of students in the top decile of at least one domain,
  with each arm's own top-decile thresholds (per sweep point and year): it measures how many
  different students excel somewhere, whatever the arm's overall level; the earlier measure,
  with the reference arm's thresholds ("excellent" meaning the same level in every arm, so
  that it also rises with the level), is kept as ``excellence_vs_reference``;
- ``portfolio`` is attainment weighted by each student's own interests (what a portfolio of
  self-chosen work would show), beside the test, which sees only the core domains;
- tails: students are placed in quintiles of the prior score within each sweep point, year
  and arm (prior scores are identical across arms in the first year).

How it streams. A run's student rows arrive in parts (one per work unit: a chunk of whole
classrooms at one sweep point, in every arm), and the analysis never needs all of them at
once. Three kinds of quantity, each computed by one function:

1. per classroom, from the classroom's own students and the same classroom in the reference
   arm: :func:`local_classroom_metrics`, run in the work unit itself (on a Dask worker);
2. study-wide, per sweep point and year: the reference SD of scores behind ``effect_size``,
   every arm's excellence thresholds and the prior-score quintile cut points,
   :func:`study_statistics`, from a few columns of the parts, one sweep point at a time;
3. per classroom again, given those: :func:`classroom_excellence` (diversity of excellence)
   and :func:`tail_units` (mean outcomes by prior quintile), part by part.

The output tables are then one function each: :func:`classroom_metrics` (``classrooms.csv``),
:func:`summarise` (``summary.csv``) and :func:`tails_table` (``tails.csv``), all from
classroom-level rows. The same functions applied to the whole student table in memory give
the same numbers, bit for bit (``tests/test_study_stream.py``).
"""

from __future__ import annotations

import importlib
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit._base import plugins
from toolkit._base.atomic import csv_text, temp_path
from toolkit.metrics import compare_conditions, effect_vs_reference, group_metrics
from toolkit.metrics.student_t import import_in_background
from toolkit.study.pool import Pool, SerialPool
from toolkit.study.result import BATCH_ROWS
from toolkit.study.spec import StudySpec

if TYPE_CHECKING:
    from toolkit.study.result import RunResult

__all__ = [
    "SCALE_ZERO",
    "SUMMARY_METRICS",
    "StudyStatistics",
    "analyse_run",
    "analysis_columns",
    "classroom_excellence",
    "classroom_metrics",
    "decomposition_table",
    "format_summary",
    "format_sweep",
    "local_classroom_metrics",
    "prepare_run",
    "provenance_line",
    "study_statistics",
    "summarise",
    "tail_units",
    "tails_table",
]

#: Zero of the scale score used for CV and Gini: ``500 + 100 * score`` is 0 at score -5.
SCALE_ZERO = -5.0

#: Quantile that defines excellence (top decile of the reference arm in each domain).
EXCELLENCE_QUANTILE = 0.9

#: Student columns averaged per classroom besides the score (``group_metrics`` extra).
_EXTRA = [
    "core_gain",
    "total_learning",
    "portfolio",
    "portfolio_gain",
    "engagement",
    "fit",
    "on_task",
    "core_time",
    "self_regulation_growth",
    "peer_learning",
]
#: ``group_metrics`` column names to the summary's metric names.
_RENAME = {"mean": "score", "sd": "sd_score", **{f"mean_{c}": c for c in _EXTRA}}

#: Metrics in the summary table, in display order.
SUMMARY_METRICS = (
    "score",
    "effect_size",
    "core_gain",
    "total_learning",
    "portfolio",
    "portfolio_gain",
    "engagement",
    "fit",
    "on_task",
    "core_time",
    "self_regulation_growth",
    "peer_learning",
    "sd_score",
    "variance_ratio",
    "cv",
    "gini",
    "p90_p10",
    "p75_p25",
    "matthew",
    "mean_pairwise_distance",
    "strongest_domain_entropy",
    "rao_q",
    "diversity_of_excellence",
    "excellence_vs_reference",
)
#: Columns of the summary table, in order.
SUMMARY_COLUMNS = (
    "point",
    "sweep_value",
    "year",
    "arm",
    "metric",
    "mean",
    "ci_low",
    "ci_high",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "p_val",
    "n_units",
)
_KEYS = ["point", "year"]
_UNIT = ["point", "year", "arm", "replicate"]


def _profile_columns(columns: Iterable[str]) -> list[str]:
    return [c for c in columns if c.startswith("skill_")]


def analysis_columns(columns: Iterable[str]) -> list[str]:
    """Student columns that the study-wide steps of the analysis read from the parts.

    Everything else a classroom's metrics need is used inside the work unit
    (:func:`local_classroom_metrics`); these are the columns :func:`study_statistics`,
    :func:`classroom_excellence` and :func:`tail_units` read afterwards, and all that a run
    with ``keep = "classrooms"`` stores of its students until it completes.

    Parameters
    ----------
    columns : iterable of str
        Columns of the student table.

    Returns
    -------
    list of str
        ``point, year, arm, replicate, prior_score, score, core_start, core_end`` and the
        ``skill_*`` profile columns.
    """
    return [*_UNIT, "prior_score", "score", "core_start", "core_end", *_profile_columns(columns)]


def _groups(df: pd.DataFrame, keys: list[str]) -> Iterator[tuple[tuple[Any, ...], pd.DataFrame]]:
    """``(key, rows)`` in sorted key order, as ``groupby`` iterates, with less memory.

    ``groupby`` iteration first sorts a copy of the whole table; here each group's rows are
    taken in turn (and a table that is one group is passed as it is).
    """
    indices = df.groupby(keys, sort=True, observed=True).indices
    if len(indices) == 1:
        (key,) = indices
        yield (key if isinstance(key, tuple) else (key,)), df
        return
    for key in sorted(indices):
        yield (key if isinstance(key, tuple) else (key,)), df.take(indices[key])


def _arm_codes(df: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Codes of ``arm`` (a categorical, see :func:`_with_arm_categories`) and its categories."""
    arm = df["arm"]
    return arm.cat.codes.to_numpy(), [str(c) for c in arm.cat.categories]


def _group_ids(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, list[list[Any]]]:
    """One integer per row for the combination of ``columns``, numbered in sorted order.

    Returns the ids (``0..G-1``, in the sorted order of the combinations, as ``groupby`` with
    ``sort=True`` orders its groups) and, per column, its value in each group (Python
    scalars). Grouping by one integer array instead of several columns (one a categorical)
    is several times faster, and ``groupby`` takes each group's rows in the same order
    either way, so its sums and means are the same to the last bit.
    """
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        codes, uniq = pd.factorize(np.asarray(col), sort=True)
        key = key * len(uniq) + codes
    _, first, ids = np.unique(key, return_index=True, return_inverse=True)
    return ids.reshape(-1), [np.asarray(col)[first].tolist() for col in columns]


def _cells(ids: np.ndarray, n_groups: int) -> list[np.ndarray]:
    """Row positions of each group ``0..n_groups-1`` (in row order)."""
    if n_groups < 2:
        return [np.arange(len(ids))] * n_groups
    order = np.argsort(ids, kind="stable")
    bounds = np.searchsorted(ids[order], np.arange(1, n_groups))
    return np.split(order, bounds)


def _prepare(students: pd.DataFrame) -> pd.DataFrame:
    return students.assign(
        core_gain=students["core_end"] - students["core_start"],
        self_regulation_growth=students["self_regulation_end"] - students["self_regulation_start"],
    )


def _with_arm_categories(df: pd.DataFrame, arms: Sequence[str] | None = None) -> pd.DataFrame:
    """``arm`` as a categorical in study order (the order of first appearance by default)."""
    arm = df["arm"]
    if arms is None:
        if isinstance(arm.dtype, pd.CategoricalDtype):
            return df
        arms = list(pd.unique(arm))
    out = df.copy(deep=False)
    out["arm"] = pd.Categorical(arm.astype(str), categories=list(arms))
    return out


# ---------------------------------------------------------------------------------------------
# 1. per classroom, from its own students (in the work unit)
# ---------------------------------------------------------------------------------------------
def local_classroom_metrics(students: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Every classroom metric that needs only the classroom's own students.

    That is every metric of :func:`classroom_metrics` except ``diversity_of_excellence`` and
    ``excellence_vs_reference``, whose thresholds come from all of an arm's students
    (:func:`study_statistics`); they are left NaN here and filled in by
    :func:`classroom_metrics` or the run's analysis.
    ``variance_ratio`` needs the same classroom in the reference arm, which every part has.

    Parameters
    ----------
    students : pandas.DataFrame
        Student rows of whole classrooms in every arm (a work unit's part, or a whole run's
        student table): ``point, sweep_value, arm, replicate, year, ...``.
    reference : str
        Reference arm.

    Returns
    -------
    pandas.DataFrame
        One row per ``point, year, arm, replicate``, columns as :func:`classroom_metrics`.
    """
    df = _prepare(_with_arm_categories(students))
    profile = _profile_columns(df.columns)
    no_bar = np.full(len(profile), np.finfo(float).max)  # excellence is study-wide: later
    frames = []
    for (point, year), part in df.groupby(_KEYS, sort=True, observed=True):
        # classes of one size at a time: group_metrics computes equal-sized groups on arrays
        # (a study on a data file's real classes has classes of many sizes)
        size = part.groupby(["arm", "replicate"], observed=True)["student"].transform("size")
        blocks = [part] if size.nunique() < 2 else [part[size == k] for k in sorted(set(size))]
        gm = pd.concat(
            [
                group_metrics(
                    block,
                    by=["arm", "replicate"],
                    score="score",
                    prior="prior_score",
                    profile=profile,
                    gain="core_gain",
                    extra=_EXTRA,
                    shift=SCALE_ZERO,
                    thresholds=no_bar,
                )
                for block in blocks
            ],
            ignore_index=True,
        ).rename(columns=_RENAME)
        if len(blocks) > 1:
            gm = gm.sort_values(["arm", "replicate"], kind="stable", ignore_index=True)
        gm = gm.rename(columns={"diversity_of_excellence": "excellence_vs_reference"})
        gm["excellence_vs_reference"] = np.nan
        gm["diversity_of_excellence"] = np.nan
        gm.insert(0, "year", year)
        gm.insert(0, "sweep_value", part["sweep_value"].iloc[0])
        gm.insert(0, "point", point)
        ref_var = gm.loc[gm["arm"] == reference].set_index("replicate")["sd_score"] ** 2
        gm["variance_ratio"] = gm["sd_score"] ** 2 / gm["replicate"].map(ref_var).to_numpy()
        frames.append(gm)
    out = pd.concat(frames, ignore_index=True)
    out["arm"] = pd.Categorical(out["arm"].astype(str), categories=df["arm"].cat.categories)
    return out


# ---------------------------------------------------------------------------------------------
# 2. study-wide statistics (streamed, one sweep point at a time)
# ---------------------------------------------------------------------------------------------
@dataclass
class StudyStatistics:
    r"""What the classroom metrics and the summary need from all students of a sweep point.

    Attributes
    ----------
    reference : str
        Reference arm.
    profile : list of str
        Profile columns (``skill_*``), in the order of the thresholds.
    quantiles : int
        Number of prior-achievement groups (5: quintiles).
    reference_sd : dict
        ``(point, year) -> float``: SD (``ddof = 1``) of the reference arm's students' test
        scores, the denominator of ``effect_size``.
    thresholds : dict
        ``(point, year, arm) -> array``: per profile domain, the
        :data:`EXCELLENCE_QUANTILE` quantile (numpy ``linear``, R type 7) of that arm's
        students with a complete profile, as :func:`toolkit.metrics.excellence_thresholds`
        computes it. The reference arm's thresholds define ``excellence_vs_reference``; each
        arm's own define ``diversity_of_excellence``.
    prior_bins : dict
        ``(point, year, arm) -> array``: the ``quantiles + 1`` cut points of the prior score
        among that arm's students, as ``pandas.qcut`` (and so
        :func:`toolkit.metrics.by_prior_group`) computes them; a student with prior score
        :math:`x` is in group :math:`\min\{k : x \le b_k\}` (the lowest cut point belongs to
        group 1).
    """

    reference: str
    profile: list[str]
    quantiles: int = 5
    reference_sd: dict[tuple[Any, Any], float] = field(default_factory=dict)
    thresholds: dict[tuple[Any, Any, str], np.ndarray] = field(default_factory=dict)
    prior_bins: dict[tuple[Any, Any, str], np.ndarray] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return the statistics as a table: one row per sweep point, year and arm."""
        rows = []
        for (point, year, arm), bins in sorted(self.prior_bins.items(), key=str):
            row = {"point": point, "year": year, "arm": arm}
            row |= {f"prior_cut_{k}": float(b) for k, b in enumerate(bins)}
            if arm == self.reference:
                row["reference_sd"] = self.reference_sd.get((point, year), np.nan)
            thr = self.thresholds.get((point, year, arm), [])
            row |= {f"threshold_{c}": float(t) for c, t in zip(self.profile, thr, strict=True)}
            rows.append(row)
        return pd.DataFrame(rows)


class _Column:
    """A growing float column: appended parts land in one buffer (doubling as it fills).

    One large buffer per statistic instead of thousands of small arrays, so that the memory is
    given back when the statistic is done (small arrays leave the heap fragmented).
    """

    def __init__(self) -> None:
        self._buf = np.empty(1024)
        self._n = 0

    def append(self, values: np.ndarray) -> None:
        n = self._n + len(values)
        if n > len(self._buf):
            grown = np.empty(max(n, 2 * len(self._buf)))
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
        self._buf[self._n : n] = values
        self._n = n

    def values(self) -> np.ndarray:
        return self._buf[: self._n]


class _Frames:
    """Rows from many parts, concatenated in batches (thousands of small frames cost more)."""

    def __init__(self, batch: int = 256) -> None:
        self._batch, self._pending, self._done = batch, [], []

    def append(self, df: pd.DataFrame) -> None:
        self._pending.append(df)
        if len(self._pending) >= self._batch:
            self._done.append(pd.concat(self._pending, ignore_index=True))
            self._pending = []

    def frame(self) -> pd.DataFrame:
        """Return every row appended, in order (and forget them)."""
        frames, self._done, self._pending = [*self._done, *self._pending], [], []
        return pd.concat(frames, ignore_index=True)


def _prior_bins(values: np.ndarray, q: int, where: str) -> np.ndarray:
    """Cut points of ``pandas.qcut(values, q)``, computed without its per-value arrays.

    ``qcut`` takes the ``Series.quantile`` of ``linspace(0, 1, q + 1)``, each probability
    rounded up to the next float where ``q * p`` is not a whole number, and refuses repeated
    edges; the same here (``tests/test_study_stream.py`` checks the groups against
    :func:`toolkit.metrics.by_prior_group`), with one copy of the values instead of several.
    """
    probs = np.linspace(0, 1, q + 1)
    np.putmask(probs, q * probs != np.arange(q + 1), np.nextafter(probs, 1))
    bins = pd.Series(values, copy=False).quantile(probs).to_numpy(dtype=float)
    if len(np.unique(bins)) < len(bins):
        raise ValueError(
            f"prior: column 'prior_score' has too many tied values within {where} to form {q} "
            "groups with distinct cut points; use a smaller q."
        )
    return bins


def study_statistics(parts: Iterable[pd.DataFrame], reference: str, q: int = 5) -> StudyStatistics:
    r"""Study-wide statistics per sweep point and year, from the student rows part by part.

    Reads, per part, the reference arm's scores and every arm's profile columns and prior
    scores; when the parts move on to the next sweep point the previous point's statistics
    are computed and its values dropped, so memory holds one sweep point's worth of those
    few columns (8 bytes x (1 + arms x (domains + 1)) per student of the reference arm).

    Parameters
    ----------
    parts : iterable of pandas.DataFrame
        Student rows (:func:`analysis_columns` suffice), each sweep point's parts together: a
        run's parts in unit order, or the whole student table as one part.
    reference : str
        Reference arm.
    q : int, default 5
        Number of prior-achievement groups.

    Returns
    -------
    StudyStatistics

    Notes
    -----
    The results do not depend on how the rows are split into parts or ordered: quantiles
    depend only on the values, and the SD is computed over the sorted scores,
    :math:`s = \sqrt{\sum_i (x_{(i)} - \bar x)^2 / (n - 1)}`.
    """
    accumulate = _StatisticsAccumulator(reference, q)
    for part in parts:
        accumulate(_profile_columns(part.columns), _statistics_items(part, reference))
    return accumulate.result()


def _statistics_items(part: pd.DataFrame, reference: str) -> list[tuple[Any, ...]]:
    """Return what :func:`study_statistics` takes from a part, per sweep point, year and arm.

    Returns ``(point, year, arm, reference scores or None, prior scores, complete profiles)``
    for each sweep point, year and arm of the part, points in sorted order: the work of a
    part, which a run's Dask workers do for their batches of parts.
    """
    part = _with_arm_categories(part)
    profile_columns = _profile_columns(part.columns)
    codes, arms = _arm_codes(part)
    point_col = part["point"].to_numpy()
    points = pd.unique(point_col)
    items = []
    for point in sorted(points.tolist()):
        pp = part if len(points) == 1 else part[point_col == point]
        pc = codes if len(points) == 1 else codes[point_col == point]
        score = pp["score"].to_numpy(dtype=float)
        prior = pp["prior_score"].to_numpy(dtype=float)
        profile = pp[profile_columns].to_numpy(dtype=float)
        ids, (years, arm_codes) = _group_ids([pp["year"].to_numpy(), pc])
        for rows, year, a in zip(_cells(ids, len(years)), years, arm_codes, strict=True):
            prof = profile[rows]
            items.append(
                (
                    point,
                    year,
                    arms[a],
                    score[rows] if arms[a] == reference else None,
                    prior[rows],
                    prof[~np.isnan(prof).any(axis=1)],
                )
            )
    return items


class _StatisticsAccumulator:
    """Puts the values of parts together into :class:`StudyStatistics` (one point at a time)."""

    def __init__(self, reference: str, q: int) -> None:
        self.reference, self.q = reference, q
        self.stats: StudyStatistics | None = None
        self.scores: dict[tuple[Any, Any], _Column] = {}
        # per arm, one column per domain, of the students with a complete profile
        self.profiles: dict[tuple[Any, Any, str], list[_Column]] = {}
        self.priors: dict[tuple[Any, Any, str], _Column] = {}
        self.finished: set[Any] = set()
        self.current: Any = None

    def __call__(self, profile: list[str], items: list[tuple[Any, ...]]) -> None:
        if self.stats is None:
            self.stats = StudyStatistics(self.reference, profile, quantiles=self.q)
        for point, year, arm, scores, prior, prof in items:
            if point != self.current:
                if point in self.finished:
                    raise ValueError(
                        "study_statistics: the parts of a sweep point must come together (in "
                        f"unit order); point {point} appeared again after another point's parts."
                    )
                if self.current is not None:
                    self._finish(self.current)
                self.current = point
            if scores is not None:
                self.scores.setdefault((point, year), _Column()).append(scores)
            key = (point, year, arm)
            self.priors.setdefault(key, _Column()).append(prior)
            columns = self.profiles.setdefault(key, [_Column() for _ in self.stats.profile])
            for k, column in enumerate(columns):
                column.append(prof[:, k])

    def _finish(self, point: Any) -> None:
        stats = self.stats
        assert stats is not None
        for key in [k for k in self.scores if k[0] == point]:
            v = self.scores.pop(key).values()
            v = np.sort(v[~np.isnan(v)])
            stats.reference_sd[key] = float(pd.Series(v).std(ddof=1)) if v.size >= 2 else np.nan
        for key in [k for k in self.profiles if k[0] == point]:
            # as excellence_thresholds (complete rows, numpy "linear"), one column at a time
            thresholds = []
            for column in self.profiles.pop(key):
                col = column.values()
                thresholds.append(
                    np.quantile(col, EXCELLENCE_QUANTILE, method="linear") if col.size else np.nan
                )
                del col
            stats.thresholds[key] = np.asarray(thresholds, dtype=float)
        for key in [k for k in self.priors if k[0] == point]:
            v = self.priors.pop(key).values()
            v = v[~np.isnan(v)]
            if v.size:
                stats.prior_bins[key] = _prior_bins(
                    v, self.q, f"point {key[0]}, year {key[1]}, {key[2]}"
                )
        self.finished.add(point)

    def result(self) -> StudyStatistics:
        if self.stats is None:
            raise ValueError("study_statistics: no student rows (no parts).")
        if self.current is not None:
            self._finish(self.current)
            self.current = None
        return self.stats


def _resolve_statistics(
    statistics: StudyStatistics | pd.DataFrame, reference: str, q: int = 5
) -> StudyStatistics:
    if isinstance(statistics, StudyStatistics):
        return statistics
    if isinstance(statistics, pd.DataFrame):  # a student table, in memory
        return study_statistics([statistics], reference, q=q)
    raise TypeError(
        "statistics must be a StudyStatistics (from study_statistics) or the student table, "
        f"got {type(statistics).__name__}."
    )


# ---------------------------------------------------------------------------------------------
# 3. per classroom, given the study-wide statistics (part by part)
# ---------------------------------------------------------------------------------------------
def classroom_excellence(students: pd.DataFrame, statistics: StudyStatistics) -> pd.DataFrame:
    r"""Diversity of excellence per classroom, against the study-wide thresholds.

    .. math::

        E_c = \frac{1}{n_c}\sum_{i \in c} \mathbb 1\left[\exists k:\ x_{ik} \ge t_k\right]

    over the classroom's students with a complete profile, as
    :func:`toolkit.metrics.diversity_of_excellence`, twice: ``diversity_of_excellence`` with
    :math:`t_k` the top-decile threshold of domain :math:`k` among all students of the
    classroom's own arm at that sweep point and year (level-neutral: how many different
    students excel somewhere), and ``excellence_vs_reference`` with the reference arm's
    thresholds (the same level in every arm) (:attr:`StudyStatistics.thresholds`).

    Parameters
    ----------
    students : pandas.DataFrame
        Student rows of whole classrooms (with the profile columns).
    statistics : StudyStatistics

    Returns
    -------
    pandas.DataFrame
        ``point, year, arm, replicate, diversity_of_excellence, excellence_vs_reference``.
    """
    df = _with_arm_categories(students)
    reference = statistics.reference
    codes, arms = _arm_codes(df)
    point, year = df["point"].to_numpy(), df["year"].to_numpy()
    prof = df[statistics.profile].to_numpy(dtype=float)
    missing = np.isnan(prof).any(axis=1)
    own = np.empty(len(df))
    vs_ref = np.empty(len(df))
    ids, (points, years, arm_codes) = _group_ids([point, year, codes])
    for rows, p, y, a in zip(_cells(ids, len(points)), points, years, arm_codes, strict=True):
        x = prof[rows]
        own[rows] = (x >= statistics.thresholds[(p, y, arms[a])]).any(axis=1)
        vs_ref[rows] = (x >= statistics.thresholds[(p, y, reference)]).any(axis=1)
    own[missing] = vs_ref[missing] = np.nan
    ids, (points, years, arm_codes, replicates) = _group_ids(
        [point, year, codes, df["replicate"].to_numpy()]
    )
    means = (
        pd.DataFrame({"diversity_of_excellence": own, "excellence_vs_reference": vs_ref})
        .groupby(ids, sort=True)
        .mean()
    )
    return pd.DataFrame(
        {
            "point": points,
            "year": years,
            "arm": pd.Categorical.from_codes(arm_codes, categories=df["arm"].cat.categories),
            "replicate": replicates,
            "diversity_of_excellence": means["diversity_of_excellence"].to_numpy(),
            "excellence_vs_reference": means["excellence_vs_reference"].to_numpy(),
        }
    )


def _bin_codes(x: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Group 1..q of each value for cut points ``bins`` (as ``pandas.qcut``); 0 if missing."""
    ids = np.searchsorted(bins, x, side="left")
    ids[x == bins[0]] = 1
    ids[np.isnan(x) | (ids == len(bins))] = 0
    return ids


def tail_units(students: pd.DataFrame, statistics: StudyStatistics) -> pd.DataFrame:
    """Mean outcomes per classroom within each prior-achievement quintile.

    Students are placed in the quintile of their prior score among all students of their
    arm at that sweep point and year (:attr:`StudyStatistics.prior_bins`, as
    :func:`toolkit.metrics.by_prior_group` with ``within = [point, year, arm]``); then per
    classroom the mean ``core_gain`` (``core_end - core_start``) and ``score`` of its students
    in each quintile.

    Parameters
    ----------
    students : pandas.DataFrame
        Student rows of whole classrooms (:func:`analysis_columns` suffice).
    statistics : StudyStatistics

    Returns
    -------
    pandas.DataFrame
        ``point, year, quintile (1..q), arm, replicate, core_gain, score``; the input of
        :func:`tails_table`.
    """
    df = _with_arm_categories(students)
    codes, arms = _arm_codes(df)
    point, year = df["point"].to_numpy(), df["year"].to_numpy()
    prior = df["prior_score"].to_numpy(dtype=float)
    quintile = np.zeros(len(df), dtype=np.int64)
    ids, (points, years, arm_codes) = _group_ids([point, year, codes])
    for rows, p, y, a in zip(_cells(ids, len(points)), points, years, arm_codes, strict=True):
        quintile[rows] = _bin_codes(prior[rows], statistics.prior_bins[(p, y, arms[a])])
    keep = quintile > 0
    gain = (df["core_end"] - df["core_start"]).to_numpy()[keep]
    ids, (points, years, quintiles, arm_codes, replicates) = _group_ids(
        [point[keep], year[keep], quintile[keep], codes[keep], df["replicate"].to_numpy()[keep]]
    )
    means = (
        pd.DataFrame({"core_gain": gain, "score": df["score"].to_numpy()[keep]})
        .groupby(ids, sort=True)
        .mean()
    )
    return pd.DataFrame(
        {
            "point": points,
            "year": years,
            "quintile": np.asarray(quintiles, dtype=np.int64),
            "arm": pd.Categorical.from_codes(arm_codes, categories=df["arm"].cat.categories),
            "replicate": replicates,
            "core_gain": means["core_gain"].to_numpy(),
            "score": means["score"].to_numpy(),
        }
    )


# ---------------------------------------------------------------------------------------------
# the output tables
# ---------------------------------------------------------------------------------------------
def _with_excellence(local: pd.DataFrame, excellence: pd.DataFrame) -> pd.DataFrame:
    merged = local.drop(columns=["diversity_of_excellence", "excellence_vs_reference"]).merge(
        excellence, on=_UNIT, how="left", validate="one_to_one"
    )
    return merged[list(local.columns)]


def classroom_metrics(
    students: pd.DataFrame, reference: str, statistics: StudyStatistics | None = None
) -> pd.DataFrame:
    """Every outcome, spread and diversity metric per classroom, arm, year and sweep point.

    Parameters
    ----------
    students : pandas.DataFrame
        The run's student table (``point, sweep_value, arm, replicate, year, ...``), or a part
        of it holding whole classrooms in every arm.
    reference : str
        Reference arm (its students set the excellence thresholds).
    statistics : StudyStatistics, optional
        Study-wide statistics (default: from ``students`` itself, which must then be the
        whole table).

    Returns
    -------
    pandas.DataFrame
        One row per ``point, year, arm, replicate`` with ``sweep_value``, ``n`` and the
        columns of :data:`SUMMARY_METRICS` except ``effect_size`` (computed at comparison);
        ``variance_ratio`` is the classroom's score variance over the same classroom's variance
        in the reference arm. :func:`local_classroom_metrics` with
        :func:`classroom_excellence`.
    """
    stats = statistics if statistics is not None else study_statistics([students], reference)
    local = local_classroom_metrics(students, reference)
    return _with_excellence(local, classroom_excellence(students, stats))


def summarise(
    classrooms: pd.DataFrame, statistics: StudyStatistics | pd.DataFrame, reference: str
) -> pd.DataFrame:
    """Arm x metric: mean over classrooms with a 95% t interval, and the paired difference.

    Parameters
    ----------
    classrooms : pandas.DataFrame
        From :func:`classroom_metrics`.
    statistics : StudyStatistics or pandas.DataFrame
        Study-wide statistics (:func:`study_statistics`), for the reference SD of scores
        behind ``effect_size``; or the student table, from which they are computed.
    reference : str

    Returns
    -------
    pandas.DataFrame
        Columns ``point, sweep_value, year, arm, metric, mean, ci_low, ci_high, diff,
        diff_ci_low, diff_ci_high, p_val, n_units``. For ``effect_size``, ``mean`` and its
        interval are the standardized paired difference itself (0 for the reference).
    """
    stats = _resolve_statistics(statistics, reference)
    metrics = [m for m in SUMMARY_METRICS if m != "effect_size" and m in classrooms]
    frames = []
    for (point, year), part in _groups(classrooms, _KEYS):
        cc = compare_conditions(part, "arm", reference, pair_on="replicate", metrics=metrics)
        cc = cc.rename(columns={"condition": "arm", "diff_vs_reference": "diff"})
        sd_ref = stats.reference_sd[(point, year)]
        ev = effect_vs_reference(part, "score", "arm", reference, unit="replicate", sd=sd_ref)
        es_rows = [
            {
                "arm": reference,
                "metric": "effect_size",
                "mean": 0.0,
                "ci_low": 0.0,
                "ci_high": 0.0,
                "diff": 0.0,
                "diff_ci_low": np.nan,
                "diff_ci_high": np.nan,
                "p_val": np.nan,
                "n_units": int(part["arm"].eq(reference).sum()),
            }
        ]
        for r in ev.itertuples():
            es_rows.append(
                {
                    "arm": r.condition,
                    "metric": "effect_size",
                    "mean": r.std_diff,
                    "ci_low": r.std_ci_low,
                    "ci_high": r.std_ci_high,
                    "diff": r.std_diff,
                    "diff_ci_low": r.std_ci_low,
                    "diff_ci_high": r.std_ci_high,
                    "p_val": r.p_val,
                    "n_units": r.n_units,
                }
            )
        cc = pd.concat([cc, pd.DataFrame(es_rows)], ignore_index=True)
        cc.insert(0, "year", year)
        cc.insert(0, "sweep_value", part["sweep_value"].iloc[0])
        cc.insert(0, "point", point)
        frames.append(cc)
    out = pd.concat(frames, ignore_index=True)
    out = out[list(SUMMARY_COLUMNS)]
    order = {m: i for i, m in enumerate(SUMMARY_METRICS)}
    arms = list(classrooms["arm"].cat.categories)
    out["arm"] = pd.Categorical(out["arm"].astype(str), categories=arms)
    out["_m"] = out["metric"].map(order)
    return out.sort_values(["point", "year", "_m", "arm"]).drop(columns="_m").reset_index(drop=True)


def tails_table(units: pd.DataFrame, reference: str, q: int = 5) -> pd.DataFrame:
    """Outcomes by prior-achievement quintile, compared across arms over classrooms.

    Parameters
    ----------
    units : pandas.DataFrame
        Per-classroom means by quintile from :func:`tail_units`; or the student table, from
        which they are computed (with its own :func:`study_statistics`).
    reference : str
    q : int, default 5
        Number of prior groups, when ``units`` is the student table.

    Returns
    -------
    pandas.DataFrame
        Columns ``point, year, arm, quintile (1..q), value (core_gain or score), mean,
        ci_low, ci_high, diff, diff_ci_low, diff_ci_high, n_units``: per classroom the mean
        of the value among its students in that quintile, then mean and t interval over
        classrooms, and the paired difference against the reference arm.
    """
    if "prior_score" in units.columns:  # the student table
        units = tail_units(units, study_statistics([units], reference, q=q))
    frames = []
    for (point, year, quint), part in _groups(units, [*_KEYS, "quintile"]):
        cc = compare_conditions(
            part, "arm", reference, pair_on="replicate", metrics=["core_gain", "score"]
        )
        cc = cc.rename(columns={"condition": "arm", "diff_vs_reference": "diff", "metric": "value"})
        cc.insert(0, "quintile", quint)
        cc.insert(0, "year", year)
        cc.insert(0, "point", point)
        frames.append(cc)
    out = pd.concat(frames, ignore_index=True)
    return out[
        [
            "point",
            "year",
            "arm",
            "quintile",
            "value",
            "mean",
            "ci_low",
            "ci_high",
            "diff",
            "diff_ci_low",
            "diff_ci_high",
            "n_units",
        ]
    ]


def _fmt(m: float, lo: float, hi: float, signed: bool = False) -> str:
    if np.isnan(m):
        return ""
    f = "{:+.3f}" if signed else "{:.3f}"
    if np.isnan(lo) or np.isnan(hi):
        return f.format(m)
    return f"{f.format(m)} [{lo:.3f}, {hi:.3f}]"


def format_summary(
    summary: pd.DataFrame,
    metrics: tuple[str, ...] | None = None,
    point: int | None = None,
    year: int | None = None,
    parameter: str | None = None,
) -> str:
    """Format the summary as text: metric x arm, mean [95% CI], then paired differences.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`summarise`.
    metrics : tuple of str, optional
        Rows to show (default: all in the summary).
    point, year : int, optional
        Which sweep point and year (default: the first point and last year).
    parameter : str, optional
        The swept parameter's name, for the line that says which sweep point the table shows
        (written whenever the summary has several points).

    Returns
    -------
    str
    """
    s = summary
    points = sorted(s["point"].unique())
    point = points[0] if point is None else point
    s = s[s["point"] == point]
    s = s[s["year"] == (s["year"].max() if year is None else year)]
    where = ""
    if len(points) > 1:
        value = s["sweep_value"].iloc[0] if "sweep_value" in s and len(s) else None
        where = (
            f"At {parameter or 'the swept parameter'} = {value:g} "
            if isinstance(value, int | float) and np.isfinite(value)
            else f"At {value} "
            if value is not None
            else ""
        ) + f"(sweep point {points.index(point) + 1} of {len(points)})\n"
    if metrics is not None:
        s = s[s["metric"].isin(metrics)]
    arms = [a for a in s["arm"].cat.categories if a in set(s["arm"].astype(str))]
    order = list(dict.fromkeys(s["metric"]))
    cell = lambda r: _fmt(r["mean"], r["ci_low"], r["ci_high"])  # noqa: E731
    dcell = lambda r: (  # noqa: E731
        _fmt(r["diff"], r["diff_ci_low"], r["diff_ci_high"], signed=True)
        if not np.isnan(r["diff_ci_low"])
        else "reference"
    )
    means = s.assign(v=s.apply(cell, axis=1)).pivot(index="metric", columns="arm", values="v")
    diffs = s[s["metric"] != "effect_size"]
    diffs = diffs.assign(v=diffs.apply(dcell, axis=1)).pivot(
        index="metric", columns="arm", values="v"
    )
    means = means.reindex(index=order, columns=arms)
    diffs = diffs.reindex(index=[m for m in order if m != "effect_size"], columns=arms)
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        return (
            where
            + "Mean over classrooms [95% CI]\n"
            + means.to_string()
            + "\n\nPaired difference vs reference [95% CI]\n"
            + diffs.to_string()
        )


def format_sweep(
    summary: pd.DataFrame,
    parameter: str | None = None,
    metric: str = "effect_size",
    year: int | None = None,
) -> str:
    """Format one metric at every sweep point as text: sweep value x arm, mean [95% CI].

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`summarise`, with several sweep points.
    parameter : str, optional
        The swept parameter's name (the first column's label).
    metric : str
    year : int, optional
        Default: the last year.

    Returns
    -------
    str
    """
    s = summary[summary["metric"] == metric]
    s = s[s["year"] == (s["year"].max() if year is None else year)]
    if s.empty:
        raise ValueError(f"format_sweep: no rows for metric {metric!r}.")
    arms = [a for a in s["arm"].cat.categories if a in set(s["arm"].astype(str))]
    label = parameter or "sweep_value"
    t = s.assign(
        v=s.apply(lambda r: _fmt(r["mean"], r["ci_low"], r["ci_high"]), axis=1),
        **{label: s["sweep_value"] if "sweep_value" in s else s["point"]},
    ).pivot(index=label, columns="arm", values="v")
    t = t.reindex(columns=arms)
    what = "effect on the test vs the reference (SD)" if metric == "effect_size" else metric
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        return f"{what}, mean over classrooms [95% CI], at every sweep point\n" + t.to_string()


#: Longest list of overrides written out in a provenance line; longer lists are summarised
#: with a reference to the run's manifest, which records every one.
_MAX_OVERRIDES_CHARS = 60


def provenance_line(
    result: RunResult, spec: StudySpec | None = None, classrooms: str | None = None
) -> str:
    """One line for the foot of every figure: study, source and overrides, seed, size, commit.

    Settings changed after the study file was read (``--set``, ``--classrooms``, ...; see
    :attr:`StudySpec.overrides`) follow the file's name as they were given, so a chart made with
    ``--set teacher_capacity=1.0`` never looks like one made from the file alone; a long list is
    replaced by their number and the path of the run's ``manifest.json``, which records each one
    with its source.

    Parameters
    ----------
    result : RunResult
        The run (its manifest gives the versions, the git commit and, without ``spec``, the
        study).
    spec : StudySpec, optional
        The study as run (default: as recorded in the manifest).
    classrooms : str, optional
        What the figure uses instead of every classroom, e.g. ``"60 of 200"`` for a
        decomposition of the first 60 (written ``60 of 200 classrooms/arm``).

    Returns
    -------
    str
    """
    m = result.manifest
    version = m.get("versions", {}).get("classroom-regimes-toolkit") or "dev"
    git = m.get("git", {})
    commit = (git.get("commit") or "no-git")[:8] + ("+dirty" if git.get("dirty") else "")
    if spec is not None:
        st = {k: getattr(spec, k) for k in ("name", "seed", "classrooms", "years", "engine")}
        source, options = spec.source, [o for o, _, _ in spec.overrides]
    else:
        st = m.get("study", {})
        source = m.get("source", "?")
        options = [o.get("option", "?") for o in m.get("overrides", [])]
    origin = " ".join([source, *options])
    if len(" ".join(options)) > _MAX_OVERRIDES_CHARS:
        manifest = Path(result.folder) / "manifest.json"
        origin = f"{source} + {len(options)} overrides (see {manifest.as_posix()})"
    return (
        f"{st.get('name')} | {origin} | seed {st.get('seed')} | "
        f"{classrooms or st.get('classrooms')} classrooms/arm | {st.get('years')} year(s) | "
        f"engine {st.get('engine')} | toolkit {version} | commit {commit}"
    )


#: Classrooms recorded at once by the decomposition (:func:`toolkit.study.decompose.decompose`'s
#: ``chunk_size``); each chunk is one task of the analysis's pool.
DECOMPOSITION_CHUNK = 32


def decomposition_table(spec: StudySpec, pool: Pool | None = None) -> pd.DataFrame:
    """Decompose every arm's difference from the reference into channels, at every sweep point.

    Runs :func:`toolkit.study.decompose.decompose` on the study's first ``spec.decomposition``
    classrooms (the same seeds as the run), per sweep point; outcomes are those at the end of
    the last school year. Its chunks of classrooms are tasks of ``pool`` (default: this
    process), the same numbers wherever they run.

    Returns
    -------
    pandas.DataFrame
        The decomposition with ``point`` and ``sweep_value`` in front (empty if
        ``spec.decomposition`` is 0 or there is a single arm).
    """
    return _collect_decomposition(_submit_decomposition(spec, pool or SerialPool()))


def _decomposition_chunks(spec: StudySpec) -> Iterator[tuple[int, Any, Any, int, tuple[Any, ...]]]:
    """Yield ``(point, value, params, first classroom, task arguments)`` of each chunk."""
    from toolkit.model.cohort import classroom_seed
    from toolkit.study.decompose import record_chunk

    if spec.decomposition < 2 or len(spec.arms) < 2:
        return
    seeds = [classroom_seed(spec.seed, i) for i in range(spec.decomposition)]
    for pi, (value, params, arms) in enumerate(spec.points()):
        for lo in range(0, len(seeds), DECOMPOSITION_CHUNK):
            chunk = seeds[lo : lo + DECOMPOSITION_CHUNK]
            args = (record_chunk, arms, params, chunk, spec.reference, spec.years)
            yield pi, value, params, lo, args


def _submit_decomposition(
    spec: StudySpec, pool: Pool, early: dict[tuple[int, int], Any] | None = None
) -> list[tuple[Any, ...]]:
    """Submit the decomposition's chunks (ahead of other tasks); see :func:`decomposition_table`.

    ``early`` holds chunks already started elsewhere (:func:`start_early`), by
    ``(point, first classroom)``: those are not submitted again.
    """
    early = early or {}
    submitted: dict[int, tuple[Any, Any, list[Any]]] = {}
    for pi, value, params, lo, args in _decomposition_chunks(spec):
        task = early.get((pi, lo)) or pool.submit(_record_chunk, *args, priority=1)
        submitted.setdefault(pi, (value, params, []))[2].append(task)
    return [(pi, value, params, tasks) for pi, (value, params, tasks) in submitted.items()]


def start_early(spec: StudySpec) -> dict[str, Any]:
    """Begin the decomposition's chunks in a thread of this process, now, until told to stop.

    Called by the runner on a run with workers, before it waits for them to start: this
    process has then imported what the chunks need and would only wait (about a second on a
    2-core machine, while the fork server imports the toolkit). The thread records the first
    chunk, then one chunk after another for as long as the workers are not ready (the runner
    calls ``stop()`` on what this returns when they are); the rest go to the workers
    (:func:`prepare_run`). A chunk's numbers are those it would have on a worker (the same
    function of the same arguments), and the compiled kernels release the GIL, so the thread
    does not hold up this process's own work.

    Returns
    -------
    dict
        ``{"decomposition": chunks}``, whose ``stop()`` returns the futures of the chunks
        taken, for :func:`prepare_run` (through ``result.early``); empty when the study has
        no decomposition.
    """
    chunks = [((pi, lo), args) for pi, _, _, lo, args in _decomposition_chunks(spec)]
    if not chunks:
        return {}
    return {"decomposition": _EarlyChunks(chunks)}


class _EarlyChunks:
    """Chunks of the decomposition recorded in a thread of this process, one after another.

    The first is taken at once; each further one only while :meth:`stop` has not been called.
    :meth:`stop` returns the futures of the chunks taken, by ``(point, first classroom)``:
    no other chunk is taken after it, so the rest are for the workers.
    """

    def __init__(self, chunks: list[tuple[tuple[int, int], tuple[Any, ...]]]) -> None:
        self._lock = threading.Lock()
        self._stopped = False
        self._pending = list(chunks)
        self.futures: dict[tuple[int, int], Future[Any]] = {}
        first = self._take()  # the first chunk is taken before anyone can stop the thread
        threading.Thread(
            target=self._run, args=(first,), name="toolkit-early-chunks", daemon=True
        ).start()

    def _take(self) -> tuple[Future[Any], tuple[Any, ...]] | None:
        with self._lock:
            if self._stopped or not self._pending:
                return None
            key, args = self._pending.pop(0)
            future: Future[Any] = Future()
            future.set_running_or_notify_cancel()
            self.futures[key] = future
            return future, args

    def _run(self, job: tuple[Future[Any], tuple[Any, ...]] | None) -> None:
        while job is not None:
            future, args = job
            _settle(future, _record_chunk, *args)
            job = self._take()

    def stop(self) -> dict[tuple[int, int], Future[Any]]:
        """Take no further chunk; return the futures of those taken (running or done)."""
        with self._lock:
            self._stopped = True
            return dict(self.futures)


def _in_thread(fn: Callable[..., Any], *args: Any) -> Future[Any]:
    """Run ``fn(*args)`` in a daemon thread of this process; its future."""
    future: Future[Any] = Future()

    def run() -> None:
        if future.set_running_or_notify_cancel():
            _settle(future, fn, *args)

    threading.Thread(target=run, name=f"toolkit-{fn.__name__}", daemon=True).start()
    return future


def _settle(future: Future[Any], fn: Callable[..., Any], *args: Any) -> None:
    """Give a running ``future`` the value of ``fn(*args)``, or the error it raised."""
    try:
        future.set_result(fn(*args))
    except BaseException as exc:  # given to whoever asks for the result
        future.set_exception(exc)


def _record_chunk(record: Any, arms: Any, params: Any, seeds: Any, reference: str, years: int):
    return record(arms, params, seeds, reference=reference, n_years=years)


def _collect_decomposition(submitted: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Return the decomposition table from its submitted chunks (as ``decompose`` makes it)."""
    from toolkit.study.decompose import combine_chunks, contribution_table

    if not submitted:
        return pd.DataFrame()
    frames = []
    for pi, value, params, tasks in submitted:
        per = combine_chunks([t.result() for t in tasks], params)
        d = contribution_table(per, per.attrs["reference"])
        d.attrs["replay_error"] = per.attrs["replay_error"]
        d.attrs["channels"] = per.attrs["channels"]
        d.insert(0, "sweep_value", value if value is not None else np.nan)
        d.insert(0, "point", pi)
        frames.append(d)
    return pd.concat(frames, ignore_index=True)


def prepare_run(result: RunResult, spec: StudySpec, pool: Pool) -> dict[str, Any]:
    """Start what the analysis of a run needs and the run's units do not: the decomposition.

    Called by the runner before the units (:func:`toolkit.study.runner.run_study` calls an
    ``analyse`` function's ``prepare`` attribute), so that on a Dask run the decomposition's
    chunks run on the workers beside the units instead of after them; a serial pool runs them
    when :func:`analyse_run` asks. On a pool of workers, a thread of this process combines the
    chunks as soon as they are done (during the units). Returns what :func:`analyse_run`
    finds in ``result.prepared``.
    """
    figures = plugins.declared("analysis.figures")
    if figures and pool.sees_folder:  # the workers that will draw the figures load them early
        drawer = importlib.import_module(figures.partition(":")[0])
        for module in getattr(drawer, "DRAWING_MODULES", None) or (drawer.__name__,):
            pool.warm(module)
    if not isinstance(pool, SerialPool):  # this process waits for the units: import meanwhile
        import_in_background()  # what the tables' intervals need (scipy.special)
    early = (getattr(result, "early", None) or {}).get("decomposition")
    if isinstance(early, _EarlyChunks):
        early = early.stop()
    submitted = _submit_decomposition(spec, pool, early)
    if not submitted or isinstance(pool, SerialPool):
        return {"decomposition": submitted}
    # the chunks run on the workers: combine them in a thread of this process as soon as they
    # are done, while this process otherwise only waits for the units
    return {"decomposition": submitted, "combined": _in_thread(_collect_decomposition, submitted)}


class _Written:
    """A table being made in a thread, written into the run folder when first asked for.

    What :func:`analyse_run` hands the figures for a decomposition still being combined (the
    ``decomposition`` of :func:`toolkit.charts.runs.draw_run_figures`, a task): the figures
    that need it ask for its result, which waits for it and writes it once.
    """

    def __init__(self, future: Future[pd.DataFrame], result: RunResult, name: str) -> None:
        self._future, self._result, self._name = future, result, name
        self._table: pd.DataFrame | None = None

    def result(self) -> pd.DataFrame:
        if self._table is None:
            table = self._future.result()
            self._result.write_table(table, self._name)
            self._table = table
        return self._table


def _reader(result: RunResult, ids: list[str]) -> RunResult:
    """Return a run result that reads only ``ids``' parts (small, for a worker)."""
    from toolkit.study.result import RunResult

    return RunResult(result.folder, units=ids, arms=result.arms, keep=result.keep)


def _batch_statistics(
    ids: list[str], result: RunResult, columns: list[str], reference: str
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Pass one over a batch of parts: the values :func:`study_statistics` needs."""
    reader = _reader(result, ids)
    (_, part), *_ = reader.student_batches(columns, rows=2**62)
    return _profile_columns(part.columns), _statistics_items(part, reference)


def _batch_classrooms(
    ids: list[str], result: RunResult, columns: list[str], stats: StudyStatistics
) -> tuple[pd.DataFrame, pd.DataFrame, str, dict[tuple[Any, ...], str]]:
    """Pass two over a batch of parts: classroom rows, outcomes by quintile, CSV text.

    Returns the batch's classroom rows (sorted as ``classrooms.csv``), their outcomes by prior
    quintile (:func:`tail_units`), the CSV header and the rows' CSV text per sweep point,
    year and arm (each block in the order of ``classrooms.csv``; the blocks of consecutive
    batches follow each other there).
    """
    reader = _reader(result, ids)
    (_, part), *_ = reader.student_batches(columns, rows=2**62)
    local = reader.classroom_parts(ids)
    rooms = _with_excellence(local, classroom_excellence(part, stats))
    rooms = rooms.sort_values(_UNIT, kind="stable", ignore_index=True)
    blocks = {}
    codes = rooms["arm"].cat.codes.to_numpy()
    ids_, (points, years, arm_codes) = _group_ids(
        [rooms["point"].to_numpy(), rooms["year"].to_numpy(), codes]
    )
    for rows, p, y, a in zip(_cells(ids_, len(points)), points, years, arm_codes, strict=True):
        blocks[(p, y, a)] = csv_text(rooms.iloc[rows], header=False)
    header = rooms.head(0).to_csv(index=False)
    return rooms, tail_units(part, stats), header, blocks


class _CsvBlocks:
    """``classrooms.csv`` written from the text of blocks of rows, in the table's order.

    Each sweep point, year and arm's rows go to their own temporary file as batches arrive
    (in unit order, so each file is in the table's order); the table is the header and those
    files in sorted key order. Memory holds one batch's text.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.header: str | None = None
        self.files: dict[tuple[Any, ...], Path] = {}
        self.tag = uuid.uuid4().hex[:8]

    def add(self, header: str, blocks: dict[tuple[Any, ...], str]) -> None:
        self.header = self.header or header
        for key, text in blocks.items():
            path = self.files.get(key)
            if path is None:
                path = self.folder / f".classrooms-{self.tag}-{len(self.files)}.csv.tmp"
                self.files[key] = path
            with path.open("a", encoding="utf-8", newline="") as f:
                f.write(text)

    def write(self, path: Path) -> None:
        """Write the table to ``path`` atomically and remove the blocks."""
        tmp = temp_path(path)
        try:
            with tmp.open("w", encoding="utf-8", newline="") as out:
                out.write(self.header or "")
                for key in sorted(self.files):
                    with self.files[key].open(encoding="utf-8", newline="") as f:
                        shutil.copyfileobj(f, out, 1 << 20)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
            self.discard()

    def discard(self) -> None:
        for block in self.files.values():
            block.unlink(missing_ok=True)
        self.files = {}


def _batches(result: RunResult, rows: int | None = None, threads: int = 1) -> list[list[str]]:
    """Return the run's units in batches of about ``rows`` student rows (by the first).

    With ``threads`` > 1 (the workers of a Dask pool) there are at least two batches per
    thread where the units allow, so that every worker takes part in each pass over the
    parts (a run of 168,000 student rows is otherwise one batch, read by one worker while
    the other waits). The numbers do not depend on the batches.
    """
    import pyarrow.parquet as pq

    if not result.units:
        return []
    n = pq.ParquetFile(result._checked_student_path(result.units[0])).metadata.num_rows
    per = max(1, (rows or BATCH_ROWS) // max(n, 1))
    if threads > 1:
        per = max(1, min(per, -(-len(result.units) // (2 * threads))))
    return [result.units[i : i + per] for i in range(0, len(result.units), per)]


def analyse_run(result: RunResult, spec: StudySpec) -> RunResult:
    """Compute the classroom table, summary and tails of a run from its parts, and its figures.

    Streams: the parts are read twice, in batches of consecutive work units (the study-wide
    statistics, then each classroom's excellence and outcomes by prior quintile, joined to the
    classroom metrics its work unit computed), so memory holds classroom-level rows and one
    sweep point's statistics columns, never every student row. The batches, the
    decomposition's chunks and the figures are tasks of ``result.pool``: on a Dask run
    (:class:`toolkit.study.pool.DaskPool`) its workers do them, every worker at once, and
    this process combines; otherwise this process does them in turn. The numbers are the
    same. Each step is reported on the run's progress output.

    Writes ``classrooms.csv``, ``summary.csv``, ``tails.csv``, ``decomposition.csv`` (when the
    spec asks for a decomposition, :func:`decomposition_table`) and ``figures/*`` into the run
    folder and returns the result with those tables and figure paths filled in.
    """
    report = result.reporter
    reference = spec.reference
    pool: Pool = getattr(result, "pool", None) or SerialPool()
    parts_pool: Pool = pool if pool.sees_folder else SerialPool()
    prepared = getattr(result, "prepared", None) or prepare_run(result, spec, pool)
    columns = analysis_columns(result.student_columns())
    n_parts = len(result.units)
    batches = _batches(result, threads=parts_pool.threads)
    stub = _reader(result, [])  # what a task needs of the run (picklable, small)
    stub.manifest = result.manifest
    with report.stage(f"study-wide statistics from {n_parts} parts (reference SD, thresholds)"):
        accumulate = _StatisticsAccumulator(reference, 5)
        values = parts_pool.map(_batch_statistics, batches, stub, columns, reference)
        for profile, items in values:
            accumulate(profile, items)
        stats = accumulate.result()
    rooms, units = _Frames(), _Frames()
    table = _CsvBlocks(result.folder)
    try:
        outs = parts_pool.map(_batch_classrooms, batches, stub, columns, stats)
        for _, out in report.iterate(
            zip(batches, outs, strict=True), n_parts, "excellence and prior quintiles", len
        ):
            rooms.append(out[0])
            units.append(out[1])
            table.add(out[2], out[3])
        with report.stage("tails, classroom table and summary"):
            quintiles = units.frame()  # one copy at a time: memory holds classroom-level rows
            tails = tails_table(quintiles, reference)
            del quintiles
            classrooms = rooms.frame().sort_values(_UNIT, kind="stable", ignore_index=True)
            summary = summarise(classrooms, stats, reference)
            table.write(result.folder / "classrooms.csv")
            result.record([result.folder / "classrooms.csv"])
            result.write_table(summary, "summary.csv")
            result.write_table(tails, "tails.csv")
    finally:
        table.discard()
    decomposition: pd.DataFrame | _Written = pd.DataFrame()
    stage = "figures"
    if spec.decomposition >= 2 and len(spec.arms) >= 2:
        combined = prepared.get("combined")
        if combined is not None:  # being combined in a thread (a pool of workers): the other
            # figures are drawn meanwhile, and the table is written as soon as it is there
            decomposition = _Written(combined, result, "decomposition.csv")
            stage = f"figures, and the decomposition of {spec.decomposition} classrooms"
        else:
            with report.stage(f"decomposition of {spec.decomposition} classrooms into channels"):
                decomposition = _collect_decomposition(prepared["decomposition"])
                result.write_table(decomposition, "decomposition.csv")

    with report.stage(stage):  # drawn by the chart layer (plug-in point analysis.figures)
        figure_pool = pool if pool.sees_folder else SerialPool()
        draw = plugins.load("analysis.figures")
        paths = draw(result, spec, summary, tails, decomposition, pool=figure_pool)
        if isinstance(decomposition, _Written):
            decomposition = decomposition.result()
    result.classrooms, result.summary, result.figures = classrooms, summary, paths
    result.tails = tails
    result.decomposition = decomposition
    return result


analyse_run.prepare = prepare_run  # type: ignore[attr-defined]
analyse_run.start_early = start_early  # type: ignore[attr-defined]
