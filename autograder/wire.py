"""The wire between the grader and the student process: plain data only, both ways.

A frame is an 8-byte big-endian length, then a payload made of an 8-byte length, that
many bytes of JSON, and an optional ``.npz`` archive (written without pickles, read with
``allow_pickle=False``). JSON carries None, bools, numbers, strings, lists, tuples and
dicts with string keys; arrays and NumPy scalars are references into the archive.
Nothing else can cross: no pickle made by student code is ever loaded.

Both sides import this module: the grader as ``autograder.wire``, the worker (a script in
the sandbox, where only it and this file are bound, at /grader) as ``wire``.
"""

import io
import json
import struct
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
