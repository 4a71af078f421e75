"""The grader key: what, besides a submission, decides its grade (``grader_key``).

``batch`` keys every result with it (a changed key regrades), ``cluster`` refuses a
worker whose key differs from the coordinator's, and ``cluster_worker`` computes its own
and checks each task's; it lives here, below all three, so that none of them imports
another for it (issue 20: no import cycles). ``batch`` re-exports these names.
"""

import dataclasses
import hashlib

from autograder import course, hidden
from autograder.grading.notebook_grader import suite_fingerprint
from autograder.sandbox.isolation import isolation_key
from autograder.sandbox.launch import Limits


def grader_code() -> str:
    """Hash of the grader's code and of the releases (locked cells are restored from them)."""
    digest = hashlib.sha256()
    for assignment in course.current().assignments:
        digest.update(assignment.name.encode() + b"\0" + assignment.release_notebook.read_bytes())
    return f"{suite_fingerprint()}:{digest.hexdigest()[:16]}"


def grader_key(limits: Limits, isolation: str, code: str | None = None) -> str:
    """What, besides a submission, decides its grade: the grader's code and the releases
    (``code``, default ``grader_code()``), the limits and the isolation really in force, and
    a hash of the course secret (hidden tests draw their inputs from it, ``autograder.hidden``):
    a new secret regrades everything, and a cluster worker with another secret is refused."""
    return (f"{code or grader_code()}:{isolation_key(isolation)}:{dataclasses.astuple(limits)}"
            f":{hidden.secret_digest()}")


def key_differences(mine: str, theirs: str) -> list[str]:
    """What differs between two ``grader_key``s, in words."""
    parts = ("the grader's code (autograder/, solutions/, nnlab/)", "the releases",
             "the isolation", "the limits", "the course secret (.course-secret)")
    here_parts, there_parts = mine.split(":", 4), theirs.split(":", 4)
    if len(here_parts) != len(parts) or len(there_parts) != len(parts):
        return ["the grader (another version)"]
    return [f"{name} ({here} here, {there} there)" if name == "the isolation" else name
            for name, here, there in zip(parts, here_parts, there_parts) if here != there]
