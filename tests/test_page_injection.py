"""Nothing a student writes can execute or restyle a page the grader writes (issue 17).

An injection corpus (raw HTML, Markdown links, LaTeX commands with HTML inside, ``</math>``
breakouts, notebook outputs of every rich type, TA comments, hostile names) is rendered into
feedback pages and a similarity report. A fast test checks the sanitized HTML as text; a
browser test opens every page in headless Chromium and checks that no script ran, no request
left the page, and the real score line is visible and not covered.

Every attempt that would run sets ``window.__pwned`` (or the title, or opens a dialog), and
every attempt that would load something asks 127.0.0.1:9 (nothing listens there).

The browser test needs the Debian package ``chromium`` (/usr/bin/chromium) and the pip
package ``playwright``; it is skipped without them. Never run ``playwright install``.
"""

import argparse
import re
from html.parser import HTMLParser

import nbformat
import pytest

from autograder import demo
from autograder.grading.notebook_grader import empty_tests
from autograder.outputs import (feedback, feedback_notebook, feedback_results, markdown_html,
                               sanitize, similarity)
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, sync_playwright
from course_under_test import FND, TLN

RUN = "window.__pwned=1"
COVER = ("position:fixed;top:0;left:0;width:100%;height:100%;background:white;z-index:2147483647")
FAKE = "Autograded tests: 30 / 30. Status: ok"

# Markdown cells (and written answers): what a student types.
MARKDOWN = {
    "script tag": f"<script>{RUN}</script>",
    "img onerror": f"<img src=x onerror=\"{RUN}\">",
    "svg onload": f"<svg onload=\"{RUN}\"><circle r=9 /></svg>",
    "iframe javascript": f"<iframe src=\"javascript:parent.{RUN}\"></iframe>",
    "iframe srcdoc": f"<iframe srcdoc=\"<script>parent.{RUN}</script>\"></iframe>",
    "base href": "<base href=\"http://127.0.0.1:9/\">\n\n[relative](x.html) ![i](i.png)",
    "meta refresh": f"<meta http-equiv=\"refresh\" content=\"0;url=javascript:{RUN}\">",
    "form": "<form action=\"http://127.0.0.1:9/\"><button>go</button></form>",
    "style tag": "<style>#score{display:none}body{background:red}</style>",
    "link stylesheet": "<link rel=stylesheet href=\"http://127.0.0.1:9/x.css\">",
    "object": f"<object data=\"javascript:{RUN}\"></object><embed src=\"javascript:{RUN}\">",
    "details ontoggle": f"<details open ontoggle=\"{RUN}\"><summary>x</summary></details>",
    "markdown javascript link": f"[click](javascript:{RUN})",
    "markdown case scheme": f"[click](JaVaScRiPt:{RUN})",
    "markdown entity scheme": f"[click](&#106;avascript:{RUN})",
    "markdown tab scheme": f"[click](java&#x09;script:{RUN})",
    "markdown vbscript": "[click](vbscript:msgbox(1))",
    "markdown data html": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "markdown remote image": "![x](http://127.0.0.1:9/track.png)",
    "markdown protocol relative": "[x](//127.0.0.1:9/x) ![y](//127.0.0.1:9/y.png)",
    "autolink": f"<javascript:{RUN}> <http://127.0.0.1:9/>",
    "text script": f"$\\text{{<script>{RUN}</script>}}$",
    "text img": f"$\\text{{<img/src='x'/onerror={RUN}>}}$",
    "mbox math breakout": f"$\\mbox{{</math><script>{RUN}</script>}}$",
    "mbox math breakout img": f"$\\mbox{{</math><img/src=x/onerror={RUN}>}}$",
    "style cover": f"$\\style{{{COVER}}}{{\\text{{{FAKE}}}}}$",
    "style cover display": f"text\n$$\n\\style{{{COVER}}}{{\\text{{{FAKE}}}}}\n$$\nmore",
    "href javascript": f"$\\href{{javascript:{RUN}}}{{x}}$",
    "class hook": "$\\class{result passed}{x} \\cssId{score}{y}$",
    "unicode html": f"$\\unicode{{<script>{RUN}</script>}}$",
    "mathrm html": f"$\\mathrm{{<img/src=x/onerror={RUN}>}}$",
    "text img slashes and quotes": f"$\\text{{<img/src=\"x\"/onerror=\"{RUN}\">}}$",
    "mbox svg slashes": f"$\\mbox{{<svg/onload={RUN}>}}$",
    "operatorname html": f"$\\operatorname{{<script>{RUN}</script>}}$",
    "display text script": f"$$\\text{{<script>{RUN}</script>}}$$",
    "text style tag": "$\\text{<style>#score{visibility:hidden}</style>}$",
    "text entities": f"$\\text{{&lt;script&gt;{RUN}&lt;/script&gt;}}$",
    "text numeric entities": f"$\\text{{&#60;img src=x onerror={RUN}&#62;}}$",
    "superscript svg": f"$x^{{\\text{{<svg onload={RUN}>}}}}$",
    "text anchor id": f"$\\text{{<a href=\"javascript:{RUN}\" id=\"score\">x</a>}}$",
    "mglyph mxss": f"$\\text{{<table><mglyph><style><img src=x onerror={RUN}>}}$",
    "annotation-xml": f"$\\text{{<annotation-xml encoding=text/html><img src=x onerror={RUN}>}}$",
    "negative space": f"$\\hspace{{-5000em}}\\text{{{FAKE}}}\\hspace{{-5000em}}$",
    "color cover": f"$\\color{{white}}{{\\text{{{FAKE}}}}}\\colorbox{{white}}{{x}}$",
    "noscript mxss": f"$\\text{{<noscript><p title=\"</noscript><img src=x onerror={RUN}>\">}}$",
    "text console": "$\\text{<img/src=x/onerror=console.log('pwned')>}$",
    "comment breakout": f"$\\text{{<!--</math><script>{RUN}</script>-->}}$",
}
SVG = (f"<svg xmlns='http://www.w3.org/2000/svg' onload='{RUN}'><script>{RUN}</script>"
       f"<image href='http://127.0.0.1:9/i.png'/><rect width='9' height='9'/></svg>")
