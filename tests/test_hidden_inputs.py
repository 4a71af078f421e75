"""Hidden inputs are worth nothing (issue 17, item 3).

Hidden tests draw their inputs per grading run from the course secret and the notebook's
bytes (``autograder.hidden``), so inputs learned from one run do not help in the next; every
draw passes a correct student; and no channel of a hidden test's record (exception text or
class name, shapes and positions in the student's return value, exit code, printed output,
a global stashed for a later visible test, a file read by the cells after a restart) shows
the inputs. The secret is not readable from the sandbox.
"""

import dataclasses
import importlib
import json
import os
import re

import nbformat
import numpy as np
import pytest

from autograder import config, demo, hidden, hidden_record
from autograder.execution import batch
from autograder.grader_key import grader_key, key_differences
from autograder.grading import notebook_grader, remote_student
from autograder.outputs import feedback_results
from autograder.sandbox import isolation as sandbox_isolation
from autograder.sandbox.launch import Limits
from course_under_test import COURSE, TLN
from nnlab.testing import LocalStudent, hiding_values

SEEDS = {"reference": 200, "ada_correct": 50}  # draws of each hidden test checked
TRAINING = {"train", "train_mlp"}  # training tests: calibrated apart (thresholds, seeds)
LIMITS = Limits(memory_bytes=1 << 30, cpu_seconds=120, cell_seconds=20.0,
                notebook_seconds=300.0, call_seconds=10.0)


def is_training(test) -> bool:
    return test.function.__module__.rsplit(".", 1)[1] in TRAINING


def untrained(assignment):
    """``assignment`` without its training tests (faster to grade; they are not the point)."""
    return dataclasses.replace(assignment,
                               tests=tuple(t for t in assignment.tests if not is_training(t)))


FAST_TLN = untrained(TLN)


def reference_namespace(assignment) -> dict:
    module = importlib.import_module(f"solutions.{assignment.name}")
    return {function.__name__: function for function in module.STUDENT_FUNCTIONS}


def demo_namespace(assignment, student: str = "ada_correct") -> dict:
    """The notebook globals of a demo student (its functions, defined in one namespace)."""
    namespace = {"np": np}
    for source in demo.functions_in(assignment.demo_dir / "students" / f"{student}.py").values():
        exec(source, namespace)
    return namespace


# -- 1. every draw passes a correct student ------------------------------------------------
@pytest.mark.parametrize("student", ["reference", "ada_correct"])
@pytest.mark.parametrize("name", COURSE.names)
def test_every_hidden_draw_passes_a_correct_student(name, student):
    assignment = COURSE.get(name)
    namespace = (reference_namespace(assignment) if student == "reference"
                 else demo_namespace(assignment))
    secret = bytes(range(32))
    failures = []
    for test in assignment.tests:
        if not test.hidden or is_training(test):
            continue
        drawn = "hidden_rng" in test.source()
        for seed in range(SEEDS[student] if drawn else 1):
            with hidden.submission(f"calibration {seed}", secret), hidden.test(test.grade_id), \
                    hiding_values():
                try:
                    test.function(LocalStudent(namespace))
                except AssertionError as exc:
                    failures.append(f"{test.grade_id} (draw {seed}): {exc}")
    assert not failures, f"{len(failures)} failing draws: " + "; ".join(failures[:5])


def test_every_hidden_test_but_training_draws_its_random_inputs_per_run():
    for assignment in COURSE.assignments:
        for test in assignment.tests:
            if test.hidden and not is_training(test):
                assert not re.search(r"default_rng\(\d", test.source()), (
                    f"{test.grade_id} draws from a fixed seed: use autograder.hidden.hidden_rng()")


# -- the generator and the secret ----------------------------------------------------------
def draw(submission_hash: str, grade_id: str, secret: bytes) -> np.ndarray:
    with hidden.submission(submission_hash, secret), hidden.test(grade_id):
        return hidden.hidden_rng().normal(size=8)


