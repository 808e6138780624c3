"""The README's commands, images and headline table match the repository as it is."""

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from toolkit.gallery import readme_summary_block, update_readme
from toolkit.study import load_study, run_study

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


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
@pytest.mark.numerics  # numbers pinned to three decimals
def test_headline_table_in_readme_is_current(tmp_path):
    """Re-run the headline study exactly as `./run.sh headline` does and compare the table.

    Without its charts: they do not enter the table, and drawing them (PNG and SVG) took 5.6
    of this test's 12.6 CPU-seconds."""
    spec = dataclasses.replace(load_study(ROOT / "simulations" / "headline.toml"), formats=())
    result = run_study(spec, tmp_path / "headline", progress=False)
    block = readme_summary_block(result.summary)
    assert not update_readme(README, block, check=True), "stale: run ./run.sh gallery"


# --- every command the README shows refers to files and sub-commands that exist ---------------
#: Tools installed only in the virtual environment: shown bare, they fail on a fresh clone.
VENV_TOOLS = "jupytext|solara|papermill|jupyter|jupyter-lab|pytest|ruff"


def _commands(text: str) -> list[str]:
    """Shell commands of the README: lines of ```bash blocks and inline `./run.sh ...` code."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                out.append(line)
    for span in re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", text, flags=re.S)):
        span = " ".join(span.split())
        if "..." in span:  # a form, not a command: `./run.sh python -m ...`
            continue
        if re.match(r"(\./run\.sh|python -m|python -c|source|cp|" + VENV_TOOLS + ") ", span):
            out.append(span)
    return out


def _run_sh_commands() -> set[str]:
    return set(re.findall(r"^    (\w+)\)$", (ROOT / "run.sh").read_text(), re.M))


def _parse(parser, args: list[str], line: str):
    """Parse like the command line would; --help and --version exit 0 and are fine."""
    try:
        return parser.parse_args(args)
    except SystemExit as exc:
        assert exc.code == 0, f"{line}: not a valid command"
        return None


def _check_paths(args: list[str], created: set[str], where: str) -> None:
    for a in args:
        if a.startswith("-") or a in created or "://" in a:  # an option, or an address
            continue
        if "/" in a or a.endswith((".toml", ".py", ".ipynb", ".md")):
            assert (ROOT / a).exists(), f"{where}: {a} does not exist"


def _check_python(argv: list[str], created: set[str], line: str) -> None:
    """``python -m MODULE ...``, ``python -c CODE`` or ``python SCRIPT.py ...``."""
    import ast
    import importlib
    import importlib.util

    from toolkit import gallery
    from toolkit.cli import build_parser

    if argv[0] == "-c":
        for node in ast.walk(ast.parse(argv[1])):
            if isinstance(node, ast.ImportFrom):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name), f"{line}: {node.module}.{alias.name}"
        return
    if argv[0].endswith(".py"):  # a script of the repository (e.g. simulations/power/*.py)
        assert (ROOT / argv[0]).is_file(), f"{line}: {argv[0]} does not exist"
        _check_paths(argv[1:], created, line)
        return
    assert argv[0] == "-m", line
    module, rest = argv[1], argv[2:]
    assert importlib.util.find_spec(module) is not None, f"{line}: no module {module}"
    if module == "toolkit":
        args = _parse(build_parser(), rest, line)  # an unknown sub-command or option fails
        if getattr(args, "study", None):
            assert args.study in created or (ROOT / args.study).is_file(), line
        return
    if module == "toolkit.gallery":
        _parse(gallery.build_parser(), rest, line)
        return
    if module == "papermill":  # input and output notebooks: only the input must exist
        rest = rest[:1]
    _check_paths(rest, created, line)


#: The README and the documentation site's pages it sends readers to (docs/*.md): the commands
#: moved there from the README are held to the same checks.
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]


def test_every_readme_command_refers_to_files_and_sub_commands_that_exist():
    assert len(_commands(README.read_text())) >= 10
    checked = set()
    for document in DOCUMENTS:
        checked |= _check_commands(document)
    assert {"headline", "test", "study", "python", "gallery", "docs"} <= checked


def _check_commands(document: Path) -> set[str]:
    """Check every command of one document; return the ./run.sh sub-commands it used."""
    import shlex

    from toolkit import gallery
    from toolkit.cli import build_parser

    commands = _commands(document.read_text())
    sub_commands = _run_sh_commands()
    created: set[str] = set()
    checked = set()
    for line in commands:
        argv = shlex.split(line)
        if argv[0] == "cp":
            src, dest = argv[1:3]
            assert (ROOT / src).is_file(), line
            created.add(dest)
            continue
        if argv[0] == "source":
            assert argv[1] == ".venv/bin/activate", line
            continue
        if argv[0] == "export":  # Dask settings for workers: each must name a real setting
            import dask
            import distributed  # noqa: F401 (loads the distributed.* settings)

            for assignment in argv[1:]:
                name, _, value = assignment.partition("=")
                assert name.startswith("DASK_") and value, f"{line}: {assignment}"
                key = name.removeprefix("DASK_").lower().replace("__", ".")
                dask.config.get(key)  # KeyError for a setting Dask does not have
            continue
        if argv[0] == "pip":  # installing this package, with extras it declares
            assert argv[1] == "install", line
            for spec in (a for a in argv[2:] if not a.startswith("-")):
                name, _, extras = spec.partition("[")
                assert name in (".", "classroom-regimes-toolkit"), line
                for extra in filter(None, extras.rstrip("]").split(",")):
                    assert extra in EXTRAS, f"{line}: no extra {extra!r}"
            continue
        if argv[0] == "python":  # with the virtual environment activated
            _check_python(argv[1:], created, line)
            continue
        assert argv[0] == "./run.sh", f"{line}: show it as ./run.sh python -m ... (or activated)"
        cmd, rest = argv[1], argv[2:]
        assert cmd in sub_commands, f"{line}: run.sh has no '{cmd}'"
        checked.add(cmd)
        if cmd == "headline":
            _parse(build_parser(), ["run", "simulations/headline.toml", *rest], line)
        elif cmd == "study":
            _parse(build_parser(), ["run", *rest], line)
            assert rest[0] in created or (ROOT / rest[0]).is_file(), line
        elif cmd == "gallery":
            _parse(gallery.build_parser(), rest, line)
        elif cmd == "python":
            _check_python(rest, created, line)
    return checked


def test_readme_command_extraction_finds_bare_tools_and_skips_forms():
    text = (
        "```bash\n./run.sh study my-study.toml   # a comment\n```\n"
        "`./run.sh python -m toolkit chek x.toml`, `jupytext --sync notebooks/x.py` and the form "
        "`./run.sh python -m ...`; `toolkit.charts` is no command"
    )
    assert _commands(text) == [
        "./run.sh study my-study.toml",
        "./run.sh python -m toolkit chek x.toml",
        "jupytext --sync notebooks/x.py",
    ]


def test_readme_states_the_headline_study_as_resolved():
    spec = load_study(ROOT / "simulations" / "headline.toml")
    text = " ".join(README.read_text().split())
    m = re.search(r"(\d+) simulated classrooms of (\d+) students", text)
    assert m, "the README no longer says how large the headline study is"
    assert (int(m.group(1)), int(m.group(2))) == (
        spec.classrooms,
        spec.base_parameters().n_students,
    )


def test_readme_evidence_numbers_are_those_of_the_committed_outputs():
    """The callout "Read the headline with the evidence" quotes the posterior predictive of
    ``simulations/evidence-headline.csv``, RAND's row from the calibration's predictions, and
    the shares of the posterior robustness run (its generated block in
    ``docs/evidence-headline.md``): a rerun that changes them fails here until the prose follows."""
    import pandas as pd

    text = " ".join(line.lstrip("> ") for line in README.read_text().splitlines())
    text = " ".join(text.split())
    table = pd.read_csv(ROOT / "simulations" / "evidence-headline.csv")
    effects = table[table["kind"] == "effect"].set_index(["source", "metric", "contrast"])
    post = effects.sort_index().loc[("posterior", "test")]  # sorted: no lexsort warning
    leads = [post.loc[f"{a} - standardized", "median"] for a in
             ("individualized", "personalized", "personal")]  # fmt: skip
    assert "by **{:+.2f}, {:+.2f} and {:+.2f} SD**".format(*leads) in text
    order = "personal > personalized > individualized > standardized"
    orderings = table[(table["kind"] == "ordering") & (table["metric"] == "test")]
    prob = orderings[orderings["ordering"] == order].set_index("source")["probability"]
    assert f"probability **{prob['posterior']:.2f}** ({prob['prior']:.2f} under the priors" in text
    pi = post.loc["personalized - individualized"]
    assert f"**{pi['median']:+.2f} SD [{pi['q05']:+.2f}, {pi['q95']:+.2f}]**" in text
    assert f"P = {pi['p_positive']:.2f}" in text
    calib = (ROOT / "simulations" / "calibrated" / "engagement-calibration.txt").read_text()
    calib = calib.split("Posterior predictive of every emulated row")[1]  # row, fitted, value, sd
    rand = re.search(r"^\s*pane2017_math\s+True\s+\S+\s+\S+\s+(\S+)", calib, re.M)
    assert rand, "engagement-calibration.txt has no prediction of pane2017_math"
    assert f"personalized-learning schools ({float(rand.group(1)):+.2f} against" in text
    page = (ROOT / "docs" / "evidence-headline.md").read_text()
    shares = re.findall(r"holds in \*\*(\d+%)\*\* of the posterior draws", page)
    assert len(shares) == 5, shares
    assert "hold in **{}, {}, {}, {} and {}**".format(*shares) in text
