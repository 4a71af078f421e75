"""``python -m autograder serve``: feedback within a minute of submitting.

A long-running service beside nbgrader's exchange: it watches the course's inbound folder
(``watch``), records each new submission once in a SQLite queue (``queue``), copies it in
(``intake``) and grades it in arrival order with the grader of ``grade`` (``grader``),
then publishes it (``publish``): the feedback page into the exchange under nbgrader's own
name (``release``), so ``nbgrader fetch_feedback`` and the Assignments tab show it, and the
submission that counts (``policy``) into OUT and its gradebook. ``status`` reads the queue
for ``--status`` and ``--health``; ``service`` is the loop; ``command`` the command line.
See docs/serving.md.
"""

from autograder.serve.command import add_parser, run

__all__ = ["add_parser", "run"]
