"""The student's notebook on the feedback page: its cells as submitted (test cells as
released), each output rendered as safe HTML within the page's output budget, and each test's
result (``autograder.outputs.feedback_results``) under its cell."""

import base64
import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from markdown_it import MarkdownIt

from autograder.outputs import sanitize
from autograder.outputs.feedback_results import public_message, written_box
from autograder.outputs.markdown_html import MARKDOWN_CELL_LIMIT, clean_html, markdown_renderer
from autograder.records import Record, TestStatus

TEXT_OUTPUT_LIMIT = 20_000     # characters shown of one text output
PAGE_OUTPUTS_LIMIT = 8 << 20   # characters of outputs (plots included) shown on one page
NOTEBOOK_CELLS_SHOWN = 1_000   # cells of the student's notebook shown on the page


def _safe_cells(notebook: Any, release: Any, test_ids: set[str]
                ) -> Iterator[tuple[Any, str, Any, str | None]]:
    """Cells to show, as (cell type, source, outputs, grade_id): test cells (``test_ids``, or
    any holding hidden tests) replaced by the release's version of them; a Markdown cell's
    attachments in place of its outputs."""
    released = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in release.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id")}
    for cell in notebook.cells:
        grading = cell.get("metadata", {}).get("nbgrader")
        grade_id = grading.get("grade_id") if isinstance(grading, dict) else None
        grade_id = grade_id if isinstance(grade_id, str) else None
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if grade_id in test_ids or "BEGIN HIDDEN TESTS" in source:
            shown = released.get(grade_id)
            yield ("code", shown.source if shown is not None else "# (test cell)", [], grade_id)
        else:
            kind = cell.get("cell_type")
            yield (kind, source, cell.get("attachments") if kind == "markdown" else
                   cell.get("outputs", []), grade_id)


_ATTACHMENT = re.compile(r'src="attachment:([^"]*)"')


def _markdown_cell_html(markdown: MarkdownIt, source: str, attachments: Any,
                        budget: "_Budget") -> str:
    """A Markdown cell as sanitized HTML, its images from its own attachments
    (``![x](attachment:plot.png)``) shown as data: URLs when they are images and the page's
    output budget allows them; any other ``attachment:`` reference is dropped."""
    if not isinstance(attachments, dict) or not attachments or len(source) > MARKDOWN_CELL_LIMIT:
        return clean_html(markdown, source)

    def image(match: re.Match) -> str:
        bundle = attachments.get(html.unescape(unquote(match.group(1))))
        shown = _rich_html(bundle, markdown) if isinstance(bundle, dict) else ""
        found = re.match(r"<img alt='plot' src='(data:image/[^']*)'>\Z", shown)
        if found and budget.take(len(found.group(1))):
            return f'src="{found.group(1)}"'
        return 'src=""'
    return sanitize.clean(_ATTACHMENT.sub(image, markdown.render(source)))


class _Budget:
    """Characters of outputs still allowed on the page."""

    def __init__(self, total: int = PAGE_OUTPUTS_LIMIT) -> None:
        self.left, self.dropped = total, 0

    def take(self, size: int) -> bool:
        if size > self.left:
            self.dropped += 1
            return False
        self.left -= size
        return True


def _joined(value: Any) -> str:
    return "".join(str(part) for part in value) if isinstance(value, list) else str(value)


def _text_html(text: Any) -> str:
    text = _joined(text)
    if len(text) > TEXT_OUTPUT_LIMIT:
        text = text[:TEXT_OUTPUT_LIMIT] + f"\n[... {len(text) - TEXT_OUTPUT_LIMIT:,} more characters]"
    return f"<pre>{html.escape(text)}</pre>"


_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*\Z")
RASTER_TYPES = ("image/png", "image/jpeg", "image/gif")


