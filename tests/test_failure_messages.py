"""Failures a student can read at a glance: a failing test cell shows a few short lines (what
came out, what was expected, check()'s whole hint, or where the student's code raised) and no
traceback through nnlab; check() wraps its lines between words; ``nbgrader validate`` on a
notebook with one mistake prints a screenful (issue 19, item 3)."""

import inspect
import re
import subprocess
import sys
import textwrap

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from autograder import build
from course_under_test import COURSE, TLN
from nnlab.checking import engine
from nnlab.checking.hints import hint_for
from nnlab.testing import TestFailed, run_test
from nnlab.two_layer_net.checks import HINTS, check
from known_mistakes import reference_notebook, table

# One mistake per assignment that a visible test catches and check() names.
WRONG = {
    "two_layer_net": ("softmax", "def softmax(x):\n    e = np.exp(x - np.max(x))\n"
                                 "    return e / e.sum(axis=-1, keepdims=True)\n"),
    "foundations": ("l1_loss", "def l1_loss(X, y, w):\n"
                               "    return float(np.sum(np.abs(X @ w - y)))\n"),
    "deep_mlp": ("relu_backward", "def relu_backward(dA, cache):\n    return dA\n"),
}
# Errors raised in the student's code, each with the test cell that runs into it.
ERRORS = [
    ("def softmax(x):\n    e = np.exp(x - np.max(x, axis=1))\n"
     "    return e / e.sum(axis=-1, keepdims=True)\n", "softmax_handout_batch",
     ["your softmax raised ValueError", "e = np.exp(x - np.max(x, axis=1))", "Cell In["]),
    ("def relu(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n",
     "relu_handout_table", ["relu is not implemented yet"]),
    # (a softmax not written yet is stood in while forward is graded: nnlab.stand_ins)
    ("def forward(X, params):\n    Z1 = X @ params[\"W1\"] + params[\"b1\"]\n"
     "    return {\"Z1\": Z1, \"H\": relu(Z1), \"P\": softmx(Z1)}\n", "forward_layers",
     ["your forward raised NameError", "softmx", "Cell In["]),
]


def squeeze(text):
    return re.sub(r"\s+", " ", text).strip()


def reference_sources(assignment, wrong=None):
    """The reference's functions as notebook cells, ``wrong`` = (name, source) replacing one."""
    sources = {function.__name__: textwrap.dedent(inspect.getsource(function))
               for function in assignment.reference}
    if wrong:
        sources[wrong[0]] = wrong[1]
    return list(sources.values())


def namespace_of(assignment, sources):
    namespace = {}
    for source in [assignment.setup_code, *sources]:
        exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


