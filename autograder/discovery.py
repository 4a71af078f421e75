"""Finding the submissions: nbgrader's ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``.

The folder is only read. Every listing is bounded (MAX_LISTED entries per folder) and
an unreadable folder costs only its own student a row, so no submission can stop
discovery for the others. Names are kept exactly as the file system gives them
(``surrogateescape`` for bytes that are not UTF-8); ``autograder.text`` makes them
printable where they are shown.
"""

import os
import typing
from collections.abc import Iterable
from pathlib import Path

if typing.TYPE_CHECKING:
    from autograder.course import Assignment

MAX_LISTED = 10_000  # entries read from one folder


class Submission(typing.NamedTuple):
    """One row to grade: whose, which assignment folder, which notebook, and its path
    (None when no notebook was found). Names are the file system's, unchanged."""

    student: str
    assignment: str
    notebook: str
    path: Path | None


def discover(submissions: str | os.PathLike[str], assignments: Iterable["Assignment"],
             restricted: bool = False) -> list[Submission]:
    """Every Submission under ``submissions`` for the course's ``assignments``
    (``autograder.course.Assignment``, course order); path None when missing. Each
    ``.ipynb`` in an assignment folder gets a row (see ``notebook_role``); a folder of an
    assignment the course does not have gets one too (it will say so), unless
    ``restricted`` (``grade --assignment``), which skips the other assignments' folders.
    A student folder with no assignment folder gets a missing row per assignment."""
    by_name = {a.name: a for a in assignments}
    found = []
    for student in visible_folders(Path(submissions).absolute()):
        try:
            folders = visible_folders(student)
        except OSError:  # unreadable: the student gets rows saying nothing was found
            folders = []
        if not folders:
            found += [Submission(student.name, a.name, a.notebook, None) for a in assignments]
        for folder in folders:
            assignment = by_name.get(folder.name)
            if assignment is None and restricted:
                continue
            try:
                notebooks = notebooks_in(folder)
            except OSError:
                notebooks = []
            expected = assignment.notebook if assignment else folder.name
            names = {p.stem for p in notebooks}
            if not notebooks or (assignment and expected not in names and len(notebooks) > 1):
                found.append(Submission(student.name, folder.name, expected, None))
            found += [Submission(student.name, folder.name, p.stem, p) for p in notebooks]
    return found


def notebook_role(assignment: "Assignment", path: Path) -> str:
    """How a notebook in ``assignment``'s folder is graded:

    - "graded": it is the assignment's notebook, or the folder's only notebook (a renamed
      or re-downloaded copy such as ``two_layer_net (1).ipynb``), graded as the
      assignment's;
    - "unexpected": another notebook beside the assignment's, or one of several none of
      which has the right name: it gets a row that says so, and no grade.
    """
    if path.stem == assignment.notebook:
        return "graded"
    return "graded" if notebooks_in(path.parent) == [path] else "unexpected"


def _listed(folder: str | os.PathLike[str]) -> list[os.DirEntry[str]]:
    """Up to MAX_LISTED entries of ``folder``, sorted by name, hidden ones left out."""
    with os.scandir(folder) as entries:
        chosen = []
        for entry in entries:
            if not entry.name.startswith("."):
                chosen.append(entry)
            if len(chosen) >= MAX_LISTED:
                break
    return sorted(chosen, key=lambda entry: entry.name)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # a link to a folder counts: grading refuses it with a row
    except OSError:
        return False


def visible_folders(folder: str | os.PathLike[str]) -> list[Path]:
    """Sub-folders, without hidden ones (.git, .ipynb_checkpoints, ...)."""
    return [Path(entry.path) for entry in _listed(folder) if _is_dir(entry)]


def notebooks_in(folder: str | os.PathLike[str]) -> list[Path]:
    """The notebooks of a submission folder; hidden files (``._x.ipynb`` from macOS,
    ``.~x.ipynb`` lock files) are not notebooks."""
    found = []
    for entry in _listed(folder):
        if not entry.name.endswith(".ipynb"):
            continue
        try:
            if entry.is_symlink() or entry.is_file():
                found.append(Path(entry.path))
        except OSError:
            continue
    return found
