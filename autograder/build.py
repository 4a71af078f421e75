"""Build the instructor's source notebook from the reference, then the student release.

The pipeline, in order (each step needs the previous one's output):

1. ``source_notebook``: the assignment's template ``autograder/assignment/<name>.md`` is
   cut into blocks; each block becomes cells. ``answer f`` blocks take ``f``'s code from
   its reference (``solutions/<name>/``) with its body inside ``### BEGIN/END SOLUTION``;
   ``tests f`` blocks take every graded test whose grade_id starts with ``f_`` from its
   suite (``autograder/suite/<name>/``; hidden tests inside ``### BEGIN/END HIDDEN TESTS``).
2. ``release``: ``nbgrader generate_assignment`` turns the source notebook into the student
   notebook (stubs, hidden tests removed, cells locked, checksums) in a scratch course
   directory, with the student helper package ``nnlab`` (shared modules and the
   assignment's own subpackage) beside it; the result is copied to ``notebooks/<name>/``.
"""

import ast
import dataclasses
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import nbformat

from autograder import config, course, hidden
from autograder.graded import GradedTest

# Cell kinds the template may use, and what each takes.
BLOCK_KINDS = {"markdown": 0, "setup": 0, "demo": 0, "answer": 1, "check": 1, "tests": 1,
               "manual": 2}


@dataclasses.dataclass
class Block:
    kind: str
    args: list[str]
    body: str
    line: int


def parse_template(text: str) -> list[Block]:
    """Cut a template into blocks; a line ``%% kind args`` starts each block."""
    blocks = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("%% "):
            kind, *args = line[3:].split()
            if kind not in BLOCK_KINDS or len(args) != BLOCK_KINDS[kind]:
                raise ValueError(f"template line {number}: bad block header {line!r}")
            blocks.append(Block(kind, args, "", number))
        elif not blocks:
            raise ValueError(f"template line {number}: text before the first '%% ' header")
        else:
            blocks[-1].body += line + "\n"
    return blocks


def answer_source(function: Callable[..., Any]) -> str:
    """The function's source with its body (after the docstring) as a solution region."""
    lines = textwrap.dedent(inspect.getsource(function)).rstrip().splitlines()
    definition = cast(ast.FunctionDef, ast.parse("\n".join(lines)).body[0])  # a def
    first = definition.body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    split = first.end_lineno if has_doc else definition.body[0].lineno - 1
    return "\n".join(lines[:split] + ["    ### BEGIN SOLUTION"] + lines[split:]
                     + ["    ### END SOLUTION"])


def _nbgrader(grade_id: str, *, grade: bool = False, solution: bool = False,
              locked: bool = False, points: float | None = None) -> dict[str, dict[str, Any]]:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def test_cell_source(test: GradedTest) -> str:
    code = f"{test.source()}\n\nrun_test({test.grade_id}, globals())"
    header = f"# Test {test.grade_id} ({test.points:g} point{'s' if test.points != 1 else ''})"
    if test.hidden:
        return f"{header}: hidden, runs when your work is graded\n### BEGIN HIDDEN TESTS\n{code}\n### END HIDDEN TESTS"
    return f"{header}\n{code}"


def tests_for(assignment: course.Assignment, name: str) -> list[GradedTest]:
    found = [test for test in assignment.tests if assignment.target_of(test) == name]
    if not found:
        raise ValueError(f"no graded test's grade_id starts with {name}_")
    return found


def cells_for(block: Block, assignment: course.Assignment) -> list[nbformat.NotebookNode]:
    """The notebook cells one template block of ``assignment`` turns into."""
    functions = {function.__name__: function for function in assignment.reference}
    new_code, new_markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    if block.kind == "markdown":
        return [new_markdown(block.body.strip())]
    if block.kind == "setup":
        return [new_code(assignment.setup_code, metadata=_nbgrader("setup", locked=True))]
    if block.kind == "demo":
        return [new_code(block.body.strip(), metadata={"nnlab": {"demo": True}})]
    if block.kind == "check":  # the student's self-check; like demos, not run when grading
        return [new_code(f'check("{block.args[0]}")', metadata={"nnlab": {"demo": True}})]
    if block.kind == "answer":
        name = block.args[0]
        if name not in functions:
            raise ValueError(f"template line {block.line}: solutions has no function {name}")
        return [new_code(answer_source(functions[name]),
                         metadata=_nbgrader(f"answer_{name}", solution=True))]
    if block.kind == "tests":
        return [new_code(test_cell_source(test),
                         metadata=_nbgrader(test.grade_id, grade=True, locked=True,
                                            points=test.points))
                for test in tests_for(assignment, block.args[0])]
    grade_id, points = block.args  # manual
    source = f"### BEGIN SOLUTION\n{block.body.strip()}\n### END SOLUTION"
    return [new_markdown(source, metadata=_nbgrader(grade_id, grade=True, solution=True,
                                                    points=float(points)))]


