"""The ODD document describes the code as it is."""

import dataclasses
from pathlib import Path

from toolkit.docs import update_document
from toolkit.model import PRESETS, Parameters, Regime
from toolkit.model import mechanisms as mech

ODD = Path(__file__).resolve().parents[1] / "docs" / "odd.md"


def test_generated_tables_are_current():
    assert update_document(ODD, check=True) == [], "run: python -m toolkit docs"


def test_every_parameter_axis_and_preset_is_documented():
    text = ODD.read_text()
    for f in dataclasses.fields(Parameters):
        assert f"`{f.name}`" in text
    for axis in Regime.axes():
        assert f"`{axis}`" in text
    for name in PRESETS:
        assert f"**{name}**" in text


def test_every_mechanism_is_described_in_submodels():
    text = ODD.read_text().split("## 7. Submodels")[1].split("## 8.")[0]
    for name in mech.__all__:
        if name in {"DayOutcome", "SystemPlan", "logistic", "softmax", "group_mean"}:
            continue
        assert f"`{name}`" in text, name
