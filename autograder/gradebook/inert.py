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

import base64
import binascii
import copy
import functools
import json
import re
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from typing import Any

import nbformat
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.filters.strings import strip_files_prefix
from nbformat import NotebookNode
from pygments.token import STANDARD_TYPES

from autograder.cells import cell_source, grade_id_of

SAFE_OUTPUT_TYPES = ("text/plain", "image/png", "image/jpeg")
RASTER_ATTACHMENTS = ("image/png", "image/jpeg", "image/gif")
# Markdown cells larger than this, or past this much Markdown in one notebook, are shown as
# typed, in a code block: checking them costs a rendering (mistune's and these patterns take
# time quadratic in some inputs, e.g. 20,000 unclosed "\\(" take seconds).
MAX_RENDERED_CHARS = 20_000
MAX_RENDERED_PER_NOTEBOOK = 60_000
FALLBACK_NOTE = ("*[autograder: shown exactly as the student typed it; it had markup that "
                 "formgrader would have run, loaded or linked]*")
# MathJax commands that reach outside the formula: links, CSS, classes and ids, fonts, loading
# extensions, defining macros (MathJax expands them as text, so they can assemble any of
# these), and distances or boxes that move content over the rest of the page.
MATHJAX_HOSTILE = (
    "href", "style", "class", "cssId", "unicode", "require", "html", "data", "mmlToken", "bbox",
    "def", "gdef", "edef", "xdef", "let", "futurelet", "newcommand", "renewcommand",
    "providecommand", "DeclareMathOperator", "newenvironment", "renewenvironment",
    "Newextarrow", "csname", "hspace", "kern", "mkern", "mskip", "hskip", "mspace", "raise",
    "lower", "moveleft", "moveright", "rule", "Rule", "llap", "rlap", "clap", "mathllap",
    "mathrlap", "mathclap", "smash",
)
_HOSTILE_NAMES = "|".join(sorted(MATHJAX_HOSTILE, key=len, reverse=True))
_HOSTILE_COMMAND = re.compile(rf"\\(?=(?:{_HOSTILE_NAMES})(?![A-Za-z]))")
_HOSTILE_IN_TEXT = re.compile(rf"\\(?:{_HOSTILE_NAMES})(?![A-Za-z])")
FULLWIDTH_BACKSLASH = "\uff3c"  # looks like a backslash; MathJax does not take it for one

# What mistune (as nbconvert sets it up) keeps literal: fenced code, maths (nbconvert's own
# patterns: it HTML-escapes maths itself) and code spans. A part this guesses wrongly is
# caught by the check of the rendered HTML.
_FENCE = r"^[ ]{0,3}(?P<fence>`{3,}+|~{3,}+)[^\n]*+\n(?:.*?\n)??[ ]{0,3}(?P=fence)[`~]*[ \t]*(?:\n|\Z)"
_UNCLOSED_FENCE = r"^[ ]{0,3}(?:`{3,}+|~{3,}+)[^\n]*+\n.*\Z"
_MATH = [
    r"(?<!\\)\$\$.*?(?<!\\)\$\$",
    r"(?<!\\)\\\\\[.*?(?<!\\)\\\\\]",
    r"(?<![$\\])\$(?:(?!\n[ \t]*\n).)+?(?<![$\\])\$",
    r"(?<!\\)\\\\\(.*?(?<!\\)\\\\\)",
    r"\\begin\{(?P<env>[a-z]*\*?)\}.*?\\end\{(?P=env)\}",
]
_CODE_SPAN = r"(?<!`)(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`)"  # from a whole backtick run
_LITERAL = re.compile("|".join(f"(?:{part})" for part in
                               [_FENCE, _UNCLOSED_FENCE, *_MATH, _CODE_SPAN]),
                      re.MULTILINE | re.DOTALL)
