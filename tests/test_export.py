"""`export`: grade files Canvas, Moodle and a spreadsheet import as they are, read back here
with the csv module as those systems read them: one column per assignment holding the
total the student sees, the documented header, UTF-8, and every student accounted for."""

import argparse
import csv
import io
import json
import os
import random
import sqlite3
import subprocess
import sys
import unicodedata

import pytest
from nbgrader.api import Gradebook

from autograder.outputs import exports as export, storage, visibility
from autograder.text import display_name, formula_like, is_plain_name, parse_display_name, utf8
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


def export_to(out, system, ids, output, *flags):
    """``python -m autograder export OUT --to SYSTEM --ids IDS --output OUTPUT [FLAGS]``,
    parsed by the subcommand's own parser."""
    top = argparse.ArgumentParser()
    export.add_parser(top.add_subparsers())
    args = top.parse_args(["export", str(out), "--to", system, "--ids", str(ids),
                           "--output", str(output), *flags])
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


def test_everyone_matched_exits_zero_and_bad_mapping_exits_two(out, tmp_path, capsys):
    ids = tmp_path / "ids.csv"
    quoted = ODD.replace('"', '""')
    ids.write_text(f'student_id,canvas_id\nada,1\nben,2\n"{quoted}",3\nghost,4\n',
                   encoding="utf-8-sig")  # a BOM, as Excel saves "CSV UTF-8"
    assert export_to(out, "canvas", ids, tmp_path / "c.csv") == 0
    assert read(export.unmatched_path(tmp_path / "c.csv"), "utf-8") == [["student_id", "problem"]]
    bad = tmp_path / "bad.csv"
    bad.write_text("canvas_id\n1\n")
    assert export_to(out, "canvas", bad, tmp_path / "d.csv") == export.BAD_MAPPING
    assert not (tmp_path / "d.csv").exists()
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


# ---------------------------------------------------------------------------- names


