from __future__ import annotations

from swarmgit.domain.digraph import cyclic_groups


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
