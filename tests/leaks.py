"""What must never reach a student: lines that only hidden tests contain."""

import json
import textwrap


from course_under_test import TLN
TESTS = TLN.tests


def hidden_test_lines():
    """Lines of hidden tests that appear nowhere in the student release."""
    public = TLN.release_notebook.read_text()
    for test in TESTS:
        if test.hidden:
            for line in textwrap.dedent(test.source()).splitlines()[2:]:
                if len(line.strip()) > 20 and json.dumps(line.strip())[1:-1] not in public:
                    yield test.grade_id, line.strip()


def escaped(line):
    """The line as html.escape writes it."""
    return (line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;"))
