"""The Gradescope bundle: built for two_layer_net, unpacked into a fake /autograder tree and
run as Gradescope would run it (without setup.sh: the project's venv python stands in for
/autograder/venv), then results.json checked against Gradescope's schema
(https://gradescope-autograders.readthedocs.io/en/latest/specs/)."""

import json
import os
import stat
import subprocess
import sys
import zipfile

import nbformat
import pytest
from course_under_test import TLN

from autograder import demo, feedback, gradescope
from autograder.grading import grade_notebook

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    target = tmp_path_factory.mktemp("gs") / "autograder.zip"
    parser = __import__("argparse").ArgumentParser()
    gradescope.add_parser(parser.add_subparsers(dest="command"))
    assert gradescope.run(parser.parse_args(["gradescope", TLN.name, "--out", str(target)])) == 0
    return target


def notebook_of(student):
    release = nbformat.read(str(TLN.release_notebook), as_version=4)
    students = TLN.demo_dir / "students"
    functions = demo.functions_in(students / f"{demo.CORRECT}.py")
    functions.update(demo.functions_in(students / f"{student}.py"))
    return demo.fill(release, functions)


def run_bundle(bundle, root, files, **extra_env):
    """Unpack ``bundle`` in root/source, put ``files`` ({name: bytes}) in root/submission,
    run run_autograder; returns results.json as a dict."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    (root / "submission").mkdir(parents=True)
    for name, data in files.items():
        (root / "submission" / name).write_bytes(data)
    env = dict(os.environ, GRADESCOPE_ROOT=str(root), GRADESCOPE_PYTHON=sys.executable,
               **extra_env)
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    check_schema(results)
    return results, done.stdout


def check_schema(results):
    assert isinstance(results["score"], float)
    assert isinstance(results["output"], str) and results["output"]
    assert isinstance(results["execution_time"], int)
    assert isinstance(results["tests"], list)
    for test in results["tests"]:
        assert set(test) <= {"score", "max_score", "status", "name", "number", "output",
                             "visibility", "extra_data", "tags", "name_format", "output_format"}
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in VISIBILITIES
        assert test["status"] in ("passed", "failed")
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    json.dumps(results, allow_nan=False)  # strict JSON


def check_against_grader(results, notebook_path):
    """Each test's output is the public view of what the grader itself reports."""
    direct = grade_notebook(notebook_path, TLN)
    assert len(direct["tests"]) == len(results["tests"]) == len(TLN.tests)
    for record, test in zip(direct["tests"], results["tests"]):
        assert test["name"].startswith(record["grade_id"])
        assert test["score"] == record["points"]
        assert test["visibility"] == ("after_published" if record["hidden"] else "visible")
        assert test["output"].endswith(feedback.public_message(record))
        # A hidden test's own failure text (its inputs, expected values) or the text of the
        # student's exception never shows; statuses about the student's own code may.
        if record["hidden"] and record["status"] in ("failed", "error", "memory_limit",
                                                     "grader_error") and not record.get("public"):
            assert record["message"] not in test["output"]
    return direct


def test_bundle_layout(bundle):
    names = set(zipfile.ZipFile(bundle).namelist())
    assert {"setup.sh", "run_autograder", "requirements.txt", "course.toml", "gradescope.json",
            "autograder/gradescope_run.py", "autograder/grading.py",
            f"solutions/{TLN.name}/__init__.py", "nnlab/__init__.py",
            f"nnlab/{TLN.name}/__init__.py",
            f"notebooks/{TLN.name}/{TLN.notebook}.ipynb"} <= names
    assert not any(n.startswith(("solutions/foundations", "solutions/deep_mlp",
                                 "nnlab/deep_mlp", "autograder/suite/deep_mlp")) for n in names)
    assert not any("__pycache__" in n for n in names)
    toml = zipfile.ZipFile(bundle).read("course.toml").decode()
    assert toml.count("[[assignment]]") == 1 and TLN.name in toml


