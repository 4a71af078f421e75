"""A corpus of hostile submissions, graded once as one batch: is the grader trustworthy?

Every hostile notebook starts from the student release filled with the functions of
``demo/students/ada_correct.py`` (correct, 30/30), then overrides some functions and/or
adds, edits or removes cells. The whole corpus goes through ``autograder.execution.batch.grade_all``
once (module fixture, small limits, the strongest isolation available here) and each
test checks one student's row, test records, JSON result, feedback page or the batch.

Students named ``h..`` are attacks the grader must withstand. Students named ``x..`` and
the tests after "weaknesses found" check the fixes of weaknesses found while writing this
file; the one strict xfail is a documented limit (see docs/security.md, "Not protected").
"""

import csv
import hashlib
import json
import os
import re
import signal
import socket
import time
import types
from pathlib import Path

import nbformat
import pytest

from autograder import config, demo
from autograder.execution.batch import grade_all
from autograder.grading.notebook_grader import grade_notebook, suite_fingerprint
from autograder.sandbox.launch import Limits, isolation_mode
from course_under_test import TLN
FUNCTION_NAMES, TESTS, target_of = TLN.functions, TLN.tests, TLN.target_of

ISOLATION = isolation_mode("auto")
NEEDS_BUBBLEWRAP = pytest.mark.skipif(
    ISOLATION != "bubblewrap",
    reason="bubblewrap does not work here: the rlimits fallback does not isolate files, "
           "processes or the network (documented in autograder/sandbox/launch.py)")
LIMITS = Limits(memory_bytes=1 << 30, cpu_seconds=60, cell_seconds=5.0,
                notebook_seconds=120.0, call_seconds=3.0)
MAX_SCORE = sum(test.points for test in TESTS)
ADA = demo.functions_in((TLN.demo_dir / "students") / "ada_correct.py")
DAN = demo.functions_in((TLN.demo_dir / "students") / "dan_inplace_mask.py")
# Which of ada's functions call which: a broken relu also breaks forward and train.
USES_RELU = {"relu", "forward", "train"}
USES_SOFTMAX = {"softmax", "forward", "train"}

FORWARD_WITHOUT_RELU = '''def forward(X, params):
    z1 = X @ params["W1"] + params["b1"]
    h = np.maximum(z1, 0.0)
    z2 = h @ params["W2"] + params["b2"]
    return {"Z1": z1, "H": h, "Z2": z2, "P": softmax(z2)}'''

FORWARD_WITHOUT_SOFTMAX = '''def forward(X, params):
    z1 = X @ params["W1"] + params["b1"]
    h = relu(z1)
    z2 = h @ params["W2"] + params["b2"]
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    return {"Z1": z1, "H": h, "Z2": z2, "P": e / e.sum(axis=1, keepdims=True)}'''

WEIRD_SOFTMAX = '''class _Evil(np.ndarray):
    """Claims to equal everything; refuses to be converted."""

    def __array__(self, *args, **kwargs):
        raise RuntimeError("evil __array__")

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False


def softmax(x):
    x = np.asarray(x, dtype=float)
    if x.ndim == 1 and x.size == 10:        # softmax_handout_vector
        return lambda *args: 1.0
    if x.ndim == 2 and x.shape[0] == 3:     # softmax_handout_batch
        return np.zeros(x.shape).view(_Evil)
    if x.shape == (2, 3):                   # softmax_stability
        return {1: np.ones(3), (2, 3): "tuple key"}
    if x.ndim == 1:                         # softmax_random_inputs
        return np.array([object()] * x.size, dtype=object)
    loop = []
    loop.append(loop)                       # a list that contains itself
    return loop'''


# -- building notebooks ------------------------------------------------------------------
def grade_id_of(cell):
    grading = cell.get("metadata", {}).get("nbgrader")
    return grading.get("grade_id") if isinstance(grading, dict) else None


def is_test_cell(cell):
    grading = cell.get("metadata", {}).get("nbgrader")
    return isinstance(grading, dict) and bool(grading.get("grade"))


def hostile_cell(tag, source):
    """A plain code cell (no nbgrader metadata), findable by its first line."""
    return nbformat.v4.new_code_cell(f"# hostile: {tag}\n{source}")


def build(overrides=None, after_setup=(), at_end=()):
    """The release filled with ada's functions (+ overrides), hostile cells inserted."""
    release = nbformat.read(str(TLN.release_notebook), as_version=4)
    notebook = demo.fill(release, dict(ADA, **(overrides or {})))
    setup = next(i for i, cell in enumerate(notebook.cells) if grade_id_of(cell) == "setup")
    notebook.cells[setup + 1:setup + 1] = list(after_setup)
    notebook.cells.extend(at_end)
    return notebook


