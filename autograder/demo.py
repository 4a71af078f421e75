"""Demo submissions: each assignment's release with answer cells filled from
``demo/<assignment>/students/*.py``.

``ada_correct.py`` implements every function (differently from the reference). Every
other file overrides only the functions it defines, on top of ada's, to show one typical
bug. ``fay_untouched`` is the release as handed out. ``demo/<assignment>/written/<student>.md`` holds
the student's written answers (``## <grade_id>`` then the answer), of varied quality, for
TAs to practise grading; an answer a student did not write stays as released.
"""

import ast
import shutil
from pathlib import Path

import nbformat

from autograder import course

CORRECT = "ada_correct"
UNTOUCHED = "fay_untouched"


def functions_in(path: str | Path) -> dict[str, str | None]:
    """{name: source} of the top-level functions in a Python file."""
    text = Path(path).read_text()
    return {node.name: ast.get_source_segment(text, node)
            for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)}


def written_in(path: str | Path) -> dict[str, str]:
    """{grade_id: answer} from a Markdown file of ``## <grade_id>`` sections."""
    if not Path(path).is_file():
        return {}
    answers: dict[str, list[str]] = {}
    current: str | None = None
    for line in Path(path).read_text().splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            answers[current] = []
        elif current is not None:
            answers[current].append(line)
    return {grade_id: "\n".join(lines).strip() for grade_id, lines in answers.items()}


def fill(release: nbformat.NotebookNode, functions: dict[str, str | None],
         written: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """A copy of the release notebook with the answer cells of ``functions`` and the written
    answers of ``written`` (by grade_id) replaced."""
    notebook = nbformat.from_dict(release)
    written = written or {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        name = grade_id.removeprefix("answer_")
        if grade_id.startswith("answer_") and name in functions:
            cell.source = functions[name]
        elif cell.cell_type == "markdown" and grade_id in written:
            cell.source = written[grade_id]
    return notebook


def make_submissions(out: Path, assignments: list[course.Assignment] | None = None) -> list[Path]:
    """Write OUT/<student>/<assignment>/<notebook>.ipynb for every demo student of each of
    ``assignments`` (default: the whole course): the students of
    ``demo/<assignment>/students/``, plus the untouched release. Returns the paths,
    assignment by assignment in course order."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    written = []
    for assignment in assignments or course.current().assignments:
        students = assignment.demo_dir / "students"
        release = nbformat.read(str(assignment.release_notebook), as_version=4)
        base = functions_in(students / f"{CORRECT}.py")
        for path in sorted(students.glob("*.py")):
            functions = dict(base, **functions_in(path))
            answers = written_in(assignment.demo_dir / "written" / f"{path.stem}.md")
            written.append(_write(out, path.stem, assignment, fill(release, functions, answers)))
        written.append(_write(out, UNTOUCHED, assignment, release))
    return written


def _write(out: Path, student: str, assignment: course.Assignment,
           notebook: nbformat.NotebookNode) -> Path:
    path = out / student / assignment.name / f"{assignment.notebook}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, str(path))
    return path
