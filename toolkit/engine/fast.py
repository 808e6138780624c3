"""The vectorized engine: many classrooms at once, on arrays, with the Mesa model's mechanisms.

:func:`simulate_batch` steps ``C`` classrooms of ``N`` students in ``D`` domains as arrays of
shape ``(C, N, D)``; :func:`simulate_arms` does the same for several regimes (arms) on the same
classrooms, drawing their random numbers once for all arms.

Everything that happens once a year (the students, the prior test, the system's first picture
of each learner, groups, the peer network, the final test) calls the very functions the Mesa
model calls (:mod:`toolkit.model.mechanisms`, :mod:`toolkit.model.shared`) on the whole chunk
of classrooms, and every random number comes from the same per-classroom streams
(:mod:`toolkit.model.cohort`), so classroom ``i`` sees the same students and the same daily
shocks in both implementations.

The school days run in one of three kernels:

``"numpy"``
    calls :func:`~toolkit.model.mechanisms.system_plan`,
    :func:`~toolkit.model.mechanisms.student_choose`,
    :func:`~toolkit.model.mechanisms.student_learn` and
    :func:`~toolkit.model.mechanisms.update_estimate` on ``(C, N, D)`` arrays, in the order of
    the Mesa model's activation: it reproduces the Mesa model to ``rtol=1e-12`` everywhere,
    and bit for bit where numpy gives an element the same result whatever the array's length
    (:func:`toolkit.engine.docking.bitwise_properties`).
``"exact"`` (also ``"numba"``)
    :func:`toolkit.engine.kernel.run_days`, a compiled transcription of the same functions that
    keeps their order of floating-point operations and the Mesa model's random numbers: equal
    to the other two to ``rtol=1e-12`` everywhere, and bit for bit the numpy kernel where
    numpy's ``exp`` is the C library's. For reference runs.
``"fast"``
    :func:`toolkit.engine.kernel_fast.run_days_fast`, a second transcription with the students
    of many classrooms on SIMD lanes, its own vectorizable ``exp`` and ``log``, and the daily
    normals drawn by Philox4x32-10 from each classroom's seed instead of PCG64
    (:func:`toolkit.engine.kernel_fast.philox_normals`). Other random numbers, the same
    model: it docks with the Mesa model in distribution (``tests/test_docking_distribution.py``)
    and, fed the exact kernel's draws, reproduces it to ``rtol=1e-10``. Of the fast-math
    options it uses only fused multiply-adds, so an element's result does not depend on its
    SIMD lane or the vector width.

``"auto"`` (the default of :func:`simulate_batch` and :func:`simulate_arms`) is ``"exact"``
when numba is installed, else ``"numpy"``; studies run ``"fast"`` unless their file says
otherwise (``kernel`` in ``[study]``). Every kernel keeps these guarantees: the same seed gives
the same numbers, whatever the chunk size, the block size of the daily draws or the arms run
together, and every random number comes from the classroom's seed sequence.

Memory is bounded whatever the number of classrooms: classrooms are simulated ``chunk_size`` at
a time, and the day-by-day random numbers (by far the largest array) are drawn in blocks of days
of at most :data:`NOISE_BLOCK_BYTES`, continuing each classroom's stream, which gives exactly the
numbers :func:`~toolkit.model.cohort.draw_year` draws in one go. Because each classroom's
random numbers come from its own seed and classrooms never interact, results do not depend on
the chunk size (nor on the block size).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.model import cohort as _cohort
from toolkit.model import mechanisms as mech
from toolkit.model import shared
from toolkit.model.cohort import Cohort, draw_cohort, stream
from toolkit.model.params import Parameters
from toolkit.model.regimes import Regime
from toolkit.model.schedule import RegimeSpec, resolve_schedule
from toolkit.model.shared import (
    choose_kwargs,
    curriculum_weights,
    initial_engagement,
    learn_kwargs,
    plan_kwargs,
    year_table,
)

_kernel = None  # toolkit.engine.kernel, imported on first use (importing numba takes ~1 s)
_kernel_fast = None  # toolkit.engine.kernel_fast, likewise
_kernel_tried = False
_kernel_lock = threading.Lock()
#: The packages whose absence makes the compiled kernels unavailable (rather than an error).
_COMPILER_PACKAGES = ("numba", "llvmlite")


def _load_kernel():
    """Return the exact compiled kernel module, or None where numba is not installed.

    Only numba's (or llvmlite's) absence is remembered as "no compiled kernel"; any other
    import error propagates and the next call tries again, so that a failure that may not
    recur (an import interrupted, or racing another thread's) never leaves the process
    believing numba is missing. Threads that ask at once wait for the first one's import.
    """
    global _kernel, _kernel_fast, _kernel_tried
    if _kernel_tried:
        return _kernel
    with _kernel_lock:
        if not _kernel_tried:
            try:
                from toolkit.engine import kernel, kernel_fast
            except ModuleNotFoundError as exc:
                if (exc.name or "").partition(".")[0] not in _COMPILER_PACKAGES:
                    raise
                kernel = kernel_fast = None
            _kernel, _kernel_fast = kernel, kernel_fast
            _kernel_tried = True
    return _kernel


__all__ = ["KERNELS", "NOISE_BLOCK_BYTES", "simulate_arms", "simulate_batch", "warm_up"]

#: Kernels of the school days (see the module docstring); ``"numba"`` is ``"exact"``.
KERNELS = ("auto", "exact", "fast", "numba", "numpy")

#: Where the ``"fast"`` kernel takes its daily standard normals: ``"philox"`` (drawn inside the
#: kernel, counter-based) or ``"numpy"`` (the exact kernel's PCG64 streams, to check the fast
#: kernel's arithmetic against the exact kernel on the same numbers; slower).
FAST_DRAWS = "philox"

#: Stream key of the fast kernel's Philox keys, next to cohort.draw_year's streams of a year
#: (``_YEAR + 10 * year + {0: assessment, 1: network, 2: dynamics}``): ``+ 3``.
_PHILOX_STREAM = 3

#: Upper bound on the bytes of day-by-day random numbers held at once per chunk.
NOISE_BLOCK_BYTES = 32 * 2**20


def simulate_batch(
    regime: RegimeSpec | Sequence[RegimeSpec],
    params: Parameters,
    seeds: Sequence[np.random.SeedSequence],
    *,
    n_years: int | None = None,
    cohorts: Sequence[Cohort] | None = None,
    chunk_size: int = 256,
    progress: Callable[[int], None] | None = None,
    kernel: str = "auto",
) -> pd.DataFrame:
    """Simulate one classroom per seed under a regime (or a per-year schedule) on arrays.

    Parameters
    ----------
    regime : regime spec or list of specs
        As for :class:`~toolkit.model.ClassroomModel`.
    params : Parameters
    seeds : sequence of SeedSequence
        One per classroom (e.g. :func:`~toolkit.model.classroom_seed`).
    n_years : int, optional
        School years (default: length of the regime list, else 1).
    cohorts : sequence of Cohort, optional
        Starting students per classroom instead of drawing them from the seeds.
    chunk_size : int
        Classrooms simulated together. Results do not depend on it. Memory per chunk is about
        ``chunk_size * N * (N + 12 D + 12) * 8`` bytes of state and yearly draws, plus at most
        :data:`NOISE_BLOCK_BYTES` of daily draws (at least one day's), plus the result table.
    progress : callable, optional
        Called with the number of classrooms finished after each chunk.
    kernel : {"auto", "exact", "fast", "numba", "numpy"}
        Implementation of the school days (see the module docstring). ``"exact"`` (alias
        ``"numba"``) and ``"numpy"`` give the Mesa model's numbers to ``rtol=1e-12``; ``"fast"``
        draws its own daily random numbers (the same distributions). ``"auto"`` is
        ``"exact"`` where numba is installed, else ``"numpy"``.

    Returns
    -------
    pandas.DataFrame
        The student table of :meth:`~toolkit.model.ClassroomModel.student_table` with a
        leading ``classroom`` column (position in ``seeds``).

    Examples
    --------
    >>> from toolkit.model import classroom_seed
    >>> p = Parameters(n_students=10, n_days=5)
    >>> df = simulate_batch("personal", p, [classroom_seed(1, i) for i in range(3)])
    >>> df.shape[0], int(df.classroom.max())
    (30, 2)
    """
    schedule = resolve_schedule(regime, n_years)
    df = _run([schedule], params, seeds, cohorts, chunk_size, progress, kernel)[0]
    return df


def simulate_arms(
    arms: Mapping[str, RegimeSpec | Sequence[RegimeSpec]],
    params: Parameters,
    seeds: Sequence[np.random.SeedSequence],
    *,
    n_years: int | None = None,
    cohorts: Sequence[Cohort] | None = None,
    chunk_size: int = 256,
    progress: Callable[[int], None] | None = None,
    kernel: str = "auto",
) -> pd.DataFrame:
    """Simulate the same classrooms under several regimes (arms), drawing their randomness once.

    A paired comparison runs every arm on the same classrooms: the same students and the same
    random streams (common random numbers). Everything drawn from a classroom's seed (the
    students, each year's test errors, diagnostic and network draws, and the day-by-day
    shocks, which are most of the cost of drawing) is drawn once per chunk and given to every
    arm, so the result equals ``simulate_batch(arm, ...)`` per arm, bit for bit, and costs less
    than that: with four arms the random numbers are drawn once instead of four times.

    Parameters
    ----------
    arms : mapping of str to regime spec or list of specs
        Arm name to regime (or per-year schedule), as for :func:`simulate_batch`. Every arm
        must run the same number of school years.
    params : Parameters
        Shared by every arm (arms that differ in parameters draw different students).
    seeds : sequence of SeedSequence
        One per classroom.
    n_years : int, optional
        School years (default: the length of the arms' schedules, else 1).
    cohorts : sequence of Cohort, optional
        Starting students per classroom instead of drawing them from the seeds.
    chunk_size : int
        Classrooms simulated together (all arms at once). Results do not depend on it.
    progress : callable, optional
        Called with the number of classrooms finished (in every arm) after each chunk.
    kernel : {"auto", "exact", "fast", "numba", "numpy"}
        As for :func:`simulate_batch`.

    Returns
    -------
    pandas.DataFrame
        The student table of :func:`simulate_batch` with a leading ``arm`` column (the arm
        names, in the order given) and then ``classroom``.

    Examples
    --------
    >>> from toolkit.model import classroom_seed
    >>> p = Parameters(n_students=10, n_days=5)
    >>> seeds = [classroom_seed(1, i) for i in range(3)]
    >>> df = simulate_arms({"std": "standardized", "pers": "personal"}, p, seeds)
    >>> df.groupby("arm", observed=True).size().to_dict()
    {'std': 30, 'pers': 30}
    >>> alone = simulate_batch("personal", p, seeds)
    >>> bool((df[df.arm == "pers"].drop(columns="arm").reset_index(drop=True) == alone).all().all())
    True
    """
    if not isinstance(arms, Mapping) or not arms:
        raise ValueError("arms must be a non-empty mapping of arm name to regime.")
    names = list(arms)
    schedules = [resolve_schedule(arms[k], n_years, f"arm {k!r}") for k in names]
    lengths = {k: len(s) for k, s in zip(names, schedules, strict=True)}
    if len(set(lengths.values())) > 1:
        raise ValueError(
            f"arms: every arm must run the same number of school years, got {lengths}; "
            "pass n_years or give every schedule the same length."
        )
    frames = _run(schedules, params, seeds, cohorts, chunk_size, progress, kernel)
    for name, df in zip(names, frames, strict=True):
        df.insert(0, "arm", name)
    df = pd.concat(frames, ignore_index=True)
    if len(df):
        df["arm"] = pd.Categorical(df["arm"], categories=names)
    return df


def warm_up(kernels: Sequence[str] = ("fast", "exact")) -> None:
    """Compile (or load from numba's cache) the school-day kernels, on a tiny classroom.

    A process that will run studies calls this once to pay the kernels' loading up front: the
    fork server of a run's local workers (:mod:`toolkit.study._forkserver`), and the test
    suite, which fills numba's on-disk cache before its processes start. The two-student,
    two-day simulation is thrown away; nothing else changes.

    Parameters
    ----------
    kernels : sequence of {"fast", "exact"}
        The compiled kernels to load (:data:`KERNELS`).

    Examples
    --------
    >>> warm_up(["fast"])
    """
    params = Parameters(n_students=2, n_days=2, peer_ties=1)
    for kernel in kernels:
        simulate_arms({"s": "standardized"}, params, [np.random.SeedSequence(0)], kernel=kernel)


def _run(
    schedules: list[list[Regime]],
    params: Parameters,
    seeds: Sequence[np.random.SeedSequence],
    cohorts: Sequence[Cohort] | None,
    chunk_size: int,
    progress: Callable[[int], None] | None,
    kernel: str,
) -> list[pd.DataFrame]:
    """Run every schedule on every seed, chunk by chunk; one student table per schedule."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a whole number >= 1, got {chunk_size!r}")
    if cohorts is not None and len(cohorts) != len(seeds):
        raise ValueError(
            f"cohorts: got {len(cohorts)} cohorts for {len(seeds)} seeds; expected one each."
        )
    which = _resolve_kernel(kernel, params)
    frames: list[list[pd.DataFrame]] = [[] for _ in schedules]
    for start in range(0, len(seeds), chunk_size):
        chunk = list(seeds[start : start + chunk_size])
        chunk_cohorts = None if cohorts is None else list(cohorts[start : start + chunk_size])
        for arm_frames, df in zip(
            frames,
            _simulate_chunk(schedules, params, chunk, chunk_cohorts, which),
            strict=True,
        ):
            df["classroom"] += start
            arm_frames.append(df)
        if progress is not None:
            progress(len(chunk))
    return [pd.concat(f, ignore_index=True) if f else pd.DataFrame() for f in frames]


def _resolve_kernel(kernel: str, params: Parameters) -> str:
    """Return the kernel to run: ``"numpy"``, ``"exact"`` or ``"fast"``."""
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {list(KERNELS)}, got {kernel!r}")
    if kernel == "numpy":
        return "numpy"
    compiled = "exact" if kernel in ("auto", "numba") else kernel
    if _load_kernel() is None:
        if kernel != "auto":
            raise ImportError(
                f"kernel={kernel!r} needs the numba package; install it or use 'numpy'."
            )
        return "numpy"
    if params.n_domains > 128:  # the kernel's pairwise sums cover numpy's unrecursed case only
        if kernel != "auto":
            raise ValueError(f"kernel={kernel!r} supports at most 128 domains; use 'numpy'.")
        return "numpy"
    return compiled


@dataclass
class _YearDraws:
    """One school year's draws of a chunk of classrooms, as :func:`cohort.draw_year` makes them.

    The small per-year arrays are drawn at once; the day-by-day normals are drawn on demand in
    blocks of days (:meth:`daily_block`), each classroom's stream continuing where it stopped.
    """

    pretest_error: np.ndarray  # (C, N)
    posttest_error: np.ndarray  # (C, N)
    diagnostic: np.ndarray  # (C, N, D)
    profile: np.ndarray  # (C, N, D)
    gumbel: np.ndarray  # (C, N, N)
    tiebreak: np.ndarray  # (C, N)
    teacher: np.ndarray  # (C,)
    daily_streams: list[np.random.Generator]
    buffer: np.ndarray  # PCG64: (C, B, N, 3 D + 1); Philox: (B, 3 D + 1, C * N)
    philox: tuple | None = None  # the fast kernel's (lane key words, lane students, kinds)
    next_day: int = 0

    @classmethod
    def draw(
        cls,
        params: Parameters,
        seeds: list,
        year: int,
        philox_kinds: np.ndarray | None = None,
    ) -> _YearDraws:
        """Draw the year's arrays and open its day-by-day streams.

        The day-by-day normals come from each classroom's PCG64 stream ``_YEAR + 10 * year +
        2`` (as :func:`~toolkit.model.cohort.draw_year` draws them), or, given
        ``philox_kinds`` (which kinds of :data:`toolkit.engine.kernel_fast.KINDS` to draw),
        from Philox4x32-10 keyed by two 32-bit words of the classroom's seed-sequence child
        ``_YEAR + 10 * year + 3`` (:func:`toolkit.engine.kernel_fast.philox_normals`).
        """
        n, d, t = params.n_students, params.n_domains, params.n_days
        c = len(seeds)
        pre, post = np.empty((c, n)), np.empty((c, n))
        diag, prof = np.empty((c, n, d)), np.empty((c, n, d))
        gumbel, tiebreak = np.empty((c, n, n)), np.empty((c, n))
        daily = []
        base = _cohort._YEAR + 10 * year  # the stream keys of cohort.draw_year
        for i, seed in enumerate(seeds):
            a = stream(seed, base + 0)
            a.standard_normal(out=pre[i])
            a.standard_normal(out=post[i])
            a.standard_normal(out=diag[i])
            a.standard_normal(out=prof[i])
            net = stream(seed, base + 1)
            gumbel[i] = net.gumbel(size=(n, n))
            net.random(out=tiebreak[i])
            if philox_kinds is None:
                daily.append(stream(seed, base + 2))
        teacher = _cohort.draw_teachers(seeds, year)
        per_day = c * n * (3 * d + 1) * 8
        block = max(1, min(t, NOISE_BLOCK_BYTES // max(per_day, 1)))
        if philox_kinds is None:
            buffer = np.empty((c, block, n, 3 * d + 1))
            return cls(pre, post, diag, prof, gumbel, tiebreak, teacher, daily, buffer)
        keys = np.array(
            [
                np.random.SeedSequence(
                    s.entropy, spawn_key=(*s.spawn_key, base + _PHILOX_STREAM)
                ).generate_state(2, np.uint32)
                for s in seeds
            ],
            dtype=np.uint64,
        ).reshape(c, 2)
        lanes = (
            np.repeat(keys[:, 0], n),
            np.repeat(keys[:, 1], n),
            np.tile(np.arange(n, dtype=np.uint64), c),
            np.asarray(philox_kinds, dtype=bool),
        )
        buffer = np.zeros((block, 3 * d + 1, c * n))
        return cls(pre, post, diag, prof, gumbel, tiebreak, teacher, daily, buffer, lanes)

    @property
    def block_days(self) -> int:
        """Most days :meth:`daily_block` can hold."""
        return self.buffer.shape[0 if self.philox else 1]

    def daily_block(self, n_days: int) -> np.ndarray:
        """Draw the next ``n_days`` days of every classroom.

        Returns an array ``(C, n_days, N, 3 D + 1)`` (PCG64) or ``(n_days, 3 D + 1, C * N)``
        (Philox).
        """
        if self.philox:
            k0, k1, student, kinds = self.philox
            d = (self.buffer.shape[1] - 1) // 3
            _kernel_fast.philox_normals(
                k0, k1, student, self.next_day, n_days, d, kinds, self.buffer
            )
            self.next_day += n_days
            return self.buffer[:n_days]
        for i, rng in enumerate(self.daily_streams):
            rng.standard_normal(out=self.buffer[i, :n_days])
        return self.buffer[:, :n_days]


def _segments(n_days: int, regroup_interval: int, block: int) -> list[tuple[int, int]]:
    """Split a year into runs of days with fixed groups and at most ``block`` days each."""
    cuts = {0, n_days}
    if regroup_interval:
        cuts.update(range(regroup_interval, n_days, regroup_interval))
    cuts.update(range(block, n_days, block))
    edges = sorted(cuts)
    return list(itertools.pairwise(edges))


def _kernel_par(params: Parameters, regime: Regime):
    """Scalar parameters of the compiled kernels (a ``KernelParams``), from the shared kwargs."""
    kernel = _load_kernel()
    return kernel.KernelParams(**{k: float(v) for k, v in kernel_values(params, regime).items()})


def kernel_values(params: Parameters, regime: Regime) -> dict[str, float]:
    """Every scalar the day's mechanisms read, by name, in the kernel's order (``PAR_NAMES``).

    They are the keyword arguments of the shared day steps (:func:`shared.plan_kwargs`,
    :func:`shared.choose_kwargs`, :func:`shared.learn_kwargs`) and of
    :func:`~toolkit.model.mechanisms.update_estimate`; a test checks that the kernel's
    parameter list is exactly this set, so no parameter can be added to the mechanisms and
    forgotten in the compiled transcription.
    """
    p = params
    values = {
        **plan_kwargs(p, regime),
        **choose_kwargs(p, regime),
        **learn_kwargs(p, regime),
        "daily_pace": p.daily_pace,
        "monitoring_rate": p.monitoring_rate,
        "diagnostic_noise": p.diagnostic_noise,
        "judgement_bias": p.judgement_bias,
    }
    return {k: values[k] for k in _load_kernel().PAR_NAMES}


@dataclass
class _ArmState:
    """What one arm carries from day to day and year to year within a chunk."""

    schedule: list[Regime]
    skill: np.ndarray
    engagement: np.ndarray
    sr: np.ndarray
    interest: np.ndarray
    frames: list[pd.DataFrame]


def _simulate_chunk(
    schedules: list[list[Regime]],
    params: Parameters,
    seeds: list,
    cohorts: list[Cohort] | None,
    which: str,
    record: list[list] | None = None,
) -> list[pd.DataFrame]:
    """Simulate one chunk of classrooms under every schedule; one student table per schedule.

    The arms share everything drawn from the seeds (the students, each year's draws, the daily
    blocks), which are drawn once and reused: each arm gets exactly the numbers it would get
    alone, so the result equals one call per arm. With ``record`` (one list per schedule; the
    ``"numpy"`` or ``"exact"`` kernel), every day's start-of-day skills and learning factors
    (:class:`~toolkit.model.mechanisms.Channels`) are appended to it: the numpy kernel's own
    arrays, or views of what the exact kernel recorded (:data:`toolkit.engine.kernel.
    RECORD_PER_DOMAIN`), the values each kernel composed its gains of.
    """
    if record is not None and which not in ("numpy", "exact"):
        raise ValueError("recording the learning factors needs the 'numpy' or 'exact' kernel")
    compiled = which != "numpy"
    philox = which == "fast" and FAST_DRAWS == "philox"
    # the kinds of daily draws any arm uses (the others are not drawn; see kernel_fast.KINDS)
    kinds = np.array(
        [
            any(r.learner_goal_control != 0 for s in schedules for r in s),
            any(r.learner_path_control != 0 for s in schedules for r in s),
            True,
            True,
        ]
    )
    p = params
    n, d, t_days = p.n_students, p.n_domains, p.n_days
    c = len(seeds)
    if cohorts is None:
        cohorts = [draw_cohort(p, s) for s in seeds]
    cohort = Cohort.stack(cohorts)
    if cohort.skill.shape[1:] != (n, d):
        raise ValueError(
            f"cohorts: skills have shape {cohort.skill.shape[1:]}, but the parameters say "
            f"n_students = {n} and {d} domains."
        )
    aptitude = np.ascontiguousarray(cohort.aptitude)
    calibration = np.ascontiguousarray(cohort.calibration)
    school_effect = cohort.school_effect
    core = np.array(p.core_mask)
    curriculum = curriculum_weights(p)
    log_curriculum = tuple(float(x) for x in np.log(curriculum))  # a tuple: see kernel
    arms = [
        _ArmState(
            schedule,
            np.array(cohort.skill, dtype=float, order="C"),
            np.full((c, n), initial_engagement(p)),
            np.array(cohort.self_regulation, dtype=float, order="C"),
            np.array(cohort.interest, dtype=float, order="C"),
            [],
        )
        for schedule in schedules
    ]
    for year in range(len(schedules[0])):
        draws = _YearDraws.draw(p, seeds, year, kinds if philox else None)
        quality = mech.instruction_quality(
            draws.teacher, school_effect, p.teacher_effect_sd, p.school_effect_sd
        )
        years = [_ArmYear.start(arm, year, p, draws, core, compiled, quality) for arm in arms]
        for d0, d1 in _segments(t_days, p.regroup_interval, draws.block_days):
            noise = draws.daily_block(d1 - d0)
            if which == "fast" and not philox:  # the exact kernel's draws, in the fast layout
                noise = np.ascontiguousarray(noise.transpose(1, 3, 0, 2)).reshape(
                    d1 - d0, 3 * d + 1, c * n
                )
            for ai, (arm, ay) in enumerate(zip(arms, years, strict=True)):
                if d0 > 0 and p.regroup_interval and d0 % p.regroup_interval == 0:
                    ay.regroup(p, draws.tiebreak, core, quality)
                if which in ("fast", "exact"):
                    ay.estimate = np.ascontiguousarray(ay.estimate)
                    # the same arguments for both compiled kernels but the daily draws: the
                    # fast kernel's block in its own layout, the exact kernel's whole buffer
                    # (contiguous; the block is its first d1 - d0 days)
                    run = _kernel_fast.run_days_fast if which == "fast" else _kernel.run_days
                    # the exact kernel also records the days' factors when asked
                    extra = () if which == "fast" else _record_buffer(record, d1 - d0, c, n, d)
                    run(
                        arm.skill,
                        arm.engagement,
                        arm.sr,
                        arm.interest,
                        ay.estimate,
                        ay.sums["engagement"],
                        ay.sums["fit"],
                        ay.sums["on_task"],
                        ay.sums["core_time"],
                        ay.sums["peer"],
                        ay.start_skill,
                        aptitude,
                        calibration,
                        np.ascontiguousarray(ay.interest_est),
                        np.ascontiguousarray(draws.diagnostic),
                        np.ascontiguousarray(ay.groups, dtype=np.int64),
                        ay.g,
                        np.ascontiguousarray(ay.tau, dtype=float),
                        np.ascontiguousarray(ay.eff, dtype=float),
                        np.ascontiguousarray(ay.coop, dtype=float),
                        np.ascontiguousarray(ay.ptch, dtype=float),
                        np.ascontiguousarray(ay.sup, dtype=float),
                        ay.peers_c,
                        noise if which == "fast" else draws.buffer,
                        d1 - d0,
                        year * t_days + d0,
                        log_curriculum,
                        core,
                        ay.par,
                        *extra,
                    )
                    if record is not None:
                        record[ai].extend(_recorded_days(extra[1], d))
                else:
                    arm.skill, arm.engagement, arm.sr, arm.interest, ay.estimate = _days_numpy(
                        p,
                        ay.regime,
                        year,
                        d0,
                        noise,
                        arm.skill,
                        arm.engagement,
                        arm.sr,
                        arm.interest,
                        ay.estimate,
                        ay.sums,
                        ay.start_skill,
                        aptitude,
                        calibration,
                        ay.interest_est,
                        draws.diagnostic,
                        ay.groups,
                        ay.g,
                        ay.tau,
                        ay.eff,
                        ay.coop,
                        ay.ptch,
                        ay.sup,
                        ay.peers,
                        curriculum,
                        core,
                        None if record is None else record[ai],
                    )
        for arm, ay in zip(arms, years, strict=True):
            score = mech.test_score(arm.skill, core, draws.posttest_error, p.test_error_sd)
            arm.frames.append(
                year_table(
                    p,
                    year,
                    ay.regime.name,
                    ay.groups,
                    ay.prior,
                    score,
                    ay.start_skill,
                    arm.skill,
                    ay.sums["engagement"] / t_days,
                    ay.sums["fit"] / t_days,
                    ay.sums["on_task"] / t_days,
                    ay.sums["core_time"] / t_days,
                    ay.sums["peer"],
                    ay.sr_start,
                    arm.sr.copy(),  # sr and interest are updated in place next year
                    arm.interest.copy(),
                )
            )
    return [pd.concat(arm.frames, ignore_index=True) for arm in arms]


_NOTHING_RECORDED = np.empty((0, 0, 0, 0))


def _record_buffer(record: list | None, days: int, c: int, n: int, d: int) -> tuple:
    """Return the exact kernel's last two arguments: whether to record, and where."""
    if record is None:
        return (False, _NOTHING_RECORDED)
    from toolkit.engine.kernel import RECORD_PER_DOMAIN, RECORD_PER_STUDENT

    return (True, np.empty((days, c, n, len(RECORD_PER_DOMAIN) * d + len(RECORD_PER_STUDENT))))


def _recorded_days(rec: np.ndarray, d: int) -> list[tuple[np.ndarray, mech.Channels]]:
    """Each day's (start-of-day skills, Channels) from the exact kernel's record, as views."""
    from toolkit.engine.kernel import RECORD_PER_DOMAIN, RECORD_PER_STUDENT

    days = []
    for t in range(rec.shape[0]):
        day = rec[t]
        fields = {k: day[..., i * d : (i + 1) * d] for i, k in enumerate(RECORD_PER_DOMAIN)}
        o = len(RECORD_PER_DOMAIN) * d
        fields |= {k: day[..., o + j] for j, k in enumerate(RECORD_PER_STUDENT)}
        skill = fields.pop("skill")
        days.append((skill, mech.Channels(**fields)))
    return days


@dataclass
class _ArmYear:
    """One arm's school year in a chunk: the system's picture, groups, network and running sums."""

    regime: Regime
    g: int
    start_skill: np.ndarray
    sr_start: np.ndarray
    prior: np.ndarray
    estimate: np.ndarray
    interest_est: np.ndarray
    profile: np.ndarray
    groups: np.ndarray
    tau: np.ndarray
    eff: np.ndarray
    coop: np.ndarray
    ptch: np.ndarray
    sup: np.ndarray
    peers: np.ndarray
    peers_c: np.ndarray | None
    par: tuple | None
    sums: dict[str, np.ndarray]

    @classmethod
    def start(
        cls,
        arm: _ArmState,
        year: int,
        p: Parameters,
        draws: _YearDraws,
        core: np.ndarray,
        compiled: bool,
        quality: np.ndarray,
    ) -> _ArmYear:
        """Start the year with :func:`toolkit.model.shared.start_year` (as the Mesa model does)."""
        regime = arm.schedule[year]
        n = p.n_students
        c = arm.skill.shape[0]
        start = shared.start_year(
            p,
            regime,
            arm.skill,
            arm.interest,
            draws.pretest_error,
            draws.diagnostic,
            draws.profile,
            draws.gumbel,
            draws.tiebreak,
            core,
            quality,
        )
        sums = {k: np.zeros((c, n)) for k in ("engagement", "fit", "on_task", "core_time", "peer")}
        peers_c = np.ascontiguousarray(start.peers, dtype=np.int64) if compiled else None
        par = _kernel_par(p, regime) if compiled else None
        ins = start.instruction
        return cls(
            regime,
            min(regime.n_groups, n),
            arm.skill.copy(),
            arm.sr.copy(),
            start.prior,
            start.estimate,
            start.interest_estimate,
            start.profile,
            ins.groups,
            ins.direct_time,
            ins.direct_efficacy,
            ins.cooperation,
            ins.practice_teacher,
            ins.supervision,
            start.peers,
            peers_c,
            par,
            sums,
        )

    def regroup(
        self, p: Parameters, tiebreak: np.ndarray, core: np.ndarray, quality: np.ndarray
    ) -> None:
        """Re-form the groups from the current estimates (as ``Teacher.form_groups``)."""
        ins = shared.form_instruction(
            p, self.regime, self.estimate, self.profile, tiebreak, core, quality
        )
        self.groups, self.tau, self.eff = ins.groups, ins.direct_time, ins.direct_efficacy
        self.coop, self.ptch, self.sup = ins.cooperation, ins.practice_teacher, ins.supervision


def _days_numpy(
    p: Parameters,
    regime: Regime,
    year: int,
    d0: int,
    noise_block: np.ndarray,
    skill: np.ndarray,
    engagement: np.ndarray,
    sr: np.ndarray,
    interest: np.ndarray,
    estimate: np.ndarray,
    sums: dict[str, np.ndarray],
    start_skill: np.ndarray,
    aptitude: np.ndarray,
    calibration: np.ndarray,
    interest_est: np.ndarray,
    diag: np.ndarray,
    groups: np.ndarray,
    g: int,
    tau: np.ndarray,
    eff: np.ndarray,
    coop: np.ndarray,
    ptch: np.ndarray,
    sup: np.ndarray,
    peers: np.ndarray,
    curriculum: np.ndarray,
    core: np.ndarray,
    record: list | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run the days of one block with the shared numpy mechanisms (the Mesa model's order).

    With ``record`` (a list), each day's :class:`~toolkit.model.mechanisms.Channels` and
    start-of-day skills are appended to it, for the mechanism decomposition.
    """
    c, n = groups.shape
    d = p.n_domains
    lk, ck, pk = learn_kwargs(p, regime), choose_kwargs(p, regime), plan_kwargs(p, regime)
    rows = np.arange(c)[:, None, None]
    direct_time = np.broadcast_to(tau[:, None], (c, n))
    peer_weight = np.ones(peers.shape)
    for k in range(noise_block.shape[1]):
        day = d0 + k
        noise = noise_block[:, k]
        standard = np.full(d, shared.grade_standard(p, year, day))
        # teacher.plan_day
        plan = mech.system_plan(estimate, interest_est, groups, g, curriculum, core, standard, **pk)
        # students.choose
        alloc, level = mech.student_choose(
            plan.allocation,
            plan.practice_level,
            skill,
            interest,
            sr,
            calibration,
            noise[..., :d],
            noise[..., d : 2 * d],
            core,
            **ck,
        )
        # teacher.gather
        gmeans, _ = mech.group_mean(alloc, groups, g)
        group_alloc = np.take_along_axis(gmeans, groups[..., None], axis=-2)
        group_off = shared.group_disengagement(engagement, groups, g)
        # students.learn, then commit
        out = mech.student_learn(
            skill,
            start_skill,
            aptitude,
            interest,
            engagement,
            sr,
            alloc,
            group_alloc,
            plan.direct_level,
            level,
            direct_time,
            eff,
            coop,
            ptch,
            sup,
            group_off,
            skill[rows, peers],
            alloc[rows, peers],
            peer_weight,
            shared.class_disengagement(engagement),
            noise[..., 3 * d],
            core,
            **lk,
        )
        if record is not None:
            record.append((skill, out.channels))
        skill, engagement, sr, interest = (
            out.skill,
            out.engagement,
            out.self_regulation,
            out.interest,
        )
        sums["engagement"] += engagement
        sums["fit"] += out.fit
        sums["on_task"] += out.channels.on_task
        sums["core_time"] += out.core_time
        sums["peer"] += out.peer.sum(axis=-1)
        # teacher.observe
        estimate = mech.update_estimate(
            estimate,
            skill,
            noise[..., 2 * d : 3 * d],
            diag,
            p.daily_pace,
            p.monitoring_rate,
            p.diagnostic_noise,
            p.judgement_bias,
        )
    return skill, engagement, sr, interest, estimate
