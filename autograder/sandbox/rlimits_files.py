"""rlimits mode (no bubblewrap): the files the student process reads from the host, and its
environment. It gets a private copy of nnlab beside its scratch folder; as root, where it runs
as a uid of its own, the worker script and its wire codec are copied there too, readable by
that uid, and the grading folder lets it reach only its own scratch folder."""

import os
import shutil
import tempfile
from pathlib import Path

from autograder import config
from autograder.sandbox import bubblewrap, spawn, uids as sandbox_uid


def _readable_tree(folder: Path) -> None:
    """Folders 0755 and files 0644 (0755 if executable) under ``folder``, which the grader
    made: what a sandbox uid runs must be readable by other users."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        executable = path.is_dir() or path.stat().st_mode & 0o100
        path.chmod(0o755 if executable else 0o644)


def _grader_files(parent: Path) -> Path:
    """rlimits as root: a copy of the worker script and its wire codec in
    ``parent/grader`` (0755), readable by the sandbox uid, which cannot read
    ``autograder/``; returns the folder. Made once per grading folder, under a temporary
    name then renamed, like ``_student_library``."""
    folder = parent / "grader"
    if not folder.exists():
        partial = Path(tempfile.mkdtemp(dir=parent, prefix=".grader-"))
        try:
            for source in (spawn.WORKER, bubblewrap.WIRE):
                shutil.copyfile(source, partial / source.name)
            _readable_tree(partial)
            os.rename(partial, folder)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return folder


def prepare_rlimits_uid(scratch: str | os.PathLike, uid: int, gid: int) -> Path:
    """Before starting student code as ``uid``: the grading folder (``scratch``'s parent)
    0711, so that the uid reaches its scratch folder but cannot list its neighbours; nnlab's
    copy and the worker's readable; ``scratch`` the uid's own. Returns the worker to run."""
    scratch = Path(scratch)
    os.chmod(scratch.parent, 0o711)
    _student_library(scratch)
    worker = _grader_files(scratch.parent) / spawn.WORKER.name
    sandbox_uid.give(scratch, uid, gid)
    return worker


def rlimits_environment(scratch: str | os.PathLike) -> dict[str, str]:
    """The student process's environment in rlimits mode."""
    return dict(spawn.environment(), PYTHONPATH=str(_student_library(scratch)),
                HOME=str(scratch), MPLCONFIGDIR=str(Path(scratch) / ".matplotlib"))


def _student_library(scratch: str | os.PathLike) -> Path:
    """rlimits mode: a private copy of nnlab beside scratch (student code runs as this user
    and must not edit ours). Copied to a temporary name and renamed, so a copy that failed
    halfway is never used."""
    libs = Path(scratch).parent / "lib"
    if not libs.exists():
        partial = Path(tempfile.mkdtemp(dir=Path(scratch).parent, prefix=".lib-"))
        try:
            shutil.copytree(config.STUDENT_PACKAGE, partial / "nnlab",
                            ignore=shutil.ignore_patterns("__pycache__"))
            _readable_tree(partial)  # a sandbox uid imports it (rlimits as root)
            os.rename(partial, libs)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return libs
