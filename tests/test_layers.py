"""The layers of docs/architecture.md hold: the framework-free floors stay framework-free,
imports point only down the floors, and no module imports itself round a circle.

The import graph is read from the source (every ``import`` and ``from … import``, at module
level, inside functions and under ``TYPE_CHECKING`` alike): an import put inside a function
to dodge a circle is still a circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gvrs"

# Floors, lowest first. A module may import from its own unit and from units on lower floors;
# units on one floor are independent of each other.
FLOORS: list[tuple[str, ...]] = [
    ("gvrs",),  # the package itself: its version, nothing else
    ("gvrs.analysis", "gvrs.env", "gvrs.formats"),
    ("gvrs.data",),
    ("gvrs.cliutil", "gvrs.security", "gvrs.accounts"),
    ("gvrs.incidents",),
    ("gvrs.reports",),
    ("gvrs.partners",),
    ("gvrs.reviews",),
    ("gvrs.risk", "gvrs.evaluation", "gvrs.notifications"),
    ("gvrs.council", "gvrs.public"),
    ("gvrs.api",),
    ("gvrs.operations",),
    ("gvrs.cli", "gvrs.settings", "gvrs.urls", "gvrs.wsgi", "gvrs.navigation"),
    ("gvrs.__main__",),
]


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def import_graph() -> dict[str, set[str]]:
    """Module -> the gvrs modules it imports (a name imported from a package resolves to
    the submodule where there is one)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    targets.add(sub if sub in modules else source)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def unit_of(module: str) -> tuple[int, str]:
    best = None
    for floor, units in enumerate(FLOORS):
        for unit in units:
            if (module == unit or module.startswith(unit + ".")) and (
                best is None or len(unit) > len(best[1])
            ):
                best = (floor, unit)
    assert best is not None, f"{module} is on no floor: add it to FLOORS and the architecture"
    return best


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
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
    return found


def test_analysis_and_data_import_without_django():
    code = (
        "import sys, gvrs.analysis, gvrs.data.schema, gvrs.data.readers, gvrs.data.mapping, "
        "gvrs.data.validate; "
        "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_no_module_imports_itself_round_a_circle():
    assert circles(import_graph()) == []


def test_imports_point_only_down_the_floors():
    wrong = []
    for module, targets in sorted(import_graph().items()):
        floor, unit = unit_of(module)
        for target in sorted(targets):
            target_floor, target_unit = unit_of(target)
            if target_unit != unit and target_floor >= floor:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_every_module_is_on_a_floor():
    for module in _modules():
        unit_of(module)


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ],
)
def test_the_circle_finder_finds_circles(graph, expected):
    assert circles(graph) == expected


def test_the_floor_check_sees_an_upward_import():
    assert unit_of("gvrs.incidents.jobs")[0] < unit_of("gvrs.reports.warm")[0]
    assert unit_of("gvrs.analysis.counts")[0] < unit_of("gvrs.data.schema")[0]
