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


def describe_error(exc):
    """(kind, text) for an exception raised by student code."""
    frames = traceback.extract_tb(exc.__traceback__)
    student = [f for f in frames if f.filename.startswith("<cell")]
    lines = [f"  {f.filename}, line {f.lineno}, in {f.name}: {f.line or ''}".rstrip()
             for f in student[-5:]]
    text = f"{type(exc).__name__}: {exc}"
    if lines:
        text = "Traceback (your code):\n" + "\n".join(lines) + "\n" + text
    if isinstance(exc, MemoryError):
        return "memory", text
    if isinstance(exc, NotImplementedError):
        return "not_implemented", text
    return "error", text


def run_cell(namespace, index, source, definitions_only):
    """Execute one cell in the student namespace; return an error description or None."""
    source = strip_magics(source)
    if definitions_only:  # a cell that hung before: keep only its defs and imports
        import ast
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return ("error", "SyntaxError")
        tree.body = [n for n in tree.body if isinstance(
            n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom))]
        code = compile(tree, f"<cell {index}>", "exec")
    else:
        try:
            code = compile(source, f"<cell {index}>", "exec")
        except SyntaxError as exc:
            return ("error", f"SyntaxError in cell {index}, line {exc.lineno}: {exc.msg}")
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
            write_frame(replies, {"ok": error is None, "kind": error and error[0],
                                  "message": error and error[1], "output": output.take()})
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
    try:
        result = function(*args, **kwargs)
    except BaseException as exc:
        kind, text = describe_error(exc)
        return {"ok": False, "kind": kind, "message": text, "output": output.take()}
    reply = {"ok": True, "result": result, "output": output.take()}
    if request.get("track"):
        reply["args_after"] = tuple(args)
    return reply


def main():
    requests = os.fdopen(int(sys.argv[1]), "rb")
    replies = os.fdopen(int(sys.argv[2]), "wb")
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
