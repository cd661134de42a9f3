"""The agent brief: what a task may touch, its acceptance, the context it needs, the diagnosis."""

from __future__ import annotations

from swarmgit.domain.brief import relevant_sections, render_brief
from swarmgit.domain.plan import Task

TASK = Task(
    id="T03",
    title="Implement cache service",
    touches=("backend/cache/",),
    acceptance="hits return in < 5 ms",
    brief="Use an LRU.",
)


def test_brief_names_touches_acceptance_brief_and_diagnosis() -> None:
    text = render_brief(
        "redis",
        TASK,
        shared_context="- T01: config lives in backend/config.py",
        diagnosis="timeout after 30 minutes",
    )
    assert "# Task T03: Implement cache service" in text
    assert "- `backend/cache/`" in text and "You can write only there" in text
    assert "Do not run `git commit`" in text
    assert "hits return in < 5 ms" in text and "Use an LRU." in text
    assert "## Previous attempt failed\ntimeout after 30 minutes" in text
    assert "config lives in backend/config.py" in text
    assert "$SWARM_REPORT" in text


def test_read_only_task_is_told_it_may_change_nothing() -> None:
    text = render_brief("redis", Task(id="T01", title="Explore"))
    assert "none: this task is read-only" in text and "Previous attempt" not in text


def test_context_paths_are_listed_as_read_only_and_a_sparse_worktree_is_explained() -> None:
    task = TASK.model_copy(update={"context": ("backend/config.py",)})
    full = render_brief("redis", task)
    assert "## Context: read these, do not change them\n- `backend/config.py`" in full
    assert "sparse" not in full
    sparse = render_brief("redis", task, sparse=True)
    assert "Your worktree is sparse" in sparse and "git show HEAD:<path>" in sparse
    assert "## Context" not in render_brief("redis", TASK)


def test_long_documents_contribute_only_the_sections_about_the_task() -> None:
    filler = "\n".join("lorem ipsum dolor sit amet" for _ in range(600))
    prd = f"# PRD\n\n## Billing\n{filler}\n\n## Cache service\nThe cache lives in backend/cache/.\n"
    picked = relevant_sections(prd, TASK)
    assert "The cache lives in backend/cache/." in picked
    assert "## Billing" not in picked


def test_short_documents_are_kept_whole() -> None:
    assert relevant_sections("## A\nshort\n", TASK) == "## A\nshort"


def test_a_hash_line_in_a_fenced_block_of_a_long_prd_is_not_a_heading() -> None:
    filler = "\n".join("lorem ipsum dolor sit amet" for _ in range(600))
    prd = (
        f"# PRD\n\n## Billing\n{filler}\n\n## Cache service\nConfigure backend/cache/ like this:\n"
        "```sh\n# start redis first\nredis-server --port 6380\n```\nEntries expire after 5 minutes.\n"
        "~~~\n## not a heading either\n~~~\nKeys are namespaced per tenant.\n"
    )
    picked = relevant_sections(prd, TASK)
    assert "redis-server --port 6380" in picked
    assert "Entries expire after 5 minutes." in picked and "Keys are namespaced per tenant." in picked
    assert "## Billing" not in picked
