"""The wire format between grader and student process: plain data only, strictly read."""

import io
import json
import struct

import numpy as np
import pytest

import nnlab.recording
from autograder.sandbox import student_process as worker, wire
from autograder.sandbox.student_process import strip_magics
from autograder.sandbox.wire import WireError, decode, encode, read_frame, write_frame


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


def frame(tree, data=b""):
    """A payload of ``tree`` as JSON followed by ``data`` (padded as the encoder pads)."""
    text = json.dumps(tree).encode()
    padding = bytes(-(8 + len(text)) % wire.ALIGN) if data else b""
    return struct.pack(">Q", len(text)) + text + padding + data


def array(spec, data):
    return frame({"__array__": spec}, data)


@pytest.mark.parametrize("payload", [
    b"", b"\x00" * 4, frame({"__pickle__": "x"}), frame({"__array__": "a9"}),
    array(["|O8", [1], "C"], bytes(64)), array(["|V8", [1], "C"], bytes(64)),
    array(["<U1", [1], "C"], bytes(64)), array(["=f8", [1], "C"], bytes(64)),
    array(["|f8", [1], "C"], bytes(64)), array(["<f8", [2], "C"], bytes(8)),
    array(["<f8", [1], "C"], bytes(128)), array(["<f8", [-1], "C"], bytes(64)),
    array(["<f8", [True], "C"], bytes(64)), array(["<f8", [1.0], "C"], bytes(64)),
    array(["<f8", [1], "X"], bytes(64)), array(["<f8", [1 << 62, 1 << 62], "C"], bytes(64)),
    array(["<f8", [1] * 40, "C"], bytes(64)), frame({"__scalar__": ["<f8", [1], "C"]}, bytes(64)),
    frame({"__list__": "notalist"}), frame({"x": 1, "y": 2}), frame(1, b"not an array"),
    frame(1) + b"\x01" * 55, struct.pack(">Q", 99) + b"{}",
    struct.pack(">Q", 200_000) + b"[" * 100_000 + b"]" * 100_000, frame({"__array__": ["a0"]}),
], ids=["empty", "short", "unknown-tag", "old-reference", "object-dtype", "void-dtype",
        "string-dtype", "native-order-dtype", "non-canonical-dtype", "too-few-bytes",
        "bytes-left-over", "negative-dimension", "bool-dimension", "float-dimension",
        "bad-order", "huge-shape", "too-many-dimensions", "scalar-with-shape", "bad-list",
        "untagged-dict", "garbage-after-json", "nonzero-padding", "truncated", "deep-json",
        "unhashable-reference"])
def test_decoder_rejects_crafted_messages(payload):
    with pytest.raises(WireError):
        decode(payload)


@pytest.mark.parametrize("value", [
    np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.arange(12)[::2],
    np.arange(24).reshape(2, 3, 4).transpose(1, 0, 2), np.zeros((0, 3)), np.array(5.0),
    np.arange(3, dtype=">i4"), np.ones(3, np.complex64), np.ones(2, np.float16),
    np.ones(2, np.longdouble), np.array([True, False]), np.uint8(3), np.bool_(True),
], ids=["fortran", "strided", "transposed", "empty", "0-d", "big-endian", "complex64",
        "float16", "longdouble", "bool", "uint8-scalar", "bool-scalar"])
def test_arrays_cross_as_np_save_would_keep_them(value):
    """Same type, dtype (byte order included), shape, values and memory order as a
    np.save / np.load round trip gives, and writable: tests may change what they get."""
    back = decode(encode({"x": [value, (value,)]}))["x"]
    saved = io.BytesIO()
    np.save(saved, value)
    saved.seek(0)
    expected = np.load(saved)
    for item in (back[0], back[1][0]):
        assert type(item) is type(value), type(item)
        assert item.dtype == value.dtype and np.shape(item) == np.shape(value), item
        assert np.array_equal(item, value), item
        if isinstance(value, np.ndarray):
            assert item.flags.writeable, "decoded arrays must be writable"
            assert (item.flags.c_contiguous, item.flags.f_contiguous) == (
                expected.flags.c_contiguous, expected.flags.f_contiguous), item.flags
    assert not np.shares_memory(back[0], back[1][0]), "two arrays must never share memory"


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


# -- recording the calls a graded function makes (train -> sgd_momentum_step) ------------
RECORDED_NOTEBOOK = '''
import numpy as np

def step(params, grads, lr):
    for key in params:
        params[key] -= lr * grads[key]  # in place: the recording must copy before the call
    return params

def loop(params, n):
    for i in range(n):
        params = step(params, {"w": np.full(2, float(i))}, lr=0.5)
    return params

def note(value, **extra):
    return value
'''


