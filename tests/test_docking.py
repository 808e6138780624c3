"""Exact docking of the vectorized engine against the Mesa model (same classroom seeds).

What is guaranteed on every machine, and tested everywhere:

- the engine, with either kernel, equals the Mesa model to ``rtol=1e-12`` (``atol=1e-12`` for
  quantities that are differences near 0, like ``gain``), for every regime preset, a blend, a
  multi-year schedule and non-default parameters;
- results do not depend on the chunk size, the block size of the daily draws or on which arms
  run together (bit for bit, for a given kernel on a given machine);
- the ``"fast"`` kernel, fed the exact kernel's draws instead of its own, reproduces the exact
  kernel to ``rtol=1e-10`` for every case and with every parameter and axis moved (its own
  draws are other numbers from the same distributions: ``test_docking_distribution.py``);
  its ``exp``, ``log``, Philox generator and normals are checked against references.

Two stronger properties hold only where numpy's elementary functions behave in a particular way
(:func:`toolkit.engine.docking.bitwise_properties` probes them), and are tested only there, with
a skip that says why elsewhere:

- the ``"numpy"`` kernel reproduces the Mesa model bit for bit (numpy's ``exp``/``log`` give an
  element the same result whatever the array's length);
- the ``"numba"`` kernel reproduces the numpy kernel bit for bit once group means are summed in
  student order (numpy's ``exp`` is the C library's: not on x86-64 with AVX-512, where numpy
  dispatches its own SIMD ``exp``; ``.ci/run`` also runs the suite with that dispatch off).

The distributional docking on independent seeds, and its power, are in
``test_docking_distribution.py``.
"""

import inspect
import sys

import numpy as np
import pandas as pd
import pytest

import toolkit.engine.fast as fast
from toolkit.engine import simulate_batch
from toolkit.engine.docking import bitwise_properties
from toolkit.model import Parameters, classroom_seed, draw_cohort
from toolkit.model import mechanisms as mech
from toolkit.model.model import simulate_classroom
from toolkit.model.shared import STUDENT_COLUMNS

#: Bit-for-bit and docking checks: CI runs them again with numpy's AVX-512 dispatch off.
pytestmark = pytest.mark.numerics

numba_installed = fast._load_kernel() is not None
needs_numba = pytest.mark.skipif(not numba_installed, reason="numba is not installed")
_BITWISE = bitwise_properties()
numpy_is_mesa_bitwise = pytest.mark.skipif(
    not _BITWISE["numpy_kernel_is_mesa"][0],
    reason="not bit for bit on this machine: " + _BITWISE["numpy_kernel_is_mesa"][1],
)
numba_is_numpy_bitwise = pytest.mark.skipif(
    not _BITWISE["numba_kernel_is_numpy"][0],
    reason="not bit for bit on this machine: " + _BITWISE["numba_kernel_is_numpy"][1],
)

BASE = {"n_students": 12, "n_days": 40, "peer_ties": 3}
NINE = tuple(f"d{k}" for k in range(9))  # > 8 domains: numpy's 8-way pairwise sums
CASES = {
    "standardized": ("standardized", {}),
    "individualized": ("individualized", {}),
    "personalized": ("personalized", {}),
    "personal": ("personal", {}),
    "blend": ("blend(personalized, personal, 0.5)", {}),
    "schedule": (["individualized", "blend(personalized, personal, 0.5)", "personal"], {}),
    "regroup_30": ("individualized", {"regroup_interval": 30}),
    "forgetting": ("personal", {"forgetting_rate": 0.01}),
    "five_groups": ({"base": "personalized", "n_groups": 5}, {}),
    "capacity_2": ("individualized", {"teacher_capacity": 2.0}),
    "nine_domains": ("personalized", {"domains": NINE, "core_domains": NINE[:3]}),
    "no_peers": ("personal", {"peer_ties": 0, "regroup_interval": 20}),
    "core_limits": ("personal", {"core_floor": 0.45, "core_ceiling": 0.6}),
    "grouping_alone": (
        {"base": "standardized", "n_groups": 3, "grouping": "ability", "path_adaptation": 1.0},
        {},
    ),
    "mixed_control": (
        {
            "base": "personalized",
            "learner_goal_control": 0.5,
            "remediation": 0.5,
            "practice_individualization": 0.5,
            "scaffolding": 0.1,
        },
        {"interest_rate": 0.02, "disruption": 0.05},
    ),
    "static_interests": ("personal", {"interest_rate": 0.0, "disruption": 0.0}),
    # issue 17: schools shared by classrooms, teachers per year, every new mechanism moved
    "schools": (
        ["individualized", "personal"],
        {
            "classrooms_per_school": 2,
            "school_effect_sd": 0.2,
            "school_share": 0.7,
            "teacher_effect_sd": 0.5,
            "group_expectation": 0.3,
            "cooperative_learning": 0.8,
            "strategy_use": 1.5,
            "room_disruption": 0.6,
            "supervision_availability": 0.8,
            "learner_plan_cost": 0.9,
        },
    ),
}
KEY = ["classroom", "year", "student"]


