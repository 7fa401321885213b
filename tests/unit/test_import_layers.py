"""Imports point down the layers, neither files nor packages import each other in a cycle, and every
imported project module exists.

The layers (docs: design.md, "Imports follow the arrows downward only"), lowest first::

    devices < store < ingest, monitor, cases < api, dashboards < aftercare, simulators

Packages on the same layer are siblings: one may import another as long as that forms no cycle
between packages. Every import of every .py file of the project's packages counts, wherever it
stands: at the top, inside a function, under ``if TYPE_CHECKING:``. An import names the most
specific project module it reaches (``from a.b import c`` is ``a.b.c`` when that is a module,
else ``a.b``). Each test reports every violation it finds, not only the first.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LAYERS: tuple[tuple[str, ...], ...] = (
    ("devices",),
    ("store",),
    ("ingest", "monitor", "cases"),
    ("api", "dashboards"),
    ("aftercare", "simulators"),
)
RANK = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}


@dataclass(frozen=True, slots=True)
class Import:
    """One import statement's edge: the importing module, the imported module, where it stands."""

    source: str
    target: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source} -> {self.target}"


def package_of(module: str) -> str:
    return module.split(".", 1)[0]


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules(root: Path) -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    modules: dict[str, Path] = {}
    for package in RANK:
        for path in sorted((root / package).rglob("*.py")):
            modules[module_name(path, root)] = path
    return modules


def _resolve(name: str, modules: Iterable[str]) -> str | None:
    """The longest prefix of ``name`` that is a project module (``a.b.func`` -> ``a.b``)."""
    known = set(modules)
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, str, int]]:
    """What an AST imports, as absolute dotted names: the module that must exist, the name imported
    (``from a import b`` gives ``a`` and ``a.b``; ``b`` may be a module or a name in ``a``), the line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                base_parts = here[: len(here) - (node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            for alias in node.names:
                yield base, (base if alias.name == "*" else f"{base}.{alias.name}"), node.lineno


@dataclass(frozen=True, slots=True)
class Scan:
    """The imports between two different project modules, and imports of project modules that do not exist."""

    graph: tuple[Import, ...]
    missing: tuple[str, ...]


def scan(root: Path) -> Scan:
    """Every import of every module of the project's packages under ``root``."""
    modules = project_modules(root)
    edges: set[Import] = set()
    missing: set[tuple[str, int, str]] = set()
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(root).as_posix()
        for required, name, line in imported_names(tree, module, path.name == "__init__.py"):
            if package_of(required) in RANK and required not in modules:
                missing.add((rel, line, required))
            target = _resolve(name, modules)
            if target is not None and target != module:
                edges.add(Import(module, target, rel, line))
    return Scan(
        graph=tuple(sorted(edges, key=lambda e: (e.path, e.line, e.target))),
        missing=tuple(f"{path}:{line}: no module {name}" for path, line, name in sorted(missing)),
    )


def import_graph(root: Path) -> tuple[Import, ...]:
    """Every import between two different project modules under ``root``."""
    return scan(root).graph


@cache
def project_scan() -> Scan:
    return scan(ROOT)


def project_graph() -> tuple[Import, ...]:
    return project_scan().graph


