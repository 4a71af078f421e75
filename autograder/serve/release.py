"""Putting a feedback page where ``nbgrader fetch_feedback`` looks for it.

nbgrader 0.9.6's ``release_feedback`` copies each page to
``<exchange>/<course>/feedback/<hash>.html``, where ``hash`` is
``notebook_hash(secret=<the submission's submission_secret.txt>, notebook_id=<notebook
name without .ipynb>)``, through a ``<hash>-tmp.html`` renamed into place; the folder is
made with mode 0711 (students can open a page whose name they can compute, and list
nothing). ``fetch_feedback`` computes the same hash from the copy of the secret in the
student's cache. For a submission without a secret (an nbgrader older than 0.7) it falls
back to ``notebook_hash(<the notebook>, make_unique_key(course, assignment, notebook,
student, timestamp))``, which ``page_name`` computes too. Pages are written 0644, as
nbgrader's copy of a generated page is (``storage.write_atomic``, then the mode).
"""

from __future__ import annotations

import os
from pathlib import Path

from nbgrader.utils import make_unique_key, notebook_hash

from autograder.outputs import storage

FOLDER_MODE = 0o711
PAGE_MODE = 0o644


def page_name(notebook_id: str, secret: str | None, legacy: tuple[str, str, str, str] | None = None,
              notebook: Path | None = None) -> str | None:
    """``<hash>.html`` for one notebook of a submission, or None when it cannot be named
    (no secret, and no notebook or ``legacy`` = (course, assignment, student, timestamp)
    to fall back on)."""
    if secret:
        return f"{notebook_hash(secret=secret, notebook_id=notebook_id)}.html"
    if legacy is None or notebook is None or notebook.is_symlink() or not notebook.is_file():
        return None
    course_id, assignment, student, timestamp = legacy
    key = make_unique_key(course_id, assignment, notebook_id, student, timestamp)
    return f"{notebook_hash(str(notebook), key)}.html"


def feedback_folder(exchange: Path, course_id: str) -> Path:
    """``<exchange>/<course>/feedback``, made as nbgrader makes it when missing."""
    folder = Path(exchange) / course_id / "feedback"
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, FOLDER_MODE)
    return folder


def publish(exchange: Path, course_id: str, name: str, page: str) -> Path:
    """Write ``page`` as ``<exchange>/<course>/feedback/<name>`` atomically (a temporary
    file renamed into place, as nbgrader does with its ``-tmp.html``), mode 0644 whatever
    the service's umask; returns its path."""
    assert name.endswith(".html") and "/" not in name, f"not a page name: {name!r}"
    target = feedback_folder(exchange, course_id) / name
    storage.write_atomic(target, page)
    os.chmod(target, PAGE_MODE)
    return target