def mesa_table(regime, params, seeds):
    frames = []
    for i, s in enumerate(seeds):
        one = simulate_classroom(regime, params, s)
        one.insert(0, "classroom", i)
        frames.append(one)
    return pd.concat(frames, ignore_index=True)


def ordered(df):
    return df.sort_values(KEY, kind="stable").reset_index(drop=True)


def assert_docked(a, b, rtol=1e-12, atol=1e-12):
    """Same rows, same labels and integers, floats within rtol (atol for values near 0)."""
    a, b = ordered(a), ordered(b)
    assert list(a.columns) == list(b.columns)
    floats = [c for c in a.columns if a[c].dtype == float]
    others = [c for c in a.columns if c not in floats]
    pd.testing.assert_frame_equal(a[others], b[others], check_exact=True)
    np.testing.assert_allclose(b[floats].to_numpy(), a[floats].to_numpy(), rtol=rtol, atol=atol)


def sequential_group_mean(values, groups, n_groups):
    """mechanisms.group_mean with each group's sum taken in student order (no BLAS)."""
    v = np.asarray(values, dtype=float)
    groups = np.asarray(groups)
    sums = np.zeros((*v.shape[:-2], n_groups, v.shape[-1]))
    sizes = np.zeros((*v.shape[:-2], n_groups))
    for i in range(v.shape[-2]):
        member = groups[..., i, None] == np.arange(n_groups)
        sums = sums + np.where(member[..., None], v[..., i, None, :], 0.0)
        sizes = sizes + member
    return sums / np.maximum(sizes, 1.0)[..., None], sizes.astype(np.int64)


_mesa_cache = {}


def case(name):
    """Regime, parameters, seeds and the Mesa table of a case (computed once)."""
    if name not in _mesa_cache:
        regime, changes = CASES[name]
        params = Parameters(**{**BASE, **changes})
        seeds = [classroom_seed(7, i) for i in range(3)]
        _mesa_cache[name] = (regime, params, seeds, mesa_table(regime, params, seeds))
    return _mesa_cache[name]


@pytest.mark.parametrize("name", list(CASES))
def test_numpy_kernel_docks_with_the_mesa_model(name):
    regime, params, seeds, mesa = case(name)
    engine = simulate_batch(regime, params, seeds, kernel="numpy")
    assert_docked(mesa, engine)


@numpy_is_mesa_bitwise
@pytest.mark.parametrize("name", list(CASES))
def test_numpy_kernel_is_the_mesa_model_bit_for_bit(name):
    regime, params, seeds, mesa = case(name)
    engine = simulate_batch(regime, params, seeds, kernel="numpy")
    pd.testing.assert_frame_equal(ordered(engine), ordered(mesa), check_exact=True)


# every case but nine domains, whose kernel would be compiled anew (about 7 s) for the tuple
# length of 9; the 8-way pairwise sums it needs are checked in test_pairwise_sum_is_numpys
NUMBA_CASES = [name for name in CASES if name != "nine_domains"]


