"""The import contracts hold (issue 20): no import cycle, and the layers of .importlinter.

``test_contracts_are_kept`` runs import-linter (``lint-imports``) on the contracts of
.importlinter: nnlab imports neither autograder nor solutions, solutions do not import
autograder, autograder's modules import only the layers below theirs, and no cycle.
``test_no_import_cycle`` needs no import-linter: it finds the imports of autograder's
modules (with grimp when it is installed, and always by reading the import statements,
those inside functions and under ``if TYPE_CHECKING:`` included) and looks for a cycle.
"""

import ast
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder import config

Graph = dict[str, set[str]]  # module -> the modules of autograder it imports



@pytest.mark.skipif(importlib.util.find_spec("importlinter") is None,
                    reason="import-linter is not installed in this environment (pip install "
                           "import-linter; the contracts are checked once it is in "
                           "requirements.lock)")
def test_contracts_are_kept() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                               "sys.exit(lint_imports_command())",
         "--config", str(config.ROOT / ".importlinter"), "--no-cache"],
        cwd=config.ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"lint-imports: a contract is broken:\n{done.stdout}{done.stderr}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(config.ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    """The names an import statement of ``module`` imports: modules, or a module's
    attributes (``ast_graph`` takes the module of those; ``from package import module``
    counts as importing the module only, as grimp counts it)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:  # relative: from the package of ``module``
        package = module.split(".") if is_package else module.split(".")[:-1]
        base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
    yield from (f"{base}.{alias.name}" for alias in node.names)


def ast_graph() -> Graph:
    """autograder's imports, read from the source: every import statement, wherever it is."""
    files = {_module_name(path): path for path in (config.ROOT / "autograder").rglob("*.py")}
    graph: Graph = {}
    for module, path in files.items():
        found = graph.setdefault(module, set())
        tree = ast.parse(path.read_bytes(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name in _imported(node, module, path.name == "__init__.py"):
                    while name and name not in files:  # an attribute: its module
                        name = name.rpartition(".")[0]
                    if name:
                        found.add(name)
    return graph


def grimp_graph() -> Graph:
    """autograder's imports as grimp (import-linter's graph) finds them."""
    import grimp
    graph = grimp.build_graph("autograder", include_external_packages=False, cache_dir=None)
    return {module: set(graph.find_modules_directly_imported_by(module))
            for module in graph.modules}


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted;
    a module importing itself (``cluster_worker`` as ``__main__``) is no cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:  # iterative: no recursion limit to meet
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


GRAPHS = {"source": ast_graph, "grimp": grimp_graph}


@pytest.mark.parametrize("how", sorted(GRAPHS))
def test_no_import_cycle(how: str) -> None:
    if how == "grimp" and importlib.util.find_spec("grimp") is None:
        pytest.skip("grimp (import-linter's graph) is not installed; the source walk still runs")
    graph = GRAPHS[how]()
    assert "autograder.execution.batch" in graph and "autograder.execution.dask_cluster" in graph["autograder.execution.batch"], (
        "the graph misses an import inside a function (batch imports cluster in grade_all)")
    found = cycles(graph)
    described = "\n".join(
        " <-> ".join(cycle) + "\n" + "\n".join(
            f"    {a} -> {b}" for a in cycle for b in sorted(graph[a] & set(cycle)))
        for cycle in found)
    assert not found, (f"import cycles among autograder's modules ({how}); move what both "
                       f"need into a module below them:\n{described}")


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"d"}, "e": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
