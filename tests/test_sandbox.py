"""The sandbox: isolation is really used where the machine offers it, and each attack on
it is stopped (namespaces, mounts, chroot, host paths in /proc/1, root, fork bombs,
memory spread over several processes), in both bubblewrap modes where they can run."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import pytest

from autograder import config
from autograder.grading import notebook_grader
from autograder.grading.runner import StudentOutOfMemory, StudentProcess
from autograder.sandbox import bubblewrap, cgroups, launch as sandbox, seccomp, spawn, uids
from autograder.sandbox import isolation as sandbox_isolation, probes
from course_under_test import TLN

LIMITS = sandbox.Limits(call_seconds=15, cell_seconds=15, notebook_seconds=60)
MIB = 1 << 20
# What the kernel may charge past a cgroup's limit: pages charged by force to a process
# that is being killed (see mm/memcontrol.c, "force charge"). Measured: 0.
MEMORY_MARGIN = 32 * MIB
IS_ROOT = os.geteuid() == 0
BWRAP_MODES = [pytest.param("setuid", marks=pytest.mark.skipif(
                   not IS_ROOT, reason="setuid mode is what bubblewrap uses when grading as root")),
               "userns"]


def needs_bubblewrap():
    if sandbox.isolation_mode() != "bubblewrap":
        pytest.skip("bubblewrap is not available here")


def needs_cgroup():
    found = cgroups.hierarchy()
    if isinstance(found, str):
        pytest.skip(f"no cgroup can be made here: {found}")
    return found


@pytest.fixture(params=BWRAP_MODES)
def mode(request, monkeypatch):
    """Run the test with bubblewrap in this mode ("setuid": as root; "userns")."""
    needs_bubblewrap()
    monkeypatch.setattr(probes, "bubblewrap_mode", lambda: request.param)
    return request.param


class Student:
    """A student process running ``source``; ``call`` runs one of its functions."""

    def __init__(self, tmp_path, source, limits=LIMITS, isolation="bubblewrap"):
        scratch = Path(tempfile.mkdtemp(dir=tmp_path)) / "scratch"
        scratch.mkdir()
        self.process = StudentProcess([(0, source)], scratch, limits, isolation)

    def call(self, name, *args):
        reply = self.process.call(name, args, {}, False, LIMITS.call_seconds)
        assert reply["ok"], f"{name} raised: {reply['message']}"
        return reply["result"]

    def host_pids(self):
        """Host pid -> (command line, uid) of every process in the sandbox's cgroup."""
        found = {}
        for pid in self.process.process.cgroup.pids():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            uid = int(status.split("\nUid:")[1].split()[1])  # effective uid
            found[pid] = (command.decode(errors="replace"), uid)
        return found


@pytest.fixture
def student(tmp_path):
    made = []

    def make(source, limits=LIMITS, isolation="bubblewrap"):
        made.append(Student(tmp_path, source, limits, isolation))
        return made[-1]
    yield make
    for one in made:
        one.process.close()


# -- the sandbox starts, and says what it is -------------------------------------------
def test_bubblewrap_works_wherever_it_is_installed():
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (course.sh installs it when run as root)")
    assert sandbox_isolation.bubblewrap_works(), (
        f"bwrap is installed but the worker's self-check failed in every mode: grading would "
        f"silently fall back to rlimits. Why: {probes._PROBE_NOTES}")


def test_as_root_bubblewrap_switches_to_a_uid_of_its_own():
    needs_bubblewrap()
    if not IS_ROOT:
        pytest.skip("not running as root: the user-namespace mode is the only one")
    assert probes.bubblewrap_mode() == "setuid", probes._PROBE_NOTES
    assert probes._probe("userns") is None, "the fallback mode does not work either"
    line, warnings = sandbox_isolation.describe("bubblewrap")
    assert f"uid {uids.UID_BASE}+" in line and not warnings, (line, warnings)


