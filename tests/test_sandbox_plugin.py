"""Adding a sandbox backend is one class implementing ``autograder.sandbox.backend.Backend``,
passed to ``register``: ``--isolation NAME`` then starts every student process with it,
through the same code as bubblewrap and rlimits (cgroup, limits set before exec, the
grader key, the isolation line of the results)."""

import sys

import pytest

from autograder.grader_key import grader_key
from autograder.grading import notebook_grader
from autograder.options import add_grading_options
from autograder.sandbox import backend, isolation, rlimits_files, spawn
from autograder.sandbox.launch import Limits
from course_under_test import TLN
from test_batch import write

LIMITS = Limits(call_seconds=5, cell_seconds=10, notebook_seconds=120)


class Plain:
    """A throw-away backend: the student process as a plain child of the grader, as the
    grading user (what rlimits does when it cannot switch uid), counting its starts."""

    name = "plain-test"

    def __init__(self) -> None:
        self.started = 0

    def problem(self):
        return None

    def variant(self):
        return "as-the-grader"

    def describe(self):
        return "plain-test (a test's backend: no isolation)", ["nothing is isolated"]

    def counts_processes(self):
        return False

    def start(self, scratch, limits, fds, popen):
        self.started += 1
        return spawn.SandboxProcess(
            [sys.executable, "-B", "-s", str(spawn.WORKER), *map(str, fds)],
            env=rlimits_files.rlimits_environment(scratch), pass_fds=fds, **popen)


@pytest.fixture
def plain():
    made = backend.register(Plain())
    yield made
    backend.unregister(made.name)


def test_a_new_backend_grades_as_the_built_in_ones(tmp_path, plain):
    good = write(tmp_path / "subs", "ada")
    bad = write(tmp_path / "subs", "bob", {"relu": "def relu(x):\n    raise ValueError('no')"})
    assert isolation.isolation_mode(plain.name) == plain.name
    for path, expect_full in ((good, True), (bad, False)):
        mine = notebook_grader.grade_notebook(path, TLN, LIMITS, plain.name)
        theirs = notebook_grader.grade_notebook(path, TLN, LIMITS, "rlimits")
        assert mine["status"] == theirs["status"] and mine["score"] == theirs["score"], (
            mine["status"], mine["score"], theirs["status"], theirs["score"])
        assert (mine["score"] == TLN.max_score) == expect_full, mine["score"]
        assert [t["status"] for t in mine["tests"]] == [t["status"] for t in theirs["tests"]]
    assert plain.started >= 2, "every student process should be started by the backend"


def test_a_new_backend_has_its_own_key_line_and_command_line_name(plain):
    assert grader_key(LIMITS, plain.name) != grader_key(LIMITS, "rlimits"), (
        "results graded under another backend must not be reused")
    assert f"{plain.name}/as-the-grader/" in isolation.isolation_key(plain.name)
    line, warnings = isolation.describe(plain.name, LIMITS)
    assert line.startswith("plain-test (") and "nothing is isolated" in warnings, (line, warnings)
    import argparse
    parser = argparse.ArgumentParser()
    add_grading_options(parser)
    assert parser.parse_args(["--isolation", plain.name]).isolation == plain.name
    assert isolation.isolation_mode("auto") in ("bubblewrap", "rlimits"), (
        "a backend registered later is never preferred to the built-in ones")


def test_backend_names_are_unique_and_unknown_names_are_refused():
    with pytest.raises(ValueError, match="already registered"):
        backend.register(Plain.__new__(type("Other", (Plain,), {"name": "rlimits"})))
    with pytest.raises(ValueError, match="unknown isolation"):
        isolation.isolation_mode("none")