@needs_numba
@pytest.mark.parametrize("name", NUMBA_CASES)
def test_numba_kernel_docks_with_the_mesa_model(name):
    regime, params, seeds, mesa = case(name)
    engine = simulate_batch(regime, params, seeds, kernel="numba")
    assert_docked(mesa, engine)


@needs_numba
@numba_is_numpy_bitwise
@pytest.mark.parametrize("name", ["standardized", "personal", "schedule", "no_peers"])
def test_numba_kernel_is_an_exact_transcription(name, monkeypatch):
    """With group sums in student order in both, the two kernels agree bit for bit."""
    regime, params, seeds, _ = case(name)
    fast_table = simulate_batch(regime, params, seeds, kernel="numba")
    monkeypatch.setattr(mech, "group_mean", sequential_group_mean)
    numpy_table = simulate_batch(regime, params, seeds, kernel="numpy")
    pd.testing.assert_frame_equal(ordered(fast_table), ordered(numpy_table), check_exact=True)


@needs_numba
def test_pairwise_sum_is_numpys():
    """The kernel's sums over domains round exactly as ndarray.sum does, for any length."""
    from toolkit.engine.kernel import _psum

    rng = np.random.default_rng(3)
    for n in range(1, 129):  # the kernel supports up to 128 domains
        a = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n)
        assert _psum(a, n) == a.sum(), n


COMPILED = [pytest.param("numba", marks=needs_numba), pytest.param("fast", marks=needs_numba)]


@pytest.mark.parametrize("kernel", [*COMPILED, "numpy"])
def test_results_do_not_depend_on_chunk_or_block_size(kernel, monkeypatch):
    params = Parameters(n_students=9, n_days=25, peer_ties=2, regroup_interval=7)
    seeds = [classroom_seed(11, i) for i in range(7)]
    schedule = ["individualized", "personal"]
    ref = simulate_batch(schedule, params, seeds, chunk_size=256, kernel=kernel)
    for chunk in (1, 2, 5):
        other = simulate_batch(schedule, params, seeds, chunk_size=chunk, kernel=kernel)
        pd.testing.assert_frame_equal(ordered(other), ordered(ref), check_exact=True)
    monkeypatch.setattr(fast, "NOISE_BLOCK_BYTES", 1)  # one day of draws at a time
    one_day = simulate_batch(schedule, params, seeds, chunk_size=3, kernel=kernel)
    pd.testing.assert_frame_equal(ordered(one_day), ordered(ref), check_exact=True)


def test_classroom_numbers_follow_the_seeds_not_the_batch():
    params = Parameters(n_students=8, n_days=10, peer_ties=2)
    seeds = [classroom_seed(5, i) for i in range(6)]
    whole = simulate_batch("personal", params, seeds, chunk_size=4)
    part = simulate_batch("personal", params, seeds[3:5])
    mine = whole[whole.classroom.isin([3, 4])].reset_index(drop=True)
    part["classroom"] += 3
    pd.testing.assert_frame_equal(mine, part, check_exact=True)


def test_output_columns_and_runner_call():
    params = Parameters(n_students=6, n_days=8, peer_ties=2)
    seeds = [classroom_seed(3, i) for i in range(5)]
    done = []
    df = simulate_batch(
        ["standardized", "personal"], params, seeds, n_years=3, chunk_size=2, progress=done.append
    )
    skills = [f"skill_{d}" for d in params.domains]
    gains = [f"gain_{d}" for d in params.domains]
    interests = [f"interest_{d}" for d in params.domains]
    assert list(df.columns) == ["classroom", *STUDENT_COLUMNS, *skills, *gains, *interests]
    assert done == [2, 2, 1]
    assert len(df) == 5 * 6 * 3
    assert df.groupby("year").regime.first().tolist() == ["standardized", "personal", "personal"]
    assert simulate_batch("personal", params, []).empty