def cell_index(notebook, tag):
    """Index of the hostile cell ``tag`` (the key of the grader's ``cells`` record)."""
    return next(str(i) for i, cell in enumerate(notebook.cells)
                if cell.source.startswith(f"# hostile: {tag}\n"))


def snoop_source(root, subs, out, canary, port):
    """A cell that tries to reach what a sandboxed student must not; records what worked."""
    victim = subs / "ada_plain" / TLN.name / f"{TLN.notebook}.ipynb"
    return f'''import glob
import os
import socket

_leaks = []


def _attempt(label, action):
    try:
        action()
    except Exception:
        return
    _leaks.append(label)


def _import(name):
    __import__(name)


def _read(path):
    with open(path, "rb") as handle:
        handle.read(100)


def _nonempty(value):
    if not value:
        raise ValueError("nothing there")


def _write(path):
    with open(path, "w") as handle:
        handle.write("a sandboxed student wrote this")


def _connect(port):
    with socket.create_connection(("127.0.0.1", port), timeout=1.0):
        pass


_attempt("import solutions", lambda: _import("solutions"))
_attempt("import autograder.suite", lambda: _import("autograder.suite"))
_attempt("read solutions/layers.py", lambda: _read({str(root / "solutions" / "layers.py")!r}))
_attempt("read autograder/suite/softmax.py",
         lambda: _read({str(root / "autograder" / "suite" / "softmax.py")!r}))
_attempt("list the course root",
         lambda: _nonempty(set(os.listdir({str(root)!r})) - {{".venv"}}))
_attempt("list the submissions", lambda: _nonempty(os.listdir({str(subs)!r})))
_attempt("read another student's notebook", lambda: _read({str(victim)!r}))
_attempt("list the grader's output", lambda: _nonempty(os.listdir({str(out)!r})))
_attempt("see other grading scratch folders", lambda: _nonempty(glob.glob("/tmp/grade-*")))
_attempt("write outside the scratch folder", lambda: _write({str(canary)!r}))
_attempt("connect to the grader's port", lambda: _connect({port}))
print("SNOOP_LEAKS=" + "|".join(_leaks))'''


SNOOP_RELU = '''def relu(x):
    if _leaks:  # anything readable: make the relu tests fail, so the score shows it
        return np.full(np.shape(x), -1.0)
    return np.maximum(x, 0.0)'''

TMPFS_SOURCE = '''import os
_written = 0
if os.getcwd() == "/scratch":  # only in bubblewrap, where /tmp is a private tmpfs
    _block = b"x" * (32 << 20)
    _paths = []
    for _i in range(40):  # 1.25 GiB in all, over the 1 GiB memory limit
        _path = f"/tmp/fill{_i}"
        try:
            with open(_path, "wb") as _handle:
                _handle.write(_block)
        except OSError as _error:
            print("write stopped:", _error)
            break
        _paths.append(_path)
        _written += len(_block)
    for _path in _paths:
        os.remove(_path)
    del _block
print(f"TMPFS_WRITTEN={_written}")'''

FORGED_TRACK_SOURCE = '''import copy
import sys

_worker = sys.modules["__main__"]  # the grader's worker script runs as __main__
_real_call = _worker.call


def _forged_call(namespace, request, output):
    pristine = copy.deepcopy(tuple(request["args"]))
    reply = _real_call(namespace, request, output)
    if request.get("track") and reply.get("ok"):
        reply["args_after"] = pristine  # "I did not modify my arguments"
    return reply


_worker.call = _forged_call'''


