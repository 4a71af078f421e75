"""Text from untrusted places (folder names, student messages, notebooks) made safe to show.

Two kinds of text cross from submissions into what the grader writes and prints:

- **names** (student and assignment folders, notebook files): ``os.listdir`` gives them
  as ``str`` in which bytes that are not UTF-8 became lone surrogates (Python's
  ``surrogateescape``: Latin-1 ``Jos\\xe9`` arrives as ``'Jos\\udce9'``). ``display_name``
  spells such bytes as ``\\xe9`` and control characters (newlines, terminal escape codes)
  as ``\\n`` / ``\\x1b``, so a name is one printable line that cannot move the cursor of
  the instructor's terminal and always encodes as UTF-8. Valid names are unchanged.
- **texts** (messages, printed output, Markdown): ``clean_text`` keeps newlines and tabs,
  replaces any lone surrogate (``ValueError('\\ud800')``) with U+FFFD and spells other
  control characters escaped (``\\x1b``), so the text can be written as UTF-8
  and shown in a page.
"""

import re

# C0 and C1 control characters and DEL; tab and newline are allowed in texts only. Names
# also spell out invisible formatting characters (zero-width, bidirectional overrides such
# as U+202E, which would make a name read backwards).
_NAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f"
                          r"\ufeff\ufff9-\ufffb\ud800-\udfff]")
_TEXT_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match):
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code > 0xFF:
        return f"\\u{code:04x}"
    return f"\\x{code:02x}"


def display_name(name):
    """A folder or file name as one safe, printable line (unchanged when already so)."""
    name = name if isinstance(name, str) else str(name)
    return _NAME_UNSAFE.sub(_escape, name)


def is_plain_name(name):
    """True when ``display_name`` would leave ``name`` unchanged."""
    return isinstance(name, str) and not _NAME_UNSAFE.search(name)


def _clean(match):
    char = match.group()
    return "\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else _escape(match)


def clean_text(text):
    """A message or output that encodes as UTF-8: lone surrogates become U+FFFD, control
    characters other than newline, carriage return and tab are shown escaped."""
    text = text if isinstance(text, str) else str(text)
    return _TEXT_UNSAFE.sub(_clean, text)


def utf8(text):
    """``text`` as UTF-8 bytes, whatever it holds (lone surrogates become U+FFFD)."""
    return clean_text(text).encode("utf-8")
