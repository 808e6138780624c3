"""The bundled real datasets load offline with their documentation."""

import pandas as pd
import pytest

from toolkit.datasets import DATASETS, codebook_path, dataset_info, list_datasets, load_dataset


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("bfi", (2800, 28)),
        ("nlschools", (2287, 6)),
        ("pisamaths", (4291, 23)),
        ("mathachieve", (7185, 6)),
        ("star", (5748, 8)),
    ],
)
def test_load(name, shape):
    df = load_dataset(name)
    assert isinstance(df, pd.DataFrame)
    assert df.shape == shape
    info = dataset_info(name)
    assert "license" in info and "source" in info


def test_documentation_complete():
    for name, info in DATASETS.items():
        assert {"description", "source", "license", "reference"} <= set(info), name
    assert list_datasets()["name"].tolist() == list(DATASETS)


def test_pisamaths_types():
    pm = load_dataset("pisamaths")
    assert pm["SCHOOLID"].iloc[0] == "0000001"
    assert pm["MATHEFF"].isna().sum() == 1501
    assert pm[[f"PV{i}MATH" for i in range(1, 6)]].notna().all().all()


def test_errors():
    with pytest.raises(ValueError, match="Unknown dataset"):
        load_dataset("iris")
    with pytest.raises(ValueError, match="no bundled codebook"):
        codebook_path("nlschools")
