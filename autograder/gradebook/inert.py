"""Student content made inert in the notebooks that nbgrader's formgrader shows the TA.

Formgrader renders ``autograded/<student>/<assignment>/<notebook>.ipynb`` on the server with
nbconvert's HTML exporter (nbgrader's ``formgrade`` template on nbconvert's ``classic`` one)
and sanitizes nothing: Markdown cells go through ``markdown2html`` (mistune, raw HTML and
``javascript:`` links passed through), raw cells of format ``text/html`` (or none) are
copied in (bleach-cleaned, ids and classes kept), outputs are shown by priority
(``text/html``, ``application/javascript`` as a ``<script>``, widget views, SVG, Markdown,
LaTeX before PNG, JPEG and text), and the page loads MathJax 2, which typesets ``$...$``,
``\\(...\\)``, ``\\[...\\]`` and ``\\begin{...}`` anywhere in the page's text outside
``<pre>``/``<code>``. The page runs in the TA's logged-in Jupyter session (its ``_xsrf``
cookie reaches the contents API). Code cell sources, text outputs and tracebacks are escaped
by nbconvert (Pygments, ``ansi2html``) and stay as they are.

``inert_notebook`` is applied to the copy given to nbgrader (``submitted/``, and so to
``autograded/``), after it has been made one nbgrader takes:

- Markdown cells not identical to a cell of the release: ``<`` and ``&`` outside code spans,
  code blocks and maths escaped (no raw HTML, no entity tricks; nbconvert escapes maths
  itself), and the MathJax commands that act on the page (``\\href``, ``\\style``,
  ``\\class``, ``\\cssId``, ``\\unicode``, ``\\require``, macro definitions, distances that
  move content over other content, ...) shown with a fullwidth backslash, which MathJax does
  not read. The result is rendered exactly as formgrader renders it and checked against an
  allow-list (elements, attributes, link schemes http/https/mailto/relative/#, images only
  http/https or raster attachments, no id that formgrader's own scripts look up, no MathJax
  command above left in the text); a cell that fails, or is very large, is shown as typed
  inside a code block, under a one-line note; so is a cell past MAX_RENDERED_CHARS, or past
  MAX_RENDERED_PER_NOTEBOOK of Markdown checked in the notebook (each check is a rendering).
- Attachments: only PNG, JPEG and GIF with base64 data (nbconvert would prefer an SVG).
- Raw cells become Markdown cells showing their text in a code block (nbconvert copies
  ``text/html`` raw cells into the page).
- Outputs: only ``text/plain``, ``image/png`` and ``image/jpeg``; anything else is named in a
  text line instead; output metadata (nbconvert writes ``width``/``height`` unquoted into the
  ``<img>`` tag, and ``filenames`` as its ``src``) is dropped.
- Cell metadata: only ``nbgrader`` (the release's, set before); notebook metadata is the
  release's, without widget state.

A Markdown cell identical to one of the release's is the course's own text and is kept, so
an answer left as released keeps its checksum (nbgrader's "No response.").
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from typing import Any

import nbformat
from nbformat import NotebookNode

from autograder.cells import cell_source, grade_id_of
from autograder.gradebook.formgrader_check import FORMGRADER_IDS, is_base64, rendered_problems
from autograder.gradebook.markdown_escape import FALLBACK_NOTE, as_code_block, escape_markdown

SAFE_OUTPUT_TYPES = ("text/plain", "image/png", "image/jpeg")
RASTER_ATTACHMENTS = ("image/png", "image/jpeg", "image/gif")
# Markdown cells larger than this, or past this much Markdown in one notebook, are shown as
# typed, in a code block: checking them costs a rendering (mistune's and markdown_escape's
# patterns take time quadratic in some inputs, e.g. 20,000 unclosed "\\(" take seconds).
MAX_RENDERED_CHARS = 20_000
MAX_RENDERED_PER_NOTEBOOK = 60_000


def inert_notebook(notebook: NotebookNode, release: NotebookNode) -> NotebookNode:
    """``notebook`` (a copy nbgrader takes, already checked against ``release``) with the
    student's content made inert as the module docstring says; changed in place and
    returned. Keeps every nbgrader cell, its type, metadata and (for cells as released) its
    source, so the copy stays one nbgrader takes."""
    course_text = {cell_source(cell) for cell in release.cells if cell.get("cell_type") == "markdown"}
    taken_ids = formgrader_ids(release)
    budget = MAX_RENDERED_PER_NOTEBOOK
    for index, cell in enumerate(notebook.cells):
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        cell["metadata"] = nbformat.NotebookNode(
            {"nbgrader": metadata["nbgrader"]} if "nbgrader" in metadata else {})
        kind = cell.get("cell_type")
        if kind == "raw":
            notebook.cells[index] = cell = _raw_as_markdown(cell)
        elif kind == "markdown":
            budget -= _inert_markdown_cell(cell, course_text, taken_ids, budget)
        elif kind == "code":
            cell["outputs"] = [_inert_output(output) for output in cell.get("outputs", [])]
    notebook.metadata = nbformat.NotebookNode(
        {key: copy.deepcopy(value) for key, value in release.metadata.items() if key != "widgets"})
    return notebook


def formgrader_ids(release: NotebookNode) -> frozenset[str]:
    """The element ids formgrader's page gives its inputs (and its scripts look up) for
    ``release``'s graded cells, with its fixed ones."""
    ids = set(FORMGRADER_IDS)
    for cell in release.cells:
        grade_id = grade_id_of(cell)
        if isinstance(grade_id, str):
            ids |= {grade_id, f"{grade_id}-comment", f"{grade_id}_extra_credit"}
    return frozenset(ids)


