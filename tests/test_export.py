"""`export`: grade files Canvas, Moodle and a spreadsheet import as they are, read back here
with the csv module as those systems read them: one column per assignment holding the
total the student sees, the documented header, UTF-8, and every student accounted for."""

import argparse
import csv
import io
import json

import pytest
from nbgrader.api import Gradebook

from autograder import export, storage
from course_under_test import COURSE, FND, TLN

ODD = 'O\'Brien, "Zoë"'  # a comma, quotes and non-ASCII in one student id


def result(student, assignment, score, written):
    """A saved result of ``grade`` (the fields export reads), with the TAs' grades added."""
    res = {"student_id": student, "assignment": assignment.name,
           "notebook": assignment.notebook, "status": "ok", "score": score,
           "max_score": assignment.max_score,
           "tests": [{"grade_id": "t", "status": "passed", "points": score}],
           "written": [{"grade_id": f"w{i}", "points": 3.0, "score": s, "comment": ""}
                       for i, s in enumerate(written)]}
    res["total"] = score + sum(s or 0 for s in written)
    res["total_max"] = assignment.max_score + 3.0 * len(written)
    return res


RESULTS = [result("ada", FND, 30, [3.0, 2.5]), result("ada", TLN, 27.5, [None, None]),
           result("ben", FND, 12, [1.0, None]),
           result(ODD, TLN, 20, [3.0, 3.0]), result(ODD, FND, 0, [None, None]),
           result("ghost", TLN, 5, [])]  # graded, absent from the mapping


@pytest.fixture
def out(tmp_path):
    out = tmp_path / "out"
    for res in RESULTS:
        item = (res["student_id"], res["assignment"], res["notebook"], None)
        storage.write_atomic(storage.result_path(out, item), json.dumps(res))
    return out


@pytest.fixture
def ids(tmp_path):
    path = tmp_path / "ids.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "canvas_id", "sis_user_id", "sis_login_id", "section",
                         "first_name", "last_name", "email", "idnumber"])
        writer.writerow(["ada", "101", "S1", "ada@uni", "A", "Ada", "Lovelace", "ada@uni.edu",
                         "N1"])
        writer.writerow(["ben", "102", "S2", "ben@uni", "B", "Ben", "Byte", "ben@uni.edu", "N2"])
        writer.writerow([ODD, "103", "S3", "zoe@uni", "A", "Zoë", "O'Brien", "zoe@uni.edu",
                         "N3"])
        writer.writerow(["cat", "104", "S4", "cat@uni", "A", "Cat", "Nope", "cat@uni.edu", "N4"])
    return path


def expected(student, assignment):
    """The total the student sees for ``assignment`` (blank when not graded)."""
    found = [r for r in RESULTS if r["student_id"] == student and r["assignment"] == assignment]
    return f"{found[0]['total']:g}" if found else ""


def export_to(out, system, ids, output):
    """``python -m autograder export OUT --to SYSTEM --ids IDS --output OUTPUT``, parsed by
    the subcommand's own parser."""
    top = argparse.ArgumentParser()
    export.add_parser(top.add_subparsers())
    args = top.parse_args(["export", str(out), "--to", system, "--ids", str(ids),
                           "--output", str(output)])
    return export.run(args)


def read(path, encoding):
    with open(path, newline="", encoding=encoding) as handle:
        return list(csv.reader(handle))


NAMES = [a.name for a in COURSE.assignments if a.name in (FND.name, TLN.name)]


def test_canvas_file_is_canvas_import_format(out, ids, tmp_path, capsys):
    target = tmp_path / "canvas.csv"
    assert export_to(out, "canvas", ids, target) == export.UNMATCHED
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Canvas file: UTF-8 with a byte-order mark"
    rows = read(target, "utf-8-sig")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] + NAMES
    assert rows[1] == ["Points Possible", "", "", "", ""] + [
        f"{a.max_score + 6:g}" for a in COURSE.assignments if a.name in NAMES]
    by_id = {row[1]: row for row in rows[2:]}
    assert sorted(by_id) == ["101", "102", "103"]
    for canvas_id, student in (("101", "ada"), ("102", "ben"), ("103", ODD)):
        assert by_id[canvas_id][5:] == [expected(student, name) for name in NAMES], by_id
    assert by_id["103"][0] == "O'Brien, Zoë" and by_id["103"][3] == "zoe@uni"
    assert by_id["102"][5:] == ["13", ""], "ben: 12 + 1 written; no two_layer_net result"
    err = capsys.readouterr().err
    assert "ghost: graded but not in the mapping" in err
    assert "cat: in the mapping but no result in OUT" in err
    unmatched = read(export.unmatched_path(target), "utf-8")
    assert unmatched == [["student_id", "problem"], ["ghost", "graded but not in the mapping"],
                         ["cat", "in the mapping but no result in OUT"]]


