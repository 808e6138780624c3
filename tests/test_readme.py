"""The README's commands, images and headline table match the repository as it is."""

import re
from pathlib import Path

import pytest

from toolkit.gallery import readme_summary_block, update_readme
from toolkit.study import load_study, run_study

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def test_two_commands_and_ci_use_the_same_test_command():
    text = README.read_text()
    assert "./run.sh headline" in text and "./run.sh test" in text
    assert "./run.sh test" in (ROOT / ".ci" / "run").read_text()


def test_every_linked_image_and_file_exists():
    text = README.read_text()
    links = re.findall(r"\]\(([^)#]+)\)", text)
    assert links
    for link in links:
        assert (ROOT / link).exists(), link


@pytest.mark.slow
def test_headline_table_in_readme_is_current(tmp_path):
    """Re-run the headline study exactly as `./run.sh headline` does and compare the table."""
    spec = load_study(ROOT / "simulations" / "headline.toml")
    result = run_study(spec, tmp_path / "headline", progress=False)
    block = readme_summary_block(result.summary)
    assert not update_readme(README, block, check=True), "stale: run ./run.sh gallery"
