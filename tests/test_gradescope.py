"""The Gradescope bundle: built for two_layer_net, unpacked into a fake /autograder tree and
run as Gradescope would run it (without setup.sh: the project's venv python stands in for
/autograder/venv), then results.json checked against Gradescope's schema
(https://gradescope-autograders.readthedocs.io/en/latest/specs/)."""

import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from course_under_test import TLN

from autograder import demo
from autograder.gradescope import bundle as gradescope
from autograder.grading.notebook_grader import grade_notebook
from autograder.outputs import feedback_results
from autograder.sandbox import uids

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    target = tmp_path_factory.mktemp("gs") / "autograder.zip"
    parser = __import__("argparse").ArgumentParser()
    gradescope.add_parser(parser.add_subparsers(dest="command"))
    assert gradescope.run(parser.parse_args(["gradescope", TLN.name, "--out", str(target)])) == 0
    return target


def notebook_of(student):
    release = nbformat.read(str(TLN.release_notebook), as_version=4)
    students = TLN.demo_dir / "students"
    functions = demo.functions_in(students / f"{demo.CORRECT}.py")
    functions.update(demo.functions_in(students / f"{student}.py"))
    return demo.fill(release, functions)


def run_bundle(bundle, root, files, python=sys.executable, user=None, **extra_env):
    """Unpack ``bundle`` in root/source, put ``files`` ({name: bytes}) in root/submission,
    run run_autograder (with ``python`` as the venv's, as ``user``, a uid, when given);
    returns (results.json as a dict, run_autograder's output)."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    (root / "submission").mkdir(parents=True)
    for name, data in files.items():
        (root / "submission" / name).write_bytes(data)
    env = dict(os.environ, GRADESCOPE_ROOT=str(root), GRADESCOPE_PYTHON=str(python),
               **extra_env)
    if user is not None:
        for path in [root, *root.rglob("*")]:
            os.chown(path, user, user, follow_symlinks=False)
        env.update(HOME=str(root), USER="grader")
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300, user=user, group=user,
                          extra_groups=[] if user is not None else None)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    check_schema(results)
    return results, done.stdout


def check_schema(results):
    assert isinstance(results["score"], float)
    assert isinstance(results["output"], str) and results["output"]
    assert isinstance(results["execution_time"], int)
    assert isinstance(results["tests"], list)
    for test in results["tests"]:
        assert set(test) <= {"score", "max_score", "status", "name", "number", "output",
                             "visibility", "extra_data", "tags", "name_format", "output_format"}
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in VISIBILITIES
        assert test["status"] in ("passed", "failed")
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    json.dumps(results, allow_nan=False)  # strict JSON


def check_against_grader(results, notebook_path):
    """Each test's output is the public view of what the grader itself reports."""
    direct = grade_notebook(notebook_path, TLN)
    assert len(direct["tests"]) == len(results["tests"]) == len(TLN.tests)
    for record, test in zip(direct["tests"], results["tests"]):
        assert test["name"].startswith(record["grade_id"])
        assert test["score"] == record["points"]
        assert test["visibility"] == ("after_published" if record["hidden"] else "visible")
        assert test["output"].endswith(feedback_results.public_message(record))
        # A hidden test's own failure text (its inputs, expected values) or the text of the
        # student's exception never shows; statuses about the student's own code may.
        if record["hidden"] and record["status"] in ("failed", "error", "memory_limit",
                                                     "grader_error") and not record.get("public"):
            assert record["message"] not in test["output"]
    return direct


def test_bundle_layout(bundle):
    names = set(zipfile.ZipFile(bundle).namelist())
    assert {"setup.sh", "run_autograder", "requirements.txt", "course.toml", "gradescope.json",
            "autograder/gradescope/run.py", "autograder/grading/notebook_grader.py",
            f"solutions/{TLN.name}/__init__.py", "nnlab/__init__.py",
            f"nnlab/{TLN.name}/__init__.py",
            f"notebooks/{TLN.name}/{TLN.notebook}.ipynb"} <= names
    assert not any(n.startswith(("solutions/foundations", "solutions/deep_mlp",
                                 "nnlab/deep_mlp", "autograder/suite/deep_mlp")) for n in names)
    assert not any("__pycache__" in n for n in names)
    toml = zipfile.ZipFile(bundle).read("course.toml").decode()
    assert toml.count("[[assignment]]") == 1 and TLN.name in toml


