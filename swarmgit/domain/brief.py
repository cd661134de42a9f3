"""The brief an agent gets: the task, its touches, acceptance, context and any diagnosis."""

from __future__ import annotations

import re
from itertools import accumulate

from swarmgit.domain.markdown import headings
from swarmgit.domain.plan import Task

MAX_CONTEXT_CHARS = 12_000


def relevant_sections(document: str, task: Task, limit: int = MAX_CONTEXT_CHARS) -> str:
    """The sections of a markdown document that mention the task's id, title words or touches;
    the whole document when it is short. Capped at `limit` characters."""
    if len(document) <= limit:
        return document.strip()
    keys = {task.id.lower(), *(t.rstrip("/*").lower() for t in task.touches)}
    keys |= {w.lower() for w in re.findall(r"[A-Za-z]{5,}", task.title)}
    lines = document.splitlines(keepends=True)
    offsets = list(accumulate((len(line) for line in lines), initial=0))
    starts = [offsets[h.index] for h in headings(lines)] + [len(document)]
    chosen = [
        document[a:b].strip()
        for a, b in zip(starts, starts[1:])
        if any(k and k in document[a:b].lower() for k in keys)
    ]
    return "\n\n".join(chosen)[:limit]


def render_brief(
    track: str,
    task: Task,
    *,
    prd: str = "",
    spec: str = "",
    shared_context: str = "",
    diagnosis: str = "",
    sparse: bool = False,
) -> str:
    """Markdown brief for one attempt of one task; `sparse`: its worktree holds only the
    touches and the context paths (`worktrees.checkout = "sparse"`)."""
    touches = "\n".join(f"- `{t}`" for t in task.touches) or "- none: this task is read-only"
    parts = [
        f"# Task {task.id}: {task.title}",
        f"Track: `{track}` · role: {task.role} · branch: `swarm/{track}/{task.id}`",
        "## You may change only these paths\n"
        + touches
        + "\n\nYou can write only there (and in $TMPDIR and $HOME, which are yours): other writes "
        "fail, and work that changes other paths is refused when committed.",
    ]
    if task.context or sparse:
        parts.append(_reading(task, sparse))
    parts.append("## Acceptance\n" + (task.acceptance or "(none given)"))
    if task.brief:
        parts.append("## Brief\n" + task.brief)
    if diagnosis:
        parts.append("## Previous attempt failed\n" + diagnosis)
    for title, text in (("PRD", prd), ("Spec", spec)):
        section = relevant_sections(text, task)
        if section:
            parts.append(f"## From the {title}\n{section}")
    if shared_context.strip():
        parts.append("## Shared context from other tasks\n" + shared_context.strip()[-MAX_CONTEXT_CHARS:])
    parts.append(
        "## When you are done\nDo not run `git commit` (nor `git add`): swarmgit commits your "
        "work after you finish. Report (status, summary, files touched, SpawnCandidates table) "
        "through your `finish` tool if you have one, otherwise as markdown in the file named "
        "by $SWARM_REPORT."
    )
    return "\n\n".join(parts) + "\n"


def _reading(task: Task, sparse: bool) -> str:
    """What the task reads besides its touches: its context paths, and where the rest is."""
    listed = "\n".join(f"- `{c}`" for c in task.context) or "- none listed"
    text = "## Context: read these, do not change them\n" + listed
    if sparse:
        text += (
            "\n\nYour worktree is sparse: only your touches, these paths and the "
            ".gitignore/.gitattributes files are on disk. Every other tracked file is "
            "absent but unchanged (git does not count it as deleted); read one with "
            "`git show HEAD:<path>`, list them with `git ls-files`."
        )
    return text
