"""The copy of a submission that nbgrader's gradebook is given (``submitted/``).

nbgrader's autograde steps stop on notebooks they cannot take (an outdated or emptied
metadata schema, which is what its ``DeduplicateIds`` leaves on a copy-pasted answer cell;
a notebook nbformat does not validate), so the copy made here is one they always take:

- every cell that carries nbgrader metadata gets the release's metadata for its grade_id
  (the release is the truth; nbgrader's ``OverwriteCells`` restores most of it anyway),
  when the cell is the first with that grade_id and has the release's cell type; any
  other copy, unknown id, non-string id or malformed metadata loses its nbgrader
  metadata and stays in the notebook as a plain cell, so the TA still sees it;
- cell ids are made valid and unique (nbformat would otherwise rewrite and warn), the
  notebook's own metadata (kernel, language) is the release's, text that is not UTF-8 is
  replaced, and outputs or attachments nbformat cannot validate are dropped;
- if that leaves a grade_id missing, or the notebook still does not validate (nbformat's
  schema, nbgrader's metadata schema, text that is not UTF-8), it is rebuilt from the
  release with the student's answers (the first cell with each answer id), and their
  outputs when those are valid; as a last resort, with the answers' text only;
- last, whichever it is, the student's content is made inert for formgrader, which renders
  these copies in the TA's logged-in session (``autograder.gradebook.inert``: raw HTML escaped,
  unsafe links, images, outputs and MathJax commands removed; nbgrader cells untouched).

nbgrader's metadata check (``MetadataValidator``) re-checks its JSON schema on every cell
(2 ms a cell); ``check_metadata`` is the same check, remembering the (cell type, metadata)
pairs that passed, which for these copies are the release's.
"""

import copy
import json
import os
import re
import warnings
from typing import Any

import nbformat
from nbformat import validator
from nbformat.corpus.words import generate_corpus_id
from nbgrader.nbgraderformat import MetadataValidator

from autograder.cells import cell_source, grade_id_of, nbgrader_meta, read_quietly
from autograder.gradebook.inert import inert_notebook
from autograder.records import Record, RowStatus

CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5's pattern for cell ids
_CELL_KEYS = {"code": {"outputs"}, "markdown": {"attachments"}, "raw": {"attachments"}}


class _RememberingValidator(MetadataValidator):
    """nbgrader's metadata validator, skipping cells whose (cell type, nbgrader metadata) it
    passed before: its verdict depends on nothing else (the source only names a failing cell)."""

    def __init__(self) -> None:
        super().__init__()
        self._passed: set[tuple[Any, str]] = set()

    def validate_cell(self, cell: nbformat.NotebookNode) -> None:
        try:
            key = (cell.get("cell_type"), json.dumps(cell.metadata["nbgrader"], sort_keys=True))
        except (KeyError, TypeError, ValueError, AttributeError):  # not JSON: check it, do not remember
            return super().validate_cell(cell)
        if key not in self._passed:
            super().validate_cell(cell)
            self._passed.add(key)
        return None


_VALIDATOR = _RememberingValidator()


def check_metadata(notebook: nbformat.NotebookNode) -> None:
    """What nbgrader's ``CheckCellMetadata`` checks (each cell's nbgrader metadata, grade_ids
    unique); raises nbgrader's ValidationError (or the schema's) when it would."""
    _VALIDATOR.validate_nb(notebook)


def read_or_none(path: str | os.PathLike[str] | None) -> nbformat.NotebookNode | None:
    """The notebook at ``path`` (nbformat 4), or None when there is none or it is unreadable."""
    try:
        with warnings.catch_warnings():  # nbformat warns about what this module repairs
            warnings.simplefilter("ignore")
            notebook = read_quietly(path) if path else None
    except Exception:  # nbformat raises many types for broken files; they get rebuilt instead
        return None
    return notebook if notebook is not None and isinstance(notebook.get("cells"), list) else None