OUTPUTS = {  # {name: a code cell's outputs}
    "html output": [{"output_type": "display_data", "metadata": {}, "data": {
        "text/html": f"<script>{RUN}</script><img src=x onerror='{RUN}'><div style='{COVER}'>"
                     f"{FAKE}</div><a href='javascript:{RUN}'>x</a>", "text/plain": "x"}}],
    "svg output": [{"output_type": "display_data", "metadata": {}, "data": {
        "image/svg+xml": SVG, "text/plain": "svg"}}],
    "markdown output": [{"output_type": "display_data", "metadata": {}, "data": {
        "text/markdown": f"[x](javascript:{RUN}) $\\text{{<script>{RUN}</script>}}$",
        "text/plain": "md"}}],
    "latex output": [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                      "data": {"text/latex": f"$\\text{{<img src=x onerror={RUN}>}}$",
                               "text/plain": "latex"}}],
    "javascript output": [{"output_type": "display_data", "metadata": {}, "data": {
        "application/javascript": RUN, "text/plain": "js"}}],
    "png attribute breakout": [{"output_type": "display_data", "metadata": {}, "data": {
        "image/png": f"x' onerror='{RUN}", "text/plain": "png"}}],
    "stream breakout": [{"output_type": "stream", "name": "stdout",
                         "text": f"</pre><script>{RUN}</script>"}],
    "error breakout": [{"output_type": "error", "ename": f"<script>{RUN}</script>",
                        "evalue": f"<img src=x onerror={RUN}>", "traceback": []}],
}
TA_COMMENT = (f"Good. $\\text{{<script>{RUN}</script>}}$ <img src=x onerror={RUN}> "
              f"[x](javascript:{RUN}) $\\style{{{COVER}}}{{\\text{{{FAKE}}}}}$")
HOSTILE_NAME = f"<script>{RUN}</script>\"><img src=x onerror={RUN}>"
WRITTEN = "derivation_backprop"


