"""Markdown made inert by escaping, before formgrader renders it: ``<`` and ``&`` escaped
outside code spans, code blocks and maths, and the MathJax commands that act on the page
(``MATHJAX_HOSTILE``) given a fullwidth backslash; or, when that is not enough, the source as
typed in a code block (``as_code_block``). Whether the result is inert is checked by
``autograder.gradebook.formgrader_check``."""

from __future__ import annotations

import re

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
HOSTILE_IN_TEXT = re.compile(rf"\\(?:{_HOSTILE_NAMES})(?![A-Za-z])")
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
