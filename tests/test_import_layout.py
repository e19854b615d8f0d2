"""The package layout stays true: parsed from the source with ``ast``, no module is imported to check it.

- no import cycle among the modules of ``harness`` and ``fdan`` (module-level imports: the ones that run
  when a module is imported);
- between ``harness`` subpackages imports flow one way, ``cli`` → ``experiment`` → ``tuning`` → ``trial`` →
  ``config`` / ``cluster`` / ``results``, and ``report`` reads only ``results`` and ``config`` (imports inside
  functions count too);
- ``fdan`` never imports ``harness``, and imports Ray nowhere at module level (it must import without Ray);
- no module imports another module's private ``_name`` (``from m import _x`` or ``m._x``).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("harness", "fdan")
# harness subpackage -> the harness subpackages it may import (besides itself)
# (by the process that runs them: cli -> experiment (driver main thread) -> tuning (a driver thread per unit)
# -> trial (Ray processes); `errors` is the leaf every layer raises from)
ALLOWED: dict[str, set[str]] = {
    "cli": {"experiment", "report", "config", "cluster", "results", "errors"},
    "experiment": {"tuning", "config", "cluster", "results", "errors"},
    "tuning": {"trial", "config", "cluster", "results", "errors"},
    "trial": {"config", "cluster", "results", "errors"},
    "report": {"results", "config"},
    "cluster": {"config"},
    "config": set(),
    "results": set(),
    "errors": set(),
}


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module (the longest known module the import names)
    names: tuple[str, ...]  # names taken with `from target import ...`
    line: int
    top_level: bool  # runs at import time (not inside a function, not under `if TYPE_CHECKING:`)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))}


MODULES = modules()


def _known(dotted: str) -> str | None:
    """The longest prefix of ``dotted`` that is a module of ours (None for a third-party import)."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in MODULES:
            return ".".join(parts[:n])
    return None


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(module: str, path: Path) -> tuple[list[Edge], list[str]]:
    """Every import of ``module`` (edges to our modules) and every ``alias._private`` attribute use."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    edges: list[Edge] = []
    aliases: dict[str, str] = {}  # local name -> our module it is bound to

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.If) and _is_type_checking(child):
                inner = False
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = _known(alias.name)
                    if target is None:
                        continue
                    edges.append(Edge(module, target, (), child.lineno, top))
                    if alias.asname:
                        aliases[alias.asname] = target
            elif isinstance(child, ast.ImportFrom):
                source = _resolve(module, child, is_package)
                for alias in child.names:
                    sub = f"{source}.{alias.name}"
                    if sub in MODULES:  # `from pkg import submodule`
                        edges.append(Edge(module, sub, (), child.lineno, top))
                        aliases[alias.asname or alias.name] = sub
                    elif (target := _known(source)) is not None:
                        edges.append(Edge(module, target, (alias.name,), child.lineno, top))
            visit(child, inner)

    visit(tree, True)
    private_uses = [
        f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
        and _private(node.attr) and aliases[node.value.id] != module
    ]
    return edges, private_uses


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@pytest.fixture(scope="module")
def parsed() -> tuple[list[Edge], list[str]]:
    edges: list[Edge] = []
    private: list[str] = []
    for module, path in MODULES.items():
        e, p = imports_of(module, path)
        edges += e
        private += p
    return edges, private


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (or a self-import), by Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_the_checker_sees_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_parser_sees_function_level_and_relative_imports(tmp_path):
    edges, private = imports_of("harness.tuning.unit", REPO / "harness" / "tuning" / "unit.py")
    inner = [e for e in edges if not e.top_level]
    assert any(e.target == "harness.trial.heldout" for e in inner)  # imported inside run_unit
    assert private == []


def test_no_import_cycle(parsed):
    edges, _ = parsed
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for e in edges:
        if e.top_level and e.target != e.source:
            graph[e.source].add(e.target)
    assert find_cycles(graph) == []


def _subpackage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "harness" and len(parts) > 1 else None


def test_harness_subpackages_import_one_way(parsed):
    edges, _ = parsed
    assert {_subpackage(m) for m in MODULES if _subpackage(m)} == set(ALLOWED), "a new subpackage needs a rule"
    wrong = []
    for e in edges:
        src, dst = _subpackage(e.source), _subpackage(e.target)
        if e.source.startswith("harness") and e.target.startswith("harness") and src != dst:
            if src is None or dst is None or dst not in ALLOWED[src]:
                wrong.append(f"{e.source}:{e.line} imports {e.target}")
    assert wrong == []


def test_fdan_imports_neither_harness_nor_ray_at_module_level(parsed):
    edges, _ = parsed
    assert [f"{e.source}:{e.line}" for e in edges if e.source.startswith("fdan") and e.target.startswith("harness")] == []
    ray_at_top = []
    for module, path in MODULES.items():
        if not module.startswith("fdan"):
            continue
        for node in ast.parse(path.read_text()).body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            ray_at_top += [f"{module}:{node.lineno}" for n in names if n == "ray" or n.startswith("ray.")]
    assert ray_at_top == []


def test_no_module_imports_another_modules_private_name(parsed):
    edges, private = parsed
    taken = [f"{e.source}:{e.line} imports {e.target}.{n}" for e in edges if e.target != e.source
             for n in e.names if _private(n)]
    assert taken + private == []