def test_sandbox_hides_the_repository_and_caps_tmp(tmp_path, student, mode):
    probe = student(f"""
import os
def probe():
    try:
        open('/tmp/big', 'wb').write(b'0' * (2 << 20))
        wrote = True
    except OSError:
        wrote = False
    return [os.path.exists({str(config.ROOT / 'solutions')!r}), wrote]
""", sandbox.Limits(tmp_bytes=1 << 20, **_times()))
    assert probe.call("probe") == [False, False], "the repository is visible or /tmp is not capped"


def _times():
    return {"call_seconds": LIMITS.call_seconds, "cell_seconds": LIMITS.cell_seconds,
            "notebook_seconds": LIMITS.notebook_seconds}


# -- attacks on the sandbox itself -----------------------------------------------------
ATTACKS = """
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)

def _outcome(result):
    return "succeeded" if result >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")

def attack():
    found = {}
    found["unshare user"] = _outcome(libc.unshare(0x10000000))
    found["unshare mount"] = _outcome(libc.unshare(0x00020000))
    found["mount tmpfs"] = _outcome(libc.mount(b"none", b"/scratch", b"tmpfs", 0, None))
    found["chroot"] = _outcome(libc.chroot(b"/tmp"))
    found["setns"] = _outcome(libc.setns(os.open("/proc/self/ns/net", os.O_RDONLY), 0))
    if os.uname().machine == "x86_64":  # the raw system call, as glibc's fork makes it
        pid = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)  # clone(CLONE_NEWUSER|SIGCHLD)
        if pid == 0:
            os._exit(0)
        found["clone newuser"] = _outcome(pid)
        if pid > 0:
            os.waitpid(pid, 0)
    return found
"""


def test_student_code_cannot_make_namespaces_mount_or_chroot(student, mode):
    outcomes = student(ATTACKS).call("attack")
    print(mode, outcomes)
    assert all(value != "succeeded" for value in outcomes.values()), outcomes


def test_seccomp_and_disable_userns_hold_for_an_unprivileged_user(tmp_path):
    """The non-root path's defences, as a non-root user (the system's python3: this
    Python may live where that user cannot go)."""
    if not IS_ROOT or shutil.which("setpriv") is None or not Path("/usr/bin/python3").exists():
        pytest.skip("needs root (to become uid 65534 with setpriv) and /usr/bin/python3")
    if shutil.which("bwrap") is None or not seccomp.supported():
        pytest.skip("needs bwrap and a seccomp table for this architecture")
    attack = ATTACKS.replace("\nimport ctypes", "import ctypes") + "\nprint(attack())\n"
    fd = bubblewrap.data_fd(seccomp.program())
    try:
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bwrap",
                   "--unshare-user", "--unshare-pid", "--cap-drop", "ALL", "--seccomp", str(fd),
                   *(["--disable-userns"] if bubblewrap.has_option("--disable-userns") else []),
                   *bubblewrap.system_binds(), "--proc", "/proc", "--dev", "/dev",
                   "--tmpfs", "/tmp", "--tmpfs", "/scratch", "/usr/bin/python3", "-c", attack]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, pass_fds=(fd,))
    finally:
        os.close(fd)
    assert done.returncode == 0, done.stderr[-1000:]
    print(done.stdout)
    assert "succeeded" not in done.stdout and "EPERM" in done.stdout, done.stdout


NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
NON_ROOT_TESTS = ("namespaces or proc_1 or inside_and_outside or fork_bomb or hogs "
                  "or bubblewrap_works")


def _reachable_by_nobody(paths):
    """bwrap options (run as root) that let uid 65534 reach ``paths``: each folder that
    others may not enter is covered with an empty tmpfs (0755) into which the paths
    under it are bound, read-only. None when a path itself is closed to others."""
    options, covered, made = [], set(), set()
    for path in map(Path, paths):
        closed = [folder for folder in reversed(path.parents) if not folder.stat().st_mode & 0o001]
        if not path.stat().st_mode & 0o005:
            return None
        if closed:
            if closed[0] not in covered:
                covered.add(closed[0])
                made.add(str(closed[0]))
                options += ["--perms", "0755", "--tmpfs", str(closed[0])]
            options += [*bubblewrap._folders(path.parent, made), "--ro-bind", str(path), str(path)]
    return options


