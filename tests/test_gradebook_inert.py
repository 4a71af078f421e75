"""What formgrader shows the TA of a submission is inert (issue 17, item 2).

formgrader renders the notebooks under ``OUT/nbgrader/autograded/`` with nbconvert's HTML
exporter, unsanitized, in the TA's logged-in Jupyter session. A submission here carries
one injection attempt per entry of ``ATTACKS`` (raw HTML, Markdown links and images,
MathJax commands, raw cells, outputs, attachments, metadata), each of which would set a
marker (``top.pwned_<name>``, the page title) and create ``pwned_<name>.txt`` through the
Jupyter contents API. Here, without a browser: the copy the gradebook pass writes, and the
page formgrader's own exporter makes of it, contain nothing that runs or loads, and still
show the written answer, the test results and the grading boxes. ``tests/test_ta_browser.py``
opens the same submission in formgrader in headless Chromium.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbconvert.exporters import HTMLExporter
from nbgrader.api import Gradebook
from nbgrader.server_extensions.formgrader import handlers
from traitlets.config import Config

from autograder import demo
from autograder.cells import grade_id_of
from autograder.gradebook import formgrader_check, inert, markdown_escape, sync as gradebook
from autograder.gradebook.notebook import nbgrader_problems
from course_under_test import COURSE, TLN

RELEASE = nbformat.read(str(TLN.release_notebook), as_version=4)
FUNCTIONS = demo.functions_in((TLN.demo_dir / "students") / f"{demo.CORRECT}.py")
QUESTION = "derivation_backprop"  # the 4-point written question (a Markdown answer cell)
ANSWER = demo.written_in(TLN.demo_dir / "written" / "ben_softmax_epsilon.md")[QUESTION]
STUDENT_TEXT = "Going back"  # in ANSWER: the TA must still read it
MARKER = "pwned"


def payload(name: str) -> str:
    """JavaScript (no spaces, single quotes only) that sets ``top.pwned_<name>`` and the
    title, and creates ``pwned_<name>.txt`` in the course directory through the contents
    API with the TA's _xsrf cookie, as the attack in the issue did."""
    return (f"top.{MARKER}_{name}=1;document.title='{MARKER}_{name}';"
            f"fetch('/api/contents/{MARKER}_{name}.txt',{{method:'PUT',headers:{{'Content-Type':"
            f"'application/json','X-XSRFToken':(document.cookie.match(/_xsrf=([^;]+)/)||[0,''])[1]}},"
            f"body:JSON.stringify({{type:'file',format:'text',content:'x'}})}})")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# Injection attempts in the written answer (which should stay readable Markdown).
