"""Codebooks written as TOML (tomli-w) read back unchanged, whatever the question wording."""

import math
import tomllib

import numpy as np

from toolkit.survey import Codebook, CodebookItem, ResponseSet, read_codebook

# Wording as survey platforms export it: line breaks, tabs, both quotes, a backslash, a control
# character, non-ASCII letters and symbols, and an emoji.
WORDING = (
    'How often do you "really" enjoy school?\nSelect one.\tIt\'s fine to skip \\ pass.\x07'
    " Élève, 学校, Ωμέγα ≥ 5 🙂"
)


def _codebook() -> Codebook:
    agree = ResponseSet(
        "agree \"5\"\npoint", ['Strongly "dis"agree', "Neutral\n(neither)", "Agree ✓"],
        values=[1, 2.5, 4], missing=["Don't know\t", np.int64(98)],
    )  # fmt: skip
    return Codebook(
        [
            CodebookItem("Q1.a", scale="enjoyment", responses=agree, text=WORDING),
            CodebookItem(
                "Q2 (reversed)", scale="enjoyment", reverse=True, responses=agree, text="Ça va?"
            ),
            CodebookItem("Q3", min=0, max=10, missing=((97, 99), -1.5), text="Line 1\r\nLine 2"),
        ],
        title='Pupil survey "2024"\nwave 2',
        id="pupil id",
        missing=[-9, "Refused", (-math.inf, -100)],
    )


def test_toml_roundtrip_with_newlines_quotes_and_non_ascii(tmp_path):
    cb = _codebook()
    path = tmp_path / "codebook.toml"
    text = cb.to_toml(path)
    assert path.read_text(encoding="utf-8") == text
    data = tomllib.loads(text)  # the standard library's parser accepts the file
    assert data["items"]["Q1.a"]["text"] == WORDING
    assert data["title"] == 'Pupil survey "2024"\nwave 2'
    again = read_codebook(path)
    assert again.table().equals(cb.table())
    assert again.keys == cb.keys and again.id == "pupil id"
    assert [it.text for it in again.items.values()] == [WORDING, "Ça va?", "Line 1\r\nLine 2"]
    rs = again.items["Q1.a"].responses
    assert rs.name == 'agree "5"\npoint'
    assert list(rs.labels) == ['Strongly "dis"agree', "Neutral\n(neither)", "Agree ✓"]
    assert list(rs.values) == [1, 2.5, 4] and list(rs.missing) == ["Don't know\t", 98]
    assert again.items["Q3"].missing == ((97, 99), -1.5)
    assert again.missing[:2] == (-9, "Refused") and again.missing[2] == (-math.inf, -100)
    # written twice, the file is the same (a codebook kept under version control stays put)
    assert again.to_toml() == text
