"""End to end, in a real browser: a TA grades a written answer in nbgrader's formgrader.

The demo submissions are graded by the CLI (which fills OUT/nbgrader), ``jupyter server``
serves formgrader from that course directory, and headless Chromium (driven by Playwright)
does what a TA does: Manual Grading -> assignment -> notebook -> student, types a score and
a comment for the written question, and tabs out so formgrader saves them. The test then
checks the gradebook, the feedback page that ``nbgrader generate_feedback`` writes, and
the student's one page from ``python -m autograder feedback OUT`` (score, comment, total).

A second submission carries the injection corpus of ``tests/test_gradebook_inert.py`` (raw
HTML, Markdown links and images, MathJax commands, raw cells, outputs, attachments) in its
written answer and other cells; opened in formgrader as a TA opens it, nothing of it may run
(no marker, no title change, no file written, no request to the contents API) while its
answer, scores and grading boxes still show. A canary (the same kind of attempt written
straight into another student's autograded notebook, past the grader) shows that the
checks see a script that runs.

Needs the Debian packages ``chromium`` (/usr/bin/chromium) and the pip package
``playwright``; it is skipped without them. Never run ``playwright install``: the system
Chromium is used.
"""

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import demo
from course_under_test import COURSE, TLN
from browser_helpers import (CHROMIUM, CHROMIUM_ARGS, NEEDS_BROWSER, as_root_too, free_port,
                             running_server, sync_playwright)
from test_gradebook_inert import MARKER, STUDENT_TEXT, hostile_notebook, payload, write_submission

STUDENT = "ben_softmax_epsilon"  # his backprop derivation forgets the ReLU mask
QUESTION = "derivation_backprop"  # the 4-point written question
ANSWER = demo.written_in((TLN.demo_dir / "students").parent / "written" / f"{STUDENT}.md")[QUESTION]
# formgrader loads MathJax 2 from a CDN and, once it is there, sets up its keyboard shortcuts
# (Tab to the next input, Esc to save, Ctrl+. for the next student). Offline we serve this
# stand-in with the bit of MathJax's API that formgrader calls, so the page works as online
# (the maths in the questions just stays as $...$ source).
MATHJAX_STUB = """window.MathJax = {Hub: {Config: function () {}, Queue: function () {},
  Startup: {signal: {Interest: function (listener) {
    setTimeout(function () { listener("End"); }, 0);
  }}}}};"""
SAVE_SECONDS = 15
HOSTILE = "zed_hostile"  # the submission with the injection corpus
CANARY_STUDENT = demo.CORRECT  # its autograded notebook gets a raw attempt, past the grader
SETTLE_MS = 2500  # time for anything the page could run late (onerror, refresh, timers)

pytestmark = NEEDS_BROWSER


def gradebook(course):
    return Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE.course_id)


def cell_state(course):
    """(manual_score, needs_manual_grade, manual_comment, notebook score) of the question."""
    with gradebook(course) as gb:
        grade = gb.find_grade(QUESTION, TLN.notebook, TLN.name, STUDENT)
        comment = gb.find_comment(QUESTION, TLN.notebook, TLN.name, STUDENT)
        total = gb.find_submission_notebook(TLN.notebook, TLN.name, STUDENT).score
        return grade.manual_score, grade.needs_manual_grade, comment.manual_comment, total


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """OUT/nbgrader of the graded demo submissions, plus HOSTILE's (the injection corpus);
    ben wrote the backprop derivation. Shared by the tests of this module (one grading)."""
    tmp_path = tmp_path_factory.mktemp("ta_browser")
    submissions = demo.make_submissions(tmp_path / "submissions", [TLN])
    write_submission(tmp_path / "submissions" / HOSTILE / TLN.name, hostile_notebook())
    path = next(p for p in submissions if p.parts[-3] == STUDENT)
    notebook = nbformat.read(str(path), as_version=4)
    cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == QUESTION]
    assert len(cells) == 1 and cells[0].cell_type == "markdown" and cells[0].source == ANSWER, (
        f"expected one markdown cell {QUESTION} with {STUDENT}'s demo answer in {path}")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "submissions"),
                           "--out", str(out), "--jobs", "2", "--no-progress"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"grade failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    course = out / "nbgrader"
    assert (course / "gradebook.db").exists(), f"no gradebook in {course}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    manual_score, needs_manual, _, _ = cell_state(course)
    assert manual_score is None and needs_manual, (
        f"{STUDENT}'s {QUESTION} should await a TA: manual_score={manual_score}, needs_manual_grade={needs_manual}")
    return course


