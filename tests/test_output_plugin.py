"""Adding an output format is one class implementing ``autograder.outputs.exports.OutputFormat``,
registered by its name: ``export --to NAME`` then writes it through the same code path as
Canvas, Moodle and the plain CSV (mapping, matching, identifier checks, cells, stderr)."""

import argparse
import csv
import io
import json

import pytest

from autograder.outputs import exports, storage
from autograder.outputs.exports import OutputFormat
from autograder.outputs.exports.cells import cell_text
from course_under_test import COURSE, FND, TLN


class Semicolons(OutputFormat):
    """A throw-away format: semicolon separated, one identifier, a maximum row, a note."""

    name = "semicolons"
    identifiers = (("sis_user_id", "SIS"),)

    def header(self, assignments):
        return ["who", "sis", *assignments, f"{assignments[0]} says"]

    def maximum_rows(self, assignments, maxima):
        return [["out of", "", *(maxima[a] for a in assignments), ""]]

    def row(self, student, assignments):
        return ([student.entry["name"], student.entry["sis_user_id"]]
                + [student.grade(a) for a in assignments] + [student.feedback(assignments[0])])

    def encode(self, rows):
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=";").writerows([[cell_text(c) for c in r] for r in rows])
        return buffer.getvalue().encode("utf-8")

    def notes(self, made):
        return [f"note: {made.students} student(s) in semicolons"]


@pytest.fixture
def registered(monkeypatch):
    """Semicolons registered for one test only."""
    monkeypatch.setattr(exports, "REGISTRY", dict(exports.REGISTRY))
    assert exports.register(Semicolons) is Semicolons
    return Semicolons


def save(out, student, assignment, score):
    res = {"student_id": student, "assignment": assignment.name,
           "notebook": assignment.notebook, "status": "ok", "score": score,
           "max_score": assignment.max_score, "tests": [], "written": []}
    storage.write_atomic(storage.result_path(out, (student, assignment.name,
                                                   assignment.notebook, None)),
                         json.dumps(res))


@pytest.fixture
def graded(tmp_path):
    out = tmp_path / "out"
    save(out, "ada", FND, 30)
    save(out, "ada", TLN, 20)
    save(out, "ben", FND, 12)
    save(out, "=cmd", FND, 1)  # a name a spreadsheet would evaluate
    save(out, "nosis", FND, 5)
    save(out, "ghost", FND, 4)  # graded, not in the mapping
    ids = tmp_path / "ids.csv"
    ids.write_text("student_id,name,sis_user_id\nada,Ada,S1\nben,Ben,S2\n=cmd,=cmd,S3\n"
                   "nosis,No Sis,\n", encoding="utf-8")
    return out, ids


def export_to(out, system, ids, output, *flags):
    top = argparse.ArgumentParser()
    exports.add_parser(top.add_subparsers())
    args = top.parse_args(["export", str(out), "--to", system, "--ids", str(ids),
                           "--output", str(output), *flags])
    return exports.run(args)


def test_a_registered_format_exports_through_the_same_path(registered, graded, tmp_path,
                                                           capsys):
    out, ids = graded
    target = tmp_path / "semi.csv"
    assert export_to(out, "semicolons", ids, target) == exports.UNMATCHED
    first = [a.name for a in COURSE.assignments if a in (FND, TLN)]  # course order
    rows = list(csv.reader(io.StringIO(target.read_text("utf-8")), delimiter=";"))
    assert rows[0] == ["who", "sis", *first, f"{first[0]} says"]
    assert rows[1][0] == "out of" and [float(c) for c in rows[1][2:-1]] == [
        {FND.name: FND.max_score, TLN.name: TLN.max_score}[a] for a in first]
    by_sis = {r[1]: r for r in rows[2:]}
    assert sorted(by_sis) == ["S1", "S2", "S3"], "nosis lacks the identifier, ghost the row"
    assert by_sis["S3"][0] == "'=cmd", "cells are quoted for spreadsheets in every format"
    assert by_sis["S1"][2:4] == [{FND.name: "30", TLN.name: "20"}[a] for a in first]
    assert by_sis["S1"][-1].startswith("graded; autograded ")
    err = capsys.readouterr().err
    assert "note: 3 student(s) in semicolons" in err
    assert "unmatched: nosis: no sis_user_id in the mapping" in err
    assert "unmatched: ghost: graded but not in the mapping" in err
    with open(exports.unmatched_path(target), newline="", encoding="utf-8") as handle:
        assert sorted(r[0] for r in csv.reader(handle)) == ["ghost", "nosis", "student_id"]

    assert export_to(out, "semicolons", ids, target, "--percent") == exports.UNMATCHED
    rows = list(csv.reader(io.StringIO(target.read_text("utf-8")), delimiter=";"))
    assert rows[1][2:-1] == ["100"] * len(first)


def test_identifier_checks_follow_the_format(registered, graded, tmp_path, capsys):
    out, _ = graded
    ids = tmp_path / "shared.csv"
    ids.write_text("student_id,sis_user_id\nada,S1\nben,S1\n=cmd,-3\nnosis,S4\nghost,S5\n")
    assert export_to(out, "semicolons", ids, tmp_path / "s.csv") == exports.UNMATCHED
    err = capsys.readouterr().err
    assert "unmatched: ada: shares its SIS S1 with ben" in err
    assert "its SIS -3 starts like a spreadsheet formula, so the file has it with a leading ' " \
           "that semicolons will not match" in err


def test_the_registry_holds_each_name_once(registered):
    class Other(Semicolons):
        pass

    with pytest.raises(ValueError, match="semicolons"):
        exports.register(Other)
    assert exports.register(Semicolons) is Semicolons, "registering again is harmless"
    assert list(exports.REGISTRY) == [*exports.FORMATS, "semicolons"]
    assert isinstance(exports.output_format("semicolons"), Semicolons)


def test_an_unregistered_name_is_not_offered(tmp_path, capsys):
    assert "semicolons" not in exports.REGISTRY
    with pytest.raises(SystemExit):
        export_to(tmp_path, "semicolons", tmp_path / "ids.csv", tmp_path / "x.csv")
    assert "invalid choice: 'semicolons'" in capsys.readouterr().err