class _Markup(HTMLParser):
    """Start tags and attributes of some HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]


OUR_CLASSES = {"passed", "lost", "result", "ta", "pending", "cell", "source", "output", "student",
               "pair"}


def _ours(name, value):
    """Whether a class or id attribute is one the grader writes itself."""
    if name == "class":
        return set(value.split()) <= OUR_CLASSES
    return value in ("score", "cuts") or re.fullmatch(r"pair\d+", value) is not None


def _assert_inert(fragment, what, chrome=False):
    """No script, handler, style, remote load or unsafe link in ``fragment``; ``chrome``: it
    is a whole page body, whose own class and id attributes are the grader's."""
    markup = _Markup()
    markup.feed(fragment)
    assert "<script" not in fragment.lower(), (what, fragment)
    assert not set(markup.tags) & {"script", "style", "iframe", "object", "embed", "base", "meta",
                                   "link", "form", "svg", "input", "button"}, (what, fragment)
    for tag, name, value in markup.attributes:
        assert not name.startswith("on") and name != "style", (what, tag, name)
        assert name not in ("class", "id") or (chrome and _ours(name, value)), (what, tag, name)
        assert tag != "math" or name in ("display", "xmlns"), (what, tag, name)
        plain = re.sub(r"[\s\x00-\x20]", "", value).lower()
        assert not plain.startswith(("javascript:", "vbscript:", "data:text", "//")), (what, value)
        if name == "src":
            assert plain.startswith("data:image/"), (what, value)
    assert not re.search(r"<[^>]*\son\w+\s*=", fragment), (what, fragment)
    assert not re.search(r"<[^>]*\sstyle\s*=", fragment), (what, fragment)
    assert not re.search(r"<[^>]*(javascript|vbscript):", fragment, re.I), (what, fragment)


def test_corpus_is_large_enough():
    assert len(MARKDOWN) + len(OUTPUTS) + 2 >= 40


@pytest.mark.parametrize("name", sorted(MARKDOWN))
def test_markdown_and_math_come_out_inert(name):
    markdown = markdown_html.markdown_renderer()
    _assert_inert(markdown_html.clean_html(markdown, MARKDOWN[name]), name)
    _assert_inert(sanitize.clean(markdown.render(MARKDOWN[name])), name)


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_outputs_come_out_inert(name):
    shown = feedback_notebook._outputs_html(OUTPUTS[name], feedback_notebook._Budget(),
                                            markdown_html.markdown_renderer())
    _assert_inert(shown, name)
    if name == "svg output":
        assert "data:image/svg+xml;base64," in shown and "<svg" not in shown


def test_ta_comment_comes_out_inert():
    grade = {"grade_id": HOSTILE_NAME, "score": 1.0, "points": 4.0, "comment": TA_COMMENT}
    _assert_inert(feedback_results.written_box(grade, markdown_html.markdown_renderer()),
                  "TA comment", True)


def test_sanitizer_keeps_mathml_and_safe_links():
    shown = markdown_html.clean_html(
        markdown_html.markdown_renderer(),
        "$\\frac{a}{b} + x^2$ [site](https://example.org) [anchor](#top) [mail](mailto:a@b.c)"
        "\n\n$$\\sum_{k=1}^K e^{z_k}$$")
    for kept in ("<mfrac>", "<msup>", "<munderover>", 'display="block"',
                 'href="https://example.org"', 'href="#top"', 'href="mailto:a@b.c"'):
        assert kept in shown, (kept, shown)


def _result(message="expected 1"):
    tests = empty_tests(TLN, "failed", "failed")
    for record in tests:
        record.update(points=0.0, message=f"{message} <script>{RUN}</script>")
    written = [{"grade_id": WRITTEN, "score": 1.0, "points": 4.0, "comment": TA_COMMENT}]
    return {"status": "ok", "score": 0.0, "max_score": 30.0, "tests": tests, "cells": {
        "3": {"ok": False, "message": f"<img src=x onerror={RUN}>"}}, "written": written,
        "total": 1.0, "total_max": 36.0, "message": f"<script>{RUN}</script>"}


