r"""Mechanism decomposition: what each channel contributes to a difference between two regimes.

Two arms run on the same classrooms (common random numbers) differ in every factor of the
day's learning (:class:`toolkit.model.mechanisms.Channels`): the time on each domain, the fit
of the work, engagement, peers (learning from them, working with one's small group, and their
disruption), self-regulation (time on task, with supervision, and the efficiency of one's
strategies) and the teacher (direct-instruction time and its efficacy: group size,
expectations, the teacher's and school's effectiveness, and how far it reaches independent
work).
:func:`decompose` records every factor of every student-day in both arms (with the exact
compiled kernel, :func:`toolkit.engine.kernel.run_days`, where numba is installed, else the numpy
kernel: the values each composed the day's gain of), then replays the
school year with each channel taken from one arm or the other, for all :math:`2^K`
combinations of the :math:`K` channels, through the very learning equation of the model
(:func:`~toolkit.model.mechanisms.compose_gain`). Taking every channel from arm :math:`A`
reproduces arm :math:`A`'s outcomes and every channel from :math:`B` reproduces :math:`B`'s
(checked and reported as ``replay_error``), so the difference :math:`v(N) - v(\emptyset)` in
any outcome :math:`v` splits into channel contributions by the Shapley value [1]_:

.. math::
    \phi_k = \sum_{S \subseteq N \setminus \{k\}}
        \frac{|S|!\,(K - |S| - 1)!}{K!}\,\big[v(S \cup \{k\}) - v(S)\big],
    \qquad \sum_k \phi_k = v(N) - v(\emptyset)

which is order-independent (no channel is switched "first") and sums to the total. Each
contribution is computed per classroom (the unit of replication) and averaged, with a 95% t
interval over classrooms.

Where numba is installed the replay is compiled (:mod:`toolkit.engine.replay`), with the
products and sums of the numpy replay in the same order: the same numbers, bit for bit, about
five times faster.

What the replay holds fixed. Factors are switched as *values*: the fit of the work in the
replay is the fit each student had that day in the arm it is taken from. So a channel's
contribution includes what the other channels did to it through the year (better-fitted work
in May because of more engagement in October counts as fit); the decomposition accounts for
each day's learning equation, it is not a causal model of the feedbacks between channels.
Outcomes that are functions of skills (the test, total learning, spread, profile diversity) are
decomposed; engagement, self-regulation and interests are themselves channels or drive them.

References
----------
.. [1] Shapley, L. S. (1953). A value for n-person games. In H. W. Kuhn & A. W. Tucker (Eds.),
   *Contributions to the Theory of Games II* (pp. 307-317). Princeton University Press.
.. [2] Shorrocks, A. F. (2013). Decomposition procedures for distributional analysis: a
   unified framework based on the Shapley value. *Journal of Economic Inequality*, 11(1),
   99-126. https://doi.org/10.1007/s10888-011-9214-z
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit.engine import fast
from toolkit.metrics.student_t import t_ppf
from toolkit.model import mechanisms as mech
from toolkit.model.cohort import Cohort, draw_cohort
from toolkit.model.params import Parameters
from toolkit.model.schedule import RegimeSpec, resolve_schedule

__all__ = [
    "CHANNEL_LABELS",
    "OUTCOMES",
    "classroom_contributions",
    "combine_chunks",
    "contribution_table",
    "decompose",
    "outcome_values",
    "record_chunk",
    "shapley_values",
]

#: Outcomes decomposed by default (classroom-level, functions of end-of-year skills).
OUTCOMES = (
    "effect_size",
    "score",
    "total_learning",
    "sd_score",
    "mean_pairwise_distance",
    "diversity_of_excellence",
)

#: Readable names of the channels (:data:`toolkit.model.mechanisms.CHANNELS`).
CHANNEL_LABELS = {
    "domain_time": "time on each domain (incl. tested ones)",
    "fit": "fit of the work",
    "engagement": "engagement",
    "peers": "peers (learning, cooperation, disruption)",
    "self_regulation": "self-regulation (time on task, strategies)",
    "teacher_time": "teacher (time, group size, expectations, quality)",
}


def shapley_values(values: np.ndarray, n_players: int) -> np.ndarray:
    r"""Shapley values of a game given by its value on every coalition.

    Parameters
    ----------
    values : ndarray, shape (2 ** K, ...)
        :math:`v(S)` for every coalition :math:`S`, indexed by its bit mask (bit :math:`k` set
        when player :math:`k` is in :math:`S`); trailing axes are independent games.
    n_players : int
        :math:`K`.

    Returns
    -------
    ndarray, shape (K, ...)
        :math:`\phi_k`, summing over :math:`k` to :math:`v(N) - v(\emptyset)`.

    Examples
    --------
    >>> v = np.array([0.0, 1.0, 2.0, 4.0])  # v({}), v({0}), v({1}), v({0, 1})
    >>> shapley_values(v, 2).tolist()
    [1.5, 2.5]
    """
    k = n_players
    values = np.asarray(values, dtype=float)
    if values.shape[0] != 2**k:
        raise ValueError(f"values: expected {2**k} coalitions for {k} players, got {len(values)}")
    out = np.zeros((k, *values.shape[1:]))
    for mask in range(2**k):
        size = bin(mask).count("1")
        for player in range(k):
            if mask >> player & 1:
                continue
            w = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            out[player] += w * (values[mask | (1 << player)] - values[mask])
    return out


def outcome_values(
    end_skill: np.ndarray,
    start_skill: np.ndarray,
    test_error: np.ndarray,
    core: np.ndarray,
    outcomes: Sequence[str] = OUTCOMES,
    reference_sd: float | None = None,
    excellence_quantile: float = 0.9,
) -> dict[str, np.ndarray]:
    r"""Classroom-level outcomes from skills, for every classroom (and leading axes) at once.

    The same definitions as the study summary (:mod:`toolkit.study.analysis`), written on
    arrays: ``score`` the class mean of the test (mean core skill plus the test's error),
    ``effect_size`` that mean divided by ``reference_sd``, ``total_learning`` the class mean of
    the gain summed over domains, ``sd_score`` the SD of the test within the class
    (``ddof=1``), ``mean_pairwise_distance`` the mean Euclidean distance between students'
    skill profiles (:func:`toolkit.metrics.mean_pairwise_distance`) and
    ``diversity_of_excellence`` the share of students in the top decile of at least one domain,
    with thresholds from the same arm's students pooled over classrooms
    (:func:`toolkit.metrics.diversity_of_excellence`; level-neutral).

    Parameters
    ----------
    end_skill, start_skill : ndarray, shape (..., C, N, D)
    test_error : ndarray, shape (C, N)
        The test's error (score minus true core skill), the same in every arm.
    core : ndarray of bool, shape (D,)
    outcomes : sequence of str
    reference_sd : float, optional
        SD of the reference arm's test scores (needed for ``effect_size``).
    excellence_quantile : float

    Returns
    -------
    dict of str to ndarray, shape (..., C)
    """
    score = end_skill[..., core].mean(axis=-1) + test_error
    out: dict[str, np.ndarray] = {}
    for name in outcomes:
        if name == "score":
            out[name] = score.mean(axis=-1)
        elif name == "effect_size":
            if reference_sd is None:
                raise ValueError("outcome 'effect_size' needs reference_sd")
            out[name] = score.mean(axis=-1) / reference_sd
        elif name == "total_learning":
            out[name] = (end_skill - start_skill).sum(axis=-1).mean(axis=-1)
        elif name == "sd_score":
            out[name] = score.std(axis=-1, ddof=1)
        elif name == "mean_pairwise_distance":
            iu = np.triu_indices(end_skill.shape[-2], k=1)  # each pair once, i < j
            diff = end_skill[..., iu[0], :] - end_skill[..., iu[1], :]
            out[name] = np.sqrt((diff * diff).sum(axis=-1)).mean(axis=-1)
        elif name == "diversity_of_excellence":
            lead = end_skill.shape[:-3]
            pooled = end_skill.reshape(*lead, -1, end_skill.shape[-1])
            thr = np.quantile(pooled, excellence_quantile, axis=-2, method="linear")
            excellent = (end_skill >= thr[..., None, None, :]).any(axis=-1)
            out[name] = excellent.mean(axis=-1)
        else:
            raise ValueError(f"unknown outcome {name!r}; expected one of {list(OUTCOMES)}")
    return out


def _field_masks(channels: Sequence[str]) -> dict[str, np.ndarray]:
    """For every factor of Channels, which coalitions (bit masks) take it from arm B."""
    k = len(channels)
    coalitions = np.arange(2**k)
    masks = {}
    for j, name in enumerate(channels):
        in_b = (coalitions >> j) & 1 == 1
        for f in mech.CHANNELS[name]:
            masks[f] = in_b
    return masks


def _coalition_gain(terms_a: list, terms_b: list, shape: tuple[int, ...]) -> np.ndarray:
    """Return the day's gain for every coalition (the products of :func:`mech.compose_gain`).

    Each term is built channel by channel in the order of :data:`mech.CHANNELS`, doubling the
    filled part of the coalition axis at each channel (first half: the factor from arm A,
    second half: from B), so that coalition ``mask`` has channel ``j`` from B exactly when bit
    ``j`` is set, and the coalition of no channel (or of every channel) multiplies exactly the
    factors of arm A (or B) in the same order as the simulation.
    """
    n = 2 ** len(mech.CHANNELS)
    total = np.empty((n, *shape))
    x = np.empty((n, *shape))
    for t, ((base, fa), (_, fb)) in enumerate(zip(terms_a, terms_b, strict=True)):
        x[0] = base
        size = 1
        for name in mech.CHANNELS:
            if name in fa:
                np.multiply(x[:size], fb[name], out=x[size : 2 * size])
                np.multiply(x[:size], fa[name], out=x[:size])
            else:
                x[size : 2 * size] = x[:size]
            size *= 2
        if t == 0:
            total[...] = x
        else:
            total += x
    return total


_replay_module: Any = None
_replay_tried = False


def _replay_kernel() -> Any:
    """Return the compiled replay (:mod:`toolkit.engine.replay`), or None without numba."""
    global _replay_module, _replay_tried
    if not _replay_tried:
        _replay_tried = True
        try:
            from toolkit.engine import replay
        except ImportError:  # pragma: no cover - exercised only where numba is missing
            replay = None
        _replay_module = replay
    return _replay_module


def _lay_out(record: list, params: Parameters, aptitude: np.ndarray) -> dict[str, Any]:
    """Return one arm's recorded days laid out for the compiled replay.

    ``skill0`` the first day's skills (flattened), the terms' bases ``(terms, E)``, for each
    term and channel the kind of its factor and where it is (``kinds``, ``index``, see
    :func:`toolkit.engine.replay.replay_coalitions`), the factors per element ``fe``
    ``(T, F_e, E)`` and per student ``fs`` ``(T, F_s, S)``: each day's the very arrays
    :func:`mech.gain_terms` returns for that day. With forgetting, also each day's
    direct-instruction time (``tau``, per student) and time shares (``ga``, ``al``).
    """
    from toolkit.engine.replay import ABSENT, PER_ELEMENT, PER_STUDENT

    n_days, n_el = len(record), aptitude.size
    shape, d = aptitude.shape, aptitude.shape[-1]
    rate, pe = params.learning_rate, params.practice_efficacy
    first = mech.gain_terms(rate, aptitude, pe, record[0][1])
    bases = np.empty((len(first), n_el))
    kinds = np.full((len(first), len(mech.CHANNELS)), ABSENT, dtype=np.int64)
    index = np.zeros_like(kinds)
    n_fe = n_fs = 0
    for c, (base, factors) in enumerate(first):
        bases[c] = np.broadcast_to(base, shape).reshape(-1)
        for k, name in enumerate(mech.CHANNELS):
            if name not in factors:
                continue
            f = np.asarray(factors[name])
            if f.ndim == aptitude.ndim and f.shape[-1] == d:
                kinds[c, k], index[c, k], n_fe = PER_ELEMENT, n_fe, n_fe + 1
            else:
                kinds[c, k], index[c, k], n_fs = PER_STUDENT, n_fs, n_fs + 1
    fe = np.empty((n_days, n_fe, *shape))
    fs = np.empty((n_days, n_fs, *shape[:-1]))
    forgetting = bool(params.forgetting_rate)
    if forgetting:
        tau = np.empty((n_days, *shape[:-1]))
        ga, al = np.empty((n_days, *shape)), np.empty((n_days, *shape))
    for t, (_, channels) in enumerate(record):
        terms = first if t == 0 else mech.gain_terms(rate, aptitude, pe, channels)
        for c, (_, factors) in enumerate(terms):
            for k, name in enumerate(mech.CHANNELS):
                if kinds[c, k] == PER_ELEMENT:
                    fe[t, index[c, k]] = factors[name]
                elif kinds[c, k] == PER_STUDENT:
                    fs[t, index[c, k]] = np.asarray(factors[name])[..., 0]
        if forgetting:
            tau[t] = channels.direct_time
            ga[t], al[t] = channels.group_allocation, channels.allocation
    out = {
        "skill0": np.ascontiguousarray(np.asarray(record[0][0], dtype=float).reshape(-1)),
        "bases": bases,
        "kinds": kinds,
        "index": index,
        "fe": fe.reshape(n_days, n_fe, -1),
        "fs": fs.reshape(n_days, n_fs, -1),
    }
    if forgetting:
        out.update(
            tau=tau.reshape(n_days, -1), ga=ga.reshape(n_days, -1), al=al.reshape(n_days, -1)
        )
    return out


def _replay_compiled(
    laid_a: dict[str, Any],
    laid_b: dict[str, Any],
    params: Parameters,
    aptitude: np.ndarray,
    year_starts: set[int],
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_replay` by the compiled kernel (:mod:`toolkit.engine.replay`): the same numbers.

    ``laid_a`` and ``laid_b`` are the two arms' days from :func:`_lay_out`.
    """
    a, b = laid_a, laid_b
    if not (np.array_equal(a["kinds"], b["kinds"]) and np.array_equal(a["index"], b["index"])):
        raise ValueError("the two arms' learning equations have different terms")
    n_days = a["fe"].shape[0]
    shape = aptitude.shape
    n_coal = 2 ** len(mech.CHANNELS)
    channel_bit = {f: j for j, name in enumerate(mech.CHANNELS) for f in mech.CHANNELS[name]}
    if channel_bit["group_allocation"] != channel_bit["allocation"]:
        raise ValueError("the two time shares must belong to one channel")
    forgetting = float(params.forgetting_rate)
    none = np.zeros((0, 0))
    bits = np.array([channel_bit["direct_time"], channel_bit["allocation"]], dtype=np.int64)
    year_start = np.zeros(n_days, dtype=bool)
    year_start[[t for t in year_starts if t < n_days]] = True
    end = np.empty((n_coal, aptitude.size))
    start = np.empty((n_coal, aptitude.size))
    kernel = _replay_kernel()
    kernel.replay_coalitions(
        a["skill0"],
        a["bases"],
        a["kinds"],
        a["index"],
        a["fe"],
        a["fs"],
        b["fe"],
        b["fs"],
        shape[-1],
        year_start,
        forgetting,
        bits,
        a.get("tau", none),
        a.get("ga", none),
        a.get("al", none),
        b.get("tau", none),
        b.get("ga", none),
        b.get("al", none),
        end,
        start,
        kernel.BLOCK,
    )
    return end.reshape(n_coal, *shape), start.reshape(n_coal, *shape)


def _replay(
    rec_a: list,
    rec_b: list,
    masks: dict[str, np.ndarray],
    params: Parameters,
    aptitude: np.ndarray,
    year_starts: set[int],
) -> tuple[np.ndarray, np.ndarray]:
    """Replay the days with each factor taken from arm A or B per coalition.

    Returns the end skills and the start-of-(last)-year skills, shape (2 ** K, C, N, D).
    """
    n_coal = len(next(iter(masks.values())))
    rate, pe = params.learning_rate, params.practice_efficacy
    skill = np.broadcast_to(rec_a[0][0], (n_coal, *rec_a[0][0].shape)).copy()
    start = skill.copy()
    for t, ((_, ca), (_, cb)) in enumerate(zip(rec_a, rec_b, strict=True)):
        if t in year_starts and t > 0:
            start = skill.copy()
        gain = _coalition_gain(
            mech.gain_terms(rate, aptitude, pe, ca),
            mech.gain_terms(rate, aptitude, pe, cb),
            aptitude.shape,
        )
        new = skill + gain
        if params.forgetting_rate:
            pick = {}
            for f in ("direct_time", "group_allocation", "allocation"):
                a, b = np.asarray(getattr(ca, f)), np.asarray(getattr(cb, f))
                pick[f] = np.where(masks[f].reshape((n_coal,) + (1,) * a.ndim), b, a)
            tau = pick["direct_time"][..., None]
            t_total = tau * pick["group_allocation"] + (1.0 - tau) * pick["allocation"]
            new = new - params.forgetting_rate * (1.0 - t_total) * (skill - start)
        skill = new
    return skill, start


def decompose(
    arms: Mapping[str, RegimeSpec | Sequence[RegimeSpec]],
    params: Parameters,
    seeds: Sequence[np.random.SeedSequence],
    *,
    reference: str | None = None,
    n_years: int | None = None,
    outcomes: Sequence[str] = OUTCOMES,
    cohorts: Sequence[Cohort] | None = None,
    chunk_size: int = 32,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    r"""Split every arm's paired difference from the reference into channel contributions.

    Parameters
    ----------
    arms : mapping of str to regime spec (or per-year list)
        As for :func:`toolkit.engine.simulate_arms`; the reference must be one of them.
    params : Parameters
    seeds : sequence of SeedSequence
        One per classroom (e.g. :func:`toolkit.model.classroom_seed`).
    reference : str, optional
        The arm every other arm is compared with (default: the first).
    n_years : int, optional
        School years; the outcomes are those at the end of the last year.
    outcomes : sequence of str
        From :data:`OUTCOMES`.
    cohorts : sequence of Cohort, optional
        Starting students per classroom instead of drawing them.
    chunk_size : int
        Classrooms recorded at once (memory grows with it: about 8 * 12 * N * D * days bytes
        per classroom and arm).
    progress : callable, optional
        Called with the number of classrooms finished after each chunk.

    Returns
    -------
    pandas.DataFrame
        One row per ``arm`` (other than the reference), ``outcome`` and ``channel`` with
        ``contribution`` (mean over classrooms), ``ci_low``, ``ci_high`` (95% t interval over
        classrooms) and ``share`` (of the total); a row with ``channel = "total"`` holds the
        paired difference itself, equal to the sum of the contributions.
        ``df.attrs["replay_error"]`` is the largest absolute difference between an arm's
        simulated end-of-year skills and their replay from its own factors (round-off only).

    Examples
    --------
    >>> from toolkit.model import classroom_seed
    >>> p = Parameters(n_students=8, n_days=10, peer_ties=2)
    >>> seeds = [classroom_seed(1, i) for i in range(3)]
    >>> d = decompose({"std": "standardized", "pers": "personal"}, p, seeds,
    ...               outcomes=["score"])
    >>> parts = d[d.channel != "total"].contribution.sum()
    >>> bool(np.isclose(parts, d[d.channel == "total"].contribution.item()))
    True
    """
    if len(seeds) < 2:
        raise ValueError("decompose needs at least 2 classrooms (for the intervals).")
    per = classroom_contributions(
        arms,
        params,
        seeds,
        reference=reference,
        n_years=n_years,
        outcomes=outcomes,
        cohorts=cohorts,
        chunk_size=chunk_size,
        progress=progress,
    )
    out = contribution_table(per, per.attrs["reference"])
    out.attrs["replay_error"] = per.attrs["replay_error"]
    out.attrs["channels"] = per.attrs["channels"]
    return out


def contribution_table(
    per: pd.DataFrame, reference: str, weights: Sequence[float] | None = None
) -> pd.DataFrame:
    r"""Average per-classroom contributions (:func:`classroom_contributions`) with 95% intervals.

    Parameters
    ----------
    per : pandas.DataFrame
        One row per classroom, arm, outcome and channel (``classroom``, ``arm``, ``outcome``,
        ``channel``, ``value``).
    reference : str
        The reference arm (recorded in the table).
    weights : sequence of float, optional
        A weight per classroom (by position in ``classroom``'s sorted values): then the mean is
        weighted, :math:`\bar x = \sum w_c x_c / \sum w_c`, with the linearised variance
        :math:`\frac{C}{C-1}\sum_c w_c^2 (x_c - \bar x)^2 / (\sum w_c)^2` and a t interval
        on :math:`C - 1` degrees of freedom. Without them, the plain mean and t interval.

    Returns
    -------
    pandas.DataFrame
        As :func:`decompose`.
    """
    rows = []
    for (arm, outcome), block in per.groupby(["arm", "outcome"], sort=False):
        wide = block.pivot(index="classroom", columns="channel", values="value")
        total = wide["total"].to_numpy()
        w = None if weights is None else np.asarray(weights, dtype=float)[: len(total)]
        tot = _mean_half(total, w)[0]
        for name in dict.fromkeys(block["channel"]):
            mean, half = _mean_half(wide[name].to_numpy(), w)
            rows.append(
                {
                    "arm": arm,
                    "reference": reference,
                    "outcome": outcome,
                    "channel": name,
                    "contribution": mean,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "share": mean / tot if tot != 0 else np.nan,
                    "n_units": len(total),
                }
            )
    return pd.DataFrame(rows)


def _mean_half(x: np.ndarray, w: np.ndarray | None) -> tuple[float, float]:
    """Mean and the half-width of its 95% t interval (weighted: linearised)."""
    n = x.size
    q = t_ppf(0.975, n - 1)
    if w is None:
        mean = float(x.mean())
        return mean, float(q * x.std(ddof=1) / np.sqrt(n))
    mean = float((w * x).sum() / w.sum())
    var = n / (n - 1) * float((w**2 * (x - mean) ** 2).sum()) / float(w.sum()) ** 2
    return mean, float(q * np.sqrt(var))


def classroom_contributions(
    arms: Mapping[str, RegimeSpec | Sequence[RegimeSpec]],
    params: Parameters,
    seeds: Sequence[np.random.SeedSequence],
    *,
    reference: str | None = None,
    n_years: int | None = None,
    outcomes: Sequence[str] = OUTCOMES,
    cohorts: Sequence[Cohort] | None = None,
    chunk_size: int = 32,
    progress: Callable[[int], None] | None = None,
    reference_sd: float | None = None,
) -> pd.DataFrame:
    """Every classroom's channel contributions (the Shapley values behind :func:`decompose`).

    Parameters
    ----------
    arms, params, seeds, reference, n_years, outcomes, cohorts, chunk_size, progress
        As for :func:`decompose` (one classroom is enough here).
    reference_sd : float, optional
        The SD of test scores behind ``effect_size`` (default: the reference arm's scores in
        these classrooms, as :func:`decompose` uses).

    Returns
    -------
    pandas.DataFrame
        One row per classroom (``classroom``: position in ``seeds``), arm (other than the
        reference), outcome and channel, with its ``value``; the channel ``"total"`` is the
        classroom's paired difference. ``attrs`` holds ``reference``, ``reference_sd``,
        ``replay_error`` and ``channels``.
    """
    _check_outcomes(outcomes)
    if len(seeds) < 1:
        raise ValueError("classroom_contributions needs at least 1 classroom.")
    records = []
    for lo in range(0, len(seeds), chunk_size):
        chunk_cohorts = None if cohorts is None else list(cohorts[lo : lo + chunk_size])
        records.append(
            record_chunk(
                arms,
                params,
                list(seeds[lo : lo + chunk_size]),
                reference=reference,
                n_years=n_years,
                cohorts=chunk_cohorts,
            )
        )
        if progress is not None:
            progress(records[-1]["classrooms"])
    return combine_chunks(records, params, outcomes=outcomes, reference_sd=reference_sd)


def _check_outcomes(outcomes: Sequence[str]) -> None:
    for o in outcomes:
        if o not in OUTCOMES:
            raise ValueError(f"unknown outcome {o!r}; expected one of {list(OUTCOMES)}")


def record_chunk(
    arms: Mapping[str, RegimeSpec | Sequence[RegimeSpec]],
    params: Parameters,
    seeds: Sequence[np.random.SeedSequence],
    *,
    reference: str | None = None,
    n_years: int | None = None,
    cohorts: Sequence[Cohort] | None = None,
) -> dict[str, Any]:
    """Simulate a chunk of classrooms in every arm and replay each arm against the reference.

    The part of :func:`classroom_contributions` that takes the time, for one chunk of
    classrooms: chunks are independent (each classroom's students and random streams come
    from its own seed), so they can run in any order or on different processes (a run's Dask
    workers), and :func:`combine_chunks` puts their records together in order.

    Parameters
    ----------
    arms, params, reference, n_years
        As for :func:`decompose`.
    seeds : sequence of SeedSequence
        The chunk's classrooms.
    cohorts : sequence of Cohort, optional
        The chunk's starting students (default: drawn from the seeds).

    Returns
    -------
    dict
        ``arms``, ``reference``, ``classrooms``, and per arm other than the reference the
        replayed end and start-of-year skills of every coalition (``ends``, ``starts``,
        shape ``(2 ** K, C, N, D)``), the test's error (``errors``), the reference arm's scores
        (``ref_scores``) and the largest replay error (``replay_error``).
    """
    names = list(arms)
    if not names:
        raise ValueError("arms must be a non-empty mapping of arm name to regime.")
    reference = names[0] if reference is None else reference
    if reference not in arms:
        raise ValueError(f"reference {reference!r} is not one of the arms {names}")
    if len(seeds) < 1:
        raise ValueError("record_chunk needs at least 1 classroom.")
    channels = list(mech.CHANNELS)
    schedules = [resolve_schedule(arms[k], n_years, f"arm {k!r}") for k in names]
    years = len(schedules[0])
    masks = _field_masks(channels)
    t_days = params.n_days
    year_starts = {y * t_days for y in range(years)}
    others = [k for k in names if k != reference]
    ia = names.index(reference)
    chunk = list(seeds)
    chunk_cohorts = [draw_cohort(params, s) for s in chunk] if cohorts is None else list(cohorts)
    record: list[list] = [[] for _ in schedules]
    # recorded by the exact compiled kernel where numba is installed, else by the numpy one
    kernel = fast._resolve_kernel("auto", params)
    frames = fast._simulate_chunk(
        schedules, params, chunk, chunk_cohorts, which=kernel, record=record
    )
    aptitude = Cohort.stack(chunk_cohorts).aptitude
    c = len(chunk)
    n, d = params.n_students, params.n_domains
    last = [f[f.year == years - 1].sort_values(["classroom", "student"]) for f in frames]
    ref_t = last[ia]
    replay_error = 0.0
    ends, starts = {}, {}
    skill_cols = [f"skill_{x}" for x in params.domains]
    compiled = _replay_kernel() is not None
    if compiled:  # every arm's factors over the days, laid out once for all its comparisons
        laid = {}
        for ix in range(len(names)):
            laid[ix] = _lay_out(record[ix], params, aptitude)
            record[ix].clear()  # the days' arrays are laid out now
    for k in others:
        ib = names.index(k)
        if compiled:
            end, start = _replay_compiled(laid[ia], laid[ib], params, aptitude, year_starts)
        else:
            end, start = _replay(record[ia], record[ib], masks, params, aptitude, year_starts)
        for ix, mask in ((ia, 0), (ib, -1)):
            actual = last[ix][skill_cols].to_numpy().reshape(c, n, d)
            replay_error = max(replay_error, float(np.abs(end[mask] - actual).max()))
        ends[k], starts[k] = end, start
    return {
        "arms": names,
        "reference": reference,
        "channels": channels,
        "classrooms": c,
        "ends": ends,
        "starts": starts,
        "errors": (ref_t.score - ref_t.core_end).to_numpy().reshape(c, n),
        "ref_scores": ref_t.score.to_numpy(),
        "replay_error": replay_error,
    }


def combine_chunks(
    records: Sequence[dict[str, Any]],
    params: Parameters,
    *,
    outcomes: Sequence[str] = OUTCOMES,
    reference_sd: float | None = None,
) -> pd.DataFrame:
    """Every classroom's channel contributions from the records of its chunks, in order.

    Parameters
    ----------
    records : sequence of dict
        From :func:`record_chunk`, one per chunk, in the order of their classrooms.
    params : Parameters
    outcomes, reference_sd
        As for :func:`classroom_contributions`.

    Returns
    -------
    pandas.DataFrame
        As :func:`classroom_contributions`.
    """
    _check_outcomes(outcomes)
    if not records:
        raise ValueError("combine_chunks needs the record of at least one chunk.")
    reference, channels = records[0]["reference"], records[0]["channels"]
    others = [k for k in records[0]["arms"] if k != reference]
    core = np.array(params.core_mask)
    test_error = np.concatenate([r["errors"] for r in records])
    sd_ref = (
        float(np.std(np.concatenate([r["ref_scores"] for r in records]), ddof=1))
        if reference_sd is None
        else float(reference_sd)
    )
    replay_error = max(r["replay_error"] for r in records)
    # the table's columns, whole: a block of classrooms per arm, outcome and channel (one
    # frame built from them, not a frame per block: 126 frames took two thirds of the time)
    values, labels = [], []
    for k in others:
        end = np.concatenate([r["ends"][k] for r in records], axis=1)
        start = np.concatenate([r["starts"][k] for r in records], axis=1)
        vals = outcome_values(end, start, test_error, core, outcomes, reference_sd=sd_ref)
        for o in outcomes:
            v = vals[o]  # (2 ** K, C)
            phi = shapley_values(v, len(channels))  # (K, C)
            values += [*phi, v[-1] - v[0]]
            labels += [(k, o, name) for name in [*channels, "total"]]
    if not values:
        out = pd.DataFrame()
    else:
        n = values[0].size
        arm, outcome, channel = (
            np.repeat(np.array(c, dtype=object), n) for c in zip(*labels, strict=True)
        )
        out = pd.DataFrame(
            {
                "classroom": np.tile(np.arange(n), len(values)),
                "arm": arm,
                "outcome": outcome,
                "channel": channel,
                "value": np.concatenate(values),
            }
        )
    out.attrs.update(
        reference=reference, reference_sd=sd_ref, replay_error=replay_error, channels=channels
    )
    return out
