"""The rlimits backend: the same resource limits, no namespaces, for machines where
bubblewrap does not work. As root the student process switches to a uid of its own
(after a self-check, ``probes.rlimits_uid_mode``); otherwise it runs as the grading user.
Described in full in ``autograder.sandbox.launch``."""

from __future__ import annotations

import os
import sys
from typing import Any

from autograder.sandbox import probes, rlimits_files, spawn, uids as sandbox_uid
from autograder.sandbox.backend import register
from autograder.sandbox.limits import Limits
from autograder.sandbox.spawn import SandboxProcess


class Rlimits:
    """``--isolation rlimits``."""

    name = "rlimits"

    def problem(self) -> str | None:
        """None: it works wherever Python does."""
        return None

    def variant(self) -> str:
        """"sandbox-uid" (as root, switched to a uid of its own) or "grader-uid"."""
        return "sandbox-uid" if probes.rlimits_uid_mode() else "grader-uid"

    def describe(self) -> tuple[str, list[str]]:
        """Who the student process is, and what it can reach as that user."""
        warnings = []
        if probes.rlimits_uid_mode():
            named = sandbox_uid.sandbox_user()
            who = named[0] if named else f"uid {sandbox_uid.UID_BASE}+"
            line = (f"rlimits (student code runs as {who} without capabilities; it sees the "
                    "host's files that any user may read, and the network)")
        elif os.geteuid() == 0:
            line = "rlimits (student code runs as root)"
            warnings.append("grading as root, but student code could not switch to a uid of its "
                            f"own ({probes.rlimits_uid_failure()}): it runs as root and can read "
                            "and write everything, the tests and the grader's results included")
        else:
            line = (f"rlimits (student code runs as the grading user, uid {os.geteuid()}: it "
                    "can read and write what the grader can and signal the grader)")
        return line, warnings

    def counts_processes(self) -> bool:
        """Without a cgroup, nothing counts its processes."""
        return False

    def start(self, scratch: str | os.PathLike[str], limits: Limits, fds: tuple[int, int],
              popen: dict[str, Any]) -> SandboxProcess:
        """The student process as a plain child, switching first to a uid of its own when
        the grader is root and the self-check passed."""
        identity = sandbox_uid.rlimits_identity(scratch) if probes.rlimits_uid_mode() else None
        worker, options = spawn.WORKER, []
        if identity is not None:  # as root: the worker becomes that uid first
            worker = rlimits_files.prepare_rlimits_uid(scratch, *identity)
            options = [f"uid={identity[0]}", f"gid={identity[1]}",
                       f"processes={limits.processes}"]
        process = SandboxProcess(
            [sys.executable, "-B", "-s", str(worker), *map(str, fds), *options],
            env=rlimits_files.rlimits_environment(scratch), pass_fds=fds, **popen)
        process.uid = identity[0] if identity is not None else None
        return process


register(Rlimits())
