"""The bubblewrap backend: namespaces, a read-only view of only what the student process
needs, a seccomp filter; as root without a user namespace (``setuid``: the student process
switches to a uid of its own), otherwise in one (``userns``). Described in full in
``autograder.sandbox.launch``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from autograder.sandbox import probes, seccomp, spawn, uids as sandbox_uid
from autograder.sandbox.backend import register
from autograder.sandbox.limits import Limits
from autograder.sandbox.spawn import SandboxProcess


class Bubblewrap:
    """``--isolation bubblewrap``."""

    name = "bubblewrap"

    def problem(self) -> str | None:
        """None when one of its modes passed its self-check here."""
        if probes.bubblewrap_mode() is not None:
            return None
        return "; ".join(f"{mode}: {note}" for mode, note in probes._PROBE_NOTES.items()
                         if mode in ("bubblewrap", "setuid", "userns")) or "it does not work"

    def variant(self) -> str:
        """"setuid", "userns", or "None" when it does not work."""
        return str(probes.bubblewrap_mode())

    def describe(self) -> tuple[str, list[str]]:
        """Who the student process is, and whether seccomp is on."""
        mode, warnings = probes.bubblewrap_mode(), []
        who = (f"as uid {sandbox_uid.UID_BASE}+ without capabilities" if mode == "setuid" else
               "in a user namespace without capabilities")
        line = f"bubblewrap ({who}, seccomp {'on' if seccomp.supported() else 'off'})"
        if mode == "userns" and os.geteuid() == 0:
            warnings.append("grading as root, but the sandbox could not switch to its own "
                            f"uid ({probes._PROBE_NOTES.get('setuid', '?')}): student code "
                            "runs as root without capabilities, with no process-count limit")
        return line, warnings

    def counts_processes(self) -> bool:
        """As a uid of its own, or in a user namespace on Linux 5.14 and later."""
        mode = probes.bubblewrap_mode()
        return mode == "setuid" or (mode == "userns" and os.geteuid() != 0
                                    and spawn.nproc_per_namespace())

    def start(self, scratch: str | os.PathLike[str], limits: Limits, fds: tuple[int, int],
              popen: dict[str, Any]) -> SandboxProcess:
        """bwrap, with the student process inside at /grader/student_process.py."""
        mode = probes.bubblewrap_mode()
        if mode is None:
            raise RuntimeError(f"bubblewrap does not work here: {self.problem()}")
        inner = ["python", "-B", "-s", "/grader/student_process.py",
                 *spawn.worker_args(mode, *fds, limits)]
        if mode == "setuid":  # the sandbox uid must be able to read its own files
            for path in Path(scratch).rglob("*"):
                if path.is_file() and not path.is_symlink():
                    path.chmod(path.stat().st_mode | 0o444)
        return spawn.start_bubblewrap(scratch, inner, limits, mode, fds,
                                      env=spawn.environment(True), **popen)


register(Bubblewrap())
