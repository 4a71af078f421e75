"""The release works wherever it is copied: outside the repository, in a fresh virtualenv
holding only its requirements.txt, the notebook's own code runs and check() passes."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from autograder import cli, config, demo
from course_under_test import TLN

RUNNER = '''import json
import sys

import nbformat

notebook = nbformat.read("{notebook}.ipynb", as_version=4)
functions = json.load(open("functions.json"))
namespace = {{"__name__": "__main__"}}
for cell in notebook.cells:
    if cell.cell_type != "code":
        continue
    grading = cell.metadata.get("nbgrader", {{}})
    if grading.get("grade_id") == "setup":
        exec(cell.source, namespace)
    elif grading.get("grade_id", "").startswith("answer_"):
        exec(functions[grading["grade_id"].removeprefix("answer_")], namespace)
import nnlab
print("nnlab from", nnlab.__file__)
ok = namespace["check"](namespace=namespace)
sys.exit(0 if ok else 1)
'''


def test_the_release_has_no_links_and_a_requirements_file():
    links = [str(path) for path in TLN.release_dir.rglob("*") if path.is_symlink()]
    assert not links, f"the release must be real files, found links: {links}"
    wanted = (TLN.release_dir / "requirements.txt").read_text()
    for package in config.STUDENT_REQUIREMENTS:
        assert f"\n{package}==" in wanted, f"{package} missing or unpinned in requirements.txt"
    assert (TLN.release_dir / "nnlab" / "__init__.py").is_file(), "nnlab/ is not in the release"
    config_file = TLN.release_dir / "nbgrader_config.py"
    assert config_file.is_file() and "c.Execute.timeout = 300" in config_file.read_text(), (
        "the release lacks the nbgrader_config.py that gives Validate time for the training cells")


def test_release_zip_holds_the_folder(tmp_path):
    target = tmp_path / "release.zip"
    assert cli.main(["release", TLN.name, "--zip", str(target)]) == 0
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
    for wanted in (f"{TLN.notebook}.ipynb", "requirements.txt", "nnlab/__init__.py",
                   "nnlab/checking/engine.py", f"nnlab/{TLN.name}/checks/__init__.py"):
        assert f"{TLN.name}/{wanted}" in names, f"{wanted} missing from {sorted(names)[:20]}"


def test_release_ignores_editor_debris(tmp_path):
    """Opening the release in JupyterLab leaves .ipynb_checkpoints (and editors leave
    backups): release still works, and the zip carries none of it."""
    debris = [TLN.release_dir / ".ipynb_checkpoints" / f"{TLN.notebook}-checkpoint.ipynb",
              TLN.release_dir / "nnlab" / ".DS_Store", TLN.release_dir / f"{TLN.notebook}.ipynb~"]
    try:
        for path in debris:
            path.parent.mkdir(exist_ok=True)
            path.write_text("{}")
        target = tmp_path / "release.zip"
        assert cli.main(["release", TLN.name, "--zip", str(target)]) == 0, \
            "release refused a release folder that only gained editor debris"
        with zipfile.ZipFile(target) as archive:
            names = archive.namelist()
        leaked = [name for name in names if "checkpoint" in name or name.endswith(("~", ".DS_Store"))]
        assert not leaked, f"the zip carries editor debris: {leaked}"
    finally:
        for path in debris:
            path.unlink(missing_ok=True)
        shutil.rmtree(TLN.release_dir / ".ipynb_checkpoints", ignore_errors=True)


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    """A virtualenv with only the release's requirements.txt (from the package registry)."""
    venv = tmp_path_factory.mktemp("student") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                           "-r", str(TLN.release_dir / "requirements.txt")],
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"pip could not install the student list: {done.stderr[-2000:]}"
    return venv


def test_a_copied_release_runs_check_in_a_fresh_virtualenv(tmp_path, fresh_venv):
    copy = tmp_path / "elsewhere" / TLN.name
    shutil.copytree(TLN.release_dir, copy)
    ada = demo.functions_in((TLN.demo_dir / "students") / "ada_correct.py")
    (copy / "functions.json").write_text(json.dumps(ada))
    (copy / "run.py").write_text(RUNNER.format(notebook=TLN.notebook))
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["MPLBACKEND"] = "Agg"
    done = subprocess.run([str(fresh_venv / "bin" / "python"), "run.py"], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=900)
    assert f"nnlab from {copy / 'nnlab' / '__init__.py'}" in done.stdout, done.stdout[-2000:]
    assert done.returncode == 0, f"check() failed in the copy:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
