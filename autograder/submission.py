"""A submission's files as the grader may read them: the notebook (no links, a regular file,
bounded in size) and the student's extra files (walked without recursion, bounded), copied
into the student process's scratch folder."""

import os
import shutil
import stat
from pathlib import Path

import nbformat

from autograder.cells import read_quietly


MAX_NOTEBOOK_BYTES = 50 << 20


def check_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, or raise ValueError when the grader must not read it: a link in
    ``<student>/<assignment>/<notebook>.ipynb`` (it could point at the instructor's source
    notebook or at another student's work), not a regular file, or over the size limit."""
    path = Path(path)
    if any(part.is_symlink() for part in (path, path.parent, path.parent.parent)):
        raise ValueError("the submission contains a symbolic link (the notebook or its folder): "
                         "submit the notebook itself")
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("the notebook is not a regular file: submit the notebook itself")
    if info.st_size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"the notebook is {info.st_size / 2**20:.0f} MiB, over the limit of "
                         f"{MAX_NOTEBOOK_BYTES >> 20} MiB (clear large outputs and resubmit)")
    return path


def read_notebook(path: str | os.PathLike[str]) -> nbformat.NotebookNode:
    """The notebook, or raise ValueError with a message a person can act on."""
    path = check_path(path)
    try:
        notebook = read_quietly(path)
    except Exception as exc:  # nbformat raises several types for broken files
        raise ValueError(f"the file is not a readable Jupyter notebook: "
                         f"{type(exc).__name__}: {str(exc)[:300]}") from None
    if not isinstance(notebook.get("cells"), list):
        raise ValueError("the notebook has no list of cells")
    return notebook


def submission_files(folder: Path, notebook_name: str, limit: int = 20 << 20,
                     count: int = 100) -> list[Path]:
    """The student's extra files (data their code reads): at most ``count``, ``limit`` bytes.

    The folder is walked without recursion, at most MAX_DEPTH folders deep and
    MAX_ENTRIES entries in all (a submission of 1,100 nested folders or a million files
    costs a bounded walk); links are never followed.
    """
    chosen: list[Path] = []
    total = 0
    for item in walk_files(Path(folder)):
        if item.name == notebook_name or ".ipynb_checkpoints" in item.parts:
            continue
        total += item.lstat().st_size
        if total > limit or len(chosen) >= count:
            break
        chosen.append(item)
    return chosen


MAX_DEPTH = 16


MAX_ENTRIES = 10_000


def walk_files(top: str | os.PathLike[str], max_depth: int = MAX_DEPTH,
               max_entries: int = MAX_ENTRIES) -> list[Path]:
    """Regular files below ``top`` (not links), sorted folder by folder, within bounds."""
    pending, seen, found = [(Path(top), 0)], 0, []
    while pending:
        folder, depth = pending.pop()
        try:
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=lambda entry: entry.name)[:max_entries - seen]
        except OSError:  # unreadable folder: its files are not the student's data
            continue
        seen += len(listed)
        subfolders = []
        for entry in listed:
            if entry.is_symlink():
                continue
            if entry.is_file(follow_symlinks=False):
                found.append(Path(entry.path))
            elif entry.is_dir(follow_symlinks=False) and depth < max_depth:
                subfolders.append((Path(entry.path), depth + 1))
        pending.extend(reversed(subfolders))
        if seen >= max_entries:
            break
    return sorted(found)


def copy_submission_files(folder: Path, scratch: Path, notebook_name: str) -> None:
    """Copy the submission's extra files into scratch."""
    for item in submission_files(folder, notebook_name):
        target = scratch / item.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(item, target)
