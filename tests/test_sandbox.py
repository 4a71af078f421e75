"""The sandbox launcher: isolation is really used where the machine offers it."""

import shutil
import subprocess
import sys

import pytest

from autograder import sandbox


def test_bubblewrap_works_wherever_it_is_installed():
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (course.sh installs it when run as root)")
    assert sandbox.bubblewrap_works(), (
        "bwrap is installed but a trivial sandbox failed: grading would silently fall back "
        f"to rlimits. Command: {' '.join(sandbox.bubblewrap_command('/nonexistent', 0, 1))}")


def test_sandbox_hides_the_repository_and_caps_tmp(tmp_path):
    if sandbox.isolation_mode() != "bubblewrap":
        pytest.skip("bubblewrap is not available here")
    command = sandbox.bubblewrap_command(tmp_path, 0, 1, sandbox.Limits(tmp_bytes=1 << 20))
    probe = ("import os, sys\n"
             f"print(os.path.exists({str(sandbox.config.ROOT / 'solutions')!r}))\n"
             "try:\n    open('/tmp/big', 'wb').write(b'0' * (2 << 20)); print('wrote')\n"
             "except OSError:\n    print('refused')\n")
    command[command.index(sys.executable):] = [sys.executable, "-c", probe]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "refused"], (done.returncode, done.stdout, done.stderr)
