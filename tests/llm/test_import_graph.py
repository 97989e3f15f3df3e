"""No import circles among swarmdesign modules.

A circle makes the import order decide whether a name exists yet (the
evaluator registry and the scenario loader both hit this). The graph is read
from the source with :mod:`ast`: every ``import`` anywhere in a module counts,
including imports inside functions (they run sooner or later), except those
under ``if TYPE_CHECKING:``. Importing ``a.b.c`` from outside package ``a.b``
also runs ``a/b/__init__.py``, so that package is an edge too. Imports by
string (``importlib.import_module`` in a registry) are how the circles are
broken and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import swarmdesign

ROOT = Path(swarmdesign.__file__).parent


def _modules() -> dict[str, tuple[Path, bool]]:
    mods = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        mods[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return mods


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(node: ast.AST, package: str, mods: dict[str, tuple[Path, bool]]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        parts = package.split(".")
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    subs = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in mods]
    return subs + ([base] if len(subs) < len(node.names) else [])


def import_graph() -> dict[str, set[str]]:
    """module -> swarmdesign modules it imports (see the module docstring for what counts)."""
    mods = _modules()
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, (path, is_pkg) in mods.items():
        package = name if is_pkg else name.rpartition(".")[0]

        def visit(node: ast.AST, name: str = name, package: str = package) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and _is_type_checking(child):
                    for other in child.orelse:
                        visit(other)
                    continue
                for target in _imported(child, package, mods):
                    if target not in mods or target == "swarmdesign" or target == name or name.startswith(target + "."):
                        continue
                    graph[name].add(target)
                    parts = target.split(".")
                    for i in range(2, len(parts)):
                        ancestor = ".".join(parts[:i])
                        if ancestor in mods and not name.startswith(ancestor + "."):
                            graph[name].add(ancestor)
                visit(child)

        visit(ast.parse(path.read_text(encoding="utf-8")))
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
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


def test_detector_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_imports() -> None:
    graph = import_graph()
    # runner imports the evaluator registry at module level; the registry imports no implementation
    assert "swarmdesign.evaluators" in graph["swarmdesign.runner"]
    assert "swarmdesign.sim.params" in graph["swarmdesign.fitness"]  # imported inside a function
    assert not {m for m in graph["swarmdesign.evaluators"] if m.startswith(("swarmdesign.sim", "swarmdesign.llm"))}
    assert not {m for m in graph["swarmdesign.fitness"] if m.startswith("swarmdesign.llm")}


def test_no_import_circles() -> None:
    found = circles(import_graph())
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)
