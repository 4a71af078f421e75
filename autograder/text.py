"""Text from untrusted places (folder names, student messages, notebooks) made safe to show.

Two kinds of text cross from submissions into what the grader writes and prints:

- **names** (student and assignment folders, notebook files): ``os.listdir`` gives them
  as ``str`` in which bytes that are not UTF-8 became lone surrogates (Python's
  ``surrogateescape``: Latin-1 ``Jos\\xe9`` arrives as ``'Jos\\udce9'``). ``display_name``
  makes a name one printable line that cannot move the cursor of the instructor's
  terminal and always encodes as UTF-8, and it is ONE-TO-ONE: two different names never
  print alike, so a printed name says which folder it is (``parse_display_name`` reads it
  back). The spelling, where every backslash starts an escape:

  ======================================  =================================
  a backslash                             ``\\\\``
  newline, carriage return, tab           ``\\n``, ``\\r``, ``\\t``
  other C0 control characters, DEL        ``\\x00`` ... ``\\x1f``, ``\\x7f``
  a byte that is not UTF-8                ``\\x80`` ... ``\\xff``
  C1 controls, invisible formatting       ``\\u0080`` ... (U+202E as ``\\u202e``,
  characters, line and paragraph          U+E0001 as ``\\U000e0001``)
  separators, other lone surrogates
  ======================================  =================================

  Names without any of these (most of them) are unchanged. Everything that keys by a name
  (result files, grades.csv rows, exports, feedback folders, similarity) keys by the real
  name, never by this display form.
- **texts** (messages, printed output, Markdown): ``clean_text`` keeps newlines and tabs,
  replaces any lone surrogate (``ValueError('\\ud800')``) with U+FFFD and spells other
  control characters escaped (``\\x1b``), so the text can be written as UTF-8
  and shown in a page. Texts are shown, never used as keys, so this is not one-to-one.
"""

from __future__ import annotations

import os
import re
import unicodedata

# C0 and C1 control characters and DEL; tab and newline are allowed in texts only. Names
# also spell out invisible formatting characters (zero-width, bidirectional overrides such
# as U+202E, which would make a name read backwards) and the backslash (the escape mark).
# Together: every character of Unicode's categories Cc, Cf, Cs, Zl and Zp (Unicode 14).
_NAME_UNSAFE = re.compile(r"[\\\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f"
                          r"\u0890\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
                          r"\ufeff\ufff9-\ufffb\ud800-\udfff\U000110bd\U000110cd"
                          r"\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
                          r"\U000e0001\U000e0020-\U000e007f]")
_TEXT_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNNAMED = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}
# A spreadsheet cell starting with one of these (after NFKC, which maps the full-width and
# small forms onto them) is a formula or a signed number to a spreadsheet: OWASP's
# CSV-injection set (= + - @ tab carriage-return) plus newline and U+2212 MINUS SIGN.
FORMULA_STARTS = frozenset("=+-@\t\r\n\u2212")
_ESCAPE = re.compile(r"\\(?:([nrt\\])|x([0-9a-f]{2})|u([0-9a-f]{4})|U([0-9a-f]{8}))")


def _escape_name(match: re.Match[str]) -> str:
    """One unsafe character of a name, spelled so that no two characters spell alike."""
    char = match.group()
    code = ord(char)
    if char == "\\":
        return "\\\\"
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape): \x80-\xff
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:  # C0 controls and DEL: \x00-\x7f (never a surrogateescape'd byte)
        return f"\\x{code:02x}"
    if code > 0xFFFF:
        return f"\\U{code:08x}"  # formatting characters beyond the first plane
    return f"\\u{code:04x}"  # C1 controls, formatting characters, other surrogates


def _escape_text(match: re.Match[str]) -> str:
    """One control character of a text (``clean_text``; lone surrogates excluded)."""
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"


def _as_str(name: object) -> str:
    """A name as ``str``: bytes and byte paths decoded as the file system does
    (``surrogateescape``), paths by their text, anything else by ``str``."""
    if isinstance(name, (bytes, os.PathLike)):
        name = os.fspath(name)
        return os.fsdecode(name) if isinstance(name, bytes) else name
    return name if isinstance(name, str) else str(name)