def test_the_non_root_path_as_an_unprivileged_user():
    """As uid 65534, the probe picks the user-namespace mode and this file's attack tests
    pass in it. Run in a bubblewrap (as root, no user namespace) that lets that uid reach
    this Python, which may live in a folder closed to others (e.g. /root, mode 0700)."""
    if not IS_ROOT:
        mode = probes.bubblewrap_mode()
        assert mode in ("userns", None), mode
        pytest.skip("not root: the tests above already ran the non-root path")
    if shutil.which("setpriv") is None or shutil.which("bwrap") is None:
        pytest.skip("needs setpriv and bwrap")
    reach = _reachable_by_nobody([os.path.realpath(sys.base_prefix), config.ROOT])
    if reach is None:
        pytest.skip(f"the repository or {sys.base_prefix} is closed to other users")
    base = Path(tempfile.mkdtemp(prefix="nobody-"))
    try:
        base.chmod(0o1777)
        command = ["bwrap", "--dev-bind", "/", "/", *reach, *NOBODY, sys.executable, "-m",
                   "pytest", "-v", "-rs", "-p", "no:cacheprovider", "--basetemp", str(base / "t"),
                   "-k", NON_ROOT_TESTS, str(Path(__file__))]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              cwd=config.ROOT, env=dict(os.environ, HOME=str(base)))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(done.stdout[-3000:])
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-2000:])
    assert " passed" in done.stdout and "failed" not in done.stdout, done.stdout[-3000:]


PROC_ONE = """
import os
def pid_one():
    found = {}
    for name in ("/proc/1/cmdline", "/proc/1/environ", "/proc/self/cmdline", "/proc/self/environ"):
        try:
            found[name] = open(name, "rb").read().decode(errors="replace")
        except OSError as error:
            found[name] = f"unreadable: {error.strerror}"
    return found
"""


def test_proc_1_names_no_host_path(tmp_path, student, mode):
    seen = student(PROC_ONE).call("pid_one")
    print(mode, seen)
    secrets = [str(config.ROOT), str(tmp_path), sys.prefix]
    for name, text in seen.items():
        assert not any(secret in text for secret in secrets), f"{name} names a host path: {text!r}"
    assert "bwrap" in seen["/proc/1/cmdline"], seen["/proc/1/cmdline"]


IDENTITY = """
import os
def identity():
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    caps = {key: int(status[key], 16) for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}
    return {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
            "groups": os.getgroups(), "caps": caps, "no_new_privs": status["NoNewPrivs"].strip()}
"""


def test_who_the_student_process_is_inside_and_outside(student, mode):
    probe = student(IDENTITY)
    inside = probe.call("identity")
    print(mode, inside)
    assert not any(inside["caps"].values()), f"capabilities left: {inside['caps']}"
    assert inside["no_new_privs"] == "1", inside
    if mode == "setuid":
        assert inside["uid"] == inside["euid"] == inside["gid"] >= uids.UID_BASE, inside
        assert inside["groups"] == [], inside
    if isinstance(cgroups.hierarchy(), str):
        return  # the host pids below come from the cgroup
    outside = [uid for command, uid in probe.host_pids().values()
               if command.startswith("/grader/venv/bin/python")
               or command.startswith(sys.executable)]  # the worker, not bwrap
    print("host uid of the worker:", outside)
    assert len(outside) == 1, probe.host_pids()
    expected = inside["uid"] if mode == "setuid" else os.geteuid()  # userns: the grading user
    assert outside[0] == expected, (outside, inside)
    if mode == "setuid":
        assert outside[0] != 0, "the student process is root on the host"


