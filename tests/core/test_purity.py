"""harvester/core is a pure core: no Django, no models, no clock; and its benchmark runs."""

import ast
from pathlib import Path

import harvester.core
from harvester.core import bench

CORE = Path(harvester.core.__file__).parent
FORBIDDEN = ("django", "harvester.models", "accounts", "rest_framework", "celery")
CLOCK = {"now", "today", "utcnow", "time"}


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module or ""


def test_no_module_of_the_core_imports_django_or_the_models():
    for path in CORE.glob("*.py"):
        for name in _imports(path):
            assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"


def test_nothing_but_the_benchmark_reads_the_clock():
    for path in CORE.glob("*.py"):
        if path.name == "bench.py":
            continue
        tree = ast.parse(path.read_text())
        calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
        assert not calls & CLOCK, f"{path.name} calls {calls & CLOCK}"


def test_the_benchmark_runs_on_a_few_households():
    for dense in (False, True):
        result = bench.run(households=3, lots=50, chunk=2, dense=dense)
        assert result.lots == 150 and result.seconds >= 0 and result.proposals >= 0
