"""Grading one notebook: the graded tests run in the grader's process against the student
process in the sandbox.

- ``notebook_grader``: one submitted notebook, start to result record;
- ``runner``: driving one student process (run its cells, call its functions);
- ``remote_student``: the student as the tests of ``autograder/suite/`` see it;
- ``hints``: check()'s diagnosis of a failed function, for the feedback page;
- ``written_grades``: the written answers and the TAs' grades of them.
"""
