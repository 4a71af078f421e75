"""Inputs of hidden tests, drawn afresh for every submission from a secret course seed.

A hidden test takes its random inputs from ``hidden_rng()`` instead of a fixed seed. While
the grader runs a test (``autograder.grading.notebook_grader`` sets the context with ``submission`` and
``test``), the generator is seeded with HMAC-SHA256(secret, content hash of the submitted
notebook's bytes, the test's grade_id):

- the same notebook graded again draws the same inputs (results are deterministic and a
  saved result can be reused);
- any change to the notebook draws new inputs, so inputs learned from one grading run
  (through any channel) are worth nothing in the next;
- without the secret, nobody can compute the inputs of a notebook in advance.

The secret is 256 random bits in ``<course root>/.course-secret`` (``secret_path``; git
ignores it), made by ``python -m autograder build`` or by the first grading when missing. It
sits with the instructor's files: never in a release folder, never bound into the sandbox
(only ``nnlab/`` of the course is). A Gradescope bundle carries its own copy.

Without a grading context (a hidden test run by ``nbgrader autograde`` from the instructor's
source notebook, or by this repository's own tests), ``hidden_rng()`` is a fresh generator
seeded from the operating system's entropy: unpredictable and different at every call (those
paths run hidden tests where the student's code can see them anyway). To reproduce what the
grader drew for a notebook, set the context: ``with submission(content_hash(data)),
test(grade_id): hidden_rng()``.
"""

import contextlib
import contextvars
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from autograder import config

SECRET_NAME = ".course-secret"
SECRET_BYTES = 32

_SUBMISSION: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "hidden_submission", default=None)
_TEST: contextvars.ContextVar[str | None] = contextvars.ContextVar("hidden_test", default=None)
_SECRET: contextvars.ContextVar[bytes | None] = contextvars.ContextVar("hidden_secret",
                                                                       default=None)


def secret_path(root: Path | None = None) -> Path:
    """Where the course's secret is kept: ``<root>/.course-secret`` (default the course
    repository, ``config.ROOT``; in a Gradescope bundle, the bundle's source folder)."""
    return Path(root or config.ROOT) / SECRET_NAME


def ensure_secret(root: Path | None = None) -> bytes:
    """The course's secret, made (256 random bits, a file readable by its owner only) when
    missing. Safe when several processes start at once: the first file linked in place wins
    and every process reads that one."""
    path = secret_path(root)
    try:
        return read_secret(path)
    except FileNotFoundError:
        pass
    temporary = path.with_name(f"{SECRET_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(SECRET_BYTES) + "\n")
        try:
            os.link(temporary, path)  # fails if another process made it first
        except FileExistsError:
            pass
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return read_secret(path)


def ensure_secret_file(root: Path | None = None) -> Path:
    """The path of the course's secret, made first when missing (see ``ensure_secret``)."""
    ensure_secret(root)
    return secret_path(root)


def read_secret(path: Path | None = None) -> bytes:
    """The secret kept at ``path`` (default ``secret_path()``) as bytes; raises
    FileNotFoundError when missing and ValueError when the file is not a secret."""
    text = Path(path or secret_path()).read_text().strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < 16:
        raise ValueError(f"{path or secret_path()} does not hold a course secret (64 hex "
                         f"digits): delete it to make a new one (every submission is then "
                         f"regraded with new hidden inputs)")
    return secret


def secret_digest(root: Path | None = None) -> str:
    """A short public name of the secret (16 hex digits), for the grader key: results and
    cluster workers made with another secret do not match. Makes the secret if missing."""
    secret = ensure_secret(root)
    return hashlib.sha256(b"nnlab course secret id\0" + secret).hexdigest()[:16]


def content_hash(data: bytes) -> str:
    """The hash of a submitted notebook's bytes that its hidden inputs depend on."""
    return hashlib.sha256(data).hexdigest()


def seed_of(secret: bytes, submission_hash: str, grade_id: str) -> int:
    """The 256-bit seed of one hidden test for one submission."""
    message = f"nnlab hidden inputs\0{submission_hash}\0{grade_id}".encode()
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest(), "big")


@contextlib.contextmanager
def submission(submission_hash: str, secret: bytes | None = None) -> Iterator[None]:
    """While inside, hidden tests draw the inputs of the submission whose notebook has
    ``submission_hash`` (``content_hash``), from ``secret`` (default the course's)."""
    secret = ensure_secret() if secret is None else secret
    tokens = _SUBMISSION.set(submission_hash), _SECRET.set(secret)
    try:
        yield
    finally:
        _SUBMISSION.reset(tokens[0])
        _SECRET.reset(tokens[1])


@contextlib.contextmanager
def test(grade_id: str) -> Iterator[None]:
    """While inside, ``hidden_rng()`` serves the hidden test ``grade_id``."""
    token = _TEST.set(grade_id)
    try:
        yield
    finally:
        _TEST.reset(token)


test.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def in_context() -> bool:
    """True while a grading context (submission and test) is set."""
    return _SUBMISSION.get() is not None and _TEST.get() is not None


def hidden_rng() -> np.random.Generator:
    """The generator a hidden test draws its inputs from (call it once per test).

    In a grading context: seeded from the secret, the submission's content hash and the
    test's grade_id (the same each time the same notebook is graded). Outside one: a fresh
    generator seeded from the operating system's entropy.
    """
    submission_hash, grade_id, secret = _SUBMISSION.get(), _TEST.get(), _SECRET.get()
    if submission_hash is None or grade_id is None or secret is None:
        return np.random.default_rng()
    return np.random.default_rng(seed_of(secret, submission_hash, grade_id))
