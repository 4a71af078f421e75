"""What grading leaves behind, and the one wall between student content and pages.

- ``storage``: result files under OUT, their reuse keys, grades.csv, the lock;
- ``feedback``: one self-contained HTML page per student (``feedback_results``: the tests'
  results and messages; ``feedback_notebook``: the student's notebook; ``markdown_html``:
  Markdown and math; ``sanitize``: the allow-list and content policy of every page);
- ``visibility``: whether hidden tests' results are shown on an OUT folder's pages;
- ``exports``: grades for Canvas, Moodle or a plain CSV;
- ``similarity``: the answer cells of a class compared.
"""