# -- rlimits mode: the real one where bubblewrap cannot start ------------------------------
def _readable_by_all(path):
    """True when every folder up to ``path`` is searchable and ``path`` readable by others."""
    path = Path(path).resolve()
    return all(folder.stat().st_mode & 0o001 for folder in path.parents) and bool(
        path.stat().st_mode & 0o004)


@pytest.fixture(scope="module")
def world_python():
    """A Python whose installation every user can read, with this project's packages: a
    venv of the system's Python of this version (what setup.sh makes), reading the
    project venv's site-packages; this Python itself when it is readable by all."""
    if _readable_by_all(Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}."
                        f"{sys.version_info[1]}" / "os.py"):
        yield Path(sys.executable)
        return
    system = shutil.which(f"python{sys.version_info[0]}.{sys.version_info[1]}",
                          path="/usr/bin:/usr/local/bin")
    if system is None:
        pytest.skip("no Python of this version that other users can read")
    folder = Path(tempfile.mkdtemp(prefix="gs-venv-"))
    folder.chmod(0o755)
    try:
        subprocess.run([system, "-m", "venv", "--without-pip", str(folder / "venv")], check=True)
        version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        site = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
        (folder / "venv" / "lib" / version / "site-packages" / "project.pth").write_text(
            f"import site; site.addsitedir({site!r})\n")
        yield folder / "venv" / "bin" / "python"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def open_base():
    """A folder every user can search (pytest's are root's only), for the fake /autograder
    tree, an ``outbox`` (1777) where student code reports, and ``public.txt``, a file any
    user can read."""
    base = Path(tempfile.mkdtemp(prefix="gs-open-"))
    base.chmod(0o755)
    (base / "outbox").mkdir()
    (base / "outbox").chmod(0o1777)
    (base / "public.txt").write_text("public")
    (base / "public.txt").chmod(0o644)
    yield base
    shutil.rmtree(base, ignore_errors=True)


ATTACK = r"""
import json, os, signal, time
OUT, ROOT = {outbox!r}, {root!r}
report = {{"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
           "groups": os.getgroups()}}
forged = json.dumps({{"score": 30.0, "output": "forged", "tests": []}})

def attempt(name, action):
    try:
        report[name] = ["ok", repr(action())[:300]]
    except BaseException as exc:
        report[name] = [type(exc).__name__, str(exc)[:300]]

def write(path, text=forged):
    with open(path, "w") as handle:
        handle.write(text)
    return "written"

def kill_everyone():
    killed = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                os.kill(int(name), signal.SIGKILL)
                killed.append(int(name))
            except OSError:
                pass
    return killed

attempt("write_results", lambda: write(ROOT + "/results/results.json"))
attempt("replace_results", lambda: os.replace(OUT + "/x", ROOT + "/results/results.json"))
attempt("write_source", lambda: write(ROOT + "/source/forged.txt"))
attempt("write_tests", lambda: write(ROOT + "/source/autograder/grading/notebook_grader.py", "raise SystemExit"))
attempt("write_submission", lambda: write(ROOT + "/submission/forged.txt"))
attempt("list_source", lambda: os.listdir(ROOT + "/source"))
attempt("read_tests", lambda: os.listdir(ROOT + "/source/autograder/suite/two_layer_net"))
attempt("read_reference", lambda: open(ROOT + "/source/solutions/two_layer_net/__init__.py").read())
attempt("read_secret", lambda: open(ROOT + "/source/.course-secret").read())
attempt("read_worker", lambda: open(ROOT + "/source/autograder/sandbox/student_process.py").read())
attempt("read_submission", lambda: os.listdir(ROOT + "/submission"))
attempt("read_public", lambda: open(OUT + "/../public.txt").read())
if {kills}:
    attempt("kill_parent", lambda: os.kill(os.getppid(), signal.SIGKILL))
    attempt("kill_init", lambda: os.kill(1, signal.SIGKILL))
    attempt("kill_everyone", kill_everyone)
if os.fork() == 0:  # a daemon that outlives the worker and keeps forging the results
    os.setsid()
    if os.fork() == 0:
        with open(OUT + "/daemon.pid", "w") as handle:
            handle.write(str(os.getpid()))
        for _ in range(6000):
            try:
                write(ROOT + "/results/results.json")
            except OSError:
                pass
            time.sleep(0.05)
    os._exit(0)
time.sleep(0.5)
write(OUT + "/report.json", json.dumps(report))
"""


