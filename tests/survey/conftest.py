"""Shared fixtures: R reference numbers, the real datasets, and replicate-weight files.

The reference numbers are written by the R scripts in tests/reference (run once, committed);
R is never needed to run the tests.
"""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.datasets import load_dataset

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
BATTERY = Path(__file__).resolve().parent / "battery" / "make_battery.py"


def _json(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text())


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """tests/reference, where the R scripts and their outputs live."""
    return REFERENCE


@pytest.fixture(scope="session")
def ref_reliability() -> dict:
    """tests/reference/survey_reliability.R: psych 2.2.9, GPArotation 2022.10-2."""
    return _json("survey_reliability.json")


@pytest.fixture(scope="session")
def ref_multilevel() -> dict:
    """tests/reference/survey_multilevel.R: lme4 1.1-31."""
    return _json("survey_multilevel.json")


@pytest.fixture(scope="session")
def ref_lsa() -> dict:
    """tests/reference/survey_lsa.R: survey 4.1-1, mitools 2.4, Hmisc 4.8-0."""
    return _json("survey_lsa.json")


@pytest.fixture(scope="session")
def bfi() -> pd.DataFrame:
    return load_dataset("bfi")


@pytest.fixture(scope="session")
def nlschools() -> pd.DataFrame:
    return load_dataset("nlschools")


@pytest.fixture(scope="session")
def bfi_keys() -> dict[str, list[str]]:
    """psych::bfi.keys."""
    return {
        "agree": ["-A1", "A2", "A3", "A4", "A5"],
        "conscientious": ["C1", "C2", "C3", "-C4", "-C5"],
        "extraversion": ["-E1", "-E2", "E3", "E4", "E5"],
        "neuroticism": ["N1", "N2", "N3", "N4", "N5"],
        "openness": ["O1", "-O2", "O3", "O4", "-O5"],
    }


@pytest.fixture(scope="session")
def pisa_rw() -> pd.DataFrame:
    """pisamaths with the replicate weights built by tests/reference/survey_lsa.R.

    Schools sorted by (STRATUM, SCHOOLID) are numbered i = 0..176. PISA-like Fay weights:
    zone (i // 2) % 80, unit i % 2, factor 1 + 0.5 * H[zone, r] * (+1 unit 0, -1 unit 1) with
    the 80 x 80 Hadamard matrix survey::hadamard(79). TIMSS-like: JKZONE (i // 2) % 75 + 1,
    JKREP i % 2, TOTWGT = W_FSTUWT.
    """
    pm = load_dataset("pisamaths")
    hadamard = pd.read_csv(REFERENCE / "survey_hadamard80.csv").to_numpy()
    schools = pm[["STRATUM", "SCHOOLID"]].drop_duplicates().sort_values(["STRATUM", "SCHOOLID"])
    number = dict(zip(schools["SCHOOLID"], range(len(schools)), strict=True))
    i = pm["SCHOOLID"].map(number).to_numpy()
    zone, unit = (i // 2) % 80, i % 2
    factor = 1 + 0.5 * hadamard[zone, :] * np.where(unit == 0, 1, -1)[:, None]
    reps = pd.DataFrame(
        pm["W_FSTUWT"].to_numpy()[:, None] * factor,
        columns=[f"W_FSTURWT{r}" for r in range(1, 81)],
        index=pm.index,
    )
    out = pd.concat([pm, reps], axis=1)
    out["JKZONE"] = (i // 2) % 75 + 1
    out["JKREP"] = i % 2
    out["TOTWGT"] = out["W_FSTUWT"]
    return out


def _assert_close(actual, expected, atol: float, what: str = "") -> None:
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    assert np.array_equal(np.isnan(a), np.isnan(e)), f"{what}: NaN pattern differs"
    diff = float(np.nanmax(np.abs(a - e))) if a.size and not np.isnan(a).all() else 0.0
    assert diff <= atol, f"{what}: largest difference {diff:.3g} > {atol}"


@pytest.fixture(scope="session")
def close():
    """close(actual, expected, atol, what): elementwise |actual - expected| <= atol."""
    return _assert_close


def _load_battery():
    if "make_battery" not in sys.modules:  # dataclasses look their module up there
        spec = importlib.util.spec_from_file_location("make_battery", BATTERY)
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_battery"] = module
        spec.loader.exec_module(module)
    return sys.modules["make_battery"]


@pytest.fixture(scope="session")
def battery():
    """tests/survey/battery/make_battery.py: the messy-input battery and its data helpers."""
    return _load_battery()
