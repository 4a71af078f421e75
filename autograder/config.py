"""Places shared by the autograder's commands (each assignment's own places are in
``autograder.course``; the course's id and assignments in ``course.toml``)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDENT_PACKAGE = ROOT / "nnlab"  # shipped next to each released notebook (see build)
# What a student installs to run a released notebook (pinned from requirements.lock into
# the release's requirements.txt).
STUDENT_REQUIREMENTS = ("numpy", "matplotlib", "mlxtend", "tqdm", "ipywidgets", "jupyterlab")
LOCK_FILE = ROOT / "requirements.lock"
