"""Rank correlations of a design's outputs with its parameters: scipy's Spearman, pair by pair."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from toolkit.robustness.analysis import rank_correlations


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 40),
    st.integers(1, 5),
    st.integers(1, 4),
    st.booleans(),
    st.booleans(),
)
def test_every_pair_is_scipys_spearman(seed, n, k, m, ties, gaps):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n, k)), columns=[f"p{j}" for j in range(k)])
    y = pd.DataFrame(rng.standard_normal((n, m)), columns=[f"claim {j}" for j in range(m)])
    if ties:  # whole-number parameters and rounded outputs
        x["p0"] = rng.integers(0, 3, n)
        y = y.round(0)
    if gaps:  # outputs missing at some points (a claim undefined there)
        y.iloc[rng.integers(0, n, max(1, n // 4)), 0] = np.nan
    got = rank_correlations(x, y)
    assert len(got) == k * m
    assert got["output"].tolist() == [c for c in y.columns for _ in range(k)]
    assert got["parameter"].tolist() == list(x.columns) * m
    for row in got.itertuples():
        yv = y[row.output].to_numpy(dtype=float)
        ok = np.isfinite(yv)
        xv = x[row.parameter].to_numpy(dtype=float)[ok]
        if ok.sum() > 2 and np.ptp(xv) > 0 and np.ptp(yv[ok]) > 0:
            want = stats.spearmanr(xv, yv[ok]).statistic
            assert abs(row.rho - want) <= 1e-12 and row.abs_rho == abs(row.rho)
        else:  # a constant output or parameter, or too few points: no correlation
            assert np.isnan(row.rho)


def test_a_closed_form_case():
    # ranks 1..5 against 5..1: -1; against a permutation with one swap: 1 - 6*2/(5*24) = 0.9
    x = pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [5.0, 4, 3, 2, 1], "c": [1.0, 1, 1, 1, 1]})
    y = pd.DataFrame({"out": [10.0, 20, 40, 30, 50]})
    got = rank_correlations(x, y).set_index("parameter")["rho"]
    assert got["a"] == 0.9 and got["b"] == -0.9 and np.isnan(got["c"])