def attack_notebook(root, outbox, kills=True):
    """The untouched release notebook (0 points) with a last cell that forges the results,
    reads the bundle and (``kills``) kills what it can, reporting into ``outbox``."""
    notebook = nbformat.read(str(TLN.release_notebook), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(ATTACK.format(
        outbox=str(outbox), root=str(root), kills=kills)))
    return nbformat.writes(notebook).encode()


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def check_honest_zero(results):
    assert results["score"] == 0.0 and "forged" not in results["output"], results["output"]
    assert len(results["tests"]) == len(TLN.tests)


root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (Gradescope's user)")


@root_only
def test_rlimits_as_root_forgery_fails(bundle, world_python, open_base):
    """rlimits mode as root: student code runs as a uid of its own; it cannot forge the
    results, read the tests, the reference or the secret, write the bundle, or kill the
    grader; what it leaves running is killed before results.json is written."""
    root, outbox = open_base / "ag", open_base / "outbox"
    (outbox / "x").write_text("{}")
    results, stdout = run_bundle(bundle, root, {f"{TLN.notebook}.ipynb": attack_notebook(
        root, outbox)}, python=world_python, GRADESCOPE_ISOLATION="rlimits")
    check_honest_zero(results)
    assert results["extra_data"]["isolation"] == "rlimits"
    report = json.loads((outbox / "report.json").read_text())
    assert report["uid"] == report["euid"] >= uids.UID_BASE and report["groups"] == [], \
        report
    assert report["gid"] == report["uid"]
    assert f"uid {report['uid']}" in results["output"], results["output"]
    for name in ("write_results", "replace_results", "write_source", "write_tests",
                 "write_submission", "list_source", "read_tests", "read_reference",
                 "read_secret", "read_worker", "read_submission", "kill_parent", "kill_init"):
        assert report[name][0] == "PermissionError", (name, report[name])
    assert report["read_public"] == ["ok", "'public'"], report  # the tree is reachable
    assert report["kill_everyone"][0] == "ok"
    daemon = int((outbox / "daemon.pid").read_text())
    assert not _alive(daemon), "the student's daemon outlived run_autograder"
    assert not uids._processes(lambda uid: uid == report["uid"])
    for name in ("source", "submission", "results"):
        mode = (root / name).stat()
        assert mode.st_uid == 0 and stat.S_IMODE(mode.st_mode) == 0o700, name
    assert not (root / "source" / "forged.txt").exists()
    assert "runs as root" not in stdout and "could not be killed" not in stdout, stdout


@root_only
def test_rlimits_as_root_honest_named_user(bundle, world_python, open_base, tmp_path):
    """A correct notebook still scores full marks in rlimits mode as root, as the account
    named by AUTOGRADER_SANDBOX_USER (setup.sh's nnstudent; here the system's nobody)."""
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no account 'nobody'")
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook_of(demo.CORRECT), str(path))
    results, stdout = run_bundle(bundle, open_base / "ag", {f"{TLN.notebook}.ipynb": path.read_bytes()},
                                 python=world_python, GRADESCOPE_ISOLATION="rlimits",
                                 AUTOGRADER_SANDBOX_USER="nobody")
    assert results["score"] == TLN.max_score, results["output"]
    assert all(t["status"] == "passed" for t in results["tests"])
    assert f"user nobody (uid {nobody.pw_uid})" in results["output"], results["output"]
    assert "runs as root" not in stdout, stdout


