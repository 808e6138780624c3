"""The validation report: targets with verdicts, patterns, docking, posterior."""

import json

import numpy as np
import pandas as pd
import pytest

from toolkit.calibration.quantities import Simulations
from toolkit.calibration.report import (
    docking_results,
    growth_by_prior,
    pattern_checks,
    write_report,
)
from toolkit.model import Parameters

SMALL = Parameters(n_students=10, n_days=40, peer_ties=3)


def test_patterns_and_growth_by_prior():
    sims = Simulations(SMALL, 6, seed=2)
    p = pattern_checks(sims)
    assert len(p) == 5 and p["passed"].isin([True, False]).all()
    assert (p["ci_low"] <= p["value"]).all() and (p["value"] <= p["ci_high"]).all()
    # the regression artifact holds for any model with a noisy pre-test
    assert p.loc[p.pattern.str.startswith("Observed gains"), "passed"].item() is True
    g = growth_by_prior(sims)
    assert set(g["quintile"]) == {1, 2, 3, 4, 5}
    assert g.groupby("arm").size().eq(5).all()


@pytest.mark.numerics
def test_docking_section_docks():
    dk = docking_results(n_mesa=6, n_engine=30)
    assert dk["exact"]["docked"].all()
    assert dk["exact"]["max_rel_diff"].max() <= 1e-12
    assert dk["distribution"]["docked"].all()
    assert set(dk["bitwise"]) == {"numba_kernel_is_numpy", "numpy_kernel_is_mesa"}


def test_write_report_with_a_posterior(tmp_path):
    # a small posterior run folder, as the calibration writes it
    run = tmp_path / "cal"
    run.mkdir()
    pd.DataFrame(
        {"learning_rate": [0.025, 0.03], "peer_learning": [0.02, 0.022], "weight": [0.5, 0.5]}
    ).to_csv(run / "posterior.csv", index=False)
    pd.DataFrame(
        [
            {
                "t": 0,
                "temperature": 1.0,
                "samples": 50,
                "particles": 2,
                "acceptance": 0.04,
                "ess": 2.0,
                "end_time": "x",
            }
        ]
    ).to_csv(run / "populations.csv", index=False)
    (run / "manifest.json").write_text(json.dumps({"temperature_reached_1": True}))
    out = write_report(
        tmp_path / "val",
        classrooms=4,
        posterior=run,
        draws=2,
        docking=False,
        progress=False,
    )
    text = out.read_text()
    for heading in ("1. Targets and checks", "2. Patterns", "3. Docking", "4. Posterior"):
        assert heading in text
    assert "Held-out rows" in text and "predictions of the model" in text
    assert "posterior predictive 95%" in text and "why this mapping" in text
    assert text.count("data:image/png;base64,") >= 3
    # the page is the template's, with the shared stylesheet inlined once
    assert text.startswith("<!doctype html>") and text.count("<style>") == 1
    assert "td.pass" in text and '<td class="pass">pass</td>' in text
    ev = pd.read_csv(tmp_path / "val" / "targets.csv", keep_default_na=False, na_values=[""])
    assert set(ev["role"]) == {"target", "check", "comparison"}
    assert {"targets", "evidence"} == set(ev["origin"])
    # every row with a model value and an uncertainty has a verdict, comparisons too
    valued = ev[ev["model"].notna()]
    assert valued["passed"].notna().sum() >= len(valued) - 2  # bare-value rows: no verdict
    assert ev.loc[ev["passed"].eq(False), "flag"].str.len().gt(0).all()
    # rows on a test aligned with the instruction have model values too (the aligned test)
    assert not ev["flag"].str.contains("aligned_score", na=False).any()
    assert ev["model"].notna().all()
    assert (valued["model_low"] <= valued["model_high"]).all()
    man = json.loads((tmp_path / "val" / "manifest.json").read_text())
    assert man["draws"] == 2
    assert man["passed"] + man["failed"] + man["no_verdict"] == len(ev)
    assert np.isfinite(valued["model"]).all()


def test_report_tables_scroll_within_the_page():
    import pandas as pd

    from toolkit.calibration.report import _table
    from toolkit.templates import environment, render

    macros = environment().get_template("macros.html.j2").module
    html = str(macros.table(_table(pd.DataFrame({"a very long column name " * 4: ["x" * 200]}))))
    assert html.startswith('<div class="table"><table>') and html.endswith("</table></div>")
    css = render("base.html.j2", title="t")  # the page every report extends, its style inlined
    assert ".table { max-width: 100%; overflow-x: auto; }" in css
    assert "overflow-wrap: anywhere" in css
