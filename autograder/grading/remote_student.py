"""The student as tests see it during grading: a ``RemoteStudent`` whose methods call the
student's functions in the sandboxed student process (``autograder.grading.runner``) over the wire,
and the exceptions that say how a call went wrong."""

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from nnlab.testing import MissingFunction

if TYPE_CHECKING:
    from autograder.grading.runner import StudentProcess


class StudentCodeError(Exception):
    """The student's function raised an exception (its text is the student's own).

    ``where`` is the exception's type and the student's line that raised it, without the
    text: all a hidden test shows, since the text can carry the test's inputs.
    """

    def __init__(self, kind: str | None, message: str, where: str | None = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.where = where or "an exception"


class UnreadableReply(AssertionError):
    """The student's function returned what cannot cross the wire (not plain data)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.function = name


UNREADABLE = "your function returned something that is not plain numbers, arrays, lists or dicts"


class RemoteStudent:
    """The interface tests use (see nnlab.testing), backed by the student process."""

    def __init__(self, process: "StudentProcess", timeout: float) -> None:
        self._process = process
        self._timeout = timeout
        self.output: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._call(name, args, kwargs, False)["result"]

    def track(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        reply = self._call(name, args, kwargs, True)
        return reply["result"], reply["args_after"]

    def attempt(self, name: str, *args: Any, after: bool = False) -> Any:
        """``name(*args)``, or None when the student's function raises, is missing or
        returns what cannot cross the wire (as ``nnlab.testing.LocalStudent.attempt``);
        with ``after``, ``(result, positional args after the call)``."""
        try:
            reply = self._call(name, args, {}, bool(after))
        except (StudentCodeError, MissingFunction, AssertionError):
            return None
        return (reply["result"], reply["args_after"]) if after else reply["result"]

    def record(self, watch: Mapping[str, object], name: str, *args: Any,
               **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Call ``name`` and record its calls of the notebook's functions in ``watch``.

        ``watch`` maps a function name to "all" or n (keep its last n calls). Returns
        ``(result, recording)`` as ``nnlab.testing.LocalStudent.record`` does; the
        recording comes from the student process, so its form is checked here.
        """
        track = {"record": {str(key): keep for key, keep in dict(watch).items()}}
        reply = self._call(name, args, kwargs, track)
        recording: Any = reply.get("recording")
        calls = recording.get("calls") if isinstance(recording, dict) else None
        counts = recording.get("counts") if isinstance(recording, dict) else None
        well_formed = isinstance(calls, list) and isinstance(counts, dict) \
            and isinstance(recording.get("truncated"), bool) \
            and all(isinstance(counts.get(key), int) for key in track["record"]) \
            and all(isinstance(call, dict) and call.get("name") in track["record"]
                    and isinstance(call.get("index"), int)
                    and isinstance(call.get("args"), tuple)
                    and isinstance(call.get("kwargs"), dict) and "result" in call
                    for call in calls)
        if not well_formed:
            raise AssertionError(f"{name}: the record of the functions it called came back "
                                 f"malformed (was the notebook's worker process modified?)")
        return reply["result"], recording

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
              track: bool | dict[str, Any]) -> dict[str, Any]:
        reply = self._process.call(name, args, kwargs, track, self._timeout)
        if reply.get("output"):
            self.output.append(reply["output"])
        if reply["ok"]:
            return reply
        kind, message = reply.get("kind"), reply.get("message") or ""
        if kind == "missing":
            raise MissingFunction(f"`{name}` is not defined in your notebook: was its cell "
                                  f"deleted, or the function renamed?")
        if kind == "unreadable":
            raise UnreadableReply(name, message)
        raise StudentCodeError(kind, message, reply.get("where"))
