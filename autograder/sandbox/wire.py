"""The wire between the grader and the student process: plain data only, both ways.

A frame is an 8-byte big-endian length, then a payload made of an 8-byte length, that
many bytes of JSON, zeros up to a multiple of ALIGN bytes, and the raw bytes of the
message's arrays in the order the JSON names them, each padded likewise (nothing is
compressed or unpickled: an array costs a copy of its bytes). JSON carries None, bools,
numbers, strings, lists, tuples and dicts with string keys; an array or NumPy scalar is
``{"__array__": [dtype, shape, order]}`` (``"__scalar__"``, shape ``[]``), standing for
the next array's bytes. Only numeric dtypes cross (no objects, strings or records), and
the bytes must match the arrays exactly: nothing else can cross.

Both sides import this module: the grader as ``autograder.sandbox.wire``, the worker (a script in
the sandbox, where only it and this file are bound, at /grader) as ``wire``.
"""

import io
import json
import math
import re
import struct
from typing import Any, BinaryIO, Literal

import numpy as np

MAX_FRAME_BYTES = 1 << 30   # one message at most (1 GiB)
MAX_DEPTH = 32              # nesting of lists and dicts in one message
MAX_DIMENSIONS = 32         # of one array
ARRAY_KINDS = "biufc"       # bool, int, uint, float, complex: no objects, no strings
OUTPUT_LIMIT = 20_000       # characters of the student's printed output kept per step
ALIGN = 64                  # each array's bytes start at a multiple of this in the payload
_DTYPE = re.compile(r"[<>|][biufc][0-9]{1,2}")  # an array's dtype.str, e.g. "<f8", "|b1"


class WireError(ValueError):
    """A message that is not plain data, or is too large or malformed."""


def _padding(size: int) -> int:
    return -size % ALIGN


def encode(value: object) -> bytes:
    """Plain data -> bytes (JSON + array bytes); raises WireError for anything else."""
    arrays: list[np.ndarray] = []

    def walk(item: object, depth: int) -> object:
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
            # Fortran order is kept, as np.save keeps it; anything else travels in C order
            order: Literal["C", "F"] = ("F" if array.flags.f_contiguous
                                        and not array.flags.c_contiguous else "C")
            arrays.append(array.ravel(order=order).view(np.uint8))  # its bytes, as tobytes
            tag = "__array__" if isinstance(item, np.ndarray) else "__scalar__"
            return {tag: [array.dtype.str, list(array.shape), order]}
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
    parts: list[bytes | np.ndarray] = [struct.pack(">Q", len(tree)), tree,
                                       bytes(_padding(8 + len(tree)))]
    for data in arrays:
        parts += [data, bytes(_padding(data.size))]
    return b"".join(parts)  # type: ignore[arg-type]  # an ndarray is a buffer


def decode(data: bytes | bytearray, max_bytes: int = MAX_FRAME_BYTES) -> Any:
    """bytes -> plain data; strict: anything unexpected raises WireError, nothing else.
    Arrays decoded from a bytearray use its memory (no copy); from bytes, a copy."""
    try:
        return _decode(data, max_bytes)
    except WireError:
        raise
    except Exception as exc:  # trust boundary: e.g. RecursionError from deep JSON
        raise WireError(f"unreadable message ({type(exc).__name__}: {str(exc)[:200]})") from None


def _array(spec: object, buffer: bytearray | memoryview, offset: int,
           scalar: bool) -> tuple[Any, int]:
    """The array ``spec`` ([dtype, shape, order]) describes at ``offset`` of ``buffer``
    (writable memory, so the arrays are writable as np.load's are, each in bytes of its
    own); returns (array, the next array's offset)."""
    if not (isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str)
            and _DTYPE.fullmatch(spec[0]) and isinstance(spec[1], list)
            and len(spec[1]) <= (0 if scalar else MAX_DIMENSIONS) and spec[2] in ("C", "F")
            and all(type(n) is int and n >= 0 for n in spec[1])):
        raise WireError("bad array reference")
    dtype = np.dtype(spec[0])
    if dtype.kind not in ARRAY_KINDS or dtype.str != spec[0]:
        raise WireError("bad array reference")
    size = math.prod(spec[1]) * dtype.itemsize
    if offset + size > len(buffer):
        raise WireError("array data missing")
    array = np.ndarray(tuple(spec[1]), dtype, buffer=buffer, offset=offset, order=spec[2]) \
        if size else np.zeros(tuple(spec[1]), dtype, order=spec[2])
    return (array[()] if scalar else array), offset + size + _padding(size)


def _decode(data: bytes | bytearray, max_bytes: int) -> Any:
    if len(data) < 8:
        raise WireError("truncated message")
    (size,) = struct.unpack(">Q", data[:8])
    if size > len(data) - 8:
        raise WireError("truncated message")
    try:
        tree = json.loads(bytes(data[8:8 + size]).decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"bad JSON: {exc}") from None
    start = 8 + size + _padding(8 + size)
    if 8 + size < len(data) and (len(data) < start or any(data[8 + size:start])):
        raise WireError("bytes after the JSON that are not padding")
    if len(data) - start > max_bytes:
        raise WireError("arrays too large")
    buffer = memoryview(data)[start:] if isinstance(data, bytearray) \
        else bytearray(memoryview(data)[start:])
    offset = 0

    def walk(item: Any, depth: int) -> Any:
        nonlocal offset
        if depth > MAX_DEPTH:
            raise WireError("data nested too deeply")
        if item is None or isinstance(item, (bool, int, float, str)):
            return item
        if isinstance(item, dict) and len(item) == 1:
            (tag, inner), = item.items()
            if tag in ("__array__", "__scalar__"):
                array, offset = _array(inner, buffer, offset, tag == "__scalar__")
                return array
            if tag in ("__list__", "__tuple__") and isinstance(inner, list):
                items = [walk(x, depth + 1) for x in inner]
                return items if tag == "__list__" else tuple(items)
            if tag == "__dict__" and isinstance(inner, dict):
                return {k: walk(v, depth + 1) for k, v in inner.items()}
        raise WireError("unexpected item in message")

    value = walk(tree, 0)
    if offset != len(buffer):
        raise WireError("the message's array bytes do not match its arrays")
    return value


def write_frame(stream: BinaryIO, value: object) -> None:
    payload = encode(value)
    stream.write(struct.pack(">Q", len(payload)))
    stream.write(payload)
    stream.flush()


def read_frame(stream: io.BufferedIOBase, max_bytes: int = MAX_FRAME_BYTES) -> Any:
    """One frame from a binary stream; None at end of stream."""
    header = stream.read(8)
    if len(header) < 8:
        return None
    (size,) = struct.unpack(">Q", header)
    if size > max_bytes:
        raise WireError(f"message of {size} bytes exceeds the limit of {max_bytes}")
    payload, filled = bytearray(size), 0
    view = memoryview(payload)
    while filled < size:  # into a bytearray: the decoded arrays use its memory
        count = stream.readinto(view[filled:])
        if not count:
            return None
        filled += count
    return decode(payload, max_bytes)