def test_same_notebook_same_inputs_any_change_new_inputs():
    secret = bytes(range(32))
    first = draw("a" * 64, "softmax_random_inputs", secret)
    assert np.array_equal(first, draw("a" * 64, "softmax_random_inputs", secret))
    assert not np.array_equal(first, draw("b" * 64, "softmax_random_inputs", secret))
    assert not np.array_equal(first, draw("a" * 64, "relu_random_inputs", secret))
    assert not np.array_equal(first, draw("a" * 64, "softmax_random_inputs", bytes(32)))
    # without a grading context: a fresh draw each time
    fresh = [hidden.hidden_rng().normal(size=8) for _ in range(2)]
    assert not np.array_equal(*fresh)


def test_secret_is_made_once_private_and_names_the_grader_key(tmp_path):
    secret = hidden.ensure_secret(tmp_path)
    path = hidden.secret_path(tmp_path)
    assert len(secret) == 32 and path.stat().st_mode & 0o077 == 0, oct(path.stat().st_mode)
    assert hidden.ensure_secret(tmp_path) == secret, "a second call must keep the secret"
    assert [p.name for p in tmp_path.iterdir()] == [hidden.SECRET_NAME], list(tmp_path.iterdir())
    other = tmp_path / "other"
    other.mkdir()
    assert hidden.secret_digest(other) != hidden.secret_digest(tmp_path)
    # the grader key changes with the secret: results are regraded, other workers refused
    mine = grader_key(LIMITS, "rlimits")
    theirs = mine.rsplit(":", 1)[0] + ":" + hidden.secret_digest(other)
    assert key_differences(mine, theirs) == ["the course secret (.course-secret)"], (
        key_differences(mine, theirs))


def test_secret_is_ignored_by_git_and_kept_out_of_releases():
    assert "/.course-secret" in (notebook_grader.config.ROOT / ".gitignore").read_text()
    hidden.ensure_secret()
    for assignment in COURSE.assignments:
        assert not list(assignment.release_dir.rglob(".course-secret*")), assignment.name
    assert not list((notebook_grader.config.ROOT / "nnlab").rglob(".course-secret*"))


# -- helpers to grade notebooks ------------------------------------------------------------
ADA = demo.functions_in(TLN.demo_dir / "students" / "ada_correct.py")


def notebook_of(overrides: dict, extra_cells=()) -> nbformat.NotebookNode:
    release = nbformat.read(str(TLN.release_notebook), as_version=4)
    notebook = demo.fill(release, dict(ADA, **overrides))
    notebook.cells.extend(nbformat.v4.new_code_cell(source) for source in extra_cells)
    return notebook


def write(tmp_path, student: str, notebook) -> "os.PathLike":
    path = tmp_path / student / TLN.name / f"{TLN.notebook}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


