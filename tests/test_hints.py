"""check() names each known mistake, and a failed test carries check()'s hint for it, in the
notebook and in the grader alike; hidden tests show their message when it reveals nothing
hidden; failures read short.

The known mistakes are each assignment's table in tests/known_mistakes/ (the grader's side
of the same records: tests/test_one_charge.py)."""

import copy
import re
import shutil
import subprocess
import sys
import time

import nbformat
import numpy as np
import pytest

from autograder import demo
from autograder.grading import hints as diagnosis
from autograder.grading.hints import RemoteFunction
from autograder.grading.notebook_grader import run_one
from autograder.grading.runner import StudentTimeout
from autograder.outputs.feedback_results import public_message
from autograder.sandbox import student_process
from autograder.sandbox.launch import Limits
from course_under_test import COURSE, TLN
from known_mistakes import (ASSIGNMENTS, Mistake, checked, checks_of, hints_in,
                            reference_notebook, table)
from nnlab.checking.hints import hint_for
from nnlab.deep_mlp.checks import training as check_training
from nnlab.testing import TestFailed
from nnlab.two_layer_net.checks import HINTS, run_test
from test_check import with_sources

BY_ID, TESTS, target_of = TLN.by_id, TLN.tests, TLN.target_of
BY_NAME = {assignment.name: assignment for assignment in COURSE.assignments}

VISIBLE = {name: [t for t in TESTS if target_of(t) == name and not t.hidden]
           for name in {target_of(t) for t in TESTS}}


# -- check(): each known mistake gets its hints -------------------------------------------
def check_case(mistake: Mistake, *values: object, prefix: str = "") -> object:
    """pytest.param(*values) named after ``mistake``, marked xfail(strict=True) where the
    table names a known miss of check() (a failed test's hint is check()'s too)."""
    marks = [pytest.mark.xfail(strict=True, reason=mistake.check_xfail)] \
        if mistake.check_xfail else []
    return pytest.param(*values, id=prefix + mistake.name, marks=marks)


def check_cases() -> list:
    """A check_case (assignment name, Mistake) per mistake of every table."""
    return [check_case(mistake, assignment, mistake, prefix=f"{assignment}-")
            for assignment in ASSIGNMENTS for mistake in table(assignment)]


@pytest.mark.parametrize("assignment, mistake", check_cases())
def test_check_names_the_mistake(assignment: str, mistake: Mistake):
    course_assignment = BY_NAME[assignment]
    namespace = reference_notebook(course_assignment, mistake.source)
    passed, out = checked(course_assignment, mistake.function, namespace)
    assert passed is False, f"check({mistake.function!r}) passes {mistake.name}:\n{out}"
    assert f"{mistake.function}: FAILED" in out, f"no FAILED verdict for {mistake.name}:\n{out}"
    missing = sorted(set(mistake.hints) - set(hints_in(course_assignment, out)))
    assert not missing, f"{mistake.name}: check() did not print the hints {missing}:\n{out}"


# hints no known mistake shows: the engine's fallbacks, and those listed
COMMON_HINTS = set(checks_of(TLN).COMMON_HINTS)  # every assignment's: shown in two_layer_net
NOT_EXERCISED = {
    "two_layer_net": {"unexpected_output"},  # the fallback when a check cannot read a result
    "foundations": COMMON_HINTS - {"shape_error", "key_error"},
    # init_values: check('init_mlp') never raises it (no mistake can show it)
    "deep_mlp": (COMMON_HINTS - {"no_return", "name_error", "type_error", "exception",
                                 "shape_error", "key_error"}) | {"init_values"},
}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_hint_is_exercised_by_a_known_mistake(assignment: str):
    exercised = {key for mistake in table(assignment) for key in mistake.hints}
    hints = set(checks_of(BY_NAME[assignment]).HINTS)
    missing = sorted(hints - exercised - NOT_EXERCISED[assignment])
    assert not missing, f"{assignment}: hints without a known mistake: {missing}"
    unknown = sorted(exercised - hints)
    assert not unknown, f"{assignment}: the table names hints check() does not have: {unknown}"
    assert check_training.HINTS.keys() <= exercised or assignment != "deep_mlp", (
        "every hint of check('train_mlp') needs a known mistake")


# -- a failed visible test carries check()'s hint -----------------------------------------
def squeeze(text):
    return re.sub(r"\s+", " ", text)


def visible_failures(name, namespace):
    """{grade_id: TestFailed} for the visible tests of ``name`` that fail in the notebook."""
    failed = {}
    for test in VISIBLE[name]:
        try:
            run_test(test.function, namespace)
        except TestFailed as failure:
            failed[test.grade_id] = failure
        except Exception as error:  # the student's code raised: the hint is a note
            failed[test.grade_id] = error
    return failed


def shown(failure):
    """What the notebook shows of a failure: TestFailed's lines, or an error and its notes."""
    return str(failure) + "\n" + "\n".join(getattr(failure, "__notes__", []))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mistake", [check_case(m, m) for m in table("two_layer_net")])
