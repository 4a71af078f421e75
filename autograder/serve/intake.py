"""Taking one inbound submission in: a private copy to grade, and what its pages need.

The inbound folder is the student's (they own its files and can rewrite them at any
time), so the service grades a copy made once, into ``OUT/serve/staging/<id>/``, laid out
as ``autograder.discovery`` expects (``<student>/<assignment>/<notebook>.ipynb``, the
student part a fixed placeholder so no student text becomes a path). The copy reads
regular files only (opened without following links, FIFOs and devices refused), bounded in
depth, count and bytes; a notebook over the size limit becomes a sparse file of its size
(the grader refuses it with its usual message), and a link named ``*.ipynb`` stays a link
(the grader refuses it too). Nothing is ever followed out of the inbound folder.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import stat
from pathlib import Path

from autograder.course import Assignment
from autograder.discovery import Submission, discover
from autograder.serve.watch import SECRET, TIMESTAMP
from autograder.submission import MAX_NOTEBOOK_BYTES, walk_files

PLACEHOLDER = "student"
MAX_COPY_BYTES = 200 << 20   # of one submission's files
MAX_NOTEBOOKS = 20           # notebooks of one submission given a page
MAX_SECRET = 1024            # bytes read of submission_secret.txt
CHUNK = 1 << 20
_SECRET = re.compile(r"^[0-9A-Za-z_-]{1,512}$")


@dataclasses.dataclass(frozen=True)
class Staged:
    """A submission ready to grade: its items (``discovery.Submission`` with the real
    student id, paths in the copy), the notebook ids its pages are released for (the
    ``*.ipynb`` names in the inbound folder), nbgrader's secret of the submission (None
    when it has none) and why it cannot be graded (``problem``, None when it can)."""

    items: tuple[Submission, ...]
    notebooks: tuple[str, ...]
    secret: str | None
    problem: str | None = None


def read_secret(folder: Path) -> str | None:
    """nbgrader's ``submission_secret.txt`` of a submission, when it is a plain file
    holding a token; else None."""
    try:
        descriptor = os.open(folder / SECRET, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        text = handle.read(MAX_SECRET).decode("ascii", "replace")
    return text if _SECRET.match(text) else None


def notebook_ids(folder: Path) -> tuple[str, ...]:
    """The notebook ids (file stems) of the ``*.ipynb`` entries at the top of ``folder``,
    links included (nbgrader's fetch_feedback looks for exactly these)."""
    try:
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if e.name.endswith(".ipynb")
                           and not e.name.startswith("."))
    except OSError:
        return ()
    return tuple(name[:-len(".ipynb")] for name in names[:MAX_NOTEBOOKS])


def _copy_file(source: Path, target: Path, budget: list[int]) -> None:
    """Copy one regular file without following links; over-limit notebooks become sparse
    files of the same size; ``budget`` ([bytes left]) bounds the whole copy."""
    try:
        descriptor = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            if info.st_size > MAX_NOTEBOOK_BYTES or info.st_size > budget[0]:
                out.truncate(info.st_size)  # refused by size, never read
                return
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                budget[0] -= len(chunk)
                out.write(chunk)


def copy_submission(source: Path, target: Path) -> None:
    """A bounded copy of ``source`` (an inbound folder) into ``target`` (made anew): its
    regular files, nbgrader's two marker files left out, links named ``*.ipynb`` at the top
    kept as links."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    budget = [MAX_COPY_BYTES]
    for path in walk_files(source):
        relative = path.relative_to(source)
        if relative.as_posix() not in (TIMESTAMP, SECRET):
            _copy_file(path, target / relative, budget)
    for name in notebook_ids(source):
        link = source / f"{name}.ipynb"
        if link.is_symlink():
            os.symlink(os.readlink(link), target / link.name)


def stage(inbound: Path, staging: Path, student: str | None, assignment: Assignment | None,
          problem: str | None) -> Staged:
    """Copy the inbound folder ``inbound`` into ``staging`` and list what to grade.
    ``student`` and ``assignment`` come from the folder's name, already checked
    (``watch.parse_name``), and ``problem`` says why the name is not usable."""
    if inbound.is_symlink() or not inbound.is_dir():
        return Staged((), (), None, "the submission is not a folder")
    secret, notebooks = read_secret(inbound), notebook_ids(inbound)
    if problem is not None or student is None or assignment is None:
        return Staged((), notebooks, secret, problem or "the folder name is not usable")
    folder = staging / PLACEHOLDER / assignment.name
    copy_submission(inbound, folder)
    items = tuple(item._replace(student=student)
                  for item in discover(staging, (assignment,), restricted=True))
    return Staged(items, notebooks, secret)
