"""Similarity report: a disguised copy ranks first, the release's own text counts for nothing."""

import argparse
import ast
import csv
import io
import json
import tokenize

import nbformat

from autograder import build, demo
from autograder.outputs import similarity
from course_under_test import FND

# A third, independent way of writing some of the foundations functions (the rest stay stubs).
THIRD = '''
def count_parameters(layer_sizes):
    n = 0
    for a, b in zip(layer_sizes, layer_sizes[1:]):
        n = n + a * b + b
    return n


def conv_output_size(n, kernel, stride=1, padding=0):
    return (n + 2 * padding - kernel) // stride + 1


def softmax_jacobian(y):
    import numpy
    s = numpy.asarray(y, dtype=float)
    if s.ndim == 1:
        return numpy.diagflat(s) - s[:, None] * s[None, :]
    return numpy.array([numpy.diagflat(r) - numpy.outer(r, r) for r in s])


def l1_loss(X, y, w):
    import numpy
    return float(numpy.mean(numpy.abs(numpy.dot(X, w) - y)))
'''
ODD_NAME = "thi\x1b[31mrd"  # a student id with a terminal escape: shown escaped


def disguised(source):
    """``source`` with every local variable renamed and every comment rewritten."""
    tree = ast.parse(source)
    names = {node.id for node in ast.walk(tree)
             if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    out = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string in names:
            token = token._replace(string=f"q_{token.string[::-1]}")
        elif token.type == tokenize.COMMENT:
            token = token._replace(string="# my own idea")
        out.append((token.type, token.string))
    return tokenize.untokenize(out)


def reference_functions():
    functions = {}
    for function in FND.reference:
        lines = build.answer_source(function).splitlines()
        functions[function.__name__] = "\n".join(
            line for line in lines if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    return functions


def write(out, student, notebook):
    path = out / "submissions" / f"s{len(list(out.rglob('*.ipynb')))}" / FND.name / f"{FND.notebook}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, str(path))
    result = {"student_id": student, "assignment": FND.name, "notebook": FND.notebook,
              "path": str(path), "status": "ok", "score": 0, "max_score": 30, "tests": []}
    target = out / "results" / f"s{len(list((out / 'results').rglob('*.json')))}" / FND.name
    target.mkdir(parents=True)
    (target / f"{FND.notebook}.json").write_text(json.dumps(result))


def test_planted_copy_first_and_release_counts_for_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "results").mkdir(parents=True)
    release = nbformat.read(str(FND.release_notebook), as_version=4)
    ada = demo.functions_in(FND.demo_dir / "students" / f"{demo.CORRECT}.py")
    copy = {name: disguised(source) for name, source in ada.items()}
    assert all(copy[name] != ada[name] for name in ada)
    third = {name: source.strip() for name, source in
             ((node.name, ast.get_source_segment(THIRD, node)) for node in ast.parse(THIRD).body)}
    for student, functions in (("ada", ada), ("reference", reference_functions()),
                               (ODD_NAME, third), ("zed_copy", copy), ("fay_untouched", {})):
        write(out, student, demo.fill(release, functions))

    code = similarity.run(argparse.Namespace(out=out, assignment=[FND.name], top=20))
    assert code == 0, capsys.readouterr().err

    rows = list(csv.DictReader((out / "similarity" / f"{FND.name}.csv").open()))
    assert len(rows) == 10  # every pair of 5
    first = rows[0]
    assert {first["student_a"], first["student_b"]} == {"ada", "zed_copy"}
    assert float(first["similarity"]) > 0.9
    assert all(float(row["similarity"]) < float(first["similarity"]) - 0.3 for row in rows[1:])
    for row in rows:  # the untouched release is all boilerplate
        if "fay_untouched" in (row["student_a"], row["student_b"]):
            assert float(row["similarity"]) == 0.0, row
    assert "\x1b" not in "".join(row["student_a"] + row["student_b"] for row in rows)

    page = (out / "similarity" / f"{FND.name}.html").read_text()
    assert "<mark>" in page and "\x1b" not in page and "thi\\x1b[31mrd" in page
    assert "<script" not in page and "http:" not in page and "https:" not in page  # self-contained
    assert page.index('http-equiv="Content-Security-Policy"') < page.index("<title>")
    assert page.index("ada") < page.index("reference")  # the top pair is listed first


def test_huge_answer_cells_are_cut_and_named(tmp_path, capsys, monkeypatch):
    """Issue 17: two answer cells of megabytes cost seconds and a page of bounded size, and
    the report names each cut; a deadline stops the comparison, said so."""
    out = tmp_path / "out"
    (out / "results").mkdir(parents=True)
    release = nbformat.read(str(FND.release_notebook), as_version=4)
    ada = demo.functions_in(FND.demo_dir / "students" / f"{demo.CORRECT}.py")
    first = next(iter(ada))
    huge = ada[first] + "\n" + "x = [1, 2, 3]  # <script>alert(1)</script>\n" * 120_000
    for student in ("big_one", "big_two", "ada"):
        write(out, student, demo.fill(release, {**ada, first: huge} if student != "ada" else ada))
    monkeypatch.setattr(similarity, "PAGE_LIMIT", 120_000)
    code = similarity.run(argparse.Namespace(out=out, assignment=[FND.name], top=20))
    assert code == 0
    page = (out / "similarity" / f"{FND.name}.html").read_text()
    assert len(page) < 400_000, len(page)
    for student in ("big_one", "big_two"):
        assert f"of {student} cut at {similarity.CELL_LIMIT:,} characters" in page, student
    assert "is not shown: the page holds at most" in page
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "named in the report" in capsys.readouterr().err

    notes = []
    entries = similarity.submissions(out)[FND.name]
    pairs = similarity.compare(FND, entries, notes=notes, seconds=0)
    assert pairs == [] and any("not compared: the comparison stops" in n for n in notes), notes