IN_ANSWER = {
    "img_onerror": lambda p: f'<img src=x onerror="{p}">',
    "img_case": lambda p: f'<IMG SRC=x OnError="{p}">',
    "script": lambda p: f"<script>{p}</script>",
    "svg_onload": lambda p: f'<svg onload="{p}"><circle r="5"/></svg>',
    "iframe_srcdoc": lambda p: f'<iframe srcdoc="&lt;script&gt;{p}&lt;/script&gt;"></iframe>',
    "a_javascript": lambda p: f'<a href="javascript:{p}">see the derivation</a>',
    "a_entities": lambda p: f'<a href="&#106;ava&#x73;cript:{p}">see</a>',
    "style_cover": lambda p: (
        "<style>.panel-body{display:none}</style><div style=\"position:fixed;top:0;left:0;"
        f"width:100%;height:100%;background:white;z-index:99999\">Autograded tests: 30 / 30 {p}</div>"),
    "meta_refresh": lambda p: '<meta http-equiv="refresh" content="0;url=/api/contents/pwned_meta.txt">',
    "form": lambda p: ('<form action="/api/contents/pwned_form.txt" method="post">'
                       '<button autofocus>Save grades</button></form>'),
    "details_ontoggle": lambda p: f'<details open ontoggle="{p}">more</details>',
    "input_onfocus": lambda p: f'<input autofocus onfocus="{p}">',
    "object_data": lambda p: f'<object data="data:text/html;base64,{b64("<script>" + p + "</script>")}"></object>',
    "base_link": lambda p: '<base href="http://203.0.113.9/"><link rel="stylesheet" href="http://203.0.113.9/x.css">',
    "id_clobber": lambda p: f'<p id="{QUESTION}" class="navbar-fixed-top">x</p>',
    "html_comment": lambda p: "<!-- the rest is hidden from the TA",
    "mathjax_href": lambda p: f"$\\href{{javascript:{p}}}{{\\text{{see}}}}$",
    "mathjax_style": lambda p: ("$\\style{position:fixed;top:0;left:0;width:100%;height:100%;"
                                "background:white}{\\text{Autograded tests: 30 / 30}}$"),
    "mathjax_class": lambda p: "$\\class{navbar-fixed-top}{x} \\cssId{statusmessage}{y}$",
    "mathjax_macro": lambda p: f"$\\def\\x{{\\hr}}\\x ef{{javascript:{p}}}{{y}}$",
    "mathjax_require": lambda p: f'$\\require{{mmlToken}}\\mmlToken{{mi}}[href="javascript:{p}"]{{x}}$',
    "mathjax_outside_math": lambda p: f"\\\\(\\unicode[some-font]{{x41}}\\hspace{{-100em}}\\\\)",
}
# Injection attempts in Markdown cells the student added (links: shown as typed).
IN_OTHER_CELLS = {
    "md_javascript_link": lambda p: f"[open the plot](javascript:{p})",
    "md_entity_link": lambda p: f"[open](jav&#x61;script:{p})",
    "md_case_link": lambda p: f"[open](JaVaScRiPt:{p})",
    "md_data_link": lambda p: f"[open](data:text/html;base64,{b64('<script>' + p + '</script>')})",
    "md_reference_link": lambda p: f"[open][r]\n\n[r]: vbscript:{p}",
    "md_autolink": lambda p: f"<javascript:{p}>",
    "md_relative_image": lambda p: f"![plot](/api/contents/{MARKER}_md_relative_image.txt)",
    "md_svg_data_image": lambda p: f"![plot](data:image/svg+xml;base64,{b64('<svg onload=' + chr(34) + p + chr(34) + '/>')})",
    "md_heading_clobber": lambda p: f"# {QUESTION}\n\n# {QUESTION}-comment",
    "md_mermaid": lambda p: f'```mermaid\n<img src=x onerror="{p}">\n```',  # nbconvert copies it raw
}
# Attempts through cells, outputs, attachments and metadata (built in ``hostile_notebook``).
STRUCTURAL = ["attachment_svg", "attachment_html", "attachment_missing", "raw_html", "raw_plain",
              "out_html", "out_javascript", "out_svg", "out_markdown", "out_latex", "out_widget",
              "out_png_width", "out_png_filename", "out_stream", "out_error", "out_plain",
              "code_source", "cell_tags", "notebook_widgets"]
ATTACKS = [*IN_ANSWER, *IN_OTHER_CELLS, *STRUCTURAL]


