r"""Compiled replay of the mechanism decomposition: every coalition's school year at once (numba).

The decomposition (:mod:`toolkit.study.decompose`) replays the days of two arms with each
channel's factors taken from one arm or the other, for all :math:`2^K` coalitions of the
:math:`K` channels. Each day's gain is a sum of terms, each a base times one factor per channel
it involves (:func:`toolkit.model.mechanisms.gain_terms`); the coalitions share the products of
their first channels, so a term is built channel by channel, doubling the coalitions filled at
each channel (the first half keeps the factor of arm A, the second takes arm B's). In numpy that
is about 400 operations on arrays of 64 coalitions per element and day, most of the time spent
moving arrays of a megabyte through the cache; :func:`replay_coalitions` does the same
operations on a block of elements that stays in registers and the first-level cache.

It is a transcription, not another formula: every product and sum has the operands and the
order of :func:`toolkit.study.decompose._coalition_gain` and ``_replay`` (IEEE multiplication
and addition of two numbers round the same wherever they are computed, and nothing here is
reassociated or fused: no fast-math flag), so the replayed skills are the numpy replay's bit for
bit (``tests/test_decompose.py`` compares the two, with and without forgetting).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["ABSENT", "BLOCK", "PER_ELEMENT", "PER_STUDENT", "replay_coalitions"]

#: Kinds of a term's factor of one channel (``kinds`` of :func:`replay_coalitions`).
ABSENT, PER_ELEMENT, PER_STUDENT = 0, 1, 2

#: Elements (student x domain) replayed together (``block`` of :func:`replay_coalitions`): their
#: coalitions' skills and products stay in the first-level cache (64 coalitions x 16 elements x
#: 8 bytes x 4 arrays = 32 KB). It is an argument, not a constant, so that the element loops
#: keep a run-time length: LLVM then vectorizes them instead of unrolling them into scalars.
BLOCK = 16


@njit(cache=True, inline="always")
def _at(i):
    """Return an index as an unsigned integer: no wraparound test, so the loops vectorize."""
    return np.uint64(i)


@njit(cache=True, inline="always")
def _copy(x, src, dst, blk):
    """``x[dst:dst + B] = x[src:src + B]``."""
    for j in range(blk):
        x[_at(dst + j)] = x[_at(src + j)]


@njit(cache=True, inline="always")
def _add(acc, a, x, b, blk):
    """``acc[a:a + B] += x[b:b + B]`` (one IEEE addition per element)."""
    for j in range(blk):
        acc[_at(a + j)] = acc[_at(a + j)] + x[_at(b + j)]


@njit(cache=True, inline="always")
def _split(x, ia, ib, f, fa, fb, blk):
    """``x[ib..] = x[ia..] * f[fb..]``, then ``x[ia..] = x[ia..] * f[fa..]``."""
    for j in range(blk):
        v = x[_at(ia + j)]
        x[_at(ib + j)] = v * f[_at(fb + j)]
        x[_at(ia + j)] = v * f[_at(fa + j)]


@njit(cache=True, nogil=True)
def replay_coalitions(
    skill0,
    bases,
    kinds,
    index,
    fe_a,
    fs_a,
    fe_b,
    fs_b,
    n_domains,
    year_start,
    forgetting,
    forget_bits,
    tau_a,
    ga_a,
    al_a,
    tau_b,
    ga_b,
    al_b,
    end,
    start,
    block,
):
    r"""Replay the days of every coalition of channels from the factors of arms A and B.

    With :math:`x^{(c)}_{m}` the product of term :math:`c` for coalition :math:`m` (its base
    times, channel by channel in order, the factor of arm B where bit :math:`k` of :math:`m` is
    set and of arm A otherwise), each day's skill is
    :math:`S_m \leftarrow S_m + ((x^{(0)}_m + x^{(1)}_m) + x^{(2)}_m + \dots)`, less forgetting
    :math:`\omega (1 - t_m)(S_m - S^0_m)` with :math:`t_m = \tau_m \bar\pi_m + (1 - \tau_m)
    \pi_m` from the coalition's arms when :math:`\omega > 0`; :math:`S^0_m` is the skill at the
    start of the school year.

    Parameters
    ----------
    skill0 : ndarray, shape (E,)
        Skills on the first day (elements: classrooms x students x domains, flattened).
    bases : ndarray, shape (terms, E)
        Each term's base.
    kinds : ndarray of int64, shape (terms, K)
        For each term and channel: :data:`ABSENT` (the term does not involve the channel),
        :data:`PER_ELEMENT` (a factor per element, in ``fe_*``) or :data:`PER_STUDENT` (one per
        student, in ``fs_*``, the same in every domain).
    index : ndarray of int64, shape (terms, K)
        Where the factor is along the second axis of ``fe_*`` or ``fs_*``.
    fe_a, fe_b : ndarray, shape (T, F_e, E)
        Factors per element and day, of arms A and B.
    fs_a, fs_b : ndarray, shape (T, F_s, E // n_domains)
        Factors per student and day.
    n_domains : int
    year_start : ndarray of bool, shape (T,)
        Days that start a school year (the start skills are taken there).
    forgetting : float
        :math:`\omega` (``forgetting_rate``); 0 skips the forgetting term.
    forget_bits : ndarray of int64, shape (2,)
        The channels of :math:`\tau` and of the time shares :math:`\bar\pi, \pi`.
    tau_a, tau_b : ndarray, shape (T, E // n_domains)
        Direct-instruction time (read only when ``forgetting`` > 0).
    ga_a, al_a, ga_b, al_b : ndarray, shape (T, E)
        The group's and one's own time shares (read only when ``forgetting`` > 0).
    end, start : ndarray, shape (2 ** K, E)
        Filled with every coalition's skills at the end and at the start of the last year.
    block : int
        Elements replayed together (:data:`BLOCK`); any value gives the same numbers.
    """
    n_days = fe_a.shape[0]
    n_terms, n_ch = kinds.shape
    n_coal = end.shape[0]
    n_el = skill0.shape[0]
    n_fe, n_fs = fe_a.shape[1], fs_a.shape[1]
    blk = block
    # flat buffers of the block: row m (a coalition) holds its B elements at m * B
    skill = np.zeros(n_coal * blk)
    first = np.zeros(n_coal * blk)
    total = np.zeros(n_coal * blk)
    x = np.zeros(n_coal * blk)
    base = np.zeros(n_terms * blk)
    # the day's factors of the block's elements: factor f of arm A at (2 f) B, of B at (2 f + 1) B
    # (zero past the last element); per-element factors first, then per-student ones
    fac = np.zeros(2 * (n_fe + n_fs) * blk)
    for e0 in range(0, n_el, blk):
        nb = min(blk, n_el - e0)
        for m in range(n_coal):
            for j in range(nb):
                skill[m * blk + j] = skill0[e0 + j]
                first[m * blk + j] = skill0[e0 + j]
        for c in range(n_terms):
            for j in range(nb):
                base[c * blk + j] = bases[c, e0 + j]
        for t in range(n_days):
            if year_start[t] and t > 0:
                for i in range(n_coal * blk):
                    first[i] = skill[i]
            for f in range(n_fe):
                for j in range(nb):
                    fac[2 * f * blk + j] = fe_a[t, f, e0 + j]
                    fac[(2 * f + 1) * blk + j] = fe_b[t, f, e0 + j]
            for f in range(n_fs):
                row = n_fe + f
                for j in range(nb):
                    s = (e0 + j) // n_domains
                    fac[2 * row * blk + j] = fs_a[t, f, s]
                    fac[(2 * row + 1) * blk + j] = fs_b[t, f, s]
            for c in range(n_terms):
                for j in range(blk):
                    x[j] = base[c * blk + j]
                size = 1
                for k in range(n_ch):
                    kind = kinds[c, k]
                    if kind == ABSENT:
                        for m in range(size):
                            _copy(x, m * blk, (m + size) * blk, blk)
                    else:
                        row = index[c, k] + (n_fe if kind == PER_STUDENT else 0)
                        for m in range(size):
                            _split(x, m * blk, (m + size) * blk, fac, 2 * row * blk,
                                   (2 * row + 1) * blk, blk)  # fmt: skip
                    size *= 2
                if c == 0:
                    for i in range(n_coal * blk):
                        total[i] = x[i]
                else:
                    for m in range(n_coal):
                        _add(total, m * blk, x, m * blk, blk)
            if forgetting == 0.0:
                for m in range(n_coal):
                    _add(skill, m * blk, total, m * blk, blk)
            else:
                for m in range(n_coal):
                    tau_b_m = (m >> forget_bits[0]) & 1
                    time_b_m = (m >> forget_bits[1]) & 1
                    for j in range(nb):
                        e = e0 + j
                        s = e // n_domains
                        tau = tau_b[t, s] if tau_b_m else tau_a[t, s]
                        ga = ga_b[t, e] if time_b_m else ga_a[t, e]
                        al = al_b[t, e] if time_b_m else al_a[t, e]
                        t_total = tau * ga + (1.0 - tau) * al
                        i = m * blk + j
                        new = skill[i] + total[i]
                        new = new - forgetting * (1.0 - t_total) * (skill[i] - first[i])
                        skill[i] = new
        for m in range(n_coal):
            for j in range(nb):
                end[m, e0 + j] = skill[m * blk + j]
                start[m, e0 + j] = first[m * blk + j]