@root_only
def test_rlimits_as_root_refused_when_uid_switch_fails(bundle, tmp_path):
    """When the sandbox uid cannot read the Python installation (this project's venv may
    be such a Python), student code is not run as root: nothing is graded."""
    if _readable_by_all(Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}."
                        f"{sys.version_info[1]}" / "os.py"):
        pytest.skip("this Python is readable by all: the uid switch works with it")
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook_of(demo.CORRECT), str(path))
    results, stdout = run_bundle(bundle, tmp_path / "ag", {f"{TLN.notebook}.ipynb": path.read_bytes()},
                                 GRADESCOPE_ISOLATION="rlimits")
    assert results["score"] == 0.0 and results["extra_data"]["status"] == "grader_error"
    assert "would run as root" in stdout, stdout


def test_rlimits_not_root(bundle, world_python, open_base):
    """The grader run as an ordinary user cannot switch uid: it says so, and still writes
    the honest results after killing what the student left running (a daemon that keeps
    forging them)."""
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("nobody").pw_uid
        except KeyError:
            pytest.skip("no account 'nobody' to run the grader as")
        if not _readable_by_all(world_python) or not _readable_by_all(
                Path(gradescope.__file__)):
            pytest.skip("the project is not readable by other users")
    else:
        user = None
    root, outbox = open_base / "ag", open_base / "outbox"
    (outbox / "x").write_text("{}")
    # Killing the grader (the same user) would work here: not tried.
    results, stdout = run_bundle(bundle, root, {f"{TLN.notebook}.ipynb": attack_notebook(
        root, outbox, kills=False)}, python=world_python, user=user,
        GRADESCOPE_ISOLATION="rlimits")
    check_honest_zero(results)
    grader_uid = user if user is not None else os.geteuid()
    report = json.loads((outbox / "report.json").read_text())
    assert report["uid"] == grader_uid
    assert report["write_results"] == ["ok", "'written'"]  # nothing stops it here...
    assert f"runs as the grading user, uid {grader_uid}" in results["output"]
    assert f"warning: the grader runs as uid {grader_uid}, not root" in stdout, stdout
    daemon = int((outbox / "daemon.pid").read_text())
    assert not _alive(daemon), "the student's daemon outlived run_autograder"


@pytest.mark.parametrize("isolation", ["auto", "rlimits"])
def test_correct_submission_renamed(bundle, tmp_path, isolation, world_python):
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook_of(demo.CORRECT), str(path))
    results, stdout = run_bundle(bundle, tmp_path / "ag", {"two_layer_net (1).ipynb": path.read_bytes()},
                                 python=world_python, GRADESCOPE_ISOLATION=isolation)
    assert results["score"] == TLN.max_score
    assert all(t["status"] == "passed" for t in results["tests"])
    assert results["extra_data"]["isolation"] in ("bubblewrap", "rlimits")
    if isolation == "rlimits":
        assert results["extra_data"]["isolation"] == "rlimits"
    assert f"isolation: {results['extra_data']['isolation']}" in results["output"]
    assert f"isolation: {results['extra_data']['isolation']}" in stdout
    assert any(t["visibility"] == "after_published" for t in results["tests"])
    assert "two_layer_net (1).ipynb" in results["output"]


def test_buggy_submission(bundle, tmp_path):
    path = tmp_path / "sub" / f"{TLN.notebook}.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook_of("ben_softmax_epsilon"), str(path))
    results, _ = run_bundle(bundle, tmp_path / "ag", {path.name: path.read_bytes()})
    assert results["score"] == 26.0
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert failed and all(t["name"].startswith("softmax") for t in failed)
    assert any(t["visibility"] == "after_published" for t in failed)
    for test in failed:
        if test["visibility"] == "after_published":  # no got/expected values of hidden inputs
            assert "expected" not in test["output"] and "got " not in test["output"]
    check_against_grader(results, path)


def test_invalid_notebook(bundle, tmp_path):
    results, _ = run_bundle(bundle, tmp_path / "ag", {f"{TLN.notebook}.ipynb": b'{"cells": ['})
    assert results["score"] == 0.0 and results["extra_data"]["status"] == "invalid_notebook"
    assert "not a readable Jupyter notebook" in results["output"]
    assert len(results["tests"]) == len(TLN.tests)
    assert all(t["output"].startswith("[not_run]") for t in results["tests"])


