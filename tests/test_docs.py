"""The documentation site (mkdocs.yml, docs/): it builds in strict mode (no broken link or
anchor, the generated reference pages included), and the commands its pages tell you to run
do run.

Every ```bash block of a page in the nav (but docs/serving.md, whose
commands start a service and which another change owns) is run,
page by page in nav order, in one copy of the repository (so the LMS page finds the grades
the instructor's tutorial made), unless the line just above it is an annotation
``<!-- not run in tests: REASON -->``. Blocks in other shell dialects (sh, shell, console) are
refused so that none escapes this rule.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
VENV_BIN = Path(sys.executable).parent
NOT_RUN = re.compile(r"^<!--\s*not run in tests:\s*(?P<reason>.*?)\s*-->$")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)(?:\s.*)?$")
OTHER_SHELLS = {"sh", "shell", "console", "zsh", "shell-session"}
OWN_TESTS = {"serving.md"}  # its commands start a service; the serve change owns the page
BLOCK_SECONDS = 300


def nav_pages():
    """The Markdown files of the nav, in nav order (generated pages are not files)."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = []

    def walk(entry):
        if isinstance(entry, str):
            pages.append(entry)
        elif isinstance(entry, dict):
            for value in entry.values():
                walk(value)
        elif isinstance(entry, list):
            for item in entry:
                walk(item)

    walk(config["nav"])
    return [page for page in pages if (DOCS / page).is_file()]


def blocks(page):
    """[(line number, language, code, reason it is not run or None)] of a page's fenced blocks."""
    lines = (DOCS / page).read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        indent, start = fence["indent"], i
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        previous = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        annotation = NOT_RUN.match(previous)
        found.append((start + 1, fence["lang"], "\n".join(body),
                      annotation["reason"] if annotation else None))
        i += 1
    return found


PAGES = [page for page in nav_pages() if page not in OWN_TESTS]
RUN_PAGES = [page for page in PAGES
             if any(lang == "bash" and reason is None for _, lang, _, reason in blocks(page))]


def test_the_site_builds_in_strict_mode(tmp_path):
    site = tmp_path / "site"
    run = subprocess.run([str(VENV_BIN / "mkdocs"), "build", "--strict", "--site-dir", str(site)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout}\n{run.stderr}"
    cli = (site / "reference" / "cli" / "index.html").read_text()
    for command in ("build", "grade", "feedback", "export", "similarity", "gradescope", "release"):
        assert f"python -m autograder {command}" in cli, f"the CLI page lacks {command}"
    statuses = (site / "reference" / "statuses" / "index.html").read_text()
    from autograder.records import RowStatus, TestStatus
    missing = [s.value for s in (*RowStatus, *TestStatus) if f"<code>{s.value}</code>" not in statuses]
    assert not missing, f"the generated statuses page lacks {missing}"
    assert "def load" in (site / "reference" / "course-toml" / "index.html").read_text() or \
        "autograder.course.load" in (site / "reference" / "course-toml" / "index.html").read_text()


def test_every_shell_block_is_bash_and_run_or_annotated():
    run = 0
    for page in PAGES:
        text = (DOCS / page).read_text()
        for line, lang, code, reason in blocks(page):
            where = f"docs/{page}:{line}"
            assert lang not in OTHER_SHELLS, f"{where}: write shell commands as ```bash blocks"
            if lang != "bash":
                assert reason is None, f"{where}: a not-run annotation above a {lang or 'plain'} block"
                continue
            assert reason is None or reason.strip(), f"{where}: say why the block is not run"
            assert code.strip(), f"{where}: an empty bash block"
            run += reason is None
        dangling = [m.start() for m in re.finditer(r"<!--\s*not run in tests", text)]
        annotated = sum(reason is not None for *_, reason in blocks(page))
        assert len(dangling) == annotated, f"docs/{page}: a not-run annotation is not right above a bash block"
    assert run >= 10, f"only {run} bash blocks are run: the annotation is meant for exceptions"


def test_course_toml_page_names_every_field_the_code_reads():
    tree = ast.parse((ROOT / "autograder" / "course.py").read_text())
    keys = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
                and node.value.id in {"raw", "data"} and isinstance(node.slice, ast.Constant)):
            keys.add(node.slice.value)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "get" and isinstance(node.func.value, ast.Name)
              and node.func.value.id in {"raw", "data"} and node.args
              and isinstance(node.args[0], ast.Constant)):
            keys.add(node.args[0].value)
        elif (isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant)
              and any(isinstance(c, ast.Name) and c.id in {"raw", "data"} for c in node.comparators)):
            keys.add(node.left.value)
    assert {"course_id", "assignment", "name"} <= keys, f"course.py reads {keys}: update this test"
    page = (DOCS / "reference" / "course-toml.md").read_text()
    missing = [k for k in keys if not any(f"`{spelled}`" in page for spelled in (k, f"assignment.{k}", f"[[{k}]]"))]
    assert not missing, f"docs/reference/course-toml.md does not describe {missing}"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A copy of the repository (its .venv linked) and the pages already run in it."""
    copy = tmp_path_factory.mktemp("docs") / "repo"
    top_only = {".git", ".venv", "build", "site", "out"}  # made here, or large

    def ignore(folder, names):
        skipped = {n for n in names if n in {"__pycache__", ".pytest_cache"} or n.endswith(".egg-info")}
        return skipped | (top_only & set(names) if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, copy, symlinks=True, ignore=ignore)
    (copy / ".venv").symlink_to(VENV_BIN.parent)
    return {"path": copy, "done": []}


def run_page(checkout, page):
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
    for line, lang, code, reason in blocks(page):
        if lang != "bash" or reason is not None:
            continue
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=checkout["path"],
                             env=env, capture_output=True, text=True, timeout=BLOCK_SECONDS,
                             stdin=subprocess.DEVNULL)
        assert run.returncode == 0, (
            f"docs/{page}:{line}: the block exited {run.returncode}\n{code}\n"
            f"--- stdout\n{run.stdout[-4000:]}\n--- stderr\n{run.stderr[-4000:]}")
    checkout["done"].append(page)


@pytest.mark.parametrize("page", RUN_PAGES)
def test_the_commands_of_the_page_run(checkout, page):
    for earlier in RUN_PAGES[:RUN_PAGES.index(page)]:  # pages build on the ones before
        if earlier not in checkout["done"]:
            run_page(checkout, earlier)
    run_page(checkout, page)
