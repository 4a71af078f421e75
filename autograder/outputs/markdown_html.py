"""Markdown cells and their math as HTML, for the feedback pages.

``markdown_renderer`` is CommonMark with tables and math: ``$...$`` and ``$$...$$`` become
MathML (browsers show it natively: no script, no network), converted by latex2mathml and
serialized here with every text and attribute value escaped; a math span over several lines
is kept whole before block parsing, as JupyterLab does. ``clean_html`` renders one cell (or
TA comment, or Markdown output) and passes it through ``autograder.outputs.sanitize.clean``, keeping
the HTML of the release's cells, which recur on every page, once per process.
"""

import html
import re
from typing import Any
from xml.etree.ElementTree import Element

from latex2mathml.converter import convert_to_element
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from autograder.outputs import sanitize

MARKDOWN_CELL_LIMIT = 50_000   # characters of one Markdown cell rendered as Markdown
MARKDOWN_CACHED_CHARS = 10_000  # Markdown cells up to this size are rendered once per process
MARKDOWN_CACHED_CELLS = 256     # distinct Markdown cells kept rendered per process

_CHARACTER_REFERENCE = re.compile(r"&#x[0-9A-Fa-f]{1,6};|&#[0-9]{1,7};")
_TAG_NAME = re.compile(r"[a-z][a-z0-9]*\Z")


def _xml_text(text: str) -> str:
    """Text of the converter's tree, escaped: the numeric character references the converter
    writes for symbols (``&#x02202;``) are kept, anything else (what a student put in
    ``\\text{...}``) is text, never markup."""
    parts, last = [], 0
    for match in _CHARACTER_REFERENCE.finditer(text):
        parts += [html.escape(text[last:match.start()]), match.group()]
        last = match.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def _mathml(element: Element) -> str:
    """``element`` (latex2mathml's tree) as MathML, every text and attribute value escaped
    (latex2mathml's own ``convert`` unescapes its output, so ``\\text{<b>}`` would be a tag)."""
    tag = str(element.tag)
    if not _TAG_NAME.match(tag):
        raise ValueError(f"unexpected MathML element {tag!r}")
    attributes = "".join(f' {name}="{_xml_text(str(value))}"' for name, value
                         in element.attrib.items() if _TAG_NAME.match(str(name)))
    inner = _xml_text(element.text or "") + "".join(_mathml(child) for child in element)
    return f"<{tag}{attributes}>{inner}</{tag}>{_xml_text(element.tail or '')}"


def _math(latex: str, display: bool) -> str:
    """LaTeX as MathML (browsers show it natively, no script, no network), a block when
    ``display``; as code when the converter cannot read it. Still to be ``clean``-ed."""
    try:
        return _mathml(convert_to_element(latex, display="block" if display else "inline"))
    except Exception:  # a student's malformed formula (or one nested past Python's recursion)
        tag = "pre" if display else "code"
        return f"<{tag}>{html.escape(latex)}</{tag}>"


def _display_math_in_paragraph(_renderer: Any, tokens: list[Token], index: int, *_: Any) -> str:
    """``$$...$$`` inside a paragraph (as the notebooks write it, on its own lines or not):
    a MathML block, with no ``<div>`` that would end the paragraph."""
    return _math(str(tokens[index].content).strip(), True)


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_BLOCK_START = re.compile(r"\n(?= {0,3}([-+*>#=|]|\d{1,9}[.)]|```|~~~))")


def _join_math_lines(text: str) -> str:
    """``text`` (one paragraph) with each line break inside a math span (``$...$``,
    ``$$...$$``) that would start a Markdown block made a space. One pass, no regex
    backtracking: a span opens on a ``$`` (or ``$$``) not escaped and not in a code span (a
    ``$`` not followed by a digit, as the math plugin reads it), and closes on the next one; a
    line break counts only once its span closes."""
    if "$" not in text:
        return text
    out: list[str] = []
    joins: list[int] = []     # line breaks to join in the open span (indexes into out)
    math, code, i = "", 0, 0  # the open span's delimiter, the open code span's backticks
    while i < len(text):
        char = text[i]
        if char == "\\":
            out.append(text[i:i + 2])
            i += 2
        elif char == "`" and not math:
            j = i
            while j < len(text) and text[j] == "`":
                j += 1
            code = (j - i if not code else 0 if code == j - i else code)
            out.append(text[i:j])
            i = j
        elif char == "$" and not code:
            double = text.startswith("$$", i)
            if math:
                size = len(math)
                for index in joins:   # the span closed: its line breaks are joined
                    out[index] = " "
                joins, math = [], ""
            else:
                size = 2 if double else 1
                after = text[i + size:i + size + 1]
                if after and not (size == 1 and after.isdigit()):
                    math = "$" * size
            out.append(text[i:i + size])
            i += size
        else:
            if char == "\n" and math and _BLOCK_START.match(text, i):
                joins.append(len(out))
            out.append(char)
            i += 1
    return "".join(out)


def _math_kept_whole(state: Any) -> None:
    """A core rule run before block parsing: a line inside a math span that would start a
    Markdown block (``+ \\log ...`` is a list item, ``= x`` a heading underline) is joined to
    the line before it, so the formula stays one (JupyterLab also takes math out before
    parsing Markdown). Fenced code is left alone."""
    out: list[str] = []
    paragraph: list[str] = []
    fence = ""

    def flush() -> None:
        if paragraph:
            out.append(_join_math_lines("\n".join(paragraph)))
            paragraph.clear()

    for line in state.src.split("\n"):
        marker = _FENCE.match(line)
        if not fence and marker:
            flush()
            fence = marker.group(1)[0] * 3
            out.append(line)
        elif fence:
            out.append(line)
            if line.strip().startswith(fence):
                fence = ""
        elif not line.strip():
            flush()
            out.append(line)
        else:
            paragraph.append(line)
    flush()
    state.src = "\n".join(out)


def markdown_renderer() -> MarkdownIt:
    """CommonMark with tables and math: ``$...$`` inline, ``$$...$$`` (on its own lines or
    inside a paragraph, over several lines too) as a MathML block; raw HTML is shown as text.
    Its output holds student content: pass it through ``sanitize.clean`` (``clean_html``
    does)."""
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    parser.use(dollarmath_plugin, allow_digits=False, double_inline=True,
               renderer=lambda content, options: _math(content, options["display_mode"]))
    parser.add_render_rule("math_inline_double", _display_math_in_paragraph)
    parser.core.ruler.after("normalize", "math_kept_whole", _math_kept_whole)
    return parser


_RENDERED: dict[str, str] = {}  # {Markdown source: clean HTML} of this process: the release's
#                                 cells recur on every page


def clean_html(markdown: MarkdownIt, source: str) -> str:
    """A Markdown cell (or TA comment, or Markdown output) as sanitized HTML (one longer than
    MARKDOWN_CELL_LIMIT as its text); cells of up to MARKDOWN_CACHED_CHARS are rendered once
    per process (the first MARKDOWN_CACHED_CELLS of them kept), since rendering depends on
    the source alone."""
    if len(source) > MARKDOWN_CELL_LIMIT:
        return (f"<p><i>(a Markdown cell of {len(source):,} characters, shown as text)</i></p>"
                f"<pre>{html.escape(source[:MARKDOWN_CELL_LIMIT])}</pre>")
    done = _RENDERED.get(source)
    if done is None:
        done = sanitize.clean(markdown.render(source))
        if len(source) <= MARKDOWN_CACHED_CHARS and len(_RENDERED) < MARKDOWN_CACHED_CELLS:
            _RENDERED[source] = done
    return done