def corpus(ctx):
    """{student: notebook node, or raw text for a broken file}."""
    students = {"ada_plain": build()}

    # 1. an infinite loop inside relu (forward does not call relu, so only relu hangs)
    students["h01_relu_loop"] = build({
        "relu": "def relu(x):\n    while True:\n        pass",
        "forward": FORWARD_WITHOUT_RELU})
    # 2. an infinite loop at top level, in a cell that also defines a helper relu needs
    students["h02_cell_loop"] = build(
        {"relu": "def relu(x):\n    return _positive_part(x)"},
        after_setup=[hostile_cell("loop", "def _positive_part(x):\n    return np.maximum(x, 0.0)"
                                          "\n\n\nwhile True:\n    pass")])
    # 3. os._exit inside softmax (forward does not call softmax: fewer restarts to pay for)
    students["h03_softmax_exit"] = build({"softmax": "def softmax(x):\n    import os\n    os._exit(1)",
                                          "forward": FORWARD_WITHOUT_SOFTMAX})
    # 4. os._exit at top level, after every answer cell
    students["h04_exit_cell_after"] = build(at_end=[hostile_cell("exit", "import os\nos._exit(1)")])
    # 5. numpy and builtins monkeypatched, and a wrong softmax
    students["h05_monkeypatch"] = build(
        {"softmax": "def softmax(x):\n    return np.zeros_like(np.asarray(x, dtype=float))"},
        after_setup=[hostile_cell("patch", "\n".join([
            "import builtins",
            "import numpy as np",
            "np.allclose = lambda *args, **kwargs: True",
            "np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(np.asarray(a), "
            "np.asarray(b)).shape, dtype=bool)",
            "np.array_equal = lambda *args, **kwargs: True",
            "np.testing.assert_allclose = lambda *args, **kwargs: None",
            "builtins.abs = lambda value: 0"]))])
    # 6. a memory bomb in relu
    students["h06_relu_memory"] = build({
        "relu": "def relu(x):\n    waste = np.ones((2**34,))\n    return np.maximum(x, waste[0] * 0)"})
    # 7. a print flood: a cell with 10**6 lines, relu with 10**5 lines per call
    students["h07_print_flood"] = build(
        {"relu": "def relu(x):\n    for i in range(10**5):\n        print('relu says', i)\n"
                 "    return np.maximum(x, 0.0)",
         "forward": FORWARD_WITHOUT_RELU},
        after_setup=[hostile_cell("flood", "print('\\n'.join(f'line {i}' for i in range(10**6)))\n"
                                           "for i in range(10**4):\n    print('one more line', i)")])
    # 8. reading the reference, the tests, other students; the network
    students["h08_snoop"] = build(
        {"relu": SNOOP_RELU},
        after_setup=[hostile_cell("snoop", snoop_source(
            config.ROOT, ctx.subs, ctx.out, ctx.canary, ctx.port))])
    # 9. not JSON at all
    students["h09_invalid_json"] = "{not json"
    # 10. test cells deleted; test cells edited (sources and points)
    deleted = build()
    deleted.cells = [cell for cell in deleted.cells if not is_test_cell(cell)]
    students["h10_tests_deleted"] = deleted
    edited = build()
    for cell in edited.cells:
        if is_test_cell(cell) and cell.cell_type == "code":
            cell.metadata["nbgrader"]["points"] = 1000.0
            if grade_id_of(cell) == "relu_handout_table":
                cell.source = "pass"
            elif grade_id_of(cell) == "softmax_handout_vector":
                cell.source = ("def relu(x):\n    return x * 0\n\n\nsoftmax = None\n"
                               "GRADE = 1000\nrelu_handout_table = lambda student: None")
    students["h10_tests_edited"] = edited
    # 11. an answer cell deleted; a function renamed
    no_softmax = build()
    no_softmax.cells = [c for c in no_softmax.cells if grade_id_of(c) != "answer_softmax"]
    students["h11_answer_deleted"] = no_softmax
    students["h11_renamed"] = build({"softmax": ADA["softmax"].replace("def softmax(", "def soft_max(", 1)})
    # 12. return values that are not plain data
    students["h12_weird_returns"] = build({"softmax": WEIRD_SOFTMAX})
    # 13. SystemExit, KeyboardInterrupt and sys.exit at top level
    students["h13_system_exit"] = build(after_setup=[
        hostile_cell("systemexit", "raise SystemExit(0)"),
        hostile_cell("keyboardinterrupt", "raise KeyboardInterrupt"),
        hostile_cell("sysexit", "import sys\nsys.exit(3)")])
    # 17. a daemon that leaves the worker's process group
    students["h17_daemon"] = build(after_setup=[hostile_cell("daemon", "\n".join([
        "import os",
        "import time",
        "_daemon = os.fork()",
        "if _daemon == 0:",
        "    try:",
        "        os.setsid()  # leave the worker's process group and session",
        f"        os.execv('/usr/bin/sleep', ['sleep', {ctx.marker!r}])",
        "    finally:",
        "        os._exit(0)",
        "time.sleep(0.3)",
        "print(f'DAEMON_RUNNING={os.waitpid(_daemon, os.WNOHANG) == (0, 0)}')"]))])

    # Weaknesses (see the xfail tests).
    students["x_weaknesses"] = build(
        {"backprop": DAN["backprop"]},
        after_setup=[hostile_cell("forge", FORGED_TRACK_SOURCE)],
        at_end=[hostile_cell("bypass", "\n".join([
                    "import sys",
                    "sys.stdout.kept = -10**12  # the worker's CappedOutput lives in this process",
                    "for _i in range(100_000):",
                    "    print('bypassing the 20000-character output cap', _i)"])),
                hostile_cell("tmpfs", TMPFS_SOURCE),
                hostile_cell("raise", "raise ValueError('E' * 3_000_000)")])
    unhashable = json.loads(nbformat.writes(build()))
    for cell in unhashable["cells"]:
        if grade_id_of(cell) == "answer_relu":
            cell["metadata"]["nbgrader"]["grade_id"] = ["answer_relu"]
    students["x_unhashable_grade_id"] = json.dumps(unhashable)
    return students