def source_notebook(assignment: course.Assignment) -> nbformat.NotebookNode:
    """The instructor's source notebook (nbformat node) built from its template."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for block in parse_template(assignment.template.read_text()):
        notebook.cells.extend(cells_for(block, assignment))
    for index, cell in enumerate(notebook.cells):
        cell.id = f"c{index:02d}"  # stable ids keep the build reproducible
    answered = {c.metadata["nbgrader"]["grade_id"] for c in notebook.cells
                if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    missing = sorted({f"answer_{name}" for name in assignment.functions} - answered)
    if missing:
        raise ValueError(f"the template has no answer block for {missing}")
    tested = {c.metadata["nbgrader"]["grade_id"] for c in notebook.cells
              if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}
    untested = sorted({test.grade_id for test in assignment.tests} - tested)
    if untested:
        raise ValueError(f"the template has no tests block for {untested}")
    return notebook


def write_notebook(notebook: nbformat.NotebookNode, path: str | os.PathLike[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(notebook)
    path.write_text(nbformat.writes(notebook) + "\n")


def nbgrader_env() -> dict[str, str]:
    """Environment for nbgrader commands: the interpreter's bin/ first (nbgrader runs alembic)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def copy_student_package(destination: str | os.PathLike[str],
                         assignment: course.Assignment) -> None:
    """``nnlab/`` as ``assignment``'s students get it: the shared modules and its own
    subpackage ``nnlab/<name>/``, without the other assignments' subpackages."""
    others = set(course.current().names) - {assignment.name}
    caches = shutil.ignore_patterns("__pycache__", "*.pyc")

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = set(caches(folder, names))
        if Path(folder) == config.STUDENT_PACKAGE:
            skipped |= others & set(names)
        return skipped

    shutil.copytree(config.STUDENT_PACKAGE, Path(destination) / "nnlab", ignore=ignore)


def student_requirements() -> str:
    """The release's requirements.txt: the student's packages at the lock's versions."""
    pins = {}
    for line in config.LOCK_FILE.read_text().splitlines():
        name, _, version = line.partition("==")
        if version and not line.startswith("#"):
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    lines = [f"{name}=={pins[name]}" if name in pins else name
             for name in config.STUDENT_REQUIREMENTS]
    return ("# What the notebook needs: pip install -r requirements.txt\n"
            + "\n".join(lines) + "\n")


# nbgrader's validate runs every cell, the training demos included, with a 30 s limit per cell
# by default: the release's own configuration gives a finished notebook room on a slow laptop.
RELEASE_NBGRADER_CONFIG = """\
# Read by nbgrader (validate, the Validate button) when Jupyter starts in this folder.
c = get_config()  # noqa: F821 (defined by traitlets when it loads this file)
c.Execute.timeout = 300  # seconds per cell: the training cells take up to a minute
"""


def release(assignment: course.Assignment, source_path: str | os.PathLike[str],
            release_dir: str | os.PathLike[str]) -> Path:
    """Run ``nbgrader generate_assignment`` on the source; put the release in release_dir.

    The release is self-contained, so it works wherever it is copied: the notebook, a copy
    of the helper package ``nnlab/`` (its shared modules and this assignment's own, real
    files, no links), ``requirements.txt`` and ``nbgrader_config.py`` (validate's cell
    timeout).
    """
    with tempfile.TemporaryDirectory(prefix="nbgrader-build-") as folder:
        source_dir = Path(folder) / "source" / assignment.name
        source_dir.mkdir(parents=True)
        shutil.copy(source_path, source_dir / f"{assignment.notebook}.ipynb")
        copy_student_package(source_dir, assignment)
        (source_dir / "requirements.txt").write_text(student_requirements())
        (source_dir / "nbgrader_config.py").write_text(RELEASE_NBGRADER_CONFIG)
        command = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment.name,
                   "--force", f"--CourseDirectory.root={folder}",
                   f"--CourseDirectory.course_id={course.current().course_id}"]
        done = subprocess.run(command, cwd=folder, env=nbgrader_env(), capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment failed:\n{done.stdout}\n{done.stderr}")
        if Path(release_dir).is_symlink() or Path(release_dir).is_file():
            Path(release_dir).unlink()
        elif Path(release_dir).exists():
            shutil.rmtree(release_dir)
        shutil.copytree(Path(folder) / "release" / assignment.name, release_dir)
    return Path(release_dir)


def build(assignment: course.Assignment, source_path: str | os.PathLike[str] | None = None,
          release_dir: str | os.PathLike[str] | None = None) -> tuple[Path, Path]:
    """Both steps for one assignment; returns (source notebook path, release directory).

    Also makes the course secret the hidden tests draw their inputs from
    (``autograder.hidden``, ``<course root>/.course-secret``) when it is missing: it stays
    with the instructor's files, never in the release."""
    hidden.ensure_secret()
    source_path = Path(source_path or assignment.source_notebook)
    write_notebook(source_notebook(assignment), source_path)
    return source_path, release(assignment, source_path, release_dir or assignment.release_dir)


EDITOR_DEBRIS = ("__pycache__", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db", "desktop.ini")


def is_debris(relative: Path) -> bool:
    """True for what editors and interpreters leave in a release folder (JupyterLab's
    ``.ipynb_checkpoints``, Python's caches, Finder's ``.DS_Store``, backups ``*~``, ``*.pyc``):
    never part of a release, never a reason to call it stale."""
    return any(part in EDITOR_DEBRIS or part.endswith("~") or part.startswith(".~lock.")
               for part in relative.parts) or relative.suffix == ".pyc"


def zip_release(assignment: course.Assignment, target: str | os.PathLike[str]) -> Path:
    """The release folder as one zip (``<assignment>/...`` inside), to hand out."""
    target = Path(target)
    if target.is_dir():  # a folder: the zip goes in it, named after the assignment
        target = target / f"{assignment.name}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(assignment.release_dir.rglob("*")):
            if path.is_file() and not is_debris(path.relative_to(assignment.release_dir)):
                archive.write(path, Path(assignment.name) / path.relative_to(assignment.release_dir))
    return target
