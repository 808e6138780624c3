"""Where a claim breaks: PRIM (and the decision tree) recover a planted failure box."""

import re

import numpy as np
import pandas as pd
import pytest

from toolkit.robustness.analysis import claim_share, failure_region, wilson_interval
from toolkit.robustness.models import PlantedBox


@pytest.mark.parametrize("method", ["prim", "tree"])
def test_planted_box_is_recovered_through_the_study_path(study, run, method):
    """1,000 random points; the claim 'f < 0.5' fails exactly in 0.2 < u1 < 0.5, u2 > 0.7."""
    spec = study(
        {
            "model": "planted_box",
            "design": "random",
            "n": 1000,
            "claims": ["f < 0.5 on y"],
            "region": {"method": method, "max_dims": 3, "min_density": 0.8},
        }
    )
    result = run(spec, name=method)
    regions = pd.read_csv(result.folder / "regions.csv").set_index("parameter")
    assert set(regions.index) == {"u1", "u2"}  # u3, u4 are never read
    assert regions.loc["u1", "low"] == pytest.approx(0.2, abs=0.03)
    assert regions.loc["u1", "high"] == pytest.approx(0.5, abs=0.03)
    assert regions.loc["u2", "low"] == pytest.approx(0.7, abs=0.03)
    assert np.isnan(regions.loc["u2", "high"])  # open above: u2 up to its bound
    claim = result.summary.iloc[0]
    assert claim["coverage"] > 0.85 and claim["density"] > 0.85
    assert claim["share"] == pytest.approx(1 - 0.3 * 0.3, abs=0.03)
    assert claim["region"].startswith("fails when ")
    assert re.search(r"0\.[12]\d* < u1 < 0\.[45]\d* and u2 > 0\.[67]", claim["region"]), claim[
        "region"
    ]
    assert set(PlantedBox.box) == set(regions.index)


def test_no_region_when_a_claim_never_or_always_fails():
    x = pd.DataFrame({"a": np.linspace(0, 1, 50)})
    assert failure_region(x, np.ones(50, bool), x) is None
    assert failure_region(x, np.zeros(50, bool), x) is None


def test_share_uses_independent_points_with_a_wilson_interval():
    rows = pd.DataFrame({"holds": [True, False, True, True] * 5,
                         "decided": ["holds", "fails", "undecided", "holds"] * 5})  # fmt: skip
    mask = np.array([True, True, False, False] * 5)
    s = claim_share(rows, mask)
    assert s["n_points"] == 10 and s["share"] == 0.5
    assert (s["share_low"], s["share_high"]) == wilson_interval(5, 10)
    assert s["decided_true"] == 0.5 and s["decided_false"] == 0.5
    # Wilson (1927) for 8/10 at 95%, as R's prop.test(8, 10, correct = FALSE)$conf.int
    assert wilson_interval(8, 10) == pytest.approx((0.4901625, 0.9433178), abs=1e-6)
