"""A seccomp filter for the student process: no namespaces, no mounts, no chroot.

bubblewrap loads it (``--seccomp FD``) just before it starts the worker, so it holds for
everything the student's code runs, its children included, and cannot be removed.
The filter is classic BPF, assembled here with ``struct`` (no libseccomp needed):

- a system call of another architecture (x86_64's 32-bit and x32 entry points) fails
  with EPERM: their numbers differ, so they would bypass the list below;
- ``clone`` with any ``CLONE_NEW*`` flag fails with EPERM (threads and ``fork`` still work);
- ``clone3`` fails with ENOSYS: its flags are in memory the filter cannot read, and on
  ENOSYS the C library falls back to ``clone`` (Docker's default profile does the same);
- namespaces (``unshare``, ``setns``), mounting (``mount``, ``umount2``, ``pivot_root``,
  the new mount API), ``chroot``, and kernel interfaces a submission has no use for
  (``bpf``, ``perf_event_open``, ``userfaultfd``, the key-ring calls) fail with EPERM.

Most of these already need a capability the student process does not have; the filter
matters for ``unshare(CLONE_NEWUSER)``, which an unprivileged user may otherwise call to
get a namespace of its own where it holds every capability.
"""

import errno
import platform
import struct

# <linux/filter.h>, <linux/seccomp.h>, <linux/audit.h>, <linux/sched.h>
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGE_K = 0x35
BPF_JSET_K = 0x45
BPF_RET_K = 0x06
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
NR_OFFSET, ARCH_OFFSET, ARG0_OFFSET = 0, 4, 16   # struct seccomp_data (little-endian)
X32_SYSCALL_BIT = 0x40000000
CLONE_NEW_FLAGS = (0x00020000 | 0x02000000 | 0x04000000 | 0x08000000   # NS, CGROUP, UTS, IPC
                   | 0x10000000 | 0x20000000 | 0x40000000)            # USER, PID, NET

DENIED = ("unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree",
          "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "bpf",
          "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key")

# audit architecture and system call numbers, per machine (from the kernel's tables)
ARCHES = {
    "x86_64": (0xC000003E, {
        "clone": 56, "clone3": 435, "unshare": 272, "setns": 308, "mount": 165,
        "umount2": 166, "pivot_root": 155, "chroot": 161, "open_tree": 428,
        "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
        "mount_setattr": 442, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
        "keyctl": 250, "add_key": 248, "request_key": 249}),
    "aarch64": (0xC00000B7, {
        "clone": 220, "clone3": 435, "unshare": 97, "setns": 268, "mount": 40,
        "umount2": 39, "pivot_root": 41, "chroot": 51, "open_tree": 428,
        "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
        "mount_setattr": 442, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
        "keyctl": 219, "add_key": 217, "request_key": 218}),
}


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def supported(machine: str | None = None) -> bool:
    """True when a filter can be built for this machine's architecture."""
    return (machine or platform.machine()) in ARCHES


def program(machine: str | None = None) -> bytes:
    """The filter as bytes (an array of ``struct sock_filter``), for ``bwrap --seccomp``.

    Raises KeyError on an architecture without a table (see ``supported``).
    """
    arch, numbers = ARCHES[machine or platform.machine()]
    eperm, enosys = RET_ERRNO | errno.EPERM, RET_ERRNO | errno.ENOSYS
    ops = [_op(BPF_LD_W_ABS, ARCH_OFFSET),
           _op(BPF_JEQ_K, arch, jt=1),           # our architecture: skip the next op
           _op(BPF_RET_K, eperm),
           _op(BPF_LD_W_ABS, NR_OFFSET)]
    if arch == ARCHES["x86_64"][0]:
        ops += [_op(BPF_JGE_K, X32_SYSCALL_BIT, jf=1), _op(BPF_RET_K, eperm)]
    for name in DENIED:
        ops += [_op(BPF_JEQ_K, numbers[name], jf=1), _op(BPF_RET_K, eperm)]
    ops += [_op(BPF_JEQ_K, numbers["clone3"], jf=1), _op(BPF_RET_K, enosys),
            _op(BPF_JEQ_K, numbers["clone"], jf=3),  # not clone: on to the last op
            _op(BPF_LD_W_ABS, ARG0_OFFSET),          # clone: low 32 bits of the flags
            _op(BPF_JSET_K, CLONE_NEW_FLAGS, jf=1), _op(BPF_RET_K, eperm),
            _op(BPF_RET_K, RET_ALLOW)]
    return b"".join(ops)
