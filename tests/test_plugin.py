"""Assignments are plug-ins: a throw-away third assignment, made only of its own folders
(in a temporary directory) and one entry in a course file, is built, released, graded,
recorded in the gradebook and given feedback pages by the same commands as the others,
without any module of the project being edited."""

import csv
import json
import os
import subprocess
import sys
import textwrap

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import config

SUITE = '''\
"""tiny: one function, one visible and one hidden test."""

import numpy as np

from autograder.graded import graded
from nnlab.testing import assert_close
from tiny_reference import STUDENT_FUNCTIONS  # noqa: F401


@graded(points=2)
def double_small_numbers(student):
    """double gives twice its input for 1, 2 and 3."""
    assert_close(student.double(np.array([1.0, 2.0, 3.0])), [2.0, 4.0, 6.0], "double([1, 2, 3])")


@graded(points=1, hidden=True)
def double_negative_numbers(student):
    """double gives twice its input for negative numbers."""
    from tiny_reference import double as reference_double
    x = np.array([-1.5, -4.0])
    assert_close(student.double(x), reference_double(x), "double of negative numbers")


TESTS = [double_small_numbers.graded, double_negative_numbers.graded]
NOTEBOOK_TEST_IMPORTS = """\\
import numpy as np
from nnlab.testing import assert_close, run_test"""
SETUP_CODE = NOTEBOOK_TEST_IMPORTS
'''
REFERENCE = '''\
"""tiny's reference."""


def double(x):
    """Twice x.

    Inputs:
    - x: an array of shape (N,)

    Returns:
    - an array of shape (N,)
    """
    return 2 * x


STUDENT_FUNCTIONS = (double,)
'''
TEMPLATE = '''\
%% markdown
# A tiny assignment

Write `double`.
%% setup
%% answer double
%% tests double
%% markdown
### Why (1 point)
%% manual tiny_why 1
Because.
'''


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("plugin")
    (base / "code").mkdir()
    (base / "code" / "tiny_suite.py").write_text(SUITE)
    (base / "code" / "tiny_reference.py").write_text(REFERENCE)
    (base / "root" / "autograder" / "assignment").mkdir(parents=True)
    (base / "root" / "autograder" / "assignment" / "tiny.md").write_text(TEMPLATE)
    (base / "course.toml").write_text(textwrap.dedent('''\
        course_id = "plugin_course"
        [[assignment]]
        name = "two_layer_net"
        [[assignment]]
        name = "tiny"
        module = "tiny_suite"
        root = "root"
        path = "code"
        '''))
    env = dict(os.environ, NN_COURSE=str(base / "course.toml"),
               PYTHONPATH=str(base / "code") + os.pathsep + str(config.ROOT))
    return base, env


def run(env, *args):
    done = subprocess.run([sys.executable, "-m", "autograder", *args], env=env,
                          capture_output=True, text=True, timeout=900, cwd=config.ROOT)
    return done


def test_a_third_assignment_builds_grades_and_reaches_the_gradebook(tiny):
    base, env = tiny
    done = run(env, "build", "tiny")
    assert done.returncode == 0, done.stderr[-3000:]
    release = base / "root" / "notebooks" / "tiny" / "tiny.ipynb"
    assert release.is_file() and (base / "root" / "source" / "tiny" / "tiny.ipynb").is_file()
    assert (release.parent / "nnlab" / "testing.py").is_file(), "the shared helpers ship with it"
    assert not (release.parent / "nnlab" / "two_layer_net").exists(), (
        "another assignment's helpers must not ship with this one")
    notebook = nbformat.read(str(release), as_version=4)
    assert "reference_double" not in nbformat.writes(notebook), "the hidden test's code was released"
    subs = base / "subs"
    for student, body in (("good", "    return x + x"), ("wrong", "    return x * 3"),
                          ("untouched", None)):
        filled = nbformat.from_dict(notebook)
        for cell in filled.cells:
            if body and cell.metadata.get("nbgrader", {}).get("grade_id") == "answer_double":
                cell.source = f"def double(x):\n{body}"
        (subs / student / "tiny").mkdir(parents=True)
        nbformat.write(filled, str(subs / student / "tiny" / "tiny.ipynb"))
    out = base / "out"
    done = run(env, "grade", str(subs), "--out", str(out), "--jobs", "2", "--no-progress")
    assert done.returncode == 0, f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert {s: (rows[s]["score"], rows[s]["max_score"], rows[s]["status"]) for s in rows} == {
        "good": ("3", "3", "ok"), "wrong": ("0", "3", "ok"), "untouched": ("0", "3", "ok")}, rows
    assert rows["good"]["total_max"] == "4" and rows["good"]["tiny_why"] == "", rows["good"]
    page = (out / "feedback" / "good" / "tiny" / "tiny.html").read_text()
    assert "3 / 3" in page and "tiny_why: not graded yet" in page, page[:1500]
    result = json.loads((out / "results" / "wrong" / "tiny" / "tiny.json").read_text())
    assert [t["status"] for t in result["tests"]] == ["failed", "failed"], result["tests"]
    with Gradebook(f"sqlite:///{out / 'nbgrader' / 'gradebook.db'}", "plugin_course") as book:
        scores = {s.student.id: s.score for s in book.assignment_submissions("tiny")}
    assert scores == {"good": 3.0, "wrong": 0.0, "untouched": 0.0}, scores


def test_an_unknown_assignment_name_is_refused_with_the_known_ones(tiny):
    base, env = tiny
    done = run(env, "build", "nonesuch")
    assert done.returncode == 2 and "two_layer_net, tiny" in done.stderr, done.stderr