def test_given_cohorts_match_the_mesa_model():
    params = Parameters(n_students=10, n_days=20, peer_ties=3)
    seeds = [classroom_seed(4, i) for i in range(2)]
    cohorts = [draw_cohort(params, classroom_seed(99, i)) for i in range(2)]
    engine = simulate_batch("individualized", params, seeds, cohorts=cohorts, kernel="numpy")
    from toolkit.model import ClassroomModel

    exact = _BITWISE["numpy_kernel_is_mesa"][0]
    for i, (s, c) in enumerate(zip(seeds, cohorts, strict=True)):
        m = ClassroomModel("individualized", params, rng=s, cohort=c, collect=False)
        m.run()
        mine = engine[engine.classroom == i].reset_index(drop=True)
        ref = m.student_table()
        ref.insert(0, "classroom", i)
        assert_docked(ref, mine)
        if exact:  # bit for bit where numpy's functions allow it (see bitwise_properties)
            pd.testing.assert_frame_equal(mine, ref, check_exact=True)
    if numba_installed:
        assert_docked(engine, simulate_batch("individualized", params, seeds, cohorts=cohorts))


def test_bad_arguments():
    params = Parameters(n_students=6, n_days=3, peer_ties=2)
    seeds = [classroom_seed(1, 0)]
    with pytest.raises(ValueError, match="chunk_size"):
        simulate_batch("personal", params, seeds, chunk_size=0)
    with pytest.raises(ValueError, match="kernel"):
        simulate_batch("personal", params, seeds, kernel="cuda")

    with pytest.raises(ValueError, match="cohorts"):
        simulate_batch("personal", params, seeds, cohorts=[])


@pytest.mark.parametrize("kernel", [*COMPILED, "numpy"])
def test_arms_in_one_call_equal_one_call_per_arm(kernel, monkeypatch):
    """Drawing the shared randomness once for all arms gives each arm its own numbers exactly."""
    params = Parameters(n_students=9, n_days=25, peer_ties=2, regroup_interval=7)
    seeds = [classroom_seed(13, i) for i in range(5)]
    arms = {
        "pers": "personal",
        "std": "standardized",
        "sched": ["individualized", "blend(personalized, personal, 0.5)"],
        "ind5": {"base": "individualized", "n_groups": 5},
    }
    monkeypatch.setattr(fast, "NOISE_BLOCK_BYTES", 9 * 13 * 8 * 2 * 4)  # blocks of 4 days
    done = []
    together = fast.simulate_arms(
        arms, params, seeds, n_years=2, chunk_size=2, progress=done.append, kernel=kernel
    )
    assert done == [2, 2, 1]
    assert list(together.arm.cat.categories) == list(arms)
    assert list(together.columns[:2]) == ["arm", "classroom"]
    for name, regime in arms.items():
        alone = simulate_batch(regime, params, seeds, n_years=2, kernel=kernel)
        mine = together[together.arm == name].drop(columns="arm")
        pd.testing.assert_frame_equal(ordered(mine), ordered(alone), check_exact=True)


def test_arms_with_given_cohorts_and_bad_arms():
    params = Parameters(n_students=6, n_days=5, peer_ties=2)
    seeds = [classroom_seed(2, i) for i in range(2)]
    cohorts = [draw_cohort(params, classroom_seed(98, i)) for i in range(2)]
    both = fast.simulate_arms(
        {"a": "personal", "b": "individualized"}, params, seeds, cohorts=cohorts
    )
    alone = simulate_batch("individualized", params, seeds, cohorts=cohorts)
    mine = both[both.arm == "b"].drop(columns="arm").reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, alone, check_exact=True)
    with pytest.raises(ValueError, match="same number of school years"):
        fast.simulate_arms({"a": "personal", "b": ["personal", "standardized"]}, params, seeds)
    with pytest.raises(ValueError, match="non-empty mapping"):
        fast.simulate_arms({}, params, seeds)
    with pytest.raises(ValueError, match="chunk_size"):
        fast.simulate_arms({"a": "personal"}, params, seeds, chunk_size=0)


