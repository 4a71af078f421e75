"""The student process: runs a submission's code cells, then answers calls from the grader.

It is started by ``autograder.sandbox`` as a script (``python -B -s worker.py FD_IN FD_OUT``),
usually inside bubblewrap, and imports nothing of the course except ``nnlab`` (through
the student's own cells). The grader sends requests and reads replies as frames on two
pipes; everything else (stdout, stderr) is the student's and is captured or discarded.

Wire format, used in both directions (the grader imports ``encode``/``decode`` from this
file): a frame is an 8-byte big-endian length, then a payload made of an 8-byte length,
that many bytes of JSON, and an optional ``.npz`` archive (written without pickles,
read with ``allow_pickle=False``). JSON carries None, bools, numbers, strings, lists,
tuples and dicts with string keys; arrays and NumPy scalars are references into the
archive. Nothing else can cross: no pickle made by student code is ever loaded.
"""

import builtins
import collections
import io
import json
import os
import struct
import sys
import tokenize
import traceback
import zipfile

import numpy as np

MAX_FRAME_BYTES = 1 << 30   # one message at most (1 GiB)
MAX_DEPTH = 32              # nesting of lists and dicts in one message
ARRAY_KINDS = "biufc"       # bool, int, uint, float, complex: no objects, no strings
OUTPUT_LIMIT = 20_000       # characters of the student's printed output kept per step


class WireError(ValueError):
    """A message that is not plain data, or is too large or malformed."""


def encode(value):
    """Plain data -> bytes (JSON + npz); raises WireError for anything else."""
    arrays = {}

    def walk(item, depth):
        if depth > MAX_DEPTH:
            raise WireError("data nested too deeply")
        if item is None or isinstance(item, (bool, str)):
            return item
        if isinstance(item, (int, float)) and type(item) in (int, float):
            return item
        if isinstance(item, (np.ndarray, np.generic)):
            array = np.asarray(item)
            if array.dtype.kind not in ARRAY_KINDS:
                raise WireError(f"array of dtype {array.dtype} is not plain numbers")
            key = f"a{len(arrays)}"
            arrays[key] = array
            return {"__array__" if isinstance(item, np.ndarray) else "__scalar__": key}
        if isinstance(item, (int, float)):  # subclasses of int/float (e.g. bool-like)
            return float(item) if isinstance(item, float) else int(item)
        if isinstance(item, list):
            return {"__list__": [walk(x, depth + 1) for x in item]}
        if isinstance(item, tuple):
            return {"__tuple__": [walk(x, depth + 1) for x in item]}
        if isinstance(item, dict):
            if not all(isinstance(k, str) for k in item):
                raise WireError("dict keys must be strings")
            return {"__dict__": {k: walk(v, depth + 1) for k, v in item.items()}}
        raise WireError(f"a value of type {type(item).__name__} is not plain data")

    tree = json.dumps(walk(value, 0)).encode()
    buffer = io.BytesIO()
    buffer.write(struct.pack(">Q", len(tree)))
    buffer.write(tree)
    if arrays:
        np.savez(buffer, **arrays)  # object arrays were refused above: no pickles
    return buffer.getvalue()


def decode(data, max_bytes=MAX_FRAME_BYTES):
    """bytes -> plain data; strict: anything unexpected raises WireError, nothing else."""
    try:
        return _decode(data, max_bytes)
    except WireError:
        raise
    except Exception as exc:  # trust boundary: e.g. RecursionError from deep JSON, odd zips
        raise WireError(f"unreadable message ({type(exc).__name__}: {str(exc)[:200]})") from None


