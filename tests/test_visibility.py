"""Hidden tests' results withheld from feedback pages until the instructor releases them."""

import nbformat

from autograder.grading.notebook_grader import empty_tests
from autograder.outputs import feedback, visibility
from course_under_test import TLN

SECRET = "SECRET-HIDDEN-MESSAGE"


def result_with_hidden_failed():
    """Visible tests passed except one; every hidden test failed (one timed out) with a
    public message."""
    tests = empty_tests(TLN, "passed", "passed")
    visible_failed = next(t for t in tests if not t["hidden"])
    for record in tests:
        record["points"] = record["max_points"]
        if record["hidden"]:
            record.update(status="failed", points=0.0, public=True, message=f"{SECRET} {record['grade_id']}")
    timed_out = next(t for t in tests if t["hidden"])
    timed_out.update(status="timeout", message=f"your code did not finish: {SECRET}")
    visible_failed.update(status="failed", points=0.0, message="expected 3, got 4 VISIBLE-MSG")
    return {"status": "timeout", "score": sum(t["points"] for t in tests),
            "max_score": TLN.max_score, "tests": tests, "cells": {},
            "written": [{"grade_id": "w1", "points": 2.0, "score": 2.0, "comment": ""}],
            "total": sum(t["points"] for t in tests) + 2.0, "total_max": TLN.max_score + 2.0}


def page_for(tmp_path, result, withhold):
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.read(str(TLN.release_notebook), as_version=4), str(path))
    return feedback.render("stu", TLN.name, result, path, TLN, withhold_hidden=withhold)


def test_withheld_page_shows_visible_results_only(tmp_path):
    result = result_with_hidden_failed()
    hidden = [t for t in result["tests"] if t["hidden"]]
    visible = [t for t in result["tests"] if not t["hidden"]]
    assert hidden and visible
    hidden_points = sum(t["max_points"] for t in hidden)
    visible_score = sum(t["points"] for t in visible)
    visible_max = sum(t["max_points"] for t in visible)

    released = page_for(tmp_path, result, withhold=False)
    assert SECRET in released
    assert f"{result['score']:g} / {result['max_score']:g}" in released
    assert "will be released later" not in released
    for record in hidden:
        assert f"{record['grade_id']} (hidden)" in released
        assert f"{record['grade_id']}: 0 / {record['max_points']:g}" in released

    withheld = page_for(tmp_path, result, withhold=True)
    assert SECRET not in withheld
    assert "VISIBLE-MSG" in withheld  # visible results still shown
    assert (f"results of {len(hidden)} hidden test(s) ({hidden_points:g} points) will be "
            f"released later") in withheld
    assert f"<b>{visible_score:g} / {visible_max:g}</b> (visible tests only" in withheld
    assert f"{result['score']:g} / {result['max_score']:g}" not in withheld
    assert f"{result['total']:g} / {result['total_max']:g}" not in withheld
    assert "timeout" not in withheld.split("<h2>Tests</h2>")[0]  # the hidden timeout's row status
    for record in hidden:  # no per-hidden-test row, score, status or message
        assert f"{record['grade_id']} (hidden)</td>" not in withheld
        assert f"{record['grade_id']}: 0 / " not in withheld

    minimal = feedback.minimal_page("stu", TLN.name, result, withhold_hidden=True)
    assert all(record["grade_id"] not in minimal for record in hidden)
    assert "will be released later" in minimal


def test_setting_round_trip(tmp_path):
    out = tmp_path / "out"
    assert visibility.hidden_released(out) is True  # default: today's behaviour
    assert visibility.set_hidden_released(out, False) == out / "release.json"
    assert visibility.hidden_released(out) is False
    visibility.set_hidden_released(out, True)
    assert visibility.hidden_released(out) is True
    (out / "release.json").write_text("{not json")
    assert visibility.hidden_released(out) is False  # broken setting: withhold
    (out / "release.json").write_text('{"hidden_released": "yes"}')
    assert visibility.hidden_released(out) is False