def _notebook(markdown_cells=(), outputs=None):
    """A submission: the release of two_layer_net, the written answer replaced by the attack
    too, then the attacks as Markdown cells and a code cell with ``outputs``."""
    notebook = nbformat.read(str(TLN.release_notebook), as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == WRITTEN and markdown_cells:
            cell.source = markdown_cells[0]
    notebook.cells[:0] = [nbformat.v4.new_markdown_cell(source) for source in markdown_cells]
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(  # attachments of every kind
        "![a](attachment:a.svg) ![b](attachment:b.png) ![c](attachment:../c.png)",
        attachments={"a.svg": {"image/svg+xml": SVG},
                     "b.png": {"text/html": f"<img src=x onerror={RUN}>", "image/png": "x'y"}}))
    if outputs is not None:
        cell = nbformat.v4.new_code_cell("show()")
        cell.outputs = [nbformat.from_dict(output) for output in outputs]
        notebook.cells.insert(0, cell)
    return notebook


def _pages(folder):
    """{name: path} of one feedback page per attempt, and one similarity report."""
    folder.mkdir(parents=True, exist_ok=True)
    pages = {}
    attempts = [(f"md {name}", [source], None) for name, source in MARKDOWN.items()]
    attempts += [(f"out {name}", [], outputs) for name, outputs in OUTPUTS.items()]
    attempts.append(("everything", list(MARKDOWN.values()),
                     [o for outputs in OUTPUTS.values() for o in outputs]))
    for index, (name, cells, outputs) in enumerate(attempts):
        notebook_path = folder / f"nb{index}.ipynb"
        notebook_path.write_text(nbformat.writes(_notebook(cells, outputs), version=4))
        page = feedback.render(HOSTILE_NAME, HOSTILE_NAME, _result(), notebook_path, TLN)
        pages[name] = folder / f"page{index}.html"
        pages[name].write_text(page)
    pages["minimal page"] = folder / "minimal.html"
    pages["minimal page"].write_text(feedback.minimal_page(HOSTILE_NAME, HOSTILE_NAME, _result()))
    pages["similarity report"] = _similarity_report(folder / "out")
    return pages


def _similarity_report(out):
    """A similarity report of students with hostile names whose code is hostile text."""
    from test_similarity import write
    (out / "results").mkdir(parents=True)
    release = nbformat.read(str(FND.release_notebook), as_version=4)
    code = {"count_parameters": f"def count_parameters(layer_sizes):\n    '''</pre><script>{RUN}"
                                f"</script><img src=x onerror={RUN}>'''\n    return 0\n"}
    for student in (HOSTILE_NAME, f"{HOSTILE_NAME}2"):
        write(out, student, demo.fill(release, code))
    assert similarity.run(argparse.Namespace(out=out, assignment=[FND.name], top=20)) == 0
    return out / "similarity" / f"{FND.name}.html"


def test_pages_and_report_are_inert_as_text(tmp_path):
    for name, path in _pages(tmp_path).items():
        page = path.read_text()
        head = page[page.index("<head>"):page.index("</head>")]
        assert head.startswith('<head><meta http-equiv="Content-Security-Policy"'), name
        assert "script-src &#x27;none&#x27;" in head and "default-src &#x27;none&#x27;" in head
        body = page[page.index("<body>"):]
        _assert_inert(body, name, chrome=True)


@pytest.mark.skipif(sync_playwright is None,
                    reason="the 'playwright' pip package is not installed (pip install playwright; "
                           "do not run 'playwright install')")
