"""``autograder.serve`` with students who are Unix users, as on a JupyterHub with local users.

Throw-away users are made with ``useradd`` (and removed after the test); each student runs
``nbgrader submit`` and ``nbgrader fetch_feedback`` as themselves (``setpriv``), with a HOME
of their own (mode 0700), so nbgrader's exchange permissions are in force: ``inbound``
writable by all but not listable, ``feedback`` 0711, pages 0644. The service runs as root
(checking, by default, that each folder's owner is the student it names), or as an
unprivileged grader user who owns the course's exchange folder, as the instructor who
released the assignments does. Needs root, ``useradd``/``userdel`` and ``setpriv``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autograder.serve import owner, policy
from autograder.serve.queue import Queue, State
from course_under_test import FND
from exchange_helpers import Exchange, Student, make_exchange
from test_serve import RELEASE, correct_notebook, make_service, scores, serve_until_idle

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("useradd", "userdel", "setpriv")
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or any(shutil.which(tool) is None for tool in TOOLS),
    reason="needs root and useradd, userdel and setpriv, to make throw-away Unix students "
           "and run nbgrader as them")


@dataclasses.dataclass(frozen=True)
class UnixStudent(Student):
    """A student who is a Unix user: nbgrader runs as ``uid``/``gid``, in their HOME."""

    uid: int = -1
    gid: int = -1
    python: Path = Path(sys.executable)

    def as_user(self, command: list[str], **options: object) -> subprocess.CompletedProcess:
        """``command`` run as this user, in their HOME, with their environment."""
        return subprocess.run(["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}",
                               "--clear-groups", *command], cwd=self.home, env=self.env(),
                              capture_output=True, text=True, timeout=120, **options)

    def nbgrader(self, *arguments: str) -> subprocess.CompletedProcess:
        """``nbgrader ARGUMENTS`` as this user (their HOME given to them first: ``submit``
        writes the notebook as root); asserts it succeeds."""
        chown_tree(self.home, self.uid, self.gid)
        done = self.as_user([str(self.python), "-m", "nbgrader", *arguments, "--course",
                             self.exchange.course_id, "--student", self.name,
                             f"--Exchange.root={self.exchange.root}"])
        assert done.returncode == 0, (f"nbgrader {' '.join(arguments)} as uid {self.uid} "
                                      f"failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        return done

    def can(self, code: str, *arguments: str) -> str:
        """What Python ``code`` prints, run as this user with ``arguments``."""
        done = self.as_user([str(self.python), "-c", code, *arguments])
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()


def chown_tree(top: Path, uid: int, gid: int) -> None:
    """Give ``top`` and everything under it (links themselves) to ``uid``:``gid``."""
    for folder, names, files in os.walk(top):
        os.chown(folder, uid, gid)
        for name in names + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


@pytest.fixture
def place() -> Iterator[Path]:
    """A folder every user can reach (pytest's tmp_path is root's alone)."""
    top = Path(tempfile.mkdtemp(prefix="serve-users-", dir="/tmp"))
    os.chmod(top, 0o755)
    yield top
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture
def users(place: Path) -> Iterator[Callable[[str], pwd.struct_passwd]]:
    """Makes throw-away login users (``<prefix><name>``, a HOME under ``place`` of their
    own, mode 0700); removes them after the test."""
    prefix, made = f"sv{secrets.token_hex(3)}", []

    def make(name: str) -> pwd.struct_passwd:
        login, home = prefix + name, place / "homes" / (prefix + name)
        home.mkdir(parents=True)
        done = subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home),
                               "--shell", "/usr/sbin/nologin", "--user-group", login],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"useradd {login}: {done.stderr}"
        made.append(login)
        entry = pwd.getpwnam(login)
        os.chown(home, entry.pw_uid, entry.pw_gid)
        os.chmod(home, 0o700)
        return entry

    yield make
    for login in made:
        subprocess.run(["userdel", login], capture_output=True, timeout=60)


def unix_student(entry: pwd.struct_passwd, exchange: Exchange, python: Path,
                 claims: str | None = None) -> UnixStudent:
    """The student of user ``entry``, running ``python`` (submitting as ``claims`` when
    given)."""
    return UnixStudent(claims or entry.pw_name, Path(entry.pw_dir), exchange, entry.pw_uid,
                       entry.pw_gid, python)


def checkout_of(user: pwd.struct_passwd, place: Path) -> Path:
    """A copy of the course repository owned by ``user`` (its .venv linked), as a grader
    account keeps one: the course's secret (``.course-secret``, mode 0600) is its own."""
    copy = place / "course"
    top_only = {".git", ".venv", "build", "site", "out", ".course-secret"}

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in {"__pycache__", ".pytest_cache"}
                   or n.endswith(".egg-info")}
        return skipped | (top_only & set(names) if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, copy, symlinks=True, ignore=ignore)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    chown_tree(copy, user.pw_uid, user.pw_gid)
    return copy


