"""``Limits``: what one submission's student code may use (see ``autograder.sandbox.launch``,
which enforces them and re-exports ``Limits``; import it from there).

Defined here, below ``sandbox`` and ``bubblewrap`` (which builds the sandbox's command
line from them), so that neither imports the other for it (issue 20: no import cycles).
"""

import dataclasses

GIB = 1 << 30


@dataclasses.dataclass(frozen=True)
class Limits:
    memory_bytes: int = 2 * GIB     # in all with a cgroup, else per process (address space)
    cpu_seconds: int = 900          # CPU time of one student process
    file_bytes: int = 64 << 20      # largest file the student code may write
    cell_seconds: float = 60.0      # wall time to run one notebook cell
    notebook_seconds: float = 600.0  # wall time for a whole submission, restarts included
    call_seconds: float = 10.0      # default wall time of one call (tests may raise it)
    scratch_bytes: int = 256 << 20  # size of the student's writable folder (bubblewrap: tmpfs)
    tmp_bytes: int = 64 << 20       # size of /tmp and /dev/shm each (bubblewrap: tmpfs)
    processes: int = 64             # processes and threads (cgroup; RLIMIT_NPROC in bwrap)