def test_moodle_file_has_an_identifier_grades_and_feedback(out, ids, tmp_path):
    target = tmp_path / "moodle.csv"
    assert export_to(out, "moodle", ids, target) == export.UNMATCHED
    assert not target.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = read(target, "utf-8")
    header = ["First name", "Last name", "ID number", "Email address", "User ID"]
    for name in NAMES:
        header += [name, f"{name} (feedback)"]
    assert rows[0] == header
    by_idnumber = {row[2]: dict(zip(header, row)) for row in rows[1:]}
    assert sorted(by_idnumber) == ["N1", "N2", "N3"]
    for idnumber, student in (("N1", "ada"), ("N2", "ben"), ("N3", ODD)):
        for name in NAMES:
            assert by_idnumber[idnumber][name] == expected(student, name)
    zoe = by_idnumber["N3"]
    assert (zoe["First name"], zoe["Last name"], zoe["Email address"]) == (
        "Zoë", "O'Brien", "zoe@uni.edu")
    ada = by_idnumber["N1"]
    assert ada[f"{TLN.name} (feedback)"].startswith(
        "graded; autograded 27.5/30; written answers not graded yet; total 27.5/36; "
        "feedback: "), ada
    assert ada[f"{TLN.name} (feedback)"].endswith(f"feedback/ada/{TLN.name}/{TLN.notebook}.html")
    assert "written 1/6 (1 answer(s) not graded yet); total 13/36" in (
        by_idnumber["N2"][f"{FND.name} (feedback)"])
    assert by_idnumber["N2"][TLN.name] == by_idnumber["N2"][f"{TLN.name} (feedback)"] == ""


def test_plain_csv_round_trips_an_odd_student_id(out, ids, tmp_path):
    target = tmp_path / "grades.csv"
    assert export_to(out, "csv", ids, target) == export.UNMATCHED
    rows = list(csv.DictReader(io.StringIO(target.read_bytes().decode("utf-8"), newline="")))
    by_id = {row["student_id"]: row for row in rows}
    assert sorted(by_id) == sorted(["ada", "ben", ODD])
    for student, row in by_id.items():
        assert [row[name] for name in NAMES] == [expected(student, name) for name in NAMES]
    assert by_id[ODD]["name"] == "Zoë O'Brien"


def test_gradebook_students_table_as_the_mapping(out, tmp_path):
    database = tmp_path / "gradebook.db"
    with Gradebook(f"sqlite:///{database}", COURSE.course_id) as book:
        book.add_student("ada", first_name="Ada", last_name="Lovelace", email="ada@uni.edu",
                         lms_user_id="101")
        book.add_student(ODD, first_name="Zoë", last_name="O'Brien", lms_user_id="103")
        book.add_student("ben", first_name="Ben", last_name="Byte")  # no LMS id
        book.add_student("ghost", lms_user_id="105")
    target = tmp_path / "canvas.csv"
    assert export_to(out, "canvas", database, target) == export.UNMATCHED
    rows = read(target, "utf-8-sig")
    by_id = {row[1]: row for row in rows[2:]}
    assert sorted(by_id) == ["101", "103", "105"]
    assert by_id["103"][5:] == [expected(ODD, name) for name in NAMES]
    assert by_id["105"][5:] == [expected("ghost", name) for name in NAMES]
    assert read(export.unmatched_path(target), "utf-8")[1:] == [
        ["ben", "no canvas_id, sis_user_id or sis_login_id in the mapping"]]


def test_everyone_matched_exits_zero_and_bad_mapping_exits_one(out, tmp_path, capsys):
    ids = tmp_path / "ids.csv"
    quoted = ODD.replace('"', '""')
    ids.write_text(f'student_id,canvas_id\nada,1\nben,2\n"{quoted}",3\nghost,4\n',
                   encoding="utf-8-sig")  # a BOM, as Excel saves "CSV UTF-8"
    assert export_to(out, "canvas", ids, tmp_path / "c.csv") == 0
    assert read(export.unmatched_path(tmp_path / "c.csv"), "utf-8") == [["student_id", "problem"]]
    bad = tmp_path / "bad.csv"
    bad.write_text("canvas_id\n1\n")
    assert export_to(out, "canvas", bad, tmp_path / "d.csv") == 1
    assert "student_id" in capsys.readouterr().err


def test_real_grading_and_a_ta_grade_reach_the_export(graded, tmp_path):
    """End to end on a copy of the graded demo OUT: a TA grade set in the gradebook,
    `feedback` run, then every exported cell equals grades.csv's total (which is
    autograded + written, from the gradebook), students matched by nbgrader's own table."""
    import shutil

    from autograder import cli
    out = tmp_path / "out"
    shutil.copytree(graded["out"], out, ignore=shutil.ignore_patterns(".grade.lock"))
    database = out / "nbgrader" / "gradebook.db"
    with Gradebook(f"sqlite:///{database}", COURSE.course_id) as book:
        grade = book.find_grade("derivation_backprop", TLN.notebook, TLN.name, "ada_correct")
        grade.manual_score = 2.0
        book.db.commit()
    assert cli.main(["feedback", str(out)]) == 0
    with open(out / "grades.csv", newline="") as handle:
        totals = {(r["student_id"], r["assignment"]): r["total"] for r in csv.DictReader(handle)
                  if r["status"] not in export.NOT_GRADED_STATUSES}
    assert export_to(out, "csv", database, tmp_path / "all.csv") in (0, export.UNMATCHED)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "all.csv").read_text("utf-8"))))
    assert rows, "the gradebook's students should be matched"
    for row in rows:
        assert row[TLN.name] == totals[(row["student_id"], TLN.name)], row
    ada = next(row for row in rows if row["student_id"] == "ada_correct")
    assert float(ada[TLN.name]) == 32.0 and "written 2/" in ada[f"{TLN.name} feedback"], ada
    unmatched = {r[0] for r in read(export.unmatched_path(tmp_path / "all.csv"), "utf-8")[1:]}
    graded_ids = {student for student, _ in totals}
    assert graded_ids <= {row["student_id"] for row in rows} | unmatched, (
        "every graded student is exported or listed")
