from __future__ import annotations

import pytest

from swarmgit.domain.graph import render_graph
from swarmgit.domain.plan import Plan
from tests.test_scheduler import task

PLAN = Plan(
    tasks=(
        task("T01", touches=["backend/config.py"]),
        task("T02", deps=["T01"], touches=["backend/cache/"], effort=150),
        task("T03", deps=["T01"], touches=["backend/cache/hooks.py"], effort=90),
        task("T04", deps=["T02", "T03"], touches=["docs/"], effort=30),
        task("T05", touches=["backend/cache/keys.py"], effort=30),
    )
)


def test_mermaid_draws_deps_solid_and_lock_order_dashed() -> None:
    text = render_graph(PLAN, "mermaid")
    assert text.startswith("flowchart TD\n")
    assert '    T02["T02: T02"]' in text
    for edge in ("T01 --> T02", "T01 --> T03", "T02 --> T04", "T03 --> T04"):
        assert f"    {edge}\n" in text
    # T05 and T02 overlap on backend/cache/; T02 and T03 too. Deps order neither pair.
    assert "    T05 -. lock .-> T02\n" in text
    assert "    T02 -. lock .-> T03\n" in text
    assert text.count("lock") == 2


def test_dot_output() -> None:
    text = render_graph(PLAN, "dot", lock_order=[("T02", "T03")])
    assert text.startswith("digraph plan {") and text.rstrip().endswith("}")
    assert '    "T01" -> "T02";' in text
    assert '    "T02" -> "T03" [style=dashed, label="lock"];' in text


def test_ascii_lists_levels_with_incoming_edges() -> None:
    text = render_graph(PLAN, "ascii", lock_order=[("T02", "T03")])
    lines = text.splitlines()
    assert lines.index("level 0") < lines.index("level 1") < lines.index("level 2")
    t03 = next(line for line in lines if line.strip().startswith("T03"))
    assert t03.endswith("<-- T01  <.. T02 (lock)")


def test_lock_edges_implied_by_a_chain_are_left_out() -> None:
    plan = Plan(tasks=tuple(task(f"T0{n}", touches=["src/"]) for n in range(1, 5)))
    chain = [("T01", "T02"), ("T02", "T03"), ("T03", "T04"), ("T01", "T03"), ("T01", "T04")]
    text = render_graph(plan, "dot", lock_order=chain)
    assert text.count("lock") == 3
    assert '"T01" -> "T03"' not in text


def test_odd_ids_and_titles_are_escaped() -> None:
    plan = Plan(
        tasks=(
            task("SC-01"),
            task("end", deps=["SC-01"]),
        )
    )
    plan = Plan(tasks=(plan.tasks[0].model_copy(update={"title": 'say "hi"'}), plan.tasks[1]))
    mermaid = render_graph(plan, "mermaid")
    assert 'SC_01["SC-01: say #quot;hi#quot;"]' in mermaid
    assert "SC_01 --> t1_end" in mermaid
    assert '"SC-01" [label="SC-01: say \\"hi\\""];' in render_graph(plan, "dot")


def test_unknown_format_or_task_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown graph format 'svg'"):
        render_graph(PLAN, "svg")
    with pytest.raises(ValueError, match="T99, not in the plan"):
        render_graph(PLAN, "ascii", lock_order=[("T01", "T99")])
