"""Directed graphs as plain mappings: node -> successors. Used for dependency cycles in plans,
import cycles in gates, the integration order and the graph rendering's implied edges."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import TypeVar

N = TypeVar("N", int, str)


def topological_order(graph: Mapping[N, Iterable[N]]) -> tuple[list[N], list[N]]:
    """(ordered, cyclic): the nodes with each before its successors, taking the least ready
    node first (so ties go by node value); the nodes on or behind a cycle cannot be ordered and
    are returned sorted as `cyclic`. Successors that are not keys of `graph` are ignored, and so
    are self-edges."""
    waiting = dict.fromkeys(graph, 0)
    edges = {node: {s for s in successors if s in graph and s != node} for node, successors in graph.items()}
    for successors in edges.values():
        for nxt in successors:
            waiting[nxt] += 1
    ready = [node for node, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[N] = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for nxt in edges[node]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                heapq.heappush(ready, nxt)
    return order, sorted(set(graph) - set(order))


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
