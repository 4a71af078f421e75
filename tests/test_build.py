"""The source notebook and the student release: generated, in sync, leak-free, runnable."""


import textwrap

import nbformat
import pytest
from nbclient import NotebookClient

import solutions.two_layer_net as solutions
from autograder import build, cli
from course_under_test import TLN
TESTS = TLN.tests


def test_template_blocks_parse_and_bad_headers_are_rejected():
    blocks = build.parse_template("%% markdown\nhi\n%% answer relu\n%% manual q 2\nrubric\n")
    assert [(b.kind, b.args) for b in blocks] == [("markdown", []), ("answer", ["relu"]),
                                                 ("manual", ["q", "2"])], blocks
    for bad in ("%% answer\n", "%% sparkle x\n", "text first\n%% markdown\n"):
        with pytest.raises(ValueError, match="template line"):
            build.parse_template(bad)


def test_answer_source_wraps_the_body_after_the_docstring():
    source = build.answer_source(solutions.relu)
    lines = source.splitlines()
    begin, end = lines.index("    ### BEGIN SOLUTION"), lines.index("    ### END SOLUTION")
    assert lines[0] == "def relu(x):", lines[0]
    assert '"""' in "\n".join(lines[:begin]) and begin < end == len(lines) - 1, source
    assert "np.maximum" in "\n".join(lines[begin:end]), source


def test_committed_source_and_release_are_up_to_date(capsys):
    code = cli.main(["build", "--check"])
    assert code == 0, f"stale generated files: {capsys.readouterr().out}"


@pytest.fixture(scope="module")
def release():
    return nbformat.read(str(TLN.release_notebook), as_version=4)


def test_release_holds_no_reference_code_and_no_hidden_tests(release):
    text = "\n".join(cell.source for cell in release.cells)
    code = "\n".join(cell.source for cell in release.cells if cell.cell_type == "code")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN", "from solutions", "Model answer"):
        assert marker not in text, f"the release contains {marker!r}"
    for function in solutions.STUDENT_FUNCTIONS:
        body = build.answer_source(function).split("### BEGIN SOLUTION\n")[1].split("    ### END")[0]
        for line in textwrap.dedent(body).splitlines():
            if len(line.strip()) > 25:
                assert line.strip() not in code, f"reference line of {function.__name__} leaked: {line}"
    for test in TESTS:
        assert (test.source() in text) != test.hidden, f"{test.grade_id}: wrong visibility"


def test_release_has_a_stub_per_function_and_graded_cells(release):
    meta = [cell.metadata.get("nbgrader", {}) for cell in release.cells]
    answers = {m["grade_id"] for m in meta if m.get("solution") and not m.get("grade")}
    assert answers == {f"answer_{f.__name__}" for f in solutions.STUDENT_FUNCTIONS}, answers
    tests = {m["grade_id"]: m["points"] for m in meta if m.get("grade") and not m.get("solution")}
    assert tests == {t.grade_id: t.points for t in TESTS}, tests
    manual = {m["grade_id"]: m["points"] for m in meta if m.get("grade") and m.get("solution")}
    assert manual == {"derivation_softmax_ce": 2.0, "derivation_backprop": 4.0}, manual
    unlocked = [m["grade_id"] for m in meta if m.get("grade") and not m.get("solution")
                and not m.get("locked")]
    assert not unlocked, f"test cells students could edit: {unlocked}"
    stubs = [c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("answer_")]
    assert all("raise NotImplementedError()" in s for s in stubs), "a stub lost its raise"
    assert (TLN.release_dir / "nnlab" / "testing.py").exists(), "helpers not shipped"


def run_notebook(path):
    notebook = nbformat.read(str(path), as_version=4)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return notebook


def errors_by_grade_id(notebook):
    found = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if grade_id and cell.cell_type == "code":
            found[grade_id] = errors[0].ename if errors else None
    return found


def test_source_notebook_runs_and_every_test_cell_passes_in_a_kernel():
    notebook = run_notebook(TLN.source_notebook)
    errors = errors_by_grade_id(notebook)
    failing = {k: v for k, v in errors.items() if v}
    assert not failing, f"cells raising in the source notebook: {failing}"
    assert set(errors) >= {t.grade_id for t in TESTS}, "test cells missing"
    raising = [c.source[:40] for c in notebook.cells if c.cell_type == "code"
               and any(o.output_type == "error" for o in c.outputs)]
    assert not raising, f"cells raising in the source notebook: {raising}"
    checks = [c for c in notebook.cells if c.source.startswith("check(")]
    assert len(checks) == len(solutions.STUDENT_FUNCTIONS), f"{len(checks)} check cells"
    for cell in checks:
        printed = "".join(o.get("text", "") for o in cell.outputs)
        assert "checks passed" in printed and "FAILED" not in printed, f"{cell.source}: {printed}"


def test_untouched_release_fails_every_visible_test_with_not_implemented():
    notebook = run_notebook(TLN.release_notebook)
    errors = errors_by_grade_id(notebook)
    shown = {cell.metadata.get("nbgrader", {}).get("grade_id"): "\n".join(
        "\n".join(output.get("traceback", [])) for output in cell.get("outputs", [])
        if output.output_type == "error") for cell in notebook.cells}
    for test in TESTS:
        if not test.hidden:  # a short TestFailed that says the stub is not implemented yet
            assert errors[test.grade_id] == "TestFailed" \
                and "not implemented yet" in shown[test.grade_id], (
                    f"{test.grade_id}: {errors[test.grade_id]}: {shown[test.grade_id]}")
        else:
            assert errors[test.grade_id] is None, f"empty hidden cell {test.grade_id} raised"
    assert errors["setup"] is None, f"setup cell raised {errors['setup']}"


def test_each_setup_cell_imports_each_name_once():
    from autograder import course
    for assignment in course.current().assignments:
        lines = [line for line in assignment.setup_code.splitlines()
                 if line.startswith(("import ", "from "))]
        assert len(lines) == len(set(lines)), (
            f"{assignment.name}'s setup cell repeats an import: {sorted(lines)}")
        assert assignment.setup_code.count("import numpy as np") == 1, assignment.name