def hostile_notebook() -> nbformat.NotebookNode:
    """A correct submission whose written answer is ben's demo derivation followed by every
    attempt of IN_ANSWER, with a cell per attempt of IN_OTHER_CELLS and the structural ones."""
    notebook = demo.fill(RELEASE, FUNCTIONS)
    index = next(i for i, c in enumerate(notebook.cells) if grade_id_of(c) == QUESTION)
    attempts = "\n\n".join(f"{make(payload(name))} {STUDENT_TEXT.lower()} {name}"
                           for name, make in IN_ANSWER.items())
    notebook.cells[index].source = f"{ANSWER}\n\n{attempts}"
    added = [nbformat.v4.new_markdown_cell(make(payload(name))) for name, make in IN_OTHER_CELLS.items()]
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" onload="{payload("attachment_svg")}"><script>{payload("attachment_svg")}</script></svg>'
    added.append(nbformat.v4.new_markdown_cell(
        "![figure](attachment:fig.svg) ![page](attachment:page.html) ![lost](attachment:lost.png)",
        attachments={"fig.svg": {"image/svg+xml": b64(svg)},
                     "page.html": {"text/html": b64(f"<script>{payload('attachment_html')}</script>")}}))
    raw = nbformat.v4.new_raw_cell(f'<img src=x onerror="{payload("raw_html")}">')
    raw.metadata["raw_mimetype"] = "text/html"
    added += [raw, nbformat.v4.new_raw_cell(
        f'<script>{payload("raw_plain")}</script><div class="modal-backdrop in" id="statusmessage">covered</div>')]
    broken_png = b64("not a png")  # fails to load: an onerror in its tag would run
    code = nbformat.v4.new_code_cell(
        f'note = "</script><script>{payload("code_source")}</script><img src=x onerror=1>"',
        metadata={"tags": [f'x" onmouseover="top.{MARKER}_cell_tags=1'],  # tags hold no comma
                  "alt": f'" onerror="{payload("cell_tags")}'})
    code.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": f'<img src=x onerror="{payload("out_html")}">'}),
        nbformat.v4.new_output("display_data", data={"application/javascript": payload("out_javascript")}),
        nbformat.v4.new_output("display_data", data={
            "image/svg+xml": f'<svg xmlns="http://www.w3.org/2000/svg" onload="{payload("out_svg")}"/>'}),
        nbformat.v4.new_output("display_data", data={"text/markdown": f'<img src=x onerror="{payload("out_markdown")}">'}),
        nbformat.v4.new_output("display_data", data={"text/latex": f"$\\href{{javascript:{payload('out_latex')}}}{{x}}$"}),
        nbformat.v4.new_output("display_data", data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "1", "version_major": 2, "version_minor": 0},
            "text/plain": "a widget"}),
        nbformat.v4.new_output("display_data", data={"image/png": broken_png},
                               metadata={"image/png": {"width": f"1 onerror={payload('out_png_width')}"}}),
        nbformat.v4.new_output("display_data", data={"image/png": broken_png},
                               metadata={"filenames": {"image/png": f"javascript:{payload('out_png_filename')}"}}),
        nbformat.v4.new_output("stream", name="stdout", text=f'<img src=x onerror="{payload("out_stream")}">\n'),
        nbformat.v4.new_output("error", ename="ValueError", evalue="<script>",
                               traceback=[f"<script>{payload('out_error')}</script>"]),
        nbformat.v4.new_output("execute_result", execution_count=1,
                               data={"text/plain": f"<script>{payload('out_plain')}</script>"}),
    ]
    added.append(code)
    notebook.cells[index + 1:index + 1] = added
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {}, "version_major": 2, "version_minor": 0, "x": f"</script><script>{payload('notebook_widgets')}"}}
    return notebook


def write_submission(folder: Path, notebook: nbformat.NotebookNode) -> Path:
    """Write ``notebook`` as a student hands it in (unvalidated JSON) under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{TLN.notebook}.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def formgrader_html(notebook_path: Path) -> str:
    """The page formgrader serves for the notebook at ``notebook_path``: its own exporter
    (nbconvert's HTMLExporter with nbgrader's ``formgrade`` template), as its handler calls it."""
    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": TLN.name, "notebook_id": TLN.notebook, "submission_id": "s1",
                 "index": 0, "total": 1, "base_url": "", "student": "zed", "last_name": None,
                 "first_name": None, "notebook_path": "autograded/zed/x.ipynb"}
    html, _ = HTMLExporter(config=config).from_filename(str(notebook_path), resources=resources)
    return html


class PageWalk(HTMLParser):
    """Everything of a page that can run, load or restyle: elements, attributes, script
    and style contents; and the text MathJax would read (outside pre, code, script, style)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self.raw_text: str | None = None  # inside <script> or <style>
        self.skipped = 0  # depth inside pre, code, textarea (MathJax skips them)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        if tag in ("script", "style"):
            self.raw_text = tag
        elif tag in ("pre", "code", "textarea"):
            self.skipped += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == self.raw_text:
            self.raw_text = None
        elif tag in ("pre", "code", "textarea"):
            self.skipped = max(0, self.skipped - 1)

    def handle_data(self, data: str) -> None:
        if self.raw_text:
            self.scripts.append(data)
        elif not self.skipped:
            self.text.append(data)


def walk(page: str) -> PageWalk:
    parsed = PageWalk()
    parsed.feed(page)
    parsed.close()
    return parsed