_ESCAPABLE = re.compile(r"(\\*)([<&])")
_CODE_LITERAL = ("`", "~", " ")  # how a code part begins (the others are maths)

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "del", "code", "pre",
    "span", "div", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr",
    "th", "td", "input", "dl", "dt", "dd",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"}, "img": {"src", "alt", "title"},
    "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "th": {"style"}, "td": {"style"}, "ol": {"start"}, "li": {"class"}, "ul": {"class"},
    "input": {"class", "type", "disabled", "checked"}, "code": {"class"}, "span": {"class"},
    "div": {"class"}, "pre": {"class"},
}
# Classes that mistune, nbconvert and Pygments write: never one of Bootstrap's (which could
# fix an element over the page) nor formgrader's.
_FIXED_CLASSES = frozenset({"anchor-link", "highlight", "task-list-item", "task-list-item-checkbox",
                            "jp-Mermaid", "mermaid", *filter(None, STANDARD_TYPES.values())})
_TABLE_ALIGN = re.compile(r"^text-align:(?:left|right|center)$")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
# ids formgrader's own page and scripts use (each graded cell's are added)
FORMGRADER_IDS = frozenset({"notebook", "notebook-container", "statusmessage"})
_SKIPPED_BY_MATHJAX = frozenset({"pre", "code"})


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
        images = {kind: data for kind, data in images.items() if _is_base64(data)}
        if images:
            kept[name] = images  # type: ignore[assignment]  # _is_base64: str only
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


def escape_markdown(source: str) -> str:
    """``source`` with ``<`` and ``&`` escaped outside code and maths, and the MathJax
    commands of MATHJAX_HOSTILE given a fullwidth backslash outside code."""
    parts, position = [], 0
    for match in _LITERAL.finditer(source):
        parts.append(_escaped_text(source[position:match.start()]))
        literal = match.group(0)
        is_code = literal.startswith(_CODE_LITERAL)
        parts.append(literal if is_code else neutralise_tex(literal))
        position = match.end()
    parts.append(_escaped_text(source[position:]))
    return "".join(parts)


