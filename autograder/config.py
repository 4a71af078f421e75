"""Names and places shared by the autograder's commands."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "two_layer_net"
COURSE_ID = "two_layer_net_course"  # nbgrader's course id, in every course directory we make
NOTEBOOK = "two_layer_net"
TEMPLATE = ROOT / "autograder" / "assignment" / f"{ASSIGNMENT}.md"
SOURCE_NOTEBOOK = ROOT / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
RELEASE_DIR = ROOT / "notebooks" / ASSIGNMENT
RELEASE_NOTEBOOK = RELEASE_DIR / f"{NOTEBOOK}.ipynb"
STUDENT_PACKAGE = ROOT / "nnlab"  # shipped next to the released notebook
DEMO_STUDENTS = ROOT / "demo" / "students"
# What a student installs to run the released notebook (pinned from requirements.lock into
# the release's requirements.txt).
STUDENT_REQUIREMENTS = ("numpy", "matplotlib", "mlxtend", "tqdm", "ipywidgets", "jupyterlab")
LOCK_FILE = ROOT / "requirements.lock"
