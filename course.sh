#!/usr/bin/env bash
# One entry point that sets everything up on a fresh machine with Python 3.11, then runs:
#   ./course.sh demo   build the release and grade the bundled demo submissions
#   ./course.sh test   run the test suite
#   ./course.sh env    only set up (.venv with the pinned packages; bubblewrap if possible)
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

setup() {
    if [ ! -x .venv/bin/python ] || ! cmp -s requirements.lock .venv/.installed-lock; then
        echo "setting up .venv (pinned packages from requirements.lock)..." >&2
        "$PYTHON" -m venv .venv
        .venv/bin/python -m pip install --quiet --upgrade pip
        .venv/bin/python -m pip install --quiet -r requirements.lock
        .venv/bin/python -m pip install --quiet --no-deps -e . >.venv/install.log 2>&1 \
            || { cat .venv/install.log >&2; exit 1; }
        cp requirements.lock .venv/.installed-lock
    fi
    # bubblewrap sandboxes student code while grading; without it the grader falls back
    # to resource limits and says so.
    if ! command -v bwrap >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing bubblewrap (sandbox for student code)..." >&2
        (apt-get update -qq && apt-get install -y -qq bubblewrap) >/dev/null 2>&1 \
            || echo "warning: could not install bubblewrap; grading will use rlimits only" >&2
    fi
    # nbgrader shells out to alembic, which lives in the venv's bin/.
    export PATH="$PWD/.venv/bin:$PATH"
    export MPLBACKEND=Agg
}

# The TA test drives formgrader in Debian's Chromium (headless, through Playwright); it is
# skipped with a message where Chromium is missing.
browser() {
    if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing chromium (for the TA browser test)..." >&2
        (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
            || echo "warning: could not install chromium; the browser test will be skipped" >&2
    fi
}

case "${1:-}" in
    demo) setup; shift; exec python -m autograder demo "$@" ;;
    test) setup; browser; shift; exec python -m pytest "$@" ;;
    env) setup ;;
    *) echo "usage: ./course.sh demo|test|env" >&2; exit 2 ;;
esac
