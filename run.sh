#!/usr/bin/env bash
# One entry point for everything a user or CI does with this repository.
#
#   ./run.sh headline [args]   run the headline regime comparison on up to 4 cores (creates .venv on first use)
#   ./run.sh test [args]       run the test suite on 2 processes (pytest args pass through; -n 0: serial)
#   ./run.sh study FILE [args] run any study file (see simulations/)
#   ./run.sh gallery           regenerate the README's images and headline table
#   ./run.sh docs [args]       build the documentation site into build/docs (warnings are errors)
#   ./run.sh lint              ruff check + format check
#   ./run.sh lock              re-resolve requirements.lock from pyproject.toml (needs network)
#   ./run.sh python [args]     the project's Python, e.g. ./run.sh python -m toolkit --help
#
# The virtual environment lives in .venv and is (re)installed from requirements.lock whenever
# the lock or pyproject.toml changes. Nothing is installed outside the repository.
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv

find_python() {
    local want candidates c
    want=$(tr -d '[:space:]' < .python-version)
    candidates=()
    if command -v pyenv >/dev/null 2>&1; then
        for c in "$(pyenv root)"/versions/"$want"*/bin/python; do candidates+=("$c"); done
    fi
    candidates+=("python$want" python3.13 python3.12 python3)
    for c in "${candidates[@]}"; do
        if command -v "$c" >/dev/null 2>&1 &&
            "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
            command -v "$c"
            return 0
        fi
    done
    echo "run.sh: no Python >= 3.12 found (looked for pyenv $want, python3.13, python3.12, python3)." >&2
    echo "run.sh: install Python 3.12 or 3.13 (for example 'pyenv install $want') and run again." >&2
    return 1
}

ensure_env() {
    if [ ! -x "$VENV/bin/python" ]; then
        local py
        py=$(find_python)
        echo "run.sh: creating $VENV with $py" >&2
        "$py" -m venv "$VENV"
    fi
    local stamp
    stamp="$VENV/.installed-$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        echo "run.sh: installing pinned dependencies from requirements.lock" >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.lock
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
        rm -f "$VENV"/.installed-*
        touch "$stamp"
    fi
    # The toolkit is installed editable, and pip compiles no bytecode for an editable install (it
    # does for every other package it installs). Compile it here, and again whenever a source is
    # newer than the last compilation: every process then loads it instead of compiling the
    # modules it imports (about 0.15 CPU-s for a run's command line, as much for its fork
    # server) where Python writes no bytecode itself (PYTHONDONTWRITEBYTECODE, python -B). The
    # stamp lives beside the bytecode, in the checkout (ignored by git, like the bytecode).
    local stamp_dir=toolkit/__pycache__
    if [ ! -f "$stamp_dir/.compiled" ] ||
        [ -n "$(find toolkit -name '*.py' -newer "$stamp_dir/.compiled" -print -quit 2>/dev/null)" ]; then
        # a source changed while compiling stays newer than the stamp
        if mkdir -p "$stamp_dir" 2>/dev/null && touch "$stamp_dir/.compiling" 2>/dev/null &&
            "$VENV/bin/python" -m compileall -q toolkit >/dev/null 2>&1; then
            mv -f "$stamp_dir/.compiling" "$stamp_dir/.compiled" 2>/dev/null || true  # (or a
            # run.sh beside this one has moved it already)
        else  # e.g. a read-only checkout: each process compiles in memory, as before
            rm -f "$stamp_dir/.compiling" 2>/dev/null || true
        fi
    fi
    # Solara's front-end packages for the standalone interactive view (its page cannot reach a
    # CDN here): fetched once from the npm registry, at install time, never while tests run.
    if [ ! -f "$VENV/.solara-assets" ]; then
        if command -v npm >/dev/null 2>&1; then
            echo "run.sh: installing Solara's front-end packages from the npm registry" >&2
            if "$VENV/bin/python" -m toolkit.viz.assets >&2; then
                touch "$VENV/.solara-assets"
            else
                echo "run.sh: could not install them; the view's browser test will be skipped" >&2
            fi
        else
            echo "run.sh: npm not found: 'solara run' and the view's browser test need Solara's" \
                "front-end packages (install npm, then run any ./run.sh command again)" >&2
        fi
    fi
}

cmd=${1:-help}
shift || true
case "$cmd" in
    headline)
        ensure_env
        # on every core up to 4 (its 4 units, the decomposition's chunks and 8 figures share
        # them; the same bytes as serially); --workers 1 after it runs it in one process
        cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
        workers=$(( cores < 4 ? cores : 4 ))
        exec "$VENV/bin/python" -m toolkit run simulations/headline.toml --workers "$workers" "$@"
        ;;
    study)
        ensure_env
        exec "$VENV/bin/python" -m toolkit run "$@"
        ;;
    gallery)
        ensure_env
        exec "$VENV/bin/python" -m toolkit.gallery "$@"
        ;;
    docs)
        ensure_env
        # Sphinx (docs/conf.py): the pages of docs/, the notebooks as stored, the API from the
        # docstrings; open build/docs/index.html. Arguments pass through (-E: rebuild all).
        exec "$VENV/bin/python" -m sphinx -W --keep-going -q -b html docs build/docs "$@"
        ;;
    test)
        ensure_env
        # Two worker processes (pytest-xdist; tests sharing an expensive module fixture stay on
        # one, see the xdist_group marks), unless the arguments choose: -n N, -n 0 for serial.
        workers=(-n 2 --dist loadgroup)
        for a in "$@"; do
            case "$a" in -n | -n* | --numprocesses* | --dist* | no:xdist) workers=() ;; esac
        done
        exec "$VENV/bin/python" -m pytest "${workers[@]}" "$@"
        ;;
    lint)
        ensure_env
        "$VENV/bin/ruff" check toolkit tests simulations benchmarks notebooks
        exec "$VENV/bin/ruff" format --check toolkit tests simulations benchmarks notebooks
        ;;
    lock)
        ensure_env
        "$VENV/bin/python" -m pip install --quiet uv
        exec "$VENV/bin/uv" pip compile pyproject.toml --all-extras --python-version 3.12 \
            --no-header --annotation-style line -o requirements.lock
        ;;
    python)
        ensure_env
        exec "$VENV/bin/python" "$@"
        ;;
    *)
        sed -n '2,14p' "$0"
        [ "$cmd" = help ] || exit 2
        ;;
esac
