"""Written answers: a TA's score and comment in the gradebook reach the student's one
feedback page and grades.csv, with one total out of the maximum nbgrader uses (36)."""

import csv

from nbgrader.api import Gradebook

from autograder import cli
from course_under_test import COURSE, TLN

STUDENT = "cat_loss_over_nk"
COMMENT = "Good: you kept **the minus sign**; the $\\partial L / \\partial z_j$ step is thin."


def test_ta_grade_reaches_our_feedback_page_and_the_csv(graded):
    out = graded["out"]
    with Gradebook(f"sqlite:///{out / 'nbgrader' / 'gradebook.db'}", COURSE.course_id) as book:
        grade = book.find_grade("derivation_softmax_ce", TLN.notebook, TLN.name, STUDENT)
        grade.manual_score = 1.5
        comment = book.find_comment("derivation_softmax_ce", TLN.notebook, TLN.name,
                                    STUDENT)
        comment.manual_comment = COMMENT
        book.db.commit()
    assert cli.main(["feedback", str(out)]) == 0
    page = (out / "feedback" / STUDENT / TLN.name / f"{TLN.notebook}.html").read_text()
    autograded = float(graded["rows"][STUDENT]["score"])
    assert "derivation_softmax_ce: 1.5 / 2</b> (graded by a TA)" in page, page[-3000:]
    assert "<strong>the minus sign</strong>" in page and "<math" in page, (
        "the TA's comment should be rendered as Markdown with its math")
    assert f"Total so far: <b>{autograded + 1.5:g} / 36</b>" in page, page[:1500]
    assert "derivation_backprop: not graded yet" in page, "the other answer awaits grading"
    with open(out / "grades.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["student_id"] == STUDENT)
    assert (row["derivation_softmax_ce"], row["derivation_backprop"]) == ("1.5", ""), row
    assert (float(row["total"]), float(row["total_max"])) == (autograded + 1.5, 36.0), row