@pytest.mark.parametrize("isolation", ["auto", "rlimits"])
def test_correct_submission_renamed(bundle, tmp_path, isolation):
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook_of(demo.CORRECT), str(path))
    results, stdout = run_bundle(bundle, tmp_path / "ag", {"two_layer_net (1).ipynb": path.read_bytes()},
                                 GRADESCOPE_ISOLATION=isolation)
    assert results["score"] == TLN.max_score
    assert all(t["status"] == "passed" for t in results["tests"])
    assert results["extra_data"]["isolation"] in ("bubblewrap", "rlimits")
    if isolation == "rlimits":
        assert results["extra_data"]["isolation"] == "rlimits"
    assert f"isolation: {results['extra_data']['isolation']}" in results["output"]
    assert f"isolation: {results['extra_data']['isolation']}" in stdout
    assert any(t["visibility"] == "after_published" for t in results["tests"])
    assert "two_layer_net (1).ipynb" in results["output"]


def test_buggy_submission(bundle, tmp_path):
    path = tmp_path / "sub" / f"{TLN.notebook}.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook_of("ben_softmax_epsilon"), str(path))
    results, _ = run_bundle(bundle, tmp_path / "ag", {path.name: path.read_bytes()})
    assert results["score"] == 26.0
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert failed and all(t["name"].startswith("softmax") for t in failed)
    assert any(t["visibility"] == "after_published" for t in failed)
    for test in failed:
        if test["visibility"] == "after_published":  # no got/expected values of hidden inputs
            assert "expected" not in test["output"] and "got " not in test["output"]
    check_against_grader(results, path)


def test_invalid_notebook(bundle, tmp_path):
    results, _ = run_bundle(bundle, tmp_path / "ag", {f"{TLN.notebook}.ipynb": b'{"cells": ['})
    assert results["score"] == 0.0 and results["extra_data"]["status"] == "invalid_notebook"
    assert "not a readable Jupyter notebook" in results["output"]
    assert len(results["tests"]) == len(TLN.tests)
    assert all(t["output"].startswith("[not_run]") for t in results["tests"])


def test_process_exit(bundle, tmp_path):
    """A cell that ends the process, and a function that does (its tests: kernel_died)."""
    release = nbformat.read(str(TLN.release_notebook), as_version=4)
    functions = demo.functions_in(TLN.demo_dir / "students" / f"{demo.CORRECT}.py")
    functions["relu"] = "def relu(x):\n    import os\n    os._exit(3)"
    notebook = demo.fill(release, functions)
    notebook.cells.append(nbformat.v4.new_code_cell("import os\nos._exit(3)"))
    path = tmp_path / "sub" / f"{TLN.notebook}.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook, str(path))
    results, _ = run_bundle(bundle, tmp_path / "ag", {path.name: path.read_bytes()})
    assert results["extra_data"]["status"] == "kernel_died"
    died = [t for t in results["tests"] if t["output"].startswith("[kernel_died]")]
    assert died and all(t["score"] == 0.0 for t in died)
    direct = check_against_grader(results, path)
    assert results["score"] == direct["score"] < TLN.max_score


def test_missing_notebook(bundle, tmp_path):
    results, _ = run_bundle(bundle, tmp_path / "ag", {"answers.txt": b"hello"})
    assert results["score"] == 0.0 and results["extra_data"]["status"] == "missing_notebook"
    assert "no .ipynb" in results["output"]
    assert len(results["tests"]) == len(TLN.tests)


def test_grader_crash_still_writes_results(bundle, tmp_path):
    root = tmp_path / "ag"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    (root / "source" / "gradescope.json").write_text('{"assignment": "no_such"}')
    (root / "submission").mkdir()
    env = dict(os.environ, GRADESCOPE_ROOT=str(root), GRADESCOPE_PYTHON=sys.executable)
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    results = json.loads((root / "results" / "results.json").read_text())
    check_schema(results)
    assert results["extra_data"]["status"] == "grader_error" and results["score"] == 0.0
    assert "Traceback" not in results["output"]
