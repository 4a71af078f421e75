"""``python -m autograder gradescope ASSIGNMENT [--out PATH]``: a Gradescope autograder zip.

Gradescope's format (https://gradescope-autograders.readthedocs.io/en/latest/specs/): a zip
with ``setup.sh`` and ``run_autograder`` at its root, unpacked in /autograder/source of an
Ubuntu image; ``setup.sh`` runs once when the image is built, ``run_autograder`` once per
submission (as root, working directory /autograder), with the submission in
/autograder/submission, and must write /autograder/results/results.json.

The zip holds this project's grader for one assignment:

- ``autograder/`` (the grader, with only this assignment's test suite) and
  ``autograder/gradescope/run.py`` (what ``run_autograder`` runs);
- ``solutions/<assignment>/`` (the reference the hidden tests compare with);
- ``nnlab/`` as this assignment's students get it (``build.copy_student_package``);
- ``notebooks/<assignment>/<notebook>.ipynb`` (the release: locked cells are restored
  from it);
- ``course.toml`` listing this assignment only, ``gradescope.json`` naming it;
- ``requirements.txt``: the pinned packages of ``requirements.lock``.

``setup.sh`` installs Python 3.11 (apt), a virtualenv at /autograder/venv with those pins,
bubblewrap (apt) when the image has it, and the account ``nnstudent`` (no home, no login
shell) for student code. Whether bubblewrap can run in Gradescope's container is decided
per submission by the grader's own probe (``sandbox.isolation_mode("auto")``); otherwise
student code runs under rlimits, as ``nnstudent`` (``$AUTOGRADER_SANDBOX_USER``, set by
``run_autograder``; a numeric uid of its own when the account is missing), never as root:
``gradescope_run`` makes /autograder's grader folders root's only and refuses to grade when
that switch of uid does not work. The results' top-level output says which.
"""

import argparse
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from autograder import build, config, course, hidden

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euxo pipefail
SOURCE=/autograder/source
export DEBIAN_FRONTEND=noninteractive
apt-get update
# Python 3.11 (Ubuntu 22.04 has python3.11 in universe; 24.04 ships 3.12, which the pins
# also support) and the sandbox for student code when the image offers it.
apt-get install -y --no-install-recommends python3.11 python3.11-venv python3.11-dev \
    || apt-get install -y --no-install-recommends python3 python3-venv python3-dev
apt-get install -y --no-install-recommends bubblewrap \
    || echo "bubblewrap is not available: student code will run under rlimits only"
PY=$(command -v python3.11 || command -v python3)
"$PY" -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
/autograder/venv/bin/python -m pip install -r "$SOURCE/requirements.txt"
# Without bubblewrap, student code runs as this account (no home, no login, no groups; a
# numeric uid of its own when useradd is missing). It must be able to read the Python
# installation and the venv, and nothing of $SOURCE (run_autograder makes it root's only).
if ! id -u nnstudent >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
        --user-group nnstudent \
        || echo "useradd failed: student code will run as a numeric uid of its own"
fi
chmod -R go-w,a+rX /autograder/venv
# Byte-compile now: at grading time the source folder need not be writable.
/autograder/venv/bin/python -m compileall -q "$SOURCE/autograder" "$SOURCE/solutions" "$SOURCE/nnlab" || true
# Warm matplotlib's font cache and check that the grader imports.
cd "$SOURCE" && MPLBACKEND=Agg /autograder/venv/bin/python -c \
    "import matplotlib.pyplot, autograder.gradescope.run, autograder.course as c; c.current()"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this once per submission (as root, in /autograder). GRADESCOPE_ROOT and
# GRADESCOPE_PYTHON let a test run it on a fake tree.
ROOT="${GRADESCOPE_ROOT:-/autograder}"
PYTHON="${GRADESCOPE_PYTHON:-$ROOT/venv/bin/python}"
cd "$ROOT/source" || exit 1
export GRADESCOPE_ROOT="$ROOT" PYTHONPATH="$ROOT/source" NN_COURSE="$ROOT/source/course.toml" \
    MPLBACKEND=Agg PYTHONDONTWRITEBYTECODE=1 AUTOGRADER_SANDBOX_USER="${AUTOGRADER_SANDBOX_USER:-nnstudent}"
