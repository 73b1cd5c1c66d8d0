"""The imports inside monitor/extract run one way (issue 12): the way in (html.py) imports the parsers, the parsers
import the rules, and nothing imports back. Imports inside functions count too: a lazy import hides a circle from
the interpreter, not from a reader.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "monitor"


def module_graph(package: str) -> dict[str, set[str]]:
    """Each module of `package` (dotted, under monitor/) -> the modules of the same package it imports anywhere."""
    folder = PACKAGE.parent.joinpath(*package.split("."))
    modules = {f"{package}.{p.stem}" if p.stem != "__init__" else package: p for p in folder.glob("*.py")}
    graph = {}
    for name, path in modules.items():
        here = package if path.stem == "__init__" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = here.split(".")[:len(here.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                found.update(f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import path that comes back to where it started, found by depth-first search."""
    found, done = [], set()

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph[module]):
            if target in path:
                found.append(path[path.index(target):] + [target])
            elif target not in done:
                visit(target, path + [target])
        done.add(module)

    for module in sorted(graph):
        visit(module, [module])
    return found


def test_the_extract_package_has_no_import_circle():
    graph = module_graph("monitor.extract")
    assert graph["monitor.extract.html"] >= {"monitor.extract.html_lxml", "monitor.extract.html_soup"}
    assert "monitor.extract.rules" in graph["monitor.extract.html_lxml"] & graph["monitor.extract.html_soup"]
    assert circles(graph) == []


def test_the_circle_finder_finds_a_lazy_circle():
    """The check above would pass vacuously if it could not see the circle issue 12 reported."""
    graph = {"html": {"html_lxml"}, "html_lxml": {"html", "text"}, "text": set()}
    assert circles(graph) == [["html", "html_lxml", "html"]]