@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason=f"{CHROMIUM} is not installed (apt-get install chromium)")
def test_no_script_runs_and_the_score_line_is_never_covered(tmp_path):
    """Every attempt's page, in Chromium: no script, no request, no navigation, the score line
    visible and on top. Control pages made without the walls prove each check can fail."""
    pages = _pages(tmp_path)
    controls = _controls(tmp_path / "controls")
    failures, missed = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            requests, dialogs, logged, current = [], [], [], {"url": ""}

            def only_the_page(route):
                if route.request.url == current["url"]:
                    route.continue_()
                else:  # anything else the page asks for is recorded, and never sent
                    requests.append(route.request.url)
                    route.abort()
            context.route("**/*", only_the_page)
            page = context.new_page()
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.on("request", lambda request: requests.append(request.url))
            page.on("console", lambda message: logged.append(message.text))

            def problems(path):
                requests.clear()
                dialogs.clear()
                logged.clear()
                url = current["url"] = path.resolve().as_uri()
                page.goto(url)
                page.wait_for_timeout(150)  # an onload, a refresh or a lazy image would be here
                state = page.evaluate(PAGE_STATE)
                found = {flag for flag in ("pwned", "no score", "hidden", "covered") if state[flag]}
                found |= {"navigated"} if state["url"] != url else set()
                found |= {"request"} if [r for r in requests if r != url] else set()
                found |= {"dialog"} if dialogs else set()
                found |= {"console"} if [m for m in logged if "pwn" in m.lower()] else set()
                return found, state

            for name, path in pages.items():
                found, state = problems(path)
                if found:
                    failures.append(f"{name}: {sorted(found)}")
                if name == "everything":
                    assert state["fractions"] > 0, "fractions should render as MathML"
                    assert state["blocks"] > 0, "$$...$$ should render as MathML blocks"
            for name, (path, expected) in controls.items():
                found, _ = problems(path)
                if expected not in found:
                    missed.append(f"{name}: expected {expected}, found {sorted(found)}")
        finally:
            browser.close()
    assert not missed, "the checks themselves are broken:\n" + "\n".join(missed)
    assert not failures, "\n".join(failures)


PAGE_STATE = """() => {
    const score = document.getElementById('score');
    const box = score && score.getBoundingClientRect();
    const on = (x, y) => { const hit = document.elementFromPoint(x, y);
                           return !!hit && (hit === score || score.contains(hit)); };
    const math = 'http://www.w3.org/1998/Math/MathML';
    return {pwned: window.__pwned === 1, url: location.href, 'no score': !score,
            hidden: !box || box.width <= 0 || box.height <= 0 ||
                    getComputedStyle(score).visibility !== 'visible',
            covered: !box || !on(box.left + box.width / 2, box.top + box.height / 2) ||
                     !on(box.left + 2, box.top + 2),
            fractions: document.getElementsByTagNameNS(math, 'mfrac').length,
            blocks: [...document.getElementsByTagNameNS(math, 'math')].filter(m =>
                m.getAttribute('display') === 'block' &&
                getComputedStyle(m).display.startsWith('block')).length};
}"""


def _controls(folder):
    """{name: (page, the problem it must show)}: pages without the walls (no sanitizer, no
    CSP), as the grader wrote them before, to prove that each check can fail."""
    from latex2mathml.converter import convert  # its output unescaped, as pages once held
    folder.mkdir(parents=True)
    score = "<p id='score'>Autograded tests: 0 / 30.</p>"
    bodies = {
        "script": (f"<script>{RUN}</script>", "pwned"),
        "unescaped mtext": (convert(f"\\text{{<img/src='x'/onerror={RUN}>}}"), "pwned"),
        "style cover": (convert(f"\\style{{{COVER}}}{{\\text{{{FAKE}}}}}"), "covered"),
        "remote image": ("<img src='http://127.0.0.1:9/x.png'>", "request"),
        "dialog": ("<script>alert(1)</script>", "dialog"),
        "console": ("<script>console.log('pwned')</script>", "console"),
    }
    controls = {}
    for name, (body, expected) in bodies.items():
        path = folder / f"{name.replace(' ', '_')}.html"
        path.write_text(f"<!DOCTYPE html><html><head><title>Feedback</title></head><body>"
                        f"{score}{body}</body></html>")
        controls[name] = (path, expected)
    return controls


def test_attachments_show_as_images_and_nothing_else():
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    cell = ("![plot](attachment:plot.png) ![svg](attachment:x.svg) "
            "![bad](attachment:bad.png) ![none](attachment:none.png)")
    attachments = {"plot.png": {"image/png": png}, "x.svg": {"image/svg+xml": SVG},
                   "bad.png": {"text/html": f"<script>{RUN}</script>"}}
    shown = feedback_notebook._markdown_cell_html(markdown_html.markdown_renderer(), cell,
                                                  attachments, feedback_notebook._Budget())
    _assert_inert(shown, "attachments")
    assert f'src="data:image/png;base64,{png}"' in shown, shown
    assert 'src="data:image/svg+xml;base64,' in shown and shown.count("<img") == 4, shown
    assert "attachment:" not in shown, shown