# gradescope_run makes source/, submission/ and results/ root's only before any student
# code runs (chmod 700), runs student code as $AUTOGRADER_SANDBOX_USER, kills its every
# process, then replaces results/results.json.
exec "$PYTHON" -m autograder.gradescope.run
"""

SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def requirements() -> str:
    """The lock's pins (this project's own package is not in it: the bundle has its code)."""
    lines = [line for line in config.LOCK_FILE.read_text().splitlines()
             if line.strip() and not line.startswith(("#", "-e"))]
    return ("# Pinned from requirements.lock by python -m autograder gradescope\n"
            + "\n".join(lines) + "\n")


def course_file(assignment: course.Assignment) -> str:
    """course.toml restricted to ``assignment`` (its entry's module, if not the default)."""
    lines = [f'course_id = "{course.current().course_id}"', "", "[[assignment]]",
             f'name = "{assignment.name}"']
    if assignment.module != f"autograder.suite.{assignment.name}":
        lines.append(f'module = "{assignment.module}"')
    return "\n".join(lines) + "\n"


def stage(assignment: course.Assignment, folder: str | os.PathLike[str]) -> None:
    """Write the bundle's files for ``assignment`` into ``folder``."""
    folder = Path(folder)
    if assignment.root != config.ROOT or not assignment.module.startswith("autograder.suite."):
        raise ValueError(f"{assignment.name}: only assignments kept in this repository "
                         f"(autograder/suite/<name>) can be bundled")
    if not assignment.release_notebook.is_file():
        raise FileNotFoundError(f"{assignment.release_notebook} is missing: run "
                                f"`python -m autograder build {assignment.name}` first")
    others = set(course.current().names) - {assignment.name}

    def grader_ignore(where: str, names: list[str]) -> set[str]:
        skipped = set(SKIPPED(where, names))
        if Path(where) == config.ROOT / "autograder" / "suite":
            skipped |= others & set(names)
        if Path(where) == config.ROOT / "autograder" / "assignment":
            skipped |= {n for n in names if n.endswith(".md") and n[:-3] in others}
        return skipped

    shutil.copytree(config.ROOT / "autograder", folder / "autograder", ignore=grader_ignore)
    (folder / "solutions").mkdir()
    shutil.copy(config.ROOT / "solutions" / "__init__.py", folder / "solutions")
    shutil.copytree(config.ROOT / "solutions" / assignment.name,
                    folder / "solutions" / assignment.name, ignore=SKIPPED)
    build.copy_student_package(folder, assignment)
    release = folder / "notebooks" / assignment.name
    release.mkdir(parents=True)
    shutil.copy(assignment.release_notebook, release / assignment.release_notebook.name)
    # the course secret, so hidden inputs are drawn as the instructor's own grader draws them
    shutil.copy(hidden.ensure_secret_file(), folder / hidden.SECRET_NAME)
    (folder / "course.toml").write_text(course_file(assignment))
    (folder / "gradescope.json").write_text(json.dumps({"assignment": assignment.name}) + "\n")
    (folder / "requirements.txt").write_text(requirements())
    for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)


def make_zip(assignment: course.Assignment, target: str | os.PathLike[str]) -> Path:
    """Write the autograder zip for ``assignment`` at ``target``; returns its path."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gradescope-bundle-") as folder:
        stage(assignment, folder)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(folder).rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo.from_file(path, path.relative_to(folder).as_posix())
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = ((0o755 if path.stat().st_mode & 0o111 else 0o644)
                                          | 0o100000) << 16
                    archive.writestr(info, path.read_bytes())
    return target


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("gradescope", help="write a Gradescope autograder zip for ASSIGNMENT")
    p.add_argument("assignment", help="the assignment")
    p.add_argument("--out", type=Path, default=None,
                   help="where to write the zip (default: build/gradescope/<assignment>/autograder.zip)")
    return p


def run(args: argparse.Namespace) -> int:
    assignment = course.current().get(args.assignment)
    if assignment is None:
        print(f"error: unknown assignment {args.assignment}; this course has "
              f"{', '.join(course.current().names)}")
        return 2
    target = args.out or config.ROOT / "build" / "gradescope" / assignment.name / "autograder.zip"
    if target.is_dir():
        target = target / "autograder.zip"
    try:
        make_zip(assignment, target)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}")
        return 1
    print(f"wrote {target}: upload it on Gradescope's Configure Autograder page (Ubuntu 22.04 "
          f"base image); it grades {assignment.notebook}.ipynb ({assignment.max_score:g} points)")
    return 0