def test_kernel_reads_exactly_the_parameters_of_the_shared_steps():
    """A parameter added to the mechanisms but not to the compiled kernel fails here."""
    from toolkit.engine.kernel import PAR_NAMES
    from toolkit.model.regimes import PRESETS
    from toolkit.model.shared import choose_kwargs, learn_kwargs, plan_kwargs

    p, r = Parameters(), PRESETS["personal"]
    shared_names = {**plan_kwargs(p, r), **choose_kwargs(p, r), **learn_kwargs(p, r)}
    estimate = {"daily_pace", "monitoring_rate", "diagnostic_noise", "judgement_bias"}
    assert len(set(PAR_NAMES)) == len(PAR_NAMES)
    assert set(PAR_NAMES) == set(shared_names) | estimate


# Every numeric parameter and regime axis, moved from its default: the compiled kernel must
# dock with the numpy kernel each time, so a term transcribed wrongly (or left out) fails.
_MOVE_BASE = {
    "base": "personalized",
    "learner_goal_control": 0.5,
    "remediation": 0.5,
    "practice_individualization": 0.5,
    "scaffolding": 0.1,
}
_MOVE_PARAMS = {"n_students": 9, "n_days": 12, "peer_ties": 3, "regroup_interval": 5}


def _moved_values():
    from toolkit.model.params import plausible_ranges

    r = plausible_ranges()
    for name, row in r.iterrows():
        if name in _MOVE_PARAMS or row.integer:
            continue
        value = row.high if row.default != row.high else row.low
        yield "param", name, float(value)
    for axis, value in {
        "learner_goal_control": 0.9,
        "remediation": 1.5,
        "strength_tailoring": 0.7,
        "path_adaptation": 0.6,
        "practice_individualization": 0.2,
        "learner_path_control": 0.6,
        "n_groups": 4,
        "peer_ability_homophily": 2.0,
        "peer_interest_homophily": 1.0,
        "peer_choice": 0.5,
        "scaffolding": 0.3,
    }.items():
        yield "axis", axis, value


@needs_numba
def test_numba_kernel_docks_for_every_parameter_and_axis_moved():
    seeds = [classroom_seed(21, i) for i in range(2)]
    failures = []
    for kind, name, value in _moved_values():
        changes = dict(_MOVE_PARAMS)
        regime = dict(_MOVE_BASE)
        if kind == "param":
            changes[name] = value
        else:
            regime[name] = value
        params = Parameters(**changes)
        a = simulate_batch(regime, params, seeds, kernel="numpy")
        b = simulate_batch(regime, params, seeds, kernel="numba")
        try:
            assert_docked(a, b)
        except AssertionError:
            failures.append(f"{name}={value}")
    assert not failures, f"numba kernel differs from numpy with {failures}"


# --- the fast kernel ---------------------------------------------------------------------------
FAST_RTOL = 1e-10  # its exp and log are within 2 ulp of the C library's, its divisions by a
# parameter are multiplications by the reciprocal: a year of days stays within 1e-13 here


@needs_numba
@pytest.mark.parametrize("name", NUMBA_CASES)
def test_fast_kernel_reproduces_the_exact_kernel_on_its_draws(name, monkeypatch):
    """Fed the exact kernel's random numbers, the fast transcription computes the same day."""
    regime, params, seeds, mesa = case(name)
    monkeypatch.setattr(fast, "FAST_DRAWS", "numpy")
    engine = simulate_batch(regime, params, seeds, kernel="fast")
    assert_docked(mesa, engine, rtol=FAST_RTOL, atol=FAST_RTOL)


@needs_numba
def test_fast_kernel_docks_for_every_parameter_and_axis_moved(monkeypatch):
    monkeypatch.setattr(fast, "FAST_DRAWS", "numpy")
    seeds = [classroom_seed(21, i) for i in range(2)]
    failures = []
    for kind, name, value in _moved_values():
        changes = dict(_MOVE_PARAMS)
        regime = dict(_MOVE_BASE)
        if kind == "param":
            changes[name] = value
        else:
            regime[name] = value
        params = Parameters(**changes)
        a = simulate_batch(regime, params, seeds, kernel="exact")
        b = simulate_batch(regime, params, seeds, kernel="fast")
        try:
            assert_docked(a, b, rtol=FAST_RTOL, atol=FAST_RTOL)
        except AssertionError:
            failures.append(f"{name}={value}")
    assert not failures, f"fast kernel differs from the exact one with {failures}"


