"""What a sandbox backend is: one way to start the student process confined (``Backend``),
and the registry of them, in the order ``--isolation auto`` tries them.

The built-in backends are ``bubblewrap_backend`` (namespaces, the strongest) and
``rlimits_backend`` (resource limits only, works everywhere); ``autograder.sandbox.isolation``
chooses among the registered ones, names what is in force and makes the grader key's part.
A new backend is one module with a class implementing ``Backend``, passed to ``register``.
"""

from __future__ import annotations

import os
from typing import Any, Protocol, TypeVar

from autograder.sandbox.limits import Limits
from autograder.sandbox.spawn import SandboxProcess


class Backend(Protocol):
    """One way to start the student process confined."""

    name: str
    """Its ``--isolation`` name, recorded in results and in the grader key."""

    def problem(self) -> str | None:
        """None when it works on this machine, else why not (its self-check, run once)."""
        ...

    def variant(self) -> str:
        """Which of its variants is in force here (e.g. bubblewrap's "setuid" as root), for
        the grader key: a result graded under another variant is graded again."""
        ...

    def describe(self) -> tuple[str, list[str]]:
        """(how student code is confined, in a few words; warnings about what is missing).
        ``isolation.describe`` adds the memory and process limits."""
        ...

    def counts_processes(self) -> bool:
        """True when ``RLIMIT_NPROC`` limits the student's processes without a cgroup."""
        ...

    def start(self, scratch: str | os.PathLike[str], limits: Limits, fds: tuple[int, int],
              popen: dict[str, Any]) -> SandboxProcess:
        """Start the student process in ``scratch`` (its working folder, holding the
        submission's extra files). ``fds``: the read end of the requests pipe and the write
        end of the replies pipe, which the student process gets as its arguments (see
        ``spawn.worker_args``); ``popen``: the ``subprocess.Popen`` keywords every backend
        passes (cwd, standard streams, the limits set before exec)."""
        ...


B = TypeVar("B", bound=Backend)

#: The sandbox backends by name, in the order ``--isolation auto`` tries them.
BACKENDS: dict[str, Backend] = {}


def register(backend: B) -> B:
    """Make ``backend`` available as ``--isolation backend.name``; returns it. ValueError
    when another backend has that name."""
    if BACKENDS.get(backend.name, backend) is not backend:
        raise ValueError(f"a sandbox backend is already registered as {backend.name!r}")
    BACKENDS[backend.name] = backend
    return backend


def unregister(name: str) -> None:
    """Forget the backend ``name`` (a test's throw-away one)."""
    BACKENDS.pop(name, None)