def reachable_by_all(path: Path) -> bool:
    """Whether every user can run ``path`` (links resolved: each folder on the way
    searchable by others)."""
    real = Path(os.path.realpath(path))
    return all(os.stat(folder).st_mode & 0o001 for folder in real.parents) and bool(
        os.stat(real).st_mode & 0o001)


def python_for_all(place: Path) -> Path:
    """A Python with this test's packages that any user can run: this one, or (when it
    lives in a private folder, e.g. root's pyenv) a venv made from the system's Python of
    the same version whose site-packages names this venv's."""
    if reachable_by_all(Path(sys.executable)):
        return Path(sys.executable)
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if not system.exists() or not reachable_by_all(system):
        pytest.skip(f"{os.path.realpath(sys.executable)} cannot be run by another user and "
                    f"there is no {system}: a grader account needs a Python of its own")
    venv = place / "grader-venv"
    subprocess.run([str(system), "-m", "venv", "--without-pip", str(venv)], check=True,
                   capture_output=True, timeout=120)
    (site,) = (venv / "lib").glob("python*/site-packages")
    packages = next(p for p in sys.path if p.endswith("site-packages") and ".venv" in p)
    (site / "course-venv.pth").write_text(packages + "\n")
    return venv / "bin" / "python"


LISTING = """\
import os, sys
for path in sys.argv[1:]:  # whether each path given can be listed
    try:
        os.listdir(path)
        print("listed")
    except PermissionError:
        print("refused")
"""


def test_unix_students_submit_and_fetch_only_their_own_feedback(place, users):
    exchange = make_exchange(place / "exchange", (FND,))
    python = python_for_all(place)
    ada, fay = (unix_student(users(name), exchange, python) for name in ("ada", "fay"))
    ada.submit(FND, correct_notebook())
    fay.submit(FND, RELEASE)
    (ada_folder,) = [f for f in exchange.inbound.iterdir() if f.name.startswith(ada.name + "+")]
    assert ada_folder.stat().st_uid == ada.uid, "nbgrader submit did not run as ada"
    log = io.StringIO()
    serve_until_idle(make_service(exchange, place / "out", log=log))  # root; owner check: auto
    assert '"owner_mismatch"' not in log.getvalue(), log.getvalue()

    ada_pages, fay_pages = ada.fetch_feedback(FND), fay.fetch_feedback(FND)
    assert scores(ada_pages) == [(30.0, 30.0)] and scores(fay_pages) == [(0.0, 30.0)], (
        list(ada_pages), list(fay_pages))
    assert ada.name not in next(iter(fay_pages.values())), "fay was given ada's page"
    # fay can list neither inbound nor feedback, nor read ada's HOME (her nbgrader cache,
    # holding the secret her page's name is made from)
    found = fay.can(LISTING, str(exchange.inbound), str(exchange.feedback), str(ada.home))
    assert found.split() == ["refused"] * 3, f"fay could list: {found}"
    fetched = {p.stat().st_uid for p in (fay.home / FND.name / "feedback").rglob("*.html")}
    assert fetched == {fay.uid}, "fetch_feedback did not run as fay"


