"""Noncentral-t intervals for large samples, where scipy's nct.cdf returns NaN in the tail.

Reference values: tests/reference/metrics_nct_large.R (R's pt with uniroot, as MBESS).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.metrics import compare_groups, noncentral_t_ci

REF = json.loads((Path(__file__).parents[1] / "reference" / "metrics_nct_large.json").read_text())


@pytest.mark.parametrize("case", REF, ids=lambda c: f"t={c['t']},df={c['dof']}")
def test_large_dof_matches_r(case):
    lo, hi = noncentral_t_ci(case["t"], case["dof"])
    assert lo == pytest.approx(case["ncp_low"], abs=1e-9)
    assert hi == pytest.approx(case["ncp_high"], abs=1e-9)


def test_compare_groups_on_survey_sized_data():
    rng = np.random.default_rng(0)
    n = 1400
    df = pd.DataFrame(
        {
            "group": ["a"] * n + ["b"] * n,
            "y": np.r_[rng.normal(0, 1, n), rng.normal(0.19, 1, n)],
        }
    )
    res = compare_groups(df, "y", "group", reference="a")
    row = res.iloc[0]
    assert np.isfinite([row.d_ci_low, row.d_ci_high, row.g_ci_low, row.g_ci_high]).all()
    assert row.d_ci_low < row.cohen_d < row.d_ci_high