class RecordingStudent(LocalStudent):
    """A LocalStudent that keeps every argument the test gives the student's functions."""

    def __init__(self, namespace):
        super().__init__(namespace)
        self.calls = []

    def __getattr__(self, name):
        function = super().__getattr__(name)

        def recorded(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return function(*args, **kwargs)
        return recorded

    def attempt(self, name, *args, after=False):
        self.calls.append((name, args, {}))
        return super().attempt(name, *args, after=after)


def hidden_inputs(path, assignment=FAST_TLN) -> dict:
    """{grade_id: [(function name, args, kwargs)]}: what each hidden test of ``assignment``
    gives the student's functions when the grader grades the notebook at ``path``."""
    submission_hash = hidden.content_hash(open(path, "rb").read())
    calls = {}
    for test in assignment.tests:
        if test.hidden:
            student = RecordingStudent(reference_namespace(assignment))
            with hidden.submission(submission_hash), hidden.test(test.grade_id), hiding_values():
                test.function(student)
            calls[test.grade_id] = student.calls
    return calls


def floats_in(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from floats_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from floats_in(item)
    elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
        yield from (float(v) for v in value.ravel()[:6])
    elif isinstance(value, float):
        yield value


def needles(calls) -> set:
    """How a hidden input may be written: several formats of its first entries."""
    found = set()
    for _, args, kwargs in calls:
        for value in floats_in((args, kwargs)):
            if abs(value) < 0.05:
                continue
            found |= {repr(value), f"{value:.8g}", f"{value:.6g}", f"{value:.5f}",
                      str(int(abs(value) * 1e6)), repr(np.float64(value))}
    return {needle for needle in found if len(needle.lstrip("-")) >= 6}


def shown(result) -> str:
    """Everything a result keeps but the instructor-only ``detail`` and timings."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("detail", "seconds")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    messages = [feedback_results.public_message(record) for record in result["tests"]]
    return json.dumps(strip(result), default=str) + "\n".join(messages)


# -- 2. inputs learned from one run are worth nothing in the next -------------------------
HARD_CODED_SOFTMAX = '''_LEARNED = {learned!r}


def softmax(x):
    x = np.asarray(x, dtype=float)
    known = _LEARNED.get(x.tobytes().hex())
    if known is not None:          # an input seen in the first grading run
        return np.array(known)
    if x.shape in ((7,), (5, 7), (11, 3)):  # the hidden test's shapes: no idea
        return np.full(x.shape, 1.0 / x.shape[-1])
    top = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - top)
    return e / e.sum(axis=-1, keepdims=True)'''


def test_inputs_hard_coded_from_one_run_fail_the_next(tmp_path, monkeypatch):
    from solutions.two_layer_net import softmax as reference_softmax
    first = write(tmp_path / "one", "mallory", notebook_of({}))
    first_hash = hidden.content_hash(first.read_bytes())
    seen = [args[0] for name, args, _ in hidden_inputs(first)["softmax_random_inputs"]
            if name == "softmax"]
    assert len(seen) == 3, seen
    learned = {x.tobytes().hex(): reference_softmax(x).tolist() for x in seen}
    second = write(tmp_path / "two", "mallory",
                   notebook_of({"softmax": HARD_CODED_SOFTMAX.format(learned=learned)}))

    def status(result):
        return {t["grade_id"]: t["status"] for t in result["tests"]}["softmax_random_inputs"]

    graded = notebook_grader.grade_notebook(second, FAST_TLN, LIMITS, "rlimits")
    assert status(graded) == "failed", graded["tests"]
    visible = [t for t in graded["tests"]
               if not t["hidden"] and t["grade_id"].startswith("softmax")]
    assert all(t["status"] == "passed" for t in visible), visible
    # the same notebook graded with the first run's inputs (a replay) passes: the hard-coded
    # answers are right, only the inputs changed
    monkeypatch.setattr(notebook_grader.hidden, "content_hash", lambda data: first_hash)
    replay = notebook_grader.grade_notebook(second, FAST_TLN, LIMITS, "rlimits")
    assert status(replay) == "passed", replay["tests"]


# -- 3. no channel shows a hidden input --------------------------------------------------
CHANNELS = {
    # the name of an exception class the student defines
    "softmax": '''def softmax(x):
    x = np.asarray(x, dtype=float)
    if x.shape == (7,):
        name = "Leak_" + "_".join(str(int(abs(v) * 1e6)) for v in x[:3])
        raise type(name, (Exception,), {})(repr(x.tolist()))
    top = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - top)
    return e / e.sum(axis=-1, keepdims=True)''',
    # a zero-size array whose shape is a value; a global and a file for later
    "relu": '''_STASH = []


def relu(x):
    if np.shape(x) == (7,):
        _STASH.append(repr(np.asarray(x).tolist()))
        with open("stash.txt", "w") as handle:
            handle.write(repr(np.asarray(x).tolist()))
        return np.zeros((0, int(abs(x[0]) * 1e6)))
    return np.where(x > 0, x, 0.0)''',
    # the exit code
    "compute_layer": '''def compute_layer(X, W, b):
    if np.shape(X) == (6, 5) and np.shape(W) == (5, 4):
        import os
        os._exit(int(abs(X[0, 0]) * 100) % 200 + 1)
    return X @ W + b''',
    # a memory error's text
    "averageCE": '''def averageCE(target, prediction):
    if np.shape(target) == (5, 7):
        raise MemoryError(repr(np.asarray(prediction).tolist()))
    return -np.sum(np.log(prediction[target > 0])) / len(target)''',
    # the index of a NaN
    "gradCE": '''def gradCE(target, prediction):
    G = (np.asarray(prediction) - target) / len(target)
    if np.shape(target) == (6, 9):
        G = G.copy()
        G.flat[int(abs(prediction[0, 0]) * 1e6) % G.size] = np.nan
    return G''',
    # printed output; a value that cannot cross the wire, of a class named after the input
    "forward": '''def forward(X, params):
    if np.shape(X) == (6, 9):
        print(repr(np.asarray(X).tolist()), int(abs(X[0, 0]) * 1e6))
        return type("Leak_" + str(int(abs(X[0, 0]) * 1e6)), (), {})()
    Z1 = compute_layer(X, params["W1"], params["b1"])
    H = relu(Z1)
    Z2 = compute_layer(H, params["W2"], params["b2"])
    return {"Z1": Z1, "H": H, "Z2": Z2, "P": softmax(Z2)}''',
    # a NotImplementedError's text; a stash raised in whatever test comes next
    "backprop": '''def backprop(X, target, params, cache):
    if _STASH:
        raise ValueError("stashed: " + " ".join(_STASH))
    if np.shape(X) == (8, 10):
        _STASH.append(repr(np.asarray(X).tolist()))
        raise NotImplementedError(repr(np.asarray(X).tolist()))
    N = X.shape[0]
    dZ2 = (cache["P"] - target) / N
    dH = dZ2 @ params["W2"].T
    dZ1 = dH * (cache["Z1"] > 0)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": cache["H"].T @ dZ2,
            "b2": dZ2.sum(axis=0)}''',
    # sizes taken from the return value
    "sgd_momentum_step": '''def sgd_momentum_step(params, grads, velocity, lr, momentum):
    if np.shape(params["W1"]) == (4, 3):
        size = int(abs(params["W1"][0, 0]) * 1e6)
        return ({key: np.zeros((0, size)) for key in params}, velocity)
    velocity = {key: momentum * velocity[key] - lr * grads[key] for key in params}
    params = {key: params[key] + velocity[key] for key in params}
    return params, velocity''',
}
STASH_CELL = '''import os
if os.path.exists("stash.txt"):
    print("STASHED", open("stash.txt").read())
    raise ValueError("STASHED " + open("stash.txt").read())'''


@pytest.fixture(scope="module")
def channels(tmp_path_factory):
    folder = tmp_path_factory.mktemp("channels")
    path = write(folder, "eve", notebook_of(CHANNELS, [STASH_CELL]))
    result = notebook_grader.grade_notebook(path, FAST_TLN, LIMITS, "rlimits")
    return path, result


def test_no_channel_shows_a_hidden_input(channels):
    path, result = channels
    inputs = hidden_inputs(path)
    text = shown(result)
    leaked = {grade_id: sorted(n for n in needles(calls) if n in text)
              for grade_id, calls in inputs.items()}
    assert not any(leaked.values()), {k: v[:5] for k, v in leaked.items() if v}
    for marker in ("Leak_", "STASHED", "stashed:", "exited with code", "(0, "):
        assert marker not in text, f"{marker!r} is shown: " + text[text.find(marker) - 300:][:600]


def test_each_channel_gets_a_fixed_record(channels):
    _, result = channels
    records = {t["grade_id"]: t for t in result["tests"]}
    expected = {
        "softmax_random_inputs": ("error", hidden_record.CUSTOM_EXCEPTION),
        "relu_random_inputs": ("failed", None),
        "compute_layer_random_inputs": ("kernel_died", None),
        "averageCE_random_inputs": ("memory_limit", "MemoryError"),
        "gradCE_random_inputs": ("failed", None),
        "backprop_random_inputs": ("not_implemented", "NotImplementedError"),
        "sgd_momentum_step_random_inputs": ("failed", None),
    }
    for grade_id, (status, where) in expected.items():
        record = records[grade_id]
        assert record["status"] == status, record
        assert "output" not in record, record
        if where is not None:
            assert record["where"] == where, record
    assert records["compute_layer_random_inputs"]["message"] == hidden_record.HIDDEN_DIED
    assert records["relu_random_inputs"]["message"] == (
        "relu(x) for x of shape (7,) has the wrong shape")
    assert records["gradCE_random_inputs"]["message"].endswith("contains NaN or infinite values")
    assert "output" not in records["forward_random_inputs"], records["forward_random_inputs"]
    assert records["forward_random_inputs"]["message"] == f"forward: {remote_student.UNREADABLE}"
    # visible tests ran first: nothing stashed by a hidden test reached them
    visible = [t for t in result["tests"] if not t["hidden"]]
    assert all(t["status"] == "passed" for t in visible), [t for t in visible
                                                           if t["status"] != "passed"]
    assert [t["grade_id"] for t in result["tests"]] == [t.grade_id for t in FAST_TLN.tests]


def test_hidden_records_show_builtin_exception_names_only():
    assert hidden_record.shown_exception("ValueError at <cell 3>, line 2") == "ValueError"
    assert hidden_record.shown_exception("Leak_123 at <cell 3>, line 2") == hidden_record.CUSTOM_EXCEPTION
    assert hidden_record.shown_exception("print at <cell 3>, line 2") == hidden_record.CUSTOM_EXCEPTION
    assert hidden_record.shown_exception("") == hidden_record.CUSTOM_EXCEPTION


def test_public_messages_keep_only_the_tests_own_sizes():
    source = "for shape in [(7,), (5, 3)]:"
    message = 'x of shape (7,): grads["W1"] has shape (0, 123456), expected (5,3) at (2, 1)'
    assert hidden_record.without_sizes(message, source) == (
        'x of shape (7,): grads["W1"] has shape (...), expected (5,3) at (...)')


# -- 4. the secret is out of the sandbox's reach -----------------------------------------
SEARCH_CELL = '''import os
_FOUND = []
_SEEN = 0
for _top in ("/", {root!r}, {secret!r}):
    try:
        _FOUND.append(("direct", _top, open(_top, errors="replace").read()[:200]))
    except OSError:
        pass
for _folder, _subfolders, _files in os.walk("/"):
    if _folder.startswith(("/proc", "/sys", "/dev")):
        _subfolders[:] = []
        continue
    for _name in _files:
        _SEEN += 1
        if "secret" in _name:
            try:
                with open(os.path.join(_folder, _name), errors="replace") as _handle:
                    _FOUND.append((_folder, _name, _handle.read()[:200]))
            except OSError as exc:
                _FOUND.append((_folder, _name, type(exc).__name__))
    if _SEEN > 200000:
        break
print("SEARCHED", _SEEN, _FOUND)'''


@pytest.mark.skipif(not sandbox_isolation.bubblewrap_works(),
                    reason="bubblewrap does not work here (rlimits mode protects no file)")
def test_sandbox_cannot_read_the_secret(tmp_path):
    secret_file = hidden.ensure_secret_file()
    secret = secret_file.read_text().strip()
    cell = SEARCH_CELL.format(root=str(config.ROOT), secret=str(secret_file))
    path = write(tmp_path, "snoop", notebook_of({}, [cell]))
    result = notebook_grader.grade_notebook(path, FAST_TLN, LIMITS, "bubblewrap")
    outputs = json.dumps(result["cells"])
    assert "SEARCHED" in outputs, outputs[-2000:]
    assert secret not in json.dumps(result), "the sandbox read the course secret"
    assert secret[:16] not in outputs


def test_gradescope_bundle_carries_the_secret(tmp_path):
    from autograder.gradescope import bundle as gradescope
    gradescope.stage(TLN, tmp_path / "bundle")
    shipped = tmp_path / "bundle" / hidden.SECRET_NAME
    assert shipped.read_bytes() == hidden.ensure_secret_file().read_bytes()
    # inside the bundle, the grader finds it where it looks: <source>/.course-secret
    assert hidden.ensure_secret(tmp_path / "bundle") == hidden.ensure_secret()