def write_ids(path, header, rows):
    """A mapping CSV (UTF-8, as a spreadsheet saves it)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def save(out, res):
    """Save ``res`` where `grade` would: under its real student folder name."""
    item = (res["student_id"], res["assignment"], res["notebook"], None)
    storage.write_atomic(storage.result_path(out, item), json.dumps(res))


# Pairs that printed alike before names were escaped one-to-one: a backslash typed in the
# folder name against the byte or character it spelled.
COLLIDING = [("Jos\\xe9", "Jos\udce9"), ("new\\nline", "new\nline"), ("a\\x85", "a\udc85"),
             ("b\\u0085", "b\x85"), ("c\\\\", "c\\")]
NAME_ALPHABET = ["\\", "\\", "x", "u", "n", "r", "t", "e", "9", "0", "8", "5", "a", "f", "\n",
                 "\r", "\t", "\x00", "\x1b", "\x7f", "\x80", "\x85", "\x9f", "\xad", "\xe9", "é",
                 "\u200b", "\u202e", "\u2028", "\u2066", "\ufeff", "\ufffa", "\ud800", "\udbff",
                 "\udc00", "\udc7f", "\udc80", "\udce9", "\udcff", "\udd00", "\udfff", "😀",
                 "ß", "中", " ", "'", "=", "-", "."]


INVISIBLE = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # controls, formatting, surrogates, separators


def test_every_control_and_invisible_character_of_unicode_is_spelled_out():
    everything = "".join(chr(c) for c in range(0x110000)
                         if unicodedata.category(chr(c)) in INVISIBLE)
    shown = display_name(everything)
    assert not any(unicodedata.category(ch) in INVISIBLE for ch in shown)
    assert parse_display_name(shown) == everything


def test_display_name_is_one_to_one_over_generated_names():
    """A property test (hypothesis is not installed: a seeded loop): no two different names
    print alike, every printed name reads back as its name, is one printable line that
    encodes as UTF-8, and plain names are unchanged."""
    rng = random.Random(17)
    names = {n for pair in COLLIDING for n in pair}
    while len(names) < 30_000:
        names.add("".join(rng.choice(NAME_ALPHABET) for _ in range(rng.randint(0, 9))))
    raw = {bytes(rng.randrange(256) for _ in range(rng.randint(1, 7))) for _ in range(5_000)}
    raw |= {b"Jos\xe9", b"Jos\\xe9", b"\\", b"\xc3\xa9", b"\xed\xa0\x80", b"\xff\xfe"}
    names |= {os.fsdecode(b) for b in raw}
    shown = {}
    for name in names:
        text = display_name(name)
        assert shown.setdefault(text, name) == name, f"{name!r} and {shown[text]!r} print alike"
        assert parse_display_name(text) == name
        assert text.encode("utf-8") is not None, "surrogates never reach the output"
        assert not any(unicodedata.category(ch) in INVISIBLE for ch in text), text
        assert is_plain_name(name) == (text == name)
    for name in raw:  # the file system's bytes print as their surrogateescape'd str does
        assert display_name(name) == display_name(os.fsdecode(name))
    for typed, real in COLLIDING:
        assert display_name(typed) != display_name(real)
    assert display_name("Jos\udce9") == "Jos\\xe9" and display_name("Jos\\xe9") == "Jos\\\\xe9"
    assert display_name("new\nline") == "new\\nline" and display_name("plain é") == "plain é"
    for bad in ("a\\q", "\\x8", "trailing\\", "\\xZZ", "\\u12"):
        with pytest.raises(ValueError):
            parse_display_name(bad)


def graded_result(student, score, assignment=FND, notebook=None):
    res = result(student, assignment, score, [])
    if notebook:
        res["notebook"] = notebook
    return res


def test_colliding_names_are_kept_apart_in_storage_grades_csv_and_export(tmp_path, capsys):
    """The pairs that once printed alike: each keeps its own result file, grades.csv row and
    exported score; the mapping names them by their real ids."""
    out = tmp_path / "out"
    scores = {"Jos\\xe9": 30, "Jos\udce9": 0, "new\\nline": 12, "new\nline": 20}
    for student, score in scores.items():
        save(out, graded_result(student, score))
    saved = storage.saved_results(out)
    assert sorted(r["student_id"] for r in saved) == sorted(scores)
    rows = list(csv.DictReader(io.StringIO(storage.csv_text(saved))))
    assert sorted(r["student_id"] for r in rows) == sorted(display_name(s) for s in scores)
    for row in rows:
        assert float(row["score"]) == scores[parse_display_name(row["student_id"])]
    ids = write_ids(tmp_path / "ids.csv", ["student_id", "canvas_id", "email"],
                    [["Jos\\xe9", "1", "a@x"], ["new\\nline", "2", "b@x"],
                     ["new\nline", "3", "c@x"]])
    target = tmp_path / "grades.csv"
    assert export_to(out, "csv", ids, target) == export.UNMATCHED
    exported = {r["student_id"]: r[FND.name] for r in csv.DictReader(io.StringIO(
        target.read_text("utf-8")))}
    assert exported == {display_name(s): f"{scores[s]:g}" for s in
                        ("Jos\\xe9", "new\\nline", "new\nline")}
    unmatched = read(export.unmatched_path(target), "utf-8")[1:]
    assert [u[0] for u in unmatched] == ["Jos\\xe9"], unmatched  # the Latin-1 folder
    assert "rename this folder" in unmatched[0][1]
    assert "Jos\\xe9: graded but not in the mapping" in capsys.readouterr().err

    # Without the typed-backslash folder, the mapping may name the Latin-1 one as it is shown.
    alone = tmp_path / "alone"
    save(alone, graded_result("Jos\udce9", 7))
    save(alone, graded_result("Jos\\\\xe9", 9))  # shown as Jos\\\\xe9; its mapping row below
    ids = write_ids(tmp_path / "shown.csv", ["student_id", "canvas_id"],
                    [["Jos\\xe9", "1"], ["Jos\\\\\\\\xe9", "2"]])
    assert export_to(alone, "csv", ids, tmp_path / "alone.csv") == 0
    exported = {r["student_id"]: r[FND.name] for r in csv.DictReader(io.StringIO(
        (tmp_path / "alone.csv").read_text("utf-8")))}
    assert exported == {"Jos\\xe9": "7", "Jos\\\\\\\\xe9": "9"}


def test_matching_never_gives_two_rows_one_student():
    """A student named by its real id and by its printed form in one mapping: matched once,
    the other row reported; every match is one-to-one."""
    graded = {"Jos\udce9": {}, "new\nline": {}, "plain": {}}
    mapping = {"Jos\\xe9": {}, "new\nline": {}, "new\\nline": {}, "plain": {}}
    matched, problems = export.match(graded, mapping)
    assert matched == {"Jos\\xe9": "Jos\udce9", "new\nline": "new\nline", "plain": "plain"}
    assert problems == []
    matched, problems = export.match({"Jos\\xe9": {}, "Jos\udce9": {}}, {"Jos\\xe9": {}})
    assert matched == {"Jos\\xe9": "Jos\\xe9"} and [p[0] for p in problems] == ["Jos\\xe9"]


@pytest.fixture(scope="module")
def collided(tmp_path_factory):
    """Real grading (`python -m autograder grade --withhold-hidden`) of five folders: both
    colliding pairs (a correct and an untouched notebook in each) and a folder named -inf."""
    import nbformat

    from autograder import demo
    root = tmp_path_factory.mktemp("collided")
    subs = root / "submissions"
    release = nbformat.read(str(FND.release_notebook), as_version=4)
    correct = demo.fill(release, demo.functions_in(FND.demo_dir / "students"
                                                   / f"{demo.CORRECT}.py"))
    folders = {b"Jos\\xe9": correct, b"Jos\xe9": release, b"new\\nline": release,
               b"new\nline": correct, b"-inf": correct}
    for name, notebook in folders.items():
        folder = os.path.join(os.fsencode(subs), name, os.fsencode(FND.name))
        os.makedirs(folder)
        nbformat.write(notebook, os.fsdecode(os.path.join(folder, os.fsencode(FND.notebook)
                                                          + b".ipynb")))
    out = root / "out"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(subs), "--out",
                           str(out), "--jobs", "2", "--assignment", FND.name,
                           "--withhold-hidden"], capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 3), done.stderr  # 3: two names nbgrader cannot take
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {parse_display_name(r["student_id"].removeprefix("'")): r
                for r in csv.DictReader(handle)}
    return {"out": out, "rows": rows, "students": [os.fsdecode(n) for n in folders],
            "correct": {os.fsdecode(n) for n, nb in folders.items() if nb is correct}}


def test_graded_colliding_folders_keep_their_own_rows_pages_and_results(collided):
    out, rows = collided["out"], collided["rows"]
    assert sorted(rows) == sorted(collided["students"]), "one row per folder, none merged"
    for student in collided["students"]:
        saved = json.loads(storage.result_path(out, (student, FND.name, FND.notebook, None))
                           .read_bytes())
        assert saved["student_id"] == student
        assert (float(rows[student]["score"]) == FND.max_score) == (
            student in collided["correct"]), (student, rows[student]["score"])
        page = storage.feedback_path(out, (student, FND.name, FND.notebook, None))
        assert f"<b>{display_name(student)}</b>" in page.read_text("utf-8")
    assert rows["-inf"]["student_id"] == "'-inf", "grades.csv quotes a name like -inf"


def test_graded_colliding_folders_export_with_their_own_scores(collided, tmp_path, capsys):
    out, rows = collided["out"], collided["rows"]
    mapped = ["Jos\\xe9", "new\\nline", "new\nline", "-inf"]
    ids = write_ids(tmp_path / "ids.csv", ["student_id", "canvas_id", "first_name"],
                    [[s, str(i), f"S{i}"] for i, s in enumerate(mapped)])
    target = tmp_path / "all.csv"
    assert export_to(out, "csv", ids, target, "--include-hidden") == export.UNMATCHED
    err = capsys.readouterr().err
    assert "--include-hidden exported the full totals" in err
    exported = {parse_display_name(r["student_id"].removeprefix("'")): r
                for r in csv.DictReader(io.StringIO(target.read_text("utf-8")))}
    assert sorted(exported) == sorted(mapped)
    for student in mapped:
        assert exported[student][FND.name] == rows[student]["total"], student
    assert read(export.unmatched_path(target), "utf-8")[1][0] == "Jos\\xe9"
    assert exported["-inf"]["student_id"] == "'-inf"


def test_graded_colliding_folders_stay_apart_in_similarity(collided):
    from autograder import cli
    assert cli.main(["similarity", str(collided["out"]), "--assignment", FND.name]) == 0
    with open(collided["out"] / "similarity" / f"{FND.name}.csv", encoding="utf-8") as handle:
        pairs = list(csv.DictReader(handle))
    labels = {p["student_a"] for p in pairs} | {p["student_b"] for p in pairs}
    assert len(pairs) == len(labels) * (len(labels) - 1) // 2, "two students printed alike"
    assert {parse_display_name(label.removeprefix("'")) for label in labels} <= set(
        collided["students"])


def test_export_of_graded_withheld_results_shows_visible_tests_only(collided, tmp_path,
                                                                    capsys):
    """Issue 19 item 7 on a real OUT graded with --withhold-hidden: the Moodle file's grade
    and feedback hold the visible tests only, and stderr says so and names the maximum."""
    out, rows = collided["out"], collided["rows"]
    assert not visibility.hidden_released(out)
    visible_max = sum(t.points for t in FND.tests if not t.hidden)
    hidden = [t for t in FND.tests if t.hidden]
    ids = write_ids(tmp_path / "ids.csv", ["student_id", "idnumber", "first_name"],
                    [["Jos\\xe9", "N1", "Jo"], ["new\\nline", "N2", "Ne"]])
    target = tmp_path / "moodle.csv"
    assert export_to(out, "moodle", ids, target) == export.UNMATCHED  # the other folders
    err = capsys.readouterr().err
    assert "withholds hidden tests' results, so the export does too" in err
    rows_out = {r["ID number"]: r for r in csv.DictReader(io.StringIO(target.read_text("utf-8")))}
    correct = rows_out["N1"]
    written_max = float(rows["Jos\\xe9"]["total_max"]) - FND.max_score
    assert float(correct[FND.name]) == visible_max, correct
    feedback = correct[f"{FND.name} (feedback)"]
    assert (f"autograded {visible_max:g}/{visible_max:g} (visible tests only: {len(hidden)} "
            f"hidden test(s) worth {sum(t.points for t in hidden):g} points not released yet)"
            in feedback), feedback
    assert f"total {visible_max:g}/{visible_max + written_max:g} without the hidden tests" in (
        feedback)
    assert f"{FND.max_score:g}/" not in feedback and f"/{FND.max_score:g}" not in feedback
    assert f"maximum grade of each grade item (Gradebook setup, Edit grade item) to: " \
           f"{FND.name} {visible_max + written_max:g}" in err


# ---------------------------------------------------------------------------- duplicate ids


@pytest.mark.parametrize("system, column, values", [
    ("canvas", "canvas_id", ["101", "101"]),
    ("canvas", "sis_login_id", ["Ada@Uni", "ada@uni"]),
    ("moodle", "email", ["ada@uni.edu", "ADA@uni.edu"]),
    ("moodle", "idnumber", ["N1", "N1"]),
    ("moodle", "moodle_id", ["7", "7"]),
])
def test_two_students_sharing_an_lms_id_are_listed_and_left_out(out, tmp_path, capsys, system,
                                                                 column, values):
    header = ["student_id", "canvas_id", "sis_login_id", "email", "idnumber", "moodle_id"]
    base = {"ada": ["1", "a", "a@x", "I1", "11"], "ben": ["2", "b", "b@x", "I2", "12"],
            ODD: ["3", "c", "c@x", "I3", "13"], "ghost": ["4", "d", "d@x", "I4", "14"]}
    for student, value in zip(("ada", "ben"), values):
        base[student][header.index(column) - 1] = value
    ids = write_ids(tmp_path / "ids.csv", header, [[s, *v] for s, v in base.items()])
    target = tmp_path / f"{system}.csv"
    assert export_to(out, system, ids, target) == export.UNMATCHED
    err = capsys.readouterr().err
    assert f"unmatched: ada: shares its" in err and "with ben" in err
    assert "unmatched: ben: shares its" in err and "with ada" in err
    assert sorted(u[0] for u in read(export.unmatched_path(target), "utf-8")[1:]) == [
        "ada", "ben"]
    text = target.read_text("utf-8-sig")
    exported = list(csv.reader(io.StringIO(text)))[1 + (system == "canvas"):]
    assert len(exported) == 2, "the two others are still exported"
    assert not any(v in row for row in exported for v in values), exported


# ---------------------------------------------------------------------------- cells


FORMULAS = ["-inf", "+nan", "-1", "+1", "=1+1", '=HYPERLINK("http://x","y")', "@SUM(A1)",
            "\t=1", "\r=1", "\n=1", " =1", "\u200b=1", "\ufeff-1", "\uff1d1+1", "\uff0b1",
            "\uff0d1", "\uff20x", "\ufe66x", "\ufe62x", "\ufe63x", "\ufe6bx", "\u22121",
            "\u00a0-1"]


def test_every_text_cell_that_a_spreadsheet_could_evaluate_is_quoted(tmp_path, capsys):
    """Names (folders and the mapping's) that a spreadsheet reads as a formula or a signed
    number get a leading ' in every format and in grades.csv; grades stay numbers."""
    out = tmp_path / "out"
    students = ["-inf", "+nan", "-1", "=cmd|' /C calc'!A0", "@x", "plain"]
    for number, student in enumerate(students):
        save(out, graded_result(student, number + 1))
    rows = [[s, str(100 + i), f"S{i}", f"L{i}", FORMULAS[i % len(FORMULAS)],
             FORMULAS[(i + 3) % len(FORMULAS)], f"x{i}@y", f"I{i}"]
            for i, s in enumerate(students)]
    rows[-1][2:6] = ["+nan", "-inf", "\uff1dHYPERLINK(1)", " -2"]
    ids = write_ids(tmp_path / "ids.csv", ["student_id", "canvas_id", "sis_user_id",
                                           "section", "first_name", "last_name", "email",
                                           "idnumber"], rows)
    for system in export.FORMATS:
        target = tmp_path / f"{system}.csv"
        export_to(out, system, ids, target)
        table = list(csv.reader(io.StringIO(target.read_text("utf-8-sig"))))
        grades = {i for i, name in enumerate(table[0]) if name == FND.name}
        for row in table[1:]:
            for i, cell in enumerate(row):
                if i in grades or row[0] == "Points Possible" and i >= 5:
                    float(cell)  # a number, written as one
                else:
                    assert not formula_like(cell), (system, row, cell)
        flat = [cell for row in table for cell in row]
        assert "'-inf" in flat and "'+nan" in flat and "-inf" not in flat
    exported = list(csv.DictReader(io.StringIO((tmp_path / "csv.csv").read_text("utf-8"))))
    assert {r["student_id"] for r in exported} == {"'-inf", "'+nan", "'-1", "'=cmd|' /C calc'!A0",
                                                  "'@x", "plain"}
    for cell in FORMULAS:
        assert formula_like(cell) and not formula_like("'" + cell), repr(cell)
    for cell in ("plain", "1", "1.5", "Zoë", "", "'quoted", "inf", "nan", "a-b", "x=1"):
        assert not formula_like(cell), cell
    grades_csv = list(csv.DictReader(io.StringIO(storage.csv_text(storage.saved_results(out)))))
    assert {r["student_id"] for r in grades_csv} == {"'-inf", "'+nan", "'-1",
                                                      "'=cmd|' /C calc'!A0", "'@x", "plain"}
    capsys.readouterr()


def test_an_identifier_that_must_be_quoted_is_reported(out, tmp_path, capsys):
    ids = write_ids(tmp_path / "ids.csv", ["student_id", "canvas_id"],
                    [["ada", "-101"], ["ben", "102"], [ODD, "103"], ["ghost", "104"]])
    target = tmp_path / "canvas.csv"
    assert export_to(out, "canvas", ids, target) == export.UNMATCHED
    assert "unmatched: ada: its ID -101 starts like a spreadsheet formula" in (
        capsys.readouterr().err)


# ---------------------------------------------------------------------------- bad mappings


def _sqlite_without_students(path):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE other (x)")
    return path


BAD_MAPPINGS = {
    "field over 128 KiB": lambda p: p.write_text("student_id,name\nada," + "x" * 200_000 + "\n"),
    "not UTF-8": lambda p: p.write_bytes(b"student_id,name\nada,Jos\xe9\n"),
    "NUL bytes": lambda p: p.write_bytes(b"student_id,name\nada,A\0B\n"),
    "no student_id column": lambda p: p.write_text("name,canvas_id\nAda,1\n"),
    "student_id twice": lambda p: p.write_text("student_id,canvas_id\nada,1\nben,2\nada,3\n"),
    "column twice": lambda p: p.write_text("student_id,canvas_id,canvas_id\nada,1,2\n"),
    "empty": lambda p: p.write_bytes(b""),
    "a byte-order mark only": lambda p: p.write_bytes(b"\xef\xbb\xbf\r\n"),
    "a folder": lambda p: p.mkdir(),
    "missing": lambda p: None,
    "gradebook.db not SQLite": lambda p: p.write_bytes(os.urandom(4096)),
    "gradebook.db CSV inside": lambda p: p.write_text("student_id\nada\n"),
    "SQLite without a student table": _sqlite_without_students,
    "truncated SQLite": lambda p: p.write_bytes(b"SQLite format 3\0" + b"\0" * 50),
}


@pytest.mark.parametrize("case", sorted(BAD_MAPPINGS))
def test_a_malformed_mapping_is_one_clean_line_and_exit_two(out, tmp_path, capsys, case):
    path = tmp_path / ("gradebook.db" if "SQLite" in case or ".db" in case else "ids.csv")
    BAD_MAPPINGS[case](path)
    target = tmp_path / "canvas.csv"
    assert export_to(out, "canvas", path, target) == export.BAD_MAPPING, case
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and len(err) < 400, err
    assert not target.exists() and not export.unmatched_path(target).exists()


def test_a_huge_field_through_the_command_line_gives_no_traceback(out, tmp_path):
    ids = tmp_path / "ids.csv"
    ids.write_text("student_id,name\nada," + "x" * 200_000 + "\n")
    done = subprocess.run([sys.executable, "-m", "autograder", "export", str(out), "--to",
                           "csv", "--ids", str(ids)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == export.BAD_MAPPING, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert "field larger than field limit" in done.stderr


# ---------------------------------------------------------------------------- withheld


def hidden_result(student, visible, hidden, written, status="ok"):
    """A result of two visible tests (5 points each) and two hidden ones (5 each)."""
    tests = [{"grade_id": f"v{i}", "hidden": False, "max_points": 5.0, "points": p,
              "status": "passed" if p == 5 else "failed"} for i, p in enumerate(visible)]
    tests += [{"grade_id": f"h{i}", "hidden": True, "max_points": 5.0, "points": p,
               "status": st} for i, (p, st) in enumerate(hidden)]
    res = {"student_id": student, "assignment": TLN.name, "notebook": TLN.notebook,
           "status": status, "score": sum(t["points"] for t in tests), "max_score": 20.0,
           "tests": tests, "written": [{"grade_id": "w", "points": 6.0, "score": written,
                                        "comment": ""}]}
    res["total"] = res["score"] + (written or 0)
    res["total_max"] = 26.0
    return res


@pytest.fixture
def withheld_out(tmp_path):
    out = tmp_path / "withheld"
    save(out, hidden_result("ada", [5, 5], [(5, "passed"), (4, "failed")], 3.0))
    save(out, hidden_result("ben", [5, 0], [(0, "timeout"), (5, "passed")], None,
                            status="timeout"))
    visibility.set_hidden_released(out, False)
    ids = write_ids(tmp_path / "ids.csv", ["student_id", "canvas_id", "idnumber"],
                    [["ada", "1", "N1"], ["ben", "2", "N2"]])
    return out, ids


def test_withheld_hidden_results_stay_out_of_the_export(withheld_out, tmp_path, capsys):
    out, ids = withheld_out
    target = tmp_path / "moodle.csv"
    assert export_to(out, "moodle", ids, target) == 0
    err = capsys.readouterr().err
    assert "withholds hidden tests' results, so the export does too" in err
    assert f"{TLN.name} 16" in err, "the maximum of the visible part: 10 + 6 written"
    rows = {r["ID number"]: r for r in csv.DictReader(io.StringIO(target.read_text("utf-8")))}
    ada, ben = rows["N1"], rows["N2"]
    assert ada[TLN.name] == "13" and ben[TLN.name] == "5"
    note = ada[f"{TLN.name} (feedback)"]
    assert note.startswith("graded; autograded 10/10 (visible tests only: 2 hidden test(s) "
                           "worth 10 points not released yet); written 3/6; total 13/16 "
                           "without the hidden tests; feedback: "), note
    assert "19" not in note and "22" not in note and "/20" not in note and "/26" not in note
    assert ben[f"{TLN.name} (feedback)"].startswith("graded; autograded 5/10"), (
        "a hidden test's timeout is a hidden result too: the status is the visible tests'")
    canvas = tmp_path / "canvas.csv"
    assert export_to(out, "canvas", ids, canvas) == 0
    assert read(canvas, "utf-8-sig")[1][5:] == ["16"]

    assert export_to(out, "moodle", ids, target, "--include-hidden") == 0
    err = capsys.readouterr().err
    assert "--include-hidden exported the full totals" in err and f"{TLN.name} 26" in err
    rows = {r["ID number"]: r for r in csv.DictReader(io.StringIO(target.read_text("utf-8")))}
    assert rows["N1"][TLN.name] == "22" and "total 22/26;" in rows["N1"][f"{TLN.name} (feedback)"]
    assert rows["N2"][f"{TLN.name} (feedback)"].startswith("status timeout; autograded 10/20")

    visibility.set_hidden_released(out, True)
    assert export_to(out, "moodle", ids, target) == 0
    err = capsys.readouterr().err
    assert "withhold" not in err and "--include-hidden" not in err
    assert {r["ID number"]: r[TLN.name] for r in csv.DictReader(io.StringIO(
        target.read_text("utf-8")))} == {"N1": "22", "N2": "10"}


def test_percent_grades_and_the_maximum_to_set(withheld_out, tmp_path, capsys):
    out, ids = withheld_out
    visibility.set_hidden_released(out, True)
    target = tmp_path / "moodle.csv"
    assert export_to(out, "moodle", ids, target) == 0
    err = capsys.readouterr().err
    assert "Moodle's import takes no maximum grade" in err and f"{TLN.name} 26" in err
    assert export_to(out, "moodle", ids, target, "--percent") == 0
    assert f"{TLN.name} 100" in capsys.readouterr().err
    rows = {r["ID number"]: r for r in csv.DictReader(io.StringIO(target.read_text("utf-8")))}
    assert rows["N1"][TLN.name] == f"{round(100 * 22 / 26, 2):g}"
    assert "total 22/26" in rows["N1"][f"{TLN.name} (feedback)"], "points stay in the text"
    canvas = tmp_path / "canvas.csv"
    assert export_to(out, "canvas", ids, canvas, "--percent") == 0
    assert read(canvas, "utf-8-sig")[1][5:] == ["100"]


def test_visible_only_keeps_what_the_page_shows():
    res = hidden_result("ada", [5, 5], [(5, "passed"), (0, "timeout")], 2.0, status="timeout")
    shown = visibility.visible_only(res)
    assert (shown["score"], shown["max_score"], shown["total"], shown["total_max"]) == (
        10, 10, 12, 16)
    assert shown["status"] == "ok" and shown["withheld_tests"] == 2
    assert shown["withheld_points"] == 10 and res["score"] == 15, "the original is unchanged"
    assert all(not t["hidden"] for t in shown["tests"])
    plain = graded_result("ben", 3)
    assert visibility.visible_only(plain)["withheld_tests"] == 0
    assert utf8(export.comment(visibility.visible_only(plain)))


def test_a_damaged_total_is_left_blank_and_reported(tmp_path, capsys):
    out = tmp_path / "out"
    damaged = graded_result("ada", 10)
    damaged["total"] = float("nan")
    save(out, damaged)
    odd = graded_result("ben", 10)
    odd["total"] = "lots"
    save(out, odd)
    save(out, graded_result("cat", 12))
    ids = write_ids(tmp_path / "ids.csv", ["student_id", "idnumber"],
                    [["ada", "N1"], ["ben", "N2"], ["cat", "N3"]])
    target = tmp_path / "moodle.csv"
    assert export_to(out, "moodle", ids, target) == export.UNMATCHED
    rows = {r["ID number"]: r[FND.name] for r in csv.DictReader(io.StringIO(
        target.read_text("utf-8")))}
    assert rows == {"N1": "", "N2": "", "N3": "12"}
    assert "its total is not a number" in capsys.readouterr().err
