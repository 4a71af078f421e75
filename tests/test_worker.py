"""The wire format between grader and student process: plain data only, strictly read."""

import io
import json
import struct
import zipfile

import numpy as np
import pytest

from autograder.worker import WireError, decode, encode, read_frame, strip_magics, write_frame


def test_plain_data_round_trips():
    value = {"a": np.arange(6.0).reshape(2, 3), "b": [1, 2.5, None, True, "x"],
             "c": (np.float64(3.5), np.int64(7)), "d": {"e": np.array([True, False])}}
    back = decode(encode(value))
    assert set(back) == set(value), f"keys {set(back)}"
    assert np.array_equal(back["a"], value["a"]) and back["a"].dtype == np.float64, back["a"]
    assert back["b"] == value["b"], back["b"]
    assert isinstance(back["c"], tuple) and back["c"] == (3.5, 7), back["c"]
    assert isinstance(back["c"][0], np.floating), type(back["c"][0])
    assert np.array_equal(back["d"]["e"], [True, False]), back["d"]


@pytest.mark.parametrize("bad", [
    np.array([object()]), np.array(["text"]), lambda: 0, {1: 2}, object(), {"s": {1, 2}},
], ids=["object-array", "string-array", "function", "int-keys", "object", "set"])
def test_anything_but_plain_data_is_refused(bad):
    with pytest.raises(WireError):
        encode(bad)


def test_deep_nesting_is_refused():
    value = []
    for _ in range(100):
        value = [value]
    with pytest.raises(WireError, match="nested"):
        encode(value)


def frame(tree, npz=b""):
    text = json.dumps(tree).encode()
    return struct.pack(">Q", len(text)) + text + npz


def pickled_npz():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        inner = io.BytesIO()
        np.save(inner, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
        archive.writestr("a0.npy", inner.getvalue())
    return buffer.getvalue()


@pytest.mark.parametrize("payload", [
    b"", b"\x00" * 4, frame({"__pickle__": "x"}), frame({"__array__": "a9"}),
    frame({"__array__": "a0"}, pickled_npz()), frame({"__list__": "notalist"}),
    frame({"x": 1, "y": 2}), frame(1, b"not a zip"), struct.pack(">Q", 99) + b"{}",
    struct.pack(">Q", 200_000) + b"[" * 100_000 + b"]" * 100_000, frame({"__array__": ["a0"]}),
], ids=["empty", "short", "unknown-tag", "missing-array", "pickled-array", "bad-list",
        "untagged-dict", "bad-zip", "truncated", "deep-json", "unhashable-reference"])
def test_decoder_rejects_crafted_messages(payload):
    with pytest.raises(WireError):
        decode(payload)


def test_frames_over_a_stream_and_the_size_limit():
    stream = io.BytesIO()
    write_frame(stream, {"x": np.ones(3)})
    stream.seek(0)
    assert np.array_equal(read_frame(stream)["x"], np.ones(3)), "frame lost data"
    assert read_frame(stream) is None, "end of stream must give None"
    stream = io.BytesIO(struct.pack(">Q", 10**12))
    with pytest.raises(WireError, match="exceeds"):
        read_frame(stream, max_bytes=10**6)


def test_magics_are_commented_out_not_run():
    source = "%matplotlib inline\nx = 1\n  !ls\n"
    assert strip_magics(source) == "pass  # %matplotlib inline\nx = 1\n  pass  # !ls", strip_magics(source)


def test_magic_characters_inside_a_statement_are_left_alone():
    source = "\n".join([
        "total = (1 +",
        "         2)",
        "flags = [",
        "    !True if False else 0,",
        "]",
        "y = 7 \\",
        "    % 4",
        'text = """',
        "%not a magic",
        '"""',
        "if True:",
        "    %time total",
    ])
    stripped = strip_magics(source).splitlines()
    assert stripped[3] == "    !True if False else 0,", stripped
    assert stripped[6] == "    % 4", stripped
    assert stripped[8] == "%not a magic", stripped
    assert stripped[11] == "    pass  # %time total", stripped