def recorded_call(name, args, kwargs, watch, namespace=None):
    if namespace is None:
        namespace = {}
        exec(RECORDED_NOTEBOOK, namespace)
    request = {"name": name, "args": args, "kwargs": kwargs, "track": {"record": watch}}
    return worker.call(namespace, request, worker.CappedOutput()), namespace


def test_recording_copies_arguments_before_and_results_after_each_call():
    reply, namespace = recorded_call("loop", ({"w": np.zeros(2)}, 3), {}, {"step": "all"})
    assert reply["ok"], reply
    recording = reply["recording"]
    assert recording["counts"] == {"step": 3} and not recording["truncated"], recording
    calls = recording["calls"]
    assert [call["index"] for call in calls] == [0, 1, 2], calls
    assert [call["args"][0]["w"][0] for call in calls] == [0.0, 0.0, -0.5], (
        "each call's params must be copied before the in-place update", calls)
    assert [call["result"]["w"][0] for call in calls] == [0.0, -0.5, -1.5], calls
    assert calls[1]["kwargs"] == {"lr": 0.5}, calls[1]
    assert namespace["step"].__name__ == "step" and not hasattr(namespace["step"], "__wrapped__"), (
        "the watched name must be restored after the call")
    assert "args_after" not in reply, "a recorded call is not a tracked call"
    decode(encode(reply))  # plain data: it crosses the wire


def test_recording_keeps_the_last_n_calls_and_counts_them_all():
    reply, _ = recorded_call("loop", ({"w": np.zeros(2)}, 5), {}, {"step": 2})
    recording = reply["recording"]
    assert recording["counts"] == {"step": 5}, recording
    assert [call["index"] for call in recording["calls"]] == [3, 4], recording["calls"]


def test_recording_past_its_byte_limit_is_truncated(monkeypatch):
    monkeypatch.setattr(nnlab.recording, "RECORD_LIMIT", 2000)  # the worker uses its CallRecorder
    reply, _ = recorded_call("loop", ({"w": np.zeros(2)}, 40), {}, {"step": "all"})
    recording = reply["recording"]
    assert recording["truncated"] and recording["counts"] == {"step": 40}, recording
    kept = [call["index"] for call in recording["calls"]]
    assert kept == list(range(len(kept))) and 0 < len(kept) < 40, kept


def test_recording_describes_values_that_are_not_plain_data_and_restores_names_on_errors():
    namespace = {}
    exec(RECORDED_NOTEBOOK + '''
def odd(n):
    note({"w": np.zeros(1)}, tags={1, 2}, kind=np.array(["text"]), nested=[[object()]])
    raise ValueError("after the call")
''', namespace)
    original = namespace["note"]
    reply, _ = recorded_call("odd", (1,), {}, {"note": "all", "missing": "all"}, namespace)
    assert not reply["ok"] and "after the call" in reply["message"], reply
    assert namespace["note"] is original and "missing" not in namespace, "names not restored"
    recorder = worker.CallRecorder(namespace, {"record": {"note": "all"}})
    with recorder:
        namespace["note"](
            {"w": np.zeros(1)}, tags={1, 2}, kind=np.array(["text"]), nested=[[object()]])
    call = recorder.recording()["calls"][0]
    assert call["kwargs"] == {"tags": "<set>", "kind": "<array of dtype <U4>",
                              "nested": [["<object>"]]}, call
    decode(encode(recorder.recording()))
    request = {"name": "note", "args": (1,), "kwargs": {}, "track": True}
    assert "recording" not in worker.call(namespace, request, worker.CappedOutput()), (
        "a tracked call records nothing")


class FakeProcess:
    def __init__(self, recording):
        self.recording = recording

    def call(self, name, args, kwargs, track, timeout):
        assert track == {"record": {"step": "all"}}, track
        return {"ok": True, "result": None, "output": "", "recording": self.recording}


@pytest.mark.parametrize("recording", [
    None, {"calls": [], "counts": {}, "truncated": False},
    {"calls": [{"name": "other", "index": 0, "args": (), "kwargs": {}, "result": 1}],
     "counts": {"step": 1}, "truncated": False},
    {"calls": [{"name": "step", "index": 0, "args": [], "kwargs": {}, "result": 1}],
     "counts": {"step": 1}, "truncated": False},
    {"calls": [], "counts": {"step": 0}, "truncated": "no"},
], ids=["none", "no-count", "unwatched-name", "args-not-tuple", "truncated-not-bool"])
def test_grader_refuses_a_malformed_recording(recording):
    from autograder.grading.remote_student import RemoteStudent
    student = RemoteStudent(FakeProcess(recording), timeout=1.0)
    with pytest.raises(AssertionError, match="malformed"):
        student.record({"step": "all"}, "loop")
