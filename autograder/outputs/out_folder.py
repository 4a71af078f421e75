"""Every place under a grading folder OUT, named once: ``OutFolder(out).results`` and so
on. The commands, the service and the outputs take their paths from here, so the layout
below is the one place to read or change it.

- ``results/<student>/<assignment>/<notebook>.json``: one result per submission;
- ``feedback/<student>/<assignment>/<notebook>.html``: its feedback page;
- ``grades.csv``: one row per result, rewritten at the end of each run;
- ``.grade.lock``: one ``grade`` (or the service's publishing) at a time;
- ``release.json``: whether the pages show hidden tests' results;
- ``nbgrader/``: the course directory of nbgrader's gradebook and formgrader;
- ``serve/``: the feedback service's queue and working files;
- ``similarity/``, ``export/``: the reports those commands write.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from autograder.discovery import Submission


@dataclasses.dataclass(frozen=True)
class OutFolder:
    """The places under the grading folder ``root``."""

    root: Path

    def __init__(self, root: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "root", Path(root))

    @property
    def results(self) -> Path:
        """The result files' folder."""
        return self.root / "results"

    @property
    def feedback(self) -> Path:
        """The feedback pages' folder."""
        return self.root / "feedback"

    @property
    def grades_csv(self) -> Path:
        """The gradebook as one CSV."""
        return self.root / "grades.csv"

    @property
    def lock(self) -> Path:
        """The file locked while a run writes under OUT."""
        return self.root / ".grade.lock"

    @property
    def release_setting(self) -> Path:
        """Whether hidden tests' results are released (``outputs.visibility``)."""
        return self.root / "release.json"

    @property
    def nbgrader(self) -> Path:
        """nbgrader's course directory (the gradebook, formgrader's notebooks)."""
        return self.root / "nbgrader"

    @property
    def serve(self) -> Path:
        """The feedback service's own folder (its queue database, its working files)."""
        return self.root / "serve"

    @property
    def similarity(self) -> Path:
        """The similarity report's folder."""
        return self.root / "similarity"

    @property
    def export(self) -> Path:
        """Where ``export`` writes its files by default."""
        return self.root / "export"

    def result(self, item: Submission) -> Path:
        """The result file of ``item``."""
        student, assignment, notebook, _ = item
        return self.results / student / assignment / f"{notebook}.json"

    def page(self, item: Submission) -> Path:
        """The feedback page of ``item``."""
        student, assignment, notebook, _ = item
        return self.feedback / student / assignment / f"{notebook}.html"