def _escaped_text(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        backslashes, char = match.group(1), match.group(2)
        if len(backslashes) % 2:  # "\<" was already an escaped character: keep it as one
            backslashes = backslashes[:-1]
        return backslashes + ("&lt;" if char == "<" else "&amp;")
    return neutralise_tex(_ESCAPABLE.sub(escape, text))


def neutralise_tex(text: str) -> str:
    """``text`` with the backslash of each MATHJAX_HOSTILE command made a fullwidth one."""
    return _HOSTILE_COMMAND.sub(FULLWIDTH_BACKSLASH, text)


def as_code_block(source: str) -> str:
    """``source`` shown as typed: a fenced code block (longer than any backtick run in it)
    under ``FALLBACK_NOTE``."""
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{FALLBACK_NOTE}\n\n{fence}\n{text}\n{fence}\n"


def render_as_formgrader(source: str, attachments: Mapping[str, Any] | None = None) -> str:
    """The HTML formgrader's template makes of a Markdown cell (``markdown2html`` with
    nbconvert's default settings, then ``strip_files_prefix``); raises what nbconvert
    raises (e.g. for a missing attachment, which would stop formgrader's page)."""
    renderer = IPythonRenderer(escape=False, attachments=dict(attachments or {}), embed_images=False,
                               path="", anchor_link_text="¶", exclude_anchor_links=False)
    return strip_files_prefix(MarkdownWithMath(renderer=renderer).render(source))


def rendered_problems(source: str, attachments: Mapping[str, Any] | None = None,
                      taken_ids: Iterable[str] = FORMGRADER_IDS) -> list[str]:
    """What in formgrader's rendering of Markdown ``source`` is not inert (empty when
    nothing): elements or attributes outside the allow-list, links or images with another
    scheme, ids formgrader uses, MathJax commands of MATHJAX_HOSTILE in the text."""
    try:
        rendered = render_as_formgrader(source, attachments)
    except Exception as exc:  # nbconvert's and mistune's many errors: formgrader would fail too
        return [f"nbconvert cannot render it ({type(exc).__name__})"]
    return html_problems(rendered, taken_ids)


def html_problems(rendered: str, taken_ids: Iterable[str] = FORMGRADER_IDS) -> list[str]:
    """What in the HTML ``rendered`` (of one Markdown cell) is not inert; see
    ``rendered_problems``."""
    checker = _Checker(frozenset(taken_ids))
    checker.feed(rendered)
    checker.close()
    text = "".join(checker.text)
    checker.problems += [f"MathJax command {hit!r} in the text"
                         for hit in sorted(set(_HOSTILE_IN_TEXT.findall(text)))]
    return checker.problems


class _Checker(HTMLParser):
    """Walks rendered HTML: records what is outside the allow-list and the text MathJax
    would read (everything outside ``<pre>`` and ``<code>``)."""

    def __init__(self, taken_ids: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.taken_ids, self.skipping = taken_ids, 0
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"element <{tag}>")
        if tag in _SKIPPED_BY_MATHJAX:
            self.skipping += 1
        for name, value in attrs:
            problem = _attribute_problem(tag, name, value or "", self.taken_ids)
            if problem:
                self.problems.append(problem)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIPPED_BY_MATHJAX:
            self.skipping -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_BY_MATHJAX:
            self.skipping = max(0, self.skipping - 1)

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.problems.append("an HTML comment")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("a declaration")

    def handle_pi(self, data: str) -> None:
        self.problems.append("a processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("a declaration")


def _attribute_problem(tag: str, name: str, value: str, taken_ids: frozenset[str]) -> str | None:
    """Why attribute ``name="value"`` of ``<tag>`` is not allowed (None when it is)."""
    if name not in ALLOWED_ATTRIBUTES.get(tag, ()):
        return f"attribute {name} on <{tag}>"
    if name == "href" and not safe_url(value, ("http", "https", "mailto"), relative=True):
        return f"link to {value[:60]!r}"
    if name == "src" and not (safe_url(value, ("http", "https"), relative=False)
                              or _raster_data_url(value)):
        return f"image from {value[:60]!r}"
    if name == "id" and value in taken_ids:
        return f"id {value!r} that formgrader uses"
    if name == "class" and not all(c in _FIXED_CLASSES or re.fullmatch(r"language-[\w+#.-]*", c)
                                   for c in value.split()):
        return f"class {value[:60]!r}"
    if name == "style" and not _TABLE_ALIGN.match(value.replace(" ", "")):
        return f"style {value[:60]!r}"
    if name == "type" and value != "checkbox":
        return f"input of type {value[:30]!r}"
    return None


def safe_url(url: str, schemes: tuple[str, ...], relative: bool) -> bool:
    """Whether ``url`` (an attribute's value, entities decoded) has one of ``schemes``, or,
    when ``relative``, none (a path, query or ``#`` anchor, not ``//host``); judged as a
    browser reads it (control characters and spaces removed)."""
    cleaned = "".join(ch for ch in url if ord(ch) > 0x20 and ch != "\x7f")
    scheme = _SCHEME.match(cleaned)
    if scheme:
        return scheme.group(1).lower() in schemes
    return relative and not cleaned.startswith(("//", "\\\\", "/\\", "\\/")) and ":" not in cleaned.split("/")[0]


def _raster_data_url(url: str) -> bool:
    match = re.fullmatch(r"data:(image/(?:png|jpeg|gif));base64,([A-Za-z0-9+/=\s]*)", url.strip())
    return bool(match) and _is_base64(match.group(2))  # type: ignore[union-attr]  # matched


def _is_base64(data: object) -> bool:
    if not isinstance(data, str) or not _BASE64.match(data):
        return False
    try:
        base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


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
        elif mime != "text/plain" and _is_base64(value):
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