def _inert_markdown_cell(cell: NotebookNode, course_text: set[str], taken_ids: frozenset[str],
                         budget: int) -> int:
    """Make one Markdown cell inert in place (kept as it is when it is the course's text;
    shown as typed when longer than ``budget``). Returns the characters it rendered."""
    source = cell_source(cell)
    attachments = raster_attachments(cell.get("attachments"))
    if source in course_text and not cell.get("attachments"):
        cell.pop("attachments", None)
        return 0
    if attachments:
        cell["attachments"] = attachments
    else:
        cell.pop("attachments", None)
    if len(source) > min(budget, MAX_RENDERED_CHARS):
        cell["source"] = as_code_block(source)
        return 0
    cell["source"] = inert_markdown(source, json.dumps(attachments, sort_keys=True), taken_ids)
    return len(source)


def raster_attachments(attachments: object) -> dict[str, dict[str, str]]:
    """The PNG, JPEG and GIF images of a cell's ``attachments`` (base64 text only); every
    other type, such as SVG or HTML, is dropped."""
    if not isinstance(attachments, Mapping):
        return {}
    kept: dict[str, dict[str, str]] = {}
    for name, bundle in attachments.items():
        if not isinstance(name, str) or not isinstance(bundle, Mapping):
            continue
        images = {kind: _joined(bundle[kind]) for kind in RASTER_ATTACHMENTS if kind in bundle}
        images = {kind: data for kind, data in images.items() if is_base64(data)}
        if images:
            kept[name] = images  # type: ignore[assignment]  # is_base64: str only
    return kept


@functools.lru_cache(maxsize=4096)
def inert_markdown(source: str, attachments: str = "{}", taken_ids: frozenset[str] = FORMGRADER_IDS) -> str:
    """Markdown ``source`` made inert (see the module docstring), checked by rendering it as
    formgrader does with ``attachments`` (JSON of the cell's raster attachments); when the
    check fails, the source as typed in a code block under ``FALLBACK_NOTE``. ``taken_ids``:
    element ids the rendered cell must not have."""
    if len(source) <= MAX_RENDERED_CHARS:
        escaped = escape_markdown(source)
        if not rendered_problems(escaped, json.loads(attachments), taken_ids):
            return escaped
    return as_code_block(source)


def _joined(text: object) -> object:
    """nbformat's multi-line string (a list of lines) as one string; anything else as is."""
    return "".join(text) if isinstance(text, list) and all(isinstance(t, str) for t in text) else text


def _raw_as_markdown(cell: NotebookNode) -> NotebookNode:
    """A raw cell as a Markdown cell showing its text as typed in a code block."""
    markdown = nbformat.NotebookNode(cell_type="markdown", metadata=nbformat.NotebookNode(),
                                     source=as_code_block(cell_source(cell)).replace(
                                         FALLBACK_NOTE, "*[autograder: a raw cell, shown as typed]*"))
    if "id" in cell:
        markdown["id"] = cell["id"]
    return markdown


def _inert_output(output: Mapping[str, Any]) -> NotebookNode:
    """One output reduced to what formgrader shows escaped: streams, errors, and
    ``text/plain``/PNG/JPEG data without metadata; other data named in a text line."""
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return nbformat.NotebookNode(output_type="stream", name=name, text=_text(output.get("text")))
    if kind == "error":
        traceback = output.get("traceback")
        lines = [_text(line) for line in traceback] if isinstance(traceback, list) else []
        return nbformat.NotebookNode(output_type="error", ename=_text(output.get("ename")),
                                     evalue=_text(output.get("evalue")), traceback=lines)
    data: Mapping[Any, Any] = (output.get("data")  # type: ignore[assignment]  # checked
                               if isinstance(output.get("data"), Mapping) else {})
    kept: dict[str, object] = {}
    for mime in SAFE_OUTPUT_TYPES:
        value = _joined(data.get(mime))
        if mime == "text/plain" and isinstance(value, str):
            kept[mime] = value
        elif mime != "text/plain" and is_base64(value):
            kept[mime] = value
    dropped = sorted(str(mime) for mime in data if mime not in kept)
    if dropped:
        note = f"[output not shown in formgrader: {', '.join(dropped)[:300]}]"
        kept["text/plain"] = f"{kept['text/plain']}\n{note}" if "text/plain" in kept else note
    if kind == "execute_result":
        count = output.get("execution_count")
        count = count if isinstance(count, int) and not isinstance(count, bool) else None
        return nbformat.NotebookNode(output_type="execute_result", execution_count=count,
                                     data=nbformat.NotebookNode(kept), metadata=nbformat.NotebookNode())
    return nbformat.NotebookNode(output_type="display_data", data=nbformat.NotebookNode(kept),
                                 metadata=nbformat.NotebookNode())


def _text(value: object) -> str:
    joined = _joined(value)
    return joined if isinstance(joined, str) else ""