def offline(route):
    """Route handler for every request that is not to our server: no network in tests."""
    if "mathjax" in route.request.url.lower():
        route.fulfill(status=200, content_type="application/javascript", body=MATHJAX_STUB)
    else:
        route.abort()


@pytest.fixture(scope="module")
def formgrader(course, tmp_path_factory):
    """``jupyter server`` serving formgrader for the course: {"url", "token", "log"}."""
    tmp_path = tmp_path_factory.mktemp("jupyter")
    port, token = free_port(), secrets.token_hex(16)
    config_dir, runtime_dir = tmp_path / "jupyter_config", tmp_path / "jupyter_runtime"
    config_dir.mkdir()
    runtime_dir.mkdir()
    # Our own config dir: no ~/.jupyter settings leak in, and formgrader is on for sure.
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": True}}}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir), JUPYTER_RUNTIME_DIR=str(runtime_dir))
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    command = as_root_too([sys.executable, "-m", "jupyter_server", "--no-browser",
                           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                           "--ServerApp.port_retries=0", f"--ServerApp.token={token}",
                           f"--ServerApp.root_dir={course}", "--ServerApp.open_browser=False"])
    log_path = tmp_path / "jupyter_server.log"
    url = f"http://127.0.0.1:{port}"
    with running_server(command, course, env, f"{url}/formgrader/gradebook?token={token}", log_path):
        yield {"url": url, "token": token, "log": log_path}


def open_submission(page, formgrader, student, submission_id):
    """Click from formgrader's start page to ``student``'s submission, as the TA tutorial's
    steps say (docs/tutorials/ta.md): Manual Grading -> assignment -> notebook -> Show All
    Names -> the student."""
    page.goto(f"{formgrader['url']}/formgrader?token={formgrader['token']}")
    assert page.url.endswith("/formgrader/manage_assignments"), f"formgrader opened {page.url}"
    page.get_by_role("link", name="Manual Grading", exact=True).first.click()
    page.wait_for_url("**/formgrader/gradebook")
    table = page.locator("#main-table")
    table.get_by_role("link", name=TLN.name, exact=True).click()
    page.wait_for_url(f"**/formgrader/gradebook/{TLN.name}")
    table.get_by_role("link", name=TLN.notebook, exact=True).click()
    page.wait_for_url(f"**/formgrader/gradebook/{TLN.name}/{TLN.notebook}")
    table.get_by_role("link", name="Submission #1", exact=True).wait_for()
    page.get_by_role("button", name="Show All Names").click()
    row = table.locator("tr", has=page.get_by_role("link", name=student, exact=True))
    row.get_by_role("link", name=student, exact=True).click()
    page.wait_for_url(f"**/formgrader/submissions/{submission_id}/")
    page.wait_for_function("() => window.formgrader && formgrader.loaded"
                           " && formgrader.grades.loaded && formgrader.comments.loaded")
    return row