@needs_numba
def test_fast_kernel_reads_every_parameter_the_exact_kernel_reads():
    """Both transcriptions read every field of KernelParams by name (``par.<field>``)."""
    from toolkit.engine import kernel, kernel_fast

    fields = set(kernel.KernelParams._fields)
    for run in (kernel.run_days, kernel_fast.run_days_fast):
        read = set(run.py_func.__code__.co_names) & fields
        assert read == fields, f"{run.__name__} never reads {sorted(fields - read)}"


@needs_numba
def test_fast_kernel_draws_its_own_numbers_deterministically():
    params = Parameters(n_students=9, n_days=20, peer_ties=3)
    seeds = [classroom_seed(3, i) for i in range(4)]
    a = simulate_batch("personal", params, seeds, kernel="fast")
    b = simulate_batch("personal", params, seeds, kernel="fast")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    exact = simulate_batch("personal", params, seeds, kernel="exact")
    # the same students and prior test; other daily draws, so other outcomes
    np.testing.assert_array_equal(a.prior_score, exact.prior_score)
    assert not np.allclose(a.score, exact.score)
    # a regime that uses fewer kinds of draws sees the same numbers of the kinds it uses: the
    # standardized arm alone equals the standardized arm next to the personal one
    both = fast.simulate_arms({"p": "personal", "s": "standardized"}, params, seeds, kernel="fast")
    alone = simulate_batch("standardized", params, seeds, kernel="fast")
    mine = both[both.arm == "s"].drop(columns="arm").reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, alone, check_exact=True)


@needs_numba
def test_philox_known_answers():
    """Random123's known-answer vectors for philox4x32_R(10, ctr, key) (kat_vectors)."""
    from numba import njit

    from toolkit.engine.kernel_fast import philox4x32

    run = njit(lambda c, k: philox4x32(c[0], c[1], c[2], c[3], k[0], k[1]))
    cases = [
        ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
        ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
        (
            [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
            [0xA4093822, 0x299F31D0],
            [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
        ),
    ]
    for ctr, key, want in cases:
        got = run(np.array(ctr, dtype=np.uint64), np.array(key, dtype=np.uint64))
        assert [int(x) for x in got] == want


@needs_numba
def test_fast_exp_and_log_against_the_c_library():
    import math

    from numba import njit

    from toolkit.engine.kernel_fast import exp, exp_bounded, log

    @njit
    def both(x, out_e, out_l):
        for i in range(x.size):
            out_e[i] = exp(x[i])
            out_l[i] = log(x[i])

    @njit
    def bounded(x, out):
        for i in range(x.size):
            out[i] = exp_bounded(x[i])

    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-745.0, 709.7, 20_000),
            rng.uniform(-40.0, 5.0, 20_000),
            rng.uniform(-1e-3, 1e-3, 5_000),
            np.exp(rng.uniform(-700.0, 700.0, 20_000)),
            rng.uniform(0.5, 2.0, 20_000),
        ]
    )
    e, lg = np.empty_like(x), np.empty_like(x)
    both(x, e, lg)
    ref_e = np.array([math.exp(v) if v < 709.7 else math.inf for v in x])
    finite = ref_e < math.inf
    e, ref_e = e[finite], ref_e[finite]
    normal = ref_e > 2.3e-308  # subnormal results carry fewer digits
    np.testing.assert_allclose(e[normal], ref_e[normal], rtol=5e-16, atol=0)
    np.testing.assert_allclose(e[~normal], ref_e[~normal], rtol=0, atol=1e-320)
    xb = np.concatenate([rng.uniform(-707.9, 709.0, 20_000), rng.uniform(-40.0, 1e-12, 20_000)])
    eb = np.empty_like(xb)
    bounded(xb, eb)
    np.testing.assert_allclose(eb, [math.exp(v) for v in xb], rtol=5e-16, atol=0)
    eb = np.empty(4)
    bounded(np.array([-708.5, -1e4, -np.inf, np.nan]), eb)
    np.testing.assert_array_equal(eb[:3], 0.0)
    assert np.isnan(eb[3])
    pos = x > 0
    ref_l = np.array([math.log(v) for v in x[pos]])
    np.testing.assert_allclose(lg[pos], ref_l, rtol=5e-16, atol=1e-300)
    edge = np.array([-np.inf, -800.0, 0.0, 710.0, np.inf, np.nan, -1.0, 5e-324, 1.0])
    e, lg = np.empty_like(edge), np.empty_like(edge)
    both(edge, e, lg)
    np.testing.assert_array_equal(e[:5], [0.0, 0.0, 1.0, np.inf, np.inf])
    assert np.isnan(e[5])
    np.testing.assert_array_equal(lg[[2, 4]], [-np.inf, np.inf])
    assert lg[3] == pytest.approx(math.log(710.0), rel=5e-16)
    assert np.isnan(lg[5]) and np.isnan(lg[6])
    assert lg[7] == math.log(5e-324) and lg[8] == 0.0


