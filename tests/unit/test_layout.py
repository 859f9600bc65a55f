"""The package's shape, as docs/development.md states it: layers (the import-linter contracts in ``.importlinter``),
no import circle between modules or between packages, small modules, tests that mirror the code."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "data_juicer_hpo"
MAX_LINES = 350
MAX_TOP_MODULES = 10


def _cycle(edges: dict):
    """One import circle of the directed graph ``edges`` (node -> set of nodes), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("data_juicer_hpo")


def test_import_linter_contracts_are_kept():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    res = subprocess.run([lint, "--config", str(ROOT / ".importlinter")], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "broken" in res.stdout and " 0 broken" in res.stdout


def test_no_import_circle_between_modules(graph):
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    assert _cycle(edges) is None


def test_no_import_circle_between_packages(graph):
    """Every module folded into its package (``data_juicer_hpo.modes.wandb.trials.bundles`` -> ``...modes``)."""

    def top(module: str) -> str:
        return ".".join(module.split(".")[:2])

    edges: dict = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if top(imported) != top(module) and top(module) != "data_juicer_hpo":
                edges.setdefault(top(module), set()).add(top(imported))
    assert _cycle(edges) is None


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_modules_are_small_and_few_at_the_top():
    top = [p for p in PACKAGE.glob("*.py")]
    assert len(top) <= MAX_TOP_MODULES, sorted(p.name for p in top)
    long = {
        str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long


def test_no_module_imports_its_own_package_inside_a_function():
    """Imports sit at the top of modules; costly or optional dependencies go through ``data_juicer_hpo.imports``."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and node.col_offset > 0:
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                if any(n.startswith("data_juicer_hpo") for n in names) or getattr(node, "level", 0):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found


def test_tests_import_no_test_module_and_no_conftest():
    found = []
    for path in (ROOT / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if any(n.split(".")[-1].startswith(("test_", "conftest")) for n in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found
