"""What a hidden test's record may show: nothing the student's code chose (``hidden_record``).

Hidden inputs reach the student's functions, which may write them into anything they control;
the record keeps fixed texts, built-in exception type names and the test's own public
messages without sizes or positions taken from the student's values."""

import builtins
import re
from typing import Any

from autograder.records import TestStatus


HIDDEN_DIED = "your code ended the Python process"


HIDDEN_FAILED = ("failed (the test's own message, with its inputs, is in `detail`, for the "
                 "instructor)")


CUSTOM_EXCEPTION = "an exception of a class defined in your code"


def shown_exception(where: str | None) -> str:
    """What a hidden test may say of the student's exception: the name of its type when
    that is a built-in exception type (``ValueError``), else ``CUSTOM_EXCEPTION``; never
    its text, its class name of the student's choosing, or the line that raised it (a
    student picks the line as freely as the name)."""
    name = (where or "").split(" ", 1)[0]
    kind = getattr(builtins, name, None)
    if isinstance(kind, type) and issubclass(kind, BaseException):
        return name
    return CUSTOM_EXCEPTION


_SIZES = re.compile(r"\(\s*-?\d+\s*(?:,\s*-?\d+\s*)*,?\s*\)")  # (6, 5), (7,)


def without_sizes(message: str, source: str) -> str:
    """``message`` with every tuple of integers (a shape, an index) that the test's
    ``source`` does not itself contain replaced by "(...)": a last guard against a public
    message that prints a shape or index of the student's value."""
    allowed = {found.replace(" ", "") for found in _SIZES.findall(source)}
    return _SIZES.sub(lambda found: found.group(0) if found.group(0).replace(" ", "") in allowed
                      else "(...)", message)


def hidden_record(record: dict[str, Any], source: str = "") -> dict[str, Any]:
    """A hidden test's record with nothing the student's code chose in its shown fields.

    Hidden inputs reach the student's functions, which may write them into anything they
    control: an exception's text or class name, the line that raises, printed output, the
    exit code or signal of the process, a memory error's text. So a hidden record keeps:
    ``message``, a fixed text per status (the test's own message only when it is a
    ``PublicFailure``, whose helpers leave out the student's values while hiding, see
    ``nnlab.testing.hiding_values``); ``where``, a built-in exception type's name or
    ``CUSTOM_EXCEPTION``; no ``output``. A failure message that is not public moves to
    ``detail`` (for the instructor only: never shown to students). ``source``: the test's
    code; a public message keeps only the tuples of integers written in it (``without_sizes``).
    """
    record = dict(record)
    record.pop("output", None)
    status = record["status"]
    if status == TestStatus.ERROR:
        shown = shown_exception(record.get("where"))
        record.update(where=shown, message=f"your code raised {shown} during this hidden test")
    elif status == TestStatus.MEMORY_LIMIT:
        record["message"] = "your code ran out of memory during this hidden test"
        if "where" in record:
            record["where"] = shown_exception(record["where"])
    elif status == TestStatus.NOT_IMPLEMENTED:
        record["where"] = "NotImplementedError"
    elif status == TestStatus.KERNEL_DIED:
        record["message"] = HIDDEN_DIED
    elif status == TestStatus.FAILED and not record.get("public"):
        record.update(detail=record["message"], message=HIDDEN_FAILED)
    elif status == TestStatus.FAILED:
        record["message"] = without_sizes(record["message"], source)[:500]
    return record