def notebook_part(page: str) -> str:
    """The notebook in formgrader's submission page ``page`` (the rest is formgrader's own)."""
    start, end = page.find('id="notebook-container"'), page.rfind('<div class="help">')
    assert 0 < start < end, "not formgrader's submission page"
    return page[page.rfind("<", 0, start):end]


def dangerous_parts(fragment: str) -> list[str]:
    """Where the HTML ``fragment`` could run, load or restyle something: the marker in a
    script, style, attribute or tag; an event handler; a javascript:/vbscript:/non-raster
    data: URL; MathJax commands of ``markdown_escape.MATHJAX_HOSTILE`` in the text."""
    parsed, found = walk(fragment), []
    found += [f"<script>/<style> with {hit}" for s in parsed.scripts for hit in re.findall(rf"{MARKER}_\w+", s)]
    for tag, attrs in parsed.tags:
        for name, value in attrs.items():
            squeezed = re.sub(r"[\x00-\x20]+", "", value).lower()
            if name.startswith("on") or MARKER in value or MARKER in name:
                found.append(f"<{tag} {name}={value[:40]!r}> {' '.join(re.findall(rf'{MARKER}_[a-z_]+', value))}")
            if squeezed.startswith(("javascript:", "vbscript:")) or (
                    squeezed.startswith("data:") and not re.match(r"data:image/(png|jpeg|gif);", squeezed)):
                found.append(f"<{tag} {name}={value[:80]!r}>")
        if re.search(r"modal|fixed|backdrop|affix", attrs.get("class", "")):
            found.append(f"class {attrs['class']!r}")  # Bootstrap's: over the whole page
        if tag in ("iframe", "object", "embed", "form", "meta", "base", "svg", "details", "link", "style"):
            found.append(f"<{tag}>")
    text = "".join(parsed.text)
    found += [f"MathJax {hit}" for hit in sorted(set(re.findall(markdown_escape.HOSTILE_IN_TEXT, text)))]
    return found


def result_for(path: Path, student: str) -> dict:
    """A result as batch.grade_all makes it, every test passed."""
    tests = [{"grade_id": t.grade_id, "points": t.points, "max_points": t.points, "hidden": t.hidden,
              "summary": t.summary, "status": "passed", "message": "passed"} for t in TLN.tests]
    return {"student_id": student, "assignment": TLN.name, "notebook": TLN.notebook, "path": str(path),
            "status": "ok", "message": "", "tests": tests, "score": sum(t["points"] for t in tests),
            "max_score": sum(t.points for t in TLN.tests)}


def test_the_corpus_holds_enough_different_attempts():
    assert len(ATTACKS) >= 40 and len(set(ATTACKS)) == len(ATTACKS)


def test_the_unneutralised_page_would_run_them(tmp_path):
    """The check is real: formgrader's page of the submission as handed in fails it."""
    notebook = hostile_notebook()
    for cell in notebook.cells:  # the attachment nbconvert would stop on, the comment hiding the rest
        cell.source = cell.source.replace("![lost](attachment:lost.png)", "").replace("<!--", "")
    path = write_submission(tmp_path, notebook)
    found = dangerous_parts(notebook_part(formgrader_html(path)))
    for name in ["img_onerror", "script", "svg_onload", "a_javascript", "md_javascript_link",
                 "out_html", "out_javascript", "out_png_width", "details_ontoggle"]:
        assert any(f"{MARKER}_{name}" in part for part in found), f"{name} should show up unneutralised"
    for part in ["MathJax \\href", "MathJax \\style", "MathJax \\def", "<iframe>", "<form>", "<meta>",
                 "class 'modal-backdrop in'"]:  # the raw cell: bleach keeps classes and ids
        assert part in found, f"{part} should show up unneutralised"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """OUT/nbgrader after the gradebook pass recorded the hostile submission (and a plain
    correct one): (course directory, the copy formgrader renders)."""
    tmp = tmp_path_factory.mktemp("inert")
    hostile = write_submission(tmp / "subs" / "zed_hostile" / TLN.name, hostile_notebook())
    plain = write_submission(tmp / "subs" / "ada" / TLN.name, demo.fill(RELEASE, FUNCTIONS, {QUESTION: ANSWER}))
    results = [result_for(hostile, "zed_hostile"), result_for(plain, "ada")]
    gradebook.sync(tmp / "out", results)
    assert [r["gradebook"] for r in results] == ["recorded", "recorded"], [r["gradebook"] for r in results]
    course = tmp / "out" / "nbgrader"
    return course, course / "autograded" / "zed_hostile" / TLN.name / f"{TLN.notebook}.ipynb"