def strongly_connected(nodes: Iterable[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one node, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
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
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return sorted(found)


def layer_violations(graph: Iterable[Import]) -> list[str]:
    """Imports from a lower layer to a higher one."""
    return [
        f"{e}  ({package_of(e.source)} is below {package_of(e.target)})"
        for e in graph
        if RANK[package_of(e.source)] < RANK[package_of(e.target)]
    ]


def _cycles(graph: Iterable[Import], node: Callable[[str], str], shown: Callable[[Import], bool]) -> list[str]:
    """Each cycle between nodes: its members, then the ``shown`` imports between them by pair of nodes."""
    graph = list(graph)
    edges: dict[str, set[str]] = defaultdict(set)
    for e in graph:
        if node(e.source) != node(e.target):
            edges[node(e.source)].add(node(e.target))
    report = []
    for component in strongly_connected(edges, edges):
        members = set(component)
        by_pair: dict[tuple[str, str], list[Import]] = defaultdict(list)
        for e in graph:
            pair = (node(e.source), node(e.target))
            if pair[0] != pair[1] and members.issuperset(pair) and shown(e):
                by_pair[pair].append(e)
        lines = [" <-> ".join(component) + ":"]
        for (a, b), imports in sorted(by_pair.items()):
            lines.append(f"  {a} -> {b}:")
            lines.extend(f"    {e}" for e in imports)
        report.append("\n".join(lines))
    return report


def module_cycles(graph: Iterable[Import]) -> list[str]:
    """Cycles between modules, with every import between the modules of each."""
    return _cycles(graph, lambda module: module, lambda e: True)


def package_cycles(graph: Iterable[Import]) -> list[str]:
    """Cycles between packages, with the imports between them that do not point down a layer (imports
    that do cannot close a cycle; one of those shown has to go)."""
    return _cycles(graph, package_of, lambda e: RANK[package_of(e.source)] <= RANK[package_of(e.target)])


def _fail_listing(what: str, found: list[str]) -> None:
    if found:
        pytest.fail(f"{len(found)} {what}:\n" + "\n".join(found), pytrace=False)


# --------------------------------------------------------------------------- the project


def test_every_project_package_has_a_layer() -> None:
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert on_disk == set(RANK)


def test_every_project_import_names_a_module_that_exists() -> None:
    # An editable install may still find a module deleted here in another checkout: this test does not.
    _fail_listing("imports of project modules that do not exist", list(project_scan().missing))


def test_imports_point_down_the_layers() -> None:
    _fail_listing("imports from a lower layer to a higher one", layer_violations(project_graph()))


def test_no_import_cycle_between_modules() -> None:
    _fail_listing("import cycles between modules", module_cycles(project_graph()))


def test_no_import_cycle_between_packages() -> None:
    _fail_listing("import cycles between packages", package_cycles(project_graph()))


# --------------------------------------------------------------------------- the checker itself


def _graph_of(tmp_path: Path, files: dict[str, str]) -> tuple[Import, ...]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in RANK:
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    return import_graph(tmp_path)


def test_checker_sees_imports_in_functions_type_checking_and_relative(tmp_path: Path) -> None:
    graph = _graph_of(
        tmp_path,
        {
            "store/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from monitor.b import X\n",
            "monitor/b.py": "def f():\n    import api.c\n",
            "monitor/sub/__init__.py": "from . import d\nfrom ..b import X\n",
            "monitor/sub/d.py": "from .. import b\nimport os\nfrom monitor.gone import X\n",
            "api/c.py": "from store import a\n",
        },
    )
    assert {(e.source, e.target) for e in graph} == {
        ("store.a", "monitor.b"),
        ("monitor.b", "api.c"),
        ("monitor.sub", "monitor.sub.d"),
        ("monitor.sub", "monitor.b"),
        ("monitor.sub.d", "monitor.b"),
        ("monitor.sub.d", "monitor"),  # from monitor.gone import X: only the package is there
        ("api.c", "store.a"),
    }
    assert scan(tmp_path).missing == ("monitor/sub/d.py:3: no module monitor.gone",)
    assert [v.split(":")[0] for v in layer_violations(graph)] == ["monitor/b.py", "store/a.py"]
    assert [c.splitlines()[0] for c in module_cycles(graph)] == ["api.c <-> monitor.b <-> store.a:"]
    assert [c.splitlines()[0] for c in package_cycles(graph)] == ["api <-> monitor <-> store:"]


def test_checker_allows_siblings_without_a_package_cycle(tmp_path: Path) -> None:
    one_way = _graph_of(tmp_path / "one", {"cases/a.py": "import monitor.b\n", "monitor/b.py": ""})
    assert layer_violations(one_way) == []
    assert package_cycles(one_way) == []
    both_ways = _graph_of(
        tmp_path / "two", {"cases/a.py": "import monitor.b\n", "monitor/b.py": "from cases import a\n"}
    )
    assert layer_violations(both_ways) == []
    assert [c.splitlines()[0] for c in package_cycles(both_ways)] == ["cases <-> monitor:"]
