"""What the browser tests share: Debian's Chromium driven by Playwright (never a browser of
Playwright's own: no ``playwright install``), the skip marks when either is missing, and
a Jupyter server started on a free local port and stopped afterwards."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # CI installs it; elsewhere the browser tests are skipped
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]
SERVER_START_SECONDS = 60
LOCAL_ONLY = r"^(?!http://127\.0\.0\.1:\d+/)"  # requests matching this leave the machine: refuse

NEEDS_BROWSER = [
    pytest.mark.skipif(sync_playwright is None,
                       reason="the 'playwright' pip package is not installed (pip install playwright; "
                              "do not run 'playwright install')"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is not installed (apt-get install chromium chromium-driver)"),
]


def free_port() -> int:
    """A TCP port of 127.0.0.1 free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_root_too(command: list[str]) -> list[str]:
    """``command`` (a Jupyter server's) allowed to run as root, as containers and CI do."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return command + ["--ServerApp.allow_root=True"]
    return command


@contextlib.contextmanager
def running_server(command: list[str], cwd: Path, env: dict[str, str], ready_url: str,
                   log_path: Path) -> Iterator[subprocess.Popen]:
    """Run a Jupyter server (``command``), wait until ``ready_url`` answers 200, yield the
    process, then stop it. Its output goes to ``log_path``; a server that exits or does not
    answer in SERVER_START_SECONDS fails the test with the log's end."""
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + SERVER_START_SECONDS
            while True:
                assert server.poll() is None, (
                    f"the server exited with {server.returncode}; its log:\n"
                    f"{log_path.read_text()[-4000:]}")
                try:
                    with urllib.request.urlopen(ready_url, timeout=5) as reply:
                        if reply.status == 200:
                            break
                except (urllib.error.URLError, OSError):
                    pass
                assert time.monotonic() < deadline, (
                    f"{ready_url} did not answer within {SERVER_START_SECONDS} s; server log:\n"
                    f"{log_path.read_text()[-4000:]}")
                time.sleep(0.25)
            yield server
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