def test_a_failed_visible_test_gives_checks_hint(mistake: Mistake, capsys):
    """Exactly the visible tests of ``fails`` fail in the notebook (none, for the mistakes
    only the hidden tests or check() see), each with check()'s hints."""
    expected = {grade_id for grade_id in mistake.fails if not BY_ID[grade_id].hidden}
    failed = visible_failures(mistake.function, reference_notebook(TLN, mistake.source))
    capsys.readouterr()
    assert set(failed) == expected, (
        f"{mistake.name}: visible tests failing {sorted(failed)}, expected {sorted(expected)}")
    for grade_id, failure in failed.items():
        for key in mistake.hints:
            assert squeeze(HINTS[key]) in squeeze(shown(failure)), (
                f"{grade_id} fails for {mistake.name} without the hint {key!r}:\n{failure}")


def test_a_failure_reads_as_a_few_short_lines():
    failed = visible_failures("softmax", with_sources(
        "def softmax(x):\n    e = np.exp(x - x.max(axis=-1, keepdims=True))\n"
        "    return e / (e.sum(axis=-1, keepdims=True) + 1e-5)\n"))
    failure = failed["softmax_handout_vector"]
    lines = failure._render_traceback_()
    assert lines[0] == "FAILED softmax_handout_vector", lines
    assert "got 0.97774715" in squeeze(" ".join(lines)), lines
    assert all(len(line) <= 80 for line in lines), [len(line) for line in lines]
    assert any(line.startswith("Hint (check('softmax')):") for line in lines), lines
    assert len(lines) < 15, lines


def test_a_passing_function_gets_no_hint():
    assert hint_for("two_layer_net", "softmax_stability", with_sources()) == ""
    assert hint_for("two_layer_net", "not_a_test", with_sources()) == ""


# -- the grader: the same hint, computed through the student's process --------------------
class LocalProcess:
    """The worker's handling of calls, in this process (no sandbox, arguments copied as the
    wire would): enough for run_one and the diagnosis."""

    def __init__(self, namespace, fail_after=None):
        self.namespace, self.calls, self.fail_after = namespace, 0, fail_after

    def call(self, name, args, kwargs, track, timeout):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise StudentTimeout(f"no answer within {timeout:g} s")
        request = {"name": name, "args": copy.deepcopy(tuple(args)),
                   "kwargs": copy.deepcopy(kwargs), "track": track}
        return copy.deepcopy(student_process.call(self.namespace, request, student_process.CappedOutput()))


def notebook_namespace(*sources):
    """A namespace as the worker makes it, the reference then ``sources`` as notebook cells."""
    namespace = with_sources()
    for index, source in enumerate(sources):
        exec(compile(source, f"<cell {index}>", "exec"), namespace)
    return namespace


