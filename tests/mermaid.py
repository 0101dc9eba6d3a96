"""A strict reader of the Mermaid flowcharts `meshlib.offline.render.mermaid` writes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NODE = re.compile(r'^(\w+)(\["[^"]*"\]|\(\["[^"]*"\]\)|\{\{"[^"]*"\}\}|\[/"[^"]*"/\])$')
_EDGE = re.compile(r'^(\w+) (-->|==>|-\.->)\|"([^"|]+)"\| (\w+)$')
_SUBGRAPH = re.compile(r'^subgraph (\w+)\["([^"]+)"\]$')
_CLASSDEF = re.compile(r"^classDef \w+ [\w#:,;.-]+$")
_CLASS = re.compile(r"^class (\w+(?:,\w+)*) (\w+)$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_RESERVED = {"end", "graph", "subgraph", "flowchart", "class", "classDef", "style", "click", "linkStyle"}


@dataclass
class Flowchart:
    nodes: dict[str, str] = field(default_factory=dict)
    """Node id -> its label text (shape stripped)."""
    groups: dict[str, str] = field(default_factory=dict)
    """Subgraph id -> label."""
    parent: dict[str, str] = field(default_factory=dict)
    """Node or subgraph id -> the subgraph it sits in (absent at top level)."""
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(from, arrow, label, to), in order."""
    classes: dict[str, str] = field(default_factory=dict)
    """Node id -> its class."""

    def edges_labelled(self, label: str) -> set[tuple[str, str]]:
        return {(source, target) for source, _, found, target in self.edges if found == label}


def read_flowchart(text: str) -> Flowchart:
    """The chart's nodes, groups, edges; fails on any statement it does not expect."""
    assert text.endswith("\n")
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    chart = Flowchart()
    stack: list[str] = []
    for raw in lines[1:]:
        line = raw.strip()
        assert raw == "  " * (len(stack) + 1) + line or line == "end", f"bad indentation: {raw!r}"
        if match := _SUBGRAPH.match(line):
            assert match[1] not in chart.groups and match[1] not in chart.nodes, line
            _check_id(match[1])
            chart.groups[match[1]] = match[2]
            if stack:
                chart.parent[match[1]] = stack[-1]
            stack.append(match[1])
        elif line == "end":
            assert stack, "end without subgraph"
            stack.pop()
        elif match := _NODE.match(line):
            assert match[1] not in chart.nodes and match[1] not in chart.groups, f"{match[1]} defined twice"
            _check_id(match[1])
            chart.nodes[match[1]] = re.sub(r'^[\[({/]+"|"[\])}/]+$', "", match[2])
            if stack:
                chart.parent[match[1]] = stack[-1]
        elif match := _EDGE.match(line):
            assert not stack, f"edges go after the groups: {line!r}"
            assert match[1] in chart.nodes and match[4] in chart.nodes, line
            chart.edges.append((match[1], match[2], match[3], match[4]))
        elif _CLASSDEF.match(line):
            pass
        elif match := _CLASS.match(line):
            for node in match[1].split(","):
                assert node in chart.nodes and node not in chart.classes, line
                chart.classes[node] = match[2]
        else:
            raise AssertionError(f"not a flowchart statement: {line!r}")
    assert not stack, "unclosed subgraph"
    assert len(chart.edges) == len(set(chart.edges)), "an edge drawn twice"
    return chart


def _check_id(node: str) -> None:
    assert _ID.match(node) and node not in _RESERVED, node
