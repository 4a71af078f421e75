"""Submissions that once broke the whole batch, its memory or its secrecy (issue: "No
submission can break the batch"): each is graded in one batch beside an honest student,
and each must end as a row of its own with a sensible status, its untouched functions'
credit kept, and files (JSON, page) of bounded size that can be written and read.

Students named ``b..`` broke the batch; ``t..`` abuse texts (encodings, terminal codes);
``s..`` sizes; ``l..`` try to leak hidden inputs.
"""

import csv
import json
import os
import re
import subprocess
import types

import nbformat
import pytest

from autograder.discovery import Submission
from autograder.execution import batch as batch_module, pool, task
from autograder.execution.batch import grade_all
from autograder.outputs import feedback, feedback_results, markdown_html, storage
from test_hostile import (ISOLATION, LIMITS, MAX_SCORE, assert_functions_keep_credit,
                          build, describe, hostile_cell, write_submission)
from course_under_test import TLN

NON_UTF8 = b"Jos\xe9"  # Latin-1, as some zip exports write names
RAISING_STR = '''class _Shy(Exception):
    def __str__(self):
        raise RuntimeError("no text for you")


def averageCE(T, P):
    raise _Shy()'''
LEAKING = '''_seen = []


def softmax(x):
    _seen.append(np.asarray(x).tolist())
    raise ValueError("LEAK" + repr(_seen[-1]))


def backprop(X, T, params, cache):
    raise ValueError("LEAK" + repr({k: np.asarray(v).tolist() for k, v in cache.items()}))'''
CELLS = 3000  # cells that each print 20,000 characters and raise a 4,000-character error
FUNCTIONS_NOT_USING = {  # which functions keep credit when one function is broken
    "averageCE": {"relu", "softmax", "compute_layer", "gradCE", "forward", "backprop",
                  "sgd_momentum_step"},
}


def surrogate_markdown_json():
    """ada's notebook as JSON text whose first Markdown cell holds a lone surrogate."""
    text = nbformat.writes(build())
    data = json.loads(text)
    markdown = next(cell for cell in data["cells"] if cell["cell_type"] == "markdown")
    markdown["source"] = "x PLACEHOLDER"
    return json.dumps(data).replace("PLACEHOLDER", "\\ud83d")  # valid JSON, invalid Unicode


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile_batch")
    subs, out = base / "subs", base / "out"
    write_submission(subs, "ada_plain", build())
    write_submission(subs, "b_surrogate_markdown", surrogate_markdown_json())
    write_submission(subs, "b_surrogate_error", build({"averageCE": (
        "def averageCE(T, P):\n    raise ValueError('\\ud800 surrogate')")}))
    write_submission(subs, "b_str_raises", build({"averageCE": RAISING_STR}))
    # a folder whose name is not UTF-8
    latin = write_submission(subs, "latin_placeholder", build())
    os.rename(os.fsencode(latin.parent.parent), os.path.join(os.fsencode(subs), NON_UTF8))
    # 1,100 nested folders inside the submission
    deep = write_submission(subs, "b_deep_folders", build()).parent
    here = os.getcwd()
    try:
        os.chdir(deep)
        for _ in range(1100):
            os.mkdir("d")
            os.chdir("d")
        with open("data.txt", "w") as handle:
            handle.write("deep")
    finally:
        os.chdir(here)
    # a 64 GiB sparse notebook
    sparse = subs / "b_sparse_64gib" / TLN.name / f"{TLN.notebook}.ipynb"
    sparse.parent.mkdir(parents=True)
    with open(sparse, "wb") as handle:
        handle.truncate(64 << 30)
    # one Markdown cell that kept mistune busy for over 20 minutes
    slow = build()
    slow.cells.insert(1, nbformat.v4.new_markdown_cell("*a " * 32000 + "b" + " c*" * 32000))
    write_submission(subs, "b_markdown_slow", slow)
    # thousands of cells that each print and raise
    write_submission(subs, "s_many_noisy_cells", build(at_end=[
        hostile_cell(f"noise{i}", f"print('y' * 20000)\nraise ValueError('E' * 4000 + '{i}')")
        for i in range(CELLS)]))
    # hidden inputs raised back in the student's exception text
    write_submission(subs, "l_raise_inputs", build({"softmax": LEAKING.split("\n\n\ndef backprop")[0],
                                                    "backprop": "def backprop" +
                                                    LEAKING.split("\n\n\ndef backprop")[1]}))
    # a name with a terminal escape code and a newline
    write_submission(subs, "t_escape\x1b[2J\nname", build())
    results, summary = grade_all(subs, out, jobs=2, limits=LIMITS, isolation=ISOLATION)
    by_student = {result["student_id"]: result for result in results}
    yield types.SimpleNamespace(subs=subs, out=out, results=by_student, summary=summary)
    # pytest's own clean-up (shutil.rmtree) recurses once per folder level: remove the
    # deep folders here, where rm walks them without recursion
    subprocess.run(["rm", "-rf", str(deep)], check=False)


def page_of(graded, student):
    return (graded.out / "feedback" / student / TLN.name /
            f"{TLN.notebook}.html").read_bytes().decode("utf-8")