GRADER_CASES = ["softmax_epsilon_in_denominator", "softmax_one_global_max",
                "averageCE_mean_over_N_times_K", "gradCE_not_divided_by_N",
                "forward_layer2_takes_Z1", "backprop_no_relu_mask", "backprop_bias_mean",
                "backprop_mask_overwrites_cache_H_seed_000", "sgd_params_ignore_velocity",
                "sgd_scales_grads_in_place", "compute_layer_W_at_X", "relu_modifies_input_in_place",
                "train_shuffles_data_in_place", "train_history_per_batch", "forward_misspelt_key"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", GRADER_CASES)
def test_the_grader_gives_the_notebooks_hint(case, capsys):
    mistake = next(m for m in table("two_layer_net") if m.name == case)
    name, source, hints = mistake.function, mistake.source, mistake.hints
    local = visible_failures(name, with_sources(source))
    process = LocalProcess(notebook_namespace(source))
    records = [run_one(test, process, Limits(), time.monotonic(), TLN) for test in VISIBLE[name]]
    capsys.readouterr()
    lost = {r["grade_id"]: r for r in records if r["status"] != "passed"}
    assert set(lost) >= set(local), f"{case}: notebook fails {sorted(local)}, grader {lost}"
    for grade_id, record in lost.items():
        for key in hints:
            assert squeeze(HINTS[key]) in squeeze(record["message"]), (
                f"{case}: {grade_id}'s message lacks the hint {key!r}:\n{record['message']}")
        if grade_id in local:
            hint = getattr(local[grade_id], "hint", None) or local[grade_id].__notes__[-1]
            assert squeeze(hint) == squeeze(record["hint"]), (
                f"{case}: the notebook and the grader give different hints:\n"
                f"{hint}\n{record['hint']}")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_one_diagnosis_per_function_and_no_charge_when_it_times_out():
    source = "def softmax(x):\n    return np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)\n"
    process = LocalProcess(notebook_namespace(source))
    first = run_one(BY_ID["softmax_stability"], process, Limits(), time.monotonic(), TLN)
    used = process.calls
    again = run_one(BY_ID["softmax_stability"], process, Limits(), time.monotonic(), TLN)
    assert used > 1 and process.calls == used + 1, (
        "the second failure of softmax ran its diagnosis again")
    assert first["hint"] == again["hint"] and HINTS["softmax_unstable"] in first["hint"]
    slow = LocalProcess(notebook_namespace(source), fail_after=1)  # the test's own call
    record = run_one(BY_ID["softmax_stability"], slow, Limits(), time.monotonic(), TLN)
    assert record["status"] == "failed" and "hint" not in record, record


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_submission_spends_a_bounded_time_on_diagnoses(monkeypatch):
    monkeypatch.setattr(diagnosis, "DIAGNOSIS_TOTAL", 0.0)
    source = "def softmax(x):\n    return np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)\n"
    process = LocalProcess(notebook_namespace(source))
    record = run_one(BY_ID["softmax_stability"], process, Limits(), time.monotonic(), TLN)
    assert process.calls == 1 and "hint" not in record, (process.calls, record)


def test_a_remote_function_raises_the_students_exception_and_writes_arguments_back():
    process = LocalProcess(notebook_namespace(
        "def relu(x):\n    x[x < 0] = 0\n    return x\n",
        "def softmax(x):\n    return {}['missing']\n"))
    relu = RemoteFunction(process, "relu", 10.0, time.monotonic() + 60)
    x = np.array([-1.0, 2.0])
    assert relu(x).tolist() == [0.0, 2.0] and x.tolist() == [0.0, 2.0], x
    with pytest.raises(KeyError) as info:
        RemoteFunction(process, "softmax", 10.0, time.monotonic() + 60)(x)
    assert info.value.nnlab_location.startswith(" (at <cell 1>, line 2"), (
        info.value.nnlab_location)


# -- hidden tests: specific messages when they reveal nothing hidden ----------------------
def record(**fields):
    base = {"grade_id": "softmax_random_inputs", "points": 0.0, "max_points": 1.0,
            "hidden": True, "summary": "softmax matches the reference.", "status": "failed",
            "message": "softmax(x) is off at index (5,): got 0.1, expected 0.2"}
    return dict(base, **fields)


def test_a_hidden_failure_shows_its_message_only_when_public():
    private = public_message(record())
    assert "expected 0.2" not in private and "It checks: softmax matches" in private, private
    shown = public_message(record(public=True, message="softmax(x) is off at index (5,)"))
    assert "What went wrong: softmax(x) is off at index (5,)" in shown, shown
    hinted = public_message(record(hint="Hint (check('softmax')): no epsilon."))
    assert "expected 0.2" not in hinted and hinted.endswith("no epsilon."), hinted


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_hidden_value_messages_are_public_and_carry_no_numbers():
    from nnlab.testing import LocalStudent, PublicFailure
    namespace = with_sources(
        "def softmax(x):\n    e = np.exp(x - x.max(axis=-1, keepdims=True))\n"
        "    return e / (e.sum(axis=-1, keepdims=True) + 1e-5)\n")
    with pytest.raises(PublicFailure) as info:
        BY_ID["softmax_random_inputs"].function(LocalStudent(namespace))
    assert "expected" not in str(info.value) and "got" not in str(info.value), info.value


# -- nbgrader validate: what a student who validates sees ---------------------------------
def validate(tmp_path, functions):
    """nbgrader validate's output for ada's notebook (written answers too) with ``functions``."""
    release = nbformat.read(str(TLN.release_notebook), as_version=4)
    base = demo.functions_in(TLN.demo_dir / "students" / "ada_correct.py")
    written = demo.written_in(TLN.demo_dir / "written" / "ada_correct.md")
    folder = tmp_path / "two_layer_net"
    folder.mkdir()
    notebook = demo.fill(release, dict(base, **functions), written)
    nbformat.write(notebook, str(folder / "nb.ipynb"))
    shutil.copytree(TLN.release_dir / "nnlab", folder / "nnlab")
    done = subprocess.run([sys.executable, "-m", "nbgrader", "validate", "nb.ipynb"],
                          cwd=folder, capture_output=True, text=True, timeout=300)
    return done.stdout


def test_nbgrader_validate_is_short_and_gives_the_hint(tmp_path):
    ben = demo.functions_in(TLN.demo_dir / "students" / "ben_softmax_epsilon.py")
    out = validate(tmp_path, ben)
    assert "VALIDATION FAILED ON 3 CELL(S)" in out, out  # softmax's 3 visible tests, no other
    assert len(out.splitlines()) < 120, f"{len(out.splitlines())} lines:\n{out}"
    assert "FAILED softmax_handout_vector" in out and "Hint (check('softmax')): softmax adds" \
        in out, out
    assert "Traceback" not in out, out


def test_nbgrader_validate_fails_sgd_scaling_grads_in_place(tmp_path):
    step = ("def sgd_momentum_step(params, grads, velocity, lr, momentum):\n"
            "    for k in params:\n"
            "        grads[k] *= lr\n"
            "        velocity[k] = momentum * velocity[k] - grads[k]\n"
            "        params[k] = params[k] + velocity[k]\n"
            "    return params, velocity\n")
    out = validate(tmp_path, {"sgd_momentum_step": step})
    assert "VALIDATION FAILED ON 1 CELL(S)" in out and "FAILED sgd_momentum_step_two_steps" \
        in out and "modified in place" in out, out
    assert squeeze(HINTS["sgd_grads_modified"]) in squeeze(out.replace("    ", " ")), out
