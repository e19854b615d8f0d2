"""The package layout stays true: parsed from the source with ``ast``, no module is imported to check it.

- no import cycle among the modules of ``harness`` and ``fdan``, function-level imports included (an
  import inside a function still makes the two modules depend on each other; it only hides it);
- a function-level import of our own modules is there for a reason (keeping Ray / torch / a heavy
  library out of import time, e.g. for ``fdan-bench --help``): it carries a comment saying so, on its
  line or the line above, and their number does not grow unnoticed (``MAX_FUNCTION_LEVEL``);
- between ``harness`` subpackages imports flow one way, in the order of the processes that run them:
  ``cli`` → ``experiment`` (driver main thread) → ``tuning`` (a driver thread per unit) → ``trial``
  (Ray processes) → ``config`` / ``cluster`` / ``results``; ``report`` reads only ``results`` and
  ``config``; ``harness/errors.py`` is a leaf every layer may raise from (imports inside functions count);
- ``fdan`` never imports ``harness``, and imports Ray nowhere at module level (it must import without Ray);
- no module imports another module's private ``_name`` (``from m import _x`` or ``m._x``).

Every rule is also run against a planted violation (a small package tree written to a temporary
directory), so a checker that stopped seeing anything would fail.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("harness", "fdan")
MAX_FUNCTION_LEVEL = 17  # function-level imports of our own modules (each with its reason); lower it as they go
# harness subpackage -> the harness subpackages it may import (besides itself)
# (by the process that runs them: cli -> experiment (driver main thread) -> tuning (a driver thread per unit)
# -> trial (Ray processes); `errors` is the leaf every layer raises from)
ALLOWED: dict[str, set[str]] = {
    "cli": {"experiment", "report", "config", "cluster", "results", "errors"},
    "experiment": {"tuning", "config", "cluster", "results", "errors"},
    "tuning": {"trial", "config", "cluster", "results", "errors"},
    "trial": {"config", "cluster", "results", "errors"},
    "report": {"results", "config", "errors"},
    "cluster": {"config", "errors"},
    "config": {"errors"},
    "results": {"errors"},
    "errors": set(),
}


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module (the longest known module the import names)
    names: tuple[str, ...]  # names taken with `from target import ...`
    line: int
    top_level: bool  # runs at import time (not inside a function, not under `if TYPE_CHECKING:`)
    in_function: bool = False  # inside a function (runs when the function does)
    reason: bool = False  # a comment on the import's line or the line above


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = REPO) -> dict[str, Path]:
    return {module_name(p, root): p for pkg in PACKAGES if (root / pkg).is_dir() for p in sorted((root / pkg).rglob("*.py"))}


MODULES = modules()


def _known(dotted: str, known: dict[str, Path] | None = None) -> str | None:
    """The longest prefix of ``dotted`` that is a module of ours (None for a third-party import)."""
    known = MODULES if known is None else known
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in known:
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


def imports_of(module: str, path: Path, known: dict[str, Path] | None = None) -> tuple[list[Edge], list[str]]:
    """Every import of ``module`` (edges to our modules) and every ``alias._private`` attribute use."""
    known = MODULES if known is None else known
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text, filename=str(path))
    is_package = path.name == "__init__.py"
    edges: list[Edge] = []
    aliases: dict[str, str] = {}  # local name -> our module it is bound to

    def commented(line: int) -> bool:
        """A comment on the import's line, or above its block of consecutive imports."""
        if "#" in lines[line - 1]:
            return True
        above = line - 2
        while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
            if "#" in lines[above]:
                return True
            above -= 1
        return above >= 0 and lines[above].strip().startswith("#")

    def visit(node: ast.AST, top: bool, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            function = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            inner = top and not function
            if isinstance(child, ast.If) and _is_type_checking(child):
                inner = False
            line = getattr(child, "lineno", 0)
            where = dict(top_level=top, in_function=in_function, reason=in_function and commented(line))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = _known(alias.name, known)
                    if target is None:
                        continue
                    edges.append(Edge(module, target, (), child.lineno, **where))
                    if alias.asname:
                        aliases[alias.asname] = target
            elif isinstance(child, ast.ImportFrom):
                source = _resolve(module, child, is_package)
                for alias in child.names:
                    sub = f"{source}.{alias.name}"
                    if sub in known:  # `from pkg import submodule`
                        edges.append(Edge(module, sub, (), child.lineno, **where))
                        aliases[alias.asname or alias.name] = sub
                    elif (target := _known(source, known)) is not None:
                        edges.append(Edge(module, target, (alias.name,), child.lineno, **where))
            visit(child, inner, in_function or function)

    visit(tree, True, False)
    private_uses = [
        f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
        and _private(node.attr) and aliases[node.value.id] != module
    ]
    return edges, private_uses


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def scan(root: Path = REPO) -> tuple[list[Edge], list[str]]:
    """Every import edge and private-name use of the packages under ``root``."""
    known = modules(root)
    edges: list[Edge] = []
    private: list[str] = []
    for module, path in known.items():
        e, p = imports_of(module, path, known)
        edges += e
        private += p
    return edges, private


@pytest.fixture(scope="module")
def parsed() -> tuple[list[Edge], list[str]]:
    return scan()


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


def cycles(edges: list[Edge]) -> list[list[str]]:
    """Import cycles, function-level imports included (``if TYPE_CHECKING:`` imports never run: left out)."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        if (e.top_level or e.in_function) and e.target != e.source:
            graph.setdefault(e.source, set()).add(e.target)
    return find_cycles(graph)


def _subpackage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "harness" and len(parts) > 1 else None


def wrong_direction(edges: list[Edge]) -> list[str]:
    """Imports between harness subpackages that go against ``ALLOWED``."""
    wrong = []
    for e in edges:
        src, dst = _subpackage(e.source), _subpackage(e.target)
        if e.source.startswith("harness") and e.target.startswith("harness") and src != dst:
            if src is None or dst is None or dst not in ALLOWED.get(src, set()):
                wrong.append(f"{e.source}:{e.line} imports {e.target}")
    return wrong


def unexplained_function_level(edges: list[Edge]) -> list[str]:
    return [f"{e.source}:{e.line} imports {e.target} inside a function without a comment saying why"
            for e in edges if e.in_function and not e.reason]


def fdan_on_harness(edges: list[Edge]) -> list[str]:
    return [f"{e.source}:{e.line}" for e in edges if e.source.startswith("fdan") and e.target.startswith("harness")]


def private_taken(edges: list[Edge], private: list[str]) -> list[str]:
    return [f"{e.source}:{e.line} imports {e.target}.{n}" for e in edges if e.target != e.source
            for n in e.names if _private(n)] + private


def test_the_checker_sees_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_parser_sees_function_level_and_relative_imports(tmp_path):
    edges, private = imports_of("harness.cli.experiment", REPO / "harness" / "cli" / "experiment.py")
    inner = [e for e in edges if e.in_function]
    assert any(e.target == "harness.experiment.run" and e.reason for e in inner)  # imported inside _run, with a reason
    assert private == []


def plant(root: Path, files: dict[str, str]) -> tuple[list[Edge], list[str]]:
    """Write a small package tree under ``root`` (module path -> source) and scan it."""
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for pkg in {Path(name).parts[0] for name in files} | {"/".join(Path(n).parts[:2]) for n in files if len(Path(n).parts) > 2}:
        (root / pkg / "__init__.py").touch()
    return scan(root)


def test_every_rule_sees_a_planted_violation(tmp_path):
    edges, private = plant(tmp_path, {
        # a cycle that only a function-level import closes, without a reason comment
        "fdan/a.py": "from fdan.b import x\n",
        "fdan/b.py": "def f():\n    from fdan.a import y\n    return y\nx = 1\n",
        # against the process order: a Ray trial importing the driver's experiment layer
        "harness/trial/entry.py": "def run():\n    # lazy: a planted reason\n    from harness.experiment.run import go\n",
        "harness/experiment/run.py": "go = 1\n",
        # fdan on harness; a private name taken
        "fdan/c.py": "from harness.experiment.run import _hidden\n",
    })
    assert cycles(edges) == [["fdan.a", "fdan.b"]]
    assert wrong_direction(edges) == ["harness.trial.entry:3 imports harness.experiment.run"]
    assert unexplained_function_level(edges) == ["fdan.b:2 imports fdan.a inside a function without a comment saying why"]
    assert fdan_on_harness(edges) == ["fdan.c:1"]
    assert private_taken(edges, private) == ["fdan.c:1 imports harness.experiment.run._hidden"]


def test_no_import_cycle_function_level_imports_included(parsed):
    edges, _ = parsed
    assert cycles(edges) == []


def test_function_level_imports_say_why_and_stay_few(parsed):
    edges, _ = parsed
    assert unexplained_function_level(edges) == []
    inner = sorted({(e.source, e.line) for e in edges if e.in_function})
    assert len(inner) <= MAX_FUNCTION_LEVEL, f"{len(inner)} function-level imports of our modules: {inner}"


def test_harness_subpackages_import_one_way(parsed):
    edges, _ = parsed
    assert {_subpackage(m) for m in MODULES if _subpackage(m)} == set(ALLOWED), "a new subpackage needs a rule"
    assert wrong_direction(edges) == []


def test_fdan_imports_neither_harness_nor_ray_at_module_level(parsed):
    edges, _ = parsed
    assert fdan_on_harness(edges) == []
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
    assert private_taken(edges, private) == []