# -- resource bounds -------------------------------------------------------------------
FORK_BOMB = """
import os, time
def bomb(limit):
    children = []
    try:
        while len(children) < limit:
            pid = os.fork()
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children.append(pid)
        stopped = "not stopped"
    except OSError as error:
        stopped = error.strerror
    for pid in children:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return [len(children), stopped]
"""


@pytest.mark.parametrize("with_cgroup", [True, False], ids=["cgroup", "rlimit-only"])
def test_a_fork_bomb_is_stopped_by_the_process_limit(student, mode, with_cgroup, monkeypatch):
    if with_cgroup:
        needs_cgroup()
    else:
        monkeypatch.setattr(cgroups, "make", lambda *args: "no cgroup (test)")
        if mode == "userns" and (IS_ROOT or not spawn.nproc_per_namespace()):
            pytest.skip("RLIMIT_NPROC does not bind uid 0 (userns mode as root) or counts "
                        "every process of the user (Linux before 5.14): no bound without a cgroup")
    limits = sandbox.Limits(processes=16, **_times())
    started = time.monotonic()
    made, stopped = student(FORK_BOMB, limits).call("bomb", 200)
    print(f"{mode}, cgroup={with_cgroup}: {made} children, then {stopped!r}")
    assert made < limits.processes and stopped != "not stopped", (made, stopped)
    assert time.monotonic() - started < 20


HOGS = """
import os, time
import numpy as np
def hogs(count, each):
    children = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            block = np.ones(each, dtype=np.uint8)  # written, so really held
            time.sleep(1.5)
            os._exit(0)
        children.append(pid)
    return [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]

def fill_and_grow(scratch_mib):
    block = b"x" * (1 << 20)
    for number in range(0, scratch_mib, 32):  # files of 32 MiB: under the file size limit
        with open(f"fill{number}", "wb") as handle:
            for _ in range(min(32, scratch_mib - number)):
                handle.write(block)
    held = []
    while True:
        held.append(np.ones(16 << 20, dtype=np.uint8))
"""


@pytest.mark.parametrize("isolation", ["bubblewrap", "rlimits"])
def test_three_forked_hogs_share_one_memory_limit(student, isolation):
    """Three processes each writing 0.9 of the limit: the cgroup's total stays under the
    limit plus MEMORY_MARGIN, and the kernel kills what does not fit."""
    needs_cgroup()
    if isolation == "bubblewrap":
        needs_bubblewrap()
    limit = 512 * MIB
    probe = student(HOGS, sandbox.Limits(memory_bytes=limit, **_times()), isolation)
    statuses = probe.call("hogs", 3, int(0.9 * limit))
    peak = probe.process.process.cgroup.peak_bytes()
    print(f"\n{isolation}: limit {limit / MIB:.0f} MiB, three children of {0.9 * limit / MIB:.0f} "
          f"MiB each: exit statuses {statuses}, peak of the cgroup {peak / MIB:.1f} MiB, "
          f"OOM kills {probe.process.process.cgroup.oom_kills()}")
    assert -signal.SIGKILL in statuses, f"no child was killed: {statuses}"
    assert peak <= limit + MEMORY_MARGIN, f"peak {peak / MIB:.1f} MiB over {limit / MIB:.0f} MiB"