def test_ta_grades_written_answer_in_formgrader_and_it_reaches_the_feedback(course, formgrader, tmp_path):
    comment = f"Right shapes, but the ReLU mask is missing from dL/db1 (check {uuid.uuid4().hex[:8]})."
    _, _, _, total_before = cell_state(course)
    with gradebook(course) as gb:
        submission = gb.find_submission_notebook(TLN.notebook, TLN.name, STUDENT)
        submission_id, max_score = submission.id, submission.max_score
    screenshot = tmp_path / "formgrader_derivation_backprop.png"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            page.route(re.compile(r"^(?!http://127\.0\.0\.1:\d+/)"), offline)
            errors = []
            page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))

            page.goto(f"{formgrader['url']}/formgrader?token={formgrader['token']}")
            assert page.url.endswith("/formgrader/manage_assignments"), f"formgrader opened {page.url}"
            page.get_by_role("link", name="Manual Grading", exact=True).first.click()
            page.wait_for_url("**/formgrader/gradebook")
            table = page.locator("#main-table")
            table.get_by_role("link", name=TLN.name, exact=True).click()
            page.wait_for_url(f"**/formgrader/gradebook/{TLN.name}")
            table.get_by_role("link", name=TLN.notebook, exact=True).click()
            page.wait_for_url(f"**/formgrader/gradebook/{TLN.name}/{TLN.notebook}")
            table.get_by_role("link", name="Submission #1", exact=True).wait_for()
            page.get_by_role("button", name="Show All Names").click()
            row = table.locator("tr", has=page.get_by_role("link", name=STUDENT, exact=True))
            assert row.locator(".needs-manual-grade .glyphicon-ok").count() == 1, (
                f"the submission list does not flag {STUDENT} as needing manual grading: {row.inner_text()!r}")
            row.get_by_role("link", name=STUDENT, exact=True).click()
            page.wait_for_url(f"**/formgrader/submissions/{submission_id}/")

            score = page.locator(f"input.score#{QUESTION}")
            remark = page.locator(f"textarea.comment#{QUESTION}-comment")
            cell = page.locator(".nbgrader_cell", has=score)
            page.wait_for_function("() => window.formgrader && formgrader.loaded"
                                   " && formgrader.grades.loaded && formgrader.comments.loaded")
            assert "needs_manual_grade" in (score.get_attribute("class") or ""), (
                f"formgrader does not mark {QUESTION} as needing a manual grade: {score.get_attribute('class')!r}")
            assert "Going back" in cell.inner_text(), (
                f"the grading page does not show {STUDENT}'s answer: {cell.inner_text()[:500]!r}")

            score.click()
            score.press_sequentially("3")
            score.press("Tab")  # leaving the input fires 'change': formgrader saves the score
            remark.click()
            remark.press_sequentially(comment)
            remark.press("Tab")  # same for the comment

            deadline = time.monotonic() + SAVE_SECONDS
            while True:
                manual_score, needs_manual, saved_comment, total = cell_state(course)
                if manual_score == 3 and saved_comment == comment:
                    break
                assert time.monotonic() < deadline, (
                    f"formgrader did not save within {SAVE_SECONDS} s: manual_score={manual_score!r}, "
                    f"comment={saved_comment!r}; server log:\n{formgrader['log'].read_text()[-3000:]}")
                time.sleep(0.2)
            page.locator(".navbar .glyphicon-eye-open.name-hidden").click()  # show the student's name
            assert page.locator(".navbar .live-notebook a.name-shown").inner_text().strip() == STUDENT, (
                f"the navigation bar does not name {STUDENT}: {page.locator('.navbar').inner_text()!r}")
            # the question and the graded cell, below formgrader's fixed navigation bar
            page.wait_for_function("() => jQuery(':animated').length === 0")  # formgrader's scrolling
            cell.evaluate("cell => window.scrollBy(0, cell.getBoundingClientRect().top - 240)")
            page.screenshot(path=str(screenshot))
        finally:
            browser.close()

    assert not errors, f"JavaScript errors in formgrader: {errors}"
    assert screenshot.stat().st_size > 10_000, f"screenshot {screenshot} looks empty"
    assert not needs_manual, f"{QUESTION} still needs manual grading after the TA scored it"
    assert total == total_before + 3, f"notebook score {total}, expected {total_before} + 3"

    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", TLN.name,
                           "--student", STUDENT, "--force"], cwd=course, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"generate_feedback failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    page_path = course / "feedback" / STUDENT / TLN.name / f"{TLN.notebook}.html"
    assert page_path.exists(), f"no feedback page at {page_path}:\n{done.stderr[-2000:]}"
    html = page_path.read_text()
    assert comment in html, f"the TA's comment {comment!r} is not in {page_path}"
    assert f'href="#{QUESTION}">Written response</a> (Score: 3.0 / 4.0)' in html, (
        f"{page_path} does not show 3.0 / 4.0 for {QUESTION}")
    header = f"{TLN.notebook} (Score: {float(total):.1f} / {float(max_score):.1f})"
    assert header in html, (
        f"{page_path} does not show the new total {header!r}: {re.findall(r'[(]Score: [^)]*[)]', html)[:3]}")

    # the student's one page: autograded tests, the TA's score and comment, one total
    done = subprocess.run([sys.executable, "-m", "autograder", "feedback", str(course.parent)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"autograder feedback failed:\n{done.stderr[-2000:]}"
    ours = (course.parent / "feedback" / STUDENT / TLN.name /
            f"{TLN.notebook}.html").read_text()
    assert f"{QUESTION}: 3 / 4</b> (graded by a TA)" in ours, "our page lacks the TA's score"
    assert comment.split(" (check")[0] in ours, "our page lacks the TA's comment"
    assert f"Total so far: <b>{float(total):g} / {float(max_score):g}</b>" in ours, (
        f"our page's total should equal nbgrader's {total} / {max_score}: "
        f"{re.findall(r'Total[^<]*<b>[^<]*</b>', ours)}")


# What in the shown notebook could run, load or cover the page (formgrader's own nav bar and
# scripts are outside #notebook-container).
DOM_PROBLEMS = r"""() => {
  const problems = [];
  const root = document.querySelector('#notebook-container');
  if (!root) return ['no #notebook-container'];
  const banned = ['script', 'style', 'iframe', 'frame', 'object', 'embed', 'form', 'meta', 'base',
                  'link', 'svg', 'math', 'details', 'template', 'video', 'audio', 'source'];
  for (const el of root.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (banned.includes(tag)) problems.push('<' + tag + '>');
    for (const attr of el.attributes) {
      const value = attr.value.replace(/[\u0000-\u0020]+/g, '').toLowerCase();
      if (attr.name.startsWith('on')) problems.push(tag + ' ' + attr.name);
      if (value.startsWith('javascript:') || value.startsWith('vbscript:') ||
          (value.startsWith('data:') && !/^data:image\/(png|jpeg|gif);/.test(value)))
        problems.push(tag + ' ' + attr.name + '=' + value.slice(0, 40));
      if (attr.name === 'srcdoc' || attr.name === 'formaction') problems.push(tag + ' ' + attr.name);
    }
    if (getComputedStyle(el).position === 'fixed') problems.push(tag + ' position: fixed');
  }
  return problems;
}"""


def course_files(course):
    return {str(p.relative_to(course)) for p in course.rglob("*")}


def test_a_hostile_submission_runs_nothing_in_formgrader(course, formgrader, tmp_path):
    with gradebook(course) as gb:
        hostile_id = gb.find_submission_notebook(TLN.notebook, TLN.name, HOSTILE).id
        canary_id = gb.find_submission_notebook(TLN.notebook, TLN.name, CANARY_STUDENT).id
    files_before = course_files(course)
    requests, dialogs, errors = [], [], []
    screenshot = tmp_path / "formgrader_hostile.png"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route(re.compile(r"^(?!http://127\.0\.0\.1:\d+/)"), offline)
            context.on("request", lambda request: requests.append((request.method, request.url)))
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))

            open_submission(page, formgrader, HOSTILE, hostile_id)
            notebook = page.locator("#notebook-container")
            for link in notebook.locator("a").all():  # hover every link a TA might pass over
                link.hover()
            page.wait_for_timeout(SETTLE_MS)
            markers = [name for frame in page.frames for name in frame.evaluate(
                f"() => Object.keys(window).filter(k => k.startsWith('{MARKER}'))")]
            title, url = page.title(), page.url
            dom_problems = page.evaluate(DOM_PROBLEMS)
            score = page.locator(f"input.score#{QUESTION}")
            remark = page.locator(f"textarea.comment#{QUESTION}-comment")
            cell = page.locator(".nbgrader_cell", has=score)
            answer = cell.inner_text()
            clobbered = page.evaluate(f"() => document.querySelectorAll('[id=\"{QUESTION}\"]').length")
            score.scroll_into_view_if_needed()
            on_top = score.evaluate("el => { const r = el.getBoundingClientRect();"
                                    " return document.elementFromPoint(r.x + r.width / 2,"
                                    " r.y + r.height / 2) === el; }")
            tests_shown = page.locator(".code_cell", has=page.locator(
                "input.score#relu_handout_table")).inner_text()
            boxes = (score.count(), remark.count())
            page.screenshot(path=str(screenshot))
            hostile_requests = list(requests)

            # The canary: an attempt written straight into another student's autograded
            # notebook (not through the grader) runs: the checks above would have seen it.
            canary_path = course / "autograded" / CANARY_STUDENT / TLN.name / f"{TLN.notebook}.ipynb"
            canary = nbformat.read(str(canary_path), as_version=4)
            canary.cells.append(nbformat.v4.new_markdown_cell(f'<img src=x onerror="{payload("canary")}">'))
            canary_path.chmod(0o644)
            nbformat.write(canary, str(canary_path))
            open_submission(page, formgrader, CANARY_STUDENT, canary_id)
            page.wait_for_function(f"() => window.{MARKER}_canary === 1")
            deadline = time.monotonic() + SAVE_SECONDS
            while not (course / f"{MARKER}_canary.txt").exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            canary_title = page.title()
        finally:
            browser.close()

    assert markers == [], f"student scripts ran in formgrader: {markers}"
    assert MARKER not in title, f"the page title was changed to {title!r}"
    assert urllib.parse.urlsplit(url).path == f"/formgrader/submissions/{hostile_id}/", (
        f"the page went to {url}")
    assert dialogs == [], f"dialogs opened: {dialogs}"
    assert dom_problems == [], f"the shown notebook holds active content: {dom_problems}"
    contents_calls = [(method, address) for method, address in hostile_requests
                      if re.match(r"^http://127\.0\.0\.1:\d+/api/contents", address)]
    assert contents_calls == [], f"requests to the contents API: {contents_calls}"
    written = sorted(f for f in course_files(course) - files_before
                     if MARKER in f and f != f"{MARKER}_canary.txt")
    assert written == [], f"files written into the course directory: {written}"
    assert STUDENT_TEXT in answer and "over the rows" in answer, (
        f"the written answer is not shown: {answer[:500]!r}")
    assert "<img src=x onerror=" in answer, "the student's markup is shown as text"
    assert clobbered == 1, f"{clobbered} elements have the score box's id {QUESTION!r}"
    assert on_top, "something covers the score box"
    assert boxes == (1, 1), f"(score boxes, comment boxes) of {QUESTION}: {boxes}"
    assert "passed: relu_handout_table" in tests_shown, f"test result not shown: {tests_shown[:300]!r}"
    assert screenshot.stat().st_size > 10_000, f"screenshot {screenshot} looks empty"
    canary_calls = [call for call in requests[len(hostile_requests):] if "/api/contents/" in call[1]]
    assert canary_calls and (course / f"{MARKER}_canary.txt").exists() and MARKER in canary_title, (
        "the canary did not run: the checks above could not see a script that runs")
    assert not [e for e in errors if f"/submissions/{hostile_id}/" in e], f"JavaScript errors: {errors}"
