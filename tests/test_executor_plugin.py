"""Adding an executor is one class with the four methods of
``autograder.execution.executor.Executor`` (and ``jobs``): ``batch.grade_all(using=...)``
then grades on it through the same code path as the local pool and Dask (reuse keys,
publishing on this process, grades.csv, the progress bar)."""

import json

from autograder.discovery import Submission
from autograder.execution import batch, executor
from autograder.execution.task import grade_guarded
from autograder.outputs import storage
from autograder.records import Record
from autograder.sandbox.launch import Limits, isolation_mode
from course_under_test import TLN
from test_batch import write

LIMITS = Limits(call_seconds=5, cell_seconds=10, notebook_seconds=120)
BROKEN_RELU = {"relu": "def relu(x):\n    raise ValueError('not yet')"}


class LastFirst:
    """A throw-away executor: keeps what is submitted, grades it in this process, newest
    first, one per ``finished`` call (so results come back in another order than sent)."""

    def __init__(self, limits: Limits, isolation: str) -> None:
        self.jobs, self.limits, self.isolation = 2, limits, isolation
        self.queued: list[Submission] = []
        self.graded: list[str] = []
        self.closed = False

    def submit(self, item: Submission) -> None:
        self.queued.append(item)

    def in_flight(self) -> int:
        return len(self.queued)

    def finished(self, timeout: float) -> list[tuple[Submission, Record]]:
        item = self.queued.pop()
        self.graded.append(item.student)
        return [(item, grade_guarded(item, self.limits, self.isolation))]

    def close(self) -> None:
        self.closed = True


def test_a_new_executor_grades_a_batch_as_the_pool_does(tmp_path):
    subs = tmp_path / "subs"
    write(subs, "ada")
    write(subs, "bob", BROKEN_RELU)
    write(subs, "cy")
    isolation = isolation_mode("auto")
    mine = LastFirst(LIMITS, isolation)
    results, summary = batch.grade_all(subs, tmp_path / "mine", limits=LIMITS,
                                       isolation="auto", using=mine)
    pooled, _ = batch.grade_all(subs, tmp_path / "pool", jobs=2, limits=LIMITS, isolation="auto")
    assert mine.closed, "grade_all should close the executor it was given"
    assert sorted(mine.graded) == ["ada", "bob", "cy"], mine.graded
    assert mine.graded != ["ada", "bob", "cy"], "the throw-away executor should reorder"

    def rows(found):
        return {r["student_id"]: (r["status"], r["score"], r["total"]) for r in found}

    assert rows(results) == rows(pooled), (rows(results), rows(pooled))
    assert rows(results)["bob"][1] < TLN.max_score == rows(results)["ada"][1], rows(results)
    assert summary["submissions"] == 3 and summary["skipped_unchanged"] == 0, summary
    for student in ("ada", "bob", "cy"):  # published here: JSON with its key, and a page
        item = Submission(student, TLN.name, TLN.notebook,
                          subs / student / TLN.name / f"{TLN.notebook}.ipynb")
        saved = json.loads(storage.result_path(tmp_path / "mine", item).read_text())
        assert saved["key"] and saved["student_id"] == student, saved.get("key")
        assert storage.feedback_path(tmp_path / "mine", item).is_file(), student
    again, summary = batch.grade_all(subs, tmp_path / "mine", limits=LIMITS, isolation="auto",
                                     using=LastFirst(LIMITS, isolation))
    assert summary["skipped_unchanged"] == 3, "results an executor made are reused as any"


def test_run_publishes_each_result_once_and_closes_the_executor_when_stopped():
    items = [Submission(f"s{i}", TLN.name, TLN.notebook, None) for i in range(5)]
    made = executor.InlineExecutor(lambda item: {"status": "ok", "who": item.student})
    published: list[str] = []

    class Steps:
        def step(self, label: str) -> None:
            if len(published) == 3:
                raise KeyboardInterrupt

    def publish(item: Submission, raw: Record) -> Record:
        published.append(raw["who"])
        return raw

    closed = []
    made.close = lambda: closed.append(True)  # type: ignore[method-assign]
    try:
        executor.run(made, items, publish, Steps())
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the interrupt should go on")
    assert published == ["s0", "s1", "s2"], published
    assert closed == [True], "an interrupted run should close its executor"
