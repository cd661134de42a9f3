from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from swarmgit.domain.digraph import cyclic_groups, topological_order


def test_groups_hold_only_real_cycles() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": ["e"], "f": []}
    assert sorted(map(sorted, cyclic_groups(graph))) == [["a", "b", "c"], ["e"]]


def test_successors_outside_the_graph_are_ignored_and_acyclic_graphs_have_no_groups() -> None:
    assert cyclic_groups({"a": ["b", "zz"], "b": []}) == []


def test_deep_chains_do_not_hit_the_recursion_limit() -> None:
    n = 20_000
    graph = {str(i): [str(i + 1)] for i in range(n)}
    graph[str(n)] = ["0"]
    assert len(cyclic_groups(graph)) == 1


@given(st.dictionaries(st.integers(0, 12), st.lists(st.integers(0, 14), max_size=4), max_size=12))
def test_topological_order_puts_each_node_before_its_successors_and_sets_aside_cycles(
    graph: dict[int, list[int]],
) -> None:
    order, cyclic = topological_order(graph)
    assert sorted(order + cyclic) == sorted(graph)
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        assert all(position[node] < position[s] for s in graph[node] if s in position and s != node)
    without_self_edges = {n: [s for s in succ if s != n] for n, succ in graph.items()}
    on_cycles = {n for group in cyclic_groups(without_self_edges) for n in group}
    assert on_cycles <= set(cyclic), "a node on a cycle cannot be ordered"
    assert bool(cyclic) == bool(on_cycles)


def test_ties_go_to_the_least_ready_node() -> None:
    assert topological_order({"b": [], "c": ["a"], "a": []}) == (["b", "c", "a"], [])
