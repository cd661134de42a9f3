"""Directed graphs as plain mappings: node -> successors. Used for dependency cycles in plans
and import cycles in gates."""
from __future__ import annotations

from collections.abc import Iterable, Mapping


def cyclic_groups(graph: Mapping[str, Iterable[str]]) -> list[frozenset[str]]:
    """The strongly connected groups that hold a cycle (two or more nodes, or one node with an
    edge to itself), found with an iterative Tarjan walk in the mapping's order. Successors that
    are not keys of `graph` are ignored."""
    edges = {node: [s for s in successors if s in graph] for node, successors in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[frozenset[str]] = []

    def enter(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)

    for root in edges:
        if root in index:
            continue
        enter(root)
        work = [(root, iter(edges[root]))]
        while work:
            node, successors = work[-1]
            nxt = next(successors, None)
            if nxt is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = _pop_group(stack, on_stack, node)
                    if len(group) > 1 or node in edges[node]:
                        groups.append(group)
            elif nxt not in index:
                enter(nxt)
                work.append((nxt, iter(edges[nxt])))
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
    return groups


def _pop_group(stack: list[str], on_stack: set[str], root: str) -> frozenset[str]:
    group = set()
    while True:
        member = stack.pop()
        on_stack.discard(member)
        group.add(member)
        if member == root:
            return frozenset(group)
