"""`./run.sh gallery` on a clean tree gives every image clean provenance.

The gallery is built in a scratch copy of the repository's layout (tiny study files, a README
with the headline block, the gallery's images already "committed"). Git is replaced by a stand-in
that reports the tree dirty as soon as any of those committed files differs from what it was at
the start, which is what ``git status --porcelain --untracked-files=no`` does: writing the first
image must not mark the later ones ``+dirty``.
"""

import shutil
from pathlib import Path

import pytest
from PIL import Image

import toolkit._base.provenance as provenance
import toolkit.charts as charts
import toolkit.charts.style as charts_style
from toolkit.gallery import CHARTS, build_gallery

TINY = """
[study]
name = "{name}"
seed = 11
classrooms = 2
years = {years}
[parameters]
n_students = 8
n_days = 5
peer_ties = 2
{sweep}
[output]
folder = "runs/{name}"
formats = ["png"]
"""

STUDIES = {
    "headline.toml": {"name": "headline", "years": 1, "sweep": ""},
    "sweep-teacher-capacity.toml": {
        "name": "sweep-teacher-capacity",
        "years": 1,
        "sweep": '[sweep]\nparameter = "teacher_capacity"\nvalues = [0.25, 1.0]',
    },
    "years.toml": {"name": "years", "years": 2, "sweep": ""},
}

README = """# scratch
<!-- BEGIN headline-summary -->
old table
<!-- END headline-summary -->
"""

COMMITTED = ["headline-outcome", "headline-effects", "headline-spread", "headline-diversity"]
COMMITTED += [f"headline-decomposition_{arm}" for arm in ("individualized", "personalized")]
COMMITTED += ["headline-decomposition_personal"]
COMMITTED += ["headline-tails", *CHARTS]


@pytest.fixture
def scratch_repo(tmp_path, monkeypatch):
    (tmp_path / "simulations").mkdir()
    for file, fields in STUDIES.items():
        (tmp_path / "simulations" / file).write_text(TINY.format(**fields))
    (tmp_path / "README.md").write_text(README)
    evidence = Path(__file__).resolve().parents[1] / "simulations" / "evidence-headline.csv"
    shutil.copyfile(evidence, tmp_path / "simulations" / "evidence-headline.csv")
    gallery = tmp_path / "docs" / "gallery"
    gallery.mkdir(parents=True)
    for stem in COMMITTED:
        (gallery / f"{stem}.png").write_bytes(b"committed image")
    tracked = [tmp_path / "README.md", *sorted(gallery.iterdir())]
    committed = {p: p.read_bytes() for p in tracked}

    def fake_git() -> dict:
        dirty = any(p.read_bytes() != data for p, data in committed.items())
        return {"commit": "abcdef0123456789", "dirty": dirty}

    monkeypatch.setattr(provenance, "git_commit", fake_git)
    # small images: the test reads their metadata, not their pixels
    save = charts_style.save_figure

    def small(fig, path, **kwargs):
        return save(fig, path, **(kwargs | {"dpi": 20}))

    monkeypatch.setattr(charts_style, "save_figure", small)
    monkeypatch.setattr(charts, "save_figure", small)
    return tmp_path


@pytest.mark.slow
def test_gallery_on_a_clean_tree_marks_no_image_dirty(scratch_repo):
    # the user's own run of the headline study, with a figure of theirs: left alone
    mine = scratch_repo / "runs" / "headline" / "figures"
    mine.mkdir(parents=True)
    (mine / "my-slide.png").write_bytes(b"mine")
    written = build_gallery(scratch_repo, progress=False, screenshot=False)
    assert (mine / "my-slide.png").read_bytes() == b"mine"
    assert sorted(p.name for p in (scratch_repo / "runs").iterdir()) == ["gallery", "headline"]
    assert sorted(p.name for p in (scratch_repo / "runs" / "gallery").iterdir()) == [
        "headline", "sweep-teacher-capacity", "years"
    ]  # fmt: skip
    gallery = scratch_repo / "docs" / "gallery"
    assert sorted(p.name for p in written) == sorted(f"{s}.png" for s in COMMITTED)
    lines = {p.stem: Image.open(p).info.get("Description", "") for p in gallery.glob("*.png")}
    assert set(lines) == set(COMMITTED)
    for stem, line in lines.items():
        assert "commit abcdef01" in line, (stem, line)
        assert "+dirty" not in line, (stem, line)
    assert "old table" not in (scratch_repo / "README.md").read_text()
    assert lines["sweep-teacher-capacity"].startswith("sweep-teacher-capacity | simulations/")
    assert lines["likert-bfi"].startswith("psych::bfi")
    assert lines["evidence-headline"].startswith("simulations/evidence-headline.csv | ")


def test_gallery_refuses_before_running_when_its_folder_holds_something_else(
    scratch_repo, monkeypatch, capsys
):
    """A folder of the user's where the gallery's run would go stops it, with one line and no
    run started; the studies' own run folders (runs/headline ...) are never the gallery's."""
    import toolkit.gallery as gallery

    ran = []
    monkeypatch.setattr(gallery, "run_study", lambda *a, **k: ran.append(a) or None)
    mine = scratch_repo / "runs" / "gallery" / "headline" / "figures"
    mine.mkdir(parents=True)
    (mine / "my-slide.png").write_bytes(b"mine")
    monkeypatch.setattr(gallery, "ROOT", scratch_repo)
    assert gallery.main(["--no-screenshot", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gallery: error: ") and "runs/gallery/headline" in err
    assert "Traceback" not in err and not ran
    assert (mine / "my-slide.png").read_bytes() == b"mine"
    assert gallery._folder(scratch_repo, gallery._spec(scratch_repo, "years.toml")) == (
        scratch_repo / "runs" / "gallery" / "years"
    )
