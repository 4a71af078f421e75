"""formgrader's rendering of a Markdown cell (``render_as_formgrader``) and the allow-list its
HTML is checked against (``rendered_problems``): elements, attributes, link and image
schemes, raster data: URLs, the ids formgrader's own page uses, and no MathJax command of
``autograder.gradebook.markdown_escape.MATHJAX_HOSTILE`` left in the text."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from typing import Any

from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.filters.strings import strip_files_prefix
from pygments.token import STANDARD_TYPES

from autograder.gradebook.markdown_escape import HOSTILE_IN_TEXT

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
                         for hit in sorted(set(HOSTILE_IN_TEXT.findall(text)))]
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
    return bool(match) and is_base64(match.group(2))  # type: ignore[union-attr]  # matched


def is_base64(data: object) -> bool:
    """Whether ``data`` is base64 text (whitespace allowed), as an image's data must be."""
    if not isinstance(data, str) or not _BASE64.match(data):
        return False
    try:
        base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
