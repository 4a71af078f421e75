"""The one wall between student content and the HTML pages the grader writes.

Every page the grader writes (feedback pages, the similarity report) is built by ``page``,
and every piece of HTML that holds anything a student wrote or produced (Markdown cells and
their MathML, TA comments, text/html, Markdown and LaTeX outputs) goes through ``clean``
after its Markdown and MathML conversion. Text that is not HTML (names, messages, code,
text outputs) is escaped with ``html.escape`` instead and never reaches ``clean``.

``clean`` is an allow-list sanitizer built on nh3 (the Rust library ammonia, with a real
HTML5 parser that knows MathML's namespace): known HTML and MathML elements and attributes
only. No ``style``, ``class`` or ``id`` attribute (nothing student-made can hook or change
the page's CSS), no event handler, no ``<script>``/``<style>``/``<svg>``/``<iframe>``/form
element (their content is dropped with them), no MathML ``href``; links only to http,
https, mailto, ``#`` anchors and relative paths (not ``//host``); images only from
``data:image/...`` (an SVG there is an image: its scripts never run).

``page`` puts a strict Content-Security-Policy first in ``<head>`` as a second wall: no
script, no network, no form, no ``<base>``, and only the page's own stylesheet (by its hash,
so not even a ``style`` attribute that got through would apply).
"""

import base64
import hashlib
import html
import re

import nh3

from autograder.text import clean_text

HTML_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s",
    "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "u", "ul", "var", "wbr"})
MATHML_TAGS = frozenset({
    "math", "maction", "menclose", "merror", "mfenced", "mfrac", "mi", "mmultiscripts", "mn",
    "mo", "mover", "mpadded", "mphantom", "mprescripts", "mroot", "mrow", "ms", "mspace",
    "msqrt", "mstyle", "msub", "msubsup", "msup", "mtable", "mtd", "mtext", "mtr", "munder",
    "munderover", "none", "semantics", "annotation"})
DROPPED_WITH_CONTENT = frozenset({  # gone with everything inside them, not just their tags
    "script", "style", "svg", "iframe", "object", "embed", "template", "noscript", "noembed",
    "noframes", "xmp", "textarea", "select", "title", "annotation-xml", "math-field"})
HTML_ATTRIBUTES = {
    "a": {"href", "title"}, "abbr": {"title"}, "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"}, "ol": {"start"},
    "li": {"value"}, "details": {"open"}, "col": {"span"}, "colgroup": {"span"},
    "q": {"cite"}, "blockquote": {"cite"}, "del": {"cite"}, "ins": {"cite"},
}
MATHML_ATTRIBUTES = {  # presentation attributes only: no href, style, class, id, colour
    "math": {"display", "xmlns"},
    "mi": {"mathvariant"}, "mn": {"mathvariant"}, "mtext": {"mathvariant"},
    "ms": {"mathvariant", "lquote", "rquote"},
    "mo": {"mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "accent",
           "largeop", "movablelimits", "symmetric", "minsize", "maxsize", "form"},
    "mstyle": {"displaystyle", "scriptlevel", "mathvariant"},
    "mfrac": {"linethickness", "numalign", "denomalign", "bevelled"},
    "mspace": {"width", "height", "depth", "linebreak"},
    "mpadded": {"width", "height", "depth", "lspace"},
    "mover": {"accent"}, "munder": {"accentunder"}, "munderover": {"accent", "accentunder"},
    "menclose": {"notation"}, "mfenced": {"open", "close", "separators"},
    "mtable": {"columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines",
               "rowlines", "frame", "framespacing", "displaystyle", "equalrows",
               "equalcolumns", "align"},
    "mtr": {"columnalign", "rowalign"},
    "mtd": {"columnalign", "rowalign", "columnspan", "rowspan"},
    "annotation": {"encoding"}, "maction": {"actiontype", "selection"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "data"})  # data: for img src only, below
DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*\Z",
                        re.IGNORECASE)
SAFE_LINK = re.compile(r"(https?://|mailto:|#|[^:/?#]*([/?#]|\Z))", re.IGNORECASE)
CSP_BASE = ("default-src 'none'; img-src data:; font-src 'none'; script-src 'none'; "
            "connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; "
            "child-src 'none'; worker-src 'none'; manifest-src 'none'; base-uri 'none'; "
            "form-action 'none'")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    """Keep an allowed attribute's value, or drop the attribute (None): images only from
    ``data:image/...``, links only to safe schemes, relative paths and anchors."""
    if attribute == "src":
        return value if tag == "img" and DATA_IMAGE.match(value.strip()) else None
    if attribute in ("href", "cite"):
        value = value.strip()
        if value.startswith("//") or value.startswith("\\") or not SAFE_LINK.match(value):
            return None
        return value
    return value


_CLEANER = nh3.Cleaner(
    tags=set(HTML_TAGS | MATHML_TAGS),
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in
                list(HTML_ATTRIBUTES.items()) + list(MATHML_ATTRIBUTES.items())},
    attribute_filter=_attribute_filter,
    strip_comments=True,
    link_rel="noopener noreferrer nofollow",
    url_schemes=set(URL_SCHEMES),
    generic_attribute_prefixes=set(),
)


def clean(fragment: str) -> str:
    """``fragment`` (HTML holding student content) with only the allowed elements and
    attributes kept (see the module's docstring); text stays text. Text that is not valid
    Unicode (a lone surrogate from a student's cell) gets U+FFFD in its place first."""
    return _CLEANER.clean(clean_text(fragment))


def csp(css: str) -> str:
    """The Content-Security-Policy of a page whose only style is the stylesheet ``css``."""
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return f"{CSP_BASE}; style-src 'sha256-{digest}'"


def page(title: str, css: str, body: str) -> str:
    """A whole page: the CSP first in ``<head>``, then ``title`` (text, escaped here), the
    stylesheet ``css`` (the grader's own), and ``body`` (HTML in which every student-made
    part is already escaped or ``clean``-ed)."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head>'
            f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp(css))}">'
            f'<meta charset="utf-8"><meta name="referrer" content="no-referrer">'
            f"<title>{html.escape(title)}</title><style>{css}</style></head><body>\n"
            f"{body}\n</body></html>\n")
