#!/usr/bin/env bash
# One entry point for set-up on a fresh machine: finds a Python 3.12+, makes .venv,
# installs the project with its test extra (only when pyproject.toml changed), then runs
#   example  - a tour on a bundled DBOS program: check it, show its migration, run it on the shim
#              (no server; nothing in the repository is changed)
#   test     - the whole test suite (extra arguments go to pytest)
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
    local candidate
    for candidate in python3.14 python3.13 python3.12 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    # pyenv keeps interpreters that are not on PATH unless selected
    local root
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    for candidate in "$root"/versions/3.1[2-9]*/bin/python3; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    echo "dbos2resonate needs Python 3.12 or newer; none was found on PATH or under pyenv." >&2
    return 1
}

ensure_venv() {
    local stamp=.venv/.installed-from
    local want
    want=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    if [ ! -x .venv/bin/python ]; then
        "$(find_python)" -m venv .venv
    fi
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[test]'
    echo "$want" >"$stamp"
}

command=${1:-test}
shift || true
ensure_venv
case "$command" in
    example)
        program=fixtures/programs/programming_model.py
        echo "== 1/3  dbos2resonate check $program   (the DBOS constructs left, as CI sees them)"
        .venv/bin/dbos2resonate check "$program" --statistics --exit-zero
        echo
        echo "== 2/3  dbos2resonate migrate --diff $program   (the native Resonate code; nothing is written)"
        .venv/bin/dbos2resonate migrate --diff "$program"
        echo
        echo "== 3/3  the same program, unchanged but for its import, running on the shim"
        exec .venv/bin/python -m fixtures.run_example "$@"
        ;;
    test) exec .venv/bin/python -m pytest "$@" ;;
    *) echo "usage: scripts/dev.sh example|test [pytest args...]" >&2; exit 2 ;;
esac
