"""The report, the charts and the generated README block."""

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from PIL import Image

from toolkit.robustness.charts import (
    plot_claim_heatmap,
    plot_claim_shares,
    plot_failure_region,
    plot_indices,
    plot_morris,
)
from toolkit.robustness.report import publish, readme_block, update_readme

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished Saltelli run of the paired model with two claims (one fails in a region)."""
    from tests.robustness.conftest import make_study
    from toolkit.study.runner import run_study

    spec = make_study(
        {
            "model": "paired",
            "design": "sobol",
            "n": 32,
            "claims": [
                {"name": "b above a", "claim": "b - a > 0 on m"},
                {"name": "b above 1.6", "claim": "b > 1.6 on m"},
            ],
        },
        study={"classrooms": 3},
        output={"formats": ["png"]},
    )
    return run_study(spec, tmp_path_factory.mktemp("rb") / "run", progress=False)


def test_report_files_and_content(finished):
    folder = finished.folder
    for f in ("report.html", "report.md", "report.json", "sobol.csv", "claims.csv",
              "claims_by_point.csv", "regions.csv", "design.csv", "outputs.parquet"):  # fmt: skip
        assert (folder / f).is_file(), f
    md = (folder / "report.md").read_text()
    assert "## b above a" in md and "holds in **100%** of the plausible space" in md
    assert "## b above 1.6" in md and "Where it breaks: fails when x" in md
    for link in re.findall(r"\]\((figures/[^)]+)\)", md):
        assert (folder / link).is_file(), link
    html = (folder / "report.html").read_text()
    assert html.startswith("<!doctype html>") and "b above 1.6" in html
    claims = finished.summary.set_index("claim")
    # b = x1 + 0.5 + x2 (+ noise), x uniform on [0, 1]^2: P(b > 1.6) = 0.5 * 0.4^2 ... from the
    # triangle x1 + x2 > 1.1 of area 0.405
    assert claims.loc["b above 1.6", "share"] == pytest.approx(0.405, abs=0.12)
    assert {claims.loc["b above 1.6", "driver_1"], claims.loc["b above 1.6", "driver_2"]} == {
        "x1",
        "x2",
    }


def test_readme_block_is_generated_from_the_report(finished, tmp_path):
    block = readme_block(finished.folder, label="Interim: a test run.")
    assert block.startswith("*Interim: a test run.*")
    assert "- **b above a** (`b - a > 0 on m`) holds in **100%**" in block
    readme = tmp_path / "README.md"
    readme.write_text(
        "x\n<!-- BEGIN robustness-summary -->\nold\n<!-- END robustness-summary -->\ny\n"
    )
    assert update_readme(readme, block, check=True)
    assert update_readme(readme, block)
    assert not update_readme(readme, block, check=True)
    assert readme.read_text().startswith("x\n<!-- BEGIN robustness-summary -->\n*Interim")
    with pytest.raises(ValueError, match="no robustness-summary block"):
        plain = tmp_path / "plain.md"
        plain.write_text("no block here\n")
        update_readme(plain, block)


def test_publish_writes_the_page_small_figures_and_the_block(finished, tmp_path):
    (tmp_path / "docs" / "gallery").mkdir(parents=True)
    (tmp_path / "README.md").write_text(
        "<!-- BEGIN robustness-summary -->\n<!-- END robustness-summary -->\n"
    )
    written = publish(finished.folder, tmp_path, label="Interim.", name="rb")
    page = (tmp_path / "docs" / "rb.md").read_text()
    for link in re.findall(r"\]\(([^)]+\.png)\)", page):
        assert (tmp_path / "docs" / link).is_file(), link
    pngs = [p for p in written if p.suffix == ".png"]
    assert pngs and all(p.stat().st_size < 300_000 for p in pngs)
    # large enough for a slide: the run's 16:9 charts (13.33 x 7.5 in) at 150 dpi
    sizes = {p.stem: Image.open(p).size for p in pngs}
    wide = [s for stem, s in sizes.items() if stem.startswith("indices_") and "claim" not in stem]
    assert wide and all(s == (2000, 1125) for s in wide), sizes
    assert all(w >= 960 for w, _ in sizes.values()), sizes
    assert "*Interim.*" in (tmp_path / "README.md").read_text()


def test_html_report_tables_scroll_within_the_page(finished):
    html = (finished.folder / "report.html").read_text()
    assert ".table { max-width: 100%; overflow-x: auto; }" in html  # the shared stylesheet
    assert "overflow-wrap: anywhere" in html
    tables = html.count("<table")
    assert tables >= 3 and html.count("<div class='table'><table") == tables


def test_readme_has_the_generated_block_and_its_page():
    text = (ROOT / "README.md").read_text()
    assert text.count("<!-- BEGIN robustness-summary -->") == 1
    assert text.count("<!-- END robustness-summary -->") == 1
    assert (ROOT / "docs" / "robustness.md").is_file()


def test_charts_take_ax_and_return_it(finished):
    sobol = pd.read_csv(finished.folder / "sobol.csv")
    claims = finished.summary
    for draw in (
        lambda ax: plot_indices(sobol, "b - a: m", ax=ax),
        lambda ax: plot_claim_heatmap(sobol, list(claims["claim"]), ax=ax),
        lambda ax: plot_claim_shares(claims, ax=ax),
        lambda ax: plot_failure_region(
            pd.DataFrame({"x1": [0.1, 0.9], "x2": [0.2, 0.8]}),
            np.array([True, False]),
            "x1",
            "x2",
            limits={"x1": (0.5, None)},
            ax=ax,
        ),
    ):
        fig, ax = plt.subplots()
        assert draw(ax) is ax
        plt.close(fig)
        new = draw(None)
        assert isinstance(new, Axes) and new is not ax
        plt.close(new.figure)
    morris = pd.DataFrame({"output": "o", "parameter": ["p", "q"], "mu_star": [1.0, 0.1],
                           "mu_star_low": [0.8, 0.0], "mu_star_high": [1.2, 0.2],
                           "sigma": [0.5, 0.1]})  # fmt: skip
    assert isinstance(plot_morris(morris, "o"), Axes)
    with pytest.raises(ValueError, match="no indices for output 'nope'"):
        plot_indices(sobol, "nope")
    plt.close("all")


# --- small designs: indices swamped by Monte Carlo noise, weak failure regions ------------------
def test_a_design_too_small_for_an_index_says_so_instead_of_naming_drivers(tmp_path):
    """b - a is almost all noise (its signal, 0.001 x2, is far below the classrooms' spread):
    the report must not name drivers for it; a > 0.5 (driven by x1) keeps its driver."""
    from tests.robustness.conftest import make_study
    from toolkit.study.runner import run_study

    spec = make_study(
        {
            "model": "tests.robustness.conftest:NoisyPaired",
            "design": "sobol",
            "n": 32,
            "claims": [
                {"name": "noisy", "claim": "b - a > 0.5 on m"},
                {"name": "clean", "claim": "a > 0.5 on m"},
            ],
        },
        study={"classrooms": 3},
    )
    result = run_study(spec, tmp_path / "run", progress=False)
    claims = result.summary.set_index("claim")
    assert claims.loc["noisy", "noise_share"] > 1
    assert claims.loc["noisy", "drivers"].startswith("none can be named at this size")
    assert claims.loc["clean", "noise_share"] < 0.1
    assert claims.loc["clean", "drivers"].startswith("x1 (")
    md = (result.folder / "report.md").read_text()
    assert "the design is too small for its indices" in md
    assert "too small for the indices of" in md  # the paired difference b - a on m too
    assert "conservative" in md  # the bootstrap intervals under a scrambled Sobol' design
    block = readme_block(result.folder)
    noisy = next(ln for ln in block.splitlines() if ln.startswith("- **noisy**"))
    assert "strongest drivers: none can be named" in noisy


def test_an_index_below_the_noise_share_is_marked():
    from toolkit.robustness.report import _drivers_text

    text = _drivers_text([("x1", 0.62), ("x2", 0.04)], 0.1, kind=True)
    assert text.startswith("x1 (0.62); x2 (0.04, no larger than the Monte Carlo noise share 0.10")
    assert _drivers_text([("x1", 0.62)], 3.2, kind=True).startswith("none can be named")
    assert _drivers_text([("x1", 0.62)], float("nan"), kind=True) == "x1 (0.62)"


def test_a_weak_failure_region_is_not_printed_as_fails_when():
    from toolkit.robustness.analysis import failure_region

    rng = np.random.default_rng(5)
    x = pd.DataFrame(rng.random((32, 3)), columns=["p", "q", "r"])
    # failures scattered at random (a third of the points): any box is a fit to noise
    holds = rng.random(32) > 1 / 3
    region = failure_region(x, holds, x)
    assert region is not None and not region.clear
    assert not region.text.startswith("fails when") and "no clear region" in region.text
    # four failing points in a corner: dense and covering, but too few to name a region
    holds = ~((x["p"] > 0.8) & (x["q"] > 0.7)).to_numpy()
    assert 1 <= (~holds).sum() < 10
    region = failure_region(x, holds, x)
    assert region is not None and not region.clear and "fails when" not in region.text
    # the same corner with 1,000 points is a clear region
    x = pd.DataFrame(rng.random((1000, 3)), columns=["p", "q", "r"])
    holds = ~((x["p"] > 0.8) & (x["q"] > 0.7)).to_numpy()
    region = failure_region(x, holds, x)
    assert region.clear and region.text.startswith("fails when p > 0.")


def test_a_robustness_run_can_be_run_again_into_its_folder(tmp_path):
    """--overwrite recognizes a robustness run's own parts (d000000-n1) as the run's files."""
    from tests.robustness.conftest import make_study
    from toolkit.study.runner import run_study

    spec = make_study(
        {"model": "tests.robustness.conftest:NoisyPaired", "design": "lhs", "n": 4},
        study={"classrooms": 2},
    )
    first = run_study(spec, tmp_path / "run", progress=False)
    assert any(p.name.startswith("d") for p in (first.folder / "parts").iterdir())
    (tmp_path / "run" / "mine.txt").write_text("a user's own file")
    again = run_study(spec, tmp_path / "run", progress=False, overwrite=True)
    assert again.summary.equals(first.summary)
    assert (tmp_path / "run" / "mine.txt").read_text() == "a user's own file"