def _rich_html(data: dict, markdown: MarkdownIt) -> str:
    """The richest output of a display's ``data`` the page shows, as safe HTML: a raster
    image or an SVG (as an ``<img>`` from a data: URL, where an SVG's scripts never run), HTML
    (sanitized), Markdown or LaTeX (rendered, sanitized), else its text. Scripts
    (application/javascript and the like) are never shown."""
    for kind in RASTER_TYPES:
        if kind in data:
            image = re.sub(r"\s+", "", _joined(data[kind]))
            if _BASE64.match(image):
                return f"<img alt='plot' src='data:{kind};base64,{image}'>"
    if "image/svg+xml" in data:
        svg = base64.b64encode(_joined(data["image/svg+xml"]).encode("utf-8", "replace"))
        return f"<img alt='plot' src='data:image/svg+xml;base64,{svg.decode()}'>"
    for kind in ("text/html", "text/markdown", "text/latex"):
        text = _joined(data.get(kind, "")) if kind in data else ""
        if text and len(text) <= MARKDOWN_CELL_LIMIT:
            return (sanitize.clean(text) if kind == "text/html"
                    else clean_html(markdown, text))
    return _text_html(data["text/plain"]) if "text/plain" in data else ""


def _outputs_html(outputs: Any, budget: "_Budget", markdown: MarkdownIt) -> str:
    parts = []
    for output in outputs if isinstance(outputs, list) else []:
        if not isinstance(output, dict):
            continue
        kind, part = output.get("output_type"), ""
        if kind == "stream":
            part = _text_html(output.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            data: dict[str, Any] = (output.get("data")  # type: ignore[assignment]  # a dict (checked)
                                    if isinstance(output.get("data"), dict) else {})
            part = _rich_html(data, markdown)
        elif kind == "error":
            part = (f"<pre>{html.escape(str(output.get('ename', '')))}: "
                    f"{html.escape(str(output.get('evalue', ''))[:TEXT_OUTPUT_LIMIT])}</pre>")
        if part and budget.take(len(part)):
            parts.append(part)
    return "".join(parts)


def notebook_html(notebook: Any, release: Any, result: Record,
                   withhold_hidden: bool = False) -> str:
    by_id = {record["grade_id"]: record for record in result["tests"]}
    withheld = {r["grade_id"] for r in result["tests"] if withhold_hidden and r.get("hidden")}
    written = {grade["grade_id"]: grade for grade in result.get("written") or []}
    parts, budget = [], _Budget()
    markdown = markdown_renderer()
    cells = list(_safe_cells(notebook, release, {record["grade_id"] for record in result["tests"]}))
    for kind, source, outputs, grade_id in cells[:NOTEBOOK_CELLS_SHOWN]:
        if kind == "markdown":
            shown = _markdown_cell_html(markdown, source, outputs, budget)
            parts.append(f"<div class='cell'>{shown}</div>")
            if grade_id in written:
                parts.append(written_box(written[grade_id], markdown))
        else:
            shown = _outputs_html(outputs, budget, markdown)
            parts.append(f"<div class='cell'><pre class='source'>{html.escape(source)}</pre>"
                         f"<div class='output'>{shown}</div></div>")
        if grade_id in withheld:
            shown_id = html.escape(grade_id)  # type: ignore[arg-type]  # a test's: a str
            parts.append(f"<div class='result pending'><b>{shown_id}</b> (hidden): "
                         f"its result will be released later.</div>")
        elif grade_id in by_id:
            record = by_id[grade_id]
            css = "passed" if record["status"] == TestStatus.PASSED else "lost"
            shown_id = html.escape(grade_id)  # type: ignore[arg-type]  # a test's: a str
            parts.append(f"<div class='result {css}'>"
                         f"<b>{shown_id}: {record['points']:g} / {record['max_points']:g}"
                         f"</b><pre>{html.escape(public_message(record))}</pre></div>")
    if len(cells) > NOTEBOOK_CELLS_SHOWN:
        parts.append(f"<p><i>... and {len(cells) - NOTEBOOK_CELLS_SHOWN} more cells, not "
                     f"shown (a page shows the first {NOTEBOOK_CELLS_SHOWN}).</i></p>")
    if budget.dropped:
        parts.append(f"<p><i>{budget.dropped} output(s) not shown: the page holds at most "
                     f"{PAGE_OUTPUTS_LIMIT >> 20} MiB of outputs.</i></p>")
    return "".join(parts)
