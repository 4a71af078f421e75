"""The student process: runs a submission's code cells, then answers calls from the grader.

It is started by ``autograder.sandbox.launch`` as a script (``python -B -s student_process.py FD_IN FD_OUT``),
usually inside bubblewrap, and imports nothing of the course except ``nnlab`` (its
``CallRecorder``, and whatever the student's own cells import). The grader sends requests
and reads replies as frames on two pipes; everything else (stdout, stderr) is the
student's and is captured or discarded.

The frames' format is ``wire`` (``autograder/sandbox/wire.py``, bound beside this script in the
sandbox): plain data only, no pickle made by student code is ever loaded.
"""

import builtins
import io
import os
import resource
import sys
import tokenize
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from nnlab.recording import CallRecorder  # nnlab: from /grader/lib in the sandbox

try:  # as the sandbox runs it: a script with wire.py beside it
    from wire import OUTPUT_LIMIT, WireError, read_frame, write_frame  # type: ignore[import-not-found]
except ImportError:  # imported as part of the autograder package (tests)
    from autograder.sandbox.wire import OUTPUT_LIMIT, WireError, read_frame, write_frame


class CappedOutput(io.TextIOBase):
    """Keeps the first OUTPUT_LIMIT characters written; counts the rest."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.kept, self.dropped = 0, 0

    def writable(self) -> bool:
        return True

    def write(self, text: object) -> int:
        text = str(text)
        room = OUTPUT_LIMIT - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters of output dropped]"
        self.parts, self.kept, self.dropped = [], 0, 0
        return text


def _at_statement_start(lines: list[str]) -> bool:
    """True when the code in ``lines`` is complete (not inside brackets, a string or a
    backslash continuation), so a following line begins a new statement."""
    try:
        for _ in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            pass
    except (tokenize.TokenError, SyntaxError):
        return False
    return True


def strip_magics(source: str) -> str:
    """IPython magics and shell escapes (a statement starting with % or !) are not Python:
    comment them out. A line inside brackets or a continuation is left alone."""
    lines: list[str] = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) and _at_statement_start(lines):
            line = line[:len(line) - len(stripped)] + "pass  # " + stripped
        lines.append(line)
    return "\n".join(lines)


def _shown(function: Callable[[], object], fallback: str) -> str:
    """``function()``, or ``fallback`` when it raises or does not give a str: student
    exceptions may define a ``__str__`` that raises, hangs up or returns anything."""
    try:
        value = function()
    except BaseException:  # the student's __str__ or __repr__ is student code
        return fallback
    return value if isinstance(value, str) else fallback


def describe_error(exc: BaseException) -> tuple[str, str, str]:
    """(kind, text, where) for an exception raised by student code.

    ``where`` names the exception type and the student's innermost line, e.g.
    ``"ValueError at <cell 12>, line 4"``: what a hidden test may show, since the text
    of a student's exception can carry the test's inputs.
    """
    name = _shown(lambda: type(exc).__name__, "Exception")
    student = []
    try:
        frames = traceback.extract_tb(exc.__traceback__)
        student = [f for f in frames if f.filename.startswith("<cell")]
    except BaseException:  # a traceback that cannot be walked: report without it
        pass
    lines = [f"  {f.filename}, line {f.lineno}, in {f.name}: {f.line or ''}".rstrip()
             for f in student[-5:]]
    detail = _shown(lambda: str(exc), "(the exception's text could not be shown: its "
                                      "__str__ failed)")
    text = f"{name}: {detail}"
    if lines:
        text = "Traceback (your code):\n" + "\n".join(lines) + "\n" + text
    where = name + (f" at {student[-1].filename}, line {student[-1].lineno}" if student else "")
    if isinstance(exc, MemoryError):
        return "memory", text, where
    if isinstance(exc, NotImplementedError):
        return "not_implemented", text, where
    return "error", text, where


def run_cell(namespace: dict[str, Any], index: int, source: str,
             definitions_only: bool) -> tuple[str, str, str] | None:
    """Execute one cell in the student namespace; return an error description or None."""
    source = strip_magics(source)
    if definitions_only:  # a cell that hung before: keep only its defs and imports
        import ast
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return ("error", "SyntaxError", "SyntaxError")
        tree.body = [n for n in tree.body if isinstance(
            n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom))]
        code = compile(tree, f"<cell {index}>", "exec")
    else:
        try:
            code = compile(source, f"<cell {index}>", "exec")
        except SyntaxError as exc:
            text = f"SyntaxError in cell {index}, line {exc.lineno}: {exc.msg}"
            return ("error", text, f"SyntaxError at <cell {index}>, line {exc.lineno}")
    try:
        exec(code, namespace)
    except BaseException as exc:  # the student's code may raise anything, SystemExit included
        return describe_error(exc)
    return None


def serve(requests: io.BufferedIOBase, replies: io.BufferedIOBase) -> None:
    """Answer requests until the grader closes the pipe."""
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    output = CappedOutput()
    sys.stdout = sys.stderr = output
    while True:
        request = read_frame(requests)
        if request is None:
            return
        op = request.get("op")
        if op == "cell":
            error = run_cell(namespace, request["index"], request["source"],
                             request.get("definitions_only", False))
            kind, message, where = error or (None, None, None)
            write_frame(replies, {"ok": error is None, "kind": kind, "message": message,
                                  "where": where, "output": output.take()})
        elif op == "call":
            reply = call(namespace, request, output)
            try:
                write_frame(replies, reply)
            except WireError as exc:
                write_frame(replies, {
                    "ok": False, "kind": "unreadable", "output": reply.get("output", ""),
                    "message": f"your function returned something that is not plain numbers, "
                               f"arrays, lists or dicts ({exc})"})
        else:
            write_frame(replies, {"ok": False, "kind": "protocol", "message": f"unknown op {op!r}"})


def call(namespace: dict[str, Any], request: dict[str, Any], output: CappedOutput) -> dict[str, Any]:
    function = namespace.get(request["name"])
    if not callable(function):
        return {"ok": False, "kind": "missing", "message": f"{request['name']} is not defined",
                "output": output.take()}
    args, kwargs = list(request["args"]), request["kwargs"]
    recorder = CallRecorder(namespace, request.get("track"))
    try:
        with recorder:
            result = function(*args, **kwargs)
    except BaseException as exc:
        kind, text, where = describe_error(exc)
        return {"ok": False, "kind": kind, "message": text, "where": where,
                "output": output.take()}
    reply = {"ok": True, "result": result, "output": output.take()}
    if request.get("track") is True:
        reply["args_after"] = tuple(args)
    if recorder.watch:
        reply["recording"] = recorder.recording()
    return reply


def drop_privileges(uid: int, gid: int | None = None) -> None:
    """Become ``uid`` (and gid ``gid``, default ``uid``, in no group) with no
    capabilities, for good.

    Used when the grader runs as root: bubblewrap then starts this process as root
    with only CAP_SETUID, CAP_SETGID and CAP_SETPCAP (see autograder.sandbox.launch); in rlimits
    mode it starts as root with every capability. The
    bounding set is emptied first (CAP_SETPCAP), so no capability can come back through
    exec; changing every uid clears the permitted and effective sets, and capset clears
    the inheritable one. ``no_new_privs`` stops set-user-ID programs. The change of uid
    made the process non-dumpable, which would make its own /proc/self/fd and environ
    unreadable to it; it is made dumpable again (nothing else runs as this uid, and the
    core size limit is 0). Raises OSError.
    """
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_dumpable, pr_capbset_drop, pr_set_no_new_privs = 4, 24, 38  # <linux/prctl.h>
    capability = 0
    while libc.prctl(pr_capbset_drop, capability, 0, 0, 0) == 0:  # EINVAL past the last
        capability += 1
    gid = uid if gid is None else gid
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)   # _LINUX_CAPABILITY_VERSION_3, this process
    if libc.capset(header, (ctypes.c_uint32 * 6)()) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    for option in (pr_set_no_new_privs, pr_set_dumpable):
        if libc.prctl(option, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"prctl({option}, 1) failed")
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    held = [key for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
            if int(status[key], 16)]
    if (os.getuid() != uid or os.geteuid() != uid or os.getgid() != gid
            or os.getegid() != gid or os.getgroups() or held):
        raise OSError(f"still privileged after dropping: uid {os.geteuid()}, "
                      f"gid {os.getegid()}, groups {os.getgroups()}, {held}")


def self_check() -> None:
    """``student_process.py --check``: what the grader's sandbox probe needs to work as student
    code would: nnlab importable; the files of the Python installation, NumPy and nnlab
    readable (they are imported lazily, after the uid change); the working folder
    (/scratch in bubblewrap) and /tmp writable. Exits 0 when all work."""
    import nnlab  # (from /grader/lib in the sandbox)
    for module in (os, np, nnlab):
        folder = os.path.dirname(os.path.abspath(module.__file__))  # type: ignore[type-var]  # from a file
        os.listdir(folder)
        with open(module.__file__, "rb") as handle:  # type: ignore[arg-type]  # from a file
            handle.read(1)
    for folder in (os.getcwd(), "/tmp"):
        with open(os.path.join(folder, f".probe-{os.getpid()}"), "w") as handle:
            handle.write("ok")
        os.unlink(os.path.join(folder, f".probe-{os.getpid()}"))
    print("uid", os.getuid(), "numpy", np.__version__)


def main() -> None:
    """``student_process.py FD_IN FD_OUT [uid=N [gid=N]] [processes=N]``, or ``--check`` for the
    FDs.

    ``uid``, ``gid``: drop root for these before any student code (the grader runs as
    root: in bubblewrap, or in rlimits mode); ``processes``: RLIMIT_NPROC, set after the
    uid change so that it counts that uid.
    """
    positional = [arg for arg in sys.argv[1:] if "=" not in arg]
    options = dict(arg.split("=", 1) for arg in sys.argv[1:] if "=" in arg)
    if "uid" in options:
        drop_privileges(int(options["uid"]), int(options["gid"]) if "gid" in options else None)
    if "processes" in options:
        count = int(options["processes"])
        resource.setrlimit(resource.RLIMIT_NPROC, (count, count))
    if positional == ["--check"]:
        self_check()
        return
    requests = os.fdopen(int(positional[0]), "rb")
    replies = os.fdopen(int(positional[1]), "wb")
    # Before any student code: tells the grader that the sandbox itself works, so that a
    # sandbox which cannot start is the grader's problem, never the student's.
    write_frame(replies, {"ok": True, "kind": "ready"})
    # From now on fd 2 is the student's: point it at /dev/null, so that os.write(2, ...)
    # cannot fill the grader's start-up log (print and sys.stderr are captured below).
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    # Student code runs with its own working directory; nnlab comes from sys.path.
    serve(requests, replies)


if __name__ == "__main__":
    main()