def write_submission(subs, student, notebook):
    path = subs / student / TLN.name / f"{TLN.notebook}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(notebook, str):
        path.write_text(notebook)
    else:
        nbformat.write(notebook, str(path))
    return path


def tree_digest(folder):
    """{relative path: sha256} of every file and folder (folders map to 'dir')."""
    digest = {}
    for path in sorted(Path(folder).rglob("*")):
        key = path.relative_to(folder).as_posix()
        digest[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


def processes_with(marker):
    """Pids of the processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in command:
            found.append(int(entry.name))
    return found


# -- the graded corpus -----------------------------------------------------------------
@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    ctx = types.SimpleNamespace(
        base=base, subs=base / "subs", out=base / "out", canary=base / "escaped_write.txt",
        port=server.getsockname()[1], marker=f"{4000 + os.getpid() % 1000}.{time.time_ns() % 997:03d}")
    ctx.notebooks = corpus(ctx)
    for student, notebook in ctx.notebooks.items():
        write_submission(ctx.subs, student, notebook)
    ctx.before = tree_digest(ctx.subs)
    ctx.fingerprint = suite_fingerprint()  # what grade_all keys its results with
    started = time.monotonic()
    try:
        results, ctx.summary = grade_all(ctx.subs, ctx.out, jobs=2, limits=LIMITS, isolation=ISOLATION)
    finally:
        ctx.seconds = time.monotonic() - started
        # A daemon that outlived its sandbox: note it, then end it (the test started it).
        deadline = time.monotonic() + 3.0
        while processes_with(ctx.marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        ctx.leftover = processes_with(ctx.marker)
        for pid in ctx.leftover:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            connection, _ = server.accept()
            connection.close()
            ctx.connected = True
        except BlockingIOError:
            ctx.connected = False
        server.close()
    ctx.after = tree_digest(ctx.subs)
    ctx.results = {result["student_id"]: result for result in results}
    return ctx


def skip_if_grader_changed(fingerprint):
    """Others edit this tree concurrently: a changed grader rightly invalidates results."""
    if suite_fingerprint() != fingerprint:
        pytest.skip("the grader's code (autograder/, solutions/, nnlab/) changed during this "
                    "run, which rightly invalidates the stored results")


def statuses(result):
    return {t["grade_id"]: t["status"] for t in result["tests"]}


def target_of_id(grade_id):
    return next(target_of(test) for test in TESTS if test.grade_id == grade_id)


def describe(result):
    return (f"{result['student_id']}: status={result['status']} "
            f"score={result['score']:g}/{result['max_score']:g} tests={statuses(result)} "
            f"cells={ {k: (v.get('kind'), str(v.get('message'))[:80]) for k, v in result.get('cells', {}).items() if not v.get('ok')} }")


def assert_functions_keep_credit(result, functions):
    for test in result["tests"]:
        if target_of_id(test["grade_id"]) in functions:
            assert test["status"] == "passed" and test["points"] == test["max_points"], (
                f"{test['grade_id']} should keep its {test['max_points']:g} point(s) but got "
                f"{test['points']:g} ({test['status']}: {test['message'][:200]}); {describe(result)}")


def assert_function_lost(result, function, status):
    for test in result["tests"]:
        if target_of_id(test["grade_id"]) == function:
            assert test["points"] == 0 and test["status"] == status, (
                f"{test['grade_id']} should get 0 with status {status!r}, got "
                f"{test['points']:g} ({test['status']}: {test['message'][:200]}); {describe(result)}")


def result_file(ctx, student, kind="results", suffix=".json"):
    return ctx.out / kind / student / TLN.name / f"{TLN.notebook}{suffix}"


# -- the batch as a whole -------------------------------------------------------------------
def test_batch_grades_every_submission_with_files_and_one_csv_row(batch):
    assert sorted(batch.results) == sorted(batch.notebooks), (
        f"graded {sorted(batch.results)}, submitted {sorted(batch.notebooks)}")
    assert batch.summary["submissions"] == len(batch.notebooks), (
        f"summary {batch.summary} after {batch.seconds:.0f} s")
    for student in batch.notebooks:
        assert result_file(batch, student).is_file(), f"no result JSON for {student}"
        assert result_file(batch, student, "feedback", ".html").is_file(), f"no feedback for {student}"
        on_disk = json.loads(result_file(batch, student).read_text())
        assert on_disk["score"] == batch.results[student]["score"], (
            f"{student}: JSON score {on_disk['score']} != returned {batch.results[student]['score']}")
    with open(batch.out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids = [row["student_id"] for row in rows]
    assert sorted(ids) == sorted(batch.notebooks), f"CSV rows for {ids}"
    for row in rows:
        result = batch.results[row["student_id"]]
        assert (float(row["score"]), row["status"]) == (result["score"], result["status"]), (
            f"CSV row {row['student_id']} says {row['score']} {row['status']}, "
            f"result says {result['score']} {result['status']}")
        assert sum(float(row[t.grade_id]) for t in TESTS) == float(row["score"]), (
            f"CSV row {row['student_id']}: per-test points do not add up to {row['score']}")


def test_plain_correct_student_is_unaffected_by_the_others(batch):
    result = batch.results["ada_plain"]
    assert (result["status"], result["score"], result["max_score"]) == ("ok", MAX_SCORE, MAX_SCORE), (
        describe(result))
    assert all(t["status"] == "passed" for t in result["tests"]), describe(result)


def test_grading_does_not_modify_the_submissions_folder(batch):
    changed = sorted(key for key in set(batch.before) | set(batch.after)
                     if batch.before.get(key) != batch.after.get(key))
    assert not changed, f"grading changed {changed} under {batch.subs}"


def test_rerun_reuses_every_result_and_keeps_one_csv_row_each(batch):
    skip_if_grader_changed(batch.fingerprint)
    csv_before = (batch.out / "grades.csv").read_text()
    started = time.monotonic()
    results, summary = grade_all(batch.subs, batch.out, jobs=2, limits=LIMITS, isolation=ISOLATION)
    seconds = time.monotonic() - started
    assert summary["skipped_unchanged"] == len(batch.notebooks), (
        f"rerun reused {summary['skipped_unchanged']} of {len(batch.notebooks)} submissions "
        f"in {seconds:.1f} s: {summary}")
    with open(batch.out / "grades.csv", newline="") as handle:
        ids = [row["student_id"] for row in csv.DictReader(handle)]
    assert sorted(ids) == sorted(batch.notebooks), f"CSV rows after the rerun: {ids}"
    csv_after = (batch.out / "grades.csv").read_text()
    assert csv_after == csv_before, (
        f"the rerun changed grades.csv ({len(csv_before)} -> {len(csv_after)} characters)")
    changed = {r["student_id"]: (batch.results[r["student_id"]]["score"], r["score"])
               for r in results if r["score"] != batch.results[r["student_id"]]["score"]}
    assert not changed, f"the rerun changed scores (before, after): {changed}"


def test_force_regrades_everything(tmp_path):
    # Cheap rows only (the skip decision comes before grading): a broken file and a
    # student folder without a notebook.
    subs, out = tmp_path / "subs", tmp_path / "out"
    write_submission(subs, "h09_invalid_json", "{not json")
    (subs / "empty_folder" / TLN.name).mkdir(parents=True)
    fingerprint = suite_fingerprint()
    first, summary = grade_all(subs, out, jobs=2, limits=LIMITS, isolation=ISOLATION)
    assert summary["skipped_unchanged"] == 0, f"first run: {summary}"
    stamps = {p: p.stat().st_mtime_ns for p in (out / "results").rglob("*.json")}
    _, again = grade_all(subs, out, jobs=2, limits=LIMITS, isolation=ISOLATION)
    skip_if_grader_changed(fingerprint)
    assert again["skipped_unchanged"] == 2, f"rerun: {again}"
    forced_results, forced = grade_all(subs, out, jobs=2, force=True, limits=LIMITS,
                                       isolation=ISOLATION)
    assert forced["skipped_unchanged"] == 0, f"force=True reused results: {forced}"
    rewritten = [p for p, stamp in stamps.items() if p.stat().st_mtime_ns != stamp]
    assert len(rewritten) == 2, f"force=True rewrote {len(rewritten)} of {len(stamps)} results"
    scores = {r["student_id"]: (r["status"], r["score"]) for r in forced_results}
    assert scores == {"empty_folder": ("missing_notebook", 0),
                      "h09_invalid_json": ("invalid_notebook", 0)}, f"forced regrade gave {scores}"
    with open(out / "grades.csv", newline="") as handle:
        ids = sorted(row["student_id"] for row in csv.DictReader(handle))
    assert ids == ["empty_folder", "h09_invalid_json"], f"CSV rows after force: {ids}"


# -- one student each ------------------------------------------------------------------------
def test_infinite_loop_in_relu_times_out_only_relu(batch):
    result = batch.results["h01_relu_loop"]
    assert result["status"] == "timeout", describe(result)
    assert_function_lost(result, "relu", "timeout")
    assert_functions_keep_credit(result, set(FUNCTION_NAMES) - {"relu"})
    relu_points = sum(t.points for t in TESTS if target_of(t) == "relu")
    assert result["score"] == MAX_SCORE - relu_points, describe(result)
    assert result["restarts"] >= 3, f"expected a restart per hung relu test; {result['restarts']}"


def test_hung_call_honours_limits_call_seconds(batch):
    result = batch.results["h01_relu_loop"]
    messages = [t["message"] for t in result["tests"] if target_of_id(t["grade_id"]) == "relu"]
    assert all(f"within {LIMITS.call_seconds:g} s" in m for m in messages), (
        f"Limits(call_seconds={LIMITS.call_seconds:g}) but the relu timeouts say {messages}")


def test_infinite_loop_at_top_level_demotes_the_cell_and_keeps_its_definitions(batch):
    result = batch.results["h02_cell_loop"]
    index = cell_index(batch.notebooks["h02_cell_loop"], "loop")
    cell = result["cells"].get(index, {})
    assert (result["status"], result["score"]) == ("ok", MAX_SCORE), describe(result)
    assert cell.get("ok") is False and cell.get("kind") == "timeout", (
        f"cell {index} should be recorded as timed out, got {cell}; {describe(result)}")
    assert "timed out" in (cell.get("message") or ""), f"cell {index}: {cell}"


def test_os_exit_inside_softmax_costs_only_the_callers_of_softmax(batch):
    result = batch.results["h03_softmax_exit"]
    assert result["status"] == "kernel_died", describe(result)
    assert_function_lost(result, "softmax", "kernel_died")
    assert_functions_keep_credit(result, set(FUNCTION_NAMES) - {"softmax"})
    assert result["restarts"] >= 4, f"restarts {result['restarts']}; {describe(result)}"
    message = next(t["message"] for t in result["tests"] if t["grade_id"] == "softmax_handout_vector")
    assert "exited with code 1" in message, f"softmax_handout_vector says {message!r}"


def test_os_exit_at_top_level_after_the_answers_keeps_all_credit(batch):
    result = batch.results["h04_exit_cell_after"]
    index = cell_index(batch.notebooks["h04_exit_cell_after"], "exit")
    assert (result["status"], result["score"]) == ("ok", MAX_SCORE), describe(result)
    assert result["cells"].get(index, {}).get("kind") == "died", (
        f"cell {index} should be recorded as having ended the process; {describe(result)}")


def test_monkeypatched_numpy_cannot_pass_a_wrong_softmax(batch):
    result = batch.results["h05_monkeypatch"]
    assert_function_lost(result, "softmax", "failed")
    assert_functions_keep_credit(result, set(FUNCTION_NAMES) - USES_SOFTMAX)
    index = cell_index(batch.notebooks["h05_monkeypatch"], "patch")
    assert result["cells"].get(index, {}).get("ok") is True, describe(result)


def test_memory_bomb_in_relu_is_memory_limit(batch):
    result = batch.results["h06_relu_memory"]
    assert result["status"] == "memory_limit", describe(result)
    assert_function_lost(result, "relu", "memory_limit")
    assert_functions_keep_credit(result, set(FUNCTION_NAMES) - USES_RELU)
    message = next(t["message"] for t in result["tests"] if t["grade_id"] == "relu_handout_table")
    assert f"limit {LIMITS.memory_bytes >> 20} MiB" in message, f"relu_handout_table: {message!r}"


def test_print_flood_is_capped_and_graded(batch):
    result = batch.results["h07_print_flood"]
    json_bytes = result_file(batch, "h07_print_flood").stat().st_size
    html_bytes = result_file(batch, "h07_print_flood", "feedback", ".html").stat().st_size
    assert result["score"] >= MAX_SCORE - 1, describe(result)
    assert json_bytes < 1 << 20 and html_bytes < 1 << 20, (
        f"result JSON {json_bytes} bytes, feedback {html_bytes} bytes; both should stay < 1 MiB")
    outputs = {t["grade_id"]: len(t.get("output", "")) for t in result["tests"]}
    assert max(outputs.values()) <= 5000, f"per-test output lengths {outputs}"
    index = cell_index(batch.notebooks["h07_print_flood"], "flood")
    kept = len(result["cells"].get(index, {}).get("output") or "")
    assert kept <= 21_000, f"cell {index} kept {kept} characters of output"


def test_snooping_cell_reads_nothing_outside_its_sandbox(batch):
    result = batch.results["h08_snoop"]
    index = cell_index(batch.notebooks["h08_snoop"], "snoop")
    output = result["cells"].get(index, {}).get("output") or ""
    match = re.search(r"SNOOP_LEAKS=(.*)", output)
    assert match, f"the snoop cell did not report (cell {index}: {result['cells'].get(index)})"
    if ISOLATION != "bubblewrap":
        pytest.skip(f"isolation is {ISOLATION}: the rlimits fallback does not hide files or the "
                    f"network (the snoop reached: {match.group(1)})")
    assert match.group(1).strip() == "", f"a sandboxed student reached: {match.group(1)}"
    assert not batch.canary.exists(), f"a sandboxed student wrote {batch.canary}"
    assert not batch.connected, f"a sandboxed student connected to 127.0.0.1:{batch.port}"
    assert (result["status"], result["score"]) == ("ok", MAX_SCORE), describe(result)


def test_invalid_json_is_invalid_notebook_with_feedback(batch):
    result = batch.results["h09_invalid_json"]
    assert (result["status"], result["score"]) == ("invalid_notebook", 0), describe(result)
    assert len(result["tests"]) == len(TESTS), f"{len(result['tests'])} test records"
    assert set(statuses(result).values()) == {"not_run"}, describe(result)
    page = result_file(batch, "h09_invalid_json", "feedback", ".html").read_text()
    assert "could not be read" in page and "not a readable Jupyter notebook" in page, (
        f"feedback page does not say the file could not be read: {page[:600]}")


@pytest.mark.parametrize("student", ["h10_tests_deleted", "h10_tests_edited"])
def test_deleted_or_edited_test_cells_change_nothing(batch, student):
    result = batch.results[student]
    assert len(result["tests"]) == len(TESTS), f"{len(result['tests'])} tests ran"
    assert (result["status"], result["score"], result["max_score"]) == ("ok", MAX_SCORE, MAX_SCORE), (
        describe(result))


@pytest.mark.parametrize("student, missing_cells", [("h11_answer_deleted", ["answer_softmax"]),
                                                    ("h11_renamed", [])])
def test_missing_softmax_is_missing_cells_and_costs_only_softmax(batch, student, missing_cells):
    result = batch.results[student]
    assert result["status"] == "missing_cells", describe(result)
    assert result["missing_answer_cells"] == missing_cells, (
        f"missing_answer_cells {result['missing_answer_cells']}; {describe(result)}")
    assert_function_lost(result, "softmax", "missing_function")
    for test in result["tests"]:
        if target_of_id(test["grade_id"]) == "softmax":
            assert "softmax" in test["message"], f"{test['grade_id']}: {test['message']!r}"
    assert_functions_keep_credit(result, set(FUNCTION_NAMES) - USES_SOFTMAX)


def test_values_that_are_not_plain_data_fail_cleanly(batch):
    result = batch.results["h12_weird_returns"]
    softmax = {t["grade_id"]: (t["points"], t["status"], t["message"][:120])
               for t in result["tests"] if target_of_id(t["grade_id"]) == "softmax"}
    assert all(points == 0 and status in ("failed", "kernel_died")
               for points, status, _ in softmax.values()), f"softmax tests {softmax}"
    unreadable = [g for g, (_, _, message) in softmax.items() if "not plain" in message]
    assert len(unreadable) >= 3, f"expected 'not plain numbers' messages, got {softmax}"
    assert_functions_keep_credit(result, set(FUNCTION_NAMES) - USES_SOFTMAX)


def test_system_exit_and_keyboard_interrupt_at_top_level_are_cell_errors(batch):
    result = batch.results["h13_system_exit"]
    notebook = batch.notebooks["h13_system_exit"]
    assert (result["status"], result["score"]) == ("ok", MAX_SCORE), describe(result)
    for tag, name in (("systemexit", "SystemExit"), ("keyboardinterrupt", "KeyboardInterrupt"),
                      ("sysexit", "SystemExit")):
        cell = result["cells"].get(cell_index(notebook, tag), {})
        assert (cell.get("ok"), cell.get("kind")) == (False, "error") and name in (
            cell.get("message") or ""), f"cell {tag} should be an error mentioning {name}: {cell}"


@NEEDS_BUBBLEWRAP
def test_a_daemon_does_not_outlive_its_sandbox(batch):
    result = batch.results["h17_daemon"]
    output = result["cells"].get(cell_index(batch.notebooks["h17_daemon"], "daemon"), {}).get("output")
    assert "DAEMON_RUNNING=True" in (output or ""), f"the daemon did not start: output {output!r}"
    assert (result["status"], result["score"]) == ("ok", MAX_SCORE), describe(result)
    assert not batch.leftover, (
        f"processes {batch.leftover} running 'sleep {batch.marker}' survived grading")


# -- weaknesses found (fail today) -------------------------------------------------------------
def weak_cell(batch, tag):
    return batch.results["x_weaknesses"]["cells"].get(
        cell_index(batch.notebooks["x_weaknesses"], tag), {})


def test_huge_exception_text_is_capped(batch):
    message = weak_cell(batch, "raise").get("message") or ""
    html_bytes = result_file(batch, "x_weaknesses", "feedback", ".html").stat().st_size
    assert "ValueError" in message, f"the raising cell was not recorded: {message[:200]!r}"
    assert len(message) <= 25_000 and html_bytes < 1 << 20, (
        f"a cell error message of {len(message)} characters was kept; feedback page "
        f"{html_bytes} bytes")


def test_output_cap_cannot_be_lifted_by_student_code(batch):
    cell = weak_cell(batch, "bypass")
    kept = len(cell.get("output") or "")
    json_bytes = result_file(batch, "x_weaknesses").stat().st_size
    assert cell.get("ok") is True, f"the bypass cell failed: {str(cell)[:300]}"
    assert kept <= 21_000, f"the cell kept {kept} characters of output; result JSON {json_bytes} bytes"


@NEEDS_BUBBLEWRAP
def test_tmpfs_cannot_hold_more_than_the_memory_limit(batch):
    cell = weak_cell(batch, "tmpfs")
    match = re.search(r"TMPFS_WRITTEN=(\d+)", cell.get("output") or "")
    assert match, f"the tmpfs cell did not report: {str(cell)[:300]}"
    written = int(match.group(1))
    assert written <= LIMITS.memory_bytes, (
        f"student code kept {written / 2**30:.2f} GiB in /tmp with a memory limit of "
        f"{LIMITS.memory_bytes / 2**30:.2f} GiB")


@pytest.mark.xfail(strict=True, reason=(
    "NOT PROTECTED (documented design limit): mutation checks trust the student process: a cell that wraps "
    "sys.modules['__main__'].call to report pristine args_after gets the 'does not modify "
    "its inputs' points for dan's in-place backprop (28/30 when honest)"))
def test_forged_args_after_cannot_hide_in_place_mutation(batch):
    result = batch.results["x_weaknesses"]
    lost = {t["grade_id"]: t["status"] for t in result["tests"]
            if t["grade_id"] in ("backprop_shapes", "backprop_random_inputs")}
    assert set(lost.values()) == {"failed"}, (
        f"in-place backprop with forged args_after: {lost}; {describe(result)}")


def test_malformed_metadata_is_ignored_and_loses_nothing(batch):
    # A grade_id that is not a string is ignored: the notebook is still graded in full.
    result = batch.results["x_unhashable_grade_id"]
    assert (result["status"], result["score"]) == ("ok", MAX_SCORE), (
        describe(result) + " " + str(result.get("message"))[-300:])


def test_tampered_worker_cannot_abort_the_batch(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    write_submission(subs, "ada_plain", build())
    write_submission(subs, "x_render_crash", build(at_end=[
        hostile_cell("tamper", "import sys\n_worker = sys.modules['__main__']\n"
                               "_worker.describe_error = lambda exc: ('error', {'not': 'a string'})"),
        hostile_cell("raise", "raise ValueError('now describe me')")]))
    try:
        results, summary = grade_all(subs, out, jobs=2, limits=LIMITS, isolation=ISOLATION)
    except AttributeError as exc:
        pytest.fail(f"grade_all aborted for every student: {exc!r}")
    rows = {r["student_id"]: (r["status"], r["score"]) for r in results}
    assert rows["ada_plain"] == ("ok", MAX_SCORE), f"rows {rows}"
    assert (out / "grades.csv").is_file(), f"no grades.csv; rows {rows}"


def test_slow_cells_cannot_overrun_notebook_seconds(tmp_path):
    limits = Limits(memory_bytes=1 << 30, cpu_seconds=60, cell_seconds=1.5,
                    notebook_seconds=1.5, call_seconds=3.0)
    slow = [hostile_cell(f"slow{i}", "import time\ntime.sleep(1.2)") for i in range(3)]
    path = write_submission(tmp_path, "x_slow_cells", build(after_setup=slow))
    result = grade_notebook(path, TLN, limits, ISOLATION)
    assert result["seconds"] <= limits.notebook_seconds + limits.cell_seconds, (
        f"graded for {result['seconds']:.1f} s with notebook_seconds={limits.notebook_seconds:g} "
        f"and cell_seconds={limits.cell_seconds:g}; {describe(dict(result, student_id='x_slow_cells'))}")


def test_changed_extra_file_is_regraded(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    notebook = build({"relu": "def relu(x):\n    return np.maximum(x, 0.0) * _SCALE"},
                     after_setup=[hostile_cell("scale", "_SCALE = float(open('scale.txt').read())")])
    path = write_submission(subs, "x_extra_file", notebook)
    (path.parent / "scale.txt").write_text("1.0")
    fingerprint = suite_fingerprint()
    first, _ = grade_all(subs, out, jobs=1, limits=LIMITS, isolation=ISOLATION)
    assert first[0]["score"] == MAX_SCORE, describe(first[0])
    (path.parent / "scale.txt").write_text("2.0")
    second, summary = grade_all(subs, out, jobs=1, limits=LIMITS, isolation=ISOLATION)
    skip_if_grader_changed(fingerprint)
    assert summary["skipped_unchanged"] == 0 and second[0]["score"] < MAX_SCORE, (
        f"after scale.txt changed: reused {summary['skipped_unchanged']}, {describe(second[0])}")
