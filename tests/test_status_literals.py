"""Statuses are written once, in ``autograder/records.py`` (issue 20): elsewhere in the
autograder a row or test status is an enum member (``RowStatus.OK``), never a string.

The test reads every module's AST and fails on a string constant that spells a status,
naming file:line, unless the string is plainly something else that happens to be spelled
alike: a docstring, a dict key or subscript (``reply["ok"]``, ``cells_not_kept["failed"]``),
a keyword argument other than ``status=`` (``output_type="error"``), an argument of a
logging or printing call (``log("failed", ...)``), a dict value under a key other than
``"status"`` (``{"kind": "timeout"}``), something compared with a worker reply's ``kind``,
a name other than a status given a value (``code = "timeout"``), text inside an f-string
(a CSS class ``passed``), or the keys a loop runs over (``for key in ("ok", "kind")``).
"""

import ast
from pathlib import Path

from autograder.records import GradescopeStatus, RowStatus, TestStatus

AUTOGRADER = Path(__file__).resolve().parent.parent / "autograder"
RECORDS = AUTOGRADER / "records.py"
STATUSES = {str(s) for enum in (RowStatus, TestStatus, GradescopeStatus) for s in enum}
# The worker runs in the sandbox, where only it and wire.py are bound (no autograder
# package): its replies' ``kind`` ("error", "not_implemented", ...) is the wire's own word.
NOT_CHECKED = {AUTOGRADER / "sandbox" / "student_process.py"}
# Calls whose arguments are messages or log events (``log("failed", ...)``), not statuses.
_MESSAGE_CALLS = {"log", "print", "write", "debug", "info", "warning", "error", "exception"}


def _docstrings(tree):
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _mentions_kind(node):
    return any(isinstance(n, ast.Name) and n.id == "kind"
               or isinstance(n, ast.Attribute) and n.attr == "kind" for n in ast.walk(node))


def _not_a_status(node, parents):
    """True when the string constant ``node`` is used as something other than a status."""
    child, parent = node, parents.get(id(node))
    while isinstance(parent, ast.IfExp) and child is not parent.test:
        child, parent = parent, parents.get(id(parent))
    if isinstance(parent, ast.Dict):
        if any(key is child for key in parent.keys):
            return True
        key = parent.keys[parent.values.index(child)]
        return not (isinstance(key, ast.Constant) and key.value == "status")
    if isinstance(parent, ast.Subscript):
        return child is parent.slice
    if isinstance(parent, ast.Call):
        callee = parent.func.attr if isinstance(parent.func, ast.Attribute) else \
            parent.func.id if isinstance(parent.func, ast.Name) else None
        return callee in _MESSAGE_CALLS or (callee in ("get", "pop") and parent.args
                                            and parent.args[0] is child)
    if isinstance(parent, ast.keyword):
        return parent.arg != "status"
    if isinstance(parent, ast.Compare):
        return _mentions_kind(parent)
    if isinstance(parent, (ast.Assign, ast.AnnAssign)):
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        return all(isinstance(t, ast.Name) and "status" not in t.id.lower() for t in targets)
    if isinstance(parent, ast.FormattedValue):
        return True
    loop = parents.get(id(parent))
    if isinstance(parent, (ast.Tuple, ast.List)) and isinstance(loop, (ast.For, ast.comprehension)):
        return (parent is loop.iter and isinstance(loop.target, ast.Name)
                and "status" not in loop.target.id.lower())  # for key in ("ok", "kind")
    return False


def status_literals(path):
    """(line, text) of each string constant in ``path`` that writes a status."""
    tree = ast.parse(path.read_text(), str(path))
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    docstrings = _docstrings(tree)
    return sorted((node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and node.value in STATUSES and id(node) not in docstrings
                  and not _not_a_status(node, parents))


def test_statuses_are_enum_members_outside_records():
    found = [f"{path.relative_to(AUTOGRADER.parent)}:{line}: {text!r}"
             for path in sorted(AUTOGRADER.rglob("*.py"))
             if path != RECORDS and path not in NOT_CHECKED
             for line, text in status_literals(path)]
    assert not found, ("statuses written as strings; use autograder.records' RowStatus / "
                       "TestStatus / GradescopeStatus:\n" + "\n".join(found))


def test_the_check_sees_a_status_literal(tmp_path):
    module = tmp_path / "module.py"
    module.write_text('"""ok"""\n'
                      'def f(result, reply, kind):\n'
                      '    """timeout"""\n'
                      '    if result["status"] == "grader_error":\n'     # 4: a status
                      '        return {"status": "ok", "kind": "error"}\n'  # 5: "ok" only
                      '    if kind == "timeout" or reply["ok"]:\n'
                      '        return dict(status="passed", output_type="error")\n'  # 7
                      '    code = "timeout"\n'
                      '    status = "failed" if code else "ok"\n'  # 9 twice
                      '    log("failed", status="timeout")\n'  # 10: the status only
                      '    return {"timeout", "kernel_died"} & {result["status"]}\n')  # 11
    assert status_literals(module) == [(4, "grader_error"), (5, "ok"), (7, "passed"),
                                       (9, "failed"), (9, "ok"), (10, "timeout"),
                                       (11, "kernel_died"), (11, "timeout")]
