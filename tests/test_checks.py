"""The model against what the literature measured (toolkit.calibration.checks), at test size.

Each target and check of toolkit/calibration/data/targets.csv is computed on 120 classrooms with the
same pass rule as the full-size table in docs/odd.md section 10 (``python -m toolkit validate``
and simulations/checks.py): inside the row's range, or within two combined SDs of a row with
only a value and SD. Checks the model is known to miss are marked ``xfail(strict=True)`` with
the reason: they fail now, and the test fails if they start to pass, so the documentation
cannot go stale either way.
"""

import pytest

from toolkit.calibration.checks import CHECKS, SEED, evaluate

CHECKS_BY_NAME = {c.name: c for c in CHECKS}

KNOWN_MISSES = {
    "grouping_by_quintile": "U-shaped: grouping helps the lowest quintile most (whole-class "
    "teaching fits them worst, and in the calibrated model they learn faster); expectations for "
    "low and high groups tilt the profile but do not flatten it (docs/odd.md section 10)",
    "scaffolding_on_test": "a year of scaffolding raises self-regulation by 0.1 on its 0-1 "
    "scale (calibrated); strategy use turns that into about 0.06 SD on a broad test, below the "
    "trials' short, aligned outcomes (docs/odd.md section 10)",
}


@pytest.fixture(scope="module")
def table():
    return evaluate(n_classrooms=120).set_index("name")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(c.name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[c.name]))
        if c.name in KNOWN_MISSES
        else c.name
        for c in CHECKS
    ],
)
def test_model_value_passes_the_published_value(table, name):
    row = table.loc[name]
    assert row["inside"], (name, row["value"], row["se"], row["low"], row["high"])


def test_checks_are_the_targets_files_rows_and_quantities():
    from toolkit.calibration.quantities import QUANTITIES
    from toolkit.calibration.targets import load_targets

    t = load_targets()
    assert [c.name for c in CHECKS] == list(t.index[t["role"].isin(["target", "check"])])
    for c in CHECKS:
        assert c.quantity == t.loc[c.name, "quantity"] and c.quantity in QUANTITIES
    # the revised model's checks, each under the id docs/odd.md uses
    assert {
        "annual_gain",
        "star_kindergarten",
        "teacher_value_added",
        "peer_share",
        "scaffolding_self_regulation",
        "grouping_alone",
        "sorted_vs_random",
        "grouping_by_quintile",
        "individualized",
        "tutoring",
        "scaffolding_on_test",
        "interest_decline",
    } <= {known.name for known in CHECKS}


def test_table_is_the_calibration_registrys_numbers(table):
    """One implementation: the checks table is quantities.compute on the same classrooms."""
    from toolkit.calibration.quantities import compute

    names = ["tutoring", "interest_decline"]
    out = compute([CHECKS_BY_NAME[n].quantity for n in names], n_classrooms=120, seed=SEED)
    assert out["value"].tolist() == table.loc[names, "value"].tolist()
    assert out["se"].tolist() == table.loc[names, "se"].tolist()


def test_checks_are_documented_in_the_odd():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "odd.md").read_text()
    section = text.split("## 10.")[1].split("## 11.")[0]
    for c in CHECKS:
        assert f"`{c.name}`" in section, c.name


def test_unknown_check_names_are_rejected():
    with pytest.raises(ValueError, match="unknown checks"):
        evaluate(n_classrooms=2, names=["grouping_alon"])
