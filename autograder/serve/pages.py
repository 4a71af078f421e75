"""What the service adds to a feedback page: a notice on top (when hidden results come,
whether the submission counts), and the page of a submission that cannot be graded.

Every text here is the service's own; names from the submission are escaped
(``display_name`` then ``html.escape``), and pages are made by ``autograder.outputs.sanitize.page``
(no script, no network) like every other feedback page.
"""

from __future__ import annotations

import datetime
import html

from autograder.outputs import sanitize
from autograder.text import clean_text, display_name

BODY = "<body>\n"  # sanitize.page starts the body with this, before any student content


def when(epoch: float) -> str:
    """A time as the pages print it: ``2026-12-20 23:59 UTC``."""
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")


def with_notice(page: str, lines: list[str]) -> str:
    """``page`` with ``lines`` (plain text, escaped here) in a box above everything else."""
    if not lines:
        return page
    assert BODY in page, "not a page made by autograder.outputs.sanitize.page"
    box = ("<div class='result pending' id='serve-notice'>"
           + "".join(f"<p>{html.escape(clean_text(line))}</p>" for line in lines) + "</div>\n")
    return page.replace(BODY, BODY + box, 1)


def withheld_line(release_at: float, reason: str) -> str:
    """The notice of a page whose hidden tests' results come later."""
    return (f"The hidden tests' results of this submission will be shown at {when(release_at)} "
            f"({reason}): fetch the feedback again then. Until then this page shows the "
            f"visible tests' results.")


def counting_line(counts: bool, due: float | None, counted_at: float | None) -> str:
    """The notice saying whether this submission is the one that counts for the grade."""
    if counts:
        return ("This submission counts for your grade" +
                (f" (the latest one before the due date, {when(due)})." if due else
                 " (your latest one)."))
    late = f"This submission was made after the due date ({when(due)})" if due else \
        "This submission is older than one already graded"
    kept = (f"; your submission of {when(counted_at)} counts." if counted_at else
            "; no submission of yours made before the due date was received.")
    return f"{late} and does not count for your grade{kept}"


def failure_page(label: str, assignment: str | None, problem: str) -> str:
    """The page of a submission the service could not grade, saying why."""
    title = f"Feedback on {display_name(assignment)}" if assignment else "Feedback"
    return sanitize.page(title, "", (
        f"<h1>{html.escape(title)}</h1>"
        f"<p id='score'>Your submission could not be graded: "
        f"<b>{html.escape(clean_text(problem))}</b>.</p>"
        f"<p>Nothing was recorded for it. Fix what is named above and submit again, or ask "
        f"your instructor (quote: {html.escape(display_name(label))}).</p>"))