def submission_for_gradebook(result: Record,
                             release: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook to put in ``submitted/`` for ``result``: the student's, repaired as the
    module docstring says, or rebuilt from ``release``, with the student's content made
    inert for formgrader (``autograder.gradebook.inert``). Tolerates any content."""
    # An invalid notebook is never read here (it may be a link to the instructor's source).
    notebook = (None if result.get("status") == RowStatus.INVALID_NOTEBOOK
                else read_or_none(result.get("path")))
    if notebook is not None:
        repaired = repaired_or_none(notebook, release)
        if repaired is not None and not nbgrader_problems(repaired, release):
            return inert_notebook(repaired, release)
    rebuilt = rebuilt_from_release(notebook, release, with_outputs=True)
    if not nbgrader_problems(rebuilt, release):
        return inert_notebook(rebuilt, release)
    return inert_notebook(rebuilt_from_release(notebook, release, with_outputs=False), release)


def repaired_or_none(notebook: nbformat.NotebookNode,
                     release: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """A copy of ``notebook`` repaired as the module docstring says, or None when its cells
    are not all dicts or a grade_id of the release has no cell left."""
    if not all(isinstance(cell, dict) for cell in notebook.cells):
        return None
    notebook = nbformat.from_dict(copy.deepcopy(notebook))
    expected = {grade_id_of(cell): cell for cell in release.cells} | {None: None}
    seen = set()
    for cell in notebook.cells:
        metadata = cell.get("metadata")
        if not isinstance(metadata, dict):
            cell["metadata"] = metadata = nbformat.NotebookNode()
        if "nbgrader" not in metadata:
            continue
        grade_id = grade_id_of(cell)
        model = expected.get(grade_id)
        if model is None or grade_id in seen or cell.get("cell_type") != model.cell_type:
            del metadata["nbgrader"]  # a copy, an unknown id or a changed type: a plain cell
            continue
        seen.add(grade_id)
        metadata["nbgrader"] = copy.deepcopy(model.metadata["nbgrader"])
    if set(expected) - {None} - seen:
        return None
    notebook.metadata = copy.deepcopy(release.metadata)  # kernel and language: the release's
    _repair_cell_ids(notebook)
    for cell in notebook.cells:
        cell["source"] = utf8_text(cell_source(cell))
    if not _valid_notebook(notebook):  # one check of the whole; cell by cell only when it fails
        for cell in notebook.cells:
            _repair_cell(cell)
    return notebook


def _repair_cell(cell: dict[str, Any]) -> None:
    """Drop a cell's outputs or attachments when they are invalid (or not UTF-8). A cell
    still invalid after that gets the notebook rebuilt."""
    if cell.get("cell_type") in _CELL_KEYS and not _valid_cell(cell):
        for key in _CELL_KEYS[cell["cell_type"]]:
            cell.pop(key, None)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None


def _valid_cell(cell: dict[str, Any]) -> bool:
    return _utf8_json(cell) and validator.isvalid(cell, ref=f"{cell.get('cell_type')}_cell",
                                                  version=4, version_minor=5)


def _valid_notebook(notebook: nbformat.NotebookNode) -> bool:
    return _utf8_json(notebook) and validator.isvalid(notebook)


def _utf8_json(value: object) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        return False
    return True


def _repair_cell_ids(notebook: nbformat.NotebookNode) -> None:
    notebook.nbformat, notebook.nbformat_minor = 4, max(5, _int_or_zero(notebook.get("nbformat_minor")))
    seen = set()
    for cell in notebook.cells:
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not CELL_ID.match(cell_id) or cell_id in seen:
            cell_id = generate_corpus_id()
            while cell_id in seen:
                cell_id = generate_corpus_id()
            cell["id"] = cell_id
        seen.add(cell_id)


def _int_or_zero(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def rebuilt_from_release(notebook: nbformat.NotebookNode | None, release: nbformat.NotebookNode,
                         with_outputs: bool) -> nbformat.NotebookNode:
    """The release with the student's answers: each answer cell's text from the first cell
    of ``notebook`` with its grade_id (its outputs and attachments too when ``with_outputs``
    and they are valid). ``notebook`` may be None or hold anything."""
    rebuilt = nbformat.from_dict(copy.deepcopy(release))
    answers: dict[str | None, dict[str, Any]] = {}
    for cell in notebook.cells if notebook is not None else []:
        if isinstance(cell, dict) and nbgrader_meta(cell).get("solution"):
            answers.setdefault(grade_id_of(cell), cell)
    for cell in rebuilt.cells:
        answer = answers.get(grade_id_of(cell))
        if answer is None or not nbgrader_meta(cell).get("solution"):
            continue
        cell.source = utf8_text(cell_source(answer))
        if not with_outputs or answer.get("cell_type") != cell.cell_type:
            continue
        kept = nbformat.from_dict(copy.deepcopy(cell))
        for key in ("outputs", "attachments"):
            if key in answer and key in _CELL_KEYS[cell.cell_type]:
                kept[key] = copy.deepcopy(answer[key])
        if _valid_cell(kept):
            cell.update(kept)
    return rebuilt


def utf8_text(text: str) -> str:
    """``text`` with anything UTF-8 cannot encode (lone surrogates from a JSON file) replaced."""
    return text.encode("utf-8", "replace").decode("utf-8")


def nbgrader_problems(notebook: nbformat.NotebookNode, release: nbformat.NotebookNode) -> list[str]:
    """Why nbgrader's autograde would not take ``notebook`` (empty when it would): nbformat's
    schema, text that is not UTF-8, nbgrader's metadata schema, a grade_id that is not the
    release's, repeated or missing, or a cell type that differs from the release's."""
    if not _utf8_json(notebook):
        return ["not writable as UTF-8 JSON"]
    if not validator.isvalid(notebook):
        return ["not a valid nbformat 4 notebook"]
    expected: dict[str | None, str] = {grade_id_of(cell): cell.cell_type for cell in release.cells}
    problems, seen = [], set()
    for index, cell in enumerate(notebook.cells):
        if "nbgrader" not in cell.metadata:
            continue
        try:
            _VALIDATOR.validate_cell(cell)
        except Exception as exc:  # jsonschema's and nbgrader's own errors, or any type error
            problems.append(f"cell {index}: nbgrader metadata ({type(exc).__name__})")
        grade_id = grade_id_of(cell)
        if grade_id not in expected or grade_id is None or grade_id in seen:
            problems.append(f"cell {index}: grade_id {grade_id!r} unknown or repeated")
        elif expected[grade_id] != cell.cell_type:
            problems.append(f"cell {index}: {grade_id} is a {cell.cell_type} cell")
        seen.add(grade_id)
    missing = set(expected) - {None} - seen
    problems += [f"no cell {grade_id}" for grade_id in sorted(missing)]  # type: ignore[type-var]  # no None
    return problems