def test_a_folder_made_by_another_user_is_refused_unless_the_check_is_off(place, users):
    exchange = make_exchange(place / "exchange", (FND,))
    ada_entry = users("ada")
    mallory = unix_student(users("mal"), exchange, python_for_all(place),
                           claims=ada_entry.pw_name)  # submits as ada
    mallory.submit(FND, correct_notebook())
    log = io.StringIO()
    serve_until_idle(make_service(exchange, place / "out", log=log))  # root; owner check: auto
    (row,) = Queue(place / "out" / "serve" / "queue.db").rows()
    assert row.state == State.FAILED and "another user account" in (row.problem or ""), row
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [e["id"] for e in events if e["event"] == "owner_mismatch"] == [row.id], events
    (page,) = mallory.fetch_feedback(FND).values()
    assert "could not be graded" in page and "another user account" in page, page[:3000]
    assert not (place / "out" / "grades.csv").exists() or ada_entry.pw_name not in (
        place / "out" / "grades.csv").read_text(), "mallory's submission counted for ada"

    serve_until_idle(make_service(exchange, place / "off", log=io.StringIO(),
                                  owner_check="off"))
    (row,) = Queue(place / "off" / "serve" / "queue.db").rows()
    assert row.state == State.GRADED and row.score == 30, f"with the check off: {row}"


def test_owner_check_applies_as_documented(tmp_path, users):
    ann, bob = users("ann"), users("bob")
    assert owner.applies("auto", bob.pw_uid, ann.pw_name, 0), "bob's folder named for ann"
    assert owner.applies("auto", bob.pw_uid, ann.pw_name, 1234), "a service that is not root"
    assert not owner.applies("auto", 0, ann.pw_name, 0), "root's folder (made by hand)"
    assert not owner.applies("auto", bob.pw_uid, ann.pw_name, bob.pw_uid), (
        "a folder of the service's own user (the instructor submitting for ann)")
    assert not owner.applies("auto", bob.pw_uid, "no_such_user_here", 0), (
        "a student id that is no user here (containers, LTI ids): nothing to check against")
    assert not owner.applies("auto", bob.pw_uid, "nobody", 0) and not owner.applies(
        "auto", bob.pw_uid, "root", 0), "system accounts are not students"
    assert owner.applies("on", 0, "no_such_user_here", 1234)
    assert not owner.applies("off", bob.pw_uid, ann.pw_name, 0)
    course = tmp_path / "course.toml"
    for text, expected in (("", "auto"), ("[serve]\nowner_check = false\n", "off"),
                           ("[serve]\nowner_check = true\n", "on"),
                           ('[serve]\nowner_check = "auto"\n', "auto")):
        course.write_text('course_id = "c"\n' + text)
        assert policy.owner_check(course) == expected, text
    course.write_text('course_id = "c"\n[serve]\nowner_check = "sometimes"\n')
    with pytest.raises(policy.PolicyError, match="owner_check"):
        policy.owner_check(course)


@pytest.mark.parametrize("access", ["owner", "group"])
def test_the_service_runs_as_an_unprivileged_grader_user(place, users, access):
    """``owner``: the grader user released the assignments (owns the course's exchange
    folder); ``group``: another account (root) did, with nbgrader's
    ``CourseDirectory.groupshared`` modes (course folder 2775, inbound 2773) and the grader
    user's group."""
    exchange = make_exchange(place / "exchange", (FND,))
    grader = users("grader")
    checkout, python = checkout_of(grader, place), python_for_all(place)
    course_folder = exchange.root / exchange.course_id
    if access == "owner":
        chown_tree(course_folder, grader.pw_uid, grader.pw_gid)
        os.chmod(exchange.inbound, 0o2733)
    else:
        for folder, mode in ((course_folder, 0o2775), (exchange.inbound, 0o2773)):
            os.chown(folder, 0, grader.pw_gid)
            os.chmod(folder, mode)
    out = place / "out"
    out.mkdir()
    os.chown(out, grader.pw_uid, grader.pw_gid)
    ada = unix_student(users("ada"), exchange, python)
    ada.submit(FND, correct_notebook())
    env = dict(os.environ, HOME=grader.pw_dir, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1",
               PATH=f"{python.parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(
        ["setpriv", f"--reuid={grader.pw_uid}", f"--regid={grader.pw_gid}", "--clear-groups",
         str(python), "-m", "autograder", "serve", "--exchange", str(exchange.root),
         "--out", str(out), "--jobs", "1", "--poll", "0.1", "--until-idle"],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert '"event": "graded"' in done.stderr, done.stderr[-3000:]
    assert exchange.feedback.stat().st_uid == grader.pw_uid
    pages = ada.fetch_feedback(FND)
    saved = [json.loads(path.read_text()) for path in (out / "serve" / "results").glob("*.json")]
    assert scores(pages) == [(30.0, 30.0)], [test.get("message") for (result,) in saved
                                              for test in result["tests"]][:3]
