"""nbgrader's gradebook, fed from the sandboxed grades so formgrader and nbgrader's own
tools work.

- ``sync``: putting a class's results into the gradebook (``grade --gradebook``);
- ``autograde``: what ``nbgrader autograde`` records for one submission, done in-process;
- ``notebook``: the copy of a submission the gradebook is given;
- ``inert``: student content made inert in the notebooks the TA's formgrader shows
  (``markdown_escape``: Markdown escaped; ``formgrader_check``: formgrader's rendering checked).
"""