def test_every_submission_gets_a_row_and_a_readable_csv(graded):
    assert graded.results["ada_plain"]["score"] == MAX_SCORE, describe(graded.results["ada_plain"])
    with open(graded.out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert len(rows) == len(graded.results), f"CSV rows {sorted(rows)} vs {sorted(graded.results)}"
    assert "Jos\\xe9" in rows, f"the non-UTF-8 name should appear spelled out: {sorted(rows)}"
    assert "t_escape\\x1b[2J\\nname" in rows, f"control characters must be escaped: {sorted(rows)}"
    for student, result in graded.results.items():
        assert result["status"] != "grader_error", describe(result) + str(result.get("message"))[:500]
        assert not result.get("feedback_error") and not result.get("write_errors"), (
            f"{student!r}: {result.get('feedback_error')} {result.get('write_errors')}")


def test_odd_names_are_graded_in_full(graded):
    for student in (os.fsdecode(NON_UTF8), "t_escape\x1b[2J\nname", "b_deep_folders"):
        result = graded.results[student]
        assert (result["status"], result["score"]) == ("ok", MAX_SCORE), describe(result)


def test_a_lone_surrogate_in_markdown_keeps_the_page(graded):
    result = graded.results["b_surrogate_markdown"]
    assert result["score"] == MAX_SCORE, describe(result)
    page = page_of(graded, "b_surrogate_markdown")
    assert "\ufffd" in page and "Your notebook" in page, page[:500]


def test_a_surrogate_or_unprintable_exception_costs_only_its_function(graded):
    for student in ("b_surrogate_error", "b_str_raises"):
        result = graded.results[student]
        assert result["status"] == "ok", describe(result)
        lost = [t for t in result["tests"] if t["grade_id"].startswith("averageCE")]
        assert lost and all(t["status"] == "error" for t in lost), describe(result)
        assert_functions_keep_credit(result, FUNCTIONS_NOT_USING["averageCE"])
    message = next(t["message"] for t in graded.results["b_str_raises"]["tests"]
                   if t["grade_id"].startswith("averageCE"))
    assert "_Shy" in message and "could not be shown" in message, message


def test_a_huge_sparse_notebook_is_refused_unread(graded):
    result = graded.results["b_sparse_64gib"]
    assert result["status"] == "invalid_notebook" and "MiB" in result["message"], describe(result)


def test_a_pathological_markdown_cell_is_rendered_within_the_limit(graded):
    result = graded.results["b_markdown_slow"]
    assert result["score"] == MAX_SCORE, describe(result)
    page = page_of(graded, "b_markdown_slow")
    assert "shown as text" in page and "Your notebook" in page, (
        "the 192 KB cell should be shown as text on a full page")


def test_thousands_of_noisy_cells_keep_files_small(graded):
    result = graded.results["s_many_noisy_cells"]
    assert result["score"] == MAX_SCORE, describe(result)
    json_bytes = (graded.out / "results" / "s_many_noisy_cells" / TLN.name /
                  f"{TLN.notebook}.json").stat().st_size
    page = page_of(graded, "s_many_noisy_cells")
    # without per-notebook caps: CELLS * 24,000 characters (72 MB) in each file
    assert json_bytes < 4 << 20 and len(page) < 4 << 20, (json_bytes, len(page))
    listed = len(re.findall(r"<li>cell \d+:", page))
    more = re.search(r"<li>\.\.\. and (\d+) more cells</li>", page)
    assert more and listed <= feedback.CELL_PROBLEMS_SHOWN, "the list of failing cells should be cut"
    assert listed + int(more.group(1)) == CELLS, (
        f"{listed} cells listed + {more.group(1)} counted should be the {CELLS} that raised")


def test_hidden_tests_never_show_the_students_exception_text(graded):
    result = graded.results["l_raise_inputs"]
    hidden = [t for t in result["tests"] if t["hidden"] and t["status"] == "error"]
    assert hidden, f"the leaking functions should raise in hidden tests: {describe(result)}"
    for record in hidden:
        shown = feedback_results.public_message(record)
        assert "LEAK" not in shown and "ValueError" in shown, (record["grade_id"], shown)
    page = page_of(graded, "l_raise_inputs")
    for row in re.findall(r"<tr class='\w+'>.*?</tr>", page, flags=re.S):
        if "(hidden)" in row:
            assert "LEAK" not in row, f"a hidden test row shows the student's text: {row[:300]}"


def test_files_are_readable_by_others_as_the_umask_allows(graded):
    for kind, suffix in (("results", ".json"), ("feedback", ".html")):
        path = graded.out / kind / "ada_plain" / TLN.name / f"{TLN.notebook}{suffix}"
        assert path.stat().st_mode & 0o777 == 0o666 & ~storage.UMASK, (path, oct(path.stat().st_mode))


# -- storage and rendering, without grading ---------------------------------------------------
@pytest.mark.parametrize("text", ["[]", "null", '{"status": "ok", "key": "K", "tests": []}',
                                  '{"status": "ok", "key": "K", "score": 1, "max_score": 30, '
                                  '"tests": [1, 2]}', '"just a string"', "[" * 100000])
def test_a_previous_file_that_is_not_a_result_is_regraded(tmp_path, text):
    item = ("ada", TLN.name, TLN.notebook, None)
    storage.result_path(tmp_path, item).parent.mkdir(parents=True)
    storage.result_path(tmp_path, item).write_text(text)
    storage.feedback_path(tmp_path, item).parent.mkdir(parents=True)
    storage.feedback_path(tmp_path, item).write_text("page")
    assert storage.load_previous(tmp_path, item, "K") is None, f"{text[:60]} was reused"


def test_a_full_disk_gives_a_clear_error_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    with pytest.raises(storage.WriteFailed, match="No space left on device"):
        storage.write_csv(tmp_path, [])
    assert sorted(os.listdir(tmp_path)) == [], f"left behind: {os.listdir(tmp_path)}"


def test_a_page_that_takes_too_long_becomes_a_page_of_scores(tmp_path, monkeypatch):
    def slow_render(*args, **kwargs):
        import time
        time.sleep(10)

    monkeypatch.setattr(task, "RENDER_SECONDS", 0.5)
    monkeypatch.setattr(feedback, "render", slow_render)
    result = task.not_graded("missing_notebook", "none", "not run", TLN)
    item = Submission("slow", TLN.name, TLN.notebook, None)
    saved = task.save_result(tmp_path, item, "K", result)
    assert "RenderTimeout" in saved.get("feedback_error", ""), saved.get("feedback_error")
    assert "<table>" in storage.feedback_path(tmp_path, item).read_text()


def test_a_second_grade_on_the_same_out_is_refused(tmp_path):
    with storage.locked(tmp_path):
        with pytest.raises(storage.OutputLocked, match="another `grade`"):
            with storage.locked(tmp_path):
                pass
    with storage.locked(tmp_path):  # released: the next run may go
        pass


def test_math_and_tables_render_without_a_network():
    page = markdown_html.markdown_renderer().render(
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n$$\\mathrm{softmax}(z)_j = \\frac{e^{z_j}}"
        "{\\sum_{k=1}^K e^{z_k}}$$\n\nand $W_1$ <script>alert(1)</script>")
    assert "<table>" in page and "<math" in page and "<msub>" in page, page
    assert "<script>" not in page and "<em>" not in page, page
    assert not re.search(r"src=|href=|<link|@import", page), "the page must not load anything"



# -- the grade process itself ---------------------------------------------------------------
def descendants(pid):
    """Pids of every process below ``pid`` (read from /proc: no extra dependency)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_sigkill_of_grade_leaves_no_grading_or_student_process(tmp_path):
    import sys
    import time
    subs, out = tmp_path / "subs", tmp_path / "out"
    for student in ("sleepy1", "sleepy2", "sleepy3"):
        write_submission(subs, student, build(at_end=[hostile_cell("sleep", "import time\n"
                                                                            "time.sleep(50)")]))
    grade = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(subs), "--out",
                              str(out), "--jobs", "2", "--no-gradebook", "--no-progress"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, below = time.monotonic() + 120, []
        while time.monotonic() < deadline:  # until both pool processes run a student
            below = descendants(grade.pid)
            if len(below) >= 4:
                break
            time.sleep(0.3)
        assert len(below) >= 4, f"the batch did not start its students: {below}"
        grade.kill()
        grade.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(alive(pid) for pid in below):
            time.sleep(0.3)
        left = [pid for pid in below if alive(pid)]
        assert not left, f"processes left after kill -9 of grade: {left}"
    finally:
        if grade.poll() is None:
            grade.kill()


def test_a_second_grade_command_on_a_locked_out_exits_2(tmp_path):
    import sys
    (tmp_path / "subs").mkdir()
    with storage.locked(tmp_path / "out"):
        done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "subs"),
                               "--out", str(tmp_path / "out"), "--no-gradebook"],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "another `grade`" in done.stderr, (done.returncode, done.stderr)


def test_the_summary_table_never_prints_control_characters():
    result = dict(task.not_graded("missing_notebook", "none", "not run", TLN),
                  student_id="evil\x1b]0;owned\x07\nname", assignment=TLN.name,
                  notebook="nb\r")
    table = batch_module.summary_table([result], batch_module.summarize([result], 0))
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", table), repr(table)
    assert "evil\\x1b]0;owned\\x07\\nname" in table, table


def _allocate(size):
    import numpy as np
    try:
        return int(np.ones(size, dtype=np.uint8).sum())
    except MemoryError:
        return "MemoryError"


def test_a_grading_process_cannot_allocate_past_its_cap():
    import concurrent.futures
    import multiprocessing
    cap = 3 << 30
    processes = concurrent.futures.ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("fork"),
        initializer=pool.process_setup, initargs=(os.getpid(), cap))
    with processes:
        small = processes.submit(_allocate, 64 << 20).result(timeout=60)
        huge = processes.submit(_allocate, cap).result(timeout=60)
    assert small == 64 << 20, f"a normal allocation failed: {small}"
    assert huge == "MemoryError", f"an allocation of the whole cap succeeded: {huge}"
