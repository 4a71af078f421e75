"""Gradescope: the autograder zip (``bundle``) and what it runs there (``run``)."""
