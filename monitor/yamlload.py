"""sources.yaml as plain data, with the line of every mapping and key, and nothing a hostile file can blow up.

YAML aliases (`*name`) are refused. A document of a few hundred bytes can nest aliases into billions of values
(the "billion laughs"): composing it is cheap, because aliases share nodes, but anything that walks the data (a
merge key, validation, an error message quoting a value) expands it, and one such file ran `monitor validate`
for minutes and gigabytes. A watch list needs no aliases, so none is accepted; the error names the line. Nesting
is capped too (the pure-Python composer recurses), and so is the file's size.

libyaml reads the file when it is installed (ten times faster on a long watch list). Its composed node graph is
walked once, iteratively, before anything is constructed: a node met twice is an alias, a path deeper than
MAX_DEPTH is refused. Whatever libyaml or that walk refuses is read again by the pure-Python loader, which stops
at the offending alias or level itself and whose messages (with line and column) are the ones shown.
"""
from __future__ import annotations

from typing import Any

import yaml

from .limits import show

MAX_DEPTH = 50  # levels of nested mappings and lists; a watch list uses about 5
MAX_CHARS = 10 * 1024**2  # a watch list of 4,000 sources is about 1 MB


class YamlRefused(Exception):
    """The text is not a YAML document monitor will read; the message is one line for the operator."""


class _Refusal(yaml.MarkedYAMLError):
    """Why the pure-Python loader stopped (an alias, too deep, an unhashable key), with where."""


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers each mapping's line, refuses duplicate keys (YAML silently keeps the last), and
    refuses aliases and deep nesting while composing, before any value is built."""

    _depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refusal(None, None, f"an alias (*{event.anchor[:40]}) is not allowed in this file: "
                                       "write the value out in full", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refusal(None, None, f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader, node: yaml.MappingNode) -> dict:
    loader.flatten_mapping(node)
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise _Refusal(None, None, "a key must be text, not a list or a mapping", key_node.start_mark) from None
        if key in mapping:
            raise _Refusal(None, None, f"duplicate key {show(key)}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
        if isinstance(key, str):
            loader.lines[(id(mapping), key)] = key_node.start_mark.line + 1
    loader.lines[id(mapping)] = node.start_mark.line + 1
    return mapping


class _FastLineLoader(getattr(yaml, "CSafeLoader", _LineLoader)):
    """_LineLoader on libyaml's parser (0.3 s for 400 sources in pure Python, a tenth of that here). libyaml
    composes in C, so the node graph is checked before it is constructed."""

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _check_graph(node)
        return node


for _loader in (_LineLoader, _FastLineLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _check_graph(root: yaml.Node) -> None:
    """Refuse a node reached twice (an alias) or deeper than MAX_DEPTH; iterative, each node visited once."""
    seen: set[int] = set()
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            raise yaml.YAMLError("alias")
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise yaml.YAMLError("too deep")
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))


def load_yaml(text: str) -> tuple[Any, dict]:
    """The document, and the line of each mapping (by id) and of each of its keys (by (id, key)).
    Raises YamlRefused with one line saying what is wrong and where."""
    if len(text) > MAX_CHARS:
        raise YamlRefused(f"the file holds {len(text):,} characters; a watch list may hold at most {MAX_CHARS:,}")
    try:
        return _read(_FastLineLoader, text)
    except (yaml.YAMLError, RecursionError, ValueError):
        pass
    try:
        return _read(_LineLoader, text)
    except _Refusal as e:
        raise YamlRefused(_where(e) + e.problem) from None
    except yaml.MarkedYAMLError as e:
        problem = " ".join(str(x) for x in (e.context, e.problem) if x)
        raise YamlRefused(f"{_where(e)}YAML syntax error: {problem}"[:300]) from None
    except yaml.YAMLError as e:
        raise YamlRefused(f"YAML error: {e}"[:300]) from None
    except (RecursionError, ValueError) as e:  # ValueError: an integer of over 4,300 digits
        raise YamlRefused(f"YAML error: {type(e).__name__}: {e}"[:300]) from None


def _where(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""


def _read(loader_class: type, text: str) -> tuple[Any, dict]:
    loader = loader_class(text)
    loader.lines = {}
    try:
        return loader.get_single_data(), loader.lines
    finally:
        loader.dispose()
