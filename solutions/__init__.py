"""Reference solutions (instructors only), one package per assignment of the course.

Each ``solutions/<assignment>/`` is that assignment's single source of truth: the
instructor's source notebook's ``### BEGIN SOLUTION`` regions are generated from its
functions by ``python -m autograder build``, and its hidden tests compare against them.
"""
