"""The graded tests, one package per assignment (``autograder/suite/<assignment>/``).

An assignment's package is its registry entry (see ``autograder.course``): it collects the
assignment's ``TESTS`` (one module per student function, each test written once), names
its ``STUDENT_FUNCTIONS`` and says what the notebook's setup cell and test cells import.
``python -m autograder build`` pastes visible tests into the student notebook and hidden
ones into the instructor's source notebook; ``python -m autograder grade`` runs them in
the trusted grader process.
"""
