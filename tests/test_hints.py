"""A failed test carries check()'s hint for that mistake, in the notebook and in the grader
alike; hidden tests show their message when it reveals nothing hidden; failures read short."""

import copy
import re
import shutil
import subprocess
import sys
import time

import nbformat
import numpy as np
import pytest

from autograder import demo, worker
from autograder.diagnosis import RemoteFunction
from autograder.feedback import public_message
from autograder import diagnosis
from autograder.grading import run_one
from autograder.runner import StudentTimeout
from autograder.sandbox import Limits
from course_under_test import TLN
from nnlab.checking.hints import hint_for
from nnlab.testing import TestFailed
from nnlab.two_layer_net.checks import HINTS, run_test
from test_check import MISTAKES, with_sources

BY_ID, TESTS, target_of = TLN.by_id, TLN.tests, TLN.target_of

VISIBLE = {name: [t for t in TESTS if target_of(t) == name and not t.hidden]
           for name in {target_of(t) for t in TESTS}}
# Mistakes check() names that no visible test fails: a result that is right but raised a
# RuntimeWarning, and train's mistakes that only the hidden tests (the training run, the
# recorded steps) can see.
ONLY_CHECK = {"softmax_warns_but_is_right", "train_loss_log_of_zero",
              "train_shuffles_X_and_Y_apart", "train_never_shuffles_sorted_data",
              "train_loss_of_last_batch_only", "train_history_before_each_epoch",
              "train_updates_without_sgd_momentum_step", "train_skips_the_last_mini_batch",
              "train_swaps_lr_and_momentum", "train_ignores_what_the_step_returns",
              "train_resets_velocity_before_every_step", "train_velocity_starts_as_params",
              "train_gradients_at_the_epochs_first_params", "train_shuffles_once_before_the_epochs",
              "train_re_creates_the_generator_every_epoch",
              "train_shuffles_the_batches_not_the_examples",
              "train_targets_apart_from_their_examples", "train_trains_on_training_and_test_data",
              "train_test_metrics_on_the_training_set", "train_train_metrics_on_the_test_set",
              "train_loss_averaged_over_the_mini_batches", "train_made_up_test_accuracy",
              "train_returns_the_initial_params"}


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
@pytest.mark.parametrize("name, source, hints", MISTAKES)
def test_a_failed_visible_test_gives_checks_hint(name, source, hints, request, capsys):
    case = request.node.callspec.id
    failed = visible_failures(name, with_sources(source))
    capsys.readouterr()
    if case in ONLY_CHECK:
        assert not failed, f"{case} is caught by {sorted(failed)}: remove it from ONLY_CHECK"
        return
    assert failed, f"no visible test of {name} fails for {case}"
    for grade_id, failure in failed.items():
        for key in hints:
            assert squeeze(HINTS[key]) in squeeze(shown(failure)), (
                f"{grade_id} fails for {case} without the hint {key!r}:\n{failure}")


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
        return copy.deepcopy(worker.call(self.namespace, request, worker.CappedOutput()))


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
    name, source, hints = next(m.values for m in MISTAKES if m.id == case)
    import textwrap
    source = textwrap.dedent(source)
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