def test_running_out_of_memory_in_the_cgroup_is_a_memory_limit(student, monkeypatch):
    """tmpfs files count: 200 MiB in /scratch, then the worker grows until the kernel kills
    it; the test gets memory_limit, not kernel_died."""
    needs_cgroup()
    needs_bubblewrap()
    peaks, real_stop = [], sandbox.stop
    monkeypatch.setattr(sandbox, "stop", lambda process: peaks.append(real_stop(process)))
    limit = 512 * MIB
    limits = sandbox.Limits(memory_bytes=limit, **_times())
    probe = student(HOGS, limits)
    with pytest.raises(StudentOutOfMemory, match="memory limit of 512 MiB"):
        probe.process.call("fill_and_grow", (200,), {}, False, LIMITS.call_seconds)
    print(f"\n200 MiB of tmpfs, then growth: peak of the cgroup {peaks[0] / MIB:.1f} MiB "
          f"(limit {limit / MIB:.0f} MiB)")
    assert peaks[0] <= limit + MEMORY_MARGIN, f"peak {peaks[0] / MIB:.1f} MiB"
    fake_test = types.SimpleNamespace(
        grade_id="t", points=1.0, hidden=False, summary="", timeout=None,
        function=lambda _: probe.process.call("fill_and_grow", (200,), {}, False, 15))
    record = notebook_grader.run_one(fake_test, probe.process, limits, time.monotonic(), TLN)
    assert record["status"] == "memory_limit", record


# -- fallbacks ---------------------------------------------------------------------------
def test_without_a_cgroup_the_sandbox_says_so_and_keeps_per_process_limits(student, monkeypatch):
    """cgroups cannot be made (here: their folder is read-only /proc): the student process
    starts anyway, with rlimits, and ``describe`` warns."""
    monkeypatch.setattr(cgroups, "find_folders", lambda: {1: {"memory": Path("/proc")}, 2: {}})
    monkeypatch.setattr(cgroups, "hierarchy", cgroups.hierarchy.__wrapped__)
    reason = cgroups.hierarchy()
    assert isinstance(reason, str), reason
    isolations = ["bubblewrap", "rlimits"] if sandbox.isolation_mode() == "bubblewrap" else ["rlimits"]
    for isolation in isolations:
        line, warnings = sandbox_isolation.describe(isolation)
        assert "per process" in line and any("no cgroup" in w for w in warnings), (line, warnings)
        limits = sandbox.Limits(memory_bytes=512 * MIB, **_times())
        probe = student("import numpy as np\ndef big():\n    return np.ones(1 << 30).nbytes",
                        limits, isolation)
        reply = probe.process.call("big", (), {}, False, LIMITS.call_seconds)
        assert probe.process.process.cgroup is None
        assert reply["kind"] == "memory", f"{isolation}: {reply}"


def test_cgroup_v2_folders_are_found_from_mountinfo(tmp_path, monkeypatch):
    """The v2 path cannot run on a machine without a delegated v2 memory controller:
    at least where it looks is checked, on a made-up /proc."""
    (tmp_path / "mountinfo").write_text(
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
        "31 23 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n")
    (tmp_path / "cgroup").write_text("0::/user.slice/user-1000.slice/session-2.scope\n")
    monkeypatch.setattr(cgroups, "MOUNTINFO", tmp_path / "mountinfo")
    monkeypatch.setattr(cgroups, "PROC_CGROUP", tmp_path / "cgroup")
    folders = cgroups.find_folders()
    expected = Path("/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope")
    assert folders == {1: {}, 2: {"memory": expected, "pids": expected}}, folders


def test_the_seccomp_filter_is_built_for_both_architectures():
    for machine in ("x86_64", "aarch64"):
        program = seccomp.program(machine)
        assert len(program) % 8 == 0 and len(program) // 8 < 100, len(program)
    assert not seccomp.supported("riscv64")
    with pytest.raises(KeyError):
        seccomp.program("riscv64")


@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="the grader does not run in a venv")
def test_a_grader_started_through_dot_dot_still_binds_its_venv(monkeypatch):
    """`tests/../.venv/bin/python -m pytest` once gave the sandbox the base interpreter,
    without the venv's packages: every student's `import matplotlib` failed."""
    roundabout = os.path.join(sys.prefix, "bin", "..", "bin", os.path.basename(sys.executable))
    monkeypatch.setattr(sys, "executable", roundabout)
    binds, interpreter = bubblewrap.python_binds()
    assert interpreter.startswith("/grader/venv/"), interpreter
    assert os.path.abspath(sys.prefix) in binds, binds
