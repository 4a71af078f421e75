"""Finding the submissions: nbgrader's ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``.

The folder is only read. Every listing is bounded (MAX_LISTED entries per folder) and
an unreadable folder costs only its own student a row, so no submission can stop
discovery for the others. Names are kept exactly as the file system gives them
(``surrogateescape`` for bytes that are not UTF-8); ``autograder.text`` makes them
printable where they are shown.
"""

import os
from pathlib import Path

from autograder import config

MAX_LISTED = 10_000  # entries read from one folder


def discover(submissions):
    """Every (student, assignment, notebook, path) to grade; path None when the notebook is
    missing. Each ``.ipynb`` in an assignment folder gets a row; see ``notebook_role``."""
    found = []
    for student in visible_folders(Path(submissions).absolute()):
        try:
            assignments = visible_folders(student)
        except OSError:  # unreadable: the student gets a row saying nothing was found
            assignments = []
        if not assignments:
            found.append((student.name, config.ASSIGNMENT, config.NOTEBOOK, None))
        for assignment in assignments:
            try:
                notebooks = notebooks_in(assignment)
            except OSError:
                notebooks = []
            names = {p.stem for p in notebooks}
            if not notebooks or (assignment.name == config.ASSIGNMENT
                                 and config.NOTEBOOK not in names and len(notebooks) > 1):
                found.append((student.name, assignment.name, config.NOTEBOOK, None))
            for notebook in notebooks:
                found.append((student.name, assignment.name, notebook.stem, notebook))
    return found


def notebook_role(assignment, path):
    """How a notebook in the assignment's folder is graded:

    - "graded": it is ``config.NOTEBOOK``, or the folder's only notebook (a renamed or
      re-downloaded copy such as ``two_layer_net (1).ipynb``), graded as the assignment's;
    - "unexpected": another notebook beside the assignment's, or one of several none of
      which has the right name: it gets a row that says so, and no grade.
    """
    if assignment != config.ASSIGNMENT or path.stem == config.NOTEBOOK:
        return "graded"
    return "graded" if notebooks_in(path.parent) == [path] else "unexpected"


def _listed(folder):
    """Up to MAX_LISTED entries of ``folder``, sorted by name, hidden ones left out."""
    with os.scandir(folder) as entries:
        chosen = []
        for entry in entries:
            if not entry.name.startswith("."):
                chosen.append(entry)
            if len(chosen) >= MAX_LISTED:
                break
    return sorted(chosen, key=lambda entry: entry.name)


def _is_dir(entry):
    try:
        return entry.is_dir()  # a link to a folder counts: grading refuses it with a row
    except OSError:
        return False


def visible_folders(folder):
    """Sub-folders, without hidden ones (.git, .ipynb_checkpoints, ...)."""
    return [Path(entry.path) for entry in _listed(folder) if _is_dir(entry)]


def notebooks_in(folder):
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
