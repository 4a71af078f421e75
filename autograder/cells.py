"""Notebook and cell helpers, in one place (as nbgrader's ``utils``): a cell's nbgrader
metadata and grade_id, its source as text, the code cells the grader runs, and notebooks read
quietly or, for releases, once per process."""

import os
import warnings
from typing import Any

import nbformat


def nbgrader_meta(cell: object) -> dict[str, Any]:
    """A cell's nbgrader metadata as a dict (empty when absent or malformed)."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def grade_id_of(cell: object) -> str | None:
    grade_id = nbgrader_meta(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(str(part) for part in source)
    return source if isinstance(source, str) else ""


def code_cells(notebook: nbformat.NotebookNode,
               release: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(index, source) of the cells to run: test cells and demos out, locked cells restored."""
    given = {grade_id_of(cell): cell.source for cell in release.cells
             if nbgrader_meta(cell).get("locked")}
    cells = []
    for index, cell in enumerate(notebook.cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        grading = nbgrader_meta(cell)
        if grading.get("grade") and not grading.get("solution"):
            continue  # a test cell: the grader runs its own copy of the test
        extra = cell.get("metadata", {}).get("nnlab") if isinstance(cell.get("metadata"), dict) else None
        if isinstance(extra, dict) and extra.get("demo"):
            continue
        source = cell_source(cell)
        if grading.get("locked") and grade_id_of(cell) in given:
            source = given[grade_id_of(cell)]
        cells.append((index, source))
    return cells


def answer_cells_present(notebook: nbformat.NotebookNode) -> set[str | None]:
    return {grade_id_of(cell) for cell in notebook.cells} - {None}


def read_quietly(path: str | os.PathLike[str]) -> nbformat.NotebookNode:
    """A submitted notebook read with nbformat, without its warnings on stderr (a copied
    cell's duplicate id, a missing id: the student's notebook, not the grader's business)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nbformat.read(str(path), as_version=4)


# {path: ((mtime_ns, size, inode), notebook)}: this process's releases, read once
_RELEASES: dict[str, tuple[tuple[int, int, int], nbformat.NotebookNode]] = {}


def release_notebook(path: str | os.PathLike[str]) -> nbformat.NotebookNode:
    """The release notebook at ``path``, read once per process and read again when the
    file changes (a rebuilt release). Callers only read it."""
    info = os.stat(path)
    version = (info.st_mtime_ns, info.st_size, info.st_ino)
    cached = _RELEASES.get(str(path))
    if cached is None or cached[0] != version:
        cached = _RELEASES[str(path)] = (version, nbformat.read(str(path), as_version=4))
    return cached[1]