def _decode(data, max_bytes):
    if len(data) < 8:
        raise WireError("truncated message")
    (size,) = struct.unpack(">Q", data[:8])
    if size > len(data) - 8:
        raise WireError("truncated message")
    try:
        tree = json.loads(data[8:8 + size].decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"bad JSON: {exc}") from None
    arrays = {}
    rest = data[8 + size:]
    if rest:
        try:
            archive = zipfile.ZipFile(io.BytesIO(rest))
            if sum(info.file_size for info in archive.infolist()) > max_bytes:
                raise WireError("arrays too large")
            with np.load(io.BytesIO(rest), allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            if isinstance(exc, WireError):
                raise
            raise WireError(f"bad array archive: {exc}") from None

    def walk(item, depth):
        if depth > MAX_DEPTH:
            raise WireError("data nested too deeply")
        if item is None or isinstance(item, (bool, int, float, str)):
            return item
        if isinstance(item, dict) and len(item) == 1:
            (tag, inner), = item.items()
            if tag in ("__array__", "__scalar__"):
                if inner not in arrays or arrays[inner].dtype.kind not in ARRAY_KINDS:
                    raise WireError("bad array reference")
                return arrays[inner] if tag == "__array__" else arrays[inner][()]
            if tag in ("__list__", "__tuple__") and isinstance(inner, list):
                items = [walk(x, depth + 1) for x in inner]
                return items if tag == "__list__" else tuple(items)
            if tag == "__dict__" and isinstance(inner, dict):
                return {k: walk(v, depth + 1) for k, v in inner.items()}
        raise WireError("unexpected item in message")

    return walk(tree, 0)


def write_frame(stream, value):
    payload = encode(value)
    stream.write(struct.pack(">Q", len(payload)) + payload)
    stream.flush()


def read_frame(stream, max_bytes=MAX_FRAME_BYTES):
    """One frame from a binary stream; None at end of stream."""
    header = stream.read(8)
    if len(header) < 8:
        return None
    (size,) = struct.unpack(">Q", header)
    if size > max_bytes:
        raise WireError(f"message of {size} bytes exceeds the limit of {max_bytes}")
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return decode(payload, max_bytes)


class CappedOutput(io.TextIOBase):
    """Keeps the first OUTPUT_LIMIT characters written; counts the rest."""

    def __init__(self):
        self.parts, self.kept, self.dropped = [], 0, 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = OUTPUT_LIMIT - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self):
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters of output dropped]"
        self.parts, self.kept, self.dropped = [], 0, 0
        return text


def _at_statement_start(lines):
    """True when the code in ``lines`` is complete (not inside brackets, a string or a
    backslash continuation), so a following line begins a new statement."""
    try:
        for _ in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            pass
    except (tokenize.TokenError, SyntaxError):
        return False
    return True