@needs_numba
def test_wide_vectors_are_asked_for_in_the_compiled_function_only():
    """The fast kernel asks LLVM for 512-bit vectors through a function attribute, which must
    reach the IR of the function that calls it and no other function."""
    import numba

    from toolkit.engine import kernel_fast as kf

    @numba.njit
    def wide(x):
        kf._prefer_wide_vectors()
        return x * 2.0

    @numba.njit
    def plain(x):
        return x * 2.0

    assert wide(1.5) == 3.0
    assert plain(1.5) == 3.0
    (ir_wide,) = wide.inspect_llvm().values()
    (ir_plain,) = plain.inspect_llvm().values()
    assert '"prefer-vector-width"="512"' in ir_wide
    assert "prefer-vector-width" not in ir_plain
    assert "_prefer_wide_vectors()" in inspect.getsource(kf.run_days_fast.py_func)


@needs_numba
def test_philox_normals_are_standard_normal_and_keyed_by_classroom_day_student_kind():
    from scipy import stats

    from toolkit.engine.kernel_fast import philox_normals

    c, n, d, days = 50, 20, 4, 30
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 2**32, (c, 2)).astype(np.uint64)
    k0, k1 = np.repeat(keys[:, 0], n), np.repeat(keys[:, 1], n)
    student = np.tile(np.arange(n, dtype=np.uint64), c)
    out = np.zeros((days, 3 * d + 1, c * n))
    philox_normals(k0, k1, student, 0, days, d, np.ones(4, dtype=bool), out)
    z = out.ravel()
    assert abs(z.mean()) < 4 / np.sqrt(z.size) and abs(z.var() - 1) < 4 * np.sqrt(2 / z.size)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # no correlation between kinds, days or neighbouring students
    for a, b in [
        (out[:, 0], out[:, 12]),
        (out[1:, 5], out[:-1, 5]),
        (out[:, 8, 1:], out[:, 8, :-1]),
    ]:
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 0.02
    # counter-based: days 10.. drawn alone, and a subset of kinds, give the same numbers
    part = np.zeros((days - 10, 3 * d + 1, c * n))
    philox_normals(k0, k1, student, 10, days - 10, d, np.array([False, False, True, True]), part)
    np.testing.assert_array_equal(part[:, 2 * d :], out[10:, 2 * d :])
    assert not part[:, : 2 * d].any()
    # one classroom alone gets its own numbers, whatever the others
    one = np.zeros((days, 3 * d + 1, n))
    philox_normals(k0[n : 2 * n], k1[n : 2 * n], student[:n], 0, days, d, np.ones(4, bool), one)
    np.testing.assert_array_equal(one, out[:, :, n : 2 * n])