def display_name(name: str | bytes | os.PathLike[str] | object) -> str:
    """A folder or file name (or a path) as one safe, printable line; one-to-one, and
    unchanged when the name holds no backslash, control, invisible or non-UTF-8 character."""
    return _NAME_UNSAFE.sub(_escape_name, _as_str(name))


def parse_display_name(shown: str) -> str:
    """The name ``display_name`` printed as ``shown`` (the file system's ``str``, non-UTF-8
    bytes as lone surrogates). Raises ValueError when ``shown`` is not such a spelling."""
    def unescape(match: re.Match[str]) -> str:
        named, byte, code, wide = match.groups()
        if named:
            return _UNNAMED[named]
        if byte:
            value = int(byte, 16)
            return chr(0xDC00 + value) if value >= 0x80 else chr(value)
        return chr(int(code or wide, 16))

    parts = []
    position = 0
    for match in _ESCAPE.finditer(shown):
        if "\\" in shown[position:match.start()]:
            break
        parts += [shown[position:match.start()], unescape(match)]
        position = match.end()
    rest = shown[position:]
    name = "".join(parts) + rest
    if "\\" in rest or display_name(name) != shown:
        raise ValueError(f"not a name as display_name spells it: {shown!r}")
    return name


def is_plain_name(name: object) -> bool:
    """True when ``name`` is a ``str`` that ``display_name`` leaves unchanged."""
    return isinstance(name, str) and not _NAME_UNSAFE.search(name)


def _clean(match: re.Match[str]) -> str:
    char = match.group()
    return "\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else _escape_text(match)


def clean_text(text: object) -> str:
    """A message or output that encodes as UTF-8: lone surrogates become U+FFFD, control
    characters other than newline, carriage return and tab are shown escaped."""
    text = text if isinstance(text, str) else str(text)
    return _TEXT_UNSAFE.sub(_clean, text)


def utf8(text: object) -> bytes:
    """``text`` as UTF-8 bytes, whatever it holds (lone surrogates become U+FFFD)."""
    return clean_text(text).encode("utf-8")


def formula_like(text: str) -> bool:
    """True when a spreadsheet opening ``text`` as a CSV cell could take it as a formula or
    as a number with a sign (``=HYPERLINK(...)``, ``-inf``, ``+nan``, ``-1``): it starts,
    itself or after spaces and invisible characters, with one of ``FORMULA_STARTS`` or a
    full-width or small form of one (U+FF1D, U+FE66, ...)."""
    if text[:1] in FORMULA_STARTS:
        return True
    for char in text:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs"):
            continue
        return char in FORMULA_STARTS or unicodedata.normalize("NFKC", char)[:1] in FORMULA_STARTS
    return False


# Student ids are folder names, and nbgrader's gradebook keeps and prints them as they are.
GLOB_CHARACTERS = "*?["  # nbgrader finds submissions with glob patterns built from ids
HTML_CHARACTERS = '<>"'  # formgrader writes ids unescaped into HTML text, attributes and scripts


def unsafe_id_reason(student: object) -> str | None:
    """Why nbgrader's gradebook cannot hold ``student`` as an id (None when it can). nbgrader
    matches submission paths with ``.*`` (no newline) and glob patterns, skips hidden
    folders, keeps ids as UTF-8 text and prints them raw (formgrader's pages too, unescaped
    in HTML and inside double-quoted attributes and script strings); ids come from folder
    names."""
    if not isinstance(student, str) or not student:
        return "the student id is empty or not text"
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in student):
        return "the folder name is not valid UTF-8"
    controls = [ch for ch in student if unicodedata.category(ch) == "Cc"]
    if controls:
        return f"the folder name contains a control character ({display_name(controls[0])})"
    wildcards = [ch for ch in student if ch in GLOB_CHARACTERS]
    if wildcards:
        return f"the folder name contains '{wildcards[0]}', a wildcard in nbgrader's file patterns"
    markup = [ch for ch in student if ch in HTML_CHARACTERS]
    if markup:
        return (f"the folder name contains '{markup[0]}', which nbgrader's formgrader would put "
                f"into its pages as HTML")
    if student.startswith("."):
        return "the folder name starts with a dot (nbgrader skips hidden folders)"
    if "/" in student or len(student.encode("utf-8")) > 255:
        return "the student id cannot be a folder name"
    return None