def strip_magics(source):
    """IPython magics and shell escapes (a statement starting with % or !) are not Python:
    comment them out. A line inside brackets or a continuation is left alone."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) and _at_statement_start(lines):
            line = line[:len(line) - len(stripped)] + "pass  # " + stripped
        lines.append(line)
    return "\n".join(lines)


def _shown(function, fallback):
    """``function()``, or ``fallback`` when it raises or does not give a str: student
    exceptions may define a ``__str__`` that raises, hangs up or returns anything."""
    try:
        value = function()
    except BaseException:  # the student's __str__ or __repr__ is student code
        return fallback
    return value if isinstance(value, str) else fallback


def describe_error(exc):
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


def run_cell(namespace, index, source, definitions_only):
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


def serve(requests, replies):
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


def call(namespace, request, output):
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


RECORD_LIMIT = 64 << 20     # bytes a recording of calls keeps in all (see CallRecorder)


class CallRecorder:
    """Records the calls that a graded function makes to other functions of the notebook.

    A call request whose ``track`` is ``{"record": {name: keep}}`` names the functions to
    watch (e.g. train's calls of ``sgd_momentum_step``) and which of their calls to keep:
    ``"all"``, or an int n for the last n. While the graded function runs, each watched
    name in the namespace is bound to a wrapper that copies the arguments before the call
    (a function may update them in place) and the result after it; the names are
    restored however the call ends. A kept call is ``{"name", "index" (0 for the first
    call of that name), "args", "kwargs", "result"}``, made of plain data: arrays of
    numbers, lists, tuples, dicts with string keys, numbers and strings; anything else
    becomes the string "<its type>". Calls that raise are not kept. The kept copies hold
    at most RECORD_LIMIT bytes: from the first call that does not fit, calls are only
    counted and the recording is marked truncated.

    Like everything else reported from this process, a recording can be forged by student
    code that rewrites this module (see README, "what is protected").
    """

    def __init__(self, namespace, track):
        watch = track.get("record") if isinstance(track, dict) else None
        self.watch = {name: keep for name, keep in watch.items()
                      if keep == "all" or (type(keep) is int and keep > 0)} \
            if isinstance(watch, dict) else {}
        self.namespace = namespace
        self.kept = {name: collections.deque() for name in self.watch}
        self.counts = {name: 0 for name in self.watch}
        self.order, self.kept_bytes, self.truncated, self.saved = 0, 0, False, {}

    def __enter__(self):
        for name in self.watch:
            original = self.namespace.get(name)
            if callable(original):
                self.saved[name] = original
                self.namespace[name] = self._watched(name, original)
        return self

    def __exit__(self, *exc_info):
        self.namespace.update(self.saved)
        self.saved = {}
        return False

    def recording(self):
        """The kept calls in the order they returned, the count of calls per name, and
        whether calls were left out for lack of room."""
        entries = sorted((entry for kept in self.kept.values() for entry in kept),
                         key=lambda entry: entry["order"])
        calls = [{key: entry[key] for key in ("name", "index", "args", "kwargs", "result")}
                 for entry in entries]
        return {"calls": calls, "counts": dict(self.counts), "truncated": self.truncated}

    def _watched(self, name, original):
        def watched(*args, **kwargs):
            entry = self._copy({"args": args, "kwargs": kwargs}, name)
            result = original(*args, **kwargs)
            index = self.counts[name]
            self.counts[name] += 1
            if entry is not None:
                entry.update(self._copy({"result": result}, name, entry["size"]) or {})
                if "result" in entry:
                    self._keep(name, dict(entry, name=name, index=index))
            return result

        watched.__name__ = watched.__qualname__ = name
        watched.__wrapped__ = original
        return watched

    def _room(self, name):
        """Bytes free for one more call of ``name`` (counting the call it would push out)."""
        keep, kept = self.watch[name], self.kept[name]
        freed = kept[0]["size"] if keep != "all" and len(kept) >= keep else 0
        return RECORD_LIMIT - self.kept_bytes + freed

    def _copy(self, parts, name, used=0):
        """Copies of ``parts`` (with their total "size"), or None when they do not fit."""
        if self.truncated:
            return None
        size = used + sum(_plain_size(value) for value in parts.values())
        if size > self._room(name):
            self.truncated = True
            return None
        copied = {key: _plain_copy(value) for key, value in parts.items()}
        copied["size"] = size
        return copied

    def _keep(self, name, entry):
        keep, kept = self.watch[name], self.kept[name]
        if keep != "all" and len(kept) >= keep:
            self.kept_bytes -= kept.popleft()["size"]
        entry["order"] = self.order
        self.order += 1
        kept.append(entry)
        self.kept_bytes += entry["size"]


def _plain_size(value, depth=0):
    """Bytes a copy of ``value`` keeps (arrays by their size, other items 16 bytes each)."""
    try:
        if isinstance(value, (np.ndarray, np.generic)):
            return int(value.nbytes) + 16
        if isinstance(value, str):
            return len(value) + 16
        if depth < MAX_DEPTH - 8 and isinstance(value, (list, tuple)):
            return 16 + sum(_plain_size(item, depth + 1) for item in value)
        if depth < MAX_DEPTH - 8 and isinstance(value, dict):
            return 16 + sum(_plain_size(item, depth + 1) for item in value.values())
    except Exception:  # student objects may raise anywhere: they are not copied anyway
        return 16
    return 16


def _plain_copy(value, depth=0):
    """A copy of ``value`` as plain data; what is not plain becomes "<its type>"."""
    try:
        if value is None or type(value) in (bool, int, float, str):
            return value
        if isinstance(value, (np.ndarray, np.generic)):
            array = np.array(value)  # a copy, and a plain ndarray even for subclasses
            if array.dtype.kind not in ARRAY_KINDS:
                return f"<array of dtype {array.dtype}>"
            return array if isinstance(value, np.ndarray) else array[()]
        if isinstance(value, (int, float)):
            return float(value) if isinstance(value, float) else int(value)
        if depth < MAX_DEPTH - 8 and isinstance(value, (list, tuple)):
            items = [_plain_copy(item, depth + 1) for item in value]
            return tuple(items) if isinstance(value, tuple) else items
        if depth < MAX_DEPTH - 8 and isinstance(value, dict) \
                and all(isinstance(key, str) for key in value):
            return {str(key): _plain_copy(item, depth + 1) for key, item in value.items()}
    except Exception:  # a student object that cannot be read: described, not copied
        pass
    return f"<{type(value).__name__}>"


def drop_privileges(uid):
    """Become ``uid`` (and gid ``uid``, in no group) with no capabilities, for good.

    Used when the grader runs as root: bubblewrap then starts this process as root
    with only CAP_SETUID, CAP_SETGID and CAP_SETPCAP (see autograder.sandbox). The
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
    os.setgroups([])
    os.setresgid(uid, uid, uid)
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
    if os.getuid() != uid or os.geteuid() != uid or held:
        raise OSError(f"still privileged after dropping: uid {os.geteuid()}, {held}")


def self_check():
    """``worker.py --check``: what the grader's sandbox probe needs to work as student
    code would: nnlab importable, /scratch and /tmp writable. Exits 0 when all work."""
    import nnlab  # noqa: F401  (from /grader/lib in the sandbox)
    for folder in ("/scratch", "/tmp"):
        with open(os.path.join(folder, ".probe"), "w") as handle:
            handle.write("ok")
    print("uid", os.getuid(), "numpy", np.__version__)


def main():
    """``worker.py FD_IN FD_OUT [uid=N] [processes=N]``, or ``--check`` for the FDs.

    ``uid``: drop root for this uid before anything else (bubblewrap as root);
    ``processes``: RLIMIT_NPROC, set after the uid change so that it counts that uid.
    """
    positional = [arg for arg in sys.argv[1:] if "=" not in arg]
    options = dict(arg.split("=", 1) for arg in sys.argv[1:] if "=" in arg)
    if "uid" in options:
        drop_privileges(int(options["uid"]))
    if "processes" in options:
        import resource
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
