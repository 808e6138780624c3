import dataclasses

import pandas as pd
import pytest

from toolkit.model import ParameterError, Parameters, parameter_table
from toolkit.model.params import suggest_name


def test_defaults_validate_and_roundtrip():
    p = Parameters()
    assert Parameters.from_mapping(p.to_dict()) == p
    assert p.replace(n_students=30).n_students == 30
    assert p.n_domains == 4 and p.core_mask == (True, True, False, False)


def test_unknown_parameter_suggests_closest_name():
    with pytest.raises(
        ParameterError, match=r"unknown parameter 'teacher_capasity'.*'teacher_capacity'"
    ):
        Parameters.from_mapping({"teacher_capasity": 1.0}, source="study.toml [parameters]")


def test_error_names_source_parameter_and_range():
    with pytest.raises(ParameterError) as info:
        Parameters.from_mapping({"class_icc": 1.5}, source="my.toml [parameters]")
    msg = str(info.value)
    assert "my.toml [parameters]" in msg and "'class_icc'" in msg and "[0.0, 0.9]" in msg


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("n_students", 2.5),
        ("n_students", True),
        ("learning_rate", "fast"),
        ("zpd_width", float("nan")),
    ],
)
def test_wrong_types_rejected(key, value):
    with pytest.raises(ParameterError, match=key):
        Parameters.from_mapping({key: value})


def test_core_domains_must_be_subset():
    with pytest.raises(ParameterError, match="core_domains"):
        Parameters(core_domains=("science",))


def test_peer_ties_bounded_by_class_size():
    with pytest.raises(ParameterError, match="peer_ties"):
        Parameters(n_students=4, peer_ties=4)


def test_test_error_sd_from_reliability():
    # true core SD = sqrt((1 + rho) / 2) for two core domains; reliability r gives
    # sigma_E = sigma_T * sqrt((1 - r) / r)
    p = Parameters(skill_correlation=0.6, test_reliability=0.8)
    sigma_t = ((1 + 0.6) / 2) ** 0.5
    assert p.true_core_sd == pytest.approx(sigma_t)
    assert p.test_error_sd == pytest.approx(sigma_t * 0.5)
    assert p.test_error_sd**2 / (p.test_error_sd**2 + sigma_t**2) == pytest.approx(0.2)


def test_parameter_table_documents_every_parameter():
    t = parameter_table()
    assert list(t.name) == [f.name for f in dataclasses.fields(Parameters)]
    assert (t.source.str.len() > 5).all() and (t.description.str.len() > 10).all()
    assert (t.unit.str.len() > 0).all()


def test_suggest_name():
    assert suggest_name("n_studnets", ["n_students", "n_days"]) == " Did you mean 'n_students'?"
    assert suggest_name("zzz", ["n_students"]) == ""


def test_every_parameter_has_a_plausible_range_inside_its_validation_range():
    from toolkit.model.params import PLAUSIBLE, plausible_ranges

    assert set(PLAUSIBLE) == set(Parameters.names())
    r = plausible_ranges()
    fields = {f.name: f for f in dataclasses.fields(Parameters)}
    for name, row in r.iterrows():
        lo, hi = fields[name].metadata["lo"], fields[name].metadata["hi"]
        assert lo <= row.low <= row.default <= row.high <= hi, name
        assert row.low < row.high, name
        assert row.scale in ("linear", "log") and (row.scale == "linear" or row.low > 0), name
        assert row.source, name
    # parameters without a range are listed only on request
    assert "domains" not in r.index
    assert pd.isna(plausible_ranges(fixed=True).loc["domains", "low"])
    with pytest.raises(ParameterError, match=r"'zpd_widht'.*'zpd_width'"):
        plausible_ranges(["zpd_widht"])


def test_meaning_and_source_are_separate_columns():
    t = parameter_table().set_index("name")
    for name in (
        "n_students",
        "skill_correlation",
        "class_icc",
        "core_time_share",
        "group_size_penalty",
        "test_reliability",
    ):
        assert not any(
            w in t.loc[name, "description"]
            for w in ("NCES", "Hedges", "Calibrated", "Assumption", "STAR")
        ), name
    assert "0.1 SD" not in t.loc["group_size_penalty", "source"]
