"""Charts: check the artists (bars, centring of the neutral category, labels), Agg backend."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from toolkit.charts import distribution_by_group, item_heatmap, likert_bars
from toolkit.datasets import codebook_path
from toolkit.survey import read_codebook, score_items


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def decoded(bfi) -> pd.DataFrame:
    return read_codebook(codebook_path("bfi")).decode(bfi)


def test_likert_bars_structure(decoded):
    items = ["A1", "A2", "A3"]
    ax = likert_bars(decoded, items)
    assert isinstance(ax, Axes)
    levels = list(decoded["A1"].cat.categories)
    assert len(ax.containers) == len(levels) == 6
    assert sum(len(c.patches) for c in ax.containers) == len(items) * 6
    labels = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert set(labels) == set(items)
    assert labels["A1"] > labels["A2"] > labels["A3"]  # first item on top
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == levels
    # even number of levels, no neutral: the boundary between level 3 and 4 is at zero
    for bar3, bar4 in zip(ax.containers[2].patches, ax.containers[3].patches, strict=True):
        assert bar3.get_x() + bar3.get_width() == pytest.approx(0, abs=1e-9)
        assert bar4.get_x() == pytest.approx(0, abs=1e-9)
    # the widths are the percentages
    a1 = decoded["A1"].value_counts(normalize=True)
    top_bar = ax.containers[0].patches[0]  # bars follow the items: A1 first, drawn on top
    assert top_bar.get_width() == pytest.approx(100 * a1["Very Inaccurate"])


def test_likert_neutral_is_centred_on_zero():
    df = pd.DataFrame({"q1": [1, 2, 3, 3, 4, 5, 5, 5], "q2": [3, 3, 3, 1, 1, 2, 4, 5]})
    ax = likert_bars(df, ["q1", "q2"], levels=[1, 2, 3, 4, 5], item_labels=["one", "two"])
    neutral = ax.containers[2]
    assert neutral.get_label() == "3"
    for patch in neutral.patches:
        assert patch.get_x() + patch.get_width() / 2 == pytest.approx(0, abs=1e-9)
    assert patch.get_facecolor()[:3] == pytest.approx(matplotlib.colors.to_rgb("#BDBDBD"))
    labels = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert labels["one"] > labels["two"]


def test_likert_errors():
    df = pd.DataFrame({"q1": ["a", "b"]})
    with pytest.raises(ValueError, match="not among the levels"):
        likert_bars(df, ["q1"], levels=["a", "c"])
    with pytest.raises(ValueError, match="neutral"):
        likert_bars(df, ["q1"], levels=["a", "b"], neutral="z")


def test_item_heatmap_values(bfi):
    items = ["A1", "A2", "N1"]
    ax = item_heatmap(bfi, items, "education")
    arr = ax.images[0].get_array()
    assert arr.shape == (3, 5)
    expected = bfi.groupby("education")[items].mean().T.to_numpy()
    np.testing.assert_allclose(np.asarray(arr), expected)
    assert [t.get_text() for t in ax.get_yticklabels()] == items
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1.0", "2.0", "3.0", "4.0", "5.0"]
    top = item_heatmap(bfi, items, "gender", stat="top_box", top_levels=[5, 6], center=50)
    assert np.asarray(top.images[0].get_array())[0, 0] == pytest.approx(
        100 * bfi.loc[bfi["gender"] == 1, "A1"].dropna().isin([5, 6]).mean()
    )
    with pytest.raises(ValueError, match="top_levels"):
        item_heatmap(bfi, items, "gender", stat="top_box")


def test_distribution_by_group(bfi, bfi_keys):
    scores = score_items(bfi, bfi_keys).scores.join(bfi["gender"])
    _fig, ax = plt.subplots()
    out = distribution_by_group(scores, "agree", "gender", ax=ax)
    assert out is ax
    n1, n2 = (scores["gender"] == 1).sum(), (scores["gender"] == 2).sum()
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"1 (n = {n1})", f"2 (n = {n2})"]
    boxes = [p for p in ax.patches if isinstance(p, matplotlib.patches.PathPatch)]
    assert len(boxes) == 2
    # reproducible jitter
    ax2 = distribution_by_group(scores, "agree", "gender", seed=0)
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), ax2.collections[0].get_offsets())


def test_nothing_to_plot_is_an_error(nlschools):
    empty = nlschools.assign(lang=np.nan)
    with pytest.raises(ValueError, match="column 'lang' has no value in any group of 'COMB'"):
        distribution_by_group(empty, "lang", "COMB")
    with pytest.raises(ValueError, match=r"\['lang'\] have no answer in any group of 'COMB'"):
        item_heatmap(empty, ["lang"], "COMB")
