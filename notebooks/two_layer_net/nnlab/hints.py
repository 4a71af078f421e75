"""The hint check() gives for a function, to go with a failed test's message.

A test says what came out and what was expected; ``check(name)`` says which mistake that
probably is. When a test of a function fails, ``hint_for`` runs that function's check (as
``check(name)`` would, with its own inputs: nothing of the test) and returns its hints in
one text, for ``run_test`` in the notebook and for the grader's feedback alike.
"""

from nnlab import check as checks

FUNCTION_NAMES = checks.FUNCTION_NAMES


def target_of(test_name):
    """The student function a test is about: the longest name its name starts with, or None."""
    names = [name for name in FUNCTION_NAMES if test_name.startswith(name + "_")]
    return max(names, key=len) if names else None


def diagnosis(name, namespace):
    """The hint texts (then notes) check(name) would print for the functions in ``namespace``.

    Inputs:
    - name: a function of the assignment, e.g. "softmax"
    - namespace: a mapping from function names to callables (the notebook's globals, or
      the grader's stand-ins that call the student's process)

    Returns:
    - a list of sentences: empty when the check passes or cannot run (a function it
      needs is missing or not implemented)
    """
    result = checks._Context(namespace).result(name)
    if result.status == "blocked":
        return [f"check({name!r}) cannot look for the mistake yet: {result.message}."]
    if result.status != "failed":
        return []
    hints, seen, seen_got = [], set(), set()
    for _, got, keys in result.failures:  # as check() prints them: the first, then new ones
        new = [key for key in dict.fromkeys(keys) if key not in seen]
        if hints and (not new or got in seen_got
                      or all(key in checks._GENERIC for key in new)):
            continue
        seen.update(new)
        seen_got.add(got)
        hints += [checks.HINTS[key] for key in (new or keys[:1])]
    return list(dict.fromkeys(hints)) + [f"Note: {note}." for note in result.notes]


def hint_text(name, namespace):
    """``diagnosis`` as one text starting "Hint (check(...)): ", or "" when there is none."""
    found = diagnosis(name, namespace)
    if not found:
        return ""
    return f"Hint (check({name!r})): " + " Also: ".join(found)


def hint_for(test_name, namespace):
    """The hint for a failed test, by its name (``softmax_stability`` -> softmax's check)."""
    name = target_of(test_name)
    if name is None:
        return ""
    try:
        return hint_text(name, namespace)
    except Exception:  # a hint is a bonus: never let it hide the test's own message
        return ""