def test_formgraders_page_of_the_hostile_submission_runs_and_loads_nothing(recorded):
    course, autograded = recorded
    page = formgrader_html(autograded)
    assert dangerous_parts(notebook_part(page)) == []
    parsed = walk(page)
    ids = [attrs.get("id") for _, attrs in parsed.tags if attrs.get("id")]
    for taken in (QUESTION, f"{QUESTION}-comment", "statusmessage"):
        assert ids.count(taken) == 1, f"id {taken!r} appears {ids.count(taken)} times"
    assert ("input", QUESTION) in [(t, a.get("id")) for t, a in parsed.tags], "no score box"
    text = "".join(parsed.text)
    assert STUDENT_TEXT in text and "over the rows" in text, "the written answer must stay readable"
    assert "\\delta_1 = \\delta_2 W_2^T" in text, "the answer's maths must stay maths"
    assert "passed: relu_handout_table" in page, "the test results as recorded"


def test_the_copies_keep_the_answer_as_markdown_and_drop_what_formgrader_would_run(recorded):
    course, autograded = recorded
    for copy_path in (autograded, course / "submitted" / "zed_hostile" / TLN.name / f"{TLN.notebook}.ipynb"):
        notebook = nbformat.read(str(copy_path), as_version=4)
        assert nbgrader_problems(notebook, RELEASE) == [], copy_path
        answer = next(c for c in notebook.cells if grade_id_of(c) == QUESTION)
        assert answer.cell_type == "markdown" and answer.source.startswith(ANSWER), (
            "the written answer stays the student's Markdown (escaped), not a code block")
        assert "&lt;img src=x onerror=" in answer.source and "\uff3chref" in answer.source
        assert not [c for c in notebook.cells if c.cell_type == "raw"], "raw cells become text"
        kinds = {mime for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
                 for mime in o.get("data", {})}
        assert kinds <= set(inert.SAFE_OUTPUT_TYPES), kinds
        assert all(not o.get("metadata") for c in notebook.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
        assert all(set(c.metadata) <= {"nbgrader"} for c in notebook.cells)
        assert all(set(a) <= set(inert.RASTER_ATTACHMENTS) for c in notebook.cells
                   for a in c.get("attachments", {}).values())
        assert "widgets" not in notebook.metadata


def test_the_hostile_answer_is_graded_like_any_other(recorded):
    """Autograded points in full, the written answer waiting for the TA (its checksum
    differs from the release's), the untouched one of the plain student answered "No
    response." as nbgrader does."""
    course, _ = recorded
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE.course_id) as book:
        grade = book.find_grade(QUESTION, TLN.notebook, TLN.name, "zed_hostile")
        assert grade.auto_score is None and grade.needs_manual_grade
        other = book.find_comment("derivation_softmax_ce", TLN.notebook, TLN.name, "ada")
        assert other.auto_comment == "No response.", "an answer left as released keeps its checksum"
        submission = book.find_submission_notebook(TLN.notebook, TLN.name, "zed_hostile")
        assert submission.code_score == sum(t.points for t in TLN.tests)


@pytest.mark.parametrize("source", [
    "plain $a < b$ and $$\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}$$, x < y & z",
    "`code <b>` and\n\n```\nx = '<script>'\n```\n",
    "[x](https://example.com) [y](notes.html#part) [z](#top) ![i](https://example.com/i.png)",
    "- a list\n    - nested, with <i>tags</i> & entities &amp;",
    "| a | b |\n|:--|--:|\n| 1 < 2 | $x$ |",
])
def test_ordinary_markdown_stays_markdown(source):
    made = inert.inert_markdown(source)
    assert not made.startswith(markdown_escape.FALLBACK_NOTE), made
    assert formgrader_check.rendered_problems(made) == []


