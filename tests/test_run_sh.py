"""What ``./run.sh`` does before any command: the toolkit's bytecode, compiled and kept current.

The toolkit is installed editable, for which pip compiles no bytecode; ``run.sh`` compiles it
(``python -m compileall``) and again whenever a source is newer than its stamp, so that where
Python writes no bytecode itself (``PYTHONDONTWRITEBYTECODE``) a run does not compile the
modules it imports in every process. These tests run ``run.sh`` in a small copy of the checkout
that shares this checkout's virtual environment (already installed: nothing is installed).
"""

import hashlib
import importlib.util
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"


def _installed() -> bool:
    """Whether run.sh would find this checkout's environment installed (and install nothing)."""
    digest = hashlib.sha256(
        (ROOT / "requirements.lock").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    ).hexdigest()[:16]
    # without npm, run.sh only says so; with it, it would fetch Solara's packages first
    assets = (VENV / ".solara-assets").is_file() or shutil.which("npm") is None
    return (VENV / f".installed-{digest}").is_file() and assets


pytestmark = pytest.mark.skipif(
    not _installed(), reason="needs this checkout's .venv, installed by ./run.sh"
)


def _copy(tmp_path: Path) -> Path:
    """A checkout with run.sh, its lock files, the shared .venv and a two-module toolkit."""
    for name in ("run.sh", "requirements.lock", "pyproject.toml", ".python-version"):
        shutil.copy2(ROOT / name, tmp_path / name)
    (tmp_path / ".venv").symlink_to(VENV)
    (tmp_path / "toolkit" / "sub").mkdir(parents=True)
    (tmp_path / "toolkit" / "__init__.py").write_text("X = 1\n")
    (tmp_path / "toolkit" / "sub" / "__init__.py").write_text("")
    (tmp_path / "toolkit" / "sub" / "m.py").write_text("Y = 2\n")
    return tmp_path


def _run(checkout: Path) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run(
        ["bash", "run.sh", "python", "-c", "pass"],
        cwd=checkout,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def _pyc_source_stamp(source: Path) -> tuple[int, int]:
    """The (mtime, size) of the source that a module's bytecode was compiled from."""
    data = Path(importlib.util.cache_from_source(str(source))).read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    flags, mtime, size = struct.unpack("<3I", data[4:16])
    assert flags == 0  # timestamp-checked, as Python itself writes it
    return mtime, size


def _current(source: Path) -> bool:
    st = source.stat()
    return _pyc_source_stamp(source) == (int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)


def test_run_sh_compiles_the_toolkit_where_python_writes_no_bytecode(tmp_path):
    checkout = _copy(tmp_path)
    sources = sorted((checkout / "toolkit").rglob("*.py"))
    _run(checkout)
    assert all(_current(s) for s in sources)
    stamp = checkout / "toolkit" / "__pycache__" / ".compiled"
    assert stamp.is_file()
    assert not (stamp.parent / ".compiling").exists()


def test_run_sh_recompiles_a_changed_source_and_only_then(tmp_path):
    checkout = _copy(tmp_path)
    _run(checkout)
    stamp = checkout / "toolkit" / "__pycache__" / ".compiled"
    first = stamp.stat().st_mtime_ns
    _run(checkout)  # nothing changed: no compilation, the stamp stays
    assert stamp.stat().st_mtime_ns == first
    changed = checkout / "toolkit" / "sub" / "m.py"
    changed.write_text("Y = 3  # edited\n")
    later = stamp.stat().st_mtime + 5  # newer than the stamp, whatever the clock's resolution
    os.utime(changed, (later, later))
    assert not _current(changed)
    _run(checkout)
    assert _current(changed)
    assert stamp.stat().st_mtime_ns != first
