"""The layout by job (issue #7): dependencies run one way and never in a circle.

``db``/``tables`` ← ``store`` ← ``services`` ← ``facade`` ← the faces (``cli``, ``scheduler``,
``demo``) and the package's ``__init__`` (and ``core``, the old path kept as a re-export). Read
from the source with ``ast``: nothing is imported to check it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "workflow"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts}


def imported(name: str, path: Path) -> set[str]:
    """The workflow modules ``name`` imports (``from workflow import audit`` counts as
    ``workflow.audit``; an import inside a function counts too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # the package runs, and each name that is a module is imported too
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            if target in MODULES and (target != "workflow" or isinstance(node, ast.Import)):
                found.add(target)
    return found


GRAPH = {name: imported(name, path) for name, path in MODULES.items()}


def under(prefix: str) -> list[str]:
    return [m for m in MODULES if m == prefix or m.startswith(prefix + ".")]


def test_the_layout_is_there() -> None:
    for name in (
        "workflow.db",
        "workflow.tables",
        "workflow.store.projects",
        "workflow.store.outbox",
        "workflow.store.contractors",
        "workflow.store.directory",
        "workflow.store.calendar",
        "workflow.services.projects",
        "workflow.services.notices",
        "workflow.services.contractors",
        "workflow.services.calendar",
        "workflow.services.directory",
        "workflow.facade",
        "workflow.core",
    ):
        assert name in MODULES, name


def _imports_any(module: str, forbidden: list[str]) -> list[str]:
    return sorted(
        t for t in GRAPH[module] if any(t == f or t.startswith(f + ".") for f in forbidden)
    )


FACES = ["workflow.facade", "workflow.core", "workflow.cli", "workflow.web", "workflow.scheduler"]
FACES += ["workflow.demo", "workflow.notices"]  # notices: the old path, a re-export of services


@pytest.mark.parametrize("module", under("workflow.store"))
def test_the_store_imports_no_service_and_no_face(module: str) -> None:
    assert _imports_any(module, ["workflow.services", *FACES]) == []


@pytest.mark.parametrize("module", under("workflow.services"))
def test_services_import_no_face(module: str) -> None:
    assert _imports_any(module, FACES) == []


@pytest.mark.parametrize(
    "module", ["workflow.db", "workflow.tables", "workflow.persistence", "workflow.audit"]
)
def test_the_database_layer_imports_neither_store_nor_services(module: str) -> None:
    assert _imports_any(module, ["workflow.store", "workflow.services", *FACES]) == []


def test_only_the_faces_import_the_facade() -> None:
    allowed = {"workflow", "workflow.core", "workflow.cli", "workflow.scheduler", "workflow.demo"}
    allowed |= set(under("workflow.web"))  # the dashboard and the JSON API are faces too
    importers = {m for m, targets in GRAPH.items() if "workflow.facade" in targets}
    assert importers <= allowed, sorted(importers - allowed)


def _cycles() -> Iterator[list[str]]:
    """Every import cycle among workflow's modules (one path per cycle found by DFS)."""
    # the package __init__ re-exports; a submodule importing a sibling does not import it
    graph = {m: {t for t in ts if t != "workflow"} for m, ts in GRAPH.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> Iterator[list[str]]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                yield [*stack[stack.index(nxt) :], nxt]
            elif nxt not in state:
                yield from visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            yield from visit(node)


def test_no_import_cycle_among_workflow_modules() -> None:
    assert list(_cycles()) == []


def test_the_checker_sees_imports() -> None:
    """The checks above would pass vacuously if the parser found nothing."""
    assert "workflow.db" in GRAPH["workflow.services.projects"]
    assert "workflow.store.projects" in GRAPH["workflow.services.projects"]
    assert "workflow.facade" in GRAPH["workflow.cli"]  # imported inside a function
    assert "workflow.audit" in GRAPH["workflow.store.projects"]  # from workflow import audit