@pytest.mark.parametrize("name", sorted(IN_ANSWER) + sorted(IN_OTHER_CELLS))
def test_each_markdown_attempt_alone_is_inert(name):
    source = (IN_ANSWER | IN_OTHER_CELLS)[name](payload(name))
    made = inert.inert_markdown(source, "{}", inert.formgrader_ids(RELEASE))
    assert formgrader_check.rendered_problems(made, {}, inert.formgrader_ids(RELEASE)) == []
    assert dangerous_parts(formgrader_check.render_as_formgrader(made)) == [], made


def test_a_shown_as_typed_cell_is_a_code_block_whatever_it_holds():
    nasty = "````\n```\n<script>x</script>\n$\\href{javascript:x}{y}$\n~~~\n" + "`" * 9
    made = markdown_escape.as_code_block(nasty)
    assert nasty in made and dangerous_parts(formgrader_check.render_as_formgrader(made)) == []
    assert formgrader_check.rendered_problems(made) == []


def test_large_markdown_is_shown_as_typed_and_checked_in_bounded_time():
    """Cells past MAX_RENDERED_CHARS, and Markdown past MAX_RENDERED_PER_NOTEBOOK in one
    notebook, are not rendered to be checked (mistune takes seconds on some 20,000
    characters): they are shown as typed. Inputs quadratic for these patterns stay fast."""
    notebook = copy.deepcopy(RELEASE)
    size = inert.MAX_RENDERED_CHARS - 100
    cells = [nbformat.v4.new_markdown_cell(f"{i} <b>x</b> " + "y" * size) for i in range(4)]
    cells.append(nbformat.v4.new_markdown_cell("z" * (inert.MAX_RENDERED_CHARS + 1)))
    notebook.cells += cells
    inert.inert_notebook(notebook, RELEASE)
    shown = [cell.source.startswith(markdown_escape.FALLBACK_NOTE) for cell in notebook.cells[-5:]]
    assert shown == [False, False, False, True, True], shown
    started = time.monotonic()
    for nasty in ("`" * 20_000, "~" * 20_000, "```" + "`x" * 9_000, "$" * 20_000):
        assert formgrader_check.rendered_problems(inert.inert_markdown(nasty)) == []
    assert time.monotonic() - started < 10, "the check must not take quadratic time on these"


def test_copies_recorded_by_an_older_grader_are_made_inert_and_the_tas_grades_stay(tmp_path):
    """An OUT recorded before the copies were made inert (its markers lack INERT_COPIES):
    the next ``grade`` makes its copies inert in place and does not record it again, so a
    TA's grade is neither lost nor flagged for review."""
    path = write_submission(tmp_path / "subs" / "zed" / TLN.name, hostile_notebook())
    results = [result_for(path, "zed")]
    gradebook.sync(tmp_path / "out", results)
    course = tmp_path / "out" / "nbgrader"
    relative = Path("zed") / TLN.name / f"{TLN.notebook}.ipynb"
    raw = nbformat.read(str(path), as_version=4)  # what an older grader left in each copy
    for top in ("submitted", "outputs", "autograded"):
        (course / top / relative).chmod(0o644)
        nbformat.write(raw, str(course / top / relative))
    (course / "autograded" / relative).chmod(0o444)
    marker = course / "outputs" / "zed" / TLN.name / f"{TLN.notebook}.synced"
    marker.write_text(marker.read_text().rsplit(":", 1)[0])
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE.course_id) as book:
        grade = book.find_grade(QUESTION, TLN.notebook, TLN.name, "zed")
        grade.manual_score, grade.needs_manual_grade = 3.0, False
        book.db.commit()
    results = [result_for(path, "zed")]
    gradebook.sync(tmp_path / "out", results)
    assert results[0]["gradebook"] == "recorded"
    assert marker.read_text().endswith(f":{gradebook.INERT_COPIES}")
    for top in ("submitted", "outputs", "autograded"):
        notebook = nbformat.read(str(course / top / relative), as_version=4)
        assert not [c for c in notebook.cells if c.cell_type == "raw"], top
    assert dangerous_parts(notebook_part(formgrader_html(course / "autograded" / relative))) == []
    assert (course / "autograded" / relative).stat().st_mode & 0o777 == 0o444
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE.course_id) as book:
        grade = book.find_grade(QUESTION, TLN.notebook, TLN.name, "zed")
        assert (grade.manual_score, grade.needs_manual_grade) == (3.0, False)
