"""An nbgrader exchange in a temporary folder, and students who use it with nbgrader's own
command line (``nbgrader submit``, ``nbgrader fetch_feedback``), each with a HOME, Jupyter
folders and nbgrader cache of their own. Used by the tests of ``autograder.serve``."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder import course
from autograder.course import Assignment

NBGRADER_SECONDS = 120


@dataclasses.dataclass(frozen=True)
class Exchange:
    """An exchange root holding the course's ``inbound``, ``outbound`` and ``feedback``."""

    root: Path
    course_id: str

    @property
    def inbound(self) -> Path:
        return self.root / self.course_id / "inbound"

    @property
    def feedback(self) -> Path:
        return self.root / self.course_id / "feedback"


def make_exchange(root: Path, assignments: tuple[Assignment, ...]) -> Exchange:
    """An exchange as ``nbgrader release_assignment`` leaves it: the root open to all
    (0777), ``inbound`` writable but not listable by students (0733 with setgid), each
    release in ``outbound/<assignment>/``."""
    exchange = Exchange(Path(root), course.current().course_id)
    exchange.root.mkdir(parents=True, exist_ok=True)
    os.chmod(exchange.root, 0o777)
    exchange.inbound.mkdir(parents=True)
    os.chmod(exchange.inbound, 0o2733)
    for assignment in assignments:
        shutil.copytree(assignment.release_dir, exchange.root / exchange.course_id / "outbound"
                        / assignment.name)
    return exchange


@dataclasses.dataclass(frozen=True)
class Student:
    """A student with a HOME of their own, who submits and fetches with nbgrader's CLI."""

    name: str
    home: Path
    exchange: Exchange

    def env(self) -> dict[str, str]:
        """The environment of the student's nbgrader commands."""
        env = dict(os.environ, HOME=str(self.home),
                   JUPYTER_CONFIG_DIR=str(self.home / ".jupyter"),
                   JUPYTER_DATA_DIR=str(self.home / ".local" / "share" / "jupyter"),
                   JUPYTER_RUNTIME_DIR=str(self.home / ".local" / "runtime"))
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        return env

    def nbgrader(self, *arguments: str) -> subprocess.CompletedProcess:
        """``nbgrader ARGUMENTS`` as this student, in their HOME; asserts it succeeds."""
        done = subprocess.run(
            [sys.executable, "-m", "nbgrader", *arguments, "--course", self.exchange.course_id,
             "--student", self.name, f"--Exchange.root={self.exchange.root}"],
            cwd=self.home, env=self.env(), capture_output=True, text=True,
            timeout=NBGRADER_SECONDS)
        assert done.returncode == 0, (f"nbgrader {' '.join(arguments)} as {self.name} failed "
                                      f"({done.returncode}):\n{done.stdout[-2000:]}\n"
                                      f"{done.stderr[-2000:]}")
        return done

    def submit(self, assignment: Assignment, notebook: nbformat.NotebookNode | Path) -> None:
        """Put ``notebook`` in the student's assignment folder and ``nbgrader submit`` it."""
        folder = self.home / assignment.name
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{assignment.notebook}.ipynb"
        if isinstance(notebook, Path):
            shutil.copyfile(notebook, target)
        else:
            nbformat.write(notebook, str(target))
        self.nbgrader("submit", assignment.name)

    def fetch_feedback(self, assignment: Assignment) -> dict[str, str]:
        """``nbgrader fetch_feedback``; returns {"<timestamp>/<notebook>.html": page text}
        of every page fetched so far."""
        self.nbgrader("fetch_feedback", assignment.name)
        folder = self.home / assignment.name / "feedback"
        return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*.html"))}


def student(tmp: Path, name: str, exchange: Exchange) -> Student:
    """A new student ``name`` with a HOME under ``tmp``."""
    home = Path(tmp) / "homes" / name
    home.mkdir(parents=True)
    return Student(name, home, exchange)


def hand_made(exchange: Exchange, folder_name: str, files: dict[str, bytes],
              secret: str | None = "0" * 128, timestamp: str = "2026-12-07 10:00:00.000000 UTC"
              ) -> Path:
    """An inbound folder written directly (as a hostile student can: inbound is writable
    by all), with nbgrader's marker files unless ``secret`` is None."""
    folder = exchange.inbound / folder_name
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "timestamp.txt").write_text(timestamp)
    if secret is not None:
        (folder / "submission_secret.txt").write_text(secret)
    return folder