def run_notebook(cells, tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return notebook


def error_of(cell):
    errors = [output for output in cell.outputs if output.output_type == "error"]
    assert len(errors) == 1, cell.outputs
    return errors[0]


def assert_short(error, where):
    lines = error.traceback
    assert len(lines) <= 15, f"{where}: {len(lines)} lines:\n" + "\n".join(lines)
    assert all(len(line) <= 100 for line in lines), f"{where}: a long line:\n" + "\n".join(lines)
    text = "\n".join(lines)
    assert "nnlab/" not in text and "Traceback" not in text, f"{where}: nnlab's frames:\n{text}"
    assert lines[0] == f"FAILED {where}", lines
    return text


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_failing_test_cell_shows_a_few_short_lines_with_the_whole_hint(tmp_path):
    cells, expected = [], []
    for assignment in COURSE.assignments:
        name, source = WRONG[assignment.name]
        sources = reference_sources(assignment, (name, source))
        namespace = namespace_of(assignment, sources)
        failing = []
        for test in assignment.tests:
            if test.hidden or assignment.target_of(test) != name:
                continue
            try:
                run_test(test.function, namespace)
            except TestFailed:
                failing.append(test)
        assert failing, f"{assignment.name}: no visible test of {name} fails"
        test = failing[0]
        hint = hint_for(assignment.name, test.grade_id, namespace)
        assert hint, f"{assignment.name}: check({name!r}) gives no hint for the mistake"
        expected.append((len(cells) + len(sources) + 1, test.grade_id, hint))
        cells += [assignment.setup_code, *sources, build.test_cell_source(test)]
    notebook = run_notebook(cells, tmp_path)
    for index, grade_id, hint in expected:
        text = assert_short(error_of(notebook.cells[index]), grade_id)
        assert squeeze(hint) in squeeze(text), f"{grade_id}: the hint is not whole:\n{text}"


def test_an_error_in_the_students_code_shows_their_cell_and_line(tmp_path):
    tests = {test.grade_id: test for test in TLN.tests}
    cells = [TLN.setup_code, *reference_sources(TLN)]
    checked = []
    for source, grade_id, wanted in ERRORS:
        cells += [source, build.test_cell_source(tests[grade_id])]
        checked.append((len(cells) - 1, grade_id, wanted))
        cells += reference_sources(TLN)  # back to the reference for the next case
    notebook = run_notebook(cells, tmp_path)
    for index, grade_id, wanted in checked:
        text = assert_short(error_of(notebook.cells[index]), grade_id)
        for piece in wanted:
            assert piece in text, f"{grade_id}: {piece!r} missing:\n{text}"


# -- check(): lines of at most engine.WIDTH columns, broken between words -----------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_check_wraps_its_lines_between_words(capsys):
    for mistake in table("two_layer_net"):
        name, case = mistake.function, mistake.name
        hints = () if mistake.check_xfail else mistake.hints  # a known miss: other hints
        namespace = reference_notebook(TLN, mistake.source)
        result = engine.Context(engine.table_of("two_layer_net"), namespace).result(name)
        logical = engine.verdict(engine.table_of("two_layer_net"), result)
        check(name, namespace)
        out = capsys.readouterr().out
        lines = out.splitlines()
        assert all(len(line) <= 100 for line in lines), (case, out)
        assert all(len(line) <= engine.WIDTH or " " not in line.strip() for line in lines), out
        # the same words in the same order: no word split, nothing left out
        assert out.split() == " ".join(logical).split(), (case, out)
        for key in hints:
            assert squeeze(HINTS[key]) in squeeze(out), (case, key, out)


# -- nbgrader validate -----------------------------------------------------------------------
def validate(notebook, tmp_path):
    path = tmp_path / f"{TLN.notebook}.ipynb"
    nbformat.write(notebook, path)
    done = subprocess.run([sys.executable, "-m", "nbgrader", "validate", path.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    return (done.stderr + done.stdout).splitlines()


def release_notebook():
    return nbformat.read(TLN.release_dir / f"{TLN.notebook}.ipynb", as_version=4)


def test_validate_with_one_mistake_prints_a_screenful_with_the_whole_hint(tmp_path):
    notebook = release_notebook()
    references = {function.__name__: textwrap.dedent(inspect.getsource(function))
                  for function in TLN.reference}
    name, wrong = WRONG["two_layer_net"]
    kept = []
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.metadata.get("nnlab", {}).get("demo"):
            continue  # plots and training runs: no grade, nothing validate reports
        if grade_id.startswith("answer_"):
            function = grade_id.removeprefix("answer_")
            cell.source = wrong if function == name else references[function]
        elif cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "A written answer."
        kept.append(cell)
    notebook.cells = kept
    lines = validate(notebook, tmp_path)
    text = "\n".join(lines)
    assert "VALIDATION FAILED ON 1 CELL" in text, text
    assert len(lines) <= 40, f"{len(lines)} lines:\n{text}"
    found = hint_for("two_layer_net", "softmax_stability",
                     namespace_of(TLN, reference_sources(TLN, WRONG["two_layer_net"])))
    assert found and squeeze(found) in squeeze(text), f"the hint is not whole:\n{text}"


def test_validate_on_the_untouched_release_stays_short_per_cell(tmp_path):
    lines = validate(release_notebook(), tmp_path)
    text = "\n".join(lines)
    failed = int(re.search(r"VALIDATION FAILED ON (\d+) CELL", text).group(1))
    errors = text.split("The error was:")[1:]
    assert len(errors) == failed
    for error in errors:
        shown = error.split("=" * 20)[0].strip().splitlines()
        assert len(shown) <= 6, "a long error:\n" + "\n".join(shown)
        assert "nnlab/" not in error and "Traceback" not in error, error
    assert len(lines) <= 30 * failed, f"{len(lines)} lines for {failed} cells"