def test_process_exit(bundle, tmp_path):
    """A cell that ends the process, and a function that does (its tests: kernel_died)."""
    release = nbformat.read(str(TLN.release_notebook), as_version=4)
    functions = demo.functions_in(TLN.demo_dir / "students" / f"{demo.CORRECT}.py")
    functions["relu"] = "def relu(x):\n    import os\n    os._exit(3)"
    notebook = demo.fill(release, functions)
    notebook.cells.append(nbformat.v4.new_code_cell("import os\nos._exit(3)"))
    path = tmp_path / "sub" / f"{TLN.notebook}.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook, str(path))
    results, _ = run_bundle(bundle, tmp_path / "ag", {path.name: path.read_bytes()})
    assert results["extra_data"]["status"] == "kernel_died"
    died = [t for t in results["tests"] if t["output"].startswith("[kernel_died]")]
    assert died and all(t["score"] == 0.0 for t in died)
    direct = check_against_grader(results, path)
    assert results["score"] == direct["score"] < TLN.max_score


def test_missing_notebook(bundle, tmp_path):
    results, _ = run_bundle(bundle, tmp_path / "ag", {"answers.txt": b"hello"})
    assert results["score"] == 0.0 and results["extra_data"]["status"] == "missing_notebook"
    assert "no .ipynb" in results["output"]
    assert len(results["tests"]) == len(TLN.tests)


def test_grader_crash_still_writes_results(bundle, tmp_path):
    root = tmp_path / "ag"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    (root / "source" / "gradescope.json").write_text('{"assignment": "no_such"}')
    (root / "submission").mkdir()
    env = dict(os.environ, GRADESCOPE_ROOT=str(root), GRADESCOPE_PYTHON=sys.executable)
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    results = json.loads((root / "results" / "results.json").read_text())
    check_schema(results)
    assert results["extra_data"]["status"] == "grader_error" and results["score"] == 0.0
    assert "Traceback" not in results["output"]


DAEMON = r"""
import os, time
if os.fork() == 0:  # leaves its parent's process group and tree
    os.setsid()
    if os.fork() == 0:
        print(os.getpid(), flush=True)
        time.sleep(120)
    os._exit(0)
os.wait()
"""


def start_daemon(python, **popen):
    """Run DAEMON; returns the pid of the process it leaves running."""
    process = subprocess.Popen([str(python), "-c", DAEMON], stdout=subprocess.PIPE, text=True,
                               **popen)
    pid = int(process.stdout.readline())
    process.wait(timeout=30)
    process.stdout.close()
    assert _alive(pid)
    return pid


@root_only
def test_kill_uid_kills_detached_processes(world_python):
    """``sandbox_uid.kill_uid`` kills a uid's processes that left the sandbox's process group
    (no cgroup needed), and nothing else."""
    uid = uids.UID_BASE + ((os.getpid() & 0x3FFFFF) << 6) + 61
    pid = start_daemon(world_python, user=uid, group=uid, extra_groups=[], cwd="/")
    mine = start_daemon(sys.executable)
    try:
        assert uids.kill_uid(uid)
        assert not _alive(pid) and _alive(mine)
    finally:
        os.kill(mine, signal.SIGKILL)


def test_kill_leftovers_as_subreaper():
    """run_autograder's process reaps and kills what the grading child left running, even
    after a double fork and setsid, whatever its user."""
    script = textwrap.dedent(f"""
        import os, subprocess, sys, time
        from autograder.gradescope import run as gradescope_run
        assert gradescope_run.become_subreaper()
        process = subprocess.Popen([sys.executable, "-c", {DAEMON!r}], stdout=subprocess.PIPE)
        pid = int(process.stdout.readline())
        process.wait()
        assert gradescope_run._children() == [pid], (gradescope_run._children(), pid)
        assert gradescope_run.kill_leftovers()
        assert not os.path.exists(f"/proc/{{pid}}"), "still there (a zombie?)"
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_SANDBOX_USER"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.stdout.strip() == "ok", done.stdout + done.stderr