# Issue 17's mechanisms, each moved in turn (the "schools" case above moves them together): the
# engine must dock with the Mesa model every time, and the move must change the numbers (so a
# mechanism the engine left out, or read from the wrong parameter, fails here).
ISSUE17 = {
    "teacher_effect_sd": None,
    "school_effect_sd": None,
    "school_share": None,
    "classrooms_per_school": 2,
    "strategy_use": None,
    "cooperative_learning": None,
    "cooperative_group_size": 3,  # below the groups' size of 4 (12 students in 3 groups)
    "group_expectation": None,
    "room_disruption": None,
    "learner_plan_cost": None,
    "supervision_availability": None,
}
_ISSUE17_BASE = {"n_students": 12, "n_days": 12, "peer_ties": 3, "regroup_interval": 6}
_ISSUE17_REGIME = ["individualized", "personal"]  # groups, then learner-directed work


def _issue17_moves():
    from toolkit.model.params import plausible_ranges

    r = plausible_ranges()
    for name, value in ISSUE17.items():
        if value is None:
            row = r.loc[name]
            value = float(row.high if row.default != row.high else row.low)
        yield name, value


_ISSUE17_SEEDS = [classroom_seed(17, i) for i in range(2)]
_issue17_base = []


@pytest.mark.parametrize(("name", "value"), list(_issue17_moves()))
def test_every_issue17_parameter_moved_in_turn_docks_with_the_mesa_model(name, value):
    if not _issue17_base:
        params = Parameters(**_ISSUE17_BASE)
        _issue17_base.append(
            simulate_batch(_ISSUE17_REGIME, params, _ISSUE17_SEEDS, kernel="numpy")
        )
    params = Parameters(**_ISSUE17_BASE, **{name: value})
    engine = simulate_batch(_ISSUE17_REGIME, params, _ISSUE17_SEEDS, kernel="numpy")
    assert_docked(mesa_table(_ISSUE17_REGIME, params, _ISSUE17_SEEDS), engine)
    base = ordered(_issue17_base[0])["score"]
    assert not np.allclose(ordered(engine)["score"], base, rtol=0, atol=1e-12), (
        f"moving {name} to {value} changed no score: the case does not exercise it"
    )


def test_issue17_moves_cover_every_new_parameter():
    assert {n for n, _ in _issue17_moves()} == set(ISSUE17)
    assert set(ISSUE17) <= set(Parameters.names())


def _forget_kernel(monkeypatch):
    """Make the next ``fast._load_kernel()`` import the kernel modules again (undone after)."""
    import toolkit.engine as engine_pkg

    monkeypatch.setattr(fast, "_kernel_tried", False)
    monkeypatch.setattr(fast, "_kernel", None)
    monkeypatch.setattr(fast, "_kernel_fast", None)
    for name in ("kernel", "kernel_fast"):
        monkeypatch.delitem(sys.modules, f"toolkit.engine.{name}", raising=False)
        monkeypatch.delattr(engine_pkg, name, raising=False)


def test_a_missing_numba_is_remembered_as_no_compiled_kernel(monkeypatch):
    _forget_kernel(monkeypatch)
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba fails
    assert fast._load_kernel() is None
    assert fast._kernel_tried and fast._kernel_fast is None


@needs_numba
def test_another_import_error_propagates_and_is_not_remembered(monkeypatch):
    kernel, kernel_fast = (
        sys.modules["toolkit.engine.kernel"],
        sys.modules["toolkit.engine.kernel_fast"],
    )
    _forget_kernel(monkeypatch)
    # not numba's absence: an import of the kernel itself that fails (interrupted, or racing)
    monkeypatch.setitem(sys.modules, "toolkit.engine.kernel", None)
    with pytest.raises(ImportError, match=r"toolkit\.engine\.kernel"):
        fast._load_kernel()
    assert not fast._kernel_tried  # not cached as "numba is not installed"
    monkeypatch.setitem(sys.modules, "toolkit.engine.kernel", kernel)
    monkeypatch.setitem(sys.modules, "toolkit.engine.kernel_fast", kernel_fast)
    assert fast._load_kernel() is kernel and fast._kernel_fast is kernel_fast
