"""End to end in a real browser: a student's JupyterLab Assignments tab (nbgrader's
labextension) fetches the release, submits, and Fetch Feedback brings the page that
``python -m autograder serve`` released, with the score, within a minute.

The exchange, the student's HOME and Jupyter folders are temporary; the service runs as
``python -m autograder serve`` beside ``jupyter lab``; headless Debian Chromium drives the
page (``tests/browser_helpers.py``); no request leaves the machine.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from browser_helpers import (CHROMIUM, CHROMIUM_ARGS, LOCAL_ONLY, NEEDS_BROWSER, as_root_too,
                             free_port, running_server, sync_playwright)
from course_under_test import FND
from exchange_helpers import make_exchange, student
from test_serve import correct_notebook

pytestmark = NEEDS_BROWSER
FEEDBACK_SECONDS = 60


def lab_config(home: Path, exchange) -> None:
    """The student's Jupyter configuration: the exchange, the course, their id; the
    Assignments tab on, formgrader (an instructor's tool) off."""
    config = home / ".jupyter"
    config.mkdir(parents=True, exist_ok=True)
    (config / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.Exchange.root = {str(exchange.root)!r}\n"
        f"c.CourseDirectory.course_id = {exchange.course_id!r}\n"
        f"c.CourseDirectory.student_id = {home.name!r}\n")
    (config / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {
        "jpserver_extensions": {"nbgrader.server_extensions.formgrader": False,
                                "nbgrader.server_extensions.assignment_list": True,
                                "nbgrader.server_extensions.course_list": False}}}))


def test_assignments_tab_submit_then_fetch_feedback_shows_the_score(tmp_path):
    exchange = make_exchange(tmp_path / "exchange", (FND,))
    ada = student(tmp_path, "ada", exchange)
    lab_config(ada.home, exchange)
    env = ada.env()
    serve_log = tmp_path / "serve.log"
    service = subprocess.Popen(
        [sys.executable, "-m", "autograder", "serve", "--exchange", str(exchange.root),
         "--out", str(tmp_path / "out"), "--jobs", "1", "--poll", "0.2", "--log", str(serve_log)],
        env=dict(os.environ, PATH=env["PATH"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port, token = free_port(), secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}"
    command = as_root_too([str(Path(sys.executable).parent / "jupyter-lab"), "--no-browser",
                           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                           "--ServerApp.port_retries=0", f"--ServerApp.token={token}",
                           f"--ServerApp.root_dir={ada.home}", "--LabApp.expose_app_in_browser=True"])
    screenshot = tmp_path / "assignments_feedback.png"
    try:
        with running_server(command, ada.home, env, f"{url}/api/status?token={token}",
                            tmp_path / "lab.log"), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.route(re.compile(LOCAL_ONLY), lambda route: route.abort())
                page = context.new_page()
                page.set_default_timeout(30_000)
                page.goto(f"{url}/lab?token={token}")
                page.wait_for_function("() => window.jupyterapp && jupyterapp.commands"
                                       ".hasCommand('nbgrader:open-assignment-list')", timeout=60_000)
                page.evaluate("() => jupyterapp.commands.execute('nbgrader:open-assignment-list')")

                page.locator("#released_assignments_list").get_by_role("button", name="Fetch").click()
                submit = page.locator("#fetched_assignments_list").get_by_role("button", name="Submit")
                submit.wait_for()
                notebook = ada.home / FND.name / f"{FND.notebook}.ipynb"
                assert notebook.is_file(), f"Fetch did not bring {notebook}"
                nbformat.write(correct_notebook(), str(notebook))  # the student's work
                submitted = time.monotonic()
                submit.click()
                fetch = page.locator("#submitted_assignments_list").get_by_role(
                    "button", name="Fetch Feedback")
                view = page.get_by_text("(view feedback)")
                while not view.count():
                    assert time.monotonic() - submitted < FEEDBACK_SECONDS, (
                        f"no feedback within {FEEDBACK_SECONDS} s; service log:\n"
                        f"{serve_log.read_text()[-3000:]}")
                    fetch.first.click()
                    page.wait_for_timeout(1000)
                view.first.click()  # the file browser goes to the feedback folder
                page.locator(".jp-DirListing-item", has_text=f"{FND.notebook}.html").dblclick()
                frame = page.frame_locator("iframe").first
                score = frame.locator("#score")
                score.wait_for()
                shown = score.inner_text()
                elapsed = time.monotonic() - submitted
                page.screenshot(path=str(screenshot))
            finally:
                browser.close()
    finally:
        service.terminate()
        service.wait(timeout=60)
    assert "Autograded tests: 30 / 30" in shown and "ada" in shown, shown
    assert elapsed < FEEDBACK_SECONDS, f"feedback shown after {elapsed:.0f} s"
    assert screenshot.stat().st_size > 10_000, f"screenshot {screenshot} looks empty"
