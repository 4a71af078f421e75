"""The hint check() gives for a function, to go with a failed test's message.

A test says what came out and what was expected; ``check(name)`` says which mistake that
probably is. When a test of a function fails, ``hint_for`` runs that function's check (as
``check(name)`` would, with its own inputs: nothing of the test) and returns its hints in
one text, for ``run_test`` in the notebook and for the grader's feedback alike.

Each function takes the assignment first: its Table, its checks module or its name (e.g.
"two_layer_net"; see ``nnlab.checking.table_of``).
"""

from nnlab.checking.engine import Context, shown_failures, table_of


def target_of(assignment, test_name):
    """The student function a test is about: the longest name its name starts with, or None."""
    names = [name for name in table_of(assignment).functions
             if test_name.startswith(name + "_")]
    return max(names, key=len) if names else None


def diagnosis(assignment, name, namespace):
    """The hint texts (then notes) check(name) would print for the functions in ``namespace``.

    Inputs:
    - assignment: the assignment's Table, checks module or name
    - name: a function of the assignment, e.g. "softmax"
    - namespace: a mapping from function names to callables (the notebook's globals, or
      the grader's stand-ins that call the student's process)

    Returns:
    - a list of sentences: empty when the check passes or cannot run (a function it
      needs is missing or not implemented)
    """
    table = table_of(assignment)
    result = Context(table, namespace).result(name)
    if result.status == "blocked":
        return [f"check({name!r}) cannot look for the mistake yet: {result.message}."]
    if result.status != "failed":
        return []
    hints = [table.hint(key) for _, _, keys in shown_failures(table, result) for key in keys]
    return list(dict.fromkeys(hints)) + [f"Note: {note}." for note in result.notes]


def hint_text(assignment, name, namespace):
    """``diagnosis`` as one text starting "Hint (check(...)): ", or "" when there is none."""
    found = diagnosis(assignment, name, namespace)
    if not found:
        return ""
    return f"Hint (check({name!r})): " + " Also: ".join(found)


def hint_for(assignment, test_name, namespace):
    """The hint for a failed test, by its name (``softmax_stability`` -> softmax's check)."""
    name = target_of(assignment, test_name)
    if name is None:
        return ""
    try:
        return hint_text(assignment, name, namespace)
    except Exception:  # a hint is a bonus: never let it hide the test's own message
        return ""
